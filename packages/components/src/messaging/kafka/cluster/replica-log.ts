import { TransactionIndex } from './transaction-index.js';
import type { AbortedTxn, LogRecord, ProduceBatch, TxnResult } from './types.js';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: the dedup window per producer id per partition. */
export const BATCHES_TO_RETAIN = 5;

/** One retained batch of a producer: enough to answer a retry with the original offset. */
interface BatchMeta {
  readonly baseSequence: number;
  readonly lastSequence: number;
  readonly baseOffset: number;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchMeta[];
}

/** A log segment: appends go to the last (active) one; retention deletes whole old segments. */
export interface Segment {
  baseOffset: number;
  bytes: number;
  /** Largest record append time in the segment (time-based retention looks at it). */
  maxTimestamp: number;
}

/** What the leader should do with an idempotent batch. */
export type SequenceCheck =
  | { readonly kind: 'append' }
  | { readonly kind: 'duplicate'; readonly baseOffset: number }
  | { readonly kind: 'out-of-order-sequence' }
  | { readonly kind: 'invalid-producer-epoch' };

/** Bytes of a control record (a transaction marker batch). */
export const MARKER_BYTES = 78;

/** Retention limits of a partition (topic configs). */
export interface RetentionLimits {
  readonly retentionMs: number;
  readonly retentionBytes: number;
}

/**
 * One replica's log of one partition: append-only records with offsets, the leader-epoch cache
 * (epoch -> start offset, KIP-101), the replica's high watermark (checkpointed: it survives a crash),
 * the producer state used to deduplicate retries (rebuilt from the log after a truncation, as Kafka
 * rebuilds it from snapshots and segments), the transaction index (open and aborted transactions, the
 * last stable offset), and segments for retention and compaction. The log is on disk: it survives a
 * broker crash. Offsets may have gaps once the cleaner has compacted the log: every lookup searches
 * by offset.
 *
 * @example
 * ```ts
 * const log = new ReplicaLog(1 << 30);
 * log.assignEpoch(0, log.logEndOffset);
 * log.appendAsLeader({ producerId: -1, producerEpoch: -1, baseSequence: -1, records: [{ recordId: 'p#1', key: null, size: 100 }] }, 0, 0);
 * ```
 */
export class ReplicaLog {
  private records: LogRecord[] = [];
  private start = 0;
  private end = 0;
  private readonly txns = new TransactionIndex();
  /** The cleaner's checkpoint: offsets below it have been compacted (`cleaner-offset-checkpoint`). */
  firstDirtyOffset = 0;
  /** The replica's high watermark (the leader's is authoritative; a follower's lags by a fetch). */
  highWatermark = 0;
  private readonly epochs: Array<{ epoch: number; startOffset: number }> = [];
  private readonly producers = new Map<number, ProducerEntry>();
  private readonly segments: Segment[] = [];

  /** @param segmentBytes - `segment.bytes`: when the active segment reaches it, a new one is rolled */
  constructor(private readonly segmentBytes: number) {
    this.segments.push({ baseOffset: 0, bytes: 0, maxTimestamp: -Infinity });
  }

  /** Offset of the first record still retained (`logStartOffset`). */
  get logStartOffset(): number {
    return this.start;
  }

  /** Offset the next record will get (`LEO`). */
  get logEndOffset(): number {
    return this.end;
  }

  /** The last stable offset: the first offset of the earliest unstable transaction, or the HW. */
  get lastStableOffset(): number {
    return this.txns.lastStableOffset(this.highWatermark);
  }

  /** Transactions open in this partition (data written, no marker yet). */
  get openTransactions(): number {
    return this.txns.openTransactions;
  }

  /** Aborted transactions overlapping [from, upTo). */
  abortedTransactions(from: number, upTo: number): AbortedTxn[] {
    return this.txns.aborted(from, upTo);
  }

  /** Whether `r` belongs to an aborted transaction. */
  isAborted(r: LogRecord): boolean {
    return this.txns.isAborted(r);
  }

  /** Number of retained records (fewer than end - start once compacted). */
  get recordCount(): number {
    return this.records.length;
  }

  /** A copy of the segments (the last is the active one). */
  segmentList(): Segment[] {
    return this.segments.map((s) => ({ ...s }));
  }

  /** Index of the first retained record with an offset >= `offset`. */
  private indexOf(offset: number): number {
    const recs = this.records;
    const guess = offset - this.start;
    if (guess <= 0) return 0;
    if (guess < recs.length && recs[guess]!.offset === offset && recs[guess - 1]!.offset === offset - 1)
      return guess;
    if (guess >= recs.length && (recs.length === 0 || recs[recs.length - 1]!.offset < offset))
      return recs.length;
    let lo = 0;
    let hi = recs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (recs[mid]!.offset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Latest epoch in the leader-epoch cache, -1 when empty. */
  get latestEpoch(): number {
    return this.epochs.length === 0 ? -1 : this.epochs[this.epochs.length - 1]!.epoch;
  }

  /** A copy of the leader-epoch cache. */
  get epochCache(): ReadonlyArray<{ readonly epoch: number; readonly startOffset: number }> {
    return this.epochs.map((e) => ({ ...e }));
  }

  /** Number of segments (the active one included). */
  get segmentCount(): number {
    return this.segments.length;
  }

  /** Retained bytes. */
  get size(): number {
    let bytes = 0;
    for (const s of this.segments) bytes += s.bytes;
    return bytes;
  }

  /** Records the start offset of a new leader epoch (a leader does it when elected). */
  assignEpoch(epoch: number, startOffset: number): void {
    const last = this.epochs[this.epochs.length - 1];
    if (last !== undefined && last.epoch >= epoch) return;
    this.epochs.push({ epoch, startOffset });
  }

  /**
   * The largest epoch <= `epoch` this log knows and the offset where it ends (the next epoch's start,
   * or the LEO for the latest): Kafka's `LeaderEpochFileCache.endOffsetFor`. `{ -1, -1 }` if unknown.
   */
  endOffsetFor(epoch: number): { epoch: number; endOffset: number } {
    for (let i = this.epochs.length - 1; i >= 0; i--) {
      const e = this.epochs[i]!;
      if (e.epoch <= epoch) {
        const next = this.epochs[i + 1];
        return { epoch: e.epoch, endOffset: next === undefined ? this.logEndOffset : next.startOffset };
      }
    }
    return { epoch: -1, endOffset: -1 };
  }

  /** Whether an idempotent batch is new, a retry of one of the last 5 batches, or out of order. */
  checkSequence(batch: ProduceBatch): SequenceCheck {
    if (batch.producerId < 0) return { kind: 'append' };
    const entry = this.producers.get(batch.producerId);
    if (entry === undefined) return { kind: 'append' }; // unknown producer: accept (state expired or new)
    if (batch.producerEpoch < entry.epoch) return { kind: 'invalid-producer-epoch' };
    if (batch.producerEpoch > entry.epoch) return { kind: 'append' }; // a bumped epoch restarts sequences
    const lastSequence = batch.baseSequence + batch.records.length - 1;
    for (const b of entry.batches)
      if (b.baseSequence === batch.baseSequence && b.lastSequence === lastSequence)
        return { kind: 'duplicate', baseOffset: b.baseOffset };
    const last = entry.batches[entry.batches.length - 1];
    if (last !== undefined && batch.baseSequence !== last.lastSequence + 1)
      return { kind: 'out-of-order-sequence' };
    return { kind: 'append' };
  }

  /** Appends a producer's batch with new offsets in `epoch`; returns the base offset. */
  appendAsLeader(batch: ProduceBatch, epoch: number, now: number): number {
    const base = this.logEndOffset;
    const n = batch.records.length;
    const seq = batch.baseSequence;
    const last = seq < 0 ? -1 : seq + n - 1;
    const out: LogRecord[] = [];
    for (let i = 0; i < n; i++) {
      const r = batch.records[i]!;
      out.push({
        offset: base + i,
        epoch,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        sequence: seq < 0 ? -1 : seq + i,
        baseSequence: seq,
        lastSequence: last,
        key: r.key,
        size: r.size,
        appendedAt: now,
        recordId: r.recordId,
        ...(r.value === undefined ? {} : { value: r.value }),
        ...(r.tombstone === true ? { tombstone: true } : {}),
        ...(batch.transactional === true ? { transactional: true } : {}),
      });
    }
    this.appendRecords(out);
    return base;
  }

  /**
   * Appends a transaction marker (a control record) for `producerId` in leader epoch `epoch`; returns
   * its offset. A marker with a newer producer epoch fences older epochs at this partition.
   */
  appendMarker(
    producerId: number,
    producerEpoch: number,
    result: TxnResult,
    epoch: number,
    now: number,
  ): number {
    const offset = this.logEndOffset;
    this.appendRecords([
      {
        offset,
        epoch,
        producerId,
        producerEpoch,
        sequence: -1,
        baseSequence: -1,
        lastSequence: -1,
        key: null,
        size: MARKER_BYTES,
        appendedAt: now,
        recordId: `marker:${producerId}.${producerEpoch}@${offset}`,
        control: result,
      },
    ]);
    return offset;
  }

  /** Appends records fetched from the leader (they keep their offsets and epochs). */
  appendAsFollower(records: readonly LogRecord[]): void {
    // A compacted leader log has gaps: the first record may lie beyond our LEO.
    const fresh = records.filter((r) => r.offset >= this.logEndOffset);
    if (fresh.length === 0) return;
    for (const r of fresh) this.assignEpoch(r.epoch, r.offset);
    this.appendRecords(fresh);
  }

  private appendRecords(records: readonly LogRecord[]): void {
    for (const r of records) {
      let active = this.segments[this.segments.length - 1]!;
      if (active.bytes > 0 && active.bytes + r.size > this.segmentBytes) {
        active = { baseOffset: r.offset, bytes: 0, maxTimestamp: -Infinity };
        this.segments.push(active);
      }
      active.bytes += r.size;
      active.maxTimestamp = Math.max(active.maxTimestamp, r.appendedAt);
      this.records.push(r);
      this.end = r.offset + 1;
      this.txns.onAppend(r);
      if (r.control !== undefined) this.trackMarker(r);
      else if (r.producerId >= 0 && r.sequence === r.lastSequence) this.track(r);
    }
  }

  /** A marker carries the producer's epoch: a newer one resets the producer's sequences here. */
  private trackMarker(r: LogRecord): void {
    const entry = this.producers.get(r.producerId);
    if (entry === undefined || r.producerEpoch > entry.epoch)
      this.producers.set(r.producerId, { epoch: r.producerEpoch, batches: [] });
  }

  /** Updates the producer state at the last record of a batch. */
  private track(r: LogRecord): void {
    let entry = this.producers.get(r.producerId);
    if (entry === undefined || r.producerEpoch > entry.epoch) {
      entry = { epoch: r.producerEpoch, batches: [] };
      this.producers.set(r.producerId, entry);
    }
    const count = r.lastSequence - r.baseSequence;
    entry.batches.push({
      baseSequence: r.baseSequence,
      lastSequence: r.lastSequence,
      baseOffset: r.offset - count,
    });
    if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift();
  }

  /**
   * Removes every record at or after `offset` (a diverged suffix), the epochs that start there, and
   * rebuilds the producer state. The high watermark cannot stay above the new end.
   */
  truncateTo(offset: number): number {
    const end = this.logEndOffset;
    if (offset >= end) return 0;
    const keep = this.indexOf(offset);
    const removed = this.records.length - keep;
    this.records.length = keep;
    this.end = Math.max(offset, this.start);
    this.firstDirtyOffset = Math.min(this.firstDirtyOffset, this.end);
    while (this.epochs.length > 0 && this.epochs[this.epochs.length - 1]!.startOffset >= offset)
      this.epochs.pop();
    this.highWatermark = Math.min(this.highWatermark, this.logEndOffset);
    this.rebuild();
    return removed;
  }

  private rebuild(): void {
    const end = this.end;
    this.producers.clear();
    this.txns.clear();
    this.segments.length = 0;
    this.segments.push({ baseOffset: this.start, bytes: 0, maxTimestamp: -Infinity });
    const records = this.records;
    this.records = [];
    this.appendRecords(records);
    this.end = end;
  }

  /** The record at `offset`, if retained. */
  at(offset: number): LogRecord | undefined {
    const r = this.records[this.indexOf(offset)];
    return r?.offset === offset ? r : undefined;
  }

  /** Records from `offset` up to (not including) `upTo`, at most `maxBytes` (at least one record). */
  read(offset: number, upTo: number, maxBytes: number, maxRecords = Infinity): LogRecord[] {
    const out: LogRecord[] = [];
    let bytes = 0;
    const end = Math.min(upTo, this.logEndOffset);
    for (
      let i = this.indexOf(Math.max(offset, this.start));
      i < this.records.length && out.length < maxRecords;
      i++
    ) {
      const r = this.records[i]!;
      if (r.offset >= end) break;
      if (out.length > 0 && bytes + r.size > maxBytes) break;
      out.push(r);
      bytes += r.size;
    }
    return out;
  }

  /** Every retained record (a copy of the array). */
  all(): LogRecord[] {
    return [...this.records];
  }

  /**
   * Deletes old segments (never the active one, never above the high watermark): time-based when a
   * segment's newest record is older than `retention.ms`, size-based while the log exceeds
   * `retention.bytes` by a whole segment. Returns the records deleted.
   */
  applyRetention(now: number, limits: RetentionLimits): number {
    let deleted = 0;
    let total = this.size;
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const next = this.segments[1]!;
      if (next.baseOffset > this.highWatermark) break;
      const expired = now - oldest.maxTimestamp > limits.retentionMs;
      const oversize = limits.retentionBytes >= 0 && total - oldest.bytes >= limits.retentionBytes;
      if (!expired && !oversize) break;
      const n = this.indexOf(next.baseOffset);
      this.records.splice(0, n);
      this.start = next.baseOffset;
      this.firstDirtyOffset = Math.max(this.firstDirtyOffset, this.start);
      total -= oldest.bytes;
      this.segments.shift();
      deleted += n;
    }
    return deleted;
  }

  /**
   * Replaces the records below `upTo` (a segment boundary) with `kept` (a subsequence of them, some
   * possibly rewritten with a delete horizon), regrouping the cleaned segments so that adjacent ones
   * merge while they fit in `segment.bytes` (the cleaner's `groupSegmentsBySize`). Offsets are kept:
   * compaction leaves gaps. Moves the cleaner checkpoint to `upTo`. Returns the records removed.
   */
  replaceCleaned(upTo: number, kept: readonly LogRecord[]): number {
    const cut = this.indexOf(upTo);
    const removed = cut - kept.length;
    const old = this.segments.filter((s) => s.baseOffset < upTo);
    const rest = this.segments.filter((s) => s.baseOffset >= upTo);
    // Bytes and timestamps of the kept records, per original segment.
    const cleaned = old.map((s) => ({ baseOffset: s.baseOffset, bytes: 0, maxTimestamp: -Infinity }));
    let si = 0;
    for (const r of kept) {
      while (si + 1 < cleaned.length && cleaned[si + 1]!.baseOffset <= r.offset) si++;
      const seg = cleaned[si]!;
      seg.bytes += r.size;
      seg.maxTimestamp = Math.max(seg.maxTimestamp, r.appendedAt);
    }
    const grouped: Segment[] = [];
    for (const seg of cleaned) {
      const last = grouped[grouped.length - 1];
      if (last !== undefined && last.bytes + seg.bytes <= this.segmentBytes) {
        last.bytes += seg.bytes;
        last.maxTimestamp = Math.max(last.maxTimestamp, seg.maxTimestamp);
      } else grouped.push(seg);
    }
    this.records = [...kept, ...this.records.slice(cut)];
    this.segments.length = 0;
    this.segments.push(...grouped, ...rest);
    this.firstDirtyOffset = Math.max(this.firstDirtyOffset, upTo);
    return removed;
  }
}
