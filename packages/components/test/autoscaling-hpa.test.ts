import { describe, expect, it } from 'vitest';
import { type HpaOptions, HpaPolicy } from '../src/autoscaling/hpa.js';
import { resolveScalingRules, scaleDownLimit, scaleUpLimit } from '../src/autoscaling/hpa-behavior.js';
import type { MetricKind, PodSample } from '../src/autoscaling/scaling-policy.js';

const SYNC = 15_000;
const ready = (value: number): PodSample => ({ state: 'ready', value });
const UNREADY: PodSample = { state: 'unready', value: Number.NaN };
const MISSING: PodSample = { state: 'missing', value: Number.NaN };
const all = (n: number, value: number): PodSample[] => Array.from({ length: n }, () => ready(value));

/**
 * Drives an HPA as the controller does: one reconciliation per 15 s, every replica ready with the
 * scripted metric value, the replica count set to each answer. Returns the counts after each step.
 */
function run(
  options: HpaOptions,
  start: number,
  series: readonly number[],
  metric: MetricKind = 'utilization',
) {
  const hpa = new HpaPolicy(options);
  let replicas = start;
  const counts: number[] = [];
  const reasons: string[] = [];
  series.forEach((value, k) => {
    replicas = hpa.decide({ now: (k + 1) * SYNC, replicas, metric, pods: all(replicas, value) });
    counts.push(replicas);
    reasons.push(hpa.reason);
  });
  return { counts, reasons, hpa };
}

describe('HpaPolicy: the Kubernetes HPA, reconciliation by reconciliation', () => {
  it('desired = ceil(current × metric / target), no change within the 10% tolerance (both ends inclusive)', () => {
    // target 50%: 60% -> 1.2 -> ceil(4.8) = 5; 54% (1.08) and 55% (exactly 1.1) stay; 56% (1.12) -> ceil(5.6) = 6;
    // 45% (exactly 0.9) stays.
    const { counts, reasons } = run({ target: 50, maxReplicas: 100 }, 4, [60, 54, 55, 56, 45]);
    expect(counts).toEqual([5, 5, 5, 6, 6]);
    expect(reasons).toEqual([
      'DesiredWithinRange',
      'DesiredWithinRange',
      'DesiredWithinRange',
      'DesiredWithinRange',
      'DesiredWithinRange',
    ]);
    // A wrong tolerance test (|1 - ratio| <= 0.1 in floating point rejects 55/50) would have scaled at 55%.
    expect(Math.abs(1 - 55 / 50) <= 0.1).toBe(false);
  });

  it('scale-down waits for the 300 s stabilization window: the highest recommendation in it wins', () => {
    // 6 replicas recommended at 60 s and 75 s; from 90 s the load drops to 20% (ceil(6 × 0.4) = 3).
    const series = [60, 54, 55, 56, 45, ...new Array<number>(40).fill(20)];
    const { counts, reasons } = run({ target: 50, maxReplicas: 100 }, 4, series);
    const at = (s: number) => counts[s / 15 - 1];
    // The last recommendation of 6 is at 75 s: it is inside (t - 300, t] up to t = 360 s.
    for (let t = 90; t <= 360; t += 15) expect(at(t), `t=${t}`).toBe(6);
    expect(reasons[90 / 15 - 1]).toBe('ScaleDownStabilized');
    expect(at(375)).toBe(3);
    // At 3 the recommendation is ceil(3 × 0.4) = 2, held up by the 3s of (375 - 300, 375]... until 675 s.
    for (let t = 375; t <= 600; t += 15) expect(at(t), `t=${t}`).toBe(3);
    expect(counts.length).toBe(45);
    // Without a window the same series drops at once, twice.
    const flat = run(
      { target: 50, maxReplicas: 100, behavior: { scaleDown: { stabilizationWindow: 0 } } },
      4,
      series,
    );
    expect(flat.counts.slice(0, 8)).toEqual([5, 5, 5, 6, 6, 3, 2, 1]);
  });

  it('scale-up is rate limited by the default policies: max(+4 pods, +100%) per 15 s, then maxReplicas', () => {
    // 500% against 50%: the metric asks for 10 × current every time.
    const { counts, reasons } = run({ target: 50, maxReplicas: 100 }, 2, [500, 500, 500, 500, 500, 500, 500]);
    expect(counts).toEqual([6, 12, 24, 48, 96, 100, 100]);
    expect(reasons.slice(0, 6)).toEqual([
      'ScaleUpLimit',
      'ScaleUpLimit',
      'ScaleUpLimit',
      'ScaleUpLimit',
      'ScaleUpLimit',
      'TooManyReplicas',
    ]);
  });

  it('a policy period longer than the sync counts every change made within it; Min picks the smaller limit', () => {
    const slow = run(
      {
        target: 50,
        maxReplicas: 100,
        behavior: { scaleUp: { policies: [{ type: 'Pods', value: 4, period: '60s' }] } },
      },
      2,
      new Array<number>(6).fill(500),
    );
    // +4 at 15 s; it counts in (t - 60, t] until 75 s, where the period starts again from 6.
    expect(slow.counts).toEqual([6, 6, 6, 6, 10, 10]);
    const min = run(
      { target: 50, maxReplicas: 100, behavior: { scaleUp: { selectPolicy: 'Min' } } },
      2,
      [500, 500],
    );
    expect(min.counts).toEqual([4, 8]); // min(2 + 4, 2 × 2), then min(4 + 4, 4 × 2)
    const disabled = run(
      {
        target: 50,
        maxReplicas: 100,
        behavior: { scaleDown: { selectPolicy: 'Disabled', stabilizationWindow: 0 } },
      },
      8,
      [10, 10, 100],
    );
    expect(disabled.counts).toEqual([8, 8, 16]);
  });

  it('scale-down policies limit the pace: 1 pod per 30 s', () => {
    const { counts } = run(
      {
        target: 50,
        maxReplicas: 100,
        behavior: {
          scaleDown: { stabilizationWindow: 0, policies: [{ type: 'Pods', value: 1, period: '30s' }] },
        },
      },
      6,
      new Array<number>(7).fill(5),
    );
    // Wanted: 1 at once; allowed one pod per 30 s window (changes strictly inside (t - 30, t]).
    expect(counts).toEqual([5, 5, 4, 4, 3, 3, 2]);
  });

  it('a scale-up stabilization window applies the lowest recommendation in it', () => {
    const { counts, reasons } = run(
      { target: 50, maxReplicas: 100, behavior: { scaleUp: { stabilizationWindow: '30s' } } },
      2,
      [100, 100, 100, 100],
    );
    // The initial recommendation (2, at 15 s) holds until 45 s, when only the 4s at 30 s and 45 s are left.
    expect(counts).toEqual([2, 2, 4, 4]);
    expect(reasons[0]).toBe('ScaleUpStabilized');
  });

  it('per-direction tolerances (Kubernetes 1.33): scale up at +1%, scale down only below -30%', () => {
    const { counts } = run(
      {
        target: 50,
        maxReplicas: 100,
        behavior: { scaleUp: { tolerance: 0.01 }, scaleDown: { tolerance: 0.3, stabilizationWindow: 0 } },
      },
      10,
      [51, 36, 34],
    );
    // 51/50 = 1.02 > 1.01: ceil(10.2) = 11; 36/50 = 0.72 >= 0.7 stays; 34/50 = 0.68: ceil(11 × 0.68) = 8.
    expect(counts).toEqual([11, 11, 8]);
  });

  it('utilisation is truncated to a whole percent, values to milli-units, as the controller computes them', () => {
    // 60.6% against 55%: 60/55 = 1.09 is within the tolerance; 60.6/55 = 1.102 would have scaled to 3.
    expect(run({ target: 55, maxReplicas: 10 }, 2, [60.6]).counts).toEqual([2]);
    // 21.9996 rps against 20: 21.999/20 = 1.09995, within.
    expect(run({ target: 20, maxReplicas: 10 }, 2, [21.9996], 'rps').counts).toEqual([2]);
    expect(run({ target: 20, maxReplicas: 10 }, 2, [22.1], 'rps').counts).toEqual([3]);
  });

  it('unready pods count as 0% on a scale-up and no change happens if that flips the direction', () => {
    const hpa = new HpaPolicy({ target: 50, maxReplicas: 20 });
    // Two ready at 60% (ratio 1.2), two starting: 120 / 4 = 30% -> 0.6 < 1: the direction flips, no change.
    // Ignoring the unready pods would have asked for ceil(1.2 × 2) = 3, a scale-down.
    expect(
      hpa.decide({
        now: SYNC,
        replicas: 4,
        metric: 'utilization',
        pods: [ready(60), ready(60), UNREADY, UNREADY],
      }),
    ).toBe(4);
    // Two at 150% (ratio 3), two starting: 300 / 4 = 75% -> 1.5: ceil(1.5 × 4) = 6.
    expect(
      hpa.decide({
        now: 2 * SYNC,
        replicas: 4,
        metric: 'utilization',
        pods: [ready(150), ready(150), UNREADY, UNREADY],
      }),
    ).toBe(6);
    // Unready pods are ignored on a scale-down: two at 10% with one starting -> ceil(0.2 × 2) = 1 recommended.
    const down = new HpaPolicy({
      target: 50,
      maxReplicas: 20,
      behavior: { scaleDown: { stabilizationWindow: 0 } },
    });
    expect(
      down.decide({ now: SYNC, replicas: 3, metric: 'utilization', pods: [ready(10), ready(10), UNREADY] }),
    ).toBe(1);
  });

  it('missing pods count as max(100%, target) on a scale-down (the target for a value) and 0 on a scale-up', () => {
    const opts: HpaOptions = {
      target: 50,
      maxReplicas: 20,
      behavior: { scaleDown: { stabilizationWindow: 0 } },
    };
    // (20 + 20 + 100) / 3 = 46% -> 0.92, within the tolerance: 3 stays (ignoring the missing pod: 1).
    expect(
      new HpaPolicy(opts).decide({
        now: SYNC,
        replicas: 3,
        metric: 'utilization',
        pods: [ready(20), ready(20), MISSING],
      }),
    ).toBe(3);
    // A value metric: (20 + 20 + 50) / 3 = 30 -> 0.6: ceil(0.6 × 3) = 2.
    expect(
      new HpaPolicy(opts).decide({
        now: SYNC,
        replicas: 3,
        metric: 'rps',
        pods: [ready(20), ready(20), MISSING],
      }),
    ).toBe(2);
    // Scale-up: (100 + 100 + 0) / 3 = 66% -> 1.32: ceil(3.96) = 4.
    expect(
      new HpaPolicy(opts).decide({
        now: SYNC,
        replicas: 3,
        metric: 'utilization',
        pods: [ready(100), ready(100), MISSING],
      }),
    ).toBe(4);
  });

  it('bounds come first: off at 0 with minReplicas > 0, straight to max or min, no metrics no change', () => {
    const hpa = new HpaPolicy({ target: 50, minReplicas: 2, maxReplicas: 5 });
    expect(hpa.decide({ now: SYNC, replicas: 0, metric: 'utilization', pods: [] })).toBe(0);
    expect(hpa.reason).toBe('ScalingDisabled');
    expect(hpa.decide({ now: 2 * SYNC, replicas: 9, metric: 'utilization', pods: all(9, 1) })).toBe(5);
    expect(hpa.reason).toBe('AboveMaxReplicas');
    expect(hpa.decide({ now: 3 * SYNC, replicas: 1, metric: 'utilization', pods: all(1, 500) })).toBe(2);
    expect(hpa.reason).toBe('BelowMinReplicas');
    expect(
      hpa.decide({ now: 4 * SYNC, replicas: 3, metric: 'utilization', pods: [UNREADY, UNREADY, MISSING] }),
    ).toBe(3);
    expect(hpa.reason).toBe('FailedGetMetrics');
  });

  it('scale to zero: minReplicas 0 recommends 0 after a quiet window; a wake counts as a recommendation', () => {
    const hpa = new HpaPolicy({ target: 10, minReplicas: 0, maxReplicas: 5 });
    // At zero there are no pods, so no metrics: nothing happens until something wakes the pool.
    expect(hpa.decide({ now: SYNC, replicas: 0, metric: 'rps', pods: [] })).toBe(0);
    hpa.observe(20_000, 0, 1);
    let replicas = 1;
    const counts: number[] = [];
    for (let t = 30_000; t <= 345_000; t += SYNC) {
      replicas = hpa.decide({ now: t, replicas, metric: 'rps', pods: all(replicas, 0) });
      counts.push(replicas);
    }
    // The wake's recommendation of 1 at 20 s holds until 320 s; at 330 s the window only has zeros.
    expect(counts[(315_000 - 30_000) / SYNC]).toBe(1);
    expect(counts[(330_000 - 30_000) / SYNC]).toBe(0);
  });

  it('scale limits follow calculateScale{Up,Down}Limit*', () => {
    const up = resolveScalingRules(undefined, 'up', 0.1);
    expect(scaleUpLimit(3, [], up, 0)).toBe(7);
    expect(scaleUpLimit(10, [], up, 0)).toBe(20);
    // Percent rounds up: 3 × 1.5 = 4.5 -> 5.
    const half = resolveScalingRules({ policies: [{ type: 'Percent', value: 50, period: 15 }] }, 'up', 0.1);
    expect(scaleUpLimit(3, [], half, 0)).toBe(5);
    // Scale-down percent truncates: 5 × 0.5 = 2.5 -> 2; events in the period count against it.
    const downHalf = resolveScalingRules(
      { policies: [{ type: 'Percent', value: 50, period: '60s' }] },
      'down',
      0.1,
    );
    expect(scaleDownLimit(5, [], downHalf, 0)).toBe(2);
    expect(scaleDownLimit(3, [{ at: 10_000, change: 2 }], downHalf, 30_000)).toBe(2);
  });

  it('refuses bad options, naming the field, the value and what is allowed', () => {
    expect(() => new HpaPolicy({ target: 50, maxReplicas: 5, tolerence: 0.2 } as never)).toThrow(
      /unknown option "tolerence" \(did you mean "tolerance"\?\)/,
    );
    expect(() => new HpaPolicy({ target: 0, maxReplicas: 5 })).toThrow(
      /target must be a finite number > 0, got 0/,
    );
    expect(() => new HpaPolicy({ target: 50, minReplicas: 4, maxReplicas: 3 })).toThrow(
      /maxReplicas must be an integer >= minReplicas \(4\)/,
    );
    expect(() => new HpaPolicy({ target: 50, maxReplicas: 2.5 })).toThrow(
      /maxReplicas must be an integer >= 1/,
    );
    expect(() => new HpaPolicy({ target: 50, maxReplicas: 5, tolerance: -0.1 })).toThrow(/tolerance/);
    expect(
      () =>
        new HpaPolicy({
          target: 50,
          maxReplicas: 5,
          behavior: { scaleUp: { selectPolicy: 'max' as never } },
        }),
    ).toThrow(
      /behavior.scaleUp.selectPolicy must be one of "Max", "Min", "Disabled", got "max" \(did you mean "Max"\?\)/,
    );
    expect(
      () =>
        new HpaPolicy({ target: 50, maxReplicas: 5, behavior: { scaleDown: { stabilizationWindow: '2h' } } }),
    ).toThrow(/behavior.scaleDown.stabilizationWindow/);
    expect(
      () => new HpaPolicy({ target: 50, maxReplicas: 5, behavior: { scaleUp: { policies: [] } } }),
    ).toThrow(/behavior.scaleUp.policies must be a non-empty array/);
    expect(
      () =>
        new HpaPolicy({
          target: 50,
          maxReplicas: 5,
          behavior: { scaleUp: { policies: [{ type: 'Pods', value: 4, period: '31m' }] } },
        }),
    ).toThrow(/behavior.scaleUp.policies\[0\].period/);
    expect(
      () =>
        new HpaPolicy({
          target: 50,
          maxReplicas: 5,
          behavior: { scaleUp: { policies: [{ type: 'Pods', value: 0, period: 15 }] } },
        }),
    ).toThrow(/policies\[0\].value must be an integer > 0, got 0/);
    expect(
      () => new HpaPolicy({ target: 50, maxReplicas: 5, behavior: { scaleSideways: {} } as never }),
    ).toThrow(/unknown option "behavior.scaleSideways"/);
  });
});
