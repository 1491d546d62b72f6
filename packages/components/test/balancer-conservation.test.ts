import { Network, RpcEndpoint, type RpcResponse, Simulation, scheduleFaults } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { LoadBalancer } from '../src/balancer/load-balancer.js';

const BACKENDS = ['b0', 'b1', 'b2', 'b3'];
const SENT = 400;

/**
 * One run under every fault at once: backend crashes and restarts, pauses (a backend's and the
 * balancer's own), a partition between the balancer and a backend, a removal with a drain deadline (and
 * the backend added back), router retries, a retry budget and hedging on the per-try timeout. Backends
 * answer after exponential(8) ms, or 150 ms one time in ten (so hedges fire), and fail one time in twenty.
 */
function run(seed: number) {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  for (const address of BACKENDS) {
    const node = net.addNode(address);
    const rng = sim.rng(`${address}/service`);
    new RpcEndpoint(node).serve((_req, reply) => {
      const u = rng.next();
      const after = u < 0.1 ? 150 : -8 * Math.log(1 - rng.next());
      node.setTimer(after, () => (u > 0.95 ? reply.error('error', 'boom') : reply.ok(address)));
    });
  }
  const lb = new LoadBalancer(net.addNode('lb'), {
    backends: BACKENDS,
    policy: { kind: 'least-request' },
    timeout: 400,
    retry: { attempts: 2, perTryTimeout: 40, budget: { budgetPercent: 50, minRetryConcurrency: 2 } },
    hedge: { onPerTryTimeout: true },
  });
  const client = new RpcEndpoint(net.addNode('client'));
  scheduleFaults(net, [
    { at: 150, for: 250, fault: { kind: 'crash', node: 'b1' } },
    { at: 300, for: 120, fault: { kind: 'pause', node: 'b2' } },
    { at: 500, for: 200, fault: { kind: 'partition', a: 'lb', b: ['b3', 'b0'] } },
    { at: 900, for: 30, fault: { kind: 'pause', node: 'lb' } },
    { at: 1100, for: 100, fault: { kind: 'crash', node: 'b2' } },
  ]);
  sim.schedule(650, () => lb.removeBackend('b0', { drain: 20 }));
  sim.schedule(1000, () => lb.addBackend('b0'));
  const answered = new Array<number>(SENT).fill(0);
  let ok = 0;
  let failed = 0;
  const arrivals = sim.rng('client/arrivals');
  let t = 0;
  for (let i = 0; i < SENT; i++) {
    t += -4 * Math.log(1 - arrivals.next());
    sim.schedule(t, () =>
      client.call('lb', 'x').onProcessed((e) => {
        answered[i]!++;
        if ((e.value as RpcResponse).ok) ok++;
        else failed++;
      }),
    );
  }
  sim.run();
  const counter = (name: string) => sim.metrics.counter('lb', name).value;
  return { lb, answered, ok, failed, counter };
}

describe('LoadBalancer conservation under faults, retries, drains and hedging', () => {
  it('every caller request is answered exactly once and the stats add up, across 10 seeds', () => {
    const totals = { retries: 0, hedges: 0, abandoned: 0, cut: 0, failed: 0, unsent: 0 };
    for (let seed = 1; seed <= 10; seed++) {
      const { lb, answered, ok, failed, counter } = run(seed);
      const s = lb.stats;
      // The caller: every request answered, none twice.
      expect(
        answered.every((n) => n === 1),
        `seed ${seed}`,
      ).toBe(true);
      expect(ok + failed, `seed ${seed}`).toBe(SENT);
      // The balancer: each request answered once, in exactly one outcome, and nothing left in flight.
      expect(s.requests).toBe(SENT);
      expect(s.inFlight).toBe(0);
      expect(s.ok + s.failed + s.overloaded + s.noBackend).toBe(s.requests);
      expect(s.ok).toBe(ok);
      expect(s.failed + s.overloaded + s.noBackend).toBe(failed);
      // Attempts: every first attempt and every retry or hedge decided is forwarded, answered
      // `unavailable`, or not sent; every forwarded attempt was counted at its backend.
      expect(s.attempts + s.noBackend + s.unsent).toBe(s.requests - s.overloaded + s.retries);
      expect(BACKENDS.reduce((sum, b) => sum + counter(`lb.backend.${b}.requests`), 0)).toBe(s.attempts);
      expect(counter('lb.retry')).toBe(s.retries);
      expect(counter('lb.hedge')).toBe(s.hedges);
      expect(counter('lb.hedge.abandoned')).toBe(s.abandoned);
      expect(s.hedges).toBeLessThanOrEqual(s.retries);
      // Nothing is left at the backends or draining.
      expect(lb.backends.every((b) => b.active === 0)).toBe(true);
      expect(lb.draining).toEqual([]);
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += s[k];
    }
    // Every mechanism was exercised.
    for (const [k, v] of Object.entries(totals)) expect(v, k).toBeGreaterThan(0);
  });

  it('is deterministic: the same seed gives the same stats', () => {
    expect(run(4).lb.stats).toEqual(run(4).lb.stats);
  });
});
