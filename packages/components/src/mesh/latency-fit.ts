import { invalidArgument } from '@dsim/core';
import {
  cpuMsPerRequest,
  PROXY_PRESETS,
  type ProxyPresetName,
  type PublishedHopLatency,
} from './proxy-presets.js';

// Fitting a proxy's added latency to a published hop figure. A hop crosses two proxies (the caller's
// outbound side and the callee's inbound side); each pass costs its CPU time c (constant, on the proxy's
// workers) plus a lognormal wait X. At low load, with no queueing for the CPU, the hop adds
// S = 2c + X1 + X2 with X1, X2 independent LN(mu, sigma). The fit picks mu and sigma so that S has the
// published p90 and p99. Sums of lognormals have no closed form: the CDF of X1 + X2 is integrated
// numerically. Construction-time only.

/**
 * The parameters of one proxy pass's lognormal wait (the non-CPU part of its added latency).
 *
 * @example
 * ```ts
 * const fit: PassLatencyFit = fitPassLatency({ p90: 1.7, p99: 2.7 }, 0.35);
 * ```
 */
export interface PassLatencyFit {
  /** Location of ln X. */
  readonly mu: number;
  /** Scale of ln X. */
  readonly sigma: number;
}

/** erfc(x), Numerical Recipes' `erfcc` (Chebyshev fit): fractional error below 1.2e-7 everywhere. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/**
 * The standard normal CDF Φ(z), through {@link erfc} (fractional error below 1.2e-7).
 *
 * @example
 * ```ts
 * normalCdf(1.2815515655); // 0.9
 * ```
 */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** Standard normal mass below this is negligible (Φ(-9) ≈ 1e-19). */
const LOW = -9;
/** Simpson panels (even) for the convolution integral. */
const PANELS = 256;

/**
 * P(X1 + X2 <= s) for X1, X2 independent LN(0, sigma). By symmetry
 * P = 2 ∫_0^{s/2} F(s − x) f(x) dx − F(s/2)², which keeps the integrand smooth (s − x >= s/2); in
 * v = ln(x)/sigma the density is the standard normal's.
 *
 * @example
 * ```ts
 * sumOfTwoLognormalsCdf(2, 1e-6); // ≈ 0.5 (both are ≈ 1)
 * ```
 */
export function sumOfTwoLognormalsCdf(s: number, sigma: number): number {
  if (!(s > 0)) return 0;
  const half = Math.log(s / 2) / sigma;
  const fHalf = normalCdf(half);
  const hi = half;
  const lo = Math.min(LOW, hi - 1);
  const h = (hi - lo) / PANELS;
  let sum = 0;
  for (let i = 0; i <= PANELS; i++) {
    const v = lo + i * h;
    const x = Math.exp(sigma * v);
    const g = normalCdf(Math.log(s - x) / sigma) * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
    sum += (i === 0 || i === PANELS ? 1 : i % 2 === 1 ? 4 : 2) * g;
  }
  const integral = (sum * h) / 3;
  return Math.min(1, Math.max(0, 2 * integral - fHalf * fHalf));
}

/**
 * The p-quantile of X1 + X2 for X1, X2 independent LN(0, sigma), by bisection on ln s.
 *
 * @param p - a probability in (0, 0.9999]
 * @example
 * ```ts
 * sumOfTwoLognormalsQuantile(0.5, 1e-6); // ≈ 2
 * ```
 */
export function sumOfTwoLognormalsQuantile(p: number, sigma: number): number {
  if (!(p > 0 && p <= 0.9999)) throw invalidArgument('p', p, 'a probability in (0, 0.9999]');
  if (!(sigma > 0 && sigma <= 5)) throw invalidArgument('sigma', sigma, 'a number in (0, 5]');
  // Both below s/2 covers Φ(ln(s/2)/sigma)² of the mass: at 4.5 sigma that is past 0.9999.
  let lo = Math.log(2) + LOW * sigma;
  let hi = Math.log(2) + 4.5 * sigma;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (sumOfTwoLognormalsCdf(Math.exp(mid), sigma) < p) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

const SIGMA_MIN = 0.01;
const SIGMA_MAX = 3;

/**
 * Fits one pass's lognormal wait so that a hop (two passes, each `cpuMs` of CPU plus a wait) adds
 * `hop.p90` at the 90th percentile and `hop.p99` at the 99th. With only a p90, `sigma` must be given
 * (the spread is then an assumption) and only mu is fitted.
 *
 * @param hop - the published hop figures, ms
 * @param cpuMs - one pass's CPU time, ms (constant)
 * @param sigma - the spread to use when `hop.p99` is not given
 * @example
 * ```ts
 * const { mu, sigma } = fitPassLatency({ p90: 1.7, p99: 2.7 }, 0.35);
 * hopQuantile({ mu, sigma }, 0.35, 0.9); // 1.7
 * ```
 */
export function fitPassLatency(hop: PublishedHopLatency, cpuMs: number, sigma?: number): PassLatencyFit {
  const a90 = hop.p90 - 2 * cpuMs;
  if (!(a90 > 0))
    throw invalidArgument(
      'hop.p90',
      hop.p90,
      `more than the two passes' CPU time (2 × ${cpuMs} ms): a latency below the CPU alone cannot be fitted`,
    );
  if (hop.p99 === undefined) {
    if (sigma === undefined || !(sigma >= SIGMA_MIN && sigma <= SIGMA_MAX))
      throw invalidArgument(
        'sigma',
        sigma,
        `a spread in [${SIGMA_MIN}, ${SIGMA_MAX}] when only a p90 is given`,
      );
    return { mu: Math.log(a90 / sumOfTwoLognormalsQuantile(0.9, sigma)), sigma };
  }
  const a99 = hop.p99 - 2 * cpuMs;
  if (!(a99 > a90)) throw invalidArgument('hop.p99', hop.p99, `more than hop.p90 (${hop.p90})`);
  const target = a99 / a90;
  const ratio = (s: number): number =>
    sumOfTwoLognormalsQuantile(0.99, s) / sumOfTwoLognormalsQuantile(0.9, s);
  let lo = SIGMA_MIN;
  let hi = SIGMA_MAX;
  if (target <= ratio(lo) || target >= ratio(hi))
    throw invalidArgument(
      'hop.p99',
      hop.p99,
      `a p99/p90 spread a lognormal sigma in [${SIGMA_MIN}, ${SIGMA_MAX}] can give`,
    );
  for (let i = 0; i < 32; i++) {
    const mid = (lo + hi) / 2;
    if (ratio(mid) < target) lo = mid;
    else hi = mid;
  }
  const fitted = (lo + hi) / 2;
  return { mu: Math.log(a90 / sumOfTwoLognormalsQuantile(0.9, fitted)), sigma: fitted };
}

/**
 * The p-quantile of a hop's added latency under a fit: 2 × cpuMs + e^mu × the quantile of the sum of
 * two LN(0, sigma). Low load: no queueing for the CPU.
 *
 * @example
 * ```ts
 * hopQuantile(fitPassLatency({ p90: 1.7, p99: 2.7 }, 0.35), 0.35, 0.99); // 2.7
 * ```
 */
export function hopQuantile(fit: PassLatencyFit, cpuMs: number, p: number): number {
  return 2 * cpuMs + Math.exp(fit.mu) * sumOfTwoLognormalsQuantile(p, fit.sigma);
}

const FITS = new Map<ProxyPresetName, PassLatencyFit>();

/**
 * The fitted pass latency of a preset that publishes a hop latency (cached; deterministic), or
 * undefined for one that does not (1.24's presets). A p90-only preset borrows the spread of its
 * `spreadFrom` preset.
 *
 * @example
 * ```ts
 * presetPassLatency('istio-1.12.3'); // { mu: …, sigma: … }
 * presetPassLatency('istio-1.24-sidecar'); // undefined
 * ```
 */
export function presetPassLatency(name: ProxyPresetName): PassLatencyFit | undefined {
  const cached = FITS.get(name);
  if (cached !== undefined) return cached;
  const preset = PROXY_PRESETS[name];
  if (preset.hop === undefined) return undefined;
  const cpu = cpuMsPerRequest(preset.vcpuPer1000Rps);
  const spread =
    preset.hop.p99 === undefined && preset.spreadFrom !== undefined
      ? presetPassLatency(preset.spreadFrom)?.sigma
      : undefined;
  const fit = fitPassLatency(preset.hop, cpu, spread);
  FITS.set(name, fit);
  return fit;
}
