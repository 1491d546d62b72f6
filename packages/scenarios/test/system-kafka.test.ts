import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { lagFluidModel } from '../src/catalogue/consumer-lag.js';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import { toDot } from '../src/system/graph/dot.js';
import { systemGraph } from '../src/system/graph/graph.js';
import { toMermaid } from '../src/system/graph/mermaid.js';
import { toSvg } from '../src/system/graph/svg.js';
import { SystemMeasurement } from '../src/system/measure.js';
import { systemPhases } from '../src/system/phases.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { systemErrorText } from './support/system-issues.js';

/** Clients -> api publishing each request to kafka (acks=all) -> a consumer group. */
const orders = (over: { rate?: number; instances?: number; processing?: number; partitions?: number } = {}) =>
  ({
    nodes: {
      users: {
        kind: 'clients',
        target: 'api',
        workload: { kind: 'open', rate: over.rate ?? 200 },
        until: '40s',
        timeout: '2s',
      },
      api: {
        kind: 'service',
        concurrency: 16,
        serviceTime: { exponential: { mean: 2 } },
        downstream: [{ to: 'events', topic: 'orders' }],
      },
      events: {
        kind: 'kafka',
        topics: { orders: { partitions: over.partitions ?? 6, replicationFactor: 3, minInsyncReplicas: 2 } },
      },
      billing: {
        kind: 'consumer',
        source: 'events',
        topic: 'orders',
        instances: over.instances ?? 3,
        processingTime: { exponential: { mean: over.processing ?? 5 } },
      },
    },
    network: { latency: 0.5 },
  }) satisfies SystemDescription;

describe('kafka and consumer nodes', () => {
  it('every acknowledged record is in the log and consumed; edges and the group are measured', () => {
    const system = orders();
    const sim = new Simulation({ seed: 4 });
    const phases = systemPhases(system, { windows: { all: [0, '40s'] } });
    const m = new SystemMeasurement(sim, phases);
    let acked = 0;
    let consumed = 0;
    const sys = compileSystem(sim, system, {
      onResponse: m.onResponse,
      onAttempt: m.onAttempt,
      onConsume: (c, t, e2e) => {
        m.onConsume(c, t, e2e);
        consumed++;
      },
      onEdge: (from, to, t, ok, kind, latency) => {
        m.onEdge(from, to, t, ok, kind, latency);
        if (from === 'api' && to === 'events' && ok) acked++;
      },
    });
    m.watch(sys);
    expect(sys.runUntil).toBe(70_000); // 40 s of load and the default 30 s drain
    sim.run({ until: sys.runUntil! });
    const o = m.outcome();
    const { cluster } = sys.kafka.events!;
    // The log holds what was acknowledged (acks=all, no fault: nothing lost, nothing extra).
    let logged = 0;
    for (let p = 0; p < 6; p++) logged += cluster.committed('orders', p)!.length;
    expect(logged).toBe(acked);
    expect(acked).toBeGreaterThan(7500);
    // Consumed: every record, once (no rebalance after the start, no crash).
    expect(consumed).toBe(acked);
    // The phase counts records by when they were appended: those published in the last moments of the
    // load are appended after it (a few).
    const inPhase = (o['billing.all.rate'] as number) * 40;
    expect(inPhase).toBeLessThanOrEqual(acked);
    expect(acked - inPhase).toBeLessThan(10);
    expect((o['events->billing.all.rate'] as number) * 40).toBeCloseTo(inPhase, 6);
    expect((o['api->events.all.rate'] as number) * 40).toBeCloseTo(acked, 6);
    expect(o['api->events.all.errorRate']).toBe(0);
    // acks=all over 0.5 ms links: a produce round trip plus a replication fetch, a few ms.
    expect(o['api->events.all.p50'] as number).toBeGreaterThan(1);
    expect(o['api->events.all.p50'] as number).toBeLessThan(20);
    expect(o['users.all.availability']).toBe(1);
    expect(o['billing.all.lag'] as number).toBeGreaterThanOrEqual(0);
  });

  it('too few consumers: the lag grows at λ − min(C, P)·μ, as the fluid model says', () => {
    // 150/s (evenly spaced: no Poisson noise in the slope) into 2 partitions, 1 consumer at 100/s
    // (10 ms a record): the lag grows at 50/s.
    const system = orders({ rate: 150, instances: 1, processing: 10, partitions: 2 });
    (system.nodes.billing as { processingTime: unknown }).processingTime = 10;
    (system.nodes.users.workload as { arrivals?: string }).arrivals = 'constant';
    // Commits after every small batch: the lag (high watermark − committed) follows the position
    // closely, rather than in auto-commit's 5 s steps.
    Object.assign(system.nodes.billing, { autoCommit: false, maxPollRecords: 10 });
    const fluid = lagFluidModel({ lambda: 150, mu: 100, consumers: 1, partitions: 2 });
    expect(fluid.drainPerS).toBe(-50);
    const r = runScenario(
      defineSystemScenario({
        name: 'slow-billing',
        description: 'slow consumers',
        system,
        phases: { first: ['10s', '20s'], second: ['30s', '40s'] },
      }),
      { seed: 2 },
    );
    // Mean lag over two 10 s windows 20 s apart: the slope is the growth rate.
    const slope =
      ((r.outcome['billing.second.lag'] as number) - (r.outcome['billing.first.lag'] as number)) / 20;
    expect(Math.abs(slope - -fluid.drainPerS) / -fluid.drainPerS).toBeLessThan(0.03);
    // Every record appended in the window was processed by the end of the drain (at 100/s, behind).
    expect(r.outcome['billing.second.rate']).toBeCloseTo(150, 6);
    expect(r.topology?.edges.map((e) => `${e.from}-${e.label}->${e.to}`)).toEqual([
      'users-request->api',
      'api-publish->events',
      'events-consume->billing',
    ]);
  });

  it('a broker crash stalls acks=all publishing until the leaders move; the phases show it', () => {
    const system: SystemDescription = {
      ...orders(),
      faults: [{ at: '15s', for: '10s', fault: { kind: 'crash', node: 'events-1' } }],
    };
    const r = runScenario(defineSystemScenario({ name: 'broker-crash', description: 'crash', system }), {
      seed: 1,
    });
    const o = r.outcome;
    expect(r.faults).toEqual([{ label: 'crash events-1', fromMs: 15_000, toMs: 25_000 }]);
    expect(o['users.before.availability'] as number).toBeGreaterThan(0.99);
    // Partitions led by the crashed broker wait out the session timeout (9 s) before a new leader:
    // publishing to them blocks the api's workers, and clients time out.
    expect(o['api->events.during.p99'] as number).toBeGreaterThan(5000);
    expect(o['users.during.availability'] as number).toBeLessThan(0.5);
    expect(o['users.after.availability'] as number).toBeGreaterThan(0.99);
  });

  it('validation names the path of every kafka mistake', () => {
    const bad = (change: (s: any) => void): string => {
      const s = structuredClone(orders()) as any;
      change(s);
      return systemErrorText(s);
    };
    expect(bad((s) => (s.nodes.api.downstream[0].topic = 'order'))).toMatch(
      /nodes\.api\.downstream\[0\]\.topic: kafka "events" has no topic "order" \(did you mean "orders"\?\)/,
    );
    expect(bad((s) => delete s.nodes.api.downstream[0].topic)).toMatch(
      /nodes\.api\.downstream\[0\]\.topic: a call to kafka "events" publishes: name one of its topics/,
    );
    expect(bad((s) => (s.nodes.api.downstream[0].retries = 2))).toMatch(
      /nodes\.api\.downstream\[0\]\.retries: not on a publishing call/,
    );
    expect(bad((s) => (s.nodes.billing.source = 'api'))).toMatch(
      /nodes\.billing\.source: "api" is a service; a consumer source must be a kafka/,
    );
    expect(bad((s) => (s.nodes.billing.topic = 'ordres'))).toMatch(
      /nodes\.billing\.topic: kafka "events" has no topic "ordres" \(did you mean "orders"\?\)/,
    );
    expect(bad((s) => (s.nodes.events.brokers = 2))).toMatch(
      /nodes\.events\.topics\.orders\.replicationFactor: at most the brokers \(2\), got 3/,
    );
    expect(bad((s) => (s.nodes.events.topics.orders.minInsyncReplicas = 4))).toMatch(
      /nodes\.events\.topics\.orders\.minInsyncReplicas: at most the replication factor \(3\), got 4/,
    );
    expect(bad((s) => (s.nodes.events.topics['bad topic!'] = {}))).toMatch(
      /nodes\.events\.topics\.bad topic!: this name must be a Kafka topic name/,
    );
    expect(bad((s) => (s.nodes.api.downstream[0] = { to: 'db', acks: 1 }))).toMatch(/acks|db/);
    expect(bad((s) => (s.faults = [{ at: '1s', fault: { kind: 'crash', node: 'events-7' } }]))).toMatch(
      /faults\[0\]\.fault\.node: no node named "events-7"/,
    );
  });

  it('draws kafka and consumers in every format', () => {
    const g = systemGraph(orders());
    expect(g.nodes.map((n) => [n.name, n.kind, n.replicas])).toEqual([
      ['users', 'clients', 1],
      ['api', 'service', 1],
      ['events', 'kafka', 3],
      ['billing', 'consumer', 3],
    ]);
    expect(toMermaid(g)).toMatch(/events\[\["events ×3"\]\]/);
    expect(toDot(g)).toMatch(/"events" -> "billing" \[label="consume"\]/);
    expect(toSvg(g)).toMatch(/<g class="node kind-kafka" data-name="events">/);
  });
});
