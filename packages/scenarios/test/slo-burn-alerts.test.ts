import { describe, expect, it } from 'vitest';
import { predictAlert, sloBurnAlerts } from '../src/catalogue/slo-burn-alerts.js';
import { runScenario } from '../src/scenario.js';

const outcome = (r: ReturnType<typeof runScenario>, variant: string) =>
  r.variants.find((v) => v.name === variant)!.outcome as Record<string, number | null>;

describe('slo-burn-alerts: the Workbook ch. 5 approaches on one month of SLI, across seeds', () => {
  const runs = [1, 2, 3].map((seed) => runScenario(sloBurnAlerts, { seed }));

  it('every check holds: budgets, significance, detection and page reset against the window model, the ordering', () => {
    for (const r of runs) {
      for (const c of r.checks) expect(c.pass, `seed ${r.seed}: ${c.name}: ${c.detail}`).toBe(true);
      // 6 variants × (2 + up to 2 per significant incident) + 7 across variants.
      expect(r.checks.filter((c) => /(window|run) model/.test(c.name)).length).toBeGreaterThanOrEqual(25);
      const perVariant = (c: { name: string }) => r.variants.some((v) => c.name.startsWith(`${v.name}: `));
      expect(r.checks.filter((c) => !perVariant(c)).length).toBe(7);
    }
  });

  it('every variant sees the same series: the same budget figures', () => {
    for (const r of runs) {
      const budgets = r.variants.map((v) => [
        v.outcome.outageBudget,
        v.outcome.slowBudget,
        v.outcome.monthBudget,
      ]);
      for (const b of budgets) expect(b).toEqual(budgets[0]);
      // 10 min of 100% errors: 10 000 / 43 200 of the budget; 3 days at 2x: 20%; 5 h at 10x: 6.9%.
      const o = outcome(r, 'burn-rate');
      expect(o.outageBudget!).toBeCloseTo(10 / 43.2, 1);
      expect(Math.abs(o.slowBudget! - 0.2)).toBeLessThan(0.01);
      expect(Math.abs(o.fastBudget! - 50 / 720)).toBeLessThan(0.005);
      expect(o.blipBudget!).toBeLessThan(0.02);
    }
  });

  it("the Workbook's figures: precision, recall, detection and reset per approach", () => {
    for (const r of runs) {
      const s = outcome(r, 'target-error-rate');
      // Approach 1 alerts on all six blips (plus noise): precision at most 3 / 9.
      expect(s.falseEvents!).toBeGreaterThanOrEqual(6);
      expect(s.precision!).toBeLessThanOrEqual(3 / 9);
      expect(s.recall).toBe(1);
      expect(s.outageDetectMin).toBe(1); // 0.6 s of outage, at the first evaluation
      expect(s.outagePageResetMin).toBe(10);

      const w = outcome(r, 'increased-window');
      // 36 h >= 0.1%: 1.73 minutes of outage (the Workbook's 2 min 10 s), reset 36 h later.
      expect([w.precision, w.recall, w.outageDetectMin]).toEqual([1, 1, 2]);
      expect(w.outagePageResetMin).toBe(36 * 60 - 1);

      const d = outcome(r, 'alert-duration');
      // for: 1 h: misses the 10-minute outage and the flapping 2x burn; the 10x burn after an hour.
      expect([d.outageDetectMin, d.slowDetectMin]).toEqual([null, null]);
      expect(d.fastDetectMin!).toBeGreaterThanOrEqual(58);
      expect(d.recall).toBeCloseTo(1 / 3, 6);

      const b = outcome(r, 'burn-rate');
      // 1 h > 14.4: the outage in 0.86 min; the 10x and 2x burns never; resets an hour after.
      expect([b.precision, b.outageDetectMin, b.fastDetectMin, b.slowDetectMin]).toEqual([1, 1, null, null]);
      expect(b.outagePageResetMin).toBe(60);

      const m = outcome(r, 'multiple-burn-rates');
      const mw = outcome(r, 'multiwindow-multi-burn-rate');
      for (const x of [m, mw]) {
        expect([x.precision, x.recall, x.outageDetectMin]).toEqual([1, 1, 1]);
        // 6 h > 6 on the 10x burn: 3.55 h; 3 d > 1 on the 2x burn: 32 h (noise: ± a few σ).
        expect(Math.abs(x.fastDetectMin! - 213)).toBeLessThan(25);
        expect(Math.abs(x.slowDetectMin! - 1920)).toBeLessThan(150);
        expect(x.slowPageResetMin).toBeNull(); // the slow burn is a ticket, never a page
      }
      // Pages after the outage: the 6 h window holds under 2.09 outage minutes 358 min later; the
      // multiwindow's 30 min short window, 30 min later.
      expect(m.outagePageResetMin).toBe(358);
      expect(mw.outagePageResetMin).toBe(30);
      expect(mw.fastPageResetMin!).toBeLessThan(m.fastPageResetMin! / 5);
    }
  });

  it('the window model: a full outage, a 10x burn, and the flapping of a 2x burn under a `for`', () => {
    const outage = { name: 'outage', start: 0, minutes: 10, errorRate: 1 };
    const burn = predictAlert('burn-rate', 0.999, 1000, 0.0002, outage);
    // h = 60 (0.0144 − 0.0002) / (1 − 0.0002) = 0.852 min; the pages stop when the window holds less.
    expect(burn.fires).toBe('yes');
    expect(burn.detectMin!).toBeCloseTo((60 * 0.0142) / 0.9998, 9);
    expect(burn.pageResetMin!).toBeCloseTo(60 - (60 * 0.0142) / 0.9998, 9);
    const mw = predictAlert('multiwindow-multi-burn-rate', 0.999, 1000, 0.0002, outage);
    expect(mw.pageResetMin!).toBeCloseTo(30 - (30 * 0.0058) / 0.9998, 9); // the 6h/30m page
    const fast = { name: 'fast', start: 0, minutes: 300, errorRate: 0.01 };
    expect(predictAlert('burn-rate', 0.999, 1000, 0.0002, fast).fires).toBe('no');
    const slow = { name: 'slow', start: 0, minutes: 4320, errorRate: 0.002 };
    // One minute of 1000 requests at 0.2%: P(more than 1 bad) = 1 − 3e⁻² = 0.594; 61 in a row, never.
    expect(predictAlert('alert-duration', 0.999, 1000, 0.0002, slow).fires).toBe('no');
    // With 100× the traffic the minute's count no longer flaps: the `for` rule fires after 61 minutes.
    const loud = predictAlert('alert-duration', 0.999, 100_000, 0.0002, slow);
    expect(loud.fires).toBe('yes');
    expect(loud.detectMin!).toBeCloseTo(61, 6);
  });

  it('with 100× the traffic the 2x burn stops flapping and the `for` rule catches it after an hour', () => {
    const r = runScenario(sloBurnAlerts, {
      seed: 4,
      params: { requestsPerMinute: 100_000 },
      variants: ['alert-duration'],
    });
    for (const c of r.checks) expect(c.pass, `${c.name}: ${c.detail}`).toBe(true);
    expect(r.outcome.slowDetectMin).toBe(61);
    expect(r.outcome.outageDetectMin).toBeNull();
  });

  it('a wrong model would be caught: multiple burn rates without short windows do not predict the multiwindow reset', () => {
    const outage = { name: 'outage', start: 0, minutes: 10, errorRate: 1 };
    const wrong = predictAlert('multiple-burn-rates', 0.999, 1000, 0.0002, outage);
    const measured = outcome(runs[0]!, 'multiwindow-multi-burn-rate').outagePageResetMin!;
    expect(Math.abs(measured - wrong.pageResetMin!)).toBeGreaterThan(1 + 4 * wrong.pageResetSd + 300);
  });

  it('a faster burn is caught by the 14.4 rule: the checks follow the model, not fixed figures', () => {
    const r = runScenario(sloBurnAlerts, { seed: 5, params: { fastBurn: 20 }, variants: ['burn-rate'] });
    for (const c of r.checks) expect(c.pass, `${c.name}: ${c.detail}`).toBe(true);
    // 60 (0.0144 − 0.0002) / (0.02 − 0.0002) = 43 min.
    expect(Math.abs((r.outcome.fastDetectMin as number) - 43)).toBeLessThan(6);
    expect(r.outcome.recall).toBeCloseTo(2 / 3, 6);
  });

  it('rejects a burn rate whose error rate would exceed 1, naming the parameter', () => {
    expect(() =>
      runScenario(sloBurnAlerts, {
        seed: 1,
        params: { target: 0.99, fastBurn: 200 },
        variants: ['burn-rate'],
      }),
    ).toThrow(/fastBurn.*at most 100/);
  });

  it('same seed, same result; another seed, another series', () => {
    const a = runScenario(sloBurnAlerts, { seed: 7, variants: ['burn-rate'] });
    const b = runScenario(sloBurnAlerts, { seed: 7, variants: ['burn-rate'] });
    const c = runScenario(sloBurnAlerts, { seed: 8, variants: ['burn-rate'] });
    expect({ ...a, wallMs: 0 }).toEqual({ ...b, wallMs: 0 });
    expect(a.digest).not.toBe(c.digest);
    expect(a.outcome.monthBudget).not.toBe(c.outcome.monthBudget);
  });
});
