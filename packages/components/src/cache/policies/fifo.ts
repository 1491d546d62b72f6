import { badSize, checkContext, checkPolicyOptions, KeyList } from './shared.js';
import type { EvictionContext, EvictionPolicy } from './types.js';

/**
 * Options of {@link FifoPolicy}: none. The `kind` may be given (so a whole spec can be passed).
 *
 * @example
 * ```ts
 * const options: FifoOptions = { kind: 'fifo' };
 * ```
 */
export interface FifoOptions {
  /** The spec's kind, if the whole spec is passed. @default 'fifo' */
  readonly kind?: 'fifo';
}

/**
 * First in, first out: the victim is the key inserted longest ago; hits do not reorder, and overwriting a
 * resident key keeps its place in the queue. Under the independent reference model FIFO has the same hit
 * ratio as RANDOM ({@link fifoHitRatio}).
 *
 * A hit is one map lookup. Keys live in an intrusive doubly linked list over recycled slots, so
 * steady-state misses allocate nothing either.
 *
 * @example
 * ```ts
 * const fifo = new FifoPolicy({}, { capacity: 2, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * fifo.put('a', 1, Infinity, 0, evicted);
 * fifo.put('b', 1, Infinity, 0, evicted);
 * fifo.onHit('a', 1);
 * fifo.put('c', 1, Infinity, 2, evicted); // evicted: ['a']
 * ```
 */
export class FifoPolicy implements EvictionPolicy {
  readonly kind = 'fifo';
  readonly capacity: number;
  private readonly list: KeyList;
  private usedUnits = 0;

  constructor(options: FifoOptions, ctx: EvictionContext) {
    checkPolicyOptions('fifo', options, []);
    checkContext('fifo', ctx);
    this.capacity = ctx.capacity;
    this.list = new KeyList(ctx.capacity);
  }

  /** Units resident now. */
  get used(): number {
    return this.usedUnits;
  }

  /** Keys resident now. */
  get count(): number {
    return this.list.index.size;
  }

  /** Whether `key` is resident. */
  has(key: string): boolean {
    return this.list.index.has(key);
  }

  /** Hits do not reorder a FIFO queue. */
  onHit(_key: string, _now: number): void {}

  /** Nothing to learn from a miss. */
  onMiss(_key: string, _now: number): void {}

  /**
   * Appends `key` to the queue (an overwrite keeps its place and updates its size), first evicting the
   * oldest keys until `used + size <= capacity`. A key larger than the capacity is refused (pushed into
   * `evicted`).
   */
  put(key: string, size: number, _expiresAt: number, _now: number, evicted: string[]): void {
    if (!(size > 0 && size < Infinity)) throw badSize('fifo', key, size);
    const list = this.list;
    const s = list.index.get(key);
    if (s !== undefined) {
      if (size > this.capacity) {
        this.drop(s);
        evicted.push(key);
        return;
      }
      this.usedUnits += size - list.sizes[s]!;
      list.sizes[s] = size;
      if (this.usedUnits > this.capacity) this.evict(0, s, evicted);
      return;
    }
    if (size > this.capacity) {
      evicted.push(key);
      return;
    }
    if (this.usedUnits + size > this.capacity) this.evict(size, -1, evicted);
    list.pushBack(key, size);
    this.usedUnits += size;
  }

  /** Forgets `key` (no-op when absent). */
  remove(key: string): void {
    const s = this.list.index.get(key);
    if (s !== undefined) this.drop(s);
  }

  /** Forgets every key. */
  clear(): void {
    this.list.clear();
    this.usedUnits = 0;
  }

  /** Evicts from the head until `need` more units fit, skipping slot `keep`. */
  private evict(need: number, keep: number, evicted: string[]): void {
    const list = this.list;
    while (this.usedUnits + need > this.capacity) {
      let v = list.next[0]!;
      if (v === keep) v = list.next[v]!;
      if (v === 0) break;
      evicted.push(list.keys[v]!);
      this.drop(v);
    }
  }

  private drop(s: number): void {
    const list = this.list;
    this.usedUnits -= list.sizes[s]!;
    list.delete(s);
    if (list.index.size === 0) this.usedUnits = 0;
  }
}
