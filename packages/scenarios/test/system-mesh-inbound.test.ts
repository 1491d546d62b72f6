import { cpuMsPerRequest, PROXY_PRESETS, presetPassLatency } from '@dsim/components';
import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';

const PRESET = 'istio-1.12.3';
const fit = presetPassLatency(PRESET)!;
const CPU = cpuMsPerRequest(PROXY_PRESETS[PRESET].vcpuPer1000Rps);
/** One pass through a sidecar: its CPU and the mean of its lognormal latency. */
const PASS = CPU + Math.exp(fit.mu + fit.sigma ** 2 / 2);
const PASS_SD = Math.sqrt((Math.exp(fit.sigma ** 2) - 1) * Math.exp(2 * fit.mu + fit.sigma ** 2));
const RATE = 200;

/**
 * users → lb → api (3 replicas) → db, constant service times and links: without a mesh every request
 * takes the same time. The mesh holds api and db; lb and users are outside it.
 */
const system = (mesh: boolean): SystemDescription =>
  ({
    nodes: {
      users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: RATE }, until: '4s' },
      lb: { kind: 'balancer', backends: ['api'] },
      api: { kind: 'service', replicas: 3, concurrency: 1000, serviceTime: 1, downstream: [{ to: 'db' }] },
      db: { kind: 'database', concurrency: 1000, serviceTime: 1, queueCapacity: 0 },
    },
    network: { latency: 0.5, edges: { 'lb->api': { latency: 2 } } },
    ...(mesh ? { mesh: { sidecar: PRESET } } : {}),
  }) as unknown as SystemDescription;

/** Mean latency of the lb → api calls started after the connections are set up (500 ms). */
function lbToApi(s: SystemDescription, seed: number) {
  const xs: number[] = [];
  const sim = new Simulation({ seed });
  const sys = compileSystem(sim, s, {
    onEdge: (from, _to, started, ok, _k, latency) => {
      expect(ok).toBe(true);
      if (from === 'lb' && started >= 500) xs.push(latency);
    },
  });
  sim.run();
  return { mean: xs.reduce((a, x) => a + x, 0) / xs.length, n: xs.length, sys };
}

describe('the mesh captures calls into it', () => {
  // lb → api crosses api's inbound sidecar (one pass), then api → db two (api's outbound, db's
  // inbound): the balancer sees three passes more than without the mesh.
  it('a balancer’s call into a meshed service grows by the inbound proxy’s cost', () => {
    for (const seed of [1, 2, 3]) {
      const base = lbToApi(system(false), seed);
      const meshed = lbToApi(system(true), seed);
      // 1 ms api + 1 ms db + lb–api 2 ms each way + api–db 0.5 ms each way.
      expect(base.mean).toBeCloseTo(1 + 1 + 4 + 1, 6);
      const added = meshed.mean - base.mean;
      const tol = (4 * Math.sqrt(3) * PASS_SD) / Math.sqrt(meshed.n) + 0.02 * 3 * PASS;
      expect(Math.abs(added - 3 * PASS), `seed ${seed}: added ${added}`).toBeLessThan(tol);
      // Without capture only api → db's two passes would show.
      expect(Math.abs(added - 2 * PASS)).toBeGreaterThan(tol);
      // (The captured lb → sidecar link keeps the described 2 ms, or the difference would be off by 3 ms.)
      // Every request went in through a replica's sidecar; the edge still names api.
      const inbound = [0, 1, 2].map((i) => meshed.sys.mesh!.mesh.proxyOf(`api-${i}`).stats.inbound.requests);
      expect(inbound.reduce((a, x) => a + x, 0)).toBe(meshed.sys.stats.toJSON().requests);
    }
  });

  it('proxy CPU counts the captured pass', () => {
    const sim = new Simulation({ seed: 4 });
    const sys = compileSystem(sim, system(true));
    sim.run();
    const sent = sys.stats.toJSON().requests;
    expect(sys.mesh!.mesh.cpuMs()).toBeCloseTo(sent * 3 * CPU, 6);
  });

  // An autoscaled member: 2 replicas, 6 at 10 s (a schedule), started in 1 s. Each new replica gets its
  // sidecar as it becomes ready: the balancer's calls to it cross it, and its calls to db go out through it.
  const scaled = (): SystemDescription =>
    ({
      nodes: {
        users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: RATE }, until: '20s' },
        lb: { kind: 'balancer', backends: ['api'] },
        api: {
          kind: 'service',
          replicas: 2,
          concurrency: 100,
          serviceTime: 1,
          downstream: [{ to: 'db' }],
          autoscale: {
            policy: 'scheduled',
            schedule: [
              { at: 0, replicas: 2 },
              { at: '10s', replicas: 6 },
            ],
            period: '1s',
            startup: '1s',
          },
        },
        db: { kind: 'database', concurrency: 1000, serviceTime: 1, queueCapacity: 0 },
      },
      mesh: { sidecar: PRESET },
    }) as unknown as SystemDescription;

  it('an autoscaled member’s new replicas are meshed', () => {
    for (const seed of [1, 2]) {
      const sim = new Simulation({ seed });
      const sys = compileSystem(sim, scaled());
      sim.run();
      const pool = sys.autoscaled.api!.pool;
      expect(pool.stats.created).toBe(6);
      const mesh = sys.mesh!.mesh;
      // A sidecar per replica and one for db.
      expect(mesh.proxies).toHaveLength(7);
      let inbound = 0;
      let outbound = 0;
      for (let i = 0; i < 6; i++) {
        const proxy = mesh.proxyOf(`api-${i}`);
        // Every replica served through its sidecar, the new ones too.
        expect(proxy.stats.inbound.requests, `api-${i}`).toBeGreaterThan(100);
        inbound += proxy.stats.inbound.requests;
        outbound += proxy.stats.outbound.requests;
      }
      const sent = sys.stats.toJSON().requests;
      expect(sys.stats.toJSON().ok).toBe(sent);
      // Every request: captured into a replica, and its db call out through the same replica's sidecar.
      expect(inbound).toBe(sent);
      expect(outbound).toBe(sent);
      expect(mesh.proxyOf('db').stats.inbound.requests).toBe(sent);
      expect(mesh.cpuMs()).toBeCloseTo(sent * 3 * CPU, 6);
    }
  });

  it('gives the same digest for the same seed, another for another seed', () => {
    const go = (seed: number) =>
      runScenario(
        defineSystemScenario({ name: 'm', description: 'm', system: scaled(), phases: { all: [0, '20s'] } }),
        { seed },
      );
    const a = go(7);
    expect(go(7).digest).toBe(a.digest);
    expect(go(7).outcome).toEqual(a.outcome);
    expect(go(8).digest).not.toBe(a.digest);
  });
});
