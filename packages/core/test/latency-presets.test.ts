import { describe, expect, it } from 'vitest';
import {
  LATENCY_NUMBERS,
  LINK_LATENCY,
  latencyPreset,
  lognormalFromPercentiles,
  OPERATION_LATENCY,
} from '../src/fundamentals/latency.js';
import { type Distribution, deriveStream, Network, RpcEndpoint, Simulation } from '../src/index.js';
import { thrown } from './support/thrown.js';

function quantile(sorted: Float64Array, p: number): number {
  return sorted[Math.ceil(p * sorted.length) - 1]!;
}

function draws(dist: Distribution, n: number, pairs = false): Float64Array {
  const rng = deriveStream('presets', dist.describe());
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = pairs ? dist.sample(rng) + dist.sample(rng) : dist.sample(rng);
  return out.sort();
}

describe('the latency table', () => {
  it('holds the figures of Dean 2009 and the 2012 table as published, each with its source', () => {
    const by = Object.fromEntries(LATENCY_NUMBERS.map((r) => [r.preset, r]));
    const published: Record<string, number> = {
      l1CacheReference: 0.5e-6,
      branchMispredict: 5e-6,
      l2CacheReference: 7e-6,
      mutexLockUnlock: 25e-6,
      mainMemoryReference: 100e-6,
      compress1kZippy: 0.003,
      send2kOver1Gbps: 0.02,
      read1MbMemory: 0.25,
      sameZone: 0.5,
      diskSeek: 10,
      read1MbDisk: 20,
      intercontinental: 150,
      ssdRandomRead4k: 0.15,
      read1MbSsd: 1,
    };
    for (const [preset, ms] of Object.entries(published)) expect(by[preset]!.median, preset).toBe(ms);
    for (const r of LATENCY_NUMBERS) {
      expect(r.source.length, r.preset).toBeGreaterThan(10);
      expect(r.p99, r.preset).toBeGreaterThanOrEqual(r.median);
    }
    // Sorted, and every row is a preset of its kind.
    const medians = LATENCY_NUMBERS.map((r) => r.median);
    expect(medians).toEqual([...medians].sort((a, b) => a - b));
    const links = LATENCY_NUMBERS.filter((r) => r.kind === 'round-trip').map((r) => r.preset);
    expect(links.sort()).toEqual(Object.keys(LINK_LATENCY).sort());
    expect(LATENCY_NUMBERS.length).toBe(
      Object.keys(LINK_LATENCY).length + Object.keys(OPERATION_LATENCY).length,
    );
    expect(Object.isFrozen(LATENCY_NUMBERS) && Object.isFrozen(LINK_LATENCY)).toBe(true);
  });
});

describe('operation presets sample their table row', () => {
  it('constants are the figure; log-normals have the median and p99 (200 000 draws, within 1%)', () => {
    for (const r of LATENCY_NUMBERS.filter((x) => x.kind === 'operation')) {
      const dist = OPERATION_LATENCY[r.preset as keyof typeof OPERATION_LATENCY];
      if (r.median === r.p99) {
        expect(dist.kind, r.preset).toBe('constant');
        expect(dist.mean).toBe(r.median);
        continue;
      }
      const s = draws(dist, 200_000);
      expect(Math.abs(quantile(s, 0.5) / r.median - 1), r.preset).toBeLessThan(0.01);
      expect(Math.abs(quantile(s, 0.99) / r.p99 - 1), r.preset).toBeLessThan(0.01);
    }
  });
});

describe('link presets are one-way delays whose round trip is the table row', () => {
  it('two independent draws: median and p99 of the round trip within 1.5% (200 000 pairs)', () => {
    for (const r of LATENCY_NUMBERS.filter((x) => x.kind === 'round-trip')) {
      const s = draws(LINK_LATENCY[r.preset as keyof typeof LINK_LATENCY], 200_000, true);
      expect(Math.abs(quantile(s, 0.5) / r.median - 1), r.preset).toBeLessThan(0.015);
      expect(Math.abs(quantile(s, 0.99) / r.p99 - 1), r.preset).toBeLessThan(0.015);
    }
  });

  it('the naive split would be caught: half the round trip each way makes the round trip p99 22% short', () => {
    // lognormal(median 0.25, p99 0.75) each way sums to a p99 near 1.17 ms, not the table's 1.5 ms.
    const naive = lognormalFromPercentiles({ median: 0.25, p99: 0.75 });
    const s = draws(naive, 200_000, true);
    expect(quantile(s, 0.99) / 1.5).toBeLessThan(0.8);
    expect(quantile(s, 0.5) / 0.5 - 1).toBeGreaterThan(0.04);
  });

  it('on a real link: RPC round trips across zones have the median and p99 of the table (1 ms, 2 ms)', () => {
    const sim = new Simulation({ seed: 3 });
    const net = new Network(sim, { defaults: { latency: LINK_LATENCY.crossZone } });
    new RpcEndpoint(net.addNode('db')).serve((_req, reply) => reply.ok('row'));
    const client = new RpcEndpoint(net.addNode('app'));
    const rtts: number[] = [];
    sim.process(function* () {
      for (let i = 0; i < 40_000; i++) {
        client.call('db', i).onProcessed((e) => rtts.push(e.value!.latency));
        yield sim.timeout(1);
      }
    });
    sim.run();
    const s = Float64Array.from(rtts).sort();
    expect(s.length).toBe(40_000);
    expect(Math.abs(quantile(s, 0.5) - 1)).toBeLessThan(0.02);
    expect(Math.abs(quantile(s, 0.99) - 2)).toBeLessThan(0.06);
    // Presets are also accepted by name, from configuration.
    expect(latencyPreset('crossZone')).toBe(LINK_LATENCY.crossZone);
    expect(latencyPreset('diskSeek')).toBe(OPERATION_LATENCY.diskSeek);
  });
});

describe('bad input names the field and what is allowed', () => {
  it.each([
    [
      () => latencyPreset('crossZon' as never),
      /latencyPreset: name must be a latency preset \(did you mean "crossZone"\?\)/,
    ],
    [
      () => lognormalFromPercentiles({ median: 0, p99: 1 }),
      /lognormalFromPercentiles: median must be a finite number > 0, got 0/,
    ],
    [
      () => lognormalFromPercentiles({ median: 2, p99: 1 }),
      /p99 must be a finite number >= median \(2\), got 1/,
    ],
  ])('%#', (fn, message) => {
    expect(thrown(fn).message).toMatch(message);
  });

  it('a preset describes itself with its numbers', () => {
    expect(LINK_LATENCY.sameZone.describe()).toBe(
      'lognormal(median=0.2287, p99=0.9971) one way; round trip median 0.5, p99 1.5',
    );
    expect(OPERATION_LATENCY.nvmeRandomRead4k.describe()).toBe('lognormal(median=0.076, p99=0.096)');
    expect(OPERATION_LATENCY.read1MbMemory.describe()).toBe('constant(0.25)');
  });
});
