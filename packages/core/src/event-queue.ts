import FastPriorityQueue from 'fastpriorityqueue';
import { invalidArgument } from './errors.js';

/** Fewest buckets the calendar keeps; it halves down to this and no further. */
const MIN_BUCKETS = 16;
/** Sample size for the bucket width: this many of the earliest entries (Brown used about 25). */
const WIDTH_SAMPLE = 25;
/** Bucket width as a multiple of the mean gap between the earliest entries (Brown's 3). */
const WIDTH_GAPS = 3;
/** List nodes an insertion may walk before the entry goes to the overflow heap instead. */
const WALK_LIMIT = 8;
/** Mean work per dequeue (empty buckets scanned, list nodes walked by insertions) above which the width is recomputed. */
const COST_LIMIT = 8;
/** Where `peek()` found the earliest slot. */
const CALENDAR = 1;
const OVERFLOW = 2;
const RING = 3;
const LANE = 4;
/** Virtual bucket numbers stay below this, so they are exact integers in a double. */
const MAX_BUCKET_NUMBER = 2 ** 50;

/**
 * The event queue: a calendar queue (R. Brown, "Calendar queues: a fast O(1) priority queue
 * implementation for the simulation event set problem", CACM 31(10), 1988) over struct-of-arrays
 * storage, with a FIFO "now lane", a FIFO "in-order ring" and a small overflow heap beside it.
 *
 * Entries live in parallel typed arrays indexed by slot (time, packed (priority, seq) order, kind, tag,
 * generation, callback, argument); nothing is allocated per event. Freed slots are reused; a per-slot
 * generation counter keeps a stale handle from cancelling a reused slot.
 *
 * **Calendar.** Time is cut into buckets of `width` ms; entry `s` gets the virtual bucket number
 * `floor(time[s] * (1 / width))` (stored in `bucketNumber`) and goes into the list of bucket
 * `bucketNumber mod buckets`, a singly linked list of slots (`next`) sorted by (time, order). A list
 * holds entries from several "years" (`buckets * width` ms), the earlier ones first. Dequeue walks the
 * buckets from a cursor (a virtual bucket number) and takes the first head whose virtual bucket number
 * equals the cursor's. The order is exact: the bucket number is a nondecreasing function of time
 * computed once per entry and compared as an integer (never against floating bucket bounds), so
 * entries come out in (time, order) order exactly as from a heap, ties included. A year with no entry
 * due falls back to a direct search of the bucket heads and jumps there.
 *
 * **Resizing** (after Brown). The bucket count doubles when entries exceed twice the buckets and halves
 * when they fall below a quarter (Brown: a half; a quarter keeps queues whose size swings by 2x, as
 * fan-outs make them, from rehashing on every swing); the width is then recomputed as three times the mean gap between the 25
 * earliest entries (gaps of zero, from entries at one instant, are left out, and so are gaps over twice
 * the mean), and every entry is rehashed with its new bucket number. When the delays change scale the
 * width goes stale: dequeues scan empty buckets, or insertions walk long lists. Both are counted; a
 * window of `2 * buckets` dequeues (shorter once it has spent the window's budget) averaging more than
 * `COST_LIMIT` steps per dequeue recomputes the width, and widens it at least 4 times when empty
 * buckets were the cost, or narrows it by at most 4 when list walks were (see `checkWidth`); a
 * narrowing that left the width as it was is not retried until another rebuild. A rebuild
 * is O(entries) and comes at most once per O(entries) operations. Schedules measured: holds of 150 to
 * 10 000 entries, 10 000 mostly-cancelled timers 30 s out beside 100 near entries, a delay scale
 * changing 10^5-fold and back, bursts at one instant at mixed priorities, growth to 100 000 entries and
 * back, nanosecond-tight clusters far apart (tools/queue-bench.ts).
 *
 * **Overflow heap.** An insertion that would walk more than `WALK_LIMIT` list nodes (hundreds of
 * entries at one instant at mixed priorities, or a stale width) puts the entry on a binary heap
 * (fastpriorityqueue) instead, as do times too large for an exact bucket number. Far-future entries,
 * such as RPC timeout timers, need nothing special: they sit late in their buckets' lists, behind the
 * entries due this year, and cost a dequeue nothing until their year comes.
 *
 * **Now lane.** Entries due now at the default priority (resumes, triggered events, zero-delay hops)
 * go to a FIFO ring of slots. Every entry in the lane has time = now and priority NORMAL, and sequence
 * numbers only grow, so the lane is sorted by construction.
 *
 * **In-order ring.** Entries pushed with `pushInOrder` (messages: on a constant-latency link they come
 * due in the order they were sent) join a second FIFO ring if they sort after its last entry, and go to
 * the calendar otherwise, so the ring is sorted by construction whatever the caller pushes.
 *
 * `peek` returns the least of the four heads by (time, order), which keeps the (time, priority, seq)
 * order exact whichever structure holds an entry, and remembers which one, so `pop` removes it from
 * there without looking again; `take`, the event loop's call, does both (one call per event instead
 * of two, about 1% fewer instructions).
 * @internal
 */
export class EventQueue {
  /** Due time per slot. */
  time: Float64Array;
  /** The due times' 32-bit words (`2 * slot` low, `2 * slot + 1` high), a view of `time`'s bytes. */
  timeWords: Int32Array;
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
  /** Virtual bucket number per calendar slot: floor(time / width) at insertion or the last resize. */
  private bucketNumber: Float64Array;
  /** Next slot in the same bucket's sorted list, or -1. */
  private next: Int32Array;

  /** First and last slot of each bucket's list, or -1. */
  private heads: Int32Array;
  private tails: Int32Array;
  private buckets = MIN_BUCKETS;
  private bucketMask = MIN_BUCKETS - 1;
  private width = 1;
  private perWidth = 1;
  /** Entries in the calendar. */
  private count = 0;
  /** The dequeue cursor: a virtual bucket number and its bucket. No calendar entry is earlier. */
  private cursorNumber = 0;
  private cursorBucket = 0;
  /** Empty buckets scanned, list nodes walked, and dequeues since the last width check. */
  private scans = 0;
  private walks = 0;
  private operations = 0;
  /** Direction of the last width correction: 1 wider, -1 narrower, 0 none. */
  private lastAdjust = 0;
  /** The last narrowing for list walks left the width as it was; cleared by any other rebuild. */
  private narrowingFutile = false;
  private scratch = new Int32Array(64);
  private readonly sample = new Float64Array(WIDTH_SAMPLE);

  private readonly overflow: FastPriorityQueue<number>;
  /** Ring of slots due now at NORMAL priority, in order; `laneHead`/`laneTail` count up, masked. */
  private lane = new Int32Array(256);
  private laneMask = 255;
  private laneHead = 0;
  private laneTail = 0;
  /**
   * Ring of slots queued in (time, order) order by `pushInOrder` (messages on constant-latency links),
   * and the time and order of its last entry: an entry joins only if it sorts after that one.
   */
  private inOrder = new Int32Array(256);
  private inOrderMask = 255;
  private inOrderHead = 0;
  private inOrderTail = 0;
  private inOrderLastTime = Number.NEGATIVE_INFINITY;
  private inOrderLastOrder = 0;
  /** Freed slots, a stack of `freeCount` (an Int32Array: no builtin call per push or pop). */
  private freeSlots: Int32Array;
  private freeCount = 0;
  private nextSlot = 0;
  private capacity: number;
  /** Due time of the slot `take()` last returned: the event loop's clock, without reading `time` again. */
  takenTime = 0;
  /** Which structure holds the slot `peek()` last returned (`CALENDAR`, `OVERFLOW`, `RING`, `LANE`). */
  private from = 0;

  constructor(initialCapacity = 1024) {
    this.capacity = initialCapacity;
    this.time = new Float64Array(initialCapacity);
    this.timeWords = new Int32Array(this.time.buffer);
    this.order = new Float64Array(initialCapacity);
    this.kind = new Uint8Array(initialCapacity);
    this.tag = new Int32Array(initialCapacity);
    this.generation = new Uint32Array(initialCapacity);
    this.fn = new Array(initialCapacity).fill(null);
    this.arg = new Array(initialCapacity).fill(undefined);
    this.bucketNumber = new Float64Array(initialCapacity);
    this.next = new Int32Array(initialCapacity);
    this.freeSlots = new Int32Array(initialCapacity);
    this.heads = new Int32Array(MIN_BUCKETS).fill(-1);
    this.tails = new Int32Array(MIN_BUCKETS).fill(-1);
    // The comparator reads the arrays through `this` because growth replaces them.
    this.overflow = new FastPriorityQueue<number>((a, b) => this.before(a, b));
  }

  /** Number of queued slots, cancelled ones included. */
  get size(): number {
    return (
      this.count +
      this.overflow.size +
      (this.laneTail - this.laneHead) +
      (this.inOrderTail - this.inOrderHead)
    );
  }

  /** Queues an entry on the calendar and returns its slot. */
  push(t: number, order: number, fn: (arg: any) => void, arg: unknown, kind: number, tag: number): number {
    const slot = this.fill(t, order, fn, arg, kind, tag);
    this.insert(slot);
    if (this.count > 2 * this.buckets) this.rebuild(this.buckets * 2);
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

  /**
   * Queues an entry that is likely to sort after every entry queued this way before (a message on a
   * constant-latency link: sent no earlier, due after the same delay): it joins a FIFO ring, a write
   * instead of a calendar insertion. One that does not sort after the ring's last entry goes to the
   * calendar, so the order never depends on the guess.
   */
  pushInOrder(
    t: number,
    order: number,
    fn: (arg: any) => void,
    arg: unknown,
    kind: number,
    tag: number,
  ): number {
    const last = this.inOrderLastTime;
    if (!(t > last || (t === last && order > this.inOrderLastOrder)))
      return this.push(t, order, fn, arg, kind, tag);
    const slot = this.fill(t, order, fn, arg, kind, tag);
    if (this.inOrderTail - this.inOrderHead > this.inOrderMask) this.growInOrder();
    this.inOrder[this.inOrderTail++ & this.inOrderMask] = slot;
    this.inOrderLastTime = t;
    this.inOrderLastOrder = order;
    return slot;
  }

  /** Slot of the earliest entry, or -1 when empty; remembers which structure holds it, for `pop`. */
  peek(): number {
    let best = -1;
    let from = 0;
    if (this.count > 0) {
      best = this.calendarTop();
      from = CALENDAR;
    }
    if (this.overflow.size > 0) {
      const top = this.overflow.peek()!;
      if (best < 0 || this.before(top, best)) {
        best = top;
        from = OVERFLOW;
      }
    }
    if (this.inOrderTail !== this.inOrderHead) {
      const first = this.inOrder[this.inOrderHead & this.inOrderMask]!;
      if (best < 0 || this.before(first, best)) {
        best = first;
        from = RING;
      }
    }
    if (this.laneTail !== this.laneHead) {
      const now = this.lane[this.laneHead & this.laneMask]!;
      if (best < 0 || this.before(now, best)) {
        best = now;
        from = LANE;
      }
    }
    this.from = from;
    return best;
  }

  /**
   * Removes `slot`, which `peek()` just returned, from the structure `peek()` found it in; the caller
   * must then read it and call `free(slot)`.
   */
  pop(slot: number): void {
    const from = this.from;
    if (from === LANE) this.laneHead++;
    else if (from === RING) this.inOrderHead++;
    else if (from === CALENDAR) this.popCalendar(slot);
    else this.overflow.poll();
  }

  /**
   * `peek()` and `pop()` in one call, for the event loop: removes and returns the earliest slot; -1 when
   * the queue is empty, -2 (removing nothing) when the earliest is due at or after `until`.
   */
  take(until: number): number {
    const best = this.peek();
    if (best < 0) return -1;
    const t = this.time[best]!;
    if (t >= until) return -2;
    this.takenTime = t;
    this.pop(best);
    return best;
  }

  /** Removes `slot`, the head of the cursor's bucket. */
  private popCalendar(slot: number): void {
    const bucket = this.cursorBucket;
    const next = this.next[slot]!;
    this.heads[bucket] = next;
    if (next < 0) this.tails[bucket] = -1;
    this.count--;
    // A window ends after 2 x buckets dequeues, or sooner once it has spent a window's budget of work.
    if (++this.operations >= 2 * this.buckets || this.scans + this.walks > 2 * COST_LIMIT * this.buckets)
      this.checkWidth();
    // Halve below a quarter, not a half: a queue whose size swings by 2x (fan-outs, bursts) would
    // otherwise double and halve on every swing, an O(n) rehash each time.
    else if (this.count < this.buckets >> 2 && this.buckets > MIN_BUCKETS) this.rebuild(this.buckets >> 1);
  }

  /** Returns a slot to the pool; bumps its generation so old handles become inert. */
  free(slot: number): void {
    this.fn[slot] = null;
    this.arg[slot] = undefined;
    this.generation[slot] = (this.generation[slot]! + 1) >>> 0;
    this.freeSlots[this.freeCount++] = slot;
  }

  /** Cancels the entry in `slot` if it still belongs to `generation` (it stays queued, with no callback). */
  cancel(slot: number, generation: number): void {
    if (this.generation[slot] === generation) {
      this.fn[slot] = null;
      this.arg[slot] = undefined;
    }
  }

  /** True when slot `a` comes before slot `b`: earlier time, or the same time and a smaller order. */
  private before(a: number, b: number): boolean {
    const ta = this.time[a]!;
    const tb = this.time[b]!;
    return ta < tb || (ta === tb && this.order[a]! < this.order[b]!);
  }

  /** The calendar's earliest slot (count > 0); moves the cursor to its bucket. */
  private calendarTop(): number {
    const heads = this.heads;
    const numbers = this.bucketNumber;
    const mask = this.bucketMask;
    let bucket = this.cursorBucket;
    let number = this.cursorNumber;
    for (let i = 0; i < this.buckets; i++) {
      const head = heads[bucket]!;
      if (head >= 0 && numbers[head] === number) {
        this.cursorBucket = bucket;
        this.cursorNumber = number;
        this.scans += i;
        return head;
      }
      bucket = (bucket + 1) & mask;
      number++;
    }
    // A whole year without an entry due: search the heads directly and jump to the earliest.
    let best = -1;
    for (let b = 0; b < this.buckets; b++) {
      const head = heads[b]!;
      if (head >= 0 && (best < 0 || this.before(head, best))) best = head;
    }
    this.scans += 2 * this.buckets;
    this.cursorNumber = numbers[best]!;
    this.cursorBucket = this.bucketOf(this.cursorNumber);
    return best;
  }

  private bucketOf(number: number): number {
    return number < 2147483648 ? number & this.bucketMask : number % this.buckets;
  }

  /** Puts `slot` in its bucket's sorted list, or on the overflow heap when that would walk too far. */
  private insert(slot: number): void {
    const number = Math.floor(this.time[slot]! * this.perWidth);
    if (!(number >= 0 && number < MAX_BUCKET_NUMBER)) {
      this.overflow.add(slot);
      return;
    }
    this.bucketNumber[slot] = number;
    const bucket = this.bucketOf(number);
    const heads = this.heads;
    const next = this.next;
    const head = heads[bucket]!;
    if (head < 0) {
      heads[bucket] = slot;
      this.tails[bucket] = slot;
      next[slot] = -1;
    } else {
      const tail = this.tails[bucket]!;
      if (!this.before(slot, tail)) {
        next[tail] = slot;
        this.tails[bucket] = slot;
        next[slot] = -1;
      } else if (this.before(slot, head)) {
        next[slot] = head;
        heads[bucket] = slot;
      } else {
        let at = head;
        let steps = 0;
        for (;;) {
          const after = next[at]!;
          if (this.before(slot, after)) break;
          at = after;
          if (++steps === WALK_LIMIT) {
            this.walks += WALK_LIMIT;
            this.overflow.add(slot);
            return;
          }
        }
        this.walks += steps;
        next[slot] = next[at]!;
        next[at] = slot;
      }
    }
    if (this.count++ === 0 || number < this.cursorNumber) {
      this.cursorNumber = number;
      this.cursorBucket = bucket;
    }
  }

  /**
   * At the end of a window of dequeues: recomputes the width if the work per dequeue was too high.
   * Brown's width can be wrong for the schedule (tight clusters of entries far apart give a tiny mean
   * gap, and years shorter than the gaps between clusters), so when empty buckets were the cost the new
   * width is also at least 4 times the old one (more, by the excess); when list walks were, it narrows
   * by at most 4.
   */
  private checkWidth(): void {
    const { scans, walks, operations } = this;
    const costly = scans + walks > COST_LIMIT * operations;
    this.scans = 0;
    this.walks = 0;
    this.operations = 0;
    if (!costly) return;
    const adjust = scans > walks ? Math.max(4, Math.min(1024, scans / (COST_LIMIT * operations))) : -1;
    // A reversal right after a change waits one more window: some schedules suit no width (clusters
    // too tight for one bucket each, too far apart for one year), and flipping every window costs more.
    // Walks with a width the sample will not narrow (clustered entries: the mean gap is set by the gaps
    // between clusters) rehash for nothing; the overflow heap already bounds each walk. Not again until
    // the width or the bucket count changes for another reason.
    if (adjust < 0 && this.narrowingFutile) return;
    const direction = Math.sign(adjust);
    if (direction === -this.lastAdjust) this.lastAdjust = 0;
    else {
      this.lastAdjust = direction;
      this.rebuild(this.buckets, adjust);
    }
  }

  /**
   * Rehashes every calendar and overflow entry into `buckets` buckets with a width of three times the
   * mean gap between the earliest entries; `adjust` > 0 makes it at least `adjust` times the current
   * width, -1 narrows it by at most 4 (and only when the sample asks for a narrower width).
   */
  private rebuild(buckets: number, adjust = 0): void {
    const total = this.count + this.overflow.size;
    if (this.scratch.length < total) this.scratch = new Int32Array(Math.max(total, 2 * this.scratch.length));
    const slots = this.scratch;
    let n = 0;
    for (let b = 0; b < this.buckets; b++) {
      for (let s = this.heads[b]!; s >= 0; s = this.next[s]!) slots[n++] = s;
    }
    while (this.overflow.size > 0) slots[n++] = this.overflow.poll()!;
    const width = this.measureWidth(slots, n, adjust);
    this.narrowingFutile = adjust < 0 && width === this.width;
    this.width = width;
    this.perWidth = 1 / this.width;
    if (buckets !== this.buckets) {
      this.buckets = buckets;
      this.bucketMask = buckets - 1;
      this.heads = new Int32Array(buckets);
      this.tails = new Int32Array(buckets);
    }
    this.heads.fill(-1);
    this.tails.fill(-1);
    this.count = 0;
    for (let i = 0; i < n; i++) this.insert(slots[i]!);
    // The next window starts now: the rebuild's own list walks are not the new width's cost.
    this.scans = 0;
    this.walks = 0;
    this.operations = 0;
  }

  /** Brown's width: three times the mean gap between the earliest entries, big gaps left out. */
  private measureWidth(slots: Int32Array, n: number, adjust: number): number {
    // The WIDTH_SAMPLE earliest times, sorted, by insertion into a small array.
    const sample = this.sample;
    const time = this.time;
    let k = 0;
    let latest = 0;
    for (let i = 0; i < n; i++) {
      const t = time[slots[i]!]!;
      if (t > latest && t !== Infinity) latest = t;
      if (k === WIDTH_SAMPLE && t >= sample[k - 1]!) continue;
      let j = k < WIDTH_SAMPLE ? k++ : k - 1;
      while (j > 0 && sample[j - 1]! > t) {
        sample[j] = sample[j - 1]!;
        j--;
      }
      sample[j] = t;
    }
    let sum = 0;
    let gaps = 0;
    for (let i = 1; i < k; i++) {
      const gap = sample[i]! - sample[i - 1]!;
      if (gap > 0) {
        sum += gap;
        gaps++;
      }
    }
    let width = this.width;
    if (gaps > 0) {
      const mean = sum / gaps;
      let trimmed = 0;
      let kept = 0;
      for (let i = 1; i < k; i++) {
        const gap = sample[i]! - sample[i - 1]!;
        if (gap > 0 && gap <= 2 * mean) {
          trimmed += gap;
          kept++;
        }
      }
      width = (WIDTH_GAPS * trimmed) / kept;
    }
    // Corrections: at least `adjust` times wider; or narrower, by at most 4, if the sample agrees
    // (entries at one instant give no sample gap, and no narrower width would help them).
    if (adjust > 0 && !(width >= adjust * this.width)) width = adjust * this.width;
    else if (adjust < 0) width = width < this.width ? Math.max(width, this.width / 4) : this.width;
    // Keep every bucket number an exact integer, and the width positive and finite.
    const least = latest / MAX_BUCKET_NUMBER;
    if (!(width > least)) width = least > 0 ? 2 * least : this.width;
    return Number.isFinite(width) && width > 0 ? width : 1;
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
    if (this.freeCount > 0) slot = this.freeSlots[--this.freeCount]!;
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

  private growInOrder(): void {
    const count = this.inOrderTail - this.inOrderHead;
    this.inOrder = doubledRing(this.inOrder, this.inOrderHead, count);
    this.inOrderMask = this.inOrder.length - 1;
    this.inOrderHead = 0;
    this.inOrderTail = count;
  }

  private growLane(): void {
    const count = this.laneTail - this.laneHead;
    this.lane = doubledRing(this.lane, this.laneHead, count);
    this.laneMask = this.lane.length - 1;
    this.laneHead = 0;
    this.laneTail = count;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    this.time = growFloat(this.time, capacity);
    this.timeWords = new Int32Array(this.time.buffer);
    this.order = growFloat(this.order, capacity);
    this.bucketNumber = growFloat(this.bucketNumber, capacity);
    const next = new Int32Array(capacity);
    next.set(this.next);
    this.next = next;
    const kind = new Uint8Array(capacity);
    kind.set(this.kind);
    this.kind = kind;
    const tag = new Int32Array(capacity);
    tag.set(this.tag);
    this.tag = tag;
    const freeSlots = new Int32Array(capacity);
    freeSlots.set(this.freeSlots);
    this.freeSlots = freeSlots;
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

/** A ring twice the size of `ring` (a power of two) holding its `count` slots from `head`, from index 0. */
function doubledRing(ring: Int32Array<ArrayBuffer>, head: number, count: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(ring.length * 2);
  const mask = ring.length - 1;
  for (let i = 0; i < count; i++) out[i] = ring[(head + i) & mask]!;
  return out;
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
