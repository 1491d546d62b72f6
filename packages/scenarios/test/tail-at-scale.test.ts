import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { runScenario, tailAtScale } from '../src/index.js';

describe('tail-at-scale scenario', () => {
  it.each([1, 2])('seed %i: slow share follows 1 - (1 - p)^N; hedging cuts the tail', (seed) => {
    const r = runScenario(tailAtScale, { seed, params: { requests: 800 } });
    expect(r).toPassChecks();
  });

  it('a single leaf is slow with probability p, and N = 1 gives p', () => {
    const r = runScenario(tailAtScale, {
      seed: 3,
      params: { fanout: 1, pSlow: 0.2, requests: 4000 },
      variants: ['plain'],
    });
    expect(Math.abs((r.outcome.slowShare as number) - 0.2)).toBeLessThan(5 * Math.sqrt((0.2 * 0.8) / 4000));
  });
});
