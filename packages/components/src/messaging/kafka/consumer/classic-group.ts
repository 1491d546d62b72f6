import type { NodeTimer, Reply } from '@dsim/core';
import type { TopicPartition } from '../assignors/types.js';
import type { CoordinatorConfig } from './coordinator-options.js';
import type {
  GroupErrorCode,
  HeartbeatRequest,
  JoinedMember,
  JoinGroupRequest,
  JoinGroupResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from './protocol.js';

/**
 * Classic group states (Kafka's `ClassicGroupState`; Dead is not modelled).
 *
 * @example
 * ```ts
 * coordinator.describe('g')?.state === 'stable';
 * ```
 */
export type ClassicGroupState = 'empty' | 'preparing-rebalance' | 'completing-rebalance' | 'stable';

/**
 * One rebalance of a group as the coordinator saw it: from the move to PreparingRebalance to the
 * leader's SyncGroup (or, for KIP-848, from a new group epoch to every member reconciled).
 *
 * @example
 * ```ts
 * const r = coordinator.rebalances('g').at(-1)!; // { generation: 2, startedAt, endedAt, reason, members }
 * ```
 */
export interface RebalanceRecord {
  generation: number;
  readonly reason: string;
  readonly startedAt: number;
  /** When the group became stable again; null while in progress. */
  endedAt: number | null;
  /** Members of the new generation. */
  members: readonly string[];
}

/** Host services a group needs from its coordinator. @internal */
export interface GroupHost {
  readonly config: CoordinatorConfig;
  now(): number;
  setTimer(ms: number, fn: () => void): NodeTimer;
  trace(type: string, fields: Record<string, unknown>): void;
  nextMemberId(clientId: string): string;
  onRebalanceStart(): void;
}

interface Member {
  memberId: string;
  readonly instanceId: string | null;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  topics: readonly string[];
  owned: readonly TopicPartition[];
  assignment: readonly TopicPartition[];
  joinReply: Reply<JoinGroupResponse> | null;
  syncReply: Reply<SyncGroupResponse> | null;
  session: NodeTimer | null;
}

const sameTopics = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');
const sameTps = (a: readonly TopicPartition[], b: readonly TopicPartition[]): boolean =>
  a.length === b.length && a.every((p, i) => p.topic === b[i]!.topic && p.partition === b[i]!.partition);

/**
 * A consumer group on the classic protocol, Kafka's `ClassicGroup` with the coordinator's join, sync,
 * heartbeat and leave handling (`GroupMetadataManager`): a rebalance moves the group to
 * PreparingRebalance and waits until every known member has rejoined or the rebalance timeout (the
 * largest `max.poll.interval.ms`) expires, removing those that did not; an empty group's first
 * rebalance waits `group.initial.rebalance.delay.ms`, extended by each new member. The join completes
 * with a new generation, the leader (the first member to join, kept while it stays) is sent every
 * member's subscription and owned partitions, and SyncGroup hands out what it assigned. Heartbeats
 * answer REBALANCE_IN_PROGRESS while preparing; a member silent for its `session.timeout.ms` is
 * removed. A static member (`group.instance.id`) rejoining a stable group with the same subscription
 * replaces its old member id and keeps its assignment, with no rebalance.
 *
 * Not modelled: MEMBER_ID_REQUIRED (KIP-394's extra round trip), protocol negotiation among several
 * assignors per member, the Dead state, KIP-814's skip-assignment for a static leader that changes
 * its subscription.
 * @internal
 */
export class ClassicGroup {
  state: ClassicGroupState = 'empty';
  generationId = 0;
  protocol: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  readonly staticMembers = new Map<string, string>();
  readonly history: RebalanceRecord[] = [];
  private joinTimer: NodeTimer | null = null;
  private initialDelay = false;
  private newMemberAdded = false;

  constructor(
    readonly groupId: string,
    private readonly host: GroupHost,
  ) {}

  /** Rebalances completed or under way. */
  get rebalances(): number {
    return this.history.length;
  }

  join(req: JoinGroupRequest, reply: Reply<JoinGroupResponse>): void {
    const fail = (error: GroupErrorCode): void =>
      reply.ok({
        error,
        generationId: -1,
        protocol: '',
        leaderId: '',
        memberId: req.memberId,
        members: [],
        skipAssignment: false,
      });
    const cfg = this.host.config;
    if (req.sessionTimeoutMs < cfg.minSessionTimeoutMs || req.sessionTimeoutMs > cfg.maxSessionTimeoutMs) {
      fail('invalid-session-timeout');
      return;
    }
    if (this.members.size > 0 && this.protocol !== req.protocol) {
      fail('inconsistent-group-protocol');
      return;
    }
    if (req.memberId === '') {
      const knownId = req.groupInstanceId === null ? undefined : this.staticMembers.get(req.groupInstanceId);
      if (knownId !== undefined) {
        this.rejoinStatic(this.members.get(knownId)!, req, reply);
        return;
      }
      const member: Member = {
        memberId: this.host.nextMemberId(req.clientId),
        instanceId: req.groupInstanceId,
        clientId: req.clientId,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        topics: req.topics,
        owned: req.owned,
        assignment: [],
        joinReply: reply,
        syncReply: null,
        session: null,
      };
      this.members.set(member.memberId, member);
      if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
      if (this.leaderId === null) this.leaderId = member.memberId;
      this.protocol = req.protocol;
      this.newMemberAdded = true;
      this.host.trace('@dsim.kafka.member-joined', {
        group: this.groupId,
        member: member.memberId,
        instance: member.instanceId,
      });
      this.prepareRebalance(`new member ${member.memberId} joined`);
      this.tryCompleteJoin();
      return;
    }
    const member = this.members.get(req.memberId);
    if (member === undefined) {
      fail('unknown-member-id');
      return;
    }
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) !== member.memberId) {
      fail('fenced-instance-id');
      return;
    }
    const changed = !sameTopics(member.topics, req.topics) || !sameTps(member.owned, req.owned);
    member.topics = req.topics;
    member.owned = req.owned;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    this.cancelSession(member);
    member.joinReply?.ok({
      error: 'unknown-member-id',
      generationId: -1,
      protocol: '',
      leaderId: '',
      memberId: member.memberId,
      members: [],
      skipAssignment: false,
    });
    member.joinReply = reply;
    if (this.state === 'preparing-rebalance') {
      this.tryCompleteJoin();
      return;
    }
    if (this.state === 'completing-rebalance' && !changed) {
      // A retried join: answer with the current generation.
      this.answerJoin(member);
      return;
    }
    if (this.state === 'stable' && !changed && member.memberId !== this.leaderId) {
      this.answerJoin(member);
      return;
    }
    this.prepareRebalance(`member ${member.memberId} rejoined${changed ? ' with new metadata' : ''}`);
    this.tryCompleteJoin();
  }

  sync(req: SyncGroupRequest, reply: Reply<SyncGroupResponse>): void {
    const member = this.members.get(req.memberId);
    if (member === undefined) {
      reply.ok({ error: 'unknown-member-id', assignment: [] });
      return;
    }
    if (req.generationId !== this.generationId) {
      reply.ok({ error: 'illegal-generation', assignment: [] });
      return;
    }
    this.armSession(member);
    if (this.state === 'preparing-rebalance' || this.state === 'empty') {
      reply.ok({ error: 'rebalance-in-progress', assignment: [] });
      return;
    }
    if (this.state === 'stable') {
      reply.ok({ error: null, assignment: member.assignment });
      return;
    }
    member.syncReply = reply;
    if (member.memberId !== this.leaderId || req.assignments === null) return;
    for (const m of this.members.values()) m.assignment = req.assignments[m.memberId] ?? [];
    this.state = 'stable';
    const record = this.history.at(-1);
    if (record !== undefined && record.endedAt === null) record.endedAt = this.host.now();
    this.host.trace('@dsim.kafka.rebalance-end', {
      group: this.groupId,
      generation: this.generationId,
      members: [...this.members.keys()],
      protocol: this.protocol,
      duration: record === undefined ? 0 : this.host.now() - record.startedAt,
    });
    for (const m of this.members.values()) {
      m.syncReply?.ok({ error: null, assignment: m.assignment }, { size: 32 + 8 * m.assignment.length });
      m.syncReply = null;
    }
  }

  heartbeat(req: HeartbeatRequest): GroupErrorCode | null {
    const member = this.members.get(req.memberId);
    if (member === undefined) return 'unknown-member-id';
    if (req.generationId !== this.generationId) return 'illegal-generation';
    if (member.joinReply === null) this.armSession(member);
    return this.state === 'preparing-rebalance' ? 'rebalance-in-progress' : null;
  }

  leave(memberId: string, reason: string): GroupErrorCode | null {
    const member = this.members.get(memberId);
    if (member === undefined) return 'unknown-member-id';
    this.host.trace('@dsim.kafka.member-left', { group: this.groupId, member: memberId, reason });
    this.remove(member, `member ${memberId} left (${reason})`);
    return null;
  }

  /** Whether a commit from this member and generation is accepted (ClassicGroup.validateOffsetCommit). */
  validateCommit(memberId: string, generationId: number): GroupErrorCode | null {
    if (memberId === '' && generationId < 0) return this.members.size === 0 ? null : 'unknown-member-id';
    const member = this.members.get(memberId);
    if (member === undefined) return 'unknown-member-id';
    if (generationId !== this.generationId) return 'illegal-generation';
    if (this.state === 'completing-rebalance') return 'rebalance-in-progress';
    if (member.joinReply === null) this.armSession(member);
    return null;
  }

  /** Every member's current assignment, in member order. */
  assignment(): Map<string, readonly TopicPartition[]> {
    return new Map([...this.members.values()].map((m) => [m.memberId, m.assignment]));
  }

  /** Drops all state (the coordinator crashed): pending requests are abandoned. */
  reset(): void {
    for (const m of this.members.values()) this.cancelSession(m);
    this.joinTimer?.cancel();
    this.members.clear();
    this.staticMembers.clear();
    this.state = 'empty';
    this.leaderId = null;
  }

  private rejoinStatic(old: Member, req: JoinGroupRequest, reply: Reply<JoinGroupResponse>): void {
    const oldId = old.memberId;
    const newId = this.host.nextMemberId(req.clientId);
    this.cancelSession(old);
    old.joinReply?.ok({
      error: 'fenced-instance-id',
      generationId: -1,
      protocol: '',
      leaderId: '',
      memberId: oldId,
      members: [],
      skipAssignment: false,
    });
    old.syncReply?.ok({ error: 'fenced-instance-id', assignment: [] });
    old.joinReply = null;
    old.syncReply = null;
    this.members.delete(oldId);
    const unchanged = sameTopics(old.topics, req.topics);
    old.memberId = newId;
    old.clientId = req.clientId;
    old.topics = req.topics;
    old.owned = req.owned;
    old.sessionTimeoutMs = req.sessionTimeoutMs;
    old.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    this.members.set(newId, old);
    this.staticMembers.set(old.instanceId!, newId);
    if (this.leaderId === oldId) this.leaderId = newId;
    this.host.trace('@dsim.kafka.member-joined', {
      group: this.groupId,
      member: newId,
      instance: old.instanceId,
      replaced: oldId,
    });
    old.joinReply = reply;
    if (this.state === 'stable' && unchanged) {
      // KIP-345: same instance, same subscription: the old assignment, no rebalance.
      this.answerJoin(old, true);
      return;
    }
    if (this.state !== 'preparing-rebalance')
      this.prepareRebalance(`static member ${old.instanceId} rejoined`);
    this.tryCompleteJoin();
  }

  private answerJoin(member: Member, skipAssignment = false): void {
    const leader = member.memberId === this.leaderId;
    member.joinReply?.ok(
      {
        error: null,
        generationId: this.generationId,
        protocol: this.protocol ?? '',
        leaderId: this.leaderId ?? '',
        memberId: member.memberId,
        members: leader && !skipAssignment ? this.joinedMembers() : [],
        skipAssignment,
      },
      { size: 64 },
    );
    member.joinReply = null;
    this.armSession(member);
  }

  private joinedMembers(): JoinedMember[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.instanceId,
      topics: m.topics,
      owned: m.owned,
    }));
  }

  private prepareRebalance(reason: string): void {
    if (this.state === 'preparing-rebalance') return;
    if (this.state === 'completing-rebalance') {
      for (const m of this.members.values()) {
        m.syncReply?.ok({ error: 'rebalance-in-progress', assignment: [] });
        m.syncReply = null;
      }
    }
    const wasEmpty = this.state === 'empty';
    this.state = 'preparing-rebalance';
    const record: RebalanceRecord = {
      generation: this.generationId + 1,
      reason,
      startedAt: this.host.now(),
      endedAt: null,
      members: [],
    };
    const last = this.history.at(-1);
    // A rebalance restarted before the previous one ended is the same episode.
    if (last !== undefined && last.endedAt === null) last.generation = record.generation;
    else {
      this.history.push(record);
      this.host.onRebalanceStart();
    }
    this.host.trace('@dsim.kafka.rebalance-start', {
      group: this.groupId,
      generation: this.generationId + 1,
      members: [...this.members.keys()],
      protocol: this.protocol,
      reason,
    });
    this.joinTimer?.cancel();
    const timeout = this.rebalanceTimeout();
    if (wasEmpty && this.host.config.initialRebalanceDelayMs > 0) {
      // InitialDelayedJoin: wait for more members, each new one extending the wait, up to the rebalance timeout.
      this.initialDelay = true;
      this.newMemberAdded = false;
      const delay = this.host.config.initialRebalanceDelayMs;
      const arm = (remaining: number): void => {
        const wait = Math.min(delay, remaining);
        this.joinTimer = this.host.setTimer(wait, () => {
          if (this.newMemberAdded && remaining - wait > 0) {
            this.newMemberAdded = false;
            arm(remaining - wait);
            return;
          }
          this.initialDelay = false;
          this.completeJoin();
        });
      };
      arm(timeout);
      return;
    }
    this.initialDelay = false;
    this.joinTimer = this.host.setTimer(timeout, () => this.completeJoin());
  }

  private rebalanceTimeout(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  private tryCompleteJoin(): void {
    if (this.state !== 'preparing-rebalance' || this.initialDelay) return;
    for (const m of this.members.values()) if (m.joinReply === null) return;
    this.completeJoin();
  }

  private completeJoin(): void {
    if (this.state !== 'preparing-rebalance') return;
    this.joinTimer?.cancel();
    this.joinTimer = null;
    // Members that did not rejoin within the rebalance timeout are removed (static ones too).
    for (const m of [...this.members.values()]) {
      if (m.joinReply !== null) continue;
      this.host.trace('@dsim.kafka.member-expired', {
        group: this.groupId,
        member: m.memberId,
        reason: 'did not rejoin within the rebalance timeout',
      });
      this.drop(m);
    }
    this.generationId++;
    const record = this.history.at(-1);
    if (this.members.size === 0) {
      this.state = 'empty';
      this.protocol = null;
      if (record !== undefined && record.endedAt === null) record.endedAt = this.host.now();
      return;
    }
    if (this.leaderId === null || !this.members.has(this.leaderId))
      this.leaderId = this.members.keys().next().value!;
    this.state = 'completing-rebalance';
    if (record !== undefined) {
      record.generation = this.generationId;
      record.members = [...this.members.keys()];
    }
    for (const m of this.members.values()) this.answerJoin(m);
  }

  private remove(member: Member, reason: string): void {
    member.joinReply?.ok({
      error: 'unknown-member-id',
      generationId: -1,
      protocol: '',
      leaderId: '',
      memberId: member.memberId,
      members: [],
      skipAssignment: false,
    });
    member.syncReply?.ok({ error: 'unknown-member-id', assignment: [] });
    this.drop(member);
    if (this.state === 'preparing-rebalance') {
      if (this.members.size === 0) this.completeJoin();
      else this.tryCompleteJoin();
      return;
    }
    if (this.members.size === 0) {
      this.state = 'empty';
      this.protocol = null;
      return;
    }
    this.prepareRebalance(reason);
    this.tryCompleteJoin();
  }

  private drop(member: Member): void {
    this.cancelSession(member);
    member.joinReply = null;
    member.syncReply = null;
    this.members.delete(member.memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === member.memberId)
      this.staticMembers.delete(member.instanceId);
    if (this.leaderId === member.memberId) this.leaderId = this.members.keys().next().value ?? null;
  }

  private armSession(member: Member): void {
    this.cancelSession(member);
    member.session = this.host.setTimer(member.sessionTimeoutMs, () => {
      member.session = null;
      if (this.members.get(member.memberId) !== member) return;
      this.host.trace('@dsim.kafka.member-expired', {
        group: this.groupId,
        member: member.memberId,
        reason: 'session timeout',
      });
      this.remove(member, `member ${member.memberId} session expired`);
    });
  }

  private cancelSession(member: Member): void {
    member.session?.cancel();
    member.session = null;
  }
}
