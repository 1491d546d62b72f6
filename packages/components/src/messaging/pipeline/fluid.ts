import { invalidOption, isObject } from '@dsim/core';

/**
 * One stage as the fluid model sees it: how many workers and their mean service time.
 *
 * @example
 * ```ts
 * const stage: FluidStage = { workers: 2, meanServiceMs: 8 }; // capacity 250 per second
 * ```
 */
export interface FluidStage {
  /** Workers, >= 1. */
  readonly workers: number;
  /** Mean service time of one item (ms), > 0. */
  readonly meanServiceMs: number;
}

/**
 * What the fluid model of a pipeline predicts for a constant arrival rate λ: item flow is a liquid, each
 * stage a pipe of capacity μ_i = workers / mean service time. Exact for the long-run rates of any
 * stable pipeline; queues of stages below capacity (the stochastic part) are left out.
 *
 * @example
 * ```ts
 * const f: BackpressureFluidModel = backpressureFluid(150, [{ workers: 1, meanServiceMs: 2 }, { workers: 1, meanServiceMs: 10 }]);
 * f.throughput; // 100
 * ```
 */
export interface BackpressureFluidModel {
  /** Capacity of each stage, items per second. */
  readonly capacities: readonly number[];
  /** Index of the first stage with the smallest capacity. */
  readonly bottleneck: number;
  /** min(λ, μ_bottleneck): the completion rate in every variant. */
  readonly throughput: number;
  /**
   * With unbounded buffers: how fast each buffer grows (items per second), r_{i−1} − r_i with r_i =
   * min(λ, μ_0..μ_i). All the excess λ − μ_bottleneck piles up in front of the first stage too slow for
   * its inflow.
   */
  readonly growthPerSecond: readonly number[];
  /** Total growth of the items buffered with unbounded buffers: max(0, λ − μ_bottleneck). */
  readonly totalGrowthPerSecond: number;
  /**
   * Share of items lost (dropped with `drop-*` buffers, or rejected at a `block`/`credit` edge by an
   * open-loop source): max(0, 1 − μ_bottleneck / λ).
   */
  readonly lossShare: number;
}

/**
 * The fluid model of a pipeline fed at `lambda` items per second (see {@link BackpressureFluidModel}).
 *
 * @param lambda - arrival rate, items per second (> 0)
 * @param stages - the stages in order
 * @example
 * ```ts
 * const f = backpressureFluid(150, [
 *   { workers: 1, meanServiceMs: 2 },
 *   { workers: 2, meanServiceMs: 10 },
 *   { workers: 1, meanServiceMs: 10 },
 * ]);
 * f.bottleneck;           // 2
 * f.totalGrowthPerSecond; // 50: unbounded buffers grow by 50 items a second
 * f.lossShare;            // 1/3: what drop and reject lose
 * ```
 */
export function backpressureFluid(lambda: number, stages: readonly FluidStage[]): BackpressureFluidModel {
  const C = 'backpressureFluid';
  if (!(typeof lambda === 'number' && lambda > 0 && Number.isFinite(lambda)))
    throw invalidOption(C, 'lambda', lambda, 'a finite number > 0 (items per second)');
  if (!Array.isArray(stages) || stages.length === 0)
    throw invalidOption(C, 'stages', stages, 'a non-empty array of { workers, meanServiceMs }');
  const capacities = stages.map((s: unknown, i) => {
    const ok =
      isObject(s) &&
      typeof s.workers === 'number' &&
      s.workers >= 1 &&
      typeof s.meanServiceMs === 'number' &&
      s.meanServiceMs > 0 &&
      Number.isFinite(s.meanServiceMs);
    if (!ok) throw invalidOption(C, `stages[${i}]`, s, 'an object { workers >= 1, meanServiceMs > 0 }');
    const stage = s as unknown as FluidStage;
    return (stage.workers * 1000) / stage.meanServiceMs;
  });
  let bottleneck = 0;
  for (let i = 1; i < capacities.length; i++) if (capacities[i]! < capacities[bottleneck]!) bottleneck = i;
  const growthPerSecond: number[] = [];
  let inflow = lambda;
  for (const mu of capacities) {
    const out = Math.min(inflow, mu);
    growthPerSecond.push(inflow - out);
    inflow = out;
  }
  const mu = capacities[bottleneck]!;
  return {
    capacities,
    bottleneck,
    throughput: Math.min(lambda, mu),
    growthPerSecond,
    totalGrowthPerSecond: Math.max(0, lambda - mu),
    lossShare: Math.max(0, 1 - mu / lambda),
  };
}
