import { DsimError, Simulation, type TraceRecord } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  type CircuitBreakerConfig,
  type CircuitBreakerStateChange,
} from '../src/resilience/circuit-breaker.js';

type Clock = { now: number };

/** Runs one call through the breaker: 'S' success, 'F' failure; returns whether it was permitted. */
function call(breaker: CircuitBreaker, outcome: 'S' | 'F', durationMs = 10): boolean {
  if (!breaker.tryAcquirePermission()) return false;
  if (outcome === 'S') breaker.onSuccess(durationMs);
  else breaker.onError(durationMs);
  return true;
}

function calls(breaker: CircuitBreaker, sequence: string): void {
  for (const c of sequence) call(breaker, c as 'S' | 'F');
}

const SMALL: CircuitBreakerConfig = { slidingWindowSize: 10, minimumNumberOfCalls: 10 };

describe("CircuitBreaker: CLOSED -> OPEN (resilience4j's documented semantics)", () => {
  it('S,F,S,F,S,F,S,F,S stays CLOSED without evaluating; a 10th F opens it (5/10 = 50% >= 50)', () => {
    const breaker = new CircuitBreaker({ now: 0 }, SMALL);
    calls(breaker, 'SFSFSFSFS');
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.metrics.failureRate).toBe(-1);
    expect(breaker.metrics.bufferedCalls).toBe(9);
    call(breaker, 'F');
    expect(breaker.state).toBe('OPEN');
    expect(breaker.metrics.failureRate).toBe(50);
  });

  it('a 10th S leaves 4/10 = 40% and the breaker CLOSED', () => {
    const breaker = new CircuitBreaker({ now: 0 }, SMALL);
    calls(breaker, 'SFSFSFSFSS');
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.metrics.failureRate).toBe(40);
  });

  it('5 failures first still wait for the 10th call; 4 failures of 10 never open', () => {
    const five = new CircuitBreaker({ now: 0 }, SMALL);
    calls(five, 'FFFFFSSSS');
    expect(five.state).toBe('CLOSED');
    call(five, 'S');
    expect(five.state).toBe('OPEN');

    const four = new CircuitBreaker({ now: 0 }, SMALL);
    calls(four, 'FFFFSSSSSS');
    expect(four.state).toBe('CLOSED');
    // The ring buffer slides: the next F replaces the oldest F, still 4/10.
    call(four, 'F');
    expect(four.state).toBe('CLOSED');
    expect(four.metrics.failureRate).toBe(40);
  });

  it('clamps minimumNumberOfCalls to a count window, as resilience4j does', () => {
    const breaker = new CircuitBreaker({ now: 0 }, { slidingWindowSize: 4 }); // minCalls default 100
    calls(breaker, 'SSFF');
    expect(breaker.state).toBe('OPEN');
  });

  it('defaults: a fresh breaker opens at the 100th failure, a window full of successes at the 50th', () => {
    const fresh = new CircuitBreaker({ now: 0 });
    for (let i = 1; i <= 99; i++) call(fresh, 'F');
    expect(fresh.state).toBe('CLOSED');
    call(fresh, 'F');
    expect(fresh.state).toBe('OPEN');

    const warm = new CircuitBreaker({ now: 0 });
    for (let i = 0; i < 100; i++) call(warm, 'S');
    let failures = 0;
    while (warm.state === 'CLOSED') {
      call(warm, 'F');
      failures++;
    }
    expect(failures).toBe(50);
  });

  it('compares float rates as resilience4j does (1/3 = 33.333332f >= 33.333332)', () => {
    const cfg = { slidingWindowSize: 3, minimumNumberOfCalls: 3 };
    const at = new CircuitBreaker({ now: 0 }, { ...cfg, failureRateThreshold: 33.333332 });
    calls(at, 'SSF');
    expect(at.state).toBe('OPEN');
    const above = new CircuitBreaker({ now: 0 }, { ...cfg, failureRateThreshold: 33.34 });
    calls(above, 'SSF');
    expect(above.state).toBe('CLOSED');
  });
});

describe('CircuitBreaker: OPEN and HALF_OPEN', () => {
  function opened(clock: Clock, extra: CircuitBreakerConfig = {}): CircuitBreaker {
    const breaker = new CircuitBreaker(clock, {
      ...SMALL,
      waitDurationInOpenStateMs: 1000,
      permittedNumberOfCallsInHalfOpenState: 3,
      ...extra,
    });
    calls(breaker, 'FFFFFFFFFF');
    expect(breaker.state).toBe('OPEN');
    return breaker;
  }

  it('rejects until strictly after the wait, counting not-permitted calls (not recorded)', () => {
    const clock = { now: 0 };
    const breaker = opened(clock);
    expect(breaker.tryAcquirePermission()).toBe(false);
    clock.now = 1000; // resilience4j: clock.instant().isAfter(retryAfter), so the boundary still rejects
    expect(breaker.tryAcquirePermission()).toBe(false);
    expect(breaker.state).toBe('OPEN');
    expect(breaker.metrics.notPermittedCalls).toBe(2);
    expect(breaker.metrics.bufferedCalls).toBe(10); // OPEN keeps the CLOSED window
    expect(breaker.totals.notPermittedCalls).toBe(2);
    clock.now = 1001;
    expect(breaker.tryAcquirePermission()).toBe(true);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(breaker.metrics.notPermittedCalls).toBe(0); // fresh half-open metrics
  });

  it('does not leave OPEN on a state read when automatic transition is off', () => {
    const clock = { now: 0 };
    const breaker = opened(clock);
    clock.now = 1_000_000;
    expect(breaker.state).toBe('OPEN');
  });

  it('HALF_OPEN permits exactly N calls, then closes below the thresholds', () => {
    const clock = { now: 0 };
    const breaker = opened(clock);
    clock.now = 2000;
    expect([1, 2, 3, 4].map(() => breaker.tryAcquirePermission())).toEqual([true, true, true, false]);
    expect(breaker.metrics.notPermittedCalls).toBe(1);
    breaker.onSuccess(5);
    breaker.onError(5);
    expect(breaker.state).toBe('HALF_OPEN'); // 2 of 3 recorded: no evaluation yet
    breaker.onSuccess(5);
    expect(breaker.state).toBe('CLOSED'); // 1/3 = 33% < 50%
    expect(breaker.metrics.bufferedCalls).toBe(0);
  });

  it('HALF_OPEN reopens at or above the threshold and restarts the wait', () => {
    const clock = { now: 0 };
    const breaker = opened(clock);
    clock.now = 2000;
    calls(breaker, 'SFF');
    expect(breaker.state).toBe('OPEN');
    clock.now = 3000;
    expect(breaker.tryAcquirePermission()).toBe(false);
    clock.now = 3001;
    expect(breaker.tryAcquirePermission()).toBe(true);
    expect(breaker.state).toBe('HALF_OPEN');
  });

  it('releasePermission hands a half-open permit back', () => {
    const clock = { now: 0 };
    const breaker = opened(clock, { permittedNumberOfCallsInHalfOpenState: 1 });
    clock.now = 5000;
    expect(breaker.tryAcquirePermission()).toBe(true);
    expect(breaker.tryAcquirePermission()).toBe(false);
    breaker.releasePermission();
    expect(breaker.tryAcquirePermission()).toBe(true);
  });

  it('automatic transition on a plain clock happens lazily at the due time (>=)', () => {
    const clock = { now: 0 };
    const breaker = opened(clock, { automaticTransitionFromOpenToHalfOpenEnabled: true });
    const seen: CircuitBreakerStateChange[] = [];
    breaker.onStateChange((c) => seen.push(c));
    clock.now = 999;
    expect(breaker.state).toBe('OPEN');
    clock.now = 5000;
    expect(breaker.state).toBe('HALF_OPEN');
    expect(seen).toEqual([{ breaker: 'circuit-breaker', from: 'OPEN', to: 'HALF_OPEN', at: 1000 }]);
  });

  it('maxWaitDurationInHalfOpenState moves HALF_OPEN to OPEN (or CLOSED when configured)', () => {
    const clock = { now: 0 };
    const breaker = opened(clock, { maxWaitDurationInHalfOpenStateMs: 500 });
    clock.now = 1001;
    expect(breaker.tryAcquirePermission()).toBe(true);
    clock.now = 1500;
    expect(breaker.state).toBe('HALF_OPEN');
    clock.now = 1501;
    expect(breaker.state).toBe('OPEN');

    const clock2 = { now: 0 };
    const closing = opened(clock2, {
      maxWaitDurationInHalfOpenStateMs: 500,
      transitionToStateAfterWaitDuration: 'CLOSED',
    });
    closing.transitionToHalfOpenState();
    clock2.now = 500;
    expect(closing.state).toBe('CLOSED');
  });
});

describe('CircuitBreaker: slow calls', () => {
  const slow: CircuitBreakerConfig = {
    ...SMALL,
    slowCallDurationThresholdMs: 1000,
    slowCallRateThreshold: 50,
  };

  it('ten successful 1.5 s calls trip on the slow-call rate alone', () => {
    const breaker = new CircuitBreaker({ now: 0 }, slow);
    for (let i = 0; i < 10; i++) call(breaker, 'S', 1500);
    expect(breaker.state).toBe('OPEN');
    expect(breaker.metrics.slowCallRate).toBe(100);
    expect(breaker.metrics.failureRate).toBe(0);
  });

  it('a call lasting exactly the threshold is not slow; 5 slow of 10 is 50% >= 50', () => {
    const exact = new CircuitBreaker({ now: 0 }, slow);
    for (let i = 0; i < 10; i++) call(exact, 'S', 1000);
    expect(exact.state).toBe('CLOSED');
    expect(exact.metrics.slowCalls).toBe(0);

    const half = new CircuitBreaker({ now: 0 }, slow);
    for (let i = 0; i < 9; i++) call(half, 'S', i < 5 ? 1001 : 10);
    expect(half.state).toBe('CLOSED');
    call(half, 'F', 10);
    expect(half.state).toBe('OPEN');
    expect(half.metrics).toMatchObject({
      slowCalls: 5,
      failedCalls: 1,
      slowFailedCalls: 0,
      slowCallRate: 50,
    });
  });
});

describe('CircuitBreaker: time-based window', () => {
  const timed: CircuitBreakerConfig = {
    slidingWindowType: 'time',
    slidingWindowSize: 10,
    minimumNumberOfCalls: 5,
  };

  it('buckets are epoch seconds: calls of second 0 leave the window at second 10', () => {
    const clock = { now: 0 };
    const breaker = new CircuitBreaker(clock, timed);
    clock.now = 500;
    calls(breaker, 'FFFF');
    clock.now = 10_000; // seconds 1..10 are in the window; second 0 is evicted
    expect(breaker.metrics.bufferedCalls).toBe(0);
    call(breaker, 'F');
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.metrics.bufferedCalls).toBe(1);
  });

  it('the same calls 1 ms earlier are still in the window and open the breaker', () => {
    const clock = { now: 500 };
    const breaker = new CircuitBreaker(clock, timed);
    calls(breaker, 'FFFF');
    clock.now = 9999;
    call(breaker, 'F');
    expect(breaker.state).toBe('OPEN');
  });

  it('does not clamp minimumNumberOfCalls to the window size', () => {
    const breaker = new CircuitBreaker(
      { now: 0 },
      { slidingWindowType: 'time', slidingWindowSize: 2, minimumNumberOfCalls: 5 },
    );
    calls(breaker, 'FFFF');
    expect(breaker.state).toBe('CLOSED');
    call(breaker, 'F');
    expect(breaker.state).toBe('OPEN');
  });

  it('a long gap clears every bucket', () => {
    const clock = { now: 0 };
    const breaker = new CircuitBreaker(clock, timed);
    for (let s = 0; s < 10; s++) {
      clock.now = s * 1000;
      call(breaker, 'S');
    }
    expect(breaker.metrics.bufferedCalls).toBe(10);
    clock.now = 15_000;
    expect(breaker.metrics.bufferedCalls).toBe(4); // seconds 6..9 remain of 6..15
    clock.now = 1_000_000;
    expect(breaker.metrics.bufferedCalls).toBe(0);
  });
});

describe('CircuitBreaker: listeners, traces and manual states', () => {
  it('calls listeners in registration order for each transition, in transition order', () => {
    const clock = { now: 0 };
    const breaker = new CircuitBreaker(clock, {
      ...SMALL,
      name: 'db',
      waitDurationInOpenStateMs: 100,
      permittedNumberOfCallsInHalfOpenState: 1,
    });
    const log: string[] = [];
    breaker.onStateChange((c) => log.push(`A:${c.from}>${c.to}@${c.at}`));
    const off = breaker.onStateChange((c) => log.push(`B:${c.from}>${c.to}`));
    calls(breaker, 'FFFFFFFFFF');
    clock.now = 101;
    call(breaker, 'S');
    off();
    breaker.transitionToForcedOpenState();
    expect(log).toEqual([
      'A:CLOSED>OPEN@0',
      'B:CLOSED>OPEN',
      'A:OPEN>HALF_OPEN@101',
      'B:OPEN>HALF_OPEN',
      'A:HALF_OPEN>CLOSED@101',
      'B:HALF_OPEN>CLOSED',
      'A:CLOSED>FORCED_OPEN@101',
    ]);
    expect(breaker.totals.stateTransitions).toBe(4);
  });

  it('with a Simulation, schedules the automatic transition and emits @dsim.breaker.state records', () => {
    const sim = new Simulation({ seed: 1 });
    const records: TraceRecord[] = [];
    sim.inspect((r) => {
      if (r.type === '@dsim.breaker.state') records.push(r);
    });
    const breaker = new CircuitBreaker(sim, {
      name: 'api',
      waitDurationInOpenStateMs: 1000,
      automaticTransitionFromOpenToHalfOpenEnabled: true,
      maxWaitDurationInHalfOpenStateMs: 250,
    });
    sim.schedule(10, () => breaker.transitionToOpenState());
    sim.run({ until: 5000 });
    expect(records.map((r) => [r.t, r.from, r.to, r.breaker])).toEqual([
      [10, 'CLOSED', 'OPEN', 'api'],
      [1010, 'OPEN', 'HALF_OPEN', 'api'],
      [1260, 'HALF_OPEN', 'OPEN', 'api'],
      [2260, 'OPEN', 'HALF_OPEN', 'api'],
      [2510, 'HALF_OPEN', 'OPEN', 'api'],
      [3510, 'OPEN', 'HALF_OPEN', 'api'],
      [3760, 'HALF_OPEN', 'OPEN', 'api'],
      [4760, 'OPEN', 'HALF_OPEN', 'api'],
    ]);
  });

  it('with a Simulation, records the state gauge (resilience4j order) and call counters', () => {
    const sim = new Simulation({ seed: 1 });
    const breaker = new CircuitBreaker(sim, { name: 'db', ...SMALL, waitDurationInOpenStateMs: 100 });
    calls(breaker, 'SFSFSFSFSF'); // opens at the 10th call
    call(breaker, 'S'); // not permitted
    const m = sim.metrics;
    expect(m.gauge('db', 'breaker.state').level).toBe(1);
    expect(m.counter('db', 'breaker.successful').value).toBe(5);
    expect(m.counter('db', 'breaker.failed').value).toBe(5);
    expect(m.counter('db', 'breaker.not-permitted').value).toBe(1);
    breaker.transitionToHalfOpenState();
    expect(m.gauge('db', 'breaker.state').level).toBe(2);
    breaker.onSuccess(5_000); // default slow threshold is 60 s: not slow
    expect(m.counter('db', 'breaker.slow').value).toBe(0);
  });

  it('a manual transition cancels the pending timed one', () => {
    const sim = new Simulation({ seed: 1 });
    const breaker = new CircuitBreaker(sim, {
      waitDurationInOpenStateMs: 1000,
      automaticTransitionFromOpenToHalfOpenEnabled: true,
    });
    const seen: string[] = [];
    breaker.onStateChange((c) => seen.push(`${c.to}@${c.at}`));
    breaker.transitionToOpenState();
    sim.schedule(500, () => breaker.transitionToClosedState());
    sim.run({ until: 5000 });
    expect(seen).toEqual(['OPEN@0', 'CLOSED@500']);
  });

  it('FORCED_OPEN rejects, DISABLED permits without recording, METRICS_ONLY records without opening', () => {
    const breaker = new CircuitBreaker({ now: 0 }, SMALL);
    breaker.transitionToForcedOpenState();
    expect(breaker.tryAcquirePermission()).toBe(false);
    expect(breaker.metrics.notPermittedCalls).toBe(1);

    breaker.transitionToDisabledState();
    calls(breaker, 'FFFFFFFFFFFF');
    expect(breaker.state).toBe('DISABLED');
    expect(breaker.metrics.bufferedCalls).toBe(0);

    breaker.transitionToMetricsOnlyState();
    calls(breaker, 'FFFFFFFFFFFF');
    expect(breaker.state).toBe('METRICS_ONLY');
    expect(breaker.metrics).toMatchObject({ bufferedCalls: 10, failureRate: 100 });

    breaker.reset();
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.metrics.bufferedCalls).toBe(0);
  });
});

describe('CircuitBreaker: configuration errors', () => {
  const bad: [keyof CircuitBreakerConfig, unknown][] = [
    ['name', ''],
    ['slidingWindowType', 'sliding'],
    ['slidingWindowSize', 0],
    ['slidingWindowSize', 2.5],
    ['minimumNumberOfCalls', 0],
    ['failureRateThreshold', 0],
    ['failureRateThreshold', 101],
    ['slowCallRateThreshold', Number.NaN],
    ['slowCallDurationThresholdMs', 0],
    ['waitDurationInOpenStateMs', 0.5],
    ['permittedNumberOfCallsInHalfOpenState', 0],
    ['automaticTransitionFromOpenToHalfOpenEnabled', 'yes'],
    ['maxWaitDurationInHalfOpenStateMs', -1],
    ['maxWaitDurationInHalfOpenStateMs', Infinity],
    ['transitionToStateAfterWaitDuration', 'HALF_OPEN'],
  ];

  it.each(bad)('rejects %s = %s with INVALID_ARGUMENT naming the field', (field, value) => {
    let error: unknown;
    try {
      new CircuitBreaker({ now: 0 }, { [field]: value } as CircuitBreakerConfig);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DsimError);
    expect((error as DsimError).code).toBe('INVALID_ARGUMENT');
    expect((error as DsimError).message).toContain(field);
    expect((error as DsimError).details.field).toBe(field);
  });

  it('accepts the boundary values 100 % and maxWait 0', () => {
    expect(
      () =>
        new CircuitBreaker(
          { now: 0 },
          { failureRateThreshold: 100, slowCallRateThreshold: 100, maxWaitDurationInHalfOpenStateMs: 0 },
        ),
    ).not.toThrow();
  });

  it('rejects a bad clock and a negative call duration', () => {
    expect(() => new CircuitBreaker({} as Clock)).toThrow(/clock must be/);
    const breaker = new CircuitBreaker({ now: 0 });
    expect(() => breaker.onError(-1)).toThrow(/durationMs must be a finite number >= 0, got -1/);
    expect(() => breaker.onSuccess(Number.NaN)).toThrow(/durationMs/);
  });
});
