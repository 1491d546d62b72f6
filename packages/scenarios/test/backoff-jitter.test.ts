import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { BROOKER_100_CLIENTS, backoffJitter, runScenario } from '../src/index.js';

describe('backoff-jitter scenario (Brooker, 2015)', () => {
  it.each([
    1, 2,
  ])('seed %i: orderings hold and every strategy is within 10% of the published simulator', (seed) => {
    const result = runScenario(backoffJitter, { seed });
    expect(result).toPassChecks();
    expect(result.variants.map((v) => v.name)).toEqual(Object.keys(BROOKER_100_CLIENTS));
    expect(result.checks.length).toBe(7);
  });

  it('every client finishes exactly once per run', () => {
    const result = runScenario(backoffJitter, {
      seed: 3,
      params: { clients: 20, runs: 5 },
      variants: ['full-jitter'],
    });
    expect(result.metrics.requests).toBe(100);
    expect(result.metrics.ok).toBe(100);
  });
});
