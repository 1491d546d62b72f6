import { describe, expect, expectTypeOf, it } from 'vitest';
import { Interrupt } from '../src/process.js';
import { Simulation } from '../src/simulation.js';
import { PriorityStore, Store, type StoreGet } from '../src/store.js';
import type { TraceRecord } from '../src/trace.js';
import { thrown } from './support/thrown.js';

describe('Store: FIFO', () => {
  it('gets items in put order; a get on an empty store waits for the next put', () => {
    const sim = new Simulation();
    const store = new Store<string>(sim);
    const got: string[] = [];
    sim.process(function* consumer() {
      for (let i = 0; i < 3; i++) {
        const item = yield* store.get();
        expectTypeOf(item).toEqualTypeOf<string>();
        got.push(`${item}@${sim.now}`);
      }
    });
    sim.process(function* producer() {
      yield sim.timeout(5);
      yield* store.put('a');
      yield* store.put('b');
      yield sim.timeout(5);
      yield* store.put('c');
    });
    sim.run();
    expect(got).toEqual(['a@5', 'b@5', 'c@10']);
    expect(store.size).toBe(0);
    expect(store.capacity).toBe(Infinity);
  });

  it('waiting getters are served in FIFO order', () => {
    const sim = new Simulation();
    const store = new Store<number>(sim);
    const got: string[] = [];
    for (const name of ['g1', 'g2', 'g3']) {
      sim.process(function* () {
        got.push(`${name}:${yield* store.get()}`);
      });
    }
    sim.schedule(1, () => {
      store.put(10);
      store.put(20);
      store.put(30);
    });
    sim.run();
    expect(got).toEqual(['g1:10', 'g2:20', 'g3:30']);
  });

  it('a bounded store makes put wait until a get makes room', () => {
    const sim = new Simulation();
    const store = new Store<number>(sim, { capacity: 2 });
    const stored: string[] = [];
    sim.process(function* producer() {
      for (let i = 1; i <= 4; i++) {
        yield* store.put(i);
        stored.push(`${i}@${sim.now}`);
      }
    });
    const got: string[] = [];
    sim.process(function* consumer() {
      for (let i = 0; i < 4; i++) {
        yield sim.timeout(10);
        got.push(`${yield* store.get()}@${sim.now}`);
      }
    });
    sim.schedule(1, () => {
      expect(store.size).toBe(2);
      expect(store.putQueueLength).toBe(1);
      expect(store.items).toEqual([1, 2]);
    });
    sim.run();
    expect(stored).toEqual(['1@0', '2@0', '3@10', '4@20']);
    expect(got).toEqual(['1@10', '2@20', '3@30', '4@40']);
  });

  it('items is a copy', () => {
    const sim = new Simulation();
    const store = new Store<number>(sim);
    store.put(1);
    const items = store.items;
    items.push(99);
    expect(store.items).toEqual([1]);
  });

  it('traces put and get records', () => {
    const sim = new Simulation();
    const records: TraceRecord[] = [];
    sim.inspect((r) => records.push(r));
    const store = new Store<number>(sim, { name: 'inbox' });
    sim.process(function* p() {
      yield* store.put(1);
      yield* store.get();
    });
    sim.run();
    const own = records
      .filter((r) => r.type.startsWith('@dsim.store.'))
      .map(({ seq: _seq, ...rest }) => rest);
    expect(own).toEqual([
      { t: 0, type: '@dsim.store.put', store: 'inbox', process: 'p', size: 1, queue: 0 },
      { t: 0, type: '@dsim.store.get', store: 'inbox', process: 'p', size: 0, queue: 0 },
    ]);
  });
});

describe('Store: filtered gets', () => {
  it('takes the first matching item in FIFO order', () => {
    const sim = new Simulation();
    const store = new Store<number>(sim);
    for (const n of [1, 2, 3, 4]) store.put(n);
    let got: number | undefined;
    sim.process(function* () {
      got = yield* store.get((n) => n % 2 === 0);
    });
    sim.run();
    expect(got).toBe(2);
    expect(store.items).toEqual([1, 3, 4]);
  });

  it('filtered getters do not block the getters behind them; each item goes to the first that accepts it', () => {
    const sim = new Simulation();
    const store = new Store<string>(sim);
    const got: string[] = [];
    const getter = (name: string, filter?: (s: string) => boolean) =>
      sim.process(function* () {
        const item = yield* store.get(filter);
        got.push(`${name}:${item}@${sim.now}`);
      });
    getter('wantsRed', (s) => s === 'red');
    getter('wantsBlue', (s) => s === 'blue');
    getter('any');
    getter('wantsBlue2', (s) => s === 'blue');
    sim.schedule(1, () => store.put('blue'));
    sim.schedule(2, () => store.put('green'));
    sim.schedule(3, () => store.put('blue'));
    sim.schedule(4, () => store.put('red'));
    sim.run();
    expect(got).toEqual(['wantsBlue:blue@1', 'any:green@2', 'wantsBlue2:blue@3', 'wantsRed:red@4']);
    expect(store.getQueueLength).toBe(0);
  });

  it('a filtered get arriving while non-matching getters wait takes a matching stored item at once', () => {
    const sim = new Simulation();
    const store = new Store<number>(sim);
    const waiting = store.get((n) => n > 100);
    store.put(5);
    expect(waiting.triggered).toBe(false);
    expect(store.items).toEqual([5]);
    const small = store.get((n) => n < 10);
    expect(small.triggered).toBe(true);
    expect(small.value).toBe(5);
    store.put(500);
    expect(waiting.value).toBe(500);
    sim.run();
  });

  it('a filtered get that takes an item lets a waiting put in at once', () => {
    const sim = new Simulation();
    const store = new Store<number>(sim, { capacity: 1 });
    store.put(1);
    const blocked = store.put(2);
    const wants1 = store.get((n) => n === 1);
    expect(wants1.value).toBe(1);
    expect(blocked.triggered).toBe(true);
    expect(store.items).toEqual([2]);
    sim.run();
  });
});

describe('Store: priority', () => {
  type Job = { name: string; urgency: number };
  const jobs: Job[] = [
    { name: 'a', urgency: 3 },
    { name: 'b', urgency: 1 },
    { name: 'c', urgency: 2 },
    { name: 'd', urgency: 1 },
    { name: 'e', urgency: -1 },
  ];

  for (const [label, make] of [
    ['the priority option', (sim: Simulation) => new Store<Job>(sim, { priority: (j) => j.urgency })],
    ['PriorityStore', (sim: Simulation) => new PriorityStore<Job>(sim, { priority: (j) => j.urgency })],
  ] as const) {
    it(`${label}: get returns the lowest priority value first, ties in put order`, () => {
      const sim = new Simulation();
      const store = make(sim);
      for (const j of jobs) store.put(j);
      expect(store.items.map((j) => j.name)).toEqual(['e', 'b', 'd', 'c', 'a']);
      const got: string[] = [];
      sim.process(function* () {
        for (let i = 0; i < 5; i++) got.push((yield* store.get()).name);
      });
      sim.run();
      expect(got).toEqual(['e', 'b', 'd', 'c', 'a']);
    });
  }

  it('a filtered get on a priority store takes the best matching item', () => {
    const sim = new Simulation();
    const store = new PriorityStore<Job>(sim, { priority: (j) => j.urgency });
    for (const j of jobs) store.put(j);
    const get = store.get((j) => j.urgency > 0);
    expect(get.value?.name).toBe('b');
    expect(store.items.map((j) => j.name)).toEqual(['e', 'd', 'c', 'a']);
    sim.run();
  });

  it('waiting getters of a priority store get items as they arrive', () => {
    const sim = new Simulation();
    const store = new PriorityStore<number>(sim, { priority: (n) => n, capacity: 2 });
    const got: number[] = [];
    sim.process(function* () {
      yield sim.timeout(1);
      for (let i = 0; i < 4; i++) got.push(yield* store.get());
    });
    sim.process(function* () {
      for (const n of [9, 7, 8, 1]) yield* store.put(n);
    });
    sim.run();
    // At t=1 the store holds 9 and 7 (8 waits for room): 7, then 8 arrives, then 1 arrives after 8 is gone.
    expect(got).toEqual([7, 8, 1, 9]);
  });
});

describe('Store: withdrawing claims', () => {
  it('a within() deadline on a get withdraws it: a later item stays in the store', () => {
    const sim = new Simulation();
    const store = new Store<string>(sim);
    let timedOut: boolean | undefined;
    sim.process(function* () {
      timedOut = (yield* store.get().within(5)).timedOut;
    });
    sim.schedule(6, () => {
      expect(store.getQueueLength).toBe(0);
      store.put('x');
    });
    sim.run();
    expect(timedOut).toBe(true);
    expect(store.items).toEqual(['x']);
  });

  it('interrupting a waiting getter withdraws it, filtered or not', () => {
    const sim = new Simulation();
    const store = new Store<number>(sim);
    const a = sim.process(function* () {
      try {
        yield store.get((n) => n > 0);
      } catch (err) {
        expect(err).toBeInstanceOf(Interrupt);
      }
    });
    const b = sim.process(function* () {
      try {
        yield store.get();
      } catch (err) {
        expect(err).toBeInstanceOf(Interrupt);
      }
    });
    sim.schedule(1, () => {
      a.interrupt();
      b.interrupt();
    });
    sim.schedule(2, () => {
      expect(store.getQueueLength).toBe(0);
      store.put(1);
      store.put(2);
    });
    sim.run();
    expect(store.items).toEqual([1, 2]);
  });

  it('a get abandoned in the instant it took an item puts the item back in its place', () => {
    const sim = new Simulation();
    const store = new Store<number>(sim);
    for (const n of [1, 2, 3]) store.put(n);
    let get: StoreGet<number> | undefined;
    const taker = sim.process(function* taker() {
      get = store.get((n) => n === 2);
      try {
        yield get; // already triggered, not yet processed
      } catch (err) {
        expect(err).toBeInstanceOf(Interrupt);
      }
    });
    // Priority 0 runs after the taker started but before its get is processed.
    sim.schedule(
      0,
      () => {
        expect(store.items).toEqual([1, 3]);
        taker.interrupt();
      },
      { priority: 0 },
    );
    sim.run();
    expect(get?.triggered).toBe(true);
    expect(store.items).toEqual([1, 2, 3]);
  });

  it('an item put back goes to a getter that is waiting for it', () => {
    const sim = new Simulation();
    const store = new Store<string>(sim);
    const taker = sim.process(function* taker() {
      try {
        yield store.get();
      } catch {
        // interrupted
      }
    });
    let other: string | undefined;
    sim.process(function* other_() {
      other = yield* store.get();
    });
    sim.schedule(5, () => {
      store.put('x'); // goes to taker...
      taker.interrupt(); // ...who gives up in the same instant: 'x' goes to the next getter
    });
    sim.run();
    expect(other).toBe('x');
    expect(store.size).toBe(0);
  });

  it('a priority-store get abandoned after taking an item puts it back in priority order', () => {
    const sim = new Simulation();
    const store = new PriorityStore<number>(sim, { priority: (n) => n });
    for (const n of [3, 1, 2]) store.put(n);
    const taker = sim.process(function* () {
      try {
        yield store.get();
      } catch {
        // interrupted
      }
    });
    sim.schedule(0, () => taker.interrupt(), { priority: 0 });
    sim.run();
    expect(store.items).toEqual([1, 2, 3]);
  });

  it('interrupting a waiting put withdraws it; a put abandoned just after storing takes its item back', () => {
    const sim = new Simulation();
    const store = new Store<string>(sim, { capacity: 1 });
    store.put('first');
    const blocked = sim.process(function* blocked() {
      try {
        yield store.put('blocked');
      } catch {
        // interrupted
      }
    });
    sim.schedule(1, () => blocked.interrupt());
    sim.schedule(2, () => {
      expect(store.putQueueLength).toBe(0);
      store.get(); // room again: nothing waiting to fill it
      expect(store.size).toBe(0);
    });
    const quick = sim.process(function* quick() {
      yield sim.timeout(3);
      try {
        yield store.put('quick'); // stored at once, not yet processed
      } catch {
        // interrupted
      }
    });
    sim.process(function* () {
      yield sim.timeout(3);
      quick.interrupt();
    });
    sim.run();
    expect(store.size).toBe(0);
  });

  it('a within() deadline on a bounded put withdraws it', () => {
    const sim = new Simulation();
    const store = new Store<number>(sim, { capacity: 1 });
    store.put(1);
    let timedOut: boolean | undefined;
    sim.process(function* () {
      timedOut = (yield* store.put(2).within(3)).timedOut;
    });
    sim.schedule(5, () => store.get());
    sim.run();
    expect(timedOut).toBe(true);
    expect(store.size).toBe(0);
  });
});

describe('Store: bad input', () => {
  const sim = new Simulation();

  it('rejects bad capacities', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) {
      const err = thrown(() => new Store(sim, { capacity }));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/^Store: capacity must be an integer >= 1 or Infinity, got /);
    }
  });

  it('rejects a non-function filter or priority, and a priority that is not a finite number', () => {
    const store = new Store<number>(sim, { name: 'q' });
    expect(thrown(() => store.get(3 as unknown as () => boolean)).message).toBe(
      'filter must be a function (item) => boolean, got 3',
    );
    expect(thrown(() => new Store(sim, { priority: 'x' as unknown as () => number })).message).toMatch(
      /^Store: priority must be/,
    );
    expect(thrown(() => new PriorityStore(sim, {} as { priority: () => number })).message).toBe(
      'PriorityStore: priority must be a function (item) => number, got undefined',
    );
    const bad = new PriorityStore<number>(sim, { name: 'jobs', priority: () => Number.NaN });
    expect(thrown(() => bad.put(1)).message).toBe(
      "priority(item) of store 'jobs' must be a finite number, got NaN",
    );
    expect(bad.size).toBe(0);
  });
});
