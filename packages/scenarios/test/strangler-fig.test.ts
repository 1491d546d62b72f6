import { describe, expect, it } from 'vitest';
import { stranglerFig } from '../src/catalogue/strangler-fig.js';
import { runScenario } from '../src/scenario.js';

// Shorter than the defaults (10 s steps, 1 minute apart) at a higher rate, so that each step still sees
// hundreds of requests.
const FAST = { intervalS: 10, gapMinutes: 1, rate: 100 };

describe('strangler-fig scenario', () => {
  it('every strategy passes its checks across seeds, and the ordering holds', () => {
    for (const seed of [1, 2]) {
      const r = runScenario(stranglerFig, { seed, params: FAST });
      for (const v of r.variants)
        for (const c of v.checks) expect(c.pass, `seed ${seed} ${c.name}: ${c.detail}`).toBe(true);
      for (const c of r.checks) expect(c.pass, `seed ${seed} ${c.name}: ${c.detail}`).toBe(true);
      const canary = r.variants.find((v) => v.name === 'canary')!.outcome;
      expect(canary).toMatchObject({ promoted: 2, rolledBack: 1, ordersFinalWeight: 0, goodUserErrors: 0 });
      const shadow = r.variants.find((v) => v.name === 'shadow-first')!.outcome;
      expect(shadow).toMatchObject({ badReleaseUserErrors: 0, blocked: 1, promoted: 2 });
      expect(Math.abs((shadow.badShadowFailureRate as number) - 0.05)).toBeLessThan(0.02);
    }
  });

  it("the canary's exposure follows rate x first weight x interval x error rate, on average", () => {
    let sum = 0;
    const seeds = [1, 2, 3, 4];
    for (const seed of seeds) {
      const r = runScenario(stranglerFig, {
        seed,
        variants: ['canary'],
        params: { ...FAST, badErrorRate: 0.4 },
      });
      sum += r.outcome.badReleaseUserErrors as number;
    }
    const theory = 100 * 0.05 * 10 * 0.4; // 20 per run
    // Poisson: the mean of four runs has sd sqrt(20/4) = 2.2; allow 4 sd.
    expect(Math.abs(sum / seeds.length - theory)).toBeLessThan(9);
  });

  it('a good release everywhere: the canary promotes all three routes and no user sees an error', () => {
    const r = runScenario(stranglerFig, {
      seed: 4,
      variants: ['canary'],
      params: { ...FAST, badErrorRate: 0 },
    });
    expect(r.outcome).toMatchObject({ promoted: 3, rolledBack: 0, badReleaseUserErrors: 0 });
    expect(r.metrics.failed).toBe(0);
  });
});
