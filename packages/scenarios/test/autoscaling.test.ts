import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { autoscaling, steadyReplicas } from '../src/catalogue/autoscaling.js';
import { runScenario } from '../src/scenario.js';

// Defaults: 4 workers × 250 ms = 16 req/s per replica; a 60% target is 9.6 req/s; the peak of 45 req/s
// needs ceil(4.69) = 5 replicas (at 4 the ratio is 1.17, at 6 it is 0.78: both outside the tolerance).
const PEAK_REPLICAS = 5;

describe('autoscaling scenario', () => {
  it('seed 1, every variant: checks pass and the figures follow the theory', () => {
    const r = runScenario(autoscaling, { seed: 1 });
    expect(r).toPassChecks();
    const o = (name: string) => r.variants.find((v) => v.name === name)!.outcome;
    const hpa = o('hpa-default');
    expect(hpa.expectedPeakReplicas).toBe(PEAK_REPLICAS);
    expect(hpa.holdReplicas).toBe(PEAK_REPLICAS);
    // Each scale-up step: 30 s start-up, then one 15 s window before the new replicas count.
    expect(hpa.meanScaleUpStepS as number).toBeGreaterThanOrEqual(30);
    expect(hpa.meanScaleUpStepS as number).toBeLessThanOrEqual(60);
    // Reacting lags the ramp: several times the SLO misses of the lead (exponential service times alone
    // miss a 1 s SLO e^-4 = 1.8% of the time); once scaled, back near that floor.
    expect(hpa['violationRate.ramp'] as number).toBeGreaterThan(3 * (hpa['violationRate.lead'] as number));
    expect(hpa['violationRate.hold'] as number).toBeLessThan(0.05);
    // The 300 s window keeps the peak's replicas through the spikes: no scale event, no SLO loss.
    expect(hpa.spikesCovered).toBe(3);
    expect(hpa.spikeScaleEvents).toBe(0);
    expect(hpa['violationRate.spikes'] as number).toBeLessThan(0.1);

    const flat = o('no-stabilization');
    // Down after the hold, then up and down around each spike.
    expect(flat.spikeScaleEvents as number).toBeGreaterThanOrEqual(6);
    expect(flat.spikesCovered).toBe(0);
    // Time to scale at a burst: the first window wholly inside it (15 s), then the 30 s start-up.
    expect(flat.spikeReactionS).toBe(45);
    expect(flat['violationRate.spikes'] as number).toBeGreaterThan(0.3);
    expect(flat.replicaSeconds as number).toBeLessThan(hpa.replicaSeconds as number);
    expect(Math.abs((flat.holdReplicas as number) - PEAK_REPLICAS)).toBeLessThanOrEqual(1);

    const step = o('step');
    // Between its alarms: utilisation in [40%, 70%] -> 5 to 7 replicas.
    expect(step.holdReplicas as number).toBeGreaterThanOrEqual(5);
    expect(step.holdReplicas as number).toBeLessThanOrEqual(7);
    // One-minute alarms react later than a 15 s sync: more misses in the ramp.
    expect(step['violationRate.ramp'] as number).toBeGreaterThan(hpa['violationRate.ramp'] as number);

    const scheduled = o('scheduled');
    expect(scheduled.scaleEvents).toBe(2);
    expect(scheduled.holdReplicas).toBe(PEAK_REPLICAS);
    expect(scheduled.violationRate as number).toBeLessThan(0.05);
    expect(scheduled['violationRate.ramp'] as number).toBeLessThan(0.05);

    const zero = o('scale-to-zero');
    expect(zero.coldStarts).toBe(1);
    expect(zero.coldStartMs).toBe(30_000);
    expect(zero.finalReplicas).toBe(0);
    // Requests of the cold start wait for the replica: all but those of its last 2 s pass their timeout.
    expect(zero.heldExpired as number).toBeGreaterThan(4 * (zero.heldForwarded as number));
    // Then one replica faces the ramp and scales one step at a time: far more misses than from 2.
    expect(zero['violationRate.ramp'] as number).toBeGreaterThan(3 * (hpa['violationRate.ramp'] as number));
    expect(zero['replicaSeconds.lead']).toBe(0);
    expect(hpa['replicaSeconds.lead']).toBe(120); // 2 replicas for 60 s
  });

  it('seed 2, the HPA variants: the same steady state, flapping and cold start', () => {
    const r = runScenario(autoscaling, {
      seed: 2,
      variants: ['hpa-default', 'no-stabilization', 'scale-to-zero'],
    });
    expect(r).toPassChecks();
    const o = (name: string) => r.variants.find((v) => v.name === name)!.outcome;
    expect(o('hpa-default').holdReplicas).toBe(PEAK_REPLICAS);
    expect(o('no-stabilization').scaleEvents as number).toBeGreaterThan(
      o('hpa-default').scaleEvents as number,
    );
    expect(o('scale-to-zero').coldStartMs).toBe(30_000);
  });

  it('the steady-state formula: ceil(rate / (capacity × target)) within the bounds', () => {
    expect(steadyReplicas(45, 16, 60, 2, 20)).toBe(5);
    expect(steadyReplicas(8, 16, 60, 2, 20)).toBe(2);
    expect(steadyReplicas(48, 16, 60, 1, 20)).toBe(5); // exactly 5: no extra replica from rounding
    expect(steadyReplicas(400, 16, 60, 1, 20)).toBe(20);
    expect(steadyReplicas(0, 16, 60, 0, 20)).toBe(0);
  });

  it('same seed, same result; bad parameters are refused', () => {
    const params = {
      leadSeconds: 15,
      rampSeconds: 30,
      holdSeconds: 30,
      spikes: 1,
      spikeEverySeconds: 30,
      spikeSeconds: 10,
      tailSeconds: 15,
    };
    const a = runScenario(autoscaling, { seed: 9, params, variants: ['hpa-default'] });
    const b = runScenario(autoscaling, { seed: 9, params, variants: ['hpa-default'] });
    expect(a.digest).toBe(b.digest);
    expect(a.outcome).toEqual(b.outcome);
    expect(() => runScenario(autoscaling, { seed: 1, params: { baseRps: 50, peakRps: 40 } })).toThrow(
      /peakRps/,
    );
    expect(() => runScenario(autoscaling, { seed: 1, params: { spikeSeconds: 100 } })).toThrow(
      /spikeEverySeconds/,
    );
    expect(() =>
      runScenario(autoscaling, { seed: 1, params: { scaleInPercent: 80 }, variants: ['step'] }),
    ).toThrow(/scaleInPercent/);
    expect(() => runScenario(autoscaling, { seed: 1, params: { targetPercent: 0 } })).toThrow(
      /targetPercent/,
    );
    expect(() =>
      runScenario(autoscaling, { seed: 1, params: { peakRps: 100_000, holdSeconds: 3600 } }),
    ).toThrow(/load profile/);
  });
});
