import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { KafkaCluster } from '../src/messaging/kafka/cluster/kafka-cluster.js';
import { ReplicaLog } from '../src/messaging/kafka/cluster/replica-log.js';
import { kafkaRig } from './kafka-support.js';

describe('KafkaCluster: replication', () => {
  it('replicates to every ISR member; consumers see only records below the HW', () => {
    const r = kafkaRig({ latency: 1 });
    r.load(0, 1_000, 2);
    r.sim.run({ until: 5_000 });
    for (const b of ['b1', 'b2', 'b3']) expect(r.cluster.broker(b).logOf('t', 0)!.logEndOffset).toBe(500);
    expect(r.cluster.read('t', 0, 0, 1_000)).toHaveLength(500);
    expect(r.audit()).toMatchObject({ acked: 500, ackedAndLost: 0, duplicates: 0 });
    // Cut both followers off: the leader appends (acks=1 would ack) but the HW stays put.
    const r2 = kafkaRig({ latency: 1, producer: { acks: 1 } });
    r2.load(0, 2_000, 2);
    r2.sim.scheduleAt(1_000, () => r2.net.partition(['b1'], ['b2', 'b3']));
    r2.sim.run({ until: 1_900 });
    const leader = r2.cluster.broker('b1').logOf('t', 0)!;
    expect(leader.logEndOffset).toBeGreaterThan(leader.highWatermark + 400);
    expect(r2.cluster.read('t', 0, 0, 10_000)).toHaveLength(leader.highWatermark);
  });

  it('every partition replicates from the start, whichever broker is built first', () => {
    // Partition 1 is led by b2, which is built after its follower b1: b1's first fetch must not be lost.
    const r = kafkaRig({ partitions: 3 });
    const firstAck: number[] = [];
    for (const p of [0, 1, 2])
      r.sim.scheduleAt(10, () =>
        r.producer.send({ topic: 't', partition: p, size: 100 }).onProcessed((e) => {
          if (e.value!.ok) firstAck[p] = r.sim.now;
        }),
      );
    r.sim.run({ until: 1_000 });
    for (const p of [0, 1, 2]) expect(firstAck[p]).toBeLessThan(100);
  });

  it('the follower HW lags the leader HW by a fetch round trip', () => {
    const r = kafkaRig({ latency: 5 });
    r.sim.scheduleAt(100, () => r.producer.send({ topic: 't', partition: 0 }));
    const seen: Array<[number, number]> = [];
    for (let t = 100; t < 1_000; t += 1)
      r.sim.scheduleAt(t, () =>
        seen.push([
          r.cluster.broker('b1').logOf('t', 0)!.highWatermark,
          r.cluster.broker('b2').logOf('t', 0)!.highWatermark,
        ]),
      );
    r.sim.run({ until: 1_000 });
    const leaderAt = seen.findIndex(([l]) => l === 1);
    const followerAt = seen.findIndex(([, f]) => f === 1);
    expect(leaderAt).toBeGreaterThan(0);
    expect(followerAt - leaderAt).toBeGreaterThanOrEqual(5); // the next fetch response carries it
  });

  it('a follower that stops fetching leaves the ISR after replica.lag.time.max.ms (+ up to one check interval) and rejoins', () => {
    const r = kafkaRig({ latency: 1 });
    r.load(0, 120_000, 10);
    let shrunkAt = -1;
    let rejoinedAt = -1;
    r.sim.inspect((rec) => {
      if (rec.type === '@dsim.kafka.isr-shrink' && shrunkAt < 0) shrunkAt = rec.t;
      if (rec.type === '@dsim.kafka.isr-expand' && rejoinedAt < 0) rejoinedAt = rec.t;
    });
    // b3 cut off from the leader only: it keeps its controller session, so only the leader's lag check removes it.
    r.sim.scheduleAt(10_000, () => r.net.partition(['b1'], ['b3']));
    r.sim.scheduleAt(80_000, () => r.net.heal());
    r.sim.run({ until: 125_000 });
    const lag = shrunkAt - 10_000;
    expect(lag).toBeGreaterThanOrEqual(30_000);
    expect(lag).toBeLessThanOrEqual(30_000 + 15_000 + 10);
    expect(rejoinedAt).toBeGreaterThan(80_000);
    // b3's fetch lost in the partition times out after replica.socket.timeout.ms (30 s), then it catches up.
    expect(rejoinedAt).toBeLessThan(80_000 + 30_000 + 1_000 + 100);
    expect(r.cluster.partition('t', 0).isr).toEqual(['b1', 'b2', 'b3']);
  });

  it('failover takes about broker.session.timeout.ms; the new leader bumps the epoch (clean election)', () => {
    const r = kafkaRig({ latency: 1 });
    r.load(0, 40_000, 10);
    const elected: Array<Record<string, unknown>> = [];
    r.sim.inspect((rec) => {
      if (rec.type === '@dsim.kafka.leader-elected') elected.push({ ...rec });
    });
    r.sim.scheduleAt(20_000, () => r.net.crash('b1'));
    r.sim.run({ until: 60_000 });
    expect(elected).toHaveLength(1);
    const e = elected[0]!;
    expect(e).toMatchObject({ leader: 'b2', epoch: 1, clean: true });
    const failover = (e.t as number) - 20_000;
    expect(failover).toBeGreaterThan(9_000 - 2_000);
    expect(failover).toBeLessThanOrEqual(9_000);
    expect(
      r.cluster
        .broker('b2')
        .logOf('t', 0)!
        .epochCache.map((x) => x.epoch),
    ).toEqual([0, 1]);
  });

  it('the HW is never ahead of the LEO of any ISR member (checked at every step of a faulty run)', () => {
    for (const seed of [1, 2, 3]) {
      const r = kafkaRig({
        seed,
        latency: 1,
        partitions: 3,
        cluster: { minInsyncReplicas: 2, replicaLagTimeMax: 5_000 },
      });
      for (let t = 0; t < 60_000; t += 3)
        r.sim.scheduleAt(t, () => r.producer.send({ topic: 't', size: 200 }));
      const rng = r.sim.rng('faults');
      const brokers = ['b1', 'b2', 'b3'];
      for (let t = 2_000; t < 50_000; t += 4_000) {
        const b = brokers[Math.floor(rng.next() * 3)]!;
        const kind = rng.next();
        r.sim.scheduleAt(t, () => {
          if (r.net.node(b).state !== 'up') return;
          if (kind < 0.4) {
            r.net.crash(b);
            r.sim.schedule(3_000 + rng.next() * 8_000, () => r.net.restart(b));
          } else if (kind < 0.7) {
            const h = r.net.partition(
              [b],
              brokers.filter((x) => x !== b),
            );
            r.sim.schedule(2_000 + rng.next() * 10_000, () => h.heal());
          } else {
            r.net.pause(b);
            r.sim.schedule(1_000 + rng.next() * 5_000, () => r.net.resume(b));
          }
        });
      }
      const violations: string[] = [];
      r.sim.watch(1, () => {
        if (violations.length === 0) violations.push(...r.cluster.checkHighWatermarks());
      });
      r.sim.run({ until: 200_000 });
      expect(violations).toEqual([]);
      const a = r.audit();
      expect(a).toMatchObject({ ackedAndLost: 0, duplicates: 0, inFlight: 0 });
    }
  });

  it("'high-watermark' truncation reproduces KIP-101's loss; 'leader-epoch' does not", () => {
    // KIP-101 scenario 1: b2 has the last record but its HW lags; it restarts (truncating to its HW under
    // the old rule), then the leader dies and b2 becomes leader without that acknowledged record.
    const run = (truncation: 'leader-epoch' | 'high-watermark') => {
      const r = kafkaRig({ latency: 5, cluster: { truncation } });
      r.net.crash('b3');
      r.sim.scheduleAt(10_000, () => r.producer.send({ topic: 't', partition: 0 }));
      r.sim.scheduleAt(15_000, () => r.producer.send({ topic: 't', partition: 0 }));
      // b2 fetched record 2 and the leader acked it, but b2 learns HW=2 only in its next fetch response.
      r.sim.scheduleAt(15_016, () => {
        r.net.crash('b2');
        r.net.restart('b2');
      });
      r.sim.scheduleAt(15_021, () => r.net.crash('b1'));
      r.sim.run({ until: 60_000 });
      return { r, a: r.audit() };
    };
    const old = run('high-watermark');
    const modern = run('leader-epoch');
    expect(old.r.cluster.partition('t', 0).leader).toBe('b2');
    expect(old.a.acked).toBe(2);
    expect(old.a.ackedAndLost).toBe(1);
    expect(modern.a.acked).toBe(2);
    expect(modern.a.ackedAndLost).toBe(0);
  });
});

describe('ReplicaLog', () => {
  it('answers OffsetsForLeaderEpoch from its epoch cache and rebuilds producer state on truncation', () => {
    const log = new ReplicaLog(1 << 30);
    const batch = (seq: number, n: number) => ({
      producerId: 7,
      producerEpoch: 0,
      baseSequence: seq,
      records: Array.from({ length: n }, (_, i) => ({ recordId: `p#${seq + i}`, key: null, size: 10 })),
    });
    log.assignEpoch(0, 0);
    log.appendAsLeader(batch(0, 3), 0, 0);
    log.assignEpoch(2, 3);
    log.appendAsLeader(batch(3, 2), 2, 1);
    expect(log.endOffsetFor(0)).toEqual({ epoch: 0, endOffset: 3 });
    expect(log.endOffsetFor(1)).toEqual({ epoch: 0, endOffset: 3 });
    expect(log.endOffsetFor(2)).toEqual({ epoch: 2, endOffset: 5 });
    expect(log.checkSequence(batch(3, 2))).toEqual({ kind: 'duplicate', baseOffset: 3 });
    expect(log.checkSequence(batch(6, 1)).kind).toBe('out-of-order-sequence');
    log.truncateTo(3);
    expect(log.latestEpoch).toBe(0);
    expect(log.checkSequence(batch(3, 2)).kind).toBe('append');
  });

  it('deletes whole old segments by time and by size, never above the HW', () => {
    const log = new ReplicaLog(100);
    log.assignEpoch(0, 0);
    for (let i = 0; i < 20; i++)
      log.appendAsLeader(
        {
          producerId: -1,
          producerEpoch: -1,
          baseSequence: -1,
          records: [{ recordId: `r${i}`, key: null, size: 50 }],
        },
        0,
        i * 1_000,
      );
    expect(log.segmentCount).toBe(10);
    expect(log.applyRetention(100_000, { retentionMs: 5_000, retentionBytes: -1 })).toBe(0); // HW is 0
    log.highWatermark = 20;
    // Segments hold 2 records; the first 5 have their newest record older than 10.5 s at t = 20 s.
    expect(log.applyRetention(20_000, { retentionMs: 10_500, retentionBytes: -1 })).toBe(10);
    expect(log.logStartOffset).toBe(10);
    expect(log.applyRetention(20_000, { retentionMs: Infinity, retentionBytes: 300 })).toBe(4);
    expect(log.size).toBe(300);
  });
});

describe('KafkaCluster: options', () => {
  it('rejects unknown options and bad values with the Kafka-named field', () => {
    const r = kafkaRig();
    expect(
      thrown(() => new KafkaCluster(r.net, { brokers: ['x'], topics: [], minInsyncReplica: 2 } as never))
        .message,
    ).toContain('did you mean "minInsyncReplicas"');
    expect(
      thrown(() => new KafkaCluster(r.net, { brokers: ['x'], topics: [{ name: 'a', replicationFactor: 2 }] }))
        .message,
    ).toContain('topics[0].replicationFactor');
    expect(
      thrown(() => new KafkaCluster(r.net, { brokers: ['x'], topics: [], truncation: 'hw' as never }))
        .message,
    ).toContain('truncation');
  });
});
