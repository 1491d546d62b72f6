import { describe, expect, it } from 'vitest';
import { DsimError } from '../src/errors.js';
import { Interrupt } from '../src/process.js';
import { Simulation } from '../src/simulation.js';

/** Small deterministic LCG (Numerical Recipes constants); returns integers in [0, 2^32). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
}

describe('event order: (time, priority, insertion)', () => {
  it('runs 1000 callbacks due at the same time and priority in scheduling order (FIFO)', () => {
    const sim = new Simulation();
    const order: number[] = [];
    for (let i = 0; i < 1000; i++) sim.schedule(5, () => order.push(i));
    const summary = sim.run();
    expect(order).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(summary).toEqual({ reason: 'empty', now: 5, events: 1000 });
  });

  it('keeps FIFO for callbacks scheduled at the same time from different times', () => {
    const sim = new Simulation();
    const order: string[] = [];
    sim.scheduleAt(10, () => order.push('a@0'));
    sim.schedule(3, () => {
      sim.scheduleAt(10, () => order.push('c@3'));
    });
    sim.scheduleAt(10, () => order.push('b@0'));
    sim.schedule(7, () => {
      sim.schedule(3, () => order.push('d@7'));
    });
    sim.run();
    expect(order).toEqual(['a@0', 'b@0', 'c@3', 'd@7']);
  });

  it('runs a lower priority number first at equal time, FIFO among equal priorities', () => {
    const sim = new Simulation();
    const order: string[] = [];
    sim.schedule(5, () => order.push('p3'), { priority: 3 });
    sim.schedule(5, () => order.push('default-a'));
    sim.schedule(5, () => order.push('p-2'), { priority: -2 });
    sim.schedule(5, () => order.push('p511'), { priority: 511 });
    sim.schedule(5, () => order.push('p1'), { priority: 1 });
    sim.schedule(5, () => order.push('p-512'), { priority: -512 });
    sim.schedule(5, () => order.push('p0'), { priority: 0 });
    sim.schedule(5, () => order.push('default-b'));
    sim.run();
    expect(order).toEqual(['p-512', 'p-2', 'p0', 'default-a', 'p1', 'default-b', 'p3', 'p511']);
  });

  it('lets time order dominate priority', () => {
    const sim = new Simulation();
    const order: string[] = [];
    sim.schedule(6, () => order.push('t6 p-512'), { priority: -512 });
    sim.schedule(5, () => order.push('t5 p511'), { priority: 511 });
    sim.schedule(5.5, () => order.push('t5.5 p0'), { priority: 0 });
    sim.run();
    expect(order).toEqual(['t5 p511', 't5.5 p0', 't6 p-512']);
  });

  it('starts a process before NORMAL events already queued for the same time', () => {
    const sim = new Simulation();
    const order: string[] = [];
    sim.schedule(0, () => order.push('callback@0'));
    sim.process(function* starter() {
      order.push('process@0');
      yield sim.timeout(0);
      order.push('process resumed@0');
    });
    sim.schedule(5, () => {
      sim.schedule(0, () => order.push('callback@5'));
      sim.process(function* late() {
        order.push('process@5');
        yield sim.timeout(1);
      });
    });
    sim.run();
    expect(order).toEqual(['process@0', 'callback@0', 'process resumed@0', 'process@5', 'callback@5']);
  });

  it('starts processes at priority 0: after priority < 0 and earlier priority-0 events at the same time', () => {
    const sim = new Simulation();
    const order: string[] = [];
    sim.schedule(0, () => order.push('p0 before'), { priority: 0 });
    sim.process(function* proc() {
      order.push('process');
      yield sim.timeout(1);
    });
    sim.schedule(0, () => order.push('p-1 after'), { priority: -1 });
    sim.schedule(0, () => order.push('p0 after'), { priority: 0 });
    sim.run();
    expect(order).toEqual(['p-1 after', 'p0 before', 'process', 'p0 after']);
  });

  it('delivers an interrupt before NORMAL events at the same time, even ones queued earlier', () => {
    const sim = new Simulation();
    const order: string[] = [];
    const sleeper = sim.process(function* sleeper() {
      try {
        yield sim.timeout(100);
      } catch (err) {
        order.push(err instanceof Interrupt ? `interrupted@${sim.now}` : 'other error');
      }
    });
    sim.schedule(5, () => {
      sim.schedule(0, () => order.push(`normal@${sim.now}`));
      sleeper.interrupt('wake up');
    });
    sim.run();
    expect(order).toEqual(['interrupted@5', 'normal@5']);
  });
});

describe('cancellation', () => {
  it('never runs a cancelled callback and does not count it', () => {
    const sim = new Simulation();
    const ran: string[] = [];
    sim.schedule(5, () => ran.push('a'));
    const h = sim.schedule(5, () => ran.push('cancelled'));
    sim.schedule(5, () => ran.push('b'));
    expect(h.cancelled).toBe(false);
    expect(h.time).toBe(5);
    h.cancel();
    expect(h.cancelled).toBe(true);
    const summary = sim.run();
    expect(ran).toEqual(['a', 'b']);
    expect(summary.events).toBe(2);
    expect(sim.eventCount).toBe(2);
  });

  it('is harmless to cancel twice', () => {
    const sim = new Simulation();
    const ran: string[] = [];
    const h = sim.schedule(5, () => ran.push('x'));
    h.cancel();
    h.cancel();
    expect(h.cancelled).toBe(true);
    sim.schedule(5, () => ran.push('y'));
    sim.run();
    expect(ran).toEqual(['y']);
  });

  it('is harmless to cancel after the callback ran (the flag stays false)', () => {
    const sim = new Simulation();
    let runs = 0;
    const h = sim.schedule(5, () => runs++);
    sim.run();
    h.cancel();
    expect(h.cancelled).toBe(false);
    expect(runs).toBe(1);
    let later = 0;
    sim.schedule(1, () => later++);
    sim.run();
    expect(later).toBe(1);
    expect(runs).toBe(1);
  });

  it('is harmless for a callback to cancel its own handle while it runs', () => {
    const sim = new Simulation();
    const ran: string[] = [];
    const holder: { h?: { cancel(): void; readonly cancelled: boolean } } = {};
    holder.h = sim.schedule(5, () => {
      ran.push('self');
      holder.h!.cancel();
      sim.schedule(0, () => ran.push('next'));
    });
    sim.run();
    expect(ran).toEqual(['self', 'next']);
    expect(holder.h.cancelled).toBe(false);
  });

  it('lets a callback cancel a later callback due at the same time', () => {
    const sim = new Simulation();
    const ran: string[] = [];
    sim.schedule(5, () => {
      ran.push('first');
      h.cancel();
    });
    const h = sim.schedule(5, () => ran.push('second'));
    sim.schedule(5, () => ran.push('third'));
    sim.run();
    expect(ran).toEqual(['first', 'third']);
  });
});

describe('run({ until })', () => {
  it('runs events strictly before until; an event due exactly at until runs in the next run()', () => {
    const sim = new Simulation();
    const ran: number[] = [];
    for (const t of [5, 9.999, 10, 10, 15]) sim.scheduleAt(t, () => ran.push(sim.now));
    const first = sim.run({ until: 10 });
    expect(ran).toEqual([5, 9.999]);
    expect(first).toEqual({ reason: 'until', now: 10, events: 2 });
    expect(sim.now).toBe(10);
    expect(sim.peek()).toBe(10);
    const second = sim.run();
    expect(ran).toEqual([5, 9.999, 10, 10, 15]);
    expect(second).toEqual({ reason: 'empty', now: 15, events: 3 });
  });

  it('does not run an event due at until that is scheduled during the run', () => {
    const sim = new Simulation();
    const ran: number[] = [];
    sim.schedule(4, () => {
      sim.scheduleAt(10, () => ran.push(sim.now));
      sim.scheduleAt(9, () => ran.push(sim.now));
    });
    sim.run({ until: 10 });
    expect(ran).toEqual([9]);
    expect(sim.now).toBe(10);
    sim.run({ until: 11 });
    expect(ran).toEqual([9, 10]);
    expect(sim.now).toBe(11);
  });

  it('sets now to until when the queue empties earlier', () => {
    const sim = new Simulation();
    let ran = 0;
    sim.schedule(3, () => ran++);
    const summary = sim.run({ until: 10 });
    expect(ran).toBe(1);
    expect(summary).toEqual({ reason: 'empty', now: 10, events: 1 });
    expect(sim.now).toBe(10);
  });

  it('advances an empty simulation to until', () => {
    const sim = new Simulation();
    expect(sim.run({ until: 10 })).toEqual({ reason: 'empty', now: 10, events: 0 });
    expect(sim.now).toBe(10);
    expect(sim.run({ until: '1s' })).toEqual({ reason: 'empty', now: 1000, events: 0 });
  });

  it('schedules relative to the new now after run({ until })', () => {
    const sim = new Simulation();
    sim.run({ until: 10 });
    const h = sim.schedule(5, () => {});
    expect(h.time).toBe(15);
  });

  it('runs nothing with until === now, even events due now', () => {
    const sim = new Simulation();
    let ran = 0;
    sim.schedule(0, () => ran++);
    expect(sim.run({ until: 0 })).toEqual({ reason: 'until', now: 0, events: 0 });
    expect(ran).toBe(0);
    sim.run();
    expect(ran).toBe(1);
  });

  it("reports the queue's end and until before the event limit, as it checks them first", () => {
    const sim = new Simulation();
    sim.schedule(1, () => {});
    sim.schedule(5, () => {});
    expect(sim.run({ maxEvents: 1 })).toEqual({ reason: 'maxEvents', now: 1, events: 1 });
    // One event left, at 5: the limit of 0 is reached, but `until` comes first.
    expect(sim.run({ maxEvents: 0, until: 3 })).toEqual({ reason: 'until', now: 3, events: 0 });
    // The limit and the queue's end together: the end.
    expect(sim.run({ maxEvents: 1 })).toEqual({ reason: 'empty', now: 5, events: 1 });
    expect(sim.run({ maxEvents: 0 })).toEqual({ reason: 'empty', now: 5, events: 0 });
  });

  it('processes every event exactly once over consecutive run({ until }) calls', () => {
    const sim = new Simulation();
    const seen = new Map<number, number>();
    const times: number[] = [];
    for (let t = 0; t <= 30; t += 0.5) times.push(t);
    for (const t of times) sim.scheduleAt(t, () => seen.set(t, (seen.get(t) ?? 0) + 1));
    const a = sim.run({ until: 10 });
    expect(a.reason).toBe('until');
    expect(sim.now).toBe(10);
    const b = sim.run({ until: 20 });
    expect(b.reason).toBe('until');
    expect(sim.now).toBe(20);
    const c = sim.run({ until: 30 });
    expect(sim.now).toBe(30);
    const d = sim.run({ until: 40 });
    expect(d.reason).toBe('empty');
    expect(sim.now).toBe(40);
    expect(a.events + b.events + c.events + d.events).toBe(times.length);
    expect(a.events).toBe(20); // 0 .. 9.5
    expect(b.events).toBe(20); // 10 .. 19.5
    expect(c.events).toBe(20); // 20 .. 29.5
    expect(d.events).toBe(1); // 30
    expect([...seen.keys()]).toEqual(times);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('run({ maxEvents }), step(), stop(), peek()', () => {
  it('stops after maxEvents events and resumes where it left off', () => {
    const sim = new Simulation();
    const ran: number[] = [];
    for (let i = 1; i <= 10; i++) sim.schedule(i, () => ran.push(i));
    expect(sim.run({ maxEvents: 3 })).toEqual({ reason: 'maxEvents', now: 3, events: 3 });
    expect(ran).toEqual([1, 2, 3]);
    expect(sim.run({ maxEvents: 3 })).toEqual({ reason: 'maxEvents', now: 6, events: 3 });
    expect(sim.run({ maxEvents: 0 })).toEqual({ reason: 'maxEvents', now: 6, events: 0 });
    expect(sim.run()).toEqual({ reason: 'empty', now: 10, events: 4 });
    expect(ran).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('does not count cancelled entries towards maxEvents', () => {
    const sim = new Simulation();
    const ran: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const h = sim.schedule(i, () => ran.push(i));
      if (i % 2 === 0) h.cancel();
    }
    expect(sim.run({ maxEvents: 2 })).toEqual({ reason: 'maxEvents', now: 3, events: 2 });
    expect(ran).toEqual([1, 3]);
  });

  it('lets maxEvents and until combine: whichever comes first', () => {
    const sim = new Simulation();
    for (let i = 1; i <= 10; i++) sim.schedule(i, () => {});
    expect(sim.run({ until: 5, maxEvents: 100 })).toEqual({ reason: 'until', now: 5, events: 4 });
    expect(sim.run({ until: 50, maxEvents: 2 })).toEqual({ reason: 'maxEvents', now: 6, events: 2 });
  });

  it('step() processes exactly one event and returns false on an empty queue', () => {
    const sim = new Simulation();
    expect(sim.step()).toBe(false);
    const ran: string[] = [];
    sim.schedule(2, () => ran.push('a'));
    sim.schedule(2, () => ran.push('b'));
    sim.schedule(7, () => ran.push('c'));
    expect(sim.step()).toBe(true);
    expect(ran).toEqual(['a']);
    expect(sim.now).toBe(2);
    expect(sim.eventCount).toBe(1);
    expect(sim.step()).toBe(true);
    expect(ran).toEqual(['a', 'b']);
    expect(sim.step()).toBe(true);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(sim.now).toBe(7);
    expect(sim.step()).toBe(false);
    expect(sim.now).toBe(7);
    expect(sim.eventCount).toBe(3);
  });

  it('step() skips cancelled entries and returns false when only cancelled ones are left', () => {
    const sim = new Simulation();
    const ran: number[] = [];
    sim.schedule(1, () => ran.push(1)).cancel();
    sim.schedule(2, () => ran.push(2));
    sim.schedule(3, () => ran.push(3)).cancel();
    expect(sim.step()).toBe(true);
    expect(ran).toEqual([2]);
    expect(sim.now).toBe(2);
    expect(sim.step()).toBe(false);
    expect(sim.now).toBe(2);
    expect(sim.eventCount).toBe(1);
  });

  it('stop() inside a callback ends run() with reason "stopped" after that event', () => {
    const sim = new Simulation();
    const ran: string[] = [];
    sim.schedule(5, () => {
      ran.push('stopper');
      sim.stop();
    });
    sim.schedule(5, () => ran.push('same time, later'));
    sim.schedule(6, () => ran.push('t6'));
    const summary = sim.run({ until: 100 });
    expect(summary).toEqual({ reason: 'stopped', now: 5, events: 1 });
    expect(ran).toEqual(['stopper']);
    expect(sim.now).toBe(5);
    const rest = sim.run();
    expect(rest).toEqual({ reason: 'empty', now: 6, events: 2 });
    expect(ran).toEqual(['stopper', 'same time, later', 't6']);
  });

  it('stop() inside a process ends run() with reason "stopped"', () => {
    const sim = new Simulation();
    let ticks = 0;
    sim.process(function* ticker() {
      for (;;) {
        yield sim.timeout(10);
        ticks++;
        if (ticks === 3) sim.stop();
      }
    });
    expect(sim.run()).toMatchObject({ reason: 'stopped', now: 30 });
    expect(ticks).toBe(3);
    expect(sim.run({ until: 55 })).toMatchObject({ reason: 'until', now: 55 });
    expect(ticks).toBe(5);
  });

  it('stop() outside run() does not affect the next run()', () => {
    const sim = new Simulation();
    let ran = 0;
    sim.schedule(1, () => ran++);
    sim.schedule(2, () => ran++);
    sim.stop();
    expect(sim.run()).toEqual({ reason: 'empty', now: 2, events: 2 });
    expect(ran).toBe(2);
  });

  it('peek() returns the next due time, skipping cancelled entries, and Infinity when empty', () => {
    const sim = new Simulation();
    expect(sim.peek()).toBe(Infinity);
    const a = sim.schedule(5, () => {});
    const b = sim.schedule(6, () => {});
    sim.schedule(7, () => {});
    expect(sim.peek()).toBe(5);
    a.cancel();
    expect(sim.peek()).toBe(6);
    b.cancel();
    expect(sim.peek()).toBe(7);
    // peek neither advances time nor processes anything
    expect(sim.now).toBe(0);
    expect(sim.eventCount).toBe(0);
    sim.run();
    expect(sim.eventCount).toBe(1);
    expect(sim.peek()).toBe(Infinity);
  });

  it('peek() returns Infinity when only cancelled entries are queued', () => {
    const sim = new Simulation();
    sim.schedule(5, () => {}).cancel();
    sim.schedule(9, () => {}).cancel();
    expect(sim.peek()).toBe(Infinity);
    expect(sim.run()).toEqual({ reason: 'empty', now: 0, events: 0 });
  });

  it('throws INVALID_STATE when run() is called from inside a run', () => {
    const sim = new Simulation();
    let caught: unknown;
    sim.schedule(1, () => {
      try {
        sim.run();
      } catch (err) {
        caught = err;
      }
    });
    sim.run();
    expect(caught).toBeInstanceOf(DsimError);
    expect((caught as DsimError).code).toBe('INVALID_STATE');
  });

  // BUG (reported): eventCount is only updated when run() returns (simulation.ts, run(): the
  // `finally { this.processedEvents += processed }`), so code running inside run() sees a stale count.
  it('eventCount is current while run() is processing events', () => {
    const sim = new Simulation();
    const seen: number[] = [];
    for (const t of [1, 2, 3]) sim.schedule(t, () => seen.push(sim.eventCount));
    sim.run();
    expect(seen).toEqual([1, 2, 3]);
  });

  // BUG (reported): step() has no re-entrancy guard (run() has one), so a callback calling step() inside
  // run({ until: 10 }) processes an event due at 50, and run() then sets now back to 10.
  it('step() inside run({ until }) cannot run events past until or move time backwards', () => {
    const sim = new Simulation();
    const ran: number[] = [];
    const nows: number[] = [];
    sim.schedule(1, () => {
      try {
        sim.step();
      } catch {
        // refusing nested step() (INVALID_STATE) is an acceptable fix
      }
      nows.push(sim.now);
    });
    sim.schedule(50, () => ran.push(sim.now));
    sim.run({ until: 10 });
    nows.push(sim.now);
    expect(ran).toEqual([]);
    expect(nows).toEqual([1, 10]);
    sim.run();
    expect(ran).toEqual([50]);
  });
});

describe('queue storage', () => {
  it('grows past its initial 1024 slots and keeps (time, insertion) order for 5000 random events', () => {
    const sim = new Simulation();
    const next = lcg(20240601);
    const expected: Array<{ t: number; i: number }> = [];
    const got: Array<{ t: number; i: number }> = [];
    for (let i = 0; i < 5000; i++) {
      // integer times in [0, 500): many ties, so insertion order matters
      const t = next() % 500;
      expected.push({ t, i });
      sim.scheduleAt(t, () => got.push({ t: sim.now, i }));
    }
    expect(sim.queueSize).toBe(5000);
    sim.run();
    expected.sort((a, b) => a.t - b.t || a.i - b.i);
    expect(got).toHaveLength(5000);
    expect(got).toEqual(expected);
    expect(sim.queueSize).toBe(0);
  });

  it('keeps order when the queue grows while running, with cancellations mixed in', () => {
    const sim = new Simulation();
    const next = lcg(7);
    const got: Array<{ t: number; i: number }> = [];
    const expected: Array<{ t: number; i: number }> = [];
    let i = 0;
    sim.schedule(0, () => {
      for (let k = 0; k < 3000; k++) {
        const t = 1 + (next() % 200) + (next() % 4) / 4;
        const id = i++;
        const h = sim.scheduleAt(t, () => got.push({ t: sim.now, i: id }));
        if (next() % 5 === 0) h.cancel();
        else expected.push({ t, i: id });
      }
    });
    sim.run();
    expected.sort((a, b) => a.t - b.t || a.i - b.i);
    expect(got).toEqual(expected);
  });

  it('never lets a stale handle cancel the entry that reused its slot', () => {
    const sim = new Simulation();
    const ran: string[] = [];
    const old = sim.schedule(1, () => ran.push('old'));
    sim.run();
    // the freed slot is reused by the next entries
    sim.schedule(1, () => ran.push('new-1'));
    sim.schedule(2, () => ran.push('new-2'));
    old.cancel();
    expect(old.cancelled).toBe(false);
    sim.run();
    expect(ran).toEqual(['old', 'new-1', 'new-2']);
  });

  it('never lets a handle whose cancelled entry was freed cancel the entry reusing its slot', () => {
    const sim = new Simulation();
    const ran: string[] = [];
    const cancelled = sim.schedule(1, () => ran.push('cancelled'));
    cancelled.cancel();
    expect(sim.peek()).toBe(Infinity); // frees the cancelled slot
    sim.schedule(1, () => ran.push('reuser'));
    cancelled.cancel();
    sim.run();
    expect(ran).toEqual(['reuser']);
  });

  it('keeps many stale handles inert across slot reuse', () => {
    const sim = new Simulation();
    let oldRuns = 0;
    let newRuns = 0;
    const olds = Array.from({ length: 2000 }, (_, i) => sim.schedule(i % 17, () => oldRuns++));
    sim.run();
    for (let i = 0; i < 2000; i++) sim.schedule(i % 13, () => newRuns++);
    for (const h of olds) h.cancel();
    sim.run();
    expect(oldRuns).toBe(2000);
    expect(newRuns).toBe(2000);
  });

  it('never lets a processed timeout cancel the entry that reused its slot', () => {
    const sim = new Simulation();
    const ran: string[] = [];
    const t = sim.timeout(1);
    sim.run();
    expect(t.processed).toBe(true);
    sim.schedule(1, () => ran.push('reuser'));
    t.cancel();
    sim.run();
    expect(ran).toEqual(['reuser']);
  });
});

describe('the now lane and the held heap top keep the order exact', () => {
  it('random schedules, same-time chains, priorities and cancellations: each event runs when it is the least pending (time, priority, seq)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = lcg(seed);
      const sim = new Simulation({ seed });
      const keys: Array<{ t: number; priority: number; seq: number }> = [];
      // The reference queue: every scheduled, not yet run, not cancelled callback.
      const pending = new Set<number>();
      const less = (a: number, b: number): boolean => {
        const x = keys[a]!;
        const y = keys[b]!;
        return (
          x.t < y.t ||
          (x.t === y.t && (x.priority < y.priority || (x.priority === y.priority && x.seq < y.seq)))
        );
      };
      let runs = 0;
      let budget = 3000;
      const schedule = (): void => {
        if (budget-- <= 0) return;
        const r = next() % 10;
        // Half due now (the lane, or the heap for other priorities), the rest a little later.
        const delay = r < 5 ? 0 : (next() % 4) * 0.5;
        const priority = r === 0 ? 0 : r === 1 ? 2 : 1;
        const id = keys.length;
        keys.push({ t: sim.now + delay, priority, seq: id });
        pending.add(id);
        const handle = sim.schedule(
          delay,
          () => {
            let least = -1;
            for (const p of pending) if (least < 0 || less(p, least)) least = p;
            expect(id, `seed ${seed}: ran ${id} while ${least} was due first`).toBe(least);
            pending.delete(id);
            runs++;
            const children = next() % 3;
            for (let c = 0; c < children; c++) schedule();
          },
          { priority },
        );
        if (next() % 11 === 0) {
          handle.cancel();
          pending.delete(id);
        }
      };
      for (let i = 0; i < 20; i++) schedule();
      sim.run();
      expect(pending.size).toBe(0);
      expect(runs, `seed ${seed}`).toBeGreaterThan(20);
    }
  });
});
