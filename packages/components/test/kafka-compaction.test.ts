import { Network, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import type { KafkaTopicSpec } from '../src/messaging/kafka/cluster/config.js';
import { KafkaCluster } from '../src/messaging/kafka/cluster/kafka-cluster.js';
import type { LogRecord } from '../src/messaging/kafka/cluster/types.js';
import { clusterRecordSource } from '../src/messaging/kafka/consumer/cluster-record-source.js';
import { GroupCoordinator } from '../src/messaging/kafka/consumer/group-coordinator.js';
import { KafkaConsumer } from '../src/messaging/kafka/consumer/kafka-consumer.js';
import { KafkaProducer, type ProduceOutcome } from '../src/messaging/kafka/producer/kafka-producer.js';

/** 3 brokers, a compacted topic `kv` (segments of 10 records of 100 B), a producer on `app`. */
function compactRig(topic: Partial<KafkaTopicSpec> = {}) {
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim, { defaults: { latency: 0.5 } });
  const cluster = new KafkaCluster(net, {
    brokers: ['b1', 'b2', 'b3'],
    topics: [
      { name: 'kv', cleanupPolicy: 'compact', segmentBytes: 1_000, deleteRetention: 300_000, ...topic },
    ],
  });
  const producer = new KafkaProducer(net.addNode('app'), { bootstrap: cluster.brokerIds, linger: 0 });
  /** Latest acknowledged offset and value per key. */
  const latest = new Map<string, { offset: number; value: string; tombstone: boolean }>();
  const put = (at: number, key: string, value: string | null) =>
    sim.scheduleAt(at, () =>
      producer
        .send({ topic: 'kv', key, ...(value === null ? { tombstone: true } : { value }) })
        .onProcessed((ev) => {
          const o = ev.value as ProduceOutcome;
          if (o.ok) {
            const prev = latest.get(key);
            if (prev === undefined || prev.offset < o.offset)
              latest.set(key, { offset: o.offset, value: value ?? '', tombstone: value === null });
          }
        }),
    );
  const log = (broker = 'b1') => cluster.broker(broker).logOf('kv', 0)!;
  return { sim, net, cluster, producer, latest, put, log };
}

/** 20 keys x 10 rounds, then tombstones for k0..k4, then 25 filler keys that close the segments. */
function writeHistory(r: ReturnType<typeof compactRig>, from: number) {
  let t = from;
  for (let round = 0; round < 10; round++)
    for (let k = 0; k < 20; k++) r.put((t += 10), `k${k}`, `v${round}`);
  for (let k = 0; k < 5; k++) r.put((t += 10), `k${k}`, null);
  for (let f = 0; f < 25; f++) r.put((t += 10), `f${f}`, `x${f}`);
  return t;
}

const data = (records: readonly LogRecord[]) => records.filter((x) => x.control === undefined);

describe('log compaction (cleanup.policy=compact)', () => {
  it('keeps the latest record per key below the active segment, with its original offset; tombstones go after delete.retention.ms', () => {
    const r = compactRig();
    const end = writeHistory(r, 1_000);
    let afterFirst: LogRecord[] = [];
    let dirtyCheck = { before: -1, after: -1, recordsBefore: -1, recordsAfter: -1 };
    r.sim.scheduleAt(40_000, () => {
      afterFirst = r.log().all();
      dirtyCheck = { ...dirtyCheck, before: r.log().firstDirtyOffset, recordsBefore: r.log().recordCount };
    });
    // A little dirty data (10 updates: 10 / (45 + 10) < 0.5): not cleaned.
    for (let k = 5; k < 15; k++) r.put(50_000 + k * 10, `k${k}`, 'w');
    for (let f = 25; f < 35; f++) r.put(50_500 + f * 10, `f${f}`, 'y');
    r.sim.scheduleAt(100_000, () => {
      dirtyCheck = { ...dirtyCheck, after: r.log().firstDirtyOffset, recordsAfter: r.log().recordCount };
    });
    // After delete.retention.ms (300 s from the first cleaning), enough dirty data to clean again.
    for (let round = 0; round < 5; round++)
      for (let k = 5; k < 20; k++) r.put(400_000 + round * 200 + k * 10, `k${k}`, `u${round}`);
    for (let f = 35; f < 60; f++) r.put(402_000 + f * 10, `f${f}`, 'z');
    r.sim.run({ until: 460_000 });
    expect(end).toBeLessThan(5_000);

    // First cleaning: one record per key below the active segment, at its original offset.
    const first = data(afterFirst);
    const keys = first.map((x) => x.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(45); // 15 live keys, 5 tombstones, 25 fillers
    const tombstones = first.filter((x) => x.tombstone === true);
    expect(tombstones.map((x) => x.key).sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(tombstones.every((x) => x.deleteHorizonMs !== undefined)).toBe(true);
    for (let k = 5; k < 20; k++) {
      const rec = first.find((x) => x.key === `k${k}`)!;
      expect(rec.value).toBe('v9');
    }
    // Offsets are kept: gaps where records were removed.
    expect(first[first.length - 1]!.offset).toBe(229);
    expect(first[0]!.offset).toBeGreaterThan(0);
    // min.cleanable.dirty.ratio: the small update left the checkpoint where it was.
    expect(dirtyCheck.after).toBe(dirtyCheck.before);
    expect(dirtyCheck.recordsAfter).toBe(dirtyCheck.recordsBefore + 20);

    // Later: tombstoned keys are gone, every live key once with its latest value and offset.
    const final = data(r.cluster.read('kv', 0, 0, 1e9));
    const finalKeys = final.map((x) => x.key!);
    const activeBase = r.log().segmentList().at(-1)!.baseOffset;
    const belowActive = final.filter((x) => x.offset < activeBase);
    expect(new Set(belowActive.map((x) => x.key)).size).toBe(belowActive.length);
    expect(finalKeys.filter((k) => /^k[0-4]$/.test(k))).toEqual([]);
    for (const [key, want] of r.latest) {
      if (want.tombstone) continue;
      const got = final.filter((x) => x.key === key);
      expect(got.at(-1)?.offset).toBe(want.offset);
      expect(got.at(-1)?.value).toBe(want.value);
    }
    // Every replica cleaned its own log to the same records (same offsets).
    const offsets = (b: string) =>
      r
        .log(b)
        .all()
        .map((x) => x.offset);
    expect(offsets('b2')).toEqual(offsets('b1'));
    expect(offsets('b3')).toEqual(offsets('b1'));
    expect(r.cluster.broker('b1').stats.cleanedRecords).toBe(offsets('b1').length === 75 ? 275 : -1);
  });

  it('a consumer reading from offset 0 after compaction gets one record per key, the latest', () => {
    const r = compactRig();
    writeHistory(r, 1_000);
    const source = clusterRecordSource(r.cluster);
    const gc = new GroupCoordinator(r.net.addNode('gc'));
    const seen: LogRecord[] = [];
    r.sim.scheduleAt(40_000, () => {
      new KafkaConsumer(r.net.addNode('reader'), {
        groupId: 'reader',
        topics: ['kv'],
        coordinator: 'gc',
        source,
        autoOffsetReset: 'earliest',
        onRecord: (rec) => seen.push(rec),
      });
    });
    r.sim.run({ until: 60_000 });
    expect(gc.committed('reader', 'kv', 0)).toBe(230);
    const live = seen.filter((x) => x.tombstone !== true);
    expect(new Set(live.map((x) => x.key)).size).toBe(live.length);
    expect(live.length).toBe(40); // 15 keys + 25 fillers
    for (const x of live) {
      expect(x.offset).toBe(r.latest.get(x.key!)!.offset);
      expect(x.value).toBe(r.latest.get(x.key!)!.value);
    }
    // Positions jump over the gaps: the consumer's position is the log end.
    expect(seen.length).toBe(45);
  });

  it('min.compaction.lag.ms keeps recent records uncompacted; delete topics are never compacted; keyless records are refused', () => {
    const lag = compactRig({ minCompactionLag: 120_000 });
    writeHistory(lag, 1_000);
    let at60 = -1;
    lag.sim.scheduleAt(60_000, () => (at60 = lag.log().recordCount));
    let keyless: ProduceOutcome | null = null;
    lag.sim.scheduleAt(61_000, () =>
      lag.producer
        .send({ topic: 'kv', size: 100 })
        .onProcessed((ev) => (keyless = ev.value as ProduceOutcome)),
    );
    lag.sim.run({ until: 150_000 });
    expect(at60).toBe(230); // nothing cleaned while younger than 120 s
    expect(lag.log().recordCount).toBeLessThan(100); // cleaned once old enough
    expect(keyless).toMatchObject({ ok: false, error: 'invalid-record' });

    const plain = compactRig({ cleanupPolicy: 'delete' });
    writeHistory(plain, 1_000);
    plain.sim.run({ until: 60_000 });
    expect(plain.log().recordCount).toBe(230);
    expect(plain.cluster.config.topics.get('kv')!.deleteRetentionMs).toBe(300_000);
    const defaults = new KafkaCluster(new Network(new Simulation({ seed: 1 })), {
      brokers: ['b1'],
      topics: [{ name: 'kv' }],
    });
    expect(defaults.config.topics.get('kv')).toMatchObject({
      cleanupPolicy: 'delete',
      deleteRetentionMs: 86_400_000,
      minCleanableDirtyRatio: 0.5,
      minCompactionLagMs: 0,
    });
    expect(defaults.config.logCleanerBackoffMs).toBe(15_000);
  });
});
