import { constant, Network, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { ConnectionClient, type ConnectionResponse } from '../src/balancer/l4/connection-client.js';
import { L4Balancer } from '../src/balancer/l4/l4-balancer.js';
import type { ConnectionClientOptions } from '../src/balancer/l4/l4-options.js';
import { Service } from '../src/service/service.js';

function setup(
  client: Omit<ConnectionClientOptions, 'balancer'>,
  { serviceTime = 10, backends = ['a', 'b', 'c'], seed = 1 } = {},
) {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  for (const address of backends)
    new Service(net.addNode(address), { serviceTime, concurrency: 1000, respond: () => address });
  const l4 = new L4Balancer(net.addNode('nlb'), { backends, policy: { kind: 'round-robin' } });
  const c = new ConnectionClient(net.addNode('client'), { balancer: l4, ...client });
  const out: [number, ConnectionResponse][] = [];
  const call = (n: number, options?: Parameters<ConnectionClient['call']>[1]) => {
    for (let i = 0; i < n; i++) c.call(i, options).onProcessed((e) => out.push([sim.now, e.value!]));
  };
  return { sim, net, l4, client: c, out, call };
}

const served = (out: [number, ConnectionResponse][]) =>
  out.map(([t, r]) => [t, r.ok ? r.backend : r.error.kind]);

describe('HTTP/1.1 keep-alive pool', () => {
  it('opens connections on demand, one request each; the rest wait in FIFO order for a free one', () => {
    const { sim, l4, client, out, call } = setup({ protocol: 'http1.1', connections: 2 });
    expect(client.backends).toEqual([]); // nothing opened before the first request
    call(5);
    expect(client.stats).toMatchObject({ opened: 2, pending: 3, inFlight: 5 });
    sim.run();
    // Two at a time: 10 ms each, the waiting ones on the connection freed first (a, then b).
    expect(served(out)).toEqual([
      [10, 'a'],
      [10, 'b'],
      [20, 'a'],
      [20, 'b'],
      [30, 'a'],
    ]);
    expect(l4.stats.opened).toBe(2);
    const wait = sim.metrics.histogram('client', 'conn.wait');
    expect(wait.count).toBe(5);
    expect(wait.percentile(100)).toBeCloseTo(20, 1);
    expect(client.stats).toMatchObject({ requests: 5, ok: 5, pending: 0, inFlight: 0, closed: 0 });
  });

  it('reuses the most recently freed connection first: at low load every request rides one backend', () => {
    const { sim, client, out, call } = setup({ protocol: 'http1.1', connections: 4 });
    sim.process(function* () {
      call(3); // opens a, b, c
      yield sim.timeout(50);
      for (let i = 0; i < 6; i++) {
        call(1);
        yield sim.timeout(50);
      }
    });
    sim.run();
    // The burst frees a, b, c at 10 ms in that order: c is the most recent, and keeps every later request.
    expect(out.slice(3).map(([, r]) => r.ok && r.backend)).toEqual(['c', 'c', 'c', 'c', 'c', 'c']);
    expect(client.stats.opened).toBe(3);
  });

  it('maxPending bounds the queue: one more request fails overloaded at once', () => {
    const { sim, client, out, call } = setup({ protocol: 'http1.1', connections: 1, maxPending: 2 });
    call(4);
    sim.run();
    expect(served(out)).toEqual([
      [0, 'overloaded'],
      [10, 'a'],
      [20, 'a'],
      [30, 'a'],
    ]);
    expect(client.stats).toMatchObject({ overflows: 1, failed: 1, ok: 3 });
  });

  it('a timeout closes the connection it happened on; the next request opens a new one elsewhere', () => {
    const { sim, l4, client, out, call } = setup({ protocol: 'http1.1', connections: 1, timeout: 5 });
    call(2); // the second waits for the first's connection
    sim.run();
    // The first times out at 5 and cuts its connection to a; the second, queued since 0, gets a new
    // connection (b), then times out too at 5 ms after its call.
    expect(served(out)).toEqual([
      [5, 'timeout'],
      [5, 'timeout'],
    ]);
    expect(client.stats).toMatchObject({ opened: 2, closed: 2, reconnects: 1 });
    expect(l4.stats).toMatchObject({ opened: 2, closed: 2, active: 0 });
  });

  it('a waiting request times out in the queue, counting the wait', () => {
    const { sim, client, out, call } = setup({ protocol: 'http1.1', connections: 1 });
    call(1);
    call(1, { timeout: 4 });
    sim.run();
    expect(served(out)).toEqual([
      [4, 'timeout'],
      [10, 'a'],
    ]);
    expect(client.stats).toMatchObject({ pending: 0, closed: 0, opened: 1 });
  });

  it("a backend's crash fails the request on each of its connections; waiting requests get new connections", () => {
    const { sim, net, client, out, call } = setup({ protocol: 'http1.1', connections: 2 });
    call(4); // a and b busy, two waiting
    sim.schedule(5, () => net.crash('a'));
    sim.run();
    expect(served(out)).toEqual([
      [5, 'unavailable'],
      [10, 'b'],
      [15, 'c'],
      [20, 'b'],
    ]);
    expect(client.stats).toMatchObject({ broken: 1, opened: 3, reconnects: 1 });
  });

  it('connectTime delays only the first request of a connection', () => {
    const { sim, out, call } = setup({ protocol: 'http1.1', connections: 1, connectTime: constant(3) });
    sim.process(function* () {
      call(1);
      yield sim.timeout(20);
      call(1);
    });
    sim.run();
    expect(out.map(([, r]) => r.latency)).toEqual([13, 10]);
  });

  it('idleTimeout closes an idle connection; the next request is assigned afresh', () => {
    const { sim, l4, client, out, call } = setup({ protocol: 'http1.1', connections: 1, idleTimeout: 100 });
    sim.process(function* () {
      call(1); // a, idle from 10
      yield sim.timeout(50);
      call(1); // a again (idle 40 ms), idle from 60
      yield sim.timeout(200);
      call(1); // closed at 160: a new connection, b
    });
    sim.run();
    expect(out.map(([, r]) => r.ok && r.backend)).toEqual(['a', 'a', 'b']);
    expect(client.stats).toMatchObject({ opened: 2, closed: 2 });
    expect(l4.stats.active).toBe(0);
  });

  it('the client counts balance at every moment across seeds with backend crashes', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { sim, net, l4, client, out } = setup(
        { protocol: 'http1.1', connections: 3, timeout: 40, maxPending: 20, idleTimeout: 30 },
        { serviceTime: 0, seed, backends: ['a', 'b', 'c', 'd'] },
      );
      const rng = sim.rng('test');
      sim.process(function* () {
        for (let i = 0; i < 400; i++) {
          client.call(i).onProcessed((e) => out.push([sim.now, e.value!]));
          yield sim.timeout(-Math.log(1 - rng.next()) * 4);
        }
      });
      for (const [at, who] of [
        [300, 'a'],
        [700, 'c'],
      ] as const) {
        sim.schedule(at, () => net.crash(who));
        sim.schedule(at + 200, () => net.restart(who));
      }
      sim.watch(5, () => {
        const s = client.stats;
        expect(s.requests).toBe(s.ok + s.failed + s.inFlight);
        expect(l4.stats.active).toBe(client.backends.length);
        expect(client.backends.length).toBeLessThanOrEqual(3);
      });
      sim.run();
      const s = client.stats;
      expect(s).toMatchObject({ requests: 400, inFlight: 0, pending: 0 });
      expect(out).toHaveLength(400);
      expect(s.ok + s.failed).toBe(400);
    }
  });
});

describe('HTTP/2 with maxRequestsPerConnection', () => {
  it('retires a connection after N requests: the next request is assigned afresh, so load rebalances', () => {
    const { sim, l4, client, out, call } = setup(
      { connections: 1, maxRequestsPerConnection: 2 },
      { serviceTime: 1 },
    );
    sim.process(function* () {
      for (let i = 0; i < 6; i++) {
        call(1);
        yield sim.timeout(5);
      }
    });
    sim.run();
    expect(out.map(([, r]) => r.ok && r.backend)).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
    expect(client.stats).toMatchObject({ opened: 3, closed: 3, reconnects: 2 });
    expect(l4.stats).toMatchObject({ opened: 3, closed: 3, active: 0 });
  });

  it('a retired connection closes only once its requests are answered', () => {
    const { sim, l4, client, out, call } = setup({ connections: 1, maxRequestsPerConnection: 2 });
    call(3); // two on a (retired), one on b, all in flight at once
    expect(l4.stats.active).toBe(2);
    sim.run();
    expect(out.map(([, r]) => r.ok && r.backend)).toEqual(['a', 'a', 'b']);
    expect(client.stats.closed).toBe(1); // a, after its two answers; b stays open
    expect(l4.stats.active).toBe(1);
  });
});

describe('keep-alive options are checked', () => {
  it('names bad values and options that do not apply', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    new Service(net.addNode('a'), { serviceTime: 1 });
    const l4 = new L4Balancer(net.addNode('nlb'), { backends: ['a'] });
    const make = (o: object) => () =>
      new ConnectionClient(net.addNode(`c${Math.floor(sim.now)}-${Object.keys(o).join()}`), {
        balancer: l4,
        ...o,
      } as ConnectionClientOptions);
    expect(make({ protocol: 'http/1.1' })).toThrow(
      /protocol must be one of "http2", "http1.1", got "http\/1.1" \(did you mean "http1.1"\?\)/,
    );
    expect(make({ maxPending: 3 })).toThrow(/maxPending must be no value with protocol 'http2'/);
    expect(make({ protocol: 'http1.1', maxPending: -1 })).toThrow(/maxPending must be/);
    expect(make({ idleTimeout: 0 })).toThrow(/idleTimeout must be/);
    expect(make({ maxRequestsPerConnection: 0.5 })).toThrow(/maxRequestsPerConnection must be/);
    expect(make({ connectTime: 'soon' })).toThrow(/connectTime/);
    expect(make({ keepAlive: true })).toThrow(/unknown option "keepAlive"/);
  });
});
