import { describe, expect, it } from 'vitest';
import {
  type Distribution,
  DsimError,
  exponential,
  normal,
  poisson,
  TRUNCATE_MAX_REJECTIONS,
  TRUNCATE_TRIALS,
  truncate,
} from '../src/index.js';
import { RandomStream } from '../src/random/stream.js';
import { thrown } from './support/thrown.js';

const phi = (z: number): number => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

/** Standard normal CDF by composite Simpson integration of the density from -12 (error far below 1e-10). */
function Phi(z: number): number {
  const a = -12;
  if (z <= a) return 0;
  const n = 20_000;
  const h = (z - a) / n;
  let sum = phi(a) + phi(z);
  for (let i = 1; i < n; i++) sum += (i % 2 === 1 ? 4 : 2) * phi(a + i * h);
  return (sum * h) / 3;
}

/** Mean and variance of normal(mu, sigma) truncated to [lo, hi] (textbook formulas). */
function truncatedNormalMoments(mu: number, sigma: number, lo: number, hi: number) {
  const a = (lo - mu) / sigma;
  const b = (hi - mu) / sigma;
  const pa = Number.isFinite(a) ? phi(a) : 0;
  const pb = Number.isFinite(b) ? phi(b) : 0;
  const z = (Number.isFinite(b) ? Phi(b) : 1) - (Number.isFinite(a) ? Phi(a) : 0);
  const aa = Number.isFinite(a) ? a * pa : 0;
  const bb = Number.isFinite(b) ? b * pb : 0;
  const mean = mu + (sigma * (pa - pb)) / z;
  const variance = sigma * sigma * (1 + (aa - bb) / z - ((pa - pb) / z) ** 2);
  return { mean, variance };
}

function samples(dist: Distribution, n: number, stream = 'truncate-test'): Float64Array {
  const rng = new RandomStream('1', stream);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = dist.sample(rng);
  return xs;
}

describe('truncate', () => {
  it.each([
    ['one-sided: normal(1, 5) on [0, Infinity)', 1, 5, 0, Number.POSITIVE_INFINITY],
    ['two-sided: normal(10, 4) on [8, 20]', 10, 4, 8, 20],
    ['upper only: normal(0, 1) on (-Infinity, -1]', 0, 1, Number.NEGATIVE_INFINITY, -1],
  ])('%s: the sample mean and variance match the truncated-normal formulas', (_label, mu, sd, lo, hi) => {
    const bounds = {
      ...(lo === Number.NEGATIVE_INFINITY ? {} : { min: lo }),
      ...(hi === Infinity ? {} : { max: hi }),
    };
    const dist = truncate(normal({ mean: mu, sd }), bounds);
    const n = 200_000;
    const xs = samples(dist, n);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const x of xs) {
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    const mean = sum / n;
    let sq = 0;
    for (const x of xs) sq += (x - mean) ** 2;
    const variance = sq / (n - 1);
    const theory = truncatedNormalMoments(mu, sd, lo, hi);
    // 5 standard errors of the mean: a false alarm about once in 3.5 million runs (the stream is fixed anyway).
    expect(Math.abs(mean - theory.mean)).toBeLessThan(5 * Math.sqrt(theory.variance / n));
    // The untruncated mean is far away: this would catch clamping or no truncation at all.
    expect(Math.abs(mu - theory.mean)).toBeGreaterThan(20 * Math.sqrt(theory.variance / n));
    expect(Math.abs(variance / theory.variance - 1)).toBeLessThan(0.02);
    expect(min).toBeGreaterThanOrEqual(lo);
    expect(max).toBeLessThanOrEqual(hi);
  });

  it('describes itself, has no closed-form moments, and keeps integer supports', () => {
    const d = truncate(normal({ mean: 1, sd: 5 }), { min: 0 });
    expect(d.describe()).toBe('truncate(normal(mean=1, sd=5), min=0)');
    expect(d.kind).toBe('truncated');
    expect(d.mean).toBeUndefined();
    expect(d.variance).toBeUndefined();
    const one = truncate(poisson(3), { min: 1, max: 1 });
    expect(one.describe()).toBe('truncate(poisson(mean=3), min=1, max=1)');
    expect(new Set(samples(one, 1000))).toEqual(new Set([1]));
  });

  it('is deterministic: same stream state, same samples', () => {
    const d = truncate(exponential({ mean: 10 }), { min: 5, max: 8 });
    expect(samples(d, 500)).toEqual(samples(d, 500));
    expect(samples(d, 500)).not.toEqual(samples(d, 500, 'another-stream'));
  });

  it('rejects bounds that are missing, not finite, or crossed', () => {
    const d = normal(0, 1);
    expect(thrown(() => truncate(d, { min: 5, max: 1 })).message).toBe(
      'truncate: max must be a number >= min (5), got 1',
    );
    expect(thrown(() => truncate(d, { min: Number.NaN })).message).toBe(
      'truncate: min must be a finite number, got NaN',
    );
    expect(thrown(() => truncate(d, { max: Number.POSITIVE_INFINITY })).message).toBe(
      'truncate: max must be a finite number, got Infinity',
    );
    expect(thrown(() => truncate(d, undefined as never)).message).toMatch(
      /^truncate: bounds must be an object/,
    );
    expect(thrown(() => truncate({} as Distribution, { min: 0 })).message).toMatch(
      /^truncate: dist must be a distribution/,
    );
  });

  it('fails at construction when the bounds hold almost none of the distribution', () => {
    const err = thrown(() => truncate(normal({ mean: 0, sd: 1 }), { min: 6 }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe(
      `truncate: only 0 of ${TRUNCATE_TRIALS} trial samples of normal(mean=0, sd=1) fell in [6, Infinity] ` +
        '(at least 10 needed): the bounds hold too little of the distribution for rejection sampling; ' +
        'widen them or choose a distribution that lives there',
    );
  });

  it('fails clearly, never clamps, when a sample keeps landing outside the bounds', () => {
    // In range for the construction trial, then never again: the rejection loop must give up.
    let draws = 0;
    const drifting: Distribution = {
      kind: 'drifting',
      mean: undefined,
      sample: () => (++draws <= TRUNCATE_TRIALS ? 0.5 : 2),
      describe: () => 'drifting',
    };
    const d = truncate(drifting, { min: 0, max: 1 });
    draws = TRUNCATE_TRIALS;
    let caught: unknown;
    try {
      d.sample(new RandomStream('1', 'svc'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DsimError);
    expect((caught as DsimError).message).toBe(
      `truncate(drifting, min=0, max=1): ${TRUNCATE_MAX_REJECTIONS} samples in a row from stream "svc" fell ` +
        'outside the bounds; the distribution puts (almost) no mass inside them: widen the bounds or ' +
        'choose a distribution that lives there',
    );
    expect(draws - TRUNCATE_TRIALS).toBe(TRUNCATE_MAX_REJECTIONS);
  });
});
