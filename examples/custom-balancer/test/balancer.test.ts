import { runScenario } from '@dsim/scenarios';
import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import balancer from '../balancer.scenario.js';

describe('example: custom balancer', () => {
  it.each([
    1, 2,
  ])('seed %i: the zone-aware policy keeps traffic local and spills only in the surge', (seed) => {
    const result = runScenario(balancer, { seed });
    expect(result).toPassChecks();
    const by = Object.fromEntries(result.variants.map((v) => [v.name, v]));
    const rr = by['round-robin']!;
    const zone = by['zone-aware']!;
    expect(rr.outcome.localShare).toBe(0.5); // round robin: half the requests cross zones
    // Calm (900/s on 1500/s of local capacity): about 90% local. Surge (2100/s): the excess spills.
    expect(zone.outcome.localShareCalm as number).toBeGreaterThan(0.85);
    expect(zone.outcome.localShareSurge as number).toBeGreaterThan(0.55);
    expect(zone.outcome.localShareSurge as number).toBeLessThan(0.7);
    expect(zone.outcome.crossZone as number).toBeLessThan(0.5 * (rr.outcome.crossZone as number));
    expect(zone.metrics.latencyMs.mean).toBeLessThan(0.9 * rr.metrics.latencyMs.mean);
  });

  it('never spilling keeps everything local, and the surge overloads zone a', () => {
    const spill = runScenario(balancer, { seed: 1, variants: ['zone-aware'] });
    const hoard = runScenario(balancer, { seed: 1, variants: ['zone-aware'], params: { spillAt: 1000 } });
    expect(hoard.outcome.localShare).toBe(1);
    // 2100/s on 1500/s of capacity: the queues grow until the 1 s client timeouts fire.
    expect(spill.metrics.failed).toBe(0);
    expect(hoard.metrics.failed).toBeGreaterThan(10_000);
    expect(hoard.metrics.latencyMs.p99).toBeGreaterThan(20 * spill.metrics.latencyMs.p99);
  });
});
