/* Peek and quick create. Space on the selected board card or list row (J/K, mesa.js) opens the issue
   in a side panel: the issue URL's htmx partial (target #peek-body, issues.views.detail). Esc closes;
   J/K while it is open moves the selection and the panel follows; live updates of its issue refresh it. Creating an issue from the
   quick-create modal or a sub-issue from the issue page answers 204 + HX-Trigger "mesa-created":
   this file toasts a link to the new issue and leaves you where you are. */
(function () {
  "use strict";
  var body = document.body, panel = null;

  function typing(t) { return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)); }
  function modalOpen() { return !!document.querySelector("dialog[open]"); }
  function selected() { return document.querySelector("[data-nav-item].is-selected"); }
  function peekHref(sel) {
    if (!sel || !sel.closest("#board-columns")) return "";
    return sel.getAttribute("href") || "";
  }
  function ensurePanel() {
    panel = document.getElementById("peek-panel");
    if (panel) return panel;
    panel = document.createElement("aside");
    panel.id = "peek-panel"; panel.className = "peek-panel"; panel.hidden = true;
    panel.setAttribute("aria-label", "Issue preview");
    var inner = document.createElement("div"); inner.id = "peek-body";
    panel.appendChild(inner);
    panel.addEventListener("click", function (e) { if (e.target.closest("[data-peek-close]")) close(); });
    body.appendChild(panel);
    return panel;
  }
  function isOpen() { return !!(panel && !panel.hidden); }
  function open(href) {
    ensurePanel();
    panel.hidden = false; panel.dataset.href = href;
    window.htmx.ajax("GET", href, { target: "#peek-body", swap: "innerHTML" });
  }
  function close() { if (panel) { panel.hidden = true; panel.dataset.href = ""; } }
  window.Mesa = window.Mesa || {};
  window.Mesa.peek = { open: open, close: close };

  // Capture: Esc closes the panel before mesa.js's Esc drops the selection; Space must not scroll.
  window.addEventListener("keydown", function (e) {
    if (e.metaKey || e.ctrlKey || e.altKey || e.isComposing || modalOpen()) return;
    if (e.key === "Escape" && isOpen()) { e.preventDefault(); e.stopPropagation(); close(); return; }
    if (e.key !== " " || typing(e.target)) return;
    var href = peekHref(selected());
    if (!href) return;
    e.preventDefault();
    if (isOpen() && panel.dataset.href === href) close(); else open(href);
  }, true);
  // Bubble, after mesa.js moved the selection on J/K: the open panel follows it.
  document.addEventListener("keydown", function (e) {
    if (!isOpen() || e.metaKey || e.ctrlKey || e.altKey || typing(e.target) || modalOpen()) return;
    var k = e.key.toLowerCase();
    if (k !== "j" && k !== "k") return;
    var href = peekHref(selected());
    if (href && href !== panel.dataset.href) open(href);
  });

  // Live: the open panel re-fetches itself when its issue changes or gets a comment (mesa.js turns
  // the event stream into `mesa:<type>` events on body and replays those a swap could have missed).
  function peekKey() {
    var article = panel && panel.querySelector("[data-peek-key]");
    return article ? article.dataset.peekKey : "";
  }
  function refreshIfMine(key) {
    if (!isOpen() || !key || key !== peekKey()) return;
    window.htmx.ajax("GET", panel.dataset.href, { target: "#peek-body", swap: "innerHTML" });
  }
  body.addEventListener("mesa:issue_updated", function (e) { refreshIfMine((e.detail || {}).key); });
  body.addEventListener("mesa:comment_created", function (e) { refreshIfMine((e.detail || {}).issue_key); });

  /* ---- create without leaving the page ---- */
  function createdToast(d) {
    var box = document.getElementById("toasts");
    if (!box) { box = document.createElement("div"); box.id = "toasts"; body.appendChild(box); }
    var t = document.createElement("div");
    t.className = "toast toast-success"; t.setAttribute("role", "status"); t.dataset.created = d.key || "";
    t.appendChild(document.createTextNode("Created "));
    var a = document.createElement("a");
    a.className = "link mono"; a.href = d.url || "#"; a.textContent = d.key || "the issue";
    t.appendChild(a);
    t.appendChild(document.createTextNode(" " + (d.title || "")));
    t.addEventListener("click", function (e) { if (!e.target.closest("a")) t.remove(); });
    box.appendChild(t);
    setTimeout(function () { t.remove(); }, 8000);
  }
  body.addEventListener("mesa-created", function (e) {
    var form = e.target && e.target.closest ? e.target.closest("form[data-quick-create]") : null;
    if (form) {
      form.reset();
      var problem = form.querySelector("[data-create-problem]");
      if (problem) problem.textContent = "";
      var dialog = form.closest("dialog");
      if (dialog && dialog.open) dialog.close();
    }
    createdToast(e.detail || {});
  });
  // A new submit clears the previous attempt's warnings.
  body.addEventListener("htmx:beforeRequest", function (e) {
    var form = e.detail.elt;
    if (form && form.matches && form.matches("form[data-quick-create]")) {
      var problem = form.querySelector("[data-create-problem]");
      if (problem) problem.textContent = "";
    }
  });
})();
