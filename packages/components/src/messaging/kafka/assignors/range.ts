import { type Assignment, type AssignorInput, emptyAssignment, prepareInput } from './types.js';

/**
 * Kafka's `RangeAssignor` (`partition.assignment.strategy=range`, the consumer's default before 3.0 and
 * still first in its default list): topic by topic, the partitions in numeric order are cut into
 * contiguous ranges, one per subscribed member in member-id order; when the count does not divide evenly
 * the first members get one extra. Topics are taken in name order, so each member's list is sorted by
 * topic, then partition. Co-partitioned topics (same count, same subscribers) get the same ranges, which is
 * why joins use it; with many topics the first members are loaded most.
 *
 * Not modelled: rack-aware assignment (KIP-881) and `group.instance.id` ordering (static members first).
 *
 * @example
 * ```ts
 * // The RangeAssignor javadoc's example:
 * formatAssignment(rangeAssign({
 *   members: [{ id: 'C0', topics: ['t0', 't1'] }, { id: 'C1', topics: ['t0', 't1'] }],
 *   topics: { t0: 3, t1: 3 },
 * })); // { C0: ['t0p0', 't0p1', 't1p0', 't1p1'], C1: ['t0p2', 't1p2'] }
 * ```
 */
export function rangeAssign(input: AssignorInput): Assignment {
  const { members, subscriptions, partitions } = prepareInput('rangeAssign', input);
  const assignment = emptyAssignment(members);
  for (const [topic, list] of partitions) {
    const consumers = members.filter((id) => subscriptions.get(id)!.has(topic));
    const perConsumer = Math.floor(list.length / consumers.length);
    const extra = list.length % consumers.length;
    let next = 0;
    consumers.forEach((id, i) => {
      const take = perConsumer + (i < extra ? 1 : 0);
      assignment.get(id)!.push(...list.slice(next, next + take));
      next += take;
    });
  }
  return assignment;
}
