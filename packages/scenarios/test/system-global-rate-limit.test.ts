import { localAdmitted, syncedOverAdmissionBound } from '@dsim/components';
import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import { systemGraph } from '../src/system/graph/graph.js';
import { toMermaid } from '../src/system/graph/mermaid.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { SystemError, validateSystem } from '../src/system/validate.js';
import { figure } from './support/figures.js';

const SEEDS = [1, 2, 3];
const LIMIT = 400;
const RATE = 600;

/**
 * 600 requests/s through a balancer to four replicas of `api` that share a global limit of 400 per
 * second; `weights` skews the balancer; the store is 0.5 ms away.
 */
const system = (
  globalRateLimit: Record<string, unknown>,
  o: { weights?: Record<string, number> | undefined; faults?: unknown[] } = {},
): SystemDescription =>
  ({
    nodes: {
      users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: RATE }, until: '10s' },
      lb: {
        kind: 'balancer',
        backends: ['api'],
        ...(o.weights === undefined ? {} : { policy: 'weighted-round-robin', weights: o.weights }),
      },
      api: {
        kind: 'service',
        replicas: 4,
        concurrency: 64,
        serviceTime: 1,
        globalRateLimit: { limit: LIMIT, ...globalRateLimit },
      },
      limits: { kind: 'rate-limit-store' },
    },
    network: { edges: { 'api->limits': { latency: 0.5 } } },
    ...(o.faults === undefined ? {} : { faults: o.faults }),
  }) as unknown as SystemDescription;

const ALL = { all: [0, '10s'] } as const;

const run = (
  s: SystemDescription,
  seed: number,
  phases: Record<string, readonly [number | string, string]> = ALL,
) =>
  runScenario(defineSystemScenario({ name: 'global', description: 'global limit', system: s, phases }), {
    seed,
  }).outcome;

const SKEW = { 'api-0': 5, 'api-1': 1, 'api-2': 1, 'api-3': 1 };

describe('global rate limits over a replicated service', () => {
  it('central: the limit holds exactly whatever the spread, at one store call per request', () => {
    for (const seed of SEEDS)
      for (const weights of [undefined, SKEW]) {
        const o = run(system({ kind: 'central', store: 'limits' }, { weights }), seed);
        expect(o['api.all.limitWindows']).toBe(10);
        // 600/s offered, 400 admitted per window; only the requests crossing a window edge during their
        // 1 ms check land on the other side of it.
        expect(Math.abs(figure(o, 'api.all.globalAdmitted') - LIMIT)).toBeLessThan(3);
        expect(figure(o, 'api.all.overAdmitted')).toBeLessThan(10);
        expect(figure(o, 'api.all.underAdmitted')).toBeLessThan(10);
        const offered = figure(o, 'users.all.requests');
        expect(o['api.all.storeCalls']).toBe(offered);
        expect(figure(o, 'api->limits.all.rate')).toBeCloseTo(offered / 10, 6);
        // Refused ones are 429s (`rejected`) at the users (a request sent just before the end is decided
        // just after it: counted at the users, not in the limiter's reading at 10 s).
        expect(
          Math.abs(figure(o, 'users.all.errors.rejected') - figure(o, 'api.all.limitRejected')),
        ).toBeLessThanOrEqual(2);
        // Each admitted request waited one round trip to the store (~1 ms) before its 1 ms of service.
        expect(figure(o, 'users.all.p50')).toBeGreaterThan(1.9);
      }
  });

  it('local-share: never above the limit, and short of it by what theory says under skew', () => {
    for (const seed of SEEDS) {
      const even = run(system({ kind: 'local-share' }), seed);
      // Round robin: 150/s per replica against a share of 100: the full 400.
      expect(Math.abs(figure(even, 'api.all.globalAdmitted') - LIMIT)).toBeLessThan(2);
      expect(even['api.all.storeCalls']).toBe(0);
      const skewed = run(system({ kind: 'local-share' }, { weights: SKEW }), seed);
      // 375, 75, 75, 75 per second against 100 each: Σ min = 325, 75 short of the limit.
      const theory = localAdmitted([375, 75, 75, 75], LIMIT / 4);
      expect(theory).toBe(325);
      expect(Math.abs(figure(skewed, 'api.all.globalAdmitted') - theory)).toBeLessThan(12);
      expect(figure(skewed, 'api.all.overAdmitted')).toBe(0);
      expect(Math.abs(figure(skewed, 'api.all.underAdmitted') / 10 - (LIMIT - theory))).toBeLessThan(12);
    }
  });

  it('synced: over-admits within rate × (2 × syncInterval + RTT) per window, less with a shorter interval', () => {
    const over = (syncInterval: number, seed: number) =>
      run(system({ kind: 'synced', store: 'limits', syncInterval }, { weights: SKEW }), seed);
    for (const seed of SEEDS) {
      const slow = over(100, seed);
      const bound = syncedOverAdmissionBound({
        instances: 4,
        arrivalsPerSecond: RATE,
        syncIntervalMs: 100,
        roundTripMs: 1,
      });
      const perWindow = figure(slow, 'api.all.overAdmitted') / 10;
      expect(perWindow).toBeGreaterThan(10);
      expect(perWindow).toBeLessThanOrEqual(bound);
      // No request waits for the store: latency is the service's alone.
      expect(figure(slow, 'users.all.p99')).toBeLessThan(1.01);
      // One sync per replica per interval while it has traffic: ~4 × 10/s × 10 s.
      expect(Math.abs(figure(slow, 'api.all.storeCalls') - 400)).toBeLessThan(10);
      const fast = over(10, seed);
      expect(figure(fast, 'api.all.overAdmitted')).toBeLessThan(figure(slow, 'api.all.overAdmitted') / 3);
    }
  });

  it('central under a partition: fail open admits everything, fail closed refuses everything', () => {
    const faults = [
      {
        at: '3s',
        for: '2s',
        fault: { kind: 'partition', a: ['limits'], b: ['api-0', 'api-1', 'api-2', 'api-3'] },
      },
    ];
    const phases = { before: [0, '3s'], during: ['3s', '5s'], after: ['5s', '10s'] } as const;
    for (const seed of SEEDS) {
      const open = run(system({ kind: 'central', store: 'limits' }, { faults }), seed, phases);
      // Every request in the partition waits the 20 ms timeout, then is admitted: ~600/s, 200 over.
      expect(figure(open, 'api.during.failedOpen')).toBeGreaterThan(1000);
      expect(Math.abs(figure(open, 'api.during.globalAdmitted') - RATE)).toBeLessThan(40);
      expect(figure(open, 'api.during.overAdmitted') / 2).toBeGreaterThan(160);
      expect(figure(open, 'users.during.p50')).toBeGreaterThan(20);
      expect(figure(open, 'api.after.overAdmitted')).toBeLessThan(10);
      const closed = run(
        system({ kind: 'central', store: 'limits', failureMode: 'closed' }, { faults }),
        seed,
        phases,
      );
      expect(figure(closed, 'api.during.globalAdmitted')).toBe(0);
      // Refused as `unavailable` at the users; the 20 ms wait moves up to ~12 across each phase edge.
      expect(
        Math.abs(
          figure(closed, 'api.during.failedClosed') - figure(closed, 'users.during.errors.unavailable'),
        ),
      ).toBeLessThan(30);
      expect(figure(closed, 'users.during.availability')).toBe(0);
      expect(Math.abs(figure(closed, 'api.after.globalAdmitted') - LIMIT)).toBeLessThan(3);
    }
  });

  it('conserves decisions: every request is admitted or refused once', () => {
    for (const kind of ['local-share', 'central', 'synced'] as const) {
      const sim = new Simulation({ seed: 4 });
      const extra =
        kind === 'local-share'
          ? {}
          : kind === 'central'
            ? { store: 'limits' }
            : { store: 'limits', syncInterval: 50 };
      const sys = compileSystem(sim, system({ kind, ...extra }, { weights: SKEW }));
      sim.run();
      const h = sys.globalLimits.api!;
      const t = h.accuracy.totals();
      const sent = sys.clients.users!.stats.toJSON().requests;
      expect(t.offered).toBe(sent);
      let admitted = 0;
      for (const l of Object.values(h.limiters)) {
        expect(l.stats.pending).toBe(0);
        admitted += l.stats.admitted;
      }
      expect(admitted).toBe(t.admitted);
    }
  });

  it('draws the store and its calls', () => {
    const g = systemGraph(system({ kind: 'central', store: 'limits' }));
    expect(g.edges.filter((e) => e.to === 'limits')).toEqual([{ from: 'api', to: 'limits', label: 'limit' }]);
    expect(toMermaid(g)).toContain('classDef rate_limit_storeKind');
    expect(systemGraph(system({ kind: 'local-share' })).edges.some((e) => e.label === 'limit')).toBe(false);
  });

  it('same seed, same digest; another seed, another', () => {
    const digest = (seed: number) =>
      runScenario(
        defineSystemScenario({
          name: 'global',
          description: 'global limit',
          system: system({ kind: 'synced', store: 'limits', syncInterval: 100 }),
          phases: ALL,
        }),
        { seed },
      ).digest;
    expect(digest(7)).toBe(digest(7));
    expect(digest(8)).not.toBe(digest(7));
  });

  it('errors name the path, the value and what is allowed', () => {
    const message = (g: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      const s = system(g) as unknown as { nodes: Record<string, Record<string, unknown>> };
      Object.assign(s.nodes.api!, extra);
      try {
        validateSystem(s);
      } catch (e) {
        if (e instanceof SystemError) return e.message;
        throw e;
      }
      return 'valid';
    };
    expect(message({ kind: 'central', store: 'limits' })).toBe('valid');
    expect(message({ kind: 'centrale', store: 'limits' })).toMatch(
      /nodes\.api\.globalRateLimit.*kind must be one of local-share, central, synced/,
    );
    expect(message({ kind: 'central', store: 'limitz' })).toMatch(
      /nodes\.api\.globalRateLimit\.store: no node named "limitz" \(did you mean "limits"\?\)/,
    );
    expect(message({ kind: 'central', store: 'lb' })).toMatch(
      /nodes\.api\.globalRateLimit\.store: "lb" is a balancer; a rate limit store must be a rate-limit-store/,
    );
    expect(message({ kind: 'local-share', store: 'limits' })).toMatch(/nodes\.api\.globalRateLimit.*store/);
    expect(message({ kind: 'synced', store: 'limits' })).toMatch(/nodes\.api\.globalRateLimit\.syncInterval/);
    expect(message({ kind: 'local-share', limit: 3 })).toMatch(
      /nodes\.api\.globalRateLimit\.limit: must be at least the replicas \(4\).*got 3/,
    );
    expect(message({ kind: 'central', store: 'limits', failureMode: 'ajar' })).toMatch(
      /nodes\.api\.globalRateLimit\.failureMode/,
    );
    expect(
      message(
        { kind: 'local-share' },
        { rateLimit: { kind: 'token-bucket', capacity: 10, refillPerSecond: 10 } },
      ),
    ).toMatch(/nodes\.api\.globalRateLimit: a service has one admission limit/);
    // Two services with different limits in one store.
    const two = system({ kind: 'central', store: 'limits' }) as unknown as { nodes: Record<string, unknown> };
    two.nodes.other = {
      kind: 'service',
      serviceTime: 1,
      globalRateLimit: { kind: 'central', store: 'limits', limit: 50 },
    };
    (two.nodes.users as { target: string }).target = 'lb';
    expect(
      (() => {
        try {
          validateSystem(two);
        } catch (e) {
          return (e as Error).message;
        }
        return 'valid';
      })(),
    ).toMatch(
      /nodes\.other\.globalRateLimit: store "limits" counts one limit, and "api" gives it 400 per 1000 ms; got 50/,
    );
  });
});
