import { DsimError, exponential, Network, RpcEndpoint, type RpcResponse, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import { AimdLimit } from '../src/resilience/adaptive/aimd-limit.js';
import { ConcurrencyLimiter, type LimiterPermit } from '../src/resilience/adaptive/concurrency-limiter.js';
import { CRITICALITIES, type Criticality } from '../src/resilience/adaptive/criticality.js';
import { FixedLimit } from '../src/resilience/adaptive/fixed-limit.js';
import type { ConcurrencyLimit } from '../src/resilience/adaptive/limit.js';
import { WindowedLimit } from '../src/resilience/adaptive/windowed-limit.js';

/** A limit whose value a test sets (the library's SettableLimit). */
function settable(initial: number): ConcurrencyLimit & { set(limit: number): void } {
  let value = initial;
  return {
    kind: 'settable',
    get limit() {
      return value;
    },
    onSample() {},
    set: (l) => (value = l),
  };
}

describe('ConcurrencyLimiter (SimpleLimiter)', () => {
  it('admits while fewer than limit are in flight, and feeds each outcome back as a sample', () => {
    const samples: unknown[][] = [];
    const limit: ConcurrencyLimit = { kind: 'spy', limit: 2, onSample: (...a) => samples.push(a) };
    const limiter = new ConcurrencyLimiter({ limit });
    const a = limiter.acquire(10)!;
    const b = limiter.acquire(11)!;
    expect(limiter.acquire(12)).toBeUndefined();
    expect(a.inflight).toBe(1);
    expect(b.inflight).toBe(2);
    a.success(25);
    b.dropped(40);
    const c = limiter.acquire(41)!;
    c.ignore();
    expect(samples).toEqual([
      [10, 15, 1, false],
      [11, 29, 2, true],
    ]);
    expect(limiter.stats).toEqual({
      limit: 2,
      inflight: 0,
      acquired: 3,
      rejected: 1,
      succeeded: 1,
      dropped: 1,
      ignored: 1,
    });
  });

  it('a limit lowered below the requests in flight refuses new ones until enough have finished', () => {
    const limit = settable(4);
    const limiter = new ConcurrencyLimiter({ limit });
    const held = [0, 1, 2, 3].map(() => limiter.acquire(0)!);
    limit.set(2);
    held[0]!.success(1);
    held[1]!.success(1);
    expect(limiter.acquire(1)).toBeUndefined(); // 2 in flight, limit 2
    held[2]!.success(2);
    expect(limiter.acquire(2)).toBeDefined();
  });

  it('a number is a FixedLimit; a permit released twice, or before it started, is an error', () => {
    const limiter = new ConcurrencyLimiter({ limit: 1 });
    expect(limiter.algorithm).toBeInstanceOf(FixedLimit);
    const p = limiter.acquire(5)!;
    expect(() => p.success(4)).toThrow(/now must be a finite time >= the permit's start \(5 ms\)/);
    p.success(6);
    expect(() => p.success(7)).toThrow(DsimError);
    expect(() => p.ignore()).toThrow(/released twice/);
    expect(() => limiter.acquire(8, 'batch')).toThrow(
      /group must be undefined: this limiter has no partitions/,
    );
    expect(() => new ConcurrencyLimiter({ limit: 0 })).toThrow(/limit must be an integer >= 1/);
    expect(() => new ConcurrencyLimiter({ limit: 3, partitions: { a: 1 }, criticality: true })).toThrow(
      /criticality must be left out when partitions are given/,
    );
    expect(() => new ConcurrencyLimiter({ limt: 3 } as never)).toThrow(/did you mean "limit"/);
  });
});

describe('ConcurrencyLimiter with partitions (AbstractPartitionedLimiter)', () => {
  const make = (limit: ConcurrencyLimit | number = 10) =>
    new ConcurrencyLimiter({ limit, partitions: { batch: 0.3, live: 0.7 } });

  it("the library's cases: shares, excess capacity, exceeding the total for an unused partition", () => {
    const limiter = make();
    expect(limiter.groups.map((g) => [g.name, g.limit])).toEqual([
      ['batch', 3],
      ['live', 7],
      ['unknown', 0],
    ]);
    // Below the limit any partition is admitted: batch takes all 10.
    for (let i = 0; i < 10; i++) expect(limiter.acquire(0, 'batch')).toBeDefined();
    expect(limiter.acquire(0, 'batch')).toBeUndefined();
    // At the limit, live still has its guaranteed 7: in flight goes to 17, above the limit.
    for (let i = 0; i < 7; i++) expect(limiter.acquire(0, 'live')).toBeDefined();
    expect(limiter.acquire(0, 'live')).toBeUndefined();
    expect(limiter.inflight).toBe(17);
  });

  it('once every share is used, both are refused; a release makes room again', () => {
    const limiter = make();
    const first = limiter.acquire(0, 'batch')!;
    for (let i = 0; i < 2; i++) limiter.acquire(0, 'batch');
    for (let i = 0; i < 7; i++) limiter.acquire(0, 'live');
    expect(limiter.acquire(0, 'batch')).toBeUndefined();
    expect(limiter.acquire(0, 'live')).toBeUndefined();
    first.success(1);
    expect(limiter.acquire(1, 'batch')).toBeDefined();
    expect(limiter.groups[0]).toMatchObject({ name: 'batch', inflight: 3, acquired: 4, rejected: 1 });
  });

  it('shares follow the limit (rounded up, at least 1); an unknown partition only gets spare capacity', () => {
    const limit = settable(10);
    const limiter = make(limit);
    limit.set(20);
    expect(limiter.groups.map((g) => g.limit)).toEqual([6, 14, 0]);
    limit.set(1);
    expect(limiter.groups.map((g) => g.limit)).toEqual([1, 1, 0]);
    limit.set(2);
    expect(limiter.acquire(0, 'nobody')).toBeDefined();
    expect(limiter.acquire(0)).toBeDefined(); // no partition: unknown
    expect(limiter.acquire(0, 'nobody')).toBeUndefined(); // at the limit, unknown's share is 0
    expect(limiter.acquire(0, 'live')).toBeDefined();
  });

  it('rejects shares out of [0, 1], a sum above 1, and the reserved name', () => {
    expect(() => new ConcurrencyLimiter({ limit: 4, partitions: { a: 0.7, b: 0.4 } })).toThrow(
      /summing to at most 1 \(they sum to 1.1\)/,
    );
    expect(() => new ConcurrencyLimiter({ limit: 4, partitions: { a: 1.5 } })).toThrow(
      /partitions.a must be a share/,
    );
    expect(() => new ConcurrencyLimiter({ limit: 4, partitions: { unknown: 0.5 } })).toThrow(
      /reserved|another name/,
    );
    expect(() => new ConcurrencyLimiter({ limit: 4, partitions: {} })).toThrow(/at least one partition/);
  });
});

describe('ConcurrencyLimiter by criticality (SRE book, Handling Overload)', () => {
  it('nested thresholds: max(1, floor(share x limit)) with the default shares 1, 0.9, 0.8, 0.7', () => {
    const limiter = new ConcurrencyLimiter({ limit: 20, criticality: true });
    expect(limiter.groups.map((g) => [g.name, g.limit])).toEqual([
      ['CRITICAL_PLUS', 20],
      ['CRITICAL', 18],
      ['SHEDDABLE_PLUS', 16],
      ['SHEDDABLE', 14],
    ]);
    expect(() => new ConcurrencyLimiter({ limit: 4, criticality: { SHEDDABLE: 0.95 } })).toThrow(
      /SHEDDABLE must be a share <= SHEDDABLE_PLUS's \(0.8\)/,
    );
    expect(() => new ConcurrencyLimiter({ limit: 4, criticality: { CRITICAL_PLUS: 0.9 } })).toThrow(
      /CRITICAL_PLUS must be 1/,
    );
    expect(() => new ConcurrencyLimiter({ limit: 4, criticality: { BEST_EFFORT: 0.1 } as never })).toThrow(
      /BEST_EFFORT/,
    );
    expect(() => limiterAcquire(limiter, 'LOW')).toThrow(/group must be a criticality/);
  });

  it('a criticality is refused only when every lower one would be refused too (random sequences)', () => {
    const sim = new Simulation({ seed: 3 });
    const rng = sim.rng('ops');
    const limit = settable(12);
    const limiter = new ConcurrencyLimiter({ limit, criticality: true });
    const held: LimiterPermit[] = [];
    for (let step = 0; step < 10_000; step++) {
      if (rng.next() < 0.01) limit.set(1 + Math.floor(rng.next() * 30));
      if (held.length > 0 && rng.next() < 0.45)
        held.splice(Math.floor(rng.next() * held.length), 1)[0]!.success(step);
      const level = CRITICALITIES[Math.floor(rng.next() * 4)]!;
      const permit = limiter.acquire(step, level);
      if (permit !== undefined) {
        held.push(permit);
        continue;
      }
      // Refused at this in-flight count: every lower criticality's threshold is no higher.
      const thresholds = limiter.groups.map((g) => g.limit);
      const i = CRITICALITIES.indexOf(level);
      for (let j = i; j < 4; j++) expect(limiter.inflight).toBeGreaterThanOrEqual(thresholds[j]!);
    }
  });

  it('under overload behind a service, lower criticalities are shed first and CRITICAL_PLUS hardly at all', () => {
    for (const seed of [1, 2, 3]) {
      const shed = overloadByCriticality(seed);
      // Shares of each level refused, most critical first: strictly increasing.
      for (let i = 1; i < 4; i++) expect(shed[i]!, `seed ${seed}: ${shed}`).toBeGreaterThan(shed[i - 1]!);
      expect(shed[0]!).toBeLessThan(0.02);
      expect(shed[3]!).toBeGreaterThan(0.7);
      // Shedding by criticality keeps the service busy: all in all 1 - capacity / offered = 1 - 800 / 1280
      // is refused (measured 0.376-0.379 over seeds 1-3).
      const all = shed.reduce((a, b) => a + b, 0) / 4;
      expect(Math.abs(all - 0.375)).toBeLessThan(0.02);
    }
  });
});

function limiterAcquire(limiter: ConcurrencyLimiter, group: string) {
  return limiter.acquire(0, group);
}

/**
 * Poisson arrivals at 1.6x an 8-worker service's capacity, a quarter of each criticality, through a
 * limiter with an AIMD limit; returns the share refused per criticality.
 */
function overloadByCriticality(seed: number): number[] {
  const sim = new Simulation({ seed });
  const net = new Network(sim);
  const server = new RpcEndpoint(net.addNode('server'));
  const limiter = new ConcurrencyLimiter({
    limit: new WindowedLimit(new AimdLimit({ initialLimit: 16, minLimit: 4, maxLimit: 64, timeout: 30 }), {
      minWindowTime: 100,
      maxWindowTime: 100,
    }),
    criticality: true,
  });
  const service = exponential({ mean: 10 });
  const rng = sim.rng('service');
  let busy = 0;
  const queue: (() => void)[] = [];
  server.serve((_request, reply) => {
    const run = () => {
      busy++;
      net.node('server').setTimer(service.sample(rng), () => {
        busy--;
        reply.ok(null);
        queue.shift()?.();
      });
    };
    if (busy < 8) run();
    else queue.push(run);
  });
  const client = new RpcEndpoint(net.addNode('client'));
  const offered = [0, 0, 0, 0];
  const refused = [0, 0, 0, 0];
  const gaps = exponential({ rate: 1.28 });
  const pick = sim.rng('criticality');
  sim.process(function* () {
    while (sim.now < 20_000) {
      const level = Math.floor(pick.next() * 4);
      const permit = limiter.acquire(sim.now, CRITICALITIES[level] as Criticality);
      if (sim.now > 2000) offered[level]!++;
      if (permit === undefined) {
        if (sim.now > 2000) refused[level]!++;
      } else {
        client.call('server', null).onProcessed((e) => {
          const res = e.value as RpcResponse;
          if (res.ok) permit.success(sim.now);
          else permit.dropped(sim.now);
        });
      }
      yield sim.timeout(gaps.sample(rng));
    }
  });
  sim.run();
  return refused.map((r, i) => r / offered[i]!);
}
