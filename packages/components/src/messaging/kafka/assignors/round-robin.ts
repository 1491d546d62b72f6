import { type Assignment, type AssignorInput, emptyAssignment, prepareInput } from './types.js';

/**
 * Kafka's `RoundRobinAssignor` (`partition.assignment.strategy=roundrobin`): every subscribed partition,
 * sorted by topic then partition, is dealt in turn to the members in member-id order, skipping a member not
 * subscribed to the partition's topic. With identical subscriptions the counts differ by at most one; with
 * different subscriptions the result can be unbalanced, and a membership change reshuffles most partitions
 * (see {@link stickyAssign}).
 *
 * Not modelled: `group.instance.id` ordering (static members first).
 *
 * @example
 * ```ts
 * // The RoundRobinAssignor javadoc's examples:
 * formatAssignment(roundRobinAssign({
 *   members: [{ id: 'C0', topics: ['t0', 't1'] }, { id: 'C1', topics: ['t0', 't1'] }],
 *   topics: { t0: 3, t1: 3 },
 * })); // { C0: ['t0p0', 't0p2', 't1p1'], C1: ['t0p1', 't1p0', 't1p2'] }
 * formatAssignment(roundRobinAssign({
 *   members: [
 *     { id: 'C0', topics: ['t0'] },
 *     { id: 'C1', topics: ['t0', 't1'] },
 *     { id: 'C2', topics: ['t0', 't1', 't2'] },
 *   ],
 *   topics: { t0: 1, t1: 2, t2: 3 },
 * })); // { C0: ['t0p0'], C1: ['t1p0'], C2: ['t1p1', 't2p0', 't2p1', 't2p2'] }
 * ```
 */
export function roundRobinAssign(input: AssignorInput): Assignment {
  const { members, subscriptions, partitions } = prepareInput('roundRobinAssign', input);
  const assignment = emptyAssignment(members);
  let next = 0; // the circular iterator's position over the sorted members
  for (const [topic, list] of partitions) {
    for (const partition of list) {
      // Some member subscribes to `topic` (partitions holds only subscribed topics), so this ends.
      while (!subscriptions.get(members[next]!)!.has(topic)) next = (next + 1) % members.length;
      assignment.get(members[next]!)!.push(partition);
      next = (next + 1) % members.length;
    }
  }
  return assignment;
}
