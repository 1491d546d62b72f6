import { cpuMsPerRequest, PROXY_PRESETS, type ProxyPresetName, presetPassLatency } from '@dsim/components';
import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { SystemError, validateSystem } from '../src/system/validate.js';

const SEEDS = [1, 2, 3];
const RATE = 200;
const UNTIL = 4000;
/** Requests started before this pay the connections' setup (TCP and TLS round trips): left out. */
const WARM = 500;

/**
 * users → a → b → c, constant service times and links, room for every request: without a mesh every
 * request takes the same time, so what the mesh adds is all the difference. The link a–b is slower
 * (5 ms) than the others, so the mesh's connections must carry it too.
 */
const chain = (mesh?: unknown): SystemDescription =>
  ({
    nodes: {
      users: { kind: 'clients', target: 'a', workload: { kind: 'open', rate: RATE }, until: UNTIL },
      a: { kind: 'service', concurrency: 1000, serviceTime: 1, downstream: [{ to: 'b' }] },
      b: { kind: 'service', concurrency: 1000, serviceTime: 1, downstream: [{ to: 'c' }] },
      c: { kind: 'database', concurrency: 1000, serviceTime: 1, queueCapacity: 0 },
    },
    network: { latency: 0.5, edges: { 'a->b': { latency: 5 } } },
    ...(mesh === undefined ? {} : { mesh }),
  }) as SystemDescription;
const HOPS = 2; // a → b, b → c: two passes each (the caller's sidecar, the callee's)
/** Passes per request: two per hop, and users → a captured by a's sidecar on the way in (one pass). */
const PASSES = 2 * HOPS + 1;
/** Requests delivered to an application through the mesh, per request: a, b and c. */
const DELIVERIES = HOPS + 1;

/** Mean and variance of the latency of the requests started after the warm-up; the system handle. */
function run(system: SystemDescription, seed: number) {
  const sim = new Simulation({ seed });
  const xs: number[] = [];
  const sys = compileSystem(sim, system, {
    onResponse: (_c, started, r) => {
      expect(r.ok).toBe(true);
      if (started >= WARM) xs.push(r.latency);
    },
  });
  sim.run();
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance, n: xs.length, sys, sent: sys.stats.toJSON().requests };
}

/** The mean one pass through a proxy adds with a preset: its CPU and its latency. */
function passMean(preset: ProxyPresetName): number {
  const fit = presetPassLatency(preset)!;
  return cpuMsPerRequest(PROXY_PRESETS[preset].vcpuPer1000Rps) + Math.exp(fit.mu + fit.sigma ** 2 / 2);
}

/** The mean a hop between members adds: two passes (the caller's sidecar, the callee's). */
const hopMean = (preset: ProxyPresetName): number => 2 * passMean(preset);

/** The measured figures; `all` starts after the connections are set up (which requests queue behind). */
const measure = (system: SystemDescription, seed: number) =>
  runScenario(
    defineSystemScenario({
      name: 'mesh',
      description: 'mesh',
      system,
      phases: { warm: [0, WARM], all: [WARM, UNTIL] },
    }),
    { seed },
  ).outcome as Record<string, number | null>;
const SECONDS = (UNTIL - WARM) / 1000;

const issues = (data: unknown): { path: string; message: string }[] => {
  try {
    validateSystem(data);
  } catch (e) {
    if (e instanceof SystemError) return [...e.issues];
    throw e;
  }
  return [];
};

describe('system as data: the service mesh', () => {
  it('a chain through sidecars is slower by passes × the preset’s mean added latency per pass', () => {
    const preset = 'istio-1.12.3';
    const expected = PASSES * passMean(preset);
    const wrong = PASSES * passMean('istio-1.3.5');
    for (const seed of SEEDS) {
      const base = run(chain(), seed);
      const meshed = run(chain({ sidecar: preset }), seed);
      // Without the mesh every request takes 3 services + 6 links (one of them 5 ms each way).
      expect(base.variance).toBeLessThan(1e-9);
      expect(base.mean).toBeCloseTo(3 * 1 + 4 * 0.5 + 2 * 5, 6);
      const added = meshed.mean - base.mean;
      // 4 SE of the mean of the added time, plus 2% for the proxies' CPU queueing (about 7% busy). A
      // model without inbound capture (4 passes, not 5) is 0.6 ms short: well outside.

      const tol = 4 * Math.sqrt(meshed.variance / meshed.n) + 0.02 * expected;
      expect(Math.abs(added - expected), `seed ${seed}: added ${added}, expected ${expected}`).toBeLessThan(
        tol,
      );
      // An older preset's figures would be caught.
      expect(Math.abs(added - wrong)).toBeGreaterThan(tol);
      expect(Math.abs(added - HOPS * hopMean(preset))).toBeGreaterThan(tol);
    }
  });

  it('proxy CPU = requests × passes × CPU per request; the measured figures say so per phase', () => {
    const preset = 'istio-1.12.3';
    const cpu = cpuMsPerRequest(PROXY_PRESETS[preset].vcpuPer1000Rps);
    for (const seed of SEEDS) {
      const { sys, sent } = run(chain({ sidecar: preset }), seed);
      // Two passes per hop (outbound at the caller's sidecar, inbound at the callee's) and one for the
      // captured users → a; no retries.
      expect(sys.mesh!.mesh.cpuMs()).toBeCloseTo(sent * PASSES * cpu, 6);
      expect(sys.mesh!.mesh.proxies).toHaveLength(3);
      const o = measure(chain({ sidecar: preset }), seed);
      // vCPU = rate × CPU per request, within 4 SE of a Poisson count.
      const vcpu = (RATE * PASSES * cpu) / 1000;
      expect(Math.abs(o['mesh.all.proxyCpu']! / vcpu - 1)).toBeLessThan(4 / Math.sqrt(RATE * SECONDS));
      expect(o['mesh.all.hops']! / (RATE * DELIVERIES)).toBeCloseTo(1, 1);
      // The mean added per delivery at the proxies: two passes for a hop between members, one for the
      // captured call into a (a mixture, 2 to 1). 4 SE of its mean, plus 2% for CPU queueing.
      const hops = o['mesh.all.hops']! * SECONDS;
      const m = passMean(preset);
      const expected = (PASSES / DELIVERIES) * m;
      const fit = presetPassLatency(preset)!;
      const v = (Math.exp(fit.sigma ** 2) - 1) * Math.exp(2 * fit.mu + fit.sigma ** 2);
      // Var = E[passes] × v + Var(passes × m): (5/3) v + (2/9) m².
      const sd = Math.sqrt((PASSES / DELIVERIES) * v + (2 / 9) * m * m);
      const tol = (4 * sd) / Math.sqrt(hops) + 0.02 * expected;
      expect(Math.abs(o['mesh.all.hopMean']! - expected)).toBeLessThan(tol);
      // The edges still read as node to node, their latency with the mesh in it (b → c: 1 ms + 2 links).
      expect(o['a->b.all.rate']! / RATE).toBeCloseTo(1, 1);
      expect(o['b->c.all.p50']!).toBeGreaterThan(2 + 0.5 * hopMean(preset));
    }
  });

  it('ambient: ztunnels cost their own CPU per pass; waypoints add a proxy per hop', () => {
    const ztunnel = { preset: 'istio-1.24-ztunnel', latency: 0 };
    const o = measure(chain({ mode: 'ambient', ztunnel }), 1);
    const cpu = cpuMsPerRequest(PROXY_PRESETS['istio-1.24-ztunnel'].vcpuPer1000Rps);
    const tol = 4 / Math.sqrt(RATE * SECONDS);
    expect(Math.abs(o['mesh.all.proxyCpu']! / ((RATE * PASSES * cpu) / 1000) - 1)).toBeLessThan(tol);
    const waypoint = { preset: 'istio-1.24-waypoint', latency: 0 };
    const w = measure(chain({ mode: 'ambient', ztunnel, waypoint, waypoints: true }), 1);
    const wcpu = cpuMsPerRequest(PROXY_PRESETS['istio-1.24-waypoint'].vcpuPer1000Rps);
    // A waypoint takes one pass per request on top of the two ztunnels' (Istio's L7 hop in ambient);
    // the captured users → a crosses a's ztunnel alone (traffic from outside skips the waypoint).
    const expected = (RATE * (HOPS * (2 * cpu + wcpu) + cpu)) / 1000;
    expect(Math.abs(w['mesh.all.proxyCpu']! / expected - 1)).toBeLessThan(tol);
  });

  it('the same seed gives the same digest; another seed another', () => {
    const digest = (seed: number) => {
      const sim = new Simulation({ seed });
      compileSystem(sim, chain({ sidecar: 'istio-1.12.3' }));
      sim.run();
      return sim.digest();
    };
    expect(digest(1)).toBe(digest(1));
    expect(digest(2)).not.toBe(digest(1));
  });

  it('bad meshes name the path, what is allowed and a guess', () => {
    const at = (mesh: unknown, nodes?: (n: SystemDescription['nodes']) => void) => {
      const d = chain(mesh);
      nodes?.(d.nodes);
      return issues(d).map((i) => `${i.path}: ${i.message}`);
    };
    expect(at({ sidecar: 'istio-1.12' })).toEqual([
      expect.stringMatching(/^mesh\.sidecar: must be a proxy preset: .*did you mean "istio-1\.12\.3"/),
    ]);
    expect(at({ sidecar: 'istio-1.12.3', timout: '1s' })).toEqual([
      'mesh.timout: unknown key (did you mean "timeout"?)',
    ]);
    expect(at({})).toEqual([
      expect.stringMatching(
        /^mesh\.sidecar: is required in sidecar mode: a sidecar preset \(istio-1\.3\.5, istio-1\.12\.3, istio-1\.24-sidecar\)/,
      ),
    ]);
    expect(at({ sidecar: 'istio-1.24-ztunnel' })).toEqual([
      expect.stringMatching(/^mesh\.sidecar: "istio-1\.24-ztunnel" is a ztunnel preset; a sidecar takes/),
    ]);
    expect(at({ sidecar: 'istio-1.24-sidecar' })).toEqual([
      expect.stringMatching(/^mesh\.sidecar: Istio publishes no added latency for "istio-1\.24-sidecar"/),
    ]);
    expect(at({ sidecar: 'istio-1.12.3', waypoints: true })).toEqual([
      "mesh.waypoints: is ambient mode's: drop it, or give `mode: ambient`",
    ]);
    expect(
      at({ mode: 'ambient', ztunnel: { preset: 'istio-1.24-ztunnel', latency: 0 }, retry: { attempts: 1 } }),
    ).toEqual([expect.stringMatching(/^mesh\.retry: is L7 policy; ztunnels are L4 only/)]);
    expect(at({ sidecar: 'istio-1.12.3', services: ['a', 'bb'] })).toEqual([
      'mesh.services[1]: no node named "bb" (did you mean "b"?)',
    ]);
    expect(at({ sidecar: 'istio-1.12.3', services: ['a', 'users'] })).toEqual(
      expect.arrayContaining([
        'mesh.services[1]: "users" is a clients; the mesh holds services and databases',
      ]),
    );
    expect(
      at({ sidecar: 'istio-1.12.3', services: ['idle'] }, (n) => {
        n.idle = { kind: 'database', serviceTime: 1 };
      }),
    ).toEqual([expect.stringMatching(/^mesh\.services: has no effect: nothing calls a member/)]);
    // Calls into a member from outside are captured: a mesh of a and c alone carries users → a, b → c.
    expect(at({ sidecar: 'istio-1.12.3', services: ['a', 'c'] })).toEqual([]);
    expect(
      at({ sidecar: 'istio-1.12.3' }, (n) => {
        n.mesh = { kind: 'database', serviceTime: 1 };
      }),
    ).toContain(
      'nodes.mesh: with a `mesh` the name "mesh" is its figures\' (`mesh.<phase>.proxyCpu`): rename the node',
    );
  });

  it('mesh retries are Istio’s by default (2 retries of a 503), can be changed or switched off', () => {
    // c crashes for a second: its sidecar answers every call `unavailable` at once (Envoy's 503 UF).
    const crashing = (retry: unknown) => {
      const d = chain({ sidecar: 'istio-1.12.3', ...(retry === undefined ? {} : { retry }) });
      d.network = { latency: 0.5 };
      d.faults = [{ at: 1000, for: 1000, fault: { kind: 'crash', node: 'c' } }];
      const sim = new Simulation({ seed: 1 });
      const sys = compileSystem(sim, d);
      sim.run();
      const mesh = sys.mesh!.mesh;
      return {
        b: mesh.proxyOf('b').stats.inbound,
        c: mesh.proxyOf('c').stats.inbound,
        sent: sys.stats.toJSON(),
      };
    };
    const none = crashing(false);
    // Every request reaches c once; what failed there failed for the user.
    expect(none.c.requests).toBe(none.sent.requests);
    expect(none.c.appDown).toBe(none.sent.failed);
    expect(none.sent.failed).toBeGreaterThan(100);
    // Each b attempt that failed had its call to c tried 1 + retries times (within 3%:
    // the attempts that straddle the restart fail fewer times, or fail and then succeed).
    for (const [retry, tries] of [
      [undefined, 3],
      [{ attempts: 1 }, 2],
    ] as const) {
      const r = crashing(retry);
      expect(Math.abs(r.c.appDown / r.b.failed / tries - 1)).toBeLessThan(0.03);
    }
  });
});
