import { describe, expect, expectTypeOf, it } from 'vitest';
import { exponential } from '../src/index.js';
import { Network } from '../src/net/network.js';
import { RpcEndpoint } from '../src/rpc/endpoint.js';
import type { RpcRequest, RpcResponse } from '../src/rpc/types.js';
import { Simulation } from '../src/simulation.js';
import { thrown } from './support/thrown.js';

function setup(serverDelay = 5, latency: number | ReturnType<typeof exponential> = 1, seed = 1) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency } });
  const serverNode = net.addNode('server');
  const server = new RpcEndpoint<string, string>(serverNode).serve((req, reply) => {
    serverNode.setTimer(serverDelay, () => reply.ok(`echo ${req.payload}`));
  });
  const client = new RpcEndpoint<string, string>(net.addNode('client'));
  return { sim, net, server, client };
}

describe('request/response', () => {
  it('returns the value with the latency measured by the caller (typed with yield*)', () => {
    const { sim, client } = setup();
    let res: RpcResponse<string> | undefined;
    sim.process(function* () {
      yield sim.timeout(10);
      const r = yield* client.call<string>('server', 'hi', { key: 'k', size: 10 });
      expectTypeOf(r).toEqualTypeOf<RpcResponse<string>>();
      res = r;
    });
    sim.run();
    expect(res).toMatchObject({ ok: true, value: 'echo hi', latency: 7 });
    expect(res!.request).toMatchObject({
      id: 1,
      from: 'client',
      to: 'server',
      origin: 10,
      attempt: 1,
      key: 'k',
      size: 10,
      sentAt: 10,
      deadline: Infinity,
    });
    expect(client.stats).toMatchObject({ sent: 1, ok: 1, failed: 0, inFlight: 0, late: 0 });
  });

  it('times out when the server is partitioned away, at exactly the timeout', () => {
    const { sim, net, client } = setup();
    net.partition('client', 'server');
    const done: Array<[number, RpcResponse]> = [];
    client.call('server', 'x', { timeout: 50 }).onProcessed((e) => done.push([sim.now, e.value!]));
    sim.run();
    expect(done).toHaveLength(1);
    expect(done[0]![0]).toBe(50);
    expect(done[0]![1]).toMatchObject({ ok: false, error: { kind: 'timeout' }, latency: 50 });
    expect(client.stats.failedBy.timeout).toBe(1);
  });

  it('times out when the server crashed; a slow answer after the timeout is wasted work, not success', () => {
    const slow = setup(100);
    const results: boolean[] = [];
    slow.client.call('server', 'x', { timeout: 20 }).onProcessed((e) => results.push(e.value!.ok));
    slow.sim.run();
    expect(results).toEqual([false]);
    expect(slow.client.stats).toMatchObject({ sent: 1, ok: 0, failed: 1, late: 1, inFlight: 0 });

    const crashed = setup();
    crashed.net.crash('server');
    crashed.client.call('server', 'x', { timeout: 20 }).onProcessed((e) => results.push(e.value!.ok));
    crashed.sim.run();
    expect(crashed.client.stats.failedBy.timeout).toBe(1);
    expect(crashed.sim.now).toBe(20);
  });

  it('sends each answer back by the route its request came: link faults on the way back still apply', () => {
    // A partition raised while the server works drops the answer (the request already got through).
    const cut = setup(10);
    const results: Array<[number, boolean]> = [];
    cut.client
      .call('server', 'x', { timeout: 50 })
      .onProcessed((e) => results.push([cut.sim.now, e.value!.ok]));
    cut.sim.schedule(5, () => cut.net.partition('server', 'client', { oneWay: true }));
    cut.sim.run();
    expect(results).toEqual([[50, false]]);
    expect(cut.net.stats.droppedBy.partition).toBe(1);

    // The way back has its own link: a slow server -> client link delays only the answers.
    const slowBack = setup(5);
    slowBack.net.setLink('server', 'client', { latency: 30 });
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++)
      slowBack.client.call('server', `r${i}`).onProcessed((e) => latencies.push(e.value!.latency));
    slowBack.sim.run();
    expect(latencies).toEqual([36, 36, 36]); // 1 there, 5 of work, 30 back

    // A duplicated request is served twice; the second answer is late, and both go back.
    const dup = setup(5);
    dup.net.setLink('client', 'server', { duplicate: 1 });
    const answers: string[] = [];
    dup.client.call('server', 'd').onProcessed((e) => answers.push(String(e.value!.ok && e.value!.value)));
    dup.sim.run();
    expect(answers).toEqual(['echo d']);
    expect(dup.server.stats.sent).toBe(0);
    expect(dup.client.stats).toMatchObject({ ok: 1, late: 1 });
  });

  it('propagates origin and deadline to downstream calls', () => {
    const sim = new Simulation();
    const net = new Network(sim, { defaults: { latency: 1 } });
    const seenByB: RpcRequest[] = [];
    const a = new RpcEndpoint(net.addNode('a'));
    const b = new RpcEndpoint(net.addNode('b')).serve((req, reply) => {
      seenByB.push(req);
      reply.ok('b');
    });
    a.serve((req, reply) => {
      b.node.network.sim.schedule(3, () => {
        a.call('b', 'inner', { parent: req }).onProcessed((e) => reply.ok(e.value!.ok ? 'a+b' : 'a'));
      });
    });
    void b;
    const client = new RpcEndpoint(net.addNode('c'));
    sim.schedule(100, () => client.call('a', 'outer', { timeout: 50 }));
    sim.run();
    expect(seenByB).toHaveLength(1);
    expect(seenByB[0]).toMatchObject({ origin: 100, deadline: 150, sentAt: 104 });
  });

  it('a call whose propagated deadline has already passed fails at once with timeout, unsent (as gRPC does)', () => {
    const sim = new Simulation();
    const net = new Network(sim, { defaults: { latency: 1 } });
    const seenByB: RpcRequest[] = [];
    const b = new RpcEndpoint(net.addNode('b')).serve((req, reply) => {
      seenByB.push(req);
      reply.ok('b');
    });
    const inner: RpcResponse[] = [];
    const a = new RpcEndpoint(net.addNode('a')).serve((req, reply) => {
      // The caller gave up at 150; a works until 200, then calls b with the request as parent.
      sim.schedule(99, () =>
        a.callThen('b', 'inner', { parent: req }, (res) => {
          inner.push(res);
          reply.ok('late');
        }),
      );
    });
    void b;
    const client = new RpcEndpoint(net.addNode('c'));
    sim.schedule(100, () => client.call('a', 'outer', { timeout: 50 }));
    sim.run();
    expect(seenByB).toHaveLength(0);
    expect(inner).toHaveLength(1);
    expect(inner[0]).toMatchObject({ ok: false, latency: 0, error: { kind: 'timeout' } });
    expect(!inner[0]!.ok && inner[0]!.error.message).toBe('deadline passed 50 ms before the call');
    expect(a.stats).toMatchObject({ sent: 1, failed: 1, inFlight: 0 });
  });
  it('serving returns the handler given to serve(), so a filter can wrap it', () => {
    const { sim, client, server } = setup(5);
    expect(new RpcEndpoint(new Network(new Simulation()).addNode('idle')).serving).toBeNull();
    const inner = server.serving!;
    let refused = 0;
    server.serve((req, reply) => {
      if (req.payload === 'no') {
        refused++;
        reply.error('overloaded');
      } else inner(req, reply);
    });
    const answers: RpcResponse<string>[] = [];
    client.call('server', 'yes').onProcessed((e) => answers.push(e.value!));
    client.call('server', 'no').onProcessed((e) => answers.push(e.value!));
    sim.run();
    expect(refused).toBe(1);
    expect(answers.map((a) => (a.ok ? a.value : a.error.kind))).toEqual(['overloaded', 'echo yes']);
  });

  it('a retry without a parent can carry the origin of the call it retries', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    const seen: RpcRequest[] = [];
    new RpcEndpoint(net.addNode('s')).serve((req, reply) => {
      seen.push(req);
      reply.ok(1);
    });
    const client = new RpcEndpoint(net.addNode('c'));
    sim.schedule(30, () => client.call('s', 'retry', { origin: 10, attempt: 2 }));
    sim.run();
    expect(seen[0]).toMatchObject({ origin: 10, sentAt: 30, attempt: 2 });
  });

  it('fails pending calls as unavailable when the caller crashes', () => {
    const { sim, net, client } = setup(100);
    const kinds: string[] = [];
    client.call('server', 'x').onProcessed((e) => kinds.push(e.value!.ok ? 'ok' : e.value!.error.kind));
    sim.schedule(10, () => net.crash('client'));
    sim.run();
    expect(kinds).toEqual(['unavailable']);
    expect(client.stats).toMatchObject({ failed: 1, inFlight: 0, late: 0 });
    // The server still did the work; its answer reached a dead node and was dropped by the network.
    expect(net.stats.droppedBy['receiver-down']).toBe(1);
  });

  it('a node that serves nothing answers unavailable; answering twice is an error', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    const client = new RpcEndpoint(net.addNode('c'));
    new RpcEndpoint(net.addNode('idle'));
    const twice = new RpcEndpoint(net.addNode('twice')).serve((_req, reply) => {
      reply.ok(1);
      reply.ok(2);
    });
    void twice;
    const kinds: string[] = [];
    client.call('idle', 'x').onProcessed((e) => kinds.push(e.value!.ok ? 'ok' : e.value!.error.kind));
    sim.run();
    expect(kinds).toEqual(['unavailable']);
    client.call('twice', 'x');
    expect(thrown(() => sim.run()).message).toContain('already answered');
  });

  it('rejects bad call options, naming them', () => {
    const { client } = setup();
    expect(thrown(() => client.call('server', 'x', { timeout: -1 })).message).toContain('timeout');
    expect(thrown(() => client.call('server', 'x', { attempt: 0 })).message).toContain('attempt');
    expect(thrown(() => client.call('server', 'x', { origin: 5 })).message).toContain('origin');
    expect(client.stats.sent).toBe(0);
  });

  it('nothing lost or counted twice: sent = ok + failed + in flight at every moment, across 20 seeds with faults', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const sim = new Simulation({ seed });
      const net = new Network(sim, {
        defaults: { latency: exponential({ mean: 3 }), loss: 0.02, duplicate: 0.02 },
      });
      const servers = ['s1', 's2', 's3'];
      for (const s of servers) {
        const node = net.addNode(s);
        const rng = sim.rng(`test/${s}`);
        new RpcEndpoint(node).serve((_req, reply) => node.setTimer(rng.next() * 20, () => reply.ok('v')));
      }
      const client = new RpcEndpoint(net.addNode('client'));
      const rng = sim.rng('test/client');
      for (let i = 0; i < 300; i++)
        sim.schedule(rng.next() * 1000, () => client.call(rng.pick(servers), i, { timeout: 15 }));
      for (let i = 0; i < 10; i++) {
        sim.schedule(rng.next() * 1000, () => {
          const s = rng.pick(servers);
          if (net.node(s).state !== 'up') return;
          if (rng.bool()) {
            net.crash(s);
            sim.schedule(rng.next() * 100, () => net.restart(s));
          } else {
            const h = net.partition('client', s);
            sim.schedule(rng.next() * 100, () => h.heal());
          }
        });
      }
      let violations = 0;
      for (let t = 0; t < 1200; t++) {
        sim.scheduleAt(
          t,
          () => {
            const s = client.stats;
            if (s.sent !== s.ok + s.failed + s.inFlight) violations++;
          },
          { priority: 5 },
        );
      }
      sim.run();
      const s = client.stats;
      expect(violations, `seed ${seed}`).toBe(0);
      expect(s).toMatchObject({ sent: 300, inFlight: 0 });
      expect(s.ok + s.failed).toBe(300);
      expect(s.failedBy.timeout, `seed ${seed}`).toBeGreaterThan(0);
    }
  });
});

describe('one endpoint per node', () => {
  it('a second endpoint on a node is an error naming the node; RpcEndpoint.of shares the first', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const node = net.addNode('app');
    const first = RpcEndpoint.of(node);
    expect(RpcEndpoint.of(node)).toBe(first);
    expect(() => new RpcEndpoint(node)).toThrow(
      /node 'app' already has an RpcEndpoint.*RpcEndpoint\.of\(node\)/,
    );
    // Two clients sharing it each get their own answers.
    const server = new RpcEndpoint(net.addNode('db'));
    server.serve((req, reply) => reply.ok(`${req.payload}!`));
    const answers: unknown[] = [];
    RpcEndpoint.of(node)
      .call('db', 'a')
      .onProcessed((e) => answers.push(e.value!.ok && e.value!.value));
    first.call('db', 'b').onProcessed((e) => answers.push(e.value!.ok && e.value!.value));
    sim.run();
    expect(answers).toEqual(['a!', 'b!']);
  });
});

describe('callThen: the answer in the response event itself', () => {
  it('answers at the same time as call() with the same response, one event sooner', () => {
    const viaEvent = setup();
    const viaCallback = setup();
    const events: RpcResponse<string>[] = [];
    const callbacks: RpcResponse<string>[] = [];
    viaEvent.client.call('server', 'hi').onProcessed((e) => events.push(e.value!));
    viaCallback.client.callThen('server', 'hi', undefined, (res) => callbacks.push(res));
    viaEvent.sim.run();
    viaCallback.sim.run();
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]).toMatchObject({ ok: true, value: 'echo hi', latency: 7 });
    expect(callbacks[0]!.latency).toBe(events[0]!.latency);
    expect(viaCallback.sim.eventCount).toBe(viaEvent.sim.eventCount - 1);
  });

  it('times out, counts a later answer as late, and fails waiting calls in call order on a crash', () => {
    const slow = setup(100);
    const seen: string[] = [];
    slow.client.callThen('server', 'a', { timeout: 50 }, (res) => seen.push(res.ok ? 'ok' : res.error.kind));
    slow.sim.run();
    expect(seen).toEqual(['timeout']);
    expect(slow.client.stats).toMatchObject({ sent: 1, failed: 1, late: 1, inFlight: 0 });

    const crash = setup(100);
    const order: string[] = [];
    for (const p of ['a', 'b', 'c'])
      crash.client.callThen('server', p, undefined, (res) =>
        order.push(`${res.request.payload}:${res.ok ? 'ok' : res.error.kind}`),
      );
    crash.sim.schedule(10, () => crash.net.crash('client'));
    crash.sim.run();
    expect(order).toEqual(['a:unavailable', 'b:unavailable', 'c:unavailable']);
    // The three answers came back to a crashed node: dropped, never counted as success.
    expect(crash.client.stats).toMatchObject({ sent: 3, ok: 0, failed: 3, inFlight: 0 });
  });

  it('rejects a missing callback and bad options with errors naming them', () => {
    const { client } = setup();
    expect(thrown(() => client.callThen('server', 1, undefined, undefined as never)).message).toMatch(
      /done.*a function/,
    );
    expect(thrown(() => client.callThen('server', 1, { timout: 5 } as never, () => {})).message).toMatch(
      /RpcEndpoint.callThen: unknown option "timout".*timeout/,
    );
  });
});
