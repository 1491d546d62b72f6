import {
  checkDuration,
  checkEnum,
  checkNumber,
  checkObject,
  checkOptions,
  type Duration,
  invalidOption,
  nested,
  type Owner,
  optionKeys,
  owner,
} from '@dsim/core';
import type { PodSample, ScalingInput, ScalingPolicy } from './scaling-policy.js';

const C = 'StepScalingPolicy';

/**
 * One step adjustment (AWS `StepAdjustment`): when the metric minus the alarm threshold falls in
 * [`lower`, `upper`), add `adjustment` (a scale-out alarm; below the threshold the bounds are (lower,
 * upper] instead, as AWS documents). Bounds left out are -∞ and +∞.
 *
 * @example
 * ```ts
 * const step: StepAdjustment = { lower: 0, upper: 20, adjustment: 1 }; // threshold to threshold + 20: +1
 * ```
 */
export interface StepAdjustment {
  /** `MetricIntervalLowerBound`, relative to the threshold. @default -Infinity */
  lower?: number;
  /** `MetricIntervalUpperBound`, relative to the threshold. @default Infinity */
  upper?: number;
  /** `ScalingAdjustment`: an integer, read per `adjustmentType` (>= 0 for `exact`). */
  adjustment: number;
}

/**
 * One alarm and its step scaling policy (a CloudWatch alarm plus an Application Auto Scaling
 * `StepScalingPolicyConfiguration`). The scale-out alarm fires when the metric is >= `threshold`, the
 * scale-in alarm when it is <= `threshold`, for `evaluationPeriods` periods in a row.
 *
 * @example
 * ```ts
 * const out: StepAlarm = { threshold: 70, steps: [{ lower: 0, upper: 15, adjustment: 1 }, { lower: 15, adjustment: 3 }] };
 * ```
 */
export interface StepAlarm {
  /** The alarm threshold, in the metric's unit. A finite number. */
  threshold: number;
  /** The step adjustments: no gap, no overlap, covering the alarm's side of the threshold. */
  steps: readonly StepAdjustment[];
  /**
   * `ChangeInCapacity` (`change`), `PercentChangeInCapacity` (`percent`) or `ExactCapacity` (`exact`).
   * @default 'change'
   */
  adjustmentType?: 'change' | 'percent' | 'exact';
  /**
   * `MinAdjustmentMagnitude`: with `percent`, the least number of replicas a step adds or removes. An
   * integer >= 1.
   * @default 1
   */
  minAdjustmentMagnitude?: number;
  /**
   * `Cooldown`: after a scale-out, a further scale-out adds only what exceeds the first one until it
   * ends; after a scale-in, scale-ins are blocked until it ends. A duration.
   * @default 300 s (Application Auto Scaling)
   */
  cooldown?: Duration;
}

/**
 * Options of {@link StepScalingPolicy}; an unknown key is an error.
 *
 * @example
 * ```ts
 * const options: StepScalingOptions = {
 *   minReplicas: 2, maxReplicas: 20,
 *   scaleOut: { threshold: 70, steps: [{ lower: 0, upper: 20, adjustment: 2 }, { lower: 20, adjustment: 4 }] },
 *   scaleIn: { threshold: 30, steps: [{ upper: 0, adjustment: -1 }] },
 * };
 * ```
 */
export interface StepScalingOptions {
  /** Fewest replicas (the scalable target's `MinCapacity`), an integer >= 0. @default 1 */
  minReplicas?: number;
  /** Most replicas (`MaxCapacity`), an integer >= max(1, minReplicas). */
  maxReplicas: number;
  /**
   * The alarms' evaluation period: the metric is the average over the ready replicas over each period
   * (CloudWatch's `Average` statistic). A duration > 0.
   * @default 60 s (a one-minute CloudWatch period)
   */
  period?: Duration;
  /** Periods in a row the metric must breach before the alarm acts, an integer >= 1. @default 1 */
  evaluationPeriods?: number;
  /** The scale-out alarm and its steps; left out: never scales out. */
  scaleOut?: StepAlarm;
  /** The scale-in alarm and its steps; left out: never scales in. */
  scaleIn?: StepAlarm;
}

interface ResolvedStep {
  readonly lower: number;
  readonly upper: number;
  readonly adjustment: number;
}

interface ResolvedAlarm {
  readonly threshold: number;
  readonly steps: readonly ResolvedStep[];
  readonly adjustmentType: 'change' | 'percent' | 'exact';
  readonly minAdjustmentMagnitude: number;
  readonly cooldownMs: number;
}

const OPTION_KEYS = optionKeys<StepScalingOptions>()({
  minReplicas: true,
  maxReplicas: true,
  period: true,
  evaluationPeriods: true,
  scaleOut: true,
  scaleIn: true,
});
const ALARM_KEYS = optionKeys<StepAlarm>()({
  threshold: true,
  steps: true,
  adjustmentType: true,
  minAdjustmentMagnitude: true,
  cooldown: true,
});
const STEP_KEYS = optionKeys<StepAdjustment>()({ lower: true, upper: true, adjustment: true });

/**
 * AWS step scaling (Application Auto Scaling, as for ECS services; EC2 Auto Scaling's step policies work
 * alike): two CloudWatch alarms on the average metric of the ready replicas, each with step adjustments
 * sized by how far the metric is past the threshold.
 *
 * - **Alarms.** Every `period` the average over the ready replicas is one data point; an alarm acts when
 *   its last `evaluationPeriods` points all breach (scale-out: >= threshold; scale-in: <= threshold), and
 *   keeps acting every period while it stays in alarm. No ready replica: no data point (missing data
 *   does not breach).
 * - **Steps.** The step whose interval holds `metric - threshold` applies: above the threshold its lower
 *   bound is inclusive, below it the upper bound is (AWS). `percent` adjustments are rounded as AWS
 *   rounds them (above 1 down, in (0, 1) to 1, in (-1, 0) to -1, below -1 up), then at least
 *   `minAdjustmentMagnitude`.
 * - **Cooldown** (Application Auto Scaling's `Cooldown`): during a scale-out's cooldown the capacity it
 *   added counts towards the next scale-out, so a later, larger step adds only the difference; after a
 *   scale-in, scale-ins wait for its cooldown, but a scale-out goes ahead at once.
 * - The result is kept within [minReplicas, maxReplicas].
 *
 * Not modelled: EC2 Auto Scaling's instance warm-up (instances still warming neither count towards the
 * capacity nor the metric: here a replica's metric counts from the moment it is ready), alarms on other
 * statistics (`Maximum`, `Minimum`) and `datapointsToAlarm` below `evaluationPeriods`.
 *
 * @example
 * ```ts
 * const policy = new StepScalingPolicy({
 *   maxReplicas: 20,
 *   scaleOut: { threshold: 70, steps: [{ lower: 0, upper: 20, adjustment: 2 }, { lower: 20, adjustment: 4 }] },
 *   scaleIn: { threshold: 30, steps: [{ upper: 0, adjustment: -1 }] },
 * });
 * ```
 */
export class StepScalingPolicy implements ScalingPolicy {
  readonly kind = 'step';
  readonly periodMs: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly evaluationPeriods: number;
  private readonly out: ResolvedAlarm | undefined;
  private readonly in: ResolvedAlarm | undefined;
  private why = 'none';
  /** Consecutive breaching data points of each alarm. */
  private outBreaches = 0;
  private inBreaches = 0;
  /** The running scale-out cooldown: its end, and the capacity before the scale-out that began it. */
  private outCooldownUntil = -Infinity;
  private outCooldownBase = 0;
  private inCooldownUntil = -Infinity;

  constructor(options: StepScalingOptions) {
    checkObject(C, 'options', options, 'an options object with maxReplicas and scaleOut or scaleIn');
    checkOptions(C, options, OPTION_KEYS);
    this.minReplicas = checkNumber(C, 'minReplicas', options.minReplicas, { integer: true, min: 0 }, 1);
    this.maxReplicas = checkNumber(C, 'maxReplicas', options.maxReplicas, { integer: true, min: 1 });
    if (this.maxReplicas < this.minReplicas)
      throw invalidOption(
        C,
        'maxReplicas',
        options.maxReplicas,
        `an integer >= minReplicas (${this.minReplicas})`,
      );
    this.periodMs = checkDuration(C, 'period', options.period, { positive: true }, 60_000);
    this.evaluationPeriods = checkNumber(
      C,
      'evaluationPeriods',
      options.evaluationPeriods,
      { integer: true, min: 1 },
      1,
    );
    if (options.scaleOut === undefined && options.scaleIn === undefined)
      throw invalidOption(C, 'scaleOut', undefined, 'an alarm (scaleOut, scaleIn or both)');
    this.out =
      options.scaleOut === undefined
        ? undefined
        : resolveAlarm(options.scaleOut, owner(C, 'scaleOut'), 'out');
    this.in =
      options.scaleIn === undefined ? undefined : resolveAlarm(options.scaleIn, owner(C, 'scaleIn'), 'in');
  }

  get reason(): string {
    return this.why;
  }

  decide(input: ScalingInput): number {
    const { now, replicas: current } = input;
    const metric = averageOfReady(input.pods);
    if (Number.isNaN(metric)) {
      // Missing data is treated as not breaching: both alarms go back to OK.
      this.outBreaches = 0;
      this.inBreaches = 0;
      this.why = 'NoData';
      return this.bounded(current);
    }
    const out = this.out;
    const inn = this.in;
    this.outBreaches = out !== undefined && metric >= out.threshold ? this.outBreaches + 1 : 0;
    this.inBreaches = inn !== undefined && metric <= inn.threshold ? this.inBreaches + 1 : 0;
    if (out !== undefined && this.outBreaches >= this.evaluationPeriods)
      return this.scaleOut(out, metric, current, now);
    if (inn !== undefined && this.inBreaches >= this.evaluationPeriods)
      return this.scaleIn(inn, metric, current, now);
    this.why = 'NoAlarm';
    return this.bounded(current);
  }

  private scaleOut(alarm: ResolvedAlarm, metric: number, current: number, now: number): number {
    const step = findStep(alarm.steps, metric - alarm.threshold, true);
    if (step === undefined) {
      this.why = 'NoStep';
      return this.bounded(current);
    }
    const inCooldown = now < this.outCooldownUntil;
    // During the cooldown the capacity the initiating scale-out added counts towards this one.
    const base = inCooldown ? this.outCooldownBase : current;
    let target = this.bounded(applyAdjustment(alarm, step.adjustment, base));
    if (inCooldown && target <= current) {
      this.why = 'ScaleOutCooldown';
      return this.bounded(current);
    }
    if (target < current) target = current;
    if (target === current) {
      this.why = current >= this.maxReplicas ? 'AtMaxReplicas' : 'NoChange';
      return current;
    }
    if (!inCooldown) {
      this.outCooldownBase = current;
      this.outCooldownUntil = now + alarm.cooldownMs;
    }
    this.why = 'ScaleOut';
    return target;
  }

  private scaleIn(alarm: ResolvedAlarm, metric: number, current: number, now: number): number {
    if (now < this.inCooldownUntil) {
      this.why = 'ScaleInCooldown';
      return this.bounded(current);
    }
    const step = findStep(alarm.steps, metric - alarm.threshold, false);
    if (step === undefined) {
      this.why = 'NoStep';
      return this.bounded(current);
    }
    let target = this.bounded(applyAdjustment(alarm, step.adjustment, current));
    if (target > current) target = current;
    if (target === current) {
      this.why = current <= this.minReplicas ? 'AtMinReplicas' : 'NoChange';
      return current;
    }
    this.inCooldownUntil = now + alarm.cooldownMs;
    this.why = 'ScaleIn';
    return target;
  }

  private bounded(n: number): number {
    return Math.min(this.maxReplicas, Math.max(this.minReplicas, n));
  }
}

/** CloudWatch `Average` over the ready replicas; NaN when none is ready. */
function averageOfReady(pods: readonly PodSample[]): number {
  let sum = 0;
  let n = 0;
  for (const pod of pods) {
    if (pod.state !== 'ready') continue;
    sum += pod.value;
    n++;
  }
  return n === 0 ? Number.NaN : sum / n;
}

/** The step holding `delta` (metric - threshold): [lower, upper) above the threshold, (lower, upper] below. */
function findStep(steps: readonly ResolvedStep[], delta: number, above: boolean): ResolvedStep | undefined {
  for (const s of steps) {
    const inside = above ? s.lower <= delta && delta < s.upper : s.lower < delta && delta <= s.upper;
    if (inside) return s;
  }
  return undefined;
}

/**
 * The new capacity from `base` after `adjustment`, per the alarm's adjustment type (AWS's rounding of a
 * percentage, then `minAdjustmentMagnitude`).
 */
function applyAdjustment(alarm: ResolvedAlarm, adjustment: number, base: number): number {
  if (alarm.adjustmentType === 'exact') return adjustment;
  if (alarm.adjustmentType === 'change') return base + adjustment;
  const raw = (base * adjustment) / 100;
  let change: number;
  if (raw > 1) change = Math.floor(raw);
  else if (raw > 0) change = 1;
  else if (raw === 0) change = 0;
  else if (raw > -1) change = -1;
  else change = Math.ceil(raw);
  const magnitude = alarm.minAdjustmentMagnitude;
  if (change > 0 && change < magnitude) change = magnitude;
  if (change < 0 && -change < magnitude) change = -magnitude;
  return base + change;
}

function resolveAlarm(alarm: StepAlarm, where: Owner, side: 'out' | 'in'): ResolvedAlarm {
  checkObject(C, where.path, alarm, 'an alarm object { threshold, steps, ... }');
  checkOptions(C, alarm, ALARM_KEYS, where.path);
  const threshold = checkNumber(where, 'threshold', alarm.threshold, {});
  const adjustmentType = checkEnum(
    where,
    'adjustmentType',
    alarm.adjustmentType,
    ['change', 'percent', 'exact'],
    'change',
  );
  if (!Array.isArray(alarm.steps) || alarm.steps.length === 0)
    throw invalidOption(where, 'steps', alarm.steps, 'a non-empty array of { lower?, upper?, adjustment }');
  const steps = alarm.steps.map((s, i) => resolveStep(s, nested(where, `steps[${i}]`), adjustmentType));
  checkStepRanges(steps, where, side);
  return {
    threshold,
    steps,
    adjustmentType,
    minAdjustmentMagnitude: checkNumber(
      where,
      'minAdjustmentMagnitude',
      alarm.minAdjustmentMagnitude,
      { integer: true, min: 1 },
      1,
    ),
    cooldownMs: checkDuration(where, 'cooldown', alarm.cooldown, {}, 300_000),
  };
}

function resolveStep(step: unknown, where: Owner, type: string): ResolvedStep {
  checkObject(C, where.path, step, 'a step { lower?, upper?, adjustment }');
  checkOptions(C, step, STEP_KEYS, where.path);
  const s = step as StepAdjustment;
  const lower = checkNumber(where, 'lower', s.lower, {}, -Infinity);
  const upper = checkNumber(where, 'upper', s.upper, {}, Infinity);
  if (s.lower === undefined && s.upper === undefined)
    throw invalidOption(where, 'lower', undefined, 'a bound (a step needs lower, upper or both)');
  if (!(lower < upper)) throw invalidOption(where, 'upper', s.upper, `a number > lower (${lower})`);
  const adjustment = checkNumber(
    where,
    'adjustment',
    s.adjustment,
    type === 'exact' ? { integer: true, min: 0 } : { integer: true },
  );
  return { lower, upper, adjustment };
}

/**
 * AWS's rules for a policy's steps: sorted, they must join without gap or overlap, and the scale-out
 * alarm's must cover [0, ∞) (the scale-in alarm's (-∞, 0]).
 */
function checkStepRanges(steps: ResolvedStep[], where: Owner, side: 'out' | 'in'): void {
  steps.sort((a, b) => a.lower - b.lower);
  for (let i = 1; i < steps.length; i++)
    if (steps[i]!.lower !== steps[i - 1]!.upper)
      throw invalidOption(
        where,
        'steps',
        steps.map((s) => [s.lower, s.upper]),
        'step intervals that join without gap or overlap (each lower equal to the previous upper)',
      );
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const covers =
    side === 'out'
      ? first.lower <= 0 && last.upper === Infinity
      : first.lower === -Infinity && last.upper >= 0;
  if (!covers)
    throw invalidOption(
      where,
      'steps',
      steps.map((s) => [s.lower, s.upper]),
      side === 'out'
        ? 'steps covering every breach of a scale-out alarm: from a lower bound <= 0 to no upper bound'
        : 'steps covering every breach of a scale-in alarm: from no lower bound to an upper bound >= 0',
    );
}
