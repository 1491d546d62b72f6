import type { TopicConfig } from './config.js';
import type { ReplicaLog } from './replica-log.js';
import type { LogRecord } from './types.js';

/**
 * The part of a compacted log the cleaner may clean now (Kafka's `LogCleanerManager.cleanableOffsets`
 * and `LogToClean`).
 *
 * @example
 * ```ts
 * const range = cleanableRange(log, topic, sim.now); // { firstDirty, firstUncleanable, cleanableRatio, ... }
 * ```
 */
export interface CleanableRange {
  /** The cleaner checkpoint: offsets below were cleaned before. */
  readonly firstDirty: number;
  /** Offsets from here on are not cleaned (a segment boundary). */
  readonly firstUncleanable: number;
  /** Bytes in [log start, firstDirty). */
  readonly cleanBytes: number;
  /** Bytes in [firstDirty, firstUncleanable). */
  readonly cleanableBytes: number;
  /** cleanableBytes / (cleanBytes + cleanableBytes): the log is cleaned when it exceeds min.cleanable.dirty.ratio. */
  readonly cleanableRatio: number;
}

/** What one cleaning did. */
export interface CleanResult {
  readonly firstDirty: number;
  readonly cleanedUpTo: number;
  /** Records removed: superseded values, expired tombstones, aborted transactional records. */
  readonly removed: number;
  readonly tombstonesRemoved: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/**
 * Where the cleaner may clean a log: from its checkpoint (or the log start) up to the first segment
 * that holds the last stable offset (which is at most the high watermark), the active segment, or a
 * record younger than `min.compaction.lag.ms`, whichever comes first.
 *
 * @example
 * ```ts
 * const range = cleanableRange(log, topic, sim.now);
 * if (range.cleanableRatio > topic.minCleanableDirtyRatio) cleanLog(log, topic, sim.now, range);
 * ```
 */
export function cleanableRange(log: ReplicaLog, topic: TopicConfig, now: number): CleanableRange {
  const segments = log.segmentList();
  const start = log.logStartOffset;
  let firstDirty = log.firstDirtyOffset;
  if (firstDirty < start || firstDirty > log.logEndOffset) firstDirty = start;
  let limit = Math.min(log.lastStableOffset, segments[segments.length - 1]!.baseOffset);
  if (topic.minCompactionLagMs > 0)
    for (let i = 0; i < segments.length - 1; i++) {
      const s = segments[i]!;
      const next = segments[i + 1]!;
      if (next.baseOffset <= firstDirty) continue;
      if (s.maxTimestamp > now - topic.minCompactionLagMs) {
        limit = Math.min(limit, s.baseOffset);
        break;
      }
    }
  // Round down to the start of the segment holding `limit`.
  let firstUncleanable = segments[0]!.baseOffset;
  for (const s of segments) if (s.baseOffset <= limit) firstUncleanable = s.baseOffset;
  firstUncleanable = Math.max(firstUncleanable, firstDirty);
  let cleanBytes = 0;
  let cleanableBytes = 0;
  for (const r of log.read(start, firstUncleanable, Infinity)) {
    if (r.offset < firstDirty) cleanBytes += r.size;
    else cleanableBytes += r.size;
  }
  const total = cleanBytes + cleanableBytes;
  return {
    firstDirty,
    firstUncleanable,
    cleanBytes,
    cleanableBytes,
    cleanableRatio: total === 0 ? 0 : cleanableBytes / total,
  };
}

/**
 * Cleans a log below `range.firstUncleanable` (Kafka's `Cleaner.clean`): builds the offset map (key →
 * latest offset) over the dirty section, then keeps a record only if it is the latest for its key.
 * A tombstone is kept at its first cleaning, which stamps it with a delete horizon of now +
 * `delete.retention.ms` (KIP-534), and removed by the first cleaning after that. Records of aborted
 * transactions and keyless records are removed; transaction markers are kept. Offsets do not change.
 *
 * @example
 * ```ts
 * const result = cleanLog(log, topic, sim.now, cleanableRange(log, topic, sim.now));
 * ```
 */
export function cleanLog(
  log: ReplicaLog,
  topic: TopicConfig,
  now: number,
  range: CleanableRange,
): CleanResult {
  const upTo = range.firstUncleanable;
  const section = log.read(log.logStartOffset, upTo, Infinity);
  const latest = new Map<string, number>();
  for (const r of section)
    if (r.offset >= range.firstDirty && r.key !== null && r.control === undefined && !log.isAborted(r))
      latest.set(r.key, r.offset);
  const kept: LogRecord[] = [];
  let tombstonesRemoved = 0;
  let bytesBefore = 0;
  let bytesAfter = 0;
  for (const r of section) {
    bytesBefore += r.size;
    let keep: LogRecord | null = r;
    if (r.control !== undefined) keep = r;
    else if (r.key === null || log.isAborted(r)) keep = null;
    else if (r.offset < (latest.get(r.key) ?? -1)) keep = null;
    else if (r.tombstone === true) {
      if (r.deleteHorizonMs === undefined) keep = { ...r, deleteHorizonMs: now + topic.deleteRetentionMs };
      else if (now >= r.deleteHorizonMs) {
        keep = null;
        tombstonesRemoved++;
      }
    }
    if (keep !== null) {
      kept.push(keep);
      bytesAfter += keep.size;
    }
  }
  const removed = log.replaceCleaned(upTo, kept);
  return {
    firstDirty: range.firstDirty,
    cleanedUpTo: upTo,
    removed,
    tombstonesRemoved,
    bytesBefore,
    bytesAfter,
  };
}

/**
 * One pass of a broker's cleaner thread over its compacted logs, filthiest first (Kafka's
 * `grabFilthiestCompactedLog`): a log is cleaned when its cleanable ratio exceeds
 * `min.cleanable.dirty.ratio` and it has cleanable bytes. Returns what each cleaning did.
 *
 * @example
 * ```ts
 * runCleaner([{ log, topic }], sim.now);
 * ```
 */
export function runCleaner(
  logs: ReadonlyArray<{ readonly log: ReplicaLog; readonly topic: TopicConfig }>,
  now: number,
): Array<CleanResult & { readonly topic: string }> {
  const candidates = logs
    .filter((l) => l.topic.cleanupPolicy !== 'delete')
    .map((l) => ({ ...l, range: cleanableRange(l.log, l.topic, now) }))
    .filter((c) => c.range.cleanableBytes > 0 && c.range.cleanableRatio > c.topic.minCleanableDirtyRatio)
    .sort((a, b) => b.range.cleanableRatio - a.range.cleanableRatio);
  return candidates.map((c) => ({ topic: c.topic.name, ...cleanLog(c.log, c.topic, now, c.range) }));
}
