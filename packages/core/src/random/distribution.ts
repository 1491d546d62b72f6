import { invalidArgument } from '../errors.js';
import { checkOptions } from '../options.js';
import type { RandomStream } from './stream.js';

/**
 * A probability distribution of numbers: service times, inter-arrival gaps, payload sizes, key ranks.
 * Sampling draws only from the {@link RandomStream} passed in, so the same stream state gives the same
 * sample, and a distribution object can be shared between streams without coupling them.
 *
 * Built-in distributions are created by factories (`exponential({ mean: 100 })`, `zipf({ n: 1000, s: 1 })`...)
 * that validate their parameters and throw a `DsimError` with code `INVALID_ARGUMENT` naming the field.
 * Their `sample` allocates nothing.
 *
 * @example
 * ```ts
 * const service = lognormalFromMean(20, 0.5);
 * const rng = deriveStream(sim.seed, 'db/service');
 * yield sim.timeout(service.sample(rng));
 * console.log(service.describe(), service.mean); // "lognormal(mean=20, cv=0.5)" 20
 * ```
 */
export interface Distribution {
  /** The family, e.g. `"exponential"`. */
  readonly kind: string;
  /** The analytic mean, or `undefined` when it does not exist (e.g. pareto with shape <= 1). */
  readonly mean: number | undefined;
  /**
   * The analytic variance, or `undefined` when it is infinite or does not exist. Optional so that
   * hand-written distributions need not provide it; every built-in one does.
   */
  readonly variance?: number | undefined;
  /** One sample, drawn from `rng`. Call as a method (`dist.sample(rng)`): it may use `this`. */
  sample(rng: RandomStream): number;
  /** A short human description with the parameters, e.g. `"exponential(mean=1000)"`. */
  describe(): string;
}

/**
 * Internal: throws unless `params` is a plain object whose keys are all in `known` (an unknown key gets
 * a "did you mean"); `usage` shows the expected shape.
 */
export function assertParams(
  fn: string,
  params: unknown,
  usage: string,
  known: readonly string[],
): asserts params is object {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw invalidArgument(`${fn}.params`, params, `an object ${usage}`);
  }
  checkOptions(fn, params, known);
}

/** Internal: a uniform number in (0, 1], safe under `Math.log` and negative powers. */
export function openBelow(rng: RandomStream): number {
  return 1 - rng.next();
}

/** Internal: a uniform number in (0, 1), what a quantile function needs to stay finite. */
export function openUnit(rng: RandomStream): number {
  let u = rng.next();
  // Probability 2^-53 per draw; rejecting keeps the result exactly uniform on the open interval.
  while (u === 0) u = rng.next();
  return u;
}
