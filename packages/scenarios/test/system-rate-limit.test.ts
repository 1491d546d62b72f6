import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { SystemError, validateSystem } from '../src/system/validate.js';

/** 150/s offered to two api replicas behind a balancer, each limited on its own. */
const limited = (rateLimit: unknown): SystemDescription =>
  ({
    nodes: {
      users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: 150 }, until: '60s' },
      lb: { kind: 'balancer', backends: ['api'] },
      api: {
        kind: 'service',
        replicas: 2,
        concurrency: 32,
        serviceTime: { exponential: { mean: 5 } },
        rateLimit,
      },
    },
  }) as SystemDescription;

const run = (rateLimit: unknown) =>
  runScenario(
    defineSystemScenario({
      name: 'limited',
      description: 'rate limited',
      system: limited(rateLimit),
      phases: { steady: ['10s', '60s'] },
    }),
    { seed: 2 },
  ).outcome;

describe('rate limits in descriptions', () => {
  // Each replica gets 75/s and admits 50/s in the long run: the refill rate bounds what passes.
  for (const [name, spec] of [
    ['token bucket', { kind: 'token-bucket', capacity: 10, refillPerSecond: 50 }],
    ['GCRA', { kind: 'gcra', ratePerSecond: 50, burst: 9 }],
    ['sliding log', { kind: 'sliding-log', limit: 50, windowMs: 1000 }],
  ] as const)
    it(`${name}: admitted at the limit, the rest refused with 429 and counted`, () => {
      const o = run(spec);
      const offered = o['api.steady.rate'] as number;
      const throttled = o['api.steady.throttled'] as number;
      expect(offered).toBeGreaterThan(140);
      expect(offered).toBeLessThan(160);
      // Two replicas × 50/s admitted: everything above that is refused.
      expect(Math.abs(offered - throttled - 100) / 100).toBeLessThan(0.03);
      expect(o['api.steady.goodput'] as number).toBeCloseTo(offered - throttled, 0);
      // The clients see the refusals as `rejected`, and so does the balancer's edge.
      expect(o['users.steady.errors.rejected'] as number).toBeCloseTo(throttled * 50, -2);
      expect(o['lb->api.steady.errors.rejected'] as number).toBe(o['users.steady.errors.rejected']);
      expect(o['users.steady.availability'] as number).toBeCloseTo(100 / offered, 1);
    });

  it('a shaping leaky bucket delays instead of refusing', () => {
    const o = run({ kind: 'leaky-bucket-queue', capacity: 1000, leakPerSecond: 80 });
    // 75/s per replica under an 80/s leak: nothing refused, every request admitted.
    expect(o['api.steady.throttled']).toBe(0);
    expect(o['users.steady.availability']).toBe(1);
  });

  it('validation names the path', () => {
    const message = (rateLimit: unknown) => {
      try {
        validateSystem(limited(rateLimit));
      } catch (e) {
        if (e instanceof SystemError) return e.message;
        throw e;
      }
      return 'valid';
    };
    expect(message({ kind: 'token-buckett', capacity: 1, refillPerSecond: 1 })).toMatch(
      /nodes\.api\.rateLimit\.kind/,
    );
    expect(message({ kind: 'token-bucket', capacity: 0, refillPerSecond: 1 })).toMatch(
      /nodes\.api\.rateLimit\.capacity: .*got 0/,
    );
    expect(message({ kind: 'gcra', ratePerSecond: 5, burst: 1, extra: 1 })).toMatch(
      /nodes\.api\.rateLimit\.extra: unknown key/,
    );
  });
});
