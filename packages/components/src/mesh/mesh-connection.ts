import {
  type Counter,
  type NetNode,
  type NodeTimer,
  type Reply,
  RpcEndpoint,
  type RpcErrorKind,
  type RpcRequest,
  type RpcResponse,
} from '@dsim/core';
import type { ResolvedConnections } from './mesh-config.js';
import { HandshakeAck, HandshakeHello, MeshEnvelope } from './mesh-envelope.js';
import type { ProxyCpu } from './proxy-cpu.js';

/**
 * What a {@link MeshConnection} has done. At every moment
 * `requests = ok + failed + lost + inFlight` (`inFlight` counts the requests waiting for the
 * connection to open too); and `handshakes = opened + handshakeFailures` plus one while connecting.
 *
 * @example
 * ```ts
 * const { handshakes, opened } = connection.stats;
 * ```
 */
export interface MeshConnectionStats {
  /** Requests the cluster sent to this endpoint. */
  requests: number;
  /** Answered ok by the remote proxy. */
  ok: number;
  /** Answered with an error: the remote's, a connect failure, or a reset when the remote crashed. */
  failed: number;
  /** Lost in a crash of the owning proxy. */
  lost: number;
  /** Not answered yet (waiting for the connection, or sent). */
  inFlight: number;
  /** Connection setups started. */
  handshakes: number;
  /** Setups that completed: the connection opened. */
  opened: number;
  /** Setups that failed: the connect timeout, or the remote crashed during the setup. */
  handshakeFailures: number;
  /** Open connections reset because the remote proxy crashed. */
  broken: number;
  /** Connections closed after `idleTimeout` without a request. */
  idleClosed: number;
}

/**
 * What a connection needs from the proxy that owns it (a {@link MeshProxy} is one).
 *
 * @example
 * ```ts
 * const owner: ConnectionOwner = proxy; // its cpu and connection settings
 * ```
 */
export interface ConnectionOwner {
  readonly cpu: ProxyCpu;
  readonly connections: ResolvedConnections;
}

interface Waiting {
  readonly request: RpcRequest;
  readonly reply: Reply<unknown>;
  readonly at: number;
}

interface Call {
  readonly reply: Reply<unknown>;
  settled: boolean;
}

/**
 * One proxy's connection to one upstream endpoint (Envoy's per-host connection pool, reduced to one
 * multiplexed connection: HTTP/2 between proxies, or keep-alive): its own node, which the cluster's
 * load balancer sees as the endpoint. The first request opens it: a TCP round trip, then (with mTLS)
 * `tlsRoundTrips` TLS round trips to the remote proxy's node over the real network, the remote's
 * handshake CPU before its first TLS answer and the owner's after the last; requests that arrive
 * meanwhile wait for it. Every later request rides the open connection and pays nothing. The
 * connection closes after `idleTimeout` without a request (checked at the next request), and is reset
 * when the remote proxy's node crashes (its requests in flight fail `unavailable`: the TCP reset a
 * live host sends for a dead process). A setup that gets no answer within `connectTimeout` fails its
 * waiting requests `unavailable` (Envoy's connect failure), which Istio's default retry policy retries.
 *
 * Counters under its address: `mesh.conn.handshakes`, `mesh.conn.opened`, `mesh.conn.failures`.
 *
 * @example
 * ```ts
 * // Built by MeshProxy for each endpoint of a route; read its figures:
 * proxy.connection('a-0', 'b', 'b-0')?.stats.handshakes; // 1 after any number of requests
 * ```
 */
export class MeshConnection {
  /** The connection's RPC endpoint (it serves the cluster and calls the remote proxy). */
  readonly endpoint: RpcEndpoint;
  private state: 'closed' | 'connecting' | 'open' = 'closed';
  private attempt = 0;
  private step = 0;
  private connectTimer: NodeTimer | undefined;
  private waiting: Waiting[] = [];
  private readonly inflight = new Set<Call>();
  private lastActivity = 0;
  private readonly steps: number;
  private readonly counts: MeshConnectionStats = {
    requests: 0,
    ok: 0,
    failed: 0,
    lost: 0,
    inFlight: 0,
    handshakes: 0,
    opened: 0,
    handshakeFailures: 0,
    broken: 0,
    idleClosed: 0,
  };
  private readonly meters: { handshakes: Counter; opened: Counter; failures: Counter };

  /**
   * @param node - the connection's own node (created by the owner, linked to its cluster with no delay)
   * @param owner - the proxy that owns it: its CPU and connection settings
   * @param remote - the remote proxy's node
   * @param target - what the remote proxy delivers to (an application, or a service for a waypoint)
   */
  constructor(
    readonly node: NetNode<any>,
    private readonly owner: ConnectionOwner,
    readonly remote: NetNode<any>,
    readonly target: string,
  ) {
    const c = owner.connections;
    this.steps = 1 + (c.mtls ? c.tlsRoundTrips : 0);
    const m = node.network.sim.metrics;
    this.meters = {
      handshakes: m.counter(node.address, 'mesh.conn.handshakes'),
      opened: m.counter(node.address, 'mesh.conn.opened'),
      failures: m.counter(node.address, 'mesh.conn.failures'),
    };
    this.endpoint = new RpcEndpoint(node)
      .serve((request, reply) => this.arrive(request, reply))
      .onMessage((message) => {
        if (message.payload instanceof HandshakeAck) this.acked(message.payload);
      });
    node.onCrash(() => this.crashed());
    remote.onCrash(() => this.remoteCrashed());
  }

  /** A copy of the counts. */
  get stats(): MeshConnectionStats {
    return { ...this.counts };
  }

  /** Whether the connection is open now. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  private arrive(request: RpcRequest, reply: Reply<unknown>): void {
    this.counts.requests++;
    this.counts.inFlight++;
    const now = this.node.network.sim.now;
    if (
      this.state === 'open' &&
      this.inflight.size === 0 &&
      now - this.lastActivity >= this.owner.connections.idleTimeout
    ) {
      this.state = 'closed';
      this.counts.idleClosed++;
    }
    if (this.state === 'open') {
      this.send(request, reply, 0);
      return;
    }
    this.waiting.push({ request, reply, at: now });
    if (this.state === 'closed') this.connect();
  }

  private connect(): void {
    const sim = this.node.network.sim;
    this.state = 'connecting';
    this.step = 0;
    const id = ++this.attempt;
    this.counts.handshakes++;
    this.meters.handshakes.inc();
    this.connectTimer = this.node.setTimer(this.owner.connections.connectTimeout, () => {
      this.connectTimer = undefined;
      if (this.attempt === id && this.state === 'connecting') this.failSetup('connect timeout');
    });
    if (sim.tracing)
      sim.emit('@dsim.mesh.connect', { conn: this.node.address, remote: this.remote.address, attempt: id });
    this.hello();
  }

  private hello(): void {
    const tls = this.owner.connections.mtls && this.step === 1;
    this.node.send(this.remote.address, new HandshakeHello(this.attempt, this.step, tls));
  }

  private acked(ack: HandshakeAck): void {
    if (this.state !== 'connecting' || ack.id !== this.attempt || ack.step !== this.step) return;
    this.step++;
    if (this.step < this.steps) {
      this.hello();
      return;
    }
    const c = this.owner.connections;
    const id = this.attempt;
    // The client verifies the server's certificate and sends its own Finished: its share of the CPU.
    const cpu = c.mtls ? c.handshakeCpu : 0;
    this.owner.cpu.run(cpu, () => {
      if (this.attempt === id && this.state === 'connecting') this.open();
    });
  }

  private open(): void {
    const sim = this.node.network.sim;
    this.connectTimer?.cancel();
    this.connectTimer = undefined;
    this.state = 'open';
    this.counts.opened++;
    this.meters.opened.inc();
    this.lastActivity = sim.now;
    if (sim.tracing) sim.emit('@dsim.mesh.open', { conn: this.node.address, remote: this.remote.address });
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) this.send(w.request, w.reply, sim.now - w.at);
  }

  private failSetup(why: string): void {
    const sim = this.node.network.sim;
    this.connectTimer?.cancel();
    this.connectTimer = undefined;
    this.state = 'closed';
    this.counts.handshakeFailures++;
    this.meters.failures.inc();
    if (sim.tracing)
      sim.emit('@dsim.mesh.connect-failure', { conn: this.node.address, remote: this.remote.address, why });
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting)
      this.fail(w.reply, 'unavailable', `${this.node.address}: upstream connect failure (${why})`);
  }

  private send(request: RpcRequest, reply: Reply<unknown>, waitMs: number): void {
    const sim = this.node.network.sim;
    // Its deadline passed while it waited for the connection: nobody waits for the answer any more.
    if (request.deadline <= sim.now) {
      this.fail(
        reply,
        'deadline-exceeded',
        `${this.node.address}: deadline passed before the connection opened`,
      );
      return;
    }
    const given = request.payload;
    const out =
      given instanceof MeshEnvelope
        ? new MeshEnvelope(this.target, given.payload, given.addedMs + waitMs)
        : new MeshEnvelope(this.target, given, waitMs);
    const call: Call = { reply, settled: false };
    this.inflight.add(call);
    this.lastActivity = sim.now;
    const incarnation = this.node.incarnation;
    this.endpoint.callThen(this.remote.address, out, { parent: request, size: request.size }, (res) =>
      this.answered(call, incarnation, res),
    );
  }

  private answered(call: Call, incarnation: number, res: RpcResponse<unknown>): void {
    if (call.settled) return;
    call.settled = true;
    this.inflight.delete(call);
    // Our own crash: the crash hook counted it lost.
    if (this.node.incarnation !== incarnation) return;
    this.lastActivity = this.node.network.sim.now;
    if (res.ok) {
      this.counts.inFlight--;
      this.counts.ok++;
      call.reply.ok(res.value);
      return;
    }
    const kind = res.error.kind === 'timeout' ? 'deadline-exceeded' : res.error.kind;
    this.fail(call.reply, kind, res.error.message);
  }

  private fail(reply: Reply<unknown>, kind: Exclude<RpcErrorKind, 'timeout'>, message: string): void {
    this.counts.inFlight--;
    this.counts.failed++;
    reply.error(kind, message);
  }

  /** The remote proxy crashed: a live host answers the connection's packets with a reset. */
  private remoteCrashed(): void {
    if (this.node.state === 'down') return;
    if (this.state === 'connecting') {
      this.failSetup('reset: the remote proxy crashed');
      return;
    }
    if (this.state !== 'open') return;
    this.state = 'closed';
    this.counts.broken++;
    const calls = [...this.inflight];
    this.inflight.clear();
    for (const call of calls) {
      call.settled = true;
      this.fail(
        call.reply,
        'unavailable',
        `${this.node.address}: connection reset (${this.remote.address} crashed)`,
      );
    }
  }

  /** The owning proxy crashed with this node: everything it held is lost. */
  private crashed(): void {
    this.counts.lost += this.counts.inFlight;
    this.counts.inFlight = 0;
    for (const call of this.inflight) call.settled = true;
    this.inflight.clear();
    this.waiting = [];
    this.state = 'closed';
    this.connectTimer = undefined;
  }
}
