import type { SimEvent } from '@dsim/core';

/**
 * Counters of a {@link Singleflight}.
 *
 * @example
 * ```ts
 * const { executions, shared } = flights.stats;
 * ```
 */
export interface SingleflightStats {
  /** Calls to `do`. */
  readonly calls: number;
  /** Calls that ran `fn` (started a flight). */
  readonly executions: number;
  /** Calls that joined a flight already in the air. */
  readonly shared: number;
  /** Flights in the air now. */
  readonly inFlight: number;
}

/**
 * Request coalescing, after Go's `golang.org/x/sync/singleflight`: while a call for a key is in flight,
 * later calls for the same key join it and get the same result (the same event: errors are shared
 * too). Nothing is cached after completion: a call arriving after the flight lands starts a new one.
 * N concurrent misses for one key make exactly one origin call.
 *
 * @example
 * ```ts
 * const flights = new Singleflight<Row>();
 * const row = yield* flights.do('user:1', () => db.call('db', 'SELECT ...'));
 * ```
 */
export class Singleflight<T> {
  private readonly flights = new Map<string, SimEvent<T>>();
  private calls = 0;
  private executions = 0;
  private sharedCount = 0;

  /** A snapshot of the counters. */
  get stats(): SingleflightStats {
    return {
      calls: this.calls,
      executions: this.executions,
      shared: this.sharedCount,
      inFlight: this.flights.size,
    };
  }

  /** Whether a flight for `key` is in the air. */
  inFlight(key: string): boolean {
    return this.flights.has(key);
  }

  /**
   * Runs `fn` for `key` unless a flight for it is in the air, in which case the caller joins that flight.
   * Returns the flight's event.
   */
  do(key: string, fn: () => SimEvent<T>): SimEvent<T> {
    this.calls++;
    const flight = this.flights.get(key);
    if (flight !== undefined) {
      this.sharedCount++;
      return flight;
    }
    this.executions++;
    const event = fn();
    if (event.processed) return event; // answered at once: nothing to share
    this.flights.set(key, event);
    event.onProcessed(() => {
      if (this.flights.get(key) === event) this.flights.delete(key);
    });
    return event;
  }

  /** Lets the next call for `key` start a new flight even while the current one is in the air. */
  forget(key: string): void {
    this.flights.delete(key);
  }
}
