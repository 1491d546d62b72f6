import {
  checkDuration,
  checkFunction,
  checkName,
  checkNumber,
  checkObject,
  checkOptions,
  DsimError,
  type Duration,
  invalidOption,
  optionKeys,
  type RandomStream,
  type ScheduledHandle,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import { type ArrivalProcess, type ArrivalSpec, isArrivalProcess, resolveArrivals } from './arrivals.js';

/**
 * Options of {@link openLoop}. An unknown key (`untill`) is an error with a "did you mean", as is one in
 * the arrival spec.
 *
 * @example
 * ```ts
 * const options: OpenLoopOptions = { arrivals: { kind: 'poisson', rate: 100 }, onArrival: send, until: '10m' };
 * ```
 */
export interface OpenLoopOptions {
  /** When requests arrive: a spec for {@link createArrivals}, or a ready {@link ArrivalProcess}. */
  arrivals: ArrivalSpec | ArrivalProcess;
  /**
   * Called at each arrival with its index (0, 1, 2...) and the current time. Send the request here; the
   * driver does not wait for it (that is what makes the loop open).
   */
  onArrival: (index: number, now: number) => void;
  /**
   * Absolute simulated time before which no arrival is generated; the first arrival is
   * `arrivals.next(start)`. A time >= `sim.now`.
   * @default sim.now
   */
  start?: Duration;
  /**
   * Absolute simulated time at which the driver stops: arrivals due at or after it are not delivered. A duration, or
   * Infinity.
   * @default Infinity
   */
  until?: Duration;
  /**
   * Most arrivals to deliver, an integer >= 0.
   * @default Infinity
   */
  limit?: number;
  /**
   * Name of the random stream the arrival times draw from. Give each driver its own, so that adding one
   * does not shift another's arrivals.
   * @default 'workload/arrivals'
   */
  stream?: string;
}

const OPEN_LOOP_KEYS = optionKeys<OpenLoopOptions>()({
  arrivals: true,
  onArrival: true,
  start: true,
  until: true,
  limit: true,
  stream: true,
});

/**
 * A running open-loop driver, returned by {@link openLoop}.
 *
 * @example
 * ```ts
 * const load = openLoop(sim, { arrivals: { kind: 'poisson', rate: 100 }, onArrival: send });
 * sim.run({ until: '1m' });
 * console.log(load.count); // about 6000
 * ```
 */
export interface OpenLoopHandle {
  /** Arrivals delivered so far. */
  readonly count: number;
  /** True until the driver stops (stop(), `until`, `limit`, or the process is exhausted). */
  readonly running: boolean;
  /** Time of the pending arrival, or Infinity when none is scheduled. */
  readonly nextArrival: number;
  /** The arrival process in use. */
  readonly arrivals: ArrivalProcess;
  /**
   * An event that succeeds with the final count when the driver stops. Created on first read, so a
   * driver nobody waits for adds no event to the run.
   */
  readonly done: SimEvent<number>;
  /** Stops the driver: the pending arrival is cancelled. Stopping twice does nothing. */
  stop(): void;
}

/**
 * Drives an open workload: arrivals come at the times of an arrival process, whether or not earlier
 * requests have been answered, as they do from a large population of independent users (internet
 * traffic). Each arrival calls `onArrival(index, now)` and schedules the next one: one queued callback at
 * a time, no process or generator per arrival.
 *
 * Arrival times draw from `sim.rng(stream)`. Within one instant, the consequences of arrival i (events it
 * triggers at the same time) run before arrival i + 1.
 *
 * @example
 * ```ts
 * const client = new RpcEndpoint(net.addNode('client'));
 * openLoop(sim, {
 *   arrivals: { kind: 'ramp', from: 100, to: 2000, over: '10m' },
 *   onArrival: (i) => client.call('api', i, { timeout: '1s' }),
 *   until: '15m',
 *   stream: 'client/arrivals',
 * });
 * sim.run();
 * ```
 */
export function openLoop(sim: Simulation, options: OpenLoopOptions): OpenLoopHandle {
  return new OpenLoop(sim, options);
}

class OpenLoop implements OpenLoopHandle {
  readonly arrivals: ArrivalProcess;
  private readonly sim: Simulation;
  private readonly onArrival: (index: number, now: number) => void;
  private readonly until: number;
  private readonly limit: number;
  private readonly rng: RandomStream;
  private delivered = 0;
  private live = true;
  private pending: ScheduledHandle | null = null;
  private doneEvent: SimEvent<number> | null = null;
  // Bound once: scheduling an arrival allocates no closure.
  private readonly tick = (): void => this.arrive();

  constructor(sim: Simulation, options: OpenLoopOptions) {
    const C = 'openLoop';
    checkObject(C, 'options', options, 'an object { arrivals, onArrival, ... }');
    checkOptions(C, options, OPEN_LOOP_KEYS);
    const { arrivals, onArrival } = options;
    if (arrivals !== null && typeof arrivals === 'object' && isArrivalProcess(arrivals))
      this.arrivals = arrivals;
    else if (arrivals === null || typeof arrivals !== 'object')
      throw invalidOption(C, 'arrivals', arrivals, 'an arrival spec { kind, ... } or an ArrivalProcess');
    else this.arrivals = resolveArrivals(arrivals, C, 'arrivals');
    checkFunction(C, 'onArrival', onArrival, '(index, now) => void');
    this.onArrival = onArrival;
    this.until = checkDuration(C, 'until', options.until ?? Infinity, { infinity: true });
    this.limit = checkNumber(C, 'limit', options.limit ?? Infinity, {
      integer: true,
      min: 0,
      infinity: true,
    });
    const stream = checkName(C, 'stream', options.stream ?? 'workload/arrivals');
    this.sim = sim;
    this.rng = sim.rng(stream);
    const start = options.start === undefined ? sim.now : checkDuration(C, 'start', options.start);
    if (start < sim.now) throw invalidOption(C, 'start', options.start, `a time >= now (${sim.now} ms)`);
    this.scheduleFrom(start);
  }

  get count(): number {
    return this.delivered;
  }

  get running(): boolean {
    return this.live;
  }

  get nextArrival(): number {
    return this.pending === null ? Infinity : this.pending.time;
  }

  get done(): SimEvent<number> {
    if (this.doneEvent === null) {
      this.doneEvent = this.sim.event<number>();
      if (!this.live) this.doneEvent.succeed(this.delivered);
    }
    return this.doneEvent;
  }

  stop(): void {
    if (!this.live) return;
    this.pending?.cancel();
    this.pending = null;
    this.finish();
  }

  private arrive(): void {
    this.pending = null;
    const now = this.sim.now;
    const index = this.delivered++;
    this.onArrival(index, now);
    if (this.live) this.scheduleFrom(now);
  }

  private scheduleFrom(now: number): void {
    if (this.delivered >= this.limit) {
      this.finish();
      return;
    }
    const t = this.arrivals.next(now, this.rng);
    if (typeof t !== 'number' || !(t >= now)) {
      throw new DsimError(
        'INVALID_STATE',
        `openLoop: ${this.arrivals.kind} arrivals.next(${now}) returned ${String(t)}; it must return a time >= now, or Infinity`,
        { simTime: this.sim.now, seed: this.sim.seed },
      );
    }
    if (t >= this.until) {
      this.finish();
      return;
    }
    this.pending = this.sim.scheduleAt(t, this.tick);
  }

  private finish(): void {
    this.live = false;
    this.doneEvent?.succeed(this.delivered);
  }
}
