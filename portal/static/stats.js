// Charts of the statistics dashboard, drawn with Chart.js from the data tables beside
// them: the table is the source, so chart, table and CSV always show the same numbers.
// A <figure data-chart="hbar|vbar" data-table="ID" [data-stacked] data-label="…"> gets a
// canvas; columns whose <th> carries data-series become data sets. Without JavaScript
// the figures stay hidden and the tables carry everything.
(function () {
  "use strict";

  // Okabe-Ito colours: distinguishable with the common colour-vision deficiencies
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
  var SINGLE = "#00557f";

  function readTable(table) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells, 1);
    var series = [];
    headers.forEach(function (th, index) {
      if (th.hasAttribute("data-series")) {
        series.push({ name: th.textContent.trim(), column: index, values: [] });
      }
    });
    var labels = [];
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var cells = row.cells;
      if (cells[0].tagName !== "TH") {
        return; // the "nothing to count" row
      }
      labels.push(cells[0].textContent.trim());
      series.forEach(function (s) {
        var cell = cells[s.column + 1];
        s.values.push(cell ? Number(cell.getAttribute("data-value")) : 0);
      });
    });
    return { labels: labels, series: series };
  }

  // long category labels break into lines instead of being cut off at the canvas edge
  function wrap(label, width) {
    var lines = [];
    var line = "";
    label.split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    lines.push(line);
    return lines.length > 1 ? lines : label;
  }

  function draw(figure) {
    var table = document.getElementById(figure.getAttribute("data-table"));
    if (!table) {
      return;
    }
    var data = readTable(table);
    if (!data.labels.length) {
      return;
    }
    var horizontal = figure.getAttribute("data-chart") === "hbar";
    var stacked = figure.hasAttribute("data-stacked");
    var several = data.series.length > 1;
    var labels = horizontal ? data.labels.map(function (l) { return wrap(l, 28); }) : data.labels;
    var lines = labels.reduce(function (n, l) { return n + (Array.isArray(l) ? l.length : 1); }, 0);
    var legend = several ? Math.ceil(data.series.length / 3) * 24 : 0;
    var area = figure.querySelector(".chart-area");
    // room per bar (and label line) for horizontal charts, a fixed height for vertical ones
    area.style.height = (horizontal ? Math.max(160, lines * 16 + data.labels.length * 14 + 60 + legend) : 380) + "px";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", figure.getAttribute("data-label"));
    area.appendChild(canvas);
    figure.hidden = false;

    var countAxis = { beginAtZero: true, stacked: stacked, ticks: { precision: 0 } };
    var labelAxis = { stacked: stacked, ticks: { autoSkip: !horizontal } };
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: data.series.map(function (s, i) {
          return {
            label: s.name,
            data: s.values,
            backgroundColor: several ? PALETTE[i % PALETTE.length] : SINGLE,
            borderColor: "#ffffff",
            borderWidth: several ? 1 : 0
          };
        })
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: horizontal ? { x: countAxis, y: labelAxis } : { x: labelAxis, y: countAxis },
        plugins: {
          legend: { display: several, position: "bottom" },
          tooltip: { mode: stacked ? "index" : "nearest", intersect: !stacked }
        }
      }
    });
  }

  function start() {
    if (!window.Chart) {
      return;
    }
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = "#1b1b1b";
    document.querySelectorAll("figure[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
