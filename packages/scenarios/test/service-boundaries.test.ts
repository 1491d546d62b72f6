import { availabilityFromMttf, serialAvailability } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { LatencyGrid } from '../src/catalogue/latency-grid.js';
import { ORDER_CAPABILITIES, ORDER_WORK_MS, serviceBoundaries } from '../src/catalogue/service-boundaries.js';
import { runScenario, type ScenarioResult } from '../src/scenario.js';

const num = (r: ScenarioResult, variant: string, key: string): number =>
  r.variants.find((v) => v.name === variant)!.outcome[key] as number;

function expectAllPass(r: ScenarioResult, label: string): void {
  for (const v of r.variants)
    for (const c of v.checks) expect(c.pass, `${label} ${v.name}: ${c.name}: ${c.detail}`).toBe(true);
  for (const c of r.checks) expect(c.pass, `${label} ${c.name}: ${c.detail}`).toBe(true);
}

const WORK = ORDER_CAPABILITIES.reduce((s, c) => s + c.workMs, 0); // 6 ms
const LN100 = Math.log(100);

/** The p99 of an Erlang-k time of mean k·m: its CDF 1 − e^(−x) Σ_{j<k} x^j / j!, x = t/m, bisected. */
function erlangP99(k: number, m: number): number {
  const cdf = (t: number) => {
    const x = t / m;
    let term = 1;
    let sum = 1;
    for (let j = 1; j < k; j++) {
      term *= x / j;
      sum += term;
    }
    return 1 - Math.exp(-x) * sum;
  };
  let lo = 0;
  let hi = 100 * k * m;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < 0.99) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

describe('service-boundaries scenario', () => {
  it('every variant passes its checks at the defaults, across seeds, and the figures follow the formulas', () => {
    for (const seed of [1, 2]) {
      const r = runScenario(serviceBoundaries, { seed });
      expectAllPass(r, `seed ${seed}`);
      expect(num(r, 'fine', 'callsPerOrder')).toBe(5);
      expect(num(r, 'coarse', 'callsPerOrder')).toBe(2);
      // CPU per order: work, plus 0.1 ms per message; a coarse answer weighs three fine ones.
      // Fine: the order decodes and encodes (0.2), 5 calls × 2 messages at each end (2.0).
      expect(num(r, 'fine', 'orderCpuTheoryMs')).toBeCloseTo(ORDER_WORK_MS + WORK + 0.2 + 2.0, 8);
      // Coarse: 2 calls × (0.1 + 0.3) at each end (1.6).
      expect(num(r, 'coarse', 'orderCpuTheoryMs')).toBeCloseTo(ORDER_WORK_MS + WORK + 0.2 + 1.6, 8);
      // A price check: the price alone (fine), or price and tax with the larger answer (coarse).
      expect(num(r, 'fine', 'checkCpuTheoryMs')).toBeCloseTo(1.5 + 0.2, 8);
      expect(num(r, 'coarse', 'checkCpuTheoryMs')).toBeCloseTo(2.5 + 0.4, 8);
      expect(num(r, 'coarse', 'cores')).toBeLessThan(num(r, 'fine', 'cores'));
      // Availability: six deployables in series against three, each a = 80/81, less the in-flight cuts.
      const a = availabilityFromMttf(10_000, 125);
      expect(num(r, 'fine', 'orderAvailabilityTheory')).toBeLessThan(serialAvailability(Array(6).fill(a)));
      expect(num(r, 'fine', 'orderAvailabilityTheory')).toBeGreaterThan(
        serialAvailability(Array(6).fill(a)) - 0.003,
      );
      expect(num(r, 'coarse', 'orderAvailabilityTheory')).toBeLessThan(serialAvailability(Array(3).fill(a)));
      expect(num(r, 'coarse', 'orderAvailabilityTheory')).toBeGreaterThan(
        serialAvailability(Array(3).fill(a)) - 0.003,
      );
      // The slow tax leaves the fine price checks' theory where it was.
      expect(num(r, 'fine-slow-tax', 'checkMeanTheoryMs')).toBeCloseTo(
        num(r, 'fine', 'checkMeanTheoryMs'),
        8,
      );
      expect(num(r, 'coarse-slow-tax', 'checkMeanTheoryMs')).toBeGreaterThan(
        num(r, 'coarse', 'checkMeanTheoryMs') + 4,
      );
    }
  });

  it('would catch a wrong model: a sum of p99s, no hops, parallel calls taken as a sequence, the wrong chain', () => {
    const r = runScenario(serviceBoundaries, { seed: 3, variants: ['fine', 'coarse'] });
    expectAllPass(r, 'seed 3');
    // Adding the parts' p99s assumes every part is slow at once: far above the measured p99 of the sum.
    const parts =
      0.5 +
      1.2 +
      LN100 * ORDER_WORK_MS +
      ORDER_CAPABILITIES.reduce((s, c) => s + 0.5 + 0.2 + LN100 * c.workMs, 0);
    expect(parts).toBeGreaterThan(1.5 * num(r, 'fine', 'orderP99Ms'));
    // A mean without the five hops is 2.5 ms low; a sequence instead of the two parallel calls adds at
    // least a hop and the shorter call's serialization (0.9 ms): both far outside 4 SE.
    const tol = (v: string) => 4 * num(r, v, 'orderMeanSe') + 0.3;
    expect(Math.abs(num(r, 'fine', 'orderMeanMs') - num(r, 'fine', 'orderMeanTheoryMs'))).toBeLessThan(
      tol('fine'),
    );
    expect(
      Math.abs(num(r, 'fine', 'orderMeanMs') - (num(r, 'fine', 'orderMeanTheoryMs') - 2.5)),
    ).toBeGreaterThan(tol('fine'));
    expect(num(r, 'coarse', 'orderMeanTheoryMs') + 0.9 - num(r, 'coarse', 'orderMeanMs')).toBeGreaterThan(
      tol('coarse'),
    );
    // Availability: the coarse design measured against the six-deployable chain is rejected.
    const a = availabilityFromMttf(10_000, 125);
    expect(Math.abs(num(r, 'coarse', 'orderAvailability') - a ** 6)).toBeGreaterThan(
      4 * num(r, 'coarse', 'orderAvailabilitySe'),
    );
  });

  it('LatencyGrid: sums convolve, maxima multiply, constants stay exact', () => {
    const dt = 0.05;
    const e = LatencyGrid.exponential(2, dt);
    expect(e.mean).toBeCloseTo(2, 3);
    expect(e.quantile(0.99)).toBeCloseTo(2 * LN100, 1);
    const chain = e.plus(e).plus(e).plus(LatencyGrid.constant(1.5, dt));
    expect(chain.offset).toBe(1.5);
    expect(chain.mean).toBeCloseTo(7.5, 3);
    expect(chain.quantile(0.99)).toBeCloseTo(1.5 + erlangP99(3, 2), 1);
    // The larger of two independent exponentials: mean 1.5 m; P(max ≤ t) = (1 − e^(−t/m))².
    const max = e.max(e);
    expect(max.mean).toBeCloseTo(3, 3);
    expect(max.quantile(0.99)).toBeCloseTo(-2 * Math.log(1 - Math.sqrt(0.99)), 1);
    // A wait: none with probability 1 − C, else exponential; the mean as given.
    const w = LatencyGrid.wait(0.3, 1.2, dt);
    expect(w.mean).toBeCloseTo(1.2, 3);
    expect(w.mass[0]).toBeGreaterThan(0.7);
    expect(LatencyGrid.mgcWait(1, 0.2, 10, 100, dt)).toBeNull();
    expect(() => LatencyGrid.exponential(1, 0)).toThrow(/dt/);
    expect(() => LatencyGrid.wait(1.5, 1, dt)).toThrow(/probWait/);
    expect(() => e.quantile(1)).toThrow(/p must/);
    expect(() => e.plus(LatencyGrid.exponential(1, 0.1))).toThrow(/same step/);
  });

  it('without price checks, and refusing parameters that cannot run', () => {
    const r = runScenario(serviceBoundaries, {
      seed: 5,
      variants: ['fine-slow-tax', 'coarse-slow-tax'],
      params: { priceCheckRate: 0, seconds: 20 },
    });
    expectAllPass(r, 'no price checks');
    expect(num(r, 'fine-slow-tax', 'priceChecks')).toBe(0);
    expect(r.variants[0]!.outcome.checkMeanMs).toBeNull();
    expect(() => runScenario(serviceBoundaries, { seed: 1, params: { payloadFactor: -1 } })).toThrow(
      /payloadFactor/,
    );
    expect(() => runScenario(serviceBoundaries, { seed: 1, params: { boundaries: 'micro' } })).toThrow(
      /boundaries/,
    );
    expect(() =>
      runScenario(serviceBoundaries, {
        seed: 1,
        variants: ['fine'],
        params: { orderRate: 5000, seconds: 200 },
      }),
    ).toThrow(/seconds/);
    expect(() =>
      runScenario(serviceBoundaries, {
        seed: 1,
        variants: ['coarse'],
        params: { mttfMs: 0.001, mttrMs: 0.001 },
      }),
    ).toThrow(/crash cycles/);
  });

  it('is deterministic: the same seed gives the same digest', () => {
    const run = () =>
      runScenario(serviceBoundaries, { seed: 7, variants: ['coarse'], params: { seconds: 5 } }).digest;
    expect(run()).toBe(run());
  });
});
