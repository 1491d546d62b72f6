import { z } from 'zod';

const positive = z.number().positive();
const count = z.int().min(1);
const windowMs = z.number().positive();

/**
 * A service's admission limiter, as the components' RateLimiterSpec (createRateLimiter): a request it
 * refuses is answered `rejected` (HTTP 429) and counted as `svc.throttled`; the leaky bucket as a
 * queue delays requests instead (shaping). Every field is required, as the limiters take them.
 *
 * @example
 * ```ts
 * rateLimitSchema.parse({ kind: 'token-bucket', capacity: 100, refillPerSecond: 50 });
 * ```
 */
export const rateLimitSchema = z.discriminatedUnion('kind', [
  /** Tokens refill continuously; a request takes one (Guava's RateLimiter, AWS API Gateway's throttle). */
  z.strictObject({ kind: z.literal('token-bucket'), capacity: count, refillPerSecond: positive }),
  /** A bucket that leaks at a constant rate; a request that would overflow it is refused (policing). */
  z.strictObject({ kind: z.literal('leaky-bucket-meter'), capacity: count, leakPerSecond: positive }),
  /** Requests wait in a bounded queue drained at a constant rate (nginx limit_req with burst: shaping). */
  z.strictObject({ kind: z.literal('leaky-bucket-queue'), capacity: count, leakPerSecond: positive }),
  /** At most `limit` per fixed window of `windowMs`. */
  z.strictObject({ kind: z.literal('fixed-window'), limit: count, windowMs }),
  /** At most `limit` in any sliding window of `windowMs` (exact log). */
  z.strictObject({ kind: z.literal('sliding-log'), limit: count, windowMs }),
  /** The sliding window estimated from two fixed windows (Cloudflare's approximation). */
  z.strictObject({ kind: z.literal('sliding-window-counter'), limit: count, windowMs }),
  /** The generic cell rate algorithm: `ratePerSecond` with `burst` extra (redis-cell, Stripe). */
  z.strictObject({ kind: z.literal('gcra'), ratePerSecond: positive, burst: z.int().min(0) }),
]);

/** A service's `rateLimit`. */
export type RateLimitDescription = z.infer<typeof rateLimitSchema>;
