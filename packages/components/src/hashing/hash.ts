import { invalidArgument } from '@dsim/core';

/*
 * xxHash64 and xxHash32 (Yann Collet's specification, https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md),
 * written with 32-bit integer arithmetic only: no BigInt, no allocation on the hot path. A 64-bit value is a pair
 * of 32-bit words (hi, lo) held as signed int32 (`| 0`), so V8 keeps them unboxed; the helpers below return the
 * high word and leave the low word in `R[0]` (a typed array: a module-level `let` would box every store, which
 * made a first version three times slower). Strings are hashed as their UTF-8 bytes, like every other xxHash
 * implementation (and Envoy's HashUtil::xxHash64).
 */

const TWO_32 = 4294967296;
const TWO_21 = 2097152;

// xxHash64 primes, as (high word, low word).
const P1H = 0x9e3779b1 | 0;
const P1L = 0x85ebca87 | 0;
const P2H = 0xc2b2ae3d | 0;
const P2L = 0x27d4eb4f | 0;
const P3H = 0x165667b1 | 0;
const P3L = 0x9e3779f9 | 0;
const P4H = 0x85ebca77 | 0;
const P4L = 0xc2b2ae63 | 0;
const P5H = 0x27d4eb2f | 0;
const P5L = 0x165667c5 | 0;
// 2^64 - P1, for the fourth lane's seed - P1.
const NEG_P1H = ~P1H;
const NEG_P1L = (~P1L + 1) | 0;

// xxHash32 primes.
const Q1 = 0x9e3779b1;
const Q2 = 0x85ebca77;
const Q3 = 0xc2b2ae3d;
const Q4 = 0x27d4eb2f;
const Q5 = 0x165667b1;

/** R[0]: the low word of the last 64-bit result computed by the helpers below. */
const R = new Int32Array(1);

/** a * b mod 2^64. Returns the high word; the low word is left in `R[0]`. */
function mul64(ah: number, al: number, bh: number, bl: number): number {
  // The high word of the 32x32 product al*bl, from 16-bit limbs (every partial product < 2^32, exact).
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  R[0] = Math.imul(al, bl);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(ah, bl) + Math.imul(al, bh)) | 0;
}

/** a + b mod 2^64. Returns the high word; the low word is left in `R[0]`. */
function add64(ah: number, al: number, bh: number, bl: number): number {
  const lo = (al + bl) | 0;
  R[0] = lo;
  return (ah + bh + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
}

/** The xxHash64 round: rotl(acc + input * P2, 31) * P1. Returns the high word; low word in `R[0]`. */
function round64(acch: number, accl: number, inh: number, inl: number): number {
  let h = mul64(inh, inl, P2H, P2L);
  h = add64(acch, accl, h, R[0]!);
  const l = R[0]!;
  // rotl 31
  return mul64((h << 31) | (l >>> 1), (l << 31) | (h >>> 1), P1H, P1L);
}

/** acc = (acc ^ round(0, val)) * P1 + P4. Returns the high word; low word in `R[0]`. */
function mergeRound64(acch: number, accl: number, valh: number, vall: number): number {
  const kh = round64(0, 0, valh, vall);
  const h = mul64(acch ^ kh, accl ^ R[0]!, P1H, P1L);
  return add64(h, R[0]!, P4H, P4L);
}

function rotlHi(h: number, l: number, r: number): number {
  return (h << r) | (l >>> (32 - r));
}

function rotlLo(h: number, l: number, r: number): number {
  return (l << r) | (h >>> (32 - r));
}

// UTF-8 scratch buffer, grown on demand (3 bytes per UTF-16 code unit is the worst case).
let bytes = new Uint8Array(256);

/**
 * Encodes `input` as UTF-8 into `bytes` and returns the length. Lone surrogates become U+FFFD, as TextEncoder
 * does. Written out rather than calling TextEncoder, so that the module needs no platform global; for short
 * keys it is as fast.
 */
function utf8(input: string): number {
  const n = input.length;
  if (bytes.length < n * 3) bytes = new Uint8Array(Math.max(n * 3, bytes.length * 2));
  const b = bytes;
  let p = 0;
  for (let i = 0; i < n; i++) {
    let c = input.charCodeAt(i);
    if (c < 0x80) {
      b[p++] = c;
    } else if (c < 0x800) {
      b[p++] = 0xc0 | (c >>> 6);
      b[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? input.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          b[p++] = 0xf0 | (c >>> 18);
          b[p++] = 0x80 | ((c >>> 12) & 0x3f);
          b[p++] = 0x80 | ((c >>> 6) & 0x3f);
          b[p++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      b[p++] = 0xe0 | (c >>> 12);
      b[p++] = 0x80 | ((c >>> 6) & 0x3f);
      b[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

function read32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

function checkSeed64(seed: number): void {
  if (seed !== 0 && !(Number.isSafeInteger(seed) && seed > 0)) {
    throw invalidArgument('xxHash64: seed', seed, 'an integer in [0, 2^53)');
  }
}

/**
 * The xxHash64 main loop over the 32-byte stripes of `b[0, len)` (len >= 32) and the merge of its four lanes.
 * Separate from {@link xxHash64Into} so that the short-key path stays small enough for V8 to inline its helpers.
 * Returns the high word; low word in `R[0]`.
 */
function stripes64(b: Uint8Array, len: number, sh: number, sl: number): number {
  let v1h = add64(sh, sl, P1H, P1L);
  v1h = add64(v1h, R[0]!, P2H, P2L);
  let v1l = R[0]!;
  let v2h = add64(sh, sl, P2H, P2L);
  let v2l = R[0]!;
  let v3h = sh;
  let v3l = sl;
  let v4h = add64(sh, sl, NEG_P1H, NEG_P1L);
  let v4l = R[0]!;
  for (let i = 0; i <= len - 32; i += 32) {
    v1h = round64(v1h, v1l, read32(b, i + 4), read32(b, i));
    v1l = R[0]!;
    v2h = round64(v2h, v2l, read32(b, i + 12), read32(b, i + 8));
    v2l = R[0]!;
    v3h = round64(v3h, v3l, read32(b, i + 20), read32(b, i + 16));
    v3l = R[0]!;
    v4h = round64(v4h, v4l, read32(b, i + 28), read32(b, i + 24));
    v4l = R[0]!;
  }
  let hh = add64(rotlHi(v1h, v1l, 1), rotlLo(v1h, v1l, 1), rotlHi(v2h, v2l, 7), rotlLo(v2h, v2l, 7));
  hh = add64(hh, R[0]!, rotlHi(v3h, v3l, 12), rotlLo(v3h, v3l, 12));
  hh = add64(hh, R[0]!, rotlHi(v4h, v4l, 18), rotlLo(v4h, v4l, 18));
  hh = mergeRound64(hh, R[0]!, v1h, v1l);
  hh = mergeRound64(hh, R[0]!, v2h, v2l);
  hh = mergeRound64(hh, R[0]!, v3h, v3l);
  return mergeRound64(hh, R[0]!, v4h, v4l);
}

/**
 * xxHash64 of the UTF-8 bytes of `input`, written into `out` as two unsigned 32-bit words: `out[0]` the high
 * word, `out[1]` the low word. The allocation-free form of {@link xxHash64}, for hot paths.
 *
 * @param seed - the 64-bit seed, given as an integer in [0, 2^53). @default 0
 *
 * @example
 * ```ts
 * const h = new Uint32Array(2);
 * xxHash64Into('abc', h); // h[0] === 0x44bc2cf5, h[1] === 0xad770999
 * ```
 */
export function xxHash64Into(input: string, out: Uint32Array, seed = 0): void {
  checkSeed64(seed);
  const len = utf8(input);
  const b = bytes;
  const sh = seed === 0 ? 0 : Math.floor(seed / TWO_32) | 0;
  const sl = seed | 0;
  let hh: number;
  let hl: number;
  let i = 0;
  if (len >= 32) {
    hh = stripes64(b, len, sh, sl);
    hl = R[0]!;
    i = len - (len % 32);
  } else {
    hh = add64(sh, sl, P5H, P5L);
    hl = R[0]!;
  }
  hh = add64(hh, hl, 0, len);
  hl = R[0]!;
  while (i + 8 <= len) {
    // h ^= round(0, input64); h = rotl(h, 27) * P1 + P4
    hh ^= round64(0, 0, read32(b, i + 4), read32(b, i));
    hl ^= R[0]!;
    hh = mul64(rotlHi(hh, hl, 27), rotlLo(hh, hl, 27), P1H, P1L);
    hh = add64(hh, R[0]!, P4H, P4L);
    hl = R[0]!;
    i += 8;
  }
  if (i + 4 <= len) {
    // h ^= input32 * P1; h = rotl(h, 23) * P2 + P3
    hh ^= mul64(0, read32(b, i), P1H, P1L);
    hl ^= R[0]!;
    hh = mul64(rotlHi(hh, hl, 23), rotlLo(hh, hl, 23), P2H, P2L);
    hh = add64(hh, R[0]!, P3H, P3L);
    hl = R[0]!;
    i += 4;
  }
  while (i < len) {
    // h ^= byte * P5; h = rotl(h, 11) * P1
    hh ^= mul64(0, b[i]!, P5H, P5L);
    hl ^= R[0]!;
    hh = mul64(rotlHi(hh, hl, 11), rotlLo(hh, hl, 11), P1H, P1L);
    hl = R[0]!;
    i++;
  }
  out[0] = avalanche(hh, hl);
  out[1] = R[0]!;
}

/** The xxHash64 final avalanche on int32 words; returns the high word, low word in `R[0]`. */
function avalanche(hh: number, hl: number): number {
  hl ^= hh >>> 1; // h ^= h >> 33
  hh = mul64(hh, hl, P2H, P2L);
  hl = R[0]!;
  hl ^= (hl >>> 29) | (hh << 3); // h ^= h >> 29
  hh ^= hh >>> 29;
  hh = mul64(hh, hl, P3H, P3L);
  R[0] = R[0]! ^ hh; // h ^= h >> 32
  return hh;
}

/**
 * The top 52 bits of the xxHash64 final avalanche (h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32) of
 * `a XOR b`, for two 64-bit values given as 32-bit words: an integer in [0, 2^52). The avalanche is a bijection in
 * which every input bit affects every output bit, so with `a` a key's hash and `b` a node's hash this is a
 * well-mixed hash of the pair (rendezvous hashing's score).
 * @internal
 */
export function mixPair52(ah: number, al: number, bh: number, bl: number): number {
  const hh = avalanche((ah ^ bh) | 0, (al ^ bl) | 0);
  return (hh >>> 0) * 1048576 + (R[0]! >>> 12);
}

/**
 * `(hi * 2^32 + lo) mod m`, exactly, for a 64-bit value given as two unsigned 32-bit words and an integer
 * modulus 1 <= m < 2^37 (Envoy's `hash % table_size`).
 *
 * @example
 * ```ts
 * mod64(0x44bc2cf5, 0xad770999, 65537); // the Maglev slot of xxHash64('abc')
 * ```
 */
export function mod64(hi: number, lo: number, m: number): number {
  let r = hi % m;
  r = (r * 65536 + (lo >>> 16)) % m;
  return (r * 65536 + (lo & 0xffff)) % m;
}

/**
 * The 64-bit value of two unsigned 32-bit words rounded down to its top 53 bits, an integer in [0, 2^53): a safe
 * integer with the same order as the 64-bit value (up to ties within 2^11).
 *
 * @example
 * ```ts
 * top53(0xffffffff, 0xffffffff); // 2 ** 53 - 1
 * ```
 */
export function top53(hi: number, lo: number): number {
  return hi * TWO_21 + (lo >>> 11);
}

/**
 * A 64-bit hash as two unsigned 32-bit words.
 *
 * @example
 * ```ts
 * const { hi, lo } = xxHash64('abc'); // 0x44bc2cf5, 0xad770999
 * ```
 */
export interface Hash64 {
  /** The high 32 bits, in [0, 2^32). */
  readonly hi: number;
  /** The low 32 bits, in [0, 2^32). */
  readonly lo: number;
}

const scratch = new Uint32Array(2);

/**
 * xxHash64 (XXH64) of the UTF-8 bytes of `input`: bit-for-bit the reference algorithm, so equal to Envoy's
 * `HashUtil::xxHash64` and to the `xxhash` libraries of other languages, computed with 32-bit arithmetic (no
 * BigInt). Well distributed and fast; the hash every placement here uses. Allocates the result object; see
 * {@link xxHash64Into} for the allocation-free form and {@link hash53} for a single number.
 *
 * @param seed - the 64-bit seed, given as an integer in [0, 2^53). @default 0
 *
 * @example
 * ```ts
 * xxHash64('');    // { hi: 0xef46db37, lo: 0x51d8e999 }
 * xxHash64('abc'); // { hi: 0x44bc2cf5, lo: 0xad770999 }
 * ```
 */
export function xxHash64(input: string, seed = 0): Hash64 {
  xxHash64Into(input, scratch, seed);
  return { hi: scratch[0]!, lo: scratch[1]! };
}

/**
 * xxHash64 of `input` as 16 lower-case hex digits, for comparing with other implementations (`xxhsum -H1`).
 *
 * @param seed - as for {@link xxHash64}. @default 0
 *
 * @example
 * ```ts
 * xxHash64Hex('abc'); // '44bc2cf5ad770999'
 * ```
 */
export function xxHash64Hex(input: string, seed = 0): string {
  xxHash64Into(input, scratch, seed);
  return scratch[0]!.toString(16).padStart(8, '0') + scratch[1]!.toString(16).padStart(8, '0');
}

/**
 * The top 53 bits of {@link xxHash64}: an unsigned integer in [0, 2^53), uniformly distributed and exactly
 * representable as a JavaScript number. The hash-ring points and key positions of {@link HashRing}.
 *
 * @param seed - as for {@link xxHash64}. @default 0
 *
 * @example
 * ```ts
 * hash53('user:42') / 2 ** 53; // a position in [0, 1)
 * ```
 */
export function hash53(input: string, seed = 0): number {
  xxHash64Into(input, scratch, seed);
  return top53(scratch[0]!, scratch[1]!);
}

/**
 * xxHash32 (XXH32) of the UTF-8 bytes of `input`, bit-for-bit the reference algorithm: an unsigned 32-bit
 * integer. About twice as fast as {@link xxHash64} on long strings; 32 bits are enough for bucketing, not for
 * placing millions of points without collisions.
 *
 * @param seed - an unsigned 32-bit integer. @default 0
 *
 * @example
 * ```ts
 * xxHash32('');    // 0x02cc5d05
 * xxHash32('abc'); // 0x32d153ff
 * ```
 */
export function xxHash32(input: string, seed = 0): number {
  if (seed !== 0 && !(Number.isInteger(seed) && seed > 0 && seed < TWO_32)) {
    throw invalidArgument('xxHash32: seed', seed, 'an integer in [0, 2^32)');
  }
  const len = utf8(input);
  const b = bytes;
  let i = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + Q1 + Q2) | 0;
    let v2 = (seed + Q2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - Q1) | 0;
    const limit = len - 16;
    while (i <= limit) {
      v1 = (v1 + Math.imul(read32(b, i), Q2)) | 0;
      v1 = Math.imul((v1 << 13) | (v1 >>> 19), Q1);
      v2 = (v2 + Math.imul(read32(b, i + 4), Q2)) | 0;
      v2 = Math.imul((v2 << 13) | (v2 >>> 19), Q1);
      v3 = (v3 + Math.imul(read32(b, i + 8), Q2)) | 0;
      v3 = Math.imul((v3 << 13) | (v3 >>> 19), Q1);
      v4 = (v4 + Math.imul(read32(b, i + 12), Q2)) | 0;
      v4 = Math.imul((v4 << 13) | (v4 >>> 19), Q1);
      i += 16;
    }
    h =
      (((v1 << 1) | (v1 >>> 31)) +
        ((v2 << 7) | (v2 >>> 25)) +
        ((v3 << 12) | (v3 >>> 20)) +
        ((v4 << 18) | (v4 >>> 14))) |
      0;
  } else {
    h = (seed + Q5) | 0;
  }
  h = (h + len) | 0;
  while (i + 4 <= len) {
    h = (h + Math.imul(read32(b, i), Q3)) | 0;
    h = Math.imul((h << 17) | (h >>> 15), Q4);
    i += 4;
  }
  while (i < len) {
    h = (h + Math.imul(b[i]!, Q5)) | 0;
    h = Math.imul((h << 11) | (h >>> 21), Q1);
    i++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, Q2);
  h ^= h >>> 13;
  h = Math.imul(h, Q3);
  h ^= h >>> 16;
  return h >>> 0;
}
