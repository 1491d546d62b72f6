import { z } from 'zod';
import { durationSchema } from './distributions.js';

// A strangler route's canary rollout (CanaryRollout): every field maps onto one CanaryRolloutOptions
// field; the defaults are the component's (Flagger's analysis, Argo Rollouts' limits).

/**
 * A canary rollout of one strangler route (CanaryRollout): from `start` the route's weight goes through
 * `steps`, each held for `interval` and then analysed on the new service's answers in that step (ok share
 * at least `minSuccessRate`, p99 at most `maxP99Ms`). A pass moves to the next step (after the last, 1,
 * the route is promoted); a failure beyond `failureLimit` sets the weight back to 0 at once (rolled
 * back); fewer than `minRequests` answers is inconclusive, and beyond `inconclusiveLimit` pauses the
 * rollout where it is.
 *
 * @example
 * ```ts
 * rolloutSchema.parse({ steps: [0.1, 0.5, 1], interval: '30s', minSuccessRate: 0.99 });
 * ```
 */
export const rolloutSchema = z.strictObject({
  /**
   * The weights the route goes through: increasing, each in (0, 1], the last 1.
   * @default [0.05, 0.25, 0.5, 1] (CanaryRollout's; Argo Rollouts' canary `setWeight` steps)
   */
  steps: z.array(z.number().gt(0).max(1)).min(1).optional(),
  /** How long each step is held before its analysis. @default '1m' (Flagger's analysis interval) */
  interval: durationSchema.optional(),
  /** Least ok share of the new service's answers in a step. @default 0.99 (Flagger's request-success-rate of 99%) */
  minSuccessRate: z.number().min(0).max(1).optional(),
  /** Highest p99 latency (ms) of the new service's answers in a step. @default none (not checked) */
  maxP99Ms: z.number().positive().optional(),
  /** Fewer answers than this in a step make its analysis inconclusive. @default 10 */
  minRequests: z.int().min(1).optional(),
  /**
   * Inconclusive analyses tolerated (the step is held again); one more pauses the rollout.
   * @default 0 (Argo Rollouts' inconclusiveLimit)
   */
  inconclusiveLimit: z.int().min(0).optional(),
  /** Failed analyses tolerated (the step is held again); one more rolls back. @default 0 (Argo Rollouts' failureLimit) */
  failureLimit: z.int().min(0).optional(),
  /** When the first step is set (from the start of the run); until then the route has its `weight`. @default 0 */
  start: durationSchema.optional(),
});

/** A strangler route's `rollout`. */
export type RolloutDescription = z.infer<typeof rolloutSchema>;

/** CanaryRollout's default steps, for messages and the docs. */
export const DEFAULT_ROLLOUT_STEPS = Object.freeze([0.05, 0.25, 0.5, 1] as const);
