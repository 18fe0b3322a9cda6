/* Mesa bulk selection on the board and the list: X toggles the focused card / row, shift-click selects
   a range, and the bulk bar sets status, assignee, labels, priority or work block for all of them in
   one request (POST /issues/bulk → issues.bulk, one single-issue service call per issue). The same
   actions on one focused card come from the S / A / P / L keys (static/js/pickers.js).
   The selection is a set of issue keys: it survives the live re-renders of #board-columns. */
(function () {
  "use strict";
  var Mesa = (window.Mesa = window.Mesa || {});
  var bar = document.getElementById("bulk-bar");
  if (!bar) return;
  var selected = new Set(), anchorKey = null;
  var DATA = (function () {
    try { return JSON.parse(document.getElementById("mesa-board-data").textContent); } catch (e) { return {}; }
  })();
  var ITEMS = ".card[data-key], .list-row[data-key]";

  function items() { return Array.prototype.slice.call(document.querySelectorAll("#board-columns " + ITEMS)); }
  function itemFor(key) { return items().filter(function (i) { return i.dataset.key === key; })[0] || null; }
  function show() {
    var present = {};
    items().forEach(function (i) {
      present[i.dataset.key] = true;
      var on = selected.has(i.dataset.key);
      i.classList.toggle("is-picked", on);
      i.setAttribute("aria-selected", on ? "true" : "false");
    });
    // An issue that left the view (filtered out, deleted) is no longer selected.
    selected.forEach(function (k) { if (!present[k]) selected.delete(k); });
    bar.hidden = selected.size === 0;
    bar.querySelector("[data-bulk-count]").textContent = selected.size + " selected";
  }
  function toggle(key) {
    if (selected.has(key)) selected.delete(key); else selected.add(key);
    anchorKey = key; show();
  }
  function clear() { selected.clear(); anchorKey = null; show(); }
  Mesa.bulk = { selected: selected, clear: clear, toggle: toggle };

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }
  function send(action, value, keys) {
    window.htmx.ajax("POST", bar.dataset.bulkUrl + window.location.search, {
      target: "#board-columns", swap: "outerHTML",
      values: { action: action, value: value, keys: keys.join(",") }, headers: { "X-CSRFToken": csrf() }
    });
  }
  function labelsOf(item) {
    return Array.prototype.filter.call(item.querySelectorAll(".pill"), function (p) { return p.querySelector(".label-dot"); })
      .map(function (p) { return p.textContent.trim(); });
  }
  function statusName(value) {
    var found = (DATA.statuses || []).filter(function (s) { return s[0] === value; })[0];
    return found ? found[1] : value;
  }

  // The options of one action for these issues, and what choosing one sends.
  function pick(kind, keys, anchor) {
    var its = keys.map(itemFor).filter(Boolean), title, options, multi = false, onPick;
    if (kind === "status") {
      // Only moves the lifecycle allows from at least one of them; the rest are refused per issue.
      title = "Status";
      var counts = {};
      its.forEach(function (i) { ((DATA.moves || {})[i.dataset.status] || []).forEach(function (s) { counts[s] = (counts[s] || 0) + 1; }); });
      options = (DATA.statuses || []).filter(function (s) { return counts[s[0]]; }).map(function (s) {
        return { value: s[0], label: s[1], hint: its.length > 1 && counts[s[0]] < its.length ? counts[s[0]] + " of " + its.length : "" };
      });
      onPick = function (o) { send("status", o.value, keys); };
    } else if (kind === "assignee") {
      title = "Assignee";
      options = [{ value: "", label: "Unassigned" }].concat((DATA.agents || []).map(function (a) { return { value: a[0], label: a[1] }; }));
      onPick = function (o) { send("assignee", o.value, keys); };
    } else if (kind === "priority") {
      title = "Priority";
      options = (DATA.priorities || []).map(function (p) { return { value: p[0], label: p[1] }; });
      onPick = function (o) { send("priority", o.value, keys); };
    } else if (kind === "work_block") {
      title = "Work block";
      options = [{ value: "", label: "No work block" }].concat((DATA.blocks || []).map(function (b) { return { value: b[0], label: b[1] }; }));
      onPick = function (o) { send("work_block", o.value, keys); };
    } else {
      // Labels: checked when every chosen issue has it; choosing adds it to all, or takes it off all.
      title = "Labels"; multi = true;
      options = (DATA.labels || []).map(function (l) {
        return { value: l[0], label: l[0], color: l[1], checked: its.length > 0 && its.every(function (i) { return labelsOf(i).indexOf(l[0]) >= 0; }) };
      });
      onPick = function (o, on) { send(on ? "label_add" : "label_remove", o.value, keys); };
    }
    Mesa.picker.open({ anchor: anchor, title: title, name: "bulk-" + kind, options: options, multi: multi, onPick: onPick });
  }
  // S / A / P / L on a focused card: the selection when the card is part of it, else that card alone.
  Mesa.bulk.pickFor = function (item, kind) {
    var key = item.dataset.key;
    var keys = selected.has(key) ? Array.from(selected) : [key];
    pick(kind, keys, item);
  };

  bar.addEventListener("click", function (e) {
    var button = e.target.closest("[data-bulk]");
    if (button) { pick(button.dataset.bulk, Array.from(selected), button); return; }
    if (e.target.closest("[data-bulk-clear]")) clear();
  });
  // Shift-click selects the range from the last toggled card to this one (in page order).
  document.addEventListener("click", function (e) {
    var item = e.target.closest && e.target.closest(ITEMS);
    if (!item || !e.shiftKey || e.target.closest("form")) return;
    e.preventDefault();
    var all = items(), to = all.indexOf(item), from = anchorKey ? all.indexOf(itemFor(anchorKey)) : -1;
    if (from < 0) { toggle(item.dataset.key); return; }
    all.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (i) { selected.add(i.dataset.key); });
    anchorKey = item.dataset.key; show();
  }, true);
  document.addEventListener("keydown", function (e) {
    if (e.metaKey || e.ctrlKey || e.altKey || (Mesa.picker && Mesa.picker.isOpen()) || document.querySelector("dialog[open]")) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (e.key === "x" || e.key === "X") {
      var item = Mesa.picker && Mesa.picker.focusedItem();
      if (item) { e.preventDefault(); toggle(item.dataset.key); }
    } else if (e.key === "Escape" && selected.size) {
      clear();
    }
  });
  document.addEventListener("htmx:afterSettle", show);
  show();
})();
