import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { rateLimiting, runScenario } from '../src/index.js';

describe('rate-limiting scenario', () => {
  it.each([1, 2, 3])('seed %i: same arrivals for every algorithm, documented bounds hold', (seed) => {
    const r = runScenario(rateLimiting, { seed });
    expect(r).toPassChecks();
    const by = Object.fromEntries(r.variants.map((v) => [v.name, v.outcome as Record<string, number>]));
    const arrivals = new Set(r.variants.map((v) => v.outcome.arrivals));
    expect(arrivals.size).toBe(1); // common random numbers: every variant saw the same list
    // Equivalent algorithms decide alike: token bucket = leaky-bucket meter = GCRA with burst - 1.
    expect(by['leaky-bucket-meter']!.admitted).toBe(by['token-bucket']!.admitted);
    expect(by.gcra!.admitted).toBe(by['token-bucket']!.admitted);
    // The queue admits like the meter but smooths the output to about the rate.
    expect(by['leaky-bucket-queue']!.admitted).toBe(by['leaky-bucket-meter']!.admitted);
    expect(by['leaky-bucket-queue']!.peakPerSecond).toBeLessThanOrEqual(11);
    for (const v of r.variants) expect(v.metrics.ok + v.metrics.failed).toBe(v.outcome.arrivals);
    // A request's latency is the limiter's delay: only the queue delays, by up to maxDelayMs.
    const queue = r.variants.find((v) => v.name === 'leaky-bucket-queue')!;
    expect(queue.outcome.maxDelayMs).toBeGreaterThan(0);
    expect(queue.metrics.latencyMs.max).toBe(queue.outcome.maxDelayMs);
    expect(r.variants.find((v) => v.name === 'token-bucket')!.metrics.latencyMs.max).toBe(0);
  });
});
