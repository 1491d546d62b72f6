import { exponential, Network, RpcEndpoint, type SimEvent, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { Cache } from '../src/cache/cache.js';
import { LocalCacheAccess, RemoteCache } from '../src/cache/cache-access.js';
import { CacheAside, type LoadResult } from '../src/cache/cache-aside.js';
import { CacheServer } from '../src/cache/cache-server.js';
import { Singleflight } from '../src/cache/singleflight.js';
import { warmUp } from '../src/cache/warm-up.js';

/** A loader that answers `value:key` after `delta` ms; counts calls. */
function slowOrigin(sim: Simulation, delta: number) {
  const calls: number[] = [];
  const load = (key: string): SimEvent<LoadResult<string>> => {
    calls.push(sim.now);
    const ev = sim.event<LoadResult<string>>();
    sim.schedule(delta, () => ev.succeed({ ok: true, value: `value:${key}` }));
    return ev;
  };
  return { calls, load };
}

describe('Cache', () => {
  it('serves fresh entries until the TTL, stale within staleFor, then expires them', () => {
    const sim = new Simulation();
    const cache = new Cache<string>(sim, { capacity: 10, ttl: 100, staleFor: 50 });
    cache.set('a', 'A');
    const at = (t: number) => {
      let status = '';
      sim.schedule(t - sim.now, () => (status = cache.read('a')));
      sim.run();
      return status;
    };
    expect(at(99)).toBe('hit');
    expect(at(100)).toBe('stale');
    expect(at(149)).toBe('stale');
    expect(at(150)).toBe('miss');
    expect(cache.stats).toMatchObject({ hits: 1, staleHits: 2, misses: 1, expirations: 1, entries: 0 });
  });

  it('negative entries answer "not found" for the negative TTL', () => {
    const sim = new Simulation();
    const cache = new Cache<string>(sim, { capacity: 10, ttl: 1000, negativeTtl: 10 });
    cache.setNegative('ghost');
    expect(cache.read('ghost')).toBe('negative');
    expect(cache.get('ghost')).toBeUndefined();
    sim.schedule(10, () => expect(cache.read('ghost')).toBe('miss'));
    sim.run();
  });

  it('TTL jitter spreads expiries uniformly in ttl·[1 − j, 1 + j], mean ttl', () => {
    const sim = new Simulation({ seed: 5 });
    const cache = new Cache<number>(sim, { capacity: 100_000, ttl: 1000, ttlJitter: 0.2 });
    let sum = 0;
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < 20_000; i++) {
      cache.set(`k${i}`, i);
      const e = cache.peek(`k${i}`)!.expiresAt;
      sum += e;
      min = Math.min(min, e);
      max = Math.max(max, e);
    }
    expect(min).toBeGreaterThanOrEqual(800);
    expect(max).toBeLessThanOrEqual(1200);
    expect(Math.abs(sum / 20_000 - 1000)).toBeLessThan(4 * (400 / Math.sqrt(12) / Math.sqrt(20_000)));
  });

  it('evicts by the policy within capacity, in entries or bytes, and counts it', () => {
    const sim = new Simulation();
    const lru = new Cache<number>(sim, { name: 'lru', capacity: 3 });
    for (const k of ['a', 'b', 'c']) lru.set(k, 1);
    lru.get('a');
    lru.set('d', 1); // evicts b, the least recently used
    expect(['a', 'b', 'c', 'd'].filter((k) => lru.has(k))).toEqual(['a', 'c', 'd']);
    expect(lru.stats.evictions).toBe(1);
    const bytes = new Cache<string>(sim, { name: 'bytes', capacity: 100, unit: 'bytes' });
    bytes.set('x', 'x', { size: 60 });
    bytes.set('y', 'y', { size: 60 });
    expect(bytes.stats).toMatchObject({ entries: 1, used: 60, evictions: 1 });
    expect(bytes.set('huge', 'h', { size: 101 })).toBe(false);
    expect(bytes.stats.rejected).toBe(1);
    expect(thrown(() => lru.set('z', 1, { size: 5 })).message).toContain('size');
    expect(sim.metrics.counter('lru', 'cache.evictions').value).toBe(1);
  });

  it('rejects bad options, naming the field', () => {
    const sim = new Simulation();
    expect(thrown(() => new Cache(sim, { capacity: 0 })).message).toContain('capacity');
    expect(thrown(() => new Cache(sim, { capacity: 1, ttlJitter: 1 })).message).toContain('ttlJitter');
    expect(thrown(() => new Cache(sim, { capacity: 1, unit: 'pages' as 'bytes' })).message).toContain('unit');
    expect(thrown(() => new Cache(sim, { capacity: 1, ttl: 0 })).message).toContain('ttl');
  });
});

describe('Singleflight', () => {
  it('N concurrent calls for a key make one execution and share its result, errors included', () => {
    const sim = new Simulation();
    const flights = new Singleflight<string>();
    const got: string[] = [];
    let runs = 0;
    const fn = () => {
      runs++;
      const ev = sim.event<string>();
      sim.schedule(10, () => ev.succeed(`v${runs}`));
      return ev;
    };
    for (let i = 0; i < 5; i++) flights.do('k', fn).onProcessed((e) => got.push(e.value!));
    sim.run();
    expect(got).toEqual(['v1', 'v1', 'v1', 'v1', 'v1']);
    expect(flights.stats).toEqual({ calls: 5, executions: 1, shared: 4, inFlight: 0 });
    flights.do('k', fn).onProcessed((e) => got.push(e.value!)); // after landing: a new flight
    sim.run();
    expect(got.at(-1)).toBe('v2');
    const failing = new Singleflight<string>();
    const errors: unknown[] = [];
    const boom = () => {
      const ev = sim.event<string>();
      sim.schedule(1, () => ev.fail(new Error('db down')));
      return ev;
    };
    for (let i = 0; i < 3; i++) failing.do('k', boom).onProcessed((e) => errors.push(e.error));
    sim.run();
    expect(errors).toHaveLength(3);
    expect(new Set(errors).size).toBe(1);
  });
});

describe('CacheAside and stampede defences', () => {
  /** Poisson reads of one hot key at `rate` per ms for `duration` ms. */
  function hotKey(
    options: { coalesce?: boolean; beta?: number; swr?: boolean },
    rate: number,
    duration: number,
    delta: number,
    ttl: number,
    seed = 1,
  ) {
    const sim = new Simulation({ seed });
    const cache = new Cache<string>(sim, { capacity: 10, ttl, staleFor: options.swr ? 10 * delta : 0 });
    const origin = slowOrigin(sim, delta);
    const reader = new CacheAside(sim, {
      cache: new LocalCacheAccess(cache),
      load: origin.load,
      ...(options.coalesce ? { coalesce: true } : {}),
      ...(options.beta === undefined ? {} : { xfetch: { beta: options.beta } }),
      ...(options.swr ? { staleWhileRevalidate: true } : {}),
    });
    const gaps = exponential({ rate });
    const rng = sim.rng('reads');
    const latencies: number[] = [];
    const next = (): void => {
      reader.read('hot').onProcessed((e) => latencies.push(e.value!.latency));
      if (sim.now < duration) sim.schedule(gaps.sample(rng), next);
    };
    next();
    sim.run();
    return { reader, origin, latencies, cache };
  }

  /** Origin calls grouped into expiry cycles: calls closer than `gap` belong to one cycle. */
  function cycles(calls: number[], gap: number): number[] {
    const sizes: number[] = [];
    let last = -Infinity;
    for (const t of calls) {
      if (t - last > gap) sizes.push(0);
      sizes[sizes.length - 1]!++;
      last = t;
    }
    return sizes;
  }

  it('no protection: about r·δ origin calls per expiry (the stampede)', () => {
    // 10 reads/s, 3 s recompute: about 30 readers miss while the first recomputes (XFetch paper).
    const { origin } = hotKey({}, 0.01, 600_000, 3000, 20_000);
    const perExpiry = cycles(origin.calls, 5000).slice(1);
    const mean = perExpiry.reduce((a, b) => a + b, 0) / perExpiry.length;
    expect(Math.abs(mean - 31) / 31).toBeLessThan(0.15); // 1 + r·δ: the first miss plus those during δ
  });

  it('coalescing (singleflight): exactly one origin call per expiry', () => {
    const { origin, reader } = hotKey({ coalesce: true }, 0.01, 600_000, 3000, 20_000);
    expect(cycles(origin.calls, 5000).every((n) => n === 1)).toBe(true);
    expect(reader.stats.coalesced).toBeGreaterThan(500);
    expect(reader.stats.originPeakInFlight).toBe(1);
  });

  it('XFetch: recomputations per expiry near e^(1/beta), earliness near beta·delta·(ln(r·beta·delta) + gamma)', () => {
    // r = 10/s, delta = 3 s. TTL 60 s >> beta·delta, so refreshes before expiry dominate.
    for (const [beta, seed] of [
      [1, 1],
      [2, 2],
    ] as const) {
      const { origin } = hotKey({ beta }, 0.01, 1_500_000, 3000, 60_000, seed);
      const sizes = cycles(origin.calls, 10_000).slice(1);
      const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
      const theory = Math.exp(1 / beta);
      const sd = Math.sqrt(sizes.reduce((a, b) => a + (b - mean) ** 2, 0) / sizes.length);
      expect(sizes.length).toBeGreaterThan(20);
      expect(Math.abs(mean - theory), `beta ${beta}: ${mean} vs ${theory}`).toBeLessThan(
        Math.max(0.05 * theory, (4 * sd) / Math.sqrt(sizes.length)),
      );
      // Earliness of each cycle's first refresh before the expiry of the value then cached (stored by the
      // previous cycle's last recompute, delta after it started): Gumbel, mean beta·delta·(ln(r·beta·delta) + gamma).
      const starts = origin.calls;
      const early: number[] = [];
      let prevLast = -1;
      let first = true;
      for (let i = 0; i < starts.length; i++) {
        const newCycle = i === 0 || starts[i]! - starts[i - 1]! > 10_000;
        if (newCycle && i > 0) {
          if (!first) early.push(prevLast + 3000 + 60_000 - starts[i]!);
          first = false;
        }
        prevLast = starts[i]!;
      }
      const bd = beta * 3000;
      const gumbelMean = bd * (Math.log(0.01 * bd) + 0.5772);
      const gumbelSd = (bd * Math.PI) / Math.sqrt(6);
      const meanEarly = early.reduce((a, b) => a + b, 0) / early.length;
      expect(Math.abs(meanEarly - gumbelMean), `earliness ${meanEarly} vs ${gumbelMean}`).toBeLessThan(
        (4 * gumbelSd) / Math.sqrt(early.length),
      );
    }
  });

  it('stale-while-revalidate: one refresh per expiry and no reader waits for the origin after warm-up', () => {
    const { origin, latencies } = hotKey({ swr: true }, 0.01, 600_000, 3000, 20_000);
    const sizes = cycles(origin.calls, 5000);
    expect(sizes[0]).toBeGreaterThan(15); // the cold start is a stampede: nothing stale to serve yet
    expect(sizes.slice(1).every((n) => n === 1)).toBe(true);
    expect(sizes.length).toBeGreaterThan(20);
    expect(latencies.slice(100).every((l) => l === 0)).toBe(true);
  });

  it('leases on a shared cache server: one origin call per expiry across many app servers', () => {
    const sim = new Simulation({ seed: 3 });
    const net = new Network(sim, { defaults: { latency: 0.5 } });
    new CacheServer(net.addNode('redis'), { capacity: 100, ttl: 20_000 });
    const origin = slowOrigin(sim, 500);
    const readers = [0, 1, 2, 3, 4, 5, 6, 7].map(
      (i) =>
        new CacheAside(sim, {
          name: `app${i}`,
          cache: new RemoteCache<string>(new RpcEndpoint(net.addNode(`app${i}`)), { servers: 'redis' }),
          load: origin.load,
          coalesce: true,
          lease: { retryAfter: 20 },
        }),
    );
    const gaps = exponential({ rate: 0.05 });
    const rng = sim.rng('reads');
    let n = 0;
    const results: string[] = [];
    const next = (): void => {
      readers[n++ % readers.length]!.read('hot').onProcessed((e) => results.push(e.value!.value!));
      if (sim.now < 200_000) sim.schedule(gaps.sample(rng), next);
    };
    next();
    sim.run();
    expect(cycles(origin.calls, 5000).every((c) => c === 1)).toBe(true);
    expect(origin.calls.length).toBe(10); // one per 20 s TTL over 200 s
    expect(results.every((v) => v === 'value:hot')).toBe(true);
    expect(readers.reduce((a, r) => a + r.stats.leaseWaits, 0)).toBeGreaterThan(0);
  });

  it('a cache server crash empties it (a cold restart) unless persistent', () => {
    for (const persistent of [false, true]) {
      const sim = new Simulation();
      const net = new Network(sim);
      const server = new CacheServer(net.addNode('redis'), { capacity: 10, persistent });
      server.cache.set('k', 'v');
      net.crash('redis');
      net.restart('redis');
      expect(server.cache.has('k')).toBe(persistent);
    }
  });
});

describe('warmUp', () => {
  const setup = (failEvery = 0) => {
    const sim = new Simulation();
    const cache = new Cache<string>(sim, { capacity: 1000 });
    let calls = 0;
    const load = (key: string): SimEvent<LoadResult<string>> => {
      calls++;
      const ev = sim.event<LoadResult<string>>();
      const ok = failEvery === 0 || calls % failEvery !== 0;
      sim.schedule(10, () => ev.succeed(ok ? { ok: true, value: `v:${key}` } : { ok: false }));
      return ev;
    };
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    return { sim, cache, load, keys };
  };

  it('loads every key, concurrency-bound: ceil(N / c) × load time', () => {
    const { sim, cache, load, keys } = setup();
    let result: { loaded: number; durationMs: number } | undefined;
    warmUp(sim, { cache: new LocalCacheAccess(cache), keys, load, concurrency: 8 }).onProcessed(
      (e) => (result = e.value!),
    );
    sim.run();
    expect(result).toMatchObject({ loaded: 100, durationMs: 130 });
    expect(keys.every((k) => cache.get(k) === `v:${k}`)).toBe(true);
  });

  it('rate-bound: N / rate, and failures are counted, not stored', () => {
    const { sim, cache, load, keys } = setup(10);
    let result: { loaded: number; failed: number; durationMs: number } | undefined;
    warmUp(sim, { cache: new LocalCacheAccess(cache), keys, load, concurrency: 8, rate: 100 }).onProcessed(
      (e) => (result = e.value!),
    );
    sim.run();
    expect(result).toEqual({ loaded: 90, failed: 10, durationMs: 1000 });
    expect(cache.size).toBe(90);
    expect(
      thrown(() => warmUp(sim, { cache: new LocalCacheAccess(cache), keys, load, rate: 0 })).message,
    ).toContain('rate');
  });
});
