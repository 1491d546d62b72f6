import { DsimError, exponential, Network, RpcEndpoint, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { RatioRetryBudget } from '../src/client/ratio-budget.js';
import { RetryingClient, type RetryingClientOptions } from '../src/client/retrying-client.js';
import { type BackoffSpec, createBackoff } from '../src/resilience/backoff.js';
import { SemaphoreBulkhead, ThreadPoolBulkhead } from '../src/resilience/bulkhead.js';
import { CircuitBreaker, type CircuitBreakerConfig } from '../src/resilience/circuit-breaker.js';
import { createRateLimiter, type RateLimiterSpec } from '../src/resilience/rate-limiters/factory.js';
import { FixedWindow } from '../src/resilience/rate-limiters/fixed-window.js';
import { Gcra } from '../src/resilience/rate-limiters/gcra.js';
import { LeakyBucketMeter } from '../src/resilience/rate-limiters/leaky-bucket-meter.js';
import { LeakyBucketQueue } from '../src/resilience/rate-limiters/leaky-bucket-queue.js';
import { SlidingLog } from '../src/resilience/rate-limiters/sliding-log.js';
import { SlidingWindowCounter } from '../src/resilience/rate-limiters/sliding-window-counter.js';
import { TokenBucket } from '../src/resilience/rate-limiters/token-bucket.js';
import { AdaptiveThrottle, EnvoyRetryBudget, RetryQuota } from '../src/resilience/retry-budget.js';
import { ConnectionPool } from '../src/service/connection-pool.js';
import { Service } from '../src/service/service.js';
import type { ServiceOptions } from '../src/service/service-options.js';
import { loadSlowdown } from '../src/service/slowdown.js';
import { type ArrivalSpec, createArrivals } from '../src/workload/arrivals.js';
import { closedLoop } from '../src/workload/closed-loop.js';
import { createKeys, createMix, type KeySpec } from '../src/workload/keys.js';
import { openLoop } from '../src/workload/open-loop.js';

// Every option-taking constructor and function of services, clients, resilience and workloads rejects a
// misspelt key (naming the component, the key and the closest known key) and a bad value (naming the
// component, the field, the value and what is allowed), at construction.

/** The error `fn` throws; fails the test if it throws nothing or something other than a DsimError. */
function caught(fn: () => unknown): DsimError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DsimError);
    return error as DsimError;
  }
  throw new Error('expected an error, got none');
}

const anyOptions = (x: unknown) => x as never;

function service(options: unknown): Service {
  const sim = new Simulation();
  return new Service(new Network(sim).addNode('svc'), options as ServiceOptions);
}

function client(options: unknown): RetryingClient {
  const sim = new Simulation();
  return new RetryingClient(
    new RpcEndpoint(new Network(sim).addNode('app')),
    options as RetryingClientOptions,
  );
}

const sim = (): Simulation => new Simulation();
const request = () => sim().timeout(1);
const poolOf = () => new ConnectionPool(sim(), { size: 1 });

describe('a misspelt option is an error that names the component, the key and the likely key', () => {
  // [what, build, component, the misspelt key as shown, the "did you mean" as shown]
  const typos: [string, () => unknown, string, string, string][] = [
    ['Service', () => service({ serviceTime: 1, concurency: 8 }), 'Service', 'concurency', 'concurrency'],
    ['Service queue', () => service({ serviceTime: 1, queueCap: 5 }), 'Service', 'queueCap', 'queueCapacity'],
    [
      'Service downstream',
      () => service({ serviceTime: 1, downstream: { calls: ['db'], timout: 50 } }),
      'Service',
      'downstream.timout',
      'downstream.timeout',
    ],
    [
      'Service downstream call',
      () => service({ serviceTime: 1, downstream: { calls: [{ to: 'db', paylod: 1 }] } }),
      'Service',
      'downstream.calls[0].paylod',
      'downstream.calls[0].payload',
    ],
    [
      'Service shedding',
      () => service({ serviceTime: 1, shedding: { kind: 'codel', intervall: 100 } }),
      'Service',
      'shedding.intervall',
      'shedding.interval',
    ],
    [
      'ConnectionPool',
      () => new ConnectionPool(sim(), anyOptions({ maxPendng: 2 })),
      'ConnectionPool',
      'maxPendng',
      'maxPending',
    ],
    ['loadSlowdown', () => loadSlowdown(anyOptions({ perunit: 0.1 })), 'loadSlowdown', 'perunit', 'perUnit'],
    [
      'CircuitBreaker',
      () => new CircuitBreaker({ now: 0 }, anyOptions({ failureRateTreshold: 20 })),
      'CircuitBreaker',
      'failureRateTreshold',
      'failureRateThreshold',
    ],
    [
      'SemaphoreBulkhead',
      () => new SemaphoreBulkhead(sim(), anyOptions({ maxConcurentCalls: 5 })),
      'SemaphoreBulkhead',
      'maxConcurentCalls',
      'maxConcurrentCalls',
    ],
    [
      'ThreadPoolBulkhead',
      () => new ThreadPoolBulkhead(sim(), anyOptions({ queueCapacty: 5 })),
      'ThreadPoolBulkhead',
      'queueCapacty',
      'queueCapacity',
    ],
    [
      'TokenBucket',
      () => new TokenBucket(anyOptions({ capacity: 5, refillPerSecond: 1, inital: 2 })),
      'TokenBucket',
      'inital',
      'initial',
    ],
    [
      'LeakyBucketMeter',
      () => new LeakyBucketMeter(anyOptions({ capacity: 5, leakPerSecond: 1, capacty: 2 })),
      'LeakyBucketMeter',
      'capacty',
      'capacity',
    ],
    [
      'LeakyBucketQueue',
      () => new LeakyBucketQueue(anyOptions({ capacity: 5, leakPerSec: 1 })),
      'LeakyBucketQueue',
      'leakPerSec',
      'leakPerSecond',
    ],
    [
      'FixedWindow',
      () => new FixedWindow(anyOptions({ limit: 5, windowMS: 1000 })),
      'FixedWindow',
      'windowMS',
      'windowMs',
    ],
    [
      'SlidingLog',
      () => new SlidingLog(anyOptions({ limt: 5, windowMs: 1000 })),
      'SlidingLog',
      'limt',
      'limit',
    ],
    [
      'SlidingWindowCounter',
      () => new SlidingWindowCounter(anyOptions({ limit: 5, windowMz: 1000 })),
      'SlidingWindowCounter',
      'windowMz',
      'windowMs',
    ],
    ['Gcra', () => new Gcra(anyOptions({ ratePerSecond: 1, brust: 2 })), 'Gcra', 'brust', 'burst'],
    [
      'createRateLimiter field',
      () => createRateLimiter(anyOptions({ kind: 'gcra', ratePerSecond: 1, bust: 0 })),
      'Gcra',
      'bust',
      'burst',
    ],
    [
      'RetryQuota',
      () => new RetryQuota(anyOptions({ retryCosts: 5 })),
      'RetryQuota',
      'retryCosts',
      'retryCost',
    ],
    [
      'EnvoyRetryBudget',
      () => new EnvoyRetryBudget(anyOptions({ budgetPercentage: 20 })),
      'EnvoyRetryBudget',
      'budgetPercentage',
      'budgetPercent',
    ],
    [
      'AdaptiveThrottle',
      () => new AdaptiveThrottle(anyOptions({ window: 60_000 })),
      'AdaptiveThrottle',
      'window',
      'windowMs',
    ],
    [
      'RatioRetryBudget',
      () => new RatioRetryBudget(anyOptions({ minPerSec: 1 })),
      'RatioRetryBudget',
      'minPerSec',
      'minPerSecond',
    ],
    [
      'createBackoff',
      () => createBackoff(anyOptions({ kind: 'exponential', baseMs: 1, capMs: 10, jiter: 'full' })),
      'createBackoff',
      'backoff.jiter',
      'backoff.jitter',
    ],
    ['RetryingClient', () => client({ maxAttemps: 3 }), 'RetryingClient', 'maxAttemps', 'maxAttempts'],
    [
      'RetryingClient hedge',
      () => client({ hedge: { after: 10, maxHedge: 2 } }),
      'RetryingClient',
      'hedge.maxHedge',
      'hedge.maxHedges',
    ],
    [
      'RetryingClient backoff',
      () => client({ backoff: { kind: 'envoy', baseMS: 25 } }),
      'RetryingClient',
      'backoff.baseMS',
      'backoff.baseMs',
    ],
    [
      'RetryingClient budget',
      () => client({ budget: { kind: 'ratio', ratoi: 0.1 } }),
      'RetryingClient',
      'budget.ratoi',
      'budget.ratio',
    ],
    [
      'openLoop',
      () =>
        openLoop(
          sim(),
          anyOptions({ arrivals: { kind: 'poisson', rate: 1 }, onArrival: () => {}, untill: 5 }),
        ),
      'openLoop',
      'untill',
      'until',
    ],
    [
      'openLoop arrivals',
      () => openLoop(sim(), anyOptions({ arrivals: { kind: 'poisson', rat: 1 }, onArrival: () => {} })),
      'openLoop',
      'arrivals.rat',
      'arrivals.rate',
    ],
    [
      'closedLoop',
      () => closedLoop(sim(), anyOptions({ users: 1, thinkTime: 5, request, iteration: 3 })),
      'closedLoop',
      'iteration',
      'iterations',
    ],
    [
      'createArrivals',
      () =>
        createArrivals(
          anyOptions({ kind: 'bursts', rate: 1, burstRate: 2, every: 10, duration: 1, ofset: 3 }),
        ),
      'createArrivals',
      'arrivals.ofset',
      'arrivals.offset',
    ],
    [
      'createArrivals step',
      () => createArrivals(anyOptions({ kind: 'steps', steps: [{ at: 0, rte: 1 }] })),
      'createArrivals',
      'arrivals.steps[0].rte',
      'arrivals.steps[0].rate',
    ],
    [
      'createKeys',
      () => createKeys(anyOptions({ kind: 'zipf', count: 10, s: 1, prefx: 'a' })),
      'createKeys',
      'keys.prefx',
      'keys.prefix',
    ],
    [
      'createMix',
      () => createMix(anyOptions([{ value: 1, wieght: 1 }])),
      'createMix',
      'mix[0].wieght',
      'mix[0].weight',
    ],
  ];

  it.each(typos)('%s', (_what, build, component, bad, suggestion) => {
    const error = caught(build);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message.startsWith(`${component}: `), error.message).toBe(true);
    expect(error.message).toContain(`"${bad}"`);
    expect(error.message).toContain(`(did you mean "${suggestion}"?)`);
    expect(error.details.component).toBe(component);
  });

  it('a key nothing resembles gets no suggestion, but the list of known options', () => {
    const error = caught(() => service({ serviceTime: 1, xyzzy: 1 }));
    expect(error.message).not.toContain('did you mean');
    expect(error.message).toContain('known options: concurrency, serviceTime, queueCapacity');
    expect(error.details).toMatchObject({ component: 'Service', field: 'xyzzy', value: 1 });
  });

  it('the silently-ignored options of the old behaviour now fail instead of running a different model', () => {
    // Before: one worker and an unbounded queue. Now the model does not build.
    expect(() => service({ serviceTime: 1, concurency: 8 })).toThrow(/did you mean "concurrency"/);
    expect(() => service({ serviceTime: 1, queueCap: 5 })).toThrow(/did you mean "queueCapacity"/);
    // The correct spelling builds and is used.
    const ok = service({ serviceTime: 1, concurrency: 8, queueCapacity: 5 });
    expect(ok.concurrency).toBe(8);
  });
});

describe('a misspelt choice is an error that lists the choices and suggests the likely one', () => {
  // [what, build, component, field path, the value given, the "did you mean"]
  const choices: [string, () => unknown, string, string, string, string][] = [
    [
      'Service shedding kind',
      () => service({ serviceTime: 1, shedding: { kind: 'codl' } }),
      'Service',
      'shedding.kind',
      'codl',
      'codel',
    ],
    [
      'Service discipline',
      () => service({ serviceTime: 1, discipline: 'adaptive_lifo' }),
      'Service',
      'discipline',
      'adaptive_lifo',
      'adaptive-lifo',
    ],
    [
      'loadSlowdown on',
      () => loadSlowdown(anyOptions({ perUnit: 1, on: 'inflight' })),
      'loadSlowdown',
      'on',
      'inflight',
      'inFlight',
    ],
    [
      'CircuitBreaker window type',
      () => new CircuitBreaker({ now: 0 }, anyOptions({ slidingWindowType: 'tme' })),
      'CircuitBreaker',
      'slidingWindowType',
      'tme',
      'time',
    ],
    [
      'createRateLimiter kind',
      () => createRateLimiter(anyOptions({ kind: 'token-buckt', capacity: 1, refillPerSecond: 1 })),
      'createRateLimiter',
      'kind',
      'token-buckt',
      'token-bucket',
    ],
    [
      'createBackoff kind',
      () => createBackoff(anyOptions({ kind: 'exponental', baseMs: 1, capMs: 10, jitter: 'full' })),
      'createBackoff',
      'backoff.kind',
      'exponental',
      'exponential',
    ],
    [
      'RetryingClient retryOn',
      () => client({ retryOn: ['timeout', 'gateway-timout'] }),
      'RetryingClient',
      'retryOn[1]',
      'gateway-timout',
      'gateway-timeout',
    ],
    [
      'createArrivals kind',
      () => createArrivals(anyOptions({ kind: 'posson', rate: 1 })),
      'createArrivals',
      'arrivals.kind',
      'posson',
      'poisson',
    ],
    [
      'createKeys kind',
      () => createKeys(anyOptions({ kind: 'zipff', count: 10, s: 1 })),
      'createKeys',
      'keys.kind',
      'zipff',
      'zipf',
    ],
  ];

  it.each(choices)('%s', (_what, build, component, field, bad, suggestion) => {
    const error = caught(build);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message.startsWith(`${component}: ${field} must be one of `), error.message).toBe(true);
    expect(error.message).toContain(`got "${bad}" (did you mean "${suggestion}"?)`);
    expect(error.details).toMatchObject({ component, field, value: bad, suggestion });
  });
});

describe('a bad value names the component, the field, the value and what is allowed', () => {
  // [what, build, component, field path, a fragment of "what is allowed" or of the value shown]
  const values: [string, () => unknown, string, string, string][] = [
    [
      'concurrency 0',
      () => service({ serviceTime: 1, concurrency: 0 }),
      'Service',
      'concurrency',
      'an integer >= 1, got 0',
    ],
    [
      'concurrency NaN',
      () => service({ serviceTime: 1, concurrency: Number.NaN }),
      'Service',
      'concurrency',
      'got NaN',
    ],
    [
      'serviceTime not a distribution',
      () => service({ serviceTime: { mean: 5 } }),
      'Service',
      'serviceTime',
      'a distribution such as exponential({ mean: 5 }), or a duration, got {"mean":5}',
    ],
    ['serviceTime missing', () => service({}), 'Service', 'serviceTime', 'got undefined'],
    ['serviceTime negative', () => service({ serviceTime: -1 }), 'Service', 'serviceTime', 'got -1'],
    [
      'queueCapacity 2.5',
      () => service({ serviceTime: 1, queueCapacity: 2.5 }),
      'Service',
      'queueCapacity',
      'or Infinity',
    ],
    [
      'errorRate 2',
      () => service({ serviceTime: 1, errorRate: 2 }),
      'Service',
      'errorRate',
      'a probability in [0, 1]',
    ],
    [
      'dropExpired "yes"',
      () => service({ serviceTime: 1, dropExpired: 'yes' }),
      'Service',
      'dropExpired',
      'true or false',
    ],
    [
      'priority without the priority discipline',
      () => service({ serviceTime: 1, priority: () => 0 }),
      'Service',
      'priority',
      'left out unless discipline "priority" is set',
    ],
    [
      'adaptiveLifoInterval without adaptive-lifo',
      () => service({ serviceTime: 1, adaptiveLifoInterval: 50 }),
      'Service',
      'adaptiveLifoInterval',
      'discipline "adaptive-lifo"',
    ],
    [
      'queueTimeout "soon"',
      () => service({ serviceTime: 1, queueTimeout: 'soon' }),
      'Service',
      'queueTimeout',
      '"soon"',
    ],
    [
      'shedding.max',
      () => service({ serviceTime: 1, shedding: { kind: 'queue-length', max: -1 } }),
      'Service',
      'shedding.max',
      'an integer >= 0',
    ],
    [
      'downstream.mode',
      () => service({ serviceTime: 1, downstream: { calls: ['db'], mode: 'fanout' } }),
      'Service',
      'downstream.mode',
      '"sequential", "parallel"',
    ],
    [
      'downstream.timeout 0',
      () => service({ serviceTime: 1, downstream: { calls: ['db'], timeout: 0 } }),
      'Service',
      'downstream.timeout',
      'a duration > 0',
    ],
    [
      'downstream.fallback without onFailure',
      () => service({ serviceTime: 1, downstream: { calls: ['db'], fallback: () => 1 } }),
      'Service',
      'downstream.fallback',
      'onFailure is "fallback"',
    ],
    [
      'downstream.pool not a pool',
      () => service({ serviceTime: 1, downstream: { calls: ['db'], pool: { size: 2 } } }),
      'Service',
      'downstream.pool',
      'a ConnectionPool',
    ],
    ['pool size', () => new ConnectionPool(sim(), { size: 0 }), 'ConnectionPool', 'size', 'an integer >= 1'],
    [
      'pool name',
      () => new ConnectionPool(sim(), { name: '' }),
      'ConnectionPool',
      'name',
      'a non-empty string',
    ],
    [
      'pool acquireTimeout',
      () => new ConnectionPool(sim(), { acquireTimeout: -5 }),
      'ConnectionPool',
      'acquireTimeout',
      'got -5',
    ],
    ['slowdown max', () => loadSlowdown({ perUnit: 1, max: 0.5 }), 'loadSlowdown', 'max', '>= 1 or Infinity'],
    [
      'breaker threshold',
      () => new CircuitBreaker({ now: 0 }, { failureRateThreshold: 0 } as CircuitBreakerConfig),
      'CircuitBreaker',
      'failureRateThreshold',
      'in (0, 100]',
    ],
    [
      'bulkhead wait',
      () => new SemaphoreBulkhead(sim(), { maxWaitDurationMs: -1 }),
      'SemaphoreBulkhead',
      'maxWaitDurationMs',
      '>= 0 (ms)',
    ],
    [
      'token bucket refill',
      () => new TokenBucket({ capacity: 1, refillPerSecond: 0 }),
      'TokenBucket',
      'refillPerSecond',
      '> 0',
    ],
    ['gcra burst', () => new Gcra({ ratePerSecond: 1, burst: 1.5 }), 'Gcra', 'burst', 'an integer >= 0'],
    ['quota capacity', () => new RetryQuota({ capacity: -1 }), 'RetryQuota', 'capacity', 'an integer >= 0'],
    [
      'envoy percent',
      () => new EnvoyRetryBudget({ budgetPercent: 120 }),
      'EnvoyRetryBudget',
      'budgetPercent',
      '[0, 100]',
    ],
    [
      'throttle window',
      () => new AdaptiveThrottle({ windowMs: 10 }),
      'AdaptiveThrottle',
      'windowMs',
      '>= 1000',
    ],
    ['ratio ttl', () => new RatioRetryBudget({ ttl: '2m' }), 'RatioRetryBudget', 'ttl', '<= 60000 ms'],
    [
      'backoff cap below base',
      () => createBackoff({ kind: 'exponential', baseMs: 10, capMs: 5, jitter: 'full' }),
      'createBackoff',
      'backoff.capMs',
      '>= 10',
    ],
    [
      'backoff envoy max below base',
      () => createBackoff({ kind: 'envoy', baseMs: 100, maxMs: 50 } as BackoffSpec),
      'createBackoff',
      'backoff.maxMs',
      '>= 100',
    ],
    [
      'client maxAttempts',
      () => client({ maxAttempts: 0 }),
      'RetryingClient',
      'maxAttempts',
      'an integer >= 1',
    ],
    ['client timeout', () => client({ timeout: 0 }), 'RetryingClient', 'timeout', 'a duration > 0'],
    [
      'client budget ratio',
      () => client({ budget: { kind: 'ratio', ratio: -1 } }),
      'RetryingClient',
      'budget.ratio',
      'got -1',
    ],
    ['client fallback', () => client({ fallback: 'x' }), 'RetryingClient', 'fallback', 'a function'],
    [
      'openLoop limit',
      () => openLoop(sim(), { arrivals: { kind: 'poisson', rate: 1 }, onArrival: () => {}, limit: -1 }),
      'openLoop',
      'limit',
      'an integer >= 0 or Infinity',
    ],
    [
      'openLoop arrivals.rate',
      () => openLoop(sim(), { arrivals: { kind: 'poisson', rate: -2 }, onArrival: () => {} }),
      'openLoop',
      'arrivals.rate',
      'arrivals per second',
    ],
    [
      'closedLoop thinkTime',
      () => closedLoop(sim(), { users: 1, thinkTime: { mean: 1000 } as never, request }),
      'closedLoop',
      'thinkTime',
      'exponential({ mean: 1000 })',
    ],
    [
      'closedLoop users',
      () => closedLoop(sim(), { users: 1.5, thinkTime: 5, request }),
      'closedLoop',
      'users',
      'got 1.5',
    ],
    [
      'arrivals amplitude',
      () => createArrivals({ kind: 'sinusoidal', mean: 10, amplitude: 11, period: 5 } as ArrivalSpec),
      'createArrivals',
      'arrivals.amplitude',
      'at most mean',
    ],
    [
      'keys hotShare',
      () => createKeys({ kind: 'hot-spot', count: 10, hotKeys: 0.5, hotShare: 1.5 } as KeySpec),
      'createKeys',
      'keys.hotShare',
      'a probability in [0, 1]',
    ],
    ['mix weight', () => createMix([{ value: 1, weight: -1 }]), 'createMix', 'mix[0].weight', 'got -1'],
  ];

  it.each(values)('%s', (_what, build, component, field, fragment) => {
    const error = caught(build);
    expect(['INVALID_ARGUMENT', 'INVALID_DURATION']).toContain(error.code);
    expect(error.message.startsWith(`${component}: ${field} must be `), error.message).toBe(true);
    expect(error.message).toContain(fragment);
    expect(error.details).toMatchObject({ component, field });
  });

  it('a value that is not a duration keeps the INVALID_DURATION code, now with the component', () => {
    const error = caught(() => service({ serviceTime: 1, queueTimeout: '5 minutes' }));
    expect(error.code).toBe('INVALID_DURATION');
    expect(error.message).toMatch(/^Service: queueTimeout must be .*got "5 minutes"$/);
  });

  it('a bad function value is shown by name, not by its source', () => {
    const error = caught(() => service({ serviceTime: 1, slowdown: 3 }));
    expect(error.message).toBe(
      'Service: slowdown must be a function (load) => multiplier, e.g. loadSlowdown({ ... }), got 3',
    );
    function byName(): number {
      return 0;
    }
    expect(caught(() => service({ serviceTime: 1, priority: byName })).message).toContain(
      'got function byName',
    );
  });

  it('valid options still build, with the documented defaults', () => {
    const svc = service({
      serviceTime: exponential({ mean: 5 }),
      downstream: { calls: [{ to: 'db', pool: poolOf() }] },
    });
    expect(svc.concurrency).toBe(1);
    expect(new ThreadPoolBulkhead(sim()).coreThreadPoolSize).toBe(3);
    expect(
      createRateLimiter({ kind: 'token-bucket', capacity: 2, refillPerSecond: 1 } as RateLimiterSpec).kind,
    ).toBe('token-bucket');
    expect(client({ budget: { kind: 'ratio', ratio: 0.1 } }).budget).toBeInstanceOf(RatioRetryBudget);
  });
});

describe('a service time that samples below zero', () => {
  it('is an error naming the service, the distribution and the value', async () => {
    const { Network, normal, RpcEndpoint, Simulation } = await import('@dsim/core');
    const { Service } = await import('../src/index.js');
    const sim = new Simulation({ seed: 3 });
    const net = new Network(sim);
    new Service(net.addNode('api'), { concurrency: 4, serviceTime: normal({ mean: 1, sd: 10 }) });
    const client = new RpcEndpoint(net.addNode('web'));
    for (let i = 0; i < 40; i++) client.call('api', i);
    expect(() => sim.run()).toThrow(
      /Service 'api': serviceTime sampled -\d[\d.]* ms from normal\(mean=1, sd=10\)/,
    );
  });
});
