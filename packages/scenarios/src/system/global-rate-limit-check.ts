import { durationMs } from './distributions.js';
import type { RefCheck } from './gateway-check.js';
import { GLOBAL_RATE_LIMIT_DEFAULTS } from './global-rate-limit-schema.js';
import type { ServiceDescription, SystemDescription } from './schema.js';

// Cross-field and cross-node rules of a service's `globalRateLimit`.

/**
 * Checks a service's `globalRateLimit`: one admission limit per service, fixed replicas, a local share of
 * at least one permit each, a store that is a `rate-limit-store` node.
 */
export function checkGlobalRateLimit(
  at: string,
  name: string,
  node: ServiceDescription,
  ref: RefCheck,
  push: (path: string, message: string) => void,
): void {
  const g = node.globalRateLimit;
  if (g === undefined) return;
  const path = `${at}.globalRateLimit`;
  if (node.rateLimit !== undefined)
    push(
      path,
      'a service has one admission limit: give `rateLimit` (per replica) or `globalRateLimit`, not both',
    );
  if (node.autoscale !== undefined)
    push(path, 'not supported with `autoscale`: the limit is split over a fixed set of replicas');
  const replicas = node.replicas ?? 1;
  if (g.kind === 'local-share' && g.limit < replicas)
    push(
      `${path}.limit`,
      `must be at least the replicas (${replicas}) so that each gets a permit of its share, got ${g.limit}`,
    );
  if (g.kind !== 'local-share')
    ref(`${path}.store`, name, g.store, ['rate-limit-store'], 'a rate limit store');
}

/**
 * A store counts `check` requests against one limit: the services with a `central` limit in it must
 * give the same `limit` and `window`.
 */
export function checkStoreLimits(
  system: SystemDescription,
  push: (path: string, message: string) => void,
): void {
  const first = new Map<string, { service: string; limit: number; windowMs: number }>();
  for (const name of Object.keys(system.nodes).sort()) {
    const node = system.nodes[name]!;
    if (node.kind !== 'service' || node.globalRateLimit?.kind !== 'central') continue;
    const g = node.globalRateLimit;
    const windowMs = durationMs(g.window ?? GLOBAL_RATE_LIMIT_DEFAULTS.window);
    const seen = first.get(g.store);
    if (seen === undefined) first.set(g.store, { service: name, limit: g.limit, windowMs });
    else if (seen.limit !== g.limit || seen.windowMs !== windowMs)
      push(
        `nodes.${name}.globalRateLimit`,
        `store "${g.store}" counts one limit, and "${seen.service}" gives it ${seen.limit} per ${seen.windowMs} ms; got ${g.limit} per ${windowMs} ms (give each its own store)`,
      );
  }
}
