import {
  type Counter,
  checkBoolean,
  checkDuration,
  checkFunction,
  checkKeys,
  checkName,
  checkNumber,
  type Duration,
  type Histogram,
  invalidOption,
  nested,
  optionKeys,
  owner,
  type RandomStream,
  requireOptions,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import type { CacheAccess, CacheLookup, CacheStoreOptions } from './cache-access.js';
import { Singleflight } from './singleflight.js';
import { checkBeta, xfetchShouldRefresh } from './xfetch.js';

/** What a loader returns: `ok` with a value (undefined: not found), or a failure. RpcResponse fits. */
export interface LoadResult<V> {
  readonly ok: boolean;
  readonly value?: V;
}

/**
 * Options of a {@link CacheAside} reader.
 *
 * @example
 * ```ts
 * const options: CacheAsideOptions<Row> = {
 *   cache: new RemoteCache(endpoint, { servers: 'redis' }),
 *   load: (key) => endpoint.call('db', key, { timeout: 500 }),
 *   coalesce: true,
 * };
 * ```
 */
export interface CacheAsideOptions<V> {
  /**
   * Name for metrics and the random stream.
   * @default 'cache-aside'
   */
  name?: string;
  /** The cache, in process or remote. */
  cache: CacheAccess<V>;
  /** Loads a key from the origin (the database, a service). */
  load: (key: string) => SimEvent<LoadResult<V>>;
  /** TTL of what this reader stores, a finite duration > 0. @default the cache's */
  ttl?: Duration;
  /**
   * Coalesce concurrent misses of one key in this process (singleflight): one origin call per key at a
   * time per reader.
   * @default false
   */
  coalesce?: boolean;
  /**
   * XFetch: refresh a fresh value early with probability e^(−τ/(beta·delta)) at time-to-expiry τ; the
   * reader that draws the refresh waits for it, as in the paper.
   * @default off
   */
  xfetch?: { readonly beta?: number };
  /**
   * Serve a stale entry (within the cache's `staleFor`) at once and refresh it in the background, one
   * refresh per key at a time (HTTP's stale-while-revalidate).
   * @default false
   */
  staleWhileRevalidate?: boolean;
  /**
   * Use the cache server's leases: on a miss only the lease holder loads; the others wait `retryAfter`
   * and look again, at most `maxWaits` times, then load anyway. Needs a {@link RemoteCache}.
   * @default off
   */
  lease?: { readonly retryAfter?: Duration; readonly maxWaits?: number };
  /**
   * Store "not found" as a negative entry.
   * @default true
   */
  negative?: boolean;
}

/** Every key of {@link CacheAsideOptions}. @internal */
export const CACHE_ASIDE_KEYS = optionKeys<CacheAsideOptions<unknown>>()({
  name: true,
  cache: true,
  load: true,
  ttl: true,
  coalesce: true,
  xfetch: true,
  staleWhileRevalidate: true,
  lease: true,
  negative: true,
});

/** Every key of the `xfetch` option. @internal */
export const XFETCH_KEYS = optionKeys<NonNullable<CacheAsideOptions<unknown>['xfetch']>>()({ beta: true });

/** Every key of the `lease` option. @internal */
export const LEASE_KEYS = optionKeys<NonNullable<CacheAsideOptions<unknown>['lease']>>()({
  retryAfter: true,
  maxWaits: true,
});

/** Where a read's value came from. */
export type CacheAsideSource = 'hit' | 'stale' | 'negative' | 'miss' | 'coalesced' | 'refresh' | 'failed';

/** The outcome of {@link CacheAside.read}. */
export interface CacheAsideResult<V> {
  /** False only when the origin failed and nothing servable was cached. */
  readonly ok: boolean;
  readonly value: V | undefined;
  readonly source: CacheAsideSource;
  /** Time from the read to the answer (ms). */
  readonly latency: number;
}

/**
 * Counters of a {@link CacheAside} reader.
 *
 * @example
 * ```ts
 * const { originCalls, reads } = reader.stats;
 * ```
 */
export interface CacheAsideStats {
  readonly reads: number;
  readonly hits: number;
  readonly staleServed: number;
  readonly misses: number;
  /** Misses that joined a load already in flight (singleflight). */
  readonly coalesced: number;
  /** Loads started (origin calls). */
  readonly originCalls: number;
  /** Origin calls in flight now, and the most at once. */
  readonly originInFlight: number;
  readonly originPeakInFlight: number;
  /** Early refreshes drawn by XFetch. */
  readonly earlyRefreshes: number;
  /** Hot misses: waits because another reader held the lease. */
  readonly leaseWaits: number;
  readonly failed: number;
}

/**
 * The cache-aside read path (the application's logic): look in the cache; on a miss, load from the
 * origin and store the result. With the stampede defences it can switch on: request coalescing
 * (singleflight), XFetch probabilistic early refresh, stale-while-revalidate, and leases.
 *
 * Records under its name: counters `aside.reads`, `aside.hits`, `aside.misses`, `aside.origin-calls`,
 * `aside.coalesced`, `aside.stale-served`, `aside.early-refreshes`, `aside.lease-waits`; histogram
 * `aside.latency`.
 *
 * @example
 * ```ts
 * const reader = new CacheAside(sim, { cache: new LocalCacheAccess(cache), load: (k) => db.call('db', k), coalesce: true });
 * reader.read('user:1').onProcessed((e) => console.log(e.value!.source));
 * ```
 */
export class CacheAside<V> {
  readonly name: string;
  private readonly cache: CacheAccess<V>;
  private readonly load: (key: string) => SimEvent<LoadResult<V>>;
  private readonly ttl: number | undefined;
  private readonly flights: Singleflight<LoadResult<V>> | undefined;
  private readonly refreshes = new Singleflight<LoadResult<V>>();
  private readonly beta: number | undefined;
  private readonly swr: boolean;
  private readonly leaseRetry: number;
  private readonly leaseMaxWaits: number;
  private readonly useLease: boolean;
  private readonly negative: boolean;
  private readonly rng: RandomStream;
  private counts = {
    reads: 0,
    hits: 0,
    staleServed: 0,
    misses: 0,
    coalesced: 0,
    originCalls: 0,
    originInFlight: 0,
    originPeakInFlight: 0,
    earlyRefreshes: 0,
    leaseWaits: 0,
    failed: 0,
  };
  private readonly meters: Record<
    | 'reads'
    | 'hits'
    | 'misses'
    | 'originCalls'
    | 'coalesced'
    | 'staleServed'
    | 'earlyRefreshes'
    | 'leaseWaits',
    Counter
  > & { latency: Histogram };

  /**
   * @param sim - the simulation (metrics, random stream)
   * @param options - the cache, the loader and the stampede defences; unknown keys (also inside `xfetch`
   *   and `lease`) and bad values throw INVALID_ARGUMENT
   */
  constructor(
    readonly sim: Simulation,
    options: CacheAsideOptions<V>,
  ) {
    const where = owner('CacheAside');
    requireOptions(where, options, CACHE_ASIDE_KEYS);
    this.name = checkName(where, 'name', options.name, 'cache-aside');
    if (options.cache === null || typeof options.cache?.lookup !== 'function')
      throw invalidOption(
        where,
        'cache',
        options.cache,
        'a CacheAccess (LocalCacheAccess, RemoteCache or DistributedCache)',
      );
    this.cache = options.cache;
    this.load = checkFunction(where, 'load', options.load, '(key) => SimEvent<{ ok, value }>');
    // A finite TTL: it travels with each store, and the cache takes a number of ms.
    this.ttl =
      options.ttl === undefined ? undefined : checkDuration(where, 'ttl', options.ttl, { positive: true });
    this.flights = checkBoolean(where, 'coalesce', options.coalesce, false) ? new Singleflight() : undefined;
    const xfetch = nested(where, 'xfetch');
    checkKeys(xfetch, options.xfetch, XFETCH_KEYS);
    this.beta = options.xfetch === undefined ? undefined : checkBeta(options.xfetch.beta ?? 1, xfetch);
    this.swr = checkBoolean(where, 'staleWhileRevalidate', options.staleWhileRevalidate, false);
    const lease = nested(where, 'lease');
    checkKeys(lease, options.lease, LEASE_KEYS);
    this.useLease = options.lease !== undefined;
    this.leaseRetry = checkDuration(lease, 'retryAfter', options.lease?.retryAfter, { positive: true }, 10);
    this.leaseMaxWaits = checkNumber(
      lease,
      'maxWaits',
      options.lease?.maxWaits,
      { integer: true, min: 0 },
      50,
    );
    this.negative = checkBoolean(where, 'negative', options.negative, true);
    this.rng = sim.rng(`${this.name}/aside`);
    const m = sim.metrics;
    const id = this.name;
    this.meters = {
      reads: m.counter(id, 'aside.reads'),
      hits: m.counter(id, 'aside.hits'),
      misses: m.counter(id, 'aside.misses'),
      originCalls: m.counter(id, 'aside.origin-calls'),
      coalesced: m.counter(id, 'aside.coalesced'),
      staleServed: m.counter(id, 'aside.stale-served'),
      earlyRefreshes: m.counter(id, 'aside.early-refreshes'),
      leaseWaits: m.counter(id, 'aside.lease-waits'),
      latency: m.histogram(id, 'aside.latency'),
    };
  }

  /** A snapshot of the counters. */
  get stats(): CacheAsideStats {
    return { ...this.counts };
  }

  /** Reads `key` through the cache. Never fails: an origin failure is `{ ok: false, source: 'failed' }`. */
  read(key: string): SimEvent<CacheAsideResult<V>> {
    const out = this.sim.event<CacheAsideResult<V>>();
    const started = this.sim.now;
    this.counts.reads++;
    this.meters.reads.inc();
    this.lookup(key, out, started, 0);
    return out;
  }

  private lookup(key: string, out: SimEvent<CacheAsideResult<V>>, started: number, waits: number): void {
    this.cache.lookup(key, this.useLease).onProcessed((e) => this.found(key, e.value!, out, started, waits));
  }

  private found(
    key: string,
    found: CacheLookup<V>,
    out: SimEvent<CacheAsideResult<V>>,
    started: number,
    waits: number,
  ): void {
    const now = this.sim.now;
    if (found.status === 'hit' || found.status === 'negative') {
      if (
        found.status === 'hit' &&
        this.beta !== undefined &&
        xfetchShouldRefresh(now, found.expiresAt, found.delta, this.beta, this.rng)
      ) {
        this.counts.earlyRefreshes++;
        this.meters.earlyRefreshes.inc();
        this.fill(key, undefined, out, started, 'refresh');
        return;
      }
      this.counts.hits++;
      this.meters.hits.inc();
      this.answer(out, started, true, found.value, found.status);
      return;
    }
    if (found.status === 'stale' && this.swr) {
      this.counts.staleServed++;
      this.meters.staleServed.inc();
      this.answer(out, started, true, found.value, 'stale');
      this.refreshes.do(key, () => this.origin(key, undefined));
      return;
    }
    if (typeof found.lease === 'number') {
      this.miss();
      this.fill(key, found.lease, out, started, 'miss');
      return;
    }
    if (found.lease === 'held' && waits < this.leaseMaxWaits) {
      // A hot miss: someone else is loading this key; look again shortly.
      this.counts.leaseWaits++;
      this.meters.leaseWaits.inc();
      this.sim.schedule(this.leaseRetry, () => this.lookup(key, out, started, waits + 1));
      return;
    }
    this.miss();
    this.fill(key, undefined, out, started, 'miss');
  }

  private miss(): void {
    this.counts.misses++;
    this.meters.misses.inc();
  }

  /** Loads and stores (coalesced when configured), then answers. */
  private fill(
    key: string,
    lease: number | undefined,
    out: SimEvent<CacheAsideResult<V>>,
    started: number,
    source: CacheAsideSource,
  ): void {
    let load: SimEvent<LoadResult<V>>;
    let src = source;
    if (this.flights !== undefined) {
      const joined = this.flights.inFlight(key);
      load = this.flights.do(key, () => this.origin(key, lease));
      if (joined) {
        this.counts.coalesced++;
        this.meters.coalesced.inc();
        src = 'coalesced';
      }
    } else {
      load = this.origin(key, lease);
    }
    load.onProcessed((e) => {
      const res = e.value!;
      if (res.ok) this.answer(out, started, true, res.value, src);
      else {
        this.counts.failed++;
        this.answer(out, started, false, undefined, 'failed');
      }
    });
  }

  /** One origin call; stores its result with the measured recompute time. */
  private origin(key: string, lease: number | undefined): SimEvent<LoadResult<V>> {
    const begun = this.sim.now;
    this.counts.originCalls++;
    this.meters.originCalls.inc();
    this.counts.originInFlight++;
    if (this.counts.originInFlight > this.counts.originPeakInFlight)
      this.counts.originPeakInFlight = this.counts.originInFlight;
    const load = this.load(key);
    load.onProcessed((e) => {
      this.counts.originInFlight--;
      const res = e.value!;
      if (!res.ok) return;
      if (res.value === undefined && !this.negative) return;
      const options: { -readonly [K in keyof CacheStoreOptions]: CacheStoreOptions[K] } = {
        delta: this.sim.now - begun,
      };
      if (this.ttl !== undefined) options.ttl = this.ttl;
      if (lease !== undefined) options.lease = lease;
      this.cache.store(key, res.value, options);
    });
    return load;
  }

  private answer(
    out: SimEvent<CacheAsideResult<V>>,
    started: number,
    ok: boolean,
    value: V | undefined,
    source: CacheAsideSource,
  ): void {
    const latency = this.sim.now - started;
    this.meters.latency.record(latency);
    out.succeed({ ok, value, source, latency });
  }
}
