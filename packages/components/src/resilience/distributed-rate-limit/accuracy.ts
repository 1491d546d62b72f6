import {
  assertFinite,
  assertNonNegative,
  checkNumber,
  invalidArgument,
  optionKeys,
  requireOptions,
} from '@dsim/core';

/**
 * Options of {@link WindowAccuracy}: the global policy the decisions are judged against.
 *
 * @example
 * ```ts
 * const options: WindowAccuracyOptions = { limit: 4000, windowMs: 10_000 };
 * ```
 */
export interface WindowAccuracyOptions {
  /** Permits per window over all instances. An integer >= 1. */
  limit: number;
  /** Window length in ms; windows are aligned to time 0. A finite number > 0. */
  windowMs: number;
}

/**
 * The figures of one window, or summed over several ({@link WindowAccuracy.totals}).
 *
 * - `offered`, `admitted`, `rejected`: requests that arrived in the window, by decision.
 * - `over`: admitted beyond the limit, max(0, admitted − limit) per window.
 * - `under`: rejected although the limit had room for them, max(0, min(offered, limit) − admitted) per
 *   window: what an exact limiter of `limit` per window would have admitted and this one did not.
 *
 * @example
 * ```ts
 * const { over, under } = accuracy.totals();
 * ```
 */
export interface WindowFigures {
  readonly windows: number;
  readonly offered: number;
  readonly admitted: number;
  readonly rejected: number;
  readonly over: number;
  readonly under: number;
}

const C = 'WindowAccuracy';
const KEYS = optionKeys<WindowAccuracyOptions>()({ limit: true, windowMs: true });

/**
 * Judges a distributed limiter's decisions against the global policy "`limit` per aligned window of
 * `windowMs`": each decision is recorded with its request's arrival time, and each window's admitted
 * count is compared with the limit. The errors are counted net per window, so they do not depend on the
 * order decisions come back in: `over` is what was admitted beyond the limit, `under` what an exact
 * limiter would have admitted on top of what was. At most one of them is non-zero in a window. (This is
 * the per-window form of "wrongly allowed" and "wrongly rate limited" in Cloudflare's measurement.)
 *
 * Memory is two numbers per window from 0 to the latest arrival.
 *
 * @example
 * ```ts
 * const accuracy = new WindowAccuracy({ limit: 4000, windowMs: 10_000 });
 * const arrived = sim.now;
 * limiter.admit('client', (d) => accuracy.record(arrived, d.allowed));
 * // after the run:
 * accuracy.totals(); // { windows, offered, admitted, rejected, over, under }
 * ```
 */
export class WindowAccuracy {
  readonly limit: number;
  readonly windowMs: number;
  private readonly offered: number[] = [];
  private readonly admitted: number[] = [];

  /** @param options - see {@link WindowAccuracyOptions}; bad values throw INVALID_ARGUMENT naming the field */
  constructor(options: WindowAccuracyOptions) {
    requireOptions(C, options, KEYS);
    this.limit = checkNumber(C, 'limit', options.limit, { integer: true, min: 1, unit: 'permits' });
    this.windowMs = checkNumber(C, 'windowMs', options.windowMs, { above: 0, unit: 'ms' });
  }

  /** Windows seen so far: from window 0 to the latest arrival's. */
  get windowCount(): number {
    return this.offered.length;
  }

  /** Records the decision for a request that arrived at `arrivedAt` (ms >= 0). */
  record(arrivedAt: number, allowed: boolean): void {
    assertFinite('arrivedAt', arrivedAt, C);
    assertNonNegative('arrivedAt', arrivedAt, C);
    const w = Math.floor(arrivedAt / this.windowMs);
    while (this.offered.length <= w) {
      this.offered.push(0);
      this.admitted.push(0);
    }
    this.offered[w]!++;
    if (allowed) this.admitted[w]!++;
  }

  /** The figures of window `index` (all zero for a window nothing arrived in). */
  window(index: number): WindowFigures {
    if (!Number.isInteger(index) || index < 0)
      throw invalidArgument('index', index, 'an integer >= 0 (a window index)', C);
    return this.totals(index, index + 1);
  }

  /**
   * The figures summed over windows `from` (inclusive) to `to` (exclusive).
   *
   * @param from - first window @default 0
   * @param to - window after the last @default every window seen
   */
  totals(from = 0, to: number = this.offered.length): WindowFigures {
    if (!Number.isInteger(from) || from < 0) throw invalidArgument('from', from, 'an integer >= 0', C);
    if (!Number.isInteger(to) || to < from)
      throw invalidArgument('to', to, `an integer >= from (${from})`, C);
    let offered = 0;
    let admitted = 0;
    let over = 0;
    let under = 0;
    const L = this.limit;
    for (let w = from; w < to; w++) {
      const o = this.offered[w] ?? 0;
      const a = this.admitted[w] ?? 0;
      offered += o;
      admitted += a;
      over += Math.max(0, a - L);
      under += Math.max(0, Math.min(o, L) - a);
    }
    return { windows: to - from, offered, admitted, rejected: offered - admitted, over, under };
  }
}
