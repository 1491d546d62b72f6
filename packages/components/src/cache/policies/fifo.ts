import type { Owner } from '@dsim/core';
import { QueuePolicy } from './queue-policy.js';
import { policyOwner } from './shared.js';
import type { EvictionContext } from './types.js';

/**
 * Options of {@link FifoPolicy}: none. The `kind` may be given (so a whole spec can be passed).
 *
 * @example
 * ```ts
 * const options: FifoOptions = { kind: 'fifo' };
 * ```
 */
export interface FifoOptions {
  /** The spec's kind, if the whole spec is passed. @default 'fifo' */
  readonly kind?: 'fifo';
}

/**
 * First in, first out: the victim is the key inserted longest ago; hits do not reorder, and overwriting a
 * resident key keeps its place in the queue. Under the independent reference model FIFO has the same hit
 * ratio as RANDOM ({@link fifoHitRatio}).
 *
 * A hit is one map lookup. Keys live in an intrusive doubly linked list over recycled slots, so
 * steady-state misses allocate nothing either.
 *
 * @example
 * ```ts
 * const fifo = new FifoPolicy({}, { capacity: 2, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * fifo.put('a', 1, Infinity, 0, evicted);
 * fifo.put('b', 1, Infinity, 0, evicted);
 * fifo.onHit('a', 1);
 * fifo.put('c', 1, Infinity, 2, evicted); // evicted: ['a']
 * ```
 */
export class FifoPolicy extends QueuePolicy {
  readonly kind = 'fifo';

  /**
   * @param options - none but `kind`; a `fifo` `EvictionSpec` works as is
   * @param ctx - the capacity (units, an integer >= 1) and a random stream
   * @param where - who configures the policy, for error messages @internal
   */
  constructor(options: FifoOptions, ctx: EvictionContext, where: Owner = policyOwner('FifoPolicy')) {
    super('fifo', false, options, ctx, where);
  }
}
