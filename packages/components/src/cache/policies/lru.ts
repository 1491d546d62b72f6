import type { Owner } from '@dsim/core';
import { QueuePolicy } from './queue-policy.js';
import { policyOwner } from './shared.js';
import type { EvictionContext } from './types.js';

/**
 * Options of {@link LruPolicy}: none. The `kind` may be given (so a whole spec can be passed).
 *
 * @example
 * ```ts
 * const options: LruOptions = { kind: 'lru' };
 * ```
 */
export interface LruOptions {
  /** The spec's kind, if the whole spec is passed. @default 'lru' */
  readonly kind?: 'lru';
}

/**
 * Exact least-recently-used eviction: the victim is the key read or written longest ago. Under the
 * independent reference model its hit ratio is Che's approximation ({@link cheHitRatio}).
 *
 * A hit is one map lookup and a few typed-array writes (an intrusive doubly linked list over slots that
 * are recycled), so hits and steady-state misses allocate nothing. Overwriting a key counts as an access.
 *
 * @example
 * ```ts
 * const lru = new LruPolicy({}, { capacity: 2, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * lru.put('a', 1, Infinity, 0, evicted);
 * lru.put('b', 1, Infinity, 0, evicted);
 * lru.onHit('a', 1);
 * lru.put('c', 1, Infinity, 2, evicted); // evicted: ['b']
 * ```
 */
export class LruPolicy extends QueuePolicy {
  readonly kind = 'lru';

  /**
   * @param options - none but `kind`; a `lru` `EvictionSpec` works as is
   * @param ctx - the capacity (units, an integer >= 1) and a random stream
   * @param where - who configures the policy, for error messages @internal
   */
  constructor(options: LruOptions, ctx: EvictionContext, where: Owner = policyOwner('LruPolicy')) {
    super('lru', true, options, ctx, where);
  }
}
