import {
  constant,
  type Distribution,
  type Duration,
  invalidArgument,
  type NetNode,
  type RandomStream,
  type Reply,
  RpcEndpoint,
  type RpcRequest,
  toMs,
} from '@dsim/core';

/** Order in which queued requests are served. */
export type QueueDiscipline = 'fifo' | 'lifo' | 'priority';

/** Options of {@link Service}. */
export interface ServiceOptions {
  /**
   * Workers: requests served at the same time.
   * @default 1
   */
  concurrency?: number;
  /** Service time per request: a distribution (ms) or a fixed duration. */
  serviceTime: Distribution | Duration;
  /**
   * Queue slots for requests waiting for a worker; a request that finds them full is rejected
   * (`overloaded`).
   * @default Infinity
   */
  queueCapacity?: number;
  /**
   * `fifo`, `lifo` (newest first: keeps latency low for the lucky under overload), or `priority`
   * (lowest `priority(request)` first, FIFO among equals).
   * @default 'fifo'
   */
  discipline?: QueueDiscipline;
  /** For the `priority` discipline: the request's priority (lower is served first). */
  priority?: (request: RpcRequest) => number;
  /**
   * Drop a queued request that waited longer than this, without serving it.
   * @default Infinity (never)
   */
  queueTimeout?: Duration;
  /**
   * Drop a request whose deadline has passed when a worker picks it up: the caller has given up, so
   * serving it is wasted work. Without it a server keeps working on dead requests (the difference between
   * recovering and staying down in a retry storm).
   * @default false
   */
  dropExpired?: boolean;
  /**
   * Probability that a served request fails with an `error` response.
   * @default 0
   */
  errorRate?: number;
  /** The response value. @default the request's payload */
  respond?: (request: RpcRequest) => unknown;
}

interface Job {
  request: RpcRequest;
  reply: Reply<unknown>;
  enqueuedAt: number;
  seq: number;
  priority: number;
}

/**
 * A service on a node: a pool of workers, a bounded queue with a discipline, a service-time
 * distribution, an error rate, and the node's capacity factor (a `degrade` fault of 0.5 doubles service
 * times). Requests arrive through the node's {@link RpcEndpoint}; a full queue answers `overloaded`.
 *
 * It records under the node's address: counters `svc.arrived`, `svc.completed`, `svc.failed`,
 * `svc.rejected`, `svc.expired`; gauges `svc.queue` and `svc.busy`; histogram `svc.latency` (queueing
 * plus service time at the server).
 *
 * @example
 * ```ts
 * const db = new Service(net.addNode('db'), { concurrency: 8, serviceTime: exponential({ mean: 5 }), queueCapacity: 100 });
 * ```
 */
export class Service {
  /** The service's RPC endpoint (for its node's stats). */
  readonly endpoint: RpcEndpoint;
  readonly concurrency: number;
  private busyWorkers = 0;
  private queue: Job[] = [];
  private head = 0;
  private seq = 0;
  private readonly serviceTime: Distribution;
  private readonly rng: RandomStream;
  private readonly queueCapacity: number;
  private readonly discipline: QueueDiscipline;
  private readonly priority: ((request: RpcRequest) => number) | undefined;
  private readonly queueTimeout: number;
  private readonly dropExpired: boolean;
  private readonly errorRate: number;
  private readonly respond: (request: RpcRequest) => unknown;
  private readonly meters;

  constructor(
    readonly node: NetNode<any>,
    options: ServiceOptions,
  ) {
    const where = `service ${node.address}`;
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
    if (!['fifo', 'lifo', 'priority'].includes(this.discipline)) {
      throw invalidArgument(`${where}: discipline`, this.discipline, 'one of "fifo", "lifo", "priority"');
    }
    if (this.discipline === 'priority' && typeof options.priority !== 'function') {
      throw invalidArgument(
        `${where}: priority`,
        options.priority,
        'a function (request) => number for the priority discipline',
      );
    }
    this.priority = options.priority;
    this.queueTimeout =
      options.queueTimeout === undefined ? Infinity : toMs(options.queueTimeout, `${where}: queueTimeout`);
    this.dropExpired = options.dropExpired ?? false;
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
      expired: m.counter(id, 'svc.expired'),
      queue: m.gauge(id, 'svc.queue'),
      busy: m.gauge(id, 'svc.busy'),
      latency: m.histogram(id, 'svc.latency'),
    };
    this.endpoint = new RpcEndpoint(node).serve((request, reply) => this.arrive(request, reply));
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
    const job: Job = { request, reply, enqueuedAt: this.node.network.sim.now, seq: this.seq++, priority: 0 };
    if (this.busyWorkers < this.concurrency) {
      this.start(job);
      return;
    }
    if (this.queueLength >= this.queueCapacity) {
      this.meters.rejected.inc();
      reply.error('overloaded', `${this.node.address}: queue full (${this.queueCapacity})`);
      return;
    }
    if (this.priority !== undefined) job.priority = this.priority(request);
    this.queue.push(job);
    this.meters.queue.set(this.queueLength);
  }

  private start(job: Job): void {
    this.busyWorkers++;
    this.meters.busy.set(this.busyWorkers);
    // Degraded capacity stretches service time: at factor 0.5 a request takes twice as long.
    const duration = this.serviceTime.sample(this.rng) / this.node.capacity;
    const incarnation = this.node.incarnation;
    this.node.setTimer(duration, () => {
      if (this.node.incarnation !== incarnation) return;
      this.finish(job);
    });
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

  private next(): void {
    const now = this.node.network.sim.now;
    while (this.busyWorkers < this.concurrency) {
      const job = this.take();
      if (job === undefined) break;
      const waited = now - job.enqueuedAt;
      if (waited > this.queueTimeout || (this.dropExpired && now >= job.request.deadline)) {
        // The caller has given up (or will have): skip the work; the caller's own timeout answers it.
        this.meters.expired.inc();
        continue;
      }
      this.start(job);
    }
    this.meters.queue.set(this.queueLength);
  }

  private take(): Job | undefined {
    if (this.head >= this.queue.length) return undefined;
    if (this.discipline === 'lifo') return this.queue.pop();
    if (this.discipline === 'priority') {
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
}

function toDistribution(value: Distribution | Duration, field: string): Distribution {
  if (typeof value === 'object' && value !== null && typeof (value as Distribution).sample === 'function')
    return value as Distribution;
  if (typeof value === 'number' || typeof value === 'string') return constant(toMs(value, field));
  throw invalidArgument(field, value, 'a distribution (e.g. exponential({ mean: 5 })) or a duration');
}
