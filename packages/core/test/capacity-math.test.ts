import { describe, expect, it } from 'vitest';
import {
  type CapacityObjective,
  planCapacity,
  replicasForAvailability,
  replicasForObjective,
} from '../src/fundamentals/capacity.js';
import { mmcQueue } from '../src/fundamentals/queueing.js';
import { kOfNAvailability } from '../src/index.js';
import { thrown } from './support/thrown.js';

/** The objective's figure at c by brute force (rates per ms), Infinity when unstable. */
function figure(objective: CapacityObjective, rate: number, serviceMs: number, c: number): number {
  const q = mmcQueue({ servers: c, arrivalRate: rate / 1000, serviceRate: 1 / serviceMs });
  if (q === null) return Number.POSITIVE_INFINITY;
  switch (objective.kind) {
    case 'utilization':
      return q.utilization;
    case 'mean-wait':
      return q.meanWait;
    case 'mean-response':
      return q.meanResponse;
    case 'wait-probability':
      return q.waitExceeds(Number(objective.longerThan ?? 0));
    case 'response-percentile':
      return q.responsePercentile(objective.percentile);
  }
}

function bound(objective: CapacityObjective): number {
  return Number(objective.max);
}

describe('the worked example of docs/fundamentals.md: 180 requests/s of 20 ms', () => {
  it('p99 at most 140 ms needs 5 replicas (104.9 ms; 4 give 243.9 ms)', () => {
    const r = replicasForObjective({
      rate: 180,
      serviceTime: '20ms',
      objective: { kind: 'response-percentile', percentile: 0.99, max: '140ms' },
    });
    expect(r.replicas).toBe(5);
    expect(r.value).toBeCloseTo(104.943, 2);
    expect(r.previous).toBeCloseTo(243.863, 2);
    expect(r.queue.utilization).toBeCloseTo(0.72, 12);
  });

  it('the plan: p99 needs 5, 70% utilisation 6, a 1 ms mean wait 7; 99.99% with 99.5% replicas needs 9', () => {
    const plan = planCapacity({
      rate: 180,
      serviceTime: '20ms',
      objectives: [
        { kind: 'response-percentile', percentile: 0.99, max: '140ms' },
        { kind: 'utilization', max: 0.7 },
        { kind: 'mean-wait', max: '1ms' },
      ],
      availability: { target: 0.9999, replica: 0.995 },
    });
    expect(plan.byObjective.map((a) => a.replicas)).toEqual([5, 6, 7]);
    expect(plan.byObjective[1]!.value).toBeCloseTo(0.6, 12);
    expect(plan.byObjective[1]!.previous).toBeCloseTo(0.72, 12);
    expect(plan.byObjective[2]!.value).toBeCloseTo(0.5073, 4);
    expect(plan.byObjective[2]!.previous).toBeCloseTo(1.6381, 4);
    expect(plan.forLoad).toBe(7);
    expect(plan.replicas).toBe(9);
    expect(plan.availability).toBeCloseTo(kOfNAvailability(7, 9, 0.995), 15);
    expect(plan.availability!).toBeGreaterThanOrEqual(0.9999);
    expect(kOfNAvailability(7, 8, 0.995)).toBeLessThan(0.9999);
    expect(
      planCapacity({ rate: 180, serviceTime: 20, objectives: [{ kind: 'utilization', max: 0.7 }] }),
    ).toMatchObject({
      forLoad: 6,
      replicas: 6,
      availability: null,
    });
  });

  it('availability alone: 5 needed up, 99.5% each, 99.99% for the group takes 7', () => {
    const r = replicasForAvailability({ target: 0.9999, replica: 0.995, need: 5 });
    expect(r.replicas).toBe(7);
    expect(r.availability).toBeCloseTo(kOfNAvailability(5, 7, 0.995), 15);
    expect(r.previous).toBeCloseTo(kOfNAvailability(5, 6, 0.995), 15);
    expect(r.previous!).toBeLessThan(0.9999);
    // need defaults to 1: two 99% replicas give 99.99%.
    expect(replicasForAvailability({ target: 0.9999, replica: 0.99 }).replicas).toBe(2);
  });
});

describe('the search equals a linear scan from c = 1', () => {
  it('for every objective kind over a range of loads, including thousands of replicas', () => {
    const objectives: CapacityObjective[] = [
      { kind: 'utilization', max: 0.7 },
      { kind: 'utilization', max: 1 },
      { kind: 'mean-wait', max: 2 },
      { kind: 'mean-response', max: 21 },
      { kind: 'wait-probability', max: 0.05 },
      { kind: 'wait-probability', max: 0.01, longerThan: 5 },
      { kind: 'response-percentile', percentile: 0.99, max: 100 },
      { kind: 'response-percentile', percentile: 0.999, max: 150 },
    ];
    for (const rate of [3, 40, 170, 1234.5, 50_000]) {
      for (const objective of objectives) {
        let scan = 1;
        while (figure(objective, rate, 20, scan) > bound(objective)) scan++;
        const r = replicasForObjective({ rate, serviceTime: 20, objective });
        expect(r.replicas, `${rate}/s ${JSON.stringify(objective)}`).toBe(scan);
        expect(r.value).toBeLessThanOrEqual(bound(objective));
        if (r.previous !== null) expect(r.previous).toBeGreaterThan(bound(objective));
      }
    }
  });

  it('utilisation 1 is never an unstable count: 4 erlangs at max 1 need 5, not 4', () => {
    expect(
      replicasForObjective({ rate: 200, serviceTime: 20, objective: { kind: 'utilization', max: 1 } })
        .replicas,
    ).toBe(5);
    expect(
      replicasForObjective({ rate: 200, serviceTime: 20, objective: { kind: 'utilization', max: 0.8 } })
        .replicas,
    ).toBe(5);
  });
});

describe('bad input names the field and what is allowed', () => {
  const p99 = { kind: 'response-percentile', percentile: 0.99, max: '140ms' } as const;
  it.each([
    [
      () => replicasForObjective({ rate: 0, serviceTime: 20, objective: p99 }),
      /rate must be arrivals per second, a finite number > 0, got 0/,
    ],
    [
      () => replicasForObjective({ rate: 10, serviceTime: 0, objective: p99 }),
      /serviceTime must be a finite mean service time > 0/,
    ],
    [
      () => replicasForObjective({ rate: 10, serviceTime: 20, objective: { kind: 'p99' } as never }),
      /objective.kind must be one of "utilization", "mean-wait", "mean-response", "wait-probability", "response-percentile", got "p99"/,
    ],
    [
      () =>
        replicasForObjective({
          rate: 10,
          serviceTime: 20,
          objective: { kind: 'mean-wait', max: 5, percentile: 0.9 } as never,
        }),
      /unknown option "objective.percentile"/,
    ],
    [
      () =>
        replicasForObjective({
          rate: 170,
          serviceTime: '20ms',
          objective: { kind: 'response-percentile', percentile: 0.99, max: '90ms' },
        }),
      /objective.max must be a time > 92.1 ms, the service time's own p99 \(no number of replicas goes below it\), got "90ms"/,
    ],
    [
      () =>
        replicasForObjective({ rate: 10, serviceTime: 20, objective: { kind: 'mean-response', max: 20 } }),
      /objective.max must be a mean response time > the mean service time \(20 ms\)/,
    ],
    [
      () => replicasForObjective({ rate: 10, serviceTime: 20, objective: { kind: 'utilization', max: 1.2 } }),
      /objective.max must be a utilisation in \(0, 1\]/,
    ],
    [
      () => replicasForObjective({ rate: 1e6, serviceTime: 20, objective: p99, maxReplicas: 100 }),
      /objective must be an objective that 100 replicas \(maxReplicas\) can meet at 1000000 requests\/s of 20 ms/,
    ],
    [
      () => replicasForObjective({ rate: 10, serviceTime: 20, objective: p99, replicas: 3 } as never),
      /unknown option "replicas"/,
    ],
    [
      () => replicasForAvailability({ target: 1, replica: 0.9 }),
      /target must be an availability in \[0, 1\)/,
    ],
    [
      () => replicasForAvailability({ target: 0.99, replica: 0, need: 1 }),
      /target must be an availability that 10000 replicas/,
    ],
    [
      () => replicasForAvailability({ target: 0.99, replica: 0.9, need: 0 }),
      /need must be an integer in \[1, 1000000\], got 0/,
    ],
    [
      () => planCapacity({ rate: 10, serviceTime: 20, objectives: [] }),
      /objectives must be a non-empty array/,
    ],
    [
      () => planCapacity({ rate: 10, serviceTime: 20, objectives: [p99, { kind: 'utilization', max: 0 }] }),
      /objectives\[1\].max must be a utilisation in \(0, 1\]/,
    ],
    [
      () =>
        planCapacity({
          rate: 10,
          serviceTime: 20,
          objectives: [p99],
          availability: { target: 0.999, replicas: 0.9 } as never,
        }),
      /unknown option "availability.replicas" \(did you mean "availability.replica"\?\)/,
    ],
  ])('%#', (fn, message) => {
    expect(thrown(fn).message).toMatch(message);
  });
});
