import { CdnCache, type CdnTierOptions, createPlacement, type EvictionSpec } from '@dsim/components';
import type { Network, RpcEndpoint, SimEvent } from '@dsim/core';
import { type CdnDescription, type CdnTierDescription, cdnAddresses, cdnPops } from './cdn-schema.js';
import { durationMs, toDistribution } from './distributions.js';
import type { SystemDescription } from './schema.js';

/** A cdn node, compiled. */
export interface CdnHandle {
  /** The edge PoPs, in address order. */
  readonly pops: readonly CdnCache[];
  /** The origin shield, or null. */
  readonly shield: CdnCache | null;
  /** The tiers whose misses go to the origin: the shield, else the PoPs. */
  readonly originCallers: readonly CdnCache[];
}

/** Called as every fetch from the origin ends (per upstream call), for per-edge measurement. */
export type OriginCallHook = (
  to: string,
  startedAt: number,
  ok: boolean,
  errorKind: string | undefined,
  latencyMs: number,
) => void;

/** A tier's CdnCache options (without `upstream`), as described. */
export function cdnTierOptions(t: CdnTierDescription): CdnTierOptions {
  return {
    capacity: t.capacity,
    ...(t.unit === undefined ? {} : { unit: t.unit }),
    ...(t.eviction === undefined ? {} : { eviction: { kind: t.eviction } as EvictionSpec }),
    ...(t.ttl === undefined ? {} : { ttl: durationMs(t.ttl) }),
    ...(t.ttlJitter === undefined ? {} : { ttlJitter: t.ttlJitter }),
    ...(t.staleWhileRevalidate === undefined
      ? {}
      : { staleWhileRevalidate: durationMs(t.staleWhileRevalidate) }),
    ...(t.staleIfError === undefined ? {} : { staleIfError: durationMs(t.staleIfError) }),
    ...(t.serviceTime === undefined ? {} : { serviceTime: toDistribution(t.serviceTime) }),
    ...(t.collapse === undefined ? {} : { collapse: t.collapse }),
    ...(t.upstreamTimeout === undefined ? {} : { upstreamTimeout: durationMs(t.upstreamTimeout) }),
    ...(t.objectSize === undefined ? {} : { objectSize: t.objectSize }),
    ...(t.persistent === undefined ? {} : { persistent: t.persistent }),
  };
}

/**
 * Builds a cdn node on nodes already on the network: a {@link CdnCache} per PoP (`<name>` or
 * `<name>-0` ...) and, with `shield`, one more at `<name>-shield`. The PoPs fetch from the shield if
 * there is one, else from `origin`; the shield fetches from `origin`. Every call to the origin is told
 * to `onOrigin` as it ends (the tier's endpoint is wrapped; nothing else changes).
 */
export function buildCdnNode(
  net: Network,
  name: string,
  node: CdnDescription,
  origin: string,
  onOrigin?: OriginCallHook,
): CdnHandle {
  const addresses = cdnAddresses(name, node);
  const popAddresses = cdnPops(name, node);
  const sim = net.sim;
  const shield =
    node.shield === undefined
      ? null
      : new CdnCache(net.node(addresses.at(-1)!), { ...cdnTierOptions(node.shield), upstream: origin });
  const upstream = shield === null ? origin : shield.address;
  const edge = cdnTierOptions(node.edge);
  const pops = popAddresses.map((a) => new CdnCache(net.node(a), { ...edge, upstream }));
  const originCallers = shield === null ? pops : [shield];
  if (onOrigin !== undefined)
    for (const tier of originCallers) {
      const endpoint = tier.endpoint as unknown as RpcEndpoint;
      const call = endpoint.call.bind(endpoint);
      // The tier calls its upstream through this endpoint only: wrapping its `call` observes every
      // fetch (and revalidation) at the origin, with its start, outcome and latency.
      endpoint.call = ((to: string, payload: unknown, options?: object) => {
        const started = sim.now;
        const ev = call(to, payload, options as never) as SimEvent<
          { ok: true } | { ok: false; error: { kind: string } }
        >;
        ev.onProcessed((e) => {
          const r = e.value!;
          onOrigin(to, started, r.ok, r.ok ? undefined : r.error.kind, sim.now - started);
        });
        return ev;
      }) as typeof endpoint.call;
    }
  return { pops, shield, originCallers };
}

/**
 * Where a clients node's request for `key` goes when it targets `target`: for a cdn node with several
 * PoPs named by its name, the PoP a hash of the key picks (the components' `modulo` placement,
 * xxHash64(key) mod PoPs, as the servers of a PoP split the objects between them); null otherwise (the
 * target's address is used as it is).
 *
 * @example
 * ```ts
 * cdnRoute(system, 'cdn')?.('k42'); // 'cdn-1'
 * ```
 */
export function cdnRoute(system: SystemDescription, target: string): ((key: string) => string) | null {
  const node = system.nodes[target];
  if (node?.kind !== 'cdn' || (node.pops ?? 1) === 1) return null;
  const placement = createPlacement({ kind: 'modulo', nodes: cdnPops(target, node) });
  return (key) => placement.lookup(key)!;
}

/**
 * The cdn node a clients target names: the cdn itself, or one of its PoPs (`<name>-1`); null when the
 * target is not a cdn's.
 */
export function cdnOfTarget(system: SystemDescription, target: string): string | null {
  const node = system.nodes[target];
  if (node !== undefined) return node.kind === 'cdn' ? target : null;
  for (const [name, n] of Object.entries(system.nodes))
    if (n.kind === 'cdn' && cdnPops(name, n).includes(target)) return name;
  return null;
}
