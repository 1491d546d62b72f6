import { exponential, Network, RpcEndpoint, type SimEvent, Simulation, zipf } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { CacheAside, type LoadResult } from '../src/cache/cache-aside.js';
import { CacheServer } from '../src/cache/cache-server.js';
import {
  CacheConsistency,
  DistributedCache,
  type DistributedCacheOptions,
  type DistributedPlacement,
  type MembershipChange,
} from '../src/cache/distributed-cache.js';
import { createPlacement, type PlacementSpec } from '../src/hashing/factory.js';

/** `n` cache servers `cache-0`... on a network with a constant one-way latency; clients on `app0`... */
function cluster(n: number, seed: number | string = 1, latency = 0.5) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency } });
  const names = Array.from({ length: n }, (_, i) => `cache-${i}`);
  const servers = names.map((a) => new CacheServer(net.addNode(a), { capacity: 1_000_000 }));
  let apps = 0;
  const client = <V = string>(options: Partial<DistributedCacheOptions<V>> = {}) =>
    new DistributedCache<V>(new RpcEndpoint(net.addNode(`app${apps++}`)), { nodes: names, ...options });
  const entries = () => servers.map((s) => s.cache.stats.entries);
  return { sim, net, names, servers, client, entries };
}

/** An origin answering `value:key` 1 ms later; counts its calls. */
function origin(sim: Simulation) {
  let calls = 0;
  const load = (key: string): SimEvent<LoadResult<string>> => {
    calls++;
    const ev = sim.event<LoadResult<string>>();
    sim.schedule(1, () => ev.succeed({ ok: true, value: `value:${key}` }));
    return ev;
  };
  return { load, calls: () => calls };
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => `key:${i}`);

/** Stores every key (one at a time), then runs until idle. */
function storeAll(sim: Simulation, dc: DistributedCache<string>, list: readonly string[]): void {
  sim.process(function* () {
    for (const k of list) yield dc.store(k, `v:${k}`);
  });
  sim.run();
}

describe('DistributedCache: sharding', () => {
  it('places every key on the node the placement names; balance follows the ring arcs', () => {
    const c = cluster(8);
    const dc = c.client();
    const list = keys(20_000);
    storeAll(c.sim, dc, list);
    const ring = createPlacement({ kind: 'ring', nodes: c.names });
    const expected = c.names.map(() => 0);
    for (const k of list) expected[c.names.indexOf(ring.lookup(k)!)]!++;
    expect(c.entries()).toEqual(expected);
    const shares = (ring as unknown as { shares(): Map<string, number> }).shares();
    c.names.forEach((n, i) => {
      const p = shares.get(n)!;
      const sd = Math.sqrt(list.length * p * (1 - p));
      expect(Math.abs(expected[i]! - list.length * p)).toBeLessThan(4 * sd);
    });
    // Each server's stored keys are exactly the keys whose primary is that server.
    expect(dc.stats).toMatchObject({
      stores: 20_000,
      storesAcknowledged: 20_000,
      storeErrors: 0,
      members: 8,
    });
  });

  it.each([
    ['ring', 1 / 8, 0.03],
    ['rendezvous', 1 / 8, 0.02],
    ['maglev', 1 / 8, 0.02],
    ['modulo', 7 / 8, 0.02],
  ] as const)('removing one of 8 nodes moves about the theory share of keys: %s (%f)', (kind, theory, tol) => {
    const c = cluster(8);
    const dc = c.client({ placement: kind });
    const list = keys(20_000);
    const before = list.map((k) => dc.primaryOf(k));
    dc.remove('cache-3');
    const after = list.map((k) => dc.primaryOf(k));
    const moved = list.filter((_, i) => before[i] !== after[i]).length;
    expect(Math.abs(moved / list.length - theory)).toBeLessThan(tol);
    // The same as the placement itself, built on the remaining nodes in configuration order.
    const ref = createPlacement({ kind, nodes: c.names.filter((n) => n !== 'cache-3') } as PlacementSpec);
    expect(list.every((k, i) => ref.lookup(k) === after[i])).toBe(true);
    // Ring and rendezvous move only the removed node's keys; Maglev a few more (minimal disruption is
    // its aim, not a guarantee); modulo most keys between the others.
    const between = list.filter((_, i) => before[i] !== after[i] && before[i] !== 'cache-3').length;
    if (kind === 'ring' || kind === 'rendezvous') expect(between).toBe(0);
    else if (kind === 'maglev') expect(between / list.length).toBeLessThan(0.01);
    else expect(between / list.length).toBeGreaterThan(0.7);
    // Adding it back restores the original placement (modulo too: configuration order is kept).
    dc.add('cache-3');
    expect(list.every((k, i) => dc.primaryOf(k) === before[i])).toBe(true);
  });

  it.each([
    'ring',
    'modulo',
  ] as const)('%s: after a removal, each moved key read misses exactly once, then hits', (kind) => {
    const c = cluster(5);
    const dc = c.client({ placement: kind });
    const o = origin(c.sim);
    const reader = new CacheAside<string>(c.sim, { cache: dc, load: o.load });
    const list = keys(2000);
    const rng = c.sim.rng('test/stream');
    const stream = Array.from({ length: 3000 }, () => list[rng.int(0, list.length)]!);
    const before = new Map(list.map((k) => [k, dc.primaryOf(k)]));
    let misses = -1;
    let hits = -1;
    c.sim.process(function* () {
      for (const k of list) yield reader.read(k); // warm: every key misses once
      for (const k of list) yield reader.read(k); // all hit
      expect(reader.stats.misses).toBe(list.length);
      expect(reader.stats.hits).toBe(list.length);
      dc.remove('cache-1');
      const m0 = reader.stats.misses;
      const h0 = reader.stats.hits;
      for (const k of stream) yield reader.read(k);
      misses = reader.stats.misses - m0;
      hits = reader.stats.hits - h0;
    });
    c.sim.run();
    const movedRead = new Set(stream.filter((k) => before.get(k) !== dc.primaryOf(k)));
    expect(misses).toBe(movedRead.size);
    expect(hits).toBe(stream.length - movedRead.size);
    expect(dc.stats.rerouted).toBe(movedRead.size);
    expect(o.calls()).toBe(list.length + movedRead.size);
    if (kind === 'ring') expect(movedRead.size).toBeLessThan(0.3 * new Set(stream).size);
    else expect(movedRead.size).toBeGreaterThan(0.7 * new Set(stream).size);
  });
});

describe('DistributedCache: failure detection', () => {
  it('health checks remove a crashed node within the detection delay and bring it back after a restart', () => {
    const c = cluster(4);
    const dc = c.client({
      healthCheck: { interval: 1000, timeout: 100, unhealthyThreshold: 3, healthyThreshold: 2 },
    });
    const changes: MembershipChange[] = [];
    dc.onMembershipChange((ch) => changes.push(ch));
    c.sim.schedule(10_000, () => c.net.crash('cache-2'));
    c.sim.schedule(20_000, () => c.net.restart('cache-2'));
    c.sim.run({ until: 30_000 });
    dc.stop();
    expect(changes.map((ch) => [ch.node, ch.change, ch.reason])).toEqual([
      ['cache-2', 'removed', 'health-check'],
      ['cache-2', 'added', 'health-check'],
    ]);
    // Three failed probes: the third ends between 2 and 3 intervals (plus the timeout) after the crash.
    expect(changes[0]!.at).toBeGreaterThanOrEqual(10_000 + 2000 + 100);
    expect(changes[0]!.at).toBeLessThan(10_000 + 3000 + 100);
    expect(changes[0]!.members).toEqual(['cache-0', 'cache-1', 'cache-3']);
    // Two good probes: the second answers between 1 and 2 intervals after the restart.
    expect(changes[1]!.at).toBeGreaterThan(20_000 + 1000);
    expect(changes[1]!.at).toBeLessThan(20_000 + 2000 + 2);
    expect(dc.stats).toMatchObject({ removals: 1, additions: 1, members: 4 });
    // Probes do not touch the servers' hit and miss counters.
    expect(c.servers.every((s) => s.cache.stats.hits + s.cache.stats.misses === 0)).toBe(true);
  });

  it('a node removed by hand stays out although its health checks pass', () => {
    const c = cluster(3);
    const dc = c.client({ healthCheck: { interval: 500 } });
    dc.remove('cache-0');
    c.sim.run({ until: 5000 });
    expect(dc.members).toEqual(['cache-1', 'cache-2']);
    expect(dc.healthy('cache-0')).toBe(true);
    dc.add('cache-0');
    expect(dc.members).toEqual(['cache-0', 'cache-1', 'cache-2']);
    dc.stop();
  });

  it('until a crash is detected its keys time out and read as misses', () => {
    const c = cluster(4);
    const dc = c.client({ timeout: 50 });
    const list = keys(400);
    storeAll(c.sim, dc, list);
    c.net.crash('cache-1');
    const onDead = list.filter((k) => dc.primaryOf(k) === 'cache-1').length;
    let hits = 0;
    let slow = 0;
    c.sim.process(function* () {
      for (const k of list) {
        const t = c.sim.now;
        const r = yield* dc.lookup(k);
        if (r.status === 'hit') hits++;
        if (c.sim.now - t > 49.9) slow++;
      }
    });
    c.sim.run();
    expect(hits).toBe(list.length - onDead);
    expect(slow).toBe(onDead);
    expect(dc.stats.errors).toBe(onDead);
  });
});

describe('DistributedCache: replication', () => {
  /** Two clients sharing one oracle; reads from a replica; constant lag. */
  function pair(lag: number, readPolicy: 'replica' | 'primary' = 'replica') {
    const c = cluster(3);
    const consistency = new CacheConsistency(c.sim);
    const a = c.client({ name: 'a', replicas: 2, replicationLag: lag, readPolicy, consistency });
    const b = c.client({ name: 'b', replicas: 2, replicationLag: lag, readPolicy, consistency });
    const versions: Array<[string, number, number | undefined, boolean]> = [];
    const read = (who: DistributedCache<string>, label: string, at: number) =>
      c.sim.schedule(at - c.sim.now, () =>
        who.lookup('k').onProcessed((e) => versions.push([label, at, e.value!.version, e.value!.staleRead])),
      );
    const write = (who: DistributedCache<string>, at: number, version: number) =>
      c.sim.schedule(at - c.sim.now, () => who.store('k', `v${version}`, { version }));
    return { c, consistency, a, b, read, write, versions };
  }

  it('a replica read within the lag after another client’s write is stale (counted), after it fresh', () => {
    const p = pair(100);
    p.write(p.b, 0, 1);
    p.read(p.a, 'a', 200);
    p.write(p.b, 300, 2);
    p.read(p.a, 'a', 310); // the replica gets v2 ~100 ms after the primary's ack (~301 ms)
    p.read(p.a, 'a', 395);
    p.read(p.a, 'a', 410);
    p.c.sim.run();
    expect(p.versions).toEqual([
      ['a', 200, 1, false],
      ['a', 310, 1, true],
      ['a', 395, 1, true],
      ['a', 410, 2, false],
    ]);
    expect(p.a.stats).toMatchObject({ staleReads: 2, rywViolations: 0 });
    expect(p.consistency.stats).toMatchObject({ staleReads: 2, rywViolations: 0, checkedReads: 4 });
    // Every read went to the replica, not the primary.
    const replica = p.a.copiesOf('k')[1]!;
    expect(p.c.servers[p.c.names.indexOf(replica)]!.cache.stats.hits).toBe(4);
  });

  it('reads from the primary are never stale; with lag 0 replicas are fresh after the network delay', () => {
    const p = pair(100, 'primary');
    p.write(p.b, 0, 1);
    p.write(p.b, 300, 2);
    p.read(p.a, 'a', 310);
    p.c.sim.run();
    expect(p.versions).toEqual([['a', 310, 2, false]]);
    const q = pair(0);
    q.write(q.b, 0, 1);
    q.write(q.b, 300, 2);
    q.read(q.a, 'a', 303); // ack at ~301.05, replica applied at ~301.6
    q.c.sim.run();
    expect(q.versions).toEqual([['a', 303, 2, false]]);
  });

  it('counts read-your-writes violations exactly in a hand-built sequence', () => {
    const p = pair(50);
    p.write(p.b, 0, 1);
    p.read(p.b, 'b', 100); // v1 replicated at ~51.6: fine
    p.write(p.b, 200, 2); // acked ~201.05, on the replica ~251.6
    p.read(p.b, 'b', 210); // v1 < own 2: RYW violation (and stale)
    p.read(p.b, 'b', 220); // again
    p.read(p.a, 'a', 230); // stale, but not a's own write
    p.read(p.b, 'b', 260); // v2: fine
    p.write(p.a, 300, 3);
    p.read(p.b, 'b', 310); // v2 < latest 3: stale, not RYW (b's own is 2)
    p.read(p.a, 'a', 320); // v2 < a's own 3: RYW violation
    p.read(p.b, 'b', 400); // v3: fine
    p.c.sim.run();
    expect(p.versions.map(([who, at, v, stale]) => `${who}@${at}:v${v}${stale ? ' stale' : ''}`)).toEqual([
      'b@100:v1',
      'b@210:v1 stale',
      'b@220:v1 stale',
      'a@230:v1 stale',
      'b@260:v2',
      'b@310:v2 stale',
      'a@320:v2 stale',
      'b@400:v3',
    ]);
    expect(p.b.stats).toMatchObject({ rywViolations: 2, staleReads: 3 });
    expect(p.a.stats).toMatchObject({ rywViolations: 1, staleReads: 2 });
    expect(p.consistency.stats).toMatchObject({ rywViolations: 3, staleReads: 5, checkedReads: 8 });
  });

  it('a write acknowledged elsewhere (the database) makes older cached versions stale', () => {
    const p = pair(0, 'primary');
    p.write(p.b, 0, 1);
    p.c.sim.schedule(10, () => p.b.acknowledge('k', 2)); // the DB took v2; the cache still has v1
    p.read(p.a, 'a', 20);
    p.read(p.b, 'b', 20);
    p.c.sim.run();
    expect(p.a.stats).toMatchObject({ staleReads: 1, rywViolations: 0 });
    expect(p.b.stats).toMatchObject({ staleReads: 1, rywViolations: 1 });
  });

  it('reads fail over to a replica while the primary is down, and miss without failover', () => {
    for (const failover of [true, false]) {
      const c = cluster(4);
      const dc = c.client({ replicas: 2, timeout: 40, failover });
      const list = keys(200);
      storeAll(c.sim, dc, list);
      c.net.crash('cache-0');
      const onDead = list.filter((k) => dc.primaryOf(k) === 'cache-0').length;
      let hits = 0;
      let slow = 0;
      c.sim.process(function* () {
        for (const k of list) {
          const t = c.sim.now;
          const r = yield* dc.lookup(k);
          if (r.status === 'hit') hits++;
          if (c.sim.now - t > 39.9) slow++;
        }
      });
      c.sim.run();
      expect(onDead).toBeGreaterThan(20);
      expect(slow).toBe(onDead);
      if (failover) {
        expect(hits).toBe(list.length);
        expect(dc.stats).toMatchObject({ failovers: onDead, errors: 0 });
      } else {
        expect(hits).toBe(list.length - onDead);
        expect(dc.stats).toMatchObject({ failovers: 0, errors: onDead });
      }
    }
  });

  it('after a removal the old replica is the new primary and still has the data: no misses', () => {
    const c = cluster(5);
    const dc = c.client({ replicas: 2 });
    const list = keys(1000);
    storeAll(c.sim, dc, list);
    dc.remove('cache-4');
    let hits = 0;
    c.sim.process(function* () {
      for (const k of list) if ((yield* dc.lookup(k)).status === 'hit') hits++;
    });
    c.sim.run();
    expect(hits).toBe(list.length);
    expect(dc.stats.rerouted).toBeGreaterThan(100);
  });

  it('missFailover: a replica that misses (cold, or behind) hands the read to the primary', () => {
    for (const missFailover of [false, true]) {
      const c = cluster(5);
      const dc = c.client({ replicas: 2, readPolicy: 'replica', replicationLag: 5000, missFailover });
      const list = keys(200);
      let hits = 0;
      c.sim.process(function* () {
        for (const k of list) yield dc.store(k, 'v'); // the replicas get the values 5 s later...
        for (const k of list) if ((yield* dc.lookup(k)).status === 'hit') hits++; // ...so these miss there
      });
      c.sim.run({ until: 2000 });
      expect(hits).toBe(missFailover ? list.length : 0);
      expect(dc.stats.missFailovers).toBe(missFailover ? list.length : 0);
      c.sim.run();
    }
  });

  it('readPolicy any spreads reads evenly over the copies', () => {
    const c = cluster(4);
    const dc = c.client({ replicas: 3, readPolicy: 'any' });
    const list = keys(100);
    storeAll(c.sim, dc, list);
    const rank = [0, 0, 0];
    c.sim.process(function* () {
      for (let i = 0; i < 6000; i++) {
        const k = list[i % list.length]!;
        const r = yield* dc.lookup(k);
        expect(r.status).toBe('hit');
        rank[dc.copiesOf(k).indexOf(r.node!)]!++;
      }
    });
    c.sim.run();
    for (const n of rank) expect(Math.abs(n - 2000)).toBeLessThan(4 * Math.sqrt(6000 * (1 / 3) * (2 / 3)));
  });
});

describe('DistributedCache: lost writes', () => {
  it('a crash loses the latest versions only the crashed node held', () => {
    const run = (replicas: number, lag: number, persistent = false, ttl?: number) => {
      const c = cluster(4);
      const dc = c.client({ replicas, replicationLag: lag, persistent });
      const list = keys(300);
      c.sim.process(function* () {
        for (const k of list) yield dc.store(k, 'v', ttl === undefined ? {} : { ttl });
        yield c.sim.timeout(20);
        c.net.crash('cache-0');
      });
      c.sim.run();
      return {
        lost: dc.consistency.stats.lostWrites,
        dropped: dc.stats.replicationsDropped,
        onDead: list.filter((k) => dc.primaryOf(k) === 'cache-0').length,
        copies: list.filter((k) => dc.copiesOf(k).includes('cache-0')).length,
      };
    };
    const single = run(1, 0);
    expect(single.lost).toBe(single.onDead);
    expect(single.onDead).toBeGreaterThan(30);
    expect(run(2, 0).lost).toBe(0); // replicated before the crash
    const lagging = run(2, 10_000); // nothing replicated yet: the primary's writes die with it
    expect(lagging.lost).toBe(lagging.onDead);
    // Its pending replications die with it: one per key it is primary of.
    expect(lagging.dropped).toBe(lagging.onDead);
    expect(run(1, 0, true).lost).toBe(0); // persistent nodes keep their data
    expect(run(1, 0, false, 5).lost).toBe(0); // expired entries are no loss
  });
});

describe('DistributedCache: a workload', () => {
  function workload(seed: number | string, placement: DistributedPlacement = 'ring') {
    const c = cluster(5, seed);
    const consistency = new CacheConsistency(c.sim);
    const db = new Map<string, number>();
    const readers = [0, 1, 2].map((i) => {
      const dc = c.client<{ v: number }>({
        name: `dc${i}`,
        placement,
        replicas: 2,
        readPolicy: 'any',
        replicationLag: exponential({ mean: 20 }),
        healthCheck: { interval: 500 },
        versionOf: (row) => row.v,
        consistency,
        timeout: 30,
      });
      const load = (key: string): SimEvent<LoadResult<{ v: number }>> => {
        const ev = c.sim.event<LoadResult<{ v: number }>>();
        c.sim.schedule(2, () => ev.succeed({ ok: true, value: { v: db.get(key) ?? 0 } }));
        return ev;
      };
      return { dc, aside: new CacheAside<{ v: number }>(c.sim, { name: `app${i}`, cache: dc, load }) };
    });
    const keyDist = zipf({ n: 500, s: 1 });
    const rng = c.sim.rng('test/load');
    const gaps = exponential({ mean: 1 });
    const next = () => {
      const r = readers[rng.int(0, readers.length)]!;
      const key = `k${keyDist.sample(rng)}`;
      if (rng.next() < 0.1) {
        const v = (db.get(key) ?? 0) + 1;
        db.set(key, v);
        r.dc.acknowledge(key, v);
        r.dc.store(key, { v });
      } else r.aside.read(key);
      if (c.sim.now < 6000) c.sim.schedule(gaps.sample(rng), next);
    };
    next();
    c.sim.schedule(2000, () => c.net.crash('cache-2'));
    c.sim.schedule(4000, () => c.net.restart('cache-2'));
    c.sim.run({ until: 6500 });
    for (const r of readers) r.dc.stop();
    c.sim.run({ until: 7000 });
    return { c, consistency, readers };
  }

  it('conserves lookups and stores, counts stale reads, and is deterministic per seed', () => {
    const a = workload(1);
    for (const { dc, aside } of a.readers) {
      const s = dc.stats;
      expect(s.lookups).toBe(s.hits + s.misses);
      expect(s.stores).toBe(s.storesAcknowledged + s.storeErrors);
      expect(s.lookups).toBe(aside.stats.reads);
      expect(s.members).toBe(5);
      expect(s.removals).toBe(1);
      expect(s.additions).toBe(1);
    }
    const total = a.readers.reduce((n, r) => n + r.dc.stats.staleReads, 0);
    expect(total).toBe(a.consistency.stats.staleReads);
    expect(total).toBeGreaterThan(0);
    const again = workload(1);
    const other = workload(2);
    const figures = (w: ReturnType<typeof workload>) =>
      JSON.stringify([w.consistency.stats, w.readers.map((r) => r.dc.stats), w.c.sim.digest()]);
    expect(figures(again)).toBe(figures(a));
    expect(figures(other)).not.toBe(figures(a));
  });

  it('metrics and trace records', () => {
    const c = cluster(3);
    const records: string[] = [];
    c.sim.inspect((r) => {
      if (r.type.startsWith('@dsim.dcache.')) records.push(r.type);
    });
    const dc = c.client({ name: 'dc', replicas: 2, replicationLag: 50, readPolicy: 'replica', timeout: 20 });
    c.sim.process(function* () {
      yield dc.store('k', 'a', { version: 1 });
      yield c.sim.timeout(100);
      yield dc.store('k', 'b', { version: 2 });
      yield dc.lookup('k'); // stale and a RYW violation
      c.net.crash(dc.copiesOf('k')[1]!);
      yield dc.lookup('k'); // fails over to the primary
      dc.remove('cache-0');
    });
    c.sim.run();
    expect(records).toEqual(
      expect.arrayContaining([
        '@dsim.dcache.stale-read',
        '@dsim.dcache.ryw-violation',
        '@dsim.dcache.failover',
        '@dsim.dcache.membership',
        '@dsim.dcache.lost-writes',
      ]),
    );
    const snap = c.sim.metrics.snapshot();
    const counters = snap.nodes.dc!.counters;
    expect(counters['dcache.stale-reads']).toBe(1);
    expect(counters['dcache.ryw-violations']).toBe(1);
    expect(counters['dcache.failovers']).toBe(1);
    expect(counters['dcache.lookups']).toBe(2);
  });
});

describe('DistributedCache: options', () => {
  it('rejects bad options with errors that name the field', () => {
    const c = cluster(3);
    const bad = (o: object) => thrown(() => c.client(o as never)).message;
    expect(bad({ nodes: [] })).toContain('nodes');
    expect(bad({ nodes: ['cache-0', 'nowhere'] })).toContain('nodes[1]');
    expect(bad({ nodes: ['cache-0', 'cache-0'] })).toContain('nodes[1]');
    expect(bad({ replicas: 0 })).toContain('replicas');
    expect(bad({ replicas: 4 })).toContain('replicas');
    expect(bad({ readPolicy: 'nearest' })).toContain('readPolicy');
    expect(bad({ placement: 'consistent' })).toContain('placement');
    expect(bad({ placement: { kind: 'ring', vnode: 10 } })).toContain('placement.vnode');
    expect(bad({ placement: { kind: 'ring', nodes: ['x'] } })).toContain('placement.nodes');
    expect(bad({ placement: { kind: 'ring', vnodes: 0 } })).toContain('vnodes');
    expect(bad({ timeout: -1 })).toContain('timeout');
    expect(bad({ replicationLag: 'soon' })).toContain('replicationLag');
    expect(bad({ failover: 'yes' })).toContain('failover');
    expect(bad({ missFailover: 1 })).toContain('missFailover');
    expect(bad({ healthCheck: { interval: 0 } })).toContain('healthCheck.interval');
    expect(bad({ healthCheck: { unhealthyThreshold: 0 } })).toContain('healthCheck.unhealthyThreshold');
    expect(bad({ versionOf: 3 })).toContain('versionOf');
    expect(bad({ consistency: {} })).toContain('consistency');
    const dc = c.client();
    expect(thrown(() => dc.remove('cache-9')).message).toContain('remove(node)');
    expect(thrown(() => dc.add('nowhere')).message).toContain('add(node)');
    expect(thrown(() => dc.store('k', 'v', { version: Number.NaN })).message).toContain('version');
  });
});
