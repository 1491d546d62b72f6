import { availabilityFromMttf, replicasForObjective, serialAvailability } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import {
  mgcMeanWait,
  processAvailability,
  requestAvailability,
  timeAvailabilityVariance,
} from '../src/catalogue/decomposition-theory.js';
import { CHECKOUT_MODULES, monolithVsMicroservices } from '../src/catalogue/monolith-vs-microservices.js';
import { runScenario, type ScenarioResult } from '../src/scenario.js';

const num = (r: ScenarioResult, variant: string, key: string): number =>
  r.variants.find((v) => v.name === variant)!.outcome[key] as number;

function expectAllPass(r: ScenarioResult, label: string): void {
  for (const v of r.variants)
    for (const c of v.checks) expect(c.pass, `${label} ${v.name}: ${c.name}: ${c.detail}`).toBe(true);
  for (const c of r.checks) expect(c.pass, `${label} ${c.name}: ${c.detail}`).toBe(true);
}

// The sizing rule, written out here with core's function: M/M/c, p99 at most 6 × the mean CPU.
const sized = (rate: number, meanMs: number): number =>
  replicasForObjective({
    rate,
    serviceTime: meanMs,
    objective: { kind: 'response-percentile', percentile: 0.99, max: 6 * meanMs },
  }).replicas;

const WORK = CHECKOUT_MODULES.reduce((s, m) => s + m.workMs, 0); // 15 ms

describe('monolith-vs-microservices scenario', () => {
  // Outcomes are rounded to 9 significant digits: formulas are compared to 8 decimals.
  it('every variant passes its checks at the defaults, across seeds, and the figures follow the formulas', () => {
    for (const seed of [1, 2]) {
      const r = runScenario(monolithVsMicroservices, { seed });
      expectAllPass(r, `seed ${seed}`);

      // Latency floors: the monolith one hop and its work (plus decoding and encoding the checkout);
      // the microservices a hop and four serializations per call on top.
      expect(num(r, 'monolith', 'floorMs')).toBeCloseTo(0.5 + WORK + 0.2, 8);
      expect(num(r, 'microservices', 'floorMs')).toBeCloseTo(0.5 + WORK + 0.2 + 7 * (0.5 + 0.4), 9);
      expect(num(r, 'monolith', 'meanMs')).toBeLessThan(num(r, 'microservices', 'meanMs'));

      // Availability: one process against seven in series (a = 80/81 each), less the checkouts cut off
      // in flight; both within 4 SE of the measurement (the variant checks) and far apart.
      const a = availabilityFromMttf(10_000, 125);
      expect(num(r, 'monolith', 'availabilityTimeTheory')).toBeCloseTo(a, 8);
      expect(num(r, 'microservices', 'availabilityTimeTheory')).toBeCloseTo(
        serialAvailability(Array(7).fill(a)),
        8,
      );
      expect(num(r, 'monolith', 'availability') - num(r, 'microservices', 'availability')).toBeGreaterThan(
        0.04,
      );
      // The leak: the monolith process is up E[min(X, 500)] / (E[min(X, 500)] + 125) of the time.
      const up = 10_000 * (1 - Math.exp(-500 / 10_000));
      expect(num(r, 'monolith-leak', 'availabilityTimeTheory')).toBeCloseTo(up / (up + 125), 8);
      expect(
        num(r, 'microservices-leak', 'availability') - num(r, 'monolith-leak', 'availability'),
      ).toBeGreaterThan(0.1);
      expect(num(r, 'microservices-leak', 'degradedShare')).toBeGreaterThan(0.15);

      // Sizing: every count is core's M/M/c answer; the hotspot adds replicas to pricing alone.
      const hot = (name: string) => (name === 'pricing' ? 3 : 1);
      const monoBefore = sized(400, WORK + 0.2);
      const monoAfter = sized(400, WORK + 0.2 + 2 * 2);
      expect(num(r, 'monolith-hotspot', 'coresBefore')).toBe(monoBefore);
      expect(num(r, 'monolith-hotspot', 'cores')).toBe(monoAfter);
      expect(monoAfter).toBeGreaterThan(monoBefore);
      for (const m of CHECKOUT_MODULES)
        expect(num(r, 'microservices-hotspot', `replicas.${m.name}`), m.name).toBe(
          sized(400, m.workMs * hot(m.name) + 0.2),
        );
      expect(num(r, 'microservices-hotspot', 'replicas.pricing')).toBeGreaterThan(sized(400, 2.2));
      // CPU per checkout: the microservices pay 30 serializations of 0.1 ms, the monolith 2.
      expect(num(r, 'monolith-hotspot', 'cpuTheoryMs')).toBeCloseTo(WORK + 4 + 0.2, 9);
      expect(num(r, 'microservices-hotspot', 'cpuTheoryMs')).toBeCloseTo(WORK + 4 + 3.0, 9);
    }
  });

  it('would catch a wrong model: no hops, a wrong availability formula, one replica fewer', () => {
    const r = runScenario(monolithVsMicroservices, {
      seed: 3,
      variants: ['monolith', 'microservices'],
    });
    expectAllPass(r, 'seed 3');
    // A latency theory without the seven hops is 3.5 ms off: far outside 4 SE.
    const mean = num(r, 'microservices', 'meanMs');
    const se = num(r, 'microservices', 'meanSe');
    const theory = num(r, 'microservices', 'meanTheoryMs');
    expect(Math.abs(mean - theory)).toBeLessThan(4 * se + 0.5);
    expect(Math.abs(mean - (theory - 7 * 0.5))).toBeGreaterThan(4 * se + 0.5);
    // Availability: the microservices as one component, or the monolith as seven in series, are wrong.
    const a = availabilityFromMttf(10_000, 125);
    const micro = num(r, 'microservices', 'availability');
    const mono = num(r, 'monolith', 'availability');
    expect(Math.abs(micro - a)).toBeGreaterThan(4 * num(r, 'microservices', 'availabilitySe'));
    expect(Math.abs(mono - a ** 7)).toBeGreaterThan(4 * num(r, 'monolith', 'availabilitySe'));

    // One replica fewer than M/M/c's count misses the p99 objective, in both designs.
    const fewer = runScenario(monolithVsMicroservices, {
      seed: 1,
      variants: ['monolith-hotspot', 'microservices-hotspot'],
      params: { replicaOffset: -1 },
    });
    for (const v of fewer.variants) {
      const objective = v.checks.find((c) => c.name.startsWith('every deployable meets its p99 objective'))!;
      expect(objective.pass, `${v.name}: ${objective.detail}`).toBe(false);
    }
  });

  it('with crashes from each module’s code the monolith loses its availability edge', () => {
    const r = runScenario(monolithVsMicroservices, {
      seed: 4,
      variants: ['monolith', 'microservices'],
      params: { failureModel: 'per-module', seconds: 300 },
    });
    expectAllPass(r, 'per-module');
    // Eight parts (seven modules and the checkout flow) crash the one process: MTTF / 8.
    expect(num(r, 'monolith', 'availabilityTimeTheory')).toBeCloseTo(
      availabilityFromMttf(10_000 / 8, 125),
      8,
    );
    expect(num(r, 'microservices', 'availabilityTheory')).toBeGreaterThan(
      num(r, 'monolith', 'availabilityTheory'),
    );
  });

  it('the formulas: Pollaczek–Khinchine for one server, renewal availability, in-flight losses', () => {
    // M/G/1 with exponential service: the M/M/1 wait ρ/(μ − λ).
    expect(mgcMeanWait(1, 0.05, 10, 100)).toBeCloseTo(0.5 / (0.1 - 0.05), 8);
    // Deterministic service halves it (CV² = 0).
    expect(mgcMeanWait(1, 0.05, 10, 0)).toBeCloseTo(0.5 / (0.1 - 0.05) / 2, 8);
    expect(mgcMeanWait(1, 0.2, 10, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(processAvailability(0, 0, 125)).toBe(1);
    expect(processAvailability(0, 500, 125)).toBeCloseTo(500 / 625, 8);
    expect(requestAvailability(10_000, 0, 125, 20)).toBeCloseTo((80 / 81) * Math.exp(-20 / 10_000), 8);
    // Exponential up and down: Var = A²(1 − A)² · 2 / n, n cycles.
    const A = 80 / 81;
    expect(timeAvailabilityVariance(10_000, 0, 125, 1_012_500)).toBeCloseTo(
      (A * A * (1 - A) * (1 - A) * 2) / 100,
      15,
    );
    expect(timeAvailabilityVariance(0, 0, 125, 1000)).toBe(0);
  });

  it('refuses parameters that cannot run, naming them', () => {
    expect(() =>
      runScenario(monolithVsMicroservices, {
        seed: 1,
        variants: ['monolith'],
        params: { replicaOffset: -2 },
      }),
    ).toThrow(/replicaOffset/);
    expect(() => runScenario(monolithVsMicroservices, { seed: 1, params: { p99Factor: 4 } })).toThrow(
      /p99Factor/,
    );
    expect(() => runScenario(monolithVsMicroservices, { seed: 1, params: { hotModule: 'search' } })).toThrow(
      /hotModule/,
    );
    expect(() =>
      runScenario(monolithVsMicroservices, {
        seed: 1,
        variants: ['monolith'],
        params: { rate: 10_000, seconds: 100 },
      }),
    ).toThrow(/rate × seconds/);
    // Crash loops are bounded too: a crash every microsecond for 400 s is a runaway, not a model.
    expect(() =>
      runScenario(monolithVsMicroservices, {
        seed: 1,
        variants: ['microservices'],
        params: { mttfMs: 0.001, mttrMs: 0.001 },
      }),
    ).toThrow(/crash cycles/);
  });

  it('is deterministic: the same seed gives the same digest', () => {
    const run = () =>
      runScenario(monolithVsMicroservices, {
        seed: 7,
        variants: ['microservices-leak'],
        params: { seconds: 5 },
      }).digest;
    expect(run()).toBe(run());
  });
});
