import {
  type BalancerPolicySpec,
  ISTIO_DEFAULT_RETRY,
  type MeshProfile,
  type MeshServiceOptions,
  type ProxyPresetName,
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
  for (const name of members) {
    mesh.addService(name, service);
    for (const a of addressesOf(system, name))
      mesh.addInstance(name, a, mesh.mode === 'ambient' ? { host: a } : undefined);
  }
  const inMesh = new Set(members);
  // Every route now, so that its connections exist for meshLinks (route() keeps them for the callers).
  for (const [from, to] of meshCalls(system, inMesh))
    for (const a of addressesOf(system, from)) mesh.route(a, to);
  return { mesh, members: inMesh };
}

/** The calls between members, `[caller, callee]` node names, each once, in order. */
function meshCalls(system: SystemDescription, members: ReadonlySet<string>): [string, string][] {
  const out: [string, string][] = [];
  for (const from of members) {
    const d = system.nodes[from]!;
    if (d.kind !== 'service') continue;
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
 * The endpoint an instance `address` of a meshed service calls through: a call to a member goes to the
 * mesh's route for it (its proxy's listener), any other call as before. Callers still name the node
 * (`db`), so per-edge measurement is unchanged. `endpoint` itself when `address` is not in the mesh.
 */
export function meshEndpoint(h: MeshHandle | undefined, endpoint: RpcEndpoint, from: string): RpcEndpoint {
  if (h === undefined || !h.members.has(from)) return endpoint;
  const address = endpoint.node.address;
  const to = (t: string): string => (h.members.has(t) ? h.mesh.route(address, t) : t);
  const wrapper = {
    node: endpoint.node,
    call: (t: string, payload: unknown, o?: object) => endpoint.call(to(t), payload, o as never),
    callThen: (t: string, payload: unknown, o: object | undefined, done: never) =>
      endpoint.callThen(to(t), payload, o as never, done),
  };
  return wrapper as unknown as RpcEndpoint;
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
