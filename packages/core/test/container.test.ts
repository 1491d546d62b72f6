import { describe, expect, expectTypeOf, it } from 'vitest';
import { Container } from '../src/container.js';
import { Interrupt } from '../src/process.js';
import { Simulation } from '../src/simulation.js';
import type { TraceRecord } from '../src/trace.js';
import { thrown } from './support/thrown.js';

describe('Container: levels', () => {
  it('starts at init; put and get change the level at once when they can', () => {
    const sim = new Simulation();
    const tank = new Container(sim, { capacity: 100, init: 40 });
    expect(tank.level).toBe(40);
    let got: number | undefined;
    sim.process(function* () {
      yield* tank.put(10);
      got = yield* tank.get(25);
      expectTypeOf(got).toEqualTypeOf<number>();
    });
    sim.run();
    expect(got).toBe(25);
    expect(tank.level).toBe(25);
    expect(new Container(sim).capacity).toBe(Infinity);
    expect(new Container(sim).level).toBe(0);
  });

  it('handles continuous amounts', () => {
    const sim = new Simulation();
    const c = new Container(sim, { capacity: 1 });
    c.put(0.5);
    c.put(0.25);
    c.get(0.125);
    expect(c.level).toBe(0.625);
    const over = c.put(0.5);
    expect(over.triggered).toBe(false);
    c.get(0.125);
    expect(over.triggered).toBe(true);
    expect(c.level).toBe(1);
    sim.run();
  });

  it('a get waits until the level is high enough', () => {
    const sim = new Simulation();
    const c = new Container(sim);
    let at = -1;
    sim.process(function* () {
      yield* c.get(5);
      at = sim.now;
    });
    sim.schedule(1, () => c.put(3));
    sim.schedule(2, () => {
      expect(c.getQueueLength).toBe(1);
      c.put(3);
    });
    sim.run();
    expect(at).toBe(2);
    expect(c.level).toBe(1);
  });

  it('a put waits while it would overflow', () => {
    const sim = new Simulation();
    const c = new Container(sim, { capacity: 10, init: 8 });
    let at = -1;
    sim.process(function* () {
      yield* c.put(5);
      at = sim.now;
    });
    sim.schedule(1, () => {
      expect(c.putQueueLength).toBe(1);
      c.get(2); // 6 + 5 > 10: still waiting
    });
    sim.schedule(3, () => c.get(1));
    sim.run();
    expect(at).toBe(3);
    expect(c.level).toBe(10);
  });

  it('waiting gets are served strictly FIFO: a large head get holds back smaller ones', () => {
    const sim = new Simulation();
    const c = new Container(sim);
    const log: string[] = [];
    const getter = (name: string, amount: number) =>
      sim.process(function* () {
        yield* c.get(amount);
        log.push(`${name}@${sim.now}`);
      });
    getter('big', 8);
    getter('small', 2);
    sim.schedule(1, () => c.put(5)); // enough for 'small', but 'big' is first
    sim.schedule(2, () => c.put(5));
    sim.run();
    expect(log).toEqual(['big@2', 'small@2']);
    expect(c.level).toBe(0);
  });

  it('waiting puts are served strictly FIFO', () => {
    const sim = new Simulation();
    const c = new Container(sim, { capacity: 10, init: 10 });
    const log: string[] = [];
    const putter = (name: string, amount: number) =>
      sim.process(function* () {
        yield* c.put(amount);
        log.push(`${name}@${sim.now}`);
      });
    putter('big', 6);
    putter('small', 1);
    sim.schedule(1, () => c.get(3));
    sim.schedule(2, () => c.get(4));
    sim.run();
    expect(log).toEqual(['big@2', 'small@2']);
    expect(c.level).toBe(10);
  });

  it('traces put and get records', () => {
    const sim = new Simulation();
    const records: TraceRecord[] = [];
    sim.inspect((r) => records.push(r));
    const c = new Container(sim, { name: 'fuel' });
    sim.process(function* p() {
      yield* c.put(4);
      yield* c.get(3);
    });
    sim.run();
    const own = records
      .filter((r) => r.type.startsWith('@dsim.container.'))
      .map(({ seq: _seq, ...rest }) => rest);
    expect(own).toEqual([
      { t: 0, type: '@dsim.container.put', container: 'fuel', process: 'p', amount: 4, level: 4 },
      { t: 0, type: '@dsim.container.get', container: 'fuel', process: 'p', amount: 3, level: 1 },
    ]);
  });
});

describe('Container: withdrawing claims', () => {
  it('a within() deadline withdraws a get: a later put stays in the container', () => {
    const sim = new Simulation();
    const c = new Container(sim);
    let timedOut: boolean | undefined;
    sim.process(function* () {
      timedOut = (yield* c.get(5).within(2)).timedOut;
    });
    sim.schedule(3, () => {
      expect(c.getQueueLength).toBe(0);
      c.put(5);
    });
    sim.run();
    expect(timedOut).toBe(true);
    expect(c.level).toBe(5);
  });

  it('a withdrawn head get no longer holds back the gets behind it', () => {
    const sim = new Simulation();
    const c = new Container(sim);
    const big = sim.process(function* () {
      try {
        yield c.get(100);
      } catch (err) {
        expect(err).toBeInstanceOf(Interrupt);
      }
    });
    let smallAt = -1;
    sim.process(function* () {
      yield* c.get(1);
      smallAt = sim.now;
    });
    sim.schedule(1, () => c.put(1));
    sim.schedule(2, () => big.interrupt());
    sim.schedule(3, () => c.put(1));
    sim.run();
    expect(smallAt).toBe(3);
    expect(c.level).toBe(1);
  });

  it('a get abandoned in the instant it was served gives its amount back', () => {
    const sim = new Simulation();
    const c = new Container(sim, { init: 10 });
    const taker = sim.process(function* () {
      try {
        yield c.get(4); // served at once, not yet processed
      } catch {
        // interrupted
      }
    });
    // Priority 0 runs after the taker started but before its served get is processed.
    sim.schedule(
      0,
      () => {
        expect(c.level).toBe(6);
        taker.interrupt();
      },
      { priority: 0 },
    );
    sim.run();
    expect(c.level).toBe(10);
  });

  it('a put abandoned while waiting is withdrawn; one abandoned just after being served is undone', () => {
    const sim = new Simulation();
    const c = new Container(sim, { capacity: 5, init: 5 });
    const waiting = sim.process(function* () {
      try {
        yield c.put(3);
      } catch {
        // interrupted
      }
    });
    sim.schedule(1, () => waiting.interrupt());
    sim.schedule(2, () => {
      expect(c.putQueueLength).toBe(0);
      c.get(5);
      expect(c.level).toBe(0);
    });
    const quick = sim.process(function* () {
      yield sim.timeout(3);
      try {
        yield c.put(2);
      } catch {
        // interrupted
      }
    });
    sim.process(function* () {
      yield sim.timeout(3);
      quick.interrupt();
    });
    sim.run();
    expect(c.level).toBe(0);
  });
});

describe('Container: bad input', () => {
  const sim = new Simulation();

  it('rejects bad capacity and init, naming the field', () => {
    for (const capacity of [0, -1, Number.NaN, '5' as unknown as number]) {
      expect(thrown(() => new Container(sim, { capacity })).message).toMatch(
        /^Container: capacity must be a number > 0 or Infinity, got /,
      );
    }
    expect(thrown(() => new Container(sim, { init: -1 })).message).toBe(
      'Container: init must be a finite number >= 0, got -1',
    );
    expect(thrown(() => new Container(sim, { capacity: 5, init: 6 })).message).toBe(
      'Container: init must be a number in [0, capacity (5)], got 6',
    );
  });

  it('rejects amounts that are not finite numbers > 0, or above the capacity', () => {
    const c = new Container(sim, { capacity: 10, name: 'tank' });
    for (const amount of [0, -1, Number.NaN, Infinity]) {
      expect(thrown(() => c.put(amount)).message).toMatch(
        /^Container 'tank': amount must be a finite number > 0, got /,
      );
      expect(thrown(() => c.get(amount)).message).toMatch(
        /^Container 'tank': amount must be a finite number > 0, got /,
      );
    }
    const err = thrown(() => c.get(11));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe("amount must be at most the capacity (10) of container 'tank', got 11");
    expect(c.getQueueLength + c.putQueueLength).toBe(0);
  });
});
