import { invalidArgument } from '../errors.js';

const TWO_32 = 2 ** 32;

/**
 * Sub-bucket bits of HdrHistogram's layout for `significantDigits` (0 to 5) and lowest discernible value
 * 1: log2 of half the sub-bucket count, where the sub-bucket count is 2^ceil(log2(2·10^d)), the smallest
 * power of two that keeps unit resolution up to 2·10^d. 1 → 4, 2 → 7, 3 → 10, 4 → 14, 5 → 17.
 *
 * @example
 * ```ts
 * const buckets = new LogBuckets(subBucketBits(3)); // hdr-histogram-js's layout at 3 digits
 * ```
 */
export function subBucketBits(significantDigits: number): number {
  if (!Number.isInteger(significantDigits) || significantDigits < 0 || significantDigits > 5) {
    throw invalidArgument('significantDigits', significantDigits, 'an integer from 0 to 5', 'subBucketBits');
  }
  // hdr-histogram-js's JsHistogram.init, term for term (lowestDiscernibleValue 1, unitMagnitude 0).
  const magnitude = Math.ceil(Math.log2(2 * Math.floor(10 ** significantDigits)));
  return (magnitude > 1 ? magnitude : 1) - 1;
}

/**
 * A log-linear histogram of non-negative integers in HdrHistogram's bucket layout, with the precision
 * (`subBits`, see {@link subBucketBits}) chosen at construction: values below 2^(subBits+1) are exact;
 * above, each power of two is cut into 2^subBits equal buckets, so a bucket spans at most 2^-subBits of
 * its values (7 bits: 0.78%; 10 bits, HdrHistogram's 3 digits: 0.098%). Bucket indices and
 * {@link LogBuckets.percentile} are those of hdr-histogram-js, so the same values give the same
 * percentiles, bit for bit.
 *
 * `record()` costs about 7 ns (Node 20, x64; hdr-histogram-js: 85 to 160 ns): a `clz32`, a shift and an
 * increment, no allocation. Counts are a `Uint32Array` grown to the highest bucket used (about 5 KB at 7
 * bits and 65 KB at 10 bits for values up to 10^7): in a large simulation the increments land in dozens
 * of such arrays at random, and half the bytes means fewer cache misses, the main cost of a record there.
 * A bucket reaching 2^32 switches the whole array to a `Float64Array` (exact up to 2^53 per bucket), so
 * nothing wraps. Values above 2^53 - 1 count in the top bucket (hdr-histogram-js loses them).
 *
 * @example
 * ```ts
 * const b = new LogBuckets(); // 7 bits: 128 buckets per power of two
 * b.record(1500);
 * b.percentile(50); // 1503: the upper edge of 1500's bucket
 * ```
 */
export class LogBuckets {
  /** Sub-bucket bits: each power of two above 2^(subBits+1) has 2^subBits buckets. */
  readonly subBits: number;
  private readonly half: number;
  /** Length that holds the bucket of 2^53 - 1, the largest value kept apart. */
  private readonly cap: number;
  /** 32-bit counts until a bucket reaches 2^32, then 64-bit floats (see {@link LogBuckets.widen}). */
  private counts: Uint32Array | Float64Array = new Uint32Array(0);
  private n = 0;
  private lo: number;
  private hi = -1;
  /**
   * One bit per bucket, set while it holds a count: {@link LogBuckets.drainInto} visits the buckets in
   * use, in index order, without reading the empty ones between them (an interval's values are a few
   * hundred buckets spread over thousands). Set when a bucket goes from empty to used, cleared by a drain
   * or a reset.
   */
  private used = new Int32Array(0);

  /** @param subBits - sub-bucket bits, an integer from 0 to 17 (HdrHistogram's 0 to 5 digits); default 7 */
  constructor(subBits = 7) {
    if (!Number.isInteger(subBits) || subBits < 0 || subBits > 17) {
      throw invalidArgument('subBits', subBits, 'an integer from 0 to 17', 'LogBuckets');
    }
    this.subBits = subBits;
    this.half = 2 ** subBits;
    this.cap = bucketIndex(Number.MAX_SAFE_INTEGER, subBits) + 1;
    this.lo = this.cap;
  }

  /** Adds one value: an integer >= 0 (not checked: this is the hot path). */
  record(value: number): void {
    const i = bucketIndex(value, this.subBits);
    if (i >= this.counts.length) this.grow(i);
    const counts = this.counts;
    const c = counts[i]! + 1;
    counts[i] = c;
    if (c === 1) this.used[i >>> 5]! |= 1 << (i & 31);
    // A 32-bit bucket stores 2^32 as 0: widen first, then store it exactly.
    else if (c === TWO_32) this.widen(i, c);
    this.n++;
    if (i < this.lo) this.lo = i;
    if (i > this.hi) this.hi = i;
  }

  /** Adds `count` (an integer >= 1) occurrences of `value` (an integer >= 0). */
  recordCount(value: number, count: number): void {
    const i = bucketIndex(value, this.subBits);
    if (i >= this.counts.length) this.grow(i);
    this.add(i, count);
    this.n += count;
    if (i < this.lo) this.lo = i;
    if (i > this.hi) this.hi = i;
  }

  /**
   * Adds every count of `other`. Same `subBits`: bucket by bucket, exact. Otherwise each of `other`'s
   * buckets is re-recorded at its upper edge: a finer `other` loses nothing (its buckets nest in
   * ours); a coarser one keeps its own precision, 2^-other.subBits, and its percentiles stay upper
   * bounds.
   */
  merge(other: LogBuckets): void {
    const lo = other.lo;
    const hi = other.hi;
    if (hi < 0) return;
    if (other.subBits !== this.subBits) {
      for (let i = lo; i <= hi; i++) {
        const c = other.counts[i]!;
        if (c > 0) this.recordCount(other.highestValue(i), c);
      }
      return;
    }
    if (hi >= this.counts.length) this.grow(hi);
    const theirs = other.counts;
    for (let i = lo; i <= hi; i++) {
      const c = theirs[i]!;
      if (c > 0) this.add(i, c);
    }
    this.n += other.n;
    if (lo < this.lo) this.lo = lo;
    if (hi > this.hi) this.hi = hi;
  }

  /** Values recorded since the last reset. */
  get count(): number {
    return this.n;
  }

  /** Lowest non-empty bucket index; greater than {@link LogBuckets.lastIndex} when empty. */
  get firstIndex(): number {
    return this.lo;
  }

  /** Highest non-empty bucket index, -1 when empty. */
  get lastIndex(): number {
    return this.hi;
  }

  /** Count in bucket `index`. */
  countAt(index: number): number {
    return index < this.counts.length ? this.counts[index]! : 0;
  }

  /** Bucket index of `value` (an integer >= 0), hdr-histogram-js's `countsArrayIndex`. */
  indexOf(value: number): number {
    return bucketIndex(value, this.subBits);
  }

  /** Smallest value in bucket `index` (hdr-histogram-js's `valueFromIndex`). */
  lowestValue(index: number): number {
    return lowestValueAt(index, this.subBits);
  }

  /** Largest value in bucket `index` (hdr-histogram-js's `highestEquivalentValue`, same rounding). */
  highestValue(index: number): number {
    return highestValueAt(index, this.subBits);
  }

  /**
   * hdr-histogram-js's `getValueAtPercentile(p)` (p from 0 to 100) over these buckets: the upper edge of
   * the bucket holding the value of rank max(1, ceil(p·n/100 - ulp)), or, for p = 0, the lower edge of
   * the first non-empty bucket; NaN when empty.
   */
  percentile(p: number): number {
    return this.valueAtPercentile(p, this.subBits);
  }

  /**
   * The percentile `p` that a `LogBuckets(subBits)` holding the same values would report, for `subBits`
   * from 0 to this one's: HdrHistogram's buckets at fewer bits are unions of whole buckets at more bits
   * (both cut each power of two into power-of-two-aligned buckets), so the value of the rank sits in
   * the coarse bucket that holds the fine one, and the answer is the same bit for bit.
   *
   * @example
   * ```ts
   * const fine = new LogBuckets(10);
   * fine.record(1500);
   * fine.percentileAs(50, 7); // 1503, as new LogBuckets(7) would say
   * ```
   */
  percentileAs(p: number, subBits: number): number {
    if (!Number.isInteger(subBits) || subBits < 0 || subBits > this.subBits) {
      throw invalidArgument(
        'subBits',
        subBits,
        `an integer from 0 to ${this.subBits}`,
        'LogBuckets.percentileAs',
      );
    }
    return this.valueAtPercentile(p, subBits);
  }

  /**
   * hdr-histogram-js's `getValueAtPercentile(p)` over these buckets, read in the layout of `subBits`
   * (at most this one's): the upper edge of the coarse bucket holding the value of rank
   * max(1, ceil(p·n/100 - ulp)), or, for p = 0, its lower edge; NaN when empty.
   */
  private valueAtPercentile(p: number, subBits: number): number {
    const n = this.n;
    if (n === 0) return Number.NaN;
    const rank = percentileRank(p, n);
    const counts = this.counts;
    let seen = 0;
    for (let i = this.lo; i <= this.hi; i++) {
      seen += counts[i]!;
      if (seen >= rank) {
        const coarse = subBits === this.subBits ? i : bucketIndex(lowestValueAt(i, this.subBits), subBits);
        return p === 0 ? lowestValueAt(coarse, subBits) : highestValueAt(coarse, subBits);
      }
    }
    return 0; // hdr-histogram-js's answer when the rank is never reached (counts sum to n: unreachable)
  }

  /**
   * Closes a window of values in one pass over the buckets used: adds every count into `target` (same
   * `subBits`; skipped when null), writes to `out[k]` the percentile `ps[k]` (ascending, 0 < p <= 100)
   * that a `LogBuckets(subBits)` holding the same values would report (as {@link LogBuckets.percentileAs},
   * NaN when empty), and resets. The same figures as `target.merge(this)`, `percentileAs` per `p` and
   * `reset()`, with one walk instead of one per step.
   *
   * @example
   * ```ts
   * const out = new Float64Array(2);
   * interval.drainInto(runWide, [50, 99], 7, out); // out: p50, p99 at 2 digits
   * ```
   */
  drainInto(target: LogBuckets | null, ps: readonly number[], subBits: number, out: Float64Array): void {
    if (target !== null && target.subBits !== this.subBits) {
      throw invalidArgument(
        'target.subBits',
        target.subBits,
        `${this.subBits}, this one's`,
        'LogBuckets.drainInto',
      );
    }
    if (!Number.isInteger(subBits) || subBits < 0 || subBits > this.subBits) {
      throw invalidArgument(
        'subBits',
        subBits,
        `an integer from 0 to ${this.subBits}`,
        'LogBuckets.drainInto',
      );
    }
    for (let k = 0; k < ps.length; k++) {
      const p = ps[k]!;
      if (!(p > 0 && p <= 100 && (k === 0 || p >= ps[k - 1]!)))
        throw invalidArgument(`ps[${k}]`, p, 'ascending percentiles in (0, 100]', 'LogBuckets.drainInto');
    }
    if (out.length < ps.length)
      throw invalidArgument(
        'out.length',
        out.length,
        `at least ps.length (${ps.length})`,
        'LogBuckets.drainInto',
      );
    const n = this.n;
    const lo = this.lo;
    const hi = this.hi;
    if (n === 0) {
      for (let k = 0; k < ps.length; k++) out[k] = Number.NaN;
      return;
    }
    if (target !== null && hi >= target.counts.length) target.grow(hi);
    const counts = this.counts;
    const used = this.used;
    // The target's arrays, read once (a widening replaces its counts: read them again after one).
    let theirs = target === null ? null : target.counts;
    const theirUsed = target === null ? null : target.used;
    let k = 0;
    let rank = percentileRank(ps[0]!, n);
    let seen = 0;
    // The buckets in use, in index order: each set bit of each word, lowest first.
    for (let w = lo >>> 5; w <= hi >>> 5; w++) {
      let bits = used[w]!;
      if (bits === 0) continue;
      used[w] = 0;
      do {
        const lowest = bits & -bits;
        bits ^= lowest;
        const i = (w << 5) | (31 - Math.clz32(lowest));
        const c = counts[i]!;
        seen += c;
        while (k < ps.length && seen >= rank) {
          out[k++] = highestValueAt(bucketIndex(lowestValueAt(i, this.subBits), subBits), subBits);
          if (k < ps.length) rank = percentileRank(ps[k]!, n);
        }
        if (theirs !== null) {
          const before = theirs[i]!;
          const sum = before + c;
          if (sum >= TWO_32) {
            target!.add(i, c);
            theirs = target!.counts;
          } else {
            theirs[i] = sum;
            if (before === 0) theirUsed![i >>> 5]! |= 1 << (i & 31);
          }
        }
        counts[i] = 0;
      } while (bits !== 0);
    }
    if (target !== null) {
      target.n += n;
      if (lo < target.lo) target.lo = lo;
      if (hi > target.hi) target.hi = hi;
    }
    this.n = 0;
    this.lo = this.cap;
    this.hi = -1;
  }

  /** Forgets every value; keeps the buckets allocated and clears only the range used. */
  reset(): void {
    if (this.hi >= 0) {
      this.counts.fill(0, this.lo, this.hi + 1);
      this.used.fill(0, this.lo >>> 5, (this.hi >>> 5) + 1);
    }
    this.n = 0;
    this.lo = this.cap;
    this.hi = -1;
  }

  private grow(index: number): void {
    const half = this.half;
    let length: number;
    if (index < 2 * half) {
      // Exact range: powers of two, so small values stay small even at 17 bits (2^18 exact slots).
      length = 64;
      while (length <= index) length *= 2;
    } else {
      // To the end of the next octave: few regrowths, little slack.
      length = (Math.floor(index / half) + 2) * half;
    }
    const size = Math.max(Math.min(length, this.cap), index + 1);
    const next = this.counts instanceof Uint32Array ? new Uint32Array(size) : new Float64Array(size);
    next.set(this.counts);
    this.counts = next;
    const used = new Int32Array((size + 31) >>> 5);
    used.set(this.used);
    this.used = used;
  }

  /** Adds `count` to bucket `i` (in range), widening to 64-bit floats when 32 bits would not hold it. */
  private add(i: number, count: number): void {
    const before = this.counts[i]!;
    if (before === 0) this.used[i >>> 5]! |= 1 << (i & 31);
    const c = before + count;
    if (c >= TWO_32 && this.counts instanceof Uint32Array) this.widen(i, c);
    else this.counts[i] = c;
  }

  /**
   * Switches the counts to a `Float64Array` (exact to 2^53 per bucket) and sets bucket `i` to `value`,
   * the count that did not fit in 32 bits. Happens at most once, after 2^32 values in one bucket.
   */
  private widen(i: number, value: number): void {
    const wide = new Float64Array(this.counts.length);
    wide.set(this.counts);
    wide[i] = value;
    this.counts = wide;
  }
}

/**
 * hdr-histogram-js's `countsArrayIndex` at lowest discernible value 1: `v` below 2^(s+1), else
 * b·2^s + floor(v / 2^b) with b = floor(log2 v) - s. Below 2^32 (every latency under 71 minutes in µs)
 * `clz32` gives floor(log2 v) exactly, without `Math.log2`.
 */
function bucketIndex(v: number, s: number): number {
  if (v < TWO_32) {
    const shift = 31 - Math.clz32(v) - s;
    // `| 0`: an int32 index either way (v < 2^18 here), so V8 keeps one small-integer representation.
    return shift <= 0 ? v | 0 : (shift << s) + (v >>> shift);
  }
  return wideIndex(v, s);
}

/**
 * Index of `v` >= 2^32, with hdr-histogram-js's own `Math.log2`: it can round up just below a power of
 * two from 2^49, and the overlapping layout maps that to the same index anyway.
 */
function wideIndex(v: number, s: number): number {
  if (!(v <= Number.MAX_SAFE_INTEGER)) v = Number.MAX_SAFE_INTEGER;
  const bucket = Math.floor(Math.log2(v)) - s;
  return bucket * 2 ** s + Math.floor(v / 2 ** bucket);
}

/** Smallest value in bucket `index` at `s` sub-bucket bits (hdr-histogram-js's `valueFromIndex`). */
function lowestValueAt(index: number, s: number): number {
  const half = 2 ** s;
  let bucket = Math.floor(index / half) - 1;
  let sub = (index % half) + half;
  if (bucket < 0) {
    sub -= half;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

/** Largest value in bucket `index` at `s` sub-bucket bits (`highestEquivalentValue`, same rounding). */
function highestValueAt(index: number, s: number): number {
  const bucket = Math.max(Math.floor(index / 2 ** s) - 1, 0);
  return lowestValueAt(index, s) + 2 ** bucket - 1;
}

/**
 * The rank hdr-histogram-js's `getValueAtPercentile(p)` looks for among `n` values, term for term, so
 * the float rounding of the rank is the same.
 */
function percentileRank(p: number, n: number): number {
  const fpCount = (Math.min(p, 100) / 100) * n;
  return Math.max(Math.ceil(fpCount - ulp(fpCount)), 1);
}

/** hdr-histogram-js's `ulp`, to round percentile ranks the same way. */
function ulp(x: number): number {
  return 2 ** (Math.floor(Math.log2(x)) - 52);
}
