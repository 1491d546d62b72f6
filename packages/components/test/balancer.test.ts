import {
  DsimError,
  exponential,
  Network,
  RpcEndpoint,
  type RpcRequest,
  type RpcResponse,
  Simulation,
  type TraceRecord,
} from '@dsim/core';
import { describe, expect, it } from 'vitest';
import type { BackendHealth } from '../src/balancer/health-hook.js';
import { LoadBalancer } from '../src/balancer/load-balancer.js';
import type { LoadBalancerOptions } from '../src/balancer/load-balancer-options.js';
import { type BalancerPolicySpec, createBalancerPolicy } from '../src/balancer/policies/factory.js';
import type { BalancerPolicy } from '../src/balancer/policy.js';
import { Service } from '../src/service/service.js';

function setup(
  options: LoadBalancerOptions,
  { serviceTime = 1, seed = 1 }: { serviceTime?: number; seed?: number } = {},
) {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  for (const b of options.backends) {
    const address = typeof b === 'string' ? b : b.address;
    new Service(net.addNode(address), { serviceTime, concurrency: 100, respond: () => address });
  }
  const lb = new LoadBalancer(net.addNode('lb'), options);
  const client = new RpcEndpoint(net.addNode('client'));
  const responses: RpcResponse[] = [];
  const call = (payload: unknown, opts: Parameters<RpcEndpoint['call']>[2] = {}) =>
    client.call('lb', payload, opts).onProcessed((e) => responses.push(e.value!));
  return { sim, net, lb, client, responses, call };
}

describe('LoadBalancer forwarding', () => {
  it('forwards to a backend and answers with its value; key, origin and deadline propagate', () => {
    const { sim, net, responses, call } = setup({ backends: ['a'], timeout: 500 });
    let seen: RpcRequest | undefined;
    new RpcEndpoint(net.addNode('probe')); // unrelated node: the network still works
    sim.inspect((r: TraceRecord) => {
      if (r.type === '@dsim.rpc.start' && r.to === 'a') seen = r as unknown as RpcRequest;
    });
    sim.process(function* () {
      yield sim.timeout(10);
      call('hello', { key: 'user:1', timeout: 200 });
    });
    sim.run();
    expect(responses).toHaveLength(1);
    expect(responses[0]!.ok && responses[0]!.value).toBe('a');
    expect(seen?.key).toBe('user:1');
    expect(seen?.deadline).toBe(210); // the caller's deadline (now + 200) is earlier than the LB's 500
  });

  it('a backend slower than the timeout is gateway-timeout (504); the caller deadline is deadline-exceeded', () => {
    const slow = setup({ backends: ['a'], timeout: 50 }, { serviceTime: 100 });
    const answered: unknown[] = [];
    slow.sim.inspect((r) => {
      if (r.type === '@dsim.lb.error') answered.push(r.answered);
    });
    slow.call(1);
    slow.call(2, { timeout: 30 });
    slow.sim.run();
    const kinds = slow.responses.map((r) => (r.ok ? 'ok' : r.error.kind));
    expect(kinds.sort()).toEqual(['gateway-timeout', 'timeout']);
    // The LB itself answered deadline-exceeded to the caller that had already given up (a late reply).
    expect(slow.client.stats.late).toBe(1);
    expect(answered.sort()).toEqual(['deadline-exceeded', 'gateway-timeout']);
    expect(slow.sim.metrics.counter('lb', 'lb.backend.a.errors.timeout').value).toBe(2);
  });

  it('no backend is unavailable (503) and counted as lb.no-backend', () => {
    const { sim, lb, responses, call } = setup({ backends: [] });
    call(1);
    sim.run();
    expect(!responses[0]!.ok && responses[0]!.error.kind).toBe('unavailable');
    expect(sim.metrics.counter('lb', 'lb.no-backend').value).toBe(1);
    expect(lb.stats.noBackend).toBe(1);
  });

  it('more than `concurrency` requests in flight are refused overloaded', () => {
    const { sim, lb, responses, call } = setup({ backends: ['a', 'b'], concurrency: 3 }, { serviceTime: 10 });
    for (let i = 0; i < 5; i++) call(i);
    sim.run();
    expect(responses.filter((r) => !r.ok && r.error.kind === 'overloaded')).toHaveLength(2);
    expect(lb.stats).toMatchObject({ requests: 5, ok: 3, overloaded: 2, inFlight: 0 });
  });

  it('its own latency on one worker saturates: throughput <= workers / latency', () => {
    const { sim, responses, call } = setup({ backends: ['a'], latency: 2, workers: 1 }, { serviceTime: 0 });
    for (let i = 0; i < 10; i++) call(i);
    sim.run();
    // Ten requests at once through one 2 ms worker: answered at 2, 4, ..., 20 ms.
    expect(responses.map((r) => r.latency)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    expect(sim.metrics.gauge('lb', 'lb.queue').max).toBe(9);
    const two = setup({ backends: ['a'], latency: exponential({ mean: 2 }), workers: 2 }, { serviceTime: 0 });
    for (let i = 0; i < 1000; i++) two.call(i);
    two.sim.run();
    expect(two.sim.now / 1000).toBeGreaterThan(0.8); // about 1 ms per request with two 2 ms workers
    expect(two.sim.now / 1000).toBeLessThan(1.2);
  });

  it('records per-backend requests, active (gauge) and errors by kind', () => {
    const { sim, net, call } = setup({ backends: ['a', 'b'], policy: { kind: 'round-robin' } });
    new Service(net.addNode('c'), { serviceTime: 1, errorRate: 1 });
    const lb2 = new LoadBalancer(net.addNode('lb2'), { backends: ['c'] });
    const client = new RpcEndpoint(net.addNode('client2'));
    for (let i = 0; i < 4; i++) call(i);
    client.call('lb2', 0);
    sim.run();
    const m = sim.metrics;
    expect(m.counter('lb', 'lb.backend.a.requests').value).toBe(2);
    expect(m.counter('lb', 'lb.backend.b.requests').value).toBe(2);
    expect(m.gauge('lb', 'lb.backend.a.active').max).toBe(2);
    expect(m.counter('lb', 'lb.requests').value).toBe(4);
    expect(m.counter('lb2', 'lb.backend.c.errors.error').value).toBe(1);
    expect(lb2.stats.failed).toBe(1);
  });
});

describe('LoadBalancer runtime changes', () => {
  it('setWeight, addBackend and removeBackend take effect at the next pick', () => {
    const { sim, lb, net, call } = setup({
      backends: ['a', 'b'],
      policy: { kind: 'weighted-round-robin' },
    });
    new Service(net.addNode('c'), { serviceTime: 1 });
    const order: string[] = [];
    sim.inspect((r) => {
      if (r.type === '@dsim.lb.pick') order.push(r.backend as string);
    });
    sim.process(function* () {
      for (let i = 0; i < 4; i++) {
        call(i);
        yield sim.timeout(1);
      }
      lb.setWeight('a', 3);
      for (let i = 0; i < 4; i++) {
        call(i);
        yield sim.timeout(1);
      }
      lb.addBackend({ address: 'c', weight: 2 });
      expect(lb.removeBackend('b')).toBe(true);
      expect(lb.removeBackend('b')).toBe(false);
      for (let i = 0; i < 5; i++) {
        call(i);
        yield sim.timeout(1);
      }
    });
    sim.run();
    expect(order.slice(0, 4).sort()).toEqual(['a', 'a', 'b', 'b']);
    expect(order.slice(4, 8).filter((x) => x === 'a')).toHaveLength(3);
    expect(order.slice(8).sort()).toEqual(['a', 'a', 'a', 'c', 'c']);
    expect(lb.addresses).toEqual(['a', 'c']);
    expect(() => lb.setWeight('zz', 1)).toThrow(/"zz" is not a backend/);
    expect(() => lb.setWeight('a', 0)).toThrow(/setWeight\(weight\) must be a finite number > 0/);
    expect(() => lb.addBackend('a')).toThrow(/already a backend/);
    expect(() => lb.addBackend({ address: 'd', wieght: 2 } as never)).toThrow(
      /did you mean "addBackend\(spec\)\.weight"/,
    );
  });
});

describe('LoadBalancer health and panic mode', () => {
  const names = Array.from({ length: 10 }, (_, i) => `b${i}`);
  function spread(health: BackendHealth[], panicThreshold?: number) {
    const { sim, lb, call, responses } = setup({
      backends: names,
      policy: { kind: 'random' },
      health,
      ...(panicThreshold === undefined ? {} : { panicThreshold }),
    });
    for (let i = 0; i < 500; i++) call(i);
    sim.run();
    const used = names.filter((n) => sim.metrics.counter('lb', `lb.backend.${n}.requests`).value > 0);
    return { used, lb, responses };
  }

  it('a backend is available when every health hook says so; hooks see every answer', () => {
    const outcomes: string[] = [];
    const a: BackendHealth = { isAvailable: (x) => x !== 'b1' };
    const b: BackendHealth = {
      isAvailable: (x) => x !== 'b2',
      onResponse: (address, ok, kind) => outcomes.push(`${address}:${ok}:${kind}`),
    };
    let started: readonly string[] = [];
    const c: BackendHealth = { isAvailable: () => true, start: (lb) => (started = lb.addresses) };
    const { used, lb } = spread([a, b, c]);
    expect(used).toEqual(names.filter((n) => n !== 'b1' && n !== 'b2'));
    expect(outcomes).toHaveLength(500);
    expect(outcomes[0]).toMatch(/^b\d:true:undefined$/);
    expect(started).toBe(lb.addresses);
    expect(lb.inPanic).toBe(false);
  });

  it("Envoy's panic threshold: below 50% available, balance over all backends", () => {
    const fewUp: BackendHealth = { isAvailable: (x) => ['b0', 'b1', 'b2', 'b3'].includes(x) };
    const panicked = spread([fewUp]);
    expect(panicked.used).toEqual(names);
    expect(panicked.lb.inPanic).toBe(true);
    expect(panicked.lb.stats.panicked).toBe(500);
    // 50% available is not below 50%: no panic.
    const halfUp: BackendHealth = { isAvailable: (x) => Number(x.slice(1)) < 5 };
    expect(spread([halfUp]).used).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    // Threshold 0 disables panic mode: only the available ones, and none left is unavailable.
    expect(spread([fewUp], 0).used).toEqual(['b0', 'b1', 'b2', 'b3']);
    const noneUp = spread([{ isAvailable: () => false }], 0);
    expect(noneUp.used).toEqual([]);
    expect(noneUp.responses.every((r) => !r.ok && r.error.kind === 'unavailable')).toBe(true);
  });
});

describe('LoadBalancer conservation', () => {
  it('every request is answered exactly once across 10 seeds with crashes, restarts and removals', () => {
    const kinds = ['round-robin', 'least-request', 'ring-hash', 'maglev', 'peak-ewma'] as const;
    for (let seed = 1; seed <= 10; seed++) {
      const sim = new Simulation({ seed });
      const net = new Network(sim, { defaults: { latency: exponential({ mean: 0.2 }) } });
      const names = Array.from({ length: 6 }, (_, i) => `app-${i}`);
      for (const n of names)
        new Service(net.addNode(n), {
          serviceTime: exponential({ mean: 4 }),
          concurrency: 4,
          queueCapacity: 20,
          errorRate: 0.01,
        });
      const lb = new LoadBalancer(net.addNode('lb'), {
        backends: names,
        policy: { kind: kinds[seed % kinds.length]! } as BalancerPolicySpec,
        timeout: 100,
        concurrency: 200,
        latency: exponential({ mean: 0.05 }),
        workers: 2,
      });
      const client = new RpcEndpoint(net.addNode('client'));
      const rng = sim.rng('test');
      let sent = 0;
      let answered = 0;
      const seen = new Set<number>();
      sim.process(function* () {
        for (let i = 0; i < 3000; i++) {
          const id = i;
          sent++;
          client
            .call('lb', i, { key: `k${i % 97}`, ...(i % 3 === 0 ? { timeout: 60 } : {}) })
            .onProcessed(() => {
              expect(seen.has(id)).toBe(false);
              seen.add(id);
              answered++;
            });
          yield sim.timeout(exponential({ mean: 0.5 }).sample(rng));
        }
      });
      sim.process(function* () {
        yield sim.timeout(200 + 100 * rng.next());
        net.crash('app-1');
        yield sim.timeout(150);
        net.restart('app-1');
        lb.removeBackend('app-4');
        net.crash('app-2');
        yield sim.timeout(300);
        lb.addBackend('app-4');
        net.restart('app-2');
        lb.removeBackend('app-0');
      });
      sim.run();
      expect(answered).toBe(sent);
      const s = lb.stats;
      expect(s.inFlight).toBe(0);
      // Every request the LB received was answered exactly once (the endpoint throws on a double answer).
      expect(s.ok + s.failed + s.overloaded + s.noBackend).toBe(s.requests);
      expect(s.requests).toBe(sent);
      expect(s.failed).toBeGreaterThan(0); // the crashes did cost something
      for (const b of lb.backends) expect(b.active).toBe(0);
    }
  });

  it('is deterministic: the same seed gives the same digest', () => {
    const digest = (seed: number) => {
      const { sim, call } = setup({ backends: ['a', 'b', 'c'], policy: { kind: 'power-of-d' } }, { seed });
      sim.process(function* () {
        for (let i = 0; i < 200; i++) {
          call(i);
          yield sim.timeout(0.3);
        }
      });
      sim.run();
      return sim.digest();
    };
    expect(digest(7)).toBe(digest(7));
    expect(digest(7)).not.toBe(digest(8));
  });
});

describe('LoadBalancer strict options', () => {
  const sim = new Simulation();
  const net = new Network(sim);
  let n = 0;
  const make = (options: unknown) => () =>
    new LoadBalancer(net.addNode(`lb${n++}`), options as LoadBalancerOptions);

  it('misspelt keys and kinds get a did-you-mean', () => {
    expect(make({ backends: ['a'], polcy: { kind: 'random' } })).toThrow(
      /LoadBalancer: unknown option "polcy" \(did you mean "policy"\?\)/,
    );
    expect(make({ backends: ['a'], policy: { kind: 'least-requests' } })).toThrow(
      /policy\.kind must be one of .* \(did you mean "least-request"\?\)/,
    );
    expect(make({ backends: ['a'], policy: { kind: 'least-request', choiceCont: 3 } })).toThrow(
      /unknown option "policy\.choiceCont" \(did you mean "policy\.choiceCount"\?\)/,
    );
    expect(make({ backends: ['a'], policy: { kind: 'weighted-round-robin', scheduler: 'smoth' } })).toThrow(
      /policy\.scheduler must be one of "smooth", "edf", got "smoth" \(did you mean "smooth"\?\)/,
    );
    expect(make({ backends: [{ address: 'a', wieght: 2 }] })).toThrow(/did you mean "backends\[0\]\.weight"/);
    expect(make({ backends: ['a'], panicThreshhold: 10 })).toThrow(/did you mean "panicThreshold"/);
  });

  it('bad values name the field', () => {
    expect(make({ backends: ['a', 'a'] })).toThrow(
      /backends\[1\] must be an address not already in backends/,
    );
    expect(make({ backends: [{ address: 'a', weight: 0 }] })).toThrow(
      /backends\[0\]\.weight must be a finite number > 0/,
    );
    expect(make({ backends: ['a'], panicThreshold: 150 })).toThrow(
      /panicThreshold must be a finite number in \[0, 100\]/,
    );
    expect(make({ backends: ['a'], concurrency: 0 })).toThrow(
      /concurrency must be an integer >= 1 or Infinity/,
    );
    expect(make({ backends: ['a'], timeout: 0 })).toThrow(/timeout must be a duration > 0/);
    expect(make({ backends: ['a'], latency: { mean: 1 } })).toThrow(/latency must be a distribution/);
    expect(make({ backends: ['a'], policy: { kind: 'first' } })).toThrow(
      /policy\.maxConn must be an integer >= 1/,
    );
    expect(make({ backends: ['a'], policy: { kind: 'maglev', tableSize: 65536 } })).toThrow(
      /policy\.tableSize must be a prime/,
    );
    expect(make({ backends: ['a'], policy: { kind: 'consistent-bounded', hashBalanceFactor: 1.5 } })).toThrow(
      /hashBalanceFactor must be an integer in \[100, 100000\]/,
    );
    expect(make({ backends: ['a'], health: [{}] })).toThrow(/health\[0\] must be a BackendHealth/);
    expect(make({ backends: 'a' })).toThrow(/backends must be an array/);
    expect(() => createBalancerPolicy({ kind: 'randon' } as never)).toThrow(/did you mean "random"/);
    for (const e of [make({ backends: ['a'], polcy: 1 })]) {
      try {
        e();
      } catch (error) {
        expect(error).toBeInstanceOf(DsimError);
        expect((error as DsimError).code).toBe('INVALID_ARGUMENT');
      }
    }
  });

  it('a custom policy is a few lines; a bad index from it is an error', () => {
    const { sim, responses, call } = setup({
      backends: ['a', 'b', 'c'],
      policy: { kind: 'always-last', pick: (ctx) => ctx.availableIndices[ctx.availableCount - 1]! },
    });
    for (let i = 0; i < 3; i++) call(i);
    sim.run();
    expect(responses.map((r) => r.ok && r.value)).toEqual(['c', 'c', 'c']);
    const bad: BalancerPolicy = { kind: 'broken', pick: () => 7 };
    const broken = setup({ backends: ['a'], policy: bad });
    broken.call(1);
    expect(() => broken.sim.run()).toThrow(/policy broken\.pick returned 7/);
  });
});
