/* The console dashboard's charts (mediation/templates/admin/dashboard.html).
 * Data: the JSON of workflows.stats.dispute_stats, in <script id="dashboard-data">.
 * Library: Chart.js, served from ./vendor/chart.js/ (no CDN). */
(function () {
  "use strict";

  var PALETTE = ["#417690", "#e0b84c", "#ba2121", "#2e7d32", "#7b5ea7", "#d9772b",
                 "#5aa1c4", "#8c8c8c", "#c2185b", "#00897b"];
  var charts = {};

  function colours(n) {
    var out = [];
    for (var i = 0; i < n; i++) out.push(PALETTE[i % PALETTE.length]);
    return out;
  }

  function pluck(rows, key) {
    return rows.map(function (row) { return row[key]; });
  }

  var empty = [];

  // A chart with nothing to draw (no labels, or every value 0) says so instead of drawing
  // empty axes.
  function hasData(config) {
    var data = config.data || {};
    var sets = data.datasets || [];
    if (!data.labels || data.labels.length === 0) return false;
    return sets.some(function (set) {
      return set.data.some(function (value) {
        return value !== null && (value !== 0 || config.zeroIsData);
      });
    });
  }

  function sayEmpty(canvas) {
    canvas.hidden = true;
    var note = document.createElement("p");
    note.className = "chart-empty";
    note.textContent = "No data for this period yet.";
    canvas.parentNode.classList.add("is-empty");
    canvas.parentNode.appendChild(note);
    empty.push(canvas.id);
  }

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    if (!hasData(config)) {
      sayEmpty(canvas);
      return;
    }
    delete config.zeroIsData;
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    charts[id] = new window.Chart(canvas, config);
  }

  function bars(id, labels, data, label, extra) {
    draw(id, Object.assign({
      type: "bar",
      data: { labels: labels, datasets: [{ label: label, data: data, backgroundColor: PALETTE[0] }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    }, extra || {}));
  }

  function doughnut(id, labels, data) {
    draw(id, {
      type: "doughnut",
      data: { labels: labels, datasets: [{ data: data, backgroundColor: colours(data.length) }] },
      options: { plugins: { legend: { position: "right" } } }
    });
  }

  function fractionDigits(currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency })
        .resolvedOptions().maximumFractionDigits;
    } catch (e) {
      return 2;
    }
  }

  function render(stats) {
    bars("chart-opened-per-week", pluck(stats.opened_per_week, "week"),
         pluck(stats.opened_per_week, "count"), "Disputes opened");

    draw("chart-by-reason", {
      type: "bar",
      data: { labels: pluck(stats.by_reason, "label"),
              datasets: [{ label: "Disputes", data: pluck(stats.by_reason, "count"), backgroundColor: PALETTE[0] }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
    });

    bars("chart-by-state", pluck(stats.by_state, "label"), pluck(stats.by_state, "count"), "Disputes");

    doughnut("chart-outcomes", pluck(stats.outcomes, "label"), pluck(stats.outcomes, "count"));

    var alone = stats.without_platform;
    var withPlatform = alone.closed - alone.resolved;
    doughnut("chart-without-platform",
             pluck(alone.by_outcome, "label").concat(["Reached the platform"]),
             pluck(alone.by_outcome, "count").concat([withPlatform]));

    bars("chart-escalation-reasons", pluck(stats.escalation_reasons, "label"),
         pluck(stats.escalation_reasons, "count"), "Escalations");

    bars("chart-sla-breaches", pluck(stats.sla.breaches_per_week, "week"),
         pluck(stats.sla.breaches_per_week, "count"), "SLA breaches flagged",
         { data: { labels: pluck(stats.sla.breaches_per_week, "week"),
                   datasets: [{ label: "SLA breaches flagged", data: pluck(stats.sla.breaches_per_week, "count"),
                                backgroundColor: PALETTE[2] }] } });

    // Refunds: one bar per currency, stacked by funder, in major units of the currency.
    var currencies = [], funders = [];
    stats.refunds.forEach(function (row) {
      if (currencies.indexOf(row.currency) < 0) currencies.push(row.currency);
      if (funders.indexOf(row.funded_by) < 0) funders.push(row.funded_by);
    });
    draw("chart-refunds", {
      type: "bar",
      data: {
        labels: currencies,
        datasets: funders.map(function (funder, i) {
          return {
            label: "Funded by " + funder,
            backgroundColor: PALETTE[i % PALETTE.length],
            data: currencies.map(function (currency) {
              var total = 0;
              stats.refunds.forEach(function (row) {
                if (row.currency === currency && row.funded_by === funder) total += row.amount;
              });
              return total / Math.pow(10, fractionDigits(currency));
            })
          };
        })
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
    });

    draw("chart-feedback", {
      type: "bar",
      data: {
        labels: stats.feedback.map(function (row) {
          return row.label + (row.average === null ? "" : " (avg " + row.average + ")");
        }),
        datasets: [1, 2, 3, 4, 5].map(function (rating) {
          return {
            label: rating + (rating === 1 ? " star" : " stars"),
            backgroundColor: ["#ba2121", "#d9772b", "#e0b84c", "#7cb342", "#2e7d32"][rating - 1],
            data: stats.feedback.map(function (row) { return row.distribution[rating - 1]; })
          };
        })
      },
      options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } } }
    });

    // Per shop (the 10 with the highest dispute rate): two measures, two charts, each on
    // its own percentage axis.
    var percent = { beginAtZero: true, ticks: { callback: function (v) { return Math.round(v * 100) + "%"; } } };
    draw("chart-shops", {
      type: "bar",
      data: {
        labels: pluck(stats.shops, "name"),
        datasets: [{ label: "Orders disputed", data: pluck(stats.shops, "dispute_rate"), backgroundColor: PALETTE[0] }]
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: percent } }
    });
    // Only the shops with a ruling have a share (0 % against is a figure; no ruling is none).
    var ruled = stats.shops.filter(function (row) { return row.ruled_against_share !== null; });
    draw("chart-shops-ruled", {
      type: "bar",
      zeroIsData: true,
      data: {
        labels: pluck(ruled, "name"),
        datasets: [{ label: "Rulings against the shop", data: pluck(ruled, "ruled_against_share"), backgroundColor: PALETTE[2] }]
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: Object.assign({}, percent, { max: 1 }) } }
    });
  }

  function start() {
    var node = document.getElementById("dashboard-data");
    if (!node || !window.Chart) return;
    render(JSON.parse(node.textContent));
    var dashboard = document.getElementById("dashboard");
    dashboard.setAttribute("data-charts-empty", empty.length);
    dashboard.setAttribute("data-charts-ready", Object.keys(charts).length + empty.length);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.mediationDashboard = { charts: charts, empty: empty };
})();
