import {
  compareLimiters,
  createRateLimiter,
  RATE_LIMITER_KINDS,
  type RateLimiterKind,
  type RateLimiterSpec,
} from '@dsim/components';
import { exponential } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario } from '../scenario.js';

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

/** Most admissions (released requests) in any window of `windowMs` starting at an admission. */
function peakInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  return peak;
}

/**
 * `rate-limiting`: every rate-limiting algorithm on the same bursty arrival list (common random numbers:
 * each variant draws the same arrivals). Background Poisson traffic below the limit, plus a burst of
 * `burstSize` requests at the start of every `burstEvery` seconds. Reports admitted, rejected, delayed,
 * the longest delay and the most requests let through in any one-second window.
 */
export const rateLimiting = defineScenario({
  name: 'rate-limiting',
  description: 'All rate-limiting algorithms on the same bursty arrivals: admitted, rejected, delayed',
  params: {
    rate: param.integer({ default: 10, min: 1, description: 'allowed requests per second' }),
    burst: param.integer({
      default: 20,
      min: 1,
      description: 'bucket capacity / queue slots for the bucket algorithms',
    }),
    background: param.number({ default: 6, min: 0, description: 'background Poisson arrivals per second' }),
    burstSize: param.integer({ default: 40, min: 0, description: 'requests in each burst' }),
    burstEvery: param.number({ default: 10, min: 0.001, description: 'seconds between bursts' }),
    seconds: param.number({ default: 60, min: 1, description: 'length of the arrival list' }),
    algorithm: param.enum(KINDS, {
      default: 'token-bucket',
      description: 'algorithm (each variant sets it)',
    }),
  },
  variants: KINDS.map((kind) => ({ name: kind, params: { algorithm: kind } })),
  run({ sim, params, requests, check }) {
    const horizon = params.seconds * 1000;
    const rng = sim.rng('rate-limiting/arrivals');
    const arrivals: number[] = [];
    if (params.background > 0) {
      const gaps = exponential({ rate: params.background / 1000 });
      for (let t = gaps.sample(rng); t < horizon; t += gaps.sample(rng)) arrivals.push(t);
    }
    for (let t = 0; t < horizon; t += params.burstEvery * 1000)
      for (let i = 0; i < params.burstSize; i++) arrivals.push(t);
    arrivals.sort((a, b) => a - b);
    const limiter = createRateLimiter(spec(params.algorithm, params.rate, params.burst));
    const result = compareLimiters(arrivals, { [params.algorithm]: limiter })[params.algorithm]!;
    // Each arrival is a request: admitted ones succeed, rejected ones fail (latency 0: a limiter answers at once).
    for (let k = 0; k < arrivals.length; k++) requests.start();
    const peak = peakInWindow(result.admittedTimes, 1000);
    for (let k = 0; k < result.admitted; k++) requests.finish(true, 0);
    for (let k = 0; k < result.rejected; k++) requests.finish(false, 0);
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
    return {
      arrivals: arrivals.length,
      admitted: result.admitted,
      rejected: result.rejected,
      delayed: result.delayed,
      maxDelayMs: result.maxDelayMs,
      peakPerSecond: peak,
    };
  },
});
