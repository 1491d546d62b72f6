import seedrandom from 'seedrandom';
import { assertProbability, invalidArgument } from '../errors.js';

const TWO_POW_32 = 4_294_967_296;
const TWO_POW_MINUS_53 = 1.1102230246251565e-16;

/**
 * A named stream of seeded uniform random numbers. Every random decision of a simulation draws from a
 * stream named after what it decides (`"arrivals"`, `"server-3/service"`...), so two runs with the same
 * root seed draw exactly the same numbers, and adding a new stream (a new component, a new metric) never
 * shifts the numbers any other stream draws: the basis of common random numbers when comparing designs.
 *
 * A stream's state is seeded from the root seed and the name hashed together (`${seed}\u0000${name}`),
 * so streams with different names, or the same name under different root seeds, are independent.
 *
 * @remarks
 * The generator is seedrandom's `xor4096` (Richard Brent's xorgens: a 4096-bit xorshift combined with a
 * Weyl sequence, period 2^4128 - 2^32, no systematic BigCrush failures reported). Measured on Node 20
 * (x64, one stream wrapped in a class, 30M draws, median of 7): a 53-bit `next()` built from two
 * `xor4096` 32-bit outputs costs about 5.9 ns (~170M/s), against 8.2 ns through `xor4096.double()`,
 * 10.4 ns for `alea.double()` and 31 ns for the default ARC4 generator; constructing a stream costs
 * about 3 to 4 us (alea 2 to 3 us, ARC4 8.7 us). `xor4096` was chosen as the fastest of the three at
 * 53 bits, with the strongest statistical record and a period long enough that thousands of streams
 * never overlap. No unseeded source, wall clock or seedrandom global mode is involved. seedrandom seeds
 * the generator; the stream then steps the same algorithm itself (`step`), with outputs identical to
 * seedrandom's, because the step inlines into the draw as a method over a typed array where a call
 * through seedrandom's closure does not.
 *
 * @example
 * ```ts
 * const arrivals = new RandomStream('42', 'arrivals');
 * const gap = -1000 * Math.log(1 - arrivals.next()); // exponential, mean 1s
 * const server = arrivals.int(0, 4); // 0, 1, 2 or 3
 * ```
 */
export class RandomStream {
  /** Root seed the stream was derived from. */
  readonly seed: string;
  /** Name of the stream, unique within a simulation. */
  readonly name: string;
  // xor4096's state (Brent's xorgens 4096-bit generator, as seedrandom implements it): 128 words, the
  // index of the last one written and the Weyl counter. seedrandom seeds it; `step` advances it. The
  // step is written here, not called through seedrandom's closure, because it is most of the cost of a
  // draw and inlines as a method on a typed array; it returns exactly seedrandom's outputs (tested).
  private readonly words: Int32Array;
  private index: number;
  private weyl: number;

  /**
   * @param rootSeed - the simulation's root seed, a non-empty string
   * @param name - the stream name, a non-empty string
   */
  constructor(rootSeed: string, name: string) {
    if (typeof rootSeed !== 'string' || rootSeed.length === 0) {
      throw invalidArgument('RandomStream.seed', rootSeed, 'a non-empty string');
    }
    if (typeof name !== 'string' || name.length === 0) {
      throw invalidArgument('RandomStream.name', name, 'a non-empty string');
    }
    this.seed = rootSeed;
    this.name = name;
    // NUL cannot occur in a sensible seed or name, so (seed, name) pairs cannot collide by concatenation.
    const state = seedrandom.xor4096(`${rootSeed}\u0000${name}`, { state: true }).state();
    this.words = Int32Array.from(state.X);
    this.index = state.i;
    this.weyl = state.w;
  }

  /** The generator's next output, a signed 32-bit integer (seedrandom's `xor4096().int32()`). */
  private step(): number {
    const x = this.words;
    const w = (this.weyl + 0x61c88647) | 0;
    this.weyl = w;
    let v = x[(this.index + 34) & 127]!;
    const i = (this.index + 1) & 127;
    let t = x[i]!;
    v ^= v << 13;
    t ^= t << 17;
    v ^= v >>> 15;
    t ^= t >>> 12;
    v ^= t;
    x[i] = v;
    this.index = i;
    return (v + (w ^ (w >>> 16))) | 0;
  }

  /**
   * A uniform number in [0, 1) with full 53-bit resolution: every multiple of 2^-53 in [0, 1) is equally
   * likely. Consumes two 32-bit outputs of the generator (the same value as `xor4096.double()`, except
   * that 0 is not skipped).
   *
   * @example
   * ```ts
   * if (stream.next() < 0.1) dropPacket();
   * ```
   */
  next(): number {
    // High 21 bits of the first output, all 32 bits of the second.
    const high = this.step() >>> 11;
    return (high * TWO_POW_32 + (this.step() >>> 0)) * TWO_POW_MINUS_53;
  }

  /**
   * A uniform integer in [minInclusive, maxExclusive), exactly unbiased (rejection on 32-bit outputs).
   * Both bounds must be safe integers and the range at most 2^32 wide.
   *
   * @example
   * ```ts
   * const die = stream.int(1, 7); // 1..6
   * ```
   */
  int(minInclusive: number, maxExclusive: number): number {
    if (!Number.isSafeInteger(minInclusive)) {
      throw invalidArgument('RandomStream.int.minInclusive', minInclusive, 'a safe integer');
    }
    const range = maxExclusive - minInclusive;
    if (!Number.isSafeInteger(maxExclusive) || !(range >= 1 && range <= TWO_POW_32)) {
      throw invalidArgument(
        'RandomStream.int.maxExclusive',
        maxExclusive,
        `a safe integer in [${minInclusive + 1}, ${minInclusive + TWO_POW_32}] (above minInclusive, range at most 2^32)`,
      );
    }
    return minInclusive + this.below(range);
  }

  /**
   * True with probability `p`.
   *
   * @param p - probability of `true`, in [0, 1]
   * @default 0.5
   * @example
   * ```ts
   * const isWrite = stream.bool(0.2);
   * ```
   */
  bool(p = 0.5): boolean {
    assertProbability('RandomStream.bool.p', p);
    return this.next() < p;
  }

  /**
   * A uniformly chosen element of a non-empty array.
   *
   * @example
   * ```ts
   * const region = stream.pick(['eu', 'us', 'ap']);
   * ```
   */
  pick<T>(array: readonly T[]): T {
    if (!Array.isArray(array) || array.length === 0) {
      throw invalidArgument('RandomStream.pick.array', array, 'a non-empty array');
    }
    return array[this.below(array.length)] as T;
  }

  /**
   * Shuffles `array` in place (Fisher-Yates, every permutation equally likely) and returns it.
   *
   * @example
   * ```ts
   * const order = stream.shuffle([1, 2, 3, 4]);
   * ```
   */
  shuffle<T>(array: T[]): T[] {
    if (!Array.isArray(array)) throw invalidArgument('RandomStream.shuffle.array', array, 'an array');
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const tmp = array[i] as T;
      array[i] = array[j] as T;
      array[j] = tmp;
    }
    return array;
  }

  /** Uniform integer in [0, range) for an integer range in [1, 2^32]; unbiased by rejecting the tail. */
  private below(range: number): number {
    // The largest multiple of `range` not above 2^32: outputs at or beyond it would favour small values.
    const limit = TWO_POW_32 - (TWO_POW_32 % range);
    let x = this.step() >>> 0;
    while (x >= limit) x = this.step() >>> 0;
    return x % range;
  }
}

/**
 * Creates the stream `name` of the root seed `rootSeed`. Same arguments, same sequence; different names
 * give independent sequences; creating streams never changes the draws of other streams.
 *
 * @example
 * ```ts
 * const service = deriveStream(sim.seed, 'server-1/service');
 * ```
 */
export function deriveStream(rootSeed: string, name: string): RandomStream {
  return new RandomStream(rootSeed, name);
}
