import { DsimError, showValue } from './errors.js';

/**
 * A span of simulated time: a number of milliseconds, or a string with a unit such as
 * `"250ms"`, `"1.5s"`, `"5m"`, `"1h"`, `"2d"`, `"100us"`.
 */
export type Duration = number | string;

const UNIT_MS: Readonly<Record<string, number>> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const DURATION_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(us|ms|s|m|h|d)\s*$/;

/**
 * Converts a {@link Duration} to milliseconds. Numbers are taken as milliseconds; strings need a unit.
 * Negative, NaN and infinite values are rejected with an error naming `field`.
 *
 * @param field - the argument or config field, used in the error message
 * @example
 * ```ts
 * toMs('250ms'); // 250
 * toMs('1.5s');  // 1500
 * toMs(42);      // 42
 * ```
 */
export function toMs(value: Duration, field = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new DsimError(
        'INVALID_DURATION',
        `${field} must be a finite number of milliseconds >= 0 or a string like "250ms", "30s", "5m", "1h", got ${showValue(value)}`,
        { details: { field, value } },
      );
    }
    return value;
  }
  if (typeof value === 'string') {
    const match = DURATION_RE.exec(value);
    if (match) {
      const ms = Number(match[1]) * (UNIT_MS[match[2]!] as number);
      if (Number.isFinite(ms)) return ms;
    }
  }
  throw new DsimError(
    'INVALID_DURATION',
    `${field} must be a number of milliseconds or a string with a unit (us, ms, s, m, h, d) such as "250ms", "30s", "5m", "1h", got ${showValue(value)}`,
    { details: { field, value } },
  );
}

/**
 * Formats milliseconds as a short human string: `1500` becomes `"1.5s"`, `90000` becomes `"1.5m"`.
 *
 * @example
 * ```ts
 * formatDuration(250); // "250ms"
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const abs = Math.abs(ms);
  if (abs >= 3_600_000) return `${trim(ms / 3_600_000)}h`;
  if (abs >= 60_000) return `${trim(ms / 60_000)}m`;
  if (abs >= 1000) return `${trim(ms / 1000)}s`;
  return `${trim(ms)}ms`;
}

function trim(x: number): string {
  return String(Number(x.toFixed(3)));
}
