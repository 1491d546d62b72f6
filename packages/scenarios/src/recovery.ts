/**
 * Shared measures of "did it come back, and when" for scenarios that count successes and offered
 * requests per simulated second.
 */

/**
 * Mean of `series[from..to)` per slot (per second for per-second counts); 0 for an empty range.
 *
 * @example
 * ```ts
 * meanRate([10, 20, 30], 1, 3); // 25
 * ```
 */
export function meanRate(series: readonly number[], from: number, to: number): number {
  let sum = 0;
  let n = 0;
  for (let i = Math.max(0, from); i < Math.min(to, series.length); i++) {
    sum += series[i]!;
    n++;
  }
  return n === 0 ? 0 : sum / n;
}

/** Options of {@link recoveryAfter}. */
export interface RecoveryOptions {
  /** Successful answers per second. */
  readonly ok: readonly number[];
  /** Requests offered per second. */
  readonly offered: readonly number[];
  /** When the trigger ended (ms). */
  readonly triggerEndMs: number;
  /** Seconds of the run to consider (the series may be longer). */
  readonly seconds: number;
  /**
   * Share of the offered load that counts as served.
   * @default 0.9
   */
  readonly threshold?: number;
  /**
   * Width of the sliding window, in seconds.
   * @default 5
   */
  readonly window?: number;
}

/**
 * Time from the end of a trigger to recovery: the first second from which every `window`-second window
 * up to `seconds` serves at least `threshold` of what was offered in it. Comparing with the offered load,
 * not a nominal rate, keeps the criterion free of the arrival process's own noise. Null when it never
 * holds.
 *
 * @example
 * ```ts
 * const ms = recoveryAfter({ ok: okPerSecond, offered: offeredPerSecond, triggerEndMs: 12_000, seconds: 60 });
 * ```
 */
export function recoveryAfter(options: RecoveryOptions): number | null {
  const { ok, offered, triggerEndMs, seconds } = options;
  const threshold = options.threshold ?? 0.9;
  const window = options.window ?? 5;
  const served = (s: number): number =>
    meanRate(ok, s, s + window) / Math.max(1e-9, meanRate(offered, s, s + window));
  // Scan backwards: the earliest start from which every later window holds.
  let earliest: number | null = null;
  for (let s = seconds - window; s >= Math.ceil(triggerEndMs / 1000); s--) {
    if (served(s) < threshold) break;
    earliest = s;
  }
  return earliest === null ? null : Math.max(0, earliest * 1000 - triggerEndMs);
}
