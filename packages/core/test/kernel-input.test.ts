import { describe, expect, it } from 'vitest';
import { toMs } from '../src/duration.js';
import { DsimError, type DsimErrorCode } from '../src/errors.js';
import { Simulation } from '../src/simulation.js';

/**
 * Runs `fn`, which must throw a DsimError with `code` whose message contains every one of `parts`
 * (the field name and the bad value, as the error contract asks). Returns the error.
 */
function expectDsimError(fn: () => unknown, code: DsimErrorCode, ...parts: string[]): DsimError {
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  expect(error, 'expected a DsimError to be thrown').toBeInstanceOf(DsimError);
  const e = error as DsimError;
  expect(e.code).toBe(code);
  for (const part of parts) expect(e.message).toContain(part);
  return e;
}

const noop = (): void => {};

describe('new Simulation()', () => {
  it('rejects a NaN seed', () => {
    const e = expectDsimError(() => new Simulation({ seed: Number.NaN }), 'INVALID_ARGUMENT', 'seed', 'NaN');
    expect(e.details).toMatchObject({ field: 'seed' });
  });

  it('rejects an empty string seed', () => {
    expectDsimError(() => new Simulation({ seed: '' }), 'INVALID_ARGUMENT', 'seed', '""');
  });

  it('rejects infinite and non-number, non-string seeds', () => {
    expectDsimError(() => new Simulation({ seed: Infinity }), 'INVALID_ARGUMENT', 'seed', 'Infinity');
    expectDsimError(() => new Simulation({ seed: {} as any }), 'INVALID_ARGUMENT', 'seed', '{}');
    expectDsimError(() => new Simulation({ seed: true as any }), 'INVALID_ARGUMENT', 'seed', 'true');
  });

  it('accepts numbers and strings, compared as strings, and defaults to 1', () => {
    expect(new Simulation().seed).toBe('1');
    expect(new Simulation({ seed: 1 }).seed).toBe('1');
    expect(new Simulation({ seed: '1' }).seed).toBe('1');
    expect(new Simulation({ seed: 0 }).seed).toBe('0');
    expect(new Simulation({ seed: -3.5 }).seed).toBe('-3.5');
    expect(new Simulation({ seed: 'run-a' }).seed).toBe('run-a');
  });
});

describe('timeout()', () => {
  const sim = new Simulation();

  it('rejects -1', () => {
    expectDsimError(() => sim.timeout(-1), 'INVALID_DURATION', 'delay', '-1');
  });

  it('rejects NaN', () => {
    expectDsimError(() => sim.timeout(Number.NaN), 'INVALID_DURATION', 'delay', 'NaN');
  });

  it('rejects Infinity', () => {
    expectDsimError(() => sim.timeout(Infinity), 'INVALID_DURATION', 'delay', 'Infinity');
    expectDsimError(() => sim.timeout(-Infinity), 'INVALID_DURATION', 'delay', '-Infinity');
  });

  it("rejects '5 minutes'", () => {
    expectDsimError(() => sim.timeout('5 minutes'), 'INVALID_DURATION', 'delay', '"5 minutes"');
  });

  it("rejects 'abc'", () => {
    const e = expectDsimError(() => sim.timeout('abc'), 'INVALID_DURATION', 'delay', '"abc"');
    expect(e.details).toMatchObject({ field: 'delay', value: 'abc' });
  });

  it('rejects other malformed strings and non-durations', () => {
    for (const bad of ['', '5', '-5s', 'ms', '1e3ms', '5 s s', '1,5s']) {
      expectDsimError(() => sim.timeout(bad), 'INVALID_DURATION', 'delay', JSON.stringify(bad));
    }
    expectDsimError(() => sim.timeout(null as any), 'INVALID_DURATION', 'delay', 'null');
    expectDsimError(() => sim.timeout({} as any), 'INVALID_DURATION', 'delay', '{}');
  });

  it('queues nothing when it rejects', () => {
    const fresh = new Simulation();
    expect(() => fresh.timeout(-1)).toThrow(DsimError);
    expect(fresh.queueSize).toBe(0);
  });

  it('accepts 0 and duration strings', () => {
    expect(sim.timeout(0).delay).toBe(0);
    expect(sim.timeout('1.5s').delay).toBe(1500);
  });
});

describe('schedule() / scheduleAt()', () => {
  it('rejects a negative delay', () => {
    expectDsimError(() => new Simulation().schedule(-5, noop), 'INVALID_DURATION', 'delay', '-5');
  });

  it('rejects a callback that is not a function', () => {
    expectDsimError(
      () => new Simulation().schedule(5, 'not a function' as any),
      'INVALID_ARGUMENT',
      'fn',
      '"not a function"',
    );
    expectDsimError(
      () => new Simulation().scheduleAt(5, undefined as any),
      'INVALID_ARGUMENT',
      'fn',
      'undefined',
    );
  });

  it('rejects scheduleAt(now - 1)', () => {
    const sim = new Simulation();
    sim.run({ until: 10 });
    expectDsimError(() => sim.scheduleAt(sim.now - 1, noop), 'INVALID_ARGUMENT', 'time', '9');
  });

  it('rejects a NaN, infinite or non-number time in scheduleAt', () => {
    const sim = new Simulation();
    expectDsimError(() => sim.scheduleAt(Number.NaN, noop), 'INVALID_ARGUMENT', 'time', 'NaN');
    expectDsimError(() => sim.scheduleAt(Infinity, noop), 'INVALID_ARGUMENT', 'time', 'Infinity');
    expectDsimError(() => sim.scheduleAt('5' as any, noop), 'INVALID_ARGUMENT', 'time', '"5"');
  });

  it('rejects priority 1.5 and 10_000, and priorities just outside [-512, 511]', () => {
    const sim = new Simulation();
    expectDsimError(() => sim.schedule(5, noop, { priority: 1.5 }), 'INVALID_ARGUMENT', 'priority', '1.5');
    expectDsimError(
      () => sim.schedule(5, noop, { priority: 10_000 }),
      'INVALID_ARGUMENT',
      'priority',
      '10000',
    );
    expectDsimError(() => sim.schedule(5, noop, { priority: -513 }), 'INVALID_ARGUMENT', 'priority', '-513');
    expectDsimError(() => sim.schedule(5, noop, { priority: 512 }), 'INVALID_ARGUMENT', 'priority', '512');
    expectDsimError(
      () => sim.schedule(5, noop, { priority: Number.NaN }),
      'INVALID_ARGUMENT',
      'priority',
      'NaN',
    );
    expectDsimError(() => sim.scheduleAt(5, noop, { priority: 1.5 }), 'INVALID_ARGUMENT', 'priority', '1.5');
    expect(sim.queueSize).toBe(0);
    expect(sim.schedule(5, noop, { priority: -512 }).time).toBe(5);
    expect(sim.schedule(5, noop, { priority: 511 }).time).toBe(5);
  });

  // BUG (reported): SimEvent.succeed()/fail() take a priority but never validate it (events.ts,
  // succeed/fail -> _trigger -> sim._push). Out-of-range values break packOrder's exactness (FIFO is lost,
  // see the next test) and NaN breaks the heap comparator.
  it('rejects a bad priority in event.succeed() / event.fail()', () => {
    const sim = new Simulation();
    expectDsimError(() => sim.event<number>().succeed(1, 1.5), 'INVALID_ARGUMENT', 'priority', '1.5');
    expectDsimError(() => sim.event().fail(new Error('x'), 10_000), 'INVALID_ARGUMENT', 'priority', '10000');
    expectDsimError(() => sim.event<number>().succeed(1, Number.NaN), 'INVALID_ARGUMENT', 'priority', 'NaN');
  });

  it('keeps FIFO order for events triggered with the same priority (even an unchecked large one)', () => {
    const sim = new Simulation();
    const order: number[] = [];
    for (let i = 0; i < 8; i++) {
      const e = sim.event<number>();
      e.onProcessed(() => order.push(i));
      try {
        e.succeed(i, 3000);
      } catch {
        // rejecting the priority is the other acceptable fix
        e.succeed(i);
      }
    }
    sim.run();
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('run()', () => {
  it('rejects until in the past', () => {
    const sim = new Simulation();
    sim.run({ until: 100 });
    expectDsimError(() => sim.run({ until: 50 }), 'INVALID_ARGUMENT', 'until', '50');
    expect(sim.now).toBe(100);
  });

  it('rejects maxEvents -1 and non-integers', () => {
    const sim = new Simulation();
    expectDsimError(() => sim.run({ maxEvents: -1 }), 'INVALID_ARGUMENT', 'maxEvents', '-1');
    expectDsimError(() => sim.run({ maxEvents: 2.5 }), 'INVALID_ARGUMENT', 'maxEvents', '2.5');
    expectDsimError(() => sim.run({ maxEvents: Number.NaN }), 'INVALID_ARGUMENT', 'maxEvents', 'NaN');
  });

  it("rejects until: 'xyz' and other bad durations", () => {
    const sim = new Simulation();
    expectDsimError(() => sim.run({ until: 'xyz' }), 'INVALID_DURATION', 'until', '"xyz"');
    expectDsimError(() => sim.run({ until: Number.NaN }), 'INVALID_DURATION', 'until', 'NaN');
    expectDsimError(() => sim.run({ until: -1 }), 'INVALID_DURATION', 'until', '-1');
  });

  it('does not run or move time when it rejects its options', () => {
    const sim = new Simulation();
    let ran = 0;
    sim.schedule(1, () => ran++);
    expect(() => sim.run({ until: 'xyz' })).toThrow(DsimError);
    expect(() => sim.run({ maxEvents: -1 })).toThrow(DsimError);
    expect(ran).toBe(0);
    expect(sim.now).toBe(0);
    expect(sim.run()).toMatchObject({ reason: 'empty', events: 1 });
  });

  it('accepts until: Infinity and a duration string', () => {
    const sim = new Simulation();
    sim.schedule('2s', noop);
    expect(sim.run({ until: '1s' })).toEqual({ reason: 'until', now: 1000, events: 0 });
    expect(sim.run({ until: Infinity })).toEqual({ reason: 'empty', now: 2000, events: 1 });
  });
});

describe('allOf() / anyOf() / process() / inspect()', () => {
  it("rejects allOf('x')", () => {
    expectDsimError(() => new Simulation().allOf('x' as any), 'INVALID_ARGUMENT', 'allOf', 'events', '"x"');
  });

  it('rejects a non-event inside allOf', () => {
    expectDsimError(() => new Simulation().allOf([1] as any), 'INVALID_ARGUMENT', 'allOf(events)[0]', '1');
  });

  it('rejects anyOf([])', () => {
    expectDsimError(() => new Simulation().anyOf([]), 'INVALID_ARGUMENT', 'anyOf', 'events', '[]');
  });

  it('rejects anyOf([1])', () => {
    expectDsimError(() => new Simulation().anyOf([1] as any), 'INVALID_ARGUMENT', 'anyOf(events)[0]', '1');
  });

  it('rejects events of another simulation in allOf/anyOf', () => {
    const sim = new Simulation();
    const other = new Simulation();
    expectDsimError(
      () => sim.allOf([sim.timeout(1), other.timeout(1)]),
      'INVALID_ARGUMENT',
      'allOf(events)[1]',
    );
    expectDsimError(() => sim.anyOf([other.timeout(1)]), 'INVALID_ARGUMENT', 'anyOf(events)[0]');
  });

  it('rejects process(42)', () => {
    expectDsimError(() => new Simulation().process(42 as any), 'INVALID_ARGUMENT', 'process body', '42');
  });

  it('rejects a plain function or null as a process body', () => {
    const sim = new Simulation();
    expectDsimError(() => sim.process((() => 5) as any), 'INVALID_ARGUMENT', 'process body', '5');
    expectDsimError(() => sim.process(null as any), 'INVALID_ARGUMENT', 'process body', 'null');
    expect(sim.queueSize).toBe(0);
  });

  it('rejects a trace listener that is not a function', () => {
    const sim = new Simulation();
    expectDsimError(() => sim.inspect('log' as any), 'INVALID_ARGUMENT', 'listener', '"log"');
    expect(sim.tracing).toBe(false);
  });

  it('rejects a bad within() delay', () => {
    const sim = new Simulation();
    expectDsimError(() => sim.event().within('soon'), 'INVALID_DURATION', 'delay', '"soon"');
    expectDsimError(() => sim.event().within(-1), 'INVALID_DURATION', 'delay', '-1');
  });
});

describe('duration strings', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['100us', 0.1],
    [' 2d ', 172_800_000],
    ['0ms', 0],
    ['.5s', 500],
  ] as const)('%j is %d ms', (text, ms) => {
    expect(toMs(text)).toBe(ms);
    const sim = new Simulation();
    expect(sim.timeout(text).delay).toBe(ms);
    expect(sim.schedule(text, noop).time).toBe(ms);
  });

  it('takes numbers as milliseconds', () => {
    expect(toMs(42)).toBe(42);
    expect(toMs(0.25)).toBe(0.25);
  });

  it('names the field in the error', () => {
    expectDsimError(() => toMs('5 minutes', 'retryAfter'), 'INVALID_DURATION', 'retryAfter', '"5 minutes"');
    expectDsimError(() => toMs(-2, 'retryAfter'), 'INVALID_DURATION', 'retryAfter', '-2');
  });

  // BUG (reported): duration.ts toMs() returns Infinity for a digit string too long for a double
  // (Number('9'.repeat(400)) === Infinity), although its TSDoc says infinite values are rejected.
  it('rejects a duration string that overflows to Infinity', () => {
    const huge = `${'9'.repeat(400)}ms`;
    expectDsimError(() => toMs(huge, 'delay'), 'INVALID_DURATION', 'delay');
    expectDsimError(() => new Simulation().timeout(huge), 'INVALID_DURATION', 'delay');
  });
});
