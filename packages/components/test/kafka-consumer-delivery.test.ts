import { Network, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { clusterRecordSource } from '../src/messaging/kafka/consumer/cluster-record-source.js';
import type { ManualCommit } from '../src/messaging/kafka/consumer/consumer-options.js';
import { consumerRig } from './kafka-consumer-support.js';
import { kafkaRig } from './kafka-support.js';

/** c1 owns the single partition, c2 idles; c1 crashes mid-batch at 20.05 s; c2 takes over. */
function crashMidBatch(manualCommit: ManualCommit) {
  const r = consumerRig({ partitions: 1 });
  const opts = {
    enableAutoCommit: false,
    manualCommit,
    autoOffsetReset: 'earliest' as const,
    processingTime: 10,
    maxPollRecords: 100,
  };
  r.add('c1', opts);
  r.add('c2', opts);
  r.sim.scheduleAt(0, () => r.memory!.append('t', 0, 5_000));
  let atCrash = { processed: 0, committed: 0 };
  r.sim.scheduleAt(20_055, () => {
    atCrash = { processed: r.tally.distinct, committed: r.coordinator.committed('g', 't', 0)! };
    r.net.crash('c1');
  });
  r.sim.run({ until: 200_000 });
  expect(r.consumers.get('c2')!.assignment()).toEqual(['tp0']);
  return {
    r,
    atCrash,
    duplicates: r.tally.duplicated('t', 0, 5_000),
    missing: r.tally.missing('t', 0, 5_000),
  };
}

describe('delivery semantics on a consumer crash', () => {
  it('commit after processing (at-least-once): exactly the processed-but-uncommitted records are duplicated', () => {
    const { atCrash, duplicates, missing } = crashMidBatch('after-processing');
    expect(atCrash.processed - atCrash.committed).toBeGreaterThan(0);
    expect(duplicates.length).toBe(atCrash.processed - atCrash.committed);
    expect(duplicates[0]).toBe(atCrash.committed);
    expect(missing).toEqual([]);
  });
  it('commitAsync after processing (at-least-once): nothing lost, duplicates = processed but not yet committed at the crash', () => {
    const { atCrash, duplicates, missing } = crashMidBatch('after-processing-async');
    expect(missing).toEqual([]);
    expect(duplicates.length).toBe(atCrash.processed - atCrash.committed);
    expect(duplicates.length).toBeGreaterThan(0);
  });
  it('commitAsync does not wait for the coordinator: the same records are processed sooner than with commitSync', () => {
    const finish = (mode: ManualCommit) => {
      const sim = new Simulation({ seed: 1 });
      const r = consumerRig({ partitions: 1, sim, net: new Network(sim, { defaults: { latency: 20 } }) });
      r.add('c1', {
        enableAutoCommit: false,
        manualCommit: mode,
        autoOffsetReset: 'earliest',
        maxPollRecords: 10,
      });
      r.sim.scheduleAt(0, () => r.memory!.append('t', 0, 1_000));
      let doneAt = -1;
      r.sim.watch(10, () => {
        if (doneAt < 0 && r.tally.distinct === 1_000) doneAt = r.sim.now;
      });
      r.sim.run({ until: 120_000 });
      return doneAt;
    };
    const sync = finish('after-processing');
    const async = finish('after-processing-async');
    expect(async).toBeGreaterThan(0);
    expect(async).toBeLessThan(sync);
  });
  it('commit before processing (at-most-once): exactly the committed-but-unprocessed records are lost', () => {
    const { atCrash, duplicates, missing } = crashMidBatch('before-processing');
    expect(atCrash.committed - atCrash.processed).toBeGreaterThan(0);
    expect(missing.length).toBe(atCrash.committed - atCrash.processed);
    expect(missing[0]).toBe(atCrash.processed);
    expect(duplicates).toEqual([]);
  });
});

describe('max.poll.interval.ms', () => {
  it('processing slower than the interval makes the member leave; the group rebalances and its commit fails', () => {
    const r = consumerRig({ partitions: 2 });
    // c1's batches of 200 take 20 s > maxPollInterval 10 s; c2 is fast.
    r.add('c1', {
      maxPollInterval: 10_000,
      processingTime: 100,
      maxPollRecords: 200,
      enableAutoCommit: false,
      autoOffsetReset: 'earliest',
    });
    r.add('c2', {
      maxPollInterval: 10_000,
      processingTime: 1,
      maxPollRecords: 200,
      enableAutoCommit: false,
      autoOffsetReset: 'earliest',
    });
    r.sim.scheduleAt(0, () => {
      r.memory!.append('t', 0, 1_000);
      r.memory!.append('t', 1, 1_000);
    });
    r.sim.run({ until: 40_000 });
    const c1 = r.consumers.get('c1')!.stats;
    expect(c1.pollTimeouts).toBeGreaterThanOrEqual(1);
    expect(c1.commitFailures).toBeGreaterThanOrEqual(1);
    const reasons = r.coordinator.rebalances('g').map((x) => x.reason);
    expect(reasons.some((x) => /left \(consumer poll timeout has expired\)/.test(x))).toBe(true);
    // c2 took tp0 over from the last commit while c1 was still processing: duplicates.
    expect(r.tally.duplicates).toBeGreaterThan(0);
  });
});

describe('lag', () => {
  it('grows at lambda - mu when consumption is slower than production', () => {
    const r = consumerRig({ partitions: 1 });
    // lambda = 100/s (one record every 10 ms), mu = 50/s (20 ms each); auto-commit every 5 s.
    r.add('c1', { processingTime: 20, maxPollRecords: 50, autoOffsetReset: 'earliest' });
    r.produce(0, 300_000, 10);
    const samples: Array<[number, number]> = [];
    for (let t = 50_000; t <= 250_000; t += 1_000)
      r.sim.scheduleAt(t, () => samples.push([t, r.monitor.lag('t', 0)]));
    r.sim.run({ until: 250_001 });
    const slope = leastSquares(samples) * 1_000; // records/s
    // The committed offset trails the position by up to one auto-commit interval plus a batch (6 s x 50/s = 300
    // records); over a 200 s window that bounds the slope error by 1.5/s.
    expect(Math.abs(slope - 50)).toBeLessThan(1.5);
  });

  it('after a burst drains in lag / (mu - lambda), the fluid model', () => {
    const r = consumerRig({ partitions: 1 });
    // lambda = 50/s, mu = 100/s (10 ms each), commit after each batch of 50 (0.5 s).
    r.add('c1', {
      processingTime: 10,
      maxPollRecords: 50,
      enableAutoCommit: false,
      autoOffsetReset: 'earliest',
    });
    r.produce(0, 300_000, 20);
    r.sim.scheduleAt(30_000, () => r.memory!.append('t', 0, 3_000));
    let drainedAt = -1;
    let peak = 0;
    for (let t = 30_000; t <= 200_000; t += 100)
      r.sim.scheduleAt(t + 0.01, () => {
        const lag = r.monitor.lag('t', 0);
        peak = Math.max(peak, lag);
        if (drainedAt < 0 && t > 31_000 && lag <= 100) drainedAt = t;
      });
    r.sim.run({ until: 200_000 });
    // Fluid model: from the peak L0 to 100 at (mu - lambda) = 50/s.
    const predicted = ((peak - 100) / 50) * 1_000;
    const measured = drainedAt - 30_000;
    // Tolerance: one batch (0.5 s) of commit granularity plus the 0.1 s sampling.
    expect(Math.abs(measured - predicted)).toBeLessThan(700);
  });

  it('consumers beyond the partition count stay idle', () => {
    const r = consumerRig({ partitions: 3 });
    for (const a of ['c1', 'c2', 'c3', 'c4', 'c5'])
      r.add(a, { autoOffsetReset: 'earliest', processingTime: 1 });
    r.produce(0, 30_000, 10);
    r.sim.run({ until: 30_000 });
    const a = r.assignments();
    expect(Object.values(a).filter((x) => x.length === 0)).toHaveLength(2);
    expect(r.consumers.get('c4')!.stats.processed + r.consumers.get('c5')!.stats.processed).toBe(0);
    expect(a.c4).toEqual([]);
    expect(a.c5).toEqual([]);
  });
});

describe('over a KafkaCluster (RPC fetches from partition leaders)', () => {
  it('consumes every acknowledged record exactly once, only below the high watermark', () => {
    const k = kafkaRig({ partitions: 3 });
    const rig = consumerRig({ sim: k.sim, net: k.net, source: clusterRecordSource(k.cluster) });
    for (const a of ['c1', 'c2']) rig.add(a, { autoOffsetReset: 'earliest', processingTime: 1 });
    for (let t = 100; t < 10_000; t += 10)
      k.sim.scheduleAt(t, () =>
        k.producer.send({ topic: 't', partition: Math.floor(t / 10) % 3, size: 100 }),
      );
    let violations = 0;
    k.sim.run({ until: 30_000 });
    for (let p = 0; p < 3; p++) {
      const hw = rig.source.highWatermark('t', p);
      expect(rig.tally.missing('t', p, hw)).toEqual([]);
      expect(rig.tally.duplicated('t', p, hw)).toEqual([]);
      for (let o = hw; o < hw + 10; o++) if (rig.tally.count('t', p, o) > 0) violations++;
    }
    expect(violations).toBe(0);
    expect(rig.tally.distinct).toBe(k.producer.stats.acked);
  });
});

function leastSquares(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  let sx = 0;
  let sy = 0;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
    sxy += x * y;
    sxx += x * x;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}
