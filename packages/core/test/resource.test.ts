import { describe, expect, expectTypeOf, it } from 'vitest';
import { Interrupt, type Process } from '../src/process.js';
import { FifoQueue, Preempted, PriorityQueue, Resource, type ResourceRequest } from '../src/resource.js';
import { Simulation } from '../src/simulation.js';
import type { TraceRecord } from '../src/trace.js';
import { thrown } from './support/thrown.js';

/** Starts a process that requests `res`, holds it for `hold` ms and releases it; logs `name@grantTime`. */
function customer(
  sim: Simulation,
  res: Resource,
  name: string,
  hold: number,
  log: string[],
  priority?: number,
): Process<void> {
  return sim.process(function* () {
    const req = yield* res.request(priority === undefined ? {} : { priority });
    log.push(`${name}@${sim.now}`);
    yield sim.timeout(hold);
    res.release(req);
  }, name);
}

describe('Resource: grants', () => {
  it('grants a capacity-1 resource in FIFO order, each at the release of the previous one', () => {
    const sim = new Simulation();
    const res = new Resource(sim);
    const log: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) customer(sim, res, name, 2, log);
    sim.run();
    expect(log).toEqual(['a@0', 'b@2', 'c@4', 'd@6']);
    expect(res.inUse).toBe(0);
    expect(res.queueLength).toBe(0);
  });

  it('serves capacity requests concurrently', () => {
    const sim = new Simulation();
    const res = new Resource(sim, { capacity: 2 });
    const log: string[] = [];
    let maxInUse = 0;
    for (const name of ['a', 'b', 'c', 'd', 'e']) customer(sim, res, name, 10, log);
    sim.schedule(1, () => {
      maxInUse = res.inUse;
      expect(res.queueLength).toBe(3);
      expect(res.users.map((u) => u.owner?.name)).toEqual(['a', 'b']);
    });
    sim.run();
    expect(log).toEqual(['a@0', 'b@0', 'c@10', 'd@10', 'e@20']);
    expect(maxInUse).toBe(2);
  });

  it('release grants the next waiter at the same simulated time, via release() or req.release()', () => {
    const sim = new Simulation();
    const res = new Resource(sim);
    const times: number[] = [];
    sim.process(function* () {
      const req = yield* res.request();
      yield sim.timeout(5);
      req.release();
    });
    sim.process(function* () {
      yield sim.timeout(1);
      const req = yield* res.request();
      times.push(sim.now);
      yield sim.timeout(3);
      res.release(req);
    });
    sim.process(function* () {
      yield sim.timeout(2);
      yield* res.request();
      times.push(sim.now);
    });
    sim.run();
    expect(times).toEqual([5, 8]);
  });

  it('gives the request itself as the value, typed, with owner, times and status', () => {
    const sim = new Simulation();
    const res = new Resource(sim, { name: 'db' });
    let seen: ResourceRequest | undefined;
    let made: ResourceRequest | undefined;
    const proc = sim.process(function* worker() {
      yield sim.timeout(3);
      made = res.request({ priority: 2 });
      const req = yield* made;
      expectTypeOf(req).toEqualTypeOf<ResourceRequest>();
      seen = req;
      yield sim.timeout(1);
      res.release(req);
    });
    sim.run();
    expect(seen).toBe(made);
    expect(seen?.owner).toBe(proc);
    expect(seen?.resource).toBe(res);
    expect(seen?.priority).toBe(2);
    expect(seen?.requestedAt).toBe(3);
    expect(seen?.usageSince).toBe(3);
    expect(seen?.status).toBe('released');
  });

  it('works from plain callbacks: the owner is null', () => {
    const sim = new Simulation();
    const res = new Resource(sim);
    const req = res.request();
    expect(req.owner).toBeNull();
    expect(req.triggered).toBe(true);
    expect(res.inUse).toBe(1);
    const second = res.request();
    expect(second.status).toBe('waiting');
    sim.schedule(4, () => res.release(req));
    let grantedAt = -1;
    second.onProcessed(() => {
      grantedAt = sim.now;
    });
    sim.run();
    expect(grantedAt).toBe(4);
    expect(second.status).toBe('granted');
  });

  it('M/M/1 sanity: arrivals every 10 ms with 5 ms service never wait', () => {
    const sim = new Simulation();
    const server = new Resource(sim, { name: 'server' });
    const waits: number[] = [];
    sim.process(function* source() {
      for (let i = 0; i < 200; i++) {
        sim.process(function* () {
          const arrived = sim.now;
          const req = yield* server.request();
          waits.push(sim.now - arrived);
          yield sim.timeout(5);
          server.release(req);
        });
        yield sim.timeout(10);
      }
    });
    sim.run();
    expect(waits).toHaveLength(200);
    expect(waits.every((w) => w === 0)).toBe(true);
    expect(server.inUse).toBe(0);
  });

  it('same-time contention: arrivals every 5 ms with 10 ms service queue up deterministically', () => {
    const sim = new Simulation();
    const server = new Resource(sim);
    const waits: number[] = [];
    sim.process(function* source() {
      for (let i = 0; i < 4; i++) {
        sim.process(function* () {
          const arrived = sim.now;
          const req = yield* server.request();
          waits.push(sim.now - arrived);
          yield sim.timeout(10);
          server.release(req);
        });
        yield sim.timeout(5);
      }
    });
    sim.run();
    expect(waits).toEqual([0, 5, 10, 15]);
  });
});

describe('Resource: priority discipline', () => {
  it('serves lower priority numbers first, ties in arrival order', () => {
    const sim = new Simulation();
    const res = new Resource(sim, { discipline: 'priority' });
    const log: string[] = [];
    customer(sim, res, 'holder', 10, log, 0);
    sim.schedule(1, () => {
      customer(sim, res, 'p3a', 1, log, 3);
      customer(sim, res, 'p1a', 1, log, 1);
      customer(sim, res, 'p2', 1, log, 2);
      customer(sim, res, 'p1b', 1, log, 1);
      customer(sim, res, 'p3b', 1, log, 3);
      customer(sim, res, 'neg', 1, log, -0.5);
    });
    sim.run();
    expect(log).toEqual(['holder@0', 'neg@10', 'p1a@11', 'p1b@12', 'p2@13', 'p3a@14', 'p3b@15']);
  });

  it('a FIFO resource records priority but serves in arrival order', () => {
    const sim = new Simulation();
    const res = new Resource(sim);
    const log: string[] = [];
    customer(sim, res, 'holder', 10, log, 0);
    customer(sim, res, 'late', 1, log, 5);
    customer(sim, res, 'urgent', 1, log, -5);
    sim.run();
    expect(log).toEqual(['holder@0', 'late@10', 'urgent@11']);
  });

  it('keeps priority order across many withdrawn requests (queue compaction)', () => {
    const sim = new Simulation();
    const res = new Resource(sim, { discipline: 'priority' });
    const holder = res.request();
    const order: number[] = [];
    const reqs: ResourceRequest[] = [];
    for (let i = 0; i < 400; i++) {
      const req = res.request({ priority: (i * 7) % 13 });
      reqs.push(req);
      req.onProcessed(() => {
        order.push(i);
        res.release(req);
      });
    }
    // Withdraw three in four, then add more so compaction runs while requests are queued.
    for (let i = 0; i < 400; i++) if (i % 4 !== 0) res.release(reqs[i]!);
    for (let i = 400; i < 500; i++) {
      const req = res.request({ priority: (i * 7) % 13 });
      req.onProcessed(() => {
        order.push(i);
        res.release(req);
      });
    }
    expect(res.queueLength).toBe(200);
    sim.schedule(1, () => res.release(holder));
    sim.run();
    const expected = [
      ...Array.from({ length: 100 }, (_, k) => 4 * k),
      ...Array.from({ length: 100 }, (_, k) => 400 + k),
    ];
    expected.sort((a, b) => ((a * 7) % 13) - ((b * 7) % 13) || a - b);
    expect(order).toEqual(expected);
  });
});

describe('Resource: preemption', () => {
  it('a better request preempts the user: interrupt with Preempted { by, usageSince, resource }', () => {
    const sim = new Simulation();
    const cpu = new Resource(sim, { name: 'cpu', preemptive: true });
    expect(cpu.discipline).toBe('priority');
    let cause: unknown;
    let lowReq: ResourceRequest | undefined;
    let caughtAt = -1;
    const low = sim.process(function* low() {
      yield sim.timeout(2);
      lowReq = yield* cpu.request({ priority: 5 });
      try {
        yield sim.timeout(100);
      } catch (err) {
        expect(err).toBeInstanceOf(Interrupt);
        cause = (err as Interrupt).cause;
        caughtAt = sim.now;
      } finally {
        cpu.release(lowReq); // no-op after preemption
      }
    });
    let highGrantedAt = -1;
    const high = sim.process(function* high() {
      yield sim.timeout(10);
      const req = yield* cpu.request({ priority: 1 });
      highGrantedAt = sim.now;
      // Identity checks: deep equality would walk into the running process's generator.
      expect(cpu.users.length).toBe(1);
      expect(cpu.users[0]).toBe(req);
      yield sim.timeout(5);
      cpu.release(req);
    });
    sim.run();
    expect(highGrantedAt).toBe(10);
    expect(caughtAt).toBe(10);
    expect(cause).toBeInstanceOf(Preempted);
    const p = cause as Preempted;
    expect(p.by).toBe(high);
    expect(p.usageSince).toBe(2);
    expect(p.resource).toBe(cpu);
    expect(p.request).toBe(lowReq);
    expect(String(p)).toContain("process 'high'");
    expect(lowReq?.preempted).toBe(true);
    expect(lowReq?.status).toBe('released');
    expect(low.isAlive).toBe(false);
    expect(cpu.inUse).toBe(0);
  });

  it('equal priority does not preempt; the request waits', () => {
    const sim = new Simulation();
    const res = new Resource(sim, { preemptive: true });
    const log: string[] = [];
    customer(sim, res, 'a', 10, log, 1);
    sim.schedule(1, () => customer(sim, res, 'b', 1, log, 1));
    sim.run();
    expect(log).toEqual(['a@0', 'b@10']);
  });

  it('preempt: false waits even with a better priority', () => {
    const sim = new Simulation();
    const res = new Resource(sim, { preemptive: true });
    const log: string[] = [];
    customer(sim, res, 'a', 10, log, 5);
    sim.schedule(1, () => {
      sim.process(function* b() {
        const req = yield* res.request({ priority: 0, preempt: false });
        log.push(`b@${sim.now}`);
        res.release(req);
      });
    });
    sim.run();
    expect(log).toEqual(['a@0', 'b@10']);
  });

  it('preempts the worst user: highest priority number, then the latest request', () => {
    const sim = new Simulation();
    const res = new Resource(sim, { capacity: 3, preemptive: true });
    const preempted: string[] = [];
    const user = (name: string, priority: number) =>
      sim.process(function* () {
        const req = yield* res.request({ priority });
        try {
          yield sim.timeout(100);
        } catch (err) {
          if (!(err instanceof Interrupt && err.cause instanceof Preempted)) throw err;
          preempted.push(`${name}@${sim.now}`);
        }
        res.release(req);
      }, name);
    user('p2', 2);
    user('p3-early', 3);
    user('p3-late', 3);
    sim.schedule(5, () => user('p1', 1));
    sim.schedule(6, () => user('p0', 0));
    sim.run();
    expect(preempted).toEqual(['p3-late@5', 'p3-early@6']);
  });

  it('a request made outside a process can preempt, and a preempted callback user is just dropped', () => {
    const sim = new Simulation();
    const res = new Resource(sim, { preemptive: true });
    const first = res.request({ priority: 9 });
    const second = res.request({ priority: 1 });
    expect(first.preempted).toBe(true);
    expect(first.status).toBe('preempted');
    expect(second.triggered).toBe(true);
    expect(res.users.length).toBe(1);
    expect(res.users[0]).toBe(second);
    res.release(first); // harmless
    expect(() => res.release(first)).toThrow(/already released/);
    sim.run();
  });

  it('after setCapacity() shrinks below inUse, a preempting request takes as many units as it needs', () => {
    const sim = new Simulation();
    const res = new Resource(sim, { capacity: 2, preemptive: true });
    const a = res.request({ priority: 5 });
    const b = res.request({ priority: 6 });
    res.setCapacity(1);
    const c = res.request({ priority: 1 });
    expect(a.preempted && b.preempted).toBe(true);
    expect(c.triggered).toBe(true);
    expect(res.inUse).toBe(1);
    sim.run();
  });

  it('traces request, grant, preempt and release records', () => {
    const sim = new Simulation();
    const records: TraceRecord[] = [];
    sim.inspect((r) => records.push(r));
    const res = new Resource(sim, { name: 'cpu', preemptive: true });
    sim.process(function* low() {
      const req = yield* res.request({ priority: 2 });
      try {
        yield sim.timeout(10);
      } catch {
        // preempted
      }
      res.release(req);
    });
    sim.process(function* high() {
      yield sim.timeout(1);
      const req = yield* res.request({ priority: 1 });
      res.release(req);
    });
    sim.run();
    const own = records.filter((r) => r.type.startsWith('@dsim.resource.'));
    const pick = (r: TraceRecord) => {
      const { seq: _seq, ...rest } = r;
      return rest;
    };
    expect(own.map(pick)).toEqual([
      { t: 0, type: '@dsim.resource.request', resource: 'cpu', process: 'low', priority: 2, queue: 0 },
      { t: 0, type: '@dsim.resource.grant', resource: 'cpu', process: 'low', inUse: 1, queue: 0 },
      { t: 1, type: '@dsim.resource.request', resource: 'cpu', process: 'high', priority: 1, queue: 0 },
      { t: 1, type: '@dsim.resource.preempt', resource: 'cpu', process: 'low', by: 'high' },
      { t: 1, type: '@dsim.resource.grant', resource: 'cpu', process: 'high', inUse: 1, queue: 0 },
      { t: 1, type: '@dsim.resource.release', resource: 'cpu', process: 'high', inUse: 0, queue: 0 },
    ]);
    const interrupt = records.find((r) => r.type === '@dsim.process.interrupt');
    expect(interrupt?.cause).toContain("preempted on resource 'cpu' by process 'high'");
  });
});

describe('Resource: withdrawing claims', () => {
  it('a within() deadline withdraws the request: the resource is not leaked', () => {
    const sim = new Simulation();
    const res = new Resource(sim);
    const log: string[] = [];
    customer(sim, res, 'holder', 10, log);
    let timedOut: boolean | undefined;
    let req: ResourceRequest | undefined;
    sim.process(function* impatient() {
      yield sim.timeout(1);
      req = res.request();
      const r = yield* req.within(4);
      timedOut = r.timedOut;
    });
    sim.schedule(6, () => {
      expect(res.queueLength).toBe(0);
      customer(sim, res, 'later', 1, log);
    });
    sim.run();
    expect(timedOut).toBe(true);
    expect(req?.status).toBe('withdrawn');
    expect(log).toEqual(['holder@0', 'later@10']);
    expect(res.inUse).toBe(0);
  });

  it('a within() that succeeds gives the request', () => {
    const sim = new Simulation();
    const res = new Resource(sim);
    let got: ResourceRequest | undefined;
    sim.process(function* () {
      const r = yield* res.request().within(4);
      if (!r.timedOut) got = r.value;
    });
    sim.run();
    expect(got?.status).toBe('granted');
    expect(res.inUse).toBe(1);
  });

  it('a grant in the same instant as the deadline is handed back to the next waiter', () => {
    const sim = new Simulation();
    const res = new Resource(sim);
    const log: string[] = [];
    customer(sim, res, 'holder', 5, log); // releases at 5, before the deadline timer (created later) fires
    let timedOut: boolean | undefined;
    let req: ResourceRequest | undefined;
    sim.process(function* impatient() {
      req = res.request();
      timedOut = (yield* req.within(5)).timedOut;
    });
    customer(sim, res, 'patient', 1, log);
    sim.run();
    expect(timedOut).toBe(true);
    expect(req?.status).toBe('withdrawn');
    expect(log).toEqual(['holder@0', 'patient@5']);
    expect(res.inUse).toBe(0);
  });

  it('interrupting a process waiting on a request withdraws it; its finally-release is a no-op', () => {
    const sim = new Simulation();
    const res = new Resource(sim);
    const log: string[] = [];
    customer(sim, res, 'holder', 10, log);
    let req: ResourceRequest | undefined;
    const waiter = sim.process(function* waiter() {
      req = res.request();
      try {
        yield req;
      } catch (err) {
        expect(err).toBeInstanceOf(Interrupt);
      } finally {
        res.release(req);
      }
    });
    sim.schedule(3, () => {
      expect(res.queueLength).toBe(1);
      waiter.interrupt('give up');
    });
    sim.schedule(4, () => {
      expect(res.queueLength).toBe(0);
      customer(sim, res, 'next', 1, log);
    });
    sim.run();
    expect(req?.status).toBe('released');
    expect(log).toEqual(['holder@0', 'next@10']);
  });

  it('interrupting a process in the instant its request was granted releases the unit', () => {
    const sim = new Simulation();
    const res = new Resource(sim);
    const held = res.request();
    let req: ResourceRequest | undefined;
    const waiter = sim.process(function* waiter() {
      req = res.request();
      try {
        yield req;
      } catch {
        // interrupted
      }
    });
    const log: string[] = [];
    customer(sim, res, 'third', 1, log);
    sim.schedule(5, () => {
      res.release(held); // grants the waiter (processed later in this instant)...
      waiter.interrupt(); // ...but the interrupt is delivered first
    });
    sim.run();
    expect(req?.status).toBe('withdrawn');
    expect(log).toEqual(['third@5']);
    expect(res.inUse).toBe(0);
  });

  it('release() on a waiting request withdraws it (cleanup after anyOf with a timeout)', () => {
    const sim = new Simulation();
    const res = new Resource(sim);
    res.request();
    let outcome = '';
    sim.process(function* () {
      const req = res.request();
      const r = yield* sim.anyOf([req, sim.timeout(3)]);
      outcome = r.index === 0 ? 'granted' : 'timeout';
      res.release(req);
      expect(res.queueLength).toBe(0);
    });
    sim.run();
    expect(outcome).toBe('timeout');
  });
});

describe('Resource: setCapacity', () => {
  it('growing grants waiting requests at once; shrinking lets users finish', () => {
    const sim = new Simulation();
    const res = new Resource(sim, { capacity: 1 });
    const log: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) customer(sim, res, name, 10, log);
    sim.schedule(2, () => res.setCapacity(3));
    sim.schedule(3, () => {
      expect(res.inUse).toBe(3);
      res.setCapacity(1);
      expect(res.inUse).toBe(3);
      expect(res.capacity).toBe(1);
    });
    sim.run();
    // a@0; b, c granted at 2; a ends at 10 (inUse 2, still > 1); b and c end at 12; d at 12.
    expect(log).toEqual(['a@0', 'b@2', 'c@2', 'd@12']);
  });
});

describe('Resource: bad input', () => {
  const sim = new Simulation();

  it('rejects bad capacities, naming the field, the value and what is allowed', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN, Infinity, '2' as unknown as number]) {
      const err = thrown(() => new Resource(sim, { capacity }));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/^Resource: capacity must be an integer >= 1, got /);
    }
    expect(thrown(() => new Resource(sim).setCapacity(0)).message).toBe(
      'Resource.setCapacity: capacity must be an integer >= 1, got 0',
    );
  });

  it('rejects bad disciplines and preemption on a FIFO resource', () => {
    const err = thrown(() => new Resource(sim, { discipline: 'lifo' as 'fifo' }));
    expect(err.message).toBe(`Resource: discipline must be 'fifo' or 'priority', got "lifo"`);
    expect(thrown(() => new Resource(sim, { discipline: 'fifo', preemptive: true })).message).toMatch(
      /^Resource: discipline must be 'priority' \(or omitted\) when preemptive is true, got "fifo"/,
    );
    expect(thrown(() => new Resource(sim, { preemptive: 1 as unknown as boolean })).message).toMatch(
      /^Resource: preemptive/,
    );
    expect(thrown(() => new Resource(sim, { name: 3 as unknown as string })).message).toMatch(
      /^Resource: name must be a non-empty string/,
    );
  });

  it('rejects non-finite priorities and preempt on a non-preemptive resource', () => {
    const res = new Resource(sim, { name: 'db' });
    for (const priority of [Number.NaN, Infinity, -Infinity, '1' as unknown as number]) {
      expect(thrown(() => res.request({ priority })).message).toMatch(
        /^Resource.request: priority must be a finite number, got /,
      );
    }
    expect(thrown(() => res.request({ preempt: true })).message).toBe(
      "Resource.request: preempt must be false or omitted: resource 'db' is not preemptive, got true",
    );
    expect(res.queueLength + res.inUse).toBe(0);
  });

  it('rejects releasing twice, a request of another resource, or something else', () => {
    const s = new Simulation();
    const a = new Resource(s, { name: 'a' });
    const b = new Resource(s, { name: 'b' });
    const req = a.request();
    a.release(req);
    const twice = thrown(() => a.release(req));
    expect(twice.code).toBe('INVALID_STATE');
    expect(twice.message).toBe("cannot release request for resource 'a': it was already released");
    const other = b.request();
    const wrong = thrown(() => a.release(other));
    expect(wrong.code).toBe('INVALID_ARGUMENT');
    expect(wrong.message).toBe("request must be a request of resource 'a', got a request of resource 'b'");
    expect(b.inUse).toBe(1);
    expect(thrown(() => a.release({} as ResourceRequest)).message).toMatch(
      /^request must be a ResourceRequest/,
    );
  });
});

describe('wait queues (internal)', () => {
  type Entry = { _queued: boolean; _priority: number; _seq: number; id: number };
  const entry = (id: number, priority = 0): Entry => ({ _queued: false, _priority: priority, _seq: id, id });

  it('FifoQueue keeps order through withdrawals and compaction', () => {
    const q = new FifoQueue<Entry>();
    const all = Array.from({ length: 1000 }, (_, i) => entry(i));
    for (const e of all.slice(0, 600)) q.push(e);
    for (let i = 0; i < 600; i++) if (i % 3 !== 0) q.remove(all[i]!);
    const firstShifted = [q.shift()!.id, q.shift()!.id];
    for (const e of all.slice(600)) q.push(e);
    expect(q.size).toBe(198 + 400);
    const rest: number[] = [];
    for (let e = q.shift(); e !== undefined; e = q.shift()) rest.push(e.id);
    expect([...firstShifted, ...rest]).toEqual([
      ...Array.from({ length: 200 }, (_, k) => 3 * k),
      ...Array.from({ length: 400 }, (_, k) => 600 + k),
    ]);
    expect(q.size).toBe(0);
    expect(q.peek()).toBeUndefined();
  });

  it('FifoQueue.scan visits live entries in order and may remove them', () => {
    const q = new FifoQueue<Entry>();
    const es = [entry(0), entry(1), entry(2), entry(3)];
    for (const e of es) q.push(e);
    q.remove(es[1]!);
    const seen: number[] = [];
    q.scan((e) => {
      seen.push(e.id);
      if (e.id === 2) q.remove(e);
      return e.id < 3;
    });
    expect(seen).toEqual([0, 2, 3]);
    expect(q.size).toBe(2);
    expect(q.shift()?.id).toBe(0);
    expect(q.shift()?.id).toBe(3);
  });

  it('PriorityQueue orders by (priority, seq) through withdrawals and compaction', () => {
    const q = new PriorityQueue<Entry>();
    const all = Array.from({ length: 500 }, (_, i) => entry(i, (i * 11) % 7));
    for (const e of all) q.push(e);
    for (let i = 0; i < 500; i++) if (i % 5 !== 0) q.remove(all[i]!);
    q.push(entry(1000, -1)); // triggers compaction
    const got: number[] = [];
    for (let e = q.shift(); e !== undefined; e = q.shift()) got.push(e.id);
    const expected = [1000, ...all.filter((e) => e.id % 5 === 0).map((e) => e.id)];
    expected.sort((a, b) => (a === 1000 ? -1 : b === 1000 ? 1 : ((a * 11) % 7) - ((b * 11) % 7) || a - b));
    expect(got).toEqual(expected);
  });
});
