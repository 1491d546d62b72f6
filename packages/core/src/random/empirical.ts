import { invalidArgument } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import type { Distribution } from './distribution.js';
import type { RandomStream } from './stream.js';

/** Options of {@link empirical}. */
export interface EmpiricalOptions {
  /**
   * `false`: resample, returning one of the given values, each with probability 1/n (duplicates count
   * twice). `true`: interpolate, drawing from the piecewise-linear quantile function through the sorted
   * values (the i-th smallest of n at probability i/(n-1)), so results are continuous and lie between
   * the smallest and the largest value.
   * @default false
   */
  readonly interpolate?: boolean;
}

const EMPIRICAL_KEYS = optionKeys<EmpiricalOptions>()({ interpolate: true });

class Empirical implements Distribution {
  readonly kind = 'empirical';
  readonly mean: number;
  readonly variance: number;
  private readonly last: number;
  constructor(
    // Sorted when interpolating; in the given order when resampling.
    private readonly values: Float64Array,
    private readonly interpolate: boolean,
  ) {
    const n = values.length;
    this.last = n - 1;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[i]!;
    if (!interpolate || n === 1) {
      const mean = sum / n;
      let sq = 0;
      for (let i = 0; i < n; i++) sq += (values[i]! - mean) ** 2;
      this.mean = mean;
      this.variance = sq / n;
      return;
    }
    // Each of the n-1 segments carries probability 1/(n-1) spread uniformly between its two ends.
    const mean = (sum - (values[0]! + values[n - 1]!) / 2) / (n - 1);
    let sq = 0;
    for (let i = 0; i < n - 1; i++) {
      const a = values[i]! - mean;
      const b = values[i + 1]! - mean;
      sq += (a * a + a * b + b * b) / 3;
    }
    this.mean = mean;
    this.variance = sq / (n - 1);
  }
  sample(rng: RandomStream): number {
    const values = this.values;
    if (!this.interpolate || this.last === 0) {
      return values[Math.floor(rng.next() * values.length)]!;
    }
    const x = rng.next() * this.last;
    const i = Math.floor(x);
    const lo = values[i]!;
    return lo + (x - i) * (values[i + 1]! - lo);
  }
  describe(): string {
    return `empirical(n=${this.values.length}${this.interpolate ? ', interpolate' : ''})`;
  }
}

/**
 * A distribution from observed values, e.g. measured latencies. By default it resamples: each sample is
 * one of the given values, chosen uniformly. With `{ interpolate: true }` it draws from the
 * piecewise-linear interpolation of the sorted values, which gives continuous results between the
 * minimum and the maximum (see {@link EmpiricalOptions.interpolate}). The values are copied, so later
 * changes to the array do not affect the distribution. `mean` and `variance` are those of the
 * distribution sampled (for resampling, the population mean and variance of the values).
 *
 * @param samples - a non-empty array of finite numbers
 * @param options - `{ interpolate }`, see {@link EmpiricalOptions}
 * @example
 * ```ts
 * const measured = empirical([12, 15, 11, 40, 13]);
 * const smooth = empirical([12, 15, 11, 40, 13], { interpolate: true });
 * ```
 */
export function empirical(samples: readonly number[], options: EmpiricalOptions = {}): Distribution {
  if (!Array.isArray(samples) || samples.length === 0) {
    throw invalidArgument('empirical.samples', samples, 'a non-empty array of finite numbers');
  }
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('empirical.options', options, 'an object { interpolate?: boolean }');
  }
  checkOptions('empirical', options, EMPIRICAL_KEYS);
  const interpolate = options.interpolate ?? false;
  if (typeof interpolate !== 'boolean') {
    throw invalidArgument('empirical.interpolate', interpolate, 'a boolean');
  }
  const values = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw invalidArgument(`empirical.samples[${i}]`, v, 'a finite number');
    }
    values[i] = v;
  }
  if (interpolate) values.sort();
  return new Empirical(values, interpolate);
}
