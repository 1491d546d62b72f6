import { invalidArgument, showValue } from '@dsim/core';
import { ArcPolicy } from './arc.js';
import { FifoPolicy } from './fifo.js';
import { LfuPolicy } from './lfu.js';
import { LruPolicy } from './lru.js';
import { NoEvictionPolicy } from './none.js';
import { RandomPolicy } from './random.js';
import { RedisPolicy } from './redis.js';
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
 * its random choices from `ctx.rng`. Every option is validated: an unknown `kind`, an option the kind
 * does not have, or an out-of-range value throws INVALID_ARGUMENT naming the field (`eviction.kind`,
 * `eviction.samples`, ...), the value and what is allowed.
 *
 * @example
 * ```ts
 * const policy = createEvictionPolicy({ kind: 'redis-lru', samples: 10 }, { capacity: 1000, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * policy.put('k1', 1, Infinity, sim.now, evicted);
 * ```
 */
export function createEvictionPolicy(spec: EvictionSpec, ctx: EvictionContext): EvictionPolicy {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw invalidArgument('eviction', spec, 'an eviction spec object with a kind, e.g. { kind: "lru" }');
  }
  switch (spec.kind) {
    case 'lru':
      return new LruPolicy(spec, ctx);
    case 'fifo':
      return new FifoPolicy(spec, ctx);
    case 'random':
      return new RandomPolicy(spec, ctx);
    case 'lfu':
      return new LfuPolicy(spec, ctx);
    case 'ttl':
      return new TtlPolicy(spec, ctx);
    case 'redis-lru':
    case 'redis-lfu':
      return new RedisPolicy(spec, ctx);
    case 'none':
      return new NoEvictionPolicy(spec, ctx);
    case 'arc':
      return new ArcPolicy(spec, ctx);
    case 'w-tinylfu':
      return new WTinyLfuPolicy(spec, ctx);
    default:
      throw invalidArgument(
        'eviction.kind',
        (spec as { kind?: unknown }).kind,
        `one of ${EVICTION_KINDS.map((k) => showValue(k)).join(', ')}`,
      );
  }
}
