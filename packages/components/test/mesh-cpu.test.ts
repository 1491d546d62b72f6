import { exponential, Network, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { ProxyCpu } from '../src/mesh/proxy-cpu.js';
import { chain, poisson } from './mesh-support.js';

describe('proxy CPU', () => {
  it('utilisation = request rate × CPU per request: 0.35 vCPU at 1000 rps, 0.7 for a sidecar crossed twice', () => {
    for (const seed of [1, 2]) {
      const c = chain({ hops: 2, seed });
      const T = 4_000;
      let sent = 0;
      poisson(c, 1, T, () => sent++);
      c.sim.run();
      const edge = c.mesh.proxyOf('client-0');
      const middle = c.mesh.proxyOf('s1-0');
      const leaf = c.mesh.proxyOf('s2-0');
      // Exact: every pass spent exactly its CPU cost.
      expect(edge.cpu.stats.cpuMs).toBeCloseTo(sent * 0.35, 6);
      expect(middle.cpu.stats.cpuMs).toBeCloseTo(2 * sent * 0.35, 6);
      expect(middle.cpu.busyMs()).toBeCloseTo(middle.cpu.stats.cpuMs, 6);
      // Against the offered rate (1 per ms): Poisson counts, 4 standard errors.
      const tol = 4 / Math.sqrt(T);
      expect(Math.abs(edge.cpu.busyMs() / T / 0.35 - 1), `seed ${seed}`).toBeLessThan(tol);
      expect(Math.abs(middle.cpu.busyMs() / T / 0.7 - 1), `seed ${seed}`).toBeLessThan(tol);
      expect(Math.abs(leaf.cpu.busyMs() / T / 0.35 - 1), `seed ${seed}`).toBeLessThan(tol);
      expect(c.mesh.memoryMb).toBe(3 * 40);
    }
  });

  it('saturates at workers / CPU per request and queues beyond it', () => {
    // 1 ms of CPU per request on one worker: 1 request per ms at most. Offer 1.5 per ms, evenly.
    for (const workers of [1, 2]) {
      const c = chain({
        hops: 1,
        mesh: { sidecar: { cpuPerRequest: 1, workers, latency: 0, memoryMb: 10 } },
      });
      let answered = 0;
      c.sim.process(function* () {
        for (let i = 0; i < 3000; i++) {
          c.send(() => answered++);
          yield c.sim.timeout(2 / 3);
        }
      });
      const proxy = c.mesh.proxyOf('client-0');
      let queue = -1;
      let busyAt2s = -1;
      c.sim.schedule(2000 - 1e-9, () => {
        queue = proxy.cpu.queueLength;
        busyAt2s = proxy.cpu.busyMs();
      });
      c.sim.run();
      expect(answered).toBe(3000);
      if (workers === 1) {
        // 3000 arrivals in 2 s, 2000 served (the worker never idles): 999 wait, 1 runs.
        expect(Math.abs(queue - 999)).toBeLessThanOrEqual(2);
        expect(busyAt2s / 2000).toBeGreaterThan(0.999);
        expect(proxy.cpu.stats.maxQueue).toBeGreaterThanOrEqual(999);
      } else {
        // Twice the capacity: 1.5 of 2 workers busy, nothing ever waits.
        expect(queue).toBe(0);
        expect(busyAt2s / 2000).toBeCloseTo(1.5, 2);
        expect(proxy.cpu.stats.maxQueue).toBe(0);
      }
    }
  });

  it('queues as an M/D/1: the mean wait matches Pollaczek-Khinchine (and a pure delay would not wait)', () => {
    const sim = new Simulation({ seed: 11 });
    const node = new Network(sim).addNode('proxy');
    const cpu = new ProxyCpu(node, 1);
    const rho = 0.5;
    const gap = exponential({ mean: 1 / rho });
    const rng = sim.rng('tasks');
    let done = 0;
    sim.process(function* () {
      for (let i = 0; i < 100_000; i++) {
        yield sim.timeout(gap.sample(rng));
        cpu.run(1, () => done++);
      }
    });
    sim.run();
    expect(done).toBe(100_000);
    const wait = sim.metrics.histogram('proxy', 'proxy.cpu.wait').summary().mean;
    const theory = (rho * 1) / (2 * (1 - rho)); // 0.5 ms
    expect(Math.abs(wait / theory - 1)).toBeLessThan(0.05);
    const s = cpu.stats;
    expect(s.submitted).toBe(s.completed + s.running + s.queued + s.dropped);
    expect(s.cpuMs).toBeCloseTo(100_000, 6);
  });

  it('a crash drops what was queued and running; the counts still add up', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const node = net.addNode('proxy');
    const cpu = new ProxyCpu(node, 2);
    let done = 0;
    for (let i = 0; i < 10; i++) cpu.run(5, () => done++);
    sim.schedule(7, () => net.crash('proxy'));
    sim.schedule(8, () => {
      net.restart('proxy');
      cpu.run(1, () => done++);
    });
    sim.run();
    // t=5: two done; t=7: two running and four queued are dropped; the one after the restart runs.
    expect(done).toBe(3);
    const s = cpu.stats;
    expect(s).toMatchObject({ submitted: 11, completed: 3, dropped: 8, running: 0, queued: 0 });
    expect(s.submitted).toBe(s.completed + s.running + s.queued + s.dropped);
  });
});
