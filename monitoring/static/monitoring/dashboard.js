/* The drug-situation dashboard (issue 6): draws every [data-chart] element with ECharts from the
   JSON that monitoring.dashboards assembled and the page carries in
   <script type="application/json" id="dashboard-data"> (Django's json_script). No inline script
   or style anywhere (the CSP forbids both): tooltips are built from text and class names only.

   A data point is {name, value, label, url}: `value` is what the chart draws (null when the
   viewer may not see a count below 5), `label` what it says ("12", "81.6%", "<5"), `url` the
   filtered person list behind the number (absent for viewers who may not open it). In ECharts
   data items the label travels as `shown` (`label` is ECharts' own per-item style option). */
(function () {
  "use strict";

  var source = document.getElementById("dashboard-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var FONT = '-apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", ' +
             '"Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif';
  var PALETTE = ["#206bc4", "#f59f00", "#2fb344", "#d63939", "#ae3ec9", "#17a2b8", "#fd7e14", "#74b816",
                 "#6574cd", "#e83e8c", "#667382", "#0ca678"];
  var instances = [];

  function escapeText(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  // A tooltip line without inline styles: the marker is a span with a palette class.
  function tooltipLines(title, lines) {
    var html = '<div class="chart-tip"><div class="chart-tip-title">' + escapeText(title) + "</div>";
    lines.forEach(function (line) {
      html += '<div class="chart-tip-line"><span class="chart-tip-name">' + escapeText(line[0]) +
              '</span><span class="chart-tip-value">' + escapeText(line[1]) + "</span></div>";
    });
    if (lines.some(function (line) { return line[2]; })) {
      html += '<div class="chart-tip-hint">' + escapeText(data.text.open_list) + "</div>";
    }
    return html + "</div>";
  }

  function base() {
    return {
      color: PALETTE,
      textStyle: { fontFamily: FONT },
      animation: !data.static,
      tooltip: { confine: true, className: "chart-tooltip" },
    };
  }

  function follow(chart) {
    chart.on("click", function (event) {
      var point = event.data;
      if (point && point.url) { window.location.href = point.url; }
    });
  }

  function points(items) {
    return items.map(function (item) {
      return { name: item.name, value: item.value, shown: item.label, url: item.url || null };
    });
  }

  function lineChart(spec) {
    var option = base();
    option.legend = { top: 0, textStyle: { fontFamily: FONT } };
    option.grid = { left: 48, right: 48, top: spec.series.length > 2 ? 60 : 40, bottom: 28 };
    option.xAxis = { type: "category", data: spec.categories, boundaryGap: false };
    option.yAxis = spec.axes.map(function (axis, index) {
      return { type: "value", name: axis, position: index ? "right" : "left", minInterval: 1,
               splitLine: { show: index === 0 }, nameTextStyle: { fontFamily: FONT } };
    });
    option.tooltip.trigger = "axis";
    option.tooltip.formatter = function (params) {
      var title = params.length ? params[0].axisValue : "";
      return tooltipLines(title, params.map(function (p) {
        return [p.seriesName, p.data ? p.data.shown : "—", p.data && p.data.url];
      }));
    };
    option.series = spec.series.map(function (series) {
      return { name: series.name, type: series.bar ? "bar" : "line", yAxisIndex: series.axis || 0,
               smooth: true, connectNulls: false, data: points(series.points), symbolSize: 6,
               barMaxWidth: 18 };
    });
    return option;
  }

  function rankingChart(spec, choice) {
    var ranking = spec.options[choice || 0];
    var items = ranking.items.slice().reverse(); // the first ranked on top
    var option = base();
    option.grid = { left: 8, right: 56, top: 8, bottom: 8, containLabel: true };
    option.xAxis = { type: "value", name: ranking.unit, splitLine: { show: true } };
    option.yAxis = { type: "category", data: items.map(function (item) { return item.name; }),
                     axisTick: { show: false } };
    option.tooltip.trigger = "item";
    option.tooltip.formatter = function (p) {
      return tooltipLines(p.name, [[ranking.name, p.data.shown, p.data.url]].concat(
        p.data.target ? [[data.text.target, p.data.target]] : []));
    };
    option.series = [{
      name: ranking.name, type: "bar", barMaxWidth: 16,
      data: items.map(function (item) {
        var point = points([item])[0];
        point.target = item.target || "";
        point.itemStyle = { color: item.met === false ? "#d63939" : item.met === true ? "#2fb344" : "#206bc4" };
        return point;
      }),
      label: { show: true, position: "right", formatter: function (p) { return p.data.shown; } },
    }];
    return option;
  }

  // A slice keeps the colour of its category (monitoring.dashboards.CATEGORY_COLOURS: high risk
  // red, not recorded grey …) wherever it falls in the ring; others take the palette.
  function slices(items) {
    return points(items).map(function (point, index) {
      var colour = items[index].colour;
      if (colour) { point.itemStyle = { color: colour }; }
      return point;
    });
  }

  function pieChart(spec) {
    var option = base();
    // No legend to page through: every slice is named beside the ring, with its count.
    option.tooltip.trigger = "item";
    option.tooltip.formatter = function (p) {
      return tooltipLines(p.name, [[spec.title, p.data.shown + " (" + p.percent + "%)", p.data.url]]);
    };
    option.series = [{
      name: spec.title, type: "pie", radius: ["30%", "52%"], center: ["50%", "50%"],
      // Empty categories and counts the viewer may not see are left out of the ring.
      avoidLabelOverlap: true, data: slices(spec.items.filter(function (item) { return item.value; })),
      // A name and a count: never cut to "6…" where the ring leaves little room beside it.
      // Labels aligned on the chart's edges and spread over its height: none is pushed off the canvas.
      label: { formatter: function (p) { return p.name + "\n" + p.data.shown; }, overflow: "none",
               lineHeight: 14, fontSize: 11, alignTo: "edge", edgeDistance: 4 },
      labelLine: { length: 8, length2: 6 },
      labelLayout: { hideOverlap: false, moveOverlap: "shiftY" },
    }];
    return option;
  }

  function barChart(spec) {
    var option = base();
    option.grid = { left: 8, right: 16, top: 24, bottom: 8, containLabel: true };
    option.xAxis = { type: "category", data: spec.items.map(function (item) { return item.name; }),
                     axisLabel: { interval: 0 } };
    option.yAxis = { type: "value", minInterval: 1 };
    option.tooltip.trigger = "item";
    option.tooltip.formatter = function (p) { return tooltipLines(p.name, [[spec.title, p.data.shown, p.data.url]]); };
    option.series = [{
      name: spec.title, type: "bar", barMaxWidth: 36, data: points(spec.items),
      label: { show: true, position: "top", formatter: function (p) { return p.data.shown; } },
    }];
    return option;
  }

  // The colour of a tile or region on a light-to-dark blue scale; grey when not shown.
  function shade(value, min, max) {
    if (value === null || value === undefined) { return "#e6e7e9"; }
    var t = max > min ? (value - min) / (max - min) : 0.5;
    var from = [219, 234, 254], to = [30, 64, 175];
    var rgb = from.map(function (c, i) { return Math.round(c + (to[i] - c) * t); });
    return "rgb(" + rgb.join(",") + ")";
  }

  function range(items) {
    var values = items.map(function (item) { return item.value; }).filter(function (v) { return v !== null; });
    return values.length ? [Math.min.apply(null, values), Math.max.apply(null, values)] : [0, 0];
  }

  function mapChart(spec) {
    var option = base();
    var limits = range(spec.items);
    option.tooltip.trigger = "item";
    option.tooltip.formatter = function (p) {
      return p.data ? tooltipLines(p.data.name, [[spec.indicator, p.data.shown, p.data.url]]) : escapeText(p.name);
    };
    if (spec.kind === "map") {
      echarts.registerMap(spec.map_name, spec.geojson);
      option.visualMap = { min: limits[0], max: limits[1], left: 0, bottom: 0, calculable: false,
                           inRange: { color: ["#dbeafe", "#1e40af"] }, text: [spec.unit || "", ""] };
      option.series = [{
        name: spec.indicator, type: "map", map: spec.map_name, nameProperty: "code", roam: false,
        label: { show: true, fontFamily: FONT, fontSize: 11,
                 formatter: function (p) { return p.data ? p.data.short + "\n" + p.data.shown : ""; } },
        data: spec.items.map(function (item) {
          return { name: item.code, short: item.name, value: item.value, shown: item.label, url: item.url || null };
        }),
      }];
      return option;
    }
    // The schematic tile grid: one tile per area in code order, shaded by the value.
    var columns = spec.columns;
    var rows = Math.ceil(spec.items.length / columns);
    option.grid = { left: 4, right: 4, top: 4, bottom: 4 };
    option.xAxis = { type: "value", min: 0, max: columns, show: false };
    option.yAxis = { type: "value", min: 0, max: rows, inverse: true, show: false };
    option.series = [{
      name: spec.indicator, type: "custom",
      data: spec.items.map(function (item, index) {
        return { value: [index % columns, Math.floor(index / columns)], name: item.name,
                 shown: item.label, url: item.url || null };
      }),
      renderItem: function (params, api) {
        var point = spec.items[params.dataIndex];
        var corner = api.coord([api.value(0), api.value(1)]);
        var next = api.coord([api.value(0) + 1, api.value(1) + 1]);
        var width = next[0] - corner[0] - 4, height = next[1] - corner[1] - 4;
        var fill = shade(point.value, limits[0], limits[1]);
        var dark = point.value !== null && limits[1] > limits[0] &&
                   (point.value - limits[0]) / (limits[1] - limits[0]) > 0.5;
        return {
          type: "group",
          children: [
            { type: "rect", shape: { x: corner[0] + 2, y: corner[1] + 2, width: width, height: height, r: 4 },
              style: { fill: fill }, cursor: point.url ? "pointer" : "default" },
            { type: "text", style: { x: corner[0] + 2 + width / 2, y: corner[1] + 2 + height / 2,
                                     text: point.name + "\n" + point.label, align: "center",
                                     verticalAlign: "middle", fill: dark ? "#fff" : "#1d273b",
                                     font: "12px " + FONT, lineHeight: 16 } },
          ],
        };
      },
    }];
    return option;
  }

  var BUILDERS = { line: lineChart, ranking: rankingChart, pie: pieChart, bar: barChart, map: mapChart,
                   tiles: mapChart };

  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var spec = data.charts[element.getAttribute("data-chart")];
    if (!spec) { return; }
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(BUILDERS[spec.kind](spec));
    if (data.links) { follow(chart); }
    element.setAttribute("data-chart-ready", "true");
    instances.push(chart);
    var picker = document.querySelector('[data-ranking-for="' + element.getAttribute("data-chart") + '"]');
    if (picker) {
      picker.addEventListener("change", function () {
        chart.setOption(rankingChart(spec, Number(picker.value)), { replaceMerge: ["series", "yAxis"] });
      });
    }
  });

  window.addEventListener("resize", function () {
    instances.forEach(function (chart) { chart.resize(); });
  });
  document.body.setAttribute("data-charts-ready", String(instances.length));
})();
