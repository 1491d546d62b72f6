import { Network, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { DnsResolver, type DnsResolverOptions } from '../src/discovery/dns-resolver.js';
import { DnsServer } from '../src/discovery/dns-server.js';
import { ServiceEndpoints } from '../src/discovery/service-endpoints.js';

/** A headless Service of pod-0 and pod-1 (no propagation delay) behind a DNS server with a 5 s TTL. */
function setup(resolver: Omit<DnsResolverOptions, 'server'> = {}, latency = 0) {
  const sim = new Simulation({ seed: 2 });
  const net = new Network(sim, { defaults: { latency } });
  for (const pod of ['pod-0', 'pod-1']) net.addNode(pod);
  const svc = new ServiceEndpoints(sim, { propagationDelay: 0 });
  svc.addPod('pod-0');
  svc.addPod('pod-1');
  const dns = new DnsServer(net.addNode('dns'), { records: { orders: svc, static: ['a', 'b'] }, ttl: '5s' });
  const r = new DnsResolver(net.addNode('web'), { server: 'dns', ...resolver });
  /** Looks `orders` up at each time and records what it got. */
  const lookups = (times: number[]) => {
    const seen: Array<[number, string]> = [];
    for (const t of times)
      sim.schedule(t - sim.now, () =>
        r.resolve('orders', (a) => seen.push([sim.now, a === null ? 'null' : a.join(',')])),
      );
    return seen;
  };
  return { sim, net, svc, dns, r, lookups };
}

describe('DnsResolver: caching by TTL', () => {
  it("honours the record's TTL: a removed address is served from the cache until the entry expires", () => {
    const c = setup();
    const seen = c.lookups([0, 4999, 5000, 7000, 9999, 10_000]);
    c.sim.schedule(6000, () => c.svc.terminate('pod-1'));
    c.sim.run({ until: 20_000 });
    expect(seen).toEqual([
      [0, 'pod-0,pod-1'],
      [4999, 'pod-0,pod-1'],
      [5000, 'pod-0,pod-1'], // expired at 5 s: queried again, pod-1 still there
      [7000, 'pod-0,pod-1'], // stale: pod-1 left at 6 s, the entry lives until 10 s
      [9999, 'pod-0,pod-1'],
      [10_000, 'pod-0'],
    ]);
    expect(c.r.stats).toEqual({ lookups: 6, hits: 3, queries: 3, failures: 0 });
    expect(c.dns.queries).toBe(3);
  });

  it('a JVM-style override (networkaddress.cache.ttl 30 s) ignores the 5 s TTL', () => {
    const c = setup({ cacheTtl: '30s' });
    const seen = c.lookups([0, 10_000, 29_999, 30_000]);
    c.sim.schedule(6000, () => c.svc.terminate('pod-1'));
    c.sim.run({ until: 40_000 });
    expect(seen.map(([t, a]) => `${t}:${a}`)).toEqual([
      '0:pod-0,pod-1',
      '10000:pod-0,pod-1',
      '29999:pod-0,pod-1',
      '30000:pod-0',
    ]);
    expect(c.r.stats.queries).toBe(2);
  });

  it('cacheTtl Infinity (a JVM with a security manager) never looks again', () => {
    const c = setup({ cacheTtl: Infinity });
    const seen = c.lookups([0, 1_000_000]);
    c.sim.schedule(6000, () => c.svc.terminate('pod-1'));
    c.sim.run({ until: 2_000_000 });
    expect(seen.map(([, a]) => a)).toEqual(['pod-0,pod-1', 'pod-0,pod-1']);
    expect(c.r.stats.queries).toBe(1);
  });

  it('lookups during a query wait for it: one query, every caller answered once', () => {
    const c = setup({}, 1);
    const seen = c.lookups([0, 0, 1]);
    c.sim.run({ until: 10 });
    expect(seen).toEqual([
      [2, 'pod-0,pod-1'],
      [2, 'pod-0,pod-1'],
      [2, 'pod-0,pod-1'],
    ]);
    expect(c.r.stats).toEqual({ lookups: 3, hits: 0, queries: 1, failures: 0 });
  });

  it('a failed query answers null and caches nothing: NXDOMAIN at once, a dead server after the timeout', () => {
    const c = setup({ timeout: '2s' });
    const nx: Array<readonly string[] | null> = [];
    c.r.resolve('nope', (a) => nx.push(a));
    c.sim.run({ until: 1 });
    expect(nx).toEqual([null]);
    c.net.crash('dns');
    const seen = c.lookups([10, 3000]);
    c.sim.run({ until: 10_000 });
    expect(seen).toEqual([
      [2010, 'null'],
      [5000, 'null'],
    ]);
    expect(c.r.stats.failures).toBe(3);
  });

  it('rejects bad input, naming the field', () => {
    const c = setup();
    const node = c.net.addNode('x');
    expect(() => new DnsResolver(node, { server: 'dns', cacheTtl: -1 })).toThrow(/DnsResolver: .*cacheTtl/);
    expect(() => new DnsResolver(node, { server: 'dns', ttl: 1 } as never)).toThrow(/unknown option "ttl"/);
    expect(() => new DnsServer(c.net.addNode('y'), { records: { a: [1] } as never })).toThrow(
      /DnsServer: records.a must be an array of addresses or an EndpointSource/,
    );
  });
});
