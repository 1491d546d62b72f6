import {
  checkDuration,
  type Duration,
  invalidOption,
  optionKeys,
  owner,
  type RpcEndpoint,
  requireOptions,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import { Cache, type CacheReadStatus } from './cache.js';

/**
 * What a cache lookup found. `lease` is set when a lease was asked for on a miss: a token when this
 * reader got the lease (it should load and store with it), or `'held'` when another reader holds it
 * (a hot miss: wait and look again).
 */
export interface CacheLookup<V> {
  readonly status: CacheReadStatus;
  /** The value for `hit` and `stale`. */
  readonly value: V | undefined;
  /** End of the entry's freshness (Infinity when none or unknown). */
  readonly expiresAt: number;
  /** Recompute time stored with the entry (XFetch), 0 when unknown. */
  readonly delta: number;
  readonly lease?: number | 'held';
}

/** Options of a store through {@link CacheAccess.store}. */
export interface CacheStoreOptions {
  /** TTL of the entry. @default the cache's */
  readonly ttl?: number;
  /** Recompute time to keep with the entry (XFetch). @default 0 */
  readonly delta?: number;
  /** The lease token from the lookup, when leases are used. */
  readonly lease?: number;
  /** Size in the cache's units. @default 1 */
  readonly size?: number;
}

/**
 * How a caching client reaches its cache: in process ({@link LocalCacheAccess}) or over the network
 * ({@link RemoteCache}). Lookups are events so both look the same to the client.
 */
export interface CacheAccess<V> {
  lookup(key: string, lease?: boolean): SimEvent<CacheLookup<V>>;
  /**
   * Stores a value, or a negative entry when `value` is undefined. Fire and forget, or wait for the
   * returned event: true once the cache holds the value, false when it refused it (admission, a stale
   * lease) or could not be reached.
   */
  store(key: string, value: V | undefined, options?: CacheStoreOptions): SimEvent<boolean>;
  /**
   * Deletes the entry (and invalidates its lease). Fire and forget, or wait for the returned event: true
   * once the cache has no entry for `key`, false when it could not be reached.
   */
  invalidate(key: string): SimEvent<boolean>;
}

/**
 * A {@link Cache} in the caller's own process, seen through the {@link CacheAccess} interface. Lookups
 * resolve at the same instant. Leases are not modelled in process (there is one reader process).
 *
 * @example
 * ```ts
 * const access = new LocalCacheAccess(new Cache(sim, { capacity: 100 }));
 * ```
 */
export class LocalCacheAccess<V> implements CacheAccess<V> {
  /** @param cache - the {@link Cache} to reach; anything else throws INVALID_ARGUMENT */
  constructor(readonly cache: Cache<V>) {
    if (!(cache instanceof Cache))
      throw invalidOption(
        owner('LocalCacheAccess'),
        'cache',
        cache,
        'a Cache (new Cache(sim, { capacity }))',
      );
  }

  lookup(key: string): SimEvent<CacheLookup<V>> {
    const cache = this.cache;
    const status = cache.read(key);
    const entry = status === 'miss' ? undefined : cache.peek(key);
    return cache.sim.event<CacheLookup<V>>().succeed({
      status,
      value: entry?.value,
      expiresAt: entry?.expiresAt ?? Infinity,
      delta: entry?.delta ?? 0,
    });
  }

  store(key: string, value: V | undefined, options: CacheStoreOptions = {}): SimEvent<boolean> {
    const { lease: _lease, ...rest } = options;
    const stored = value === undefined ? this.cache.setNegative(key, rest) : this.cache.set(key, value, rest);
    return this.cache.sim.event<boolean>().succeed(stored);
  }

  invalidate(key: string): SimEvent<boolean> {
    this.cache.delete(key);
    return this.cache.sim.event<boolean>().succeed(true);
  }
}

/** Options of a {@link RemoteCache}. */
export interface RemoteCacheOptions {
  /** The cache server's address, or a function from key to address (sharding). */
  readonly servers: string | ((key: string) => string);
  /**
   * Timeout of each cache call, a finite duration > 0; a lookup that times out or fails reads as a miss.
   * @default 100 ms
   */
  readonly timeout?: Duration;
}

/** Every key of {@link RemoteCacheOptions}. @internal */
export const REMOTE_CACHE_KEYS = optionKeys<RemoteCacheOptions>()({ servers: true, timeout: true });

/** A request to a {@link CacheServer}. */
export type CacheRequest =
  | { readonly op: 'get'; readonly key: string; readonly lease?: boolean }
  | {
      readonly op: 'set';
      readonly key: string;
      readonly value: unknown;
      readonly negative?: boolean;
      readonly ttl?: number;
      readonly delta?: number;
      readonly lease?: number;
      readonly size?: number;
    }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'flush' }
  /** A health probe: answered without touching the data or the counters. */
  | { readonly op: 'ping' };

/**
 * A {@link CacheServer} (or a sharded set of them) reached over RPC, seen through the
 * {@link CacheAccess} interface. A failed or timed-out lookup reads as a miss, as a client library
 * falls back to the origin when the cache is down.
 *
 * @example
 * ```ts
 * const access = new RemoteCache<string>(endpoint, { servers: 'redis', timeout: '50ms' });
 * ```
 */
export class RemoteCache<V> implements CacheAccess<V> {
  readonly timeout: number;
  private readonly route: (key: string) => string;
  private readonly sim: Simulation;

  /**
   * @param endpoint - the caller's RPC endpoint
   * @param options - the servers and the timeout; unknown keys and bad values throw INVALID_ARGUMENT
   */
  constructor(
    readonly endpoint: RpcEndpoint<any, any>,
    options: RemoteCacheOptions,
  ) {
    const where = owner('RemoteCache');
    if (endpoint === null || typeof endpoint !== 'object' || typeof endpoint.call !== 'function')
      throw invalidOption(where, 'endpoint', endpoint, 'an RpcEndpoint (new RpcEndpoint(node))');
    requireOptions(where, options, REMOTE_CACHE_KEYS);
    const servers = options.servers;
    if (typeof servers === 'string' && servers !== '') this.route = () => servers;
    else if (typeof servers === 'function') this.route = servers;
    else throw invalidOption(where, 'servers', servers, 'an address or a function (key) => address');
    this.timeout = checkDuration(where, 'timeout', options.timeout, { positive: true }, 100);
    this.sim = endpoint.node.network.sim;
  }

  lookup(key: string, lease = false): SimEvent<CacheLookup<V>> {
    const out = this.sim.event<CacheLookup<V>>();
    const request: CacheRequest = lease ? { op: 'get', key, lease } : { op: 'get', key };
    this.endpoint
      .call<CacheLookup<V>>(this.route(key), request, { timeout: this.timeout, key })
      .onProcessed((e) => {
        const res = e.value!;
        out.succeed(res.ok ? res.value : MISS);
      });
    return out;
  }

  store(key: string, value: V | undefined, options: CacheStoreOptions = {}): SimEvent<boolean> {
    const request: CacheRequest = { op: 'set', key, value, negative: value === undefined, ...options };
    const out = this.sim.event<boolean>();
    this.endpoint
      .call(this.route(key), request, { timeout: this.timeout, key })
      .onProcessed((e) => out.succeed(e.value!.ok && e.value!.value !== false));
    return out;
  }

  invalidate(key: string): SimEvent<boolean> {
    const out = this.sim.event<boolean>();
    this.endpoint
      .call(this.route(key), { op: 'delete', key } satisfies CacheRequest, { timeout: this.timeout, key })
      .onProcessed((e) => out.succeed(e.value!.ok));
    return out;
  }
}

const MISS: CacheLookup<never> = Object.freeze({
  status: 'miss',
  value: undefined,
  expiresAt: Infinity,
  delta: 0,
});
