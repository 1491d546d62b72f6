import { checkOptions, DsimError, didYouMean, type Simulation, showValue } from '@dsim/core';
import { type ParamSchema, type ParamValues, resolveParams } from '../params.js';
import {
  type CheckResult,
  defineScenario,
  type Outcome,
  type Scenario,
  type VariantResult,
} from '../scenario.js';
import { type CompiledSystem, compileSystem } from './compile.js';
import type { DurationData } from './distributions.js';
import { systemGraph } from './graph/graph.js';
import { loadSystem } from './load.js';
import { type ClientSeconds, SystemMeasurement } from './measure.js';
import { type PhaseWindows, systemPhases } from './phases.js';
import type { SystemDescription } from './schema.js';
import { validateSystem } from './validate.js';
import { freezeSystem, type SystemRecipe, variant } from './variants.js';

/**
 * A variant of a system scenario: parameter overrides and/or a recipe applied (with immer) to the
 * frozen description built from the variant's parameters.
 */
export interface SystemVariant<P = Record<string, never>> {
  name: string;
  description?: string;
  /** Parameter overrides, as a built-in scenario's variants. @default none */
  params?: Partial<P>;
  /** The change, given the draft and the variant's parameters. @default none: the base as it is */
  recipe?: (draft: Parameters<SystemRecipe>[0], params: P) => void;
}

/**
 * Read access to the measured figures, for {@link SystemScenarioOptions.checks}. Every reader throws on
 * an unknown node, phase or figure (with a "did you mean"); a figure that was not measured (no request in
 * the phase) reads as NaN, so a comparison with it is false and the check fails.
 */
export interface Measured {
  /** Any figure by its outcome name, e.g. `get('users.during.errors.timeout')`. */
  get(name: string): number;
  p50(node: string, phase: string): number;
  p99(node: string, phase: string): number;
  p999(node: string, phase: string): number;
  availability(clients: string, phase: string): number;
  /** Requests started per second (clients) or arrivals per second (services). */
  rate(node: string, phase: string): number;
  goodput(node: string, phase: string): number;
  errorRate(node: string, phase: string): number;
  amplification(clients: string, phase: string): number;
  utilisation(service: string, phase: string): number;
  /** Mean queue: waiting requests of a service, ready messages of a worker node's queue. */
  queue(node: string, phase: string): number;
  /** Mean lag of a consumer group (records). */
  lag(consumer: string, phase: string): number;
  /** The whole flat outcome. */
  readonly all: Readonly<Outcome>;
}

/** What a system scenario's `outcome` hook reads besides the measured figures. */
export interface SystemRun<P> {
  readonly params: P;
  /** Variant name, or null without variants. */
  readonly variant: string | null;
  /** The description this run compiled (after the variant's recipe). */
  readonly system: SystemDescription;
  /** Per-second counts of a clients node: requests started, attempts, ok and failed. */
  perSecond(clients: string): ClientSeconds;
  /**
   * The components this run built (services, balancers, caches, clients, by address), for figures the
   * automatic measurement does not take: a pool's stats, an endpoint's late answers, a gauge's maximum
   * in `sim.metrics`. Read them after the run; never change them.
   */
  readonly compiled: CompiledSystem;
  /** The run's simulation, after it ran (its `metrics`, its `now`). */
  readonly sim: Simulation;
}

/**
 * Records a check: `pass` is its verdict; `detail` defaults to the figures read since the previous check,
 * e.g. `users.during.p99 = 812.3`.
 */
export type CheckFn = (name: string, pass: boolean, detail?: string) => void;

/** Options of {@link defineSystemScenario}. */
export interface SystemScenarioOptions<S extends ParamSchema = Record<string, never>> {
  /** Identifier for `dsim run`: lowercase words joined by hyphens. */
  name: string;
  description: string;
  /** Parameters, as a built-in scenario's (`--set k=v`). @default none */
  params?: S;
  /**
   * The system, the path of a YAML/JSON file holding it (read once, at definition), or a function of
   * the parameters (called per variant; its result is validated and frozen).
   */
  system: SystemDescription | string | URL | ((params: ParamValues<S>) => SystemDescription);
  /** Each variant compiles and runs its own copy of the system. @default none */
  variants?: readonly SystemVariant<ParamValues<S>>[];
  /**
   * Explicit phases `{ name: [from, to] }` (ms or durations from the start), or a function of the
   * parameters returning them. Overlaps are allowed.
   * @default from the fault schedule: before, during (per fault), after (see systemPhases)
   */
  phases?: PhaseWindows | ((params: ParamValues<S>) => PhaseWindows);
  /** The cut at the start, excluded from `before` (default phases only). @default 10% of the run */
  warmup?: DurationData;
  /**
   * The scenario's own figures, computed from the measured ones: they come first in the outcome,
   * before the measured ones (a name of its own wins). @default none
   */
  outcome?: (m: Measured, run: SystemRun<ParamValues<S>>) => Outcome;
  /** Checks on the measured figures (and the scenario's own, through `m.get`), after every variant. @default none */
  checks?: (m: Measured, check: CheckFn, params: ParamValues<S>) => void;
  /** Checks across variants, after all have run (as a built-in scenario's `compare`). @default none */
  compare?: (variants: readonly VariantResult[], params: ParamValues<S>) => CheckResult[];
}

const KEYS = [
  'name',
  'description',
  'params',
  'system',
  'variants',
  'phases',
  'warmup',
  'outcome',
  'checks',
  'compare',
] as const;

/**
 * A scenario from a system described as data: every variant compiles the (changed) system, runs it and
 * returns the per-phase figures of {@link SystemMeasurement} as its outcome; `checks` reads them. The
 * result is an ordinary {@link Scenario}: `runScenario` and the CLI take it unchanged.
 *
 * @example
 * ```ts
 * export default defineSystemScenario({
 *   name: 'cache-crash',
 *   description: 'A cache crash under a three-tier system',
 *   system: 'three-tier.yaml',
 *   variants: [{ name: 'p2c', recipe: (d) => void ((d.nodes.lb as { policy?: string }).policy = 'power-of-d') }],
 *   checks: (m, check) => check('p99 before under 100 ms', m.p99('users', 'before') < 100),
 * });
 * ```
 */
export function defineSystemScenario<S extends ParamSchema = Record<string, never>>(
  options: SystemScenarioOptions<S>,
): Scenario<S> {
  type P = ParamValues<S>;
  checkOptions('defineSystemScenario', options, KEYS);
  const where = `defineSystemScenario(${JSON.stringify(options.name)})`;
  const fn = (field: string, value: unknown, shape: string) => {
    if (value !== undefined && typeof value !== 'function')
      throw new DsimError('CONFIG_ERROR', `${where}: ${field} must be a function ${shape}`, {
        details: { field, value },
      });
  };
  const given = options.system;
  const base =
    typeof given === 'function'
      ? null
      : freezeSystem(
          typeof given === 'string' || given instanceof URL ? loadSystem(given) : validateSystem(given),
        );
  if (options.variants !== undefined && !Array.isArray(options.variants))
    throw new DsimError('CONFIG_ERROR', `${where}: variants must be an array of { name, params?, recipe? }`);
  const recipes = new Map<string, NonNullable<SystemVariant<P>['recipe']>>();
  for (const [i, v] of (options.variants ?? []).entries()) {
    checkOptions(`${where}: variants[${i}]`, v, ['name', 'description', 'params', 'recipe']);
    fn(`variants[${i}].recipe`, v.recipe, '(draft, params) => void');
    if (v.recipe !== undefined) recipes.set(v.name, v.recipe);
  }
  fn('outcome', options.outcome, '(m, run) => outcome');
  fn('checks', options.checks, '(m, check, params) => void');
  fn('compare', options.compare, '(variants, params) => checks');
  const windows = (p: P) => (typeof options.phases === 'function' ? options.phases(p) : options.phases);
  const describe = (p: P) => base ?? freezeSystem(validateSystem((given as (p: P) => SystemDescription)(p)));
  // Checked now with the default parameters (a bad description fails at definition); again per run.
  const defaults = resolveParams(options.params ?? {}, {}, options.name) as P;
  systemPhases(describe(defaults), { windows: windows(defaults), warmup: options.warmup });
  return defineScenario<S>({
    name: options.name,
    description: options.description,
    params: options.params ?? ({} as S),
    ...(options.variants === undefined
      ? {}
      : {
          variants: options.variants.map((v) => ({
            name: v.name,
            ...(v.description === undefined ? {} : { description: v.description }),
            ...(v.params === undefined ? {} : { params: v.params }),
          })),
        }),
    run({ sim, params, requests, variant: name, check, annotate }) {
      const recipe = name === null ? undefined : recipes.get(name);
      const described = describe(params);
      const system = recipe === undefined ? described : variant((d) => recipe(d, params))(described);
      const phases = systemPhases(system, { windows: windows(params), warmup: options.warmup });
      annotate({ phases, topology: systemGraph(system) });
      const m = new SystemMeasurement(sim, phases);
      const compiled = compileSystem(sim, system, {
        requests,
        onResponse: m.onResponse,
        onEdge: m.onEdge,
        onAttempt: m.onAttempt,
        onConsume: m.onConsume,
      });
      m.watch(compiled);
      sim.run(compiled.runUntil === null ? {} : { until: compiled.runUntil });
      const auto = m.outcome();
      // The scenario's own figures first (they are its headline), then the automatic ones.
      let out = auto;
      if (options.outcome !== undefined) {
        const own = options.outcome(measured(auto), {
          params,
          variant: name,
          system,
          perSecond: (c) => m.perSecond(c),
          compiled,
          sim,
        });
        out = { ...own };
        for (const [k, v] of Object.entries(auto)) if (!(k in own)) out[k] = v;
      }
      const reads: string[] = [];
      options.checks?.(
        measured(out, reads),
        (n, pass, detail) => {
          check(n, pass, detail ?? reads.join(', '));
          reads.length = 0;
        },
        params,
      );
      return out;
    },
    ...(options.compare === undefined ? {} : { compare: options.compare }),
  });
}

/**
 * The {@link Measured} readers over a flat outcome; every figure read is appended to `reads` as
 * `name = value`.
 *
 * @example
 * ```ts
 * measured(result.outcome).p99('users', 'during');
 * ```
 */
export function measured(out: Outcome, reads: string[] = []): Measured {
  const keys = Object.keys(out);
  const get = (name: string): number => {
    if (!(name in out)) {
      const guess = didYouMean(name, keys);
      throw new DsimError(
        'CONFIG_ERROR',
        `no measured figure ${showValue(name)}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}; names are <node>.<phase>.<figure>`,
        { details: { field: 'checks', value: name } },
      );
    }
    const v = out[name];
    reads.push(`${name} = ${String(v)}`);
    return typeof v === 'number' ? v : Number.NaN;
  };
  const f = (figure: string) => (node: string, phase: string) => get(`${node}.${phase}.${figure}`);
  return {
    get,
    p50: f('p50'),
    p99: f('p99'),
    p999: f('p999'),
    availability: f('availability'),
    rate: f('rate'),
    goodput: f('goodput'),
    errorRate: f('errorRate'),
    amplification: f('amplification'),
    utilisation: f('utilisation'),
    queue: f('queue'),
    lag: f('lag'),
    all: out,
  };
}
