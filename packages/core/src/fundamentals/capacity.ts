import { type Duration, toMs } from '../duration.js';
import { invalidArgument } from '../errors.js';
import { checkKind, checkOptions, optionKeys } from '../options.js';
import { kOfNAvailability } from './availability.js';
import { type MmcQueue, mmcQueue } from './queueing.js';

/**
 * Capacity planning from queueing theory: the fewest replicas that meet an objective at a given load.
 * Each replica is one server of an M/M/c queue (Poisson arrivals, exponential service, one shared FIFO
 * queue in front of all replicas: a worker pool, or consumers of one message queue). Replicas that each
 * keep their own queue behind a balancer need more than this (see the `capacity-planning` scenario);
 * so do service times more variable than exponential.
 */

/**
 * What the replicas must achieve at the load:
 * - `utilization`: ρ = λ / (cμ) at most `max`, in (0, 1] (and always < 1: a count is only ever stable);
 * - `mean-wait`: the mean time in queue Wq at most `max`;
 * - `mean-response`: the mean response time W = Wq + E[S] at most `max` (> the mean service time);
 * - `wait-probability`: P(wait > `longerThan`) at most `max`, in (0, 1]; `longerThan` defaults to 0,
 *   the probability of waiting at all (Erlang C);
 * - `response-percentile`: the `percentile` (in (0, 1), 0.99 for p99) of the response time at most
 *   `max`, which must exceed the service time's own percentile: queueing can only add to it.
 *
 * @example
 * ```ts
 * const p99: CapacityObjective = { kind: 'response-percentile', percentile: 0.99, max: '140ms' };
 * ```
 */
export type CapacityObjective =
  | { readonly kind: 'utilization'; readonly max: number }
  | { readonly kind: 'mean-wait'; readonly max: Duration }
  | { readonly kind: 'mean-response'; readonly max: Duration }
  | { readonly kind: 'wait-probability'; readonly max: number; readonly longerThan?: Duration }
  | { readonly kind: 'response-percentile'; readonly percentile: number; readonly max: Duration };

const OBJECTIVE_KINDS = {
  utilization: ['kind', 'max'],
  'mean-wait': ['kind', 'max'],
  'mean-response': ['kind', 'max'],
  'wait-probability': ['kind', 'max', 'longerThan'],
  'response-percentile': ['kind', 'percentile', 'max'],
} as const;

/** Options of {@link replicasForObjective}. */
export interface ReplicasOptions {
  /** Arrivals per second at the load planned for (the peak), a finite number > 0. */
  rate: number;
  /** Mean service time of one request on one replica (exponential), a duration > 0 ("20ms"). */
  serviceTime: Duration;
  /** What the replicas must achieve. */
  objective: CapacityObjective;
  /**
   * Most replicas considered; an objective not met by then is an error.
   * @default 100000
   */
  maxReplicas?: number;
}

const REPLICAS_KEYS = optionKeys<ReplicasOptions>()({
  rate: true,
  serviceTime: true,
  objective: true,
  maxReplicas: true,
});

/** What {@link replicasForObjective} found. Times in ms. */
export interface ReplicasAnswer {
  /** The fewest replicas meeting the objective. */
  readonly replicas: number;
  /** The objective, as given. */
  readonly objective: CapacityObjective;
  /** The objective's figure at `replicas`: ms for times, a fraction for utilisation and probabilities. */
  readonly value: number;
  /**
   * The figure with one replica fewer (which misses the objective): Infinity when that count is
   * unstable, null when `replicas` is 1.
   */
  readonly previous: number | null;
  /** The M/M/c steady state at `replicas`, rates per ms (times in ms). */
  readonly queue: MmcQueue;
}

/** A checked objective: its figure at c, and the bound it must not exceed. */
interface Goal {
  readonly max: number;
  figure(queue: MmcQueue): number;
}

const DEFAULT_MAX_REPLICAS = 100_000;

/**
 * The fewest replicas c such that an M/M/c queue with arrivals at `rate` per second and mean service
 * time `serviceTime` meets `objective`. Every figure falls as c grows, so the search doubles c from the
 * first stable count (⌊λ·E[S]⌋ + 1) until the objective holds, then bisects: a few dozen evaluations
 * even for thousands of replicas.
 *
 * @example
 * ```ts
 * // 180 requests/s at 20 ms each (3.6 erlangs), p99 response time at most 140 ms:
 * const r = replicasForObjective({
 *   rate: 180,
 *   serviceTime: '20ms',
 *   objective: { kind: 'response-percentile', percentile: 0.99, max: '140ms' },
 * });
 * r.replicas; // 5 (p99 104.9 ms; with 4 it is 243.9 ms)
 * ```
 */
export function replicasForObjective(options: ReplicasOptions): ReplicasAnswer {
  const C = 'replicasForObjective';
  if (options === null || typeof options !== 'object')
    throw invalidArgument('options', options, 'an object { rate, serviceTime, objective, maxReplicas? }', C);
  checkOptions(C, options, REPLICAS_KEYS);
  const load = checkLoad(options.rate, options.serviceTime, C);
  const maxReplicas = checkMaxReplicas(options.maxReplicas, DEFAULT_MAX_REPLICAS, C);
  const goal = checkObjective(options.objective, load.serviceMs, 'objective', C);
  return search(load, goal, options.objective, maxReplicas, C, 'objective');
}

/** The load in per-ms rates. */
interface Load {
  readonly lambda: number;
  readonly mu: number;
  readonly serviceMs: number;
  readonly erlangs: number;
}

function checkLoad(rate: unknown, serviceTime: unknown, component: string): Load {
  if (typeof rate !== 'number' || !Number.isFinite(rate) || !(rate > 0))
    throw invalidArgument('rate', rate, 'arrivals per second, a finite number > 0', component);
  const serviceMs = toMs(serviceTime as Duration, `${component}: serviceTime`);
  if (!(serviceMs > 0) || !Number.isFinite(serviceMs))
    throw invalidArgument(
      'serviceTime',
      serviceTime,
      'a finite mean service time > 0, such as "20ms"',
      component,
    );
  const lambda = rate / 1000;
  return { lambda, mu: 1 / serviceMs, serviceMs, erlangs: lambda * serviceMs };
}

function checkMaxReplicas(value: unknown, fallback: number, component: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10_000_000)
    throw invalidArgument('maxReplicas', value, 'an integer in [1, 10000000]', component);
  return value;
}

function durationField(value: unknown, field: string, component: string): number {
  const ms = toMs(value as Duration, `${component}: ${field}`);
  if (!Number.isFinite(ms)) throw invalidArgument(field, value, 'a finite duration', component);
  return ms;
}

/** Validates an objective against the load and turns it into a figure and a bound. */
function checkObjective(objective: unknown, serviceMs: number, path: string, component: string): Goal {
  const kind = checkKind(component, path, objective, OBJECTIVE_KINDS);
  const o = objective as Record<string, unknown>;
  const field = (key: string) => `${path}.${key}`;
  switch (kind) {
    case 'utilization': {
      const max = o.max;
      if (typeof max !== 'number' || !(max > 0 && max <= 1))
        throw invalidArgument(field('max'), max, 'a utilisation in (0, 1], such as 0.7', component);
      return { max, figure: (q) => q.utilization };
    }
    case 'mean-wait': {
      const max = durationField(o.max, field('max'), component);
      if (!(max > 0))
        throw invalidArgument(field('max'), o.max, 'a mean wait > 0 (no queue has none)', component);
      return { max, figure: (q) => q.meanWait };
    }
    case 'mean-response': {
      const max = durationField(o.max, field('max'), component);
      if (!(max > serviceMs))
        throw invalidArgument(
          field('max'),
          o.max,
          `a mean response time > the mean service time (${serviceMs} ms): waiting only adds to it`,
          component,
        );
      return { max, figure: (q) => q.meanResponse };
    }
    case 'wait-probability': {
      const max = o.max;
      if (typeof max !== 'number' || !(max > 0 && max <= 1))
        throw invalidArgument(field('max'), max, 'a probability in (0, 1], such as 0.05', component);
      const t = o.longerThan === undefined ? 0 : durationField(o.longerThan, field('longerThan'), component);
      return { max, figure: (q) => q.waitExceeds(t) };
    }
    default: {
      const p = o.percentile;
      if (typeof p !== 'number' || !(p > 0 && p < 1))
        throw invalidArgument(field('percentile'), p, 'a probability in (0, 1), such as 0.99', component);
      const max = durationField(o.max, field('max'), component);
      // With no wait at all the response is the service time itself, exp(μ): its p-quantile is the floor.
      const floor = -Math.log1p(-p) * serviceMs;
      if (!(max > floor))
        throw invalidArgument(
          field('max'),
          o.max,
          `a time > ${round(floor)} ms, the service time's own p${round(p * 100)} (no number of replicas goes below it)`,
          component,
        );
      return { max, figure: (q) => q.responsePercentile(p) };
    }
  }
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}

function search(
  load: Load,
  goal: Goal,
  objective: CapacityObjective,
  maxReplicas: number,
  component: string,
  field: string,
): ReplicasAnswer {
  const at = (c: number): MmcQueue | null =>
    mmcQueue({ servers: c, arrivalRate: load.lambda, serviceRate: load.mu });
  const meets = (c: number): boolean => {
    const q = at(c);
    return q !== null && goal.figure(q) <= goal.max;
  };
  const first = Math.floor(load.erlangs) + 1;
  if (first > maxReplicas || !meets(maxReplicas))
    throw invalidArgument(
      field,
      objective,
      `an objective that ${maxReplicas} replicas (maxReplicas) can meet at ${round(load.lambda * 1000)} requests/s of ${round(load.serviceMs)} ms`,
      component,
    );
  // Invariant: lo misses (or is below the first stable count), hi meets.
  let lo = first - 1;
  let hi = first;
  while (!meets(hi)) {
    lo = hi;
    hi = Math.min(maxReplicas, hi * 2);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (meets(mid)) hi = mid;
    else lo = mid;
  }
  const queue = at(hi)!;
  let previous: number | null = null;
  if (hi > 1) {
    const below = at(hi - 1);
    previous = below === null ? Number.POSITIVE_INFINITY : goal.figure(below);
  }
  return { replicas: hi, objective, value: goal.figure(queue), previous, queue };
}

/** Options of {@link replicasForAvailability}. */
export interface AvailabilityReplicasOptions {
  /** The availability the group must reach, in [0, 1). */
  target: number;
  /** Each replica's own availability, in [0, 1]; replicas fail independently. */
  replica: number;
  /**
   * Replicas that must be up for the group to be up (the count the load needs, or a quorum), an
   * integer >= 1.
   * @default 1
   */
  need?: number;
  /**
   * Most replicas considered; a target not met by then is an error.
   * @default 10000
   */
  maxReplicas?: number;
}

const AVAILABILITY_KEYS = optionKeys<AvailabilityReplicasOptions>()({
  target: true,
  replica: true,
  need: true,
  maxReplicas: true,
});

/** What {@link replicasForAvailability} found. */
export interface AvailabilityReplicasAnswer {
  /** The fewest replicas n with P(at least `need` of n up) >= target. */
  readonly replicas: number;
  /** That probability with `replicas` ({@link kOfNAvailability}). */
  readonly availability: number;
  /** The same with one replica fewer, or null when `replicas` equals `need`. */
  readonly previous: number | null;
}

/**
 * The fewest replicas n such that at least `need` of them are up with probability >= `target`, each
 * up with probability `replica`, independently ({@link kOfNAvailability}: N + M redundancy). Correlated
 * failures (a zone taking several replicas at once) need more; see `zonalAvailability`.
 *
 * @example
 * ```ts
 * // 5 replicas carry the peak; each is up 99.5% of the time; the group must be up 99.99%:
 * replicasForAvailability({ target: 0.9999, replica: 0.995, need: 5 }).replicas; // 7
 * ```
 */
export function replicasForAvailability(options: AvailabilityReplicasOptions): AvailabilityReplicasAnswer {
  const C = 'replicasForAvailability';
  if (options === null || typeof options !== 'object')
    throw invalidArgument('options', options, 'an object { target, replica, need?, maxReplicas? }', C);
  checkOptions(C, options, AVAILABILITY_KEYS);
  return availabilitySearch(options, 'target', C);
}

function availabilitySearch(
  options: AvailabilityReplicasOptions,
  path: string,
  component: string,
): AvailabilityReplicasAnswer {
  const { target, replica } = options;
  const prefix = path === 'target' ? '' : `${path}.`;
  if (typeof target !== 'number' || !(target >= 0 && target < 1))
    throw invalidArgument(`${prefix}target`, target, 'an availability in [0, 1), such as 0.9999', component);
  if (typeof replica !== 'number' || !(replica >= 0 && replica <= 1))
    throw invalidArgument(`${prefix}replica`, replica, 'an availability in [0, 1], such as 0.995', component);
  const need = options.need ?? 1;
  if (typeof need !== 'number' || !Number.isInteger(need) || need < 1 || need > 1_000_000)
    throw invalidArgument(`${prefix}need`, need, 'an integer in [1, 1000000]', component);
  const maxReplicas = checkMaxReplicas(options.maxReplicas, 10_000, component);
  let previous: number | null = null;
  for (let n = need; n <= maxReplicas; n++) {
    const availability = kOfNAvailability(need, n, replica);
    if (availability >= target) return { replicas: n, availability, previous };
    previous = availability;
  }
  throw invalidArgument(
    `${prefix}target`,
    target,
    `an availability that ${maxReplicas} replicas (maxReplicas) of ${replica} each reach with ${need} needed up`,
    component,
  );
}

/** Options of {@link planCapacity}. */
export interface CapacityPlanOptions {
  /** Arrivals per second at the peak, a finite number > 0. */
  rate: number;
  /** Mean service time of one request on one replica (exponential), a duration > 0. */
  serviceTime: Duration;
  /** Objectives the replicas must all meet at the peak; at least one. */
  objectives: readonly CapacityObjective[];
  /**
   * Redundancy on top: enough replicas that the count the load needs is up with probability >=
   * `target`, each replica up with probability `replica`.
   * @default none (the count the load needs, with no spare)
   */
  availability?: { readonly target: number; readonly replica: number };
  /**
   * Most replicas considered.
   * @default 100000
   */
  maxReplicas?: number;
}

const PLAN_KEYS = optionKeys<CapacityPlanOptions>()({
  rate: true,
  serviceTime: true,
  objectives: true,
  availability: true,
  maxReplicas: true,
});

/** What {@link planCapacity} found. */
export interface CapacityPlan {
  /** Replicas the load needs: the largest count any objective asks for. */
  readonly forLoad: number;
  /** Replicas to run: `forLoad`, plus spares when an availability target is given. */
  readonly replicas: number;
  /** Each objective's own answer, in the order given. */
  readonly byObjective: readonly ReplicasAnswer[];
  /** P(at least `forLoad` of `replicas` up), or null without an availability target. */
  readonly availability: number | null;
}

/**
 * A capacity plan: the replicas each objective needs at the peak ({@link replicasForObjective}), the
 * largest of them (the count the load needs), and with an availability target the spares that keep
 * that many up ({@link replicasForAvailability} with `need` = that count).
 *
 * @example
 * ```ts
 * const plan = planCapacity({
 *   rate: 180,
 *   serviceTime: '20ms',
 *   objectives: [
 *     { kind: 'response-percentile', percentile: 0.99, max: '140ms' }, // 5
 *     { kind: 'utilization', max: 0.7 },                                // 6
 *     { kind: 'mean-wait', max: '1ms' },                                // 7
 *   ],
 *   availability: { target: 0.9999, replica: 0.995 },
 * });
 * plan.forLoad;  // 7
 * plan.replicas; // 9
 * ```
 */
export function planCapacity(options: CapacityPlanOptions): CapacityPlan {
  const C = 'planCapacity';
  if (options === null || typeof options !== 'object')
    throw invalidArgument(
      'options',
      options,
      'an object { rate, serviceTime, objectives, availability?, maxReplicas? }',
      C,
    );
  checkOptions(C, options, PLAN_KEYS);
  const load = checkLoad(options.rate, options.serviceTime, C);
  const maxReplicas = checkMaxReplicas(options.maxReplicas, DEFAULT_MAX_REPLICAS, C);
  const { objectives } = options;
  if (!Array.isArray(objectives) || objectives.length === 0)
    throw invalidArgument('objectives', objectives, 'a non-empty array of objectives', C);
  const byObjective = objectives.map((objective, i) =>
    search(
      load,
      checkObjective(objective, load.serviceMs, `objectives[${i}]`, C),
      objective,
      maxReplicas,
      C,
      `objectives[${i}]`,
    ),
  );
  const forLoad = Math.max(...byObjective.map((a) => a.replicas));
  if (options.availability === undefined)
    return { forLoad, replicas: forLoad, byObjective, availability: null };
  const spec = options.availability;
  if (spec === null || typeof spec !== 'object')
    throw invalidArgument('availability', spec, 'an object { target, replica }', C);
  checkOptions(C, spec, ['target', 'replica'], 'availability');
  const spared = availabilitySearch(
    { target: spec.target, replica: spec.replica, need: forLoad, maxReplicas },
    'availability',
    C,
  );
  return { forLoad, replicas: spared.replicas, byObjective, availability: spared.availability };
}
