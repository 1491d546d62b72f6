import {
  eurekaCrashTimeline,
  eurekaShutdownTimeline,
  readinessTimeline,
  stalenessBounds,
} from '@dsim/components';
import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import { systemGraph } from '../src/system/graph/graph.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { figure } from './support/figures.js';
import { systemErrorText } from './support/system-issues.js';

const FAULT_AT = 155_000;
/** Intervals chosen so that no two Eureka layers tick at one instant (the timeline model's assumption). */
const CLIENT = { registryFetchInterval: '25s', balancerRefreshInterval: '20s' };

/**
 * 20 requests/s from 60 s to 420 s through a balancer whose backends (4 replicas of `app`) come from
 * `discovery`; `fault` hits app-0 at 155 s.
 */
const system = (
  discovery: Record<string, unknown>,
  fault: Record<string, unknown> | undefined,
  eureka: Record<string, unknown> = {},
): SystemDescription =>
  ({
    nodes: {
      users: {
        kind: 'clients',
        target: 'lb',
        workload: { kind: 'open', rate: 20 },
        from: '60s',
        until: '420s',
      },
      lb: { kind: 'balancer', backends: ['app'], timeout: '500ms', discovery },
      app: { kind: 'service', replicas: 4, concurrency: 8, serviceTime: 5 },
      registry: {
        kind: 'eureka',
        selfPreservation: false,
        instances: { registration: 'at-start' },
        ...eureka,
      },
    },
    ...(fault === undefined ? {} : { faults: [{ at: FAULT_AT, fault }] }),
  }) as unknown as SystemDescription;

const EUREKA = { kind: 'eureka', server: 'registry', ...CLIENT };
const PHASES = { all: ['60s', '420s'] } as const;

const run = (s: SystemDescription, seed = 1) =>
  runScenario(
    defineSystemScenario({ name: 'discovery', description: 'discovery', system: s, phases: PHASES }),
    {
      seed,
    },
  ).outcome;

/** The Eureka schedule of these systems: everything starts at 0 with zero latency. */
const schedule = {
  evictionFirst: 60_000,
  evictionInterval: 60_000,
  cacheFirst: 30_000,
  cacheInterval: 30_000,
  fetchFirst: 0,
  fetchInterval: 25_000,
  balancerFirst: 1000,
  balancerInterval: 20_000,
};

describe('service discovery in front of a balancer', () => {
  it('eureka, crash: the balancer drops the instance when the timeline model says; calls to it fail until then', () => {
    // Every timer starts at 0: with the default 30 s cache refresh, every eviction run (each 60 s) would
    // share its instant with a cache refresh, which the model excludes; 35 s keeps them apart.
    const o = run(system(EUREKA, { kind: 'crash', node: 'app-0' }, { responseCacheUpdateInterval: '35s' }));
    // Registered at 0 and renewed every 30 s: the last renewal before the crash at 150 s.
    const drop = eurekaCrashTimeline(
      { ...schedule, cacheFirst: 35_000, cacheInterval: 35_000 },
      {
        lastRenewal: 150_000,
        renewed: true,
        duration: 90_000,
        expiry: 'eureka',
      },
    );
    const window = drop.balancer - FAULT_AT;
    expect(o['lb.discovery.departures']).toBe(1);
    expect(o['lb.discovery.meanStaleMs']).toBe(window);
    const bounds = stalenessBounds('crash', {
      renewal: 30_000,
      lease: 90_000,
      eviction: 60_000,
      cache: 35_000,
      fetch: 25_000,
      balancer: 20_000,
      expiry: 'eureka',
    });
    expect(window).toBeGreaterThan(bounds.best);
    expect(window).toBeLessThanOrEqual(bounds.worst);
    // Round robin over 4: a quarter of 20/s reach app-0 for the whole window, and every one fails.
    const expected = 20 * 0.25 * (window / 1000);
    expect(Math.abs(figure(o, 'lb.all.staleCalls') / expected - 1)).toBeLessThan(0.15);
    expect(o['lb.all.staleCallErrors']).toBe(o['lb.all.staleCalls']);
    expect(figure(o, 'users.all.errors.gateway-timeout')).toBe(figure(o, 'lb.all.staleCalls'));
    // Listed: 4 endpoints until the drop, then 3; one of them stale for the window.
    expect(figure(o, 'lb.all.staleEndpoints')).toBeCloseTo(window / 360_000, 6);
  });

  it('eureka, crash under self-preservation: 1 of 4 missing renewals keeps it registered for good', () => {
    const o = run(system(EUREKA, { kind: 'crash', node: 'app-0' }, { selfPreservation: true }));
    // Expected renewals (4 + 1 open-for-traffic) × 2 a minute × 0.85 = 8; 3 instances renew 6.
    expect(o['lb.discovery.undropped']).toBe(1);
    expect(o['lb.discovery.meanStaleMs']).toBeNull();
    expect(figure(o, 'lb.all.staleCalls')).toBeGreaterThan(20 * 0.25 * 250 * 0.85);
  });

  it('eureka, graceful shutdown: the cancel clears the registry at once, the caches keep it; refused at once', () => {
    const o = run(system(EUREKA, { kind: 'shutdown', node: 'app-0' }));
    const drop = eurekaShutdownTimeline(schedule, FAULT_AT);
    expect(o['lb.discovery.meanStaleMs']).toBe(drop.balancer - FAULT_AT);
    expect(drop.balancer - FAULT_AT).toBeLessThanOrEqual(
      stalenessBounds('shutdown', {
        renewal: 30_000,
        lease: 90_000,
        eviction: 60_000,
        cache: 30_000,
        fetch: 25_000,
        balancer: 20_000,
        expiry: 'eureka',
      }).worst,
    );
    expect(figure(o, 'users.all.errors.unavailable')).toBe(figure(o, 'lb.all.staleCallErrors'));
    expect(figure(o, 'lb.all.staleCalls')).toBeGreaterThan(0);
    // Refused at once: a stale call costs no timeout.
    expect(figure(o, 'users.all.p99')).toBeLessThan(20);
  });

  it('kubernetes, crash: readiness probes mark it not ready after 3 failures, kube-proxy follows 1 s later', () => {
    for (const seed of [1, 2]) {
      const o = run(system({ kind: 'kubernetes' }, { kind: 'crash', node: 'app-0' }), seed);
      const { removed } = readinessTimeline(
        { probeFirst: 0, period: 10_000, timeout: 1000, failureThreshold: 3, propagationDelay: 1000 },
        FAULT_AT,
      );
      expect(o['lb.discovery.meanStaleMs']).toBe(removed - FAULT_AT);
      const expected = 20 * 0.25 * ((removed - FAULT_AT) / 1000);
      expect(Math.abs(figure(o, 'lb.all.staleCalls') - expected)).toBeLessThan(4 * Math.sqrt(expected));
    }
  });

  it('kubernetes, a crash shorter than the probes: back before it is dropped, stale only while down', () => {
    const s = system({ kind: 'kubernetes' }, undefined) as unknown as { faults: unknown[] };
    s.faults = [{ at: FAULT_AT, for: '5s', fault: { kind: 'crash', node: 'app-0' } }];
    const o = run(s as unknown as SystemDescription);
    expect(o['lb.discovery.departures']).toBe(1);
    expect(o['lb.discovery.undropped']).toBe(0);
    expect(o['lb.discovery.meanStaleMs']).toBeNull();
    // A quarter of 20/s for the 5 s it was down.
    expect(Math.abs(figure(o, 'lb.all.staleCalls') - 25)).toBeLessThan(20);
  });

  it('kubernetes, pod deletion: without preStop the app stops while kube-proxy still routes to it; a preStop sleep covers it', () => {
    const bare = run(system({ kind: 'kubernetes' }, { kind: 'shutdown', node: 'app-0' }));
    expect(bare['lb.discovery.meanStaleMs']).toBe(1000);
    // ~5 calls to app-0 in the 1 s propagation, refused.
    expect(figure(bare, 'lb.all.staleCallErrors')).toBe(figure(bare, 'lb.all.staleCalls'));
    const covered = run(system({ kind: 'kubernetes' }, { kind: 'shutdown', node: 'app-0', preStop: '5s' }));
    expect(covered['lb.all.staleCallErrors']).toBe(0);
    expect(figure(covered, 'users.all.availability')).toBe(1);
  });

  it('no fault, no stale endpoint; the same seed gives the same digest', () => {
    const o = run(system(EUREKA, undefined));
    expect(o['lb.all.staleCalls']).toBe(0);
    expect(o['lb.discovery.departures']).toBe(0);
    expect(figure(o, 'users.all.availability')).toBe(1);
    expect(figure(o, 'lb.all.endpoints')).toBe(4);
    const digest = (seed: number) =>
      runScenario(
        defineSystemScenario({
          name: 'd',
          description: 'd',
          system: system({ kind: 'kubernetes' }, { kind: 'crash', node: 'app-0' }),
          phases: PHASES,
        }),
        { seed },
      ).digest;
    expect(digest(3)).toBe(digest(3));
    expect(digest(4)).not.toBe(digest(3));
  });

  it('conserves requests with discovery: every request answered once', () => {
    const sim = new Simulation({ seed: 2 });
    const sys = compileSystem(sim, system({ kind: 'kubernetes' }, { kind: 'crash', node: 'app-1' }));
    // The probes run for ever: the run stops with the drain after the load.
    expect(sys.runUntil).toBe(420_000 + 30_000);
    sim.run({ until: sys.runUntil! });
    const j = sys.clients.users!.stats.toJSON();
    expect(j.requests).toBeGreaterThan(7000);
    expect(j.ok + j.failed).toBe(j.requests);
    expect(sys.discovery.lb!.endpoints!.endpoints).not.toContain('app-1');
  });

  it('draws the registry', () => {
    const g = systemGraph(system(EUREKA, undefined));
    expect(g.edges.filter((e) => e.to === 'registry')).toEqual([
      { from: 'lb', to: 'registry', label: 'discover' },
      { from: 'app', to: 'registry', label: 'register' },
    ]);
  });

  it('errors name the path, the value and what is allowed', () => {
    const message = systemErrorText;
    expect(message(system(EUREKA, { kind: 'shutdown', node: 'app-0' }))).toBe('valid');
    expect(message(system({ ...EUREKA, server: 'registri' }, undefined))).toMatch(
      /nodes\.lb\.discovery\.server: no node named "registri" \(did you mean "registry"\?\)/,
    );
    expect(message(system({ ...EUREKA, server: 'app' }, undefined))).toMatch(
      /nodes\.lb\.discovery\.server: "app" is a service; a discovery server must be a eureka/,
    );
    expect(message(system({ kind: 'consul' }, undefined))).toMatch(
      /nodes\.lb\.discovery.*kind must be one of eureka, kubernetes/,
    );
    expect(message(system({ kind: 'kubernetes', period: 0 }, undefined))).toMatch(
      /nodes\.lb\.discovery\.period: must be a duration > 0/,
    );
    expect(message(system(EUREKA, { kind: 'shutdown', node: 'app-0', preStop: '5s' }))).toMatch(
      /faults\[0\]\.fault\.preStop: a Kubernetes preStop hook; "lb" discovers through eureka/,
    );
    expect(message(system(EUREKA, { kind: 'shutdown', node: 'registry' }))).toMatch(
      /faults\[0\]\.fault\.node: a graceful shutdown deregisters from discovery/,
    );
    const weighted = system(EUREKA, undefined) as unknown as { nodes: { lb: Record<string, unknown> } };
    weighted.nodes.lb.weights = { 'app-0': 2 };
    expect(message(weighted)).toMatch(/nodes\.lb\.weights: not with `discovery`/);
    const two = system(EUREKA, undefined) as unknown as { nodes: Record<string, Record<string, unknown>> };
    two.nodes.lb!.backends = ['app', 'db'];
    two.nodes.db = { kind: 'database' };
    expect(message(two)).toMatch(/nodes\.lb\.backends: with `discovery`, exactly one backend/);
    const withFor = system(EUREKA, undefined) as unknown as { faults: unknown[] };
    withFor.faults = [{ at: '10s', for: '5s', fault: { kind: 'shutdown', node: 'app-1' } }];
    expect(message(withFor)).toMatch(/faults\[0\]\.for: a graceful shutdown is for good/);
  });
});
