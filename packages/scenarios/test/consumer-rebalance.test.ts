import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { consumerRebalance } from '../src/catalogue/consumer-rebalance.js';
import { runScenario } from '../src/scenario.js';

const outcome = (r: ReturnType<typeof runScenario>, name: string) =>
  r.variants.find((v) => v.name === name)!.outcome;

describe('consumer-rebalance scenario', () => {
  it('eager revokes all, cooperative only the moved ones in two rebalances, static avoids one, KIP-848 reconciles', () => {
    const r = runScenario(consumerRebalance, { seed: 1 });
    expect(r).toPassChecks();
    expect(outcome(r, 'eager')).toMatchObject({ joinRebalances: 1, joinRevoked: 12, joinMaxPaused: 12 });
    expect(outcome(r, 'cooperative')).toMatchObject({ joinRebalances: 2, joinRevoked: 3, joinMoved: 3 });
    expect(outcome(r, 'static')).toMatchObject({ crashRebalances: 0, crashMoved: 0 });
    expect(outcome(r, 'kip848')).toMatchObject({ joinRebalances: 1, crashRevoked: 0 });
    // What is measured, not the folklore: with members keeping up, eager's stop-the-world pause is
    // milliseconds; cooperative's moved partitions wait a heartbeat and a second rebalance.
    expect(outcome(r, 'eager').joinPausedPartitionS as number).toBeLessThan(1);
    expect(outcome(r, 'cooperative').joinPausedPartitionS as number).toBeGreaterThan(5);
    for (const name of ['eager', 'cooperative', 'kip848'])
      expect(outcome(r, name).crashDuplicates).toBe(outcome(r, name).crashUncommittedAtEvent);
  }, 60_000);

  it('a static member restarting after session.timeout.ms is expired: the crash costs a rebalance again', () => {
    const r = runScenario(consumerRebalance, {
      seed: 1,
      params: { restartAfterS: 50, seconds: 150 },
      variants: ['static'],
    });
    expect(r.outcome.crashRebalances as number).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('names a bad parameter', () => {
    expect(() => runScenario(consumerRebalance, { seed: 1, params: { asignor: 'range' } as never })).toThrow(
      /asignor.*assignor/,
    );
    expect(() => runScenario(consumerRebalance, { seed: 1, params: { assignor: 'rnage' } as never })).toThrow(
      /range/,
    );
  });
});
