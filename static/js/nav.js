// Phones: the sidebar is a drawer behind the topbar's menu button (CSS hides the button on wider screens).
// The button toggles it; Esc, a click outside it or the button again closes it and gives focus back to the
// button; opening it moves focus to the current page's link (else the first one).
(function () {
  "use strict";
  const button = document.querySelector(".nav-toggle");
  const sidebar = document.getElementById("sidebar");
  if (!button || !sidebar) return;
  const root = document.documentElement;

  function isOpen() {
    return root.classList.contains("nav-open");
  }

  function open() {
    root.classList.add("nav-open");
    button.setAttribute("aria-expanded", "true");
    const target = sidebar.querySelector(".nav.on") || sidebar.querySelector("a, button, select");
    if (target) target.focus();
  }

  function close(returnFocus) {
    if (!isOpen()) return;
    root.classList.remove("nav-open");
    button.setAttribute("aria-expanded", "false");
    if (returnFocus) button.focus();
  }

  button.addEventListener("click", (event) => {
    event.stopPropagation();
    if (isOpen()) close(true);
    else open();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      close(true);
    }
  });
  document.addEventListener("click", (event) => {
    if (isOpen() && !sidebar.contains(event.target)) close(false);
  });
  // Back on a wide screen the drawer state means nothing: drop it.
  window.matchMedia("(min-width: 701px)").addEventListener("change", (event) => {
    if (event.matches) close(false);
  });
})();
