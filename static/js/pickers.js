/* Mesa pickers: one searchable, keyboard-driven popover (type to filter, ↑/↓, Enter, Esc) used by
   - the board / list toolbar filters (multi-select checkboxes in <details data-picker-menu>, the no-JS form),
   - the issue page's fields (<select data-picker-key="s"> and the label checkboxes, keys S, A, P, L),
   - a focused card or row on the board (keys S, A, P, L; static/js/bulk.js does the change).
   The popover only drives the page's own inputs (and fires their "change"), so htmx posts exactly
   what the no-JS form would. Mesa.picker.open() is the component; nothing here patches server HTML. */
(function () {
  "use strict";
  var Mesa = (window.Mesa = window.Mesa || {});
  var pop = null, cfg = null, shown = [], index = 0, returnTo = null;

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }
  function matches(q, label) {
    q = q.trim().toLowerCase();
    if (!q) return true;
    label = label.toLowerCase();
    return q.split(/\s+/).every(function (t) { return label.indexOf(t) >= 0; });
  }

  /* ---- the popover ---- */
  // cfg: {anchor, title, options: [{value, label, checked, hint}], multi, onPick(option, checked)}
  function open(options) {
    close();
    cfg = options; index = 0; returnTo = document.activeElement;
    pop = el("div", "picker-pop");
    pop.setAttribute("role", "dialog");
    pop.setAttribute("aria-label", cfg.title);
    pop.dataset.picker = cfg.name || cfg.title;
    var input = el("input", "picker-input");
    input.type = "text"; input.setAttribute("autocomplete", "off");
    input.setAttribute("aria-label", "Filter " + cfg.title.toLowerCase());
    input.placeholder = cfg.title + "…";
    var list = el("ul", "picker-list");
    list.setAttribute("role", "listbox");
    if (cfg.multi) list.setAttribute("aria-multiselectable", "true");
    pop.appendChild(input); pop.appendChild(list);
    document.body.appendChild(pop);
    place();
    input.addEventListener("input", function () { index = 0; render(); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (shown.length) index = (index + (e.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
        render();
      } else if (e.key === "Enter") {
        e.preventDefault(); pick();
      } else if (e.key === "Escape") {
        e.preventDefault(); e.stopPropagation(); close(true);
      } else if (e.key === "Tab") {
        close(false);
      }
    });
    // A one-of picker starts on the current value, as a native select would.
    var current = cfg.multi ? -1 : cfg.options.findIndex(function (o) { return o.checked; });
    index = current > 0 ? current : 0;
    render();
    input.focus();
  }
  function place() {
    var r = cfg.anchor && cfg.anchor.getBoundingClientRect ? cfg.anchor.getBoundingClientRect() : { left: 40, bottom: 80 };
    var width = 260, left = Math.max(8, Math.min(r.left, window.innerWidth - width - 8));
    var top = Math.min(r.bottom + 4, window.innerHeight - 120);
    pop.style.left = left + "px"; pop.style.top = Math.max(8, top) + "px";
  }
  function render() {
    var q = pop.querySelector(".picker-input").value, list = pop.querySelector(".picker-list");
    shown = cfg.options.filter(function (o) { return matches(q, o.label); });
    if (index >= shown.length) index = Math.max(0, shown.length - 1);
    list.textContent = "";
    shown.forEach(function (o, i) {
      var li = el("li", "picker-item" + (i === index ? " is-active" : "") + (o.checked ? " is-checked" : ""));
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", o.checked ? "true" : "false");
      li.dataset.value = o.value;
      li.appendChild(el("span", "picker-check", o.checked ? "✓" : ""));
      if (o.color) { var dot = el("span", "label-dot"); dot.style.background = o.color; li.appendChild(dot); }
      li.appendChild(el("span", "picker-label", o.label));
      if (o.hint) li.appendChild(el("span", "picker-hint muted small", o.hint));
      li.addEventListener("mousedown", function (e) { e.preventDefault(); index = i; pick(); });
      list.appendChild(li);
    });
    if (!shown.length) list.appendChild(el("li", "picker-empty muted small", "No match"));
    var active = list.children[index];
    if (active && active.scrollIntoView) active.scrollIntoView({ block: "nearest" });
  }
  function pick() {
    var o = shown[index];
    if (!o) return;
    var current = cfg;
    if (current.multi) {
      o.checked = !o.checked;
      render();
      current.onPick(o, o.checked);
    } else {
      close(true);
      current.onPick(o, true);
    }
  }
  function close(restoreFocus) {
    if (!pop) return;
    pop.remove(); pop = null; cfg = null;
    if (restoreFocus && returnTo && document.contains(returnTo) && returnTo.focus) returnTo.focus({ preventScroll: true });
  }
  document.addEventListener("mousedown", function (e) { if (pop && !pop.contains(e.target)) close(false); }, true);
  window.addEventListener("resize", function () { close(false); });
  Mesa.picker = { open: open, close: close, isOpen: function () { return !!pop; } };

  function fire(input) { input.dispatchEvent(new Event("change", { bubbles: true })); }
  function setChecked(input, on) {
    input.checked = on;
    // The attribute too: htmx's history snapshot keeps attributes, not properties.
    if (on) input.setAttribute("checked", ""); else input.removeAttribute("checked");
  }
  function labelOf(input) {
    var label = input.closest("label");
    return ((label && label.textContent) || input.value).replace(/\s+/g, " ").trim();
  }

  /* ---- toolbar filters: <details data-picker-menu> holding checkboxes (or radios) ---- */
  function menuInputs(menu) { return Array.prototype.slice.call(menu.querySelectorAll("input")); }
  function summarise(menu) {
    var chosen = menuInputs(menu).filter(function (i) { return i.checked; });
    var title = menu.dataset.title, text = title;
    if (chosen.length === 1) text = title + ": " + labelOf(chosen[0]);
    else if (chosen.length > 1) text = title + ": " + chosen.length;
    var summary = menu.querySelector("[data-picker-summary]");
    summary.textContent = text;
    summary.classList.toggle("on", chosen.length > 0 && menu.hasAttribute("data-multi"));
  }
  function openMenu(menu) {
    var multi = menu.hasAttribute("data-multi");
    open({
      anchor: menu.querySelector("[data-picker-summary]"), title: menu.dataset.title, name: menu.dataset.pickerMenu, multi: multi,
      options: menuInputs(menu).map(function (i) { return { value: i.value, label: labelOf(i), checked: i.checked }; }),
      onPick: function (o, on) {
        var input = menuInputs(menu).filter(function (i) { return i.value === o.value; })[0];
        if (!input) return;
        if (!multi) menuInputs(menu).forEach(function (i) { setChecked(i, false); });
        setChecked(input, on);
        summarise(menu);
        fire(input);
      }
    });
  }
  document.addEventListener("click", function (e) {
    var summary = e.target.closest && e.target.closest("[data-picker-menu] > [data-picker-summary]");
    if (summary) { e.preventDefault(); openMenu(summary.parentElement); return; }
    // View tabs keep the filters as they are now (the toolbar is not re-rendered when they change).
    var tab = e.target.closest && e.target.closest("[data-view-tab]");
    if (tab && !e.metaKey && !e.ctrlKey) {
      var params = new URLSearchParams(window.location.search);
      params.set("view", tab.dataset.viewTab);
      tab.setAttribute("href", "?" + params.toString());
    }
  });
  // Back / forward: the URL is the state, so the toolbar follows it.
  function syncFromUrl() {
    var params = new URLSearchParams(window.location.search);
    document.querySelectorAll("[data-picker-menu]").forEach(function (menu) {
      var inputs = menuInputs(menu), values = params.getAll(menu.dataset.pickerMenu);
      inputs.forEach(function (i, n) { setChecked(i, values.length ? values.indexOf(i.value) >= 0 : !menu.hasAttribute("data-multi") && n === 0); });
      summarise(menu);
    });
    var q = document.getElementById("filter-q");
    if (q) q.value = params.get("q") || "";
  }
  window.addEventListener("popstate", function () { setTimeout(syncFromUrl, 0); });
  document.addEventListener("htmx:historyRestore", syncFromUrl);
  // The "Save view" form saves the query the address bar shows now.
  document.addEventListener("submit", function (e) {
    var q = e.target.querySelector && e.target.querySelector("[data-current-query]");
    if (q) q.value = window.location.search.replace(/^\?/, "");
  }, true);

  /* ---- issue page fields: <select data-picker-key> and a checkbox group ---- */
  function fieldOptions(field) {
    if (field.tagName === "SELECT") {
      return Array.prototype.filter.call(field.options, function (o) {
        return !(o.value === "" && field.hasAttribute("data-picker-skip-empty"));
      }).map(function (o) {
        return { value: o.value, label: o.textContent.replace(/^→\s*/, "").trim(), checked: o.value === field.value && o.value !== "" || (o.value === "" && field.value === "" && !field.hasAttribute("data-picker-skip-empty")) };
      });
    }
    return Array.prototype.map.call(field.querySelectorAll("input[type=checkbox]"), function (i) {
      var dot = i.parentElement.querySelector(".label-dot");
      return { value: i.value, label: labelOf(i), checked: i.checked, color: dot ? dot.style.background : "" };
    });
  }
  function openField(field) {
    var id = field.id, multi = field.tagName !== "SELECT";
    open({
      anchor: field, title: field.dataset.pickerTitle || field.getAttribute("aria-label") || "Choose", name: id, multi: multi,
      options: fieldOptions(field),
      onPick: function (o, on) {
        // The panel may have been re-rendered by an earlier pick: find the field again.
        var now = document.getElementById(id) || field;
        if (now.tagName === "SELECT") { now.value = o.value; fire(now); return; }
        var box = Array.prototype.filter.call(now.querySelectorAll("input[type=checkbox]"), function (i) { return i.value === o.value; })[0];
        if (box) { setChecked(box, on); fire(box); }
      }
    });
  }
  Mesa.picker.openField = openField;
  // A click on a picker-backed select opens the popover instead of the native list.
  document.addEventListener("mousedown", function (e) {
    var field = e.target.closest && e.target.closest("select[data-picker-key]");
    if (!field || e.button !== 0) return;
    e.preventDefault(); openField(field);
  });
  document.addEventListener("keydown", function (e) {
    var field = e.target.closest && e.target.closest("select[data-picker-key]");
    if (field && (e.key === " " || e.key === "Enter" || e.key === "ArrowDown")) { e.preventDefault(); openField(field); }
  });

  /* ---- S / A / P / L ---- */
  var KINDS = { s: "status", a: "assignee", p: "priority", l: "labels" };
  function typing(t) { return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)); }
  function focusedItem() {
    var sel = document.querySelector("[data-nav-item].is-selected");
    var item = sel && sel.closest("[data-key]");
    if (!item && document.activeElement) item = document.activeElement.closest && document.activeElement.closest(".card[data-key], .list-row[data-key]");
    return item || null;
  }
  Mesa.picker.focusedItem = focusedItem;
  var pendingG = 0; // "G then A" goes to the agents (mesa.js), it does not open the assignee picker
  window.addEventListener("keydown", function (e) {
    if (e.metaKey || e.ctrlKey || e.altKey || e.isComposing || pop || typing(e.target) || document.querySelector("dialog[open]")) return;
    var letter = e.key.length === 1 ? e.key.toLowerCase() : "";
    var afterG = pendingG && Date.now() - pendingG < 1500;
    pendingG = letter === "g" && !afterG ? Date.now() : 0;
    if (!KINDS[letter] || afterG) return;
    var field = document.querySelector("[data-picker-key='" + letter + "']");
    var item = field ? null : focusedItem();
    if (!field && !(item && Mesa.bulk)) return;
    e.preventDefault(); e.stopImmediatePropagation(); // mesa.js would open the native field or the palette
    if (field) openField(field);
    else Mesa.bulk.pickFor(item, KINDS[letter]);
  }, true);
})();
