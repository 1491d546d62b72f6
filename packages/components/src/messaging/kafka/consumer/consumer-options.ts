import {
  checkBoolean,
  checkDistribution,
  checkDuration,
  checkEnum,
  checkFunction,
  checkName,
  checkNumber,
  constant,
  type Distribution,
  type Duration,
  invalidOption,
  optionKeys,
  owner,
  requireOptions,
  type SimEvent,
} from '@dsim/core';
import type { IsolationLevel, LogRecord } from '../cluster/types.js';
import type { ConsumerGroupMetadata } from '../producer/transaction-manager.js';
import type { DeliveryTally } from './delivery-tally.js';
import type { ConsumerGroupMonitor } from './group-monitor.js';
import type { RecordSource } from './record-source.js';

/**
 * Assignors a consumer can name in `partition.assignment.strategy`.
 *
 * @example
 * ```ts
 * CONSUMER_ASSIGNORS.includes('range'); // true
 * ```
 */
export const CONSUMER_ASSIGNORS = ['range', 'roundrobin', 'sticky', 'cooperative-sticky'] as const;

/**
 * `partition.assignment.strategy`: `range`, `roundrobin` and `sticky` rebalance eagerly (revoke
 * everything, then rejoin); `cooperative-sticky` incrementally (KIP-429).
 *
 * @example
 * ```ts
 * const a: ConsumerAssignor = 'cooperative-sticky';
 * ```
 */
export type ConsumerAssignor = (typeof CONSUMER_ASSIGNORS)[number];

/**
 * When the application commits offsets itself (with `enableAutoCommit: false`, or on top of it).
 *
 * @example
 * ```ts
 * MANUAL_COMMITS; // ['none', 'after-processing', 'after-processing-async', 'before-processing']
 * ```
 */
export const MANUAL_COMMITS = [
  'none',
  'after-processing',
  'after-processing-async',
  'before-processing',
] as const;

/**
 * `after-processing`: `commitSync()` of the positions after the batch is processed (at-least-once);
 * `after-processing-async`: `commitAsync()` of them, and the next `poll()` at once without waiting for
 * the answer (at-least-once; a failed commit is not retried, as the javadoc advises, so a crash can
 * replay more); `before-processing`: `commitSync()` of the positions right after `poll()` returns, then
 * processing (at-most-once); `none`: no manual commit.
 *
 * @example
 * ```ts
 * const mode: ManualCommit = 'before-processing';
 * ```
 */
export type ManualCommit = (typeof MANUAL_COMMITS)[number];

/**
 * A batch the application has processed, handed to `onBatch` before the next poll: the records, the
 * positions after them (what a commit would store) and the group metadata (for
 * `producer.sendOffsetsToTransaction`).
 *
 * @example
 * ```ts
 * onBatch: ({ records, offsets, group }) => relay(records, offsets, group), // returns a SimEvent to wait for
 * ```
 */
export interface ConsumedBatch {
  readonly records: ReadonlyArray<{
    readonly topic: string;
    readonly partition: number;
    readonly record: LogRecord;
  }>;
  readonly offsets: ReadonlyArray<{
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
  }>;
  readonly group: ConsumerGroupMetadata;
  /** Seeks every owned partition back to its committed offset (after an aborted transaction). */
  readonly rewind: () => void;
}

/**
 * Options of a {@link KafkaConsumer}, named after Kafka's ConsumerConfig (durations without the `.ms`
 * suffix: numbers are ms, strings need a unit). Defaults are Kafka 4.0's.
 *
 * @example
 * ```ts
 * new KafkaConsumer(net.addNode('c1'), {
 *   groupId: 'billing', topics: ['orders'], coordinator: 'gc', source,
 *   processingTime: exponential({ mean: 2 }), enableAutoCommit: false, manualCommit: 'after-processing',
 * });
 * ```
 */
export interface KafkaConsumerOptions {
  /** `group.id`. */
  groupId: string;
  /** `subscribe(topics)`: the topics to consume. */
  topics: readonly string[];
  /** Address of the {@link GroupCoordinator} node (Kafka finds it with FindCoordinator). */
  coordinator: string;
  /** Where records come from: {@link clusterRecordSource} or a {@link MemoryRecordSource}. */
  source: RecordSource;
  /** `client.id`, the prefix of the member id. @default the node's address */
  clientId?: string;
  /** `group.protocol`: `classic` (JoinGroup/SyncGroup) or `consumer` (KIP-848). @default 'classic' */
  groupProtocol?: 'classic' | 'consumer';
  /** `group.instance.id`: a static member (KIP-345); null for a dynamic one. @default null */
  groupInstanceId?: string | null;
  /** `partition.assignment.strategy` (classic protocol). @default 'range' (first of Kafka's [RangeAssignor, CooperativeStickyAssignor]) */
  assignor?: ConsumerAssignor;
  /** `session.timeout.ms` (classic; KIP-848 uses the broker's). @default 45000 ms (since 3.0) */
  sessionTimeout?: Duration;
  /** `heartbeat.interval.ms` (classic; KIP-848 uses the broker's). @default 3000 ms */
  heartbeatInterval?: Duration;
  /** `max.poll.interval.ms`: longer between polls and the member leaves the group; also the rebalance timeout. @default 300000 ms */
  maxPollInterval?: Duration;
  /** `enable.auto.commit`: commit the previous poll's positions inside poll() every `autoCommitInterval`. @default true */
  enableAutoCommit?: boolean;
  /** `auto.commit.interval.ms`. @default 5000 ms */
  autoCommitInterval?: Duration;
  /** What the application commits itself. @default 'none' with auto-commit, 'after-processing' without */
  manualCommit?: ManualCommit;
  /** `auto.offset.reset`: where to start without a committed offset. @default 'latest' */
  autoOffsetReset?: 'latest' | 'earliest';
  /** `max.poll.records`. @default 500 */
  maxPollRecords?: number;
  /** `fetch.max.wait.ms`: how long the broker holds an empty fetch. @default 500 ms */
  fetchMaxWait?: Duration;
  /** `max.partition.fetch.bytes`. @default 1048576 */
  maxPartitionFetchBytes?: number;
  /** The application's `poll(Duration)` timeout: an empty poll returns after it. @default 100 ms */
  pollTimeout?: Duration;
  /** Processing time of one record by the application (sampled from stream `<address>/processing`). @default constant(0) */
  processingTime?: Distribution | Duration;
  /** `retry.backoff.ms`: wait after a failed request. @default 100 ms */
  retryBackoff?: Duration;
  /** `request.timeout.ms` for coordinator requests (JoinGroup waits up to maxPollInterval + 5 s). @default 30000 ms */
  requestTimeout?: Duration;
  /** Counts every processed record (duplicates, losses). @default none */
  tally?: DeliveryTally;
  /** Group-wide gauges: paused partitions, lag. @default none */
  monitor?: ConsumerGroupMonitor;
  /** Called when the application has processed a record. @default none */
  onRecord?: (record: LogRecord, topic: string, partition: number) => void;
  /**
   * `isolation.level`: `read_committed` reads only below the last stable offset and skips the records of
   * aborted transactions; `read_uncommitted` reads up to the high watermark. Transaction markers are
   * never returned either way. @default 'read_uncommitted'
   */
  isolationLevel?: IsolationLevel;
  /**
   * Called once the application has processed a batch, before its manual commit and the next poll; the
   * poll loop waits for the event it returns (a consume-transform-produce transaction, say).
   * @default none
   */
  onBatch?: (batch: ConsumedBatch) => SimEvent<unknown> | undefined;
}

/** @internal */
export const KAFKA_CONSUMER_KEYS = optionKeys<KafkaConsumerOptions>()({
  groupId: true,
  topics: true,
  coordinator: true,
  source: true,
  clientId: true,
  groupProtocol: true,
  groupInstanceId: true,
  assignor: true,
  sessionTimeout: true,
  heartbeatInterval: true,
  maxPollInterval: true,
  enableAutoCommit: true,
  autoCommitInterval: true,
  manualCommit: true,
  autoOffsetReset: true,
  maxPollRecords: true,
  fetchMaxWait: true,
  maxPartitionFetchBytes: true,
  pollTimeout: true,
  processingTime: true,
  retryBackoff: true,
  requestTimeout: true,
  tally: true,
  monitor: true,
  onRecord: true,
  isolationLevel: true,
  onBatch: true,
});

/** Resolved consumer config. @internal */
export interface ConsumerConfig {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly coordinator: string;
  readonly source: RecordSource;
  readonly clientId: string;
  readonly groupProtocol: 'classic' | 'consumer';
  readonly groupInstanceId: string | null;
  readonly assignor: ConsumerAssignor;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxPollIntervalMs: number;
  readonly autoCommit: boolean;
  readonly autoCommitIntervalMs: number;
  readonly manualCommit: ManualCommit;
  readonly autoOffsetReset: 'latest' | 'earliest';
  readonly maxPollRecords: number;
  readonly fetchMaxWaitMs: number;
  readonly maxPartitionFetchBytes: number;
  readonly pollTimeoutMs: number;
  readonly processingTime: Distribution;
  readonly retryBackoffMs: number;
  readonly requestTimeoutMs: number;
  readonly tally: DeliveryTally | null;
  readonly monitor: ConsumerGroupMonitor | null;
  readonly onRecord: ((record: LogRecord, topic: string, partition: number) => void) | null;
  readonly isolationLevel: IsolationLevel;
  readonly onBatch: ((batch: ConsumedBatch) => SimEvent<unknown> | undefined) | null;
}

/** @internal */
export function resolveConsumerConfig(options: KafkaConsumerOptions, address: string): ConsumerConfig {
  const where = owner('KafkaConsumer');
  requireOptions(where, options, KAFKA_CONSUMER_KEYS);
  const groupId = checkName(where, 'groupId', options.groupId);
  if (!Array.isArray(options.topics) || options.topics.length === 0)
    throw invalidOption(where, 'topics', options.topics, 'a non-empty array of topic names');
  const source = options.source;
  if (typeof source !== 'object' || source === null || typeof (source as RecordSource).fetch !== 'function')
    throw invalidOption(
      where,
      'source',
      source,
      'a RecordSource (clusterRecordSource(cluster) or a MemoryRecordSource)',
    );
  const topics: string[] = [];
  options.topics.forEach((t: unknown, i: number) => {
    const name = checkName(where, `topics[${i}]`, t);
    if (source.partitionCount(name) === undefined)
      throw invalidOption(where, `topics[${i}]`, name, 'a topic the source knows');
    if (topics.includes(name)) throw invalidOption(where, `topics[${i}]`, name, 'a topic not listed twice');
    topics.push(name);
  });
  const instance = options.groupInstanceId ?? null;
  if (instance !== null) checkName(where, 'groupInstanceId', instance);
  const sessionTimeoutMs = checkDuration(
    where,
    'sessionTimeout',
    options.sessionTimeout,
    { positive: true },
    45_000,
  );
  const heartbeatIntervalMs = checkDuration(
    where,
    'heartbeatInterval',
    options.heartbeatInterval,
    { positive: true },
    3_000,
  );
  // ConsumerConfig: heartbeat.interval.ms must be lower than session.timeout.ms.
  if (heartbeatIntervalMs >= sessionTimeoutMs)
    throw invalidOption(
      where,
      'heartbeatInterval',
      heartbeatIntervalMs,
      `a duration < sessionTimeout (${sessionTimeoutMs} ms)`,
    );
  const autoCommit = checkBoolean(where, 'enableAutoCommit', options.enableAutoCommit, true);
  const manualCommit = checkEnum(
    where,
    'manualCommit',
    options.manualCommit,
    MANUAL_COMMITS,
    autoCommit ? 'none' : 'after-processing',
  );
  return {
    groupId,
    topics,
    coordinator: checkName(where, 'coordinator', options.coordinator),
    source,
    clientId: checkName(where, 'clientId', options.clientId, address),
    groupProtocol: checkEnum(
      where,
      'groupProtocol',
      options.groupProtocol,
      ['classic', 'consumer'] as const,
      'classic',
    ),
    groupInstanceId: instance,
    assignor: checkEnum(where, 'assignor', options.assignor, CONSUMER_ASSIGNORS, 'range'),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    maxPollIntervalMs: checkDuration(
      where,
      'maxPollInterval',
      options.maxPollInterval,
      { positive: true },
      300_000,
    ),
    autoCommit,
    autoCommitIntervalMs: checkDuration(where, 'autoCommitInterval', options.autoCommitInterval, {}, 5_000),
    manualCommit,
    autoOffsetReset: checkEnum(
      where,
      'autoOffsetReset',
      options.autoOffsetReset,
      ['latest', 'earliest'] as const,
      'latest',
    ),
    maxPollRecords: checkNumber(
      where,
      'maxPollRecords',
      options.maxPollRecords,
      { integer: true, min: 1 },
      500,
    ),
    fetchMaxWaitMs: checkDuration(where, 'fetchMaxWait', options.fetchMaxWait, {}, 500),
    maxPartitionFetchBytes: checkNumber(
      where,
      'maxPartitionFetchBytes',
      options.maxPartitionFetchBytes,
      { integer: true, min: 1 },
      1_048_576,
    ),
    pollTimeoutMs: checkDuration(where, 'pollTimeout', options.pollTimeout, {}, 100),
    processingTime: checkDistribution(
      where,
      'processingTime',
      options.processingTime,
      'exponential({ mean: 2 })',
      {},
      constant(0),
    ),
    retryBackoffMs: checkDuration(where, 'retryBackoff', options.retryBackoff, {}, 100),
    requestTimeoutMs: checkDuration(
      where,
      'requestTimeout',
      options.requestTimeout,
      { positive: true },
      30_000,
    ),
    tally: options.tally ?? null,
    monitor: options.monitor ?? null,
    onRecord:
      options.onRecord === undefined
        ? null
        : checkFunction(where, 'onRecord', options.onRecord, '(record, topic, partition) => void'),
    isolationLevel: checkEnum(
      where,
      'isolationLevel',
      options.isolationLevel,
      ['read_uncommitted', 'read_committed'] as const,
      'read_uncommitted',
    ),
    onBatch:
      options.onBatch === undefined
        ? null
        : checkFunction(where, 'onBatch', options.onBatch, '(batch) => SimEvent | undefined'),
  };
}
