import type { BalancerDescription } from './balancer-schema.js';
import { type DurationData, durationMs } from './distributions.js';
import type { RefCheck } from './gateway-check.js';
import type { SystemDescription } from './schema.js';

// Cross-field and cross-node rules of a balancer's `discovery`, and of the `shutdown` faults it makes
// possible.

/**
 * The balancer whose `discovery` finds the replicas of `service`, if any.
 *
 * @example
 * ```ts
 * discoveringBalancer(system, 'app'); // 'lb'
 * ```
 */
export function discoveringBalancer(system: SystemDescription, service: string): string | undefined {
  return Object.keys(system.nodes)
    .sort()
    .find((b) => {
      const n = system.nodes[b]!;
      return n.kind === 'balancer' && n.discovery !== undefined && n.backends.includes(service);
    });
}

/**
 * Checks a balancer's `discovery`: one backend, a service with fixed replicas and no other balancer, no
 * `weights` (discovery lists addresses, not weights), and a `server` that is a `eureka` node.
 */
export function checkBalancerDiscovery(
  system: SystemDescription,
  at: string,
  name: string,
  node: BalancerDescription,
  ref: RefCheck,
  push: (path: string, message: string) => void,
): void {
  const d = node.discovery;
  if (d === undefined) return;
  if (d.kind === 'eureka') ref(`${at}.discovery.server`, name, d.server, ['eureka'], 'a discovery server');
  if (node.weights !== undefined)
    push(
      `${at}.weights`,
      'not with `discovery`: the balancer gets addresses from discovery, without weights',
    );
  if (node.backends.length !== 1) {
    push(
      `${at}.backends`,
      `with \`discovery\`, exactly one backend (the service whose replicas register), got ${node.backends.length}`,
    );
    return;
  }
  const backend = node.backends[0]!;
  const b = system.nodes[backend];
  if (b === undefined) return; // the reference check says so
  if (b.kind !== 'service') {
    push(`${at}.backends[0]`, `"${backend}" is a ${b.kind}; a backend found through discovery is a service`);
    return;
  }
  if (b.autoscale !== undefined)
    push(`${at}.discovery`, `"${backend}" is autoscaled: its pool adds and removes its replicas itself`);
  for (const other of Object.keys(system.nodes).sort()) {
    const o = system.nodes[other]!;
    if (other !== name && o.kind === 'balancer' && o.backends.includes(backend))
      push(
        `${at}.discovery`,
        `"${backend}" is also a backend of "${other}": a service found through discovery has one balancer`,
      );
  }
}

/**
 * Checks the `shutdown` faults (a graceful shutdown, which only discovery can tell apart from a
 * crash): on a replica of a service behind a discovering balancer, once (no `for`), `preStop` only with
 * kubernetes or dns with `readiness` (pods).
 */
export function checkShutdownFaults(
  system: SystemDescription,
  push: (path: string, message: string) => void,
): void {
  system.faults?.forEach((f, i) => {
    const fault = f.fault as Record<string, unknown>;
    if (fault.kind !== 'shutdown') return;
    const at = `faults[${i}]`;
    for (const k of Object.keys(fault))
      if (!['kind', 'node', 'preStop'].includes(k))
        push(`${at}.fault.${k}`, 'unknown key: a shutdown fault takes node and preStop');
    if (f.for !== undefined)
      push(
        `${at}.for`,
        'a graceful shutdown is for good: drop `for` (a restarted instance would be a new one)',
      );
    const node = fault.node;
    if (typeof node !== 'string') {
      push(`${at}.fault.node`, 'must be the address of a replica (such as "app-0")');
      return;
    }
    const service = Object.keys(system.nodes).find((n) => {
      const d = system.nodes[n]!;
      return d.kind === 'service' && (n === node || (node.startsWith(`${n}-`) && (d.replicas ?? 1) > 1));
    });
    const lb = service === undefined ? undefined : discoveringBalancer(system, service);
    if (lb === undefined) {
      push(
        `${at}.fault.node`,
        `a graceful shutdown deregisters from discovery: "${node}" must be a replica of a service behind a balancer with \`discovery\``,
      );
      return;
    }
    const d = (system.nodes[lb] as BalancerDescription).discovery!;
    if (fault.preStop !== undefined) {
      let ok = true;
      try {
        ok = durationMs(fault.preStop as DurationData) >= 0;
      } catch {
        ok = false;
      }
      if (!ok) push(`${at}.fault.preStop`, "must be a duration such as 5000 or '5s'");
    }
    const pods = d.kind === 'kubernetes' || (d.kind === 'dns' && d.readiness !== undefined);
    if (fault.preStop !== undefined && !pods)
      push(
        `${at}.fault.preStop`,
        `a Kubernetes preStop hook; "${lb}" discovers through ${d.kind}${d.kind === 'dns' ? ' without `readiness` (no pods)' : ''}`,
      );
  });
}
