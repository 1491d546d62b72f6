import {
  type CallOptions,
  type Counter,
  checkBoolean,
  checkDistribution,
  checkDuration,
  constant,
  type Distribution,
  type Duration,
  invalidArgument,
  invalidOption,
  type NetNode,
  type Owner,
  optionKeys,
  owner,
  type RandomStream,
  type Reply,
  RpcEndpoint,
  type RpcRequest,
  type RpcResponse,
  requireOptions,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import { Cache } from '../cache.js';
import type { EvictionPolicy, EvictionSpec } from '../policies/types.js';
import { Singleflight } from '../singleflight.js';
import { type CdnHop, type CdnHopStatus, type CdnObject, type CdnResponse, isCdnObject } from './types.js';

/**
 * Options of a {@link CdnCache}: where misses go, the cache's size and policy, freshness, and how the
 * tier serves.
 *
 * @example
 * ```ts
 * const options: CdnCacheOptions = {
 *   upstream: 'shield',
 *   capacity: 10_000,
 *   ttl: '1h',
 *   staleIfError: '1d',
 *   serviceTime: 1,
 * };
 * ```
 */
export interface CdnCacheOptions {
  /**
   * Address a miss is fetched from: the next tier (another {@link CdnCache}, e.g. an origin shield) or the
   * origin itself. It answers a request whose key (and payload) is the object's path with a
   * {@link CdnObject}, or with any value, taken as a 200 of `objectSize(key)` bytes.
   */
  upstream: string;
  /** Cache capacity in `unit`s, an integer >= 1. */
  capacity: number;
  /**
   * `entries` (every object weighs 1) or `bytes` (each object weighs its size, rounded up, at least 1).
   * @default 'entries'
   */
  unit?: 'entries' | 'bytes';
  /**
   * Eviction policy, as a spec or a ready policy.
   * @default { kind: 'lru' }
   */
  eviction?: EvictionSpec | EvictionPolicy;
  /**
   * Freshness of a stored object when its origin gives no `maxAge`. A duration > 0, or Infinity.
   * @default 24 h (CloudFront's default TTL, 86 400 s)
   */
  ttl?: Duration;
  /**
   * Spread of each TTL: drawn uniformly in ttl·[1 − jitter, 1 + jitter]. A number in [0, 1).
   * @default 0
   */
  ttlJitter?: number;
  /**
   * How long a 404 from upstream is cached (negative caching); 0 turns it off.
   * @default 10 s (CloudFront's default error-caching minimum TTL)
   */
  negativeTtl?: Duration;
  /**
   * RFC 5861 `stale-while-revalidate`: for this long after an object expires, a request is answered at
   * once with the stale copy while one background fetch refreshes it.
   * @default 0 (off)
   */
  staleWhileRevalidate?: Duration;
  /**
   * RFC 5861 `stale-if-error`: for this long after an object expires, a miss whose upstream fetch fails
   * (an error or a timeout) is answered with the stale copy instead of the error.
   * @default 0 (off)
   */
  staleIfError?: Duration;
  /**
   * Time this tier spends on each answer (a hit, or a miss once its object arrived), on the node's CPU
   * (a pause stops it). Answers are served concurrently: there is no queue.
   * @default 0
   */
  serviceTime?: Distribution | Duration;
  /**
   * Request collapsing: concurrent misses of one object make one upstream fetch, and every waiter gets
   * its answer. Real CDNs call it request collapsing (Fastly, on by default), collapsed forwarding
   * (Squid), or the waiting list (Varnish, unless `hash_ignore_busy` is set); Go's singleflight does the
   * same in a process. Off: every miss makes its own fetch.
   * @default true
   */
  collapse?: boolean;
  /**
   * How long a fetch waits for upstream before it fails (a 504). A duration > 0, or Infinity.
   * @default 30 s (CloudFront's default origin response timeout)
   */
  upstreamTimeout?: Duration;
  /**
   * Size in bytes of an upstream answer that is not a {@link CdnObject}: a number >= 0 or a function of
   * the key.
   * @default 1
   */
  objectSize?: number | ((key: string) => number);
  /**
   * Whether the cache survives a crash and restart (a disk cache). Without it a restart is cold.
   * @default false
   */
  persistent?: boolean;
}

/** Every key of {@link CdnCacheOptions}. @internal */
export const CDN_CACHE_KEYS = optionKeys<CdnCacheOptions>()({
  upstream: true,
  capacity: true,
  unit: true,
  eviction: true,
  ttl: true,
  ttlJitter: true,
  negativeTtl: true,
  staleWhileRevalidate: true,
  staleIfError: true,
  serviceTime: true,
  collapse: true,
  upstreamTimeout: true,
  objectSize: true,
  persistent: true,
});

/**
 * Counters of a {@link CdnCache}. They satisfy, at every moment:
 * `requests = hits + misses` (requests without a key are `rejected`, outside both) and
 * `misses + revalidations = fetches + collapsed`.
 *
 * @example
 * ```ts
 * const { hits, requests, fetches } = edge.stats;
 * const offload = 1 - fetches / requests;
 * ```
 */
export interface CdnCacheStats {
  /** Requests for an object. */
  readonly requests: number;
  /** Requests answered from the cache without waiting for upstream: fresh, negative or stale-while-revalidate. */
  readonly hits: number;
  /** Hits on a cached 404 (a subset of `hits`). */
  readonly negativeHits: number;
  /** Hits answered with a stale copy under `staleWhileRevalidate` (a subset of `hits`). */
  readonly staleHits: number;
  /** Requests that needed the upstream: they started a fetch or joined one. */
  readonly misses: number;
  /** Upstream fetches started: misses after collapsing, plus background revalidations. */
  readonly fetches: number;
  /** Misses that joined a fetch already in flight (request collapsing). */
  readonly collapsed: number;
  /** Background fetches started by `staleWhileRevalidate`. */
  readonly revalidations: number;
  /** Misses answered with a stale copy because the upstream failed (`staleIfError`). */
  readonly staleIfError: number;
  /** Fetches that failed (error or timeout). */
  readonly upstreamErrors: number;
  /** Requests answered with an error. */
  readonly errors: number;
  /** Requests refused because they named no object. */
  readonly rejected: number;
  /** Bytes of the 200 answers sent. */
  readonly bytesServed: number;
  /** Bytes received from upstream. */
  readonly bytesFetched: number;
  /** hits / requests (0 before any request). */
  readonly hitRatio: number;
}

type Counts = { -readonly [K in Exclude<keyof CdnCacheStats, 'hitRatio'>]: number };

interface StaleCopy {
  readonly object: CdnObject;
  readonly expiresAt: number;
}

const METRICS: Readonly<Record<keyof Counts, string>> = {
  requests: 'cdn.requests',
  hits: 'cdn.hits',
  negativeHits: 'cdn.negative-hits',
  staleHits: 'cdn.stale-hits',
  misses: 'cdn.misses',
  fetches: 'cdn.fetches',
  collapsed: 'cdn.collapsed',
  revalidations: 'cdn.revalidations',
  staleIfError: 'cdn.stale-if-error',
  upstreamErrors: 'cdn.upstream-errors',
  errors: 'cdn.errors',
  rejected: 'cdn.rejected',
  bytesServed: 'cdn.bytes-served',
  bytesFetched: 'cdn.bytes-fetched',
};

const NO_HOPS: readonly CdnHop[] = Object.freeze([]);

/**
 * A caching proxy tier of a CDN (an edge server, or an origin shield) on a node, with its own
 * {@link RpcEndpoint}. It serves requests whose key (or string payload) is an object's path:
 *
 * - a fresh copy in its {@link Cache} is a **hit**, answered after `serviceTime`;
 * - otherwise a **miss** is fetched from `upstream` (the next tier or the origin), stored, and answered
 *   after `serviceTime`. With request collapsing (on by default) concurrent misses of one object share
 *   one fetch: N simultaneous misses make 1 upstream request and N answers;
 * - a 404 from upstream is cached for `negativeTtl` (negative caching);
 * - with `staleWhileRevalidate` an expired copy is served at once while one background fetch refreshes
 *   it; with `staleIfError` it is served when the fetch fails.
 *
 * Each answer is a {@link CdnResponse} whose `via` lists what every tier did (`hit`, `miss`,
 * `collapsed`, ...), nearest first, like Fastly's `X-Cache` header. An object's `maxAge` from the origin
 * overrides `ttl`.
 *
 * Records under the node's address the counters `cdn.requests`, `cdn.hits`, `cdn.misses`,
 * `cdn.fetches`, `cdn.collapsed`, `cdn.negative-hits`, `cdn.stale-hits`, `cdn.revalidations`,
 * `cdn.stale-if-error`, `cdn.upstream-errors`, `cdn.errors`, `cdn.rejected`, `cdn.bytes-served`,
 * `cdn.bytes-fetched` (plus the cache's `cache.*` and the endpoint's `rpc.*`). With tracing on it emits
 * `@dsim.cdn.hit` (`status` hit, negative or stale), `@dsim.cdn.miss` (`collapsed`), `@dsim.cdn.fetch`,
 * `@dsim.cdn.fill` and `@dsim.cdn.error` records.
 *
 * @example
 * ```ts
 * new Service(net.addNode('origin'), { serviceTime: 50, concurrency: 100, respond: cdnOrigin({ size: 20_000 }) });
 * new CdnCache(net.addNode('shield'), { upstream: 'origin', capacity: 100_000 });
 * const edge = new CdnCache(net.addNode('edge'), { upstream: 'shield', capacity: 10_000, serviceTime: 1 });
 * const client = new RpcEndpoint(net.addNode('client'));
 * client.call<CdnResponse>('edge', '/index.html', { key: '/index.html' });
 * ```
 */
export class CdnCache {
  /** The node's address. */
  readonly address: string;
  /** The tier's RPC endpoint (it serves clients and fetches from upstream). */
  readonly endpoint: RpcEndpoint<unknown, CdnResponse>;
  /** The cache inside (its metrics are recorded under the node's address). */
  readonly cache: Cache<CdnObject>;
  readonly upstream: string;
  readonly collapse: boolean;
  readonly negativeTtl: number;
  readonly staleWhileRevalidate: number;
  readonly staleIfError: number;
  readonly upstreamTimeout: number;
  private readonly sim: Simulation;
  private readonly where: string;
  private readonly serviceTime: Distribution;
  private readonly rng: RandomStream;
  private readonly objectSize: (key: string) => number;
  private readonly flights = new Singleflight<RpcResponse<unknown>>();
  private readonly counts: Counts = {
    requests: 0,
    hits: 0,
    negativeHits: 0,
    staleHits: 0,
    misses: 0,
    fetches: 0,
    collapsed: 0,
    revalidations: 0,
    staleIfError: 0,
    upstreamErrors: 0,
    errors: 0,
    rejected: 0,
    bytesServed: 0,
    bytesFetched: 0,
  };
  private readonly meters: Readonly<Record<keyof Counts, Counter>>;

  /**
   * @param node - the node the tier runs on (its address names the metrics and the cache)
   * @param options - where misses go, the cache and the freshness settings; unknown keys and bad values
   *   throw INVALID_ARGUMENT
   * @param where - who configures the tier, for error messages (`buildCdn` passes itself) @internal
   */
  constructor(
    readonly node: NetNode<any>,
    options: CdnCacheOptions,
    where: Owner = owner('CdnCache'),
  ) {
    this.where = `CdnCache ${node.address}`;
    requireOptions(where, options, CDN_CACHE_KEYS);
    const sim = node.network.sim;
    this.sim = sim;
    this.address = node.address;
    const { upstream } = options;
    if (typeof upstream !== 'string' || upstream === '' || upstream === node.address)
      throw invalidOption(where, 'upstream', upstream, 'the address of another node (a tier or the origin)');
    this.upstream = upstream;
    this.collapse = checkBoolean(where, 'collapse', options.collapse, true);
    const persistent = checkBoolean(where, 'persistent', options.persistent, false);
    const ttl = checkDuration(where, 'ttl', options.ttl, { positive: true, infinity: true }, DEFAULT_TTL);
    this.negativeTtl = checkDuration(where, 'negativeTtl', options.negativeTtl, { infinity: true }, 10_000);
    this.staleWhileRevalidate = checkDuration(
      where,
      'staleWhileRevalidate',
      options.staleWhileRevalidate,
      { infinity: true },
      0,
    );
    this.staleIfError = checkDuration(where, 'staleIfError', options.staleIfError, { infinity: true }, 0);
    this.upstreamTimeout = checkDuration(
      where,
      'upstreamTimeout',
      options.upstreamTimeout,
      { positive: true, infinity: true },
      30_000,
    );
    this.serviceTime = checkDistribution(
      where,
      'serviceTime',
      options.serviceTime,
      'exponential({ mean: 20 })',
      {},
      ZERO_TIME,
    );
    this.objectSize = sizeFunction(options.objectSize, where);
    const staleFor = Math.max(this.staleWhileRevalidate, this.staleIfError);
    this.cache = new Cache<CdnObject>(
      sim,
      {
        name: node.address,
        capacity: options.capacity,
        ttl,
        staleFor,
        ...(this.negativeTtl > 0 ? { negativeTtl: this.negativeTtl } : {}),
        ...(options.unit === undefined ? {} : { unit: options.unit }),
        ...(options.eviction === undefined ? {} : { eviction: options.eviction }),
        ...(options.ttlJitter === undefined ? {} : { ttlJitter: options.ttlJitter }),
      },
      where,
    );
    this.rng = sim.rng(`${node.address}/cdn`);
    const registry = sim.metrics;
    const meters = {} as Record<keyof Counts, Counter>;
    for (const name of Object.keys(METRICS) as (keyof Counts)[])
      meters[name] = registry.counter(node.address, METRICS[name]);
    this.meters = meters;
    this.endpoint = new RpcEndpoint<unknown, CdnResponse>(node);
    this.endpoint.serve((request, reply) => this.handle(request, reply));
    node.onCrash(() => {
      if (!persistent) this.cache.clear();
    });
  }

  /** A snapshot of the counters. */
  get stats(): CdnCacheStats {
    const c = this.counts;
    return { ...c, hitRatio: c.requests === 0 ? 0 : c.hits / c.requests };
  }

  /** Fetches in flight now (one per object being fetched). */
  get fetchesInFlight(): number {
    return this.flights.stats.inFlight;
  }

  private bump(name: keyof Counts, by = 1): void {
    this.counts[name] += by;
    this.meters[name].inc(by);
  }

  private handle(request: RpcRequest<unknown>, reply: Reply<CdnResponse>): void {
    const key = request.key ?? (typeof request.payload === 'string' ? request.payload : undefined);
    if (key === undefined || key === '') {
      this.bump('rejected');
      this.bump('errors');
      reply.error('rejected', `${this.address}: a request needs an object key (its key or a string payload)`);
      return;
    }
    this.bump('requests');
    const cache = this.cache;
    const status = cache.read(key);
    if (status === 'hit') {
      this.hit(key, 'hit');
      this.serve(reply, cache.peek(key)!.value!, 'hit', NO_HOPS);
      return;
    }
    if (status === 'negative') {
      this.hit(key, 'negative');
      this.bump('negativeHits');
      this.serve(reply, notFound(key), 'negative', NO_HOPS);
      return;
    }
    let stale: StaleCopy | null = null;
    if (status === 'stale') {
      const entry = cache.peek(key)!;
      stale = { object: entry.negative ? notFound(key) : entry.value!, expiresAt: entry.expiresAt };
      if (this.sim.now < entry.expiresAt + this.staleWhileRevalidate) {
        this.hit(key, 'stale');
        this.bump('staleHits');
        this.serve(reply, stale.object, 'stale', NO_HOPS);
        this.revalidate(key);
        return;
      }
    }
    this.miss(key, reply, stale);
  }

  private hit(key: string, status: 'hit' | 'negative' | 'stale'): void {
    this.bump('hits');
    const sim = this.sim;
    if (sim.tracing) sim.emit('@dsim.cdn.hit', { node: this.address, key, status });
  }

  private miss(key: string, reply: Reply<CdnResponse>, stale: StaleCopy | null): void {
    this.bump('misses');
    const joined = this.collapse && this.flights.inFlight(key);
    if (joined) this.bump('collapsed');
    const sim = this.sim;
    if (sim.tracing) sim.emit('@dsim.cdn.miss', { node: this.address, key, collapsed: joined });
    const flight = this.collapse
      ? this.flights.do(key, () => this.fetch(key, false))
      : this.fetch(key, false);
    flight.onProcessed((e) => this.answer(key, reply, e.value!, joined ? 'collapsed' : 'miss', stale));
  }

  private revalidate(key: string): void {
    if (this.flights.inFlight(key)) return;
    this.bump('revalidations');
    this.flights.do(key, () => this.fetch(key, true));
  }

  private fetch(key: string, revalidation: boolean): SimEvent<RpcResponse<unknown>> {
    this.bump('fetches');
    const sim = this.sim;
    if (sim.tracing)
      sim.emit('@dsim.cdn.fetch', { node: this.address, key, upstream: this.upstream, revalidation });
    const options: CallOptions =
      this.upstreamTimeout === Infinity ? { key } : { key, timeout: this.upstreamTimeout };
    const call = this.endpoint.call<unknown>(this.upstream, key, options);
    // Registered before any waiter: the cache is filled before the first answer goes out.
    call.onProcessed((e) => this.fill(key, e.value!));
    return call;
  }

  private fill(key: string, res: RpcResponse<unknown>): void {
    const sim = this.sim;
    if (!res.ok) {
      this.bump('upstreamErrors');
      if (sim.tracing)
        sim.emit('@dsim.cdn.fill', {
          node: this.address,
          key,
          ok: false,
          status: null,
          latency: res.latency,
        });
      return;
    }
    const object = this.toObject(key, res.value);
    this.bump('bytesFetched', object.size);
    if (sim.tracing)
      sim.emit('@dsim.cdn.fill', {
        node: this.address,
        key,
        ok: true,
        status: object.status,
        latency: res.latency,
      });
    const cache = this.cache;
    const size = cache.unit === 'entries' ? 1 : Math.max(1, Math.ceil(object.size));
    if (object.status === 404) {
      if (this.negativeTtl > 0) cache.setNegative(key, { size });
      else cache.delete(key);
      return;
    }
    if (object.maxAge === 0) {
      cache.delete(key); // no-store: nothing to keep, and the old copy is superseded
      return;
    }
    const stored: CdnObject =
      object.maxAge === undefined
        ? { key: object.key, status: 200, size: object.size, body: object.body }
        : { key: object.key, status: 200, size: object.size, body: object.body, maxAge: object.maxAge };
    cache.set(key, stored, object.maxAge === undefined ? { size } : { size, ttl: object.maxAge });
  }

  private answer(
    key: string,
    reply: Reply<CdnResponse>,
    res: RpcResponse<unknown>,
    status: 'miss' | 'collapsed',
    stale: StaleCopy | null,
  ): void {
    if (res.ok) {
      const value = res.value;
      this.serve(reply, this.toObject(key, value), status, viaOf(value));
      return;
    }
    if (stale !== null && this.sim.now < stale.expiresAt + this.staleIfError) {
      this.bump('staleIfError');
      this.serve(reply, stale.object, 'stale-if-error', NO_HOPS);
      return;
    }
    this.bump('errors');
    const error = res.error;
    const sim = this.sim;
    if (sim.tracing) sim.emit('@dsim.cdn.error', { node: this.address, key, error: error.kind });
    // A timeout upstream is a 504 for this tier's caller: the service is unavailable, not the caller late.
    reply.error(
      error.kind === 'timeout' ? 'unavailable' : error.kind,
      `${this.address}: upstream ${this.upstream} failed (${error.kind}: ${error.message})`,
    );
  }

  private serve(
    reply: Reply<CdnResponse>,
    object: CdnObject,
    status: CdnHopStatus,
    upstreamVia: readonly CdnHop[],
  ): void {
    const hop: CdnHop = { node: this.address, status };
    const response: CdnResponse =
      object.maxAge === undefined
        ? {
            key: object.key,
            status: object.status,
            size: object.size,
            body: object.body,
            via: [hop, ...upstreamVia],
          }
        : {
            key: object.key,
            status: object.status,
            size: object.size,
            body: object.body,
            maxAge: object.maxAge,
            via: [hop, ...upstreamVia],
          };
    const delay = this.serviceTime.sample(this.rng);
    if (delay > 0) this.node.work(delay, () => this.send(reply, response));
    else this.send(reply, response);
  }

  private send(reply: Reply<CdnResponse>, response: CdnResponse): void {
    if (response.status === 200) this.bump('bytesServed', response.size);
    reply.ok(response, { size: response.size });
  }

  private toObject(key: string, value: unknown): CdnObject {
    if (isCdnObject(value)) {
      if (!(Number.isFinite(value.size) && value.size >= 0))
        throw invalidArgument(
          `${this.where}: upstream answer for ${key} size`,
          value.size,
          'a number of bytes >= 0',
        );
      const maxAge = value.maxAge;
      if (maxAge !== undefined && !(typeof maxAge === 'number' && maxAge >= 0))
        throw invalidArgument(
          `${this.where}: upstream answer for ${key} maxAge`,
          maxAge,
          'a number of ms >= 0',
        );
      return value;
    }
    return { key, status: 200, size: this.objectSize(key), body: value };
  }
}

/** CloudFront's default TTL: 24 h. */
const DEFAULT_TTL = 86_400_000;

function notFound(key: string): CdnObject {
  return { key, status: 404, size: 0, body: null };
}

function viaOf(value: unknown): readonly CdnHop[] {
  const via = (value as { via?: unknown } | null)?.via;
  return Array.isArray(via) ? (via as CdnHop[]) : NO_HOPS;
}

const ZERO_TIME = constant(0);

function sizeFunction(size: unknown, where: Owner): (key: string) => number {
  if (size === undefined) return () => 1;
  if (typeof size === 'number') {
    if (!(Number.isFinite(size) && size >= 0))
      throw invalidOption(where, 'objectSize', size, 'a number of bytes >= 0');
    return () => size;
  }
  if (typeof size !== 'function')
    throw invalidOption(where, 'objectSize', size, 'a number of bytes >= 0 or a function (key) => bytes');
  return (key) => {
    const bytes = (size as (key: string) => unknown)(key);
    if (!(typeof bytes === 'number' && Number.isFinite(bytes) && bytes >= 0))
      throw invalidOption(where, `objectSize(${JSON.stringify(key)})`, bytes, 'a number of bytes >= 0');
    return bytes;
  };
}
