import {
  checkKind,
  checkNumber,
  checkObject,
  checkOptions,
  checkProbability,
  type Distribution,
  invalidArgument,
  invalidOption,
  optionKeys,
  type RandomStream,
  ZIPF_MAX_N,
  zipf,
} from '@dsim/core';

const KC = 'createKeys';
const MC = 'createMix';

/**
 * Largest key count of the `uniform` and `hot-spot` kinds (the range of `RandomStream.int`).
 *
 * @example
 * ```ts
 * createKeys({ kind: 'uniform', count: KEYS_MAX_COUNT }); // 'k0'..'k4294967295'
 * ```
 */
export const KEYS_MAX_COUNT = 2 ** 32;

/** Up to this many keys, key strings are cached in a flat array; above it, in a map of the keys drawn. */
const FLAT_CACHE_MAX = 1 << 20;

/**
 * Every key equally likely: `count` keys, index drawn uniformly (exactly unbiased).
 *
 * @example
 * ```ts
 * const spec: UniformKeySpec = { kind: 'uniform', count: 1000 }; // 'k0'..'k999'
 * ```
 */
export interface UniformKeySpec {
  readonly kind: 'uniform';
  /** Number of keys, an integer in [1, 2^32]. */
  readonly count: number;
  /**
   * Key i is `${prefix}${i}`.
   * @default 'k'
   */
  readonly prefix?: string;
}

/**
 * Zipf popularity: key index i (0-based) has probability ∝ 1 / (i + 1)^s, so `k0` is the most popular.
 * The usual model of cache and hot-partition studies (s ≈ 0.99 in YCSB, 0.6 to 1.2 in web traces).
 *
 * @example
 * ```ts
 * const spec: ZipfKeySpec = { kind: 'zipf', count: 100_000, s: 0.99 };
 * ```
 */
export interface ZipfKeySpec {
  readonly kind: 'zipf';
  /** Number of keys, an integer in [1, 10^7] (core's `ZIPF_MAX_N`: the CDF table takes 8 bytes a key). */
  readonly count: number;
  /** The exponent, a finite number >= 0: 0 is uniform, 1 classic Zipf, larger more skewed. */
  readonly s: number;
  /**
   * Key i is `${prefix}${i}`.
   * @default 'k'
   */
  readonly prefix?: string;
}

/**
 * YCSB's hot-spot distribution: the first `round(hotKeys * count)` keys are hot and receive a `hotShare`
 * of the requests, uniformly among them; the other keys share the rest uniformly. `hotKeys: 0.2,
 * hotShare: 0.8` is the 80/20 rule.
 *
 * @example
 * ```ts
 * const spec: HotSpotKeySpec = { kind: 'hot-spot', count: 10_000, hotKeys: 0.01, hotShare: 0.9 };
 * ```
 */
export interface HotSpotKeySpec {
  readonly kind: 'hot-spot';
  /** Number of keys, an integer in [2, 2^32]. */
  readonly count: number;
  /**
   * Fraction of the keys that are hot, in (0, 1]; `round(hotKeys * count)` must be at least 1, and below
   * `count` unless `hotShare` is 1.
   */
  readonly hotKeys: number;
  /** Fraction of the requests that go to the hot keys, a probability in [0, 1]. */
  readonly hotShare: number;
  /**
   * Key i is `${prefix}${i}`.
   * @default 'k'
   */
  readonly prefix?: string;
}

/**
 * The key popularity models {@link createKeys} builds.
 *
 * @example
 * ```ts
 * const spec: KeySpec = { kind: 'zipf', count: 1000, s: 1 };
 * ```
 */
export type KeySpec = UniformKeySpec | ZipfKeySpec | HotSpotKeySpec;

const KEY_KINDS = {
  uniform: optionKeys<UniformKeySpec>()({ kind: true, count: true, prefix: true }),
  zipf: optionKeys<ZipfKeySpec>()({ kind: true, count: true, s: true, prefix: true }),
  'hot-spot': optionKeys<HotSpotKeySpec>()({
    kind: true,
    count: true,
    hotKeys: true,
    hotShare: true,
    prefix: true,
  }),
} satisfies Record<KeySpec['kind'], readonly string[]>;

/**
 * Draws keys (`"k0"`, `"k1"`...) from a popularity model. Key strings are built once and cached (a flat
 * array up to 2^20 keys, a map of the keys drawn so far above), so drawing allocates nothing after a key's
 * first appearance.
 *
 * @example
 * ```ts
 * const keys = createKeys({ kind: 'zipf', count: 1000, s: 1 });
 * const rng = sim.rng('client/keys');
 * client.call('cache', 'GET', { key: keys.next(rng) });
 * ```
 */
export interface KeyGenerator {
  /** The kind of the spec. */
  readonly kind: KeySpec['kind'];
  /** Number of keys. */
  readonly count: number;
  /** Key prefix. */
  readonly prefix: string;
  /** A key, drawn from `rng`. */
  next(rng: RandomStream): string;
  /** A key index in [0, count), drawn from `rng` (the same draw `next` makes). */
  nextIndex(rng: RandomStream): number;
  /** The key of index `index` (cached). */
  key(index: number): string;
  /** The exact probability of drawing index `index` (0 outside [0, count)). */
  probability(index: number): number;
  /** A short description, e.g. `"zipf(count=1000, s=1)"`. */
  describe(): string;
}

/**
 * Builds a {@link KeyGenerator}, validating every field (errors name it, e.g. `createKeys: keys.count must
 * be ...`); an unknown kind or key (`keys.cout`) is an error with a "did you mean".
 *
 * @example
 * ```ts
 * const keys = createKeys({ kind: 'hot-spot', count: 1000, hotKeys: 0.2, hotShare: 0.8 });
 * keys.next(sim.rng('client/keys')); // 'k0'..'k199' four times out of five
 * ```
 */
export function createKeys(spec: KeySpec): KeyGenerator {
  switch (checkKind(KC, 'keys', spec, KEY_KINDS) as KeySpec['kind']) {
    case 'uniform': {
      const u = spec as UniformKeySpec;
      return new UniformKeys(checkCount(u.count, 1, KEYS_MAX_COUNT), checkPrefix(u.prefix));
    }
    case 'zipf': {
      const z = spec as ZipfKeySpec;
      const count = checkCount(z.count, 1, ZIPF_MAX_N);
      const s = checkNumber(KC, 'keys.s', z.s, { min: 0, unit: '0 is uniform, 1 classic Zipf' });
      return new ZipfKeys(count, s, checkPrefix(z.prefix));
    }
    case 'hot-spot': {
      const h = spec as HotSpotKeySpec;
      const count = checkCount(h.count, 2, KEYS_MAX_COUNT);
      const hotShare = checkProbability(KC, 'keys.hotShare', h.hotShare);
      const hotKeys = h.hotKeys;
      const hot = typeof hotKeys === 'number' ? Math.round(hotKeys * count) : Number.NaN;
      if (!(hotKeys > 0 && hotKeys <= 1) || !(hot >= 1) || (hot >= count && hotShare < 1)) {
        throw invalidOption(
          KC,
          'keys.hotKeys',
          hotKeys,
          `a fraction in (0, 1] with round(hotKeys * count) in [1, ${count - 1}] (count = ${count}; ${count} only when hotShare is 1)`,
        );
      }
      return new HotSpotKeys(count, hot, hotShare, checkPrefix(h.prefix));
    }
  }
}

abstract class CachedKeys implements KeyGenerator {
  abstract readonly kind: KeySpec['kind'];
  private readonly flat: string[] | null;
  private readonly map: Map<number, string> | null;

  constructor(
    readonly count: number,
    readonly prefix: string,
  ) {
    this.flat = count <= FLAT_CACHE_MAX ? new Array<string>(count).fill('') : null;
    this.map = this.flat === null ? new Map() : null;
  }

  abstract nextIndex(rng: RandomStream): number;
  abstract probability(index: number): number;
  abstract describe(): string;

  next(rng: RandomStream): string {
    return this.key(this.nextIndex(rng));
  }

  key(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw invalidArgument('keys.key(index)', index, `an integer in [0, ${this.count - 1}]`);
    }
    const flat = this.flat;
    if (flat !== null) {
      // A key is never '' (it ends with digits), so '' marks a key not built yet.
      let key = flat[index]!;
      if (key === '') flat[index] = key = `${this.prefix}${index}`;
      return key;
    }
    const map = this.map!;
    let key = map.get(index);
    if (key === undefined) map.set(index, (key = `${this.prefix}${index}`));
    return key;
  }
}

class UniformKeys extends CachedKeys {
  readonly kind = 'uniform';
  nextIndex(rng: RandomStream): number {
    return rng.int(0, this.count);
  }
  probability(index: number): number {
    return Number.isInteger(index) && index >= 0 && index < this.count ? 1 / this.count : 0;
  }
  describe(): string {
    return `uniform(count=${this.count})`;
  }
}

class ZipfKeys extends CachedKeys {
  readonly kind = 'zipf';
  private readonly ranks: Distribution;
  private norm = 0;
  constructor(
    count: number,
    private readonly s: number,
    prefix: string,
  ) {
    super(count, prefix);
    this.ranks = zipf({ n: count, s });
  }
  nextIndex(rng: RandomStream): number {
    return this.ranks.sample(rng) - 1;
  }
  probability(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) return 0;
    if (this.norm === 0) {
      // The generalized harmonic number H(count, s), summed smallest terms first for accuracy.
      let total = 0;
      for (let k = this.count; k >= 1; k--) total += k ** -this.s;
      this.norm = total;
    }
    return (index + 1) ** -this.s / this.norm;
  }
  describe(): string {
    return `zipf(count=${this.count}, s=${this.s})`;
  }
}

class HotSpotKeys extends CachedKeys {
  readonly kind = 'hot-spot';
  constructor(
    count: number,
    private readonly hot: number,
    private readonly hotShare: number,
    prefix: string,
  ) {
    super(count, prefix);
  }
  nextIndex(rng: RandomStream): number {
    // Two draws, each exact: which set, then which key in it.
    if (this.hot === this.count || rng.next() < this.hotShare) return rng.int(0, this.hot);
    return this.hot + rng.int(0, this.count - this.hot);
  }
  probability(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) return 0;
    if (this.hot === this.count) return 1 / this.count;
    return index < this.hot ? this.hotShare / this.hot : (1 - this.hotShare) / (this.count - this.hot);
  }
  describe(): string {
    return `hot-spot(count=${this.count}, hot=${this.hot}, hotShare=${this.hotShare})`;
  }
}

function checkCount(count: unknown, min: number, max: number): number {
  return checkNumber(KC, 'keys.count', count, { integer: true, min, max });
}

function checkPrefix(prefix: unknown): string {
  if (prefix === undefined) return 'k';
  if (typeof prefix !== 'string') throw invalidOption(KC, 'keys.prefix', prefix, 'a string');
  return prefix;
}

// ---------------------------------------------------------------------------------------------------------
// Weighted mix
// ---------------------------------------------------------------------------------------------------------

/**
 * One choice of a {@link createMix} mix: `value`, drawn with probability `weight / total weight`.
 *
 * @example
 * ```ts
 * const writes: MixEntry<string> = { value: 'PUT', weight: 5 };
 * ```
 */
export interface MixEntry<T> {
  /** What is drawn. */
  readonly value: T;
  /** Relative weight, a finite number >= 0; the weights need not sum to 1. */
  readonly weight: number;
}

const MIX_KEYS = optionKeys<MixEntry<unknown>>()({ value: true, weight: true });

/**
 * A weighted choice among values, from {@link createMix}.
 *
 * @example
 * ```ts
 * const op = mix.next(rng); // 'read' 90% of the time
 * ```
 */
export interface Mix<T> {
  /** The values, in the order given. */
  readonly values: readonly T[];
  /** A value, drawn from `rng` (one uniform). */
  next(rng: RandomStream): T;
  /** The index of a value, drawn from `rng` (the same draw `next` makes). */
  nextIndex(rng: RandomStream): number;
  /** The probability of the entry at `index` (weight / total). */
  probability(index: number): number;
}

/**
 * Builds a weighted choice: the request mix of a workload (reads and writes, endpoints, payload classes).
 * Weights are relative, finite and >= 0, with a positive total; a zero weight is never drawn. A draw is
 * one uniform and a binary search over the cumulative weights (O(log n), allocation-free).
 *
 * @example
 * ```ts
 * const ops = createMix([
 *   { value: 'read', weight: 90 },
 *   { value: 'write', weight: 9 },
 *   { value: 'scan', weight: 1 },
 * ]);
 * const op = ops.next(sim.rng('client/ops'));
 * ```
 */
export function createMix<T>(entries: readonly MixEntry<T>[]): Mix<T> {
  if (!Array.isArray(entries) || entries.length === 0)
    throw invalidOption(MC, 'mix', entries, 'a non-empty array of { value, weight }');
  const values: T[] = [];
  const cumulative = new Float64Array(entries.length);
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    const entry: unknown = entries[i];
    checkObject(MC, `mix[${i}]`, entry, 'an object { value, weight }');
    checkOptions(MC, entry, MIX_KEYS, `mix[${i}]`);
    const { value, weight } = entry as MixEntry<T>;
    checkNumber(MC, `mix[${i}].weight`, weight, { min: 0 });
    values.push(value);
    total += weight;
    cumulative[i] = total;
  }
  if (!(total > 0) || !Number.isFinite(total))
    throw invalidOption(
      MC,
      'mix',
      entries.map((e) => e.weight),
      'weights with a finite total > 0',
    );
  let last = entries.length - 1;
  while (cumulative[last]! === (last === 0 ? 0 : cumulative[last - 1]!)) last--;
  return new WeightedMix(values, cumulative, total, last);
}

class WeightedMix<T> implements Mix<T> {
  constructor(
    readonly values: readonly T[],
    private readonly cumulative: Float64Array,
    private readonly total: number,
    private readonly lastPositive: number,
  ) {}
  next(rng: RandomStream): T {
    return this.values[this.nextIndex(rng)]!;
  }
  nextIndex(rng: RandomStream): number {
    const u = rng.next() * this.total;
    const cumulative = this.cumulative;
    // First index whose cumulative weight exceeds u: zero-weight entries are never chosen. Searching up to
    // the last positive weight keeps that true even if rounding made u reach the total.
    let lo = 0;
    let hi = this.lastPositive;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
  probability(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.cumulative.length) return 0;
    const below = index === 0 ? 0 : this.cumulative[index - 1]!;
    return (this.cumulative[index]! - below) / this.total;
  }
}
