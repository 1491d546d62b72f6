import {
  constant,
  type Distribution,
  type Duration,
  invalidArgument,
  type NetNode,
  type RandomStream,
  type Reply,
  RpcEndpoint,
  type RpcError,
  type RpcRequest,
  toMs,
} from '@dsim/core';
import type { RateLimiter } from '../resilience/rate-limiters/types.js';
import type { ConnectionPool, PoolGrant } from './connection-pool.js';
import type {
  DownstreamCall,
  DownstreamCaller,
  DownstreamSpec,
  QueueDiscipline,
  ServiceOptions,
  Shedding,
} from './service-options.js';
import type { ServiceLoad, Slowdown } from './slowdown.js';

interface Job {
  request: RpcRequest;
  reply: Reply<unknown>;
  enqueuedAt: number;
  seq: number;
  priority: number;
}

interface ResolvedCall {
  to: string;
  payload: unknown;
  hasPayload: boolean;
  timeout: number | undefined;
  pool: ConnectionPool | undefined;
}

interface Downstream {
  /** The calls, fixed or chosen per request. */
  calls: ResolvedCall[] | ((request: RpcRequest) => ResolvedCall[]);
  parallel: boolean;
  propagate: boolean;
  fallback: ((request: RpcRequest, error: RpcError) => unknown) | undefined;
  caller: DownstreamCaller;
}

const DISCIPLINES: readonly QueueDiscipline[] = ['fifo', 'lifo', 'priority', 'adaptive-lifo'];

/**
 * A service on a node: a pool of workers, a bounded queue with a discipline, a service-time
 * distribution, load-dependent latency, load shedding, downstream calls through connection pools, an
 * error rate, and the node's capacity factor (a `degrade` fault of 0.5 doubles service times). Requests
 * arrive through the node's {@link RpcEndpoint}; a full queue answers `overloaded`.
 *
 * A worker handles one request at a time: first its downstream calls (holding the worker while it
 * waits), then its own computation (`serviceTime` × `slowdown(load)` / capacity), then the reply.
 *
 * It records under the node's address: counters `svc.arrived`, `svc.completed`, `svc.failed`,
 * `svc.rejected`, `svc.throttled`, `svc.shed`, `svc.expired`, `svc.fallbacks`; gauges `svc.queue` and `svc.busy`;
 * histogram `svc.latency` (queueing plus service time at the server). With tracing on it emits
 * `@dsim.svc.reject`, `@dsim.svc.throttle`, `@dsim.svc.shed` and `@dsim.svc.expire` records.
 *
 * @example
 * ```ts
 * const db = new Service(net.addNode('db'), { concurrency: 8, serviceTime: exponential({ mean: 5 }), queueCapacity: 100 });
 * ```
 */
export class Service {
  /** The service's RPC endpoint (for its node's stats, and for downstream calls). */
  readonly endpoint: RpcEndpoint;
  readonly concurrency: number;
  private busyWorkers = 0;
  private queue: Job[] = [];
  private head = 0;
  private seq = 0;
  /** Last time the queue was empty (for CoDel and adaptive LIFO). */
  private lastEmptyAt = 0;
  private readonly serviceTime: Distribution;
  private readonly rng: RandomStream;
  private readonly queueCapacity: number;
  private readonly discipline: QueueDiscipline;
  private readonly priority: ((request: RpcRequest) => number) | undefined;
  private readonly lifoInterval: number;
  private readonly queueTimeout: number;
  private readonly dropExpired: boolean;
  private readonly replyOnDrop: boolean;
  private readonly shedLength: number;
  private readonly shedDelay: number;
  private readonly codelTarget: number;
  private readonly codelInterval: number;
  private readonly slowdown: Slowdown | undefined;
  private readonly rateLimit: RateLimiter | undefined;
  private readonly load = { busy: 0, queue: 0, concurrency: 0, inFlight: 0, utilization: 0 };
  private readonly downstream: Downstream | undefined;
  private readonly errorRate: number;
  private readonly respond: (request: RpcRequest) => unknown;
  private readonly where: string;
  private readonly meters;

  constructor(
    readonly node: NetNode<any>,
    options: ServiceOptions,
  ) {
    const where = `service ${node.address}`;
    this.where = where;
    if (options === null || typeof options !== 'object')
      throw invalidArgument(where, options, 'an options object with serviceTime');
    this.concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw invalidArgument(`${where}: concurrency`, this.concurrency, 'an integer >= 1');
    }
    this.serviceTime = toDistribution(options.serviceTime, `${where}: serviceTime`);
    this.queueCapacity = options.queueCapacity ?? Infinity;
    if (
      this.queueCapacity !== Infinity &&
      (!Number.isInteger(this.queueCapacity) || this.queueCapacity < 0)
    ) {
      throw invalidArgument(`${where}: queueCapacity`, this.queueCapacity, 'an integer >= 0 or Infinity');
    }
    this.discipline = options.discipline ?? 'fifo';
    if (!DISCIPLINES.includes(this.discipline)) {
      throw invalidArgument(
        `${where}: discipline`,
        this.discipline,
        `one of ${DISCIPLINES.map((d) => `"${d}"`).join(', ')}`,
      );
    }
    if (this.discipline === 'priority' && typeof options.priority !== 'function') {
      throw invalidArgument(
        `${where}: priority`,
        options.priority,
        'a function (request) => number for the priority discipline',
      );
    }
    this.priority = options.priority;
    this.lifoInterval = optionalMs(options.adaptiveLifoInterval, 100, `${where}: adaptiveLifoInterval`);
    this.queueTimeout = optionalMs(options.queueTimeout, Infinity, `${where}: queueTimeout`);
    this.dropExpired = options.dropExpired ?? false;
    if (typeof this.dropExpired !== 'boolean')
      throw invalidArgument(`${where}: dropExpired`, options.dropExpired, 'a boolean');
    this.replyOnDrop = options.replyOnDrop ?? false;
    if (typeof this.replyOnDrop !== 'boolean')
      throw invalidArgument(`${where}: replyOnDrop`, options.replyOnDrop, 'a boolean');
    const shed = resolveShedding(options.shedding, `${where}: shedding`);
    this.shedLength = shed.length;
    this.shedDelay = shed.delay;
    this.codelTarget = shed.codelTarget;
    this.codelInterval = shed.codelInterval;
    if (options.slowdown !== undefined && typeof options.slowdown !== 'function')
      throw invalidArgument(
        `${where}: slowdown`,
        options.slowdown,
        'a function (load) => multiplier, e.g. loadSlowdown({...})',
      );
    this.slowdown = options.slowdown;
    if (options.rateLimit !== undefined && typeof options.rateLimit?.tryAcquire !== 'function')
      throw invalidArgument(
        `${where}: rateLimit`,
        options.rateLimit,
        'a rate limiter, e.g. createRateLimiter({...})',
      );
    this.rateLimit = options.rateLimit;
    this.load.concurrency = this.concurrency;
    this.errorRate = options.errorRate ?? 0;
    if (typeof this.errorRate !== 'number' || !(this.errorRate >= 0 && this.errorRate <= 1)) {
      throw invalidArgument(`${where}: errorRate`, this.errorRate, 'a probability in [0, 1]');
    }
    this.respond = options.respond ?? ((request) => request.payload);
    const sim = node.network.sim;
    this.rng = sim.rng(`${node.address}/service`);
    const m = sim.metrics;
    const id = node.address;
    this.meters = {
      arrived: m.counter(id, 'svc.arrived'),
      completed: m.counter(id, 'svc.completed'),
      failed: m.counter(id, 'svc.failed'),
      rejected: m.counter(id, 'svc.rejected'),
      shed: m.counter(id, 'svc.shed'),
      expired: m.counter(id, 'svc.expired'),
      throttled: m.counter(id, 'svc.throttled'),
      fallbacks: m.counter(id, 'svc.fallbacks'),
      queue: m.gauge(id, 'svc.queue'),
      busy: m.gauge(id, 'svc.busy'),
      latency: m.histogram(id, 'svc.latency'),
    };
    this.endpoint = new RpcEndpoint(node).serve((request, reply) => this.arrive(request, reply));
    this.downstream = resolveDownstream(options.downstream, this.endpoint, `${where}: downstream`);
    // A crash loses the queue and the work in progress: nobody will answer those requests.
    node.onCrash(() => {
      this.queue = [];
      this.head = 0;
      this.busyWorkers = 0;
      this.meters.queue.set(0);
      this.meters.busy.set(0);
    });
  }

  /** Requests waiting for a worker. */
  get queueLength(): number {
    return this.queue.length - this.head;
  }

  /** Workers serving a request now. */
  get busy(): number {
    return this.busyWorkers;
  }

  private arrive(request: RpcRequest, reply: Reply<unknown>): void {
    this.meters.arrived.inc();
    if (this.rateLimit !== undefined) {
      const decision = this.rateLimit.tryAcquire(this.node.network.sim.now);
      if (!decision.allowed) {
        this.meters.throttled.inc();
        this.trace('@dsim.svc.throttle', request, this.rateLimit.kind);
        const after = decision.retryAfterMs === undefined ? '' : `, retry after ${decision.retryAfterMs} ms`;
        reply.error('rejected', `${this.node.address}: rate limited (${this.rateLimit.kind}${after})`);
        return;
      }
      if (decision.delayMs > 0) {
        const incarnation = this.node.incarnation;
        this.node.setTimer(decision.delayMs, () => {
          if (this.node.incarnation === incarnation) this.admit(request, reply);
        });
        return;
      }
    }
    this.admit(request, reply);
  }

  private admit(request: RpcRequest, reply: Reply<unknown>): void {
    const now = this.node.network.sim.now;
    const job: Job = { request, reply, enqueuedAt: now, seq: this.seq++, priority: 0 };
    if (this.busyWorkers < this.concurrency) {
      this.start(job);
      return;
    }
    const waiting = this.queueLength;
    if (waiting >= this.queueCapacity) {
      this.meters.rejected.inc();
      this.trace('@dsim.svc.reject', request, 'queue-full');
      reply.error('overloaded', `${this.node.address}: queue full (${this.queueCapacity})`);
      return;
    }
    if (waiting >= this.shedLength) {
      this.shed(job, 'queue-length');
      return;
    }
    if (waiting > 0 && now - this.queue[this.head]!.enqueuedAt >= this.shedDelay) {
      this.shed(job, 'queue-delay');
      return;
    }
    if (waiting === 0) this.lastEmptyAt = now;
    if (this.priority !== undefined) job.priority = this.priority(request);
    this.queue.push(job);
    this.meters.queue.set(this.queueLength);
  }

  private shed(job: Job, reason: string): void {
    this.meters.shed.inc();
    this.trace('@dsim.svc.shed', job.request, reason);
    job.reply.error('overloaded', `${this.node.address}: shed (${reason})`);
  }

  private start(job: Job): void {
    this.busyWorkers++;
    this.meters.busy.set(this.busyWorkers);
    if (this.downstream === undefined) this.compute(job);
    else this.callDownstream(job, this.downstream);
  }

  private compute(job: Job): void {
    // Degraded capacity stretches service time: at factor 0.5 a request takes twice as long.
    let duration = this.serviceTime.sample(this.rng) / this.node.capacity;
    if (this.slowdown !== undefined) duration *= this.slowdownFactor(this.slowdown);
    // Work, not a wall-clock timer: a stop-the-world pause stretches the request in progress.
    this.node.work(duration, () => this.finish(job));
  }

  private slowdownFactor(slowdown: Slowdown): number {
    const load = this.load;
    load.busy = this.busyWorkers;
    load.queue = this.queueLength;
    load.inFlight = load.busy + load.queue;
    load.utilization = load.busy / this.concurrency;
    const factor = slowdown(load as ServiceLoad);
    if (typeof factor !== 'number' || !(factor >= 0) || factor === Infinity)
      throw invalidArgument(`${this.where}: slowdown(load)`, factor, 'a finite number >= 0');
    return factor;
  }

  private finish(job: Job): void {
    const sim = this.node.network.sim;
    this.busyWorkers--;
    this.meters.latency.record(sim.now - job.enqueuedAt);
    if (this.errorRate > 0 && this.rng.next() < this.errorRate) {
      this.meters.failed.inc();
      job.reply.error('error', `${this.node.address}: injected error`);
    } else {
      this.meters.completed.inc();
      job.reply.ok(this.respond(job.request));
    }
    this.next();
    this.meters.busy.set(this.busyWorkers);
  }

  /** Ends a request whose downstream calls failed: an error or a fallback, with no computation. */
  private downstreamFailed(job: Job, spec: Downstream, error: RpcError): void {
    this.busyWorkers--;
    this.meters.latency.record(this.node.network.sim.now - job.enqueuedAt);
    if (spec.fallback !== undefined) {
      this.meters.fallbacks.inc();
      job.reply.ok(spec.fallback(job.request, error));
    } else {
      this.meters.failed.inc();
      const kind = error.kind === 'timeout' ? 'deadline-exceeded' : error.kind;
      job.reply.error(kind, `${this.node.address}: downstream ${error.message}`);
    }
    this.next();
    this.meters.busy.set(this.busyWorkers);
  }

  private callDownstream(job: Job, spec: Downstream): void {
    const incarnation = this.node.incarnation;
    const calls = typeof spec.calls === 'function' ? spec.calls(job.request) : spec.calls;
    if (calls.length === 0) {
      this.compute(job);
      return;
    }
    if (!spec.parallel) {
      const step = (i: number): void => {
        if (i === calls.length) {
          this.compute(job);
          return;
        }
        this.callOne(job, calls[i]!, spec, (error) => {
          if (this.node.incarnation !== incarnation) return;
          if (error !== undefined) this.downstreamFailed(job, spec, error);
          else step(i + 1);
        });
      };
      step(0);
      return;
    }
    let left = calls.length;
    let firstError: RpcError | undefined;
    for (const call of calls) {
      this.callOne(job, call, spec, (error) => {
        if (firstError === undefined && error !== undefined) firstError = error;
        if (--left > 0 || this.node.incarnation !== incarnation) return;
        if (firstError !== undefined) this.downstreamFailed(job, spec, firstError);
        else this.compute(job);
      });
    }
  }

  /** One call: a connection from the pool (if any), the call, the connection back; `done(error?)`. */
  private callOne(job: Job, call: ResolvedCall, spec: Downstream, done: (error?: RpcError) => void): void {
    const send = (): void => {
      const payload = call.hasPayload ? call.payload : job.request.payload;
      const options: { parent: RpcRequest; timeout?: number; deadline?: number } = { parent: job.request };
      if (call.timeout !== undefined) options.timeout = call.timeout;
      if (!spec.propagate) options.deadline = Infinity;
      spec.caller.call(call.to, payload, options).onProcessed((e) => {
        call.pool?.release();
        const res = e.value!;
        done(res.ok ? undefined : (res.error ?? { kind: 'error', message: 'failed' }));
      });
    };
    const pool = call.pool;
    if (pool === undefined) {
      send();
      return;
    }
    pool.acquire().onProcessed((e) => {
      const grant = e.value as PoolGrant;
      if (grant === 'acquired') send();
      else
        done({
          kind: 'unavailable',
          message: `no connection from pool ${pool.name} to ${call.to} (${grant})`,
        });
    });
  }

  private next(): void {
    const now = this.node.network.sim.now;
    while (this.busyWorkers < this.concurrency) {
      const job = this.take(now);
      if (job === undefined) break;
      const waited = now - job.enqueuedAt;
      if (waited > this.queueTimeout || (this.dropExpired && now >= job.request.deadline)) {
        // The caller has given up (or will have): skip the work; the caller's own timeout answers it,
        // unless replyOnDrop says to fail it fast.
        this.meters.expired.inc();
        const timedOut = waited > this.queueTimeout;
        this.trace('@dsim.svc.expire', job.request, timedOut ? 'queue-timeout' : 'deadline');
        if (this.replyOnDrop) {
          if (timedOut)
            job.reply.error('overloaded', `${this.node.address}: waited ${waited} ms in the queue`);
          else job.reply.error('deadline-exceeded', `${this.node.address}: deadline passed in the queue`);
        }
        continue;
      }
      if (this.codelTarget !== Infinity) {
        // Facebook's CoDel: a standing queue (not empty within the last interval) gets the short limit.
        const limit = now - this.lastEmptyAt > this.codelInterval ? this.codelTarget : this.codelInterval;
        if (waited > limit) {
          this.shed(job, 'codel');
          continue;
        }
      }
      this.start(job);
    }
    this.meters.queue.set(this.queueLength);
  }

  private take(now: number): Job | undefined {
    if (this.head >= this.queue.length) return undefined;
    const job = this.pick(now);
    if (this.head >= this.queue.length) this.lastEmptyAt = now;
    return job;
  }

  private pick(now: number): Job {
    const discipline = this.discipline;
    if (
      discipline === 'lifo' ||
      (discipline === 'adaptive-lifo' && now - this.lastEmptyAt > this.lifoInterval)
    )
      return this.queue.pop()!;
    if (discipline === 'priority') {
      let best = this.head;
      for (let i = this.head + 1; i < this.queue.length; i++) {
        const a = this.queue[i]!;
        const b = this.queue[best]!;
        if (a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq)) best = i;
      }
      const job = this.queue[best]!;
      this.queue[best] = this.queue[this.head]!;
      this.queue[this.head] = job;
    }
    const job = this.queue[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return job;
  }

  private trace(type: string, request: RpcRequest, reason: string): void {
    const sim = this.node.network.sim;
    if (sim.tracing)
      sim.emit(type, { service: this.node.address, id: request.id, from: request.from, reason });
  }
}

function optionalMs(value: Duration | undefined, fallback: number, field: string): number {
  if (value === undefined || value === Infinity) return value === Infinity ? Infinity : fallback;
  return toMs(value, field);
}

function resolveShedding(
  spec: Shedding | undefined,
  field: string,
): { length: number; delay: number; codelTarget: number; codelInterval: number } {
  const none = { length: Infinity, delay: Infinity, codelTarget: Infinity, codelInterval: Infinity };
  if (spec === undefined) return none;
  if (spec === null || typeof spec !== 'object')
    throw invalidArgument(field, spec, "{ kind: 'queue-length' | 'queue-delay' | 'codel', ... }");
  switch (spec.kind) {
    case 'queue-length':
      if (!Number.isInteger(spec.max) || spec.max < 0)
        throw invalidArgument(`${field}.max`, spec.max, 'an integer >= 0 (requests waiting)');
      return { ...none, length: spec.max };
    case 'queue-delay':
      return { ...none, delay: toMs(spec.max, `${field}.max`) };
    case 'codel': {
      const target = optionalMs(spec.target, 5, `${field}.target`);
      const interval = optionalMs(spec.interval, 100, `${field}.interval`);
      if (!(target < interval))
        throw invalidArgument(`${field}.target`, spec.target, `a duration below interval (${interval} ms)`);
      return { ...none, codelTarget: target, codelInterval: interval };
    }
    default:
      throw invalidArgument(
        `${field}.kind`,
        (spec as { kind: unknown }).kind,
        '"queue-length", "queue-delay" or "codel"',
      );
  }
}

function resolveDownstream(
  spec: DownstreamSpec | undefined,
  endpoint: RpcEndpoint,
  field: string,
): Downstream | undefined {
  if (spec === undefined) return undefined;
  if (
    spec === null ||
    typeof spec !== 'object' ||
    !((Array.isArray(spec.calls) && spec.calls.length > 0) || typeof spec.calls === 'function')
  )
    throw invalidArgument(
      `${field}.calls`,
      spec?.calls,
      'a non-empty array of addresses or { to, ... } calls, or a function (request) => calls',
    );
  const mode = spec.mode ?? 'sequential';
  if (mode !== 'sequential' && mode !== 'parallel')
    throw invalidArgument(`${field}.mode`, mode, '"sequential" or "parallel"');
  const timeout = spec.timeout === undefined ? undefined : toMs(spec.timeout, `${field}.timeout`);
  const propagate = spec.propagateDeadline ?? true;
  if (typeof propagate !== 'boolean')
    throw invalidArgument(`${field}.propagateDeadline`, spec.propagateDeadline, 'a boolean');
  const onFailure = spec.onFailure ?? 'fail';
  if (onFailure !== 'fail' && onFailure !== 'fallback')
    throw invalidArgument(`${field}.onFailure`, onFailure, '"fail" or "fallback"');
  if (onFailure === 'fallback' && typeof spec.fallback !== 'function')
    throw invalidArgument(
      `${field}.fallback`,
      spec.fallback,
      "a function (request, error) => value for onFailure 'fallback'",
    );
  const resolveCalls = (list: readonly (string | DownstreamCall)[], where: string): ResolvedCall[] =>
    list.map((c, i): ResolvedCall => {
      const call: DownstreamCall = typeof c === 'string' ? { to: c } : c;
      if (call === null || typeof call !== 'object' || typeof call.to !== 'string' || call.to === '')
        throw invalidArgument(`${where}[${i}]`, c, 'an address or { to, payload?, timeout?, pool? }');
      return {
        to: call.to,
        payload: call.payload,
        hasPayload: 'payload' in call,
        timeout: call.timeout === undefined ? timeout : toMs(call.timeout, `${where}[${i}].timeout`),
        pool: call.pool ?? spec.pool,
      };
    });
  const given = spec.calls;
  const calls =
    typeof given === 'function'
      ? (request: RpcRequest): ResolvedCall[] => {
          const list = given(request);
          if (!Array.isArray(list))
            throw invalidArgument(
              `${field}.calls(request)`,
              list,
              'an array of addresses or { to, ... } calls',
            );
          return resolveCalls(list, `${field}.calls(request)`);
        }
      : resolveCalls(given, `${field}.calls`);
  if (spec.client !== undefined && typeof spec.client !== 'function')
    throw invalidArgument(`${field}.client`, spec.client, 'a function (endpoint) => caller');
  const caller: DownstreamCaller = spec.client === undefined ? endpoint : spec.client(endpoint);
  return {
    calls,
    parallel: mode === 'parallel',
    propagate,
    fallback: onFailure === 'fallback' ? spec.fallback : undefined,
    caller,
  };
}

function toDistribution(value: Distribution | Duration, field: string): Distribution {
  if (typeof value === 'object' && value !== null && typeof (value as Distribution).sample === 'function')
    return value as Distribution;
  if (typeof value === 'number' || typeof value === 'string') return constant(toMs(value, field));
  throw invalidArgument(field, value, 'a distribution (e.g. exponential({ mean: 5 })) or a duration');
}
