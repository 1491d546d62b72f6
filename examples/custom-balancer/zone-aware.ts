import type { BalancerPolicy, PickContext } from '@dsim/components';

/**
 * A user-written balancing policy: prefer the balancer's own zone, spill to the other zones only when
 * every local backend already has `spillAt` requests in flight (and a remote one has fewer).
 * Within a zone it takes the least-active backend, ties broken at random.
 */
export function zoneAware(opts: {
  local: string;
  zoneOf: (address: string) => string;
  spillAt: number;
}): BalancerPolicy {
  /** The least-active available backend in (or outside) the local zone; -1 if none. */
  const leastActive = (ctx: PickContext, inLocal: boolean): number => {
    let best = -1;
    const start = Math.floor(ctx.rng.next() * ctx.availableCount); // random tie-break
    for (let k = 0; k < ctx.availableCount; k++) {
      const i = ctx.availableIndices[(start + k) % ctx.availableCount]!;
      const b = ctx.backends[i]!;
      if ((opts.zoneOf(b.address) === opts.local) !== inLocal) continue;
      if (best < 0 || b.active < ctx.backends[best]!.active) best = i;
    }
    return best;
  };
  return {
    kind: 'zone-aware',
    pick(ctx) {
      const local = leastActive(ctx, true);
      if (local >= 0 && ctx.backends[local]!.active < opts.spillAt) return local;
      const remote = leastActive(ctx, false);
      if (local < 0) return remote;
      return remote >= 0 && ctx.backends[remote]!.active < ctx.backends[local]!.active ? remote : local;
    },
  };
}
