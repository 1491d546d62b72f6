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

type Behaviour =
  | { ok: true; after: number }
  | { ok: false; kind: Exclude<RpcErrorKind, 'timeout'>; after: number };

/** Raw backends answering after a constant time; `served` counts the answers each one actually sent. */
function setup(backends: Record<string, Behaviour>, options: Omit<LoadBalancerOptions, 'backends'>) {
  const sim = new Simulation({ seed: 7 });
  const net = new Network(sim);
  const hits: Record<string, number> = {};
  const served: Record<string, number> = {};
  for (const [address, b] of Object.entries(backends)) {
    const node = net.addNode(address);
    hits[address] = 0;
    served[address] = 0;
    new RpcEndpoint(node).serve((_req, reply) => {
      hits[address]!++;
      node.setTimer(b.after, () => {
        served[address]!++;
        if (b.ok) reply.ok(address);
        else reply.error(b.kind, `${address} failed`);
      });
    });
  }
  const lb = new LoadBalancer(net.addNode('lb'), { backends: Object.keys(backends), ...options });
  const client = new RpcEndpoint(net.addNode('client'));
  const answers: { at: number; res: RpcResponse }[] = [];
  const send = () => client.call('lb', 'x').onProcessed((e) => answers.push({ at: sim.now, res: e.value! }));
  const traces: TraceRecord[] = [];
  sim.inspect((r) => {
    if (r.type === '@dsim.lb.hedge' || r.type === '@dsim.lb.abandon') traces.push(r);
  });
  const counter = (name: string) => sim.metrics.counter('lb', name).value;
  return { sim, lb, hits, served, answers, send, traces, counter };
}

const who = (r: RpcResponse) => (r.ok ? (r.value as string) : `error:${r.error.kind}`);
const slow = (after = 100): Behaviour => ({ ok: true, after });
const fast = (after = 10): Behaviour => ({ ok: true, after });
const hedging = (
  retry: NonNullable<LoadBalancerOptions['retry']> = {},
): Omit<LoadBalancerOptions, 'backends'> => ({
  timeout: 1000,
  retry: { attempts: 1, perTryTimeout: 20, backoff: { kind: 'none' }, ...retry },
  hedge: { onPerTryTimeout: true },
});

function sequence(...order: number[]): BalancerPolicy {
  let i = 0;
  return { kind: 'sequence', pick: () => order[i++ % order.length]! };
}

describe('LoadBalancer hedging on the per-try timeout (Envoy hedge_on_per_try_timeout)', () => {
  it("hedges a slow backend's request to another, answered at perTryTimeout + its latency; the loser is abandoned but served", () => {
    const { sim, lb, hits, served, answers, send, traces, counter } = setup(
      { a: slow(), b: fast() },
      hedging(),
    );
    sim.schedule(0, send);
    sim.run();
    expect(answers.map((x) => [x.at, who(x.res)])).toEqual([[30, 'b']]);
    expect(hits).toEqual({ a: 1, b: 1 });
    // The balancer abandoned a's attempt at 30, but a still did the work and answered at 100.
    expect(served).toEqual({ a: 1, b: 1 });
    expect(sim.now).toBe(100);
    expect(lb.stats).toMatchObject({
      requests: 1,
      ok: 1,
      failed: 0,
      inFlight: 0,
      attempts: 2,
      retries: 1,
      hedges: 1,
      abandoned: 1,
      unsent: 0,
    });
    expect(counter('lb.hedge')).toBe(1);
    expect(counter('lb.hedge.abandoned')).toBe(1);
    expect(lb.backends.map((b) => b.active)).toEqual([0, 0]);
    expect(traces.map((r) => [r.type, r.backend, r.winner ?? null])).toEqual([
      ['@dsim.lb.hedge', 'a', null],
      ['@dsim.lb.abandon', 'a', 'b'],
    ]);
  });

  it('the first answer wins: the original attempt is not cancelled and can beat its hedge', () => {
    const hedged = setup({ a: slow(25), b: fast(10) }, hedging());
    hedged.sim.schedule(0, hedged.send);
    hedged.sim.run();
    expect(hedged.answers.map((x) => [x.at, who(x.res)])).toEqual([[25, 'a']]);
    expect(hedged.lb.stats).toMatchObject({ hedges: 1, abandoned: 1, ok: 1 });
    // Without hedging the per-try timeout cancels a at 20 and the retry on b answers at 30.
    const { hedge: _, ...plain } = hedging();
    const retried = setup({ a: slow(25), b: fast(10) }, plain);
    retried.sim.schedule(0, retried.send);
    retried.sim.run();
    expect(retried.answers.map((x) => [x.at, who(x.res)])).toEqual([[30, 'b']]);
    expect(retried.lb.stats).toMatchObject({ hedges: 0, abandoned: 0, retries: 1 });
  });

  it('hedges count against retry.attempts: one hedge per per-try timeout until none is left', () => {
    const three = setup({ a: slow(), b: slow(), c: slow() }, hedging({ attempts: 2 }));
    three.sim.schedule(0, three.send);
    three.sim.run();
    // a at 0, hedge to b at 20, to c at 40; c's per-try timeout at 60 finds no retry left.
    expect(three.answers.map((x) => [x.at, who(x.res)])).toEqual([[100, 'a']]);
    expect(three.lb.stats).toMatchObject({ attempts: 3, hedges: 2, retries: 2, abandoned: 2 });
    expect(three.counter('lb.retry.limit-exceeded')).toBe(1);
    expect(three.served).toEqual({ a: 1, b: 1, c: 1 });
    // attempts: 0: no hedge, and the per-try timeout does not cancel the only attempt.
    const none = setup({ a: slow(), b: fast() }, hedging({ attempts: 0 }));
    none.sim.schedule(0, none.send);
    none.sim.run();
    expect(none.answers.map((x) => [x.at, who(x.res)])).toEqual([[100, 'a']]);
    expect(none.lb.stats).toMatchObject({ attempts: 1, hedges: 0, abandoned: 0 });
  });

  it('hedges count against the concurrent-retry limit and the retry budget', () => {
    for (const retry of [
      { maxConcurrentRetries: 1 },
      { budget: { budgetPercent: 0, minRetryConcurrency: 1 } },
    ]) {
      const { sim, lb, answers, send, counter } = setup(
        { a: slow(), b: slow(), c: fast() },
        { ...hedging(retry), policy: sequence(0, 0, 2) },
      );
      sim.schedule(0, send);
      sim.schedule(0, send);
      sim.run();
      // Both per-try timeouts fire at 20: the first takes the only retry slot (hedge to c), the second overflows.
      expect(answers.map((x) => [x.at, who(x.res)])).toEqual([
        [30, 'c'],
        [100, 'a'],
      ]);
      expect(lb.stats).toMatchObject({ hedges: 1, retryOverflow: 1, abandoned: 1, ok: 2 });
      expect(counter('lb.retry.overflow')).toBe(1);
    }
  });

  it("a hedge's error is discarded while the original is outstanding; the hedged original is not retried", () => {
    const { sim, lb, answers, send } = setup(
      { a: slow(), b: { ok: false, kind: 'unavailable', after: 5 }, c: fast() },
      hedging({ attempts: 1 }),
    );
    sim.schedule(0, send);
    sim.run();
    // Hedge to b at 20 fails at 25 with no retry left: discarded; a answers at 100.
    expect(answers.map((x) => [x.at, who(x.res)])).toEqual([[100, 'a']]);
    expect(lb.stats).toMatchObject({ ok: 1, failed: 0, attempts: 2, hedges: 1, abandoned: 0 });
  });

  it("an error response the retry policy would never retry goes to the caller at once, and the other attempts are reset (Envoy's onUpstreamHeaders)", () => {
    const { sim, lb, answers, send, served } = setup(
      { a: slow(), b: { ok: false, kind: 'error', after: 5 }, c: fast() },
      hedging({ attempts: 1, retryOn: ['unavailable', 'timeout'] }),
    );
    sim.schedule(0, send);
    sim.run();
    // The hedge to b answers 500 at 25: not retriable, so it is the answer; a's attempt is abandoned.
    expect(answers.map((x) => [x.at, who(x.res)])).toEqual([[25, 'error:error']]);
    expect(lb.stats).toMatchObject({ ok: 0, failed: 1, attempts: 2, hedges: 1, abandoned: 1, inFlight: 0 });
    expect(served).toMatchObject({ a: 1, b: 1 });
  });

  it('a retriable error response with no retry left waits for the outstanding attempt', () => {
    const { sim, lb, answers, send } = setup(
      { a: slow(), b: { ok: false, kind: 'overloaded', after: 5 }, c: fast() },
      hedging({ attempts: 1 }),
    );
    sim.schedule(0, send);
    sim.run();
    expect(answers.map((x) => [x.at, who(x.res)])).toEqual([[100, 'a']]);
    expect(lb.stats).toMatchObject({ ok: 1, failed: 0, abandoned: 0 });
  });

  it("tells the health hooks of a soft per-try timeout at once (Envoy's onSoftPerTryTimeout), then of the attempt's later answer", () => {
    const heard: [number, string, boolean, string | undefined][] = [];
    const hook = {
      isAvailable: () => true,
      onResponse: (address: string, ok: boolean, kind: string | undefined) =>
        heard.push([sim.now, address, ok, kind]),
    };
    const { sim, answers, send } = setup(
      { a: slow(), b: slow(300) },
      { ...hedging({ attempts: 1 }), health: [hook], policy: sequence(0, 1) },
    );
    sim.schedule(0, send);
    sim.run();
    // a's per-try timeout at 20 is told and hedges to b; b's at 40 is told (no hedge left); a answers
    // at 100 and wins, b is abandoned and its late answer never told.
    expect(heard).toEqual([
      [20, 'a', false, 'timeout'],
      [40, 'b', false, 'timeout'],
      [100, 'a', true, undefined],
    ]);
    expect(answers.map((x) => [x.at, who(x.res)])).toEqual([[100, 'a']]);
  });

  it('an attempt whose soft per-try timeout was told is not told again when the route timeout ends it', () => {
    const heard: [number, string, boolean, string | undefined][] = [];
    const hook = {
      isAvailable: () => true,
      onResponse: (address: string, ok: boolean, kind: string | undefined) =>
        heard.push([sim.now, address, ok, kind]),
    };
    const { sim, answers, send } = setup(
      { a: slow(300), b: slow(300) },
      { ...hedging({ attempts: 1 }), timeout: 250, health: [hook], policy: sequence(0, 1) },
    );
    sim.schedule(0, send);
    sim.run();
    expect(heard).toEqual([
      [20, 'a', false, 'timeout'],
      [40, 'b', false, 'timeout'],
    ]);
    expect(answers.map((x) => [x.at, who(x.res)])).toEqual([[250, 'error:gateway-timeout']]);
  });

  it('the route timeout bounds every attempt: the caller gets one gateway-timeout', () => {
    const { sim, lb, answers, send } = setup({ a: slow(), b: slow() }, { ...hedging(), timeout: 50 });
    sim.schedule(0, send);
    sim.run();
    expect(answers.map((x) => [x.at, who(x.res)])).toEqual([[50, 'error:gateway-timeout']]);
    expect(lb.stats).toMatchObject({ failed: 1, attempts: 2, hedges: 1, inFlight: 0 });
  });

  it('checks hedge at construction: needs retry.perTryTimeout, strict keys with did-you-mean', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    let n = 0;
    const make = (options: Partial<LoadBalancerOptions>) => () =>
      new LoadBalancer(net.addNode(`lb-${n++}`), { backends: ['a'], ...options });
    expect(make({ hedge: { onPerTryTimeout: true } })).toThrow(
      /hedge\.onPerTryTimeout.*retry\.perTryTimeout/,
    );
    expect(make({ retry: {}, hedge: { onPerTryTimeout: true } })).toThrow(/retry\.perTryTimeout/);
    expect(make({ retry: { perTryTimeout: 10 }, hedge: { onPerTryTimout: true } as never })).toThrow(
      /did you mean "?hedge\.onPerTryTimeout|onPerTryTimeout/,
    );
    expect(make({ retry: { perTryTimeout: 10 }, hedge: { onPerTryTimeout: 'yes' } as never })).toThrow(
      /hedge\.onPerTryTimeout/,
    );
    expect(make({ retry: { perTryTimeout: 10 }, hedge: 1 as never })).toThrow(/hedge/);
    expect(make({ hedg: {} } as never)).toThrow(/did you mean "?hedge/);
    expect(make({ retry: { perTryTimeout: 10 }, hedge: { onPerTryTimeout: true } })).not.toThrow();
    expect(make({ hedge: { onPerTryTimeout: false } })).not.toThrow();
  });
});
