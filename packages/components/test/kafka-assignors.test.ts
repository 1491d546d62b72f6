import { DsimError } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import {
  cooperativeRebalance,
  cooperativeStickyAssign,
  cooperativeStickyPlan,
} from '../src/messaging/kafka/assignors/cooperative-sticky.js';
import { rangeAssign } from '../src/messaging/kafka/assignors/range.js';
import { roundRobinAssign } from '../src/messaging/kafka/assignors/round-robin.js';
import { STICKY_ALGORITHMS, stickyAssign } from '../src/messaging/kafka/assignors/sticky.js';
import {
  type Assignment,
  type AssignorInput,
  type AssignorMember,
  formatAssignment,
  formatTp,
  parseTp,
  tp,
} from '../src/messaging/kafka/assignors/types.js';

/** A member subscribed to `topics`, owning the `t0p1`-style partitions in `owned`. */
function member(id: string, topics: string[], owned?: string[]): AssignorMember {
  return owned === undefined ? { id, topics } : { id, topics, owned: owned.map(parseTp) };
}

/** An assignment's lists as members that own them (the input of the next rebalance). */
function rejoin(
  assignment: Assignment,
  topics: (id: string) => readonly string[],
  without: string[] = [],
): AssignorMember[] {
  return [...assignment]
    .filter(([id]) => !without.includes(id))
    .map(([id, owned]) => ({ id, topics: topics(id), owned }));
}

/** How many partitions stay with the member that had them. */
function preserved(before: Assignment, after: Assignment): number {
  const owner = new Map<string, string>();
  for (const [id, list] of before) for (const p of list) owner.set(formatTp(p), id);
  let kept = 0;
  for (const [id, list] of after) for (const p of list) if (owner.get(formatTp(p)) === id) kept++;
  return kept;
}

const ALL2 = ['t0', 't1'];
const TWO_BY_THREE: AssignorInput = {
  members: [member('C0', ALL2), member('C1', ALL2)],
  topics: { t0: 3, t1: 3 },
};

// RoundRobinAssignor / StickyAssignor javadoc: C0 -> t0; C1 -> t0, t1; C2 -> t0, t1, t2; 1, 2, 3 partitions.
const UNEQUAL_TOPICS = { t0: 1, t1: 2, t2: 3 };
const unequalTopics = (id: string): string[] =>
  ({ C0: ['t0'], C1: ['t0', 't1'], C2: ['t0', 't1', 't2'] })[id]!;
const UNEQUAL: AssignorInput = {
  members: ['C0', 'C1', 'C2'].map((id) => member(id, unequalTopics(id))),
  topics: UNEQUAL_TOPICS,
};

// StickyAssignor javadoc, Example 1: three consumers, four topics of two partitions each.
const ALL4 = ['t0', 't1', 't2', 't3'];
const FOUR_BY_TWO = { t0: 2, t1: 2, t2: 2, t3: 2 };

describe('topic-partitions', () => {
  it('formats and parses javadoc-style names', () => {
    expect(formatTp(tp('t0', 1))).toBe('t0p1');
    expect(parseTp('t0p1')).toEqual({ topic: 't0', partition: 1 });
    expect(parseTp('orders-eup12')).toEqual({ topic: 'orders-eu', partition: 12 });
    expect(() => parseTp('t0')).toThrow(/parseTp: text must be a topic-partition such as "t0p1", got "t0"/);
    expect(() => tp('t0', -1)).toThrow(/tp: partition must be an integer >= 0, got -1/);
    expect(() => tp('', 0)).toThrow(DsimError);
  });
});

describe('RangeAssignor', () => {
  it('reproduces the javadoc example', () => {
    expect(formatAssignment(rangeAssign(TWO_BY_THREE))).toEqual({
      C0: ['t0p0', 't0p1', 't1p0', 't1p1'],
      C1: ['t0p2', 't1p2'],
    });
  });

  it('orders members by id, gives the first ones the extra partitions, and skips non-subscribers', () => {
    const result = rangeAssign({
      members: [member('b', ['t0']), member('c', ['t0', 't1']), member('a', ['t0'])],
      topics: { t0: 5, t1: 2, unused: 4 },
    });
    expect([...result.keys()]).toEqual(['a', 'b', 'c']);
    expect(formatAssignment(result)).toEqual({
      a: ['t0p0', 't0p1'],
      b: ['t0p2', 't0p3'],
      c: ['t0p4', 't1p0', 't1p1'],
    });
  });
});

describe('RoundRobinAssignor', () => {
  it('reproduces the javadoc examples', () => {
    expect(formatAssignment(roundRobinAssign(TWO_BY_THREE))).toEqual({
      C0: ['t0p0', 't0p2', 't1p1'],
      C1: ['t0p1', 't1p0', 't1p2'],
    });
    expect(formatAssignment(roundRobinAssign(UNEQUAL))).toEqual({
      C0: ['t0p0'],
      C1: ['t1p0'],
      C2: ['t1p1', 't2p0', 't2p1', 't2p2'],
    });
  });

  it('reshuffles when C0 leaves (the StickyAssignor javadoc: 3 assignments preserved)', () => {
    const before = roundRobinAssign(UNEQUAL);
    const after = roundRobinAssign({
      members: [member('C1', unequalTopics('C1')), member('C2', unequalTopics('C2'))],
      topics: UNEQUAL_TOPICS,
    });
    expect(formatAssignment(after)).toEqual({ C1: ['t0p0', 't1p1'], C2: ['t1p0', 't2p0', 't2p1', 't2p2'] });
    expect(preserved(before, after)).toBe(3);
  });

  it('gives Sticky Example 1 its initial assignment, and reshuffles when C1 leaves', () => {
    const initial = roundRobinAssign({
      members: ['C0', 'C1', 'C2'].map((id) => member(id, ALL4)),
      topics: FOUR_BY_TWO,
    });
    expect(formatAssignment(initial)).toEqual({
      C0: ['t0p0', 't1p1', 't3p0'],
      C1: ['t0p1', 't2p0', 't3p1'],
      C2: ['t1p0', 't2p1'],
    });
    const after = roundRobinAssign({
      members: [member('C0', ALL4), member('C2', ALL4)],
      topics: FOUR_BY_TWO,
    });
    expect(formatAssignment(after)).toEqual({
      C0: ['t0p0', 't1p0', 't2p0', 't3p0'],
      C2: ['t0p1', 't1p1', 't2p1', 't3p1'],
    });
  });
});

describe('StickyAssignor', () => {
  it('Example 1: the fresh assignment equals round robin; after C1 leaves every kept partition stays', () => {
    const initial = stickyAssign({
      members: ['C0', 'C1', 'C2'].map((id) => member(id, ALL4)),
      topics: FOUR_BY_TWO,
    });
    expect(formatAssignment(initial)).toEqual({
      C0: ['t0p0', 't1p1', 't3p0'],
      C1: ['t0p1', 't2p0', 't3p1'],
      C2: ['t1p0', 't2p1'],
    });
    const after = stickyAssign({ members: rejoin(initial, () => ALL4, ['C1']), topics: FOUR_BY_TWO });
    expect(formatAssignment(after)).toEqual({
      C0: ['t0p0', 't1p1', 't3p0', 't2p0'],
      C2: ['t1p0', 't2p1', 't0p1', 't3p1'],
    });
    expect(preserved(initial, after)).toBe(5);
  });

  it("Example 1 with algorithm 'auto' (Kafka >= 2.7's constrained path): as sticky, other moves", () => {
    const members = [member('C0', ALL4, ['t0p0', 't1p1', 't3p0']), member('C2', ALL4, ['t1p0', 't2p1'])];
    const after = stickyAssign({ members, topics: FOUR_BY_TWO }, { algorithm: 'auto' });
    // Owned partitions sorted by partition then topic (KAFKA-16277), then round robin over t0p1, t2p0, t3p1.
    expect(formatAssignment(after)).toEqual({
      C0: ['t0p0', 't3p0', 't1p1', 't0p1'],
      C2: ['t1p0', 't2p1', 't2p0', 't3p1'],
    });
  });

  it('Example 2: balanced where round robin is not; 5 assignments preserved when C0 leaves', () => {
    const initial = stickyAssign(UNEQUAL);
    expect(formatAssignment(initial)).toEqual({
      C0: ['t0p0'],
      C1: ['t1p0', 't1p1'],
      C2: ['t2p0', 't2p1', 't2p2'],
    });
    const after = stickyAssign({ members: rejoin(initial, unequalTopics, ['C0']), topics: UNEQUAL_TOPICS });
    expect(formatAssignment(after)).toEqual({ C1: ['t1p0', 't1p1', 't0p0'], C2: ['t2p0', 't2p1', 't2p2'] });
    expect(preserved(initial, after)).toBe(5);
  });

  it("'auto' runs the general algorithm when subscriptions differ", () => {
    const members = [
      member('C1', unequalTopics('C1'), ['t1p0', 't1p1']),
      member('C2', unequalTopics('C2'), ['t2p0']),
    ];
    const input = { members, topics: UNEQUAL_TOPICS };
    expect(formatAssignment(stickyAssign(input, { algorithm: 'auto' }))).toEqual(
      formatAssignment(stickyAssign(input)),
    );
  });

  it('moves just enough partitions to a joining member', () => {
    const members = [
      member('C0', ['t0'], ['t0p0', 't0p1', 't0p2']),
      member('C1', ['t0'], ['t0p3', 't0p4', 't0p5']),
    ];
    const after = stickyAssign({ members: [...members, member('C2', ['t0'])], topics: { t0: 6 } });
    expect(formatAssignment(after)).toEqual({
      C0: ['t0p1', 't0p2'],
      C1: ['t0p4', 't0p5'],
      C2: ['t0p0', 't0p3'],
    });
  });

  it('drops owned partitions of unsubscribed or deleted topics, and double claims', () => {
    const after = stickyAssign({
      members: [
        { id: 'C0', topics: ['t0'], owned: [tp('gone', 0), tp('t0', 0), tp('t1', 0)] },
        { id: 'C1', topics: ['t0', 't1'], owned: [tp('t0', 0), tp('t0', 1)] },
      ],
      topics: { t0: 2, t1: 1 },
    });
    // t0p0 is claimed by both, so neither keeps it as owned; C0 no longer subscribes to t1.
    expect(formatAssignment(after)).toEqual({ C0: ['t0p0'], C1: ['t0p1', 't1p0'] });
  });
});

describe('CooperativeStickyAssignor', () => {
  it('splits a handover into a revocation and a follow-up assignment', () => {
    const previous = new Map([['C0', [tp('t0', 0), tp('t0', 1)]]]);
    const target = new Map([
      ['C0', [tp('t0', 0)]],
      ['C1', [tp('t0', 1)]],
    ]);
    const plan = cooperativeRebalance(previous, target);
    expect(formatAssignment(plan.first)).toEqual({ C0: ['t0p0'], C1: [] });
    expect(formatAssignment(plan.followUp)).toEqual({ C0: [], C1: ['t0p1'] });
    expect(plan.needsFollowUp).toBe(true);
    expect(plan.members.get('C0')).toEqual({
      kept: [tp('t0', 0)],
      revoked: [tp('t0', 1)],
      assigned: [],
      deferred: [],
    });
    expect(plan.members.get('C1')).toEqual({ kept: [], revoked: [], assigned: [], deferred: [tp('t0', 1)] });
  });

  it('assigns the partitions of a member that left at once (nobody has to revoke them)', () => {
    const initial = stickyAssign({
      members: ['C0', 'C1', 'C2'].map((id) => member(id, ALL4)),
      topics: FOUR_BY_TWO,
    });
    const plan = cooperativeStickyPlan({ members: rejoin(initial, () => ALL4, ['C1']), topics: FOUR_BY_TWO });
    expect(plan.needsFollowUp).toBe(false);
    expect(formatAssignment(plan.first)).toEqual(formatAssignment(plan.target));
    expect(plan.members.get('C0')!.assigned.map(formatTp)).toEqual(['t2p0']);
    expect(plan.members.get('C2')!.assigned.map(formatTp)).toEqual(['t0p1', 't3p1']);
  });

  it('a member joining: one rebalance revokes, the next assigns, and then the group is stable', () => {
    const topics = { t0: 4 };
    const input: AssignorInput = {
      members: [
        member('C0', ['t0'], ['t0p0', 't0p1']),
        member('C1', ['t0'], ['t0p2', 't0p3']),
        member('C2', ['t0']),
      ],
      topics,
    };
    const first = cooperativeStickyAssign(input);
    expect(formatAssignment(first)).toEqual({ C0: ['t0p1'], C1: ['t0p2', 't0p3'], C2: [] });
    const plan = cooperativeStickyPlan(input);
    expect(plan.members.get('C0')!.revoked.map(formatTp)).toEqual(['t0p0']);
    expect(formatAssignment(plan.followUp)).toEqual({ C0: [], C1: [], C2: ['t0p0'] });
    // The follow-up rebalance, with t0p0 now unowned, reaches the target.
    const second = cooperativeStickyAssign({ members: rejoin(first, () => ['t0']), topics });
    expect(formatAssignment(second)).toEqual(formatAssignment(plan.target));
    expect(cooperativeStickyPlan({ members: rejoin(second, () => ['t0']), topics }).needsFollowUp).toBe(
      false,
    );
  });

  it('rejects a target that gives a partition twice', () => {
    const target = new Map([
      ['C0', [tp('t0', 0)]],
      ['C1', [tp('t0', 0)]],
    ]);
    expect(() => cooperativeRebalance(new Map(), target)).toThrow(/given to C0 and C1/);
    expect(() => cooperativeRebalance({} as unknown as Assignment, target)).toThrow(
      /cooperativeRebalance: previous must be an Assignment/,
    );
  });
});

describe('input validation', () => {
  const assignors = [rangeAssign, roundRobinAssign, stickyAssign, cooperativeStickyAssign];

  it.each(assignors.map((f) => [f.name, f] as const))('%s names the bad field', (name, assign) => {
    expect(() => assign({ members: [member('C0', ['t9'])], topics: { t0: 1 } })).toThrow(
      new RegExp(`${name}: members\\[0\\]\\.topics\\[0\\] must be a topic of topics \\("t0"\\), got "t9"`),
    );
    expect(() =>
      assign({ members: [member('C0', ['t0']), member('C0', ['t0'])], topics: { t0: 1 } }),
    ).toThrow(/members\[1\]\.id must be a member id not used by another member, got "C0"/);
    expect(() => assign({ members: [member('C0', ['t0'])], topics: { t0: 0 } })).toThrow(
      /topics\.t0 must be a partition count: an integer >= 1, got 0/,
    );
    expect(() => assign({ members: [member('C0', ['t0'])], topics: { t0: 1.5 } })).toThrow(DsimError);
    expect(() => assign({ members: [member('', ['t0'])], topics: { t0: 1 } })).toThrow(
      /members\[0\]\.id must be a non-empty string/,
    );
    expect(() => assign({ members: [member('C0', ['t0', 't0'])], topics: { t0: 1 } })).toThrow(
      /not listed twice/,
    );
    expect(() => assign({ members: [{ id: 'C0', topic: ['t0'] } as never], topics: { t0: 1 } })).toThrow(
      /unknown option "members\[0\]\.topic" \(did you mean "members\[0\]\.topics"\?\)/,
    );
    expect(() => assign({ members: [member('C0', ['t0'], ['t0p3'])], topics: { t0: 2 } })).toThrow(
      /members\[0\]\.owned\[0\]\.partition must be a partition of t0: an integer in \[0, 1\], got 3/,
    );
    expect(() => assign(undefined as never)).toThrow(/must be an object with the fields members, topics/);
  });

  it('an empty group gets an empty assignment', () => {
    for (const assign of assignors) expect(assign({ members: [], topics: { t0: 3 } }).size).toBe(0);
  });

  it('rejects an unknown sticky algorithm', () => {
    expect(() => stickyAssign(TWO_BY_THREE, { algorithm: 'constrained' as never })).toThrow(
      /stickyAssign: algorithm must be one of "general", "auto"/,
    );
  });
});

/** A seeded LCG (Numerical Recipes constants), uniform in [0, 1). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface RandomGroup {
  readonly input: AssignorInput;
  readonly equal: boolean;
}

function randomGroup(random: () => number, equal: boolean, previous?: Assignment): RandomGroup {
  const int = (n: number): number => Math.floor(random() * n);
  const topicCount = 1 + int(5);
  const topics: Record<string, number> = {};
  for (let t = 0; t < topicCount; t++) topics[`t${t}`] = 1 + int(8);
  const names = Object.keys(topics);
  const memberCount = 1 + int(7);
  const ids = Array.from({ length: 9 }, (_, i) => `C${i}`)
    .filter(() => random() < 0.8)
    .slice(0, memberCount);
  if (ids.length === 0) ids.push('C0');
  const members = ids.map((id) => {
    const subscribed = equal ? names : names.filter(() => random() < 0.6);
    if (subscribed.length === 0) subscribed.push(names[int(names.length)]!);
    const owned = (previous?.get(id) ?? []).filter((p) => p.partition < (topics[p.topic] ?? 0));
    return { id, topics: subscribed, owned };
  });
  return { input: { members, topics }, equal };
}

function checkValid(input: AssignorInput, assignment: Assignment): void {
  const subscribers = new Map<string, Set<string>>();
  for (const m of input.members)
    for (const t of m.topics) (subscribers.get(t) ?? subscribers.set(t, new Set()).get(t)!).add(m.id);
  const seen = new Map<string, string>();
  for (const [id, list] of assignment) {
    for (const p of list) {
      const name = formatTp(p);
      expect(seen.has(name), `${name} assigned twice`).toBe(false);
      seen.set(name, id);
      expect(subscribers.get(p.topic)?.has(id), `${name} given to non-subscriber ${id}`).toBe(true);
    }
  }
  let expected = 0;
  for (const topic of subscribers.keys()) expected += input.topics[topic]!;
  expect(seen.size).toBe(expected);
  expect([...assignment.keys()].sort()).toEqual(input.members.map((m) => m.id).sort());
}

const spread = (a: Assignment): number => {
  const sizes = [...a.values()].map((l) => l.length);
  return Math.max(...sizes) - Math.min(...sizes);
};

describe('properties over random groups (seeded)', () => {
  it('every assignor gives each subscribed partition exactly once, to a subscriber', () => {
    const random = lcg(42);
    for (let i = 0; i < 300; i++) {
      const { input } = randomGroup(random, random() < 0.4);
      for (const assign of [rangeAssign, roundRobinAssign, stickyAssign, cooperativeStickyAssign])
        checkValid({ ...input, members: input.members.map(({ owned: _, ...m }) => m) }, assign(input));
      checkValid(input, stickyAssign(input, { algorithm: 'auto' }));
    }
  });

  it('sticky after a membership change: valid; with equal subscriptions balanced and at least as sticky as round robin', () => {
    const random = lcg(7);
    for (let i = 0; i < 300; i++) {
      const equal = random() < 0.5;
      const { input: first } = randomGroup(random, equal);
      // The next generation: some members leave, some join, topics may gain partitions.
      const { input: shape } = randomGroup(random, equal);
      const topics = { ...first.topics };
      for (const [t, n] of Object.entries(shape.topics)) topics[t] = Math.max(n, topics[t] ?? 0);
      const all = Object.keys(topics);
      const nextMembers = shape.members.map((m) => ({ id: m.id, topics: equal ? all : m.topics }));
      const rrBefore = roundRobinAssign(first);
      const rrAfter = roundRobinAssign({ members: nextMembers, topics });
      for (const algorithm of STICKY_ALGORITHMS) {
        const before = stickyAssign(first, { algorithm });
        const members = nextMembers.map((m) => ({ ...m, owned: before.get(m.id) ?? [] }));
        const after = stickyAssign({ members, topics }, { algorithm });
        checkValid({ members, topics }, after);
        if (equal) {
          expect(spread(after)).toBeLessThanOrEqual(1);
          expect(preserved(before, after)).toBeGreaterThanOrEqual(preserved(rrBefore, rrAfter));
        }
      }
    }
  });

  it('sticky on an unchanged group keeps everything', () => {
    const random = lcg(99);
    for (let i = 0; i < 200; i++) {
      const { input } = randomGroup(random, random() < 0.5);
      const before = stickyAssign(input);
      const again = stickyAssign({
        ...input,
        members: rejoin(before, (id) => input.members.find((m) => m.id === id)!.topics),
      });
      expect(formatAssignment(again)).toEqual(formatAssignment(before));
    }
  });

  it('cooperative: the first rebalance never gives a partition its old owner still holds', () => {
    const random = lcg(3);
    for (let i = 0; i < 200; i++) {
      const equal = random() < 0.5;
      const { input: first } = randomGroup(random, equal);
      const before = stickyAssign(first);
      const { input: nextRaw } = randomGroup(random, equal, before);
      const input = { members: nextRaw.members, topics: { ...nextRaw.topics } };
      const plan = cooperativeStickyPlan(input);
      const stillOwned = new Map<string, string>();
      for (const m of input.members)
        for (const p of m.owned ?? [])
          if (!(plan.target.get(m.id) ?? []).some((q) => formatTp(q) === formatTp(p)))
            stillOwned.set(formatTp(p), m.id);
      for (const [id, list] of plan.first) {
        for (const p of list) {
          const holder = stillOwned.get(formatTp(p));
          expect(holder === undefined || holder === id).toBe(true);
        }
        const m = plan.members.get(id)!;
        expect([...m.kept, ...m.assigned, ...m.deferred].length).toBe(plan.target.get(id)!.length);
      }
    }
  });
});
