import { checkKind, type Owner, owner } from '@dsim/core';
import { ArcPolicy } from './arc.js';
import { FifoPolicy } from './fifo.js';
import { LfuPolicy } from './lfu.js';
import { LruPolicy } from './lru.js';
import { NoEvictionPolicy } from './none.js';
import { RandomPolicy } from './random.js';
import { RedisPolicy } from './redis.js';
import { EVICTION_OPTION_KEYS } from './shared.js';
import { TtlPolicy } from './ttl.js';
import type { EvictionContext, EvictionKind, EvictionPolicy, EvictionSpec } from './types.js';
import { WTinyLfuPolicy } from './w-tinylfu.js';

/**
 * Every eviction algorithm {@link createEvictionPolicy} knows, in a stable order (the order of
 * {@link EvictionKind}).
 *
 * @example
 * ```ts
 * for (const kind of EVICTION_KINDS) console.log(kind); // 'lru', 'fifo', 'random', ...
 * ```
 */
export const EVICTION_KINDS: readonly EvictionKind[] = Object.freeze([
  'lru',
  'fifo',
  'random',
  'lfu',
  'ttl',
  'redis-lru',
  'redis-lfu',
  'arc',
  'w-tinylfu',
  'none',
] as const);

/**
 * Builds the eviction policy an {@link EvictionSpec} describes, for a cache of `ctx.capacity` units drawing
 * its random choices from `ctx.rng`. Every option is validated: an unknown `kind` (with "did you mean"), an
 * option the kind does not have, or an out-of-range value throws INVALID_ARGUMENT naming the field
 * (`eviction.kind`, `eviction.samples`, ...), the value and what is allowed.
 *
 * @param spec - the policy and its options
 * @param ctx - the capacity and the random stream
 * @param where - who configures the policy, for error messages (a `Cache` passes itself) @internal
 * @example
 * ```ts
 * const policy = createEvictionPolicy({ kind: 'redis-lru', samples: 10 }, { capacity: 1000, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * policy.put('k1', 1, Infinity, sim.now, evicted);
 * ```
 */
export function createEvictionPolicy(
  spec: EvictionSpec,
  ctx: EvictionContext,
  where: Owner = owner('createEvictionPolicy', 'eviction'),
): EvictionPolicy {
  switch (checkKind(where.component, where.path, spec, EVICTION_OPTION_KEYS) as EvictionKind) {
    case 'lru':
      return new LruPolicy(spec as { kind: 'lru' }, ctx, where);
    case 'fifo':
      return new FifoPolicy(spec as { kind: 'fifo' }, ctx, where);
    case 'random':
      return new RandomPolicy(spec as { kind: 'random' }, ctx, where);
    case 'lfu':
      return new LfuPolicy(spec as { kind: 'lfu' }, ctx, where);
    case 'ttl':
      return new TtlPolicy(spec as { kind: 'ttl' }, ctx, where);
    case 'redis-lru':
    case 'redis-lfu':
      return new RedisPolicy(spec as { kind: 'redis-lru' }, ctx, where);
    case 'none':
      return new NoEvictionPolicy(spec as { kind: 'none' }, ctx, where);
    case 'arc':
      return new ArcPolicy(spec as { kind: 'arc' }, ctx, where);
    case 'w-tinylfu':
      return new WTinyLfuPolicy(spec as { kind: 'w-tinylfu' }, ctx, where);
  }
}
