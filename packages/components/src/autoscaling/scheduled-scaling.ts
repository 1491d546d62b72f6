import {
  checkDuration,
  checkNumber,
  checkObject,
  checkOptions,
  type Duration,
  invalidOption,
  optionKeys,
  owner,
} from '@dsim/core';
import type { ScalingInput, ScalingPolicy } from './scaling-policy.js';

const C = 'ScheduledScalingPolicy';

/**
 * One entry of a schedule: from `at` on, `replicas` replicas.
 *
 * @example
 * ```ts
 * const entry: ScheduleEntry = { at: '8h', replicas: 12 }; // 08:00 with the default 24 h cycle
 * ```
 */
export interface ScheduleEntry {
  /** When it applies: an offset into the cycle (a time of day with the default cycle), a duration. */
  at: Duration;
  /** Replicas from then until the next entry, an integer in [minReplicas, maxReplicas]. */
  replicas: number;
}

/**
 * Options of {@link ScheduledScalingPolicy}; an unknown key is an error.
 *
 * @example
 * ```ts
 * const options: ScheduledScalingOptions = {
 *   schedule: [{ at: '0h', replicas: 2 }, { at: '8h', replicas: 12 }, { at: '20h', replicas: 4 }],
 * };
 * ```
 */
export interface ScheduledScalingOptions {
  /** The entries, `at` strictly increasing and within the cycle; at least one. */
  schedule: readonly ScheduleEntry[];
  /**
   * The schedule repeats every `cycle` (a day: times of day); Infinity: the entries are absolute
   * simulated times, applied once. A duration > 0, or Infinity.
   * @default 24 h
   */
  cycle?: Duration;
  /**
   * Time between two evaluations: an entry applies at the first evaluation at or after its time. A
   * duration > 0.
   * @default 60 s (scheduled actions run at minute granularity, as cron does)
   */
  period?: Duration;
  /** Fewest replicas, an integer >= 0. @default 0 */
  minReplicas?: number;
  /** Most replicas, an integer >= max(1, minReplicas). @default the largest entry's replicas */
  maxReplicas?: number;
}

const OPTION_KEYS = optionKeys<ScheduledScalingOptions>()({
  schedule: true,
  cycle: true,
  period: true,
  minReplicas: true,
  maxReplicas: true,
});
const ENTRY_KEYS = optionKeys<ScheduleEntry>()({ at: true, replicas: true });

/**
 * Scheduled scaling: the replica count follows a timetable, whatever the load (AWS scheduled actions,
 * KEDA's cron scaler). With the default 24 h cycle the entries are times of day, and the last entry of a
 * day still holds after midnight until the first entry of the next; with `cycle: Infinity` they are
 * absolute times and, before the first, the count is left as it is.
 *
 * It shares the {@link ScalingPolicy} interface with the reactive policies, so a scenario can swap a
 * pre-provisioned schedule for an HPA and compare the cost (replica-seconds) with the SLO violations.
 * Combining a schedule with a reactive policy (KEDA takes the largest of its scalers) is not modelled.
 *
 * @example
 * ```ts
 * const policy = new ScheduledScalingPolicy({
 *   schedule: [{ at: '0h', replicas: 2 }, { at: '8h', replicas: 12 }, { at: '20h', replicas: 4 }],
 * });
 * policy.decide({ now: 9 * 3_600_000, replicas: 2, metric: 'utilization', pods: [] }); // 12
 * ```
 */
export class ScheduledScalingPolicy implements ScalingPolicy {
  readonly kind = 'scheduled';
  readonly periodMs: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** The cycle, ms (Infinity: no repetition). */
  readonly cycleMs: number;
  private readonly entries: readonly { at: number; replicas: number }[];
  private why = 'none';

  constructor(options: ScheduledScalingOptions) {
    checkObject(C, 'options', options, 'an options object with schedule');
    checkOptions(C, options, OPTION_KEYS);
    this.cycleMs = checkDuration(C, 'cycle', options.cycle, { positive: true, infinity: true }, 86_400_000);
    this.periodMs = checkDuration(C, 'period', options.period, { positive: true }, 60_000);
    if (!Array.isArray(options.schedule) || options.schedule.length === 0)
      throw invalidOption(C, 'schedule', options.schedule, 'a non-empty array of { at, replicas }');
    let previous = -Infinity;
    this.entries = options.schedule.map((raw: unknown, i) => {
      const where = owner(C, `schedule[${i}]`);
      checkObject(C, `schedule[${i}]`, raw, 'an entry { at, replicas }');
      checkOptions(C, raw, ENTRY_KEYS, `schedule[${i}]`);
      const entry = raw as ScheduleEntry;
      const at = checkDuration(where, 'at', entry.at);
      if (!(at > previous))
        throw invalidOption(where, 'at', entry.at, `a time after the previous entry's (${previous} ms)`);
      if (!(at < this.cycleMs))
        throw invalidOption(where, 'at', entry.at, `a time within the cycle (< ${this.cycleMs} ms)`);
      previous = at;
      return { at, replicas: checkNumber(where, 'replicas', entry.replicas, { integer: true, min: 0 }) };
    });
    const largest = Math.max(...this.entries.map((e) => e.replicas));
    this.minReplicas = checkNumber(C, 'minReplicas', options.minReplicas, { integer: true, min: 0 }, 0);
    this.maxReplicas = checkNumber(
      C,
      'maxReplicas',
      options.maxReplicas,
      { integer: true, min: Math.max(1, this.minReplicas) },
      Math.max(1, largest, this.minReplicas),
    );
    this.entries.forEach((e, i) => {
      if (e.replicas < this.minReplicas || e.replicas > this.maxReplicas)
        throw invalidOption(
          owner(C, `schedule[${i}]`),
          'replicas',
          e.replicas,
          `an integer in [minReplicas, maxReplicas] = [${this.minReplicas}, ${this.maxReplicas}]`,
        );
    });
  }

  get reason(): string {
    return this.why;
  }

  /**
   * The replicas the schedule asks for at `now`; undefined before the first entry of a schedule that
   * does not repeat.
   *
   * @example
   * ```ts
   * policy.replicasAt(21 * 3_600_000); // 4 with the example schedule
   * ```
   */
  replicasAt(now: number): number | undefined {
    const entries = this.entries;
    const t = this.cycleMs === Infinity ? now : now % this.cycleMs;
    let found: number | undefined;
    for (const e of entries) {
      if (e.at > t) break;
      found = e.replicas;
    }
    // A repeating schedule wraps: before the day's first entry, yesterday's last one holds.
    if (found === undefined && this.cycleMs !== Infinity) found = entries[entries.length - 1]!.replicas;
    return found;
  }

  decide(input: ScalingInput): number {
    const wanted = this.replicasAt(input.now);
    if (wanted === undefined) {
      this.why = 'BeforeSchedule';
      return input.replicas;
    }
    this.why = wanted === input.replicas ? 'OnSchedule' : 'Scheduled';
    return wanted;
  }
}
