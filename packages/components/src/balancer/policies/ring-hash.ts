import { HashRing, RING_MAX_POINTS } from '../../hashing/ring.js';
import type { KeyPlacement } from '../../hashing/types.js';
import type { BalancerBackend } from '../policy.js';
import { HashPolicy } from './hash-policy.js';

/**
 * Options of the `ring-hash` policy (Envoy's `RING_HASH`, a Ketama ring).
 *
 * @example
 * ```ts
 * const spec: RingHashPolicySpec = { kind: 'ring-hash', minimumRingSize: 4096 };
 * ```
 */
export interface RingHashPolicySpec {
  kind: 'ring-hash';
  /**
   * Ring points for the backends given at construction: each unit of weight gets
   * `ceil(minimumRingSize / total weight)` points. Envoy's `minimum_ring_size`. An integer in
   * [1, 8388608].
   * @default 1024
   */
  minimumRingSize?: number;
}

/**
 * Points per unit of weight for a ring of at least `minimumRingSize` points over `backends`.
 *
 * @example
 * ```ts
 * ringVnodes(1024, 10); // 103: ten backends of weight 1 get 1030 points
 * ```
 */
export function ringVnodes(minimumRingSize: number, totalWeight: number): number {
  return Math.min(RING_MAX_POINTS, Math.max(1, Math.ceil(minimumRingSize / totalWeight)));
}

/**
 * Consistent hashing on a Ketama ring (Envoy's `RING_HASH`,
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers#ring-hash),
 * keyed by the request's `key`, over {@link HashRing} (xxHash64, Envoy's host-key point format). The ring
 * holds the available backends; one leaving moves only its own keys, about 1/N of them.
 *
 * Ring size: Envoy spreads `minimum_ring_size` (1024) points over the hosts and rescales on every host-set
 * change, which also moves keys between hosts that stayed. Here the points per unit of weight are fixed
 * when the ring is first built (`ceil(1024 / total weight)`), so a change moves only the changed
 * backend's keys, which is the property Envoy documents ("addition or removal of one host from a set of N
 * hosts will affect only 1/N requests").
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), { backends, policy: { kind: 'ring-hash' } });
 * endpoint.call('lb', payload, { key: 'user:42' }); // always the same backend while it is available
 * ```
 */
export class RingHashPolicy extends HashPolicy {
  readonly kind: string = 'ring-hash';

  /** @param minimumRingSize - validated, Envoy's default 1024 @default 1024 */
  constructor(readonly minimumRingSize = 1024) {
    super();
  }

  /** A ring sized for `backends`' total weight. */
  protected create(backends: readonly BalancerBackend[]): KeyPlacement {
    let total = 0;
    for (const b of backends) total += b.weight;
    return new HashRing({ vnodes: ringVnodes(this.minimumRingSize, total) });
  }
}
