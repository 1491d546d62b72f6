import { type Duration, toMs } from '../duration.js';
import { invalidArgument } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import { IntervalGrid } from './grid.js';

/** Options for {@link SloTracker}. */
export interface SloOptions {
  /** A request is good when it succeeded within this latency (ms, inclusive). Finite, > 0. */
  latencyTargetMs: number;
  /** Share of requests that must be good, in (0, 1), e.g. 0.999 for "three nines". */
  availabilityTarget: number;
  /** Width of a reporting window: ms or a string such as `"1m"`. Windows start at time 0. */
  window: Duration;
}

const SLO_KEYS = optionKeys<SloOptions>()({ latencyTargetMs: true, availabilityTarget: true, window: true });

/** Compliance figures over a set of requests (the run, or one window). */
export interface SloFigures {
  /** Requests recorded. */
  readonly total: number;
  /** Requests that succeeded within the latency target. */
  readonly good: number;
  /** `total - good`: failed, or succeeded too slowly. */
  readonly bad: number;
  /** `good / total`; 1 when `total` is 0 (nothing went wrong). */
  readonly compliance: number;
  /**
   * Share of the error budget used: for the run, `(bad / total) / errorBudget` (1 = exactly used up);
   * for a window, `bad / (errorBudget × run total)`, the part of the run's budget that window used, so
   * the windows' values add up to the run's (up to rounding).
   */
  readonly budgetBurned: number;
  /**
   * True when `compliance >= target`, i.e. the budget is not overspent: for the run `budgetBurned <= 1`,
   * for a window `burnRate <= 1`.
   */
  readonly met: boolean;
}

/** Figures of one window `[start, end)`. */
export interface SloWindow extends SloFigures {
  /** Window start (ms). */
  readonly start: number;
  /** Window end (ms): the nominal end, or the report time for the last, partial window. */
  readonly end: number;
  /**
   * `(bad / total) / errorBudget` within the window: how fast the budget burns relative to the rate
   * that would use exactly all of it over the run. 1 = on budget, 10 = the budget would last a tenth
   * of the run; 0 in an empty window.
   */
  readonly burnRate: number;
}

/** What {@link SloTracker.report} returns. Ratios are rounded to 12 significant digits. */
export interface SloReport extends SloFigures {
  /** Report time (ms). */
  readonly now: number;
  /** The latency target (ms). */
  readonly latencyTargetMs: number;
  /** The availability target. */
  readonly target: number;
  /** `1 - target`: the share of requests allowed to be bad. */
  readonly errorBudget: number;
  /** Window width (ms). */
  readonly windowMs: number;
  /** Every window from time 0 up to `now`, empty ones included. */
  readonly windows: SloWindow[];
}

/**
 * Tracks a request-based service-level objective: "at least `availabilityTarget` of requests succeed
 * within `latencyTargetMs`", over the run and per fixed window, with error-budget burn as in the Google
 * SRE workbook ("Alerting on SLOs"): the error budget is `1 - target`; the burn rate of a window is its
 * bad-request share divided by the error budget, so 1 spends the budget exactly over the run and 14.4
 * over one hour spends 2% of a 30-day budget. Independent of the simulation: record each request with
 * its completion time; nothing is scheduled.
 *
 * Memory: two numbers per window up to the latest recorded time.
 *
 * @example
 * ```ts
 * const slo = new SloTracker({ latencyTargetMs: 200, availabilityTarget: 0.999, window: '1m' });
 * slo.record(sim.now, reply.ok, sim.now - sentAt);
 * const r = slo.report(sim.now);
 * r.met, r.budgetBurned, r.windows.filter((w) => w.burnRate > 1).length;
 * ```
 */
export class SloTracker {
  /** The latency target (ms). */
  readonly latencyTargetMs: number;
  /** The availability target. */
  readonly target: number;
  /** `1 - target`, rounded to 12 significant digits (so 1 - 0.999 is 0.001, not 0.0010000000000000009). */
  readonly errorBudget: number;
  /** Window width (ms). */
  readonly windowMs: number;
  private readonly grid: IntervalGrid;
  private readonly totals: number[] = [];
  private readonly bads: number[] = [];
  private latest = 0;
  private n = 0;
  private nBad = 0;

  constructor(options: SloOptions) {
    const c = 'SloTracker';
    if (options === null || typeof options !== 'object') {
      throw invalidArgument(
        'options',
        options,
        'an object { latencyTargetMs, availabilityTarget, window }',
        c,
      );
    }
    checkOptions(c, options, SLO_KEYS);
    const { latencyTargetMs, availabilityTarget, window } = options;
    if (typeof latencyTargetMs !== 'number' || !(latencyTargetMs > 0) || latencyTargetMs === Infinity) {
      throw invalidArgument('latencyTargetMs', latencyTargetMs, 'a finite number of ms > 0', c);
    }
    if (typeof availabilityTarget !== 'number' || !(availabilityTarget > 0 && availabilityTarget < 1)) {
      throw invalidArgument('availabilityTarget', availabilityTarget, 'a number in (0, 1) such as 0.999', c);
    }
    if (window === undefined) throw invalidArgument('window', window, 'a duration > 0 such as "1m"', c);
    const windowMs = toMs(window, `${c}: window`);
    if (windowMs === 0) throw invalidArgument('window', window, 'a duration > 0 such as "1m"', c);
    this.latencyTargetMs = latencyTargetMs;
    this.target = availabilityTarget;
    this.errorBudget = tidy(1 - availabilityTarget);
    this.windowMs = windowMs;
    this.grid = new IntervalGrid(0, windowMs);
  }

  /**
   * Records one request that completed at time `t` (ms, >= 0; any order). It is good when `ok` and
   * `latencyMs <= latencyTargetMs`. `latencyMs` may be left out for a failed request. Returns whether
   * the request was good.
   *
   * @example
   * ```ts
   * slo.record(1200, true, 35);  // good
   * slo.record(1300, false);     // bad: failed
   * ```
   */
  record(t: number, ok: boolean, latencyMs?: number): boolean {
    if (typeof t !== 'number' || !(t >= 0) || t === Infinity) {
      throw invalidArgument('t', t, 'a finite time in ms >= 0');
    }
    if (typeof ok !== 'boolean') throw invalidArgument('ok', ok, 'true or false');
    if (latencyMs === undefined) {
      if (ok)
        throw invalidArgument('latencyMs', latencyMs, 'a finite number of ms >= 0 for a successful request');
    } else if (typeof latencyMs !== 'number' || !(latencyMs >= 0) || latencyMs === Infinity) {
      throw invalidArgument('latencyMs', latencyMs, 'a finite number of ms >= 0');
    }
    const good = ok && (latencyMs as number) <= this.latencyTargetMs;
    const k = this.grid.indexOf(t);
    while (this.totals.length <= k) {
      this.totals.push(0);
      this.bads.push(0);
    }
    this.totals[k]!++;
    this.n++;
    if (!good) {
      this.bads[k]!++;
      this.nBad++;
    }
    if (t > this.latest) this.latest = t;
    return good;
  }

  /** Requests recorded so far. */
  get total(): number {
    return this.n;
  }

  /** Good requests recorded so far. */
  get good(): number {
    return this.n - this.nBad;
  }

  /**
   * Compliance and error-budget burn over `[0, now]` and per window. `now` must not precede the latest
   * recorded request.
   *
   * @example
   * ```ts
   * const r = slo.report(sim.now);
   * if (!r.met) console.log(`budget burned: ${r.budgetBurned * 100}%`);
   * ```
   */
  report(now: number): SloReport {
    if (typeof now !== 'number' || !(now >= this.latest) || now === Infinity) {
      throw invalidArgument('now', now, `a finite time >= the latest recorded request (${this.latest} ms)`);
    }
    const budget = this.errorBudget;
    const runTotal = this.n;
    const count = Math.max(this.grid.pointsAt(now), this.totals.length);
    const windows: SloWindow[] = [];
    for (let k = 0; k < count; k++) {
      const total = this.totals[k] ?? 0;
      const bad = this.bads[k] ?? 0;
      const start = this.grid.startOf(k);
      const burnRate = total === 0 ? 0 : tidy(bad / total / budget);
      windows.push({
        start,
        end: Math.max(start, Math.min(this.grid.startOf(k + 1), now)),
        total,
        good: total - bad,
        bad,
        compliance: total === 0 ? 1 : tidy((total - bad) / total),
        budgetBurned: runTotal === 0 ? 0 : tidy(bad / (budget * runTotal)),
        burnRate,
        met: burnRate <= 1,
      });
    }
    const budgetBurned = runTotal === 0 ? 0 : tidy(this.nBad / runTotal / budget);
    return {
      now,
      latencyTargetMs: this.latencyTargetMs,
      target: this.target,
      errorBudget: budget,
      windowMs: this.windowMs,
      total: runTotal,
      good: runTotal - this.nBad,
      bad: this.nBad,
      compliance: runTotal === 0 ? 1 : tidy((runTotal - this.nBad) / runTotal),
      budgetBurned,
      met: budgetBurned <= 1,
      windows,
    };
  }
}

/** Rounds to 12 significant digits: drops binary noise such as 29.999999999999996 for 30. */
function tidy(x: number): number {
  return Number(x.toPrecision(12));
}
