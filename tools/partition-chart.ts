/**
 * Renders docs/assets/partition-demo.svg: what client c1 saw in the partition demo, from the metrics
 * time series in the scenario result. A docs helper, not part of the library.
 *
 *   pnpm tsx --conditions @dsim/source tools/partition-chart.ts
 */
import { writeFileSync } from 'node:fs';
import { runScenario } from '@dsim/scenarios';
import partition from '../examples/partition-demo/partition.scenario.js';

const result = runScenario(partition, { seed: 1 });
const series = result.series!;
const c1 = series.nodes.c1!;
// Whole seconds only: the last interval is the partial one in which the final responses arrived.
const seconds = Number(result.params.seconds);
const ok = c1.counters['rpc.ok']!.slice(0, seconds);
const failed = c1.counters['rpc.failed']!.slice(0, seconds);
const p99 = c1.histograms['rpc.latency']!.p99.slice(0, seconds);

const W = 720;
const H = 300;
const pad = { l: 50, r: 20, t: 30, b: 40 };
const n = ok.length;
const x = (i: number): number => pad.l + (i / (n - 1)) * (W - pad.l - pad.r);
const yMax = Math.max(...ok, ...failed) * 1.15;
const y = (v: number): number => H - pad.b - (v / yMax) * (H - pad.t - pad.b);
const line = (values: ReadonlyArray<number | null>, color: string): string =>
  `<polyline fill="none" stroke="${color}" stroke-width="2" points="${values.map((v, i) => `${x(i).toFixed(1)},${y(v ?? 0).toFixed(1)}`).join(' ')}"/>`;
const ticks = Array.from({ length: 7 }, (_, i) => i * 5).filter((s) => s < n);
// Point i is the interval [i s, i+1 s).
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<rect x="${x(10)}" y="${pad.t}" width="${x(20) - x(10)}" height="${H - pad.t - pad.b}" fill="#fde2e2"/>
<text x="${(x(10) + x(20)) / 2}" y="${pad.t + 14}" text-anchor="middle" fill="#a33">c1 cut off from r2, r3</text>
<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#333"/>
<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#333"/>
${ticks.map((s) => `<text x="${x(s)}" y="${H - pad.b + 16}" text-anchor="middle">${s}s</text>`).join('\n')}
<text x="${pad.l - 8}" y="${y(0) + 4}" text-anchor="end">0</text>
<text x="${pad.l - 8}" y="${y(Math.round(yMax / 1.15)) + 4}" text-anchor="end">${Math.round(yMax / 1.15)}</text>
${line(ok, '#2a7')}
${line(failed, '#d33')}
<text x="${W - pad.r - 150}" y="${pad.t - 10}" fill="#2a7">calls ok / s</text>
<text x="${W - pad.r - 60}" y="${pad.t - 10}" fill="#d33">failed / s</text>
<text x="${pad.l}" y="${pad.t - 10}">partition-demo, seed ${result.seed}: client c1 (p99 ${Math.max(...p99.map((v) => v ?? 0))} ms at worst)</text>
</svg>
`;
writeFileSync(new URL('../docs/assets/partition-demo.svg', import.meta.url), svg);
process.stdout.write(`wrote docs/assets/partition-demo.svg (${n} points, digest ${result.digest})\n`);
