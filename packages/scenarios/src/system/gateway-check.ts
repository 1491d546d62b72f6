import { compilePathPattern } from '@dsim/components';
import type { GatewayDescription } from './gateway-schema.js';
import { checkRollout } from './rollout-check.js';
import type { ClientsDescription, SystemDescription } from './schema.js';
import type { StranglerDescription } from './strangler-schema.js';

// Cross-field and cross-node rules of gateway and strangler nodes, and of the clients that call them,
// that the schema cannot say. Called from validateSystem's reference checks.

/** Records a reference from `from` to `to` (checked against `allowed`, and as an edge of the call graph). */
export type RefCheck = (
  path: string,
  from: string,
  to: string,
  allowed: readonly string[],
  what: string,
) => void;
/** Records a defect at a path. */
export type Push = (path: string, message: string) => void;

/** What a gateway route (or part) may call: one address that answers RPCs (a strangler too). */
export const GATEWAY_TARGETS = ['balancer', 'service', 'database', 'strangler'] as const;
/** What a strangler and a gateway's authorizer may call. */
const BACKENDS = ['balancer', 'service', 'database'] as const;

/**
 * A gateway node's rules: route names unique, exactly one of `to` and `aggregate`, a required part in
 * every aggregate, route targets and the authorizer callable, `auth` complete.
 */
export function checkGateway(
  at: string,
  name: string,
  node: GatewayDescription,
  ref: RefCheck,
  push: Push,
): void {
  const seen = new Map<string, number>();
  node.routes.forEach((r, i) => {
    const rat = `${at}.routes[${i}]`;
    const first = seen.get(r.name);
    if (first !== undefined) push(`${rat}.name`, `"${r.name}" is also the name of routes[${first}]`);
    else seen.set(r.name, i);
    if ((r.to === undefined) === (r.aggregate === undefined))
      push(rat, 'give exactly one of `to` (one backend) and `aggregate` (several, their answers joined)');
    if (r.to !== undefined) ref(`${rat}.to`, name, r.to, GATEWAY_TARGETS, 'a route target');
    for (const [j, p] of (r.aggregate ?? []).entries())
      ref(`${rat}.aggregate[${j}].to`, name, p.to, GATEWAY_TARGETS, 'a part');
    if (r.aggregate?.every((p) => p.optional === true))
      push(`${rat}.aggregate`, 'needs at least one required part (`optional: false`)');
    if (r.auth !== undefined && node.auth === undefined)
      push(`${rat}.auth`, "has no effect without the gateway's `auth`: give the gateway `auth`, or drop it");
  });
  const auth = node.auth;
  if (auth !== undefined) {
    if (auth.latency === undefined && auth.service === undefined)
      push(`${at}.auth`, 'give `latency` (local token validation), `service` (a remote authorizer), or both');
    if (auth.service !== undefined) ref(`${at}.auth.service`, name, auth.service, BACKENDS, 'an authorizer');
    else
      for (const k of ['timeout', 'cacheTtl'] as const)
        if (auth[k] !== undefined)
          push(`${at}.auth.${k}`, "is the remote authorizer's: give `auth.service`, or drop it");
  }
}

/** A strangler node's rules: route names unique, the legacy system and every route's service callable. */
export function checkStrangler(
  at: string,
  name: string,
  node: StranglerDescription,
  ref: RefCheck,
  push: Push,
): void {
  ref(`${at}.legacy`, name, node.legacy, BACKENDS, 'a legacy system');
  const seen = new Map<string, number>();
  node.routes.forEach((r, i) => {
    const rat = `${at}.routes[${i}]`;
    const first = seen.get(r.name);
    if (first !== undefined) push(`${rat}.name`, `"${r.name}" is also the name of routes[${first}]`);
    else seen.set(r.name, i);
    if (r.to === node.legacy)
      push(`${rat}.to`, `"${r.to}" is the legacy system: a route moves to a new service`);
    else ref(`${rat}.to`, name, r.to, BACKENDS, 'a migrated route target');
    checkRollout(rat, r.rollout, push);
  });
}

/**
 * The rules of a clients node's `requests` and `tenant`: a gateway target needs `requests`, each taken
 * by one of its routes (else every such request would be a 404); only a gateway or strangler takes them.
 */
export function checkClientRequests(
  system: SystemDescription,
  at: string,
  node: ClientsDescription,
  push: Push,
): void {
  const target = system.nodes[node.target];
  const routed = target?.kind === 'gateway' || target?.kind === 'strangler';
  if (node.requests === undefined) {
    if (target?.kind === 'gateway')
      push(
        `${at}.requests`,
        `gateway "${node.target}" routes by method and path: give the clients \`requests\` ([{ method?, path }])`,
      );
    if (node.tenant !== undefined)
      push(`${at}.tenant`, 'goes with `requests` to a gateway or strangler: give `requests`, or drop it');
    return;
  }
  if (!routed) {
    if (target !== undefined)
      push(
        `${at}.requests`,
        `are sent to a gateway or strangler; "${node.target}" is a ${target.kind} (drop \`requests\`)`,
      );
    return;
  }
  if (target.kind !== 'gateway') return; // a strangler sends what no route takes to its legacy system
  const routes = target.routes.map((r) => ({
    name: r.name,
    methods: r.method === undefined ? undefined : typeof r.method === 'string' ? [r.method] : r.method,
    pattern: compilePathPattern('gateway', 'path', r.path),
    text: `${r.method === undefined ? 'any' : [r.method].flat().join('|')} ${r.path}`,
    // The gateway passes the body on: with keys that is the key, and a strangler behind sees no path.
    strangler: [r.to, ...(r.aggregate ?? []).map((p) => p.to)].find(
      (to) => to !== undefined && system.nodes[to]?.kind === 'strangler',
    ),
  }));
  node.requests.forEach((q, j) => {
    const method = q.method ?? 'GET';
    const route = routes.find((r) => (r.methods?.includes(method) ?? true) && r.pattern.matches(q.path));
    if (route === undefined)
      push(
        `${at}.requests[${j}]`,
        `no route of gateway "${node.target}" takes ${method} ${q.path} (a 404); its routes: ${routes.map((r) => r.text).join(', ')}`,
      );
    else if (route.strangler !== undefined && node.keys !== undefined)
      push(
        `${at}.keys`,
        `the gateway passes the key on as the body, so strangler "${route.strangler}" behind route "${route.name}" would see no path and send every request to its legacy system: drop \`keys\``,
      );
  });
}
