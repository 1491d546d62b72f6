import { constant, lognormal, Network, RpcEndpoint, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import {
  fitPassLatency,
  hopQuantile,
  normalCdf,
  presetPassLatency,
  sumOfTwoLognormalsQuantile,
} from '../src/mesh/latency-fit.js';
import { MeshProxy } from '../src/mesh/mesh-proxy.js';
import { cpuMsPerRequest, PROXY_PRESETS } from '../src/mesh/proxy-presets.js';
import { ServiceMesh } from '../src/mesh/service-mesh.js';
import { chain, poisson } from './mesh-support.js';

describe('fitting a pass latency to a published hop', () => {
  it('the standard normal CDF is right at known points', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.2815515655446004)).toBeCloseTo(0.9, 6);
    expect(normalCdf(2.3263478740408408)).toBeCloseTo(0.99, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980316301, 8);
  });

  it('the quantiles of a sum of two lognormals match a seeded Monte Carlo', () => {
    const sim = new Simulation({ seed: 7 });
    const rng = sim.rng('mc');
    for (const sigma of [0.3, 0.85, 1.5]) {
      const x = lognormal({ mu: 0, sigma });
      const n = 200_000;
      const sums = new Float64Array(n);
      for (let i = 0; i < n; i++) sums[i] = x.sample(rng) + x.sample(rng);
      sums.sort();
      for (const p of [0.5, 0.9, 0.99]) {
        const mc = sums[Math.floor(p * n)]!;
        expect(Math.abs(sumOfTwoLognormalsQuantile(p, sigma) / mc - 1), `sigma ${sigma} p ${p}`).toBeLessThan(
          0.02,
        );
      }
    }
  });

  it('Istio 1.12.3: the fitted hop has the published 1.7 ms p90 and 2.7 ms p99', () => {
    const fit = presetPassLatency('istio-1.12.3')!;
    expect(hopQuantile(fit, 0.35, 0.9)).toBeCloseTo(1.7, 6);
    expect(hopQuantile(fit, 0.35, 0.99)).toBeCloseTo(2.7, 6);
    expect(fit.sigma).toBeGreaterThan(0.7);
    expect(fit.sigma).toBeLessThan(1);
  });

  it('Istio 1.3.5: only the 7 ms p90 is published; the spread is borrowed from 1.12.3', () => {
    const fit = presetPassLatency('istio-1.3.5')!;
    expect(hopQuantile(fit, 0.6, 0.9)).toBeCloseTo(7, 6);
    expect(fit.sigma).toBe(presetPassLatency('istio-1.12.3')!.sigma);
  });

  it('1.24 publishes no latency in text: no fit, and a proxy needs one given', () => {
    expect(presetPassLatency('istio-1.24-sidecar')).toBeUndefined();
    expect(presetPassLatency('istio-1.24-ztunnel')).toBeUndefined();
    const net = new Network(new Simulation({ seed: 1 }));
    expect(() => new MeshProxy(net, { address: 'p', preset: 'istio-1.24-sidecar' })).toThrow(
      /MeshProxy: latency must be given: Istio publishes no added latency for preset "istio-1.24-sidecar"/,
    );
  });

  it('refuses figures that cannot be fitted', () => {
    expect(() => fitPassLatency({ p90: 0.5, p99: 1 }, 0.35)).toThrow(/hop.p90/);
    expect(() => fitPassLatency({ p90: 2, p99: 1.9 }, 0.35)).toThrow(/hop.p99/);
    expect(() => fitPassLatency({ p90: 2 }, 0.35)).toThrow(/sigma/);
  });

  it('vCPU per 1000 rps reads as ms of CPU per request', () => {
    expect(cpuMsPerRequest(PROXY_PRESETS['istio-1.12.3'].vcpuPer1000Rps)).toBe(0.35);
    expect(cpuMsPerRequest(PROXY_PRESETS['istio-1.24-ztunnel'].vcpuPer1000Rps)).toBe(0.06);
  });
});

/** The mesh's added time per hop, pooled over every proxy that delivered to an application. */
function hopSamples(mesh: ServiceMesh): { p90: number; p99: number; n: number } {
  let n = 0;
  let p90 = 0;
  let p99 = 0;
  for (const p of mesh.proxies) {
    const h = p.hopLatency;
    if (h.count === 0) continue;
    // Weighted by count: every delivering proxy sees the same load here.
    p90 += h.percentile(90) * h.count;
    p99 += h.percentile(99) * h.count;
    n += h.count;
  }
  return { p90: p90 / n, p99: p99 / n, n };
}

describe('added latency per hop in a running mesh', () => {
  it('Istio 1.12.3 sidecars: p90 within 4% of 1.7 ms and p99 within 8% of 2.7 ms, on each of 3 seeds', () => {
    for (const seed of [1, 2, 3]) {
      // 500 requests/s over 2 hops: each sidecar passes about 1000 requests/s, the benchmark's load.
      const c = chain({ hops: 2, seed });
      poisson(c, 0.5, 7_000);
      c.sim.run();
      const { p90, p99, n } = hopSamples(c.mesh);
      expect(n).toBeGreaterThan(6500);
      expect(Math.abs(p90 / 1.7 - 1), `seed ${seed} p90 ${p90}`).toBeLessThan(0.04);
      expect(Math.abs(p99 / 2.7 - 1), `seed ${seed} p99 ${p99}`).toBeLessThan(0.08);
    }
  });

  it('Istio 1.3.5 sidecars: p90 within 4% of 7 ms', () => {
    const c = chain({ hops: 2, seed: 4, mesh: { sidecar: 'istio-1.3.5' } });
    poisson(c, 0.5, 7_000);
    c.sim.run();
    const { p90 } = hopSamples(c.mesh);
    expect(Math.abs(p90 / 7 - 1)).toBeLessThan(0.04);
  });

  it('would catch a fit that forgets a hop crosses two proxies', () => {
    // One lognormal per pass fitted to the whole hop's p90 and p99: each pass alone already adds the
    // hop's latency, and the hop's p90 comes out far above the published figure.
    const cpu = 0.35;
    const z90 = 1.2815515655446004;
    const z99 = 2.3263478740408408;
    const sigma = Math.log((2.7 - cpu) / (1.7 - cpu)) / (z99 - z90);
    const mu = Math.log(1.7 - cpu) - sigma * z90;
    const c = chain({
      hops: 2,
      seed: 1,
      mesh: { sidecar: { preset: 'istio-1.12.3', latency: lognormal({ mu, sigma }) } },
    });
    poisson(c, 0.5, 3_000);
    c.sim.run();
    const { p90 } = hopSamples(c.mesh);
    expect(p90 / 1.7 - 1).toBeGreaterThan(0.3);
  });

  it('latency 0 leaves the CPU time alone: a 1.24 hop adds exactly 2 × 0.2 ms at low load', () => {
    const c = chain({
      hops: 1,
      seed: 1,
      mesh: { sidecar: { preset: 'istio-1.24-sidecar', latency: 0 } },
    });
    // Evenly spaced requests never queue for the CPU.
    c.sim.process(function* () {
      for (let i = 0; i < 200; i++) {
        c.send();
        yield c.sim.timeout(10);
      }
    });
    c.sim.run();
    const h = c.mesh.proxyOf('s1-0').hopLatency;
    expect(h.count).toBe(200);
    expect(h.summary().min).toBeCloseTo(0.4, 3);
    expect(h.summary().max).toBeCloseTo(0.4, 3);
  });

  it('ambient: a hop crosses two ztunnels, and a waypoint adds a third, L7 pass', () => {
    const mesh = {
      mode: 'ambient' as const,
      ztunnel: { preset: 'istio-1.24-ztunnel' as const, latency: 0 },
      waypoint: { preset: 'istio-1.24-waypoint' as const, latency: 0 },
    };
    for (const waypoint of [false, true]) {
      const c = chain({ hops: 1, seed: 1, mesh, service: { waypoint } });
      c.sim.process(function* () {
        for (let i = 0; i < 50; i++) {
          c.send();
          yield c.sim.timeout(10);
        }
      });
      c.sim.run();
      const h = c.mesh.proxyOf('s1-0').hopLatency;
      expect(h.count).toBe(50);
      expect(h.summary().max).toBeCloseTo(waypoint ? 0.06 + 0.25 + 0.06 : 0.12, 3);
    }
  });

  it('ambient: two instances on one host reach each other through their ztunnel, with no network between', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim, { defaults: { latency: constant(5) } });
    const mesh = new ServiceMesh(net, {
      mode: 'ambient',
      ztunnel: { preset: 'istio-1.24-ztunnel', latency: 0 },
    });
    mesh.addService('a');
    mesh.addService('b');
    net.addNode('a-0');
    const b = net.addNode('b-0');
    mesh.addInstance('a', 'a-0', { host: 'h' });
    mesh.addInstance('b', 'b-0', { host: 'h' });
    expect(mesh.proxies).toHaveLength(1);
    new RpcEndpoint(b).serve((_r, reply) => reply.ok('hi'));
    const a = RpcEndpoint.of(net.node('a-0'));
    const toB = mesh.route('a-0', 'b');
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++)
      sim.schedule(i * 10, () => a.callThen(toB, 'x', {}, (res) => latencies.push(res.latency)));
    sim.run();
    // Two passes of 0.06 ms through the one ztunnel; the first request also sets up its connection.
    expect(latencies[1]).toBeCloseTo(0.12, 9);
    expect(latencies[2]).toBeCloseTo(0.12, 9);
  });

  it('a request from outside the mesh pays only the inbound pass', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const mesh = new ServiceMesh(net, { sidecar: { preset: 'istio-1.12.3', latency: constant(1) } });
    mesh.addService('b');
    const b = net.addNode('b-0');
    mesh.addInstance('b', 'b-0');
    new RpcEndpoint(b).serve((_r, reply) => reply.ok('hi'));
    const outside = new RpcEndpoint(net.addNode('outside'));
    let latency = 0;
    outside.callThen('b-0.sidecar', 'x', {}, (res) => {
      latency = res.latency;
    });
    sim.run();
    expect(latency).toBeCloseTo(0.35 + 1, 9);
    expect(mesh.proxyOf('b-0').hopLatency.summary().max).toBeCloseTo(1.35, 3);
  });
});
