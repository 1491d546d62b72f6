import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { cdn } from '../src/catalogue/cdn.js';
import { runScenario } from '../src/scenario.js';

// A shorter, lighter run than the defaults (1000 req/s for 120 s) keeps the test fast.
const light = { rate: 500, seconds: 60 };

describe('cdn scenario', () => {
  it('seed 1: tiers conserve requests, edges match Che, the shield and bigger edges cut origin load', () => {
    const r = runScenario(cdn, { seed: 1, params: light });
    expect(r).toPassChecks();
    const [plain, shield, bigger] = r.variants.map((v) => v.outcome);
    expect(Math.abs((plain!.edgeHitRatio as number) - (plain!.cheEdgeHitRatio as number))).toBeLessThan(0.01);
    // Without a shield the origin sees every edge miss; the shield answers about half of them.
    expect(shield!.originRequests as number).toBeLessThan(0.6 * (plain!.originRequests as number));
    expect(bigger!.originRequests as number).toBeLessThan(shield!.originRequests as number);
    // A hit is the 10 ms client round trip plus 1 ms at the edge; misses pay the way to the origin
    // (us-east), so the tail grows with the distance.
    expect(plain!.hitP50Ms).toBe(11);
    expect(plain!['p99Ms.ap-south'] as number).toBeGreaterThan(plain!['p99Ms.eu-west'] as number);
    expect(plain!['p99Ms.eu-west'] as number).toBeGreaterThan(plain!['p99Ms.us-east'] as number);
  });

  it('is deterministic: same seed, same digest and outcome', () => {
    const a = runScenario(cdn, { seed: 5, params: { rate: 300, seconds: 20 }, variants: ['shield'] });
    const b = runScenario(cdn, { seed: 5, params: { rate: 300, seconds: 20 }, variants: ['shield'] });
    expect(b.digest).toBe(a.digest);
    expect(b.outcome).toEqual(a.outcome);
  });

  it('without request collapsing, concurrent misses each reach the next tier', () => {
    const r = runScenario(cdn, {
      seed: 2,
      params: { rate: 300, seconds: 20, collapse: false },
      variants: ['no-shield'],
    });
    expect(r).toPassChecks();
    expect(r.outcome.collapsed).toBe(0);
  });
});
