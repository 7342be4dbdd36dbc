/* Draws the charts of a page with Chart.js from their JSON (see microblog/charts.py), and fills in each
 * chart's text alternatives: the summary as the canvas's label, and the data as a table. Where a page
 * shows the server's picture of a chart and leaves Chart.js out (the profile), only the alternatives.
 * Every word comes translated from the server; this script holds no user-visible text. */
(function () {
  "use strict";
  var figures = document.querySelectorAll("[data-chart-url]");
  if (!figures.length) {
    return;
  }
  var root = document.documentElement;
  var locale = root.lang || "en";
  var rtl = root.dir === "rtl";
  var styles = window.getComputedStyle(document.body);
  var rgb = (styles.getPropertyValue("--bs-primary-rgb") || "13, 110, 253").trim();
  var textColor = styles.getPropertyValue("--bs-body-color").trim() || "#212529";

  function shade(alpha) {
    return "rgba(" + rgb + ", " + alpha + ")";
  }

  function baseOptions(data) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      locale: locale,
      color: textColor,
      plugins: {
        legend: { display: false, rtl: rtl },
        tooltip: { rtl: rtl, textDirection: rtl ? "rtl" : "ltr" },
        title: { display: false, text: data.title }
      }
    };
  }

  function seriesChart(canvas, data) {
    var options = baseOptions(data);
    var horizontal = Boolean(data.horizontal);
    var valueAxis = { beginAtZero: true, ticks: { precision: 0 } };
    var labelAxis = { reverse: rtl && !horizontal, ticks: { autoSkip: true, maxRotation: 0 } };
    if (horizontal) {
      options.indexAxis = "y";
      options.scales = { x: Object.assign({ reverse: rtl }, valueAxis), y: labelAxis };
    } else {
      options.scales = { x: labelAxis, y: Object.assign({ position: rtl ? "right" : "left" }, valueAxis) };
    }
    return new window.Chart(canvas, {
      type: data.type === "bar" ? "bar" : "line",
      data: {
        labels: data.labels,
        datasets: [{
          label: data.series,
          data: data.values,
          borderColor: shade(1),
          backgroundColor: data.type === "bar" ? shade(0.7) : shade(0.15),
          fill: data.type !== "bar",
          pointRadius: 0,
          pointHitRadius: 6,
          tension: 0
        }]
      },
      options: options
    });
  }

  // The profile's contribution calendar: one column per week, one row per weekday (Monday first).
  function calendarChart(canvas, data) {
    var first = new Date(data.keys[0] + "T00:00:00Z");
    var offset = (first.getUTCDay() + 6) % 7;
    var max = Math.max.apply(null, data.values.concat([1]));
    var points = data.values.map(function (value, i) {
      return { x: Math.floor((i + offset) / 7), y: (i + offset) % 7, v: value, i: i };
    });
    var weeks = points.length ? points[points.length - 1].x + 1 : 1;
    // Month names above the weeks where a month begins.
    var months = {};
    (data.months || []).forEach(function (month) {
      months[Math.floor((month[0] + offset) / 7)] = month[1];
    });
    var options = baseOptions(data);
    options.scales = {
      x: {
        type: "linear", reverse: rtl, min: -0.5, max: weeks - 0.5, position: "top",
        grid: { display: false }, border: { display: false },
        afterBuildTicks: function (axis) {
          axis.ticks = Object.keys(months).map(function (week) { return { value: Number(week) }; });
        },
        ticks: {
          autoSkip: false, maxRotation: 0, padding: 2, color: textColor,
          callback: function (value) { return months[value] || ""; }
        }
      },
      y: {
        type: "linear", reverse: true, min: -0.5, max: 6.5, offset: false, position: rtl ? "right" : "left",
        grid: { display: false }, border: { display: false },
        // One tick per weekday (the scale would otherwise put them between the rows).
        afterBuildTicks: function (axis) {
          axis.ticks = [0, 1, 2, 3, 4, 5, 6].map(function (value) { return { value: value }; });
        },
        ticks: {
          stepSize: 1,
          callback: function (value) {
            return value % 2 === 0 ? (data.weekdays[value] || "") : "";
          }
        }
      }
    };
    options.plugins.tooltip.callbacks = {
      title: function () { return ""; },
      label: function (item) { return data.tooltips[item.raw.i]; }
    };
    return new window.Chart(canvas, {
      type: "matrix",
      data: {
        datasets: [{
          label: data.series,
          data: points,
          backgroundColor: function (context) {
            var value = context.raw ? context.raw.v : 0;
            return value ? shade(0.3 + 0.7 * value / max) : shade(0.07);
          },
          borderWidth: 0,
          width: function (context) {
            var area = context.chart.chartArea || {};
            return Math.max(1, (area.right - area.left) / weeks - 2);
          },
          height: function (context) {
            var area = context.chart.chartArea || {};
            return Math.max(1, (area.bottom - area.top) / 7 - 2);
          }
        }]
      },
      options: options
    });
  }

  function fillTable(figure, data) {
    var table = figure.querySelector("table");
    if (!table) {
      return;
    }
    var head = table.querySelector("thead tr");
    var body = table.querySelector("tbody");
    head.textContent = "";
    body.textContent = "";
    data.columns.forEach(function (name) {
      var cell = document.createElement("th");
      cell.scope = "col";
      cell.textContent = name;
      head.appendChild(cell);
    });
    var numbers = new Intl.NumberFormat(locale);
    data.labels.forEach(function (label, i) {
      // A year of days is mostly empty: the calendar's table lists only the days with posts.
      if (data.type === "calendar" && !data.values[i]) {
        return;
      }
      var row = document.createElement("tr");
      var name = document.createElement("th");
      name.scope = "row";
      name.textContent = label;
      var value = document.createElement("td");
      value.textContent = numbers.format(data.values[i]);
      row.appendChild(name);
      row.appendChild(value);
      body.appendChild(row);
    });
  }

  function describe(figure, data) {
    var summary = figure.querySelector("[data-chart-summary]");
    if (summary) {
      summary.textContent = data.summary;
    }
    fillTable(figure, data);
  }

  function draw(figure, data) {
    var canvas = figure.querySelector("canvas");
    var picture = figure.querySelector("[data-chart-fallback]");
    describe(figure, data);
    if (!window.Chart) {
      // A page that shows the server's picture of the chart (the profile's calendar) does not load
      // Chart.js at all: the picture stays, now labelled with the summary, and the table is filled.
      picture.setAttribute("alt", data.summary);
      figure.setAttribute("data-chart-drawn", "true");
      return null;
    }
    // With Chart.js, a server picture steps aside for the drawn chart, in the same box.
    if (picture) {
      picture.hidden = true;
    }
    canvas.hidden = false;
    canvas.setAttribute("aria-label", data.summary);
    var chart = data.type === "calendar" ? calendarChart(canvas, data) : seriesChart(canvas, data);
    figure.setAttribute("data-chart-drawn", "true");
    return chart;
  }

  Array.prototype.forEach.call(figures, function (figure) {
    if (!window.Chart && !figure.querySelector("[data-chart-fallback]")) {
      return;  // nothing to draw with, and no picture to describe
    }
    fetch(figure.getAttribute("data-chart-url"), {
      headers: { Accept: "application/json" }, credentials: "same-origin"
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        draw(figure, data);
      })
      .catch(function () {
        figure.setAttribute("data-chart-failed", "true");
        var failed = figure.querySelector("[data-chart-error]");
        if (failed) {
          failed.hidden = false;
        }
      });
  });
})();
