import {
  ApiGateway,
  type ApiGatewayOptions,
  type Criticality,
  type GatewayRequest,
  type GatewayRoute,
  type RateLimiterSpec,
} from '@dsim/components';
import type { NetNode, RandomStream, RpcEndpoint, RpcResponse } from '@dsim/core';
import { clean } from './clean.js';
import type { CriticalityTags } from './criticality.js';
import { toDistribution } from './distributions.js';
import type { GatewayDescription, GatewayRouteDescription } from './gateway-schema.js';
import { captureInbound, type MeshHandle } from './mesh.js';
import type { ClientsDescription } from './schema.js';

/** Called as every call a node makes ends: the address called, start (ms), outcome, latency (ms). */
export type CallHook = (
  to: string,
  startedAt: number,
  ok: boolean,
  errorKind: string | undefined,
  latencyMs: number,
) => void;

/**
 * Observes every call made through `endpoint.callThen` (how ApiGateway and StranglerFacade call their
 * backends): each is told to `onCall` as it ends. Nothing else changes.
 */
export function observeCallThen(endpoint: RpcEndpoint, onCall: CallHook): void {
  const sim = endpoint.node.network.sim;
  const callThen = endpoint.callThen.bind(endpoint);
  endpoint.callThen = ((
    to: string,
    payload: unknown,
    o: object | undefined,
    done: (r: RpcResponse) => void,
  ) => {
    const started = sim.now;
    callThen(to, payload, o as never, (r: RpcResponse) => {
      onCall(to, started, r.ok, r.ok ? undefined : r.error.kind, sim.now - started);
      done(r);
    });
  }) as typeof endpoint.callThen;
}

const route = (r: GatewayRouteDescription): GatewayRoute => ({
  name: r.name,
  path: r.path,
  ...(r.method === undefined ? {} : { method: r.method }),
  ...(r.to === undefined ? {} : { to: r.to }),
  ...(r.aggregate === undefined ? {} : { aggregate: r.aggregate.map((p) => clean(p)) }),
  ...(r.timeout === undefined ? {} : { timeout: r.timeout }),
  ...(r.rateLimit === undefined ? {} : { rateLimit: r.rateLimit as RateLimiterSpec }),
  ...(r.auth === undefined ? {} : { auth: r.auth }),
});

/** A gateway node's ApiGateway options, as described (the component applies its defaults). */
export function gatewayOptions(d: GatewayDescription): ApiGatewayOptions {
  const auth = d.auth;
  return {
    routes: d.routes.map(route),
    ...(d.timeout === undefined ? {} : { timeout: d.timeout }),
    ...(d.propagateDeadline === undefined ? {} : { propagateDeadline: d.propagateDeadline }),
    ...(d.latency === undefined ? {} : { latency: toDistribution(d.latency) }),
    ...(auth === undefined
      ? {}
      : {
          auth: {
            ...(auth.latency === undefined ? {} : { latency: toDistribution(auth.latency) }),
            ...(auth.service === undefined ? {} : { service: auth.service }),
            ...(auth.timeout === undefined ? {} : { timeout: auth.timeout }),
            ...(auth.cacheTtl === undefined ? {} : { cacheTtl: auth.cacheTtl }),
          },
        }),
    ...(d.tenantLimit === undefined ? {} : { tenantLimit: d.tenantLimit as RateLimiterSpec }),
    ...(d.tenantLimits === undefined
      ? {}
      : { tenantLimits: d.tenantLimits as Readonly<Record<string, RateLimiterSpec>> }),
    ...(d.accountLimit === undefined ? {} : { accountLimit: d.accountLimit as RateLimiterSpec }),
    ...(d.maxInFlight === undefined ? {} : { maxInFlight: d.maxInFlight }),
  };
}

/**
 * Builds a gateway node: an {@link ApiGateway} on `node` with the described routes, auth and limits.
 * Every backend and authorizer call it makes is told to `onCall` as it ends (per-edge measurement); with
 * a `mesh`, its calls to an instance in it cross the instance's inbound proxy.
 */
export function buildGateway(
  node: NetNode,
  d: GatewayDescription,
  onCall: CallHook | undefined,
  mesh?: MeshHandle,
): ApiGateway {
  const gateway = new ApiGateway(node, gatewayOptions(d));
  captureInbound(mesh, gateway.endpoint);
  if (onCall !== undefined) observeCallThen(gateway.endpoint, onCall);
  return gateway;
}

/**
 * A gateway's cumulative counts now (ApiGateway's stats): two readings, at a phase's start and end, give
 * that phase's figures by difference.
 *
 * @example
 * ```ts
 * const a = gatewayReading(sys.gateways.gw); // at 30 s
 * const b = gatewayReading(sys.gateways.gw); // at 60 s
 * b.rejected - a.rejected; // 429s in [30 s, 60 s)
 * ```
 */
export function gatewayReading(gateway: ApiGateway): GatewayReading {
  const s = gateway.stats;
  return {
    requests: s.requests,
    ok: s.ok,
    failed: s.failed,
    rejected: s.rejected,
    timedOut: s.timedOut,
    late: s.late,
    degraded: s.degraded,
  };
}

/** See {@link gatewayReading}: cumulative counts of one gateway at one instant. */
export interface GatewayReading {
  /** Requests that arrived; answered ok; answered with an error (429s and 504s included). */
  readonly requests: number;
  readonly ok: number;
  readonly failed: number;
  /** Refused by a rate limit (429). */
  readonly rejected: number;
  /** Answered 504 (the route's timeout, or a backend's own timeout). */
  readonly timedOut: number;
  /** Backend answers that came after the gateway had answered. */
  readonly late: number;
  /** Aggregated answers with an optional part missing. */
  readonly degraded: number;
}

/**
 * The GatewayRequests a clients node sends: one of its `requests` per call, drawn in proportion to the
 * weights from `rng` (no draw when there is one), with its `tenant` and, when the request has a key, the
 * key as the body (so a cache-aside service behind reads it). With `tags`, each request (and its body)
 * carries its entry's `criticality`, else the node's.
 *
 * @example
 * ```ts
 * const next = requestMix(node, sim.rng('users/requests'));
 * next('k42'); // { method: 'GET', path: '/orders/1', tenant: 'acme', body: 'k42' }
 * ```
 */
export function requestMix(
  node: Pick<ClientsDescription, 'requests' | 'tenant' | 'criticality'>,
  rng: RandomStream,
  tags?: CriticalityTags,
): (key: string | undefined) => GatewayRequest {
  const requests = node.requests ?? [];
  const tenant = node.tenant;
  const levels = requests.map((q) => q.criticality ?? node.criticality);
  const made = requests.map((q, i) =>
    carried(
      tags,
      { method: q.method ?? 'GET', path: q.path, ...(tenant === undefined ? {} : { tenant }) },
      levels[i],
    ),
  );
  const cumulative: number[] = [];
  let total = 0;
  for (const q of requests) cumulative.push((total += q.weight ?? 1));
  const pick =
    made.length === 1
      ? () => 0
      : () => {
          const u = rng.next() * total;
          const i = cumulative.findIndex((c) => u < c);
          return i === -1 ? made.length - 1 : i;
        };
  return (key) => {
    const i = pick();
    const base = made[i]!;
    if (key === undefined) return base;
    // The gateway forwards the body: it carries the level too.
    return carried(tags, { ...base, body: carried(tags, key, levels[i]) }, levels[i]);
  };
}

const carried = <T>(tags: CriticalityTags | undefined, payload: T, level: Criticality | undefined): T =>
  tags === undefined ? payload : tags.carry(payload, level);
