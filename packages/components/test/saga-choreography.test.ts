import { exponential, Network, Simulation, Tally } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { AmqpBroker } from '../src/messaging/amqp/broker.js';
import { SagaChoreography } from '../src/saga/saga-choreography.js';
import { sagaTheory } from '../src/saga/saga-theory.js';
import { chain, runChoreographed, runOrchestrated, zScore } from './saga-support.js';

const Z = 4;

describe('SagaChoreography', () => {
  it.each([1, 2])('seed %i: outcomes, reverse compensations and n + 1 events per completed saga', (seed) => {
    const saga = chain({ compensable: 3, pivot: true, retryable: 1, f: 0.1, fRetry: 0.3, g: 0.2 });
    const t = sagaTheory(saga);
    const n = 2000;
    const { ledger, choreography, net } = runChoreographed(seed, saga, n);
    const audit = ledger.audit();
    expect(audit.violations).toEqual([]);
    expect(audit.running).toBe(0);
    expect(audit.absorbed).toBe(0); // no duplicates without faults
    expect(zScore(audit.completed, n, t.pCompleted)).toBeLessThan(Z);
    expect(zScore(audit.stuck, n, t.pStuck)).toBeLessThan(Z);
    const steps = saga.steps.length;
    const failedAt = new Array<number>(steps).fill(0);
    for (const r of ledger.all) {
      if (r.outcome === 'completed') expect(r.messages).toBe(steps + 1);
      if (r.failedStep >= 0) failedAt[r.failedStep]!++;
      if (r.outcome === 'compensated') {
        // start, k + 1 step events (the last one "failed"), k compensation events.
        const k = r.failedStep;
        expect(r.messages).toBe(2 * k + 2);
        expect(r.compensationOrder).toEqual([...Array(k).keys()].reverse());
        expect(r.compensationsRun).toBe(k);
      }
    }
    for (let k = 0; k < saga.decisive; k++) expect(zScore(failedAt[k]!, n, t.pFailAt[k]!)).toBeLessThan(Z);
    const perSaga = new Tally();
    for (const r of ledger.all) perSaga.add(r.messages);
    const events = perSaga.sum;
    expect(events).toBe(choreography!.stats.published);
    expect(Math.abs(perSaga.mean - t.choreographyEvents)).toBeLessThan((Z * perSaga.stdDev) / Math.sqrt(n));
    // On the wire each event costs a publish and its confirm, a delivery and its ack: about 4 messages.
    expect(net.stats.sent / events).toBeGreaterThan(4);
    expect(net.stats.sent / events).toBeLessThan(4.2);
  });

  it('fewer application messages than orchestration (n + 1 against 2n), one more hop of latency', () => {
    const saga = chain({ compensable: 4, pivot: true, latency: 5 });
    const n = 500;
    const chor = runChoreographed(3, saga, n).ledger;
    const orch = runOrchestrated(3, saga, n).ledger;
    const perSaga = (l: typeof chor) => l.all.reduce((s, r) => s + r.messages, 0) / n;
    expect(perSaga(chor)).toBe(6);
    expect(perSaga(orch)).toBe(10);
    // Constant 1 ms links and 5 ms steps: orchestration 5 × (2 + 5) = 35 ms; choreography 6 events of
    // 2 hops each + 5 steps = 37 ms, plus the broker's CPU per event (publish, deliver).
    expect(orch.latency.completed.mean).toBeCloseTo(35, 6);
    const extra = chor.latency.completed.mean - 37;
    expect(extra).toBeGreaterThan(0);
    expect(extra).toBeLessThan(0.5);
  });

  it('duplicates from missing confirms: idempotent participants absorb them, non-idempotent ones apply twice', () => {
    // Exponential 1 ms links: a confirm takes longer than 3 ms about 20% of the time, and the event goes again.
    const run = (idempotent: boolean) => {
      const saga = chain({ compensable: 3, pivot: true, f: 0.1, idempotent });
      const n = 1200;
      const rig = runChoreographed(4, saga, n, {
        netLatency: exponential({ mean: 1 }),
        confirmTimeout: 3,
        republish: { backoff: { kind: 'none' } },
      });
      return { n, t: sagaTheory(saga), audit: rig.ledger.audit(), stats: rig.choreography!.stats };
    };
    const idem = run(true);
    expect(idem.stats.republished).toBeGreaterThan(300);
    expect(idem.audit.absorbed).toBeGreaterThan(300);
    expect(idem.audit.violations).toEqual([]);
    expect(idem.audit.running).toBe(0);
    expect(idem.audit.repeatedOutcomes).toBeGreaterThan(0); // the final event came twice
    expect(idem.audit.conflictingOutcomes).toBe(0);
    expect(zScore(idem.audit.completed, idem.n, idem.t.pCompleted)).toBeLessThan(Z);
    const non = run(false);
    expect(non.audit.doubleApplied).toBeGreaterThan(300);
    // Idempotent consumers drop a duplicate they already answered; non-idempotent ones answer it again, so
    // duplicates multiply down the chain.
    expect(non.stats.published / non.n).toBeGreaterThan(1.5 * (idem.stats.published / idem.n));
    expect(non.audit.leaked).toBeGreaterThan(0);
    // A re-run that fails where the first one committed: the saga both continues and rolls back.
    expect(non.audit.conflictingOutcomes).toBeGreaterThan(0);
    expect(non.audit.conserved).toBe(true);
  });

  it.each([1, 2, 3])('seed %i: conservation with participant, starter and broker crashes', (seed) => {
    const saga = chain({
      compensable: 3,
      pivot: true,
      retryable: 1,
      f: 0.1,
      fRetry: 0.3,
      g: 0.2,
      compensationAttempts: 2,
    });
    const t = sagaTheory(saga);
    const n = 1500;
    const crash = (node: string, at: number, ms: number) => ({
      at,
      for: ms,
      fault: { kind: 'crash' as const, node },
    });
    const { ledger, choreography } = runChoreographed(seed, saga, n, {
      faults: [
        crash('p1', 1500, 1500),
        crash('api', 4000, 700),
        crash('rabbit', 6000, 1000),
        crash('p3', 8000, 300),
      ],
      reconnectDelay: 200,
    });
    const audit = ledger.audit();
    const stats = choreography!.stats;
    expect(stats.refused).toBeGreaterThan(50);
    expect(audit.started + stats.refused).toBe(n);
    expect(audit.violations).toEqual([]);
    expect(audit.conserved).toBe(true);
    expect(audit.running).toBe(0);
    expect(stats.redelivered).toBeGreaterThan(0);
    expect(stats.reconnects).toBeGreaterThan(4);
    expect(choreography!.unconfirmedStarts).toBe(0);
    expect(zScore(audit.completed, audit.started, t.pCompleted)).toBeLessThan(Z);
    expect(zScore(audit.stuck, audit.started, t.pStuck)).toBeLessThan(Z);
  });

  it('checks its options', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const saga = chain({ compensable: 1 });
    net.addNode('p0');
    net.addNode('api');
    const broker = new AmqpBroker(net.addNode('rabbit'));
    const make = (o: object) =>
      thrown(() => new SagaChoreography(net, { saga, broker, starter: 'api', ...o } as never)).message;
    expect(make({ prefetsh: 1 })).toContain('unknown option "prefetsh" (did you mean "prefetch"?)');
    expect(make({ broker: {} })).toContain('broker must be an AmqpBroker');
    expect(make({ starter: '' })).toContain('starter must be a non-empty string');
    expect(make({ prefetch: -1 })).toContain('prefetch must be an integer >= 0, got -1');
    expect(make({ confirmTimeout: 0 })).toContain('confirmTimeout must be a duration > 0 or Infinity');
    expect(make({ republish: { maxAttempts: 2 } })).toContain('republish.maxAttempts must be Infinity');
    expect(make({ starter: 'rabbit' })).toContain('parties on other nodes than the broker');
    expect(make({ starter: 'nowhere' })).toContain("one of the network's nodes");
  });
});
