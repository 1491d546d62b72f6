import { createKeys, createPlacement, type PlacementSpec } from '@dsim/components';
import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import { nodeText, systemGraph } from '../src/system/graph/graph.js';
import { toMermaid } from '../src/system/graph/mermaid.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { addressesOf } from '../src/system/validate.js';
import { issuesOf } from './support/system-issues.js';

const KEYS = 600;
const SHARDS = ['cache-0', 'cache-1', 'cache-2'];
const keys = createKeys({ kind: 'uniform', count: KEYS });
const allKeys = Array.from({ length: KEYS }, (_, i) => keys.key(i));

/** 300 reads/s of 600 uniform keys through a cache of three shards that holds them all. */
function sharded(
  cache: Record<string, unknown> = {},
  faults: SystemDescription['faults'] = [],
): SystemDescription {
  return {
    nodes: {
      users: {
        kind: 'clients',
        target: 'app',
        workload: { kind: 'open', rate: 300 },
        until: '60s',
        keys: { kind: 'uniform', count: KEYS },
      },
      app: {
        kind: 'service',
        concurrency: 64,
        serviceTime: 1,
        cacheAside: { cache: 'cache', timeout: '20ms' },
        downstream: [{ to: 'db' }],
      },
      cache: { kind: 'cache', capacity: KEYS, shards: 3, ...cache },
      db: { kind: 'database', concurrency: 64, serviceTime: 2 },
    },
    network: { latency: 0.5 },
    faults,
  } as SystemDescription;
}

describe('sharded caches in system descriptions', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['the default (a ketama ring, 160 points per shard)', {}, { kind: 'ring', vnodes: 160 }],
    ['a ring of 40 points', { placement: { kind: 'ring', vnodes: 40 } }, { kind: 'ring', vnodes: 40 }],
    ['rendezvous', { placement: { kind: 'rendezvous' } }, { kind: 'rendezvous' }],
    ['maglev', { placement: { kind: 'maglev', tableSize: 251 } }, { kind: 'maglev', tableSize: 251 }],
    ['modulo', { placement: { kind: 'modulo' } }, { kind: 'modulo' }],
  ])('keys go to the shard the placement gives them: %s', (_name, cache, spec) => {
    const system = sharded(cache);
    (system.nodes.users as { until: string }).until = '20s';
    expect(addressesOf(system, 'cache')).toEqual(SHARDS);
    const sim = new Simulation({ seed: 1 });
    const sys = compileSystem(sim, system);
    const direct = createPlacement({ ...spec, nodes: SHARDS } as unknown as PlacementSpec);
    for (let i = 0; i < 5000; i++)
      expect(sys.placements.cache!.lookup(`key:${i}`)).toBe(direct.lookup(`key:${i}`));
    sim.run();
    // Every entry a shard holds is one of its own keys, and every key read is held somewhere.
    let held = 0;
    for (const shard of SHARDS) {
      const cached = [...sys.caches[shard]!.cache.keys()];
      for (const k of cached) expect(direct.lookup(k)).toBe(shard);
      held += cached.length;
    }
    expect(held).toBe(KEYS); // 6000 uniform reads of 600 keys: each read at least once (e^-10 a key)
    // Each shard's reads are its share of the keys (uniform popularity): 6000 reads, sd ≈ 0.006.
    const reads = SHARDS.map((s) => {
      const st = sys.caches[s]!.cache.stats;
      return st.hits + st.misses + st.staleHits + st.negativeHits;
    });
    const total = reads.reduce((a, b) => a + b, 0);
    SHARDS.forEach((s, i) => {
      const share = allKeys.filter((k) => direct.lookup(k) === s).length / KEYS;
      expect(Math.abs(reads[i]! / total - share)).toBeLessThan(0.025);
    });
  });

  it('a shard crash loses only its share of hits, and the shard refills after it returns', () => {
    const scenario = defineSystemScenario({
      name: 'shard-crash',
      description: 'One of three cache shards crashes for 20 s',
      system: sharded({}, [{ at: '20s', for: '20s', fault: { kind: 'crash', node: 'cache-1' } }]),
      // Figures the automatic measurement does not take: each shard's share of the reads, whole run.
      outcome: (_m, run) => {
        const reads = SHARDS.map((s) => {
          const st = run.compiled.caches[s]!.cache.stats;
          return st.hits + st.misses + st.staleHits + st.negativeHits;
        });
        const total = reads.reduce((a, b) => a + b, 0);
        return { wholeRunMaxShardShare: Math.max(...reads) / total };
      },
    });
    const o = runScenario(scenario, { seed: 1 }).outcome;
    const ring = createPlacement({ kind: 'ring', vnodes: 160, nodes: SHARDS });
    const shares = SHARDS.map((s) => allKeys.filter((k) => ring.lookup(k) === s).length / KEYS);
    const share = shares[1]!;
    const before = o['app.before.hitRatio'] as number;
    const during = o['app.during.hitRatio'] as number;
    expect(before).toBeGreaterThan(0.97); // warm, but for first reads
    // A read of the dead shard's keys times out and misses; the others hit as before. The ratio is
    // 1 − that shard's key share, up to sampling (~6000 reads: sd ≈ 0.006).
    expect(Math.abs(during / before - (1 - share))).toBeLessThan(0.02);
    // About (n − 1)/n: a ring of 160 points gives a shard 1/3 of the key space with a relative sd of
    // about 1/√160 = 8% (here cache-1's arc is 0.284), and 600 keys add a sampling sd of 0.02 (0.265).
    expect(Math.abs(during / before - 2 / 3)).toBeLessThan(0.1);
    expect(o['app.after.hitRatio'] as number).toBeGreaterThan(during);
    // The service → cache edge sums the shards: per read a lookup, and per miss of the dead shard's keys
    // a store, both failing: 2s / (1 + s) of the calls fail.
    expect(o['app->cache.before.errorRate']).toBe(0);
    expect(Math.abs((o['app->cache.during.errorRate'] as number) - (2 * share) / (1 + share))).toBeLessThan(
      0.02,
    );
    // cache-1 serves nothing for a third of the run, so the others' shares of the reads grow.
    const served = shares.map((s, i) => (i === 1 ? (2 / 3) * s : s));
    const expected = Math.max(...served) / served.reduce((a, b) => a + b, 0);
    expect(Math.abs((o.wholeRunMaxShardShare as number) - expected)).toBeLessThan(0.02);
    // Per phase, measured automatically: before, the busiest shard's key share; during, cache-1 serves
    // nothing and the busier of the other two takes its share of what is left.
    expect(Math.abs((o['cache.before.maxShardShare'] as number) - Math.max(...shares))).toBeLessThan(0.02);
    const live = Math.max(shares[0]!, shares[2]!) / (shares[0]! + shares[2]!);
    expect(Math.abs((o['cache.during.maxShardShare'] as number) - live)).toBeLessThan(0.02);
  });

  it('validation errors name the path', () => {
    const single = sharded({ shards: undefined, placement: { kind: 'maglev' } });
    expect(issuesOf(single)).toEqual([
      'nodes.cache.placement: places keys over shards: give the cache `shards` > 1, or drop it',
    ]);
    expect(issuesOf(sharded({ placement: { kind: 'rnig' } }))).toEqual([
      'nodes.cache.placement.kind: must be one of ring, rendezvous, maglev, modulo (did you mean "ring"?), got "rnig"',
    ]);
    expect(issuesOf(sharded({ placement: { kind: 'rendezvous', vnodes: 10 } }))).toEqual([
      'nodes.cache.placement.vnodes: unknown key',
    ]);
    expect(issuesOf(sharded({ placement: { kind: 'ring', vnode: 10 } }))).toEqual([
      'nodes.cache.placement.vnode: unknown key (did you mean "vnodes"?)',
    ]);
    expect(issuesOf(sharded({ placement: { kind: 'maglev', tableSize: 100 } }))).toEqual([
      'nodes.cache.placement.tableSize: must be a prime in [2, 5000011], got 100',
    ]);
    expect(issuesOf(sharded({ shards: 0 }))[0]).toMatch(/^nodes\.cache\.shards: /);
    expect(issuesOf(sharded({}, [{ at: '1s', fault: { kind: 'crash', node: 'cache' } }]))).toEqual([
      'faults[0].fault.node: no node named "cache" (did you mean "cache-0"?)',
    ]);
    const clash = sharded();
    clash.nodes['cache-1'] = { kind: 'database' };
    expect(issuesOf(clash)).toContain('nodes.cache-1: "cache-1" is also a replica\'s address');
  });

  it('the graph draws a sharded cache as one node, cache ×3', () => {
    const system = sharded({}, [{ at: '20s', for: '20s', fault: { kind: 'crash', node: 'cache-1' } }]);
    const graph = systemGraph(system);
    const cache = graph.nodes.find((n) => n.name === 'cache')!;
    expect(cache).toEqual({ name: 'cache', kind: 'cache', replicas: 3 });
    expect(nodeText(cache)).toBe('cache ×3');
    expect(graph.edges).toContainEqual({ from: 'app', to: 'cache', label: 'cache-aside' });
    expect(graph.nodes.some((n) => n.name.startsWith('cache-'))).toBe(false);
    expect(toMermaid(graph)).toContain('cache ×3');
    // A single-shard cache keeps its one address and is drawn plain.
    const one = sharded({ shards: undefined });
    expect(addressesOf(one, 'cache')).toEqual(['cache']);
    expect(nodeText(systemGraph(one).nodes.find((n) => n.name === 'cache')!)).toBe('cache');
  });
});
