import { describe, expect, it } from 'vitest';
import '../src/vitest.js';
import { distributedCache } from '../src/catalogue/distributed-cache.js';
import { runScenario } from '../src/scenario.js';

/** A small key space and rate: each variant runs in a fraction of a second. */
const short = { keys: 5000, rate: 800, seconds: 20, crashAt: 10, downFor: 0 };

describe('distributed-cache', () => {
  it.each([
    1, 2,
  ])('seed %i: every check holds; moved keys, miss storm and stale reads follow theory', (seed) => {
    const r = runScenario(distributedCache, { seed, params: short });
    expect(r).toPassChecks();
    const by = Object.fromEntries(r.variants.map((v) => [v.name, v.outcome]));
    const ring = by.ring!;
    const modulo = by.modulo!;
    const maglev = by.maglev!;
    const rep = by['ring-replicated']!;
    // Keys moved: about 1/N for the ring and Maglev, (N − 1)/N for modulo (N = 8).
    expect(Math.abs((ring.movedKeyShare as number) - 1 / 8)).toBeLessThan(0.04);
    expect(Math.abs((maglev.movedKeyShare as number) - 1 / 8)).toBeLessThan(0.02);
    expect(Math.abs((modulo.movedKeyShare as number) - 7 / 8)).toBeLessThan(0.02);
    // The miss storm: one miss per moved key read (plus the victim's reads until its removal).
    for (const v of [ring, modulo, maglev]) {
      const theory = v.stormMissesTheory as number;
      expect(Math.abs((v.stormMisses as number) - theory)).toBeLessThan(0.15 * theory);
    }
    expect(modulo.stormMisses as number).toBeGreaterThan(3 * (ring.stormMisses as number));
    expect(modulo.originPeakPerSec as number).toBeGreaterThan(2 * (ring.originPeakPerSec as number));
    // Replication: the promoted replica is warm, reads fail over: no miss storm, no failed reads.
    expect(rep.stormMisses as number).toBeLessThan(0.05 * (ring.stormMisses as number));
    expect(rep.hitRatioMin as number).toBeGreaterThan(0.99);
    expect(rep.failovers as number).toBeGreaterThan(0);
    // ...but replica reads in the lag are stale, as 1 − e^(−w W) says; one copy: none before the crash.
    expect(rep.staleReadShareSteady as number).toBeGreaterThan(0);
    expect(ring.staleReadShareSteady).toBe(0);
    expect(rep.rywViolations as number).toBeGreaterThan(0);
    // A crash loses what only the victim held: all its keys with one copy; with two, the lag's writes.
    expect(Math.abs((ring.lostWrites as number) - 5000 * (ring.movedKeyShare as number))).toBeLessThan(10);
    expect(rep.lostWrites as number).toBeLessThan(10);
    // Until the removal, the victim's keys read as misses: the lowest hit ratio is about 1 − its traffic.
    expect(ring.hitRatioMin as number).toBeLessThan(0.95);
    expect(ring.hitRatioBefore as number).toBeGreaterThan(0.99);
  });

  it('negative control: no crash, no storm; no replication lag, (almost) no stale reads', () => {
    const quiet = runScenario(distributedCache, {
      seed: 1,
      params: { ...short, crashAt: 0 },
      variants: ['ring', 'modulo'],
    });
    expect(quiet).toPassChecks();
    for (const v of quiet.variants) {
      expect(v.outcome.detectionMs).toBeNull();
      expect(v.outcome.reroutes).toBe(0);
      expect(v.outcome.originPeakRatio as number).toBeLessThan(2);
      expect(v.outcome.hitRatioBefore as number).toBeGreaterThan(0.99);
    }
    const lagged = runScenario(distributedCache, { seed: 1, params: short, variants: ['ring-replicated'] });
    const prompt = runScenario(distributedCache, {
      seed: 1,
      params: { ...short, lagMs: 0 },
      variants: ['ring-replicated'],
    });
    expect(prompt.outcome.staleReadShareSteady as number).toBeLessThan(
      0.15 * (lagged.outcome.staleReadShareSteady as number),
    );
  });

  it('is deterministic: same seed, same digest and outcome', () => {
    const a = runScenario(distributedCache, { seed: 7, params: short, variants: ['ring-replicated'] });
    const b = runScenario(distributedCache, { seed: 7, params: short, variants: ['ring-replicated'] });
    expect(a.digest).toBe(b.digest);
    expect(a.outcome).toEqual(b.outcome);
  });
});
