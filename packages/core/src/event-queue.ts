import FastPriorityQueue from 'fastpriorityqueue';
import { invalidArgument } from './errors.js';

/**
 * The event queue: a binary heap (fastpriorityqueue) of slot numbers over struct-of-arrays storage.
 *
 * Entries live in parallel typed arrays indexed by slot, and the heap orders slot numbers with a
 * comparator that reads those arrays. Compared with a heap of entry objects this keeps the keys the
 * heap touches contiguous in memory and allocates nothing per event. On the `timeouts` benchmark the
 * engine ran 2.7-3.1 M events/s this way against 2.3-2.9 M with a heap of entry objects (see
 * docs/performance.md and docs/architecture.md). Freed slots are reused; a per-slot generation counter
 * keeps a stale handle from cancelling a reused slot.
 *
 * Entries due now at the default priority (resumes, triggered events, zero-delay hops) skip the heap:
 * they go to a FIFO ring of slots, the "now lane". Every entry in the lane has time = now and priority
 * NORMAL, and sequence numbers only grow, so the lane is sorted by construction; `peek` compares its
 * head with the heap's top by (time, order), which keeps the (time, priority, seq) order exact.
 * @internal
 */
export class EventQueue {
  /** Due time per slot. */
  time: Float64Array;
  /** Packed (priority, seq) per slot. */
  order: Float64Array;
  /** Event kind per slot (for the digest). */
  kind: Uint8Array;
  /** Subject id per slot (for the digest). */
  tag: Int32Array;
  /** Generation per slot, bumped when the slot is freed. */
  generation: Uint32Array;
  /** What runs when the slot comes due; null once cancelled (or freed). */
  fn: Array<((arg: any) => void) | null>;
  arg: unknown[];

  private readonly heap: FastPriorityQueue<number>;
  /** Ring of slots due now at NORMAL priority, in order; `laneHead`/`laneTail` count up, masked. */
  private lane = new Int32Array(256);
  private laneMask = 255;
  private laneHead = 0;
  private laneTail = 0;
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private capacity: number;

  constructor(initialCapacity = 1024) {
    this.capacity = initialCapacity;
    this.time = new Float64Array(initialCapacity);
    this.order = new Float64Array(initialCapacity);
    this.kind = new Uint8Array(initialCapacity);
    this.tag = new Int32Array(initialCapacity);
    this.generation = new Uint32Array(initialCapacity);
    this.fn = new Array(initialCapacity).fill(null);
    this.arg = new Array(initialCapacity).fill(undefined);
    // The comparator reads the arrays through `this` because growth replaces them.
    this.heap = new FastPriorityQueue<number>((a, b) => {
      const time = this.time;
      const ta = time[a]!;
      const tb = time[b]!;
      return ta < tb || (ta === tb && this.order[a]! < this.order[b]!);
    });
  }

  /**
   * True while the heap's top is an entry already taken (`pop`) but not yet removed: the next push
   * replaces it in one sift-down (`replaceTop`) instead of a sift-down now and a sift-up then. Most
   * events schedule the next one, and most new entries are due soon, so they settle near the top.
   */
  private held = false;

  /** Number of queued slots, cancelled ones included. */
  get size(): number {
    return this.heap.size - (this.held ? 1 : 0) + (this.laneTail - this.laneHead);
  }

  /** Queues an entry on the heap and returns its slot. */
  push(t: number, order: number, fn: (arg: any) => void, arg: unknown, kind: number, tag: number): number {
    const slot = this.fill(t, order, fn, arg, kind, tag);
    if (this.held) {
      this.held = false;
      this.heap.replaceTop(slot);
    } else this.heap.add(slot);
    return slot;
  }

  /**
   * Queues an entry due now at NORMAL priority on the now lane and returns its slot. The caller
   * guarantees `t` is the current time and `order` is larger than every order already in the lane.
   */
  pushNow(t: number, order: number, fn: (arg: any) => void, arg: unknown, kind: number, tag: number): number {
    const slot = this.fill(t, order, fn, arg, kind, tag);
    if (this.laneTail - this.laneHead > this.laneMask) this.growLane();
    this.lane[this.laneTail++ & this.laneMask] = slot;
    return slot;
  }

  /** Slot of the earliest entry, or -1 when empty. */
  peek(): number {
    const heap = this.heap;
    if (this.held) {
      this.held = false;
      heap.poll();
    }
    if (this.laneTail === this.laneHead) return heap.size === 0 ? -1 : heap.peek()!;
    const now = this.lane[this.laneHead & this.laneMask]!;
    if (heap.size === 0) return now;
    const top = heap.peek()!;
    const tt = this.time[top]!;
    const tn = this.time[now]!;
    return tt < tn || (tt === tn && this.order[top]! < this.order[now]!) ? top : now;
  }

  /** Removes `slot`, which `peek()` just returned; the caller must then read it and call `free(slot)`. */
  pop(slot: number): void {
    if (this.laneTail !== this.laneHead && this.lane[this.laneHead & this.laneMask] === slot) this.laneHead++;
    else this.held = true;
  }

  /** Returns a slot to the pool; bumps its generation so old handles become inert. */
  free(slot: number): void {
    this.fn[slot] = null;
    this.arg[slot] = undefined;
    this.generation[slot] = (this.generation[slot]! + 1) >>> 0;
    this.freeSlots.push(slot);
  }

  /** Cancels the entry in `slot` if it still belongs to `generation` (it stays queued, with no callback). */
  cancel(slot: number, generation: number): void {
    if (this.generation[slot] === generation) {
      this.fn[slot] = null;
      this.arg[slot] = undefined;
    }
  }

  private fill(
    t: number,
    order: number,
    fn: (arg: any) => void,
    arg: unknown,
    kind: number,
    tag: number,
  ): number {
    let slot: number;
    if (this.freeSlots.length > 0) slot = this.freeSlots.pop()!;
    else {
      slot = this.nextSlot++;
      if (slot === this.capacity) this.grow();
    }
    this.time[slot] = t;
    this.order[slot] = order;
    this.kind[slot] = kind;
    this.tag[slot] = tag;
    this.fn[slot] = fn;
    this.arg[slot] = arg;
    return slot;
  }

  private growLane(): void {
    const size = this.lane.length * 2;
    const lane = new Int32Array(size);
    const count = this.laneTail - this.laneHead;
    for (let i = 0; i < count; i++) lane[i] = this.lane[(this.laneHead + i) & this.laneMask]!;
    this.lane = lane;
    this.laneMask = size - 1;
    this.laneHead = 0;
    this.laneTail = count;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    this.time = growFloat(this.time, capacity);
    this.order = growFloat(this.order, capacity);
    const kind = new Uint8Array(capacity);
    kind.set(this.kind);
    this.kind = kind;
    const tag = new Int32Array(capacity);
    tag.set(this.tag);
    this.tag = tag;
    const generation = new Uint32Array(capacity);
    generation.set(this.generation);
    this.generation = generation;
    for (let i = this.capacity; i < capacity; i++) {
      this.fn.push(null);
      this.arg.push(undefined);
    }
    this.capacity = capacity;
  }
}

function growFloat(source: Float64Array, capacity: number): Float64Array {
  const out = new Float64Array(capacity);
  out.set(source);
  return out;
}

/** Event kinds hashed into the run digest. Stable numbers: changing one changes every digest. */
export const EventKind = {
  callback: 1,
  event: 2,
  timeout: 3,
  processStart: 4,
  interrupt: 5,
  message: 6,
} as const;

/** Priority of events that must run before ordinary ones at the same time (process start, interrupts). */
export const URGENT = 0;
/** Default priority. */
export const NORMAL = 1;
/** Smallest allowed priority. */
export const MIN_PRIORITY = -512;
/** Largest allowed priority. */
export const MAX_PRIORITY = 511;

// order = (priority - MIN_PRIORITY) * 2^43 + seq: exact in a double while seq < 2^43 (8.8e12 events).
const SEQ_SPAN = 2 ** 43;

/** Throws unless `priority` is an integer in [MIN_PRIORITY, MAX_PRIORITY]; returns it. */
export function checkPriority(priority: number): number {
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw invalidArgument('priority', priority, `an integer in [${MIN_PRIORITY}, ${MAX_PRIORITY}]`);
  }
  return priority;
}

/** Packs a priority and a sequence number into one sortable number. */
export function packOrder(priority: number, seq: number): number {
  return (priority - MIN_PRIORITY) * SEQ_SPAN + seq;
}

/**
 * A handle to a callback scheduled with `sim.schedule()` or `sim.scheduleAt()`.
 *
 * @example
 * ```ts
 * const h = sim.schedule('5s', () => sim.log('never'));
 * h.cancel();
 * ```
 */
export interface ScheduledHandle {
  /** Simulated time (ms) at which the callback is due. */
  readonly time: number;
  /** True once `cancel()` was called before the callback ran. */
  readonly cancelled: boolean;
  /** Prevents the callback from running. Cancelling twice, or after it ran, does nothing. */
  cancel(): void;
}

/** @internal */
export class QueueHandle implements ScheduledHandle {
  private wasCancelled = false;
  // A handle is cancellable while its slot still holds its generation and a callback.
  constructor(
    private readonly queue: EventQueue,
    private readonly slot: number,
    private readonly generation: number,
    readonly time: number,
  ) {}

  get cancelled(): boolean {
    return this.wasCancelled;
  }

  cancel(): void {
    if (this.queue.generation[this.slot] === this.generation && this.queue.fn[this.slot] !== null) {
      this.queue.cancel(this.slot, this.generation);
      this.wasCancelled = true;
    }
  }
}
