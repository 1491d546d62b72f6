import { runScenario } from '@dsim/scenarios';
import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import stampede from '../stampede.scenario.js';

describe('example: custom stampede', () => {
  it.each([1, 2])('seed %i: the database sees a stampede per expiry unless the apps coalesce', (seed) => {
    const result = runScenario(stampede, { seed });
    expect(result).toPassChecks();
    const by = Object.fromEntries(result.variants.map((v) => [v.name, v.outcome]));
    // No defence: each app's readers during the 300 ms query all query: about 1 + (r/3)·δ per app.
    expect(by.none!.queriesPerExpiry as number).toBeGreaterThan(40);
    expect(by.singleflight!.queriesPerExpiry as number).toBeLessThanOrEqual(3);
    expect(by.xfetch!.queriesPerExpiry as number).toBeLessThan(by.none!.queriesPerExpiry as number);
  });
});
