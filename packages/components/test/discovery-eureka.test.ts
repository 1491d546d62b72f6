import { Network, RpcEndpoint, Simulation, type TraceRecord } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { LoadBalancer } from '../src/balancer/load-balancer.js';
import { EndpointList, feedLoadBalancer } from '../src/discovery/endpoint-source.js';
import { EurekaClient } from '../src/discovery/eureka-client.js';
import { EurekaInstance } from '../src/discovery/eureka-instance.js';
import type { EurekaServerOptions, LeaseExpiry } from '../src/discovery/eureka-options.js';
import { EurekaServer } from '../src/discovery/eureka-server.js';
import {
  type EurekaSchedule,
  eurekaCrashTimeline,
  eurekaShutdownTimeline,
  stalenessBounds,
  tickAfter,
} from '../src/discovery/staleness.js';

/**
 * A deterministic Eureka topology, zero latency: the server starts at 7 s (eviction and renewal-count
 * runs at 67, 127, ... s; read-only cache refreshes at multiples of 30 s), instance `app-i` starts at
 * 1000 + 100·i ms (heartbeats every 30 s from then; the first one is answered 404 and registers), and
 * the client starts at 5 s (fetches at 5, 35, 65, ... s) with its balancer's first refresh 12 s later
 * (17, 47, 77, ... s). No two layers ever tick at the same instant.
 */
function setup(n = 20, server: EurekaServerOptions = {}) {
  const sim = new Simulation({ seed: 3 });
  const net = new Network(sim);
  const eureka = new EurekaServer(net.addNode('eureka'), { startAfter: 7000, ...server });
  const instances: EurekaInstance[] = [];
  for (let i = 0; i < n; i++) {
    const node = net.addNode(`app-${i}`);
    new RpcEndpoint(node).serve((_req, reply) => reply.ok(i));
    instances.push(new EurekaInstance(node, { server: 'eureka', app: 'orders', startAfter: 1000 + 100 * i }));
  }
  const client = new EurekaClient(net.addNode('web'), {
    server: 'eureka',
    app: 'orders',
    startAfter: 5000,
    balancerInitialDelay: 12_000,
  });
  const schedule: EurekaSchedule = {
    evictionFirst: 67_000,
    evictionInterval: 60_000,
    cacheFirst: 30_000,
    cacheInterval: 30_000,
    useReadOnlyResponseCache: server.useReadOnlyResponseCache ?? true,
    fetchFirst: 5000,
    fetchInterval: 30_000,
    balancerFirst: 17_000,
    balancerInterval: 30_000,
  };
  return { sim, net, eureka, instances, client, schedule };
}

/** The first time (after each processed event) each layer no longer lists `address`. */
function watchDrops(c: ReturnType<typeof setup>, address: string, from: number) {
  const drops = { registry: Number.NaN, responseCache: Number.NaN, client: Number.NaN, balancer: Number.NaN };
  c.sim.watch(1, (sim) => {
    if (sim.now < from) return;
    const mark = (key: keyof typeof drops, listed: boolean) => {
      if (!listed && Number.isNaN(drops[key])) drops[key] = sim.now;
    };
    mark('registry', c.eureka.registered('orders').includes(address));
    mark('responseCache', c.eureka.served('orders').includes(address));
    mark('client', c.client.registryCache.includes(address));
    mark('balancer', c.client.endpoints.includes(address));
  });
  return drops;
}

describe('EurekaServer, EurekaInstance, EurekaClient: registration and steady state', () => {
  it('instances register on their first heartbeat; the client lists them after its caches refresh', () => {
    const c = setup(3);
    // Heartbeats at 31.0, 31.1, 31.2 s are answered 404 and register. The client's first fetch (5 s)
    // found the server not started yet (7 s) and failed; its fetch of 35 s is the first request for the
    // key, read through to the registry; the balancer's refresh of 47 s brings the instances to it.
    c.sim.run({ until: 31_201 });
    expect(c.eureka.registered('orders')).toEqual(['app-0', 'app-1', 'app-2']);
    expect(c.client.stats.fetchFailures).toBe(1);
    expect(c.client.registryCache).toEqual([]);
    c.sim.run({ until: 35_001 });
    expect(c.client.registryCache).toEqual(['app-0', 'app-1', 'app-2']);
    expect(c.client.endpoints).toEqual([]);
    c.sim.run({ until: 47_000 });
    expect(c.client.endpoints).toEqual([]);
    c.sim.run({ until: 47_001 });
    expect(c.client.endpoints).toEqual(['app-0', 'app-1', 'app-2']);
    const s = c.instances[0]!.stats;
    expect(s.reregistrations).toBe(1);
    expect(s.registrations).toBe(1);
    c.sim.run({ until: 300_000 });
    // Heartbeats at 31, 61, ..., 271 s: 9, the first one a registration.
    expect(c.instances[0]!.stats.heartbeats).toBe(9);
    expect(c.eureka.stats.renewals).toBe(3 * 8);
    expect(c.eureka.stats.evictions).toBe(0);
    // expected = 1 (open for traffic) + 3 registrations; threshold floor(4 × 2 × 0.85) = 6.
    expect(c.eureka.expectedClients).toBe(4);
    expect(c.eureka.renewalThreshold).toBe(6);
    expect(c.eureka.renewalsLastMinute).toBe(6);
    // 6 is not above 6: three instances and Spring's open-for-traffic count keep self-preservation on.
    expect(c.eureka.selfPreservationActive).toBe(true);
  });

  it("registration 'at-start' (Spring Cloud) registers at the start, the first heartbeat renews", () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const eureka = new EurekaServer(net.addNode('eureka'));
    const instance = new EurekaInstance(net.addNode('app-0'), {
      server: 'eureka',
      app: 'orders',
      registration: 'at-start',
    });
    sim.run({ until: 1 });
    expect(eureka.registered('orders')).toEqual(['app-0']);
    sim.run({ until: 30_001 });
    expect(instance.stats).toMatchObject({ heartbeats: 1, registrations: 1, reregistrations: 0 });
    expect(eureka.stats.renewals).toBe(1);
  });
});

describe('staleness windows, exact on a deterministic schedule', () => {
  // app-3 starts at 1.3 s: registers at 31.3 s, renews at 61.3, ..., 181.3 s; its next heartbeat would be 211.3 s.
  const crashAt = 200_000;
  const lastRenewal = 181_300;

  it.each<[LeaseExpiry, number, number]>([
    // 181.3 + 2 × 90 = 361.3 s: eviction 367 s, cache 390 s, fetch 395 s, balancer 407 s.
    ['eureka', 367_000, 407_000],
    // 181.3 + 90 = 271.3 s: eviction 307 s, cache 330 s, fetch 335 s, balancer 347 s.
    ['documented', 307_000, 347_000],
  ])('crash, leaseExpiry %s: every layer drops the instance at its exact tick', (expiry, evictAt, balancerAt) => {
    const c = setup(20, { leaseExpiry: expiry });
    c.sim.schedule(crashAt, () => c.net.crash('app-3'));
    const drops = watchDrops(c, 'app-3', crashAt);
    c.sim.run({ until: 500_000 });
    const expected = eurekaCrashTimeline(c.schedule, {
      lastRenewal,
      renewed: true,
      duration: 90_000,
      expiry,
    });
    expect(expected.registry).toBe(evictAt);
    expect(expected.balancer).toBe(balancerAt);
    expect(drops).toEqual(expected);
    expect(expected.responseCache).toBe(tickAfter(30_000, 30_000, evictAt));
    expect(c.eureka.stats.evictions).toBe(1);
    expect(c.eureka.stats.selfPreservationRuns).toBe(1); // the first run, at 67 s: no full minute counted yet
    // Within the bounds over all phases, and the eureka expiry is one lease later than documented.
    const bounds = stalenessBounds('crash', {
      renewal: 30_000,
      lease: 90_000,
      eviction: 60_000,
      cache: 30_000,
      fetch: 30_000,
      balancer: 30_000,
      expiry,
    });
    expect(drops.balancer - crashAt).toBeGreaterThan(bounds.best);
    expect(drops.balancer - crashAt).toBeLessThanOrEqual(bounds.worst);
  });

  it('graceful shutdown: the cancel removes the lease at once, the caches follow at their ticks', () => {
    const c = setup(20);
    c.sim.schedule(crashAt, () => c.instances[3]!.shutdown());
    const drops = watchDrops(c, 'app-3', crashAt);
    c.sim.run({ until: 300_000 });
    expect(drops).toEqual({ registry: 200_000, responseCache: 210_000, client: 215_000, balancer: 227_000 });
    expect(drops).toEqual(eurekaShutdownTimeline(c.schedule, crashAt));
    expect(c.eureka.stats.cancels).toBe(1);
    // The cancel lowers the expected renewals: 21 - 1 = 20 clients, threshold floor(20 × 2 × 0.85) = 34.
    expect(c.eureka.expectedClients).toBe(20);
    expect(c.eureka.renewalThreshold).toBe(34);
  });

  it('without the read-only cache, the fetch after the eviction sees it', () => {
    const c = setup(20, { useReadOnlyResponseCache: false });
    c.sim.schedule(crashAt, () => c.net.crash('app-3'));
    const drops = watchDrops(c, 'app-3', crashAt);
    c.sim.run({ until: 500_000 });
    // Eviction at 367 s; fetch 395 s; balancer 407 s (the cache layer adds nothing here by phase).
    expect(drops).toEqual({ registry: 367_000, responseCache: 367_000, client: 395_000, balancer: 407_000 });
    expect(drops).toEqual(
      eurekaCrashTimeline(c.schedule, { lastRenewal, renewed: true, duration: 90_000, expiry: 'eureka' }),
    );
  });

  it('a model that counts the lease once would be wrong by one lease duration (the check can fail)', () => {
    const c = setup(20);
    c.sim.schedule(crashAt, () => c.net.crash('app-3'));
    const drops = watchDrops(c, 'app-3', crashAt);
    c.sim.run({ until: 500_000 });
    const naive = eurekaCrashTimeline(c.schedule, {
      lastRenewal,
      renewed: true,
      duration: 90_000,
      expiry: 'documented',
    });
    expect(drops.registry).not.toBe(naive.registry);
    expect(drops.registry - naive.registry).toBe(60_000); // 90 s later, rounded to the next eviction run
  });

  it('bounds over every phase: crash (150, 330] s with the real expiry, (60, 240] s documented, shutdown (0, 90] s', () => {
    const intervals = {
      renewal: 30_000,
      lease: 90_000,
      eviction: 60_000,
      cache: 30_000,
      fetch: 30_000,
      balancer: 30_000,
    } as const;
    expect(stalenessBounds('crash', { ...intervals, expiry: 'eureka' })).toEqual({
      best: 150_000,
      worst: 330_000,
    });
    expect(stalenessBounds('crash', { ...intervals, expiry: 'documented' })).toEqual({
      best: 60_000,
      worst: 240_000,
    });
    expect(stalenessBounds('shutdown', { ...intervals, expiry: 'eureka' })).toEqual({
      best: 0,
      worst: 90_000,
    });
    // The timeline model reaches the worst case: a heartbeat right at the crash and every other layer
    // ticking just before the previous one finishes.
    const worst = eurekaCrashTimeline(
      {
        evictionFirst: 180_000,
        evictionInterval: 60_000,
        cacheFirst: 240_000,
        cacheInterval: 30_000,
        fetchFirst: 270_000,
        fetchInterval: 30_000,
        balancerFirst: 300_000,
        balancerInterval: 30_000,
      },
      { lastRenewal: 0, renewed: true, duration: 90_000, expiry: 'eureka' },
    );
    expect(worst.balancer).toBe(330_000);
  });
});

describe('self-preservation and the eviction limit', () => {
  const mass = (server: EurekaServerOptions) => {
    const c = setup(20, server);
    c.sim.schedule(200_000, () => {
      for (let i = 0; i < 5; i++) c.net.crash(`app-${i}`);
    });
    const evictions: Array<{ t: number; id: string }> = [];
    c.sim.inspect((r: TraceRecord) => {
      if (r.type === '@dsim.discovery.evict') evictions.push({ t: r.t, id: String(r.id) });
    });
    c.sim.run({ until: 600_000 });
    return { c, evictions };
  };

  it('a quarter of the instances vanishing at once stops evictions: the dead stay registered', () => {
    const { c, evictions } = mass({});
    // The minute [187, 247) s counts 15 × 2 = 30 renewals, not above floor(21 × 2 × 0.85) = 35.
    expect(evictions).toEqual([]);
    expect(c.eureka.renewalsLastMinute).toBe(30);
    expect(c.eureka.renewalThreshold).toBe(35);
    expect(c.eureka.selfPreservationActive).toBe(true);
    expect(c.eureka.registered('orders')).toHaveLength(20);
    expect(c.client.endpoints).toHaveLength(20); // clients keep calling the dead five
    // Runs from 247 s to 547 s found expiry disabled (and the first one, at 67 s).
    expect(c.eureka.stats.selfPreservationRuns).toBe(1 + 6);
  });

  it('with self-preservation off, at most size − floor(0.85 × size) leases go per run (3, then 2)', () => {
    const { c, evictions } = mass({ selfPreservation: false });
    // Leases expired after 361.0 to 361.4 s: the run of 367 s evicts 3 of 20, the run of 427 s 2 of 17.
    expect(evictions.map((e) => e.t)).toEqual([367_000, 367_000, 367_000, 427_000, 427_000]);
    expect(new Set(evictions.map((e) => e.id))).toEqual(
      new Set(['app-0', 'app-1', 'app-2', 'app-3', 'app-4']),
    );
    expect(c.eureka.stats.evictionsDeferred).toBe(2);
    expect(c.eureka.registered('orders')).toHaveLength(15);
  });

  it('one crash among 10 instances already trips it (Spring Cloud counts one client more than registered)', () => {
    const c = setup(10);
    c.sim.schedule(200_000, () => c.net.crash('app-3'));
    c.sim.run({ until: 600_000 });
    // 9 × 2 = 18 renewals against floor(11 × 2 × 0.85) = 18: not above, so nothing expires.
    expect(c.eureka.renewalThreshold).toBe(18);
    expect(c.eureka.renewalsLastMinute).toBe(18);
    expect(c.eureka.stats.evictions).toBe(0);
    expect(c.eureka.registered('orders')).toContain('app-3');
  });

  it('openForTrafficCount 0 (a standalone Netflix server): the threshold stays 0 and nothing ever expires', () => {
    const c = setup(20, { openForTrafficCount: 0 });
    c.sim.schedule(200_000, () => c.net.crash('app-3'));
    c.sim.run({ until: 600_000 });
    expect(c.eureka.expectedClients).toBe(0);
    expect(c.eureka.renewalThreshold).toBe(0);
    expect(c.eureka.stats.evictions).toBe(0);
  });
});

describe('heartbeats are network messages', () => {
  it('a partition from the server gets a live instance evicted; after the heal it registers again', () => {
    const c = setup(20);
    c.sim.schedule(200_000, () => {
      const cut = c.net.partition(['app-3'], ['eureka']);
      c.sim.schedule(200_000, () => cut.heal());
    });
    const drops = watchDrops(c, 'app-3', 200_000);
    let back = Number.NaN;
    c.sim.watch(1, (sim) => {
      if (sim.now > 380_000 && Number.isNaN(back) && c.eureka.registered('orders').includes('app-3'))
        back = sim.now;
    });
    c.sim.run({ until: 450_000 });
    // Same lease arithmetic as a crash: last renewal 181.3 s, eviction at 367 s.
    expect(drops.registry).toBe(367_000);
    expect(drops.balancer).toBe(407_000);
    // Heartbeats during the cut fail after the 8 s timeout and the next leaves 30 s later: 211.3, 249.3,
    // 287.3, 325.3, 363.3 s fail; the one of 401.3 s, after the heal at 400 s, is answered 404 and registers.
    const s = c.instances[3]!.stats;
    expect(s.heartbeatFailures).toBe(5);
    expect(s.reregistrations).toBe(2);
    expect(back).toBe(401_300);
    // The client still reached app-3 meanwhile: only the registry lost it.
    expect(c.net.node('app-3').isUp).toBe(true);
  });

  it('a late eviction run (the server paused) adds its lateness to every lease: the compensation', () => {
    const c = setup(20, { selfPreservation: false });
    // app-3's last renewal is 271.3 s: its lease is expired after 451.3 s. The run due at 427 s stalls
    // until 455 s, 28 s late: a lease now needs 451.3 + 28 s, so it survives this run (without the
    // compensation it would go at 455 s) and goes at the next one, 515 s.
    c.sim.schedule(280_000, () => c.net.crash('app-3'));
    c.sim.schedule(420_000, () => c.net.pause('eureka'));
    c.sim.schedule(455_000, () => c.net.resume('eureka'));
    const drops = watchDrops(c, 'app-3', 280_000);
    c.sim.run({ until: 600_000 });
    expect(drops.registry).toBe(515_000);
  });
});

describe('options are strict', () => {
  it('rejects unknown options and bad values, naming the field', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const node = net.addNode('eureka');
    expect(() => new EurekaServer(node, { evictionIntervall: 1 } as never)).toThrow(
      /did you mean "evictionInterval"/,
    );
    expect(() => new EurekaServer(node, { renewalPercentThreshold: 1.5 })).toThrow(
      /EurekaServer: renewalPercentThreshold must be a finite number in \(0, 1\], got 1.5/,
    );
    expect(() => new EurekaServer(node, { leaseExpiry: 'fixed' as never })).toThrow(
      /leaseExpiry must be one of/,
    );
    const app = net.addNode('app');
    expect(() => new EurekaInstance(app, { server: 'eureka' } as never)).toThrow(
      /EurekaInstance: app must be a non-empty string/,
    );
    expect(() => new EurekaInstance(app, { server: 'eureka', app: 'a', leaseRenewalInterval: 0 })).toThrow(
      /leaseRenewalInterval must be a duration > 0/,
    );
    expect(() => new EurekaClient(app, { server: 'eureka', app: 'a', balancerRefreshInterval: -1 })).toThrow(
      /balancerRefreshInterval/,
    );
  });
});

describe('restarts, feeds and the endpoint list', () => {
  it('a server restart loses the registry; instances come back at their next heartbeat (404, register)', () => {
    const c = setup(3);
    c.sim.schedule(100_000, () => c.net.crash('eureka'));
    c.sim.schedule(110_000, () => c.net.restart('eureka'));
    c.sim.run({ until: 120_000 });
    // Down 100-110 s: the fetch of 125 s is still to come, so the client keeps its last copy.
    expect(c.eureka.registered('orders')).toEqual([]);
    expect(c.client.endpoints).toEqual(['app-0', 'app-1', 'app-2']);
    c.sim.run({ until: 121_201 });
    // Heartbeats of 121.0, 121.1, 121.2 s are answered 404 and register again.
    expect(c.eureka.registered('orders')).toEqual(['app-0', 'app-1', 'app-2']);
    expect(c.instances.map((i) => i.stats.reregistrations)).toEqual([2, 2, 2]);
    expect(c.client.stats.fetchFailures).toBe(1); // only the one at 5 s; 95 and 125 s found it up
  });

  it('balancerRefreshInterval 0: the endpoints follow each fetch', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const eureka = new EurekaServer(net.addNode('eureka'), { useReadOnlyResponseCache: false });
    const instance = new EurekaInstance(net.addNode('app-0'), {
      server: 'eureka',
      app: 'a',
      registration: 'at-start',
    });
    const client = new EurekaClient(net.addNode('web'), {
      server: 'eureka',
      app: 'a',
      balancerRefreshInterval: 0,
      startAfter: 1,
    });
    const changes: number[] = [];
    client.onChange(() => changes.push(sim.now));
    sim.schedule(40_000, () => instance.shutdown());
    sim.run({ until: 100_000 });
    // Fetches at 1, 30 001, 60 001 ms: in at the first, out at the one after the cancel.
    expect(changes).toEqual([1, 60_001]);
    expect(eureka.stats.cancels).toBe(1);
    expect(client.stats.refreshes).toBe(4);
  });

  it('feedLoadBalancer syncs at once, then adds and removes (draining if asked)', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const list = new EndpointList();
    list.set(['a', 'b']);
    new RpcEndpoint(net.addNode('z')).serve(() => {}); // never answers: a request stays in flight there
    const lb = new LoadBalancer(net.addNode('lb'), { backends: ['z'] });
    new RpcEndpoint(net.addNode('caller')).callThen('lb', 'GET', {}, () => {});
    sim.run({ until: 1 });
    const stop = feedLoadBalancer(list, lb, { drain: '5s' });
    expect(lb.addresses).toEqual(['a', 'b']);
    expect(lb.draining).toEqual(['z']); // removed with the drain deadline: its request may still finish
    expect(list.set(['b', 'a'])).toBe(false); // same members
    list.set(['b', 'c']);
    expect(lb.addresses).toEqual(['b', 'c']);
    stop();
    list.set([]);
    expect(lb.addresses).toEqual(['b', 'c']);
    expect(() => feedLoadBalancer(list, lb, { drian: 1 } as never)).toThrow(/did you mean "drain"/);
    expect(() => feedLoadBalancer({} as never, lb)).toThrow(
      /feedLoadBalancer: source must be an EndpointSource/,
    );
  });
});
