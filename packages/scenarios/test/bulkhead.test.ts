import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { bulkhead, runScenario } from '../src/index.js';

describe('bulkhead scenario', () => {
  it.each([1, 2])('seed %i: a shared pool spreads the incident; isolated pools contain it', (seed) => {
    const r = runScenario(bulkhead, { seed, params: { seconds: 45 } });
    expect(r).toPassChecks();
    const [shared, isolated] = r.variants;
    expect(isolated!.outcome.aAvailabilityDuring as number).toBeGreaterThan(
      shared!.outcome.aAvailabilityDuring as number,
    );
    for (const v of r.variants) expect(v.metrics.ok + v.metrics.failed).toBe(v.metrics.requests);
    // The frontend calls a only for to-a's requests, and with isolated pools every one of them gets through.
    const o = isolated!.outcome as Record<string, number>;
    expect(Math.abs(o['frontend->a.during.rate']! / o['to-a.during.rate']! - 1)).toBeLessThan(0.02);
    expect(o['frontend->b.during.rate']!).toBeLessThan(o['to-b.during.rate']!);
    expect(o['to-b.during.errors.rejected']!).toBeGreaterThan(0);
    expect(o['to-a.during.errors.rejected'] ?? 0).toBe(0);
  });

  it('without an incident (slowdown 1) both layouts serve everything', () => {
    const r = runScenario(bulkhead, { seed: 4, params: { slowdown: 1, seconds: 30 } });
    for (const v of r.variants) expect(v.metrics.availability).toBe(1);
  });
});
