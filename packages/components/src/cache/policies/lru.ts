import { badSize, checkContext, checkPolicyOptions, KeyList } from './shared.js';
import type { EvictionContext, EvictionPolicy } from './types.js';

/**
 * Options of {@link LruPolicy}: none. The `kind` may be given (so a whole spec can be passed).
 *
 * @example
 * ```ts
 * const options: LruOptions = { kind: 'lru' };
 * ```
 */
export interface LruOptions {
  /** The spec's kind, if the whole spec is passed. @default 'lru' */
  readonly kind?: 'lru';
}

/**
 * Exact least-recently-used eviction: the victim is the key read or written longest ago. Under the
 * independent reference model its hit ratio is Che's approximation ({@link cheHitRatio}).
 *
 * A hit is one map lookup and a few typed-array writes (an intrusive doubly linked list over slots that
 * are recycled), so hits and steady-state misses allocate nothing. Overwriting a key counts as an access.
 *
 * @example
 * ```ts
 * const lru = new LruPolicy({}, { capacity: 2, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * lru.put('a', 1, Infinity, 0, evicted);
 * lru.put('b', 1, Infinity, 0, evicted);
 * lru.onHit('a', 1);
 * lru.put('c', 1, Infinity, 2, evicted); // evicted: ['b']
 * ```
 */
export class LruPolicy implements EvictionPolicy {
  readonly kind = 'lru';
  readonly capacity: number;
  private readonly list: KeyList;
  private usedUnits = 0;

  constructor(options: LruOptions, ctx: EvictionContext) {
    checkPolicyOptions('lru', options, []);
    checkContext('lru', ctx);
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

  /** Makes `key` the most recently used (no-op when absent). */
  onHit(key: string, _now: number): void {
    const s = this.list.index.get(key);
    if (s !== undefined) this.list.moveToBack(s);
  }

  /** Nothing to learn from a miss. */
  onMiss(_key: string, _now: number): void {}

  /**
   * Inserts or overwrites `key` as the most recently used, first evicting least recently used keys
   * until `used + size <= capacity`. A key larger than the capacity is refused (pushed into `evicted`).
   */
  put(key: string, size: number, _expiresAt: number, _now: number, evicted: string[]): void {
    if (!(size > 0 && size < Infinity)) throw badSize('lru', key, size);
    const list = this.list;
    const s = list.index.get(key);
    if (s !== undefined) {
      if (size > this.capacity) {
        this.drop(s);
        evicted.push(key);
        return;
      }
      list.moveToBack(s);
      this.usedUnits += size - list.sizes[s]!;
      list.sizes[s] = size;
      // The key itself is the tail, so it is the last candidate: the loop stops before reaching it.
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

  /** Evicts from the head until `need` more units fit, never evicting slot `keep`. */
  private evict(need: number, keep: number, evicted: string[]): void {
    const list = this.list;
    while (this.usedUnits + need > this.capacity) {
      const v = list.next[0]!;
      if (v === 0 || v === keep) break;
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
