import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { evictionPolicies } from '../src/catalogue/eviction-policies.js';
import { runScenario, type ScenarioResult } from '../src/index.js';

type Row = Record<string, number>;

function byVariant(r: ScenarioResult): Record<string, Row> {
  return Object.fromEntries(r.variants.map((v) => [v.name, v.outcome as Row]));
}

/**
 * N = 1000, alpha = 0.8, C = 100: Che LRU, FIFO/RANDOM and top-C from the formulas, and sampled LRU (5 and
 * 10 samples) from a simulation without Redis's eviction pool.
 */
const B_T1 = { che: 0.3778, fifo: 0.3337, topC: 0.5258, redis5: 0.3733, redis10: 0.3771 };
const PP = 0.01;

describe('eviction-policies scenario', () => {
  it.each([1, 2])('seed %i, IRM: each policy beside its model', (seed) => {
    const r = runScenario(evictionPolicies, { seed });
    expect(r).toPassChecks();
    const by = byVariant(r);
    expect(Object.keys(by)).toEqual([
      'lru',
      'fifo',
      'random',
      'lfu',
      'lfu-aged',
      'redis-lru-1',
      'redis-lru-5',
      'redis-lru-10',
      'redis-lfu',
      'arc',
      'w-tinylfu',
    ]);
    const lru = by.lru!;
    expect(lru.cheHitRatio).toBeCloseTo(B_T1.che, 4);
    expect(lru.optimumHitRatio).toBeCloseTo(B_T1.topC, 4);
    expect(by.fifo!.theoryHitRatio).toBeCloseTo(B_T1.fifo, 4);
    // LRU within 0.6 pp of Che (4 batch-means standard errors of 120 000 requests is about 0.55 pp).
    expect(Math.abs(lru.hitRatio! - B_T1.che)).toBeLessThan(0.6 * PP);
    // FIFO, RANDOM and 1-sample Redis LRU: one formula, within a point.
    for (const name of ['fifo', 'random', 'redis-lru-1'])
      expect(Math.abs(by[name]!.hitRatio! - B_T1.fifo), name).toBeLessThan(PP);
    // Redis's sampled LRU matches a sampled-LRU simulation without the eviction pool.
    expect(Math.abs(by['redis-lru-5']!.hitRatio! - B_T1.redis5)).toBeLessThan(0.75 * PP);
    expect(Math.abs(by['redis-lru-10']!.hitRatio! - B_T1.redis10)).toBeLessThan(0.75 * PP);
    // Ordering: LRU < ARC < W-TinyLFU <= top-C; in-cache LFU short of top-C, aging closes most of the gap.
    expect(by.arc!.hitRatio).toBeGreaterThan(lru.hitRatio! + 5 * PP);
    expect(by['w-tinylfu']!.hitRatio).toBeGreaterThan(by.arc!.hitRatio!);
    expect(by['w-tinylfu']!.hitRatio).toBeLessThanOrEqual(B_T1.topC);
    expect(by.lfu!.hitRatio).toBeLessThan(B_T1.topC - 4 * PP);
    expect(by['lfu-aged']!.hitRatio).toBeGreaterThan(B_T1.topC - 2 * PP);
    for (const v of r.variants) expect(v.metrics.requests).toBe(120_000);
  });

  it('scan workload: ARC and W-TinyLFU keep the hot set, LRU and FIFO lose it', () => {
    const r = runScenario(evictionPolicies, {
      seed: 1,
      params: { workload: 'scan', requests: 40_000, warmup: 10_000 },
      variants: ['lru', 'fifo', 'arc', 'w-tinylfu'],
    });
    expect(r).toPassChecks();
    const by = byVariant(r);
    const che = by.lru!.cheHitRatio!;
    expect(by.lru!.hotHitRatio).toBeLessThan(che - 5 * PP);
    expect(by.fifo!.hotHitRatio).toBeLessThan(che - 5 * PP);
    for (const name of ['arc', 'w-tinylfu']) {
      expect(by[name]!.hotHitRatio, name).toBeGreaterThan(by.lru!.hotHitRatio! + 15 * PP);
      expect(by[name]!.hotHitRatio, name).toBeGreaterThan(che + 5 * PP);
    }
  });

  it("loop workload: LRU, FIFO (and ARC, LFU) never hit; W-TinyLFU nears Belady's (C - 1)/(L - 1)", () => {
    const r = runScenario(evictionPolicies, {
      seed: 1,
      params: { workload: 'loop', requests: 10_000, warmup: 2000 },
    });
    expect(r).toPassChecks();
    const by = byVariant(r);
    const belady = 99 / 109; // C = 100, L = 110
    expect(by.lru!.optimumHitRatio).toBeCloseTo(belady, 8);
    for (const name of ['lru', 'fifo', 'arc', 'lfu']) expect(by[name]!.hitRatio, name).toBe(0);
    expect(by['w-tinylfu']!.hitRatio).toBeGreaterThan(belady - 2 * PP);
    expect(by.random!.hitRatio).toBeGreaterThan(0.5);
  });

  it('negative control: with uniform popularity no policy beats C/N, and ARC gains nothing over LRU', () => {
    const r = runScenario(evictionPolicies, {
      seed: 1,
      params: { zipf: 0, requests: 40_000, warmup: 5000 },
      variants: ['lru', 'fifo', 'lfu', 'arc', 'w-tinylfu'],
    });
    const by = byVariant(r);
    for (const [name, o] of Object.entries(by)) {
      expect(o.cheHitRatio, name).toBeCloseTo(0.1, 8);
      expect(o.optimumHitRatio, name).toBeCloseTo(0.1, 8);
      expect(Math.abs(o.hitRatio! - 0.1), name).toBeLessThan(PP);
    }
    // ARC's 8-point edge over LRU on Zipf(0.8) is all skew: here it is noise.
    expect(Math.abs(by.arc!.hitRatio! - by.lru!.hitRatio!)).toBeLessThan(PP);
  });

  it("negative control: requests 1 ms apart defeat Redis's 1 s LRU clock (sampled LRU falls to RANDOM)", () => {
    const r = runScenario(evictionPolicies, {
      seed: 1,
      params: { gapMs: 1, requests: 40_000, warmup: 10_000 },
      variants: ['lru', 'redis-lru-10'],
    });
    expect(r).toPassChecks();
    const by = byVariant(r);
    expect(Math.abs(by.lru!.hitRatio! - B_T1.che)).toBeLessThan(PP);
    expect(Math.abs(by['redis-lru-10']!.hitRatio! - B_T1.fifo)).toBeLessThan(PP);
  });

  it('is deterministic: same seed, same digest and outcome', () => {
    const run = () =>
      runScenario(evictionPolicies, {
        seed: 7,
        params: { requests: 5000, warmup: 1000 },
        variants: ['random', 'redis-lfu', 'w-tinylfu'],
      });
    const a = run();
    const b = run();
    expect(a.digest).toBe(b.digest);
    expect(a.variants.map((v) => v.outcome)).toEqual(b.variants.map((v) => v.outcome));
  });
});
