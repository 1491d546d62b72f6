import { checkName, invalidOption, optionKeys, owner, requireOptions } from '@dsim/core';

/**
 * A partition of a topic, Kafka's `org.apache.kafka.common.TopicPartition`. Build one with {@link tp}.
 *
 * @example
 * ```ts
 * const p: TopicPartition = tp('orders', 3);
 * formatTp(p); // 'ordersp3'
 * ```
 */
export interface TopicPartition {
  /** The topic's name: a non-empty string. */
  readonly topic: string;
  /** The partition's index: an integer >= 0. */
  readonly partition: number;
}

/**
 * A {@link TopicPartition}, checked: `topic` a non-empty string, `partition` an integer >= 0.
 *
 * @example
 * ```ts
 * tp('t0', 1); // { topic: 't0', partition: 1 }, shown as 't0p1'
 * ```
 */
export function tp(topic: string, partition: number): TopicPartition {
  if (typeof topic !== 'string' || topic === '')
    throw invalidOption('tp', 'topic', topic, 'a non-empty string');
  if (!Number.isSafeInteger(partition) || partition < 0)
    throw invalidOption('tp', 'partition', partition, 'an integer >= 0');
  return { topic, partition };
}

/**
 * A topic-partition written as the Kafka assignor javadocs write it: `t0p1` (topic, `p`, partition).
 * (Kafka's own `TopicPartition.toString()` gives `t0-1`.)
 *
 * @example
 * ```ts
 * formatTp(tp('t0', 1)); // 't0p1'
 * ```
 */
export function formatTp(partition: TopicPartition): string {
  return `${partition.topic}p${partition.partition}`;
}

const TP_TEXT = /^(.+)p(0|[1-9][0-9]*)$/;

/**
 * Reads a topic-partition written as {@link formatTp} writes it: the digits after the last `p` are the
 * partition, everything before it the topic (`'orders-eup12'` is topic `orders-eu`, partition 12).
 *
 * @example
 * ```ts
 * parseTp('t0p1'); // { topic: 't0', partition: 1 }
 * parseTp('t0');   // throws: parseTp: text must be a topic-partition such as "t0p1", got "t0"
 * ```
 */
export function parseTp(text: string): TopicPartition {
  const match = typeof text === 'string' ? TP_TEXT.exec(text) : null;
  if (match === null) throw invalidOption('parseTp', 'text', text, 'a topic-partition such as "t0p1"');
  return tp(match[1]!, Number(match[2]));
}

/**
 * A consumer group member as an assignor sees it: its member id, the topics it subscribes to and, for the
 * sticky assignors, the partitions it owned after the previous rebalance (Kafka's `Subscription`, with the
 * owned partitions of `ownedPartitions` / the sticky assignor's user data). `group.instance.id` (static
 * membership) and rack ids are not modelled: members are ordered by member id.
 *
 * @example
 * ```ts
 * const c0: AssignorMember = { id: 'C0', topics: ['t0', 't1'], owned: [tp('t0', 0)] };
 * ```
 */
export interface AssignorMember {
  /** The member id: a non-empty string, unique in the group. Members are ordered by it (UTF-16 code units, as Java's `String.compareTo`). */
  readonly id: string;
  /** The subscribed topics: names of topics in {@link AssignorInput.topics}, no duplicates. May be empty. */
  readonly topics: readonly string[];
  /**
   * The partitions this member owned after the previous rebalance, in the order it was given them; only the
   * sticky assignors read it. Partitions of topics that no longer exist are ignored (a deleted topic); a
   * partition claimed by several members is kept by none of them (Kafka's rule for two claims in the same
   * generation).
   * @default []
   */
  readonly owned?: readonly TopicPartition[];
}

/**
 * What an assignor is given: the group's members and the partition count of every topic (Kafka's
 * `partitionsPerTopic`, from the cluster metadata).
 *
 * @example
 * ```ts
 * const input: AssignorInput = {
 *   members: [{ id: 'C0', topics: ['t0', 't1'] }, { id: 'C1', topics: ['t0', 't1'] }],
 *   topics: { t0: 3, t1: 3 },
 * };
 * ```
 */
export interface AssignorInput {
  /** The group's members, in any order (the assignors sort them by id). */
  readonly members: readonly AssignorMember[];
  /** Partition count per topic: integers >= 1. Topics nobody subscribes to are ignored. */
  readonly topics: Readonly<Record<string, number>>;
}

/**
 * An assignment: every member (in member-id order) to its partitions, in the order the assignor gave them.
 * Members that get nothing are present with an empty list, as in Kafka.
 *
 * @example
 * ```ts
 * formatAssignment(rangeAssign(input)); // { C0: ['t0p0', 't0p1', 't1p0', 't1p1'], C1: ['t0p2', 't1p2'] }
 * ```
 */
export type Assignment = ReadonlyMap<string, readonly TopicPartition[]>;

/**
 * An {@link Assignment} as a plain object of `t0p1`-style strings ({@link formatTp}), for printing and
 * comparing.
 *
 * @example
 * ```ts
 * formatAssignment(roundRobinAssign(input)); // { C0: ['t0p0', 't0p2', 't1p1'], C1: ['t0p1', 't1p0', 't1p2'] }
 * ```
 */
export function formatAssignment(assignment: Assignment): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [member, partitions] of assignment) {
    Object.defineProperty(out, member, {
      value: partitions.map(formatTp),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * An input checked and put in the shape the assignors work on.
 * @internal
 */
export interface PreparedInput {
  /** Member ids in order. */
  readonly members: readonly string[];
  /** Each member's subscribed topics (all known). */
  readonly subscriptions: ReadonlyMap<string, ReadonlySet<string>>;
  /** Subscribed topics (by at least one member) in name order, with their partitions, interned. */
  readonly partitions: ReadonlyMap<string, readonly TopicPartition[]>;
  /** Each member's owned partitions (interned, of subscribed-by-someone topics, claimed by it alone). */
  readonly owned: ReadonlyMap<string, readonly TopicPartition[]>;
  /** Each member's owned partitions as given, interned, only those of existing topics (for cooperative diffs). */
  readonly ownedRaw: ReadonlyMap<string, readonly TopicPartition[]>;
}

/**
 * Java's `String.compareTo`: UTF-16 code units, which is what `<` compares.
 * @internal
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const INPUT_KEYS = optionKeys<AssignorInput>()({ members: true, topics: true });
const MEMBER_KEYS = optionKeys<AssignorMember>()({ id: true, topics: true, owned: true });

/**
 * Checks an {@link AssignorInput} for `component` and returns it prepared: members sorted by id, every
 * topic-partition interned (one object per partition, so identity comparisons work).
 * @internal
 */
export function prepareInput(component: string, input: AssignorInput): PreparedInput {
  requireOptions(component, input, INPUT_KEYS);
  const { members, topics } = input;
  if (typeof topics !== 'object' || topics === null || Array.isArray(topics))
    throw invalidOption(
      component,
      'topics',
      topics,
      'an object of topic name to partition count, such as { t0: 3 }',
    );
  const counts = new Map<string, number>();
  for (const [topic, count] of Object.entries(topics)) {
    if (topic === '')
      throw invalidOption(component, 'topics', topic, 'topic names that are non-empty strings');
    if (!Number.isSafeInteger(count) || count < 1)
      throw invalidOption(component, `topics.${topic}`, count, 'a partition count: an integer >= 1');
    counts.set(topic, count);
  }
  if (!Array.isArray(members))
    throw invalidOption(component, 'members', members, 'an array of { id, topics, owned? }');

  const byId = new Map<string, AssignorMember>();
  members.forEach((member: AssignorMember, i) => {
    const where = owner(component, `members[${i}]`);
    requireOptions(where, member, MEMBER_KEYS);
    checkName(where, 'id', member.id);
    if (byId.has(member.id))
      throw invalidOption(where, 'id', member.id, 'a member id not used by another member');
    if (!Array.isArray(member.topics))
      throw invalidOption(where, 'topics', member.topics, 'an array of topic names');
    const seen = new Set<string>();
    member.topics.forEach((topic: string, j) => {
      if (!counts.has(topic))
        throw invalidOption(
          where,
          `topics[${j}]`,
          topic,
          `a topic of topics (${[...counts.keys()].map((t) => JSON.stringify(t)).join(', ') || 'none given'})`,
        );
      if (seen.has(topic)) throw invalidOption(where, `topics[${j}]`, topic, 'a topic not listed twice');
      seen.add(topic);
    });
    if (member.owned !== undefined && !Array.isArray(member.owned))
      throw invalidOption(where, 'owned', member.owned, 'an array of topic-partitions such as tp("t0", 1)');
    byId.set(member.id, member);
  });

  const ids = [...byId.keys()].sort(compareIds);
  const subscriptions = new Map<string, ReadonlySet<string>>();
  const subscribed = new Set<string>();
  for (const id of ids) {
    const set = new Set(byId.get(id)!.topics);
    subscriptions.set(id, set);
    for (const topic of set) subscribed.add(topic);
  }
  // Like Kafka's partitionsPerTopic: only topics someone subscribes to.
  const partitions = new Map<string, TopicPartition[]>();
  for (const topic of [...subscribed].sort(compareIds)) {
    partitions.set(
      topic,
      Array.from({ length: counts.get(topic)! }, (_, p) => ({ topic, partition: p })),
    );
  }
  // One object per partition of every topic, so that identity comparisons work (owned lists included).
  const table = new Map<string, TopicPartition[]>();
  for (const [topic, count] of counts)
    table.set(
      topic,
      partitions.get(topic) ?? Array.from({ length: count }, (_, p) => ({ topic, partition: p })),
    );
  const intern = (topic: string, p: number): TopicPartition => table.get(topic)![p]!;

  const ownedRaw = new Map<string, TopicPartition[]>();
  const claims = new Map<TopicPartition, number>();
  members.forEach((member, i) => {
    const list: TopicPartition[] = [];
    const seen = new Set<TopicPartition>();
    (member.owned ?? []).forEach((owned: TopicPartition, j: number) => {
      const field = `members[${i}].owned[${j}]`;
      if (typeof owned !== 'object' || owned === null || typeof owned.topic !== 'string')
        throw invalidOption(component, field, owned, 'a topic-partition such as tp("t0", 1)');
      const count = counts.get(owned.topic);
      if (count === undefined) return; // a deleted topic: Kafka drops it
      if (!Number.isSafeInteger(owned.partition) || owned.partition < 0 || owned.partition >= count)
        throw invalidOption(
          component,
          `${field}.partition`,
          owned.partition,
          `a partition of ${owned.topic}: an integer in [0, ${count - 1}]`,
        );
      const p = intern(owned.topic, owned.partition);
      if (seen.has(p)) throw invalidOption(component, field, formatTp(p), 'a partition not listed twice');
      seen.add(p);
      list.push(p);
      if (partitions.has(p.topic)) claims.set(p, (claims.get(p) ?? 0) + 1);
    });
    ownedRaw.set(member.id, list);
  });
  const owned = new Map<string, TopicPartition[]>();
  for (const id of ids) {
    owned.set(
      id,
      ownedRaw.get(id)!.filter((p) => claims.get(p) === 1),
    );
  }
  const rawSorted = new Map<string, TopicPartition[]>();
  for (const id of ids) rawSorted.set(id, ownedRaw.get(id)!);
  return { members: ids, subscriptions, partitions, owned, ownedRaw: rawSorted };
}

/**
 * An empty assignment list for every member, in member order.
 * @internal
 */
export function emptyAssignment(members: readonly string[]): Map<string, TopicPartition[]> {
  return new Map(members.map((id) => [id, []]));
}
