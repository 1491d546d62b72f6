/**
 * How a response's error kind counts for passive health (outlier detection), following the HTTP
 * statuses that `RpcErrorKind` stands for (see its TSDoc in `@dsim/core`):
 *
 * | error kind | HTTP status | 5xx | gateway failure (502/503/504 or local origin) |
 * |---|---|---|---|
 * | `error` | 500 | yes | no |
 * | `unavailable` | 503 | yes | yes |
 * | `overloaded` | 503 | yes | yes |
 * | `gateway-timeout` | 504 | yes | yes |
 * | `deadline-exceeded` | 504 | yes | no (the request's own deadline, not the backend) |
 * | `timeout` | none: the balancer's own timer, a local-origin error | yes | yes |
 * | `rejected` | 429 | no | no |
 *
 * A local-origin timeout counts as a 504 because Envoy, with `split_external_local_origin_errors: false`
 * (its default), maps locally originated timeouts to HTTP 504 before counting them
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier).
 *
 * @example
 * ```ts
 * OUTCOME_5XX.has('overloaded'); // true
 * ```
 */
export const OUTCOME_5XX: ReadonlySet<string> = new Set([
  'error',
  'unavailable',
  'overloaded',
  'gateway-timeout',
  'deadline-exceeded',
  'timeout',
]);

/**
 * The error kinds that count as gateway failures (HTTP 502, 503, 504, and local-origin errors), for
 * Envoy's `consecutive_gateway_failure`. See {@link OUTCOME_5XX} for the whole mapping.
 *
 * @example
 * ```ts
 * GATEWAY_FAILURES.has('error'); // false: a 500 is a 5xx but not a gateway failure
 * ```
 */
export const GATEWAY_FAILURES: ReadonlySet<string> = new Set([
  'unavailable',
  'overloaded',
  'gateway-timeout',
  'timeout',
]);
