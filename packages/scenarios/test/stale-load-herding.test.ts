import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { staleLoadHerding } from '../src/catalogue/stale-load-herding.js';
import { runScenario } from '../src/scenario.js';

describe('stale-load-herding scenario', () => {
  it('seed 1: fresh full scan wins, stale full scan herds past p2c and random, p2c degrades gracefully', () => {
    const r = runScenario(staleLoadHerding, { seed: 1, params: { customers: 15_000 } });
    expect(r).toPassChecks();
    const mean = (name: string) =>
      r.variants.find((v) => v.name === name)!.outcome.meanTimeInSystem as number;
    const o = (name: string) => r.variants.find((v) => v.name === name)!.outcome;
    expect(mean('full-scan-T0')).toBeLessThan(mean('p2c-T0'));
    expect(mean('full-scan-T1')).toBeGreaterThan(mean('p2c-T1'));
    expect(mean('full-scan-T20')).toBeGreaterThan(mean('random'));
    expect(mean('p2c-T20')).toBeLessThan(mean('random'));
    // Herding: with reports every service time, one server takes a far larger share of a period's
    // arrivals under the full scan than on live counts.
    expect(o('full-scan-T1').herdShare as number).toBeGreaterThan(
      2 * (o('full-scan-T0').herdShare as number),
    );
    expect(o('full-scan-T0').reportIntervalMs).toBeNull();
    expect(o('p2c-T5').reportIntervalMs).toBe(50);
    for (const v of r.variants) expect(v.metrics.failed, v.name).toBe(0);
  }, 30_000);

  it('same seed, same result; bad parameters are refused', () => {
    const small = { servers: 8, customers: 2000 };
    const a = runScenario(staleLoadHerding, { seed: 7, params: small, variants: ['full-scan-T5'] });
    const b = runScenario(staleLoadHerding, { seed: 7, params: small, variants: ['full-scan-T5'] });
    expect(a.digest).toBe(b.digest);
    expect(() => runScenario(staleLoadHerding, { seed: 1, params: { lambda: 1 } })).toThrow(/lambda/);
    expect(() => runScenario(staleLoadHerding, { seed: 1, params: { interval: -1 } })).toThrow(/interval/);
    expect(() => runScenario(staleLoadHerding, { seed: 1, params: { customers: 2_000_000 } })).toThrow(
      /customers/,
    );
  });
});
