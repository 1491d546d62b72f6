import type { AutoscaleDescription } from './autoscale-schema.js';
import type { ServiceDescription, SystemDescription } from './schema.js';

/**
 * The bounds an autoscaled service's replicas stay within: the policy's `minReplicas` and `maxReplicas`
 * with the components' defaults (HpaPolicy and StepScalingPolicy: 1; ScheduledScalingPolicy: 0, and at
 * most the largest entry).
 *
 * @example
 * ```ts
 * autoscaleBounds({ maxReplicas: 10, metric: { utilization: 60 }, startup: '30s' }); // { min: 1, max: 10 }
 * ```
 */
export function autoscaleBounds(a: AutoscaleDescription): { min: number; max: number } {
  if (a.policy === 'scheduled')
    return {
      min: a.minReplicas ?? 0,
      max: a.maxReplicas ?? Math.max(...a.schedule.map((e) => e.replicas)),
    };
  return { min: a.minReplicas ?? 1, max: a.maxReplicas };
}

/**
 * The balancers that list `name` among their backends, in name order.
 *
 * @example
 * ```ts
 * balancersOf(system, 'app'); // ['lb']
 * ```
 */
export function balancersOf(system: SystemDescription, name: string): string[] {
  return Object.keys(system.nodes)
    .sort()
    .filter((b) => {
      const n = system.nodes[b]!;
      return n.kind === 'balancer' && n.backends.includes(name);
    });
}

/**
 * Checks an autoscaled service against the rest of the description: one balancer in front of it (the
 * pool joins it), a start count within the bounds, and none of the options that would either share one
 * component across the replicas (a rate limiter, connection pools, a cache-aside reader) or name replicas
 * that do not exist yet (links, regions, weights, `onlyFrom`).
 */
export function checkAutoscale(
  system: SystemDescription,
  at: string,
  name: string,
  node: ServiceDescription,
  push: (path: string, message: string) => void,
): void {
  const a = node.autoscale;
  if (a === undefined) return;
  const lbs = balancersOf(system, name);
  if (lbs.length === 0)
    push(
      `${at}.autoscale`,
      `an autoscaled service's replicas join the balancer in front of it: list "${name}" in a balancer's backends`,
    );
  else if (lbs.length > 1)
    push(
      `${at}.autoscale`,
      `"${name}" is a backend of ${lbs.join(' and ')}; an autoscaled service's replicas join one balancer`,
    );
  const { min, max } = autoscaleBounds(a);
  if (max < min) push(`${at}.autoscale.maxReplicas`, `must be at least minReplicas (${min}), got ${max}`);
  else {
    const start = node.replicas ?? 1;
    if (start < min || start > max)
      push(
        `${at}.replicas`,
        `the replicas at the start must be within [minReplicas, maxReplicas] = [${min}, ${max}], got ${start}`,
      );
  }
  const shared = 'one would be shared by every replica of an autoscaled service';
  if (node.rateLimit !== undefined) push(`${at}.rateLimit`, `${shared}: not supported with \`autoscale\``);
  if (node.concurrencyLimit !== undefined)
    push(`${at}.concurrencyLimit`, `${shared}: not supported with \`autoscale\``);
  if (node.cacheAside !== undefined) push(`${at}.cacheAside`, `not supported with \`autoscale\``);
  node.downstream?.forEach((c, i) => {
    if (c.pool !== undefined)
      push(`${at}.downstream[${i}].pool`, `${shared}: not supported with \`autoscale\``);
  });
  const later = "names replicas that do not exist yet: not supported for an autoscaled service's replicas";
  if (node.region !== undefined) push(`${at}.region`, `a region's links ${later}`);
  const mine = (n: string): boolean => n === name || n.startsWith(`${name}-`);
  for (const key of Object.keys(system.network?.edges ?? {}))
    if (key.split('->').some(mine)) push(`network.edges.${key}`, `a link to "${name}" ${later}`);
  for (const lb of lbs) {
    const weights = (system.nodes[lb] as { weights?: Record<string, number> }).weights ?? {};
    for (const key of Object.keys(weights))
      if (mine(key)) push(`nodes.${lb}.weights.${key}`, `a weight for "${name}" ${later}`);
  }
  for (const [other, n] of Object.entries(system.nodes))
    if (n.kind === 'service')
      n.downstream?.forEach((c, i) => {
        if (c.onlyFrom?.some(mine)) push(`nodes.${other}.downstream[${i}].onlyFrom`, `"${name}" ${later}`);
      });
}
