import { Network, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { KafkaCluster } from '../src/messaging/kafka/cluster/kafka-cluster.js';
import type { LogRecord } from '../src/messaging/kafka/cluster/types.js';
import { clusterRecordSource } from '../src/messaging/kafka/consumer/cluster-record-source.js';
import { KafkaProducer } from '../src/messaging/kafka/producer/kafka-producer.js';
import { DedupStore, DedupStoreServer } from '../src/messaging/patterns/dedup-store.js';
import { IdempotentConsumer } from '../src/messaging/patterns/idempotent-consumer.js';
import { OutboxDatabase, OutboxRelay, OutboxService } from '../src/messaging/patterns/outbox.js';
import { RetryTopics } from '../src/messaging/patterns/retry-topics.js';
import { consumerRig } from './kafka-consumer-support.js';

describe('DedupStore', () => {
  it('remembers a bounded window: fifo forgets the oldest, lru the least recently seen, ttl the old', () => {
    const sim = new Simulation({ seed: 1 });
    const fifo = new DedupStore(sim, { maxEntries: 2 });
    expect([
      fifo.checkAndAdd('a'),
      fifo.checkAndAdd('b'),
      fifo.checkAndAdd('a'),
      fifo.checkAndAdd('c'),
    ]).toEqual([true, true, false, true]);
    expect(fifo.checkAndAdd('a')).toBe(true); // evicted by c: slips through
    expect(fifo.stats).toEqual({ checks: 5, added: 4, duplicates: 1, evicted: 2, expired: 0 });
    const lru = new DedupStore(sim, { maxEntries: 2, eviction: 'lru' });
    lru.checkAndAdd('a');
    lru.checkAndAdd('b');
    lru.checkAndAdd('a'); // refreshes a
    lru.checkAndAdd('c'); // evicts b
    expect([lru.has('a'), lru.has('b')]).toEqual([true, false]);
    const ttl = new DedupStore(sim, { ttl: 100 });
    ttl.checkAndAdd('x');
    sim.scheduleAt(99, () => expect(ttl.has('x')).toBe(true));
    sim.scheduleAt(100, () => expect(ttl.checkAndAdd('x')).toBe(true));
    sim.run();
    expect(ttl.stats.expired).toBe(1);
  });

  it('checks its options', () => {
    const sim = new Simulation({ seed: 1 });
    expect(thrown(() => new DedupStore(sim, { maxEntrys: 3 } as never)).message).toContain('maxEntries');
    expect(thrown(() => new DedupStore(sim, { maxEntries: 0 })).message).toContain('maxEntries');
    expect(thrown(() => new DedupStore(sim, { eviction: 'random' as never })).message).toContain('eviction');
    expect(new DedupStore(sim).config).toEqual({ maxEntries: 100_000, ttlMs: Infinity, eviction: 'fifo' });
  });
});

/** c1 then c2 on one partition of 2 000 records; c1 crashes mid-batch (commit after processing). */
function crashRig(idemFor: (r: ReturnType<typeof consumerRig>, consumer: string) => IdempotentConsumer) {
  const r = consumerRig({ partitions: 1 });
  const idems = new Map<string, IdempotentConsumer>();
  const opts = (address: string) => ({
    enableAutoCommit: false,
    manualCommit: 'after-processing' as const,
    autoOffsetReset: 'earliest' as const,
    processingTime: 10,
    maxPollRecords: 100,
    onRecord: (rec: LogRecord, t: string, p: number) => idems.get(address)!.handle(rec, t, p),
  });
  for (const a of ['c1', 'c2']) {
    r.add(a, opts(a));
    idems.set(a, idemFor(r, a));
  }
  r.sim.scheduleAt(0, () => r.memory!.append('t', 0, 2_000));
  r.sim.scheduleAt(10_755, () => r.net.crash('c1'));
  r.sim.run({ until: 120_000 });
  const stats = (k: 'duplicates' | 'processed' | 'storeErrors' | 'skipped') =>
    [...idems.values()].reduce((s, i) => s + i.stats[k], 0);
  return { r, stats };
}

describe('IdempotentConsumer', () => {
  it('a consumer crash redelivers the uncommitted batch; the dedup store runs each effect once', () => {
    const effects = new Map<string, number>();
    let store: DedupStore | null = null;
    const { r, stats } = crashRig((rig) => {
      store ??= new DedupStore(rig.sim);
      return new IdempotentConsumer(rig.sim, {
        store,
        handler: (rec) => effects.set(rec.recordId, (effects.get(rec.recordId) ?? 0) + 1),
      });
    });
    expect(r.tally.duplicates).toBeGreaterThan(0);
    expect(stats('duplicates')).toBe(r.tally.duplicates);
    expect(effects.size).toBe(2_000);
    expect([...effects.values()].every((n) => n === 1)).toBe(true);
  });

  it('a window smaller than the redelivered span lets duplicates through', () => {
    let effects = 0;
    let store: DedupStore | null = null;
    const { r, stats } = crashRig((rig) => {
      store ??= new DedupStore(rig.sim, { maxEntries: 10 });
      return new IdempotentConsumer(rig.sim, { store, handler: () => effects++ });
    });
    const redelivered = r.tally.duplicates;
    expect(redelivered).toBeGreaterThan(10);
    // The redelivered ids come back oldest first; each one, already forgotten, is recorded again and
    // pushes out a newer one before it returns: a FIFO window smaller than the span catches none.
    expect(stats('duplicates')).toBe(0);
    expect(effects - 2_000).toBe(redelivered);
  });

  it('a remote store costs a round trip per record and catches the same duplicates', () => {
    let effects = 0;
    const { r, stats } = crashRig((rig, consumer) => {
      if (consumer === 'c1') new DedupStoreServer(rig.net.addNode('redis'), { serviceTime: 0.2 });
      return new IdempotentConsumer(rig.sim, {
        remote: { client: rig.consumers.get(consumer)!.endpoint, server: 'redis' },
        handler: () => effects++,
      });
    });
    expect(stats('storeErrors')).toBe(0);
    // The redelivered records c1 had checked in before the crash are caught; a check c1 had in flight
    // at the crash recorded its id but never ran the effect: that record is lost (skipped).
    expect(stats('duplicates') + stats('skipped')).toBeGreaterThanOrEqual(r.tally.duplicates);
    expect(effects + stats('skipped')).toBeGreaterThanOrEqual(2_000);
    expect(effects).toBeLessThanOrEqual(2_000);
  });
});

/** 3 brokers, topics t (2 partitions), t-retry-1, t-retry-2, t-dlq; a producer feeding t. */
function retryRig(mode: 'retry-topics' | 'in-place') {
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim, { defaults: { latency: 0.5 } });
  const cluster = new KafkaCluster(net, {
    brokers: ['b1', 'b2', 'b3'],
    topics: [{ name: 't', partitions: 2 }, { name: 't-retry-1' }, { name: 't-retry-2' }, { name: 't-dlq' }],
    // A follower's first fetch can go unanswered until replica.socket.timeout.ms at startup: keep it short.
    replicaSocketTimeout: 2_000,
  });
  const bootstrap = cluster.brokerIds;
  const app = new KafkaProducer(net.addNode('app'), { bootstrap });
  const sentAt = new Map<string, number>();
  const latency: number[] = [];
  let dlqAt = -1;
  const worker = new RetryTopics(net.addNode('worker'), {
    source: clusterRecordSource(cluster),
    producer: new KafkaProducer(net.addNode('worker-out'), { bootstrap }),
    topic: 't',
    mode,
    delays: [1_000, 5_000],
    backoff: 1_000,
    processingTime: 2,
    handler: (a) => a.id !== 'poison',
    onSuccess: (a) => latency.push(sim.now - sentAt.get(a.id)!),
    onDeadLetter: () => {
      dlqAt = sim.now;
    },
  });
  for (let i = 0; i < 2_000; i++) {
    const id = i === 100 ? 'poison' : `m${i}`;
    sim.scheduleAt(5_000 + i * 10, () => {
      sentAt.set(id, sim.now);
      app.send({ topic: 't', key: id, partition: i % 2 });
    });
  }
  sim.run({ until: 45_000 });
  return { worker, latency, dlqAt, poisonAt: sentAt.get('poison')!, cluster };
}

describe('RetryTopics', () => {
  it('retry topics: the poison record reaches the DLQ after the delays; the others are not held up', () => {
    const { worker, latency, dlqAt, poisonAt } = retryRig('retry-topics');
    expect(worker.stats).toMatchObject({ succeeded: 1_999, failed: 3, retried: [1, 1], deadLettered: 1 });
    expect(latency).toHaveLength(1_999);
    expect(Math.max(...latency)).toBeLessThan(50);
    // Three attempts, 1 s and 5 s apart (after each append), plus publish round trips.
    expect(dlqAt - poisonAt).toBeGreaterThan(6_000);
    expect(dlqAt - poisonAt).toBeLessThan(6_100);
  });

  it('in place: the poison record blocks its partition head of line; the other partition flows', () => {
    const { worker, latency } = retryRig('in-place');
    expect(worker.stats.succeeded).toBe(1_000 + 50); // partition 1, and partition 0 before the poison
    expect(worker.stats.failed).toBeGreaterThan(30);
    expect(worker.stats.deadLettered).toBe(0);
    expect(Math.max(...latency)).toBeLessThan(50);
  });

  it('checks its options', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const cluster = new KafkaCluster(net, { brokers: ['b1'], topics: [{ name: 't' }, { name: 't-dlq' }] });
    const producer = new KafkaProducer(net.addNode('p'), { bootstrap: ['b1'] });
    const base = { source: clusterRecordSource(cluster), producer, topic: 't', handler: () => true };
    expect(thrown(() => new RetryTopics(net.addNode('w1'), { ...base, delays: [1_000] })).message).toContain(
      't-retry-1',
    );
    expect(
      thrown(() => new RetryTopics(net.addNode('w2'), { ...base, delay: 3 } as never)).message,
    ).toContain('delays');
    expect(new RetryTopics(net.addNode('w3'), base).topics).toEqual({ main: 't', retries: [], dlq: 't-dlq' });
  });
});

/** A service writing 1 000 changes over 10 s, events to topic `events`, a crash of `crashNode` at 5.003 s. */
function outboxRig(mode: 'outbox' | 'dual-write', crashNode: 'svc' | 'relay') {
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim, { defaults: { latency: 0.5 } });
  const cluster = new KafkaCluster(net, {
    brokers: ['b1', 'b2', 'b3'],
    topics: [{ name: 'events' }],
    replicaSocketTimeout: 2_000,
  });
  const db = new OutboxDatabase(sim, { commitLatency: 2 });
  const svcNode = net.addNode('svc');
  const svc = new OutboxService(svcNode, {
    db,
    mode,
    producer: new KafkaProducer(svcNode, { bootstrap: cluster.brokerIds }),
  });
  const relayNode = net.addNode('relay');
  const relay = new OutboxRelay(relayNode, {
    db,
    producer: new KafkaProducer(relayNode, { bootstrap: cluster.brokerIds }),
    pollInterval: 200,
  });
  for (let i = 0; i < 1_000; i++) sim.scheduleAt(i * 10, () => svc.handle(`e${i}`));
  // The relay crashes once some row is published and not yet marked sent; the service at 5.003 s.
  let crashed = false;
  for (let t = 5_000; t < 6_000; t += 0.5)
    sim.scheduleAt(t, () => {
      const window =
        crashNode === 'svc' ? t >= 5_003 : db.rows.some((r) => r.publishes > 0 && Number.isNaN(r.sentAt));
      if (!crashed && window) {
        crashed = true;
        net.crash(crashNode);
      }
    });
  sim.scheduleAt(6_000, () => net.restart(crashNode));
  sim.run({ until: 30_000 });
  const log = cluster.committed('events', 0) ?? [];
  const published = new Map<string, number>();
  for (const r of log) published.set(r.key!, (published.get(r.key!) ?? 0) + 1);
  const lost = [...db.state.keys()].filter((id) => !published.has(id)).length;
  const duplicates = [...published.values()].reduce((s, n) => s + n - 1, 0);
  return { db, svc, relay, lost, duplicates, log };
}

describe('transactional outbox', () => {
  it('a relay crash between publish and mark publishes again: duplicates, no loss', () => {
    const { relay, lost, duplicates, db } = outboxRig('outbox', 'relay');
    expect(lost).toBe(0);
    expect(duplicates).toBeGreaterThan(0);
    expect(relay.stats.duplicatePublishes).toBe(duplicates);
    expect(db.rows.every((r) => !Number.isNaN(r.sentAt))).toBe(true);
  });

  it('dual writes: a service crash after the commit and before the publish loses events', () => {
    const { lost, duplicates, svc, db } = outboxRig('dual-write', 'svc');
    expect(lost).toBeGreaterThan(0);
    expect(duplicates).toBe(0);
    expect(db.state.size - svc.stats.published).toBe(lost);
  });

  it('the outbox survives the same service crash: nothing committed is lost', () => {
    const { lost, duplicates, db } = outboxRig('outbox', 'svc');
    expect(lost).toBe(0);
    expect(duplicates).toBe(0);
    expect(db.state.size).toBeLessThan(1_000); // requests during the outage never committed
  });
});
