import {
  type Distribution,
  DsimError,
  invalidArgument,
  type NetNode,
  type RandomStream,
  type Reply,
  RpcEndpoint,
  type RpcError,
  type RpcErrorKind,
  type RpcRequest,
} from '@dsim/core';
import type { RateLimiter } from '../resilience/rate-limiters/types.js';
import type { PoolGrant } from './connection-pool.js';
import {
  type ResolvedCall,
  type ResolvedDownstream,
  resolveDownstream,
  resolveService,
} from './service-config.js';
import type { DownstreamSpec, QueueDiscipline, ServiceOptions } from './service-options.js';
import type { ServiceLoad, Slowdown } from './slowdown.js';

interface Job {
  request: RpcRequest;
  reply: Reply<unknown>;
  enqueuedAt: number;
  seq: number;
  priority: number;
}

/** A job's downstream calls in progress: parallel ones count down to the last answer, sequential ones step. */
class DownstreamRun {
  /** Parallel calls still waiting. */
  left: number;
  /** Index of the sequential call in flight. */
  next = 0;
  firstError: RpcError | undefined = undefined;
  firstBound = false;
  constructor(
    readonly job: Job,
    readonly spec: ResolvedDownstream,
    readonly calls: readonly ResolvedCall[],
    /** The node's incarnation when the run began: answers after a crash are dropped. */
    readonly incarnation: number,
  ) {
    this.left = calls.length;
  }
}

/** One downstream call of a run, handed back with its answer. */
class DownstreamLeg {
  constructor(
    readonly run: DownstreamRun,
    readonly call: ResolvedCall,
  ) {}
}

/** What a downstream answer carries that a service reads (an {@link RpcResponse}, or a client's). */
interface DownstreamAnswer {
  readonly ok: boolean;
  readonly error?: RpcError;
  readonly request?: RpcRequest | undefined;
}

/** What a queue slot holds once its job was taken (same shape as a job, so the array stays monomorphic). */
const TAKEN: Job = Object.freeze({
  request: undefined as unknown as RpcRequest,
  reply: undefined as unknown as Reply<unknown>,
  enqueuedAt: 0,
  seq: -1,
  priority: 0,
}) as Job;

/**
 * A service on a node: a pool of workers, a bounded queue with a discipline, a service-time
 * distribution, load-dependent latency, load shedding, downstream calls through connection pools, an
 * error rate, and the node's capacity factor (a `degrade` fault of 0.5 doubles service times). Requests
 * arrive through the node's {@link RpcEndpoint}; a full queue answers `overloaded`.
 *
 * A worker handles one request at a time: first its downstream calls (holding the worker while it
 * waits), then its own computation (`serviceTime` × `slowdown(load)` / capacity), then the reply. A
 * downstream call that times out is answered `gateway-timeout` (HTTP 504), or `deadline-exceeded` when the
 * request's own deadline ran out (see {@link DownstreamSpec.onFailure}).
 *
 * Every option is checked at construction ({@link ServiceOptions}): a misspelt key is an error with a
 * "did you mean", not a silently different model.
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
  private readonly downstream: ResolvedDownstream | undefined;
  private readonly errorRate: number;
  private readonly respond: (request: RpcRequest) => unknown;
  private readonly where: string;
  private readonly meters;
  /** Ends a job's computation: one function for every job, so a computation allocates no closure. */
  private readonly finishJob = (job: Job): void => this.finish(job);
  /** Takes every downstream answer from the service's own endpoint: one function, no closure per call. */
  private readonly callAnswered = (res: DownstreamAnswer, leg: DownstreamLeg): void =>
    this.answered(res, leg);

  constructor(
    readonly node: NetNode<any>,
    options: ServiceOptions,
  ) {
    this.where = `Service ${node.address}`;
    // Every option is checked here, once: nothing below re-validates per request.
    const config = resolveService(options);
    this.concurrency = config.concurrency;
    this.serviceTime = config.serviceTime;
    this.queueCapacity = config.queueCapacity;
    this.discipline = config.discipline;
    this.priority = config.priority;
    this.lifoInterval = config.lifoInterval;
    this.queueTimeout = config.queueTimeout;
    this.dropExpired = config.dropExpired;
    this.replyOnDrop = config.replyOnDrop;
    this.shedLength = config.shedLength;
    this.shedDelay = config.shedDelay;
    this.codelTarget = config.codelTarget;
    this.codelInterval = config.codelInterval;
    this.slowdown = config.slowdown;
    this.rateLimit = config.rateLimit;
    this.errorRate = config.errorRate;
    this.respond = config.respond;
    this.load.concurrency = this.concurrency;
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
    this.downstream = resolveDownstream(options.downstream, this.endpoint);
    // A crash loses the queue and the work in progress: nobody will answer those requests.
    node.onCrash(() => {
      this.queue = [];
      this.head = 0;
      this.busyWorkers = 0;
      this.meters.queue._set(0);
      this.meters.busy._set(0);
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
    this.meters.arrived._inc(1);
    if (this.rateLimit !== undefined) {
      const decision = this.rateLimit.tryAcquire(this.node.network.sim.now);
      if (!decision.allowed) {
        this.meters.throttled._inc(1);
        this.trace('@dsim.svc.throttle', request, this.rateLimit.kind);
        const after = decision.retryAfterMs === undefined ? '' : `, retry after ${decision.retryAfterMs} ms`;
        // The limiter's retry-after travels with the 429, as HTTP's Retry-After header does.
        reply.error(
          'rejected',
          `${this.node.address}: rate limited (${this.rateLimit.kind}${after})`,
          decision.retryAfterMs === undefined ? undefined : { retryAfter: decision.retryAfterMs },
        );
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
      this.meters.rejected._inc(1);
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
    this.meters.queue._set(this.queueLength);
  }

  private shed(job: Job, reason: string): void {
    this.meters.shed._inc(1);
    this.trace('@dsim.svc.shed', job.request, reason);
    job.reply.error('overloaded', `${this.node.address}: shed (${reason})`);
  }

  private start(job: Job): void {
    this.busyWorkers++;
    this.meters.busy._set(this.busyWorkers);
    if (this.downstream === undefined) this.compute(job);
    else this.callDownstream(job, this.downstream);
  }

  private compute(job: Job): void {
    // Degraded capacity stretches service time: at factor 0.5 a request takes twice as long.
    const sampled = this.serviceTime.sample(this.rng);
    // One comparison on the hot path; NaN fails it too.
    if (!(sampled >= 0)) this.negativeServiceTime(sampled);
    let duration = sampled / this.node.capacity;
    if (this.slowdown !== undefined) duration *= this.slowdownFactor(this.slowdown);
    // Work, not a wall-clock timer: a stop-the-world pause stretches the request in progress.
    this.node._workWith(duration, this.finishJob, job);
  }

  private negativeServiceTime(sampled: number): never {
    const sim = this.node.network.sim;
    throw new DsimError(
      'INVALID_DURATION',
      `Service '${this.node.address}': serviceTime sampled ${sampled} ms from ${this.serviceTime.describe()}; service times must be >= 0 (work cannot end before it starts): use a non-negative distribution (lognormal, gamma, exponential) or truncate(dist, { min: 0 })`,
      {
        simTime: sim.now,
        seed: sim.seed,
        details: { component: 'Service', field: 'serviceTime', value: sampled, node: this.node.address },
      },
    );
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
    this.meters.latency._record(sim.now - job.enqueuedAt);
    if (this.errorRate > 0 && this.rng.next() < this.errorRate) {
      this.meters.failed._inc(1);
      job.reply.error('error', `${this.node.address}: injected error`);
    } else {
      this.meters.completed._inc(1);
      job.reply.ok(this.respond(job.request));
    }
    this.next();
    this.meters.busy._set(this.busyWorkers);
  }

  /**
   * Ends a request whose downstream calls failed: an error or a fallback, with no computation.
   * `deadlineBound` says the failed call carried this request's own deadline (see {@link answerKind}).
   */
  private downstreamFailed(
    job: Job,
    spec: ResolvedDownstream,
    error: RpcError,
    deadlineBound: boolean,
  ): void {
    this.busyWorkers--;
    this.meters.latency._record(this.node.network.sim.now - job.enqueuedAt);
    if (spec.fallback !== undefined) {
      this.meters.fallbacks._inc(1);
      job.reply.ok(spec.fallback(job.request, error));
    } else {
      this.meters.failed._inc(1);
      const kind = this.answerKind(job, error.kind, deadlineBound);
      job.reply.error(kind, `${this.node.address}: downstream ${error.message}`);
    }
    this.next();
    this.meters.busy._set(this.busyWorkers);
  }

  /**
   * What the caller is told when a downstream call failed with `kind`. A `timeout` is the call's own
   * timer: it becomes `deadline-exceeded` when the request's own (propagated) deadline is what ran out,
   * because then no retry can succeed in time; otherwise the dependency was too slow for this service's
   * per-call timeout, a gateway timeout (HTTP 504) the caller may retry. Other kinds pass through.
   */
  private answerKind(job: Job, kind: RpcErrorKind, deadlineBound: boolean): Exclude<RpcErrorKind, 'timeout'> {
    if (kind !== 'timeout') return kind;
    const deadline = job.request.deadline;
    // An infinite deadline never runs out, whatever the call carried.
    const expired = deadline !== Infinity && (deadlineBound || this.node.network.sim.now >= deadline);
    return expired ? 'deadline-exceeded' : 'gateway-timeout';
  }

  private callDownstream(job: Job, spec: ResolvedDownstream): void {
    const calls = typeof spec.calls === 'function' ? spec.calls(job.request) : spec.calls;
    if (calls.length === 0) {
      this.compute(job);
      return;
    }
    const run = new DownstreamRun(job, spec, calls, this.node.incarnation);
    if (!spec.parallel) {
      this.callOne(run, calls[0]!);
      return;
    }
    for (let i = 0; i < calls.length; i++) this.callOne(run, calls[i]!);
  }

  /**
   * One call of `run` ended (`error` undefined on success; `deadlineBound` says the call's deadline was
   * the request's own: it timed out because the propagated deadline passed, not its own timeout). In
   * parallel mode the last answer decides, with the first error; in sequence an error ends the run.
   */
  private callEnded(run: DownstreamRun, error: RpcError | undefined, deadlineBound: boolean): void {
    if (run.spec.parallel) {
      if (run.firstError === undefined && error !== undefined) {
        run.firstError = error;
        run.firstBound = deadlineBound;
      }
      if (--run.left > 0 || this.node.incarnation !== run.incarnation) return;
      if (run.firstError !== undefined)
        this.downstreamFailed(run.job, run.spec, run.firstError, run.firstBound);
      else this.compute(run.job);
      return;
    }
    if (this.node.incarnation !== run.incarnation) return;
    if (error !== undefined) this.downstreamFailed(run.job, run.spec, error, deadlineBound);
    else if (++run.next === run.calls.length) this.compute(run.job);
    else this.callOne(run, run.calls[run.next]!);
  }

  /** One call: a connection from the pool (if any), the call, the connection back. */
  private callOne(run: DownstreamRun, call: ResolvedCall): void {
    const pool = call.pool;
    if (pool === undefined) {
      this.send(run, call);
      return;
    }
    pool.acquire().onProcessed((e) => {
      const grant = e.value as PoolGrant;
      if (grant === 'acquired') this.send(run, call);
      else
        this.callEnded(
          run,
          {
            kind: 'unavailable',
            message: `no connection from pool ${pool.name} to ${call.to} (${grant})`,
          },
          false,
        );
    });
  }

  /** Makes the call (a connection, if pooled, is held); its answer goes to {@link Service.answered}. */
  private send(run: DownstreamRun, call: ResolvedCall): void {
    const job = run.job;
    const spec = run.spec;
    const payload = call.hasPayload ? call.payload : job.request.payload;
    const caller = spec.caller;
    const leg = new DownstreamLeg(run, call);
    if (caller === this.endpoint) {
      // The service's own endpoint: no options object or closure per call.
      this.endpoint._callUnder(
        call.to,
        payload,
        job.request,
        call.timeout ?? Infinity,
        spec.propagate,
        this.callAnswered,
        leg,
      );
      return;
    }
    const options: { parent: RpcRequest; timeout?: number; deadline?: number } = { parent: job.request };
    if (call.timeout !== undefined) options.timeout = call.timeout;
    if (!spec.propagate) options.deadline = Infinity;
    // A client with callThen answers in the response's event; one without, through its event.
    if (typeof caller.callThen === 'function')
      caller.callThen(call.to, payload, options, (res) => this.answered(res, leg));
    else caller.call(call.to, payload, options).onProcessed((e) => this.answered(e.value!, leg));
  }

  /** A downstream call's answer: the connection back to its pool, then the run goes on. */
  private answered(res: DownstreamAnswer, leg: DownstreamLeg): void {
    leg.call.pool?.release();
    if (res.ok) {
      this.callEnded(leg.run, undefined, false);
      return;
    }
    const sent = res.request;
    this.callEnded(
      leg.run,
      res.error ?? { kind: 'error', message: 'failed' },
      sent !== undefined && sent.deadline >= leg.run.job.request.deadline,
    );
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
        this.meters.expired._inc(1);
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
    this.meters.queue._set(this.queueLength);
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
    const job = this.queue[this.head]!;
    // Let go of the job now: a taken job kept in the array until compaction would outlive young GCs.
    this.queue[this.head++] = TAKEN;
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
