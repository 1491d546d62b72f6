import {
  checkBoolean,
  checkDistribution,
  checkDuration,
  checkNumber,
  constant,
  type Distribution,
  type Duration,
  invalidArgument,
  type NetNode,
  optionKeys,
  owner,
  requireOptions,
} from '@dsim/core';
import { Service } from '../service/service.js';
import { Cache, type CacheOptions } from './cache.js';
import type { CacheLookup, CacheRequest } from './cache-access.js';

/** Options of a {@link CacheServer}: the cache's, plus how the server serves. */
export interface CacheServerOptions extends Omit<CacheOptions, 'name'> {
  /**
   * Time to serve one operation.
   * @default 0.05 ms (an in-memory store: about 20 000 operations per second per worker)
   */
  serviceTime?: Distribution | Duration;
  /**
   * Workers. Redis executes commands on one thread.
   * @default 1
   */
  concurrency?: number;
  /**
   * Whether the data survives a crash and restart (persistence). Without it a restart is a cold cache.
   * @default false
   */
  persistent?: boolean;
  /**
   * How long a lease granted on a miss is valid (memcached leases, "Scaling Memcache at Facebook",
   * NSDI 2013): while it is held, other readers that miss are told to wait (a hot miss), and a store
   * is accepted only with the current token; a delete invalidates the token. A finite duration > 0.
   * @default 10 s
   */
  leaseTtl?: Duration;
}

/** Every key of {@link CacheServerOptions}. @internal */
export const CACHE_SERVER_KEYS = optionKeys<CacheServerOptions>()({
  capacity: true,
  unit: true,
  eviction: true,
  ttl: true,
  ttlJitter: true,
  staleFor: true,
  negativeTtl: true,
  serviceTime: true,
  concurrency: true,
  persistent: true,
  leaseTtl: true,
});

/** 0.05 ms: an in-memory store. */
const DEFAULT_SERVICE_TIME = constant(0.05);

interface Lease {
  token: number;
  until: number;
}

/**
 * A cache server on a node: a {@link Cache} served over RPC by a {@link Service} (workers, queueing, the
 * node's faults). It answers {@link CacheRequest}s: `get` (optionally asking for a lease on a miss), `set`
 * (with the lease token when leases are used; a set with a stale token is ignored), `delete`, `flush` and `ping` (a health probe).
 * A crash empties it unless `persistent`. The cache's metrics are recorded under the node's address.
 *
 * @example
 * ```ts
 * const redis = new CacheServer(net.addNode('redis'), { capacity: 100_000, eviction: { kind: 'redis-lru' }, ttl: '5m' });
 * const access = new RemoteCache(new RpcEndpoint(net.addNode('app')), { servers: 'redis' });
 * ```
 */
export class CacheServer {
  readonly cache: Cache<unknown>;
  readonly service: Service;
  readonly leaseTtl: number;
  private readonly leases = new Map<string, Lease>();
  private nextToken = 1;
  private hotMisses = 0;
  private staleSets = 0;

  /**
   * @param node - the node the server runs on (its address names the cache's metrics)
   * @param options - the cache's options and the server's; unknown keys and bad values throw INVALID_ARGUMENT
   */
  constructor(
    readonly node: NetNode<any>,
    options: CacheServerOptions,
  ) {
    const where = owner('CacheServer');
    requireOptions(where, options, CACHE_SERVER_KEYS);
    const { serviceTime: time, concurrency: workers, persistent: keep, leaseTtl, ...cacheOptions } = options;
    const serviceTime = checkDistribution(
      where,
      'serviceTime',
      time,
      'exponential({ mean: 20 })',
      {},
      DEFAULT_SERVICE_TIME,
    );
    const concurrency = checkNumber(where, 'concurrency', workers, { integer: true, min: 1 }, 1);
    const persistent = checkBoolean(where, 'persistent', keep, false);
    this.leaseTtl = checkDuration(where, 'leaseTtl', leaseTtl, { positive: true }, 10_000);
    this.cache = new Cache(node.network.sim, { ...cacheOptions, name: node.address }, where);
    this.service = new Service(node, {
      serviceTime,
      concurrency,
      respond: (request) => this.handle(request.payload as CacheRequest),
    });
    node.onCrash(() => {
      this.leases.clear();
      if (!persistent) this.cache.clear();
    });
  }

  /** Lookups told to wait because another reader holds the lease. */
  get leaseStats(): { readonly hotMisses: number; readonly staleSetsIgnored: number; readonly held: number } {
    return { hotMisses: this.hotMisses, staleSetsIgnored: this.staleSets, held: this.leases.size };
  }

  private handle(request: CacheRequest): unknown {
    if (request === null || typeof request !== 'object')
      throw invalidArgument(`cache server ${this.node.address}: request`, request, 'a CacheRequest');
    const now = this.node.network.sim.now;
    switch (request.op) {
      case 'get': {
        const status = this.cache.read(request.key);
        const entry = status === 'miss' ? undefined : this.cache.peek(request.key);
        const lookup: { -readonly [K in keyof CacheLookup<unknown>]: CacheLookup<unknown>[K] } = {
          status,
          value: entry?.value,
          expiresAt: entry?.expiresAt ?? Infinity,
          delta: entry?.delta ?? 0,
        };
        if (request.lease === true && status !== 'hit' && status !== 'negative') {
          const held = this.leases.get(request.key);
          if (held !== undefined && now < held.until) {
            this.hotMisses++;
            lookup.lease = 'held';
          } else {
            const token = this.nextToken++;
            this.leases.set(request.key, { token, until: now + this.leaseTtl });
            lookup.lease = token;
          }
        }
        return lookup;
      }
      case 'set': {
        if (request.lease !== undefined) {
          const held = this.leases.get(request.key);
          if (held === undefined || held.token !== request.lease) {
            this.staleSets++; // the lease was invalidated by a delete (or expired and was re-granted)
            return false;
          }
          this.leases.delete(request.key);
        }
        const options = {
          ...(request.ttl === undefined ? {} : { ttl: request.ttl }),
          ...(request.delta === undefined ? {} : { delta: request.delta }),
          ...(request.size === undefined ? {} : { size: request.size }),
        };
        return request.negative === true
          ? this.cache.setNegative(request.key, options)
          : this.cache.set(request.key, request.value, options);
      }
      case 'delete':
        this.leases.delete(request.key);
        return this.cache.delete(request.key);
      case 'ping':
        return true;
      case 'flush':
        this.leases.clear();
        this.cache.clear();
        return true;
      default:
        throw invalidArgument(
          `cache server ${this.node.address}: request.op`,
          (request as { op: unknown }).op,
          '"get", "set", "delete", "flush" or "ping"',
        );
    }
  }
}
