import { checkEnum, checkNumber, checkObject, checkOptions, optionKeys } from '@dsim/core';

const C = 'loadSlowdown';

/**
 * The load a {@link Service} sees when a worker starts a request. One object is reused for every call:
 * read it, do not keep it.
 */
export interface ServiceLoad {
  /** Workers busy, including the one starting now. */
  readonly busy: number;
  /** Requests waiting in the queue. */
  readonly queue: number;
  /** Worker count. */
  readonly concurrency: number;
  /** busy + queue: requests held in memory. */
  readonly inFlight: number;
  /** busy / concurrency. */
  readonly utilization: number;
}

/** A service-time multiplier computed from the load: 1 is nominal, 3 is three times slower. */
export type Slowdown = (load: ServiceLoad) => number;

/**
 * Options of {@link loadSlowdown}; an unknown key is an error.
 *
 * @example
 * ```ts
 * const options: LoadSlowdownOptions = { on: 'inFlight', threshold: 40, perUnit: 0.02, max: 10 };
 * ```
 */
export interface LoadSlowdownOptions {
  /**
   * What drives the slowdown: `inFlight` (memory held: the usual GC-pressure model), `queue` or
   * `utilization`.
   * @default 'inFlight'
   */
  on?: 'inFlight' | 'queue' | 'utilization';
  /**
   * Load at which the slowdown starts; below it the multiplier is 1. A finite number.
   * @default 0
   */
  threshold?: number;
  /** Growth per unit of load above the threshold. A finite number >= 0. */
  perUnit: number;
  /**
   * `linear`: 1 + perUnit·x; `exponential`: e^(perUnit·x), with x the load above the threshold.
   * @default 'linear'
   */
  curve?: 'linear' | 'exponential';
  /**
   * Cap on the multiplier (a JVM does not slow down for ever: it runs out of memory first). A number
   * >= 1, or Infinity.
   * @default Infinity
   */
  max?: number;
}

const SLOWDOWN_KEYS = optionKeys<LoadSlowdownOptions>()({
  on: true,
  threshold: true,
  perUnit: true,
  curve: true,
  max: true,
});

/**
 * Load-dependent latency for {@link ServiceOptions.slowdown}: service time grows with the load above a
 * threshold, as a JVM under memory pressure spends more and more time in garbage collection. This is the
 * feedback loop of a GC death spiral: a longer queue holds more memory, which slows every request, which
 * lengthens the queue.
 *
 * @example
 * ```ts
 * // 2% slower per request held beyond 40, at most 10x.
 * new Service(node, { serviceTime: exponential({ mean: 10 }), slowdown: loadSlowdown({ threshold: 40, perUnit: 0.02, max: 10 }) });
 * ```
 */
export function loadSlowdown(options: LoadSlowdownOptions): Slowdown {
  checkObject(C, 'options', options, 'an options object with perUnit');
  checkOptions(C, options, SLOWDOWN_KEYS);
  const on = checkEnum(C, 'on', options.on ?? 'inFlight', ['inFlight', 'queue', 'utilization']);
  const threshold = checkNumber(C, 'threshold', options.threshold ?? 0, {});
  const perUnit = checkNumber(C, 'perUnit', options.perUnit, { min: 0 });
  const curve = checkEnum(C, 'curve', options.curve ?? 'linear', ['linear', 'exponential']);
  const max = checkNumber(C, 'max', options.max ?? Infinity, { min: 1, infinity: true });
  return (load) => {
    const x = Math.max(0, load[on] - threshold);
    const factor = curve === 'linear' ? 1 + perUnit * x : Math.exp(perUnit * x);
    return factor < max ? factor : max;
  };
}
