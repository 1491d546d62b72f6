import type { BalancerPolicy, PickContext } from '../policy.js';

/**
 * Options of the `leastconn` policy (HAProxy `balance leastconn`; none).
 *
 * @example
 * ```ts
 * const spec: LeastConnPolicySpec = { kind: 'leastconn' };
 * ```
 */
export interface LeastConnPolicySpec {
  kind: 'leastconn';
}

/**
 * HAProxy's `balance leastconn` (https://docs.haproxy.org/3.0/configuration.html#4.2-balance): "the
 * server with the lowest number of connections receives the connection", weighted (the load compared is
 * `active / weight`, as HAProxy compares connections over the server's effective weight), with round
 * robin among servers of equal load "to ensure that all servers will be used". It is dynamic, so
 * `setWeight` and slow start take effect at the next pick.
 *
 * HAProxy also counts the connections queued for a server. Here `active` is the balancer's count of
 * requests forwarded and not answered, which already includes those waiting in the backend's own queue;
 * the balancer has no queue of its own.
 *
 * Round robin among ties: the scan starts at the backend after the last one picked, and the first of the
 * least loaded in that order wins, so on an idle set of `a`, `b`, `c` the picks are `a b c a b c`.
 * `pick` scans the available backends once and allocates nothing.
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), { backends, policy: { kind: 'leastconn' } });
 * ```
 */
export class LeastConnPolicy implements BalancerPolicy {
  readonly kind = 'leastconn';
  /** Index after the last pick: where the next scan starts. */
  private cursor = 0;

  /** The first available backend with the lowest `active / weight`, scanning from after the last pick. */
  pick(ctx: PickContext): number {
    const n = ctx.availableCount;
    if (n === 0) return -1;
    const ids = ctx.availableIndices;
    const backends = ctx.backends;
    // Start at the first available index >= cursor (ids are ascending), wrapping to 0.
    let start = 0;
    while (start < n && ids[start]! < this.cursor) start++;
    if (start === n) start = 0;
    let best = -1;
    let bestLoad = Infinity;
    for (let k = 0, j = start; k < n; k++) {
      const i = ids[j]!;
      const b = backends[i]!;
      const load = b.active / b.weight;
      if (load < bestLoad) {
        best = i;
        bestLoad = load;
      }
      if (++j === n) j = 0;
    }
    this.cursor = best + 1;
    return best;
  }
}
