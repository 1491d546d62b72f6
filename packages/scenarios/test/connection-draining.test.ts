import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { connectionDraining, lognormalExcessMean } from '../src/catalogue/connection-draining.js';
import { runScenario } from '../src/scenario.js';

describe('connection-draining scenario', () => {
  it.each([
    1, 2,
  ])('seed %i: no drain cuts everything in flight, a long drain nothing, a short one a few', (seed) => {
    const r = runScenario(connectionDraining, { seed });
    expect(r).toPassChecks();
    const o = (name: string) => r.variants.find((v) => v.name === name)!.outcome;
    // Same seed, same arrivals and service times: the same requests are in flight at the removals.
    const held = o('no-drain').inFlightAtRemovals as number;
    expect(o('no-drain').cut).toBe(held);
    expect(o('no-drain').errors).toBe(held);
    // M/G/∞: about 76 in flight over the 4 removals.
    expect(held).toBeGreaterThan(40);
    expect(held).toBeLessThan(120);
    expect(o('long-drain').cut).toBe(0);
    expect(o('long-drain').errors).toBe(0);
    expect(o('long-drain').drainedEarly).toBe(4);
    expect(o('long-drain').longestOkMs as number).toBeLessThan(30_000);
    const short = o('short-drain').cut as number;
    expect(short).toBeGreaterThan(0);
    expect(short).toBeLessThan(held / 3);
    expect(o('short-drain').errors).toBe(short);
  });

  it('the M/G/∞ expectation: E[(S - d)+] of the truncated lognormal', () => {
    // Mean of lognormal(ln 50, 1.5) is 50 e^1.125 = 154.0 ms; truncation at 20 s removes almost nothing.
    expect(lognormalExcessMean(Math.log(50), 1.5, 20_000, 0)).toBeCloseTo(152.9, 0);
    expect(lognormalExcessMean(Math.log(50), 1.5, Infinity, 0)).toBeCloseTo(50 * Math.exp(1.125), 3);
    // A point mass: S = 50 always.
    expect(lognormalExcessMean(Math.log(50), 0, 20_000, 20)).toBeCloseTo(30, 9);
    expect(lognormalExcessMean(Math.log(50), 1.5, 20_000, 20_000)).toBe(0);
  });

  it('a drain longer than a step overlaps the next one, and still cuts nothing', () => {
    const r = runScenario(connectionDraining, {
      seed: 3,
      params: { drainSeconds: 300, seconds: 40, rate: 200 },
      variants: ['long-drain'],
    });
    expect(r).toPassChecks();
    expect(r.outcome.cut).toBe(0);
  });

  it('same seed, same result; bad parameters are refused', () => {
    const params = { seconds: 30, rate: 100 };
    const a = runScenario(connectionDraining, { seed: 9, params, variants: ['short-drain'] });
    const b = runScenario(connectionDraining, { seed: 9, params, variants: ['short-drain'] });
    expect(a.digest).toBe(b.digest);
    expect(() => runScenario(connectionDraining, { seed: 1, params: { drainSeconds: 3601 } })).toThrow(
      /drainSeconds/,
    );
    expect(() => runScenario(connectionDraining, { seed: 1, params: { backends: 1 } })).toThrow(/backends/);
    expect(() =>
      runScenario(connectionDraining, { seed: 1, params: { rate: 100_000, seconds: 100 } }),
    ).toThrow(/rate × seconds/);
  });
});
