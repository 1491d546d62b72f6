import { describe, expect, it } from 'vitest';
import { apiGateway } from '../src/catalogue/api-gateway.js';
import { runScenario } from '../src/scenario.js';

const outcome = (variant: string, seed: number, params: Record<string, unknown> = {}) => {
  const r = runScenario(apiGateway, { seed, variants: [variant], params });
  for (const c of r.checks) expect(c.pass, `${variant} seed ${seed}: ${c.name}: ${c.detail}`).toBe(true);
  return r.outcome as Record<string, number>;
};

describe('api-gateway scenario', () => {
  it('per-tenant token buckets refuse exactly the noisy excess and keep the quiet tenants whole', () => {
    for (const seed of [1, 2, 3]) {
      const on = outcome('tenant-limits', seed, { seconds: 10 });
      expect(Math.abs(on.noisyRejectedShare! - on.noisyRejectedTheory!)).toBeLessThan(0.01);
      expect(on.quietAvailability).toBeGreaterThanOrEqual(0.999);
      const off = outcome('no-tenant-limits', seed, { seconds: 10 });
      expect(off.quietAvailability).toBeLessThan(0.5);
      expect(off.noisyRejectedShare).toBe(0);
    }
  });

  it('a noisy tenant within the backend capacity hurts no one: the no-limit check is not claimed', () => {
    const r = runScenario(apiGateway, {
      seed: 1,
      variants: ['no-tenant-limits'],
      params: { seconds: 10, noisyRate: 300 },
    });
    expect(r.checks).toHaveLength(0); // rho < 1.1: nothing to claim
    expect(r.outcome.quietAvailability).toBeGreaterThan(0.999);
  });

  it("the aggregate's mean and p99 follow the max of k exponential parts, for several k", () => {
    for (const [parts, seed] of [
      [1, 1],
      [4, 2],
      [16, 3],
    ] as const) {
      const o = outcome('aggregation', seed, { parts, seconds: 20, rate: 300 });
      expect(Math.abs(o.meanMs! - o.theoryMeanMs!) / o.theoryMeanMs!).toBeLessThan(0.03);
      expect(Math.abs(o.p99Ms! - o.theoryP99Ms!) / o.theoryP99Ms!).toBeLessThan(0.06);
      if (parts > 1) expect(o.p99Ms).toBeGreaterThan(o.singlePartP99Ms!);
    }
  });

  it('a wrong theory would be caught: the p99 of 16 parts is far from one part', () => {
    const o = outcome('aggregation', 1, { parts: 16, seconds: 10, rate: 300 });
    expect(Math.abs(o.p99Ms! - o.singlePartP99Ms!) / o.singlePartP99Ms!).toBeGreaterThan(0.3);
  });

  it('wasted work after 504s, and what stops it', () => {
    for (const seed of [1, 2]) {
      const plain = outcome('timeout-504', seed);
      const deadline = outcome('deadline-propagation', seed);
      const lifo = outcome('deadline-and-lifo', seed);
      expect(plain.backendServed).toBe(plain.sent); // the backend serves everything, 504 or not
      expect(plain.wastedShare).toBeGreaterThan(0.8);
      expect(deadline.backendServed).toBeLessThan(deadline.sent!);
      expect(lifo.goodputPerSecond).toBeGreaterThanOrEqual(36);
      expect(lifo.goodputPerSecond).toBeLessThanOrEqual(40 * 1.05); // never above capacity (plus Poisson noise)
      expect(plain.goodputPerSecond).toBeLessThan(deadline.goodputPerSecond!);
    }
  });

  it('requests are conserved: every one sent is answered once', () => {
    for (const variant of ['no-tenant-limits', 'tenant-limits', 'timeout-504', 'deadline-and-lifo']) {
      const r = runScenario(apiGateway, { seed: 7, variants: [variant], params: { seconds: 5 } });
      expect(r.metrics.ok + r.metrics.failed, variant).toBe(r.metrics.requests);
    }
  });
});
