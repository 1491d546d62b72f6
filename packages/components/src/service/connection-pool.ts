import {
  type Counter,
  checkDuration,
  checkName,
  checkNumber,
  checkOptions,
  DsimError,
  type Duration,
  type Gauge,
  type Histogram,
  optionKeys,
  type ScheduledHandle,
  type SimEvent,
  type Simulation,
} from '@dsim/core';

/**
 * Options of a {@link ConnectionPool}; an unknown key is an error. The limits are Envoy's per-cluster circuit breakers
 * (`max_connections`, `max_pending_requests`) and HikariCP's `maximumPoolSize` / `connectionTimeout`.
 *
 * @example
 * ```ts
 * const options: ConnectionPoolOptions = { name: 'db-pool', size: 10, maxPending: 50, acquireTimeout: '250ms' };
 * ```
 */
export interface ConnectionPoolOptions {
  /**
   * Name for metrics, traces and errors. A non-empty string.
   * @default 'pool'
   */
  name?: string;
  /**
   * Connections: calls that may be in flight at once. An integer >= 1.
   * @default 10 (HikariCP's maximumPoolSize)
   */
  size?: number;
  /**
   * Calls that may wait for a connection; one more fails at once with `overflow` (Envoy's
   * `upstream_rq_pending_overflow`). An integer >= 0 or Infinity.
   * @default Infinity
   */
  maxPending?: number;
  /**
   * How long a call may wait for a connection before it fails with `timeout` (HikariCP's
   * `connectionTimeout`, 30 s by default there). A duration >= 0 or Infinity.
   * @default Infinity
   */
  acquireTimeout?: Duration;
}

const C = 'ConnectionPool';
const POOL_KEYS = optionKeys<ConnectionPoolOptions>()({
  name: true,
  size: true,
  maxPending: true,
  acquireTimeout: true,
});

/** The outcome of {@link ConnectionPool.acquire}: a connection, or why there is none. */
export type PoolGrant = 'acquired' | 'timeout' | 'overflow';

/**
 * Counters of a {@link ConnectionPool}.
 *
 * @example
 * ```ts
 * const { active, pending, timeouts } = pool.stats;
 * ```
 */
export interface ConnectionPoolStats {
  /** Connections in use now. */
  readonly active: number;
  /** Calls waiting for a connection now. */
  readonly pending: number;
  /** Connections handed out so far. */
  readonly acquired: number;
  /** Waits that ran out of `acquireTimeout`. */
  readonly timeouts: number;
  /** Calls refused because `maxPending` calls were already waiting. */
  readonly overflows: number;
}

interface PoolWaiter {
  readonly event: SimEvent<PoolGrant>;
  readonly since: number;
  timer: ScheduledHandle | null;
  waiting: boolean;
}

/**
 * A client-side connection pool: at most `size` calls in flight to a dependency, a bounded FIFO of calls
 * waiting for a connection, and a wait timeout. Its job in a model is the failure it causes: when the
 * dependency slows down, connections stay checked out, waiters pile up and time out, and the caller's
 * workers block on the pool (connection-pool exhaustion).
 *
 * Records under its name: gauges `pool.active`, `pool.pending`; counters `pool.acquired`, `pool.timeouts`,
 * `pool.overflows`; histogram `pool.wait` (time to get a connection). Traces `@dsim.pool.timeout` and
 * `@dsim.pool.overflow` when tracing is on.
 *
 * @example
 * ```ts
 * const pool = new ConnectionPool(sim, { name: 'db-pool', size: 10, acquireTimeout: 100 });
 * pool.acquire().onProcessed((e) => {
 *   if (e.value !== 'acquired') return; // no connection
 *   endpoint.call('db', 'q').onProcessed(() => pool.release());
 * });
 * ```
 */
export class ConnectionPool {
  readonly name: string;
  readonly size: number;
  readonly maxPending: number;
  readonly acquireTimeout: number;
  private activeCount = 0;
  private pendingCount = 0;
  private acquiredCount = 0;
  private timeoutCount = 0;
  private overflowCount = 0;
  private waiters: PoolWaiter[] = [];
  private head = 0;
  private readonly meters: {
    active: Gauge;
    pending: Gauge;
    acquired: Counter;
    timeouts: Counter;
    overflows: Counter;
    wait: Histogram;
  };

  constructor(
    readonly sim: Simulation,
    options: ConnectionPoolOptions = {},
  ) {
    checkOptions(C, options, POOL_KEYS);
    this.name = checkName(C, 'name', options.name ?? 'pool');
    this.size = checkNumber(C, 'size', options.size ?? 10, { integer: true, min: 1 });
    this.maxPending = checkNumber(C, 'maxPending', options.maxPending ?? Infinity, {
      integer: true,
      min: 0,
      infinity: true,
    });
    this.acquireTimeout = checkDuration(C, 'acquireTimeout', options.acquireTimeout ?? Infinity, {
      infinity: true,
    });
    const m = sim.metrics;
    this.meters = {
      active: m.gauge(this.name, 'pool.active'),
      pending: m.gauge(this.name, 'pool.pending'),
      acquired: m.counter(this.name, 'pool.acquired'),
      timeouts: m.counter(this.name, 'pool.timeouts'),
      overflows: m.counter(this.name, 'pool.overflows'),
      wait: m.histogram(this.name, 'pool.wait'),
    };
  }

  /** Connections in use now. */
  get active(): number {
    return this.activeCount;
  }

  /** Calls waiting for a connection now. */
  get pending(): number {
    return this.pendingCount;
  }

  /** A snapshot of the counters. */
  get stats(): ConnectionPoolStats {
    return {
      active: this.activeCount,
      pending: this.pendingCount,
      acquired: this.acquiredCount,
      timeouts: this.timeoutCount,
      overflows: this.overflowCount,
    };
  }

  /**
   * Asks for a connection. The event succeeds with `acquired` (the caller now holds one and must
   * {@link ConnectionPool.release} it), `timeout` or `overflow`. A free connection is granted at once (the
   * event is already triggered), and never ahead of a call already waiting.
   */
  acquire(): SimEvent<PoolGrant> {
    const sim = this.sim;
    const event = sim.event<PoolGrant>();
    if (this.activeCount < this.size && this.pendingCount === 0) {
      this.grant(0);
      return event.succeed('acquired');
    }
    if (this.pendingCount >= this.maxPending || this.acquireTimeout === 0) {
      const kind: PoolGrant =
        this.acquireTimeout === 0 && this.pendingCount < this.maxPending ? 'timeout' : 'overflow';
      this.fail(kind);
      return event.succeed(kind);
    }
    const waiter: PoolWaiter = { event, since: sim.now, timer: null, waiting: true };
    if (this.acquireTimeout !== Infinity) {
      waiter.timer = sim.schedule(this.acquireTimeout, () => {
        waiter.timer = null;
        if (!waiter.waiting) return;
        waiter.waiting = false;
        this.pendingCount--;
        this.meters.pending.set(this.pendingCount);
        this.fail('timeout');
        event.succeed('timeout');
      });
    }
    this.waiters.push(waiter);
    this.pendingCount++;
    this.meters.pending.set(this.pendingCount);
    return event;
  }

  /** Returns a connection; the longest-waiting call gets it at once. */
  release(): void {
    if (this.activeCount === 0) {
      throw new DsimError('INVALID_STATE', `pool ${this.name}: release() without an acquired connection`, {
        simTime: this.sim.now,
        seed: this.sim.seed,
      });
    }
    this.activeCount--;
    const next = this.nextWaiter();
    if (next === undefined) {
      this.meters.active.set(this.activeCount);
      return;
    }
    next.waiting = false;
    next.timer?.cancel();
    next.timer = null;
    this.pendingCount--;
    this.meters.pending.set(this.pendingCount);
    this.grant(this.sim.now - next.since);
    next.event.succeed('acquired');
  }

  /** Drops every waiter without answering (their owner is gone, e.g. the node crashed) and frees all connections. */
  reset(): void {
    for (let i = this.head; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      w.waiting = false;
      w.timer?.cancel();
    }
    this.waiters = [];
    this.head = 0;
    this.pendingCount = 0;
    this.activeCount = 0;
    this.meters.pending.set(0);
    this.meters.active.set(0);
  }

  private grant(waited: number): void {
    this.activeCount++;
    this.acquiredCount++;
    this.meters.acquired.inc();
    this.meters.active.set(this.activeCount);
    this.meters.wait.record(waited);
  }

  private fail(kind: 'timeout' | 'overflow'): void {
    if (kind === 'timeout') {
      this.timeoutCount++;
      this.meters.timeouts.inc();
    } else {
      this.overflowCount++;
      this.meters.overflows.inc();
    }
    if (this.sim.tracing) this.sim.emit(`@dsim.pool.${kind}`, { pool: this.name });
  }

  private nextWaiter(): PoolWaiter | undefined {
    while (this.head < this.waiters.length) {
      const w = this.waiters[this.head]!;
      // Let go of it now, not at the next compaction, so it does not outlive young GCs.
      this.waiters[this.head++] = undefined as unknown as PoolWaiter;
      if (w.waiting) {
        // Drop the dead prefix now and then so a pool that is never idle does not grow for ever.
        if (this.head > 1024 && this.head * 2 > this.waiters.length) {
          this.waiters = this.waiters.slice(this.head);
          this.head = 0;
        }
        return w;
      }
    }
    this.waiters = [];
    this.head = 0;
    return undefined;
  }
}
