import { z } from 'zod';
import { distributionSchema, durationSchema, durationWithin } from './distributions.js';

// A service's `autoscale`: a ReplicaPool behind its balancer, sized by an Autoscaler running one of the
// components' policies (HpaPolicy, StepScalingPolicy, ScheduledScalingPolicy). Every field maps onto
// one option of those components; defaults are theirs. The schema checks shapes and ranges so that
// errors name the description's path; the components check the rest as they are built.

const int = (min: number) => z.int().min(min);
const positiveDuration = durationSchema.refine((d) => durationWithin(d, 0, Number.POSITIVE_INFINITY, true), {
  error: 'must be a duration > 0',
});

/**
 * Fewest replicas. 0 lets the service scale to zero (Kubernetes' HPAScaleToZero): it then needs an
 * `activator` node in front of its balancer, which wakes it (activator-check.ts).
 */
const minReplicas = int(0).optional();

/** ReplicaPool's start-up, warm-up and drain: what every policy shares. */
const poolFields = {
  /**
   * Time from a replica's creation to ready (scheduling, image pull, container start, readiness probe):
   * a duration or a distribution (ReplicaPool's `startup`).
   */
  startup: distributionSchema,
  /** Slower service for a while after ready: `factor` × service time, falling linearly to 1 over `duration`. @default none */
  warmup: z.strictObject({ duration: positiveDuration, factor: z.number().min(1) }).optional(),
  /** Kubernetes' `terminationGracePeriodSeconds`: a removed replica's requests may finish until then. @default 30 s */
  drain: durationSchema.optional(),
};

/** One HPA rate limit (Kubernetes `HPAScalingPolicy`). */
const hpaRatePolicy = z.strictObject({
  type: z.enum(['Pods', 'Percent']),
  value: int(1),
  period: positiveDuration,
});

/** One direction of an HPA's behavior (Kubernetes `HPAScalingRules`). */
const hpaRules = z.strictObject({
  /** @default 0 for scale-up, 300 s for scale-down */
  stabilizationWindow: durationSchema.optional(),
  /** @default 'Max' */
  selectPolicy: z.enum(['Max', 'Min', 'Disabled']).optional(),
  /** @default scale-up: 4 Pods and 100 Percent per 15 s; scale-down: 100 Percent per 15 s */
  policies: z.array(hpaRatePolicy).min(1).optional(),
  /** @default the HPA's `tolerance` */
  tolerance: z.number().min(0).optional(),
});

/** The HPA's target: average utilisation in percent, or requests per second per replica. */
const hpaMetric = z.union(
  [
    z.strictObject({
      /** Kubernetes `averageUtilization`, percent of the replica's workers busy. */
      utilization: z.number().positive(),
      /** `--horizontal-pod-autoscaler-cpu-initialization-period`. @default 5 min */
      initializationPeriod: durationSchema.optional(),
    }),
    z.strictObject({
      /** An `averageValue` of requests per second per replica. */
      rps: z.number().positive(),
    }),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union'
        ? 'must be { utilization: <percent> } or { rps: <per replica> }'
        : undefined,
  },
);

const hpaSchema = z.strictObject({
  /** @default 'hpa' */
  policy: z.literal('hpa').optional(),
  /** @default 1 */
  minReplicas,
  maxReplicas: int(1).max(1000),
  /** What is measured and the target per replica (HpaPolicy's `target`). */
  metric: hpaMetric,
  /** `--horizontal-pod-autoscaler-tolerance`. @default 0.1 */
  tolerance: z.number().min(0).optional(),
  /** `--horizontal-pod-autoscaler-sync-period`. @default 15 s */
  syncPeriod: positiveDuration.optional(),
  /** Kubernetes `behavior`. @default Kubernetes' default behavior */
  behavior: z.strictObject({ scaleUp: hpaRules.optional(), scaleDown: hpaRules.optional() }).optional(),
  ...poolFields,
});

/** One step adjustment (AWS `StepAdjustment`), bounds relative to the threshold. */
const stepAdjustment = z.strictObject({
  /** @default -Infinity */
  lower: z.number().optional(),
  /** @default Infinity */
  upper: z.number().optional(),
  adjustment: z.int(),
});

/** One CloudWatch alarm and its step scaling policy. */
const stepAlarm = z.strictObject({
  threshold: z.number(),
  steps: z.array(stepAdjustment).min(1),
  /** @default 'change' */
  adjustmentType: z.enum(['change', 'percent', 'exact']).optional(),
  /** @default 1 */
  minAdjustmentMagnitude: int(1).optional(),
  /** @default 300 s */
  cooldown: durationSchema.optional(),
});

const stepSchema = z.strictObject({
  policy: z.literal('step'),
  /** @default 1 */
  minReplicas,
  maxReplicas: int(1).max(1000),
  /** What the alarms watch: mean utilisation (percent) or requests per second per replica. @default 'utilization' */
  metric: z.enum(['utilization', 'rps']).optional(),
  /** The alarms' evaluation period. @default 60 s */
  period: positiveDuration.optional(),
  /** @default 1 */
  evaluationPeriods: int(1).optional(),
  /** @default none (never scales out) */
  scaleOut: stepAlarm.optional(),
  /** @default none (never scales in) */
  scaleIn: stepAlarm.optional(),
  ...poolFields,
});

const scheduledSchema = z.strictObject({
  policy: z.literal('scheduled'),
  /** From `at` on, `replicas` replicas; `at` strictly increasing. */
  schedule: z.array(z.strictObject({ at: durationSchema, replicas: int(1).max(1000) })).min(1),
  /** The schedule repeats every `cycle`; `Infinity` as a number is not JSON, so use a long one for once. @default 24 h */
  cycle: positiveDuration.optional(),
  /** @default 60 s */
  period: positiveDuration.optional(),
  /** Fewest replicas (every entry has at least one, so the pool never empties). @default 0 */
  minReplicas: int(0).optional(),
  /** @default the largest entry's replicas */
  maxReplicas: int(1).max(1000).optional(),
  ...poolFields,
});

/** The policies a description can name. */
export const AUTOSCALE_POLICIES = ['hpa', 'step', 'scheduled'] as const;

/**
 * A service's autoscaling: `policy` (default `hpa`) and that policy's options, plus the replicas'
 * start-up, warm-up and drain. The service's `replicas` is the count at the start.
 */
export const autoscaleSchema = z.discriminatedUnion('policy', [hpaSchema, stepSchema, scheduledSchema], {
  error: (iss) =>
    iss.code === 'invalid_union' ? `policy must be one of ${AUTOSCALE_POLICIES.join(', ')}` : undefined,
});

/** A service's `autoscale`. */
export type AutoscaleDescription = z.infer<typeof autoscaleSchema>;
