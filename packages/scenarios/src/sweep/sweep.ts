import { DsimError, RollingDigest, showValue } from '@dsim/core';
import type { ParamSchema } from '../params.js';
import type { Scenario } from '../scenario.js';
import { aggregate, type SweepResult } from './aggregate.js';
import { gridPoints } from './grid.js';
import { runPoint, type SweepRun } from './run-point.js';
import type { SweepPointSpec, SweepSpec } from './spec.js';
import { summarize } from './stats.js';

/** Options of {@link sweep}. */
export interface SweepOptions {
  /** Seeds of the replications, the same for every point. */
  seeds: readonly (string | number)[];
  /** Swept parameters: each value list is crossed with the others. @default none (one point) */
  grid?: Readonly<Record<string, readonly (string | number | boolean)[]>>;
  /** Fixed parameters. @default none */
  set?: Readonly<Record<string, string | number | boolean>>;
  /** Variants to run. @default all */
  variants?: readonly string[];
  /** Confidence level of the intervals, in (0, 1). @default 0.95 */
  confidence?: number;
  /**
   * Run only this deterministic slice of the runs: the runs are numbered in grid and replication order
   * and run `i` belongs to shard `i mod count` (1-based `index`). Merge the shards' runs with
   * {@link mergeSweeps}. @default the whole sweep
   */
  shard?: { index: number; count: number };
  /** Runs already done (a resumed sweep): they are not run again. @default none */
  done?: readonly SweepRun[];
  /**
   * Keep adding replications to a point (the next integer seeds) until the interval of `figure` has a
   * relative half-width at most `relative`, or the point has `maxSeeds` replications. @default off
   */
  precision?: { figure: string; relative: number; maxSeeds: number };
  /**
   * Steady-state figures: for each `node/metric` (a counter or a gauge the scenario records), the run's
   * series per interval with its warm-up cut by MSER-5, as the figure `steady.<node/metric>` (and
   * `.cutMs`, the warm-up cut). @default none
   */
  steady?: readonly string[];
  /** Told every finished run as it finishes (stream it to a file), with the count so far. */
  onRun?: (run: SweepRun, progress: { done: number; total: number }) => void;
}

const KEYS = [
  'seeds',
  'grid',
  'set',
  'variants',
  'confidence',
  'shard',
  'done',
  'precision',
  'steady',
  'onRun',
];

/**
 * The digest over a sweep's runs, in order (`<point>#<replication>:<run digest>` each).
 *
 * @example
 * ```ts
 * sweepDigest(['servers=2#0:b04ea4d25472bd3b', 'servers=2#1:51f0a1c8e3d2a9c4']);
 * ```
 */
export function sweepDigest(parts: readonly string[]): string {
  const d = new RollingDigest();
  for (const p of parts) d.addString(`${p};`);
  return d.hex();
}

/**
 * Runs a scenario over a grid of parameter values, each point with the same replications (seeds), and
 * summarises every outcome figure per point: mean, standard deviation, a Student t interval at
 * `confidence`, percentiles over the replications. Deterministic: the result depends on the scenario,
 * the options and the seeds only, never on the order runs finish in (results are aggregated in grid and
 * replication order), so shards merged and resumed sweeps give the same result as one run.
 *
 * @example
 * ```ts
 * const r = sweep(mmc, { seeds: [1, 2, 3, 4, 5], grid: { servers: [2, 3, 4] }, set: { lambda: 1.5 } });
 * r.points[0].figures.meanWait.mean; // with r.points[0].figures.meanWait.ci
 * ```
 */
export function sweep(scenario: Scenario<ParamSchema>, options: SweepOptions): SweepResult {
  const plan = new SweepPlan(scenario, options);
  for (let tasks = plan.initial(); tasks.length > 0; tasks = plan.more())
    for (const t of tasks) plan.record(runPoint(scenario, t));
  return plan.result();
}

/** One run to do: everything a worker needs, as plain data. */
export interface SweepTask {
  point: string;
  replication: number;
  seed: string;
  /** The point's parameters, resolved by the scenario's schema. */
  params: Record<string, unknown>;
  variants?: string[];
  steady?: string[];
}

/**
 * A sweep's plan: the checked spec, the points with their parameters, the runs done, and what to run
 * next. {@link sweep} runs its tasks in this thread; `sweepInWorkers` sends them to worker threads.
 * Either way the result comes from {@link SweepPlan.result}, so it is the same.
 */
export class SweepPlan {
  readonly spec: SweepSpec;
  readonly points: readonly SweepPointSpec[];
  private readonly resolved: Map<string, Record<string, unknown>>;
  private readonly runs = new Map<string, SweepRun>();
  private readonly tasks: SweepTask[] = [];
  private count = 0;
  private total = 0;

  constructor(
    readonly scenario: Scenario<ParamSchema>,
    private readonly options: SweepOptions,
  ) {
    const where = `sweep(${scenario.name})`;
    const bad = (field: string, value: unknown, want: string) =>
      new DsimError('CONFIG_ERROR', `${where}: ${field} must be ${want}, got ${showValue(value)}`, {
        details: { field, value },
      });
    if (options === null || typeof options !== 'object') throw bad('options', options, 'an object');
    for (const k of Object.keys(options))
      if (!KEYS.includes(k))
        throw bad(
          k,
          (options as unknown as Record<string, unknown>)[k],
          `one of the options ${KEYS.join(', ')}`,
        );
    if (!Array.isArray(options.seeds)) throw bad('seeds', options.seeds, 'an array of seeds');
    const seeds = options.seeds.map(String);
    if (seeds.length === 0) throw bad('seeds', options.seeds, 'at least one seed');
    if (new Set(seeds).size !== seeds.length) throw bad('seeds', options.seeds, 'distinct seeds');
    const confidence = options.confidence ?? 0.95;
    if (!(confidence > 0 && confidence < 1)) throw bad('confidence', confidence, 'a number in (0, 1)');
    const shard = options.shard;
    if (
      shard !== undefined &&
      !(
        Number.isInteger(shard.index) &&
        Number.isInteger(shard.count) &&
        shard.count >= 1 &&
        shard.index >= 1 &&
        shard.index <= shard.count
      )
    )
      throw bad('shard', shard, 'whole numbers { index, count } with 1 <= index <= count');
    if (shard !== undefined && options.precision !== undefined)
      throw bad(
        'precision',
        options.precision,
        'left out with a shard (how many runs a point needs is decided as results come in)',
      );
    this.spec = {
      scenario: scenario.name,
      set: Object.fromEntries(Object.entries(options.set ?? {}).map(([k, v]) => [k, String(v)])),
      grid: Object.fromEntries(Object.entries(options.grid ?? {}).map(([k, v]) => [k, v.map(String)])),
      seeds,
      ...(options.variants === undefined ? {} : { variants: [...options.variants] }),
      confidence,
      ...(options.steady === undefined || options.steady.length === 0 ? {} : { steady: [...options.steady] }),
    };
    this.points = gridPoints(this.spec.grid);
    // Every point's parameters are checked before anything runs: a bad value fails at once.
    this.resolved = new Map(this.points.map((p) => [p.id, resolvePoint(scenario, this.spec, p)]));
    for (const r of options.done ?? []) this.runs.set(`${r.point}#${r.replication}`, r);
    this.count = this.runs.size;
    let i = 0;
    for (const p of this.points)
      seeds.forEach((seed, replication) => {
        const mine = shard === undefined || i % shard.count === shard.index - 1;
        i++;
        if (mine && !this.runs.has(`${p.id}#${replication}`))
          this.tasks.push(this.task(p, replication, seed));
      });
    this.total = this.count + this.tasks.length;
  }

  private task(p: SweepPointSpec, replication: number, seed: string): SweepTask {
    return {
      point: p.id,
      replication,
      seed,
      params: this.resolved.get(p.id)!,
      ...(this.spec.variants === undefined ? {} : { variants: this.spec.variants }),
      ...(this.spec.steady === undefined ? {} : { steady: this.spec.steady }),
    };
  }

  /** The runs of the seeds given (less those already done, and those of other shards). */
  initial(): SweepTask[] {
    return this.tasks.splice(0);
  }

  /**
   * With a precision target, one more replication for every point whose interval is still too wide
   * (and that has fewer than the maximum): a round. Empty when nothing more is needed. Each point's
   * decision depends on its own runs only, so rounds give the same runs in any execution order.
   */
  more(): SweepTask[] {
    const precision = this.options.precision;
    if (precision === undefined) return [];
    const out: SweepTask[] = [];
    // One pass over the runs, not one per point: a sweep may have many points.
    const byPoint = new Map<string, SweepRun[]>();
    for (const r of this.runs.values()) {
      const list = byPoint.get(r.point);
      if (list === undefined) byPoint.set(r.point, [r]);
      else list.push(r);
    }
    for (const p of this.points) {
      const mine = byPoint.get(p.id) ?? [];
      const n = mine.length;
      if (n >= precision.maxSeeds) continue;
      const values = mine.flatMap((r) => {
        const v = r.outcome[precision.figure];
        return typeof v === 'number' && Number.isFinite(v) ? [v] : [];
      });
      const s = summarize(values, { confidence: this.spec.confidence });
      if (s.ci !== null && s.ci.relativeHalfWidth !== null && s.ci.relativeHalfWidth <= precision.relative)
        continue;
      if (!this.runs.has(`${p.id}#${n}`)) out.push(this.task(p, n, nextSeed(this.spec.seeds, n)));
    }
    this.total += out.length;
    return out;
  }

  /** Records a finished run and tells `onRun`. */
  record(run: SweepRun): void {
    this.runs.set(`${run.point}#${run.replication}`, run);
    this.options.onRun?.(run, { done: ++this.count, total: this.total });
  }

  /** The result: every run so far, aggregated in grid and replication order. */
  result(): SweepResult {
    return aggregate(this.spec, this.points, [...this.runs.values()], sweepDigest);
  }
}

/** The seed of replication `i` beyond the given list: the next integers after the largest integer seed. */
function nextSeed(seeds: readonly string[], i: number): string {
  if (i < seeds.length) return seeds[i]!;
  const ints = seeds.filter((s) => /^\d+$/.test(s)).map(Number);
  const top = ints.length === 0 ? 0 : Math.max(...ints);
  return String(top + (i - seeds.length) + 1);
}

/** A point's parameters: the fixed ones and the point's values, parsed and checked by the scenario's schema. */
function resolvePoint(
  scenario: Scenario<ParamSchema>,
  spec: SweepSpec,
  p: SweepPointSpec,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, raw] of Object.entries({ ...spec.set, ...p.values })) {
    const schema = scenario.params[k];
    if (schema === undefined) {
      const known = Object.keys(scenario.params).join(', ');
      throw new DsimError(
        'CONFIG_ERROR',
        `${scenario.name} has no parameter ${JSON.stringify(k)}; its parameters: ${known}`,
        {
          details: { field: k, value: raw },
        },
      );
    }
    out[k] = schema.parse(raw, k);
  }
  return out;
}
