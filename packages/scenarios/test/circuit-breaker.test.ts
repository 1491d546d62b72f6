import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { circuitBreaker } from '../src/catalogue/circuit-breaker.js';
import { runScenario } from '../src/scenario.js';

type Figures = Record<string, number | string | boolean | null>;

/** `"OPEN 10.410, HALF_OPEN 15.413, ..."` as [state, seconds] pairs. */
function transitions(timeline: unknown): Array<[string, number]> {
  if (typeof timeline !== 'string' || timeline === '') return [];
  return timeline.split(', ').map((entry) => {
    const [state, at] = entry.split(' ');
    return [state!, Number(at)];
  });
}

function byVariant(seed: number, params: Record<string, unknown> = {}, variants?: string[]) {
  const r = runScenario(circuitBreaker, { seed, params, ...(variants ? { variants } : {}) });
  const by = Object.fromEntries(r.variants.map((v) => [v.name, v.outcome as Figures]));
  return { r, by };
}

describe('circuit-breaker scenario', () => {
  it.each([1, 2])('seed %i: breakers trip, probe, close, and cut load as resilience4j specifies', (seed) => {
    const { r, by } = byVariant(seed);
    expect(r).toPassChecks();
    const none = by.none!;
    expect(none.loadFactor).toBe(1);
    expect(none.okShareDuringFault as number).toBeLessThan(0.01);
    expect(none.p50DuringFaultMs as number).toBeGreaterThan(5); // every call waits for its error

    for (const name of ['count-based', 'time-based', 'slow-call']) {
      const v = by[name]!;
      const t = transitions(v.timeline);
      // CLOSED -> OPEN, then (HALF_OPEN -> OPEN)*, then HALF_OPEN -> CLOSED after recovery.
      expect(t[0]![0]).toBe('OPEN');
      expect(t.at(-1)![0]).toBe('CLOSED');
      expect(t.at(-2)![0]).toBe('HALF_OPEN');
      for (let i = 1; i < t.length; i++)
        expect(t[i]![0]).toBe(i % 2 === 1 ? 'HALF_OPEN' : i === t.length - 1 ? 'CLOSED' : 'OPEN');
      // Lazy transition (the default): HALF_OPEN comes with the first call after the 5 s wait.
      for (let i = 1; i < t.length; i += 2) {
        const waited = t[i]![1] - t[i - 1]![1];
        expect(waited).toBeGreaterThan(5);
        expect(waited).toBeLessThan(5.2);
      }
      expect(v.closes).toBe(1);
      expect(v.finalState).toBe('CLOSED');
      expect(v.p50DuringFaultMs).toBe(0);
      expect(v.closedAfterRecoveryMs as number).toBeGreaterThan(0);
      expect(v.closedAfterRecoveryMs as number).toBeLessThan(5000 + 1200);
    }
    // Count window of 100 full of successes: 50 failures trip it, ~0.5 s at 100 calls/s. Then 3 trials of
    // 10 calls fit in the rest of the 20 s fault: about 50 + 30 calls reach the dependency (4% of none's).
    const count = by['count-based']!;
    expect(Math.abs((count.openedAfterMs as number) - 500)).toBeLessThan(300);
    expect(Math.abs((count.reachedDuringFault as number) - 80)).toBeLessThan(8);
    expect(count.loadFactor as number).toBeLessThan(0.05);
    // Time window of 10 s: failures reach 50% of it after about 5 s.
    const time = by['time-based']!;
    expect(Math.abs((time.openedAfterMs as number) - 5000)).toBeLessThan(700);
    expect(Math.abs((time.loadFactor as number) - 0.25)).toBeLessThan(0.05);
    // Slow calls (800 ms more, all successful) trip the slow-call breaker after 800 ms + 50 calls; callers
    // then fail fast instead of waiting: latency drops, availability too (the caller needs a fallback).
    const slow = by['slow-call']!;
    expect(Math.abs((slow.openedAfterMs as number) - 1300)).toBeLessThan(300);
    expect(slow.okShareDuringFault as number).toBeLessThan(0.12);
  });

  it('automatic transition: HALF_OPEN exactly waitDurationInOpenState after OPEN', () => {
    const { r, by } = byVariant(
      3,
      { automaticTransitionFromOpenToHalfOpenEnabled: true, waitDurationInOpenStateMs: 2000 },
      ['count-based', 'time-based'],
    );
    expect(r).toPassChecks();
    for (const v of Object.values(by)) {
      const t = transitions(v.timeline);
      expect(t.length).toBeGreaterThan(4);
      for (let i = 1; i < t.length; i += 2) expect(t[i]![1] - t[i - 1]![1]).toBeCloseTo(2, 6);
    }
  });

  it('resilience4j compares with >=: a 100% threshold opens at the 100th failure of a 100-call window', () => {
    const { r, by } = byVariant(4, { failureRateThreshold: 100 }, ['count-based']);
    expect(r).toPassChecks();
    expect(r.checks.find((c) => c.name.includes('exactly ceil'))?.detail).toMatch(/^100 bad calls/);
    expect(Math.abs((by['count-based']!.openedAfterMs as number) - 1000)).toBeLessThan(400);
  });

  it('negative control: a failure-rate breaker is blind to slow successful calls', () => {
    const { r, by } = byVariant(5, { fault: 'slow' }, ['none', 'count-based', 'time-based', 'slow-call']);
    expect(r).toPassChecks();
    for (const name of ['count-based', 'time-based']) {
      expect(by[name]!.opens).toBe(0);
      expect(by[name]!.loadFactor).toBe(1);
      expect(by[name]!.p50DuringFaultMs as number).toBeGreaterThan(800);
    }
    expect(r.checks.some((c) => c.name.includes('never open a breaker without a matching slow-call'))).toBe(
      true,
    );
    expect(by['slow-call']!.opens as number).toBeGreaterThan(0);
  });

  it('negative control: a time window that can never hold minimumNumberOfCalls never opens', () => {
    const { r, by } = byVariant(6, { minimumNumberOfCalls: 100_000 }, ['time-based']);
    expect(r).toPassChecks();
    expect(by['time-based']!.opens).toBe(0);
    expect(by['time-based']!.timeline).toBe('');
    expect(by['time-based']!.loadFactor).toBe(1);
  });

  it('is deterministic: same seed, same result', () => {
    const a = runScenario(circuitBreaker, { seed: 9, params: { faultSeconds: 8, afterSeconds: 7 } });
    const b = runScenario(circuitBreaker, { seed: 9, params: { faultSeconds: 8, afterSeconds: 7 } });
    expect(b.digest).toBe(a.digest);
    expect(b.variants.map((v) => v.outcome)).toEqual(a.variants.map((v) => v.outcome));
  });

  it('rejects bad parameters with the field name', () => {
    expect(() => runScenario(circuitBreaker, { seed: 1, params: { failureRateThreshold: 0 } })).toThrow(
      /failureRateThreshold/,
    );
    expect(() => runScenario(circuitBreaker, { seed: 1, params: { windowSeconds: 2.5 } })).toThrow(
      /windowSeconds/,
    );
  });
});
