import {
  type Counter,
  checkDuration,
  checkEnum,
  checkName,
  checkNumber,
  type Duration,
  type Gauge,
  invalidArgument,
  invalidOption,
  isObject,
  nested,
  type Owner,
  optionKeys,
  owner,
  type RandomStream,
  requireOptions,
  type Simulation,
  toMs,
} from '@dsim/core';
import { createEvictionPolicy } from './policies/factory.js';
import type { EvictionPolicy, EvictionSpec } from './policies/types.js';

/**
 * Options of a {@link Cache}.
 *
 * @example
 * ```ts
 * const options: CacheOptions = { name: 'redis', capacity: 10_000, eviction: { kind: 'redis-lru' }, ttl: '5m', ttlJitter: 0.1 };
 * ```
 */
export interface CacheOptions {
  /**
   * Name for metrics, traces and the random stream.
   * @default 'cache'
   */
  name?: string;
  /** Capacity in `unit`s: entries, or bytes. An integer >= 1. */
  capacity: number;
  /**
   * What `capacity` counts: `entries` (every entry weighs 1) or `bytes` (each `set` gives a size).
   * @default 'entries'
   */
  unit?: 'entries' | 'bytes';
  /**
   * Eviction policy, as a spec or a ready policy.
   * @default { kind: 'lru' }
   */
  eviction?: EvictionSpec | EvictionPolicy;
  /**
   * Time to live of an entry (its freshness). After it, a read is a miss, or `stale` within `staleFor`.
   * @default Infinity (entries never expire)
   */
  ttl?: Duration;
  /**
   * Spread of each entry's TTL: the TTL is drawn uniformly in ttl·[1 − jitter, 1 + jitter], so entries
   * written together do not expire together. A number in [0, 1).
   * @default 0
   */
  ttlJitter?: number;
  /**
   * How long an expired entry may still be served as stale (the hard TTL is ttl + staleFor), for
   * stale-while-revalidate and stale-if-error.
   * @default 0
   */
  staleFor?: Duration;
  /**
   * TTL of negative entries (a load that found nothing), so repeated lookups of a missing key do not all
   * reach the origin.
   * @default the entry TTL
   */
  negativeTtl?: Duration;
}

/**
 * Every key of {@link CacheOptions}. @internal
 */
export const CACHE_KEYS = optionKeys<CacheOptions>()({
  name: true,
  capacity: true,
  unit: true,
  eviction: true,
  ttl: true,
  ttlJitter: true,
  staleFor: true,
  negativeTtl: true,
});

/** The cache's settings once validated. @internal */
export interface ResolvedCacheOptions {
  readonly capacity: number;
  readonly unit: 'entries' | 'bytes';
  readonly eviction: EvictionSpec | EvictionPolicy;
  readonly ttl: number;
  readonly ttlJitter: number;
  readonly staleFor: number;
  readonly negativeTtl: number;
}

/**
 * Validates the settings of a cache (every {@link CacheOptions} field but `name` and the keys, which the
 * caller checks: {@link CacheServer} and {@link CdnCache} embed these among their own). The eviction
 * spec's kind and keys are checked here; its values when the policy is built.
 * @internal
 */
export function resolveCacheOptions(where: Owner, options: Omit<CacheOptions, 'name'>): ResolvedCacheOptions {
  const capacity = checkNumber(where, 'capacity', options.capacity, { integer: true, min: 1 });
  const unit = checkEnum(where, 'unit', options.unit, ['entries', 'bytes'] as const, 'entries');
  const ttl = checkDuration(where, 'ttl', options.ttl, { positive: true, infinity: true }, Infinity);
  const ttlJitter = options.ttlJitter ?? 0;
  if (typeof ttlJitter !== 'number' || !(ttlJitter >= 0 && ttlJitter < 1))
    throw invalidOption(where, 'ttlJitter', options.ttlJitter, 'a number in [0, 1)');
  const staleFor = checkDuration(where, 'staleFor', options.staleFor, { infinity: true }, 0);
  const negativeTtl = checkDuration(where, 'negativeTtl', options.negativeTtl, { infinity: true }, ttl);
  const eviction = options.eviction ?? { kind: 'lru' };
  if (!isObject(eviction))
    throw invalidOption(
      where,
      'eviction',
      eviction,
      'an eviction spec such as { kind: "lru" }, or an EvictionPolicy',
    );
  return { capacity, unit, eviction, ttl, ttlJitter, staleFor, negativeTtl };
}

/** An entry as stored. Read it, do not change it. */
export interface CacheEntry<V = unknown> {
  readonly key: string;
  readonly value: V | undefined;
  /** True for a cached "not found". */
  readonly negative: boolean;
  /** Units the entry weighs. */
  readonly size: number;
  /** When it was written. */
  readonly storedAt: number;
  /** End of freshness (soft TTL). */
  readonly expiresAt: number;
  /** End of servability (hard TTL: expiresAt + staleFor). */
  readonly staleUntil: number;
  /** How long the value took to compute (ms), for XFetch; 0 when unknown. */
  readonly delta: number;
}

/** Outcome of {@link Cache.read}. */
export type CacheReadStatus = 'hit' | 'stale' | 'negative' | 'miss';

/** Per-write options of {@link Cache.set}. */
export interface CacheSetOptions {
  /** TTL of this entry. @default the cache's ttl (with jitter) */
  ttl?: Duration;
  /** Size in units. @default 1 */
  size?: number;
  /** Time the value took to compute (ms), kept for XFetch. @default 0 */
  delta?: number;
}

/**
 * Counters of a {@link Cache}.
 *
 * @example
 * ```ts
 * const { hits, misses } = cache.stats;
 * const hitRatio = hits / (hits + misses);
 * ```
 */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Reads that found an expired entry still within `staleFor`. */
  readonly staleHits: number;
  /** Reads answered by a negative entry. */
  readonly negativeHits: number;
  readonly sets: number;
  readonly evictions: number;
  /** Entries found expired (lazily, on access). */
  readonly expirations: number;
  /** Writes the policy refused (admission, or a full `none` policy). */
  readonly rejected: number;
  readonly entries: number;
  /** Units used. */
  readonly used: number;
}

interface StoredEntry<V> {
  key: string;
  value: V | undefined;
  negative: boolean;
  size: number;
  storedAt: number;
  expiresAt: number;
  staleUntil: number;
  delta: number;
}

/**
 * An in-memory cache: a bounded key-value store with an eviction policy, TTLs with jitter, a stale
 * window (soft and hard TTL) and negative entries. Synchronous: it is the data structure inside a cache
 * server or an application's local cache; {@link CacheServer} puts it on the network.
 *
 * Expiry is lazy, as in Redis: an expired entry is dropped when a read finds it, and until then it keeps
 * its place (and may be chosen by the `ttl` eviction policy).
 *
 * Records under its name: counters `cache.hits`, `cache.misses`, `cache.stale-hits`,
 * `cache.negative-hits`, `cache.sets`, `cache.evictions`, `cache.expirations`, `cache.rejected`; gauges
 * `cache.entries`, `cache.used`. With tracing on: `@dsim.cache.evict` and `@dsim.cache.expire` records.
 *
 * @example
 * ```ts
 * const cache = new Cache<string>(sim, { capacity: 1000, eviction: { kind: 'lru' }, ttl: '1m' });
 * cache.set('user:1', 'Ada');
 * cache.get('user:1'); // 'Ada'
 * ```
 */
export class Cache<V = unknown> {
  readonly name: string;
  readonly capacity: number;
  readonly unit: 'entries' | 'bytes';
  readonly policy: EvictionPolicy;
  readonly ttl: number;
  readonly ttlJitter: number;
  readonly staleFor: number;
  readonly negativeTtl: number;
  private readonly entries = new Map<string, StoredEntry<V>>();
  private readonly evicted: string[] = [];
  private readonly rng: RandomStream;
  private counts = {
    hits: 0,
    misses: 0,
    staleHits: 0,
    negativeHits: 0,
    sets: 0,
    evictions: 0,
    expirations: 0,
    rejected: 0,
  };
  private readonly meters: {
    hits: Counter;
    misses: Counter;
    staleHits: Counter;
    negativeHits: Counter;
    sets: Counter;
    evictions: Counter;
    expirations: Counter;
    rejected: Counter;
    entries: Gauge;
    used: Gauge;
  };

  /**
   * @param sim - the simulation (metrics, traces, random streams)
   * @param options - capacity, eviction, TTLs; unknown keys and bad values throw INVALID_ARGUMENT
   * @param where - who configures the cache, for error messages (a wrapper passes itself) @internal
   */
  constructor(
    readonly sim: Simulation,
    options: CacheOptions,
    where: Owner = owner('Cache'),
  ) {
    requireOptions(where, options, CACHE_KEYS);
    this.name = checkName(where, 'name', options.name, 'cache');
    const resolved = resolveCacheOptions(where, options);
    this.capacity = resolved.capacity;
    this.unit = resolved.unit;
    this.ttl = resolved.ttl;
    this.ttlJitter = resolved.ttlJitter;
    this.staleFor = resolved.staleFor;
    this.negativeTtl = resolved.negativeTtl;
    this.rng = sim.rng(`${this.name}/cache`);
    const eviction = resolved.eviction;
    this.policy = isPolicy(eviction)
      ? eviction
      : createEvictionPolicy(
          eviction,
          { capacity: this.capacity, rng: sim.rng(`${this.name}/evict`) },
          nested(where, 'eviction'),
        );
    if (this.policy.capacity !== this.capacity)
      throw invalidOption(
        where,
        'eviction.capacity',
        this.policy.capacity,
        `the cache's capacity (${this.capacity})`,
      );
    const m = sim.metrics;
    const id = this.name;
    this.meters = {
      hits: m.counter(id, 'cache.hits'),
      misses: m.counter(id, 'cache.misses'),
      staleHits: m.counter(id, 'cache.stale-hits'),
      negativeHits: m.counter(id, 'cache.negative-hits'),
      sets: m.counter(id, 'cache.sets'),
      evictions: m.counter(id, 'cache.evictions'),
      expirations: m.counter(id, 'cache.expirations'),
      rejected: m.counter(id, 'cache.rejected'),
      entries: m.gauge(id, 'cache.entries'),
      used: m.gauge(id, 'cache.used'),
    };
  }

  /** A snapshot of the counters. */
  get stats(): CacheStats {
    return { ...this.counts, entries: this.entries.size, used: this.policy.used };
  }

  /** Entries stored now (expired ones not yet noticed included). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The value of a fresh entry, or undefined (a miss: absent, negative, or past its TTL). Counts a hit
   * or a miss.
   */
  get(key: string): V | undefined {
    const status = this.read(key);
    return status === 'hit' ? this.entries.get(key)!.value : undefined;
  }

  /**
   * Looks `key` up and says what a reader finds: `hit` (fresh), `stale` (expired, within `staleFor`),
   * `negative` (a cached not-found) or `miss`. Counts it, lets the policy learn, and drops an entry past
   * its hard TTL. Read the entry with {@link Cache.peek}.
   */
  read(key: string): CacheReadStatus {
    const now = this.sim.now;
    const entry = this.entries.get(key);
    if (entry !== undefined && now >= entry.staleUntil) {
      this.expire(entry);
      return this.miss(key, now);
    }
    if (entry === undefined) return this.miss(key, now);
    if (now >= entry.expiresAt) {
      this.counts.staleHits++;
      this.meters.staleHits.inc();
      this.policy.onHit(key, now);
      return 'stale';
    }
    this.policy.onHit(key, now);
    if (entry.negative) {
      this.counts.negativeHits++;
      this.meters.negativeHits.inc();
      return 'negative';
    }
    this.counts.hits++;
    this.meters.hits.inc();
    return 'hit';
  }

  /** The stored entry, without counting or touching the policy (undefined when absent). */
  peek(key: string): CacheEntry<V> | undefined {
    return this.entries.get(key);
  }

  /** Whether `key` has a fresh, positive entry (no counting). */
  has(key: string): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && !entry.negative && this.sim.now < entry.expiresAt;
  }

  /** The keys stored now (expired entries not yet noticed included), in no guaranteed order. */
  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /**
   * Stores `value` under `key`, evicting as the policy decides. Returns false when the policy refused
   * the entry (admission, a full `none` policy, or larger than the cache).
   */
  set(key: string, value: V, options?: CacheSetOptions): boolean {
    return this.store(key, value, false, options);
  }

  /** Stores a negative entry ("not found") with the negative TTL. */
  setNegative(key: string, options?: Omit<CacheSetOptions, 'ttl'>): boolean {
    return this.store(key, undefined, true, { ...options, ttl: this.negativeTtl });
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    if (!this.entries.delete(key)) return false;
    this.policy.remove(key);
    this.gauges();
    return true;
  }

  /** Removes everything (a flush or a restart without persistence). */
  clear(): void {
    this.entries.clear();
    this.policy.clear();
    this.gauges();
  }

  /** The TTL a new entry gets: `ttl` spread by `ttlJitter`. */
  drawTtl(): number {
    if (this.ttlJitter === 0 || this.ttl === Infinity) return this.ttl;
    return this.ttl * (1 + this.ttlJitter * (2 * this.rng.next() - 1));
  }

  private store(
    key: string,
    value: V | undefined,
    negative: boolean,
    options: CacheSetOptions | undefined,
  ): boolean {
    const now = this.sim.now;
    const where = `cache ${this.name}: set(${JSON.stringify(key)})`;
    const size = options?.size ?? 1;
    if (this.unit === 'entries' ? size !== 1 : !(Number.isInteger(size) && size >= 1))
      throw invalidArgument(
        `${where} size`,
        size,
        this.unit === 'entries' ? '1 (the cache counts entries)' : 'an integer >= 1 (bytes)',
      );
    const ttl = options?.ttl === undefined ? this.drawTtl() : toMs(options.ttl, `${where} ttl`);
    const delta = options?.delta ?? 0;
    if (typeof delta !== 'number' || !(delta >= 0) || delta === Infinity)
      throw invalidArgument(`${where} delta`, delta, 'a finite number of ms >= 0');
    const expiresAt = now + ttl;
    const evicted = this.evicted;
    evicted.length = 0;
    this.policy.put(key, size, expiresAt, now, evicted);
    let refused = false;
    for (let i = 0; i < evicted.length; i++) {
      const victim = evicted[i]!;
      if (victim === key) {
        refused = true;
        continue;
      }
      this.entries.delete(victim);
      this.counts.evictions++;
      this.meters.evictions.inc();
      if (this.sim.tracing) this.sim.emit('@dsim.cache.evict', { cache: this.name, key: victim });
    }
    if (refused) {
      this.entries.delete(key);
      this.counts.rejected++;
      this.meters.rejected.inc();
      this.gauges();
      return false;
    }
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.entries.set(key, {
        key,
        value,
        negative,
        size,
        storedAt: now,
        expiresAt,
        staleUntil: expiresAt + this.staleFor,
        delta,
      });
    } else {
      entry.value = value;
      entry.negative = negative;
      entry.size = size;
      entry.storedAt = now;
      entry.expiresAt = expiresAt;
      entry.staleUntil = expiresAt + this.staleFor;
      entry.delta = delta;
    }
    this.counts.sets++;
    this.meters.sets.inc();
    this.gauges();
    return true;
  }

  private miss(key: string, now: number): 'miss' {
    this.counts.misses++;
    this.meters.misses.inc();
    this.policy.onMiss(key, now);
    return 'miss';
  }

  private expire(entry: StoredEntry<V>): void {
    this.entries.delete(entry.key);
    this.policy.remove(entry.key);
    this.counts.expirations++;
    this.meters.expirations.inc();
    if (this.sim.tracing) this.sim.emit('@dsim.cache.expire', { cache: this.name, key: entry.key });
    this.gauges();
  }

  private gauges(): void {
    this.meters.entries.set(this.entries.size);
    this.meters.used.set(this.policy.used);
  }
}

function isPolicy(x: EvictionSpec | EvictionPolicy): x is EvictionPolicy {
  return typeof (x as EvictionPolicy).put === 'function';
}
