/**
 * Shared shapes of the Kafka cluster model: log records, partition metadata as the controller publishes
 * it, error codes, and the wire messages between producers, brokers and the controller.
 */

/**
 * One record in a replica's log. Followers copy the leader's records verbatim (offset, epoch, producer
 * fields, append time), so the same record has the same identity in every replica.
 *
 * @example
 * ```ts
 * const r: LogRecord = cluster.committed('orders', 0)![0]!; // r.offset, r.epoch, r.recordId
 * ```
 */
export interface LogRecord {
  /** Position in the partition, from 0. */
  readonly offset: number;
  /** Leader epoch of the leader that appended it (KIP-101). */
  readonly epoch: number;
  /** Producer id of an idempotent producer, -1 otherwise. */
  readonly producerId: number;
  /** Producer epoch (bumped when the producer resets its sequences), -1 without idempotence. */
  readonly producerEpoch: number;
  /** Sequence number of this record, -1 without idempotence. */
  readonly sequence: number;
  /** Base and last sequence of the batch the record came in (the producer-state dedup unit). */
  readonly baseSequence: number;
  readonly lastSequence: number;
  /** The record key, if any. */
  readonly key: string | null;
  /** Bytes (key + value + record overhead). */
  readonly size: number;
  /** Simulated time the leader appended it (LogAppendTime). */
  readonly appendedAt: number;
  /** Producer-side identity (`<producer address>#<n>`), for the delivery audit. */
  readonly recordId: string;
  /** The application's value label, if the producer gave one (models the payload). */
  readonly value?: string;
  /** A tombstone (a null value): on a compacted topic it deletes its key after `delete.retention.ms`. */
  readonly tombstone?: boolean;
  /** Written inside a transaction (KIP-98): invisible to `read_committed` until its COMMIT marker. */
  readonly transactional?: boolean;
  /** A control record (transaction marker) ending the producer's transaction; never returned to applications. */
  readonly control?: TxnResult;
  /** Set when the cleaner first retains a tombstone: it may be removed once this time has passed (KIP-534). */
  readonly deleteHorizonMs?: number;
}

/** How a transaction ended: the control marker written to each of its partitions. */
export type TxnResult = 'commit' | 'abort';

/** `isolation.level` of a consumer fetch. */
export type IsolationLevel = 'read_uncommitted' | 'read_committed';

/** An aborted transaction in a partition (Kafka's AbortedTxn index entry): its records are skipped by read_committed. */
export interface AbortedTxn {
  readonly producerId: number;
  /** Offset of the transaction's first record in the partition. */
  readonly firstOffset: number;
  /** Offset of its ABORT marker. */
  readonly lastOffset: number;
}

/** A record as a producer sends it. */
export interface ProducedRecord {
  readonly recordId: string;
  readonly key: string | null;
  readonly size: number;
  readonly value?: string;
  readonly tombstone?: boolean;
}

/** A batch as a producer sends it to a partition leader (one ProduceRequest carries one batch here). */
export interface ProduceBatch {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** Sequence of the first record, -1 without idempotence. */
  readonly baseSequence: number;
  readonly records: readonly ProducedRecord[];
  /** Part of a transaction (a transactional producer's batch). */
  readonly transactional?: boolean;
}

/**
 * Error codes, named after Kafka's `Errors` enum (kebab-case). All are retriable for the producer except
 * `invalid-producer-epoch`, `producer-fenced` and `invalid-record` (a keyless record on a compacted
 * topic); `unknown-topic-or-partition` is retried, like Kafka. The transaction coordinator answers
 * `producer-fenced`, `concurrent-transactions` (retriable), `invalid-txn-state` and
 * `invalid-transaction-timeout`.
 *
 * @example
 * ```ts
 * if (outcome.ok === false && outcome.error === 'not-enough-replicas') { ... }
 * ```
 */
export type KafkaErrorCode =
  | 'not-leader-or-follower'
  | 'not-enough-replicas'
  | 'not-enough-replicas-after-append'
  | 'request-timed-out'
  | 'out-of-order-sequence'
  | 'invalid-producer-epoch'
  | 'fenced-leader-epoch'
  | 'unknown-leader-epoch'
  | 'unknown-topic-or-partition'
  | 'offset-out-of-range'
  | 'invalid-record'
  | 'producer-fenced'
  | 'concurrent-transactions'
  | 'invalid-txn-state'
  | 'invalid-transaction-timeout'
  | 'coordinator-not-available';

/**
 * A partition's state as the controller publishes it (KRaft's PartitionRecord / PartitionChangeRecord).
 *
 * @example
 * ```ts
 * const meta = cluster.controller.partition('orders', 0); // { leader: 'b1', leaderEpoch: 0, isr: [...] }
 * ```
 */
export interface PartitionMeta {
  readonly topic: string;
  readonly partition: number;
  /** Assignment order: the preferred leader first; elections scan it in this order. */
  readonly replicas: readonly string[];
  /** Current leader, or null when the partition is offline. */
  readonly leader: string | null;
  readonly leaderEpoch: number;
  readonly isr: readonly string[];
  /** Bumped on every change (leader or ISR): AlterPartition must name the current one. */
  readonly partitionEpoch: number;
}

/** Metadata the controller publishes: every partition and the brokers with a live session. */
export interface ClusterMetadata {
  readonly version: number;
  readonly partitions: readonly PartitionMeta[];
  readonly liveBrokers: readonly string[];
  /** Where transactional producers send their transaction requests (FindCoordinator, folded into metadata). */
  readonly transactionCoordinator?: string;
}

/** `topic-partition`, the key of per-partition maps. @internal */
export function tpKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Produce request (acks 1 and all go over RPC; acks 0 as a plain message). @internal */
export interface ProduceRequest {
  readonly api: 'produce';
  readonly topic: string;
  readonly partition: number;
  readonly acks: 0 | 1 | -1;
  /** The producer's request.timeout.ms: how long the leader keeps an acks=all request in purgatory. */
  readonly timeoutMs: number;
  readonly batch: ProduceBatch;
}

/** Produce response. @internal */
export interface ProduceResponse {
  readonly error: KafkaErrorCode | null;
  /** Offset of the first record (the original offset for a deduplicated retry), -1 on error. */
  readonly baseOffset: number;
  /** True when the leader recognised the batch as a retry it had already appended. */
  readonly duplicate: boolean;
}

/** Replica (replicaId set) or consumer (replicaId null) fetch. @internal */
export interface FetchRequest {
  readonly api: 'fetch';
  readonly topic: string;
  readonly partition: number;
  readonly replicaId: string | null;
  readonly fetchOffset: number;
  /** The fetcher's view of the current leader epoch (fencing). */
  readonly leaderEpoch: number;
  readonly maxBytes: number;
  readonly maxWaitMs: number;
  /** Consumer fetches: `read_committed` reads up to the last stable offset. @default 'read_uncommitted' */
  readonly isolationLevel?: IsolationLevel;
}

/** Fetch response. @internal */
export interface FetchResponse {
  readonly error: KafkaErrorCode | null;
  readonly records: readonly LogRecord[];
  readonly highWatermark: number;
  readonly logEndOffset: number;
  readonly logStartOffset: number;
  /** The partition's last stable offset (absent from errors). */
  readonly lastStableOffset?: number;
  /** `read_committed` only: the aborted transactions overlapping the records returned. */
  readonly abortedTransactions?: readonly AbortedTxn[];
}

/** WriteTxnMarkers: the transaction coordinator asks a partition leader to append a control marker. @internal */
export interface WriteTxnMarkerRequest {
  readonly api: 'write-txn-marker';
  readonly topic: string;
  readonly partition: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly result: TxnResult;
  readonly timeoutMs: number;
}

/** OffsetsForLeaderEpoch (KIP-101). @internal */
export interface EpochRequest {
  readonly api: 'offsets-for-leader-epoch';
  readonly topic: string;
  readonly partition: number;
  readonly currentLeaderEpoch: number;
  readonly requestedEpoch: number;
}

/** OffsetsForLeaderEpoch response: the largest epoch <= the requested one and where it ends. @internal */
export interface EpochResponse {
  readonly error: KafkaErrorCode | null;
  readonly epoch: number;
  readonly endOffset: number;
}

/** Requests a broker serves. @internal */
export type BrokerRequest =
  | ProduceRequest
  | FetchRequest
  | EpochRequest
  | WriteTxnMarkerRequest
  | { readonly api: 'metadata' }
  | { readonly api: 'init-producer-id' };

/** Requests the controller serves. @internal */
export type ControllerRequest =
  | { readonly api: 'heartbeat'; readonly broker: string; readonly metadataVersion: number }
  | {
      readonly api: 'alter-partition';
      readonly broker: string;
      readonly topic: string;
      readonly partition: number;
      readonly leaderEpoch: number;
      readonly partitionEpoch: number;
      readonly isr: readonly string[];
    }
  | { readonly api: 'allocate-producer-id' }
  | TxnRequest;

/** A partition or a consumer group's offsets taking part in a transaction. @internal */
export interface TxnTopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Requests the transaction coordinator serves (on the controller's node). @internal */
export type TxnRequest =
  | {
      readonly api: 'init-producer-id-txn';
      readonly transactionalId: string;
      readonly transactionTimeoutMs: number;
    }
  | {
      readonly api: 'add-partitions-to-txn';
      readonly transactionalId: string;
      readonly producerId: number;
      readonly producerEpoch: number;
      readonly partitions: readonly TxnTopicPartition[];
    }
  | {
      readonly api: 'add-offsets-to-txn';
      readonly transactionalId: string;
      readonly producerId: number;
      readonly producerEpoch: number;
      readonly groupId: string;
      /** Address of the group's coordinator (it receives the offsets marker). */
      readonly groupCoordinator: string;
    }
  | {
      readonly api: 'end-txn';
      readonly transactionalId: string;
      readonly producerId: number;
      readonly producerEpoch: number;
      readonly result: TxnResult;
    };

/** Answer of the transaction coordinator. @internal */
export interface TxnResponse {
  readonly error: KafkaErrorCode | null;
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** Heartbeat response: the current metadata when the broker's copy is older. @internal */
export interface HeartbeatResponse {
  readonly metadata: ClusterMetadata | null;
}

/** AlterPartition response: the committed state, or why not. @internal */
export interface AlterPartitionResponse {
  readonly error: 'invalid-update-version' | 'fenced-leader-epoch' | 'ineligible-replica' | null;
  readonly state: PartitionMeta | null;
}
