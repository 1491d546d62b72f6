import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { lbAlgorithms, roundRobinMeanTime } from '../src/catalogue/lb-algorithms.js';
import { runScenario } from '../src/scenario.js';

describe('round robin theory (E_n/M/1, a GI/M/1 queue)', () => {
  it('n = 1 is M/M/1; large n tends to D/M/1', () => {
    expect(roundRobinMeanTime(0.9, 1)).toBeCloseTo(10, 8);
    expect(roundRobinMeanTime(0.5, 1)).toBeCloseTo(2, 8);
    // D/M/1: sigma = exp(-(1 - sigma) / lambda), solved here independently by bisection.
    const dm1 = (lambda: number): number => {
      let lo = 0;
      let hi = 1 - 1e-12;
      for (let i = 0; i < 200; i++) {
        const mid = (lo + hi) / 2;
        if (Math.exp(-(1 - mid) / lambda) > mid) lo = mid;
        else hi = mid;
      }
      return 1 / (1 - lo);
    };
    expect(roundRobinMeanTime(0.9, 10_000)).toBeCloseTo(dm1(0.9), 2);
    // Between D/M/1 and M/M/1, decreasing in n: 5.275 service times at n = 50, lambda 0.9.
    expect(roundRobinMeanTime(0.9, 50)).toBeCloseTo(5.275, 3);
    expect(roundRobinMeanTime(0.9, 50)).toBeGreaterThan(dm1(0.9));
    expect(roundRobinMeanTime(0.9, 10)).toBeGreaterThan(roundRobinMeanTime(0.9, 50));
  });
});

describe('lb-algorithms scenario', () => {
  it('seed 1, N = 50, lambda 0.9: theory, ordering and slow-server checks pass', () => {
    const r = runScenario(lbAlgorithms, { seed: 1, params: { customers: 30_000 } });
    expect(r).toPassChecks();
    const o = (name: string) => r.variants.find((v) => v.name === name)!.outcome;
    // Round robin gives the slow half exactly half the requests; power of two sends them less than half
    // (their capacity share is a third).
    expect(o('hetero-round-robin').slowShare).toBeCloseTo(0.5, 3);
    expect(o('hetero-power-of-two').slowShare as number).toBeLessThan(0.45);
    expect(o('hetero-round-robin').slowLoadAtEqualShare).toBeCloseTo(1.35, 6);
    // Round robin beats random on identical servers (Erlang-50 gaps are nearly regular).
    expect(o('round-robin').meanTimeInSystem as number).toBeLessThan(o('random').meanTimeInSystem as number);
    for (const v of r.variants) expect(v.metrics.failed, v.name).toBe(0);
  }, 20_000);

  it('power of two stays within its finite-n band at lambda 0.8 on another seed', () => {
    const r = runScenario(lbAlgorithms, {
      seed: 2,
      params: { customers: 40_000, lambda: 0.8 },
      variants: ['random', 'power-of-two'],
    });
    expect(r).toPassChecks();
    const p2c = r.variants.find((v) => v.name === 'power-of-two')!.outcome;
    // T_2(0.8) = 1.9474 service times.
    expect(Math.abs(p2c.relativeError as number)).toBeLessThan(0.06);
  });

  it('n = 20 is checked against the fixed point with a wider finite-n allowance (+12.5%)', () => {
    // Finite n runs above T_d, more so for small n; serviceMs only scales the figures.
    const r = runScenario(lbAlgorithms, {
      seed: 3,
      params: { servers: 20, customers: 20_000, serviceMs: 1 },
      variants: ['power-of-two'],
    });
    const check = r.checks.find((c) => c.name.includes('supermarket'))!;
    expect(check.pass, check.detail).toBe(true);
    expect(check.detail).toMatch(/allowance \+12\.5%/);
    expect(r.outcome.relativeError as number).toBeGreaterThan(0);
    expect(r.outcome.theoryMeanTimeInSystem).toBeCloseTo(2.6141, 3);
  });

  it('same seed, same result; bad parameters are refused', () => {
    const a = runScenario(lbAlgorithms, { seed: 7, params: { servers: 8, customers: 2000 } });
    const b = runScenario(lbAlgorithms, { seed: 7, params: { servers: 8, customers: 2000 } });
    expect(a.digest).toBe(b.digest);
    expect(() => runScenario(lbAlgorithms, { seed: 1, params: { lambda: 1 } })).toThrow(/lambda/);
    expect(() => runScenario(lbAlgorithms, { seed: 1, params: { customers: 2_000_000 } })).toThrow(
      /customers/,
    );
    expect(() => runScenario(lbAlgorithms, { seed: 1, params: { slowFactor: 0.5 } })).toThrow(/slowFactor/);
  });
});
