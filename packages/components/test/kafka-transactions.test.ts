import { Network, type SimEvent, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { KafkaCluster } from '../src/messaging/kafka/cluster/kafka-cluster.js';
import type { LogRecord } from '../src/messaging/kafka/cluster/types.js';
import { clusterRecordSource } from '../src/messaging/kafka/consumer/cluster-record-source.js';
import type { KafkaConsumerOptions } from '../src/messaging/kafka/consumer/consumer-options.js';
import { DeliveryTally } from '../src/messaging/kafka/consumer/delivery-tally.js';
import { GroupCoordinator } from '../src/messaging/kafka/consumer/group-coordinator.js';
import { KafkaConsumer } from '../src/messaging/kafka/consumer/kafka-consumer.js';
import { TransactionalRelay } from '../src/messaging/kafka/consumer/transactional-relay.js';
import { KafkaProducer, type ProduceOutcome } from '../src/messaging/kafka/producer/kafka-producer.js';
import type { TxnOutcome } from '../src/messaging/kafka/producer/transaction-manager.js';

function on<T>(ev: SimEvent<T>, fn: (value: T) => void): void {
  ev.onProcessed((e) => fn(e.value as T));
}

/** 3 brokers, topics `in` and `out`, a group coordinator `gc`, 0.5 ms links. */
function txnRig(partitions = 1, seed = 1) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency: 0.5 } });
  const cluster = new KafkaCluster(net, {
    brokers: ['b1', 'b2', 'b3'],
    topics: [
      { name: 'in', partitions },
      { name: 'out', partitions },
    ],
  });
  const source = clusterRecordSource(cluster);
  const gc = new GroupCoordinator(net.addNode('gc'));
  gc.usePartitionCounts((t) => source.partitionCount(t));
  const consumer = (address: string, extra: Partial<KafkaConsumerOptions> & { groupId: string }) =>
    new KafkaConsumer(net.addNode(address), {
      topics: ['out'],
      coordinator: 'gc',
      source,
      autoOffsetReset: 'earliest',
      ...extra,
    });
  return { sim, net, cluster, source, gc, consumer };
}

/** Records of a partition the application sees (no markers), as [offset, recordId]. */
function visible(log: readonly LogRecord[]): string[] {
  return log.filter((r) => r.control === undefined).map((r) => r.recordId);
}

describe('transactions: commit, abort, last stable offset, isolation levels', () => {
  it('read_committed sees only committed records, below the LSO; read_uncommitted sees everything below the HW', () => {
    const r = txnRig();
    const p = new KafkaProducer(r.net.addNode('app'), {
      bootstrap: r.cluster.brokerIds,
      transactionalId: 'tx',
    });
    const seen = { rc: [] as string[], ru: [] as string[] };
    r.consumer('c-rc', {
      groupId: 'rc',
      isolationLevel: 'read_committed',
      onRecord: (rec) => seen.rc.push(rec.recordId),
    });
    r.consumer('c-ru', { groupId: 'ru', onRecord: (rec) => seen.ru.push(rec.recordId) });
    const outcomes: Record<string, TxnOutcome> = {};
    const batch = (n: number) => {
      let last: SimEvent<ProduceOutcome> | null = null;
      for (let i = 0; i < n; i++) last = p.send({ topic: 'out', key: `k${i}`, size: 100 });
      return last!;
    };
    r.sim.scheduleAt(1_000, () =>
      on(p.initTransactions(), (o) => {
        outcomes.init = o;
        p.beginTransaction();
        batch(5);
        on(p.commitTransaction(), (c) => {
          outcomes.commit = c;
          p.beginTransaction();
          // Abort once the records are acknowledged (records never sent would just be dropped).
          on(batch(3), () =>
            on(p.abortTransaction(), (a) => {
              outcomes.abort = a;
              p.beginTransaction();
              batch(2); // left open
            }),
          );
        });
      }),
    );
    let lsoWhileOpen = -1;
    let hwWhileOpen = -1;
    r.sim.scheduleAt(19_000, () => {
      lsoWhileOpen = r.cluster.lastStableOffset('out', 0);
      hwWhileOpen = r.cluster.broker('b1').logOf('out', 0)!.highWatermark;
    });
    r.sim.run({ until: 20_000 });
    expect(outcomes).toEqual({ init: { ok: true }, commit: { ok: true }, abort: { ok: true } });
    const log = r.cluster.committed('out', 0)!;
    // 5 records, COMMIT, 3 records, ABORT, 2 open records: markers take offsets.
    expect(log.map((x) => x.control ?? 'data')).toEqual([
      ...Array(5).fill('data'),
      'commit',
      ...Array(3).fill('data'),
      'abort',
      ...Array(2).fill('data'),
    ]);
    expect(lsoWhileOpen).toBe(10);
    expect(hwWhileOpen).toBe(12);
    const ids = visible(log);
    expect(seen.rc).toEqual(ids.slice(0, 5));
    expect(seen.ru).toEqual(ids); // aborted and open records included, markers never
    expect(r.cluster.transactions.stats).toMatchObject({ begun: 3, committed: 1, aborted: 1, timedOut: 0 });
    expect(r.cluster.transactions.describe('tx')).toMatchObject({ state: 'ongoing', partitions: ['out-0'] });
    expect(r.sim.metrics.gauge('b1', 'kafka.out-0.lso').level).toBe(10);
  });

  it('the coordinator aborts a transaction open longer than transaction.timeout.ms (60 s) and fences its producer', () => {
    const r = txnRig();
    const p = new KafkaProducer(r.net.addNode('app'), {
      bootstrap: r.cluster.brokerIds,
      transactionalId: 'slow',
    });
    const rc: string[] = [];
    r.consumer('c-rc', {
      groupId: 'rc',
      isolationLevel: 'read_committed',
      onRecord: (x) => rc.push(x.recordId),
    });
    let begunAt = -1;
    r.sim.scheduleAt(1_000, () =>
      on(p.initTransactions(), () => {
        p.beginTransaction();
        begunAt = r.sim.now;
        for (let i = 0; i < 4; i++) p.send({ topic: 'out', key: `k${i}` });
      }),
    );
    let abortedAt = -1;
    const probe = () => {
      if (abortedAt < 0 && r.cluster.transactions.describe('slow')?.state === 'complete-abort')
        abortedAt = r.sim.now;
      if (r.sim.now < 90_000) r.sim.schedule(10, probe);
    };
    r.sim.scheduleAt(1_000, probe);
    let lateCommit: TxnOutcome | null = null;
    r.sim.scheduleAt(100_000, () => on(p.commitTransaction(), (o) => (lateCommit = o)));
    r.sim.run({ until: 110_000 });
    const open = abortedAt - begunAt;
    expect(open).toBeGreaterThan(60_000);
    expect(open).toBeLessThanOrEqual(60_000 + 10_000 + 50); // + one check interval + the markers
    expect(r.cluster.transactions.stats).toMatchObject({ timedOut: 1, aborted: 1, fencedProducers: 1 });
    expect(r.cluster.lastStableOffset('out', 0)).toBe(5); // 4 records and the ABORT marker
    expect(rc).toEqual([]);
    expect(lateCommit).toEqual({ ok: false, error: 'producer-fenced' });
    expect(p.transactionState).toBe('fenced');
  });
});

describe('transactions: fencing zombies', () => {
  it('a new producer with the same transactional.id fences the old one: its open transaction aborts, its writes fail', () => {
    const r = txnRig();
    const zombie = new KafkaProducer(r.net.addNode('old'), {
      bootstrap: r.cluster.brokerIds,
      transactionalId: 'x',
    });
    const fresh = new KafkaProducer(r.net.addNode('new'), {
      bootstrap: r.cluster.brokerIds,
      transactionalId: 'x',
    });
    const rc: string[] = [];
    r.consumer('c-rc', {
      groupId: 'rc',
      isolationLevel: 'read_committed',
      onRecord: (x) => rc.push(x.recordId),
    });
    const zombieSends: ProduceOutcome[] = [];
    let zombieCommit: TxnOutcome | null = null;
    let freshCommit: TxnOutcome | null = null;
    r.sim.scheduleAt(1_000, () =>
      on(zombie.initTransactions(), () => {
        zombie.beginTransaction();
        for (let i = 0; i < 3; i++)
          on(zombie.send({ topic: 'out', key: `z${i}` }), (o) => zombieSends.push(o));
      }),
    );
    const epochs: number[] = [];
    r.sim.scheduleAt(2_000, () => {
      epochs.push(zombie.epoch);
      on(fresh.initTransactions(), () => {
        epochs.push(fresh.epoch);
        fresh.beginTransaction();
        for (let i = 0; i < 2; i++) fresh.send({ topic: 'out', key: `f${i}` });
        on(fresh.commitTransaction(), (o) => (freshCommit = o));
      });
    });
    // The zombie carries on after the new instance took over.
    r.sim.scheduleAt(3_000, () => {
      for (let i = 3; i < 5; i++) on(zombie.send({ topic: 'out', key: `z${i}` }), (o) => zombieSends.push(o));
      on(zombie.commitTransaction(), (o) => (zombieCommit = o));
    });
    r.sim.run({ until: 10_000 });
    expect(epochs).toEqual([0, 2]); // the fence bumps once (aborting), the retried InitProducerId once more
    expect(zombieSends.slice(0, 3).every((o) => o.ok)).toBe(true); // acked, then aborted
    expect(zombieSends.slice(3).map((o) => (o.ok ? 'ok' : o.error))).toEqual([
      'producer-fenced',
      'producer-fenced',
    ]);
    expect(zombieCommit).toEqual({ ok: false, error: 'producer-fenced' });
    expect(freshCommit).toEqual({ ok: true });
    expect(zombie.transactionState).toBe('fenced');
    expect(r.cluster.transactions.stats).toMatchObject({ committed: 1, aborted: 1, fencedProducers: 2 });
    const log = r.cluster.committed('out', 0)!;
    expect(log.map((x) => x.control ?? x.key)).toEqual(['z0', 'z1', 'z2', 'abort', 'f0', 'f1', 'commit']);
    expect(rc).toEqual(visible(log).slice(3));
  });
});

/**
 * Exactly-once relay: `in` (2 partitions, 2000 records) → relay (read_committed consumer + transactional
 * producer, one transaction per batch) → `out`. The relay's node crashes mid-transaction; a second
 * instance with the same transactional.id starts 1 s later.
 */
function relayRun(seed: number) {
  const r = txnRig(2, seed);
  const N = 2_000;
  const feeder = new KafkaProducer(r.net.addNode('feeder'), { bootstrap: r.cluster.brokerIds });
  for (let i = 0; i < N; i++)
    r.sim.scheduleAt(10 + i * 10, () => feeder.send({ topic: 'in', key: `k${i}`, value: `v${i}` }));
  const relays: TransactionalRelay[] = [];
  const processed = new DeliveryTally();
  const startRelay = (address: string, eagerInit: boolean) => {
    const node = r.net.addNode(address);
    let relay: TransactionalRelay | null = null;
    const consumer = new KafkaConsumer(node, {
      groupId: 'relay',
      topics: ['in'],
      coordinator: 'gc',
      source: r.source,
      autoOffsetReset: 'earliest',
      enableAutoCommit: false,
      manualCommit: 'none',
      isolationLevel: 'read_committed',
      sessionTimeout: 6_000,
      heartbeatInterval: 1_000,
      maxPollRecords: 50,
      processingTime: 1,
      tally: processed,
      onBatch: (batch) => relay!.onBatch(batch),
    });
    // One process: the producer shares the consumer's endpoint.
    const producer = new KafkaProducer(node, {
      bootstrap: r.cluster.brokerIds,
      transactionalId: 'relay-0',
      endpoint: consumer.endpoint,
    });
    relay = new TransactionalRelay(producer, (rec, topic, partition) => ({
      topic: 'out',
      key: rec.key,
      value: `${topic}-${partition}@${rec.offset}`,
    }));
    relays.push(relay);
    if (eagerInit) producer.initTransactions();
    return producer;
  };
  const first = startRelay('relay-a', false);
  // Verifiers on `out`: every output names its input record; count each input's outputs.
  const byInput = { rc: new DeliveryTally(), ru: new DeliveryTally() };
  const count = (tally: DeliveryTally) => (rec: LogRecord) => {
    const m = /^(\w+)-(\d+)@(\d+)$/.exec(rec.value ?? '')!;
    tally.processed(m[1]!, Number(m[2]), Number(m[3]), rec.recordId, 0);
  };
  r.consumer('v-rc', { groupId: 'v-rc', isolationLevel: 'read_committed', onRecord: count(byInput.rc) });
  r.consumer('v-ru', { groupId: 'v-ru', onRecord: count(byInput.ru) });
  // Crash when a transaction is open with output records already replicated in `out`.
  let crashedAt = -1;
  let openAtCrash = 0;
  const watch = () => {
    const d = r.cluster.transactions.describe('relay-0');
    const unstable = [0, 1].reduce((n, p) => {
      const leader = r.cluster.partition('out', p).leader!;
      const log = r.cluster.broker(leader).logOf('out', p)!;
      return n + (log.highWatermark - log.lastStableOffset);
    }, 0);
    if (
      d?.state === 'ongoing' &&
      unstable >= (seed === 1 ? 10 : 1) &&
      first.transactionState === 'committing'
    ) {
      crashedAt = r.sim.now;
      openAtCrash = unstable;
      r.net.crash('relay-a');
      r.sim.schedule(1_000, () => startRelay('relay-b', true));
      return;
    }
    r.sim.schedule(0.1, watch);
  };
  r.sim.scheduleAt(8_000 + (seed - 1) * 3_000, watch); // seeds move the crash, within the 20 s of input
  r.sim.run({ until: 90_000 });
  // Ground truth from the `out` logs: output records in aborted transactions.
  let abortedOutputs = 0;
  let committedOutputs = 0;
  for (const p of [0, 1]) {
    const leader = r.cluster.partition('out', p).leader!;
    const log = r.cluster.broker(leader).logOf('out', p)!;
    for (const rec of log.all()) {
      if (rec.control !== undefined) continue;
      if (log.isAborted(rec)) abortedOutputs++;
      else committedOutputs++;
    }
  }
  const inEnds = [0, 1].map((p) => r.cluster.committed('in', p)!.length);
  return {
    r,
    N,
    relays,
    processed,
    byInput,
    crashedAt,
    openAtCrash,
    abortedOutputs,
    committedOutputs,
    inEnds,
  };
}

describe('exactly-once consume-transform-produce', () => {
  it('a crash mid-transaction: read_committed sees every input exactly once, read_uncommitted sees the aborted duplicates', () => {
    const run = relayRun(1);
    const { r, N, byInput } = run;
    expect(run.crashedAt).toBeGreaterThan(0);
    expect(run.inEnds[0]! + run.inEnds[1]!).toBe(N);
    // read_committed: every input record's output exactly once.
    expect(byInput.rc.distinct).toBe(N);
    expect(byInput.rc.total).toBe(N);
    expect(byInput.rc.duplicates).toBe(0);
    expect(run.committedOutputs).toBe(N);
    // read_uncommitted: the aborted transaction's outputs are seen too, and were produced again.
    expect(run.abortedOutputs).toBeGreaterThanOrEqual(run.openAtCrash);
    expect(byInput.ru.distinct).toBe(N);
    expect(byInput.ru.duplicates).toBe(run.abortedOutputs);
    // The relay group's offsets, committed only with its transactions, reached the end of `in`.
    expect([0, 1].map((p) => r.gc.committed('relay', 'in', p))).toEqual(run.inEnds);
    expect(r.gc.pendingTransactionalOffsets('relay')).toEqual([]);
    // The records were processed more than once (at-least-once input), yet the output is exactly-once.
    expect(run.processed.duplicates).toBeGreaterThan(0);
    const stats = r.cluster.transactions.stats;
    expect(stats.fencedProducers).toBeGreaterThanOrEqual(1);
    expect(stats.aborted).toBeGreaterThanOrEqual(1);
  });

  it('holds across seeds: read_committed exactly once, read_uncommitted duplicates = outputs of aborted transactions', () => {
    const rows: Array<Record<string, number>> = [];
    for (const seed of [2, 3, 4]) {
      const run = relayRun(seed);
      expect(run.crashedAt).toBeGreaterThan(0);
      expect(run.byInput.rc.total).toBe(run.N);
      expect(run.byInput.rc.distinct).toBe(run.N);
      expect(run.byInput.ru.distinct).toBe(run.N);
      expect(run.byInput.ru.duplicates).toBe(run.abortedOutputs);
      expect(run.abortedOutputs).toBeGreaterThan(0);
      rows.push({
        seed,
        crashedAt: run.crashedAt,
        aborted: run.abortedOutputs,
        reprocessed: run.processed.duplicates,
      });
    }
  });
});
