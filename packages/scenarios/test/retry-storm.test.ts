import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { retryStorm, runScenario } from '../src/index.js';

describe('retry-storm scenario (metastable failure)', () => {
  it.each([1, 2])('seed %i: naive stays down, budget / drop-expired / breaker recover', (seed) => {
    const r = runScenario(retryStorm, { seed });
    expect(r).toPassChecks();
    const naive = r.variants.find((v) => v.name === 'naive')!.outcome;
    // Stuck offered load is lambda (1 + R): every request makes all four attempts.
    expect(Math.abs((naive.amplification as number) - 4) / 4).toBeLessThan(0.05);
    expect(naive.goodputBefore as number).toBeGreaterThan(60);
  });

  it('has a sharp trigger threshold: a 0.5 s outage recovers, a 3 s outage does not', () => {
    for (const seed of [1, 2, 3]) {
      const short = runScenario(retryStorm, { seed, params: { outageMs: 500 }, variants: ['naive'] });
      const long = runScenario(retryStorm, { seed, params: { outageMs: 3000 }, variants: ['naive'] });
      expect(short.outcome.recovered, `seed ${seed}`).toBe(true);
      expect(long.outcome.recovered, `seed ${seed}`).toBe(false);
    }
  });

  it('is not metastable when lambda (1 + R) < mu, even after a 5 s outage', () => {
    const r = runScenario(retryStorm, {
      seed: 1,
      params: { lambda: 20, outageMs: 5000 },
      variants: ['naive'],
    });
    expect(r.outcome.recovered).toBe(true);
  });
});
