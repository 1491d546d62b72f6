/**
 * Vitest matchers for scenario results, so a seeded simulation can sit in CI as a regression test.
 * Import once for its side effect, e.g. in `setupFiles` or at the top of a test file:
 *
 * ```ts
 * import '@dsim/scenarios/vitest';
 * const result = runScenario(mmc, { seed: 1 });
 * expect(result).toPassChecks();
 * expect(result).toHaveP99Below(8000);
 * expect(result).toHaveDigest('b04ea4d25472bd3b');
 * ```
 *
 * Every failure message carries the seed and the reproduce line.
 */
import { expect } from 'vitest';
import type { RunMetrics } from './request-stats.js';
import type { ScenarioResult } from './scenario.js';
import type { SweepResult } from './sweep/aggregate.js';
import { studentTQuantile } from './sweep/stats.js';

/** Which variant a matcher looks at. */
export interface MatcherOptions {
  /**
   * The variant to check. Without it, a result with variants is checked variant by variant and passes
   * only when every variant does (the message names those that did not).
   * @default every variant
   */
  variant?: string;
}

/** The dsim matchers added to vitest's `expect`. */
export interface DsimMatchers<R = unknown> {
  /** Every check of the result (every variant's, and cross-variant ones) passed. */
  toPassChecks(): R;
  /**
   * p99 latency (`metrics.latencyMs.p99`) is strictly below `ms`. Fails when no request was recorded.
   * @example
   * ```ts
   * expect(result).toHaveP99Below(250, { variant: 'breaker' });
   * ```
   */
  toHaveP99Below(ms: number, options?: MatcherOptions): R;
  /** `metrics.availability` is at least `ratio` (0 to 1). Fails when no request finished. */
  toHaveAvailabilityAtLeast(ratio: number, options?: MatcherOptions): R;
  /** The run digest equals `digest`: the run is byte-for-byte the recorded one. */
  toHaveDigest(digest: string): R;
  /**
   * On a sweep result: the mean of `figure` is below `bound` with the given confidence at every point
   * (or at `point`), that is the one-sided upper bound `mean + t(confidence, n − 1) · sd / √n` is
   * below it. Fails for a point with fewer than two replications (no interval).
   * @example
   * ```ts
   * expect(sweep(mmc, { seeds, grid })).toHaveMeanBelow('meanWait', 200, { confidence: 0.95 });
   * ```
   */
  toHaveMeanBelow(figure: string, bound: number, options?: SweepMatcherOptions): R;
  /** On a sweep result: the one-sided lower bound of `figure`'s mean is above `bound` (see toHaveMeanBelow). */
  toHaveMeanAbove(figure: string, bound: number, options?: SweepMatcherOptions): R;
}

/** Options of the sweep matchers. */
export interface SweepMatcherOptions {
  /** Confidence of the one-sided bound, in (0, 1). @default the sweep's confidence level */
  confidence?: number;
  /** Check only this point (its id, e.g. `servers=3`). @default every point */
  point?: string;
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

interface Target {
  label: string;
  metrics: RunMetrics;
}

/** The metrics a matcher looks at: one named variant, every variant, or the run without variants. */
function targets(r: ScenarioResult, options: MatcherOptions | undefined, matcher: string): Target[] {
  if (options !== undefined && (options === null || typeof options !== 'object'))
    throw new TypeError(`${matcher}: options must be { variant?: string }, got ${String(options)}`);
  const wanted = options?.variant;
  if (wanted !== undefined) {
    const v = r.variants.find((x) => x.name === wanted);
    if (v === undefined) {
      throw new TypeError(
        r.variants.length === 0
          ? `${matcher}: scenario ${r.scenario} has no variants, got { variant: ${JSON.stringify(wanted)} }`
          : `${matcher}: no variant ${JSON.stringify(wanted)} in this result; variants: ${r.variants.map((x) => x.name).join(', ')}`,
      );
    }
    return [{ label: `variant ${v.name}`, metrics: v.metrics }];
  }
  if (r.variants.length === 0) return [{ label: 'the run', metrics: r.metrics }];
  return r.variants.map((v) => ({ label: `variant ${v.name}`, metrics: v.metrics }));
}

/** A metric check over every target: passes when each has requests and meets the bound. */
function judge(
  r: ScenarioResult,
  list: Target[],
  isNot: boolean,
  value: (m: RunMetrics) => number | null,
  meets: (v: number) => boolean,
  what: string,
) {
  const empty = list.filter((t) => t.metrics.requests === 0 || value(t.metrics) === null);
  const failing = list.filter((t) => !empty.includes(t) && !meets(value(t.metrics)!));
  const shown = list.map((t) => `${t.label}: ${value(t.metrics) ?? 'no requests'}`).join(', ');
  return {
    pass: empty.length === 0 && failing.length === 0,
    message: () =>
      empty.length > 0 && !isNot
        ? `expected ${what}, but no requests were recorded for ${empty.map((t) => t.label).join(', ')} (does the scenario call ctx.requests.start() and finish()?) ${where(r)}`
        : isNot
          ? `expected ${what} not to hold, but it held (${shown}) ${where(r)}`
          : `expected ${what}; failed for ${failing.map((t) => `${t.label} (${value(t.metrics)})`).join(', ')} ${where(r)}`,
  };
}

/** The one-sided bound of each point's mean and whether it is on the right side of `bound`. */
function meanBound(
  received: unknown,
  figure: string,
  bound: number,
  options: SweepMatcherOptions | undefined,
  side: 'below' | 'above',
  isNot: boolean,
) {
  const matcher = side === 'below' ? 'toHaveMeanBelow' : 'toHaveMeanAbove';
  const r = received as Partial<SweepResult> | null;
  if (r === null || typeof r !== 'object' || !Array.isArray(r.points) || r.spec === undefined)
    throw new TypeError(`${matcher} expects a sweep result from sweep(), got ${typeof received}`);
  const confidence = options?.confidence ?? r.spec.confidence;
  if (!(confidence > 0 && confidence < 1))
    throw new TypeError(`${matcher}: confidence must be in (0, 1), got ${String(confidence)}`);
  const points = options?.point === undefined ? r.points : r.points.filter((p) => p.id === options.point);
  if (points.length === 0)
    throw new TypeError(
      `${matcher}: no point ${JSON.stringify(options?.point)}; points: ${r.points.map((p) => p.id).join(', ')}`,
    );
  const rows = points.map((p) => {
    const s = p.figures[figure];
    if (s === undefined)
      throw new TypeError(
        `${matcher}: no figure ${JSON.stringify(figure)} at ${p.id || 'the point'}; figures: ${Object.keys(p.figures).join(', ')}`,
      );
    if (s.n < 2 || s.mean === null || s.sd === null) return { id: p.id, limit: null, ok: false };
    const t = studentTQuantile(confidence, s.n - 1) * (s.sd / Math.sqrt(s.n));
    const limit = side === 'below' ? s.mean + t : s.mean - t;
    return { id: p.id, limit, ok: side === 'below' ? limit < bound : limit > bound };
  });
  const failing = rows.filter((x) => !x.ok);
  const shown = rows.map(
    (x) => `${x.id || '(all)'}: ${x.limit === null ? 'fewer than 2 runs' : Number(x.limit.toPrecision(6))}`,
  );
  const what = `the mean of ${figure} ${side} ${bound} with ${confidence} confidence`;
  return {
    pass: failing.length === 0,
    message: () =>
      isNot
        ? `expected ${what} not to hold, but it held (${side === 'below' ? 'upper' : 'lower'} bounds ${shown.join(', ')})`
        : `expected ${what}; ${side === 'below' ? 'upper' : 'lower'} bounds: ${shown.join(', ')}; reproduce with dsim sweep ${r.spec!.scenario}`,
  };
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
  toHaveP99Below(this: { isNot: boolean }, received: unknown, ms: number, options?: MatcherOptions) {
    assertResult(received, 'toHaveP99Below');
    const list = targets(received, options, 'toHaveP99Below');
    return judge(
      received,
      list,
      this.isNot,
      (m) => m.latencyMs.p99,
      (v) => v < ms,
      `p99 below ${ms} ms`,
    );
  },
  toHaveAvailabilityAtLeast(
    this: { isNot: boolean },
    received: unknown,
    ratio: number,
    options?: MatcherOptions,
  ) {
    assertResult(received, 'toHaveAvailabilityAtLeast');
    const list = targets(received, options, 'toHaveAvailabilityAtLeast');
    return judge(
      received,
      list,
      this.isNot,
      (m) => m.availability,
      (v) => v >= ratio,
      `availability at least ${ratio}`,
    );
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

  toHaveMeanBelow(
    this: { isNot: boolean },
    received: unknown,
    figure: string,
    bound: number,
    options?: SweepMatcherOptions,
  ) {
    return meanBound(received, figure, bound, options, 'below', this.isNot);
  },
  toHaveMeanAbove(
    this: { isNot: boolean },
    received: unknown,
    figure: string,
    bound: number,
    options?: SweepMatcherOptions,
  ) {
    return meanBound(received, figure, bound, options, 'above', this.isNot);
  },
};

expect.extend(dsimMatchers);
