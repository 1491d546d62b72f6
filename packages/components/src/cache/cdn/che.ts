import { invalidArgument } from '@dsim/core';
import { cheHitRatio } from '../theory.js';

/**
 * The Che approximation of an LRU cache under the independent reference model, from {@link cheLru}.
 *
 * @example
 * ```ts
 * const { hitRatio, characteristicTime } = cheLru(rates, 1000);
 * ```
 */
export interface CheEstimate {
  /**
   * The characteristic time T_C, in the reciprocal unit of the rates (requests when they are
   * probabilities, seconds when they are per second): an object stays about T_C after its last request.
   * Infinity when every object fits.
   */
  readonly characteristicTime: number;
  /** Overall hit ratio: Σ λ_i h_i / Σ λ_i. */
  readonly hitRatio: number;
  /** Per-object hit probability h_i = 1 − e^(−λ_i T_C), in the order of the rates. */
  readonly hitProbabilities: Float64Array;
  /** Per-object miss rate λ_i (1 − h_i): the stream the next tier up sees (Che et al.'s hierarchy model). */
  readonly missRates: Float64Array;
}

/**
 * Che's approximation of the hit ratio of an LRU cache of `capacity` objects fed independent requests at
 * rates `rates` (Che, Tung and Wang, IEEE JSAC 20(7), 2002; why it is accurate: Fricker, Robert and
 * Roberts, ITC 2012). T_C solves Σ_i (1 − e^(−λ_i T_C)) = C (found by bisection); object i hits with
 * probability h_i = 1 − e^(−λ_i T_C).
 *
 * For a hierarchy (an edge in front of a shield), Che et al. feed the next tier the miss rates
 * λ_i (1 − h_i) of the tiers below, summed: the miss stream is not exactly independent, so this is an
 * approximation for the upper tier.
 *
 * @example
 * ```ts
 * const keys = createKeys({ kind: 'zipf', count: 1000, s: 0.8 });
 * const p = Array.from({ length: 1000 }, (_, i) => keys.probability(i));
 * cheLru(p, 100).hitRatio; // 0.3778 (T_C ≈ 134 requests)
 * ```
 */
export function cheLru(rates: ArrayLike<number>, capacity: number): CheEstimate {
  if (rates === null || typeof rates !== 'object' || typeof rates.length !== 'number')
    throw invalidArgument('cheLru: rates', rates, 'an array of request rates >= 0');
  if (typeof capacity !== 'number' || !(capacity > 0))
    throw invalidArgument('cheLru: capacity', capacity, 'a number of objects > 0');
  const n = rates.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const r = rates[i]!;
    if (!(typeof r === 'number' && Number.isFinite(r) && r >= 0))
      throw invalidArgument(`cheLru: rates[${i}]`, r, 'a finite rate >= 0');
    total += r;
  }
  const h = new Float64Array(n);
  const miss = new Float64Array(n);
  if (total === 0) return { characteristicTime: 0, hitRatio: 0, hitProbabilities: h, missRates: miss };
  // The same model as the cache package's theory, on rates rather than probabilities: T in requests
  // becomes T in the rates' time unit when divided by the total rate.
  const estimate = cheHitRatio(rates, capacity, { perObject: true });
  const perObject = estimate.perObject!;
  for (let i = 0; i < n; i++) {
    h[i] = perObject[i]!;
    miss[i] = rates[i]! * (1 - h[i]!);
  }
  const t = estimate.characteristicTime;
  return {
    characteristicTime: t === Infinity ? Infinity : t / total,
    hitRatio: estimate.hitRatio,
    hitProbabilities: h,
    missRates: miss,
  };
}
