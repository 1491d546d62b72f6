import {
  type BalancerPolicySpec,
  ISTIO_DEFAULT_RETRY,
  type MeshProfile,
  type MeshServiceOptions,
  type ProxyPresetName,
  type ReplicaPool,
  ServiceMesh,
  type ServiceMeshOptions,
} from '@dsim/components';
import type { LinkOptions, Network, RpcEndpoint } from '@dsim/core';
import { lbRetry } from './balancer.js';
import { clean } from './clean.js';
import { durationMs, toDistribution } from './distributions.js';
import { meshMembers } from './mesh-check.js';
import type { MeshDescription, MeshProfileDescription } from './mesh-schema.js';
import type { SystemDescription } from './schema.js';
import { addressesOf } from './validate.js';

/** A system's mesh, compiled: the ServiceMesh and the nodes in it. */
export interface MeshHandle {
  readonly mesh: ServiceMesh;
  /** Node names in the mesh (services and databases). */
  readonly members: ReadonlySet<string>;
  /**
   * The addresses of the members' instances that have a proxy now: every replica of a fixed member from
   * the start; an autoscaled member's as each becomes ready ({@link meshReplicas}).
   */
  readonly instances: ReadonlySet<string>;
}

const profile = (p: MeshProfileDescription): MeshProfile => {
  if (typeof p === 'string') return p as ProxyPresetName;
  const { latency, preset, ...rest } = p;
  return {
    ...clean(rest),
    ...(preset === undefined ? {} : { preset: preset as ProxyPresetName }),
    ...(latency === undefined ? {} : { latency: toDistribution(latency) }),
  };
};

/** A mesh's ServiceMesh options, as described (the component applies its defaults). */
export function meshOptions(d: MeshDescription): ServiceMeshOptions {
  const c = d.connections;
  return {
    ...(d.mode === undefined ? {} : { mode: d.mode }),
    ...(d.sidecar === undefined ? {} : { sidecar: profile(d.sidecar) }),
    ...(d.ztunnel === undefined ? {} : { ztunnel: profile(d.ztunnel) }),
    ...(d.waypoint === undefined ? {} : { waypoint: profile(d.waypoint) }),
    ...(c === undefined
      ? {}
      : {
          connections: {
            ...(c.mtls === undefined ? {} : { mtls: c.mtls }),
            ...(c.tlsRoundTrips === undefined ? {} : { tlsRoundTrips: c.tlsRoundTrips }),
            ...(c.handshakeCpu === undefined ? {} : { handshakeCpu: durationMs(c.handshakeCpu) }),
            ...(c.connectTimeout === undefined ? {} : { connectTimeout: durationMs(c.connectTimeout) }),
            ...(c.idleTimeout === undefined ? {} : { idleTimeout: durationMs(c.idleTimeout) }),
          },
        }),
  };
}

/**
 * The policy every meshed service is added with (an Istio VirtualService and DestinationRule): a given
 * `retry` is laid over Istio's default ({@link ISTIO_DEFAULT_RETRY}), as a VirtualService's `retries`
 * keeps Istio's `retryOn` when it gives only `attempts`.
 */
export function meshServiceOptions(d: MeshDescription): MeshServiceOptions {
  return {
    ...(d.waypoints === true ? { waypoint: true } : {}),
    ...(d.retry === undefined
      ? {}
      : { retry: d.retry === false ? false : { ...ISTIO_DEFAULT_RETRY, ...lbRetry(d.retry) } }),
    ...(d.timeout === undefined ? {} : { timeout: durationMs(d.timeout) }),
    ...(d.policy === undefined
      ? {}
      : {
          policy: (typeof d.policy === 'string' ? { kind: d.policy } : clean(d.policy)) as BalancerPolicySpec,
        }),
    ...(d.outlierDetection === undefined ? {} : { outlierDetection: clean(d.outlierDetection) }),
  };
}

/**
 * Builds a system's mesh on `net` (whose application nodes exist): a {@link ServiceMesh} with every
 * member added as a service, each of its addresses an instance (in ambient mode on a host of its own,
 * named after it). Routes are made as the services' callers are built ({@link meshEndpoint}).
 *
 * @example
 * ```ts
 * const h = buildMesh(net, system);
 * h.mesh.proxies.length; // one sidecar per instance
 * ```
 */
export function buildMesh(net: Network, system: SystemDescription): MeshHandle | undefined {
  const d = system.mesh;
  if (d === undefined) return undefined;
  const mesh = new ServiceMesh(net, meshOptions(d));
  const members = meshMembers(system);
  const service = meshServiceOptions(d);
  const instances = new Set<string>();
  const h: MeshHandle = { mesh, members: new Set(members), instances };
  for (const name of members) {
    mesh.addService(name, service);
    // An autoscaled member's replicas do not exist yet: they join as they become ready (meshReplicas).
    if (!autoscaled(system, name)) for (const a of addressesOf(system, name)) addInstance(h, name, a);
  }
  // Every route now, so that its connections exist for meshLinks (route() keeps them for the callers).
  for (const [from, to] of meshCalls(system, h.members))
    for (const a of addressesOf(system, from)) mesh.route(a, to);
  return h;
}

const autoscaled = (system: SystemDescription, name: string): boolean => {
  const d = system.nodes[name];
  return d?.kind === 'service' && d.autoscale !== undefined;
};

function addInstance(h: MeshHandle, service: string, address: string): void {
  h.mesh.addInstance(service, address, h.mesh.mode === 'ambient' ? { host: address } : undefined);
  (h.instances as Set<string>).add(address);
}

/**
 * Puts an autoscaled member's replicas in the mesh: those ready now, and each later one as it becomes
 * ready (before any request reaches it: the balancer sends only to ready replicas), with a sidecar of
 * its own (in ambient mode, a ztunnel on a host of its own), as a pod's injected sidecar starts with it.
 * A replica that restarts keeps its proxy; a terminated one's stays, idle (the ServiceMesh removes no
 * instance).
 *
 * @example
 * ```ts
 * meshReplicas(h, 'api', pool);
 * ```
 */
export function meshReplicas(h: MeshHandle | undefined, name: string, pool: ReplicaPool): void {
  if (h === undefined || !h.members.has(name)) return;
  const join = (address: string): void => {
    if (!h.instances.has(address)) addInstance(h, name, address);
  };
  for (const r of pool.members) if (r.state === 'ready') join(r.address);
  pool.onReady((r) => join(r.address));
}

/** The calls between members, `[caller, callee]` node names, each once, in order (fixed callers only). */
function meshCalls(system: SystemDescription, members: ReadonlySet<string>): [string, string][] {
  const out: [string, string][] = [];
  for (const from of members) {
    const d = system.nodes[from]!;
    if (d.kind !== 'service' || d.autoscale !== undefined) continue;
    for (const to of new Set((d.downstream ?? []).map((c) => c.to)))
      if (members.has(to)) out.push([from, to]);
  }
  return out;
}

/**
 * Gives the mesh's connections the links described between their applications: a call from `a` to
 * `b` leaves through the connection `a`'s proxy opened to `b`'s proxy, so that pair carries the link
 * set between `a` and `b` (`network.edges`, `network.regions`). Through a waypoint (whose place is not
 * described) the network's default applies.
 */
export function meshLinks(
  h: MeshHandle,
  system: SystemDescription,
  settings: ReadonlyMap<string, LinkOptions>,
): void {
  const { mesh } = h;
  if (settings.size === 0) return;
  // A call captured on its way in crosses the link described between its caller and the instance.
  for (const [key, link] of settings) {
    const [a, b] = key.split('\u0000') as [string, string];
    if (h.instances.has(b) && !h.instances.has(a))
      mesh.network.setLink(a, mesh.proxyOf(b).node.address, link, { bidirectional: true });
  }
  for (const [from, to] of meshCalls(system, h.members))
    for (const a of addressesOf(system, from)) {
      if (mesh.waypointOf(to) !== undefined) continue;
      const proxy = mesh.proxyOf(a);
      for (const b of addressesOf(system, to)) {
        const link = settings.get(`${a}\u0000${b}`);
        const connection = proxy.connection(a, to, b);
        if (link === undefined || connection === undefined) continue;
        mesh.network.setLink(connection.node.address, mesh.proxyOf(b).node.address, link, {
          bidirectional: true,
        });
      }
    }
}

/**
 * The endpoint an instance `address` of a service calls through. In the mesh: a call to a member goes
 * to the mesh's route for it (its proxy's listener), any other call as before. Outside it: a call to an
 * instance in the mesh is captured by that instance's proxy (see {@link captureInbound}). Callers still
 * name the node (`db`), so per-edge measurement is unchanged. `endpoint` itself without a mesh.
 */
export function meshEndpoint(h: MeshHandle | undefined, endpoint: RpcEndpoint, from: string): RpcEndpoint {
  if (h === undefined) return endpoint;
  const address = endpoint.node.address;
  // A service outside the mesh: its calls to an instance in it are captured on the way in.
  const to = h.members.has(from)
    ? (t: string): string => (h.members.has(t) ? h.mesh.route(address, t) : t)
    : (t: string): string => inbound(h, t);
  const wrapper = {
    node: endpoint.node,
    call: (t: string, payload: unknown, o?: object) => endpoint.call(to(t), payload, o as never),
    callThen: (t: string, payload: unknown, o: object | undefined, done: never) =>
      endpoint.callThen(to(t), payload, o as never, done),
  };
  return wrapper as unknown as RpcEndpoint;
}

/** Where a call to `to` from outside the mesh goes: the inbound listener of `to`'s proxy, if it has one. */
const inbound = (h: MeshHandle, to: string): string =>
  h.instances.has(to) ? h.mesh.proxyOf(to).node.address : to;

/**
 * Inbound capture for a caller outside the mesh (a balancer, gateway, strangler or clients node): its
 * endpoint's calls to an instance in the mesh go to that instance's proxy instead, as Istio's iptables
 * rules redirect every connection to a pod into its sidecar (port 15006), and ambient mode's into the
 * node's ztunnel. The caller still names the instance (its measurement is unchanged); the proxy makes
 * one inbound pass (its CPU and latency), then delivers to the application over loopback. Plain text
 * (PERMISSIVE mTLS, Istio's default), so there is no handshake; a waypoint is not crossed (only traffic
 * from inside the mesh is sent to one). Call it before anything wraps the endpoint's `callThen`.
 *
 * @example
 * ```ts
 * captureInbound(h, lb.endpoint); // lb -> api-0 now crosses api-0's sidecar
 * ```
 */
export function captureInbound(h: MeshHandle | undefined, endpoint: RpcEndpoint): void {
  if (h === undefined) return;
  const call = endpoint.call.bind(endpoint);
  const callThen = endpoint.callThen.bind(endpoint);
  endpoint.call = ((to: string, payload: unknown, o?: object) =>
    call(inbound(h, to), payload, o as never)) as typeof endpoint.call;
  endpoint.callThen = ((to: string, payload: unknown, o: object | undefined, done: never) =>
    callThen(inbound(h, to), payload, o as never, done)) as typeof endpoint.callThen;
}

/**
 * The mesh's cumulative figures now: the proxies' CPU (ms) and the time they added to the requests
 * delivered to an application (ms, and how many): two readings give a phase's figures by difference.
 *
 * @example
 * ```ts
 * const a = meshReading(h.mesh); // at 30 s
 * const b = meshReading(h.mesh); // at 60 s
 * (b.cpuMs - a.cpuMs) / 30_000; // vCPU the proxies used
 * ```
 */
export function meshReading(mesh: ServiceMesh): MeshReading {
  let hops = 0;
  let hopMs = 0;
  for (const p of mesh.proxies) {
    const n = p.hopLatency.count;
    if (n === 0) continue;
    hops += n;
    hopMs += p.hopLatency.latency.mean * n;
  }
  return { cpuMs: mesh.cpuMs(), hops, hopMs };
}

/** See {@link meshReading}. */
export interface MeshReading {
  /** CPU time every proxy used, ms. */
  readonly cpuMs: number;
  /** Requests delivered to an application through the mesh (hops). */
  readonly hops: number;
  /** The time the mesh added to them, summed, ms. */
  readonly hopMs: number;
}
