import {
  type Counter,
  checkDuration,
  checkName,
  checkNumber,
  checkObject,
  checkOptions,
  type Duration,
  type Histogram,
  invalidOption,
  type NetNode,
  type NodeTimer,
  optionKeys,
  type Reply,
  RpcEndpoint,
  type RpcRequest,
  type RpcResponse,
} from '@dsim/core';
import type { Autoscaler } from './autoscaler.js';
import { ReplicaPool } from './replica-pool.js';

const C = 'Activator';

/**
 * Options of {@link Activator}; an unknown key is an error.
 *
 * @example
 * ```ts
 * const options: ActivatorOptions = { pool, target: 'lb', autoscaler: scaler, capacity: 1000, timeout: '60s' };
 * ```
 */
export interface ActivatorOptions {
  /** The pool whose readiness it waits for. */
  pool: ReplicaPool;
  /** Where requests are forwarded once a replica is ready: the pool's balancer address. */
  target: string;
  /** Woken (`wake()`) when a request finds the pool at zero; without it the pool is set to one replica. */
  autoscaler?: Autoscaler;
  /**
   * Requests it holds at most while no replica is ready; one more is answered `overloaded`. Knative's
   * activator queue depth. An integer >= 0, or Infinity.
   * @default 10000
   */
  capacity?: number;
  /**
   * How long a held request may wait for a replica before it is answered `unavailable` (a request whose
   * own deadline comes first is answered `deadline-exceeded` then). Knative's `revision-timeout-seconds`.
   * A duration > 0, or Infinity.
   * @default 300 s
   */
  timeout?: Duration;
}

const KEYS = optionKeys<ActivatorOptions>()({
  pool: true,
  target: true,
  autoscaler: true,
  capacity: true,
  timeout: true,
});

/**
 * What an {@link Activator} has done so far. Unless its node crashes (a crash loses what it holds), at
 * every moment `requests = ok + failed + pending + held`: every request is answered once, by the target
 * through it, or by the activator itself (`overloaded`, `unavailable`, `deadline-exceeded`).
 *
 * @example
 * ```ts
 * const { held, wakes } = activator.stats;
 * ```
 */
export interface ActivatorStats {
  /** Requests that arrived. */
  requests: number;
  /** Requests forwarded to the target (at once, or once a replica was ready). */
  forwarded: number;
  /** Requests held now, waiting for a ready replica. */
  held: number;
  /** Requests that waited (were held) before being forwarded. */
  coldStarted: number;
  /** Held requests answered at `timeout` (`unavailable`) or at their own deadline (`deadline-exceeded`). */
  expired: number;
  /** Requests answered `overloaded` because `capacity` were held. */
  overflow: number;
  /** Times it woke the pool from zero. */
  wakes: number;
  /** Answered with the target's ok value. */
  ok: number;
  /** Answered with an error (the target's, `overloaded` or `unavailable`). */
  failed: number;
  /** Forwarded and not answered yet. */
  pending: number;
}

interface Held {
  readonly request: RpcRequest;
  readonly reply: Reply<unknown>;
  readonly arrivedAt: number;
  timer: NodeTimer | undefined;
  done: boolean;
}

/**
 * Scale to zero, the Knative way: a proxy in front of a pool's balancer. While the pool has a ready
 * replica (and nothing is held) a request is forwarded at once; while it has none, requests are held
 * (up to `capacity`, each for at most `timeout`), a pool at zero replicas is woken, and the held requests
 * are forwarded in arrival order when the first replica becomes ready. A cold request's wait is then the
 * replica's start-up time: the cold-start latency.
 *
 * Knative takes the activator out of the path once there is enough capacity (`target-burst-capacity`);
 * this one stays in it, at no cost with a zero-latency link. Scaling down to zero is the policy's
 * business: an {@link HpaPolicy} with `minReplicas: 0` recommends 0 after a window with no traffic.
 *
 * Its counters and histogram, under its address: `activator.requests`, `activator.held`,
 * `activator.expired`, `activator.overflow`, `activator.wakes` and `activator.wait` (how long forwarded
 * requests were held, 0 for most).
 *
 * @example
 * ```ts
 * const activator = new Activator(net.addNode('activator'), { pool, target: 'lb', autoscaler: scaler });
 * client.call('activator', 'GET /');
 * ```
 */
export class Activator {
  readonly endpoint: RpcEndpoint;
  readonly pool: ReplicaPool;
  readonly target: string;
  readonly capacity: number;
  readonly timeoutMs: number;
  private readonly autoscaler: Autoscaler | undefined;
  private queue: Held[] = [];
  private readonly counts: ActivatorStats = {
    requests: 0,
    forwarded: 0,
    held: 0,
    coldStarted: 0,
    expired: 0,
    overflow: 0,
    wakes: 0,
    ok: 0,
    failed: 0,
    pending: 0,
  };
  private readonly meters: {
    requests: Counter;
    held: Counter;
    expired: Counter;
    overflow: Counter;
    wakes: Counter;
    wait: Histogram;
  };

  constructor(
    readonly node: NetNode<any>,
    options: ActivatorOptions,
  ) {
    checkObject(C, 'options', options, 'an options object with pool and target');
    checkOptions(C, options, KEYS);
    if (!(options.pool instanceof ReplicaPool)) throw invalidOption(C, 'pool', options.pool, 'a ReplicaPool');
    this.pool = options.pool;
    this.target = checkName(C, 'target', options.target);
    const a = options.autoscaler as unknown;
    if (
      a !== undefined &&
      (a === null || typeof a !== 'object' || typeof (a as Autoscaler).wake !== 'function')
    )
      throw invalidOption(C, 'autoscaler', a, 'an Autoscaler or left out');
    this.autoscaler = options.autoscaler;
    if (this.autoscaler !== undefined && this.autoscaler.pool !== this.pool)
      throw invalidOption(
        C,
        'autoscaler',
        `the Autoscaler of pool ${this.autoscaler.pool.name}`,
        `the Autoscaler of pool ${this.pool.name}`,
      );
    this.capacity = checkNumber(
      C,
      'capacity',
      options.capacity,
      { integer: true, min: 0, infinity: true },
      10_000,
    );
    this.timeoutMs = checkDuration(
      C,
      'timeout',
      options.timeout,
      { positive: true, infinity: true },
      300_000,
    );
    const m = node.network.sim.metrics;
    const id = node.address;
    this.meters = {
      requests: m.counter(id, 'activator.requests'),
      held: m.counter(id, 'activator.held'),
      expired: m.counter(id, 'activator.expired'),
      overflow: m.counter(id, 'activator.overflow'),
      wakes: m.counter(id, 'activator.wakes'),
      wait: m.histogram(id, 'activator.wait'),
    };
    this.endpoint = new RpcEndpoint(node).serve((request, reply) => this.arrive(request, reply));
    this.pool.onReady(() => this.flush());
    // A crash loses what it held, as any proxy.
    node.onCrash(() => {
      for (const h of this.queue) h.done = true;
      this.queue = [];
      this.counts.held = 0;
      this.counts.pending = 0;
    });
  }

  /** A copy of its counts. */
  get stats(): ActivatorStats {
    return { ...this.counts };
  }

  private arrive(request: RpcRequest, reply: Reply<unknown>): void {
    const counts = this.counts;
    counts.requests++;
    this.meters.requests.inc();
    const now = this.node.network.sim.now;
    if (this.pool.ready > 0 && this.queue.length === 0) {
      this.forward(request, reply, now);
      return;
    }
    if (this.queue.length >= this.capacity) {
      counts.overflow++;
      counts.failed++;
      this.meters.overflow.inc();
      reply.error('overloaded', `${this.node.address}: ${this.capacity} requests held waiting for a replica`);
      return;
    }
    const held: Held = { request, reply, arrivedAt: now, timer: undefined, done: false };
    // Held until a replica is ready, the activator's timeout, or the request's own deadline.
    const limit = Math.min(this.timeoutMs, request.deadline - now);
    if (limit !== Infinity) held.timer = this.node.setTimer(Math.max(0, limit), () => this.expire(held));
    this.queue.push(held);
    counts.held++;
    this.meters.held.inc();
    if (this.pool.replicas === 0) {
      counts.wakes++;
      this.meters.wakes.inc();
      if (this.autoscaler !== undefined) this.autoscaler.wake();
      else this.pool.scaleTo(1);
    }
  }

  /** A replica became ready: forward everything held, in arrival order. */
  private flush(): void {
    if (this.queue.length === 0 || this.pool.ready === 0) return;
    const held = this.queue;
    this.queue = [];
    const now = this.node.network.sim.now;
    for (const h of held) {
      if (h.done) continue;
      if (now >= h.request.deadline) {
        this.expire(h);
        continue;
      }
      h.done = true;
      h.timer?.cancel();
      this.counts.held--;
      this.counts.coldStarted++;
      this.forward(h.request, h.reply, h.arrivedAt);
    }
  }

  /** A held request's time is up: the activator's timeout (`unavailable`) or its own deadline. */
  private expire(h: Held): void {
    if (h.done) return;
    h.done = true;
    h.timer?.cancel();
    const at = this.queue.indexOf(h);
    if (at >= 0) this.queue.splice(at, 1);
    this.counts.held--;
    this.counts.expired++;
    this.counts.failed++;
    this.meters.expired.inc();
    const now = this.node.network.sim.now;
    if (now >= h.request.deadline)
      h.reply.error('deadline-exceeded', `${this.node.address}: deadline passed while waiting for a replica`);
    else h.reply.error('unavailable', `${this.node.address}: no replica ready within ${this.timeoutMs} ms`);
  }

  private forward(request: RpcRequest, reply: Reply<unknown>, arrivedAt: number): void {
    const now = this.node.network.sim.now;
    // Its deadline passed on the way (a slow link): nothing to forward, the caller has given up.
    if (now >= request.deadline) {
      this.counts.failed++;
      reply.error('deadline-exceeded', `${this.node.address}: deadline passed before forwarding`);
      return;
    }
    const counts = this.counts;
    counts.forwarded++;
    counts.pending++;
    this.meters.wait.record(now - arrivedAt);
    const incarnation = this.node.incarnation;
    this.endpoint.callThen(this.target, request.payload, { parent: request }, (res: RpcResponse<unknown>) => {
      if (this.node.incarnation !== incarnation) return;
      counts.pending--;
      if (res.ok) {
        counts.ok++;
        reply.ok(res.value);
        return;
      }
      counts.failed++;
      const kind = res.error.kind;
      reply.error(
        kind === 'timeout'
          ? request.deadline !== Infinity && this.node.network.sim.now >= request.deadline
            ? 'deadline-exceeded'
            : 'gateway-timeout'
          : kind,
        `${this.node.address}: ${res.error.message}`,
      );
    });
  }
}
