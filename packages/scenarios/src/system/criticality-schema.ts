import { CRITICALITIES, type Criticality } from '@dsim/components';
import { z } from 'zod';

/**
 * A request's criticality, the four levels of the Google SRE book ("Handling Overload") as the
 * components' ConcurrencyLimiter takes them, most critical first: `CRITICAL_PLUS`, `CRITICAL` (the
 * default for a request without one), `SHEDDABLE_PLUS`, `SHEDDABLE`.
 *
 * @example
 * ```ts
 * criticalitySchema.parse('SHEDDABLE_PLUS');
 * ```
 */
export const criticalitySchema = z.enum(CRITICALITIES as [Criticality, ...Criticality[]]);

const share = z.number().gt(0).max(1);

/**
 * A `concurrencyLimit`'s admission by criticality (ConcurrencyLimiter's `criticality`): `true` for the
 * components' default shares, or shares by level in (0, 1], given in part (the rest from the defaults).
 * A request of level c is admitted only while fewer than max(1, floor(share(c) × limit)) are in flight,
 * so lower levels are refused first (nested thresholds: the SRE book's rule that a task rejects a level
 * only once it rejects every lower one). `CRITICAL_PLUS` has the whole limit (1); the shares must not
 * increase as the level falls (the component checks it as it is built).
 *
 * @default none (no admission by criticality); `true` means
 * `{ CRITICAL_PLUS: 1, CRITICAL: 0.9, SHEDDABLE_PLUS: 0.8, SHEDDABLE: 0.7 }` (the components'
 * DEFAULT_CRITICALITY_SHARES)
 * @example
 * ```ts
 * criticalitySharesSchema.parse({ SHEDDABLE: 0.5 });
 * ```
 */
export const criticalitySharesSchema = z.union([
  z.literal(true),
  z.strictObject({
    /** @default 1 (it must be 1: the most critical requests may use the whole limit) */
    CRITICAL_PLUS: share.optional(),
    /** @default 0.9 */
    CRITICAL: share.optional(),
    /** @default 0.8 */
    SHEDDABLE_PLUS: share.optional(),
    /** @default 0.7 */
    SHEDDABLE: share.optional(),
  }),
]);

/** A `concurrencyLimit`'s `criticality`. */
export type CriticalitySharesDescription = z.infer<typeof criticalitySharesSchema>;
