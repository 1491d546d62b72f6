import type { Distribution, Duration } from '@dsim/core';
import type { BackendHealth } from '../health-hook.js';
import type { L4Balancer } from './l4-balancer.js';

/**
 * How an {@link L4Balancer} assigns a new connection to a backend. The choice is made once, at connect
 * time; every request on the connection then goes to that backend.
 *
 * - `round-robin`: the available backends in index order, one connection each in turn (IPVS `rr`).
 * - `five-tuple-hash`: xxHash64 of the client address and the connection's source port, modulo the
 *   number of available backends (ECMP-style hash-mod-N: a change in availability moves most flows).
 * - `maglev`: the same hash looked up in a Maglev table of the available backends (Eisenbud et al.,
 *   NSDI '16), so a change in availability moves few flows. `tableSize` as {@link MaglevHash}.
 * - `least-connections`: the available backend with the fewest open connections, the lowest index on
 *   ties (IPVS `lc`, counting connections, not requests).
 *
 * @example
 * ```ts
 * const spec: L4PolicySpec = { kind: 'maglev', tableSize: 65537 };
 * ```
 */
export type L4PolicySpec =
  | { kind: 'round-robin' }
  | { kind: 'five-tuple-hash' }
  | {
      kind: 'maglev';
      /** Lookup-table entries: a prime in [2, 5000011], above the backend count. @default 65537 */
      tableSize?: number;
    }
  | { kind: 'least-connections' };

/** The kinds of {@link L4PolicySpec}. */
export type L4PolicyKind = L4PolicySpec['kind'];

/**
 * Options of an {@link L4Balancer}. Every key and value is checked at construction.
 *
 * @example
 * ```ts
 * const options: L4BalancerOptions = {
 *   backends: ['app-0', 'app-1', 'app-2'],
 *   policy: { kind: 'round-robin' },
 *   latency: '50us',
 * };
 * ```
 */
export interface L4BalancerOptions {
  /**
   * The backends' addresses, in the balancer's order: non-empty, unique, and each the address of a node
   * already on the balancer's network (the balancer watches them crash and restart).
   */
  backends: readonly string[];
  /**
   * How a new connection is assigned; see {@link L4PolicySpec}.
   * @default { kind: 'round-robin' }
   */
  policy?: L4PolicySpec;
  /**
   * The balancer's pass-through delay per request, added on the way to the backend only (answers go
   * straight back to the client, Maglev's direct server return): a distribution or a duration. It never
   * queues: an L4 forwarder here has no request-level capacity limit.
   * @default 0
   */
  latency?: Distribution | Duration;
  /**
   * Health mechanisms: a backend takes new connections when every one of them says so
   * ({@link BackendHealth.isAvailable}, asked at each connect). Connections already open stay where
   * they are. The balancer never sees requests, so `onResponse` is never called.
   * @default []
   */
  health?: readonly BackendHealth[];
}

/**
 * How a {@link ConnectionClient}'s requests ride its connections.
 *
 * - `http2`: every connection multiplexes any number of requests at once (HTTP/2 streams, gRPC); the
 *   client opens its `connections` at construction and gives each request the next one in turn.
 * - `http1.1`: a keep-alive pool. A connection carries one request at a time; the client opens
 *   connections on demand up to `connections`, reuses the most recently freed idle one first (Go's
 *   `net/http` Transport and Envoy's HTTP/1.1 pool both reuse the most recently used), and queues a
 *   request when all are busy. A request that times out on a connection closes it (HTTP/1.1 cannot
 *   cancel a request and keep the connection).
 *
 * @example
 * ```ts
 * const protocol: ConnectionProtocol = 'http1.1';
 * ```
 */
export type ConnectionProtocol = 'http2' | 'http1.1';

/**
 * Options of a {@link ConnectionClient}. Every key and value is checked at construction.
 *
 * @example
 * ```ts
 * const h2: ConnectionClientOptions = { balancer: l4, connections: 2, timeout: '1s' };
 * const h1: ConnectionClientOptions = { balancer: l4, protocol: 'http1.1', connections: 8, idleTimeout: '90s' };
 * ```
 */
export interface ConnectionClientOptions {
  /** The L4 balancer that assigns the client's connections. */
  balancer: L4Balancer;
  /**
   * How requests ride the connections; see {@link ConnectionProtocol}.
   * @default 'http2'
   */
  protocol?: ConnectionProtocol;
  /**
   * With `http2`, the long-lived connections the client keeps open, taken in turn (round robin), each
   * multiplexing any number of requests. With `http1.1`, the most connections the pool opens (Go's
   * `MaxConnsPerHost`, Envoy's `max_connections`), each carrying one request at a time. An integer in
   * [1, 100000].
   * @default 1 (gRPC's one connection per target)
   */
  connections?: number;
  /**
   * How long the client waits for an answer, from the call (time spent queued for an `http1.1`
   * connection included); then the request fails `timeout`. A duration > 0 or Infinity.
   * @default Infinity (a request waits for its answer, or for its connection to break)
   */
  timeout?: Duration;
  /**
   * After an `http2` connection breaks, how long the client waits before it reconnects (a new
   * assignment by the balancer). A duration >= 0. Requests given to a connection that is not open try
   * to connect at once. (`http1.1` pools reconnect on demand.)
   * @default 0
   */
  reconnectDelay?: Duration;
  /**
   * Time to set up a new connection before its first request can go (the TCP handshake's round trip,
   * plus TLS's): a distribution or a duration, drawn per connection.
   * @default 0
   */
  connectTime?: Distribution | Duration;
  /**
   * A connection with no request on it for this long is closed by the client; the next request opens a
   * new one (a new assignment by the balancer). A duration > 0 or Infinity. Go's `net/http` default
   * Transport uses 90 s (`IdleConnTimeout`), Envoy 1 h (`idle_timeout`).
   * @default Infinity
   */
  idleTimeout?: Duration;
  /**
   * Requests sent on one connection before the client retires it: no new request goes on it, it
   * closes once the requests on it are answered, and the next request opens a new one. Envoy's
   * `max_requests_per_connection` (unlimited by default); nginx's server-side `keepalive_requests`
   * (1000) has the same effect. An integer >= 1 or Infinity.
   * @default Infinity
   */
  maxRequestsPerConnection?: number;
  /**
   * `http1.1` only: requests that may wait for a free connection; one more fails at once `overloaded`
   * (Envoy's `upstream_rq_pending_overflow`, `max_pending_requests`). An integer >= 0 or Infinity.
   * @default Infinity
   */
  maxPending?: number;
}

/**
 * Options of one `ConnectionClient.call`.
 *
 * @example
 * ```ts
 * client.call('GET /', { key: 'user:42', timeout: '200ms' });
 * ```
 */
export interface ConnectionCallOptions {
  /** The request's key (passed to the backend). @default none */
  key?: string;
  /** This request's timeout, instead of the client's. A duration > 0 or Infinity. @default the client's */
  timeout?: Duration;
  /** Request size in bytes. @default 0 */
  size?: number;
}
