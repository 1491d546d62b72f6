import {
  checkOptions,
  DsimError,
  type Duration,
  didYouMean,
  invalidArgument,
  isDsimError,
  type MetricsSeries,
  type NodeMetricsSnapshot,
  optionKeys,
  RollingDigest,
  Simulation,
  showValue,
  type TraceListener,
  toMs,
} from '@dsim/core';
import { shellQuote } from './cli/text.js';
import { type FaultWindow, faultWindows } from './fault-windows.js';
import { type ParamSchema, type ParamValues, resolveParams } from './params.js';
import { RequestStats, type RunMetrics, round } from './request-stats.js';
import type { SystemGraph } from './system/graph/graph.js';
import type { Phase } from './system/phases.js';
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
  /**
   * Describes the run for reports: the measurement phases (shaded on charts) and the topology (drawn
   * as a diagram). System scenarios call it; others may. A later call replaces what it names.
   */
  annotate(annotations: RunAnnotations): void;
}

/** What {@link ScenarioContext.annotate} records; each part lands in the variant's result. */
export interface RunAnnotations {
  phases?: readonly Phase[];
  topology?: SystemGraph;
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
  checkOptions(`defineScenario(${JSON.stringify(scenario.name)})`, scenario, SCENARIO_KEYS);
  if (scenario.params === null || typeof scenario.params !== 'object')
    throw new DsimError(
      'CONFIG_ERROR',
      `scenario ${scenario.name}: params must be an object of param.* specs`,
    );
  for (const [key, spec] of Object.entries(scenario.params)) {
    if (
      spec === null ||
      typeof spec !== 'object' ||
      typeof (spec as { validate?: unknown }).validate !== 'function'
    )
      throw new DsimError(
        'CONFIG_ERROR',
        `scenario ${scenario.name}: params.${key} must be built with param.number/integer/boolean/enum/string/duration, got ${showValue(spec)}`,
      );
  }
  if (typeof scenario.description !== 'string')
    throw new DsimError('CONFIG_ERROR', `scenario ${scenario.name}: description must be a string`);
  if (typeof scenario.run !== 'function') {
    throw new DsimError('CONFIG_ERROR', `scenario ${scenario.name}: run must be a function`);
  }
  const names = new Set<string>();
  if (scenario.variants !== undefined && !Array.isArray(scenario.variants))
    throw new DsimError('CONFIG_ERROR', `scenario ${scenario.name}: variants must be an array`);
  for (const v of scenario.variants ?? []) {
    checkOptions(`scenario ${scenario.name}: variant`, v, ['name', 'description', 'params']);
    if (typeof v.name !== 'string' || v.name.length === 0)
      throw new DsimError(
        'CONFIG_ERROR',
        `scenario ${scenario.name}: a variant needs a non-empty name, got ${showValue(v.name)}`,
      );
    if (names.has(v.name))
      throw new DsimError('CONFIG_ERROR', `scenario ${scenario.name}: duplicate variant ${v.name}`);
    names.add(v.name);
  }
  return scenario;
}

const SCENARIO_KEYS = optionKeys<Scenario>()({
  name: true,
  description: true,
  params: true,
  variants: true,
  run: true,
  compare: true,
});

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
   * @default `dsim run <name> --seed {seed}` plus the given params as --set flags and the variants
   */
  reproduce?: string;
  /**
   * Stop the run with a `RUN_LIMIT` error once this many events have been processed, over all
   * variants. A guard against a runaway model, not a way to size a run (use the scenario's parameters).
   * @default Infinity
   */
  maxEvents?: number;
  /**
   * Stop the run with a `RUN_LIMIT` error once it has taken this much real time (ms). The only option
   * that reads the wall clock; it can stop a run but never changes what a finished run computes.
   * @default Infinity
   */
  maxWallMs?: number;
  /**
   * Called every `progressEvery` processed events with where the run is, for a progress line.
   * @default none
   */
  onProgress?: (progress: RunProgress) => void;
  /**
   * How many events between two `onProgress` calls (and between two `maxWallMs` checks).
   * @default 65536
   */
  progressEvery?: number;
  /**
   * Width of the intervals of the metrics time series (`series`), for every variant's simulation. A
   * series keeps one value per interval for the whole run, so a long horizon wants a wider interval.
   * Metrics never change a run: the digest is the same for any interval.
   * @default 1000 (1 s)
   */
  metricsInterval?: Duration;
}

/** Where a running scenario is, for {@link RunScenarioOptions.onProgress}. */
export interface RunProgress {
  /** The variant running, or null for a scenario without variants. */
  readonly variant: string | null;
  /** 0-based index of the variant running, and how many will run. */
  readonly variantIndex: number;
  readonly variantCount: number;
  /** Simulated time of the running variant (ms). */
  readonly simulatedMs: number;
  /** The running variant's simulated horizon (its `duration` or `seconds` parameter), when it has one. */
  readonly horizonMs: number | null;
  /** Events processed so far over all variants. */
  readonly events: number;
  /** Real time since the run started (ms). */
  readonly wallMs: number;
}

const RUN_OPTION_KEYS = optionKeys<RunScenarioOptions>()({
  seed: true,
  params: true,
  variants: true,
  inspect: true,
  reproduce: true,
  maxEvents: true,
  maxWallMs: true,
  onProgress: true,
  progressEvery: true,
  metricsInterval: true,
});

/** One variant's part of a result. */
export interface VariantResult {
  name: string;
  params: Record<string, unknown>;
  /** Simulated time this variant ran (ms). */
  simulatedMs: number;
  /** Events this variant processed. */
  events: number;
  /** Digest of this variant: its event stream and its outcome. */
  digest: string;
  metrics: RunMetrics;
  /** Per-node figures recorded in `sim.metrics` (empty when nothing recorded any). */
  nodes: Record<string, NodeMetricsSnapshot>;
  /** Per-interval time series of `sim.metrics`, or null when nothing recorded any. */
  series: MetricsSeries | null;
  outcome: Outcome;
  checks: CheckResult[];
  /** Faults applied during the run, as windows (from `sim.faultLog`; empty when none). */
  faults: FaultWindow[];
  /** The measurement phases, when the scenario annotated them (system scenarios do). */
  phases?: Phase[];
  /** The topology, when the scenario annotated it (system scenarios do). */
  topology?: SystemGraph;
}

/** A scenario result: the JSON document of DESIGN.md. */
export interface ScenarioResult {
  scenario: string;
  seed: string;
  /** Parameters before variant overrides (each variant's own are in `variants[i].params`). */
  params: Record<string, unknown>;
  /**
   * The variant whose figures fill `simulatedMs`, `events`, `metrics`, `nodes`, `series` and
   * `outcome`: the first one run. Null for a scenario without variants, where they are the run's.
   */
  headline: string | null;
  /** Simulated time of the headline variant (ms); each variant's is in `variants[i].simulatedMs`. */
  simulatedMs: number;
  /** Events of the headline variant; each variant's is in `variants[i].events`. */
  events: number;
  /** Real time the run took. The only field that differs between two runs with the same seed. */
  wallMs: number;
  /** Digest of the whole run: every variant's event stream and outcome. */
  digest: string;
  /** Requests of the headline variant. */
  metrics: RunMetrics;
  /** Per-node metrics of the headline variant (see {@link VariantResult.nodes}). */
  nodes: Record<string, NodeMetricsSnapshot>;
  /** Time series of the headline variant. */
  series: MetricsSeries | null;
  /** Outcome of the headline variant. */
  outcome: Outcome;
  /** Fault windows of the headline variant. */
  faults: FaultWindow[];
  /** Phases of the headline variant, when annotated. */
  phases?: Phase[];
  /** Topology of the headline variant, when annotated. */
  topology?: SystemGraph;
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
  checkOptions('runScenario', options, RUN_OPTION_KEYS);
  const seed = checkSeed(options.seed);
  const given = options.params ?? {};
  if (given === null || typeof given !== 'object' || Array.isArray(given))
    throw invalidArgument('runScenario: params', given, 'an object of parameter values');
  const reproduce = (
    options.reproduce ?? defaultReproduce(scenario.name, given, options.variants)
  ).replaceAll('{seed}', seed);
  const limits = checkLimits(options);
  const metricsInterval = checkMetricsInterval(options.metricsInterval);
  const selected = selectVariants(scenario, options.variants);
  const started = wallClock.now();
  const results: VariantResult[] = [];
  let base: ParamValues<S>;
  try {
    base = resolveParams(scenario.params, given, scenario.name);
    const guard = new RunGuard(limits, selected.length, started);
    for (const [index, variant] of selected.entries()) {
      const params =
        variant === null
          ? base
          : resolveParams(
              scenario.params,
              { ...variant.params, ...given },
              `${scenario.name}/${variant.name}`,
            );
      results.push(
        runOne(scenario, params, seed, variant?.name ?? null, options.inspect, guard, index, metricsInterval),
      );
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
    headline: selected[0] === null ? null : first.name,
    simulatedMs: first.simulatedMs,
    events: first.events,
    wallMs: Math.round(wallClock.now() - started),
    digest,
    metrics: first.metrics,
    nodes: first.nodes,
    series: first.series,
    outcome: first.outcome,
    faults: first.faults,
    ...(first.phases === undefined ? {} : { phases: first.phases }),
    ...(first.topology === undefined ? {} : { topology: first.topology }),
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
  guard: RunGuard,
  index: number,
  metricsInterval: number,
): VariantResult {
  const sim = new Simulation({ seed, metricsInterval });
  if (inspect !== undefined) sim.inspect(inspect);
  guard.attach(sim, variant, index, horizonOf(params as Record<string, unknown>));
  sim.emit('@dsim.run.start', { seed, scenario: scenario.name, variant });
  const requests = new RequestStats();
  const checks: CheckResult[] = [];
  const annotations: RunAnnotations = {};
  const ctx: ScenarioContext<P> = {
    sim,
    params,
    seed,
    variant,
    requests,
    check(name, pass, detail) {
      checks.push({ name, pass: Boolean(pass), detail });
    },
    annotate(a) {
      checkOptions('annotate', a, ['phases', 'topology']);
      if (a.phases !== undefined) annotations.phases = a.phases.map((p) => ({ ...p }));
      if (a.topology !== undefined) annotations.topology = a.topology;
    },
  };
  let raw: Outcome;
  try {
    raw = scenario.run(ctx as ScenarioContext<any>);
  } catch (error) {
    if (isDsimError(error)) {
      error.simTime ??= sim.now;
      if (variant !== null && error.details.variant === undefined) error.details.variant = variant;
    }
    throw error;
  } finally {
    guard.detach(sim);
  }
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    throw new DsimError(
      'CONFIG_ERROR',
      `scenario ${scenario.name}: run() must return an outcome object of numbers, strings, booleans or null, got ${showValue(raw)}`,
    );
  }
  sim.emit('@dsim.run.end', { events: sim.eventCount });
  const snapshot = sim.hasMetrics ? sim.metrics.snapshot() : null;
  const outcome = roundOutcome(raw ?? {}, scenario.name);
  return {
    name: variant ?? '',
    params: params as Record<string, unknown>,
    simulatedMs: round(sim.now),
    events: sim.eventCount,
    digest: variantDigest(sim.digest(), params, outcome),
    metrics: requests.toJSON(),
    nodes: snapshot?.nodes ?? {},
    series: snapshot === null ? null : snapshot.series,
    outcome,
    checks,
    faults: faultWindows(sim.faultLog),
    ...(annotations.phases === undefined ? {} : { phases: annotations.phases as Phase[] }),
    ...(annotations.topology === undefined ? {} : { topology: annotations.topology }),
  };
}

/**
 * A variant's digest: its event stream's digest, its parameters and its outcome, so a scenario that
 * computes part of its answer outside the event loop (a cache replaying a trace, a limiter fed by a
 * closed formula) still pins its inputs and that answer.
 */
function variantDigest(events: string, params: unknown, outcome: Outcome): string {
  const d = new RollingDigest();
  d.addString(events);
  d.addString(JSON.stringify(params));
  d.addString(JSON.stringify(outcome));
  return d.hex();
}

/** The simulated horizon from a `duration` (ms) or `seconds` parameter, for progress ETAs. */
function horizonOf(params: Record<string, unknown>): number | null {
  if (typeof params.duration === 'number' && params.duration > 0) return params.duration;
  if (typeof params.seconds === 'number' && params.seconds > 0) return params.seconds * 1000;
  return null;
}

function checkSeed(seed: unknown): string {
  if (seed === undefined) return wallClock.freshSeed();
  if (typeof seed === 'number' ? !Number.isFinite(seed) : typeof seed !== 'string' || seed.length === 0)
    throw invalidArgument('runScenario: seed', seed, 'a finite number or a non-empty string');
  return String(seed);
}

function checkMetricsInterval(interval: Duration | undefined): number {
  if (interval === undefined) return 1000;
  let ms: number;
  try {
    ms = toMs(interval, 'runScenario: metricsInterval');
  } catch {
    throw invalidArgument(
      'runScenario: metricsInterval',
      interval,
      'a duration > 0 such as 1000, "1s" or "1m"',
    );
  }
  if (!(ms > 0 && ms < Infinity))
    throw invalidArgument(
      'runScenario: metricsInterval',
      interval,
      'a duration > 0 such as 1000, "1s" or "1m"',
    );
  return ms;
}

interface Limits {
  maxEvents: number;
  maxWallMs: number;
  every: number;
  onProgress: ((progress: RunProgress) => void) | undefined;
}

function checkLimits(options: RunScenarioOptions): Limits {
  const { maxEvents = Infinity, maxWallMs = Infinity, progressEvery = 65536, onProgress } = options;
  if (maxEvents !== Infinity && !(Number.isInteger(maxEvents) && maxEvents >= 1))
    throw invalidArgument('runScenario: maxEvents', maxEvents, 'an integer >= 1 (or Infinity)');
  if (!(typeof maxWallMs === 'number' && maxWallMs > 0))
    throw invalidArgument('runScenario: maxWallMs', maxWallMs, 'a number of ms > 0 (or Infinity)');
  if (!(Number.isInteger(progressEvery) && progressEvery >= 1))
    throw invalidArgument('runScenario: progressEvery', progressEvery, 'an integer >= 1');
  if (onProgress !== undefined && typeof onProgress !== 'function')
    throw invalidArgument('runScenario: onProgress', onProgress, 'a function');
  return { maxEvents, maxWallMs, every: progressEvery, onProgress };
}

/**
 * Enforces the event and wall-clock limits and reports progress, through the simulation's watch hook:
 * it is called every few thousand events, so it costs nothing per event.
 */
class RunGuard {
  private eventsBefore = 0;
  private readonly unwatch: Array<() => void> = [];

  constructor(
    private readonly limits: Limits,
    private readonly variantCount: number,
    private readonly started: number,
  ) {}

  attach(sim: Simulation, variant: string | null, index: number, horizonMs: number | null): void {
    const { maxEvents, maxWallMs, onProgress } = this.limits;
    const where = variant === null ? '' : ` (variant ${variant})`;
    if (maxEvents !== Infinity) {
      // One watch fires exactly when the event budget left for this variant is spent.
      this.unwatch.push(
        sim.watch(Math.max(1, maxEvents - this.eventsBefore), () => {
          const events = this.eventsBefore + sim.eventCount;
          throw new DsimError(
            'RUN_LIMIT',
            // The simulated time reached travels as `simTime`, printed after the message.
            `stopped after ${events} events${where}: the limit is ${maxEvents} (--max-events)`,
            { simTime: sim.now, details: { limit: 'maxEvents', maxEvents, events, variant } },
          );
        }),
      );
    }
    if (maxWallMs === Infinity && onProgress === undefined) return;
    this.unwatch.push(
      sim.watch(this.limits.every, () => {
        const events = this.eventsBefore + sim.eventCount;
        const wallMs = wallClock.now() - this.started;
        if (wallMs >= maxWallMs) {
          throw new DsimError(
            'RUN_LIMIT',
            `stopped after ${Math.round(wallMs)} ms of real time and ${events} events${where}: the limit is ${maxWallMs} ms (--max-wall)`,
            { simTime: sim.now, details: { limit: 'maxWallMs', maxWallMs, events, variant } },
          );
        }
        onProgress?.({
          variant,
          variantIndex: index,
          variantCount: this.variantCount,
          simulatedMs: sim.now,
          horizonMs,
          events,
          wallMs,
        });
      }),
    );
  }

  detach(sim: Simulation): void {
    for (const off of this.unwatch) off();
    this.unwatch.length = 0;
    this.eventsBefore += sim.eventCount;
  }
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
  const seen = new Set<string>();
  return wanted.map((name) => {
    if (seen.has(name))
      throw new DsimError('CONFIG_ERROR', `variant ${JSON.stringify(name)} is selected twice`, {
        details: { field: 'variant', value: name },
      });
    seen.add(name);
    const found = all.find((v) => v.name === name);
    if (found === undefined) {
      const guess = didYouMean(
        String(name),
        all.map((v) => v.name),
      );
      throw new DsimError(
        'CONFIG_ERROR',
        `unknown variant ${showValue(name)} for scenario ${scenario.name}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}; known variants: ${all.map((v) => v.name).join(', ')}`,
        { details: { field: 'variant', value: name, allowed: all.map((v) => v.name) } },
      );
    }
    return found;
  });
}

function roundOutcome(outcome: Outcome, scenario: string): Outcome {
  const out: Outcome = {};
  for (const [k, v] of Object.entries(outcome)) {
    if (v !== null && typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'boolean') {
      throw new DsimError(
        'CONFIG_ERROR',
        `scenario ${scenario}: outcome.${k} must be a number, string, boolean or null, got ${showValue(v)}`,
        { details: { field: `outcome.${k}`, value: v } },
      );
    }
    out[k] = typeof v === 'number' ? round(v) : v;
  }
  return out;
}

function defaultReproduce(
  name: string,
  given: Record<string, unknown>,
  variants: readonly string[] | undefined,
): string {
  const sets = Object.entries(given)
    .map(([k, v]) => ` --set ${shellQuote(`${k}=${String(v)}`)}`)
    .join('');
  const picked = (variants ?? []).map((v) => ` --variant ${shellQuote(v)}`).join('');
  return `dsim run ${shellQuote(name)} --seed {seed}${sets}${picked}`;
}
