import {
  AmqpBroker,
  defineSaga,
  openLoop,
  SagaChoreography,
  SagaOrchestrator,
  sagaTheory,
} from '@dsim/components';
import { Network, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import { systemGraph } from '../src/system/graph/graph.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { SystemError, validateSystem } from '../src/system/validate.js';
import { figure } from './support/figures.js';

const STEPS = [
  {
    name: 'reserve',
    participant: 'inventory',
    kind: 'compensable',
    latency: 5,
    compensation: { latency: 5 },
  },
  {
    name: 'charge',
    participant: 'payments',
    kind: 'compensable',
    latency: 10,
    failureProbability: 0.1,
    compensation: { latency: 10 },
  },
  { name: 'approve', participant: 'orders', kind: 'pivot', latency: 5, failureProbability: 0.05 },
  {
    name: 'ship',
    participant: 'shipping',
    kind: 'retryable',
    latency: 5,
    failureProbability: 0.2,
    retry: { backoff: { kind: 'fixed', delayMs: 100 } },
  },
];

/** 50 checkouts a second for 20 s through an orchestrated saga of four steps on four participants. */
const system = (saga: Record<string, unknown> = {}, faults?: unknown[]): SystemDescription =>
  ({
    nodes: {
      users: { kind: 'clients', target: 'checkout', workload: { kind: 'open', rate: 50 }, until: '20s' },
      checkout: { kind: 'saga', commandTimeout: '1s', steps: STEPS, ...saga },
      inventory: { kind: 'saga-participant' },
      payments: { kind: 'saga-participant' },
      orders: { kind: 'saga-participant' },
      shipping: { kind: 'saga-participant' },
    },
    ...(faults === undefined ? {} : { faults }),
  }) as unknown as SystemDescription;

const ALL = { all: [0, '20s'] } as const;
const run = (s: SystemDescription, seed: number) =>
  runScenario(defineSystemScenario({ name: 'saga', description: 'saga', system: s, phases: ALL }), { seed })
    .outcome;

describe('orchestrated sagas', () => {
  it('completes and compensates in the shares saga theory gives; nothing is stuck', () => {
    const sim = new Simulation({ seed: 1 });
    const theory = sagaTheory(compileSystem(sim, system()).sagas.checkout!.definition);
    // 1 − 0.9 × 0.95 fail at charge or approve; compensations 0.1 × 1 + 0.9 × 0.05 × 2 per saga.
    expect(theory.pCompensated).toBeCloseTo(0.145, 9);
    expect(theory.compensationsPerSaga).toBeCloseTo(0.19, 9);
    for (const seed of [1, 2, 3]) {
      const o = run(system(), seed);
      const n = figure(o, 'checkout.all.sagas');
      expect(n).toBe(figure(o, 'users.all.requests'));
      expect(figure(o, 'checkout.all.completed') + figure(o, 'checkout.all.compensated')).toBe(n);
      expect(o['checkout.all.stuck']).toBe(0);
      expect(o['checkout.all.running']).toBe(0);
      const p = theory.pCompensated;
      const se = Math.sqrt((p * (1 - p)) / n);
      expect(Math.abs(figure(o, 'checkout.all.compensated') / n - p)).toBeLessThan(4 * se);
      expect(
        Math.abs(figure(o, 'checkout.all.compensationsRun') / n - theory.compensationsPerSaga),
      ).toBeLessThan(0.03);
      // A saga is accepted at once; its own duration is the steps' (at least 25 ms of latencies).
      expect(figure(o, 'users.all.p99')).toBe(0);
      expect(figure(o, 'checkout.all.p50')).toBeGreaterThanOrEqual(25);
      // The orchestrator's commands: one per step executed or compensated, on the edges to the participants.
      expect(figure(o, 'checkout->payments.all.rate')).toBeGreaterThan(0);
    }
  });

  it('compensates in reverse order: a failed pivot undoes charge, then reserve', () => {
    const sim = new Simulation({ seed: 2 });
    const sys = compileSystem(sim, system());
    sim.run({ until: sys.runUntil! });
    const records = sys.sagas.checkout!.ledger.all;
    const atPivot = records.filter((r) => r.outcome === 'compensated' && r.failedStep === 2);
    const atCharge = records.filter((r) => r.outcome === 'compensated' && r.failedStep === 1);
    expect(atPivot.length).toBeGreaterThan(5);
    for (const r of atPivot) expect(r.compensationOrder).toEqual([1, 0]);
    for (const r of atCharge) expect(r.compensationOrder).toEqual([0]);
    const audit = sys.sagas.checkout!.ledger.audit();
    expect(audit.violations).toEqual([]);
  });

  it('matches SagaOrchestrator run directly with the same definition, arrivals and seed', () => {
    const sim = new Simulation({ seed: 3 });
    const sys = compileSystem(sim, system());
    sim.run({ until: sys.runUntil! });
    const compiled = sys.sagas.checkout!.ledger.stats;
    const direct = new Simulation({ seed: 3 });
    const net = new Network(direct);
    for (const n of ['checkout', 'inventory', 'payments', 'orders', 'shipping']) net.addNode(n);
    const saga = defineSaga({
      name: 'checkout',
      steps: STEPS.map((s) => ({ ...s, kind: s.kind as 'compensable' })) as never,
    });
    const orchestrator = new SagaOrchestrator(net.node('checkout'), { saga, commandTimeout: '1s' });
    openLoop(direct, {
      arrivals: { kind: 'poisson', rate: 50 },
      onArrival: () => void orchestrator.start(),
      until: '20s',
      stream: 'users/arrivals',
    });
    direct.run();
    expect(compiled).toEqual(orchestrator.ledger.stats);
  });

  it('a crashed participant holds its sagas until it restarts; none is lost', () => {
    const faults = [{ at: '5s', for: '3s', fault: { kind: 'crash', node: 'payments' } }];
    const o = run(system({}, faults), 1);
    const n = figure(o, 'checkout.all.sagas');
    expect(figure(o, 'checkout.all.completed') + figure(o, 'checkout.all.compensated')).toBe(n);
    // Sagas at payments during the crash wait for the restart: p99 at least the rest of the 3 s.
    expect(figure(o, 'checkout.all.p99')).toBeGreaterThan(2000);
  });

  it('draws the commands; the same seed gives the same digest', () => {
    const g = systemGraph(system());
    expect(g.edges.filter((e) => e.from === 'checkout').map((e) => [e.to, e.label])).toEqual([
      ['inventory', 'command'],
      ['payments', 'command'],
      ['orders', 'command'],
      ['shipping', 'command'],
    ]);
    const digest = (seed: number) =>
      runScenario(defineSystemScenario({ name: 's', description: 's', system: system(), phases: ALL }), {
        seed,
      }).digest;
    expect(digest(5)).toBe(digest(5));
    expect(digest(6)).not.toBe(digest(5));
  });

  describe('choreographed over an amqp node', () => {
    const choreographed = (): SystemDescription => {
      const s = system({ commandTimeout: undefined, choreography: { amqp: 'bus' } }) as unknown as {
        nodes: Record<string, unknown>;
      };
      s.nodes.bus = { kind: 'amqp', queues: {} };
      return s as unknown as SystemDescription;
    };

    it('ends in the shares saga theory gives, compensating in reverse order, with no orchestrator', () => {
      const theory = sagaTheory(
        compileSystem(new Simulation({ seed: 1 }), choreographed()).sagas.checkout!.definition,
      );
      for (const seed of [1, 2]) {
        const sim = new Simulation({ seed });
        const sys = compileSystem(sim, choreographed());
        expect(sys.sagas.checkout!.orchestrator).toBeUndefined();
        sim.run({ until: sys.runUntil! });
        const ledger = sys.sagas.checkout!.ledger;
        const n = ledger.stats.started;
        expect(n).toBe(sys.clients.users!.stats.toJSON().requests);
        expect(ledger.stats.completed + ledger.stats.compensated).toBe(n);
        const p = theory.pCompensated;
        expect(Math.abs(ledger.stats.compensated / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
        for (const r of ledger.all)
          if (r.outcome === 'compensated')
            expect(r.compensationOrder).toEqual(r.failedStep === 2 ? [1, 0] : [0]);
        expect(ledger.audit().violations).toEqual([]);
      }
      const o = run(choreographed(), 1);
      expect(figure(o, 'checkout.all.completed') + figure(o, 'checkout.all.compensated')).toBe(
        figure(o, 'checkout.all.sagas'),
      );
      // Events, not calls: no edge figures from the saga to the bus or from the bus to the participants.
      expect(Object.keys(o).some((k) => k.startsWith('checkout->bus') || k.startsWith('bus->'))).toBe(false);
      expect(
        systemGraph(choreographed())
          .edges.filter((e) => e.from === 'bus')
          .map((e) => e.label),
      ).toEqual(['consume', 'consume', 'consume', 'consume']);
    });

    it('matches SagaChoreography run directly with the same definition, arrivals and seed', () => {
      const sim = new Simulation({ seed: 3 });
      const sys = compileSystem(sim, choreographed());
      sim.run({ until: sys.runUntil! });
      const direct = new Simulation({ seed: 3 });
      const net = new Network(direct);
      for (const n of ['bus', 'checkout', 'inventory', 'payments', 'orders', 'shipping', 'users'])
        net.addNode(n);
      const broker = new AmqpBroker(net.node('bus'));
      const saga = defineSaga({ name: 'checkout', steps: STEPS as never });
      const choreography = new SagaChoreography(net, { saga, broker, starter: 'checkout' });
      openLoop(direct, {
        arrivals: { kind: 'poisson', rate: 50 },
        onArrival: () => void choreography.start(),
        until: '20s',
        stream: 'users/arrivals',
      });
      direct.run({ until: sys.runUntil! });
      expect(sys.sagas.checkout!.ledger.stats).toEqual(choreography.ledger.stats);
    });

    it('errors name the path', () => {
      const message = (patch: Record<string, unknown>) => {
        const s = choreographed() as unknown as { nodes: { checkout: Record<string, unknown> } };
        Object.assign(s.nodes.checkout, patch);
        try {
          validateSystem(s);
        } catch (e) {
          if (e instanceof SystemError) return e.message;
          throw e;
        }
        return 'valid';
      };
      expect(message({})).toBe('valid');
      expect(message({ choreography: { amqp: 'buss' } })).toMatch(
        /nodes\.checkout\.choreography\.amqp: no node named "buss" \(did you mean "bus"\?\)/,
      );
      expect(message({ choreography: { amqp: 'inventory' } })).toMatch(
        /nodes\.checkout\.choreography\.amqp: "inventory" is a saga-participant; a choreography broker must be a amqp/,
      );
      expect(message({ commandTimeout: '1s' })).toMatch(
        /nodes\.checkout\.commandTimeout: an orchestrator option: not with `choreography`/,
      );
      expect(message({ choreography: undefined })).toMatch(
        /nodes\.checkout\.commandTimeout: an orchestrated saga needs its commandTimeout/,
      );
    });
  });

  it('errors name the path, the value and what is allowed', () => {
    const message = (steps: unknown[], extra: Record<string, unknown> = {}) => {
      try {
        const s = system({ steps, ...extra });
        validateSystem(s);
        compileSystem(new Simulation({ seed: 1 }), s);
      } catch (e) {
        if (e instanceof SystemError) return e.message;
        throw e;
      }
      return 'valid';
    };
    expect(message(STEPS)).toBe('valid');
    const at = (i: number, patch: Record<string, unknown>) =>
      STEPS.map((s, j) => (j === i ? { ...s, ...patch } : s));
    expect(message(at(0, { participant: 'inventry' }))).toMatch(
      /nodes\.checkout\.steps\[0\]\.participant: no node named "inventry" \(did you mean "inventory"\?\)/,
    );
    expect(message(at(0, { participant: 'users' }))).toMatch(
      /nodes\.checkout\.steps\[0\]\.participant: "users" is a clients; a saga participant must be a saga-participant/,
    );
    expect(message(at(0, { compensation: undefined }))).toMatch(
      /nodes\.checkout\.steps\[0\]\.compensation: a compensable step needs its compensation/,
    );
    expect(message(at(2, { retry: { maxAttempts: 2 } }))).toMatch(
      /nodes\.checkout\.steps\[2\]\.retry: only retryable steps are retried; this one is pivot/,
    );
    expect(message(at(1, { name: 'reserve' }))).toMatch(
      /nodes\.checkout\.steps\[1\]\.name: "reserve" is also the name of steps\[0\]/,
    );
    expect(message(at(0, { kind: 'undoable' }))).toMatch(/nodes\.checkout\.steps\[0\]\.kind/);
    // The order of kinds is defineSaga's rule: a compensable step after the pivot.
    expect(message([STEPS[2], STEPS[0]])).toMatch(
      /nodes\.checkout: .*compensable step must come before the pivot/,
    );
    expect(message(STEPS, { commandTimeout: 0 })).toMatch(
      /nodes\.checkout\.commandTimeout: must be a duration > 0/,
    );
  });
});
