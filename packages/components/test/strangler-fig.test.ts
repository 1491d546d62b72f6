import { exponential, Network, RpcEndpoint, type RpcResponse, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { hash53 } from '../src/hashing/hash.js';
import { CanaryRollout, type CanaryRolloutOptions } from '../src/migration/canary-rollout.js';
import { StranglerFacade } from '../src/migration/strangler-facade.js';
import type { StranglerFacadeOptions } from '../src/migration/strangler-facade-options.js';
import { Service } from '../src/service/service.js';
import type { ServiceOptions } from '../src/service/service-options.js';

/** Legacy and new services behind a facade; `load` sends Poisson requests per tenant and path. */
function setup(
  facade: Partial<StranglerFacadeOptions> = {},
  {
    seed = 1,
    modern = {},
    legacy = {},
  }: { seed?: number; modern?: ServiceOptions | object; legacy?: object } = {},
) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency: 0.5 } });
  new Service(net.addNode('monolith'), { serviceTime: 2, concurrency: 1000, respond: () => 'v1', ...legacy });
  new Service(net.addNode('billing-v2'), {
    serviceTime: 1,
    concurrency: 1000,
    respond: () => 'v1',
    ...modern,
  });
  const f = new StranglerFacade(net.addNode('facade'), {
    legacy: 'monolith',
    routes: [{ name: 'invoices', path: '/invoices/*', to: 'billing-v2' }],
    ...facade,
  });
  const client = new RpcEndpoint(net.addNode('client'));
  const answers: RpcResponse[] = [];
  const rng = sim.rng('test/load');
  const load = (ratePerS: number, untilMs: number, path = '/invoices/1', tenants = 1000) => {
    const gaps = exponential({ mean: 1000 / ratePerS });
    sim.process(function* () {
      while (sim.now < untilMs) {
        const tenant = `t${Math.floor(rng.next() * tenants)}`;
        client.callThen('facade', { path, tenant }, { timeout: 5000 }, (res) => answers.push(res));
        yield sim.timeout(gaps.sample(rng));
      }
    });
  };
  return { sim, net, facade: f, client, answers, load };
}

describe('StranglerFacade', () => {
  it('sends unmatched requests to the legacy system, and a route by its weight', () => {
    const { sim, facade, load } = setup({ assignment: 'random' });
    facade.setWeight('invoices', 0.3);
    load(1000, 10_000);
    load(100, 10_000, '/reports/1');
    sim.run();
    const s = facade.routeStats('invoices');
    const n = s.legacy.requests + s.modern.requests;
    const share = s.modern.requests / n;
    expect(Math.abs(share - 0.3)).toBeLessThan(4 * Math.sqrt((0.3 * 0.7) / n));
    expect(facade.unrouted.requests).toBeGreaterThan(900);
    expect(facade.unrouted.ok).toBe(facade.unrouted.requests);
  });

  it('sticky assignment: a tenant stays on one side, and moved tenants stay moved as the weight grows', () => {
    const { sim, facade, client } = setup();
    const weights = [0.1, 0.1, 0.5, 0.5, 0.9];
    for (const [i, w] of weights.entries())
      sim.schedule(i * 100, () => {
        facade.setWeight('invoices', w);
        for (let t = 0; t < 2000; t++)
          client.callThen('facade', { path: '/invoices/9', tenant: `tenant-${t}` }, undefined, () => {});
      });
    sim.run();
    const s = facade.routeStats('invoices');
    expect(s.modern.requests + s.legacy.requests).toBe(10_000);
    const expected = 2000 * weights.reduce((a, w) => a + w, 0);
    expect(Math.abs(s.modern.requests - expected)).toBeLessThan(150);
    // Stickiness: the same tenant sent twice at the same weight lands on the same side.
    const modernAt = (w: number) => {
      let count = 0;
      for (let t = 0; t < 2000; t++) if (hashShare(`tenant-${t}`) < w) count++;
      return count;
    };
    expect(s.modern.requests).toBe(2 * modernAt(0.1) + 2 * modernAt(0.5) + modernAt(0.9));
  });

  it('mirrors legacy-bound requests as shadow traffic: new-service errors are counted, never shown', () => {
    const { sim, facade, answers, load } = setup({}, { modern: { errorRate: 0.1, respond: () => 'v2' } });
    facade.setShadow('invoices', 1);
    load(500, 20_000);
    sim.run();
    const s = facade.routeStats('invoices');
    expect(s.modern.requests).toBe(0);
    expect(s.shadowSent).toBe(s.legacy.requests);
    expect(answers.every((a) => a.ok)).toBe(true);
    const rate = s.shadowFailed / s.shadowSent;
    expect(Math.abs(rate - 0.1)).toBeLessThan(4 * Math.sqrt((0.1 * 0.9) / s.shadowSent));
    expect(s.shadowMismatched).toBe(s.shadowSent - s.shadowFailed); // 'v2' differs from 'v1'
  });
});

/** A hash share as the facade computes it, to check stickiness independently. */
function hashShare(tenant: string): number {
  // Same function the facade uses: xxHash64's top 53 bits over 2^53.
  return hash53(tenant) / 2 ** 53;
}
describe('CanaryRollout', () => {
  const rollout = (
    env: ReturnType<typeof setup>,
    options: Partial<CanaryRolloutOptions> = {},
  ): CanaryRollout =>
    new CanaryRollout(env.sim, env.facade, {
      route: 'invoices',
      steps: [0.05, 0.25, 0.5, 1],
      interval: '1m',
      ...options,
    });

  it('promotes a good release step by step, one interval each', () => {
    const env = setup();
    const r = rollout(env);
    env.load(200, 6 * 60_000);
    env.sim.run();
    expect(r.state).toBe('promoted');
    expect(r.endedAt).toBe(4 * 60_000);
    expect(r.history.map((h) => [h.at, h.weight, h.result])).toEqual([
      [60_000, 0.05, 'pass'],
      [120_000, 0.25, 'pass'],
      [180_000, 0.5, 'pass'],
      [240_000, 1, 'pass'],
    ]);
    expect(env.facade.weight('invoices')).toBe(1);
  });

  it('rolls a bad release back at its first analysis; users saw about weight x rate x interval x error rate errors', () => {
    const exposures: number[] = [];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      // Random assignment: with sticky tenants the exposed share is the share of tenants hashed below 5%.
      const env = setup({ assignment: 'random' }, { seed, modern: { errorRate: 0.05 } });
      const r = rollout(env);
      env.load(200, 70_000);
      env.sim.run();
      expect(r.state).toBe('rolled-back');
      expect(r.endedAt).toBe(60_000);
      expect(env.facade.weight('invoices')).toBe(0);
      expect(r.history).toHaveLength(1);
      expect(r.history[0]!.result).toBe('fail');
      exposures.push(env.answers.filter((a) => !a.ok).length);
    }
    const theory = 200 * 60 * 0.05 * 0.05; // 30 errors
    const mean = exposures.reduce((a, b) => a + b, 0) / exposures.length;
    // Each run's count is Poisson around 30 (sd 5.5): the mean of six has sd 2.2, so within 25% is 3.4 sd.
    expect(Math.abs(mean - theory) / theory).toBeLessThan(0.25);
  });

  it('holds a step with too few requests (inconclusive), and tolerates failureLimit failures', () => {
    const quiet = setup();
    const r = rollout(quiet, { steps: [0.01, 1], minRequests: 50, inconclusiveLimit: 2 });
    quiet.load(20, 10 * 60_000); // 0.2 canary requests a second at 1%: about 12 a minute
    quiet.sim.run();
    expect(r.history.map((h) => [h.at, h.result])).toEqual([
      [60_000, 'inconclusive'],
      [120_000, 'inconclusive'],
      [180_000, 'inconclusive'],
    ]);
    expect(r.state).toBe('paused');
    expect(quiet.facade.weight('invoices')).toBe(0.01);

    const flaky = setup({}, { modern: { errorRate: 0.02 } });
    const f = rollout(flaky, { failureLimit: 1 });
    flaky.load(500, 5 * 60_000);
    flaky.sim.run();
    expect(f.history.map((h) => h.result)).toEqual(['fail', 'fail']);
    expect(f.endedAt).toBe(120_000);
    expect(f.state).toBe('rolled-back');
  });

  it('fails a step on latency when maxP99Ms is set', () => {
    const slow = setup({}, { modern: { serviceTime: exponential({ mean: 100 }) } });
    const r = rollout(slow, { maxP99Ms: 200 });
    slow.load(200, 3 * 60_000);
    slow.sim.run();
    expect(r.state).toBe('rolled-back');
    expect(r.history[0]!.p99Ms).toBeGreaterThan(400); // about 100 ln 100 + 2 = 462 ms
  });

  it('names bad options', () => {
    const env = setup();
    expect(() => rollout(env, { route: 'invoice' })).toThrow(
      /route must be one of the facade's routes: "invoices"/,
    );
    expect(() => rollout(env, { steps: [0.5, 0.2, 1] })).toThrow(/steps must be increasing weights/);
    expect(() => rollout(env, { steps: [0.5] })).toThrow(/ending at 1/);
    expect(() => rollout(env, { intervall: '1m' } as never)).toThrow(/did you mean "interval"/);
    expect(() => new StranglerFacade(env.net.addNode('f2'), { legacy: 'm', routes: [] })).toThrow(
      /routes must be/,
    );
    expect(
      () =>
        new StranglerFacade(env.net.addNode('f3'), {
          legacy: 'm',
          routes: [{ name: 'a', path: '/a', to: 'x', weight: 1.5 }],
        }),
    ).toThrow(/routes\[0\].weight must be a probability in \[0, 1\], got 1.5/);
    expect(() => env.facade.setWeight('nope', 0.5)).toThrow(/route must be one of "invoices"/);
  });
});

describe('StranglerFacade conservation', () => {
  it('every request is answered once across seeds, with a facade crash and a canary running', () => {
    for (const seed of [1, 2, 3, 4]) {
      const env = setup({}, { seed, modern: { errorRate: 0.01 } });
      new CanaryRollout(env.sim, env.facade, { route: 'invoices', interval: '10s', minSuccessRate: 0.95 });
      env.facade.setShadow('invoices', 0.5);
      env.load(300, 60_000);
      env.load(50, 60_000, '/other');
      env.sim.schedule(20_000, () => env.net.crash('facade'));
      env.sim.schedule(21_000, () => env.net.restart('facade'));
      env.sim.run();
      const sent = env.client.stats.sent;
      expect(env.answers.length).toBe(sent);
      const s = env.facade.routeStats('invoices');
      let total = 0;
      for (const side of [s.legacy, s.modern, env.facade.unrouted]) {
        expect(side.requests).toBe(side.ok + side.failed + side.inFlight + side.lost);
        expect(side.inFlight).toBe(0);
        total += side.requests;
      }
      const lostOrDropped = env.answers.filter((a) => !a.ok && a.error.kind === 'timeout').length;
      expect(total + lostOrDropped).toBeGreaterThanOrEqual(sent); // requests sent while it was down never arrived
      expect(env.answers.filter((a) => a.ok).length).toBe(s.legacy.ok + s.modern.ok + env.facade.unrouted.ok);
    }
  });
});
