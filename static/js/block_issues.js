// "Add issues" on a work block page: open the dialog, filter the open issues as you type, count the ticked ones.
// The form itself is a plain POST (it works without this file); the server answers with a toast.
(function () {
  "use strict";
  const dialog = document.getElementById("add-issues");
  if (!dialog) return;
  const filter = dialog.querySelector("[data-pick-filter]");
  const rows = Array.from(dialog.querySelectorAll(".pick-row"));
  const none = dialog.querySelector("[data-pick-none]");
  const count = dialog.querySelector("[data-picked-count]");
  const submit = dialog.querySelector("[data-pick-submit]");

  function refreshCount() {
    const n = dialog.querySelectorAll(".pick-row input:checked").length;
    count.textContent = n + " selected";
    submit.disabled = n === 0;
    submit.textContent = n ? "Add " + n + " issue" + (n === 1 ? "" : "s") : "Add issues";
  }

  function applyFilter() {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of rows) {
      const text = row.dataset.pickText.toLowerCase();
      const match = words.every((w) => text.includes(w));
      row.hidden = !match;
      if (match) shown += 1;
    }
    if (none) none.hidden = shown > 0 || rows.length === 0;
  }

  document.querySelectorAll("[data-open-dialog='add-issues']").forEach((button) => {
    button.addEventListener("click", () => {
      dialog.showModal();
      filter.focus();
    });
  });
  dialog.querySelector("[data-close-dialog]").addEventListener("click", () => dialog.close());
  filter.addEventListener("input", applyFilter);
  // Enter in the filter ticks the only match left, instead of submitting the form.
  filter.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const visible = rows.filter((row) => !row.hidden);
    if (visible.length === 1) {
      const box = visible[0].querySelector("input");
      box.checked = !box.checked;
      refreshCount();
    }
  });
  dialog.addEventListener("change", refreshCount);
  refreshCount();
})();
