// Assay console: small conveniences only; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A click anywhere on a finding's row opens it (the finding's id is the real link): one
  // listener for the whole document, nothing per row, so a page of 10,000 rows costs nothing here.
  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element) || event.target.closest("a, button, input, select")) return;
    const link = event.target.closest("tr[data-finding]")?.querySelector('a[href^="/console/findings/"]');
    if (link) window.location.assign(link.href);
  });
  // Choosing a severity or status applies the filter at once.
  for (const select of document.querySelectorAll("form.filters select")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  // "/" focuses the search box, as on most consoles (not while typing in a field: a purl has "/").
  const search = document.getElementById("f-q");
  document.addEventListener("keydown", (event) => {
    const typing = document.activeElement?.closest("input, textarea, select");
    if (event.key === "/" && search && !typing) {
      event.preventDefault();
      search.focus();
    }
  });
});
