import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { queueTheory } from '../src/queueing-theory.js';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import { toDot } from '../src/system/graph/dot.js';
import { systemGraph } from '../src/system/graph/graph.js';
import { toMermaid } from '../src/system/graph/mermaid.js';
import { SystemMeasurement } from '../src/system/measure.js';
import { systemPhases } from '../src/system/phases.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { systemErrorText } from './support/system-issues.js';

/** Clients -> api publishing each request to a queue -> workers; failures dead-lettered. */
const jobs = (over: { rate?: number; seconds?: number; latency?: number; failureRate?: number } = {}) =>
  ({
    nodes: {
      users: {
        kind: 'clients',
        target: 'api',
        workload: { kind: 'open', rate: over.rate ?? 100 },
        until: `${over.seconds ?? 30}s`,
        timeout: '2s',
      },
      api: {
        kind: 'service',
        concurrency: 16,
        serviceTime: { exponential: { mean: 2 } },
        downstream: [{ to: 'rabbit', queue: 'jobs', persistent: true }],
      },
      rabbit: { kind: 'amqp', queues: { jobs: { deadLetter: 'dead' }, dead: {} } },
      workers: {
        kind: 'worker',
        source: 'rabbit',
        queue: 'jobs',
        instances: 2,
        prefetch: 1,
        processingTime: { exponential: { mean: 10 } },
        ...(over.failureRate === undefined ? {} : { failureRate: over.failureRate, requeue: false }),
      },
    },
    network: { latency: over.latency ?? 0.5 },
  }) satisfies SystemDescription;

describe('amqp and worker nodes', () => {
  it('every confirmed message is acked by a worker or dead-lettered, once', () => {
    const system = jobs({ failureRate: 0.1 });
    const sim = new Simulation({ seed: 5 });
    const m = new SystemMeasurement(sim, systemPhases(system, { windows: { all: [0, '30s'] } }));
    let confirmed = 0;
    let acked = 0;
    let nacked = 0;
    const sys = compileSystem(sim, system, {
      onResponse: m.onResponse,
      onConsume: (w, t, e2e, ok) => {
        m.onConsume(w, t, e2e, ok);
        if (ok) acked++;
        else nacked++;
      },
      onEdge: (from, to, t, ok, kind, latency) => {
        m.onEdge(from, to, t, ok, kind, latency);
        if (from === 'api' && ok) confirmed++;
      },
    });
    m.watch(sys);
    expect(sys.runUntil).toBe(60_000);
    sim.run({ until: sys.runUntil! });
    const broker = sys.amqp.rabbit!.brokers[0]!;
    expect(confirmed).toBeGreaterThan(2800);
    expect(acked + nacked).toBe(confirmed);
    // A failed delivery (nack without requeue) goes to the dead-letter queue and waits there.
    expect(broker.queueStats('dead').ready).toBe(nacked);
    expect(nacked / confirmed).toBeGreaterThan(0.08);
    expect(nacked / confirmed).toBeLessThan(0.12);
    expect(broker.queueStats('jobs').ready).toBe(0);
    const o = m.outcome();
    expect(o['workers.all.errorRate'] as number).toBeCloseTo(nacked / (acked + nacked), 2);
    expect(o['rabbit->workers.all.errorRate']).toBe(o['workers.all.errorRate']);
  });

  it('two workers with prefetch 1 queue as M/M/2: the mean queue is Erlang C', () => {
    // No link latency: a worker's next delivery follows its ack at once, so each worker is a server.
    const system = jobs({ rate: 100, seconds: 300, latency: 0 });
    const r = runScenario(
      defineSystemScenario({
        name: 'mm2',
        description: 'M/M/2 through a queue',
        system,
        phases: { steady: ['20s', '300s'] },
      }),
      { seed: 3 },
    );
    const theory = queueTheory(0.1, 0.1, 2, 'exp')!; // per ms: λ = 100/s, μ = 1/10 ms, c = 2
    const lq = 0.1 * theory.meanWait; // Little: Lq = λ·Wq = 1/3
    expect(lq).toBeCloseTo(1 / 3, 9);
    const measuredLq = r.outcome['workers.steady.queue'] as number;
    expect(Math.abs(measuredLq - lq) / lq).toBeLessThan(0.1);
    // The workers' end-to-end median: below the mean time in system (skewed), above the median service.
    expect(r.outcome['workers.steady.p50'] as number).toBeGreaterThan(10 * Math.LN2 * 0.9);
    expect(r.outcome['workers.steady.p50'] as number).toBeLessThan(theory.meanTimeInSystem);
  });

  it('a quorum queue on three brokers keeps taking and delivering messages when one broker crashes', () => {
    const base = jobs();
    const system: SystemDescription = {
      ...base,
      nodes: {
        ...base.nodes,
        rabbit: { kind: 'amqp', brokers: 3, queues: { jobs: { type: 'quorum' } } },
      },
      faults: [{ at: '10s', for: '10s', fault: { kind: 'crash', node: 'rabbit-2' } }],
    };
    const r = runScenario(defineSystemScenario({ name: 'quorum', description: 'quorum', system }), {
      seed: 1,
    });
    expect(r.faults).toEqual([{ label: 'crash rabbit-2', fromMs: 10_000, toMs: 20_000 }]);
    expect(r.outcome['users.during.availability']).toBe(1);
    expect(r.outcome['workers.during.rate'] as number).toBeGreaterThan(90);
    expect(r.topology?.nodes.find((n) => n.name === 'rabbit')?.replicas).toBe(3);
  });

  it('validation names the path of every amqp mistake', () => {
    const bad = (change: (s: any) => void): string => {
      const s = structuredClone(jobs()) as any;
      change(s);
      return systemErrorText(s);
    };
    expect(bad((s) => (s.nodes.api.downstream[0].queue = 'job'))).toMatch(
      /nodes\.api\.downstream\[0\]\.queue: amqp "rabbit" has no queue "job" \(did you mean "jobs"\?\)/,
    );
    expect(bad((s) => delete s.nodes.api.downstream[0].queue)).toMatch(
      /nodes\.api\.downstream\[0\]\.queue: a call to amqp "rabbit" publishes: name one of its queues/,
    );
    expect(bad((s) => (s.nodes.api.downstream[0].retries = 1))).toMatch(
      /nodes\.api\.downstream\[0\]\.retries: not on a call that publishes to a queue/,
    );
    expect(bad((s) => (s.nodes.rabbit.queues.jobs.deadLetter = 'deadd'))).toMatch(
      /nodes\.rabbit\.queues\.jobs\.deadLetter: no queue "deadd" on "rabbit" \(did you mean "dead"\?\)/,
    );
    expect(bad((s) => (s.nodes.rabbit.queues.jobs.deliveryLimit = 5))).toMatch(
      /nodes\.rabbit\.queues\.jobs\.deliveryLimit: applies to quorum queues/,
    );
    expect(bad((s) => (s.nodes.rabbit.queues.jobs.type = 'quorum'))).toMatch(
      /nodes\.rabbit\.queues\.jobs\.replicas: at most the brokers \(1\), got 3/,
    );
    expect(bad((s) => (s.nodes.workers.source = 'api'))).toMatch(
      /nodes\.workers\.source: "api" is a service; a worker source must be a amqp/,
    );
    expect(bad((s) => (s.nodes.workers.requeue = true))).toMatch(
      /nodes\.workers\.requeue: applies to failed deliveries/,
    );
    expect(bad((s) => (s.nodes.api.downstream[0].persistent = undefined))).toBe('valid');
  });

  it('draws amqp and workers', () => {
    const g = systemGraph(jobs());
    expect(g.nodes.map((n) => [n.name, n.kind, n.replicas])).toEqual([
      ['users', 'clients', 1],
      ['api', 'service', 1],
      ['rabbit', 'amqp', 1],
      ['workers', 'worker', 2],
    ]);
    expect(g.edges.map((e) => e.label)).toEqual(['request', 'publish', 'consume']);
    expect(toMermaid(g)).toMatch(/rabbit\[\("rabbit"\)\]/);
    expect(toDot(g)).toMatch(/"rabbit" -> "workers" \[label="consume"\]/);
  });
});
