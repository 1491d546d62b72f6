import type { ActivatorDescription } from './activator-schema.js';
import { autoscaleBounds, balancersOf } from './autoscale-check.js';
import type { RefCheck } from './gateway-check.js';
import type { ServiceDescription, SystemDescription } from './schema.js';

// Cross-node rules of scale to zero: an activator fronts the balancer of exactly one autoscaled service,
// and a service whose autoscaling may reach zero replicas has an activator in front of its balancer.

/**
 * The autoscaled services among a balancer's backends, in the order listed.
 *
 * @example
 * ```ts
 * autoscaledBackends(system, 'lb'); // ['app']
 * ```
 */
export function autoscaledBackends(system: SystemDescription, balancer: string): string[] {
  const lb = system.nodes[balancer];
  if (lb?.kind !== 'balancer') return [];
  return lb.backends.filter((b) => {
    const n = system.nodes[b];
    return n?.kind === 'service' && n.autoscale !== undefined;
  });
}

/**
 * The activator nodes in front of a balancer, in name order.
 *
 * @example
 * ```ts
 * activatorsOf(system, 'lb'); // ['activator']
 * ```
 */
export function activatorsOf(system: SystemDescription, balancer: string): string[] {
  return Object.keys(system.nodes)
    .sort()
    .filter((n) => {
      const d = system.nodes[n]!;
      return d.kind === 'activator' && d.target === balancer;
    });
}

/** An activator's target: a balancer with exactly one autoscaled service behind it. */
export function checkActivator(
  system: SystemDescription,
  at: string,
  name: string,
  node: ActivatorDescription,
  ref: RefCheck,
  push: (path: string, message: string) => void,
): void {
  ref(`${at}.target`, name, node.target, ['balancer'], 'an activator target');
  if (system.nodes[node.target]?.kind !== 'balancer') return;
  const scaled = autoscaledBackends(system, node.target);
  if (scaled.length === 0)
    push(
      `${at}.target`,
      `an activator waits for an autoscaled service's replicas: balancer "${node.target}" has no backend with \`autoscale\``,
    );
  else if (scaled.length > 1)
    push(
      `${at}.target`,
      `balancer "${node.target}" has several autoscaled backends (${scaled.join(', ')}); an activator waits for one`,
    );
}

/**
 * A service that may reach zero replicas (`autoscale.minReplicas: 0`, or `replicas: 0` at the start)
 * needs an activator in front of its balancer: otherwise nothing would ever wake it.
 */
export function checkScaleToZero(
  system: SystemDescription,
  at: string,
  name: string,
  node: ServiceDescription,
  push: (path: string, message: string) => void,
): void {
  const a = node.autoscale;
  if (a === undefined) {
    if (node.replicas === 0)
      push(
        `${at}.replicas`,
        'must be at least 1, got 0: only a service that scales to zero (`autoscale` with `minReplicas: 0`) starts with none',
      );
    return;
  }
  // A scheduled policy's entries have at least one replica: its pool never empties.
  if (a.policy === 'scheduled' || autoscaleBounds(a).min !== 0) return;
  const lb = balancersOf(system, name)[0];
  if (lb === undefined) return; // checkAutoscale says so
  if (activatorsOf(system, lb).length === 0)
    push(
      `${at}.autoscale.minReplicas`,
      `0 lets "${name}" scale to zero, and only an activator wakes it: add a node { kind: activator, target: ${lb} } and send the requests to it, or set minReplicas >= 1`,
    );
}
