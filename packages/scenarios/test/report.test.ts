import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli-main.js';
import { MAX_POINTS, reportSeries } from '../src/report/data.js';
import { escapeHtml, jsonForScript, renderReport } from '../src/report/render.js';
import { validateResult } from '../src/report/validate.js';
import type { ScenarioResult } from '../src/scenario.js';

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'dsim-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hostile = resolve(import.meta.dirname, 'fixtures/hostile.scenario.ts');
const at = (name: string) => join(dir, name);
const DIST_CLI = resolve(import.meta.dirname, '../dist/cli.js');

/** The data block of a page, parsed. */
function dataOf(html: string) {
  const m = /<script type="application\/json" id="dsim-data">(.*?)<\/script>/s.exec(html);
  if (m === null) throw new Error('no data block');
  return JSON.parse(m[1]!);
}

describe('dsim run --report and dsim report', () => {
  it('writes the same bytes for the same seed, and dsim report on the saved JSON writes them too', async () => {
    const a = await cli('run', 'mmc', '--seed', '3', '--set', 'customers=2000', '--report', at('a.html'));
    const b = await cli(
      'run',
      'mmc',
      '--seed',
      '3',
      '--set',
      'customers=2000',
      '--json',
      '--detail',
      '--report',
      at('b.html'),
    );
    expect([a.code, b.code]).toEqual([0, 0]);
    writeFileSync(at('b.json'), b.stdout);
    const c = await cli('report', at('b.json'), '-o', at('c.html'));
    expect(c).toEqual({ code: 0, stdout: '', stderr: '' });
    const html = readFileSync(at('a.html'), 'utf8');
    expect(readFileSync(at('b.html'), 'utf8')).toBe(html);
    expect(readFileSync(at('c.html'), 'utf8')).toBe(html);
    expect(html).toContain('<h1>mmc</h1>');
    expect(html).toContain('dsim run mmc --seed 3 --set customers=2000');
    expect(html).toContain(JSON.parse(b.stdout).digest);
    expect(html).not.toContain('wallMs');
    const other = await cli('run', 'mmc', '--seed', '4', '--set', 'customers=2000', '--report', at('d.html'));
    expect(other.code).toBe(0);
    expect(readFileSync(at('d.html'), 'utf8')).not.toBe(html);
    // Atomic: no temporary file left beside the pages.
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it.runIf(existsSync(DIST_CLI))('the built bin finds uPlot and writes the same page', () => {
    const r = spawnSync(
      process.execPath,
      [DIST_CLI, 'run', 'mmc', '--seed', '3', '--set', 'customers=2000', '--report', at('dist.html')],
      { encoding: 'utf8', cwd: tmpdir() },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(at('dist.html'), 'utf8')).toBe(readFileSync(at('a.html'), 'utf8'));
  });

  it('is self-contained: uPlot and its stylesheet inlined, nothing fetched', () => {
    const html = readFileSync(at('a.html'), 'utf8');
    expect(html).toMatch(/var uPlot=function/);
    expect(html).toMatch(/\.uplot \{/);
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link\b|@import|url\(\s*['"]?https?:/i);
  });

  it('escapes every user string in the file and keeps the data block closed', async () => {
    const r = await cli('run', hostile, '--seed', '1', '--json', '--detail', '--report', at('h.html'));
    expect(r.code).toBe(0);
    const html = readFileSync(at('h.html'), 'utf8');
    expect(html).not.toMatch(/<script>alert|<img|<b |<i>|<!-- /);
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    const data = dataOf(html);
    expect(data.series.variants).toEqual(['<img src=x onerror=alert(2)>', 'plain']);
    expect(data.series.nodes[0].name).toBe('<b onmouseover=alert(4)>node</b>');
    // A name that is only markup, from a saved result: the title and heading escape it too.
    const doc = JSON.parse(r.stdout);
    doc.scenario = '</title><script>alert(1)</script>';
    const page = renderReport(validateResult(doc, 'x'), { description: '<script>alert(8)</script>' });
    expect(page).toContain('<title>dsim report: &#60;/title&#62;&#60;script&#62;alert(1)');
    expect(page).toContain('<p class="description">&#60;script&#62;alert(8)&#60;/script&#62;</p>');
    expect(page).not.toMatch(/<script>alert/);
  });

  it('escapeHtml and jsonForScript leave nothing that could open a tag', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;',
    );
    const value = { s: '</script><!-- \u2028 <b>' };
    const json = jsonForScript(value);
    expect(json).not.toContain('<');
    expect(JSON.parse(json)).toEqual(value);
  });

  it('charts goodput, offered load, errors and latency per variant, and each node metric', async () => {
    const r = await cli('run', 'retry-storm', '--seed', '1', '--json', '--detail');
    expect(r.code).toBe(0);
    const series = reportSeries(JSON.parse(r.stdout))!;
    expect(series.variants).toEqual([
      'naive',
      'backoff-jitter',
      'retry-budget',
      'drop-expired',
      'circuit-breaker',
    ]);
    expect(series.overview.map((c) => c.title)).toEqual([
      'Goodput: client.ok at client (per s)',
      'Offered load: client.requests at client (per s)',
      'Errors: client.failed at client (per s)',
      'Latency p50: client.latency at client (ms)',
      'Latency p99: client.latency at client (ms)',
    ]);
    for (const c of series.overview) {
      expect(c.values).toHaveLength(5);
      for (const line of c.values) expect(line).toHaveLength(series.x.length);
    }
    const doc = JSON.parse(r.stdout);
    // One point per interval: the goodput line is client.ok per second, nulls past a variant's end.
    const ok = doc.variants[2].series.nodes.client.counters['client.ok'];
    expect(series.overview[0]!.values[2]!.slice(0, ok.length)).toEqual(ok);
    expect(series.overview[0]!.values[2]![ok.length]).toBeNull();
    expect(series.nodes.map((n) => n.name).sort()).toEqual(['client', 'server']);
    expect(series.omitted).toBeGreaterThan(0);
  });

  it('merges intervals when a run has more than MAX_POINTS of them', () => {
    const points = MAX_POINTS * 2 + 1;
    const counter = Array.from({ length: points }, () => 2);
    const result = {
      ...minimal(),
      series: {
        start: 0,
        intervalMs: 500,
        points,
        nodes: {
          n: {
            counters: { 'rpc.ok': counter },
            gauges: {},
            histograms: {
              'rpc.latency': {
                count: counter,
                p50: counter.map((_, i) => i % 10),
                p99: counter.map((_, i) => (i === 7 ? 100 : 1)),
              },
            },
          },
        },
      },
    } as unknown as ScenarioResult;
    const s = reportSeries(result)!;
    expect(s.merged).toBe(3);
    expect(s.x.slice(0, 3)).toEqual([0, 1.5, 3]);
    expect(s.x).toHaveLength(Math.ceil(points / 3));
    expect(s.overview[0]!.values[0]![0]).toBe(4); // 3 intervals x 2 in 1.5 s
    expect(s.overview[0]!.values[0]!.at(-1)).toBe(4); // the last point holds 1 interval of 0.5 s
    expect(s.overview.find((c) => c.title.startsWith('Latency p99'))!.values[0]!.slice(1, 4)).toEqual([
      1, 100, 1,
    ]);
    expect(s.overview.find((c) => c.title.startsWith('Latency p50'))!.values[0]![0]).toBe(1);
  });

  it('renders a result saved without --detail, with a note instead of charts', async () => {
    const r = await cli('run', 'mmc', '--seed', '1', '--set', 'customers=500', '--json');
    writeFileSync(at('plain.json'), r.stdout);
    const c = await cli('report', at('plain.json'), '-o', at('plain.html'));
    expect(c.code).toBe(0);
    expect(c.stderr).toMatch(/has no time series \(saved without --detail\?\)/);
    const html = readFileSync(at('plain.html'), 'utf8');
    expect(html).toContain('This result carries no time series');
    expect(dataOf(html)).toEqual({ series: null, windows: { faults: [], phases: [] } });
  });
});

describe('the topology and the fault windows', () => {
  const storm = resolve(import.meta.dirname, '../../../examples/systems/retry-storm.scenario.ts');

  it('draws the system once per phase, with per-edge rates and node health from the outcome', async () => {
    const r = await cli('run', storm, '--seed', '1', '--json', '--detail');
    const result = validateResult(JSON.parse(r.stdout), 'storm.json');
    const html = renderReport(result);
    const figures = [...html.matchAll(/<figure class="topology" data-variant="run" data-phase="([a-z-]+)"/g)];
    expect(figures.map((m) => m[1])).toEqual(['before', 'during', 'after']);
    // Each diagram's edge label is the measured rate and error rate of that phase.
    const labels = [...html.matchAll(/<text class="edge-label"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    const o = result.outcome;
    const text = (phase: string) => {
      const rate = o[`client->server.${phase}.rate`] as number;
      return `${Number(rate.toPrecision(3))}/s · ${(o[`client->server.${phase}.errorRate`] as number) === 0 ? '0%' : ''}`;
    };
    expect(labels[0]!.startsWith(text('before'))).toBe(true);
    expect(labels[2]).toMatch(/ · 100% err$/);
    // Ids are unique across the diagrams: each has its own arrowheads.
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    // The client after the pause: every request fails, drawn red; before it, green.
    expect(html).toMatch(
      /data-phase="after"[\s\S]*?<g class="node kind-clients tone-bad" data-name="client">/,
    );
    expect(html).toMatch(
      /data-phase="before"[\s\S]*?<g class="node kind-clients tone-ok" data-name="client">/,
    );
    expect(dataOf(html).windows).toEqual({
      faults: [{ label: 'pause server', from: 10, to: 12 }],
      phases: [
        { name: 'before', from: 2, to: 10 },
        { name: 'during', from: 10, to: 12 },
        { name: 'after', from: 40, to: 60 },
      ],
    });
    expect(html).toContain('<tr><td>pause server</td><td>10 s</td><td>12 s</td></tr>');
  });

  it('a scenario with faults but no system gets its windows shaded and listed, and no diagram', async () => {
    const r = await cli('run', 'health-checks', '--seed', '1', '--json', '--detail', '--variant', 'passive');
    const html = renderReport(validateResult(JSON.parse(r.stdout), 'r.json'));
    // A crash never undone lasts to the end of the run.
    expect(dataOf(html).windows.faults).toEqual([{ label: 'crash backend-0', from: 10.3, to: null }]);
    expect(html).toContain('<tr><td>crash backend-0</td><td>10.3 s</td><td>end of run</td></tr>');
    expect(html).toContain('Fault windows are shaded red');
    expect(html).not.toContain('<section id="topology">');
  });

  it('a result saved before faults were recorded still renders, with nothing shaded', async () => {
    const r = await cli('run', 'mmc', '--seed', '1', '--set', 'customers=500', '--json', '--detail');
    const doc = JSON.parse(r.stdout);
    delete doc.faults;
    const html = renderReport(validateResult(doc, 'old.json'));
    expect(dataOf(html).windows).toEqual({ faults: [], phases: [] });
    expect(html).toContain('The run injected no faults');
  });

  it('rejects malformed windows and topologies, naming the field', () => {
    const base = minimal();
    expect(() =>
      validateResult({ ...base, faults: [{ label: 1, fromMs: 0, toMs: null }] }, 'x.json'),
    ).toThrow(/x\.json: faults\[0\]\.label must be a string/);
    expect(() => validateResult({ ...base, phases: [{ name: 'a', fromMs: 0 }] }, 'x.json')).toThrow(
      /phases\[0\]\.toMs must be a number/,
    );
    expect(() =>
      validateResult(
        { ...base, topology: { nodes: [], edges: [{ from: 'a', to: 'b', label: 'request' }] } },
        'x.json',
      ),
    ).toThrow(/topology is not a system graph: edges\[0\]\.from: no node named "a"/);
  });
});

describe('dsim report: bad inputs', () => {
  const good = () => JSON.parse(readFileSync(at('b.json'), 'utf8'));
  const bad = async (name: string, doc: unknown) => {
    writeFileSync(at(name), typeof doc === 'string' ? doc : JSON.stringify(doc));
    return cli('report', at(name), '-o', at('out.html'));
  };

  it.each([
    ['missing.json', undefined, /cannot read ".*missing\.json" \(no such file\)/],
    [
      'text.json',
      'not json',
      /text\.json is not JSON \(.*\); save a result with 'dsim run NAME --json --detail/,
    ],
    ['array.json', [], /array\.json: the document must be an object/],
    ['noseed.json', { ...minimal(), seed: 1 }, /noseed\.json: seed must be a string/],
    [
      'check.json',
      { ...minimal(), checks: [{ name: 'x', pass: 'yes', detail: '' }] },
      /check\.json: checks\[0\]\.pass must be true or false/,
    ],
    [
      'series.json',
      {
        ...minimal(),
        series: {
          start: 0,
          intervalMs: 1000,
          points: 3,
          nodes: { a: { counters: { c: [1, 2] }, gauges: {}, histograms: {} } },
        },
      },
      /series\.json: series\.nodes\["a"\]\.counters\["c"\] must be an array of 3 values/,
    ],
  ])('%s', async (name, doc, message) => {
    const r = doc === undefined ? await cli('report', at(name), '-o', at('out.html')) : await bad(name, doc);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(at('out.html'))).toBe(false);
  });

  it('checks every variant', async () => {
    const doc = good();
    doc.variants = [{ ...minimal(), name: 'v', outcome: { x: [1] } }];
    const r = await bad('variant.json', doc);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/variants\[0\]\.outcome\.x must be a number, string, boolean or null/);
  });

  it.each([
    [[], /'report' needs a result file/],
    [['a.json', 'b.json', '-o', 'x.html'], /'report' takes one result file, got 2/],
    [['b.json'], /'report' needs -o FILE\.html/],
    [['b.json', '-o', 'b.json'], /--output ".*b\.json" is the result file itself/],
    [['b.json', '-o', 'x.html', '-o', 'y.html'], /--output is given 2 times/],
    [['b.json', '--out', 'x.html'], /unknown option --out for 'report' \(did you mean --output\?\)/],
    [['b.json', '-o', 'nowhere/x.html'], /--output ".*nowhere\/x\.html": the folder .* does not exist/],
  ])('usage: report %j', async (args, message) => {
    const r = await cli('report', ...args.map((a) => (a.endsWith('.json') || a.includes('/') ? at(a) : a)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('--report paths are checked before the run', async () => {
    const r = await cli('run', 'mmc', '--seed', '1', '--report', at('none/r.html'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--report ".*none\/r\.html": the folder .* does not exist/);
    const same = await cli('run', 'mmc', '--seed', '1', '--metrics', at('m.out'), '--report', at('m.out'));
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/--report ".*m\.out": --metrics writes the same file/);
    const twice = await cli('run', 'mmc', '--seed', '1', '--report', at('1.html'), '--report', at('2.html'));
    expect(twice.stderr).toMatch(/--report is given 2 times/);
  });
});

/** The smallest valid result: no variants, no series. */
function minimal() {
  return {
    scenario: 's',
    seed: '1',
    params: {},
    headline: null,
    simulatedMs: 0,
    events: 0,
    wallMs: 0,
    digest: 'd',
    metrics: { requests: 0, ok: 0, failed: 0, availability: null, latencyMs: { p50: null } },
    nodes: {},
    series: null,
    outcome: {},
    variants: [],
    checks: [],
    reproduce: 'dsim run s --seed 1',
  };
}
