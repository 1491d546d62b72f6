import { exponential, isDsimError, scheduleFaults } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { WindowAccuracy } from '../src/resilience/distributed-rate-limit/accuracy.js';
import { CentralLimiter } from '../src/resilience/distributed-rate-limit/central.js';
import { LocalShareLimiter, localShare } from '../src/resilience/distributed-rate-limit/local-share.js';
import { RateLimitStore } from '../src/resilience/distributed-rate-limit/store.js';
import { SyncedLimiter } from '../src/resilience/distributed-rate-limit/synced.js';
import { localAdmitted, syncedOverAdmissionBound } from '../src/resilience/distributed-rate-limit/theory.js';
import { TokenBucket } from '../src/resilience/rate-limiters/token-bucket.js';
import { cluster, type Design, spread } from './distributed-rate-limit-support.js';

const L = 100;
const W = 1000;
const FIXED_100 = { kind: 'fixed-window', limit: L, windowMs: W } as const;

describe('LocalShareLimiter: a limit per instance, nothing shared', () => {
  const split: Design = {
    kind: 'local',
    options: { limiter: { kind: 'fixed-window', limit: 25, windowMs: W } },
  };

  it('4 instances with L/4 each admit exactly 4 × 25 = L under even load', () => {
    const c = cluster({ instances: 4, design: split, limit: L, windowMs: W });
    for (let i = 0; i < 4; i++) c.schedule(i, spread(40, 100, 900));
    c.sim.run();
    expect(c.accuracy.totals()).toEqual({
      windows: 1,
      offered: 160,
      admitted: 100,
      rejected: 60,
      over: 0,
      under: 0,
    });
    for (let i = 0; i < 4; i++)
      expect(c.decided.filter((d) => d.instance === i && d.decision.allowed)).toHaveLength(25);
    expect(c.decided.every((d) => d.decision.latencyMs === 0)).toBe(true);
  });

  it('under skewed load it under-admits exactly L − Σ min(offered_i, L/4)', () => {
    const c = cluster({ instances: 4, design: split, limit: L, windowMs: W });
    c.schedule(0, spread(100, 100, 900));
    for (let i = 1; i < 4; i++) c.schedule(i, spread(10, 100, 900));
    c.sim.run();
    const admitted = localAdmitted([100, 10, 10, 10], 25);
    expect(admitted).toBe(55);
    expect(c.accuracy.totals()).toMatchObject({ offered: 130, admitted, over: 0, under: L - admitted });
  });

  it('the whole limit on every instance lets N × L through: over-admission', () => {
    const unsplit: Design = { kind: 'local', options: { limiter: FIXED_100 } };
    const c = cluster({ instances: 4, design: unsplit, limit: L, windowMs: W });
    for (let i = 0; i < 4; i++) c.schedule(i, spread(150, 0, 1000));
    c.sim.run();
    expect(c.accuracy.totals()).toMatchObject({ offered: 600, admitted: 400, over: 300, under: 0 });
  });

  it("Envoy's local token bucket: each instance decides exactly as a plain TokenBucket on its own arrivals", () => {
    const envoy: Design = {
      kind: 'local',
      options: { limiter: { kind: 'token-bucket', capacity: 25, refillPerSecond: 25 } },
    };
    const c = cluster({ instances: 2, design: envoy, limit: 50, windowMs: W });
    const times = spread(300, 0, 3000);
    c.schedule(0, times);
    c.schedule(1, times.slice(0, 60));
    c.sim.run();
    const oracle = (arrivals: readonly number[]) => {
      const bucket = new TokenBucket({ capacity: 25, refillPerSecond: 25 });
      return arrivals.filter((t) => bucket.tryAcquire(t).allowed);
    };
    const first = oracle(times);
    expect(c.decided.filter((d) => d.instance === 0 && d.decision.allowed).map((d) => d.arrivedAt)).toEqual(
      first,
    );
    expect(c.decided.filter((d) => d.instance === 1 && d.decision.allowed)).toHaveLength(
      oracle(times.slice(0, 60)).length,
    );
    // A full bucket lets capacity + rate × 1 s through in its first second: up to twice its share in a window.
    expect(first.filter((t) => t < W)).toHaveLength(49);
  });

  it('localShare splits a limit in whole permits, never above it', () => {
    expect(localShare(4000, 1 / 4)).toBe(1000);
    expect(localShare(3000, 1 / 3)).toBe(1000);
    expect(localShare(1000, 1 / 3)).toBe(333);
    expect(localShare(10, 1)).toBe(10);
    expect(() => localShare(10, 0.05)).toThrow(/localShare: share must be at least 1\/10/);
    expect(() => localShare(10, 0)).toThrow(/share must be a finite number in \(0, 1\]/);
    expect(() => localShare(2.5, 0.5)).toThrow(/globalLimit must be an integer >= 1/);
  });
});

describe('CentralLimiter: every request asks the store (Envoy global rate limiting)', () => {
  const central: Design = { kind: 'central' };

  it('admits exactly the limit per window, whatever the spread, and adds one round trip to every request', () => {
    for (const shares of [
      [40, 40, 40, 40],
      [130, 10, 10, 10],
    ]) {
      const c = cluster({
        instances: 4,
        design: central,
        limit: L,
        windowMs: W,
        store: { limiter: FIXED_100 },
      });
      // Arrivals 0.3 ms apart at most one at a time at the store: no queueing.
      shares.forEach((count, i) => {
        c.schedule(i, spread(count, 100 + 0.3 * i, 900 + 0.3 * i));
        c.schedule(i, spread(10, 1100 + 0.3 * i, 1900 + 0.3 * i));
      });
      c.sim.run();
      expect(c.accuracy.window(0)).toMatchObject({ offered: 160, admitted: 100, over: 0, under: 0 });
      expect(c.accuracy.window(1)).toMatchObject({ offered: 40, admitted: 40, over: 0, under: 0 });
      for (const d of c.decided) expect(d.decision.latencyMs).toBeCloseTo(1.05, 9); // 0.5 + 0.05 + 0.5
      expect(c.store.stats.checks).toBe(200); // the store sees every request
    }
  });

  it('store partitioned: fail open admits every request and fail closed none, each after the 20 ms timeout', () => {
    for (const failureMode of ['open', 'closed'] as const) {
      const c = cluster({
        instances: 4,
        design: { kind: 'central', options: { failureMode } },
        limit: L,
        windowMs: W,
        store: { limiter: FIXED_100 },
      });
      for (let i = 0; i < 4; i++) c.schedule(i, spread(150, 3 * i, 3000 + 3 * i)); // 50 per instance per window
      scheduleFaults(c.net, [
        { at: W, for: W, fault: { kind: 'partition', a: 'store', b: c.nodes.map((n) => n.address) } },
      ]);
      c.sim.run();
      const during = c.decided.filter((d) => d.arrivedAt >= W && d.arrivedAt < 2 * W);
      expect(during.length).toBeGreaterThan(0);
      for (const d of during) {
        expect(d.decision.reason).toBe(failureMode === 'open' ? 'fail-open' : 'fail-closed');
        expect(d.decision.latencyMs).toBeCloseTo(20, 9);
      }
      const w1 = c.accuracy.window(1);
      expect(w1.admitted).toBe(failureMode === 'open' ? w1.offered : 0);
      expect(failureMode === 'open' ? w1.over : w1.under).toBe(failureMode === 'open' ? w1.offered - L : L);
      // Before and after: exactly the limit.
      expect(c.accuracy.window(0).admitted).toBe(L);
      expect(c.accuracy.window(2).admitted).toBe(L);
      const stats = c.limiters.map((l) => (l as CentralLimiter).stats);
      const failed = stats.reduce((s, x) => s + (failureMode === 'open' ? x.failedOpen : x.failedClosed), 0);
      expect(failed).toBe(during.length);
    }
  });

  it('a custom timeout bounds the wait; a store restart without persistence forgets the window', () => {
    for (const persistent of [false, true]) {
      const c = cluster({
        instances: 2,
        design: { kind: 'central', options: { timeout: '5ms' } },
        limit: L,
        windowMs: W,
        store: { limiter: FIXED_100, persistent },
      });
      c.schedule(0, spread(120, 0, 400)); // 100 admitted by 400 ms
      c.schedule(1, spread(100, 500.1, 900.1)); // after the restart at 450 ms
      scheduleFaults(c.net, [
        { at: 420, for: 30, fault: { kind: 'crash', node: 'store', keepState: persistent } },
      ]);
      c.sim.run();
      expect(c.accuracy.window(0).admitted).toBe(persistent ? L : 2 * L);
    }
    const c = cluster({
      instances: 1,
      design: { kind: 'central', options: { timeout: '5ms' } },
      limit: L,
      windowMs: W,
      store: { limiter: FIXED_100 },
    });
    c.schedule(0, [10]);
    scheduleFaults(c.net, [{ at: 0, for: 100, fault: { kind: 'isolate', node: 'store' } }]);
    c.sim.run();
    expect(c.decided[0]!.decision).toEqual({ allowed: true, reason: 'fail-open', latencyMs: 5 });
  });
});

describe('SyncedLimiter: local decisions, counts synchronised every interval (Cloudflare)', () => {
  const synced = (syncInterval: number, limit = L, windowMs = W): Design => ({
    kind: 'synced',
    options: { limit, windowMs, syncInterval },
  });

  it('one instance alone admits exactly the limit per window (its own count is exact)', () => {
    const c = cluster({ instances: 1, design: synced(100), limit: L, windowMs: W });
    c.schedule(0, spread(450, 0, 3000));
    c.sim.run();
    for (let w = 0; w < 3; w++)
      expect(c.accuracy.window(w)).toMatchObject({ admitted: L, over: 0, under: 0 });
  });

  it('over-admission is bounded by rate × (2 × syncInterval + RTT), grows with the interval, never under-admits', () => {
    const limit = 4000;
    const windowMs = 10_000;
    const rate = 800; // per second over 4 instances: the limit is reached halfway through each window
    const over: number[] = [];
    for (const s of [10, 100, 500]) {
      const c = cluster({ instances: 4, design: synced(s, limit, windowMs), limit, windowMs });
      // 200/s per instance, instances offset so arrivals never coincide.
      for (let i = 0; i < 4; i++) c.schedule(i, spread(6000, 1.1 * i, 30_000 + 1.1 * i));
      c.sim.run();
      const bound = syncedOverAdmissionBound({
        instances: 4,
        arrivalsPerSecond: rate,
        syncIntervalMs: s,
        roundTripMs: 1.05,
      });
      for (let w = 0; w < 3; w++) {
        const f = c.accuracy.window(w);
        expect(f.under).toBe(0);
        expect(f.over).toBeLessThanOrEqual(Math.ceil(bound));
      }
      const total = c.accuracy.totals();
      over.push(total.over / 3);
      // The bound is the right order: the measured figure is a sizeable part of it.
      expect(total.over / 3).toBeGreaterThan(bound / 4);
      // The store sees one sync per instance per interval, not one call per request.
      const syncs = c.limiters.reduce((n, l) => n + (l as SyncedLimiter).stats.storeCalls, 0);
      // (until the window after the last one with a request: then they go quiet).
      expect(Math.abs(syncs - (4 * (30_000 + windowMs)) / s)).toBeLessThanOrEqual(4);
    }
    // Proportional to the interval: 10× the interval, about 10× the over-admission.
    expect(over[1]! / over[0]!).toBeGreaterThan(4);
    expect(over[2]! / over[1]!).toBeGreaterThan(3.5);
    // Negative control: the bound for a 10 ms interval does not hold at 100 ms, so the check can fail.
    expect(over[1]!).toBeGreaterThan(
      syncedOverAdmissionBound({
        instances: 4,
        arrivalsPerSecond: rate,
        syncIntervalMs: 10,
        roundTripMs: 1.05,
      }),
    );
  });

  it('the sliding window counter variant never lets more than the limit through in an aligned window when alone', () => {
    const c = cluster({
      instances: 1,
      design: {
        kind: 'synced',
        options: { limit: L, windowMs: W, syncInterval: 50, algorithm: 'sliding-window-counter' },
      },
      limit: L,
      windowMs: W,
    });
    c.schedule(0, spread(600, 0, 4000));
    c.sim.run();
    for (let w = 0; w < 4; w++) expect(c.accuracy.window(w).admitted).toBeLessThanOrEqual(L);
    // The first window has no previous one to weigh: exactly L; later ones are smoothed below it.
    expect(c.accuracy.window(0).admitted).toBe(L);
    expect(c.accuracy.window(2).admitted).toBeGreaterThan(L / 2);
  });

  it('store partitioned: each instance knows only its own count in a new window (fail open); counts resync after', () => {
    const c = cluster({ instances: 4, design: synced(100), limit: L, windowMs: W });
    for (let i = 0; i < 4; i++) c.schedule(i, spread(180, 1.1 * i, 3000 + 1.1 * i)); // 60 per instance per window
    scheduleFaults(c.net, [
      { at: 950, for: 1100, fault: { kind: 'partition', a: 'store', b: c.nodes.map((n) => n.address) } },
    ]);
    c.sim.run();
    // Window 1 lies inside the partition: every instance admits its 60 (under L alone): 240.
    expect(c.accuracy.window(1)).toMatchObject({
      offered: 240,
      admitted: localAdmitted([60, 60, 60, 60], L),
    });
    // Window 2: the partition heals at 2050 ms; from then the instances hear the totals again.
    expect(c.accuracy.window(2).admitted).toBeLessThan(240);
    expect(c.accuracy.window(2).under).toBe(0);
    const failures = c.limiters.reduce((n, l) => n + (l as SyncedLimiter).stats.syncFailures, 0);
    expect(failures).toBeGreaterThan(30);
    // Nothing admitted in window 2 is lost on the way to the store: its total is the truth.
    expect(c.store.syncedCount('client', 2)).toBe(c.accuracy.window(2).admitted);
  });

  it("an instance's view is the totals it last read plus its own unsent counts", () => {
    const c = cluster({ instances: 2, design: synced(100), limit: L, windowMs: W });
    c.schedule(0, [10, 11, 12]);
    c.schedule(1, [20, 21, 22]);
    const [a, b] = c.limiters as SyncedLimiter[];
    c.sim.run({ until: 60 }); // instance 0 synced at 50 (its 3), instance 1 not yet (first sync at 100)
    expect([a!.view('client'), b!.view('client')]).toEqual([3, 3]);
    c.sim.run({ until: 120 }); // instance 1 synced at 100 and read 3 + 3
    expect([a!.view('client'), b!.view('client')]).toEqual([3, 6]);
    c.sim.run({ until: 160 }); // instance 0 read the total again at 150
    expect([a!.view('client'), b!.view('client')]).toEqual([6, 6]);
    expect(a!.view('unknown')).toBe(0);
    c.sim.run({ until: 1100 }); // a new window: nothing known yet
    expect(a!.view('client')).toBe(0);
  });

  it('goes quiet when traffic stops: syncs stop two windows after the last request', () => {
    const c = cluster({ instances: 2, design: synced(100), limit: L, windowMs: W });
    c.schedule(0, [10, 20]);
    c.schedule(1, [30]);
    const summary = c.sim.run();
    expect(summary.reason).toBe('empty');
    expect(c.sim.now).toBeLessThan(3 * W + 100);
    expect(c.store.syncedCount('client', 0)).toBe(3);
  });
});

describe('every design decides every request exactly once, across seeds and faults', () => {
  const designs: Array<[string, Design]> = [
    ['local', { kind: 'local', options: { limiter: { kind: 'fixed-window', limit: 25, windowMs: W } } }],
    ['central-open', { kind: 'central' }],
    ['central-closed', { kind: 'central', options: { failureMode: 'closed' } }],
    ['synced', { kind: 'synced', options: { limit: L, windowMs: W, syncInterval: 50 } }],
  ];
  it.each([1, 2, 3, 4])('seed %i', (seed) => {
    for (const [name, design] of designs) {
      const c = cluster({
        seed,
        instances: 4,
        design,
        limit: L,
        windowMs: W,
        latency: exponential({ mean: 0.5 }),
        store: { limiter: FIXED_100 },
      });
      const rng = c.sim.rng('arrivals');
      const gaps = exponential({ mean: 5 });
      let t = 0;
      while ((t += gaps.sample(rng)) < 5000) {
        const instance = Math.floor(rng.next() * 4);
        c.sim.scheduleAt(t, () => c.arrive(instance, rng.next() < 0.8 ? 'a' : 'b'));
      }
      scheduleFaults(c.net, [
        { at: 1500, for: 700, fault: { kind: 'partition', a: 'store', b: ['instance-0', 'instance-1'] } },
        { at: 3000, for: 200, fault: { kind: 'crash', node: 'store' } },
      ]);
      c.sim.run();
      expect(c.doneCalls.length, name).toBe(c.offered);
      expect(
        c.doneCalls.every((n) => n === 1),
        name,
      ).toBe(true);
      const totals = c.accuracy.totals();
      expect(totals.offered, name).toBe(c.offered);
      const stats = c.limiters.map((l) => (l as LocalShareLimiter).stats);
      expect(
        stats.reduce((s, x) => s + x.admitted, 0),
        name,
      ).toBe(totals.admitted);
      expect(
        stats.reduce((s, x) => s + x.rejected, 0),
        name,
      ).toBe(totals.rejected);
      expect(
        stats.reduce((s, x) => s + x.pending, 0),
        name,
      ).toBe(0);
    }
  });

  it('same seed, same digest and decisions', () => {
    const run = () => {
      const c = cluster({
        seed: 7,
        instances: 3,
        design: { kind: 'synced', options: { limit: L, windowMs: W, syncInterval: 50 } },
        limit: L,
        windowMs: W,
        latency: exponential({ mean: 1 }),
      });
      const rng = c.sim.rng('arrivals');
      for (let k = 0; k < 500; k++) c.sim.scheduleAt(k * 4, () => c.arrive(Math.floor(rng.next() * 3)));
      c.sim.run();
      return { digest: c.sim.digest(), admitted: c.accuracy.totals().admitted };
    };
    expect(run()).toEqual(run());
  });
});

describe('strict options', () => {
  const c = () => cluster({ instances: 1, design: { kind: 'central' }, limit: L, windowMs: W });

  it('names the field, the value and what is allowed', () => {
    const { sim, limiters } = c();
    const ep = limiters[0] as CentralLimiter;
    expect(() => new CentralLimiter(ep.endpoint, { store: 'store', timout: 5 } as never)).toThrow(
      /did you mean "timeout"/,
    );
    expect(() => new CentralLimiter(ep.endpoint, { store: 'store', failureMode: 'opne' as never })).toThrow(
      /failureMode must be one of "open", "closed", got "opne" \(did you mean "open"\?\)/,
    );
    expect(() => new CentralLimiter(ep.endpoint, { store: '' })).toThrow(/store must be a non-empty string/);
    expect(() => new CentralLimiter(ep.endpoint, { store: 'store', timeout: 0 })).toThrow(
      /timeout must be a duration > 0/,
    );
    expect(() => new CentralLimiter({} as never, { store: 'store' })).toThrow(
      /endpoint must be an RpcEndpoint/,
    );
    expect(
      () => new SyncedLimiter(ep.endpoint, { store: 'store', limit: 0, windowMs: W, syncInterval: 10 }),
    ).toThrow(/SyncedLimiter: limit must be an integer >= 1/);
    expect(() => new SyncedLimiter(ep.endpoint, { store: 'store', limit: 1, windowMs: W } as never)).toThrow(
      /syncInterval/,
    );
    expect(
      () =>
        new SyncedLimiter(ep.endpoint, {
          store: 'store',
          limit: 1,
          windowMs: W,
          syncInterval: 10,
          algorithm: 'gcra' as never,
        }),
    ).toThrow(/algorithm must be one of "fixed-window", "sliding-window-counter"/);
    expect(
      () =>
        new LocalShareLimiter(sim, {
          limiter: { kind: 'leaky-bucket-queue', capacity: 5, leakPerSecond: 1 },
        }),
    ).toThrow(/LocalShareLimiter: limiter.kind must be an algorithm that admits or rejects/);
    expect(
      () => new LocalShareLimiter(sim, { limiter: { kind: 'fixed-window', limit: 0, windowMs: 5 } }),
    ).toThrow(/FixedWindow: limit must be an integer >= 1/);
    expect(() => new LocalShareLimiter(sim, { limitr: {} } as never)).toThrow(/did you mean "limiter"/);
    expect(() => new RateLimitStore(c().net.addNode('s2'), { concurrency: 0 })).toThrow(
      /RateLimitStore: concurrency must be an integer >= 1/,
    );
    expect(() => new WindowAccuracy({ limit: 10, windowMs: 0 })).toThrow(
      /WindowAccuracy: windowMs must be a finite number > 0/,
    );
    expect(() => ep.admit('', () => {})).toThrow(/CentralLimiter: key must be a non-empty string/);
  });

  it('a check reaching a store without a limiter stops the run with an error naming the store', () => {
    const k = cluster({ instances: 1, design: { kind: 'central' }, limit: L, windowMs: W });
    k.schedule(0, [1]);
    let error: unknown;
    try {
      k.sim.run();
    } catch (e) {
      error = e;
    }
    expect(isDsimError(error)).toBe(true);
    expect(String((error as Error).message) + String((error as { cause?: Error }).cause?.message)).toMatch(
      /RateLimitStore store: a check for key "client" reached a store with no limiter/,
    );
  });
});
