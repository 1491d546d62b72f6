/**
 * The report page's own script: reads the data block (`#dsim-data`) and draws its charts with uPlot.
 * Text goes in through `textContent` only. Per-node charts are drawn when their section is opened.
 */
export const CLIENT_SCRIPT = `(function () {
  'use strict';
  var block = document.getElementById('dsim-data');
  var data = JSON.parse(block.textContent);
  var s = data.series;
  var windows = data.windows || { faults: [], phases: [] };
  var pickVariant = document.getElementById('topology-variant');
  var pickPhase = document.getElementById('topology-phase');
  function showTopology() {
    var v = pickVariant ? pickVariant.value : null;
    var p = pickPhase ? pickPhase.value : null;
    var figs = document.querySelectorAll('figure.topology');
    for (var i = 0; i < figs.length; i++) {
      var f = figs[i];
      f.hidden = !((v === null || f.getAttribute('data-variant') === v) && (p === null || f.getAttribute('data-phase') === p));
    }
  }
  if (pickVariant) pickVariant.addEventListener('change', showTopology);
  if (pickPhase) pickPhase.addEventListener('change', showTopology);
  if (pickVariant || pickPhase) showTopology();
  if (!s) return;
  // Phases as grey bands named at the top, faults as red bands: under the lines, inside the plot area.
  function shade(u) {
    var ctx = u.ctx;
    var top = u.bbox.top;
    var height = u.bbox.height;
    var right = u.bbox.left + u.bbox.width;
    function band(from, to, fill) {
      var x0 = Math.max(u.bbox.left, u.valToPos(from, 'x', true));
      var x1 = Math.min(right, to === null ? right : u.valToPos(to, 'x', true));
      if (x1 < x0) return null;
      ctx.fillStyle = fill;
      ctx.fillRect(x0, top, Math.max(x1 - x0, 1), height);
      return x0;
    }
    ctx.save();
    ctx.font = Math.round(11 * devicePixelRatio) + 'px sans-serif';
    ctx.textBaseline = 'top';
    windows.phases.forEach(function (p, i) {
      var x = band(p.from, p.to, i % 2 === 0 ? 'rgba(120,120,120,0.10)' : 'rgba(120,120,120,0.05)');
      if (x === null) return;
      ctx.fillStyle = '#555';
      ctx.fillText(p.name, x + 4, top + 3);
    });
    windows.faults.forEach(function (f) { band(f.from, f.to, 'rgba(214,39,40,0.16)'); });
    ctx.restore();
  }
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
      hooks: { drawClear: [shade] },
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
