import { invalidArgument, type RandomStream } from '@dsim/core';

/** Error classes the AWS SDK quota prices differently. */
export type QuotaErrorClass = 'timeout' | 'throttle' | 'other';

/** Options of {@link RetryQuota} (AWS SDK standard retry mode). */
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
    this.capacity = count('retryQuota.capacity', options.capacity ?? 500);
    this.retryCost = count('retryQuota.retryCost', options.retryCost ?? 5);
    this.timeoutRetryCost = count('retryQuota.timeoutRetryCost', options.timeoutRetryCost ?? 10);
    this.noRetryIncrement = count('retryQuota.noRetryIncrement', options.noRetryIncrement ?? 1);
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

/** Options of {@link EnvoyRetryBudget}. */
export interface EnvoyRetryBudgetOptions {
  /** Share of active plus pending requests that may be retries, in percent. @default 20 */
  budgetPercent?: number;
  /** Retries always allowed concurrently, whatever the share. @default 3 */
  minRetryConcurrency?: number;
}

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
    const pct = options.budgetPercent ?? 20;
    if (typeof pct !== 'number' || !(pct >= 0 && pct <= 100))
      throw invalidArgument('budgetPercent', pct, 'a percentage in [0, 100]');
    this.budgetPercent = pct;
    this.minRetryConcurrency = count('minRetryConcurrency', options.minRetryConcurrency ?? 3);
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

/** Options of {@link AdaptiveThrottle}. */
export interface AdaptiveThrottleOptions {
  /** Multiplier K: the backend sees about K × what it accepts. @default 2 */
  k?: number;
  /** History kept, in ms. @default 120000 (2 minutes) */
  windowMs?: number;
}

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
    const k = options.k ?? 2;
    if (typeof k !== 'number' || !(k >= 1) || !Number.isFinite(k))
      throw invalidArgument('k', k, 'a finite number >= 1');
    this.k = k;
    const windowMs = options.windowMs ?? 120_000;
    if (typeof windowMs !== 'number' || !(windowMs >= 1000) || !Number.isFinite(windowMs)) {
      throw invalidArgument('windowMs', windowMs, 'a finite number of ms >= 1000');
    }
    this.windowMs = windowMs;
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

function count(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw invalidArgument(field, value, 'an integer >= 0');
  return value;
}
