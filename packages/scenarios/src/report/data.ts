import type { MetricsSeries } from '@dsim/core';
import type { ScenarioResult } from '../scenario.js';
import { ReportInputError } from './validate.js';

/** One chart: a metric over time, one line per variant (null where a variant has no value). */
export interface ReportChart {
  title: string;
  /** Unit of the y axis, e.g. `per s` or `ms`. */
  unit: string;
  /** One array per variant, aligned with {@link ReportSeries.x}. */
  values: (number | null)[][];
}

/** The time series of a result, as the page draws them. */
export interface ReportSeries {
  /** Start of each point, in simulated seconds. */
  x: number[];
  intervalMs: number;
  /** Intervals merged into each point (1 unless the run had more than {@link MAX_POINTS} intervals). */
  merged: number;
  variants: string[];
  /** Request-level charts: goodput, offered load, errors, latency. */
  overview: ReportChart[];
  /** Every non-zero metric of every node. */
  nodes: { name: string; charts: ReportChart[] }[];
  /** Per-node metrics left out because they are zero (or empty) throughout, in every variant. */
  omitted: number;
}

/** Points per chart at most; longer runs merge neighbouring intervals. */
export const MAX_POINTS = 2000;

/** The variants of a result with their series; a scenario without variants is one part, `run`. */
export function resultParts(result: ScenarioResult): { name: string; series: MetricsSeries | null }[] {
  if (result.variants.length === 0) return [{ name: 'run', series: result.series ?? null }];
  return result.variants.map((v) => ({ name: v.name, series: v.series ?? null }));
}

/**
 * The charts of a result, or null when it carries no series (saved without `--detail`, or nothing
 * recorded metrics). Deterministic: same result, same charts.
 *
 * @example
 * ```ts
 * const series = reportSeries(runScenario(retryStorm, { seed: 1 }));
 * ```
 */
export function reportSeries(result: ScenarioResult): ReportSeries | null {
  const parts = resultParts(result);
  const present = parts.map((p) => p.series).filter((s): s is MetricsSeries => s !== null);
  const first = present[0];
  if (first === undefined) return null;
  for (const s of present)
    if (s.intervalMs !== first.intervalMs || s.start !== first.start)
      throw new ReportInputError(
        `the variants' series have different intervals (${first.intervalMs} ms from ${first.start} ms, ${s.intervalMs} ms from ${s.start} ms)`,
      );
  const points = Math.max(...present.map((s) => s.points));
  const merged = Math.max(1, Math.ceil(points / MAX_POINTS));
  const buckets = Math.ceil(points / merged);
  const x = Array.from({ length: buckets }, (_, j) =>
    round((first.start + j * merged * first.intervalMs) / 1000),
  );
  const ctx: Ctx = { series: parts.map((p) => p.series), merged, buckets, intervalMs: first.intervalMs };

  const nodeNames = unique(present.flatMap((s) => Object.keys(s.nodes)));
  let omitted = 0;
  const nodes = nodeNames.map((name) => {
    const metric = <K extends 'counters' | 'gauges' | 'histograms'>(kind: K) =>
      unique(present.flatMap((s) => Object.keys(s.nodes[name]?.[kind] ?? {})));
    const charts = [
      ...metric('counters').map((m) => counterChart(ctx, [name], m, `${m} (per s)`)),
      ...metric('gauges').map((m) => gaugeChart(ctx, name, m)),
      ...metric('histograms').flatMap((m) => ['p50', 'p99'].map((f) => histogramChart(ctx, name, m, f))),
    ].filter((c) => {
      const empty = c.values.every((line) => line.every((v) => v === null || v === 0));
      if (empty) omitted++;
      return !empty;
    });
    return { name, charts };
  });
  return {
    x,
    intervalMs: first.intervalMs,
    merged,
    variants: parts.map((p) => p.name),
    overview: overview(ctx, present, nodeNames),
    nodes,
    omitted,
  };
}

interface Ctx {
  series: (MetricsSeries | null)[];
  merged: number;
  buckets: number;
  intervalMs: number;
}

/** Request-level charts from the first metric of each list that some node records. */
function overview(ctx: Ctx, present: MetricsSeries[], nodeNames: string[]): ReportChart[] {
  const charts: ReportChart[] = [];
  const counter = (label: string, names: string[]) => {
    const name = names.find((m) => present.some((s) => Object.values(s.nodes).some((n) => m in n.counters)));
    if (name === undefined) return;
    const nodes = nodeNames.filter((n) => present.some((s) => s.nodes[n]?.counters[name] !== undefined));
    const where = nodes.length === 1 ? `at ${nodes[0]}` : `summed over ${nodes.length} nodes`;
    charts.push(counterChart(ctx, nodes, name, `${label}: ${name} ${where} (per s)`));
  };
  counter('Goodput', ['client.ok', 'rpc.ok']);
  counter('Offered load', ['client.requests', 'rpc.sent']);
  counter('Errors', ['client.failed', 'rpc.failed']);
  for (const name of ['client.latency', 'rpc.latency']) {
    // Percentiles do not add up over nodes: take the node with the most samples in the first series.
    let best: string | undefined;
    let most = -1;
    for (const n of nodeNames) {
      const h = present.map((s) => s.nodes[n]?.histograms[name]).find((v) => v !== undefined);
      const count = h === undefined ? -1 : h.count.reduce((a, b) => a + b, 0);
      if (count > most) [best, most] = [n, count];
    }
    if (best === undefined || most < 0) continue;
    for (const f of ['p50', 'p99'])
      charts.push({ ...histogramChart(ctx, best, name, f), title: `Latency ${f}: ${name} at ${best} (ms)` });
    break;
  }
  return charts;
}

/** A counter as a rate per second, summed over `nodes`. */
function counterChart(ctx: Ctx, nodes: string[], metric: string, title: string): ReportChart {
  return {
    title,
    unit: 'per s',
    values: ctx.series.map((s) =>
      bucketize(ctx, s, (a, b) => {
        let sum = 0;
        let found = false;
        for (const n of nodes) {
          const c = s?.nodes[n]?.counters[metric];
          if (c === undefined) continue;
          found = true;
          for (let i = a; i < b; i++) sum += c[i]!;
        }
        return found ? sum / (((b - a) * ctx.intervalMs) / 1000) : null;
      }),
    ),
  };
}

/** A gauge's time-weighted mean per interval (averaged over merged intervals). */
function gaugeChart(ctx: Ctx, node: string, metric: string): ReportChart {
  return {
    title: `${metric} (mean level)`,
    unit: 'level',
    values: ctx.series.map((s) =>
      bucketize(ctx, s, (a, b) => {
        const g = s?.nodes[node]?.gauges[metric];
        if (g === undefined) return null;
        let sum = 0;
        for (let i = a; i < b; i++) sum += g.mean[i]!;
        return sum / (b - a);
      }),
    ),
  };
}

/** A histogram's p50 (count-weighted mean when intervals merge) or p99 (maximum when they merge). */
function histogramChart(ctx: Ctx, node: string, metric: string, field: string): ReportChart {
  return {
    title: `${metric} ${field} (ms)`,
    unit: 'ms',
    values: ctx.series.map((s) =>
      bucketize(ctx, s, (a, b) => {
        const h = s?.nodes[node]?.histograms[metric];
        if (h === undefined) return null;
        const q = field === 'p50' ? h.p50 : h.p99;
        let best: number | null = null;
        let weighted = 0;
        let count = 0;
        for (let i = a; i < b; i++) {
          const v = q[i];
          if (v === null || v === undefined) continue;
          best = best === null ? v : Math.max(best, v);
          weighted += v * h.count[i]!;
          count += h.count[i]!;
        }
        if (field === 'p50' && count > 0) return weighted / count;
        return best;
      }),
    ),
  };
}

/** One value per point: `value(a, b)` over the intervals [a, b) of `s`; null past its end. */
function bucketize(
  ctx: Ctx,
  s: MetricsSeries | null,
  value: (a: number, b: number) => number | null,
): (number | null)[] {
  const out: (number | null)[] = [];
  for (let j = 0; j < ctx.buckets; j++) {
    const a = j * ctx.merged;
    const b = Math.min(a + ctx.merged, s?.points ?? 0);
    const v = s === null || a >= b ? null : value(a, b);
    out.push(v === null || !Number.isFinite(v) ? null : round(v));
  }
  return out;
}

/** Six significant digits: small pages, no float noise. */
function round(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(6));
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}
