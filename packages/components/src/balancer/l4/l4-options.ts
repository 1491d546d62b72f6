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
 * Options of a {@link ConnectionClient}. Every key and value is checked at construction.
 *
 * @example
 * ```ts
 * const options: ConnectionClientOptions = { balancer: l4, connections: 2, timeout: '1s' };
 * ```
 */
export interface ConnectionClientOptions {
  /** The L4 balancer that assigns the client's connections. */
  balancer: L4Balancer;
  /**
   * Long-lived connections the client keeps open; its requests take them in turn (round robin), each
   * multiplexing any number of requests at once (HTTP/2 streams). An integer in [1, 100000].
   * @default 1 (gRPC's one connection per target)
   */
  connections?: number;
  /**
   * How long the client waits for an answer, from the call; then the request fails `timeout`. A
   * duration > 0 or Infinity.
   * @default Infinity (a request waits for its answer, or for its connection to break)
   */
  timeout?: Duration;
  /**
   * After a connection breaks, how long the client waits before it reconnects (a new assignment by the
   * balancer). A duration >= 0. Requests given to a connection that is not open try to connect at once.
   * @default 0
   */
  reconnectDelay?: Duration;
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
