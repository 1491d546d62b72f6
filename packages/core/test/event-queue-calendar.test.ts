import FastPriorityQueue from 'fastpriorityqueue';
import { describe, expect, it } from 'vitest';
import { EventQueue, NORMAL, packOrder } from '../src/event-queue.js';

/** Small deterministic LCG (Numerical Recipes constants); returns uniforms in [0, 1). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Entry {
  id: number;
  t: number;
  order: number;
  cancelled: boolean;
}

/** How a schedule draws the next delay (ms) at step `step` of `steps`. */
type Delay = (u: () => number, step: number, steps: number, now: number) => number;

interface Schedule {
  /** Entries queued before the random interleaving starts. */
  initial: number;
  steps: number;
  delay: Delay;
  /** Probability that a step pushes (otherwise it pops), given the current size. */
  pushChance: (size: number, step: number, steps: number) => number;
  /** Probability of pushing at a non-default priority. */
  priorityChance?: number;
  /** Probability of an extra far-future timer (30 000 ms) started at a push, and of cancelling one. */
  farChance?: number;
  /** Probability that a push joins a burst: 50 entries at one instant, mixed priorities. */
  burstChance?: number;
}

const exp = (u: () => number, mean: number): number => -mean * Math.log(1 - u());

const schedules: Record<string, Schedule> = {
  '(a) timeouts hold: 1000 entries, exponential(mean 1)': {
    initial: 1000,
    steps: 20_000,
    delay: (u) => exp(u, 1),
    pushChance: () => 0.5,
  },
  '(b) 150 entries, ties and priorities': {
    initial: 150,
    steps: 20_000,
    // A quarter of the delays are 0 or a whole number of ms: equal times.
    delay: (u) => (u() < 0.25 ? Math.floor(u() * 3) : exp(u, 1)),
    pushChance: () => 0.5,
    priorityChance: 0.3,
  },
  '(c) far-future timers, most cancelled, plus near entries': {
    initial: 100,
    steps: 40_000,
    delay: (u) => 0.2 + 1.8 * u(),
    pushChance: () => 0.5,
    farChance: 0.3,
  },
  '(d) delay scale 0.01 ms, then 1000 ms, then 0.01 ms': {
    initial: 500,
    steps: 30_000,
    delay: (u, step, steps) => exp(u, Math.floor((3 * step) / steps) === 1 ? 1000 : 0.01),
    pushChance: () => 0.5,
  },
  '(e) bursts at one instant at several priorities': {
    initial: 300,
    steps: 20_000,
    delay: (u) => exp(u, 1),
    pushChance: () => 0.5,
    priorityChance: 0.2,
    burstChance: 0.01,
  },
  '(g) tight clusters (25 within 1 ns) 100 ms apart': {
    initial: 2000,
    steps: 30_000,
    // Due at one of the next 80 whole multiples of 100 ms, give or take a nanosecond.
    delay: (u, _step, _steps, now) =>
      Math.round(now / 100) * 100 + 100 * (1 + Math.floor(u() * 80)) + 1e-6 * u() - now,
    pushChance: () => 0.5,
  },
  '(f) growth to about 16 000 entries and shrink back to 0': {
    initial: 0,
    steps: 60_000,
    delay: (u) => exp(u, 10),
    pushChance: (_size, step, steps) => (step < steps / 3 ? 0.9 : 0.2),
  },
};

/**
 * Drives an EventQueue the way the engine does (push, pushNow at the current time, peek, pop, free,
 * cancel, peeking ahead and then pushing at an earlier time as `run({ until })` does) and checks every
 * taken entry against a reference heap of the same entries. Returns the (time, order) sequence taken.
 */
function drive(seed: number, schedule: Schedule, queue = new EventQueue(16)): Array<[number, number]> {
  const u = lcg(seed);
  const reference = new FastPriorityQueue<Entry>((a, b) => a.t < b.t || (a.t === b.t && a.order < b.order));
  const bySlot = new Map<number, Entry>();
  const live: Array<[Entry, number, number]> = []; // entry, slot, generation
  const taken: Array<[number, number]> = [];
  let now = 0;
  let seq = 0;
  let id = 0;
  const noop = (): void => {};

  const push = (t: number, priority: number, inOrder = false): void => {
    const order = packOrder(priority, seq++);
    const slot =
      t === now && priority === NORMAL
        ? queue.pushNow(t, order, noop, null, 1, 0)
        : inOrder
          ? queue.pushInOrder(t, order, noop, null, 1, 0)
          : queue.push(t, order, noop, null, 1, 0);
    const entry = { id: id++, t, order, cancelled: false };
    if (bySlot.has(slot)) throw new Error(`slot ${slot} handed out twice`);
    bySlot.set(slot, entry);
    reference.add(entry);
    live.push([entry, slot, queue.generation[slot]!]);
  };
  const priority = (): number => (u() < (schedule.priorityChance ?? 0) ? Math.floor(u() * 5) - 2 : NORMAL);

  const pop = (): void => {
    const expected = reference.poll()!;
    // Every other entry through `take` (the event loop's way), first refused at its own time.
    const viaTake = taken.length % 2 === 1;
    if (viaTake && queue.take(expected.t) !== -2) throw new Error(`take(${expected.t}) did not refuse`);
    const slot = viaTake ? queue.take(Number.POSITIVE_INFINITY) : queue.peek();
    const entry = bySlot.get(slot);
    if (entry?.id !== expected.id)
      throw new Error(`took entry ${entry?.id} (slot ${slot}), expected ${expected.id} at ${expected.t}`);
    if (!viaTake) queue.pop(slot);
    if (queue.time[slot] !== expected.t || queue.order[slot] !== expected.order)
      throw new Error(`slot ${slot} holds (${queue.time[slot]}, ${queue.order[slot]}), not its entry's`);
    if ((queue.fn[slot] === null) !== expected.cancelled)
      throw new Error(`entry ${expected.id}: cancellation lost`);
    taken.push([expected.t, expected.order]);
    bySlot.delete(slot);
    queue.free(slot);
    now = expected.t;
  };

  for (let i = 0; i < schedule.initial; i++) push(schedule.delay(u, 0, schedule.steps, now), priority());
  for (let step = 0; step < schedule.steps; step++) {
    const size = reference.size;
    if (queue.size !== size) throw new Error(`size ${queue.size}, expected ${size}`);
    if (size > 0 && u() >= schedule.pushChance(size, step, schedule.steps)) {
      pop();
      continue;
    }
    const r = u();
    if (r < 0.05)
      push(now, u() < 0.5 ? NORMAL : priority()); // due now: the lane, or the calendar at another priority
    else if (r < 0.07 && size > 0) {
      // run({ until }) stops before the next entry and moves the clock part of the way there.
      const next = queue.time[queue.peek()]!;
      now += (next - now) * u();
      push(now, priority());
    } else if (r < 0.2) {
      // Messages on a constant-latency link (the in-order ring), now and then one with another delay
      // (it must go to the calendar, or behind the ring's last entry only if it sorts after it).
      push(now + (u() < 0.8 ? 0.2 : schedule.delay(u, step, schedule.steps, now)), priority(), true);
    } else push(now + schedule.delay(u, step, schedule.steps, now), priority());
    if (u() < (schedule.farChance ?? 0)) {
      push(now + 30_000, NORMAL);
      for (let c = 0; c < 3 && live.length > 0; c++) {
        const j = Math.floor(u() * live.length);
        const [entry, slot, generation] = live[j]!;
        live[j] = live[live.length - 1]!;
        live.pop();
        if (bySlot.get(slot) === entry) {
          queue.cancel(slot, generation);
          entry.cancelled = true;
        } else queue.cancel(slot, generation); // already taken: a stale handle does nothing
      }
    }
    if (u() < (schedule.burstChance ?? 0)) {
      const at = now + Math.floor(u() * 4) / 4;
      for (let b = 0; b < 50; b++) push(at, (b % 4) - 1);
    }
    if (live.length > 4 * reference.size + 1000) live.splice(0, live.length >> 1);
  }
  while (reference.size > 0) pop();
  expect(queue.peek()).toBe(-1);
  expect(queue.take(Number.POSITIVE_INFINITY)).toBe(-1);
  expect(queue.size).toBe(0);
  expect(taken.length).toBe(id);
  return taken;
}

describe('EventQueue (calendar queue): exact (time, order) order against a reference heap', () => {
  for (const [name, schedule] of Object.entries(schedules)) {
    it(`${name}, 3 seeds`, () => {
      for (const seed of [1, 2, 3]) {
        // Same schedule, same seed: the queue's own sequence is also reproducible.
        const taken = drive(seed, schedule);
        expect(taken.length).toBeGreaterThan(schedule.steps / 3);
      }
    });
  }

  it('keeps exact order when every entry is due at one instant (a degenerate width)', () => {
    const queue = new EventQueue(16);
    const u = lcg(9);
    const orders: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const order = packOrder(Math.floor(u() * 7) - 3, i);
      orders.push(order);
      queue.push(42, order, () => {}, null, 1, 0);
    }
    orders.sort((a, b) => a - b);
    const out: number[] = [];
    for (let slot = queue.peek(); slot >= 0; slot = queue.peek()) {
      queue.pop(slot);
      expect(queue.time[slot]).toBe(42);
      out.push(queue.order[slot]!);
      queue.free(slot);
    }
    expect(out).toEqual(orders);
  });

  it('orders times that are far apart and huge (exact bucket numbers or the overflow heap)', () => {
    const queue = new EventQueue(16);
    const times = [1e15, 3, 1e-9, 0, 2 ** 60, 7.5e10, 3, 1e300, 0.5, 1e15];
    for (const [i, t] of times.entries()) queue.push(t, packOrder(NORMAL, i), () => {}, null, 1, 0);
    const out: number[] = [];
    for (let slot = queue.peek(); slot >= 0; slot = queue.peek()) {
      queue.pop(slot);
      out.push(queue.time[slot]!);
      queue.free(slot);
    }
    expect(out).toEqual([...times].sort((a, b) => a - b));
  });

  it('the reference check catches a queue that ignores the order among equal times', () => {
    // A mutant: every entry pushed with the same order, so ties come out in whatever order the queue keeps.
    class TieBlind extends EventQueue {
      override push(
        t: number,
        _order: number,
        fn: (arg: any) => void,
        arg: unknown,
        kind: number,
        tag: number,
      ): number {
        return super.push(t, 0, fn, arg, kind, tag);
      }
    }
    expect(() =>
      drive(1, schedules['(e) bursts at one instant at several priorities']!, new TieBlind(16)),
    ).toThrow();
  });
});
