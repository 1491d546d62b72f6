import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { prefetch, prefetchBurstTheory } from '../src/catalogue/prefetch.js';
import { runScenario } from '../src/scenario.js';

const outcome = (r: ReturnType<typeof runScenario>, name: string) =>
  r.variants.find((v) => v.name === name)!.outcome;

describe('prefetchBurstTheory', () => {
  it('C-T4: 100 messages, 2 consumers at 1 msg/s with prefetch 10: done at 50 s, half each', () => {
    const t = prefetchBurstTheory({ messages: 100, prefetch: 10, fastMs: 1000, slowMs: 1000, latencyMs: 0 });
    expect(t.finishMs).toBeCloseTo(50_000, 6);
    expect(t.fast).toBeCloseTo(50, 6);
  });

  it('prefetch 1 splits by speed (10/11); a window covering the burst splits it in half', () => {
    expect(
      prefetchBurstTheory({ messages: 1100, prefetch: 1, fastMs: 100, slowMs: 1000, latencyMs: 0 }).fastShare,
    ).toBeCloseTo(10 / 11, 2);
    const dealt = prefetchBurstTheory({
      messages: 1100,
      prefetch: 1000,
      fastMs: 100,
      slowMs: 1000,
      latencyMs: 0,
    });
    expect([dealt.fast, dealt.slow, dealt.finishMs]).toEqual([550, 550, 550_000]);
  });

  it('a prefetch of 1 + rtt / processing time keeps a consumer busy; less leaves it waiting for round trips', () => {
    const base = { messages: 1000, fastMs: 100, slowMs: 1000, latencyMs: 50 };
    expect(prefetchBurstTheory({ ...base, prefetch: 1 }).fastRate).toBeCloseTo(1 / 200, 9);
    expect(prefetchBurstTheory({ ...base, prefetch: 2 }).fastRate).toBeCloseTo(1 / 100, 9);
  });
});

describe('prefetch scenario', () => {
  it('every variant matches the fluid model; prefetch 1 finishes first, a window restores throughput over a slow link', () => {
    const r = runScenario(prefetch, { seed: 1 });
    expect(r).toPassChecks();
    expect(outcome(r, 'prefetch-1')).toMatchObject({ fast: 1000, slow: 100 });
    expect(outcome(r, 'prefetch-1000')).toMatchObject({ fast: 550, slow: 550 });
    expect(Math.abs((outcome(r, 'prefetch-1000').finishS as number) / 550 - 1)).toBeLessThan(0.02);
    expect(Math.abs((outcome(r, 'prefetch-1').finishS as number) / 100.8 - 1)).toBeLessThan(0.02);
    expect(outcome(r, 'prefetch-1-far').fast).toBe(930);
    expect(outcome(r, 'prefetch-10-far').throughputPerS as number).toBeGreaterThan(10);
  }, 20_000);

  it('reproduces C-T4 as a run: 100 messages, prefetch 10, two 1 msg/s consumers, done at 50 s', () => {
    const r = runScenario(prefetch, {
      seed: 1,
      params: { messages: 100, prefetch: 10, fastMs: 1000, slowMs: 1000, jitter: 0 },
      variants: ['prefetch-1'], // the user's prefetch 10 overrides the variant's
    });
    expect(r).toPassChecks();
    expect(r.outcome).toMatchObject({ fast: 50, slow: 50 });
    expect(r.outcome.finishS as number).toBeCloseTo(50, 1);
  });

  it('names a bad parameter', () => {
    expect(() => runScenario(prefetch, { seed: 1, params: { prefech: 3 } as never })).toThrow(
      /prefech.*prefetch/,
    );
    expect(() => runScenario(prefetch, { seed: 1, params: { prefetch: 0 } })).toThrow(/prefetch/);
  });
});
