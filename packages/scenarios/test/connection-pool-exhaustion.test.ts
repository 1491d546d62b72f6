import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { connectionPoolExhaustion } from '../src/catalogue/connection-pool-exhaustion.js';
import { runScenario } from '../src/scenario.js';

describe('connection-pool-exhaustion scenario', () => {
  it.each([1, 2])('seed %i: waiting for ever takes the whole front down; failing fast does not', (seed) => {
    const r = runScenario(connectionPoolExhaustion, { seed, params: { seconds: 25 } });
    expect(r).toPassChecks();
    const by = (name: string) => r.variants.find((v) => v.name === name)!.outcome;
    const wait = by('unbounded-wait');
    // Little's law: 100 DB calls/s x 510 ms = 51 connections wanted, 10 available; L* = 10 / 100/s.
    expect(wait.poolNeed).toBeCloseTo(51, 9);
    expect(wait.saturationLatencyMs).toBe(100);
    expect(wait.poolActiveDuring as number).toBeGreaterThan(9.9);
    expect(wait.workersBusyDuring as number).toBeGreaterThan(0.95);
    expect(wait.maxPending as number).toBeGreaterThanOrEqual(100 - 10 - 5);
    expect(wait.plainAvailabilityDuring as number).toBeLessThan(0.3);
    // Failing fast: the pool still serves only poolSize / L = 19.6 DB calls/s (about 20% of them), but the
    // workers stay free and the requests that need no database are untouched.
    for (const name of ['acquire-timeout', 'bounded-pending']) {
      const o = by(name);
      expect(o.plainAvailabilityDuring as number, name).toBeGreaterThanOrEqual(0.99);
      expect(o.dbAvailabilityDuring as number, name).toBeGreaterThan(0.12);
      expect(o.dbAvailabilityDuring as number, name).toBeLessThan(0.3);
      expect(o.workersBusyDuring as number, name).toBeLessThan(0.5);
      // Little's law: P holders + the waiters the policy allows + the front's own work.
      expect(Math.abs((o.workersBusyDuring as number) - (o.predictedWorkersBusy as number))).toBeLessThan(
        0.05,
      );
    }
    expect(by('acquire-timeout').predictedWorkersBusy).toBeCloseTo((10 + 100 * 0.25 + 1) / 100, 9);
    expect(by('bounded-pending').predictedWorkersBusy).toBeCloseTo((10 + 5 + 1) / 100, 9);
    expect(by('acquire-timeout').poolTimeouts as number).toBeGreaterThan(500);
    expect(by('bounded-pending').poolOverflows as number).toBeGreaterThan(500);
    expect(by('bounded-pending').maxPending as number).toBeLessThanOrEqual(5);
    // 64 connections > 51 needed: nothing saturates, every request succeeds (510 ms < 1 s).
    const bigger = by('bigger-pool');
    expect(Math.abs((bigger.poolActiveDuring as number) - 51) / 51).toBeLessThan(0.1);
    expect(bigger.dbAvailabilityDuring as number).toBeGreaterThanOrEqual(0.99);
    for (const name of ['unbounded-wait', 'acquire-timeout', 'bounded-pending', 'bigger-pool'])
      expect(by(name).recovered, name).toBe(true);
  });

  it("the pool saturates where Little's law says: at DB latency L* = poolSize / lambda_db = 100 ms", () => {
    const saturated = (latency: number, seed: number): boolean => {
      const r = runScenario(connectionPoolExhaustion, {
        seed,
        params: { dbSlowMs: latency - 10, seconds: 25 },
        variants: ['unbounded-wait'],
      });
      expect(r).toPassChecks();
      return (r.outcome.poolActiveDuring as number) >= 0.97 * 10 && (r.outcome.maxPending as number) >= 50;
    };
    for (const seed of [1, 2]) {
      expect(saturated(70, seed), `L 70 ms, seed ${seed}`).toBe(false);
      expect(saturated(90, seed), `L 90 ms, seed ${seed}`).toBe(false);
      expect(saturated(110, seed), `L 110 ms, seed ${seed}`).toBe(true);
      expect(saturated(130, seed), `L 130 ms, seed ${seed}`).toBe(true);
    }
  });

  it("HikariCP's default connectionTimeout (30 s) is no protection against a 10 s incident", () => {
    const r = runScenario(connectionPoolExhaustion, {
      seed: 1,
      params: { acquireTimeoutMs: 30_000, seconds: 25 },
      variants: ['acquire-timeout'],
    });
    expect(r).toPassChecks();
    expect(r.outcome.predictedWorkersBusy).toBe(1);
    expect(r.outcome.poolTimeouts).toBe(0);
    expect(r.outcome.plainAvailabilityDuring as number).toBeLessThan(0.3);
  });

  it('negative control: a DB slowdown below L* leaves every variant whole', () => {
    const r = runScenario(connectionPoolExhaustion, { seed: 3, params: { dbSlowMs: 40, seconds: 25 } });
    expect(r).toPassChecks();
    for (const v of r.variants) {
      expect(v.metrics.availability, v.name).toBeGreaterThan(0.999);
      expect(v.outcome.poolTimeouts, v.name).toBe(0);
      expect(v.outcome.poolOverflows, v.name).toBe(0);
    }
    // Little's law below saturation: 100/s x 50 ms = 5 connections busy on average.
    const wait = r.variants.find((v) => v.name === 'unbounded-wait')!.outcome;
    expect(Math.abs((wait.poolActiveDuring as number) - 5)).toBeLessThan(0.5);
  });

  it('is deterministic: same seed, same digest and outcome', () => {
    const run = () =>
      runScenario(connectionPoolExhaustion, {
        seed: 9,
        params: { seconds: 25 },
        variants: ['acquire-timeout'],
      });
    const a = run();
    const b = run();
    expect(a.digest).toBe(b.digest);
    expect(a.outcome).toEqual(b.outcome);
  });
});
