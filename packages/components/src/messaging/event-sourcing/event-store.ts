import { checkName, checkNumber, invalidOption } from '@dsim/core';

/**
 * An event as stored: in its aggregate's stream (`version`, 1 for the first) and in the store's global log
 * (`position`, 1 for the first event ever appended).
 *
 * @example
 * ```ts
 * const e: RecordedEvent<{ amount: number }> = { aggregateId: 'acct-1', version: 3, position: 17, data: { amount: 5 }, appendedAt: 1200 };
 * ```
 */
export interface RecordedEvent<E = unknown> {
  /** The aggregate (stream) it belongs to. */
  readonly aggregateId: string;
  /** Its number in the stream: 1, 2, 3... */
  readonly version: number;
  /** Its number in the global log: 1, 2, 3... (the order projections read). */
  readonly position: number;
  /** What the command side appended. */
  readonly data: E;
  /** Time (ms) the append was committed. */
  readonly appendedAt: number;
}

/**
 * An aggregate's state as of `version`, saved so that loading it replays only the events after it.
 *
 * @example
 * ```ts
 * const s: Snapshot<number> = { aggregateId: 'acct-1', version: 100, state: 4200, takenAt: 9000 };
 * ```
 */
export interface Snapshot<S = unknown> {
  readonly aggregateId: string;
  /** The stream version the state includes. */
  readonly version: number;
  readonly state: S;
  /** Time (ms) it was saved. */
  readonly takenAt: number;
}

/**
 * What an append expects of the stream (optimistic concurrency): its current version (0: the stream must
 * not exist yet), or `'any'` to append whatever the version.
 *
 * @example
 * ```ts
 * const expected: ExpectedVersion = 0; // create the aggregate
 * ```
 */
export type ExpectedVersion = number | 'any';

/**
 * Result of an append: ok with the stream's new version and the global position of its last event, or a
 * conflict, a value (not an exception) the caller may retry after reloading (EventStoreDB's
 * `WrongExpectedVersion`, Marten's `EventStreamUnexpectedMaxEventIdException`).
 *
 * @example
 * ```ts
 * const r: AppendResult = store.append('acct-1', [{ deposit: 5 }], 3, sim.now);
 * if (!r.ok) retry(r.actualVersion);
 * ```
 */
export type AppendResult =
  | { readonly ok: true; readonly version: number; readonly position: number; readonly appendedAt: number }
  | {
      readonly ok: false;
      readonly error: 'wrong-expected-version';
      readonly expectedVersion: ExpectedVersion;
      readonly actualVersion: number;
    };

/**
 * Counters of an {@link EventStore}.
 *
 * @example
 * ```ts
 * const { events, conflicts } = store.stats;
 * ```
 */
export interface EventStoreStats {
  /** Events in the global log. */
  readonly events: number;
  /** Streams (aggregates) with at least one event. */
  readonly streams: number;
  /** Appends committed. */
  readonly appends: number;
  /** Appends refused for a wrong expected version. */
  readonly conflicts: number;
  /** Snapshots saved. */
  readonly snapshots: number;
}

/**
 * The data of an event store, as a plain structure with no time of its own (the caller passes `now`):
 * per-aggregate streams, a global log in commit order, append with optimistic concurrency, and the latest
 * snapshot per aggregate. Serve it over RPC with {@link EventStoreServer}.
 *
 * The model follows EventStoreDB (streams, `$all`, expected revision) and Marten/Axon (snapshots in a
 * separate store, the latest one wins). An append is atomic: all its events or none.
 *
 * @example
 * ```ts
 * const store = new EventStore();
 * store.append('acct-1', [{ open: true }], 0, 0);   // { ok: true, version: 1, position: 1 }
 * store.append('acct-1', [{ deposit: 5 }], 0, 10); // { ok: false, error: 'wrong-expected-version', actualVersion: 1 }
 * store.readAll(0, 100).length;                      // 1
 * ```
 */
export class EventStore<E = unknown, S = unknown> {
  private readonly log: RecordedEvent<E>[] = [];
  private readonly streams = new Map<string, RecordedEvent<E>[]>();
  private readonly snapshots = new Map<string, Snapshot<S>>();
  private appendCount = 0;
  private conflictCount = 0;
  private snapshotCount = 0;

  /** Counters. */
  get stats(): EventStoreStats {
    return {
      events: this.log.length,
      streams: this.streams.size,
      appends: this.appendCount,
      conflicts: this.conflictCount,
      snapshots: this.snapshotCount,
    };
  }

  /** Position of the last event in the global log (0 when empty). */
  get position(): number {
    return this.log.length;
  }

  /**
   * The current version of a stream: the number of its events (0 when it does not exist).
   *
   * @example
   * ```ts
   * store.version('acct-1'); // 0 before the first append
   * ```
   */
  version(aggregateId: string): number {
    return this.streams.get(aggregateId)?.length ?? 0;
  }

  /**
   * Appends `events` to the stream of `aggregateId` if its version is `expectedVersion` (or with `'any'`),
   * at time `now`; a mismatch is a conflict value, nothing is written.
   *
   * @param events - at least one event
   * @example
   * ```ts
   * const r = store.append('acct-1', [{ deposit: 5 }], store.version('acct-1'), sim.now);
   * ```
   */
  append(
    aggregateId: string,
    events: readonly E[],
    expectedVersion: ExpectedVersion,
    now: number,
  ): AppendResult {
    const C = 'EventStore.append';
    checkName(C, 'aggregateId', aggregateId);
    if (!Array.isArray(events) || events.length === 0)
      throw invalidOption(C, 'events', events, 'a non-empty array of events');
    if (expectedVersion !== 'any')
      checkNumber(C, 'expectedVersion', expectedVersion, { integer: true, min: 0 });
    let stream = this.streams.get(aggregateId);
    const actual = stream?.length ?? 0;
    if (expectedVersion !== 'any' && expectedVersion !== actual) {
      this.conflictCount++;
      return { ok: false, error: 'wrong-expected-version', expectedVersion, actualVersion: actual };
    }
    if (stream === undefined) {
      stream = [];
      this.streams.set(aggregateId, stream);
    }
    for (const data of events) {
      const event: RecordedEvent<E> = {
        aggregateId,
        version: stream.length + 1,
        position: this.log.length + 1,
        data,
        appendedAt: now,
      };
      stream.push(event);
      this.log.push(event);
    }
    this.appendCount++;
    return { ok: true, version: stream.length, position: this.log.length, appendedAt: now };
  }

  /**
   * The events of a stream after version `afterVersion` (all of them for 0), in order.
   *
   * @example
   * ```ts
   * store.readStream('acct-1', 100); // events 101, 102, ...
   * ```
   */
  readStream(aggregateId: string, afterVersion = 0): readonly RecordedEvent<E>[] {
    const stream = this.streams.get(aggregateId);
    if (stream === undefined) return [];
    return stream.slice(Math.max(0, afterVersion));
  }

  /**
   * Up to `max` events of the global log after `afterPosition` (a projection's checkpoint), in commit order.
   *
   * @example
   * ```ts
   * const batch = store.readAll(checkpoint, 500);
   * ```
   */
  readAll(afterPosition: number, max: number): readonly RecordedEvent<E>[] {
    const from = Math.max(0, afterPosition);
    return this.log.slice(from, from + Math.max(0, max));
  }

  /**
   * Saves a snapshot of `aggregateId` at `version` (ignored if an equal or later one is already saved, or
   * if the stream has not reached `version`). Returns whether it was saved.
   *
   * @example
   * ```ts
   * store.saveSnapshot('acct-1', 100, state, sim.now);
   * ```
   */
  saveSnapshot(aggregateId: string, version: number, state: S, now: number): boolean {
    const held = this.snapshots.get(aggregateId);
    if ((held !== undefined && held.version >= version) || version > this.version(aggregateId) || version < 1)
      return false;
    this.snapshots.set(aggregateId, { aggregateId, version, state, takenAt: now });
    this.snapshotCount++;
    return true;
  }

  /**
   * The latest snapshot of `aggregateId`, if any.
   *
   * @example
   * ```ts
   * const s = store.latestSnapshot('acct-1'); // undefined before the first
   * ```
   */
  latestSnapshot(aggregateId: string): Snapshot<S> | undefined {
    return this.snapshots.get(aggregateId);
  }
}
