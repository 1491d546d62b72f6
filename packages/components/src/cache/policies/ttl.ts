import type { Owner } from '@dsim/core';
import {
  badExpiry,
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
 * Options of {@link TtlPolicy}: none. The `kind` may be given (so a whole spec can be passed).
 *
 * @example
 * ```ts
 * const options: TtlOptions = { kind: 'ttl' };
 * ```
 */
export interface TtlOptions {
  /** The spec's kind, if the whole spec is passed. @default 'ttl' */
  readonly kind?: 'ttl';
}

/** Not in the heap: the key has no TTL and lives in the LRU list. */
const IN_LIST = -1;

/**
 * Nearest expiry first, like Redis `volatile-ttl` but exact rather than sampled: the victim is the key
 * whose `expiresAt` is smallest (an expired key not yet noticed by the cache goes first; equal expiries go
 * in write order). Keys without a TTL (`expiresAt` Infinity) are evicted only when no key has a TTL, least
 * recently used first.
 *
 * Keys with a TTL sit in a binary min-heap (O(log n) per write and eviction); keys without one in an LRU
 * list (O(1)). Hits on keys with a TTL do nothing; hits on keys without one allocate nothing.
 *
 * @example
 * ```ts
 * const ttl = new TtlPolicy({}, { capacity: 2, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * ttl.put('session', 1, 60_000, 0, evicted);
 * ttl.put('config', 1, Infinity, 0, evicted);
 * ttl.put('token', 1, 5_000, 0, evicted); // evicted: ['session'] (expires soonest)
 * ```
 */
export class TtlPolicy implements EvictionPolicy {
  readonly kind = 'ttl';
  readonly capacity: number;
  private readonly index = new Map<string, number>();
  // Per slot; slot 0 is the sentinel of the circular LRU list of keys without a TTL.
  private keys: string[];
  private sizes: Float64Array;
  private expires: Float64Array;
  private seqs: Float64Array;
  private heapPos: Int32Array;
  private prev: Int32Array;
  private next: Int32Array;
  private freeSlot = -1;
  private slotHighWater = 1;
  // Min-heap of slots by (expiresAt, seq).
  private heap: Int32Array;
  private heapLen = 0;
  private usedUnits = 0;
  private tick = 0;

  /**
   * @param options - none but `kind`; a `ttl` `EvictionSpec` works as is
   * @param ctx - the capacity (units, an integer >= 1) and a random stream
   * @param where - who configures the policy, for error messages @internal
   */
  constructor(options: TtlOptions, ctx: EvictionContext, where: Owner = policyOwner('TtlPolicy')) {
    checkPolicyOptions('ttl', options, where);
    checkContext('ttl', ctx, where);
    this.capacity = ctx.capacity;
    const n = initialSlots(ctx.capacity);
    this.keys = emptyKeys(n);
    this.sizes = new Float64Array(n);
    this.expires = new Float64Array(n);
    this.seqs = new Float64Array(n);
    this.heapPos = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.next = new Int32Array(n);
    this.heap = new Int32Array(n);
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

  /** A key without a TTL becomes the most recently used of those; a key with one is unaffected. */
  onHit(key: string, _now: number): void {
    const s = this.index.get(key);
    if (s !== undefined && this.heapPos[s] === IN_LIST) {
      this.unlink(s);
      this.linkBack(s);
    }
  }

  /** Nothing to learn from a miss. */
  onMiss(_key: string, _now: number): void {}

  /**
   * Inserts or overwrites `key` with expiry `expiresAt` (Infinity: none), first evicting the keys that
   * expire soonest until `used + size <= capacity`. A key larger than the capacity is refused (pushed into
   * `evicted`).
   */
  put(key: string, size: number, expiresAt: number, _now: number, evicted: string[]): void {
    if (!(size > 0 && size < Infinity)) throw badSize('ttl', key, size);
    if (typeof expiresAt !== 'number' || Number.isNaN(expiresAt)) throw badExpiry('ttl', key, expiresAt);
    let s = this.index.get(key);
    if (s !== undefined) {
      if (size > this.capacity) {
        this.drop(s);
        evicted.push(key);
        return;
      }
      // Detach while making room, so that the key never evicts itself.
      this.detach(s);
      this.usedUnits -= this.sizes[s]!;
    } else {
      if (size > this.capacity) {
        evicted.push(key);
        return;
      }
      s = this.allocate(key);
    }
    while (this.usedUnits + size > this.capacity) {
      const v = this.heapLen > 0 ? this.heap[0]! : this.next[0]!;
      if (v === 0) break;
      evicted.push(this.keys[v]!);
      this.drop(v);
    }
    this.sizes[s] = size;
    this.expires[s] = expiresAt;
    this.seqs[s] = ++this.tick;
    this.usedUnits += size;
    if (expiresAt === Infinity) this.linkBack(s);
    else this.heapPush(s);
  }

  /** Forgets `key` (no-op when absent). */
  remove(key: string): void {
    const s = this.index.get(key);
    if (s !== undefined) this.drop(s);
  }

  /** Forgets every key. */
  clear(): void {
    this.index.clear();
    this.keys.fill('', 0, this.slotHighWater);
    this.freeSlot = -1;
    this.slotHighWater = 1;
    this.prev[0] = 0;
    this.next[0] = 0;
    this.heapLen = 0;
    this.usedUnits = 0;
  }

  private allocate(key: string): number {
    let s = this.freeSlot;
    if (s !== -1) {
      this.freeSlot = this.next[s]!;
    } else {
      if (this.slotHighWater === this.keys.length) this.grow();
      s = this.slotHighWater++;
    }
    this.keys[s] = key;
    this.index.set(key, s);
    return s;
  }

  private drop(s: number): void {
    this.detach(s);
    this.usedUnits -= this.sizes[s]!;
    this.index.delete(this.keys[s]!);
    if (this.index.size === 0) this.usedUnits = 0;
    this.keys[s] = '';
    this.next[s] = this.freeSlot;
    this.freeSlot = s;
  }

  /** Takes slot `s` out of the heap or the list. */
  private detach(s: number): void {
    const p = this.heapPos[s]!;
    if (p === IN_LIST) {
      this.unlink(s);
      return;
    }
    const last = this.heap[--this.heapLen]!;
    if (last === s) return;
    this.heap[p] = last;
    this.heapPos[last] = p;
    this.siftDown(p);
    this.siftUp(this.heapPos[last]!);
  }

  private linkBack(s: number): void {
    const tail = this.prev[0]!;
    this.heapPos[s] = IN_LIST;
    this.prev[s] = tail;
    this.next[s] = 0;
    this.next[tail] = s;
    this.prev[0] = s;
  }

  private unlink(s: number): void {
    const p = this.prev[s]!;
    const n = this.next[s]!;
    this.next[p] = n;
    this.prev[n] = p;
  }

  private heapPush(s: number): void {
    const p = this.heapLen++;
    this.heap[p] = s;
    this.heapPos[s] = p;
    this.siftUp(p);
  }

  /** Whether slot `a` expires before slot `b` (ties: written first). */
  private before(a: number, b: number): boolean {
    const ea = this.expires[a]!;
    const eb = this.expires[b]!;
    return ea < eb || (ea === eb && this.seqs[a]! < this.seqs[b]!);
  }

  private siftUp(p: number): void {
    const heap = this.heap;
    const s = heap[p]!;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const q = heap[parent]!;
      if (!this.before(s, q)) break;
      heap[p] = q;
      this.heapPos[q] = p;
      p = parent;
    }
    heap[p] = s;
    this.heapPos[s] = p;
  }

  private siftDown(p: number): void {
    const heap = this.heap;
    const n = this.heapLen;
    const s = heap[p]!;
    for (;;) {
      let child = 2 * p + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.before(heap[right]!, heap[child]!)) child = right;
      const c = heap[child]!;
      if (!this.before(c, s)) break;
      heap[p] = c;
      this.heapPos[c] = p;
      p = child;
    }
    heap[p] = s;
    this.heapPos[s] = p;
  }

  private grow(): void {
    const n = this.keys.length * 2;
    for (let i = this.keys.length; i < n; i++) this.keys.push('');
    this.sizes = growFloat64(this.sizes, n);
    this.expires = growFloat64(this.expires, n);
    this.seqs = growFloat64(this.seqs, n);
    this.heapPos = growInt32(this.heapPos, n);
    this.prev = growInt32(this.prev, n);
    this.next = growInt32(this.next, n);
    this.heap = growInt32(this.heap, n);
  }
}
