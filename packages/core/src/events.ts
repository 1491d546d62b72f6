import { DsimError } from './errors.js';
import { checkPriority, EventKind, NORMAL } from './event-queue.js';
import type { Simulation } from './simulation.js';

/** Lifecycle of an event: pending, triggered (its outcome is fixed and it is queued), processed (waiters ran). */
export type EventState = 0 | 1 | 2;
/** @internal */ export const PENDING = 0;
/** @internal */ export const TRIGGERED = 1;
/** @internal */ export const PROCESSED = 2;

/**
 * Something woken when an event is processed. Processes are waiters themselves, so resuming one costs a
 * single method call and no closure per wait.
 * @internal
 */
export interface Waiter {
  _wake(event: SimEvent<any>): void;
}

/** The value a wait resumes a process with. */
export type ValueOf<E> = E extends SimEvent<infer T> ? T : never;

/** Result of a wait that carries its own timeout (see {@link SimEvent.within}). */
export type Timed<T> = { readonly timedOut: false; readonly value: T } | { readonly timedOut: true };

// Module-level function so scheduling an event allocates no closure.
function processEvent(event: SimEvent<any>): void {
  event._process();
}

/**
 * The brand every {@link SimEvent} carries, registered with `Symbol.for` so that it is the same symbol in
 * every copy of @dsim/core loaded in a process. Checks on objects that come from user code use it instead
 * of `instanceof`, which says no for an event built by another copy of the package.
 */
const SIM_EVENT_BRAND = Symbol.for('@dsim/core.SimEvent');

/**
 * True for a {@link SimEvent}, also one made by another copy of @dsim/core (two installed versions, or a
 * module loaded twice), where `instanceof` would say no. Every event carries the brand on its
 * prototype, so this is one property load, which V8 compiles to a map check where the values are of
 * one kind: processes make it on every value they yield (`instanceof` first, walking the prototype
 * chain, cost 10 more instructions per timeout).
 *
 * @example
 * ```ts
 * if (!isSimEvent(value)) throw new Error('expected an event');
 * ```
 */
export function isSimEvent(value: unknown): value is SimEvent<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[SIM_EVENT_BRAND] === true
  );
}

/**
 * Something a process can wait for: it happens once, with a value or with an error.
 *
 * An event is pending until `succeed()` or `fail()` triggers it; it is then queued at the current time
 * and, when the queue reaches it, processed: every waiter runs, in the order it started waiting. A
 * process that yields an event resumes with its value (or has its error thrown in). A failed event that
 * nobody waits on stops the run with an error, so failures are never silently lost.
 *
 * Waiting with `yield*` gives the value its type:
 *
 * @example
 * ```ts
 * const ready = sim.event<string>();
 * sim.process(function* () {
 *   const who = yield* ready; // typed string
 *   sim.log(`ready: ${who}`);
 * });
 * sim.schedule(10, () => ready.succeed('db'));
 * ```
 */
export class SimEvent<T = void> implements Iterable<SimEvent<T>> {
  /** @internal */ readonly sim: Simulation;
  /** @internal */ _state: EventState = PENDING;
  /** @internal */ _ok = true;
  /** @internal */ _value: unknown = undefined;
  // First waiter inline, the rest in an array: most events have exactly one waiter.
  /** @internal */ _waiter: Waiter | null = null;
  /** @internal */ _waiters: Waiter[] | null = null;

  constructor(sim: Simulation) {
    this.sim = sim;
  }

  /** True once the outcome is fixed (it may still be waiting in the queue to be processed). */
  get triggered(): boolean {
    return this._state !== PENDING;
  }

  /** True once the event was processed and its waiters ran. */
  get processed(): boolean {
    return this._state === PROCESSED;
  }

  /** True if the event succeeded (or is still pending); false if it failed. */
  get ok(): boolean {
    return this._ok;
  }

  /** The value once succeeded; `undefined` before. */
  get value(): T | undefined {
    return this._ok ? (this._value as T) : undefined;
  }

  /** The error once failed; `undefined` otherwise. */
  get error(): unknown {
    return this._ok ? undefined : this._value;
  }

  /**
   * Triggers the event with a value; waiters run when the queue reaches it (at the current time).
   * @param priority - queue priority at the current time, lower runs first
   * @default priority 1 (NORMAL)
   */
  succeed(value: T, priority: number = NORMAL): this {
    this._assertPending('succeed');
    if (priority !== NORMAL) checkPriority(priority);
    this._trigger(true, value, priority);
    return this;
  }

  /** Triggers the event with an error: waiting processes get it thrown at their `yield`. */
  fail(error: unknown, priority: number = NORMAL): this {
    this._assertPending('fail');
    if (priority !== NORMAL) checkPriority(priority);
    this._trigger(false, error, priority);
    return this;
  }

  /**
   * Runs `callback` when the event is processed (immediately if it already was). The plain-callback
   * counterpart of yielding the event in a process; counts as handling a failure.
   */
  onProcessed(callback: (event: this) => void): void {
    if (this._state === PROCESSED) callback(this);
    else this._addWaiter({ _wake: callback as (event: SimEvent<any>) => void });
  }

  /**
   * Waits for this event, but for at most `delay`. Resolves to `{ timedOut: false, value }` or
   * `{ timedOut: true }`. When the time runs out first, a claim such as a resource request or a store
   * get is withdrawn (or released, if it was granted in the same instant), so nothing leaks.
   *
   * @example
   * ```ts
   * const r = yield* server.request().within('2s');
   * if (r.timedOut) return 'gave up';
   * ```
   */
  within(delay: number | string): SimEvent<Timed<T>> {
    return new WithinEvent<T>(this, delay);
  }

  /**
   * Makes the event usable with `yield*` inside a process, which types the result:
   * `const v = yield* ev` has type `T`.
   */
  [Symbol.iterator](): Iterator<SimEvent<T>, T, unknown> {
    return new WaitDelegate<T>(this);
  }

  /** @internal Fixes the outcome and queues processing at the current time. */
  _trigger(ok: boolean, value: unknown, priority: number): void {
    this._state = TRIGGERED;
    this._ok = ok;
    this._value = value;
    this.sim._push(this.sim.now, priority, processEvent, this, EventKind.event, 0);
  }

  /** @internal Fixes the outcome and processes at once (for derived events such as conditions). */
  _settle(ok: boolean, value: unknown): void {
    this._state = TRIGGERED;
    this._ok = ok;
    this._value = value;
    this._process();
  }

  /** @internal Runs the waiters. */
  _process(): void {
    this._state = PROCESSED;
    const first = this._waiter;
    const rest = this._waiters;
    this._waiter = null;
    this._waiters = null;
    const hasRest = rest !== null && rest.length > 0;
    if (first === null && !hasRest) {
      if (!this._ok) this.sim._unhandledFailure(this);
      return;
    }
    if (first !== null) first._wake(this);
    if (hasRest) for (let i = 0; i < rest.length; i++) rest[i]!._wake(this);
  }

  /** @internal */
  _addWaiter(waiter: Waiter): void {
    if (this._waiter === null && this._waiters === null) this._waiter = waiter;
    else if (this._waiters === null) this._waiters = [waiter];
    else this._waiters.push(waiter);
  }

  /** @internal */
  _removeWaiter(waiter: Waiter): void {
    if (this._waiter === waiter) {
      this._waiter = null;
      if (this._waiters !== null && this._waiters.length > 0) this._waiter = this._waiters.shift()!;
      return;
    }
    if (this._waiters !== null) {
      const i = this._waiters.indexOf(waiter);
      if (i >= 0) this._waiters.splice(i, 1);
      if (this._waiters.length === 0) this._waiters = null;
    }
  }

  /**
   * @internal Called when the only process waiting on this event stops waiting (interrupt, timeout).
   * Claims (resource requests, store gets and puts) override it to withdraw themselves.
   */
  _abandon(): void {}

  /** @internal Label used in traces and errors. */
  _describe(): string {
    return 'event';
  }

  private _assertPending(verb: string): void {
    if (this._state !== PENDING) {
      throw new DsimError('INVALID_STATE', `cannot ${verb} ${this._describe()}: it was already triggered`, {
        simTime: this.sim.now,
        seed: this.sim.seed,
      });
    }
  }
}

/** One-shot iterator behind `yield* event`: yields the event once, then returns the resume value. */
class WaitDelegate<T> implements Iterator<SimEvent<T>, T, unknown> {
  private started = false;
  constructor(private readonly event: SimEvent<T>) {}

  next(value?: unknown): IteratorResult<SimEvent<T>, T> {
    if (!this.started) {
      this.started = true;
      return { done: false, value: this.event };
    }
    return { done: true, value: value as T };
  }

  throw(error?: unknown): IteratorResult<SimEvent<T>, T> {
    throw error;
  }

  return(value?: T): IteratorResult<SimEvent<T>, T> {
    return { done: true, value: value as T };
  }
}

/**
 * An event that triggers itself after a delay. Created with `sim.timeout(delay, value?)`.
 *
 * @example
 * ```ts
 * sim.process(function* () {
 *   yield sim.timeout('250ms');
 * });
 * ```
 */
export class Timeout<T = void> extends SimEvent<T> {
  /** Delay in ms from creation to firing. */
  readonly delay: number;
  private readonly slot: number;

  constructor(sim: Simulation, delay: number, value: T) {
    super(sim);
    this.delay = delay;
    this._state = TRIGGERED;
    this._value = value;
    this.slot = sim._push(sim.now + delay, NORMAL, processEvent, this, EventKind.timeout, 0);
  }

  /** Stops the timeout from firing; processes waiting on it wait forever. Used by `within()`. */
  cancel(): void {
    // The slot still holds this timeout exactly while it is queued (a reused slot holds another arg).
    if (this._state !== PROCESSED) this.sim._cancelIfHolds(this.slot, this);
  }

  override _describe(): string {
    return `timeout(${this.delay}ms)`;
  }
}

/**
 * The event behind `ev.within(delay)`: settles with the inner event or when the timer fires first. When
 * its own waiter gives up (interrupted), it gives up the inner claim and the timer too.
 * @internal
 */
class WithinEvent<T> extends SimEvent<Timed<T>> {
  private readonly timer: Timeout<void> | null = null;
  private readonly onInner: Waiter;

  constructor(
    private readonly inner: SimEvent<T>,
    delay: number | string,
  ) {
    super(inner.sim);
    this.onInner = {
      _wake: (ev) => {
        if (this._state !== PENDING) return;
        this.timer?.cancel();
        this._settle(ev._ok, ev._ok ? { timedOut: false, value: ev._value as T } : ev._value);
      },
    };
    if (inner._state === PROCESSED) {
      // Queued, not settled: a failure must reach whoever yields this next, not stop the run now.
      this._trigger(
        inner._ok,
        inner._ok ? { timedOut: false, value: inner._value as T } : inner._value,
        NORMAL,
      );
      return;
    }
    const timer = inner.sim.timeout(delay);
    this.timer = timer;
    inner._addWaiter(this.onInner);
    timer._addWaiter({
      _wake: () => {
        if (this._state !== PENDING) return;
        inner._removeWaiter(this.onInner);
        inner._abandon();
        this._settle(true, { timedOut: true });
      },
    });
  }

  override _abandon(): void {
    this.timer?.cancel();
    this.inner._removeWaiter(this.onInner);
    this.inner._abandon();
  }

  override _describe(): string {
    return `within(${this.inner._describe()})`;
  }
}

/** The value of `anyOf`: which event came first and its value. */
export interface AnyOfResult<E extends readonly SimEvent<any>[]> {
  /** Index of the first event to be processed. */
  readonly index: number;
  /** Its value. */
  readonly value: ValueOf<E[number]>;
}

/**
 * Waits for every event (`all`) or the first (`any`). Resolves in the same step as the event that
 * decides it. Fails as soon as one of the events fails.
 * @internal Built by `sim.allOf()` and `sim.anyOf()`.
 */
export class Condition<T> extends SimEvent<T> {
  private remaining: number;
  private readonly values: unknown[];
  private constructing = true;

  constructor(
    sim: Simulation,
    private readonly events: readonly SimEvent<any>[],
    private readonly mode: 'all' | 'any',
  ) {
    super(sim);
    this.remaining = events.length;
    this.values = new Array(events.length);
    for (let i = 0; i < events.length && this._state === PENDING; i++) {
      const ev = events[i]!;
      if (ev._state === PROCESSED) this.check(i, ev);
      else ev._addWaiter({ _wake: (e) => this.check(i, e) });
    }
    if (this._state === PENDING && mode === 'all' && events.length === 0) this._settle(true, []);
    this.constructing = false;
  }

  // Decided while being built (its events had already happened): queue it, so that a failure reaches
  // the process that yields the condition instead of stopping the run before anyone could wait.
  private decide(ok: boolean, value: unknown): void {
    if (this.constructing && !ok) this._trigger(ok, value, NORMAL);
    else this._settle(ok, value);
  }

  private check(index: number, ev: SimEvent<any>): void {
    if (this._state !== PENDING) return;
    if (!ev._ok) {
      this.decide(false, ev._value);
      return;
    }
    if (this.mode === 'any') {
      this.decide(true, { index, value: ev._value });
      return;
    }
    this.values[index] = ev._value;
    if (--this.remaining === 0) this.decide(true, this.values);
  }

  // Every child, processed or not: a claim granted to the condition must be released if nobody takes it.
  override _abandon(): void {
    for (const ev of this.events) ev._abandon();
  }

  override _describe(): string {
    return `${this.mode}Of(${this.events.length} events)`;
  }
}

Object.defineProperty(SimEvent.prototype, SIM_EVENT_BRAND, { value: true });
