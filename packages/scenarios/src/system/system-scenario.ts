import { checkOptions, DsimError, didYouMean, showValue } from '@dsim/core';
import { defineScenario, type Outcome, type Scenario } from '../scenario.js';
import { compileSystem } from './compile.js';
import type { DurationData } from './distributions.js';
import { loadSystem } from './load.js';
import { SystemMeasurement } from './measure.js';
import { type PhaseWindows, systemPhases } from './phases.js';
import type { SystemDescription } from './schema.js';
import { validateSystem } from './validate.js';
import { freezeSystem, type SystemRecipe, variant } from './variants.js';

/** A variant of a system scenario: a recipe applied (with immer) to the frozen base description. */
export interface SystemVariant {
  name: string;
  description?: string;
  /** The change. @default none: the base as it is (a baseline to compare against) */
  recipe?: SystemRecipe;
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
  queue(service: string, phase: string): number;
  /** The whole flat outcome. */
  readonly all: Readonly<Outcome>;
}

/**
 * Records a check: `pass` is its verdict; `detail` defaults to the figures read since the previous check,
 * e.g. `users.during.p99 = 812.3`.
 */
export type CheckFn = (name: string, pass: boolean, detail?: string) => void;

/** Options of {@link defineSystemScenario}. */
export interface SystemScenarioOptions {
  /** Identifier for `dsim run`: lowercase words joined by hyphens. */
  name: string;
  description: string;
  /** The system, or the path of a YAML/JSON file holding it (read once, at definition). */
  system: SystemDescription | string | URL;
  /** Each variant compiles and runs its own copy of the system. @default none */
  variants?: readonly SystemVariant[];
  /**
   * Explicit phases `{ name: [from, to] }` (ms or durations from the start). Overlaps are allowed.
   * @default from the fault schedule: before, during (per fault), after (see systemPhases)
   */
  phases?: PhaseWindows;
  /** The cut at the start, excluded from `before` (default phases only). @default 10% of the run */
  warmup?: DurationData;
  /** Checks on the measured figures, run after every variant. @default none */
  checks?: (m: Measured, check: CheckFn) => void;
}

const KEYS = ['name', 'description', 'system', 'variants', 'phases', 'warmup', 'checks'] as const;

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
export function defineSystemScenario(options: SystemScenarioOptions): Scenario<{}> {
  checkOptions('defineSystemScenario', options, KEYS);
  const where = `defineSystemScenario(${JSON.stringify(options.name)})`;
  const base = freezeSystem(
    typeof options.system === 'string' || options.system instanceof URL
      ? loadSystem(options.system)
      : validateSystem(options.system),
  );
  if (options.variants !== undefined && !Array.isArray(options.variants))
    throw new DsimError('CONFIG_ERROR', `${where}: variants must be an array of { name, recipe }`);
  const recipes = new Map<string, SystemRecipe>();
  for (const [i, v] of (options.variants ?? []).entries()) {
    checkOptions(`${where}: variants[${i}]`, v, ['name', 'description', 'recipe']);
    if (v.recipe !== undefined && typeof v.recipe !== 'function')
      throw new DsimError(
        'CONFIG_ERROR',
        `${where}: variants[${i}].recipe must be a function (draft) => void`,
        {
          details: { field: `variants[${i}].recipe`, value: v.recipe },
        },
      );
    if (v.recipe !== undefined) recipes.set(v.name, v.recipe);
  }
  if (options.checks !== undefined && typeof options.checks !== 'function')
    throw new DsimError('CONFIG_ERROR', `${where}: checks must be a function (m, check) => void`, {
      details: { field: 'checks', value: options.checks },
    });
  const phaseOptions = { windows: options.phases, warmup: options.warmup };
  systemPhases(base, phaseOptions); // checked now, against the base; again per variant
  return defineScenario({
    name: options.name,
    description: options.description,
    params: {},
    ...(options.variants === undefined
      ? {}
      : {
          variants: options.variants.map((v) => ({
            name: v.name,
            ...(v.description === undefined ? {} : { description: v.description }),
          })),
        }),
    run({ sim, requests, variant: name, check }) {
      const recipe = name === null ? undefined : recipes.get(name);
      const system = recipe === undefined ? base : variant(recipe)(base);
      const m = new SystemMeasurement(sim, systemPhases(system, phaseOptions));
      m.watch(compileSystem(sim, system, { requests, onResponse: m.onResponse }));
      sim.run();
      const out = m.outcome();
      const reads: string[] = [];
      options.checks?.(measured(out, reads), (n, pass, detail) => {
        check(n, pass, detail ?? reads.join(', '));
        reads.length = 0;
      });
      return out;
    },
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
    all: out,
  };
}
