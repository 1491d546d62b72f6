import type { RequestStats } from '../request-stats.js';

/**
 * A scenario outcome from named windows: `<window>P99` (ms) and `<window>Availability` for each.
 *
 * @example
 * ```ts
 * windowOutcome(sys.windows); // { beforeP99: 32.3, beforeAvailability: 1, duringP99: 2000, ... }
 * ```
 */
export function windowOutcome(
  windows: Readonly<Record<string, RequestStats>>,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [w, stats] of Object.entries(windows)) {
    const m = stats.toJSON();
    out[`${w}P99`] = m.latencyMs.p99;
    out[`${w}Availability`] = m.availability;
  }
  return out;
}
