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
      /expected p99 \d+(\.\d+)? ms to be below 50 ms \(scenario half-broken, seed 7/,
    );
  });

  it('toHaveAvailabilityAtLeast compares metrics.availability', () => {
    expect(broken.metrics.availability).toBe(0.75);
    expect(broken).toHaveAvailabilityAtLeast(0.75);
    expect(() => expect(broken).toHaveAvailabilityAtLeast(0.9)).toThrow(
      /availability 0.75 to be at least 0.9/,
    );
  });

  it('toHaveDigest pins a run byte for byte', () => {
    const again = runScenario(mmc, { seed: 1, params: { customers: 2000 } });
    expect(again).toHaveDigest(small.digest);
    expect(() => expect(again).toHaveDigest('0000000000000000')).toThrow(/no longer the recorded one/);
  });

  it('rejects something that is not a scenario result', () => {
    expect(() => expect({ nope: true }).toPassChecks()).toThrow(/expects a scenario result/);
  });
});
