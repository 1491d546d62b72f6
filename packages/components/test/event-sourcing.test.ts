import { exponential, Network, RpcEndpoint, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import {
  AggregateRepository,
  type CommandResult,
} from '../src/messaging/event-sourcing/aggregate-repository.js';
import { EventStore } from '../src/messaging/event-sourcing/event-store.js';
import { EventStoreServer } from '../src/messaging/event-sourcing/event-store-server.js';
import { Projection } from '../src/messaging/event-sourcing/projection.js';
import { ReadModelServer } from '../src/messaging/event-sourcing/read-model.js';

describe('EventStore', () => {
  it('appends with optimistic concurrency; conflicts are values', () => {
    const store = new EventStore<string>();
    expect(store.append('a', ['x'], 0, 1)).toEqual({ ok: true, version: 1, position: 1, appendedAt: 1 });
    expect(store.append('b', ['y', 'z'], 0, 2)).toEqual({ ok: true, version: 2, position: 3, appendedAt: 2 });
    expect(store.append('a', ['w'], 0, 3)).toEqual({
      ok: false,
      error: 'wrong-expected-version',
      expectedVersion: 0,
      actualVersion: 1,
    });
    expect(store.append('a', ['w'], 'any', 4)).toMatchObject({ ok: true, version: 2, position: 4 });
    expect(store.readAll(0, 10).map((e) => e.data)).toEqual(['x', 'y', 'z', 'w']);
    expect(store.readAll(2, 1).map((e) => e.position)).toEqual([3]);
    expect(store.readStream('a', 1).map((e) => e.version)).toEqual([2]);
    expect(store.stats).toEqual({ events: 4, streams: 2, appends: 3, conflicts: 1, snapshots: 0 });
    expect(() => store.append('a', [], 'any', 5)).toThrow(/events must be a non-empty array/);
    expect(() => store.append('a', ['v'], -1, 5)).toThrow(/expectedVersion must be an integer >= 0/);
  });

  it('keeps the latest snapshot only, and only for versions the stream has', () => {
    const store = new EventStore<string, string>();
    store.append('a', ['1', '2', '3'], 0, 0);
    expect(store.saveSnapshot('a', 4, 's4', 1)).toBe(false);
    expect(store.saveSnapshot('a', 2, 's2', 1)).toBe(true);
    expect(store.saveSnapshot('a', 1, 's1', 2)).toBe(false);
    expect(store.latestSnapshot('a')).toEqual({ aggregateId: 'a', version: 2, state: 's2', takenAt: 1 });
  });
});

function world(seed = 1, latency = 1) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency } });
  const server = new EventStoreServer(net.addNode('store'), { serviceTime: 0.5 });
  return { sim, net, server };
}

describe('AggregateRepository over RPC', () => {
  it('two commands racing on one aggregate: one conflicts, reloads, retries; both commit', () => {
    const { sim, net } = world();
    const results: CommandResult[] = [];
    for (const name of ['app-1', 'app-2']) {
      const repo = new AggregateRepository(sim, {
        endpoint: new RpcEndpoint(net.addNode(name)),
        store: 'store',
      });
      repo.execute('acct', (state) => [{ n: state + 1 }]).onProcessed((e) => results.push(e.value!));
    }
    sim.run();
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(results.map((r) => (r.ok ? r.version : 0)).sort()).toEqual([1, 2]);
    expect(results.reduce((s, r) => s + r.conflicts, 0)).toBe(1);
  });

  it('gives up with a conflict after maxAttempts', () => {
    const { sim, net } = world();
    const results: CommandResult[] = [];
    for (let i = 0; i < 4; i++) {
      const repo = new AggregateRepository(sim, {
        endpoint: new RpcEndpoint(net.addNode(`app-${i}`)),
        store: 'store',
        maxAttempts: 1,
      });
      repo.execute('acct', () => ['e']).onProcessed((e) => results.push(e.value!));
    }
    sim.run();
    expect(results.filter((r) => r.ok).length).toBe(1);
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error))).toEqual([
      'conflict',
      'conflict',
      'conflict',
    ]);
  });

  it('replay cost: N events without snapshots, N mod S after a snapshot every S', () => {
    const { sim, net } = world(1, 1);
    const repo = new AggregateRepository(sim, {
      endpoint: new RpcEndpoint(net.addNode('app')),
      store: 'store',
      snapshotEvery: 100,
      replayCost: 0.1,
      snapshotLoadCost: 2,
    });
    const loads: { full?: number; snap?: number; replayed?: number; state?: number } = {};
    sim.process(function* () {
      for (let i = 0; i < 250; i++) yield repo.execute('acct', () => ['e']);
      yield sim.timeout(10); // the last snapshot write lands
      const full = yield* repo.load('acct', { snapshot: false });
      const snap = yield* repo.load('acct');
      if (full.ok && snap.ok) {
        loads.full = full.ms;
        loads.snap = snap.ms;
        loads.replayed = snap.replayed;
        loads.state = snap.state;
      }
    });
    sim.run();
    // Round trip: 1 ms each way + 0.5 ms service = 2.5 ms.
    expect(loads.full).toBeCloseTo(2.5 + 250 * 0.1, 6);
    expect(loads.replayed).toBe(50);
    expect(loads.snap).toBeCloseTo(2.5 + 2 + 50 * 0.1, 6);
    expect(loads.state).toBe(250);
    expect(repo.stats.snapshotsSaved).toBe(2);
  });

  it('strict options', () => {
    const { sim, net } = world();
    const endpoint = new RpcEndpoint(net.addNode('app'));
    expect(
      () => new AggregateRepository(sim, { endpoint, store: 'store', snapshotEvry: 5 } as never),
    ).toThrow(/did you mean "snapshotEvery"/);
    expect(() => new AggregateRepository(sim, { endpoint, store: 'store', snapshotEvery: 0 })).toThrow(
      /snapshotEvery must be an integer >= 1 or Infinity/,
    );
    expect(() => new EventStoreServer(net.addNode('s2'), { concurency: 2 } as never)).toThrow(
      /did you mean "concurrency"/,
    );
    expect(() => new ReadModelServer(net.addNode('r2'), { projet: () => 0 } as never)).toThrow(
      /did you mean "project"/,
    );
    expect(
      () => new Projection(sim, { endpoint, store: 'store', readModel: 'rm', pollIntervall: 5 } as never),
    ).toThrow(/did you mean "pollInterval"/);
    expect(() => new Projection(sim, { endpoint, store: 'store', readModel: 'rm', pollInterval: 0 })).toThrow(
      /pollInterval must be a duration > 0/,
    );
  });
});

describe('Projection', () => {
  it('staleness is about uniform on [0, T] plus fixed costs: mean T/2 + fixed', () => {
    const T = 200;
    const { sim, net } = world(3, 1);
    const readModel = new ReadModelServer(net.addNode('rm'), { serviceTime: 0.1 });
    const projection = new Projection(sim, {
      endpoint: new RpcEndpoint(net.addNode('proj')),
      store: 'store',
      readModel: 'rm',
      pollInterval: T,
      until: 61_000,
    });
    const writer = new RpcEndpoint(net.addNode('writer'));
    const gaps = exponential({ mean: 20 });
    const rng = sim.rng('writes');
    let n = 0;
    sim.process(function* () {
      while (sim.now < 60_000) {
        yield sim.timeout(gaps.sample(rng));
        writer.call('store', {
          op: 'append',
          aggregateId: `a${n++ % 50}`,
          events: [1],
          expectedVersion: 'any',
        });
      }
    });
    sim.run();
    const s = readModel.staleness.summary();
    expect(projection.stats.events).toBe(readModel.checkpoint);
    expect(s.count).toBeGreaterThan(2800);
    // Fixed: read request 1 ms + store 0.5 ms + response 1 ms + update 1 ms + read-model 0.1 ms = 3.6 ms
    // (the commit itself is at the store's service end, so its own 0.5 ms is in the wait).
    expect(Math.abs(s.mean - (T / 2 + 3.6))).toBeLessThan(6);
    expect(s.max).toBeLessThan(T + 10);
    expect(s.p50).toBeGreaterThan(T / 2 - 15);
    expect(s.p50).toBeLessThan(T / 2 + 20);
  });
});
