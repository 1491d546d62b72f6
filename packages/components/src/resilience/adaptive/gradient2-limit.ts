import { checkNumber, checkObject, checkOptions, invalidOption, optionKeys } from '@dsim/core';
import {
  type ConcurrencyLimit,
  checkComputed,
  checkLimitBounds,
  checkSample,
  numberOrFunction,
} from './limit.js';

/**
 * Options of {@link Gradient2Limit}; names and defaults are those of Netflix concurrency-limits'
 * `Gradient2Limit.Builder` (its `maxConcurrency` is `maxLimit` here). An unknown key is an error.
 *
 * @example
 * ```ts
 * const options: Gradient2LimitOptions = { initialLimit: 10, minLimit: 1, maxLimit: 100 };
 * ```
 */
export interface Gradient2LimitOptions {
  /**
   * Limit at the start. An integer in [minLimit, maxLimit].
   * @default 20
   */
  initialLimit?: number;
  /**
   * The limit never goes below this. An integer >= 1. The library's default of 20 floors the limit at 20
   * requests in flight: set it lower for a service with fewer workers than that.
   * @default 20
   */
  minLimit?: number;
  /**
   * The limit never goes above this (the library's `maxConcurrency`). An integer >= minLimit.
   * @default 200
   */
  maxLimit?: number;
  /**
   * Weight of the new estimate in each update, in (0, 1]: 1 replaces the limit with the estimate.
   * @default 0.2
   */
  smoothing?: number;
  /**
   * How much the limit may grow by per update while latency stays low: a number >= 0, or a function of
   * the current (integer) limit. The library's current default is a fixed 4 (older versions used
   * sqrt(limit)).
   * @default 4
   */
  queueSize?: number | ((limit: number) => number);
  /**
   * Samples in the long-term RTT average: an exponential average with factor 2 / (longWindow + 1), after a
   * plain average of the first 10 samples. An integer >= 1.
   * @default 600
   */
  longWindow?: number;
  /**
   * How much the current RTT may exceed the long-term one before the limit shrinks: the gradient is
   * rttTolerance × longRtt / shortRtt, capped at 1. A number >= 1 (2 accepts a doubling of latency).
   * @default 1.5
   */
  rttTolerance?: number;
}

const GRADIENT2_KEYS = optionKeys<Gradient2LimitOptions>()({
  initialLimit: true,
  minLimit: true,
  maxLimit: true,
  smoothing: true,
  queueSize: true,
  longWindow: true,
  rttTolerance: true,
});

/** Samples averaged plainly before the exponential average starts (the library's warm-up window). */
const WARMUP_SAMPLES = 10;

/**
 * Delay-based limit from the divergence of a short and a long RTT average: Netflix concurrency-limits'
 * `Gradient2Limit`, step for step. On each sample (one request, or one window's average when wrapped in a
 * {@link WindowedLimit}), with E the estimated (real-valued) limit:
 *
 * 1. queueSize ← queueSize(floor(E)); shortRtt ← the sample's RTT; longRtt ← the long average with the
 *    sample added (a plain mean over the first 10 samples, then factor 2 / (longWindow + 1)).
 * 2. If longRtt / shortRtt > 2 (latency has fallen back after a long overload), longRtt ← longRtt × 0.95,
 *    so the baseline comes down faster than the average alone would bring it.
 * 3. If inflight < E / 2 the service is app-limited: the limit does not change.
 * 4. gradient ← max(0.5, min(1, rttTolerance × longRtt / shortRtt));
 *    E ← (1 − smoothing) × E + smoothing × (gradient × E + queueSize), clamped to [minLimit, maxLimit].
 *
 * The limit is floor(E). Drops are ignored: the library's Gradient2 reacts to latency only. At steady
 * state with no queueing the gradient is 1 and E grows by smoothing × queueSize per sample; queueing
 * raises shortRtt above longRtt until the gradient pulls E back, so the limit settles where
 * gradient × E + queueSize = E, i.e. gradient = 1 − queueSize / E.
 *
 * @example
 * ```ts
 * const g = new Gradient2Limit({ initialLimit: 20, minLimit: 1 });
 * g.onSample(0, 10, 20, false); // long = short = 10 ms: gradient 1, E = 0.8 × 20 + 0.2 × 24 = 20.8
 * g.limit; // 20
 * ```
 */
export class Gradient2Limit implements ConcurrencyLimit {
  readonly kind = 'gradient2';
  /** Lowest limit. */
  readonly minLimit: number;
  /** Highest limit. */
  readonly maxLimit: number;
  /** Weight of each new estimate. */
  readonly smoothing: number;
  /** Tolerated ratio of short to long RTT. */
  readonly rttTolerance: number;
  /** Samples in the long average. */
  readonly longWindow: number;
  private readonly queueSize: (limit: number) => number;
  private estimated: number;
  private current: number;
  private lastRtt = 0;
  // The library's ExpAvgMeasurement(longWindow, 10), kept in fields.
  private long = 0;
  private longSum = 0;
  private longCount = 0;

  /** @param options - see {@link Gradient2LimitOptions} */
  constructor(options: Gradient2LimitOptions = {}) {
    const C = 'Gradient2Limit';
    checkObject(C, 'options', options, 'an options object');
    checkOptions(C, options, GRADIENT2_KEYS);
    const bounds = checkLimitBounds(
      C,
      options.initialLimit ?? 20,
      options.minLimit ?? 20,
      options.maxLimit ?? 200,
    );
    this.minLimit = bounds.minLimit;
    this.maxLimit = bounds.maxLimit;
    this.estimated = bounds.initialLimit;
    this.current = bounds.initialLimit;
    const smoothing = options.smoothing ?? 0.2;
    if (!(typeof smoothing === 'number' && smoothing > 0 && smoothing <= 1))
      throw invalidOption(C, 'smoothing', smoothing, 'a number in (0, 1]');
    this.smoothing = smoothing;
    this.queueSize = numberOrFunction(C, 'queueSize', options.queueSize, 4, { min: 0 });
    this.longWindow = checkNumber(C, 'longWindow', options.longWindow ?? 600, { integer: true, min: 1 });
    this.rttTolerance = checkNumber(C, 'rttTolerance', options.rttTolerance ?? 1.5, { min: 1 });
  }

  get limit(): number {
    return this.current;
  }

  /** The real-valued estimate behind the limit (the limit is its floor). */
  get estimatedLimit(): number {
    return this.estimated;
  }

  /** The long-term RTT average (ms): the baseline the current RTT is compared with. */
  get longRtt(): number {
    return this.long;
  }

  /** The last sample's RTT (ms). */
  get shortRtt(): number {
    return this.lastRtt;
  }

  onSample(startTime: number, rtt: number, inflight: number, _didDrop: boolean): void {
    checkSample('Gradient2Limit', startTime, rtt, inflight, true);
    const estimated = this.estimated;
    const queueSize = checkComputed(
      'Gradient2Limit',
      'queueSize(limit)',
      this.queueSize(Math.floor(estimated)),
    );
    this.lastRtt = rtt;
    const shortRtt = rtt;
    const longRtt = this.addLong(rtt);
    if (longRtt / shortRtt > 2) this.long = longRtt * 0.95;
    if (inflight < estimated / 2) {
      this.current = Math.floor(estimated);
      return;
    }
    const gradient = Math.max(0.5, Math.min(1, (this.rttTolerance * longRtt) / shortRtt));
    let next = estimated * gradient + queueSize;
    next = estimated * (1 - this.smoothing) + next * this.smoothing;
    next = Math.max(this.minLimit, Math.min(this.maxLimit, next));
    this.estimated = next;
    this.current = Math.floor(next);
  }

  /** ExpAvgMeasurement.add: a plain mean over the warm-up samples, then the exponential average. */
  private addLong(sample: number): number {
    if (this.longCount < WARMUP_SAMPLES) {
      this.longCount++;
      this.longSum += sample;
      this.long = this.longSum / this.longCount;
    } else {
      const factor = 2 / (this.longWindow + 1);
      this.long = this.long * (1 - factor) + sample * factor;
    }
    return this.long;
  }
}
