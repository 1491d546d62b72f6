import {
  type Distribution,
  DsimError,
  type Histogram,
  invalidArgument,
  type NetNode,
  type Network,
  type RandomStream,
  type Reply,
  RpcEndpoint,
  type RpcErrorKind,
  type RpcRequest,
  type RpcResponse,
} from '@dsim/core';
import { OutlierDetection } from '../balancer/health/outlier-detection.js';
import { LoadBalancer } from '../balancer/load-balancer.js';
import { type ResolvedConnections, resolveCluster, resolveProxy } from './mesh-config.js';
import { MeshConnection, type MeshConnectionStats } from './mesh-connection.js';
import { HandshakeAck, HandshakeHello, MeshEnvelope } from './mesh-envelope.js';
import type { MeshClusterOptions, MeshProxyOptions } from './mesh-options.js';
import { ProxyCpu } from './proxy-cpu.js';
import type { MeshProxyKind, ProxyPresetName } from './proxy-presets.js';

/**
 * Requests through one side of a proxy. At every moment `requests = ok + failed + lost + inFlight`
 * (`lost`: held when the proxy's node crashed).
 *
 * @example
 * ```ts
 * const { requests, ok, inFlight } = proxy.stats.inbound;
 * ```
 */
export interface MeshSideStats {
  requests: number;
  ok: number;
  failed: number;
  lost: number;
  inFlight: number;
}

/**
 * What a {@link MeshProxy} has done.
 *
 * @example
 * ```ts
 * const { passes, inbound, outbound, connections } = proxy.stats;
 * ```
 */
export interface MeshProxyStats {
  /**
   * Requests arriving at the proxy's node from other proxies (or from outside the mesh), for an
   * application it fronts or a service it is the waypoint of. `appDown`: answered `unavailable` at
   * once because the application's node was down (Envoy's 503 UF); `noRoute`: for nothing it serves.
   */
  inbound: MeshSideStats & { appDown: number; noRoute: number };
  /**
   * Requests from its applications to their routes. `refused`: answered `unavailable` at once because
   * the proxy was down (a connection to a dead local port is refused).
   */
  outbound: MeshSideStats & { refused: number };
  /** Passes through the proxy (CPU, then the pass latency): one per request on each side. */
  passes: number;
  /** TLS handshakes it answered as the server side. */
  handshakesServed: number;
  /** Its connections to upstream endpoints, summed. */
  connections: MeshConnectionStats;
}

/**
 * An upstream endpoint of a route: the proxy that receives the requests, and what it delivers them to
 * (an application it fronts, or a service it is the waypoint of).
 *
 * @example
 * ```ts
 * const endpoint: MeshEndpoint = { proxy: sidecarOfB0, target: 'b-0' };
 * ```
 */
export interface MeshEndpoint {
  readonly proxy: MeshProxy;
  readonly target: string;
}

interface Call {
  readonly reply: Reply<unknown>;
  settled: boolean;
}

interface AppTarget {
  readonly node: NetNode<any>;
  readonly pending: Set<Call>;
}

/** Envoy's cluster for one route: a LoadBalancer over one connection node per endpoint. */
interface Cluster {
  readonly base: string;
  readonly lb: LoadBalancer;
  readonly connections: Map<string, MeshConnection>;
}

interface Listener {
  readonly node: NetNode<any>;
  readonly endpoint: RpcEndpoint;
  readonly cluster: Cluster;
  readonly pending: Set<Call>;
}

const LOOPBACK = Object.freeze({ latency: 0, loss: 0, duplicate: 0, bandwidth: Infinity });

function emptySide(): MeshSideStats {
  return { requests: 0, ok: 0, failed: 0, lost: 0, inFlight: 0 };
}

/**
 * One mesh proxy process (an Envoy sidecar, a ztunnel, a waypoint): a CPU with `workers` threads, a
 * per-pass latency, a memory figure, and the sockets it serves.
 *
 * - **A pass.** Every request costs the proxy one pass on each side it crosses: `cpuPerRequest` of
 *   CPU on its workers (queued first come, first served: the proxy saturates at `workers /
 *   cpuPerRequest` requests per ms), then a wait drawn from `latency`. A hop between two applications
 *   crosses two passes (the caller's outbound, the callee's inbound), as in Istio's measurements.
 * - **Inbound** (its node, the address other proxies send to): a request carries its target in a
 *   {@link MeshEnvelope}; after the pass it goes to the application over loopback, or, for a waypoint,
 *   to the service's cluster. A request from outside the mesh (no envelope) goes to the proxy's only
 *   application. A dead application is answered `unavailable` at once (Envoy's 503 UF), and calls to
 *   an application that crashes are reset (`unavailable`).
 * - **Outbound** ({@link MeshProxy.route}): the address an application calls for a service, a listener
 *   node. After the pass the request goes to the route's cluster: a {@link LoadBalancer} (Istio's
 *   retries, timeout, load balancer, outlier detection; panic mode off, as Istio's `minHealthPercent`
 *   default of 0% sets it) whose backends are one {@link MeshConnection} node per upstream endpoint.
 *   A connection pays TCP's and TLS's round trips and the handshake CPU once, and is reused.
 * - **Crash.** The proxy's node is the process: when it crashes, its listeners reset the requests they
 *   hold (`unavailable` to the application), its cluster and connection nodes crash with it, and what
 *   its inbound side held is lost; they restart with it.
 *
 * Every node the proxy makes is linked to its neighbours with no delay and no loss (loopback); the
 * network's own links carry the traffic between proxies.
 *
 * Metrics under its address: histograms `mesh.hop` (the time the mesh added to each request delivered
 * to an application here: the caller's outbound pass, connection setup, waypoint, and this inbound
 * pass) and `mesh.pass` (one pass, queueing included); the {@link ProxyCpu}'s `proxy.cpu.*`. With
 * tracing: `@dsim.mesh.app-down`, and the connections' `@dsim.mesh.connect`, `@dsim.mesh.open`,
 * `@dsim.mesh.connect-failure`.
 *
 * @example
 * ```ts
 * const a = new MeshProxy(net, { address: 'a-0.sidecar', preset: 'istio-1.12.3' });
 * const b = new MeshProxy(net, { address: 'b-0.sidecar', preset: 'istio-1.12.3' });
 * a.attach('a-0');
 * b.attach('b-0');
 * const toB = a.route('a-0', 'b', [{ proxy: b, target: 'b-0' }]); // 'a-0>b'
 * new Service(net.node('a-0'), { serviceTime: 1, downstream: { calls: [toB] } });
 * ```
 */
export class MeshProxy {
  /** The proxy's node: its inbound listener, and the end of the connections other proxies open. */
  readonly node: NetNode<any>;
  /** The inbound listener's endpoint. */
  readonly endpoint: RpcEndpoint;
  readonly kind: MeshProxyKind;
  /** `L7` for sidecars and waypoints, `L4` for ztunnels. */
  readonly layer: 'L4' | 'L7';
  /** The preset the figures came from, if any. */
  readonly preset: ProxyPresetName | undefined;
  /** CPU ms one request costs a pass. */
  readonly cpuPerRequest: number;
  /** The pass latency besides the CPU (undefined: none). */
  readonly latency: Distribution | undefined;
  /** Resident memory, MB (reported). */
  readonly memoryMb: number;
  /** Its connection settings. */
  readonly connections: ResolvedConnections;
  /** Its CPU. */
  readonly cpu: ProxyCpu;
  private readonly rng: RandomStream;
  private readonly apps = new Map<string, AppTarget>();
  private readonly gateways = new Map<string, Cluster>();
  private readonly routes = new Map<string, Listener>();
  private readonly clusters: Cluster[] = [];
  private readonly inboundPending = new Set<Call>();
  private soleApp: string | undefined;
  private readonly counts = {
    inbound: { ...emptySide(), appDown: 0, noRoute: 0 },
    outbound: { ...emptySide(), refused: 0 },
    passes: 0,
    handshakesServed: 0,
  };
  private readonly meters: { hop: Histogram; pass: Histogram };

  /**
   * @param network - the network its nodes join
   * @param options - its address, preset and figures; checked here, once
   */
  constructor(
    readonly network: Network,
    options: MeshProxyOptions,
  ) {
    const config = resolveProxy(options);
    this.kind = config.kind;
    this.layer = config.kind === 'ztunnel' ? 'L4' : 'L7';
    this.preset = config.preset;
    this.cpuPerRequest = config.cpuPerRequest;
    this.latency = config.latency;
    this.memoryMb = config.memoryMb;
    this.connections = config.connections;
    this.node = network.addNode(config.address);
    const sim = network.sim;
    this.rng = sim.rng(`${config.address}/mesh-latency`);
    this.meters = {
      hop: sim.metrics.histogram(config.address, 'mesh.hop'),
      pass: sim.metrics.histogram(config.address, 'mesh.pass'),
    };
    this.endpoint = new RpcEndpoint(this.node)
      .serve((request, reply) => this.inbound(request, reply))
      .onMessage((message) => {
        if (message.payload instanceof HandshakeHello) this.handshake(message.from, message.payload);
      });
    this.cpu = new ProxyCpu(this.node, config.workers);
    this.node.onCrash(() => this.crashed());
    this.node.onRestart(() => this.restarted());
  }

  /** Its worker threads. */
  get workers(): number {
    return this.cpu.workers;
  }

  /** Whether the proxy's process is down. */
  get down(): boolean {
    return this.node.state === 'down';
  }

  /** The time the mesh added per request delivered here (see the class). */
  get hopLatency(): Histogram {
    return this.meters.hop;
  }

  /** One pass's time through this proxy, queueing for the CPU included. */
  get passLatency(): Histogram {
    return this.meters.pass;
  }

  /** Every node the proxy made, its own first. */
  get addresses(): string[] {
    const out = [this.node.address];
    for (const l of this.routes.values()) out.push(l.node.address);
    for (const c of this.clusters) {
      out.push(c.lb.node.address);
      for (const conn of c.connections.values()) out.push(conn.node.address);
    }
    return out;
  }

  /** A copy of the counts, the connections' summed. */
  get stats(): MeshProxyStats {
    const connections: MeshConnectionStats = {
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
    for (const c of this.clusters)
      for (const conn of c.connections.values()) {
        const s = conn.stats;
        for (const k of Object.keys(connections) as (keyof MeshConnectionStats)[]) connections[k] += s[k];
      }
    return {
      inbound: { ...this.counts.inbound },
      outbound: { ...this.counts.outbound },
      passes: this.counts.passes,
      handshakesServed: this.counts.handshakesServed,
      connections,
    };
  }

  /**
   * The connection from `app`'s route to `service` (or, with `app` undefined, from the proxy's waypoint
   * cluster for `service`) to the endpoint `target`, once it exists.
   *
   * @example
   * ```ts
   * proxy.connection('a-0', 'b', 'b-0')?.stats.handshakes;
   * ```
   */
  connection(app: string | undefined, service: string, target: string): MeshConnection | undefined {
    const cluster =
      app === undefined ? this.gateways.get(service) : this.routes.get(routeKey(app, service))?.cluster;
    return cluster?.connections.get(target);
  }

  /** The LoadBalancer of `app`'s route to `service` (or of the waypoint cluster for `service`). */
  cluster(app: string | undefined, service: string): LoadBalancer | undefined {
    return (app === undefined ? this.gateways.get(service) : this.routes.get(routeKey(app, service))?.cluster)
      ?.lb;
  }

  /**
   * Makes the proxy front the application on node `app` (a sidecar fronts one; a ztunnel every
   * instance on its host): inbound requests for it are delivered there, over a loopback link.
   *
   * @param app - the application's node address (the node must exist)
   * @example
   * ```ts
   * proxy.attach('a-0');
   * ```
   */
  attach(app: string): void {
    const node = this.network.node(app);
    if (this.apps.has(app))
      throw invalidArgument(
        'attach(app)',
        app,
        'an application not already attached',
        `MeshProxy ${this.node.address}`,
      );
    const target: AppTarget = { node, pending: new Set() };
    this.apps.set(app, target);
    this.soleApp = this.apps.size === 1 ? app : undefined;
    this.network.setLink(this.node.address, app, LOOPBACK, { bidirectional: true });
    // The application's process died: its local connections are reset (Envoy answers 503).
    node.onCrash(() => {
      const calls = [...target.pending];
      target.pending.clear();
      for (const call of calls) {
        call.settled = true;
        this.inboundPending.delete(call);
        if (this.down) continue;
        this.answerError(
          this.counts.inbound,
          call.reply,
          'unavailable',
          `${this.node.address}: upstream reset (${app} crashed)`,
        );
      }
    });
  }

  /**
   * A route: the address `app` calls to reach `service`, through this proxy. Creates the listener
   * node (`<app>>\<service>`), its cluster (a {@link LoadBalancer} at `<app>>\<service>/cluster` with the
   * options, Istio's defaults for the rest) and one connection per endpoint (`<app>>\<service>@<target>`).
   *
   * @param app - an application attached to this proxy
   * @param endpoints - the service's endpoints now (more with {@link MeshProxy.addEndpoint})
   * @param options - the route's cluster options; checked here @default Istio's defaults
   * @example
   * ```ts
   * const address = proxy.route('a-0', 'b', [{ proxy: b0, target: 'b-0' }], { retry: { attempts: 3 } });
   * ```
   */
  route(
    app: string,
    service: string,
    endpoints: readonly MeshEndpoint[],
    options?: MeshClusterOptions,
  ): string {
    const where = `MeshProxy ${this.node.address}`;
    if (!this.apps.has(app))
      throw invalidArgument(
        'route(app)',
        app,
        `an application attached to this proxy (${[...this.apps.keys()].join(', ')})`,
        where,
      );
    if (typeof service !== 'string' || service === '')
      throw invalidArgument('route(service)', service, 'a non-empty service name', where);
    const key = routeKey(app, service);
    if (this.routes.has(key))
      throw invalidArgument('route(service)', service, `a service ${app} has no route to yet`, where);
    const base = `${app}>${service}`;
    const cluster = this.makeCluster(base, options, `route(${app}, ${service})`);
    const node = this.network.addNode(base);
    const listener: Listener = {
      node,
      endpoint: new RpcEndpoint(node),
      cluster,
      pending: new Set(),
    };
    listener.endpoint.serve((request, reply) => this.outbound(listener, request, reply));
    node.onCrash(() => {
      this.counts.outbound.lost += listener.pending.size;
      this.counts.outbound.inFlight -= listener.pending.size;
      for (const call of listener.pending) call.settled = true;
      listener.pending.clear();
    });
    this.routes.set(key, listener);
    this.network.setLink(app, base, LOOPBACK, { bidirectional: true });
    this.network.setLink(base, cluster.base, LOOPBACK, { bidirectional: true });
    for (const e of endpoints) this.addTo(cluster, e);
    return base;
  }

  /**
   * Makes this proxy the waypoint of `service`: inbound requests for the service go, after the pass,
   * to a cluster over its endpoints (Istio's L7 defaults, or `options`).
   *
   * @example
   * ```ts
   * waypoint.gateway('b', [{ proxy: ztunnel2, target: 'b-0' }]);
   * ```
   */
  gateway(service: string, endpoints: readonly MeshEndpoint[], options?: MeshClusterOptions): void {
    const where = `MeshProxy ${this.node.address}`;
    if (this.layer !== 'L7')
      throw invalidArgument(
        'gateway(service)',
        service,
        'a service on an L7 proxy (a waypoint): ztunnels only tunnel',
        where,
      );
    if (typeof service !== 'string' || service === '' || this.gateways.has(service) || this.apps.has(service))
      throw invalidArgument('gateway(service)', service, 'a new, non-empty service name', where);
    const cluster = this.makeCluster(`${this.node.address}>${service}`, options, `gateway(${service})`);
    this.gateways.set(service, cluster);
    this.network.setLink(this.node.address, cluster.base, LOOPBACK, { bidirectional: true });
    for (const e of endpoints) this.addTo(cluster, e);
  }

  /**
   * Adds an endpoint to `app`'s route to `service` (or, with `app` undefined, to the waypoint cluster
   * of `service`): endpoint discovery, as istiod pushes a new instance.
   *
   * @example
   * ```ts
   * proxy.addEndpoint('b', { proxy: b1, target: 'b-1' }, 'a-0');
   * ```
   */
  addEndpoint(service: string, endpoint: MeshEndpoint, app?: string): void {
    const cluster =
      app === undefined ? this.gateways.get(service) : this.routes.get(routeKey(app, service))?.cluster;
    if (cluster === undefined)
      throw invalidArgument(
        'addEndpoint(service)',
        service,
        app === undefined ? 'a service this proxy is the waypoint of' : `a service ${app} has a route to`,
        `MeshProxy ${this.node.address}`,
      );
    this.addTo(cluster, endpoint);
  }

  private makeCluster(base: string, options: MeshClusterOptions | undefined, field: string): Cluster {
    const resolved = resolveCluster(`MeshProxy ${this.node.address}`, field, options, this.layer);
    const node = this.network.addNode(`${base}/cluster`);
    const health =
      resolved.outlierDetection === undefined ? [] : [new OutlierDetection(node, resolved.outlierDetection)];
    const lb = new LoadBalancer(node, {
      backends: [],
      ...(resolved.policy === undefined ? {} : { policy: resolved.policy }),
      timeout: resolved.timeout ?? Infinity,
      ...(resolved.retry === undefined ? {} : { retry: resolved.retry }),
      health,
      panicThreshold: 0,
    });
    const cluster: Cluster = { base: node.address, lb, connections: new Map() };
    this.clusters.push(cluster);
    return cluster;
  }

  private addTo(cluster: Cluster, e: MeshEndpoint): void {
    if (!(e?.proxy instanceof MeshProxy) || typeof e.target !== 'string' || e.target === '')
      throw invalidArgument(
        'endpoint',
        e,
        'a { proxy: MeshProxy, target: string }',
        `MeshProxy ${this.node.address}`,
      );
    if (cluster.connections.has(e.target))
      throw invalidArgument(
        'endpoint.target',
        e.target,
        'an endpoint not already in the route',
        `MeshProxy ${this.node.address}`,
      );
    const address = `${cluster.base.slice(0, -'/cluster'.length)}@${e.target}`;
    const node = this.network.addNode(address);
    this.network.setLink(cluster.base, address, LOOPBACK, { bidirectional: true });
    // Two instances on one host reach each other through their own ztunnel: no network between them.
    if (e.proxy === this) this.network.setLink(address, this.node.address, LOOPBACK, { bidirectional: true });
    const conn = new MeshConnection(node, this, e.proxy.node, e.target);
    cluster.connections.set(e.target, conn);
    if (this.down) this.network.crash(address);
    cluster.lb.addBackend(address);
  }

  /** One pass: CPU on a worker, then the pass latency; `done(elapsed)` unless the proxy crashes first. */
  private pass(done: (elapsedMs: number) => void): void {
    const sim = this.network.sim;
    const start = sim.now;
    this.counts.passes++;
    this.cpu.run(this.cpuPerRequest, () => {
      const latency = this.latency;
      if (latency === undefined) {
        this.passed(start, done);
        return;
      }
      const d = latency.sample(this.rng);
      if (!(d >= 0))
        throw new DsimError(
          'INVALID_DURATION',
          `MeshProxy '${this.node.address}': latency sampled ${d} ms from ${latency.describe()}; it must be >= 0`,
          { details: { component: 'MeshProxy', field: 'latency', value: d } },
        );
      if (d === 0) this.passed(start, done);
      else this.node.setTimer(d, () => this.passed(start, done));
    });
  }

  private passed(start: number, done: (elapsedMs: number) => void): void {
    const elapsed = this.network.sim.now - start;
    this.meters.pass.record(elapsed);
    done(elapsed);
  }

  private inbound(request: RpcRequest, reply: Reply<unknown>): void {
    const side = this.counts.inbound;
    side.requests++;
    side.inFlight++;
    const given = request.payload;
    const envelope = given instanceof MeshEnvelope ? given : undefined;
    const target = envelope === undefined ? this.soleApp : envelope.target;
    const app = target === undefined ? undefined : this.apps.get(target);
    const gateway = target === undefined || app !== undefined ? undefined : this.gateways.get(target);
    if (app === undefined && gateway === undefined) {
      side.noRoute++;
      this.answerError(
        side,
        reply,
        'unavailable',
        `${this.node.address}: no route to ${target ?? '(no target)'}`,
      );
      return;
    }
    const payload = envelope === undefined ? given : envelope.payload;
    const added = envelope === undefined ? 0 : envelope.addedMs;
    const call: Call = { reply, settled: false };
    this.inboundPending.add(call);
    this.pass((elapsed) => {
      if (call.settled) return;
      if (app !== undefined) this.deliver(app, target!, call, request, payload, added + elapsed);
      else this.forward(gateway!, call, request, new MeshEnvelope('', payload, added + elapsed));
    });
  }

  /** After the inbound pass: to the application, over loopback. */
  private deliver(
    app: AppTarget,
    address: string,
    call: Call,
    request: RpcRequest,
    payload: unknown,
    addedMs: number,
  ): void {
    const side = this.counts.inbound;
    this.meters.hop.record(addedMs);
    if (app.node.state === 'down') {
      side.appDown++;
      this.inboundPending.delete(call);
      call.settled = true;
      const sim = this.network.sim;
      if (sim.tracing)
        sim.emit('@dsim.mesh.app-down', { proxy: this.node.address, app: address, id: request.id });
      this.answerError(
        side,
        call.reply,
        'unavailable',
        `${this.node.address}: upstream connect error (${address} is down)`,
      );
      return;
    }
    if (this.expired(side, call, request)) {
      this.inboundPending.delete(call);
      return;
    }
    app.pending.add(call);
    const incarnation = this.node.incarnation;
    this.endpoint.callThen(address, payload, { parent: request, size: request.size }, (res) => {
      if (call.settled) return;
      call.settled = true;
      app.pending.delete(call);
      this.inboundPending.delete(call);
      // Our own crash: the crash hook counts what the inbound side held as lost.
      if (this.node.incarnation !== incarnation) return;
      this.relay(side, call.reply, res);
    });
  }

  /** After a waypoint's pass: to the service's cluster. */
  private forward(cluster: Cluster, call: Call, request: RpcRequest, envelope: MeshEnvelope): void {
    if (this.expired(this.counts.inbound, call, request)) {
      this.inboundPending.delete(call);
      return;
    }
    const incarnation = this.node.incarnation;
    this.endpoint.callThen(cluster.base, envelope, { parent: request, size: request.size }, (res) => {
      if (call.settled) return;
      call.settled = true;
      this.inboundPending.delete(call);
      // Our own crash: the crash hook counts what the inbound side held as lost.
      if (this.node.incarnation !== incarnation) return;
      this.relay(this.counts.inbound, call.reply, res);
    });
  }

  private outbound(listener: Listener, request: RpcRequest, reply: Reply<unknown>): void {
    const side = this.counts.outbound;
    side.requests++;
    side.inFlight++;
    if (this.down) {
      side.refused++;
      this.answerError(
        side,
        reply,
        'unavailable',
        `${listener.node.address}: connection refused (${this.node.address} is down)`,
      );
      return;
    }
    const call: Call = { reply, settled: false };
    listener.pending.add(call);
    this.pass((elapsed) => {
      if (call.settled) return;
      if (this.expired(side, call, request)) {
        listener.pending.delete(call);
        return;
      }
      const envelope = new MeshEnvelope('', request.payload, elapsed);
      const incarnation = listener.node.incarnation;
      listener.endpoint.callThen(
        listener.cluster.base,
        envelope,
        { parent: request, size: request.size },
        (res) => {
          if (call.settled) return;
          call.settled = true;
          listener.pending.delete(call);
          if (listener.node.incarnation !== incarnation) {
            // The listener's own node crashed: its answer could not go out.
            side.inFlight--;
            side.lost++;
            return;
          }
          this.relay(side, call.reply, res);
        },
      );
    });
  }

  /**
   * The request's propagated deadline has passed (it waited for the CPU or a connection): its caller
   * has given up, so it is answered `deadline-exceeded` instead of being sent on.
   */
  private expired(side: MeshSideStats, call: Call, request: RpcRequest): boolean {
    if (request.deadline > this.network.sim.now) return false;
    call.settled = true;
    this.answerError(
      side,
      call.reply,
      'deadline-exceeded',
      `${this.node.address}: deadline passed before forwarding`,
    );
    return true;
  }

  private relay(side: MeshSideStats, reply: Reply<unknown>, res: RpcResponse<unknown>): void {
    if (res.ok) {
      side.inFlight--;
      side.ok++;
      reply.ok(res.value);
      return;
    }
    // Our own call's timer is only ever the request's deadline: nobody waits any more.
    const kind = res.error.kind === 'timeout' ? 'deadline-exceeded' : res.error.kind;
    this.answerError(side, reply, kind, res.error.message);
  }

  private answerError(
    side: MeshSideStats,
    reply: Reply<unknown>,
    kind: Exclude<RpcErrorKind, 'timeout'>,
    message: string,
  ): void {
    side.inFlight--;
    side.failed++;
    reply.error(kind, message);
  }

  /** A connection's setup round trip reached this proxy: answer it (after the TLS CPU, on the TLS step). */
  private handshake(from: string, hello: HandshakeHello): void {
    const ack = new HandshakeAck(hello.id, hello.step);
    const cost = hello.tls ? this.connections.handshakeCpu : 0;
    if (hello.tls) this.counts.handshakesServed++;
    this.cpu.run(cost, () => this.node.send(from, ack));
  }

  /** The process died: listeners reset their requests, clusters and connections die, inbound is lost. */
  private crashed(): void {
    const out = this.counts.outbound;
    for (const listener of this.routes.values()) {
      const calls = [...listener.pending];
      listener.pending.clear();
      for (const call of calls) {
        call.settled = true;
        if (listener.node.state === 'down') {
          out.inFlight--;
          out.lost++;
          continue;
        }
        this.answerError(
          out,
          call.reply,
          'unavailable',
          `${listener.node.address}: connection reset (${this.node.address} crashed)`,
        );
      }
    }
    // Everything the inbound side held (in a pass, at the application, at a waypoint's cluster) is lost;
    // the calls the endpoint already failed returned without counting.
    const inb = this.counts.inbound;
    inb.lost += inb.inFlight;
    inb.inFlight = 0;
    for (const call of this.inboundPending) call.settled = true;
    this.inboundPending.clear();
    for (const app of this.apps.values()) app.pending.clear();
    for (const c of this.clusters) {
      if (c.lb.node.state !== 'down') this.network.crash(c.lb.node.address);
      for (const conn of c.connections.values())
        if (conn.node.state !== 'down') this.network.crash(conn.node.address);
    }
  }

  private restarted(): void {
    for (const c of this.clusters) {
      if (c.lb.node.state === 'down') this.network.restart(c.lb.node.address);
      for (const conn of c.connections.values())
        if (conn.node.state === 'down') this.network.restart(conn.node.address);
    }
  }
}

function routeKey(app: string, service: string): string {
  return `${app}\u0000${service}`;
}
