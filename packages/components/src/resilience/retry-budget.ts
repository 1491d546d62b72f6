import { checkNumber, checkObject, checkOptions, optionKeys, type RandomStream } from '@dsim/core';

/** Error classes the AWS SDK quota prices differently. */
export type QuotaErrorClass = 'timeout' | 'throttle' | 'other';

/**
 * Options of {@link RetryQuota} (AWS SDK standard retry mode); every field an integer >= 0, and an
 * unknown key is an error.
 *
 * @example
 * ```ts
 * const options: RetryQuotaOptions = { capacity: 100, timeoutRetryCost: 10 };
 * ```
 */
export interface RetryQuotaOptions {
  /** Initial and maximum tokens. @default 500 */
  capacity?: number;
  /** Tokens a retry costs. @default 5 */
  retryCost?: number;
  /** Tokens a retry after a timeout or throttling error costs. @default 10 */
  timeoutRetryCost?: number;
  /** Tokens a success on the first try refunds. @default 1 */
  noRetryIncrement?: number;
}

const TOKENS = { integer: true, min: 0, unit: 'tokens' } as const;
const QUOTA_KEYS = optionKeys<RetryQuotaOptions>()({
  capacity: true,
  retryCost: true,
  timeoutRetryCost: true,
  noRetryIncrement: true,
});

/**
 * The AWS SDK "standard" retry quota: a token bucket of retries. A retry takes `retryCost` tokens (or
 * `timeoutRetryCost` after a timeout or throttle) and is refused when the bucket cannot pay; a first-try
 * success refunds `noRetryIncrement`; a success after a retry refunds that retry's cost. In a total
 * outage one client makes at most 500 / 10 = 50 timeout retries before it stops retrying.
 *
 * @example
 * ```ts
 * const quota = new RetryQuota();
 * const cost = quota.acquire('timeout'); // 10, or 0 when refused
 * if (cost > 0) scheduleRetry();
 * quota.onSuccess(costOfTheRetryThatSucceeded); // 0 for a first-try success
 * ```
 */
export class RetryQuota {
  readonly capacity: number;
  readonly retryCost: number;
  readonly timeoutRetryCost: number;
  readonly noRetryIncrement: number;
  private tokens: number;

  constructor(options: RetryQuotaOptions = {}) {
    const C = 'RetryQuota';
    checkObject(C, 'options', options, 'an options object');
    checkOptions(C, options, QUOTA_KEYS);
    this.capacity = checkNumber(C, 'capacity', options.capacity ?? 500, TOKENS);
    this.retryCost = checkNumber(C, 'retryCost', options.retryCost ?? 5, TOKENS);
    this.timeoutRetryCost = checkNumber(C, 'timeoutRetryCost', options.timeoutRetryCost ?? 10, TOKENS);
    this.noRetryIncrement = checkNumber(C, 'noRetryIncrement', options.noRetryIncrement ?? 1, TOKENS);
    this.tokens = this.capacity;
  }

  /** Tokens left. */
  get available(): number {
    return this.tokens;
  }

  /** Pays for a retry after an error of class `error`. Returns the tokens taken, or 0 when refused. */
  acquire(error: QuotaErrorClass): number {
    const cost = error === 'other' ? this.retryCost : this.timeoutRetryCost;
    if (this.tokens < cost) return 0;
    this.tokens -= cost;
    return cost;
  }

  /** A call succeeded: refund the cost of the retry that succeeded, or `noRetryIncrement` after a first-try success. */
  onSuccess(retryCostPaid = 0): void {
    const refund = retryCostPaid > 0 ? retryCostPaid : this.noRetryIncrement;
    this.tokens = Math.min(this.capacity, this.tokens + refund);
  }
}

/**
 * Options of {@link EnvoyRetryBudget}; an unknown key is an error.
 *
 * @example
 * ```ts
 * const options: EnvoyRetryBudgetOptions = { budgetPercent: 10, minRetryConcurrency: 1 };
 * ```
 */
export interface EnvoyRetryBudgetOptions {
  /** Share of active plus pending requests that may be retries, in percent, in [0, 100]. @default 20 */
  budgetPercent?: number;
  /** Retries always allowed concurrently, whatever the share; an integer >= 0. @default 3 */
  minRetryConcurrency?: number;
}

const ENVOY_KEYS = optionKeys<EnvoyRetryBudgetOptions>()({ budgetPercent: true, minRetryConcurrency: true });

/**
 * Envoy's retry budget: at most max(minRetryConcurrency, budgetPercent% × (active + pending requests))
 * retries may be outstanding at once; beyond that a retry is not attempted (`upstream_rq_retry_overflow`).
 *
 * @example
 * ```ts
 * const budget = new EnvoyRetryBudget();
 * if (budget.allows(activeRequests, activeRetries)) retry();
 * ```
 */
export class EnvoyRetryBudget {
  readonly budgetPercent: number;
  readonly minRetryConcurrency: number;

  constructor(options: EnvoyRetryBudgetOptions = {}) {
    const C = 'EnvoyRetryBudget';
    checkObject(C, 'options', options, 'an options object');
    checkOptions(C, options, ENVOY_KEYS);
    this.budgetPercent = checkNumber(C, 'budgetPercent', options.budgetPercent ?? 20, {
      min: 0,
      max: 100,
      unit: 'percent',
    });
    this.minRetryConcurrency = checkNumber(C, 'minRetryConcurrency', options.minRetryConcurrency ?? 3, {
      integer: true,
      min: 0,
    });
  }

  /** Retries allowed outstanding with `activeAndPending` requests in flight (retries included). */
  limit(activeAndPending: number): number {
    return Math.max(this.minRetryConcurrency, (this.budgetPercent / 100) * activeAndPending);
  }

  /** True if one more retry fits: `activeRetries + 1 <= limit(activeAndPending)`. */
  allows(activeAndPending: number, activeRetries: number): boolean {
    return activeRetries + 1 <= this.limit(activeAndPending);
  }
}

/**
 * Options of {@link AdaptiveThrottle}; an unknown key is an error.
 *
 * @example
 * ```ts
 * const options: AdaptiveThrottleOptions = { k: 1.5, windowMs: 60_000 };
 * ```
 */
export interface AdaptiveThrottleOptions {
  /** Multiplier K, a finite number >= 1: the backend sees about K × what it accepts. @default 2 */
  k?: number;
  /** History kept, a finite number of ms >= 1000. @default 120000 (2 minutes) */
  windowMs?: number;
}

const THROTTLE_KEYS = optionKeys<AdaptiveThrottleOptions>()({ k: true, windowMs: true });

/**
 * Google SRE client-side adaptive throttling ("Handling Overload"): over the last `windowMs` the client
 * counts `requests` (every request the application attempted, including those it then rejected locally)
 * and `accepts` (requests the backend accepted), and rejects a new request locally with probability
 * max(0, (requests − K·accepts) / (requests + 1)). At steady state with demand D above the backend's
 * capacity C, accepts = C, the local reject probability is 1 − K·C/D and the backend receives about K·C
 * requests.
 *
 * History is kept in one-second buckets, so the window slides in 1 s steps.
 *
 * @example
 * ```ts
 * const throttle = new AdaptiveThrottle();
 * if (!throttle.admit(sim.now, rng)) return failLocally();
 * // ... on the backend's answer:
 * if (accepted) throttle.recordAccept(sim.now);
 * ```
 */
export class AdaptiveThrottle {
  readonly k: number;
  readonly windowMs: number;
  private readonly buckets: Array<{ second: number; requests: number; accepts: number }> = [];
  private requests = 0;
  private accepts = 0;

  constructor(options: AdaptiveThrottleOptions = {}) {
    const C = 'AdaptiveThrottle';
    checkObject(C, 'options', options, 'an options object');
    checkOptions(C, options, THROTTLE_KEYS);
    this.k = checkNumber(C, 'k', options.k ?? 2, { min: 1 });
    // History is kept in one-second buckets: a shorter window would be empty.
    this.windowMs = checkNumber(C, 'windowMs', options.windowMs ?? 120_000, { min: 1000, unit: 'ms' });
  }

  /** Probability that a request attempted at `now` is rejected locally. */
  rejectProbability(now: number): number {
    this.expire(now);
    return Math.max(0, (this.requests - this.k * this.accepts) / (this.requests + 1));
  }

  /** Counts a request the application attempts at `now`; returns false when it is rejected locally. */
  admit(now: number, rng: RandomStream): boolean {
    const p = this.rejectProbability(now);
    this.bucket(now).requests++;
    this.requests++;
    return !(p > 0 && rng.next() < p);
  }

  /** Records that the backend accepted a request at `now`. */
  recordAccept(now: number): void {
    this.expire(now);
    this.bucket(now).accepts++;
    this.accepts++;
  }

  private bucket(now: number): { second: number; requests: number; accepts: number } {
    const second = Math.floor(now / 1000);
    let last = this.buckets[this.buckets.length - 1];
    if (last === undefined || last.second !== second) {
      last = { second, requests: 0, accepts: 0 };
      this.buckets.push(last);
    }
    return last;
  }

  private expire(now: number): void {
    const oldest = Math.floor((now - this.windowMs) / 1000);
    while (this.buckets.length > 0 && this.buckets[0]!.second <= oldest) {
      const b = this.buckets.shift()!;
      this.requests -= b.requests;
      this.accepts -= b.accepts;
    }
  }
}
