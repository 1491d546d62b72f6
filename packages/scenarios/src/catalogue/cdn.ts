import {
  buildCdn,
  CDN_REGION_RTT_MS,
  type CdnCacheStats,
  type CdnResponse,
  cdnOrigin,
  cheLru,
  createKeys,
  openLoop,
  Service,
} from '@dsim/components';
import { LatencyHistogram, lognormalFromMean, Network, type RpcResponse } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_ZIPF } from './limits.js';

/** Client regions, with the share of the requests each sends (most traffic from the US and Europe). */
const REGIONS = ['us-east', 'us-west', 'eu-west', 'ap-south'] as const;
const SHARES: Readonly<Record<(typeof REGIONS)[number], number>> = {
  'us-east': 0.35,
  'us-west': 0.2,
  'eu-west': 0.3,
  'ap-south': 0.15,
};

const ratio = (x: number): number => Math.round(x * 10_000) / 10_000;
const ms = (x: number): number => Math.round(x * 100) / 100;

/**
 * `cdn`: clients in four regions request objects with Zipf popularity through their region's edge cache
 * (LRU), which fetches misses from an origin shield (variant `shield`) or straight from the origin
 * (`no-shield`), with request collapsing at every tier. It measures each tier's hit ratio against Che's
 * approximation, the load left on the origin, and client latency per region; `bigger-edges` quadruples
 * the edge caches.
 *
 * @example
 * ```ts
 * const result = runScenario(cdn, { seed: 1 });
 * result.variants.map((v) => [v.name, v.outcome.edgeHitRatio, v.outcome.originRps]);
 * ```
 */
export const cdn = defineScenario({
  name: 'cdn',
  description:
    'CDN tiers: edge hit ratio against Che, origin offload with and without an origin shield, latency per region',
  params: {
    objects: param.integer({ default: 10_000, min: 1, max: 1_000_000, description: 'distinct objects' }),
    zipfS: param.number({
      default: 0.8,
      min: 0,
      max: MAX_ZIPF,
      description: 'Zipf exponent of object popularity',
    }),
    edgeCapacity: param.integer({
      default: 1000,
      min: 1,
      max: 1_000_000,
      description: 'objects per edge cache (LRU)',
    }),
    shieldCapacity: param.integer({
      default: 4000,
      min: 1,
      max: 1_000_000,
      description: 'objects in the shield cache (LRU)',
    }),
    rate: param.number({
      default: 1000,
      min: 0,
      max: MAX_RATE,
      exclusiveMin: true,
      description: 'client requests per second, all regions',
    }),
    seconds: param.number({ default: 120, min: 1, max: MAX_SECONDS, description: 'seconds of traffic' }),
    ttlSeconds: param.number({
      default: 3600,
      min: 0,
      max: MAX_SECONDS,
      exclusiveMin: true,
      description: 'object TTL at every tier (Che applies while it exceeds the run)',
    }),
    warmupSeconds: param.number({
      default: 10,
      min: 0,
      max: MAX_SECONDS,
      description: 'hit ratios are measured from this time, once the caches are full',
    }),
    shield: param.boolean({ default: false, description: 'edges fetch through an origin shield' }),
    shieldRegion: param.enum(REGIONS, { default: 'us-east', description: 'region of the shield' }),
    originRegion: param.enum(REGIONS, { default: 'us-east', description: 'region of the origin' }),
    originMs: param.number({
      default: 50,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: 'mean origin service time',
    }),
    edgeServiceMs: param.number({ default: 1, min: 0, max: MAX_MS, description: 'edge time per answer' }),
    shieldServiceMs: param.number({ default: 1, min: 0, max: MAX_MS, description: 'shield time per answer' }),
    clientRttMs: param.number({ default: 10, min: 0, max: MAX_MS, description: 'client to edge round trip' }),
    collapse: param.boolean({ default: true, description: 'request collapsing at every tier' }),
  },
  variants: [
    { name: 'no-shield', params: { shield: false } },
    { name: 'shield', params: { shield: true } },
    {
      name: 'bigger-edges',
      description: 'shield, and edges four times larger',
      params: { shield: true, edgeCapacity: 4000 },
    },
  ],
  run({ sim, params, requests, check }) {
    // A slow origin holds every miss in flight; the caches hold at most `objects` entries each.
    limitOffered(params.rate * params.seconds, 'rate × seconds');
    const net = new Network(sim);
    const ttl = params.ttlSeconds * 1000;
    const end = params.seconds * 1000;

    // The origin: plenty of workers (it never queues), a lognormal render time, and a count of its work.
    let originRequests = 0;
    const originObjects = new Set<string>();
    const respond = cdnOrigin();
    new Service(net.addNode('origin'), {
      concurrency: 100_000,
      serviceTime: lognormalFromMean(params.originMs, 0.5),
      respond: (request) => {
        originRequests++;
        originObjects.add(request.key ?? '');
        return respond(request);
      },
    });
    const tier = { ttl, collapse: params.collapse };
    const topology = buildCdn(net, {
      regions: REGIONS,
      rtt: CDN_REGION_RTT_MS,
      clientRtt: params.clientRttMs,
      origin: { address: 'origin', region: params.originRegion },
      edge: { ...tier, capacity: params.edgeCapacity, serviceTime: params.edgeServiceMs },
      shield: params.shield
        ? {
            ...tier,
            region: params.shieldRegion,
            capacity: params.shieldCapacity,
            serviceTime: params.shieldServiceMs,
          }
        : undefined,
    });
    const edges = topology.allEdges;
    const shield = topology.shield;

    // The measurement windows open at the first whole second past the warm-up at which the caches are
    // full: an LRU cache's content depends only on the latest requests, so from then on it is in its
    // stationary regime under independent requests.
    let edgeMark: CdnCacheStats | null = null;
    let shieldMark: CdnCacheStats | null = null;
    let edgeMarkAt = Number.NaN;
    const mark = (): void => {
      if (edgeMark === null && edges.every((e) => e.cache.size >= e.cache.capacity)) {
        edgeMark = topology.tierStats('edge');
        edgeMarkAt = sim.now;
      }
      if (shield !== null && shieldMark === null && shield.cache.size >= shield.cache.capacity)
        shieldMark = topology.tierStats('shield');
      if ((edgeMark === null || (shield !== null && shieldMark === null)) && sim.now + 1000 < end)
        sim.schedule(1000, mark);
    };
    sim.schedule(Math.min(params.warmupSeconds * 1000, end), mark);

    const keys = createKeys({ kind: 'zipf', count: params.objects, s: params.zipfS });
    const perRegion = new Map(REGIONS.map((r) => [r, new LatencyHistogram()]));
    const hitLatency = new LatencyHistogram();
    const missLatency = new LatencyHistogram();
    const oneWay = (a: string, b: string): number =>
      (CDN_REGION_RTT_MS[a]?.[b] ?? CDN_REGION_RTT_MS[b]?.[a] ?? 1) / 2;
    let edgeHits = 0;
    let shieldHits = 0;
    let wrongHitLatency = 0;
    let wrongShieldLatency = 0;
    for (const region of REGIONS) {
      const histogram = perRegion.get(region)!;
      // A hit: the client's round trip plus the edge's time. A shield hit adds the edge <-> shield round
      // trip and the shield's time. Exact, with constant link latencies.
      const hitMs = params.clientRttMs + params.edgeServiceMs;
      const shieldHitMs = hitMs + 2 * oneWay(region, params.shieldRegion) + params.shieldServiceMs;
      const draw = sim.rng(`clients/${region}/keys`);
      const answered = (res: RpcResponse<CdnResponse>): void => {
        requests.finish(res.ok, res.latency);
        histogram.record(res.latency);
        const via = res.ok ? res.value.via : [];
        if (via[0]?.status === 'hit') {
          edgeHits++;
          hitLatency.record(res.latency);
          if (Math.abs(res.latency - hitMs) > 1e-9) wrongHitLatency++;
          return;
        }
        missLatency.record(res.latency);
        if (via[0]?.status === 'miss' && via[1]?.status === 'hit') {
          shieldHits++;
          if (Math.abs(res.latency - shieldHitMs) > 1e-9) wrongShieldLatency++;
        }
      };
      openLoop(sim, {
        arrivals: { kind: 'poisson', rate: params.rate * SHARES[region] },
        until: end,
        stream: `clients/${region}/arrivals`,
        onArrival: () => {
          requests.start();
          topology.get(region, keys.next(draw)).onProcessed((e) => answered(e.value!));
        },
      });
    }
    sim.run();

    // Conservation across the tiers (exact: the network loses nothing and nobody times out).
    const clientRequests = requests.toJSON().requests;
    const e = topology.tierStats('edge');
    const s = topology.tierStats('shield');
    const upstreamOfEdges = shield === null ? originRequests : s.requests;
    const conserved =
      e.requests === clientRequests &&
      e.hits + e.misses === e.requests &&
      e.misses === e.fetches + e.collapsed &&
      e.fetches === upstreamOfEdges &&
      (shield === null ||
        (s.hits + s.misses === s.requests &&
          s.misses === s.fetches + s.collapsed &&
          s.fetches === originRequests));
    check(
      'conservation: client = edge hits + misses; edge misses = fetches + collapsed = next tier requests; shield fetches = origin requests',
      conserved && requests.toJSON().ok === clientRequests,
      `client ${clientRequests} = edge ${e.hits} hits + ${e.misses} misses; edge ${e.fetches} fetches + ${e.collapsed} collapsed` +
        (shield === null
          ? ` -> origin ${originRequests}`
          : ` -> shield ${s.requests} = ${s.hits} hits + ${s.misses} misses (${s.collapsed} collapsed) -> origin ${originRequests}`),
    );

    // Che: every edge sees the same popularity, so one estimate serves them all; the shield sees the
    // edges' miss streams, which Che et al.'s hierarchy model approximates by rates λ_i (1 − h_i).
    const probabilities = Array.from({ length: params.objects }, (_, i) => keys.probability(i));
    const cheEdge = cheLru(probabilities, params.edgeCapacity);
    const cheShield = cheLru(cheEdge.missRates, params.shieldCapacity);
    const window = (mark: CdnCacheStats | null, now: CdnCacheStats): number | null =>
      mark === null || now.requests === mark.requests
        ? null
        : (now.hits - mark.hits) / (now.requests - mark.requests);
    const edgeHitRatio = window(edgeMark, e);
    const shieldHitRatio = shield === null ? null : window(shieldMark, s);
    if (edgeHitRatio !== null && ttl >= end && params.objects > params.edgeCapacity) {
      const n = e.requests - edgeMark!.requests;
      const se = Math.sqrt((cheEdge.hitRatio * (1 - cheEdge.hitRatio)) / n);
      const tolerance = Math.max(0.01, 4 * se);
      check(
        'edge hit ratio matches the Che approximation for LRU',
        Math.abs(edgeHitRatio - cheEdge.hitRatio) <= tolerance,
        `measured ${edgeHitRatio.toFixed(4)} over ${n} requests from ${edgeMarkAt / 1000} s, Che ${cheEdge.hitRatio.toFixed(4)} (T_C ${cheEdge.characteristicTime.toFixed(0)} requests), tolerance ±${tolerance.toFixed(4)}`,
      );
    }
    const hitP50 = hitLatency.percentile(50);
    const missP50 = missLatency.percentile(50);
    check(
      'a hit costs the client round trip plus the edge time (a shield hit adds the edge <-> shield round trip); misses cost more',
      wrongHitLatency === 0 &&
        wrongShieldLatency === 0 &&
        edgeHits > 0 &&
        (shield === null || shieldHits > 0) &&
        hitP50 < missP50,
      `${edgeHits} edge hits at ${params.clientRttMs + params.edgeServiceMs} ms (${wrongHitLatency} off)` +
        (shield === null ? '' : `, ${shieldHits} shield hits exact (${wrongShieldLatency} off)`) +
        `; hit p50 ${ms(hitP50)} ms < miss p50 ${ms(missP50)} ms`,
    );

    const outcome: Record<string, number | null> = {
      clientRequests,
      edgeHitRatio: edgeHitRatio === null ? null : ratio(edgeHitRatio),
      edgeHitRatioRun: ratio(e.hitRatio),
      cheEdgeHitRatio: ratio(cheEdge.hitRatio),
      shieldHitRatio: shieldHitRatio === null ? null : ratio(shieldHitRatio),
      cheShieldHitRatio: shield === null ? null : ratio(cheShield.hitRatio),
      originRequests,
      originRps: ms(originRequests / params.seconds),
      originOffload: ratio(1 - originRequests / clientRequests),
      originFetchesPerObject: ms(originRequests / Math.max(1, originObjects.size)),
      collapsed: e.collapsed + s.collapsed,
      hitP50Ms: ms(hitP50),
      missP50Ms: ms(missP50),
    };
    for (const region of REGIONS) {
      const h = perRegion.get(region)!;
      outcome[`p50Ms.${region}`] = ms(h.percentile(50));
      outcome[`p99Ms.${region}`] = ms(h.percentile(99));
    }
    return outcome;
  },
  compare(variants: readonly VariantResult[], params) {
    const find = (name: string): VariantResult | undefined => variants.find((v) => v.name === name);
    const plain = find('no-shield');
    const shielded = find('shield');
    const bigger = find('bigger-edges');
    const out = [];
    const origin = (v: VariantResult): number => v.outcome.originRequests as number;
    if (plain !== undefined && shielded !== undefined) {
      const predicted = 1 / (1 - (shielded.outcome.cheShieldHitRatio as number));
      out.push({
        name: 'the shield cuts origin load: without it every edge misses each object on its own',
        pass: origin(shielded) < origin(plain),
        detail: `origin ${plain.outcome.originRps} -> ${shielded.outcome.originRps} req/s (x${(origin(plain) / origin(shielded)).toFixed(2)} fewer; Che on the edges' miss rates, an optimistic IRM estimate, predicts x${predicted.toFixed(2)} once warm); fetches per object ${plain.outcome.originFetchesPerObject} -> ${shielded.outcome.originFetchesPerObject}`,
      });
    }
    const capacity = (v: VariantResult): number => v.params.edgeCapacity as number;
    if (shielded !== undefined && bigger !== undefined && capacity(bigger) > capacity(shielded)) {
      // Bigger edges help only where capacity binds: when the smaller edges filled up and nothing expires
      // first. Otherwise (a short TTL, or caches that never fill) they must at least do no harm.
      const binds = shielded.outcome.edgeHitRatio !== null && params.ttlSeconds >= params.seconds;
      const hitBefore = shielded.outcome.edgeHitRatioRun as number;
      const hitAfter = bigger.outcome.edgeHitRatioRun as number;
      out.push({
        name: 'bigger edges raise the edge hit ratio and cut origin load further',
        pass: binds
          ? hitAfter > hitBefore && origin(bigger) < origin(shielded)
          : hitAfter >= hitBefore && origin(bigger) <= origin(shielded),
        detail: `edge hit ratio over the run ${hitBefore} -> ${hitAfter} (Che ${shielded.outcome.cheEdgeHitRatio} -> ${bigger.outcome.cheEdgeHitRatio}); origin ${shielded.outcome.originRps} -> ${bigger.outcome.originRps} req/s${binds ? '' : ' (capacity does not bind: no strict gain expected)'}`,
      });
    }
    return out;
  },
});
