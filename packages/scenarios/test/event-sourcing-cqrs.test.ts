import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { eventSourcingCqrs } from '../src/catalogue/event-sourcing-cqrs.js';
import { runScenario } from '../src/scenario.js';

type Figures = Record<string, number>;

describe('event-sourcing-cqrs scenario', () => {
  it.each([1, 2])('seed %i: staleness, read-your-writes and rebuild time match theory', (seed) => {
    const r = runScenario(eventSourcingCqrs, { seed });
    expect(r).toPassChecks();
    const by = Object.fromEntries(r.variants.map((v) => [v.name, v.outcome as Figures]));
    // Staleness ≈ U[0, T] + a few ms: mean ≈ T/2.
    expect(Math.abs(by['poll-1000ms']!.stalenessMeanMs! - 500)).toBeLessThan(60);
    expect(by['poll-1000ms']!.stalenessMaxMs!).toBeLessThan(1020);
    expect(by['poll-10ms']!.stalenessP99Ms!).toBeLessThan(20);
    // Read-your-writes 50 ms after the ack: never broken at T = 10 ms, half the time at 100 ms, 95% at 1 s.
    expect(by['poll-10ms']!.readYourWritesViolationRate).toBeLessThan(0.01);
    expect(Math.abs(by['poll-100ms']!.readYourWritesViolationRate! - 0.5)).toBeLessThan(0.1);
    expect(Math.abs(by['poll-1000ms']!.readYourWritesViolationRate! - 0.95)).toBeLessThan(0.05);
    // Rebuild of 1037 events: a full replay ~104 ms, from the snapshot at 1000 only 37 events.
    for (const v of Object.values(by)) {
      expect(v.rebuildReplayedWithSnapshot).toBe(37);
      expect(v.rebuildFullMs! / v.rebuildSnapshotMs!).toBeGreaterThan(10);
    }
  });

  it('a client that reads immediately after its ack almost never sees its write', () => {
    const r = runScenario(eventSourcingCqrs, {
      seed: 3,
      params: { readDelayMs: 0, seconds: 20 },
      variants: ['poll-100ms'],
    });
    expect(r).toPassChecks();
    expect(r.outcome.readYourWritesViolationRate as number).toBeGreaterThan(0.97);
  });

  it('without snapshots (S > N) a rebuild replays all N events', () => {
    const r = runScenario(eventSourcingCqrs, {
      seed: 4,
      params: { rebuildEvents: 300, snapshotEvery: 1000, seconds: 10 },
      variants: ['poll-10ms'],
    });
    expect(r).toPassChecks();
    expect(r.outcome.rebuildReplayedWithSnapshot).toBe(300);
  });

  it('is deterministic', () => {
    const run = (seed: number) =>
      runScenario(eventSourcingCqrs, {
        seed,
        params: { seconds: 10, rebuildEvents: 150 },
        variants: ['poll-100ms'],
      });
    const a = run(7);
    expect(run(7).digest).toBe(a.digest);
    expect(run(8).digest).not.toBe(a.digest);
  });
});
