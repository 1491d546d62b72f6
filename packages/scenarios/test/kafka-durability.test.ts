import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { durabilityTable, kafkaDurability } from '../src/catalogue/kafka-durability.js';
import { runScenario } from '../src/scenario.js';

const outcome = (r: ReturnType<typeof runScenario>, name: string) =>
  r.variants.find((v) => v.name === name)!.outcome;

describe('durabilityTable', () => {
  it('acks=0 and 1 may lose; acks=all with a clean election never does; out-of-sync elections always do', () => {
    expect(durabilityTable({ acks: '0', unclean: false, isr: 'full' })).toEqual({
      loss: 'possible',
      offline: false,
    });
    expect(durabilityTable({ acks: '1', unclean: false, isr: 'full' })).toEqual({
      loss: 'possible',
      offline: false,
    });
    expect(durabilityTable({ acks: 'all', unclean: false, isr: 'full' })).toEqual({
      loss: 'none',
      offline: false,
    });
    expect(durabilityTable({ acks: 'all', unclean: false, isr: 'leader-f1' })).toEqual({
      loss: 'none',
      offline: false,
    });
    expect(durabilityTable({ acks: 'all', unclean: false, isr: 'leader' })).toEqual({
      loss: 'none',
      offline: true,
    });
    expect(durabilityTable({ acks: 'all', unclean: true, isr: 'leader' })).toEqual({
      loss: 'certain',
      offline: false,
    });
    expect(durabilityTable({ acks: 'all', unclean: true, isr: 'all-dead' })).toEqual({
      loss: 'certain',
      offline: false,
    });
  });
});

describe('kafka-durability scenario', () => {
  it('every row of the loss table holds: loss only where possible, exactly what the new leader lacked', () => {
    const r = runScenario(kafkaDurability, { seed: 1 });
    expect(r).toPassChecks();
    for (const name of ['acks-all', 'isr-leader-clean', 'min-isr-2-leader-f1', 'min-isr-2-leader'])
      expect(outcome(r, name)).toMatchObject({ ackedAndLost: 0, duplicates: 0 });
    // acks=0/1 lose about one fetch round trip of writes at most (500/s, 4 ms round trips).
    for (const name of ['acks-0', 'acks-1'])
      expect(outcome(r, name).ackedAndLost as number).toBeLessThanOrEqual(8);
    // An unclean election of the cut-off F1 loses everything acked since the cut at 1 s.
    expect(outcome(r, 'isr-leader-unclean').ackedAndLost as number).toBeGreaterThan(25_000);
    expect(outcome(r, 'all-dead-unclean').ackedAndLost as number).toBeGreaterThan(25_000);
    expect(outcome(r, 'isr-leader-clean')).toMatchObject({ outageS: null, newLeader: null });
    expect(outcome(r, 'min-isr-2-leader')).toMatchObject({ outageS: null, newLeader: null });
    expect(outcome(r, 'min-isr-2-leader').brokerErrors as string).toMatch(/not-enough-replicas=\d+/);
    for (const name of ['acks-0', 'acks-1', 'acks-all', 'isr-leader-unclean']) {
      const down = outcome(r, name).outageS as number;
      expect(down).toBeGreaterThan(7);
      expect(down).toBeLessThan(12);
    }
  }, 120_000);

  it('the 4.0 default linger of 5 ms loses nothing with acks=1 here: a fetch is parked when each batch lands', () => {
    const r = runScenario(kafkaDurability, {
      seed: 3,
      params: { acks: '1', linger: 5, crashAtS: 10, loadAfterS: 5 },
      variants: ['acks-1'],
    });
    expect(r).toPassChecks();
    expect(r.outcome.ackedAndLost as number).toBeLessThanOrEqual(8);
  }, 60_000);

  it('names a bad parameter', () => {
    expect(() => runScenario(kafkaDurability, { seed: 1, params: { minInsinc: 2 } as never })).toThrow(
      /minInsinc.*minInsync/,
    );
    expect(() => runScenario(kafkaDurability, { seed: 1, params: { acks: '2' } })).toThrow(/acks/);
  });
});
