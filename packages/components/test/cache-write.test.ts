import {
  type Distribution,
  exponential,
  Network,
  RpcEndpoint,
  type RpcRequest,
  type SimEvent,
  Simulation,
  scheduleFaults,
  type TraceRecord,
} from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { Cache } from '../src/cache/cache.js';
import { type CacheAccess, LocalCacheAccess, RemoteCache } from '../src/cache/cache-access.js';
import { CacheAside, type LoadResult } from '../src/cache/cache-aside.js';
import { CacheServer } from '../src/cache/cache-server.js';
import { writeBehindExpectedQueue } from '../src/cache/write-behind.js';
import { CacheWriter, type CacheWriterOptions, type WriteResult } from '../src/cache/write-policy.js';
import { Service } from '../src/service/service.js';

type DbRequest =
  | { op: 'put'; key: string; value: string }
  | { op: 'put-all'; entries: { key: string; value: string }[] }
  | { op: 'get'; key: string };

interface WorldOptions {
  seed?: number;
  /** One-way link latency (ms). */
  link?: number | Distribution;
  /** DB service time per request (ms). */
  dbTime?: number | Distribution;
  dbErrorRate?: number;
  /** A CacheServer on the network (RemoteCache) instead of an in-process cache. */
  remote?: boolean;
  cacheTime?: number;
}

/** An app node, a database service that keeps what it is given, and a cache (local or a server). */
function world(options: WorldOptions = {}) {
  const sim = new Simulation({ seed: options.seed ?? 1 });
  const net = new Network(sim, { defaults: { latency: options.link ?? 0 } });
  const rows = new Map<string, string>();
  /** Every value the database applied, in order. */
  const applied: { key: string; value: string; at: number }[] = [];
  const put = (key: string, value: string): void => {
    rows.set(key, value);
    applied.push({ key, value, at: sim.now });
  };
  new Service(net.addNode('db'), {
    concurrency: 64,
    serviceTime: options.dbTime ?? 5,
    errorRate: options.dbErrorRate ?? 0,
    respond: (request: RpcRequest) => {
      const r = request.payload as DbRequest;
      if (r.op === 'put') put(r.key, r.value);
      else if (r.op === 'put-all') for (const e of r.entries) put(e.key, e.value);
      else return rows.get(r.key);
      return true;
    },
  });
  const appNode = net.addNode('app');
  const app = new RpcEndpoint(appNode);
  let cache: CacheAccess<string>;
  let local: Cache<string> | undefined;
  let server: CacheServer | undefined;
  if (options.remote === true) {
    server = new CacheServer(net.addNode('cache'), {
      capacity: 100_000,
      serviceTime: options.cacheTime ?? 0.5,
    });
    cache = new RemoteCache<string>(app, { servers: 'cache', timeout: 100 });
  } else {
    local = new Cache<string>(sim, { capacity: 100_000 });
    cache = new LocalCacheAccess(local);
  }
  const store = (key: string, value: string) => app.call('db', { op: 'put', key, value } satisfies DbRequest);
  const load = (key: string): SimEvent<LoadResult<string>> =>
    app.call<string>('db', { op: 'get', key } satisfies DbRequest) as SimEvent<LoadResult<string>>;
  const cached = (key: string): unknown =>
    local !== undefined ? local.peek(key)?.value : server!.cache.peek(key)?.value;
  const writer = (o: Partial<CacheWriterOptions<string>> & Pick<CacheWriterOptions<string>, 'mode'>) =>
    new CacheWriter<string>(sim, { cache, store, node: appNode, ...o });
  return { sim, net, app, appNode, rows, applied, cache, local, server, store, load, cached, writer };
}

/** Writes at the given times; returns the answers in order. */
function writeAt(
  sim: Simulation,
  w: CacheWriter<string>,
  plan: readonly { at: number; key: string; value: string }[],
): WriteResult[] {
  const out: WriteResult[] = [];
  for (const p of plan)
    sim.schedule(p.at, () => w.write(p.key, p.value).onProcessed((e) => out.push(e.value!)));
  return out;
}

describe('CacheWriter: write-through', () => {
  it('acknowledges after the store and the cache: latency = store RTT + cache RTT', () => {
    const w = world({ link: 1, dbTime: 5, remote: true, cacheTime: 0.5 });
    const writer = w.writer({ mode: 'write-through' });
    const answers = writeAt(w.sim, writer, [
      { at: 0, key: 'a', value: 'a1' },
      { at: 100, key: 'b', value: 'b1' },
    ]);
    w.sim.run();
    // store: 1 + 5 + 1 ms; cache: 1 + 0.5 + 1 ms
    expect(answers.map((a) => a.latency)).toEqual([9.5, 9.5]);
    expect(answers.every((a) => a.ok && a.durable && a.cached)).toBe(true);
    expect(w.cached('a')).toBe('a1');
    expect(w.rows.get('b')).toBe('b1');
    expect(writer.stats).toMatchObject({ writes: 2, acks: 2, storeCalls: 2, stored: 2, lost: 0 });
  });

  it('loses nothing acknowledged when its node crashes', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const w = world({ seed, link: exponential({ mean: 1 }), dbTime: exponential({ mean: 5 }) });
      const writer = w.writer({ mode: 'write-through' });
      const rng = w.sim.rng('test');
      const acked = new Map<string, string>();
      let t = 0;
      for (let i = 0; i < 500; i++) {
        t += rng.next() * 10;
        const key = `k${Math.floor(rng.next() * 20)}`;
        const value = `v${i}`;
        w.sim.schedule(t, () =>
          writer.write(key, value).onProcessed((e) => {
            if (e.value!.ok) acked.set(key, value);
          }),
        );
      }
      const crashAt = 1000 + rng.next() * 2000;
      scheduleFaults(w.net, [{ at: crashAt, fault: { kind: 'crash', node: 'app' } }]);
      w.sim.run();
      // Every acknowledged write is in the database: its latest value per key, or a later one (a write in
      // progress at the crash may still land). Writes of a key are ordered, so values only grow.
      for (const [key, value] of acked) {
        const stored = Number(w.rows.get(key)?.slice(1));
        expect(stored, `seed ${seed} ${key}`).toBeGreaterThanOrEqual(Number(value.slice(1)));
      }
      expect(writer.stats.lost).toBe(0);
      expect(writer.stats.failed).toBeGreaterThan(0); // writes after the crash (down) and in progress
    }
  });

  it('leaves the cache untouched when the store fails', () => {
    const w = world({ dbErrorRate: 1 });
    w.local!.set('a', 'old');
    const writer = w.writer({ mode: 'write-through' });
    const answers = writeAt(w.sim, writer, [{ at: 0, key: 'a', value: 'new' }]);
    w.sim.run();
    expect(answers[0]).toMatchObject({ ok: false, error: 'store-failed', durable: false });
    expect(w.cached('a')).toBe('old');
    expect(writer.stats).toMatchObject({ failed: 1, storeFailures: 1, stored: 0, accepted: 0 });
  });

  it('keeps the writes of one key in order (and can be told not to)', () => {
    const run = (ordered: boolean) => {
      const w = world({ seed: 3, dbTime: exponential({ mean: 5 }) });
      const writer = w.writer({ mode: 'write-through', ordered });
      const plan = Array.from({ length: 200 }, (_, i) => ({ at: i * 0.5, key: 'hot', value: `v${i}` }));
      const answers = writeAt(w.sim, writer, plan);
      w.sim.run();
      return { last: w.rows.get('hot'), cached: w.cached('hot'), answers };
    };
    const ordered = run(true);
    expect(ordered.last).toBe('v199');
    expect(ordered.cached).toBe('v199');
    // Ordered writes queue behind each other: the last one waits for the 199 before it.
    expect(ordered.answers.at(-1)!.latency).toBeGreaterThan(500);
    const unordered = run(false);
    expect(Math.max(...unordered.answers.map((a) => a.latency))).toBeLessThan(100);
  });
});

describe('CacheWriter: write-around and cache-aside invalidation', () => {
  /** A key cached as 'old', a write to 'new' at t = 10, reads every 5 ms through cache-aside. */
  function lagRun(lag: number | undefined) {
    const w = world({ link: 0.5, dbTime: 2 });
    w.rows.set('k', 'old');
    w.local!.set('k', 'old');
    const writer = w.writer({ mode: 'write-around', ...(lag === undefined ? {} : { invalidationLag: lag }) });
    const reader = new CacheAside<string>(w.sim, { cache: w.cache, load: w.load });
    let ackAt = Infinity;
    w.sim.schedule(10, () => writer.write('k', 'new').onProcessed(() => (ackAt = w.sim.now)));
    const reads: { at: number; value: string | undefined }[] = [];
    for (let t = 0; t < 1000; t += 5)
      w.sim.schedule(t + 0.1, () => {
        const at = w.sim.now;
        reader.read('k').onProcessed((e) => reads.push({ at, value: e.value!.value }));
      });
    w.sim.run();
    const stale = reads.filter((r) => r.at >= ackAt && r.value === 'old').length;
    return { stale, reads, ackAt, writer };
  }

  it('lag 0 (cache-aside: write, then delete): no stale read after the acknowledgement', () => {
    const r = lagRun(0);
    expect(r.ackAt).toBe(13); // store 0.5 + 2 + 0.5, then the in-process delete
    expect(r.stale).toBe(0);
    expect(r.reads.at(-1)!.value).toBe('new');
    expect(r.writer.stats).toMatchObject({ invalidations: 1, acks: 1, stored: 1 });
  });

  it('an invalidation lag L leaves readers in the window reading the old value, then the new', () => {
    const r = lagRun(200);
    // Reads start at 15.1, 20.1, ...; the delete lands at 13 + 200 = 213: reads at 15.1 .. 210.1 are stale.
    expect(r.stale).toBe(40);
    expect(r.reads.filter((x) => x.at > 213).every((x) => x.value === 'new')).toBe(true);
  });

  it('without invalidation (lag Infinity) the old value stays until the entry expires', () => {
    const r = lagRun(Infinity);
    expect(r.stale).toBe(r.reads.filter((x) => x.at >= r.ackAt).length);
    expect(r.writer.stats.invalidations).toBe(0);
  });

  it('exhibits the cache-aside race: a reader that missed puts the old value back after the delete', () => {
    // A reader misses and loads the old row; a write updates the row and deletes the key; if the reader's
    // answer is slower on the way back than the write's, it stores the old value after the delete. (With a
    // fixed link latency the race cannot happen: the read is served first, so its answer arrives first.)
    const w = world({ link: exponential({ mean: 1 }), dbTime: exponential({ mean: 4 }), seed: 11 });
    w.rows.set('k', 'old');
    const writer = w.writer({ mode: 'write-around' });
    const reader = new CacheAside<string>(w.sim, { cache: w.cache, load: w.load });
    let raced = 0;
    const rng = w.sim.rng('race');
    // Many rounds: a miss and a write close together; count rounds that end with the old value cached.
    for (let round = 0; round < 300; round++) {
      const t = round * 100;
      w.sim.schedule(t, () => {
        w.rows.set('k', `old${round}`);
        w.local!.delete('k');
        reader.read('k');
      });
      w.sim.schedule(t + rng.next() * 3, () => writer.write('k', `new${round}`));
      w.sim.schedule(t + 90, () => {
        if (w.local!.peek('k')?.value === `old${round}`) raced++;
      });
    }
    w.sim.run();
    expect(raced).toBeGreaterThan(0);
    expect(raced).toBeLessThan(300);
  });
});

describe('CacheWriter: write-behind', () => {
  it('acknowledges after the cache update only: latency = cache RTT (remote) or 0 (local)', () => {
    const remote = world({ link: 1, dbTime: 5, remote: true, cacheTime: 0.5 });
    const wb = remote.writer({ mode: 'write-behind', writeBehind: { flushInterval: 100 } });
    const answers = writeAt(remote.sim, wb, [
      { at: 0, key: 'a', value: 'a1' },
      { at: 1, key: 'b', value: 'b1' },
    ]);
    let dbAtAck: string | undefined = 'unset';
    remote.sim.schedule(2.5, () => (dbAtAck = remote.rows.get('a')));
    remote.sim.run();
    expect(answers.map((a) => a.latency)).toEqual([2.5, 2.5]);
    expect(answers.every((a) => a.ok && !a.durable && a.cached)).toBe(true);
    expect(dbAtAck).toBeUndefined(); // acknowledged before the database had it
    // The flush starts 100 ms after the first write; one store call at a time (concurrency 1).
    expect(remote.applied.map((p) => p.at)).toEqual([106, 113]);
    const local = world();
    const lw = local.writer({ mode: 'write-behind' });
    const la = writeAt(local.sim, lw, [{ at: 0, key: 'a', value: 'a1' }]);
    local.sim.run();
    expect(la[0]!.latency).toBe(0);
  });

  it('loses exactly the writes not yet sent at each crash (many seeds, random streams and crashes)', () => {
    let totalLost = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const w = world({ seed, link: exponential({ mean: 0.5 }), dbTime: exponential({ mean: 3 }) });
      const rng = w.sim.rng('plan');
      const coalesce = rng.next() < 0.5;
      const batchSize = rng.next() < 0.5 ? Infinity : 5 + Math.floor(rng.next() * 30);
      const concurrency = 1 + Math.floor(rng.next() * 8);
      const flushInterval = 20 + rng.next() * 300;
      const writer = w.writer({
        mode: 'write-behind',
        writeBehind: { flushInterval, batchSize, coalesce, concurrency },
      });
      // Crashes at random times, each followed by a restart.
      const crashes: number[] = [];
      let t = 0;
      for (let i = 0; i < 4; i++) {
        t += 300 + rng.next() * 1500;
        crashes.push(t);
        const down = 5 + rng.next() * 50;
        scheduleFaults(w.net, [{ at: t, for: down, fault: { kind: 'crash', node: 'app' } }]);
        t += down;
      }
      const epochAt = (time: number) => crashes.filter((c) => c <= time).length;
      // Random writes; each value names its write: `${index}`.
      const acked: { key: string; index: number; epoch: number }[] = [];
      const keys = 5 + Math.floor(rng.next() * 40);
      let at = 0;
      for (let i = 0; i < 1500; i++) {
        at += exponential({ mean: 4 }).sample(rng);
        const key = `k${Math.floor(rng.next() ** 2 * keys)}`;
        w.sim.schedule(at, () => {
          const epoch = epochAt(w.sim.now);
          writer.write(key, String(i)).onProcessed((e) => {
            if (e.value!.ok) acked.push({ key, index: i, epoch });
          });
        });
      }
      w.sim.run();
      // The oracle: an acknowledged write reached the database if the database applied a value of its key
      // written at or after it, before the next crash (a later value in the same coalesced entry).
      const reached = new Map<string, number[]>();
      for (const p of w.applied) {
        const list = reached.get(p.key) ?? [];
        list.push(Number(p.value));
        reached.set(p.key, list);
      }
      const epochOfIndex = new Map(acked.map((a) => [a.index, a.epoch]));
      const lostByEpoch = new Map<number, { writes: number; keys: Set<string> }>();
      for (const a of acked) {
        const got = (reached.get(a.key) ?? []).some((v) => v >= a.index && epochOfIndex.get(v) === a.epoch);
        if (got) continue;
        const l = lostByEpoch.get(a.epoch) ?? { writes: 0, keys: new Set<string>() };
        l.writes++;
        l.keys.add(a.key);
        lostByEpoch.set(a.epoch, l);
      }
      const s = writer.stats;
      expect(
        writer.losses.map((l) => l.writes),
        `seed ${seed}`,
      ).toEqual(crashes.map((_, i) => lostByEpoch.get(i)?.writes ?? 0));
      expect(
        writer.losses.map((l) => l.keys),
        `seed ${seed}`,
      ).toEqual(crashes.map((_, i) => lostByEpoch.get(i)?.keys.size ?? 0));
      // Nothing is left over at the end: every accepted write is stored, lost or in doubt.
      expect(s.queued + s.inFlight + s.dropped).toBe(0);
      expect(s.accepted).toBe(s.stored + s.lost + s.inDoubt);
      expect(s.acks).toBe(acked.length);
      totalLost += s.lost;
    }
    expect(totalLost).toBeGreaterThan(500);
  });

  it('coalescing makes at most one store call per distinct key per flush', () => {
    const run = (coalesce: boolean) => {
      const w = world({ seed: 2, dbTime: 1 });
      const flushes: TraceRecord[] = [];
      w.sim.inspect((r) => {
        if (r.type === '@dsim.write.flush') flushes.push(r);
      });
      const writer = w.writer({
        mode: 'write-behind',
        writeBehind: { flushInterval: 500, coalesce, concurrency: 16 },
      });
      const rng = w.sim.rng('keys');
      let at = 0;
      for (let i = 0; i < 5000; i++) {
        at += exponential({ mean: 2 }).sample(rng);
        const key = `k${Math.floor(rng.next() ** 3 * 100)}`; // skewed: a few hot keys
        w.sim.schedule(at, () => writer.write(key, String(i)));
      }
      w.sim.run();
      return { w, writer, flushes };
    };
    const plain = run(false);
    const coalesced = run(true);
    const p = plain.writer.stats;
    const c = coalesced.writer.stats;
    expect(p.storeCalls).toBe(5000);
    expect(p.stored).toBe(5000);
    expect(c.stored).toBe(5000); // coalesced writes count as stored with their entry
    expect(c.coalesced).toBeGreaterThan(2000);
    // Each flush: entries (= store calls) are the distinct keys written since the last flush.
    const entries = coalesced.flushes.map((f) => f.entries as number);
    const writes = coalesced.flushes.map((f) => f.writes as number);
    expect(entries.reduce((a, b) => a + b, 0)).toBe(c.storeCalls);
    expect(entries.every((e, i) => e <= 100 && e <= writes[i]!)).toBe(true);
    expect(c.storeCalls).toBeLessThan(p.storeCalls / 2);
    // Same final database state.
    expect([...coalesced.w.rows.entries()].sort()).toEqual([...plain.w.rows.entries()].sort());
  });

  it('batch size and flush interval bound the queue and its age; the mean queue matches the theory', () => {
    const run = (flushInterval: number, batchSize: number) => {
      const w = world({ seed: 7, dbTime: 1 });
      const writer = w.writer({
        mode: 'write-behind',
        writeBehind: { flushInterval, batchSize, concurrency: 64 },
      });
      const rng = w.sim.rng('w');
      let at = 0;
      const end = 200_000;
      while (at < end) {
        at += exponential({ rate: 0.1 }).sample(rng); // 100 writes/s
        const key = `k${Math.floor(rng.next() * 1000)}`;
        w.sim.schedule(at, () => writer.write(key, 'v'));
      }
      w.sim.run({ until: end });
      const mean = w.sim.metrics.gauge('writer', 'write.queue').mean(end);
      return { s: writer.stats, mean };
    };
    const byInterval = run(200, Infinity);
    expect(byInterval.s.maxQueueAge).toBeLessThanOrEqual(200 + 1e-9);
    const theory = writeBehindExpectedQueue({ ratePerSecond: 100, flushIntervalMs: 200 });
    expect(theory).toBeCloseTo((20 * (1 + 10)) / 21, 10);
    expect(Math.abs(byInterval.mean - theory) / theory).toBeLessThan(0.03);
    const byBatch = run(1000, 10);
    expect(byBatch.s.peakQueued).toBeLessThanOrEqual(10);
    const batchTheory = writeBehindExpectedQueue({
      ratePerSecond: 100,
      flushIntervalMs: 1000,
      batchSize: 10,
    });
    expect(batchTheory).toBeCloseTo(4.5, 6);
    expect(Math.abs(byBatch.mean - batchTheory) / batchTheory).toBeLessThan(0.03);
    const both = run(50, 10); // 100/s: ~5 writes per 50 ms, the interval mostly wins
    expect(both.s.maxQueueAge).toBeLessThanOrEqual(50 + 1e-9);
    expect(both.s.peakQueued).toBeLessThanOrEqual(10);
    const bothTheory = writeBehindExpectedQueue({ ratePerSecond: 100, flushIntervalMs: 50, batchSize: 10 });
    expect(Math.abs(both.mean - bothTheory) / bothTheory).toBeLessThan(0.03);
  });

  it('conserves writes at every moment: writes = acks + failed + pending, accepted = stored + queued + ...', () => {
    for (const seed of [1, 2, 3]) {
      const w = world({
        seed,
        link: exponential({ mean: 1 }),
        dbTime: exponential({ mean: 4 }),
        dbErrorRate: 0.2,
        remote: true,
      });
      const writer = w.writer({
        mode: 'write-behind',
        writeBehind: {
          flushInterval: 50,
          batchSize: 20,
          capacity: 30,
          onFull: seed === 2 ? 'reject' : 'write-through',
          concurrency: 4,
          retry: { attempts: 2, delay: 10 },
          coalesce: seed === 3,
        },
      });
      const rng = w.sim.rng('w');
      let at = 0;
      for (let i = 0; i < 3000; i++) {
        at += exponential({ mean: 1 }).sample(rng);
        const key = `k${Math.floor(rng.next() * 50)}`;
        w.sim.schedule(at, () => writer.write(key, String(i)));
      }
      scheduleFaults(w.net, [
        { at: 700, for: 30, fault: { kind: 'crash', node: 'app' } },
        { at: 1900, for: 10, fault: { kind: 'crash', node: 'app' } },
      ]);
      let checks = 0;
      for (let t = 0.37; t < at + 500; t += 3.1)
        w.sim.schedule(t, () => {
          const s = writer.stats;
          expect(s.writes).toBe(s.acks + s.failed + s.pending);
          expect(s.accepted).toBe(s.stored + s.queued + s.inFlight + s.lost + s.inDoubt + s.dropped);
          checks++;
        });
      w.sim.run();
      const s = writer.stats;
      expect(checks).toBeGreaterThan(900);
      expect(s.lost).toBeGreaterThan(0);
      expect(s.retries).toBeGreaterThan(0);
      expect(s.dropped).toBeGreaterThan(0);
      expect(s.rejected + s.syncFallbacks).toBeGreaterThan(0);
      expect(s.pending + s.queued + s.inFlight).toBe(0);
    }
  });

  it('a full queue rejects writes, or makes them synchronous and keeps each key in order', () => {
    const run = (onFull: 'reject' | 'write-through') => {
      const w = world({ seed: 4, dbTime: 20 });
      const writer = w.writer({
        mode: 'write-behind',
        writeBehind: { flushInterval: 100, capacity: 5, onFull },
      });
      const plan = Array.from({ length: 60 }, (_, i) => ({ at: i, key: `k${i % 7}`, value: String(i) }));
      const answers = writeAt(w.sim, writer, plan);
      w.sim.run();
      return { w, writer, answers };
    };
    const reject = run('reject');
    expect(reject.writer.stats.rejected).toBe(55);
    expect(reject.answers.filter((a) => a.error === 'queue-full').length).toBe(55);
    expect(reject.w.applied.length).toBe(5);
    const sync = run('write-through');
    const s = sync.writer.stats;
    expect(s.syncFallbacks).toBeGreaterThan(0);
    expect(s.acks).toBe(60);
    const durable = sync.answers.filter((a) => a.durable);
    expect(durable.length).toBe(s.syncFallbacks);
    expect(Math.min(...durable.map((a) => a.latency))).toBeGreaterThanOrEqual(20);
    // The database ends with the last value of every key.
    for (let k = 0; k < 7; k++) {
      const last = Math.max(...Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 7 === k));
      expect(sync.w.rows.get(`k${k}`)).toBe(String(last));
    }
  });

  it('retries a failing store, then drops after the attempts', () => {
    const w = world({ dbTime: 1 });
    let calls = 0;
    const flaky = (key: string, value: string) => {
      calls++;
      return calls <= 3 ? w.sim.event<{ ok: boolean }>().succeed({ ok: false }) : w.store(key, value);
    };
    const writer = w.writer({
      mode: 'write-behind',
      store: flaky,
      writeBehind: { flushInterval: 10, retry: { delay: 100 } },
    });
    writeAt(w.sim, writer, [{ at: 0, key: 'a', value: '1' }]);
    w.sim.run();
    expect(writer.stats).toMatchObject({
      retries: 3,
      storeFailures: 3,
      storeCalls: 4,
      stored: 1,
      dropped: 0,
    });
    expect(w.applied[0]!.at).toBe(10 + 300 + 1);
    const never = world();
    const dropper = never.writer({
      mode: 'write-behind',
      store: () => never.sim.event<{ ok: boolean }>().succeed({ ok: false }),
      writeBehind: { flushInterval: 10, retry: { attempts: 2, delay: 5 } },
    });
    writeAt(never.sim, dropper, [
      { at: 0, key: 'a', value: '1' },
      { at: 1, key: 'b', value: '2' },
    ]);
    never.sim.run();
    expect(dropper.stats).toMatchObject({ storeCalls: 6, retries: 4, dropped: 2, stored: 0, acks: 2 });
  });

  it('storeAll sends a flush in chunks of batchSize', () => {
    const w = world({ dbTime: 2 });
    const storeAll = (entries: readonly { key: string; value: string }[]) =>
      w.app.call('db', { op: 'put-all', entries: [...entries] } satisfies DbRequest);
    const writer = w.writer({
      mode: 'write-behind',
      storeAll,
      writeBehind: { flushInterval: 100, batchSize: 8 },
    });
    // 20 writes at once: the 8th starts a flush (one call of 8); the 16th asks for another, which starts
    // when the first ends and takes the 12 then queued: two calls, 8 + 4.
    writeAt(
      w.sim,
      writer,
      Array.from({ length: 20 }, (_, i) => ({ at: 0, key: `k${i}`, value: String(i) })),
    );
    w.sim.run();
    expect(writer.stats).toMatchObject({ storeCalls: 3, flushes: 2, stored: 20 });
    // Chunks go one at a time: 8 at 2 ms, then 8 at 4 ms and 4 at 6 ms.
    expect(w.applied.map((p) => p.at)).toEqual([
      ...Array(16)
        .fill(0)
        .map((_, i) => (i < 8 ? 2 : 4)),
      6,
      6,
      6,
      6,
    ]);
    expect(w.rows.size).toBe(20);
  });

  it('keeps flushing on a node that is paused and resumes (timers stall, nothing lost)', () => {
    const w = world({ dbTime: 1 });
    const writer = w.writer({ mode: 'write-behind', writeBehind: { flushInterval: 50 } });
    writeAt(w.sim, writer, [{ at: 0, key: 'a', value: '1' }]);
    scheduleFaults(w.net, [{ at: 10, for: 200, fault: { kind: 'pause', node: 'app' } }]);
    w.sim.run();
    expect(w.applied.map((p) => p.at)).toEqual([211]);
    expect(writer.stats.lost).toBe(0);
  });
});

describe('CacheWriter: options and records', () => {
  it('rejects bad options with errors that name the field', () => {
    const w = world();
    const base = { cache: w.cache, store: w.store };
    const bad = (o: object) => thrown(() => new CacheWriter<string>(w.sim, { ...base, ...o } as never));
    expect(bad({ mode: 'write-sideways' }).message).toContain('mode');
    expect(bad({ mode: 'write-through', writeBehind: {} }).message).toContain('writeBehind');
    expect(bad({ mode: 'write-behind', invalidationLag: 5 }).message).toContain('invalidationLag');
    expect(bad({ mode: 'write-behind', writeBehind: { batchSize: 0 } }).message).toContain(
      'writeBehind.batchSize',
    );
    expect(bad({ mode: 'write-behind', writeBehind: { flushInterval: Infinity } }).message).toContain(
      'writeBehind.batchSize',
    );
    expect(bad({ mode: 'write-behind', writeBehind: { onFull: 'block' } }).message).toContain('onFull');
    expect(bad({ mode: 'write-behind', writeBehind: { capacity: 1.5 } }).message).toContain('capacity');
    expect(bad({ mode: 'write-behind', writeBehind: { retry: { attempts: -1 } } }).message).toContain(
      'retry.attempts',
    );
    expect(bad({ mode: 'write-through', cache: {} }).message).toContain('cache');
    expect(bad({ mode: 'write-through', store: 'db' }).message).toContain('store');
    expect(bad({ mode: 'write-around', invalidationLag: 'soon' }).message).toContain('invalidationLag');
    expect(bad({ mode: 'write-through', name: '' }).message).toContain('name');
    expect(bad({ mode: 'write-through', ordered: 'yes' }).message).toContain('ordered');
    expect(
      thrown(() => writeBehindExpectedQueue({ ratePerSecond: -1, flushIntervalMs: 1 })).message,
    ).toContain('ratePerSecond');
  });

  it('records metrics under its name and traces flushes and losses', () => {
    const w = world({ dbTime: 1 });
    const records: TraceRecord[] = [];
    w.sim.inspect((r) => {
      if (r.type.startsWith('@dsim.write.')) records.push(r);
    });
    const writer = w.writer({ mode: 'write-behind', name: 'wb', writeBehind: { flushInterval: 100 } });
    writeAt(w.sim, writer, [
      { at: 0, key: 'a', value: '1' },
      { at: 150, key: 'b', value: '2' },
      { at: 160, key: 'c', value: '3' },
    ]);
    scheduleFaults(w.net, [{ at: 200, fault: { kind: 'crash', node: 'app' } }]);
    w.sim.run();
    expect(records.map((r) => r.type)).toEqual(['@dsim.write.flush', '@dsim.write.lost']);
    expect(records[1]).toMatchObject({ writer: 'wb', writes: 2, keys: 2, inDoubt: 0 });
    const m = w.sim.metrics;
    expect(m.counter('wb', 'write.acks').value).toBe(3);
    expect(m.counter('wb', 'write.lost').value).toBe(2);
    expect(m.counter('wb', 'write.flushes').value).toBe(1);
    expect(m.gauge('wb', 'write.queue').level).toBe(0);
    expect(writer.losses).toEqual([{ at: 200, writes: 2, keys: 2, inDoubt: 0 }]);
  });

  it('is deterministic: same seed, same digest', () => {
    const digest = () => {
      const w = world({ seed: 9, link: exponential({ mean: 1 }), dbTime: exponential({ mean: 3 }) });
      const writer = w.writer({ mode: 'write-behind', writeBehind: { flushInterval: 30, coalesce: true } });
      const rng = w.sim.rng('w');
      for (let i = 0; i < 200; i++)
        w.sim.schedule(rng.next() * 1000, () => writer.write(`k${i % 9}`, String(i)));
      w.sim.run();
      return w.sim.digest();
    };
    expect(digest()).toBe(digest());
  });
});
