import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { leastConnBlackHole } from '../src/catalogue/least-conn-black-hole.js';
import { runScenario } from '../src/scenario.js';

describe('least-conn-black-hole scenario', () => {
  it.each([1, 2])('seed %i: least request feeds the failing backend; outlier detection ejects it', (seed) => {
    const r = runScenario(leastConnBlackHole, { seed, params: { seconds: 30 } });
    expect(r).toPassChecks();
    const o = (name: string) => r.variants.find((v) => v.name === name)!.outcome;
    // Ten backends: 1/N = 10%. Full scan sends the fail-fast backend well over twice that.
    expect(o('full-scan').failingShareAfter as number).toBeGreaterThan(0.2);
    expect(o('full-scan').errorRateAfter as number).toBeGreaterThan(0.2);
    expect(o('power-of-two').failingShareAfter as number).toBeGreaterThan(0.12);
    expect(o('round-robin').failingShareAfter).toBeCloseTo(0.1, 3);
    for (const name of ['full-scan', 'power-of-two', 'round-robin']) expect(o(name).errorRateBefore).toBe(0);
    // Envoy's defaults: ejected on the 5th consecutive 5xx, within a fraction of a second at 800/s.
    const od = o('full-scan-outlier-detection');
    expect(od.consecutiveErrorsAtEjection).toBe(5);
    // An answer to a request taken before failAt can break the run of errors: then a few more.
    expect(od.errorsBeforeFirstEjection as number).toBeGreaterThanOrEqual(5);
    expect(od.errorsBeforeFirstEjection as number).toBeLessThan(15);
    expect(od.timeToEjectionMs as number).toBeLessThan(1000);
    // Ejected at ~10 s for 30 s: back at the 40 s sweep at the earliest, so one ejection in 30 s.
    expect(od.ejections).toBe(1);
    expect(od.errorRateAfter as number).toBeLessThan(0.001);
  });

  it('a host that returns costs 5 more errors: two ejections in 60 s', () => {
    const r = runScenario(leastConnBlackHole, {
      seed: 3,
      params: { rate: 400 },
      variants: ['full-scan-outlier-detection'],
    });
    expect(r).toPassChecks();
    expect(r.outcome.ejections).toBe(2);
    // Every request the failing backend got after failAt is one of those 10 errors.
    expect(Math.round((r.outcome.errorRateAfter as number) * (r.outcome.requestsAfter as number))).toBe(10);
  });

  it('same seed, same result; bad parameters are refused', () => {
    const params = { seconds: 12, rate: 200 };
    const a = runScenario(leastConnBlackHole, { seed: 9, params });
    const b = runScenario(leastConnBlackHole, { seed: 9, params });
    expect(a.digest).toBe(b.digest);
    expect(() => runScenario(leastConnBlackHole, { seed: 1, params: { backends: 1 } })).toThrow(/backends/);
    expect(() =>
      runScenario(leastConnBlackHole, { seed: 1, params: { rate: 100_000, seconds: 100 } }),
    ).toThrow(/rate × seconds/);
  });
});
