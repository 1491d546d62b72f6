import { assertNonNegative, invalidArgument } from '../errors.js';
import { optionKeys } from '../options.js';
import { assertParams, type Distribution } from './distribution.js';
import type { RandomStream } from './stream.js';

/** Largest supported `n`: the CDF table takes 8 bytes per rank (80 MB at the limit). */
export const ZIPF_MAX_N = 10_000_000;

/** Parameters of {@link zipf}. */
export interface ZipfParams {
  /** The number of ranks, an integer in [1, {@link ZIPF_MAX_N}]. */
  readonly n: number;
  /** The exponent, a finite number >= 0: 0 is uniform, 1 is classic Zipf, larger is more skewed. */
  readonly s: number;
}

const ZIPF_KEYS = optionKeys<ZipfParams>()({ n: true, s: true });

class Zipf implements Distribution {
  readonly kind = 'zipf';
  private cdf: Float64Array | undefined;
  private _mean = 0;
  private _variance = 0;
  constructor(
    private readonly n: number,
    private readonly s: number,
  ) {}

  /** Exact mean `H(n, s-1) / H(n, s)`; the first read builds the table (O(n)). */
  get mean(): number {
    if (this.cdf === undefined) this.build();
    return this._mean;
  }

  /** Exact variance; the first read builds the table (O(n)). */
  get variance(): number {
    if (this.cdf === undefined) this.build();
    return this._variance;
  }

  sample(rng: RandomStream): number {
    const cdf = this.cdf ?? this.build();
    const u = rng.next();
    // Smallest index whose cumulative probability exceeds u.
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo + 1;
  }

  describe(): string {
    return `zipf(n=${this.n}, s=${this.s})`;
  }

  private build(): Float64Array {
    const { n, s } = this;
    const cdf = new Float64Array(n);
    let total = 0;
    let sumK = 0;
    let sumK2 = 0;
    for (let k = 1; k <= n; k++) {
      const w = k ** -s;
      total += w;
      sumK += k * w;
      sumK2 += k * k * w;
      cdf[k - 1] = total;
    }
    for (let i = 0; i < n; i++) cdf[i] = cdf[i]! / total;
    // Rounding may leave the last entry a hair below 1; u < 1 must always find a rank.
    cdf[n - 1] = 1;
    this._mean = sumK / total;
    // E[k^2] - mean^2 can round a hair below 0 when the variance is 0 (n = 1 or a huge s).
    this._variance = Math.max(0, sumK2 / total - this._mean * this._mean);
    this.cdf = cdf;
    return cdf;
  }
}

/**
 * Zipf distribution over the ranks 1..n: `P(k) ∝ 1 / k^s`, rank 1 the most likely. The usual model of
 * key popularity (cache and hot-partition studies). The cumulative table is built on the first sample
 * (or the first read of `mean` / `variance`) in O(n) time and 8n bytes; each sample is then a binary
 * search, O(log n), allocation-free.
 *
 * @example
 * ```ts
 * const key = zipf({ n: 10_000, s: 1.1 });
 * cache.get(`key-${key.sample(rng)}`);
 * ```
 */
export function zipf(params: ZipfParams): Distribution {
  assertParams('zipf', params, '{ n, s }', ZIPF_KEYS);
  const { n, s } = params;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > ZIPF_MAX_N) {
    throw invalidArgument('zipf.n', n, `an integer in [1, ${ZIPF_MAX_N}]`);
  }
  assertNonNegative('zipf.s', s);
  return new Zipf(n, s);
}
