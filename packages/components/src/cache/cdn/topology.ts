import {
  checkFunction,
  checkNumber,
  type Distribution,
  type Duration,
  invalidArgument,
  invalidOption,
  isObject,
  type Network,
  nested,
  optionKeys,
  owner,
  RpcEndpoint,
  type RpcResponse,
  requireOptions,
  type SimEvent,
  toMs,
} from '@dsim/core';
import { CdnCache, type CdnCacheOptions, type CdnCacheStats } from './cdn-cache.js';
import type { CdnResponse } from './types.js';

/**
 * Round-trip times in ms between regions, as `rtt[a][b]`. Either triangle is enough (`rtt[b][a]` is
 * read when `rtt[a][b]` is missing); the diagonal is the RTT between two data-centre nodes of one region
 * (1 ms when absent). Links get one-way latency RTT / 2.
 *
 * @example
 * ```ts
 * const rtt: CdnRttMatrix = { 'us-east': { 'eu-west': 80 }, 'eu-west': { 'eu-west': 1 } };
 * ```
 */
export type CdnRttMatrix = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * Typical round-trip times (ms) between four cloud regions, rounded to 10 ms. The US and Europe pairs
 * follow the averages of the "Latency Between AWS Global Regions" table (us-east-1 ↔ eu-west-1 80.5 ms,
 * us-east-1 ↔ us-west-1 72 ms, us-west-2 ↔ eu-west-1 137 ms); the ap-south pairs are round values of the
 * size public inter-region tables (cloudping.co for AWS, Azure's network round-trip latency statistics)
 * report for Mumbai, about 120 ms to Europe and 190 to 220 ms to the US. Such figures drift by a few ms
 * month to month. The diagonal is 1 ms (two data centres of one region).
 *
 * @example
 * ```ts
 * CDN_REGION_RTT_MS['eu-west']?.['ap-south']; // 120 ms: links get 60 ms each way
 * ```
 */
export const CDN_REGION_RTT_MS: CdnRttMatrix = Object.freeze({
  'us-east': Object.freeze({ 'us-east': 1, 'us-west': 70, 'eu-west': 80, 'ap-south': 190 }),
  'us-west': Object.freeze({ 'us-east': 70, 'us-west': 1, 'eu-west': 140, 'ap-south': 220 }),
  'eu-west': Object.freeze({ 'us-east': 80, 'us-west': 140, 'eu-west': 1, 'ap-south': 120 }),
  'ap-south': Object.freeze({ 'us-east': 190, 'us-west': 220, 'eu-west': 120, 'ap-south': 1 }),
});

/**
 * A tier's cache options; `buildCdn` sets the upstream.
 *
 * @example
 * ```ts
 * const edge: CdnTierOptions = { capacity: 1000, serviceTime: 1 };
 * ```
 */
export type CdnTierOptions = Omit<CdnCacheOptions, 'upstream'>;

/**
 * Options of {@link buildCdn}.
 *
 * @example
 * ```ts
 * const options: CdnTopologyOptions = {
 *   regions: ['us-east', 'eu-west'],
 *   rtt: CDN_REGION_RTT_MS,
 *   origin: { address: 'origin', region: 'us-east' },
 *   edge: { capacity: 1000 },
 *   shield: { region: 'us-east', capacity: 10_000 },
 * };
 * ```
 */
export interface CdnTopologyOptions {
  /** Regions that get edges and clients, in order (unique, non-empty names). */
  readonly regions: readonly string[];
  /** Round-trip times between regions (and the origin's and shield's regions). */
  readonly rtt: CdnRttMatrix;
  /** The origin: an existing node (e.g. a `Service` answering with {@link cdnOrigin}) and its region. */
  readonly origin: { readonly address: string; readonly region: string };
  /** Cache options of every edge. */
  readonly edge: CdnTierOptions;
  /**
   * An origin shield: one mid tier in `region` that all edges fetch through (CloudFront Origin Shield,
   * Fastly shielding, Akamai tiered distribution). Absent: edges fetch from the origin.
   * @default none
   */
  readonly shield?: (CdnTierOptions & { readonly region: string }) | undefined;
  /**
   * Edge servers per region. With more than one, a region's edges split the objects between them by a
   * hash of the path (as a POP's servers do), so each object lives on one of them.
   * @default 1
   */
  readonly edgesPerRegion?: number;
  /**
   * Round-trip time in ms between a client and its region's edge (the last mile).
   * @default 10
   */
  readonly clientRtt?: number;
  /**
   * The latency of a link from its one-way time (RTT / 2), e.g. to add jitter:
   * `(ms) => lognormalFromMean(ms, 0.1)`.
   * @default a constant one-way time
   */
  readonly latency?: (oneWayMs: number, from: string, to: string) => Distribution | number;
}

/** Every key of {@link CdnTopologyOptions}. @internal */
export const CDN_TOPOLOGY_KEYS = optionKeys<CdnTopologyOptions>()({
  regions: true,
  rtt: true,
  origin: true,
  edge: true,
  shield: true,
  edgesPerRegion: true,
  clientRtt: true,
  latency: true,
});

/** Every key of a tier's options ({@link CdnTierOptions}). @internal */
export const CDN_TIER_KEYS = optionKeys<CdnTierOptions>()({
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

/** Every key of the `shield` option: a tier's, plus its region. @internal */
export const CDN_SHIELD_KEYS: readonly string[] = Object.freeze([...CDN_TIER_KEYS, 'region']);

/** Every key of the `origin` option. @internal */
export const CDN_ORIGIN_REF_KEYS = optionKeys<CdnTopologyOptions['origin']>()({
  address: true,
  region: true,
});

/**
 * A CDN built by {@link buildCdn}: edges per region, an optional shield, clients per region, and the
 * links between them.
 *
 * @example
 * ```ts
 * const cdn = buildCdn(net, options);
 * cdn.get('eu-west', '/index.html').onProcessed((e) => sim.log(e.value!.ok ? 'ok' : 'failed'));
 * sim.run();
 * cdn.tierStats('edge').hitRatio;
 * ```
 */
export class CdnTopology {
  /** The regions, in order. */
  readonly regions: readonly string[];
  /** The origin's address. */
  readonly origin: string;
  /** The edges of each region. */
  readonly edges: ReadonlyMap<string, readonly CdnCache[]>;
  /** The shield, or null. */
  readonly shield: CdnCache | null;
  /** The client endpoint of each region (`client-<region>`), plus any added with {@link addClient}. */
  readonly clients: ReadonlyMap<string, RpcEndpoint>;
  private readonly clientMap = new Map<string, RpcEndpoint>();
  private readonly clientRegion = new Map<string, string>();
  private readonly link: (a: string, b: string, oneWay: number) => void;
  private readonly clientOneWay: number;

  /** @internal Use {@link buildCdn}. */
  constructor(
    readonly network: Network,
    options: CdnTopologyOptions,
  ) {
    const where = owner('buildCdn');
    requireOptions(where, options, CDN_TOPOLOGY_KEYS);
    const { regions, rtt, origin, edge, shield } = options;
    if (!Array.isArray(regions) || regions.length === 0)
      throw invalidOption(where, 'regions', regions, 'a non-empty array of region names');
    const seen = new Set<string>();
    for (const [i, r] of regions.entries()) {
      if (typeof r !== 'string' || r === '' || seen.has(r))
        throw invalidOption(where, `regions[${i}]`, r, 'a non-empty region name, not repeated');
      seen.add(r);
    }
    this.regions = [...regions];
    checkRtt(rtt);
    requireOptions(nested(where, 'origin'), origin, CDN_ORIGIN_REF_KEYS);
    if (!network.addresses.includes(origin.address))
      throw invalidOption(where, 'origin.address', origin.address, 'the address of a node on the network');
    if (typeof origin.region !== 'string' || origin.region === '')
      throw invalidOption(where, 'origin.region', origin.region, 'a region name of the rtt matrix');
    this.origin = origin.address;
    const perRegion = checkNumber(
      where,
      'edgesPerRegion',
      options.edgesPerRegion,
      { integer: true, min: 1 },
      1,
    );
    const clientRtt = options.clientRtt ?? 10;
    if (!(typeof clientRtt === 'number' && Number.isFinite(clientRtt) && clientRtt >= 0))
      throw invalidOption(where, 'clientRtt', clientRtt, 'a round-trip time in ms >= 0');
    this.clientOneWay = clientRtt / 2;
    const latency =
      options.latency === undefined
        ? (ms: number) => ms
        : checkFunction<NonNullable<CdnTopologyOptions['latency']>>(
            where,
            'latency',
            options.latency,
            '(oneWayMs, from, to) => latency',
          );
    this.link = (a, b, oneWay) => network.setLatency(a, b, latency(oneWay, a, b));
    const oneWay = (a: string, b: string): number => rttBetween(rtt, a, b) / 2;
    const edgeWhere = nested(where, 'edge');
    requireOptions(edgeWhere, edge, CDN_TIER_KEYS);
    const shieldWhere = nested(where, 'shield');
    if (shield !== undefined) {
      requireOptions(shieldWhere, shield, CDN_SHIELD_KEYS);
      if (typeof shield.region !== 'string' || shield.region === '')
        throw invalidOption(where, 'shield.region', shield.region, 'a region name of the rtt matrix');
    }

    let upstream = origin.address;
    let shieldCache: CdnCache | null = null;
    if (shield !== undefined) {
      const { region, ...tier } = shield;
      const address = `shield-${region}`;
      shieldCache = new CdnCache(
        network.addNode(address),
        { ...tier, upstream: origin.address },
        shieldWhere,
      );
      this.link(address, origin.address, oneWay(region, origin.region));
      upstream = address;
    }
    this.shield = shieldCache;
    const upstreamRegion = shield?.region ?? origin.region;

    const edges = new Map<string, CdnCache[]>();
    for (const region of this.regions) {
      const list: CdnCache[] = [];
      for (let i = 0; i < perRegion; i++) {
        const address = perRegion === 1 ? `edge-${region}` : `edge-${region}-${i + 1}`;
        list.push(new CdnCache(network.addNode(address), { ...edge, upstream }, edgeWhere));
        this.link(address, upstream, oneWay(region, upstreamRegion));
      }
      edges.set(region, list);
    }
    this.edges = edges;
    this.clients = this.clientMap;
    for (const region of this.regions) this.addClient(`client-${region}`, region);
  }

  /** Every edge, region by region. */
  get allEdges(): readonly CdnCache[] {
    return [...this.edges.values()].flat();
  }

  /**
   * Adds a client node in `region`, linked to the region's edges with the client RTT, and returns its
   * endpoint.
   */
  addClient(address: string, region: string): RpcEndpoint {
    const edges = this.edgesOf(region, 'addClient(region)');
    const endpoint = new RpcEndpoint(this.network.addNode(address));
    for (const e of edges) this.link(address, e.address, this.clientOneWay);
    this.clientMap.set(address, endpoint);
    this.clientRegion.set(address, region);
    return endpoint;
  }

  /** The edge of `region` that serves `key` (a hash of the key picks one when a region has several). */
  edgeFor(region: string, key: string): CdnCache {
    const edges = this.edgesOf(region, 'edgeFor(region)');
    return edges.length === 1 ? edges[0]! : edges[fnv1a(key) % edges.length]!;
  }

  /**
   * Requests `key` from the region's client (or the client at `options.client`) through its edge.
   *
   * @example
   * ```ts
   * const res = yield* cdn.get('ap-south', '/video/1.mp4', { timeout: '5s' });
   * ```
   */
  get(
    region: string,
    key: string,
    options: { readonly timeout?: Duration; readonly client?: string } = {},
  ): SimEvent<RpcResponse<CdnResponse>> {
    const clientAddress = options.client ?? `client-${region}`;
    const client = this.clientMap.get(clientAddress);
    if (client === undefined || this.clientRegion.get(clientAddress) !== region)
      throw invalidArgument('cdn.get: client', clientAddress, `a client of region ${region}`);
    const edge = this.edgeFor(region, key);
    return client.call<CdnResponse>(
      edge.address,
      key,
      options.timeout === undefined ? { key } : { key, timeout: toMs(options.timeout, 'cdn.get: timeout') },
    );
  }

  /** The counters of a tier, summed over its nodes (the shield's alone for `shield`). */
  tierStats(tier: 'edge' | 'shield'): CdnCacheStats {
    if (tier !== 'edge' && tier !== 'shield')
      throw invalidArgument('tierStats(tier)', tier, '"edge" or "shield"');
    return sumCdnStats(tier === 'edge' ? this.allEdges : this.shield === null ? [] : [this.shield]);
  }

  private edgesOf(region: string, field: string): readonly CdnCache[] {
    const edges = this.edges.get(region);
    if (edges === undefined) throw invalidArgument(field, region, `one of ${this.regions.join(', ')}`);
    return edges;
  }
}

/**
 * Builds a CDN on `net`: in every region an edge (or `edgesPerRegion` of them, `edge-<region>`), an
 * optional origin shield (`shield-<region>`) in front of the origin, and a client per region
 * (`client-<region>`). Clients go to their region's edge; edges fetch from the shield if there is one,
 * else from the origin; the shield fetches from the origin. Each link gets the one-way latency RTT / 2
 * of its regions from `rtt` (the client's last mile: `clientRtt` / 2).
 *
 * @example
 * ```ts
 * const net = new Network(sim);
 * new Service(net.addNode('origin'), { concurrency: 100, serviceTime: 50, respond: cdnOrigin({ size: 20_000 }) });
 * const cdn = buildCdn(net, {
 *   regions: ['us-east', 'us-west', 'eu-west', 'ap-south'],
 *   rtt: CDN_REGION_RTT_MS,
 *   origin: { address: 'origin', region: 'us-east' },
 *   edge: { capacity: 1000, serviceTime: 1 },
 *   shield: { region: 'us-east', capacity: 5000, serviceTime: 1 },
 * });
 * cdn.get('eu-west', '/index.html');
 * ```
 */
export function buildCdn(net: Network, options: CdnTopologyOptions): CdnTopology {
  return new CdnTopology(net, options);
}

/**
 * Sums the counters of several tiers' nodes (e.g. all edges), with the hit ratio of the sum.
 *
 * @example
 * ```ts
 * const edges = sumCdnStats(cdn.allEdges);
 * ```
 */
export function sumCdnStats(caches: readonly CdnCache[]): CdnCacheStats {
  const out: Record<string, number> = {};
  for (const cache of caches) {
    for (const [k, v] of Object.entries(cache.stats)) out[k] = (out[k] ?? 0) + v;
  }
  const requests = out.requests ?? 0;
  const hits = out.hits ?? 0;
  return {
    requests,
    hits,
    negativeHits: out.negativeHits ?? 0,
    staleHits: out.staleHits ?? 0,
    misses: out.misses ?? 0,
    fetches: out.fetches ?? 0,
    collapsed: out.collapsed ?? 0,
    revalidations: out.revalidations ?? 0,
    staleIfError: out.staleIfError ?? 0,
    upstreamErrors: out.upstreamErrors ?? 0,
    errors: out.errors ?? 0,
    rejected: out.rejected ?? 0,
    bytesServed: out.bytesServed ?? 0,
    bytesFetched: out.bytesFetched ?? 0,
    hitRatio: requests === 0 ? 0 : hits / requests,
  };
}

/** Checks every entry of the matrix, so a bad one fails at once and not when a link first needs it. */
function checkRtt(rtt: unknown): asserts rtt is CdnRttMatrix {
  const where = owner('buildCdn');
  if (!isObject(rtt)) throw invalidOption(where, 'rtt', rtt, 'a matrix rtt[a][b] of round-trip times in ms');
  for (const [a, row] of Object.entries(rtt)) {
    if (!isObject(row))
      throw invalidOption(
        where,
        `rtt[${JSON.stringify(a)}]`,
        row,
        'an object of round-trip times in ms by region',
      );
    for (const [b, value] of Object.entries(row))
      if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0))
        throw invalidOption(
          where,
          `rtt[${JSON.stringify(a)}][${JSON.stringify(b)}]`,
          value,
          'a round-trip time in ms >= 0',
        );
  }
}

function rttBetween(rtt: CdnRttMatrix, a: string, b: string): number {
  const value = rtt[a]?.[b] ?? rtt[b]?.[a] ?? (a === b ? 1 : undefined);
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0))
    throw invalidOption(
      owner('buildCdn'),
      `rtt[${JSON.stringify(a)}][${JSON.stringify(b)}]`,
      value,
      'a round-trip time in ms >= 0 (neither rtt[a][b] nor rtt[b][a] is given)',
    );
  return value;
}

/** FNV-1a, 32 bits: a stable hash of a path. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
