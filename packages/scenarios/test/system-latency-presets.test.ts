import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { compileSystem, type SystemDescription } from '../src/index.js';

/** Latencies (ms) the clients see, sorted: one request per 10 ms to an instant service. */
function roundTrips(network: SystemDescription['network'], serviceTime: unknown = 0, seed = 1): number[] {
  const sim = new Simulation({ seed });
  const latencies: number[] = [];
  compileSystem(
    sim,
    {
      nodes: {
        users: { kind: 'clients', target: 'app', workload: { kind: 'open', rate: 100 }, until: '200s' },
        app: { kind: 'service', concurrency: 64, serviceTime },
      },
      ...(network === undefined ? {} : { network }),
    },
    { onResponse: (_c, _t, r) => void latencies.push(r.latency) },
  );
  sim.run();
  return latencies.sort((a, b) => a - b);
}

const quantile = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

describe('latency presets in descriptions: { preset: name }', () => {
  it("a crossZone network gives round trips with the table's median (1 ms) and p99 (2 ms)", () => {
    const rtt = roundTrips({ latency: { preset: 'crossZone' } });
    expect(rtt.length).toBeGreaterThan(19_500); // Poisson arrivals at 100/s for 200 s
    expect(quantile(rtt, 0.5)).toBeGreaterThan(0.97);
    expect(quantile(rtt, 0.5)).toBeLessThan(1.03);
    expect(quantile(rtt, 0.99)).toBeGreaterThan(1.9);
    expect(quantile(rtt, 0.99)).toBeLessThan(2.1);
    // A sameZone network (0.5 / 1.5 ms) would fail both bounds.
    const zone = roundTrips({ latency: { preset: 'sameZone' } });
    expect(quantile(zone, 0.5)).toBeLessThan(0.55);
  });

  it('an edge and a service time take presets too: one NVMe read per request over a sameRack link', () => {
    const t = roundTrips(
      { edges: { 'users->app': { latency: { preset: 'sameRack' } } } },
      { preset: 'nvmeRandomRead4k' },
    );
    // Median: about 0.1 ms of round trip plus the NVMe read's median.
    const median = quantile(t, 0.5);
    expect(median).toBeGreaterThan(0.1 + 0.05);
    expect(median).toBeLessThan(0.1 + 0.12);
  });

  it('an unknown preset is an error naming the field and the allowed names', () => {
    expect(() => roundTrips({ latency: { preset: 'crossZon' } })).toThrow(
      /network\.latency\.preset: Invalid option: expected one of .*"sameZone".*got "crossZon" \(did you mean "crossZone"\?\)/,
    );
  });

  it('same seed, same result; another seed, another', () => {
    const a = roundTrips({ latency: { preset: 'crossZone' } }, 0, 3);
    expect(roundTrips({ latency: { preset: 'crossZone' } }, 0, 3)).toEqual(a);
    expect(roundTrips({ latency: { preset: 'crossZone' } }, 0, 4)).not.toEqual(a);
  });
});
