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
    // The per-phase figures of the system layer tell the same story, node by node.
    expect(naive['client.after.amplification']).toBeCloseTo(naive.amplification as number, 1);
    expect(naive['client.after.errors.timeout']).toBe(naive['client.after.requests']);
    expect(naive['server.after.utilisation'] as number).toBeGreaterThan(0.99);
    // The budget lets through 10% of the requests it saw in its 10 s window (about 70/s x 10 s x 0.1).
    const budget = r.variants.find((v) => v.name === 'retry-budget')!.outcome;
    expect(budget['client.during.retries'] as number).toBeGreaterThan(0);
    expect(budget['client.during.retries'] as number).toBeLessThanOrEqual(0.1 * 70 * 10 * 1.15);
    expect(budget['server.after.utilisation'] as number).toBeLessThan(0.8);
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
