/* The issue page's inline editor and @-mention autocomplete.
   Click the title or description (or press E) to edit in place: issues/partials/main.html holds the
   form; Ctrl/Cmd+Enter saves (mesa.js submits the form through htmx), Esc cancels. Write / Preview
   tabs: Preview posts the text to /markdown/preview (the server's markdown filter). While the editor
   is open the live refresh of #issue-main is held back, so someone else's change does not wipe your
   text: the save is then refused (the form carries the version it was opened on) and the text kept.
   Any textarea[data-mentions] offers the org's agents after "@" (#mesa-mention-agents); the line
   below it (hx-get /mentions) says whom the text would wake. */
(function () {
  "use strict";
  var body = document.body;

  function typing(t) { return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)); }
  function main() { return document.getElementById("issue-main"); }
  function parts() {
    var m = main();
    return m ? { main: m, form: m.querySelector("[data-editor]"), read: m.querySelector("[data-edit-read]") } : null;
  }
  function showTab(form, name) {
    if (!form) return;
    form.querySelectorAll("[data-editor-tab]").forEach(function (b) {
      var on = b.dataset.editorTab === name;
      b.classList.toggle("on", on); b.setAttribute("aria-selected", on ? "true" : "false");
    });
    form.querySelector("textarea[name=description]").hidden = name === "preview";
    form.querySelector("[data-editor-preview]").hidden = name !== "preview";
  }
  function openEditor(field) {
    var p = parts();
    if (!p || !p.form) return;
    p.form.hidden = false;
    if (p.read) p.read.hidden = true;
    p.main.dataset.editing = field || "title";
    showTab(p.form, "write");
    var input = p.form.querySelector(field === "description" ? "textarea[name=description]" : "input[name=title]");
    input.focus();
    if (input.setSelectionRange) input.setSelectionRange(input.value.length, input.value.length);
  }
  function cancelEditor() {
    var p = parts();
    if (!p || !p.form) return;
    closeAc();
    if (p.main.querySelector("[data-edit-error]")) {
      // After a refused save the form holds the draft: fetch the issue as it is now.
      delete p.main.dataset.editing;
      window.htmx.ajax("GET", p.main.getAttribute("hx-get"), { target: "#issue-main", swap: "outerHTML" });
      return;
    }
    p.form.reset();
    p.form.hidden = true;
    if (p.read) p.read.hidden = false;
    delete p.main.dataset.editing;
    var notes = p.form.querySelector("[data-mention-notes]");
    if (notes) notes.textContent = "";
  }

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.closest("[data-editor-cancel]")) { e.preventDefault(); cancelEditor(); return; }
    var tab = t.closest("[data-editor-tab]");
    if (tab) { showTab(tab.closest("form"), tab.dataset.editorTab); return; }
    var opener = t.closest("[data-edit-open]");
    if (opener && !t.closest("a") && !(window.getSelection && String(window.getSelection()))) openEditor(opener.dataset.editOpen);
  });
  // Hold back the live refresh of the issue while its editor is open (see above).
  body.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail.elt;
    if (elt && elt.id === "issue-main" && elt.dataset.editing) e.preventDefault();
  });

  /* ---- @-mention autocomplete ---- */
  var AGENTS = [];
  try { AGENTS = JSON.parse(document.getElementById("mesa-mention-agents").textContent) || []; } catch (e) { /* not an issue page */ }
  var ac = null, acItems = [], acIndex = 0, acField = null, acStart = 0;

  function closeAc() { if (ac) { ac.remove(); ac = null; } acItems = []; acField = null; }
  function acOpen() { return !!ac; }
  function renderAc() {
    if (!ac) {
      ac = document.createElement("ul");
      ac.className = "mention-list"; ac.setAttribute("role", "listbox"); ac.setAttribute("aria-label", "Mention an agent");
      acField.insertAdjacentElement("afterend", ac);
    }
    ac.textContent = "";
    acItems.forEach(function (a, i) {
      var li = document.createElement("li");
      li.className = "mention-item" + (i === acIndex ? " is-selected" : "");
      li.setAttribute("role", "option"); li.setAttribute("aria-selected", i === acIndex ? "true" : "false");
      li.dataset.slug = a.slug;
      var name = document.createElement("span"); name.textContent = a.name;
      var role = document.createElement("span"); role.className = "muted small"; role.textContent = "@" + a.slug + " · " + a.role;
      li.appendChild(name); li.appendChild(role);
      li.addEventListener("mousedown", function (e) { e.preventDefault(); acIndex = i; pick(); });
      ac.appendChild(li);
    });
  }
  function pick() {
    var a = acItems[acIndex], t = acField;
    if (!a || !t) return;
    var end = t.selectionStart;
    t.value = t.value.slice(0, acStart) + a.slug + " " + t.value.slice(end);
    var caret = acStart + a.slug.length + 1;
    t.setSelectionRange(caret, caret);
    closeAc();
    t.dispatchEvent(new Event("input", { bubbles: true })); // the "This wakes" line follows
    t.focus();
  }
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!t.matches || !t.matches("textarea[data-mentions]")) return;
    var before = t.value.slice(0, t.selectionStart);
    // The same shape the server reads as a mention (runners.mentions.MENTION_RE).
    var m = /(?:^|[^\w@.])@([a-z0-9-]{0,60})$/i.exec(before);
    if (!m) { closeAc(); return; }
    var q = m[1].toLowerCase();
    var items = AGENTS.filter(function (a) {
      return !q || a.slug.indexOf(q) === 0 || a.name.toLowerCase().indexOf(q) >= 0 || (a.role || "").indexOf(q) === 0;
    }).slice(0, 8);
    if (!items.length) { closeAc(); return; }
    if (acField !== t) closeAc();
    acField = t; acStart = t.selectionStart - m[1].length; acItems = items; acIndex = 0;
    renderAc();
  });
  document.addEventListener("focusout", function (e) { if (acField && e.target === acField) setTimeout(closeAc, 100); });

  // Capture: the list and the editor take their keys before mesa.js's shortcuts.
  window.addEventListener("keydown", function (e) {
    var k = e.key;
    if (acOpen() && e.target === acField) {
      if (k === "ArrowDown" || k === "ArrowUp") {
        e.preventDefault();
        acIndex = (acIndex + (k === "ArrowDown" ? 1 : acItems.length - 1)) % acItems.length;
        renderAc(); return;
      }
      if ((k === "Enter" || k === "Tab") && !e.metaKey && !e.ctrlKey) { e.preventDefault(); e.stopPropagation(); pick(); return; }
      if (k === "Escape") { e.preventDefault(); e.stopPropagation(); closeAc(); return; }
    }
    var p = parts();
    if (k === "Escape" && p && p.form && !p.form.hidden && p.form.contains(e.target)) {
      e.preventDefault(); e.stopPropagation(); cancelEditor(); return;
    }
    if ((k === "e" || k === "E") && !e.metaKey && !e.ctrlKey && !e.altKey && !typing(e.target) &&
        !document.querySelector("dialog[open]") && p && p.form && p.form.hidden) {
      e.preventDefault(); openEditor("title");
    }
  }, true);
})();
