import {
  checkDuration,
  checkKindOf,
  checkNumber,
  type Duration,
  type OptionOwner,
  optionKeys,
} from '@dsim/core';

/**
 * Envoy's slow start mode
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/slow_start):
 * during `window` after a backend starts, its weight is
 * `weight * max(minWeightPercent / 100, timeFactor^(1 / aggression))` with
 * `timeFactor = max(secondsSinceStart, 1) / windowSeconds`. These are the current docs; Envoy 1.21
 * documented `(weight * timeFactor)^(1 / aggression)` instead.
 *
 * @example
 * ```ts
 * const spec: EnvoySlowStartSpec = { kind: 'envoy', window: '60s', aggression: 1, minWeightPercent: 10 };
 * ```
 */
export interface EnvoySlowStartSpec {
  kind: 'envoy';
  /** Envoy's `slow_start_window`: how long the ramp lasts. A duration > 0. */
  window: Duration;
  /**
   * Envoy's `aggression`: 1 ramps linearly, larger values ramp faster at first. A finite number > 0.
   * @default 1
   */
  aggression?: number;
  /**
   * Envoy's `min_weight_percent`: the weight never goes below this share of the configured weight. A
   * number in (0, 100].
   * @default 10
   */
  minWeightPercent?: number;
}

/**
 * HAProxy's `slowstart <time>` server option (https://docs.haproxy.org/2.8/configuration.html#5.2-slowstart):
 * the weight of a server that comes back grows linearly from 1% to 100% of its weight over `window`.
 * HAProxy recomputes it at every health check (so in steps of `inter`); here it grows continuously.
 *
 * @example
 * ```ts
 * const spec: HaproxySlowStartSpec = { kind: 'haproxy', window: '30s' };
 * ```
 */
export interface HaproxySlowStartSpec {
  kind: 'haproxy';
  /** The `slowstart` time: how long the ramp lasts. A duration > 0. */
  window: Duration;
}

/**
 * Slow start for a {@link LoadBalancer}: backends that join (`addBackend`) or come back (a health hook
 * says available again) get a reduced, growing weight for a while, so a cold backend is not flooded.
 *
 * @example
 * ```ts
 * const slowStart: SlowStartSpec = { kind: 'envoy', window: '60s' };
 * ```
 */
export type SlowStartSpec = EnvoySlowStartSpec | HaproxySlowStartSpec;

/**
 * A validated {@link SlowStartSpec}: the window in ms and the ramp's parameters.
 *
 * @example
 * ```ts
 * const s: ResolvedSlowStart = { kind: 'envoy', windowMs: 60_000, aggression: 1, minWeightPercent: 10 };
 * ```
 */
export interface ResolvedSlowStart {
  readonly kind: 'envoy' | 'haproxy';
  /** The window, ms (> 0). */
  readonly windowMs: number;
  /** Envoy's aggression (1 for HAProxy). */
  readonly aggression: number;
  /** Envoy's floor in percent (1 for HAProxy, whose ramp starts at 1%). */
  readonly minWeightPercent: number;
}

const KINDS = {
  envoy: optionKeys<EnvoySlowStartSpec>()({
    kind: true,
    window: true,
    aggression: true,
    minWeightPercent: true,
  }),
  haproxy: optionKeys<HaproxySlowStartSpec>()({ kind: true, window: true }),
};

/**
 * Checks a {@link SlowStartSpec} at `where` (its kind with "did you mean", its keys and values) and
 * applies the defaults.
 *
 * @param where - who configures it @default 'slowStart'
 * @example
 * ```ts
 * resolveSlowStart({ kind: 'envoy', window: '60s' }); // { kind: 'envoy', windowMs: 60000, aggression: 1, minWeightPercent: 10 }
 * ```
 */
export function resolveSlowStart(spec: SlowStartSpec, where: OptionOwner = 'slowStart'): ResolvedSlowStart {
  const kind = checkKindOf(where, spec, KINDS);
  const windowMs = checkDuration(where, 'window', spec.window, { positive: true });
  if (kind === 'haproxy') return { kind, windowMs, aggression: 1, minWeightPercent: 1 };
  const s = spec as EnvoySlowStartSpec;
  return {
    kind,
    windowMs,
    aggression: checkNumber(where, 'aggression', s.aggression, { above: 0 }, 1),
    minWeightPercent: checkNumber(
      where,
      'minWeightPercent',
      s.minWeightPercent,
      { above: 0, max: 100, unit: 'percent' },
      10,
    ),
  };
}

/**
 * The share of its weight a backend gets `elapsedMs` after its slow start began, in (0, 1]; 1 from the
 * end of the window on.
 *
 * - `envoy`: `max(minWeightPercent / 100, timeFactor^(1 / aggression))` with
 *   `timeFactor = max(elapsedSeconds, 1) / windowSeconds`.
 * - `haproxy`: `0.01 + 0.99 * elapsed / window` (1% to 100%, linear).
 *
 * @example
 * ```ts
 * const envoy = resolveSlowStart({ kind: 'envoy', window: '60s' });
 * slowStartFactor(envoy, 15_000); // 0.25
 * slowStartFactor(envoy, 3_000);  // 0.1 (the 10% floor)
 * ```
 */
export function slowStartFactor(spec: ResolvedSlowStart, elapsedMs: number): number {
  if (!(elapsedMs < spec.windowMs)) return 1;
  if (spec.kind === 'haproxy') return 0.01 + (0.99 * Math.max(0, elapsedMs)) / spec.windowMs;
  const timeFactor = Math.max(elapsedMs, 1000) / spec.windowMs;
  const ramp = spec.aggression === 1 ? timeFactor : timeFactor ** (1 / spec.aggression);
  return Math.min(1, Math.max(spec.minWeightPercent / 100, ramp));
}
