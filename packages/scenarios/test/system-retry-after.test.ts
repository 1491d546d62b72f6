import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { compileSystem } from '../src/system/compile.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { SystemError, validateSystem } from '../src/system/validate.js';
import { figure } from './support/figures.js';

const BACKOFF = { kind: 'exponential', baseMs: 10, capMs: 100, jitter: 'full' } as const;
const HINT_MS = 200;

/**
 * `users` closed-loop users (think time exponential, mean 100 ms) retrying up to 3 times with a 10 to
 * 100 ms full-jitter backoff, against 4 workers of 10 ms behind a fixed concurrency limit of 4 that
 * advertises Retry-After 200 ms on every refusal.
 */
const overloaded = (retryAfter: string | undefined, users = 100): SystemDescription =>
  ({
    nodes: {
      users: {
        kind: 'clients',
        target: 'api',
        workload: { kind: 'closed', users, thinkTime: { exponential: { mean: 100 } } },
        until: '20s',
        retries: 3,
        backoff: BACKOFF,
        ...(retryAfter === undefined ? {} : { retryAfter }),
      },
      api: {
        kind: 'service',
        concurrency: 4,
        serviceTime: { exponential: { mean: 10 } },
        concurrencyLimit: { limit: 'fixed', max: 4, retryAfter: `${HINT_MS}ms` },
      },
    },
  }) as unknown as SystemDescription;

const PHASE = { steady: ['5s', '20s'] } as const;

const run = (s: SystemDescription, seed: number) =>
  runScenario(
    defineSystemScenario({ name: 'retry-after', description: 'retry-after', system: s, phases: PHASE }),
    {
      seed,
    },
  );

describe('Retry-After in descriptions', () => {
  // Measured (seeds 1 to 3): plain backoff sends about 2000 attempts/s to api, 81 % refused, and 57 %
  // of requests succeed; honouring the 200 ms hint sends about 660/s, 52 % refused, 90 % succeed. The
  // users pause instead of hammering: a closed population's attempt rate falls with its cycle time.
  it('honouring Retry-After cuts the attempts an overloaded service gets', () => {
    for (const seed of [1, 2, 3]) {
      const plain = run(overloaded(undefined), seed).outcome;
      for (const mode of ['at-least', 'pushback']) {
        const honoured = run(overloaded(mode), seed).outcome;
        const attempts = figure(honoured, 'users->api.steady.rate');
        expect(attempts, mode).toBeLessThan(0.4 * figure(plain, 'users->api.steady.rate'));
        expect(figure(honoured, 'users->api.steady.errorRate')).toBeLessThan(
          figure(plain, 'users->api.steady.errorRate') - 0.2,
        );
        expect(figure(honoured, 'users.steady.availability')).toBeGreaterThan(
          figure(plain, 'users.steady.availability') + 0.25,
        );
        // Every refusal on the edge is one of the limit's: nothing lost or double-counted.
        expect(figure(honoured, 'users->api.steady.errors.overloaded')).toBe(
          figure(honoured, 'api.steady.limitRefused'),
        );
      }
      expect(figure(plain, 'users->api.steady.errors.overloaded')).toBe(
        figure(plain, 'api.steady.limitRefused'),
      );
    }
  });

  /**
   * One closed-loop user (`probe`) beside an open load that keeps the limit full: its attempts are
   * sequential, so the pause after a refusal is the next attempt's start minus the refusal's arrival.
   */
  const pauses = (retryAfter: string | undefined, seed: number): number[] => {
    const s = overloaded(undefined) as unknown as { nodes: Record<string, unknown> };
    s.nodes.users = {
      kind: 'clients',
      target: 'api',
      workload: { kind: 'open', rate: 600 },
      until: '20s',
    };
    s.nodes.probe = {
      kind: 'clients',
      target: 'api',
      workload: { kind: 'closed', users: 1, thinkTime: 5 },
      until: '20s',
      retries: 3,
      backoff: BACKOFF,
      ...(retryAfter === undefined ? {} : { retryAfter }),
    };
    const calls: { start: number; end: number; ok: boolean }[] = [];
    const sim = new Simulation({ seed });
    compileSystem(sim, s, {
      onEdge: (from, _to, start, ok, _kind, latency) => {
        if (from === 'probe') calls.push({ start, end: start + latency, ok });
      },
    });
    sim.run();
    calls.sort((a, b) => a.start - b.start);
    const out: number[] = [];
    // A refused attempt followed by another is a retry (a 4th refusal ends the request: the next call
    // starts after the 5 ms think time, told apart because it follows 3 refusals in a row).
    let refusedInRow = 0;
    for (let i = 0; i + 1 < calls.length; i++) {
      refusedInRow = calls[i]!.ok ? 0 : refusedInRow + 1;
      if (!calls[i]!.ok && refusedInRow < 4) out.push(calls[i + 1]!.start - calls[i]!.end);
      if (refusedInRow === 4) refusedInRow = 0;
    }
    return out;
  };

  it('the pause before a retry is the advertised delay', () => {
    for (const seed of [1, 2]) {
      for (const mode of ['at-least', 'pushback']) {
        const p = pauses(mode, seed);
        expect(p.length, mode).toBeGreaterThan(50);
        // Both wait the hint: at-least's backoff (at most 100 ms) never exceeds it.
        for (const gap of p) expect(gap).toBeCloseTo(HINT_MS, 6);
      }
      // Ignoring the hint, the pause is the backoff's: full jitter below its 100 ms cap. A model that
      // applied the hint regardless would be caught here.
      const plain = pauses('ignore', seed);
      expect(plain.length).toBeGreaterThan(50);
      for (const gap of plain) expect(gap).toBeLessThanOrEqual(100);
    }
  });

  // A token bucket of 1 refilled 5 times a second: a refusal's hint is the time until the next token,
  // so a retry at the hint finds it (one user, nobody else takes it). Retrying after a fixed 10 ms instead
  // runs out of retries before the token comes back.
  const bucket = (retryAfter: string) =>
    ({
      nodes: {
        user: {
          kind: 'clients',
          target: 'api',
          workload: { kind: 'closed', users: 1, thinkTime: 1 },
          until: '20s',
          retries: 3,
          retryOn: ['rejected'],
          backoff: { kind: 'fixed', delayMs: 10 },
          retryAfter,
        },
        api: {
          kind: 'service',
          concurrency: 1,
          serviceTime: 1,
          rateLimit: { kind: 'token-bucket', capacity: 1, refillPerSecond: 5 },
        },
      },
    }) as unknown as SystemDescription;

  it("a rate limit's hint is exact: a retry at the hint is admitted", () => {
    const o = run(bucket('pushback'), 1).outcome;
    // Every request succeeds on its first retry at the latest: one token per 200 ms, 5 requests a second.
    expect(figure(o, 'user.steady.availability')).toBe(1);
    expect(figure(o, 'user.steady.rate')).toBeCloseTo(5, 1);
    expect(figure(o, 'user->api.steady.rate')).toBeCloseTo(10, 0);
    const plain = run(bucket('ignore'), 1).outcome;
    // Ignored: 4 attempts in 30 ms, then the request fails and the next one starts 1 ms later.
    expect(figure(plain, 'user.steady.availability')).toBeLessThan(0.2);
    expect(figure(plain, 'user->api.steady.rate')).toBeGreaterThan(100);
  });

  it('gives the same digest for the same seed, another for another seed', () => {
    const s = overloaded('at-least', 40);
    const a = run(s, 7);
    expect(run(s, 7).digest).toBe(a.digest);
    expect(run(s, 7).outcome).toEqual(a.outcome);
    expect(run(s, 8).digest).not.toBe(a.digest);
  });

  it('validation names the path, the value and what is allowed', () => {
    const message = (users: Record<string, unknown>, limit: Record<string, unknown> = {}) => {
      const s = overloaded(undefined) as unknown as { nodes: Record<string, Record<string, unknown>> };
      Object.assign(s.nodes.users!, users);
      Object.assign(s.nodes.api!.concurrencyLimit as object, limit);
      try {
        validateSystem(s);
      } catch (e) {
        if (e instanceof SystemError) return e.message;
        throw e;
      }
      return 'valid';
    };
    expect(message({ retryAfter: 'pushback' })).toBe('valid');
    expect(message({ retryAfter: 'atleast' })).toMatch(
      /nodes\.users\.retryAfter: .*"ignore"\|"at-least"\|"pushback", got "atleast" \(did you mean "at-least"\?\)/,
    );
    expect(message({ retries: undefined, retryAfter: 'pushback' })).toMatch(
      /nodes\.users\.retryAfter: has no effect without `retries`/,
    );
    expect(message({}, { retryAfter: -5 })).toMatch(/nodes\.api\.concurrencyLimit\.retryAfter: .*got -5/);
    expect(message({}, { retryAftr: '1s' })).toMatch(
      /nodes\.api\.concurrencyLimit\.retryAftr: unknown key \(did you mean "retryAfter"\?\)/,
    );
  });

  it('a downstream call honours the hint too', () => {
    const s = {
      nodes: {
        users: { kind: 'clients', target: 'front', workload: { kind: 'open', rate: 600 }, until: '20s' },
        front: {
          kind: 'service',
          concurrency: 1000,
          serviceTime: 0,
          downstream: [{ to: 'api', retries: 3, backoff: BACKOFF, retryAfter: 'pushback' }],
        },
        api: {
          kind: 'service',
          concurrency: 4,
          serviceTime: { exponential: { mean: 10 } },
          concurrencyLimit: { limit: 'fixed', max: 4, retryAfter: `${HINT_MS}ms` },
        },
      },
    } as unknown as SystemDescription;
    const o = run(s, 1).outcome;
    // A request that got a refusal waited 200 ms per retry: the slowest (three refusals) take 600 ms.
    expect(figure(o, 'users.steady.p99')).toBeGreaterThan(3 * HINT_MS);
    expect(figure(o, 'front->api.steady.errors.overloaded')).toBe(figure(o, 'api.steady.limitRefused'));
    const plain = run(
      {
        ...s,
        nodes: {
          ...s.nodes,
          front: { ...s.nodes.front!, downstream: [{ to: 'api', retries: 3, backoff: BACKOFF }] },
        },
      } as SystemDescription,
      1,
    ).outcome;
    expect(figure(plain, 'users.steady.p99')).toBeLessThan(3 * HINT_MS);
  });
});
