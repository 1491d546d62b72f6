/**
 * Probability distributions for dsim models: the {@link Distribution} interface and its validated
 * factories. One import point; each family lives in its own file next to this one.
 */

export {
  constant,
  type ExponentialParams,
  exponential,
  type LognormalParams,
  lognormal,
  lognormalFromMean,
  normal,
  type ParetoParams,
  pareto,
  uniform,
  type WeibullParams,
  weibull,
} from './continuous.js';
export { bernoulli, poisson } from './discrete.js';
export type { Distribution } from './distribution.js';
export { type EmpiricalOptions, empirical } from './empirical.js';
export { type ErlangParams, erlang, type GammaParams, gamma } from './gamma.js';
export { ZIPF_MAX_N, type ZipfParams, zipf } from './zipf.js';
