import { describe, expect, it } from 'vitest';
import { erlangB, erlangC, mmc, queueTheory, runScenario } from '../src/index.js';

describe('queueing theory helpers', () => {
  it('match standard M/M/c (Erlang C) values', () => {
    // [c, lambda, Wq, P(wait)] with mu = 1
    const table: Array<[number, number, number, number]> = [
      [2, 1.5, 1.2857, 0.6429],
      [5, 4, 0.5541, 0.5541],
      [10, 8, 0.2046, 0.4092],
      [10, 9.5, 1.6512, 0.8256],
      [100, 95, 0.1013, 0.5065],
    ];
    for (const [c, lambda, wq, pw] of table) {
      const t = queueTheory(lambda, 1, c, 'exp')!;
      expect(t.meanWait).toBeCloseTo(wq, 3);
      expect(t.probWait!).toBeCloseTo(pw, 3);
    }
    expect(queueTheory(0.9, 1, 1, 'exp')!.meanTimeInSystem).toBeCloseTo(10, 10);
    expect(queueTheory(0.8, 1, 1, 'const')!.meanWait).toBeCloseTo(2, 10); // M/D/1: half of M/M/1's 4
    expect(queueTheory(1, 1, 1, 'exp')).toBeNull();
    expect(erlangB(10, 8)).toBeCloseTo(0.1217, 4);
    expect(erlangC(1, 0.5)).toBeCloseTo(0.5, 12); // M/M/1: P(wait) = rho
  });
});

const CASES = [
  { label: 'M/M/1 rho=0.5', params: { lambda: 0.5, mu: 1, servers: 1, service: 'exp' } },
  { label: 'M/M/2 lambda=1.5', params: { lambda: 1.5, mu: 1, servers: 2, service: 'exp' } },
  { label: 'M/M/5 lambda=4', params: { lambda: 4, mu: 1, servers: 5, service: 'exp' } },
  { label: 'M/M/10 lambda=8', params: { lambda: 8, mu: 1, servers: 10, service: 'exp' } },
  { label: 'M/D/1 rho=0.5', params: { lambda: 0.5, mu: 1, servers: 1, service: 'const' } },
  { label: 'M/D/1 rho=0.8', params: { lambda: 0.8, mu: 1, servers: 1, service: 'const' } },
] as const;

describe('mmc scenario against queueing theory', () => {
  for (const { label, params } of CASES) {
    it(`${label}: measured waits match theory across seeds`, () => {
      for (const seed of [1, 2, 3]) {
        const r = runScenario(mmc, { seed, params: { ...params, customers: 60_000 } });
        const o = r.outcome as Record<string, number>;
        // Every check (stability, Little's law, mean wait and P(wait) within 4 batch-means standard errors) holds.
        for (const c of r.checks) expect(c.pass, `${label} seed ${seed}: ${c.name}: ${c.detail}`).toBe(true);
        expect(
          Math.abs(o.meanTimeInSystem! - o.theoryMeanTimeInSystem!) / o.theoryMeanTimeInSystem!,
        ).toBeLessThan(0.05);
        expect(Math.abs(o.utilization! - o.theoryUtilization!)).toBeLessThan(0.02);
        expect(o.littleResidual!).toBeLessThan(1e-9); // sample-path Little's law is an identity when the system empties
        expect(r.metrics.requests).toBe(60_000);
        expect(r.metrics.ok).toBe(60_000);
      }
    });
  }

  it('deterministic service halves the M/M/1 wait (Kingman / P-K)', () => {
    const exp = runScenario(mmc, { seed: 5, params: { lambda: 0.8, mu: 1, servers: 1, customers: 100_000 } });
    const det = runScenario(mmc, {
      seed: 5,
      params: { lambda: 0.8, mu: 1, servers: 1, customers: 100_000, service: 'const' },
    });
    const ratio = (det.outcome.meanWait as number) / (exp.outcome.meanWait as number);
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(0.6);
  });

  it('a wrong theory would be caught: the mean-wait check fails against a deliberately wrong rate', () => {
    // Same arrivals, service twice as fast as the theory is told: the check must fail, so it can fail.
    const r = runScenario(mmc, { seed: 1, params: { lambda: 0.5, mu: 1, servers: 1, customers: 20_000 } });
    const wrongTheory = queueTheory(0.5 / 1000, 2 / 1000, 1, 'exp')!.meanWait;
    const se = r.outcome.meanWaitStdErr as number;
    expect(Math.abs((r.outcome.meanWait as number) - wrongTheory)).toBeGreaterThan(4 * se);
  });

  it('reports an unstable queue as a failed check, with null theory', () => {
    const r = runScenario(mmc, { seed: 1, params: { lambda: 1.2, mu: 1, servers: 1, customers: 2000 } });
    expect(r.checks.find((c) => c.name.startsWith('stable'))?.pass).toBe(false);
    expect(r.outcome.theoryMeanWait).toBeNull();
  });

  it('same seed gives the same result (wallMs aside); different seeds differ', () => {
    const a = runScenario(mmc, { seed: 42, params: { customers: 5000 } });
    const b = runScenario(mmc, { seed: 42, params: { customers: 5000 } });
    const c = runScenario(mmc, { seed: 43, params: { customers: 5000 } });
    expect(JSON.stringify({ ...a, wallMs: 0 })).toBe(JSON.stringify({ ...b, wallMs: 0 }));
    expect(a.digest).not.toBe(c.digest);
    expect(a.outcome.meanWait).not.toBe(c.outcome.meanWait);
    expect(a.seed).toBe('42');
    expect(a.reproduce).toBe('dsim run mmc --seed 42 --set customers=5000');
  });

  it('pins a golden digest for seed 1 (a change here means runs are no longer reproducible)', () => {
    const r = runScenario(mmc, { seed: 1, params: { customers: 2000 } });
    expect({ digest: r.digest, events: r.events, meanWait: r.outcome.meanWait }).toMatchInlineSnapshot(`
      {
        "digest": "417523d95fa1e92d",
        "events": 10002,
        "meanWait": 514.460008,
      }
    `);
  });
});
