import {
  type Counter,
  checkDistribution,
  checkDuration,
  checkFunction,
  checkName,
  checkNumber,
  checkObject,
  checkOptions,
  type Distribution,
  DsimError,
  type Duration,
  type Gauge,
  invalidOption,
  type NetNode,
  type Network,
  optionKeys,
  type RandomStream,
  type ScheduledHandle,
  type Simulation,
} from '@dsim/core';
import type { LoadBalancer } from '../balancer/load-balancer.js';
import { Service } from '../service/service.js';
import type { ServiceOptions } from '../service/service-options.js';
import type { ServiceLoad, Slowdown } from '../service/slowdown.js';
import { type ResolvedWarmup, resolveWarmup, type WarmupOptions, warmupFactor } from './warmup.js';

const C = 'ReplicaPool';

/**
 * Where a replica is in its life:
 *
 * - `starting`: created, not serving yet (pod scheduling, image pull, container start, readiness probe);
 * - `ready`: a backend of the balancer;
 * - `down`: its node crashed; it comes back through `starting` when the node restarts;
 * - `terminated`: removed by a scale-down (its balancer drain may still be finishing its requests).
 *
 * @example
 * ```ts
 * const state: ReplicaState = 'starting';
 * ```
 */
export type ReplicaState = 'starting' | 'ready' | 'down' | 'terminated';

/**
 * A replica as the pool shows it: read it, do not keep it past the event.
 *
 * @example
 * ```ts
 * for (const r of pool.members) if (r.state === 'ready') console.log(r.address, r.service.busy);
 * ```
 */
export interface Replica {
  /** Its node's address, `<name>-<index>`. */
  readonly address: string;
  /** Creation order, from 0. */
  readonly index: number;
  /** Its node. */
  readonly node: NetNode<any>;
  /** Its service. */
  readonly service: Service;
  /** Where it is in its life. */
  readonly state: ReplicaState;
  /** When it was created (the pod's start time), ms. */
  readonly createdAt: number;
  /** When its current start-up began (creation, or its node's restart), ms. */
  readonly startedAt: number;
  /** When it last became ready, ms; NaN before. */
  readonly readyAt: number;
  /** Integral of its busy workers (worker × ms) when it last became ready. */
  readonly busyAtReady: number;
  /** Requests that had arrived at its service when it last became ready. */
  readonly arrivedAtReady: number;
  /** The integral of its busy workers up to now, worker × ms. */
  busyIntegral(): number;
  /** Requests arrived at its service so far. */
  arrivals(): number;
}

/**
 * Options of {@link ReplicaPool}; an unknown key is an error.
 *
 * @example
 * ```ts
 * const options: ReplicaPoolOptions = {
 *   name: 'app',
 *   balancer: lb,
 *   service: { concurrency: 4, serviceTime: exponential({ mean: 50 }) },
 *   replicas: 2,
 *   startup: '30s',
 * };
 * ```
 */
export interface ReplicaPoolOptions {
  /** Prefix of the replicas' node addresses (`app` gives `app-0`, `app-1`, ...), a non-empty string. */
  name: string;
  /** The balancer ready replicas join (`addBackend`) and leave (`removeBackend`). */
  balancer: LoadBalancer;
  /** Each replica's {@link Service} options; a `slowdown` there is multiplied by the warm-up's. */
  service: ServiceOptions;
  /**
   * Replicas at the start, ready at once and already warm (they were running before the simulation
   * began). An integer >= 0.
   * @default 1
   */
  replicas?: number;
  /**
   * Time from a replica's creation (or its node's restart) to ready: pod scheduling, image pull,
   * container start and readiness probe. A distribution, or a duration for a constant.
   */
  startup: Distribution | Duration;
  /** Slower service for a while after ready. @default none */
  warmup?: WarmupOptions;
  /**
   * A scale-down removes the replica from the balancer with this drain: its requests in flight may
   * finish until then, and are cut (`unavailable`, retried by the balancer if it retries) after.
   * Kubernetes' `terminationGracePeriodSeconds`. A duration, or Infinity.
   * @default 30 s
   */
  drain?: Duration;
  /** Random stream of the start-up times. @default `<name>/startup` */
  stream?: string;
}

const POOL_KEYS = optionKeys<ReplicaPoolOptions>()({
  name: true,
  balancer: true,
  service: true,
  replicas: true,
  startup: true,
  warmup: true,
  drain: true,
  stream: true,
});

/**
 * What a {@link ReplicaPool} has done so far.
 *
 * @example
 * ```ts
 * const { created, terminated } = pool.stats;
 * ```
 */
export interface ReplicaPoolStats {
  /** Replicas created (initial ones included). */
  created: number;
  /** Times a replica became ready (after creation or a restart; initial replicas included). */
  readied: number;
  /** Replicas removed by scale-downs. */
  terminated: number;
  /** Replica crashes seen (their nodes went down). */
  crashed: number;
  /** Replica restarts seen (their nodes came back up). */
  restarted: number;
}

class PoolReplica implements Replica {
  state: ReplicaState = 'starting';
  startedAt: number;
  readyAt = Number.NaN;
  busyAtReady = 0;
  arrivedAtReady = 0;
  /** When warm-up began; NaN: no warm-up (an initial replica). */
  warmupFrom = Number.NaN;
  timer: ScheduledHandle | undefined;
  constructor(
    readonly address: string,
    readonly index: number,
    readonly node: NetNode<any>,
    readonly service: Service,
    readonly createdAt: number,
    private readonly busy: Gauge,
    private readonly arrived: Counter,
  ) {
    this.startedAt = createdAt;
  }
  busyIntegral(): number {
    return this.busy.integral();
  }
  arrivals(): number {
    return this.arrived.value;
  }
}

/**
 * A set of identical {@link Service} replicas behind a {@link LoadBalancer}, sized by `scaleTo` (a
 * Kubernetes Deployment's ReplicaSet, an auto scaling group), each on its own node:
 *
 * - **Start-up.** A new replica is ready `startup` after its creation; only then does it join the
 *   balancer (`addBackend`, so the balancer's `slowStart` ramps it), then runs its `warmup`.
 * - **Scale-down** removes replicas gracefully: the balancer drains each for `drain`. Which go first
 *   follows the ReplicaSet controller's deletion order: replicas still starting (the newest first), then
 *   crashed ones, then ready ones, the most recently ready first.
 * - **Crashes.** A replica whose node crashes leaves the balancer at once (its requests in flight end at
 *   the balancer's timeout) and stays counted, not ready, like a pod whose container crashed; when its
 *   node restarts it starts up again. The pool never replaces it with a new replica, as a ReplicaSet
 *   does not replace a pod in CrashLoopBackOff.
 * - Every replica gets a fresh node (`<name>-<index>`); a terminated replica's node stays up, idle.
 *
 * Metrics under `name`: gauges `pool.replicas` (counted replicas), `pool.ready` and `pool.starting`;
 * counters `pool.created` and `pool.terminated`. With tracing on: `@dsim.pool.scale` and
 * `@dsim.pool.replica` records.
 *
 * @example
 * ```ts
 * const lb = new LoadBalancer(net.addNode('lb'), { backends: [], policy: { kind: 'least-request' } });
 * const pool = new ReplicaPool(net, {
 *   name: 'app', balancer: lb, replicas: 2, startup: '30s',
 *   service: { concurrency: 4, serviceTime: exponential({ mean: 50 }) },
 * });
 * pool.scaleTo(5); // three more, ready 30 s later
 * ```
 */
export class ReplicaPool {
  /** The address prefix, also the metrics id. */
  readonly name: string;
  readonly balancer: LoadBalancer;
  /** The drain given to the balancer on scale-down, ms. */
  readonly drainMs: number;
  private readonly sim: Simulation;
  private readonly startup: Distribution;
  private readonly warmup: ResolvedWarmup | undefined;
  private readonly serviceOptions: ServiceOptions;
  private readonly rng: RandomStream;
  private readonly list: PoolReplica[] = [];
  private readonly readyListeners: Array<(replica: Replica) => void> = [];
  private nextIndex = 0;
  private readyN = 0;
  private startingN = 0;
  private readonly counts: ReplicaPoolStats = {
    created: 0,
    readied: 0,
    terminated: 0,
    crashed: 0,
    restarted: 0,
  };
  private readonly meters: {
    replicas: Gauge;
    ready: Gauge;
    starting: Gauge;
    created: Counter;
    terminated: Counter;
  };

  /**
   * @param net - the network the replicas' nodes are added to (the balancer's)
   * @param options - name, balancer, service, start-up, warm-up and drain; checked here, once
   */
  constructor(
    readonly net: Network,
    options: ReplicaPoolOptions,
  ) {
    checkObject(C, 'options', options, 'an options object with name, balancer, service and startup');
    checkOptions(C, options, POOL_KEYS);
    this.name = checkName(C, 'name', options.name);
    const lb = options.balancer as unknown;
    if (lb === null || typeof lb !== 'object' || typeof (lb as LoadBalancer).addBackend !== 'function')
      throw invalidOption(C, 'balancer', lb, 'a LoadBalancer');
    this.balancer = options.balancer;
    if (this.balancer.node.network !== net)
      throw invalidOption(C, 'balancer', this.balancer.node.address, 'a LoadBalancer on the same network');
    checkObject(
      C,
      'service',
      options.service,
      'the Service options of each replica, e.g. { serviceTime: 50 }',
    );
    if (options.service.slowdown !== undefined)
      checkFunction(C, 'service.slowdown', options.service.slowdown, '(load) => multiplier');
    this.serviceOptions = options.service;
    if (options.startup === undefined)
      throw invalidOption(
        C,
        'startup',
        undefined,
        'a distribution such as lognormalFromMean(...), or a duration',
      );
    this.startup = checkDistribution(C, 'startup', options.startup, "constant('30s')");
    this.warmup = options.warmup === undefined ? undefined : resolveWarmup(options.warmup, C);
    this.drainMs = checkDuration(C, 'drain', options.drain, { infinity: true }, 30_000);
    const initial = checkNumber(C, 'replicas', options.replicas, { integer: true, min: 0 }, 1);
    this.sim = net.sim;
    this.rng = this.sim.rng(checkName(C, 'stream', options.stream, `${this.name}/startup`));
    const m = this.sim.metrics;
    this.meters = {
      replicas: m.gauge(this.name, 'pool.replicas'),
      ready: m.gauge(this.name, 'pool.ready'),
      starting: m.gauge(this.name, 'pool.starting'),
      created: m.counter(this.name, 'pool.created'),
      terminated: m.counter(this.name, 'pool.terminated'),
    };
    for (let i = 0; i < initial; i++) this.becomeReady(this.create(false), false);
    this.gauge();
  }

  /** Replicas counted (the spec): starting, ready and down. */
  get replicas(): number {
    return this.list.length;
  }

  /** Replicas ready (backends of the balancer). */
  get ready(): number {
    return this.readyN;
  }

  /** Replicas starting. */
  get starting(): number {
    return this.startingN;
  }

  /** The counted replicas, in creation order. */
  get members(): readonly Replica[] {
    return this.list;
  }

  /** A copy of the pool's counts. */
  get stats(): ReplicaPoolStats {
    return { ...this.counts };
  }

  /**
   * Replica-seconds so far: the integral of the counted replicas over time, in replica × s (what the
   * replicas cost, starting ones included).
   *
   * @example
   * ```ts
   * pool.replicaSeconds(); // 600 after 5 min at 2 replicas
   * ```
   */
  replicaSeconds(): number {
    return this.meters.replicas.integral() / 1000;
  }

  /**
   * Calls `listener(replica)` whenever a replica becomes ready (after it joined the balancer).
   *
   * @example
   * ```ts
   * pool.onReady((r) => console.log(`${r.address} ready at ${r.readyAt}`));
   * ```
   */
  onReady(listener: (replica: Replica) => void): void {
    checkFunction(C, 'onReady(listener)', listener, '(replica) => void');
    this.readyListeners.push(listener);
  }

  /**
   * Sets the replica count: new replicas start (ready after their start-up time), surplus ones are
   * removed in the ReplicaSet's deletion order (see the class). An integer >= 0.
   *
   * @example
   * ```ts
   * pool.scaleTo(0); // every replica drains away
   * ```
   */
  scaleTo(replicas: number): void {
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
      throw invalidOption(C, 'scaleTo(replicas)', replicas, 'an integer >= 0');
    const from = this.list.length;
    if (replicas === from) return;
    if (this.sim.tracing) this.sim.emit('@dsim.pool.scale', { pool: this.name, from, to: replicas });
    if (replicas > from) for (let i = from; i < replicas; i++) this.create(true);
    else {
      const victims = this.deletionOrder().slice(0, from - replicas);
      for (const r of victims) this.terminate(r);
    }
    this.gauge();
  }

  /** ReplicaSet deletion preference: starting, then down, then ready (most recently ready first). */
  private deletionOrder(): PoolReplica[] {
    const rank = (r: PoolReplica): number => (r.state === 'starting' ? 0 : r.state === 'down' ? 1 : 2);
    return [...this.list].sort((a, b) => {
      const byState = rank(a) - rank(b);
      if (byState !== 0) return byState;
      if (a.state === 'ready' && a.readyAt !== b.readyAt) return b.readyAt - a.readyAt;
      return b.index - a.index;
    });
  }

  private create(starting: boolean): PoolReplica {
    const sim = this.sim;
    const index = this.nextIndex++;
    const address = `${this.name}-${index}`;
    const node = this.net.addNode(address);
    const warmup = this.warmup;
    const user = this.serviceOptions.slowdown;
    let replica: PoolReplica | undefined;
    let slowdown: Slowdown | undefined = user;
    if (warmup !== undefined) {
      const warm = (): number => {
        const from = replica!.warmupFrom;
        return Number.isNaN(from) ? 1 : warmupFactor(warmup, sim.now - from);
      };
      slowdown = user === undefined ? () => warm() : (load: ServiceLoad) => user(load) * warm();
    }
    const options = slowdown === user ? this.serviceOptions : { ...this.serviceOptions, slowdown: slowdown! };
    const service = new Service(node, options);
    const m = sim.metrics;
    const r = new PoolReplica(
      address,
      index,
      node,
      service,
      sim.now,
      m.gauge(address, 'svc.busy'),
      m.counter(address, 'svc.arrived'),
    );
    replica = r;
    this.list.push(r);
    this.counts.created++;
    this.meters.created.inc();
    node.onCrash(() => this.crashed(r));
    node.onRestart(() => this.restarted(r));
    if (starting) this.beginStartup(r);
    return r;
  }

  private beginStartup(r: PoolReplica): void {
    const sim = this.sim;
    r.state = 'starting';
    r.startedAt = sim.now;
    this.startingN++;
    const d = this.startup.sample(this.rng);
    if (!(d >= 0) || d === Infinity)
      throw new DsimError(
        'INVALID_DURATION',
        `ReplicaPool '${this.name}': startup sampled ${d} ms from ${this.startup.describe()}; it must be a finite duration >= 0`,
        { simTime: sim.now, seed: sim.seed, details: { component: C, field: 'startup', value: d } },
      );
    this.trace(r, 'start', { startup: d });
    r.timer = sim.schedule(d, () => {
      r.timer = undefined;
      this.startingN--;
      this.becomeReady(r, true);
      this.gauge();
    });
  }

  private becomeReady(r: PoolReplica, warmsUp: boolean): void {
    const now = this.sim.now;
    r.state = 'ready';
    r.readyAt = now;
    r.busyAtReady = r.busyIntegral();
    r.arrivedAtReady = r.arrivals();
    // Initial replicas were running before the simulation began: already warm.
    if (warmsUp) r.warmupFrom = now;
    this.readyN++;
    this.counts.readied++;
    this.balancer.addBackend(r.address);
    this.trace(r, 'ready', {});
    for (const listener of this.readyListeners) listener(r);
  }

  private terminate(r: PoolReplica): void {
    const was = r.state;
    const at = this.list.indexOf(r);
    this.list.splice(at, 1);
    r.state = 'terminated';
    this.counts.terminated++;
    this.meters.terminated.inc();
    if (was === 'starting') {
      r.timer?.cancel();
      r.timer = undefined;
      this.startingN--;
    } else if (was === 'ready') {
      this.readyN--;
      this.balancer.removeBackend(r.address, { drain: this.drainMs });
    }
    this.trace(r, 'terminate', { was });
  }

  private crashed(r: PoolReplica): void {
    if (r.state === 'terminated') return;
    this.counts.crashed++;
    if (r.state === 'starting') {
      r.timer?.cancel();
      r.timer = undefined;
      this.startingN--;
    } else if (r.state === 'ready') {
      this.readyN--;
      this.balancer.removeBackend(r.address);
    }
    r.state = 'down';
    this.trace(r, 'down', {});
    this.gauge();
  }

  private restarted(r: PoolReplica): void {
    if (r.state !== 'down') return;
    this.counts.restarted++;
    this.beginStartup(r);
    this.gauge();
  }

  private gauge(): void {
    this.meters.replicas.set(this.list.length);
    this.meters.ready.set(this.readyN);
    this.meters.starting.set(this.startingN);
  }

  private trace(r: PoolReplica, phase: string, fields: Record<string, unknown>): void {
    const sim = this.sim;
    if (sim.tracing)
      sim.emit('@dsim.pool.replica', { pool: this.name, replica: r.address, phase, ...fields });
  }
}
