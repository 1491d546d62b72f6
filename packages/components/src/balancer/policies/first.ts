import type { BalancerPolicy, PickContext } from '../policy.js';

/**
 * Options of the `first` policy (HAProxy `balance first`).
 *
 * @example
 * ```ts
 * const spec: FirstPolicySpec = { kind: 'first', maxConn: 10 };
 * ```
 */
export interface FirstPolicySpec {
  kind: 'first';
  /** Active requests a backend may hold before the next one is used (HAProxy's server `maxconn`). An integer >= 1. */
  maxConn: number;
}

/**
 * HAProxy's `balance first` (https://docs.haproxy.org/3.0/configuration.html#4.2-balance): the available
 * backend with the lowest index and a free slot (fewer than `maxConn` active requests) wins, so the
 * first backend fills up before the second gets anything, and idle servers at the end of the list can be
 * powered down. Weights are ignored. When every available backend is full the request is refused
 * (`unavailable`); HAProxy would queue it (up to `timeout queue`, then 503), and the balancer has no
 * queue yet.
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), { backends: ['a', 'b'], policy: { kind: 'first', maxConn: 4 } });
 * ```
 */
export class FirstPolicy implements BalancerPolicy {
  readonly kind = 'first';

  /** @param maxConn - active requests per backend before the next one is used, validated */
  constructor(readonly maxConn: number) {}

  /** The lowest-index available backend below `maxConn`; -1 when all are full. */
  pick(ctx: PickContext): number {
    const ids = ctx.availableIndices;
    for (let k = 0; k < ctx.availableCount; k++) {
      const i = ids[k]!;
      if (ctx.backends[i]!.active < this.maxConn) return i;
    }
    return -1;
  }
}
