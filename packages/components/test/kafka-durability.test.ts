import { describe, expect, it } from 'vitest';
import type { RecordFate } from '../src/messaging/kafka/producer/kafka-producer.js';
import { kafkaRig } from './kafka-support.js';

// C-T1: RF=3 {b1 = L, b2 = F1, b3 = F2}; the producer writes 1 record/ms to t-0 and the leader crashes
// for good at CRASH. Defaults: broker.session.timeout.ms 9000, replica.lag.time.max.ms 30000.

const CRASH = 60_000;

/** First ack of a record sent after the crash, minus the crash time (the produce outage). */
function outage(fates: readonly RecordFate[], crash = CRASH): number {
  const first = fates.find((f) => f.sentAt >= crash && f.status === 'acked');
  return first === undefined ? Infinity : first.settledAt - crash;
}

function ackedBefore(fates: readonly RecordFate[], t: number): number {
  return fates.filter((f) => f.status === 'acked' && f.settledAt <= t).length;
}

describe('C-T1: what a leader crash loses, by acks and ISR', () => {
  // A crash loses only what the leader appended while no follower fetch was parked there: the loss
  // depends on the crash's phase within the fetch cycle, so each case crashes at 10 phases.
  const phases = Array.from({ length: 10 }, (_, k) => 10_000 + k * 0.7);

  function crashAt(acks: 0 | 1, at: number) {
    // linger 0 (the pre-4.0 default): a batch per record, so appends arrive faster than a fetch cycle.
    const r = kafkaRig({ latency: 2, producer: { acks, linger: 0 } });
    r.load(0, at + 20_000, 1);
    r.sim.scheduleAt(at, () => r.net.crash('b1'));
    r.sim.run({ until: at + 150_000 });
    return { r, a: r.audit() };
  }

  it('acks=0: records not yet replicated are lost; a new leader comes from the ISR', () => {
    const lost = phases.map((at) => {
      const { r, a } = crashAt(0, at);
      expect(r.cluster.partition('t', 0).leader).toBe('b2');
      expect(a).toMatchObject({ inFlight: 0, failed: 0, duplicates: 0, committedButUnacked: 0 });
      return a.ackedAndLost;
    });
    expect(lost.some((n) => n > 0)).toBe(true);
    for (const n of lost) expect(n).toBeLessThanOrEqual(8);
  });

  it('acks=1, ISR {L,F1,F2}: loses what L acked but followers had not fetched (about one fetch RTT of writes)', () => {
    const lost = phases.map((at) => {
      const { r, a } = crashAt(1, at);
      expect(r.cluster.partition('t', 0).leader).toBe('b2');
      // Without idempotence (off with acks=1) a batch in flight at the crash is retried: duplicates.
      expect(a.duplicates).toBeLessThanOrEqual(30);
      expect(outage(r.producer.fates(), at)).toBeLessThan(12_000);
      return a.ackedAndLost;
    });
    expect(lost.some((n) => n > 0)).toBe(true);
    // One fetch round trip (4 ms) plus the ack's trip (2 ms) at 1 record/ms.
    for (const n of lost) expect(n).toBeLessThanOrEqual(8);
  });

  it('acks=all, min.insync=1, ISR {L,F1,F2}: nothing lost, available after about the session timeout', () => {
    const r = kafkaRig({ latency: 2 });
    r.load(0, CRASH + 20_000, 1);
    r.sim.scheduleAt(CRASH, () => r.net.crash('b1'));
    r.sim.run({ until: CRASH + 200_000 });
    const a = r.audit();
    const fates = r.producer.fates();
    expect(ackedBefore(fates, CRASH)).toBeGreaterThan(59_000);
    expect(a).toMatchObject({ ackedAndLost: 0, ackedUnavailable: 0, duplicates: 0, inFlight: 0, failed: 0 });
    const down = outage(fates);
    expect(down).toBeGreaterThan(7_000 - 1); // session timeout 9 s after the last heartbeat (<= 2 s before)
    expect(down).toBeLessThan(11_000);
  });

  for (const unclean of [false, true]) {
    it(`acks=all, min.insync=1, ISR {L} (followers cut off > lag time), unclean=${unclean}`, () => {
      const r = kafkaRig({ latency: 2, cluster: { uncleanLeaderElection: unclean } });
      r.load(0, CRASH + 20_000, 1);
      r.sim.scheduleAt(1_000, () => r.net.partition(['b1'], ['b2', 'b3']));
      r.sim.scheduleAt(CRASH, () => r.net.crash('b1'));
      r.sim.run({ until: CRASH + 200_000 });
      const a = r.audit();
      const fates = r.producer.fates();
      const acked = ackedBefore(fates, CRASH);
      expect(acked).toBeGreaterThan(50_000);
      if (!unclean) {
        // No ISR member alive: offline; the acked records since the shrink wait on b1's disk.
        expect(r.cluster.partition('t', 0).leader).toBeNull();
        expect(a.offlinePartitions).toEqual(['t-0']);
        expect(a.ackedUnavailable).toBe(a.acked);
        expect(outage(fates)).toBe(Infinity);
      } else {
        expect(r.cluster.partition('t', 0).leader).toBe('b2');
        // Everything acked after the followers were cut off (at 1 s) is gone.
        const lost = fates.filter(
          (f) => f.status === 'acked' && f.sentAt >= 1_000 && f.settledAt < CRASH,
        ).length;
        expect(a.ackedAndLost).toBeGreaterThanOrEqual(lost);
        expect(a.ackedAndLost).toBeGreaterThan(20_000);
        expect(outage(fates)).toBeLessThan(12_000);
      }
    });
  }

  it('acks=all, min.insync=2, ISR {L,F1}: nothing lost; writes rejected until ISR >= 2 again', () => {
    const r = kafkaRig({ latency: 2, cluster: { minInsyncReplicas: 2 } });
    r.load(0, CRASH + 20_000, 1);
    r.sim.scheduleAt(1_000, () => r.net.partition(['b1'], ['b3']));
    r.sim.scheduleAt(CRASH, () => r.net.crash('b1'));
    let isrAtCrash: readonly string[] = [];
    r.sim.scheduleAt(CRASH - 1, () => {
      isrAtCrash = r.cluster.partition('t', 0).isr;
    });
    r.sim.run({ until: CRASH + 200_000 });
    const a = r.audit();
    expect(isrAtCrash).toEqual(['b1', 'b2']);
    expect(a).toMatchObject({ ackedAndLost: 0, duplicates: 0, inFlight: 0 });
    expect(r.cluster.partition('t', 0).isr).toEqual(['b2', 'b3']);
    // Failover (~session timeout); b3 catches up with b2 and rejoins within milliseconds here.
    expect(outage(r.producer.fates())).toBeLessThan(20_000);
  });

  it('acks=all, min.insync=2, ISR {L}: writes are rejected with NotEnoughReplicas; nothing acked is at risk', () => {
    // Requests in purgatory when the ISR shrank wait out request.timeout.ms (the HW cannot advance under
    // min ISR), so NotEnoughReplicas shows once they are retried: crash later than the other rows.
    const crash = 90_000;
    const r = kafkaRig({ latency: 2, cluster: { minInsyncReplicas: 2 } });
    r.load(0, crash + 20_000, 1);
    r.sim.scheduleAt(1_000, () => r.net.partition(['b1'], ['b2', 'b3']));
    r.sim.scheduleAt(crash, () => r.net.crash('b1'));
    r.sim.run({ until: crash + 200_000 });
    const a = r.audit();
    const fates = r.producer.fates();
    expect(r.cluster.broker('b1').stats.errors['not-enough-replicas']).toBeGreaterThan(0);
    // Only what was acked before the cut-off (replicated to all) was acknowledged.
    expect(fates.filter((f) => f.status === 'acked' && f.sentAt >= 1_000).length).toBe(0);
    expect(a.acked).toBeGreaterThan(900);
    expect(a.ackedAndLost).toBe(0);
    expect(a.ackedUnavailable).toBe(a.acked); // b1, the last ISR member, is down: offline
    expect(a.failed).toBe(a.produced - a.acked);
    expect(r.producer.stats.failedBy['delivery-timeout']).toBe(a.failed);
  });

  it('unclean=true, all ISR dead, out-of-sync F2 returns first: committed data beyond its LEO is lost', () => {
    const r = kafkaRig({ latency: 2, cluster: { uncleanLeaderElection: true } });
    r.load(0, 40_000, 1);
    r.sim.scheduleAt(1_000, () => r.net.crash('b3'));
    r.sim.scheduleAt(20_000, () => {
      r.net.crash('b1');
      r.net.crash('b2');
    });
    r.sim.scheduleAt(30_000, () => r.net.restart('b3'));
    r.sim.scheduleAt(45_000, () => {
      r.net.restart('b1');
      r.net.restart('b2');
    });
    r.sim.run({ until: 200_000 });
    const a = r.audit();
    const fates = r.producer.fates();
    const b3End = r.cluster.broker('b3').logOf('t', 0)!;
    expect(r.cluster.partition('t', 0).leader).toBe('b3');
    const ackedWhileB3Down = fates.filter(
      (f) => f.status === 'acked' && f.sentAt > 1_010 && f.sentAt < 20_000,
    ).length;
    expect(ackedWhileB3Down).toBeGreaterThan(15_000);
    expect(a.ackedAndLost).toBeGreaterThanOrEqual(ackedWhileB3Down);
    // The returning replicas truncated to the unclean leader: every log agrees now.
    for (const b of ['b1', 'b2']) expect(r.cluster.broker(b).logOf('t', 0)!.all()).toEqual(b3End.all());
    expect(r.cluster.broker('b1').stats.truncatedRecords).toBeGreaterThan(15_000);
  });
});
