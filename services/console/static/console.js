// Assay console: small conveniences only; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A click anywhere on a finding's row opens it (the id cell is the real link); one listener
  // for the whole table, so a page of 10,000 rows costs nothing extra.
  for (const body of document.querySelectorAll("table.grid tbody")) {
    body.addEventListener("click", (event) => {
      if (event.target.closest("a")) return;
      const link = event.target.closest("tr[data-finding]")?.querySelector("a.finding-link");
      if (link) window.location.assign(link.href);
    });
  }
  // Choosing a severity or status applies the filter at once.
  for (const select of document.querySelectorAll("form.filters select")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  // "/" focuses the search box, as on most consoles.
  const search = document.getElementById("f-q");
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && search && document.activeElement !== search) {
      event.preventDefault();
      search.focus();
    }
  });
});
