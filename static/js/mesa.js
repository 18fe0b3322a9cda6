/* Mesa: the live layer (one EventSource per tab → `mesa:<type>` DOM events),
   keyboard shortcuts, the command palette (Cmd/Ctrl+K) and the theme toggle.
   Plain JS, no build. Pages refresh themselves with
   hx-trigger="mesa:issue_updated from:body"; this file never patches page HTML. */
(function () {
  "use strict";
  var body = document.body, root = document.documentElement;
  var THEME_KEY = "mesa-theme";
  var Mesa = (window.Mesa = { lastEventId: "", connected: false });

  function $(sel, el) { return (el || document).querySelector(sel); }
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }
  function org() { return body.dataset.org || ""; }
  function issueKey() { return body.dataset.issueKey || ""; }

  /* ---- styles for what this file builds (uses the stylesheet's theme variables) ---- */
  var css = el("style");
  css.textContent = [
    ".palette{width:min(640px,94vw);padding:0;top:12vh;margin-top:0}",
    ".palette-input{width:100%;border:0;border-bottom:1px solid var(--border-2);border-radius:0;padding:14px 16px;" +
      "font-size:15px;background:transparent;color:var(--text);outline:none}",
    ".palette-list{list-style:none;margin:0;padding:6px;max-height:min(420px,60vh);overflow:auto}",
    ".palette-item{display:flex;justify-content:space-between;gap:12px;padding:7px 10px;border-radius:6px;cursor:pointer}",
    ".palette-item.is-selected{background:var(--sel)}",
    ".palette-label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".palette-hint{font-size:11px;flex:none}",
    ".mesa-shortcut-list{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:12px 0 0}",
    ".mesa-shortcut-list dd{margin:0;color:var(--text-2)}",
    ".title-counter{margin-left:auto;white-space:nowrap}",
    "[data-nav-item].is-selected{outline:1px solid var(--accent);outline-offset:-1px;background:var(--sel)}",
    // J/K marks the whole card or table row, not only the title link inside it.
    ".card:has([data-nav-item].is-selected),tr:has([data-nav-item].is-selected){outline:1px solid var(--accent);outline-offset:-1px;background:var(--sel)}",
    ".card [data-nav-item].is-selected,tr [data-nav-item].is-selected{outline:none;background:none}"
  ].join("\n");
  document.head.appendChild(css);

  /* ---- theme (the <head> snippet applies it before first paint) ---- */
  function setTheme(t) {
    root.dataset.theme = t;
    try { localStorage.setItem(THEME_KEY, t); } catch (e) { /* private mode */ }
  }
  function toggleTheme() { setTheme(root.dataset.theme === "light" ? "dark" : "light"); }
  try { var saved = localStorage.getItem(THEME_KEY); if (saved) root.dataset.theme = saved; } catch (e) { /* ignore */ }
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("#theme-toggle")) { e.preventDefault(); toggleTheme(); }
  });

  /* ---- toasts ---- */
  function toast(message, level) {
    var box = document.getElementById("toasts");
    if (!box) { box = el("div"); box.id = "toasts"; body.appendChild(box); }
    var t = el("div", "toast toast-" + (level || "info"), message);
    t.setAttribute("role", "status");
    t.onclick = function () { t.remove(); };
    box.appendChild(t);
    setTimeout(function () { t.remove(); }, level === "error" ? 7000 : 4000);
  }
  Mesa.toast = toast;

  /* ---- live events ---- */
  // EventSource only delivers named events that have a listener: every orgs.events.EventType value
  // (base.html's json_script), plus "resync", which the stream itself sends (web/sse.py).
  var TYPES = ["resync"];
  try { TYPES = JSON.parse(document.getElementById("mesa-event-types").textContent).concat(TYPES); }
  catch (e) { /* a page without the list still gets resync */ }
  var source = null, retryMs = 1000;

  function notable(type, d) {
    if (type === "approval_created") return ["Approval requested: " + (d.title || ""), "info"];
    if (type === "run_finished" && /^(failed|timed_out|budget_exceeded)$/.test(d.status || ""))
      return ["Run #" + (d.run_id || "") + " " + d.status.replace("_", " ") + (d.issue_key ? " on " + d.issue_key : ""), "error"];
    if (type === "issue_created" && d.actor_agent_id) return [(d.key || "") + " created: " + (d.title || ""), "info"];
    return null;
  }

  // An event that lands while an htmx request is in flight, or before the swapped-in element
  // is wired, can be lost: the element it would trigger is being replaced (hx-swap="outerHTML").
  // So every event is kept for a few seconds with its arrival time, and when a request's new
  // content has settled (the new element now listens) the events that arrived since that
  // request started are dispatched again. A replay only makes a part re-fetch itself, and the
  // re-fetch starts after the replayed events, so replays never loop.
  var recent = [], started = new WeakMap();
  document.addEventListener("htmx:beforeRequest", function (e) { started.set(e.detail.xhr, Date.now()); });
  document.addEventListener("htmx:afterSettle", function (e) {
    var since = started.get(e.detail.xhr);
    if (since == null) return;
    started.delete(e.detail.xhr);
    recent.forEach(function (m) {
      if (m[0] >= since) body.dispatchEvent(new CustomEvent("mesa:" + m[1], { detail: m[2] }));
    });
  });

  function onEvent(e) {
    var detail = {};
    try { detail = JSON.parse(e.data || "{}"); } catch (err) { /* keep {} */ }
    if (e.lastEventId) Mesa.lastEventId = e.lastEventId;
    var now = Date.now();
    recent.push([now, e.type, detail]);
    while (recent.length && (recent.length > 200 || now - recent[0][0] > 10000)) recent.shift();
    body.dispatchEvent(new CustomEvent("mesa:" + e.type, { detail: detail }));
    var n = notable(e.type, detail);
    if (n && !document.hidden) toast(n[0], n[1]);
  }

  function connect() {
    if (!window.EventSource || source) return;
    var params = [];
    if (org()) params.push("org=" + encodeURIComponent(org()));
    // A fresh EventSource cannot set Last-Event-ID itself: pass it in the query.
    if (Mesa.lastEventId) params.push("last_event_id=" + encodeURIComponent(Mesa.lastEventId));
    source = new EventSource("/events" + (params.length ? "?" + params.join("&") : ""));
    TYPES.forEach(function (t) { source.addEventListener(t, onEvent); });
    source.onopen = function () {
      retryMs = 1000; Mesa.connected = true; root.dataset.live = "on";
      body.dispatchEvent(new CustomEvent("mesa:connected"));
    };
    source.onerror = function () {
      Mesa.connected = false; root.dataset.live = "off";
      // The browser retries by itself (with Last-Event-ID) unless the stream was refused.
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      }
    };
  }

  /* ---- server calls ---- */
  function csrfToken() {
    try { var h = JSON.parse(body.getAttribute("hx-headers") || "{}"); if (h["X-CSRFToken"]) return h["X-CSRFToken"]; }
    catch (e) { /* fall through */ }
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function act(action, value) {
    return fetch("/palette/action", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ org: org(), issue: issueKey(), action: action, value: value })
    }).then(function (r) { return r.json().catch(function () { return { ok: false, error: "HTTP " + r.status }; }); })
      .then(function (res) {
        toast(res.message || res.error || (res.ok ? "Done." : "Refused."), res.ok ? "info" : "error");
        if (res.ok) body.dispatchEvent(new CustomEvent("mesa:action", { detail: { action: action, value: value } }));
      });
  }

  /* ---- navigation ---- */
  var GO = { b: ["urlBoard", "/issues/"], a: ["urlAgents", "/agents/"], w: ["urlWiki", "/wiki/"],
    s: ["urlStrategy", "/strategy/"], d: ["urlDashboard", "/"] };
  function goUrl(k) { return body.dataset[GO[k][0]] || GO[k][1]; }
  function openQuickCreate() {
    var d = document.getElementById("quick-create");
    if (!d) return;
    if (!d.open) d.showModal();
    var input = $("input[name=title]", d);
    if (input) input.focus();
  }
  function navItems() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-nav-item]"), function (n) {
      return n.offsetParent !== null;
    });
  }
  function moveSelection(step) {
    var items = navItems();
    if (!items.length) return;
    var cur = items.findIndex(function (n) { return n.classList.contains("is-selected"); });
    var next = cur < 0 ? (step > 0 ? 0 : items.length - 1) : Math.max(0, Math.min(items.length - 1, cur + step));
    if (cur >= 0) items[cur].classList.remove("is-selected");
    items[next].classList.add("is-selected");
    items[next].scrollIntoView({ block: "nearest" });
    // Focus links so Enter (and screen readers) follow the selection natively.
    if (items[next].tabIndex >= 0 || items[next].href) items[next].focus({ preventScroll: true });
  }
  function openSelected() {
    var sel = $("[data-nav-item].is-selected");
    if (!sel) return false;
    var href = sel.getAttribute("href") || sel.dataset.href || (($("a[href]", sel) || {}).href);
    if (href) { window.location.href = href; return true; }
    return false;
  }
  function openField(id) {
    var f = document.getElementById(id);
    if (!f) return;
    f.focus();
    if (f.tagName === "SELECT" && f.showPicker) { try { f.showPicker(); } catch (e) { /* needs a gesture */ } }
    else if (f.tagName === "BUTTON" || f.tagName === "SUMMARY") f.click();
  }

  /* ---- shortcuts overlay ---- */
  var SHORTCUTS = [["C", "Create an issue"], ["/", "Search"], ["⌘K / Ctrl+K", "Command palette"],
    ["G then B", "Board"], ["G then A", "Agents"], ["G then W", "Wiki"], ["G then S", "Strategy"],
    ["G then D", "Dashboard"], ["J / K", "Next / previous item"], ["Enter", "Open the selected item"],
    ["Space", "Peek at the selected issue (board, list)"], ["E", "Edit title and description (issue page)"],
    ["S", "Status (issue page, selected card or row)"], ["A", "Assignee (issue page, selected card or row)"],
    ["P", "Priority (issue page, selected card or row)"], ["L", "Labels (issue page, selected card or row)"],
    ["X", "Select the card or row for bulk actions"], ["Shift+click", "Select a range of cards or rows"],
    ["?", "This list"], ["Esc", "Close / leave a field / clear the selection"]];
  function showShortcuts() {
    var d = document.getElementById("mesa-shortcuts");
    if (!d) {
      d = el("dialog", "dialog mesa-shortcuts"); d.id = "mesa-shortcuts";
      d.setAttribute("aria-label", "Keyboard shortcuts");
      d.appendChild(el("strong", null, "Keyboard shortcuts"));
      var list = el("dl", "mesa-shortcut-list");
      SHORTCUTS.forEach(function (s) { var dt = el("dt"); dt.appendChild(el("kbd", null, s[0])); list.appendChild(dt); list.appendChild(el("dd", null, s[1])); });
      d.appendChild(list);
      d.addEventListener("click", function (e) { if (e.target === d) d.close(); });
      body.appendChild(d);
    }
    d.showModal();
  }

  /* ---- command palette ---- */
  // [value, label] pairs from the models (orgs/context_processors.py → json_script in base.html), never copied here.
  var CHOICES = (function () {
    var node = document.getElementById("mesa-choices");
    try { return (node && JSON.parse(node.textContent)) || {}; } catch (e) { return {}; }
  })();
  var STATUSES = CHOICES.statuses || [];
  // The palette offers the most urgent first; values as strings, like the statuses (mesa:action announces them).
  var PRIORITIES = (CHOICES.priorities || []).slice().sort(function (a, b) { return b[0] - a[0]; })
    .map(function (p) { return [String(p[0]), p[1]]; });
  var pal = null, palItems = [], palIndex = 0, palMode = null, palSeq = 0, palTimer = null;
  var palBusy = false, palEnter = 0; // the refresh an early Enter waits for (0: none)
  var palShown = null; // the [mode, query] the listed items answer

  function fuzzy(q, text) {
    q = q.toLowerCase(); text = text.toLowerCase();
    for (var i = 0, j = 0; i < q.length; i++) { if (q[i] === " ") continue; j = text.indexOf(q[i], j); if (j < 0) return false; j++; }
    return true;
  }
  function wordMatch(q, label) {
    var words = label.toLowerCase().split(/[^a-z0-9]+/);
    return q.toLowerCase().split(/\s+/).every(function (t) {
      return !t || words.some(function (w) { return w.indexOf(t) === 0; });
    });
  }
  function copyText(text) {
    var done = function () { toast("Copied " + text); };
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done, function () { toast(text); }); return; }
    var area = el("textarea"); area.value = text; body.appendChild(area); area.select();
    try { document.execCommand("copy"); done(); } catch (e) { toast(text); }
    area.remove();
  }
  /* Recent items: the issues opened lately in this browser, per org (localStorage), newest first. */
  var RECENT_MAX = 8;
  function recentKey() { return "mesa-recent:" + org(); }
  function recentItems() {
    try { return JSON.parse(localStorage.getItem(recentKey()) || "[]") || []; } catch (e) { return []; }
  }
  function rememberIssue() {
    var key = issueKey(), title = $(".issue-title");
    if (!key) return;
    var items = recentItems().filter(function (r) { return r.key !== key; });
    items.unshift({ key: key, title: title ? title.textContent.trim() : "", url: window.location.pathname });
    try { localStorage.setItem(recentKey(), JSON.stringify(items.slice(0, RECENT_MAX))); } catch (e) { /* private mode */ }
  }
  // The current issue's actions (issue: true): listed first when the palette opens on an issue page.
  function rootActions() {
    var a = [{ label: "Create issue", hint: "C", run: openQuickCreate },
      { label: "Toggle theme", hint: "dark / light", run: toggleTheme },
      { label: "Pause scheduler", hint: "action", run: function () { act("pause_scheduler"); } },
      { label: "Resume scheduler", hint: "action", run: function () { act("resume_scheduler"); } }];
    var key = issueKey();
    if (!key) return a;
    var mine = [{ label: "Set status… (" + key + ")", hint: "S", sub: "status" },
      { label: "Assign to… (" + key + ")", hint: "A", sub: "assign" },
      { label: "Set priority… (" + key + ")", hint: "P", sub: "priority" }];
    var latestRun = $("[data-latest-run]");
    if (latestRun) mine.push({ label: "Open latest run " + latestRun.textContent, hint: "run", href: latestRun.getAttribute("href") });
    mine.push({ label: "Create sub-issue (" + key + ")", hint: "action", run: function () {
      var input = $("#sub-issue-form input[name=title]");
      if (input) { input.scrollIntoView({ block: "center" }); input.focus(); }
    } });
    mine.push({ label: "Copy link (" + key + ")", hint: "link", run: function () { copyText(window.location.origin + "/issues/" + key + "/"); } });
    // The issue's branch is mesa/<KEY> (issues/partials/branch.html), whether or not a run made it yet.
    var branch = $("[data-branch-name]"), branchName = branch ? branch.textContent.trim() : "mesa/" + key;
    mine.push({ label: "Copy branch name", hint: branchName, run: function () { copyText(branchName); } });
    mine.push({ label: "Cancel latest run (" + key + ")", hint: "action", run: function () { act("cancel_run"); } });
    mine.forEach(function (m) { m.issue = true; });
    return mine.concat(a);
  }
  // The issue page's status control lists only the moves the lifecycle allows from the current
  // status (the server renders them, and the control follows live updates): offer the same.
  function legalStatuses() {
    var control = document.getElementById("field-status");
    if (!control) return STATUSES;
    var legal = Array.prototype.map.call(control.querySelectorAll("option"), function (o) { return o.value; });
    return STATUSES.filter(function (s) { return legal.indexOf(s[0]) >= 0; });
  }
  function subItems(mode, q, done) {
    if (mode === "status" || mode === "priority") {
      var src = mode === "status" ? legalStatuses() : PRIORITIES;
      done(src.filter(function (s) { return fuzzy(q, s[1]); }).map(function (s) {
        return { label: s[1], hint: mode, run: function () { act(mode, s[0]); } };
      }));
      return;
    }
    search(q, "agent", function (hits) {
      var items = hits.map(function (h) { return { label: h.title, hint: h.key, run: function () { act("assign", h.key); } }; });
      if (fuzzy(q, "Unassigned")) items.push({ label: "Unassigned", hint: "nobody", run: function () { act("assign", ""); } });
      done(items);
    });
  }
  function search(q, types, done) {
    var url = "/palette/search?q=" + encodeURIComponent(q) + "&org=" + encodeURIComponent(org()) + (types ? "&types=" + types : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; }).then(done, function () { done([]); });
  }
  function renderPalette() {
    var list = $(".palette-list", pal);
    list.textContent = "";
    palItems.forEach(function (it, i) {
      var li = el("li", "palette-item" + (i === palIndex ? " is-selected" : ""));
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === palIndex ? "true" : "false");
      li.appendChild(el("span", "palette-label", it.label));
      li.appendChild(el("span", "palette-hint muted", it.hint || ""));
      li.addEventListener("mousedown", function (e) { e.preventDefault(); palIndex = i; choose(); });
      list.appendChild(li);
    });
    var sel = list.children[palIndex];
    if (sel) sel.scrollIntoView({ block: "nearest" });
  }
  function refreshPalette() {
    var q = $("input", pal).value.trim(), seq = ++palSeq;
    function show(items) {
      if (seq !== palSeq) return;
      palItems = items; palIndex = 0; palBusy = false; palShown = [palMode, q]; renderPalette();
      if (palEnter === seq) { palEnter = 0; choose(); }
    }
    palBusy = true;
    if (palMode) { subItems(palMode, q, show); return; }
    // Commands the query names (word prefixes) come first, then recent issues, then the search hits.
    // With no query: the current issue's actions, the recent issues, the hits, the other commands.
    var actions = rootActions().filter(function (a) { return wordMatch(q, a.label); });
    var seen = {};
    var recent = recentItems().filter(function (r) {
      return r.key !== issueKey() && (!q || fuzzy(q, r.key + " " + r.title));
    }).map(function (r) { seen[r.key] = 1; return { label: r.key + "  " + r.title, hint: "recent", href: r.url }; });
    search(q, "", function (hits) {
      var found = hits.filter(function (h) { return !(h.type === "issue" && seen[h.key]); }).map(function (h) {
        return { label: (h.type === "issue" ? h.key + "  " : "") + h.title, hint: h.type, href: h.url };
      });
      if (q) { show(actions.concat(recent, found)); return; }
      var mine = actions.filter(function (a) { return a.issue; }), rest = actions.filter(function (a) { return !a.issue; });
      show(mine.concat(recent, found, rest));
    });
  }
  function choose() {
    var it = palItems[palIndex];
    if (!it) return;
    if (it.sub) { palMode = it.sub; $("input", pal).value = ""; $("input", pal).placeholder = it.label; refreshPalette(); return; }
    pal.close();
    if (it.href) window.location.href = it.href;
    else if (it.run) it.run();
  }
  function openPalette(mode) {
    if (!pal) {
      pal = el("dialog", "dialog palette"); pal.id = "mesa-palette";
      pal.setAttribute("aria-label", "Command palette");
      var input = el("input", "input input-lg palette-input");
      input.type = "text"; input.setAttribute("autocomplete", "off"); input.setAttribute("aria-label", "Search or run a command");
      pal.appendChild(input);
      var ul = el("ul", "palette-list"); ul.setAttribute("role", "listbox"); pal.appendChild(ul);
      input.addEventListener("input", function () {
        if (palEnter) return; // Enter already chose for the query typed before it
        // A slow answer for an earlier query must not land now and look current to Enter.
        palSeq++;
        clearTimeout(palTimer); palBusy = true; palTimer = setTimeout(refreshPalette, 60);
      });
      input.addEventListener("keydown", function (e) {
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          if (palItems.length) palIndex = (palIndex + (e.key === "ArrowDown" ? 1 : palItems.length - 1)) % palItems.length;
          renderPalette();
        } else if (e.key === "Enter") {
          e.preventDefault();
          // Enter acts on what the typed query lists: if the list answers another query, or its
          // answer is still on the way, it waits for that answer.
          var typed = $("input", pal).value.trim();
          var stale = !palShown || palShown[0] !== palMode || palShown[1] !== typed;
          if (palBusy || stale) { clearTimeout(palTimer); palEnter = palSeq + 1; refreshPalette(); } else choose();
        }
      });
      pal.addEventListener("click", function (e) { if (e.target === pal) pal.close(); });
      body.appendChild(pal);
    }
    palMode = mode || null; palEnter = 0; palShown = null;
    var inp = $("input", pal);
    inp.value = ""; inp.placeholder = mode ? "Choose…" : "Search issues, agents, wiki, pages, or type a command…";
    if (!pal.open) pal.showModal();
    inp.focus();
    refreshPalette();
  }
  Mesa.openPalette = openPalette;

  /* ---- keyboard ---- */
  var pendingG = 0;
  function typing(t) {
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  document.addEventListener("keydown", function (e) {
    var k = e.key;
    if ((e.metaKey || e.ctrlKey) && !e.altKey && (k === "k" || k === "K")) {
      e.preventDefault();
      if (pal && pal.open) pal.close(); else openPalette();
      return;
    }
    // Cmd/Ctrl+Enter sends the form being typed in (the create modal, a comment).
    if ((e.metaKey || e.ctrlKey) && k === "Enter" && typing(e.target) && e.target.form) {
      e.preventDefault();
      e.target.form.requestSubmit();
      return;
    }
    if (k === "Escape") {
      if (typing(e.target) && !e.target.closest("dialog")) e.target.blur();
      var selected = $("[data-nav-item].is-selected");
      if (selected && !document.querySelector("dialog[open]")) selected.classList.remove("is-selected");
      return;
    }
    if (e.metaKey || e.ctrlKey || e.altKey || e.isComposing || typing(e.target) || document.querySelector("dialog[open]")) return;
    var lower = k.length === 1 ? k.toLowerCase() : k;
    if (pendingG && Date.now() - pendingG < 1500) {
      pendingG = 0;
      if (GO[lower]) { e.preventDefault(); window.location.href = goUrl(lower); }
      return;
    }
    pendingG = 0;
    var key = issueKey();
    if (k === "?") { e.preventDefault(); showShortcuts(); }
    else if (k === "/") { var s = document.getElementById("global-search"); if (s) { e.preventDefault(); s.focus(); s.select && s.select(); } }
    else if (lower === "g") pendingG = Date.now();
    else if (lower === "c") { e.preventDefault(); openQuickCreate(); }
    else if (lower === "j") { e.preventDefault(); moveSelection(1); }
    else if (lower === "k") { e.preventDefault(); moveSelection(-1); }
    else if (k === "Enter" && (e.target === body || e.target === root)) { if (openSelected()) e.preventDefault(); }
    else if (key && lower === "s") { e.preventDefault(); document.getElementById("field-status") ? openField("field-status") : openPalette("status"); }
    else if (key && lower === "a") { e.preventDefault(); document.getElementById("field-assignee") ? openField("field-assignee") : openPalette("assign"); }
    else if (key && lower === "p") { e.preventDefault(); document.getElementById("field-priority") ? openField("field-priority") : openPalette("priority"); }
  });

  rememberIssue();
  connect();
  // Close the stream before unload so the server frees the slot at once.
  window.addEventListener("pagehide", function () { if (source) { source.close(); source = null; } });
  window.addEventListener("pageshow", function (e) { if (e.persisted) connect(); });
})();
