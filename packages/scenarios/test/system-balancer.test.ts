import { Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { leastConnBlackHole } from '../src/catalogue/least-conn-black-hole.js';
import { runScenario } from '../src/scenario.js';
import { balancerReading } from '../src/system/balancer.js';
import { compileSystem } from '../src/system/compile.js';
import type { SystemDescription } from '../src/system/schema.js';
import { defineSystemScenario } from '../src/system/system-scenario.js';
import { SystemError, validateSystem } from '../src/system/validate.js';

type Lb = Record<string, unknown>;

/** Clients → lb → `app` ×9 and `bad`, which fails every request at once (a black hole). */
const blackHole = (lb: Lb, seconds = 30) => ({
  nodes: {
    users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: 800 }, until: `${seconds}s` },
    lb: { kind: 'balancer', backends: ['app', 'bad'], ...lb },
    app: { kind: 'service', replicas: 9, serviceTime: { exponential: { mean: 10 } } },
    bad: { kind: 'service', concurrency: 1000, serviceTime: 0, errorRate: 1 },
  },
});

/** Runs a description; `after` counts the requests that start in [10 s, end). */
function run(system: unknown, end = '30s', seed = 1) {
  const sim = new Simulation({ seed });
  const sys = compileSystem(sim, system, { windows: { after: ['10s', end] } });
  sim.run();
  const after = sys.windows.after!.toJSON();
  const lb = sys.balancerHandles.lb!;
  const requests = (a: string) => sim.metrics.counter('lb', `lb.backend.${a}.requests`).value;
  return { sim, sys, after, lb, reading: balancerReading(sim, lb), requests };
}

const errorRate = (a: { requests: number; failed: number }) => a.failed / a.requests;

describe('balancer: the least-request black hole', () => {
  // The built-in least-conn-black-hole over the same 30 s (its backend fails from 10 s; here from the start).
  const builtIn = runScenario(leastConnBlackHole, {
    seed: 1,
    params: { seconds: 30 },
    variants: ['full-scan', 'power-of-two', 'round-robin', 'full-scan-outlier-detection'],
  });
  const figure = (variant: string, name: string) =>
    builtIn.variants.find((v) => v.name === variant)!.outcome[name] as number;

  it('full scan sends the failing backend far more than 1/N, as the built-in scenario does', () => {
    const { after, requests } = run(blackHole({ policy: { kind: 'least-request', fullScan: true } }));
    const rate = errorRate(after);
    expect(rate).toBeGreaterThan(0.25); // fair share 0.1
    expect(Math.abs(rate - figure('full-scan', 'errorRateAfter'))).toBeLessThan(0.02);
    expect(requests('bad')).toBeGreaterThan(3 * requests('app-0'));
  });

  it('power of two choices (least-request, choiceCount 2) and round robin match the built-in too', () => {
    const p2c = errorRate(run(blackHole({ policy: { kind: 'least-request', choiceCount: 2 } })).after);
    const rr = errorRate(run(blackHole({ policy: 'round-robin' })).after);
    expect(Math.abs(p2c - figure('power-of-two', 'errorRateAfter'))).toBeLessThan(0.02);
    expect(Math.abs(rr - 0.1)).toBeLessThan(0.002);
    expect(p2c).toBeGreaterThan(rr + 0.04);
  });

  it('outlier detection (Envoy defaults) ejects it: errors drop to a few per ejection', () => {
    const plain = run(blackHole({ policy: { kind: 'least-request', fullScan: true } }));
    const od = run(blackHole({ policy: { kind: 'least-request', fullScan: true }, outlierDetection: {} }));
    const rate = errorRate(od.after);
    expect(rate).toBeLessThan(errorRate(plain.after) / 100);
    expect(rate).toBeLessThan(0.001);
    // Ejected at its 5th consecutive 5xx, back after 30 s: the same count as the built-in's.
    expect(od.lb.outliers!.stats.detected['consecutive-5xx']).toBe(od.reading.ejections);
    expect(od.reading.ejections).toBe(figure('full-scan-outlier-detection', 'ejections'));
    expect(od.reading.failed).toBe(5 * od.reading.ejections);
    // Ejected nearly all the time: the mean number of backends ejected over the run is close to 1.
    expect(od.reading.ejectedMs / od.sim.now).toBeGreaterThan(0.95);
  });

  it("nginx's max_fails with failOn error keeps the failing backend out for fail_timeout", () => {
    const mf = run(blackHole({ policy: 'round-robin', maxFails: { maxFails: 1, failOn: ['error'] } }));
    // One failure per 10 s fail_timeout, instead of a tenth of the requests.
    expect(mf.reading.failed).toBeLessThanOrEqual(4);
    expect(mf.reading.maxFailsDisabled).toBe(mf.reading.failed);
  });
});

describe('balancer: policies', () => {
  const even = (lb: Lb, seconds = 20) => ({
    nodes: {
      users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: 800 }, until: `${seconds}s` },
      lb: { kind: 'balancer', backends: ['app'], ...lb },
      app: { kind: 'service', replicas: 10, serviceTime: { exponential: { mean: 10 } } },
    },
  });

  it('power of two choices beats round robin at 80% load (queues, p99)', () => {
    const rr = run(even({ policy: 'round-robin' }), '20s');
    const p2 = run(even({ policy: { kind: 'power-of-d', d: 2 } }), '20s');
    const counts = (r: typeof rr) => Array.from({ length: 10 }, (_, i) => r.requests(`app-${i}`));
    // Round robin spreads requests exactly; power of two spreads load, not counts.
    expect(Math.max(...counts(rr)) - Math.min(...counts(rr))).toBeLessThanOrEqual(1);
    expect(Math.max(...counts(p2)) - Math.min(...counts(p2))).toBeGreaterThan(1);
    expect(p2.after.latencyMs.p99).toBeLessThan(rr.after.latencyMs.p99 * 0.7);
    expect(p2.after.latencyMs.mean).toBeLessThan(rr.after.latencyMs.mean * 0.85);
  });

  it('weights reach the backends: weighted round robin gives app-0 three shares', () => {
    const r = run(even({ policy: 'weighted-round-robin', weights: { 'app-0': 3 } }, 5), '5s');
    const total = Array.from({ length: 10 }, (_, i) => r.requests(`app-${i}`)).reduce((a, b) => a + b);
    expect(Math.abs(r.requests('app-0') / total - 3 / 12)).toBeLessThan(0.002);
    expect(r.lb.lb.backends[0]!.weight).toBe(3);
    expect(r.lb.lb.backends[1]!.weight).toBe(1);
  });

  it.each([
    'ring-hash',
    'maglev',
    'haproxy-hash',
  ])('%s keeps every key on one backend (the clients key is the hash key)', (kind) => {
    const system = {
      nodes: {
        users: {
          kind: 'clients',
          target: 'front',
          workload: { kind: 'open', rate: 200 },
          until: '5s',
          keys: { kind: 'uniform', count: 40 },
        },
        // Through a service: the key travels down with the request.
        front: { kind: 'service', concurrency: 64, serviceTime: 1, downstream: [{ to: 'lb' }] },
        lb: { kind: 'balancer', backends: ['app'], policy: { kind } },
        app: { kind: 'service', replicas: 5, concurrency: 8, serviceTime: 2 },
      },
    };
    const sim = new Simulation({ seed: 3 });
    const owner = new Map<string, Set<string>>();
    sim.inspect((r) => {
      if (r.type !== '@dsim.lb.pick') return;
      const key = String(r.key);
      if (!owner.has(key)) owner.set(key, new Set());
      owner.get(key)!.add(String(r.backend));
    });
    const sys = compileSystem(sim, system);
    sim.run();
    expect(sys.stats.toJSON().requests).toBeGreaterThan(900);
    expect(owner.size).toBe(40);
    for (const backends of owner.values()) expect(backends.size).toBe(1);
    const used = new Set([...owner.values()].flatMap((s) => [...s]));
    expect(used.size).toBeGreaterThanOrEqual(4);
  });
});

describe('balancer: retries and hedging', () => {
  const oneBad = (lb: Lb) => ({
    nodes: {
      users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: 200 }, until: '20s' },
      lb: { kind: 'balancer', backends: ['app', 'bad'], policy: 'round-robin', ...lb },
      app: { kind: 'service', replicas: 3, concurrency: 4, serviceTime: { exponential: { mean: 5 } } },
      bad: { kind: 'service', concurrency: 100, serviceTime: 1, errorRate: 1 },
    },
  });

  it('retries at the balancer (previous hosts avoided) hide a failing backend', () => {
    const plain = run(oneBad({}), '20s');
    const retried = run(oneBad({ retry: { attempts: 1 } }), '20s');
    expect(Math.abs(plain.after.availability! - 0.75)).toBeLessThan(0.01);
    // The only failures are retries refused by Envoy's default max_retries (3 outstanding).
    expect(retried.after.availability).toBeGreaterThan(0.99);
    expect(retried.reading.failed).toBe(retried.reading.retryOverflow);
    // Every attempt that reaches `bad` fails and is retried once, elsewhere (unless refused); retries
    // take round-robin turns too, so there are between 1/4 and 1/3 as many retries as requests (0.276).
    expect(retried.requests('bad')).toBe(retried.reading.retries + retried.reading.retryOverflow);
    expect(retried.reading.retries / retried.reading.requests).toBeGreaterThan(0.25);
    expect(retried.reading.retries / retried.reading.requests).toBeLessThan(1 / 3);
    expect(retried.reading.attempts).toBe(retried.reading.requests + retried.reading.retries);
  });

  it('a retry that may land on the same backend again (previousHosts false) fails sometimes', () => {
    const r = run(oneBad({ policy: 'random', retry: { attempts: 1, previousHosts: false } }), '20s');
    // random: a retry of a `bad` request lands on `bad` again a quarter of the time.
    expect(Math.abs(r.after.availability! - (1 - 0.25 * 0.25))).toBeLessThan(0.01);
  });

  it('a retry budget caps retries under a storm', () => {
    // retryOn without `error`: nothing retried; with a tight concurrent limit of 0: none sent either.
    const none = run(oneBad({ retry: { attempts: 1, retryOn: ['unavailable'] } }), '20s');
    expect(none.reading.retries).toBe(0);
    const capped = run(oneBad({ retry: { attempts: 1, maxConcurrentRetries: 0 } }), '20s');
    expect(capped.reading.retries).toBe(0);
    expect(capped.reading.retryOverflow).toBe(capped.requests('bad'));
    const budget = run(
      oneBad({ retry: { attempts: 1, budget: { budgetPercent: 20, minRetryConcurrency: 1 } } }),
    );
    expect(budget.reading.retries).toBeGreaterThan(0.9 * budget.requests('bad') - budget.reading.retries);
  });

  it('hedging on the per-try timeout cuts the tail of a slow backend', () => {
    const slow = (lb: Lb) => ({
      nodes: {
        users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: 100 }, until: '20s' },
        lb: { kind: 'balancer', backends: ['app', 'slow'], policy: 'round-robin', ...lb },
        app: { kind: 'service', replicas: 3, concurrency: 8, serviceTime: 5 },
        slow: { kind: 'service', concurrency: 100, serviceTime: 300 },
      },
    });
    const plain = run(slow({}), '20s');
    const hedged = run(
      slow({ retry: { attempts: 1, perTryTimeout: '20ms' }, hedge: { onPerTryTimeout: true } }),
    );
    expect(plain.after.latencyMs.p99).toBeGreaterThan(299);
    expect(hedged.after.latencyMs.p99).toBeLessThan(60);
    expect(hedged.reading.hedges).toBe(hedged.requests('slow'));
    expect(hedged.after.availability).toBe(1);
  });
});

describe('balancer: validation names paths', () => {
  const base = (lb: Lb) => ({
    nodes: {
      users: { kind: 'clients', target: 'lb', workload: { kind: 'open', rate: 10 }, until: '10s' },
      lb: { kind: 'balancer', backends: ['app'], ...lb },
      app: { kind: 'service', replicas: 3, serviceTime: 5 },
    },
  });
  const cases: [string, Lb, string][] = [
    [
      'misspelt policy',
      { policy: 'least-requst' },
      'nodes.lb.policy: unknown policy (did you mean "least-request"?)',
    ],
    ['policy not a kind', { policy: 3 }, 'nodes.lb.policy: must be a policy kind, or { kind, ...options }'],
    [
      'misspelt policy kind',
      { policy: { kind: 'ring-hsh' } },
      'nodes.lb.policy.kind: unknown policy (did you mean "ring-hash"?)',
    ],
    [
      'unknown policy option',
      { policy: { kind: 'least-request', choicecount: 3 } },
      'nodes.lb.policy.choicecount: unknown key (did you mean "choiceCount"?)',
    ],
    ['option of another policy', { policy: { kind: 'round-robin', d: 2 } }, 'nodes.lb.policy.d: unknown key'],
    [
      'bad choice count',
      { policy: { kind: 'least-request', choiceCount: 0 } },
      'nodes.lb.policy.choiceCount',
    ],
    [
      'maglev table not prime',
      { policy: { kind: 'maglev', tableSize: 100 } },
      'nodes.lb.policy.tableSize: must be a prime',
    ],
    [
      'maglev table too small',
      { policy: { kind: 'maglev', tableSize: 3 } },
      'nodes.lb.policy.tableSize: must be above the backend count (3)',
    ],
    ['first without maxConn', { policy: { kind: 'first' } }, 'nodes.lb.policy.maxConn'],
    [
      'misspelt outlier option',
      { outlierDetection: { consecutive5xxx: 3 } },
      'nodes.lb.outlierDetection.consecutive5xxx: unknown key (did you mean "consecutive5xx"?)',
    ],
    [
      'percent out of range',
      { outlierDetection: { maxEjectionPercent: 150 } },
      'nodes.lb.outlierDetection.maxEjectionPercent',
    ],
    [
      'zero ejection time',
      { outlierDetection: { baseEjectionTime: 0 } },
      'nodes.lb.outlierDetection.baseEjectionTime: must be a duration > 0',
    ],
    [
      'weight of no backend',
      { weights: { 'app-9': 2 } },
      'nodes.lb.weights.app-9: "app-9" is not one of the backends (did you mean "app-0"?)',
    ],
    ['negative weight', { weights: { app: -1 } }, 'nodes.lb.weights.app'],
    [
      'hedge without a per-try timeout',
      { hedge: { onPerTryTimeout: true } },
      'nodes.lb.hedge.onPerTryTimeout: a hedge is sent when the per-try timeout fires',
    ],
    [
      'slow start without health',
      { slowStart: { kind: 'envoy', window: '30s' } },
      'nodes.lb.slowStart: a backend slow-starts when it comes back',
    ],
    [
      'misspelt retry option',
      { retry: { atempts: 1 } },
      'nodes.lb.retry.atempts: unknown key (did you mean "attempts"?)',
    ],
    ['bad retryOn', { retry: { retryOn: ['eror'] } }, 'nodes.lb.retry.retryOn[0]'],
    [
      'budget out of range',
      { retry: { budget: { budgetPercent: 200 } } },
      'nodes.lb.retry.budget.budgetPercent',
    ],
    [
      'zero fail timeout',
      { maxFails: { failTimeout: 0 } },
      'nodes.lb.maxFails.failTimeout: must be a duration > 0',
    ],
    [
      'bad decay',
      { policy: { kind: 'peak-ewma', decay: 'soon' } },
      'nodes.lb.policy.decay: must be a duration',
    ],
  ];
  it.each(cases)('%s', (_, lb, message) => {
    let error: unknown;
    try {
      validateSystem(base(lb));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SystemError);
    expect((error as SystemError).message).toContain(message);
  });

  it('accepts every option at once, and compiles it onto the LoadBalancer', () => {
    const lb = {
      policy: { kind: 'least-request', choiceCount: 3, activeRequestBias: 0.5 },
      weights: { app: 2, 'app-1': 1 },
      timeout: '2s',
      health: { interval: '1s', timeout: '100ms', unhealthyThreshold: 2, healthyThreshold: 1 },
      outlierDetection: { consecutive5xx: 3, interval: '1s', baseEjectionTime: '5s', maxEjectionPercent: 50 },
      maxFails: { maxFails: 2, failTimeout: '5s', workers: 2 },
      slowStart: { kind: 'envoy', window: '10s', aggression: 2, minWeightPercent: 20 },
      retry: {
        attempts: 2,
        perTryTimeout: '50ms',
        retryOn: ['error', 'timeout'],
        backoff: { kind: 'envoy', baseMs: 10, maxMs: 100 },
        budget: { budgetPercent: 25, minRetryConcurrency: 2 },
      },
      hedge: { onPerTryTimeout: true },
      loadReport: { interval: '100ms' },
    };
    const sim = new Simulation({ seed: 1 });
    const sys = compileSystem(sim, base(lb));
    sim.run();
    const h = sys.balancerHandles.lb!;
    expect(h.lb.policy.kind).toBe('least-request');
    expect(h.lb.backends.map((b) => [b.address, b.weight])).toEqual([
      ['app-0', 2],
      ['app-1', 1],
      ['app-2', 2],
    ]);
    expect(h.outliers!.options.consecutive5xx).toBe(3);
    expect(h.maxFails!.options.workers).toBe(2);
    expect(h.checks!.options.interval).toBe(1000);
    expect(h.lb.reportedAt).toBeDefined();
    expect(sys.stats.toJSON().availability).toBe(1);
  });
});

describe('balancer: measured per phase', () => {
  it('ejections, ejected backends, errors and retries per phase add up to the whole run', () => {
    const system: SystemDescription = {
      nodes: {
        users: { kind: 'clients', target: 'lb', until: '30s', workload: { kind: 'open', rate: 800 } },
        lb: {
          kind: 'balancer',
          backends: ['app', 'bad'],
          policy: { kind: 'least-request', fullScan: true },
          outlierDetection: {},
        },
        app: { kind: 'service', replicas: 9, serviceTime: { exponential: { mean: 10 } } },
        bad: { kind: 'service', concurrency: 1000, serviceTime: 0, errorRate: 1 },
      },
    };
    const r = runScenario(
      defineSystemScenario({
        name: 'lb-phases',
        description: 'lb figures',
        system,
        phases: { first: [0, '15s'], second: ['15s', '30s'] },
        outcome: (_m, run) => {
          const total = balancerReading(run.sim, run.compiled.balancerHandles.lb!);
          return { totalEjections: total.ejections, totalRequests: total.requests };
        },
      }),
      { seed: 1 },
    );
    const o = r.outcome;
    const total = o.totalEjections as number;
    expect(total).toBeGreaterThanOrEqual(1);
    expect((o['lb.first.ejections'] as number) + (o['lb.second.ejections'] as number)).toBe(total);
    // Requests arriving after the load's end are none: the two phases hold every request.
    expect(((o['lb.first.rate'] as number) + (o['lb.second.rate'] as number)) * 15).toBeCloseTo(
      o.totalRequests as number,
      3, // outcomes keep nine significant digits
    );
    // `bad` is ejected within its first few requests, for Envoy's 30 s base ejection time: one backend
    // out through the whole second phase.
    expect(o['lb.second.ejected'] as number).toBeCloseTo(1, 6);
    // The balancer's own error rate is what the clients see (no retries anywhere).
    expect(o['lb.first.errorRate'] as number).toBeCloseTo(o['users.first.errorRate'] as number, 2);
    expect(o['lb.first.retries']).toBe(0);
  });
});
