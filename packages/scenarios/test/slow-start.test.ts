import { resolveSlowStart } from '@dsim/components';
import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { expectedShare, slowStart } from '../src/catalogue/slow-start.js';
import { runScenario } from '../src/scenario.js';

describe('slow-start scenario', () => {
  it.each([1, 2])('seed %i: without slow start the cold backend takes 1/N and its p99 spikes', (seed) => {
    const r = runScenario(slowStart, { seed, params: { seconds: 80 } });
    expect(r).toPassChecks();
    const o = (name: string) => r.variants.find((v) => v.name === name)!.outcome;
    const none = o('no-slow-start');
    expect(none.earlyShare as number).toBeCloseTo(0.2, 2);
    expect(none.weightAt15s).toBe(1);
    // Five times slower at the join, at 1/N: overloaded for about 22 s, a queue of seconds.
    expect(none.coldP99Ms as number).toBeGreaterThan(3000);
    const envoy = o('envoy');
    // Envoy's floor: 0.1 / (4 + 0.1) of the requests for the first 6 s; exactly 0.25 at 15 s.
    expect(envoy.weightAt3s).toBeCloseTo(0.1, 12);
    expect(envoy.weightAt15s).toBeCloseTo(0.25, 12);
    expect(envoy.earlyShare as number).toBeCloseTo(0.1 / 4.1, 2);
    expect(o('haproxy').weightAt15s).toBeCloseTo(0.01 + 0.99 * 0.25, 12);
    for (const name of ['envoy', 'haproxy']) {
      expect(o(name).coldP99Ms as number).toBeLessThan(500);
      // The ramp ends at 60 s: full share in the 60-70 s bin.
      expect(o(name)['share.60-70s'] as number).toBeCloseTo(0.2, 2);
    }
  });

  it('expected shares: the weighted share f / (N - 1 + f), averaged over time', () => {
    const envoy = resolveSlowStart({ kind: 'envoy', window: '60s' });
    expect(expectedShare(envoy, 4, 0, 6000)).toBeCloseTo(0.1 / 4.1, 12);
    expect(expectedShare(undefined, 4, 0, 10_000)).toBeCloseTo(0.2, 12);
    expect(expectedShare(envoy, 4, 60_000, 70_000)).toBeCloseTo(0.2, 12);
  });

  it('same seed, same result; bad parameters are refused', () => {
    const params = { seconds: 30, rate: 200 };
    const a = runScenario(slowStart, { seed: 9, params, variants: ['envoy'] });
    const b = runScenario(slowStart, { seed: 9, params, variants: ['envoy'] });
    expect(a.digest).toBe(b.digest);
    expect(() => runScenario(slowStart, { seed: 1, params: { minWeightPercent: 101 } })).toThrow(
      /minWeightPercent/,
    );
    expect(() => runScenario(slowStart, { seed: 1, params: { coldFactor: 0.5 } })).toThrow(/coldFactor/);
    expect(() => runScenario(slowStart, { seed: 1, params: { rate: 100_000, seconds: 100 } })).toThrow(
      /rate × seconds/,
    );
  });
});
