import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { timeoutCascade } from '../src/catalogue/timeout-cascade.js';
import { runScenario } from '../src/scenario.js';

describe('timeout-cascade scenario', () => {
  it.each([1, 2])('seed %i: how far the slowdown of C spreads depends on the timeouts', (seed) => {
    const r = runScenario(timeoutCascade, { seed, params: { seconds: 25 } });
    expect(r).toPassChecks();
    const by = (name: string) => r.variants.find((v) => v.name === name)!;
    const none = by('no-timeouts').outcome;
    const uniform = by('uniform-timeouts').outcome;
    const decreasing = by('decreasing-timeouts');
    const deadline = by('deadline-propagation').outcome;
    const lifo = by('deadline-lifo').outcome;
    // C can serve 10 / (20 ms x 10) = 50/s during the fault, half the offered 100/s.
    expect(uniform.cCapacityDuring).toBe(50);
    // Without timeouts or with uniform ones, A's and B's workers are all tied up and the clients time out:
    // almost nothing gets through, and what the tiers finish late is wasted all the way down.
    for (const o of [none, uniform]) {
      expect(o.busyA as number).toBeGreaterThan(0.9);
      expect(o.busyB as number).toBeGreaterThan(0.9);
      expect(o.successDuring as number).toBeLessThan(0.2);
      expect(o.wastedA as number).toBeGreaterThan(0);
      expect(o.wastedC as number).toBeGreaterThanOrEqual(o.wastedA as number);
    }
    // Shrinking timeouts: A and B stay below saturation (Little's law, 100/s x 300 ms / 40 = 0.75) and
    // clients get a fast error instead of a timeout; the waste moves to the leaf, whose queue keeps
    // requests B has given up on.
    expect(decreasing.outcome.busyA as number).toBeLessThan(0.85);
    expect(decreasing.outcome.lateAtClient).toBe(0);
    expect(decreasing.metrics.latencyMs.p99).toBeLessThan(500);
    expect(decreasing.outcome.lateAtB as number).toBeGreaterThan(0);
    expect(decreasing.outcome.maxQueueC as number).toBeGreaterThan(100);
    // Deadline propagation: the tiers drop expired work, so C wastes less; with adaptive LIFO it serves
    // the freshest requests and wastes almost nothing.
    expect(deadline.droppedExpired as number).toBeGreaterThan(0);
    expect(deadline.wastedC as number).toBeLessThan(0.6 * (uniform.wastedC as number));
    expect(lifo.wastedShareC as number).toBeLessThan(0.02);
    expect(lifo.goodputDuring as number).toBeGreaterThan(40);
    for (const v of r.variants) expect(v.outcome.recovered, v.name).toBe(true);
  });

  it('with client retries, uniform timeouts amplify the load and recover later than deadlines', () => {
    const r = runScenario(timeoutCascade, {
      seed: 1,
      params: { retries: 2, seconds: 40 },
      variants: ['uniform-timeouts', 'deadline-propagation'],
    });
    expect(r).toPassChecks();
    const [uniform, deadline] = r.variants.map((v) => v.outcome);
    expect(uniform!.attemptsPerRequest as number).toBeGreaterThan(1.5);
    expect(uniform!.attemptsPerRequest as number).toBeGreaterThan(deadline!.attemptsPerRequest as number);
    expect(uniform!.recoveryMs as number).toBeGreaterThanOrEqual(3000);
    expect(deadline!.recoveryMs).toBe(0);
    expect(deadline!.wastedC as number).toBeLessThan(0.2 * (uniform!.wastedC as number));
  });

  it('negative control: when C only halves its speed (still above the load) nothing cascades', () => {
    const r = runScenario(timeoutCascade, { seed: 3, params: { slowdown: 2, seconds: 25 } });
    expect(r).toPassChecks();
    for (const v of r.variants) {
      expect(v.metrics.availability, v.name).toBeGreaterThan(0.99);
      expect(v.outcome.busyA as number, v.name).toBeLessThan(0.3);
      expect(v.outcome.wastedShareC as number, v.name).toBeLessThan(0.01);
    }
  });

  it('is deterministic: same seed, same digest and outcome', () => {
    const run = () =>
      runScenario(timeoutCascade, { seed: 5, params: { seconds: 25 }, variants: ['uniform-timeouts'] });
    const a = run();
    const b = run();
    expect(a.digest).toBe(b.digest);
    expect(a.outcome).toEqual(b.outcome);
  });
});
