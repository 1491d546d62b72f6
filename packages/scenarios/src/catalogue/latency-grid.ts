import { DsimError, mmcQueue } from '@dsim/core';

/** Tail mass left out when an exponential is cut off. */
const TAIL = 1e-12;

function checkStep(dt: number, where: string): void {
  if (typeof dt !== 'number' || !(dt > 0) || !Number.isFinite(dt))
    throw new DsimError('INVALID_ARGUMENT', `${where}: dt must be a finite step > 0 (ms), got ${dt}`, {
      details: { field: 'dt', value: dt, allowed: 'a finite number > 0' },
    });
}

function checkMs(value: number, field: string, where: string): void {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value))
    throw new DsimError(
      'INVALID_ARGUMENT',
      `${where}: ${field} must be a finite time >= 0 (ms), got ${value}`,
      {
        details: { field, value, allowed: 'a finite number >= 0' },
      },
    );
}

/**
 * The distribution of a latency built from independent parts, held on a grid: `offset` (ms, exact) plus
 * a mass per grid point, point i standing for offset + i·dt and holding the mass of
 * [(i − ½)dt, (i + ½)dt). Constants go to the offset, so they add up exactly; sums of parts convolve
 * (`plus`), parallel calls take the maximum (`max`, independent parts). This gives the mean and the
 * percentiles of a chain of calls, where a sum of percentiles would overstate the tail (for the p99 of
 * a sum of k independent times, adding their p99s assumes they are all slow at once).
 *
 * @example
 * ```ts
 * const call = LatencyGrid.exponential(2, 0.05).plus(LatencyGrid.constant(0.5, 0.05));
 * const chain = call.plus(call).plus(call);
 * chain.mean;           // 7.5
 * chain.quantile(0.99); // about 18.3: the sum's p99, not 3 × (0.5 + 9.2)
 * ```
 */
export class LatencyGrid {
  private constructor(
    /** Grid step, ms. */
    readonly dt: number,
    /** Exact constant part, ms. */
    readonly offset: number,
    /** Mass at offset + i·dt. */
    readonly mass: Float64Array,
  ) {}

  /** A constant time. */
  static constant(ms: number, dt: number): LatencyGrid {
    checkStep(dt, 'LatencyGrid.constant');
    checkMs(ms, 'ms', 'LatencyGrid.constant');
    return new LatencyGrid(dt, ms, Float64Array.of(1));
  }

  /** An exponential time of mean `meanMs` (0: a zero time), cut off where the tail is below 1e−12. */
  static exponential(meanMs: number, dt: number): LatencyGrid {
    checkStep(dt, 'LatencyGrid.exponential');
    checkMs(meanMs, 'meanMs', 'LatencyGrid.exponential');
    if (meanMs === 0) return new LatencyGrid(dt, 0, Float64Array.of(1));
    const n = Math.ceil((-Math.log(TAIL) * meanMs) / dt) + 1;
    const mass = new Float64Array(n);
    let prev = 1; // P(T > lower edge of point i)
    for (let i = 0; i < n; i++) {
      const next = Math.exp(-((i + 0.5) * dt) / meanMs);
      mass[i] = prev - next;
      prev = next;
    }
    return new LatencyGrid(dt, 0, mass);
  }

  /**
   * The wait in a queue whose arrivals wait with probability `probWait` and then for an exponential
   * time, with mean wait `meanWaitMs` overall: the shape of an M/M/c wait (none with probability 1 − C,
   * else exponential), with the mean given (e.g. Allen–Cunneen's, for a service time that is not
   * exponential).
   */
  static wait(probWait: number, meanWaitMs: number, dt: number): LatencyGrid {
    checkStep(dt, 'LatencyGrid.wait');
    checkMs(meanWaitMs, 'meanWaitMs', 'LatencyGrid.wait');
    if (!(probWait >= 0 && probWait <= 1))
      throw new DsimError(
        'INVALID_ARGUMENT',
        `LatencyGrid.wait: probWait must be in [0, 1], got ${probWait}`,
        {
          details: { field: 'probWait', value: probWait, allowed: 'a probability in [0, 1]' },
        },
      );
    if (probWait === 0 || meanWaitMs === 0) return new LatencyGrid(dt, 0, Float64Array.of(1));
    const tail = LatencyGrid.exponential(meanWaitMs / probWait, dt).mass;
    const mass = new Float64Array(tail.length);
    for (let i = 0; i < tail.length; i++) mass[i] = probWait * tail[i]!;
    mass[0]! += 1 - probWait;
    return new LatencyGrid(dt, 0, mass);
  }

  /**
   * The wait of an M/G/c queue with `servers`, arrivals `ratePerMs`, mean service `meanMs` and its
   * variance: Erlang C's probability of waiting ({@link mmcQueue}), Allen–Cunneen's mean
   * (the M/M/c mean × (1 + CV²) / 2), an exponential tail. Null when the queue is unstable.
   */
  static mgcWait(
    servers: number,
    ratePerMs: number,
    meanMs: number,
    variance: number,
    dt: number,
  ): LatencyGrid | null {
    const q = mmcQueue({ servers, arrivalRate: ratePerMs, serviceRate: 1 / meanMs });
    if (q === null) return null;
    return LatencyGrid.wait(q.probWait, (q.meanWait * (1 + variance / (meanMs * meanMs))) / 2, dt);
  }

  /** The sum of this time and an independent one: offsets add, masses convolve. */
  plus(other: LatencyGrid): LatencyGrid {
    this.sameStep(other, 'plus');
    const a = this.mass;
    const b = other.mass;
    const out = new Float64Array(a.length + b.length - 1);
    for (let i = 0; i < a.length; i++) {
      const ai = a[i]!;
      if (ai === 0) continue;
      for (let j = 0; j < b.length; j++) out[i + j]! += ai * b[j]!;
    }
    return new LatencyGrid(this.dt, this.offset + other.offset, out);
  }

  /**
   * The larger of this time and an independent one (two calls in parallel, waiting for both):
   * P(max ≤ t) = P(A ≤ t) P(B ≤ t). The offsets are aligned to the grid (within dt / 2).
   */
  max(other: LatencyGrid): LatencyGrid {
    this.sameStep(other, 'max');
    const dt = this.dt;
    const [lo, hi] = this.offset <= other.offset ? [this, other] : [other, this];
    const shift = Math.round((hi.offset - lo.offset) / dt);
    const n = Math.max(lo.mass.length, shift + hi.mass.length);
    const out = new Float64Array(n);
    let cdfLo = 0;
    let cdfHi = 0;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      cdfLo += lo.mass[i] ?? 0;
      if (i >= shift) cdfHi += hi.mass[i - shift] ?? 0;
      const cdf = cdfLo * cdfHi;
      out[i] = cdf - prev;
      prev = cdf;
    }
    return new LatencyGrid(dt, lo.offset, out);
  }

  /** Total mass (1 up to the cut-off tails). */
  get total(): number {
    let s = 0;
    for (const m of this.mass) s += m;
    return s;
  }

  /** The mean, ms. */
  get mean(): number {
    let s = 0;
    for (let i = 0; i < this.mass.length; i++) s += i * this.mass[i]!;
    return this.offset + (s * this.dt) / this.total;
  }

  /** The p-quantile (p in (0, 1)), ms, interpolated linearly within a grid point's cell. */
  quantile(p: number): number {
    if (!(p > 0 && p < 1))
      throw new DsimError('INVALID_ARGUMENT', `LatencyGrid.quantile: p must be in (0, 1), got ${p}`, {
        details: { field: 'p', value: p, allowed: 'a probability in (0, 1)' },
      });
    const target = p * this.total;
    let cdf = 0;
    for (let i = 0; i < this.mass.length; i++) {
      const m = this.mass[i]!;
      if (cdf + m >= target) {
        const within = m === 0 ? 0 : (target - cdf) / m;
        return this.offset + Math.max(0, (i - 0.5 + within) * this.dt);
      }
      cdf += m;
    }
    return this.offset + (this.mass.length - 0.5) * this.dt;
  }

  /** The density at `t` (per ms), averaged over the cells within `t ± 5 dt`. */
  density(t: number): number {
    const i = Math.round((t - this.offset) / this.dt);
    let s = 0;
    for (let j = i - 5; j <= i + 5; j++) s += this.mass[j] ?? 0;
    return s / (11 * this.dt) / this.total;
  }

  private sameStep(other: LatencyGrid, method: string): void {
    if (other.dt !== this.dt)
      throw new DsimError(
        'INVALID_ARGUMENT',
        `LatencyGrid.${method}: both grids need the same step, got ${this.dt} and ${other.dt}`,
        { details: { field: 'dt', value: other.dt, allowed: String(this.dt) } },
      );
  }
}
