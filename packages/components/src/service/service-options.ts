import type { Distribution, Duration, RpcEndpoint, RpcError, RpcRequest, SimEvent } from '@dsim/core';
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

/** Something that makes downstream calls: the service's own endpoint, or a client built on it. */
export interface DownstreamCaller {
  call(
    to: string,
    payload: unknown,
    options: { parent: RpcRequest; timeout?: number; deadline?: number },
  ): SimEvent<{ readonly ok: boolean; readonly error?: RpcError }>;
}

/** One downstream call made for every request. */
export interface DownstreamCall {
  /** Address of the dependency. */
  readonly to: string;
  /** Payload sent. @default the request's payload */
  readonly payload?: unknown;
  /** Timeout of this call. @default the spec's `timeout` */
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
  /** Timeout of each call (the request's deadline still applies). @default none */
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
   * `fail`: answer the request with an error (a downstream timeout becomes `deadline-exceeded`, no
   * connection becomes `unavailable`, other kinds pass through); `fallback`: answer ok at once with
   * `fallback(request, error)` (a degraded response).
   * @default 'fail'
   */
  readonly onFailure?: 'fail' | 'fallback';
  /** The degraded response for `onFailure: 'fallback'`. */
  readonly fallback?: (request: RpcRequest, error: RpcError) => unknown;
  /**
   * Builds the caller from the service's endpoint, e.g. a `RetryingClient` for retries. Per-call timeouts
   * are passed to it.
   * @default the service's endpoint
   */
  readonly client?: (endpoint: RpcEndpoint) => DownstreamCaller;
}

/** Options of {@link Service}. */
export interface ServiceOptions {
  /**
   * Workers: requests served at the same time.
   * @default 1
   */
  concurrency?: number;
  /** Service time per request: a distribution (ms) or a fixed duration. */
  serviceTime: Distribution | Duration;
  /**
   * Queue slots for requests waiting for a worker; a request that finds them full is rejected
   * (`overloaded`).
   * @default Infinity
   */
  queueCapacity?: number;
  /**
   * `fifo`, `lifo` (newest first: keeps latency low for the lucky under overload), `priority` (lowest
   * `priority(request)` first, FIFO among equals) or `adaptive-lifo`.
   * @default 'fifo'
   */
  discipline?: QueueDiscipline;
  /** For the `priority` discipline: the request's priority (lower is served first). */
  priority?: (request: RpcRequest) => number;
  /**
   * For `adaptive-lifo`: how long the queue must stay non-empty before the service switches to LIFO.
   * @default 100 ms
   */
  adaptiveLifoInterval?: Duration;
  /**
   * Drop a queued request that waited longer than this, without serving it.
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
   * Probability that a served request fails with an `error` response.
   * @default 0
   */
  errorRate?: number;
  /** The response value. @default the request's payload */
  respond?: (request: RpcRequest) => unknown;
}
