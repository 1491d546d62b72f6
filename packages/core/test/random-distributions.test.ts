import { describe, expect, it } from 'vitest';
import { DsimError } from '../src/errors.js';
import {
  bernoulli,
  constant,
  type Distribution,
  empirical,
  erlang,
  exponential,
  gamma,
  lognormal,
  lognormalFromMean,
  normal,
  pareto,
  poisson,
  uniform,
  weibull,
  ZIPF_MAX_N,
  zipf,
} from '../src/index.js';
import { RandomStream } from '../src/random/stream.js';

const N = 200_000;

function sampleAll(dist: Distribution, n: number, name = dist.describe()): Float64Array {
  const rng = new RandomStream('moments', name);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = dist.sample(rng);
  return xs;
}

/**
 * Draws N samples and checks the sample mean against the analytic mean within 5 standard errors
 * (sqrt(variance / N)), and the sample variance against the analytic variance within 5 of its standard
 * errors, estimated from the sample's fourth central moment: sqrt((m4 - s^4) / N).
 */
function expectMoments(dist: Distribution, checkVariance = true): Float64Array {
  const xs = sampleAll(dist, N);
  const mean = dist.mean;
  const variance = dist.variance;
  if (mean === undefined || variance === undefined)
    throw new Error(`${dist.describe()} has no mean/variance`);
  let sum = 0;
  for (const x of xs) sum += x;
  const m = sum / N;
  const meanTolerance = 5 * Math.sqrt(variance / N);
  expect(Math.abs(m - mean), `${dist.describe()}: mean ${m} vs ${mean}`).toBeLessThanOrEqual(meanTolerance);
  if (checkVariance) {
    let m2 = 0;
    let m4 = 0;
    for (const x of xs) {
      const d2 = (x - m) ** 2;
      m2 += d2;
      m4 += d2 * d2;
    }
    m2 /= N;
    m4 /= N;
    const varTolerance = 5 * Math.sqrt(Math.max(m4 - m2 * m2, 0) / N);
    expect(Math.abs(m2 - variance), `${dist.describe()}: variance ${m2} vs ${variance}`).toBeLessThanOrEqual(
      varTolerance + 1e-12 * variance,
    );
  }
  return xs;
}

/** Fraction of samples <= x must be within 5 binomial standard errors of the true CDF value. */
function expectCdf(xs: Float64Array, x: number, p: number): void {
  let below = 0;
  for (const v of xs) if (v <= x) below++;
  const se = Math.sqrt((p * (1 - p)) / xs.length);
  expect(Math.abs(below / xs.length - p), `P(X <= ${x})`).toBeLessThanOrEqual(5 * se);
}

/** Observed frequency of each integer k in [0, probs.length) within 5 binomial standard errors. */
function expectPmf(xs: Float64Array, probs: readonly number[], offset = 0): void {
  const counts = new Array<number>(probs.length).fill(0);
  for (const x of xs) {
    const i = x - offset;
    if (i >= 0 && i < probs.length) counts[i]!++;
  }
  probs.forEach((p, i) => {
    const se = Math.sqrt(xs.length * p * (1 - p));
    expect(Math.abs(counts[i]! - xs.length * p), `k = ${i + offset}`).toBeLessThanOrEqual(5 * se + 1e-9);
  });
}

function poissonPmf(mean: number, kMax: number): number[] {
  const out = [Math.exp(-mean)];
  for (let k = 1; k <= kMax; k++) out.push((out[k - 1]! * mean) / k);
  return out;
}

describe('distributions: analytic means and variances', () => {
  it('constant', () => {
    const d = constant(7);
    expect(d.mean).toBe(7);
    expect(d.variance).toBe(0);
    const rng = new RandomStream('1', 'constant');
    expect(d.sample(rng)).toBe(7);
    // Draws nothing from the stream.
    expect(rng.next()).toBe(new RandomStream('1', 'constant').next());
  });

  it('uniform', () => {
    const xs = expectMoments(uniform(-3, 5));
    expect(xs.every((x) => x >= -3 && x <= 5)).toBe(true);
    expect(uniform(2, 2).sample(new RandomStream('1', 'u'))).toBe(2);
  });

  it('exponential by mean and by rate', () => {
    const d = exponential({ mean: 1000 });
    expect(d.mean).toBe(1000);
    const xs = expectMoments(d);
    expect(xs.every((x) => x >= 0 && Number.isFinite(x))).toBe(true);
    expectCdf(xs, 1000, 1 - Math.exp(-1));
    const r = exponential({ rate: 0.25 });
    expect(r.mean).toBe(4);
    expectMoments(r);
  });

  it('normal', () => {
    const xs = expectMoments(normal(10, 3));
    expectCdf(xs, 13, 0.8413447460685429);
    expectCdf(xs, 4, 0.022750131948179195);
    expect(normal(5, 0).sample(new RandomStream('1', 'n'))).toBe(5);
  });

  it('lognormal and lognormalFromMean', () => {
    const d = lognormal({ mu: 1, sigma: 0.5 });
    expect(d.mean).toBeCloseTo(Math.exp(1.125), 12);
    const xs = expectMoments(d);
    expectCdf(xs, Math.E, 0.5); // the median is exp(mu)
    const m = lognormalFromMean(20, 0.5);
    expect(m.mean).toBe(20);
    expect(m.variance).toBe(100);
    expectMoments(m);
    expect(lognormal({ mu: 1000, sigma: 0 }).variance).toBe(0);
  });

  it('pareto, with undefined moments for heavy tails', () => {
    const d = pareto({ scale: 2, shape: 5 });
    expect(d.mean).toBeCloseTo(2.5, 12);
    const xs = expectMoments(d, false); // the variance estimate needs a finite 4th moment
    expect(xs.every((x) => x >= 2)).toBe(true);
    expectCdf(xs, 4, 1 - 0.5 ** 5);
    const heavy = pareto({ scale: 1, shape: 1.5 });
    expect(heavy.mean).toBe(3);
    expect(heavy.variance).toBeUndefined();
    const noMean = pareto({ scale: 1, shape: 1 });
    expect(noMean.mean).toBeUndefined();
    expect(noMean.variance).toBeUndefined();
  });

  it('weibull', () => {
    expectMoments(weibull({ scale: 3, shape: 1.5 }));
    expectMoments(weibull({ scale: 10, shape: 0.7 }));
    const e = weibull({ scale: 4, shape: 1 });
    expect(e.mean).toBeCloseTo(4, 12);
    expect(e.variance).toBeCloseTo(16, 10);
    expect(weibull({ scale: 1, shape: 2 }).mean).toBeCloseTo(Math.sqrt(Math.PI) / 2, 13);
    // Moments beyond the double range read Infinity, never NaN.
    const tiny = weibull({ scale: 1, shape: 0.004 });
    expect(tiny.mean).toBe(Number.POSITIVE_INFINITY);
    expect(tiny.variance).toBe(Number.POSITIVE_INFINITY);
    expect(weibull({ scale: 1, shape: 0.008 }).variance).toBe(Number.POSITIVE_INFINITY);
  });

  it('gamma with shape < 1, = 1 and > 1', () => {
    const small = gamma({ shape: 0.3, scale: 2 });
    expect(small.mean).toBeCloseTo(0.6, 12);
    expect(expectMoments(small).every((x) => x >= 0)).toBe(true);
    // gamma(1/2, 2) is chi-square with 1 degree of freedom: P(X <= 1) = P(|Z| <= 1).
    expectCdf(sampleAll(gamma({ shape: 0.5, scale: 2 }), N), 1, 0.6826894921370859);
    const one = expectMoments(gamma({ shape: 1, scale: 5 }));
    expectCdf(one, 5, 1 - Math.exp(-1));
    expectMoments(gamma({ shape: 2.5, scale: 4 }));
    expectMoments(gamma({ shape: 150, scale: 0.1 }));
  });

  it('erlang, small k (product of uniforms) and large k (Marsaglia-Tsang)', () => {
    const d = erlang({ k: 3, mean: 30 });
    expect(d.mean).toBe(30);
    expect(d.variance).toBe(300);
    const xs = expectMoments(d);
    // Erlang(3, rate 0.1): P(X <= 30) = 1 - e^-3 (1 + 3 + 4.5).
    expectCdf(xs, 30, 1 - Math.exp(-3) * 8.5);
    expectMoments(erlang({ k: 1, mean: 2 }));
    expectMoments(erlang({ k: 16, mean: 8 }));
    expectMoments(erlang({ k: 40, mean: 10 }));
  });

  it('bernoulli', () => {
    const xs = expectMoments(bernoulli(0.3));
    expect(xs.every((x) => x === 0 || x === 1)).toBe(true);
    expect(sampleAll(bernoulli(0), 1000).every((x) => x === 0)).toBe(true);
    expect(sampleAll(bernoulli(1), 1000).every((x) => x === 1)).toBe(true);
  });

  it('poisson, small mean (Knuth)', () => {
    expect(sampleAll(poisson(0), 100).every((x) => x === 0)).toBe(true);
    expectMoments(poisson(0.5));
    const xs = expectMoments(poisson(3));
    expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    expectPmf(xs, poissonPmf(3, 12));
    expectMoments(poisson(9.99));
  });

  it('poisson, large mean (PTRS)', () => {
    const xs = expectMoments(poisson(25));
    expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    expectPmf(xs, poissonPmf(25, 50));
    expectMoments(poisson(10));
    expectMoments(poisson(1e4));
    expectMoments(poisson(1e7), false);
  });

  it('zipf frequencies match 1/k^s normalisation', () => {
    for (const [n, s] of [
      [5, 1],
      [8, 2],
      [6, 0],
      [20, 0.8],
    ] as const) {
      const d = zipf({ n, s });
      let h = 0;
      for (let k = 1; k <= n; k++) h += k ** -s;
      const probs = Array.from({ length: n }, (_, i) => (i + 1) ** -s / h);
      const mean = probs.reduce((acc, p, i) => acc + p * (i + 1), 0);
      expect(d.mean).toBeCloseTo(mean, 12);
      const xs = expectMoments(d);
      expect(xs.every((x) => Number.isInteger(x) && x >= 1 && x <= n)).toBe(true);
      expectPmf(xs, probs, 1);
    }
    expect(zipf({ n: 1, s: 1 }).sample(new RandomStream('1', 'z'))).toBe(1);
    expect(zipf({ n: 1, s: 3 }).variance).toBe(0);
    expectMoments(zipf({ n: 100_000, s: 1.1 }));
  });

  it('empirical, resampling and interpolating', () => {
    const values = [12, 15, 11, 40, 13, 15];
    const r = empirical(values);
    expect(r.mean).toBeCloseTo(106 / 6, 12);
    const xs = expectMoments(r);
    expect(xs.every((x) => values.includes(x))).toBe(true);
    expectPmf(xs, [1 / 6, 1 / 6, 1 / 6, 0, 2 / 6], 11); // 11, 12, 13, 14, 15

    const li = empirical(values, { interpolate: true });
    const ys = expectMoments(li);
    expect(ys.every((y) => y >= 11 && y <= 40)).toBe(true);
    // Sorted 11 12 13 15 15 40: the last fifth of the probability spreads 15..40 uniformly.
    expectCdf(ys, 15, 0.8);
    expectCdf(ys, 27.5, 0.9);
    expect(empirical([3], { interpolate: true }).sample(new RandomStream('1', 'e'))).toBe(3);

    // The values are copied.
    const mutable = [1, 2, 3];
    const copy = empirical(mutable);
    mutable[0] = 100;
    expect(copy.mean).toBe(2);
  });
});

describe('distributions: determinism', () => {
  const all: Distribution[] = [
    constant(1),
    uniform(0, 1),
    exponential({ mean: 10 }),
    normal(0, 1),
    lognormal({ mu: 0, sigma: 1 }),
    lognormalFromMean(10, 2),
    pareto({ scale: 1, shape: 2 }),
    weibull({ scale: 1, shape: 2 }),
    gamma({ shape: 0.4, scale: 1 }),
    gamma({ shape: 3, scale: 1 }),
    erlang({ k: 2, mean: 5 }),
    erlang({ k: 30, mean: 5 }),
    bernoulli(0.5),
    poisson(2),
    poisson(100),
    zipf({ n: 50, s: 1 }),
    empirical([1, 2, 3]),
    empirical([1, 2, 3], { interpolate: true }),
  ];

  it.each(
    all.map((d) => [d.describe(), d] as const),
  )('%s: a stream draws the same whether or not the distribution is shared with other streams', (_label, d) => {
    const solo = new RandomStream('9', 'a');
    const alone = Array.from({ length: 300 }, () => d.sample(solo));
    const a = new RandomStream('9', 'a');
    const b = new RandomStream('9', 'b');
    const shared: number[] = [];
    for (let i = 0; i < 300; i++) {
      d.sample(b);
      shared.push(d.sample(a));
      d.sample(b);
    }
    expect(shared).toEqual(alone);
  });

  it('describes itself with its parameters', () => {
    expect(exponential({ mean: 1000 }).describe()).toBe('exponential(mean=1000)');
    expect(exponential({ rate: 0.5 }).describe()).toBe('exponential(rate=0.5)');
    expect(lognormalFromMean(20, 0.5).describe()).toBe('lognormal(mean=20, cv=0.5)');
    expect(zipf({ n: 10, s: 1.2 }).describe()).toBe('zipf(n=10, s=1.2)');
    expect(empirical([1, 2], { interpolate: true }).describe()).toBe('empirical(n=2, interpolate)');
    expect(all.map((d) => d.kind)).toEqual([
      'constant',
      'uniform',
      'exponential',
      'normal',
      'lognormal',
      'lognormal',
      'pareto',
      'weibull',
      'gamma',
      'gamma',
      'erlang',
      'erlang',
      'bernoulli',
      'poisson',
      'poisson',
      'zipf',
      'empirical',
      'empirical',
    ]);
  });
});

describe('distributions: validation', () => {
  // Parameters typed loosely on purpose: these are the mistakes a JS caller or a config file can make.
  const bad = <T>(x: unknown): T => x as T;
  it.each([
    ['constant NaN', () => constant(Number.NaN), 'constant.value'],
    ['constant Infinity', () => constant(Number.POSITIVE_INFINITY), 'constant.value'],
    ['uniform min NaN', () => uniform(Number.NaN, 1), 'uniform.min'],
    ['uniform max < min', () => uniform(5, 1), 'uniform.max'],
    ['uniform width overflows', () => uniform(-Number.MAX_VALUE, Number.MAX_VALUE), 'uniform.max'],
    ['exponential mean 0', () => exponential({ mean: 0 }), 'exponential.mean'],
    ['exponential mean < 0', () => exponential({ mean: -1 }), 'exponential.mean'],
    ['exponential rate 0', () => exponential({ rate: 0 }), 'exponential.rate'],
    ['exponential rate NaN', () => exponential({ rate: Number.NaN }), 'exponential.rate'],
    ['exponential {}', () => exponential(bad({})), 'exponential.params'],
    ['exponential mean and rate', () => exponential(bad({ mean: 1, rate: 1 })), 'exponential.params'],
    ['exponential number', () => exponential(bad(5)), 'exponential.params'],
    ['exponential null', () => exponential(bad(null)), 'exponential.params'],
    ['normal mean NaN', () => normal(Number.NaN, 1), 'normal.mean'],
    ['normal sd < 0', () => normal(0, -1), 'normal.sd'],
    ['lognormal mu Infinity', () => lognormal({ mu: Number.POSITIVE_INFINITY, sigma: 1 }), 'lognormal.mu'],
    ['lognormal sigma < 0', () => lognormal({ mu: 0, sigma: -0.1 }), 'lognormal.sigma'],
    ['lognormal undefined', () => lognormal(bad(undefined)), 'lognormal.params'],
    ['lognormalFromMean mean 0', () => lognormalFromMean(0, 1), 'lognormalFromMean.mean'],
    ['lognormalFromMean cv < 0', () => lognormalFromMean(10, -1), 'lognormalFromMean.cv'],
    ['pareto scale 0', () => pareto({ scale: 0, shape: 1 }), 'pareto.scale'],
    ['pareto shape < 0', () => pareto({ scale: 1, shape: -1 }), 'pareto.shape'],
    ['weibull scale NaN', () => weibull({ scale: Number.NaN, shape: 1 }), 'weibull.scale'],
    ['weibull shape 0', () => weibull({ scale: 1, shape: 0 }), 'weibull.shape'],
    ['gamma shape 0', () => gamma({ shape: 0, scale: 1 }), 'gamma.shape'],
    ['gamma scale Infinity', () => gamma({ shape: 1, scale: Number.POSITIVE_INFINITY }), 'gamma.scale'],
    ['gamma array', () => gamma(bad([1, 2])), 'gamma.params'],
    ['erlang k 0', () => erlang({ k: 0, mean: 1 }), 'erlang.k'],
    ['erlang k 2.5', () => erlang({ k: 2.5, mean: 1 }), 'erlang.k'],
    ['erlang mean 0', () => erlang({ k: 2, mean: 0 }), 'erlang.mean'],
    ['bernoulli 1.5', () => bernoulli(1.5), 'bernoulli.p'],
    ['bernoulli -0.1', () => bernoulli(-0.1), 'bernoulli.p'],
    ['bernoulli NaN', () => bernoulli(Number.NaN), 'bernoulli.p'],
    ['poisson -1', () => poisson(-1), 'poisson.mean'],
    ['poisson Infinity', () => poisson(Number.POSITIVE_INFINITY), 'poisson.mean'],
    ['poisson string', () => poisson(bad('3')), 'poisson.mean'],
    ['zipf n 0', () => zipf({ n: 0, s: 1 }), 'zipf.n'],
    ['zipf n 1.5', () => zipf({ n: 1.5, s: 1 }), 'zipf.n'],
    ['zipf n too large', () => zipf({ n: ZIPF_MAX_N + 1, s: 1 }), 'zipf.n'],
    ['zipf s < 0', () => zipf({ n: 10, s: -1 }), 'zipf.s'],
    ['zipf s NaN', () => zipf({ n: 10, s: Number.NaN }), 'zipf.s'],
    ['empirical []', () => empirical([]), 'empirical.samples'],
    ['empirical non-array', () => empirical(bad('1,2')), 'empirical.samples'],
    ['empirical NaN value', () => empirical([1, Number.NaN]), 'empirical.samples[1]'],
    [
      'empirical interpolate string',
      () => empirical([1], bad({ interpolate: 'yes' })),
      'empirical.interpolate',
    ],
    ['empirical options null', () => empirical([1], bad(null)), 'empirical.options'],
  ])('rejects %s', (_label, fn, field) => {
    let caught: unknown;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DsimError);
    const err = caught as DsimError;
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message.startsWith(`${field} must be`), err.message).toBe(true);
    expect(err.details.field).toBe(field);
  });

  it('says what is allowed and shows the value', () => {
    expect(() => exponential({ mean: -5 })).toThrow('exponential.mean must be a finite number > 0, got -5');
    expect(() => zipf({ n: 0, s: 1 })).toThrow(`zipf.n must be an integer in [1, ${ZIPF_MAX_N}], got 0`);
    expect(() => exponential(bad({ mean: 1, rate: 2 }))).toThrow(
      'exponential.params must be an object with exactly one of mean or rate, got {"mean":1,"rate":2}',
    );
  });
});
