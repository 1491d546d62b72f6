import FastPriorityQueue from 'fastpriorityqueue';
import { assertBoolean, assertFinite, assertInteger, DsimError, invalidArgument } from './errors.js';
import { NORMAL } from './event-queue.js';
import { SimEvent } from './events.js';
import { claimMeters } from './metrics/claim.js';
import type { Gauge } from './metrics/gauge.js';
import type { Histogram } from './metrics/histogram.js';
import { checkOptions, optionKeys } from './options.js';
import type { Process } from './process.js';
import type { Simulation } from './simulation.js';
import { checkCallOptions } from './strict.js';

// ---------------------------------------------------------------------------------------------------------
// Wait queues (shared with store.ts and container.ts)
// ---------------------------------------------------------------------------------------------------------

/** @internal Something that can wait in a {@link FifoQueue}: the queue owns the `_queued` flag. */
export interface Queueable {
  _queued: boolean;
}

/** @internal Something that can wait in a {@link PriorityQueue}: ordered by (`_priority`, `_seq`). */
export interface PriorityQueueable extends Queueable {
  readonly _priority: number;
  readonly _seq: number;
}

/** @internal The operations a resource needs from its queue, whatever the discipline. */
export interface WaitQueue<T extends Queueable> {
  /** Live (not withdrawn) entries. */
  readonly size: number;
  push(entry: T): void;
  peek(): T | undefined;
  shift(): T | undefined;
  /** Withdraws an entry in O(1); the slot is reclaimed lazily. */
  remove(entry: T): void;
}

// Dead entries (withdrawn claims) are dropped lazily; a queue is compacted once it holds more dead entries
// than live ones (and at least this many), which keeps every operation amortised O(1) / O(log n).
const COMPACT_MIN = 64;

/**
 * @internal First-in first-out queue: an array with a head index, O(1) push, shift and withdraw.
 * Withdrawn entries are only marked (`_queued = false`) and skipped; the array is compacted on push.
 */
export class FifoQueue<T extends Queueable> implements WaitQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private live = 0;

  get size(): number {
    return this.live;
  }

  push(entry: T): void {
    const dead = this.items.length - this.head - this.live;
    if (this.head >= COMPACT_MIN && this.head * 2 >= this.items.length) this.compact();
    else if (dead >= COMPACT_MIN && dead > this.live) this.compact();
    entry._queued = true;
    this.items.push(entry);
    this.live++;
  }

  peek(): T | undefined {
    const items = this.items;
    while (this.head < items.length) {
      const entry = items[this.head];
      if (entry?._queued) return entry;
      items[this.head++] = undefined;
    }
    return undefined;
  }

  shift(): T | undefined {
    const entry = this.peek();
    if (entry !== undefined) {
      entry._queued = false;
      this.items[this.head++] = undefined;
      this.live--;
    }
    return entry;
  }

  remove(entry: T): void {
    if (!entry._queued) return;
    entry._queued = false;
    this.live--;
  }

  /**
   * Visits live entries in FIFO order until `visit` returns false. `visit` may `remove()` the entry it is
   * given (never compacts, so the scan stays valid); it must not push.
   */
  scan(visit: (entry: T) => boolean): void {
    const items = this.items;
    for (let i = this.head; i < items.length; i++) {
      const entry = items[i];
      if (entry?._queued && !visit(entry)) return;
    }
  }

  private compact(): void {
    const kept: T[] = [];
    const items = this.items;
    for (let i = this.head; i < items.length; i++) {
      const entry = items[i];
      if (entry?._queued) kept.push(entry);
    }
    this.items = kept;
    this.head = 0;
  }
}

function byPriorityThenSeq(a: PriorityQueueable, b: PriorityQueueable): boolean {
  return a._priority < b._priority || (a._priority === b._priority && a._seq < b._seq);
}

/**
 * @internal Priority queue: a binary heap (fastpriorityqueue) ordered by (priority, seq), so lower numbers
 * come first and ties are FIFO. O(log n) push and shift, O(1) withdraw (lazy, compacted on push).
 */
export class PriorityQueue<T extends PriorityQueueable> implements WaitQueue<T> {
  private readonly heap = new FastPriorityQueue<T>(byPriorityThenSeq);
  private live = 0;

  get size(): number {
    return this.live;
  }

  push(entry: T): void {
    const dead = this.heap.size - this.live;
    if (dead >= COMPACT_MIN && dead > this.live) {
      this.heap.removeMany((e) => !e._queued);
      this.heap.trim();
    }
    entry._queued = true;
    this.heap.add(entry);
    this.live++;
  }

  peek(): T | undefined {
    const heap = this.heap;
    while (heap.size > 0) {
      const entry = heap.peek()!;
      if (entry._queued) return entry;
      heap.poll();
    }
    return undefined;
  }

  shift(): T | undefined {
    const entry = this.peek();
    if (entry !== undefined) {
      this.heap.poll();
      entry._queued = false;
      this.live--;
    }
    return entry;
  }

  remove(entry: T): void {
    if (!entry._queued) return;
    entry._queued = false;
    this.live--;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Resource
// ---------------------------------------------------------------------------------------------------------

/** How a {@link Resource} orders waiting requests. */
export type QueueDiscipline = 'fifo' | 'priority';

/**
 * Where a {@link ResourceRequest} is in its life:
 * - `waiting`: queued for a unit;
 * - `granted`: holds a unit (a user of the resource);
 * - `preempted`: lost its unit to a higher-priority request;
 * - `withdrawn`: its process stopped waiting (interrupt, `within()` deadline), so it left the queue or gave
 *   back the unit it had just been granted;
 * - `released`: `release()` was called on it.
 */
export type ResourceRequestStatus = 'waiting' | 'granted' | 'preempted' | 'withdrawn' | 'released';

const WAITING = 0;
const GRANTED = 1;
const PREEMPTED = 2;
const WITHDRAWN = 3;
const RELEASED = 4;
type Status = typeof WAITING | typeof GRANTED | typeof PREEMPTED | typeof WITHDRAWN | typeof RELEASED;
const STATUS_NAMES: readonly ResourceRequestStatus[] = [
  'waiting',
  'granted',
  'preempted',
  'withdrawn',
  'released',
];

/** Options for {@link Resource}. */
export interface ResourceOptions {
  /**
   * Number of units: how many requests can hold the resource at once. An integer >= 1.
   * @default 1
   */
  capacity?: number;
  /**
   * Name used in traces and errors. Naming a resource also makes it record its metrics in
   * `sim.metrics` under this name: gauges `resource.queue` (waiting requests) and `resource.in-use`
   * (units held) and the histogram `resource.wait` (ms from request to grant, one value per grant).
   * Each named resource of a simulation needs its own name.
   * @default 'resource' (and no metrics)
   */
  name?: string;
  /**
   * Order of waiting requests: `'fifo'` (arrival order) or `'priority'` (lower `priority` first, ties in
   * arrival order).
   * @default 'priority' when `preemptive` is true, else 'fifo'
   */
  discipline?: QueueDiscipline;
  /**
   * When true, a request with a strictly better (lower) priority than the worst current user takes that
   * user's unit: the user's process is interrupted with a {@link Preempted} cause. Requires the `'priority'`
   * discipline.
   * @default false
   */
  preemptive?: boolean;
}

const RESOURCE_KEYS = optionKeys<ResourceOptions>()({
  capacity: true,
  name: true,
  discipline: true,
  preemptive: true,
});

/** Options for {@link Resource.request}. */
export interface RequestOptions {
  /**
   * Lower numbers are served first (and may preempt). Any finite number. Recorded but not used for ordering
   * by a `'fifo'` resource.
   * @default 0
   */
  priority?: number;
  /**
   * Whether this request may preempt a worse user. Only allowed on a preemptive resource.
   * @default true on a preemptive resource, else false
   */
  preempt?: boolean;
}

const REQUEST_KEYS = optionKeys<RequestOptions>()({ priority: true, preempt: true });

/** The metrics of a named resource. */
interface ResourceMeters {
  readonly queue: Gauge;
  readonly inUse: Gauge;
  readonly wait: Histogram;
}

/**
 * The cause of the {@link Interrupt} thrown into a process whose unit was taken by a higher-priority request
 * on a preemptive {@link Resource}. The preempted request is no longer a user; releasing it afterwards is a
 * harmless no-op.
 *
 * @example
 * ```ts
 * try {
 *   yield sim.timeout(job.work);
 * } catch (err) {
 *   if (err instanceof Interrupt && err.cause instanceof Preempted) {
 *     sim.log(`lost the cpu after ${sim.now - err.cause.usageSince} ms`);
 *   } else throw err;
 * } finally {
 *   cpu.release(req); // no-op when preempted
 * }
 * ```
 */
export class Preempted {
  /**
   * @param by - the process whose request took the unit (null if it was made outside a process)
   * @param usageSince - simulated time (ms) at which the preempted request had been granted
   * @param resource - the resource the unit was taken on
   * @param request - the preempted request
   */
  constructor(
    readonly by: Process<any> | null,
    readonly usageSince: number,
    readonly resource: Resource,
    readonly request: ResourceRequest,
  ) {}

  /** A readable description, used for the `cause` of `@dsim.process.interrupt` trace records. */
  toString(): string {
    const by = this.by === null ? 'a request made outside a process' : `process '${this.by.name}'`;
    return `preempted on resource '${this.resource.name}' by ${by} (held since ${this.usageSince} ms)`;
  }
}

/**
 * A claim on one unit of a {@link Resource}, returned by {@link Resource.request}. It is an event that
 * succeeds, with the request itself as value, when the unit is granted. Release it with
 * `resource.release(req)` or `req.release()`.
 *
 * If the process waiting on it stops waiting (it is interrupted, or a `within()` deadline runs out) the
 * request leaves the queue, or gives back the unit if it was granted in that same instant.
 *
 * @example
 * ```ts
 * const req = yield* db.request({ priority: 1 });
 * yield sim.timeout(3);
 * req.release();
 * ```
 */
export class ResourceRequest extends SimEvent<ResourceRequest> implements PriorityQueueable {
  /** The resource this request is for. */
  readonly resource: Resource;
  /** The process that made the request, or null when made outside a process. */
  readonly owner: Process<any> | null;
  /** Priority: lower is served first. */
  readonly priority: number;
  /** Whether this request may preempt a worse user. */
  readonly preempt: boolean;
  /** Simulated time (ms) at which the request was made. */
  readonly requestedAt: number;
  /** @internal */ _queued = false;
  /** @internal */ readonly _priority: number;
  /** @internal */ readonly _seq: number;
  /** @internal */ _status: Status = WAITING;
  /** @internal Index in the resource's users array while granted. */
  _userIndex = -1;
  /** @internal */ _usageSince = Number.NaN;
  /** @internal Grant order, for `users`. */
  _grantSeq = 0;
  /** @internal */ _preempted = false;

  /** @internal Created by {@link Resource.request}. */
  constructor(resource: Resource, priority: number, preempt: boolean, seq: number, sortPriority: number) {
    super(resource.sim);
    this.resource = resource;
    this.owner = resource.sim.activeProcess;
    this.priority = priority;
    this.preempt = preempt;
    this.requestedAt = resource.sim.now;
    this._priority = sortPriority;
    this._seq = seq;
  }

  /** Where the request is in its life: waiting, granted, preempted, withdrawn or released. */
  get status(): ResourceRequestStatus {
    return STATUS_NAMES[this._status]!;
  }

  /** True once the request lost its unit to a higher-priority request. */
  get preempted(): boolean {
    return this._preempted;
  }

  /** Simulated time (ms) at which the unit was granted; undefined while waiting or if never granted. */
  get usageSince(): number | undefined {
    return Number.isNaN(this._usageSince) ? undefined : this._usageSince;
  }

  /** Same as `resource.release(this)`. */
  release(): void {
    this.resource.release(this);
  }

  override _abandon(): void {
    this.resource._abandon(this);
  }

  override _describe(): string {
    const who = this.owner === null ? '' : ` by process '${this.owner.name}'`;
    return `request for resource '${this.resource.name}'${who}`;
  }
}

/**
 * A resource with `capacity` identical units (servers, connections, threads...). A process requests a
 * unit, waits until it is granted, uses it and releases it. Waiting requests are served in arrival order
 * (`'fifo'`) or by priority (`'priority'`, lower first, ties in arrival order). A preemptive resource lets a
 * better request take the unit of the worst current user (SimPy's `PreemptiveResource`).
 *
 * Releasing a unit grants it to the next waiting request at the same simulated time.
 *
 * A resource given a `name` records its queue length, units in use and wait times in `sim.metrics`
 * (see {@link ResourceOptions.name}); recording never schedules events, so it changes neither the run
 * nor its digest. An unnamed resource records nothing.
 *
 * @example
 * ```ts
 * const servers = new Resource(sim, { capacity: 2, name: 'servers' });
 * sim.process(function* () {
 *   const req = yield* servers.request();
 *   yield sim.timeout(5);
 *   servers.release(req);
 * });
 * ```
 */
export class Resource {
  /** The simulation this resource belongs to. */
  readonly sim: Simulation;
  /** Name used in traces and errors. */
  readonly name: string;
  /** Queue discipline of waiting requests. */
  readonly discipline: QueueDiscipline;
  /** Whether better requests can preempt worse users. */
  readonly preemptive: boolean;
  private _capacity: number;
  private readonly queue: WaitQueue<ResourceRequest>;
  // Current users in no particular order (swap-remove keeps release O(1)); `users` sorts a copy.
  private readonly _users: ResourceRequest[] = [];
  private seq = 0;
  private grants = 0;
  private readonly meters: ResourceMeters | null = null;

  /**
   * @param options - capacity, name, discipline, preemptive
   * @default capacity 1, name 'resource', discipline 'fifo' (or 'priority' when preemptive), preemptive false
   */
  constructor(sim: Simulation, options: ResourceOptions = {}) {
    checkOptions('Resource', options, RESOURCE_KEYS);
    const capacity = options.capacity ?? 1;
    assertInteger('capacity', capacity, 1, 'Resource');
    const name = options.name ?? 'resource';
    if (typeof name !== 'string' || name.length === 0)
      throw invalidArgument('name', name, 'a non-empty string', 'Resource');
    const preemptive = options.preemptive ?? false;
    assertBoolean('preemptive', preemptive, 'Resource');
    const discipline = options.discipline ?? (preemptive ? 'priority' : 'fifo');
    if (discipline !== 'fifo' && discipline !== 'priority') {
      throw invalidArgument('discipline', discipline, "'fifo' or 'priority'", 'Resource');
    }
    if (preemptive && discipline !== 'priority') {
      throw invalidArgument(
        'discipline',
        discipline,
        "'priority' (or omitted) when preemptive is true",
        'Resource',
      );
    }
    this.sim = sim;
    this.name = name;
    this.discipline = discipline;
    this.preemptive = preemptive;
    this._capacity = capacity;
    this.queue = discipline === 'priority' ? new PriorityQueue() : new FifoQueue();
    if (options.name !== undefined) {
      const m = sim.metrics;
      this.meters = {
        queue: m.gauge(name, 'resource.queue'),
        inUse: m.gauge(name, 'resource.in-use'),
        wait: m.histogram(name, 'resource.wait'),
      };
      claimMeters('Resource', name, this.meters.queue);
    }
  }

  /** Number of units. Change it with {@link Resource.setCapacity}. */
  get capacity(): number {
    return this._capacity;
  }

  /** Units currently held. May exceed `capacity` for a while after the capacity was lowered. */
  get inUse(): number {
    return this._users.length;
  }

  /** Requests waiting for a unit. */
  get queueLength(): number {
    return this.queue.size;
  }

  /** The granted requests, in the order they were granted (a copy). */
  get users(): readonly ResourceRequest[] {
    return this._users.slice().sort((a, b) => a._grantSeq - b._grantSeq);
  }

  /**
   * Asks for a unit. The returned request is an event: yield it to wait until the unit is granted.
   *
   * @param options - priority (lower first), preempt
   * @default priority 0, preempt = the resource's `preemptive`
   * @example
   * ```ts
   * const req = yield* cpu.request({ priority: 0 }); // may preempt a priority-1 user
   * ```
   */
  request(options?: RequestOptions): ResourceRequest {
    let priority = 0;
    let preempt = this.preemptive;
    if (options !== undefined) {
      checkCallOptions('Resource.request', options, REQUEST_KEYS);
      if (options.priority !== undefined) {
        assertFinite('priority', options.priority, 'Resource.request');
        priority = options.priority;
      }
      if (options.preempt !== undefined) {
        assertBoolean('preempt', options.preempt, 'Resource.request');
        if (options.preempt && !this.preemptive) {
          throw invalidArgument(
            'preempt',
            true,
            `false or omitted: resource '${this.name}' is not preemptive`,
            'Resource.request',
          );
        }
        preempt = options.preempt;
      }
    }
    // FIFO resources keep the priority for the record but order by arrival only.
    const sortPriority = this.discipline === 'priority' ? priority : 0;
    const req = new ResourceRequest(this, priority, preempt, this.seq++, sortPriority);
    const sim = this.sim;
    if (sim.tracing) {
      sim.emit('@dsim.resource.request', {
        resource: this.name,
        process: req.owner?.name ?? null,
        priority,
        queue: this.queue.size,
      });
    }
    if (this.queue.size === 0 && this._users.length < this._capacity) {
      this.grant(req);
    } else {
      this.queue.push(req);
      // SimPy semantics: only the head of the queue may preempt, and only when a request arrives.
      if (preempt && this.queue.peek() === req) this.tryPreempt(req);
    }
    if (this.meters !== null) this.meter(this.meters);
    return req;
  }

  /**
   * Gives back the unit held by `request` (the next waiting request is granted at the same time). On a
   * request still waiting, withdraws it from the queue. On a request that was preempted or withdrawn, does
   * nothing. Releasing the same request twice, or a request of another resource, is an error.
   *
   * @example
   * ```ts
   * const req = yield* pool.request();
   * try {
   *   yield sim.timeout(10);
   * } finally {
   *   pool.release(req);
   * }
   * ```
   */
  release(request: ResourceRequest): void {
    if (!(request instanceof ResourceRequest)) {
      throw invalidArgument('request', request, 'a ResourceRequest returned by resource.request()');
    }
    if (request.resource !== this) {
      throw new DsimError(
        'INVALID_ARGUMENT',
        `request must be a request of resource '${this.name}', got a request of resource '${request.resource.name}'`,
        { simTime: this.sim.now, seed: this.sim.seed, details: { field: 'request', resource: this.name } },
      );
    }
    switch (request._status) {
      case GRANTED:
        request._status = RELEASED;
        this.removeUser(request);
        this.traceRelease(request);
        this.serve();
        if (this.meters !== null) this.meter(this.meters);
        return;
      case WAITING:
        request._status = RELEASED;
        this.queue.remove(request);
        this.traceWithdraw(request);
        if (this.meters !== null) this.meter(this.meters);
        return;
      case RELEASED:
        throw new DsimError(
          'INVALID_STATE',
          `cannot release ${request._describe()}: it was already released`,
          {
            simTime: this.sim.now,
            seed: this.sim.seed,
            details: { field: 'request', resource: this.name },
          },
        );
      default:
        // Preempted or withdrawn: the unit is already back; this is the usual `finally` cleanup.
        request._status = RELEASED;
    }
  }

  /**
   * Changes the number of units (for "degrade capacity" faults). Growing grants waiting requests at once;
   * shrinking lets current users finish, and new grants wait until `inUse` drops below the new capacity.
   *
   * @example
   * ```ts
   * sim.schedule('10s', () => servers.setCapacity(1)); // lose a server
   * ```
   */
  setCapacity(capacity: number): void {
    assertInteger('capacity', capacity, 1, 'Resource.setCapacity');
    this._capacity = capacity;
    this.serve();
    if (this.meters !== null) this.meter(this.meters);
  }

  /** @internal The single process waiting on `request` gave up: withdraw it or give its unit back. */
  _abandon(request: ResourceRequest): void {
    if (request._status === WAITING) {
      request._status = WITHDRAWN;
      this.queue.remove(request);
      this.traceWithdraw(request);
    } else if (request._status === GRANTED) {
      request._status = WITHDRAWN;
      this.removeUser(request);
      this.traceRelease(request);
      this.serve();
    }
    if (this.meters !== null) this.meter(this.meters);
  }

  /** Records the queue length and units in use (named resources only). */
  private meter(meters: ResourceMeters): void {
    meters.queue.set(this.queue.size);
    meters.inUse.set(this._users.length);
  }

  private serve(): void {
    const queue = this.queue;
    while (this._users.length < this._capacity) {
      const next = queue.shift();
      if (next === undefined) return;
      this.grant(next);
    }
  }

  private grant(req: ResourceRequest): void {
    req._status = GRANTED;
    req._usageSince = this.sim.now;
    req._grantSeq = this.grants++;
    req._userIndex = this._users.length;
    this._users.push(req);
    if (this.meters !== null) this.meters.wait.record(this.sim.now - req.requestedAt);
    req._trigger(true, req, NORMAL);
    const sim = this.sim;
    if (sim.tracing) {
      sim.emit('@dsim.resource.grant', {
        resource: this.name,
        process: req.owner?.name ?? null,
        inUse: this._users.length,
        queue: this.queue.size,
      });
    }
  }

  private removeUser(req: ResourceRequest): void {
    const users = this._users;
    const i = req._userIndex;
    const last = users.pop()!;
    if (last !== req) {
      users[i] = last;
      last._userIndex = i;
    }
    req._userIndex = -1;
  }

  /**
   * Frees enough units for `req` by preempting the worst users, if every one of them has a strictly worse
   * (higher) priority. Usually one user; more only after `setCapacity()` left `inUse > capacity`.
   */
  private tryPreempt(req: ResourceRequest): void {
    const needed = this._users.length - this._capacity + 1;
    if (needed <= 0) return;
    // Worst first: highest priority number, then latest request (SimPy's key order).
    const victims = this._users
      .slice()
      .sort((a, b) => b._priority - a._priority || b._seq - a._seq)
      .slice(0, needed);
    for (const victim of victims) if (!(victim._priority > req._priority)) return;
    const sim = this.sim;
    for (const victim of victims) {
      victim._status = PREEMPTED;
      victim._preempted = true;
      this.removeUser(victim);
      if (sim.tracing) {
        sim.emit('@dsim.resource.preempt', {
          resource: this.name,
          process: victim.owner?.name ?? null,
          by: req.owner?.name ?? null,
        });
      }
      const owner = victim.owner;
      // A process cannot interrupt itself (nor a finished one): it sees `victim.preempted` instead.
      if (owner?.isAlive && owner !== sim.activeProcess) {
        owner.interrupt(new Preempted(req.owner, victim._usageSince, this, victim));
      }
    }
    this.serve();
  }

  private traceRelease(req: ResourceRequest): void {
    const sim = this.sim;
    if (sim.tracing) {
      sim.emit('@dsim.resource.release', {
        resource: this.name,
        process: req.owner?.name ?? null,
        inUse: this._users.length,
        queue: this.queue.size,
      });
    }
  }

  private traceWithdraw(req: ResourceRequest): void {
    const sim = this.sim;
    if (sim.tracing) {
      sim.emit('@dsim.resource.withdraw', {
        resource: this.name,
        process: req.owner?.name ?? null,
        queue: this.queue.size,
      });
    }
  }
}
