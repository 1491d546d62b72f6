import {
  checkDuration,
  checkNumber,
  checkObject,
  checkOptions,
  type Duration,
  type OptionOwner,
  optionKeys,
} from '@dsim/core';

/**
 * A replica's warm-up once it is ready: its service times are multiplied by `factor` at first, falling
 * linearly to 1 over `duration` (an empty cache, a JIT compiler not yet warm, connection pools still
 * filling). Pair it with the balancer's `slowStart` to ramp the share of traffic the replica gets.
 *
 * @example
 * ```ts
 * const warmup: WarmupOptions = { duration: '30s', factor: 3 }; // 3x slower when ready, nominal 30 s later
 * ```
 */
export interface WarmupOptions {
  /** How long the warm-up lasts, a duration > 0. */
  duration: Duration;
  /** The service-time multiplier when the replica becomes ready, a finite number >= 1. */
  factor: number;
}

/**
 * {@link WarmupOptions}, checked: the duration in ms.
 *
 * @example
 * ```ts
 * const w: ResolvedWarmup = { durationMs: 30_000, factor: 3 };
 * ```
 */
export interface ResolvedWarmup {
  readonly durationMs: number;
  readonly factor: number;
}

const WARMUP_KEYS = optionKeys<WarmupOptions>()({ duration: true, factor: true });

/**
 * Checks {@link WarmupOptions} at `where`.
 *
 * @example
 * ```ts
 * resolveWarmup({ duration: '30s', factor: 3 }, 'ReplicaPool'); // { durationMs: 30000, factor: 3 }
 * ```
 */
export function resolveWarmup(options: WarmupOptions, where: OptionOwner): ResolvedWarmup {
  const component = typeof where === 'string' ? where : where.component;
  checkObject(component, 'warmup', options, 'an object { duration, factor }');
  checkOptions(component, options, WARMUP_KEYS, 'warmup');
  return {
    durationMs: checkDuration(component, 'warmup.duration', options.duration, { positive: true }),
    factor: checkNumber(component, 'warmup.factor', options.factor, { min: 1 }),
  };
}

/**
 * The warm-up multiplier `sinceReadyMs` after the replica became ready: `factor` at 0, 1 from
 * `durationMs` on, linear in between.
 *
 * @example
 * ```ts
 * warmupFactor({ durationMs: 30_000, factor: 3 }, 15_000); // 2
 * ```
 */
export function warmupFactor(warmup: ResolvedWarmup, sinceReadyMs: number): number {
  if (!(sinceReadyMs < warmup.durationMs)) return 1;
  return 1 + (warmup.factor - 1) * (1 - Math.max(0, sinceReadyMs) / warmup.durationMs);
}
