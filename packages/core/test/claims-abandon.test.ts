import { describe, expect, it } from 'vitest';
import { Interrupt, Resource, Simulation } from '../src/index.js';

// Regressions: a claim wrapped in within() or a condition must not leak when its waiter gives up.
describe('abandoned claims are withdrawn or released', () => {
  it('interrupting a process waiting on request().within() withdraws the request', () => {
    const sim = new Simulation();
    const res = new Resource(sim, { capacity: 1 });
    sim.process(function* holder() {
      const r = yield* res.request();
      yield sim.timeout(10);
      res.release(r);
    });
    const b = sim.process(function* waiter() {
      try {
        yield* res.request().within(100);
      } catch (error) {
        expect(error).toBeInstanceOf(Interrupt);
      }
    });
    sim.schedule(5, () => b.interrupt('stop'));
    let queueAt6 = -1;
    sim.schedule(6, () => (queueAt6 = res.queueLength));
    sim.run();
    expect(queueAt6).toBe(0);
    expect(res.inUse).toBe(0);
  });

  it('a timed-out allOf releases the request it had already been granted', () => {
    const sim = new Simulation();
    const a = new Resource(sim, { capacity: 1, name: 'a' });
    const b = new Resource(sim, { capacity: 1, name: 'b' });
    sim.process(function* holder() {
      const r = yield* b.request();
      yield sim.timeout(100);
      b.release(r);
    });
    let timedOut = false;
    sim.process(function* both() {
      yield sim.timeout(1);
      const r = yield* sim.allOf([a.request(), b.request()]).within(10);
      timedOut = r.timedOut;
    });
    sim.run();
    expect(timedOut).toBe(true);
    expect(a.inUse).toBe(0);
    expect(b.inUse).toBe(0);
    expect(b.queueLength).toBe(0);
  });

  it('interrupting a process waiting on allOf releases granted claims and withdraws pending ones', () => {
    const sim = new Simulation();
    const a = new Resource(sim, { capacity: 1, name: 'a' });
    const b = new Resource(sim, { capacity: 1, name: 'b' });
    sim.process(function* holder() {
      const r = yield* b.request();
      yield sim.timeout(100);
      b.release(r);
    });
    const p = sim.process(function* both() {
      yield sim.timeout(1);
      try {
        yield sim.allOf([a.request(), b.request()]);
      } catch {
        // interrupted
      }
    });
    sim.schedule(5, () => p.interrupt());
    sim.run();
    expect(a.inUse).toBe(0);
    expect(b.inUse).toBe(0);
  });
});
