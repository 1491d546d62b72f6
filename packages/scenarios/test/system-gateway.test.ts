import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import { systemGraph } from '../src/system/graph/graph.js';
import { toMermaid } from '../src/system/graph/mermaid.js';
import { SystemMeasurement } from '../src/system/measure.js';
import { systemPhases } from '../src/system/phases.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { SystemError, validateSystem } from '../src/system/validate.js';
import { figure } from './support/figures.js';

const SEEDS = [1, 2, 3];

/** Runs a description as a system scenario with one phase over the whole load. */
const measure = (system: unknown, seed: number, until: number) =>
  runScenario(
    defineSystemScenario({
      name: 'gateway',
      description: 'gateway',
      system: system as SystemDescription,
      phases: { all: [0, until] },
    }),
    { seed },
  ).outcome;

/** A noisy tenant and three quiet ones through one gateway route to an 800/s backend. */
const tenants = (tenantLimit: unknown, seconds = 10): SystemDescription =>
  ({
    nodes: {
      noisy: {
        kind: 'clients',
        target: 'gw',
        tenant: 'noisy',
        requests: [{ path: '/orders/7' }],
        workload: { kind: 'open', rate: 1000 },
        until: seconds * 1000,
      },
      ...Object.fromEntries(
        [1, 2, 3].map((i) => [
          `quiet-${i}`,
          {
            kind: 'clients',
            target: 'gw',
            tenant: `quiet-${i}`,
            requests: [{ method: 'GET', path: '/orders/1' }],
            workload: { kind: 'open', rate: 50 },
            until: seconds * 1000,
          },
        ]),
      ),
      gw: {
        kind: 'gateway',
        routes: [{ name: 'orders', method: 'GET', path: '/orders/:id', to: 'orders' }],
        timeout: '1s',
        ...(tenantLimit === undefined ? {} : { tenantLimit }),
      },
      // 8 workers at 10 ms: 800/s, under the 1150/s offered.
      orders: { kind: 'service', concurrency: 8, serviceTime: { exponential: { mean: 10 } } },
    },
    network: { latency: 0.25 },
  }) as unknown as SystemDescription;

describe('gateway nodes: per-tenant limits', () => {
  const B = 100;
  const R = 200;
  const T = 10;
  const bucket = { kind: 'token-bucket', capacity: B, refillPerSecond: R };

  it('a token bucket per tenant admits burst + rate x T of the noisy tenant; the quiet ones do not notice', () => {
    for (const seed of SEEDS) {
      const o = measure(tenants(bucket, T), seed, T * 1000);
      const offered = figure(o, 'noisy.all.requests');
      const admitted = offered - figure(o, 'noisy.all.errors.rejected');
      // Refused share 1 - (B + R·T) / offered: the bucket never fills again at 1000/s against 200/s.
      expect(Math.abs(admitted - (B + R * T))).toBeLessThanOrEqual(3);
      expect(figure(o, 'noisy.all.errorRate')).toBeCloseTo(1 - (B + R * T) / offered, 3);
      // A model without the burst (R·T alone) would be 100 requests off: this check would catch it.
      expect(Math.abs(admitted - R * T)).toBeGreaterThan(50);
      for (const q of [1, 2, 3]) {
        expect(o[`quiet-${q}.all.availability`]).toBe(1);
        expect(figure(o, `quiet-${q}.all.p99`)).toBeLessThan(100);
      }
      // Conservation: every call into the gateway is counted once; what it admits reaches the backend.
      const into = ['noisy', 'quiet-1', 'quiet-2', 'quiet-3'].reduce(
        (s, c) => s + figure(o, `${c}->gw.all.rate`),
        0,
      );
      // (A request sent in the last 0.25 ms of the phase reaches the gateway after it: at most a few.)
      expect(Math.abs(figure(o, 'gw.all.rate') - into) * T).toBeLessThanOrEqual(3);
      expect(figure(o, 'gw->orders.all.rate')).toBeCloseTo(
        figure(o, 'gw.all.rate') - figure(o, 'gw.all.rejected'),
        6,
      );
      expect(
        Math.abs(figure(o, 'gw.all.rejected') * T - figure(o, 'noisy.all.errors.rejected')),
      ).toBeLessThanOrEqual(3);
    }
  });

  it('without tenant limits the backend saturates and every tenant gets 504s at the route timeout', () => {
    const o = measure(tenants(undefined), 1, 10_000);
    expect(figure(o, 'orders.all.utilisation')).toBeGreaterThan(0.95);
    for (const q of [1, 2, 3]) {
      expect(figure(o, `quiet-${q}.all.availability`)).toBeLessThan(0.7);
      expect(figure(o, `quiet-${q}.all.errors.gateway-timeout`)).toBeGreaterThan(0);
    }
    expect(figure(o, 'gw.all.timedOut')).toBeGreaterThan(100);
    // The backend serves every request anyway: most 504s are followed by a late answer.
    expect(figure(o, 'gw.all.late')).toBeGreaterThan(0.5 * figure(o, 'gw.all.timedOut'));
  });

  it('tenantLimits override the limit of one tenant: GCRA without burst admits a renewal process', () => {
    const d = tenants(bucket, T) as { nodes: Record<string, Record<string, unknown>> };
    d.nodes.gw!.tenantLimits = { noisy: { kind: 'gcra', ratePerSecond: 400, burst: 0 } };
    for (const seed of [1, 2]) {
      const o = measure(d, seed, T * 1000);
      const admitted = figure(o, 'noisy.all.requests') - figure(o, 'noisy.all.errors.rejected');
      // With no tolerance a request conforms only once the emission interval 1/400 s has passed since
      // the last admitted one: the next admission is that interval plus a Poisson wait of 1/1000 s,
      // 1 / (2.5 ms + 1 ms) = 286/s, not the 400/s a "rate" reading of the spec would suggest.
      const expected = (T * 1000) / (1000 / 400 + 1000 / 1000);
      expect(Math.abs(admitted / expected - 1)).toBeLessThan(0.03);
      expect(Math.abs(admitted / (400 * T) - 1)).toBeGreaterThan(0.2);
      // The quiet tenants keep the spec's token bucket.
      expect(o['quiet-1.all.availability']).toBe(1);
    }
  });
});

describe('gateway nodes: routes, timeouts and aggregation', () => {
  const base = (
    gateway: Record<string, unknown>,
    nodes: Record<string, unknown>,
    rate = 100,
    until = 20_000,
  ) =>
    ({
      nodes: {
        users: {
          kind: 'clients',
          target: 'gw',
          requests: [{ path: '/home' }],
          workload: { kind: 'open', rate },
          until,
        },
        gw: { kind: 'gateway', ...gateway },
        ...nodes,
      },
    }) as unknown as SystemDescription;

  it('a route timeout answers 504 at that time while the backend finishes the work for nobody', () => {
    const system = base(
      { routes: [{ name: 'home', path: '/home', to: 'slow', timeout: '200ms' }] },
      { slow: { kind: 'service', concurrency: 1000, serviceTime: 500 } },
      50,
      10_000,
    );
    for (const seed of [1, 2]) {
      const o = measure(system, seed, 10_000);
      expect(o['users.all.availability']).toBe(0);
      expect(o['users.all.errors.gateway-timeout']).toBe(o['users.all.requests']);
      // The gateway's timer, not the backend: every answer at exactly 200 ms (no network latency).
      expect(figure(o, 'users.all.p50')).toBeCloseTo(200, 0);
      expect(figure(o, 'users.all.p99')).toBeCloseTo(200, 0);
      expect(figure(o, 'gw->slow.all.p50')).toBeCloseTo(500, 0);
      // Run to the end: every request a 504, every backend answer late (300 ms after it) and ok.
      const sim = new Simulation({ seed });
      const sys = compileSystem(sim, system);
      sim.run();
      const s = sys.gateways.gw!.stats;
      expect(s.requests).toBe(sys.clients.users!.stats.toJSON().requests);
      expect([s.timedOut, s.failed, s.late, s.lateOk]).toEqual([
        s.requests,
        s.requests,
        s.requests,
        s.requests,
      ]);
      expect(sim.metrics.counter('slow', 'svc.completed').value).toBe(s.requests);
    }
  });

  it('an aggregating route answers when its slowest part does: constant parts', () => {
    const system = base(
      { routes: [{ name: 'home', path: '/home', aggregate: [{ to: 'a' }, { to: 'b' }, { to: 'c' }] }] },
      {
        a: { kind: 'service', concurrency: 100, serviceTime: 5 },
        b: { kind: 'service', concurrency: 100, serviceTime: 20 },
        c: { kind: 'service', concurrency: 100, serviceTime: 10 },
      },
    );
    const o = measure(system, 1, 20_000);
    expect(o['users.all.availability']).toBe(1);
    expect(figure(o, 'users.all.p50')).toBeCloseTo(20, 0);
    expect(figure(o, 'users.all.p99')).toBeCloseTo(20, 0);
  });

  it('exponential parts: the max-of-k quantiles, against one part', () => {
    // k = 3 parts of mean m: P(max <= x) = (1 - e^(-x/m))^3, so q_p = -m ln(1 - p^(1/3)).
    const m = 10;
    const q = (p: number, k: number) => -m * Math.log(1 - p ** (1 / k));
    const parts = { kind: 'service', concurrency: 200, serviceTime: { exponential: { mean: m } } };
    const system = base(
      { routes: [{ name: 'home', path: '/home', aggregate: [{ to: 'a' }, { to: 'b' }, { to: 'c' }] }] },
      { a: parts, b: parts, c: parts },
      200,
    );
    for (const seed of SEEDS) {
      const o = measure(system, seed, 20_000);
      expect(Math.abs(figure(o, 'users.all.p50') / q(0.5, 3) - 1)).toBeLessThan(0.05);
      expect(Math.abs(figure(o, 'users.all.p99') / q(0.99, 3) - 1)).toBeLessThan(0.1);
      // One part's p99 (46 ms) is 19% below: the check tells them apart.
      expect(Math.abs(figure(o, 'users.all.p99') / q(0.99, 1) - 1)).toBeGreaterThan(0.1);
      // Each part's own edge is one exponential.
      expect(Math.abs(figure(o, 'gw->a.all.p50') / q(0.5, 1) - 1)).toBeLessThan(0.08);
    }
  });

  it('an optional part that fails leaves a degraded answer, not an error', () => {
    const system = base(
      {
        routes: [{ name: 'home', path: '/home', aggregate: [{ to: 'a' }, { to: 'ads', optional: true }] }],
      },
      {
        a: { kind: 'service', concurrency: 100, serviceTime: 5 },
        ads: { kind: 'service', concurrency: 100, serviceTime: 1, errorRate: 1 },
      },
      50,
      10_000,
    );
    const o = measure(system, 1, 10_000);
    expect(o['users.all.availability']).toBe(1);
    expect(figure(o, 'gw.all.degraded')).toBeCloseTo(figure(o, 'gw.all.rate'), 6);
    expect(o['gw->ads.all.errorRate']).toBe(1);
  });

  it('a remote authorizer is called once per tenant per cacheTtl', () => {
    const system = {
      nodes: {
        a: {
          kind: 'clients',
          target: 'gw',
          tenant: 'a',
          requests: [{ path: '/x' }],
          workload: { kind: 'open', rate: 50 },
          until: '20s',
        },
        b: {
          kind: 'clients',
          target: 'gw',
          tenant: 'b',
          requests: [{ path: '/x' }],
          workload: { kind: 'open', rate: 50 },
          until: '20s',
        },
        gw: {
          kind: 'gateway',
          routes: [{ name: 'x', path: '/x', to: 'svc' }],
          auth: { service: 'authz', cacheTtl: '5s' },
        },
        authz: { kind: 'service', concurrency: 4, serviceTime: 2 },
        svc: { kind: 'service', concurrency: 16, serviceTime: 1 },
      },
    };
    const o = measure(system, 1, 20_000);
    // Two tenants, a 5 s TTL over 20 s: four calls each (the first request, then one per expiry).
    expect(figure(o, 'gw->authz.all.rate') * 20).toBe(8);
    expect(o['a.all.availability']).toBe(1);
    expect(systemGraph(system as SystemDescription).edges.filter((e) => e.from === 'gw')).toEqual([
      { from: 'gw', to: 'svc', label: 'route' },
      { from: 'gw', to: 'authz', label: 'auth' },
    ]);
  });

  it('a key sent through the gateway is the body: a cache-aside service behind it hits', () => {
    const system = {
      nodes: {
        users: {
          kind: 'clients',
          target: 'gw',
          requests: [{ path: '/items/1' }],
          keys: { kind: 'zipf', count: 1000, s: 1 },
          workload: { kind: 'open', rate: 200 },
          until: '10s',
        },
        gw: { kind: 'gateway', routes: [{ name: 'items', path: '/items/:id', to: 'lb' }] },
        lb: { kind: 'balancer', backends: ['app'], policy: 'ring-hash' },
        app: {
          kind: 'service',
          replicas: 2,
          concurrency: 16,
          serviceTime: 1,
          cacheAside: { cache: 'cache' },
          downstream: [{ to: 'db' }],
        },
        cache: { kind: 'cache', capacity: 1000 },
        db: { kind: 'database' },
      },
    };
    const sim = new Simulation({ seed: 1 });
    const sys = compileSystem(sim, system);
    sim.run();
    // Zipf(1) over 1000 keys, 2000 reads, an unbounded cache: only the first read of each key misses.
    const reads = Object.values(sys.asides).reduce((s, a) => s + a.stats.reads, 0);
    const misses = Object.values(sys.asides).reduce((s, a) => s + a.stats.misses, 0);
    expect(reads).toBe(sys.gateways.gw!.stats.ok);
    expect(misses / reads).toBeLessThan(0.35);
    // ring-hash on the key: each key's reads land on one replica, so no key misses twice.
    expect(misses).toBeLessThanOrEqual(1000);
  });
});

describe('strangler nodes', () => {
  const system = (weight: number, shadow: number) =>
    ({
      nodes: {
        users: {
          kind: 'clients',
          target: 'facade',
          requests: [{ path: '/invoices/1', weight: 3 }, { path: '/reports' }],
          workload: { kind: 'open', rate: 200 },
          until: '20s',
        },
        facade: {
          kind: 'strangler',
          legacy: 'monolith',
          assignment: 'random',
          routes: [{ name: 'invoices', path: '/invoices/*', to: 'billing', weight, shadow }],
        },
        monolith: { kind: 'service', concurrency: 32, serviceTime: { exponential: { mean: 5 } } },
        billing: { kind: 'service', concurrency: 32, serviceTime: 2, errorRate: 0.1 },
      },
    }) as SystemDescription;

  it('moves the weight of a route, copies the rest as shadow traffic, and shows callers only the legacy answers', () => {
    for (const seed of [1, 2]) {
      const o = measure(system(0.25, 1), seed, 20_000);
      // 3/4 of the requests are invoices, a quarter of those go to billing.
      expect(Math.abs(figure(o, 'facade.all.modernShare.invoices') - 0.25)).toBeLessThan(0.02);
      const invoices = figure(o, 'facade.all.rate') * 0.75;
      // Every legacy-bound invoice is mirrored; billing's 10% errors show only in the comparison.
      expect(Math.abs(figure(o, 'facade.all.shadowRate') / (invoices * 0.75) - 1)).toBeLessThan(0.05);
      expect(Math.abs(figure(o, 'facade.all.shadowErrorRate') - 0.1)).toBeLessThan(0.02);
      // The users see billing's errors only for the quarter sent to it: 0.75 × 0.25 × 0.1.
      expect(Math.abs(figure(o, 'users.all.errorRate') - 0.75 * 0.25 * 0.1)).toBeLessThan(0.006);
      // The edge to billing counts routed calls and copies alike.
      expect(figure(o, 'facade->billing.all.rate')).toBeCloseTo(
        invoices * 0.25 + figure(o, 'facade.all.shadowRate'),
        -1,
      );
    }
    expect(systemGraph(system(0, 0)).edges.filter((e) => e.from === 'facade')).toEqual([
      { from: 'facade', to: 'monolith', label: 'legacy' },
      { from: 'facade', to: 'billing', label: 'route' },
    ]);
  });
});

describe('gateway and strangler edges agree with an independent tally of the RPC trace', () => {
  const system = {
    nodes: {
      users: {
        kind: 'clients',
        target: 'gw',
        tenant: 't',
        requests: [{ path: '/a/1', weight: 2 }, { path: '/home' }, { path: '/legacy/x' }],
        workload: { kind: 'open', rate: 150 },
        until: '6s',
        timeout: '400ms',
        retries: 1,
      },
      gw: {
        kind: 'gateway',
        timeout: '150ms',
        auth: { service: 'authz', cacheTtl: '1s' },
        tenantLimit: { kind: 'token-bucket', capacity: 20, refillPerSecond: 120 },
        routes: [
          { name: 'a', path: '/a/:id', to: 'lb' },
          { name: 'home', path: '/home', aggregate: [{ to: 'p1' }, { to: 'p2', optional: true }] },
          { name: 'legacy', path: '/legacy/*', to: 'facade' },
        ],
      },
      authz: { kind: 'service', concurrency: 2, serviceTime: 1 },
      lb: { kind: 'balancer', backends: ['app'] },
      app: { kind: 'service', replicas: 2, concurrency: 4, serviceTime: { exponential: { mean: 8 } } },
      p1: { kind: 'service', concurrency: 8, serviceTime: { exponential: { mean: 10 } } },
      p2: { kind: 'service', concurrency: 8, serviceTime: { exponential: { mean: 30 } }, errorRate: 0.2 },
      facade: {
        kind: 'strangler',
        legacy: 'old',
        assignment: 'random',
        routes: [{ name: 'x', path: '/legacy/*', to: 'new', weight: 0.5, shadow: 0.5 }],
      },
      old: { kind: 'service', concurrency: 4, serviceTime: { exponential: { mean: 5 } } },
      new: { kind: 'service', concurrency: 4, serviceTime: 3, errorRate: 0.1 },
    },
    network: { latency: 0.5 },
    faults: [{ at: '2s', for: '2s', fault: { kind: 'degrade', node: 'app-0', factor: 0.05 } }],
  } as SystemDescription;

  it('per edge and phase: calls, failures and p99 from rpc start/end records', () => {
    const sim = new Simulation({ seed: 4 });
    const phases = systemPhases(system);
    const ends: Array<{ from: string; to: string; start: number; ok: boolean; latency: number }> = [];
    sim.inspect((r) => {
      if (r.type !== '@dsim.rpc.end') return;
      const f = r as unknown as { from: string; to: string; ok: boolean; latency: number };
      ends.push({ from: f.from, to: f.to, start: r.t - f.latency, ok: f.ok, latency: f.latency });
    });
    const m = new SystemMeasurement(sim, phases);
    const sys = compileSystem(sim, system, { onResponse: m.onResponse, onEdge: m.onEdge });
    m.watch(sys);
    sim.run();
    const o = m.outcome();
    const edges = ['gw->lb', 'gw->p1', 'gw->p2', 'gw->facade', 'gw->authz', 'facade->old', 'facade->new'];
    let seen = 0;
    for (const edge of edges) {
      const [from, to] = edge.split('->') as [string, string];
      for (const p of phases) {
        const mine = ends.filter(
          (e) => e.from === from && e.to === to && e.start >= p.fromMs && e.start < p.toMs,
        );
        const seconds = (p.toMs - p.fromMs) / 1000;
        expect(o[`${edge}.${p.name}.rate`], `${edge} ${p.name}`).toBeCloseTo(mine.length / seconds, 6);
        if (mine.length === 0) continue;
        expect(o[`${edge}.${p.name}.errorRate`]).toBeCloseTo(
          mine.filter((e) => !e.ok).length / mine.length,
          9,
        );
        const sorted = mine.map((e) => e.latency).sort((a, b) => a - b);
        const exact = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
        expect(Math.abs((o[`${edge}.${p.name}.p99`] as number) - exact)).toBeLessThanOrEqual(
          0.02 * exact + 1e-9,
        );
        seen += mine.length;
      }
    }
    expect(seen).toBeGreaterThan(500);
    // Conservation at the gateway and the facade, after the run: every request answered once.
    const g = sys.gateways.gw!.stats;
    expect(g.inFlight).toBe(0);
    expect(g.requests).toBe(g.ok + g.failed);
    expect(g.requests).toBe(ends.filter((e) => e.to === 'gw').length);
    expect(g.rejected).toBeGreaterThan(0);
    expect(g.timedOut).toBeGreaterThan(0);
    const f = sys.stranglers.facade!;
    const x = f.routeStats('x');
    expect(x.legacy.requests + x.modern.requests + f.unrouted.requests).toBe(
      ends.filter((e) => e.from === 'gw' && e.to === 'facade').length,
    );
    expect(x.shadowSent).toBeGreaterThan(0);
  });
});

describe('gateway and strangler descriptions: errors name the path', () => {
  const ok = (): Record<string, any> => ({
    nodes: {
      users: {
        kind: 'clients',
        target: 'gw',
        tenant: 'acme',
        requests: [{ path: '/orders/1' }, { method: 'POST', path: '/orders' }],
        workload: { kind: 'open', rate: 10 },
        until: '5s',
      },
      gw: {
        kind: 'gateway',
        routes: [
          { name: 'read', method: 'GET', path: '/orders/:id', to: 'orders' },
          { name: 'write', method: ['POST', 'PUT'], path: '/orders', to: 'orders' },
        ],
      },
      orders: { kind: 'service', serviceTime: 1 },
      cache: { kind: 'cache', capacity: 10 },
      pool: { kind: 'service', replicas: 3, serviceTime: 1 },
    },
  });
  const errors = (change: (d: Record<string, any>) => void): string => {
    const d = ok();
    change(d);
    try {
      validateSystem(d);
    } catch (e) {
      if (e instanceof SystemError) return e.issues.map((i) => `${i.path}: ${i.message}`).join('\n');
      throw e;
    }
    return 'valid';
  };

  it('accepts the base description', () => expect(errors(() => {})).toBe('valid'));

  it.each([
    [
      'a typo in a field',
      (d: any) => (d.nodes.gw.timout = '1s'),
      /nodes\.gw\.timout: unknown key \(did you mean "timeout"\?\)/,
    ],
    [
      'a typo in a route',
      (d: any) => (d.nodes.gw.routes[0].rateLimt = {}),
      /nodes\.gw\.routes\[0\]\.rateLimt: unknown key \(did you mean "rateLimit"\?\)/,
    ],
    [
      'a lower-case method',
      (d: any) => (d.nodes.gw.routes[0].method = 'get'),
      /nodes\.gw\.routes\[0\]\.method: .*upper-case HTTP method/,
    ],
    [
      'a path without its slash',
      (d: any) => (d.nodes.gw.routes[0].path = 'orders/:id'),
      /nodes\.gw\.routes\[0\]\.path: must be a path pattern starting with "\/"/,
    ],
    [
      'a star in the middle',
      (d: any) => (d.nodes.gw.routes[0].path = '/a/*/b'),
      /nodes\.gw\.routes\[0\]\.path: .*"\*" only as the last segment/,
    ],
    [
      'both to and aggregate',
      (d: any) => (d.nodes.gw.routes[0].aggregate = [{ to: 'orders' }]),
      /nodes\.gw\.routes\[0\]: give exactly one of `to`/,
    ],
    [
      'neither to nor aggregate',
      (d: any) => delete d.nodes.gw.routes[0].to,
      /nodes\.gw\.routes\[0\]: give exactly one of `to`/,
    ],
    [
      'only optional parts',
      (d: any) =>
        (d.nodes.gw.routes[1] = {
          name: 'home',
          path: '/orders',
          aggregate: [{ to: 'orders', optional: true }],
        }),
      /nodes\.gw\.routes\[1\]\.aggregate: needs at least one required part/,
    ],
    [
      'a duplicate route name',
      (d: any) => (d.nodes.gw.routes[1].name = 'read'),
      /nodes\.gw\.routes\[1\]\.name: "read" is also the name of routes\[0\]/,
    ],
    [
      'a route to a misspelt node',
      (d: any) => (d.nodes.gw.routes[0].to = 'ordres'),
      /nodes\.gw\.routes\[0\]\.to: no node named "ordres" \(did you mean "orders"\?\)/,
    ],
    [
      'a route to a cache',
      (d: any) => (d.nodes.gw.routes[0].to = 'cache'),
      /nodes\.gw\.routes\[0\]\.to: "cache" is a cache; a route target must be a balancer or service or database or strangler/,
    ],
    [
      'a route to replicas',
      (d: any) => (d.nodes.gw.routes[0].to = 'pool'),
      /nodes\.gw\.routes\[0\]\.to: "pool" has 3 replicas; put a balancer in front of it/,
    ],
    [
      'a bad limit',
      (d: any) =>
        (d.nodes.gw.tenantLimits = { acme: { kind: 'token-bucket', capacity: 0, refillPerSecond: 1 } }),
      /nodes\.gw\.tenantLimits\.acme\.capacity: .*got 0/,
    ],
    ['an empty auth', (d: any) => (d.nodes.gw.auth = {}), /nodes\.gw\.auth: give `latency`/],
    [
      'a TTL without an authorizer',
      (d: any) => (d.nodes.gw.auth = { latency: 1, cacheTtl: '5s' }),
      /nodes\.gw\.auth\.cacheTtl: is the remote authorizer's/,
    ],
    [
      'a TTL above an hour',
      (d: any) => (d.nodes.gw.auth = { service: 'orders', cacheTtl: '2h' }),
      /nodes\.gw\.auth\.cacheTtl: must be a duration from 0 to 3600 s/,
    ],
    [
      'a route auth without auth',
      (d: any) => (d.nodes.gw.routes[0].auth = false),
      /nodes\.gw\.routes\[0\]\.auth: has no effect without the gateway's `auth`/,
    ],
    [
      'clients without requests',
      (d: any) => delete d.nodes.users.requests,
      /nodes\.users\.requests: gateway "gw" routes by method and path/,
    ],
    [
      'a request no route takes',
      (d: any) => (d.nodes.users.requests[1].method = 'DELETE'),
      /nodes\.users\.requests\[1\]: no route of gateway "gw" takes DELETE \/orders \(a 404\); its routes: GET \/orders\/:id, POST\|PUT \/orders/,
    ],
    [
      'requests to a service',
      (d: any) => (d.nodes.users.target = 'orders'),
      /nodes\.users\.requests: are sent to a gateway or strangler; "orders" is a service/,
    ],
    [
      'a tenant without requests',
      (d: any) => {
        d.nodes.users.target = 'orders';
        delete d.nodes.users.requests;
      },
      /nodes\.users\.tenant: goes with `requests`/,
    ],
    [
      'a strangler route to its legacy',
      (d: any) => {
        d.nodes.users.target = 'facade';
        d.nodes.facade = {
          kind: 'strangler',
          legacy: 'orders',
          routes: [{ name: 'r', path: '/r', to: 'orders' }],
        };
      },
      /nodes\.facade\.routes\[0\]\.to: "orders" is the legacy system/,
    ],
    [
      'keys through a gateway to a strangler',
      (d: any) => {
        d.nodes.users.keys = { kind: 'uniform', count: 10 };
        d.nodes.gw.routes[0].to = 'facade';
        d.nodes.v2 = { kind: 'service', serviceTime: 1 };
        d.nodes.facade = {
          kind: 'strangler',
          legacy: 'orders',
          routes: [{ name: 'r', path: '/r', to: 'v2' }],
        };
      },
      /nodes\.users\.keys: the gateway passes the key on as the body, so strangler "facade" behind route "read" would see no path/,
    ],
    [
      'a strangler weight above 1',
      (d: any) =>
        (d.nodes.facade = {
          kind: 'strangler',
          legacy: 'orders',
          routes: [{ name: 'r', path: '/r', to: 'cache', weight: 2 }],
        }),
      /nodes\.facade\.routes\[0\]\.weight: .*got 2/,
    ],
  ])('%s', (_, change, message) => {
    expect(errors(change)).toMatch(message);
  });
});

describe('gateway runs are deterministic', () => {
  it('same seed, same digest; key order in the description changes nothing', () => {
    const d = tenants({ kind: 'token-bucket', capacity: 10, refillPerSecond: 50 }, 2);
    const reordered = { ...d, nodes: Object.fromEntries(Object.entries(d.nodes).reverse()) };
    const run = (system: SystemDescription, seed: number) =>
      runScenario(defineSystemScenario({ name: 'gw', description: 'gw', system }), { seed }).digest;
    expect(run(d, 1)).toBe(run(d, 1));
    expect(run(reordered, 1)).toBe(run(d, 1));
    expect(run(d, 2)).not.toBe(run(d, 1));
  });
});

describe('drawing gateways and stranglers', () => {
  it('a gateway is a hexagon, a strangler an inverted trapezoid, with route labels', () => {
    const text = toMermaid(
      systemGraph({
        nodes: {
          users: {
            kind: 'clients',
            target: 'gw',
            requests: [{ path: '/a' }],
            workload: { kind: 'open', rate: 1 },
            until: 1,
          },
          gw: { kind: 'gateway', routes: [{ name: 'a', path: '/a', to: 'facade' }] },
          facade: { kind: 'strangler', legacy: 'old', routes: [{ name: 'a', path: '/a', to: 'new' }] },
          old: { kind: 'service', serviceTime: 1 },
          new: { kind: 'service', serviceTime: 1 },
        },
      } as SystemDescription),
    );
    expect(text).toContain('gw{{"gw"}}');
    expect(text).toContain('facade[\\"facade"/]');
    expect(text).toContain('gw -->|"route"| facade');
    expect(text).toContain('facade -->|"legacy"| old');
  });
});
