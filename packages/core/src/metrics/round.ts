/**
 * Rounds a figure for JSON output: integers (up to 2^53) stay exact, other finite numbers keep 6
 * significant digits, `-0` becomes `0`, and NaN or ±Infinity become `null` (JSON has no NaN).
 *
 * @example
 * ```ts
 * compact(2.5);           // 2.5
 * compact(1 / 3);         // 0.333333
 * compact(123456789);     // 123456789
 * compact(Number.NaN);    // null
 * ```
 */
export function compact(x: number): number | null {
  if (!Number.isFinite(x)) return null;
  return round6(x);
}

/**
 * Like {@link compact} for a value known to be finite: integers exact, others to 6 significant digits.
 *
 * @example
 * ```ts
 * round6(1234.56789); // 1234.57
 * ```
 */
export function round6(x: number): number {
  if (Number.isInteger(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER) return x === 0 ? 0 : x;
  const r = Number(x.toPrecision(6));
  return r === 0 ? 0 : r;
}
