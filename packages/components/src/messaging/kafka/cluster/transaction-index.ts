import type { AbortedTxn, LogRecord } from './types.js';

/** A transaction whose marker is in the log but not yet below the high watermark. */
interface Completed {
  readonly producerId: number;
  readonly firstOffset: number;
  readonly markerOffset: number;
}

/**
 * One replica log's transaction state, rebuilt from the records themselves (as Kafka rebuilds it from
 * the producer-state snapshots and the segments): the ongoing transactions (producer id → offset of its
 * first record in this partition), the completed transactions whose marker is not yet replicated, and
 * the aborted-transaction index that `read_committed` fetches return.
 *
 * The last stable offset is `min(first offset of every unstable transaction, high watermark)`: a
 * transaction stays unstable until its marker is below the high watermark (Kafka's
 * `ProducerStateManager.firstUnstableOffset`).
 *
 * @example
 * ```ts
 * const index = new TransactionIndex();
 * for (const r of records) index.onAppend(r);
 * index.lastStableOffset(log.highWatermark);
 * ```
 */
export class TransactionIndex {
  private readonly ongoing = new Map<number, number>();
  private completed: Completed[] = [];
  private readonly abortedTxns: AbortedTxn[] = [];

  /** Updates the state for one appended record (data or marker). */
  onAppend(r: LogRecord): void {
    if (r.producerId < 0) return;
    if (r.control !== undefined) {
      const first = this.ongoing.get(r.producerId) ?? r.offset;
      this.ongoing.delete(r.producerId);
      this.completed.push({ producerId: r.producerId, firstOffset: first, markerOffset: r.offset });
      if (r.control === 'abort')
        this.abortedTxns.push({ producerId: r.producerId, firstOffset: first, lastOffset: r.offset });
      return;
    }
    if (r.transactional === true && !this.ongoing.has(r.producerId)) this.ongoing.set(r.producerId, r.offset);
  }

  /** Forgets everything (before a replay of the log). */
  clear(): void {
    this.ongoing.clear();
    this.completed = [];
    this.abortedTxns.length = 0;
  }

  /** Number of transactions open in this partition (no marker yet). */
  get openTransactions(): number {
    return this.ongoing.size;
  }

  /** The last stable offset for a high watermark `hw`. */
  lastStableOffset(hw: number): number {
    this.completed = this.completed.filter((c) => c.markerOffset >= hw);
    let lso = hw;
    for (const first of this.ongoing.values()) lso = Math.min(lso, first);
    for (const c of this.completed) lso = Math.min(lso, c.firstOffset);
    return lso;
  }

  /** Aborted transactions overlapping [from, upTo): what a `read_committed` fetch response carries. */
  aborted(from: number, upTo: number): AbortedTxn[] {
    return this.abortedTxns.filter((a) => a.lastOffset >= from && a.firstOffset < upTo);
  }

  /** Whether a data record belongs to an aborted transaction (for the cleaner). */
  isAborted(r: LogRecord): boolean {
    if (r.transactional !== true) return false;
    return this.abortedTxns.some(
      (a) => a.producerId === r.producerId && a.firstOffset <= r.offset && r.offset < a.lastOffset,
    );
  }
}

/**
 * Whether a record is hidden from the application of a consumer with `isolation`: markers always are,
 * and records of `aborted` transactions are for `read_committed`.
 *
 * @example
 * ```ts
 * const visible = res.records.filter((r) => !hiddenRecord(r, 'read_committed', res.abortedTransactions ?? []));
 * ```
 */
export function hiddenRecord(
  r: LogRecord,
  isolation: 'read_committed' | 'read_uncommitted',
  aborted: readonly AbortedTxn[],
): boolean {
  if (r.control !== undefined) return true;
  if (isolation !== 'read_committed' || r.transactional !== true) return false;
  return aborted.some(
    (a) => a.producerId === r.producerId && a.firstOffset <= r.offset && r.offset < a.lastOffset,
  );
}
