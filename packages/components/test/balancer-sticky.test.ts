import { Network, RpcEndpoint, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { MaxFails } from '../src/balancer/health/max-fails.js';
import type { BackendHealth } from '../src/balancer/health/types.js';
import { LoadBalancer } from '../src/balancer/load-balancer.js';
import { RoundRobinPolicy } from '../src/balancer/policies/round-robin.js';
import { StickyPolicy } from '../src/balancer/policies/sticky.js';
import { Service } from '../src/service/service.js';

const BACKENDS = ['app-0', 'app-1', 'app-2', 'app-3'];

/** A health hook the test switches by hand. */
function switchable(): BackendHealth & { down: Set<string> } {
  const down = new Set<string>();
  return { down, isAvailable: (a) => !down.has(a) };
}

/**
 * `users` sessions behind a sticky round robin: every 10 ms user `r % users` sends request r, `rounds`
 * rounds. `between(round)` runs before each round. Returns the backend of every request by user.
 */
function run(opts: {
  users: number;
  rounds: number;
  by?: 'key' | 'source';
  health?: (sim: Simulation) => BackendHealth[];
  between?: (round: number, lb: LoadBalancer, net: Network) => void;
}) {
  const sim = new Simulation({ seed: 1 });
  const net = new Network(sim);
  for (const b of [...BACKENDS, 'app-9']) new Service(net.addNode(b), { serviceTime: 1, concurrency: 100 });
  const sticky = new StickyPolicy(new RoundRobinPolicy(), { key: opts.by ?? 'key' });
  const lb = new LoadBalancer(net.addNode('lb'), {
    backends: BACKENDS,
    policy: sticky,
    health: opts.health?.(sim) ?? [],
    timeout: '50ms',
  });
  const clients = Array.from({ length: opts.users }, (_, u) => new RpcEndpoint(net.addNode(`client-${u}`)));
  const seen: string[][] = clients.map(() => []);
  let failed = 0;
  sim.inspect((r) => {
    if (r.type === '@dsim.lb.pick') seen[Number((r.from as string).slice(7))]!.push(r.backend as string);
  });
  sim.process(function* () {
    for (let round = 0; round < opts.rounds; round++) {
      opts.between?.(round, lb, net);
      for (let u = 0; u < opts.users; u++) {
        const key = opts.by === 'source' ? undefined : `user:${u}`;
        clients[u]!.call('lb', round, key === undefined ? {} : { key }).onProcessed((e) => {
          if (!e.value!.ok) failed++;
        });
        yield sim.timeout(10);
      }
    }
  });
  sim.run();
  return { sticky, seen, failed, lb };
}

describe('StickyPolicy', () => {
  it('keeps every session on its first backend, and the inner policy spreads new sessions', () => {
    for (const by of ['key', 'source'] as const) {
      const { sticky, seen } = run({ users: 12, rounds: 5, by });
      // Round robin placed the 12 first requests: 3 sessions per backend.
      const first = seen.map((s) => s[0]!);
      for (const b of BACKENDS) expect(first.filter((x) => x === b)).toHaveLength(3);
      for (const s of seen) expect(new Set(s).size).toBe(1); // 5 requests, one backend
      expect(sticky.stats).toEqual({ sessions: 12, lost: 0, unkeyed: 0 });
      expect(sticky.kind).toBe('sticky(round-robin)');
    }
  });

  it('re-places exactly the sessions of a backend that becomes unavailable, and they stay moved', () => {
    const health = switchable();
    const { sticky, seen, failed } = run({
      users: 12,
      rounds: 6,
      health: () => [health],
      between: (round) => {
        if (round === 2) health.down.add('app-1');
        if (round === 4) health.down.delete('app-1'); // back: the moved sessions stay where they are
      },
    });
    const onApp1 = seen.filter((s) => s[0] === 'app-1').length;
    expect(onApp1).toBe(3);
    expect(sticky.stats).toEqual({ sessions: 12, lost: 3, unkeyed: 0 });
    expect(failed).toBe(0);
    for (const s of seen) {
      const moved = s[0] === 'app-1';
      expect(new Set(s.slice(2)).size).toBe(1); // from the re-placement on, one backend
      if (moved) expect(s[2]).not.toBe('app-1');
      else expect(new Set(s).size).toBe(1);
    }
  });

  it('counts the sessions of a crashed backend as lost once nginx max_fails ejects it', () => {
    const { sticky, seen } = run({
      users: 12,
      rounds: 6,
      health: (sim) => [new MaxFails(sim, { maxFails: 1, failTimeout: '1h' })],
      between: (round, _lb, net) => {
        if (round === 2) net.crash('app-2');
      },
    });
    expect(seen.filter((s) => s[0] === 'app-2')).toHaveLength(3);
    expect(sticky.stats.lost).toBe(3);
    expect(sticky.stats.sessions).toBe(12);
  });

  it('re-places the sessions of a removed backend and keeps the others when backends change', () => {
    const { sticky, seen } = run({
      users: 8,
      rounds: 4,
      between: (round, lb) => {
        if (round === 2) {
          lb.removeBackend('app-0');
          lb.addBackend('app-9'); // the indices shift; sessions are kept by address
        }
      },
    });
    expect(sticky.stats).toEqual({ sessions: 8, lost: 2, unkeyed: 0 });
    for (const s of seen) if (s[0] !== 'app-0') expect(new Set(s).size).toBe(1);
  });

  it('balances requests without a key with the inner policy and rejects bad options', () => {
    const sticky = new StickyPolicy(new RoundRobinPolicy());
    expect(sticky.by).toBe('key');
    expect(() => new StickyPolicy(new RoundRobinPolicy(), { key: 'sorce' as never })).toThrow(/source/);
    expect(() => new StickyPolicy(new RoundRobinPolicy(), { kye: 'key' } as never)).toThrow(/kye/);
    expect(() => new StickyPolicy({} as never)).toThrow(/pick/);
  });
});
