import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { connectionShares, l4VsL7 } from '../src/catalogue/l4-vs-l7.js';
import { roundRobinMeanTime } from '../src/catalogue/lb-algorithms.js';
import { runScenario } from '../src/scenario.js';

const outcome = (r: ReturnType<typeof runScenario>, name: string) =>
  r.variants.find((v) => v.name === name)!.outcome;

describe('connectionShares', () => {
  it('A-T8: 4 connections round robin over 3 backends are 50% / 25% / 25%', () => {
    expect(connectionShares([0, 1, 2, 0], 3)).toEqual([0.5, 0.25, 0.25]);
    expect(connectionShares([0, 1, 2], 3)).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });
});

describe('l4-vs-l7 scenario', () => {
  it('A-T8 with Poisson clients: L4 50% / 25% / 25% within tolerance, L7 33.3% each; L4 p99 worse at high load', () => {
    const r = runScenario(l4VsL7, { seed: 1 });
    expect(r).toPassChecks();
    const l4 = outcome(r, 'l4');
    const l7 = outcome(r, 'l7');
    expect(l4.expectedShares).toBe('50.0% / 25.0% / 25.0%');
    expect(l4.maxShare as number).toBeCloseTo(0.5, 2);
    expect(l4.minShare as number).toBeCloseTo(0.25, 2);
    expect(l7.maxShare as number).toBeCloseTo(1 / 3, 4);
    expect(l7.minShare as number).toBeCloseTo(1 / 3, 4);
    // Utilisation follows the shares: 0.9 / 0.45 / 0.45 against 0.6 each at load 0.6.
    expect(l4.utilMax as number).toBeGreaterThan(0.85);
    expect(l4.utilMin as number).toBeLessThan(0.5);
    expect(l7.utilSpread as number).toBeLessThan(0.03);
    expect(l4.p99Ms as number).toBeGreaterThan(2 * (l7.p99Ms as number));
    expect(r.checks.map((c) => c.name)).toContain(
      'L4 p99 worse than L7 when the busiest L4 backend runs at 0.75 or more',
    );
    // L7 round robin over a Poisson stream is E3/M/1: mean 18.13 ms, p99 83.5 ms at load 0.6.
    expect(l7.theoryMeanMs as number).toBeCloseTo(roundRobinMeanTime(0.6, 3) * 10, 6);
    expect(Math.abs((l7.meanMs as number) / (l7.theoryMeanMs as number) - 1)).toBeLessThan(0.05);
    expect(l4.theoryMeanMs).toBeNull();
  }, 15_000);

  it('evenly spaced clients give the exact shares, to one request', () => {
    const r = runScenario(l4VsL7, { seed: 3, params: { arrivals: 'periodic', seconds: 60 } });
    expect(r).toPassChecks();
    const l4 = outcome(r, 'l4');
    const n = l4.requests as number;
    expect(Math.abs((l4.maxShare as number) - 0.5)).toBeLessThanOrEqual(2 / n);
    expect(Math.abs((l4.minShare as number) - 0.25)).toBeLessThanOrEqual(2 / n);
    expect(Math.abs((outcome(r, 'l7').maxShare as number) - 1 / 3)).toBeLessThanOrEqual(1 / n);
  });

  it('connection-level least connections opens the same 4 connections the same way: still 50/25/25', () => {
    const r = runScenario(l4VsL7, {
      seed: 2,
      params: { l4Policy: 'least-connections', seconds: 60 },
      variants: ['l4'],
    });
    expect(r).toPassChecks();
    expect(r.outcome.expectedShares).toBe('50.0% / 25.0% / 25.0%');
  });

  it('hash policies: the shares follow whatever connections the hash pinned', () => {
    for (const l4Policy of ['five-tuple-hash', 'maglev'] as const) {
      const r = runScenario(l4VsL7, {
        seed: 4,
        params: { l4Policy, clients: 4, connections: 3, seconds: 30 },
        variants: ['l4'],
      });
      expect(r, l4Policy).toPassChecks();
    }
  });

  it('connections a multiple of the backends: L4 is balanced too, and no imbalance is claimed', () => {
    const r = runScenario(l4VsL7, { seed: 5, params: { clients: 1, connections: 3, seconds: 60 } });
    expect(r).toPassChecks();
    expect(outcome(r, 'l4').expectedShares).toBe('33.3% / 33.3% / 33.3%');
    expect(r.checks.some((c) => c.name.startsWith('L4 spreads'))).toBe(false);
  });

  it('at low load the p99 comparison is not checked', () => {
    const r = runScenario(l4VsL7, { seed: 6, params: { load: 0.3, seconds: 60 } });
    expect(r).toPassChecks();
    expect(r.checks.some((c) => c.name.startsWith('L4 p99'))).toBe(false);
    expect(r.checks.some((c) => c.name.startsWith('L4 spreads'))).toBe(true);
  });

  it('same seed, same result; bad parameters are refused', () => {
    const params = { seconds: 20 };
    const a = runScenario(l4VsL7, { seed: 7, params });
    const b = runScenario(l4VsL7, { seed: 7, params });
    expect(a.digest).toBe(b.digest);
    expect(runScenario(l4VsL7, { seed: 8, params }).digest).not.toBe(a.digest);
    expect(() => runScenario(l4VsL7, { seed: 1, params: { load: 1 } })).toThrow(/load/);
    expect(() => runScenario(l4VsL7, { seed: 1, params: { l4Policy: 'magelv' as never } })).toThrow(
      /l4Policy/,
    );
    expect(() => runScenario(l4VsL7, { seed: 1, params: { seconds: 86_400 } })).toThrow(/seconds/);
  });
});
