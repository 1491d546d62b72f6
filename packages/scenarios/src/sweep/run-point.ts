import { DsimError } from '@dsim/core';
import type { Outcome, Scenario, ScenarioResult } from '../scenario.js';
import { runScenario } from '../scenario.js';
import { mser5 } from './mser.js';

/** One replication of one point: what a sweep keeps of a run (no wall time: results stay byte-identical). */
export interface SweepRun {
  /** The point's id, e.g. `lambda=10,servers=3`. */
  point: string;
  /** Replication index within the point, from 0. */
  replication: number;
  seed: string;
  /** The run's digest (every variant's event stream and outcome). */
  digest: string;
  /**
   * The run's figures: the outcome (with variants, each variant's figures prefixed with its name,
   * `naive.goodputAfter`), then `availability` and `p99` of the requests when measured.
   */
  outcome: Outcome;
  /** Each check and whether it held (with variants, named `<variant>: <check>`). */
  checks: { name: string; pass: boolean }[];
}

/**
 * The figures of a scenario result as one flat outcome: the headline outcome for a scenario without
 * variants, else every variant's outcome under `<variant>.<figure>`; plus the request figures
 * (`availability`, `p99`, per variant when there are variants).
 *
 * @example
 * ```ts
 * runOutcome(runScenario(retryStorm, { seed: 1 }))['naive.goodputAfter'];
 * ```
 */
export function runOutcome(result: ScenarioResult): Outcome {
  const out: Outcome = {};
  const parts =
    result.variants.length === 0
      ? [{ prefix: '', outcome: result.outcome, metrics: result.metrics }]
      : result.variants.map((v) => ({ prefix: `${v.name}.`, outcome: v.outcome, metrics: v.metrics }));
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.outcome)) out[`${p.prefix}${k}`] = v;
    if (p.metrics.requests > 0) {
      out[`${p.prefix}availability`] ??= p.metrics.availability;
      out[`${p.prefix}p99`] ??= p.metrics.latencyMs.p99 ?? null;
    }
  }
  return out;
}

/**
 * Steady-state figures of a run from its metric series: for each `node/metric` (a counter, as a rate per
 * second, or a gauge's time-weighted mean), the series per interval with the warm-up cut by MSER-5,
 * as `steady.<node/metric>` (the mean of what is kept) and `steady.<node/metric>.cutMs` (the warm-up
 * cut). With variants, each variant's under `<variant>.steady...`. A partial last interval is left out.
 * An unknown node or metric is an error naming what the run recorded.
 *
 * @example
 * ```ts
 * steadyFigures(runScenario(s, { seed: 1 }), ['server/svc.queue'])['steady.server/svc.queue'];
 * ```
 */
export function steadyFigures(result: ScenarioResult, specs: readonly string[]): Outcome {
  const out: Outcome = {};
  if (specs.length === 0) return out;
  const parts =
    result.variants.length === 0
      ? [{ prefix: '', series: result.series, simulatedMs: result.simulatedMs }]
      : result.variants.map((v) => ({ prefix: `${v.name}.`, series: v.series, simulatedMs: v.simulatedMs }));
  for (const spec of specs) {
    const slash = spec.lastIndexOf('/');
    const node = spec.slice(0, slash);
    const metric = spec.slice(slash + 1);
    for (const p of parts) {
      const s = p.series;
      const ns = s?.nodes[node];
      const known = () =>
        s === null || s === undefined
          ? 'the run recorded no metrics'
          : `recorded: ${Object.entries(s.nodes)
              .flatMap(([n, x]) =>
                [...Object.keys(x.counters), ...Object.keys(x.gauges)].map((m) => `${n}/${m}`),
              )
              .join(', ')}`;
      if (
        slash <= 0 ||
        s === null ||
        ns === undefined ||
        (!(metric in ns.counters) && !(metric in ns.gauges))
      )
        throw new DsimError(
          'CONFIG_ERROR',
          `steady: no counter or gauge ${JSON.stringify(spec)}; ${known()}`,
          {
            details: { field: 'steady', value: spec },
          },
        );
      // Whole intervals only: a run that ends mid-interval would bias its last point.
      const whole = Math.min(s.points, Math.floor((p.simulatedMs - s.start) / s.intervalMs));
      const values =
        metric in ns.counters
          ? ns.counters[metric]!.slice(0, whole).map((c) => c / (s.intervalMs / 1000))
          : ns.gauges[metric]!.mean.slice(0, whole);
      const m = mser5(values);
      out[`${p.prefix}steady.${spec}`] = m.mean;
      out[`${p.prefix}steady.${spec}.cutMs`] = m.truncatedObservations * s.intervalMs;
    }
  }
  return out;
}

/**
 * Runs one replication of a point and keeps what a sweep aggregates.
 *
 * @example
 * ```ts
 * runPoint(mmc, { point: 'servers=2', replication: 0, seed: '1', params: { servers: 2 } });
 * ```
 */
export function runPoint(
  scenario: Scenario<any>,
  task: {
    point: string;
    replication: number;
    seed: string;
    params: Record<string, unknown>;
    variants?: readonly string[];
    /** Steady-state figures to take from the run's series (see {@link steadyFigures}). */
    steady?: readonly string[];
  },
): SweepRun {
  const result = runScenario(scenario, {
    seed: task.seed,
    params: task.params,
    ...(task.variants === undefined ? {} : { variants: task.variants }),
  });
  return {
    point: task.point,
    replication: task.replication,
    seed: task.seed,
    digest: result.digest,
    outcome: { ...runOutcome(result), ...steadyFigures(result, task.steady ?? []) },
    checks: result.checks.map((c) => ({ name: c.name, pass: c.pass })),
  };
}
