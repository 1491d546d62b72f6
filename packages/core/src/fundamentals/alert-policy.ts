import { type Duration, toMs } from '../duration.js';
import { invalidArgument } from '../errors.js';

/**
 * Alerting policies on an SLO's error budget, after the Google SRE Workbook, ch. 5 "Alerting on SLOs":
 * a rule measures the error rate over a window and fires when it reaches a multiple (the burn rate) of
 * the error budget `1 − target`. Burn rate 1 spends the budget exactly over the SLO period; a burn rate
 * `b` held for a window `w` spends `b × w / period` of it.
 */

/** Who a rule notifies: a page wakes someone up, a ticket waits for working hours. */
export type AlertSeverity = 'page' | 'ticket';

/** How a rule compares the error rate with its threshold. */
export type AlertComparison = '>' | '>=';

/**
 * One alerting rule: fires when the error rate over `window` (and over `shortWindow`, when given) is
 * above `burnRate × (1 − target)`, for at least `for` when given.
 *
 * @example
 * ```ts
 * // The Workbook's fast-burn page: 2% of a 30-day budget in an hour, confirmed over 5 minutes.
 * const rule: BurnRateRule = { window: '1h', shortWindow: '5m', burnRate: 14.4, severity: 'page' };
 * ```
 */
export interface BurnRateRule {
  /**
   * Name in reports.
   * @default the windows and burn rate, such as `"1h/5m >14.4"`
   */
  name?: string;
  /** The (long) window the error rate is measured over: a whole number of series steps. */
  window: Duration;
  /**
   * A short window that must also be at or above the threshold: the rule stops firing as soon as the
   * short window recovers (Workbook: one twelfth of the long window).
   * @default none
   */
  shortWindow?: Duration;
  /** Threshold as a multiple of the error budget, > 0: error rate `comparison` `burnRate × (1 − target)`. */
  burnRate: number;
  /**
   * `'>='` or `'>'`. The Workbook writes `>=` for its error-rate thresholds (approaches 1 and 2) and `>`
   * for its burn-rate rules.
   * @default '>'
   */
  comparison?: AlertComparison;
  /**
   * How long the condition must hold, at every evaluation, before the rule fires (Prometheus `for`): it
   * fires at the first evaluation at least `for` after the first true one, and any false evaluation
   * starts the wait again.
   * @default 0
   */
  for?: Duration;
  /**
   * Page or ticket.
   * @default 'page'
   */
  severity?: AlertSeverity;
}

/**
 * A named set of rules; the policy fires while any of its rules fires.
 *
 * @example
 * ```ts
 * const policy: AlertPolicy = { name: 'fast burn', rules: [{ window: '1h', burnRate: 14.4 }] };
 * ```
 */
export interface AlertPolicy {
  /** Name in reports. */
  name: string;
  /** At least one rule. */
  rules: readonly BurnRateRule[];
}

/**
 * The burn rate at which `window` spends `budgetShare` of a `period`'s error budget:
 * `budgetShare × period / window`. 2% in one hour of a 30-day period is 14.4.
 *
 * @param budgetShare - share of the period's budget, in (0, 1]
 * @param window - a duration > 0
 * @param period - the SLO period @default '30d'
 * @example
 * ```ts
 * burnRateFor(0.02, '1h'); // 14.4
 * burnRateFor(0.05, '6h'); // 6
 * burnRateFor(0.1, '3d');  // 1
 * ```
 */
export function burnRateFor(budgetShare: number, window: Duration, period: Duration = '30d'): number {
  const C = 'burnRateFor';
  if (typeof budgetShare !== 'number' || !(budgetShare > 0 && budgetShare <= 1))
    throw invalidArgument('budgetShare', budgetShare, 'a share of the budget in (0, 1] such as 0.02', C);
  const w = positiveMs(window, 'window', C);
  const p = positiveMs(period, 'period', C);
  return tidy((budgetShare * p) / w);
}

/**
 * Share of a `period`'s error budget that a burn rate held for `window` spends: `burnRate × window /
 * period`. 14.4 for an hour spends 2% of a 30-day budget; 1 for the whole period spends all of it.
 *
 * @param burnRate - a burn rate >= 0
 * @param window - a duration > 0
 * @param period - the SLO period @default '30d'
 * @example
 * ```ts
 * budgetSpent(14.4, '1h'); // 0.02
 * budgetSpent(1000, '10m'); // 0.2315: 10 minutes of 100% errors at 99.9%
 * ```
 */
export function budgetSpent(burnRate: number, window: Duration, period: Duration = '30d'): number {
  const C = 'budgetSpent';
  if (typeof burnRate !== 'number' || !(burnRate >= 0) || burnRate === Infinity)
    throw invalidArgument('burnRate', burnRate, 'a finite burn rate >= 0', C);
  const w = positiveMs(window, 'window', C);
  const p = positiveMs(period, 'period', C);
  return tidy((burnRate * w) / p);
}

/**
 * The six approaches of the Workbook's ch. 5, in its order: `target-error-rate` (1), `increased-window`
 * (2), `alert-duration` (3), `burn-rate` (4), `multiple-burn-rates` (5), `multiwindow-multi-burn-rate`
 * (6, the one it recommends).
 *
 * @example
 * ```ts
 * for (const approach of WORKBOOK_APPROACHES) evaluateAlerts(series, workbookPolicy(approach), { target: 0.999 });
 * ```
 */
export const WORKBOOK_APPROACHES = [
  'target-error-rate',
  'increased-window',
  'alert-duration',
  'burn-rate',
  'multiple-burn-rates',
  'multiwindow-multi-burn-rate',
] as const;

/** One of {@link WORKBOOK_APPROACHES}. */
export type WorkbookApproach = (typeof WORKBOOK_APPROACHES)[number];

/** One row of the Workbook's recommended alerting parameters (for a 99.9%, 30-day SLO). */
export interface WorkbookAlertRow {
  readonly severity: AlertSeverity;
  /** Long window (ms). */
  readonly window: number;
  /** Short window (ms): a twelfth of the long one. */
  readonly shortWindow: number;
  /** Share of the period's budget the long window spends at the threshold. */
  readonly budgetShare: number;
}

const H = 3_600_000;

/**
 * The Workbook's recommended parameters: page on 2% of the budget in 1 h (short window 5 min), page on
 * 5% in 6 h (30 min), ticket on 10% in 3 days (6 h). For a 30-day period the burn rates are 14.4, 6
 * and 1 ({@link burnRateFor}).
 *
 * @example
 * ```ts
 * WORKBOOK_ALERT_TABLE.map((r) => burnRateFor(r.budgetShare, r.window)); // [14.4, 6, 1]
 * ```
 */
export const WORKBOOK_ALERT_TABLE: readonly WorkbookAlertRow[] = Object.freeze([
  Object.freeze({ severity: 'page', window: H, shortWindow: H / 12, budgetShare: 0.02 }),
  Object.freeze({ severity: 'page', window: 6 * H, shortWindow: (6 * H) / 12, budgetShare: 0.05 }),
  Object.freeze({ severity: 'ticket', window: 72 * H, shortWindow: (72 * H) / 12, budgetShare: 0.1 }),
] as const);

/**
 * The alerting policy of one of the Workbook's six approaches (ch. 5), for an SLO `period`; burn rates
 * follow from budget shares, so they scale with the period (14.4 for 30 days, 13.44 for 28):
 *
 * | approach | rules |
 * |---|---|
 * | `target-error-rate` | error rate over 10 min >= 1 − target |
 * | `increased-window` | error rate over 5% of the period (36 h for 30 days) >= 1 − target |
 * | `alert-duration` | error rate over 1 min > 1 − target, `for` 1 h |
 * | `burn-rate` | burn rate over 1 h > the 2%-in-1-h rate (14.4) |
 * | `multiple-burn-rates` | 1 h > 14.4 (page), 6 h > 6 (page), 3 d > 1 (ticket) |
 * | `multiwindow-multi-burn-rate` | the same, each also over a short window of 1/12: 5 min, 30 min, 6 h |
 *
 * @param approach - one of {@link WORKBOOK_APPROACHES}
 * @param period - the SLO period @default '30d'
 * @example
 * ```ts
 * const policy = workbookPolicy('multiwindow-multi-burn-rate');
 * policy.rules[0]; // { name: '1h/5m >14.4', window: 3_600_000, shortWindow: 300_000, burnRate: 14.4, severity: 'page' }
 * ```
 */
export function workbookPolicy(approach: WorkbookApproach, period: Duration = '30d'): AlertPolicy {
  const C = 'workbookPolicy';
  const p = positiveMs(period, 'period', C);
  switch (approach) {
    case 'target-error-rate':
      return {
        name: approach,
        rules: [{ name: '10m >=1', window: 10 * 60_000, burnRate: 1, comparison: '>=' }],
      };
    case 'increased-window': {
      const window = Math.round(0.05 * p);
      return {
        name: approach,
        rules: [{ name: `${windowLabel(window)} >=1`, window, burnRate: 1, comparison: '>=' }],
      };
    }
    case 'alert-duration':
      return {
        name: approach,
        rules: [{ name: '1m >1 for 1h', window: 60_000, burnRate: 1, for: H }],
      };
    case 'burn-rate': {
      const row = WORKBOOK_ALERT_TABLE[0]!;
      const burnRate = burnRateFor(row.budgetShare, row.window, p);
      return { name: approach, rules: [{ name: `1h >${burnRate}`, window: row.window, burnRate }] };
    }
    case 'multiple-burn-rates':
      return {
        name: approach,
        rules: WORKBOOK_ALERT_TABLE.map((row) => {
          const burnRate = burnRateFor(row.budgetShare, row.window, p);
          return {
            name: `${windowLabel(row.window)} >${burnRate}`,
            window: row.window,
            burnRate,
            severity: row.severity,
          };
        }),
      };
    case 'multiwindow-multi-burn-rate':
      return {
        name: approach,
        rules: WORKBOOK_ALERT_TABLE.map((row) => {
          const burnRate = burnRateFor(row.budgetShare, row.window, p);
          return {
            name: `${windowLabel(row.window)}/${windowLabel(row.shortWindow)} >${burnRate}`,
            window: row.window,
            shortWindow: row.shortWindow,
            burnRate,
            severity: row.severity,
          };
        }),
      };
    default:
      throw invalidArgument('approach', approach, `one of ${WORKBOOK_APPROACHES.join(', ')}`, C);
  }
}

/**
 * A window as the Workbook writes it: whole days from 3 days on, else hours, minutes, seconds or ms.
 *
 * @example
 * ```ts
 * windowLabel(300_000); // '5m'
 * windowLabel(129_600_000); // '36h'
 * windowLabel(259_200_000); // '3d'
 * ```
 */
export function windowLabel(ms: number): string {
  if (ms % (24 * H) === 0 && ms >= 72 * H) return `${ms / (24 * H)}d`;
  if (ms % H === 0) return `${ms / H}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function positiveMs(value: Duration, field: string, component: string): number {
  const ms = toMs(value, `${component}: ${field}`);
  if (!(ms > 0) || ms === Infinity) throw invalidArgument(field, value, 'a finite duration > 0', component);
  return ms;
}

/** Rounds to 12 significant digits: 0.02 × 720 is 14.4, not 14.400000000000002. */
function tidy(x: number): number {
  return Number(x.toPrecision(12));
}
