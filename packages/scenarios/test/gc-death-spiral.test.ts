import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import {
  criticalSpikeMs,
  effectiveCapacity,
  gcDeathSpiral,
  gcTippingPoint,
} from '../src/catalogue/gc-death-spiral.js';
import { runScenario } from '../src/scenario.js';

const MODEL = { lambda: 280, workers: 16, serviceMs: 40, threshold: 80, perUnit: 0.005, maxSlowdown: 20 };

describe('gc-death-spiral scenario (capacity-degradation metastability)', () => {
  it('n* solves mu / slowdown(n*) = lambda', () => {
    const { mu, nStar } = gcTippingPoint(MODEL);
    expect(mu).toBe(400);
    expect(nStar).toBeCloseTo(80 + (400 / 280 - 1) / 0.005, 9);
    expect(effectiveCapacity(MODEL, nStar!)).toBeCloseTo(280, 9);
    // No spiral when even the capped slowdown keeps up; overloaded outright when lambda >= mu.
    expect(gcTippingPoint({ ...MODEL, maxSlowdown: 1.2 }).nStar).toBeNull();
    expect(gcTippingPoint({ ...MODEL, lambda: 400 }).nStar).toBe(0);
    // A spike the server outruns below n* never tips it (fluid model).
    expect(criticalSpikeMs(MODEL, 0)).toBeNull();
    expect(criticalSpikeMs(MODEL, 280)).toBeGreaterThan(700);
    expect(criticalSpikeMs(MODEL, 280)).toBeLessThan(900);
  });

  it.each([1, 2])('seed %i: no protection spirals; bounded queue, CoDel and lower load recover', (seed) => {
    const r = runScenario(gcDeathSpiral, { seed, params: { seconds: 30 } });
    expect(r).toPassChecks();
    const by = (name: string) => r.variants.find((v) => v.name === name)!.outcome;
    const none = by('no-protection');
    expect(none.recovered).toBe(false);
    expect(none.goodputBefore as number).toBeGreaterThan(250);
    expect(none.goodputAfter as number).toBeLessThan(28); // under 10% of lambda
    // Past n* the backlog only grows: it ends far beyond where it was when the spike stopped.
    expect(none.inFlightAtTriggerEnd as number).toBeGreaterThan(none.nStar as number);
    expect(none.inFlightAtEnd as number).toBeGreaterThan(5 * (none.inFlightAtTriggerEnd as number));
    const bounded = by('bounded-queue');
    expect(bounded.maxInFlight as number).toBeLessThanOrEqual(16 + 100);
    expect(bounded.recovered).toBe(true);
    expect(by('codel').recovered).toBe(true);
    expect(by('lower-load').recovered).toBe(true);
    expect(by('lower-load').nStar as number).toBeCloseTo(380, 6);
  });

  it('is bistable at n*: a pause that queues 0.5 n* drains, one that queues 1.5 n* spirals', () => {
    const nStar = gcTippingPoint(MODEL).nStar!;
    const pauseFor = (backlog: number): number => Math.round((backlog / MODEL.lambda) * 1000);
    for (const seed of [1, 2, 3]) {
      const run = (pauseMs: number) =>
        runScenario(gcDeathSpiral, {
          seed,
          params: { pauseMs, spikeMs: 0, seconds: 25 },
          variants: ['no-protection'],
        });
      const below = run(pauseFor(0.5 * nStar));
      const above = run(pauseFor(1.5 * nStar));
      expect(below).toPassChecks();
      expect(above).toPassChecks();
      expect(below.outcome.recovered, `seed ${seed}`).toBe(true);
      expect(above.outcome.recovered, `seed ${seed}`).toBe(false);
      expect(above.outcome.inFlightAtEnd as number).toBeGreaterThan(2 * nStar);
    }
  });

  it('negative control: a spike well under the fluid critical length leaves no damage', () => {
    const critical = criticalSpikeMs(MODEL, 280)!;
    for (const seed of [1, 2]) {
      const r = runScenario(gcDeathSpiral, {
        seed,
        params: { spikeMs: Math.round(0.5 * critical), seconds: 25 },
        variants: ['no-protection'],
      });
      expect(r).toPassChecks();
      expect(r.outcome.recovered, `seed ${seed}`).toBe(true);
      expect(r.outcome.maxInFlight as number).toBeLessThan(gcTippingPoint(MODEL).nStar!);
    }
  });

  it('is deterministic: same seed, same digest and outcome', () => {
    const a = runScenario(gcDeathSpiral, { seed: 7, params: { seconds: 20 }, variants: ['no-protection'] });
    const b = runScenario(gcDeathSpiral, { seed: 7, params: { seconds: 20 }, variants: ['no-protection'] });
    expect(a.digest).toBe(b.digest);
    expect(a.outcome).toEqual(b.outcome);
  });
});
