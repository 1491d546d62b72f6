import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { erlangB } from '@dsim/core';
import { adaptiveConcurrency } from '../src/catalogue/adaptive-concurrency.js';
import { runScenario } from '../src/scenario.js';

type Figures = Record<string, number>;
const figures = (r: ReturnType<typeof runScenario>, name: string) =>
  r.variants.find((v) => v.name === name)!.outcome as Figures;

describe('adaptive-concurrency scenario', () => {
  it.each([1, 2])('seed %i: static limits fail one way each; AIMD, Gradient2 and Vegas hold', (seed) => {
    const r = runScenario(adaptiveConcurrency, { seed });
    expect(r).toPassChecks();
    const high = figures(r, 'static-high');
    const low = figures(r, 'static-low');
    // Static-high: 192 queued behind 8 workers at 800/s is 240 ms; at half speed, 480 ms.
    expect(high.spikeP99Ms).toBeGreaterThan(240);
    expect(high.spikeMeanQueue).toBeGreaterThan(150);
    expect(high.slowP99Ms).toBeGreaterThan(480);
    // Static-low: an M/M/4/4 loss system at every load; at the base load it refuses Erlang B(4, 4.8).
    expect(Math.abs(low.baseRefusedShare! - erlangB(4, 4.8))).toBeLessThan(0.03);
    expect(Math.abs(low.spikeRefusedShare! - erlangB(4, 12))).toBeLessThan(0.03);
    for (const name of ['aimd', 'gradient2', 'vegas']) {
      const a = figures(r, name);
      // Nothing refused while the load is below capacity (a few requests in a burst at most).
      expect(a.baseRefusedShare, name).toBeLessThan(0.02);
      // In the spike the excess is refused: about 1 - 800 / 1200 of what was offered.
      expect(Math.abs(a.spikeRefusedShare! - (1 - a.capacity! / a.spikeOffered!)), name).toBeLessThan(0.05);
      // The limit settles a few above the 8 workers, far below the static 200.
      expect(a.spikeMeanLimit, name).toBeGreaterThan(8);
      expect(a.spikeMeanLimit, name).toBeLessThan(32);
      expect(a.spikeMeanQueue, name).toBeLessThan(20);
      expect(a.spikeTimedOutShare).toBe(0);
    }
    // The limit is also a series (the gauge limiter.limit of the gate).
    const series = r.variants.find((v) => v.name === 'aimd')!.series!;
    expect(series.nodes.gate!.gauges['limiter.limit']!.mean.length).toBeGreaterThan(20);
    for (const v of r.variants) expect(v.metrics.ok + v.metrics.failed).toBe(v.metrics.requests);
  });

  it("AIMD's limit tracks capacity x timeout: doubling the timeout doubles the limit (Little's law)", () => {
    const limits = [25, 50].map(
      (aimdTimeoutMs) =>
        figures(
          runScenario(adaptiveConcurrency, { seed: 3, params: { aimdTimeoutMs }, variants: ['aimd'] }),
          'aimd',
        ).spikeMeanLimit!,
    );
    expect(Math.abs(limits[0]! - 20) / 20).toBeLessThan(0.2);
    expect(Math.abs(limits[1]! - 40) / 40).toBeLessThan(0.2);
  });

  it('chain: a static limit lets the excess queue up to the top tier; an adaptive one refuses it at B', () => {
    const r = runScenario(adaptiveConcurrency, {
      seed: 1,
      params: { topology: 'chain', phaseSeconds: 4 },
      variants: ['static-high', 'aimd'],
    });
    expect(r).toPassChecks();
    const high = figures(r, 'static-high');
    const aimd = figures(r, 'aimd');
    // B's 32 workers all wait on the leaf, A's 64 all wait on B: B's queue is capped by A's workers.
    expect(high.maxQueueB).toBeLessThanOrEqual(33);
    expect(high.maxQueueA).toBeGreaterThan(500);
    expect(high.spikeTimedOutShare).toBeGreaterThan(0.3);
    expect(aimd.refusedAtB).toBeGreaterThan(1000);
    expect(aimd.spikeTimedOutShare).toBe(0);
    expect(aimd.spikeGoodput).toBeGreaterThan(high.spikeGoodput!);
    // After the spike the static chain is still answering requests whose callers have gone (half time out);
    // the adaptive one serves everything offered.
    expect(high.afterTimedOutShare).toBeGreaterThan(0.2);
    expect(aimd.afterGoodput! / aimd.afterOffered!).toBeGreaterThan(0.98);
  });

  it('is deterministic and rejects bad parameters', () => {
    const small = { phaseSeconds: 2 };
    const a = runScenario(adaptiveConcurrency, { seed: 7, params: small, variants: ['vegas'] });
    const b = runScenario(adaptiveConcurrency, { seed: 7, params: small, variants: ['vegas'] });
    expect(a.digest).toBe(b.digest);
    expect(() => runScenario(adaptiveConcurrency, { seed: 1, params: { slowdown: 0.5 } })).toThrow(
      /slowdown/,
    );
    expect(() =>
      runScenario(adaptiveConcurrency, { seed: 1, params: { phaseSeconds: 10_000, workers: 1000 } }),
    ).toThrow(/more than the 1000000/);
  });
});
