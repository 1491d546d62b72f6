/**
 * The sweep report's own script: reads `#dsim-sweep` and draws each figure against the swept parameter
 * with uPlot, the confidence interval as a band under each line. Text goes in through `textContent` only.
 */
export const SWEEP_CLIENT_SCRIPT = `(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('dsim-sweep').textContent);
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  function fmt(v) {
    if (v === null || v === undefined) return '-';
    var a = Math.abs(v);
    return a !== 0 && (a >= 1e7 || a < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
  }
  function fill(hex) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',0.15)';
  }
  var box = document.getElementById('charts');
  var drawn = [];
  function widthOf() {
    return Math.max(320, Math.min((box.clientWidth || 960) - 8, 1200));
  }
  data.charts.forEach(function (c) {
    var fig = document.createElement('figure');
    fig.className = 'chart';
    var cap = document.createElement('figcaption');
    cap.textContent = c.figure;
    fig.appendChild(cap);
    box.appendChild(fig);
    var series = [{ label: 'x', value: function (u, v) { var i = c.x.indexOf(v); return i < 0 ? '-' : c.labels[i]; } }];
    var cols = [c.x];
    var bands = [];
    c.lines.forEach(function (line, i) {
      var color = palette[i % palette.length];
      series.push({ label: line.name, stroke: color, width: 1.5, points: { show: true }, value: function (u, v) { return fmt(v); } });
      series.push({ label: line.name + ' high', stroke: 'transparent', width: 0, points: { show: false }, value: function (u, v) { return fmt(v); } });
      series.push({ label: line.name + ' low', stroke: 'transparent', width: 0, points: { show: false }, value: function (u, v) { return fmt(v); } });
      cols.push(line.mean, line.high, line.low);
      var base = 1 + 3 * i;
      bands.push({ series: [base + 1, base + 2], fill: fill(color) });
    });
    var numericX = c.labels.every(function (v, i) { return Number(v) === c.x[i]; });
    var opts = {
      width: widthOf(),
      height: 240,
      scales: { x: { time: false } },
      series: series,
      bands: bands,
      axes: [
        { incrs: c.x.every(function (v) { return v === Math.round(v); }) ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] : undefined,
          values: function (u, vals) { return vals.map(function (v) { var i = c.x.indexOf(v); return numericX ? fmt(v) : i < 0 ? '' : c.labels[i]; }); } },
        { size: 64, values: function (u, vals) { return vals.map(fmt); } },
      ],
      legend: { live: true },
    };
    drawn.push(new uPlot(opts, cols, fig));
  });
  var pending = 0;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      drawn.forEach(function (p) { p.setSize({ width: widthOf(), height: 240 }); });
    }, 100);
  });
})();
`;
