import { LINK_LATENCY, Network, OPERATION_LATENCY, RpcEndpoint, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { Service } from '../src/service/service.js';

function quantile(sorted: Float64Array, p: number): number {
  return sorted[Math.ceil(p * sorted.length) - 1]!;
}

describe('latency presets on a Service and its links', () => {
  it('an NVMe read as the service time, a same-zone link: latency = round trip + read', () => {
    // One random 4 KB NVMe read per request (median 76 µs, p99 96 µs), 64 workers so nobody queues,
    // behind a same-zone link (round trip median 0.5 ms, p99 1.5 ms).
    const sim = new Simulation({ seed: 11 });
    const net = new Network(sim, { defaults: { latency: LINK_LATENCY.sameZone } });
    new Service(net.addNode('kv'), { concurrency: 64, serviceTime: OPERATION_LATENCY.nvmeRandomRead4k });
    const client = new RpcEndpoint(net.addNode('app'));
    const latencies: number[] = [];
    sim.process(function* () {
      for (let i = 0; i < 20_000; i++) {
        client.call('kv', i).onProcessed((e) => {
          if (e.value!.ok) latencies.push(e.value!.latency);
        });
        yield sim.timeout(0.5);
      }
    });
    sim.run();
    const s = Float64Array.from(latencies).sort();
    expect(s.length).toBe(20_000);
    // The read adds about 0.08 ms to the 0.5 ms median round trip; it barely moves the 1.5 ms p99.
    expect(quantile(s, 0.5)).toBeGreaterThan(0.55);
    expect(quantile(s, 0.5)).toBeLessThan(0.61);
    expect(quantile(s, 0.99)).toBeGreaterThan(1.5);
    expect(quantile(s, 0.99)).toBeLessThan(1.7);
    // Every response took at least one read (76 µs median; the fastest reads are well under).
    expect(s[0]!).toBeGreaterThan(0.05);
  });

  it('a disk seek as the service time: the server is the bottleneck, the mean is the preset mean', () => {
    // diskSeek: log-normal, median 10 ms, p99 20 ms, mean 10.45 ms. One worker, 40 requests/s: rho 0.42.
    const sim = new Simulation({ seed: 5 });
    const net = new Network(sim, { defaults: { latency: LINK_LATENCY.sameRack } });
    const disk = OPERATION_LATENCY.diskSeek;
    expect(disk.mean).toBeCloseTo(10 * Math.exp((Math.log(2) / 2.3263478740408408) ** 2 / 2), 6);
    new Service(net.addNode('disk'), { serviceTime: disk });
    const client = new RpcEndpoint(net.addNode('app'));
    let served = 0;
    sim.process(function* () {
      for (let i = 0; i < 4000; i++) {
        client.call('disk', i).onProcessed(() => served++);
        yield sim.timeout(25);
      }
    });
    sim.run();
    expect(served).toBe(4000);
    const busy = sim.metrics.gauge('disk', 'svc.busy').mean(4000 * 25);
    // Utilisation = 40/s × 10.45 ms = 0.418 (measured over 100 s of 4000 reads: within 3%).
    expect(Math.abs(busy / (0.04 * disk.mean!) - 1)).toBeLessThan(0.03);
  });
});
