import { assertFinite, assertNonNegative, assertPositive, invalidArgument } from '../errors.js';
import { optionKeys } from '../options.js';
import { assertParams, type Distribution, openBelow, openUnit } from './distribution.js';
import { logGamma, normalQuantile } from './special.js';
import type { RandomStream } from './stream.js';

class Constant implements Distribution {
  readonly kind = 'constant';
  readonly mean: number;
  readonly variance = 0;
  constructor(private readonly value: number) {
    this.mean = value;
  }
  sample(_rng: RandomStream): number {
    return this.value;
  }
  describe(): string {
    return `constant(${this.value})`;
  }
}

/**
 * Always `value`. Sampling draws nothing from the stream (so replacing a random distribution by a
 * constant changes which numbers later samples of that stream see: give each random quantity its own
 * stream).
 *
 * @param value - a finite number
 * @example
 * ```ts
 * const latency = constant(5); // always 5 ms
 * ```
 */
export function constant(value: number): Distribution {
  assertFinite('constant.value', value);
  return new Constant(value);
}

class Uniform implements Distribution {
  readonly kind = 'uniform';
  readonly mean: number;
  readonly variance: number;
  private readonly width: number;
  constructor(
    private readonly min: number,
    private readonly max: number,
  ) {
    this.width = max - min;
    this.mean = min + this.width / 2;
    this.variance = (this.width * this.width) / 12;
  }
  sample(rng: RandomStream): number {
    return this.min + this.width * rng.next();
  }
  describe(): string {
    return `uniform(min=${this.min}, max=${this.max})`;
  }
}

/**
 * Parameters of {@link uniform} in object form.
 *
 * @example
 * ```ts
 * const jitter = uniform({ min: 0, max: 10 });
 * ```
 */
export interface UniformParams {
  /** The lower bound, a finite number. */
  readonly min: number;
  /** The upper bound, a finite number >= min. */
  readonly max: number;
}

const UNIFORM_KEYS = optionKeys<UniformParams>()({ min: true, max: true });

/**
 * Uniform on [min, max). Floating-point rounding of `min + (max - min) * u` can yield `max` itself,
 * with probability around 2^-53. `min === max` is allowed and always gives `min`. Takes the bounds as
 * two numbers or as `{ min, max }`.
 *
 * @param min - a finite number
 * @param max - a finite number >= min
 * @example
 * ```ts
 * const jitter = uniform(-5, 5);
 * const same = uniform({ min: -5, max: 5 });
 * ```
 */
export function uniform(params: UniformParams): Distribution;
export function uniform(min: number, max: number): Distribution;
export function uniform(minOrParams: number | UniformParams, maxArg?: number): Distribution {
  let min: unknown = minOrParams;
  let max: unknown = maxArg;
  if (typeof minOrParams === 'object' && minOrParams !== null) {
    assertParams('uniform', minOrParams, '{ min, max }', UNIFORM_KEYS);
    ({ min, max } = minOrParams);
  }
  assertFinite('uniform.min', min);
  if (typeof max !== 'number' || !Number.isFinite(max - min) || max < min) {
    throw invalidArgument('uniform.max', max, `a finite number >= uniform.min (${min})`);
  }
  return new Uniform(min, max);
}

/** Parameters of {@link exponential}: exactly one of `mean` or `rate` (= 1 / mean). */
export type ExponentialParams =
  | { readonly mean: number; readonly rate?: never }
  | { readonly rate: number; readonly mean?: never };

class Exponential implements Distribution {
  readonly kind = 'exponential';
  readonly variance: number;
  constructor(
    readonly mean: number,
    private readonly label: string,
  ) {
    this.variance = mean * mean;
  }
  sample(rng: RandomStream): number {
    // Inversion with 1 - u in (0, 1]: finite, and monotone in u (good for common random numbers).
    return -this.mean * Math.log(openBelow(rng));
  }
  describe(): string {
    return `exponential(${this.label})`;
  }
}

const EXPONENTIAL_KEYS = optionKeys<ExponentialParams>()({ mean: true, rate: true });

/**
 * Exponential (memoryless) distribution, given by its `mean` or its `rate`: the classic inter-arrival
 * gap of a Poisson process and service time of an M/M/c queue. Samples are >= 0.
 *
 * @example
 * ```ts
 * const gaps = exponential({ mean: 100 });  // 10 arrivals per second, in ms
 * const same = exponential({ rate: 0.01 }); // the same distribution
 * ```
 */
export function exponential(params: ExponentialParams): Distribution {
  assertParams('exponential', params, '{ mean } or { rate }', EXPONENTIAL_KEYS);
  const { mean, rate } = params as { mean?: unknown; rate?: unknown };
  if ((mean === undefined) === (rate === undefined)) {
    throw invalidArgument('exponential.params', params, 'an object with exactly one of mean or rate');
  }
  if (mean !== undefined) {
    assertPositive('exponential.mean', mean);
    return new Exponential(mean, `mean=${mean}`);
  }
  assertPositive('exponential.rate', rate);
  return new Exponential(1 / rate, `rate=${rate}`);
}

class Normal implements Distribution {
  readonly kind = 'normal';
  readonly variance: number;
  constructor(
    readonly mean: number,
    private readonly sd: number,
  ) {
    this.variance = sd * sd;
  }
  sample(rng: RandomStream): number {
    // Inversion (AS 241): one uniform per sample and no cached spare, so sharing across streams is safe.
    return this.mean + this.sd * normalQuantile(openUnit(rng));
  }
  describe(): string {
    return `normal(mean=${this.mean}, sd=${this.sd})`;
  }
}

/**
 * Parameters of {@link normal} in object form.
 *
 * @example
 * ```ts
 * const skew = normal({ mean: 0, sd: 2 });
 * ```
 */
export interface NormalParams {
  /** The mean, a finite number. */
  readonly mean: number;
  /** The standard deviation, a finite number >= 0. */
  readonly sd: number;
}

const NORMAL_KEYS = optionKeys<NormalParams>()({ mean: true, sd: true });

/**
 * Normal (Gaussian) distribution. Samples can be negative, and a negative latency or service time is an
 * error: for durations prefer {@link lognormal} or {@link gamma}, or bound it with
 * `truncate(normal(...), { min: 0 })`. `sd = 0` is allowed and always gives `mean`. Takes the
 * parameters as two numbers or as `{ mean, sd }`.
 *
 * @param mean - a finite number
 * @param sd - the standard deviation, a finite number >= 0
 * @example
 * ```ts
 * const clockSkew = normal(0, 2);
 * const hop = truncate(normal({ mean: 10, sd: 2 }), { min: 0 });
 * ```
 */
export function normal(params: NormalParams): Distribution;
export function normal(mean: number, sd: number): Distribution;
export function normal(meanOrParams: number | NormalParams, sdArg?: number): Distribution {
  let mean: unknown = meanOrParams;
  let sd: unknown = sdArg;
  if (typeof meanOrParams === 'object' && meanOrParams !== null) {
    assertParams('normal', meanOrParams, '{ mean, sd }', NORMAL_KEYS);
    ({ mean, sd } = meanOrParams);
  }
  assertFinite('normal.mean', mean);
  assertNonNegative('normal.sd', sd);
  return new Normal(mean, sd);
}

/** Parameters of {@link lognormal}: those of the underlying normal, `ln X ~ normal(mu, sigma)`. */
export interface LognormalParams {
  /** Mean of `ln X`, a finite number. */
  readonly mu: number;
  /** Standard deviation of `ln X`, a finite number >= 0. */
  readonly sigma: number;
}

class Lognormal implements Distribution {
  readonly kind = 'lognormal';
  constructor(
    private readonly mu: number,
    private readonly sigma: number,
    readonly mean: number,
    readonly variance: number,
    private readonly label: string,
  ) {}
  sample(rng: RandomStream): number {
    return Math.exp(this.mu + this.sigma * normalQuantile(openUnit(rng)));
  }
  describe(): string {
    return `lognormal(${this.label})`;
  }
}

const LOGNORMAL_KEYS = optionKeys<LognormalParams>()({ mu: true, sigma: true });

/**
 * Log-normal distribution: `exp(normal(mu, sigma))`. Positive and right-skewed, a good model of
 * service times and request sizes. To give it by its mean and spread instead, use
 * {@link lognormalFromMean}.
 *
 * @example
 * ```ts
 * const size = lognormal({ mu: Math.log(4096), sigma: 1 }); // median 4 KiB
 * ```
 */
export function lognormal(params: LognormalParams): Distribution {
  assertParams('lognormal', params, '{ mu, sigma }', LOGNORMAL_KEYS);
  const { mu, sigma } = params;
  assertFinite('lognormal.mu', mu);
  assertNonNegative('lognormal.sigma', sigma);
  const s2 = sigma * sigma;
  const mean = Math.exp(mu + s2 / 2);
  // sigma = 0 is a point mass: variance 0 even when the mean overflows to Infinity.
  const variance = s2 === 0 ? 0 : Math.expm1(s2) * mean * mean;
  return new Lognormal(mu, sigma, mean, variance, `mu=${mu}, sigma=${sigma}`);
}

/**
 * Log-normal distribution given by its mean and coefficient of variation (sd / mean): the parameters
 * people usually know. `cv = 0` is allowed and always gives `mean`.
 *
 * @param mean - the mean, a finite number > 0
 * @param cv - the coefficient of variation, a finite number >= 0
 * @example
 * ```ts
 * const service = lognormalFromMean(20, 0.5); // mean 20 ms, sd 10 ms
 * ```
 */
export function lognormalFromMean(mean: number, cv: number): Distribution {
  assertPositive('lognormalFromMean.mean', mean);
  assertNonNegative('lognormalFromMean.cv', cv);
  const s2 = Math.log1p(cv * cv);
  const sd = cv * mean;
  return new Lognormal(Math.log(mean) - s2 / 2, Math.sqrt(s2), mean, sd * sd, `mean=${mean}, cv=${cv}`);
}

/** Parameters of {@link pareto}. */
export interface ParetoParams {
  /** The minimum value x_m, a finite number > 0. */
  readonly scale: number;
  /** The tail index alpha, a finite number > 0: smaller is heavier-tailed. */
  readonly shape: number;
}

class Pareto implements Distribution {
  readonly kind = 'pareto';
  readonly mean: number | undefined;
  readonly variance: number | undefined;
  private readonly negInvShape: number;
  constructor(
    private readonly scale: number,
    private readonly shape: number,
  ) {
    this.negInvShape = -1 / shape;
    this.mean = shape > 1 ? (shape * scale) / (shape - 1) : undefined;
    this.variance =
      shape > 2 ? (scale * scale * shape) / ((shape - 1) * (shape - 1) * (shape - 2)) : undefined;
  }
  sample(rng: RandomStream): number {
    // exp(log(u) * p) rather than u ** p: about 2.5x faster in V8, and the rounding is irrelevant here.
    return this.scale * Math.exp(Math.log(openBelow(rng)) * this.negInvShape);
  }
  describe(): string {
    return `pareto(scale=${this.scale}, shape=${this.shape})`;
  }
}

const PARETO_KEYS = optionKeys<ParetoParams>()({ scale: true, shape: true });

/**
 * Pareto (type I) distribution: `P(X > x) = (scale / x)^shape` for x >= scale. Heavy-tailed: the mean
 * exists only for shape > 1 and the variance only for shape > 2 (`mean` / `variance` are `undefined`
 * otherwise).
 *
 * @example
 * ```ts
 * const fileSize = pareto({ scale: 1000, shape: 1.5 }); // mean 3000
 * ```
 */
export function pareto(params: ParetoParams): Distribution {
  assertParams('pareto', params, '{ scale, shape }', PARETO_KEYS);
  assertPositive('pareto.scale', params.scale);
  assertPositive('pareto.shape', params.shape);
  return new Pareto(params.scale, params.shape);
}

/** Parameters of {@link weibull}. */
export interface WeibullParams {
  /** The scale lambda, a finite number > 0. */
  readonly scale: number;
  /** The shape k, a finite number > 0: k < 1 gives a decreasing failure rate, k = 1 is exponential. */
  readonly shape: number;
}

class Weibull implements Distribution {
  readonly kind = 'weibull';
  readonly mean: number;
  readonly variance: number;
  private readonly invShape: number;
  constructor(
    private readonly scale: number,
    private readonly shape: number,
  ) {
    this.invShape = 1 / shape;
    const lg1 = logGamma(1 + 1 / shape);
    const lg2 = logGamma(1 + 2 / shape);
    this.mean = scale * Math.exp(lg1);
    // scale^2 (Γ2 - Γ1^2) factored as scale^2 Γ2 (1 - Γ1^2 / Γ2): no Infinity - Infinity for tiny shapes.
    this.variance = scale * scale * Math.exp(lg2) * -Math.expm1(2 * lg1 - lg2);
  }
  sample(rng: RandomStream): number {
    // (-log u)^(1/k) as exp(log(-log u) / k), faster than `**`; u = 1 gives log(0) = -Infinity, so 0.
    return this.scale * Math.exp(Math.log(-Math.log(openBelow(rng))) * this.invShape);
  }
  describe(): string {
    return `weibull(scale=${this.scale}, shape=${this.shape})`;
  }
}

const WEIBULL_KEYS = optionKeys<WeibullParams>()({ scale: true, shape: true });

/**
 * Weibull distribution: `P(X > x) = exp(-(x / scale)^shape)`. A common model of time to failure.
 * Mean `scale * Γ(1 + 1/shape)`. For very small shapes (below about 0.01) `variance`, then `mean`,
 * exceed the double range and read `Infinity`.
 *
 * @example
 * ```ts
 * const timeToFailure = weibull({ scale: 3_600_000, shape: 1.5 });
 * ```
 */
export function weibull(params: WeibullParams): Distribution {
  assertParams('weibull', params, '{ scale, shape }', WEIBULL_KEYS);
  assertPositive('weibull.scale', params.scale);
  assertPositive('weibull.shape', params.shape);
  return new Weibull(params.scale, params.shape);
}
