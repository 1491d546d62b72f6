import {
  checkDuration,
  checkObject,
  checkOptions,
  type Duration,
  invalidOption,
  optionKeys,
} from '@dsim/core';
import { type ConcurrencyLimit, checkLimitBounds, checkSample } from './limit.js';

/**
 * Options of {@link AimdLimit}; names and defaults are those of Netflix concurrency-limits'
 * `AIMDLimit.Builder`. An unknown key is an error.
 *
 * @example
 * ```ts
 * const options: AimdLimitOptions = { initialLimit: 10, minLimit: 1, maxLimit: 100, timeout: '100ms' };
 * ```
 */
export interface AimdLimitOptions {
  /**
   * Limit at the start. An integer in [minLimit, maxLimit].
   * @default 20
   */
  initialLimit?: number;
  /**
   * The limit never goes below this. An integer >= 1. The library's default of 20 means that, untouched,
   * AIMD never limits a service below 20 requests in flight.
   * @default 20
   */
  minLimit?: number;
  /**
   * The limit never goes above this. An integer >= minLimit.
   * @default 200
   */
  maxLimit?: number;
  /**
   * Factor applied to the limit on a drop. In [0.5, 1), as the library requires.
   * @default 0.9
   */
  backoffRatio?: number;
  /**
   * A request whose round-trip time exceeds this counts as a drop, even if it succeeded. A duration > 0.
   * @default 5 s
   */
  timeout?: Duration;
}

const AIMD_KEYS = optionKeys<AimdLimitOptions>()({
  initialLimit: true,
  minLimit: true,
  maxLimit: true,
  backoffRatio: true,
  timeout: true,
});

/**
 * Loss-based additive-increase, multiplicative-decrease limit: Netflix concurrency-limits' `AIMDLimit`,
 * rule for rule. On each sample, with L the current limit:
 *
 * - a drop, or a round-trip time above `timeout`: L ← floor(L × backoffRatio);
 * - otherwise, if the request was admitted with at least half the limit in flight (inflight × 2 >= L):
 *   L ← L + 1 (no growth while the limit is not being used: the library's "app-limited" guard);
 * - then L is clamped to [minLimit, maxLimit].
 *
 * It ignores latency below the timeout, so it lets a queue build until requests time out or are dropped
 * downstream: the library recommends it on the client side, with a delay-based limit on the server.
 *
 * @example
 * ```ts
 * const aimd = new AimdLimit({ initialLimit: 30 });
 * aimd.onSample(0, 5, 0, true);
 * aimd.limit; // 27 (floor(30 × 0.9))
 * ```
 */
export class AimdLimit implements ConcurrencyLimit {
  readonly kind = 'aimd';
  /** Lowest limit. */
  readonly minLimit: number;
  /** Highest limit. */
  readonly maxLimit: number;
  /** Multiplier on a drop. */
  readonly backoffRatio: number;
  /** Round-trip time (ms) above which a sample counts as a drop. */
  readonly timeoutMs: number;
  private current: number;

  /** @param options - see {@link AimdLimitOptions} */
  constructor(options: AimdLimitOptions = {}) {
    const C = 'AimdLimit';
    checkObject(C, 'options', options, 'an options object');
    checkOptions(C, options, AIMD_KEYS);
    const bounds = checkLimitBounds(
      C,
      options.initialLimit ?? 20,
      options.minLimit ?? 20,
      options.maxLimit ?? 200,
    );
    this.minLimit = bounds.minLimit;
    this.maxLimit = bounds.maxLimit;
    this.current = bounds.initialLimit;
    const ratio = options.backoffRatio ?? 0.9;
    if (!(typeof ratio === 'number' && ratio >= 0.5 && ratio < 1))
      throw invalidOption(C, 'backoffRatio', ratio, 'a number in [0.5, 1)');
    this.backoffRatio = ratio;
    this.timeoutMs = checkDuration(C, 'timeout', options.timeout ?? 5000, { positive: true });
  }

  get limit(): number {
    return this.current;
  }

  onSample(startTime: number, rtt: number, inflight: number, didDrop: boolean): void {
    checkSample('AimdLimit', startTime, rtt, inflight, false);
    let limit = this.current;
    if (didDrop || rtt > this.timeoutMs) limit = Math.floor(limit * this.backoffRatio);
    else if (inflight * 2 >= limit) limit = limit + 1;
    this.current = Math.min(this.maxLimit, Math.max(this.minLimit, limit));
  }
}
