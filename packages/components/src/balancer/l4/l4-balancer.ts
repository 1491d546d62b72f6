import {
  type Counter,
  type Distribution,
  DsimError,
  type Gauge,
  invalidArgument,
  type NetNode,
  type RandomStream,
} from '@dsim/core';
import { mod64, xxHash64Into } from '../../hashing/hash.js';
import { MaglevHash } from '../../hashing/maglev.js';
import type { BackendHealth } from '../health-hook.js';
import { resolveL4Balancer } from './l4-config.js';
import type { L4BalancerOptions, L4PolicyKind } from './l4-options.js';

/**
 * One connection as its owner sees it: which backend the balancer pinned it to, and whether it is
 * still open. The balancer owns it and updates `open` in place.
 *
 * @example
 * ```ts
 * const conn = l4.connect('client-0', 49152);
 * if (conn !== undefined) sim.log(`${conn.id} -> ${conn.backend}`);
 * ```
 */
export interface L4Connection {
  /** The balancer's sequence number for it, from 1. */
  readonly id: number;
  /** The client's address. */
  readonly client: string;
  /** The client's source port for it (with the address, what `five-tuple-hash` and `maglev` hash). */
  readonly port: number;
  /** The backend it is pinned to, for its whole life. */
  readonly backend: string;
  /** When it was opened (ms). */
  readonly openedAt: number;
  /** False once it was closed by its client or broken by its backend's crash. */
  readonly open: boolean;
}

/**
 * Why a connection ended: its client closed it, or its backend crashed (which breaks it).
 *
 * @example
 * ```ts
 * const reason: L4CloseReason = 'backend-crashed';
 * ```
 */
export type L4CloseReason = 'closed' | 'backend-crashed';

/**
 * A backend as the {@link L4Balancer} sees it.
 *
 * @example
 * ```ts
 * for (const b of l4.backends) sim.log(`${b.address}: ${b.connections} connections`);
 * ```
 */
export interface L4Backend {
  readonly address: string;
  /** Its position in the balancer's list. */
  readonly index: number;
  /** Connections open to it now. */
  readonly connections: number;
  /** Connections ever assigned to it. */
  readonly assigned: number;
  /** Its node is not down (a crashed backend takes no connections until it restarts). */
  readonly up: boolean;
}

/**
 * What an {@link L4Balancer} has done so far. At every moment `opened = closed + broken + active`.
 *
 * @example
 * ```ts
 * const { opened, active, refused } = l4.stats;
 * ```
 */
export interface L4BalancerStats {
  /** Connections assigned to a backend. */
  opened: number;
  /** Connections closed by their clients. */
  closed: number;
  /** Connections broken because their backend crashed. */
  broken: number;
  /** Connect attempts refused: no backend was up and available. */
  refused: number;
  /** Connections open now. */
  active: number;
}

type BreakHandler = (connection: L4Connection, reason: L4CloseReason) => void;

class ConnectionState implements L4Connection {
  open = true;
  constructor(
    readonly id: number,
    readonly client: string,
    readonly port: number,
    readonly backend: string,
    readonly openedAt: number,
    readonly state: BackendState,
    readonly onBreak: BreakHandler | undefined,
  ) {}
}

class BackendState implements L4Backend {
  assigned = 0;
  up = true;
  readonly open = new Set<ConnectionState>();
  readonly gauge: Gauge;
  readonly counter: Counter;
  constructor(
    readonly address: string,
    readonly index: number,
    node: string,
    metrics: NetNode['network']['sim']['metrics'],
  ) {
    this.gauge = metrics.gauge(node, `l4.backend.${address}.connections`);
    this.counter = metrics.counter(node, `l4.backend.${address}.assigned`);
  }
  get connections(): number {
    return this.open.size;
  }
}

/**
 * A connection-level (L4) load balancer, in the manner of Maglev, IPVS or a cloud network load balancer:
 * it assigns each *connection* to a backend once, when the connection opens, and never sees the
 * requests that ride on it. Every request on a connection goes to the backend the connection was pinned
 * to (see {@link ConnectionClient}), so with few long-lived multiplexed connections (HTTP/2, gRPC) the
 * load follows the connections, not the requests: 4 equal connections over 3 backends give one backend
 * half the requests (gRPC, "gRPC Load Balancing", grpc.io/blog/grpc-load-balancing).
 *
 * The model, kept simple (no TCP): `connect(client, port)` picks a backend with the `policy` among the
 * backends that are up and that every `health` hook calls available, and returns the connection (or
 * undefined when none is). Health changes affect only new connections. A backend's crash breaks every
 * connection open to it: the balancer learns of it at once (as a reset would tell it) and tells each
 * connection's owner, which fails the requests on it and reconnects (a new assignment). A crashed
 * backend takes new connections again once it restarts. The balancer's node only names it (metrics,
 * random stream); the per-request pass-through delay (`latency`, forward path only: answers return
 * straight to the client, Maglev's direct server return) is drawn by {@link passThroughDelay}.
 *
 * Metrics under the balancer's address: counters `l4.connections.opened`, `l4.connections.closed`,
 * `l4.connections.broken`, `l4.connections.refused`; gauge `l4.connections.active`; per backend gauge
 * `l4.backend.<address>.connections` and counter `l4.backend.<address>.assigned`. With tracing on:
 * `@dsim.lb.connect` (`lb, conn, client, port, backend, policy, connections`), `@dsim.lb.connect-refused`
 * (`lb, client, port, backends`) and `@dsim.lb.disconnect` (`lb, conn, client, backend, reason,
 * lifetime`).
 *
 * @example
 * ```ts
 * for (const b of ['app-0', 'app-1', 'app-2'])
 *   new Service(net.addNode(b), { serviceTime: exponential({ mean: 5 }) });
 * const l4 = new L4Balancer(net.addNode('nlb'), {
 *   backends: ['app-0', 'app-1', 'app-2'],
 *   policy: { kind: 'maglev' },
 *   latency: '50us',
 * });
 * const client = new ConnectionClient(net.addNode('client'), { balancer: l4, connections: 2 });
 * client.call('GET /');
 * ```
 */
export class L4Balancer {
  /** The policy's kind. */
  readonly policy: L4PolicyKind;
  private readonly list: BackendState[] = [];
  private readonly addressList: string[];
  private readonly health: readonly BackendHealth[];
  private readonly latency: Distribution | undefined;
  private readonly rng: RandomStream;
  private readonly hash = new Uint32Array(2);
  private readonly available: number[] = [];
  private readonly maglev: MaglevHash | undefined;
  /** Maglev's current members, to rebuild it only when availability changed. */
  private readonly members = new Set<string>();
  private cursor = 0;
  private nextId = 1;
  private readonly counts: L4BalancerStats = { opened: 0, closed: 0, broken: 0, refused: 0, active: 0 };
  private readonly meters: {
    opened: Counter;
    closed: Counter;
    broken: Counter;
    refused: Counter;
    active: Gauge;
  };

  /**
   * @param node - the balancer's node (`net.addNode('nlb')`): its address names the metrics and the
   *   random stream
   * @param options - backends (already on the network), policy, latency and health hooks; checked here
   */
  constructor(
    readonly node: NetNode<any>,
    options: L4BalancerOptions,
  ) {
    const net = node.network;
    const config = resolveL4Balancer(options, net.addresses);
    this.policy = config.policy.kind;
    this.health = config.health;
    this.latency = config.latency;
    const sim = net.sim;
    this.rng = sim.rng(`${node.address}/l4`);
    const m = sim.metrics;
    const id = node.address;
    this.meters = {
      opened: m.counter(id, 'l4.connections.opened'),
      closed: m.counter(id, 'l4.connections.closed'),
      broken: m.counter(id, 'l4.connections.broken'),
      refused: m.counter(id, 'l4.connections.refused'),
      active: m.gauge(id, 'l4.connections.active'),
    };
    this.addressList = [...config.backends];
    config.backends.forEach((address, i) => {
      const b = new BackendState(address, i, id, m);
      const backendNode = net.node(address);
      b.up = backendNode.state !== 'down';
      backendNode.onCrash(() => this.backendCrashed(b));
      backendNode.onRestart(() => {
        b.up = true;
      });
      this.list.push(b);
    });
    this.maglev =
      this.policy === 'maglev'
        ? new MaglevHash({ tableSize: config.policy.tableSize }, { component: 'L4Balancer', path: 'policy' })
        : undefined;
    for (const h of this.health) h.start?.(this);
  }

  /** The backends' addresses, in the balancer's order. */
  get addresses(): readonly string[] {
    return this.addressList;
  }

  /** The backends: address, open connections, connections ever assigned, up. */
  get backends(): readonly L4Backend[] {
    return this.list;
  }

  /** A copy of the balancer's counts. */
  get stats(): L4BalancerStats {
    return { ...this.counts };
  }

  /**
   * Connections open to `address` now.
   *
   * @example
   * ```ts
   * l4.connectionsOf('app-0'); // 2
   * ```
   */
  connectionsOf(address: string): number {
    const b = this.list[this.addressList.indexOf(address)];
    if (b === undefined)
      throw invalidArgument(
        'address',
        address,
        `one of ${this.addressList.join(', ')}`,
        'L4Balancer.connectionsOf',
      );
    return b.open.size;
  }

  /**
   * Opens a connection from `client` (source `port`) and pins it to a backend chosen by the policy
   * among the backends that are up and available. Returns the connection, or undefined when no backend
   * can take it. `onBreak` is called if the backend crashes while the connection is open (not when the
   * client closes it).
   *
   * @example
   * ```ts
   * const conn = l4.connect('client-0', 49152, (c) => sim.log(`${c.id} broke`));
   * ```
   */
  connect(client: string, port: number, onBreak?: BreakHandler): L4Connection | undefined {
    const sim = this.node.network.sim;
    const index = this.pick(client, port);
    if (index < 0) {
      this.counts.refused++;
      this.meters.refused.inc();
      if (sim.tracing)
        sim.emit('@dsim.lb.connect-refused', {
          lb: this.node.address,
          client,
          port,
          backends: this.list.length,
        });
      return undefined;
    }
    const b = this.list[index]!;
    const conn = new ConnectionState(this.nextId++, client, port, b.address, sim.now, b, onBreak);
    b.open.add(conn);
    b.assigned++;
    b.gauge.set(b.open.size);
    b.counter.inc();
    this.counts.opened++;
    this.counts.active++;
    this.meters.opened.inc();
    this.meters.active.set(this.counts.active);
    if (sim.tracing)
      sim.emit('@dsim.lb.connect', {
        lb: this.node.address,
        conn: conn.id,
        client,
        port,
        backend: b.address,
        policy: this.policy,
        connections: b.open.size,
      });
    return conn;
  }

  /**
   * Closes a connection its client no longer wants; closing one that is already closed or broken does
   * nothing.
   *
   * @example
   * ```ts
   * l4.close(conn);
   * ```
   */
  close(connection: L4Connection): void {
    if (!(connection instanceof ConnectionState))
      throw new DsimError(
        'INVALID_ARGUMENT',
        `L4Balancer '${this.node.address}': close takes a connection it opened`,
      );
    if (!connection.open) return;
    this.end(connection, 'closed');
    this.counts.closed++;
    this.meters.closed.inc();
  }

  /**
   * The pass-through delay for one request (ms): a draw from `latency`, or 0 without one. Draws come
   * from the balancer's own stream, `sim.rng('<address>/l4')`.
   *
   * @example
   * ```ts
   * node.setTimer(l4.passThroughDelay(), () => endpoint.call(conn.backend, payload));
   * ```
   */
  passThroughDelay(): number {
    if (this.latency === undefined) return 0;
    const d = this.latency.sample(this.rng);
    if (!(d >= 0))
      throw new DsimError(
        'INVALID_DURATION',
        `L4Balancer '${this.node.address}': latency sampled ${d} ms from ${this.latency.describe()}; it must be >= 0`,
        { details: { component: 'L4Balancer', field: 'latency', value: d } },
      );
    return d;
  }

  // ---- internals --------------------------------------------------------------------------------

  /** The backend for a new connection, or -1. */
  private pick(client: string, port: number): number {
    const avail = this.available;
    avail.length = 0;
    for (const b of this.list) {
      if (!b.up) continue;
      let ok = true;
      for (const h of this.health)
        if (!h.isAvailable(b.address)) {
          ok = false;
          break;
        }
      if (ok) avail.push(b.index);
    }
    if (avail.length === 0) return -1;
    switch (this.policy) {
      case 'round-robin': {
        // The next available backend at or after the cursor, in index order.
        const n = this.list.length;
        let i = this.cursor >= n ? 0 : this.cursor;
        for (let k = 0; k < n; k++) {
          if (avail.includes(i)) {
            this.cursor = i + 1;
            return i;
          }
          if (++i === n) i = 0;
        }
        return -1;
      }
      case 'five-tuple-hash': {
        xxHash64Into(`${client}:${port}`, this.hash, 0);
        return avail[mod64(this.hash[0]!, this.hash[1]!, avail.length)]!;
      }
      case 'maglev': {
        const table = this.maglev!;
        const now = new Set(avail.map((i) => this.list[i]!.address));
        for (const m of [...this.members])
          if (!now.has(m)) {
            table.remove(m);
            this.members.delete(m);
          }
        for (const a of now)
          if (!this.members.has(a)) {
            table.add(a);
            this.members.add(a);
          }
        const owner = table.lookup(`${client}:${port}`)!;
        return this.addressList.indexOf(owner);
      }
      case 'least-connections': {
        let best = avail[0]!;
        for (const i of avail) if (this.list[i]!.open.size < this.list[best]!.open.size) best = i;
        return best;
      }
    }
  }

  private end(conn: ConnectionState, reason: L4CloseReason): void {
    conn.open = false;
    const b = conn.state;
    b.open.delete(conn);
    b.gauge.set(b.open.size);
    this.counts.active--;
    this.meters.active.set(this.counts.active);
    const sim = this.node.network.sim;
    if (sim.tracing)
      sim.emit('@dsim.lb.disconnect', {
        lb: this.node.address,
        conn: conn.id,
        client: conn.client,
        backend: conn.backend,
        reason,
        lifetime: sim.now - conn.openedAt,
      });
  }

  /** A backend crashed: break its connections, oldest first, and tell their owners. */
  private backendCrashed(b: BackendState): void {
    b.up = false;
    const broken = [...b.open];
    for (const conn of broken) {
      this.end(conn, 'backend-crashed');
      this.counts.broken++;
      this.meters.broken.inc();
    }
    for (const conn of broken) conn.onBreak?.(conn, 'backend-crashed');
  }
}
