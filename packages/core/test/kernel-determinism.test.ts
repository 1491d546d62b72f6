import { describe, expect, it } from 'vitest';
import type { Process } from '../src/process.js';
import { Simulation } from '../src/simulation.js';
import type { TraceRecord } from '../src/trace.js';

/** Small deterministic LCG; returns floats in [0, 1). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface WorkloadOptions {
  /** Adds this many ms to one particular delay (to make a "different" workload). */
  tweak?: number;
  /** Attach a trace listener before the run. */
  trace?: boolean;
  seed?: number | string;
}

interface WorkloadResult {
  digest: string;
  events: number;
  now: number;
  trace: TraceRecord[];
  log: string[];
}

/**
 * A mixed workload: customers arriving at LCG-random times, each doing a few timed steps and sometimes
 * spawning and joining a helper; periodic plain callbacks; a supervisor that interrupts the slowest
 * customer; allOf / anyOf / within waits; cancelled callbacks.
 */
function workload(options: WorkloadOptions = {}): WorkloadResult {
  const sim = new Simulation({ seed: options.seed ?? 'determinism' });
  const trace: TraceRecord[] = [];
  if (options.trace) sim.inspect((r) => trace.push(r));
  const rnd = lcg(12345);
  const log: string[] = [];
  const customers: Array<Process<string>> = [];
  let delays = 0;
  const delay = (scale: number): number => {
    const d = Math.floor(rnd() * scale * 1000) / 1000;
    delays++;
    return delays === 17 ? d + (options.tweak ?? 0) : d;
  };

  sim.process(function* arrivals() {
    for (let i = 0; i < 40; i++) {
      yield sim.timeout(delay(20));
      const id = i;
      const c = sim.process(function* customer() {
        try {
          for (let step = 0; step < 3; step++) {
            yield sim.timeout(delay(15));
            sim.log('step', { id, step });
          }
          if (id % 3 === 0) {
            const helper = sim.process(function* helper() {
              yield sim.timeout(delay(5));
              return id * 2;
            });
            const doubled = yield* helper;
            log.push(`c${id} helper ${doubled}@${sim.now}`);
          }
          if (id % 4 === 1) {
            const [a, b] = yield* sim.allOf([sim.timeout(delay(3), 'a'), sim.timeout(delay(3), 'b')]);
            log.push(`c${id} all ${a}${b}@${sim.now}`);
          }
          if (id % 5 === 2) {
            const r = yield* sim.anyOf([sim.timeout(delay(8), 'x'), sim.timeout(delay(8), 'y')]);
            log.push(`c${id} any ${r.index}@${sim.now}`);
          }
          if (id % 6 === 5) {
            const r = yield* sim.event<number>().within(delay(4));
            log.push(`c${id} within ${r.timedOut}@${sim.now}`);
          }
          return `c${id}`;
        } catch (err) {
          log.push(`c${id} interrupted@${sim.now}: ${String((err as Error).cause)}`);
          return `c${id}!`;
        }
      }, `customer-${id}`);
      customers.push(c);
    }
  });

  // periodic callbacks, some cancelled
  for (let k = 0; k < 30; k++) {
    const h = sim.schedule(
      k * 13 + delay(2),
      () => {
        log.push(`tick${k}@${sim.now}`);
        sim.log('tick', { k });
      },
      { priority: k % 3 },
    );
    if (k % 7 === 3) h.cancel();
  }

  sim.process(function* supervisor() {
    for (let round = 0; round < 5; round++) {
      yield sim.timeout(delay(60));
      const victim = customers.find((c) => c.isAlive && c.waitingFor !== null);
      if (victim) victim.interrupt(`round ${round}`);
    }
  });

  sim.run();
  return { digest: sim.digest(), events: sim.eventCount, now: sim.now, trace, log };
}

describe('determinism', () => {
  it('gives the same digest, trace and outcome when the same workload runs twice', () => {
    const a = workload({ trace: true });
    const b = workload({ trace: true });
    expect(a.events).toBeGreaterThan(200);
    expect(a.log.some((l) => l.includes('interrupted'))).toBe(true);
    expect(a.log.some((l) => l.includes('helper'))).toBe(true);
    expect(a.digest).toMatch(/^[0-9a-f]{16}$/);
    expect(b.digest).toBe(a.digest);
    expect(b.events).toBe(a.events);
    expect(b.now).toBe(a.now);
    expect(b.log).toEqual(a.log);
    expect(b.trace).toEqual(a.trace);
    expect(a.trace.length).toBeGreaterThan(100);
  });

  it('gives a different digest when one delay changes', () => {
    const base = workload();
    const changed = workload({ tweak: 1 });
    expect(changed.digest).not.toBe(base.digest);
  });

  it('gives the same digest with tracing off and on (tracing must not change the run)', () => {
    const off = workload({ trace: false });
    const on = workload({ trace: true });
    expect(on.trace.length).toBeGreaterThan(0);
    expect(off.trace).toEqual([]);
    expect(on.digest).toBe(off.digest);
    expect(on.events).toBe(off.events);
    expect(on.now).toBe(off.now);
    expect(on.log).toEqual(off.log);
  });

  it('changes the digest with the time of events', () => {
    const at = (t: number): string => {
      const sim = new Simulation();
      sim.schedule(t, () => {});
      sim.run();
      return sim.digest();
    };
    expect(at(5)).toBe(at(5));
    expect(at(6)).not.toBe(at(5));
    expect(at(5.000001)).not.toBe(at(5));
    expect(at(5 * 2 ** 20)).not.toBe(at(5));
  });

  it('changes the digest with the order and number of events', () => {
    const run = (times: number[]): string => {
      const sim = new Simulation();
      for (const t of times) sim.scheduleAt(t, () => {});
      sim.run();
      return sim.digest();
    };
    expect(run([1, 2])).not.toBe(run([1]));
    expect(run([1, 1])).not.toBe(run([1]));
    expect(run([1, 2, 3])).not.toBe(run([1, 3, 3]));
  });

  it('changes the digest with the kind of event at the same time', () => {
    const withCallback = new Simulation();
    withCallback.schedule(5, () => {});
    withCallback.run();
    const withTimeout = new Simulation();
    withTimeout.timeout(5);
    withTimeout.run();
    expect(withTimeout.digest()).not.toBe(withCallback.digest());
  });

  it('starts from the same digest, which processed events change and cancelled ones do not', () => {
    const empty = new Simulation().digest();
    expect(new Simulation({ seed: 'other' }).digest()).toBe(empty);
    const sim = new Simulation();
    sim.schedule(1, () => {}).cancel();
    sim.run();
    expect(sim.digest()).toBe(empty);
    sim.schedule(1, () => {});
    sim.run();
    expect(sim.digest()).not.toBe(empty);
  });

  it('gives the same digest whether the run is done in one go, in until-slices or by step()', () => {
    const build = (): Simulation => {
      const sim = new Simulation();
      const rnd = lcg(99);
      for (let i = 0; i < 300; i++) sim.schedule(Math.floor(rnd() * 1000), () => {});
      sim.process(function* p() {
        for (let i = 0; i < 20; i++) yield sim.timeout(37);
      });
      return sim;
    };
    const whole = build();
    whole.run();
    const sliced = build();
    for (let t = 100; t <= 1100; t += 100) sliced.run({ until: t });
    const stepped = build();
    while (stepped.step()) {
      // one event at a time
    }
    expect(sliced.digest()).toBe(whole.digest());
    expect(stepped.digest()).toBe(whole.digest());
    expect(sliced.eventCount).toBe(whole.eventCount);
    expect(stepped.eventCount).toBe(whole.eventCount);
  });
});

describe('inspect()', () => {
  it('delivers records with increasing seq and non-decreasing time', () => {
    const { trace } = workload({ trace: true });
    expect(trace.length).toBeGreaterThan(100);
    trace.forEach((r, i) => {
      expect(r.seq).toBe(i);
      if (i > 0) expect(r.t).toBeGreaterThanOrEqual(trace[i - 1]!.t);
    });
    const types = new Set(trace.map((r) => r.type));
    expect(types).toContain('@dsim.process.start');
    expect(types).toContain('@dsim.process.end');
    expect(types).toContain('@dsim.process.interrupt');
    expect(types).toContain('@dsim.log');
    // base fields first, in this order
    expect(Object.keys(trace[0]!).slice(0, 3)).toEqual(['t', 'seq', 'type']);
  });

  it('records log messages with their node and data', () => {
    const sim = new Simulation();
    const records: TraceRecord[] = [];
    sim.inspect((r) => records.push(r));
    sim.schedule(3, () => sim.log('hello', { n: 1 }, 'node-a'));
    sim.schedule(4, () => sim.log('bare'));
    sim.run();
    expect(records).toEqual([
      { t: 3, seq: 0, type: '@dsim.log', node: 'node-a', message: 'hello', data: { n: 1 } },
      { t: 4, seq: 1, type: '@dsim.log', node: null, message: 'bare' },
    ]);
  });

  it('stops delivering records once detached, and tracing turns off with the last listener', () => {
    const sim = new Simulation();
    const first: TraceRecord[] = [];
    const second: TraceRecord[] = [];
    expect(sim.tracing).toBe(false);
    const offFirst = sim.inspect((r) => first.push(r));
    const offSecond = sim.inspect((r) => second.push(r));
    expect(sim.tracing).toBe(true);
    sim.schedule(1, () => sim.log('both'));
    sim.schedule(2, () => offFirst());
    sim.schedule(3, () => sim.log('second only'));
    sim.schedule(4, () => offSecond());
    sim.schedule(5, () => sim.log('nobody'));
    sim.run();
    expect(first.map((r) => r.message)).toEqual(['both']);
    expect(second.map((r) => r.message)).toEqual(['both', 'second only']);
    expect(second.map((r) => r.seq)).toEqual([0, 1]);
    expect(sim.tracing).toBe(false);
    offFirst(); // detaching twice is harmless
    expect(sim.tracing).toBe(false);
  });

  it('emit() with no listener does nothing and costs no seq number', () => {
    const sim = new Simulation();
    sim.emit('custom.before', { x: 1 });
    const records: TraceRecord[] = [];
    sim.inspect((r) => records.push(r));
    sim.emit('custom.after', { x: 2 });
    expect(records).toEqual([{ t: 0, seq: 0, type: 'custom.after', x: 2 }]);
  });
});
