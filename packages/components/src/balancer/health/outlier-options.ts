import { checkDuration, checkName, checkNumber, checkOptions, type Duration, optionKeys } from '@dsim/core';

/**
 * Options of an {@link OutlierDetection}. Names and defaults are Envoy's `OutlierDetection`
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/outlier_detection.proto);
 * durations are ms or strings with a unit, percentages are numbers in [0, 100], and the stdev factor
 * is the real factor (Envoy's 1900 is 1.9 here).
 *
 * @example
 * ```ts
 * const options: OutlierDetectionOptions = { consecutive5xx: 3, baseEjectionTime: '10s', maxEjectionPercent: 50 };
 * ```
 */
export interface OutlierDetectionOptions {
  /** Consecutive 5xx answers that eject a host at once (inline). An integer >= 1. @default 5 */
  consecutive5xx?: number;
  /** Consecutive gateway failures (502/503/504, local-origin errors) that trigger detection. @default 5 */
  consecutiveGatewayFailure?: number;
  /** Period of the sweep that un-ejects hosts, decays multipliers and runs the statistical checks. @default 10 s */
  interval?: Duration;
  /** Ejection time = baseEjectionTime × the host's multiplier. @default 30 s */
  baseEjectionTime?: Duration;
  /** Cap of an ejection time; the larger of this and baseEjectionTime is used. @default 300 s */
  maxEjectionTime?: Duration;
  /** A uniform [0, jitter] added to each ejection time. @default 0 */
  maxEjectionTimeJitter?: Duration;
  /** Most hosts ejected at once, in percent of the hosts, but one host is always ejectable. @default 10 */
  maxEjectionPercent?: number;
  /** Percent chance that a consecutive-5xx detection ejects. @default 100 */
  enforcingConsecutive5xx?: number;
  /** Percent chance that a consecutive-gateway-failure detection ejects. @default 0 (detect only) */
  enforcingConsecutiveGatewayFailure?: number;
  /** Percent chance that a success-rate detection ejects. @default 100 */
  enforcingSuccessRate?: number;
  /** Hosts with enough volume needed before success-rate detection runs. An integer >= 1. @default 5 */
  successRateMinimumHosts?: number;
  /** Requests in the last interval a host needs to be part of success-rate detection. @default 100 */
  successRateRequestVolume?: number;
  /** Ejection below mean − factor × stdev of the hosts' success rates. > 0. @default 1.9 */
  successRateStdevFactor?: number;
  /** Failure percentage at or above which a host is an outlier. In [0, 100]. @default 85 */
  failurePercentageThreshold?: number;
  /** Percent chance that a failure-percentage detection ejects. @default 0 (detect only) */
  enforcingFailurePercentage?: number;
  /** Hosts with enough volume needed before failure-percentage detection runs. @default 5 */
  failurePercentageMinimumHosts?: number;
  /** Requests in the last interval a host needs to be part of failure-percentage detection. @default 50 */
  failurePercentageRequestVolume?: number;
  /** Name in trace records, metrics and the random stream. @default the node's address, else 'outlier' */
  name?: string;
}

/** @internal */
export const OUTLIER_KEYS = optionKeys<OutlierDetectionOptions>()({
  consecutive5xx: true,
  consecutiveGatewayFailure: true,
  interval: true,
  baseEjectionTime: true,
  maxEjectionTime: true,
  maxEjectionTimeJitter: true,
  maxEjectionPercent: true,
  enforcingConsecutive5xx: true,
  enforcingConsecutiveGatewayFailure: true,
  enforcingSuccessRate: true,
  successRateMinimumHosts: true,
  successRateRequestVolume: true,
  successRateStdevFactor: true,
  failurePercentageThreshold: true,
  enforcingFailurePercentage: true,
  failurePercentageMinimumHosts: true,
  failurePercentageRequestVolume: true,
  name: true,
});

/** @internal */
export type ResolvedOutlier = Required<
  Omit<OutlierDetectionOptions, 'interval' | 'baseEjectionTime' | 'maxEjectionTime' | 'maxEjectionTimeJitter'>
> & {
  readonly interval: number;
  readonly baseEjectionTime: number;
  readonly maxEjectionTime: number;
  readonly maxEjectionTimeJitter: number;
};

const C = 'OutlierDetection';

/** @internal Checks every option (construction only). */
export function resolveOutlier(options: unknown, defaultName: string): ResolvedOutlier {
  if (options === undefined) options = {};
  checkOptions(C, options, OUTLIER_KEYS);
  const o = options as OutlierDetectionOptions;
  const count = (field: keyof OutlierDetectionOptions, fallback: number): number =>
    checkNumber(C, field, o[field], { integer: true, min: 1 }, fallback);
  const volume = (field: keyof OutlierDetectionOptions, fallback: number): number =>
    checkNumber(C, field, o[field], { integer: true, min: 1 }, fallback);
  const percent = (field: keyof OutlierDetectionOptions, fallback: number): number =>
    checkNumber(C, field, o[field], { min: 0, max: 100, unit: 'percent' }, fallback);
  const base = checkDuration(C, 'baseEjectionTime', o.baseEjectionTime, { positive: true }, 30_000);
  return {
    consecutive5xx: count('consecutive5xx', 5),
    consecutiveGatewayFailure: count('consecutiveGatewayFailure', 5),
    interval: checkDuration(C, 'interval', o.interval, { positive: true }, 10_000),
    baseEjectionTime: base,
    maxEjectionTime: Math.max(
      base,
      checkDuration(C, 'maxEjectionTime', o.maxEjectionTime, { positive: true }, 300_000),
    ),
    maxEjectionTimeJitter: checkDuration(C, 'maxEjectionTimeJitter', o.maxEjectionTimeJitter, {}, 0),
    maxEjectionPercent: percent('maxEjectionPercent', 10),
    enforcingConsecutive5xx: percent('enforcingConsecutive5xx', 100),
    enforcingConsecutiveGatewayFailure: percent('enforcingConsecutiveGatewayFailure', 0),
    enforcingSuccessRate: percent('enforcingSuccessRate', 100),
    successRateMinimumHosts: count('successRateMinimumHosts', 5),
    successRateRequestVolume: volume('successRateRequestVolume', 100),
    successRateStdevFactor: checkNumber(
      C,
      'successRateStdevFactor',
      o.successRateStdevFactor,
      { above: 0 },
      1.9,
    ),
    failurePercentageThreshold: percent('failurePercentageThreshold', 85),
    enforcingFailurePercentage: percent('enforcingFailurePercentage', 0),
    failurePercentageMinimumHosts: count('failurePercentageMinimumHosts', 5),
    failurePercentageRequestVolume: volume('failurePercentageRequestVolume', 50),
    name: checkName(C, 'name', o.name, defaultName),
  };
}
