// Progressive enhancement of the search box: suggestions from /api/v1/autocomplete
// fill the input's <datalist>. The page works fully without this script.
(function () {
  "use strict";
  var input = document.querySelector("input[data-autocomplete]");
  if (!input || !window.fetch) { return; }
  var list = document.getElementById(input.getAttribute("list"));
  var endpoint = input.getAttribute("data-autocomplete");
  var timer = null;
  var lastAsked = "";

  function fill(suggestions) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    suggestions.forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.text;
      list.appendChild(option);
    });
  }

  function ask() {
    var text = input.value.trim();
    if (text.length < 2 || text === lastAsked) { return; }
    lastAsked = text;
    fetch(endpoint + "?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
      .then(function (data) { if (text === lastAsked) { fill(data.suggestions || []); } })
      .catch(function () { /* suggestions are optional: the search itself still works */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 150);
  });
}());
