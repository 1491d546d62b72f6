import {
  checkBoolean,
  checkDuration,
  checkEnum,
  checkName,
  checkNumber,
  type Duration,
  invalidOption,
  isObject,
  nested,
  optionKeys,
  owner,
  requireOptions,
} from '@dsim/core';

/**
 * How a replica that becomes a follower decides where its log diverged from the new leader's.
 * `leader-epoch` (KIP-101, Kafka 0.11+): ask the leader for the end offset of the replica's last
 * epoch (OffsetsForLeaderEpoch) and truncate there. `high-watermark` (before 0.11): truncate to the
 * replica's own high watermark, which lags the leader's by a fetch round trip: reproduces KIP-101's
 * data loss and replica divergence.
 */
export type TruncationRule = 'leader-epoch' | 'high-watermark';

/**
 * `cleanup.policy`: `delete` removes old segments by `retention.ms` / `retention.bytes`; `compact` keeps
 * the latest record of every key (the log cleaner); `compact,delete` does both.
 *
 * @example
 * ```ts
 * const topic: KafkaTopicSpec = { name: 'users', cleanupPolicy: 'compact' };
 * ```
 */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

/** The accepted `cleanup.policy` values. @internal */
export const CLEANUP_POLICIES = ['delete', 'compact', 'compact,delete'] as const;

/**
 * A topic created with the cluster. Topic-level configs override the cluster's broker-level defaults.
 *
 * @example
 * ```ts
 * const topic: KafkaTopicSpec = { name: 'orders', partitions: 6, replicationFactor: 3, minInsyncReplicas: 2 };
 * ```
 */
export interface KafkaTopicSpec {
  name: string;
  /** @default 1 (num.partitions) */
  partitions?: number;
  /** <= the number of brokers. @default 3 (the usual production value; Kafka's default.replication.factor is 1) */
  replicationFactor?: number;
  /** `min.insync.replicas`. @default the cluster's `minInsyncReplicas` */
  minInsyncReplicas?: number;
  /** `unclean.leader.election.enable`. @default the cluster's `uncleanLeaderElection` */
  uncleanLeaderElection?: boolean;
  /** `retention.ms`; Infinity keeps forever. @default the cluster's `retention` */
  retention?: Duration;
  /** `retention.bytes` per partition; -1 for no limit. @default the cluster's `retentionBytes` */
  retentionBytes?: number;
  /** `segment.bytes`. @default the cluster's `segmentBytes` */
  segmentBytes?: number;
  /** `cleanup.policy`. @default the cluster's `cleanupPolicy` */
  cleanupPolicy?: CleanupPolicy;
  /** `delete.retention.ms`: how long a compacted topic keeps a tombstone after its first cleaning. @default the cluster's `deleteRetention` */
  deleteRetention?: Duration;
  /** `min.cleanable.dirty.ratio`: clean when dirty bytes / all bytes exceed it. @default the cluster's `minCleanableDirtyRatio` */
  minCleanableDirtyRatio?: number;
  /** `min.compaction.lag.ms`: records younger than this stay uncompacted. @default the cluster's `minCompactionLag` */
  minCompactionLag?: Duration;
}

/**
 * Options of a {@link KafkaCluster}. Names follow the Kafka configs they model.
 *
 * @example
 * ```ts
 * const cluster = new KafkaCluster(net, {
 *   brokers: ['b1', 'b2', 'b3'],
 *   topics: [{ name: 'orders', partitions: 3, replicationFactor: 3 }],
 *   minInsyncReplicas: 2,
 * });
 * ```
 */
export interface KafkaClusterOptions {
  /** Broker addresses; a node is added to the network for each. */
  brokers: readonly string[];
  /** Topics created at start; partition p's replicas are brokers p, p+1, ... (mod n), the first preferred. */
  topics: readonly KafkaTopicSpec[];
  /** Address of the controller node (a logical KRaft quorum that never fails). @default 'kafka-controller' */
  controller?: string;
  /** `broker.heartbeat.interval.ms`. @default 2000 ms */
  heartbeatInterval?: Duration;
  /** `broker.session.timeout.ms`: the controller fences a broker whose heartbeats stop this long. @default 9000 ms */
  sessionTimeout?: Duration;
  /** `replica.lag.time.max.ms`. @default 30000 ms */
  replicaLagTimeMax?: Duration;
  /** How often a leader checks for lagging followers (Kafka's isr-expiration task). @default replicaLagTimeMax / 2 */
  isrCheckInterval?: Duration;
  /** `replica.fetch.wait.max.ms`: how long a fetch with no new data long-polls. @default 500 ms */
  replicaFetchWaitMax?: Duration;
  /** `replica.fetch.max.bytes`. @default 1048576 */
  replicaFetchMaxBytes?: number;
  /** `replica.fetch.backoff.ms`: pause after a failed fetch. @default 1000 ms */
  replicaFetchBackoff?: Duration;
  /** `replica.socket.timeout.ms`: a follower's fetch request timeout. @default 30000 ms */
  replicaSocketTimeout?: Duration;
  /** `min.insync.replicas`. @default 1 */
  minInsyncReplicas?: number;
  /** `unclean.leader.election.enable`. @default false */
  uncleanLeaderElection?: boolean;
  /** Truncation on becoming a follower. @default 'leader-epoch' */
  truncation?: TruncationRule;
  /** Fixed disk cost of one append (leader or follower), serialised per broker. @default 0.05 ms */
  diskRequestTime?: Duration;
  /** Disk throughput in bytes per ms (page-cache writes; flushes are not modelled). @default 500000 (500 MB/s) */
  diskThroughput?: number;
  /** `segment.bytes` (log.segment.bytes). @default 1073741824 (1 GiB) */
  segmentBytes?: number;
  /** `retention.ms` (log.retention.hours = 168). @default 7 days */
  retention?: Duration;
  /** `retention.bytes`; -1 for no limit. @default -1 */
  retentionBytes?: number;
  /** `log.retention.check.interval.ms`. @default 300000 ms */
  retentionCheckInterval?: Duration;
  /** Bytes a batch adds to a request on the wire (record batch header). @default 61 */
  batchOverhead?: number;
  /** `log.cleanup.policy` (topic `cleanup.policy`). @default 'delete' */
  cleanupPolicy?: CleanupPolicy;
  /** `log.cleaner.delete.retention.ms` (topic `delete.retention.ms`). @default 86400000 ms (1 day) */
  deleteRetention?: Duration;
  /** `log.cleaner.min.cleanable.ratio` (topic `min.cleanable.dirty.ratio`). @default 0.5 */
  minCleanableDirtyRatio?: number;
  /** `log.cleaner.min.compaction.lag.ms` (topic `min.compaction.lag.ms`). @default 0 */
  minCompactionLag?: Duration;
  /** `log.cleaner.backoff.ms`: the cleaner's sleep when no log needs cleaning. @default 15000 ms */
  logCleanerBackoff?: Duration;
  /** `transaction.max.timeout.ms`: the largest `transaction.timeout.ms` a producer may ask for. @default 900000 ms */
  transactionMaxTimeout?: Duration;
  /**
   * `transaction.abort.timed.out.transaction.cleanup.interval.ms`: how often the transaction
   * coordinator looks for transactions open longer than their timeout. @default 10000 ms
   */
  transactionAbortCheckInterval?: Duration;
  /** Backoff before the coordinator resends a transaction marker that failed (its marker channel's retry). @default 100 ms */
  transactionMarkerRetryBackoff?: Duration;
}

/** Every key of {@link KafkaClusterOptions}. @internal */
export const KAFKA_CLUSTER_KEYS = optionKeys<KafkaClusterOptions>()({
  brokers: true,
  topics: true,
  controller: true,
  heartbeatInterval: true,
  sessionTimeout: true,
  replicaLagTimeMax: true,
  isrCheckInterval: true,
  replicaFetchWaitMax: true,
  replicaFetchMaxBytes: true,
  replicaFetchBackoff: true,
  replicaSocketTimeout: true,
  minInsyncReplicas: true,
  uncleanLeaderElection: true,
  truncation: true,
  diskRequestTime: true,
  diskThroughput: true,
  segmentBytes: true,
  retention: true,
  retentionBytes: true,
  retentionCheckInterval: true,
  batchOverhead: true,
  cleanupPolicy: true,
  deleteRetention: true,
  minCleanableDirtyRatio: true,
  minCompactionLag: true,
  logCleanerBackoff: true,
  transactionMaxTimeout: true,
  transactionAbortCheckInterval: true,
  transactionMarkerRetryBackoff: true,
});

const TOPIC_KEYS = optionKeys<KafkaTopicSpec>()({
  name: true,
  partitions: true,
  replicationFactor: true,
  minInsyncReplicas: true,
  uncleanLeaderElection: true,
  retention: true,
  retentionBytes: true,
  segmentBytes: true,
  cleanupPolicy: true,
  deleteRetention: true,
  minCleanableDirtyRatio: true,
  minCompactionLag: true,
});

/** A topic with every config resolved. */
export interface TopicConfig {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly uncleanLeaderElection: boolean;
  readonly retentionMs: number;
  readonly retentionBytes: number;
  readonly segmentBytes: number;
  readonly cleanupPolicy: CleanupPolicy;
  readonly deleteRetentionMs: number;
  readonly minCleanableDirtyRatio: number;
  readonly minCompactionLagMs: number;
}

/** The cluster's options resolved to ms and numbers. */
export interface ClusterConfig {
  readonly brokers: readonly string[];
  readonly controller: string;
  readonly topics: ReadonlyMap<string, TopicConfig>;
  readonly heartbeatIntervalMs: number;
  readonly sessionTimeoutMs: number;
  readonly replicaLagTimeMaxMs: number;
  readonly isrCheckIntervalMs: number;
  readonly replicaFetchWaitMaxMs: number;
  readonly replicaFetchMaxBytes: number;
  readonly replicaFetchBackoffMs: number;
  readonly replicaSocketTimeoutMs: number;
  readonly truncation: TruncationRule;
  readonly diskRequestTimeMs: number;
  readonly diskThroughput: number;
  readonly retentionCheckIntervalMs: number;
  readonly batchOverhead: number;
  readonly logCleanerBackoffMs: number;
  readonly transactionMaxTimeoutMs: number;
  readonly transactionAbortCheckIntervalMs: number;
  readonly transactionMarkerRetryBackoffMs: number;
}

const DAY = 86_400_000;

/** Validates and resolves {@link KafkaClusterOptions}. @internal */
export function resolveClusterConfig(options: KafkaClusterOptions): ClusterConfig {
  const where = owner('KafkaCluster');
  requireOptions(where, options, KAFKA_CLUSTER_KEYS);
  const brokers = options.brokers;
  if (!Array.isArray(brokers) || brokers.length === 0 || new Set(brokers).size !== brokers.length)
    throw invalidOption(where, 'brokers', brokers, 'a non-empty array of distinct addresses');
  brokers.forEach((b, i) => {
    checkName(where, `brokers[${i}]`, b);
  });
  const controller = checkName(where, 'controller', options.controller, 'kafka-controller');
  if (brokers.includes(controller))
    throw invalidOption(where, 'controller', controller, 'an address that is not a broker');
  const replicaLagTimeMaxMs = checkDuration(
    where,
    'replicaLagTimeMax',
    options.replicaLagTimeMax,
    { positive: true },
    30_000,
  );
  const minIsr = checkNumber(
    where,
    'minInsyncReplicas',
    options.minInsyncReplicas,
    { integer: true, min: 1 },
    1,
  );
  const unclean = checkBoolean(where, 'uncleanLeaderElection', options.uncleanLeaderElection, false);
  const segmentBytes = checkNumber(
    where,
    'segmentBytes',
    options.segmentBytes,
    { integer: true, min: 1 },
    1 << 30,
  );
  const retentionMs = checkDuration(
    where,
    'retention',
    options.retention,
    { positive: true, infinity: true },
    7 * DAY,
  );
  const retentionBytes = checkNumber(
    where,
    'retentionBytes',
    options.retentionBytes,
    { integer: true, min: -1 },
    -1,
  );
  const cleanupPolicy = checkEnum(where, 'cleanupPolicy', options.cleanupPolicy, CLEANUP_POLICIES, 'delete');
  const deleteRetentionMs = checkDuration(
    where,
    'deleteRetention',
    options.deleteRetention,
    { infinity: true },
    DAY,
  );
  const minCleanableDirtyRatio = checkNumber(
    where,
    'minCleanableDirtyRatio',
    options.minCleanableDirtyRatio,
    { min: 0, max: 1 },
    0.5,
  );
  const minCompactionLagMs = checkDuration(where, 'minCompactionLag', options.minCompactionLag, {}, 0);
  if (!Array.isArray(options.topics))
    throw invalidOption(where, 'topics', options.topics, 'an array of topics');
  const topics = new Map<string, TopicConfig>();
  options.topics.forEach((spec, i) => {
    const at = nested(where, `topics[${i}]`);
    if (!isObject(spec))
      throw invalidOption(where, `topics[${i}]`, spec, 'a topic { name, partitions, ... }');
    requireOptions(at, spec, TOPIC_KEYS);
    const name = checkName(at, 'name', spec.name);
    if (topics.has(name)) throw invalidOption(at, 'name', name, 'a topic name not used twice');
    const replicationFactor = checkNumber(
      at,
      'replicationFactor',
      spec.replicationFactor,
      { integer: true, min: 1, max: brokers.length },
      Math.min(3, brokers.length),
    );
    topics.set(name, {
      name,
      partitions: checkNumber(at, 'partitions', spec.partitions, { integer: true, min: 1 }, 1),
      replicationFactor,
      minInsyncReplicas: checkNumber(
        at,
        'minInsyncReplicas',
        spec.minInsyncReplicas,
        { integer: true, min: 1 },
        minIsr,
      ),
      uncleanLeaderElection: checkBoolean(at, 'uncleanLeaderElection', spec.uncleanLeaderElection, unclean),
      retentionMs: checkDuration(
        at,
        'retention',
        spec.retention,
        { positive: true, infinity: true },
        retentionMs,
      ),
      retentionBytes: checkNumber(
        at,
        'retentionBytes',
        spec.retentionBytes,
        { integer: true, min: -1 },
        retentionBytes,
      ),
      segmentBytes: checkNumber(
        at,
        'segmentBytes',
        spec.segmentBytes,
        { integer: true, min: 1 },
        segmentBytes,
      ),
      cleanupPolicy: checkEnum(at, 'cleanupPolicy', spec.cleanupPolicy, CLEANUP_POLICIES, cleanupPolicy),
      deleteRetentionMs: checkDuration(
        at,
        'deleteRetention',
        spec.deleteRetention,
        { infinity: true },
        deleteRetentionMs,
      ),
      minCleanableDirtyRatio: checkNumber(
        at,
        'minCleanableDirtyRatio',
        spec.minCleanableDirtyRatio,
        { min: 0, max: 1 },
        minCleanableDirtyRatio,
      ),
      minCompactionLagMs: checkDuration(
        at,
        'minCompactionLag',
        spec.minCompactionLag,
        {},
        minCompactionLagMs,
      ),
    });
  });
  return {
    brokers: [...brokers],
    controller,
    topics,
    heartbeatIntervalMs: checkDuration(
      where,
      'heartbeatInterval',
      options.heartbeatInterval,
      { positive: true },
      2_000,
    ),
    sessionTimeoutMs: checkDuration(
      where,
      'sessionTimeout',
      options.sessionTimeout,
      { positive: true },
      9_000,
    ),
    replicaLagTimeMaxMs,
    isrCheckIntervalMs: checkDuration(
      where,
      'isrCheckInterval',
      options.isrCheckInterval,
      { positive: true },
      replicaLagTimeMaxMs / 2,
    ),
    replicaFetchWaitMaxMs: checkDuration(where, 'replicaFetchWaitMax', options.replicaFetchWaitMax, {}, 500),
    replicaFetchMaxBytes: checkNumber(
      where,
      'replicaFetchMaxBytes',
      options.replicaFetchMaxBytes,
      { integer: true, min: 1 },
      1_048_576,
    ),
    replicaFetchBackoffMs: checkDuration(
      where,
      'replicaFetchBackoff',
      options.replicaFetchBackoff,
      {},
      1_000,
    ),
    replicaSocketTimeoutMs: checkDuration(
      where,
      'replicaSocketTimeout',
      options.replicaSocketTimeout,
      { positive: true },
      30_000,
    ),
    truncation: checkEnum(
      where,
      'truncation',
      options.truncation,
      ['leader-epoch', 'high-watermark'] as const,
      'leader-epoch',
    ),
    diskRequestTimeMs: checkDuration(where, 'diskRequestTime', options.diskRequestTime, {}, 0.05),
    diskThroughput: checkNumber(
      where,
      'diskThroughput',
      options.diskThroughput,
      { above: 0, infinity: true },
      500_000,
    ),
    retentionCheckIntervalMs: checkDuration(
      where,
      'retentionCheckInterval',
      options.retentionCheckInterval,
      { positive: true },
      300_000,
    ),
    batchOverhead: checkNumber(where, 'batchOverhead', options.batchOverhead, { min: 0 }, 61),
    logCleanerBackoffMs: checkDuration(
      where,
      'logCleanerBackoff',
      options.logCleanerBackoff,
      { positive: true },
      15_000,
    ),
    transactionMaxTimeoutMs: checkDuration(
      where,
      'transactionMaxTimeout',
      options.transactionMaxTimeout,
      { positive: true },
      900_000,
    ),
    transactionAbortCheckIntervalMs: checkDuration(
      where,
      'transactionAbortCheckInterval',
      options.transactionAbortCheckInterval,
      { positive: true },
      10_000,
    ),
    transactionMarkerRetryBackoffMs: checkDuration(
      where,
      'transactionMarkerRetryBackoff',
      options.transactionMarkerRetryBackoff,
      {},
      100,
    ),
  };
}
