import { type Duration, toMs } from '../duration.js';
import { invalidArgument } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
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

/** Options of {@link zonalAvailability}. */
export interface ZonalAvailabilityOptions {
  /** Zones the replicas are spread over, an integer >= 1. */
  zones: number;
  /** Replicas in each zone, an integer >= 1. */
  replicasPerZone: number;
  /**
   * Replicas that must be up for the service to be up, an integer in [0, zones × replicasPerZone].
   * @default 1
   */
  need?: number;
  /** Each replica's own availability while its zone is up, in [0, 1]. */
  replica: number;
  /** Each zone's availability, in [0, 1]: a zone that is down takes all its replicas with it. */
  zone: number;
}

const ZONAL_KEYS = optionKeys<ZonalAvailabilityOptions>()({
  zones: true,
  replicasPerZone: true,
  need: true,
  replica: true,
  zone: true,
});

/**
 * Availability of replicas spread over zones, with correlated failures: a zone that is down takes all
 * of its replicas down together, and within an up zone replicas fail independently. The service is up
 * when at least `need` replicas are: Σ_j C(Z, j) zʲ (1 − z)^(Z−j) · P(at least `need` of j·r replicas
 * up). With `zone: 1` it is {@link kOfNAvailability}; a shared zone is what caps redundancy.
 *
 * @example
 * ```ts
 * // Two replicas at 99%: 99.99% apart, but in one 99.9% zone only 99.89%.
 * zonalAvailability({ zones: 1, replicasPerZone: 2, replica: 0.99, zone: 0.999 }); // 0.9989001
 * zonalAvailability({ zones: 2, replicasPerZone: 1, replica: 0.99, zone: 0.999 }); // 0.99987922
 * ```
 */
export function zonalAvailability(options: ZonalAvailabilityOptions): number {
  const C = 'zonalAvailability';
  if (options === null || typeof options !== 'object')
    throw invalidArgument(
      'options',
      options,
      'an object { zones, replicasPerZone, replica, zone, need? }',
      C,
    );
  checkOptions(C, options, ZONAL_KEYS);
  const { zones, replicasPerZone } = options;
  if (!Number.isInteger(zones) || zones < 1 || zones > 1000)
    throw invalidArgument('zones', zones, 'an integer in [1, 1000]', C);
  if (!Number.isInteger(replicasPerZone) || replicasPerZone < 1 || replicasPerZone > 1000)
    throw invalidArgument('replicasPerZone', replicasPerZone, 'an integer in [1, 1000]', C);
  const total = zones * replicasPerZone;
  const need = options.need ?? 1;
  if (!Number.isInteger(need) || need < 0 || need > total)
    throw invalidArgument('need', need, `an integer in [0, ${total}] (zones × replicasPerZone)`, C);
  const replica = checkAvailability('replica', options.replica, C);
  const zone = checkAvailability('zone', options.zone, C);
  let up = 0;
  for (let j = 0; j <= zones; j++) {
    const replicas = j * replicasPerZone;
    if (replicas < need) continue;
    // P(exactly j zones up) × P(at least `need` of their replicas up).
    const zonesUp =
      zone === 1 ? (j === zones ? 1 : 0) : zone === 0 ? (j === 0 ? 1 : 0) : binomialTerm(zones, j, zone);
    if (zonesUp === 0) continue;
    up += zonesUp * (replicas === 0 ? 1 : kOfNAvailability(need, replicas, replica));
  }
  return Math.min(1, up);
}

/** C(n, i) pⁱ (1 − p)ⁿ⁻ⁱ for p in (0, 1), in log space. */
function binomialTerm(n: number, i: number, p: number): number {
  return Math.exp(
    logGamma(n + 1) - logGamma(i + 1) - logGamma(n - i + 1) + i * Math.log(p) + (n - i) * Math.log1p(-p),
  );
}
