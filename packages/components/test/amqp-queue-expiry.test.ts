import { Network, Simulation, type TraceRecord } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { AmqpBroker } from '../src/messaging/amqp/broker.js';
import { AmqpClient, type AmqpDelivery } from '../src/messaging/amqp/client.js';
import type { PublishOutcome } from '../src/messaging/amqp/protocol.js';
import type { AmqpQueueStats } from '../src/messaging/amqp/queue.js';

// Queue TTL, RabbitMQ's x-expires (https://www.rabbitmq.com/docs/ttl#queue-ttl).

function world(seed = 1) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency: 0.5 } });
  const broker = new AmqpBroker(net.addNode('rabbit'));
  const client = (name: string) => new AmqpClient(net.addNode(name), { broker: 'rabbit' });
  const expired: TraceRecord[] = [];
  sim.inspect((r) => {
    if (r.type === '@dsim.amqp.queue-expired') expired.push(r);
  });
  return { sim, net, broker, client, expired };
}

function sum(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

function conserved(s: AmqpQueueStats): boolean {
  return (
    s.enqueued + s.adopted ===
    s.acked + sum(s.deadLettered) + sum(s.dropped) + s.lost + s.expiredWithQueue + s.ready + s.unacked
  );
}

function counter(sim: Simulation, name: string): number {
  return sim.metrics.counter('rabbit', name).value;
}

describe('AmqpBroker: queue expiry (x-expires)', () => {
  it('an idle queue with expires 10 s is deleted at exactly 10 s', () => {
    const { sim, broker, expired } = world();
    broker.declareQueue('idle', { expires: '10s' });
    broker.declareQueue('forever');
    // run({ until }) stops before the events due exactly at `until`.
    sim.run({ until: 10_000 });
    expect(broker.has('queue', 'idle')).toBe(true);
    sim.run({ until: 10_000.001 });
    expect(broker.has('queue', 'idle')).toBe(false);
    expect(broker.has('queue', 'forever')).toBe(true);
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({
      t: 10_000,
      broker: 'rabbit',
      queue: 'idle',
      queueType: 'classic',
      expires: 10_000,
      unusedSince: 0,
      discarded: 0,
      unacked: 0,
    });
    expect(broker.stats).toMatchObject({ expiredQueues: 1, expiredWithQueue: 0 });
    expect(counter(sim, 'amqp.queues_expired')).toBe(1);
    expect(() => broker.queueStats('idle')).toThrow(/no queue 'idle'/);
    sim.run({ until: 100_000 });
    expect(expired).toHaveLength(1);
  });

  it('a consumer keeps it alive; the lease restarts when the last consumer cancels', () => {
    const { sim, broker, client, expired } = world();
    broker.declareQueue('q', { expires: 10_000 });
    const a = client('a');
    const b = client('b');
    // Both register within the first few ms (connection open, then basic.consume), long before 10 s.
    const ca = a.consume('q', {}, (d) => d.ack());
    const cb = b.consume('q', {}, (d) => d.ack());
    sim.schedule(61_000, () => a.cancel(ca.tag)); // one consumer left: still used
    sim.schedule(62_000, () => b.cancel(cb.tag)); // the last one goes; the cancel lands at 62 000.5
    sim.run({ until: 72_000.5 });
    expect(broker.has('queue', 'q')).toBe(true); // the lease runs from 62 000.5
    expect(broker._queue('q')!.unusedSince).toBe(62_000.5);
    sim.run({ until: 72_001 });
    expect(broker.has('queue', 'q')).toBe(false);
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({ t: 72_000.5, unusedSince: 62_000.5 });
  });

  it('a consumer registered before the lease ends stops it; one that arrives too late gets 404', () => {
    const { sim, broker, client } = world();
    broker.declareQueue('late', { expires: 1000 });
    broker.declareQueue('early', { expires: 1000 });
    const c = client('c');
    let lateResult: unknown;
    let earlyResult: unknown;
    sim.schedule(999, () =>
      c
        .consume('early', {}, (d) => d.ack())
        .ready.onProcessed((e) => {
          earlyResult = e.value;
        }),
    ); // arrives at 999.5
    sim.schedule(1000, () =>
      c
        .consume('late', {}, (d) => d.ack())
        .ready.onProcessed((e) => {
          lateResult = e.value;
        }),
    ); // arrives at 1000.5, after the deletion at 1000
    sim.run({ until: 10_000 });
    expect(earlyResult).toEqual({ ok: true });
    expect(lateResult).toEqual({ ok: false, error: { code: 404, text: "NOT_FOUND - no queue 'late'" } });
    expect(broker.queueNames).toEqual(['early']);
  });

  it('redeclaring resets the lease (admin and client); an inequivalent redeclaration does not', () => {
    const { sim, broker, client, expired } = world();
    broker.declareQueue('q', { expires: 10_000 });
    const c = client('c');
    sim.schedule(6000, () => broker.declareQueue('q', { expires: '10s' })); // lease from 6 s
    sim.schedule(12_000, () => c.declareQueue('q', { expires: 10_000 })); // lands at 12 000.5
    let refused: unknown;
    sim.schedule(20_000, () =>
      c.declareQueue('q', { expires: 5000 }).onProcessed((e) => {
        refused = e.value;
      }),
    );
    sim.run({ until: 22_000.5 });
    expect(broker.has('queue', 'q')).toBe(true);
    expect(refused).toMatchObject({ ok: false, error: { code: 406 } });
    sim.run({ until: 22_000.501 });
    expect(broker.has('queue', 'q')).toBe(false);
    expect(expired.map((r) => [r.t, r.unusedSince])).toEqual([[22_000.5, 12_000.5]]);
  });

  it('publishing does not count as use; its messages are discarded (not dead-lettered) and counted', () => {
    const { sim, broker, client, expired } = world();
    broker.declareExchange('dlx', { type: 'fanout' });
    broker.declareQueue('dead');
    broker.bind('dead', 'dlx');
    broker.declareExchange('jobs');
    broker.declareQueue('q', { expires: 10_000, deadLetterExchange: 'dlx' });
    broker.bind('q', 'jobs', 'job');
    const p = client('p');
    sim.schedule(1000, () => {
      for (let i = 0; i < 5; i++) p.publish('jobs', 'job', i, { size: 10 });
    });
    sim.schedule(9000, () => p.publish('', 'q', 'last'));
    sim.run({ until: 10_000 });
    const before = broker.queueStats('q');
    expect(before).toMatchObject({ enqueued: 6, ready: 6 });
    sim.run({ until: 10_000.001 });
    expect(broker.has('queue', 'q')).toBe(false);
    expect(expired[0]).toMatchObject({ t: 10_000, discarded: 6 });
    expect(broker.stats).toMatchObject({ expiredQueues: 1, expiredWithQueue: 6, dropped: 0 });
    expect(sum(broker.stats.deadLettered)).toBe(0);
    expect(broker.queueStats('dead').enqueued).toBe(0);
    expect(counter(sim, 'amqp.expired_with_queue')).toBe(6);
    expect(counter(sim, 'amqp.queues_expired')).toBe(1);
  });

  it('a publish afterwards is unroutable (default exchange and through a former binding)', () => {
    const { sim, broker, client } = world();
    broker.declareExchange('jobs');
    broker.declareQueue('q', { expires: 10_000 });
    broker.bind('q', 'jobs', 'job');
    const p = client('p');
    const out: PublishOutcome[] = [];
    sim.schedule(11_000, () => {
      p.publish('', 'q', 'a', { mandatory: true }).onProcessed((e) => out.push(e.value!));
      p.publish('jobs', 'job', 'b').onProcessed((e) => out.push(e.value!));
    });
    sim.run({ until: 12_000 });
    expect(out).toEqual([
      { status: 'ack', queues: 0, returned: true },
      { status: 'ack', queues: 0, returned: false },
    ]);
    const s = broker.stats;
    expect(s).toMatchObject({ published: 2, unroutable: 2, returned: 1, routed: 0 });
    expect(s.published).toBe(s.routed + s.unroutable + s.refusedEverywhere + s.pending);
    // Declaring it again makes a new, empty queue; the old binding is gone.
    broker.declareQueue('q', { expires: 10_000 });
    expect(broker.queueStats('q')).toMatchObject({ enqueued: 0, ready: 0 });
    sim.schedule(1, () => p.publish('jobs', 'job', 'c').onProcessed((e) => out.push(e.value!)));
    sim.run({ until: 13_000 });
    expect(out[2]).toEqual({ status: 'ack', queues: 0, returned: false });
  });

  it('unacked messages outlive the queue: an ack still counts, a requeue or reject discards them', () => {
    const { sim, broker, client, expired } = world();
    broker.declareQueue('q', { expires: 5000, deadLetterExchange: '', deadLetterRoutingKey: 'dead' });
    broker.declareQueue('dead');
    const c = client('c');
    const held: AmqpDelivery[] = [];
    const consumer = c.consume('q', { prefetch: 3 }, (d) => held.push(d));
    const p = client('p');
    sim.schedule(10, () => {
      for (let i = 0; i < 5; i++) p.publish('', 'q', i);
    });
    sim.schedule(100, () => c.cancel(consumer.tag)); // keeps its 3 unacked deliveries
    sim.run({ until: 5100.5 });
    expect(broker.has('queue', 'q')).toBe(true); // the lease runs from the cancel at 100.5
    sim.run({ until: 5101 });
    expect(held).toHaveLength(3);
    expect(broker.has('queue', 'q')).toBe(false);
    expect(expired[0]).toMatchObject({ t: 5100.5, discarded: 2, unacked: 3 });
    held[0]!.ack();
    held[1]!.nack({ requeue: true });
    held[2]!.reject({ requeue: false });
    sim.run({ until: 6000 });
    expect(broker.stats).toMatchObject({ expiredWithQueue: 4, acked: 1, nacked: 2 });
    expect(broker.queueStats('dead').enqueued).toBe(0);
    expect(counter(sim, 'amqp.expired_with_queue')).toBe(4);
  });

  it('the balance holds on the expired queue, whose stats freeze (read through the queue object)', () => {
    const { sim, broker, client } = world();
    broker.declareQueue('q', { expires: 2000 });
    const q = broker._queue('q')!;
    const p = client('p');
    sim.schedule(1, () => {
      for (let i = 0; i < 4; i++) p.publish('', 'q', i);
    });
    sim.run({ until: 5000 });
    expect(q.deleted).toBe(true);
    expect(q.stats).toMatchObject({ enqueued: 4, ready: 0, expiredWithQueue: 4 });
    expect(conserved(q.stats)).toBe(true);
  });

  it('a durable queue survives a crash and its lease starts afresh at the restart', () => {
    const { sim, net, broker, expired } = world();
    broker.declareQueue('d', { durable: true, expires: 10_000 });
    broker.declareQueue('t', { expires: 10_000 });
    sim.schedule(8000, () => net.crash('rabbit'));
    sim.schedule(9000, () => net.restart('rabbit'));
    sim.run({ until: 19_000 });
    expect(broker.has('queue', 'd')).toBe(true);
    expect(broker.has('queue', 't')).toBe(false); // gone with the crash, not expired
    sim.run({ until: 19_000.001 });
    expect(broker.has('queue', 'd')).toBe(false);
    expect(expired.map((r) => [r.queue, r.t])).toEqual([['d', 19_000]]);
  });

  it('quorum queues expire too: the leader deletes it and the followers drop their copies', () => {
    const sim = new Simulation({ seed: 4 });
    const net = new Network(sim, { defaults: { latency: 2 } });
    const names = ['r1', 'r2', 'r3'];
    const brokers = names.map((n) => new AmqpBroker(net.addNode(n), { cluster: names, quorumTick: 200 }));
    for (const b of brokers) b.declareQueue('qq', { type: 'quorum', expires: 10_000 });
    const records: TraceRecord[] = [];
    sim.inspect((r) => {
      if (r.type === '@dsim.amqp.queue-expired') records.push(r);
    });
    const p = new AmqpClient(net.addNode('p'), { broker: 'r1' });
    const out: PublishOutcome[] = [];
    sim.schedule(100, () => {
      for (let i = 0; i < 3; i++) p.publish('', 'qq', i).onProcessed((e) => out.push(e.value!));
    });
    const c = new AmqpClient(net.addNode('c'), { broker: 'r1' });
    const got: unknown[] = [];
    const consumer = c.consume('qq', { prefetch: 1 }, (d) => {
      got.push(d.body);
      d.ack();
    });
    sim.schedule(2000, () => c.cancel(consumer.tag)); // lands at 2002: the lease runs from there
    sim.schedule(3000, () => {
      for (let i = 3; i < 5; i++) p.publish('', 'qq', i).onProcessed((e) => out.push(e.value!));
    });
    sim.run({ until: 12_002 });
    expect(brokers[0]!.has('queue', 'qq')).toBe(true);
    sim.run({ until: 12_002.001 });
    expect(got).toEqual([0, 1, 2]);
    expect(out.every((o) => o.status === 'ack')).toBe(true);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ t: 12_002, broker: 'r1', queueType: 'quorum', discarded: 2 });
    expect(brokers[0]!.stats).toMatchObject({ expiredQueues: 1, expiredWithQueue: 2 });
    expect(brokers[0]!.has('queue', 'qq')).toBe(false);
    sim.run({ until: 20_000 });
    for (const b of brokers) {
      expect(b.has('queue', 'qq'), b.address).toBe(false);
      expect(b._group('qq'), b.address).toBeUndefined();
    }
    // Followers never ran a lease of their own: only the leader expired it.
    expect(records).toHaveLength(1);
    const late: PublishOutcome[] = [];
    p.publish('', 'qq', 'late').onProcessed((e) => late.push(e.value!));
    sim.run({ until: 21_000 });
    expect(late).toEqual([{ status: 'ack', queues: 0, returned: false }]);
  });

  it('quorum failover: the new leader starts the lease afresh and deletes the queue everywhere', () => {
    const sim = new Simulation({ seed: 5 });
    const net = new Network(sim, { defaults: { latency: 2 } });
    const names = ['r1', 'r2', 'r3'];
    const brokers = names.map((n) => new AmqpBroker(net.addNode(n), { cluster: names, quorumTick: 200 }));
    for (const b of brokers) b.declareQueue('qq', { type: 'quorum', expires: 10_000 });
    const records: TraceRecord[] = [];
    const leaders: TraceRecord[] = [];
    sim.inspect((r) => {
      if (r.type === '@dsim.amqp.queue-expired') records.push(r);
      if (r.type === '@dsim.amqp.quorum-leader') leaders.push(r);
    });
    const p = new AmqpClient(net.addNode('p'), { broker: 'r1' });
    sim.schedule(100, () => p.publish('', 'qq', 'kept'));
    // The leader r1 fails. r3 is down too until 5.5 s, so r2 is the only candidate: the model's
    // simplified election can elect two leaders when both followers time out at the same tick.
    sim.schedule(5000, () => {
      net.crash('r1');
      net.crash('r3');
    });
    sim.schedule(5500, () => net.restart('r3'));
    sim.schedule(8000, () => net.restart('r1')); // back as a follower before the queue expires
    sim.run({ until: 60_000 });
    expect(leaders).toHaveLength(1);
    const leader = leaders[0]!;
    expect(leader.leader).toBe('r2');
    expect(records).toHaveLength(1);
    // The old leader's lease (ending at 10 s) died with it; the new one runs from the election.
    expect(records[0]).toMatchObject({
      broker: leader.leader,
      t: leader.t + 10_000,
      unusedSince: leader.t,
      discarded: 1,
    });
    for (const b of brokers) {
      expect(b.has('queue', 'qq'), b.address).toBe(false);
      expect(b._group('qq'), b.address).toBeUndefined();
    }
  });

  it('strict option: expires is a duration > 0', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    const broker = new AmqpBroker(net.addNode('r'));
    for (const bad of [0, Infinity])
      expect(thrown(() => broker.declareQueue('q', { expires: bad as never })).message).toMatch(
        /options\.expires must be a duration > 0/,
      );
    for (const bad of [-5, Number.NaN, 'soon', null, true])
      expect(thrown(() => broker.declareQueue('q', { expires: bad as never })).message).toMatch(
        /options\.expires must be/,
      );
    expect(thrown(() => broker.declareQueue('q', { expire: 10 } as never)).message).toMatch(
      /did you mean "options.expires"/,
    );
    expect(broker.has('queue', 'q')).toBe(false);
    broker.declareQueue('q', { expires: '1.5s' });
    expect(broker._queue('q')!.options.expires).toBe(1500);
    expect(thrown(() => broker.declareQueue('q')).message).toMatch(/PRECONDITION_FAILED/);
    broker.declareQueue('none');
    expect(broker._queue('none')!.options.expires).toBe(Infinity);
    sim.run({ until: 1_000_000 });
    expect(broker.queueNames).toEqual(['none']);
  });
});
