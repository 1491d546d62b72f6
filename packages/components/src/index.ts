/**
 * @dsim/components: component models built only on @dsim/core's public API. So far: retry backoff
 * policies with Brooker's jitter variants and Envoy's router backoff, and retry budgets (AWS SDK retry
 * quota, Envoy retry budget, Google SRE adaptive throttling).
 */
export { type Backoff, type BackoffSpec, createBackoff } from './resilience/backoff.js';
export {
  AdaptiveThrottle,
  type AdaptiveThrottleOptions,
  EnvoyRetryBudget,
  type EnvoyRetryBudgetOptions,
  type QuotaErrorClass,
  RetryQuota,
  type RetryQuotaOptions,
} from './resilience/retry-budget.js';
