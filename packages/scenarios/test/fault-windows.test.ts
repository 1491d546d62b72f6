import { exponential, Network, Simulation, scheduleFaults } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { faultWindows } from '../src/fault-windows.js';

describe('faultWindows', () => {
  it('pairs every kind of fault with its undo, from a real schedule', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim, { defaults: { latency: exponential({ mean: 1 }) } });
    for (const n of ['a', 'b', 'c']) net.addNode(n);
    // Link settings made while building a topology are configuration, not faults.
    net.setLink('a', 'b', { latency: 2 });
    scheduleFaults(net, [
      { at: 1000, for: 500, fault: { kind: 'crash', node: 'a' } },
      { at: 2000, for: 1000, fault: { kind: 'partition', a: ['a'], b: ['b', 'c'] } },
      { at: 2500, for: 100, fault: { kind: 'pause', node: 'c' } },
      { at: 3000, for: 2000, fault: { kind: 'latency', a: 'a', b: 'c', latency: 50 } },
      { at: 4000, for: 1000, fault: { kind: 'degrade', node: 'b', factor: 0.5 } },
      { at: 4500, fault: { kind: 'isolate', node: 'c' } },
      { at: 4600, fault: { kind: 'skew', node: 'a', ms: 30 } },
    ]);
    sim.run();
    expect(faultWindows(sim.faultLog)).toEqual([
      { label: 'crash a', fromMs: 1000, toMs: 1500 },
      { label: 'partition a | b,c', fromMs: 2000, toMs: 3000 },
      { label: 'pause c', fromMs: 2500, toMs: 2600 },
      { label: 'latency a <-> c', fromMs: 3000, toMs: 5000 },
      { label: 'degrade b ×0.5', fromMs: 4000, toMs: 5000 },
      { label: 'isolate c', fromMs: 4500, toMs: null },
      { label: 'skew a 30 ms', fromMs: 4600, toMs: 4600 },
    ]);
  });
  it('a heal of everything closes every open partition; the log is kept without tracing', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    for (const n of ['a', 'b']) net.addNode(n);
    expect(sim.tracing).toBe(false);
    net.partition('a', 'b');
    net.isolate('b');
    sim.schedule(700, () => net.heal());
    sim.run();
    expect(sim.faultLog.map((e) => e.fault)).toEqual(['partition', 'isolate', 'heal']);
    expect(faultWindows(sim.faultLog).map((w) => w.toMs)).toEqual([700, 700]);
  });
});
