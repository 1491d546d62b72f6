import { type MigratedRoute, StranglerFacade } from '@dsim/components';
import type { NetNode } from '@dsim/core';
import { clean } from './clean.js';
import { type CallHook, observeCallThen } from './gateway.js';
import { captureInbound, type MeshHandle } from './mesh.js';
import type { StranglerDescription } from './strangler-schema.js';

/**
 * Builds a strangler node: a {@link StranglerFacade} on `node` in front of the described legacy system,
 * with its migrated routes (weights, shadow shares) and assignment. Every call it makes (to either side,
 * shadow copies included) is told to `onCall` as it ends (per-edge measurement); with a `mesh`, its
 * calls to an instance in it cross the instance's inbound proxy.
 */
export function buildStrangler(
  node: NetNode,
  d: StranglerDescription,
  onCall: CallHook | undefined,
  mesh?: MeshHandle,
): StranglerFacade {
  const facade = new StranglerFacade(node, {
    legacy: d.legacy,
    // A rollout is not the facade's: buildRollouts drives the route's weight.
    routes: d.routes.map(({ rollout: _, ...r }) => clean(r) as MigratedRoute),
    ...(d.assignment === undefined ? {} : { assignment: d.assignment }),
  });
  captureInbound(mesh, facade.endpoint);
  if (onCall !== undefined) observeCallThen(facade.endpoint, onCall);
  return facade;
}

/**
 * A strangler's cumulative counts now: requests and failures over both sides of every route and the
 * unrouted ones, per route the requests sent to each side, and the shadow copies.
 *
 * @example
 * ```ts
 * const r = stranglerReading(sys.stranglers.facade);
 * r.routes.invoices.modern / (r.routes.invoices.modern + r.routes.invoices.legacy); // share migrated so far
 * ```
 */
export function stranglerReading(facade: StranglerFacade): StranglerReading {
  let requests = facade.unrouted.requests;
  let failed = facade.unrouted.failed;
  let shadowSent = 0;
  let shadowFailed = 0;
  const routes: Record<string, { legacy: number; modern: number; weight: number }> = {};
  for (const name of facade.routeNames) {
    const s = facade.routeStats(name);
    requests += s.legacy.requests + s.modern.requests;
    failed += s.legacy.failed + s.modern.failed;
    shadowSent += s.shadowSent;
    shadowFailed += s.shadowFailed;
    routes[name] = { legacy: s.legacy.requests, modern: s.modern.requests, weight: facade.weight(name) };
  }
  return { requests, failed, shadowSent, shadowFailed, routes };
}

/** See {@link stranglerReading}: cumulative counts of one strangler at one instant. */
export interface StranglerReading {
  /** Requests forwarded (to either side, or unrouted to the legacy system), and those answered with an error. */
  readonly requests: number;
  readonly failed: number;
  /** Shadow copies sent, and those the new service failed while the legacy answer was ok. */
  readonly shadowSent: number;
  readonly shadowFailed: number;
  /** Per migrated route: requests sent to the legacy system and to the new service, and its weight now. */
  readonly routes: Readonly<
    Record<string, { readonly legacy: number; readonly modern: number; readonly weight: number }>
  >;
}
