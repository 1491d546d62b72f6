import type { RpcEndpoint, SimEvent } from '@dsim/core';
import type { AbortedTxn, IsolationLevel, LogRecord } from '../cluster/types.js';

/**
 * A consumer fetch from one partition: records from `offset`, at most `maxBytes` (at least one record
 * when any is available), waiting up to `maxWaitMs` when none is.
 *
 * @example
 * ```ts
 * source.fetch(endpoint, { topic: 't', partition: 0, offset: 42, maxBytes: 1_048_576, maxWaitMs: 500 });
 * ```
 */
export interface SourceFetch {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** `max.partition.fetch.bytes`. */
  readonly maxBytes: number;
  /** `fetch.max.wait.ms`: the broker holds an empty fetch this long (long polling). */
  readonly maxWaitMs: number;
  /** `isolation.level`: `read_committed` reads below the last stable offset. @default 'read_uncommitted' */
  readonly isolationLevel?: IsolationLevel;
}

/**
 * What a fetch returns: records below the high watermark only, or an error (`offset-out-of-range`,
 * `not-leader-or-follower`, `leader-not-available`, `request-timed-out`...).
 *
 * @example
 * ```ts
 * const res = ev.value; if (res.error === null) buffer.push(...res.records);
 * ```
 */
export interface SourceFetchResult {
  readonly error: string | null;
  readonly records: readonly LogRecord[];
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** The last stable offset, when the source knows transactions. */
  readonly lastStableOffset?: number;
  /** `read_committed`: aborted transactions overlapping the records (their records are to be skipped). */
  readonly abortedTransactions?: readonly AbortedTxn[];
}

/**
 * The answer to a ListOffsets lookup (`auto.offset.reset`): the log start (`earliest`) or the high
 * watermark (`latest`).
 *
 * @example
 * ```ts
 * const { offset } = (yield source.listOffset(endpoint, 't', 0, 'latest')).value;
 * ```
 */
export interface SourceOffset {
  readonly error: string | null;
  readonly offset: number;
}

/**
 * Where a consumer's records come from: the seam between the consumer group model and a log store.
 * {@link clusterRecordSource} reads a {@link KafkaCluster} over its brokers' RPC API;
 * {@link MemoryRecordSource} is an in-memory log for unit tests and fluid-model experiments.
 * Fetches are issued from the consumer's own endpoint, so they cross the network (latency, partitions,
 * crashes) when the source is a cluster.
 *
 * @example
 * ```ts
 * const source: RecordSource = clusterRecordSource(cluster);
 * new KafkaConsumer(net.addNode('c1'), { groupId: 'g', topics: ['t'], coordinator: 'gc', source });
 * ```
 */
export interface RecordSource {
  /** Partition count of a topic (from metadata), undefined for an unknown topic. */
  partitionCount(topic: string): number | undefined;
  /** The address of the partition's current leader, null while it has none. */
  leaderOf(topic: string, partition: number): string | null;
  /** Fetches records for `client`; the event carries the result (errors are values, never failures). */
  fetch(client: RpcEndpoint<any, any>, request: SourceFetch): SimEvent<SourceFetchResult>;
  /** ListOffsets: the earliest or latest (high watermark; last stable offset for `read_committed`) offset. */
  listOffset(
    client: RpcEndpoint<any, any>,
    topic: string,
    partition: number,
    which: 'earliest' | 'latest',
    isolationLevel?: IsolationLevel,
  ): SimEvent<SourceOffset>;
  /** An observer's view of the high watermark (for lag gauges), without the network. */
  highWatermark(topic: string, partition: number): number;
}
