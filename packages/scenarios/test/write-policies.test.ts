import { writeBehindExpectedQueue } from '@dsim/components';
import { Tally } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import '../src/vitest.js';
import { writePolicies } from '../src/catalogue/write-policies.js';
import { runScenario } from '../src/scenario.js';

describe('write-policies scenario', () => {
  it('seed 1: every check holds; latency, store load, staleness and loss rank as the semantics say', () => {
    const r = runScenario(writePolicies, { seed: 1 });
    expect(r).toPassChecks();
    const by = Object.fromEntries(r.variants.map((v) => [v.name, v.outcome]));
    const n = (variant: string, field: string) => by[variant]![field] as number;
    // Write-behind acknowledges after one cache round trip (2 × 0.5 ms + 0.05 ms service).
    expect(n('write-behind', 'writeP50')).toBeGreaterThan(0.8);
    expect(n('write-behind', 'writeP50')).toBeLessThan(1.3);
    // Write-through = store + cache round trips: about one cache round trip more than write-around (store only).
    const extra = n('write-through', 'writeP50') - n('write-around', 'writeP50');
    expect(extra).toBeGreaterThan(0.7);
    expect(extra).toBeLessThan(1.5);
    // Cache-aside's delete costs the same round trip as write-through's set.
    expect(Math.abs(n('cache-aside-invalidate', 'writeP50') - n('write-through', 'writeP50'))).toBeLessThan(
      0.3,
    );
    // Store load: one call per write, except write-behind with coalescing (Zipf keys: hot keys merge).
    expect(n('write-through', 'storeCallsPerWrite')).toBeCloseTo(1, 2);
    expect(n('write-behind-coalesced', 'storeCallsPerWrite')).toBeLessThan(0.75);
    expect(n('write-behind-coalesced', 'coalesced')).toBeGreaterThan(0);
    // Invalidating policies send every read after a write to the database; updating policies do not.
    expect(n('write-around', 'dbReadsPerSecond')).toBeGreaterThan(3 * n('write-through', 'dbReadsPerSecond'));
    // Nothing acknowledged is lost by the synchronous policies; write-behind loses about w·F/2 per crash,
    // the same writes with or without coalescing (coalescing saves store calls, not the loss window).
    for (const v of ['write-through', 'write-around', 'cache-aside-invalidate'])
      expect([n(v, 'lostWrites'), n(v, 'keysBehind')]).toEqual([0, 0]);
    expect(n('write-behind', 'lostWrites')).toBeGreaterThan(100);
    expect(n('write-behind', 'lostKeys')).toBeLessThan(n('write-behind', 'lostWrites'));
    expect(
      Math.abs(n('write-behind-coalesced', 'lostWrites') - n('write-behind', 'lostWrites')) /
        n('write-behind', 'lostWrites'),
    ).toBeLessThan(0.05);
    expect(n('write-behind', 'keysBehind')).toBeGreaterThan(0);
    // Stale reads: write-around's lag makes many; the others only the rare read/write races.
    expect(n('write-around', 'staleReadFraction')).toBeGreaterThan(0.02);
    expect(n('write-through', 'staleReadFraction')).toBeLessThan(0.002);
    expect(n('cache-aside-invalidate', 'staleReadFraction')).toBeLessThan(0.005);
  });

  it('writes lost per crash match E[Q] (flush interval, and flush interval with a batch size), pooled over seeds', () => {
    const quick = { readRate: 0, crashes: 30, seconds: 120 };
    for (const [extra, expected] of [
      [{}, 50.495],
      [{ flushMs: 250 }, writeBehindExpectedQueue({ ratePerSecond: 100, flushIntervalMs: 250 })],
      [{ batchSize: 20 }, 9.5],
    ] as const) {
      const perCrash = new Tally();
      for (const seed of [1, 2, 3]) {
        const r = runScenario(writePolicies, {
          seed,
          variants: ['write-behind'],
          params: { ...quick, ...extra },
        });
        expect(r).toPassChecks();
        expect(r.outcome.theoryLostPerCrash as number).toBeCloseTo(expected, 2);
        perCrash.add(r.outcome.lostPerCrash as number);
      }
      // 90 crashes: the standard error of the mean is about 3% of w·F/2.
      expect(Math.abs(perCrash.mean - expected) / expected, JSON.stringify(extra)).toBeLessThan(0.1);
    }
  });

  it('without crashes write-behind loses nothing and the database catches up', () => {
    const r = runScenario(writePolicies, {
      seed: 2,
      params: { crashes: 0, seconds: 20 },
      variants: ['write-behind', 'write-behind-coalesced'],
    });
    expect(r).toPassChecks();
    for (const v of r.variants) {
      expect(v.outcome.lostWrites).toBe(0);
      expect(v.outcome.keysBehind).toBe(0);
      expect(v.outcome.writesFailed).toBe(0);
    }
  });

  it('rejects a crash schedule that leaves no room between crashes', () => {
    expect(() =>
      runScenario(writePolicies, {
        seed: 1,
        params: { crashes: 40, seconds: 60 },
        variants: ['write-through'],
      }),
    ).toThrow(/parameter crashes/);
  });
});
