import { checkNumber, invalidOption, optionKeys } from '@dsim/core';
import {
  allowDecision,
  checkAcquire,
  checkLimiterOptions,
  type Decision,
  PERMIT_EPSILON,
  PERMITS_RULE,
  positiveRule,
  type RateLimiter,
  rejectDecision,
} from './types.js';

/**
 * Options of {@link TokenBucket}; an unknown key is an error (with a "did you mean").
 *
 * @example
 * ```ts
 * const options: TokenBucketOptions = { capacity: 10, refillPerSecond: 5, initial: 0 };
 * ```
 */
export interface TokenBucketOptions {
  /** Most tokens the bucket holds (b): the largest burst. An integer >= 1. */
  capacity: number;
  /** Tokens added per second (r), continuously. A finite number > 0. */
  refillPerSecond: number;
  /** Tokens at the first call, a finite number in [0, capacity]. @default capacity */
  initial?: number;
}

const C = 'TokenBucket';
const KEYS = optionKeys<TokenBucketOptions>()({ capacity: true, refillPerSecond: true, initial: true });

/**
 * Token bucket with continuous refill (D.4): tokens accrue at `refillPerSecond` up to `capacity`; a request
 * takes `permits` tokens or is rejected. Any interval of length t admits at most `capacity + refillPerSecond·t`
 * permits. Unlike Envoy's local rate limit, which adds tokens in discrete ticks, refill here is continuous.
 *
 * @example
 * ```ts
 * const tb = new TokenBucket({ capacity: 5, refillPerSecond: 1 });
 * // a burst of 8 at t = 0 admits 5; the next token is there at t = 1000
 * tb.tryAcquire(0);               // { allowed: true, delayMs: 0 }
 * ```
 */
export class TokenBucket implements RateLimiter {
  readonly kind = 'token-bucket';
  /** Most tokens the bucket holds. */
  readonly capacity: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
  private tokens: number;
  private last: number | undefined;

  constructor(options: TokenBucketOptions) {
    checkLimiterOptions(C, options, KEYS);
    checkNumber(C, 'capacity', options.capacity, PERMITS_RULE);
    checkNumber(C, 'refillPerSecond', options.refillPerSecond, positiveRule('tokens per second'));
    // Only undefined means "the default": a null is an error like any other non-number.
    const initial = options.initial === undefined ? options.capacity : options.initial;
    if (typeof initial !== 'number' || !(initial >= 0 && initial <= options.capacity))
      throw invalidOption(C, 'initial', initial, `a number in [0, capacity = ${options.capacity}]`);
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.tokens = initial;
  }

  /** Tokens in the bucket as of the last call (before the first call: the initial fill). */
  get available(): number {
    return this.tokens;
  }

  /**
   * Refills for the time since the last call, then takes `permits` tokens if there are enough.
   * A rejection carries the time until enough tokens have accrued; none when `permits > capacity`.
   */
  tryAcquire(now: number, permits = 1): Decision {
    const previous = this.last;
    this.last = checkAcquire(now, previous, permits);
    if (previous !== undefined && now > previous) {
      this.tokens += ((now - previous) * this.refillPerSecond) / 1000;
      // Snap float dust to full: a full bucket reads exactly `capacity`.
      if (this.tokens > this.capacity - PERMIT_EPSILON) this.tokens = this.capacity;
    }
    if (this.tokens + PERMIT_EPSILON >= permits) {
      // Float dust only: the comparison above already allowed for it.
      this.tokens = Math.max(0, this.tokens - permits);
      return allowDecision();
    }
    if (permits > this.capacity) return rejectDecision();
    return rejectDecision(((permits - this.tokens) * 1000) / this.refillPerSecond);
  }
}
