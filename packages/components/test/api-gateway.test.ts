import {
  constant,
  DsimError,
  exponential,
  Network,
  RpcEndpoint,
  type RpcResponse,
  Simulation,
} from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { ApiGateway } from '../src/gateway/api-gateway.js';
import type { ApiGatewayOptions, GatewayRequest } from '../src/gateway/api-gateway-options.js';
import { compilePathPattern } from '../src/gateway/path-pattern.js';
import { Service } from '../src/service/service.js';
import type { ServiceOptions } from '../src/service/service-options.js';

interface Sent {
  at: number;
  request: GatewayRequest;
}

/** A gateway in front of the given services (zero-latency network unless `link` is set). */
function setup(
  options: ApiGatewayOptions,
  services: Record<string, ServiceOptions>,
  { seed = 1, link = 0 }: { seed?: number; link?: number } = {},
) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency: link } });
  const backends: Record<string, Service> = {};
  for (const [name, opts] of Object.entries(services)) backends[name] = new Service(net.addNode(name), opts);
  const gw = new ApiGateway(net.addNode('gw'), options);
  const client = new RpcEndpoint(net.addNode('client'));
  const answers: { at: number; res: RpcResponse }[] = [];
  const send = (list: Sent[], timeout?: number) => {
    for (const s of list)
      sim.schedule(s.at, () =>
        client
          .call('gw', s.request, timeout === undefined ? {} : { timeout })
          .onProcessed((e) => answers.push({ at: sim.now, res: e.value! })),
      );
  };
  return { sim, net, gw, client, backends, answers, send };
}

const GET = (path: string, tenant?: string): GatewayRequest =>
  tenant === undefined ? { method: 'GET', path } : { method: 'GET', path, tenant };

describe('path patterns', () => {
  it('match literals, :params and a trailing *', () => {
    const p = compilePathPattern('t', 'path', '/users/:id/*');
    expect(p.matches('/users/42')).toBe(true);
    expect(p.matches('/users/42/orders/7')).toBe(true);
    expect(p.matches('/users')).toBe(false);
    expect(p.matches('/accounts/42')).toBe(false);
    const exact = compilePathPattern('t', 'path', '/orders');
    expect(exact.matches('/orders/')).toBe(true);
    expect(exact.matches('/orders?x=1')).toBe(true);
    expect(exact.matches('/orders/1')).toBe(false);
    expect(() => compilePathPattern('t', 'path', 'orders')).toThrow(
      /path must be a path pattern starting with "\/"/,
    );
    expect(() => compilePathPattern('t', 'path', '/a/*/b')).toThrow(/only as the last segment/);
  });
});

describe('ApiGateway routing', () => {
  const options: ApiGatewayOptions = {
    routes: [
      { name: 'read-order', method: 'GET', path: '/orders/:id', to: 'orders' },
      { name: 'write-order', method: ['POST', 'PUT'], path: '/orders/:id', to: 'orders-writer' },
      { name: 'static', path: '/static/*', to: 'cdn' },
    ],
  };

  it('routes by method and path, first match wins; 404 and 400 are errors counted as noRoute', () => {
    const { sim, gw, answers, send } = setup(options, {
      orders: { serviceTime: 1, respond: () => 'read' },
      'orders-writer': { serviceTime: 1, respond: () => 'written' },
      cdn: { serviceTime: 1, respond: () => 'file' },
    });
    expect(gw.routeOf('GET', '/orders/1')).toBe('read-order');
    expect(gw.routeOf('PUT', '/orders/1')).toBe('write-order');
    expect(gw.routeOf('DELETE', '/orders/1')).toBeUndefined();
    send([
      { at: 0, request: GET('/orders/1') },
      { at: 10, request: { method: 'POST', path: '/orders/1' } },
      { at: 20, request: { path: '/static/css/a.css' } },
      { at: 30, request: { method: 'DELETE', path: '/orders/1' } },
      { at: 40, request: 'not a request' as unknown as GatewayRequest },
    ]);
    sim.run();
    const values = answers.map((a) =>
      a.res.ok ? a.res.value : `${a.res.error.kind}: ${a.res.error.message}`,
    );
    expect(values).toEqual([
      'read',
      'written',
      'file',
      'error: 404 no route for DELETE /orders/1',
      'error: 400 bad request: the payload must be { method?, path, tenant?, body? }',
    ]);
    expect(gw.stats).toMatchObject({
      requests: 5,
      ok: 3,
      failed: 2,
      noRoute: 2,
      inFlight: 0,
      backendCalls: 3,
    });
  });

  it('adds its own latency and a local auth cost to the backend time, exactly', () => {
    const { sim, answers, send } = setup(
      {
        routes: [{ name: 'a', path: '/a', to: 'svc' }],
        latency: constant(2),
        auth: { latency: constant(0.5) },
      },
      { svc: { serviceTime: 10 } },
      { link: 1 },
    );
    send([{ at: 0, request: GET('/a') }]);
    sim.run();
    // client -> gw 1, gateway 2 + auth 0.5, gw -> svc 1, service 10, svc -> gw 1, gw -> client 1
    expect(answers[0]!.res.ok).toBe(true);
    expect(answers[0]!.res.latency).toBe(16.5);
  });
});

describe('ApiGateway timeout: 504 while the backend keeps working', () => {
  // One worker, 100 ms per request, five requests at t = 0, a 150 ms route timeout.
  const burst: Sent[] = [0, 0, 0, 0, 0].map((at) => ({ at, request: GET('/slow') }));

  it('answers 504 at the timeout; the backend still serves every request (wasted work)', () => {
    const { sim, gw, answers, send } = setup(
      { routes: [{ name: 'slow', path: '/slow', to: 'svc', timeout: 150 }] },
      { svc: { serviceTime: 100 } },
    );
    send(burst);
    sim.run();
    expect(answers.map((a) => [a.at, a.res.ok ? 'ok' : a.res.error.kind])).toEqual([
      [100, 'ok'],
      [150, 'gateway-timeout'],
      [150, 'gateway-timeout'],
      [150, 'gateway-timeout'],
      [150, 'gateway-timeout'],
    ]);
    expect(gw.stats).toMatchObject({ ok: 1, failed: 4, timedOut: 4, late: 4, lateOk: 4 });
    expect(sim.metrics.counter('svc', 'svc.completed').value).toBe(5); // 400 ms of work for answers nobody waited for
    expect(sim.now).toBe(500);
  });

  it('with the deadline propagated, a backend that drops expired work skips it', () => {
    const { sim, gw, send } = setup(
      { routes: [{ name: 'slow', path: '/slow', to: 'svc', timeout: 150 }], propagateDeadline: true },
      { svc: { serviceTime: 100, dropExpired: true, replyOnDrop: true } },
    );
    send(burst);
    sim.run();
    // Request 2 starts at 100 (< 150) and finishes at 200; requests 3-5 are dropped at 200. The calls
    // carried the deadline, so each ended at 150 on its own (four late timeouts): no answer came ok late.
    expect(sim.metrics.counter('svc', 'svc.completed').value).toBe(2);
    expect(gw.stats).toMatchObject({ ok: 1, timedOut: 4, late: 4, lateOk: 0 });
    expect(sim.now).toBe(200);
  });
});

describe('ApiGateway rate limits', () => {
  const bucket = (capacity: number) => ({ kind: 'token-bucket' as const, capacity, refillPerSecond: 0.001 });

  it('keeps one limiter per tenant: a noisy tenant is refused, the others are not', () => {
    const { sim, gw, answers, send } = setup(
      {
        routes: [{ name: 'a', path: '/a', to: 'svc' }],
        tenantLimit: bucket(3),
        tenantLimits: { vip: bucket(10) },
      },
      { svc: { serviceTime: 1, concurrency: 100 } },
    );
    const list: Sent[] = [];
    for (let i = 0; i < 6; i++) list.push({ at: i, request: GET('/a', 'noisy') });
    for (let i = 0; i < 2; i++) list.push({ at: 10 + i, request: GET('/a', 'quiet') });
    for (let i = 0; i < 6; i++) list.push({ at: 20 + i, request: GET('/a', 'vip') });
    send(list);
    sim.run();
    const kinds = answers.map((a) => (a.res.ok ? 'ok' : a.res.error.kind));
    expect(kinds.filter((k) => k === 'rejected')).toHaveLength(3);
    expect(gw.tenantStats.get('noisy')).toEqual({
      requests: 6,
      ok: 3,
      failed: 0,
      rejected: 3,
      inFlight: 0,
      lost: 0,
    });
    expect(gw.tenantStats.get('quiet')!.ok).toBe(2);
    expect(gw.tenantStats.get('vip')!.ok).toBe(6);
    expect(gw.stats.rejectedBy).toEqual({ tenant: 3, route: 0, account: 0 });
    const message = answers.find((a) => !a.res.ok)!.res;
    expect(!message.ok && message.error.message).toBe('429 too many requests (tenant limit, route a)');
  });

  it("applies the tenant's, the route's and the account's limits in that order", () => {
    const { sim, gw, send } = setup(
      {
        routes: [
          { name: 'a', path: '/a', to: 'svc', rateLimit: bucket(4) },
          { name: 'b', path: '/b', to: 'svc' },
        ],
        tenantLimit: bucket(3),
        accountLimit: bucket(7),
      },
      { svc: { serviceTime: 1, concurrency: 100 } },
    );
    const list: Sent[] = [];
    // t1 and t2 each send 3 to /a: tenants admit all 6, the route admits 4.
    for (let i = 0; i < 3; i++)
      list.push({ at: i, request: GET('/a', 't1') }, { at: i, request: GET('/a', 't2') });
    // t3, t4, t5 send 2 each to /b: tenants and route admit all; the account has 7 - 4 = 3 left.
    for (const t of ['t3', 't4', 't5'])
      for (let i = 0; i < 2; i++) list.push({ at: 10 + i, request: GET('/b', t) });
    send(list);
    sim.run();
    expect(gw.stats.rejectedBy).toEqual({ tenant: 0, route: 2, account: 3 });
    expect(gw.stats.ok).toBe(7);
  });
  it('a shaping limit (leaky bucket as a queue) delays what it admits instead of refusing it', () => {
    const { sim, gw, answers, send } = setup(
      {
        routes: [{ name: 'a', path: '/a', to: 'svc' }],
        tenantLimit: { kind: 'leaky-bucket-queue', capacity: 10, leakPerSecond: 100 },
      },
      { svc: { serviceTime: 1, concurrency: 100 } },
    );
    // Five at once: the bucket lets one through every 10 ms.
    send([0, 0, 0, 0, 0].map((at) => ({ at, request: GET('/a', 't') })));
    sim.run();
    expect(answers.map((a) => a.at)).toEqual([1, 11, 21, 31, 41]);
    expect(gw.stats).toMatchObject({ ok: 5, rejected: 0 });
  });
});

describe('ApiGateway aggregation (backend for frontend)', () => {
  const routes = (optionalAds: boolean, timeout = 1000): ApiGatewayOptions => ({
    routes: [
      {
        name: 'home',
        path: '/home',
        timeout,
        aggregate: [{ to: 'profile' }, { to: 'feed' }, { to: 'ads', optional: optionalAds }],
      },
    ],
  });

  it('joins the parts in order once the slowest answers', () => {
    const { sim, answers, send } = setup(routes(true), {
      profile: { serviceTime: 10, respond: () => 'p' },
      feed: { serviceTime: 30, respond: () => 'f' },
      ads: { serviceTime: 20, respond: () => 'a' },
    });
    send([{ at: 0, request: GET('/home') }]);
    sim.run();
    expect(answers[0]).toMatchObject({ at: 30, res: { ok: true, value: ['p', 'f', 'a'] } });
  });

  it('degrades on a failed or late optional part; fails at once on a required one', () => {
    const degraded = setup(routes(true), {
      profile: { serviceTime: 10, respond: () => 'p' },
      feed: { serviceTime: 30, respond: () => 'f' },
      ads: { serviceTime: 20, errorRate: 1 },
    });
    degraded.send([{ at: 0, request: GET('/home') }]);
    degraded.sim.run();
    expect(degraded.answers[0]).toMatchObject({ at: 30, res: { ok: true, value: ['p', 'f', null] } });
    expect(degraded.gw.stats.degraded).toBe(1);

    const late = setup(routes(true, 100), {
      profile: { serviceTime: 10, respond: () => 'p' },
      feed: { serviceTime: 30, respond: () => 'f' },
      ads: { serviceTime: 500 },
    });
    late.send([{ at: 0, request: GET('/home') }]);
    late.sim.run();
    expect(late.answers[0]).toMatchObject({ at: 100, res: { ok: true, value: ['p', 'f', null] } });
    expect(late.gw.stats).toMatchObject({ degraded: 1, timedOut: 0, late: 1 });

    const failed = setup(routes(false), {
      profile: { serviceTime: 10 },
      feed: { serviceTime: 30 },
      ads: { serviceTime: 20, errorRate: 1 },
    });
    failed.send([{ at: 0, request: GET('/home') }]);
    failed.sim.run();
    expect(failed.answers[0]!.at).toBe(20);
    expect(failed.answers[0]!.res.ok).toBe(false);
    expect(failed.gw.stats).toMatchObject({ failed: 1, late: 1 }); // feed's answer at 30 comes late
  });

  it("the aggregate's tail is the max of its parts: p99 = F⁻¹(0.99^(1/k)) for k exponential parts", () => {
    const k = 4;
    const mean = 10;
    const theory = -mean * Math.log(1 - 0.99 ** (1 / k)); // 59.78 ms, against 46.05 ms for one part
    for (const seed of [1, 2, 3]) {
      const services: Record<string, ServiceOptions> = {};
      const parts = [];
      for (let i = 0; i < k; i++) {
        services[`p${i}`] = { serviceTime: exponential({ mean }), concurrency: 10_000 };
        parts.push({ to: `p${i}` });
      }
      const { sim, answers, send } = setup(
        { routes: [{ name: 'agg', path: '/agg', aggregate: parts }] },
        services,
        {
          seed,
        },
      );
      const list: Sent[] = [];
      for (let i = 0; i < 20_000; i++) list.push({ at: i, request: GET('/agg') });
      send(list);
      sim.run();
      const sorted = answers.map((a) => a.res.latency).sort((a, b) => a - b);
      const p99 = sorted[Math.floor(0.99 * sorted.length)]!;
      expect(Math.abs(p99 - theory) / theory, `seed ${seed}: p99 ${p99} vs ${theory}`).toBeLessThan(0.06);
    }
  });
});

describe('ApiGateway auth', () => {
  it('calls a remote authorizer once per tenant per cacheTtl, and answers 500 when it fails', () => {
    const { sim, net, gw, answers, send } = setup(
      {
        routes: [{ name: 'a', path: '/a', to: 'svc' }],
        auth: { service: 'authz', cacheTtl: 100, timeout: 50 },
      },
      { svc: { serviceTime: 1 }, authz: { serviceTime: 5 } },
    );
    send([
      { at: 0, request: GET('/a', 'x') },
      { at: 10, request: GET('/a', 'x') }, // cached (until 105)
      { at: 20, request: GET('/a', 'y') },
      { at: 200, request: GET('/a', 'x') }, // expired: the authorizer is called again, and it is down
    ]);
    sim.schedule(150, () => net.crash('authz'));
    sim.run();
    expect(answers.map((a) => (a.res.ok ? a.res.latency : a.res.error.message))).toEqual([
      6,
      1,
      6,
      '500 authorizer failed: timeout',
    ]);
    expect(gw.stats).toMatchObject({ authCalls: 3, authFailed: 1, ok: 3, failed: 1 });
  });
});

describe('ApiGateway conservation', () => {
  it('answers every request exactly once across seeds, with backend and gateway crashes', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { sim, net, gw, client, answers } = setup(
        {
          routes: [
            { name: 'a', path: '/a', to: 'svc', timeout: 50 },
            {
              name: 'b',
              path: '/b',
              aggregate: [{ to: 'svc' }, { to: 'svc2', optional: true }],
              timeout: 80,
            },
          ],
          tenantLimit: { kind: 'token-bucket', capacity: 20, refillPerSecond: 300 },
          maxInFlight: 40,
        },
        {
          svc: { serviceTime: exponential({ mean: 8 }), concurrency: 4 },
          svc2: { serviceTime: exponential({ mean: 20 }), concurrency: 2 },
        },
        { seed, link: 0.5 },
      );
      const rng = sim.rng('test/load');
      const gaps = exponential({ mean: 2 });
      let sent = 0;
      sim.process(function* () {
        while (sim.now < 5000) {
          const path = rng.next() < 0.5 ? '/a' : '/b';
          const tenant = `t${Math.floor(rng.next() * 4)}`;
          sent++;
          client
            .call('gw', GET(path, tenant), { timeout: 1000 })
            .onProcessed((e) => answers.push({ at: sim.now, res: e.value! }));
          yield sim.timeout(gaps.sample(rng));
        }
      });
      sim.schedule(1000, () => net.crash('svc'));
      sim.schedule(1500, () => net.restart('svc'));
      sim.schedule(3000, () => net.crash('gw'));
      sim.schedule(3200, () => net.restart('gw'));
      sim.run();
      const s = gw.stats;
      expect(answers.length).toBe(sent);
      expect(client.stats.sent).toBe(sent);
      expect(s.requests).toBe(s.ok + s.failed + s.inFlight + s.lost);
      expect(s.inFlight).toBe(0);
      expect(s.lost).toBeGreaterThan(0);
      let tenantTotal = 0;
      for (const t of gw.tenantStats.values()) {
        expect(t.requests).toBe(t.ok + t.failed + t.rejected + t.inFlight + t.lost);
        tenantTotal += t.requests;
      }
      expect(tenantTotal).toBe(s.requests);
      // Every answer the client saw ok was an ok of the gateway.
      expect(answers.filter((a) => a.res.ok).length).toBe(s.ok);
    }
  });
});

describe('ApiGateway options', () => {
  const make = (options: unknown) => () => {
    const sim = new Simulation({ seed: 1 });
    return new ApiGateway(new Network(sim).addNode('gw'), options as ApiGatewayOptions);
  };

  it('names the field, the value and what is allowed', () => {
    expect(make({ routes: [{ name: 'a', path: '/a', to: 'x' }], timout: 5 })).toThrow(
      /did you mean "timeout"/,
    );
    expect(make({ routes: [] })).toThrow(/routes must be a non-empty array/);
    expect(make({ routes: [{ name: 'a', path: '/a' }] })).toThrow(/exactly one of to .* and aggregate/);
    expect(make({ routes: [{ name: 'a', path: '/a', to: 'x', aggregate: [{ to: 'y' }] }] })).toThrow(
      /exactly one of/,
    );
    expect(make({ routes: [{ name: 'a', path: '/a', to: 'x', method: 'get' }] })).toThrow(
      /routes\[0\].method must be an upper-case HTTP method/,
    );
    expect(
      make({
        routes: [
          { name: 'a', path: '/a', to: 'x' },
          { name: 'a', path: '/b', to: 'y' },
        ],
      }),
    ).toThrow(/routes\[1\].name must be a name no other route has, got "a"/);
    expect(make({ routes: [{ name: 'a', path: '/a', aggregate: [{ to: 'x', optional: true }] }] })).toThrow(
      /at least one required part/,
    );
    expect(make({ routes: [{ name: 'a', path: '/a', to: 'x' }], auth: { timeout: 5 } })).toThrow(
      /auth must be/,
    );
    expect(make({ routes: [{ name: 'a', path: '/a', to: 'x' }], auth: { latency: 1, cacheTtl: 5 } })).toThrow(
      /auth.service must be set when/,
    );
    expect(
      make({ routes: [{ name: 'a', path: '/a', to: 'x' }], tenantLimit: { kind: 'token-bukket' } }),
    ).toThrow(/tenantLimit: .*did you mean "token-bucket"/);
    expect(make({ routes: [{ name: 'a', path: '/a', to: 'x', timeout: -1 }] })).toThrow(DsimError);
  });
});
