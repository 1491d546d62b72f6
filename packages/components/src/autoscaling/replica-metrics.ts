import { checkDuration, checkFunction, checkKindOf, type Duration, owner } from '@dsim/core';
import type { Replica } from './replica-pool.js';
import type { MetricKind } from './scaling-policy.js';

/**
 * Average utilisation of a replica over the window, in percent: its busy workers over its workers, time
 * averaged (CPU usage over the CPU request). A worker held by a downstream call counts as busy, as the
 * thread-per-request {@link Service} holds it.
 *
 * @example
 * ```ts
 * const metric: UtilizationMetric = { kind: 'utilization', initializationPeriod: '5m' };
 * ```
 */
export interface UtilizationMetric {
  kind: 'utilization';
  /**
   * `--horizontal-pod-autoscaler-cpu-initialization-period`: within this time of its creation, a replica
   * that became ready less than one window ago has no usable sample yet (its window mixes start-up time
   * in) and counts as unready. A duration.
   * @default 5 min
   */
  initializationPeriod?: Duration;
}

/**
 * Requests per second that arrived at a replica over the window (a per-pod custom metric such as
 * `http_requests_per_second`).
 *
 * @example
 * ```ts
 * const metric: RpsMetric = { kind: 'rps' };
 * ```
 */
export interface RpsMetric {
  kind: 'rps';
}

/**
 * A per-replica metric computed by `value(replica, from, to)` over the window [from, to) (ms); it
 * returns a finite number, or undefined when the replica has no metric (it then counts as missing).
 *
 * @example
 * ```ts
 * const metric: CustomMetric = { kind: 'custom', value: (r) => r.service.queueLength };
 * ```
 */
export interface CustomMetric {
  kind: 'custom';
  value: (replica: Replica, from: number, to: number) => number | undefined;
}

/**
 * What an {@link Autoscaler} measures on each replica.
 *
 * @example
 * ```ts
 * const metric: ReplicaMetricSpec = { kind: 'rps' };
 * ```
 */
export type ReplicaMetricSpec = UtilizationMetric | RpsMetric | CustomMetric;

/**
 * A {@link ReplicaMetricSpec}, checked.
 *
 * @example
 * ```ts
 * const m: ResolvedReplicaMetric = { kind: 'rps', initializationMs: 0, value: undefined };
 * ```
 */
export interface ResolvedReplicaMetric {
  readonly kind: MetricKind;
  /** Utilisation only: the CPU initialisation period, ms (0 for the others). */
  readonly initializationMs: number;
  readonly value: CustomMetric['value'] | undefined;
}

const KINDS = {
  utilization: ['kind', 'initializationPeriod'],
  rps: ['kind'],
  custom: ['kind', 'value'],
} as const;

/**
 * Checks a metric spec at `Autoscaler: metric`.
 *
 * @example
 * ```ts
 * resolveReplicaMetric({ kind: 'utilization' }).initializationMs; // 300000
 * ```
 */
export function resolveReplicaMetric(spec: ReplicaMetricSpec): ResolvedReplicaMetric {
  const where = owner('Autoscaler', 'metric');
  const kind = checkKindOf(where, spec, KINDS);
  if (kind === 'custom') {
    const value = checkFunction<CustomMetric['value']>(
      where,
      'value',
      (spec as CustomMetric).value,
      '(replica, from, to) => number | undefined',
    );
    return { kind, initializationMs: 0, value };
  }
  const initializationMs =
    kind === 'utilization'
      ? checkDuration(
          where,
          'initializationPeriod',
          (spec as UtilizationMetric).initializationPeriod,
          {},
          300_000,
        )
      : 0;
  return { kind, initializationMs, value: undefined };
}
