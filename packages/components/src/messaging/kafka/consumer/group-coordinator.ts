import { type Counter, type NetNode, type Reply, RpcEndpoint, type RpcRequest } from '@dsim/core';
import type { TopicPartition } from '../assignors/types.js';
import {
  ClassicGroup,
  type ClassicGroupState,
  type GroupHost,
  type RebalanceRecord,
} from './classic-group.js';
import { ConsumerGroup } from './consumer-group.js';
import {
  type CoordinatorConfig,
  type GroupCoordinatorOptions,
  resolveCoordinatorConfig,
} from './coordinator-options.js';
import type {
  CommittedOffset,
  GroupErrorCode,
  GroupRequest,
  OffsetCommitRequest,
  TxnOffsetCommitRequest,
  TxnOffsetMarkerRequest,
} from './protocol.js';

/** Offsets a producer committed inside its open transaction. */
interface PendingTxnOffsets {
  readonly producerEpoch: number;
  readonly offsets: Map<string, number>;
}

/**
 * A group as {@link GroupCoordinator.describe} shows it (Kafka's DescribeGroups).
 *
 * @example
 * ```ts
 * coordinator.describe('g'); // { protocol: 'classic', state: 'stable', generation: 1, leader: 'c1-1', members: {...} }
 * ```
 */
export interface GroupDescription {
  readonly protocol: 'classic' | 'consumer';
  /** Classic state, or for KIP-848 `stable` / `reconciling`. */
  readonly state: ClassicGroupState | 'reconciling';
  /** Classic generation id, or KIP-848 group epoch. */
  readonly generation: number;
  readonly leader: string | null;
  /** Member id to assigned partitions (classic: from the last SyncGroup; KIP-848: the target). */
  readonly members: ReadonlyMap<string, readonly TopicPartition[]>;
  /** Static members: instance id to member id. */
  readonly staticMembers: ReadonlyMap<string, string>;
}

/**
 * Kafka's group coordinator on its own node (in Kafka it runs on the broker that leads the group's
 * `__consumer_offsets` partition): serves the classic protocol (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup; see {@link ClassicGroup} for the state machine), KIP-848's ConsumerGroupHeartbeat
 * (simplified, see {@link ConsumerGroup}), and OffsetCommit / OffsetFetch. Commits from a member of an
 * older generation are refused (ILLEGAL_GENERATION, what a consumer reports as CommitFailedException).
 * Committed offsets survive a crash of the coordinator's node (they live in `__consumer_offsets`);
 * group membership does not (members get UNKNOWN_MEMBER_ID and rejoin). Failover to another
 * coordinator is not modelled.
 *
 * Transactional offsets (KIP-98, KIP-447): TxnOffsetCommit from a transactional producer stores the
 * offsets as pending for its producer id; the transaction coordinator's marker applies them (COMMIT)
 * or drops them (ABORT). A TxnOffsetCommit from a producer epoch older than a marker already seen is
 * refused (PRODUCER_FENCED), and an OffsetFetch with `require_stable` (read_committed consumers) is
 * answered UNSTABLE_OFFSET_COMMIT while offsets of its partitions are pending.
 *
 * Metrics under the coordinator's address: counters `kafka.group.<group>.rebalances` and
 * `kafka.group.<group>.commits`. Traces (with tracing on): `@dsim.kafka.rebalance-start` and
 * `-end` (group, generation, members, protocol; reason / duration), `@dsim.kafka.member-joined`,
 * `-left`, `-expired`.
 *
 * @example
 * ```ts
 * const coordinator = new GroupCoordinator(net.addNode('gc'));
 * new KafkaConsumer(net.addNode('c1'), { groupId: 'g', topics: ['t'], coordinator: 'gc', source });
 * sim.run({ until: 60_000 });
 * coordinator.describe('g').members;
 * ```
 */
export class GroupCoordinator {
  readonly endpoint: RpcEndpoint<GroupRequest, unknown>;
  readonly config: CoordinatorConfig;
  private readonly classic = new Map<string, ClassicGroup>();
  private readonly consumer = new Map<string, ConsumerGroup>();
  private readonly offsets = new Map<string, Map<string, number>>();
  /** Group → producer id → offsets pending in its open transaction (they live in __consumer_offsets: they survive a crash). */
  private readonly pendingTxn = new Map<string, Map<number, PendingTxnOffsets>>();
  /** `<group>/<producer id>` → the newest producer epoch a marker carried. */
  private readonly txnEpochs = new Map<string, number>();
  private readonly counters = new Map<string, { rebalances: Counter; commits: Counter }>();
  private memberSeq = 0;
  private partitionCount: (topic: string) => number | undefined = () => undefined;

  /** @param options - see {@link GroupCoordinatorOptions}; unknown keys and bad values throw INVALID_ARGUMENT */
  constructor(
    readonly node: NetNode<any>,
    options: GroupCoordinatorOptions = {},
  ) {
    this.config = resolveCoordinatorConfig(options);
    this.endpoint = new RpcEndpoint<GroupRequest, unknown>(node);
    this.endpoint.serve((req, reply) => this.handle(req, reply));
    node.onCrash(() => {
      for (const g of this.classic.values()) g.reset();
      for (const g of this.consumer.values()) g.reset();
      this.classic.clear();
      this.consumer.clear();
    });
  }

  /** The coordinator's address. */
  get address(): string {
    return this.node.address;
  }

  /** KIP-848 groups compute assignments on the coordinator: it needs partition counts (from metadata). */
  usePartitionCounts(count: (topic: string) => number | undefined): this {
    this.partitionCount = count;
    return this;
  }

  /** The committed offset of a partition for a group (the next offset to consume), or null. */
  committed(groupId: string, topic: string, partition: number): number | null {
    return this.offsets.get(groupId)?.get(`${topic}-${partition}`) ?? null;
  }

  /** Partitions (`topic-partition`) with offsets pending in an open transaction, for a group. */
  pendingTransactionalOffsets(groupId: string): string[] {
    const out = new Set<string>();
    for (const p of this.pendingTxn.get(groupId)?.values() ?? [])
      for (const k of p.offsets.keys()) out.add(k);
    return [...out].sort();
  }

  /** Every rebalance of a group so far, oldest first. */
  rebalances(groupId: string): readonly RebalanceRecord[] {
    return this.classic.get(groupId)?.history ?? this.consumer.get(groupId)?.history ?? [];
  }

  /** A group's state, members and assignment, or null for an unknown group. */
  describe(groupId: string): GroupDescription | null {
    const c = this.classic.get(groupId);
    if (c !== undefined)
      return {
        protocol: 'classic',
        state: c.state,
        generation: c.generationId,
        leader: c.leaderId,
        members: c.assignment(),
        staticMembers: new Map(c.staticMembers),
      };
    const k = this.consumer.get(groupId);
    if (k === undefined) return null;
    const last = k.history.at(-1);
    return {
      protocol: 'consumer',
      state:
        last !== undefined && last.endedAt === null
          ? 'reconciling'
          : k.members.size === 0
            ? 'empty'
            : 'stable',
      generation: k.groupEpoch,
      leader: null,
      members: k.assignment(),
      staticMembers: new Map(k.staticMembers),
    };
  }

  private host(groupId: string): GroupHost {
    const sim = this.node.network.sim;
    return {
      config: this.config,
      now: () => sim.now,
      setTimer: (ms, fn) => this.node.setTimer(ms, fn),
      trace: (type, fields) => {
        if (sim.tracing) sim.emit(type, fields);
      },
      nextMemberId: (clientId) => `${clientId}-${String(++this.memberSeq).padStart(4, '0')}`,
      onRebalanceStart: () => this.meters(groupId).rebalances.inc(),
    };
  }

  private meters(groupId: string): { rebalances: Counter; commits: Counter } {
    let m = this.counters.get(groupId);
    if (m === undefined) {
      const metrics = this.node.network.sim.metrics;
      m = {
        rebalances: metrics.counter(this.address, `kafka.group.${groupId}.rebalances`),
        commits: metrics.counter(this.address, `kafka.group.${groupId}.commits`),
      };
      this.counters.set(groupId, m);
    }
    return m;
  }

  private classicGroup(groupId: string): ClassicGroup {
    let g = this.classic.get(groupId);
    if (g === undefined) {
      g = new ClassicGroup(groupId, this.host(groupId));
      this.classic.set(groupId, g);
    }
    return g;
  }

  private handle(req: RpcRequest<GroupRequest>, reply: Reply<unknown>): void {
    const body = req.payload;
    switch (body.api) {
      case 'join-group':
        if (this.consumer.has(body.groupId)) {
          reply.ok({ error: 'inconsistent-group-protocol' });
          return;
        }
        {
          this.classicGroup(body.groupId).join(body, reply);
          return;
        }
      case 'sync-group': {
        this.classicGroup(body.groupId).sync(body, reply);
        return;
      }
      case 'heartbeat': {
        const g = this.classic.get(body.groupId);
        reply.ok({ error: g === undefined ? 'unknown-member-id' : g.heartbeat(body) }, { size: 16 });
        return;
      }
      case 'leave-group': {
        const g = this.classic.get(body.groupId);
        if (g !== undefined) {
          reply.ok({ error: g.leave(body.memberId, body.reason) });
          return;
        }
        reply.ok({ error: 'unknown-member-id' });
        return;
      }
      case 'consumer-heartbeat': {
        if (this.classic.has(body.groupId) && this.classic.get(body.groupId)!.members.size > 0) {
          reply.ok({
            error: 'inconsistent-group-protocol',
            memberId: body.memberId,
            memberEpoch: -1,
            heartbeatIntervalMs: this.config.consumerHeartbeatIntervalMs,
            assignment: null,
          });
          return;
        }
        let g = this.consumer.get(body.groupId);
        if (g === undefined) {
          g = new ConsumerGroup(body.groupId, this.host(body.groupId), this.partitionCount);
          this.consumer.set(body.groupId, g);
        }
        reply.ok(g.heartbeat(body), { size: 64 });
        return;
      }
      case 'offset-commit': {
        reply.ok({ error: this.commit(body) }, { size: 16 });
        return;
      }
      case 'txn-offset-commit': {
        reply.ok({ error: this.txnCommit(body) }, { size: 16 });
        return;
      }
      case 'txn-offset-marker': {
        this.txnMarker(body);
        reply.ok({ error: null }, { size: 16 });
        return;
      }
      case 'offset-fetch': {
        if (body.requireStable === true) {
          const pending = new Set(this.pendingTransactionalOffsets(body.groupId));
          if (body.partitions.some((p) => pending.has(`${p.topic}-${p.partition}`))) {
            reply.ok({ offsets: [], error: 'unstable-offset-commit' }, { size: 16 });
            return;
          }
        }
        const stored = this.offsets.get(body.groupId);
        const offsets: CommittedOffset[] = body.partitions.map((p) => ({
          topic: p.topic,
          partition: p.partition,
          offset: stored?.get(`${p.topic}-${p.partition}`) ?? -1,
        }));
        reply.ok({ offsets }, { size: 16 + 12 * offsets.length });
        return;
      }
    }
  }

  private txnCommit(req: TxnOffsetCommitRequest): GroupErrorCode | null {
    if (req.memberId !== '') {
      const error = this.validateMember(req.groupId, req.memberId, req.generationId);
      if (error !== null) return error;
    }
    if (req.producerEpoch < (this.txnEpochs.get(`${req.groupId}/${req.producerId}`) ?? -1))
      return 'producer-fenced';
    let group = this.pendingTxn.get(req.groupId);
    if (group === undefined) {
      group = new Map();
      this.pendingTxn.set(req.groupId, group);
    }
    let pending = group.get(req.producerId);
    if (pending === undefined || pending.producerEpoch !== req.producerEpoch) {
      pending = { producerEpoch: req.producerEpoch, offsets: new Map() };
      group.set(req.producerId, pending);
    }
    for (const o of req.offsets) pending.offsets.set(`${o.topic}-${o.partition}`, o.offset);
    return null;
  }

  private txnMarker(req: TxnOffsetMarkerRequest): void {
    const key = `${req.groupId}/${req.producerId}`;
    this.txnEpochs.set(key, Math.max(this.txnEpochs.get(key) ?? -1, req.producerEpoch));
    const group = this.pendingTxn.get(req.groupId);
    const pending = group?.get(req.producerId);
    if (pending === undefined || pending.producerEpoch > req.producerEpoch) return;
    group!.delete(req.producerId);
    if (req.result !== 'commit') return;
    let stored = this.offsets.get(req.groupId);
    if (stored === undefined) {
      stored = new Map();
      this.offsets.set(req.groupId, stored);
    }
    for (const [tp, offset] of pending.offsets) stored.set(tp, offset);
    this.meters(req.groupId).commits.inc();
  }

  private validateMember(groupId: string, memberId: string, generationId: number): GroupErrorCode | null {
    const classic = this.classic.get(groupId);
    const consumer = this.consumer.get(groupId);
    if (classic !== undefined) return classic.validateCommit(memberId, generationId);
    if (consumer !== undefined) {
      const m = consumer.members.get(memberId);
      return m === undefined ? 'unknown-member-id' : generationId > m.epoch ? 'fenced-member-epoch' : null;
    }
    return 'unknown-member-id';
  }

  private commit(req: OffsetCommitRequest): GroupErrorCode | null {
    const classic = this.classic.get(req.groupId);
    const consumer = this.consumer.get(req.groupId);
    let error: GroupErrorCode | null = null;
    if (classic !== undefined) error = classic.validateCommit(req.memberId, req.generationId);
    else if (consumer !== undefined) {
      // KIP-848: the member epoch must be the member's current one.
      const m = consumer.members.get(req.memberId);
      error =
        m === undefined ? 'unknown-member-id' : req.generationId > m.epoch ? 'fenced-member-epoch' : null;
    } else if (req.memberId !== '') error = 'unknown-member-id';
    if (error !== null) return error;
    let stored = this.offsets.get(req.groupId);
    if (stored === undefined) {
      stored = new Map();
      this.offsets.set(req.groupId, stored);
    }
    for (const o of req.offsets) stored.set(`${o.topic}-${o.partition}`, o.offset);
    this.meters(req.groupId).commits.inc();
    return null;
  }
}
