import {
  checkNumber,
  checkObject,
  checkOptions,
  invalidOption,
  optionKeys,
  type RandomStream,
} from '@dsim/core';
import {
  type ConcurrencyLimit,
  checkComputed,
  checkLimitBounds,
  checkSample,
  log10Root,
  numberOrFunction,
} from './limit.js';

/**
 * Options of {@link VegasLimit}; names and defaults are those of Netflix concurrency-limits'
 * `VegasLimit.Builder` (its `maxConcurrency` is `maxLimit` here), plus the random stream its probe
 * jitter draws from. An unknown key is an error.
 *
 * @example
 * ```ts
 * const options: VegasLimitOptions = { rng: sim.rng('vegas'), initialLimit: 10, maxLimit: 100 };
 * ```
 */
export interface VegasLimitOptions {
  /**
   * Stream of the probe jitter (the library draws it from `ThreadLocalRandom`), e.g. `sim.rng('vegas')`.
   * Required: a simulation's randomness comes from named seeded streams.
   */
  rng: RandomStream;
  /**
   * Limit at the start. An integer in [1, maxLimit].
   * @default 20
   */
  initialLimit?: number;
  /**
   * The limit never goes above this (the library's `maxConcurrency`). An integer >= 1.
   * @default 1000
   */
  maxLimit?: number;
  /**
   * Weight of the new limit in each update, in (0, 1].
   * @default 1 (no smoothing)
   */
  smoothing?: number;
  /**
   * Below this estimated queue the limit grows by `increase`: a number, or a function of the current
   * (integer) limit.
   * @default 3 × log10Root(limit)
   */
  alpha?: number | ((limit: number) => number);
  /**
   * Above this estimated queue the limit shrinks by `decrease`; at or below `threshold` it grows by beta.
   * A number, or a function of the current (integer) limit.
   * @default 6 × log10Root(limit)
   */
  beta?: number | ((limit: number) => number);
  /**
   * At or below this estimated queue the limit grows by beta at once. A function of the current limit.
   * @default log10Root(limit)
   */
  threshold?: (limit: number) => number;
  /**
   * The limit after an increase, from the current (real-valued) limit.
   * @default limit + log10Root(limit)
   */
  increase?: (limit: number) => number;
  /**
   * The limit after a decrease (and after a drop), from the current (real-valued) limit.
   * @default limit − log10Root(limit)
   */
  decrease?: (limit: number) => number;
  /**
   * The no-load RTT is re-probed (taken from the next sample) every probeMultiplier × limit samples, times
   * a jitter drawn uniformly in [0.5, 1). An integer >= 1.
   * @default 30
   */
  probeMultiplier?: number;
}

const VEGAS_KEYS = optionKeys<VegasLimitOptions>()({
  rng: true,
  initialLimit: true,
  maxLimit: true,
  smoothing: true,
  alpha: true,
  beta: true,
  threshold: true,
  increase: true,
  decrease: true,
  probeMultiplier: true,
});

const C = 'VegasLimit';

/**
 * Delay-based limit after TCP Vegas: Netflix concurrency-limits' `VegasLimit`, the default limit of the
 * library's limiters and the one its README recommends on servers. It keeps the lowest RTT seen as the
 * no-load RTT and estimates the queue behind the limit L as queue = ceil(L × (1 − rttNoLoad / rtt)).
 * On each sample:
 *
 * 1. Every probeMultiplier × L × jitter samples the sample's RTT becomes the no-load RTT (a re-probe, so a
 *    baseline that rose for good is learnt); a sample below the no-load RTT replaces it. Either way the
 *    limit does not change.
 * 2. On a drop: L ← decrease(L).
 * 3. Else, if inflight × 2 < L (app-limited): no change.
 * 4. Else: queue <= threshold: L ← L + beta; queue < alpha: L ← increase(L); queue > beta:
 *    L ← decrease(L); otherwise no change.
 * 5. L is clamped to [1, maxLimit] and smoothed: L ← (1 − smoothing) × L_old + smoothing × L.
 *
 * With the defaults below a limit of 100, alpha = 3, beta = 6 and threshold = 1, and each step is ±1: the
 * limit settles where 3 to 6 requests wait in queue.
 *
 * @example
 * ```ts
 * const vegas = new VegasLimit({ rng: sim.rng('vegas'), initialLimit: 10, maxLimit: 20, alpha: 3, beta: 6 });
 * vegas.onSample(0, 10, 10, false); // first sample: the no-load RTT is 10 ms
 * vegas.onSample(0, 10, 11, false); // no queue: 10 + beta
 * vegas.limit; // 16
 * ```
 */
export class VegasLimit implements ConcurrencyLimit {
  readonly kind = 'vegas';
  /** Highest limit. */
  readonly maxLimit: number;
  /** Weight of each new limit. */
  readonly smoothing: number;
  /** Re-probe period, in multiples of the limit. */
  readonly probeMultiplier: number;
  private readonly rng: RandomStream;
  private readonly alpha: (limit: number) => number;
  private readonly beta: (limit: number) => number;
  private readonly threshold: (limit: number) => number;
  private readonly increase: (limit: number) => number;
  private readonly decrease: (limit: number) => number;
  private estimated: number;
  private rttNoLoad = 0;
  private probeCount = 0;
  private probeJitter = 0;

  /** @param options - see {@link VegasLimitOptions} */
  constructor(options: VegasLimitOptions) {
    checkObject(C, 'options', options, 'an options object with rng');
    checkOptions(C, options, VEGAS_KEYS);
    const rng = options.rng as Partial<RandomStream> | undefined;
    if (rng === null || typeof rng !== 'object' || typeof rng.next !== 'function')
      throw invalidOption(C, 'rng', options.rng, "a random stream, e.g. sim.rng('vegas')");
    this.rng = options.rng;
    const bounds = checkLimitBounds(C, options.initialLimit ?? 20, 1, options.maxLimit ?? 1000);
    this.maxLimit = bounds.maxLimit;
    this.estimated = bounds.initialLimit;
    const smoothing = options.smoothing ?? 1;
    if (!(typeof smoothing === 'number' && smoothing > 0 && smoothing <= 1))
      throw invalidOption(C, 'smoothing', smoothing, 'a number in (0, 1]');
    this.smoothing = smoothing;
    this.alpha = numberOrFunction(C, 'alpha', options.alpha, (l) => 3 * log10Root(l), { min: 0 });
    this.beta = numberOrFunction(C, 'beta', options.beta, (l) => 6 * log10Root(l), { min: 0 });
    this.threshold = fn('threshold', options.threshold, log10Root);
    this.increase = fn('increase', options.increase, (l) => l + log10Root(Math.floor(l)));
    this.decrease = fn('decrease', options.decrease, (l) => l - log10Root(Math.floor(l)));
    this.probeMultiplier = checkNumber(C, 'probeMultiplier', options.probeMultiplier ?? 30, {
      integer: true,
      min: 1,
    });
    this.resetProbeJitter();
  }

  get limit(): number {
    return Math.floor(this.estimated);
  }

  /** The no-load RTT (ms) the queue is estimated against; 0 before the first sample. */
  get noLoadRtt(): number {
    return this.rttNoLoad;
  }

  onSample(startTime: number, rtt: number, inflight: number, didDrop: boolean): void {
    checkSample(C, startTime, rtt, inflight, true);
    this.probeCount++;
    if (this.probeJitter * this.probeMultiplier * this.estimated <= this.probeCount) {
      this.resetProbeJitter();
      this.probeCount = 0;
      this.rttNoLoad = rtt;
      return;
    }
    if (this.rttNoLoad === 0 || rtt < this.rttNoLoad) {
      this.rttNoLoad = rtt;
      return;
    }
    this.update(rtt, inflight, didDrop);
  }

  private update(rtt: number, inflight: number, didDrop: boolean): void {
    const estimated = this.estimated;
    const queueSize = Math.ceil(estimated * (1 - this.rttNoLoad / rtt));
    let next: number;
    if (didDrop) {
      next = checkComputed(C, 'decrease(limit)', this.decrease(estimated));
    } else if (inflight * 2 < estimated) {
      return;
    } else {
      const whole = Math.floor(estimated);
      const alpha = checkComputed(C, 'alpha(limit)', this.alpha(whole));
      const beta = checkComputed(C, 'beta(limit)', this.beta(whole));
      const threshold = checkComputed(C, 'threshold(limit)', this.threshold(whole));
      if (queueSize <= threshold) next = estimated + beta;
      else if (queueSize < alpha) next = checkComputed(C, 'increase(limit)', this.increase(estimated));
      else if (queueSize > beta) next = checkComputed(C, 'decrease(limit)', this.decrease(estimated));
      else return;
    }
    next = Math.max(1, Math.min(this.maxLimit, next));
    this.estimated = (1 - this.smoothing) * estimated + this.smoothing * next;
  }

  private resetProbeJitter(): void {
    this.probeJitter = 0.5 + 0.5 * this.rng.next();
  }
}

function fn(field: string, value: unknown, fallback: (limit: number) => number): (limit: number) => number {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw invalidOption(C, field, value, 'a function (limit) => number');
  return value as (limit: number) => number;
}
