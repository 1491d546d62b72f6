import type { Distribution, Duration } from '@dsim/core';
import type { BackendHealth } from './health-hook.js';
import type { LoadBalancerHedgeOptions } from './hedge-policy.js';
import type { BalancerPolicySpec } from './policies/factory.js';
import type { BalancerPolicy } from './policy.js';
import type { LoadBalancerRetryOptions } from './retry-policy.js';
import type { SlowStartSpec } from './slow-start.js';

/**
 * A backend given with its weight.
 *
 * @example
 * ```ts
 * const backend: BackendSpec = { address: 'app-0', weight: 2 };
 * ```
 */
export interface BackendSpec {
  /** The backend node's address: a non-empty string, unique within the balancer. */
  address: string;
  /** Relative share for the weighted policies, a finite number > 0. @default 1 */
  weight?: number;
}

/**
 * Periodic load reports (`LoadBalancerOptions.loadReport`): the policies see each backend's active count
 * as last reported instead of the balancer's live count, a model of a balancer fed by periodic load
 * reports (a control plane's load feedback, a shared load table, gossip) rather than its own counts
 * (Mitzenmacher, "How useful is old information?", IEEE TPDS 2000: the periodic update model).
 *
 * @example
 * ```ts
 * const report: LoadReportOptions = { interval: '50ms' };
 * ```
 */
export interface LoadReportOptions {
  /**
   * How often the counts are reported: the policies see the counts as of the last multiple of `interval`
   * of simulated time. A finite duration > 0.
   *
   * The report is taken lazily, at the first pick after each boundary (no event is scheduled): the
   * counts then are those of that first pick, not of the boundary itself. Between a boundary and the
   * first pick after it nothing is forwarded, so the only difference is the requests answered in
   * between: a report is at most that much fresher than the model's.
   */
  interval: Duration;
}

/**
 * Options of a {@link LoadBalancer}. Every key and value is checked at construction.
 *
 * @example
 * ```ts
 * const options: LoadBalancerOptions = {
 *   backends: ['app-0', 'app-1', { address: 'app-2', weight: 2 }],
 *   policy: { kind: 'least-request' },
 *   timeout: '1s',
 * };
 * ```
 */
export interface LoadBalancerOptions {
  /** The backends: addresses (weight 1) or `{ address, weight }`. May be empty (then every request is `unavailable`). */
  backends: readonly (string | BackendSpec)[];
  /**
   * How a backend is chosen: a built-in policy as `{ kind, ... }` (see `createBalancerPolicy`) or any
   * object implementing {@link BalancerPolicy}.
   * @default { kind: 'round-robin' } (Envoy's default `lb_policy`)
   */
  policy?: BalancerPolicySpec | BalancerPolicy;
  /**
   * Requests the balancer holds at once (waiting for a worker, being processed, or forwarded and not
   * answered); one more is refused `overloaded` at once, like Envoy's `max_requests` circuit breaker
   * (default 1024 in Envoy). An integer >= 1 or Infinity.
   * @default Infinity
   */
  concurrency?: number;
  /**
   * The balancer's own processing time per request, before it is forwarded: a distribution or a
   * duration. It is work on one of `workers` threads, so a busy balancer queues requests and saturates
   * at `workers / mean latency` requests per ms.
   * @default 0 (no processing delay, no queue)
   */
  latency?: Distribution | Duration;
  /**
   * Threads doing that processing (nginx `worker_processes`, default 1; Envoy `--concurrency`, default
   * one per core). An integer >= 1 or Infinity (a pure delay that never saturates).
   * @default 1
   */
  workers?: number;
  /**
   * How long the balancer waits for a backend's answer (Envoy's route `timeout`, default 15 s). When it
   * fires the caller gets `gateway-timeout` (HTTP 504), or `deadline-exceeded` when the request's own
   * propagated deadline was the limit. A duration > 0 or Infinity.
   * @default 15000
   */
  timeout?: Duration;
  /**
   * Health mechanisms: a backend is available when every one of them says so
   * ({@link BackendHealth.isAvailable}). Each is told every answer and started with the balancer.
   * @default []
   */
  health?: readonly BackendHealth[];
  /**
   * Envoy's `healthy_panic_threshold`, in percent: when fewer than this share of the backends are
   * available, the balancer balances over all backends, ignoring health, rather than overload the few
   * left. 0 disables panic mode (no available backend then means `unavailable`). A number in [0, 100].
   * @default 50
   */
  panicThreshold?: number;
  /**
   * Slow start: a backend that joins (`addBackend`) or comes back (every health hook says available
   * again after one did not) gets a reduced weight that grows over a window: Envoy's ramp
   * (`{ kind: 'envoy', window, aggression?, minWeightPercent? }`) or HAProxy's linear 1% to 100%
   * (`{ kind: 'haproxy', window }`). The backends given at construction start at full weight (HAProxy
   * never slow-starts at its own start). Only weight-aware policies feel it: `weighted-round-robin`, and
   * `least-request` (which switches to its weighted mode while weights differ, as Envoy builds its EDF
   * scheduler while a host is in slow start); `round-robin`, `random` and the hashing policies ignore
   * weights.
   * @default none
   */
  slowStart?: SlowStartSpec;
  /**
   * Retries at the balancer (Envoy's router retry policy); see {@link LoadBalancerRetryOptions}. Without
   * it every request is forwarded once.
   * @default none (no retries)
   */
  retry?: LoadBalancerRetryOptions;
  /**
   * Hedging on the per-try timeout (Envoy's `hedge_policy.hedge_on_per_try_timeout`): when an attempt's
   * `retry.perTryTimeout` fires, another attempt goes to a different backend without cancelling the
   * first, and the first successful answer wins; see {@link LoadBalancerHedgeOptions}. Requires
   * `retry.perTryTimeout`; hedges count against `retry.attempts` and the retry limit or budget.
   * @default none (a per-try timeout cancels the attempt, which may then be retried)
   * @example
   * ```ts
   * new LoadBalancer(net.addNode('lb'), { backends, retry: { attempts: 1, perTryTimeout: '50ms' }, hedge: { onPerTryTimeout: true } });
   * ```
   */
  hedge?: LoadBalancerHedgeOptions;
  /**
   * Stale load information: the policies (`least-request`, `power-of-d`, `peak-ewma`, `first`,
   * `consistent-bounded`, custom ones) see each backend's `active` count as last reported, refreshed
   * every `interval` ms of simulated time, instead of the live count; see {@link LoadReportOptions}.
   * The balancer still tracks the live count for its metrics (`lb.backend.<address>.active`) and its
   * `@dsim.lb.pick` records. A backend added between reports is seen with 0 until the next one.
   * @default none (the policies see the live counts)
   * @example
   * ```ts
   * new LoadBalancer(net.addNode('lb'), { backends, policy: { kind: 'least-request', fullScan: true }, loadReport: { interval: 100 } });
   * ```
   */
  loadReport?: LoadReportOptions;
}

/**
 * Options of `LoadBalancer.removeBackend`.
 *
 * @example
 * ```ts
 * const options: RemoveBackendOptions = { drain: '30s' };
 * ```
 */
export interface RemoveBackendOptions {
  /**
   * Connection draining (AWS target group `deregistration_delay`, default 300 s, range 0 to 3600 s;
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay):
   * the backend takes no new requests at once, its requests in flight may finish until the delay ends,
   * and those still in flight then are cut (the attempt fails `unavailable`, which a `retry` may retry
   * elsewhere). Draining ends early when nothing is left in flight, as AWS completes a deregistration
   * with no requests in flight. `true` is AWS's default of 300 s; otherwise a duration >= 0 (0 cuts at
   * once) or Infinity (wait for all of them). Left out or `false`: the backend is removed with no
   * deadline (its requests in flight finish whenever they finish).
   * @default none
   */
  drain?: Duration | boolean;
}
