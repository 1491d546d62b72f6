import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { type CheckModel, checkTimeline, healthChecks } from '../src/catalogue/health-checks.js';
import { runScenario } from '../src/scenario.js';

const HAPROXY: CheckModel = {
  interval: 2000,
  timeout: 2000,
  fall: 3,
  rise: 2,
  counting: 'health-counter',
  startup: 'healthy',
};
const ENVOY: CheckModel = {
  interval: 5000,
  timeout: 1000,
  fall: 3,
  rise: 2,
  counting: 'consecutive',
  startup: 'first-success',
};

describe('check timeline model (zero jitter, zero latency)', () => {
  it('matches the closed form: first check after the crash, then fall timeouts and fall - 1 intervals', () => {
    // HAProxy: checks at 0, 2, 4 ... s; the crash at 10.3 s fails the check of 12 s (timeout 14 s), then
    // 16 -> 18 and 20 -> 22 s.
    expect(checkTimeline(HAPROXY, (t) => t >= 10_300, 60_000)).toEqual([{ t: 22_000, healthy: false }]);
    // Envoy: up at 0 (one success at startup), checks at 5, 10, 15 s; 15 -> 16, 21 -> 22, 27 -> 28 s.
    expect(checkTimeline(ENVOY, (t) => t >= 10_300, 60_000)).toEqual([
      { t: 0, healthy: true },
      { t: 28_000, healthy: false },
    ]);
    // Over every phase of the crash, detection lies in [(fall-1)·I + fall·timeout, fall·(I + timeout)).
    for (const o of [HAPROXY, ENVOY]) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let crash = 10_001; crash < 10_000 + o.interval; crash += 97) {
        const down = checkTimeline(o, (t) => t >= crash, 120_000).find((f) => !f.healthy)!;
        lo = Math.min(lo, down.t - crash);
        hi = Math.max(hi, down.t - crash);
      }
      expect(lo).toBeGreaterThanOrEqual((o.fall - 1) * o.interval + o.fall * o.timeout);
      expect(hi).toBeLessThan(o.fall * (o.interval + o.timeout));
    }
  });

  it('HAProxy health counter: an isolated success only delays the fall', () => {
    const o = { ...HAPROXY, timeout: 500 };
    // Checks at 0, 2, ... 10 s pass (counter 4); from 10 s each fails after 500 ms: 10 -> 10.5,
    // 12.5 -> 13, 15 -> 15.5 DOWN (4 -> 3 -> 2 -> DOWN).
    expect(checkTimeline(o, (t) => t >= 10_000, 60_000)).toEqual([{ t: 15_500, healthy: false }]);
    // Up again for the check of 12.5 s: 4 -> 3, +1 -> 4, then three more failures: 14.5 -> 15,
    // 17 -> 17.5, 19.5 -> 20 DOWN.
    const blip = (t: number) => t >= 10_000 && !(t >= 12_000 && t < 13_000);
    expect(checkTimeline(o, blip, 60_000)).toEqual([{ t: 20_000, healthy: false }]);
  });
});

describe('health-checks scenario', () => {
  it.each([1, 2])('seed %i: detection times, flapping and panic mode', (seed) => {
    const r = runScenario(healthChecks, { seed });
    expect(r).toPassChecks();
    const o = (name: string) => r.variants.find((v) => v.name === name)!.outcome;
    // Deterministic (no jitter): HAProxy 22 s - 10.3 s, Envoy 28 s - 10.3 s, whatever the seed.
    expect(o('active-haproxy').detectMs).toBe(11_700);
    expect(o('active-envoy').detectMs).toBe(17_700);
    expect(o('panic').detectMs).toBe(17_700);
    // Passive: 5 timeouts of 1 s, the 5th request to backend-0 about 5 × 25 ms after the crash.
    const passive = o('passive');
    expect(passive.failuresInARowAtEjection).toBe(5);
    expect(passive.detectMs as number).toBeGreaterThan(1000);
    expect(passive.detectMs as number).toBeLessThan(1300);
    // Every request sent to backend-0 meanwhile failed: about 40/s × 1.1 s.
    expect(passive.failedBeforeDetect as number).toBeGreaterThan(30);
    expect(passive.failedBeforeDetect as number).toBeLessThan(70);
    expect(o('active-passive').detectMs).toBe(passive.detectMs);
    expect(o('active-passive').errorRateAfterDetect).toBe(0);
    // Outlier detection alone lets the host back after 30 s: it costs failures again, and a second ejection.
    expect(passive.ejections).toBe(2);
    expect(passive.errorRateAfterDetect as number).toBeGreaterThan(0);
    // None: 1/N of the requests after the crash fail, for ever.
    expect(o('none').detectMs).toBeNull();
    expect(o('none').errorRateAfterCrash as number).toBeCloseTo(0.2, 3);
    // Failures until detection grow with the detection time.
    expect(o('active-haproxy').failedBeforeDetect as number).toBeLessThan(
      o('active-envoy').failedBeforeDetect as number,
    );
    // Flapping: fall 3 never flips; fall 1 flips twice for each outage whose flips fall inside the run, and
    // holds backend-0 out 4 s each time (timeout, then 2 rise checks) though each outage lasts 1 s.
    expect(o('flapping-fall-3').flips).toBe(0);
    expect(o('flapping-fall-1').flips).toBe(11);
    expect(o('flapping-fall-1').markedDownMs).toBe(22_000);
    // Panic: no request refused, 3/5 fail; without panic mode the two healthy backends take everything.
    expect(o('panic').unavailable).toBe(0);
    expect(o('panic').errorRateAfterDetect as number).toBeCloseTo(0.6, 3);
    expect(o('panic-disabled').errorRateAfterDetect).toBe(0);
    expect(o('panic-disabled').panicked).toBe(0);
  });

  it('a crash phase right after a check costs Envoy-style checks almost fall × (interval + timeout)', () => {
    const r = runScenario(healthChecks, {
      seed: 3,
      params: { crashAtSeconds: 10.001, seconds: 40 },
      variants: ['active-envoy', 'active-haproxy'],
    });
    expect(r).toPassChecks();
    const o = (name: string) => r.variants.find((v) => v.name === name)!.outcome;
    // The check of 10 s passed; the next leaves at 15 s: 15 + 3 × 1 + 2 × 5 = 28 s.
    expect(o('active-envoy').detectMs).toBe(17_999);
    // 12 + 3 × 2 + 2 × 2 = 22 s.
    expect(o('active-haproxy').detectMs).toBe(11_999);
  });

  it('same seed, same result; bad parameters are refused', () => {
    const params = { seconds: 15, rate: 100 };
    const a = runScenario(healthChecks, { seed: 9, params, variants: ['passive', 'flapping-fall-1'] });
    const b = runScenario(healthChecks, { seed: 9, params, variants: ['passive', 'flapping-fall-1'] });
    expect(a.digest).toBe(b.digest);
    expect(() => runScenario(healthChecks, { seed: 1, params: { backends: 1 } })).toThrow(/backends/);
    expect(() => runScenario(healthChecks, { seed: 1, params: { rate: 100_000, seconds: 100 } })).toThrow(
      /rate × seconds/,
    );
    expect(() =>
      runScenario(healthChecks, { seed: 1, params: { backends: 2 }, variants: ['panic'] }),
    ).toThrow(/crashed/);
    expect(() =>
      runScenario(healthChecks, { seed: 1, params: { flapDownSeconds: 10 }, variants: ['flapping-fall-1'] }),
    ).toThrow(/flapDownSeconds/);
  });
});
