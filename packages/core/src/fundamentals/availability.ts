import { type Duration, toMs } from '../duration.js';
import { invalidArgument } from '../errors.js';
import { logGamma } from '../random/special.js';

/**
 * Availability math for independent components, as in Treynor et al., "The Calculus of Service
 * Availability" (ACM Queue, 2017) and the SRE books: an availability is the fraction of time (or of
 * requests) a component is up, a number in [0, 1]. Every function assumes the components fail
 * independently; correlated failures (a zone taking several replicas down together) break these
 * formulas, which is what the simulations are for.
 */

function checkAvailability(field: string, value: unknown, component: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw invalidArgument(field, value, 'an availability in [0, 1], such as 0.999', component);
  return value;
}

function checkParts(parts: unknown, component: string): readonly number[] {
  if (!Array.isArray(parts) || parts.length === 0)
    throw invalidArgument('parts', parts, 'a non-empty array of availabilities in [0, 1]', component);
  for (let i = 0; i < parts.length; i++) checkAvailability(`parts[${i}]`, parts[i], component);
  return parts as readonly number[];
}

/**
 * Availability of components that must all be up (a request that passes through each of them):
 * the product A = a₁ · a₂ · … · aₙ. Three dependencies at 99.9% give 99.7%.
 *
 * @param parts - each component's availability, in [0, 1]
 * @example
 * ```ts
 * serialAvailability([0.999, 0.999, 0.999]); // 0.997002999
 * ```
 */
export function serialAvailability(parts: readonly number[]): number {
  let up = 1;
  for (const a of checkParts(parts, 'serialAvailability')) up *= a;
  return up;
}

/**
 * Availability of redundant replicas of which one is enough: A = 1 − (1 − a₁)(1 − a₂)…(1 − aₙ), the
 * chance that not all are down at once. Two independent replicas at 99% give 99.99%.
 *
 * @param parts - each replica's availability, in [0, 1]
 * @example
 * ```ts
 * parallelAvailability([0.99, 0.99]); // 0.9999
 * ```
 */
export function parallelAvailability(parts: readonly number[]): number {
  let down = 1;
  for (const a of checkParts(parts, 'parallelAvailability')) down *= 1 - a;
  return 1 - down;
}

/**
 * Availability of a group of `n` identical independent replicas that needs at least `k` of them up (a
 * quorum: 2 of 3, 3 of 5): the binomial tail Σ_{i=k}^{n} C(n, i) aⁱ (1 − a)ⁿ⁻ⁱ. The smaller tail is
 * summed in log space, so many nines keep their precision.
 *
 * @param k - replicas needed, an integer in [0, n]
 * @param n - replicas, an integer >= 1
 * @param a - each replica's availability, in [0, 1]
 * @example
 * ```ts
 * kOfNAvailability(2, 3, 0.99); // 0.999702: a 3-node quorum of 99% nodes
 * ```
 */
export function kOfNAvailability(k: number, n: number, a: number): number {
  const C = 'kOfNAvailability';
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000)
    throw invalidArgument('n', n, 'an integer number of replicas in [1, 1000000]', C);
  if (!Number.isInteger(k) || k < 0 || k > n) throw invalidArgument('k', k, `an integer in [0, ${n}]`, C);
  checkAvailability('a', a, C);
  if (k === 0) return 1;
  if (a === 1) return 1;
  if (a === 0) return 0;
  const mean = n * a;
  // Sum whichever tail is further from the mean: it is the small number, computed without cancellation.
  if (k > mean) return tail(k, n, n, a);
  return 1 - tail(0, k - 1, n, a);
}

/** Σ_{i=from}^{to} C(n, i) aⁱ (1 − a)ⁿ⁻ⁱ, each term in log space. */
function tail(from: number, to: number, n: number, a: number): number {
  const la = Math.log(a);
  const lb = Math.log1p(-a);
  const lnN = logGamma(n + 1);
  let sum = 0;
  for (let i = from; i <= to; i++)
    sum += Math.exp(lnN - logGamma(i + 1) - logGamma(n - i + 1) + i * la + (n - i) * lb);
  return Math.min(1, sum);
}

/**
 * Steady-state availability of a component that fails after `mttf` on average and takes `mttr` to
 * repair: A = MTTF / (MTTF + MTTR). Failing once a month (30 d) and taking an hour to recover gives
 * 99.86%.
 *
 * @param mttf - mean time to failure, a duration > 0 ("30d", 2_592_000_000)
 * @param mttr - mean time to repair, a duration >= 0 ("1h")
 * @example
 * ```ts
 * availabilityFromMttf('30d', '1h'); // 0.998613...
 * ```
 */
export function availabilityFromMttf(mttf: Duration, mttr: Duration): number {
  const C = 'availabilityFromMttf';
  const up = toMs(mttf, `${C}: mttf`);
  const down = toMs(mttr, `${C}: mttr`);
  if (!(up > 0) || up === Infinity) throw invalidArgument('mttf', mttf, 'a finite duration > 0', C);
  if (down === Infinity) throw invalidArgument('mttr', mttr, 'a finite duration >= 0', C);
  return up / (up + down);
}

/**
 * The number of nines of an availability: −log₁₀(1 − a). 0.999 is 3 nines, 0.9995 about 3.3;
 * 1 is Infinity.
 *
 * @example
 * ```ts
 * nines(0.9999); // 4 (to rounding)
 * ```
 */
export function nines(a: number): number {
  checkAvailability('a', a, 'nines');
  return -Math.log10(1 - a);
}

/**
 * Downtime an availability allows over a period, in ms: (1 − a) × period. 99.9% over 30 days is
 * 43.2 minutes.
 *
 * @param period - the period, a duration > 0
 * @default period '30d'
 * @example
 * ```ts
 * allowedDowntime(0.999) / 60_000; // 43.2 (minutes in 30 days)
 * allowedDowntime(0.9999, '365d') / 60_000; // 52.56
 * ```
 */
export function allowedDowntime(a: number, period: Duration = '30d'): number {
  const C = 'allowedDowntime';
  checkAvailability('a', a, C);
  const ms = toMs(period, `${C}: period`);
  if (!(ms > 0) || ms === Infinity) throw invalidArgument('period', period, 'a finite duration > 0', C);
  return (1 - a) * ms;
}
