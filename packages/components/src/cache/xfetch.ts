import type { RandomStream } from '@dsim/core';
import { invalidOption, type Owner } from '@dsim/core';

/**
 * XFetch, probabilistic early recomputation (Vattani, Chierichetti and Lowenstein, "Optimal
 * Probabilistic Cache Stampede Prevention", PVLDB 8(8), 2015): recompute a value before it expires if
 * `now − delta·beta·ln(U) >= expiresAt`, U uniform in (0, 1]. At time-to-expiry τ a read triggers with
 * probability e^(−τ/(beta·delta)); with reads at rate r and r·beta·delta ≫ 1 the expected number of
 * recomputations per expiry is about e^(1/beta), whatever r and delta.
 *
 * @param delta - how long the value took to compute (ms)
 * @param beta - eagerness, > 0 (1 is the paper's default; > 1 refreshes earlier)
 * @example
 * ```ts
 * if (xfetchShouldRefresh(sim.now, entry.expiresAt, entry.delta, 1, rng)) refresh(key);
 * ```
 */
export function xfetchShouldRefresh(
  now: number,
  expiresAt: number,
  delta: number,
  beta: number,
  rng: RandomStream,
): boolean {
  if (now >= expiresAt) return true;
  if (delta <= 0 || expiresAt === Infinity) return false;
  // 1 - next() is in (0, 1]: ln never sees 0.
  return now - delta * beta * Math.log(1 - rng.next()) >= expiresAt;
}

/** Validates an XFetch beta, the `beta` field of the options at `where`. @internal */
export function checkBeta(beta: unknown, where: Owner): number {
  if (typeof beta !== 'number' || !(beta > 0) || beta === Infinity)
    throw invalidOption(where, 'beta', beta, 'a finite number > 0 (1 is the paper default)');
  return beta;
}
