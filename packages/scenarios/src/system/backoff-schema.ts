import { z } from 'zod';

/** The backoff kinds every caller takes, as the components' BackoffSpec (the balancer adds `envoy`). */
export const BACKOFF_VARIANTS = [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({ kind: z.literal('fixed'), delayMs: z.number().min(0) }),
  z.strictObject({
    kind: z.literal('exponential'),
    baseMs: z.number().positive(),
    capMs: z.number().positive(),
    jitter: z.enum(['none', 'full', 'equal', 'decorrelated']),
  }),
] as const;

/**
 * Retry backoff, as the components' BackoffSpec.
 *
 * @example
 * ```ts
 * backoffSchema.parse({ kind: 'exponential', baseMs: 50, capMs: 2000, jitter: 'full' });
 * ```
 */
export const backoffSchema = z.discriminatedUnion('kind', [...BACKOFF_VARIANTS]);
