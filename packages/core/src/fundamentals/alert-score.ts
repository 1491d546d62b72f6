import type { Duration } from '../duration.js';
import { invalidArgument } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import type { FiringInterval } from './alert-evaluation.js';
import { badIn, checkSliSeries, checkSlo, checkSpan, periodBudget, type SliSeries } from './sli-series.js';

/** A span during which the service really was burning its error budget (the ground truth). */
export interface Incident {
  /** Start (ms). */
  readonly start: number;
  /** End (ms), >= start. */
  readonly end: number;
  /**
   * Name in reports.
   * @default `incident-<index>`
   */
  readonly name?: string;
}

const INCIDENT_KEYS = optionKeys<Incident>()({ start: true, end: true, name: true });

/** Options of {@link scoreAlerts}. */
export interface ScoreAlertsOptions {
  /** The SLI series the alerts were evaluated on: it says how much budget each incident used. */
  series: SliSeries;
  /** The SLO target, in (0, 1), such as 0.999. */
  target: number;
  /**
   * The SLO period whose budget incidents are measured against.
   * @default '30d'
   */
  period?: Duration;
  /**
   * An incident is significant when it used at least this share of the period's error budget, in
   * (0, 1]. The Workbook calls an event significant when it "consumes a large fraction of the error
   * budget"; the default is the smallest spend its recommended configuration pages for (2% in 1 h).
   * @default 0.02
   */
  significant?: number;
}

const SCORE_KEYS = optionKeys<ScoreAlertsOptions>()({
  series: true,
  target: true,
  period: true,
  significant: true,
});

/** One incident seen by the alerts. */
export interface IncidentScore {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /** Share of the period's budget its bad events used (see {@link budgetConsumed}). */
  readonly budgetConsumed: number;
  /** `budgetConsumed >= significant`. */
  readonly significant: boolean;
  /** Some firing belongs to it (see {@link scoreAlerts}). */
  readonly detected: boolean;
  /** From `start` to the start of its first firing, 0 if one was already firing; null if undetected. */
  readonly detectionMs: number | null;
  /**
   * From `end` to the end of its last firing, 0 if that ended before; null if undetected or still
   * firing at the end of the series.
   */
  readonly resetMs: number | null;
}

/** What {@link scoreAlerts} returns. */
export interface AlertScore {
  /** Firing intervals (notifications): a flapping alert counts each time it fires. */
  readonly firings: number;
  /** Significant incidents detected: each counts once however many firings belong to it. */
  readonly trueEvents: number;
  /**
   * Events alerted on that were not significant: each non-significant incident with a firing that
   * belongs to no significant incident counts once, and each firing that belongs to no incident.
   */
  readonly falseEvents: number;
  /** `trueEvents / (trueEvents + falseEvents)`: the share of alerted events that were significant; null without any. */
  readonly precision: number | null;
  /** Significant incidents. */
  readonly significantIncidents: number;
  /** `trueEvents / significantIncidents`; null without significant incidents. */
  readonly recall: number | null;
  /** Mean detection time over the detected significant incidents; null if none. */
  readonly meanDetectionMs: number | null;
  /** Mean reset time over the detected significant incidents whose alert resolved; null if none. */
  readonly meanResetMs: number | null;
  /** Every incident, in the order given. */
  readonly incidents: IncidentScore[];
}

/**
 * Scores alert firings against the incidents that really happened, with the four figures of the
 * Google SRE Workbook, ch. 5 ("Alerting considerations"):
 *
 * - **precision**: the share of alerted events that were significant. An event is an incident (every
 *   firing that belongs to it counts once, so a flapping alert is not rewarded) or a firing that belongs
 *   to no incident (noise). A firing belongs to an incident when it was firing during it, or started
 *   while its window still held it: it starts at or before the incident's end plus its `windowMs`, and
 *   ends after the incident's start (so an alert that resolves and fires again as its window slides off
 *   the incident, a flap, is about that incident). An incident is significant when it used at least
 *   `significant` of the period's error budget (default 2%).
 * - **recall**: the share of significant incidents that some firing belongs to.
 * - **detection time**: from an incident's start to the start of its first firing.
 * - **reset time**: from an incident's end to the end of its last firing: how long the alert keeps
 *   firing once the issue is over.
 *
 * Score the pages and the tickets separately by passing `evaluation.pages` or `evaluation.tickets`.
 *
 * @param firings - firing intervals, such as `evaluateAlerts(...).firings`
 * @param incidents - the true incidents, in any order
 * @param options - the series, the SLO target and period, the significance threshold
 * @example
 * ```ts
 * const evaluation = evaluateAlerts(series, workbookPolicy('burn-rate'), { target: 0.999 });
 * const score = scoreAlerts(evaluation.firings, [{ start: outageAt, end: outageAt + 600_000 }], {
 *   series,
 *   target: 0.999,
 * });
 * score.recall; score.incidents[0].detectionMs;
 * ```
 */
export function scoreAlerts(
  firings: readonly FiringInterval[],
  incidents: readonly Incident[],
  options: ScoreAlertsOptions,
): AlertScore {
  const C = 'scoreAlerts';
  if (options === null || typeof options !== 'object')
    throw invalidArgument('options', options, 'an object { series, target, period?, significant? }', C);
  checkOptions(C, options, SCORE_KEYS);
  const s = checkSliSeries(options.series, C);
  const slo = checkSlo(
    options.period === undefined
      ? { target: options.target }
      : { target: options.target, period: options.period },
    C,
  );
  const threshold = options.significant ?? 0.02;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1))
    throw invalidArgument('significant', threshold, 'a share of the budget in (0, 1] such as 0.02', C);
  if (!Array.isArray(firings)) throw invalidArgument('firings', firings, 'an array of firing intervals', C);
  firings.forEach((f, i) => {
    if (f === null || typeof f !== 'object')
      throw invalidArgument(`firings[${i}]`, f, 'an object { start, end, resolved }', C);
    checkSpan(f.start, f.end, C, `firings[${i}].start`, `firings[${i}].end`);
  });
  if (!Array.isArray(incidents)) throw invalidArgument('incidents', incidents, 'an array of incidents', C);
  const budget = periodBudget(s, slo);
  const scored: IncidentScore[] = incidents.map((inc, i) => {
    const at = `incidents[${i}]`;
    if (inc === null || typeof inc !== 'object')
      throw invalidArgument(at, inc, 'an object { start, end, name? }', C);
    checkOptions(C, inc, INCIDENT_KEYS, at);
    checkSpan(inc.start, inc.end, C, `${at}.start`, `${at}.end`);
    const name = inc.name ?? `incident-${i}`;
    if (typeof name !== 'string') throw invalidArgument(`${at}.name`, name, 'a string', C);
    const bad = badIn(s, inc.start, inc.end);
    const used = bad === 0 ? 0 : bad / budget;
    let first: FiringInterval | null = null;
    let last: FiringInterval | null = null;
    for (const f of firings) {
      if (!overlaps(f, inc)) continue;
      if (first === null || f.start < first.start) first = f;
      if (last === null || f.end > last.end) last = f;
    }
    return {
      name,
      start: inc.start,
      end: inc.end,
      budgetConsumed: used,
      significant: used >= threshold,
      detected: first !== null,
      detectionMs: first === null ? null : Math.max(0, first.start - inc.start),
      resetMs: last === null || !last.resolved ? null : Math.max(0, last.end - inc.end),
    };
  });
  const significant = scored.filter((x) => x.significant);
  const detected = significant.filter((x) => x.detected);
  // False events: non-significant incidents alerted on by a firing that no significant incident
  // explains, once each, and firings that belong to no incident at all.
  const falseIncidents = new Set<number>();
  let noise = 0;
  for (const f of firings) {
    if (significant.some((x) => overlaps(f, x))) continue;
    const k = scored.findIndex((x) => overlaps(f, x));
    if (k < 0) noise++;
    else falseIncidents.add(k);
  }
  const falseEvents = falseIncidents.size + noise;
  const trueEvents = detected.length;
  const resets = detected.filter((x) => x.resetMs !== null);
  return {
    firings: firings.length,
    trueEvents,
    falseEvents,
    precision: trueEvents + falseEvents === 0 ? null : trueEvents / (trueEvents + falseEvents),
    significantIncidents: significant.length,
    recall: significant.length === 0 ? null : trueEvents / significant.length,
    meanDetectionMs: mean(detected.map((x) => x.detectionMs!)),
    meanResetMs: mean(resets.map((x) => x.resetMs!)),
    incidents: scored,
  };
}

/** Whether `f` is about `inc`: it was firing during it, or started while its window still held it. */
function overlaps(f: FiringInterval, inc: { start: number; end: number }): boolean {
  return f.start <= inc.end + (f.windowMs ?? 0) && f.end > inc.start;
}

function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}
