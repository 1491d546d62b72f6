import type { BalancerBackend, PickContext } from '../policy.js';
import { RingHashPolicy } from './ring-hash.js';

/**
 * Options of the `consistent-bounded` policy: consistent hashing with bounded loads.
 *
 * @example
 * ```ts
 * const spec: ConsistentBoundedPolicySpec = { kind: 'consistent-bounded', hashBalanceFactor: 150 };
 * ```
 */
export interface ConsistentBoundedPolicySpec {
  kind: 'consistent-bounded';
  /**
   * The load bound in percent of the average: no backend takes a request that would leave it with more
   * than `ceil(hashBalanceFactor / 100 × average)` active requests, the average counting this request.
   * HAProxy's `hash-balance-factor` and Envoy's `hash_balance_factor` (150 = 1.5 × the average). An
   * integer in [100, 100000]: lower keeps loads tighter and moves more keys off their home backend.
   * @default 125 (the c = 1.25 of Mirrokni et al.'s experiments)
   */
  hashBalanceFactor?: number;
  /** Ring points, as for `ring-hash` (Envoy's `minimum_ring_size`). @default 1024 */
  minimumRingSize?: number;
}

/**
 * The capacity of one backend under consistent hashing with bounded loads:
 * `ceil(factor × (totalActive + 1) × weight / totalWeight)`, the `+ 1` counting the request being placed.
 * With equal weights this is Mirrokni et al.'s `ceil((1 + ε) · m / n)`.
 *
 * @param factor - the balance factor as a ratio (1.5 for `hashBalanceFactor` 150), >= 1
 * @example
 * ```ts
 * boundedCapacity(1.5, 9, 1, 4); // ceil(1.5 × 10 / 4) = 4
 * ```
 */
export function boundedCapacity(
  factor: number,
  totalActive: number,
  weight: number,
  totalWeight: number,
): number {
  return Math.ceil((factor * (totalActive + 1) * weight) / totalWeight);
}

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, SODA '18, arXiv 1608.01350;
 * HAProxy `hash-type consistent` with `hash-balance-factor`,
 * https://docs.haproxy.org/3.0/configuration.html#4.2-hash-balance-factor). The key's home is its
 * ring owner ({@link RingHashPolicy}); if taking the request would put the home above its capacity
 * ({@link boundedCapacity}) the request walks clockwise to the next backend with room. So no backend
 * ever exceeds `ceil(factor × average)` active requests (tested on every pick), while keys stay on their
 * home backend as long as loads are near the average. A request without a key starts the walk at a
 * random available backend.
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), { backends, policy: { kind: 'consistent-bounded', hashBalanceFactor: 150 } });
 * ```
 */
export class ConsistentBoundedPolicy extends RingHashPolicy {
  override readonly kind = 'consistent-bounded';
  private readonly factor: number;

  /**
   * @param hashBalanceFactor - percent of the average load, validated @default 125
   * @param minimumRingSize - ring points @default 1024
   */
  constructor(
    readonly hashBalanceFactor = 125,
    minimumRingSize = 1024,
  ) {
    super(minimumRingSize);
    this.factor = hashBalanceFactor / 100;
  }

  /** The key's owner if it has room, else the next backend clockwise that has. */
  override pick(ctx: PickContext): number {
    const n = ctx.availableCount;
    if (n === 0) return -1;
    const backends = ctx.backends;
    const ids = ctx.availableIndices;
    let active = 0;
    let weight = 0;
    for (let k = 0; k < n; k++) {
      const b = backends[ids[k]!]!;
      active += b.active;
      weight += b.weight;
    }
    const key = ctx.request.key;
    const placement = this.placement;
    if (key === undefined || placement === undefined) {
      const start = Math.floor(ctx.rng.next() * n);
      for (let k = 0; k < n; k++) {
        const i = ids[(start + k) % n]!;
        if (this.fits(backends[i]!, active, weight)) return i;
      }
      return ids[start]!;
    }
    const home = this.indexOf.get(placement.lookup(key)!)!;
    if (this.fits(backends[home]!, active, weight)) return home;
    // Rare: the home is full. Walk the ring (this allocates the walk's list).
    for (const address of placement.lookupN(key, n)) {
      const i = this.indexOf.get(address)!;
      if (this.fits(backends[i]!, active, weight)) return i;
    }
    return home;
  }

  private fits(b: BalancerBackend, active: number, weight: number): boolean {
    return b.active + 1 <= boundedCapacity(this.factor, active, b.weight, weight);
  }
}
