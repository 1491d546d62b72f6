import { exponential, Network, RpcEndpoint, type RpcRequest, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import {
  type ClientResponse,
  RetryingClient,
  type RetryingClientOptions,
} from '../src/client/retrying-client.js';
import { ConcurrencyLimiter } from '../src/resilience/adaptive/concurrency-limiter.js';
import { ConcurrencyLimitProxy } from '../src/resilience/adaptive/limit-proxy.js';
import { TokenBucket } from '../src/resilience/rate-limiters/token-bucket.js';
import { Service } from '../src/service/service.js';

/**
 * A server that refuses the first `refusals` attempts of every call with `overloaded` and a retry-after
 * hint of `hintMs`, then answers ok; returns the send times of each call's attempts.
 */
function hinted(options: RetryingClientOptions, hintMs: number, refusals = 1, seed = 1, calls = 1) {
  const sim = new Simulation({ seed });
  const net = new Network(sim, { defaults: { latency: exponential({ mean: 1 }) } });
  const seen = new Map<unknown, number>();
  const sends = new Map<unknown, number[]>();
  new RpcEndpoint(net.addNode('server')).serve((request: RpcRequest, reply) => {
    const n = (seen.get(request.payload) ?? 0) + 1;
    seen.set(request.payload, n);
    sends.get(request.payload)!.push(request.sentAt);
    if (n <= refusals) reply.error('overloaded', 'busy', { retryAfter: hintMs });
    else reply.ok('done');
  });
  const client = new RetryingClient(new RpcEndpoint(net.addNode('app')), options);
  const responses: ClientResponse[] = [];
  for (let i = 0; i < calls; i++) {
    sends.set(i, []);
    sim.schedule(i * 7, () => client.call('server', i).onProcessed((e) => responses.push(e.value!)));
  }
  sim.run();
  return { responses, sends: [...sends.values()], client };
}

describe('retry-after hints', () => {
  it('travel on the error: error.retryAfterMs', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    new RpcEndpoint(net.addNode('s')).serve((_r, reply) =>
      reply.error('overloaded', 'busy', { retryAfter: '1.5s' }),
    );
    const c = new RpcEndpoint(net.addNode('c'));
    let hint: number | undefined;
    c.call('s', null).onProcessed((e) => {
      const res = e.value!;
      if (!res.ok) hint = res.error.retryAfterMs;
    });
    sim.run();
    expect(hint).toBe(1500);
  });

  it('are checked: unknown keys and non-durations are errors', () => {
    const sim = new Simulation();
    const net = new Network(sim);
    const errors: unknown[] = [];
    new RpcEndpoint(net.addNode('s')).serve((_r, reply) => {
      try {
        reply.error('overloaded', 'x', { retryAftr: 5 } as never);
      } catch (e) {
        errors.push(e);
      }
      try {
        reply.error('overloaded', 'x', { retryAfter: -1 });
      } catch (e) {
        errors.push(e);
      }
      reply.error('overloaded');
    });
    new RpcEndpoint(net.addNode('c')).call('s', null);
    sim.run();
    expect(String(errors[0])).toMatch(/did you mean "retryAfter"/);
    expect(String(errors[1])).toMatch(/retryAfter must be a finite number of milliseconds >= 0/);
  });

  it("'at-least': the retry is never sent before the hint, whatever the (jittered) backoff draws", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { responses, sends } = hinted(
        {
          maxAttempts: 4,
          backoff: { kind: 'exponential', baseMs: 50, capMs: 400, jitter: 'full' },
          retryAfter: 'at-least',
        },
        120,
        3,
        seed,
        40,
      );
      expect(responses.every((r) => r.ok && r.attempts === 4)).toBe(true);
      for (const times of sends) {
        for (let i = 1; i < times.length; i++) {
          // The answer reached the client at least a network hop after the previous attempt was sent.
          expect(times[i]! - times[i - 1]!, `seed ${seed}`).toBeGreaterThanOrEqual(120);
        }
      }
    }
  });

  it("'ignore' retries after the backoff alone, 'pushback' after exactly the hint", () => {
    const gap = (retryAfter: 'ignore' | 'pushback' | 'at-least', hint: number) => {
      const sim = new Simulation();
      const net = new Network(sim);
      const sent: number[] = [];
      new RpcEndpoint(net.addNode('server')).serve((request, reply) => {
        sent.push(request.sentAt);
        if (sent.length === 1) reply.error('overloaded', 'busy', { retryAfter: hint });
        else reply.ok(null);
      });
      const client = new RetryingClient(new RpcEndpoint(net.addNode('app')), {
        maxAttempts: 2,
        backoff: { kind: 'fixed', delayMs: 30 },
        retryAfter,
      });
      client.call('server', null);
      sim.run();
      return sent[1]! - sent[0]!;
    };
    expect(gap('ignore', 500)).toBe(30);
    expect(gap('at-least', 500)).toBe(500);
    expect(gap('at-least', 10)).toBe(30);
    expect(gap('pushback', 500)).toBe(500);
    expect(gap('pushback', 10)).toBe(10);
  });

  it('a hint that would end past the deadline gives up with reason deadline', () => {
    const { responses } = hinted({ maxAttempts: 3, totalTimeout: 300, retryAfter: 'at-least' }, 1000);
    expect(responses[0]).toMatchObject({ ok: false, reason: 'deadline', attempts: 1 });
    expect(
      () =>
        new RetryingClient(new RpcEndpoint(new Network(new Simulation()).addNode('x')), {
          retryAfter: 'always',
        } as never),
    ).toThrow(/retryAfter must be one of "ignore", "at-least", "pushback"/);
  });

  it("a Service's rate limiter puts its retry-after on the 429, and a client that honours it gets through", () => {
    const sim = new Simulation();
    const net = new Network(sim);
    // One token, refilled every 100 ms.
    new Service(net.addNode('api'), {
      serviceTime: 1,
      rateLimit: new TokenBucket({ capacity: 1, refillPerSecond: 10 }),
    });
    const client = new RetryingClient(new RpcEndpoint(net.addNode('app')), {
      maxAttempts: 3,
      retryOn: ['rejected'],
      retryAfter: 'at-least',
    });
    const responses: ClientResponse[] = [];
    const hints: (number | undefined)[] = [];
    const plain = new RpcEndpoint(net.addNode('probe'));
    sim.schedule(0, () => {
      client.call('api', 1).onProcessed((e) => responses.push(e.value!));
      client.call('api', 2).onProcessed((e) => responses.push(e.value!));
      plain.call('api', 3).onProcessed((e) => {
        const res = e.value!;
        if (!res.ok) hints.push(res.error.retryAfterMs);
      });
    });
    sim.run();
    expect(hints[0]).toBeGreaterThan(0);
    expect(hints[0]).toBeLessThanOrEqual(100);
    expect(responses.every((r) => r.ok)).toBe(true);
    expect(responses.map((r) => r.attempts).sort()).toEqual([1, 2]);
  });

  it("a ConcurrencyLimitProxy's refusals carry its retryAfter", () => {
    const sim = new Simulation();
    const net = new Network(sim);
    new Service(net.addNode('api'), { serviceTime: 50 });
    new ConcurrencyLimitProxy(net.addNode('gate'), {
      upstream: 'api',
      limiter: new ConcurrencyLimiter({ limit: 1 }),
      retryAfter: '80ms',
    });
    const c = new RpcEndpoint(net.addNode('c'));
    const kinds: string[] = [];
    const hints: (number | undefined)[] = [];
    for (let i = 0; i < 2; i++)
      c.call('gate', i).onProcessed((e) => {
        const res = e.value!;
        kinds.push(res.ok ? 'ok' : res.error.kind);
        if (!res.ok) hints.push(res.error.retryAfterMs);
      });
    sim.run();
    expect(kinds).toEqual(['overloaded', 'ok']);
    expect(hints).toEqual([80]);
  });
});
