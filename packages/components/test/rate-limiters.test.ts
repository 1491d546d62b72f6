import { DsimError } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import {
  compareLimiters,
  createRateLimiter,
  type Decision,
  FixedWindow,
  Gcra,
  LeakyBucketMeter,
  LeakyBucketQueue,
  RATE_LIMITER_KINDS,
  type RateLimiter,
  type RateLimiterSpec,
  SlidingLog,
  SlidingWindowCounter,
  TokenBucket,
} from '../src/index.js';

// Numerical Recipes LCG: deterministic, no Math.random (the determinism guard makes that throw).
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// Bursty integer-ms arrivals: 35% arrive with the previous one, the rest after 0..299 ms.
function burstyArrivals(n: number, seed: number): number[] {
  const next = lcg(seed);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    if (next() >= 0.35) t += Math.floor(next() * 300);
    out.push(t);
  }
  return out;
}

function run(limiter: RateLimiter, arrivals: readonly number[]): Decision[] {
  return arrivals.map((t) => limiter.tryAcquire(t));
}

function allowedPattern(decisions: readonly Decision[]): string {
  return decisions.map((d) => (d.allowed ? 'A' : 'r')).join('');
}

function repeat(t: number, n: number): number[] {
  return Array.from({ length: n }, () => t);
}

/** The call throws INVALID_ARGUMENT naming `field` (and `component`, when the error is an option's). */
function expectInvalid(fn: () => unknown, field: string, component?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an error naming ${field}`).toBeInstanceOf(DsimError);
  const err = caught as DsimError;
  expect(err.code).toBe('INVALID_ARGUMENT');
  expect(err.message).toContain(field);
  expect(err.details.field).toBe(field);
  if (component !== undefined) {
    expect(err.details.component).toBe(component);
    expect(err.message.startsWith(`${component}: `), err.message).toBe(true);
  }
}

// Largest count of admitted times inside any closed interval, checked against bound(count, span).
function maxOverIntervals(times: readonly number[], ok: (count: number, spanMs: number) => boolean): void {
  for (let i = 0; i < times.length; i++) {
    for (let j = i; j < times.length; j++) {
      const count = j - i + 1;
      const span = (times[j] as number) - (times[i] as number);
      if (!ok(count, span)) throw new Error(`${count} admitted within ${span} ms starting at ${times[i]}`);
    }
  }
}

// Largest number of admitted times in any half-open window [s, s + w).
function maxInWindow(times: readonly number[], w: number): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    if (j < i) j = i;
    while (j < times.length && (times[j] as number) < (times[i] as number) + w) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

function maxPerAlignedWindow(times: readonly number[], w: number): number {
  const counts = new Map<number, number>();
  for (const t of times) counts.set(Math.floor(t / w), (counts.get(Math.floor(t / w)) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}

describe('TokenBucket', () => {
  it('capacity 5, refill 1/s: a burst of 8 at t=0 admits 5, then one per second', () => {
    const tb = new TokenBucket({ capacity: 5, refillPerSecond: 1 });
    const burst = run(tb, repeat(0, 8));
    expect(allowedPattern(burst)).toBe('AAAAArrr');
    expect(burst[5]).toEqual({ allowed: false, delayMs: 0, retryAfterMs: 1000 });
    const later = run(tb, [500, 1000, 1500, 2000, 2000, 3000]);
    expect(allowedPattern(later)).toBe('rArArA');
    expect(later[0]?.retryAfterMs).toBe(500);
    expect(later[4]?.retryAfterMs).toBe(1000);
  });

  it('initial fill, multi-permit requests, and the capacity cap after a long idle', () => {
    const tb = new TokenBucket({ capacity: 5, refillPerSecond: 2, initial: 0 });
    expect(tb.tryAcquire(0)).toEqual({ allowed: false, delayMs: 0, retryAfterMs: 500 });
    expect(tb.tryAcquire(500).allowed).toBe(true);
    expect(tb.tryAcquire(2000, 3)).toEqual({ allowed: true, delayMs: 0 });
    expect(tb.tryAcquire(2000, 3)).toEqual({ allowed: false, delayMs: 0, retryAfterMs: 1500 });
    // More than the bucket can ever hold: rejected with no retry time.
    expect(tb.tryAcquire(2000, 6)).toEqual({ allowed: false, delayMs: 0 });
    // 100 s idle refills to capacity, not beyond.
    expect(allowedPattern(run(tb, repeat(102_000, 7)))).toBe('AAAAArr');
    expect(tb.available).toBe(0);
  });

  it('window-edge burst: b=10, r=10/s, 10 at 0.95 s and 10 at 1.05 s admits 11', () => {
    const tb = new TokenBucket({ capacity: 10, refillPerSecond: 10 });
    expect(run(tb, [...repeat(950, 10), ...repeat(1050, 10)]).filter((d) => d.allowed)).toHaveLength(11);
  });
});

describe('LeakyBucketMeter', () => {
  it('capacity 2, leak 1/s: admits while level + 1 <= 2, the level draining continuously', () => {
    const m = new LeakyBucketMeter({ capacity: 2, leakPerSecond: 1 });
    expect(allowedPattern(run(m, [0, 0, 0]))).toBe('AAr');
    expect(m.level).toBe(2);
    expect(m.tryAcquire(500)).toEqual({ allowed: false, delayMs: 0, retryAfterMs: 500 });
    expect(m.tryAcquire(1000)).toEqual({ allowed: true, delayMs: 0 });
    expect(m.tryAcquire(1000, 3)).toEqual({ allowed: false, delayMs: 0 });
    expect(m.tryAcquire(5000, 2).allowed).toBe(true);
  });

  it('window-edge burst: capacity 10, leak 10/s admits 11, like the token bucket', () => {
    const m = new LeakyBucketMeter({ capacity: 10, leakPerSecond: 10 });
    expect(run(m, [...repeat(950, 10), ...repeat(1050, 10)]).filter((d) => d.allowed)).toHaveLength(11);
  });
});

describe('LeakyBucketQueue', () => {
  it('nginx rate=1r/s burst=5: 6 at once give delays 0, 1, 2, 3, 4 s and the 6th is rejected', () => {
    const q = new LeakyBucketQueue({ capacity: 5, leakPerSecond: 1 });
    const ds = run(q, repeat(0, 6));
    expect(ds.slice(0, 5).map((d) => d.delayMs)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(ds[5]).toEqual({ allowed: false, delayMs: 0, retryAfterMs: 1000 });
    // One slot frees per second; the newcomer leaves right after the last one (release 5 s).
    expect(q.tryAcquire(1000)).toEqual({ allowed: true, delayMs: 4000 });
    expect(q.tryAcquire(1000).allowed).toBe(false);
    expect(q.tryAcquire(10_000)).toEqual({ allowed: true, delayMs: 0 });
  });

  it('a request arriving mid-leak is released one emission interval after the one ahead of it', () => {
    const q = new LeakyBucketQueue({ capacity: 3, leakPerSecond: 2 }); // T = 500 ms
    expect(q.tryAcquire(0).delayMs).toBe(0); // released at 0
    expect(q.tryAcquire(250).delayMs).toBe(250); // released at 500
    expect(q.tryAcquire(250).delayMs).toBe(750); // released at 1000
    expect(q.tryAcquire(250)).toEqual({ allowed: false, delayMs: 0, retryAfterMs: 250 });
    expect(q.tryAcquire(500)).toEqual({ allowed: true, delayMs: 1000 }); // released at 1500
  });
});

describe('FixedWindow', () => {
  it('resilience4j semantics (10 per 1 s, timeout 0): 25 at 0.9 s pass 10, then 10 at 1.0 s all pass', () => {
    const fw = new FixedWindow({ limit: 10, windowMs: 1000 });
    const first = run(fw, repeat(900, 25));
    expect(first.filter((d) => d.allowed)).toHaveLength(10);
    expect(first[10]).toEqual({ allowed: false, delayMs: 0, retryAfterMs: 100 });
    expect(run(fw, repeat(1000, 10)).every((d) => d.allowed)).toBe(true);
    expect(fw.count).toBe(10);
  });

  it('boundary burst: 2 × limit pass within 100 ms straddling a window edge (all 20)', () => {
    const fw = new FixedWindow({ limit: 10, windowMs: 1000 });
    const ds = run(fw, [...repeat(950, 10), ...repeat(1050, 10)]);
    expect(ds.every((d) => d.allowed)).toBe(true);
    expect(fw.tryAcquire(1999)).toEqual({ allowed: false, delayMs: 0, retryAfterMs: 1 });
    expect(fw.tryAcquire(1999, 11)).toEqual({ allowed: false, delayMs: 0 });
  });
});

describe('SlidingLog', () => {
  it('limit 3 per 1 s: an entry expires exactly windowMs after it was admitted', () => {
    const log = new SlidingLog({ limit: 3, windowMs: 1000 });
    const ds = run(log, [0, 100, 200, 300, 999, 1000, 1000, 1100]);
    expect(allowedPattern(ds)).toBe('AAArrArA');
    expect(ds.map((d) => d.retryAfterMs)).toEqual([
      undefined,
      undefined,
      undefined,
      700,
      1,
      undefined,
      100,
      undefined,
    ]);
    // At 1.1 s the log holds 200, 1000, 1100: two permits wait for the entry at 1000 to expire.
    expect(log.tryAcquire(1100, 2)).toEqual({ allowed: false, delayMs: 0, retryAfterMs: 900 });
  });

  it('window-edge burst: 10 at 0.95 s and 10 at 1.05 s admits only 10', () => {
    const log = new SlidingLog({ limit: 10, windowMs: 1000 });
    const ds = run(log, [...repeat(950, 10), ...repeat(1050, 10)]);
    expect(ds.filter((d) => d.allowed)).toHaveLength(10);
    expect(ds[10]?.retryAfterMs).toBe(900);
    expect(run(log, repeat(1950, 11)).filter((d) => d.allowed)).toHaveLength(10);
  });
});

describe('SlidingWindowCounter', () => {
  it("Cloudflare's example: 42 in the previous minute, 18 so far at 15 s gives 42 × 0.75 + 18 = 49.5", () => {
    const swc = new SlidingWindowCounter({ limit: 100, windowMs: 60_000 });
    run(swc, repeat(30_000, 42));
    expect(swc.estimate(60_000)).toBe(42);
    run(swc, repeat(70_000, 18));
    expect(swc.estimate(75_000)).toBe(49.5);
    expect(swc.estimate(119_999)).toBeCloseTo(18 + 42 / 60_000, 9);
    // A window that is not the immediately previous one counts 0.
    expect(swc.estimate(180_000)).toBe(0);
  });

  it('window-edge burst: 10 at 0.95 s give an estimate of 9.5 at 1.05 s; none pass until it decays', () => {
    const swc = new SlidingWindowCounter({ limit: 10, windowMs: 1000 });
    run(swc, repeat(950, 10));
    expect(swc.estimate(1050)).toBe(9.5);
    const ds = run(swc, repeat(1050, 10));
    expect(ds.every((d) => !d.allowed)).toBe(true);
    expect(ds[0]?.retryAfterMs).toBeCloseTo(50, 9); // at 1.1 s: 10 × 0.9 + 0 + 1 = 10
    expect(swc.tryAcquire(1100).allowed).toBe(true);
    expect(swc.tryAcquire(1150).retryAfterMs).toBeCloseTo(50, 9); // 8.5 + 1 + 1 > 10 until 1.2 s
    expect(swc.tryAcquire(1200).allowed).toBe(true);
  });

  it('a full current window waits for the rollover and then for its own weight to decay', () => {
    const swc = new SlidingWindowCounter({ limit: 2, windowMs: 1000 });
    expect(allowedPattern(run(swc, [0, 0, 0]))).toBe('AAr');
    expect(swc.tryAcquire(0).retryAfterMs).toBe(1500); // at 1.5 s: 2 × 0.5 + 0 + 1 = 2
    expect(swc.tryAcquire(1499).allowed).toBe(false);
    expect(swc.tryAcquire(1500).allowed).toBe(true);
    expect(swc.tryAcquire(1500, 3)).toEqual({ allowed: false, delayMs: 0 });
  });
});

describe('Gcra', () => {
  it('rate 1/s, burst 2 (T = 1 s, τ = 2 s): admits burst + 1 at once, then spaces at T', () => {
    const g = new Gcra({ ratePerSecond: 1, burst: 2 });
    expect(g.emissionIntervalMs).toBe(1000);
    expect(g.toleranceMs).toBe(2000);
    const ds = run(g, repeat(0, 5));
    expect(allowedPattern(ds)).toBe('AAArr');
    expect(ds[3]?.retryAfterMs).toBe(1000);
    expect(g.theoreticalArrivalTime).toBe(3000);
    const later = run(g, [1000, 1500, 2000, 3000, 4000, 4000]);
    expect(allowedPattern(later)).toBe('ArAAAr');
    expect(later[1]?.retryAfterMs).toBe(500);
  });

  it('redis-cell CL.THROTTLE key 15 30 60: limit 16, then T = 2 s', () => {
    const g = new Gcra({ ratePerSecond: 30 / 60, burst: 15 });
    const ds = run(g, repeat(0, 17));
    expect(ds.filter((d) => d.allowed)).toHaveLength(16);
    expect(ds[16]?.retryAfterMs).toBe(2000);
  });

  it('multi-permit: n permits cost n·T; more than burst + 1 can never pass', () => {
    const g = new Gcra({ ratePerSecond: 1, burst: 2 });
    expect(g.tryAcquire(0, 3).allowed).toBe(true);
    expect(g.tryAcquire(0, 4)).toEqual({ allowed: false, delayMs: 0 });
    expect(g.tryAcquire(0, 2)).toEqual({ allowed: false, delayMs: 0, retryAfterMs: 2000 });
  });

  it('window-edge burst: T = 0.1 s, burst 9 admits 11, like the token bucket', () => {
    const g = new Gcra({ ratePerSecond: 10, burst: 9 });
    expect(run(g, [...repeat(950, 10), ...repeat(1050, 10)]).filter((d) => d.allowed)).toHaveLength(11);
  });
});

describe('invariants over a long bursty arrival list', () => {
  const arrivals = burstyArrivals(4000, 20240611);

  it('the arrival list is bursty enough to exercise every limiter', () => {
    expect(arrivals.length).toBe(4000);
    const last = arrivals[arrivals.length - 1] as number;
    expect(4000 / (last / 1000)).toBeGreaterThan(5); // mean rate > 5/s against 2-3/s limits
    expect(maxInWindow(arrivals, 1)).toBeGreaterThan(4);
  });

  for (const [capacity, rate] of [
    [5, 2],
    [8, 3],
  ] as const) {
    it(`token bucket (b=${capacity}, r=${rate}/s) and GCRA admit <= b + r·t over every interval`, () => {
      for (const limiter of [
        new TokenBucket({ capacity, refillPerSecond: rate }),
        new Gcra({ ratePerSecond: rate, burst: capacity - 1 }),
        new LeakyBucketMeter({ capacity, leakPerSecond: rate }),
      ]) {
        const admitted = arrivals.filter((t) => limiter.tryAcquire(t).allowed);
        expect(admitted.length).toBeGreaterThan(100);
        expect(admitted.length).toBeLessThan(arrivals.length);
        maxOverIntervals(admitted, (count, span) => count <= capacity + (rate * span) / 1000 + 1e-6);
      }
    });

    it(`token bucket ≡ leaky-bucket meter ≡ GCRA ≡ leaky-bucket queue admissions (b=${capacity}, r=${rate}/s)`, () => {
      const patterns = [
        new TokenBucket({ capacity, refillPerSecond: rate }),
        new LeakyBucketMeter({ capacity, leakPerSecond: rate }),
        new Gcra({ ratePerSecond: rate, burst: capacity - 1 }),
        new LeakyBucketQueue({ capacity, leakPerSecond: rate }),
      ].map((l) => allowedPattern(run(l, arrivals)));
      expect(new Set(patterns).size).toBe(1);
    });
  }

  it('leaky-bucket queue releases FIFO at most one per T and never delays beyond (capacity − 1)·T', () => {
    const q = new LeakyBucketQueue({ capacity: 6, leakPerSecond: 4 }); // T = 250 ms
    const ds = run(q, arrivals);
    const releases = arrivals.flatMap((t, i) => (ds[i]?.allowed ? [t + (ds[i]?.delayMs ?? 0)] : []));
    for (let i = 1; i < releases.length; i++) {
      expect((releases[i] as number) - (releases[i - 1] as number)).toBeGreaterThanOrEqual(250 - 1e-6);
    }
    expect(Math.max(...ds.map((d) => d.delayMs))).toBeLessThanOrEqual(5 * 250 + 1e-6);
    expect(ds.some((d) => d.delayMs > 0)).toBe(true);
    expect(ds.some((d) => !d.allowed)).toBe(true);
  });

  it('sliding log never admits more than limit in any window; fixed window and counter stay within their bounds', () => {
    const limit = 7;
    const w = 2000;
    const at = (l: RateLimiter) => arrivals.filter((t) => l.tryAcquire(t).allowed);
    const log = at(new SlidingLog({ limit, windowMs: w }));
    expect(maxInWindow(log, w)).toBe(limit);
    const fixed = at(new FixedWindow({ limit, windowMs: w }));
    expect(maxPerAlignedWindow(fixed, w)).toBe(limit);
    expect(maxInWindow(fixed, w)).toBeGreaterThan(limit); // the boundary burst does happen
    expect(maxInWindow(fixed, w)).toBeLessThanOrEqual(2 * limit);
    const swc = at(new SlidingWindowCounter({ limit, windowMs: w }));
    expect(maxPerAlignedWindow(swc, w)).toBeLessThanOrEqual(limit);
    expect(maxInWindow(swc, w)).toBeLessThanOrEqual(2 * limit);
  });

  it('retryAfterMs is exact: the same request passes at now + retryAfterMs and not 1 µs earlier', () => {
    const make: Array<() => RateLimiter> = [
      () => new TokenBucket({ capacity: 4, refillPerSecond: 3 }),
      () => new LeakyBucketMeter({ capacity: 4, leakPerSecond: 3 }),
      () => new LeakyBucketQueue({ capacity: 4, leakPerSecond: 3 }),
      () => new FixedWindow({ limit: 4, windowMs: 1500 }),
      () => new SlidingLog({ limit: 4, windowMs: 1500 }),
      () => new SlidingWindowCounter({ limit: 4, windowMs: 1500 }),
      () => new Gcra({ ratePerSecond: 3, burst: 3 }),
    ];
    const short = arrivals.slice(0, 200);
    for (const factory of make) {
      const ds = run(factory(), short);
      let checked = 0;
      ds.forEach((d, k) => {
        if (d.allowed || checked >= 40) return;
        checked++;
        const retry = d.retryAfterMs as number;
        expect(retry).toBeGreaterThan(0);
        const probe = (t: number) => {
          const l = factory();
          for (const a of short.slice(0, k)) l.tryAcquire(a);
          return l.tryAcquire(t).allowed;
        };
        const now = short[k] as number;
        expect(probe(now + retry), `${factory().kind} at index ${k}`).toBe(true);
        if (retry > 1e-3) expect(probe(now + retry - 1e-3), `${factory().kind} at index ${k}`).toBe(false);
      });
      expect(checked).toBe(40);
    }
  });
});

describe('compareLimiters', () => {
  it('window-edge burst: 10 at 0.95 s then 10 at 1.05 s, limit 10/s, through every algorithm', () => {
    const trace = [...repeat(950, 10), ...repeat(1050, 10)];
    const out = compareLimiters(trace, {
      fixed: new FixedWindow({ limit: 10, windowMs: 1000 }),
      log: new SlidingLog({ limit: 10, windowMs: 1000 }),
      counter: new SlidingWindowCounter({ limit: 10, windowMs: 1000 }),
      bucket: new TokenBucket({ capacity: 10, refillPerSecond: 10 }),
      meter: new LeakyBucketMeter({ capacity: 10, leakPerSecond: 10 }),
      gcra: new Gcra({ ratePerSecond: 10, burst: 9 }),
      queue10: new LeakyBucketQueue({ capacity: 10, leakPerSecond: 10 }),
      queue20: new LeakyBucketQueue({ capacity: 20, leakPerSecond: 10 }),
    });
    const admitted = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.admitted]));
    expect(admitted).toEqual({
      fixed: 20,
      log: 10,
      counter: 10,
      bucket: 11,
      meter: 11,
      gcra: 11,
      queue10: 11,
      queue20: 20,
    });
    expect(out.fixed).toMatchObject({ rejected: 0, delayed: 0, maxDelayMs: 0 });
    expect(out.fixed?.admittedTimes).toEqual(trace);
    expect(out.gcra?.admittedTimes).toEqual([...repeat(950, 10), 1050]);
    // The queue spaces releases 100 ms apart: 0.95 s, 1.05 s, ..., 2.85 s.
    expect(out.queue20?.rejected).toBe(0);
    expect(out.queue20?.delayed).toBe(19);
    expect(out.queue20?.maxDelayMs).toBeCloseTo(1800, 6);
    out.queue20?.admittedTimes.forEach((t, i) => {
      expect(t).toBeCloseTo(950 + 100 * i, 6);
    });
    expect(out.queue10).toMatchObject({ admitted: 11, rejected: 9, delayed: 10 });
    expect(out.queue10?.maxDelayMs).toBeCloseTo(900, 6);
  });

  it('validates the arrival list and the limiters', () => {
    const one = () => ({ l: new Gcra({ ratePerSecond: 1, burst: 0 }) });
    expectInvalid(() => compareLimiters([0, 5, 3], one()), 'arrivals[2]');
    expectInvalid(() => compareLimiters([Number.NaN], one()), 'arrivals[0]');
    expectInvalid(() => compareLimiters('0,1' as unknown as number[], one()), 'arrivals');
    expectInvalid(() => compareLimiters([0], { l: {} as RateLimiter }), 'limiters.l');
  });
});

describe('createRateLimiter', () => {
  it('builds every kind, and each limiter reports its kind', () => {
    const specs: RateLimiterSpec[] = [
      { kind: 'token-bucket', capacity: 1, refillPerSecond: 1 },
      { kind: 'leaky-bucket-meter', capacity: 1, leakPerSecond: 1 },
      { kind: 'leaky-bucket-queue', capacity: 1, leakPerSecond: 1 },
      { kind: 'fixed-window', limit: 1, windowMs: 1000 },
      { kind: 'sliding-log', limit: 1, windowMs: 1000 },
      { kind: 'sliding-window-counter', limit: 1, windowMs: 1000 },
      { kind: 'gcra', ratePerSecond: 1, burst: 0 },
    ];
    expect(specs.map((s) => createRateLimiter(s).kind)).toEqual([...RATE_LIMITER_KINDS]);
    for (const s of specs) {
      const l = createRateLimiter(s);
      expect(allowedPattern(run(l, [0, 0]))).toBe('Ar');
    }
    const tb = createRateLimiter({ kind: 'token-bucket', capacity: 3, refillPerSecond: 1, initial: 1 });
    expect(allowedPattern(run(tb, [0, 0]))).toBe('Ar');
  });

  it('rejects an unknown kind, a non-object spec and unknown fields', () => {
    expectInvalid(
      () => createRateLimiter({ kind: 'leaky' } as unknown as RateLimiterSpec),
      'kind',
      'createRateLimiter',
    );
    expectInvalid(() => createRateLimiter(null as unknown as RateLimiterSpec), 'spec', 'createRateLimiter');
    expectInvalid(
      () =>
        createRateLimiter({
          kind: 'token-bucket',
          capacity: 5,
          refillPerSecond: 1,
          inital: 2,
        } as unknown as RateLimiterSpec),
      'inital',
      'TokenBucket',
    );
  });
});

describe('bad inputs throw INVALID_ARGUMENT naming the field', () => {
  const badCount = [undefined, Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 1.5, '5'];
  const badRate = [undefined, Number.NaN, Number.POSITIVE_INFINITY, -1, 0, '5'];
  const cases: Array<{
    kind: RateLimiterSpec['kind'];
    component: string;
    valid: Record<string, unknown>;
    bad: Record<string, unknown[]>;
  }> = [
    {
      kind: 'token-bucket',
      component: 'TokenBucket',
      valid: { capacity: 5, refillPerSecond: 1 },
      bad: { capacity: badCount, refillPerSecond: badRate, initial: [-1, 5.5, Number.NaN, '1', null] },
    },
    {
      kind: 'leaky-bucket-meter',
      component: 'LeakyBucketMeter',
      valid: { capacity: 5, leakPerSecond: 1 },
      bad: { capacity: badCount, leakPerSecond: badRate },
    },
    {
      kind: 'leaky-bucket-queue',
      component: 'LeakyBucketQueue',
      valid: { capacity: 5, leakPerSecond: 1 },
      bad: { capacity: badCount, leakPerSecond: badRate },
    },
    {
      kind: 'fixed-window',
      component: 'FixedWindow',
      valid: { limit: 5, windowMs: 1000 },
      bad: { limit: badCount, windowMs: badRate },
    },
    {
      kind: 'sliding-log',
      component: 'SlidingLog',
      valid: { limit: 5, windowMs: 1000 },
      bad: { limit: badCount, windowMs: badRate },
    },
    {
      kind: 'sliding-window-counter',
      component: 'SlidingWindowCounter',
      valid: { limit: 5, windowMs: 1000 },
      bad: { limit: badCount, windowMs: badRate },
    },
    {
      kind: 'gcra',
      component: 'Gcra',
      valid: { ratePerSecond: 1, burst: 2 },
      bad: { ratePerSecond: badRate, burst: [undefined, Number.NaN, -1, 1.5, '2'] },
    },
  ];

  for (const { kind, component, valid, bad } of cases) {
    it(`${kind}: every field, through the factory and the constructor`, () => {
      for (const [field, values] of Object.entries(bad)) {
        for (const value of values) {
          const spec = { kind, ...valid, [field]: value } as RateLimiterSpec;
          if (value === undefined && field === 'initial') continue; // optional: undefined means the default
          expectInvalid(() => createRateLimiter(spec), field, component);
        }
      }
      expectInvalid(
        () => createRateLimiter({ kind, ...valid, extra: 1 } as unknown as RateLimiterSpec),
        'extra',
        component,
      );
    });

    it(`${kind}: now and permits are checked on every call, and time may not go backwards`, () => {
      const l = createRateLimiter({ kind, ...valid } as RateLimiterSpec);
      l.tryAcquire(100);
      expectInvalid(() => l.tryAcquire(99), 'now');
      expectInvalid(() => l.tryAcquire(Number.NaN), 'now');
      expectInvalid(() => l.tryAcquire(Number.POSITIVE_INFINITY), 'now');
      for (const permits of [0, -1, 1.5, Number.NaN])
        expectInvalid(() => l.tryAcquire(100, permits), 'permits');
      // A failed call changes nothing: the same time is still accepted.
      expect(() => l.tryAcquire(100)).not.toThrow();
    });
  }

  it('the backwards-time message says what was expected', () => {
    const tb = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
    tb.tryAcquire(500);
    expect(() => tb.tryAcquire(400)).toThrow(/now must be >= the previous call's now \(500\).*got 400/);
    const swc = new SlidingWindowCounter({ limit: 1, windowMs: 10 });
    swc.tryAcquire(500);
    expectInvalid(() => swc.estimate(499), 'now');
  });

  it('constructors reject a non-object options argument', () => {
    expectInvalid(
      () => new TokenBucket(undefined as unknown as { capacity: 1; refillPerSecond: 1 }),
      'options',
      'TokenBucket',
    );
    expectInvalid(() => new Gcra([] as unknown as { ratePerSecond: 1; burst: 0 }), 'options', 'Gcra');
  });
});
