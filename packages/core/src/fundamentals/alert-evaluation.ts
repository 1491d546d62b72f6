import { toMs } from '../duration.js';
import { invalidArgument } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import type { AlertComparison, AlertPolicy, AlertSeverity, BurnRateRule } from './alert-policy.js';
import { windowLabel } from './alert-policy.js';
import { type CheckedSeries, checkSliSeries, checkSlo, type SliSeries } from './sli-series.js';

/** Options of {@link evaluateAlerts}. */
export interface EvaluateAlertsOptions {
  /** The SLO target: the share of events that must be good, in (0, 1), such as 0.999. */
  target: number;
  /**
   * No evaluation before this time (ms): nothing fires and no `for` wait starts earlier. Pass the
   * series start plus the longest window to evaluate only full windows.
   * @default the series start: every interval end is evaluated
   */
  from?: number;
}

const EVALUATE_KEYS = optionKeys<EvaluateAlertsOptions>()({ target: true, from: true });
const RULE_KEYS = optionKeys<BurnRateRule>()({
  name: true,
  window: true,
  shortWindow: true,
  burnRate: true,
  comparison: true,
  for: true,
  severity: true,
});
const POLICY_KEYS = optionKeys<AlertPolicy>()({ name: true, rules: true });

/** A span during which an alert fired: from the evaluation that fired it to the one that resolved it. */
export interface FiringInterval {
  /** The first firing evaluation (ms). */
  readonly start: number;
  /** The first evaluation that found the alert resolved (ms), or the end of the series when none did. */
  readonly end: number;
  /** False when the alert was still firing at the end of the series. */
  readonly resolved: boolean;
  /**
   * The (long) window of the rule that fired it, the widest when several fired at `start` (ms): the
   * firing is about events of `[start − windowMs, start]`.
   * @default 0
   */
  readonly windowMs?: number;
}

/** One rule's firings, with its settings in ms. */
export interface RuleEvaluation {
  readonly name: string;
  readonly severity: AlertSeverity;
  readonly windowMs: number;
  /** The short window (ms), or null. */
  readonly shortWindowMs: number | null;
  readonly burnRate: number;
  readonly comparison: AlertComparison;
  readonly forMs: number;
  readonly firings: FiringInterval[];
}

/** What {@link evaluateAlerts} returns. */
export interface AlertEvaluation {
  readonly policy: string;
  readonly target: number;
  /** `1 − target`, rounded to 12 significant digits. */
  readonly errorBudget: number;
  /** The evaluation interval: the series step (ms). */
  readonly stepMs: number;
  /** First evaluation time (ms). */
  readonly from: number;
  /** Last evaluation time: the end of the series (ms). */
  readonly end: number;
  /** Each rule's firings, in policy order. */
  readonly rules: RuleEvaluation[];
  /** When any rule fired: the union of every rule's firings. */
  readonly firings: FiringInterval[];
  /** The union of the page rules' firings. */
  readonly pages: FiringInterval[];
  /** The union of the ticket rules' firings. */
  readonly tickets: FiringInterval[];
}

/** Burn rates within this relative distance of a threshold count as equal to it. */
const EQUAL = 1e-9;

/**
 * Evaluates an alerting policy on an SLI series, as a rule engine such as Prometheus does: at the end
 * of every interval of the series (the step is the evaluation interval), each rule computes the error
 * rate `bad / total` over its window, the intervals that end at or before the evaluation and start
 * within the window, and compares it with `burnRate × (1 − target)`. A window reaching back before the
 * series start holds only the intervals that exist (as a Prometheus range over a young series); a
 * window without events holds nothing to compare, so it is false. A rule with a short window needs
 * both windows over the threshold; a rule with `for` fires once its condition has held at every
 * evaluation for that long. Burn rates within a relative 1e-9 of the threshold count as equal to it, so
 * 1 bad request in 1000 is exactly burn rate 1 at 99.9%.
 *
 * Windows (long and short) must be whole numbers of steps. Cost: one pass over the series per rule.
 *
 * @param series - the SLI: good and total events per interval
 * @param policy - the rules (see {@link workbookPolicy} for the Workbook's six approaches)
 * @param options - the SLO target; optionally the first evaluation time
 * @example
 * ```ts
 * const evaluation = evaluateAlerts(series, workbookPolicy('multiwindow-multi-burn-rate'), { target: 0.999 });
 * evaluation.pages;   // [{ start, end, resolved }, ...]
 * evaluation.rules[0].firings;
 * ```
 */
export function evaluateAlerts(
  series: SliSeries,
  policy: AlertPolicy,
  options: EvaluateAlertsOptions,
): AlertEvaluation {
  const C = 'evaluateAlerts';
  const s = checkSliSeries(series, C);
  if (options === null || typeof options !== 'object')
    throw invalidArgument('options', options, 'an object { target, from? }', C);
  checkOptions(C, options, EVALUATE_KEYS);
  const slo = checkSlo({ target: options.target }, C);
  const from = options.from ?? s.start;
  if (typeof from !== 'number' || !(from >= s.start && from <= s.end))
    throw invalidArgument('from', from, `a time in ms within the series, [${s.start}, ${s.end}]`, C);
  const rules = checkPolicy(policy, s.stepMs, C);
  const n = s.length;
  // Evaluation k happens at the end of interval k; the first one considered is the first at or after `from`.
  const first = Math.max(0, Math.ceil((from - s.start) / s.stepMs) - 1);
  // Per evaluation: 0, or the widest window of the rules firing then.
  const any = new Float64Array(n);
  const page = new Float64Array(n);
  const ticket = new Float64Array(n);
  const evaluated: RuleEvaluation[] = [];
  const state = new Float64Array(n);
  for (const rule of rules) {
    state.fill(0);
    const threshold = rule.burnRate * slo.errorBudget;
    const strict = rule.comparison === '>';
    const bound = threshold * (strict ? 1 + EQUAL : 1 - EQUAL);
    const w = rule.windowMs / s.stepMs;
    const sw = rule.shortWindowMs === null ? 0 : rule.shortWindowMs / s.stepMs;
    let activeAt = Number.NaN;
    for (let k = first; k < n; k++) {
      const t = s.start + (k + 1) * s.stepMs;
      const holds = above(s, k, w, bound, strict) && (sw === 0 || above(s, k, sw, bound, strict));
      if (!holds) {
        activeAt = Number.NaN;
        continue;
      }
      if (Number.isNaN(activeAt)) activeAt = t;
      if (t - activeAt >= rule.forMs) {
        const wide = rule.windowMs;
        state[k] = wide;
        if (wide > any[k]!) any[k] = wide;
        const group = rule.severity === 'page' ? page : ticket;
        if (wide > group[k]!) group[k] = wide;
      }
    }
    evaluated.push({
      name: rule.name,
      severity: rule.severity,
      windowMs: rule.windowMs,
      shortWindowMs: rule.shortWindowMs,
      burnRate: rule.burnRate,
      comparison: rule.comparison,
      forMs: rule.forMs,
      firings: intervals(state, s),
    });
  }
  return {
    policy: policy.name,
    target: slo.target,
    errorBudget: slo.errorBudget,
    stepMs: s.stepMs,
    from: s.start + (first + 1) * s.stepMs,
    end: s.end,
    rules: evaluated,
    firings: intervals(any, s),
    pages: intervals(page, s),
    tickets: intervals(ticket, s),
  };
}

/**
 * The burn rate over `window` at every evaluation of the series: `(bad / total) / (1 − target)` over
 * the intervals `[k − window/step + 1, k]` (fewer near the start), NaN where the window holds no
 * events. Entry `k` is the value at the end of interval `k`.
 *
 * @param series - the SLI series
 * @param window - a whole number of steps
 * @param options - the SLO target
 * @example
 * ```ts
 * const burn = windowBurnRates(series, '1h', { target: 0.999 });
 * burn[59]; // the burn rate over the first hour
 * ```
 */
export function windowBurnRates(
  series: SliSeries,
  window: BurnRateRule['window'],
  options: { target: number },
): Float64Array {
  const C = 'windowBurnRates';
  const s = checkSliSeries(series, C);
  if (options === null || typeof options !== 'object')
    throw invalidArgument('options', options, 'an object { target }', C);
  checkOptions(C, options, ['target']);
  const slo = checkSlo({ target: options.target }, C);
  const w = windowSteps(window, s.stepMs, 'window', C);
  const out = new Float64Array(s.length);
  for (let k = 0; k < s.length; k++) {
    const lo = Math.max(0, k + 1 - w);
    const total = s.total[k + 1]! - s.total[lo]!;
    out[k] = total > 0 ? (s.bad[k + 1]! - s.bad[lo]!) / total / slo.errorBudget : Number.NaN;
  }
  return out;
}

/** Whether the error rate over the `w` intervals ending with interval `k` is above `bound`. */
function above(s: CheckedSeries, k: number, w: number, bound: number, strict: boolean): boolean {
  const lo = k + 1 > w ? k + 1 - w : 0;
  const total = s.total[k + 1]! - s.total[lo]!;
  if (!(total > 0)) return false;
  const rate = (s.bad[k + 1]! - s.bad[lo]!) / total;
  return strict ? rate > bound : rate >= bound;
}

/** The runs of non-zero `state` as firing intervals at the evaluation times. */
function intervals(state: Float64Array, s: CheckedSeries): FiringInterval[] {
  const out: FiringInterval[] = [];
  let start = -1;
  let windowMs = 0;
  for (let k = 0; k < state.length; k++) {
    const t = s.start + (k + 1) * s.stepMs;
    if (state[k]! > 0) {
      if (start < 0) {
        start = t;
        windowMs = state[k]!;
      }
    } else if (start >= 0) {
      out.push({ start, end: t, resolved: true, windowMs });
      start = -1;
    }
  }
  if (start >= 0) out.push({ start, end: s.end, resolved: false, windowMs });
  return out;
}

interface CheckedRule {
  readonly name: string;
  readonly windowMs: number;
  readonly shortWindowMs: number | null;
  readonly burnRate: number;
  readonly comparison: AlertComparison;
  readonly forMs: number;
  readonly severity: AlertSeverity;
}

function checkPolicy(policy: AlertPolicy, stepMs: number, C: string): CheckedRule[] {
  if (policy === null || typeof policy !== 'object')
    throw invalidArgument('policy', policy, 'an object { name, rules }', C);
  checkOptions(C, policy, POLICY_KEYS, 'policy');
  if (typeof policy.name !== 'string') throw invalidArgument('policy.name', policy.name, 'a string', C);
  if (!Array.isArray(policy.rules) || policy.rules.length === 0)
    throw invalidArgument('policy.rules', policy.rules, 'a non-empty array of rules', C);
  return policy.rules.map((rule, i) => {
    const at = `policy.rules[${i}]`;
    if (rule === null || typeof rule !== 'object')
      throw invalidArgument(at, rule, 'an object { window, burnRate, shortWindow?, for?, ... }', C);
    checkOptions(C, rule, RULE_KEYS, at);
    const windowMs = windowSteps(rule.window, stepMs, `${at}.window`, C) * stepMs;
    const shortWindowMs =
      rule.shortWindow === undefined
        ? null
        : windowSteps(rule.shortWindow, stepMs, `${at}.shortWindow`, C) * stepMs;
    const { burnRate } = rule;
    if (typeof burnRate !== 'number' || !(burnRate > 0) || burnRate === Infinity)
      throw invalidArgument(`${at}.burnRate`, burnRate, 'a finite burn rate > 0 such as 14.4', C);
    const comparison = rule.comparison ?? '>';
    if (comparison !== '>' && comparison !== '>=')
      throw invalidArgument(`${at}.comparison`, comparison, "'>' or '>='", C);
    const forMs = rule.for === undefined ? 0 : toMs(rule.for, `${C}: ${at}.for`);
    if (forMs === Infinity) throw invalidArgument(`${at}.for`, rule.for, 'a finite duration >= 0', C);
    const severity = rule.severity ?? 'page';
    if (severity !== 'page' && severity !== 'ticket')
      throw invalidArgument(`${at}.severity`, severity, "'page' or 'ticket'", C);
    const name =
      rule.name ??
      `${windowLabel(windowMs)}${shortWindowMs === null ? '' : `/${windowLabel(shortWindowMs)}`} ${comparison}${burnRate}`;
    if (typeof name !== 'string') throw invalidArgument(`${at}.name`, name, 'a string', C);
    return { name, windowMs, shortWindowMs, burnRate, comparison, forMs, severity };
  });
}

/** A window as a whole number (>= 1) of steps. */
function windowSteps(window: unknown, stepMs: number, field: string, C: string): number {
  const allowed = `a duration that is a whole number (>= 1) of series steps (${windowLabel(stepMs)})`;
  if (window === undefined) throw invalidArgument(field, window, allowed, C);
  const ms = toMs(window as number | string, `${C}: ${field}`);
  const steps = Math.round(ms / stepMs);
  if (!(steps >= 1) || Math.abs(steps * stepMs - ms) > 1e-9 * ms)
    throw invalidArgument(field, window, allowed, C);
  return steps;
}
