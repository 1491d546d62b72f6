import { Network, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { MaxFails, type MaxFailsOptions } from '../src/balancer/health/max-fails.js';

/** Runs `fn` at absolute time `t` (the simulation must be at or before `t`). */
function at(sim: Simulation, t: number, fn: () => void): void {
  sim.run({ until: t });
  fn();
}

describe('MaxFails: nginx max_fails / fail_timeout', () => {
  it('defaults: one failure makes the server unavailable for fail_timeout (10 s)', () => {
    const sim = new Simulation({ seed: 1 });
    const mf = new MaxFails(sim);
    expect(mf.options).toMatchObject({ maxFails: 1, failTimeout: 10_000, workers: 1 });
    at(sim, 1000, () => mf.onResponse('a', false, 'timeout', 10));
    expect(mf.isAvailable('a')).toBe(false);
    expect(mf.isAvailable('b')).toBe(true);
    at(sim, 11_000, () => expect(mf.isAvailable('a')).toBe(false)); // now - checked <= fail_timeout
    at(sim, 11_001, () => expect(mf.isAvailable('a')).toBe(true));
    // The first pick after fail_timeout that succeeds clears the failures.
    at(sim, 11_010, () => mf.onResponse('a', true, undefined, 5));
    at(sim, 11_020, () => expect(mf.isAvailable('a')).toBe(true));
  });

  it('max_fails 3: failures count while each comes within fail_timeout of the last', () => {
    const sim = new Simulation({ seed: 1 });
    const mf = new MaxFails(sim, { maxFails: 3, failTimeout: '10s' });
    at(sim, 0, () => mf.onResponse('a', false, 'timeout', 0));
    at(sim, 5000, () => mf.onResponse('a', false, 'unavailable', 0));
    at(sim, 6000, () => mf.onResponse('a', true, undefined, 0)); // within fail_timeout: no reset
    expect(mf.isAvailable('a')).toBe(true);
    at(sim, 12_000, () => mf.onResponse('a', false, 'timeout', 0));
    expect(mf.isAvailable('a')).toBe(false);
    at(sim, 22_000, () => expect(mf.isAvailable('a')).toBe(false));
    at(sim, 22_001, () => expect(mf.isAvailable('a')).toBe(true));
    // A success more than fail_timeout after the last failure resets the count.
    const other = new MaxFails(sim, { maxFails: 2 });
    at(sim, 30_000, () => other.onResponse('b', false, 'timeout', 0));
    at(sim, 41_000, () => other.onResponse('b', true, undefined, 0));
    at(sim, 42_000, () => other.onResponse('b', false, 'timeout', 0));
    expect(other.isAvailable('b')).toBe(true);
  });

  it('counts only the kinds in failOn (proxy_next_upstream error timeout by default)', () => {
    const sim = new Simulation({ seed: 1 });
    const mf = new MaxFails(sim);
    mf.onResponse('a', false, 'error', 1); // an HTTP 500 answer is not a failed attempt
    mf.onResponse('a', false, 'overloaded', 1);
    expect(mf.isAvailable('a')).toBe(true);
    const strict = new MaxFails(sim, { failOn: ['error'] });
    strict.onResponse('a', false, 'error', 1);
    expect(strict.isAvailable('a')).toBe(false);
    expect(new MaxFails(sim, { maxFails: 0 }).isAvailable('a')).toBe(true);
  });

  /**
   * A balancer sending one request every 100 ms round-robin over the available servers; 'dead' times
   * out. Returns the failed requests sent to 'dead' in 60 s.
   */
  function failuresWith(options: MaxFailsOptions): number {
    const sim = new Simulation({ seed: 1 });
    const mf = new MaxFails(sim, options);
    const servers = ['s0', 's1', 'dead'];
    let next = 0;
    let failures = 0;
    const tick = (): void => {
      for (let i = 0; i < servers.length; i++) {
        const s = servers[(next + i) % servers.length]!;
        if (!mf.isAvailable(s)) continue;
        next = (next + i + 1) % servers.length;
        if (s === 'dead') failures++;
        mf.onResponse(s, s !== 'dead', s === 'dead' ? 'timeout' : undefined, 0);
        break;
      }
      sim.schedule(100, tick);
    };
    sim.schedule(100, tick);
    sim.run({ until: 60_000 });
    return failures;
  }

  it('per-worker state delays detection: each worker rediscovers the dead server', () => {
    // One worker: one failure per 10 s window (6 in 60 s, the first at 0.3 s).
    const one = failuresWith({});
    expect(one).toBe(6);
    // Four workers: each must fail on its own before the server is skipped everywhere.
    const four = failuresWith({ workers: 4 });
    expect(four).toBeGreaterThanOrEqual(4 * 5);
    expect(four).toBeGreaterThan(3 * one);
  });

  it('keeps separate state per worker, in turn', () => {
    const sim = new Simulation({ seed: 1 });
    const mf = new MaxFails(sim, { workers: 3 });
    expect(mf.worker).toBe(0);
    mf.onResponse('a', false, 'timeout', 0); // worker 0
    expect(mf.worker).toBe(1);
    expect(mf.isAvailable('a')).toBe(true);
    expect(mf.isAvailableFor(0, 'a')).toBe(false);
    mf.onResponse('a', false, 'timeout', 0); // worker 1
    mf.onResponse('b', true, undefined, 0); // worker 2
    expect(mf.worker).toBe(0);
    expect(mf.isAvailable('a')).toBe(false);
    expect(mf.isAvailableFor(2, 'a')).toBe(true);
  });

  it('on a NetNode, a crash forgets the state', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new Network(sim);
    const lb = net.addNode('lb');
    const mf = new MaxFails(lb);
    mf.onResponse('a', false, 'timeout', 0);
    expect(mf.isAvailable('a')).toBe(false);
    net.crash('lb');
    expect(mf.isAvailable('a')).toBe(true);
  });

  it('rejects typos with did-you-mean and bad values', () => {
    const sim = new Simulation({ seed: 1 });
    const make = (o: unknown) => new MaxFails(sim, o as MaxFailsOptions);
    expect(thrown(() => make({ max_fails: 1 })).message).toContain('did you mean "maxFails"');
    expect(thrown(() => make({ failTimout: 1 })).message).toContain('did you mean "failTimeout"');
    expect(thrown(() => make({ workers: 0 })).message).toContain('workers must be an integer >= 1');
    expect(thrown(() => make({ maxFails: -1 })).message).toContain('maxFails must be');
    expect(thrown(() => make({ failTimeout: 0 })).message).toContain('failTimeout must be');
    expect(thrown(() => make({ failOn: ['timeot'] })).message).toContain('did you mean "timeout"');
    expect(thrown(() => make({ failOn: [] })).message).toContain('non-empty array');
    expect(thrown(() => new MaxFails('sim' as never)).message).toContain('a Simulation or a NetNode');
  });
});
