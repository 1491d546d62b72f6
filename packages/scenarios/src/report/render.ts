import type { ScenarioResult } from '../scenario.js';
import { reportAssets } from './assets.js';
import { CLIENT_SCRIPT } from './client.js';
import { type ReportSeries, reportSeries } from './data.js';
import { topologyViews } from './topology.js';

/** What a report shows besides the result itself. */
export interface ReportOptions {
  /** The scenario's description (a result does not carry it). */
  description?: string | undefined;
}

/**
 * Writes a self-contained HTML report of a scenario result to `sink`, in chunks: header, parameters,
 * outcome and checks as HTML tables (every string escaped), the time series as JSON in a
 * `<script type="application/json">` block drawn by inlined uPlot. Same result, same bytes; `wallMs`
 * is not shown.
 *
 * @param result - a result as `runScenario` returns it or as `dsim run --json --detail` saved it
 * @example
 * ```ts
 * const chunks: string[] = [];
 * writeReport(runScenario(mmc, { seed: 1 }), {}, (c) => chunks.push(c));
 * ```
 */
export function writeReport(
  result: ScenarioResult,
  options: ReportOptions,
  sink: (chunk: string) => void,
): void {
  const assets = reportAssets();
  const series = reportSeries(result);
  const windows = reportWindows(result);
  const name = escapeHtml(result.scenario);
  sink(
    `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>dsim report: ${name}</title>\n<style>${assets.style}</style>\n<style>${PAGE_STYLE}</style>\n</head>\n<body>\n`,
  );
  sink(`<header>\n<h1>${name}</h1>\n`);
  if (options.description !== undefined && options.description !== '')
    sink(`<p class="description">${escapeHtml(options.description)}</p>\n`);
  sink(
    `<table class="run">\n${[
      ['seed', escapeHtml(result.seed)],
      ['digest', `<code>${escapeHtml(result.digest)}</code>`],
      ['reproduce', `<code>${escapeHtml(result.reproduce)}</code>`],
    ]
      .map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`)
      .join('\n')}\n</table>\n</header>\n`,
  );
  // What people look at first (verdicts, the picture, the charts) before the long tables.
  sink(paramsSection(result));
  sink(checksSection(result));
  sink(topologySection(result));
  sink(windowsSection(windows));
  sink(chartsSection(series, windows.faults.length > 0, windows.phases.length > 0));
  sink(outcomeSection(result));
  sink(
    `<script type="application/json" id="dsim-data">${jsonForScript({ series, windows })}</script>\n<script>${assets.script}</script>\n<script>${CLIENT_SCRIPT}</script>\n</body>\n</html>\n`,
  );
}

/**
 * The report as one string (see {@link writeReport}).
 *
 * @example
 * ```ts
 * const html = renderReport(result, { description: 'M/M/c queue' });
 * ```
 */
export function renderReport(result: ScenarioResult, options: ReportOptions = {}): string {
  const chunks: string[] = [];
  writeReport(result, options, (c) => chunks.push(c));
  return chunks.join('');
}

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<script>'); // '&lt;script&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON for a `<script type="application/json">` block: every `<` escaped as `\u003c`, so no value
 * can close the block or open a comment; `JSON.parse` reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

/** Columns of the tables: the variants, or the run itself for a scenario without variants. */
function columns(result: ScenarioResult) {
  if (result.variants.length > 0) return result.variants;
  return [
    {
      name: 'run',
      params: result.params,
      outcome: result.outcome,
      metrics: result.metrics,
      simulatedMs: result.simulatedMs,
      events: result.events,
      digest: result.digest,
    },
  ];
}

function paramsSection(result: ScenarioResult): string {
  const cols = columns(result);
  const keys = unique([...Object.keys(result.params), ...cols.flatMap((c) => Object.keys(c.params))]);
  const rows = keys.map((k) => {
    const cells = cols.map((c) => {
      const v = Object.hasOwn(c.params, k) ? c.params[k] : result.params[k];
      const differs = formatValue(v) !== formatValue(result.params[k]);
      return `<td${differs ? ' class="differs"' : ''}>${escapeHtml(formatValue(v))}</td>`;
    });
    return `<tr><th>${escapeHtml(k)}</th>${cells.join('')}</tr>`;
  });
  return `<section id="params">\n<h2>Parameters</h2>\n${table(cols, rows)}</section>\n`;
}

/** Outcome tables longer than this are folded (a `<details>` element). */
const OUTCOME_OPEN_ROWS = 40;

function outcomeSection(result: ScenarioResult): string {
  const cols = columns(result);
  const keys = unique(cols.flatMap((c) => Object.keys(c.outcome)));
  const outcome = keys.map(
    (k) =>
      `<tr><th>${escapeHtml(k)}</th>${cols.map((c) => `<td>${escapeHtml(formatValue(c.outcome[k]))}</td>`).join('')}</tr>`,
  );
  const figures: [string, (c: (typeof cols)[number]) => unknown][] = [
    ['simulated time (s)', (c) => c.simulatedMs / 1000],
    ['events', (c) => c.events],
    ...flatMetrics(cols.map((c) => c.metrics)).map(
      ([label, get]) =>
        [label, (c: (typeof cols)[number]) => get(c.metrics)] as [string, (c: any) => unknown],
    ),
    ['digest', (c) => c.digest],
  ];
  const run = figures.map(
    ([label, get]) =>
      `<tr><th>${escapeHtml(label)}</th>${cols.map((c) => `<td>${escapeHtml(formatValue(get(c)))}</td>`).join('')}</tr>`,
  );
  // A system scenario measures hundreds of figures: past a screenful they fold away.
  const body =
    outcome.length === 0
      ? '<p class="note">The scenario reported no outcome.</p>\n'
      : outcome.length > OUTCOME_OPEN_ROWS
        ? `<details class="outcome"><summary>${outcome.length} figures</summary>\n${table(cols, outcome)}</details>\n`
        : table(cols, outcome);
  return `<section id="outcome">\n<h2>Outcome</h2>\n${body}<h3>Requests and run figures</h3>\n${table(cols, run)}</section>\n`;
}

/** Rows for the metrics object: `requests`, `latencyMs.p99`, ... in the order of the first variant. */
function flatMetrics(all: readonly object[]): [string, (m: object) => unknown][] {
  const rows: [string, (m: object) => unknown][] = [];
  const first = (all[0] ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(first)) {
    if (v !== null && typeof v === 'object') {
      for (const k2 of Object.keys(v))
        rows.push([`${k}.${k2}`, (m) => ((m as Record<string, any>)[k] ?? undefined)?.[k2]]);
    } else rows.push([k, (m) => (m as Record<string, unknown>)[k]]);
  }
  return rows;
}

function checksSection(result: ScenarioResult): string {
  const passed = result.checks.filter((c) => c.pass).length;
  const head = `<h2>Checks <span class="summary">${passed} of ${result.checks.length} passed</span></h2>\n`;
  if (result.checks.length === 0)
    return `<section id="checks">\n${head}<p class="note">The scenario has no checks.</p>\n</section>\n`;
  const rows = result.checks.map(
    (c) =>
      `<tr class="${c.pass ? 'pass' : 'fail'}"><td class="status">${c.pass ? 'pass' : 'FAIL'}</td><td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.detail)}</td></tr>`,
  );
  return `<section id="checks">\n${head}<table class="checks">\n<thead><tr><th>result</th><th>check</th><th>detail</th></tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>\n</section>\n`;
}

function chartsSection(series: ReportSeries | null, faults: boolean, phases: boolean): string {
  if (series === null)
    return `<section id="series">\n<h2>Time series</h2>\n<p class="note">This result carries no time series: it was saved without <code>--detail</code> (save it with <code>dsim run NAME --json --detail &gt; result.json</code>), or nothing in the scenario recorded metrics.</p>\n</section>\n`;
  const notes = [
    `One point per ${formatValue(series.intervalMs * series.merged)} ms of simulated time${
      series.merged > 1
        ? ` (${series.merged} intervals of ${formatValue(series.intervalMs)} ms merged per point: counters summed, gauge means averaged, p50 weighted by sample count, p99 the maximum)`
        : ''
    }; one line per variant. Hover a chart to read its values; drag to zoom, double-click to reset.`,
    faults
      ? 'Fault windows are shaded red (every variant&#39;s; listed in the table above).'
      : 'The run injected no faults: nothing is shaded red.',
    ...(phases ? ['The grey bands are the measurement phases, named at the top of each chart.'] : []),
    ...(series.omitted > 0
      ? [
          `${series.omitted} per-node metric${series.omitted === 1 ? ' is' : 's are'} zero throughout and not drawn.`,
        ]
      : []),
  ];
  return `<section id="series">\n<h2>Time series</h2>\n${notes.map((n) => `<p class="note">${n}</p>\n`).join('')}<div id="overview" class="charts"></div>\n${
    series.overview.length === 0
      ? '<p class="note">No request metrics (client.* or rpc.*) were recorded; see the nodes below.</p>\n'
      : ''
  }<h3>Per node</h3>\n<div id="nodes"></div>\n<noscript><p class="note">The charts need JavaScript.</p></noscript>\n</section>\n`;
}

/** The topology drawn per variant and phase, with a chooser; nothing when the result has no topology. */
function topologySection(result: ScenarioResult): string {
  const views = topologyViews(result);
  if (views.length === 0) return '';
  const variants = unique(views.map((v) => v.variant));
  const phases = unique(views.map((v) => v.phase));
  const select = (id: string, label: string, options: string[]) =>
    `<label>${label} <select id="${id}">${options.map((o) => `<option value="${escapeHtml(o)}">${escapeHtml(o)}</option>`).join('')}</select></label>`;
  const figures = views.map(
    (v, i) =>
      `<figure class="topology" data-variant="${escapeHtml(v.variant)}" data-phase="${escapeHtml(v.phase)}"${i === 0 ? '' : ' hidden'}>\n<figcaption>${escapeHtml(v.variant)}, phase ${escapeHtml(v.phase)}</figcaption>\n${v.svg}</figure>`,
  );
  return `<section id="topology">\n<h2>Topology</h2>\n<p class="note">Who calls whom, with each edge&#39;s calls per second (every attempt) and error rate, and each node&#39;s health in the chosen phase: clients by availability and p99, services and databases by utilisation (ρ), error rate and cache hit ratio. Red: errors of 1% or more (availability below 99%); amber: 0.1% or more, or ρ of 0.9 or more.</p>\n<div class="controls">${variants.length > 1 ? select('topology-variant', 'variant', variants) : ''}${select('topology-phase', 'phase', phases)}</div>\n${figures.join('\n')}\n</section>\n`;
}

/** Fault and phase windows of a report, in simulated seconds. */
export interface ReportWindows {
  /** Every variant's fault windows, deduplicated, by start; `to` null: to the end of the run. */
  faults: { label: string; from: number; to: number | null }[];
  /** The headline variant's phases. */
  phases: { name: string; from: number; to: number }[];
}

/**
 * The windows a report shades on its charts and lists in its tables.
 *
 * @example
 * ```ts
 * reportWindows(result).faults; // [{ label: 'pause server', from: 10, to: 12 }]
 * ```
 */
export function reportWindows(result: ScenarioResult): ReportWindows {
  const parts = result.variants.length === 0 ? [result] : result.variants;
  const seen = new Set<string>();
  const faults: ReportWindows['faults'] = [];
  for (const part of parts)
    for (const f of part.faults ?? []) {
      const w = { label: f.label, from: f.fromMs / 1000, to: f.toMs === null ? null : f.toMs / 1000 };
      const key = JSON.stringify(w);
      if (seen.has(key)) continue;
      seen.add(key);
      faults.push(w);
    }
  faults.sort((a, b) => a.from - b.from);
  const phases = (result.phases ?? []).map((p) => ({
    name: p.name,
    from: p.fromMs / 1000,
    to: p.toMs / 1000,
  }));
  return { faults, phases };
}

/** The faults and phases as tables; nothing when there are neither. */
function windowsSection(w: ReportWindows): string {
  if (w.faults.length === 0 && w.phases.length === 0) return '';
  const s = (v: number | null) => (v === null ? 'end of run' : `${formatValue(v)} s`);
  const rows = (items: { label?: string; name?: string; from: number; to: number | null }[]) =>
    items
      .map(
        (x) =>
          `<tr><td>${escapeHtml(x.label ?? x.name ?? '')}</td><td>${s(x.from)}</td><td>${s(x.to)}</td></tr>`,
      )
      .join('\n');
  const faults =
    w.faults.length === 0
      ? '<p class="note">No faults were injected.</p>\n'
      : `<table class="faults">\n<thead><tr><th>fault</th><th>from</th><th>to</th></tr></thead>\n<tbody>\n${rows(w.faults)}\n</tbody>\n</table>\n`;
  const phases =
    w.phases.length === 0
      ? ''
      : `<h3>Phases</h3>\n<table class="phases">\n<thead><tr><th>phase</th><th>from</th><th>to</th></tr></thead>\n<tbody>\n${rows(w.phases)}\n</tbody>\n</table>\n`;
  return `<section id="windows">\n<h2>Faults and phases</h2>\n${faults}${phases}</section>\n`;
}

function table(cols: readonly { name: string }[], rows: string[]): string {
  const head = `<thead><tr><th></th>${cols.map((c) => `<th>${escapeHtml(c.name)}</th>`).join('')}</tr></thead>`;
  return `<table>\n${head}\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>\n`;
}

/** A table cell: numbers to six significant digits, null and missing as `-`. */
function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

/** The report pages' own stylesheet (the sweep report shares it). */
export const PAGE_STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0 auto; padding: 16px 24px 48px; max-width: 1240px; }
h1 { margin: 8px 0 4px; font-size: 24px; }
h2 { margin: 28px 0 8px; font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { margin: 18px 0 6px; font-size: 15px; }
.description { margin: 0 0 12px; color: #444; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { background: #f4f4f4; }
tbody th { font-weight: 500; background: #fafafa; }
td { font-variant-numeric: tabular-nums; }
table.run th { width: 90px; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
td.differs { background: #fff6d6; }
tr.pass td.status { color: #17702b; font-weight: 600; }
tr.fail td.status { color: #b00020; font-weight: 700; }
tr.fail td { background: #fdecee; }
.summary { font-weight: normal; font-size: 14px; color: #555; margin-left: 8px; }
.note { color: #555; margin: 4px 0; }
figure.chart { margin: 12px 0 18px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
details.node { margin: 6px 0; }
details.node summary { cursor: pointer; font-weight: 600; }
details.outcome summary { cursor: pointer; color: #333; margin: 4px 0; }
details.node .count { font-weight: normal; color: #666; }
.controls { margin: 8px 0; display: flex; gap: 16px; }
figure.topology { margin: 8px 0 16px; overflow-x: auto; }
figure.topology svg { max-width: 100%; height: auto; }
`;
