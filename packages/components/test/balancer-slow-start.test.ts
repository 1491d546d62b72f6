import { DsimError, Network, RpcEndpoint, Simulation, type TraceRecord } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import type { BackendHealth } from '../src/balancer/health-hook.js';
import { LoadBalancer } from '../src/balancer/load-balancer.js';
import type { LoadBalancerOptions } from '../src/balancer/load-balancer-options.js';
import { resolveSlowStart, slowStartFactor } from '../src/balancer/slow-start.js';
import { Service } from '../src/service/service.js';

function setup(options: LoadBalancerOptions, extra: string[] = []) {
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim);
  const all = [...options.backends.map((b) => (typeof b === 'string' ? b : b.address)), ...extra];
  for (const address of all)
    new Service(net.addNode(address), { serviceTime: 1, concurrency: 1000, respond: () => address });
  const lb = new LoadBalancer(net.addNode('lb'), options);
  const client = new RpcEndpoint(net.addNode('client'));
  const served: { at: number; backend: string }[] = [];
  const send = () =>
    client.call('lb', 'x').onProcessed((e) => {
      const r = e.value!;
      served.push({ at: sim.now, backend: r.ok ? (r.value as string) : `error:${r.error.kind}` });
    });
  /** One request every `every` ms from `from` to `to` (exclusive). */
  const steady = (from: number, to: number, every: number) => {
    for (let t = from; t < to; t += every) sim.schedule(t, send);
  };
  return { sim, net, lb, client, served, send, steady };
}

describe('slowStartFactor', () => {
  const envoy = resolveSlowStart({ kind: 'envoy', window: '60s' });

  it('Envoy, window 60 s, aggression 1: linear in time, 0.25 at 15 s, the 10% floor before 6 s', () => {
    expect(envoy).toEqual({ kind: 'envoy', windowMs: 60_000, aggression: 1, minWeightPercent: 10 });
    expect(slowStartFactor(envoy, 15_000)).toBe(0.25);
    expect(slowStartFactor(envoy, 30_000)).toBe(0.5);
    for (const t of [0, 500, 1000, 3000, 5999, 6000]) expect(slowStartFactor(envoy, t)).toBe(0.1);
    expect(slowStartFactor(envoy, 6600)).toBeCloseTo(0.11, 12);
    expect(slowStartFactor(envoy, 60_000)).toBe(1);
    expect(slowStartFactor(envoy, 1e9)).toBe(1);
  });

  it('Envoy aggression and minWeightPercent: max(min%, timeFactor^(1/aggression)); time below 1 s counts as 1 s', () => {
    const a2 = resolveSlowStart({ kind: 'envoy', window: 60_000, aggression: 2 });
    expect(slowStartFactor(a2, 15_000)).toBe(0.5); // sqrt(0.25)
    const low = resolveSlowStart({ kind: 'envoy', window: '10s', minWeightPercent: 1 });
    expect(slowStartFactor(low, 0)).toBe(0.1); // max(0 s, 1 s) / 10 s
    expect(slowStartFactor(low, 400)).toBe(0.1);
    expect(slowStartFactor(low, 2500)).toBe(0.25);
  });

  it('HAProxy: linear from 1% to 100% over the window', () => {
    const h = resolveSlowStart({ kind: 'haproxy', window: '60s' });
    expect(slowStartFactor(h, 0)).toBe(0.01);
    expect(slowStartFactor(h, 30_000)).toBeCloseTo(0.505, 12);
    expect(slowStartFactor(h, 59_999)).toBeLessThan(1);
    expect(slowStartFactor(h, 60_000)).toBe(1);
    // Linear: equal steps in time give equal steps in weight.
    const d1 = slowStartFactor(h, 20_000) - slowStartFactor(h, 10_000);
    const d2 = slowStartFactor(h, 50_000) - slowStartFactor(h, 40_000);
    expect(d1).toBeCloseTo(d2, 12);
  });

  it('options are checked at construction with did-you-mean', () => {
    const make = (slowStart: unknown) => () =>
      setup({ backends: ['a'], slowStart } as unknown as LoadBalancerOptions);
    expect(make({ kind: 'envoi', window: 1000 })).toThrow(/slowStart\.kind .*did you mean "envoy"/);
    expect(make({ kind: 'envoy', windw: 1000 })).toThrow(
      /slowStart\.windw.*did you mean "slowStart\.window"/,
    );
    expect(make({ kind: 'envoy', window: 0 })).toThrow(/slowStart\.window must be a duration > 0/);
    expect(make({ kind: 'envoy', window: 1000, aggression: 0 })).toThrow(/slowStart\.aggression/);
    expect(make({ kind: 'envoy', window: 1000, minWeightPercent: 0 })).toThrow(/slowStart\.minWeightPercent/);
    expect(make({ kind: 'haproxy', window: 1000, aggression: 2 })).toThrow(DsimError);
    expect(make({ kind: 'haproxy', window: '30s' })).not.toThrow();
  });
});

describe('LoadBalancer slow start', () => {
  it('a backend added with weight 2 weighs exactly 0.2 before 6 s, 0.5 at 15 s and 2 after 60 s (Envoy)', () => {
    const { sim, lb, send } = setup(
      {
        backends: ['a', 'b'],
        policy: { kind: 'weighted-round-robin' },
        slowStart: { kind: 'envoy', window: '60s' },
      },
      ['c'],
    );
    const seen: Record<number, number> = {};
    const picked: Record<number, number> = {};
    sim.schedule(1000, () => lb.addBackend({ address: 'c', weight: 2 }));
    for (const t of [1000, 4000, 7000, 16_000, 31_000, 61_000, 70_000]) {
      sim.schedule(t, () => {
        seen[t] = lb.effectiveWeight('c');
        send(); // its pick (at the same time, zero latency) updates what policies see
      });
      sim.schedule(t + 0.5, () => {
        picked[t] = lb.backends[2]!.weight;
      });
    }
    sim.run();
    expect(picked).toEqual(seen);
    expect(seen[1000]).toBe(0.2);
    expect(seen[4000]).toBe(0.2);
    expect(seen[7000]).toBe(0.2); // 6 s / 60 s = 0.1: still the floor
    expect(seen[16_000]).toBe(0.5);
    expect(seen[31_000]).toBe(1);
    expect(seen[61_000]).toBe(2);
    expect(seen[70_000]).toBe(2);
    expect(lb.effectiveWeight('a')).toBe(1); // initial backends never slow-start
  });

  it('a cold backend gets a reduced share early and its full share after the window (smooth WRR)', () => {
    const { sim, lb, served, steady } = setup(
      {
        backends: ['a', 'b'],
        policy: { kind: 'weighted-round-robin' },
        slowStart: { kind: 'envoy', window: '60s' },
      },
      ['c'],
    );
    sim.schedule(0, () => lb.addBackend('c'));
    steady(1, 120_000, 10);
    sim.run();
    const share = (from: number, to: number) => {
      const window = served.filter((s) => s.at >= from && s.at < to);
      return window.filter((s) => s.backend === 'c').length / window.length;
    };
    expect(served).toHaveLength(12_000);
    expect(share(0, 6000)).toBeCloseTo(0.1 / 2.1, 2); // weight 0.1 against 1 + 1
    expect(share(29_000, 31_000)).toBeCloseTo(0.5 / 2.5, 1);
    expect(share(61_000, 120_000)).toBeCloseTo(1 / 3, 2);
  });

  it('HAProxy ramp with EDF: the share grows roughly linearly', () => {
    const { sim, lb, served, steady } = setup(
      {
        backends: ['a'],
        policy: { kind: 'weighted-round-robin', scheduler: 'edf' },
        slowStart: { kind: 'haproxy', window: '10s' },
      },
      ['c'],
    );
    sim.schedule(0, () => lb.addBackend('c'));
    steady(1, 20_000, 2);
    sim.run();
    const cShare = (from: number, to: number) => {
      const w = served.filter((s) => s.at >= from && s.at < to);
      return w.filter((s) => s.backend === 'c').length / w.length;
    };
    const f = (t: number) => 0.01 + (0.99 * t) / 10_000;
    // weight f against a's 1: share f / (1 + f), near the middle of each second
    for (const t of [2000, 5000, 8000]) expect(cShare(t - 500, t + 500)).toBeCloseTo(f(t) / (1 + f(t)), 1);
    expect(cShare(0, 200)).toBeLessThan(0.03);
    expect(cShare(11_000, 20_000)).toBeCloseTo(0.5, 2);
  });

  it('least-request goes weighted while a backend is in slow start, and the cold backend gets fewer requests', () => {
    const { sim, lb, served, steady } = setup(
      {
        backends: ['a', 'b'],
        policy: { kind: 'least-request' },
        slowStart: { kind: 'envoy', window: '20s' },
      },
      ['c'],
    );
    sim.schedule(0, () => lb.addBackend('c'));
    steady(1, 40_000, 5);
    sim.run();
    const early = served.filter((s) => s.at < 2000);
    const late = served.filter((s) => s.at > 21_000);
    const c = (xs: typeof served) => xs.filter((s) => s.backend === 'c').length / xs.length;
    expect(c(early)).toBeLessThan(0.08);
    expect(c(late)).toBeGreaterThan(0.25);
  });

  it('a backend that comes back (a health hook flips to available) slow-starts again; traces record it', () => {
    const down = new Set<string>();
    const health: BackendHealth = { isAvailable: (a) => !down.has(a) };
    const { sim, lb, served, steady } = setup({
      backends: ['a', 'b', 'c'],
      policy: { kind: 'weighted-round-robin' },
      health: [health],
      slowStart: { kind: 'envoy', window: '10s' },
    });
    const records: TraceRecord[] = [];
    sim.inspect((r) => {
      if (r.type === '@dsim.lb.slow-start') records.push(r);
    });
    sim.schedule(1000, () => down.add('c'));
    sim.schedule(5000, () => down.delete('c'));
    steady(0, 20_000, 10);
    sim.run();
    expect(records.map((r) => [r.backend, r.phase, r.reason ?? null, r.weight])).toEqual([
      ['c', 'start', 'recovered', 0.1],
      ['c', 'end', null, 1],
    ]);
    expect(records[0]!.t).toBe(5000);
    expect(records[1]!.t).toBe(15_000);
    const between = served.filter((s) => s.at > 1000 && s.at < 5000);
    expect(between.some((s) => s.backend === 'c')).toBe(false);
    const afterBack = served.filter((s) => s.at >= 5000 && s.at < 6000);
    expect(afterBack.filter((s) => s.backend === 'c').length / afterBack.length).toBeCloseTo(0.1 / 2.1, 2);
    expect(sim.metrics.counter('lb', 'lb.slow-start').value).toBe(1);
    expect(lb.effectiveWeight('c')).toBe(1);
  });

  it('setWeight during slow start keeps the ramp; removal ends it', () => {
    const { sim, lb, send } = setup({ backends: ['a'], slowStart: { kind: 'envoy', window: '60s' } }, ['c']);
    sim.schedule(0, () => lb.addBackend('c'));
    sim.schedule(30_000, () => {
      lb.setWeight('c', 4);
      expect(lb.effectiveWeight('c')).toBe(2);
      send();
      expect(lb.backends[1]!.weight).toBe(2);
      expect(lb.removeBackend('c')).toBe(true);
      lb.addBackend({ address: 'c', weight: 4 });
      expect(lb.effectiveWeight('c')).toBeCloseTo(0.4, 12);
    });
    sim.run();
  });
});
