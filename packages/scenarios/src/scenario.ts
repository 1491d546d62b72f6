import {
  DsimError,
  isDsimError,
  type MetricsSeries,
  type NodeMetricsSnapshot,
  RollingDigest,
  Simulation,
  type TraceListener,
} from '@dsim/core';
import { type ParamSchema, type ParamValues, resolveParams } from './params.js';
import { RequestStats, type RunMetrics, round } from './request-stats.js';
import { wallClock } from './wall-clock.js';

/** A scenario's own figures: flat name to number, string, boolean or null. */
export type Outcome = Record<string, number | string | boolean | null>;

/** A documented expectation and whether it held. */
export interface CheckResult {
  /** Short name, e.g. `meanWait matches Erlang C`. Prefixed with the variant name in results. */
  name: string;
  pass: boolean;
  /** Measured against expected, in words. */
  detail: string;
}

/** A named set of parameter overrides that a scenario compares against its other variants. */
export interface VariantDefinition<P> {
  name: string;
  description?: string;
  params?: Partial<P>;
}

/** What a scenario's `run` receives. */
export interface ScenarioContext<P> {
  /** A fresh simulation seeded with the run's seed. */
  readonly sim: Simulation;
  /** Resolved parameters (defaults, then variant overrides, then the user's). */
  readonly params: P;
  /** Root seed. */
  readonly seed: string;
  /** Variant name, or null for a scenario without variants. */
  readonly variant: string | null;
  /** Request counters and latency histogram that become the result's `metrics`. */
  readonly requests: RequestStats;
  /** Records a documented expectation. */
  check(name: string, pass: boolean, detail: string): void;
}

/** A scenario: named, parameterised, runnable from code, tests and the CLI. */
export interface Scenario<S extends ParamSchema = ParamSchema> {
  /** Identifier used by `dsim run NAME`: lowercase words joined by hyphens. */
  readonly name: string;
  /** One line for `dsim list`. */
  readonly description: string;
  /** Parameter schema with defaults and validation. */
  readonly params: S;
  /** Variants compared side by side; each runs with the same seed. */
  readonly variants?: readonly VariantDefinition<ParamValues<S>>[];
  /** Builds the topology, runs the simulation and returns the scenario's outcome. */
  run(ctx: ScenarioContext<ParamValues<S>>): Outcome;
  /** Checks across variants, after all have run. */
  compare?(variants: readonly VariantResult[], params: ParamValues<S>): CheckResult[];
}

/**
 * Declares a scenario. An identity function that gives `run` typed parameters.
 *
 * @example
 * ```ts
 * export default defineScenario({
 *   name: 'coin-flips',
 *   description: 'Counts heads',
 *   params: { flips: param.integer({ default: 100, min: 1, description: 'flips' }) },
 *   run({ sim, params }) {
 *     const rng = sim.rng('coin');
 *     let heads = 0;
 *     for (let i = 0; i < params.flips; i++) if (rng.next() < 0.5) heads++;
 *     return { heads };
 *   },
 * });
 * ```
 */
export function defineScenario<S extends ParamSchema>(scenario: Scenario<S>): Scenario<S> {
  if (typeof scenario !== 'object' || scenario === null) {
    throw new DsimError(
      'CONFIG_ERROR',
      'defineScenario expects an object with name, description, params and run',
    );
  }
  if (typeof scenario.name !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(scenario.name)) {
    throw new DsimError(
      'CONFIG_ERROR',
      `scenario name must be lowercase words joined by hyphens (e.g. "retry-storm"), got ${JSON.stringify(scenario.name)}`,
    );
  }
  if (typeof scenario.run !== 'function') {
    throw new DsimError('CONFIG_ERROR', `scenario ${scenario.name}: run must be a function`);
  }
  const names = new Set<string>();
  for (const v of scenario.variants ?? []) {
    if (names.has(v.name))
      throw new DsimError('CONFIG_ERROR', `scenario ${scenario.name}: duplicate variant ${v.name}`);
    names.add(v.name);
  }
  return scenario;
}

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  /**
   * Root seed. When omitted one is chosen at random and recorded in the result.
   * @default a fresh random seed
   */
  seed?: number | string;
  /** Parameter values; unknown names and bad values are a CONFIG_ERROR naming the parameter. */
  params?: Record<string, unknown>;
  /** Run only these variants (by name). @default all */
  variants?: readonly string[];
  /** Trace listener attached to every variant's simulation (e.g. an NDJSON recorder). */
  inspect?: TraceListener;
  /**
   * How to reproduce the run from a shell; `{seed}` is replaced by the seed.
   * @default `dsim run <name> --seed {seed}` plus the given params as --set flags
   */
  reproduce?: string;
}

/** One variant's part of a result. */
export interface VariantResult {
  name: string;
  params: Record<string, unknown>;
  simulatedMs: number;
  events: number;
  digest: string;
  metrics: RunMetrics;
  /** Per-node figures recorded in `sim.metrics` (empty when nothing recorded any). */
  nodes: Record<string, NodeMetricsSnapshot>;
  /** Per-interval time series of `sim.metrics`, or null when nothing recorded any. */
  series: MetricsSeries | null;
  outcome: Outcome;
  checks: CheckResult[];
}

/** A scenario result: the JSON document of DESIGN.md. */
export interface ScenarioResult {
  scenario: string;
  seed: string;
  params: Record<string, unknown>;
  simulatedMs: number;
  events: number;
  /** Real time the run took. The only field that differs between two runs with the same seed. */
  wallMs: number;
  digest: string;
  metrics: RunMetrics;
  /** Per-node metrics of the first variant (see {@link VariantResult.nodes}). */
  nodes: Record<string, NodeMetricsSnapshot>;
  /** Time series of the first variant. */
  series: MetricsSeries | null;
  outcome: Outcome;
  variants: VariantResult[];
  checks: CheckResult[];
  /** A command that reproduces this result. */
  reproduce: string;
}

/**
 * Runs a scenario (every variant, each with a fresh simulation and the same seed) and returns its
 * result. Same seed and params, same result, except `wallMs`.
 *
 * @example
 * ```ts
 * import { runScenario, mmc } from '@dsim/scenarios';
 * const result = runScenario(mmc, { seed: 1, params: { servers: 2, lambda: 1.5 } });
 * console.log(result.outcome.meanWait, result.outcome.theoryMeanWait);
 * ```
 */
export function runScenario<S extends ParamSchema>(
  scenario: Scenario<S>,
  options: RunScenarioOptions = {},
): ScenarioResult {
  const seed = options.seed === undefined ? wallClock.freshSeed() : String(options.seed);
  if (seed.length === 0) throw new DsimError('CONFIG_ERROR', 'seed must be a non-empty string or a number');
  const given = options.params ?? {};
  const reproduce = (options.reproduce ?? defaultReproduce(scenario.name, given)).replaceAll('{seed}', seed);
  const base = resolveParams(scenario.params, given, scenario.name);
  const selected = selectVariants(scenario, options.variants);
  const started = wallClock.now();
  const results: VariantResult[] = [];
  try {
    for (const variant of selected) {
      const params =
        variant === null
          ? base
          : resolveParams(
              scenario.params,
              { ...variant.params, ...given },
              `${scenario.name}/${variant.name}`,
            );
      results.push(runOne(scenario, params, seed, variant?.name ?? null, options.inspect));
    }
  } catch (error) {
    if (isDsimError(error)) {
      error.seed ??= seed;
      error.reproduce ??= reproduce;
    }
    throw error;
  }
  const checks = results.flatMap((r) =>
    r.checks.map((c) => (r.name === '' ? c : { ...c, name: `${r.name}: ${c.name}` })),
  );
  if (scenario.compare !== undefined && results.length > 1) checks.push(...scenario.compare(results, base));
  const first = results[0]!;
  let digest = first.digest;
  if (results.length > 1) {
    const combined = new RollingDigest();
    for (const r of results) combined.addString(`${r.name}:${r.digest};`);
    digest = combined.hex();
  }
  return {
    scenario: scenario.name,
    seed,
    params: base,
    simulatedMs: results.reduce((a, r) => a + r.simulatedMs, 0),
    events: results.reduce((a, r) => a + r.events, 0),
    wallMs: Math.round(wallClock.now() - started),
    digest,
    metrics: first.metrics,
    nodes: first.nodes,
    series: first.series,
    outcome: first.outcome,
    variants: selected[0] === null ? [] : results,
    checks,
    reproduce,
  };
}

function runOne<P>(
  scenario: Scenario<any>,
  params: P,
  seed: string,
  variant: string | null,
  inspect: TraceListener | undefined,
): VariantResult {
  const sim = new Simulation({ seed });
  if (inspect !== undefined) sim.inspect(inspect);
  sim.emit('@dsim.run.start', { seed, scenario: scenario.name, variant });
  const requests = new RequestStats();
  const checks: CheckResult[] = [];
  const ctx: ScenarioContext<P> = {
    sim,
    params,
    seed,
    variant,
    requests,
    check(name, pass, detail) {
      checks.push({ name, pass: Boolean(pass), detail });
    },
  };
  const outcome = scenario.run(ctx as ScenarioContext<any>);
  sim.emit('@dsim.run.end', { events: sim.eventCount });
  const snapshot = sim.hasMetrics ? sim.metrics.snapshot() : null;
  return {
    name: variant ?? '',
    params: params as Record<string, unknown>,
    simulatedMs: round(sim.now),
    events: sim.eventCount,
    digest: sim.digest(),
    metrics: requests.toJSON(),
    nodes: snapshot?.nodes ?? {},
    series: snapshot === null ? null : snapshot.series,
    outcome: roundOutcome(outcome ?? {}),
    checks,
  };
}

function selectVariants<S extends ParamSchema>(
  scenario: Scenario<S>,
  wanted: readonly string[] | undefined,
): Array<VariantDefinition<ParamValues<S>> | null> {
  const all = scenario.variants ?? [];
  if (all.length === 0) {
    if (wanted !== undefined && wanted.length > 0) {
      throw new DsimError(
        'CONFIG_ERROR',
        `scenario ${scenario.name} has no variants, got ${wanted.join(', ')}`,
      );
    }
    return [null];
  }
  if (wanted === undefined || wanted.length === 0) return [...all];
  return wanted.map((name) => {
    const found = all.find((v) => v.name === name);
    if (found === undefined) {
      throw new DsimError(
        'CONFIG_ERROR',
        `unknown variant ${JSON.stringify(name)} for scenario ${scenario.name}; known variants: ${all.map((v) => v.name).join(', ')}`,
      );
    }
    return found;
  });
}

function roundOutcome(outcome: Outcome): Outcome {
  const out: Outcome = {};
  for (const [k, v] of Object.entries(outcome)) out[k] = typeof v === 'number' ? round(v) : v;
  return out;
}

function defaultReproduce(name: string, given: Record<string, unknown>): string {
  const sets = Object.entries(given)
    .map(([k, v]) => ` --set ${k}=${String(v)}`)
    .join('');
  return `dsim run ${name} --seed {seed}${sets}`;
}
