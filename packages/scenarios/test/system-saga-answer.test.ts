import { sagaTheory } from '@dsim/components';
import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { SystemError, validateSystem } from '../src/system/validate.js';
import { figure } from './support/figures.js';

// reserve (5 ms) and charge (10 ms, fails 10%) are compensable, approve (5 ms, fails 5%) the pivot:
// 1 − 0.9 × 0.95 = 14.5% of the sagas are compensated.
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
];

const system = (
  answer: string | undefined,
  o: { faults?: unknown[]; clients?: object } = {},
): SystemDescription =>
  ({
    nodes: {
      users: {
        kind: 'clients',
        target: 'checkout',
        workload: { kind: 'open', rate: 50 },
        until: '20s',
        ...o.clients,
      },
      checkout: {
        kind: 'saga',
        commandTimeout: '1s',
        steps: STEPS,
        ...(answer === undefined ? {} : { answer }),
      },
      inventory: { kind: 'saga-participant' },
      payments: { kind: 'saga-participant' },
      orders: { kind: 'saga-participant' },
    },
    ...(o.faults === undefined ? {} : { faults: o.faults }),
  }) as unknown as SystemDescription;

const ALL = { all: [0, '20s'] } as const;
const run = (s: SystemDescription, seed: number) =>
  runScenario(defineSystemScenario({ name: 'saga', description: 'saga', system: s, phases: ALL }), { seed });

describe('sagas that answer when they end', () => {
  it('the clients see the sagas: completed ok, compensated as `error`, after the saga’s duration', () => {
    const theory = sagaTheory(
      compileSystem(new Simulation({ seed: 1 }), system('at-end')).sagas.checkout!.definition,
    );
    let availability = 0;
    for (const seed of [1, 2, 3]) {
      const o = run(system('at-end'), seed).outcome;
      const n = figure(o, 'users.all.requests');
      // Every request is one saga, answered once: ok for a completed one, `error` for a compensated one.
      expect(figure(o, 'checkout.all.sagas')).toBe(n);
      expect(figure(o, 'checkout.all.completed') + figure(o, 'checkout.all.compensated')).toBe(n);
      expect(figure(o, 'users.all.errors.error')).toBe(figure(o, 'checkout.all.compensated'));
      expect(figure(o, 'users.all.goodput') * 20).toBeCloseTo(figure(o, 'checkout.all.completed'), 6);
      availability += figure(o, 'users.all.availability') / 3;
      // The clients' latency is the saga's (zero-latency links): a completed saga takes the three steps,
      // 20 ms, one compensated at charge 15 ms + 5 ms of compensation.
      expect(figure(o, 'users.all.p50')).toBeCloseTo(figure(o, 'checkout.all.p50'), 0);
      expect(figure(o, 'users.all.p50')).toBeCloseTo(20, 0);
      expect(figure(o, 'users.all.p99')).toBeCloseTo(figure(o, 'checkout.all.p99'), 0);
    }
    // Binomial: 3 × 1000 sagas, SD of the share about 0.0064.
    expect(Math.abs(availability - (1 - theory.pCompensated))).toBeLessThan(0.02);
  });

  it('a choreographed saga answers when it ends too', () => {
    const s = system('at-end') as unknown as { nodes: Record<string, Record<string, unknown>> };
    s.nodes.checkout = { ...s.nodes.checkout!, choreography: { amqp: 'bus' } };
    delete s.nodes.checkout.commandTimeout;
    s.nodes.bus = { kind: 'amqp', queues: {} };
    const o = run(s as unknown as SystemDescription, 1).outcome;
    const n = figure(o, 'users.all.requests');
    expect(figure(o, 'checkout.all.completed') + figure(o, 'checkout.all.compensated')).toBe(n);
    expect(figure(o, 'users.all.errors.error')).toBe(figure(o, 'checkout.all.compensated'));
    // The broker's hops add to the three steps' 20 ms.
    expect(figure(o, 'users.all.p50')).toBeGreaterThan(20);
    expect(figure(o, 'users.all.p50')).toBeCloseTo(figure(o, 'checkout.all.p50'), 0);
  });

  it('at once (the default) the clients see only that the saga started', () => {
    for (const answer of [undefined, 'at-once']) {
      const o = run(system(answer), 1).outcome;
      expect(figure(o, 'users.all.availability')).toBe(1);
      expect(figure(o, 'users.all.p99')).toBeLessThan(1);
      expect(figure(o, 'checkout.all.compensated')).toBeGreaterThan(100);
    }
  });

  it('a crash of the saga’s node loses the waiting requests: the clients time out', () => {
    // The orchestrator is down from 10 s to 11 s; its saga log survives, so the sagas running at the
    // crash carry on after the restart, but their requests' connections died: 500 ms timeouts.
    for (const seed of [1, 2, 3]) {
      const s = system('at-end', {
        faults: [{ at: '10s', for: '1s', fault: { kind: 'crash', node: 'checkout' } }],
        clients: { timeout: '500ms' },
      });
      const sim = new Simulation({ seed });
      const timedOut: number[] = [];
      const sys = compileSystem(sim, s, {
        onResponse: (_c, started, r) => {
          if (!r.ok && r.error?.kind === 'timeout') timedOut.push(started);
        },
      });
      sim.run({ until: sys.runUntil! });
      const records = sys.sagas.checkout!.ledger.all;
      const running = records.filter((r) => r.startedAt < 10_000 && r.endedAt > 10_000);
      // Exactly the sagas in flight at the crash lost their answer; the rest before it were answered.
      expect(timedOut.filter((t) => t < 10_000)).toEqual(running.map((r) => r.startedAt));
      // While the node is down nothing answers (the requests time out); after the restart all is answered.
      expect(timedOut.filter((t) => t >= 10_000 && t < 11_000).length).toBeGreaterThan(30);
      expect(timedOut.filter((t) => t >= 11_000)).toEqual([]);
      expect(sys.sagas.checkout!.ledger.stats.running).toBe(0);
    }
  });

  it('gives the same digest for the same seed, another for another seed', () => {
    const a = run(system('at-end'), 7);
    expect(run(system('at-end'), 7).digest).toBe(a.digest);
    expect(run(system('at-end'), 8).digest).not.toBe(a.digest);
  });

  it('validation names the path, the value and what is allowed', () => {
    try {
      validateSystem(system('at-ends'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SystemError);
      expect((e as Error).message).toMatch(
        /nodes\.checkout\.answer: .*"at-once"\|"at-end", got "at-ends" \(did you mean "at-end"\?\)/,
      );
    }
  });
});
