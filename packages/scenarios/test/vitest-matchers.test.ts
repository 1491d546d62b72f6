import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { defineScenario, mmc, param, runScenario } from '../src/index.js';

const small = runScenario(mmc, { seed: 1, params: { customers: 2000 } });

const flaky = defineScenario({
  name: 'half-broken',
  description: 'one check fails, some requests fail',
  params: { failEvery: param.integer({ default: 4, min: 1, description: 'every nth request fails' }) },
  run({ sim, params, requests, check }) {
    sim.process(function* () {
      for (let i = 1; i <= 100; i++) {
        requests.start();
        yield sim.timeout(i);
        requests.finish(i % params.failEvery !== 0, i);
      }
    });
    sim.run();
    check('fine', true, 'ok');
    check('throughput', false, 'measured 3/s, expected 5/s');
    return {};
  },
});
const broken = runScenario(flaky, { seed: 7 });

describe('@dsim/scenarios/vitest matchers', () => {
  it('toPassChecks passes on a healthy run and fails naming the failed check, the seed and the reproduce line', () => {
    expect(small).toPassChecks();
    expect(broken).not.toPassChecks();
    expect(() => expect(broken).toPassChecks()).toThrow(
      /throughput: measured 3\/s, expected 5\/s[\s\S]*seed 7; reproduce: dsim run half-broken --seed 7/,
    );
  });

  it('toHaveP99Below compares metrics.latencyMs.p99', () => {
    expect(broken.metrics.latencyMs.p99).toBeGreaterThan(95);
    expect(broken).toHaveP99Below(101);
    expect(() => expect(broken).toHaveP99Below(50)).toThrow(
      /expected p99 below 50 ms; failed for the run \(\d+(\.\d+)?\) \(scenario half-broken, seed 7/,
    );
  });

  it('toHaveAvailabilityAtLeast compares metrics.availability', () => {
    expect(broken.metrics.availability).toBe(0.75);
    expect(broken).toHaveAvailabilityAtLeast(0.75);
    expect(() => expect(broken).toHaveAvailabilityAtLeast(0.9)).toThrow(
      /expected availability at least 0.9; failed for the run \(0.75\)/,
    );
  });

  it('toHaveDigest pins a run byte for byte', () => {
    const again = runScenario(mmc, { seed: 1, params: { customers: 2000 } });
    expect(again).toHaveDigest(small.digest);
    expect(() => expect(again).toHaveDigest('0000000000000000')).toThrow(/no longer the recorded one/);
  });

  const twoWays = defineScenario({
    name: 'two-ways',
    description: 'a fast variant and a slow one',
    params: {
      latency: param.number({ default: 10, min: 0, max: 1000, description: 'ms' }),
      requests: param.integer({ default: 50, min: 0, max: 1000, description: 'requests' }),
    },
    variants: [
      { name: 'fast', params: { latency: 10 } },
      { name: 'slow', params: { latency: 300 } },
      { name: 'idle', params: { requests: 0 } },
    ],
    run({ sim, params, requests }) {
      sim.process(function* () {
        for (let i = 0; i < params.requests; i++) {
          requests.start();
          yield sim.timeout(params.latency);
          requests.finish(i % 10 !== 0, params.latency);
        }
      });
      sim.run();
      return { latency: params.latency };
    },
  });
  const both = runScenario(twoWays, { seed: 3, variants: ['fast', 'slow'] });

  it('with variants, checks every variant unless one is named, and says which failed', () => {
    expect(both.headline).toBe('fast');
    expect(both.simulatedMs).toBe(both.variants[0]!.simulatedMs);
    expect(both).toHaveP99Below(400);
    expect(both).toHaveP99Below(20, { variant: 'fast' });
    expect(() => expect(both).toHaveP99Below(20)).toThrow(/failed for variant slow \(300\)/);
    expect(() => expect(both).toHaveP99Below(20)).not.toThrow(/variant fast \(/);
    expect(both).not.toHaveP99Below(20);
    expect(() => expect(both).toHaveP99Below(20, { variant: 'medium' })).toThrow(
      /no variant "medium" in this result; variants: fast, slow/,
    );
    expect(both).toHaveAvailabilityAtLeast(0.9, { variant: 'slow' });
  });

  it('fails with a clear message when no request was recorded, and availability is null', () => {
    const idle = runScenario(twoWays, { seed: 3, variants: ['idle'] });
    expect(idle.metrics.availability).toBeNull();
    expect(() => expect(idle).toHaveAvailabilityAtLeast(0.5)).toThrow(
      /no requests were recorded for variant idle/,
    );
    expect(() => expect(idle).toHaveP99Below(1000, { variant: 'idle' })).toThrow(/no requests were recorded/);
  });

  it('rejects something that is not a scenario result', () => {
    expect(() => expect({ nope: true }).toPassChecks()).toThrow(/expects a scenario result/);
  });
});
