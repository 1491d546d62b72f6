import type { Owner } from '@dsim/core';
import { badSize, checkContext, checkPolicyOptions, policyOwner } from './shared.js';
import type { EvictionContext, EvictionPolicy } from './types.js';

/**
 * Options of {@link NoEvictionPolicy}: none. The `kind` may be given (so a whole spec can be passed).
 *
 * @example
 * ```ts
 * const options: NoEvictionOptions = { kind: 'none' };
 * ```
 */
export interface NoEvictionOptions {
  /** The spec's kind, if the whole spec is passed. @default 'none' */
  readonly kind?: 'none';
}

/**
 * Never evicts (Redis `noeviction`, its default `maxmemory-policy`): a write that does not fit is refused
 * (the key itself is pushed into `evicted`) while reads keep working. An overwrite that no longer fits is
 * refused too, and the key is no longer resident afterwards (the cache drops its entry).
 *
 * Redis checks memory before a write and refuses it only when already over `maxmemory`, so one write can
 * overshoot; this policy is stricter and never lets `used` exceed the capacity.
 *
 * @example
 * ```ts
 * const none = new NoEvictionPolicy({}, { capacity: 1, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * none.put('a', 1, Infinity, 0, evicted);
 * none.put('b', 1, Infinity, 0, evicted); // evicted: ['b'] (refused)
 * ```
 */
export class NoEvictionPolicy implements EvictionPolicy {
  readonly kind = 'none';
  readonly capacity: number;
  private readonly sizes = new Map<string, number>();
  private usedUnits = 0;

  /**
   * @param options - none but `kind`; a `none` `EvictionSpec` works as is
   * @param ctx - the capacity (units, an integer >= 1) and a random stream
   * @param where - who configures the policy, for error messages @internal
   */
  constructor(
    options: NoEvictionOptions,
    ctx: EvictionContext,
    where: Owner = policyOwner('NoEvictionPolicy'),
  ) {
    checkPolicyOptions('none', options, where);
    checkContext('none', ctx, where);
    this.capacity = ctx.capacity;
  }

  /** Units resident now. */
  get used(): number {
    return this.usedUnits;
  }

  /** Keys resident now. */
  get count(): number {
    return this.sizes.size;
  }

  /** Whether `key` is resident. */
  has(key: string): boolean {
    return this.sizes.has(key);
  }

  /** Nothing to track. */
  onHit(_key: string, _now: number): void {}

  /** Nothing to learn from a miss. */
  onMiss(_key: string, _now: number): void {}

  /** Stores `key` if it fits in the free units; otherwise refuses it (pushes `key` into `evicted`). */
  put(key: string, size: number, _expiresAt: number, _now: number, evicted: string[]): void {
    if (!(size > 0 && size < Infinity)) throw badSize('none', key, size);
    const old = this.sizes.get(key);
    const rest = old === undefined ? this.usedUnits : this.usedUnits - old;
    if (rest + size > this.capacity) {
      if (old !== undefined) this.remove(key);
      evicted.push(key);
      return;
    }
    this.sizes.set(key, size);
    this.usedUnits = rest + size;
  }

  /** Forgets `key` (no-op when absent). */
  remove(key: string): void {
    const old = this.sizes.get(key);
    if (old === undefined) return;
    this.sizes.delete(key);
    this.usedUnits = this.sizes.size === 0 ? 0 : this.usedUnits - old;
  }

  /** Forgets every key. */
  clear(): void {
    this.sizes.clear();
    this.usedUnits = 0;
  }
}
