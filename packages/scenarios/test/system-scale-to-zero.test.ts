import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import { systemGraph } from '../src/system/graph/graph.js';
import { toMermaid } from '../src/system/graph/mermaid.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { figure } from './support/figures.js';
import { systemErrorText } from './support/system-issues.js';

const SEEDS = [1, 2, 3];
const STARTUP = 5000;

/**
 * Two bursts of 20 requests/s (0–20 s and 60–80 s) through an activator to a service that scales to
 * zero: no replica at the start, a 5 s start-up, an HPA with minReplicas 0 syncing every 5 s and a
 * 10 s scale-down window.
 */
const system = (activator: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  ({
    nodes: {
      morning: {
        kind: 'clients',
        target: 'activator',
        workload: { kind: 'open', rate: 20 },
        until: '20s',
      },
      evening: {
        kind: 'clients',
        target: 'activator',
        workload: { kind: 'open', rate: 20 },
        from: '60s',
        until: '80s',
      },
      activator: { kind: 'activator', target: 'lb', ...activator },
      lb: { kind: 'balancer', backends: ['app'] },
      app: {
        kind: 'service',
        replicas: 0,
        concurrency: 4,
        serviceTime: { exponential: { mean: 20 } },
        autoscale: {
          minReplicas: 0,
          maxReplicas: 4,
          metric: { utilization: 60 },
          syncPeriod: '5s',
          startup: STARTUP,
          behavior: { scaleDown: { stabilizationWindow: '10s' } },
        },
        ...extra,
      },
    },
  }) as unknown as SystemDescription;

const PHASES = { first: [0, '20s'], gap: ['20s', '60s'], second: ['60s', '80s'] } as const;

const run = (s: SystemDescription, seed: number) =>
  runScenario(
    defineSystemScenario({ name: 'zero', description: 'scale to zero', system: s, phases: PHASES }),
    {
      seed,
    },
  );

describe('scale to zero behind an activator', () => {
  it('wakes from zero on the first request of each burst; a cold start lasts the start-up time', () => {
    for (const seed of SEEDS) {
      const o = run(system(), seed).outcome;
      // One wake per burst, none in between; each cold start is exactly the 5 s start-up.
      expect(o['app.first.coldStarts']).toBe(1);
      expect(o['app.gap.coldStarts']).toBe(0);
      expect(o['app.second.coldStarts']).toBe(1);
      expect(o['app.first.coldStartMs']).toBe(STARTUP);
      expect(o['app.second.coldStartMs']).toBe(STARTUP);
      expect(o['activator.first.wakes']).toBe(1);
      expect(o['activator.second.wakes']).toBe(1);
      // The requests of the first 5 s of a burst are held (~100 at 20/s), none after.
      expect(Math.abs(figure(o, 'activator.first.held') - 100)).toBeLessThan(35);
      expect(o['activator.first.expired']).toBe(0);
      // Held ones wait out the rest of the cold start: the first request the whole start-up (p999 of
      // ~400), the 4th (p99) about 3 arrivals (150 ms at 20/s) less.
      expect(figure(o, 'morning.first.p999')).toBeGreaterThan(STARTUP - 100);
      expect(figure(o, 'morning.first.p999')).toBeLessThan(STARTUP + 200);
      expect(figure(o, 'morning.first.p99')).toBeGreaterThan(STARTUP - 600);
      expect(figure(o, 'morning.first.availability')).toBe(1);
      expect(figure(o, 'evening.second.availability')).toBe(1);
      // Requests forwarded through the activator: the edge to the balancer carries them all.
      expect(figure(o, 'activator->lb.first.rate')).toBeCloseTo(figure(o, 'activator.first.rate'), 0);
    }
  });

  it('goes back to zero after the scale-down window and measures the time there', () => {
    for (const seed of SEEDS) {
      const sim = new Simulation({ seed });
      const sys = compileSystem(sim, system());
      sim.run();
      const events = sys.autoscaled.app!.autoscaler.events;
      const down = events.find((e) => e.to === 0)!;
      const wake = events.find((e) => e.reason === 'Activated' && e.at >= 60_000)!;
      // Quiet from 20 s: the first sync whose 10 s window has only zero recommendations is at 35 s
      // or the one after (the window holds the 25 s sync, which saw the last requests of the burst).
      expect(down.at).toBeGreaterThanOrEqual(30_000);
      expect(down.at).toBeLessThanOrEqual(40_000);
      const o = run(system(), seed).outcome;
      // At zero from the scale-down to the evening's first request (and briefly before the first).
      expect(figure(o, 'app.gap.timeAtZero')).toBeCloseTo((60_000 - down.at) / 40_000, 9);
      expect(figure(o, 'app.second.timeAtZero')).toBeCloseTo((wake.at - 60_000) / 20_000, 9);
      expect(figure(o, 'app.gap.timeAtZero')).toBeGreaterThan(0.45);
      // No replica at all while at zero: the mean replica count agrees.
      expect(figure(o, 'app.gap.replicas')).toBeLessThan(1 - figure(o, 'app.gap.timeAtZero') + 1e-9);
    }
  });

  it('answers held requests `unavailable` when the cold start outlasts the activator timeout', () => {
    const o = run(system({ timeout: '2s' }), 1).outcome;
    // Requests held for more than 2 s of the 5 s start-up expire: ~3 s × 20/s per burst.
    expect(Math.abs(figure(o, 'activator.first.expired') - 60)).toBeLessThan(25);
    expect(figure(o, 'morning.first.errors.unavailable')).toBe(figure(o, 'activator.first.expired'));
    // A capacity of 10 held requests overflows the rest with `overloaded`.
    const c = run(system({ capacity: 10 }), 1).outcome;
    expect(c['activator.first.held']).toBe(10);
    expect(figure(c, 'activator.first.overflow')).toBeGreaterThan(50);
  });

  it('conserves requests: every one the activator took is answered once', () => {
    for (const seed of SEEDS) {
      const sim = new Simulation({ seed });
      const sys = compileSystem(sim, system({ timeout: '3s' }));
      sim.run();
      const s = sys.activators.activator!.stats;
      const sent =
        sys.clients.morning!.stats.toJSON().requests + sys.clients.evening!.stats.toJSON().requests;
      expect(s.requests).toBe(sent);
      expect(s.ok + s.failed).toBe(s.requests);
      expect(s.held + s.pending).toBe(0);
    }
  });

  it('draws the activator in front of the balancer', () => {
    const g = systemGraph(system());
    expect(g.edges.filter((e) => e.from === 'activator')).toEqual([
      { from: 'activator', to: 'lb', label: 'activate' },
    ]);
    expect(g.nodes.find((n) => n.name === 'app')?.replicas).toBe(1);
    expect(toMermaid(g)).toContain('activator[["activator"]]');
  });

  it('same seed, same digest; another seed, another', () => {
    const a = run(system(), 7);
    expect(run(system(), 7).digest).toBe(a.digest);
    expect(run(system(), 8).digest).not.toBe(a.digest);
  });

  it('errors name the path, the value and what is allowed', () => {
    const message = systemErrorText;
    expect(message(system())).toBe('valid');
    const without = system() as unknown as { nodes: Record<string, unknown> };
    delete without.nodes.activator;
    (without.nodes.morning as { target: string }).target = 'lb';
    (without.nodes.evening as { target: string }).target = 'lb';
    expect(message(without)).toMatch(
      /nodes\.app\.autoscale\.minReplicas: 0 lets "app" scale to zero, and only an activator wakes it/,
    );
    const fixed = system() as unknown as { nodes: Record<string, Record<string, unknown>> };
    delete fixed.nodes.app!.autoscale;
    expect(message(fixed)).toMatch(/nodes\.app\.replicas: must be at least 1, got 0/);
    expect(message(fixed)).toMatch(/nodes\.activator\.target: an activator waits for an autoscaled service/);
    expect(message(system({ target: 'app' }))).toMatch(
      /nodes\.activator\.target: "app" is a service; an activator target must be a balancer/,
    );
    expect(message(system({ target: 'lbb' }))).toMatch(
      /nodes\.activator\.target: no node named "lbb" \(did you mean "lb"\?\)/,
    );
    expect(message(system({ timeout: 0 }))).toMatch(/nodes\.activator\.timeout: must be a duration > 0/);
    expect(message(system({ capacity: -1 }))).toMatch(/nodes\.activator\.capacity/);
    expect(message(system({ queue: 5 }))).toMatch(/nodes\.activator.*queue/);
    expect(message(system({}, { replicas: 2 }))).toBe('valid');
  });
});
