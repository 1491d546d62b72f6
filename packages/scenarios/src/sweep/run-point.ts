import type { Outcome, Scenario, ScenarioResult } from '../scenario.js';
import { runScenario } from '../scenario.js';

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
    outcome: runOutcome(result),
    checks: result.checks.map((c) => ({ name: c.name, pass: c.pass })),
  };
}
