import type { Owner } from '@dsim/core';
import { badSize, checkContext, checkPolicyOptions, KeyList } from './shared.js';
import type { EvictionContext, EvictionPolicy } from './types.js';

/**
 * LRU and FIFO are one queue over a `KeyList`, evicted from the head; they differ only in whether an
 * access (a hit or an overwrite) moves the key to the back. @internal
 */
export abstract class QueuePolicy implements EvictionPolicy {
  abstract readonly kind: 'lru' | 'fifo';
  readonly capacity: number;
  private readonly list: KeyList;
  private usedUnits = 0;

  protected constructor(
    kind: 'lru' | 'fifo',
    /** Whether an access moves the key to the back of the queue (LRU) or not (FIFO). */
    private readonly reorder: boolean,
    options: object,
    ctx: EvictionContext,
    where: Owner,
  ) {
    checkPolicyOptions(kind, options, where);
    checkContext(kind, ctx, where);
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

  /** LRU: makes `key` the most recently used; FIFO: nothing (no-op when absent). */
  onHit(key: string, _now: number): void {
    if (!this.reorder) return;
    const s = this.list.index.get(key);
    if (s !== undefined) this.list.moveToBack(s);
  }

  /** Nothing to learn from a miss. */
  onMiss(_key: string, _now: number): void {}

  /**
   * Inserts `key` at the back, or overwrites it (LRU moves it to the back, FIFO keeps its place), first
   * evicting from the head until `used + size <= capacity`. A key larger than the capacity is refused
   * (pushed into `evicted`).
   */
  put(key: string, size: number, _expiresAt: number, _now: number, evicted: string[]): void {
    if (!(size > 0 && size < Infinity)) throw badSize(this.kind, key, size);
    const list = this.list;
    const s = list.index.get(key);
    if (s !== undefined) {
      if (size > this.capacity) {
        this.drop(s);
        evicted.push(key);
        return;
      }
      if (this.reorder) list.moveToBack(s);
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
