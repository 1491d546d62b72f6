import { readinessTimeline, tickAfter, tickAtOrAfter } from '@dsim/components';
import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { figure } from './support/figures.js';
import { systemErrorText } from './support/system-issues.js';

const FAULT_AT = 155_000;

/**
 * 20 requests/s from 60 s to 420 s through a balancer whose backends (4 replicas of `app`) come from DNS
 * discovery; `fault` hits app-0 at 155 s.
 */
const system = (
  discovery: Record<string, unknown>,
  fault: Record<string, unknown> | undefined,
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
      lb: { kind: 'balancer', backends: ['app'], timeout: '500ms', discovery: { kind: 'dns', ...discovery } },
      app: { kind: 'service', replicas: 4, concurrency: 8, serviceTime: 5 },
    },
    ...(fault === undefined ? {} : { faults: [{ at: FAULT_AT, fault }] }),
  }) as unknown as SystemDescription;

const PHASES = { all: ['60s', '420s'] } as const;

const runFull = (s: SystemDescription, seed = 1) =>
  runScenario(defineSystemScenario({ name: 'dns', description: 'dns', system: s, phases: PHASES }), { seed });
const run = (s: SystemDescription, seed = 1) => runFull(s, seed).outcome;

/**
 * The documented rules, derived here: the resolver queries at the start (0) and then at the first
 * refresh tick (every `refresh`, from 0) at or after its cached answer expired (`cache` after the
 * query; a lookup at the expiry instant misses: the entry is fresh while now < expiry). With zero
 * latency the balancer's list follows each answer at once, so it drops a record at the first query
 * strictly after the server stopped answering it (`removedAt`). Assumes no query at `removedAt` itself.
 */
function dnsDropAt(refresh: number, cache: number, removedAt: number): number {
  let query = 0;
  while (query <= removedAt) query = nextQuery(refresh, cache, query);
  return query;
}

/** The refresh tick after `query` at which its cached answer has expired. */
function nextQuery(refresh: number, cache: number, query: number): number {
  return Math.max(tickAfter(0, refresh, query), tickAtOrAfter(0, refresh, query + cache));
}

describe('dns discovery in front of a balancer', () => {
  it('graceful shutdown: stale for the record propagation + the cached answer + the refresh, exactly', () => {
    // The JVM's 30 s cache whatever the 5 s TTL, a 7 s refresh, a 2 s record propagation: queries at
    // 0, 35, 70, 105, 140, 175 s; the record leaves the server at 157 s, the 175 s answer drops it.
    const jvm = { ttl: '5s', cacheTtl: '30s', refreshInterval: '7s', propagationDelay: '2s' };
    const drop = dnsDropAt(7000, 30_000, FAULT_AT + 2000);
    expect(drop).toBe(175_000);
    for (const seed of [1, 2]) {
      const o = run(system(jvm, { kind: 'shutdown', node: 'app-0' }), seed);
      expect(o['lb.discovery.departures']).toBe(1);
      expect(o['lb.discovery.meanStaleMs']).toBe(drop - FAULT_AT);
      // Round robin over 4: a quarter of 20/s reach app-0 for the 20 s, all refused at once.
      const expected = 20 * 0.25 * ((drop - FAULT_AT) / 1000);
      expect(Math.abs(figure(o, 'lb.all.staleCalls') / expected - 1)).toBeLessThan(0.15);
      expect(o['lb.all.staleCallErrors']).toBe(o['lb.all.staleCalls']);
      expect(figure(o, 'users.all.errors.unavailable')).toBe(figure(o, 'lb.all.staleCalls'));
      expect(figure(o, 'lb.all.staleEndpoints')).toBeCloseTo((drop - FAULT_AT) / 360_000, 6);
      expect(figure(o, 'users.all.p99')).toBeLessThan(20);
    }
    // Honouring the 5 s TTL instead: a query every 7 s tick, the one at 161 s drops it. A model that
    // ignored the client's own cache would predict this for the JVM system, and be caught above.
    const ttl = { ttl: '5s', refreshInterval: '7s', propagationDelay: '2s' };
    const short = dnsDropAt(7000, 5000, FAULT_AT + 2000);
    expect(short).toBe(161_000);
    const o = run(system(ttl, { kind: 'shutdown', node: 'app-0' }));
    expect(o['lb.discovery.meanStaleMs']).toBe(short - FAULT_AT);
    expect(o['lb.discovery.meanStaleMs']).not.toBe(drop - FAULT_AT);
  });

  it('the resolver queries the server only when its cached answer expired', () => {
    const sim = new Simulation({ seed: 1 });
    const sys = compileSystem(sim, system({ ttl: '5s', cacheTtl: '30s', refreshInterval: '7s' }, undefined));
    sim.run({ until: sys.runUntil! });
    const h = sys.discovery.lb!;
    // Queries at 0, 35, 70, ... up to the end (450 s): one per 35 s, the other refreshes hit the cache.
    let queries = 0;
    for (let q = 0; q <= 450_000; q = nextQuery(7000, 30_000, q)) queries++;
    expect(h.resolver!.stats.queries).toBe(queries);
    expect(h.dnsServer!.queries).toBe(queries);
    expect(h.resolver!.stats.lookups).toBe(Math.floor(450_000 / 7000) + 1);
    expect(h.source.endpoints).toEqual(['app-0', 'app-1', 'app-2', 'app-3']);
  });

  it('crash without readiness: the A record stays, every call to it times out until the end', () => {
    const o = run(system({}, { kind: 'crash', node: 'app-0' }));
    expect(o['lb.discovery.departures']).toBe(1);
    expect(o['lb.discovery.undropped']).toBe(1);
    expect(o['lb.discovery.meanStaleMs']).toBeNull();
    const expected = 20 * 0.25 * ((420_000 - FAULT_AT) / 1000);
    expect(Math.abs(figure(o, 'lb.all.staleCalls') / expected - 1)).toBeLessThan(0.1);
    expect(o['lb.all.staleCallErrors']).toBe(o['lb.all.staleCalls']);
    expect(figure(o, 'users.all.errors.gateway-timeout')).toBe(figure(o, 'lb.all.staleCalls'));
  });

  it('crash with readiness (a headless Service): probes, the record propagation, then the CoreDNS 5 s TTL', () => {
    for (const seed of [1, 2]) {
      const o = run(
        system({ readiness: {}, propagationDelay: '1s' }, { kind: 'crash', node: 'app-0' }),
        seed,
      );
      // The probe at 160 s and two more fail, the third's timeout at 181 s; CoreDNS answers without it
      // from 182 s; the 5 s cache and refresh query at every 5 s tick: the 185 s answer drops it.
      const { removed } = readinessTimeline(
        { probeFirst: 0, period: 10_000, timeout: 1000, failureThreshold: 3, propagationDelay: 1000 },
        FAULT_AT,
      );
      expect(removed).toBe(182_000);
      const drop = dnsDropAt(5000, 5000, removed);
      expect(drop).toBe(185_000);
      expect(o['lb.discovery.meanStaleMs']).toBe(drop - FAULT_AT);
      const expected = 20 * 0.25 * ((drop - FAULT_AT) / 1000);
      expect(Math.abs(figure(o, 'lb.all.staleCalls') - expected)).toBeLessThan(4 * Math.sqrt(expected));
      expect(o['lb.all.staleCallErrors']).toBe(o['lb.all.staleCalls']);
    }
  });

  it('pod deletion with readiness: a preStop sleep longer than the DNS window serves every stale call', () => {
    const k8s = { readiness: {}, propagationDelay: '1s' };
    const bare = run(system(k8s, { kind: 'shutdown', node: 'app-0' }));
    // Not ready at 155 s, out of CoreDNS's answers at 156 s, the 160 s answer drops it: 5 s refused.
    expect(bare['lb.discovery.meanStaleMs']).toBe(dnsDropAt(5000, 5000, FAULT_AT + 1000) - FAULT_AT);
    expect(bare['lb.discovery.meanStaleMs']).toBe(5000);
    expect(figure(bare, 'lb.all.staleCallErrors')).toBeGreaterThan(0);
    const covered = run(system(k8s, { kind: 'shutdown', node: 'app-0', preStop: '10s' }));
    expect(covered['lb.all.staleCallErrors']).toBe(0);
    expect(figure(covered, 'users.all.availability')).toBe(1);
  });

  it('no fault, nothing stale; conservation; the same seed gives the same digest', () => {
    const o = run(system({}, undefined));
    expect(o['lb.all.staleCalls']).toBe(0);
    expect(figure(o, 'users.all.availability')).toBe(1);
    expect(figure(o, 'lb.all.endpoints')).toBe(4);
    const sim = new Simulation({ seed: 2 });
    const sys = compileSystem(sim, system({ readiness: {} }, { kind: 'crash', node: 'app-1' }));
    expect(sys.runUntil).toBe(420_000 + 30_000);
    sim.run({ until: sys.runUntil! });
    const j = sys.clients.users!.stats.toJSON();
    expect(j.ok + j.failed).toBe(j.requests);
    expect(sys.discovery.lb!.source.endpoints).not.toContain('app-1');
    const s = system({ readiness: {} }, { kind: 'crash', node: 'app-0' });
    expect(runFull(s, 3).digest).toBe(runFull(s, 3).digest);
    expect(runFull(s, 4).digest).not.toBe(runFull(s, 3).digest);
  });

  it('errors name the path, the value and what is allowed', () => {
    const message = systemErrorText;
    expect(message(system({ readiness: {} }, { kind: 'shutdown', node: 'app-0', preStop: '5s' }))).toBe(
      'valid',
    );
    expect(message(system({ refreshIntervall: '5s' }, undefined))).toMatch(
      /nodes\.lb\.discovery\.refreshIntervall: unknown key \(did you mean "refreshInterval"\?\)/,
    );
    expect(message(system({ readiness: { perod: '5s' } }, undefined))).toMatch(
      /nodes\.lb\.discovery\.readiness\.perod: unknown key \(did you mean "period"\?\)/,
    );
    expect(message(system({ refreshInterval: 0 }, undefined))).toMatch(
      /nodes\.lb\.discovery\.refreshInterval: must be a duration > 0/,
    );
    expect(message(system({ cacheTtl: 'forever' }, undefined))).toMatch(/nodes\.lb\.discovery\.cacheTtl/);
    expect(message(system({ ttl: -1 }, undefined))).toMatch(
      /nodes\.lb\.discovery\.ttl: must be a duration >= 0/,
    );
    expect(message(system({ kind: 'dsn' }, undefined))).toMatch(
      /nodes\.lb\.discovery.*kind must be one of eureka, kubernetes, dns/,
    );
    expect(message(system({}, { kind: 'shutdown', node: 'app-0', preStop: '5s' }))).toMatch(
      /faults\[0\]\.fault\.preStop: a Kubernetes preStop hook; "lb" discovers through dns without `readiness`/,
    );
  });
});
