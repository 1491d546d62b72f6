import {
  assertFinite,
  assertInteger,
  checkObject,
  checkOptions,
  invalidArgument,
  type NumberRule,
} from '@dsim/core';

/**
 * The answer of a {@link RateLimiter} to one request.
 *
 * - `allowed`: the request conforms and has been charged to the limiter.
 * - `delayMs`: how long the request waits before it may proceed; 0 unless a queueing limiter
 *   ({@link LeakyBucketQueue}) shapes it. Always 0 when rejected.
 * - `retryAfterMs`: on rejection, the time from `now` until the same request would be admitted if nothing else
 *   arrived meanwhile. Absent when allowed, and absent when the request can never be admitted (more permits
 *   than the limiter can ever hold).
 *
 * @example
 * ```ts
 * const d = limiter.tryAcquire(sim.now);
 * if (!d.allowed) reply(429, { retryAfterMs: d.retryAfterMs });
 * else if (d.delayMs > 0) yield sim.timeout(d.delayMs);
 * ```
 */
export interface Decision {
  readonly allowed: boolean;
  readonly delayMs: number;
  readonly retryAfterMs?: number;
}

/**
 * A rate limiter driven by the caller's clock: pure, deterministic state, no scheduling, no randomness.
 * Calls must come with non-decreasing `now` (ms); going backwards throws INVALID_ARGUMENT naming `now`.
 *
 * @example
 * ```ts
 * const limiter: RateLimiter = new TokenBucket({ capacity: 5, refillPerSecond: 1 });
 * limiter.tryAcquire(0).allowed; // true
 * ```
 */
export interface RateLimiter {
  /** Which algorithm, e.g. `'token-bucket'`. */
  readonly kind: string;
  /**
   * Asks for `permits` (an integer >= 1, @default 1) at time `now` (ms). An admitted request is charged
   * immediately; a rejected one changes nothing.
   */
  tryAcquire(now: number, permits?: number): Decision;
}

/**
 * Every algorithm name {@link createRateLimiter} knows, in a stable order.
 *
 * @example
 * ```ts
 * for (const kind of RATE_LIMITER_KINDS) console.log(kind); // 'token-bucket', 'leaky-bucket-meter', ...
 * ```
 */
export const RATE_LIMITER_KINDS = [
  'token-bucket',
  'leaky-bucket-meter',
  'leaky-bucket-queue',
  'fixed-window',
  'sliding-log',
  'sliding-window-counter',
  'gcra',
] as const;

/**
 * The algorithm names of the built-in limiters.
 *
 * @example
 * ```ts
 * const kind: RateLimiterKind = 'gcra';
 * ```
 */
export type RateLimiterKind = (typeof RATE_LIMITER_KINDS)[number];

/**
 * Slack, in permits, when comparing fractional bucket levels: continuous refill sums such as 0.37 + 0.63 may
 * land a hair under 1, and a request exactly on the boundary must still conform.
 */
export const PERMIT_EPSILON = 1e-9;

/** Slack, in ms, when comparing computed times (GCRA's TAT) against `now`, for the same reason. */
export const TIME_EPSILON_MS = 1e-6;

/**
 * The decision for an admitted request.
 *
 * @default delayMs 0
 * @example
 * ```ts
 * return allowDecision(); // { allowed: true, delayMs: 0 }
 * ```
 */
export function allowDecision(delayMs = 0): Decision {
  return { allowed: true, delayMs };
}

/**
 * The decision for a rejected request; `retryAfterMs` is left out when undefined (never admittable).
 *
 * @example
 * ```ts
 * return rejectDecision(250); // { allowed: false, delayMs: 0, retryAfterMs: 250 }
 * ```
 */
export function rejectDecision(retryAfterMs?: number): Decision {
  return retryAfterMs === undefined
    ? { allowed: false, delayMs: 0 }
    : { allowed: false, delayMs: 0, retryAfterMs: Math.max(0, retryAfterMs) };
}

/**
 * Validates the arguments of a `tryAcquire` call: `now` finite and not before `last` (the previous call's
 * `now`, undefined before the first call), `permits` an integer >= 1. Returns `now`.
 *
 * @example
 * ```ts
 * this.last = checkAcquire(now, this.last, permits);
 * ```
 */
export function checkAcquire(now: number, last: number | undefined, permits: number): number {
  assertFinite('now', now);
  if (last !== undefined && now < last) {
    throw invalidArgument('now', now, `>= the previous call's now (${last}): time must not go backwards`);
  }
  assertInteger('permits', permits, 1);
  return now;
}

/**
 * Checks a limiter's options argument: an object whose keys are all known, so that a misspelt optional
 * field (`inital`) is an error with a "did you mean" instead of being silently ignored.
 *
 * @example
 * ```ts
 * checkLimiterOptions('TokenBucket', options, TOKEN_BUCKET_KEYS);
 * ```
 */
export function checkLimiterOptions(component: string, options: unknown, keys: readonly string[]): void {
  checkObject(component, 'options', options, `an options object { ${keys.join(', ')} }`);
  checkOptions(component, options, keys);
}

/**
 * The rule for a whole number of permits (a capacity, a limit): an integer >= 1.
 *
 * @example
 * ```ts
 * checkNumber('FixedWindow', 'limit', options.limit, PERMITS_RULE);
 * ```
 */
export const PERMITS_RULE: NumberRule = Object.freeze({ integer: true, min: 1, unit: 'permits' });

/**
 * The rule for a rate or a window length: a finite number > 0.
 *
 * @example
 * ```ts
 * checkNumber('Gcra', 'ratePerSecond', options.ratePerSecond, positiveRule('permits per second'));
 * ```
 */
export function positiveRule(unit: string): NumberRule {
  return { above: 0, unit };
}
