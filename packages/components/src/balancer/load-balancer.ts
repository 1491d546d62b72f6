import {
  type Counter,
  type Distribution,
  DsimError,
  type Gauge,
  type Histogram,
  type NetNode,
  type NodeTimer,
  type RandomStream,
  type Reply,
  RpcEndpoint,
  type RpcErrorKind,
  type RpcRequest,
  type RpcResponse,
} from '@dsim/core';
import { BackendState } from './backend.js';
import type { BackendHealth } from './health-hook.js';
import type { ResolvedLbHedge } from './hedge-policy.js';
import { checkWeight, resolveBackend, resolveDrain, resolveLoadBalancer } from './load-balancer-config.js';
import type { BackendSpec, LoadBalancerOptions, RemoveBackendOptions } from './load-balancer-options.js';
import type { BalancerBackend, BalancerPolicy } from './policy.js';
import type { ResolvedLbRetry } from './retry-policy.js';
import { type ResolvedSlowStart, slowStartFactor } from './slow-start.js';

/**
 * What a {@link LoadBalancer} has done so far. At every moment
 * `requests = ok + failed + overloaded + noBackend + inFlight` (every request is answered exactly once,
 * unless the balancer's own node crashes with it). Once nothing is in flight (no crash of the
 * balancer), the attempts add up too: `attempts + noBackend + unsent = requests - overloaded + retries`
 * (every first attempt and every retry or hedge decided is forwarded, answered `unavailable`, or not
 * sent), and every attempt forwarded ended answered by its backend, cut by a drain, or `abandoned`.
 *
 * @example
 * ```ts
 * const { ok, failed, inFlight } = lb.stats;
 * ```
 */
export interface LoadBalancerStats {
  /** Requests that arrived. */
  requests: number;
  /** Answered with a backend's ok value. */
  ok: number;
  /** Forwarded and answered with an error (the backend's, or `gateway-timeout`). */
  failed: number;
  /** Refused `overloaded` because `concurrency` requests were in flight. */
  overloaded: number;
  /** Answered `unavailable`: no backend could take them. */
  noBackend: number;
  /** Accepted and not answered yet. */
  inFlight: number;
  /** Requests balanced while in panic mode. */
  panicked: number;
  /** Retries sent (attempts after the first; not requests, so not in the sum above). */
  retries: number;
  /** Retries not sent because the concurrent-retry limit or the retry budget was full. */
  retryOverflow: number;
  /** Attempts cut because their backend's drain deadline came (each then answered or retried). */
  cut: number;
  /** Attempts forwarded to a backend (first attempts, retries and hedges). */
  attempts: number;
  /** Hedges decided at a per-try timeout (also counted in `retries`). */
  hedges: number;
  /**
   * Attempts abandoned because another attempt of the same request answered first (hedging's losers):
   * the balancer ignores their answers; their backends still do the work.
   */
  abandoned: number;
  /**
   * Retries or hedges decided but not forwarded, and not answered `unavailable`: the request was
   * answered while they waited for their backoff, or no backend could take them while another attempt
   * of the request was still outstanding.
   */
  unsent: number;
}

interface Job {
  request: RpcRequest;
  reply: Reply<unknown>;
  arrivedAt: number;
}

/** One request from the balancer's point of view: its attempts, retries and deadline. */
interface Exchange {
  readonly request: RpcRequest;
  readonly reply: Reply<unknown>;
  readonly arrivedAt: number;
  /** The route deadline: first forward + `timeout` (Infinity without one); set at the first attempt. */
  routeDeadline: number;
  /** Retries sent so far. */
  retries: number;
  /** The backends tried so far (for `previousHosts`); only kept with retries. */
  tried: string[] | undefined;
  /** Retries or hedges of this request waiting for their backoff (each holds a retry slot). */
  pending: number;
  /** Its attempts forwarded and not over yet (more than one only with hedging). */
  readonly live: Forward[];
  /** Answered: later attempts' answers and pending retries are dropped. */
  done: boolean;
}

/** One forwarded attempt. */
interface Forward {
  readonly ex: Exchange;
  readonly backend: BackendState<Forward>;
  readonly forwardedAt: number;
  /** Cut by a drain deadline, or abandoned: its late answer is ignored. */
  cut: boolean;
  /** A retry or hedge: holds one of the retry slots until it is over. */
  readonly holdsRetry: boolean;
  /** Its per-try timeout fired and a hedge was decided: its error is not retried. */
  hedged: boolean;
  /** The per-try timer (hedging only). */
  perTry: NodeTimer | undefined;
  /** Its per-try timeout was told to the health hooks as a timeout (hedging): a later timeout is not told again. */
  timeoutTold: boolean;
}

/**
 * An L7 (per-request) load balancer on its own network node, in the manner of Envoy, HAProxy or nginx:
 * it serves RPC requests on its endpoint, picks a backend per request with a {@link BalancerPolicy},
 * forwards the request (`{ parent: request }`, so origin, key and deadline propagate, with the
 * balancer's `timeout`), and answers the caller with the backend's value or error:
 *
 * - the backend's answer does not come within `timeout`: `gateway-timeout` (HTTP 504, as Envoy answers
 *   when its route timeout fires), or `deadline-exceeded` when the request's own deadline was the limit;
 * - no backend can take the request (none configured, none available and no panic, or the policy said
 *   -1): `unavailable` (HTTP 503);
 * - `concurrency` requests already in flight: `overloaded`;
 * - any other backend error passes through.
 *
 * Every request is answered exactly once (a default `timeout` of 15 s bounds a crashed backend), unless
 * the balancer's own node crashes: then what it held is lost, as in a real proxy.
 *
 * Availability comes from the `health` hooks ({@link BackendHealth}); when fewer than `panicThreshold`
 * percent of the backends are available the balancer ignores health (Envoy's panic mode). Backends can be
 * added, removed (at once or draining, AWS's deregistration delay) and re-weighted at run time. With
 * `slowStart`, a backend that joins or comes back ramps its weight up (Envoy's or HAProxy's slow start);
 * with `retry`, failed attempts are retried on other backends (Envoy's router retries); with `hedge`, a
 * per-try timeout sends another attempt without cancelling the first (Envoy's hedging); with `loadReport`,
 * the policies see the backends' active counts as last reported, every `interval` ms, rather than live
 * (a balancer fed by periodic load reports: stale information, and the herding it causes).
 *
 * Metrics under the balancer's address: counters `lb.requests`, `lb.ok`, `lb.failed`, `lb.overloaded`,
 * `lb.no-backend`, `lb.panic` (requests balanced in panic mode), `lb.retry` (retries sent),
 * `lb.retry.success` (requests answered ok after a retry), `lb.retry.overflow` (retries refused by the
 * concurrent-retry limit or budget), `lb.retry.limit-exceeded` (retriable failures with no retry left),
 * `lb.slow-start` (backends entering slow start), `lb.drain.cut` (attempts cut at a drain deadline),
 * `lb.hedge` (hedges decided), `lb.hedge.abandoned` (losing attempts abandoned);
 * gauges `lb.active` (in flight), `lb.queue` (waiting for a worker), `lb.retry.active` (retries
 * outstanding) and `lb.draining` (backends draining); histogram `lb.latency` (arrival to answer); per
 * backend `lb.backend.<address>.requests`, `lb.backend.<address>.active` and
 * `lb.backend.<address>.errors.<kind>`. With tracing on: `@dsim.lb.pick`, `@dsim.lb.error`,
 * `@dsim.lb.no-backend`, `@dsim.lb.overloaded`, `@dsim.lb.panic`, `@dsim.lb.backends`,
 * `@dsim.lb.slow-start`, `@dsim.lb.drain`, `@dsim.lb.retry`, `@dsim.lb.retry-overflow`, `@dsim.lb.hedge`
 * and `@dsim.lb.abandon` records.
 *
 * @example
 * ```ts
 * for (let i = 0; i < 3; i++) new Service(net.addNode(`app-${i}`), { serviceTime: exponential({ mean: 5 }) });
 * const lb = new LoadBalancer(net.addNode('lb'), {
 *   backends: ['app-0', 'app-1', 'app-2'],
 *   policy: { kind: 'least-request' },
 *   timeout: '1s',
 *   slowStart: { kind: 'envoy', window: '60s' },
 *   retry: { attempts: 2 },
 * });
 * client.call('lb', 'GET /', { key: 'user:42', timeout: '2s' });
 * lb.setWeight('app-2', 3);
 * lb.removeBackend('app-0', { drain: '30s' });
 * ```
 */
export class LoadBalancer {
  /** The balancer's RPC endpoint (it serves callers and forwards to backends). */
  readonly endpoint: RpcEndpoint;
  /** The policy in use. */
  readonly policy: BalancerPolicy;
  private readonly list: BackendState<Forward>[] = [];
  private readonly addressList: string[] = [];
  private readonly drainingList = new Map<string, BackendState<Forward>>();
  private readonly health: readonly BackendHealth[];
  private readonly panicThreshold: number;
  private readonly concurrency: number;
  private readonly latency: Distribution | undefined;
  private readonly workers: number;
  private readonly timeout: number;
  private readonly slowStart: ResolvedSlowStart | undefined;
  private readonly retry: ResolvedLbRetry | undefined;
  private readonly hedge: ResolvedLbHedge | undefined;
  /** The load-report interval (ms); undefined: the policies see live counts. */
  private readonly loadReportMs: number | undefined;
  /** The report period of the counts the policies see: floor(report time / interval); -1 before the first. */
  private reportPeriod = -1;
  private readonly rng: RandomStream;
  /** The backoff's own stream, so that retries do not shift the policy's draws. */
  private readonly retryRng: RandomStream;
  private readonly ctx: {
    backends: readonly BalancerBackend[];
    availableIndices: Int32Array;
    availableCount: number;
    panic: boolean;
    request: RpcRequest;
    rng: RandomStream;
    now: number;
  };
  /** The policy must rebuild before the next pick. */
  private dirty = true;
  /** Availability must be recomputed before the next pick (membership changed). */
  private stale = true;
  private panic = false;
  private busy = 0;
  private queue: Job[] = [];
  private head = 0;
  /** Backends in the list that are in slow start. */
  private slowCount = 0;
  /** Retries outstanding (Envoy's `retries` resource). */
  private activeRetries = 0;
  private readonly counts: LoadBalancerStats = {
    requests: 0,
    ok: 0,
    failed: 0,
    overloaded: 0,
    noBackend: 0,
    inFlight: 0,
    panicked: 0,
    retries: 0,
    retryOverflow: 0,
    cut: 0,
    attempts: 0,
    hedges: 0,
    abandoned: 0,
    unsent: 0,
  };
  private readonly meters: {
    requests: Counter;
    ok: Counter;
    failed: Counter;
    overloaded: Counter;
    noBackend: Counter;
    panic: Counter;
    active: Gauge;
    queue: Gauge;
    latency: Histogram;
    retry: Counter;
    retrySuccess: Counter;
    retryOverflow: Counter;
    retryLimit: Counter;
    retryActive: Gauge;
    slowStart: Counter;
    drainCut: Counter;
    draining: Gauge;
    hedge: Counter;
    abandoned: Counter;
  };

  /**
   * @param node - the balancer's node (`net.addNode('lb')`); the balancer takes over its RPC endpoint
   * @param options - backends, policy, limits, health hooks, slow start, retries and hedging; checked
   *   here, once
   */
  constructor(
    readonly node: NetNode<any>,
    options: LoadBalancerOptions,
  ) {
    const config = resolveLoadBalancer(options);
    this.policy = config.policy;
    this.health = config.health;
    this.panicThreshold = config.panicThreshold;
    this.concurrency = config.concurrency;
    this.latency = config.latency;
    this.workers = config.workers;
    this.timeout = config.timeout;
    this.slowStart = config.slowStart;
    this.retry = config.retry;
    this.hedge = config.hedge;
    this.loadReportMs = config.loadReportMs;
    const sim = node.network.sim;
    this.rng = sim.rng(`${node.address}/lb`);
    this.retryRng = sim.rng(`${node.address}/lb/retry`);
    const m = sim.metrics;
    const id = node.address;
    this.meters = {
      requests: m.counter(id, 'lb.requests'),
      ok: m.counter(id, 'lb.ok'),
      failed: m.counter(id, 'lb.failed'),
      overloaded: m.counter(id, 'lb.overloaded'),
      noBackend: m.counter(id, 'lb.no-backend'),
      panic: m.counter(id, 'lb.panic'),
      active: m.gauge(id, 'lb.active'),
      queue: m.gauge(id, 'lb.queue'),
      latency: m.histogram(id, 'lb.latency'),
      retry: m.counter(id, 'lb.retry'),
      retrySuccess: m.counter(id, 'lb.retry.success'),
      retryOverflow: m.counter(id, 'lb.retry.overflow'),
      retryLimit: m.counter(id, 'lb.retry.limit-exceeded'),
      retryActive: m.gauge(id, 'lb.retry.active'),
      slowStart: m.counter(id, 'lb.slow-start'),
      drainCut: m.counter(id, 'lb.drain.cut'),
      draining: m.gauge(id, 'lb.draining'),
      hedge: m.counter(id, 'lb.hedge'),
      abandoned: m.counter(id, 'lb.hedge.abandoned'),
    };
    for (const b of config.backends) this.push(b.address, b.weight);
    this.ctx = {
      backends: this.list,
      availableIndices: new Int32Array(this.list.length),
      availableCount: 0,
      panic: false,
      request: undefined as unknown as RpcRequest,
      rng: this.rng,
      now: 0,
    };
    this.endpoint = new RpcEndpoint(node).serve((request, reply) => this.arrive(request, reply));
    // A crash loses what the balancer held: queued and forwarded requests are never answered, retries
    // waiting for their backoff are dropped and drains end (their timers die with the node).
    node.onCrash(() => {
      this.queue = [];
      this.head = 0;
      this.busy = 0;
      this.counts.inFlight = 0;
      this.activeRetries = 0;
      this.meters.active.set(0);
      this.meters.queue.set(0);
      this.meters.retryActive.set(0);
      for (const b of this.list) b.reset();
      this.reportPeriod = -1;
      for (const b of this.drainingList.values()) {
        b.draining = false;
        b.drainTimer = undefined;
        b.reset();
      }
      this.drainingList.clear();
      this.meters.draining.set(0);
    });
    for (const h of this.health) h.start?.(this);
  }

  /** The backends' addresses, in the balancer's order; live (it follows add and remove). */
  get addresses(): readonly string[] {
    return this.addressList;
  }

  /** The backends as policies see them (address, effective weight, active, available, index). */
  get backends(): readonly BalancerBackend[] {
    return this.list;
  }

  /** The addresses of the removed backends still draining, in the order their drains began. */
  get draining(): readonly string[] {
    return [...this.drainingList.keys()];
  }

  /**
   * With `loadReport`: the time of the report whose counts the policies see, `floor(t / interval) ×
   * interval` for the time t of the first pick in that period (NaN before the first pick). Undefined
   * without `loadReport`.
   *
   * @example
   * ```ts
   * // loadReport { interval: 100 }, first pick after 250 ms at 262 ms:
   * lb.reportedAt; // 200
   * ```
   */
  get reportedAt(): number | undefined {
    const ms = this.loadReportMs;
    if (ms === undefined) return undefined;
    return this.reportPeriod < 0 ? Number.NaN : this.reportPeriod * ms;
  }

  /** True while fewer than `panicThreshold` percent of the backends are available (as of the last pick). */
  get inPanic(): boolean {
    return this.panic;
  }

  /** A copy of the balancer's counts. */
  get stats(): LoadBalancerStats {
    return { ...this.counts };
  }

  /**
   * A backend's effective weight now: its configured weight times its slow-start factor (1 when it is
   * not in slow start).
   *
   * @example
   * ```ts
   * // slowStart { kind: 'envoy', window: '60s' }, 'app-3' added 15 s ago with weight 2:
   * lb.effectiveWeight('app-3'); // 0.5
   * ```
   */
  effectiveWeight(address: string): number {
    const b = this.find(address, 'effectiveWeight');
    return b.baseWeight * this.factorOf(b, this.node.network.sim.now);
  }

  /**
   * Changes a backend's configured weight (a finite number > 0); the policy rebuilds before the next
   * pick. A backend in slow start keeps ramping, towards the new weight.
   *
   * @example
   * ```ts
   * lb.setWeight('app-2', 3);
   * ```
   */
  setWeight(address: string, weight: number): void {
    const b = this.find(address, 'setWeight');
    b.baseWeight = checkWeight('setWeight(weight)', weight);
    b.weight = b.baseWeight * this.factorOf(b, this.node.network.sim.now);
    this.dirty = true;
    this.traceBackends('weight', address, b.baseWeight);
  }

  /**
   * Adds a backend (an address or `{ address, weight }`) at the end of the list; it takes requests from
   * the next pick on, in slow start when `slowStart` is set. Adding back a backend that is still
   * draining ends its drain: its requests in flight carry on.
   *
   * @example
   * ```ts
   * lb.addBackend({ address: 'app-3', weight: 2 });
   * ```
   */
  addBackend(spec: string | BackendSpec): void {
    const b = resolveBackend(spec, 'addBackend(spec)');
    if (this.addressList.includes(b.address))
      throw new DsimError(
        'INVALID_ARGUMENT',
        `LoadBalancer ${this.node.address}: addBackend: ${JSON.stringify(b.address)} is already a backend`,
        { details: { component: 'LoadBalancer', field: 'addBackend(spec)', value: b.address } },
      );
    const drained = this.drainingList.get(b.address);
    if (drained !== undefined) {
      this.endDrain(drained, 're-added', 0);
      drained.removed = false;
      drained.baseWeight = b.weight;
      drained.weight = b.weight;
      drained.index = this.list.length;
      drained.available = true;
      drained.healthy = true;
      this.list.push(drained);
      this.addressList.push(b.address);
    } else this.push(b.address, b.weight);
    this.ctx.availableIndices = new Int32Array(this.list.length);
    this.stale = true;
    this.dirty = true;
    this.traceBackends('add', b.address, b.weight);
    this.startSlowStart(this.list[this.list.length - 1]!, 'added');
  }

  /**
   * Removes a backend: no new requests go to it. Returns whether it was a backend.
   *
   * - Without `drain`: its requests already forwarded finish and are answered, however long they take.
   * - With `drain` (AWS's deregistration delay): they may finish until the delay ends; those still in
   *   flight then are cut, each attempt failing `unavailable` (retried elsewhere when `retry` allows,
   *   answered `unavailable` otherwise). The drain ends early once nothing is in flight.
   *
   * @param options - `{ drain }`: `true` (300 s, AWS's default), a duration >= 0 or Infinity
   *   @default no draining deadline
   * @example
   * ```ts
   * lb.removeBackend('app-0'); // true
   * lb.removeBackend('app-1', { drain: '30s' });
   * ```
   */
  removeBackend(address: string, options?: RemoveBackendOptions): boolean {
    const drainMs = resolveDrain(options);
    const at = this.addressList.indexOf(address);
    if (at < 0) return false;
    const [removed] = this.list.splice(at, 1);
    const b = removed!;
    b.removed = true;
    if (!Number.isNaN(b.slowStartAt)) {
      b.slowStartAt = Number.NaN;
      b.weight = b.baseWeight;
      this.slowCount--;
    }
    this.addressList.splice(at, 1);
    for (let i = at; i < this.list.length; i++) this.list[i]!.index = i;
    this.stale = true;
    this.dirty = true;
    this.traceBackends('remove', address, b.baseWeight);
    if (drainMs !== undefined) this.startDrain(b, drainMs);
    return true;
  }

  private push(address: string, weight: number): void {
    const sim = this.node.network.sim;
    this.list.push(
      new BackendState<Forward>(
        address,
        weight,
        this.list.length,
        sim.metrics,
        this.node.address,
        this.loadReportMs !== undefined,
      ),
    );
    this.addressList.push(address);
  }

  private find(address: string, verb: string): BackendState<Forward> {
    const at = this.addressList.indexOf(address);
    if (at < 0)
      throw new DsimError(
        'INVALID_ARGUMENT',
        `LoadBalancer ${this.node.address}: ${verb}: ${JSON.stringify(address)} is not a backend; backends: ${this.addressList.join(', ')}`,
        { details: { component: 'LoadBalancer', field: `${verb}(address)`, value: address } },
      );
    return this.list[at]!;
  }

  // ---- slow start -------------------------------------------------------------------------------

  private factorOf(b: BackendState<Forward>, now: number): number {
    if (this.slowStart === undefined || Number.isNaN(b.slowStartAt)) return 1;
    return slowStartFactor(this.slowStart, now - b.slowStartAt);
  }

  /** Puts `b` in slow start from now (again, if it already was). */
  private startSlowStart(b: BackendState<Forward>, reason: 'added' | 'recovered'): void {
    const slow = this.slowStart;
    if (slow === undefined) return;
    const sim = this.node.network.sim;
    if (Number.isNaN(b.slowStartAt)) this.slowCount++;
    b.slowStartAt = sim.now;
    const factor = slowStartFactor(slow, 0);
    b.weight = b.baseWeight * factor;
    this.dirty = true;
    this.meters.slowStart.inc();
    if (sim.tracing)
      sim.emit('@dsim.lb.slow-start', {
        lb: this.node.address,
        backend: b.address,
        phase: 'start',
        reason,
        kind: slow.kind,
        factor,
        weight: b.weight,
        until: sim.now + slow.windowMs,
      });
  }

  /** Updates the effective weights of the backends in slow start; ends the ramps that are over. */
  private updateSlowStart(now: number): void {
    const slow = this.slowStart!;
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      if (Number.isNaN(b.slowStartAt)) continue;
      const factor = slowStartFactor(slow, now - b.slowStartAt);
      b.weight = b.baseWeight * factor;
      if (factor < 1) continue;
      b.slowStartAt = Number.NaN;
      this.slowCount--;
      // Back to equal weights, perhaps: least-request may leave its weighted mode.
      this.dirty = true;
      const sim = this.node.network.sim;
      if (sim.tracing)
        sim.emit('@dsim.lb.slow-start', {
          lb: this.node.address,
          backend: b.address,
          phase: 'end',
          kind: slow.kind,
          factor: 1,
          weight: b.weight,
        });
    }
  }

  // ---- draining ---------------------------------------------------------------------------------

  private startDrain(b: BackendState<Forward>, drainMs: number): void {
    const sim = this.node.network.sim;
    b.draining = true;
    b.drainStartedAt = sim.now;
    b.drainDeadline = sim.now + drainMs;
    this.drainingList.set(b.address, b);
    this.meters.draining.set(this.drainingList.size);
    if (sim.tracing)
      sim.emit('@dsim.lb.drain', {
        lb: this.node.address,
        backend: b.address,
        phase: 'start',
        inFlight: b.inflight.size,
        deadline: b.drainDeadline,
      });
    if (b.inflight.size === 0) {
      this.endDrain(b, 'drained', 0);
      return;
    }
    if (drainMs !== Infinity) b.drainTimer = this.node.setTimer(drainMs, () => this.drainDeadline(b));
  }

  /** The drain deadline: cut what is still in flight, in forwarding order. */
  private drainDeadline(b: BackendState<Forward>): void {
    b.drainTimer = undefined;
    if (!b.draining) return;
    const cut = [...b.inflight];
    this.endDrain(b, 'deadline', cut.length);
    for (const fwd of cut) this.cut(fwd);
  }

  private endDrain(b: BackendState<Forward>, reason: 'drained' | 'deadline' | 're-added', cut: number): void {
    b.draining = false;
    b.drainTimer?.cancel();
    b.drainTimer = undefined;
    this.drainingList.delete(b.address);
    this.meters.draining.set(this.drainingList.size);
    const sim = this.node.network.sim;
    if (sim.tracing)
      sim.emit('@dsim.lb.drain', {
        lb: this.node.address,
        backend: b.address,
        phase: 'end',
        reason,
        cut,
        inFlight: b.inflight.size - cut,
        drainedFor: sim.now - b.drainStartedAt,
      });
  }

  /** A drain deadline cut `fwd`: the attempt fails `unavailable`; its late answer will be ignored. */
  private cut(fwd: Forward): void {
    fwd.cut = true;
    this.counts.cut++;
    this.meters.drainCut.inc();
    this.release(fwd, undefined);
    this.failed(
      fwd,
      'unavailable',
      'unavailable',
      `${fwd.backend.address} drained: cut at its deregistration deadline`,
    );
  }

  // ---- requests ---------------------------------------------------------------------------------

  private arrive(request: RpcRequest, reply: Reply<unknown>): void {
    this.counts.requests++;
    this.meters.requests.inc();
    if (this.counts.inFlight >= this.concurrency) {
      this.counts.overloaded++;
      this.meters.overloaded.inc();
      const sim = this.node.network.sim;
      if (sim.tracing)
        sim.emit('@dsim.lb.overloaded', { lb: this.node.address, id: request.id, from: request.from });
      reply.error('overloaded', `${this.node.address}: ${this.concurrency} requests in flight`);
      return;
    }
    this.counts.inFlight++;
    this.meters.active.set(this.counts.inFlight);
    const now = this.node.network.sim.now;
    if (this.latency === undefined) {
      this.dispatch(request, reply, now);
      return;
    }
    const job: Job = { request, reply, arrivedAt: now };
    if (this.busy < this.workers) this.process(job, this.latency);
    else {
      this.queue.push(job);
      this.meters.queue.set(this.queue.length - this.head);
    }
  }

  /** The balancer's own work on a request, on one worker; then forward it and take the next. */
  private process(job: Job, latency: Distribution): void {
    this.busy++;
    const d = latency.sample(this.rng);
    if (!(d >= 0))
      throw new DsimError(
        'INVALID_DURATION',
        `LoadBalancer '${this.node.address}': latency sampled ${d} ms from ${latency.describe()}; it must be >= 0`,
        { details: { component: 'LoadBalancer', field: 'latency', value: d } },
      );
    this.node.work(d, () => {
      this.busy--;
      this.dispatch(job.request, job.reply, job.arrivedAt);
      if (this.head < this.queue.length) {
        const next = this.queue[this.head]!;
        this.queue[this.head++] = undefined as unknown as Job;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        this.meters.queue.set(this.queue.length - this.head);
        this.process(next, latency);
      }
    });
  }

  /** Recomputes availability and panic mode (only when something can have changed). */
  private refresh(): void {
    const list = this.list;
    const n = list.length;
    const hooks = this.health;
    let healthy = 0;
    for (let i = 0; i < n; i++) {
      const b = list[i]!;
      let ok = true;
      for (let h = 0; h < hooks.length; h++) {
        if (!hooks[h]!.isAvailable(b.address)) {
          ok = false;
          break;
        }
      }
      // Back from unhealthy: slow start again (Envoy restarts it when a host becomes healthy).
      if (ok && !b.healthy) {
        b.healthy = true;
        this.startSlowStart(b, 'recovered');
      }
      b.healthy = ok;
      if (ok) healthy++;
    }
    const panic = n > 0 && healthy * 100 < this.panicThreshold * n;
    if (panic !== this.panic) {
      this.panic = panic;
      const sim = this.node.network.sim;
      if (sim.tracing)
        sim.emit('@dsim.lb.panic', { lb: this.node.address, panic, available: healthy, backends: n });
    }
    const ids = this.ctx.availableIndices;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const b = list[i]!;
      const available = panic || b.healthy;
      if (available !== b.available) {
        b.available = available;
        this.dirty = true;
      }
      if (available) ids[count++] = i;
    }
    this.ctx.availableCount = count;
    this.ctx.panic = panic;
    this.stale = false;
  }

  private dispatch(request: RpcRequest, reply: Reply<unknown>, arrivedAt: number): void {
    const ex: Exchange = {
      request,
      reply,
      arrivedAt,
      routeDeadline: Infinity,
      retries: 0,
      tried: this.retry === undefined ? undefined : [],
      pending: 0,
      live: [],
      done: false,
    };
    this.attempt(ex, 0, false);
  }

  /** The backoff of retry or hedge `n` of `ex` ended: forward it, unless the request was answered. */
  private resume(ex: Exchange, n: number): void {
    ex.pending--;
    if (ex.done) {
      this.freeRetrySlot();
      this.counts.unsent++;
      return;
    }
    this.attempt(ex, n, true);
  }

  /**
   * Picks a backend for attempt `n` of `ex` (0 for the first; a retry or hedge holds a retry slot) and
   * forwards it.
   */
  private attempt(ex: Exchange, n: number, holdsRetry: boolean): void {
    const sim = this.node.network.sim;
    const request = ex.request;
    if (this.stale || this.health.length > 0) this.refresh();
    if (this.slowCount > 0) this.updateSlowStart(sim.now);
    if (this.loadReportMs !== undefined) this.report(sim.now);
    if (this.dirty) {
      this.dirty = false;
      this.policy.rebuild?.(this.list);
    }
    const ctx = this.ctx;
    ctx.request = request;
    ctx.now = sim.now;
    let index = this.policy.pick(ctx);
    // Envoy's previous_hosts predicate: redo a retry's pick that lands on a backend already tried.
    const retry = this.retry;
    if (n > 0 && retry !== undefined && retry.previousHosts) {
      for (let again = 0; again < retry.hostSelectionAttempts; again++) {
        const b = this.list[index];
        if (index === -1 || b === undefined || !ex.tried!.includes(b.address)) break;
        index = this.policy.pick(ctx);
      }
    }
    ctx.request = undefined as unknown as RpcRequest;
    if (index === -1) {
      if (holdsRetry) this.freeRetrySlot();
      // Another attempt of this request may still answer (hedging): this one is simply not sent.
      if (ex.live.length > 0 || ex.pending > 0) {
        this.counts.unsent++;
        return;
      }
      ex.done = true;
      this.counts.noBackend++;
      this.meters.noBackend.inc();
      if (sim.tracing)
        sim.emit('@dsim.lb.no-backend', {
          lb: this.node.address,
          id: request.id,
          available: ctx.availableCount,
          backends: this.list.length,
        });
      this.answer(ex.arrivedAt);
      ex.reply.error(
        'unavailable',
        `${this.node.address}: no backend available (${ctx.availableCount} of ${this.list.length})`,
      );
      return;
    }
    const backend = this.list[index];
    if (backend === undefined || !backend.available || !Number.isInteger(index)) this.badPick(index);
    if (this.panic && n === 0) {
      this.counts.panicked++;
      this.meters.panic.inc();
    }
    backend.started();
    ex.tried?.push(backend.address);
    if (sim.tracing)
      sim.emit('@dsim.lb.pick', {
        lb: this.node.address,
        id: request.id,
        from: request.from,
        backend: backend.address,
        key: request.key ?? null,
        active: backend.live,
        panic: this.panic,
        attempt: n + 1,
      });
    this.counts.attempts++;
    const forwardedAt = sim.now;
    if (n === 0) ex.routeDeadline = forwardedAt + this.timeout;
    const left = ex.routeDeadline - forwardedAt;
    const perTry = retry?.perTryTimeout ?? Infinity;
    // Hedging: the per-try timeout is the balancer's own timer and does not cancel the attempt, which
    // the route timeout alone bounds.
    const hedging = this.hedge !== undefined;
    const timeout = hedging ? left : Math.min(left, perTry);
    const incarnation = this.node.incarnation;
    const options: { parent: RpcRequest; size: number; timeout?: number } = {
      parent: request,
      size: request.size,
    };
    if (timeout !== Infinity) options.timeout = timeout;
    const fwd: Forward = {
      ex,
      backend,
      forwardedAt,
      cut: false,
      holdsRetry,
      hedged: false,
      perTry: undefined,
      timeoutTold: false,
    };
    backend.inflight.add(fwd);
    ex.live.push(fwd);
    if (hedging && perTry < left) fwd.perTry = this.node.setTimer(perTry, () => this.perTryTimeout(fwd));
    // Answered inside the response's event: no event per forward.
    this.endpoint.callThen(backend.address, request.payload, options, (response) => {
      if (this.node.incarnation !== incarnation || fwd.cut) return;
      this.settle(fwd, response);
    });
  }

  /**
   * Load reports, taken lazily: at the first pick of a new report period the policies' counts become the
   * live ones (no event per period, none per request). See `LoadReportOptions.interval`.
   */
  private report(now: number): void {
    const period = Math.floor(now / this.loadReportMs!);
    if (period === this.reportPeriod) return;
    this.reportPeriod = period;
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i]!.report();
  }

  /** An attempt is over: it no longer counts at its backend, nor as an outstanding retry. */
  private release(fwd: Forward, errorKind: RpcErrorKind | undefined): void {
    const backend = fwd.backend;
    backend.inflight.delete(fwd);
    backend.finished(errorKind);
    if (fwd.holdsRetry) this.freeRetrySlot();
    if (fwd.perTry !== undefined) {
      fwd.perTry.cancel();
      fwd.perTry = undefined;
    }
    const live = fwd.ex.live;
    const at = live.indexOf(fwd);
    if (at >= 0) live.splice(at, 1);
    if (backend.draining && backend.inflight.size === 0) this.endDrain(backend, 'drained', 0);
  }

  private freeRetrySlot(): void {
    this.activeRetries--;
    this.meters.retryActive.set(this.activeRetries);
  }

  /** Hedging: `fwd`'s per-try timeout fired; it goes on, and a hedge is sent if the retry policy allows. */
  private perTryTimeout(fwd: Forward): void {
    fwd.perTry = undefined;
    if (fwd.cut || fwd.ex.done) return;
    // Envoy's soft per-try timeout counts as a timeout for outlier detection at once, though the
    // attempt goes on and may still answer (router `onSoftPerTryTimeout`).
    fwd.timeoutTold = true;
    const latency = this.node.network.sim.now - fwd.forwardedAt;
    for (let h = 0; h < this.health.length; h++)
      this.health[h]!.onResponse?.(fwd.backend.address, false, 'timeout', latency);
    if (this.tryRetry(fwd.ex, fwd.backend.address, 'timeout', true)) fwd.hedged = true;
  }

  /** `ex` was answered by `winner`: its other attempts are abandoned (their backends still work on them). */
  private abandon(ex: Exchange, winner: string): void {
    if (ex.live.length === 0) return;
    const sim = this.node.network.sim;
    for (const loser of [...ex.live]) {
      loser.cut = true;
      this.release(loser, undefined);
      this.counts.abandoned++;
      this.meters.abandoned.inc();
      if (sim.tracing)
        sim.emit('@dsim.lb.abandon', {
          lb: this.node.address,
          id: ex.request.id,
          backend: loser.backend.address,
          winner,
          forwardedAt: loser.forwardedAt,
        });
    }
  }

  private settle(fwd: Forward, res: RpcResponse<unknown>): void {
    const backend = fwd.backend;
    const ex = fwd.ex;
    const now = this.node.network.sim.now;
    const latency = now - fwd.forwardedAt;
    const rawKind = res.ok ? undefined : res.error.kind;
    this.release(fwd, rawKind);
    if (!(fwd.timeoutTold && rawKind === 'timeout'))
      for (let h = 0; h < this.health.length; h++)
        this.health[h]!.onResponse?.(backend.address, res.ok, rawKind, latency);
    if (!backend.removed) this.policy.onResponse?.(backend.index, latency, res.ok, now);
    if (res.ok) {
      ex.done = true;
      this.abandon(ex, backend.address);
      this.answer(ex.arrivedAt);
      this.counts.ok++;
      this.meters.ok.inc();
      if (ex.retries > 0) this.meters.retrySuccess.inc();
      ex.reply.ok(res.value);
      return;
    }
    this.failed(fwd, rawKind!, this.answerKind(ex.request, res), res.error.message);
  }

  /** A failed attempt: retry it, or answer the caller with `answered`. */
  private failed(
    fwd: Forward,
    rawKind: RpcErrorKind,
    answered: Exclude<RpcErrorKind, 'timeout'>,
    message: string,
  ): void {
    const ex = fwd.ex;
    // An attempt that was hedged is not retried: its hedge is that retry (Envoy).
    if (this.retry !== undefined && !fwd.hedged && this.tryRetry(ex, fwd.backend.address, rawKind)) return;
    if (ex.live.length > 0 || ex.pending > 0) {
      // Another attempt is outstanding or waiting for its backoff. Envoy's router waits for it after a
      // reset or timeout, and after an error it would have retried; an error response it would never
      // retry goes to the caller at once and the other attempts are reset (`onUpstreamHeaders`).
      const reset = rawKind === 'unavailable' || rawKind === 'timeout';
      if (reset || this.retry?.retryOn.has(rawKind) === true) return;
      ex.done = true;
      this.abandon(ex, fwd.backend.address);
    }
    ex.done = true;
    const sim = this.node.network.sim;
    this.answer(ex.arrivedAt);
    this.counts.failed++;
    this.meters.failed.inc();
    if (sim.tracing)
      sim.emit('@dsim.lb.error', {
        lb: this.node.address,
        id: ex.request.id,
        backend: fwd.backend.address,
        error: rawKind,
        answered,
        attempts: ex.retries + 1,
      });
    ex.reply.error(answered, `${this.node.address}: ${fwd.backend.address}: ${message}`);
  }

  /**
   * Envoy's retry decision for a failed attempt: a retriable kind, a retry left, time left on the route
   * and the caller's deadline after the backoff, and room under the concurrent-retry limit or budget.
   * Schedules the retry and returns true, or returns false (the caller gets this attempt's error). A
   * hedge (`hedge`, at a per-try timeout) is decided the same way, whatever `retryOn` says.
   */
  private tryRetry(ex: Exchange, backend: string, rawKind: RpcErrorKind, hedge = false): boolean {
    const retry = this.retry!;
    if (!hedge && !retry.retryOn.has(rawKind)) return false;
    const sim = this.node.network.sim;
    const now = sim.now;
    if (ex.retries >= retry.attempts) {
      this.meters.retryLimit.inc();
      return false;
    }
    const until = Math.min(ex.routeDeadline, ex.request.deadline);
    if (now >= until) return false;
    const allowed =
      retry.budget !== undefined
        ? retry.budget.allows(this.counts.inFlight, this.activeRetries)
        : this.activeRetries < retry.maxConcurrentRetries;
    if (!allowed) {
      this.counts.retryOverflow++;
      this.meters.retryOverflow.inc();
      if (sim.tracing)
        sim.emit('@dsim.lb.retry-overflow', {
          lb: this.node.address,
          id: ex.request.id,
          backend,
          error: rawKind,
          activeRetries: this.activeRetries,
          inFlight: this.counts.inFlight,
        });
      return false;
    }
    const delay = retry.backoff.delay(ex.retries + 1, this.retryRng);
    // A retry that could only start once the route timeout or the caller's deadline has passed is not
    // sent: the caller gets this attempt's error now.
    if (now + delay >= until) return false;
    ex.retries++;
    ex.pending++;
    this.activeRetries++;
    this.counts.retries++;
    this.meters.retry.inc();
    this.meters.retryActive.set(this.activeRetries);
    if (hedge) {
      this.counts.hedges++;
      this.meters.hedge.inc();
    }
    if (sim.tracing)
      sim.emit(hedge ? '@dsim.lb.hedge' : '@dsim.lb.retry', {
        lb: this.node.address,
        id: ex.request.id,
        retry: ex.retries,
        backend,
        error: rawKind,
        delay,
      });
    const n = ex.retries;
    this.node.setTimer(delay, () => this.resume(ex, n));
    return true;
  }

  /**
   * The caller's error for a failed forward: the balancer's own timer becomes `gateway-timeout` (HTTP
   * 504), or `deadline-exceeded` when the request's own deadline is what ran out; other kinds pass.
   */
  private answerKind(request: RpcRequest, res: RpcResponse<unknown>): Exclude<RpcErrorKind, 'timeout'> {
    const kind = (res as { error: { kind: RpcErrorKind } }).error.kind;
    if (kind !== 'timeout') return kind;
    const deadline = request.deadline;
    const bound = res.request.deadline >= deadline;
    return deadline !== Infinity && (bound || this.node.network.sim.now >= deadline)
      ? 'deadline-exceeded'
      : 'gateway-timeout';
  }

  private answer(arrivedAt: number): void {
    this.counts.inFlight--;
    this.meters.active.set(this.counts.inFlight);
    this.meters.latency.record(this.node.network.sim.now - arrivedAt);
  }

  private badPick(index: number): never {
    const sim = this.node.network.sim;
    throw new DsimError(
      'INVALID_STATE',
      `LoadBalancer '${this.node.address}': policy ${this.policy.kind}.pick returned ${index}; it must return the index of an available backend (0..${this.list.length - 1}) or -1`,
      {
        simTime: sim.now,
        seed: sim.seed,
        details: { component: 'LoadBalancer', field: 'policy', value: index },
      },
    );
  }

  private traceBackends(action: 'add' | 'remove' | 'weight', address: string, weight: number): void {
    const sim = this.node.network.sim;
    if (sim.tracing)
      sim.emit('@dsim.lb.backends', { lb: this.node.address, action, backend: address, weight });
  }
}
