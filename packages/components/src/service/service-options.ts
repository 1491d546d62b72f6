import type { Distribution, Duration, RpcEndpoint, RpcError, RpcRequest, SimEvent } from '@dsim/core';
import type { RetryingClient } from '../client/retrying-client.js';
import type { RateLimiter } from '../resilience/rate-limiters/types.js';
import type { ConnectionPool } from './connection-pool.js';
import type { Slowdown } from './slowdown.js';

/**
 * Order in which queued requests are served. `adaptive-lifo` is Facebook's adaptive LIFO: FIFO while
 * the queue keeps draining, LIFO once it has not been empty for `adaptiveLifoInterval` (under overload the
 * newest requests are the ones whose callers still wait).
 */
export type QueueDiscipline = 'fifo' | 'lifo' | 'priority' | 'adaptive-lifo';

/**
 * Load shedding: refuse work early, with an `overloaded` response, instead of queueing it to die.
 * - `queue-length`: refuse an arrival when `max` requests already wait.
 * - `queue-delay`: refuse an arrival when the request at the head of the queue has waited `max` or more
 *   (the newcomer would wait at least as long).
 * - `codel`: Facebook's controlled delay for server queues. A request taken from the queue is shed if it
 *   waited longer than `interval` while the queue has been empty within the last `interval`, or longer
 *   than `target` when it has not (a standing queue).
 *
 * @example
 * ```ts
 * const shedding: Shedding = { kind: 'codel', target: '5ms', interval: '100ms' };
 * ```
 */
export type Shedding =
  | { readonly kind: 'queue-length'; readonly max: number }
  | { readonly kind: 'queue-delay'; readonly max: Duration }
  | {
      readonly kind: 'codel';
      /** @default 5 ms */
      readonly target?: Duration;
      /** @default 100 ms */
      readonly interval?: Duration;
    };

/**
 * Something that makes downstream calls: the service's own endpoint, or a client built on it (a
 * {@link RetryingClient} fits). The response's `request` is the request actually sent (the last attempt):
 * its deadline tells a call that ran out of the propagated deadline from one that ran out of its own
 * timeout.
 *
 * @example
 * ```ts
 * const caller: DownstreamCaller = new RetryingClient(endpoint, { maxAttempts: 3, timeout: 100 });
 * ```
 */
export interface DownstreamCaller {
  call(
    to: string,
    payload: unknown,
    options: { parent: RpcRequest; timeout?: number; deadline?: number },
  ): SimEvent<{ readonly ok: boolean; readonly error?: RpcError; readonly request?: RpcRequest | undefined }>;
  /**
   * The callback form, when the caller has one ({@link RpcEndpoint.callThen}): the answer inside the
   * response's event, one event fewer per call.
   */
  callThen?(
    to: string,
    payload: unknown,
    options: { parent: RpcRequest; timeout?: number; deadline?: number },
    done: (response: {
      readonly ok: boolean;
      readonly error?: RpcError;
      readonly request?: RpcRequest | undefined;
    }) => void,
  ): void;
}

/** One downstream call made for every request. */
export interface DownstreamCall {
  /** Address of the dependency. */
  readonly to: string;
  /** Payload sent. @default the request's payload */
  readonly payload?: unknown;
  /** Timeout of this call, a duration > 0. @default the spec's `timeout` */
  readonly timeout?: Duration;
  /** Pool this call takes a connection from. @default the spec's `pool` */
  readonly pool?: ConnectionPool;
}

/**
 * Downstream calls a worker makes for each request before its own computation. The worker stays busy
 * while it waits (thread-per-request, as in a servlet container): a slow dependency ties up workers.
 *
 * @example
 * ```ts
 * const downstream: DownstreamSpec = { calls: ['auth', 'db'], mode: 'sequential', timeout: 200, pool };
 * ```
 */
export interface DownstreamSpec {
  /**
   * The calls, by address or in full; or a function choosing them per request (an empty list: no
   * downstream call for that request), e.g. only reads go to the database.
   */
  readonly calls:
    | readonly (string | DownstreamCall)[]
    | ((request: RpcRequest) => readonly (string | DownstreamCall)[]);
  /**
   * `sequential`: one after the other, stopping at the first failure; `parallel`: all at once, waiting
   * for all.
   * @default 'sequential'
   */
  readonly mode?: 'sequential' | 'parallel';
  /** Timeout of each call, a duration > 0 (the request's deadline still applies). @default none */
  readonly timeout?: Duration;
  /**
   * Pass the request's deadline on to the calls (gRPC-style deadline propagation), so that dependencies
   * can drop work nobody waits for. When false each call has only its own timeout.
   * @default true
   */
  readonly propagateDeadline?: boolean;
  /** Connection pool for the calls that name none. @default none (no limit) */
  readonly pool?: ConnectionPool;
  /**
   * `fail`: answer the request with an error; `fallback`: answer ok at once with
   * `fallback(request, error)` (a degraded response, given the call's own error).
   *
   * With `fail` the answer's kind is, for the first failed call:
   * - `timeout` (the call's own timer) becomes `gateway-timeout` (HTTP 504, retryable, what Envoy answers
   *   when its upstream times out), unless the request's own deadline is what ran out: the call carried
   *   the propagated deadline (it was earlier than the call's `timeout`, or the call outlived it), or the
   *   deadline had passed when the failure came back. Then it is `deadline-exceeded` (not retryable: no
   *   retry can finish in time);
   * - no connection from the pool becomes `unavailable`;
   * - every other kind passes through unchanged (a `gateway-timeout` from further down stays one).
   * @default 'fail'
   */
  readonly onFailure?: 'fail' | 'fallback';
  /** The degraded response for `onFailure: 'fallback'`; an error with `onFailure: 'fail'`. */
  readonly fallback?: (request: RpcRequest, error: RpcError) => unknown;
  /**
   * Builds the caller from the service's endpoint, e.g. a `RetryingClient` for retries. Each call passes
   * it `{ parent, timeout?, deadline? }`: with a `RetryingClient`, the call's `timeout` bounds the whole
   * retried call (its own `timeout` option stays the per-attempt limit, as Envoy's `per_try_timeout`
   * under a route `timeout`), and `propagateDeadline: false` passes `deadline: Infinity`.
   * @default the service's endpoint
   */
  readonly client?: (endpoint: RpcEndpoint) => DownstreamCaller;
}

/**
 * Options of {@link Service}. Checked when the service is built: an unknown key (`concurency`) is an
 * error with a "did you mean", every value is range-checked, and an option that would be ignored
 * (`priority` without the priority discipline, `fallback` without `onFailure: 'fallback'`) is an error too.
 *
 * @example
 * ```ts
 * const options: ServiceOptions = { concurrency: 8, serviceTime: exponential({ mean: 5 }), queueCapacity: 100 };
 * ```
 */
export interface ServiceOptions {
  /**
   * Workers: requests served at the same time. An integer >= 1.
   * @default 1
   */
  concurrency?: number;
  /**
   * Service time per request: a distribution (ms) such as `exponential({ mean: 5 })`, or a fixed duration.
   * Required.
   */
  serviceTime: Distribution | Duration;
  /**
   * Queue slots for requests waiting for a worker; a request that finds them full is rejected
   * (`overloaded`). An integer >= 0, or Infinity.
   * @default Infinity
   */
  queueCapacity?: number;
  /**
   * `fifo`, `lifo` (newest first: keeps latency low for the lucky under overload), `priority` (lowest
   * `priority(request)` first, FIFO among equals) or `adaptive-lifo`.
   * @default 'fifo'
   */
  discipline?: QueueDiscipline;
  /**
   * For the `priority` discipline (required there, an error with any other): the request's priority
   * (lower is served first).
   * @default none
   */
  priority?: (request: RpcRequest) => number;
  /**
   * For `adaptive-lifo` (an error with any other discipline): how long the queue must stay non-empty
   * before the service switches to LIFO. A duration > 0.
   * @default 100 ms
   */
  adaptiveLifoInterval?: Duration;
  /**
   * Drop a queued request that waited longer than this, without serving it. A duration >= 0, or Infinity.
   * @default Infinity (never)
   */
  queueTimeout?: Duration;
  /**
   * Drop a request whose deadline has passed when a worker picks it up: the caller has given up, so
   * serving it is wasted work. Without it a server keeps working on dead requests (the difference between
   * recovering and staying down in a retry storm).
   * @default false
   */
  dropExpired?: boolean;
  /**
   * Admission control in front of the queue: a request the limiter refuses is answered `rejected` (HTTP
   * 429) and counted as `svc.throttled`; a shaping limiter's delay (leaky bucket as a queue) holds the
   * request before it joins the queue.
   * @default none
   */
  rateLimit?: RateLimiter;
  /**
   * Answer requests dropped by `queueTimeout` (`overloaded`) or `dropExpired` (`deadline-exceeded`)
   * instead of leaving them to their caller's timeout, so that a caller still waiting can fail fast.
   * @default false
   */
  replyOnDrop?: boolean;
  /** Load shedding. @default none */
  shedding?: Shedding;
  /**
   * Load-dependent latency: each sampled service time is multiplied by `slowdown(load)` (see
   * {@link loadSlowdown}).
   * @default none
   */
  slowdown?: Slowdown;
  /** Downstream calls made for each request. @default none */
  downstream?: DownstreamSpec;
  /**
   * Probability that a served request fails with an `error` response, in [0, 1].
   * @default 0
   */
  errorRate?: number;
  /** The response value. @default the request's payload */
  respond?: (request: RpcRequest) => unknown;
}
