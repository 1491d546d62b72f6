import {
  checkDuration,
  checkEnum,
  checkNumber,
  checkObject,
  checkOptions,
  type Duration,
  invalidOption,
  nested,
  type OptionOwner,
  optionKeys,
} from '@dsim/core';

/**
 * One scaling policy of an HPA's `behavior` (Kubernetes `HPAScalingPolicy`): at most `value` pods
 * (`Pods`) or `value` percent of the replicas at the start of the period (`Percent`) may be added (or
 * removed) within any `period`.
 *
 * @example
 * ```ts
 * const policy: HpaRatePolicy = { type: 'Percent', value: 100, period: '15s' };
 * ```
 */
export interface HpaRatePolicy {
  /** `Pods`: a number of replicas; `Percent`: a share of the replicas at the start of the period. */
  type: 'Pods' | 'Percent';
  /** The amount, an integer > 0 (Kubernetes validation). */
  value: number;
  /** Kubernetes `periodSeconds`: the window the amount applies to, a duration in (0, 1800 s]. */
  period: Duration;
}

/**
 * The rules for one direction of an HPA (Kubernetes `HPAScalingRules`). Left-out fields take the
 * Kubernetes defaults for that direction (see {@link HpaBehavior}).
 *
 * @example
 * ```ts
 * const scaleDown: HpaScalingRules = { stabilizationWindow: '60s', policies: [{ type: 'Pods', value: 1, period: '30s' }] };
 * ```
 */
export interface HpaScalingRules {
  /**
   * Kubernetes `stabilizationWindowSeconds`: the recommendations of this window are considered (the
   * highest one when scaling down, the lowest one when scaling up). A duration in [0, 3600 s].
   * @default 0 for scale-up, 300 s for scale-down
   */
  stabilizationWindow?: Duration;
  /**
   * Which policy wins when several apply: `Max` (the largest change), `Min` (the smallest), or
   * `Disabled` (no scaling in this direction).
   * @default 'Max'
   */
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  /**
   * The rate limits, at least one.
   * @default scale-up: 4 Pods and 100 Percent per 15 s; scale-down: 100 Percent per 15 s
   */
  policies?: readonly HpaRatePolicy[];
  /**
   * This direction's tolerance (Kubernetes 1.33 `behavior.scale{Up,Down}.tolerance`): no scaling while
   * the usage ratio is within it. A number >= 0.
   * @default the HPA's `tolerance`
   */
  tolerance?: number;
}

/**
 * Kubernetes `HorizontalPodAutoscalerBehavior`. The defaults are the API server's
 * (`pkg/apis/autoscaling/v2/defaults.go`) and the controller's `--horizontal-pod-autoscaler-downscale-stabilization`
 * (5 minutes), as the Kubernetes docs list them under "Default Behavior":
 *
 * - scale-up: no stabilization, `selectPolicy: Max` of 4 Pods and 100 Percent per 15 s (at least doubling
 *   or adding 4, whichever is more, every 15 s);
 * - scale-down: 300 s stabilization, 100 Percent per 15 s (down to the recommendation in one step).
 *
 * @example
 * ```ts
 * const behavior: HpaBehavior = { scaleDown: { stabilizationWindow: 0 } }; // flap-prone
 * ```
 */
export interface HpaBehavior {
  /** Rules for adding replicas. */
  scaleUp?: HpaScalingRules;
  /** Rules for removing replicas. */
  scaleDown?: HpaScalingRules;
}

/**
 * {@link HpaRatePolicy} with its period in ms.
 *
 * @example
 * ```ts
 * const p: ResolvedRatePolicy = { type: 'Pods', value: 4, periodMs: 15_000 };
 * ```
 */
export interface ResolvedRatePolicy {
  readonly type: 'Pods' | 'Percent';
  readonly value: number;
  readonly periodMs: number;
}

/**
 * {@link HpaScalingRules}, checked, with its defaults applied.
 *
 * @example
 * ```ts
 * const up: ResolvedScalingRules = resolveScalingRules(undefined, 'up', 0.1);
 * up.policies.length; // 2
 * ```
 */
export interface ResolvedScalingRules {
  readonly stabilizationMs: number;
  readonly selectPolicy: 'Max' | 'Min' | 'Disabled';
  readonly policies: readonly ResolvedRatePolicy[];
  readonly tolerance: number;
  /** The longest policy period, ms: scale events older than this no longer matter. */
  readonly longestPeriodMs: number;
}

const RULES_KEYS = optionKeys<HpaScalingRules>()({
  stabilizationWindow: true,
  selectPolicy: true,
  policies: true,
  tolerance: true,
});
const POLICY_KEYS = optionKeys<HpaRatePolicy>()({ type: true, value: true, period: true });
const BEHAVIOR_KEYS = optionKeys<HpaBehavior>()({ scaleUp: true, scaleDown: true });

/** Kubernetes validation: a stabilization window of at most one hour. */
const MAX_WINDOW_MS = 3_600_000;
/** Kubernetes validation: a policy period of at most 30 minutes. */
const MAX_PERIOD_MS = 1_800_000;

const DEFAULT_UP_POLICIES: readonly ResolvedRatePolicy[] = Object.freeze([
  { type: 'Pods', value: 4, periodMs: 15_000 },
  { type: 'Percent', value: 100, periodMs: 15_000 },
]);
const DEFAULT_DOWN_POLICIES: readonly ResolvedRatePolicy[] = Object.freeze([
  { type: 'Percent', value: 100, periodMs: 15_000 },
]);

/**
 * Checks `behavior` at `where` and returns both directions' resolved rules.
 *
 * @param tolerance - the HPA's tolerance, each direction's default
 * @example
 * ```ts
 * const { up, down } = resolveBehavior({ scaleDown: { stabilizationWindow: 0 } }, 'HpaPolicy', 0.1);
 * down.stabilizationMs; // 0
 * up.stabilizationMs;   // 0
 * ```
 */
export function resolveBehavior(
  behavior: HpaBehavior | undefined,
  where: OptionOwner,
  tolerance: number,
): { up: ResolvedScalingRules; down: ResolvedScalingRules } {
  if (behavior !== undefined) {
    checkObject(where, 'behavior', behavior, 'an object { scaleUp?, scaleDown? }');
    checkOptions(componentOf(where), behavior, BEHAVIOR_KEYS, 'behavior');
  }
  const at = nested(where, 'behavior');
  return {
    up: resolveScalingRules(behavior?.scaleUp, 'up', tolerance, nested(at, 'scaleUp')),
    down: resolveScalingRules(behavior?.scaleDown, 'down', tolerance, nested(at, 'scaleDown')),
  };
}

/**
 * Checks one direction's rules and applies the Kubernetes defaults for `direction`.
 *
 * @param where - who configures it @default 'HpaPolicy'
 * @example
 * ```ts
 * resolveScalingRules({ selectPolicy: 'Disabled' }, 'down', 0.1).selectPolicy; // 'Disabled'
 * ```
 */
export function resolveScalingRules(
  rules: HpaScalingRules | undefined,
  direction: 'up' | 'down',
  tolerance: number,
  where: OptionOwner = 'HpaPolicy',
): ResolvedScalingRules {
  const fallbackPolicies = direction === 'up' ? DEFAULT_UP_POLICIES : DEFAULT_DOWN_POLICIES;
  const fallbackWindow = direction === 'up' ? 0 : 300_000;
  if (rules === undefined)
    return {
      stabilizationMs: fallbackWindow,
      selectPolicy: 'Max',
      policies: fallbackPolicies,
      tolerance,
      longestPeriodMs: longest(fallbackPolicies),
    };
  const path = typeof where === 'string' ? '' : where.path;
  checkObject(componentOf(where), path === '' ? 'rules' : path, rules, 'an object of scaling rules');
  checkOptions(componentOf(where), rules, RULES_KEYS, path);
  const stabilizationMs = checkDuration(
    where,
    'stabilizationWindow',
    rules.stabilizationWindow,
    { max: MAX_WINDOW_MS },
    fallbackWindow,
  );
  const selectPolicy = checkEnum(
    where,
    'selectPolicy',
    rules.selectPolicy,
    ['Max', 'Min', 'Disabled'],
    'Max',
  );
  let policies = fallbackPolicies;
  if (rules.policies !== undefined) {
    if (!Array.isArray(rules.policies) || rules.policies.length === 0)
      throw invalidOption(where, 'policies', rules.policies, 'a non-empty array of { type, value, period }');
    policies = rules.policies.map((p, i) => resolveRatePolicy(p, nested(where, `policies[${i}]`)));
  }
  return {
    stabilizationMs,
    selectPolicy,
    policies,
    tolerance: checkNumber(where, 'tolerance', rules.tolerance, { min: 0 }, tolerance),
    longestPeriodMs: longest(policies),
  };
}

function resolveRatePolicy(policy: unknown, where: OptionOwner): ResolvedRatePolicy {
  const path = typeof where === 'string' ? '' : where.path;
  checkObject(componentOf(where), path, policy, "an object { type: 'Pods' | 'Percent', value, period }");
  checkOptions(componentOf(where), policy, POLICY_KEYS, path);
  const p = policy as HpaRatePolicy;
  return {
    type: checkEnum(where, 'type', p.type, ['Pods', 'Percent']),
    value: checkNumber(where, 'value', p.value, { integer: true, above: 0 }),
    periodMs: checkDuration(where, 'period', p.period, { positive: true, max: MAX_PERIOD_MS }),
  };
}

function longest(policies: readonly ResolvedRatePolicy[]): number {
  let most = 0;
  for (const p of policies) if (p.periodMs > most) most = p.periodMs;
  return most;
}

function componentOf(where: OptionOwner): string {
  return typeof where === 'string' ? where : where.component;
}

/**
 * A past change of the replica count: `change` replicas added (or removed) at `at`.
 *
 * @example
 * ```ts
 * const e: ScaleEvent = { at: 15_000, change: 4 };
 * ```
 */
export interface ScaleEvent {
  readonly at: number;
  readonly change: number;
}

/** Replicas changed in the `periodMs` before `now` (events strictly after `now - periodMs`, as Kubernetes). */
function changeInPeriod(events: readonly ScaleEvent[], periodMs: number, now: number): number {
  const cutoff = now - periodMs;
  let sum = 0;
  for (const e of events) if (e.at > cutoff) sum += e.change;
  return sum;
}

/**
 * The most replicas the scale-up rules allow now (Kubernetes `calculateScaleUpLimitWithScalingRules`):
 * per policy, the replicas at the start of its period plus `value` pods, or times `1 + value / 100`
 * rounded up; `Max` takes the largest, `Min` the smallest; `Disabled` allows no scale-up.
 *
 * @param events - the scale-up events so far (replicas added, with their times)
 * @example
 * ```ts
 * const up = resolveScalingRules(undefined, 'up', 0.1);
 * scaleUpLimit(3, [], up, 0);  // 7: max(3 + 4, 3 × 2)
 * scaleUpLimit(10, [], up, 0); // 20
 * ```
 */
export function scaleUpLimit(
  current: number,
  events: readonly ScaleEvent[],
  rules: ResolvedScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMax = rules.selectPolicy === 'Max';
  let result = pickMax ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(events, p.periodMs, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pickMax ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/**
 * The fewest replicas the scale-down rules allow now (Kubernetes `calculateScaleDownLimitWithBehaviors`):
 * per policy, the replicas at the start of its period minus `value` pods, or times `1 - value / 100`
 * truncated; `Max` (the largest change) takes the smallest, `Min` the largest; `Disabled` allows no
 * scale-down.
 *
 * @param events - the scale-down events so far (replicas removed, with their times)
 * @example
 * ```ts
 * const down = resolveScalingRules(undefined, 'down', 0.1);
 * scaleDownLimit(10, [], down, 0); // 0: 100% may go at once
 * ```
 */
export function scaleDownLimit(
  current: number,
  events: readonly ScaleEvent[],
  rules: ResolvedScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMax = rules.selectPolicy === 'Max';
  let result = pickMax ? Infinity : -Infinity;
  for (const p of rules.policies) {
    const start = current + changeInPeriod(events, p.periodMs, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pickMax ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}
