import { invalidOption } from '@dsim/core';
import { type StickyAssignOptions, stickyAssignPrepared } from './sticky.js';
import { type Assignment, type AssignorInput, formatTp, prepareInput, type TopicPartition } from './types.js';

/**
 * What one member does in a cooperative rebalance (KIP-429).
 *
 * @example
 * ```ts
 * const c0 = cooperativeRebalance(previous, target).members.get('C0')!;
 * c0.revoked; // give these up now; c0.deferred arrive in the follow-up rebalance
 * ```
 */
export interface CooperativeMemberPlan {
  /** Owned and still in the target: never revoked (in target order). */
  readonly kept: readonly TopicPartition[];
  /** Owned and not in the target: revoked in the first rebalance (in owned order). */
  readonly revoked: readonly TopicPartition[];
  /** In the target and owned by no other member: assigned in the first rebalance (in target order). */
  readonly assigned: readonly TopicPartition[];
  /** In the target but owned by another member, who must revoke it first: assigned in the follow-up rebalance. */
  readonly deferred: readonly TopicPartition[];
}

/**
 * The two rebalances of the cooperative protocol for one change of assignment: what each member keeps,
 * revokes and gets in the first, and what the follow-up rebalance (which the members that revoked something
 * trigger by rejoining) hands out.
 *
 * @example
 * ```ts
 * const plan = cooperativeRebalance(previous, target);
 * if (plan.needsFollowUp) formatAssignment(plan.followUp);
 * ```
 */
export interface CooperativeRebalance {
  /** Each member of the target, in its order. */
  readonly members: ReadonlyMap<string, CooperativeMemberPlan>;
  /** What each member owns after the first rebalance: the target without the deferred partitions (target order). */
  readonly first: Assignment;
  /** What the follow-up rebalance adds to each member (its `deferred`); empty lists when nothing. */
  readonly followUp: Assignment;
  /** Whether any partition changes owner, so a second rebalance is needed. */
  readonly needsFollowUp: boolean;
}

const key = (p: TopicPartition): string => `${p.topic}\u0000${p.partition}`;

function checkAssignment(component: string, field: string, value: unknown): asserts value is Assignment {
  if (!(value instanceof Map))
    throw invalidOption(component, field, value, 'an Assignment: a Map of member id to topic-partitions');
  for (const [id, list] of value) {
    if (!Array.isArray(list))
      throw invalidOption(component, `${field}.${String(id)}`, list, 'an array of topic-partitions');
    for (const p of list as unknown[]) {
      const tp = p as TopicPartition;
      if (
        typeof tp !== 'object' ||
        tp === null ||
        typeof tp.topic !== 'string' ||
        !Number.isSafeInteger(tp.partition)
      )
        throw invalidOption(component, `${field}.${String(id)}`, p, 'topic-partitions such as tp("t0", 1)');
    }
  }
}

/**
 * The cooperative (incremental) protocol of KIP-429, as `CooperativeStickyAssignor` applies it: a partition
 * that changes owner is not handed over in one step. In the first rebalance its old owner revokes it and
 * the new owner does not get it yet; once revoked, the old owner rejoins and the follow-up rebalance
 * assigns it. Partitions nobody owned (new partitions, those of members that left) are assigned at once,
 * and a member keeps consuming what it keeps throughout: no stop-the-world.
 *
 * `previous` is what each member owned; entries for members not in `target` are ignored (a member that
 * left owns nothing). A partition owned by several members is kept by the one the target gives it to, and
 * revoked by the others.
 *
 * @example
 * ```ts
 * const previous = new Map([['C0', [tp('t0', 0), tp('t0', 1)]]]);
 * const target = new Map([['C0', [tp('t0', 0)]], ['C1', [tp('t0', 1)]]]);
 * const plan = cooperativeRebalance(previous, target);
 * formatAssignment(plan.first);    // { C0: ['t0p0'], C1: [] }
 * formatAssignment(plan.followUp); // { C0: [], C1: ['t0p1'] }
 * ```
 */
export function cooperativeRebalance(previous: Assignment, target: Assignment): CooperativeRebalance {
  checkAssignment('cooperativeRebalance', 'previous', previous);
  checkAssignment('cooperativeRebalance', 'target', target);
  const targetOwner = new Map<string, string>();
  for (const [id, list] of target) {
    for (const p of list) {
      const k = key(p);
      if (targetOwner.has(k))
        throw invalidOption(
          'cooperativeRebalance',
          'target',
          formatTp(p),
          `an assignment giving each partition to one member (given to ${targetOwner.get(k)} and ${id})`,
        );
      targetOwner.set(k, id);
    }
  }
  // CooperativeStickyAssignor.computePartitionsTransferringOwnership: added to one member and revoked by another.
  const revokedByAny = new Set<string>();
  const ownedBy = new Map<string, ReadonlySet<string>>();
  for (const id of target.keys()) {
    const owned = new Set((previous.get(id) ?? []).map(key));
    ownedBy.set(id, owned);
    for (const k of owned) if (targetOwner.get(k) !== id) revokedByAny.add(k);
  }
  const members = new Map<string, CooperativeMemberPlan>();
  const first = new Map<string, TopicPartition[]>();
  const followUp = new Map<string, TopicPartition[]>();
  let needsFollowUp = false;
  for (const [id, list] of target) {
    const owned = ownedBy.get(id)!;
    const mine = new Set(list.map(key));
    const kept: TopicPartition[] = [];
    const assigned: TopicPartition[] = [];
    const deferred: TopicPartition[] = [];
    for (const p of list) {
      const k = key(p);
      if (owned.has(k)) kept.push(p);
      else if (revokedByAny.has(k)) deferred.push(p);
      else assigned.push(p);
    }
    const revoked = (previous.get(id) ?? []).filter((p) => !mine.has(key(p)));
    if (deferred.length > 0) needsFollowUp = true;
    members.set(id, { kept, revoked, assigned, deferred });
    first.set(
      id,
      list.filter((p) => !deferred.includes(p)),
    );
    followUp.set(id, deferred);
  }
  return { members, first, followUp, needsFollowUp };
}

/**
 * Kafka's `CooperativeStickyAssignor` (`partition.assignment.strategy=cooperative-sticky`, the consumer's
 * preferred assignor since 3.0): the target is {@link stickyAssign}'s, but the result of one rebalance
 * leaves out every partition still owned by another member ({@link cooperativeRebalance}'s `first`). The
 * next rebalance, with the revoked partitions no longer owned, assigns them.
 *
 * @param options - as for {@link stickyAssign} @default {}
 * @example
 * ```ts
 * // C2 joins a group where C0 and C1 own everything: C2 gets nothing in the first rebalance...
 * const first = cooperativeStickyAssign({
 *   members: [
 *     { id: 'C0', topics: ['t0'], owned: [tp('t0', 0), tp('t0', 1)] },
 *     { id: 'C1', topics: ['t0'], owned: [tp('t0', 2), tp('t0', 3)] },
 *     { id: 'C2', topics: ['t0'] },
 *   ],
 *   topics: { t0: 4 },
 * });
 * formatAssignment(first); // { C0: ['t0p1'], C1: ['t0p2', 't0p3'], C2: [] }: C0 revokes t0p0,
 * // ...and the next one, C0 owning only t0p1, gives t0p0 to C2.
 * ```
 */
export function cooperativeStickyAssign(input: AssignorInput, options: StickyAssignOptions = {}): Assignment {
  return plan('cooperativeStickyAssign', input, options).first;
}

/**
 * The sticky target for `input` and the cooperative plan to reach it from the members' `owned` partitions:
 * {@link cooperativeRebalance}(owned, {@link stickyAssign}(input)).
 *
 * @param options - as for {@link stickyAssign} @default {}
 * @example
 * ```ts
 * const plan = cooperativeStickyPlan(input);
 * plan.members.get('C1')!.revoked; // what C1 gives up in the first rebalance
 * ```
 */
export function cooperativeStickyPlan(
  input: AssignorInput,
  options: StickyAssignOptions = {},
): CooperativeRebalance & { readonly target: Assignment } {
  return plan('cooperativeStickyPlan', input, options);
}

function plan(
  component: string,
  input: AssignorInput,
  options: StickyAssignOptions,
): CooperativeRebalance & { readonly target: Assignment } {
  const prepared = prepareInput(component, input);
  const target = stickyAssignPrepared(component, prepared, options);
  return { ...cooperativeRebalance(prepared.ownedRaw, target), target };
}
