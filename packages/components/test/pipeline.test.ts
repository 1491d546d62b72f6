import { exponential, Simulation } from '@dsim/core';
import { describe, expect, it } from 'vitest';
import type { BufferSpec } from '../src/messaging/pipeline/buffer.js';
import { backpressureFluid } from '../src/messaging/pipeline/fluid.js';
import { Pipeline, type PipelineStats } from '../src/messaging/pipeline/pipeline.js';
import { openLoop } from '../src/workload/open-loop.js';

/** Three stages: fast, medium, slow last (capacities 500, 250, 100 per second), the same buffer before each. */
function threeStages(sim: Simulation, buffer: BufferSpec | undefined, name = 'p'): Pipeline {
  return new Pipeline(sim, {
    name,
    stages: [
      { name: 'a', serviceTime: exponential({ mean: 2 }), ...(buffer ? { input: buffer } : {}) },
      { name: 'b', workers: 2, serviceTime: exponential({ mean: 8 }), ...(buffer ? { input: buffer } : {}) },
      { name: 'c', serviceTime: exponential({ mean: 10 }), ...(buffer ? { input: buffer } : {}) },
    ],
  });
}

const conserved = (s: PipelineStats): boolean =>
  s.produced === s.completed + s.dropped + s.buffered + s.inService + s.blocked;

interface Run {
  stats: PipelineStats;
  pipeline: Pipeline;
  violations: number;
  samples: number;
}

/** Open-loop Poisson source at `rate` for `seconds`, checking conservation every 7 ms. */
function openRun(seed: number, buffer: BufferSpec | undefined, rate = 150, seconds = 60): Run {
  const sim = new Simulation({ seed });
  const pipeline = threeStages(sim, buffer);
  openLoop(sim, {
    arrivals: { kind: 'poisson', rate },
    onArrival: () => pipeline.offer(),
    until: seconds * 1000,
    stream: 'src',
  });
  let violations = 0;
  let samples = 0;
  const probe = (): void => {
    samples++;
    if (!conserved(pipeline.stats)) violations++;
    if (sim.now < seconds * 1000) sim.schedule(7, probe);
  };
  sim.schedule(0, probe);
  sim.run({ until: seconds * 1000 });
  return { stats: pipeline.stats, pipeline, violations, samples };
}

describe('Pipeline options are strict', () => {
  const sim = new Simulation({ seed: 1 });
  it('rejects unknown keys with a did-you-mean, and bad values', () => {
    expect(() => new Pipeline(sim, { stages: [{ serviceTime: 1, worker: 2 } as never] })).toThrow(
      /did you mean "stages\[0\]\.workers"/,
    );
    expect(() => new Pipeline(sim, { stage: [] } as never)).toThrow(/did you mean "stages"/);
    expect(() => new Pipeline(sim, { stages: [] })).toThrow(/stages must be a non-empty array/);
    expect(
      () =>
        new Pipeline(sim, {
          stages: [{ serviceTime: 1, input: { kind: 'bounded', capacity: 5, onFull: 'drop-new' as never } }],
        }),
    ).toThrow(/stages\[0\]\.input\.onFull must be one of .* \(did you mean "drop-newest"\?\)/);
    expect(
      () =>
        new Pipeline(sim, { stages: [{ serviceTime: 1, input: { kind: 'bounded', capacty: 5 } as never }] }),
    ).toThrow(/did you mean "stages\[0\]\.input\.capacity"/);
    expect(
      () =>
        new Pipeline(sim, { stages: [{ serviceTime: 1, input: { kind: 'credit', credits: 4, batch: 5 } }] }),
    ).toThrow(/batch must be an integer in \[1, credits = 4\]/);
    expect(
      () => new Pipeline(sim, { stages: [{ serviceTime: 1, input: { kind: 'credits' } as never }] }),
    ).toThrow(/did you mean "credit"/);
    expect(() => new Pipeline(sim, { stages: [{ serviceTime: { mean: 3 } as never }] })).toThrow(
      /serviceTime must be a distribution/,
    );
    expect(
      () =>
        new Pipeline(sim, {
          stages: [
            { name: 'x', serviceTime: 1 },
            { name: 'x', serviceTime: 1 },
          ],
        }),
    ).toThrow(/unique/);
  });
});

describe('Pipeline conservation: produced = completed + dropped + buffered + inService + blocked', () => {
  const kinds: [string, BufferSpec | undefined][] = [
    ['unbounded', undefined],
    ['block', { kind: 'bounded', capacity: 10 }],
    ['drop-newest', { kind: 'bounded', capacity: 10, onFull: 'drop-newest' }],
    ['drop-oldest', { kind: 'bounded', capacity: 10, onFull: 'drop-oldest' }],
    ['credit', { kind: 'credit', credits: 8, batch: 2, creditDelay: 3 }],
  ];
  it.each(kinds)('%s, seeds 1-4, every 7 ms', (_, buffer) => {
    for (const seed of [1, 2, 3, 4]) {
      const r = openRun(seed, buffer, 150, 20);
      expect(r.violations).toBe(0);
      expect(r.samples).toBeGreaterThan(2800);
      expect(r.stats.completed).toBeGreaterThan(1500);
    }
  });
});

describe('Pipeline behaviour against the fluid model', () => {
  const fluid = backpressureFluid(150, [
    { workers: 1, meanServiceMs: 2 },
    { workers: 2, meanServiceMs: 8 },
    { workers: 1, meanServiceMs: 10 },
  ]);

  it('fluid model numbers', () => {
    expect(fluid.capacities).toEqual([500, 250, 100]);
    expect(fluid.bottleneck).toBe(2);
    expect(fluid.throughput).toBe(100);
    expect(fluid.growthPerSecond).toEqual([0, 0, 50]);
    expect(fluid.lossShare).toBeCloseTo(1 / 3, 12);
    expect(backpressureFluid(80, [{ workers: 1, meanServiceMs: 10 }]).lossShare).toBe(0);
    expect(() => backpressureFluid(0, [{ workers: 1, meanServiceMs: 1 }])).toThrow(/lambda/);
  });

  it('unbounded: the buffer before the bottleneck grows at lambda - mu', () => {
    const r = openRun(1, undefined, 150, 60);
    const c = r.pipeline.buffers[2]!.stats;
    // 60 s at +50/s: about 3000, with a Poisson-like spread of a few hundred.
    expect(Math.abs(r.stats.buffered - 3000)).toBeLessThan(400);
    expect(c.depth).toBeGreaterThan(0.9 * r.stats.buffered);
    expect(r.stats.dropped + r.stats.rejected).toBe(0);
  });

  it('bounded + block: buffers stay at their bounds, the edge rejects 1 - mu/lambda, throughput mu', () => {
    const r = openRun(2, { kind: 'bounded', capacity: 10 }, 150, 60);
    for (const b of r.pipeline.buffers.slice(1)) expect(b.stats.maxDepth).toBeLessThanOrEqual(10);
    const offered = r.stats.produced + r.stats.rejected;
    expect(Math.abs(r.stats.rejected / offered - 1 / 3)).toBeLessThan(0.03);
    expect(Math.abs(r.stats.completed / 60 - 100)).toBeLessThan(6);
    // The slow stage's buffer is nearly always full, and the medium stage's workers spend time blocked.
    expect(r.pipeline.buffers[2]!.stats.meanDepth).toBeGreaterThan(8);
    expect(r.pipeline.stages[1]!.stats.blockedMs).toBeGreaterThan(10_000);
  });

  it('bounded + drop-newest / drop-oldest: a share 1 - mu/lambda is dropped', () => {
    for (const onFull of ['drop-newest', 'drop-oldest'] as const) {
      const r = openRun(3, { kind: 'bounded', capacity: 10, onFull }, 150, 60);
      expect(Math.abs(r.stats.dropped / r.stats.produced - 1 / 3)).toBeLessThan(0.03);
      expect(r.stats.rejected).toBe(0);
      const perBuffer = r.pipeline.buffers.map((b) => b.stats.dropped);
      expect(perBuffer.reduce((x, y) => x + y, 0)).toBe(r.stats.dropped);
      // Nearly all the loss is in front of the bottleneck (the edge sees bursts only).
      expect(perBuffer[2]!).toBeGreaterThan(0.9 * r.stats.dropped);
    }
  });

  it('credit: credits held + buffered + returning = window at every moment; depth <= credits', () => {
    const sim = new Simulation({ seed: 5 });
    const window = 6;
    const pipeline = threeStages(sim, { kind: 'credit', credits: window, batch: 3, creditDelay: 2 });
    openLoop(sim, {
      arrivals: { kind: 'poisson', rate: 150 },
      onArrival: () => pipeline.offer(),
      until: 30_000,
    });
    let bad = 0;
    const probe = (): void => {
      for (const b of pipeline.buffers.slice(1)) {
        const s = b.stats;
        if (s.credits + s.depth + s.creditsReturning !== window || s.depth > window) bad++;
      }
      if (sim.now < 30_000) sim.schedule(3, probe);
    };
    sim.schedule(0, probe);
    sim.run({ until: 30_000 });
    expect(bad).toBe(0);
    expect(Math.abs(pipeline.stats.completed / 30 - 100)).toBeLessThan(8);
  });

  it('credit with a delay: a window below the bandwidth-delay product starves the consumer', () => {
    const run = (credits: number): number => {
      const sim = new Simulation({ seed: 6 });
      const pipeline = new Pipeline(sim, {
        stages: [
          { name: 'fast', serviceTime: 1, input: { kind: 'bounded', capacity: 1 } },
          { name: 'slow', serviceTime: 10, input: { kind: 'credit', credits, creditDelay: 50 } },
        ],
      });
      sim.process(function* () {
        for (;;) yield pipeline.put();
      });
      sim.run({ until: 20_000 });
      return pipeline.stats.completed / 20;
    };
    // 100/s through a 50 ms credit loop needs about 100 × 0.05 = 5 credits in flight (plus one being served).
    expect(run(2)).toBeLessThan(45);
    expect(run(10)).toBeGreaterThan(98);
  });

  it('closed-loop producer: throttled to the bottleneck rate, nothing lost, buffers at their bounds', () => {
    const sim = new Simulation({ seed: 7 });
    const pipeline = threeStages(sim, { kind: 'bounded', capacity: 5 });
    sim.process(function* () {
      for (;;) yield pipeline.put();
    });
    sim.run({ until: 60_000 });
    const s = pipeline.stats;
    expect(s.dropped + s.rejected).toBe(0);
    expect(Math.abs(s.completed / 60 - 100)).toBeLessThan(6);
    expect(s.sourceWaiting).toBe(1);
    expect(s.sourceBlockedMs).toBeGreaterThan(50_000);
    expect(conserved(s)).toBe(true);
    // Memory is bounded: every buffer at most its capacity, so at most 3 × 5 buffered.
    expect(s.buffered).toBeLessThanOrEqual(15);
  });

  it('is deterministic', () => {
    const a = openRun(11, { kind: 'bounded', capacity: 4, onFull: 'drop-oldest' }, 150, 10).stats;
    const b = openRun(11, { kind: 'bounded', capacity: 4, onFull: 'drop-oldest' }, 150, 10).stats;
    expect(b).toEqual(a);
    expect(openRun(12, { kind: 'bounded', capacity: 4, onFull: 'drop-oldest' }, 150, 10).stats).not.toEqual(
      a,
    );
  });

  it('emits trace records for drops and rejects', () => {
    const sim = new Simulation({ seed: 1 });
    const types = new Map<string, number>();
    sim.inspect((r) => types.set(r.type, (types.get(r.type) ?? 0) + 1));
    const pipeline = new Pipeline(sim, {
      stages: [
        { name: 'x', serviceTime: 10, input: { kind: 'bounded', capacity: 1 } },
        { name: 'y', serviceTime: 10, input: { kind: 'bounded', capacity: 1, onFull: 'drop-newest' } },
      ],
    });
    for (let i = 0; i < 5; i++) pipeline.offer();
    sim.run({ until: 100 });
    expect(types.get('@dsim.pipeline.reject')).toBe(3);
    expect(pipeline.stats.rejected).toBe(3);
  });
});
