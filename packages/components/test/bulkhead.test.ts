import { constant, type Distribution, DsimError, exponential, type SimEvent, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { SemaphoreBulkhead, ThreadPoolBulkhead } from '../src/resilience/bulkhead.js';

/** Erlang B by the stable recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)). */
function erlangB(c: number, a: number): number {
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b;
}

/**
 * Mean and standard error by batch means: consecutive rejections are correlated in a loss system, so the
 * binomial standard error would be too optimistic.
 */
function batchMeans(outcomes: Uint8Array, warmup: number, batches: number): { mean: number; se: number } {
  const size = Math.floor((outcomes.length - warmup) / batches);
  const means: number[] = [];
  for (let b = 0; b < batches; b++) {
    let sum = 0;
    for (let i = warmup + b * size; i < warmup + (b + 1) * size; i++) sum += outcomes[i]!;
    means.push(sum / size);
  }
  const mean = means.reduce((s, x) => s + x, 0) / batches;
  const variance = means.reduce((s, x) => s + (x - mean) ** 2, 0) / (batches - 1);
  return { mean, se: Math.sqrt(variance / batches) };
}

/** Poisson arrivals into a bulkhead; returns 1 per rejected arrival, 0 per admitted one. */
function lossRun(
  admit: (sim: Simulation) => { take: () => SimEvent<boolean>; done: () => void },
  meanGapMs: number,
  hold: Distribution,
  arrivals: number,
  seed: number,
): Uint8Array {
  const sim = new Simulation({ seed });
  const { take, done } = admit(sim);
  const arrivalRng = sim.rng('arrivals');
  const serviceRng = sim.rng('service');
  const gap = exponential({ mean: meanGapMs });
  const outcomes = new Uint8Array(arrivals);
  let i = 0;
  const arrive = (): void => {
    const k = i;
    const ev = take();
    if (ev.triggered && ev.value === false) outcomes[k] = 1;
    else ev.onProcessed(() => sim.schedule(hold.sample(serviceRng), done));
    if (++i < arrivals) sim.schedule(gap.sample(arrivalRng), arrive);
  };
  sim.schedule(gap.sample(arrivalRng), arrive);
  sim.run();
  return outcomes;
}

function semaphore(c: number) {
  return (sim: Simulation) => {
    const b = new SemaphoreBulkhead(sim, { maxConcurrentCalls: c });
    return { take: () => b.acquire(), done: () => b.release() };
  };
}

describe('SemaphoreBulkhead as a loss system (Erlang B)', () => {
  it('erlangB helper matches standard Erlang B table values', () => {
    expect(erlangB(5, 3)).toBeCloseTo(0.1101, 4);
    expect(erlangB(25, 20)).toBeCloseTo(0.0502, 4);
    expect(erlangB(10, 8)).toBeCloseTo(0.1217, 4);
    expect(erlangB(1, 0.5)).toBeCloseTo(1 / 3, 4);
  });

  it('c = 5, a = 3 with exponential holds: rejection probability is Erlang B = 0.1101', () => {
    // 200k arrivals, 40 batches: the batch-means SE is about 0.001; we allow 5 SE.
    const outcomes = lossRun(semaphore(5), 100, exponential({ mean: 300 }), 200_000, 7);
    const { mean, se } = batchMeans(outcomes, 2000, 40);
    expect(se).toBeLessThan(0.003);
    expect(Math.abs(mean - erlangB(5, 3))).toBeLessThan(5 * se);
  });

  it('c = 10, a = 8 with constant holds gives the same Erlang B (insensitivity), 0.1217', () => {
    const outcomes = lossRun(semaphore(10), 50, constant(400), 200_000, 11);
    const { mean, se } = batchMeans(outcomes, 2000, 40);
    expect(se).toBeLessThan(0.003);
    expect(Math.abs(mean - erlangB(10, 8))).toBeLessThan(5 * se);
  });
});

describe('SemaphoreBulkhead: waiting and rejection', () => {
  it('maxWait 0 rejects at once, synchronously readable', () => {
    const sim = new Simulation();
    const b = new SemaphoreBulkhead(sim, { maxConcurrentCalls: 1 });
    expect(b.acquire().value).toBe(true);
    const second = b.acquire();
    expect(second.triggered).toBe(true);
    expect(second.value).toBe(false);
    expect(b.metrics).toEqual({ concurrent: 1, available: 0, waiting: 0, granted: 1, rejected: 1 });
  });

  it('grants a waiting call when a permit frees up in time, rejects it when the wait runs out', () => {
    const sim = new Simulation();
    const b = new SemaphoreBulkhead(sim, { maxConcurrentCalls: 1, maxWaitDurationMs: 100 });
    const log: string[] = [];
    const user = (name: string, at: number, hold: number) =>
      sim.process(function* () {
        yield sim.timeout(at);
        const ok = yield* b.acquire();
        log.push(`${name} ${ok ? 'granted' : 'rejected'} @${sim.now}`);
        if (!ok) return;
        yield sim.timeout(hold);
        b.release();
      });
    user('A', 0, 50); // holds 0..50
    user('B', 10, 500); // waits 40 ms, holds 50..550
    user('C', 20, 10); // waits from 20; its deadline at 120 comes first
    user('D', 500, 10); // waits from 500; the permit frees at 550, in time
    sim.run();
    expect(log).toEqual(['A granted @0', 'B granted @50', 'C rejected @120', 'D granted @550']);
    expect(b.metrics).toMatchObject({ granted: 3, rejected: 1, concurrent: 0, waiting: 0 });
  });

  it('serves waiters first come, first served; a new call does not overtake them', () => {
    const sim = new Simulation();
    const b = new SemaphoreBulkhead(sim, { maxConcurrentCalls: 1, maxWaitDurationMs: 1000 });
    b.acquire();
    const w1 = b.acquire();
    const w2 = b.acquire();
    b.release();
    expect([w1.triggered, w2.triggered]).toEqual([true, false]);
    expect(b.tryAcquire()).toBe(false);
    b.release();
    expect(w2.value).toBe(true);
  });

  it('cancel withdraws a waiter; release without a permit is an INVALID_STATE error', () => {
    const sim = new Simulation();
    const b = new SemaphoreBulkhead(sim, { maxConcurrentCalls: 1, maxWaitDurationMs: 1000 });
    b.acquire();
    const w = b.acquire();
    expect(b.cancel(w)).toBe(true);
    expect(b.metrics.waiting).toBe(0);
    b.release();
    expect(b.available).toBe(1);
    expect(() => b.release()).toThrow(DsimError);
    sim.run();
    expect(w.triggered).toBe(false); // its deadline timer was cancelled too
  });

  it('rejects bad configuration naming the field', () => {
    const sim = new Simulation();
    expect(() => new SemaphoreBulkhead(sim, { maxConcurrentCalls: 0 })).toThrow(
      /maxConcurrentCalls must be an integer >= 1, got 0/,
    );
    expect(() => new SemaphoreBulkhead(sim, { maxWaitDurationMs: -5 })).toThrow(/maxWaitDurationMs/);
    expect(() => new SemaphoreBulkhead(sim, { name: '' })).toThrow(/name/);
  });

  it('defaults follow resilience4j: 25 permits, no waiting', () => {
    const b = new SemaphoreBulkhead(new Simulation());
    expect([b.maxConcurrentCalls, b.maxWaitDurationMs, b.available]).toEqual([25, 0, 25]);
  });
});

describe('ThreadPoolBulkhead', () => {
  it('runs on free threads, queues up to capacity, then rejects', () => {
    const sim = new Simulation();
    const pool = new ThreadPoolBulkhead(sim, {
      maxThreadPoolSize: 2,
      coreThreadPoolSize: 2,
      queueCapacity: 2,
    });
    const tasks = [1, 2, 3, 4, 5].map(() => pool.submit());
    expect(tasks.map((t) => (t.triggered ? t.value : 'queued'))).toEqual([
      true,
      true,
      'queued',
      'queued',
      false,
    ]);
    expect(pool.metrics).toMatchObject({ threads: 2, activeThreads: 2, queueDepth: 2, rejected: 1 });
    pool.complete();
    expect(tasks[2]!.value).toBe(true);
    expect(pool.metrics).toMatchObject({ activeThreads: 2, queueDepth: 1, remainingQueueCapacity: 1 });
  });

  it('like ThreadPoolExecutor, starts threads beyond the core only when the queue is full', () => {
    const sim = new Simulation();
    const pool = new ThreadPoolBulkhead(sim, { maxThreadPoolSize: 2, queueCapacity: 1 }); // core defaults to 1
    expect(pool.coreThreadPoolSize).toBe(1);
    const first = pool.submit();
    const second = pool.submit();
    expect([first.value, second.triggered, pool.metrics.threads]).toEqual([true, false, 1]);
    const third = pool.submit(); // queue full: a second thread starts for it
    expect([third.value, pool.metrics.threads]).toEqual([true, 2]);
    expect(pool.submit().value).toBe(false);
  });

  it('an idle thread above the core ends after keepAlive; core threads stay', () => {
    const sim = new Simulation();
    const pool = new ThreadPoolBulkhead(sim, {
      maxThreadPoolSize: 2,
      queueCapacity: 0,
      keepAliveDurationMs: 20,
    });
    pool.submit();
    pool.submit(); // no queue (direct hand-off): second thread
    expect(pool.metrics.threads).toBe(2);
    pool.complete();
    pool.complete();
    sim.run({ until: 19 });
    expect(pool.metrics.threads).toBe(2);
    sim.run({ until: 100 });
    expect(pool.metrics.threads).toBe(1);
    // The idle core thread takes the next task at once.
    expect(pool.submit().value).toBe(true);
    expect(pool.metrics.threads).toBe(1);
  });

  it('with core = max = 2 and queue 2 at a = 2 the blocking probability is M/M/2/4: 0.2222', () => {
    const outcomes = lossRun(
      (sim) => {
        const pool = new ThreadPoolBulkhead(sim, {
          maxThreadPoolSize: 2,
          coreThreadPoolSize: 2,
          queueCapacity: 2,
        });
        return { take: () => pool.submit(), done: () => pool.complete() };
      },
      100,
      exponential({ mean: 200 }),
      200_000,
      3,
    );
    const { mean, se } = batchMeans(outcomes, 2000, 40);
    expect(se).toBeLessThan(0.003);
    expect(Math.abs(mean - 2 / 9)).toBeLessThan(5 * se);
  });

  it('defaults: 4 threads, 3 core, queue 100, keep-alive 20 ms; bad fields are named', () => {
    const sim = new Simulation();
    const pool = new ThreadPoolBulkhead(sim);
    expect([
      pool.maxThreadPoolSize,
      pool.coreThreadPoolSize,
      pool.queueCapacity,
      pool.keepAliveDurationMs,
    ]).toEqual([4, 3, 100, 20]);
    expect(() => new ThreadPoolBulkhead(sim, { maxThreadPoolSize: 2, coreThreadPoolSize: 3 })).toThrow(
      /ThreadPoolBulkhead: coreThreadPoolSize must be an integer in \[1, maxThreadPoolSize = 2\], got 3/,
    );
    expect(() => new ThreadPoolBulkhead(sim, { queueCapacity: -1 })).toThrow(/queueCapacity/);
    expect(() => new ThreadPoolBulkhead(sim, { keepAliveDurationMs: Number.NaN })).toThrow(
      /keepAliveDurationMs/,
    );
    expect(() => pool.complete()).toThrow(/complete\(\) with no task running/);
  });
});
