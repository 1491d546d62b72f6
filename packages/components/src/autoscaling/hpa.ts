import {
  checkDuration,
  checkNumber,
  checkObject,
  checkOptions,
  type Duration,
  invalidOption,
  optionKeys,
} from '@dsim/core';
import {
  type HpaBehavior,
  type ResolvedScalingRules,
  resolveBehavior,
  type ScaleEvent,
  scaleDownLimit,
  scaleUpLimit,
} from './hpa-behavior.js';
import type { MetricKind, PodSample, ScalingInput, ScalingPolicy } from './scaling-policy.js';

const C = 'HpaPolicy';

/**
 * Options of {@link HpaPolicy}; an unknown key is an error. Defaults are Kubernetes' (the
 * HorizontalPodAutoscaler API defaults and the `kube-controller-manager` flags).
 *
 * @example
 * ```ts
 * const options: HpaOptions = { target: 60, minReplicas: 2, maxReplicas: 20 };
 * ```
 */
export interface HpaOptions {
  /**
   * The target per replica, in the metric's unit: `averageUtilization` in percent for a utilisation
   * metric (80 is what `kubectl autoscale` sets when no target is given), an `averageValue` otherwise
   * (requests per second per replica). A finite number > 0.
   */
  target: number;
  /**
   * Fewest replicas (`minReplicas`), an integer >= 0. 0 allows scaling to zero (Kubernetes'
   * `HPAScaleToZero` feature gate); only an activator scales back up from zero, since no replica then
   * reports a metric.
   * @default 1
   */
  minReplicas?: number;
  /** Most replicas (`maxReplicas`), an integer >= max(1, minReplicas). */
  maxReplicas: number;
  /**
   * No scaling while the usage ratio (metric / target) is within 1 ± tolerance
   * (`--horizontal-pod-autoscaler-tolerance`). A number >= 0.
   * @default 0.1
   */
  tolerance?: number;
  /**
   * Time between two reconciliations (`--horizontal-pod-autoscaler-sync-period`), a duration > 0.
   * @default 15 s
   */
  syncPeriod?: Duration;
  /** Stabilization windows, rate limits and per-direction tolerances. @default Kubernetes' default behavior */
  behavior?: HpaBehavior;
}

const HPA_KEYS = optionKeys<HpaOptions>()({
  target: true,
  minReplicas: true,
  maxReplicas: true,
  tolerance: true,
  syncPeriod: true,
  behavior: true,
});

interface Recommendation {
  readonly at: number;
  readonly replicas: number;
}

/**
 * The Kubernetes HorizontalPodAutoscaler's decision, reconciliation by reconciliation, as the controller
 * (`pkg/controller/podautoscaler`: `horizontal.go`, `replica_calculator.go`) computes it:
 *
 * 1. **Bounds first.** Replicas at 0 with `minReplicas > 0`: autoscaling is off. Above `maxReplicas` or
 *    below `minReplicas`: straight to the bound.
 * 2. **Replica count from the metric** (`GetResourceReplicas` / `calcPlainMetricReplicas`): usage ratio =
 *    mean over ready pods / target (a utilisation truncated to a whole percent, a value to milli-units, as
 *    the controller's integer arithmetic does). Within the tolerance: no change. With no unready or
 *    missing pods: `ceil(ratio × ready pods)`. Otherwise the ratio is recomputed with missing pods at
 *    `max(100%, target)` (a value metric: the target) on a scale-down and at 0 on a scale-up, and unready
 *    pods at 0 on a scale-up; no change if that lands within the tolerance or flips the direction.
 *    No ready pod at all: the metrics cannot be computed and nothing changes (no recommendation kept).
 * 3. **Stabilization** (`stabilizeRecommendationWithBehaviors`): every recommendation is kept with its
 *    time; the answer is the current count pushed up to the lowest recommendation of the scale-up window
 *    and down to the highest of the scale-down window (only recommendations strictly inside a window
 *    count).
 * 4. **Rate limits and bounds** (`convertDesiredReplicasWithBehaviorRate`): at most the scale-up limit of
 *    the policies over the changes made in each policy's period, at least the scale-down limit, within
 *    [minReplicas, maxReplicas].
 *
 * A policy without `behavior` uses the default behavior, not the controller's older path for an HPA with
 * no behavior (scale-up at most max(2 × current, 4) per reconciliation): the two agree whenever
 * reconciliations are at least 15 s apart, as they are at the default sync period.
 *
 * Not modelled: several metrics (the controller takes the largest recommendation), object and external
 * metrics, container metrics, the 30 s `delay-of-initial-readiness-status` rule (a replica here is ready
 * once started, never ready-then-unready without a crash).
 *
 * @example
 * ```ts
 * const hpa = new HpaPolicy({ target: 50, maxReplicas: 10 });
 * const pods = [{ state: 'ready', value: 90 }, { state: 'ready', value: 110 }] as const;
 * hpa.decide({ now: 15_000, replicas: 2, metric: 'utilization', pods }); // 4: ceil(2 × 100 / 50)
 * ```
 */
export class HpaPolicy implements ScalingPolicy {
  readonly kind = 'hpa';
  readonly periodMs: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly target: number;
  readonly tolerance: number;
  readonly scaleUp: ResolvedScalingRules;
  readonly scaleDown: ResolvedScalingRules;
  private why = 'none';
  private recommendations: Recommendation[] = [];
  private upEvents: ScaleEvent[] = [];
  private downEvents: ScaleEvent[] = [];

  constructor(options: HpaOptions) {
    checkObject(C, 'options', options, 'an options object with target and maxReplicas');
    checkOptions(C, options, HPA_KEYS);
    this.target = checkNumber(C, 'target', options.target, { above: 0 });
    this.minReplicas = checkNumber(C, 'minReplicas', options.minReplicas, { integer: true, min: 0 }, 1);
    this.maxReplicas = checkNumber(C, 'maxReplicas', options.maxReplicas, { integer: true, min: 1 });
    if (this.maxReplicas < this.minReplicas)
      throw invalidOption(
        C,
        'maxReplicas',
        options.maxReplicas,
        `an integer >= minReplicas (${this.minReplicas})`,
      );
    this.tolerance = checkNumber(C, 'tolerance', options.tolerance, { min: 0 }, 0.1);
    this.periodMs = checkDuration(C, 'syncPeriod', options.syncPeriod, { positive: true }, 15_000);
    const { up, down } = resolveBehavior(options.behavior, C, this.tolerance);
    this.scaleUp = up;
    this.scaleDown = down;
  }

  get reason(): string {
    return this.why;
  }

  decide(input: ScalingInput): number {
    const { now, replicas: current } = input;
    // recordInitialRecommendation: the first reconciliation remembers the count it found.
    if (this.recommendations.length === 0) this.recommendations.push({ at: now, replicas: current });
    let desired: number;
    if (current === 0 && this.minReplicas !== 0) {
      this.why = 'ScalingDisabled';
      return 0;
    }
    if (current > this.maxReplicas) {
      this.why = 'AboveMaxReplicas';
      desired = this.maxReplicas;
    } else if (current < this.minReplicas) {
      this.why = 'BelowMinReplicas';
      desired = this.minReplicas;
    } else {
      const proposed = this.replicaCount(current, input.pods, input.metric);
      if (proposed === undefined) {
        this.why = 'FailedGetMetrics';
        return current;
      }
      desired = this.normalize(current, proposed, now);
    }
    if (desired !== current) this.storeScaleEvent(current, desired, now);
    return desired;
  }

  observe(now: number, from: number, to: number): void {
    if (this.recommendations.length === 0) this.recommendations.push({ at: now, replicas: from });
    this.recommendations.push({ at: now, replicas: to });
    if (to !== from) this.storeScaleEvent(from, to, now);
  }

  /** `replica_calculator.go`: the replica count the metric asks for; undefined when no pod has a metric. */
  private replicaCount(current: number, pods: readonly PodSample[], metric: MetricKind): number | undefined {
    let ready = 0;
    let unready = 0;
    let missing = 0;
    let sum = 0;
    for (const pod of pods) {
      if (pod.state === 'ready') {
        ready++;
        sum += pod.value;
      } else if (pod.state === 'unready') unready++;
      else missing++;
    }
    if (ready === 0) return undefined;
    const usageRatio = this.ratio(sum, ready, metric);
    const scaleUpWithUnready = unready > 0 && usageRatio > 1;
    if (!scaleUpWithUnready && missing === 0) {
      if (this.within(usageRatio)) return current;
      return Math.ceil(usageRatio * ready);
    }
    let n = ready;
    if (missing > 0) {
      if (usageRatio < 1) {
        sum += missing * (metric === 'utilization' ? Math.max(100, this.target) : this.target);
        n += missing;
      } else if (usageRatio > 1) n += missing;
    }
    if (scaleUpWithUnready) n += unready;
    const newRatio = this.ratio(sum, n, metric);
    if (this.within(newRatio) || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1))
      return current;
    const replicas = Math.ceil(newRatio * n);
    if ((newRatio < 1 && replicas > current) || (newRatio > 1 && replicas < current)) return current;
    return replicas;
  }

  /**
   * The usage ratio of `n` pods summing to `sum`: a utilisation truncated to a whole percent
   * (`GetResourceUtilizationRatio`), a value to milli-units (`GetMetricUsageRatio`).
   */
  private ratio(sum: number, n: number, metric: MetricKind): number {
    if (metric === 'utilization') return Math.floor(sum / n + 1e-9) / this.target;
    return Math.floor((sum / n) * 1000 + 1e-9) / Math.round(this.target * 1000);
  }

  /** Tolerances.isWithin: (1 - down) <= ratio <= (1 + up). */
  private within(ratio: number): boolean {
    return 1 - this.scaleDown.tolerance <= ratio && ratio <= 1 + this.scaleUp.tolerance;
  }

  /** normalizeDesiredReplicasWithBehaviors: stabilization, then rate limits and bounds. */
  private normalize(current: number, proposed: number, now: number): number {
    const stabilized = this.stabilize(current, proposed, now);
    let desired = stabilized;
    let why =
      stabilized === proposed
        ? 'DesiredWithinRange'
        : proposed >= current
          ? 'ScaleUpStabilized'
          : 'ScaleDownStabilized';
    if (stabilized > current) {
      let limit = scaleUpLimit(current, this.upEvents, this.scaleUp, now);
      if (limit < current) limit = current;
      const max = Math.min(this.maxReplicas, limit);
      if (stabilized > max) {
        desired = max;
        why = max === limit && limit < this.maxReplicas ? 'ScaleUpLimit' : 'TooManyReplicas';
      }
    } else if (stabilized < current) {
      let limit = scaleDownLimit(current, this.downEvents, this.scaleDown, now);
      if (limit > current) limit = current;
      const min = Math.max(this.minReplicas, limit);
      if (stabilized < min) {
        desired = min;
        why = min === limit && limit > this.minReplicas ? 'ScaleDownLimit' : 'TooFewReplicas';
      }
    }
    this.why = why;
    return desired;
  }

  /**
   * stabilizeRecommendationWithBehaviors: the current count, raised to the lowest recommendation of the
   * scale-up window and lowered to the highest of the scale-down window; then `proposed` is remembered.
   */
  private stabilize(current: number, proposed: number, now: number): number {
    const upCutoff = now - this.scaleUp.stabilizationMs;
    const downCutoff = now - this.scaleDown.stabilizationMs;
    let up = proposed;
    let down = proposed;
    const kept: Recommendation[] = [];
    for (const rec of this.recommendations) {
      if (rec.at > upCutoff && rec.replicas < up) up = rec.replicas;
      if (rec.at > downCutoff && rec.replicas > down) down = rec.replicas;
      // Older than both windows: never read again (Kubernetes reuses the slot).
      if (rec.at > upCutoff || rec.at > downCutoff) kept.push(rec);
    }
    kept.push({ at: now, replicas: proposed });
    this.recommendations = kept;
    let recommendation = current;
    if (recommendation < up) recommendation = up;
    if (recommendation > down) recommendation = down;
    return recommendation;
  }

  /** storeScaleEvent: remember the change for the rate limits; drop events older than every period. */
  private storeScaleEvent(from: number, to: number, now: number): void {
    if (to > from) {
      this.upEvents = this.upEvents.filter((e) => e.at > now - this.scaleUp.longestPeriodMs);
      this.upEvents.push({ at: now, change: to - from });
    } else {
      this.downEvents = this.downEvents.filter((e) => e.at > now - this.scaleDown.longestPeriodMs);
      this.downEvents.push({ at: now, change: from - to });
    }
  }
}
