import { exponential, Network, RpcEndpoint, type RpcRequest, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { LoadBalancer } from '../src/balancer/load-balancer.js';
import type { LoadBalancerOptions } from '../src/balancer/load-balancer-options.js';
import { createBalancerPolicy } from '../src/balancer/policies/factory.js';
import { HaproxyHashPolicy, mapSlots } from '../src/balancer/policies/haproxy-hash.js';
import { HaproxyRandomPolicy } from '../src/balancer/policies/haproxy-random.js';
import { LeastConnPolicy } from '../src/balancer/policies/leastconn.js';
import type { BalancerBackend, BalancerPolicy, PickContext } from '../src/balancer/policy.js';
import { Service } from '../src/service/service.js';

type Backend = { -readonly [K in keyof BalancerBackend]: BalancerBackend[K] };
type Ctx = { -readonly [K in keyof PickContext]: PickContext[K] };

function backendsOf(names: string[], weights: number[] = []): Backend[] {
  return names.map((address, index) => ({
    address,
    weight: weights[index] ?? 1,
    active: 0,
    available: true,
    index,
  }));
}

/** A mutable context over `backends`; call `sync` after changing availability. */
function context(backends: Backend[], seed = 1): Ctx & { sync(): void } {
  const sim = new Simulation({ seed });
  const ctx = {
    backends,
    availableIndices: [] as number[],
    availableCount: 0,
    panic: false,
    request: { key: undefined } as RpcRequest,
    rng: sim.rng('test'),
    now: 0,
    sync() {
      const ids = backends.filter((b) => b.available).map((b) => b.index);
      ctx.availableIndices = ids;
      ctx.availableCount = ids.length;
    },
  };
  ctx.sync();
  return ctx;
}

function pickKey(policy: BalancerPolicy, ctx: Ctx, key: string | undefined): number {
  ctx.request = { key } as RpcRequest;
  return policy.pick(ctx);
}

/** Backends behind a balancer; sends `count` requests `gap` ms apart and returns the picked backends. */
function picks(options: LoadBalancerOptions, count: number, gap = 1, key?: (i: number) => string) {
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim);
  for (const b of options.backends) {
    new Service(net.addNode(typeof b === 'string' ? b : b.address), {
      serviceTime: gap > 0 ? 0.1 : 1000,
      concurrency: 1000,
    });
  }
  new LoadBalancer(net.addNode('lb'), options);
  const client = new RpcEndpoint(net.addNode('client'));
  const order: string[] = [];
  sim.inspect((r) => {
    if (r.type === '@dsim.lb.pick') order.push(r.backend as string);
  });
  sim.process(function* () {
    for (let i = 0; i < count; i++) {
      client.call('lb', i, key === undefined ? {} : { key: key(i) });
      if (gap > 0) yield sim.timeout(gap);
    }
  });
  sim.run();
  return order;
}

const TEN = Array.from({ length: 10 }, (_, i) => `s${i}`);
const KEYS = Array.from({ length: 20_000 }, (_, i) => `user:${i}`);

/** The fraction of KEYS whose backend changes when s3 (of ten) becomes unavailable. */
function movedWhenOneLeaves(hashType: 'map-based' | 'consistent'): { moved: number; onlyItsOwn: boolean } {
  const backends = backendsOf(TEN);
  const ctx = context(backends);
  const policy = createBalancerPolicy({ kind: 'haproxy-hash', hashType });
  policy.rebuild!(backends);
  const before = KEYS.map((k) => pickKey(policy, ctx, k));
  backends[3]!.available = false;
  ctx.sync();
  policy.rebuild!(backends);
  const after = KEYS.map((k) => pickKey(policy, ctx, k));
  let moved = 0;
  let onlyItsOwn = true;
  for (let i = 0; i < KEYS.length; i++) {
    if (before[i] === after[i]) continue;
    moved++;
    if (before[i] !== 3) onlyItsOwn = false;
  }
  return { moved: moved / KEYS.length, onlyItsOwn };
}

describe('haproxy-hash', () => {
  it('map-based (the default) moves most keys when one of 10 servers leaves: about 1 - 1/N = 0.9', () => {
    const { moved, onlyItsOwn } = movedWhenOneLeaves('map-based');
    // Before: slot h mod 10, after: h mod 9; a key stays only if both name the same server, 9 of 90 pairs.
    expect(moved).toBeGreaterThan(0.8);
    expect(moved).toBeGreaterThan(0.88);
    expect(moved).toBeLessThan(0.92);
    expect(onlyItsOwn).toBe(false);
  });

  it("consistent moves only the leaving server's keys, about 1/N", () => {
    const { moved, onlyItsOwn } = movedWhenOneLeaves('consistent');
    expect(moved).toBeGreaterThan(0.05);
    expect(moved).toBeLessThan(0.15);
    expect(onlyItsOwn).toBe(true);
  });

  it('map-based: each server owns weight consecutive slots, so shares follow the weights', () => {
    const backends = backendsOf(['a', 'b', 'c'], [1, 2, 3]);
    const policy = new HaproxyHashPolicy();
    policy.rebuild(backends);
    expect(policy.slotCount).toBe(6);
    expect(Array.from(policy.slots).slice(0, 6)).toEqual([0, 1, 1, 2, 2, 2]);
    const ctx = context(backends);
    const counts = [0, 0, 0];
    for (const k of KEYS) counts[pickKey(policy, ctx, k)]!++;
    for (let i = 0; i < 3; i++) {
      const p = (i + 1) / 6;
      const sd = Math.sqrt(KEYS.length * p * (1 - p));
      expect(Math.abs(counts[i]! - KEYS.length * p)).toBeLessThan(4 * sd);
    }
    // Unavailable servers own no slots; fractional effective weights are rounded, at least 1 slot.
    backends[1]!.available = false;
    backends[2]!.weight = 0.3;
    policy.rebuild(backends);
    expect(Array.from(policy.slots).slice(0, policy.slotCount)).toEqual([0, 2]);
    expect(mapSlots(2.5)).toBe(3);
  });

  it('a key always reaches the same backend; requests without a key go round robin', () => {
    const keyed = picks(
      { backends: ['a', 'b', 'c'], policy: { kind: 'haproxy-hash' } },
      9,
      1,
      () => 'user:42',
    );
    expect(new Set(keyed).size).toBe(1);
    for (const hashType of ['map-based', 'consistent'] as const) {
      const order = picks({ backends: ['a', 'b', 'c'], policy: { kind: 'haproxy-hash', hashType } }, 6);
      expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    }
  });

  it('checks its options at construction, with a did-you-mean', () => {
    expect(createBalancerPolicy({ kind: 'haproxy-hash' })).toMatchObject({ hashType: 'map-based' });
    expect(() => createBalancerPolicy({ kind: 'haproxy-hash', hashType: 'consistant' } as never)).toThrow(
      /hashType/,
    );
    expect(() => createBalancerPolicy({ kind: 'haproxy-hash', hashtype: 'consistent' } as never)).toThrow(
      /did you mean "hashType"/,
    );
    expect(() => createBalancerPolicy({ kind: 'haproxy-hsh' } as never)).toThrow(
      /did you mean "haproxy-hash"/,
    );
  });
});

describe('haproxy-random', () => {
  it('draws 1: weights 3:1 give 3:1 shares (binomial tolerance)', () => {
    const backends = backendsOf(['a', 'b'], [3, 1]);
    const policy = new HaproxyRandomPolicy(1);
    policy.rebuild(backends);
    const ctx = context(backends);
    const n = 8000;
    let a = 0;
    for (let i = 0; i < n; i++) if (policy.pick(ctx) === 0) a++;
    const sd = Math.sqrt(n * 0.75 * 0.25); // 38.7
    expect(Math.abs(a - n * 0.75)).toBeLessThan(4 * sd);
  });

  it('keeps the least loaded of the draws; ties at random; deterministic per seed', () => {
    const backends = backendsOf(['a', 'b', 'c', 'd']);
    backends[0]!.active = 5;
    const policy = new HaproxyRandomPolicy(2);
    const ctx = context(backends);
    const seq = Array.from({ length: 2000 }, () => policy.pick(ctx));
    // a is picked only when both draws are a: 1/16.
    const a = seq.filter((i) => i === 0).length;
    expect(Math.abs(a - 2000 / 16)).toBeLessThan(4 * Math.sqrt(2000 * (1 / 16) * (15 / 16)));
    const again = new HaproxyRandomPolicy(2);
    const ctx2 = context(backends);
    expect(Array.from({ length: 2000 }, () => again.pick(ctx2))).toEqual(seq);
  });

  it('draws 2 balances active counts better than draws 1 under load', () => {
    const run = (draws: number) => {
      const sim = new Simulation({ seed: 7 });
      const net = new Network(sim);
      const names = Array.from({ length: 10 }, (_, i) => `app-${i}`);
      for (const b of names)
        new Service(net.addNode(b), { serviceTime: exponential({ mean: 10 }), concurrency: 1 });
      const lb = new LoadBalancer(net.addNode('lb'), {
        backends: names,
        policy: { kind: 'haproxy-random', draws },
      });
      const client = new RpcEndpoint(net.addNode('client'));
      const gaps = sim.rng('arrivals');
      let sumMax = 0;
      let samples = 0;
      sim.process(function* () {
        // Poisson arrivals at 90% of the total service rate (10 servers × 1 per 10 ms).
        for (let i = 0; i < 20_000; i++) {
          client.call('lb', i, { timeout: '1h' });
          yield sim.timeout(-Math.log(1 - gaps.next()) * (10 / 9));
          let max = 0;
          for (const b of lb.backends) max = Math.max(max, b.active);
          sumMax += max;
          samples++;
        }
      });
      sim.run();
      return sumMax / samples;
    };
    const one = run(1);
    const two = run(2);
    expect(two).toBeLessThan(one / 2);
  });

  it('checks draws at construction', () => {
    expect(createBalancerPolicy({ kind: 'haproxy-random' })).toMatchObject({ draws: 2 });
    expect(() => createBalancerPolicy({ kind: 'haproxy-random', draws: 0 })).toThrow(/draws/);
    expect(() => createBalancerPolicy({ kind: 'haproxy-random', draw: 2 } as never)).toThrow(
      /did you mean "draws"/,
    );
  });
});

describe('leastconn', () => {
  it('round robin among ties: a b c a b c on an idle set', () => {
    expect(picks({ backends: ['a', 'b', 'c'], policy: { kind: 'leastconn' } }, 6)).toEqual([
      'a',
      'b',
      'c',
      'a',
      'b',
      'c',
    ]);
    const backends = backendsOf(['a', 'b', 'c']);
    backends[1]!.active = 1;
    const policy = new LeastConnPolicy();
    const ctx = context(backends);
    // b is loaded: the tie between a and c rotates.
    expect(Array.from({ length: 4 }, () => policy.pick(ctx))).toEqual([0, 2, 0, 2]);
  });

  it('is weighted: the load is active / weight', () => {
    const backends = backendsOf(['a', 'b'], [2, 1]);
    const policy = new LeastConnPolicy();
    const ctx = context(backends);
    backends[0]!.active = 3; // 1.5
    backends[1]!.active = 2; // 2
    expect(policy.pick(ctx)).toBe(0);
    backends[0]!.active = 5; // 2.5
    expect(policy.pick(ctx)).toBe(1);
    // 30 requests held at once by weights 2:1 split 20:10.
    const order = picks(
      { backends: [{ address: 'a', weight: 2 }, 'b'], policy: { kind: 'leastconn' } },
      30,
      0,
    );
    expect(order.filter((x) => x === 'a').length).toBe(20);
  });

  it('skips unavailable backends and answers -1 when none is left', () => {
    const backends = backendsOf(['a', 'b', 'c']);
    backends[1]!.available = false;
    const policy = new LeastConnPolicy();
    const ctx = context(backends);
    expect(Array.from({ length: 4 }, () => policy.pick(ctx))).toEqual([0, 2, 0, 2]);
    for (const b of backends) b.available = false;
    ctx.sync();
    expect(policy.pick(ctx)).toBe(-1);
    expect(() => createBalancerPolicy({ kind: 'leastconn', weighted: true } as never)).toThrow(/weighted/);
  });
});
