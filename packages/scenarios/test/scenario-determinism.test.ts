import { isDsimError } from '@dsim/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinScenarios } from '../src/catalogue/index.js';
import type { ParamSchema } from '../src/params.js';
import { runScenario, type ScenarioResult } from '../src/scenario.js';

/** A short run of one scenario: small parameters and, where it has many, the variants worth seeing. */
interface SmallRun {
  readonly params: Record<string, unknown>;
  readonly variants?: readonly string[];
}

// Every built-in scenario must be listed: a new one fails the test below until it is.
const SMALL: Record<string, SmallRun> = {
  mmc: { params: { customers: 2000 } },
  'l4-vs-l7': { params: { seconds: 20 } },
  'health-checks': { params: { seconds: 15, rate: 100 }, variants: ['passive'] },
  'hash-affinity': {
    params: { keys: 1000, rate: 500, seconds: 4, removeAtSeconds: 2 },
    variants: ['bounded-125'],
  },
  'connection-draining': { params: { seconds: 20, rate: 100 }, variants: ['short-drain'] },
  'slow-start': { params: { seconds: 30, rate: 200 }, variants: ['envoy'] },
  'stale-load-herding': { params: { servers: 8, customers: 2000 }, variants: ['full-scan-T5'] },
  'lb-algorithms': { params: { servers: 10, customers: 2000 }, variants: ['power-of-two'] },
  'least-conn-black-hole': { params: { seconds: 15, rate: 200 }, variants: ['full-scan-outlier-detection'] },
  'retry-storm': { params: { seconds: 30 }, variants: ['naive'] },
  'backoff-jitter': { params: { clients: 20, runs: 2 }, variants: ['full-jitter'] },
  'rate-limiting': { params: { seconds: 30 }, variants: ['leaky-bucket-queue'] },
  'tail-at-scale': { params: { fanout: 20, requests: 200 }, variants: ['hedged'] },
  bulkhead: { params: { seconds: 30 }, variants: ['shared'] },
  'circuit-breaker': { params: { faultSeconds: 5, afterSeconds: 5 }, variants: ['count-based'] },
  'goodput-collapse': { params: { peakSeconds: 10, afterSeconds: 5 }, variants: ['fifo'] },
  'timeout-cascade': { params: { seconds: 25, lambda: 50 }, variants: ['uniform-timeouts'] },
  'gc-death-spiral': { params: { seconds: 20 }, variants: ['no-protection'] },
  'connection-pool-exhaustion': { params: { seconds: 25, lambda: 100 }, variants: ['acquire-timeout'] },
  'cache-stampede': { params: { seconds: 30 }, variants: ['xfetch'] },
  // Two sub-models with nothing in common: one variant of each.
  'thundering-herd': {
    params: { keys: 200, readRate: 1000, ttlMs: 5000, clients: 100, outageMs: 3000 },
    variants: ['ttl-jitter', 'reconnect-backoff-jitter'],
  },
  'cache-flush': {
    params: { readRate: 500, keys: 1000, cacheCapacity: 600, flushAtMs: 5000, seconds: 10 },
    variants: ['coalescing'],
  },
  'eviction-policies': { params: { requests: 5000, warmup: 1000 }, variants: ['w-tinylfu'] },
  'distributed-cache': {
    params: { keys: 1000, rate: 300, seconds: 12, crashAt: 6, downFor: 0 },
    variants: ['ring'],
  },
  cdn: { params: { objects: 2000, rate: 200, seconds: 10 }, variants: ['shield'] },
  'write-policies': { params: { seconds: 10, crashes: 2, writeRate: 100, readRate: 100 } },
  prefetch: { params: { messages: 110 }, variants: ['prefetch-1-far'] },
  backpressure: { params: { seconds: 15, warmupSeconds: 5 }, variants: ['credit'] },
  'event-sourcing-cqrs': { params: { seconds: 10, rebuildEvents: 150 }, variants: ['poll-100ms'] },
  'kafka-durability': { params: { rate: 100, crashAtS: 5, loadAfterS: 5 }, variants: ['acks-1'] },
  'consumer-lag': { params: { seconds: 20, burstAtS: 8, burst: 600 }, variants: ['enough'] },
  'consumer-rebalance': {
    params: { seconds: 30, joinAtS: 8, crashAtS: 12, sessionTimeoutMs: 10_000 },
    variants: ['cooperative'],
  },
  'delivery-guarantees': { params: { messages: 400 }, variants: ['at-least-once'] },
  'poison-message': {
    params: { messages: 300, tailS: 8 },
    variants: ['kafka-retry-topics', 'rabbit-quorum'],
  },
};

// Scenarios whose outcome may legitimately be the same for two seeds. None today: each one's outcome
// is measured on random arrivals, keys or latencies.
const SEED_FREE_OUTCOME = new Set<string>();

const run = (name: string, seed: number): ScenarioResult => {
  const small = SMALL[name]!;
  return runScenario(builtinScenarios.get(name)!, {
    seed,
    params: small.params,
    ...(small.variants === undefined ? {} : { variants: small.variants }),
  });
};

/** Outcomes of every variant, in order: what a seed must change and a replay must not. */
const outcomes = (r: ScenarioResult) =>
  r.variants.length === 0 ? [r.outcome] : r.variants.map((v) => ({ variant: v.name, ...v.outcome }));

const realRandom = Math.random;
const realDateNow = Date.now;

describe('every built-in scenario is deterministic and seed-driven', () => {
  // Randomness comes only from sim.rng(name) and time only from sim.now: the unseeded sources throw.
  beforeEach(() => {
    Math.random = () => {
      throw new Error('Math.random() called during a scenario run: use sim.rng(name)');
    };
    Date.now = () => {
      throw new Error('Date.now() called during a scenario run: use sim.now');
    };
  });
  afterEach(() => {
    Math.random = realRandom;
    Date.now = realDateNow;
  });

  it('has a short run for every built-in scenario', () => {
    expect(Object.keys(SMALL).sort()).toEqual([...builtinScenarios.keys()].sort());
  });

  describe.each([...builtinScenarios.keys()])('%s', (name) => {
    // One run per seed, shared by the tests below; the replay of seed 1 is a second, independent run.
    const runs = new Map<number, ScenarioResult>();
    const seeded = (seed: number): ScenarioResult => {
      if (!runs.has(seed)) runs.set(seed, run(name, seed));
      return runs.get(seed)!;
    };

    it('same seed: same digest, events and outcome', () => {
      const first = seeded(1);
      const replay = run(name, 1);
      expect(first.events).toBeGreaterThan(0);
      expect(replay.digest).toBe(first.digest);
      expect(replay.events).toBe(first.events);
      expect(outcomes(replay)).toEqual(outcomes(first));
      expect(replay.metrics).toEqual(first.metrics);
    });

    it('seeds 1 and 2: different outcomes', () => {
      if (SEED_FREE_OUTCOME.has(name)) return;
      expect(outcomes(seeded(2))).not.toEqual(outcomes(seeded(1)));
    });

    it('seeds 1 and 2: different digests', () => {
      expect(seeded(2).digest).not.toBe(seeded(1).digest);
    });
  });
});

// Numeric parameters allowed to have no upper bound, `scenario.param` to the reason. None today: every
// one is bounded so that no accepted value can make a run's memory grow past a few GB.
const UNBOUNDED: Record<string, string> = {};

describe('every numeric parameter of a built-in scenario has a documented upper bound', () => {
  const numeric = [...builtinScenarios].flatMap(([name, scenario]) =>
    Object.entries(scenario.params as ParamSchema)
      .filter(([, spec]) => spec.kind === 'number' || spec.kind === 'integer' || spec.kind === 'duration')
      .map(([key, spec]) => ({ id: `${name}.${key}`, key, spec })),
  );

  it('finds the numeric parameters', () => {
    expect(numeric.length).toBeGreaterThan(150);
  });

  it.each(numeric)('$id', ({ id, key, spec }) => {
    if (id in UNBOUNDED) return;
    // The bound shows in `allowed` (help, errors) and a value past it is a CONFIG_ERROR naming the parameter.
    expect(spec.allowed).toMatch(/<=? \d/);
    const huge = spec.kind === 'duration' ? '1e15ms' : Number.MAX_SAFE_INTEGER;
    let error: unknown;
    try {
      spec.validate(huge, key);
    } catch (e) {
      error = e;
    }
    expect(isDsimError(error) && error.code === 'CONFIG_ERROR' && error.message.includes(key)).toBe(true);
  });

  it('lists only parameters that exist', () => {
    for (const id of Object.keys(UNBOUNDED)) expect(numeric.map((n) => n.id)).toContain(id);
  });
});

describe('a run too large for memory is refused before it starts', () => {
  const refused = (scenario: string, params: Record<string, unknown>): string => {
    try {
      runScenario(builtinScenarios.get(scenario)!, { seed: 1, params });
    } catch (error) {
      if (isDsimError(error) && error.code === 'CONFIG_ERROR') return error.message;
      throw error;
    }
    throw new Error(`${scenario} ran with ${JSON.stringify(params)}`);
  };

  it('bounds simulated time: retry-storm with seconds = 1e8 is a CONFIG_ERROR, not a V8 abort', () => {
    expect(refused('retry-storm', { seconds: 1e8 })).toContain('seconds');
  });

  it.each([
    ['retry-storm', { lambda: 20_000 }, 'lambda × seconds × (1 + retries)'],
    ['mmc', { customers: 1e8 }, 'customers'],
    ['goodput-collapse', { peakLambda: 100_000 }, 'peakLambda × peakSeconds'],
    ['distributed-cache', { rate: 50_000 }, 'rate × seconds'],
    ['tail-at-scale', { requests: 100_000 }, 'requests × fanout'],
    ['backoff-jitter', { clients: 10_000, runs: 30 }, 'clients × runs'],
  ])('%s with %j', (scenario, params, named) => {
    expect(refused(scenario, params)).toContain(named);
  });
});
