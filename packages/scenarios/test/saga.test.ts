import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { saga } from '../src/catalogue/saga.js';
import { runScenario } from '../src/scenario.js';

type Figures = Record<string, number | string | boolean | null>;

function byVariant(seed: number, params: Record<string, unknown>, variants?: string[]) {
  const r = runScenario(saga, { seed, params, ...(variants ? { variants } : {}) });
  const by = Object.fromEntries(r.variants.map((v) => [v.name, v.outcome as Figures]));
  return { r, by };
}

const n = (v: Figures, k: string) => v[k] as number;
/** |measured − theory| in standard errors of a share over `started` sagas. */
const z = (v: Figures, k: string) => {
  const p = n(v, `theory${k[0]!.toUpperCase()}${k.slice(1)}`);
  return Math.abs(n(v, k) - p) / Math.sqrt((p * (1 - p)) / n(v, 'started'));
};

describe('saga scenario', () => {
  it.each([
    1, 2,
  ])('seed %i: outcomes match the formulas under both coordinations, duplicates included', (seed) => {
    const { r, by } = byVariant(seed, { sagas: 1500 });
    expect(r).toPassChecks();
    for (const v of Object.values(by)) {
      expect(v.running).toBe(0);
      expect(n(v, 'completed') + n(v, 'compensated') + n(v, 'stuck')).toBe(n(v, 'started'));
      // Defaults: 3 compensable steps and a pivot with f = 0.05, g = 0.1, one attempt.
      expect(n(v, 'theoryPCompleted')).toBeCloseTo(0.95 ** 4, 6);
      expect(z(v, 'pCompleted')).toBeLessThan(4);
      expect(z(v, 'pStuck')).toBeLessThan(4);
      expect(n(v, 'doubleApplied')).toBe(0);
      expect(n(v, 'outOfOrder')).toBe(0);
      // A compensated saga that failed at step k ran k − 1 compensations; with g they stop early.
      expect(n(v, 'theoryCompensationsAfterStep4')).toBeCloseTo(0.9 + 0.81 + 0.729, 6);
    }
    const orch = by.orchestration!;
    const chor = by.choreography!;
    // Five steps: 2 messages per attempt against one event per settled step plus the start.
    expect(n(orch, 'messagesPerSaga')).toBeGreaterThan(1.7 * n(chor, 'messagesPerSaga'));
    expect(n(orch, 'networkMessagesPerSaga')).toBe(n(orch, 'messagesPerSaga'));
    expect(n(chor, 'networkMessagesPerSaga')).toBeGreaterThan(3.9 * n(chor, 'messagesPerSaga'));
    // 4 × (10 + 2) + (10 + 2) / 0.7 + 100 × 0.3 / 0.7 = 108 ms, as the orchestration check says.
    expect(n(orch, 'theoryLatencyCompletedMs')).toBeCloseTo(108, 6);
    for (const name of ['orchestration-at-least-once', 'choreography-at-least-once']) {
      const v = by[name]!;
      expect(n(v, 'resentOrRedelivered')).toBeGreaterThan(300);
      expect(n(v, 'absorbed')).toBeGreaterThan(300);
      expect(n(v, 'messagesPerSaga')).toBeGreaterThan(n(v, 'theoryMessagesPerSaga'));
    }
  });

  it('failure at each step and stuck sagas with retried compensations, and a wrong model fails', () => {
    const { r, by } = byVariant(
      3,
      {
        sagas: 3000,
        compensable: 4,
        failureProbability: 0.12,
        compensationFailureProbability: 0.4,
        compensationAttempts: 2,
        compensationBackoffMs: 10,
      },
      ['orchestration'],
    );
    expect(r).toPassChecks();
    const v = by.orchestration!;
    const started = n(v, 'started');
    for (let k = 1; k <= 5; k++) {
      const expected = n(v, `theoryFailedAtStep${k}`);
      expect(expected).toBeCloseTo(started * 0.12 * 0.88 ** (k - 1), 6);
      expect(Math.abs(n(v, `failedAtStep${k}`) - expected)).toBeLessThan(4 * Math.sqrt(expected));
    }
    // P(stuck) = Σ_k P(fail at k) (1 − (1 − g²)^(k − 1)), g² = 0.16.
    let stuck = 0;
    for (let k = 1; k <= 5; k++) stuck += 0.12 * 0.88 ** (k - 1) * (1 - 0.84 ** (k - 1));
    expect(n(v, 'theoryPStuck')).toBeCloseTo(stuck, 6);
    expect(z(v, 'pStuck')).toBeLessThan(4);
    // Forgetting the retry (g instead of g²) predicts far more stuck sagas than measured.
    let once = 0;
    for (let k = 1; k <= 5; k++) once += 0.12 * 0.88 ** (k - 1) * (1 - 0.6 ** (k - 1));
    const sd = Math.sqrt((once * (1 - once)) / started);
    expect(Math.abs(n(v, 'pStuck') - once) / sd).toBeGreaterThan(4);
  });

  it('a participant crash delays sagas but every one still ends, as the theory says', () => {
    const { r, by } = byVariant(4, { sagas: 1200, crashMs: 3000 }, ['orchestration', 'choreography']);
    expect(r).toPassChecks();
    for (const v of Object.values(by)) {
      expect(v.running).toBe(0);
      expect(n(v, 'resentOrRedelivered')).toBeGreaterThan(0);
      expect(n(v, 'absorbed')).toBeGreaterThanOrEqual(0);
      expect(z(v, 'pCompleted')).toBeLessThan(4);
    }
    // The choreography waits for the heartbeat (10 s) before the broker requeues what s2 held.
    expect(n(by.choreography!, 'p99LatencyCompletedMs')).toBeGreaterThan(5000);
  });

  it('non-idempotent participants apply duplicates twice', () => {
    const { by } = byVariant(5, { sagas: 800, idempotent: false }, [
      'orchestration-at-least-once',
      'choreography-at-least-once',
    ]);
    for (const v of Object.values(by)) {
      expect(n(v, 'doubleApplied')).toBeGreaterThan(50);
      expect(n(v, 'running')).toBe(0);
    }
    expect(n(by['choreography-at-least-once']!, 'leaked')).toBeGreaterThan(0);
  });

  it('names bad parameters', () => {
    expect(() => runScenario(saga, { seed: 1, params: { sagaz: 3 } })).toThrow(/sagaz/);
    expect(() => runScenario(saga, { seed: 1, params: { failureProbability: 2 } })).toThrow(
      /failureProbability/,
    );
    expect(() =>
      runScenario(saga, {
        seed: 1,
        params: { compensable: 0, pivot: false, retryable: 0 },
        variants: ['orchestration'],
      }),
    ).toThrow(/at least one step/);
  });
});
