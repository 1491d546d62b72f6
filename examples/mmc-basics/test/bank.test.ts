import { runScenario } from '@dsim/scenarios';
import { describe, expect, it } from 'vitest';
import bank from '../bank.scenario.js';

describe('example: bank', () => {
  it('compares two and three tellers, each near Erlang C', () => {
    const result = runScenario(bank, { seed: 3 });
    expect(result.variants.map((v) => v.name)).toEqual(['two-tellers', 'three-tellers']);
    for (const v of result.variants) {
      const measured = v.outcome.meanWaitMin as number;
      const theory = v.outcome.theoryWaitMin as number;
      expect(Math.abs(measured - theory) / theory).toBeLessThan(0.25);
    }
    const [two, three] = result.variants;
    expect(two!.outcome.meanWaitMin as number).toBeGreaterThan(three!.outcome.meanWaitMin as number);
    expect(result.checks.every((c) => c.pass)).toBe(true);
  });

  it('is reproducible', () => {
    // 400 simulated hours: per-minute metrics for the named tellers (per-second would be 1.44 M points).
    const options = { seed: 11, variants: ['two-tellers'], metricsInterval: '1m' } as const;
    const a = runScenario(bank, options);
    const b = runScenario(bank, options);
    // Byte for byte, series included.
    expect(JSON.stringify({ ...b, wallMs: 0 })).toBe(JSON.stringify({ ...a, wallMs: 0 }));
    expect(a.series?.points).toBe(Math.ceil(a.simulatedMs / 60_000));
  });
});
