import {
  checkName,
  checkNumber,
  checkObject,
  checkOptions,
  DsimError,
  invalidOption,
  optionKeys,
  type ScheduledHandle,
  type SimEvent,
  type Simulation,
} from '@dsim/core';

// ---------------------------------------------------------------------------------------------------------
// SemaphoreBulkhead
// ---------------------------------------------------------------------------------------------------------

/**
 * Configuration of a {@link SemaphoreBulkhead}; names and defaults follow resilience4j's `BulkheadConfig`.
 * An unknown key is an error.
 *
 * @example
 * ```ts
 * const config: SemaphoreBulkheadConfig = { name: 'db', maxConcurrentCalls: 10, maxWaitDurationMs: 50 };
 * ```
 */
export interface SemaphoreBulkheadConfig {
  /**
   * Name used in traces and errors. A non-empty string.
   * @default 'bulkhead'
   */
  name?: string;
  /**
   * Permits: calls allowed at once. An integer >= 1.
   * @default 25
   */
  maxConcurrentCalls?: number;
  /**
   * How long (ms) a call may wait for a permit; 0 rejects at once when none is free. A finite number >= 0.
   * @default 0
   */
  maxWaitDurationMs?: number;
}

const MS = { min: 0, unit: 'ms' } as const;
const SEMAPHORE_KEYS = optionKeys<SemaphoreBulkheadConfig>()({
  name: true,
  maxConcurrentCalls: true,
  maxWaitDurationMs: true,
});

/**
 * Counters of a {@link SemaphoreBulkhead}.
 *
 * @example
 * ```ts
 * const { rejected, granted } = bulkhead.metrics;
 * ```
 */
export interface SemaphoreBulkheadMetrics {
  /** Permits currently held. */
  readonly concurrent: number;
  /** Permits free now. */
  readonly available: number;
  /** Calls waiting for a permit. */
  readonly waiting: number;
  /** Calls granted a permit so far. */
  readonly granted: number;
  /** Calls rejected so far (no permit within the wait). */
  readonly rejected: number;
}

interface Waiter {
  readonly event: SimEvent<boolean>;
  timer: ScheduledHandle | null;
  queued: boolean;
}

/**
 * resilience4j's `SemaphoreBulkhead`: at most `maxConcurrentCalls` calls at once. A call that cannot get a
 * permit within `maxWaitDurationMs` is rejected (resilience4j's `BulkheadFullException`). Waiting calls are
 * served first come, first served (resilience4j's fair semaphore, `fairCallHandling` true); a new call never
 * overtakes a waiting one.
 *
 * `acquire()` takes the permit synchronously when one is free, so a call made at time t sees the permits
 * released before it at time t. A permit freed at the very instant a waiter's deadline runs out goes by
 * event order: if the deadline callback ran first, the waiter is already rejected.
 *
 * With `maxWaitDurationMs` 0 this is an M/G/c/c loss system: rejection probability is Erlang B.
 *
 * @example
 * ```ts
 * const bulkhead = new SemaphoreBulkhead(sim, { maxConcurrentCalls: 5 });
 * sim.process(function* () {
 *   if (!(yield* bulkhead.acquire())) return 'rejected';
 *   try {
 *     yield sim.timeout(20);
 *   } finally {
 *     bulkhead.release();
 *   }
 * });
 * ```
 */
export class SemaphoreBulkhead {
  /** The simulation. */
  readonly sim: Simulation;
  /** Name used in traces and errors. */
  readonly name: string;
  /** Permits. */
  readonly maxConcurrentCalls: number;
  /** Longest wait for a permit (ms). */
  readonly maxWaitDurationMs: number;
  private permits: number;
  private readonly queue: Waiter[] = [];
  private head = 0;
  private waitingCount = 0;
  private grantedCount = 0;
  private rejectedCount = 0;

  /**
   * @param config - see {@link SemaphoreBulkheadConfig}
   * @default config: 25 permits, no waiting
   */
  constructor(sim: Simulation, config: SemaphoreBulkheadConfig = {}) {
    const C = 'SemaphoreBulkhead';
    checkObject(C, 'config', config, 'a config object');
    checkOptions(C, config, SEMAPHORE_KEYS);
    this.sim = sim;
    this.name = checkName(C, 'name', config.name ?? 'bulkhead');
    this.maxConcurrentCalls = checkNumber(C, 'maxConcurrentCalls', config.maxConcurrentCalls ?? 25, {
      integer: true,
      min: 1,
    });
    this.maxWaitDurationMs = checkNumber(C, 'maxWaitDurationMs', config.maxWaitDurationMs ?? 0, MS);
    this.permits = this.maxConcurrentCalls;
  }

  /** Permits free now. */
  get available(): number {
    return this.permits;
  }

  /** Counters. */
  get metrics(): SemaphoreBulkheadMetrics {
    return {
      concurrent: this.maxConcurrentCalls - this.permits,
      available: this.permits,
      waiting: this.waitingCount,
      granted: this.grantedCount,
      rejected: this.rejectedCount,
    };
  }

  /**
   * Asks for a permit. The event succeeds with true once the permit is held, or with false when none was
   * free within `maxWaitDurationMs`. When it is already decided (free permit, or no waiting allowed) the
   * event is triggered at once and `event.value` can be read synchronously.
   *
   * A waiting call is not withdrawn if its process is interrupted: call {@link SemaphoreBulkhead.cancel}.
   *
   * @example
   * ```ts
   * const ok = yield* bulkhead.acquire();
   * ```
   */
  acquire(): SimEvent<boolean> {
    const event = this.sim.event<boolean>();
    if (this.permits > 0 && this.waitingCount === 0) {
      this.permits--;
      this.grantedCount++;
      return event.succeed(true);
    }
    if (this.maxWaitDurationMs === 0) return this.reject(event);
    const waiter: Waiter = { event, timer: null, queued: true };
    waiter.timer = this.sim.schedule(this.maxWaitDurationMs, () => {
      waiter.timer = null;
      if (!waiter.queued) return;
      this.dequeue(waiter);
      this.reject(event);
    });
    this.queue.push(waiter);
    this.waitingCount++;
    return event;
  }

  /**
   * Takes a permit only if one is free right now, without waiting (resilience4j `tryAcquirePermission`
   * with no wait). A false counts as rejected.
   *
   * @example
   * ```ts
   * if (!bulkhead.tryAcquire()) return 'busy';
   * ```
   */
  tryAcquire(): boolean {
    if (this.permits > 0 && this.waitingCount === 0) {
      this.permits--;
      this.grantedCount++;
      return true;
    }
    this.rejectedCount++;
    return false;
  }

  /**
   * Gives a permit back; the longest-waiting call gets it at once. Releasing more permits than were granted
   * is an INVALID_STATE error.
   *
   * @example
   * ```ts
   * bulkhead.release();
   * ```
   */
  release(): void {
    const next = this.nextWaiter();
    if (next !== undefined) {
      this.dequeue(next);
      next.timer?.cancel();
      next.timer = null;
      this.grantedCount++;
      next.event.succeed(true);
      return;
    }
    if (this.permits >= this.maxConcurrentCalls) {
      throw new DsimError('INVALID_STATE', `bulkhead '${this.name}': release() without a held permit`, {
        simTime: this.sim.now,
        seed: this.sim.seed,
      });
    }
    this.permits++;
  }

  /**
   * Withdraws a pending `acquire()` (e.g. its process was interrupted). If the event already succeeded with
   * true the permit is released; if it was rejected, nothing happens. Returns true if it was still waiting.
   *
   * @example
   * ```ts
   * const req = bulkhead.acquire();
   * const r = yield* sim.anyOf([req, cancelled]);
   * if (r.index === 1) bulkhead.cancel(req);
   * ```
   */
  cancel(request: SimEvent<boolean>): boolean {
    for (let i = this.head; i < this.queue.length; i++) {
      const waiter = this.queue[i]!;
      if (waiter.queued && waiter.event === request) {
        this.dequeue(waiter);
        waiter.timer?.cancel();
        waiter.timer = null;
        return true;
      }
    }
    if (request.triggered && request.value === true) this.release();
    return false;
  }

  private reject(event: SimEvent<boolean>): SimEvent<boolean> {
    this.rejectedCount++;
    if (this.sim.tracing) this.sim.emit('@dsim.bulkhead.reject', { bulkhead: this.name });
    return event.succeed(false);
  }

  private nextWaiter(): Waiter | undefined {
    while (this.head < this.queue.length) {
      const waiter = this.queue[this.head]!;
      if (waiter.queued) return waiter;
      this.head++;
    }
    // Compact once everything before head is dead, so the array does not grow for ever.
    if (this.head > 0) {
      this.queue.length = 0;
      this.head = 0;
    }
    return undefined;
  }

  private dequeue(waiter: Waiter): void {
    waiter.queued = false;
    this.waitingCount--;
  }
}

// ---------------------------------------------------------------------------------------------------------
// ThreadPoolBulkhead
// ---------------------------------------------------------------------------------------------------------

/**
 * Configuration of a {@link ThreadPoolBulkhead}; names and defaults follow resilience4j's
 * `ThreadPoolBulkheadConfig`, which sizes the pool from the host's processor count. A simulation has no host,
 * so the default assumes 4 processors. An unknown key is an error.
 *
 * @example
 * ```ts
 * const config: ThreadPoolBulkheadConfig = { maxThreadPoolSize: 8, coreThreadPoolSize: 8, queueCapacity: 20 };
 * ```
 */
export interface ThreadPoolBulkheadConfig {
  /**
   * Name used in traces and errors. A non-empty string.
   * @default 'thread-pool-bulkhead'
   */
  name?: string;
  /**
   * Most threads. An integer >= 1.
   * @default 4 (resilience4j: availableProcessors)
   */
  maxThreadPoolSize?: number;
  /**
   * Threads kept alive when idle; beyond them, threads start only when the queue is full. An integer in
   * [1, maxThreadPoolSize].
   * @default maxThreadPoolSize - 1, or 1 when maxThreadPoolSize is 1 (resilience4j: availableProcessors - 1)
   */
  coreThreadPoolSize?: number;
  /**
   * Tasks that may wait for a thread. An integer >= 0; 0 is a direct hand-off (a task runs only if a thread
   * is idle or can be started).
   * @default 100
   */
  queueCapacity?: number;
  /**
   * How long (ms) a thread above the core size stays idle before it ends. A finite number >= 0.
   * @default 20
   */
  keepAliveDurationMs?: number;
}

const THREAD_POOL_KEYS = optionKeys<ThreadPoolBulkheadConfig>()({
  name: true,
  maxThreadPoolSize: true,
  coreThreadPoolSize: true,
  queueCapacity: true,
  keepAliveDurationMs: true,
});

/**
 * Counters of a {@link ThreadPoolBulkhead}.
 *
 * @example
 * ```ts
 * const { rejected, queueDepth } = pool.metrics;
 * ```
 */
export interface ThreadPoolBulkheadMetrics {
  /** Threads alive (busy or idle). */
  readonly threads: number;
  /** Threads running a task. */
  readonly activeThreads: number;
  /** Tasks waiting in the queue. */
  readonly queueDepth: number;
  /** Free queue slots. */
  readonly remainingQueueCapacity: number;
  /** Tasks submitted. */
  readonly submitted: number;
  /** Tasks that started on a thread. */
  readonly started: number;
  /** Tasks that completed (`complete()` calls). */
  readonly completed: number;
  /** Tasks rejected (threads and queue full). */
  readonly rejected: number;
}

/**
 * resilience4j's `FixedThreadPoolBulkhead`, i.e. a Java `ThreadPoolExecutor` over a bounded queue, as
 * admission control. `submit()` follows `ThreadPoolExecutor.execute`:
 * 1. fewer than `coreThreadPoolSize` threads: start a thread for the task (even if others are idle);
 * 2. else an idle thread takes it, or it waits in the queue if there is room;
 * 3. else, fewer than `maxThreadPoolSize` threads: start a thread for it;
 * 4. else reject (`BulkheadFullException`).
 *
 * The caller runs the task once the returned event says true and calls `complete()` when it ends; the
 * thread then takes the oldest queued task or goes idle. An idle thread above the core size ends after
 * `keepAliveDurationMs`. With `coreThreadPoolSize === maxThreadPoolSize` this is an M/G/c/(c+q) system.
 *
 * @example
 * ```ts
 * const pool = new ThreadPoolBulkhead(sim, { maxThreadPoolSize: 2, coreThreadPoolSize: 2, queueCapacity: 2 });
 * sim.process(function* () {
 *   if (!(yield* pool.submit())) return 'rejected';
 *   yield sim.timeout(30);
 *   pool.complete();
 * });
 * ```
 */
export class ThreadPoolBulkhead {
  /** The simulation. */
  readonly sim: Simulation;
  /** Name used in traces and errors. */
  readonly name: string;
  /** Most threads. */
  readonly maxThreadPoolSize: number;
  /** Core threads. */
  readonly coreThreadPoolSize: number;
  /** Queue capacity. */
  readonly queueCapacity: number;
  /** Keep-alive of threads above the core size (ms). */
  readonly keepAliveDurationMs: number;
  private threads = 0;
  private busy = 0;
  // Idle threads in the order they went idle; the oldest takes the next task (FIFO, like the queue's waiters).
  private readonly idle: { timer: ScheduledHandle | null }[] = [];
  private readonly queue: (SimEvent<boolean> | undefined)[] = [];
  private queueHead = 0;
  private submittedCount = 0;
  private startedCount = 0;
  private completedCount = 0;
  private rejectedCount = 0;

  /**
   * @param config - see {@link ThreadPoolBulkheadConfig}
   * @default config: 4 threads (3 core), queue of 100, keep-alive 20 ms
   */
  constructor(sim: Simulation, config: ThreadPoolBulkheadConfig = {}) {
    const C = 'ThreadPoolBulkhead';
    checkObject(C, 'config', config, 'a config object');
    checkOptions(C, config, THREAD_POOL_KEYS);
    this.sim = sim;
    this.name = checkName(C, 'name', config.name ?? 'thread-pool-bulkhead');
    const max = checkNumber(C, 'maxThreadPoolSize', config.maxThreadPoolSize ?? 4, { integer: true, min: 1 });
    const core = checkNumber(C, 'coreThreadPoolSize', config.coreThreadPoolSize ?? Math.max(1, max - 1), {
      integer: true,
      min: 1,
    });
    if (core > max)
      throw invalidOption(C, 'coreThreadPoolSize', core, `an integer in [1, maxThreadPoolSize = ${max}]`);
    this.coreThreadPoolSize = core;
    this.maxThreadPoolSize = max;
    this.queueCapacity = checkNumber(C, 'queueCapacity', config.queueCapacity ?? 100, {
      integer: true,
      min: 0,
    });
    this.keepAliveDurationMs = checkNumber(C, 'keepAliveDurationMs', config.keepAliveDurationMs ?? 20, MS);
  }

  /** Counters. */
  get metrics(): ThreadPoolBulkheadMetrics {
    const depth = this.queue.length - this.queueHead;
    return {
      threads: this.threads,
      activeThreads: this.busy,
      queueDepth: depth,
      remainingQueueCapacity: this.queueCapacity - depth,
      submitted: this.submittedCount,
      started: this.startedCount,
      completed: this.completedCount,
      rejected: this.rejectedCount,
    };
  }

  /**
   * Submits a task. The event succeeds with true when the task starts on a thread (at once, or later from
   * the queue), or with false at once when it is rejected.
   *
   * @example
   * ```ts
   * if (!(yield* pool.submit())) return 'rejected';
   * ```
   */
  submit(): SimEvent<boolean> {
    this.submittedCount++;
    const event = this.sim.event<boolean>();
    if (this.threads < this.coreThreadPoolSize) {
      this.threads++;
      return this.start(event);
    }
    if (this.idle.length > 0) {
      const worker = this.idle.shift()!;
      worker.timer?.cancel();
      return this.start(event);
    }
    if (this.queue.length - this.queueHead < this.queueCapacity) {
      this.queue.push(event);
      return event;
    }
    if (this.threads < this.maxThreadPoolSize) {
      this.threads++;
      return this.start(event);
    }
    this.rejectedCount++;
    if (this.sim.tracing) this.sim.emit('@dsim.bulkhead.reject', { bulkhead: this.name });
    return event.succeed(false);
  }

  /**
   * Ends a running task: its thread takes the oldest queued task, or goes idle. Calling it with no task
   * running is an INVALID_STATE error.
   *
   * @example
   * ```ts
   * pool.complete();
   * ```
   */
  complete(): void {
    if (this.busy === 0) {
      throw new DsimError(
        'INVALID_STATE',
        `thread pool bulkhead '${this.name}': complete() with no task running`,
        {
          simTime: this.sim.now,
          seed: this.sim.seed,
        },
      );
    }
    this.busy--;
    this.completedCount++;
    if (this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined;
      if (this.queueHead === this.queue.length) {
        this.queue.length = 0;
        this.queueHead = 0;
      }
      this.start(next);
      return;
    }
    const worker: { timer: ScheduledHandle | null } = { timer: null };
    if (this.threads > this.coreThreadPoolSize) {
      worker.timer = this.sim.schedule(this.keepAliveDurationMs, () => {
        worker.timer = null;
        const i = this.idle.indexOf(worker);
        // Like ThreadPoolExecutor.getTask: a timed-out thread ends only while the pool is above core size.
        if (i < 0 || this.threads <= this.coreThreadPoolSize) return;
        this.idle.splice(i, 1);
        this.threads--;
      });
    }
    this.idle.push(worker);
  }

  private start(event: SimEvent<boolean>): SimEvent<boolean> {
    this.busy++;
    this.startedCount++;
    return event.succeed(true);
  }
}
