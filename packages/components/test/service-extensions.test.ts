import { constant, exponential, Network, RpcEndpoint, type RpcResponse, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { LeakyBucketQueue } from '../src/resilience/rate-limiters/leaky-bucket-queue.js';
import { TokenBucket } from '../src/resilience/rate-limiters/token-bucket.js';
import { ConnectionPool } from '../src/service/connection-pool.js';
import { Service } from '../src/service/service.js';
import type { ServiceOptions } from '../src/service/service-options.js';
import { loadSlowdown } from '../src/service/slowdown.js';

/** Poisson client (rate per ms) against one service `svc`; collects responses and the server-side waits. */
function poisson(options: ServiceOptions, lambdaPerMs: number, requests: number, seed = 1, timeout?: number) {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  const service = new Service(net.addNode('svc'), options);
  const client = new RpcEndpoint(net.addNode('client'));
  const gaps = exponential({ rate: lambdaPerMs });
  const rng = sim.rng('client/arrivals');
  const responses: RpcResponse[] = [];
  let sent = 0;
  const arrive = (): void => {
    client
      .call('svc', sent, timeout === undefined ? {} : { timeout })
      .onProcessed((e) => responses.push(e.value!));
    if (++sent < requests) sim.schedule(gaps.sample(rng), arrive);
  };
  arrive();
  sim.run();
  const count = (name: string) => sim.metrics.counter('svc', name).value;
  return { sim, service, client, responses, count };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('load-dependent latency', () => {
  it('a constant slowdown of 2 is an M/M/1 with twice the service time: W = 1/(mu/2 - lambda)', () => {
    const { responses } = poisson({ serviceTime: exponential({ mean: 1 }), slowdown: () => 2 }, 0.25, 80_000);
    const w = mean(responses.slice(4000).map((r) => r.latency));
    expect(Math.abs(w - 4) / 4).toBeLessThan(0.05);
  });

  it('loadSlowdown: linear and exponential curves above the threshold, capped at max', () => {
    const load = (inFlight: number) => ({
      busy: 1,
      queue: inFlight - 1,
      concurrency: 1,
      inFlight,
      utilization: 1,
    });
    const linear = loadSlowdown({ threshold: 10, perUnit: 0.1, max: 3 });
    expect(linear(load(5))).toBe(1);
    expect(linear(load(20))).toBeCloseTo(2, 12);
    expect(linear(load(100))).toBe(3);
    const exp = loadSlowdown({ on: 'queue', perUnit: Math.LN2, curve: 'exponential' });
    expect(exp(load(3))).toBeCloseTo(4, 12); // queue 2: e^(2 ln 2)
    expect(thrown(() => loadSlowdown({ perUnit: -1 })).message).toContain('perUnit');
    expect(thrown(() => loadSlowdown({ perUnit: 1, on: 'memory' as 'queue' })).message).toContain('on');
    expect(thrown(() => loadSlowdown({ perUnit: 1, max: 0.5 })).message).toContain('max');
  });

  it('a slowdown that returns a bad value is an error naming the service', () => {
    const err = thrown(() => poisson({ serviceTime: 1, slowdown: () => Number.NaN }, 0.1, 2));
    expect(err.message).toContain('slowdown');
  });

  it('memory pressure makes the service bistable: a short burst recovers, a long one spirals', () => {
    // mu = 1/ms nominal at lambda 0.7; 3% slower per request held beyond 20. Beyond about 30 held the
    // effective capacity drops below lambda, so a burst that pushes the backlog past it never drains.
    const backlogAfter = (burst: number): number => {
      const sim = new Simulation({ seed: 3 });
      const net = new Network(sim);
      const svc = new Service(net.addNode('svc'), {
        serviceTime: exponential({ mean: 1 }),
        slowdown: loadSlowdown({ threshold: 20, perUnit: 0.03, max: 20 }),
      });
      const client = new RpcEndpoint(net.addNode('client'));
      const gaps = exponential({ rate: 0.7 });
      const rng = sim.rng('a');
      const arrive = (): void => {
        client.call('svc', 0);
        if (sim.now < 4000) sim.schedule(gaps.sample(rng), arrive);
      };
      arrive();
      sim.schedule(500, () => {
        for (let i = 0; i < burst; i++) client.call('svc', 0);
      });
      sim.run({ until: 4000 });
      return svc.queueLength;
    };
    expect(backlogAfter(5)).toBeLessThan(20);
    expect(backlogAfter(60)).toBeGreaterThan(500);
  });
});

describe('load shedding', () => {
  it('queue-length shedding matches M/M/1/K blocking, counted as shed', () => {
    const rho = 0.9;
    const { responses, count } = poisson(
      { serviceTime: exponential({ mean: 1 }), shedding: { kind: 'queue-length', max: 2 } },
      rho,
      100_000,
    );
    const shed = responses.filter((r) => !r.ok && r.error.kind === 'overloaded').length / responses.length;
    const theory = ((1 - rho) * rho ** 3) / (1 - rho ** 4);
    expect(Math.abs(shed - theory)).toBeLessThan(0.01);
    expect(count('svc.shed')).toBe(responses.length - count('svc.completed'));
    expect(count('svc.rejected')).toBe(0);
  });

  it('queue-delay shedding keeps waits short under 2x overload and conserves requests', () => {
    const { responses, count } = poisson(
      { serviceTime: exponential({ mean: 1 }), shedding: { kind: 'queue-delay', max: 10 } },
      2,
      40_000,
    );
    const ok = responses
      .filter((r) => r.ok)
      .map((r) => r.latency)
      .sort((a, b) => a - b);
    expect(count('svc.shed')).toBeGreaterThan(15_000);
    // An admitted request still waits for the work ahead of it: about max x lambda/mu = 20 ms of it.
    expect(ok[Math.floor(ok.length * 0.99)]!).toBeLessThan(40);
    expect(count('svc.completed') + count('svc.shed')).toBe(40_000);
    // The server stays busy: goodput close to capacity (1/ms).
    expect(ok.length / responses.at(-1)!.request.sentAt).toBeGreaterThan(0.95);
  });

  it('CoDel: with a standing queue nothing served has waited longer than the interval, most not beyond target', () => {
    const { responses, count, sim } = poisson(
      { serviceTime: exponential({ mean: 1 }), shedding: { kind: 'codel', target: 5, interval: 100 } },
      1.5,
      40_000,
    );
    const waits = sim.metrics.histogram('svc', 'svc.latency');
    expect(waits.count).toBe(count('svc.completed'));
    const ok = responses.filter((r) => r.ok);
    expect(ok.every((r) => r.latency <= 100 + 30)).toBe(true); // interval + service time
    expect(count('svc.shed')).toBeGreaterThan(10_000);
    expect(count('svc.completed') + count('svc.shed')).toBe(40_000);
  });

  it('rejects bad shedding specs, naming the field', () => {
    expect(
      thrown(() => poisson({ serviceTime: 1, shedding: { kind: 'queue-length', max: -1 } }, 1, 1)).message,
    ).toContain('shedding.max');
    expect(
      thrown(() => poisson({ serviceTime: 1, shedding: { kind: 'codel', target: 200 } }, 1, 1)).message,
    ).toContain('target');
    expect(
      thrown(() => poisson({ serviceTime: 1, shedding: { kind: 'red' } as never }, 1, 1)).message,
    ).toContain('kind');
  });
});

describe('rate limiting at admission', () => {
  it('a token bucket admits the burst plus the refill, answers the rest rejected (429), counted as throttled', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    new Service(net.addNode('svc'), {
      serviceTime: 1,
      concurrency: 100,
      rateLimit: new TokenBucket({ capacity: 5, refillPerSecond: 10 }),
    });
    const client = new RpcEndpoint(net.addNode('c'));
    const outcome: string[] = [];
    // 20 requests at t = 0, then 20 at t = 1 s: 5 (burst) + 10 (one second of refill, capped at 5) admitted.
    const burst = () => {
      for (let i = 0; i < 20; i++)
        client.call('svc', i).onProcessed((e) => outcome.push(e.value!.ok ? 'ok' : e.value!.error.kind));
    };
    burst();
    sim.schedule(1000, burst);
    sim.run();
    expect(outcome.filter((o) => o === 'ok').length).toBe(10);
    expect(outcome.filter((o) => o === 'rejected').length).toBe(30);
    expect(sim.metrics.counter('svc', 'svc.throttled').value).toBe(30);
  });

  it('a leaky bucket queue shapes a burst into evenly spaced admissions', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    new Service(net.addNode('svc'), {
      serviceTime: 0,
      concurrency: 10,
      rateLimit: new LeakyBucketQueue({ capacity: 10, leakPerSecond: 100 }),
    });
    const client = new RpcEndpoint(net.addNode('c'));
    const done: number[] = [];
    for (let i = 0; i < 4; i++) client.call('svc', i).onProcessed(() => done.push(sim.now));
    sim.run();
    expect(done).toEqual([0, 10, 20, 30]);
  });

  it('rejects a rateLimit that is not a limiter', () => {
    expect(thrown(() => poisson({ serviceTime: 1, rateLimit: {} as never }, 1, 1)).message).toContain(
      'rateLimit',
    );
  });
});

describe('replyOnDrop', () => {
  it('answers requests dropped by queueTimeout (overloaded) so callers fail fast instead of timing out', () => {
    const kinds = (replyOnDrop: boolean) => {
      const { responses } = poisson({ serviceTime: 10, queueTimeout: 15, replyOnDrop }, 1, 40, 1, 1000);
      return responses.filter((r) => !r.ok).map((r) => `${r.error.kind}`);
    };
    const silent = kinds(false);
    const answered = kinds(true);
    expect(silent.length).toBeGreaterThan(0);
    expect(silent.every((k) => k === 'timeout')).toBe(true);
    expect(answered).toHaveLength(silent.length);
    expect(answered.every((k) => k === 'overloaded')).toBe(true);
  });
});

describe('adaptive LIFO', () => {
  it('serves FIFO while the queue drains and LIFO once it has stood longer than the interval', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    new Service(net.addNode('svc'), {
      serviceTime: 10,
      discipline: 'adaptive-lifo',
      adaptiveLifoInterval: 25,
    });
    const client = new RpcEndpoint(net.addNode('c'));
    const order: number[] = [];
    for (let i = 0; i < 6; i++)
      client.call('svc', i).onProcessed((e) => order.push(e.value!.request.payload as number));
    sim.run();
    // 0 starts at once; at 10 and 20 the queue has stood 10 and 20 ms (FIFO: 1, 2); from 30 on, LIFO.
    expect(order).toEqual([0, 1, 2, 5, 4, 3]);
  });
});

/** A front service calling dependencies with fixed service times; returns the front's response latencies. */
function topology(front: (net: Network) => ServiceOptions, deps: Record<string, number>, requests = 1) {
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim);
  for (const [name, ms] of Object.entries(deps))
    new Service(net.addNode(name), { serviceTime: ms, concurrency: 100 });
  const svc = new Service(net.addNode('front'), front(net));
  const client = new RpcEndpoint(net.addNode('client'));
  const responses: RpcResponse[] = [];
  for (let i = 0; i < requests; i++) client.call('front', i).onProcessed((e) => responses.push(e.value!));
  return { sim, net, svc, client, responses, run: () => sim.run() };
}

describe('downstream calls', () => {
  it('sequential calls add up, parallel calls take the slowest, then the service computes', () => {
    const seq = topology(() => ({ serviceTime: 5, downstream: { calls: ['a', 'b'] } }), { a: 10, b: 20 });
    seq.run();
    expect(seq.responses[0]!.latency).toBe(35);
    const par = topology(() => ({ serviceTime: 5, downstream: { calls: ['a', 'b'], mode: 'parallel' } }), {
      a: 10,
      b: 20,
    });
    par.run();
    expect(par.responses[0]!.latency).toBe(25);
  });

  it('the worker is held while it waits: a slow dependency queues requests at the caller', () => {
    const t = topology(
      () => ({ serviceTime: 1, concurrency: 2, downstream: { calls: ['slow'] } }),
      { slow: 100 },
      6,
    );
    t.run();
    expect(t.responses.map((r) => r.latency)).toEqual([101, 101, 202, 202, 303, 303]);
  });

  it('a dependency that is down: the timeout becomes gateway-timeout (504), or a fallback answers', () => {
    const fail = topology(() => ({ serviceTime: 5, downstream: { calls: ['db'], timeout: 50 } }), { db: 1 });
    fail.net.crash('db');
    fail.run();
    const r = fail.responses[0]!;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.kind).toBe('gateway-timeout');
    expect(r.latency).toBe(50);

    const fb = topology(
      () => ({
        serviceTime: 5,
        downstream: {
          calls: ['db'],
          timeout: 50,
          onFailure: 'fallback',
          fallback: (_req, err) => `cached (${err.kind})`,
        },
      }),
      { db: 1 },
    );
    fb.net.crash('db');
    fb.run();
    const f = fb.responses[0]!;
    expect(f.ok && f.value).toBe('cached (timeout)');
    expect(fb.sim.metrics.counter('front', 'svc.fallbacks').value).toBe(1);
  });

  it("a downstream timeout is deadline-exceeded only when the request's own deadline ran out", () => {
    // A stand-in caller that fails every call with `timeout` after 10 ms, reporting the deadline the call
    // carried: the parent's (propagated, as when it is earlier than the call's timeout), or an own one.
    const answer = (carried: 'parent' | 'own' | 'none', clientTimeout?: number) => {
      const t = topology(
        () => ({
          serviceTime: 1,
          downstream: {
            calls: ['db'],
            client: (endpoint) => ({
              call: (_to, _payload, { parent }) => {
                const sim = endpoint.node.network.sim;
                const deadline = carried === 'parent' ? parent.deadline : sim.now + 10;
                const res = {
                  ok: false,
                  error: { kind: 'timeout' as const, message: 'no response' },
                  ...(carried === 'none' ? {} : { request: { ...parent, deadline } }),
                };
                const event = sim.event<typeof res>();
                sim.schedule(10, () => event.succeed(res));
                return event;
              },
            }),
          },
        }),
        {},
        0,
      );
      t.client
        .call('front', 1, clientTimeout === undefined ? {} : { timeout: clientTimeout })
        .onProcessed((e) => t.responses.push(e.value!));
      t.run();
      const r = t.responses[0]!;
      expect(r.latency).toBe(10);
      return r.ok ? 'ok' : r.error.kind;
    };
    // The client waits 1 s; the stand-in answers after 10 ms, long before that deadline.
    expect(answer('parent', 1000)).toBe('deadline-exceeded');
    expect(answer('own', 1000)).toBe('gateway-timeout');
    expect(answer('none', 1000)).toBe('gateway-timeout');
    // With no deadline at all there is nothing to run out, whatever the call carried.
    expect(answer('parent')).toBe('gateway-timeout');
  });

  it('sequential calls stop at the first failure; payload and per-call timeout are used', () => {
    const seen: unknown[] = [];
    const t = topology(
      () => ({
        serviceTime: 1,
        downstream: { calls: [{ to: 'a', payload: 'lookup', timeout: 5 }, 'b'] },
      }),
      { a: 10, b: 1 },
    );
    t.sim.inspect((r) => {
      if (r.type === '@dsim.rpc.start') seen.push(r.to);
    });
    t.run();
    expect(t.responses[0]!.ok).toBe(false);
    expect(t.responses[0]!.latency).toBe(5);
    expect(seen).toEqual(['a']); // b is never called
  });

  it('a connection pool limits calls in flight; waiters beyond the acquire timeout fail unavailable', () => {
    let pool!: ConnectionPool;
    const t = topology(
      (net) => {
        pool = new ConnectionPool(net.sim, { name: 'db-pool', size: 2, acquireTimeout: 150 });
        return { serviceTime: 0, concurrency: 10, downstream: { calls: ['db'], pool } };
      },
      { db: 100 },
      5,
    );
    t.run();
    const outcome = t.responses.map((r) => (r.ok ? r.latency : `${r.error.kind}@${r.latency}`));
    expect(outcome).toEqual([100, 100, 'unavailable@150', 200, 200]);
    expect(pool.stats).toEqual({ active: 0, pending: 0, acquired: 4, timeouts: 1, overflows: 0 });
  });

  it('the deadline propagates downstream so a dependency can drop dead work; off, it serves it anyway', () => {
    const wasted = (propagateDeadline: boolean): number => {
      const sim = new Simulation({ seed: 1 });
      const net = new Network(sim);
      new Service(net.addNode('db'), { serviceTime: 40, dropExpired: true });
      new Service(net.addNode('front'), {
        serviceTime: 1,
        concurrency: 10,
        downstream: { calls: ['db'], propagateDeadline },
      });
      const client = new RpcEndpoint(net.addNode('client'));
      for (let i = 0; i < 5; i++) client.call('front', i, { timeout: 100 });
      sim.run();
      return sim.metrics.counter('db', 'svc.completed').value;
    };
    // db serves one request per 40 ms; the callers give up at 100 ms, so only the first three are useful.
    expect(wasted(true)).toBe(3);
    expect(wasted(false)).toBe(5);
  });

  it('calls can be chosen per request; an empty list skips the downstream step', () => {
    const t = topology(
      () => ({
        serviceTime: 1,
        concurrency: 10,
        downstream: { calls: (req) => ((req.payload as number) % 2 === 0 ? ['db'] : []) },
      }),
      { db: 50 },
      4,
    );
    t.run();
    expect(t.responses.map((r) => [r.request.payload, r.latency])).toEqual([
      [1, 1],
      [3, 1],
      [0, 51],
      [2, 51],
    ]);
    const bad = topology(() => ({ serviceTime: 1, downstream: { calls: () => 'db' as never } }), { db: 1 });
    expect(thrown(() => bad.run()).message).toContain('downstream.calls(request)');
  });

  it('rejects bad downstream specs, naming the field', () => {
    const make = (downstream: unknown) => () =>
      topology(() => ({ serviceTime: 1, downstream }) as ServiceOptions, {});
    expect(thrown(make({ calls: [] })).message).toContain('downstream.calls');
    expect(thrown(make({ calls: ['a'], mode: 'fanout' })).message).toContain('downstream.mode');
    expect(thrown(make({ calls: ['a'], onFailure: 'fallback' })).message).toContain('downstream.fallback');
    expect(thrown(make({ calls: [{ to: '' }] })).message).toContain('downstream.calls[0]');
  });
});

describe('ConnectionPool', () => {
  it('grants in FIFO order, overflows beyond maxPending, and times out waiters', () => {
    const sim = new Simulation();
    const pool = new ConnectionPool(sim, { size: 1, maxPending: 2, acquireTimeout: 10 });
    const got: string[] = [];
    const ask = (tag: string) => pool.acquire().onProcessed((e) => got.push(`${tag}:${e.value}@${sim.now}`));
    ask('a');
    ask('b');
    ask('c');
    ask('d');
    sim.schedule(5, () => pool.release());
    sim.run();
    expect(got).toEqual(['a:acquired@0', 'd:overflow@0', 'b:acquired@5', 'c:timeout@10']);
    expect(pool.stats).toMatchObject({ active: 1, acquired: 2, timeouts: 1, overflows: 1 });
    pool.release();
    expect(thrown(() => pool.release()).code).toBe('INVALID_STATE');
  });

  it('validates its options', () => {
    const sim = new Simulation();
    expect(thrown(() => new ConnectionPool(sim, { size: 0 })).message).toContain('size');
    expect(thrown(() => new ConnectionPool(sim, { maxPending: -1 })).message).toContain('maxPending');
    expect(thrown(() => new ConnectionPool(sim, { acquireTimeout: 'soon' })).message).toContain(
      'acquireTimeout',
    );
  });

  it('conserves requests across seeds under random load (acquired + timeouts + overflows = asked)', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const sim = new Simulation({ seed });
      const pool = new ConnectionPool(sim, { size: 3, maxPending: 5, acquireTimeout: 4 });
      const rng = sim.rng('t');
      const hold = exponential({ mean: 3 });
      const gaps = constant(1);
      let asked = 0;
      const arrive = (): void => {
        asked++;
        pool.acquire().onProcessed((e) => {
          if (e.value === 'acquired') sim.schedule(hold.sample(rng), () => pool.release());
        });
        if (asked < 500) sim.schedule(gaps.sample(rng), arrive);
      };
      arrive();
      sim.run();
      const s = pool.stats;
      expect(s.acquired + s.timeouts + s.overflows).toBe(asked);
      expect(s.active + s.pending).toBe(0);
    }
  });
});

describe('conservation', () => {
  it('arrived = completed + failed + rejected + shed + expired + fallbacks + queued + busy, at all times, across seeds', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const sim = new Simulation({ seed });
      const net = new Network(sim);
      const pick = sim.rng('test/config');
      new Service(net.addNode('db'), {
        serviceTime: exponential({ mean: 2 + 4 * pick.next() }),
        concurrency: 2,
        errorRate: 0.1,
      });
      const pool = new ConnectionPool(sim, { size: 2, maxPending: 4, acquireTimeout: 5 });
      const sheddings = [
        undefined,
        { kind: 'queue-length', max: 5 },
        { kind: 'queue-delay', max: 8 },
        { kind: 'codel' },
      ] as const;
      const front = new Service(net.addNode('front'), {
        serviceTime: exponential({ mean: 1 }),
        concurrency: 3,
        queueCapacity: 20,
        discipline: pick.next() < 0.5 ? 'fifo' : 'adaptive-lifo',
        queueTimeout: 30,
        dropExpired: true,
        ...(seed % 3 === 0 ? { rateLimit: new TokenBucket({ capacity: 20, refillPerSecond: 1200 }) } : {}),
        errorRate: 0.05,
        ...(sheddings[seed % 4] === undefined ? {} : { shedding: sheddings[seed % 4]! }),
        downstream: {
          calls: ['db'],
          timeout: 15,
          pool,
          ...(seed % 2 === 0 ? { onFailure: 'fallback' as const, fallback: () => 'stale' } : {}),
        },
      });
      const client = new RpcEndpoint(net.addNode('client'));
      const gaps = exponential({ rate: 1.5 });
      const rng = sim.rng('test/arrivals');
      let sent = 0;
      const arrive = (): void => {
        client.call('front', sent, { timeout: 40 });
        if (++sent < 2000) sim.schedule(gaps.sample(rng), arrive);
      };
      arrive();
      const c = (name: string) => sim.metrics.counter('front', name).value;
      const check = (): void => {
        const accounted =
          c('svc.completed') +
          c('svc.failed') +
          c('svc.rejected') +
          c('svc.throttled') +
          c('svc.shed') +
          c('svc.expired') +
          c('svc.fallbacks');
        expect(c('svc.arrived')).toBe(accounted + front.queueLength + front.busy);
      };
      for (let t = 50; t < 1500; t += 97) sim.schedule(t, check);
      sim.run();
      check();
      expect(c('svc.arrived')).toBe(2000);
      expect(pool.stats.active + pool.stats.pending).toBe(0);
    }
  });
});
