import { runScenario } from '@dsim/scenarios';
import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import partition from '../partition.scenario.js';

describe('example: partition demo', () => {
  it.each([
    1, 2, 3,
  ])('seed %i: c1 loses two thirds of its calls while cut off, c2 is unaffected, both recover', (seed) => {
    const result = runScenario(partition, { seed });
    expect(result).toPassChecks();
    expect(result.outcome.c1Before).toBe(1);
  });
});
