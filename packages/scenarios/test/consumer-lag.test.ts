import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { consumerLag, lagFluidModel } from '../src/catalogue/consumer-lag.js';
import { runScenario } from '../src/scenario.js';

const outcome = (r: ReturnType<typeof runScenario>, name: string) =>
  r.variants.find((v) => v.name === name)!.outcome;

describe('lagFluidModel', () => {
  it('drains at min(C, P) × μ − λ; consumers beyond P add nothing', () => {
    const base = { lambda: 300, mu: 200, partitions: 6 };
    expect(lagFluidModel({ ...base, consumers: 3 }).catchUpS(6000)).toBeCloseTo(20, 9);
    expect(lagFluidModel({ ...base, consumers: 6 }).drainPerS).toBe(900);
    expect(lagFluidModel({ ...base, consumers: 8 })).toMatchObject({ effective: 6, drainPerS: 900 });
    const few = lagFluidModel({ ...base, consumers: 1 });
    expect(few.drainPerS).toBe(-100);
    expect(few.catchUpS(1000)).toBeNull();
  });
});

describe('consumer-lag scenario', () => {
  it('matches the fluid model: the catch-up time, the growth with too few consumers, idle extras', () => {
    const r = runScenario(consumerLag, { seed: 1 });
    expect(r).toPassChecks();
    expect(outcome(r, 'enough').catchUpS as number).toBeCloseTo(18.2, 0);
    expect(outcome(r, 'too-few').catchUpS).toBeNull();
    expect(Math.abs((outcome(r, 'too-few').slopePerS as number) - 100)).toBeLessThan(10);
    expect(outcome(r, 'more-than-p')).toMatchObject({ idleConsumers: 2, effectiveConsumers: 6 });
    expect(outcome(r, 'more-than-p').catchUpS).toBe(outcome(r, 'c-equals-p').catchUpS);
  }, 60_000);

  it('with auto-commit every 5 s the lag trails further, and the tolerance says so', () => {
    const r = runScenario(consumerLag, { seed: 2, params: { autoCommitMs: 5000 }, variants: ['enough'] });
    expect(r).toPassChecks();
    expect(r.outcome.lagBeforeBurst as number).toBeGreaterThan(100);
  }, 60_000);

  it('names a bad parameter', () => {
    expect(() => runScenario(consumerLag, { seed: 1, params: { lamda: 3 } as never })).toThrow(
      /lamda.*lambda/,
    );
    expect(() => runScenario(consumerLag, { seed: 1, params: { partitions: 0 } })).toThrow(/partitions/);
  });
});
