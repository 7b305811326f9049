// Progressive enhancement of the search page; everything works without it.
// - Filters and sort apply as soon as they change (the submit buttons stay for
//   visitors without JavaScript).
// - The filter panel (<details>) starts closed so that on a phone the results come
//   first; on wider screens, where the facets sit beside the results, it opens.
(function () {
  "use strict";
  var WIDE = "(min-width: 50.01rem)";  // the breakpoint of .layout in style.css

  document.querySelectorAll("form[data-submit-on-change]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (!event.target.name) { return; }
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    });
  });

  var panel = document.getElementById("filter-panel");
  if (panel && window.matchMedia && window.matchMedia(WIDE).matches) {
    panel.open = true;
  }
}());
