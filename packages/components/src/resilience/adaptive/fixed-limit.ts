import { checkNumber } from '@dsim/core';
import { type ConcurrencyLimit, checkSample } from './limit.js';

/**
 * A limit that never changes (concurrency-limits' `FixedLimit`): a static concurrency cap, the baseline
 * the adaptive algorithms are compared against. Samples are checked and ignored.
 *
 * @example
 * ```ts
 * const limiter = new ConcurrencyLimiter({ limit: new FixedLimit(16) });
 * ```
 */
export class FixedLimit implements ConcurrencyLimit {
  readonly kind = 'fixed';
  /** The limit, an integer >= 1. */
  readonly limit: number;

  /** @param limit - requests allowed in flight at once, an integer >= 1 */
  constructor(limit: number) {
    this.limit = checkNumber('FixedLimit', 'limit', limit, { integer: true, min: 1 });
  }

  onSample(startTime: number, rtt: number, inflight: number, _didDrop: boolean): void {
    checkSample('FixedLimit', startTime, rtt, inflight, false);
  }
}
