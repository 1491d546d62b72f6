import {
  checkNumber,
  checkObject,
  invalidOption,
  isSimulation,
  optionKeys,
  requireOptions,
  type Simulation,
} from '@dsim/core';
import { createRateLimiter, type RateLimiterSpec } from '../rate-limiters/factory.js';
import { PERMIT_EPSILON, type RateLimiter } from '../rate-limiters/types.js';
import {
  ADMIT_LOCAL,
  type AdmitDecision,
  checkKey,
  type DistributedLimiter,
  type DistributedLimiterStats,
  REJECT_LOCAL,
} from './types.js';

/**
 * Options of {@link LocalShareLimiter}; an unknown key is an error (with a "did you mean").
 *
 * @example
 * ```ts
 * const options: LocalShareLimiterOptions = {
 *   limiter: { kind: 'fixed-window', limit: localShare(4000, 1 / 4), windowMs: 10_000 },
 * };
 * ```
 */
export interface LocalShareLimiterOptions {
  /**
   * This instance's own limit, applied per key: any algorithm that admits or rejects
   * ({@link RateLimiterSpec}; not `leaky-bucket-queue`, which delays). Envoy's local rate limit is a
   * `token-bucket`; a `fixed-window` of {@link localShare} of the global limit is the usual split.
   */
  limiter: RateLimiterSpec;
}

const C = 'LocalShareLimiter';
const KEYS = optionKeys<LocalShareLimiterOptions>()({ limiter: true });

/**
 * A limit enforced by each instance alone, with nothing shared: Envoy's local rate limit filter (a token
 * bucket "shared across all workers, thus the rate limits are applied per Envoy process", Envoy docs,
 * local_rate_limit_filter) or nginx's `limit_req` on each server. No network, no added latency, no
 * failure mode, and no global view: N instances with a local limit ℓ admit up to N × ℓ together, so
 *
 * - giving each instance the whole global limit L lets clients spread over N instances through at up to
 *   N × L (over-admission);
 * - giving each a share ℓ = L / N ({@link localShare}) never exceeds L, but under-admits when load is
 *   uneven: a window admits Σ min(offered_i, ℓ), short of L as soon as one instance gets more than its
 *   share while another gets less ("if the incoming requests are spread across a large number of
 *   servers, this doesn't work any more", Cloudflare, "How we built rate limiting capable of scaling to
 *   millions of domains", 2017).
 *
 * Each key gets its own limiter, built from the spec on its first request; the spec is checked at
 * construction.
 *
 * @example
 * ```ts
 * const limiter = new LocalShareLimiter(sim, {
 *   limiter: { kind: 'fixed-window', limit: localShare(4000, 1 / 4), windowMs: 10_000 },
 * });
 * limiter.admit('client', (d) => sim.log(d.allowed)); // decided at once, latencyMs 0
 * ```
 */
export class LocalShareLimiter implements DistributedLimiter {
  readonly kind = 'local';
  private readonly spec: RateLimiterSpec;
  private readonly limiters = new Map<string, RateLimiter>();
  private admitted = 0;
  private rejected = 0;

  /**
   * @param sim - the simulation whose clock the limiter reads
   * @param options - see {@link LocalShareLimiterOptions}; bad values throw INVALID_ARGUMENT naming the field
   */
  constructor(
    readonly sim: Simulation,
    options: LocalShareLimiterOptions,
  ) {
    if (!isSimulation(sim)) throw invalidOption(C, 'sim', sim, 'a Simulation');
    requireOptions(C, options, KEYS);
    checkObject(C, 'limiter', options.limiter, 'a rate limiter spec { kind, ... }');
    if (options.limiter.kind === 'leaky-bucket-queue')
      throw invalidOption(
        C,
        'limiter.kind',
        options.limiter.kind,
        'an algorithm that admits or rejects (leaky-bucket-queue delays requests instead)',
      );
    createRateLimiter(options.limiter); // validates every field now, not at the first request
    this.spec = options.limiter;
  }

  /** Decisions so far: `pending` is always 0 and nothing reaches a store. */
  get stats(): DistributedLimiterStats {
    return {
      admitted: this.admitted,
      rejected: this.rejected,
      pending: 0,
      failedOpen: 0,
      failedClosed: 0,
      storeCalls: 0,
    };
  }

  admit(key: string, done: (decision: AdmitDecision) => void): void {
    checkKey(C, key);
    let limiter = this.limiters.get(key);
    if (limiter === undefined) {
      limiter = createRateLimiter(this.spec);
      this.limiters.set(key, limiter);
    }
    if (limiter.tryAcquire(this.sim.now).allowed) {
      this.admitted++;
      done(ADMIT_LOCAL);
    } else {
      this.rejected++;
      done(REJECT_LOCAL);
    }
  }
}

/**
 * The whole permits of a global limit that one instance gets for a `share` of it:
 * ⌊globalLimit × share⌋. With share 1/N the N instances together never exceed the global limit (they
 * fall short of it by up to N − 1 when it does not divide evenly).
 *
 * @param globalLimit - the limit over all instances, an integer >= 1
 * @param share - this instance's fraction, in (0, 1]: 1/N for an even split
 * @example
 * ```ts
 * localShare(4000, 1 / 4); // 1000
 * localShare(1000, 1 / 3); // 333
 * ```
 */
export function localShare(globalLimit: number, share: number): number {
  const where = 'localShare';
  checkNumber(where, 'globalLimit', globalLimit, { integer: true, min: 1, unit: 'permits' });
  checkNumber(where, 'share', share, { above: 0, max: 1 });
  // The epsilon keeps 3000 × (1/3) at 1000 rather than 999.
  const permits = Math.floor(globalLimit * share + PERMIT_EPSILON);
  if (permits < 1)
    throw invalidOption(
      where,
      'share',
      share,
      `at least 1/${globalLimit}, so that an instance gets a permit`,
    );
  return permits;
}
