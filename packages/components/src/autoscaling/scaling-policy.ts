/**
 * How a replica stands at one evaluation of a {@link ScalingPolicy}, in the Kubernetes replica
 * calculator's terms:
 *
 * - `ready`: serving, with a metric over the last window (`value`);
 * - `unready`: still starting (the pod is Pending), or, for a utilisation metric, ready for less than one
 *   metric window within its CPU initialisation period: no usable metric yet;
 * - `missing`: counted as a replica but reports no metric (its node crashed).
 *
 * @example
 * ```ts
 * const state: PodState = 'ready';
 * ```
 */
export type PodState = 'ready' | 'unready' | 'missing';

/**
 * What a metric measures, which decides how a policy reads it: `utilization` is a percentage of the
 * replica's capacity (busy workers over workers, as CPU usage over the CPU request), the others are plain
 * values per replica (requests per second, or a custom function's unit).
 *
 * @example
 * ```ts
 * const kind: MetricKind = 'utilization';
 * ```
 */
export type MetricKind = 'utilization' | 'rps' | 'custom';

/**
 * One replica as a policy sees it at an evaluation.
 *
 * @example
 * ```ts
 * const pod: PodSample = { state: 'ready', value: 72.5 }; // 72.5% busy over the last window
 * ```
 */
export interface PodSample {
  /** Ready with a metric, unready, or missing its metric. */
  readonly state: PodState;
  /** The replica's metric over the last window, in the metric's unit; NaN unless `state` is `ready`. */
  readonly value: number;
}

/**
 * Everything a {@link ScalingPolicy} is told at one evaluation.
 *
 * @example
 * ```ts
 * const input: ScalingInput = {
 *   now: 30_000,
 *   replicas: 2,
 *   metric: 'utilization',
 *   pods: [{ state: 'ready', value: 90 }, { state: 'ready', value: 70 }],
 * };
 * ```
 */
export interface ScalingInput {
  /** Simulated time of the evaluation, ms. */
  readonly now: number;
  /** The replica count currently asked for (the spec), ready or not. */
  readonly replicas: number;
  /** What the pods' values measure. */
  readonly metric: MetricKind;
  /** One sample per replica counted in `replicas` (replicas being removed are not listed). */
  readonly pods: readonly PodSample[];
}

/**
 * A replica-count policy: the reactive Kubernetes HPA ({@link HpaPolicy}), AWS step scaling
 * ({@link StepScalingPolicy}) or a schedule ({@link ScheduledScalingPolicy}). An {@link Autoscaler} calls
 * `decide` every `periodMs` and sets the replica count to what it returns; a policy keeps whatever
 * history it needs (recommendations, scale events, cooldowns) and assumes its answer was applied.
 *
 * @example
 * ```ts
 * const fixed: ScalingPolicy = {
 *   kind: 'fixed',
 *   periodMs: 15_000,
 *   minReplicas: 3,
 *   maxReplicas: 3,
 *   reason: 'fixed',
 *   decide: () => 3,
 * };
 * ```
 */
export interface ScalingPolicy {
  /** What kind of policy it is, e.g. `hpa`. */
  readonly kind: string;
  /** Time between two evaluations, ms (> 0). */
  readonly periodMs: number;
  /** Fewest replicas it ever asks for. */
  readonly minReplicas: number;
  /** Most replicas it ever asks for. */
  readonly maxReplicas: number;
  /** Why the last `decide` answered what it did (e.g. `ScaleDownStabilized`), for traces and tests. */
  readonly reason: string;
  /** The replica count wanted now: an integer >= 0. */
  decide(input: ScalingInput): number;
  /**
   * Told when the replica count was changed outside the policy at `now` (an activator waking a pool
   * from zero): the policy takes it as its own recommendation, so it does not undo it at once.
   */
  observe?(now: number, from: number, to: number): void;
}
