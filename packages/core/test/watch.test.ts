import { describe, expect, it } from 'vitest';
import { DsimError } from '../src/errors.js';
import { exponential } from '../src/random/continuous.js';
import { Simulation } from '../src/simulation.js';
import { thrown } from './support/thrown.js';

/** `n` callbacks at times 1..n: exactly n events. */
function ticks(n: number, seed = 1): Simulation {
  const sim = new Simulation({ seed });
  for (let i = 1; i <= n; i++) sim.schedule(i, () => {});
  return sim;
}

/** Processes drawing random timeouts: a run whose digest depends on every event. */
function busy(seed: number): Simulation {
  const sim = new Simulation({ seed });
  const d = exponential({ mean: 3 });
  const rng = sim.rng('work');
  for (let p = 0; p < 20; p++) {
    sim.process(function* () {
      for (let i = 0; i < 50; i++) yield sim.timeout(d.sample(rng));
    });
  }
  return sim;
}

describe('sim.watch', () => {
  it('calls the check after every N processed events, across run() and step() calls', () => {
    const sim = ticks(100);
    const seen: Array<[number, number]> = [];
    sim.watch(10, (s) => seen.push([s.eventCount, s.now]));
    sim.run({ until: 25.5 });
    sim.step();
    sim.run({ maxEvents: 33 });
    sim.run();
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => [(i + 1) * 10, (i + 1) * 10]));
  });

  it('counts from the moment it was registered, and runs several checks each on its own period', () => {
    const sim = ticks(30);
    sim.run({ maxEvents: 5 });
    const sevens: number[] = [];
    const tens: number[] = [];
    sim.watch(10, (s) => tens.push(s.eventCount));
    sim.watch(7, (s) => sevens.push(s.eventCount));
    sim.run();
    expect(tens).toEqual([15, 25]);
    expect(sevens).toEqual([12, 19, 26]);
  });

  it('a throwing check aborts the run with that very error, time and seed filled in', () => {
    const sim = ticks(100, 42);
    const limit = new DsimError('RUN_LIMIT', 'stopped after 50 events (--max-events 50)');
    const off = sim.watch(25, (s) => {
      if (s.eventCount >= 50) throw limit;
    });
    let caught: unknown;
    try {
      sim.run();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBe(limit);
    expect(limit.code).toBe('RUN_LIMIT');
    expect(limit.simTime).toBe(50);
    expect(limit.seed).toBe('42');
    expect(sim.eventCount).toBe(50);
    // The simulation is usable afterwards: the rest of the events still run.
    off();
    expect(sim.run().events).toBe(50);
  });

  it('passes other errors through unwrapped, and keeps the time a DsimError already carries', () => {
    const sim = ticks(10);
    const plain = new Error('wall clock limit');
    sim.watch(3, () => {
      throw plain;
    });
    expect(() => sim.run()).toThrow(plain);
    const sim2 = ticks(10);
    const own = new DsimError('RUN_LIMIT', 'limit', { simTime: 1234, seed: 'cli' });
    sim2.watch(3, () => {
      throw own;
    });
    const err = thrown(() => sim2.run());
    expect(err).toBe(own);
    expect([err.simTime, err.seed]).toEqual([1234, 'cli']);
  });

  it('a check that throws during step() aborts the step the same way', () => {
    const sim = ticks(5);
    const limit = new DsimError('RUN_LIMIT', 'limit');
    sim.watch(2, () => {
      throw limit;
    });
    expect(sim.step()).toBe(true);
    expect(thrown(() => sim.step())).toBe(limit);
    expect(limit.simTime).toBe(2);
  });

  it('a check may stop the run gracefully with sim.stop()', () => {
    const sim = ticks(100);
    sim.watch(40, (s) => s.stop());
    expect(sim.run()).toEqual({ reason: 'stopped', now: 40, events: 40 });
  });

  it('unsubscribing stops the calls, also from inside the check', () => {
    const sim = ticks(100);
    const a: number[] = [];
    const b: number[] = [];
    const offA = sim.watch(10, (s) => a.push(s.eventCount));
    const offB = sim.watch(5, (s) => {
      b.push(s.eventCount);
      if (b.length === 3) offB();
    });
    sim.run({ until: 30.5 });
    offA();
    offA(); // harmless twice
    sim.run();
    expect(a).toEqual([10, 20, 30]);
    expect(b).toEqual([5, 10, 15]);
  });

  it('a check that only reads changes neither the events nor the digest', () => {
    const plain = busy(9);
    plain.run();
    const watched = busy(9);
    let calls = 0;
    watched.watch(1, () => calls++);
    watched.watch(97, () => {});
    watched.run();
    expect(calls).toBe(watched.eventCount);
    expect(watched.eventCount).toBe(plain.eventCount);
    expect(watched.digest()).toBe(plain.digest());
    expect(plain.eventCount).toBeGreaterThan(1000);
  });

  it('rejects a period that is not an integer >= 1 and a check that is not a function', () => {
    const sim = ticks(1);
    expect(thrown(() => sim.watch(1.5, () => {})).message).toBe(
      'Simulation.watch: everyEvents must be an integer >= 1, got 1.5',
    );
    expect(thrown(() => sim.watch(10, 'stop' as never)).message).toBe(
      'Simulation.watch: check must be a function (sim) => void, got "stop"',
    );
  });
});

describe('sim.watch with run({ maxEvents }): one compare per event for both', () => {
  it('runs a check due at the limit, then stops for the limit', () => {
    const sim = ticks(20);
    const seen: number[] = [];
    sim.watch(5, (s) => seen.push(s.eventCount));
    expect(sim.run({ maxEvents: 10 })).toEqual({ reason: 'maxEvents', now: 10, events: 10 });
    expect(seen).toEqual([5, 10]);
    expect(sim.run({ maxEvents: 7 })).toEqual({ reason: 'maxEvents', now: 17, events: 7 });
    expect(seen).toEqual([5, 10, 15]);
  });

  it('reports stop() from a check at the limit as stopped', () => {
    const sim = ticks(20);
    sim.watch(4, (s) => {
      if (s.eventCount === 8) s.stop();
    });
    expect(sim.run({ maxEvents: 8 })).toEqual({ reason: 'stopped', now: 8, events: 8 });
    expect(sim.run({ maxEvents: 4 })).toEqual({ reason: 'maxEvents', now: 12, events: 4 });
  });

  it('keeps the limit when a callback adds or removes a check mid-run', () => {
    const sim = ticks(40);
    const seen: number[] = [];
    let off = (): void => {};
    sim.schedule(3.5, () => {
      off = sim.watch(2, (s) => seen.push(s.eventCount));
    });
    sim.schedule(9.5, () => off());
    expect(sim.run({ maxEvents: 15 })).toEqual({ reason: 'maxEvents', now: 13, events: 15 });
    // Registered after the fourth event (3 ticks and itself): due at 6 and 8; removed at the eleventh.
    expect(seen).toEqual([6, 8, 10]);
  });

  it('leaves no limit behind: a later run() without one runs to the end, after a throw too', () => {
    const sim = ticks(30);
    const off = sim.watch(6, (s) => {
      if (s.eventCount === 12) throw new Error('abort');
    });
    expect(() => sim.run({ maxEvents: 20 })).toThrow('abort');
    off();
    expect(sim.run()).toEqual({ reason: 'empty', now: 30, events: 18 });
  });
});
