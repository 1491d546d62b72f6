import {
  constant,
  exponential,
  Network,
  RpcEndpoint,
  type RpcResponse,
  Simulation,
  scheduleFaults,
} from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { Activator } from '../src/autoscaling/activator.js';
import { Autoscaler } from '../src/autoscaling/autoscaler.js';
import { HpaPolicy } from '../src/autoscaling/hpa.js';
import { ReplicaPool, type ReplicaPoolOptions } from '../src/autoscaling/replica-pool.js';
import { LoadBalancer } from '../src/balancer/load-balancer.js';
import { openLoop } from '../src/workload/open-loop.js';

function setup(seed: number, pool: Omit<ReplicaPoolOptions, 'name' | 'balancer'>, lbTimeout = '10s') {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  const lb = new LoadBalancer(net.addNode('lb'), {
    backends: [],
    policy: { kind: 'round-robin' },
    timeout: lbTimeout,
  });
  const replicas = new ReplicaPool(net, { name: 'app', balancer: lb, ...pool });
  const client = new RpcEndpoint(net.addNode('client'));
  return { sim, net, lb, pool: replicas, client };
}

describe('ReplicaPool: start-up, warm-up, graceful scale-down, crashes', () => {
  it('a new replica joins the balancer exactly its start-up time after it was asked for, not before', () => {
    const { sim, lb, pool } = setup(1, { service: { serviceTime: 10 }, replicas: 1, startup: '30s' });
    sim.schedule(10_000, () => pool.scaleTo(3));
    const seen: Array<[number, number, readonly string[]]> = [];
    for (const t of [39_999, 40_001]) sim.scheduleAt(t, () => seen.push([t, pool.ready, [...lb.addresses]]));
    sim.run();
    expect(seen[0]).toEqual([39_999, 1, ['app-0']]);
    expect(seen[1]).toEqual([40_001, 3, ['app-0', 'app-1', 'app-2']]);
    for (const r of pool.members.slice(1)) {
      expect(r.createdAt).toBe(10_000);
      expect(r.readyAt - r.createdAt).toBe(30_000);
      expect(r.arrivedAtReady).toBe(0);
    }
    // 1 replica for 10 s, then 3 (starting ones count) until the run ends at 40.001 s.
    expect(pool.replicaSeconds()).toBeCloseTo(10 + 3 * 30.001, 9);
  });

  it('start-up times drawn from a distribution, one per replica, from the pool stream', () => {
    const { sim, pool } = setup(3, {
      service: { serviceTime: 10 },
      replicas: 0,
      startup: exponential({ mean: 20_000 }),
    });
    pool.scaleTo(50);
    sim.run();
    const waits = pool.members.map((r) => r.readyAt - r.createdAt);
    const mean = waits.reduce((a, b) => a + b, 0) / waits.length;
    expect(new Set(waits).size).toBe(50);
    expect(mean).toBeGreaterThan(20_000 * (1 - 3 / Math.sqrt(50)));
    expect(mean).toBeLessThan(20_000 * (1 + 3 / Math.sqrt(50)));
  });

  it('warm-up multiplies the service time by the factor at ready, falling linearly to 1', () => {
    const { sim, pool, client } = setup(1, {
      service: { serviceTime: constant(100) },
      replicas: 0,
      startup: '10s',
      warmup: { duration: '20s', factor: 3 },
    });
    pool.scaleTo(1);
    const latencies: number[] = [];
    for (const t of [10_000, 20_000, 30_000, 40_000]) {
      sim.scheduleAt(t, () => {
        const sent = sim.now;
        client.call('lb', 'x').onProcessed(() => latencies.push(sim.now - sent));
      });
    }
    sim.run();
    // At ready ×3, 10 s in ×2, from 20 s on ×1.
    expect(latencies).toEqual([300, 200, 100, 100]);
  });

  it('scale-down drains: in-flight requests finish within the grace period and are cut after it', () => {
    const { sim, pool, client } = setup(1, {
      service: { serviceTime: constant(5000) },
      replicas: 2,
      startup: 0,
      drain: '3s',
    });
    const answers: Array<[number, string]> = [];
    const send = () =>
      client
        .call('lb', 'x')
        .onProcessed((e) =>
          answers.push([sim.now, e.value!.ok ? 'ok' : (e.value as { error: { kind: string } }).error.kind]),
        );
    sim.scheduleAt(0, send);
    sim.scheduleAt(0, send);
    sim.scheduleAt(1000, () => pool.scaleTo(1));
    sim.run();
    // One of the two replicas is removed at 1 s; its request is cut at 4 s (the balancer answers
    // `unavailable`), the other finishes at 5 s.
    expect(answers).toEqual([
      [4000, 'unavailable'],
      [5000, 'ok'],
    ]);
    expect(pool.replicas).toBe(1);
    expect(pool.stats.terminated).toBe(1);
  });

  it('removes starting replicas first, then crashed ones, then the most recently ready', () => {
    const { sim, net, pool } = setup(1, { service: { serviceTime: 10 }, replicas: 2, startup: '10s' });
    sim.scheduleAt(1000, () => pool.scaleTo(3)); // app-2 ready at 11 s
    sim.scheduleAt(20_000, () => pool.scaleTo(5)); // app-3, app-4 starting until 30 s
    sim.scheduleAt(21_000, () => net.crash('app-0'));
    const left: string[][] = [];
    for (const [t, n] of [
      [22_000, 3],
      [23_000, 2],
      [24_000, 1],
    ] as const)
      sim.scheduleAt(t, () => {
        pool.scaleTo(n);
        left.push(pool.members.map((r) => `${r.address}:${r.state}`));
      });
    sim.run();
    expect(left).toEqual([
      ['app-0:down', 'app-1:ready', 'app-2:ready'], // the two starting ones went first
      ['app-1:ready', 'app-2:ready'], // then the crashed one
      ['app-1:ready'], // then app-2, ready most recently
    ]);
  });

  it('a crashed replica leaves the balancer, stays counted, and starts up again when its node restarts', () => {
    const { sim, net, lb, pool } = setup(1, { service: { serviceTime: 10 }, replicas: 2, startup: '5s' });
    scheduleFaults(net, [{ at: 10_000, for: 20_000, fault: { kind: 'crash', node: 'app-1' } }]);
    const seen: string[] = [];
    for (const t of [10_001, 30_001, 35_001])
      sim.scheduleAt(t, () => seen.push(`${t}: ${pool.replicas}/${pool.ready} ${lb.addresses.join(',')}`));
    sim.run();
    expect(seen).toEqual(['10001: 2/1 app-0', '30001: 2/1 app-0', '35001: 2/2 app-0,app-1']);
    expect(pool.stats).toEqual({ created: 2, readied: 3, terminated: 0, crashed: 1, restarted: 1 });
  });

  it('refuses bad options', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    const lb = new LoadBalancer(net.addNode('lb'), { backends: [] });
    const ok = { name: 'app', balancer: lb, service: { serviceTime: 10 }, startup: '30s' };
    expect(() => new ReplicaPool(net, { ...ok, replica: 2 } as never)).toThrow(
      /unknown option "replica" \(did you mean "replicas"\?\)/,
    );
    expect(() => new ReplicaPool(net, { ...ok, startup: undefined } as never)).toThrow(
      /startup must be a distribution/,
    );
    expect(() => new ReplicaPool(net, { ...ok, startup: { mean: 5 } } as never)).toThrow(
      /startup must be a distribution/,
    );
    expect(() => new ReplicaPool(net, { ...ok, balancer: 'lb' } as never)).toThrow(
      /balancer must be a LoadBalancer/,
    );
    expect(() => new ReplicaPool(net, { ...ok, warmup: { duration: '10s', factor: 0.5 } })).toThrow(
      /warmup.factor must be a finite number >= 1/,
    );
    expect(() => new ReplicaPool(net, { ...ok, replicas: -1 })).toThrow(/replicas must be an integer >= 0/);
    const pool = new ReplicaPool(net, ok);
    expect(() => pool.scaleTo(1.5)).toThrow(/scaleTo\(replicas\) must be an integer >= 0, got 1.5/);
    expect(() => new Autoscaler(pool, { policy: { decide: () => 1 } as never })).toThrow(
      /policy must be a ScalingPolicy/,
    );
    expect(
      () =>
        new Autoscaler(pool, {
          policy: new HpaPolicy({ target: 50, maxReplicas: 3 }),
          metric: { kind: 'cpu' } as never,
        }),
    ).toThrow(/metric.kind must be one of "utilization", "rps", "custom"/);
    expect(() => new Activator(net.addNode('act'), { pool: {} as never, target: 'lb' })).toThrow(
      /pool must be a ReplicaPool/,
    );
  });
});

describe('Autoscaler: a policy on the simulation clock', () => {
  it('replays the HPA reconciliations exactly on a scripted metric (start-up 0)', () => {
    const { sim, pool } = setup(1, { service: { serviceTime: 10 }, replicas: 4, startup: 0 });
    const series = [60, 54, 55, 56, 45, ...new Array<number>(25).fill(20)];
    const scaler = new Autoscaler(pool, {
      policy: new HpaPolicy({ target: 50, maxReplicas: 100 }),
      metric: { kind: 'custom', value: (_r, _from, to) => series[to / 15_000 - 1] },
      until: series.length * 15_000,
    });
    sim.run();
    const counts = scaler.history.map((h) => h.desired);
    expect(counts.slice(0, 6)).toEqual([5, 5, 5, 6, 6, 6]);
    expect(counts[360 / 15 - 1]).toBe(6);
    expect(counts[375 / 15 - 1]).toBe(3);
    expect(scaler.events.map((e) => [e.at, e.from, e.to])).toEqual([
      [15_000, 4, 5],
      [60_000, 5, 6],
      [375_000, 6, 3],
    ]);
    expect(scaler.scaleUps).toBe(2);
    expect(scaler.scaleDowns).toBe(1);
  });

  it('measures utilisation as busy workers over workers and settles at ceil(load / (capacity × target))', () => {
    // 2 workers × 200 ms: 10 req/s per replica; 60% target: 6 req/s each; 50 req/s -> ceil(8.33) = 9.
    const { sim, pool, client } = setup(2, {
      service: { concurrency: 2, serviceTime: exponential({ mean: 200 }), dropExpired: true },
      replicas: 2,
      startup: '20s',
    });
    const scaler = new Autoscaler(pool, {
      policy: new HpaPolicy({
        target: 60,
        maxReplicas: 30,
        behavior: { scaleDown: { stabilizationWindow: '60s' } },
      }),
      until: '5m',
    });
    openLoop(sim, {
      arrivals: { kind: 'poisson', rate: 50 },
      onArrival: () => client.call('lb', 'x'),
      until: '5m',
    });
    sim.run();
    expect(pool.replicas).toBe(9);
    // Once settled, the measured utilisation is 50 / (9 × 10) = 55.6%, within the tolerance of 60%.
    const settled = scaler.history.filter((h) => h.at > scaler.events.at(-1)!.at + 15_000);
    expect(settled.length).toBeGreaterThanOrEqual(3);
    for (const h of settled) expect(Math.abs(h.metric - 55.6)).toBeLessThan(6);
    // While new replicas start, the HPA does not scale up again (unready pods count as 0% on a scale-up).
    const ups = scaler.events.filter((e) => e.to > e.from);
    for (let i = 1; i < ups.length; i++) expect(ups[i]!.at - ups[i - 1]!.at).toBeGreaterThanOrEqual(20_000);
  });

  it('conservation: every request answered exactly once through scale-ups, scale-downs and a crash, across seeds', () => {
    let downs = 0;
    let cut = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const { sim, net, lb, pool, client } = setup(
        seed,
        {
          service: { concurrency: 2, serviceTime: exponential({ mean: 200 }), dropExpired: true },
          replicas: 2,
          startup: exponential({ mean: 8000 }),
          drain: '50ms',
        },
        '2s',
      );
      const scaler = new Autoscaler(pool, {
        policy: new HpaPolicy({
          target: 60,
          maxReplicas: 20,
          behavior: { scaleDown: { stabilizationWindow: '20s' } },
        }),
        until: '150s',
      });
      scheduleFaults(net, [{ at: 40_000, for: 10_000, fault: { kind: 'crash', node: 'app-1' } }]);
      const answered: number[] = [];
      let ok = 0;
      let failed = 0;
      const send = (i: number) => {
        answered[i] = 0;
        client.call('lb', i).onProcessed((e) => {
          answered[i]!++;
          if ((e.value as RpcResponse).ok) ok++;
          else failed++;
        });
      };
      openLoop(sim, {
        arrivals: {
          kind: 'steps',
          steps: [
            { at: 0, rate: 10 },
            { at: '20s', rate: 60 },
            { at: '60s', rate: 30 },
            { at: '100s', rate: 5 },
          ],
        },
        onArrival: send,
        until: '150s',
      });
      sim.run();
      expect(
        answered.every((n) => n === 1),
        `seed ${seed}`,
      ).toBe(true);
      expect(ok + failed).toBe(answered.length);
      const s = lb.stats;
      expect(s.requests).toBe(answered.length);
      expect(s.inFlight).toBe(0);
      expect(s.ok + s.failed + s.overloaded + s.noBackend).toBe(s.requests);
      expect(s.ok).toBe(ok);
      expect(scaler.scaleUps, `seed ${seed}`).toBeGreaterThanOrEqual(2);
      expect(pool.stats.crashed).toBe(1);
      downs += scaler.scaleDowns;
      cut += s.cut;
    }
    expect(downs).toBeGreaterThanOrEqual(4);
    expect(cut).toBeGreaterThan(0);
  });
});

describe('Activator: scale to zero and cold starts', () => {
  function coldSetup(seed: number, activator: { capacity?: number; timeout?: string } = {}) {
    const { sim, net, pool, client } = setup(seed, {
      service: { concurrency: 4, serviceTime: constant(10) },
      replicas: 0,
      startup: '30s',
    });
    const scaler = new Autoscaler(pool, {
      policy: new HpaPolicy({
        target: 5,
        minReplicas: 0,
        maxReplicas: 5,
        behavior: { scaleDown: { stabilizationWindow: '60s' } },
      }),
      metric: { kind: 'rps' },
      until: '10m',
    });
    const act = new Activator(net.addNode('activator'), {
      pool,
      target: 'lb',
      autoscaler: scaler,
      ...activator,
    });
    return { sim, pool, client, scaler, act };
  }

  it('a request at zero replicas waits exactly the start-up time; the pool goes back to zero when idle', () => {
    const { sim, pool, client, scaler, act } = coldSetup(1);
    const latencies: Array<[number, number]> = [];
    const send = (at: number) =>
      sim.scheduleAt(at, () =>
        client.call('activator', 'x').onProcessed(() => latencies.push([at, sim.now - at])),
      );
    send(5000);
    send(6000); // arrives while the replica starts: waits the rest of the start-up
    send(40_000); // warm
    send(400_000); // after the pool went back to zero: a second cold start
    sim.run();
    expect(latencies).toEqual([
      [5000, 30_010],
      [6000, 29_010],
      [40_000, 10],
      [400_000, 30_010],
    ]);
    expect(scaler.events.filter((e) => e.reason === 'Activated').map((e) => e.at)).toEqual([5000, 400_000]);
    // Back to zero once the wake's recommendation and the traffic are out of the 60 s window.
    const zero = scaler.events.find((e) => e.to === 0)!;
    expect(zero.at).toBeGreaterThan(40_000 + 60_000);
    expect(zero.at).toBeLessThanOrEqual(40_000 + 60_000 + 2 * 15_000);
    expect(act.stats).toMatchObject({
      requests: 4,
      forwarded: 4,
      coldStarted: 3,
      wakes: 2,
      ok: 4,
      failed: 0,
      held: 0,
      pending: 0,
    });
    expect(pool.replicas).toBe(0);
  });

  it('holds at most `capacity` requests and answers a held request `unavailable` at `timeout`', () => {
    const { sim, client, act } = coldSetup(1, { capacity: 2, timeout: '20s' });
    const answers: string[] = [];
    for (let i = 0; i < 3; i++)
      sim.scheduleAt(1000 + i, () =>
        client.call('activator', i).onProcessed((e) => {
          const v = e.value as RpcResponse;
          answers.push(`${sim.now}:${v.ok ? 'ok' : v.error.kind}`);
        }),
      );
    sim.run();
    expect(answers).toEqual(['1002:overloaded', '21000:unavailable', '21001:unavailable']);
    const s = act.stats;
    expect(s.requests).toBe(s.forwarded + s.overflow + s.expired + s.held);
    expect(s.requests).toBe(s.ok + s.failed + s.pending + s.held);
    expect(s).toMatchObject({ overflow: 1, expired: 2, forwarded: 0, wakes: 1 });
  });
});
