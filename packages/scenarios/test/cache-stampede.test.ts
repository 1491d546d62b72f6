import { describe, expect, it } from 'vitest';
import '../src/vitest.js';
import { cacheStampede } from '../src/catalogue/cache-stampede.js';
import { runScenario } from '../src/scenario.js';

const short = { seconds: 120 };

describe('cache-stampede', () => {
  it.each([
    1, 2,
  ])('seed %i: every check holds; each defence cuts origin calls per expiry as theory says', (seed) => {
    const r = runScenario(cacheStampede, { seed, params: short });
    expect(r).toPassChecks();
    const by = Object.fromEntries(r.variants.map((v) => [v.name, v.outcome]));
    // No defence: 1 + r·δ = 1 + 0.1/ms × 500 ms = 51 per expiry.
    expect(Math.abs((by.none!.recomputationsPerExpiry as number) - 51)).toBeLessThan(8);
    // Singleflight per app server: one per server (4); leases on the shared cache: exactly one.
    expect(by.coalescing!.maxPerExpiry).toBe(4);
    expect(by.lease!.maxPerExpiry).toBe(1);
    expect(by.lease!.originPeakConcurrency).toBe(1);
    // SWR: nobody waits for the origin after the cold start (p99 = two cache hops of 0.5 ms + service).
    expect(by['stale-while-revalidate']!.latencyP99 as number).toBeLessThan(2);
    // XFetch: e^(1/β) = 2.72 per expiry (constant δ, r·β·δ = 50 >> 1).
    expect(Math.abs((by.xfetch!.recomputationsPerExpiry as number) - Math.E)).toBeLessThan(0.6);
  });

  it('XFetch with beta 2 refreshes earlier and less often: e^(1/2) = 1.65 per expiry', () => {
    const r = runScenario(cacheStampede, { seed: 3, params: { ...short, beta: 2 }, variants: ['xfetch'] });
    expect(Math.abs((r.outcome.recomputationsPerExpiry as number) - Math.exp(0.5))).toBeLessThan(0.35);
  });

  it('negative control: a stampede grows with the read rate (1 + r·δ), coalescing does not', () => {
    const slow = runScenario(cacheStampede, {
      seed: 1,
      params: { ...short, rate: 40 },
      variants: ['none', 'coalescing'],
    });
    const fast = runScenario(cacheStampede, {
      seed: 1,
      params: { ...short, rate: 160 },
      variants: ['none', 'coalescing'],
    });
    const per = (r: typeof slow, v: string) =>
      r.variants.find((x) => x.name === v)!.outcome.recomputationsPerExpiry as number;
    expect(per(fast, 'none') / per(slow, 'none')).toBeGreaterThan(3);
    expect(per(fast, 'coalescing')).toBe(per(slow, 'coalescing'));
  });

  it('is deterministic: same seed, same digest', () => {
    const a = runScenario(cacheStampede, { seed: 9, params: short, variants: ['xfetch'] });
    const b = runScenario(cacheStampede, { seed: 9, params: short, variants: ['xfetch'] });
    expect(a.digest).toBe(b.digest);
  });
});
