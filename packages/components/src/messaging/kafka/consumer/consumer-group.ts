import type { NodeTimer } from '@dsim/core';
import { rangeAssign } from '../assignors/range.js';
import { stickyAssign } from '../assignors/sticky.js';
import type { TopicPartition } from '../assignors/types.js';
import type { GroupHost, RebalanceRecord } from './classic-group.js';
import type { ConsumerHeartbeatRequest, ConsumerHeartbeatResponse } from './protocol.js';

interface Member {
  memberId: string;
  readonly instanceId: string | null;
  topics: readonly string[];
  /** What the member last reported owning. */
  owned: readonly TopicPartition[];
  /** What the coordinator last told it it may own (it may not have applied it yet). */
  current: readonly TopicPartition[];
  epoch: number;
  session: NodeTimer | null;
}

const k = (p: TopicPartition): string => `${p.topic}\u0000${p.partition}`;

/**
 * A consumer group on KIP-848's protocol (`group.protocol=consumer`), simplified. There is no global
 * barrier: a membership or subscription change bumps the group epoch and the coordinator computes a new
 * target assignment with its own assignor (`uniform`: sticky w.r.t. the current target; `range`). Each
 * member is then reconciled through its heartbeats: while it owns partitions outside its target it is
 * told to keep only (owned ∩ target), i.e. revoke first; once it owns nothing outside its target it is
 * given the target partitions that no other member still reports owning, and when it owns its whole
 * target its member epoch catches up with the group epoch. Partitions change owner only after the
 * previous owner acknowledged the revocation in a heartbeat.
 *
 * Simplified: no assignment epochs per partition (ownership comes from members' reported owned
 * partitions), no rebalance timeout for a member that never revokes (its session timeout applies), a
 * static member leaving (epoch -2) is kept until its session expires, regex subscriptions, racks and
 * client-side assignors are not modelled.
 * @internal
 */
export class ConsumerGroup {
  groupEpoch = 0;
  readonly members = new Map<string, Member>();
  readonly staticMembers = new Map<string, string>();
  readonly history: RebalanceRecord[] = [];
  private target = new Map<string, readonly TopicPartition[]>();

  constructor(
    readonly groupId: string,
    private readonly host: GroupHost,
    private readonly partitionCount: (topic: string) => number | undefined,
  ) {}

  heartbeat(req: ConsumerHeartbeatRequest): ConsumerHeartbeatResponse {
    const cfg = this.host.config;
    const answer = (
      member: Member,
      assignment: readonly TopicPartition[] | null,
    ): ConsumerHeartbeatResponse => ({
      error: null,
      memberId: member.memberId,
      memberEpoch: member.epoch,
      heartbeatIntervalMs: cfg.consumerHeartbeatIntervalMs,
      assignment,
    });
    const fail = (error: 'unknown-member-id' | 'fenced-member-epoch'): ConsumerHeartbeatResponse => ({
      error,
      memberId: req.memberId,
      memberEpoch: -1,
      heartbeatIntervalMs: cfg.consumerHeartbeatIntervalMs,
      assignment: null,
    });
    if (req.memberEpoch === 0 && !this.members.has(req.memberId)) {
      const known = req.groupInstanceId === null ? undefined : this.staticMembers.get(req.groupInstanceId);
      const old = known === undefined ? undefined : this.members.get(known);
      const memberId = this.host.nextMemberId(req.clientId);
      const member: Member = {
        memberId,
        instanceId: req.groupInstanceId,
        topics: req.topics,
        owned: [],
        current: [],
        epoch: 0,
        session: null,
      };
      if (old !== undefined) {
        // A static member back under a new id takes over its predecessor's target: no new group epoch.
        old.session?.cancel();
        this.members.delete(old.memberId);
        const target = this.target.get(old.memberId) ?? [];
        this.target.delete(old.memberId);
        this.members.set(memberId, member);
        this.target.set(memberId, target);
        this.staticMembers.set(req.groupInstanceId!, memberId);
        member.epoch = this.groupEpoch;
        if (!sameTopics(old.topics, req.topics))
          this.bump(`static member ${req.groupInstanceId} changed its subscription`);
      } else {
        this.members.set(memberId, member);
        if (req.groupInstanceId !== null) this.staticMembers.set(req.groupInstanceId, memberId);
        this.host.trace('@dsim.kafka.member-joined', {
          group: this.groupId,
          member: memberId,
          instance: req.groupInstanceId,
        });
        this.bump(`new member ${memberId} joined`);
      }
      this.arm(member);
      return answer(member, this.reconcile(member));
    }
    const member = this.members.get(req.memberId);
    if (member === undefined) return fail('unknown-member-id');
    if (req.memberEpoch < 0) {
      this.host.trace('@dsim.kafka.member-left', {
        group: this.groupId,
        member: member.memberId,
        reason: 'leave',
      });
      if (req.memberEpoch === -1) this.remove(member, `member ${member.memberId} left`);
      return answer(member, null);
    }
    if (req.memberEpoch > member.epoch || req.memberEpoch < member.epoch - 1)
      return fail('fenced-member-epoch');
    this.arm(member);
    member.owned = req.owned;
    if (!sameTopics(member.topics, req.topics)) {
      member.topics = req.topics;
      this.bump(`member ${member.memberId} changed its subscription`);
    }
    const assignment = this.reconcile(member);
    this.maybeEnd();
    return answer(member, assignment);
  }

  /** Every member's target assignment. */
  assignment(): Map<string, readonly TopicPartition[]> {
    return new Map([...this.members.keys()].map((id) => [id, this.target.get(id) ?? []]));
  }

  reset(): void {
    for (const m of this.members.values()) m.session?.cancel();
    this.members.clear();
    this.staticMembers.clear();
    this.target.clear();
  }

  private reconcile(member: Member): readonly TopicPartition[] {
    const target = this.target.get(member.memberId) ?? [];
    const mine = new Set(target.map(k));
    const keep = member.owned.filter((p) => mine.has(k(p)));
    if (keep.length < member.owned.length) {
      member.current = keep; // revoke first
      return keep;
    }
    // A partition is held by a member from when it is sent to it until it reports no longer owning it.
    const elsewhere = new Set<string>();
    for (const m of this.members.values()) {
      if (m === member) continue;
      for (const p of m.owned) elsewhere.add(k(p));
      for (const p of m.current) elsewhere.add(k(p));
    }
    const owned = new Set(member.owned.map(k));
    const next = target.filter((p) => owned.has(k(p)) || !elsewhere.has(k(p)));
    // Nothing left to revoke: the member moves to the group epoch and waits for unreleased partitions.
    member.epoch = this.groupEpoch;
    member.current = next;
    return next;
  }

  private bump(reason: string): void {
    this.groupEpoch++;
    const previous = this.target;
    const members = [...this.members.values()].map((m) => ({
      id: m.memberId,
      topics: m.topics,
      owned: previous.get(m.memberId) ?? [],
    }));
    const topics: Record<string, number> = {};
    for (const m of this.members.values()) for (const t of m.topics) topics[t] = this.partitionCount(t) ?? 1;
    const input = { members, topics };
    this.target = new Map(
      this.host.config.consumerAssignor === 'range'
        ? rangeAssign(input)
        : // The uniform assignor keeps each member's partitions up to its quota (the constrained algorithm).
          stickyAssign(input, { algorithm: 'auto' }),
    );
    const last = this.history.at(-1);
    if (last !== undefined && last.endedAt === null) {
      last.generation = this.groupEpoch;
      last.members = [...this.members.keys()];
    } else {
      this.history.push({
        generation: this.groupEpoch,
        reason,
        startedAt: this.host.now(),
        endedAt: null,
        members: [...this.members.keys()],
      });
      this.host.onRebalanceStart();
    }
    this.host.trace('@dsim.kafka.rebalance-start', {
      group: this.groupId,
      generation: this.groupEpoch,
      members: [...this.members.keys()],
      protocol: 'consumer',
      reason,
    });
    this.maybeEnd();
  }

  /** The rebalance ends when every member owns exactly its target. */
  private maybeEnd(): void {
    const last = this.history.at(-1);
    if (last === undefined || last.endedAt !== null) return;
    for (const m of this.members.values()) {
      const target = this.target.get(m.memberId) ?? [];
      const owned = new Set(m.owned.map(k));
      if (
        m.epoch !== this.groupEpoch ||
        m.owned.length !== target.length ||
        !target.every((p) => owned.has(k(p)))
      )
        return;
    }
    last.endedAt = this.host.now();
    this.host.trace('@dsim.kafka.rebalance-end', {
      group: this.groupId,
      generation: this.groupEpoch,
      members: [...this.members.keys()],
      protocol: 'consumer',
      duration: last.endedAt - last.startedAt,
    });
  }

  private remove(member: Member, reason: string): void {
    member.session?.cancel();
    this.members.delete(member.memberId);
    this.target.delete(member.memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === member.memberId)
      this.staticMembers.delete(member.instanceId);
    if (this.members.size > 0) this.bump(reason);
    else {
      this.groupEpoch++;
      const last = this.history.at(-1);
      if (last !== undefined && last.endedAt === null) last.endedAt = this.host.now();
    }
  }

  private arm(member: Member): void {
    member.session?.cancel();
    member.session = this.host.setTimer(this.host.config.consumerSessionTimeoutMs, () => {
      if (this.members.get(member.memberId) !== member) return;
      this.host.trace('@dsim.kafka.member-expired', {
        group: this.groupId,
        member: member.memberId,
        reason: 'session timeout',
      });
      this.remove(member, `member ${member.memberId} session expired`);
    });
  }
}

function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');
}
