import { checkEnum, checkKeys, optionKeys } from '@dsim/core';
import {
  type Assignment,
  type AssignorInput,
  compareIds,
  emptyAssignment,
  type PreparedInput,
  prepareInput,
  type TopicPartition,
} from './types.js';

/**
 * The algorithms {@link stickyAssign} can run, in a stable order: `'general'` (AbstractStickyAssignor's
 * general builder, the KIP-54 algorithm) and `'auto'` (what Kafka >= 2.7 runs: the constrained builder of
 * KAFKA-9987 when every member subscribes to the same topics, the general one otherwise).
 *
 * @example
 * ```ts
 * for (const a of STICKY_ALGORITHMS) stickyAssign(input, { algorithm: a });
 * ```
 */
export const STICKY_ALGORITHMS = ['general', 'auto'] as const;

/** One of {@link STICKY_ALGORITHMS}. */
export type StickyAlgorithm = (typeof STICKY_ALGORITHMS)[number];

/**
 * Options of {@link stickyAssign} and the cooperative-sticky functions.
 *
 * @example
 * ```ts
 * const options: StickyAssignOptions = { algorithm: 'auto' };
 * ```
 */
export interface StickyAssignOptions {
  /**
   * `'general'` runs the general algorithm whatever the subscriptions: the one the StickyAssignor javadoc's
   * examples were worked out with. `'auto'` is Kafka >= 2.7: when all members subscribe to the same topics
   * it runs the constrained algorithm (KAFKA-9987; owned partitions sorted by partition then topic, as since
   * 3.8, KAFKA-16277), which is as balanced and keeps as many partitions but may move different ones (in
   * the javadoc's Example 1 it hands `t0p1` to C0 where the javadoc shows `t2p0`).
   * @default 'general'
   */
  readonly algorithm?: StickyAlgorithm;
}

const STICKY_KEYS = optionKeys<StickyAssignOptions>()({ algorithm: true });

/**
 * Kafka's `StickyAssignor` (`partition.assignment.strategy=sticky`, KIP-54): an assignment as balanced as
 * possible (counts differ by at most one, or no member 2+ below another could take one of its partitions),
 * which keeps as many of each member's `owned` partitions as balance allows. Kept partitions come first in
 * each list, in the order they were owned, then the new ones in the order they were handed out. Eager
 * protocol: every member gives up everything at the start of the rebalance; see
 * {@link cooperativeStickyAssign} for the incremental one.
 *
 * Faithful to `AbstractStickyAssignor`'s general builder (every step and tie-break), with Java's hash-map
 * iteration replaced by member-id order and its hash-set picks by insertion order; both only choose between
 * equally good moves. Not modelled: generations (every owned list is taken as current), rack awareness,
 * `group.instance.id`.
 *
 * @param options - see {@link StickyAssignOptions} @default {}
 * @example
 * ```ts
 * // The StickyAssignor javadoc's Example 1, after C1 leaves:
 * formatAssignment(stickyAssign({
 *   members: [
 *     { id: 'C0', topics: ['t0', 't1', 't2', 't3'], owned: ['t0p0', 't1p1', 't3p0'].map(parseTp) },
 *     { id: 'C2', topics: ['t0', 't1', 't2', 't3'], owned: ['t1p0', 't2p1'].map(parseTp) },
 *   ],
 *   topics: { t0: 2, t1: 2, t2: 2, t3: 2 },
 * })); // { C0: ['t0p0', 't1p1', 't3p0', 't2p0'], C2: ['t1p0', 't2p1', 't0p1', 't3p1'] }
 * ```
 */
export function stickyAssign(input: AssignorInput, options: StickyAssignOptions = {}): Assignment {
  return stickyAssignPrepared('stickyAssign', prepareInput('stickyAssign', input), options);
}

/**
 * {@link stickyAssign} on an input already checked, for the cooperative assignor.
 * @internal
 */
export function stickyAssignPrepared(
  component: string,
  input: PreparedInput,
  options: StickyAssignOptions,
): Map<string, TopicPartition[]> {
  checkKeys(component, options, STICKY_KEYS);
  const algorithm = checkEnum(component, 'algorithm', options.algorithm, STICKY_ALGORITHMS, 'general');
  if (input.members.length === 0) return new Map();
  if (algorithm === 'auto' && allSubscriptionsEqual(input)) return constrainedAssign(input);
  return generalAssign(input);
}

function allSubscriptionsEqual(input: PreparedInput): boolean {
  const first = input.subscriptions.get(input.members[0]!)!;
  for (const id of input.members) {
    const topics = input.subscriptions.get(id)!;
    if (topics.size !== first.size) return false;
    for (const topic of topics) if (!first.has(topic)) return false;
  }
  return true;
}

/** `t` is in the group's partitions: every topic of `partitions` has at least one. */
function partitionCount(input: PreparedInput, topic: string): number {
  return input.partitions.get(topic)!.length;
}

/**
 * The constrained builder (AbstractStickyAssignor.ConstrainedAssignmentBuilder, without racks): members keep
 * up to their quota of owned partitions (sorted by partition, then topic), then the rest are dealt round
 * robin to the members below quota.
 */
function constrainedAssign(input: PreparedInput): Map<string, TopicPartition[]> {
  const { members, partitions, owned } = input;
  let total = 0;
  for (const list of partitions.values()) total += list.length;
  const minQuota = Math.floor(total / members.length);
  const maxQuota = Math.ceil(total / members.length);
  const expectedOver = total % members.length;
  let currentOver = 0;
  const assignment = emptyAssignment(members);
  const assigned = new Set<TopicPartition>();
  const under: string[] = [];
  let exact: string[] = [];

  for (const id of members) {
    const mine = [...owned.get(id)!].sort(
      (a, b) => a.partition - b.partition || compareIds(a.topic, b.topic),
    );
    let keep: TopicPartition[];
    if (mine.length < minQuota) {
      keep = mine;
      under.push(id);
    } else if (mine.length >= maxQuota && currentOver < expectedOver) {
      currentOver++;
      if (currentOver === expectedOver) exact = [];
      keep = mine.slice(0, maxQuota);
    } else {
      keep = mine.slice(0, minQuota);
      if (currentOver < expectedOver) exact.push(id);
    }
    assignment.get(id)!.push(...keep);
    for (const p of keep) assigned.add(p);
  }
  under.sort(compareIds);
  exact.sort(compareIds);

  // Round robin over the members below minQuota (a Java iterator that restarts), then the ones at it.
  let next = 0;
  for (const list of partitions.values()) {
    for (const p of list) {
      if (assigned.has(p)) continue;
      let id: string;
      if (next < under.length) {
        id = under[next++]!;
      } else if (under.length === 0) {
        // Quotas add up to the partition count, so a member at minQuota is left whenever a partition is.
        id = exact.shift()!;
      } else {
        next = 0;
        id = under[next++]!;
      }
      const list2 = assignment.get(id)!;
      list2.push(p);
      if (list2.length === minQuota) {
        under.splice(--next, 1);
        exact.push(id);
      } else if (list2.length === maxQuota) {
        currentOver++;
      }
    }
  }
  return assignment;
}

/** A move of a partition from `src` to `dst` member. */
interface Move {
  readonly src: string;
  readonly dst: string;
}

const pairKey = (src: string, dst: string): string => `${src}\u0000${dst}`;

/**
 * AbstractStickyAssignor.PartitionMovements: where partitions moved during this rebalance, so that moving a
 * partition back and forth between two members moves the one that came from there instead (stickiness).
 */
class PartitionMovements {
  private readonly byPartition = new Map<TopicPartition, Move>();
  private readonly byTopic = new Map<string, Map<string, Set<TopicPartition>>>();

  private remove(p: TopicPartition): Move {
    const move = this.byPartition.get(p)!;
    this.byPartition.delete(p);
    const topicMoves = this.byTopic.get(p.topic)!;
    const key = pairKey(move.src, move.dst);
    const set = topicMoves.get(key)!;
    set.delete(p);
    if (set.size === 0) topicMoves.delete(key);
    if (topicMoves.size === 0) this.byTopic.delete(p.topic);
    return move;
  }

  private add(p: TopicPartition, move: Move): void {
    this.byPartition.set(p, move);
    let topicMoves = this.byTopic.get(p.topic);
    if (topicMoves === undefined) this.byTopic.set(p.topic, (topicMoves = new Map()));
    const key = pairKey(move.src, move.dst);
    let set = topicMoves.get(key);
    if (set === undefined) topicMoves.set(key, (set = new Set()));
    set.add(p);
  }

  move(p: TopicPartition, from: string, to: string): void {
    if (this.byPartition.has(p)) {
      const existing = this.remove(p);
      // Moving back to where it came from cancels the record.
      if (existing.src !== to) this.add(p, { src: existing.src, dst: to });
    } else {
      this.add(p, { src: from, dst: to });
    }
  }

  /** The partition to move from `from` to `to` in place of `p`: one that came from `to` earlier, if any. */
  actualPartitionToMove(p: TopicPartition, from: string, to: string): TopicPartition {
    const topicMoves = this.byTopic.get(p.topic);
    if (topicMoves === undefined) return p;
    const earlier = this.byPartition.get(p);
    const src = earlier === undefined ? from : earlier.src;
    const reverse = topicMoves.get(pairKey(to, src));
    if (reverse === undefined) return p;
    return reverse.values().next().value!;
  }
}

/** The general builder (AbstractStickyAssignor.GeneralAssignmentBuilder, without racks or generations). */
function generalAssign(input: PreparedInput): Map<string, TopicPartition[]> {
  const { members, subscriptions, partitions, owned } = input;
  const potential = new Map<string, string[]>();
  for (const topic of partitions.keys())
    potential.set(
      topic,
      members.filter((id) => subscriptions.get(id)!.has(topic)),
    );
  const maxSize = new Map<string, number>();
  for (const id of members) {
    let size = 0;
    for (const topic of subscriptions.get(id)!) size += partitionCount(input, topic);
    maxSize.set(id, size);
  }

  // Keep every owned partition whose topic the member still subscribes to.
  let current = new Map<string, TopicPartition[]>();
  const owner = new Map<TopicPartition, string>();
  const assigned = new Set<TopicPartition>();
  let revocationRequired = false;
  for (const id of members) {
    const topics = subscriptions.get(id)!;
    const keep: TopicPartition[] = [];
    for (const p of owned.get(id)!) {
      if (topics.has(p.topic)) {
        keep.push(p);
        owner.set(p, id);
        assigned.add(p);
      } else {
        revocationRequired = true;
      }
    }
    current.set(id, keep);
  }

  // Topics with fewer potential consumers first, then by name; partitions in numeric order.
  const sortedTopics = [...partitions.keys()].sort(
    (a, b) => potential.get(a)!.length - potential.get(b)!.length || compareIds(a, b),
  );
  let sortedAll: TopicPartition[] = sortedTopics.flatMap((topic) => [...partitions.get(topic)!]);
  let unassigned = sortedAll.filter((p) => !assigned.has(p));

  const size = (id: string): number => current.get(id)!.length;
  // The TreeSet of Java's sortedCurrentSubscriptions: fewest partitions first, then member id.
  const sorted = (): string[] => [...current.keys()].sort((a, b) => size(a) - size(b) || compareIds(a, b));
  const movements = new PartitionMovements();

  const isBalanced = (): boolean => {
    const order = sorted();
    if (size(order[0]!) >= size(order[order.length - 1]!) - 1) return true;
    const all = new Map<TopicPartition, string>();
    for (const [id, list] of current) for (const p of list) all.set(p, id);
    for (const id of order) {
      const count = size(id);
      if (count === maxSize.get(id)) continue;
      const mine = new Set(current.get(id)!);
      for (const topic of subscriptions.get(id)!) {
        for (const p of partitions.get(topic)!) {
          if (mine.has(p)) continue;
          const other = all.get(p);
          if (other !== undefined && count + 1 < size(other)) return false;
        }
      }
    }
    return true;
  };

  const balanceScore = (assignment: Map<string, TopicPartition[]>): number => {
    const sizes = [...assignment.values()].map((l) => l.length);
    let score = 0;
    for (let i = 0; i < sizes.length; i++)
      for (let j = i + 1; j < sizes.length; j++) score += Math.abs(sizes[i]! - sizes[j]!);
    return score;
  };

  const moveTo = (p: TopicPartition, to: string): void => {
    const from = owner.get(p)!;
    const actual = movements.actualPartitionToMove(p, from, to);
    const actualFrom = owner.get(actual)!;
    movements.move(actual, actualFrom, to);
    const list = current.get(actualFrom)!;
    list.splice(list.indexOf(actual), 1);
    current.get(to)!.push(actual);
    owner.set(actual, to);
  };

  const performReassignments = (reassignable: readonly TopicPartition[]): boolean => {
    let performed = false;
    let modified: boolean;
    do {
      modified = false;
      for (const p of reassignable) {
        if (isBalanced()) break;
        const from = owner.get(p)!;
        for (const other of potential.get(p.topic)!) {
          if (current.has(other) && size(from) > size(other) + 1) {
            // To the least loaded member that can take it (not necessarily `other`).
            const to = sorted().find((id) => subscriptions.get(id)!.has(p.topic))!;
            moveTo(p, to);
            performed = true;
            modified = true;
            break;
          }
        }
      }
    } while (modified);
    return performed;
  };

  // balance()
  const initializing = members.every((id) => size(id) === 0);
  for (const p of unassigned) {
    const to = sorted().find((id) => subscriptions.get(id)!.has(p.topic));
    if (to === undefined) continue;
    current.get(to)!.push(p);
    owner.set(p, to);
  }

  // Only partitions of topics with 2+ potential consumers, and members that could change, take part.
  const fixedTopics = new Set([...potential].filter(([, ids]) => ids.length < 2).map(([topic]) => topic));
  sortedAll = sortedAll.filter((p) => !fixedTopics.has(p.topic));
  unassigned = unassigned.filter((p) => !fixedTopics.has(p.topic));
  const fixed = new Map<string, TopicPartition[]>();
  for (const id of members) {
    const list = current.get(id)!;
    const canChange = list.length < maxSize.get(id)! || list.some((p) => potential.get(p.topic)!.length >= 2);
    if (!canChange) {
      fixed.set(id, list);
      current.delete(id);
    }
  }

  if (current.size > 0) {
    const before = new Map([...current].map(([id, list]) => [id, [...list]]));
    const ownerBefore = new Map(owner);
    // Without a forced revocation, first try moving only the partitions that were just handed out.
    if (!revocationRequired) performReassignments(unassigned);
    const performed = performReassignments(sortedAll);
    // A rebalance of owned partitions must improve the balance, or it is undone.
    if (!initializing && performed && balanceScore(current) >= balanceScore(before)) {
      current = before;
      owner.clear();
      for (const [p, id] of ownerBefore) owner.set(p, id);
    }
  }

  const result = new Map<string, TopicPartition[]>();
  for (const id of members) result.set(id, current.get(id) ?? fixed.get(id)!);
  return result;
}
