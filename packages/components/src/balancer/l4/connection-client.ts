import {
  type Counter,
  checkCallOptions,
  checkDuration,
  type Gauge,
  type Histogram,
  invalidOption,
  type NetNode,
  optionKeys,
  RpcEndpoint,
  type RpcError,
  type RpcRequest,
  type SimEvent,
} from '@dsim/core';
import { L4Balancer, type L4CloseReason, type L4Connection } from './l4-balancer.js';
import { resolveConnectionClient } from './l4-config.js';
import type { ConnectionCallOptions, ConnectionClientOptions } from './l4-options.js';

/**
 * The answer to a {@link ConnectionClient} call: the backend's value or an error, with the backend and
 * the connection it rode on (undefined when no connection could be opened).
 *
 * @example
 * ```ts
 * const res = yield* client.call('GET /');
 * if (res.ok) shares.set(res.backend, (shares.get(res.backend) ?? 0) + 1);
 * ```
 */
export type ConnectionResponse<R = unknown> =
  | {
      readonly ok: true;
      readonly value: R;
      /** From the call to the answer, ms. */
      readonly latency: number;
      readonly backend: string;
      /** The connection's id at the balancer. */
      readonly connection: number;
      /** The request sent to the backend. */
      readonly request: RpcRequest;
    }
  | {
      readonly ok: false;
      readonly error: RpcError;
      readonly latency: number;
      readonly backend: string | undefined;
      readonly connection: number | undefined;
      /** The request sent to the backend; undefined when it failed before being sent. */
      readonly request: RpcRequest | undefined;
    };

/**
 * What a {@link ConnectionClient} has done so far. At every moment `requests = ok + failed + inFlight`;
 * `broken` and `noConnection` are part of `failed`.
 *
 * @example
 * ```ts
 * const { ok, failed, broken } = client.stats;
 * ```
 */
export interface ConnectionClientStats {
  requests: number;
  ok: number;
  failed: number;
  inFlight: number;
  /** Requests failed `unavailable` because their connection broke (its backend crashed). */
  broken: number;
  /** Requests failed `unavailable` because no connection could be opened (no backend available). */
  noConnection: number;
  /** Connections opened after the first ones (after a break, or lazily); refused attempts not counted. */
  reconnects: number;
}

const CALL_KEYS = optionKeys<ConnectionCallOptions>()({ key: true, timeout: true, size: true });

interface Slot {
  conn: L4Connection | undefined;
  /** Requests riding on the current connection, in call order. */
  readonly inflight: Set<Pending>;
}

interface Pending {
  readonly event: SimEvent<ConnectionResponse>;
  readonly startedAt: number;
  readonly slot: Slot;
  readonly conn: L4Connection;
  settled: boolean;
}

/**
 * A client that keeps `connections` long-lived connections through an {@link L4Balancer} and
 * multiplexes its requests over them, HTTP/2 style: each request takes the next connection in turn
 * (round robin over the client's connections) and any number ride on one connection at once. A request
 * goes to the backend its connection is pinned to, after the balancer's pass-through delay; the answer
 * comes straight back.
 *
 * The connections open at construction, in order (source ports from 49152 up, one per connection
 * opened), so clients built one after another connect in that order. When a connection's backend
 * crashes, the requests on it fail `unavailable` at once and the client reconnects after
 * `reconnectDelay` (a new assignment). A request given to a connection that is not open tries to
 * connect first; when the balancer has no backend for it, it fails `unavailable`. A request that gets
 * no answer within `timeout` fails `timeout`; a late answer is ignored. When the client's own node
 * crashes, its connections close and its requests fail `unavailable`.
 *
 * Metrics under the client's address: counters `conn.requests`, `conn.ok`, `conn.failed`,
 * `conn.broken`, `conn.no-connection`, `conn.reconnects`, `conn.backend.<address>.requests`; gauge
 * `conn.inflight`; histogram `conn.latency` (call to answer). Its endpoint also records the usual
 * `rpc.*` metrics. With tracing on, `@dsim.lb.reconnect` (`client, slot, conn, backend`, `backend` null
 * when refused) on every connection opened after the first ones.
 *
 * @example
 * ```ts
 * const client = new ConnectionClient(net.addNode('client-0'), { balancer: l4, connections: 2, timeout: '1s' });
 * sim.process(function* () {
 *   const res = yield* client.call('GET /', { key: 'user:42' });
 *   if (res.ok) sim.log(`served by ${res.backend}`);
 * });
 * ```
 */
export class ConnectionClient {
  /** The client's RPC endpoint (it takes over the node's messages). */
  readonly endpoint: RpcEndpoint;
  /** The balancer that assigns its connections. */
  readonly balancer: L4Balancer;
  private readonly slots: Slot[] = [];
  private readonly timeout: number;
  private readonly reconnectDelay: number;
  private cursor = 0;
  private nextPort = 49152;
  private readonly counts: ConnectionClientStats = {
    requests: 0,
    ok: 0,
    failed: 0,
    inFlight: 0,
    broken: 0,
    noConnection: 0,
    reconnects: 0,
  };
  private readonly meters: {
    requests: Counter;
    ok: Counter;
    failed: Counter;
    broken: Counter;
    noConnection: Counter;
    reconnects: Counter;
    inflight: Gauge;
    latency: Histogram;
  };
  private readonly perBackend = new Map<string, Counter>();

  /**
   * @param node - the client's node; the client takes over its RPC endpoint
   * @param options - the balancer, the number of connections, the timeout and the reconnect delay;
   *   checked here, once
   */
  constructor(
    readonly node: NetNode<any>,
    options: ConnectionClientOptions,
  ) {
    const config = resolveConnectionClient(options);
    if (!(options.balancer instanceof L4Balancer))
      throw invalidOption('ConnectionClient', 'balancer', options.balancer, 'an L4Balancer');
    if (options.balancer.node.network !== node.network)
      throw invalidOption(
        'ConnectionClient',
        'balancer',
        options.balancer.node.address,
        "an L4Balancer on the client's network",
      );
    this.balancer = options.balancer;
    this.timeout = config.timeout;
    this.reconnectDelay = config.reconnectDelay;
    const m = node.network.sim.metrics;
    const id = node.address;
    this.meters = {
      requests: m.counter(id, 'conn.requests'),
      ok: m.counter(id, 'conn.ok'),
      failed: m.counter(id, 'conn.failed'),
      broken: m.counter(id, 'conn.broken'),
      noConnection: m.counter(id, 'conn.no-connection'),
      reconnects: m.counter(id, 'conn.reconnects'),
      inflight: m.gauge(id, 'conn.inflight'),
      latency: m.histogram(id, 'conn.latency'),
    };
    this.endpoint = new RpcEndpoint(node);
    for (let i = 0; i < config.connections; i++) {
      const slot: Slot = { conn: undefined, inflight: new Set() };
      this.slots.push(slot);
      this.open(slot, false);
    }
    node.onCrash(() => {
      for (const slot of this.slots) {
        const conn = slot.conn;
        slot.conn = undefined;
        this.failAll(slot, 'unavailable', `client ${node.address} crashed`, false);
        if (conn !== undefined) this.balancer.close(conn);
      }
    });
  }

  /** The backend each connection is pinned to, in connection order (undefined: not open). */
  get backends(): readonly (string | undefined)[] {
    return this.slots.map((s) => (s.conn?.open === true ? s.conn.backend : undefined));
  }

  /** A copy of the client's counts. */
  get stats(): ConnectionClientStats {
    return { ...this.counts };
  }

  /**
   * Sends a request on the next connection (round robin over the client's connections). The event
   * resolves with the answer; it never fails (errors are values).
   *
   * @param options - `key`, `timeout` (this request's, instead of the client's), `size`
   * @example
   * ```ts
   * client.call('GET /', { timeout: '200ms' }).onProcessed((e) => sim.log(e.value!.ok));
   * ```
   */
  call<R = unknown>(payload: unknown, options?: ConnectionCallOptions): SimEvent<ConnectionResponse<R>> {
    checkCallOptions('ConnectionClient.call', options, CALL_KEYS);
    const timeout =
      options?.timeout === undefined
        ? this.timeout
        : checkDuration('ConnectionClient.call', 'timeout', options.timeout, {
            positive: true,
            infinity: true,
          });
    const sim = this.node.network.sim;
    const now = sim.now;
    const event = sim.event<ConnectionResponse>();
    this.counts.requests++;
    this.counts.inFlight++;
    this.meters.requests.inc();
    this.meters.inflight.set(this.counts.inFlight);
    const slot = this.slots[this.cursor]!;
    this.cursor = (this.cursor + 1) % this.slots.length;
    if (this.node.isUp && (slot.conn === undefined || !slot.conn.open)) this.open(slot, true);
    const conn = slot.conn;
    if (conn === undefined || !this.node.isUp) {
      this.counts.noConnection++;
      this.meters.noConnection.inc();
      this.finish(event, now, {
        ok: false,
        error: { kind: 'unavailable', message: `${this.node.address}: no connection (no backend available)` },
        latency: 0,
        backend: undefined,
        connection: undefined,
        request: undefined,
      });
      return event as SimEvent<ConnectionResponse<R>>;
    }
    const p: Pending = { event, startedAt: now, slot, conn, settled: false };
    slot.inflight.add(p);
    const deadline = now + timeout;
    let timer: { cancel(): void } | undefined;
    if (timeout !== Infinity)
      timer = this.node.setTimer(timeout, () =>
        this.settle(p, {
          ok: false,
          error: { kind: 'timeout', message: `no response within ${timeout} ms` },
          latency: timeout,
          backend: conn.backend,
          connection: conn.id,
          request: undefined,
        }),
      );
    const send = (): void => {
      if (p.settled) return;
      const callOptions: { key?: string; size?: number; deadline?: number } = {};
      if (options?.key !== undefined) callOptions.key = options.key;
      if (options?.size !== undefined) callOptions.size = options.size;
      // The client's own timer above answers the timeout; the endpoint's only keeps its books.
      if (deadline !== Infinity) callOptions.deadline = deadline;
      this.endpoint.call(conn.backend, payload, callOptions).onProcessed((e) => {
        const res = e.value!;
        if (p.settled) return;
        timer?.cancel();
        const latency = sim.now - p.startedAt;
        this.settle(
          p,
          res.ok
            ? {
                ok: true,
                value: res.value,
                latency,
                backend: conn.backend,
                connection: conn.id,
                request: res.request,
              }
            : {
                ok: false,
                error: res.error,
                latency,
                backend: conn.backend,
                connection: conn.id,
                request: res.request,
              },
        );
      });
    };
    const delay = this.balancer.passThroughDelay();
    if (delay === 0) send();
    else this.node.setTimer(delay, send);
    let counter = this.perBackend.get(conn.backend);
    if (counter === undefined) {
      counter = sim.metrics.counter(this.node.address, `conn.backend.${conn.backend}.requests`);
      this.perBackend.set(conn.backend, counter);
    }
    counter.inc();
    return event as SimEvent<ConnectionResponse<R>>;
  }

  // ---- internals --------------------------------------------------------------------------------

  /** Opens a connection for `slot`; `again` for every one after the first. */
  private open(slot: Slot, again: boolean): void {
    const port = this.nextPort++;
    if (this.nextPort > 65535) this.nextPort = 49152;
    const conn = this.balancer.connect(this.node.address, port, (c, reason) => this.broken(slot, c, reason));
    slot.conn = conn;
    if (!again) return;
    if (conn !== undefined) {
      this.counts.reconnects++;
      this.meters.reconnects.inc();
    }
    const sim = this.node.network.sim;
    if (sim.tracing)
      sim.emit('@dsim.lb.reconnect', {
        client: this.node.address,
        slot: this.slots.indexOf(slot),
        conn: conn?.id ?? null,
        backend: conn?.backend ?? null,
      });
  }

  /** The balancer broke a connection (its backend crashed): fail its requests and reconnect. */
  private broken(slot: Slot, conn: L4Connection, reason: L4CloseReason): void {
    if (slot.conn !== conn) return;
    slot.conn = undefined;
    this.failAll(slot, 'unavailable', `connection ${conn.id} to ${conn.backend} broken: ${reason}`, true);
    if (!this.node.isUp) return;
    if (this.reconnectDelay === 0) this.open(slot, true);
    else
      this.node.setTimer(this.reconnectDelay, () => {
        if (slot.conn === undefined || !slot.conn.open) this.open(slot, true);
      });
  }

  private failAll(slot: Slot, kind: 'unavailable', message: string, broken: boolean): void {
    const now = this.node.network.sim.now;
    for (const p of [...slot.inflight]) {
      if (broken) {
        this.counts.broken++;
        this.meters.broken.inc();
      }
      this.settle(p, {
        ok: false,
        error: { kind, message },
        latency: now - p.startedAt,
        backend: p.conn.backend,
        connection: p.conn.id,
        request: undefined,
      });
    }
  }

  private settle(p: Pending, res: ConnectionResponse): void {
    if (p.settled) return;
    p.settled = true;
    p.slot.inflight.delete(p);
    this.finish(p.event, p.startedAt, res);
  }

  private finish(event: SimEvent<ConnectionResponse>, startedAt: number, res: ConnectionResponse): void {
    this.counts.inFlight--;
    this.meters.inflight.set(this.counts.inFlight);
    this.meters.latency.record(this.node.network.sim.now - startedAt);
    if (res.ok) {
      this.counts.ok++;
      this.meters.ok.inc();
    } else {
      this.counts.failed++;
      this.meters.failed.inc();
    }
    event.succeed(res);
  }
}
