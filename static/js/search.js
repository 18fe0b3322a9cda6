/* Live search in the topbar box (/ focuses it, mesa.js). On the issues page it is the board's one
   search box: typing filters the board as you type (it drives the board filter form's text field,
   which is hidden). Elsewhere typing lists the palette's search hits (/palette/search) in a
   dropdown: arrows choose, Enter opens, Enter with nothing chosen opens the board filtered. */
(function () {
  "use strict";
  var input = document.getElementById("global-search");
  if (!input) return;
  var filter = document.getElementById("filter-q");
  if (filter && filter.form) {
    filter.hidden = true;
    input.value = filter.value;
    input.setAttribute("aria-controls", "board-columns");
    input.form.addEventListener("submit", function (e) { e.preventDefault(); });
    input.addEventListener("input", function () {
      filter.value = input.value;
      filter.dispatchEvent(new Event("input", { bubbles: true }));
    });
    return;
  }

  var list = null, hits = [], index = -1, seq = 0, timer = null;
  function close() { if (list) { list.remove(); list = null; } hits = []; index = -1; input.setAttribute("aria-expanded", "false"); }
  function render() {
    if (!hits.length) { close(); return; }
    if (!list) {
      list = document.createElement("ul");
      list.id = "search-results"; list.className = "search-results"; list.setAttribute("role", "listbox");
      input.insertAdjacentElement("afterend", list);
      input.setAttribute("aria-expanded", "true");
    }
    list.textContent = "";
    hits.forEach(function (h, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      var a = document.createElement("a");
      a.href = h.url; a.className = "search-hit" + (i === index ? " is-selected" : "");
      var label = document.createElement("span"); label.className = "grow";
      label.textContent = (h.type === "issue" ? h.key + "  " : "") + h.title;
      var kind = document.createElement("span"); kind.className = "muted small"; kind.textContent = h.type;
      a.appendChild(label); a.appendChild(kind);
      a.addEventListener("mousedown", function (e) { e.preventDefault(); });
      li.appendChild(a); list.appendChild(li);
    });
  }
  function query() {
    var q = input.value.trim(), mine = ++seq;
    if (!q) { close(); return; }
    var org = document.body.dataset.org || "";
    fetch("/palette/search?q=" + encodeURIComponent(q) + "&org=" + encodeURIComponent(org) + "&types=issue,agent,wiki",
      { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (found) {
        if (mine !== seq) return; // a newer query is on its way
        hits = found.slice(0, 8); index = -1; render();
      }, function () { /* offline: nothing to list */ });
  }
  input.setAttribute("aria-autocomplete", "list");
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(query, 120); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!hits.length) return;
      e.preventDefault();
      index = e.key === "ArrowDown" ? Math.min(hits.length - 1, index + 1) : Math.max(0, index - 1);
      render();
    } else if (e.key === "Enter" && index >= 0 && hits[index]) {
      e.preventDefault();
      window.location.href = hits[index].url;
    } else if (e.key === "Escape") { close(); }
  });
  input.addEventListener("blur", function () { setTimeout(close, 150); });
})();
