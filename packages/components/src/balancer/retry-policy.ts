import {
  checkBoolean,
  checkDuration,
  checkEnum,
  checkNumber,
  checkObject,
  checkOptions,
  type Duration,
  invalidOption,
  isObject,
  optionKeys,
  type RpcErrorKind,
} from '@dsim/core';
import { type Backoff, type BackoffSpec, resolveBackoff } from '../resilience/backoff.js';
import { EnvoyRetryBudget, type EnvoyRetryBudgetOptions } from '../resilience/retry-budget.js';

/**
 * Retries at the balancer, in the manner of Envoy's router retry policy
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-retrypolicy
 * and https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/http_routing#retry-semantics).
 * A failed attempt whose error kind is in `retryOn` is sent again, after a backoff, to a newly picked
 * backend, while retries are left, the concurrent-retry limit allows one more, and neither the
 * balancer's `timeout` nor the request's own deadline has passed.
 *
 * @example
 * ```ts
 * const retry: LoadBalancerRetryOptions = { attempts: 2, retryOn: ['unavailable', 'overloaded'], perTryTimeout: '250ms' };
 * ```
 */
export interface LoadBalancerRetryOptions {
  /**
   * Retries after the first attempt (Envoy's `num_retries`, default 1): 2 means up to 3 attempts. An
   * integer >= 0.
   * @default 1
   */
  attempts?: number;
  /**
   * The raw error kinds of an attempt that are retried. The default is Envoy's `5xx` condition: any 5xx
   * answer (`error` 500, `unavailable` and `overloaded` 503, `gateway-timeout` 504) plus `timeout`, the
   * balancer's per-try timer (Envoy retries a `per_try_timeout` under `5xx`). `deadline-exceeded` (the
   * caller's own deadline) and `rejected` (429) are not retried unless listed.
   * @default ['error', 'unavailable', 'overloaded', 'gateway-timeout', 'timeout']
   */
  retryOn?: readonly RpcErrorKind[];
  /**
   * Envoy's `previous_hosts` retry host predicate: a retry's pick that lands on a backend already tried
   * for this request is redone, up to `hostSelectionAttempts` times (then the last pick stands, as in
   * Envoy). Envoy has no predicate by default; dsim turns it on, since a retry on the backend that just
   * failed is seldom what a model wants. `false` gives Envoy's default.
   * @default true
   */
  previousHosts?: boolean;
  /**
   * Envoy's `host_selection_retry_max_attempts`: how many times a pick rejected by `previousHosts` is
   * redone. An integer >= 1.
   * @default 1
   */
  hostSelectionAttempts?: number;
  /**
   * Envoy's `per_try_timeout`: the limit on one attempt. The balancer's `timeout` (Envoy's route
   * timeout) then bounds the whole request, retries and backoff included. A duration > 0 or Infinity.
   * @default Infinity (each attempt gets what is left of `timeout`)
   */
  perTryTimeout?: Duration;
  /**
   * Wait before retry n (1 for the first). Envoy's router backoff: uniform in
   * [0, min(25 ms · 2^(n−1), 250 ms)).
   * @default { kind: 'envoy', baseMs: 25, maxMs: 250 }
   */
  backoff?: BackoffSpec;
  /**
   * Envoy's `max_retries` circuit breaker: retries outstanding at once (from the decision to retry until
   * that attempt is answered); one more is not attempted (`lb.retry.overflow`). Ignored when `budget`
   * is set. An integer >= 0 or Infinity.
   * @default 3
   */
  maxConcurrentRetries?: number;
  /**
   * Envoy's retry budget, which replaces `maxConcurrentRetries` when set: at most
   * `max(minRetryConcurrency, budgetPercent% × requests in flight at the balancer)` retries outstanding.
   * An {@link EnvoyRetryBudget} or its options.
   * @default none (the `maxConcurrentRetries` limit)
   */
  budget?: EnvoyRetryBudget | EnvoyRetryBudgetOptions;
}

/**
 * {@link LoadBalancerRetryOptions}, validated, with defaults applied.
 *
 * @example
 * ```ts
 * const r: ResolvedLbRetry = resolveLbRetry({});
 * r.attempts; // 1
 * ```
 */
export interface ResolvedLbRetry {
  readonly attempts: number;
  readonly retryOn: ReadonlySet<RpcErrorKind>;
  readonly previousHosts: boolean;
  readonly hostSelectionAttempts: number;
  readonly perTryTimeout: number;
  readonly backoff: Backoff;
  readonly maxConcurrentRetries: number;
  readonly budget: EnvoyRetryBudget | undefined;
}

/**
 * The default `retryOn`: Envoy's `5xx` condition plus the balancer's per-try timeout.
 *
 * @example
 * ```ts
 * LB_DEFAULT_RETRY_ON.includes('overloaded'); // true
 * ```
 */
export const LB_DEFAULT_RETRY_ON: readonly RpcErrorKind[] = Object.freeze([
  'error',
  'unavailable',
  'overloaded',
  'gateway-timeout',
  'timeout',
] as const);

const ERROR_KINDS: readonly RpcErrorKind[] = [
  'timeout',
  'rejected',
  'unavailable',
  'overloaded',
  'gateway-timeout',
  'deadline-exceeded',
  'error',
];

const RETRY_KEYS = optionKeys<LoadBalancerRetryOptions>()({
  attempts: true,
  retryOn: true,
  previousHosts: true,
  hostSelectionAttempts: true,
  perTryTimeout: true,
  backoff: true,
  maxConcurrentRetries: true,
  budget: true,
});

const BUDGET_KEYS = optionKeys<EnvoyRetryBudgetOptions>()({ budgetPercent: true, minRetryConcurrency: true });

const C = 'LoadBalancer';

/**
 * Checks the `retry` option of a LoadBalancer (unknown keys with "did you mean", every value) and
 * applies the defaults.
 *
 * @example
 * ```ts
 * resolveLbRetry({ atempts: 2 } as never);
 * // LoadBalancer: unknown option "retry.atempts" (did you mean "retry.attempts"?); ...
 * ```
 */
export function resolveLbRetry(options: LoadBalancerRetryOptions): ResolvedLbRetry {
  checkObject(C, 'retry', options, 'a retry options object such as { attempts: 1 }');
  checkOptions(C, options, RETRY_KEYS, 'retry');
  const retryOn = options.retryOn ?? LB_DEFAULT_RETRY_ON;
  if (!Array.isArray(retryOn))
    throw invalidOption(C, 'retry.retryOn', retryOn, `an array of error kinds (${ERROR_KINDS.join(', ')})`);
  const kinds = new Set(retryOn.map((k, i) => checkEnum(C, `retry.retryOn[${i}]`, k, ERROR_KINDS)));
  let budget: EnvoyRetryBudget | undefined;
  if (options.budget instanceof EnvoyRetryBudget) budget = options.budget;
  else if (options.budget !== undefined) {
    if (!isObject(options.budget))
      throw invalidOption(
        C,
        'retry.budget',
        options.budget,
        'an EnvoyRetryBudget or its options { budgetPercent?, minRetryConcurrency? }',
      );
    checkOptions(C, options.budget, BUDGET_KEYS, 'retry.budget');
    // Checked here so that errors name the balancer's option (`retry.budget.budgetPercent`).
    const b = options.budget as EnvoyRetryBudgetOptions;
    budget = new EnvoyRetryBudget({
      budgetPercent: checkNumber(
        C,
        'retry.budget.budgetPercent',
        b.budgetPercent,
        { min: 0, max: 100, unit: 'percent' },
        20,
      ),
      minRetryConcurrency: checkNumber(
        C,
        'retry.budget.minRetryConcurrency',
        b.minRetryConcurrency,
        { integer: true, min: 0 },
        3,
      ),
    });
  }
  return {
    attempts: checkNumber(C, 'retry.attempts', options.attempts, { integer: true, min: 0 }, 1),
    retryOn: kinds,
    previousHosts: checkBoolean(C, 'retry.previousHosts', options.previousHosts, true),
    hostSelectionAttempts: checkNumber(
      C,
      'retry.hostSelectionAttempts',
      options.hostSelectionAttempts,
      { integer: true, min: 1 },
      1,
    ),
    perTryTimeout: checkDuration(
      C,
      'retry.perTryTimeout',
      options.perTryTimeout,
      { positive: true, infinity: true },
      Infinity,
    ),
    backoff: resolveBackoff(options.backoff ?? { kind: 'envoy' }, C, 'retry.backoff'),
    maxConcurrentRetries: checkNumber(
      C,
      'retry.maxConcurrentRetries',
      options.maxConcurrentRetries,
      { integer: true, min: 0, infinity: true },
      3,
    ),
    budget,
  };
}
