/* Admin pages: copy a new API key once, and choose the theme on the profile page.
   The theme is the same localStorage value mesa.js's toggle writes ("mesa-theme"). */
(function () {
  "use strict";
  var THEME_KEY = "mesa-theme";

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(function () { button.textContent = "Copied"; }, function () {});
    }
  });

  function currentTheme() {
    return document.documentElement.dataset.theme === "light" ? "light" : "dark";
  }

  function syncThemeChoice() {
    var wanted = currentTheme();
    document.querySelectorAll("input[name=theme-choice]").forEach(function (input) {
      input.checked = input.value === wanted;
    });
  }

  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input || input.name !== "theme-choice") return;
    document.documentElement.dataset.theme = input.value;
    try { localStorage.setItem(THEME_KEY, input.value); } catch (err) { /* private mode: this page only */ }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", syncThemeChoice);
  else syncThemeChoice();
})();
