import { DsimError, exponential, Network, Simulation, type TraceRecord } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import type { BackendHealth } from '../src/balancer/health-hook.js';
import { ConnectionClient, type ConnectionResponse } from '../src/balancer/l4/connection-client.js';
import { L4Balancer } from '../src/balancer/l4/l4-balancer.js';
import type { L4BalancerOptions } from '../src/balancer/l4/l4-options.js';
import { Service } from '../src/service/service.js';

function setup(
  options: Omit<L4BalancerOptions, 'backends'> & { backends?: string[] } = {},
  { serviceTime = 1, seed = 1 }: { serviceTime?: number; seed?: number } = {},
) {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  const backends = options.backends ?? ['a', 'b', 'c'];
  const services = backends.map(
    (address) =>
      new Service(net.addNode(address), { serviceTime, concurrency: 1000, respond: () => address }),
  );
  const l4 = new L4Balancer(net.addNode('nlb'), { ...options, backends });
  return { sim, net, l4, services };
}

/** Counts answers by backend. */
function tally(responses: readonly ConnectionResponse[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of responses) if (r.ok) out[r.backend] = (out[r.backend] ?? 0) + 1;
  return out;
}

describe('L4Balancer assigns connections, not requests', () => {
  it('A-T8: 3 backends, 4 equal long-lived connections by round robin give 50% / 25% / 25%', () => {
    const { sim, net, l4 } = setup({ policy: { kind: 'round-robin' } });
    const clients = [0, 1].map(
      (i) => new ConnectionClient(net.addNode(`client-${i}`), { balancer: l4, connections: 2 }),
    );
    // Connections in order: client-0 #1 -> a, #2 -> b; client-1 #1 -> c, #2 -> a.
    expect(clients.map((c) => c.backends)).toEqual([
      ['a', 'b'],
      ['c', 'a'],
    ]);
    expect(l4.backends.map((b) => b.connections)).toEqual([2, 1, 1]);
    const responses: ConnectionResponse[] = [];
    sim.process(function* () {
      for (let i = 0; i < 1000; i++) {
        for (const c of clients) c.call(i).onProcessed((e) => responses.push(e.value!));
        yield sim.timeout(1);
      }
    });
    sim.run();
    expect(tally(responses)).toEqual({ a: 1000, b: 500, c: 500 });
    // The balancer's node never saw a request.
    expect(sim.metrics.counter('nlb', 'rpc.served').value).toBe(0);
    expect(l4.stats).toEqual({ opened: 4, closed: 0, broken: 0, refused: 0, active: 4 });
  });

  it('a client spreads its requests round robin over its own connections', () => {
    const { sim, net, l4 } = setup({ backends: ['a', 'b', 'c', 'd'] });
    const client = new ConnectionClient(net.addNode('client'), { balancer: l4, connections: 3 });
    const seen: string[] = [];
    for (let i = 0; i < 7; i++)
      client.call(i).onProcessed((e) => seen.push((e.value as { backend: string }).backend));
    sim.run();
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    expect(client.stats).toMatchObject({ requests: 7, ok: 7, failed: 0, inFlight: 0 });
    expect(sim.metrics.counter('client', 'conn.backend.a.requests').value).toBe(3);
  });

  it('least-connections counts open connections; ties go to the lowest index', () => {
    const { l4 } = setup({ policy: { kind: 'least-connections' } });
    const c1 = l4.connect('x', 1)!;
    const c2 = l4.connect('x', 2)!;
    const c3 = l4.connect('x', 3)!;
    expect([c1.backend, c2.backend, c3.backend]).toEqual(['a', 'b', 'c']);
    l4.close(c2);
    expect(c2.open).toBe(false);
    expect(l4.connect('x', 4)!.backend).toBe('b');
    expect(l4.connect('x', 5)!.backend).toBe('a');
    l4.close(c2); // already closed: nothing happens
    expect(l4.stats).toEqual({ opened: 5, closed: 1, broken: 0, refused: 0, active: 4 });
  });

  it('five-tuple-hash and maglev depend only on (client, port); maglev moves few flows when a backend goes', () => {
    const down = new Set<string>();
    const health: BackendHealth = { isAvailable: (a) => !down.has(a) };
    const backends = ['a', 'b', 'c', 'd', 'e'];
    const hash = setup({ backends, policy: { kind: 'five-tuple-hash' } }).l4;
    const hash2 = setup({ backends, policy: { kind: 'five-tuple-hash' } }, { seed: 99 }).l4;
    const maglev = setup({ backends, policy: { kind: 'maglev', tableSize: 251 }, health: [health] }).l4;
    const counts: Record<string, number> = {};
    const before: string[] = [];
    for (let port = 0; port < 5000; port++) {
      const b = hash.connect('10.0.0.1', port)!.backend;
      expect(hash2.connect('10.0.0.1', port)!.backend).toBe(b);
      counts[b] = (counts[b] ?? 0) + 1;
      before.push(maglev.connect('10.0.0.1', port)!.backend);
    }
    for (const b of backends) expect(Math.abs(counts[b]! - 1000)).toBeLessThan(150);
    down.add('c');
    let moved = 0;
    for (let port = 0; port < 5000; port++) {
      const b = maglev.connect('10.0.0.1', port)!.backend;
      expect(b).not.toBe('c');
      if (before[port] !== 'c' && b !== before[port]) moved++;
    }
    // Only flows of the backend that left must move; Maglev moves a few others too.
    expect(moved / 5000).toBeLessThan(0.05);
    // Health only steers new connections: those already on 'c' are still open.
    expect(maglev.connectionsOf('c')).toBe(before.filter((b) => b === 'c').length);
  });
});

describe('health and crashes', () => {
  it('a health change affects only new connections', () => {
    const down = new Set<string>();
    const { sim, net, l4 } = setup({ health: [{ isAvailable: (a) => !down.has(a) }] });
    const c0 = new ConnectionClient(net.addNode('c0'), { balancer: l4, connections: 1 });
    down.add('b');
    const c1 = new ConnectionClient(net.addNode('c1'), { balancer: l4, connections: 1 });
    down.add('a');
    const out: ConnectionResponse[] = [];
    c0.call(1).onProcessed((e) => out.push(e.value!));
    c1.call(2).onProcessed((e) => out.push(e.value!));
    sim.run();
    // c0 connected to 'a' before 'a' went unhealthy: it stays there.
    expect(out.map((r) => r.ok && r.backend)).toEqual(['a', 'c']);
  });

  it("a backend's crash fails the requests on its connections, the client reconnects, the backend returns after restart", () => {
    const { sim, net, l4 } = setup({ backends: ['a', 'b'] }, { serviceTime: 10 });
    const records: TraceRecord[] = [];
    sim.inspect((r) => {
      if (r.type.startsWith('@dsim.lb.')) records.push(r);
    });
    const client = new ConnectionClient(net.addNode('client'), { balancer: l4, connections: 2 });
    expect(client.backends).toEqual(['a', 'b']);
    const out: [number, ConnectionResponse][] = [];
    for (let i = 0; i < 4; i++) client.call(i).onProcessed((e) => out.push([sim.now, e.value!]));
    sim.schedule(5, () => net.crash('a'));
    sim.schedule(6, () => {
      // Both connections now on 'b'; a new one after the restart goes round robin to 'a' again.
      expect(client.backends).toEqual(['b', 'b']);
      expect(l4.backends.map((b) => b.up)).toEqual([false, true]);
      for (let i = 4; i < 6; i++) client.call(i).onProcessed((e) => out.push([sim.now, e.value!]));
    });
    sim.schedule(20, () => {
      net.restart('a');
      expect(l4.connect('other', 1)!.backend).toBe('a');
    });
    sim.run();
    const failed = out.filter(([, r]) => !r.ok);
    expect(failed.map(([t, r]) => [t, !r.ok && r.error.kind])).toEqual([
      [5, 'unavailable'],
      [5, 'unavailable'],
    ]);
    expect(out.filter(([, r]) => r.ok).map(([, r]) => r.backend)).toEqual(['b', 'b', 'b', 'b']);
    expect(client.stats).toEqual({
      requests: 6,
      ok: 4,
      failed: 2,
      inFlight: 0,
      broken: 2,
      noConnection: 0,
      opened: 3,
      reconnects: 1,
      closed: 0,
      pending: 0,
      overflows: 0,
    });
    expect(l4.stats).toEqual({ opened: 4, closed: 0, broken: 1, refused: 0, active: 3 });
    expect(records.filter((r) => r.type === '@dsim.lb.disconnect')).toMatchObject([
      { lb: 'nlb', backend: 'a', reason: 'backend-crashed', lifetime: 5 },
    ]);
    expect(records.filter((r) => r.type === '@dsim.lb.reconnect')).toMatchObject([
      { client: 'client', slot: 0, backend: 'b' },
    ]);
    expect(records.filter((r) => r.type === '@dsim.lb.connect')).toHaveLength(4);
  });

  it('with no backend a connect is refused and the request fails unavailable; reconnectDelay waits', () => {
    const { sim, net, l4 } = setup({ backends: ['a'] });
    const client = new ConnectionClient(net.addNode('client'), {
      balancer: l4,
      connections: 1,
      reconnectDelay: '100ms',
    });
    const out: [number, ConnectionResponse][] = [];
    sim.schedule(1, () => net.crash('a'));
    sim.schedule(2, () => client.call(1).onProcessed((e) => out.push([sim.now, e.value!])));
    sim.schedule(50, () => net.restart('a'));
    sim.schedule(60, () => client.call(2).onProcessed((e) => out.push([sim.now, e.value!])));
    sim.run();
    expect(out.map(([t, r]) => [t, r.ok ? r.backend : r.error.kind])).toEqual([
      [2, 'unavailable'],
      [61, 'a'],
    ]);
    expect(client.stats.noConnection).toBe(1);
    expect(l4.stats.refused).toBe(1);
  });

  it("the client's own crash closes its connections and fails its requests", () => {
    const { sim, net, l4 } = setup({}, { serviceTime: 10 });
    const client = new ConnectionClient(net.addNode('client'), { balancer: l4, connections: 2 });
    const out: ConnectionResponse[] = [];
    client.call(1).onProcessed((e) => out.push(e.value!));
    sim.schedule(3, () => net.crash('client'));
    sim.run();
    expect(out).toMatchObject([{ ok: false, error: { kind: 'unavailable' } }]);
    expect(l4.stats).toMatchObject({ closed: 2, active: 0 });
  });
});

describe('latency and timeouts', () => {
  it('the pass-through delay is paid on the way in only; a slow answer times out', () => {
    const { sim, net, l4 } = setup({ latency: 2 }, { serviceTime: 5 });
    const client = new ConnectionClient(net.addNode('client'), { balancer: l4, timeout: '6ms' });
    const out: ConnectionResponse[] = [];
    client.call(1).onProcessed((e) => out.push(e.value!));
    client.call(2, { timeout: 10 }).onProcessed((e) => out.push(e.value!));
    sim.run();
    expect(out.map((r) => [r.ok || r.error.kind, r.latency])).toEqual([
      ['timeout', 6],
      [true, 7],
    ]);
    // The first answer came at 7 ms, after its caller gave up: wasted work, counted late by the endpoint.
    expect(client.endpoint.stats.late).toBe(1);
  });

  it('a latency distribution draws from the balancer stream: same seed, same latencies', () => {
    const run = (seed: number) => {
      const { sim, net, l4 } = setup({ latency: exponential({ mean: 1 }) }, { serviceTime: 0, seed });
      const client = new ConnectionClient(net.addNode('client'), { balancer: l4, connections: 2 });
      const lat: number[] = [];
      for (let i = 0; i < 5; i++) client.call(i).onProcessed((e) => lat.push(e.value!.latency));
      sim.run();
      return lat;
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });
});

describe('options are checked at construction', () => {
  const bad = (fn: () => unknown, pattern: RegExp) => {
    let error: unknown;
    try {
      fn();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DsimError);
    expect((error as Error).message).toMatch(pattern);
  };

  it('names misspelt keys and kinds, and bad values', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    net.addNode('a');
    net.addNode('b');
    const node = () => net.addNode(`n-${net.addresses.length}`);
    bad(
      () => new L4Balancer(node(), { backends: ['a'], polcy: { kind: 'maglev' } } as never),
      /L4Balancer: unknown option "polcy" \(did you mean "policy"\?\)/,
    );
    bad(
      () => new L4Balancer(node(), { backends: ['a'], policy: { kind: 'magelv' } } as never),
      /L4Balancer: policy\.kind must be one of .*got "magelv" \(did you mean "maglev"\?\)/,
    );
    bad(
      () =>
        new L4Balancer(node(), { backends: ['a'], policy: { kind: 'round-robin', tableSize: 7 } } as never),
      /unknown option "policy\.tableSize"/,
    );
    bad(
      () => new L4Balancer(node(), { backends: ['a', 'b'], policy: { kind: 'maglev', tableSize: 100 } }),
      /L4Balancer: policy\.tableSize must be a prime/,
    );
    bad(
      () => new L4Balancer(node(), { backends: ['a', 'zz'] }),
      /backends\[1\] must be the address of a node/,
    );
    bad(
      () => new L4Balancer(node(), { backends: ['a', 'a'] }),
      /backends\[1\] must be an address not already/,
    );
    bad(
      () => new L4Balancer(node(), { backends: ['a'], latency: { mean: 1 } } as never),
      /latency must be a distribution/,
    );
    const l4 = new L4Balancer(node(), { backends: ['a', 'b'] });
    bad(
      () => new ConnectionClient(node(), { balancer: l4, conections: 2 } as never),
      /ConnectionClient: unknown option "conections" \(did you mean "connections"\?\)/,
    );
    bad(
      () => new ConnectionClient(node(), { balancer: l4, connections: 0 }),
      /connections must be an integer in \[1, 100000\]/,
    );
    bad(() => new ConnectionClient(node(), { balancer: l4, timeout: 0 }), /timeout must be a duration > 0/);
    bad(() => new ConnectionClient(node(), { balancer: {} as never }), /balancer must be an L4Balancer/);
    const client = new ConnectionClient(node(), { balancer: l4 });
    bad(
      () => client.call(1, { tiemout: 5 } as never),
      /unknown option "tiemout" \(did you mean "timeout"\?\)/,
    );
  });
});
