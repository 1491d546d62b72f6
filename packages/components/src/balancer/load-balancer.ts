import {
  type Counter,
  type Distribution,
  DsimError,
  type Gauge,
  type Histogram,
  type NetNode,
  type RandomStream,
  type Reply,
  RpcEndpoint,
  type RpcErrorKind,
  type RpcRequest,
  type RpcResponse,
} from '@dsim/core';
import { BackendState } from './backend.js';
import type { BackendHealth } from './health-hook.js';
import { checkWeight, resolveBackend, resolveLoadBalancer } from './load-balancer-config.js';
import type { BackendSpec, LoadBalancerOptions } from './load-balancer-options.js';
import type { BalancerBackend, BalancerPolicy } from './policy.js';

/**
 * What a {@link LoadBalancer} has done so far. At every moment
 * `requests = ok + failed + overloaded + noBackend + inFlight` (every request is answered exactly once,
 * unless the balancer's own node crashes with it).
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
}

interface Job {
  request: RpcRequest;
  reply: Reply<unknown>;
  arrivedAt: number;
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
 * added, removed and re-weighted at run time; removal is immediate (requests in flight finish).
 *
 * Metrics under the balancer's address: counters `lb.requests`, `lb.ok`, `lb.failed`, `lb.overloaded`,
 * `lb.no-backend`, `lb.panic` (requests balanced in panic mode); gauges `lb.active` (in flight) and
 * `lb.queue` (waiting for a worker); histogram `lb.latency` (arrival to answer); per backend
 * `lb.backend.<address>.requests`, `lb.backend.<address>.active` and `lb.backend.<address>.errors.<kind>`.
 * With tracing on: `@dsim.lb.pick`, `@dsim.lb.error`, `@dsim.lb.no-backend`, `@dsim.lb.overloaded`,
 * `@dsim.lb.panic` and `@dsim.lb.backends` records.
 *
 * @example
 * ```ts
 * for (let i = 0; i < 3; i++) new Service(net.addNode(`app-${i}`), { serviceTime: exponential({ mean: 5 }) });
 * const lb = new LoadBalancer(net.addNode('lb'), {
 *   backends: ['app-0', 'app-1', 'app-2'],
 *   policy: { kind: 'least-request' },
 *   timeout: '1s',
 * });
 * client.call('lb', 'GET /', { key: 'user:42', timeout: '2s' });
 * lb.setWeight('app-2', 3);
 * ```
 */
export class LoadBalancer {
  /** The balancer's RPC endpoint (it serves callers and forwards to backends). */
  readonly endpoint: RpcEndpoint;
  /** The policy in use. */
  readonly policy: BalancerPolicy;
  private readonly list: BackendState[] = [];
  private readonly addressList: string[] = [];
  private readonly health: readonly BackendHealth[];
  private readonly panicThreshold: number;
  private readonly concurrency: number;
  private readonly latency: Distribution | undefined;
  private readonly workers: number;
  private readonly timeout: number;
  private readonly rng: RandomStream;
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
  private readonly counts: LoadBalancerStats = {
    requests: 0,
    ok: 0,
    failed: 0,
    overloaded: 0,
    noBackend: 0,
    inFlight: 0,
    panicked: 0,
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
  };

  /**
   * @param node - the balancer's node (`net.addNode('lb')`); the balancer takes over its RPC endpoint
   * @param options - backends, policy, limits and health hooks; checked here, once
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
    const sim = node.network.sim;
    this.rng = sim.rng(`${node.address}/lb`);
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
    // A crash loses what the balancer held: queued and forwarded requests are never answered.
    node.onCrash(() => {
      this.queue = [];
      this.head = 0;
      this.busy = 0;
      this.counts.inFlight = 0;
      this.meters.active.set(0);
      this.meters.queue.set(0);
      for (const b of this.list) b.reset();
    });
    for (const h of this.health) h.start?.(this);
  }

  /** The backends' addresses, in the balancer's order; live (it follows add and remove). */
  get addresses(): readonly string[] {
    return this.addressList;
  }

  /** The backends as policies see them (address, weight, active, available, index). */
  get backends(): readonly BalancerBackend[] {
    return this.list;
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
   * Changes a backend's weight (a finite number > 0); the policy rebuilds before the next pick.
   *
   * @example
   * ```ts
   * lb.setWeight('app-2', 3);
   * ```
   */
  setWeight(address: string, weight: number): void {
    const b = this.find(address, 'setWeight');
    b.weight = checkWeight('setWeight(weight)', weight);
    this.dirty = true;
    this.traceBackends('weight', address, b.weight);
  }

  /**
   * Adds a backend (an address or `{ address, weight }`) at the end of the list; it takes requests from
   * the next pick on.
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
    this.push(b.address, b.weight);
    this.ctx.availableIndices = new Int32Array(this.list.length);
    this.stale = true;
    this.dirty = true;
    this.traceBackends('add', b.address, b.weight);
  }

  /**
   * Removes a backend at once: no new requests go to it; requests already forwarded finish and are
   * answered. Returns whether it was a backend. (Draining, which waits for them first, is not modelled
   * yet.)
   *
   * @example
   * ```ts
   * lb.removeBackend('app-0'); // true
   * ```
   */
  removeBackend(address: string): boolean {
    const at = this.addressList.indexOf(address);
    if (at < 0) return false;
    const [removed] = this.list.splice(at, 1);
    removed!.removed = true;
    this.addressList.splice(at, 1);
    for (let i = at; i < this.list.length; i++) this.list[i]!.index = i;
    this.stale = true;
    this.dirty = true;
    this.traceBackends('remove', address, removed!.weight);
    return true;
  }

  private push(address: string, weight: number): void {
    const sim = this.node.network.sim;
    this.list.push(new BackendState(address, weight, this.list.length, sim.metrics, this.node.address));
    this.addressList.push(address);
  }

  private find(address: string, verb: string): BackendState {
    const at = this.addressList.indexOf(address);
    if (at < 0)
      throw new DsimError(
        'INVALID_ARGUMENT',
        `LoadBalancer ${this.node.address}: ${verb}: ${JSON.stringify(address)} is not a backend; backends: ${this.addressList.join(', ')}`,
        { details: { component: 'LoadBalancer', field: `${verb}(address)`, value: address } },
      );
    return this.list[at]!;
  }

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
    const sim = this.node.network.sim;
    if (this.stale || this.health.length > 0) this.refresh();
    if (this.dirty) {
      this.dirty = false;
      this.policy.rebuild?.(this.list);
    }
    const ctx = this.ctx;
    ctx.request = request;
    ctx.now = sim.now;
    const index = this.policy.pick(ctx);
    ctx.request = undefined as unknown as RpcRequest;
    if (index === -1) {
      this.counts.noBackend++;
      this.meters.noBackend.inc();
      if (sim.tracing)
        sim.emit('@dsim.lb.no-backend', {
          lb: this.node.address,
          id: request.id,
          available: ctx.availableCount,
          backends: this.list.length,
        });
      this.answer(arrivedAt);
      reply.error(
        'unavailable',
        `${this.node.address}: no backend available (${ctx.availableCount} of ${this.list.length})`,
      );
      return;
    }
    const backend = this.list[index];
    if (backend === undefined || !backend.available || !Number.isInteger(index)) this.badPick(index);
    if (this.panic) {
      this.counts.panicked++;
      this.meters.panic.inc();
    }
    backend.started();
    if (sim.tracing)
      sim.emit('@dsim.lb.pick', {
        lb: this.node.address,
        id: request.id,
        from: request.from,
        backend: backend.address,
        key: request.key ?? null,
        active: backend.active,
        panic: this.panic,
      });
    const forwardedAt = sim.now;
    const incarnation = this.node.incarnation;
    const options: { parent: RpcRequest; size: number; timeout?: number } = {
      parent: request,
      size: request.size,
    };
    if (this.timeout !== Infinity) options.timeout = this.timeout;
    this.endpoint.call(backend.address, request.payload, options).onProcessed((e) => {
      if (this.node.incarnation !== incarnation) return;
      this.settle(backend, request, reply, arrivedAt, forwardedAt, e.value!);
    });
  }

  private settle(
    backend: BackendState,
    request: RpcRequest,
    reply: Reply<unknown>,
    arrivedAt: number,
    forwardedAt: number,
    res: RpcResponse<unknown>,
  ): void {
    const sim = this.node.network.sim;
    const now = sim.now;
    const latency = now - forwardedAt;
    const rawKind = res.ok ? undefined : res.error.kind;
    backend.finished(rawKind);
    for (let h = 0; h < this.health.length; h++)
      this.health[h]!.onResponse?.(backend.address, res.ok, rawKind, latency);
    if (!backend.removed) this.policy.onResponse?.(backend.index, latency, res.ok, now);
    this.answer(arrivedAt);
    if (res.ok) {
      this.counts.ok++;
      this.meters.ok.inc();
      reply.ok(res.value);
      return;
    }
    this.counts.failed++;
    this.meters.failed.inc();
    const kind = this.answerKind(request, res);
    if (sim.tracing)
      sim.emit('@dsim.lb.error', {
        lb: this.node.address,
        id: request.id,
        backend: backend.address,
        error: rawKind!,
        answered: kind,
      });
    reply.error(kind, `${this.node.address}: ${backend.address}: ${res.error.message}`);
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
