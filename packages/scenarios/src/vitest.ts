/**
 * Vitest matchers for scenario results, so a seeded simulation can sit in CI as a regression test.
 * Import once for its side effect, e.g. in `setupFiles` or at the top of a test file:
 *
 * ```ts
 * import '@dsim/scenarios/vitest';
 * const result = runScenario(mmc, { seed: 1 });
 * expect(result).toPassChecks();
 * expect(result).toHaveP99Below(8000);
 * expect(result).toHaveDigest('4c2e7189bdfc25d7');
 * ```
 *
 * Every failure message carries the seed and the reproduce line.
 */
import { expect } from 'vitest';
import type { ScenarioResult } from './scenario.js';

/** The dsim matchers added to vitest's `expect`. */
export interface DsimMatchers<R = unknown> {
  /** Every check of the result (every variant's, and cross-variant ones) passed. */
  toPassChecks(): R;
  /** The run's p99 latency (`metrics.latencyMs.p99`) is strictly below `ms`. */
  toHaveP99Below(ms: number): R;
  /** `metrics.availability` is at least `ratio` (0 to 1). */
  toHaveAvailabilityAtLeast(ratio: number): R;
  /** The run digest equals `digest`: the run is byte-for-byte the recorded one. */
  toHaveDigest(digest: string): R;
}

declare module 'vitest' {
  interface Matchers<T = any> extends DsimMatchers<T> {}
}

function assertResult(received: unknown, matcher: string): asserts received is ScenarioResult {
  const r = received as Partial<ScenarioResult> | null;
  if (r === null || typeof r !== 'object' || typeof r.seed !== 'string' || typeof r.metrics !== 'object') {
    throw new TypeError(`${matcher} expects a scenario result from runScenario(), got ${typeof received}`);
  }
}

function where(r: ScenarioResult): string {
  return `(scenario ${r.scenario}, seed ${r.seed}; reproduce: ${r.reproduce})`;
}

/** The matcher implementations, for `expect.extend` in custom setups. */
export const dsimMatchers = {
  toPassChecks(this: { isNot: boolean }, received: unknown) {
    assertResult(received, 'toPassChecks');
    const failed = received.checks.filter((c) => !c.pass);
    return {
      pass: failed.length === 0,
      message: () =>
        this.isNot
          ? `expected some check to fail, but all ${received.checks.length} passed ${where(received)}`
          : `expected every check to pass; failed:\n${failed.map((c) => `  - ${c.name}: ${c.detail}`).join('\n')}\n${where(received)}`,
    };
  },
  toHaveP99Below(this: { isNot: boolean }, received: unknown, ms: number) {
    assertResult(received, 'toHaveP99Below');
    const p99 = received.metrics.latencyMs.p99;
    return {
      pass: p99 < ms,
      actual: p99,
      expected: ms,
      message: () =>
        `expected p99 ${p99} ms ${this.isNot ? 'not ' : ''}to be below ${ms} ms ${where(received)}`,
    };
  },
  toHaveAvailabilityAtLeast(this: { isNot: boolean }, received: unknown, ratio: number) {
    assertResult(received, 'toHaveAvailabilityAtLeast');
    const availability = received.metrics.availability;
    return {
      pass: availability >= ratio,
      actual: availability,
      expected: ratio,
      message: () =>
        `expected availability ${availability} ${this.isNot ? 'not ' : ''}to be at least ${ratio} ${where(received)}`,
    };
  },
  toHaveDigest(this: { isNot: boolean }, received: unknown, digest: string) {
    assertResult(received, 'toHaveDigest');
    return {
      pass: received.digest === digest,
      actual: received.digest,
      expected: digest,
      message: () =>
        `expected digest ${received.digest} ${this.isNot ? 'not ' : ''}to be ${digest}: the run is ${this.isNot ? '' : 'no longer '}the recorded one ${where(received)}`,
    };
  },
};

expect.extend(dsimMatchers);
