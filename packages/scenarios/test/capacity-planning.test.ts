import { mmcQueue } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { capacityPlanning } from '../src/catalogue/capacity-planning.js';
import { mmc } from '../src/catalogue/mmc.js';
import { runScenario } from '../src/scenario.js';
import { findThreshold } from '../src/sweep/find.js';

const outcome = (r: ReturnType<typeof runScenario>, variant: string) =>
  r.variants.find((v) => v.name === variant)!.outcome as Record<string, number | boolean | null>;

describe('capacity-planning: replicas for p99 <= 140 ms at 180 requests/s of 20 ms', () => {
  it('envelope 6, Erlang C 5, simulation 5 for a shared queue; a queue per replica needs 6-8 (2 seeds)', () => {
    for (const seed of [1, 2]) {
      const r = runScenario(capacityPlanning, { seed });
      for (const c of r.checks) expect(c.pass, `seed ${seed}: ${c.name}: ${c.detail}`).toBe(true);
      const shared = outcome(r, 'shared-queue');
      expect(shared).toMatchObject({
        offeredLoad: 3.6,
        envelopeReplicas: 6, // ⌈3.6 / 0.7⌉
        theoryReplicas: 5,
        theoryP99Ms: 104.9,
        roundRobinTheoryReplicas: 7,
        simulatedReplicas: 5,
      });
      // The fewest meeting the objective is the theory's count, with a wide margin on both sides.
      expect(shared['r4.p99Ms'] as number).toBeGreaterThan(170); // theory 243.9 ms
      expect(shared['r5.p99Ms'] as number).toBeLessThan(125); // theory 104.9 ms
      expect(Math.abs((shared['r5.utilization'] as number) - 0.72)).toBeLessThan(0.03);
      expect(Math.abs((shared['r6.utilization'] as number) - 0.6)).toBeLessThan(0.03);
      // Round robin: each replica an E_5/M/1 queue at 0.72, p99 212 ms; E_c/M/1 says 7 replicas.
      const rr = outcome(r, 'round-robin');
      expect(rr['r5.theoryP99Ms']).toBeCloseTo(212.3, 1);
      expect(Math.abs((rr['r5.p99Ms'] as number) / 212.3 - 1)).toBeLessThan(0.1);
      expect(rr.simulatedReplicas as number).toBeGreaterThanOrEqual(6);
      expect(rr.simulatedReplicas as number).toBeLessThanOrEqual(8);
      // Least request (two choices): between the shared queue and round robin.
      const lr = outcome(r, 'least-request');
      expect(lr.simulatedReplicas as number).toBeGreaterThanOrEqual(6);
      expect(lr.simulatedReplicas as number).toBeLessThanOrEqual(7);
      expect(r.metrics.failed).toBe(0);
    }
  });

  it('a wrong model would be caught: round robin is neither M/M/c nor independent M/M/1 queues', () => {
    const r = runScenario(capacityPlanning, {
      seed: 3,
      variants: ['round-robin'],
      params: { replicas: 5, requests: 20_000 },
    });
    const p99 = outcome(r, 'round-robin').p99Ms as number;
    const mmcP99 = mmcQueue({ servers: 5, arrivalRate: 0.18, serviceRate: 0.05 })!.responsePercentile(0.99);
    const mm1P99 = (Math.log(100) * 20) / (1 - 0.72); // random assignment: M/M/1 at 0.72 each
    expect(mmcP99).toBeCloseTo(104.94, 2);
    expect(mm1P99).toBeCloseTo(328.9, 1);
    expect(p99 / mmcP99).toBeGreaterThan(1.7); // measured about 212 ms
    expect(mm1P99 / p99).toBeGreaterThan(1.3);
    expect(Math.abs(p99 / (outcome(r, 'round-robin').replicaTheoryP99Ms as number) - 1)).toBeLessThan(0.1);
  });

  it('sweep --find confirms the count: smallest replicas in 1..64 where p99Ms < 140 is 5', () => {
    const r = findThreshold(capacityPlanning, {
      param: 'replicas',
      range: [1, 64],
      want: 'smallest',
      figure: 'shared-queue.p99Ms',
      op: '<',
      bound: 140,
      seeds: [1, 2, 3],
      variants: ['shared-queue'],
      set: { requests: 4000 },
    });
    expect(r.answer).toBe(5);
    expect(r.bracket).toEqual({ holds: 5, fails: 4 });
    expect(r.converged).toBe(true);
  });

  it('the M/M/c p99 of core matches the mmc scenario (M/M/5, 4/s, 1/s: Erlang C 554 ms mean wait)', () => {
    const q = mmcQueue({ servers: 5, arrivalRate: 0.004, serviceRate: 0.001 })!;
    for (const seed of [1, 2]) {
      const r = runScenario(mmc, { seed, params: { customers: 40_000 } });
      // The run's latency histogram holds every customer's time in system, warm-up included.
      expect(Math.abs(r.metrics.latencyMs.p99 / q.responsePercentile(0.99) - 1), `seed ${seed}`).toBeLessThan(
        0.08,
      );
      expect(Math.abs(r.metrics.latencyMs.p50 / q.responsePercentile(0.5) - 1), `seed ${seed}`).toBeLessThan(
        0.05,
      );
    }
  });

  it('is deterministic, and rejects an objective below the service time p99', () => {
    const params = { replicas: 5, requests: 2000 };
    const a = runScenario(capacityPlanning, { seed: 9, params, variants: ['least-request'] });
    const b = runScenario(capacityPlanning, { seed: 9, params, variants: ['least-request'] });
    expect(JSON.stringify({ ...a, wallMs: 0 })).toBe(JSON.stringify({ ...b, wallMs: 0 }));
    expect(() => runScenario(capacityPlanning, { seed: 1, params: { p99Ms: 90 } })).toThrow(
      /parameter p99Ms must be above ln\(100\) × serviceMs = 92.1 ms/,
    );
  });
});
