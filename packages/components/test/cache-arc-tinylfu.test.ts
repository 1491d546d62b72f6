import { type RandomStream, Simulation, zipf } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { ArcPolicy, type ArcSnapshot } from '../src/cache/policies/arc.js';
import {
  CountMinSketch,
  hashKey,
  SKETCH_COUNTER_MAX,
  SKETCH_MAX_WIDTH,
} from '../src/cache/policies/count-min-sketch.js';
import type { EvictionPolicy } from '../src/cache/policies/types.js';
import { WTinyLfuPolicy } from '../src/cache/policies/w-tinylfu.js';

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

const rngOf = (seed: number | string, name = 'test'): RandomStream => new Simulation({ seed }).rng(name);

const arc = (capacity: number) => new ArcPolicy({}, { capacity, rng: rngOf(1, 'evict') });
const tinylfu = (capacity: number, options: ConstructorParameters<typeof WTinyLfuPolicy>[0] = {}) =>
  new WTinyLfuPolicy(options, { capacity, rng: rngOf(1, 'evict') });

/** One read the way the cache does it: a hit, or a miss followed by the load's put. Returns hit. */
function read(policy: EvictionPolicy, key: string, evicted: string[] = [], size = 1): boolean {
  evicted.length = 0;
  if (policy.has(key)) {
    policy.onHit(key, 0);
    return true;
  }
  policy.onMiss(key, 0);
  policy.put(key, size, Infinity, 0, evicted);
  return false;
}

/** A cheap assertion for hot loops (an `expect` call costs microseconds). */
function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((k, i) => k === b[i]);

/** Exact LRU over a Map (insertion order = recency), the baseline of the scan tests. */
class MapLru {
  private readonly map = new Map<string, true>();
  constructor(private readonly capacity: number) {}
  read(key: string): boolean {
    if (this.map.delete(key)) {
      this.map.set(key, true);
      return true;
    }
    if (this.map.size >= this.capacity) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, true);
    return false;
  }
}

/**
 * ARC(c) transcribed literally from Megiddo and Modha's Figure 4 (FAST '03), on arrays: the oracle
 * ArcPolicy must match step by step for unit sizes.
 */
class PaperArc {
  t1: string[] = [];
  t2: string[] = [];
  b1: string[] = [];
  b2: string[] = [];
  p = 0;
  constructor(readonly c: number) {}

  request(x: string, evicted: string[]): boolean {
    const { c } = this;
    evicted.length = 0;
    const del = (list: string[], k: string) => list.splice(list.indexOf(k), 1);
    if (this.t1.includes(x) || this.t2.includes(x)) {
      // Case I
      del(this.t1.includes(x) ? this.t1 : this.t2, x);
      this.t2.push(x);
      return true;
    }
    if (this.b1.includes(x)) {
      // Case II
      const d1 = this.b1.length >= this.b2.length ? 1 : this.b2.length / this.b1.length;
      this.p = Math.min(this.p + d1, c);
      this.replace(x, evicted);
      del(this.b1, x);
      this.t2.push(x);
      return false;
    }
    if (this.b2.includes(x)) {
      // Case III
      const d2 = this.b2.length >= this.b1.length ? 1 : this.b1.length / this.b2.length;
      this.p = Math.max(this.p - d2, 0);
      this.replace(x, evicted);
      del(this.b2, x);
      this.t2.push(x);
      return false;
    }
    // Case IV
    if (this.t1.length + this.b1.length === c) {
      if (this.t1.length < c) {
        this.b1.shift();
        this.replace(x, evicted);
      } else {
        evicted.push(this.t1.shift()!);
      }
    } else {
      const total = this.t1.length + this.t2.length + this.b1.length + this.b2.length;
      if (total >= c) {
        if (total === 2 * c) this.b2.shift();
        this.replace(x, evicted);
      }
    }
    this.t1.push(x);
    return false;
  }

  private replace(x: string, evicted: string[]): void {
    if (
      this.t1.length >= 1 &&
      ((this.b2.includes(x) && this.t1.length === this.p) || this.t1.length > this.p)
    ) {
      const y = this.t1.shift()!;
      this.b1.push(y);
      evicted.push(y);
    } else {
      const y = this.t2.shift()!;
      this.b2.push(y);
      evicted.push(y);
    }
  }
}

/** Zipf probabilities p_i ∝ i^-α, i = 1..n. */
function zipfProbabilities(n: number, alpha: number): Float64Array {
  const p = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += p[i] = (i + 1) ** -alpha;
  for (let i = 0; i < n; i++) p[i]! /= total;
  return p;
}

/** Che's approximation of LRU under IRM (Che et al. 2002): solve Σ(1 − e^(−p_i T)) = C, H = Σ p_i h_i. */
function cheLru(p: Float64Array, c: number): number {
  const occupancy = (t: number) => p.reduce((s, pi) => s + 1 - Math.exp(-pi * t), 0);
  let lo = 0;
  let hi = 1;
  while (occupancy(hi) < c) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (occupancy(mid) < c) lo = mid;
    else hi = mid;
  }
  return p.reduce((s, pi) => s + pi * (1 - Math.exp(-pi * lo)), 0);
}

/** Perfect LFU under IRM keeps the top C objects. */
function lfuTopC(p: Float64Array, c: number): number {
  let h = 0;
  for (let i = 0; i < c; i++) h += p[i]!;
  return h;
}

/** Hit ratio of `policy` on an IRM Zipf stream, after a warm-up. */
function irmHitRatio(
  policy: EvictionPolicy,
  n: number,
  alpha: number,
  warm: number,
  measure: number,
): number {
  const keys = Array.from({ length: n }, (_, i) => `k${i + 1}`);
  const dist = zipf({ n, s: alpha });
  const rng = rngOf(7, 'irm');
  const evicted: string[] = [];
  for (let i = 0; i < warm; i++) read(policy, keys[dist.sample(rng) - 1]!, evicted);
  let hits = 0;
  for (let i = 0; i < measure; i++) if (read(policy, keys[dist.sample(rng) - 1]!, evicted)) hits++;
  return hits / measure;
}

/**
 * A hot set (uniform over `hot` keys, warmed first) mixed half and half with a scan: one-hit wonders
 * (`loop` 0) or a cyclic loop over `loop` keys. Returns the overall and the hot-key hit ratios.
 */
function scanWorkload(
  readKey: (key: string) => boolean,
  opts: { hot: number; loop: number; requests: number; seed: number },
): { overall: number; hot: number } {
  const rng = rngOf(opts.seed, 'scan');
  const hotKeys = Array.from({ length: opts.hot }, (_, i) => `hot${i}`);
  for (let round = 0; round < 5; round++) for (const k of hotKeys) readKey(k);
  let hits = 0;
  let hotHits = 0;
  let hotReads = 0;
  let scan = 0;
  for (let i = 0; i < opts.requests; i++) {
    if (rng.next() < 0.5) {
      hotReads++;
      if (readKey(hotKeys[rng.int(0, opts.hot)]!)) {
        hits++;
        hotHits++;
      }
    } else {
      const k = opts.loop === 0 ? `scan${scan++}` : `loop${scan++ % opts.loop}`;
      if (readKey(k)) hits++;
    }
  }
  return { overall: hits / opts.requests, hot: hotHits / hotReads };
}

type Op = 'read' | 'write' | 'remove' | 'clear';

/**
 * Random operation sequences against a model of the resident set: has/count/used agree with "put and
 * neither evicted nor removed", evicted keys were resident (or are the refused key) and are not after.
 */
function checkInvariants(
  make: (capacity: number) => EvictionPolicy,
  seed: number,
  extra?: (policy: EvictionPolicy, sizes: Map<string, number>) => void,
): void {
  const rng = rngOf(seed, 'ops');
  const capacity = rng.int(1, 40);
  const maxSize = seed % 2 === 0 ? 1 : rng.int(2, 6);
  const universe = Array.from({ length: rng.int(capacity + 1, 4 * capacity + 10) }, (_, i) => `key${i}`);
  const policy = make(capacity);
  const model = new Map<string, number>();
  const evicted: string[] = [];
  const pick = () => universe[Math.min(universe.length - 1, Math.floor(universe.length * rng.next() ** 2))]!;
  for (let step = 0; step < 2000; step++) {
    const u = rng.next();
    const op: Op = u < 0.65 ? 'read' : u < 0.85 ? 'write' : u < 0.998 ? 'remove' : 'clear';
    const key = pick();
    if (op === 'clear') {
      policy.clear();
      model.clear();
    } else if (op === 'remove') {
      policy.remove(key);
      model.delete(key);
    } else if (op === 'read' && policy.has(key)) {
      policy.onHit(key, step);
    } else {
      if (op === 'read') policy.onMiss(key, step);
      if (op === 'read' && rng.next() < 0.1) continue; // a failed load: no put
      const size = rng.int(1, maxSize + 1);
      evicted.length = 0;
      policy.put(key, size, Infinity, step, evicted);
      check(new Set(evicted).size === evicted.length, () => `duplicate evictions ${evicted}`);
      model.set(key, size);
      for (const k of evicted) {
        check(model.has(k), () => `step ${step}: evicted ${k} was not resident`);
        model.delete(k);
        check(!policy.has(k), () => `step ${step}: evicted ${k} is still resident`);
      }
    }
    const where = () => `seed ${seed} step ${step} ${op} ${key}`;
    check(policy.has(key) === model.has(key), () => `${where()}: has() disagrees`);
    check(policy.count === model.size, () => `${where()}: count ${policy.count} vs ${model.size}`);
    let units = 0;
    for (const s of model.values()) units += s;
    check(policy.used === units, () => `${where()}: used ${policy.used} vs ${units}`);
    check(policy.used <= capacity, () => `${where()}: used ${policy.used} > ${capacity}`);
    if (step % 100 === 0)
      for (const k of universe) check(policy.has(k) === model.has(k), () => `${where()}: has(${k})`);
    extra?.(policy, model);
  }
}

// ---------------------------------------------------------------------------------------------------
// ARC
// ---------------------------------------------------------------------------------------------------

describe('ArcPolicy', () => {
  it('follows the paper step by step on a hand-computed trace (c = 3) covering every case', () => {
    // [request, evicted, T1, T2, B1, B2, p] — lists from LRU to MRU, computed by hand from Figure 4.
    const trace: [string, string, string, string, string, string, number][] = [
      ['a', '', 'a', '', '', '', 0], // IV B, cache not full
      ['b', '', 'ab', '', '', '', 0],
      ['c', '', 'abc', '', '', '', 0],
      ['d', 'a', 'bcd', '', '', '', 0], // IV A, |T1| = c: T1's LRU leaves without a ghost
      ['b', '', 'cd', 'b', '', '', 0], // I: T1 hit moves to T2
      ['e', 'c', 'de', 'b', 'c', '', 0], // IV B: REPLACE, |T1| = 2 > p = 0
      ['c', 'd', 'e', 'bc', 'd', '', 1], // II: p += 1, REPLACE from T1 (|T1| = 2 > 1)
      ['a', 'b', 'ea', 'c', 'd', 'b', 1], // IV B: |T1| = p, so REPLACE takes T2's LRU
      ['b', 'e', 'a', 'cb', 'de', '', 0], // III: p −= 1 (|B2| = |B1|)
      ['f', 'a', 'f', 'cb', 'ea', '', 0], // IV A, |T1| < c: drop B1's LRU (d), REPLACE
      ['c', '', 'f', 'bc', 'ea', '', 0], // I: T2 hit
      ['e', 'b', 'f', 'ce', 'a', 'b', 1], // II
      ['g', 'c', 'fg', 'e', 'a', 'bc', 1], // IV B
      ['h', 'f', 'gh', 'e', 'f', 'bc', 1], // IV A: drop a, REPLACE from T1
      ['i', 'g', 'hi', 'e', 'g', 'bc', 1], // IV A
      ['c', 'h', 'i', 'ec', 'gh', 'b', 0], // III
      ['j', 'i', 'j', 'ec', 'hi', 'b', 0], // IV A
      ['b', 'j', '', 'ecb', 'hij', '', 0], // III with δ = |B1|/|B2| = 2, p floored at 0
      ['k', 'e', 'k', 'cb', 'ij', 'e', 0], // IV A: drop h; REPLACE with T1 empty takes T2's LRU
      ['i', 'c', 'k', 'bi', 'j', 'ec', 1], // II
      ['j', 'b', 'k', 'ij', '', 'ecb', 3], // II with δ = |B2|/|B1| = 2
      ['l', 'i', 'kl', 'j', '', 'cbi', 3], // IV B with 2c keys: drop B2's LRU (e), REPLACE
      ['c', 'k', 'l', 'jc', 'k', 'bi', 2], // III: |T1| = p and x in B2, so REPLACE takes T1's LRU
      ['m', 'j', 'lm', 'c', 'k', 'ij', 2], // IV B with 2c: drop b
      ['n', 'c', 'lmn', '', '', 'ijc', 2], // IV A: drop k
      ['o', 'l', 'mno', '', '', 'ijc', 2], // IV A, |T1| = c
    ];
    const policy = arc(3);
    const oracle = new PaperArc(3);
    const evicted: string[] = [];
    const oracleEvicted: string[] = [];
    const chars = (s: string) => s.split('');
    for (const [x, ev, t1, t2, b1, b2, p] of trace) {
      const before = policy.snapshot();
      const hit = read(policy, x, evicted);
      expect(hit).toBe(before.t1.includes(x) || before.t2.includes(x));
      oracle.request(x, oracleEvicted);
      const expected: ArcSnapshot = { t1: chars(t1), t2: chars(t2), b1: chars(b1), b2: chars(b2), p };
      expect({ x, evicted: [...evicted], ...policy.snapshot() }).toEqual({
        x,
        evicted: chars(ev),
        ...expected,
      });
      expect({ t1: oracle.t1, t2: oracle.t2, b1: oracle.b1, b2: oracle.b2, p: oracle.p }).toEqual(expected);
      expect(oracleEvicted).toEqual(chars(ev));
      expect(policy.target).toBe(p);
    }
    expect(policy.count).toBe(3);
    expect(policy.ghosts).toBe(3);
  });

  it('matches a literal transcription of the paper on random request streams (unit sizes)', () => {
    let fractional = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rng = rngOf(seed, 'arc-oracle');
      const c = rng.int(1, 9);
      const universe = rng.int(c + 1, 4 * c + 3);
      const policy = arc(c);
      const oracle = new PaperArc(c);
      const evicted: string[] = [];
      const oracleEvicted: string[] = [];
      for (let step = 0; step < 1500; step++) {
        // Skewed keys so that hits and ghost hits of both kinds happen.
        const x = `x${Math.floor(universe * rng.next() ** 1.5)}`;
        const hit = read(policy, x, evicted);
        const s = policy.snapshot();
        const same =
          hit === oracle.request(x, oracleEvicted) &&
          sameList(evicted, oracleEvicted) &&
          s.p === oracle.p &&
          sameList(s.t1, oracle.t1) &&
          sameList(s.t2, oracle.t2) &&
          sameList(s.b1, oracle.b1) &&
          sameList(s.b2, oracle.b2);
        check(
          same,
          () => `seed ${seed} c ${c} step ${step} (${x}): ${JSON.stringify({ s, oracle, evicted })}`,
        );
        if (!Number.isInteger(s.p)) fractional++;
      }
    }
    expect(fractional).toBeGreaterThan(0); // the fractional steps |B2|/|B1| were exercised
  });

  it('adapts once per ghost hit: onMiss moves p, the put that loads the key does not move it again', () => {
    const policy = arc(2);
    const evicted: string[] = [];
    for (const k of ['a', 'b', 'a', 'c']) read(policy, k, evicted); // b becomes a B1 ghost
    expect(policy.snapshot()).toEqual({ t1: ['c'], t2: ['a'], b1: ['b'], b2: [], p: 0 });
    policy.onMiss('b', 0);
    expect(policy.target).toBe(1);
    policy.onMiss('b', 0); // a second miss while loading: the same request, no second step
    expect(policy.target).toBe(1);
    evicted.length = 0;
    policy.put('b', 1, Infinity, 0, evicted);
    expect(evicted).toEqual(['a']);
    expect(policy.snapshot()).toEqual({ t1: ['c'], t2: ['b'], b1: [], b2: ['a'], p: 1 });
  });

  it('adapts on a put without a prior miss (a write); a miss alone never evicts', () => {
    const policy = arc(2);
    const evicted: string[] = [];
    for (const k of ['a', 'b', 'a', 'c']) policy.put(k, 1, Infinity, 0, evicted); // overwriting a is a hit
    expect(evicted).toEqual(['b']);
    evicted.length = 0;
    policy.put('b', 1, Infinity, 0, evicted); // a write of a B1 ghost
    expect(evicted).toEqual(['a']);
    expect(policy.snapshot()).toEqual({ t1: ['c'], t2: ['b'], b1: [], b2: ['a'], p: 1 });
    policy.onMiss('zzz', 0);
    policy.onMiss('a', 0); // a B2 ghost: p goes down, nothing is evicted yet
    expect(policy.snapshot()).toEqual({ t1: ['c'], t2: ['b'], b1: [], b2: ['a'], p: 0 });
    expect(policy.count).toBe(2);
  });

  it('is scan resistant: one-time keys pass through T1 and the hot set stays', () => {
    const opts = { hot: 50, loop: 0, requests: 20_000, seed: 3 };
    const policy = arc(100);
    const ev: string[] = [];
    const a = scanWorkload((k) => read(policy, k, ev), opts);
    const lru = new MapLru(100);
    const l = scanWorkload((k) => lru.read(k), opts);
    expect(a.hot).toBeGreaterThan(0.999);
    expect(a.overall).toBeGreaterThan(l.overall + 0.1);
    expect(policy.snapshot().t2.filter((k) => k.startsWith('hot')).length).toBe(50);
  });

  it('beats LRU on a hot set mixed with a loop larger than the cache', () => {
    const opts = { hot: 50, loop: 150, requests: 20_000, seed: 4 };
    const policy = arc(100);
    const ev: string[] = [];
    const a = scanWorkload((k) => read(policy, k, ev), opts);
    const lru = new MapLru(100);
    const l = scanWorkload((k) => lru.read(k), opts);
    expect(a.overall).toBeGreaterThan(l.overall);
  });

  it('lies between Che-LRU and perfect LFU on IRM Zipf streams', () => {
    for (const [n, alpha, c, che, lfu] of [
      [1000, 0.8, 100, 0.3778, 0.5258],
      [10_000, 1.0, 1000, 0.6756, 0.7648],
    ] as const) {
      const p = zipfProbabilities(n, alpha);
      // The Che-LRU and top-C hit ratios, recomputed from the formulas.
      expect(cheLru(p, c)).toBeCloseTo(che, 4);
      expect(lfuTopC(p, c)).toBeCloseTo(lfu, 4);
      const h = irmHitRatio(arc(c), n, alpha, 20 * c + 50_000, 200_000);
      expect(h).toBeGreaterThan(che + 0.005);
      expect(h).toBeLessThan(lfu);
    }
  });

  it('counts units when sizes differ, and keeps its list bounds', () => {
    const policy = arc(10);
    const evicted: string[] = [];
    policy.put('big', 6, Infinity, 0, evicted);
    policy.put('mid', 4, Infinity, 0, evicted);
    expect(policy.used).toBe(10);
    policy.put('x', 3, Infinity, 0, evicted);
    // |T1| + size = 13 > c with B1 empty: T1's LRU keys leave outright (case IV A).
    expect(evicted).toEqual(['big']);
    expect(policy.snapshot()).toEqual({ t1: ['mid', 'x'], t2: [], b1: [], b2: [], p: 0 });
    evicted.length = 0;
    policy.put('huge', 11, Infinity, 0, evicted);
    expect(evicted).toEqual(['huge']);
    expect(policy.has('huge')).toBe(false);
    policy.onHit('mid', 0);
    evicted.length = 0;
    policy.put('mid', 9, Infinity, 0, evicted); // an overwrite that grows
    expect(evicted).toEqual(['x']);
    expect(policy.snapshot()).toEqual({ t1: [], t2: ['mid'], b1: ['x'], b2: [], p: 0 });
    expect(policy.used).toBe(9);
  });

  it('keeps the paper invariants and the resident set on random operations (many seeds)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      checkInvariants(arc, seed, (policy, sizes) => {
        const s = (policy as ArcPolicy).snapshot();
        const c = policy.capacity;
        const units = (keys: readonly string[]) => keys.reduce((u, k) => u + (sizes.get(k) ?? 0), 0);
        const where = () => `seed ${seed}: ${JSON.stringify(s)}`;
        check(units(s.t1) + units(s.t2) === policy.used, where);
        check(s.t1.length + s.t2.length === policy.count, where);
        check(s.p >= 0 && s.p <= c, where);
        for (const g of s.b1) check(!policy.has(g), where);
        for (const g of s.b2) check(!policy.has(g), where);
        if (seed % 2 === 0) {
          // Unit sizes: list lengths are units.
          check(s.t1.length + s.b1.length <= c, where);
          check(s.t1.length + s.t2.length + s.b1.length + s.b2.length <= 2 * c, where);
        }
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Count-min sketch
// ---------------------------------------------------------------------------------------------------

describe('CountMinSketch', () => {
  it('sizes its rows like Caffeine (4 × the next power of two >= capacity), within bounds', () => {
    // Caffeine's memory: nextPowerOfTwo(capacity) words of 16 counters = 4 rows of 4 × nextPowerOfTwo.
    expect(new CountMinSketch(1000).width).toBe(4096);
    expect(new CountMinSketch(1024).width).toBe(4096);
    expect(new CountMinSketch(1025).width).toBe(8192);
    expect(new CountMinSketch(1).width).toBe(16);
    expect(new CountMinSketch(1e9).width).toBe(SKETCH_MAX_WIDTH);
    expect(new CountMinSketch(1000).sampleSize).toBe(10_000);
    expect(thrown(() => new CountMinSketch(0)).message).toMatch(/capacity/);
  });

  it('hashes strings deterministically (no identity, no randomness)', () => {
    expect(hashKey('user:42')).toBe(hashKey(['user', '42'].join(':')));
    expect(hashKey('user:42')).toBe(1_435_792_490);
    expect(hashKey('user:42', 1)).not.toBe(hashKey('user:42'));
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(hashKey(`k${i}`));
    expect(seen.size).toBe(10_000);
  });

  it('never under-counts before a reset', () => {
    const sketch = new CountMinSketch(256); // 2560 increments per reset
    const rng = rngOf(5, 'sketch');
    const truth = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const k = `k${Math.floor(200 * rng.next() ** 2)}`;
      truth.set(k, (truth.get(k) ?? 0) + 1);
      sketch.incrementKey(k);
    }
    expect(sketch.resets).toBe(0);
    let exact = 0;
    for (const [k, n] of truth) {
      const est = sketch.frequencyKey(k);
      expect(est).toBeGreaterThanOrEqual(Math.min(n, SKETCH_COUNTER_MAX));
      if (est === Math.min(n, SKETCH_COUNTER_MAX)) exact++;
    }
    expect(exact / truth.size).toBeGreaterThan(0.95);
    expect(sketch.frequencyKey('never-seen')).toBeLessThanOrEqual(2);
  });

  it('saturates at 15 and stops counting saturated increments', () => {
    const sketch = new CountMinSketch(64);
    for (let i = 0; i < 40; i++) sketch.incrementKey('hot');
    expect(sketch.frequencyKey('hot')).toBe(15);
    expect(sketch.size).toBe(15);
  });

  it('halves every counter on reset, explicitly or after 10 × capacity increments', () => {
    const sketch = new CountMinSketch(64);
    for (let i = 0; i < 13; i++) sketch.incrementKey('a');
    for (let i = 0; i < 6; i++) sketch.incrementKey('b');
    sketch.incrementKey('c');
    expect([sketch.frequencyKey('a'), sketch.frequencyKey('b'), sketch.frequencyKey('c')]).toEqual([
      13, 6, 1,
    ]);
    expect(sketch.size).toBe(20);
    sketch.reset();
    expect([sketch.frequencyKey('a'), sketch.frequencyKey('b'), sketch.frequencyKey('c')]).toEqual([6, 3, 0]);
    // 8 odd counters (a's and c's four each) lose half a unit each: (20 − 8/4) / 2.
    expect(sketch.size).toBe(9);

    const auto = new CountMinSketch(16); // sample size 160, width 64
    for (let i = 0; i < 14; i++) auto.incrementKey('hot');
    let i = 0;
    while (auto.resets === 0) auto.incrementKey(`cold${i++}`);
    expect(14 + i).toBeGreaterThanOrEqual(160);
    // The estimate was 14 or 15 before the reset (never under-counted, saturates at 15): now 7.
    expect(auto.frequencyKey('hot')).toBe(7);
    expect(auto.size).toBeLessThan(80);
    auto.clear();
    expect(auto.frequencyKey('hot')).toBe(0);
    expect(auto.size).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------
// W-TinyLFU
// ---------------------------------------------------------------------------------------------------

describe('WTinyLfuPolicy', () => {
  it('sizes its regions like Caffeine: 1% window (at least one unit), 80% of main protected', () => {
    const sizes = (p: WTinyLfuPolicy) => [p.windowMax, p.mainMax, p.protectedMax];
    expect(sizes(tinylfu(100))).toEqual([1, 99, 79]);
    expect(sizes(tinylfu(1000))).toEqual([10, 990, 792]);
    expect(sizes(tinylfu(50))).toEqual([1, 49, 39]);
    expect(sizes(tinylfu(1))).toEqual([1, 0, 0]);
    expect(sizes(tinylfu(1000, { windowPercent: 20, protectedPercent: 50 }))).toEqual([200, 800, 400]);
    expect(sizes(tinylfu(10, { kind: 'w-tinylfu', windowPercent: 0 }))).toEqual([1, 9, 7]);
  });

  it('validates its options, naming the field', () => {
    const ctx = { capacity: 10, rng: rngOf(1) };
    expect(thrown(() => new WTinyLfuPolicy({ windowPercent: 150 }, ctx)).message).toMatch(/windowPercent/);
    expect(thrown(() => new WTinyLfuPolicy({ protectedPercent: -1 }, ctx)).message).toMatch(
      /protectedPercent/,
    );
    expect(thrown(() => new WTinyLfuPolicy({ hillClimber: 'yes' as never }, ctx)).message).toMatch(
      /hillClimber/,
    );
    expect(thrown(() => new WTinyLfuPolicy({ samples: 5 } as never, ctx)).message).toMatch(/samples/);
    expect(thrown(() => new WTinyLfuPolicy({}, { capacity: 0, rng: rngOf(1) })).message).toMatch(/capacity/);
    expect(thrown(() => new ArcPolicy({}, { capacity: 2.5, rng: rngOf(1) })).message).toMatch(/capacity/);
    expect(thrown(() => tinylfu(4).put('k', 0, Infinity, 0, [])).message).toMatch(/size/);
    expect(thrown(() => arc(4).put('k', Number.NaN, Infinity, 0, [])).message).toMatch(/size/);
  });

  it('admits a window candidate only if it is more frequent than the probation victim', () => {
    // capacity 10, window 1, main 9 (protected 7).
    const policy = tinylfu(10, { windowPercent: 10, randomAdmission: false });
    const evicted: string[] = [];
    for (let i = 0; i < 10; i++) policy.put(`k${i}`, 1, Infinity, 0, evicted);
    expect(evicted).toEqual([]);
    expect(policy.snapshot()).toEqual({
      window: ['k9'],
      probation: ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8'],
      protected: [],
    });
    for (let i = 0; i < 3; i++) policy.onMiss('x', 0);
    expect([policy.frequency('x'), policy.frequency('k9'), policy.frequency('k0')]).toEqual([3, 0, 0]);
    // x enters the window; candidate k9 (freq 0) ties with victim k0 (freq 0): a tie rejects.
    policy.put('x', 1, Infinity, 0, evicted);
    expect(evicted).toEqual(['k9']);
    expect(policy.regionOf('x')).toBe('window');
    // y enters; candidate x (freq 3) beats victim k0 (freq 0): k0 is evicted, x goes to probation.
    evicted.length = 0;
    policy.put('y', 1, Infinity, 0, evicted);
    expect(evicted).toEqual(['k0']);
    expect(policy.regionOf('x')).toBe('probation');
    // A refused new key can be the put key itself (the cache then reports it as rejected).
    evicted.length = 0;
    policy.put('z', 1, Infinity, 0, evicted);
    expect(evicted).toEqual(['y']);
    expect(policy.has('y')).toBe(false);
    expect(policy.count).toBe(10);
  });

  it('promotes a probation hit to protected and demotes protected overflow back to probation', () => {
    const policy = tinylfu(10, { windowPercent: 10, protectedPercent: 50 }); // protected 4
    const evicted: string[] = [];
    for (let i = 0; i < 10; i++) policy.put(`k${i}`, 1, Infinity, 0, evicted);
    for (let i = 0; i < 5; i++) policy.onHit(`k${i}`, 0);
    expect(policy.snapshot()).toEqual({
      window: ['k9'],
      probation: ['k5', 'k6', 'k7', 'k8', 'k0'],
      protected: ['k1', 'k2', 'k3', 'k4'],
    });
    policy.onHit('k9', 0); // a window hit stays in the window
    policy.onHit('k2', 0); // a protected hit moves to its MRU end
    expect(policy.snapshot().protected).toEqual(['k1', 'k3', 'k4', 'k2']);
    expect(policy.regionOf('k9')).toBe('window');
  });

  it('admits a losing candidate of frequency >= 6 with probability 1/128 (hash-flooding defence)', () => {
    const rng = rngOf(11, 'evict');
    const duel = (candidateFreq: number): boolean => {
      // capacity 2: window 1, main 1, 20 increments before a reset. v (freq 7) sits in probation, c
      // (candidateFreq) is the candidate.
      const policy = new WTinyLfuPolicy({ windowPercent: 50 }, { capacity: 2, rng });
      const ev: string[] = [];
      for (let i = 0; i < 7; i++) policy.onMiss('v', 0);
      policy.put('v', 1, Infinity, 0, ev);
      for (let i = 0; i < candidateFreq; i++) policy.onMiss('c', 0);
      policy.put('c', 1, Infinity, 0, ev);
      expect([policy.frequency('v'), policy.frequency('c')]).toEqual([7, candidateFreq]);
      policy.put('d', 1, Infinity, 0, ev);
      return ev.includes('v');
    };
    let admitted = 0;
    for (let i = 0; i < 3000; i++) if (duel(6)) admitted++;
    expect(admitted).toBeGreaterThan(8); // expected 23.4
    expect(admitted).toBeLessThan(45);
    let low = 0;
    for (let i = 0; i < 500; i++) if (duel(5)) low++;
    expect(low).toBe(0);
  });

  it('is scan resistant: one-hit wonders do not displace the hot set', () => {
    const opts = { hot: 50, loop: 0, requests: 20_000, seed: 3 };
    const policy = tinylfu(100);
    const ev: string[] = [];
    const w = scanWorkload((k) => read(policy, k, ev), opts);
    const lru = new MapLru(100);
    const l = scanWorkload((k) => lru.read(k), opts);
    expect(w.hot).toBeGreaterThan(0.99);
    expect(w.overall).toBeGreaterThan(l.overall + 0.1);
  });

  it('keeps a hot set and part of a loop larger than the cache', () => {
    const opts = { hot: 50, loop: 150, requests: 20_000, seed: 4 };
    const policy = tinylfu(100);
    const ev: string[] = [];
    const w = scanWorkload((k) => read(policy, k, ev), opts);
    const lru = new MapLru(100);
    const l = scanWorkload((k) => lru.read(k), opts);
    expect(w.hot).toBeGreaterThan(0.95);
    expect(w.overall).toBeGreaterThan(l.overall + 0.1);
  });

  it('lies between Che-LRU and perfect LFU on IRM Zipf streams, close to LFU', () => {
    for (const [n, alpha, c, che, lfu] of [
      [1000, 0.8, 100, 0.3778, 0.5258],
      [10_000, 1.0, 1000, 0.6756, 0.7648],
    ] as const) {
      const h = irmHitRatio(tinylfu(c), n, alpha, 20 * c + 50_000, 200_000);
      expect(h).toBeGreaterThan(che + 0.05);
      expect(h).toBeLessThan(lfu);
      expect(lfu - h).toBeLessThan(0.035);
    }
  });

  it('keeps its region sizes and the resident set on random operations (many seeds)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      checkInvariants(
        (capacity) => tinylfu(capacity, { windowPercent: 1 + (seed % 30) }),
        seed,
        (policy, sizes) => {
          const p = policy as WTinyLfuPolicy;
          const s = p.snapshot();
          const units = (keys: readonly string[]) => keys.reduce((u, k) => u + sizes.get(k)!, 0);
          const where = () => `seed ${seed}: ${JSON.stringify(s)}`;
          check(units(s.window) + units(s.probation) + units(s.protected) === p.used, where);
          check(units(s.protected) <= p.protectedMax, where);
          check(units(s.window) <= p.windowMax, where);
        },
      );
    }
  });

  it('with the hill climber, grows the window for a recency-heavy stream and keeps its invariants', () => {
    for (let seed = 1; seed <= 10; seed++) {
      checkInvariants((capacity) => tinylfu(capacity, { hillClimber: true }), seed);
    }
    // A recency-heavy stream: a working set that shifts every 2000 requests, re-read in bursts.
    const capacity = 200;
    const climbing = tinylfu(capacity, { hillClimber: true });
    const fixed = tinylfu(capacity);
    const rng = rngOf(9, 'shift');
    const ev: string[] = [];
    const windows = new Set<number>();
    let climbingHits = 0;
    let fixedHits = 0;
    for (let i = 0; i < 100_000; i++) {
      const phase = Math.floor(i / 2000);
      const key = `p${phase}-${Math.floor(150 * rng.next() ** 3)}`;
      if (read(climbing, key, ev)) climbingHits++;
      if (read(fixed, key, ev)) fixedHits++;
      windows.add(climbing.windowMax);
    }
    // Measured: window 2 → ~150 units, hit ratio 0.861 against 0.698 with the fixed 1% window.
    expect(Math.max(...windows)).toBeGreaterThan(50);
    expect(climbing.windowMax + climbing.mainMax).toBe(capacity);
    expect(climbingHits / 100_000).toBeGreaterThan(fixedHits / 100_000 + 0.1);
  });
});

// ---------------------------------------------------------------------------------------------------
// Both
// ---------------------------------------------------------------------------------------------------

describe.each([
  ['arc', (c: number) => arc(c) as EvictionPolicy & { snapshot(): object }],
  [
    'w-tinylfu',
    (c: number) => tinylfu(c, { randomAdmission: false }) as EvictionPolicy & { snapshot(): object },
  ],
])('%s', (kind, make) => {
  it('reports its kind and capacity', () => {
    const p = make(7);
    expect(p.kind).toBe(kind);
    expect(p.capacity).toBe(7);
  });

  it('treats remove() of an absent key as a no-op', () => {
    const p = make(3);
    const ev: string[] = [];
    const gone: string[] = [];
    for (const k of ['a', 'b', 'c', 'd', 'e', 'c']) {
      read(p, k, ev);
      gone.push(...ev);
    }
    const absent = gone.find((k) => !p.has(k))!;
    expect(absent).toBeDefined();
    const before = JSON.stringify(p.snapshot());
    const { used, count } = p;
    p.remove('nope');
    p.remove(absent); // evicted (an ARC ghost at most: ghosts are left alone)
    expect(JSON.stringify(p.snapshot())).toBe(before);
    expect([p.used, p.count]).toEqual([used, count]);
    p.remove('c');
    expect(p.has('c')).toBe(false);
    expect(p.count).toBe(count - 1);
    p.remove('c');
    expect(p.count).toBe(count - 1);
  });

  it('clear() forgets everything and then behaves like a fresh policy', () => {
    const a = make(20);
    const fresh = make(20);
    const rng = rngOf(2, 'clear');
    const ev: string[] = [];
    for (let i = 0; i < 500; i++) read(a, `k${Math.floor(60 * rng.next() ** 2)}`, ev);
    a.clear();
    expect([a.used, a.count]).toEqual([0, 0]);
    for (let i = 0; i < 60; i++) expect(a.has(`k${i}`)).toBe(false);
    expect(JSON.stringify(a.snapshot())).toBe(JSON.stringify(fresh.snapshot()));
    const evA: string[] = [];
    const evF: string[] = [];
    for (let i = 0; i < 500; i++) {
      const k = `k${Math.floor(60 * rng.next() ** 2)}`;
      expect(read(a, k, evA)).toBe(read(fresh, k, evF));
      expect(evA).toEqual(evF);
    }
    expect(JSON.stringify(a.snapshot())).toBe(JSON.stringify(fresh.snapshot()));
  });

  it('refuses an item larger than the whole capacity, dropping an older version', () => {
    const p = make(4);
    const ev: string[] = [];
    p.put('a', 2, Infinity, 0, ev);
    p.put('a', 5, Infinity, 0, ev);
    expect(ev).toEqual(['a']);
    expect([p.has('a'), p.used, p.count]).toEqual([false, 0, 0]);
  });

  it('is deterministic: the same stream gives the same evictions', () => {
    const run = () => {
      const p = make(50);
      const rng = rngOf(8, 'det');
      const ev: string[] = [];
      const all: string[] = [];
      for (let i = 0; i < 5000; i++) {
        read(p, `k${Math.floor(300 * rng.next() ** 2)}`, ev);
        all.push(...ev);
      }
      return all;
    };
    expect(run()).toEqual(run());
  });
});
