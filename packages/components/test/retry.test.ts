import { DsimError, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { createBackoff } from '../src/resilience/backoff.js';
import { AdaptiveThrottle, EnvoyRetryBudget, RetryQuota } from '../src/resilience/retry-budget.js';

function mean(n: number, draw: () => number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += draw();
  return sum / n;
}

describe('backoff (Brooker formulas, base 5, cap 2000)', () => {
  const rng = new Simulation({ seed: 1 }).rng('backoff');
  const N = 40_000;

  it('none and exponential without jitter are exact: 0 and min(cap, base * 2^n)', () => {
    expect(createBackoff({ kind: 'none' }).delay(3, rng)).toBe(0);
    const exp = createBackoff({ kind: 'exponential', baseMs: 5, capMs: 2000, jitter: 'none' });
    expect([1, 2, 3, 8, 9, 10].map((n) => exp.delay(n, rng))).toEqual([10, 20, 40, 1280, 2000, 2000]);
    expect(createBackoff({ kind: 'fixed', delayMs: 500 }).delay(2, rng)).toBe(500);
  });

  it('full jitter is uniform on [0, v): mean v/2; equal jitter on [v/2, v): mean 3v/4', () => {
    const full = createBackoff({ kind: 'exponential', baseMs: 5, capMs: 2000, jitter: 'full' });
    const equal = createBackoff({ kind: 'exponential', baseMs: 5, capMs: 2000, jitter: 'equal' });
    for (const n of [1, 4, 10]) {
      const v = Math.min(2000, 5 * 2 ** n);
      const se = v / Math.sqrt(12 * N); // sd of uniform(0, v) / sqrt(N)
      expect(Math.abs(mean(N, () => full.delay(n, rng)) - v / 2)).toBeLessThan(5 * se);
      expect(Math.abs(mean(N, () => equal.delay(n, rng)) - (3 * v) / 4)).toBeLessThan(5 * (se / 2));
      for (let i = 0; i < 1000; i++) {
        const d = equal.delay(n, rng);
        expect(d >= v / 2 && d < v).toBe(true);
      }
    }
  });

  it('decorrelated jitter stays in [base, min(cap, 3 * previous)] and its chain grows', () => {
    const dec = createBackoff({ kind: 'exponential', baseMs: 5, capMs: 2000, jitter: 'decorrelated' });
    let prev = 5;
    const chain: number[] = [];
    for (let n = 1; n <= 30; n++) {
      const d = dec.delay(n, rng, prev);
      expect(d).toBeGreaterThanOrEqual(5);
      expect(d).toBeLessThanOrEqual(Math.min(2000, 3 * prev));
      chain.push(d);
      prev = d;
    }
    expect(Math.max(...chain)).toBeGreaterThan(100);
  });

  it("Envoy's current router backoff has means 12.5, 25, 50, 100, 125 ms for retries 1 to 5", () => {
    const envoy = createBackoff({ kind: 'envoy' });
    const expected = [12.5, 25, 50, 100, 125];
    expected.forEach((m, i) => {
      const width = 2 * m;
      expect(Math.abs(mean(N, () => envoy.delay(i + 1, rng)) - m)).toBeLessThan(
        5 * (width / Math.sqrt(12 * N)),
      );
    });
  });

  it('rejects bad specs and retry numbers, naming the field', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => createBackoff({ kind: 'exponential', baseMs: 0, capMs: 10, jitter: 'full' }), 'backoff.baseMs'],
      [() => createBackoff({ kind: 'exponential', baseMs: 10, capMs: 5, jitter: 'full' }), 'backoff.capMs'],
      [
        () => createBackoff({ kind: 'exponential', baseMs: 1, capMs: 5, jitter: 'some' as 'full' }),
        'backoff.jitter',
      ],
      [() => createBackoff({ kind: 'fixed', delayMs: -1 }), 'backoff.delayMs'],
      [() => createBackoff({ kind: 'linear' } as never), 'backoff.kind'],
      [() => createBackoff({ kind: 'none' }).delay(0, rng), 'retry'],
    ];
    for (const [fn, field] of cases) {
      try {
        fn();
        throw new Error(`expected ${field} to be rejected`);
      } catch (error) {
        expect(error).toBeInstanceOf(DsimError);
        expect((error as DsimError).message).toContain(field);
      }
    }
  });
});

describe('retry budgets', () => {
  it('AWS SDK quota: 50 timeout retries or 100 plain retries from 500 tokens, then none', () => {
    const q = new RetryQuota();
    let timeoutRetries = 0;
    while (q.acquire('timeout') > 0) timeoutRetries++;
    expect(timeoutRetries).toBe(50);
    const q2 = new RetryQuota();
    let plain = 0;
    while (q2.acquire('other') > 0) plain++;
    expect(plain).toBe(100);
  });

  it('AWS SDK quota: about 10 clean calls re-enable one timeout retry; a successful retry refunds its cost', () => {
    const q = new RetryQuota();
    while (q.acquire('timeout') > 0);
    for (let i = 0; i < 9; i++) q.onSuccess();
    expect(q.acquire('timeout')).toBe(0);
    q.onSuccess();
    expect(q.acquire('timeout')).toBe(10);
    q.onSuccess(10);
    expect(q.available).toBe(10);
    const full = new RetryQuota();
    full.onSuccess();
    expect(full.available).toBe(500); // capped
  });

  it('Envoy budget: max(3, 20% of active + pending)', () => {
    const b = new EnvoyRetryBudget();
    expect(b.limit(5)).toBe(3);
    expect(b.limit(100)).toBe(20);
    expect(b.allows(100, 19)).toBe(true);
    expect(b.allows(100, 20)).toBe(false);
    expect(() => new EnvoyRetryBudget({ budgetPercent: 120 })).toThrow(/budgetPercent/);
  });

  it('SRE adaptive throttling: with demand above capacity the backend sees about K x capacity', () => {
    const sim = new Simulation({ seed: 5 });
    const rng = sim.rng('throttle');
    const throttle = new AdaptiveThrottle({ k: 2 });
    const demand = 100; // requests per second
    const capacity = 20; // the backend accepts at most this many per second
    let sentInLastMinute = 0;
    for (let second = 0; second < 600; second++) {
      let accepted = 0;
      let sent = 0;
      for (let i = 0; i < demand; i++) {
        const now = second * 1000 + (i * 1000) / demand;
        if (!throttle.admit(now, rng)) continue;
        sent++;
        if (accepted < capacity) {
          accepted++;
          throttle.recordAccept(now);
        }
      }
      if (second >= 540) sentInLastMinute += sent;
    }
    const perSecond = sentInLastMinute / 60;
    expect(perSecond).toBeGreaterThan(2 * capacity * 0.9);
    expect(perSecond).toBeLessThan(2 * capacity * 1.1);
    // Local reject probability at steady state: 1 - K*C/D = 0.6.
    expect(throttle.rejectProbability(600_000)).toBeCloseTo(0.6, 1);
  });

  it('SRE adaptive throttling never rejects a healthy backend', () => {
    const throttle = new AdaptiveThrottle();
    for (let t = 0; t < 10_000; t += 10) {
      throttle.admit(t, new Simulation().rng('x'));
      throttle.recordAccept(t);
    }
    expect(throttle.rejectProbability(10_000)).toBe(0);
    expect(() => new AdaptiveThrottle({ k: 0.5 })).toThrow(/k must be/);
  });
});
