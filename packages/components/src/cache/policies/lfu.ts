import type { Duration } from '@dsim/core';
import { checkDuration, type Owner } from '@dsim/core';
import {
  badSize,
  checkContext,
  checkPolicyOptions,
  emptyKeys,
  growFloat64,
  growInt32,
  initialSlots,
  policyOwner,
} from './shared.js';
import type { EvictionContext, EvictionPolicy } from './types.js';

/**
 * Options of {@link LfuPolicy}.
 *
 * @example
 * ```ts
 * const options: LfuOptions = { halfLife: '10m' };
 * ```
 */
export interface LfuOptions {
  /** The spec's kind, if the whole spec is passed. @default 'lfu' */
  readonly kind?: 'lfu';
  /**
   * Aging: every `halfLife` of simulated time all counts are halved (rounded down), so that keys that
   * were popular long ago can leave. A duration > 0, or Infinity for no aging (pure LFU).
   * @default Infinity
   */
  readonly halfLife?: Duration;
}

/** End of an item list, or no bucket. */
const NIL = -1;

/**
 * Exact least-frequently-used eviction with a least-recently-used tie-break: the victim is the resident key
 * with the fewest accesses (a write counts as one, each hit as one more), and among those the one accessed
 * longest ago. Counts belong to resident keys only ("in-cache" LFU): an evicted key starts again at 1.
 * Under the independent reference model a warm LFU cache holds the most popular keys
 * ({@link lfuHitRatio}).
 *
 * O(1) per operation: keys sit in frequency buckets (a list of buckets in ascending count, each an LRU list
 * of its keys) over typed arrays with recycled slots, so hits allocate nothing. With `halfLife`, all counts
 * are halved once per elapsed half-life, lazily at the first operation after the boundary; that pass is
 * O(n), allocates nothing, and keeps the LRU order among keys whose counts become equal.
 *
 * @example
 * ```ts
 * const lfu = new LfuPolicy({ halfLife: '1h' }, { capacity: 1000, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * lfu.put('a', 1, Infinity, sim.now, evicted);
 * lfu.onHit('a', sim.now);
 * lfu.frequency('a'); // 2
 * ```
 */
export class LfuPolicy implements EvictionPolicy {
  readonly kind = 'lfu';
  readonly capacity: number;
  /** The aging half-life in ms (Infinity: no aging). */
  readonly halfLife: number;
  private readonly index = new Map<string, number>();
  // Per slot.
  private keys: string[];
  private sizes: Float64Array;
  private seqs: Float64Array;
  private itemPrev: Int32Array;
  private itemNext: Int32Array;
  private bucketOf: Int32Array;
  private freeSlot = NIL;
  private slotHighWater = 0;
  // Per bucket; bucket 0 is the sentinel of the circular bucket list (ascending count).
  private freq: Float64Array;
  private bucketPrev: Int32Array;
  private bucketNext: Int32Array;
  private head: Int32Array;
  private tail: Int32Array;
  private freeBucket = NIL;
  private bucketHighWater = 1;
  private usedUnits = 0;
  private tick = 0;
  private epoch = 0;
  private nextAgeAt: number;

  /**
   * @param options - the aging half-life; an `lfu` `EvictionSpec` works as is
   * @param ctx - the capacity (units, an integer >= 1) and a random stream
   * @param where - who configures the policy, for error messages @internal
   */
  constructor(options: LfuOptions, ctx: EvictionContext, where: Owner = policyOwner('LfuPolicy')) {
    checkPolicyOptions('lfu', options, where);
    checkContext('lfu', ctx, where);
    this.capacity = ctx.capacity;
    this.halfLife = checkDuration(
      where,
      'halfLife',
      options.halfLife,
      { positive: true, infinity: true },
      Infinity,
    );
    this.nextAgeAt = this.halfLife;
    const n = initialSlots(ctx.capacity);
    this.keys = emptyKeys(n);
    this.sizes = new Float64Array(n);
    this.seqs = new Float64Array(n);
    this.itemPrev = new Int32Array(n);
    this.itemNext = new Int32Array(n);
    this.bucketOf = new Int32Array(n);
    this.freq = new Float64Array(n + 1);
    this.bucketPrev = new Int32Array(n + 1);
    this.bucketNext = new Int32Array(n + 1);
    this.head = new Int32Array(n + 1);
    this.tail = new Int32Array(n + 1);
  }

  /** Units resident now. */
  get used(): number {
    return this.usedUnits;
  }

  /** Keys resident now. */
  get count(): number {
    return this.index.size;
  }

  /** Whether `key` is resident. */
  has(key: string): boolean {
    return this.index.has(key);
  }

  /** The access count of a resident key (after any aging so far), or 0 when absent. */
  frequency(key: string): number {
    const s = this.index.get(key);
    return s === undefined ? 0 : this.freq[this.bucketOf[s]!]!;
  }

  /** Counts an access to `key` (no-op when absent). */
  onHit(key: string, now: number): void {
    if (now >= this.nextAgeAt) this.age(now);
    const s = this.index.get(key);
    if (s !== undefined) this.touch(s);
  }

  /** Ages the counts if a half-life has passed; misses are not counted. */
  onMiss(_key: string, now: number): void {
    if (now >= this.nextAgeAt) this.age(now);
  }

  /**
   * Inserts `key` with count 1 (an overwrite counts as an access), first evicting the least frequently used
   * other keys until `used + size <= capacity`. A key larger than the capacity is refused (pushed into
   * `evicted`).
   */
  put(key: string, size: number, _expiresAt: number, now: number, evicted: string[]): void {
    if (!(size > 0 && size < Infinity)) throw badSize('lfu', key, size);
    if (now >= this.nextAgeAt) this.age(now);
    const s = this.index.get(key);
    if (s !== undefined) {
      if (size > this.capacity) {
        this.drop(s);
        evicted.push(key);
        return;
      }
      this.touch(s);
      this.usedUnits += size - this.sizes[s]!;
      this.sizes[s] = size;
      if (this.usedUnits > this.capacity) this.evict(0, s, evicted);
      return;
    }
    if (size > this.capacity) {
      evicted.push(key);
      return;
    }
    if (this.usedUnits + size > this.capacity) this.evict(size, NIL, evicted);
    this.insert(key, size);
  }

  /** Forgets `key` (no-op when absent). */
  remove(key: string): void {
    const s = this.index.get(key);
    if (s !== undefined) this.drop(s);
  }

  /** Forgets every key (the aging clock keeps running). */
  clear(): void {
    this.index.clear();
    this.keys.fill('', 0, this.slotHighWater);
    this.freeSlot = NIL;
    this.slotHighWater = 0;
    this.resetBuckets();
    this.usedUnits = 0;
  }

  /** Evicts the least frequently used keys until `need` more units fit, never evicting slot `keep`. */
  private evict(need: number, keep: number, evicted: string[]): void {
    while (this.usedUnits + need > this.capacity) {
      let b = this.bucketNext[0]!;
      if (b === 0) break;
      let v = this.head[b]!;
      if (v === keep) {
        v = this.itemNext[v]!;
        if (v === NIL) {
          b = this.bucketNext[b]!;
          if (b === 0) break;
          v = this.head[b]!;
        }
      }
      evicted.push(this.keys[v]!);
      this.drop(v);
    }
  }

  /** Adds a new key with count 1 as the most recent of its bucket. */
  private insert(key: string, size: number): void {
    let s = this.freeSlot;
    if (s !== NIL) {
      this.freeSlot = this.itemNext[s]!;
    } else {
      if (this.slotHighWater === this.keys.length) this.grow();
      s = this.slotHighWater++;
    }
    this.keys[s] = key;
    this.sizes[s] = size;
    this.seqs[s] = ++this.tick;
    this.index.set(key, s);
    this.usedUnits += size;
    // After aging a bucket of count 0 may precede the bucket of count 1.
    let after = 0;
    let b = this.bucketNext[0]!;
    if (b !== 0 && this.freq[b]! < 1) {
      after = b;
      b = this.bucketNext[b]!;
    }
    if (b === 0 || this.freq[b] !== 1) b = this.newBucket(after, 1);
    this.append(s, b);
  }

  /** Counts an access: moves slot `s` to the next count's bucket, as its most recent key. */
  private touch(s: number): void {
    this.seqs[s] = ++this.tick;
    const b = this.bucketOf[s]!;
    const f = this.freq[b]! + 1;
    const nb = this.bucketNext[b]!;
    if (nb !== 0 && this.freq[nb] === f) {
      this.unlink(s, b);
      this.append(s, nb);
    } else if (this.head[b] === s && this.tail[b] === s) {
      // Alone in its bucket, and no bucket for f yet: the bucket itself moves up.
      this.freq[b] = f;
    } else {
      const fresh = this.newBucket(b, f);
      this.unlink(s, b);
      this.append(s, fresh);
    }
  }

  /** Removes slot `s` entirely. */
  private drop(s: number): void {
    this.unlink(s, this.bucketOf[s]!);
    this.index.delete(this.keys[s]!);
    this.keys[s] = '';
    this.usedUnits -= this.sizes[s]!;
    if (this.index.size === 0) this.usedUnits = 0;
    this.itemNext[s] = this.freeSlot;
    this.freeSlot = s;
  }

  /** Takes slot `s` out of bucket `b`'s list, freeing the bucket when it empties. */
  private unlink(s: number, b: number): void {
    const p = this.itemPrev[s]!;
    const n = this.itemNext[s]!;
    if (p === NIL) this.head[b] = n;
    else this.itemNext[p] = n;
    if (n === NIL) this.tail[b] = p;
    else this.itemPrev[n] = p;
    if (this.head[b] === NIL) {
      const bp = this.bucketPrev[b]!;
      const bn = this.bucketNext[b]!;
      this.bucketNext[bp] = bn;
      this.bucketPrev[bn] = bp;
      this.bucketNext[b] = this.freeBucket;
      this.freeBucket = b;
    }
  }

  /** Appends slot `s` to bucket `b` as its most recent key. */
  private append(s: number, b: number): void {
    const t = this.tail[b]!;
    this.itemPrev[s] = t;
    this.itemNext[s] = NIL;
    if (t === NIL) this.head[b] = s;
    else this.itemNext[t] = s;
    this.tail[b] = s;
    this.bucketOf[s] = b;
  }

  /** A new empty bucket of count `f`, linked right after bucket `after`. */
  private newBucket(after: number, f: number): number {
    let b = this.freeBucket;
    if (b !== NIL) this.freeBucket = this.bucketNext[b]!;
    else b = this.bucketHighWater++;
    this.freq[b] = f;
    this.head[b] = NIL;
    this.tail[b] = NIL;
    const n = this.bucketNext[after]!;
    this.bucketPrev[b] = after;
    this.bucketNext[b] = n;
    this.bucketNext[after] = b;
    this.bucketPrev[n] = b;
    return b;
  }

  private resetBuckets(): void {
    this.bucketNext[0] = 0;
    this.bucketPrev[0] = 0;
    this.freeBucket = NIL;
    this.bucketHighWater = 1;
  }

  /**
   * Halves every count once per half-life elapsed since the last aging. Halving keeps the order of
   * counts, so buckets are relabelled in place; buckets whose new counts coincide are merged by recency
   * (each list is already in access order), keeping the LRU tie-break. O(n), allocation-free.
   */
  private age(now: number): void {
    const epoch = Math.floor(now / this.halfLife);
    this.nextAgeAt = (epoch + 1) * this.halfLife;
    const halvings = epoch - this.epoch;
    this.epoch = epoch;
    if (halvings <= 0) return;
    const divisor = 2 ** halvings;
    let b = this.bucketNext[0]!;
    while (b !== 0) {
      const f = Math.floor(this.freq[b]! / divisor);
      this.freq[b] = f;
      let next = this.bucketNext[b]!;
      while (next !== 0 && Math.floor(this.freq[next]! / divisor) === f) {
        const after = this.bucketNext[next]!;
        this.mergeInto(b, next);
        next = after;
      }
      b = next;
    }
  }

  /** Moves every key of bucket `from` into bucket `to`, merging both lists by last access; frees `from`. */
  private mergeInto(to: number, from: number): void {
    const seqs = this.seqs;
    const itemNext = this.itemNext;
    const itemPrev = this.itemPrev;
    let x = this.head[to]!;
    let y = this.head[from]!;
    let first = NIL;
    let last = NIL;
    while (x !== NIL || y !== NIL) {
      let pick: number;
      if (y === NIL || (x !== NIL && seqs[x]! < seqs[y]!)) {
        pick = x;
        x = itemNext[x]!;
      } else {
        pick = y;
        y = itemNext[y]!;
        this.bucketOf[pick] = to;
      }
      itemPrev[pick] = last;
      if (last === NIL) first = pick;
      else itemNext[last] = pick;
      last = pick;
    }
    itemNext[last] = NIL;
    this.head[to] = first;
    this.tail[to] = last;
    const bp = this.bucketPrev[from]!;
    const bn = this.bucketNext[from]!;
    this.bucketNext[bp] = bn;
    this.bucketPrev[bn] = bp;
    this.bucketNext[from] = this.freeBucket;
    this.freeBucket = from;
  }

  private grow(): void {
    const n = this.keys.length * 2;
    for (let i = this.keys.length; i < n; i++) this.keys.push('');
    this.sizes = growFloat64(this.sizes, n);
    this.seqs = growFloat64(this.seqs, n);
    this.itemPrev = growInt32(this.itemPrev, n);
    this.itemNext = growInt32(this.itemNext, n);
    this.bucketOf = growInt32(this.bucketOf, n);
    this.freq = growFloat64(this.freq, n + 1);
    this.bucketPrev = growInt32(this.bucketPrev, n + 1);
    this.bucketNext = growInt32(this.bucketNext, n + 1);
    this.head = growInt32(this.head, n + 1);
    this.tail = growInt32(this.tail, n + 1);
  }
}
