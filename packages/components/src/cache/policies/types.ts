import type { Duration, RandomStream } from '@dsim/core';

/**
 * An eviction policy: which keys a bounded cache keeps. It owns the set of resident keys and their sizes;
 * the cache that uses it owns the values. Sizes are in the cache's unit (1 per entry, or bytes).
 *
 * The cache calls, for every read, `onHit` (resident and fresh) or `onMiss` (absent, or expired and
 * about to be reloaded); for every write `put`; for deletes and expiries `remove`. `put` reports the keys
 * it evicted to make room by pushing them into the caller's array (no allocation per call). When an
 * admission policy (W-TinyLFU) refuses the new key, or a policy that never evicts is full, or the item
 * is larger than the whole capacity, the new key itself is pushed and is not resident afterwards.
 *
 * @example
 * ```ts
 * const policy = createEvictionPolicy({ kind: 'lru' }, { capacity: 1000, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * policy.put('k1', 1, Infinity, sim.now, evicted);
 * ```
 */
export interface EvictionPolicy {
  /** The algorithm. */
  readonly kind: EvictionKind;
  /** Most units the policy keeps resident. */
  readonly capacity: number;
  /** Units resident now. */
  readonly used: number;
  /** Keys resident now. */
  readonly count: number;
  /** Whether `key` is resident. */
  has(key: string): boolean;
  /** A read found `key` resident. */
  onHit(key: string, now: number): void;
  /** A read did not find `key` (frequency sketches and ghost lists learn from misses). */
  onMiss(key: string, now: number): void;
  /**
   * Makes `key` resident with `size` units and absolute expiry `expiresAt` (Infinity: none), evicting
   * others as needed and pushing them into `evicted`. Overwriting a resident key updates its size and
   * expiry and counts as an access.
   */
  put(key: string, size: number, expiresAt: number, now: number, evicted: string[]): void;
  /** Forgets a resident key (deleted or expired); a no-op for an absent key. */
  remove(key: string): void;
  /** Forgets everything (a flush). */
  clear(): void;
}

/** The eviction algorithms {@link createEvictionPolicy} knows. */
export type EvictionKind =
  | 'lru'
  | 'fifo'
  | 'random'
  | 'lfu'
  | 'ttl'
  | 'redis-lru'
  | 'redis-lfu'
  | 'arc'
  | 'w-tinylfu'
  | 'none';

/**
 * An eviction policy's configuration.
 * - `lru`: exact least recently used.
 * - `fifo`: first in, first out (hits do not reorder).
 * - `random`: a uniformly random resident key.
 * - `lfu`: least frequently used (ties: least recent), with optional aging: counts halve every
 *   `halfLife` so that yesterday's favourites can leave.
 * - `ttl`: the key that expires soonest (keys without a TTL last, LRU among them), like Redis
 *   `volatile-ttl` without sampling.
 * - `redis-lru`, `redis-lfu`: Redis's approximations: sample `samples` keys into a 16-entry eviction pool
 *   and evict the best candidate; LRU idle time at 1 s resolution; LFU's 8-bit logarithmic counter
 *   (`logFactor`, starts at 5) decayed by one per `decayTime` idle. `volatile: true` considers only keys
 *   with a TTL (Redis `volatile-*`); with none, writes are refused as under `noeviction`.
 * - `arc`: Megiddo and Modha's adaptive replacement cache (T1/T2 with ghost lists B1/B2).
 * - `w-tinylfu`: Caffeine's window TinyLFU (1% LRU window, SLRU main with 80% protected, a 4-bit
 *   count-min sketch for admission; `randomAdmission` (default true) admits a warm candidate that lost its
 *   duel with probability 1/128 against hash flooding; `hillClimber` (default false) adapts the window).
 * - `none`: never evict; a full cache refuses new keys (Redis `noeviction`, its default).
 *
 * @example
 * ```ts
 * const spec: EvictionSpec = { kind: 'redis-lfu', samples: 10, logFactor: 10, decayTime: '1m' };
 * ```
 */
export type EvictionSpec =
  | { readonly kind: 'lru' }
  | { readonly kind: 'fifo' }
  | { readonly kind: 'random' }
  | { readonly kind: 'lfu'; readonly halfLife?: Duration }
  | { readonly kind: 'ttl' }
  | { readonly kind: 'redis-lru'; readonly samples?: number; readonly volatile?: boolean }
  | {
      readonly kind: 'redis-lfu';
      readonly samples?: number;
      readonly logFactor?: number;
      readonly decayTime?: Duration;
      readonly volatile?: boolean;
    }
  | { readonly kind: 'arc' }
  | {
      readonly kind: 'w-tinylfu';
      readonly windowPercent?: number;
      readonly protectedPercent?: number;
      readonly randomAdmission?: boolean;
      readonly hillClimber?: boolean;
    }
  | { readonly kind: 'none' };

/** What a policy needs from its cache: its capacity and a random stream (for random and sampling). */
export interface EvictionContext {
  /** Capacity in units, an integer >= 1. */
  readonly capacity: number;
  /** The stream random choices draw from, e.g. `sim.rng('cache-1/evict')`. */
  readonly rng: RandomStream;
}
