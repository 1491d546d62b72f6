import { DsimError, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { AimdLimit } from '../src/resilience/adaptive/aimd-limit.js';
import { FixedLimit } from '../src/resilience/adaptive/fixed-limit.js';
import { Gradient2Limit } from '../src/resilience/adaptive/gradient2-limit.js';
import { type ConcurrencyLimit, log10Root } from '../src/resilience/adaptive/limit.js';
import { VegasLimit } from '../src/resilience/adaptive/vegas-limit.js';
import { WindowedLimit } from '../src/resilience/adaptive/windowed-limit.js';

/** Feeds `limit` samples [rtt, inflight, didDrop?] (start time 0) and returns the limit after each. */
function trajectory(limit: ConcurrencyLimit, samples: [number, number, boolean?][]): number[] {
  return samples.map(([rtt, inflight, drop]) => {
    limit.onSample(0, rtt, inflight, drop ?? false);
    return limit.limit;
  });
}

describe('AimdLimit (concurrency-limits AIMDLimit)', () => {
  it('defaults: initial 20, min 20, max 200, backoff 0.9, timeout 5 s', () => {
    const aimd = new AimdLimit();
    expect([aimd.limit, aimd.minLimit, aimd.maxLimit, aimd.backoffRatio, aimd.timeoutMs]).toEqual([
      20, 20, 200, 0.9, 5000,
    ]);
  });

  it("the library's own cases: +1 on success, floor(30 x 0.9) = 27 on a drop, capped at max", () => {
    expect(trajectory(new AimdLimit({ initialLimit: 20 }), [[1, 10]])).toEqual([21]);
    expect(trajectory(new AimdLimit({ initialLimit: 30 }), [[0, 0, true]])).toEqual([27]);
    expect(trajectory(new AimdLimit({ initialLimit: 21, maxLimit: 21, minLimit: 1 }), [[1, 10]])).toEqual([
      21,
    ]);
  });

  it('a scripted series, step by step: app-limited guard, timeout as a drop, clamping', () => {
    const aimd = new AimdLimit({ initialLimit: 10, minLimit: 5, maxLimit: 12, timeout: 100 });
    expect(
      trajectory(aimd, [
        [10, 5], // 5 x 2 >= 10: +1
        [10, 5], // 10 < 11: app-limited, no growth
        [10, 6], // 12 >= 11: +1
        [10, 12], // 13, capped at 12
        [150, 12], // slower than the timeout: floor(12 x 0.9) = 10
        [10, 1, true], // floor(9.0) = 9
        [10, 1, true], // floor(8.1) = 8
        [10, 1, true], // floor(7.2) = 7
        [10, 1, true], // floor(6.3) = 6
        [10, 1, true], // floor(5.4) = 5
        [10, 1, true], // floor(4.5) = 4, floored at min 5
        [100, 3], // exactly the timeout is not a drop; 3 x 2 >= 5: +1
      ]),
    ).toEqual([11, 11, 12, 12, 10, 9, 8, 7, 6, 5, 5, 6]);
  });

  it('rejects bad options, naming the field and what is allowed', () => {
    expect(() => new AimdLimit({ backoffRatio: 1 })).toThrow(
      /backoffRatio must be a number in \[0.5, 1\), got 1/,
    );
    expect(() => new AimdLimit({ backoffRatio: 0.4 })).toThrow(/backoffRatio/);
    expect(() => new AimdLimit({ minLimit: 0 })).toThrow(/minLimit must be an integer >= 1/);
    expect(() => new AimdLimit({ initialLimit: 5 })).toThrow(
      /initialLimit must be an integer in \[20, 200\]/,
    );
    expect(() => new AimdLimit({ timeout: 0 })).toThrow(/timeout/);
    expect(() => new AimdLimit({ backofRatio: 0.8 } as never)).toThrow(/did you mean "backoffRatio"/);
    expect(() => new AimdLimit().onSample(0, -1, 1, false)).toThrow(DsimError);
    expect(() => new AimdLimit().onSample(0, 1, 1.5, false)).toThrow(/inflight/);
  });
});

describe('Gradient2Limit (concurrency-limits Gradient2Limit)', () => {
  it('defaults: initial 20, min 20, max 200, smoothing 0.2, queue 4, long window 600, tolerance 1.5', () => {
    const g = new Gradient2Limit();
    expect([g.limit, g.minLimit, g.maxLimit, g.smoothing, g.longWindow, g.rttTolerance]).toEqual([
      20, 20, 200, 0.2, 600, 1.5,
    ]);
  });

  it('a scripted series, step by step as the library computes it', () => {
    const g = new Gradient2Limit({ initialLimit: 20, minLimit: 1, maxLimit: 100 });
    const E: number[] = [];
    const step = (rtt: number, inflight: number): void => {
      g.onSample(0, rtt, inflight, false);
      E.push(g.estimatedLimit);
    };
    // 1-2: steady 10 ms, long = short, gradient 1: E <- 0.8 E + 0.2 (E + 4) = E + 0.8.
    step(10, 20);
    step(10, 20);
    expect(E[0]).toBeCloseTo(20.8, 12);
    expect(E[1]).toBeCloseTo(21.6, 12);
    expect(g.limit).toBe(21);
    // 3: 5 in flight < E / 2 = 10.8: app-limited, unchanged (the long average still learns the sample).
    step(10, 5);
    expect(E[2]).toBeCloseTo(21.6, 12);
    expect(g.longRtt).toBe(10);
    // 4: latency spike. Warm-up: long = mean(10, 10, 10, 40) = 17.5; gradient = 1.5 x 17.5 / 40 = 0.65625.
    step(40, 21);
    const e4 = 0.8 * 21.6 + 0.2 * (21.6 * 0.65625 + 4);
    expect(g.longRtt).toBe(17.5);
    expect(E[3]).toBeCloseTo(e4, 12); // 20.915
    expect(g.limit).toBe(20);
    // 5: long = 150 / 5 = 30, gradient = 1.5 x 30 / 80 = 0.5625.
    step(80, 21);
    const e5 = 0.8 * e4 + 0.2 * (e4 * 0.5625 + 4);
    expect(E[4]).toBeCloseTo(e5, 12); // 19.8849375
    expect(g.limit).toBe(19);
    // 6: long = 550 / 6, 1.5 x long / 400 = 0.34375: the gradient is floored at 0.5.
    step(400, 20);
    const e6 = 0.8 * e5 + 0.2 * (e5 * 0.5 + 4);
    expect(E[5]).toBeCloseTo(e6, 12); // 18.69644375
    expect(g.limit).toBe(18);
    // 7: back to 5 ms. long = 555 / 7 is more than twice the short RTT: the stored long average is cut by
    // 5%, but this update still uses the uncut value (gradient capped at 1).
    step(5, 20);
    expect(g.longRtt).toBeCloseTo((555 / 7) * 0.95, 12);
    expect(E[6]).toBeCloseTo(e6 + 0.8, 12);
    // 8: still in warm-up, the plain mean over the sum (560 / 8 = 70) replaces the cut value, then is cut.
    step(5, 20);
    expect(g.longRtt).toBeCloseTo(70 * 0.95, 12);
    expect(g.limit).toBe(Math.floor(e6 + 1.6));
  });

  it('after 10 warm-up samples the long RTT is an exponential average with factor 2 / (longWindow + 1)', () => {
    const g = new Gradient2Limit({ initialLimit: 20, minLimit: 1, longWindow: 9 });
    for (let i = 0; i < 10; i++) g.onSample(0, 10, 20, false);
    expect(g.longRtt).toBe(10);
    g.onSample(0, 15, 20, false); // factor 0.2: 0.8 x 10 + 0.2 x 15 = 11
    expect(g.longRtt).toBeCloseTo(11, 12);
    g.onSample(0, 20, 20, false);
    expect(g.longRtt).toBeCloseTo(0.8 * 11 + 0.2 * 20, 12);
  });

  it('ignores drops: the library reacts to latency only', () => {
    const rtts = [10, 12, 30, 90, 20, 10, 10, 400, 5];
    const plain = trajectory(
      new Gradient2Limit({ minLimit: 1 }),
      rtts.map((r) => [r, 20]),
    );
    const dropped = trajectory(
      new Gradient2Limit({ minLimit: 1 }),
      rtts.map((r) => [r, 20, true]),
    );
    expect(dropped).toEqual(plain);
  });

  it('cannot shrink below 2 x queueSize: at the gradient floor of 0.5, E <- 0.9 E + 0.8 has its fixed point at 8', () => {
    const g = new Gradient2Limit({ initialLimit: 40, minLimit: 1 });
    const estimates: number[] = [];
    // RTTs that grow 4x per sample keep 1.5 x long / short under 0.5 from the fourth sample on.
    for (let n = 0; n < 80; n++) {
      g.onSample(0, 4 ** n, 40, false);
      estimates.push(g.estimatedLimit);
    }
    expect(Math.min(...estimates)).toBeGreaterThanOrEqual(8);
    expect(estimates.at(-1)! - 8).toBeLessThan(0.02); // 32 x 0.9^77 above it
    expect(g.limit).toBe(8);
    // With maxLimit it is clamped from above as well.
    expect(
      trajectory(new Gradient2Limit({ initialLimit: 5, minLimit: 5, maxLimit: 6 }), [
        [10, 5],
        [10, 5],
      ]),
    ).toEqual([5, 6]);
  });

  it('rejects bad options and zero RTTs, naming the field', () => {
    expect(() => new Gradient2Limit({ rttTolerance: 0.9 })).toThrow(
      /rttTolerance must be a finite number >= 1/,
    );
    expect(() => new Gradient2Limit({ smoothing: 0 })).toThrow(/smoothing must be a number in \(0, 1\]/);
    expect(() => new Gradient2Limit({ queueSize: -1 })).toThrow(/queueSize/);
    expect(() => new Gradient2Limit({ maxConcurrency: 10 } as never)).toThrow(/maxConcurrency/);
    expect(() => new Gradient2Limit().onSample(0, 0, 20, false)).toThrow(
      /rtt must be a finite round-trip time > 0/,
    );
    const g = new Gradient2Limit({ queueSize: () => Number.NaN });
    expect(() => g.onSample(0, 1, 20, false)).toThrow(/queueSize\(limit\) must return a finite number/);
  });
});

describe('VegasLimit (concurrency-limits VegasLimit)', () => {
  const vegas = (options: Partial<ConstructorParameters<typeof VegasLimit>[0]> = {}) =>
    new VegasLimit({ rng: new Simulation({ seed: 1 }).rng('vegas'), ...options });
  const small = () => vegas({ alpha: 3, beta: 6, smoothing: 1, initialLimit: 10, maxLimit: 20 });

  it("the library's own cases", () => {
    // The first sample sets the no-load RTT; no queue (rtt = no-load) grows by beta.
    expect(
      trajectory(small(), [
        [10, 10],
        [10, 11],
      ]),
    ).toEqual([10, 16]);
    // queue = ceil(10 x (1 - 10 / 50)) = 8 > beta: decrease by log10Root(10) = 1.
    expect(
      trajectory(small(), [
        [10, 10],
        [50, 11],
      ]),
    ).toEqual([10, 9]);
    // queue = ceil(10 x (1 - 10 / 14)) = 3: between alpha and beta, no change.
    expect(
      trajectory(small(), [
        [10, 10],
        [14, 14],
      ]),
    ).toEqual([10, 10]);
    const halving = () => vegas({ decrease: (l) => l / 2, initialLimit: 100, maxLimit: 200, smoothing: 0.5 });
    // queue = 50 > beta = 12: halved to 50, smoothed to 75; then queue 38: 37.5, smoothed to 56.25.
    expect(
      trajectory(halving(), [
        [10, 100],
        [20, 100],
        [20, 100],
      ]),
    ).toEqual([100, 75, 56]);
    expect(
      trajectory(vegas({ initialLimit: 10000, maxLimit: 20000 }), [
        [10_000, 5000],
        [10_000, 6000],
      ]),
    ).toEqual([10000, 10024]);
  });

  it('log10Root is max(1, floor(log10 n)): the step and thresholds grow with the limit', () => {
    expect([1, 9, 10, 99, 100, 999, 1000, 10000].map(log10Root)).toEqual([1, 1, 1, 1, 2, 2, 3, 4]);
  });

  it('a drop decreases; an app-limited sample does not grow', () => {
    expect(
      trajectory(small(), [
        [10, 10],
        [10, 4],
        [10, 10, true],
      ]),
    ).toEqual([10, 10, 9]);
  });

  it('re-probes the no-load RTT after probeMultiplier x limit x jitter samples (jitter in [0.5, 1))', () => {
    const v = vegas({ initialLimit: 1, maxLimit: 1, probeMultiplier: 4 });
    v.onSample(0, 10, 1, false);
    expect(v.noLoadRtt).toBe(10);
    // Between 2 and 4 samples later (4 x 1 x jitter), a 30 ms sample becomes the no-load RTT.
    let probedAt = 0;
    for (let i = 1; i <= 4 && probedAt === 0; i++) {
      v.onSample(0, 30, 1, false);
      if (v.noLoadRtt === 30) probedAt = i;
    }
    expect(probedAt).toBeGreaterThanOrEqual(1);
    expect(probedAt).toBeLessThanOrEqual(4);
  });

  it('needs a random stream', () => {
    expect(() => new VegasLimit({} as never)).toThrow(/rng must be a random stream/);
  });
});

describe('WindowedLimit (concurrency-limits WindowedLimit, average window)', () => {
  /** A limit that records what it is fed. */
  function recorder() {
    const seen: [number, number, number, boolean][] = [];
    const limit: ConcurrencyLimit = {
      kind: 'recorder',
      limit: 7,
      onSample: (start, rtt, inflight, drop) => seen.push([start, rtt, inflight, drop]),
    };
    return { limit, seen };
  }

  it('passes one sample per window: mean RTT, largest inflight, any drop', () => {
    const { limit, seen } = recorder();
    const w = new WindowedLimit(limit, { minWindowTime: 100, maxWindowTime: 100 });
    // The first sample closes the initial window (it ends at 0) with 1 sample: not passed on. The next
    // window ends 5 + min(max(2 x 5, 100), 100) = 105.
    w.onSample(0, 5, 1, false);
    expect(seen).toEqual([]);
    for (let i = 0; i < 10; i++) w.onSample(10 + i, 2 + i, i + 1, i === 3); // end by 30
    w.onSample(100, 0.05, 99, true); // below minRttThreshold: ignored altogether
    expect(seen).toEqual([]);
    w.onSample(100, 20, 4, false); // ends at 120 > 105: the window closes with 11 samples
    expect(seen).toHaveLength(1);
    const [start, rtt, inflight, drop] = seen[0]!;
    expect(start).toBe(100);
    expect(rtt).toBeCloseTo((2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 20) / 11, 12);
    expect(inflight).toBe(10);
    expect(drop).toBe(true);
    expect(w.limit).toBe(7);
    expect(w.kind).toBe('windowed(recorder)');
  });

  it('discards a window with fewer than windowSize samples', () => {
    const { limit, seen } = recorder();
    const w = new WindowedLimit(limit, { minWindowTime: 100, maxWindowTime: 100, windowSize: 20 });
    w.onSample(0, 5, 1, false);
    for (let i = 0; i < 15; i++) w.onSample(10, 5, 1, false);
    w.onSample(200, 5, 1, false);
    expect(seen).toEqual([]);
    expect(w.windows).toBe(0);
  });

  it('a window lasts 2 x its minimum RTT when that is between min and max window time', () => {
    const { limit, seen } = recorder();
    const w = new WindowedLimit(limit, { minWindowTime: 100, maxWindowTime: 1000 });
    w.onSample(0, 300, 1, false); // closes at once; next window ends 300 + 600 = 900
    for (let i = 0; i < 10; i++) w.onSample(500, 300, 1, false); // end at 800
    expect(seen).toHaveLength(0);
    w.onSample(601, 300, 1, false); // ends 901
    expect(seen).toHaveLength(1);
  });

  it("enforces the library's bounds on its options", () => {
    const fixed = new FixedLimit(3);
    expect(() => new WindowedLimit(fixed, { minWindowTime: 50 })).toThrow(
      /minWindowTime must be a duration >= 100 ms/,
    );
    expect(() => new WindowedLimit(fixed, { windowSize: 5 })).toThrow(/windowSize must be an integer >= 10/);
    expect(() => new WindowedLimit(fixed, { minWindowTime: 500, maxWindowTime: 200 })).toThrow(
      /maxWindowTime/,
    );
    expect(() => new WindowedLimit({} as never)).toThrow(/delegate must be a ConcurrencyLimit/);
  });
});
