import { invalidArgument } from '@dsim/core';
import type { RateLimiter } from './types.js';

/**
 * What one limiter did with an arrival list, from {@link compareLimiters}.
 *
 * - `admitted` / `rejected`: request counts (each arrival asks for 1 permit).
 * - `delayed`: admitted requests with `delayMs > 0` (only queueing limiters delay).
 * - `maxDelayMs`: the longest delay, 0 if none.
 * - `admittedTimes`: when each admitted request leaves the limiter, `arrival + delayMs`, in arrival order
 *   (non-decreasing: the queueing limiter is FIFO). For limiters that never delay, the arrival times.
 */
export interface LimiterComparison {
  readonly admitted: number;
  readonly rejected: number;
  readonly delayed: number;
  readonly maxDelayMs: number;
  readonly admittedTimes: number[];
}

/**
 * Feeds the same arrival list (ms, non-decreasing) to every limiter, one permit per arrival, and tallies
 * what each did. The limiters are used as given and keep their state: pass fresh ones.
 *
 * @example
 * ```ts
 * const out = compareLimiters([950, 950, 1050], {
 *   fixed: new FixedWindow({ limit: 10, windowMs: 1000 }),
 *   gcra: new Gcra({ ratePerSecond: 10, burst: 9 }),
 * });
 * out.fixed.admitted; // 3
 * ```
 */
export function compareLimiters(
  arrivals: readonly number[],
  limiters: Record<string, RateLimiter>,
): Record<string, LimiterComparison> {
  if (!Array.isArray(arrivals)) throw invalidArgument('arrivals', arrivals, 'an array of times in ms');
  let previous = Number.NEGATIVE_INFINITY;
  arrivals.forEach((t, i) => {
    if (typeof t !== 'number' || !Number.isFinite(t) || t < previous) {
      const allowed = i === 0 ? 'a finite number' : `a finite number >= arrivals[${i - 1}] (${previous})`;
      throw invalidArgument(`arrivals[${i}]`, t, allowed);
    }
    previous = t;
  });
  if (typeof limiters !== 'object' || limiters === null) {
    throw invalidArgument('limiters', limiters, 'an object of named rate limiters');
  }
  const result: Record<string, LimiterComparison> = {};
  for (const [name, limiter] of Object.entries(limiters)) {
    if (typeof limiter?.tryAcquire !== 'function') {
      throw invalidArgument(`limiters.${name}`, limiter, 'a RateLimiter (with tryAcquire)');
    }
    let admitted = 0;
    let delayed = 0;
    let maxDelayMs = 0;
    const admittedTimes: number[] = [];
    for (const t of arrivals) {
      const decision = limiter.tryAcquire(t);
      if (!decision.allowed) continue;
      admitted++;
      if (decision.delayMs > 0) delayed++;
      if (decision.delayMs > maxDelayMs) maxDelayMs = decision.delayMs;
      admittedTimes.push(t + decision.delayMs);
    }
    result[name] = { admitted, rejected: arrivals.length - admitted, delayed, maxDelayMs, admittedTimes };
  }
  return result;
}
