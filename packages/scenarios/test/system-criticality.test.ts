import {
  ConcurrencyLimiter,
  ConcurrencyLimitProxy,
  CRITICALITIES,
  type Criticality,
  FixedLimit,
  openLoop,
  Service,
} from '@dsim/components';
import { exponential, Network, RpcEndpoint, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { SystemError, validateSystem } from '../src/system/validate.js';
import { figure } from './support/figures.js';

const nameOf = (c: Criticality) => c.toLowerCase().replace('_', '-');
const RATE = 150;

/**
 * One Poisson clients node per criticality at 150/s each (600/s) straight to `api` (4 workers of 10 ms
 * exponential: 400/s) behind a fixed limit of 20 admitting by criticality with the default shares.
 */
const overloaded = (
  criticality: unknown,
  o: { until?: string; target?: string; extra?: Record<string, unknown> } = {},
): SystemDescription =>
  ({
    nodes: {
      ...Object.fromEntries(
        CRITICALITIES.map((c) => [
          nameOf(c),
          {
            kind: 'clients',
            target: o.target ?? 'api',
            workload: { kind: 'open', rate: RATE },
            until: o.until ?? '30s',
            criticality: c,
          },
        ]),
      ),
      api: {
        kind: 'service',
        concurrency: 4,
        serviceTime: { exponential: { mean: 10 } },
        concurrencyLimit: { limit: 'fixed', max: 20, ...(criticality === undefined ? {} : { criticality }) },
      },
      ...o.extra,
    },
  }) as unknown as SystemDescription;

const PHASE = { steady: ['5s', '30s'] } as const;
const run = (s: SystemDescription, seed: number) =>
  runScenario(
    defineSystemScenario({ name: 'criticality', description: 'criticality', system: s, phases: PHASE }),
    {
      seed,
    },
  );

const SEEDS = [1, 2, 3];

/**
 * The same system built from the components by hand: the Service, a ConcurrencyLimitProxy in front of it
 * (zero-latency link) whose limiter admits by criticality, and one open loop per level whose payload is
 * its level. The refused share of each level over 5 s to 30 s.
 */
function direct(seed: number): Record<Criticality, number> {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  new Service(net.addNode('api'), { concurrency: 4, serviceTime: exponential({ mean: 10 }) });
  const limiter = new ConcurrencyLimiter({ limit: new FixedLimit(20), criticality: true });
  new ConcurrencyLimitProxy(net.addNode('api-limit'), {
    upstream: 'api',
    limiter,
    group: (r) => r.payload as Criticality,
  });
  const tally = Object.fromEntries(CRITICALITIES.map((c) => [c, { sent: 0, refused: 0 }]));
  for (const c of CRITICALITIES) {
    const endpoint = new RpcEndpoint(net.addNode(nameOf(c)));
    openLoop(sim, {
      arrivals: { kind: 'poisson', rate: RATE },
      onArrival: () => {
        const inPhase = sim.now >= 5000;
        endpoint.call('api-limit', c).onProcessed((e) => {
          if (!inPhase) return;
          tally[c]!.sent++;
          if (!e.value!.ok && e.value!.error.kind === 'overloaded') tally[c]!.refused++;
        });
      },
      until: 30_000,
      stream: `${c}/arrivals`,
    });
  }
  sim.run();
  return Object.fromEntries(CRITICALITIES.map((c) => [c, tally[c]!.refused / tally[c]!.sent])) as Record<
    Criticality,
    number
  >;
}

describe('criticality shedding in descriptions', () => {
  // Measured (seeds 1 to 3): CRITICAL_PLUS 1 to 2% refused, CRITICAL 12 to 16%, SHEDDABLE_PLUS 42 to
  // 46%, SHEDDABLE 70 to 74%; a third refused overall, as 600/s offered to 400/s must be.
  it('under overload CRITICAL_PLUS is hardly shed while SHEDDABLE takes most refusals', () => {
    const mean = Object.fromEntries(CRITICALITIES.map((c) => [c, 0])) as Record<Criticality, number>;
    const byHand = Object.fromEntries(CRITICALITIES.map((c) => [c, 0])) as Record<Criticality, number>;
    for (const seed of SEEDS) {
      const o = run(overloaded(true), seed).outcome;
      let refused = 0;
      for (const c of CRITICALITIES) {
        mean[c] += figure(o, `api.steady.limitRefusedShare.${c}`) / SEEDS.length;
        refused += figure(o, `api.steady.limitRefused.${c}`);
        // The clients' own figures agree: each node's refusals are its level's.
        expect(figure(o, `${nameOf(c)}.steady.errors.overloaded`)).toBe(
          figure(o, `api.steady.limitRefused.${c}`),
        );
      }
      // Nothing lost or double-counted: the levels add up to the limit's refusals.
      expect(refused).toBe(figure(o, 'api.steady.limitRefused'));
      const d = direct(seed);
      for (const c of CRITICALITIES) byHand[c] += d[c] / SEEDS.length;
    }
    expect(mean.CRITICAL_PLUS).toBeLessThan(0.04);
    expect(mean.SHEDDABLE).toBeGreaterThan(0.6);
    // Lower levels first: each level is refused more than the one above it.
    for (let i = 1; i < CRITICALITIES.length; i++)
      expect(mean[CRITICALITIES[i]!]).toBeGreaterThan(mean[CRITICALITIES[i - 1]!] + 0.05);
    // The description matches the component used directly, level by level.
    for (const c of CRITICALITIES) expect(Math.abs(mean[c] - byHand[c]), c).toBeLessThan(0.03);
  });

  it('without criticality every level is refused alike', () => {
    // The same load to a limit that ignores levels: a test that would pass without the shares fails here.
    const o = run(overloaded(undefined), 1).outcome;
    const shares = CRITICALITIES.map(
      (c) => figure(o, `${nameOf(c)}.steady.errors.overloaded`) / figure(o, `${nameOf(c)}.steady.requests`),
    );
    expect(Math.max(...shares) - Math.min(...shares)).toBeLessThan(0.04);
    expect(o['api.steady.limitRefusedShare.SHEDDABLE']).toBeUndefined();
  });

  it('the level travels through a gateway, a balancer, a downstream call and the mesh', () => {
    // clients -> gateway -> lb -> front (2 replicas) -> sidecars -> api: the limit at api still tells the
    // levels apart.
    const s = overloaded(true, {
      target: 'gw',
      extra: {
        gw: { kind: 'gateway', routes: [{ name: 'x', path: '/x', to: 'lb' }] },
        lb: { kind: 'balancer', backends: ['front'] },
        front: {
          kind: 'service',
          replicas: 2,
          concurrency: 1000,
          serviceTime: 0,
          downstream: [{ to: 'api' }],
        },
      },
    }) as unknown as { nodes: Record<string, Record<string, unknown>> };
    for (const c of CRITICALITIES) s.nodes[nameOf(c)]!.requests = [{ path: '/x' }];
    // SHEDDABLE's requests are SHEDDABLE_PLUS by their entry: an entry's level wins over the node's.
    s.nodes.sheddable!.requests = [{ path: '/x', criticality: 'SHEDDABLE_PLUS' }];
    // front's calls to api cross two Istio sidecars.
    (s as unknown as { mesh: unknown }).mesh = { sidecar: 'istio-1.12.3' };
    const o = run(s as unknown as SystemDescription, 1).outcome;
    expect(figure(o, 'front->api.steady.rate')).toBeGreaterThan(500);
    // The mesh's default retries (Istio's, on 503s) add attempts: CRITICAL_PLUS sees 4.7% refused, not 1 to 2%.
    expect(figure(o, 'api.steady.limitRefusedShare.CRITICAL_PLUS')).toBeLessThan(0.08);
    expect(figure(o, 'api.steady.limitRefusedShare.SHEDDABLE_PLUS')).toBeGreaterThan(0.5);
    expect(figure(o, 'api.steady.limitRefused.SHEDDABLE')).toBe(0);
    // The sheddable clients now fare as the SHEDDABLE_PLUS ones.
    expect(
      Math.abs(figure(o, 'sheddable.steady.availability') - figure(o, 'sheddable-plus.steady.availability')),
    ).toBeLessThan(0.05);
  });

  it('keys and cache-aside keep working: a boxed key reads as the key', () => {
    const sim = new Simulation({ seed: 3 });
    const s = overloaded(true, { until: '5s' }) as unknown as {
      nodes: Record<string, Record<string, unknown>>;
    };
    s.nodes.sheddable!.keys = { kind: 'uniform', count: 10 };
    s.nodes.sheddable!.target = 'reader';
    s.nodes.reader = {
      kind: 'service',
      concurrency: 100,
      serviceTime: 0,
      cacheAside: { cache: 'cache' },
      downstream: [{ to: 'api' }],
    };
    s.nodes.cache = { kind: 'cache', capacity: 100 };
    const sys = compileSystem(sim, s);
    sim.run();
    // Ten keys: after the first misses, reads hit (a "[object Object]" key would hit from the second read on).
    const aside = sys.asides.reader!;
    expect(aside.stats.misses).toBeGreaterThanOrEqual(10);
    expect(aside.stats.hits).toBeGreaterThan(0.9 * aside.stats.reads);
    expect(sys.caches.cache!.cache.size).toBe(10);
  });

  it('gives the same digest for the same seed, another for another seed', () => {
    const s = overloaded(true, { until: '10s' });
    const p = { steady: ['2s', '10s'] } as const;
    const go = (seed: number) =>
      runScenario(defineSystemScenario({ name: 'c', description: 'c', system: s, phases: p }), { seed });
    const a = go(7);
    expect(go(7).digest).toBe(a.digest);
    expect(go(7).outcome).toEqual(a.outcome);
    expect(go(8).digest).not.toBe(a.digest);
  });

  it('validation names the path, the value and what is allowed', () => {
    const message = (limitLevels: unknown, clients: Record<string, unknown> = {}) => {
      const s = overloaded(limitLevels) as unknown as { nodes: Record<string, Record<string, unknown>> };
      Object.assign(s.nodes.sheddable!, clients);
      try {
        validateSystem(s);
        compileSystem(new Simulation({ seed: 1 }), s);
      } catch (e) {
        if (e instanceof SystemError) return e.message;
        throw e;
      }
      return 'valid';
    };
    expect(message({ SHEDDABLE: 0.5 })).toBe('valid');
    expect(message(true, { criticality: 'SHEDABLE' })).toMatch(
      /nodes\.sheddable\.criticality: .*got "SHEDABLE" \(did you mean "SHEDDABLE"\?\)/,
    );
    expect(message({ SHEDDABLE_PLSU: 0.5 })).toMatch(
      /nodes\.api\.concurrencyLimit\.criticality\.SHEDDABLE_PLSU: unknown key \(did you mean "SHEDDABLE_PLUS"\?\)/,
    );
    expect(message({ SHEDDABLE: 0 })).toMatch(
      /nodes\.api\.concurrencyLimit\.criticality\.SHEDDABLE: .*got 0/,
    );
    expect(message(false)).toMatch(/nodes\.api\.concurrencyLimit\.criticality: .*got false/);
    // The component's own check (shares must not grow as the level falls) still names the path.
    expect(message({ CRITICAL: 0.5, SHEDDABLE_PLUS: 0.8 })).toMatch(
      /nodes\.api\.concurrencyLimit: .*criticality\.SHEDDABLE_PLUS must be a share <= CRITICAL's \(0\.5\).*got 0\.8/,
    );
    expect(message({ CRITICAL_PLUS: 0.9 })).toMatch(/nodes\.api\.concurrencyLimit: .*CRITICAL_PLUS.*0\.9/);
    expect(message(true, { requests: [{ path: '/x', criticality: 'LOW' }] })).toMatch(
      /nodes\.sheddable\.requests\[0\]\.criticality: .*got "LOW"/,
    );
  });
});
