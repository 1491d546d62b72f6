import { readFileSync } from 'node:fs';
import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { retryStormSystem } from '../../../examples/systems/retry-storm.scenario.js';
import { threeTierSystemScenario } from '../../../examples/systems/three-tier.scenario.js';
import { retryStorm } from '../src/catalogue/retry-storm.js';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import { SystemMeasurement } from '../src/system/measure.js';
import { systemPhases } from '../src/system/phases.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';

const lines = (file: string) => {
  const ts = readFileSync(new URL(`../../../examples/systems/${file}`, import.meta.url), 'utf8').split('\n');
  return ts
    .slice(ts.indexOf('// --- scenario ---') + 1, ts.indexOf('// --- end ---'))
    .filter((l) => l.trim() !== '');
};

/** A small system: 50/s against one server that pauses for 1 s at 4 s; 10 s of load. */
const small: SystemDescription = {
  nodes: {
    users: {
      kind: 'clients',
      target: 'api',
      workload: { kind: 'open', rate: 50 },
      until: '10s',
      timeout: '300ms',
      retries: 2,
    },
    api: { kind: 'service', concurrency: 2, serviceTime: { exponential: { mean: 20 } } },
  },
  faults: [{ at: '4s', for: '1s', fault: { kind: 'pause', node: 'api' } }],
};
const withFaults = (faults: SystemDescription['faults']): SystemDescription => ({ ...small, faults });

describe('retry-storm as a system scenario', () => {
  it('takes at most 20 lines', () => {
    expect(lines('retry-storm.scenario.ts').length).toBeLessThanOrEqual(20);
  });
  it.each([1, 2])('seed %i: reproduces the built-in naive variant within its tolerances', (seed) => {
    const ours = runScenario(retryStormSystem, { seed }).outcome as Record<string, number>;
    const builtIn = runScenario(retryStorm, { seed, variants: ['naive'] }).outcome as Record<string, number>;
    // Metastable: the built-in's "recovered" is goodput after >= 0.9 lambda.
    expect(builtIn.goodputAfter).toBeLessThan(0.9 * 70);
    expect(ours['client.after.goodput']).toBeLessThan(0.9 * 70);
    expect(ours['client.after.goodput']).toBeCloseTo(builtIn.goodputAfter!, 0);
    // The built-in test's tolerance: amplification within 5% of 4.
    expect(Math.abs(ours['client.after.amplification']! - 4) / 4).toBeLessThan(0.05);
    expect(Math.abs(ours['client.after.amplification']! - builtIn.amplification!) / 4).toBeLessThan(0.05);
    expect(Math.abs(ours['client.before.goodput']! - builtIn.goodputBefore!)).toBeLessThan(0.05 * 70);
    expect(ours['client.after.errors.timeout']).toBe(ours['client.after.requests']);
    // The server: ρ = 0.7 before; saturated, answering callers that left, after.
    expect(ours['server.before.utilisation']).toBeGreaterThan(0.6);
    expect(ours['server.before.utilisation']).toBeLessThan(0.8);
    expect(ours['server.after.utilisation']).toBeGreaterThan(0.99);
    expect(ours['server.after.goodput']).toBeGreaterThan(90);
    expect(ours['server.after.queue']).toBeGreaterThan(1000);
  });
  it('the phases from the fault schedule reach the same verdict', () => {
    const byFaults = defineSystemScenario({
      name: 'retry-storm-default-phases',
      description: 'default phases',
      system: new URL('../../../examples/systems/retry-storm.yaml', import.meta.url),
    });
    const o = runScenario(byFaults, { seed: 1 }).outcome;
    expect(Object.keys(o).filter((k) => k.startsWith('client.') && k.endsWith('.requests'))).toEqual([
      'client.before.requests',
      'client.during.requests',
      'client.after.requests',
    ]);
    expect(o['client.after.goodput']).toBeLessThan(0.1 * 70);
    expect(o['client.after.amplification']).toBeCloseTo(4, 1);
  });
});

describe('three-tier as a system scenario', () => {
  it('takes at most 30 lines', () => {
    expect(lines('three-tier.scenario.ts').length).toBeLessThanOrEqual(30);
  });
  it('checks p99 and availability before, during and after, for both variants', () => {
    const r = runScenario(threeTierSystemScenario, { seed: 1 });
    expect(r.checks.length).toBe(12);
    for (const c of r.checks) expect(c.pass, `${c.name}: ${c.detail}`).toBe(true);
    expect(r.checks[2]!.detail).toMatch(/^users\.before\.availability = /);
    expect(r.outcome['users.during.p99']).toBeGreaterThan(10 * (r.outcome['users.before.p99'] as number));
  }, 120_000);
});

describe('the automatic measurement agrees with an independent tally', () => {
  it('per-phase request counts and p99 match the client RequestStats windows and a raw tally', () => {
    const sim = new Simulation({ seed: 7 });
    const phases = systemPhases(small);
    expect(phases.map((p) => [p.name, p.fromMs, p.toMs])).toEqual([
      ['before', 1000, 4000],
      ['during', 4000, 5000],
      ['after', 5000, 10_000],
    ]);
    const m = new SystemMeasurement(sim, phases);
    const raw: Array<{ at: number; latency: number; ok: boolean; attempts: number }> = [];
    const windows = Object.fromEntries(phases.map((p) => [p.name, [p.fromMs, p.toMs] as const]));
    const sys = compileSystem(sim, small, {
      windows,
      onResponse: (c, at, r) => {
        m.onResponse(c, at, r);
        raw.push({ at, latency: r.latency, ok: r.ok, attempts: r.attempts });
      },
    });
    m.watch(sys);
    sim.run();
    const o = m.outcome();
    for (const p of phases) {
      const w = sys.windows[p.name]!.toJSON();
      const mine = raw.filter((r) => r.at >= p.fromMs && r.at < p.toMs);
      expect(o[`users.${p.name}.requests`]).toBe(w.requests);
      expect(o[`users.${p.name}.requests`]).toBe(mine.length);
      expect(o[`users.${p.name}.availability`]).toBeCloseTo(mine.filter((r) => r.ok).length / mine.length, 9);
      expect(o[`users.${p.name}.p99`]).toBeCloseTo(w.latencyMs.p99, 6);
      // Exact order statistic against the histogram's estimate (log buckets: within 2%).
      const sorted = mine.map((r) => r.latency).sort((a, b) => a - b);
      const exact = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
      expect(Math.abs((o[`users.${p.name}.p99`] as number) - exact) / exact).toBeLessThan(0.02);
      const attempts = mine.reduce((s, r) => s + r.attempts, 0);
      expect(o[`users.${p.name}.amplification`]).toBeCloseTo(attempts / mine.length, 9);
    }
    // The pause makes retries: some requests during it fail, none before.
    expect(o['users.before.availability']).toBe(1);
    expect(o['users.during.retries'] as number).toBeGreaterThan(0);
    // The server: nothing arrives while paused (deliveries wait), utilisation within [0, 1].
    expect(o['api.during.utilisation']).toBeGreaterThanOrEqual(0);
    expect(o['api.before.utilisation']).toBeLessThanOrEqual(1);
  });
  it('the scenario gives the same outcome as measuring by hand, and is deterministic', () => {
    const s = defineSystemScenario({ name: 'small', description: 'small', system: small });
    const a = runScenario(s, { seed: 7 });
    expect(runScenario(s, { seed: 7 }).digest).toBe(a.digest);
    const sim = new Simulation({ seed: '7' });
    const m = new SystemMeasurement(sim, systemPhases(small));
    m.watch(
      compileSystem(sim, small, { onResponse: m.onResponse, onEdge: m.onEdge, onAttempt: m.onAttempt }),
    );
    sim.run();
    expect(a.outcome).toEqual(JSON.parse(JSON.stringify(roundAll(m.outcome()))));
  });
});

function roundAll(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(9)) : v]),
  );
}

describe('phases', () => {
  it('one phase per fault, named by node when the nodes differ, else numbered', () => {
    const two = (a: string, b: string) =>
      systemPhases(
        withFaults([
          { at: '6s', for: '1s', fault: { kind: 'crash', node: a } },
          { at: '3s', for: '1s', fault: { kind: 'crash', node: b } },
        ]),
      ).map((p) => p.name);
    expect(two('api', 'users')).toEqual(['before', 'during-users', 'during-api', 'after']);
    expect(two('api', 'api')).toEqual(['before', 'during-1', 'during-2', 'after']);
  });
  it('no faults: one phase "run"; a fault without "for" has no after; warmup given', () => {
    expect(systemPhases(withFaults([]))).toEqual([{ name: 'run', fromMs: 1000, toMs: 10_000 }]);
    const forever = systemPhases(withFaults([{ at: '4s', fault: { kind: 'crash', node: 'api' } }]), {
      warmup: '2s',
    });
    expect(forever).toEqual([
      { name: 'before', fromMs: 2000, toMs: 4000 },
      { name: 'during', fromMs: 4000, toMs: 10_000 },
    ]);
  });
  it('rejects bad phases with errors naming the field', () => {
    expect(() => systemPhases(small, { warmup: '5s' })).toThrow(/^warmup: must end before the first fault/);
    expect(() => systemPhases(small, { warmup: 'soon' })).toThrow(/^warmup: must be a duration/);
    expect(() => systemPhases(small, { windows: { late: ['5s', '11s'] } })).toThrow(
      /^phases\.late\[1\]: ends after the run does \(10000 ms\)/,
    );
    expect(() => systemPhases(small, { windows: { back: ['5s', '2s'] } })).toThrow(
      /^phases\.back: from \(5000 ms\) must be before to/,
    );
    expect(() => systemPhases(small, { windows: { 'Bad.Name': ['1s', '2s'] } })).toThrow(
      /^phases\.Bad\.Name: a phase name is lowercase/,
    );
    expect(() => systemPhases(small, { windows: { one: ['1s'] as never } })).toThrow(
      /^phases\.one: must be \[from, to\]/,
    );
    expect(() => systemPhases(small, { windows: {} })).toThrow(/^phases: must name at least one phase/);
    // Overlaps are allowed.
    expect(systemPhases(small, { windows: { a: [0, '6s'], b: ['5s', '10s'] } })).toHaveLength(2);
  });
  it('defineSystemScenario checks its options, variants and phases up front', () => {
    const base = { name: 'x', description: 'x', system: small };
    expect(() => defineSystemScenario({ ...base, phase: {} } as never)).toThrow(/phase/);
    expect(() => defineSystemScenario({ ...base, variants: [{ name: 'v', recipe: 3 as never }] })).toThrow(
      /variants\[0\]\.recipe must be a function/,
    );
    expect(() => defineSystemScenario({ ...base, phases: { late: [0, '20s'] } })).toThrow(
      /phases\.late\[1\]/,
    );
    expect(() =>
      defineSystemScenario({
        ...base,
        system: { nodes: { a: { kind: 'clients', target: 'nope' } } } as never,
      }),
    ).toThrow(/nodes\.a/);
  });
  it('a check that reads an unknown figure is an error with a suggestion', () => {
    const s = defineSystemScenario({
      name: 'typo',
      description: 'typo',
      system: withFaults([]),
      checks: (m, check) => check('x', m.p99('users', 'rn') < 1),
    });
    expect(() => runScenario(s, { seed: 1 })).toThrow(
      /no measured figure "users\.rn\.p99" \(did you mean "users\.run\.p99"\?\)/,
    );
  });
  it('variants apply their recipes to the frozen base', () => {
    const s = defineSystemScenario({
      name: 'v',
      description: 'v',
      system: withFaults([]),
      variants: [
        { name: 'base' },
        {
          name: 'double',
          recipe: (d) => void ((d.nodes.users as { workload: { rate: number } }).workload.rate = 100),
        },
      ],
    });
    const r = runScenario(s, { seed: 1 });
    const rate = (v: string) => r.variants.find((x) => x.name === v)!.outcome['users.run.rate'] as number;
    expect(rate('double') / rate('base')).toBeGreaterThan(1.7);
    expect(small.nodes.users).toMatchObject({ workload: { rate: 50 } });
  });
});

describe('edge and node figures agree with a tally from the trace', () => {
  /** users -> lb -> api ×2 -> db, with cache-aside on api; db slowed 4x for 2 s at 4 s. */
  const tiered: SystemDescription = {
    nodes: {
      users: {
        kind: 'clients',
        target: 'lb',
        workload: { kind: 'open', rate: 80 },
        until: '10s',
        timeout: '500ms',
        retries: 1,
        keys: { kind: 'zipf', count: 200, s: 1 },
      },
      lb: { kind: 'balancer', backends: ['api'], policy: 'round-robin' },
      api: {
        kind: 'service',
        replicas: 2,
        concurrency: 4,
        serviceTime: { exponential: { mean: 5 } },
        cacheAside: { cache: 'cache', ttl: '2s' },
        downstream: [{ to: 'db', timeout: '200ms' }],
      },
      cache: { kind: 'cache', capacity: 100 },
      db: { kind: 'database', concurrency: 4, serviceTime: { exponential: { mean: 15 } } },
    },
    network: { latency: 1 },
    faults: [{ at: '4s', for: '2s', fault: { kind: 'degrade', node: 'db', factor: 0.25 } }],
  };

  it('per edge and phase: calls, failures and p99 from rpc start/end records', () => {
    const sim = new Simulation({ seed: 3 });
    const phases = systemPhases(tiered);
    const ends: Array<{ from: string; to: string; start: number; ok: boolean; latency: number }> = [];
    sim.inspect((r) => {
      if (r.type !== '@dsim.rpc.end') return;
      const f = r as unknown as { from: string; to: string; ok: boolean; latency: number };
      ends.push({ from: f.from, to: f.to, start: r.t - f.latency, ok: f.ok, latency: f.latency });
    });
    const m = new SystemMeasurement(sim, phases);
    m.watch(
      compileSystem(sim, tiered, { onResponse: m.onResponse, onEdge: m.onEdge, onAttempt: m.onAttempt }),
    );
    sim.run();
    const o = m.outcome();
    const node = (a: string) => a.replace(/-\d+$/, '');
    let edgesSeen = 0;
    for (const edge of ['users->lb', 'lb->api', 'api->cache', 'api->db']) {
      const [from, to] = edge.split('->') as [string, string];
      for (const p of phases) {
        const mine = ends.filter(
          (e) => node(e.from) === from && node(e.to) === to && e.start >= p.fromMs && e.start < p.toMs,
        );
        const seconds = (p.toMs - p.fromMs) / 1000;
        expect(o[`${edge}.${p.name}.rate`], `${edge} ${p.name}`).toBeCloseTo(mine.length / seconds, 6);
        const failed = mine.filter((e) => !e.ok).length;
        expect(o[`${edge}.${p.name}.errorRate`]).toBeCloseTo(failed / mine.length, 9);
        const sorted = mine.map((e) => e.latency).sort((a, b) => a - b);
        const exact = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
        expect(Math.abs((o[`${edge}.${p.name}.p99`] as number) - exact)).toBeLessThanOrEqual(
          0.02 * exact + 1e-9,
        );
        edgesSeen += mine.length;
      }
    }
    expect(edgesSeen).toBeGreaterThan(2000);
    // The slowed database: its edge is slower during the fault, and the cache still serves hits.
    expect(o['api->db.during.p99'] as number).toBeGreaterThan(2 * (o['api->db.before.p99'] as number));
    expect(o['api.before.hitRatio'] as number).toBeGreaterThan(0.3);
    expect(o['api.before.hitRatio'] as number).toBeLessThan(1);
  });

  it('a run records its fault windows, phases and topology', () => {
    const r = runScenario(defineSystemScenario({ name: 'tiered', description: 'tiered', system: tiered }), {
      seed: 3,
    });
    expect(r.faults).toEqual([{ label: 'degrade db ×0.25', fromMs: 4000, toMs: 6000 }]);
    expect(r.phases?.map((p) => p.name)).toEqual(['before', 'during', 'after']);
    expect(r.topology?.edges.map((e) => `${e.from}->${e.to}`)).toEqual([
      'users->lb',
      'lb->api',
      'api->cache',
      'api->db',
    ]);
  });
});
