import { z } from 'zod';
import { criticalitySharesSchema } from './criticality-schema.js';
import { durationSchema } from './distributions.js';

// A service's `concurrencyLimit`: a ConcurrencyLimiter in front of the service's workers, running one of
// the components' limit algorithms (FixedLimit, AimdLimit, Gradient2Limit, VegasLimit). Every field maps
// onto one option of those components and the defaults are theirs; the schema checks shapes and ranges
// so that errors name the description's path, the components check the rest as they are built.

const int = (min: number) => z.int().min(min);

/**
 * How a refusal is answered (ConcurrencyLimitProxy's `rejectWith`): `overloaded` (503, gRPC UNAVAILABLE,
 * the library's gRPC interceptor), `unavailable` (503) or `rejected` (429, the library's servlet filter).
 */
const rejectWith = z.enum(['overloaded', 'unavailable', 'rejected']).optional();

const common = {
  /** @default 'overloaded' */
  rejectWith,
  /**
   * A retry-after hint on every refusal (ConcurrencyLimitProxy's `retryAfter`): HTTP `Retry-After` on
   * the 503 or 429, gRPC's `grpc-retry-pushback-ms`. Callers with `retryAfter: 'at-least'` or
   * `'pushback'` wait it before retrying.
   * @default none (no hint)
   */
  retryAfter: durationSchema.optional(),
  /**
   * Admission by criticality (ConcurrencyLimiter's `criticality`, Google SRE book "Handling Overload"):
   * `true` or shares by level, so that lower levels are refused first. Requests carry the level of the
   * clients node (or `requests` entry) that sent them; one without is `CRITICAL`. See
   * criticality-schema.ts.
   * @default none (every request alike)
   */
  criticality: criticalitySharesSchema.optional(),
};

/**
 * A service's `concurrencyLimit`, by `limit`: `fixed` (a FixedLimit of `max`), `aimd`, `gradient2` or
 * `vegas` with that algorithm's own options (Netflix concurrency-limits' names and defaults).
 *
 * @example
 * ```ts
 * concurrencyLimitSchema.parse({ limit: 'gradient2', minLimit: 1, initialLimit: 8 });
 * ```
 */
export const concurrencyLimitSchema = z.discriminatedUnion('limit', [
  z.strictObject({
    limit: z.literal('fixed'),
    /** Requests in flight at most (FixedLimit). */
    max: int(1),
    ...common,
  }),
  z.strictObject({
    limit: z.literal('aimd'),
    /** @default 20 */
    initialLimit: int(1).optional(),
    /** @default 20 */
    minLimit: int(1).optional(),
    /** @default 200 */
    maxLimit: int(1).optional(),
    /** Multiplier on a drop, in [0.5, 1). @default 0.9 */
    backoffRatio: z.number().min(0.5).lt(1).optional(),
    /** A sample slower than this counts as a drop. @default 5 s */
    timeout: durationSchema.optional(),
    ...common,
  }),
  z.strictObject({
    limit: z.literal('gradient2'),
    /** @default 20 */
    initialLimit: int(1).optional(),
    /** @default 20 */
    minLimit: int(1).optional(),
    /** @default 200 */
    maxLimit: int(1).optional(),
    /** Weight of a new limit in (0, 1]. @default 0.2 */
    smoothing: z.number().gt(0).max(1).optional(),
    /** Headroom added to the gradient's limit. @default 4 */
    queueSize: int(0).optional(),
    /** Samples in the long-term RTT average. @default 600 */
    longWindow: int(1).optional(),
    /** How much slower than the long RTT is tolerated before the limit falls, >= 1. @default 1.5 */
    rttTolerance: z.number().min(1).optional(),
    ...common,
  }),
  z.strictObject({
    limit: z.literal('vegas'),
    /** @default 20 */
    initialLimit: int(1).optional(),
    /** @default 1000 */
    maxLimit: int(1).optional(),
    /** Weight of a new limit in (0, 1]. @default 1 (no smoothing) */
    smoothing: z.number().gt(0).max(1).optional(),
    /** Queue estimate below which the limit grows. @default 3 × log10Root(limit) */
    alpha: z.number().min(0).optional(),
    /** Queue estimate above which the limit shrinks. @default 6 × log10Root(limit) */
    beta: z.number().min(0).optional(),
    /** Probe for a new base RTT about every probeMultiplier × limit samples. @default 30 */
    probeMultiplier: int(1).optional(),
    ...common,
  }),
]);

/** A service's `concurrencyLimit`. */
export type ConcurrencyLimitDescription = z.infer<typeof concurrencyLimitSchema>;
