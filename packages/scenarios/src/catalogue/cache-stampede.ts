import { CacheAside, CacheServer, type LoadResult, RemoteCache, Service } from '@dsim/components';
import {
  exponential,
  LatencyHistogram,
  lognormalFromMean,
  Network,
  RpcEndpoint,
  type SimEvent,
} from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

const DEFENCES = ['none', 'coalescing', 'xfetch', 'stale-while-revalidate', 'lease'] as const;

/**
 * `cache-stampede`: one hot key, read by every request, cached in a shared cache server with a TTL and
 * recomputed by a slow origin query (δ). When it expires under load, every reader that misses during
 * the recomputation runs it too: about 1 + r·δ origin calls per expiry, all at once. The defences:
 * `coalescing` (singleflight in each app server: at most one per server), `xfetch` (probabilistic early
 * recomputation: about e^(1/β) per expiry), `stale-while-revalidate` (serve the stale value while one
 * refresh per app server runs) and `lease` (the cache server's memcached-style leases: exactly one).
 *
 * @example
 * ```ts
 * const result = runScenario(cacheStampede, { seed: 1 });
 * result.variants.map((v) => [v.name, v.outcome.recomputationsPerExpiry]);
 * ```
 */
export const cacheStampede = defineScenario({
  name: 'cache-stampede',
  description:
    'A hot key expires under load: origin calls per expiry with no defence, coalescing, XFetch, SWR and leases',
  params: {
    rate: param.number({
      default: 100,
      min: 0,
      max: MAX_RATE,
      exclusiveMin: true,
      description: 'reads per second of the hot key',
    }),
    recomputeMs: param.number({
      default: 500,
      min: 1,
      max: MAX_MS,
      description: 'mean origin query time (δ)',
    }),
    recomputeCv: param.number({
      default: 0,
      min: 0,
      max: 100,
      description: 'coefficient of variation of the query time (0: constant, as the XFetch analysis assumes)',
    }),
    ttlMs: param.number({ default: 10_000, min: 100, max: MAX_MS, description: 'TTL of the cached value' }),
    appServers: param.integer({
      default: 4,
      min: 1,
      max: 64,
      description: 'application servers sharing the cache',
    }),
    originConcurrency: param.integer({
      default: 128,
      min: 1,
      max: MAX_WORKERS,
      description: 'origin workers (at the default, a stampede does not queue at the origin)',
    }),
    beta: param.number({ default: 1, min: 0, max: 1000, exclusiveMin: true, description: 'XFetch beta' }),
    seconds: param.number({ default: 300, min: 30, max: MAX_SECONDS, description: 'simulated seconds' }),
    defence: param.enum(DEFENCES, {
      default: 'none',
      description: 'stampede defence (each variant sets it)',
    }),
  },
  variants: DEFENCES.map((name) => ({ name, params: { defence: name } })),
  run({ sim, params, requests, check }) {
    // A slow origin holds every miss in flight; each origin call's time is kept to find the expiries.
    limitOffered(params.rate * params.seconds, 'rate × seconds');
    const d = params.defence;
    const net = new Network(sim, { defaults: { latency: 0.5 } });
    new CacheServer(net.addNode('cache'), {
      capacity: 1000,
      ttl: params.ttlMs,
      // The stale window serves SWR; the other variants never read stale entries.
      ...(d === 'stale-while-revalidate' ? { staleFor: 10 * params.recomputeMs } : {}),
    });
    // The origin (a database): query time δ, constant or lognormal.
    new Service(net.addNode('db'), {
      concurrency: params.originConcurrency,
      serviceTime:
        params.recomputeCv === 0
          ? params.recomputeMs
          : lognormalFromMean(params.recomputeMs, params.recomputeCv),
    });
    let inFlight = 0;
    let peak = 0; // after the cold start (t > ttl / 2): the expiries' stampedes only
    let originCalls = 0;
    const callTimes: number[] = [];
    const readers = Array.from({ length: params.appServers }, (_, i) => {
      const endpoint = new RpcEndpoint(net.addNode(`app${i}`));
      const load = (key: string): SimEvent<LoadResult<string>> => {
        originCalls++;
        callTimes.push(sim.now);
        inFlight++;
        if (sim.now > params.ttlMs / 2) peak = Math.max(peak, inFlight);
        const call = endpoint.call<string>('db', key, { key });
        call.onProcessed(() => inFlight--);
        return call;
      };
      return new CacheAside<string>(sim, {
        name: `app${i}`,
        cache: new RemoteCache<string>(endpoint, { servers: 'cache', timeout: 50 }),
        load,
        ...(d === 'coalescing' || d === 'lease' ? { coalesce: true } : {}),
        ...(d === 'xfetch' ? { xfetch: { beta: params.beta } } : {}),
        ...(d === 'stale-while-revalidate' ? { staleWhileRevalidate: true } : {}),
        // Hot misses look again every 10 ms for up to 100 × δ before loading anyway.
        ...(d === 'lease'
          ? { lease: { retryAfter: 10, maxWaits: Math.ceil((100 * params.recomputeMs) / 10) } }
          : {}),
      });
    });
    const latency = new LatencyHistogram();
    const gaps = exponential({ rate: params.rate / 1000 });
    const rng = sim.rng('clients/arrivals');
    const pick = sim.rng('clients/app');
    const end = params.seconds * 1000;
    const next = (): void => {
      requests.start();
      const reader = readers[Math.floor(pick.next() * readers.length)]!;
      reader.read('hot').onProcessed((e) => {
        const r = e.value!;
        latency.record(r.latency);
        requests.finish(r.ok, r.latency);
      });
      const gap = gaps.sample(rng);
      if (sim.now + gap < end) sim.schedule(gap, next);
    };
    next();
    sim.run();

    // Expiry cycles: the recomputations of one expiry all start within about δ of each other (they are
    // triggered while the first is in flight), and cycles are a TTL minus XFetch's earliness apart; so
    // calls closer than 3δ belong to one cycle. The first cycle fills a cold cache (a stampede of its own,
    // with nothing stale to serve): it is reported apart.
    const cycles: number[] = [];
    for (let i = 0; i < callTimes.length; i++) {
      if (i === 0 || callTimes[i]! - callTimes[i - 1]! > 3 * params.recomputeMs) cycles.push(0);
      cycles[cycles.length - 1]!++;
    }
    const expiries = Math.max(0, cycles.length - 1);
    const perExpiry = expiries === 0 ? 0 : (originCalls - cycles[0]!) / expiries;
    const rd = (params.rate / 1000) * params.recomputeMs;
    const theory: Record<(typeof DEFENCES)[number], number> = {
      none: 1 + rd,
      coalescing: Math.min(params.appServers, 1 + rd),
      xfetch: Math.exp(1 / params.beta),
      'stale-while-revalidate': Math.min(params.appServers, 1 + rd),
      lease: 1,
    };
    const expected = theory[d];
    if (d === 'none') {
      check(
        'a stampede of about 1 + r·δ origin calls per expiry',
        Math.abs(perExpiry - expected) / expected < 0.2,
        `${perExpiry.toFixed(2)} per expiry, 1 + r·δ = ${expected.toFixed(1)}`,
      );
    } else if (d === 'lease') {
      check('exactly one origin call per expiry', perExpiry <= 1.05, `${perExpiry.toFixed(3)} per expiry`);
    } else if (d === 'xfetch') {
      check(
        'about e^(1/β) recomputations per expiry',
        Math.abs(perExpiry - expected) / expected < 0.25,
        `${perExpiry.toFixed(2)} per expiry, e^(1/β) = ${expected.toFixed(2)}`,
      );
    } else {
      check(
        'at most one origin call per app server per expiry',
        perExpiry <= params.appServers + 0.05,
        `${perExpiry.toFixed(2)} per expiry, ${params.appServers} app servers`,
      );
    }
    return {
      originCalls,
      originPeakConcurrency: peak,
      coldStartCalls: cycles[0] ?? 0,
      expiries,
      maxPerExpiry: Math.max(0, ...cycles.slice(1)),
      recomputationsPerExpiry: perExpiry,
      theoryPerExpiry: expected,
      latencyP50: latency.percentile(50),
      latencyP99: latency.percentile(99),
      latencyP999: latency.percentile(99.9),
      latencyMax: latency.max,
      staleServed: readers.reduce((a, r) => a + r.stats.staleServed, 0),
      leaseWaits: readers.reduce((a, r) => a + r.stats.leaseWaits, 0),
    };
  },
  compare(variants: readonly VariantResult[]) {
    const none = variants.find((v) => v.name === 'none');
    if (none === undefined) return [];
    const peak = (v: VariantResult): number => v.outcome.originPeakConcurrency as number;
    return variants
      .filter((v) => v.name !== 'none')
      .map((v) => ({
        name: `${v.name} cuts the origin's peak concurrency at an expiry below no defence's`,
        pass: peak(v) < peak(none),
        detail: `${v.name} peak ${peak(v)}, none ${peak(none)}`,
      }));
  },
});
