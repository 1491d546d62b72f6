import { RollingDigest } from './digest.js';
import { type Duration, toMs } from './duration.js';
import { DsimError, invalidArgument, isDsimError } from './errors.js';
import {
  checkPriority,
  EventKind,
  EventQueue,
  NORMAL,
  packOrder,
  QueueHandle,
  type ScheduledHandle,
} from './event-queue.js';
import { type AnyOfResult, Condition, isSimEvent, SimEvent, Timeout, type ValueOf } from './events.js';
import { MetricsRegistry } from './metrics/registry.js';
import { checkOptions, optionKeys } from './options.js';
import { errorMessage, Process, type ProcessBody, type ProcessGenerator } from './process.js';
import { deriveStream, type RandomStream } from './random/stream.js';
import { checkCallOptions } from './strict.js';
import type { RunStopReason, TraceListener, TraceRecord } from './trace.js';

/** Options for {@link Simulation}. */
export interface SimulationOptions {
  /**
   * Root seed of every random stream. Same seed, same run. Numbers and strings are both accepted and
   * compared as strings (`1` and `"1"` are the same seed).
   * @default 1
   */
  seed?: number | string;
  /**
   * Width of the intervals of the metrics time series (`sim.metrics`).
   * @default 1000 (1 s)
   */
  metricsInterval?: Duration;
}

/** Options for {@link Simulation.run}. */
export interface RunOptions {
  /**
   * Absolute simulated time to stop at. Events due strictly before `until` run; events due exactly at
   * `until` stay queued for a later `run()`; afterwards `now === until`. So consecutive
   * `run({ until: 10 })`, `run({ until: 20 })` process every event exactly once.
   * @default Infinity (run until the queue is empty)
   */
  until?: Duration;
  /**
   * Stop after processing this many events in this call.
   * @default Infinity
   */
  maxEvents?: number;
}

/** What `run()` returns. */
export interface RunSummary {
  /** Why the run returned. */
  readonly reason: RunStopReason;
  /** Simulated time after the run (ms). */
  readonly now: number;
  /** Events processed by this call. */
  readonly events: number;
}

/** Options for scheduling a callback. */
export interface ScheduleOptions {
  /**
   * Tie-break among events due at the same time: lower runs first; equal priorities run in scheduling
   * order. An integer in [-512, 511]. Processes start and interrupts land at priority 0.
   * @default 1
   */
  priority?: number;
}

const SIMULATION_KEYS = optionKeys<SimulationOptions>()({ seed: true, metricsInterval: true });
const RUN_KEYS = optionKeys<RunOptions>()({ until: true, maxEvents: true });
const SCHEDULE_KEYS = optionKeys<ScheduleOptions>()({ priority: true });

/** A check registered with {@link Simulation.watch}. */
interface Watch {
  readonly every: number;
  readonly check: (sim: Simulation) => void;
  /** Value of the processed-event count at which it is next due. */
  next: number;
  active: boolean;
}

function runCallback(fn: () => void): void {
  fn();
}

const SIMULATION_BRAND = Symbol.for('@dsim/core.Simulation');

/**
 * True for a {@link Simulation}, also one made by another copy of @dsim/core, where `instanceof` would
 * say no.
 *
 * @example
 * ```ts
 * const sim = isSimulation(clock) ? clock : null;
 * ```
 */
export function isSimulation(value: unknown): value is Simulation {
  return (
    value instanceof Simulation ||
    (typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[SIMULATION_BRAND] === true)
  );
}

/** One entry of {@link Simulation.faultLog}. */
export interface FaultLogEntry {
  /** Simulated time (ms). */
  readonly t: number;
  /** What happened: `crash`, `restart`, `pause`, `resume`, `partition`, `isolate`, `heal`, `link`, ... */
  readonly fault: string;
  /** The fault's fields, as in its `@dsim.fault` trace record (`node`, `a`, `b`, `factor`, ...). */
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * A deterministic discrete-event simulation: a virtual clock in milliseconds, an event queue ordered by
 * (time, priority, insertion order), processes written as generator functions, seeded random streams,
 * a trace bus and a run digest.
 *
 * @example
 * ```ts
 * import { Simulation } from '@dsim/core';
 *
 * const sim = new Simulation({ seed: 42 });
 * sim.process(function* () {
 *   yield sim.timeout('1s');
 *   sim.log('one second in');
 * });
 * sim.run({ until: '1m' });
 * console.log(sim.now, sim.digest());
 * ```
 */
export class Simulation {
  /** Root seed, as a string. */
  readonly seed: string;
  /** The process currently running, or null in plain callbacks and between events. */
  activeProcess: Process<any> | null = null;
  /** True when at least one trace listener is attached. Emitting sites check it first. */
  tracing = false;
  /**
   * Every fault applied or undone during the run (crash, restart, pause, partition, heal, link changes,
   * ...), in order, with the time and the fields of its `@dsim.fault` trace record. Kept whether or not
   * anything traces (faults are rare), so results and reports can shade fault windows; never part of the
   * digest.
   *
   * @example
   * ```ts
   * net.crash('db');
   * sim.faultLog; // [{ t: 0, fault: 'crash', fields: { node: 'db' } }]
   * ```
   */
  readonly faultLog: FaultLogEntry[] = [];

  private _now = 0;
  private seq = 0;
  private processedEvents = 0;
  private processCount = 0;
  private stopRequested = false;
  private running = false;
  private traceSeq = 0;
  private readonly queue = new EventQueue();
  private readonly hash = new RollingDigest();
  private readonly listeners: TraceListener[] = [];
  private readonly streams = new Map<string, RandomStream>();
  private registry: MetricsRegistry | null = null;
  private readonly metricsInterval: Duration;
  private watches: Watch[] = [];
  // Processed-event count at which the next watch check is due; Infinity when nothing watches.
  private nextWatch = Number.POSITIVE_INFINITY;
  // Processed-event count at which the current run() stops for its `maxEvents`; Infinity outside run().
  private runLimit = Number.POSITIVE_INFINITY;
  // The lesser of `nextWatch` and `runLimit`: the event loop's one compare for both.
  private nextCheck = Number.POSITIVE_INFINITY;
  // The error a watch check threw, so run() passes it on as it is instead of wrapping it.
  private watchFailure: unknown = undefined;

  constructor(options: SimulationOptions = {}) {
    checkOptions('Simulation', options, SIMULATION_KEYS);
    const seed = options.seed === undefined ? 1 : options.seed;
    if (typeof seed === 'number' ? !Number.isFinite(seed) : typeof seed !== 'string' || seed.length === 0) {
      throw invalidArgument('seed', seed, 'a finite number or a non-empty string', 'Simulation');
    }
    this.seed = String(seed);
    this.metricsInterval = options.metricsInterval ?? 1000;
    if (toMs(this.metricsInterval, 'Simulation: metricsInterval') === 0) {
      throw invalidArgument(
        'metricsInterval',
        this.metricsInterval,
        'a duration > 0 such as 1000 or "1s"',
        'Simulation',
      );
    }
  }

  /**
   * The run's metrics registry: components record counters, gauges and latency histograms under their
   * node id here, and results read its snapshot. Created on first use; recording never schedules events,
   * so it never changes the run or its digest.
   *
   * @example
   * ```ts
   * sim.metrics.counter('db', 'queries').inc();
   * sim.metrics.snapshot();
   * ```
   */
  get metrics(): MetricsRegistry {
    this.registry ??= new MetricsRegistry(this, { interval: this.metricsInterval });
    return this.registry;
  }

  /** True once something used `sim.metrics`. */
  get hasMetrics(): boolean {
    return this.registry !== null;
  }

  /**
   * The random stream named `name`, derived from the root seed and the name alone: adding a component,
   * or drawing from another stream, never changes this stream's numbers (common random numbers across
   * variants). The same name returns the same stream object.
   *
   * @example
   * ```ts
   * const arrivals = sim.rng('client-1/arrivals');
   * const gap = exponential({ mean: 100 }).sample(arrivals);
   * ```
   */
  rng(name: string): RandomStream {
    let stream = this.streams.get(name);
    if (stream === undefined) {
      if (typeof name !== 'string' || name.length === 0)
        throw invalidArgument('rng(name)', name, 'a non-empty string');
      stream = deriveStream(this.seed, name);
      this.streams.set(name, stream);
    }
    return stream;
  }

  /** Current simulated time in ms. */
  get now(): number {
    return this._now;
  }

  /** Events processed so far (cancelled entries are not counted). */
  get eventCount(): number {
    return this.processedEvents;
  }

  /** Entries waiting in the queue, including cancelled ones not yet skipped. */
  get queueSize(): number {
    return this.queue.size;
  }

  /**
   * Runs `fn` after `delay`. Returns a handle whose `cancel()` stops it.
   *
   * @example
   * ```ts
   * const h = sim.schedule('30s', () => sim.log('half a minute'));
   * ```
   */
  schedule(delay: Duration, fn: () => void, options?: ScheduleOptions): ScheduledHandle {
    const ms = toMs(delay, 'delay');
    return this.scheduleAt(this._now + ms, fn, options);
  }

  /** Runs `fn` at absolute simulated time `time` (ms), which must not be in the past. */
  scheduleAt(time: number, fn: () => void, options?: ScheduleOptions): ScheduledHandle {
    if (typeof time !== 'number' || !(time >= this._now) || time === Infinity) {
      throw invalidArgument('time', time, `a finite time >= now (${this._now})`);
    }
    if (typeof fn !== 'function') throw invalidArgument('fn', fn, 'a function');
    const priority = priorityOf(options);
    const slot = this._push(time, priority, runCallback, fn, EventKind.callback, 0);
    return new QueueHandle(this.queue, slot, this.queue.generation[slot]!, time);
  }

  /**
   * An event that fires after `delay`, with an optional value. Yield it from a process to wait.
   *
   * @example
   * ```ts
   * yield sim.timeout(250);       // 250 ms
   * yield sim.timeout('1.5s');
   * ```
   */
  timeout<T = void>(delay: Duration, value?: T): Timeout<T> {
    // Fast path: plain finite non-negative number (the common case on hot paths).
    const ms = typeof delay === 'number' && delay >= 0 && delay !== Infinity ? delay : toMs(delay, 'delay');
    return new Timeout<T>(this, ms, value as T);
  }

  /**
   * A one-shot event triggered by hand with `succeed(value)` or `fail(error)`.
   *
   * @example
   * ```ts
   * const done = sim.event<number>();
   * sim.schedule(5, () => done.succeed(7));
   * ```
   */
  event<T = void>(): SimEvent<T> {
    return new SimEvent<T>(this);
  }

  /**
   * Starts a process at the current time. `body` is a generator function (called with no arguments) or
   * a generator object. The process is an event you can join: `const r = yield* proc`.
   *
   * @param name - used in traces and errors
   * @default name the generator function's name, else `process-<id>`
   * @example
   * ```ts
   * sim.process(function* customer() {
   *   yield sim.timeout(5);
   * });
   * ```
   */
  process<R>(body: ProcessBody<R>, name?: string): Process<R> {
    let gen: ProcessGenerator<R>;
    let defaultName = '';
    if (typeof body === 'function') {
      defaultName = body.name;
      gen = body();
      if (gen === null || typeof gen !== 'object' || typeof gen.next !== 'function') {
        throw invalidArgument('process body', gen, 'a generator function (function*) or a generator object');
      }
    } else if (body !== null && typeof body === 'object' && typeof body.next === 'function') {
      gen = body;
    } else {
      throw invalidArgument('process body', body, 'a generator function (function*) or a generator object');
    }
    const id = ++this.processCount;
    const procName = name ?? (defaultName !== '' ? defaultName : `process-${id}`);
    const proc = new Process<R>(this, gen, procName, id);
    if (this.tracing) this.emit('@dsim.process.start', { process: procName, id });
    return proc;
  }

  /**
   * An event that succeeds when all `events` have, with their values in order; fails as soon as one fails.
   *
   * @example
   * ```ts
   * const [a, b] = yield* sim.allOf([fetchA, fetchB] as const);
   * ```
   */
  allOf<const E extends readonly SimEvent<any>[]>(
    events: E,
  ): SimEvent<{ -readonly [K in keyof E]: ValueOf<E[K]> }> {
    checkEvents(this, 'allOf', events);
    return new Condition(this, events, 'all');
  }

  /**
   * An event that succeeds as soon as one of `events` does, with its index and value; fails if the first
   * to finish fails. The other events keep going (use `within()` to put a deadline on a claim).
   */
  anyOf<const E extends readonly SimEvent<any>[]>(events: E): SimEvent<AnyOfResult<E>> {
    checkEvents(this, 'anyOf', events);
    if (events.length === 0) throw invalidArgument('anyOf(events)', events, 'a non-empty array of events');
    return new Condition(this, events, 'any');
  }

  /**
   * Processes events in (time, priority, insertion) order until the queue is empty, `until` is reached,
   * `maxEvents` were processed, or `stop()` is called. Errors thrown inside carry the simulated time and
   * the seed.
   *
   * @example
   * ```ts
   * sim.run({ until: '10m' });
   * sim.run({ maxEvents: 1000 });
   * ```
   */
  run(options: RunOptions = {}): RunSummary {
    const until = this.checkRun(options);
    const maxEvents = options.maxEvents ?? Infinity;
    this.running = true;
    this.stopRequested = false;
    const queue = this.queue;
    const hash = this.hash;
    const start = this.processedEvents;
    // One compare per event covers both the event limit and the watches (see `rearmWatches`).
    this.runLimit = start + maxEvents;
    this.rearmWatches();
    let reason: RunStopReason = 'empty';
    try {
      if (maxEvents === 0) reason = this.limitReason(until);
      else
        for (;;) {
          const slot = queue.take(until);
          if (slot < 0) {
            reason = slot === -1 ? 'empty' : 'until';
            break;
          }
          const fn = queue.fn[slot] as ((arg: unknown) => void) | null;
          if (fn === null) {
            queue.free(slot);
            continue;
          }
          const arg = queue.arg[slot];
          // The due time's two words, read where the queue keeps it: the digest of `time[slot]`.
          // (Read per event: the queue replaces its arrays when it grows.)
          const words = queue.timeWords;
          hash.addWords(words[2 * slot]!, words[2 * slot + 1]!, queue.kind[slot]!, queue.tag[slot]!);
          this._now = queue.takenTime;
          queue.free(slot);
          this.processedEvents++;
          fn(arg);
          if (this.processedEvents >= this.nextCheck) {
            if (this.processedEvents >= this.nextWatch) this.runWatches();
            if (this.stopRequested) {
              reason = 'stopped';
              break;
            }
            if (this.processedEvents >= this.runLimit) {
              reason = this.limitReason(until);
              break;
            }
            continue;
          }
          if (this.stopRequested) {
            reason = 'stopped';
            break;
          }
        }
    } catch (error) {
      throw this.decorate(error);
    } finally {
      this.running = false;
      this.activeProcess = null;
      this.runLimit = Number.POSITIVE_INFINITY;
      this.rearmWatches();
    }
    if (until !== Infinity && (reason === 'until' || reason === 'empty')) this._now = until;
    return { reason, now: this._now, events: this.processedEvents - start };
  }

  /** Why a run that reached its `maxEvents` stops: the queue's end and `until` are reported first. */
  private limitReason(until: number): RunStopReason {
    const next = this.queue.peek();
    return next < 0 ? 'empty' : this.queue.time[next]! >= until ? 'until' : 'maxEvents';
  }

  /** Checks `run()`'s options and state; returns the time to run until. */
  private checkRun(options: RunOptions): number {
    checkOptions('Simulation.run', options, RUN_KEYS);
    const until = options.until === undefined ? Infinity : toUntil(options.until);
    if (until < this._now) {
      throw invalidArgument(
        'until',
        options.until,
        `a time >= the current time (${this._now} ms)`,
        'Simulation.run',
      );
    }
    const maxEvents = options.maxEvents ?? Infinity;
    if (maxEvents !== Infinity && (!Number.isInteger(maxEvents) || maxEvents < 0)) {
      throw invalidArgument('maxEvents', maxEvents, 'an integer >= 0 or Infinity', 'Simulation.run');
    }
    if (this.running)
      throw new DsimError('INVALID_STATE', 'run() called while the simulation is already running');
    return until;
  }

  /**
   * Processes the next event, if any. Returns false when the queue is empty.
   * Cancelled entries are skipped and do not count as a step.
   */
  step(): boolean {
    if (this.running) throw new DsimError('INVALID_STATE', 'step() called while the simulation is running');
    const queue = this.queue;
    for (;;) {
      const slot = queue.peek();
      if (slot < 0) return false;
      queue.pop(slot);
      const fn = queue.fn[slot] as ((arg: unknown) => void) | null;
      if (fn === null) {
        queue.free(slot);
        continue;
      }
      const t = queue.time[slot]!;
      const arg = queue.arg[slot];
      this.hash.add(t, queue.kind[slot]!, queue.tag[slot]!);
      queue.free(slot);
      this._now = t;
      this.processedEvents++;
      try {
        fn(arg);
        if (this.processedEvents >= this.nextWatch) this.runWatches();
      } catch (error) {
        throw this.decorate(error);
      } finally {
        this.activeProcess = null;
      }
      return true;
    }
  }

  /** Makes the current `run()` return after the event being processed. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Calls `check(sim)` after every `everyEvents` processed events, counted from now across all `run()`
   * and `step()` calls: the hook for limits and progress that scenario code cannot see, since it calls
   * `run()` itself. `check` may call `sim.stop()` to end the current run normally, or throw to abort
   * it: the error leaves `run()` as it was thrown (a {@link DsimError} gets the simulated time and seed
   * filled in when it lacks them). Returns a function that removes the check.
   *
   * Determinism: a check that only reads (time, event count, wall clock in the CLI) changes neither the
   * run nor its digest. Cost: with no check registered the event loop pays one compare per event.
   *
   * @param everyEvents - an integer >= 1
   * @example
   * ```ts
   * const off = sim.watch(100_000, (s) => {
   *   if (s.eventCount >= maxEvents) {
   *     throw new DsimError('RUN_LIMIT', `stopped after ${s.eventCount} events (--max-events ${maxEvents})`);
   *   }
   * });
   * sim.run();
   * off();
   * ```
   */
  watch(everyEvents: number, check: (sim: Simulation) => void): () => void {
    if (typeof everyEvents !== 'number' || !Number.isSafeInteger(everyEvents) || everyEvents < 1) {
      throw invalidArgument('everyEvents', everyEvents, 'an integer >= 1', 'Simulation.watch');
    }
    if (typeof check !== 'function') {
      throw invalidArgument('check', check, 'a function (sim) => void', 'Simulation.watch');
    }
    const watch: Watch = {
      every: everyEvents,
      check,
      next: this.processedEvents + everyEvents,
      active: true,
    };
    this.watches.push(watch);
    this.rearmWatches();
    return () => {
      if (!watch.active) return;
      watch.active = false;
      this.watches = this.watches.filter((w) => w !== watch);
      this.rearmWatches();
    };
  }

  /** Time of the next event that will run, or Infinity when none is queued. */
  peek(): number {
    const queue = this.queue;
    for (;;) {
      const slot = queue.peek();
      if (slot < 0) return Infinity;
      if (queue.fn[slot] !== null) return queue.time[slot]!;
      queue.pop(slot);
      queue.free(slot);
    }
  }

  /**
   * Digest of the run so far: a rolling hash over every processed event's time, kind and subject.
   * Tracing on or off gives the same digest. Same seed, code and Node major: same digest.
   */
  digest(): string {
    return this.hash.hex();
  }

  /**
   * Attaches a listener to the trace bus. Returns a function that detaches it.
   *
   * @example
   * ```ts
   * const records: TraceRecord[] = [];
   * const off = sim.inspect((r) => records.push(r));
   * ```
   */
  inspect(listener: TraceListener): () => void {
    if (typeof listener !== 'function') throw invalidArgument('listener', listener, 'a function');
    this.listeners.push(listener);
    this.tracing = true;
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
      this.tracing = this.listeners.length > 0;
    };
  }

  /**
   * Publishes a trace record `{ t, seq, type, ...fields }` to every listener. Cheap to guard with
   * `if (sim.tracing)` on hot paths.
   */
  emit(type: string, fields: Record<string, unknown> = {}): void {
    if (!this.tracing) return;
    const record: TraceRecord = { t: this._now, seq: this.traceSeq++, type, ...fields };
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]!(record);
  }

  /**
   * Emits a `@dsim.log` trace record: a message from scenario or component code.
   * @param node - the component or node the message is about
   * @default node null
   */
  log(message: string, data?: unknown, node: string | null = null): void {
    if (!this.tracing) return;
    this.emit('@dsim.log', data === undefined ? { node, message } : { node, message, data });
  }

  /** @internal Pushes an entry on the queue and returns its slot. */
  _push(
    t: number,
    priority: number,
    fn: (arg: any) => void,
    arg: unknown,
    kind: number,
    tag: number,
  ): number {
    // Due now at the default priority: the FIFO now lane, no heap operation (see EventQueue).
    if (t === this._now && priority === NORMAL)
      return this.queue.pushNow(t, packOrder(NORMAL, this.seq++), fn, arg, kind, tag);
    return this.queue.push(t, packOrder(priority, this.seq++), fn, arg, kind, tag);
  }

  /**
   * @internal `_push` at NORMAL priority for an entry that likely sorts after the previous one queued
   * this way (a message on a constant-latency link): the queue keeps those in a FIFO ring when they do.
   * Same order as `_push`.
   */
  _pushInOrder(t: number, fn: (arg: any) => void, arg: unknown, kind: number, tag: number): number {
    if (t === this._now) return this.queue.pushNow(t, packOrder(NORMAL, this.seq++), fn, arg, kind, tag);
    return this.queue.pushInOrder(t, packOrder(NORMAL, this.seq++), fn, arg, kind, tag);
  }

  /** @internal Cancels the entry in `slot` if it is still queued with `arg` as its argument. */
  _cancelIfHolds(slot: number, arg: unknown): void {
    const queue = this.queue;
    if (queue.arg[slot] === arg) queue.cancel(slot, queue.generation[slot]!);
  }

  /** @internal A failed event was processed with nobody waiting on it: stop the run. */
  _unhandledFailure(event: SimEvent<any>): never {
    const error = event.error;
    if (event instanceof Process) {
      throw new DsimError('PROCESS_FAILED', `process '${event.name}' failed: ${errorMessage(error)}`, {
        cause: error,
        simTime: this._now,
        seed: this.seed,
        details: { process: event.name },
      });
    }
    throw new DsimError(
      'EVENT_FAILED',
      `${event._describe()} failed and nothing was waiting on it: ${errorMessage(error)}`,
      {
        cause: error,
        simTime: this._now,
        seed: this.seed,
      },
    );
  }

  /** Runs the watch checks that are due; a throwing check aborts the event loop with its error. */
  private runWatches(): void {
    const n = this.processedEvents;
    try {
      // A copy: checks may add or remove watches.
      for (const watch of this.watches.slice()) {
        if (!watch.active || watch.next > n) continue;
        watch.next = n + watch.every;
        try {
          watch.check(this);
        } catch (error) {
          this.watchFailure = error;
          throw error;
        }
      }
    } finally {
      this.rearmWatches();
    }
  }

  private rearmWatches(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const watch of this.watches) if (watch.next < next) next = watch.next;
    this.nextWatch = next;
    this.nextCheck = Math.min(next, this.runLimit);
  }

  private decorate(error: unknown): unknown {
    if (error !== undefined && error === this.watchFailure) {
      this.watchFailure = undefined;
      if (isDsimError(error)) {
        error.simTime ??= this._now;
        error.seed ??= this.seed;
      }
      return error;
    }
    if (error instanceof DsimError) {
      error.simTime ??= this._now;
      error.seed ??= this.seed;
      return error;
    }
    return new DsimError('CALLBACK_FAILED', `a scheduled callback threw: ${errorMessage(error)}`, {
      cause: error,
      simTime: this._now,
      seed: this.seed,
    });
  }
}

function toUntil(until: Duration): number {
  if (until === Infinity) return Infinity;
  return toMs(until, 'until');
}

function priorityOf(options: ScheduleOptions | undefined): number {
  if (options === undefined) return NORMAL;
  checkCallOptions('Simulation.schedule', options, SCHEDULE_KEYS);
  const priority = options.priority;
  return priority === undefined ? NORMAL : checkPriority(priority);
}

function checkEvents(sim: Simulation, verb: string, events: readonly unknown[]): void {
  if (!Array.isArray(events)) throw invalidArgument(`${verb}(events)`, events, 'an array of events');
  for (let i = 0; i < events.length; i++) {
    const ev = events[i];
    if (!isSimEvent(ev)) throw invalidArgument(`${verb}(events)[${i}]`, ev, 'an event');
    if (ev.sim !== sim)
      throw invalidArgument(
        `${verb}(events)[${i}]`,
        'an event of another simulation',
        'an event of this simulation',
      );
  }
}

Object.defineProperty(Simulation.prototype, SIMULATION_BRAND, { value: true });
