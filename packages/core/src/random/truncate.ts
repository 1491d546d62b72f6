import { DsimError, invalidArgument } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import type { Distribution } from './distribution.js';
import { RandomStream } from './stream.js';

/**
 * Bounds of {@link truncate}: at least one of them.
 *
 * @example
 * ```ts
 * truncate(normal({ mean: 20, sd: 8 }), { min: 5, max: 60 });
 * ```
 */
export interface TruncateBounds {
  /** Smallest value kept (inclusive), a finite number. @default -Infinity (no lower bound) */
  readonly min?: number;
  /** Largest value kept (inclusive), a finite number >= min. @default Infinity (no upper bound) */
  readonly max?: number;
}

const BOUND_KEYS = optionKeys<TruncateBounds>()({ min: true, max: true });

/**
 * Trial samples {@link truncate} draws at construction to measure how much of the distribution lies
 * inside the bounds.
 *
 * @example
 * ```ts
 * const share = TRUNCATE_MIN_ACCEPTED / TRUNCATE_TRIALS; // 0.001: the least share truncate accepts
 * ```
 */
export const TRUNCATE_TRIALS = 10_000;
/**
 * Fewest of the {@link TRUNCATE_TRIALS} trial samples that must fall inside the bounds (0.1%).
 *
 * @example
 * ```ts
 * truncate(normal(0, 1), { min: 6 }); // throws: 0 of 10000 trial samples inside, 10 needed
 * ```
 */
export const TRUNCATE_MIN_ACCEPTED = 10;
/**
 * Consecutive rejected draws after which a {@link truncate} sample fails instead of looping on.
 *
 * @example
 * ```ts
 * const oddsOfFailure = (1 - 0.001) ** TRUNCATE_MAX_REJECTIONS; // < e^-100 with 0.1% inside
 * ```
 */
export const TRUNCATE_MAX_REJECTIONS = 100_000;

class Truncated implements Distribution {
  readonly kind = 'truncated';
  // Not known in closed form for an arbitrary base distribution.
  readonly mean = undefined;
  readonly variance = undefined;
  constructor(
    private readonly base: Distribution,
    private readonly min: number,
    private readonly max: number,
    private readonly label: string,
  ) {}
  sample(rng: RandomStream): number {
    const base = this.base;
    const min = this.min;
    const max = this.max;
    for (let i = 0; i < TRUNCATE_MAX_REJECTIONS; i++) {
      const x = base.sample(rng);
      if (x >= min && x <= max) return x;
    }
    throw new DsimError(
      'INVALID_ARGUMENT',
      `${this.label}: ${TRUNCATE_MAX_REJECTIONS} samples in a row from stream "${rng.name}" fell outside ` +
        'the bounds; the distribution puts (almost) no mass inside them: widen the bounds or choose a ' +
        'distribution that lives there',
      { details: { component: 'truncate', distribution: this.label, stream: rng.name } },
    );
  }
  describe(): string {
    return this.label;
  }
}

/**
 * `dist` restricted to `[min, max]`: samples outside the bounds are rejected and drawn again, so the
 * result has exactly the shape of `dist` inside the bounds, renormalised. Values are never clamped
 * (clamping would pile probability mass on the bound). The usual use is a latency or service time
 * from a distribution that can go negative: `truncate(normal({ mean: 1, sd: 0.5 }), { min: 0 })`.
 *
 * Rejection needs the bounds to hold a fair share of `dist`: at construction, {@link TRUNCATE_TRIALS}
 * trial samples are drawn from a private stream (seeded from the description, so simulation streams
 * are untouched) and fewer than {@link TRUNCATE_MIN_ACCEPTED} inside the bounds (under 0.1%) is an
 * error. A sample costs on average 1 / (share inside) draws of `dist` from the stream passed to
 * `sample`, and fails with an error after {@link TRUNCATE_MAX_REJECTIONS} rejections in a row: with
 * 0.1% of `dist` inside the bounds that happens with probability (1 - 0.001)^100000 < e^-100 per
 * sample. `mean` and `variance` are `undefined`: not known in closed form for an arbitrary `dist`.
 *
 * @param dist - the distribution to truncate
 * @param bounds - `{ min?, max? }`, at least one, finite, `min <= max`
 * @example
 * ```ts
 * const latency = truncate(normal({ mean: 1, sd: 5 }), { min: 0 });
 * const net = new Network(sim, { defaults: { latency } });
 * latency.describe(); // "truncate(normal(mean=1, sd=5), min=0)"
 * ```
 */
export function truncate(dist: Distribution, bounds: TruncateBounds): Distribution {
  if (
    dist === null ||
    typeof dist !== 'object' ||
    typeof (dist as { sample?: unknown }).sample !== 'function'
  ) {
    throw invalidArgument('dist', dist, 'a distribution such as normal({ mean: 1, sd: 0.5 })', 'truncate');
  }
  if (bounds === undefined || bounds === null || typeof bounds !== 'object') {
    throw invalidArgument('bounds', bounds, 'an object { min?, max? } with at least one bound', 'truncate');
  }
  checkOptions('truncate', bounds, BOUND_KEYS);
  const { min, max } = bounds;
  if (min === undefined && max === undefined) {
    throw invalidArgument('bounds', bounds, 'an object { min?, max? } with at least one bound', 'truncate');
  }
  if (min !== undefined && (typeof min !== 'number' || !Number.isFinite(min))) {
    throw invalidArgument('min', min, 'a finite number', 'truncate');
  }
  if (max !== undefined && (typeof max !== 'number' || !Number.isFinite(max))) {
    throw invalidArgument('max', max, 'a finite number', 'truncate');
  }
  if (min !== undefined && max !== undefined && max < min) {
    throw invalidArgument('max', max, `a number >= min (${min})`, 'truncate');
  }
  const base = typeof dist.describe === 'function' ? dist.describe() : String(dist.kind);
  const shown = [min === undefined ? '' : `min=${min}`, max === undefined ? '' : `max=${max}`]
    .filter((x) => x !== '')
    .join(', ');
  const label = `truncate(${base}, ${shown})`;
  const lo = min ?? Number.NEGATIVE_INFINITY;
  const hi = max ?? Number.POSITIVE_INFINITY;
  const trial = new RandomStream('truncate', label);
  let inside = 0;
  for (let i = 0; i < TRUNCATE_TRIALS; i++) {
    const x = dist.sample(trial);
    if (x >= lo && x <= hi) inside++;
  }
  if (inside < TRUNCATE_MIN_ACCEPTED) {
    throw new DsimError(
      'INVALID_ARGUMENT',
      `truncate: only ${inside} of ${TRUNCATE_TRIALS} trial samples of ${base} fell in ` +
        `[${lo}, ${hi}] (at least ${TRUNCATE_MIN_ACCEPTED} needed): the bounds hold too little of the ` +
        'distribution for rejection sampling; widen them or choose a distribution that lives there',
      {
        details: {
          component: 'truncate',
          distribution: base,
          min: lo,
          max: hi,
          inside,
          trials: TRUNCATE_TRIALS,
        },
      },
    );
  }
  return new Truncated(dist, lo, hi, label);
}
