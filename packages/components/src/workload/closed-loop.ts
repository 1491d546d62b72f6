import {
  checkDistribution,
  checkDuration,
  checkFunction,
  checkName,
  checkNumber,
  checkObject,
  checkOptions,
  type Distribution,
  DsimError,
  type Duration,
  invalidArgument,
  isSimEvent,
  optionKeys,
  type RandomStream,
  type ScheduledHandle,
  type SimEvent,
  type Simulation,
  Tally,
} from '@dsim/core';

/**
 * Options of {@link closedLoop}. An unknown key (`user`) is an error with a "did you mean".
 *
 * @example
 * ```ts
 * const options: ClosedLoopOptions = {
 *   users: 50,
 *   thinkTime: exponential({ mean: 1000 }),
 *   request: (user) => client.call('api', user, { timeout: '2s' }),
 *   startSpread: '10s',
 * };
 * ```
 */
export interface ClosedLoopOptions {
  /** Number of users (the N of the closed system), an integer >= 1. */
  users: number;
  /**
   * Think time between a response and the user's next request: a distribution (ms) or a fixed duration.
   * Every user starts with a think time, so at time 0 nobody is waiting for a response.
   */
  thinkTime: Distribution | Duration;
  /**
   * Issues request number `iteration` (0, 1, 2...) of `user` (0..users-1) and returns an event that is
   * processed when the response arrives (an `RpcEndpoint.call`, a process, any `SimEvent`). A failed event
   * counts as a failed request; the user goes on thinking.
   */
  request: (user: number, iteration: number) => SimEvent<unknown>;
  /**
   * Absolute simulated time after which no new request is issued; requests in flight still complete. A duration, or
   * Infinity.
   * @default Infinity
   */
  until?: Duration;
  /**
   * Requests per user, an integer >= 1 (JMeter's loop count); a user retires after its last response.
   * @default Infinity
   */
  iterations?: number;
  /**
   * Ramp-up: user u starts its first think time at `now + u * startSpread / users` (JMeter's ramp-up
   * period), so users do not all start together.
   * @default 0 (everyone starts now)
   */
  startSpread?: Duration;
  /**
   * Name of the random stream think times draw from.
   * @default 'workload/think'
   */
  stream?: string;
  /**
   * Called when a response arrives, with the user, the iteration, the response time (ms) and the request's
   * event (read `event.ok`, `event.value`).
   */
  onResponse?: (user: number, iteration: number, responseTime: number, event: SimEvent<unknown>) => void;
}

const CLOSED_LOOP_KEYS = optionKeys<ClosedLoopOptions>()({
  users: true,
  thinkTime: true,
  request: true,
  until: true,
  iterations: true,
  startSpread: true,
  stream: true,
  onResponse: true,
});

/**
 * A running closed-loop driver, returned by {@link closedLoop}. At every moment
 * `thinking + inFlight + retired = users` and `issued = completed + inFlight`.
 *
 * @example
 * ```ts
 * const users = closedLoop(sim, { users: 50, thinkTime: exponential({ mean: 1000 }), request: call });
 * sim.run({ until: '10m' });
 * const throughput = users.completed / 600; // per second
 * console.log(throughput, users.responseTimes.mean);
 * ```
 */
export interface ClosedLoopHandle {
  /** Number of users. */
  readonly users: number;
  /** Requests issued so far. */
  readonly issued: number;
  /** Requests whose event was processed (successfully or not). */
  readonly completed: number;
  /** Requests whose event failed (included in `completed`). */
  readonly failed: number;
  /** Requests waiting for their response. */
  readonly inFlight: number;
  /** Users in their think time (or waiting for their ramp-up start). */
  readonly thinking: number;
  /** Users that will issue no more requests (stop(), `until`, `iterations`). */
  readonly retired: number;
  /** Response times (ms) of completed requests: count, mean, standard deviation, min, max. */
  readonly responseTimes: Tally;
  /** True until every user has retired and no request is in flight. */
  readonly running: boolean;
  /**
   * An event that succeeds with `completed` once every user has retired and no request is in flight.
   * Created on first read.
   */
  readonly done: SimEvent<number>;
  /**
   * Stops issuing requests: thinking users retire at once; users waiting for a response retire when it
   * arrives (it is still counted). Stopping twice does nothing.
   */
  stop(): void;
}

/**
 * Drives a closed workload: `users` users, each repeating think → request → wait for the response →
 * think... (the machine-repairman or interactive-terminal model; SimPy's N customers). A user never has
 * more than one request outstanding, so the offered load falls when responses slow down: throughput obeys
 * the interactive response-time law X = N / (R + Z). That self-throttling hides overload from the
 * measurements (coordinated omission); model internet traffic with {@link openLoop} instead.
 *
 * Users are driven by plain callbacks (one think timer and one response callback per user, no process
 * per request). Think times draw from `sim.rng(stream)`, in the order users finish thinking.
 *
 * @example
 * ```ts
 * const server = new Resource(sim, { capacity: 1 });
 * const service = exponential({ mean: 10 });
 * const serviceRng = sim.rng('server/service');
 * const load = closedLoop(sim, {
 *   users: 20,
 *   thinkTime: exponential({ mean: 200 }),
 *   request: () =>
 *     sim.process(function* () {
 *       const req = yield* server.request();
 *       yield sim.timeout(service.sample(serviceRng));
 *       server.release(req);
 *     }),
 *   until: '10m',
 * });
 * sim.run();
 * console.log(load.completed, load.responseTimes.mean);
 * ```
 */
export function closedLoop(sim: Simulation, options: ClosedLoopOptions): ClosedLoopHandle {
  return new ClosedLoop(sim, options);
}

const STARTING = 0;
const THINKING = 1;
const WAITING = 2;
const RETIRED = 3;

interface User {
  readonly id: number;
  iteration: number;
  state: typeof STARTING | typeof THINKING | typeof WAITING | typeof RETIRED;
  sentAt: number;
  timer: ScheduledHandle | null;
  /** Bound once per user: ends the think time. */
  readonly wake: () => void;
  /** Bound once per user: receives the response. */
  readonly respond: (event: SimEvent<unknown>) => void;
}

class ClosedLoop implements ClosedLoopHandle {
  readonly users: number;
  readonly responseTimes = new Tally();
  private readonly sim: Simulation;
  private readonly think: Distribution;
  private readonly request: (user: number, iteration: number) => SimEvent<unknown>;
  private readonly onResponse: ClosedLoopOptions['onResponse'];
  private readonly until: number;
  private readonly iterations: number;
  private readonly rng: RandomStream;
  private readonly all: User[] = [];
  private issuedCount = 0;
  private completedCount = 0;
  private failedCount = 0;
  private waitingCount = 0;
  private retiredCount = 0;
  private stopped = false;
  private doneEvent: SimEvent<number> | null = null;

  constructor(sim: Simulation, options: ClosedLoopOptions) {
    const C = 'closedLoop';
    checkObject(C, 'options', options, 'an object { users, thinkTime, request, ... }');
    checkOptions(C, options, CLOSED_LOOP_KEYS);
    const { request, onResponse } = options;
    const users = checkNumber(C, 'users', options.users, { integer: true, min: 1 });
    checkFunction(C, 'request', request, '(user, iteration) => SimEvent');
    if (onResponse !== undefined)
      checkFunction(C, 'onResponse', onResponse, '(user, iteration, responseTime, event) => void');
    this.users = users;
    this.think = checkDistribution(C, 'thinkTime', options.thinkTime, 'exponential({ mean: 1000 })');
    this.request = request;
    this.onResponse = onResponse;
    this.until = checkDuration(C, 'until', options.until ?? Infinity, { infinity: true });
    this.iterations = checkNumber(C, 'iterations', options.iterations ?? Infinity, {
      integer: true,
      min: 1,
      infinity: true,
    });
    const spread = checkDuration(C, 'startSpread', options.startSpread ?? 0);
    const stream = checkName(C, 'stream', options.stream ?? 'workload/think');
    this.sim = sim;
    this.rng = sim.rng(stream);

    for (let id = 0; id < users; id++) {
      const user: User = {
        id,
        iteration: 0,
        state: STARTING,
        sentAt: 0,
        timer: null,
        wake: () => this.send(user),
        respond: (event) => this.receive(user, event),
      };
      this.all.push(user);
    }
    for (const user of this.all) {
      const offset = (user.id * spread) / users;
      if (offset === 0) this.startThinking(user);
      else {
        user.timer = sim.schedule(offset, () => {
          user.timer = null;
          this.startThinking(user);
        });
      }
    }
  }

  get issued(): number {
    return this.issuedCount;
  }

  get completed(): number {
    return this.completedCount;
  }

  get failed(): number {
    return this.failedCount;
  }

  get inFlight(): number {
    return this.waitingCount;
  }

  get thinking(): number {
    return this.users - this.waitingCount - this.retiredCount;
  }

  get retired(): number {
    return this.retiredCount;
  }

  get running(): boolean {
    return this.retiredCount < this.users;
  }

  get done(): SimEvent<number> {
    if (this.doneEvent === null) {
      this.doneEvent = this.sim.event<number>();
      if (!this.running) this.doneEvent.succeed(this.completedCount);
    }
    return this.doneEvent;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const user of this.all) {
      if (user.state === STARTING || user.state === THINKING) {
        user.timer?.cancel();
        user.timer = null;
        this.retire(user);
      }
    }
  }

  private startThinking(user: User): void {
    if (this.stopped || user.iteration >= this.iterations) {
      this.retire(user);
      return;
    }
    const delay = this.think.sample(this.rng);
    if (typeof delay !== 'number' || !(delay >= 0) || delay === Infinity) {
      throw invalidArgument('closedLoop.thinkTime sample', delay, 'a finite number of ms >= 0');
    }
    const sim = this.sim;
    // A think time that ends at or after `until` would issue nothing: retire now, without an event.
    if (sim.now + delay >= this.until) {
      this.retire(user);
      return;
    }
    user.state = THINKING;
    user.timer = sim.schedule(delay, user.wake);
  }

  private send(user: User): void {
    user.timer = null;
    const iteration = user.iteration;
    const event = this.request(user.id, iteration);
    if (!isSimEvent(event)) {
      throw new DsimError(
        'INVALID_STATE',
        `closedLoop: request(${user.id}, ${iteration}) returned ${String(event)}; it must return a SimEvent`,
        { simTime: this.sim.now, seed: this.sim.seed },
      );
    }
    user.state = WAITING;
    user.sentAt = this.sim.now;
    this.issuedCount++;
    this.waitingCount++;
    event.onProcessed(user.respond);
  }

  private receive(user: User, event: SimEvent<unknown>): void {
    const responseTime = this.sim.now - user.sentAt;
    this.waitingCount--;
    this.completedCount++;
    if (!event.ok) this.failedCount++;
    this.responseTimes.add(responseTime);
    const iteration = user.iteration++;
    this.onResponse?.(user.id, iteration, responseTime, event);
    this.startThinking(user);
  }

  private retire(user: User): void {
    user.state = RETIRED;
    this.retiredCount++;
    if (this.retiredCount === this.users) this.doneEvent?.succeed(this.completedCount);
  }
}
