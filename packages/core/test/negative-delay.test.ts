import { describe, expect, it } from 'vitest';
import { constant, type Distribution, DsimError, normal, truncate } from '../src/index.js';
import { Network } from '../src/net/network.js';
import type { RandomStream } from '../src/random/stream.js';
import { Simulation } from '../src/simulation.js';
import type { TraceRecord } from '../src/trace.js';

/** A hand-written distribution that returns `values` in turn (then the last one forever). */
function sequence(values: readonly number[]): Distribution {
  let i = 0;
  return {
    kind: 'sequence',
    mean: undefined,
    sample: (_rng: RandomStream) => values[Math.min(i++, values.length - 1)]!,
    describe: () => `sequence(${values.join(', ')})`,
  };
}

function runError(sim: Simulation): DsimError {
  try {
    sim.run();
  } catch (err) {
    expect(err).toBeInstanceOf(DsimError);
    return err as DsimError;
  }
  throw new Error('expected the run to fail');
}

describe('a sampled delay never runs time backwards', () => {
  it('a negative latency stops the run, naming the link, the distribution, the value, the time and the seed', () => {
    const sim = new Simulation({ seed: 7 });
    const net = new Network(sim, { defaults: { latency: normal({ mean: 1, sd: 5 }) } });
    const a = net.addNode('a');
    net.addNode('b');
    let sends = 0;
    sim.schedule(3, () => {
      // normal(1, 5) is negative 42% of the time: some send among these draws one.
      for (let i = 0; i < 50; i++, sends++) a.send('b', i);
    });
    const err = runError(sim);
    expect(err.code).toBe('INVALID_DURATION');
    const value = err.details.value as number;
    expect(value).toBeLessThan(0);
    expect(err.message).toBe(
      `Network 'net': the latency of link a -> b sampled ${value} ms from normal(mean=1, sd=5); ` +
        'latency must be >= 0 (a message cannot arrive before it is sent): use a non-negative ' +
        'distribution (lognormal, gamma, exponential) or truncate(dist, { min: 0 })',
    );
    expect(err.simTime).toBe(3);
    expect(err.seed).toBe('7');
    expect(err.details).toMatchObject({
      link: 'a -> b',
      distribution: 'normal(mean=1, sd=5)',
      field: 'latency',
    });
    expect(err.describe()).toContain('at simulated time 3ms');
    expect(err.describe()).toContain('seed: 7');
    expect(sends).toBeLessThan(50);
  });

  it('a NaN latency is an error too', () => {
    const sim = new Simulation();
    const net = new Network(sim, { defaults: { latency: sequence([Number.NaN]) } });
    const a = net.addNode('a');
    net.addNode('b');
    sim.schedule(1, () => a.send('b', 1));
    const err = runError(sim);
    expect(err.code).toBe('INVALID_DURATION');
    expect(err.message).toContain('sampled NaN ms from sequence(NaN)');
  });

  it("a duplicate's own latency draw is checked", () => {
    const sim = new Simulation();
    const net = new Network(sim, { defaults: { latency: sequence([2, -1]), duplicate: 1 } });
    const a = net.addNode('a');
    net.addNode('b');
    let thrown: unknown;
    try {
      a.send('b', 1);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DsimError);
    expect((thrown as DsimError).details.value).toBe(-1);
    expect((thrown as DsimError).message).toContain('sampled -1 ms from sequence(2, -1)');
  });

  it('zero is a valid latency (instant delivery)', () => {
    const sim = new Simulation();
    const net = new Network(sim, { defaults: { latency: sequence([0]) } });
    const a = net.addNode('a');
    const got: number[] = [];
    net.addNode('b').onMessage(() => got.push(sim.now));
    sim.schedule(4, () => a.send('b', 1));
    sim.run();
    expect(got).toEqual([4]);
  });

  it('the same link with a truncated normal runs, and every delivery takes >= 0 ms', () => {
    const sim = new Simulation({ seed: 7 });
    const net = new Network(sim, { defaults: { latency: truncate(normal({ mean: 1, sd: 5 }), { min: 0 }) } });
    const a = net.addNode('a');
    net.addNode('b');
    const latencies: number[] = [];
    sim.inspect((r: TraceRecord) => {
      if (r.type === '@dsim.net.deliver') latencies.push(r.latency as number);
    });
    sim.schedule(3, () => {
      for (let i = 0; i < 2000; i++) a.send('b', i);
    });
    sim.run();
    expect(latencies).toHaveLength(2000);
    expect(Math.min(...latencies)).toBeGreaterThanOrEqual(0);
    // Not clamped: no pile-up at the bound.
    expect(latencies.filter((x) => x === 0)).toHaveLength(0);
  });

  it('node work and node timers reject a negative or NaN duration, naming the node', () => {
    const sim = new Simulation();
    const node = new Network(sim).addNode('db');
    for (const [call, what] of [
      [() => node.work(-2, () => {}), "NetNode 'db': work(duration) must be"],
      [() => node.setTimer(Number.NaN, () => {}), "NetNode 'db': setTimer(delay) must be"],
    ] as const) {
      let caught: unknown;
      try {
        call();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(DsimError);
      expect((caught as DsimError).code).toBe('INVALID_DURATION');
      expect((caught as DsimError).message.startsWith(what)).toBe(true);
    }
  });
});

describe('a latency known to be negative is refused when it is set', () => {
  it('a negative constant latency is an error at configuration, naming the field', () => {
    const sim = new Simulation();
    let caught: unknown;
    try {
      new Network(sim, { defaults: { latency: constant(-1) } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DsimError);
    expect((caught as DsimError).message).toBe(
      'Network: defaults.latency must be a non-negative latency distribution, got "constant(-1)"',
    );
  });
});
