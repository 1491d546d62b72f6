import {
  assertNonNegative,
  type Counter,
  checkBoolean,
  checkEnum,
  checkName,
  checkNumber,
  checkObject,
  checkOptions,
  type Gauge,
  invalidArgument,
  invalidOption,
  isSimulation,
  optionKeys,
  type ScheduledHandle,
  type Simulation,
} from '@dsim/core';

/**
 * States of a {@link CircuitBreaker}, named as in resilience4j's `CircuitBreaker.State`.
 *
 * - `CLOSED`: calls are permitted and recorded; the breaker opens when a threshold is reached.
 * - `OPEN`: calls are rejected until `waitDurationInOpenStateMs` has passed.
 * - `HALF_OPEN`: exactly `permittedNumberOfCallsInHalfOpenState` trial calls are permitted.
 * - `DISABLED`: every call is permitted, nothing is recorded, the state never changes by itself.
 * - `FORCED_OPEN`: every call is rejected until the state is changed by hand.
 * - `METRICS_ONLY`: calls are permitted and recorded, but thresholds never change the state.
 *
 * @example
 * ```ts
 * if (breaker.state === 'OPEN') sim.log('fail fast');
 * ```
 */
export type CircuitBreakerState =
  | 'CLOSED'
  | 'OPEN'
  | 'HALF_OPEN'
  | 'DISABLED'
  | 'FORCED_OPEN'
  | 'METRICS_ONLY';

/** resilience4j's `State.getOrder()`: the value of the `breaker.state` gauge. */
const STATE_ORDER: Record<CircuitBreakerState, number> = {
  CLOSED: 0,
  OPEN: 1,
  HALF_OPEN: 2,
  DISABLED: 3,
  FORCED_OPEN: 4,
  METRICS_ONLY: 5,
};

/**
 * How the CLOSED-state sliding window is measured: the last N calls (`'count'`, resilience4j
 * `COUNT_BASED`) or the calls of the last N epoch seconds (`'time'`, `TIME_BASED`).
 *
 * @example
 * ```ts
 * new CircuitBreaker(sim, { slidingWindowType: 'time', slidingWindowSize: 10 });
 * ```
 */
export type SlidingWindowType = 'count' | 'time';

/**
 * Something with a current time in ms. A {@link Simulation} works; so does `{ now: 0 }` in a unit test.
 *
 * @example
 * ```ts
 * const clock = { now: 0 };
 * const breaker = new CircuitBreaker(clock);
 * clock.now = 61_000;
 * ```
 */
export interface BreakerClock {
  /** Current time in ms. */
  readonly now: number;
}

/**
 * Configuration of a {@link CircuitBreaker}. Names and defaults follow resilience4j's `CircuitBreakerConfig`
 * (durations are plain milliseconds here). Every field is validated and an unknown key is an error (with
 * a "did you mean": `failureRateTreshold`); nothing is clamped silently except
 * `minimumNumberOfCalls` for a count window, which resilience4j itself clamps (see below).
 *
 * @example
 * ```ts
 * const config: CircuitBreakerConfig = { name: 'db', slidingWindowSize: 10, minimumNumberOfCalls: 10 };
 * ```
 */
export interface CircuitBreakerConfig {
  /**
   * Name used in traces, listener events and errors. A non-empty string.
   * @default 'circuit-breaker'
   */
  name?: string;
  /**
   * Kind of CLOSED-state window.
   * @default 'count'
   */
  slidingWindowType?: SlidingWindowType;
  /**
   * Window size: calls for `'count'`, seconds for `'time'`. An integer >= 1.
   * @default 100
   */
  slidingWindowSize?: number;
  /**
   * Calls that must be in the window before any rate is computed. An integer >= 1. For a `'count'` window
   * the effective value is `min(minimumNumberOfCalls, slidingWindowSize)`, as in resilience4j.
   * @default 100
   */
  minimumNumberOfCalls?: number;
  /**
   * Failure rate, in percent, at or above which the breaker opens. A number in (0, 100].
   * @default 50
   */
  failureRateThreshold?: number;
  /**
   * Slow-call rate, in percent, at or above which the breaker opens. A number in (0, 100].
   * @default 100
   */
  slowCallRateThreshold?: number;
  /**
   * A call whose duration is strictly greater than this (ms) is slow. A finite number > 0.
   * @default 60000
   */
  slowCallDurationThresholdMs?: number;
  /**
   * How long the breaker stays OPEN before it lets trial calls through (ms). A finite number >= 1
   * (resilience4j requires at least 1 ms).
   * @default 60000
   */
  waitDurationInOpenStateMs?: number;
  /**
   * Trial calls permitted in HALF_OPEN; also the size of the half-open window and its minimum number of
   * calls. An integer >= 1.
   * @default 10
   */
  permittedNumberOfCallsInHalfOpenState?: number;
  /**
   * When true, OPEN turns into HALF_OPEN as soon as the wait has passed, without waiting for a call.
   * @default false
   */
  automaticTransitionFromOpenToHalfOpenEnabled?: boolean;
  /**
   * Longest time (ms) the breaker stays HALF_OPEN before it moves to `transitionToStateAfterWaitDuration`;
   * 0 means wait for the trial calls indefinitely. A finite number >= 0.
   * @default 0
   */
  maxWaitDurationInHalfOpenStateMs?: number;
  /**
   * Where HALF_OPEN goes when `maxWaitDurationInHalfOpenStateMs` runs out: `'OPEN'` or `'CLOSED'`.
   * @default 'OPEN'
   */
  transitionToStateAfterWaitDuration?: 'OPEN' | 'CLOSED';
}

/**
 * The metrics of the breaker's current state, as resilience4j's `CircuitBreaker.Metrics`. Each state owns
 * its own window: entering CLOSED, HALF_OPEN, FORCED_OPEN, DISABLED or METRICS_ONLY starts from zero, while
 * OPEN keeps the window (and counts) of the state it came from.
 *
 * @example
 * ```ts
 * const { failureRate, bufferedCalls } = breaker.metrics;
 * ```
 */
export interface CircuitBreakerMetrics {
  /** Failure rate in percent, or -1 while fewer than the minimum number of calls are buffered. */
  readonly failureRate: number;
  /** Slow-call rate in percent, or -1 while fewer than the minimum number of calls are buffered. */
  readonly slowCallRate: number;
  /** Calls currently in the window. */
  readonly bufferedCalls: number;
  /** Failed calls in the window (slow or not). */
  readonly failedCalls: number;
  /** Successful calls in the window (slow or not). */
  readonly successfulCalls: number;
  /** Slow calls in the window (successful or failed). */
  readonly slowCalls: number;
  /** Slow failed calls in the window. */
  readonly slowFailedCalls: number;
  /** Calls rejected since this state's metrics were created. */
  readonly notPermittedCalls: number;
}

/**
 * Lifetime counters of a {@link CircuitBreaker}: unlike {@link CircuitBreakerMetrics} they never reset.
 *
 * @example
 * ```ts
 * expect(breaker.totals.notPermittedCalls).toBe(3);
 * ```
 */
export interface CircuitBreakerTotals {
  /** `onSuccess` calls that were recorded. */
  readonly successfulCalls: number;
  /** `onError` calls that were recorded. */
  readonly failedCalls: number;
  /** Recorded calls that were slow. */
  readonly slowCalls: number;
  /** `tryAcquirePermission()` calls that returned false. */
  readonly notPermittedCalls: number;
  /** State transitions, self-transitions included. */
  readonly stateTransitions: number;
}

/**
 * A state transition, passed to {@link CircuitBreaker.onStateChange} listeners.
 *
 * @example
 * ```ts
 * breaker.onStateChange((e) => sim.log(`${e.breaker}: ${e.from} -> ${e.to} at ${e.at}`));
 * ```
 */
export interface CircuitBreakerStateChange {
  /** The breaker's name. */
  readonly breaker: string;
  /** State before. */
  readonly from: CircuitBreakerState;
  /** State after (may equal `from` for a manual self-transition). */
  readonly to: CircuitBreakerState;
  /** Time (ms) at which the transition took effect. */
  readonly at: number;
}

/**
 * Listener for {@link CircuitBreaker.onStateChange}.
 *
 * @example
 * ```ts
 * const listener: CircuitBreakerListener = ({ from, to }) => transitions.push(`${from}>${to}`);
 * ```
 */
export type CircuitBreakerListener = (change: CircuitBreakerStateChange) => void;

// ---------------------------------------------------------------------------------------------------------
// Sliding windows (resilience4j FixedSizeSlidingWindowMetrics / SlidingTimeWindowMetrics)
// ---------------------------------------------------------------------------------------------------------

const SUCCESS = 0;
const ERROR = 1;
const SLOW_SUCCESS = 2;
const SLOW_ERROR = 3;
type Outcome = typeof SUCCESS | typeof ERROR | typeof SLOW_SUCCESS | typeof SLOW_ERROR;

class Aggregation {
  calls = 0;
  failed = 0;
  slow = 0;
  slowFailed = 0;

  add(outcome: Outcome, sign: 1 | -1): void {
    this.calls += sign;
    if (outcome === ERROR || outcome === SLOW_ERROR) this.failed += sign;
    if (outcome === SLOW_SUCCESS || outcome === SLOW_ERROR) this.slow += sign;
    if (outcome === SLOW_ERROR) this.slowFailed += sign;
  }

  addAll(other: Aggregation, sign: 1 | -1): void {
    this.calls += sign * other.calls;
    this.failed += sign * other.failed;
    this.slow += sign * other.slow;
    this.slowFailed += sign * other.slowFailed;
  }

  clear(): void {
    this.calls = this.failed = this.slow = this.slowFailed = 0;
  }
}

interface SlidingWindow {
  record(outcome: Outcome): Aggregation;
  snapshot(): Aggregation;
}

/** Ring buffer of the last `size` outcomes. */
class CountWindow implements SlidingWindow {
  private readonly ring: (Outcome | -1)[];
  private head = 0;
  private readonly total = new Aggregation();

  constructor(size: number) {
    this.ring = new Array<Outcome | -1>(size).fill(-1);
  }

  record(outcome: Outcome): Aggregation {
    const old = this.ring[this.head]!;
    if (old !== -1) this.total.add(old, -1);
    this.ring[this.head] = outcome;
    this.head = (this.head + 1) % this.ring.length;
    this.total.add(outcome, 1);
    return this.total;
  }

  snapshot(): Aggregation {
    return this.total;
  }
}

class Bucket extends Aggregation {
  constructor(public epochSecond: number) {
    super();
  }
}

/**
 * `size` one-second buckets keyed by epoch second `floor(now / 1000)`: the window holds the current second
 * and the `size - 1` before it. Moving the head follows SlidingTimeWindowMetrics.moveWindowToCurrentEpochSecond.
 */
class TimeWindow implements SlidingWindow {
  private readonly buckets: Bucket[];
  private head = 0;
  private readonly total = new Aggregation();

  constructor(
    private readonly clock: BreakerClock,
    size: number,
  ) {
    const second = epochSecond(clock.now);
    this.buckets = Array.from({ length: size }, () => new Bucket(second));
  }

  record(outcome: Outcome): Aggregation {
    this.move().add(outcome, 1);
    this.total.add(outcome, 1);
    return this.total;
  }

  snapshot(): Aggregation {
    this.move();
    return this.total;
  }

  private move(): Bucket {
    const size = this.buckets.length;
    const latest = this.buckets[this.head]!;
    const current = epochSecond(this.clock.now);
    const diff = current - latest.epochSecond;
    // A clock that did not advance (or a test clock moved back) keeps the current bucket.
    if (diff <= 0) return latest;
    let steps = Math.min(diff, size);
    let bucket = latest;
    do {
      steps--;
      this.head = (this.head + 1) % size;
      bucket = this.buckets[this.head]!;
      this.total.addAll(bucket, -1);
      bucket.clear();
      bucket.epochSecond = current - steps;
    } while (steps > 0);
    return bucket;
  }
}

function epochSecond(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

// ---------------------------------------------------------------------------------------------------------
// Per-state metrics (resilience4j CircuitBreakerMetrics)
// ---------------------------------------------------------------------------------------------------------

const BELOW_MINIMUM = 0;
const BELOW_THRESHOLDS = 1;
const ABOVE_THRESHOLDS = 2;
type CheckResult = typeof BELOW_MINIMUM | typeof BELOW_THRESHOLDS | typeof ABOVE_THRESHOLDS;

class StateMetrics {
  notPermitted = 0;

  constructor(
    readonly window: SlidingWindow,
    readonly minimumCalls: number,
  ) {}

  /** resilience4j computes `failed * 100.0f / total` in float; Math.fround reproduces it exactly. */
  static rate(count: number, total: number, minimumCalls: number): number {
    if (total === 0 || total < minimumCalls) return -1;
    return Math.fround((count * 100) / total);
  }

  check(agg: Aggregation, failureThreshold: number, slowThreshold: number): CheckResult {
    const failureRate = StateMetrics.rate(agg.failed, agg.calls, this.minimumCalls);
    const slowRate = StateMetrics.rate(agg.slow, agg.calls, this.minimumCalls);
    if (failureRate === -1 || slowRate === -1) return BELOW_MINIMUM;
    if (failureRate >= failureThreshold || slowRate >= slowThreshold) return ABOVE_THRESHOLDS;
    return BELOW_THRESHOLDS;
  }
}

interface StateRecord {
  readonly kind: CircuitBreakerState;
  readonly metrics: StateMetrics;
  /** OPEN: time at which the wait ends. HALF_OPEN: time at which the max wait ends (Infinity if none). */
  readonly deadline: number;
  /** HALF_OPEN: permits left. */
  permits: number;
  timer: ScheduledHandle | null;
}

type ResolvedConfig = Required<CircuitBreakerConfig>;

/**
 * A circuit breaker with the state machine of resilience4j's `CircuitBreakerStateMachine`. It is pure
 * bookkeeping driven by a clock: ask `tryAcquirePermission()` before a call, then report `onSuccess(ms)` or
 * `onError(ms)` with the call's duration.
 *
 * Semantics (resilience4j's documented CircuitBreaker):
 * - Rates are percentages computed only once the window holds at least the minimum number of calls; the
 *   breaker trips when `failureRate >= failureRateThreshold` or `slowCallRate >= slowCallRateThreshold`,
 *   checked after every recorded call in CLOSED.
 * - OPEN rejects (counted as not permitted, not recorded). The first `tryAcquirePermission()` strictly after
 *   `waitDurationInOpenStateMs` moves it to HALF_OPEN (resilience4j's `clock.instant().isAfter(...)`).
 * - HALF_OPEN permits exactly `permittedNumberOfCallsInHalfOpenState` calls (`releasePermission()` hands one
 *   back); once that many calls are recorded it goes CLOSED if both rates are below their thresholds, else
 *   OPEN.
 * - Calls that complete after the state changed are recorded in the current state's window (OPEN and
 *   FORCED_OPEN record without evaluating; DISABLED records nothing), as resilience4j does.
 *
 * Timed transitions (automatic OPEN → HALF_OPEN, and HALF_OPEN → `transitionToStateAfterWaitDuration` after
 * `maxWaitDurationInHalfOpenStateMs`) are applied lazily, at their due time, whenever the breaker is used or
 * read (`state`, `metrics`, `tryAcquirePermission`, `onSuccess`, `onError`). When the clock is a
 * {@link Simulation}, the breaker also schedules a callback at the due time, so the transition (its trace
 * record and listeners) happens exactly then. Both ways are deterministic.
 *
 * With a Simulation whose tracing is on, each transition emits `@dsim.breaker.state` `{ breaker, from, to }`.
 * With a Simulation as clock it also records, under its name, the gauge `breaker.state` (resilience4j's state
 * order: 0 CLOSED, 1 OPEN, 2 HALF_OPEN, 3 DISABLED, 4 FORCED_OPEN, 5 METRICS_ONLY) and the counters
 * `breaker.successful`, `breaker.failed`, `breaker.slow` and `breaker.not-permitted`.
 *
 * Where resilience4j's documentation is silent, this follows its source as read by the author (not re-verified):
 * the lazy OPEN exit needs `now > openedAt + wait` (strict); a slow call is strictly longer than the
 * threshold; rates are Java floats (`Math.fround`) and read -1 below the minimum; thresholds must be in
 * (0, 100] and the open wait >= 1 ms (builder checks); each state owns its metrics (OPEN inherits them);
 * DISABLED records nothing, FORCED_OPEN and METRICS_ONLY record without evaluating; a manual transition to
 * the current state restarts it and notifies (`X_TO_X`); `reset()` notifies only when leaving a non-CLOSED
 * state. The time window's buckets start at the epoch second of the breaker's creation (or last CLOSED entry).
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker(sim, { name: 'db', slidingWindowSize: 10, minimumNumberOfCalls: 10 });
 * sim.process(function* () {
 *   if (!breaker.tryAcquirePermission()) return 'fallback';
 *   const start = sim.now;
 *   const ok = yield* callDb();
 *   if (ok) breaker.onSuccess(sim.now - start);
 *   else breaker.onError(sim.now - start);
 * });
 * ```
 */
export class CircuitBreaker {
  /** The validated configuration, defaults filled in. */
  readonly config: Readonly<ResolvedConfig>;
  private readonly clock: BreakerClock;
  private readonly sim: Simulation | null;
  private readonly failureThreshold: number;
  private readonly slowThreshold: number;
  private current: StateRecord;
  private readonly listeners: CircuitBreakerListener[] = [];
  private successes = 0;
  private failures = 0;
  private slow = 0;
  private rejected = 0;
  private transitions = 0;
  private readonly meters: {
    state: Gauge;
    successful: Counter;
    failed: Counter;
    slow: Counter;
    notPermitted: Counter;
  } | null;

  /**
   * @param clock - a {@link Simulation} (enables scheduled timed transitions and tracing) or any `{ now }`
   * @param config - see {@link CircuitBreakerConfig}
   * @default config: resilience4j defaults (count window of 100 calls, 50 % failures, 60 s open)
   */
  constructor(clock: BreakerClock, config: CircuitBreakerConfig = {}) {
    if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'number') {
      throw invalidOption(C, 'clock', clock, 'a Simulation or an object with a numeric now');
    }
    checkObject(C, 'config', config, 'a config object');
    this.clock = clock;
    this.sim = isSimulation(clock) ? clock : null;
    this.config = Object.freeze(resolveConfig(config));
    this.failureThreshold = Math.fround(this.config.failureRateThreshold);
    this.slowThreshold = Math.fround(this.config.slowCallRateThreshold);
    this.current = this.closedRecord();
    const m = this.sim?.metrics;
    const id = this.config.name;
    this.meters =
      m === undefined
        ? null
        : {
            state: m.gauge(id, 'breaker.state'),
            successful: m.counter(id, 'breaker.successful'),
            failed: m.counter(id, 'breaker.failed'),
            slow: m.counter(id, 'breaker.slow'),
            notPermitted: m.counter(id, 'breaker.not-permitted'),
          };
  }

  /** The breaker's name. */
  get name(): string {
    return this.config.name;
  }

  /** The current state (applies a due timed transition first). */
  get state(): CircuitBreakerState {
    this.sync();
    return this.current.kind;
  }

  /** Metrics of the current state's window (applies a due timed transition first). */
  get metrics(): CircuitBreakerMetrics {
    this.sync();
    const m = this.current.metrics;
    const agg = m.window.snapshot();
    return {
      failureRate: StateMetrics.rate(agg.failed, agg.calls, m.minimumCalls),
      slowCallRate: StateMetrics.rate(agg.slow, agg.calls, m.minimumCalls),
      bufferedCalls: agg.calls,
      failedCalls: agg.failed,
      successfulCalls: agg.calls - agg.failed,
      slowCalls: agg.slow,
      slowFailedCalls: agg.slowFailed,
      notPermittedCalls: m.notPermitted,
    };
  }

  /** Lifetime counters, never reset. */
  get totals(): CircuitBreakerTotals {
    return {
      successfulCalls: this.successes,
      failedCalls: this.failures,
      slowCalls: this.slow,
      notPermittedCalls: this.rejected,
      stateTransitions: this.transitions,
    };
  }

  /**
   * Asks to make a call. True: make it, then report `onSuccess` or `onError` (or `releasePermission()` if
   * it is not made). False: the call is not permitted and is counted as such.
   *
   * @example
   * ```ts
   * if (!breaker.tryAcquirePermission()) return fallback();
   * ```
   */
  tryAcquirePermission(): boolean {
    this.sync();
    const s = this.current;
    switch (s.kind) {
      case 'CLOSED':
      case 'DISABLED':
      case 'METRICS_ONLY':
        return true;
      case 'OPEN':
        if (this.clock.now > s.deadline) {
          this.toHalfOpen(this.clock.now);
          return this.tryAcquirePermission();
        }
        return this.notPermitted(s);
      case 'HALF_OPEN':
        if (s.permits > 0) {
          s.permits--;
          return true;
        }
        return this.notPermitted(s);
      default:
        return this.notPermitted(s);
    }
  }

  /**
   * Gives back a permission that was acquired but not used for a call. Only HALF_OPEN counts permits; in
   * other states this does nothing (as in resilience4j).
   *
   * @example
   * ```ts
   * if (breaker.tryAcquirePermission() && cancelled) breaker.releasePermission();
   * ```
   */
  releasePermission(): void {
    this.sync();
    const s = this.current;
    if (s.kind === 'HALF_OPEN' && s.permits < this.config.permittedNumberOfCallsInHalfOpenState) s.permits++;
  }

  /**
   * Records a successful call that took `durationMs` (slow if strictly above the slow-call threshold).
   *
   * @example
   * ```ts
   * breaker.onSuccess(sim.now - start);
   * ```
   */
  onSuccess(durationMs: number): void {
    assertNonNegative('durationMs', durationMs);
    this.record(durationMs > this.config.slowCallDurationThresholdMs ? SLOW_SUCCESS : SUCCESS);
  }

  /**
   * Records a failed call that took `durationMs` (slow if strictly above the slow-call threshold).
   *
   * @example
   * ```ts
   * breaker.onError(sim.now - start);
   * ```
   */
  onError(durationMs: number): void {
    assertNonNegative('durationMs', durationMs);
    this.record(durationMs > this.config.slowCallDurationThresholdMs ? SLOW_ERROR : ERROR);
  }

  /**
   * Calls `listener` after every state transition, in registration order, synchronously. Returns a
   * function that removes it.
   *
   * @example
   * ```ts
   * const off = breaker.onStateChange(({ from, to }) => sim.log(`${from} -> ${to}`));
   * ```
   */
  onStateChange(listener: CircuitBreakerListener): () => void {
    if (typeof listener !== 'function') throw invalidArgument('listener', listener, 'a function');
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Moves to CLOSED with a fresh window. Like resilience4j, a transition to the current state is allowed
   * and restarts that state (listeners see `from === to`).
   *
   * @example
   * ```ts
   * breaker.transitionToClosedState();
   * ```
   */
  transitionToClosedState(): void {
    this.sync();
    this.toState(this.closedRecord(), this.clock.now);
  }

  /**
   * Moves to OPEN (keeping the current window) and starts the open wait.
   *
   * @example
   * ```ts
   * breaker.transitionToOpenState();
   * ```
   */
  transitionToOpenState(): void {
    this.sync();
    this.toOpen(this.clock.now);
  }

  /**
   * Moves to HALF_OPEN with fresh trial permits.
   *
   * @example
   * ```ts
   * breaker.transitionToHalfOpenState();
   * ```
   */
  transitionToHalfOpenState(): void {
    this.sync();
    this.toHalfOpen(this.clock.now);
  }

  /**
   * Moves to DISABLED: everything permitted, nothing recorded, until changed by hand.
   *
   * @example
   * ```ts
   * breaker.transitionToDisabledState();
   * ```
   */
  transitionToDisabledState(): void {
    this.sync();
    this.toState(this.plainRecord('DISABLED'), this.clock.now);
  }

  /**
   * Moves to FORCED_OPEN: everything rejected, until changed by hand.
   *
   * @example
   * ```ts
   * breaker.transitionToForcedOpenState();
   * ```
   */
  transitionToForcedOpenState(): void {
    this.sync();
    this.toState(this.plainRecord('FORCED_OPEN'), this.clock.now);
  }

  /**
   * Moves to METRICS_ONLY: everything permitted and recorded, thresholds ignored.
   *
   * @example
   * ```ts
   * breaker.transitionToMetricsOnlyState();
   * ```
   */
  transitionToMetricsOnlyState(): void {
    this.sync();
    this.toState(this.plainRecord('METRICS_ONLY'), this.clock.now);
  }

  /**
   * Back to a fresh CLOSED state. As in resilience4j, listeners are told only if the state was not CLOSED.
   *
   * @example
   * ```ts
   * breaker.reset();
   * ```
   */
  reset(): void {
    const from = this.current.kind;
    if (from !== 'CLOSED') {
      this.toState(this.closedRecord(), this.clock.now);
      return;
    }
    this.current.timer?.cancel();
    this.current = this.closedRecord();
  }

  // -------------------------------------------------------------------------------------------------------

  private record(outcome: Outcome): void {
    this.sync();
    const failed = outcome === ERROR || outcome === SLOW_ERROR;
    const slow = outcome === SLOW_SUCCESS || outcome === SLOW_ERROR;
    if (failed) this.failures++;
    else this.successes++;
    if (slow) this.slow++;
    if (this.meters !== null) {
      (failed ? this.meters.failed : this.meters.successful).inc();
      if (slow) this.meters.slow.inc();
    }
    const s = this.current;
    if (s.kind === 'DISABLED') return;
    const agg = s.metrics.window.record(outcome);
    if (s.kind !== 'CLOSED' && s.kind !== 'HALF_OPEN') return;
    const result = s.metrics.check(agg, this.failureThreshold, this.slowThreshold);
    if (result === ABOVE_THRESHOLDS) this.toOpen(this.clock.now);
    else if (result === BELOW_THRESHOLDS && s.kind === 'HALF_OPEN') {
      this.toState(this.closedRecord(), this.clock.now);
    }
  }

  private notPermitted(s: StateRecord): false {
    s.metrics.notPermitted++;
    this.rejected++;
    this.meters?.notPermitted.inc();
    return false;
  }

  /** Applies timed transitions that are due, at their nominal times (several if the clock jumped far). */
  private sync(): void {
    const now = this.clock.now;
    for (;;) {
      const s = this.current;
      if (
        s.kind === 'OPEN' &&
        this.config.automaticTransitionFromOpenToHalfOpenEnabled &&
        now >= s.deadline
      ) {
        this.toHalfOpen(s.deadline);
      } else if (s.kind === 'HALF_OPEN' && now >= s.deadline) {
        if (this.config.transitionToStateAfterWaitDuration === 'OPEN') this.toOpen(s.deadline);
        else this.toState(this.closedRecord(), s.deadline);
      } else {
        return;
      }
    }
  }

  private closedRecord(): StateRecord {
    const c = this.config;
    const window =
      c.slidingWindowType === 'count'
        ? new CountWindow(c.slidingWindowSize)
        : new TimeWindow(this.clock, c.slidingWindowSize);
    // resilience4j (CircuitBreakerMetrics.forClosed) clamps minCalls to the size of a count window only.
    const minimum =
      c.slidingWindowType === 'count'
        ? Math.min(c.minimumNumberOfCalls, c.slidingWindowSize)
        : c.minimumNumberOfCalls;
    return {
      kind: 'CLOSED',
      metrics: new StateMetrics(window, minimum),
      deadline: Infinity,
      permits: 0,
      timer: null,
    };
  }

  private plainRecord(kind: CircuitBreakerState): StateRecord {
    const record = this.closedRecord();
    return { ...record, kind };
  }

  private toOpen(at: number): void {
    const deadline = at + this.config.waitDurationInOpenStateMs;
    const record: StateRecord = {
      kind: 'OPEN',
      metrics: this.current.metrics,
      deadline,
      permits: 0,
      timer: null,
    };
    if (this.config.automaticTransitionFromOpenToHalfOpenEnabled) record.timer = this.scheduleSync(deadline);
    this.toState(record, at);
  }

  private toHalfOpen(at: number): void {
    const n = this.config.permittedNumberOfCallsInHalfOpenState;
    const maxWait = this.config.maxWaitDurationInHalfOpenStateMs;
    const deadline = maxWait > 0 ? at + maxWait : Infinity;
    const record: StateRecord = {
      kind: 'HALF_OPEN',
      metrics: new StateMetrics(new CountWindow(n), n),
      deadline,
      permits: n,
      timer: null,
    };
    if (deadline !== Infinity) record.timer = this.scheduleSync(deadline);
    this.toState(record, at);
  }

  private scheduleSync(at: number): ScheduledHandle | null {
    const sim = this.sim;
    if (sim === null) return null;
    return sim.scheduleAt(Math.max(at, sim.now), () => this.sync());
  }

  private toState(record: StateRecord, at: number): void {
    const from = this.current.kind;
    this.current.timer?.cancel();
    this.current = record;
    this.transitions++;
    this.meters?.state.set(STATE_ORDER[record.kind]);
    const sim = this.sim;
    if (sim?.tracing) sim.emit('@dsim.breaker.state', { breaker: this.config.name, from, to: record.kind });
    if (this.listeners.length === 0) return;
    const change: CircuitBreakerStateChange = { breaker: this.config.name, from, to: record.kind, at };
    for (const listener of this.listeners.slice()) listener(change);
  }
}

const C = 'CircuitBreaker';

const CONFIG_KEYS = optionKeys<CircuitBreakerConfig>()({
  name: true,
  slidingWindowType: true,
  slidingWindowSize: true,
  minimumNumberOfCalls: true,
  failureRateThreshold: true,
  slowCallRateThreshold: true,
  slowCallDurationThresholdMs: true,
  waitDurationInOpenStateMs: true,
  permittedNumberOfCallsInHalfOpenState: true,
  automaticTransitionFromOpenToHalfOpenEnabled: true,
  maxWaitDurationInHalfOpenStateMs: true,
  transitionToStateAfterWaitDuration: true,
});

const COUNT = { integer: true, min: 1 } as const;
const PERCENT = { above: 0, max: 100, unit: 'percent' } as const;

function resolveConfig(config: CircuitBreakerConfig): ResolvedConfig {
  checkOptions(C, config, CONFIG_KEYS);
  const c = config;
  return {
    name: checkName(C, 'name', c.name ?? 'circuit-breaker'),
    slidingWindowType: checkEnum(C, 'slidingWindowType', c.slidingWindowType ?? 'count', ['count', 'time']),
    slidingWindowSize: checkNumber(C, 'slidingWindowSize', c.slidingWindowSize ?? 100, COUNT),
    minimumNumberOfCalls: checkNumber(C, 'minimumNumberOfCalls', c.minimumNumberOfCalls ?? 100, COUNT),
    failureRateThreshold: checkNumber(C, 'failureRateThreshold', c.failureRateThreshold ?? 50, PERCENT),
    slowCallRateThreshold: checkNumber(C, 'slowCallRateThreshold', c.slowCallRateThreshold ?? 100, PERCENT),
    slowCallDurationThresholdMs: checkNumber(
      C,
      'slowCallDurationThresholdMs',
      c.slowCallDurationThresholdMs ?? 60_000,
      { above: 0, unit: 'ms' },
    ),
    waitDurationInOpenStateMs: checkNumber(
      C,
      'waitDurationInOpenStateMs',
      c.waitDurationInOpenStateMs ?? 60_000,
      {
        min: 1,
        unit: 'ms',
      },
    ),
    permittedNumberOfCallsInHalfOpenState: checkNumber(
      C,
      'permittedNumberOfCallsInHalfOpenState',
      c.permittedNumberOfCallsInHalfOpenState ?? 10,
      COUNT,
    ),
    automaticTransitionFromOpenToHalfOpenEnabled: checkBoolean(
      C,
      'automaticTransitionFromOpenToHalfOpenEnabled',
      c.automaticTransitionFromOpenToHalfOpenEnabled ?? false,
    ),
    maxWaitDurationInHalfOpenStateMs: checkNumber(
      C,
      'maxWaitDurationInHalfOpenStateMs',
      c.maxWaitDurationInHalfOpenStateMs ?? 0,
      { min: 0, unit: 'ms' },
    ),
    transitionToStateAfterWaitDuration: checkEnum(
      C,
      'transitionToStateAfterWaitDuration',
      c.transitionToStateAfterWaitDuration ?? 'OPEN',
      ['OPEN', 'CLOSED'],
    ),
  };
}
