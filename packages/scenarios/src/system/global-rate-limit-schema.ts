import { z } from 'zod';
import { distributionSchema, durationSchema, durationWithin } from './distributions.js';

// A service's `globalRateLimit` (the components' distributed rate limiters: LocalShareLimiter,
// CentralLimiter, SyncedLimiter) and the `rate-limit-store` node (RateLimitStore) that central and
// synced limits count in. Every field maps onto one option of those components; defaults are theirs.

const name = z.string().min(1, { error: 'must be a node name' });
const positiveDuration = durationSchema.refine((d) => durationWithin(d, 0, Number.POSITIVE_INFINITY, true), {
  error: 'must be a duration > 0',
});

/** The defaults of a `globalRateLimit`: a one-second window (envoyproxy/ratelimit's `unit: second`). */
export const GLOBAL_RATE_LIMIT_DEFAULTS = Object.freeze({ window: 1000 });

const common = {
  /** Permits per window over all the service's replicas together. */
  limit: z.int().min(1),
  /** The window the limit counts in, aligned to time 0. @default 1 s (envoyproxy/ratelimit's `unit: second`) */
  window: positiveDuration.optional(),
};

/**
 * The limit as one share per replica (LocalShareLimiter with a fixed window of ⌊limit / replicas⌋ each,
 * `localShare`): Envoy's local rate limit filter, nothing shared. Never above `limit` together, short of
 * it as soon as the load is uneven.
 */
const localShareSchema = z.strictObject({ kind: z.literal('local-share'), ...common });

/**
 * Every request asks a central counter store (CentralLimiter, Envoy's global rate limit filter), which
 * counts it against `limit` per `window`: exact, at one round trip per request.
 */
const centralSchema = z.strictObject({
  kind: z.literal('central'),
  ...common,
  /** The `rate-limit-store` node counted in. */
  store: name,
  /** How long a request waits for the store before `failureMode` decides. @default 20 ms (Envoy's rate limit filter) */
  timeout: positiveDuration.optional(),
  /**
   * What a request gets when the store cannot answer in time: `open` admits it, `closed` refuses it
   * (`unavailable`). @default 'open' (Envoy's failure_mode_deny: false)
   */
  failureMode: z.enum(['open', 'closed']).optional(),
});

/**
 * Each replica decides at once from the totals it last heard plus what it admitted since, and every
 * `syncInterval` reports its counts to the store and reads the totals back (SyncedLimiter, Cloudflare's
 * asynchronous counters): no added latency, over-admission of up to about rate × (2 × syncInterval + RTT)
 * per window.
 */
const syncedSchema = z.strictObject({
  kind: z.literal('synced'),
  ...common,
  /** The `rate-limit-store` node holding the shared counts. */
  store: name,
  /** How often each replica reports its counts and reads the totals. */
  syncInterval: positiveDuration,
  /** How long a sync waits for the store before its counts are kept for the next one. @default syncInterval */
  timeout: positiveDuration.optional(),
  /**
   * `fixed-window` (the window's count) or `sliding-window-counter` (Cloudflare's estimate from the
   * previous and current windows). @default 'fixed-window'
   */
  algorithm: z.enum(['fixed-window', 'sliding-window-counter']).optional(),
});

/** The kinds of global limit a description can name. */
export const GLOBAL_RATE_LIMIT_KINDS = ['local-share', 'central', 'synced'] as const;

/**
 * A rate limit over all the replicas of a service together: `local-share`, `central` or `synced`. A
 * request over it is answered `rejected` (HTTP 429).
 *
 * @example
 * ```ts
 * globalRateLimitSchema.parse({ kind: 'central', limit: 400, store: 'limits' });
 * ```
 */
export const globalRateLimitSchema = z.discriminatedUnion(
  'kind',
  [localShareSchema, centralSchema, syncedSchema],
  {
    error: (iss) =>
      iss.code === 'invalid_union' ? `kind must be one of ${GLOBAL_RATE_LIMIT_KINDS.join(', ')}` : undefined,
  },
);

/** A service's `globalRateLimit`. */
export type GlobalRateLimitDescription = z.infer<typeof globalRateLimitSchema>;

/**
 * A counter store (RateLimitStore): the rate limit service and its Redis as one node, on its own
 * network node (links, partitions and crashes act on it).
 *
 * @example
 * ```ts
 * rateLimitStoreSchema.parse({ kind: 'rate-limit-store', persistent: true });
 * ```
 */
export const rateLimitStoreSchema = z.strictObject({
  kind: z.literal('rate-limit-store'),
  /** Time to serve one check or one whole sync. @default 0.05 ms (an in-memory store such as Redis) */
  serviceTime: distributionSchema.optional(),
  /** Workers. @default 1 (Redis executes commands on one thread) */
  concurrency: z.int().min(1).optional(),
  /** Counters survive a crash and restart. @default false */
  persistent: z.boolean().optional(),
  region: z.string().min(1).optional(),
});

/** A rate-limit-store node. */
export type RateLimitStoreDescription = z.infer<typeof rateLimitStoreSchema>;
