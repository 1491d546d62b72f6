/**
 * The wire messages between consumers and the {@link GroupCoordinator}: the classic group protocol
 * (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), KIP-848's ConsumerGroupHeartbeat, and the offset APIs
 * (OffsetCommit, OffsetFetch). Partitions travel as `{ topic, partition }`.
 */
import type { TopicPartition } from '../assignors/types.js';

/**
 * Group error codes, named after Kafka's `Errors` enum (kebab-case).
 *
 * @example
 * ```ts
 * if (res.error === 'rebalance-in-progress') consumer.requestRejoin();
 * ```
 */
export type GroupErrorCode =
  | 'unknown-member-id'
  | 'illegal-generation'
  | 'rebalance-in-progress'
  | 'fenced-instance-id'
  | 'inconsistent-group-protocol'
  | 'fenced-member-epoch'
  | 'unreleased-instance-id'
  | 'invalid-session-timeout'
  | 'unstable-offset-commit'
  | 'producer-fenced';

/** A member as the group leader sees it in the JoinGroup response. @internal */
export interface JoinedMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly topics: readonly string[];
  /** Partitions the member owned when it joined (the cooperative protocol's `ownedPartitions`). */
  readonly owned: readonly TopicPartition[];
}

/** JoinGroup (classic). @internal */
export interface JoinGroupRequest {
  readonly api: 'join-group';
  readonly groupId: string;
  /** '' for a new member: the coordinator gives it an id. */
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  /** The assignor's name (the group protocol). */
  readonly protocol: string;
  readonly topics: readonly string[];
  readonly owned: readonly TopicPartition[];
}

/** JoinGroup response. @internal */
export interface JoinGroupResponse {
  readonly error: GroupErrorCode | null;
  readonly generationId: number;
  readonly protocol: string;
  readonly leaderId: string;
  readonly memberId: string;
  /** The members with their subscriptions: for the leader only, empty for followers. */
  readonly members: readonly JoinedMember[];
  /** Static member rejoining a stable group: no rebalance, SyncGroup returns its old assignment. */
  readonly skipAssignment: boolean;
}

/** SyncGroup (classic). @internal */
export interface SyncGroupRequest {
  readonly api: 'sync-group';
  readonly groupId: string;
  readonly memberId: string;
  readonly generationId: number;
  /** The leader's assignment, member id to partitions; null from followers. */
  readonly assignments: Readonly<Record<string, readonly TopicPartition[]>> | null;
}

/** SyncGroup response. @internal */
export interface SyncGroupResponse {
  readonly error: GroupErrorCode | null;
  readonly assignment: readonly TopicPartition[];
}

/** Heartbeat (classic). @internal */
export interface HeartbeatRequest {
  readonly api: 'heartbeat';
  readonly groupId: string;
  readonly memberId: string;
  readonly generationId: number;
}

/** LeaveGroup. @internal */
export interface LeaveGroupRequest {
  readonly api: 'leave-group';
  readonly groupId: string;
  readonly memberId: string;
  readonly reason: string;
}

/** ConsumerGroupHeartbeat (KIP-848): the member's epoch and what it owns; the answer its target. @internal */
export interface ConsumerHeartbeatRequest {
  readonly api: 'consumer-heartbeat';
  readonly groupId: string;
  /** '' to join. */
  readonly memberId: string;
  /** 0 to join, -1 to leave (dynamic), -2 to leave as a static member. */
  readonly memberEpoch: number;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly rebalanceTimeoutMs: number;
  readonly topics: readonly string[];
  readonly owned: readonly TopicPartition[];
}

/** ConsumerGroupHeartbeat response. @internal */
export interface ConsumerHeartbeatResponse {
  readonly error: GroupErrorCode | null;
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly heartbeatIntervalMs: number;
  /** The partitions the member may own now; null when unchanged. */
  readonly assignment: readonly TopicPartition[] | null;
}

/** A committed offset. */
export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume (Kafka commits the position, not the last record). */
  readonly offset: number;
}

/** OffsetCommit. `generationId` -1 with `memberId` '' is a commit from outside the group. @internal */
export interface OffsetCommitRequest {
  readonly api: 'offset-commit';
  readonly groupId: string;
  readonly memberId: string;
  readonly generationId: number;
  readonly offsets: readonly CommittedOffset[];
}

/** OffsetFetch. @internal */
export interface OffsetFetchRequest {
  readonly api: 'offset-fetch';
  readonly groupId: string;
  readonly partitions: readonly TopicPartition[];
  /** KIP-447 `require_stable` (read_committed consumers): refuse while transactional offsets are pending. */
  readonly requireStable?: boolean;
}

/** OffsetFetch response: -1 for a partition with no committed offset. @internal */
export interface OffsetFetchResponse {
  readonly offsets: readonly CommittedOffset[];
  /** `unstable-offset-commit`: a transaction holding offsets for these partitions is still open. */
  readonly error?: GroupErrorCode | null;
}

/** TxnOffsetCommit: offsets written inside a producer's transaction, pending until its marker. @internal */
export interface TxnOffsetCommitRequest {
  readonly api: 'txn-offset-commit';
  readonly groupId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  /** '' with generation -1: no generation check. */
  readonly memberId: string;
  readonly generationId: number;
  readonly offsets: readonly CommittedOffset[];
}

/** The transaction coordinator's marker for a group: apply (commit) or drop (abort) the pending offsets. @internal */
export interface TxnOffsetMarkerRequest {
  readonly api: 'txn-offset-marker';
  readonly groupId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly result: 'commit' | 'abort';
}

/** Requests the coordinator serves. @internal */
export type GroupRequest =
  | JoinGroupRequest
  | SyncGroupRequest
  | HeartbeatRequest
  | LeaveGroupRequest
  | ConsumerHeartbeatRequest
  | OffsetCommitRequest
  | OffsetFetchRequest
  | TxnOffsetCommitRequest
  | TxnOffsetMarkerRequest;
