/**
 * The report page's own script: reads the data block (`#dsim-data`) and draws its charts with uPlot.
 * Text goes in through `textContent` only. Per-node charts are drawn when their section is opened.
 */
export const CLIENT_SCRIPT = `(function () {
  'use strict';
  var block = document.getElementById('dsim-data');
  var s = JSON.parse(block.textContent).series;
  if (!s) return;
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  var drawn = [];
  function fmt(v) {
    if (v === null || v === undefined) return '-';
    var a = Math.abs(v);
    return a !== 0 && (a >= 1e7 || a < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function widthOf(box) {
    return Math.max(320, Math.min((box.clientWidth || 960) - 8, 1200));
  }
  function draw(box, c) {
    var fig = el('figure', 'chart');
    fig.appendChild(el('figcaption', '', c.title));
    box.appendChild(fig);
    var series = [{ label: 'time (s)', value: function (u, v) { return v === null || v === undefined ? '-' : v + ' s'; } }];
    for (var i = 0; i < s.variants.length; i++) {
      series.push({
        label: s.variants[i],
        stroke: palette[i % palette.length],
        width: 1.5,
        value: function (u, v) { return fmt(v); },
      });
    }
    var opts = {
      width: widthOf(box),
      height: 220,
      scales: { x: { time: false } },
      series: series,
      axes: [
        { label: 'simulated time (s)' },
        { label: c.unit, size: 64, values: function (u, vals) { return vals.map(fmt); } },
      ],
      legend: { live: true },
    };
    drawn.push({ plot: new uPlot(opts, [s.x].concat(c.values), fig), box: box });
  }
  var overview = document.getElementById('overview');
  for (var i = 0; i < s.overview.length; i++) draw(overview, s.overview[i]);
  var nodes = document.getElementById('nodes');
  s.nodes.forEach(function (node) {
    if (node.charts.length === 0) return;
    var details = el('details', 'node');
    var summary = el('summary', '', node.name);
    summary.appendChild(el('span', 'count', ' (' + node.charts.length + ' charts)'));
    details.appendChild(summary);
    var box = el('div', 'charts');
    details.appendChild(box);
    details.addEventListener('toggle', function () {
      if (!details.open || box.childNodes.length > 0) return;
      node.charts.forEach(function (c) { draw(box, c); });
    });
    nodes.appendChild(details);
  });
  var pending = 0;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      drawn.forEach(function (d) { d.plot.setSize({ width: widthOf(d.box), height: 220 }); });
    }, 100);
  });
})();
`;
