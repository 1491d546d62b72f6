import { checkBoolean, invalidArgument, optionKeys, owner, requireOptions } from '@dsim/core';

/**
 * Analytic hit ratios of a cache of `capacity` objects under the independent reference model (IRM): each
 * request is for object i with probability p_i, independently of the past. They
 * are the yardsticks the simulated policies are tested against.
 */

/**
 * A model's hit ratio, and optionally each object's.
 *
 * @example
 * ```ts
 * const { hitRatio } = lfuHitRatio(zipfProbabilities(1000, 0.8), 100); // 0.5258
 * ```
 */
export interface HitRatioEstimate {
  /** Σ p_i h_i: the fraction of requests that hit. */
  readonly hitRatio: number;
  /** h_i, the hit probability of each object (in input order), when asked for. */
  readonly perObject?: readonly number[];
}

/**
 * A characteristic-time model's result ({@link cheHitRatio}, {@link fifoHitRatio}).
 *
 * @example
 * ```ts
 * const { characteristicTime } = cheHitRatio(zipfProbabilities(1000, 0.8), 100); // ≈ 134 requests
 * ```
 */
export interface CharacteristicTimeEstimate extends HitRatioEstimate {
  /**
   * The characteristic time T, in requests (the probabilities are normalized to sum to 1). Infinity when
   * the capacity holds every object with p_i > 0; 0 when the capacity is 0.
   */
  readonly characteristicTime: number;
}

/**
 * Options of the hit-ratio models.
 *
 * @example
 * ```ts
 * const { perObject } = cheHitRatio(p, 100, { perObject: true });
 * ```
 */
export interface HitRatioOptions {
  /**
   * Also return each object's hit probability.
   * @default false
   */
  readonly perObject?: boolean;
}

/** Every key of {@link HitRatioOptions}. @internal */
export const HIT_RATIO_KEYS = optionKeys<HitRatioOptions>()({ perObject: true });

/** Validates {@link HitRatioOptions}; returns whether per-object hit probabilities are wanted. */
function perObjectOf(model: string, options: HitRatioOptions): boolean {
  const where = owner(model);
  requireOptions(where, options, HIT_RATIO_KEYS);
  return checkBoolean(where, 'perObject', options.perObject, false);
}

/**
 * Zipf popularity: p_i ∝ i^−α for i = 1..n, normalized to sum to 1 (index 0 is the most popular object).
 *
 * @param n - the number of objects, an integer >= 1
 * @param alpha - the exponent α, a finite number >= 0 (0: uniform)
 * @example
 * ```ts
 * const p = zipfProbabilities(1000, 0.8); // p[0] ≈ 0.0255
 * ```
 */
export function zipfProbabilities(n: number, alpha: number): number[] {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > 100_000_000) {
    throw invalidArgument('zipfProbabilities.n', n, 'an integer in [1, 1e8]');
  }
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
    throw invalidArgument('zipfProbabilities.alpha', alpha, 'a finite number >= 0');
  }
  const p = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = (i + 1) ** -alpha;
    p[i] = w;
    total += w;
  }
  for (let i = 0; i < n; i++) p[i] = p[i]! / total;
  return p;
}

/**
 * Che's approximation of an LRU cache (Che, Tung and Wang 2002; Fricker, Robert and Roberts 2012): the
 * characteristic time T solves Σ_i (1 − e^{−p_i T}) = C, object i hits with probability
 * h_i = 1 − e^{−p_i T}, and the hit ratio is Σ p_i h_i. Very accurate for Zipf popularity.
 *
 * @param probabilities - request probabilities (or rates: they are normalized), finite and >= 0
 * @param capacity - the cache size in objects, a finite number >= 0
 * @example
 * ```ts
 * cheHitRatio(zipfProbabilities(1000, 0.8), 100); // { hitRatio: 0.3778, characteristicTime: 134.3 }
 * ```
 */
export function cheHitRatio(
  probabilities: ArrayLike<number>,
  capacity: number,
  options: HitRatioOptions = {},
): CharacteristicTimeEstimate {
  return characteristicTimeModel('cheHitRatio', probabilities, capacity, options, cheOccupancy);
}

/**
 * The FIFO and RANDOM approximation (their IRM hit ratios are equal, Gelenbe 1973): T solves
 * Σ_i p_i T / (1 + p_i T) = C, with h_i = p_i T / (1 + p_i T) and hit ratio Σ p_i h_i (Fricker et al.;
 * Martina et al. 2014).
 *
 * @param probabilities - request probabilities (or rates: they are normalized), finite and >= 0
 * @param capacity - the cache size in objects, a finite number >= 0
 * @example
 * ```ts
 * fifoHitRatio(zipfProbabilities(1000, 0.8), 100).hitRatio; // 0.3337
 * ```
 */
export function fifoHitRatio(
  probabilities: ArrayLike<number>,
  capacity: number,
  options: HitRatioOptions = {},
): CharacteristicTimeEstimate {
  return characteristicTimeModel('fifoHitRatio', probabilities, capacity, options, fifoOccupancy);
}

/**
 * Perfect LFU under IRM keeps the C most popular objects: the hit ratio is their total probability, the
 * optimum for a policy that does not know the future. A fractional capacity counts that fraction of the
 * next object.
 *
 * @param probabilities - request probabilities (or rates: they are normalized), finite and >= 0
 * @param capacity - the cache size in objects, a finite number >= 0
 * @example
 * ```ts
 * lfuHitRatio(zipfProbabilities(1000, 0.8), 100).hitRatio; // 0.5258
 * ```
 */
export function lfuHitRatio(
  probabilities: ArrayLike<number>,
  capacity: number,
  options: HitRatioOptions = {},
): HitRatioEstimate {
  const perObject = perObjectOf('lfuHitRatio', options);
  const p = normalized('lfuHitRatio', probabilities, capacity);
  const n = p.length;
  const order = Array.from({ length: n }, (_, i) => i);
  // Most popular first; equal probabilities by index, so the result does not depend on the sort.
  order.sort((a, b) => p[b]! - p[a]! || a - b);
  const h = perObject ? new Array<number>(n).fill(0) : undefined;
  let hitRatio = 0;
  let room = capacity;
  for (let r = 0; r < n && room > 0; r++) {
    const i = order[r]!;
    const share = Math.min(1, room);
    hitRatio += share * p[i]!;
    if (h !== undefined) h[i] = share;
    room -= share;
  }
  hitRatio = Math.min(1, hitRatio);
  return h === undefined ? { hitRatio } : { hitRatio, perObject: h };
}

/** The probability that an object of probability p is cached, given the characteristic time t. */
interface Occupancy {
  value(p: number, t: number): number;
  /** d value / dt. */
  slope(p: number, t: number): number;
}

/** Che (LRU): 1 − e^{−pt}. */
const cheOccupancy: Occupancy = {
  value: (p, t) => -Math.expm1(-p * t),
  slope: (p, t) => p * Math.exp(-p * t),
};

/** FIFO / RANDOM: pt / (1 + pt). */
const fifoOccupancy: Occupancy = {
  value: (p, t) => (p * t) / (1 + p * t),
  slope: (p, t) => p / ((1 + p * t) * (1 + p * t)),
};

function characteristicTimeModel(
  name: string,
  probabilities: ArrayLike<number>,
  capacity: number,
  options: HitRatioOptions,
  occupancy: Occupancy,
): CharacteristicTimeEstimate {
  const perObject = perObjectOf(name, options);
  const p = normalized(name, probabilities, capacity);
  let positive = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) positive++;
  let t: number;
  if (capacity === 0) t = 0;
  else if (capacity >= positive) t = Infinity;
  else t = solveCharacteristicTime(p, capacity, occupancy);
  const h = perObject ? new Array<number>(p.length) : undefined;
  let hitRatio = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    const hi = pi === 0 ? 0 : t === Infinity ? 1 : occupancy.value(pi, t);
    hitRatio += pi * hi;
    if (h !== undefined) h[i] = hi;
  }
  hitRatio = Math.min(1, hitRatio);
  return h === undefined
    ? { hitRatio, characteristicTime: t }
    : { hitRatio, characteristicTime: t, perObject: h };
}

/**
 * Solves Σ occupancy(p_i, T) = C for T, for 0 < C < (objects with p_i > 0). The sum increases with T from
 * 0 towards that count, so the root is bracketed by doubling, then found by Newton steps that fall back to
 * bisection whenever a step leaves the bracket, to full double precision.
 */
function solveCharacteristicTime(p: Float64Array, capacity: number, occupancy: Occupancy): number {
  const n = p.length;
  let lo = 0;
  let hi = capacity;
  for (;;) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += occupancy.value(p[i]!, hi);
    if (sum >= capacity) break;
    lo = hi;
    hi *= 2;
  }
  let t = lo + (hi - lo) / 2;
  for (let iteration = 0; iteration < 200; iteration++) {
    let sum = 0;
    let slope = 0;
    for (let i = 0; i < n; i++) {
      const pi = p[i]!;
      sum += occupancy.value(pi, t);
      slope += occupancy.slope(pi, t);
    }
    const excess = sum - capacity;
    if (excess === 0) return t;
    if (excess < 0) lo = t;
    else hi = t;
    let next = t - excess / slope;
    if (!(next > lo && next < hi)) next = lo + (hi - lo) / 2;
    if (Math.abs(next - t) <= 1e-15 * t || next <= lo || next >= hi) return next;
    t = next;
  }
  return t;
}

/** Validates the arguments and returns the probabilities scaled to sum to 1. */
function normalized(name: string, probabilities: ArrayLike<number>, capacity: number): Float64Array {
  if (
    typeof probabilities !== 'object' ||
    probabilities === null ||
    typeof probabilities.length !== 'number' ||
    probabilities.length === 0
  ) {
    throw invalidArgument(`${name}.probabilities`, probabilities, 'a non-empty array of numbers >= 0');
  }
  if (typeof capacity !== 'number' || !Number.isFinite(capacity) || capacity < 0) {
    throw invalidArgument(`${name}.capacity`, capacity, 'a finite number >= 0 (objects)');
  }
  const n = probabilities.length;
  const p = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = probabilities[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw invalidArgument(`${name}.probabilities[${i}]`, v, 'a finite number >= 0');
    }
    p[i] = v;
    total += v;
  }
  if (!(total > 0)) throw invalidArgument(`${name}.probabilities (their sum)`, total, 'a number > 0');
  for (let i = 0; i < n; i++) p[i] = p[i]! / total;
  return p;
}
