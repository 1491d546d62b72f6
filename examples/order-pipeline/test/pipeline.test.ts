import { runScenario } from '@dsim/scenarios';
import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import pipeline from '../pipeline.scenario.js';

describe('example: order pipeline with a dead-letter queue', () => {
  it.each([
    1, 2,
  ])('seed %i: good and flaky orders billed once, poison orders dead-lettered after the delivery limit', (seed) => {
    const r = runScenario(pipeline, { seed });
    expect(r).toPassChecks();
    expect(r.outcome.poison as number).toBeGreaterThan(5);
    expect(r.outcome.deliveryLimitDeaths).toBe(r.outcome.poison);
    // Each poison order is delivered 21 times (the limit of 20 is exceeded on its 21st return).
    expect(r.outcome.redelivered as number).toBeGreaterThanOrEqual(20 * (r.outcome.poison as number));
  });

  it('without a delivery limit the poison orders would cycle forever: with a limit of 0 they die at once', () => {
    const r = runScenario(pipeline, { seed: 1, params: { deliveryLimit: 0, flaky: 0 } });
    expect(r).toPassChecks();
    expect(r.outcome.redelivered).toBe(0);
  });
});
