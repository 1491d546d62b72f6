import { exponential, lognormalFromMean, Network, RpcEndpoint, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { RetryingClient } from '../src/client/retrying-client.js';
import type { ServiceMeshOptions } from '../src/mesh/mesh-options.js';
import { ServiceMesh } from '../src/mesh/service-mesh.js';
import { Service } from '../src/service/service.js';

const SIDECARS: ServiceMeshOptions = { sidecar: 'istio-1.12.3', connections: { connectTimeout: 200 } };
const AMBIENT: ServiceMeshOptions = {
  mode: 'ambient',
  ztunnel: { preset: 'istio-1.24-ztunnel', latency: lognormalFromMean(0.1, 0.5) },
  waypoint: { preset: 'istio-1.24-waypoint', latency: lognormalFromMean(0.3, 0.5) },
  connections: { connectTimeout: 200, handshakeCpu: 0.2 },
};

/**
 * client-0 → a (2 instances) → b (2 instances), Poisson load, and a fault every 600 ms: an application
 * crash, a proxy crash, a proxy cut off from the network, a proxy paused. Returns every count.
 */
function run(mesh: ServiceMeshOptions, seed: number) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency: lognormalFromMean(0.2, 0.3) } });
  const m = new ServiceMesh(net, mesh);
  const ambient = m.mode === 'ambient';
  m.addService('client');
  m.addService('a', { timeout: 300, waypoint: ambient });
  m.addService('b', {
    timeout: 300,
    outlierDetection: { consecutive5xx: 3, interval: 500 },
    waypoint: ambient,
  });
  const apps = ['client-0', 'a-0', 'a-1', 'b-0', 'b-1'];
  for (const app of apps) {
    net.addNode(app);
    m.addInstance(
      app.split('-')[0]!,
      app,
      ambient ? { host: `host-${app.endsWith('1') ? 1 : 0}` } : undefined,
    );
  }
  for (const b of ['b-0', 'b-1'])
    new Service(net.node(b), { serviceTime: exponential({ mean: 2 }), concurrency: 8, errorRate: 0.02 });
  for (const a of ['a-0', 'a-1'])
    new Service(net.node(a), {
      serviceTime: exponential({ mean: 1 }),
      concurrency: 16,
      downstream: {
        calls: [m.route(a, 'b')],
        client: (e) => new RetryingClient(e, { maxAttempts: 2, timeout: 400 }),
      },
    });
  const client = new RetryingClient(RpcEndpoint.of(net.node('client-0')), { maxAttempts: 2, timeout: 800 });
  const toA = m.route('client-0', 'a');
  let sent = 0;
  let ok = 0;
  let failed = 0;
  const rng = sim.rng('load');
  const gap = exponential({ mean: 1 / 0.3 });
  sim.process(function* () {
    while (sim.now < 4000) {
      yield sim.timeout(gap.sample(rng));
      sent++;
      client.call(toA, 'x').onProcessed((e) => (e.value!.ok ? ok++ : failed++));
    }
  });
  // One fault at a time, each over before the next: crash and restart never overlap on a node.
  const faults = sim.rng('faults');
  const proxies = () => m.proxies.map((p) => p.node.address);
  for (let i = 0; i < 7; i++) {
    const start = 200 + i * 600 + faults.next() * 100;
    const length = 100 + faults.next() * 300;
    const kind = i % 4;
    sim.schedule(start, () => {
      if (kind === 0) {
        const app = apps[1 + Math.floor(faults.next() * 4)]!;
        net.crash(app);
        sim.schedule(length, () => net.restart(app));
      } else if (kind === 1) {
        const list = proxies().filter((p) => !p.startsWith('client'));
        const proxy = list[Math.floor(faults.next() * list.length)]!;
        net.crash(proxy);
        sim.schedule(length, () => net.restart(proxy));
      } else if (kind === 2) {
        const list = proxies().filter((p) => !p.startsWith('client'));
        const proxy = list[Math.floor(faults.next() * list.length)]!;
        const local = new Set([proxy, ...apps]);
        const cut = net.partition(
          proxy,
          net.addresses.filter((a) => !local.has(a)),
        );
        sim.schedule(length, () => cut.heal());
      } else {
        const list = proxies();
        const proxy = list[Math.floor(faults.next() * list.length)]!;
        net.pause(proxy);
        sim.schedule(length / 4, () => net.resume(proxy));
      }
    });
  }
  // Outlier detection sweeps for ever: run well past the last request's deadlines.
  sim.run({ until: 20_000 });
  return { sim, mesh: m, sent, ok, failed };
}

describe('conservation in a mesh with faults', () => {
  for (const [name, mesh] of [
    ['sidecars', SIDECARS],
    ['ambient with a waypoint', AMBIENT],
  ] as const) {
    it(`${name}: every request answered once, every count adds up, on 3 seeds`, () => {
      for (const seed of [1, 2, 3]) {
        const { sim, mesh: m, sent, ok, failed } = run(mesh, seed);
        expect(sim.faultLog.filter((f) => f.fault === 'crash').length, `seed ${seed}`).toBeGreaterThan(3);
        expect(ok + failed, `seed ${seed}`).toBe(sent);
        expect(ok / sent, `seed ${seed}: most requests succeed`).toBeGreaterThan(0.8);
        expect(failed, `seed ${seed}: the faults fail some`).toBeGreaterThan(0);
        for (const p of m.proxies) {
          const s = p.stats;
          const where = `seed ${seed} ${p.node.address}`;
          for (const side of [s.inbound, s.outbound, s.connections]) {
            expect(side.requests, where).toBe(side.ok + side.failed + side.lost + side.inFlight);
            expect(side.inFlight, where).toBe(0);
          }
          const cpu = p.cpu.stats;
          expect(cpu.submitted, where).toBe(cpu.completed + cpu.running + cpu.queued + cpu.dropped);
          expect(cpu.running + cpu.queued, where).toBe(0);
          expect(s.connections.handshakes, where).toBe(
            s.connections.opened + s.connections.handshakeFailures,
          );
        }
      }
    });
  }

  it('the same seed gives the same run', () => {
    const a = run(AMBIENT, 5);
    const b = run(AMBIENT, 5);
    expect(a.sim.digest()).toBe(b.sim.digest());
    expect(a.mesh.proxies.map((p) => p.stats)).toEqual(b.mesh.proxies.map((p) => p.stats));
  });
});
