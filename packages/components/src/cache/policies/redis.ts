import {
  checkBoolean,
  checkNumber,
  type Duration,
  durationMs,
  invalidOption,
  isObject,
  type Owner,
  type RandomStream,
  showValue,
} from '@dsim/core';
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
 * Options of {@link RedisPolicy}: the `redis-lru` or `redis-lfu` spec.
 *
 * @example
 * ```ts
 * const options: RedisOptions = { kind: 'redis-lfu', samples: 10, logFactor: 10, decayTime: '1m' };
 * ```
 */
export interface RedisOptions {
  /** `redis-lru` (`allkeys-lru` / `volatile-lru`) or `redis-lfu` (`allkeys-lfu` / `volatile-lfu`). */
  readonly kind: 'redis-lru' | 'redis-lfu';
  /**
   * Keys sampled per eviction (`maxmemory-samples`), an integer in [1, 64].
   * @default 5
   */
  readonly samples?: number;
  /**
   * Consider only keys with a TTL (finite `expiresAt`), as the `volatile-*` policies do. When none is
   * left, a write that needs room is refused (as under `noeviction`).
   * @default false
   */
  readonly volatile?: boolean;
  /**
   * `redis-lfu` only: `lfu-log-factor`, a finite number >= 0. Higher makes the counter grow more slowly
   * (0: every access counts).
   * @default 10
   */
  readonly logFactor?: number;
  /**
   * `redis-lfu` only: `lfu-decay-time`, the idle time that takes one off the counter; a whole number of
   * minutes (Redis keeps access times in minutes), or 0 for no decay.
   * @default '1m'
   */
  readonly decayTime?: Duration;
}

/** `EVPOOL_SIZE`: candidates the eviction pool keeps between evictions. */
const POOL_SIZE = 16;
/** `LFU_INIT_VAL`: the counter of a new key. */
const LFU_INIT_VAL = 5;
/** `LRU_CLOCK_MAX`: the LRU clock is 24 bits of seconds. */
const LRU_CLOCK_MAX = (1 << 24) - 1;
/** The LFU access time is 16 bits of minutes. */
const LFU_MINUTES_MASK = 65_535;
const MINUTE_MS = 60_000;
/** Slot not in the volatile array (no TTL). */
const NOT_VOLATILE = -1;

/**
 * Redis's approximated LRU and LFU (`evict.c`), for `allkeys-*` and `volatile-*`:
 *
 * - Each eviction samples `samples` distinct keys uniformly (Redis's `dictGetSomeKeys` walks neighbouring
 *   hash buckets, which for hashed keys is as good as uniform) and inserts them into a persistent pool of
 *   the 16 best candidates sorted by score, exactly as `evictionPoolPopulate` does: a sample enters when
 *   the pool has room or it beats the worst entry; equal scores go left of the entries already there, so
 *   the older candidate is evicted first. The pool stores keys with the score computed when sampled; the
 *   best entry whose key still exists (with a TTL, when volatile) is evicted, the others found missing are
 *   dropped as ghosts.
 * - LRU score: idle time on a 24-bit clock of whole seconds (`LRU_CLOCK_RESOLUTION` 1000 ms). Keys idle
 *   the same number of seconds tie.
 * - LFU score: 255 − the decayed 8-bit logarithmic counter. New keys start at 5; an access first applies
 *   the decay, then increments with probability 1/((counter − 5)·logFactor + 1) (1 below 5), up to 255.
 *   Decay takes one off per `decayTime` of idle time, measured on a 16-bit clock of whole minutes.
 * - Overwriting a key is an access (Redis looks the key up for the write and keeps its LFU counter).
 *
 * Redis evicts before running a write while memory is over `maxmemory`; here eviction makes room for the
 * write itself (`used + size <= capacity` afterwards). With `volatile`, when no key with a TTL is left
 * the write is refused, and keys already evicted for it stay evicted, as in Redis.
 *
 * Hits are O(1) and allocate nothing; an eviction costs O(samples + 16).
 *
 * @example
 * ```ts
 * const redis = new RedisPolicy({ kind: 'redis-lfu', samples: 5 }, { capacity: 1000, rng: sim.rng('redis/evict') });
 * const evicted: string[] = [];
 * redis.put('user:1', 1, Infinity, sim.now, evicted);
 * redis.onHit('user:1', sim.now);
 * redis.frequency('user:1', sim.now); // 6 (OBJECT FREQ)
 * ```
 */
export class RedisPolicy implements EvictionPolicy {
  readonly kind: 'redis-lru' | 'redis-lfu';
  readonly capacity: number;
  /** Keys sampled per eviction. */
  readonly samples: number;
  /** Whether only keys with a TTL may be evicted. */
  readonly volatile: boolean;
  /** `lfu-log-factor` (redis-lfu). */
  readonly logFactor: number;
  /** `lfu-decay-time` in minutes (redis-lfu; 0: no decay). */
  readonly decayMinutes: number;
  private readonly lfu: boolean;
  private readonly rng: RandomStream;
  private readonly index = new Map<string, number>();
  // Per slot.
  private keys: string[];
  private sizes: Float64Array;
  /** LRU: the 24-bit second of the last access. LFU: the 16-bit minute of the last access. */
  private stamps: Int32Array;
  /** LFU: the 8-bit counter. */
  private counters: Uint8Array;
  /** Position in `all`; threads the free list for free slots. */
  private allPos: Int32Array;
  /** Position in `vol`, or NOT_VOLATILE. */
  private volPos: Int32Array;
  private freeSlot = -1;
  private slotHighWater = 0;
  // Dense arrays of slots to sample from: every key, and the keys with a TTL.
  private all: Int32Array;
  private allLen = 0;
  private vol: Int32Array;
  private volLen = 0;
  // The eviction pool: a sorted prefix of `poolLen` entries, ascending score (best candidate last).
  private readonly poolKeys: string[] = emptyKeys(POOL_SIZE);
  private readonly poolScores = new Float64Array(POOL_SIZE);
  private poolLen = 0;
  private usedUnits = 0;

  /**
   * @param options - the `redis-lru` or `redis-lfu` spec (its `kind` is required: it picks the algorithm)
   * @param ctx - the capacity (units, an integer >= 1) and the stream the samples are drawn from
   * @param where - who configures the policy, for error messages @internal
   */
  constructor(options: RedisOptions, ctx: EvictionContext, where: Owner = policyOwner('RedisPolicy')) {
    const kind = isObject(options) ? options.kind : undefined;
    if (kind !== 'redis-lru' && kind !== 'redis-lfu') {
      throw invalidOption(where, 'kind', kind, '"redis-lru" or "redis-lfu" for a RedisPolicy');
    }
    this.kind = kind;
    this.lfu = kind === 'redis-lfu';
    checkPolicyOptions(kind, options, where);
    checkContext(kind, ctx, where);
    this.capacity = ctx.capacity;
    this.rng = ctx.rng;
    this.samples = checkNumber(where, 'samples', options.samples, { integer: true, min: 1, max: 64 }, 5);
    this.volatile = checkBoolean(where, 'volatile', options.volatile, false);
    const logFactor = options.logFactor ?? 10;
    if (typeof logFactor !== 'number' || !Number.isFinite(logFactor) || logFactor < 0) {
      throw invalidOption(where, 'logFactor', options.logFactor, `a finite number >= 0 (${kind})`);
    }
    this.logFactor = logFactor;
    const decayMs =
      options.decayTime === undefined ? MINUTE_MS : durationMs(where, 'decayTime', options.decayTime);
    if (!Number.isSafeInteger(decayMs / MINUTE_MS)) {
      throw invalidOption(
        where,
        'decayTime',
        options.decayTime,
        `a whole number of minutes such as "1m", or 0 for no decay (${kind}: Redis counts idle minutes; that is ${showValue(decayMs)} ms)`,
      );
    }
    this.decayMinutes = decayMs / MINUTE_MS;
    const n = initialSlots(ctx.capacity);
    this.keys = emptyKeys(n);
    this.sizes = new Float64Array(n);
    this.stamps = new Int32Array(n);
    this.counters = new Uint8Array(n);
    this.allPos = new Int32Array(n);
    this.volPos = new Int32Array(n);
    this.all = new Int32Array(n);
    this.vol = new Int32Array(n);
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

  /**
   * redis-lfu: the decayed counter of `key` at `now`, as `OBJECT FREQ` reports it (undefined when absent
   * or under redis-lru).
   */
  frequency(key: string, now: number): number | undefined {
    const s = this.index.get(key);
    if (s === undefined || !this.lfu) return undefined;
    return this.decayed(s, lfuMinutes(now));
  }

  /**
   * redis-lru: the idle time of `key` at `now` in whole seconds, as `OBJECT IDLETIME` reports it
   * (undefined when absent or under redis-lfu).
   */
  idleTime(key: string, now: number): number | undefined {
    const s = this.index.get(key);
    if (s === undefined || this.lfu) return undefined;
    return idleSeconds(this.stamps[s]!, lruClock(now));
  }

  /** An access: refreshes the LRU clock, or decays and maybe increments the LFU counter. */
  onHit(key: string, now: number): void {
    const s = this.index.get(key);
    if (s !== undefined) this.access(s, now);
  }

  /** Nothing to learn from a miss. */
  onMiss(_key: string, _now: number): void {}

  /**
   * Inserts or overwrites `key`, first evicting pool candidates until `used + size <= capacity`. Refuses
   * (pushes `key` into `evicted`) a key larger than the capacity, or one that needs room when no candidate
   * is left (volatile, no key with a TTL).
   */
  put(key: string, size: number, expiresAt: number, now: number, evicted: string[]): void {
    if (!(size > 0 && size < Infinity)) throw badSize(this.kind, key, size);
    if (typeof expiresAt !== 'number' || Number.isNaN(expiresAt)) throw badExpiry(this.kind, key, expiresAt);
    let s = this.index.get(key);
    if (s !== undefined) {
      if (size > this.capacity) {
        this.drop(s);
        evicted.push(key);
        return;
      }
      this.access(s, now);
      const rest = this.usedUnits - this.sizes[s]!;
      if (rest + size > this.capacity) {
        // Take the key out while making room, so that it cannot be chosen, and keep its LRU/LFU state.
        const stamp = this.stamps[s]!;
        const counter = this.counters[s]!;
        this.drop(s);
        if (!this.makeRoom(size, now, evicted)) {
          evicted.push(key);
          return;
        }
        s = this.insert(key, size, expiresAt);
        this.stamps[s] = stamp;
        this.counters[s] = counter;
        return;
      }
      this.usedUnits = rest + size;
      this.sizes[s] = size;
      this.setVolatile(s, expiresAt !== Infinity);
      return;
    }
    if (size > this.capacity || !this.makeRoom(size, now, evicted)) {
      evicted.push(key);
      return;
    }
    s = this.insert(key, size, expiresAt);
    if (this.lfu) {
      this.stamps[s] = lfuMinutes(now);
      this.counters[s] = LFU_INIT_VAL;
    } else {
      this.stamps[s] = lruClock(now);
    }
  }

  /** Forgets `key` (no-op when absent). A pool entry for it becomes a ghost. */
  remove(key: string): void {
    const s = this.index.get(key);
    if (s !== undefined) this.drop(s);
  }

  /** Forgets every key and empties the pool. */
  clear(): void {
    this.index.clear();
    this.keys.fill('', 0, this.slotHighWater);
    this.freeSlot = -1;
    this.slotHighWater = 0;
    this.allLen = 0;
    this.volLen = 0;
    this.poolKeys.fill('');
    this.poolLen = 0;
    this.usedUnits = 0;
  }

  private access(s: number, now: number): void {
    if (!this.lfu) {
      this.stamps[s] = lruClock(now);
      return;
    }
    // updateLFU: decay, then LFULogIncr, then stamp the access minute.
    const minutes = lfuMinutes(now);
    let counter = this.decayed(s, minutes);
    if (counter < 255) {
      const base = counter - LFU_INIT_VAL;
      if (base <= 0 || this.logFactor === 0 || this.rng.next() < 1 / (base * this.logFactor + 1)) counter++;
    }
    this.counters[s] = counter;
    this.stamps[s] = minutes;
  }

  /** LFUDecrAndReturn: the counter less one per `decayMinutes` elapsed, floored at 0. */
  private decayed(s: number, minutes: number): number {
    const counter = this.counters[s]!;
    if (this.decayMinutes === 0) return counter;
    const ldt = this.stamps[s]!;
    // LFUTimeElapsed, including its wrap-around arithmetic.
    const elapsed = minutes >= ldt ? minutes - ldt : LFU_MINUTES_MASK - ldt + minutes;
    const periods = Math.floor(elapsed / this.decayMinutes);
    return periods > counter ? 0 : counter - periods;
  }

  /** Evicts until `size` more units fit; false when no candidate is left first. */
  private makeRoom(size: number, now: number, evicted: string[]): boolean {
    while (this.usedUnits + size > this.capacity) {
      const victim = this.bestCandidate(now);
      if (victim === -1) return false;
      evicted.push(this.keys[victim]!);
      this.drop(victim);
    }
    return true;
  }

  /** The performEvictions loop: populate the pool, then take its best live entry (-1: no candidates). */
  private bestCandidate(now: number): number {
    const keys = this.poolKeys;
    for (;;) {
      if ((this.volatile ? this.volLen : this.allLen) === 0) return -1;
      this.populate(now);
      while (this.poolLen > 0) {
        const k = --this.poolLen;
        const key = keys[k]!;
        keys[k] = '';
        const s = this.index.get(key);
        // A key deleted (or, when volatile, persisted) since it was sampled is a ghost: try the next.
        if (s !== undefined && (!this.volatile || this.volPos[s] !== NOT_VOLATILE)) return s;
      }
    }
  }

  /** evictionPoolPopulate: samples keys and inserts them into the sorted pool. */
  private populate(now: number): void {
    const volatile = this.volatile;
    const dense = volatile ? this.vol : this.all;
    const pos = volatile ? this.volPos : this.allPos;
    const n = volatile ? this.volLen : this.allLen;
    const count = Math.min(this.samples, n);
    const clock = this.lfu ? lfuMinutes(now) : lruClock(now);
    const keys = this.poolKeys;
    const scores = this.poolScores;
    for (let j = 0; j < count; j++) {
      // Partial Fisher-Yates: dense[j] becomes a uniform pick among the keys not sampled yet.
      const r = j + this.rng.int(0, n - j);
      const s = dense[r]!;
      if (r !== j) {
        const other = dense[j]!;
        dense[j] = s;
        pos[s] = j;
        dense[r] = other;
        pos[other] = r;
      }
      const score = this.lfu ? 255 - this.decayed(s, clock) : idleSeconds(this.stamps[s]!, clock);
      // The first entry that is empty or does not score below the sample.
      let k = 0;
      const len = this.poolLen;
      while (k < len && scores[k]! < score) k++;
      if (k === 0 && len === POOL_SIZE) continue; // No better than the worst of a full pool.
      if (k === len) {
        this.poolLen = len + 1; // An empty place.
      } else if (len < POOL_SIZE) {
        // Room on the right: shift [k, len) one place right.
        for (let i = len; i > k; i--) {
          keys[i] = keys[i - 1]!;
          scores[i] = scores[i - 1]!;
        }
        this.poolLen = len + 1;
      } else {
        // Full: drop the worst (leftmost) entry and insert just left of k.
        k--;
        for (let i = 0; i < k; i++) {
          keys[i] = keys[i + 1]!;
          scores[i] = scores[i + 1]!;
        }
      }
      keys[k] = this.keys[s]!;
      scores[k] = score;
    }
  }

  private insert(key: string, size: number, expiresAt: number): number {
    let s = this.freeSlot;
    if (s !== -1) {
      this.freeSlot = this.allPos[s]!;
    } else {
      if (this.slotHighWater === this.keys.length) this.grow();
      s = this.slotHighWater++;
    }
    this.keys[s] = key;
    this.sizes[s] = size;
    this.index.set(key, s);
    this.usedUnits += size;
    const p = this.allLen++;
    this.all[p] = s;
    this.allPos[s] = p;
    this.volPos[s] = NOT_VOLATILE;
    if (expiresAt !== Infinity) this.setVolatile(s, true);
    return s;
  }

  /** Adds slot `s` to, or takes it out of, the keys with a TTL. */
  private setVolatile(s: number, volatile: boolean): void {
    const p = this.volPos[s]!;
    if (volatile === (p !== NOT_VOLATILE)) return;
    if (volatile) {
      const q = this.volLen++;
      this.vol[q] = s;
      this.volPos[s] = q;
      return;
    }
    const last = this.vol[--this.volLen]!;
    this.vol[p] = last;
    this.volPos[last] = p;
    this.volPos[s] = NOT_VOLATILE;
  }

  private drop(s: number): void {
    this.setVolatile(s, false);
    const p = this.allPos[s]!;
    const last = this.all[--this.allLen]!;
    this.all[p] = last;
    this.allPos[last] = p;
    this.index.delete(this.keys[s]!);
    this.keys[s] = '';
    this.usedUnits -= this.sizes[s]!;
    if (this.index.size === 0) this.usedUnits = 0;
    this.allPos[s] = this.freeSlot;
    this.freeSlot = s;
  }

  private grow(): void {
    const n = this.keys.length * 2;
    for (let i = this.keys.length; i < n; i++) this.keys.push('');
    this.sizes = growFloat64(this.sizes, n);
    this.stamps = growInt32(this.stamps, n);
    const counters = new Uint8Array(n);
    counters.set(this.counters);
    this.counters = counters;
    this.allPos = growInt32(this.allPos, n);
    this.volPos = growInt32(this.volPos, n);
    this.all = growInt32(this.all, n);
    this.vol = growInt32(this.vol, n);
  }
}

/** LRU_CLOCK(): whole seconds, 24 bits. */
function lruClock(now: number): number {
  return Math.floor(now / 1000) & LRU_CLOCK_MAX;
}

/** estimateObjectIdleTime, in seconds: the 24-bit clock wraps once. */
function idleSeconds(stamp: number, clock: number): number {
  return clock >= stamp ? clock - stamp : clock + (LRU_CLOCK_MAX - stamp);
}

/** LFUGetTimeInMinutes(): whole minutes, 16 bits. */
function lfuMinutes(now: number): number {
  return Math.floor(now / MINUTE_MS) & LFU_MINUTES_MASK;
}
