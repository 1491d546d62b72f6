import {
  type Counter,
  checkCallOptions,
  checkDuration,
  type Distribution,
  DsimError,
  type Gauge,
  type Histogram,
  invalidOption,
  type NetNode,
  type NodeTimer,
  optionKeys,
  type RandomStream,
  RpcEndpoint,
  type RpcError,
  type RpcRequest,
  type SimEvent,
} from '@dsim/core';
import { L4Balancer, type L4CloseReason, type L4Connection } from './l4-balancer.js';
import { resolveConnectionClient } from './l4-config.js';
import type { ConnectionCallOptions, ConnectionClientOptions, ConnectionProtocol } from './l4-options.js';

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
  /** Connections opened (refused attempts not counted). */
  opened: number;
  /**
   * Connections opened after the first `connections` ones: after a break, an idle timeout, a retired
   * connection or a timed-out `http1.1` request.
   */
  reconnects: number;
  /** Connections the client closed itself: idle, retired after `maxRequestsPerConnection`, or (`http1.1`) cut by a timeout. */
  closed: number;
  /** `http1.1`: requests waiting for a free connection now. */
  pending: number;
  /** `http1.1`: requests refused `overloaded` because `maxPending` were already waiting. */
  overflows: number;
}

const CALL_KEYS = optionKeys<ConnectionCallOptions>()({ key: true, timeout: true, size: true });

/** One connection through the balancer, as the client holds it. */
interface Link {
  readonly conn: L4Connection;
  /** Requests riding on it now, in call order. */
  readonly inflight: Set<Pending>;
  /** When its handshake is done and the first request can go. */
  readonly readyAt: number;
  /** Requests sent on it so far. */
  served: number;
  /** No new request goes on it (retired, timed out, or closing). */
  retired: boolean;
  /** `http2`: its slot in the round robin; -1 for `http1.1`. */
  readonly slot: number;
  idleTimer: NodeTimer | undefined;
}

interface Pending {
  readonly event: SimEvent<ConnectionResponse>;
  readonly startedAt: number;
  readonly payload: unknown;
  readonly options: ConnectionCallOptions | undefined;
  readonly timeout: number;
  link: Link | undefined;
  timer: NodeTimer | undefined;
  settled: boolean;
}

/**
 * A client that holds long-lived connections through an {@link L4Balancer} and sends its requests on
 * them. A request goes to the backend its connection is pinned to, after the balancer's pass-through
 * delay; the answer comes straight back. Two ways to ride the connections ({@link ConnectionProtocol}):
 *
 * - `http2` (the default): `connections` long-lived connections open at construction, in order (source
 *   ports from 49152 up, one per connection opened, so clients built one after another connect in that
 *   order); each request takes the next connection in turn and any number ride one connection at once.
 *   When a connection's backend crashes, the requests on it fail `unavailable` at once and the client
 *   reconnects after `reconnectDelay` (a new assignment). A request given to a connection that is not
 *   open tries to connect first.
 * - `http1.1`: a keep-alive pool of at most `connections`, opened on demand, one request per
 *   connection at a time; a free connection is reused most recently freed first, and a request waits in
 *   a FIFO queue (at most `maxPending`) while all are busy. A request that times out on a connection
 *   closes it. When a backend crashes the request on each of its connections fails `unavailable`.
 *
 * For both: a new connection waits `connectTime` before its first request; a connection idle for
 * `idleTimeout` closes, and one that carried `maxRequestsPerConnection` requests is retired (the next
 * request opens a new one: a new assignment, which is how long-lived connections rebalance). When the
 * balancer has no backend for a new connection, the request fails `unavailable`. A request that gets
 * no answer within `timeout` fails `timeout`; a late answer is ignored. When the client's own node
 * crashes, its connections close and its requests fail `unavailable`.
 *
 * Metrics under the client's address: counters `conn.requests`, `conn.ok`, `conn.failed`,
 * `conn.broken`, `conn.no-connection`, `conn.opened`, `conn.reconnects`, `conn.closed`,
 * `conn.overflows`, `conn.backend.<address>.requests`; gauges `conn.inflight`, `conn.pending`,
 * `conn.open`; histograms `conn.latency` (call to answer) and `conn.wait` (`http1.1`: call to a
 * connection). Its endpoint also records the usual `rpc.*` metrics. With tracing on,
 * `@dsim.lb.reconnect` (`client, slot, conn, backend`; `slot` -1 in an `http1.1` pool, `backend` null
 * when refused) on every connection opened after the first `connections`.
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
  /** How requests ride the connections. */
  readonly protocol: ConnectionProtocol;
  /** `http2`: the connection of each slot; undefined when it is not open. */
  private readonly slots: (Link | undefined)[] = [];
  /** Every open connection, in opening order. */
  private readonly links = new Set<Link>();
  /** `http1.1`: free connections, the most recently freed last. */
  private readonly idle: Link[] = [];
  /** `http1.1`: requests waiting for a connection, FIFO from `head`. */
  private queue: Pending[] = [];
  private head = 0;
  private readonly size: number;
  private readonly timeout: number;
  private readonly reconnectDelay: number;
  private readonly connectTime: Distribution | undefined;
  private readonly idleTimeout: number;
  private readonly maxRequests: number;
  private readonly maxPending: number;
  private readonly rng: RandomStream | undefined;
  private cursor = 0;
  private nextPort = 49152;
  private readonly counts: ConnectionClientStats = {
    requests: 0,
    ok: 0,
    failed: 0,
    inFlight: 0,
    broken: 0,
    noConnection: 0,
    opened: 0,
    reconnects: 0,
    closed: 0,
    pending: 0,
    overflows: 0,
  };
  private readonly meters: {
    requests: Counter;
    ok: Counter;
    failed: Counter;
    broken: Counter;
    noConnection: Counter;
    opened: Counter;
    reconnects: Counter;
    closed: Counter;
    overflows: Counter;
    inflight: Gauge;
    pending: Gauge;
    open: Gauge;
    latency: Histogram;
    wait: Histogram;
  };
  private readonly perBackend = new Map<string, Counter>();

  /**
   * @param node - the client's node; the client takes over its RPC endpoint
   * @param options - the balancer, the protocol, the number of connections and the timers; checked
   *   here, once
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
    this.protocol = config.protocol;
    this.size = config.connections;
    this.timeout = config.timeout;
    this.reconnectDelay = config.reconnectDelay;
    this.connectTime = config.connectTime;
    this.idleTimeout = config.idleTimeout;
    this.maxRequests = config.maxRequestsPerConnection;
    this.maxPending = config.maxPending;
    const sim = node.network.sim;
    this.rng = config.connectTime === undefined ? undefined : sim.rng(`${node.address}/conn`);
    const m = sim.metrics;
    const id = node.address;
    this.meters = {
      requests: m.counter(id, 'conn.requests'),
      ok: m.counter(id, 'conn.ok'),
      failed: m.counter(id, 'conn.failed'),
      broken: m.counter(id, 'conn.broken'),
      noConnection: m.counter(id, 'conn.no-connection'),
      opened: m.counter(id, 'conn.opened'),
      reconnects: m.counter(id, 'conn.reconnects'),
      closed: m.counter(id, 'conn.closed'),
      overflows: m.counter(id, 'conn.overflows'),
      inflight: m.gauge(id, 'conn.inflight'),
      pending: m.gauge(id, 'conn.pending'),
      open: m.gauge(id, 'conn.open'),
      latency: m.histogram(id, 'conn.latency'),
      wait: m.histogram(id, 'conn.wait'),
    };
    this.endpoint = RpcEndpoint.of(node);
    if (this.protocol === 'http2') for (let i = 0; i < this.size; i++) this.slots.push(this.open(i, false));
    node.onCrash(() => {
      const message = `client ${node.address} crashed`;
      for (const link of [...this.links]) {
        this.drop(link);
        this.failOn(link, message, false);
        this.balancer.close(link.conn);
      }
      for (let i = this.head; i < this.queue.length; i++) {
        const p = this.queue[i]!;
        this.settle(p, this.failure(p, 'unavailable', message, undefined));
      }
      this.queue = [];
      this.head = 0;
      this.setPending(0);
    });
  }

  /**
   * `http2`: the backend each connection is pinned to, in slot order (undefined: not open).
   * `http1.1`: the backend of each open connection, in opening order.
   */
  get backends(): readonly (string | undefined)[] {
    if (this.protocol === 'http2')
      return this.slots.map((link) => (link?.conn.open === true ? link.conn.backend : undefined));
    return [...this.links].map((link) => link.conn.backend);
  }

  /** A copy of the client's counts. */
  get stats(): ConnectionClientStats {
    return { ...this.counts };
  }

  /**
   * Sends a request: `http2` on the next connection in turn, `http1.1` on a free connection (opening
   * one, or queueing, when none is free). The event resolves with the answer; it never fails (errors
   * are values).
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
    const p: Pending = {
      event: sim.event<ConnectionResponse>(),
      startedAt: sim.now,
      payload,
      options,
      timeout,
      link: undefined,
      timer: undefined,
      settled: false,
    };
    this.counts.requests++;
    this.counts.inFlight++;
    this.meters.requests.inc();
    this.meters.inflight.set(this.counts.inFlight);
    if (!this.node.isUp) this.refuse(p);
    else if (this.protocol === 'http2') this.callHttp2(p);
    else this.callHttp1(p);
    return p.event as SimEvent<ConnectionResponse<R>>;
  }

  // ---- http2 ------------------------------------------------------------------------------------

  private callHttp2(p: Pending): void {
    const slot = this.cursor;
    this.cursor = (this.cursor + 1) % this.size;
    let link = this.slots[slot];
    if (link === undefined || !link.conn.open || link.retired) {
      link = this.open(slot, true);
      this.slots[slot] = link;
    }
    if (link === undefined) this.refuse(p);
    else this.dispatch(p, link);
  }

  // ---- http1.1 ----------------------------------------------------------------------------------

  private callHttp1(p: Pending): void {
    this.armTimer(p);
    const link = this.idle.pop();
    if (link !== undefined) {
      this.meters.wait.record(0);
      this.dispatch(p, link);
      return;
    }
    if (this.links.size < this.size) {
      const fresh = this.open(-1, true);
      if (fresh === undefined) this.refuse(p);
      else {
        this.meters.wait.record(0);
        this.dispatch(p, fresh);
      }
      return;
    }
    if (this.counts.pending >= this.maxPending) {
      this.counts.overflows++;
      this.meters.overflows.inc();
      this.settle(
        p,
        this.failure(
          p,
          'overloaded',
          `${this.node.address}: ${this.counts.pending} requests already waiting for a connection (maxPending ${this.maxPending})`,
          undefined,
        ),
      );
      return;
    }
    this.queue.push(p);
    this.setPending(this.counts.pending + 1);
  }

  /** `http1.1`: a connection is free: the next waiting request takes it, or it goes idle. */
  private release(link: Link): void {
    if (!this.links.has(link)) return;
    if (link.retired) {
      this.retire(link);
      this.openForWaiting();
      return;
    }
    while (this.head < this.queue.length) {
      const p = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as typeof p;
      this.compactQueue();
      if (p.settled) continue;
      this.setPending(this.counts.pending - 1);
      this.meters.wait.record(this.node.network.sim.now - p.startedAt);
      this.dispatch(p, link);
      return;
    }
    this.idle.push(link);
    this.armIdle(link);
  }

  /** `http1.1`: opens connections for waiting requests, up to the pool's size. */
  private openForWaiting(): void {
    while (this.head < this.queue.length && this.links.size < this.size && this.node.isUp) {
      const p = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as typeof p;
      this.compactQueue();
      if (p.settled) continue;
      this.setPending(this.counts.pending - 1);
      const link = this.open(-1, true);
      if (link === undefined) {
        this.refuse(p);
        continue;
      }
      this.meters.wait.record(this.node.network.sim.now - p.startedAt);
      this.dispatch(p, link);
    }
  }

  private compactQueue(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  // ---- both -------------------------------------------------------------------------------------

  /** Sends `p` on `link` (after its handshake and the balancer's pass-through delay). */
  private dispatch(p: Pending, link: Link): void {
    const sim = this.node.network.sim;
    if (link.idleTimer !== undefined) {
      link.idleTimer.cancel();
      link.idleTimer = undefined;
    }
    p.link = link;
    link.inflight.add(p);
    link.served++;
    if (link.served >= this.maxRequests) link.retired = true;
    if (this.protocol === 'http2') this.armTimer(p);
    const conn = link.conn;
    const deadline = p.startedAt + p.timeout;
    const send = (): void => {
      if (p.settled) return;
      const callOptions: { key?: string; size?: number; deadline?: number } = {};
      if (p.options?.key !== undefined) callOptions.key = p.options.key;
      if (p.options?.size !== undefined) callOptions.size = p.options.size;
      // The client's own timer answers the timeout; the endpoint's only keeps its books.
      if (deadline !== Infinity) callOptions.deadline = deadline;
      this.endpoint.call(conn.backend, p.payload, callOptions).onProcessed((e) => {
        const res = e.value!;
        if (p.settled) return;
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
        this.freed(link);
      });
    };
    const delay = Math.max(0, link.readyAt - sim.now) + this.balancer.passThroughDelay();
    if (delay === 0) send();
    else this.node.setTimer(delay, send);
    let counter = this.perBackend.get(conn.backend);
    if (counter === undefined) {
      counter = sim.metrics.counter(this.node.address, `conn.backend.${conn.backend}.requests`);
      this.perBackend.set(conn.backend, counter);
    }
    counter.inc();
  }

  /** A request on `link` is settled: what becomes of the connection. */
  private freed(link: Link): void {
    if (!this.links.has(link)) return;
    if (this.protocol === 'http1.1') this.release(link);
    else if (link.retired) {
      if (link.inflight.size === 0) this.retire(link);
    } else if (link.inflight.size === 0) this.armIdle(link);
  }

  /** Starts the request's timeout (from the call). */
  private armTimer(p: Pending): void {
    if (p.timeout === Infinity) return;
    const left = p.startedAt + p.timeout - this.node.network.sim.now;
    p.timer = this.node.setTimer(Math.max(0, left), () => this.expire(p));
  }

  private expire(p: Pending): void {
    if (p.settled) return;
    const link = p.link;
    if (link === undefined) this.setPending(this.counts.pending - 1); // still queued
    this.settle(p, this.failure(p, 'timeout', `no response within ${p.timeout} ms`, link));
    if (link === undefined) return;
    if (this.protocol === 'http1.1') {
      // HTTP/1.1 cannot cancel a request and keep the connection: close it.
      link.retired = true;
      this.retire(link);
      this.openForWaiting();
    } else this.freed(link);
  }

  private armIdle(link: Link): void {
    if (this.idleTimeout === Infinity) return;
    link.idleTimer = this.node.setTimer(this.idleTimeout, () => {
      link.idleTimer = undefined;
      if (link.inflight.size > 0 || !this.links.has(link)) return;
      link.retired = true;
      this.retire(link);
    });
  }

  /** Opens a connection (`slot` -1 in an `http1.1` pool); undefined when the balancer refuses. */
  private open(slot: number, again: boolean): Link | undefined {
    const port = this.nextPort++;
    if (this.nextPort > 65535) this.nextPort = 49152;
    let link: Link | undefined;
    const conn = this.balancer.connect(this.node.address, port, (_c, reason) => {
      if (link !== undefined) this.broken(link, reason);
    });
    const sim = this.node.network.sim;
    const reconnect = this.counts.opened >= this.size;
    if (conn !== undefined) {
      let wait = 0;
      if (this.connectTime !== undefined) {
        wait = this.connectTime.sample(this.rng!);
        if (!(wait >= 0))
          throw new DsimError(
            'INVALID_DURATION',
            `ConnectionClient '${this.node.address}': connectTime sampled ${wait} ms; a duration must be >= 0`,
          );
      }
      link = {
        conn,
        inflight: new Set(),
        readyAt: sim.now + wait,
        served: 0,
        retired: false,
        slot,
        idleTimer: undefined,
      };
      this.links.add(link);
      this.counts.opened++;
      this.meters.opened.inc();
      this.meters.open.set(this.links.size);
      if (reconnect) {
        this.counts.reconnects++;
        this.meters.reconnects.inc();
      }
    }
    if (again && sim.tracing && (reconnect || conn === undefined))
      sim.emit('@dsim.lb.reconnect', {
        client: this.node.address,
        slot,
        conn: conn?.id ?? null,
        backend: conn?.backend ?? null,
      });
    return link;
  }

  /** Closes a connection the client gives up on (idle, retired, timed out). */
  private retire(link: Link): void {
    if (!this.links.has(link)) return;
    this.drop(link);
    this.counts.closed++;
    this.meters.closed.inc();
    this.balancer.close(link.conn);
  }

  /** Forgets `link`: no request will be sent on it again. */
  private drop(link: Link): void {
    this.links.delete(link);
    this.meters.open.set(this.links.size);
    link.idleTimer?.cancel();
    link.idleTimer = undefined;
    link.retired = true;
    if (link.slot >= 0 && this.slots[link.slot] === link) this.slots[link.slot] = undefined;
    const at = this.idle.indexOf(link);
    if (at >= 0) this.idle.splice(at, 1);
  }

  /** The balancer broke a connection (its backend crashed): fail its requests and reconnect. */
  private broken(link: Link, reason: L4CloseReason): void {
    if (!this.links.has(link)) return;
    this.drop(link);
    this.failOn(link, `connection ${link.conn.id} to ${link.conn.backend} broken: ${reason}`, true);
    if (!this.node.isUp) return;
    if (this.protocol === 'http1.1') {
      this.openForWaiting();
      return;
    }
    const slot = link.slot;
    const reopen = (): void => {
      const current = this.slots[slot];
      if (current === undefined || !current.conn.open) this.slots[slot] = this.open(slot, true);
    };
    if (this.reconnectDelay === 0) reopen();
    else this.node.setTimer(this.reconnectDelay, reopen);
  }

  /** Fails every request on `link`. */
  private failOn(link: Link, message: string, broken: boolean): void {
    for (const p of [...link.inflight]) {
      if (broken) {
        this.counts.broken++;
        this.meters.broken.inc();
      }
      this.settle(p, this.failure(p, 'unavailable', message, link));
    }
  }

  /** Fails `p`: no connection could be opened for it. */
  private refuse(p: Pending): void {
    this.counts.noConnection++;
    this.meters.noConnection.inc();
    this.settle(
      p,
      this.failure(p, 'unavailable', `${this.node.address}: no connection (no backend available)`, undefined),
    );
  }

  private failure(
    p: Pending,
    kind: 'unavailable' | 'timeout' | 'overloaded',
    message: string,
    link: Link | undefined,
  ): ConnectionResponse {
    return {
      ok: false,
      error: { kind, message },
      latency: this.node.network.sim.now - p.startedAt,
      backend: link?.conn.backend,
      connection: link?.conn.id,
      request: undefined,
    };
  }

  private setPending(n: number): void {
    this.counts.pending = n;
    this.meters.pending.set(n);
  }

  private settle(p: Pending, res: ConnectionResponse): void {
    if (p.settled) return;
    p.settled = true;
    p.timer?.cancel();
    p.link?.inflight.delete(p);
    this.counts.inFlight--;
    this.meters.inflight.set(this.counts.inFlight);
    this.meters.latency.record(this.node.network.sim.now - p.startedAt);
    if (res.ok) {
      this.counts.ok++;
      this.meters.ok.inc();
    } else {
      this.counts.failed++;
      this.meters.failed.inc();
    }
    p.event.succeed(res);
  }
}
