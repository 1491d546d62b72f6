import {
  createRateLimiter,
  RATE_LIMITER_KINDS,
  type RateLimiterKind,
  type RateLimiterSpec,
} from '@dsim/components';
import { exponential } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario } from '../scenario.js';
import { MAX_RATE, MAX_SECONDS } from './limits.js';

const KINDS = RATE_LIMITER_KINDS;
type Kind = RateLimiterKind;

/** Every algorithm tuned to the same nominal rate and burst. */
function spec(kind: Kind, rate: number, burst: number): RateLimiterSpec {
  switch (kind) {
    case 'token-bucket':
      return { kind, capacity: burst, refillPerSecond: rate };
    case 'leaky-bucket-meter':
      return { kind, capacity: burst, leakPerSecond: rate };
    case 'leaky-bucket-queue':
      return { kind, capacity: burst, leakPerSecond: rate };
    case 'fixed-window':
      return { kind, limit: rate, windowMs: 1000 };
    case 'sliding-log':
      return { kind, limit: rate, windowMs: 1000 };
    case 'sliding-window-counter':
      return { kind, limit: rate, windowMs: 1000 };
    case 'gcra':
      return { kind, ratePerSecond: rate, burst: burst - 1 };
  }
}

/**
 * Most releases in any window of `windowMs` that ends at a release, kept as the releases come (in time
 * order): it holds only the last window's times, not the run's.
 */
class SlidingPeak {
  private readonly times: number[] = [];
  private head = 0;
  /** The largest count seen so far. */
  peak = 0;

  constructor(private readonly windowMs: number) {}

  add(t: number): void {
    this.times.push(t);
    while (t - this.times[this.head]! >= this.windowMs) this.head++;
    this.peak = Math.max(this.peak, this.times.length - this.head);
    // Drop the expired prefix now and then, so the array stays about one window long.
    if (this.head > 1024 && 2 * this.head > this.times.length) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
  }
}

/**
 * `rate-limiting`: every rate-limiting algorithm on the same bursty arrivals (common random numbers: each
 * variant draws the same arrivals). Background Poisson traffic below the limit, plus a burst of
 * `burstSize` requests at the start of every `burstEvery` seconds. Reports admitted, rejected, delayed,
 * the longest delay and the most requests let through in any one-second window. Arrivals, and the
 * release of requests the queue delays, are simulation events; a delayed request's latency is its delay.
 * Nothing is kept per request, so memory does not grow with the run.
 *
 * @example
 * ```ts
 * const result = runScenario(rateLimiting, { seed: 1 });
 * result.variants.map((v) => [v.name, v.outcome.admitted, v.outcome.peakPerSecond]);
 * ```
 */
export const rateLimiting = defineScenario({
  name: 'rate-limiting',
  description: 'All rate-limiting algorithms on the same bursty arrivals: admitted, rejected, delayed',
  params: {
    rate: param.integer({
      default: 10,
      min: 1,
      max: MAX_RATE,
      description: 'allowed requests per second',
    }),
    // Each queue slot is a delayed request waiting for its release event.
    burst: param.integer({
      default: 20,
      min: 1,
      max: 1_000_000,
      description: 'bucket capacity / queue slots for the bucket algorithms',
    }),
    background: param.number({
      default: 6,
      min: 0,
      max: MAX_RATE,
      description: 'background Poisson arrivals per second',
    }),
    burstSize: param.integer({
      default: 40,
      min: 0,
      max: 1_000_000,
      description: 'requests in each burst',
    }),
    burstEvery: param.number({
      default: 10,
      min: 0.001,
      max: MAX_SECONDS,
      description: 'seconds between bursts',
    }),
    seconds: param.number({
      default: 60,
      min: 1,
      max: MAX_SECONDS,
      description: 'length of the arrivals',
    }),
    algorithm: param.enum(KINDS, {
      default: 'token-bucket',
      description: 'algorithm (each variant sets it)',
    }),
  },
  variants: KINDS.map((kind) => ({ name: kind, params: { algorithm: kind } })),
  run({ sim, params, requests, check }) {
    const horizon = params.seconds * 1000;
    const limiter = createRateLimiter(spec(params.algorithm, params.rate, params.burst));
    const released = new SlidingPeak(1000);
    let arrivals = 0;
    let admitted = 0;
    let rejected = 0;
    let delayed = 0;
    let maxDelayMs = 0;
    // Each arrival is a request: the limiter decides at once; an admitted one succeeds when it is released
    // (at once, or after the queue's delay: its latency), a rejected one fails at once.
    const release = (delayMs: number): void => {
      released.add(sim.now);
      requests.finish(true, delayMs);
    };
    const arrive = (): void => {
      arrivals++;
      requests.start();
      const decision = limiter.tryAcquire(sim.now);
      if (!decision.allowed) {
        rejected++;
        requests.finish(false, 0);
        return;
      }
      admitted++;
      const delayMs = decision.delayMs;
      if (delayMs <= 0) {
        release(0);
        return;
      }
      delayed++;
      maxDelayMs = Math.max(maxDelayMs, delayMs);
      sim.schedule(delayMs, () => release(delayMs));
    };
    // Arrivals are events, so the run's digest follows them and the limiter's delays. Every variant draws
    // the same background gaps from the same stream: common random numbers.
    if (params.background > 0) {
      const gaps = exponential({ rate: params.background / 1000 });
      const rng = sim.rng('rate-limiting/arrivals');
      const next = (): void => {
        arrive();
        const gap = gaps.sample(rng);
        if (sim.now + gap < horizon) sim.schedule(gap, next);
      };
      const first = gaps.sample(rng);
      if (first < horizon) sim.schedule(first, next);
    }
    if (params.burstSize > 0) {
      const every = params.burstEvery * 1000;
      const burst = (): void => {
        for (let i = 0; i < params.burstSize; i++) arrive();
        if (sim.now + every < horizon) sim.schedule(every, burst);
      };
      sim.schedule(0, burst);
    }
    sim.run();
    const peak = released.peak;
    if (params.algorithm === 'sliding-log') {
      check(
        'sliding log never lets more than `rate` through in any second',
        peak <= params.rate,
        `peak ${peak} in 1 s, limit ${params.rate}`,
      );
    }
    if (params.algorithm === 'fixed-window') {
      check(
        'fixed window can let up to 2 x rate through across a window edge',
        peak <= 2 * params.rate,
        `peak ${peak} in 1 s, limit ${params.rate}`,
      );
    }
    if (
      params.algorithm === 'token-bucket' ||
      params.algorithm === 'gcra' ||
      params.algorithm === 'leaky-bucket-meter'
    ) {
      check(
        'bucket algorithms let at most burst + rate through in any second',
        peak <= params.burst + params.rate,
        `peak ${peak} in 1 s, bound ${params.burst + params.rate}`,
      );
    }
    return { arrivals, admitted, rejected, delayed, maxDelayMs, peakPerSecond: peak };
  },
});
