import { exponential, Network, Simulation, type TraceRecord } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { AmqpBroker } from '../src/messaging/amqp/broker.js';
import { AmqpClient, type AmqpDelivery } from '../src/messaging/amqp/client.js';
import type { AmqpBrokerOptions } from '../src/messaging/amqp/options.js';
import type { PublishOutcome } from '../src/messaging/amqp/protocol.js';
import type { AmqpQueueStats } from '../src/messaging/amqp/queue.js';
import { topicMatches } from '../src/messaging/amqp/topic.js';

function world(seed = 1, options: AmqpBrokerOptions = {}) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency: 0.5 } });
  const broker = new AmqpBroker(net.addNode('rabbit'), options);
  const client = (name: string, extra: { heartbeat?: number; confirmTimeout?: number } = {}) =>
    new AmqpClient(net.addNode(name), { broker: 'rabbit', ...extra });
  return { sim, net, broker, client };
}

function sum(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

function conserved(s: AmqpQueueStats): boolean {
  return (
    s.enqueued + s.adopted === s.acked + sum(s.deadLettered) + sum(s.dropped) + s.lost + s.ready + s.unacked
  );
}

describe('AmqpBroker: consumers and prefetch', () => {
  it('C-T4: prefetch 10, two 1 msg/s consumers, a burst of 100: 10 unacked each, 80 ready, done at ≈50 s', () => {
    const { sim, broker, client } = world();
    broker.declareQueue('work');
    const done: number[] = [];
    for (const name of ['c1', 'c2']) {
      client(name).consume('work', { prefetch: 10, processingTime: 1000 }, (d) => {
        d.ack();
        done.push(sim.now);
      });
    }
    const producer = client('producer');
    sim.schedule(10, () => {
      for (let i = 0; i < 100; i++) producer.publish('', 'work', i);
    });
    sim.run({ until: 100 });
    const s = broker.queueStats('work');
    expect(s.unacked).toBe(20);
    expect(s.ready).toBe(80);
    sim.run({ until: 60_000 });
    expect(done).toHaveLength(100);
    const last = Math.max(...done);
    expect(last).toBeGreaterThan(49_900);
    expect(last).toBeLessThan(50_200);
    expect(broker.queueStats('work')).toMatchObject({ acked: 100, ready: 0, unacked: 0 });
  });

  function split(prefetch: number, burst: number) {
    const { sim, broker, client } = world(3);
    broker.declareQueue('work');
    const slow = client('slow').consume('work', { prefetch, processingTime: 1000 }, (d) => d.ack());
    const fast = client('fast').consume('work', { prefetch, processingTime: 100 }, (d) => d.ack());
    const producer = client('producer');
    sim.schedule(10, () => {
      for (let i = 0; i < burst; i++) producer.publish('', 'work', i);
    });
    sim.run({ until: 600_000 });
    return { slow: slow.received, fast: fast.received };
  }

  it('prefetch 1: the 10 msg/s consumer gets ≈10/11 of the messages; prefetch 1000 splits a burst 50/50', () => {
    const one = split(1, 1100);
    expect(one.slow + one.fast).toBe(1100);
    expect(one.fast / 1100).toBeGreaterThan(0.89);
    expect(one.fast / 1100).toBeLessThan(0.93);
    const big = split(1000, 1000);
    expect(big).toEqual({ slow: 500, fast: 500 });
  });

  it('auto-ack removes on send, with no prefetch limit', () => {
    const { sim, broker, client } = world();
    broker.declareQueue('q');
    const c = client('c').consume('q', { autoAck: true, processingTime: 1000, prefetch: 1 }, () => {});
    const p = client('p');
    sim.schedule(5, () => {
      for (let i = 0; i < 50; i++) p.publish('', 'q', i);
    });
    sim.run({ until: 100 });
    expect(broker.queueStats('q')).toMatchObject({ ready: 0, unacked: 0, acked: 50, delivered: 50 });
    expect(c.buffered).toBe(49);
  });
});

describe('AmqpBroker: routing', () => {
  const table: Array<[string, string[]]> = [
    ['quick.orange.rabbit', ['Q1', 'Q2']],
    ['lazy.orange.elephant', ['Q1', 'Q2']],
    ['quick.orange.fox', ['Q1']],
    ['lazy.brown.fox', ['Q2']],
    ['lazy.pink.rabbit', ['Q2']],
    ['quick.brown.fox', []],
    ['orange', []],
    ['quick.orange.male.rabbit', []],
    ['lazy.orange.male.rabbit', ['Q2']],
  ];

  it("topic exchange: the RabbitMQ tutorial's table, each queue at most once", () => {
    const { sim, broker, client } = world();
    broker.declareExchange('topic_logs', { type: 'topic' });
    broker.declareQueue('Q1');
    broker.declareQueue('Q2');
    broker.bind('Q1', 'topic_logs', '*.orange.*');
    broker.bind('Q2', 'topic_logs', '*.*.rabbit');
    broker.bind('Q2', 'topic_logs', 'lazy.#');
    const got: Record<string, string[]> = { Q1: [], Q2: [] };
    const c = client('c');
    for (const q of ['Q1', 'Q2']) c.consume(q, { autoAck: true }, (d) => got[q]!.push(d.routingKey));
    const p = client('p');
    const outcomes: PublishOutcome[] = [];
    sim.schedule(5, () => {
      for (const [key] of table)
        p.publish('topic_logs', key, key).onProcessed((e) => outcomes.push(e.value!));
    });
    sim.run({ until: 1000 });
    for (const [key, queues] of table) {
      for (const q of ['Q1', 'Q2'])
        expect(got[q]!.filter((k) => k === key).length, `${key} → ${q}`).toBe(queues.includes(q) ? 1 : 0);
    }
    expect(broker.stats.unroutable).toBe(3);
    expect(outcomes.every((o) => o.status === 'ack')).toBe(true);
    expect(topicMatches('#', '')).toBe(true);
    expect(topicMatches('a.#.b', 'a.b')).toBe(true);
  });

  it('direct, fanout and the default exchange; unknown exchange is a 404 value; mandatory returns', () => {
    const { sim, broker, client } = world();
    broker.declareExchange('fan', { type: 'fanout' });
    broker.declareExchange('dir');
    for (const q of ['a', 'b']) {
      broker.declareQueue(q);
      broker.bind(q, 'fan', 'ignored');
    }
    broker.bind('a', 'dir', 'k');
    const p = client('p');
    const out: PublishOutcome[] = [];
    sim.schedule(1, () => {
      for (const [x, k, m] of [
        ['fan', 'x', false],
        ['dir', 'k', false],
        ['dir', 'nope', true],
        ['', 'b', false],
        ['missing', 'k', false],
      ] as const)
        p.publish(x, k, 'm', { mandatory: m }).onProcessed((e) => out.push(e.value!));
    });
    sim.run({ until: 100 });
    expect(out).toEqual([
      { status: 'ack', queues: 2, returned: false },
      { status: 'ack', queues: 1, returned: false },
      { status: 'ack', queues: 0, returned: true },
      { status: 'ack', queues: 1, returned: false },
      { status: 'error', error: { code: 404, text: "NOT_FOUND - no exchange 'missing'" } },
    ]);
    expect(broker.queueStats('a').ready).toBe(2);
    expect(broker.queueStats('b').ready).toBe(2);
    expect(() => broker.bind('a', 'nope', 'k')).toThrow(/NOT_FOUND - no exchange 'nope'/);
    expect(() => broker.bind('a', '', 'k')).toThrow(/ACCESS_REFUSED/);
  });
});

describe('AmqpBroker: limits, TTL and dead lettering', () => {
  it('maxLength drop-head dead-letters the oldest (maxlen); reject-publish nacks the publisher', () => {
    const { sim, broker, client } = world();
    broker.declareExchange('dlx', { type: 'fanout' });
    broker.declareQueue('dead');
    broker.bind('dead', 'dlx');
    broker.declareQueue('head', { maxLength: 3, deadLetterExchange: 'dlx' });
    broker.declareQueue('strict', { maxLength: 3, overflow: 'reject-publish' });
    broker.declareQueue('strict-dlx', {
      maxLength: 3,
      overflow: 'reject-publish-dlx',
      deadLetterExchange: 'dlx',
    });
    const p = client('p');
    const out: Record<string, string[]> = { head: [], strict: [], 'strict-dlx': [] };
    sim.schedule(1, () => {
      for (const q of ['head', 'strict', 'strict-dlx'])
        for (let i = 0; i < 5; i++)
          p.publish('', q, `${q}-${i}`).onProcessed((e) => out[q]!.push(e.value!.status));
    });
    sim.run({ until: 100 });
    expect(out.head).toEqual(['ack', 'ack', 'ack', 'ack', 'ack']);
    expect(out.strict).toEqual(['ack', 'ack', 'ack', 'nack', 'nack']);
    expect(out['strict-dlx']).toEqual(['ack', 'ack', 'ack', 'nack', 'nack']);
    expect(broker.queueStats('head')).toMatchObject({ ready: 3, deadLettered: { maxlen: 2 } });
    expect(broker.queueStats('strict')).toMatchObject({ ready: 3, refused: 2, enqueued: 3 });
    expect(broker.queueStats('strict-dlx')).toMatchObject({
      ready: 3,
      refused: 2,
      deadLettered: { maxlen: 2 },
    });
    expect(broker.queueStats('dead').ready).toBe(4);
    const c = client('c');
    const bodies: unknown[] = [];
    const deaths: string[] = [];
    c.consume('dead', { autoAck: true }, (d) => {
      bodies.push(d.body);
      deaths.push(`${d.xDeath[0]!.queue}:${d.xDeath[0]!.reason}:${d.xDeath[0]!.count}`);
    });
    sim.run({ until: 200 });
    expect(bodies).toEqual(['head-0', 'head-1', 'strict-dlx-3', 'strict-dlx-4']);
    expect(deaths).toEqual(['head:maxlen:1', 'head:maxlen:1', 'strict-dlx:maxlen:1', 'strict-dlx:maxlen:1']);
    for (const q of ['head', 'strict', 'strict-dlx', 'dead'])
      expect(conserved(broker.queueStats(q))).toBe(true);
  });

  it('maxLengthBytes counts ready body bytes', () => {
    const { sim, broker, client } = world();
    broker.declareQueue('bytes', { maxLengthBytes: 1000 });
    const p = client('p');
    sim.schedule(1, () => {
      for (let i = 0; i < 5; i++) p.publish('', 'bytes', i, { size: 400 });
    });
    sim.run({ until: 100 });
    expect(broker.queueStats('bytes')).toMatchObject({ ready: 2, dropped: { maxlen: 3 } });
  });

  it('classic queues expire only at the head: a short per-message TTL waits behind a long one', () => {
    const { sim, broker, client } = world();
    broker.declareExchange('dlx', { type: 'fanout' });
    broker.declareQueue('dead');
    broker.bind('dead', 'dlx');
    broker.declareQueue('q', { deadLetterExchange: 'dlx' });
    const p = client('p');
    const deadAt: Array<[unknown, number]> = [];
    client('c').consume('dead', { autoAck: true }, (d) => deadAt.push([d.body, sim.now]));
    sim.schedule(1, () => {
      p.publish('', 'q', 'long', { expiration: 10_000 });
      p.publish('', 'q', 'short', { expiration: 1000 });
    });
    sim.run({ until: 5000 });
    expect(broker.queueStats('q').ready).toBe(2); // 'short' expired at ~1 s but is behind 'long'
    sim.run({ until: 20_000 });
    expect(deadAt.map(([b]) => b)).toEqual(['long', 'short']);
    expect(deadAt[0]![1]).toBeGreaterThan(10_000);
    expect(deadAt[1]![1]).toBeCloseTo(deadAt[0]![1], 0); // expired together when 'long' left the head
    expect(broker.queueStats('q').deadLettered.expired).toBe(2);
  });

  it('queue TTL with x-message-ttl; the lower of queue and message TTL applies; TTL 0 delivers or expires', () => {
    const { sim, broker, client } = world();
    broker.declareQueue('q', { messageTtl: 2000 });
    broker.declareQueue('zero', { messageTtl: 0 });
    const p = client('p');
    sim.schedule(1, () => {
      p.publish('', 'q', 'a');
      p.publish('', 'q', 'b', { expiration: 500 });
      p.publish('', 'zero', 'z');
    });
    sim.run({ until: 1000 });
    // b (500 ms) is the head after a? No: a is the head, b waits behind it until a expires at 2 s.
    expect(broker.queueStats('q').ready).toBe(2);
    expect(broker.queueStats('zero')).toMatchObject({ ready: 0, dropped: { expired: 1 } });
    sim.run({ until: 2100 });
    expect(broker.queueStats('q')).toMatchObject({ ready: 0, dropped: { expired: 2 } });
  });

  it('nack/reject without requeue dead-letters as rejected; x-death counts repeated deaths; cycles are dropped', () => {
    const { sim, broker, client } = world();
    // A retry loop: work --rejected--> wait (TTL 100) --expired--> work. Rejected in the cycle: allowed.
    broker.declareQueue('work', { deadLetterExchange: '', deadLetterRoutingKey: 'wait' });
    broker.declareQueue('wait', { messageTtl: 100, deadLetterExchange: '', deadLetterRoutingKey: 'work' });
    // A fully automatic cycle: a expires to b, b expires to a: dropped when it comes back to a.
    broker.declareQueue('a', { messageTtl: 50, deadLetterExchange: '', deadLetterRoutingKey: 'b' });
    broker.declareQueue('b', { messageTtl: 50, deadLetterExchange: '', deadLetterRoutingKey: 'a' });
    const counts: number[] = [];
    client('c').consume('work', {}, (d) => {
      const n = d.xDeath.find((x) => x.queue === 'work' && x.reason === 'rejected')?.count ?? 0;
      counts.push(n);
      if (n < 3) d.nack({ requeue: false });
      else d.ack();
    });
    const p = client('p');
    sim.schedule(1, () => {
      p.publish('', 'work', 'job');
      p.publish('', 'a', 'loop');
    });
    sim.run({ until: 10_000 });
    expect(counts).toEqual([0, 1, 2, 3]);
    expect(broker.queueStats('work').deadLettered.rejected).toBe(3);
    expect(broker.queueStats('wait').deadLettered.expired).toBe(3);
    expect(broker.queueStats('a').deadLettered.expired).toBe(1);
    expect(broker.queueStats('b').deadLettered.expired).toBe(1);
    expect(broker.stats.deadLetterCycles).toBe(1);
    expect(broker.queueStats('a').ready + broker.queueStats('b').ready).toBe(0);
  });

  it('emits dead-letter and cancel trace records', () => {
    const { sim, broker, client } = world();
    const records: TraceRecord[] = [];
    sim.inspect((r) => records.push(r));
    broker.declareQueue('q', { messageTtl: 10, deadLetterExchange: '' });
    const c = client('c');
    c.consume('q', {}, () => {});
    client('p').publish('', 'q', 'x');
    sim.schedule(50, () => c.close());
    sim.run({ until: 100 });
    expect(records.some((r) => r.type === '@dsim.amqp.cancel' && r.reason === 'client closed')).toBe(true);
  });
});

describe('AmqpBroker: requeue and redelivery', () => {
  it('closing a channel requeues its unacked messages to their original positions, redelivered', () => {
    const { sim, broker, client } = world();
    broker.declareQueue('q');
    const first = client('first');
    first.consume('q', { prefetch: 2 }, () => {}); // holds 0 and 1 without acking
    const p = client('p');
    sim.schedule(1, () => {
      for (let i = 0; i < 5; i++) p.publish('', 'q', i);
    });
    sim.run({ until: 100 });
    expect(broker.queueStats('q')).toMatchObject({ unacked: 2, ready: 3 });
    first.close();
    sim.run({ until: 200 });
    expect(broker.queueStats('q')).toMatchObject({ unacked: 0, ready: 5, requeued: 2 });
    const seen: Array<[unknown, boolean]> = [];
    client('second').consume('q', {}, (d) => {
      seen.push([d.body, d.redelivered]);
      d.ack();
    });
    sim.run({ until: 300 });
    expect(seen).toEqual([
      [0, true],
      [1, true],
      [2, false],
      [3, false],
      [4, false],
    ]);
  });

  it("a consumer's node crash: the broker notices by heartbeat and requeues its messages", () => {
    const { sim, net, broker, client } = world();
    broker.declareQueue('q');
    const dying = client('dying');
    dying.consume('q', { prefetch: 3 }, () => {});
    const p = client('p');
    sim.schedule(1, () => {
      for (let i = 0; i < 3; i++) p.publish('', 'q', i);
    });
    sim.schedule(1000, () => net.crash('dying'));
    sim.run({ until: 50_000 });
    expect(broker.queueStats('q').unacked).toBe(3); // not noticed yet
    sim.run({ until: 100_000 });
    expect(broker.queueStats('q')).toMatchObject({ unacked: 0, ready: 3, requeued: 3 });
    expect(broker.stats.heartbeatTimeouts).toBe(1);
  });

  it('nack with requeue and multiple; double ack is a PRECONDITION_FAILED error', () => {
    const { sim, broker, client } = world();
    broker.declareQueue('q');
    const held: AmqpDelivery[] = [];
    client('c').consume('q', { prefetch: 3 }, (d) => held.push(d));
    const p = client('p');
    sim.schedule(1, () => {
      for (let i = 0; i < 3; i++) p.publish('', 'q', i);
    });
    sim.run({ until: 100 });
    expect(held).toHaveLength(3);
    held[1]!.nack({ multiple: true, requeue: true }); // returns 0 and 1
    expect(thrown(() => held[0]!.ack()).message).toMatch(/PRECONDITION_FAILED/);
    held[2]!.ack();
    sim.run({ until: 200 });
    expect(held.slice(3).map((d) => [d.body, d.redelivered])).toEqual([
      [0, true],
      [1, true],
    ]);
    expect(broker.stats).toMatchObject({ nacked: 2, acked: 1, redelivered: 2 });
  });
});

describe('AmqpBroker: quorum queues', () => {
  it('delivery limit 20 (default): dead-lettered on the 21st return, after 21 deliveries; x-delivery-count', () => {
    const { sim, broker, client } = world();
    broker.declareQueue('poison', {
      type: 'quorum',
      deadLetterExchange: '',
      deadLetterRoutingKey: 'parking',
    });
    broker.declareQueue('parking');
    const counts: Array<number | undefined> = [];
    client('c').consume('poison', { prefetch: 1 }, (d) => {
      counts.push(d.xDeliveryCount);
      d.nack({ requeue: true });
    });
    const dead: AmqpDelivery[] = [];
    client('d').consume('parking', { autoAck: true }, (d) => dead.push(d));
    client('p').publish('', 'poison', 'bad');
    sim.run({ until: 10_000 });
    expect(counts).toHaveLength(21);
    expect(counts[0]).toBeUndefined();
    expect(counts[20]).toBe(20);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.xDeath[0]).toMatchObject({ queue: 'poison', reason: 'delivery_limit', count: 1 });
    expect(broker.queueStats('poison').deadLettered.delivery_limit).toBe(1);
  });

  it('returned messages go first; a custom delivery limit of 2 allows 3 deliveries', () => {
    const { sim, broker, client } = world();
    broker.declareQueue('qq', { type: 'quorum', deliveryLimit: 2 });
    const seen: unknown[] = [];
    client('c').consume('qq', { prefetch: 1 }, (d) => {
      seen.push(d.body);
      if (d.body === 'a') d.reject({ requeue: true });
      else d.ack();
    });
    const p = client('p');
    sim.schedule(1, () => {
      for (const b of ['a', 'b']) p.publish('', 'qq', b);
    });
    sim.run({ until: 1000 });
    expect(seen).toEqual(['a', 'a', 'a', 'b']);
    expect(broker.queueStats('qq').dropped.delivery_limit).toBe(1);
  });

  function cluster(seed: number) {
    const sim = new Simulation({ seed });
    const net = new Network(sim, { defaults: { latency: 2 } });
    const names = ['r1', 'r2', 'r3'];
    const brokers = names.map((n) => new AmqpBroker(net.addNode(n), { cluster: names, quorumTick: 200 }));
    for (const b of brokers) b.declareQueue('orders', { type: 'quorum' });
    return { sim, net, brokers };
  }

  it('confirms after a majority has the message; with one follower down it still confirms, with both down it waits', () => {
    const { sim, net, brokers } = cluster(1);
    const p = new AmqpClient(net.addNode('p'), { broker: 'r1', confirmTimeout: 5000 });
    const out: Array<[string, number]> = [];
    sim.schedule(10, () =>
      p.publish('', 'orders', 1).onProcessed((e) => out.push([e.value!.status, sim.now])),
    );
    sim.schedule(100, () => net.crash('r3'));
    sim.schedule(200, () =>
      p.publish('', 'orders', 2).onProcessed((e) => out.push([e.value!.status, sim.now])),
    );
    sim.schedule(300, () => net.crash('r2'));
    sim.schedule(400, () =>
      p.publish('', 'orders', 3).onProcessed((e) => out.push([e.value!.status, sim.now])),
    );
    sim.run({ until: 6000 });
    // publish → r1 (0.5 RTT 2 ms), append to r2 and ack back (4 ms), then the confirm (2 ms).
    expect(out[0]![0]).toBe('ack');
    expect(out[0]![1] - 10).toBeGreaterThanOrEqual(8);
    expect(out[1]![0]).toBe('ack');
    expect(out[2]).toEqual(['timeout', 5400]);
    expect(brokers[0]!.queueStats('orders').ready).toBe(2);
  });

  it('leader crash: a follower with the log takes over and delivers every confirmed message', () => {
    const { sim, net, brokers } = cluster(2);
    const p = new AmqpClient(net.addNode('p'), { broker: 'r1' });
    let acked = 0;
    sim.schedule(10, () => {
      for (let i = 0; i < 20; i++)
        p.publish('', 'orders', i).onProcessed((e) => e.value!.status === 'ack' && acked++);
    });
    sim.schedule(500, () => net.crash('r1'));
    sim.run({ until: 5000 });
    expect(acked).toBe(20);
    const leader = brokers.find((b) => b.address !== 'r1' && b._group('orders')!.isLeader);
    expect(leader).toBeDefined();
    const got: unknown[] = [];
    new AmqpClient(net.addNode('c'), { broker: leader!.address }).consume('orders', {}, (d) => {
      got.push(d.body);
      d.ack();
    });
    sim.run({ until: 6000 });
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('never two leaders in one term: members that time out together split the vote, then randomised timeouts elect one', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { sim, net, brokers } = cluster(seed);
      sim.watch(1, () => {
        const leaders = brokers.filter((b) => net.node(b.address).isUp && b._group('orders')?.isLeader);
        const terms = leaders.map((b) => b._group('orders')!.currentTerm);
        expect(new Set(terms).size).toBe(terms.length);
      });
      sim.schedule(500, () => net.crash('r1')); // r2 and r3 stop hearing from the leader on the same tick
      sim.run({ until: 20_000 });
      const up = brokers.filter((b) => b.address !== 'r1' && b._group('orders')!.isLeader);
      expect(up).toHaveLength(1);
    }
  });
});

describe('AmqpBroker: quorum replication under load', () => {
  it('pipelines appends: 1000 publishes a second confirm within a few round trips, over links that reorder', () => {
    const sim = new Simulation({ seed: 1 });
    // Exponential link latency reorders messages: followers must hold entries that arrive early.
    const net = new Network(sim, { defaults: { latency: exponential({ mean: 0.5 }) } });
    const members = ['r0', 'r1', 'r2'];
    const brokers = members.map((b) => new AmqpBroker(net.addNode(b), { cluster: members }));
    for (const b of brokers) b.declareQueue('q', { type: 'quorum' });
    const api = new AmqpClient(net.addNode('api'), { broker: 'r0' });
    const latency: number[] = [];
    for (let i = 0; i < 5000; i++)
      sim.schedule(100 + i, () => {
        const t = sim.now;
        api.publish('', 'q', i).onProcessed((e) => {
          expect(e.value!.status).toBe('ack');
          latency.push(sim.now - t);
        });
      });
    sim.run({ until: 20_000 });
    expect(latency.length).toBe(5000);
    latency.sort((a, b) => a - b);
    // A confirm needs the leader's append plus one follower's (a majority of 3): about two round trips
    // of 1 ms mean. Without pipelining, entries queued behind an unacknowledged one waited for a 1 s tick.
    expect(latency[Math.floor(0.99 * latency.length)]!).toBeLessThan(10);
    expect(brokers[0]!.queueStats('q').ready).toBe(5000);
  });
});

describe('AmqpBroker: durability and conservation', () => {
  it('a crash keeps durable queues with persistent messages, loses the rest, and counts the loss', () => {
    const { sim, net, broker, client } = world();
    broker.declareQueue('durable', { durable: true });
    broker.declareQueue('transient');
    const p = client('p');
    sim.schedule(1, () => {
      for (let i = 0; i < 4; i++) p.publish('', 'durable', i, { persistent: i % 2 === 0 });
      for (let i = 0; i < 3; i++) p.publish('', 'transient', i, { persistent: true });
    });
    sim.schedule(100, () => net.crash('rabbit'));
    sim.schedule(200, () => net.restart('rabbit'));
    sim.run({ until: 300 });
    expect(broker.has('queue', 'transient')).toBe(false);
    expect(broker.queueStats('durable')).toMatchObject({ ready: 2, lost: 2 });
    expect(broker.stats.lost).toBe(5);
  });

  it.each([1, 2, 3, 4, 5])('conservation with consumer and broker crashes (seed %i)', (seed) => {
    const { sim, net, broker, client } = world(seed, { heartbeat: 10_000 });
    broker.declareExchange('dlx', { type: 'fanout', durable: true });
    broker.declareQueue('dead', { durable: true });
    broker.bind('dead', 'dlx');
    broker.declareQueue('work', {
      durable: true,
      maxLength: 40,
      messageTtl: 20_000,
      deadLetterExchange: 'dlx',
    });
    const rng = sim.rng('test');
    const consumers = ['w1', 'w2', 'w3'].map((name) =>
      client(name, { heartbeat: 10_000 }).consume('work', { prefetch: 5, processingTime: 300 }, (d) => {
        const u = rng.next();
        if (u < 0.1) d.nack({ requeue: false });
        else if (u < 0.2) d.reject({ requeue: true });
        else d.ack();
      }),
    );
    void consumers;
    const p = client('p', { heartbeat: 10_000, confirmTimeout: 2000 });
    for (let t = 0; t < 60_000; t += 50)
      sim.schedule(t + 1, () => p.publish('', 'work', t, { persistent: rng.next() < 0.7 }));
    sim.schedule(15_000, () => net.crash('w2'));
    sim.schedule(30_000, () => net.crash('rabbit'));
    sim.schedule(31_000, () => net.restart('rabbit'));
    sim.run({ until: 120_000 });
    const work = broker.queueStats('work');
    const dead = broker.queueStats('dead');
    expect(conserved(work)).toBe(true);
    expect(conserved(dead)).toBe(true);
    expect(work.lost).toBeGreaterThan(0);
    expect(work.deadLettered.rejected + work.deadLettered.expired + work.deadLettered.maxlen).toBe(
      dead.enqueued,
    );
    const s = broker.stats;
    expect(s.published).toBe(s.routed + s.unroutable + s.refusedEverywhere + s.pending);
  });
});

describe('AmqpBroker: strict options', () => {
  it('unknown keys suggest, bad values name field, value and what is allowed', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    expect(thrown(() => new AmqpBroker(net.addNode('r'), { conccurency: 2 } as never)).message).toMatch(
      /unknown option "conccurency" \(did you mean "concurrency"\?\)/,
    );
    const broker = new AmqpBroker(net.addNode('r2'));
    expect(thrown(() => broker.declareQueue('q', { maxLenght: 5 } as never)).message).toMatch(
      /did you mean "options.maxLength"/,
    );
    expect(thrown(() => broker.declareQueue('q', { overflow: 'drop-tail' as never })).message).toMatch(
      /options.overflow must be one of "drop-head", "reject-publish", "reject-publish-dlx", got "drop-tail"/,
    );
    expect(thrown(() => broker.declareQueue('q', { deliveryLimit: 5 })).message).toMatch(
      /only quorum queues/,
    );
    expect(
      thrown(() => broker.declareQueue('q', { type: 'quorum', overflow: 'reject-publish-dlx' })).message,
    ).toMatch(/for a quorum queue/);
    expect(thrown(() => broker.declareExchange('x', { type: 'headers' as never })).message).toMatch(
      /one of "direct", "fanout", "topic"/,
    );
    broker.declareQueue('q', { maxLength: 5 });
    expect(thrown(() => broker.declareQueue('q', { maxLength: 6 })).message).toMatch(/PRECONDITION_FAILED/);
    const c = new AmqpClient(net.addNode('c'), { broker: 'r2' });
    expect(thrown(() => c.publish('', 'q', 1, { persistant: true } as never)).message).toMatch(
      /did you mean "options.persistent"/,
    );
    expect(thrown(() => c.consume('q', { prefetch: -1 }, () => {})).message).toMatch(
      /prefetch must be an integer in \[0, 65535\], got -1/,
    );
    expect(thrown(() => new AmqpClient(net.addNode('c2'), {} as never)).message).toMatch(
      /broker must be a non-empty string/,
    );
  });

  it('consuming from an undeclared queue answers 404 NOT_FOUND', () => {
    const { sim, client } = world();
    const r = client('c').consume('ghost', {}, () => {});
    sim.run({ until: 100 });
    expect(r.ready.value).toEqual({ ok: false, error: { code: 404, text: "NOT_FOUND - no queue 'ghost'" } });
  });
});
