import { exponential } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { rangeAssign } from '../src/messaging/kafka/assignors/range.js';
import { formatAssignment, formatTp } from '../src/messaging/kafka/assignors/types.js';
import { GroupCoordinator } from '../src/messaging/kafka/consumer/group-coordinator.js';
import { KafkaConsumer } from '../src/messaging/kafka/consumer/kafka-consumer.js';
import { consumerRig } from './kafka-consumer-support.js';

const members = (r: ReturnType<typeof consumerRig>) =>
  Object.fromEntries([...r.coordinator.describe('g')!.members].map(([id, list]) => [id, list.map(formatTp)]));

describe('KafkaConsumer group (classic, range)', () => {
  it('assigns partitions exactly as the range assignor, after the initial rebalance delay', () => {
    const r = consumerRig({ partitions: 7 });
    for (const a of ['c1', 'c2', 'c3']) r.add(a);
    r.sim.run({ until: 10_000 });
    const d = r.coordinator.describe('g')!;
    expect(d.state).toBe('stable');
    expect(d.generation).toBe(1);
    const expected = formatAssignment(
      rangeAssign({ members: [...d.members.keys()].map((id) => ({ id, topics: ['t'] })), topics: { t: 7 } }),
    );
    expect(members(r)).toEqual(expected);
    expect(expected['c1-0001']).toEqual(['tp0', 'tp1', 'tp2']);
    for (const c of r.consumers.values()) expect(c.assignment()).toEqual(expected[c.member]);
    // group.initial.rebalance.delay.ms = 3 s, extended once by the members that joined during it.
    const [first] = r.coordinator.rebalances('g');
    expect(first!.endedAt! - first!.startedAt).toBeCloseTo(6001, 0);
  });

  it('a crashed consumer is expired after session.timeout.ms and its partitions move; a join rebalances', () => {
    const r = consumerRig({ partitions: 6 });
    for (const a of ['c1', 'c2', 'c3']) r.add(a, { autoOffsetReset: 'earliest' });
    r.produce(0, 200_000, 100);
    r.sim.run({ until: 20_000 });
    const before = r.assignments();
    expect(before.c2).toEqual(['tp2', 'tp3']);
    r.net.crash('c2');
    r.sim.run({ until: 100_000 });
    const reb = r.coordinator.rebalances('g');
    expect(reb).toHaveLength(2);
    const detection = reb[1]!.startedAt - 20_000;
    // The last heartbeat got through at most heartbeat.interval.ms before the crash.
    expect(detection).toBeGreaterThan(45_000 - 3_000);
    expect(detection).toBeLessThanOrEqual(45_000);
    expect(reb[1]!.reason).toMatch(/c2-0002 session expired/);
    const after = r.assignments();
    expect(after.c1).toEqual(['tp0', 'tp1', 'tp2']);
    expect(after.c3).toEqual(['tp3', 'tp4', 'tp5']);
    // A new member joins: a third rebalance, range over three members again.
    r.add('c4', { autoOffsetReset: 'earliest' });
    r.sim.run({ until: 140_000 });
    expect(r.coordinator.rebalances('g')).toHaveLength(3);
    const final = r.assignments();
    expect(final.c4).toEqual(['tp4', 'tp5']);
    expect(r.tally.missing('t', 0, 1000)).toEqual([]);
  });
});

/** Adds a fourth consumer to a stable group of three on 12 partitions; returns what the join cost. */
function joinDuringLoad(assignor: 'range' | 'cooperative-sticky', produceEvery: number) {
  const r = consumerRig({ partitions: 12 });
  // Up to 2 s batches (200 records x 10 ms on average), so members reach their next poll() at different times.
  const opts = {
    assignor,
    autoOffsetReset: 'earliest' as const,
    processingTime: exponential({ mean: 10 }),
    maxPollRecords: 200,
  };
  for (const a of ['c1', 'c2', 'c3']) r.add(a, opts);
  r.produce(0, 120_000, produceEvery);
  r.sim.run({ until: 30_000 });
  const paused0 = r.monitor.pausedPartitionMs();
  const rebalances0 = r.coordinator.rebalances('g').length;
  const revoked0 = [...r.consumers.values()].reduce((n, c) => n + c.stats.revoked, 0);
  const owned0 = r.assignments();
  r.add('c4', opts);
  r.sim.run({ until: 60_000 });
  const episodes = r.coordinator.rebalances('g').slice(rebalances0);
  return {
    r,
    paused: r.monitor.pausedPartitionMs() - paused0,
    rebalances: episodes.length,
    span: episodes.at(-1)!.endedAt! - episodes[0]!.startedAt,
    revoked: [...r.consumers.values()].reduce((n, c) => n + c.stats.revoked, 0) - revoked0,
    owned0,
    owned1: r.assignments(),
  };
}

describe('eager vs cooperative rebalancing', () => {
  it('eager (range) revokes and pauses every partition; cooperative-sticky only the moved ones, in two rebalances', () => {
    // Backlogged: 12 x 25 records/s against 3 x 100/s of processing, full 2 s batches.
    const eager = joinDuringLoad('range', 40);
    const coop = joinDuringLoad('cooperative-sticky', 40);
    // Keeping up: 12 x 20/s, short batches.
    const eagerLight = joinDuringLoad('range', 50);
    const coopLight = joinDuringLoad('cooperative-sticky', 50);
    expect(eager.rebalances).toBe(1);
    expect(coop.rebalances).toBe(2);
    expect(eager.owned1).toEqual({
      c1: ['tp0', 'tp1', 'tp2'],
      c2: ['tp3', 'tp4', 'tp5'],
      c3: ['tp6', 'tp7', 'tp8'],
      c4: ['tp9', 'tp10', 'tp11'],
    });
    expect(eager.revoked).toBe(12);
    // Cooperative: c1..c3 keep what they keep; c4 gets exactly the 3 partitions that were revoked.
    expect(coop.owned1.c4).toHaveLength(3);
    expect(coop.revoked).toBe(3);
    for (const c of ['c1', 'c2', 'c3']) for (const p of coop.owned1[c]!) expect(coop.owned0[c]).toContain(p);
    expect(coopLight.revoked).toBe(3);
    expect(eagerLight.revoked).toBe(12);
    expect(eager.r.tally.duplicates + coop.r.tally.duplicates).toBe(0);
  });
});

describe('static membership (group.instance.id)', () => {
  const run = (downFor: number) => {
    const r = consumerRig({ partitions: 6 });
    for (const a of ['c1', 'c2', 'c3']) r.add(a, { groupInstanceId: `i-${a}`, autoOffsetReset: 'earliest' });
    r.produce(0, 200_000, 100);
    r.sim.run({ until: 20_000 });
    const before = r.assignments();
    const n0 = r.coordinator.rebalances('g').length;
    r.net.crash('c2');
    r.sim.scheduleAt(20_000 + downFor, () => r.net.restart('c2'));
    r.sim.run({ until: 20_000 + downFor + 30_000 });
    return { r, before, after: r.assignments(), rebalances: r.coordinator.rebalances('g').length - n0 };
  };
  it('a restart within session.timeout.ms: no rebalance, the same assignment', () => {
    const { r, before, after, rebalances } = run(30_000);
    expect(rebalances).toBe(0);
    expect(after).toEqual(before);
    expect(r.coordinator.describe('g')!.staticMembers.get('i-c2')).toBe(r.consumers.get('c2')!.member);
    expect(r.tally.missing('t', 2, r.source.highWatermark('t', 2) - 5)).toEqual([]);
  });
  it('a restart after the session timeout: the member is expired (one rebalance) and rejoins (another)', () => {
    const { before, after, rebalances } = run(60_000);
    expect(rebalances).toBe(2);
    expect(after).toEqual(before);
  });
});

describe('KIP-848 consumer protocol (simplified)', () => {
  it('converges to the coordinator target without a barrier; a join moves partitions incrementally', () => {
    const r = consumerRig({ partitions: 6 });
    const opts = {
      groupProtocol: 'consumer' as const,
      autoOffsetReset: 'earliest' as const,
      processingTime: 1,
    };
    r.add('c1', opts);
    r.add('c2', opts);
    r.produce(0, 120_000, 20);
    r.sim.run({ until: 30_000 });
    expect(r.consumers.get('c1')!.assignment()).toHaveLength(3);
    expect(r.consumers.get('c2')!.assignment()).toHaveLength(3);
    const p0 = r.monitor.pausedPartitionMs();
    const owned0 = r.assignments();
    r.add('c3', opts);
    r.sim.run({ until: 60_000 });
    const owned1 = r.assignments();
    expect(owned1.c3).toHaveLength(2);
    for (const c of ['c1', 'c2']) for (const p of owned1[c]!) expect(owned0[c]).toContain(p);
    const d = r.coordinator.describe('g')!;
    expect(d.protocol).toBe('consumer');
    expect(d.state).toBe('stable');
    const paused = r.monitor.pausedPartitionMs() - p0;
    // Only the two moved partitions pause, for about one heartbeat interval (5 s) at most.
    expect(paused).toBeLessThan(2 * 5_100);
    expect(r.tally.duplicates).toBe(0);
  });
  it('a crashed member is expired after group.consumer.session.timeout.ms (45 s)', () => {
    const r = consumerRig({ partitions: 4 });
    const opts = { groupProtocol: 'consumer' as const, autoOffsetReset: 'earliest' as const };
    r.add('c1', opts);
    r.add('c2', opts);
    r.sim.run({ until: 20_000 });
    r.net.crash('c2');
    r.sim.run({ until: 61_000 });
    expect(r.consumers.get('c1')!.assignment()).toHaveLength(2);
    r.sim.run({ until: 80_000 });
    expect(r.consumers.get('c1')!.assignment()).toHaveLength(4);
  });
});

describe('strict options', () => {
  it('rejects unknown keys with a suggestion and bad values', () => {
    const r = consumerRig();
    const node = r.net.addNode('x');
    const base = { groupId: 'g', topics: ['t'], coordinator: 'gc', source: r.source };
    expect(() => new KafkaConsumer(node, { ...base, sessionTimout: 10 } as never)).toThrow(
      /did you mean "sessionTimeout"/,
    );
    expect(() => new KafkaConsumer(node, { ...base, assignor: 'rnage' } as never)).toThrow(
      /did you mean "range"/,
    );
    expect(() => new KafkaConsumer(node, { ...base, heartbeatInterval: 50_000 })).toThrow(
      /heartbeatInterval must be a duration < sessionTimeout/,
    );
    expect(() => new KafkaConsumer(node, { ...base, maxPollRecords: 0 })).toThrow(
      /maxPollRecords must be an integer >= 1/,
    );
    expect(() => new KafkaConsumer(node, { ...base, topics: ['nope'] })).toThrow(
      /topics\[0\] must be a topic the source knows/,
    );
    expect(() => new KafkaConsumer(node, { ...base, manualCommit: 'after' } as never)).toThrow(
      /manualCommit must be one of/,
    );
    expect(() => new GroupCoordinator(r.net.addNode('y'), { groupInitialRebalanceDelay: -1 })).toThrow(
      /groupInitialRebalanceDelay/,
    );
    expect(() => new GroupCoordinator(r.net.addNode('z'), { consumerAsignor: 'range' } as never)).toThrow(
      /did you mean "consumerAssignor"/,
    );
  });
});
