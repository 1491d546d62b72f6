import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { deliveryGuarantees } from '../src/catalogue/delivery-guarantees.js';
import { runScenario } from '../src/scenario.js';

const outcome = (r: ReturnType<typeof runScenario>, name: string) =>
  r.variants.find((v) => v.name === name)!.outcome;

describe('delivery-guarantees scenario', () => {
  it('at-most-once loses, at-least-once duplicates, exactly-once effects do neither', () => {
    const r = runScenario(deliveryGuarantees, { seed: 1 });
    expect(r).toPassChecks();
    expect(outcome(r, 'at-most-once').duplicated).toBe(0);
    expect(outcome(r, 'at-least-once').lost).toBe(0);
    expect(outcome(r, 'exactly-once-effect')).toMatchObject({ lost: 0, duplicated: 0 });
  }, 30_000);

  it('seed 2 passes the same checks', () => {
    const r = runScenario(deliveryGuarantees, { seed: 2 });
    expect(r).toPassChecks();
  }, 30_000);

  it('a dedup window smaller than the redelivered span lets duplicates through', () => {
    const r = runScenario(deliveryGuarantees, {
      seed: 1,
      params: { dedupWindow: 5 },
      variants: ['exactly-once-effect'],
    });
    expect(r.outcome.duplicated as number).toBeGreaterThan(0);
    expect(r.outcome.lost).toBe(0);
  }, 30_000);

  it('names a bad parameter', () => {
    expect(() => runScenario(deliveryGuarantees, { seed: 1, params: { semantic: 'x' } as never })).toThrow(
      /semantic/,
    );
  });
});
