import type { SweepResult } from '../sweep/aggregate.js';
import { reportAssets } from './assets.js';
import { escapeHtml, jsonForScript, PAGE_STYLE } from './render.js';
import { SWEEP_CLIENT_SCRIPT } from './sweep-client.js';

/** One chart of a sweep report: a figure against the swept parameter, one line (and band) per group. */
export interface SweepChart {
  figure: string;
  /** The x values: the swept parameter's values as numbers, or their positions when they are not numbers. */
  x: number[];
  /** The swept parameter's values as given, one per x. */
  labels: string[];
  /** One line per combination of the other swept parameters (`servers=2`), or `all`. */
  lines: { name: string; mean: (number | null)[]; low: (number | null)[]; high: (number | null)[] }[];
}

/** Charts at most; a sweep with more varying figures lists the rest in the table only. */
export const MAX_SWEEP_CHARTS = 60;

/**
 * The charts of a sweep: for every figure whose mean varies across the points, the mean against the
 * first swept parameter with its confidence interval as a band, one line per combination of the other
 * swept parameters. Deterministic. Empty when nothing is swept (one point).
 *
 * @example
 * ```ts
 * sweepCharts(sweep(mmc, { seeds, grid: { servers: [2, 3, 4] } }))[0].figure; // 'meanWait'
 * ```
 */
export function sweepCharts(result: SweepResult): SweepChart[] {
  const keys = Object.keys(result.spec.grid);
  const param = keys[0];
  if (param === undefined) return [];
  const others = keys.slice(1);
  const labels = result.spec.grid[param]!;
  const numeric = labels.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
  const order = labels
    .map((v, i) => ({ v, i }))
    .sort((a, b) => (numeric ? Number(a.v) - Number(b.v) : a.i - b.i));
  const x = order.map((o, i) => (numeric ? Number(o.v) : i));
  const groupOf = (values: Record<string, string>) =>
    others.length === 0 ? 'all' : others.map((k) => `${k}=${values[k]}`).join(',');
  const groups = [...new Set(result.points.map((p) => groupOf(p.values)))];
  const figures: string[] = [];
  for (const p of result.points)
    for (const f of Object.keys(p.figures)) if (!figures.includes(f)) figures.push(f);
  const charts: SweepChart[] = [];
  for (const figure of figures) {
    const means = result.points
      .map((p) => p.figures[figure]?.mean ?? null)
      .filter((m): m is number => m !== null);
    if (means.length < 2 || means.every((m) => m === means[0])) continue;
    const lines = groups.map((name) => {
      const at = (v: string) =>
        result.points.find((p) => p.values[param] === v && groupOf(p.values) === name);
      const pick = (f: (s: NonNullable<SweepResult['points'][number]['figures'][string]>) => number | null) =>
        order.map((o) => {
          const s = at(o.v)?.figures[figure];
          return s === undefined ? null : round(f(s));
        });
      return {
        name,
        mean: pick((s) => s.mean),
        low: pick((s) => s.ci?.low ?? null),
        high: pick((s) => s.ci?.high ?? null),
      };
    });
    charts.push({ figure, x, labels: order.map((o) => o.v), lines });
    if (charts.length === MAX_SWEEP_CHARTS) break;
  }
  return charts;
}

/**
 * A self-contained HTML page of a sweep: the spec and digest, one chart per varying figure against the
 * swept parameter with confidence bands, and a table of every point's figures (mean ± half-width, n).
 * Every string is escaped; the chart data goes in as JSON that cannot close its script block. Same
 * result, same bytes.
 *
 * @example
 * ```ts
 * writeFileSync('sweep.html', renderSweepReport(sweep(mmc, { seeds, grid: { servers: [2, 3, 4] } })));
 * ```
 */
export function renderSweepReport(result: SweepResult & { reproduce?: string }): string {
  const assets = reportAssets();
  const charts = sweepCharts(result);
  const name = escapeHtml(result.spec.scenario);
  const level = `${Math.round(result.spec.confidence * 1000) / 10}%`;
  const grid = Object.entries(result.spec.grid)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v.join(', '))}</td></tr>`)
    .join('\n');
  const fixed = Object.entries(result.spec.set)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  const rows = result.points.flatMap((p) =>
    Object.entries(p.figures).map(
      ([f, s]) =>
        `<tr><td>${escapeHtml(p.id || '(all)')}</td><td>${escapeHtml(f)}</td><td>${s.n}</td><td>${num(s.mean)}</td><td>${s.ci === null ? '-' : `± ${num(s.ci.halfWidth)}`}</td><td>${num(s.sd)}</td><td>${num(s.p50)}</td></tr>`,
    ),
  );
  const failing = result.points.flatMap((p) =>
    p.checks
      .filter((c) => c.passed < c.of)
      .map(
        (c) =>
          `<li>${escapeHtml(p.id || '(all)')}: ${escapeHtml(c.name)}: held in ${c.passed} of ${c.of}</li>`,
      ),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dsim sweep: ${name}</title>
<style>${assets.style}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
<h1>sweep: ${name}</h1>
<table class="run">
<tr><th>points</th><td>${result.points.length}</td></tr>
<tr><th>seeds</th><td>${escapeHtml(seedsText(result.spec.seeds))}</td></tr>
<tr><th>runs</th><td>${result.runs}</td></tr>
<tr><th>confidence</th><td>${level}</td></tr>
<tr><th>digest</th><td><code>${escapeHtml(result.digest)}</code></td></tr>
${result.reproduce === undefined ? '' : `<tr><th>reproduce</th><td><code>${escapeHtml(result.reproduce)}</code></td></tr>\n`}</table>
</header>
<section id="params">
<h2>Parameters</h2>
<table>
${grid}
${fixed}
</table>
</section>
<section id="checks">
<h2>Checks</h2>
${failing.length === 0 ? '<p class="note">Every check held in every replication.</p>' : `<ul>\n${failing.join('\n')}\n</ul>`}
</section>
<section id="series">
<h2>Figures against ${escapeHtml(Object.keys(result.spec.grid)[0] ?? 'the parameter')}</h2>
<p class="note">${charts.length === 0 ? 'Nothing varies across the points: no chart.' : `The mean of each figure over the replications, with its ${level} confidence interval as a band; one line per combination of the other swept parameters. Hover a chart to read its values.`}</p>
<div id="charts" class="charts"></div>
<noscript><p class="note">The charts need JavaScript.</p></noscript>
</section>
<section id="points">
<h2>Every point</h2>
<details class="outcome"><summary>${rows.length} figures</summary>
<table>
<thead><tr><th>point</th><th>figure</th><th>n</th><th>mean</th><th>${level}</th><th>sd</th><th>p50</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</details>
</section>
<script type="application/json" id="dsim-sweep">${jsonForScript({ charts, level })}</script>
<script>${assets.script}</script>
<script>${SWEEP_CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

function seedsText(seeds: readonly string[]): string {
  if (seeds.length <= 6) return seeds.join(', ');
  return `${seeds.slice(0, 3).join(', ')}, …, ${seeds.at(-1)} (${seeds.length})`;
}

function round(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : v === 0 ? 0 : Number(v.toPrecision(6));
}

function num(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}
