import type { Owner, RandomStream } from '@dsim/core';
import {
  badSize,
  checkContext,
  checkPolicyOptions,
  emptyKeys,
  growFloat64,
  initialSlots,
  policyOwner,
} from './shared.js';
import type { EvictionContext, EvictionPolicy } from './types.js';

/**
 * Options of {@link RandomPolicy}: none. The `kind` may be given (so a whole spec can be passed).
 *
 * @example
 * ```ts
 * const options: RandomOptions = { kind: 'random' };
 * ```
 */
export interface RandomOptions {
  /** The spec's kind, if the whole spec is passed. @default 'random' */
  readonly kind?: 'random';
}

/**
 * Random eviction (Redis `allkeys-random`, without sampling): the victim is a uniformly random resident
 * key, drawn from the context's stream. Under the independent reference model it has the same hit ratio
 * as FIFO ({@link fifoHitRatio}).
 *
 * Keys are kept in a dense array with a key → position map; a victim is one draw, and removal swaps the
 * last key into the hole, so every operation is O(1). Hits do nothing at all.
 *
 * @example
 * ```ts
 * const random = new RandomPolicy({}, { capacity: 100, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * random.put('a', 1, Infinity, sim.now, evicted);
 * ```
 */
export class RandomPolicy implements EvictionPolicy {
  readonly kind = 'random';
  readonly capacity: number;
  private readonly rng: RandomStream;
  private readonly index = new Map<string, number>();
  private keys: string[];
  private sizes: Float64Array;
  private n = 0;
  private usedUnits = 0;

  /**
   * @param options - none but `kind`; a `random` `EvictionSpec` works as is
   * @param ctx - the capacity (units, an integer >= 1) and a random stream
   * @param where - who configures the policy, for error messages @internal
   */
  constructor(options: RandomOptions, ctx: EvictionContext, where: Owner = policyOwner('RandomPolicy')) {
    checkPolicyOptions('random', options, where);
    checkContext('random', ctx, where);
    this.capacity = ctx.capacity;
    this.rng = ctx.rng;
    const slots = initialSlots(ctx.capacity);
    this.keys = emptyKeys(slots);
    this.sizes = new Float64Array(slots);
  }

  /** Units resident now. */
  get used(): number {
    return this.usedUnits;
  }

  /** Keys resident now. */
  get count(): number {
    return this.n;
  }

  /** Whether `key` is resident. */
  has(key: string): boolean {
    return this.index.has(key);
  }

  /** Random eviction ignores hits. */
  onHit(_key: string, _now: number): void {}

  /** Nothing to learn from a miss. */
  onMiss(_key: string, _now: number): void {}

  /**
   * Inserts or overwrites `key`, first evicting uniformly random other keys until
   * `used + size <= capacity`. A key larger than the capacity is refused (pushed into `evicted`).
   */
  put(key: string, size: number, _expiresAt: number, _now: number, evicted: string[]): void {
    if (!(size > 0 && size < Infinity)) throw badSize('random', key, size);
    const p = this.index.get(key);
    if (p !== undefined) {
      if (size > this.capacity) {
        this.drop(p);
        evicted.push(key);
        return;
      }
      this.usedUnits += size - this.sizes[p]!;
      this.sizes[p] = size;
      if (this.usedUnits > this.capacity) this.evictOthers(key, evicted);
      return;
    }
    if (size > this.capacity) {
      evicted.push(key);
      return;
    }
    const rng = this.rng;
    while (this.usedUnits + size > this.capacity && this.n > 0) {
      const v = rng.int(0, this.n);
      evicted.push(this.keys[v]!);
      this.drop(v);
    }
    if (this.n === this.keys.length) this.grow();
    const q = this.n++;
    this.keys[q] = key;
    this.sizes[q] = size;
    this.index.set(key, q);
    this.usedUnits += size;
  }

  /** Forgets `key` (no-op when absent). */
  remove(key: string): void {
    const p = this.index.get(key);
    if (p !== undefined) this.drop(p);
  }

  /** Forgets every key. */
  clear(): void {
    this.index.clear();
    this.keys.fill('', 0, this.n);
    this.n = 0;
    this.usedUnits = 0;
  }

  /** After `key` grew in place: evicts uniformly random keys other than `key` until it fits. */
  private evictOthers(key: string, evicted: string[]): void {
    const rng = this.rng;
    while (this.usedUnits > this.capacity && this.n > 1) {
      // A uniform draw among the n - 1 other positions.
      const self = this.index.get(key)!;
      let v = rng.int(0, this.n - 1);
      if (v >= self) v++;
      evicted.push(this.keys[v]!);
      this.drop(v);
    }
  }

  /** Removes the key at position `p`, moving the last key into its place. */
  private drop(p: number): void {
    const keys = this.keys;
    const sizes = this.sizes;
    this.index.delete(keys[p]!);
    this.usedUnits -= sizes[p]!;
    const last = --this.n;
    if (p !== last) {
      const moved = keys[last]!;
      keys[p] = moved;
      sizes[p] = sizes[last]!;
      this.index.set(moved, p);
    }
    keys[last] = '';
    if (this.n === 0) this.usedUnits = 0;
  }

  private grow(): void {
    const n = this.keys.length * 2;
    for (let i = this.keys.length; i < n; i++) this.keys.push('');
    this.sizes = growFloat64(this.sizes, n);
  }
}
