import { describe, expect, it } from 'vitest';
import { scheduleFaults } from '../src/net/faults.js';
import { Network } from '../src/net/network.js';
import { Simulation } from '../src/simulation.js';
import type { TraceRecord } from '../src/trace.js';
import { thrown } from './support/thrown.js';

function cluster() {
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim, { defaults: { latency: 1 } });
  const received = new Map<string, number[]>();
  for (const n of ['n1', 'n2', 'n3']) {
    received.set(n, []);
    net.addNode<number>(n).onMessage((m) => received.get(n)!.push(m.payload));
  }
  // n1 sends to n2 and n3 every 10 ms, payload = send time.
  for (let t = 0; t < 100; t += 10) {
    sim.scheduleAt(t, () => {
      net.node('n1').send('n2', t);
      net.node('n1').send('n3', t);
    });
  }
  return { sim, net, received };
}

describe('fault schedule', () => {
  it('applies each fault at its time and undoes it after its duration', () => {
    const { sim, net, received } = cluster();
    const records: TraceRecord[] = [];
    sim.inspect((r) => {
      if (r.type === '@dsim.fault') records.push(r);
    });
    scheduleFaults(net, [
      { at: 20, for: 30, fault: { kind: 'partition', a: 'n1', b: ['n2'] } },
      { at: 40, for: 20, fault: { kind: 'crash', node: 'n3' } },
      { at: 70, fault: { kind: 'latency', a: 'n1', b: 'n3', latency: 100 } },
    ]);
    sim.run();
    // n2 misses sends at 20, 30, 40 (partitioned at t=20 before the send, healed at t=50 before it).
    expect(received.get('n2')).toEqual([0, 10, 50, 60, 70, 80, 90]);
    // n3 is down from 40 to 60: sends at 40 and 50 arrive at 41 and 51 and are dropped; the 60 send arrives after the restart.
    expect(received.get('n3')).toEqual([0, 10, 20, 30, 60, 70, 80, 90]);
    expect(records.map((r) => [r.t, r.fault])).toEqual([
      [20, 'partition'],
      [40, 'crash'],
      [50, 'heal'],
      [60, 'restart'],
      [70, 'link'],
    ]);
    expect(net.stats).toMatchObject({ inFlight: 0 });
  });

  it('restores the previous link settings after a timed latency or loss fault', () => {
    const { sim, net } = cluster();
    const arrivals: number[] = [];
    net.node('n3').onMessage((m) => arrivals.push(sim.now - (m.payload as number)));
    scheduleFaults(net, [{ at: 25, for: 30, fault: { kind: 'latency', a: 'n1', b: 'n3', latency: 7 } }]);
    sim.run();
    expect(arrivals).toEqual([1, 1, 1, 7, 7, 7, 1, 1, 1, 1]);
  });

  it('degrade, skew and drift are undone too', () => {
    const { sim, net } = cluster();
    scheduleFaults(net, [
      { at: 10, for: 10, fault: { kind: 'degrade', node: 'n2', factor: 0.5 } },
      { at: 10, for: 10, fault: { kind: 'skew', node: 'n2', ms: 1000 } },
      { at: 10, for: 10, fault: { kind: 'pause', node: 'n3' } },
    ]);
    const seen: Array<[number, number, string]> = [];
    for (const t of [15, 25])
      sim.scheduleAt(t, () =>
        seen.push([net.node('n2').capacity, net.node('n2').clock.offset, net.node('n3').state]),
      );
    sim.run();
    expect(seen).toEqual([
      [0.5, 1000, 'paused'],
      [1, 0, 'up'],
    ]);
  });

  it('validates every entry before scheduling anything, naming the index and field', () => {
    const { sim, net } = cluster();
    expect(thrown(() => scheduleFaults(net, [{ at: 5, fault: { kind: 'crash', node: 'n9' } }])).message).toBe(
      'scheduleFaults: faults[0].fault.node must be one of the network\'s nodes (n1, n2, n3), got "n9"',
    );
    expect(
      thrown(() => scheduleFaults(net, [{ at: 'soon', fault: { kind: 'crash', node: 'n1' } }])).message,
    ).toContain('faults[0].at');
    expect(
      thrown(() =>
        scheduleFaults(net, [
          { at: 1, fault: { kind: 'pause', node: 'n1' } },
          { at: 1, fault: { kind: 'loss', a: 'n1', b: 'n2', loss: 2 } },
        ]),
      ).message,
    ).toContain('faults[1].fault.loss');
    expect(
      thrown(() => scheduleFaults(net, [{ at: 1, fault: { kind: 'flood' } as never }])).message,
    ).toContain('faults[0].fault.kind');
    expect(
      thrown(() => scheduleFaults(net, [{ at: 1, fault: { kind: 'degrade', node: 'n1', factor: 2 } }]))
        .message,
    ).toContain('factor');
    expect(sim.queueSize).toBe(10); // only the test's own sends: nothing from the rejected schedules
  });
});
