import {
  checkDuration,
  checkName,
  type Duration,
  invalidOption,
  type NetNode,
  optionKeys,
  RpcEndpoint,
  requireOptions,
} from '@dsim/core';
import type { DnsAnswer } from './dns-server.js';

/**
 * Options of a {@link DnsResolver}.
 *
 * @example
 * ```ts
 * const jvm: DnsResolverOptions = { server: 'dns', cacheTtl: '30s' }; // networkaddress.cache.ttl
 * ```
 */
export interface DnsResolverOptions {
  /** The {@link DnsServer}'s node address. */
  server: string;
  /**
   * How long an answer is cached: `'record'` honours the answer's TTL; a duration overrides it, as the
   * JVM does (`networkaddress.cache.ttl`: without a security manager an implementation-specific period,
   * 30 s in OpenJDK, whatever the record says; with one, for ever: pass Infinity). A duration >= 0,
   * Infinity or `'record'`.
   * @default 'record'
   */
  cacheTtl?: Duration | 'record';
  /** How long a query waits for its answer (resolv.conf `timeout`, 5 s by default). A duration > 0. @default 5000 */
  timeout?: Duration;
}

const RESOLVER_KEYS = optionKeys<DnsResolverOptions>()({ server: true, cacheTtl: true, timeout: true });

/**
 * What a {@link DnsResolver} has done so far.
 *
 * @example
 * ```ts
 * const { lookups, queries } = resolver.stats;
 * ```
 */
export interface DnsResolverStats {
  /** `resolve` calls. */
  lookups: number;
  /** Lookups answered from the cache. */
  hits: number;
  /** Queries sent to the server. */
  queries: number;
  /** Queries that failed (no answer in time, NXDOMAIN). */
  failures: number;
}

interface Entry {
  addresses: readonly string[];
  expiresAt: number;
  waiting: Array<(addresses: readonly string[] | null) => void> | null;
}

/**
 * A caching stub resolver on a client's node. `resolve(name, done)` answers from the cache while the
 * entry is fresh (synchronously, inside the call); otherwise it queries the {@link DnsServer} over the
 * network (lookups of the same name meanwhile wait for the same query) and caches the answer for the
 * record's TTL, or for `cacheTtl` when it overrides it. A failed query answers `null` and caches
 * nothing.
 *
 * Refresh is lazy: an expired entry is queried again at the next lookup, so a client stops using an
 * address at its first lookup after (the removal reached the server) and (its entry expired), within
 * `ttl` + the time to the next request after the server stopped answering it. Clients that hold pooled
 * connections and do not resolve per request keep the old address longer; that is not modelled.
 *
 * @example
 * ```ts
 * const resolver = new DnsResolver(net.addNode('web'), { server: 'dns', cacheTtl: '30s' });
 * resolver.resolve('orders', (addresses) => {
 *   if (addresses !== null && addresses.length > 0) endpoint.call(addresses[0]!, 'GET /');
 * });
 * ```
 */
export class DnsResolver {
  /** The server's address. */
  readonly server: string;
  /** The cache TTL override in ms, or `'record'`. */
  readonly cacheTtl: number | 'record';
  /** The query timeout, ms. */
  readonly timeout: number;
  private readonly endpoint: RpcEndpoint;
  private readonly cache = new Map<string, Entry>();
  private readonly counts: DnsResolverStats = { lookups: 0, hits: 0, queries: 0, failures: 0 };

  /**
   * @param node - the client's node; queries are calls on its endpoint
   * @param options - see {@link DnsResolverOptions}
   */
  constructor(
    readonly node: NetNode<any>,
    options: DnsResolverOptions,
  ) {
    const C = 'DnsResolver';
    if (node === null || typeof node !== 'object' || typeof node.setTimer !== 'function')
      throw invalidOption(C, 'node', node, 'a network node (net.addNode(...))');
    requireOptions(C, options, RESOLVER_KEYS);
    this.server = checkName(C, 'server', options.server);
    this.cacheTtl =
      options.cacheTtl === undefined || options.cacheTtl === 'record'
        ? 'record'
        : checkDuration(C, 'cacheTtl', options.cacheTtl, { infinity: true });
    this.timeout = checkDuration(C, 'timeout', options.timeout, { positive: true }, 5000);
    this.endpoint = RpcEndpoint.of(node);
    node.onCrash(() => this.cache.clear());
  }

  /** A copy of the counts. */
  get stats(): DnsResolverStats {
    return { ...this.counts };
  }

  /** The cached addresses of `name` if the entry is fresh now, else undefined. */
  cached(name: string): readonly string[] | undefined {
    const entry = this.cache.get(name);
    return entry !== undefined && this.node.network.sim.now < entry.expiresAt ? entry.addresses : undefined;
  }

  /** Calls `done` with the addresses of `name` (from the cache, or after a query), or null if the query failed. */
  resolve(name: string, done: (addresses: readonly string[] | null) => void): void {
    this.counts.lookups++;
    const now = this.node.network.sim.now;
    let entry = this.cache.get(name);
    if (entry !== undefined && entry.waiting === null && now < entry.expiresAt) {
      this.counts.hits++;
      done(entry.addresses);
      return;
    }
    if (entry === undefined) {
      entry = { addresses: Object.freeze([]), expiresAt: -Infinity, waiting: null };
      this.cache.set(name, entry);
    }
    if (entry.waiting !== null) {
      entry.waiting.push(done);
      return;
    }
    entry.waiting = [done];
    this.counts.queries++;
    const e = entry;
    this.endpoint.callThen(this.server, { op: 'resolve', name }, { timeout: this.timeout }, (res) => {
      const waiting = e.waiting ?? [];
      e.waiting = null;
      if (this.cache.get(name) !== e) return; // the node crashed meanwhile
      if (!res.ok) {
        this.counts.failures++;
        for (const w of waiting) w(null);
        return;
      }
      const answer = res.value as DnsAnswer;
      e.addresses = answer.addresses;
      e.expiresAt = this.node.network.sim.now + (this.cacheTtl === 'record' ? answer.ttl : this.cacheTtl);
      for (const w of waiting) w(e.addresses);
    });
  }
}
