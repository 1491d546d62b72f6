import {
  Network,
  RpcEndpoint,
  type RpcErrorKind,
  type RpcResponse,
  Simulation,
  type TraceRecord,
} from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { LoadBalancer } from '../src/balancer/load-balancer.js';
import type { LoadBalancerOptions } from '../src/balancer/load-balancer-options.js';
import type { BalancerPolicy } from '../src/balancer/policy.js';
import { EnvoyRetryBudget } from '../src/resilience/retry-budget.js';

type Behaviour =
  | { ok: true; after: number }
  | { ok: false; kind: Exclude<RpcErrorKind, 'timeout'>; after: number };

/** Raw backends: each answers ok (its address) or a given error, after a fixed time. */
function setup(
  backends: Record<string, Behaviour>,
  options: Omit<LoadBalancerOptions, 'backends'>,
  seed = 3,
) {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  const hits: Record<string, number> = {};
  for (const [address, b] of Object.entries(backends)) {
    const node = net.addNode(address);
    hits[address] = 0;
    new RpcEndpoint(node).serve((_req, reply) => {
      hits[address]!++;
      node.setTimer(b.after, () => (b.ok ? reply.ok(address) : reply.error(b.kind, `${address} failed`)));
    });
  }
  const lb = new LoadBalancer(net.addNode('lb'), { backends: Object.keys(backends), ...options });
  const client = new RpcEndpoint(net.addNode('client'));
  const answers: { at: number; res: RpcResponse }[] = [];
  const send = () => client.call('lb', 'x').onProcessed((e) => answers.push({ at: sim.now, res: e.value! }));
  const traces: TraceRecord[] = [];
  sim.inspect((r) => {
    if (r.type.startsWith('@dsim.lb.retry') || r.type === '@dsim.lb.pick') traces.push(r);
  });
  const counter = (name: string) => sim.metrics.counter('lb', name).value;
  return { sim, lb, client, hits, answers, send, traces, counter };
}

const who = (r: RpcResponse) => (r.ok ? (r.value as string) : `error:${r.error.kind}`);
const bad = (after = 5, kind: Exclude<RpcErrorKind, 'timeout'> = 'unavailable'): Behaviour => ({
  ok: false,
  kind,
  after,
});
const good = (after = 5): Behaviour => ({ ok: true, after });

/** A deterministic policy that picks the given indices in turn (skipping nothing). */
function sequence(...order: number[]): BalancerPolicy {
  let i = 0;
  return { kind: 'sequence', pick: () => order[i++ % order.length]! };
}

describe('LoadBalancer retries (Envoy router retries)', () => {
  it("a failing backend's request is retried on another backend and succeeds; retries are counted", () => {
    const { sim, lb, answers, send, hits, counter } = setup({ a: bad(), b: good() }, { retry: {} });
    for (let i = 0; i < 10; i++) sim.schedule(i * 100, send);
    sim.run();
    expect(answers.map((x) => who(x.res))).toEqual(Array(10).fill('b'));
    // Round robin: a, then the retry's pick b, then a again: every first attempt lands on a.
    expect(hits).toEqual({ a: 10, b: 10 });
    expect(lb.stats).toMatchObject({ requests: 10, ok: 10, failed: 0, retries: 10, inFlight: 0 });
    expect(counter('lb.retry')).toBe(10);
    expect(counter('lb.retry.success')).toBe(10);
    expect(sim.metrics.counter('lb', 'lb.backend.a.errors.unavailable').value).toBe(10);
  });

  it('the Envoy backoff (base 25 ms) delays the retry: uniform in [0, 25) for the first', () => {
    const { sim, answers, send, traces } = setup({ a: bad(0), b: good(0) }, { retry: {} });
    for (let i = 0; i < 200; i++) sim.schedule(i * 1000, send);
    sim.run();
    const delays = traces.filter((r) => r.type === '@dsim.lb.retry').map((r) => r.delay as number);
    expect(delays).toHaveLength(200);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(25);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(10);
    expect(mean).toBeLessThan(15);
    // each request is answered at its arrival + its backoff delay
    for (const [i, x] of answers.entries()) expect(x.at - i * 1000).toBeCloseTo(delays[i]!, 9);
  });

  it('previousHosts redoes a pick that lands on a backend already tried; without it the retry may repeat', () => {
    // The policy picks a, a, b, a, a, b, ...: a retry's first pick is often a again.
    const run = (previousHosts: boolean) => {
      const s = setup(
        { a: bad(), b: good() },
        { policy: sequence(0, 0, 1), retry: { previousHosts, backoff: { kind: 'none' } } },
      );
      for (let i = 0; i < 30; i++) s.sim.schedule(i * 100, s.send);
      s.sim.run();
      const retriedOnA = s.traces.filter(
        (r) => r.type === '@dsim.lb.pick' && r.attempt === 2 && r.backend === 'a',
      );
      return { ok: s.lb.stats.ok, retriedOnA: retriedOnA.length };
    };
    expect(run(true)).toEqual({ ok: 30, retriedOnA: 0 });
    const without = run(false);
    expect(without.retriedOnA).toBeGreaterThan(0);
    expect(without.ok).toBeLessThan(30);
  });

  it('attempts: 2 allows three attempts; then the last error is answered and limit-exceeded counted', () => {
    const { sim, lb, answers, send, hits, counter } = setup(
      { a: bad(5, 'overloaded'), b: bad(5, 'overloaded'), c: bad(5, 'overloaded') },
      { retry: { attempts: 2 } },
    );
    sim.schedule(0, send);
    sim.run();
    expect(answers.map((x) => who(x.res))).toEqual(['error:overloaded']);
    expect(hits).toEqual({ a: 1, b: 1, c: 1 }); // previousHosts: each attempt on another backend
    expect(lb.stats).toMatchObject({ failed: 1, retries: 2 });
    expect(counter('lb.retry.limit-exceeded')).toBe(1);
  });

  it('retryOn: kinds outside it are answered at once (500 error with retryOn 503 only)', () => {
    const { sim, lb, answers, send } = setup(
      { a: bad(5, 'error'), b: good() },
      { retry: { retryOn: ['unavailable'] } },
    );
    sim.schedule(0, send);
    sim.run();
    expect(answers.map((x) => who(x.res))).toEqual(['error:error']);
    expect(lb.stats.retries).toBe(0);
  });

  it('maxConcurrentRetries (Envoy max_retries, default 3) limits retries outstanding at once', () => {
    const { sim, lb, send, counter } = setup(
      { a: bad(50), b: good(100) },
      { policy: sequence(0), retry: { previousHosts: false, backoff: { kind: 'none' } } },
    );
    // sequence(0) keeps picking a, so retries stay outstanding while they fail again 50 ms later.
    for (let i = 0; i < 20; i++) sim.schedule(0, send);
    sim.run();
    expect(lb.stats).toMatchObject({ requests: 20, failed: 20, retries: 3, retryOverflow: 17 });
    expect(counter('lb.retry.overflow')).toBe(17);
  });

  it('the Envoy retry budget caps retries at max(minRetryConcurrency, budgetPercent x in flight)', () => {
    const run = (budget: NonNullable<LoadBalancerOptions['retry']>) => {
      const s = setup({ a: bad(50), b: bad(50) }, { policy: sequence(0), retry: budget });
      for (let i = 0; i < 20; i++) s.sim.schedule(0, s.send);
      s.sim.run();
      return { ...s.lb.stats, peak: s.sim.metrics.gauge('lb', 'lb.retry.active').max };
    };
    // 20 in flight, 20%: limit 4 while all 20 are held; the 5th failure is answered, and then
    // 19 x 20% = 3.8 < 4 still refuses.
    const defaults = run({ previousHosts: false, backoff: { kind: 'none' }, budget: {} });
    expect(defaults).toMatchObject({ retries: 4, retryOverflow: 16, failed: 20, peak: 4 });
    const half = run({
      previousHosts: false,
      backoff: { kind: 'none' },
      budget: new EnvoyRetryBudget({ budgetPercent: 50, minRetryConcurrency: 0 }),
    });
    expect(half.retries).toBe(10);
    expect(half.peak).toBe(10);
  });

  it('perTryTimeout retries a slow attempt elsewhere; the route timeout bounds all attempts', () => {
    const slow = setup(
      { a: good(1000), b: good(10) },
      { timeout: 500, retry: { perTryTimeout: 100, backoff: { kind: 'none' } } },
    );
    slow.sim.schedule(0, slow.send);
    slow.sim.run();
    expect(slow.answers.map((x) => [x.at, who(x.res)])).toEqual([[110, 'b']]);
    const both = setup(
      { a: good(1000), b: good(1000) },
      { timeout: 150, retry: { perTryTimeout: 100, backoff: { kind: 'none' } } },
    );
    both.sim.schedule(0, both.send);
    both.sim.run();
    expect(both.answers.map((x) => [x.at, who(x.res)])).toEqual([[150, 'error:gateway-timeout']]);
    expect(both.lb.stats.retries).toBe(1);
  });

  it('no retry past the caller deadline', () => {
    const { sim, client, lb } = setup(
      { a: bad(50), b: good(50) },
      { retry: { backoff: { kind: 'fixed', delayMs: 40 } } },
    );
    const answers: RpcResponse[] = [];
    sim.schedule(0, () => client.call('lb', 'x', { timeout: 80 }).onProcessed((e) => answers.push(e.value!)));
    sim.run();
    expect(lb.stats).toMatchObject({ retries: 0, failed: 1 });
    expect(answers.map(who)).toEqual(['error:unavailable']);
  });

  it('options are checked with did-you-mean', () => {
    const make = (retry: unknown) => () => setup({ a: good() }, { retry } as never);
    expect(make({ atempts: 2 })).toThrow(
      /unknown option "retry\.atempts" \(did you mean "retry\.attempts"\?\)/,
    );
    expect(make({ retryOn: ['unavailble'] })).toThrow(/retry\.retryOn\[0\].*did you mean "unavailable"/);
    expect(make({ attempts: -1 })).toThrow(/retry\.attempts must be an integer >= 0/);
    expect(make({ backoff: { kind: 'envoy', baseMs: 0 } })).toThrow(/retry\.backoff\.baseMs/);
    expect(make({ budget: { budgetPercnt: 5 } })).toThrow(/did you mean "retry\.budget\.budgetPercent"/);
    expect(make({ budget: { budgetPercent: 500 } })).toThrow(/retry\.budget\.budgetPercent/);
    expect(make({ perTryTimeout: 0 })).toThrow(/retry\.perTryTimeout/);
    expect(make({})).not.toThrow();
  });

  it('is deterministic and conserves requests under random failures', () => {
    const run = (seed: number) => {
      const s = setup(
        { a: bad(20), b: good(30), c: bad(5, 'overloaded'), d: good(10) },
        { policy: { kind: 'random' }, retry: { attempts: 2 } },
        seed,
      );
      for (let t = 0; t < 5000; t += 3) s.sim.schedule(t, s.send);
      s.sim.run();
      const st = s.lb.stats;
      expect(st.requests).toBe(st.ok + st.failed + st.overloaded + st.noBackend + st.inFlight);
      expect(st.inFlight).toBe(0);
      expect(s.answers).toHaveLength(st.requests);
      return { stats: st, digest: s.sim.digest() };
    };
    const one = run(11);
    expect(run(11)).toEqual(one);
    expect(one.stats.retries).toBeGreaterThan(0);
    expect(one.stats.ok).toBeGreaterThan(one.stats.failed);
  });
});
