import { exponential, Network, RpcEndpoint, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { LoadBalancer } from '../src/balancer/load-balancer.js';
import type { LoadBalancerOptions } from '../src/balancer/load-balancer-options.js';
import type { BalancerPolicy, PickContext } from '../src/balancer/policy.js';
import { Service } from '../src/service/service.js';

interface Seen {
  now: number;
  reportedAt: number | undefined;
  /** The counts the policy saw. */
  seen: number[];
  /** The balancer's live counts at the same moment. */
  live: number[];
}

/** A full scan over the counts it is given, recording them at every pick. */
function recordingPolicy(log: Seen[], lbRef: { lb?: LoadBalancer }): BalancerPolicy {
  return {
    kind: 'recording-least',
    pick(ctx: PickContext) {
      const lb = lbRef.lb!;
      const states = lb.backends as unknown as { live: number }[];
      log.push({
        now: ctx.now,
        reportedAt: lb.reportedAt,
        seen: ctx.backends.map((b) => b.active),
        live: states.map((b) => b.live),
      });
      let best = -1;
      for (let k = 0; k < ctx.availableCount; k++) {
        const i = ctx.availableIndices[k]!;
        if (best < 0 || ctx.backends[i]!.active < ctx.backends[best]!.active) best = i;
      }
      return best;
    },
  };
}

function run(loadReport: LoadBalancerOptions['loadReport'], seed = 1) {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  const backends = ['a', 'b', 'c', 'd'];
  for (const address of backends)
    new Service(net.addNode(address), { serviceTime: exponential({ mean: 10 }), concurrency: 1 });
  const log: Seen[] = [];
  const ref: { lb?: LoadBalancer } = {};
  const options: LoadBalancerOptions = { backends, policy: recordingPolicy(log, ref), timeout: Infinity };
  if (loadReport !== undefined) options.loadReport = loadReport;
  const lb = new LoadBalancer(net.addNode('lb'), options);
  ref.lb = lb;
  const client = new RpcEndpoint(net.addNode('client'));
  const gaps = exponential({ mean: 3 });
  const rng = sim.rng('test/arrivals');
  let ok = 0;
  sim.process(function* () {
    for (let i = 0; i < 400; i++) {
      client.call('lb', i).onProcessed((e) => {
        if (e.value!.ok) ok++;
      });
      yield sim.timeout(gaps.sample(rng));
    }
  });
  sim.run();
  return { lb, log, ok, sim };
}

describe('LoadBalancer loadReport (stale load information)', () => {
  it('without loadReport the policy sees the live counts', () => {
    const { lb, log, ok } = run(undefined);
    expect(ok).toBe(400);
    expect(lb.reportedAt).toBeUndefined();
    for (const s of log) expect(s.seen).toEqual(s.live);
  });

  it('with interval T, the counts the policy sees change only at report times', () => {
    const T = 50;
    const { lb, log, ok } = run({ interval: T });
    expect(ok).toBe(400);
    let changes = 0;
    for (let k = 0; k < log.length; k++) {
      const s = log[k]!;
      const period = Math.floor(s.now / T);
      expect(s.reportedAt).toBe(period * T);
      const prev = log[k - 1];
      if (prev !== undefined && Math.floor(prev.now / T) === period) {
        // Same report period: exactly the same counts, whatever was forwarded or answered since.
        expect(s.seen).toEqual(prev.seen);
      } else {
        // First pick of a period: the report is taken now, from the live counts.
        expect(s.seen).toEqual(s.live);
        if (prev !== undefined && s.seen.join() !== prev.seen.join()) changes++;
      }
    }
    // Stale indeed: within periods the live counts moved away from what the policy saw.
    expect(log.some((s) => s.seen.join() !== s.live.join())).toBe(true);
    expect(changes).toBeGreaterThan(5);
    expect(lb.reportedAt).toBe(Math.floor(log.at(-1)!.now / T) * T);
  });

  it('stale counts herd: within a period a full scan keeps sending to the same backend', () => {
    const { log } = run({ interval: 1000 });
    // One period of 1000 ms holds many arrivals (mean gap 3 ms); the least loaded as reported takes
    // them all (ties broken by index here), so the live count of one backend climbs.
    const maxLive = Math.max(...log.map((s) => Math.max(...s.live)));
    const fresh = run(undefined).log;
    const maxFresh = Math.max(...fresh.map((s) => Math.max(...s.live)));
    expect(maxLive).toBeGreaterThan(3 * maxFresh);
  });

  it('the live count still drives the per-backend metric', () => {
    const { sim, log } = run({ interval: 1000 });
    const gauges = ['a', 'b', 'c', 'd'].map((b) => sim.metrics.gauge('lb', `lb.backend.${b}.active`));
    // Everything answered: every live gauge is back to 0; its peak is at least the live counts seen.
    for (const g of gauges) expect(g.level).toBe(0);
    const maxLive = Math.max(...log.map((s) => Math.max(...s.live)));
    expect(Math.max(...gauges.map((g) => g.max))).toBeGreaterThanOrEqual(maxLive);
  });

  it('is checked at construction, with did-you-mean', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    let n = 0;
    const make = (loadReport: unknown) => () =>
      new LoadBalancer(net.addNode(`lb-${++n}`), {
        backends: ['a'],
        loadReport: loadReport as never,
      });
    expect(make({ intervl: 10 })).toThrow(
      /unknown option "loadReport\.intervl" \(did you mean "loadReport\.interval"\?\)/,
    );
    expect(make({})).toThrow(/loadReport\.interval/);
    expect(make({ interval: 0 })).toThrow(/loadReport\.interval/);
    expect(make({ interval: Infinity })).toThrow(/loadReport\.interval/);
    expect(make({ interval: -5 })).toThrow(/loadReport\.interval/);
    expect(make(5)).toThrow(/loadReport/);
    expect(make({ interval: '20ms' })).not.toThrow();
  });
});
