import { describe, expect, it } from 'vitest';
import { constant, exponential } from '../src/index.js';
import type { Message } from '../src/net/network.js';
import { Network } from '../src/net/network.js';
import { Simulation } from '../src/simulation.js';
import type { TraceRecord } from '../src/trace.js';
import { thrown } from './support/thrown.js';

function pair(seed = 1, defaults = {}) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults });
  const a = net.addNode<string>('a');
  const b = net.addNode<string>('b');
  const got: Array<{ t: number; m: Message<string> }> = [];
  b.onMessage((m) => got.push({ t: sim.now, m }));
  return { sim, net, a, b, got };
}

function conserved(net: Network): boolean {
  const s = net.stats;
  return s.sent + s.duplicated === s.delivered + s.dropped + s.inFlight;
}

describe('links', () => {
  it('deliver after the latency, with id, addresses, size and send time', () => {
    const { sim, a, got } = pair(1, { latency: 5 });
    sim.schedule(10, () => a.send('b', 'hi', { size: 100 }));
    sim.run();
    expect(got).toEqual([
      {
        t: 15,
        m: expect.objectContaining({
          id: 1,
          from: 'a',
          to: 'b',
          payload: 'hi',
          size: 100,
          sentAt: 10,
          duplicate: false,
        }),
      },
    ]);
  });

  it('default links are instant and lossless', () => {
    const { sim, a, got, net } = pair();
    a.send('b', 'x');
    sim.run();
    expect(got.map((g) => g.t)).toEqual([0]);
    expect(net.stats).toMatchObject({ sent: 1, delivered: 1, dropped: 0, inFlight: 0 });
  });

  it('serialize messages FIFO on finite bandwidth: size / bandwidth each, queued behind each other', () => {
    const { sim, a, got } = pair(1, { latency: 2, bandwidth: 1000 });
    for (let i = 0; i < 3; i++) a.send('b', `m${i}`, { size: 500 });
    sim.run();
    expect(got.map((g) => [g.m.payload, g.t])).toEqual([
      ['m0', 502],
      ['m1', 1002],
      ['m2', 1502],
    ]);
  });

  it('constant latency keeps order; variable latency reorders', () => {
    const fixed = pair(1, { latency: 3 });
    for (let i = 0; i < 200; i++) fixed.sim.schedule(i * 0.1, () => fixed.a.send('b', String(i)));
    fixed.sim.run();
    expect(fixed.got.map((g) => Number(g.m.payload))).toEqual([...Array(200).keys()]);
    const jitter = pair(1, { latency: exponential({ mean: 3 }) });
    for (let i = 0; i < 200; i++) jitter.sim.schedule(i * 0.1, () => jitter.a.send('b', String(i)));
    jitter.sim.run();
    const order = jitter.got.map((g) => Number(g.m.payload));
    expect(order).not.toEqual([...Array(200).keys()]);
    expect([...order].sort((x, y) => x - y)).toEqual([...Array(200).keys()]);
  });

  it('lose the configured share of messages (binomial, 5 standard errors)', () => {
    const n = 20_000;
    const { sim, a, net } = pair(3, { loss: 0.3 });
    for (let i = 0; i < n; i++) a.send('b', 'x');
    sim.run();
    const s = net.stats;
    const se = Math.sqrt(n * 0.3 * 0.7);
    expect(Math.abs(s.droppedBy.loss - 0.3 * n)).toBeLessThan(5 * se);
    expect(s.delivered + s.dropped).toBe(n);
  });

  it('duplicate the configured share; copies are marked and keep the id', () => {
    const n = 20_000;
    const { sim, a, net, got } = pair(4, { duplicate: 0.1, latency: exponential({ mean: 1 }) });
    for (let i = 0; i < n; i++) a.send('b', 'x');
    sim.run();
    const s = net.stats;
    expect(Math.abs(s.duplicated - 0.1 * n)).toBeLessThan(5 * Math.sqrt(n * 0.1 * 0.9));
    expect(s.delivered).toBe(n + s.duplicated);
    const copies = got.filter((g) => g.m.duplicate);
    expect(copies).toHaveLength(s.duplicated);
    expect(new Set(got.map((g) => g.m.id)).size).toBe(n);
  });

  it('per-link overrides beat the defaults, one way or both', () => {
    const { sim, net, a, b, got } = pair(1, { latency: 1 });
    const atA: number[] = [];
    a.onMessage(() => atA.push(sim.now));
    net.setLink('a', 'b', { latency: constant(7) });
    a.send('b', 'x');
    b.send('a', 'y');
    sim.run();
    expect(got.map((g) => g.t)).toEqual([7]);
    expect(atA).toEqual([1]);
    net.setLatency('a', 'b', 20);
    sim.schedule(0, () => b.send('a', 'z'));
    sim.run();
    expect(atA).toEqual([1, sim.now]);
    expect(sim.now).toBe(27);
  });

  it('reject bad link settings and addresses, naming the field', () => {
    const sim = new Simulation();
    expect(thrown(() => new Network(sim, { defaults: { loss: 1.5 } })).message).toContain('defaults.loss');
    expect(thrown(() => new Network(sim, { defaults: { bandwidth: 0 } })).message).toContain(
      'defaults.bandwidth',
    );
    expect(thrown(() => new Network(sim, { defaults: { latency: '5 minutes' } })).message).toContain(
      'defaults.latency',
    );
    const net = new Network(sim);
    net.addNode('a');
    expect(thrown(() => net.addNode('a')).message).toContain('address');
    expect(thrown(() => net.addNode('')).message).toContain('address');
    expect(thrown(() => net.setLink('a', 'zz', { loss: 0 })).message).toContain('"zz"');
    expect(thrown(() => net.node('a').send('a', 1, { size: -1 })).message).toContain('size');
  });

  it('drop messages to unknown addresses, counted', () => {
    const { sim, a, net } = pair();
    a.send('nowhere', 'x');
    sim.run();
    expect(net.stats.droppedBy['unknown-address']).toBe(1);
  });

  it('trace a send to an unknown address with its size, then its drop', () => {
    const { sim, a } = pair();
    const records: Array<Record<string, unknown>> = [];
    sim.inspect((r) => records.push(r as Record<string, unknown>));
    a.send('nowhere', 'x', { size: 512 });
    expect(records.map((r) => [r.type, r.size, r.reason])).toEqual([
      ['@dsim.net.send', 512, undefined],
      ['@dsim.net.drop', undefined, 'unknown-address'],
    ]);
  });
});

describe('partitions', () => {
  it('symmetric partitions drop both ways; heal restores', () => {
    const { sim, net, a, b, got } = pair();
    const atA: string[] = [];
    a.onMessage((m) => atA.push(m.payload));
    net.partition('a', 'b');
    a.send('b', '1');
    b.send('a', '2');
    net.heal();
    a.send('b', '3');
    sim.run();
    expect(got.map((g) => g.m.payload)).toEqual(['3']);
    expect(atA).toEqual([]);
    expect(net.stats.droppedBy.partition).toBe(2);
  });

  it('one-way partitions drop only from a to b', () => {
    const { sim, net, a, b, got } = pair();
    const atA: string[] = [];
    a.onMessage((m) => atA.push(m.payload));
    net.partition('a', 'b', { oneWay: true });
    a.send('b', 'lost');
    b.send('a', 'arrives');
    sim.run();
    expect(got).toEqual([]);
    expect(atA).toEqual(['arrives']);
  });

  it('group partitions cut across groups but not inside them', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    const seen: string[] = [];
    for (const n of ['n1', 'n2', 'n3', 'n4', 'n5'])
      net.addNode<string>(n).onMessage((m) => seen.push(`${m.from}>${m.to}`));
    net.partition(['n1', 'n2'], ['n3', 'n4', 'n5']);
    for (const from of net.addresses)
      for (const to of net.addresses) if (from !== to) net.node(from).send(to, '');
    sim.run();
    expect(seen.sort()).toEqual(['n1>n2', 'n2>n1', 'n3>n4', 'n3>n5', 'n4>n3', 'n4>n5', 'n5>n3', 'n5>n4']);
  });

  it('a partition that starts while a message is in flight cuts it off', () => {
    const { sim, net, a, got } = pair(1, { latency: 10 });
    a.send('b', 'x');
    sim.schedule(5, () => net.partition('a', 'b'));
    sim.run();
    expect(got).toEqual([]);
    expect(net.stats.droppedBy.partition).toBe(1);
  });

  it('healing one partition leaves an overlapping one in place', () => {
    const { sim, net, a, got } = pair();
    const p1 = net.partition('a', 'b');
    net.partition(['a'], ['b'], { oneWay: true });
    p1.heal();
    a.send('b', 'still cut');
    sim.run();
    expect(got).toEqual([]);
    net.heal();
    a.send('b', 'through');
    sim.run();
    expect(got.map((g) => g.m.payload)).toEqual(['through']);
  });

  it('isolate cuts a node from everyone', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    const seen: string[] = [];
    for (const n of ['x', 'y', 'z']) net.addNode(n).onMessage((m) => seen.push(`${m.from}>${m.to}`));
    const h = net.isolate('x');
    for (const [f, t] of [
      ['x', 'y'],
      ['y', 'x'],
      ['y', 'z'],
    ] as const)
      net.node(f).send(t, '');
    h.heal();
    net.node('x').send('z', '');
    sim.run();
    expect(seen).toEqual(['y>z', 'x>z']);
  });

  it('reject overlapping groups', () => {
    const { net } = pair();
    expect(thrown(() => net.partition(['a', 'b'], ['b'])).message).toContain('disjoint');
  });
});

describe('node faults', () => {
  it('crash drops arrivals, kills timers and runs crash hooks; restart runs restart hooks', () => {
    const { sim, net, a, b, got } = pair(1, { latency: 1 });
    const events: string[] = [];
    b.onCrash(() => events.push(`crash@${sim.now}`));
    b.onRestart((info) => events.push(`restart@${sim.now} kept=${info.keptState} inc=${info.incarnation}`));
    b.setTimer(50, () => events.push('timer from before the crash'));
    sim.schedule(10, () => net.crash('b'));
    sim.schedule(10, () => a.send('b', 'lost'));
    sim.schedule(11, () => b.send('a', 'from a crashed node'));
    sim.schedule(20, () => net.restart('b', { keepState: true }));
    sim.schedule(30, () => a.send('b', 'after'));
    sim.run();
    expect(events).toEqual(['crash@10', 'restart@20 kept=true inc=1']);
    expect(got.map((g) => [g.m.payload, g.t])).toEqual([['after', 31]]);
    expect(net.stats.droppedBy).toMatchObject({ 'receiver-down': 1, 'sender-down': 1 });
    expect(thrown(() => net.restart('b')).code).toBe('INVALID_STATE');
  });

  it('pause queues arrivals and stalls timers; resume handles them in order', () => {
    const { sim, net, a, b, got } = pair(1, { latency: 1 });
    const timers: number[] = [];
    b.setTimer(5, () => timers.push(sim.now));
    sim.schedule(2, () => net.pause('b'));
    sim.schedule(3, () => {
      a.send('b', 'first');
      a.send('b', 'second');
    });
    let inFlightDuringPause = -1;
    sim.schedule(8, () => (inFlightDuringPause = net.stats.inFlight));
    sim.schedule(12, () => net.resume('b'));
    sim.run();
    expect(inFlightDuringPause).toBe(2);
    expect(got.map((g) => [g.m.payload, g.t])).toEqual([
      ['first', 12],
      ['second', 12],
    ]);
    expect(timers).toEqual([12]);
    expect(net.stats).toMatchObject({ delivered: 2, inFlight: 0 });
  });

  it('work stops during a pause: it finishes later by the overlap, unlike a wall-clock timer', () => {
    const { sim, net, b } = pair();
    const done: Record<string, number> = {};
    const at = (t: number, fn: () => void) => sim.schedule(t, fn);
    // Work of 100 started at 0 is overlapped by all three pauses below (20 + 5 + 10): done at 135.
    // A wall-clock timer of 100 fires at 100.
    b.work(100, () => (done.spanning = sim.now));
    b.setTimer(100, () => (done.timer = sim.now));
    // Work of 15 is due inside the pause 10..30: 10 done before it, 5 left after the resume: 35.
    b.work(15, () => (done.dueInPause = sim.now));
    at(10, () => net.pause('b'));
    at(30, () => net.resume('b'));
    // Two pauses during one piece of work: 40..45 and 60..70, work 50 started at 35: done at 100.
    at(35, () => b.work(50, () => (done.twoPauses = sim.now)));
    at(40, () => net.pause('b'));
    at(45, () => net.resume('b'));
    at(60, () => net.pause('b'));
    at(70, () => net.resume('b'));
    // Cancelled work never runs, even after being pushed back by a pause.
    const cancelled = b.work(20, () => (done.cancelled = sim.now));
    at(25, () => cancelled.cancel());
    sim.run();
    expect(done).toEqual({ dueInPause: 35, twoPauses: 100, timer: 100, spanning: 135 });
  });

  it('skew and drift change only what the node reads; timers use local time', () => {
    const { sim, net, b } = pair();
    const fired: number[] = [];
    sim.schedule(100, () => {
      net.skew('b', 250);
      net.drift('b', 1); // local clock runs twice as fast
      b.setTimer(100, () => fired.push(sim.now));
    });
    sim.run({ until: 200 });
    expect(sim.now).toBe(200);
    expect(b.clock.now()).toBe(100 + 250 + 100 * 2);
    expect(fired).toEqual([150]);
    expect(thrown(() => net.drift('b', -1)).message).toContain('drift');
  });

  it('degrade sets the capacity factor and tells the node', () => {
    const { net, b } = pair();
    const seen: number[] = [];
    b.onCapacityChange((f) => seen.push(f));
    net.degrade('b', 0.25);
    net.degrade('b', 1);
    expect(seen).toEqual([0.25, 1]);
    expect(thrown(() => net.degrade('b', 0)).message).toContain('capacity factor');
  });

  it('every fault is a @dsim.fault trace record', () => {
    const { sim, net } = pair();
    const records: TraceRecord[] = [];
    sim.inspect((r) => records.push(r));
    net.partition('a', 'b').heal();
    net.crash('a');
    net.restart('a');
    expect(records.filter((r) => r.type === '@dsim.fault').map((r) => r.fault)).toEqual([
      'partition',
      'heal',
      'crash',
      'restart',
    ]);
  });
});

describe('conservation and determinism', () => {
  function chaos(seed: number, check?: (net: Network) => void) {
    const sim = new Simulation({ seed });
    const net = new Network(sim, {
      defaults: { latency: exponential({ mean: 2 }), loss: 0.05, duplicate: 0.05 },
    });
    const names = ['n0', 'n1', 'n2', 'n3'];
    for (const n of names) {
      const node = net.addNode<number>(n);
      node.onMessage((m) => {
        if (m.payload > 0) node.send(m.from, m.payload - 1);
      });
    }
    const rng = sim.rng('test/chaos');
    for (let i = 0; i < 200; i++) {
      sim.schedule(rng.next() * 1000, () => {
        const from = net.node(rng.pick(names));
        if (from.isUp) from.send(rng.pick(names), 5);
      });
    }
    for (let i = 0; i < 30; i++) {
      sim.schedule(rng.next() * 1000, () => {
        const n = rng.pick(names);
        const node = net.node(n);
        const r = rng.next();
        if (r < 0.3) {
          const h = net.partition(
            n,
            names.filter((x) => x !== n),
          );
          sim.schedule(rng.next() * 50, () => h.heal());
        } else if (r < 0.6 && node.state === 'up') {
          net.crash(n);
          sim.schedule(rng.next() * 50, () => net.restart(n));
        } else if (node.state === 'up') {
          net.pause(n);
          sim.schedule(rng.next() * 50, () => net.resume(n));
        }
      });
    }
    if (check) {
      for (let t = 0; t < 1200; t += 1) sim.scheduleAt(t, () => check(net), { priority: 5 });
    }
    sim.run();
    return { sim, net };
  }

  it('sent + duplicated = delivered + dropped + in flight, at every moment, across 25 seeds', () => {
    for (let seed = 1; seed <= 25; seed++) {
      let violations = 0;
      const { net } = chaos(seed, (n) => {
        if (!conserved(n)) violations++;
      });
      expect(violations, `seed ${seed}`).toBe(0);
      expect(net.stats.inFlight, `seed ${seed}`).toBe(0);
      expect(net.stats.sent).toBeGreaterThan(200);
    }
  });

  it('same seed, same digest and stats; another seed differs', () => {
    const x = chaos(7);
    const y = chaos(7);
    const z = chaos(8);
    expect(x.sim.digest()).toBe(y.sim.digest());
    expect(x.net.stats).toEqual(y.net.stats);
    expect(z.sim.digest()).not.toBe(x.sim.digest());
  });
});
