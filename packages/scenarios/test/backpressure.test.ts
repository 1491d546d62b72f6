import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { backpressure } from '../src/catalogue/backpressure.js';
import { runScenario } from '../src/scenario.js';

type Figures = Record<string, number>;

describe('backpressure scenario', () => {
  it.each([1, 2])('seed %i: every variant matches the fluid model and conserves items', (seed) => {
    const r = runScenario(backpressure, { seed });
    expect(r).toPassChecks();
    const by = Object.fromEntries(r.variants.map((v) => [v.name, v.outcome as Figures]));
    // Unbounded: the backlog grows at lambda - mu = 50/s and holds thousands of items at the end.
    expect(Math.abs(by.unbounded!.growthPerSecond! - 50)).toBeLessThan(10);
    expect(by.unbounded!.bufferedAtEnd).toBeGreaterThan(2000);
    // Bounded variants: memory at most 3 x 20 items, throughput mu.
    for (const name of [
      'block',
      'drop-newest',
      'drop-oldest',
      'credit',
      'block-closed-loop',
      'credit-closed-loop',
    ]) {
      expect(by[name]!.maxBuffered).toBeLessThanOrEqual(60);
      expect(Math.abs(by[name]!.throughput! - 100)).toBeLessThan(8);
    }
    expect(Math.abs(by.block!.rejectShare! - 1 / 3)).toBeLessThan(0.05);
    expect(by.block!.dropShare).toBe(0);
    expect(Math.abs(by['drop-newest']!.dropShare! - 1 / 3)).toBeLessThan(0.05);
    expect(by['drop-newest']!.rejectShare).toBe(0);
    // Blocking pushes back: the stage before the bottleneck spends most of its time blocked.
    expect(by.block!.blockedSecondsEnrich!).toBeGreaterThan(20);
    expect(by['drop-newest']!.blockedSecondsEnrich).toBe(0);
    for (const v of r.variants) expect(v.outcome.conservationViolations).toBe(0);
  });

  it('without overload (lambda < mu) nothing is lost and nothing grows', () => {
    const r = runScenario(backpressure, {
      seed: 3,
      params: { lambda: 60, seconds: 30 },
      variants: ['unbounded', 'block', 'drop-newest'],
    });
    expect(r).toPassChecks();
    for (const v of r.variants) {
      expect(Math.abs((v.outcome.throughput as number) - 60)).toBeLessThan(10);
      expect(v.outcome.bufferedAtEnd as number).toBeLessThan(40);
      expect(v.outcome.rejectShare as number).toBeLessThan(0.02);
    }
  });

  it('credits below the bandwidth-delay product starve the bottleneck', () => {
    const r = runScenario(backpressure, {
      seed: 4,
      params: { capacity: 2, creditDelayMs: 40, seconds: 30 },
      variants: ['credit-closed-loop'],
    });
    // 2 credits per 40 ms + 10 ms of service: about 2 / 0.05 = 40 items/s, not 100.
    expect(r.outcome.throughput as number).toBeLessThan(60);
    expect(r.checks.find((c) => c.name.includes('throughput'))!.pass).toBe(false);
  });

  it('is deterministic and rejects contradictory parameters', () => {
    const run = (seed: number) =>
      runScenario(backpressure, { seed, params: { seconds: 20 }, variants: ['drop-oldest', 'credit'] });
    const a = run(7);
    expect(run(7).digest).toBe(a.digest);
    expect(run(8).digest).not.toBe(a.digest);
    expect(() =>
      runScenario(backpressure, { seed: 1, params: { source: 'closed' }, variants: ['unbounded'] }),
    ).toThrow(/source "closed" needs buffer "block" or "credit"/);
    expect(() => runScenario(backpressure, { seed: 1, params: { warmupSeconds: 58 } })).toThrow(
      /warmupSeconds/,
    );
  });
});
