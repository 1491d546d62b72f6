import FastPriorityQueue from 'fastpriorityqueue';
import { invalidArgument } from './errors.js';
import { NORMAL } from './event-queue.js';
import { SimEvent } from './events.js';
import { claimMeters } from './metrics/claim.js';
import type { Gauge } from './metrics/gauge.js';
import type { Histogram } from './metrics/histogram.js';
import { checkOptions, optionKeys } from './options.js';
import type { Process } from './process.js';
import { FifoQueue, type Queueable } from './resource.js';
import type { Simulation } from './simulation.js';

// ---------------------------------------------------------------------------------------------------------
// Item buffers: FIFO (array + head) and priority (heap keyed by (priority, seq))
// ---------------------------------------------------------------------------------------------------------

// Returned by a buffer when no stored item matches a filter (items themselves may be undefined).
const NONE: unique symbol = Symbol('none');

// Every stored item gets a sequence number, so an item taken by a get that was then abandoned can be put
// back exactly where it was, and an abandoned put can find its item again.
interface ItemBuffer<T> {
  readonly size: number;
  /** Sequence number and priority key of the item last taken. */
  lastSeq: number;
  lastKey: number;
  add(item: T, seq: number, key: number): void;
  /** Takes the item `get()` would return; the buffer must not be empty. */
  takeFirst(): T;
  /** Takes the first item (in get order) that matches, or returns NONE. */
  takeMatching(filter: (item: T) => boolean): T | typeof NONE;
  /** Puts a taken item back in its original place. */
  restore(item: T, seq: number, key: number): void;
  /** Removes the item with this sequence number if it is still stored. */
  removeSeq(seq: number): boolean;
  toArray(): T[];
}

const COMPACT_MIN = 64;

class FifoBuffer<T> implements ItemBuffer<T> {
  // Slots before `head` are dead (cleared for GC); seqs are increasing, so lookups by seq bisect.
  private items: unknown[] = [];
  private seqs: number[] = [];
  private head = 0;
  lastSeq = 0;
  lastKey = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  add(item: T, seq: number): void {
    this.items.push(item);
    this.seqs.push(seq);
  }

  takeFirst(): T {
    return this.takeAt(this.head);
  }

  takeMatching(filter: (item: T) => boolean): T | typeof NONE {
    const items = this.items;
    for (let i = this.head; i < items.length; i++) if (filter(items[i] as T)) return this.takeAt(i);
    return NONE;
  }

  restore(item: T, seq: number): void {
    const i = this.lowerBound(seq);
    if (i === this.head && this.head > 0) {
      this.head--;
      this.items[this.head] = item;
      this.seqs[this.head] = seq;
    } else {
      this.items.splice(i, 0, item);
      this.seqs.splice(i, 0, seq);
    }
  }

  removeSeq(seq: number): boolean {
    const i = this.lowerBound(seq);
    if (i >= this.seqs.length || this.seqs[i] !== seq) return false;
    this.takeAt(i);
    return true;
  }

  toArray(): T[] {
    return this.items.slice(this.head) as T[];
  }

  private takeAt(i: number): T {
    const items = this.items;
    const item = items[i] as T;
    this.lastSeq = this.seqs[i]!;
    if (i !== this.head) {
      items.splice(i, 1);
      this.seqs.splice(i, 1);
      return item;
    }
    items[i] = undefined;
    this.head++;
    if (this.head === items.length) {
      this.items = [];
      this.seqs = [];
      this.head = 0;
    } else if (this.head >= COMPACT_MIN && this.head * 2 >= items.length) {
      this.items = items.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  private lowerBound(seq: number): number {
    let lo = this.head;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

interface Entry<T> {
  readonly item: T;
  readonly key: number;
  readonly seq: number;
}

function entryBefore(a: Entry<unknown>, b: Entry<unknown>): boolean {
  return a.key < b.key || (a.key === b.key && a.seq < b.seq);
}

class PriorityBuffer<T> implements ItemBuffer<T> {
  private readonly heap = new FastPriorityQueue<Entry<T>>(entryBefore);
  lastSeq = 0;
  lastKey = 0;

  get size(): number {
    return this.heap.size;
  }

  add(item: T, seq: number, key: number): void {
    this.heap.add({ item, key, seq });
  }

  takeFirst(): T {
    return this.took(this.heap.poll()!);
  }

  takeMatching(filter: (item: T) => boolean): T | typeof NONE {
    // O(n): `removeOne` is the public way to visit every heap entry; the callback never removes.
    let best: Entry<T> | undefined;
    this.heap.removeOne((e) => {
      if ((best === undefined || entryBefore(e, best)) && filter(e.item)) best = e;
      return false;
    });
    const found = best as Entry<T> | undefined;
    if (found === undefined) return NONE;
    this.heap.removeOne((e) => e === found);
    return this.took(found);
  }

  restore(item: T, seq: number, key: number): void {
    this.heap.add({ item, key, seq });
  }

  removeSeq(seq: number): boolean {
    return this.heap.removeOne((e) => e.seq === seq) !== undefined;
  }

  toArray(): T[] {
    const out: T[] = [];
    this.heap.forEach((e) => {
      out.push(e.item);
    });
    return out;
  }

  private took(entry: Entry<T>): T {
    this.lastSeq = entry.seq;
    this.lastKey = entry.key;
    return entry.item;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------------------------------------

const WAITING = 0;
const DONE = 1;
const WITHDRAWN = 2;
type ClaimStatus = typeof WAITING | typeof DONE | typeof WITHDRAWN;

/** Options for {@link Store}. */
export interface StoreOptions<T> {
  /**
   * Most items the store holds; `put()` waits while it is full. An integer >= 1, or Infinity.
   * @default Infinity
   */
  capacity?: number;
  /**
   * Name used in traces and errors. Naming a store also makes it record its metrics in `sim.metrics`
   * under this name: gauges `store.size` (items held), `store.get-queue` and `store.put-queue` (waiting
   * gets and puts) and histograms `store.get-wait` and `store.put-wait` (ms from `get()` / `put()` to
   * being served, one value per served claim). Each named store of a simulation needs its own name.
   * @default 'store' (and no metrics)
   */
  name?: string;
  /**
   * Makes a priority store: `get()` returns the item with the lowest `priority(item)` (ties in put order).
   * Called once per item, at `put()`; must return a finite number.
   * @default none (items come out in put order)
   */
  priority?: (item: T) => number;
}

const STORE_KEYS = optionKeys<StoreOptions<unknown>>()({ capacity: true, name: true, priority: true });

/** @internal The metrics of a named store or container. */
export interface QueueMeters {
  readonly level: Gauge;
  readonly getQueue: Gauge;
  readonly putQueue: Gauge;
  readonly getWait: Histogram;
  readonly putWait: Histogram;
}

/** Options for {@link PriorityStore}: `priority` is required. */
export interface PriorityStoreOptions<T> extends StoreOptions<T> {
  /** Lower values are returned first; ties in put order. Called once per item, at `put()`. */
  priority: (item: T) => number;
}

/**
 * A pending or completed `store.put(item)`: an event that succeeds once the item is stored. If the process
 * waiting on it gives up (interrupt, `within()` deadline), a waiting put is withdrawn, and a put completed in
 * that same instant takes its item back out if it is still stored.
 *
 * @example
 * ```ts
 * yield* queue.put(job); // waits while the store is full
 * ```
 */
export class StorePut<T> extends SimEvent<void> implements Queueable {
  /** The store the item goes into. */
  readonly store: Store<T>;
  /** The item. */
  readonly item: T;
  /** The process that called `put()`, or null outside a process. */
  readonly owner: Process<any> | null;
  /** @internal */ _queued = false;
  /** @internal */ _status: ClaimStatus = WAITING;
  /** @internal Priority key of the item (0 in a FIFO store). */
  readonly _key: number;
  /** @internal Sequence number of the item once stored. */
  _itemSeq = -1;
  /** @internal When `put()` was called. */
  readonly _at: number;

  /** @internal Created by {@link Store.put}. */
  constructor(store: Store<T>, item: T, key: number) {
    super(store.sim);
    this.store = store;
    this.item = item;
    this._key = key;
    this.owner = store.sim.activeProcess;
    this._at = store.sim.now;
  }

  override _abandon(): void {
    this.store._abandonPut(this);
  }

  override _describe(): string {
    return `put on store '${this.store.name}'`;
  }
}

/**
 * A pending or completed `store.get(filter?)`: an event that succeeds with the item. If the process
 * waiting on it gives up (interrupt, `within()` deadline), a waiting get is withdrawn, and a get that took an
 * item in that same instant puts it back where it was.
 *
 * @example
 * ```ts
 * const job = yield* queue.get((j) => j.kind === 'email');
 * ```
 */
export class StoreGet<T> extends SimEvent<T> implements Queueable {
  /** The store the item comes from. */
  readonly store: Store<T>;
  /** The filter the item must match, or null for any item. */
  readonly filter: ((item: T) => boolean) | null;
  /** The process that called `get()`, or null outside a process. */
  readonly owner: Process<any> | null;
  /** @internal */ _queued = false;
  /** @internal */ _status: ClaimStatus = WAITING;
  /** @internal Sequence number and key of the item taken, to put it back. */
  _itemSeq = -1;
  /** @internal */ _itemKey = 0;
  /** @internal When `get()` was called. */
  readonly _at: number;

  /** @internal Created by {@link Store.get}. */
  constructor(store: Store<T>, filter: ((item: T) => boolean) | null) {
    super(store.sim);
    this.store = store;
    this.filter = filter;
    this.owner = store.sim.activeProcess;
    this._at = store.sim.now;
  }

  override _abandon(): void {
    this.store._abandonGet(this);
  }

  override _describe(): string {
    return `get on store '${this.store.name}'`;
  }
}

/**
 * A store of items (messages, jobs, packets): `put(item)` adds one, waiting while the store is full;
 * `get()` takes the oldest, waiting while it is empty. Waiting puts and gets are served in FIFO order.
 *
 * `get(filter)` takes the oldest item that matches; while none does, it waits and is served when a matching
 * item arrives. Getters with filters never block the getters behind them: each arriving item goes to the
 * first waiting getter (in arrival order) that accepts it.
 *
 * With the `priority` option (or {@link PriorityStore}) `get()` returns the item with the lowest priority
 * value instead, ties in put order.
 *
 * When a process gives up a get in the very instant it took an item (an interrupt, a `within()` deadline),
 * the item goes back in its place, so `size` may briefly exceed `capacity`; puts wait until it is below again.
 *
 * A store given a `name` records its size, waiting claims and wait times in `sim.metrics` (see
 * {@link StoreOptions.name}); an unnamed store records nothing.
 *
 * @example
 * ```ts
 * const inbox = new Store<string>(sim, { capacity: 10, name: 'inbox' });
 * sim.process(function* () {
 *   yield* inbox.put('hello');
 * });
 * sim.process(function* () {
 *   const msg = yield* inbox.get(); // 'hello'
 * });
 * ```
 */
export class Store<T> {
  /** The simulation this store belongs to. */
  readonly sim: Simulation;
  /** Name used in traces and errors. */
  readonly name: string;
  /** Most items held before `put()` waits. */
  readonly capacity: number;
  private readonly buffer: ItemBuffer<T>;
  private readonly priorityOf: ((item: T) => number) | null;
  private readonly getters = new FifoQueue<StoreGet<T>>();
  private readonly putters = new FifoQueue<StorePut<T>>();
  // Waiting getters that have a filter; with none, serving is a plain head-to-head match.
  private filtered = 0;
  private itemSeq = 0;
  private readonly meters: QueueMeters | null = null;

  /**
   * @param options - capacity, name, priority
   * @default capacity Infinity, name 'store', FIFO order
   */
  constructor(sim: Simulation, options: StoreOptions<T> = {}) {
    checkOptions('Store', options, STORE_KEYS);
    const capacity = options.capacity ?? Infinity;
    if (capacity !== Infinity && !(Number.isInteger(capacity) && capacity >= 1)) {
      throw invalidArgument('capacity', capacity, 'an integer >= 1 or Infinity', 'Store');
    }
    const name = options.name ?? 'store';
    if (typeof name !== 'string' || name.length === 0)
      throw invalidArgument('name', name, 'a non-empty string', 'Store');
    const priority = options.priority;
    if (priority !== undefined && typeof priority !== 'function') {
      throw invalidArgument('priority', priority, 'a function (item) => number', 'Store');
    }
    this.sim = sim;
    this.name = name;
    this.capacity = capacity;
    this.priorityOf = priority ?? null;
    this.buffer = priority === undefined ? new FifoBuffer<T>() : new PriorityBuffer<T>();
    if (options.name !== undefined) {
      this.meters = queueMeters(sim, 'Store', 'store', name, 'size');
    }
  }

  /** Items currently stored. */
  get size(): number {
    return this.buffer.size;
  }

  /** A copy of the stored items, in the order `get()` would return them. */
  get items(): T[] {
    return this.buffer.toArray();
  }

  /** Gets waiting for an item. */
  get getQueueLength(): number {
    return this.getters.size;
  }

  /** Puts waiting for room. */
  get putQueueLength(): number {
    return this.putters.size;
  }

  /**
   * Adds an item. The returned event succeeds once the item is stored: at once if there is room, else when
   * a get makes room (waiting puts are served in FIFO order).
   *
   * @example
   * ```ts
   * yield* store.put({ id: 1 });
   * ```
   */
  put(item: T): StorePut<T> {
    let key = 0;
    if (this.priorityOf !== null) {
      key = this.priorityOf(item);
      if (typeof key !== 'number' || !Number.isFinite(key)) {
        throw invalidArgument(`priority(item) of store '${this.name}'`, key, 'a finite number');
      }
    }
    const put = new StorePut(this, item, key);
    if (this.putters.size === 0 && this.buffer.size < this.capacity) {
      this.store(put);
      this.settle();
    } else {
      this.putters.push(put);
    }
    if (this.meters !== null) this.meter(this.meters);
    return put;
  }

  /**
   * Takes an item: the oldest (or, in a priority store, the lowest-priority) one, or with `filter` the first
   * such item that matches. The returned event succeeds with the item: at once if one is available, else
   * when a suitable item arrives.
   *
   * @param filter - only take an item for which it returns true
   * @default filter none (any item)
   * @example
   * ```ts
   * const any = yield* store.get();
   * const big = yield* store.get((order) => order.total > 100);
   * ```
   */
  get(filter?: (item: T) => boolean): StoreGet<T> {
    if (filter !== undefined && typeof filter !== 'function') {
      throw invalidArgument('filter', filter, 'a function (item) => boolean');
    }
    const get = new StoreGet(this, filter ?? null);
    // Waiting getters match no stored item (they would have been served), so taking one now is fair.
    if (this.buffer.size > 0) {
      const item = filter === undefined ? this.buffer.takeFirst() : this.buffer.takeMatching(filter);
      if (item !== NONE) {
        this.deliver(get, item);
        this.settle();
        if (this.meters !== null) this.meter(this.meters);
        return get;
      }
    }
    this.getters.push(get);
    if (filter !== undefined) this.filtered++;
    if (this.meters !== null) this.meter(this.meters);
    return get;
  }

  /** @internal The process waiting on `get` gave up: withdraw it or put its item back. */
  _abandonGet(get: StoreGet<T>): void {
    if (get._status === WAITING) {
      this.getters.remove(get);
      if (get.filter !== null) this.filtered--;
      get._status = WITHDRAWN;
      this.traceWithdraw('get', get.owner);
    } else if (get._status === DONE) {
      this.buffer.restore(get._value as T, get._itemSeq, get._itemKey);
      get._status = WITHDRAWN;
      this.traceWithdraw('get', get.owner);
      // Another waiting getter may want the item.
      this.settle();
    }
    if (this.meters !== null) this.meter(this.meters);
  }

  /** @internal The process waiting on `put` gave up: withdraw it, or take its item back if still stored. */
  _abandonPut(put: StorePut<T>): void {
    if (put._status === WAITING) {
      this.putters.remove(put);
      put._status = WITHDRAWN;
      this.traceWithdraw('put', put.owner);
    } else if (put._status === DONE) {
      put._status = WITHDRAWN;
      this.traceWithdraw('put', put.owner);
      // If a get already took the item in this same instant, the put stands.
      if (this.buffer.removeSeq(put._itemSeq)) this.settle();
    }
    if (this.meters !== null) this.meter(this.meters);
  }

  /** Records the size and the waiting claims (named stores only). */
  private meter(meters: QueueMeters): void {
    meters.level.set(this.buffer.size);
    meters.getQueue.set(this.getters.size);
    meters.putQueue.set(this.putters.size);
  }

  /** Serves gets and puts until neither can progress. */
  private settle(): void {
    do this.serveGets();
    while (this.servePuts());
  }

  private serveGets(): void {
    const buffer = this.buffer;
    const getters = this.getters;
    if (getters.size === 0 || buffer.size === 0) return;
    if (this.filtered === 0) {
      while (buffer.size > 0) {
        const get = getters.shift();
        if (get === undefined) return;
        this.deliver(get, buffer.takeFirst());
      }
      return;
    }
    getters.scan((get) => {
      const item = get.filter === null ? buffer.takeFirst() : buffer.takeMatching(get.filter);
      if (item !== NONE) {
        getters.remove(get);
        if (get.filter !== null) this.filtered--;
        this.deliver(get, item);
      }
      return buffer.size > 0;
    });
  }

  private servePuts(): boolean {
    let stored = false;
    while (this.buffer.size < this.capacity) {
      const put = this.putters.shift();
      if (put === undefined) break;
      this.store(put);
      stored = true;
    }
    return stored;
  }

  private store(put: StorePut<T>): void {
    const seq = this.itemSeq++;
    this.buffer.add(put.item, seq, put._key);
    put._itemSeq = seq;
    put._status = DONE;
    if (this.meters !== null) this.meters.putWait.record(this.sim.now - put._at);
    put._trigger(true, undefined, NORMAL);
    const sim = this.sim;
    if (sim.tracing) {
      sim.emit('@dsim.store.put', {
        store: this.name,
        process: put.owner?.name ?? null,
        size: this.buffer.size,
        queue: this.putters.size,
      });
    }
  }

  private deliver(get: StoreGet<T>, item: T): void {
    get._itemSeq = this.buffer.lastSeq;
    get._itemKey = this.buffer.lastKey;
    get._status = DONE;
    if (this.meters !== null) this.meters.getWait.record(this.sim.now - get._at);
    get._trigger(true, item, NORMAL);
    const sim = this.sim;
    if (sim.tracing) {
      sim.emit('@dsim.store.get', {
        store: this.name,
        process: get.owner?.name ?? null,
        size: this.buffer.size,
        queue: this.getters.size,
      });
    }
  }

  private traceWithdraw(op: 'put' | 'get', owner: Process<any> | null): void {
    const sim = this.sim;
    if (sim.tracing) sim.emit('@dsim.store.withdraw', { store: this.name, process: owner?.name ?? null, op });
  }
}

/**
 * A {@link Store} whose `get()` returns the item with the lowest `priority(item)` (ties in put order).
 * Same as `new Store(sim, { priority })`.
 *
 * @example
 * ```ts
 * const jobs = new PriorityStore<{ urgency: number }>(sim, { priority: (j) => j.urgency });
 * jobs.put({ urgency: 5 });
 * jobs.put({ urgency: 1 });
 * const first = yield* jobs.get(); // { urgency: 1 }
 * ```
 */
export class PriorityStore<T> extends Store<T> {
  /**
   * @param options - priority (required), capacity, name
   * @default capacity Infinity, name 'store'
   */
  constructor(sim: Simulation, options: PriorityStoreOptions<T>) {
    checkOptions('PriorityStore', options, STORE_KEYS);
    if (options === null || typeof options !== 'object' || typeof options.priority !== 'function') {
      throw invalidArgument('priority', options?.priority, 'a function (item) => number', 'PriorityStore');
    }
    super(sim, options);
  }
}

/**
 * @internal The metrics of a named store (`family` 'store', level 'size') or container ('container',
 * 'level'), under the primitive's name.
 */
export function queueMeters(
  sim: Simulation,
  component: string,
  family: string,
  name: string,
  level: string,
): QueueMeters {
  const m = sim.metrics;
  const meters: QueueMeters = {
    level: m.gauge(name, `${family}.${level}`),
    getQueue: m.gauge(name, `${family}.get-queue`),
    putQueue: m.gauge(name, `${family}.put-queue`),
    getWait: m.histogram(name, `${family}.get-wait`),
    putWait: m.histogram(name, `${family}.put-wait`),
  };
  claimMeters(component, name, meters.level);
  return meters;
}
