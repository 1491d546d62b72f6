import type { BalancerPolicy, PickContext } from '../policy.js';

/**
 * Options of the `round-robin` policy (none).
 *
 * @example
 * ```ts
 * const spec: RoundRobinPolicySpec = { kind: 'round-robin' };
 * ```
 */
export interface RoundRobinPolicySpec {
  kind: 'round-robin';
}

/**
 * Plain round robin: the available backends in index order, one request each, weights ignored (use
 * `weighted-round-robin` for weights). An unavailable backend is skipped, so its share goes to the next
 * one: the bias Envoy's docs warn about. Envoy starts each worker at a random offset; this starts at
 * index 0, so a sequence is reproducible from the configuration alone.
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), { backends: ['a', 'b', 'c'], policy: { kind: 'round-robin' } });
 * // a, b, c, a, b, c, ...
 * ```
 */
export class RoundRobinPolicy implements BalancerPolicy {
  readonly kind = 'round-robin';
  private cursor = 0;

  /** The next available backend at or after the cursor. */
  pick(ctx: PickContext): number {
    const backends = ctx.backends;
    const n = backends.length;
    if (ctx.availableCount === 0) return -1;
    let i = this.cursor >= n ? 0 : this.cursor;
    for (let k = 0; k < n; k++) {
      if (backends[i]!.available) {
        this.cursor = i + 1;
        return i;
      }
      if (++i === n) i = 0;
    }
    return -1;
  }
}
