import {
  availabilityFromMttf,
  kOfNAvailability,
  parallelAvailability,
  serialAvailability,
  zonalAvailability,
} from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { availabilityMath } from '../src/catalogue/availability-math.js';
import { runScenario } from '../src/scenario.js';

type Figures = Record<string, number | string | boolean | null>;
const outcome = (r: ReturnType<typeof runScenario>, variant: string): Figures =>
  r.variants.find((v) => v.name === variant)!.outcome;
const n = (o: Figures, key: string): number => o[key] as number;

describe('availability-math: simulated designs against the availability formulas, across seeds', () => {
  const runs = [1, 2, 3].map((seed) => runScenario(availabilityMath, { seed }));
  const a = 0.99; // 99 h up, 1 h repair
  const z = 0.999; // 999 h up, 1 h repair

  it('every check holds: each design within 4 batch-means SE of its formula, the independent formula rejected where zones correlate', () => {
    for (const r of runs) {
      for (const c of r.checks) expect(c.pass, `seed ${r.seed}: ${c.name}: ${c.detail}`).toBe(true);
      expect(r.checks.filter((c) => c.name.includes('is rejected')).length).toBe(2);
      expect(r.checks.filter((c) => c.name.includes('holds too')).length).toBe(2);
    }
  });

  it('the formula of each variant is the one from @dsim/core', () => {
    const o = (v: string) => n(outcome(runs[0]!, v), 'theory');
    expect(o('single')).toBeCloseTo(availabilityFromMttf('99h', '1h'), 8);
    expect(o('single')).toBeCloseTo(a, 8);
    expect(o('serial-3')).toBeCloseTo(serialAvailability([a, a, a]), 8);
    expect(o('parallel-2')).toBeCloseTo(parallelAvailability([a, a]), 8);
    expect(o('quorum-2-of-3')).toBeCloseTo(kOfNAvailability(2, 3, a), 8);
    expect(o('parallel-one-zone')).toBeCloseTo(0.9989001, 9);
    expect(o('parallel-two-zones')).toBeCloseTo(
      zonalAvailability({ zones: 2, replicasPerZone: 1, replica: a, zone: z }),
      8,
    );
    expect(n(outcome(runs[0]!, 'parallel-one-zone'), 'independent')).toBeCloseTo(1 - (1 - a * z) ** 2, 8);
  });

  it('measured figures: every variant within 4 SE of its formula; the zone gap over 10 SE', () => {
    for (const r of runs) {
      for (const v of r.variants)
        expect(Math.abs(n(v.outcome, 'zScore')), `${r.seed} ${v.name}`).toBeLessThan(4);
      const one = outcome(r, 'parallel-one-zone');
      const gap = (n(one, 'independent') - n(one, 'measured')) / n(one, 'standardError');
      // Two 99% replicas sharing a 99.9% zone: the zone is down 0.1% of the time, ten times the 0.01%
      // the replicas alone would be; the independent formula misses it by about 1e-3.
      expect(gap).toBeGreaterThan(10);
      expect(n(one, 'measured')).toBeLessThan(z);
      expect(Math.abs(n(one, 'downMinPer30d') - 47.5)).toBeLessThan(10);
      // Each replica: 1% down, 7.2 hours a month.
      expect(Math.abs(n(outcome(r, 'single'), 'downMinPer30d') - 432)).toBeLessThan(30);
    }
  });

  it('a wrong formula would be caught: a quorum is not "any one of three", a 2-hour repair is not 1', () => {
    const q = outcome(runs[0]!, 'quorum-2-of-3');
    const wrongQuorum = parallelAvailability([a, a, a]); // 1 - 1e-6
    expect(Math.abs(n(q, 'measured') - wrongQuorum)).toBeGreaterThan(4 * n(q, 'standardError'));
    const s = outcome(runs[0]!, 'single');
    expect(Math.abs(n(s, 'measured') - availabilityFromMttf('99h', '2h'))).toBeGreaterThan(
      4 * n(s, 'standardError'),
    );
  });

  it('MTTR is the lever: 5-hour repairs give 99/104', () => {
    const r = runScenario(availabilityMath, {
      seed: 4,
      params: { mttrHours: 5, hours: 200_000 },
      variants: ['single', 'parallel-2'],
    });
    for (const c of r.checks) expect(c.pass, `${c.name}: ${c.detail}`).toBe(true);
    expect(n(outcome(r, 'single'), 'theory')).toBeCloseTo(99 / 104, 8);
    expect(n(outcome(r, 'parallel-2'), 'theory')).toBeCloseTo(1 - (5 / 104) ** 2, 8);
  });

  it('rejects a quorum larger than the replicas and a run with too many state changes', () => {
    expect(() =>
      runScenario(availabilityMath, { seed: 1, params: { need: 4 }, variants: ['quorum-2-of-3'] }),
    ).toThrow(/need must be at most the replicas \(3\), got 4/);
    expect(() =>
      runScenario(availabilityMath, { seed: 1, params: { hours: 1e9 }, variants: ['single'] }),
    ).toThrow(/state changes/);
  });

  it('same seed, same result; another seed differs', () => {
    const small = { hours: 20_000 };
    const x = runScenario(availabilityMath, { seed: 9, params: small, variants: ['parallel-one-zone'] });
    const y = runScenario(availabilityMath, { seed: 9, params: small, variants: ['parallel-one-zone'] });
    const w = runScenario(availabilityMath, { seed: 10, params: small, variants: ['parallel-one-zone'] });
    expect({ ...x, wallMs: 0 }).toEqual({ ...y, wallMs: 0 });
    expect(x.digest).not.toBe(w.digest);
  });
});
