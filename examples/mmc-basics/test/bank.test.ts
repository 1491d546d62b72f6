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
    const a = runScenario(bank, { seed: 11, variants: ['two-tellers'] });
    const b = runScenario(bank, { seed: 11, variants: ['two-tellers'] });
    // Byte for byte, series included (400 simulated hours of per-second metrics for the named tellers).
    expect(JSON.stringify({ ...b, wallMs: 0 })).toBe(JSON.stringify({ ...a, wallMs: 0 }));
    expect(a.series?.points).toBeGreaterThan(1_000_000);
  });
});
