import { assertNonNegative, assertProbability } from '../errors.js';
import type { Distribution } from './distribution.js';
import { logGamma } from './special.js';
import type { RandomStream } from './stream.js';

class Bernoulli implements Distribution {
  readonly kind = 'bernoulli';
  readonly mean: number;
  readonly variance: number;
  constructor(private readonly p: number) {
    this.mean = p;
    this.variance = p * (1 - p);
  }
  sample(rng: RandomStream): number {
    return rng.next() < this.p ? 1 : 0;
  }
  describe(): string {
    return `bernoulli(p=${this.p})`;
  }
}

/**
 * Bernoulli distribution: 1 with probability `p`, else 0. Handy where a distribution is expected; for a
 * plain yes/no decision `rng.bool(p)` reads better.
 *
 * @param p - probability of 1, in [0, 1]
 * @example
 * ```ts
 * const cacheHit = bernoulli(0.9);
 * ```
 */
export function bernoulli(p: number): Distribution {
  assertProbability('bernoulli.p', p);
  return new Bernoulli(p);
}

// Below this mean Knuth's multiplication method is cheapest (about mean + 1 uniforms); from it on, PTRS.
const POISSON_PTRS_MIN_MEAN = 10;

class Poisson implements Distribution {
  readonly kind = 'poisson';
  readonly variance: number;
  private readonly expNegMean: number;
  // PTRS constants (Hörmann 1993), only used when mean >= POISSON_PTRS_MIN_MEAN.
  private readonly logMean: number;
  private readonly a: number;
  private readonly b: number;
  private readonly logInvAlpha: number;
  private readonly vr: number;
  constructor(readonly mean: number) {
    this.variance = mean;
    this.expNegMean = Math.exp(-mean);
    this.logMean = Math.log(mean);
    this.b = 0.931 + 2.53 * Math.sqrt(mean);
    this.a = -0.059 + 0.02483 * this.b;
    this.logInvAlpha = Math.log(1.1239 + 1.1328 / (this.b - 3.4));
    this.vr = 0.9277 - 3.6224 / (this.b - 2);
  }
  sample(rng: RandomStream): number {
    const mean = this.mean;
    if (mean < POISSON_PTRS_MIN_MEAN) {
      // Knuth: count uniforms until their product drops to exp(-mean).
      const limit = this.expNegMean;
      let k = 0;
      let p = rng.next();
      while (p > limit) {
        k++;
        p *= rng.next();
      }
      return k;
    }
    // PTRS, the transformed rejection method with squeeze (W. Hörmann, 1993), exact for mean >= 10.
    const a = this.a;
    const b = this.b;
    for (;;) {
      const u = rng.next() - 0.5;
      const v = rng.next();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= this.vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      // log(0) = -Infinity accepts, which is correct for v = 0.
      if (
        Math.log(v) + this.logInvAlpha - Math.log(a / (us * us) + b) <=
        -mean + k * this.logMean - logGamma(k + 1)
      ) {
        return k;
      }
    }
  }
  describe(): string {
    return `poisson(mean=${this.mean})`;
  }
}

/**
 * Poisson distribution: the number of events in a window when they arrive at random with `mean` events
 * per window on average. Integers >= 0, variance `mean`. Sampled exactly: Knuth's multiplication method
 * for mean < 10, Hörmann's PTRS transformed rejection from 10 on (constant expected cost).
 *
 * @param mean - the mean, a finite number >= 0 (0 always gives 0)
 * @example
 * ```ts
 * const batch = poisson(3.5);
 * ```
 */
export function poisson(mean: number): Distribution {
  assertNonNegative('poisson.mean', mean);
  return new Poisson(mean);
}
