import { z } from 'zod';
import { methodSchema, pathPatternSchema } from './gateway-schema.js';
import { rolloutSchema } from './rollout-schema.js';

// The strangler node (StranglerFacade): every field maps onto one StranglerFacadeOptions field; the
// defaults are the component's.

const name = z.string().min(1, { error: 'must be a node name' });
const share = z.number().min(0).max(1);

/** A route being moved from the legacy system to a new service (StranglerFacade's MigratedRoute). */
const migratedRouteSchema = z.strictObject({
  /** Unique among the strangler's routes. */
  name: z.string().min(1),
  /** Methods matched. @default any method */
  method: z.union([methodSchema, z.array(methodSchema).min(1)]).optional(),
  /** Path pattern: literals, `:param` segments and a final `*`. */
  path: pathPatternSchema,
  /** The new service: a balancer, service or database node. */
  to: name,
  /** Share of the route's requests sent to the new service, in [0, 1]. @default 0 */
  weight: share.optional(),
  /** Share of the legacy-bound requests also copied to the new service (shadow traffic). @default 0 */
  shadow: share.optional(),
  /**
   * Move the route in steps with canary analysis and automatic rollback (CanaryRollout): `{ steps?,
   * interval?, minSuccessRate?, maxP99Ms?, minRequests?, inconclusiveLimit?, failureLimit?, start? }`.
   * `weight` is then the route's weight until `start`. See rollout-schema.ts.
   * @default none (the weight stays as given)
   */
  rollout: rolloutSchema.optional(),
});

/**
 * A strangler-fig facade (StranglerFacade) in front of a legacy node: requests a migrated route takes
 * go to its new service with the route's `weight`, the rest to `legacy`; `shadow` copies legacy-bound
 * requests to the new service and compares the answers, which nobody sees.
 *
 * @example
 * ```ts
 * stranglerSchema.parse({ kind: 'strangler', legacy: 'monolith', routes: [{ name: 'invoices', path: '/invoices/*', to: 'billing', weight: 0.1 }] });
 * ```
 */
export const stranglerSchema = z.strictObject({
  kind: z.literal('strangler'),
  /** Every request no migrated route takes goes here: a balancer, service or database node. */
  legacy: name,
  /** Routes being migrated, matched in order. */
  routes: z.array(migratedRouteSchema).min(1),
  /**
   * `sticky` hashes the tenant (or the request's key) so a user stays on one side; `random` draws per
   * request. @default 'sticky'
   */
  assignment: z.enum(['sticky', 'random']).optional(),
  region: z.string().min(1).optional(),
});

/** A strangler node of a system. */
export type StranglerDescription = z.infer<typeof stranglerSchema>;
