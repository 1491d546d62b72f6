import { describe, expect, it } from 'vitest';
import type { PodSample } from '../src/autoscaling/scaling-policy.js';
import { ScheduledScalingPolicy } from '../src/autoscaling/scheduled-scaling.js';
import { type StepScalingOptions, StepScalingPolicy } from '../src/autoscaling/step-scaling.js';

const MIN = 60_000;
const H = 3_600_000;
const all = (n: number, value: number): PodSample[] =>
  Array.from({ length: n }, () => ({ state: 'ready', value }));

/** One evaluation per minute with every replica at the scripted average; returns the counts. */
function run(options: StepScalingOptions, start: number, series: readonly number[]) {
  const policy = new StepScalingPolicy(options);
  let replicas = start;
  const counts: number[] = [];
  const reasons: string[] = [];
  series.forEach((value, k) => {
    replicas = policy.decide({
      now: (k + 1) * MIN,
      replicas,
      metric: 'utilization',
      pods: all(replicas, value),
    });
    counts.push(replicas);
    reasons.push(policy.reason);
  });
  return { counts, reasons };
}

const STEPS: StepScalingOptions = {
  minReplicas: 1,
  maxReplicas: 20,
  scaleOut: {
    threshold: 70,
    steps: [
      { lower: 0, upper: 10, adjustment: 1 },
      { lower: 10, upper: 20, adjustment: 2 },
      { lower: 20, adjustment: 4 },
    ],
  },
  scaleIn: { threshold: 30, steps: [{ upper: 0, adjustment: -1 }], cooldown: '2m' },
};

describe('StepScalingPolicy: AWS step adjustments with cooldowns', () => {
  it('steps by breach size; a scale-out cooldown counts what it added; scale-ins wait for theirs', () => {
    const { counts, reasons } = run(STEPS, 2, [75, 85, 85, 95, 70, 70, 50, 30, 20, 20, 75]);
    expect(counts).toEqual([3, 4, 4, 6, 6, 7, 7, 6, 6, 5, 6]);
    expect(reasons).toEqual([
      'ScaleOut', // 75: [0, 10) -> +1
      'ScaleOut', // 85: +2 from 2 (the cooldown's base): only 1 more
      'ScaleOutCooldown', // 85 again: 2 + 2 = 4 is already there
      'ScaleOut', // 95: +4 from 2
      'ScaleOutCooldown', // 70 (lower bound inclusive): 2 + 1 < 6
      'ScaleOut', // 360 s: the cooldown is over, +1 from 6
      'NoAlarm',
      'ScaleIn', // 30 (upper bound inclusive below the threshold): -1
      'ScaleInCooldown',
      'ScaleIn', // 2 min later
      'ScaleOut', // a scale-out does not wait for a scale-in cooldown
    ]);
  });

  it('evaluationPeriods: the alarm acts only after that many breaching periods in a row', () => {
    const { counts } = run({ ...STEPS, evaluationPeriods: 2 }, 2, [75, 60, 75, 75, 75]);
    expect(counts).toEqual([2, 2, 2, 3, 3]);
  });

  it('percent adjustments round as AWS does, then respect minAdjustmentMagnitude; exact sets the count', () => {
    const pct = (adjustment: number, magnitude?: number): StepScalingOptions => ({
      maxReplicas: 50,
      scaleOut: {
        threshold: 70,
        adjustmentType: 'percent',
        steps: [{ lower: 0, adjustment }],
        ...(magnitude === undefined ? {} : { minAdjustmentMagnitude: magnitude }),
      },
      scaleIn: { threshold: 30, adjustmentType: 'percent', steps: [{ upper: 0, adjustment: -adjustment }] },
    });
    expect(run(pct(50), 3, [80]).counts).toEqual([4]); // 1.5 -> 1
    expect(run(pct(50), 1, [80]).counts).toEqual([2]); // 0.5 -> 1
    expect(run(pct(50, 2), 3, [80]).counts).toEqual([5]); // 1 -> at least 2
    expect(run(pct(50), 3, [10]).counts).toEqual([2]); // -1.5 -> -1
    expect(run(pct(10), 3, [10]).counts).toEqual([2]); // -0.3 -> -1
    expect(run(pct(50), 7, [10]).counts).toEqual([4]); // -3.5 -> -3
    const exact = run(
      {
        maxReplicas: 50,
        scaleOut: { threshold: 70, adjustmentType: 'exact', steps: [{ lower: 0, adjustment: 10 }] },
      },
      3,
      [80],
    );
    expect(exact.counts).toEqual([10]);
  });

  it('stays within [minReplicas, maxReplicas]; no ready replica is no data', () => {
    expect(run({ ...STEPS, maxReplicas: 5 }, 4, [95]).counts).toEqual([5]);
    expect(run(STEPS, 1, [10]).counts).toEqual([1]);
    const policy = new StepScalingPolicy(STEPS);
    expect(
      policy.decide({
        now: MIN,
        replicas: 3,
        metric: 'utilization',
        pods: [{ state: 'unready', value: Number.NaN }],
      }),
    ).toBe(3);
    expect(policy.reason).toBe('NoData');
  });

  it('refuses steps with gaps or overlaps, or that leave a breach uncovered', () => {
    const out = (steps: unknown) =>
      new StepScalingPolicy({ maxReplicas: 5, scaleOut: { threshold: 70, steps: steps as never } });
    expect(() =>
      out([
        { lower: 0, upper: 10, adjustment: 1 },
        { lower: 15, adjustment: 2 },
      ]),
    ).toThrow(/scaleOut.steps must be step intervals that join without gap or overlap/);
    expect(() => out([{ lower: 5, adjustment: 1 }])).toThrow(/covering every breach of a scale-out alarm/);
    expect(() => out([{ adjustment: 1 }])).toThrow(/steps\[0\].lower must be a bound/);
    expect(() => out([{ lower: 0, upper: 0, adjustment: 1 }])).toThrow(
      /steps\[0\].upper must be a number > lower/,
    );
    expect(
      () =>
        new StepScalingPolicy({
          maxReplicas: 5,
          scaleIn: { threshold: 30, steps: [{ lower: -10, upper: 0, adjustment: -1 }] },
        }),
    ).toThrow(/covering every breach of a scale-in alarm/);
    expect(
      () =>
        new StepScalingPolicy({
          maxReplicas: 5,
          scaleOut: { threshold: 70, adjustmentType: 'exact', steps: [{ lower: 0, adjustment: -1 }] },
        }),
    ).toThrow(/adjustment must be an integer >= 0/);
    expect(() => new StepScalingPolicy({ maxReplicas: 5 })).toThrow(/scaleOut must be an alarm/);
    expect(() => new StepScalingPolicy({ ...STEPS, cooldwn: 5 } as never)).toThrow(
      /unknown option "cooldwn"/,
    );
    expect(
      () =>
        new StepScalingPolicy({
          maxReplicas: 5,
          scaleOut: { threshold: 70, steps: [{ lower: 0, adjustment: 1 }], coldown: 1 } as never,
        }),
    ).toThrow(/unknown option "scaleOut.coldown" \(did you mean "scaleOut.cooldown"\?\)/);
  });
});

describe('ScheduledScalingPolicy: replica counts by time of day', () => {
  const DAY = [
    { at: '6h', replicas: 2 },
    { at: '8h', replicas: 12 },
    { at: '20h', replicas: 4 },
  ];

  it('the entry in effect applies, and the last entry of the day holds past midnight', () => {
    const policy = new ScheduledScalingPolicy({ schedule: DAY });
    expect(policy.replicasAt(7 * H)).toBe(2);
    expect(policy.replicasAt(8 * H)).toBe(12);
    expect(policy.replicasAt(19.99 * H)).toBe(12);
    expect(policy.replicasAt(21 * H)).toBe(4);
    expect(policy.replicasAt(3 * H)).toBe(4); // before 06:00: yesterday's 20:00 entry
    expect(policy.replicasAt(24 * H + 9 * H)).toBe(12); // the next day
    expect(policy.maxReplicas).toBe(12);
    expect(policy.periodMs).toBe(60_000);
    expect(policy.decide({ now: 9 * H, replicas: 2, metric: 'utilization', pods: [] })).toBe(12);
    expect(policy.reason).toBe('Scheduled');
  });

  it('without a cycle the entries are absolute times; before the first the count is left alone', () => {
    const policy = new ScheduledScalingPolicy({
      schedule: [{ at: '1m', replicas: 5 }],
      cycle: Infinity,
      period: '10s',
    });
    expect(policy.decide({ now: 30_000, replicas: 3, metric: 'utilization', pods: [] })).toBe(3);
    expect(policy.reason).toBe('BeforeSchedule');
    expect(policy.decide({ now: 60_000, replicas: 3, metric: 'utilization', pods: [] })).toBe(5);
    expect(policy.replicasAt(48 * H)).toBe(5);
  });

  it('refuses unordered entries, entries past the cycle and counts out of bounds', () => {
    expect(
      () =>
        new ScheduledScalingPolicy({
          schedule: [
            { at: '8h', replicas: 2 },
            { at: '6h', replicas: 3 },
          ],
        }),
    ).toThrow(/schedule\[1\].at must be a time after the previous entry's/);
    expect(() => new ScheduledScalingPolicy({ schedule: [{ at: '25h', replicas: 2 }] })).toThrow(
      /within the cycle/,
    );
    expect(() => new ScheduledScalingPolicy({ schedule: DAY, maxReplicas: 10 })).toThrow(
      /schedule\[1\].replicas must be an integer in \[minReplicas, maxReplicas\] = \[0, 10\], got 12/,
    );
    expect(() => new ScheduledScalingPolicy({ schedule: [] })).toThrow(/schedule must be a non-empty array/);
    expect(() => new ScheduledScalingPolicy({ schedule: [{ at: 0, replica: 2 }] as never })).toThrow(
      /unknown option "schedule\[0\].replica"/,
    );
  });
});
