import { DsimError, type RandomStream, Simulation, zipf } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { createEvictionPolicy, EVICTION_KINDS } from '../src/cache/policies/factory.js';
import { FifoPolicy } from '../src/cache/policies/fifo.js';
import { LfuPolicy } from '../src/cache/policies/lfu.js';
import { LruPolicy } from '../src/cache/policies/lru.js';
import { NoEvictionPolicy } from '../src/cache/policies/none.js';
import { RandomPolicy } from '../src/cache/policies/random.js';
import { RedisPolicy } from '../src/cache/policies/redis.js';
import { TtlPolicy } from '../src/cache/policies/ttl.js';
import type { EvictionContext, EvictionPolicy, EvictionSpec } from '../src/cache/policies/types.js';
import { cheHitRatio, fifoHitRatio, lfuHitRatio, zipfProbabilities } from '../src/cache/theory.js';

function ctx(capacity: number, seed = 1): EvictionContext {
  return { capacity, rng: new Simulation({ seed }).rng('cache/evict') };
}

function expectInvalid(fn: () => unknown, field: string, code = 'INVALID_ARGUMENT'): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an error naming ${field}`).toBeInstanceOf(DsimError);
  const err = caught as DsimError;
  expect(err.code).toBe(code);
  expect(err.message).toContain(field);
  expect(err.details.field).toBe(field);
}

/** Puts `key` and returns what was evicted. */
function put(policy: EvictionPolicy, key: string, now = 0, size = 1, expiresAt = Infinity): string[] {
  const evicted: string[] = [];
  policy.put(key, size, expiresAt, now, evicted);
  return evicted;
}

/** Every implemented kind, with some option variants. */
const SPECS: readonly EvictionSpec[] = [
  { kind: 'lru' },
  { kind: 'fifo' },
  { kind: 'random' },
  { kind: 'lfu' },
  { kind: 'lfu', halfLife: '3s' },
  { kind: 'ttl' },
  { kind: 'none' },
  { kind: 'redis-lru' },
  { kind: 'redis-lru', samples: 1, volatile: true },
  { kind: 'redis-lfu', samples: 3 },
  { kind: 'redis-lfu', samples: 10, volatile: true, logFactor: 1, decayTime: 0 },
];

describe('analytic IRM models (Che LRU, FIFO/RANDOM, LFU top-C)', () => {
  // N, alpha, C, Che LRU, FIFO/RANDOM, LFU top-C.
  const table: readonly (readonly [number, number, number, number, number, number])[] = [
    [1000, 0.8, 100, 0.3778, 0.3337, 0.5258],
    [10_000, 0.8, 1000, 0.4367, 0.3942, 0.5706],
    [10_000, 1.0, 100, 0.3905, 0.3423, 0.53],
    [10_000, 1.0, 1000, 0.6756, 0.6309, 0.7648],
    [100_000, 0.9, 1000, 0.3421, 0.3063, 0.4742],
  ];
  for (const [n, alpha, c, che, fifo, lfu] of table) {
    it(`N=${n} alpha=${alpha} C=${c}: ${che} / ${fifo} / ${lfu}`, () => {
      const p = zipfProbabilities(n, alpha);
      expect(cheHitRatio(p, c).hitRatio.toFixed(4)).toBe(che.toFixed(4));
      expect(fifoHitRatio(p, c).hitRatio.toFixed(4)).toBe(fifo.toFixed(4));
      expect(lfuHitRatio(p, c).hitRatio.toFixed(4)).toBe(lfu.toFixed(4));
    });
  }

  it('the characteristic time is about 134 requests for N=1000, alpha=0.8, C=100', () => {
    const { characteristicTime } = cheHitRatio(zipfProbabilities(1000, 0.8), 100);
    expect(characteristicTime).toBeGreaterThan(133);
    expect(characteristicTime).toBeLessThan(135);
  });

  it('per-object hit probabilities fill exactly C slots and average to the hit ratio', () => {
    const p = zipfProbabilities(500, 0.9);
    for (const model of [cheHitRatio, fifoHitRatio, lfuHitRatio]) {
      const { hitRatio, perObject } = model(p, 50, { perObject: true });
      expect(perObject).toHaveLength(500);
      const h = perObject!;
      expect(h.reduce((a, b) => a + b, 0)).toBeCloseTo(50, 9);
      expect(p.reduce((a, pi, i) => a + pi * h[i]!, 0)).toBeCloseTo(hitRatio, 12);
      // More popular objects hit more often.
      for (let i = 1; i < h.length; i++) expect(h[i]!).toBeLessThanOrEqual(h[i - 1]! + 1e-12);
    }
    expect(cheHitRatio(p, 50).perObject).toBeUndefined();
  });

  it('normalizes rates, and handles empty and full caches', () => {
    const rates = zipfProbabilities(100, 1).map((x) => x * 37);
    expect(cheHitRatio(rates, 10).hitRatio).toBeCloseTo(
      cheHitRatio(zipfProbabilities(100, 1), 10).hitRatio,
      12,
    );
    expect(cheHitRatio([0.5, 0.5, 0], 2)).toEqual({ hitRatio: 1, characteristicTime: Infinity });
    expect(fifoHitRatio([1, 1], 0)).toEqual({ hitRatio: 0, characteristicTime: 0 });
    expect(lfuHitRatio([3, 1], 1.5).hitRatio).toBeCloseTo(0.875, 12);
    const uniform = zipfProbabilities(4, 0);
    expect(uniform).toEqual([0.25, 0.25, 0.25, 0.25]);
    // Uniform popularity: every model gives C / N.
    expect(cheHitRatio(uniform, 1).hitRatio).toBeCloseTo(0.25, 12);
    expect(fifoHitRatio(uniform, 1).hitRatio).toBeCloseTo(0.25, 12);
  });

  it('validation errors name the argument', () => {
    expectInvalid(() => zipfProbabilities(0, 1), 'zipfProbabilities.n');
    expectInvalid(() => zipfProbabilities(10, -1), 'zipfProbabilities.alpha');
    expectInvalid(() => cheHitRatio([], 1), 'cheHitRatio.probabilities');
    expectInvalid(() => cheHitRatio([0.5, Number.NaN], 1), 'cheHitRatio.probabilities[1]');
    expectInvalid(() => fifoHitRatio([0, 0], 1), 'fifoHitRatio.probabilities (their sum)');
    expectInvalid(() => lfuHitRatio([1], -1), 'lfuHitRatio.capacity');
  });
});

/** An IRM Zipf request stream, drawn with core's zipf from a simulation stream; ranks from 0. */
function irmStream(n: number, alpha: number, count: number, seed: number): Int32Array {
  const rng: RandomStream = new Simulation({ seed }).rng('test');
  const dist = zipf({ n, s: alpha });
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = dist.sample(rng) - 1;
  return out;
}

/**
 * Hit ratio of `spec` on the stream after `warm` requests. One request per simulated second, so that Redis's
 * 1 s LRU clock resolves every request; a miss is followed by a fill.
 */
function simulateHitRatio(
  spec: EvictionSpec,
  capacity: number,
  keys: readonly string[],
  stream: Int32Array,
  warm: number,
): number {
  const policy = createEvictionPolicy(spec, ctx(capacity, 11));
  const evicted: string[] = [];
  let hits = 0;
  for (let i = 0; i < stream.length; i++) {
    const key = keys[stream[i]!]!;
    const now = i * 1000;
    if (policy.has(key)) {
      policy.onHit(key, now);
      if (i >= warm) hits++;
    } else {
      policy.onMiss(key, now);
      evicted.length = 0;
      policy.put(key, 1, Infinity, now, evicted);
    }
  }
  return hits / (stream.length - warm);
}

describe('simulated hit ratios on an IRM Zipf stream against the models', () => {
  const PP = 0.01;
  const configs = [
    { n: 1000, alpha: 0.8, c: 100, warm: 100_000, measured: 500_000, redis5: 0.3733, redis10: 0.3771 },
    { n: 10_000, alpha: 1.0, c: 1000, warm: 200_000, measured: 500_000, redis5: 0.671, redis10: 0.6737 },
  ];
  for (const { n, alpha, c, warm, measured, redis5, redis10 } of configs) {
    it(`N=${n} alpha=${alpha} C=${c}`, () => {
      const keys = Array.from({ length: n }, (_, i) => `key:${i}`);
      const stream = irmStream(n, alpha, warm + measured, 7);
      const p = zipfProbabilities(n, alpha);
      const che = cheHitRatio(p, c).hitRatio;
      const fifoModel = fifoHitRatio(p, c).hitRatio;
      const topC = lfuHitRatio(p, c).hitRatio;
      const sim = (spec: EvictionSpec) => simulateHitRatio(spec, c, keys, stream, warm);

      const lru = sim({ kind: 'lru' });
      expect(Math.abs(lru - che)).toBeLessThan(0.5 * PP);
      expect(Math.abs(sim({ kind: 'fifo' }) - fifoModel)).toBeLessThan(0.5 * PP);
      expect(Math.abs(sim({ kind: 'random' }) - fifoModel)).toBeLessThan(0.5 * PP);

      // In-cache LFU (counts die with the key) pollutes: keys that got hot early stay. It still beats
      // LRU by far; with aging it reaches the top-C optimum to about a point.
      const lfu = sim({ kind: 'lfu' });
      expect(lfu).toBeGreaterThan(lru + 4 * PP);
      expect(lfu).toBeLessThan(topC);
      const aged = sim({ kind: 'lfu', halfLife: `${30 * c}s` });
      expect(aged).toBeGreaterThan(topC - 1.25 * PP);
      expect(aged).toBeLessThanOrEqual(topC + 0.5 * PP);

      // Redis sampled LRU: 1 sample is RANDOM; more samples approach LRU.
      const r1 = sim({ kind: 'redis-lru', samples: 1 });
      const r5 = sim({ kind: 'redis-lru', samples: 5 });
      const r10 = sim({ kind: 'redis-lru', samples: 10 });
      expect(Math.abs(r1 - fifoModel)).toBeLessThan(0.5 * PP);
      expect(r5).toBeGreaterThan(fifoModel + 2 * PP);
      expect(r10).toBeGreaterThan(r5);
      expect(r10).toBeLessThan(lru);
      // redis5/redis10 come from a sampled-LRU simulation without Redis's eviction pool; the pool helps a
      // little, within half a point.
      expect(Math.abs(r5 - redis5)).toBeLessThan(0.5 * PP);
      expect(Math.abs(r10 - redis10)).toBeLessThan(0.5 * PP);
    });
  }
});

describe("Redis LFU counter (redis.conf's LFU table)", () => {
  // factor, then the published counter after 100, 1K, 100K, 1M and 10M hits.
  const published: readonly (readonly [number, readonly number[]])[] = [
    [0, [104, 255, 255, 255, 255]],
    [1, [18, 49, 255, 255, 255]],
    [10, [10, 18, 142, 255, 255]],
    [100, [8, 11, 49, 143, 255]],
  ];
  const checkpoints = [100, 1000, 100_000, 1_000_000, 10_000_000];

  /** The exact mean counter after each of `at` hits: LFULogIncr as a Markov chain on 0..255 from 5. */
  function exactMean(factor: number, at: readonly number[]): number[] {
    let d = new Float64Array(256);
    let next = new Float64Array(256);
    d[5] = 1;
    const out: number[] = [];
    for (let hit = 1; hit <= Math.max(...at); hit++) {
      next.fill(0);
      for (let c = 0; c < 256; c++) {
        const q = d[c]!;
        if (q === 0) continue;
        if (c === 255) {
          next[c] = next[c]! + q;
          continue;
        }
        const p = 1 / (Math.max(c - 5, 0) * factor + 1);
        next[c + 1] = next[c + 1]! + q * p;
        next[c] = next[c]! + q * (1 - p);
      }
      [d, next] = [next, d];
      if (at.includes(hit)) out.push(d.reduce((a, q, c) => a + q * c, 0));
    }
    return out;
  }

  for (const [factor, expected] of published) {
    it(`logFactor ${factor}: ${expected.join(' / ')} within 10%`, () => {
      const exact = exactMean(factor, [100, 1000]);
      const policy = new RedisPolicy({ kind: 'redis-lfu', logFactor: factor }, ctx(1000, factor + 1));
      // Many keys while the counter is small and noisy, fewer for the long runs.
      let keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
      for (const key of keys) put(policy, key);
      const mean = (): number => keys.reduce((a, k) => a + policy.frequency(k, 0)!, 0) / keys.length;
      let hits = 0;
      for (let j = 0; j < checkpoints.length; j++) {
        const target = checkpoints[j]!;
        if (target === 100_000) keys = keys.slice(0, 4);
        if (target === 1_000_000) keys = keys.slice(0, 1);
        // A counter at 255 stays there: stop hitting once every key is saturated.
        if (mean() < 255) for (; hits < target; hits++) for (const key of keys) policy.onHit(key, 0);
        hits = target;
        const got = mean();
        if (j < 2) {
          // The simulation matches the code's exact expectation.
          expect(Math.abs(got - exact[j]!) / exact[j]!, `vs exact after ${target} hits`).toBeLessThan(0.03);
          // The published 8 and 11 for factor 100 came from one redis-benchmark run: the code's exact
          // expectations are 6.8 and 9.8 (both more than 10% off), so only the exact check applies to them.
          if (factor === 100) continue;
        }
        const want = expected[j]!;
        expect(Math.abs(got - want) / want, `vs published after ${target} hits`).toBeLessThanOrEqual(0.1);
      }
    });
  }

  it('decays one per decayTime idle: 20, idle 7 minutes with decayTime 1m, reads 13', () => {
    const policy = new RedisPolicy({ kind: 'redis-lfu', logFactor: 0 }, ctx(10));
    put(policy, 'k');
    expect(policy.frequency('k', 0)).toBe(5);
    for (let i = 0; i < 15; i++) policy.onHit('k', 0);
    expect(policy.frequency('k', 0)).toBe(20);
    expect(policy.frequency('k', 7 * 60_000)).toBe(13);
    expect(policy.frequency('k', 7 * 60_000 + 59_999)).toBe(13);
    expect(policy.frequency('k', 60 * 60_000)).toBe(0);
    // An access applies the decay before incrementing and restarts the idle clock.
    policy.onHit('k', 7 * 60_000);
    expect(policy.frequency('k', 7 * 60_000)).toBe(14);
    const slow = new RedisPolicy({ kind: 'redis-lfu', logFactor: 0, decayTime: '2m' }, ctx(10));
    const never = new RedisPolicy({ kind: 'redis-lfu', logFactor: 0, decayTime: 0 }, ctx(10));
    for (const p of [slow, never]) {
      put(p, 'k');
      for (let i = 0; i < 15; i++) p.onHit('k', 0);
    }
    expect(slow.frequency('k', 7 * 60_000)).toBe(17);
    expect(never.frequency('k', 7 * 60_000)).toBe(20);
    expect(never.idleTime('k', 0)).toBeUndefined();
  });

  it('evicts the lowest decayed counter', () => {
    const policy = new RedisPolicy({ kind: 'redis-lfu', samples: 64, logFactor: 0 }, ctx(3));
    put(policy, 'hot');
    put(policy, 'warm');
    put(policy, 'cold');
    for (let i = 0; i < 10; i++) policy.onHit('hot', 0);
    for (let i = 0; i < 5; i++) policy.onHit('warm', 0);
    expect(put(policy, 'new', 1000)).toEqual(['cold']);
    // Ten idle minutes take 10 off everything: hot 15 -> 5, untouched; warm and new go to 0, then 8.
    for (let i = 0; i < 8; i++) {
      policy.onHit('new', 10 * 60_000);
      policy.onHit('warm', 10 * 60_000);
    }
    expect(policy.frequency('hot', 10 * 60_000)).toBe(5);
    expect(policy.frequency('warm', 10 * 60_000)).toBe(8);
    expect(put(policy, 'newer', 10 * 60_000)).toEqual(['hot']);
  });
});

describe('Redis LRU', () => {
  it('measures idle time in whole seconds', () => {
    const policy = new RedisPolicy({ kind: 'redis-lru' }, ctx(10));
    put(policy, 'k', 400);
    expect(policy.idleTime('k', 999)).toBe(0);
    expect(policy.idleTime('k', 1000)).toBe(1);
    expect(policy.idleTime('k', 2500)).toBe(2);
    policy.onHit('k', 2500);
    expect(policy.idleTime('k', 2999)).toBe(0);
    expect(policy.frequency('k', 0)).toBeUndefined();
    expect(policy.idleTime('absent', 0)).toBeUndefined();
  });

  it('with every key sampled, evicts the idlest: exact LRU at 1 s resolution', () => {
    const policy = new RedisPolicy({ kind: 'redis-lru', samples: 64 }, ctx(8));
    for (let i = 0; i < 8; i++) put(policy, `k${i}`, i * 1000);
    policy.onHit('k0', 8000);
    expect(put(policy, 'k8', 9000)).toEqual(['k1']);
    // The pool still holds k2..k7 scored at 9 s; fresh samples score them higher now.
    expect(put(policy, 'k9', 10_000)).toEqual(['k2']);
    // The pool's best entries are now k2 (evicted) and k3, both scored 7 s: make k3 a ghost too.
    policy.remove('k3');
    expect(put(policy, 'k10', 10_000)).toEqual([]);
    expect(put(policy, 'k11', 10_000)).toEqual(['k4']);
  });

  it('volatile: only keys with a TTL are evicted; without one, writes are refused', () => {
    const policy = new RedisPolicy({ kind: 'redis-lru', volatile: true }, ctx(2));
    put(policy, 'persistent', 0);
    put(policy, 'session', 0, 1, 60_000);
    expect(put(policy, 'other', 1000)).toEqual(['session']);
    expect(put(policy, 'refused', 2000)).toEqual(['refused']);
    expect(policy.has('refused')).toBe(false);
    expect(policy.count).toBe(2);
    // Overwriting a key with a TTL makes it a candidate.
    put(policy, 'other', 3000, 1, 90_000);
    expect(put(policy, 'third', 4000, 1, 10_000)).toEqual(['other']);
  });

  it('is deterministic for a seed', () => {
    const run = (seed: number): string[] => {
      const policy = new RedisPolicy({ kind: 'redis-lru' }, ctx(20, seed));
      const out: string[] = [];
      for (let i = 0; i < 200; i++) out.push(...put(policy, `k${(i * 7919) % 97}`, i * 500));
      return out;
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });
});

describe('exact policies', () => {
  it('lru evicts the least recently used; an overwrite is an access', () => {
    const lru = new LruPolicy({}, ctx(3));
    put(lru, 'a');
    put(lru, 'b');
    put(lru, 'c');
    lru.onHit('a', 1);
    expect(put(lru, 'd')).toEqual(['b']);
    put(lru, 'c'); // overwrite: c is now the most recent
    expect(put(lru, 'e')).toEqual(['a']);
    expect(put(lru, 'f')).toEqual(['d']);
    lru.onHit('absent', 1);
    expect(lru.count).toBe(3);
  });

  it('fifo ignores hits and keeps an overwritten key in its place', () => {
    const fifo = new FifoPolicy({ kind: 'fifo' }, ctx(3));
    put(fifo, 'a');
    put(fifo, 'b');
    put(fifo, 'c');
    fifo.onHit('a', 1);
    put(fifo, 'a');
    expect(put(fifo, 'd')).toEqual(['a']);
    expect(put(fifo, 'e')).toEqual(['b']);
  });

  it('fifo: an overwrite that grows evicts the oldest other keys', () => {
    const fifo = new FifoPolicy({}, ctx(10));
    put(fifo, 'a', 0, 3);
    put(fifo, 'b', 0, 3);
    put(fifo, 'c', 0, 3);
    expect(put(fifo, 'a', 0, 8)).toEqual(['b', 'c']);
    expect(fifo.used).toBe(8);
    expect(fifo.has('a')).toBe(true);
  });

  it('random evicts uniformly, reproducibly for a seed', () => {
    const counts = new Map<string, number>();
    const random = new RandomPolicy({}, ctx(4, 5));
    for (let round = 0; round < 4000; round++) {
      for (const k of ['a', 'b', 'c', 'd']) if (!random.has(k)) put(random, k);
      const [victim] = put(random, `x${round}`);
      counts.set(victim!, (counts.get(victim!) ?? 0) + 1);
      random.remove(`x${round}`);
    }
    for (const k of ['a', 'b', 'c', 'd']) expect(counts.get(k)).toBeGreaterThan(850);
    const victims = (seed: number) => {
      const p = new RandomPolicy({}, ctx(5, seed));
      return Array.from({ length: 50 }, (_, i) => put(p, `k${i}`)).flat();
    };
    expect(victims(9)).toEqual(victims(9));
  });

  it('lfu evicts the least frequently used, least recent among ties', () => {
    const lfu = new LfuPolicy({}, ctx(3));
    put(lfu, 'a');
    put(lfu, 'b');
    put(lfu, 'c');
    lfu.onHit('a', 0);
    lfu.onHit('a', 0);
    lfu.onHit('b', 0);
    expect([lfu.frequency('a'), lfu.frequency('b'), lfu.frequency('c')]).toEqual([3, 2, 1]);
    expect(put(lfu, 'd')).toEqual(['c']);
    expect(put(lfu, 'e')).toEqual(['d']);
    lfu.onHit('e', 0); // e: 2, touched after b
    expect(put(lfu, 'f')).toEqual(['b']);
    put(lfu, 'f'); // an overwrite counts: f is 2
    expect(lfu.frequency('f')).toBe(2);
    expect(lfu.frequency('absent')).toBe(0);
  });

  it('lfu aging halves counts every halfLife, lazily, keeping LRU order among new ties', () => {
    const lfu = new LfuPolicy({ halfLife: '1s' }, ctx(2));
    put(lfu, 'a', 0);
    put(lfu, 'b', 0);
    lfu.onHit('b', 10); // b: 2
    lfu.onHit('a', 20);
    lfu.onHit('a', 30); // a: 3, b accessed before a
    lfu.onHit('b', 40); // b: 3, now the most recent
    lfu.onHit('a', 50); // a: 4
    expect(lfu.frequency('a')).toBe(4);
    lfu.onMiss('zzz', 1000); // one halving: a 2, b 1
    expect([lfu.frequency('a'), lfu.frequency('b')]).toEqual([2, 1]);
    lfu.onHit('b', 1100); // b 2, more recent than a
    expect(put(lfu, 'c', 1200)).toEqual(['a']);
    // Three more half-lives at once: everything to 0, the newcomer c (1) outranks b.
    lfu.onMiss('zzz', 4500);
    expect([lfu.frequency('b'), lfu.frequency('c')]).toEqual([0, 0]);
    lfu.onHit('c', 4500);
    expect(put(lfu, 'd', 4600)).toEqual(['b']);
    expect(lfu.frequency('d')).toBe(1);
  });

  it('lfu with aging lets yesterday’s favourite leave', () => {
    const run = (spec: EvictionSpec) => {
      const policy = createEvictionPolicy(spec, ctx(2));
      put(policy, 'old', 0);
      for (let i = 0; i < 100; i++) policy.onHit('old', i);
      // A new favourite, hit 20 times a minute for ten minutes, competing for the other slot.
      for (let m = 1; m <= 10; m++) {
        const now = m * 60_000;
        if (!policy.has('new')) put(policy, 'new', now);
        for (let i = 0; i < 20; i++) policy.onHit('new', now);
        put(policy, `scan${m}`, now);
      }
      return policy.has('old');
    };
    expect(run({ kind: 'lfu' })).toBe(true);
    expect(run({ kind: 'lfu', halfLife: '1m' })).toBe(false);
  });

  it('ttl evicts the nearest expiry, then keys without a TTL in LRU order', () => {
    const ttl = new TtlPolicy({}, ctx(3));
    put(ttl, 'a', 0, 1, 5000);
    put(ttl, 'b', 0, 1, Infinity);
    put(ttl, 'c', 0, 1, 1000);
    expect(put(ttl, 'd', 0, 1, 9000)).toEqual(['c']);
    expect(put(ttl, 'e', 0, 1, Infinity)).toEqual(['a']);
    expect(put(ttl, 'f', 0, 1, Infinity)).toEqual(['d']);
    ttl.onHit('b', 1);
    expect(put(ttl, 'g', 2, 1, Infinity)).toEqual(['e']);
    // Equal expiries go in write order; an overwrite moves a key to its new expiry.
    const t2 = new TtlPolicy({}, ctx(3));
    put(t2, 'x', 0, 1, 7000);
    put(t2, 'y', 0, 1, 7000);
    put(t2, 'z', 0, 1, 8000);
    put(t2, 'x', 0, 1, 9000);
    expect(put(t2, 'w', 0, 1, 9500)).toEqual(['y']);
    expect(put(t2, 'v', 0, 1, 9500)).toEqual(['z']);
    // An expired key not yet noticed goes first.
    expect(put(t2, 'u', 20_000, 1, 30_000)).toEqual(['x']);
  });

  it('none refuses what does not fit, and never evicts', () => {
    const none = new NoEvictionPolicy({}, ctx(10));
    expect(put(none, 'a', 0, 6)).toEqual([]);
    expect(put(none, 'b', 0, 4)).toEqual([]);
    expect(put(none, 'c', 0, 1)).toEqual(['c']);
    expect(none.has('c')).toBe(false);
    expect(put(none, 'a', 0, 5)).toEqual([]);
    expect(put(none, 'c', 0, 1)).toEqual([]);
    // An overwrite that no longer fits is refused and the key is gone.
    expect(put(none, 'a', 0, 7)).toEqual(['a']);
    expect(none.has('a')).toBe(false);
    expect(none.used).toBe(5);
    expect(none.count).toBe(2);
  });
});

describe('sizes in bytes', () => {
  for (const spec of SPECS) {
    it(`${JSON.stringify(spec)}: variable sizes never exceed the capacity; oversize is refused`, () => {
      const capacity = 1000;
      const policy = createEvictionPolicy(spec, ctx(capacity, 3));
      const rng = new Simulation({ seed: 2 }).rng('sizes');
      for (let i = 0; i < 2000; i++) {
        const key = `k${rng.int(0, 300)}`;
        const size = rng.int(1, 200);
        const evicted = put(policy, key, i * 100, size, rng.next() < 0.5 ? i * 100 + 50_000 : Infinity);
        expect(policy.used).toBeLessThanOrEqual(capacity);
        if (!evicted.includes(key)) expect(policy.has(key)).toBe(true);
      }
      const before = policy.count;
      expect(put(policy, 'huge', 0, capacity + 1)).toEqual(['huge']);
      expect(policy.has('huge')).toBe(false);
      expect(policy.count).toBe(before);
      // An overwrite that outgrows the capacity is refused and the key dropped.
      const resident = `k${Array.from({ length: 300 }, (_, i) => i).find((i) => policy.has(`k${i}`))}`;
      expect(put(policy, resident, 0, capacity + 1)).toEqual([resident]);
      expect(policy.has(resident)).toBe(false);
      expect(policy.count).toBe(before - 1);
      // A key of exactly the capacity fits (unless policy rules refuse it).
      const full = put(policy, 'exact', 0, capacity, 1e12);
      if (spec.kind !== 'none' && !('volatile' in spec && spec.volatile)) {
        expect(full).not.toContain('exact');
        expect(policy.count).toBe(1);
        expect(policy.used).toBe(capacity);
      }
    });
  }
});

/** A cheap assertion for hot loops (vitest's expect costs microseconds per call). */
function check(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(message());
}

describe('invariants under random operation sequences', () => {
  for (const spec of SPECS) {
    it(`${JSON.stringify(spec)}`, () => {
      const volatile = 'volatile' in spec && spec.volatile === true;
      for (const seed of [1, 2, 3, 4]) {
        const rng = new Simulation({ seed }).rng('ops');
        const capacity = [1, 7, 40, 200][seed - 1]!;
        const policy = createEvictionPolicy(spec, ctx(capacity, seed));
        const model = new Map<string, number>();
        let modelUsed = 0;
        const universe = Array.from({ length: capacity === 200 ? 150 : 60 }, (_, i) => `k${i}`);
        let now = 0;
        const evicted: string[] = [];
        for (let op = 0; op < 3000; op++) {
          const where = () => `seed ${seed}, op ${op}`;
          now += rng.int(0, 3000);
          const key = universe[rng.int(0, universe.length)]!;
          const r = rng.next();
          if (r < 0.45) {
            const size = rng.next() < 0.03 ? capacity + 1 : rng.int(1, Math.min(capacity, 9) + 1);
            const expiresAt = rng.next() < 0.5 ? Infinity : now + rng.int(-5000, 60_000);
            const wasResident = model.has(key);
            evicted.length = 0;
            policy.put(key, size, expiresAt, now, evicted);
            check(new Set(evicted).size === evicted.length, () => `${where()}: duplicate in ${evicted}`);
            let lastVictimSize = 0;
            for (const victim of evicted) {
              if (victim === key) continue;
              check(model.has(victim), () => `${where()}: evicted ${victim} was not resident`);
              check(!policy.has(victim), () => `${where()}: evicted ${victim} is still resident`);
              check(spec.kind !== 'none', () => `${where()}: none evicted ${victim}`);
              lastVictimSize = model.get(victim)!;
              modelUsed -= lastVictimSize;
              model.delete(victim);
            }
            if (evicted.includes(key)) {
              check(!policy.has(key), () => `${where()}: refused ${key} is resident`);
              if (wasResident) {
                modelUsed -= model.get(key)!;
                model.delete(key);
              }
              const mayRefuse = spec.kind === 'none' || volatile || size > capacity;
              check(mayRefuse, () => `${where()}: ${key} (size ${size}) refused`);
            } else {
              check(size <= capacity, () => `${where()}: oversize ${key} accepted`);
              check(policy.has(key), () => `${where()}: ${key} not resident after put`);
              modelUsed += size - (model.get(key) ?? 0);
              model.set(key, size);
              // Eviction stops as soon as the key fits: without the last victim it did not fit.
              check(
                lastVictimSize === 0 || modelUsed + lastVictimSize > capacity,
                () => `${where()}: evicted more than needed`,
              );
            }
          } else if (r < 0.85) {
            if (policy.has(key)) policy.onHit(key, now);
            else policy.onMiss(key, now);
          } else if (r < 0.998) {
            policy.remove(key);
            if (model.has(key)) {
              modelUsed -= model.get(key)!;
              model.delete(key);
            }
          } else {
            policy.clear();
            model.clear();
            modelUsed = 0;
          }
          check(policy.count === model.size, () => `${where()}: count ${policy.count} != ${model.size}`);
          check(policy.used === modelUsed, () => `${where()}: used ${policy.used} != ${modelUsed}`);
          check(policy.used <= capacity, () => `${where()}: used ${policy.used} > ${capacity}`);
          if (op % 10 === 0) {
            for (const k of universe) {
              check(policy.has(k) === model.has(k), () => `${where()}: has(${k}) != ${model.has(k)}`);
            }
          }
        }
        expect(model.size).toBe(policy.count);
      }
    });
  }
});

/** A naive O(n) model of the deterministic policies: victims are the minimum of a per-key rank. */
class NaivePolicy {
  readonly entries = new Map<string, { size: number; count: number; seq: number; expiresAt: number }>();
  private t = 0;
  private epoch = 0;
  constructor(
    readonly kind: 'lru' | 'fifo' | 'lfu' | 'ttl',
    readonly capacity: number,
    readonly halfLife = Infinity,
  ) {}

  private age(now: number): void {
    if (this.halfLife === Infinity) return;
    const epoch = Math.floor(now / this.halfLife);
    if (epoch <= this.epoch) return;
    for (const e of this.entries.values()) e.count = Math.floor(e.count / 2 ** (epoch - this.epoch));
    this.epoch = epoch;
  }

  /** Smaller is evicted first. */
  private rank(e: { count: number; seq: number; expiresAt: number }): [number, number] {
    if (this.kind === 'lfu') return [e.count, e.seq];
    if (this.kind === 'ttl') return [e.expiresAt, e.seq];
    return [0, e.seq];
  }

  onHit(key: string, now: number): void {
    this.age(now);
    const e = this.entries.get(key);
    if (e === undefined) return;
    e.count++;
    if (this.kind === 'lru' || this.kind === 'lfu' || (this.kind === 'ttl' && e.expiresAt === Infinity))
      e.seq = ++this.t;
  }

  onMiss(_key: string, now: number): void {
    this.age(now);
  }

  put(key: string, size: number, expiresAt: number, now: number): string[] {
    this.age(now);
    const evicted: string[] = [];
    const old = this.entries.get(key);
    if (size > this.capacity) {
      this.entries.delete(key);
      return [key];
    }
    if (old === undefined) {
      this.entries.set(key, { size, count: 1, seq: ++this.t, expiresAt });
    } else {
      old.size = size;
      old.count++;
      if (this.kind !== 'fifo') old.seq = ++this.t;
      old.expiresAt = expiresAt;
    }
    let used = 0;
    for (const e of this.entries.values()) used += e.size;
    while (used > this.capacity) {
      let victim: string | undefined;
      let best: [number, number] = [Infinity, Infinity];
      for (const [k, e] of this.entries) {
        if (k === key) continue;
        const r = this.rank(e);
        if (r[0] < best[0] || (r[0] === best[0] && r[1] < best[1])) {
          best = r;
          victim = k;
        }
      }
      used -= this.entries.get(victim!)!.size;
      this.entries.delete(victim!);
      evicted.push(victim!);
    }
    return evicted;
  }

  remove(key: string): void {
    this.entries.delete(key);
  }
}

describe('exact policies match a naive model', () => {
  const cases: readonly [EvictionSpec, number][] = [
    [{ kind: 'lru' }, Infinity],
    [{ kind: 'fifo' }, Infinity],
    [{ kind: 'lfu' }, Infinity],
    [{ kind: 'lfu', halfLife: 20_000 }, 20_000],
    [{ kind: 'ttl' }, Infinity],
  ];
  for (const [spec, halfLife] of cases) {
    it(`${JSON.stringify(spec)}: the same victims, in the same order`, () => {
      for (const seed of [1, 2]) {
        const rng = new Simulation({ seed }).rng('naive');
        const capacity = 12;
        const policy = createEvictionPolicy(spec, ctx(capacity, seed));
        const naive = new NaivePolicy(spec.kind as 'lru', capacity, halfLife);
        let now = 0;
        for (let op = 0; op < 4000; op++) {
          now += rng.int(0, 1500);
          const key = `k${rng.int(0, 30)}`;
          const r = rng.next();
          if (r < 0.4) {
            const size = rng.next() < 0.02 ? capacity + 1 : rng.int(1, 4);
            // Few distinct expiries, so that ties occur.
            const expiresAt = rng.next() < 0.3 ? Infinity : 1000 * rng.int(0, 40);
            const got: string[] = [];
            policy.put(key, size, expiresAt, now, got);
            const want = naive.put(key, size, expiresAt, now);
            if (got.join() !== want.join()) {
              throw new Error(`seed ${seed} op ${op}: put ${key} evicted [${got}], expected [${want}]`);
            }
          } else if (r < 0.9) {
            if (policy.has(key)) {
              policy.onHit(key, now);
              naive.onHit(key, now);
            } else {
              policy.onMiss(key, now);
              naive.onMiss(key, now);
            }
          } else {
            policy.remove(key);
            naive.remove(key);
          }
          if (policy.count !== naive.entries.size) throw new Error(`seed ${seed} op ${op}: count differs`);
        }
      }
    });
  }
});

describe('factory and validation', () => {
  it('EVICTION_KINDS lists every kind once, in a stable order', () => {
    expect(EVICTION_KINDS).toEqual([
      'lru',
      'fifo',
      'random',
      'lfu',
      'ttl',
      'redis-lru',
      'redis-lfu',
      'arc',
      'w-tinylfu',
      'none',
    ]);
    expect(Object.isFrozen(EVICTION_KINDS)).toBe(true);
  });

  it('builds every implemented kind', () => {
    for (const spec of SPECS) {
      const policy = createEvictionPolicy(spec, ctx(5));
      expect(policy.kind).toBe(spec.kind);
      expect(policy.capacity).toBe(5);
      expect([policy.used, policy.count]).toEqual([0, 0]);
    }
  });

  it('builds every kind it lists, arc and w-tinylfu included', () => {
    for (const kind of EVICTION_KINDS) {
      const spec = { kind } as EvictionSpec;
      expect(createEvictionPolicy(spec, ctx(5)).kind).toBe(kind);
    }
  });

  it('errors name the field, the value and what is allowed', () => {
    const bad =
      (spec: unknown, c: EvictionContext = ctx(5)) =>
      () =>
        createEvictionPolicy(spec as EvictionSpec, c);
    expectInvalid(bad({ kind: 'lru2' }), 'eviction.kind');
    expectInvalid(bad({}), 'eviction.kind');
    expectInvalid(bad(null), 'eviction');
    expectInvalid(bad({ kind: 'lru', samples: 5 }), 'eviction.samples');
    expectInvalid(bad({ kind: 'redis-lru', logFactor: 10 }), 'eviction.logFactor');
    expectInvalid(bad({ kind: 'redis-lru', samples: 0 }), 'eviction.samples');
    expectInvalid(bad({ kind: 'redis-lfu', samples: 65 }), 'eviction.samples');
    expectInvalid(bad({ kind: 'redis-lfu', samples: 2.5 }), 'eviction.samples');
    expectInvalid(bad({ kind: 'redis-lfu', logFactor: -1 }), 'eviction.logFactor');
    expectInvalid(bad({ kind: 'redis-lfu', decayTime: '90s' }), 'eviction.decayTime');
    expectInvalid(bad({ kind: 'redis-lfu', volatile: 'yes' }), 'eviction.volatile');
    expectInvalid(bad({ kind: 'lfu', halfLife: 0 }), 'eviction.halfLife');
    expectInvalid(bad({ kind: 'lfu', halfLife: 'soon' }), 'eviction.halfLife', 'INVALID_DURATION');
    expectInvalid(bad({ kind: 'lru' }, { capacity: 0, rng: ctx(1).rng }), 'eviction.capacity');
    expectInvalid(bad({ kind: 'ttl' }, { capacity: 2.5, rng: ctx(1).rng }), 'eviction.capacity');
    expectInvalid(bad({ kind: 'random' }, { capacity: 5 } as EvictionContext), 'eviction.rng');
    expectInvalid(() => new LruPolicy({ kind: 'fifo' } as never, ctx(5)), 'eviction.kind');
    expectInvalid(() => new RedisPolicy({ kind: 'lru' } as never, ctx(5)), 'eviction.kind');
    const err = (() => {
      try {
        bad({ kind: 'redis-lru', samples: 100 })();
      } catch (e) {
        return e as DsimError;
      }
      return undefined;
    })();
    expect(err?.message).toBe(
      'createEvictionPolicy: eviction.samples must be an integer in [1, 64], got 100',
    );
  });

  it('put validates size and expiry', () => {
    for (const spec of SPECS) {
      const policy = createEvictionPolicy(spec, ctx(5));
      expectInvalid(() => put(policy, 'k', 0, 0), 'eviction.size');
      expectInvalid(() => put(policy, 'k', 0, Number.NaN), 'eviction.size');
      expectInvalid(() => put(policy, 'k', 0, Infinity), 'eviction.size');
    }
    expectInvalid(() => put(new TtlPolicy({}, ctx(5)), 'k', 0, 1, Number.NaN), 'eviction.expiresAt');
  });
});
