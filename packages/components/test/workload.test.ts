import {
  type Distribution,
  exponential,
  Network,
  RandomStream,
  Resource,
  RpcEndpoint,
  type SimEvent,
  Simulation,
  Tally,
} from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../core/test/support/thrown.js';
import { Service } from '../src/service/service.js';
import { type ArrivalProcess, type ArrivalSpec, createArrivals } from '../src/workload/arrivals.js';
import { closedLoop } from '../src/workload/closed-loop.js';
import { createKeys, createMix } from '../src/workload/keys.js';
import { openLoop } from '../src/workload/open-loop.js';

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/** Arrival times in [0, until) from an open-loop driver in a fresh simulation. */
function arrivalTimes(arrivals: ArrivalSpec | ArrivalProcess, until: number, seed: number | string = 1) {
  const sim = new Simulation({ seed });
  const times: number[] = [];
  openLoop(sim, { arrivals, onArrival: (_i, now) => times.push(now), until });
  sim.run();
  return times;
}

/** Index of the first time >= x in sorted `times`. */
function lowerBound(times: readonly number[], x: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Arrivals in [from, to) of sorted `times`. */
function countIn(times: readonly number[], from: number, to: number): number {
  return lowerBound(times, to) - lowerBound(times, from);
}

/**
 * Checks the counts in consecutive windows against a Poisson law of mean Λ(b) − Λ(a): each within 4σ, and
 * the windows together by a chi-square statistic well inside its distribution. Returns the chi-square.
 */
function checkWindows(times: readonly number[], edges: readonly number[], integral: (t: number) => number) {
  let chi2 = 0;
  let windows = 0;
  for (let i = 0; i + 1 < edges.length; i++) {
    const a = edges[i]!;
    const b = edges[i + 1]!;
    const expected = integral(b) - integral(a);
    const n = countIn(times, a, b);
    if (expected === 0) {
      expect(n, `window [${a}, ${b}) has rate 0`).toBe(0);
      continue;
    }
    expect(Math.abs(n - expected), `window [${a}, ${b}): ${n} vs ${expected.toFixed(1)}`).toBeLessThan(
      4 * Math.sqrt(expected),
    );
    chi2 += (n - expected) ** 2 / expected;
    windows++;
  }
  // Chi-square with `windows` degrees of freedom: mean k, sd sqrt(2k).
  expect(chi2).toBeLessThan(windows + 5 * Math.sqrt(2 * windows));
  return chi2;
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let t = from; t <= to + 1e-9; t += step) out.push(t);
  return out;
}

// Integrated rates Λ(t) (expected arrivals in [0, t), t in ms), written out independently of the code.
const rampIntegral = (from: number, to: number, over: number, start: number) => (t: number) => {
  const f = from / 1000;
  const g = to / 1000;
  let total = f * Math.min(t, start);
  if (t > start) {
    const x = Math.min(t, start + over) - start;
    total += f * x + ((g - f) / over) * (x * x) * 0.5;
  }
  if (t > start + over) total += g * (t - start - over);
  return total;
};

const stepIntegral = (steps: readonly { at: number; rate: number }[]) => (t: number) => {
  let total = 0;
  for (let i = 0; i < steps.length; i++) {
    const a = steps[i]!.at;
    const b = i + 1 < steps.length ? steps[i + 1]!.at : Infinity;
    if (t > a) total += (steps[i]!.rate / 1000) * (Math.min(t, b) - a);
  }
  return total;
};

const sineIntegral = (mean: number, amplitude: number, period: number, phase: number) => (t: number) => {
  const w = (2 * Math.PI) / period;
  return (mean / 1000) * t - (amplitude / 1000 / w) * (Math.cos(w * (t + phase)) - Math.cos(w * phase));
};

const burstIntegral =
  (rate: number, burstRate: number, every: number, duration: number, offset: number) => (t: number) => {
    let burstTime = 0;
    if (t > offset) {
      const k = Math.floor((t - offset) / every);
      burstTime = k * duration + Math.min(duration, t - offset - k * every);
    }
    return (rate / 1000) * t + ((burstRate - rate) / 1000) * burstTime;
  };

// ---------------------------------------------------------------------------------------------------------
// Arrival processes
// ---------------------------------------------------------------------------------------------------------

describe('homogeneous arrivals', () => {
  it('poisson: count within 4 sigma of rate * T, exponential gaps (CV 1), index of dispersion 1', () => {
    const rate = 100; // per second
    const T = 1_000_000; // 1000 s
    for (const seed of [1, 2]) {
      const times = arrivalTimes({ kind: 'poisson', rate }, T, seed);
      const expected = (rate * T) / 1000;
      expect(Math.abs(times.length - expected)).toBeLessThan(4 * Math.sqrt(expected));
      const gaps = new Tally();
      for (let i = 1; i < times.length; i++) gaps.add(times[i]! - times[i - 1]!);
      expect(Math.abs(gaps.mean - 10) / 10).toBeLessThan(0.015);
      expect(Math.abs(gaps.stdDev / gaps.mean - 1)).toBeLessThan(0.02);
      // Counts per second: Poisson(100), so variance / mean = 1 (a constant process would give 0).
      const perSecond = new Tally();
      for (let s = 0; s < 1000; s++) perSecond.add(countIn(times, s * 1000, (s + 1) * 1000));
      expect(Math.abs(perSecond.variance / perSecond.mean - 1)).toBeLessThan(0.2);
    }
  });

  it('constant: exact spacing 1000 / rate, first arrival one gap in', () => {
    const times = arrivalTimes({ kind: 'constant', rate: 40 }, 10_000);
    expect(times.length).toBe(399); // 25, 50, ..., 9975; 10000 is excluded
    for (let i = 0; i < times.length; i++) expect(times[i]!).toBeCloseTo(25 * (i + 1), 9);
  });

  it('rate 0 gives no arrivals and stops the driver at once', () => {
    for (const spec of [
      { kind: 'poisson', rate: 0 },
      { kind: 'constant', rate: 0 },
      { kind: 'sinusoidal', mean: 0, amplitude: 0, period: 1000 },
      { kind: 'bursts', rate: 0, burstRate: 0, every: 1000, duration: 10 },
      { kind: 'steps', steps: [{ at: 0, rate: 0 }] },
    ] as const) {
      const sim = new Simulation();
      const load = openLoop(sim, { arrivals: spec, onArrival: () => {} });
      expect(load.running).toBe(false);
      expect(load.nextArrival).toBe(Infinity);
      expect(createArrivals(spec).next(0, sim.rng('x'))).toBe(Infinity);
    }
  });
});

describe('time-varying arrivals (non-homogeneous Poisson)', () => {
  it('ramp: counts per window follow the integral of the rate; nothing before a ramp from 0', () => {
    const spec = { kind: 'ramp', from: 0, to: 200, over: '100s', start: '20s' } as const;
    const integral = rampIntegral(0, 200, 100_000, 20_000);
    for (const seed of [1, 2, 3]) {
      const times = arrivalTimes(spec, 150_000, seed);
      expect(times[0]!).toBeGreaterThan(20_000);
      checkWindows(times, range(0, 150_000, 10_000), integral);
    }
    const ramp = createArrivals(spec);
    expect(ramp.rateAt(0)).toBe(0);
    expect(ramp.rateAt(70_000)).toBeCloseTo(100, 9);
    expect(ramp.rateAt(1e9)).toBe(200);
    expect(ramp.expectedCount(0, 150_000)).toBeCloseTo(integral(150_000), 6);
  });

  it('ramp down to 0 ends the process: the driver stops on its own', () => {
    const sim = new Simulation({ seed: 4 });
    const load = openLoop(sim, {
      arrivals: { kind: 'ramp', from: 100, to: 0, over: 10_000 },
      onArrival: () => {},
    });
    let doneAt = -1;
    load.done.onProcessed((e) => {
      doneAt = sim.now;
      expect(e.value).toBe(load.count);
    });
    sim.run();
    expect(load.running).toBe(false);
    expect(doneAt).toBeLessThan(10_000);
    // Expected 500 arrivals (area of the triangle).
    expect(Math.abs(load.count - 500)).toBeLessThan(4 * Math.sqrt(500));
  });

  it('steps: piecewise-constant counts, and a stretch at rate 0 gets no arrival', () => {
    const steps = [
      { at: 0, rate: 50 },
      { at: 30_000, rate: 0 },
      { at: 60_000, rate: 300 },
      { at: 90_000, rate: 10 },
    ];
    const integral = stepIntegral(steps);
    for (const seed of [1, 2, 3]) {
      const times = arrivalTimes({ kind: 'steps', steps }, 120_000, seed);
      expect(countIn(times, 30_000, 60_000)).toBe(0);
      checkWindows(times, range(0, 120_000, 5_000), integral);
    }
    const process = createArrivals({ kind: 'steps', steps: [{ at: '1s', rate: 5 }] });
    expect(process.rateAt(999)).toBe(0); // 0 before the first step
    expect(process.rateAt(1000)).toBe(5);
  });

  it('sinusoidal (amplitude = mean, the rate touches 0): counts follow the integral', () => {
    const integral = sineIntegral(200, 200, 60_000, 5_000);
    for (const seed of [1, 2, 3]) {
      const times = arrivalTimes(
        { kind: 'sinusoidal', mean: 200, amplitude: 200, period: '1m', phase: '5s' },
        300_000,
        seed,
      );
      checkWindows(times, range(0, 300_000, 5_000), integral);
    }
    const diurnal = createArrivals({ kind: 'sinusoidal', mean: 500, amplitude: 400, period: '1d' });
    expect(diurnal.rateAt(6 * 3_600_000)).toBeCloseTo(900, 9);
    expect(diurnal.rateAt(18 * 3_600_000)).toBeCloseTo(100, 9);
    expect(diurnal.expectedCount(0, 86_400_000)).toBeCloseTo(43_200_000, 3);
  });

  it('bursts: on/off modulated Poisson, counts per window in and out of bursts', () => {
    const spec = {
      kind: 'bursts',
      rate: 20,
      burstRate: 500,
      every: '30s',
      duration: '5s',
      offset: '10s',
    } as const;
    const integral = burstIntegral(20, 500, 30_000, 5_000, 10_000);
    for (const seed of [1, 2, 3]) {
      const times = arrivalTimes(spec, 300_000, seed);
      checkWindows(times, range(0, 300_000, 5_000), integral);
    }
    const bursts = createArrivals(spec);
    expect(bursts.rateAt(9_999)).toBe(20);
    expect(bursts.rateAt(10_000)).toBe(500);
    expect(bursts.rateAt(14_999)).toBe(500);
    expect(bursts.rateAt(15_000)).toBe(20);
    expect(bursts.rateAt(40_000)).toBe(500);
  });

  it('bursts with a silent baseline skip whole quiet periods at once and land inside a burst', () => {
    // 0.01 arrivals per burst on average: about 100 periods between arrivals.
    const process = createArrivals({
      kind: 'bursts',
      rate: 0,
      burstRate: 0.01,
      every: 1000,
      duration: 1000 / 1000,
    });
    const rng = new RandomStream('1', 'skip');
    let t = 0;
    for (let i = 0; i < 200; i++) {
      t = process.next(t, rng);
      expect(t % 1000).toBeLessThanOrEqual(1);
    }
    // 1e-5 expected arrivals per 1 ms burst, one burst a second: 200 arrivals take about 2e7 s = 2e10 ms
    // (a sum of 200 exponentials: sd 7%).
    expect(t / 2e10).toBeGreaterThan(0.7);
    expect(t / 2e10).toBeLessThan(1.3);
  });

  it('inverts the integrated rate exactly: Λ(t_i) − Λ(t_i−1) is the exponential(1) drawn for arrival i', () => {
    const cases: [ArrivalSpec, (t: number) => number][] = [
      [{ kind: 'ramp', from: 5, to: 300, over: 40_000, start: 3_000 }, rampIntegral(5, 300, 40_000, 3_000)],
      [{ kind: 'ramp', from: 300, to: 5, over: 40_000, start: 3_000 }, rampIntegral(300, 5, 40_000, 3_000)],
      [
        {
          kind: 'steps',
          steps: [
            { at: 1_000, rate: 80 },
            { at: 9_000, rate: 0 },
            { at: 12_000, rate: 400 },
          ],
        },
        stepIntegral([
          { at: 1_000, rate: 80 },
          { at: 9_000, rate: 0 },
          { at: 12_000, rate: 400 },
        ]),
      ],
      [
        { kind: 'sinusoidal', mean: 100, amplitude: 90, period: 7_000, phase: 1_234 },
        sineIntegral(100, 90, 7_000, 1_234),
      ],
      [
        { kind: 'bursts', rate: 3, burstRate: 250, every: 2_000, duration: 300, offset: 500 },
        burstIntegral(3, 250, 2_000, 300, 500),
      ],
    ];
    for (const [spec, integral] of cases) {
      const process = createArrivals(spec);
      const rng = new RandomStream('7', 'arrivals');
      const replica = new RandomStream('7', 'arrivals');
      let t = 0;
      for (let i = 0; i < 2000; i++) {
        const next = process.next(t, rng);
        const e = -Math.log(1 - replica.next());
        const mass = integral(next) - integral(t);
        expect(Math.abs(mass - e), `${process.describe()} arrival ${i}`).toBeLessThan(1e-7 * Math.max(1, e));
        t = next;
      }
    }
  });

  it('expectedCount matches the closed-form integrals', () => {
    const ramp = createArrivals({ kind: 'ramp', from: 10, to: 50, over: 4000, start: 1000 });
    expect(ramp.expectedCount(500, 9000)).toBeCloseTo(
      rampIntegral(10, 50, 4000, 1000)(9000) - rampIntegral(10, 50, 4000, 1000)(500),
      9,
    );
    const bursts = createArrivals({
      kind: 'bursts',
      rate: 1,
      burstRate: 9,
      every: 100,
      duration: 10,
      offset: 5,
    });
    const b = burstIntegral(1, 9, 100, 10, 5);
    expect(bursts.expectedCount(3, 12_345)).toBeCloseTo(b(12_345) - b(3), 9);
    expect(createArrivals({ kind: 'poisson', rate: 3 }).expectedCount(0, 2000)).toBe(6);
    expect(createArrivals({ kind: 'steps', steps: [{ at: 0, rate: 1 }] }).expectedCount(0, Infinity)).toBe(
      Infinity,
    );
  });
});

describe('replay arrivals', () => {
  it('delivers exactly the recorded times, ties included, and skips times before the start', () => {
    const times = [0, 5, 5, 12.5, 400];
    expect(arrivalTimes({ kind: 'replay', times }, Infinity)).toEqual(times);
    const sim = new Simulation();
    const seen: [number, number][] = [];
    openLoop(sim, {
      arrivals: { kind: 'replay', times },
      start: 6,
      onArrival: (i, now) => seen.push([i, now]),
    });
    sim.run();
    expect(seen).toEqual([
      [0, 12.5],
      [1, 400],
    ]);
    const replay = createArrivals({ kind: 'replay', times });
    expect(replay.rateAt(3)).toBeNaN();
    expect(replay.expectedCount(5, 13)).toBe(3);
  });

  it('rejects unsorted, negative, NaN and non-numeric times, naming the index', () => {
    const bad: [unknown[], string][] = [
      [[0, 10, 5], 'arrivals.times[2]'],
      [[-1], 'arrivals.times[0]'],
      [[0, Number.NaN], 'arrivals.times[1]'],
      [[0, Infinity], 'arrivals.times[1]'],
      [[0, '5'], 'arrivals.times[1]'],
    ];
    for (const [times, field] of bad) {
      const err = thrown(() => createArrivals({ kind: 'replay', times: times as number[] }));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.details.field).toBe(field);
      expect(err.message).toContain(field);
    }
    expect(thrown(() => createArrivals({ kind: 'replay', times: [0, 10, 5] })).message).toContain('sorted');
  });
});

describe('arrival determinism and validation', () => {
  it('same seed, same arrival times; another seed, other times', () => {
    const spec: ArrivalSpec = { kind: 'sinusoidal', mean: 50, amplitude: 30, period: '10s' };
    const a = arrivalTimes(spec, 60_000, 'abc');
    const b = arrivalTimes(spec, 60_000, 'abc');
    const c = arrivalTimes(spec, 60_000, 'abd');
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('bad specs throw errors that name the field, the value and what is allowed', () => {
    const bad: [unknown, string][] = [
      [null, 'arrivals'],
      [{ kind: 'gaussian' }, 'arrivals.kind'],
      [{ kind: 'poisson', rate: -1 }, 'arrivals.rate'],
      [{ kind: 'poisson', rate: Infinity }, 'arrivals.rate'],
      [{ kind: 'poisson' }, 'arrivals.rate'],
      [{ kind: 'poisson', rate: 1, rat: 2 }, 'arrivals.rat'],
      [{ kind: 'constant', rate: '5' }, 'arrivals.rate'],
      [{ kind: 'bursts', rate: 1, burstRate: 2, every: 0, duration: 1 }, 'arrivals.every'],
      [{ kind: 'bursts', rate: 1, burstRate: 2, every: 10, duration: 11 }, 'arrivals.duration'],
      [{ kind: 'bursts', rate: 1, burstRate: 2, every: 10, duration: 1, offset: -1 }, 'arrivals.offset'],
      [{ kind: 'bursts', rate: 1, burstRate: -2, every: 10, duration: 1 }, 'arrivals.burstRate'],
      [{ kind: 'ramp', from: 1, to: 2, over: '5 minutes' }, 'arrivals.over'],
      [{ kind: 'ramp', from: Number.NaN, to: 2, over: 5 }, 'arrivals.from'],
      [{ kind: 'steps', steps: [] }, 'arrivals.steps'],
      [
        {
          kind: 'steps',
          steps: [
            { at: 5, rate: 1 },
            { at: 5, rate: 2 },
          ],
        },
        'arrivals.steps[1].at',
      ],
      [{ kind: 'steps', steps: [{ at: 0, rate: -1 }] }, 'arrivals.steps[0].rate'],
      [{ kind: 'steps', steps: [{ at: 0, rat: 1 }] }, 'arrivals.steps[0].rat'],
      [{ kind: 'sinusoidal', mean: 10, amplitude: 11, period: 5 }, 'arrivals.amplitude'],
      [{ kind: 'sinusoidal', mean: 10, amplitude: 1, period: 0 }, 'arrivals.period'],
    ];
    for (const [spec, field] of bad) {
      const err = thrown(() => createArrivals(spec as ArrivalSpec));
      expect(err.details.field, JSON.stringify(spec)).toBe(field);
      expect(err.details.component).toBe('createArrivals');
      expect(err.message).toContain(field);
      // A misspelt key is "unknown", everything else "must be" something.
      expect(err.message).toMatch(/must be|unknown option/);
    }
    expect(thrown(() => createArrivals({ kind: 'poisson', rate: -1 })).message).toBe(
      'createArrivals: arrivals.rate must be a finite number >= 0 (arrivals per second), got -1',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Open loop
// ---------------------------------------------------------------------------------------------------------

describe('openLoop', () => {
  it('stops at until (exclusive) and after limit arrivals; done succeeds with the count', () => {
    const sim = new Simulation();
    const byUntil = openLoop(sim, {
      arrivals: { kind: 'constant', rate: 10 },
      onArrival: () => {},
      until: '1s',
    });
    const seen: number[] = [];
    const byLimit = openLoop(sim, {
      arrivals: { kind: 'poisson', rate: 1000 },
      onArrival: (i) => seen.push(i),
      limit: 25,
      stream: 'other',
    });
    let limitDone = -1;
    byLimit.done.onProcessed((e) => (limitDone = e.value!));
    sim.run();
    expect(byUntil.count).toBe(9); // 100..900; 1000 is excluded
    expect(byLimit.count).toBe(25);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(limitDone).toBe(25);
    expect(
      openLoop(sim, { arrivals: { kind: 'poisson', rate: 1 }, onArrival: () => {}, limit: 0 }).running,
    ).toBe(false);
  });

  it('stop() from inside onArrival cancels the pending arrival; start delays the first', () => {
    const sim = new Simulation();
    const times: number[] = [];
    const load = openLoop(sim, {
      arrivals: { kind: 'constant', rate: 100 },
      start: 1000,
      onArrival: (i, now) => {
        times.push(now);
        if (i === 2) load.stop();
      },
    });
    expect(load.nextArrival).toBe(1010);
    sim.run();
    expect(times).toEqual([1010, 1020, 1030]);
    expect(load.running).toBe(false);
    load.stop();
    expect(load.done.triggered).toBe(true);
  });

  it('the consequences of an arrival at time t run before the next arrival at the same t', () => {
    const sim = new Simulation();
    const log: string[] = [];
    openLoop(sim, {
      arrivals: { kind: 'replay', times: [5, 5] },
      onArrival: (i) => {
        log.push(`arrival ${i}`);
        sim.schedule(0, () => log.push(`effect ${i}`));
      },
    });
    sim.run();
    expect(log).toEqual(['arrival 0', 'effect 0', 'arrival 1', 'effect 1']);
  });

  it('accepts a hand-written ArrivalProcess and rejects one that goes back in time', () => {
    const every7: ArrivalProcess = {
      kind: 'every-7',
      next: (now) => now + 7,
      rateAt: () => 1000 / 7,
      expectedCount: (a, b) => (b - a) / 7,
      describe: () => 'every 7 ms',
    };
    expect(arrivalTimes(every7, 30)).toEqual([7, 14, 21, 28]);
    const sim = new Simulation();
    const backwards = { ...every7, next: (now: number) => now - 1 };
    const err = thrown(() => openLoop(sim, { arrivals: backwards, onArrival: () => {} }));
    expect(err.code).toBe('INVALID_STATE');
    expect(err.message).toContain('arrivals.next');
  });

  it('validates its options', () => {
    const sim = new Simulation();
    const ok = { arrivals: { kind: 'poisson', rate: 1 } as const, onArrival: () => {} };
    expect(thrown(() => openLoop(sim, { ...ok, limit: 1.5 })).details).toMatchObject({
      component: 'openLoop',
      field: 'limit',
    });
    expect(thrown(() => openLoop(sim, { ...ok, until: -5 })).details).toMatchObject({
      component: 'openLoop',
      field: 'until',
    });
    expect(thrown(() => openLoop(sim, { ...ok, stream: '' })).details).toMatchObject({
      component: 'openLoop',
      field: 'stream',
    });
    expect(thrown(() => openLoop(sim, { ...ok, onArrival: 3 as never })).details).toMatchObject({
      component: 'openLoop',
      field: 'onArrival',
    });
    expect(thrown(() => openLoop(sim, { ...ok, untill: 5 } as never)).details).toMatchObject({
      component: 'openLoop',
      field: 'untill',
    });
    sim.run({ until: 100 });
    expect(thrown(() => openLoop(sim, { ...ok, start: 50 })).details).toMatchObject({
      component: 'openLoop',
      field: 'start',
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Closed loop against the machine-repairman model
// ---------------------------------------------------------------------------------------------------------

/** Exact finite-source M/M/1//N: throughput X and mean response time R. */
function machineRepairman(users: number, thinkMs: number, serviceMs: number) {
  const ratio = serviceMs / thinkMs; // lambda / mu
  let sum = 0;
  let term = 1; // N! / (N - n)! (lambda/mu)^n
  for (let n = 0; n <= users; n++) {
    sum += term;
    term *= (users - n) * ratio;
  }
  const p0 = 1 / sum;
  const X = (1 - p0) / serviceMs; // per ms
  return { p0, X, R: users / X - thinkMs };
}

/** A distribution that records what it draws (to measure the think time Z). */
function recording(inner: Distribution, tally: Tally): Distribution {
  return {
    kind: inner.kind,
    mean: inner.mean,
    sample: (rng) => {
      const x = inner.sample(rng);
      tally.add(x);
      return x;
    },
    describe: () => inner.describe(),
  };
}

/** N users, exponential think Z, one exponential server S built from a core Resource. */
function repairmanRun(
  users: number,
  thinkMs: number,
  serviceMs: number,
  seed: number,
  T: number,
  warmup: number,
) {
  const sim = new Simulation({ seed });
  const server = new Resource(sim, { capacity: 1, name: 'server' });
  const service = exponential({ mean: serviceMs });
  const serviceRng = sim.rng('server/service');
  const response = new Tally();
  const think = new Tally();
  let completions = 0;
  const load = closedLoop(sim, {
    users,
    thinkTime: recording(exponential({ mean: thinkMs }), think),
    request: () =>
      sim.process(function* () {
        const req = yield* server.request();
        yield sim.timeout(service.sample(serviceRng));
        server.release(req);
      }),
    onResponse: (_u, _i, r) => {
      if (sim.now < warmup) return;
      completions++;
      response.add(r);
    },
    until: T,
  });
  sim.run({ until: T });
  const X = completions / (T - warmup);
  return { X, R: response.mean, Z: think.mean, load };
}

describe('closedLoop against the machine-repairman model (finite-source M/M/1//N)', () => {
  it('below saturation (N = 10, Z = 90 ms, S = 10 ms): throughput and response time within 2%', () => {
    const theory = machineRepairman(10, 90, 10);
    for (const seed of [1, 2]) {
      const { X, R, Z } = repairmanRun(10, 90, 10, seed, 1_000_000, 20_000);
      expect(Math.abs(X - theory.X) / theory.X).toBeLessThan(0.02);
      expect(Math.abs(R - theory.R) / theory.R).toBeLessThan(0.03);
      // Interactive response-time law, an operational identity: X = N / (R + Z).
      expect(Math.abs(X - 10 / (R + Z)) / X).toBeLessThan(0.01);
    }
  });

  it('past saturation (N = 30): the server is the bottleneck, X -> mu and R -> N S - Z, within 2% and 3%', () => {
    const theory = machineRepairman(30, 90, 10);
    expect(theory.p0).toBeLessThan(1e-6);
    const { X, R, Z, load } = repairmanRun(30, 90, 10, 3, 1_000_000, 20_000);
    expect(Math.abs(X - theory.X) / theory.X).toBeLessThan(0.02);
    expect(Math.abs(R - theory.R) / theory.R).toBeLessThan(0.03);
    expect(Math.abs(X - 30 / (R + Z)) / X).toBeLessThan(0.01);
    // Bookkeeping identities at the end of the run.
    expect(load.issued).toBe(load.completed + load.inFlight);
    expect(load.thinking + load.inFlight + load.retired).toBe(30);
  });

  it('the same loop over the network with the Service component matches the model', () => {
    const sim = new Simulation({ seed: 5 });
    const net = new Network(sim);
    new Service(net.addNode('svc'), { serviceTime: exponential({ mean: 10 }) });
    const client = new RpcEndpoint(net.addNode('client'));
    const T = 600_000;
    const load = closedLoop(sim, {
      users: 8,
      thinkTime: exponential({ mean: 60 }),
      request: (user) => client.call('svc', user),
      until: T,
    });
    sim.run();
    const theory = machineRepairman(8, 60, 10);
    const X = load.completed / T;
    expect(Math.abs(X - theory.X) / theory.X).toBeLessThan(0.03);
    expect(Math.abs(load.responseTimes.mean - theory.R) / theory.R).toBeLessThan(0.05);
    expect(load.running).toBe(false);
    expect(load.inFlight).toBe(0);
  });
});

describe('closedLoop behaviour', () => {
  it('users alternate think and request; iterations retire them; done succeeds with completed', () => {
    const sim = new Simulation();
    const sent: [number, number, number][] = [];
    const load = closedLoop(sim, {
      users: 3,
      thinkTime: 10,
      iterations: 4,
      request: (user, iteration) => {
        sent.push([user, iteration, sim.now]);
        return sim.timeout(5);
      },
    });
    let doneAt = -1;
    load.done.onProcessed((e) => {
      doneAt = sim.now;
      expect(e.value).toBe(12);
    });
    sim.run();
    expect(load.completed).toBe(12);
    expect(doneAt).toBe(60);
    expect(sent.filter(([u]) => u === 1).map(([, i, t]) => [i, t])).toEqual([
      [0, 10],
      [1, 25],
      [2, 40],
      [3, 55],
    ]);
    expect(load.responseTimes.mean).toBe(5);
  });

  it('startSpread staggers the users evenly (ramp-up)', () => {
    const sim = new Simulation();
    const first = new Map<number, number>();
    closedLoop(sim, {
      users: 4,
      thinkTime: '10ms',
      startSpread: 100,
      iterations: 1,
      request: (user) => {
        first.set(user, sim.now);
        return sim.timeout(1);
      },
    });
    sim.run();
    expect([...first.entries()]).toEqual([
      [0, 10],
      [1, 35],
      [2, 60],
      [3, 85],
    ]);
  });

  it('until stops new requests, in-flight ones complete; stop() retires thinking users at once', () => {
    const sim = new Simulation();
    const load = closedLoop(sim, { users: 2, thinkTime: 10, request: () => sim.timeout(30), until: 100 });
    sim.run();
    // Each cycle is 40 ms: requests at 10, 50, 90; the one sent at 90 completes at 120.
    expect(load.issued).toBe(6);
    expect(load.completed).toBe(6);
    expect(sim.now).toBe(120);

    const sim2 = new Simulation();
    const load2 = closedLoop(sim2, {
      users: 2,
      thinkTime: 10,
      startSpread: 40,
      request: () => sim2.timeout(30),
    });
    sim2.run({ until: 25 }); // user 0 is waiting (sent at 10), user 1 is thinking (starts at 20)
    expect([load2.inFlight, load2.thinking]).toEqual([1, 1]);
    load2.stop();
    expect([load2.inFlight, load2.thinking, load2.retired]).toEqual([1, 0, 1]);
    sim2.run();
    expect(load2.completed).toBe(1);
    expect(load2.running).toBe(false);
    expect(sim2.now).toBe(40);
  });

  it('a failed request event is counted and the user goes on', () => {
    const sim = new Simulation();
    const load = closedLoop(sim, {
      users: 1,
      thinkTime: 1,
      iterations: 4,
      request: (_u, i) => {
        const ev: SimEvent<unknown> = sim.event();
        sim.schedule(2, () => (i % 2 === 0 ? ev.fail(new Error('boom')) : ev.succeed('ok')));
        return ev;
      },
    });
    sim.run();
    expect([load.completed, load.failed]).toEqual([4, 2]);
  });

  it('validates its options and what request returns', () => {
    const sim = new Simulation();
    const ok = { users: 1, thinkTime: 5, request: () => sim.timeout(1) };
    expect(thrown(() => closedLoop(sim, { ...ok, users: 0 })).details).toMatchObject({
      component: 'closedLoop',
      field: 'users',
    });
    expect(thrown(() => closedLoop(sim, { ...ok, thinkTime: 'soon' })).details).toMatchObject({
      component: 'closedLoop',
      field: 'thinkTime',
    });
    expect(thrown(() => closedLoop(sim, { ...ok, thinkTime: {} as never })).details).toMatchObject({
      component: 'closedLoop',
      field: 'thinkTime',
    });
    expect(thrown(() => closedLoop(sim, { ...ok, iterations: 0 })).details).toMatchObject({
      component: 'closedLoop',
      field: 'iterations',
    });
    expect(thrown(() => closedLoop(sim, { ...ok, startSpread: -1 })).details).toMatchObject({
      component: 'closedLoop',
      field: 'startSpread',
    });
    expect(thrown(() => closedLoop(sim, { ...ok, user: 3 } as never)).details).toMatchObject({
      component: 'closedLoop',
      field: 'user',
    });
    const sim2 = new Simulation();
    closedLoop(sim2, { users: 1, thinkTime: 5, request: () => 42 as never });
    expect(thrown(() => sim2.run()).message).toContain('must return a SimEvent');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Keys and mixes
// ---------------------------------------------------------------------------------------------------------

describe('key generators', () => {
  const draws = 200_000;

  function frequencies(next: () => number, count: number): Float64Array {
    const counts = new Float64Array(count);
    for (let i = 0; i < draws; i++) counts[next()]!++;
    return counts;
  }

  it('zipf: the top keys are drawn with probability (1/k^s) / H(n, s)', () => {
    const n = 1000;
    const s = 1.1;
    let H = 0;
    for (let k = 1; k <= n; k++) H += k ** -s;
    const keys = createKeys({ kind: 'zipf', count: n, s });
    const rng = new RandomStream('1', 'keys');
    const counts = frequencies(() => keys.nextIndex(rng), n);
    for (let k = 1; k <= 10; k++) {
      const p = k ** -s / H;
      expect(keys.probability(k - 1)).toBeCloseTo(p, 12);
      const sigma = Math.sqrt(draws * p * (1 - p));
      expect(Math.abs(counts[k - 1]! - draws * p)).toBeLessThan(4 * sigma);
    }
    expect(keys.next(rng)).toMatch(/^k\d+$/);
    expect(keys.key(0)).toBe('k0');
  });

  it('hot-spot: the hot keys get hotShare of the draws, uniformly; the cold keys the rest', () => {
    const keys = createKeys({ kind: 'hot-spot', count: 1000, hotKeys: 0.1, hotShare: 0.9, prefix: 'user:' });
    const rng = new RandomStream('2', 'keys');
    const counts = frequencies(() => keys.nextIndex(rng), 1000);
    let hot = 0;
    for (let i = 0; i < 100; i++) hot += counts[i]!;
    expect(Math.abs(hot / draws - 0.9)).toBeLessThan(4 * Math.sqrt((0.9 * 0.1) / draws));
    // Uniform within each set: chi-square with 99 and 899 degrees of freedom.
    let chiHot = 0;
    for (let i = 0; i < 100; i++) chiHot += (counts[i]! - hot / 100) ** 2 / (hot / 100);
    let chiCold = 0;
    const cold = draws - hot;
    for (let i = 100; i < 1000; i++) chiCold += (counts[i]! - cold / 900) ** 2 / (cold / 900);
    expect(chiHot).toBeLessThan(99 + 5 * Math.sqrt(2 * 99));
    expect(chiCold).toBeLessThan(899 + 5 * Math.sqrt(2 * 899));
    expect(keys.probability(5)).toBeCloseTo(0.009, 12);
    expect(keys.probability(500)).toBeCloseTo(0.1 / 900, 12);
    expect(keys.key(42)).toBe('user:42');
  });

  it('uniform: chi-square sanity over 100 keys; huge key spaces work without a flat cache', () => {
    const keys = createKeys({ kind: 'uniform', count: 100 });
    const rng = new RandomStream('3', 'keys');
    const counts = frequencies(() => keys.nextIndex(rng), 100);
    let chi2 = 0;
    for (const c of counts) chi2 += (c - draws / 100) ** 2 / (draws / 100);
    expect(chi2).toBeGreaterThan(99 - 5 * Math.sqrt(2 * 99));
    expect(chi2).toBeLessThan(99 + 5 * Math.sqrt(2 * 99));
    const huge = createKeys({ kind: 'uniform', count: 2 ** 32, prefix: 'obj-' });
    const key = huge.next(rng);
    expect(key).toMatch(/^obj-\d+$/);
    expect(huge.key(4_000_000_000)).toBe('obj-4000000000');
  });

  it('a key index draws from the stream exactly as next() does (same seed, same keys)', () => {
    const keys = createKeys({ kind: 'zipf', count: 50, s: 0.8 });
    const a = new RandomStream('9', 'k');
    const b = new RandomStream('9', 'k');
    for (let i = 0; i < 100; i++) expect(keys.next(a)).toBe(keys.key(keys.nextIndex(b)));
  });

  it('mix: weights are relative, zero weights are never drawn', () => {
    const mix = createMix([
      { value: 'read', weight: 90 },
      { value: 'never', weight: 0 },
      { value: 'write', weight: 9 },
      { value: 'scan', weight: 1 },
      { value: 'never-either', weight: 0 },
    ]);
    const rng = new RandomStream('4', 'mix');
    const counts = new Map<string, number>();
    for (let i = 0; i < draws; i++) {
      const v = mix.next(rng);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (const [value, p] of [
      ['read', 0.9],
      ['write', 0.09],
      ['scan', 0.01],
    ] as const) {
      expect(Math.abs((counts.get(value) ?? 0) - draws * p)).toBeLessThan(4 * Math.sqrt(draws * p * (1 - p)));
    }
    expect(counts.has('never')).toBe(false);
    expect(counts.has('never-either')).toBe(false);
    expect(mix.probability(2)).toBeCloseTo(0.09, 12);
    expect(mix.values).toEqual(['read', 'never', 'write', 'scan', 'never-either']);
  });

  it('bad key and mix specs name the field', () => {
    const badKeys: [unknown, string][] = [
      [{ kind: 'uniform', count: 0 }, 'keys.count'],
      [{ kind: 'uniform', count: 2.5 }, 'keys.count'],
      [{ kind: 'zipf', count: 1e8, s: 1 }, 'keys.count'],
      [{ kind: 'zipf', count: 10, s: -1 }, 'keys.s'],
      [{ kind: 'zipf', count: 10, s: 1, prefx: 'a' }, 'keys.prefx'],
      [{ kind: 'uniform', count: 10, prefix: 5 }, 'keys.prefix'],
      [{ kind: 'hot-spot', count: 10, hotKeys: 0.01, hotShare: 0.5 }, 'keys.hotKeys'],
      [{ kind: 'hot-spot', count: 10, hotKeys: 1, hotShare: 0.5 }, 'keys.hotKeys'],
      [{ kind: 'hot-spot', count: 10, hotKeys: 0.5, hotShare: 1.5 }, 'keys.hotShare'],
      [{ kind: 'pareto', count: 10 }, 'keys.kind'],
    ];
    for (const [spec, field] of badKeys) {
      expect(thrown(() => createKeys(spec as never)).details.field, JSON.stringify(spec)).toBe(field);
    }
    expect(createKeys({ kind: 'hot-spot', count: 10, hotKeys: 1, hotShare: 1 }).probability(3)).toBe(0.1);
    expect(thrown(() => createKeys({ kind: 'uniform', count: 5 }).key(5)).details.field).toBe(
      'keys.key(index)',
    );
    expect(thrown(() => createMix([])).details.field).toBe('mix');
    expect(thrown(() => createMix([{ value: 1, weight: -1 }])).details.field).toBe('mix[0].weight');
    expect(thrown(() => createMix([{ value: 1, weight: 0 }])).details.field).toBe('mix');
    expect(thrown(() => createMix([{ value: 1, weight: Number.NaN }])).details.field).toBe('mix[0].weight');
  });
});
