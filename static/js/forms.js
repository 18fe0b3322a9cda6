/* Mesa: forms that help while you type — the `command` runner's model field, issue titles. Plain JS, no build. */
(function () {
  "use strict";
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  /* ---- the `command` runner keeps its command line in the model field: label it so ---- */
  function labelModelField(form) {
    var runner = form.querySelector("select[name=runner]"), input = form.querySelector("input[name=model]");
    var label = form.querySelector("[data-model-label]");
    if (!runner || !input || !label) return;
    var isCommand = runner.value === "command";
    label.textContent = isCommand ? "Command" : "Model";
    input.placeholder = isCommand ? "/path/to/agent --flag (prompt on stdin)" : "runner default";
  }
  document.addEventListener("change", function (e) {
    if (e.target.name === "runner" && e.target.form) labelModelField(e.target.form);
  });

  /* ---- issue titles: a counter, an overlong paste split at a word, a blank title refused inline ---- */
  function titleParts(input) {
    var form = input.form, counter = form.querySelector("[data-title-counter]"), error = form.querySelector("[data-title-error]");
    if (!counter) { counter = el("span", "muted small title-counter"); counter.dataset.titleCounter = ""; input.insertAdjacentElement("afterend", counter); }
    if (!error) { error = el("div", "inline-error"); error.dataset.titleError = ""; error.hidden = true; error.setAttribute("role", "alert"); counter.insertAdjacentElement("beforebegin", error); }
    return { max: +input.dataset.maxTitle, counter: counter, error: error };
  }
  function showTitleCount(input) {
    var p = titleParts(input), n = input.value.length;
    // Quiet until the title gets long; then "312 / 300" in red says how much to cut.
    p.counter.textContent = n > p.max * 0.8 ? n + " / " + p.max : "";
    p.counter.classList.toggle("bad", n > p.max);
    if (!p.error.hidden && input.value.trim() && n <= p.max) p.error.hidden = true;
  }
  // The last word boundary at or before `max` (a lone word longer than that is cut where it must be).
  function wordCut(text, max) {
    if (text.length <= max) return max;
    var cut = text.lastIndexOf(" ", max);
    return cut > max / 2 ? cut : max;
  }
  document.addEventListener("input", function (e) { if (e.target.dataset && e.target.dataset.maxTitle) showTitleCount(e.target); });
  document.addEventListener("paste", function (e) {
    var input = e.target;
    if (!input.dataset || !input.dataset.maxTitle || !e.clipboardData) return;
    var max = +input.dataset.maxTitle, pasted = e.clipboardData.getData("text");
    var text = input.value.slice(0, input.selectionStart) + pasted + input.value.slice(input.selectionEnd);
    var description = input.form.querySelector("textarea[name=description]");
    if (text.replace(/\s+/g, " ").length <= max || !description) return;
    e.preventDefault();
    text = text.replace(/\s+/g, " ").trim();
    var cut = wordCut(text, max);
    input.value = text.slice(0, cut).trim();
    description.value = (text.slice(cut).trim() + (description.value ? "\n\n" + description.value : ""));
    showTitleCount(input);
    var p = titleParts(input);
    p.counter.textContent = "The rest of the paste went into the description.";
  });
  document.addEventListener("submit", function (e) {
    var input = e.target.querySelector && e.target.querySelector("input[data-max-title]");
    if (!input) return;
    var p = titleParts(input), value = input.value.trim();
    var problem = !value ? "An issue needs a title." :
      value.replace(/\s+/g, " ").length > p.max ? "The title is at most " + p.max + " characters; put the rest in the description." : "";
    if (!problem) return;
    e.preventDefault();
    e.stopPropagation(); // an htmx form must not send it either
    p.error.textContent = problem; p.error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }, true);
})();
