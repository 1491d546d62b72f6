import type { BalancerPolicy, PickContext } from '../policy.js';

/**
 * A uniformly random available backend index, or -1 when none is available: one draw from `ctx.rng`.
 *
 * @example
 * ```ts
 * const index = randomAvailable(ctx);
 * ```
 */
export function randomAvailable(ctx: PickContext): number {
  const n = ctx.availableCount;
  if (n === 0) return -1;
  return ctx.availableIndices[Math.floor(ctx.rng.next() * n)]!;
}

/**
 * Options of the `random` policy (none).
 *
 * @example
 * ```ts
 * const spec: RandomBalancerPolicySpec = { kind: 'random' };
 * ```
 */
export interface RandomBalancerPolicySpec {
  kind: 'random';
}

/**
 * Envoy's `RANDOM` load balancer: a uniformly random available backend, weights ignored. Envoy's docs
 * note it is "generally better than round robin if no health checking policy is configured", since
 * round robin sends the requests a failed host would have had to the host after it
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers).
 * Behind exponential servers it is n independent M/M/1 queues (the supermarket model with d = 1).
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), { backends: ['a', 'b'], policy: { kind: 'random' } });
 * ```
 */
export class RandomBalancerPolicy implements BalancerPolicy {
  readonly kind = 'random';

  /** A uniformly random available backend. */
  pick(ctx: PickContext): number {
    return randomAvailable(ctx);
  }
}
