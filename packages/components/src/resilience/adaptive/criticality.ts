import { invalidOption } from '@dsim/core';

/**
 * How much a request matters when the service is overloaded: the four levels of Google's SRE book
 * (chapter 21, "Handling Overload"), most critical first.
 *
 * - `CRITICAL_PLUS`: the most critical requests, whose failure is seriously user-visible.
 * - `CRITICAL`: the default for requests from production jobs; failing them is user-visible too.
 * - `SHEDDABLE_PLUS`: partial unavailability is expected (the default for batch jobs, which retry).
 * - `SHEDDABLE`: frequent partial and occasional full unavailability is expected.
 *
 * @example
 * ```ts
 * const level: Criticality = 'SHEDDABLE_PLUS';
 * ```
 */
export type Criticality = 'CRITICAL_PLUS' | 'CRITICAL' | 'SHEDDABLE_PLUS' | 'SHEDDABLE';

/**
 * Every {@link Criticality}, most critical first.
 *
 * @example
 * ```ts
 * CRITICALITIES.indexOf('CRITICAL'); // 1
 * ```
 */
export const CRITICALITIES: readonly Criticality[] = Object.freeze([
  'CRITICAL_PLUS',
  'CRITICAL',
  'SHEDDABLE_PLUS',
  'SHEDDABLE',
]);

/**
 * Share of the concurrency limit each criticality may fill: a request of criticality c is admitted
 * only while fewer than max(1, floor(share(c) × limit)) requests are in flight. Shares must not
 * increase as criticality falls, and `CRITICAL_PLUS` has 1 (the whole limit).
 *
 * The SRE book gives the rule, not numbers: a task under overload rejects lower criticalities sooner, and
 * rejects a criticality only if it already rejects every lower one. Nested admission thresholds are that
 * rule exactly: whenever a request of criticality c is refused, the in-flight count is at or above c's
 * threshold and therefore above every lower one's. The default shares are dsim's choice: 10% of the limit
 * kept for `CRITICAL_PLUS` alone, 20% for it and `CRITICAL`, 30% for anything above `SHEDDABLE`; they stay
 * above one half so that the limit algorithms' app-limited guard (no growth while fewer than half the
 * limit are in flight) does not freeze a limit that only sheddable traffic uses. The cost of reserving:
 * with only sheddable traffic, the top 30% of the limit stays idle.
 *
 * @default { CRITICAL_PLUS: 1, CRITICAL: 0.9, SHEDDABLE_PLUS: 0.8, SHEDDABLE: 0.7 }
 * @example
 * ```ts
 * const shares: CriticalityShares = { CRITICAL_PLUS: 1, CRITICAL: 1, SHEDDABLE_PLUS: 0.8, SHEDDABLE: 0.5 };
 * ```
 */
export type CriticalityShares = Readonly<Record<Criticality, number>>;

/**
 * The default {@link CriticalityShares}.
 *
 * @example
 * ```ts
 * DEFAULT_CRITICALITY_SHARES.SHEDDABLE; // 0.7
 * ```
 */
export const DEFAULT_CRITICALITY_SHARES: CriticalityShares = Object.freeze({
  CRITICAL_PLUS: 1,
  CRITICAL: 0.9,
  SHEDDABLE_PLUS: 0.8,
  SHEDDABLE: 0.7,
});

/**
 * Checks criticality shares given in part (the rest from the defaults): each in (0, 1], `CRITICAL_PLUS`
 * exactly 1, not increasing from one level to the next less critical one. Returns them in
 * {@link CRITICALITIES} order.
 *
 * @example
 * ```ts
 * resolveCriticalityShares('ConcurrencyLimiter', { SHEDDABLE: 0.5 }); // [1, 0.9, 0.8, 0.5]
 * ```
 */
export function resolveCriticalityShares(component: string, given: unknown): number[] {
  const field = 'criticality';
  if (given === true) return CRITICALITIES.map((c) => DEFAULT_CRITICALITY_SHARES[c]);
  if (given === null || typeof given !== 'object' || Array.isArray(given))
    throw invalidOption(
      component,
      field,
      given,
      'true (default shares) or an object of shares by criticality',
    );
  const shares: number[] = [];
  for (const key of Object.keys(given))
    if (!(CRITICALITIES as readonly string[]).includes(key))
      throw invalidOption(
        component,
        `${field}.${key}`,
        (given as Record<string, unknown>)[key],
        `a key among ${CRITICALITIES.join(', ')}`,
      );
  for (const [i, level] of CRITICALITIES.entries()) {
    const value = (given as Record<string, unknown>)[level] ?? DEFAULT_CRITICALITY_SHARES[level];
    if (!(typeof value === 'number' && value > 0 && value <= 1))
      throw invalidOption(component, `${field}.${level}`, value, 'a share of the limit in (0, 1]');
    if (i === 0 && value !== 1)
      throw invalidOption(
        component,
        `${field}.${level}`,
        value,
        '1: the most critical requests may use the whole limit',
      );
    if (i > 0 && value > shares[i - 1]!)
      throw invalidOption(
        component,
        `${field}.${level}`,
        value,
        `a share <= ${CRITICALITIES[i - 1]}'s (${shares[i - 1]}): a less critical request must not be admitted where a more critical one is refused`,
      );
    shares.push(value);
  }
  return shares;
}
