import { z } from 'zod';
import { durationSchema, durationWithin } from './distributions.js';

// The activator node (Activator): scale to zero, the Knative way. Every field maps onto one
// ActivatorOptions field; the defaults are the component's.

/** Knative's defaults, which the Activator component takes. */
export const ACTIVATOR_DEFAULTS = Object.freeze({
  /** Requests held at most while no replica is ready. */
  capacity: 10_000,
  /** How long a held request may wait for a replica: Knative's `revision-timeout-seconds` (300). */
  timeout: '300s',
});

/**
 * A Knative-style activator (Activator) in front of the balancer of an autoscaled service: while the
 * service has a ready replica it forwards each request at once; while it has none it holds them (up to
 * `capacity`, each for at most `timeout`), wakes a service at zero replicas (one replica at once,
 * `Autoscaler.wake`), and forwards what it holds when the first replica is ready: the cold start. With
 * `autoscale: { minReplicas: 0 }` on the service, its HPA scales it down to zero after a quiet window.
 *
 * @example
 * ```ts
 * activatorSchema.parse({ kind: 'activator', target: 'lb', timeout: '60s' });
 * ```
 */
export const activatorSchema = z.strictObject({
  kind: z.literal('activator'),
  /** The balancer in front of an autoscaled service (whose pool the activator waits for). */
  target: z.string().min(1, { error: 'must be a node name' }),
  /**
   * Requests held at most while no replica is ready; one more is answered `overloaded`.
   * @default 10000 (the Activator's queue depth)
   */
  capacity: z.int().min(0).optional(),
  /**
   * How long a held request may wait for a replica before it is answered `unavailable`.
   * @default 300 s (Knative's revision-timeout-seconds)
   */
  timeout: durationSchema
    .refine((d) => durationWithin(d, 0, Number.POSITIVE_INFINITY, true), { error: 'must be a duration > 0' })
    .optional(),
  region: z.string().min(1).optional(),
});

/** An activator node of a system. */
export type ActivatorDescription = z.infer<typeof activatorSchema>;
