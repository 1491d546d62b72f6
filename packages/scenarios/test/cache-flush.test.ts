import { describe, expect, it } from 'vitest';
import '../src/vitest.js';
import { cacheFlush, cacheFlushTheory } from '../src/catalogue/cache-flush.js';
import { runScenario, type ScenarioResult } from '../src/scenario.js';

// A smaller system with the same shape: a quarter of the keys and cache, half the read rate, database
// and refill limit (hit ratio 0.942, μ = 125/s, t₉₀ = 2.9 s), flushed at 10 s, 20 s in all.
const short = {
  readRate: 1000,
  keys: 2500,
  cacheCapacity: 1500,
  dbServiceMs: 40,
  refillRate: 100,
  flushAtMs: 10_000,
  seconds: 20,
};

const outcome = (r: ScenarioResult, name: string) => r.variants.find((v) => v.name === name)!.outcome;

describe('cache-flush', () => {
  it('theory: Che hit ratio, refill time and the fluid model’s tipping point', () => {
    const base = {
      keys: 10_000,
      zipfS: 1.1,
      readRate: 2000,
      capacity: 6000,
      shards: 10,
      flushedShards: 10,
      dbCapacity: 250,
      dbServiceMs: 20,
      loadTimeoutMs: 500,
    };
    const t = cacheFlushTheory(base);
    expect(t.hitRatio).toBeCloseTo(0.9544, 3);
    expect(t.missRate).toBeCloseTo(2000 * (1 - t.hitRatio), 6);
    expect(t.flushedHitRate).toBeCloseTo(2000 * t.hitRatio, 6); // everything flushed
    expect(t.refillMs / 1000).toBeCloseTo(5.18, 1);
    expect(t.tips).toBe(true);
    expect(t.verdict).toBe('tips'); // even a database 20% larger would tip
    // A database of 12 workers (600/s) absorbs the full flush; 10 (500/s) does not.
    expect(cacheFlushTheory({ ...base, dbCapacity: 600 }).tips).toBe(false);
    expect(cacheFlushTheory({ ...base, dbCapacity: 500 }).tips).toBe(true);
    // A flush of 3 of 10 shards is absorbed, 5 of 10 is not; no flush, no refill.
    expect(cacheFlushTheory({ ...base, flushedShards: 3 }).tips).toBe(false);
    expect(cacheFlushTheory({ ...base, flushedShards: 5 }).tips).toBe(true);
    // Near the threshold (4 of 10 shards: the verdict flips within ±20% of μ) no verdict is given.
    expect(cacheFlushTheory({ ...base, flushedShards: 4 }).verdict).toBe('borderline');
    expect(cacheFlushTheory({ ...base, flushedShards: 2 }).verdict).toBe('recovers');
    expect(cacheFlushTheory({ ...base, dbCapacity: 800 }).verdict).toBe('recovers');
    const none = cacheFlushTheory({ ...base, flushedShards: 0 });
    expect(none.refillMs).toBe(0);
    expect(none.tips).toBe(false);
  });

  it.each([
    1, 2,
  ])('seed %i: every check holds; unprotected and coalescing stay cold, shedding and rate limiting refill', (seed) => {
    const r = runScenario(cacheFlush, { seed, params: short });
    expect(r).toPassChecks();
    const un = outcome(r, 'unprotected');
    // Before: Che's hit ratio; the database sees R·(1 − H) ≈ 58/s of its 125/s.
    expect(Math.abs((un.hitRatioBefore as number) - (un.theoryHitRatio as number))).toBeLessThan(0.01);
    expect(
      Math.abs((un.dbOfferedBefore as number) - 1000 * (1 - (un.theoryHitRatio as number))),
    ).toBeLessThan(15);
    // Metastable: stuck at half the hit ratio, the database saturated, its queue growing at λ − μ.
    for (const name of ['unprotected', 'coalescing']) {
      const o = outcome(r, name);
      expect(o.recovered).toBe(false);
      expect(o.hitRatioAfter as number).toBeLessThan(0.7);
      expect(o.dbUtilizationAfter as number).toBeGreaterThan(0.95);
      expect(o.p99After as number).toBeGreaterThan(500); // the load timeout
      const growth = (o.dbOfferedAfter as number) - 125;
      expect(Math.abs((o.backlogGrowthPerSecond as number) - growth)).toBeLessThan(0.1 * growth);
    }
    // The defences refill about as fast as theory says: refill keys / admitted loads per second.
    for (const name of ['db-shedding', 'rate-limited-refill']) {
      const o = outcome(r, name);
      expect(o.recovered).toBe(true);
      expect(o.successAfter as number).toBeGreaterThan(0.9);
      expect(o.p99After as number).toBeLessThan(250);
      expect(o.dbPeakQueue as number).toBeLessThan(125);
      expect(Math.abs((o.recoveryMs as number) - (o.refillBoundMs as number))).toBeLessThan(2500);
    }
  });

  it('the threshold: a small flush (1 shard of 10) or a bigger database recovers, as the fluid model predicts', () => {
    for (const seed of [1, 2]) {
      const small = runScenario(cacheFlush, {
        seed,
        params: { ...short, flushFraction: 0.1 },
        variants: ['unprotected'],
      });
      expect(small).toPassChecks();
      expect(small.outcome.theoryTips).toBe(false);
      expect(small.outcome.recovered).toBe(true);
    }
    // The full flush against 16 workers (400/s): it recovers, in the refill time of an origin that
    // keeps up (2.9 s, counted in whole seconds).
    const big = runScenario(cacheFlush, {
      seed: 1,
      params: { ...short, dbConcurrency: 16 },
      variants: ['unprotected'],
    });
    expect(big).toPassChecks();
    expect(big.outcome.theoryTips).toBe(false);
    expect(big.outcome.recovered).toBe(true);
    expect(
      Math.abs((big.outcome.recoveryMs as number) - (big.outcome.theoryRefillMs as number)),
    ).toBeLessThan(1500);
  });

  it('rejects a flush too close to the end of the run', () => {
    expect(() => runScenario(cacheFlush, { seed: 1, params: { seconds: 20, flushAtMs: 18_000 } })).toThrow(
      /flushAtMs/,
    );
  });

  it('is deterministic: same seed, same digest', () => {
    const run = () =>
      runScenario(cacheFlush, {
        seed: 5,
        params: { ...short, seconds: 15 },
        variants: ['coalescing'],
      });
    expect(run().digest).toBe(run().digest);
  });
});
