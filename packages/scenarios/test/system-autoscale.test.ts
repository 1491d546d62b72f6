import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { scaleSummary } from '../src/system/autoscale.js';
import { compileSystem } from '../src/system/compile.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { SystemError, validateSystem } from '../src/system/validate.js';
import { figure } from './support/figures.js';

// One replica: 1 worker, exponential 50 ms service time, so μ = 20 requests/s. The load steps from
// 20/s to 100/s at 60 s; the HPA (2 to 20 replicas, Kubernetes' defaults but a 60 s scale-down
// stabilization, so that the run can show the settled count) should settle at
// ceil(load / (μ × target)) replicas.
const MU = 20;
const LOAD = 100;

const ramp = (autoscale: Record<string, unknown>, until = '300s'): SystemDescription =>
  ({
    nodes: {
      base: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: 20 }, until },
      surge: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: 80 }, from: '60s', until },
      lb: { kind: 'balancer', backends: ['app'], policy: 'least-request' },
      app: {
        kind: 'service',
        replicas: 2,
        concurrency: 1,
        serviceTime: { exponential: { mean: 50 } },
        autoscale: { minReplicas: 2, maxReplicas: 20, startup: '10s', ...autoscale },
      },
    },
  }) as unknown as SystemDescription;

const PHASES = { before: [0, '60s'], ramp: ['60s', '180s'], steady: ['240s', '300s'] } as const;

const run = (
  system: SystemDescription,
  seed: number,
  phases: Record<string, readonly [string | number, string]> = PHASES,
) =>
  runScenario(defineSystemScenario({ name: 'autoscale', description: 'autoscale', system, phases }), {
    seed,
  });

const SHORT_DOWN = { scaleDown: { stabilizationWindow: '60s' } };

describe('autoscale: a described service scales with its load', () => {
  it.each([
    1, 2, 3,
  ])('HPA on a utilisation target of 0.6: settles at ceil(100 / (20 × 0.6)) = 9 (seed %i)', (seed) => {
    const o = run(ramp({ metric: { utilization: 60 }, behavior: SHORT_DOWN }), seed).outcome;
    const expected = Math.ceil(LOAD / (MU * 0.6));
    expect(expected).toBe(9);
    // Before the surge: 20/s on two replicas is 50% busy; the HPA wants ceil(2 × 50 / 60) = 2.
    expect(figure(o, 'app.before.replicas')).toBe(2);
    expect(figure(o, 'app.before.scaleUps')).toBe(0);
    expect(figure(o, 'app.ramp.scaleUps')).toBeGreaterThanOrEqual(2);
    expect(figure(o, 'app.steady.replicas')).toBe(expected);
    expect(figure(o, 'app.steady.maxReplicas')).toBe(expected);
    expect(figure(o, 'app.steady.readyReplicas')).toBe(expected);
    // Settled: the utilisation is within the HPA's tolerance band, and every request is answered.
    expect(Math.abs(figure(o, 'app.steady.utilisation') / 0.6 - 1)).toBeLessThan(0.1);
    expect(figure(o, 'app.steady.rate')).toBeCloseTo(LOAD, -1);
    expect(figure(o, 'base.steady.availability')).toBe(1);
    // Nothing lost: every request the clients started in the steady phase came back ok or failed.
    expect(figure(o, 'base.steady.requests') + figure(o, 'surge.steady.requests')).toBeGreaterThan(
      0.9 * LOAD * 60,
    );
  });

  it.each([
    1, 2,
  ])('HPA on requests per second (15 per replica): settles at ceil(100 / 15) = 7 (seed %i)', (seed) => {
    const o = run(ramp({ metric: { rps: 15 }, behavior: SHORT_DOWN }), seed).outcome;
    expect(figure(o, 'app.steady.replicas')).toBe(Math.ceil(LOAD / 15));
    // The count follows the target: the 60% utilisation target's 9 would be wrong here.
    expect(figure(o, 'app.steady.replicas')).not.toBe(Math.ceil(LOAD / (MU * 0.6)));
  });

  it("keeps Kubernetes' 5-minute scale-down stabilization by default: the overshoot stays", () => {
    const o = run(ramp({ metric: { utilization: 60 } }), 1).outcome;
    // The backlog of the surge over-scales; with the default window nothing is removed before 300 s.
    expect(figure(o, 'app.steady.replicas')).toBeGreaterThan(9);
    expect(figure(o, 'app.steady.scaleDowns')).toBe(0);
  });

  it('runs a schedule (ScheduledScalingPolicy) and step scaling (StepScalingPolicy)', () => {
    const scheduled = run(
      ramp({
        policy: 'scheduled',
        schedule: [
          { at: 0, replicas: 2 },
          { at: '90s', replicas: 6 },
        ],
        period: '10s',
      }),
      1,
    ).outcome;
    expect(figure(scheduled, 'app.before.replicas')).toBe(2);
    expect(figure(scheduled, 'app.ramp.scaleUps')).toBe(1);
    expect(figure(scheduled, 'app.steady.replicas')).toBe(6);
    const step = run(
      ramp({
        policy: 'step',
        period: '15s',
        scaleOut: { threshold: 70, steps: [{ lower: 0, adjustment: 2 }], cooldown: '30s' },
      }),
      1,
    ).outcome;
    expect(figure(step, 'app.ramp.scaleUps')).toBeGreaterThanOrEqual(2);
    // It adds 2 while the mean utilisation is >= 70%: it stops once below, never removes.
    const steady = figure(step, 'app.steady.replicas');
    expect(steady).toBeGreaterThanOrEqual(Math.ceil(LOAD / (MU * 0.7)));
    expect(figure(step, 'app.steady.utilisation')).toBeLessThan(0.7);
    expect(figure(step, 'app.steady.scaleDowns')).toBe(0);
  });

  it('gives the same digest for the same seed, another for another seed', () => {
    const system = ramp({ metric: { utilization: 60 } }, '120s');
    const phases = { all: [0, '120s'] } as const;
    const a = run(system, 7, phases);
    expect(run(system, 7, phases).digest).toBe(a.digest);
    expect(run(system, 7, phases).outcome).toEqual(a.outcome);
    expect(run(system, 8, phases).digest).not.toBe(a.digest);
  });

  it('exposes the pool and autoscaler; the replica counts add up', () => {
    const sim = new Simulation({ seed: 3 });
    const sys = compileSystem(sim, ramp({ metric: { utilization: 60 }, behavior: SHORT_DOWN }, '200s'));
    sim.run();
    const h = sys.autoscaled.app!;
    expect(h.pool.name).toBe('app');
    const { created, terminated } = h.pool.stats;
    expect(created - terminated).toBe(h.pool.replicas);
    const ups = h.autoscaler.events.filter((e) => e.to > e.from).reduce((s, e) => s + e.to - e.from, 0);
    const downs = h.autoscaler.events.filter((e) => e.to < e.from).reduce((s, e) => s + e.from - e.to, 0);
    expect(2 + ups - downs).toBe(h.pool.replicas);
    expect(created).toBe(2 + ups);
    expect(scaleSummary(h.autoscaler.events, 2, 0, 60_000)).toEqual({ max: 2, ups: 0, downs: 0 });
  });
});

describe('autoscale: bad descriptions', () => {
  const base = (app: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    nodes: {
      users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: 10 }, until: '10s' },
      lb: { kind: 'balancer', backends: ['app'] },
      app: {
        kind: 'service',
        serviceTime: 10,
        autoscale: { maxReplicas: 4, metric: { utilization: 60 }, startup: '5s' },
        ...app,
      },
      ...extra,
    },
  });
  const cases: [string, unknown, string][] = [
    [
      'unknown policy',
      base({ autoscale: { policy: 'vpa', maxReplicas: 4, startup: '5s' } }),
      'nodes.app.autoscale.policy: policy must be one of hpa, step, scheduled',
    ],
    [
      'HPA without a metric',
      base({ autoscale: { maxReplicas: 4, startup: '5s' } }),
      'nodes.app.autoscale.metric',
    ],
    [
      'a metric of another shape',
      base({ autoscale: { maxReplicas: 4, startup: '5s', metric: { cpu: 60 } } }),
      'nodes.app.autoscale.metric.cpu: unknown key',
    ],
    [
      'no start-up time',
      base({ autoscale: { maxReplicas: 4, metric: { rps: 10 } } }),
      'nodes.app.autoscale.startup',
    ],
    [
      'an unknown key',
      base({ autoscale: { maxReplicas: 4, metric: { rps: 10 }, startup: '5s', cooldown: '1m' } }),
      'nodes.app.autoscale',
    ],
    [
      'scale to zero',
      base({ autoscale: { minReplicas: 0, maxReplicas: 4, metric: { rps: 10 }, startup: '5s' } }),
      'nodes.app.autoscale.minReplicas',
    ],
    [
      'max below min',
      base({ autoscale: { minReplicas: 5, maxReplicas: 4, metric: { rps: 10 }, startup: '5s' } }),
      'nodes.app.autoscale.maxReplicas: must be at least minReplicas (5), got 4',
    ],
    [
      'a start count above the bounds',
      base({ replicas: 6 }),
      'nodes.app.replicas: the replicas at the start must be within [minReplicas, maxReplicas] = [1, 4], got 6',
    ],
    [
      'no balancer in front',
      {
        nodes: {
          users: { kind: 'clients', target: 'app', workload: { kind: 'open', rate: 10 }, until: '10s' },
          app: {
            kind: 'service',
            serviceTime: 10,
            autoscale: { maxReplicas: 4, metric: { rps: 10 }, startup: '5s' },
          },
        },
      },
      "nodes.app.autoscale: an autoscaled service's replicas join the balancer in front of it",
    ],
    [
      'called directly',
      base({}, { front: { kind: 'service', serviceTime: 1, downstream: [{ to: 'app' }] } }),
      'nodes.front.downstream[0].to: "app" is autoscaled; call the balancer in front of it',
    ],
    [
      'a shared rate limiter',
      base({ rateLimit: { kind: 'token-bucket', capacity: 10, refillPerSecond: 10 } }),
      'nodes.app.rateLimit: one would be shared by every replica',
    ],
    [
      'a link to replicas that do not exist yet',
      { ...base({}), network: { edges: { 'lb->app': { latency: 1 } } } },
      'network.edges.lb->app: a link to "app" names replicas that do not exist yet',
    ],
    [
      'a schedule out of order (the component says)',
      base({
        autoscale: {
          policy: 'scheduled',
          schedule: [
            { at: '10s', replicas: 2 },
            { at: '5s', replicas: 3 },
          ],
          startup: '5s',
        },
      }),
      'nodes.app.autoscale: ScheduledScalingPolicy',
    ],
  ];
  it.each(cases)('%s', (_, system, message) => {
    let error: unknown;
    try {
      // Shape and references first, then what only the components can tell as they are built.
      validateSystem(system);
      compileSystem(new Simulation({ seed: 1 }), system);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SystemError);
    expect((error as SystemError).message).toContain(message);
  });
});
