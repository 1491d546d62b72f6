import { hash53 } from '../../hashing/hash.js';
import type { BalancerBackend, BalancerPolicy, PickContext } from '../policy.js';
import { RingHashPolicy } from './ring-hash.js';
import { RoundRobinPolicy } from './round-robin.js';

/**
 * How `haproxy-hash` maps a key's hash to a server: HAProxy's `hash-type` method.
 *
 * @example
 * ```ts
 * const type: HaproxyHashType = 'consistent';
 * ```
 */
export type HaproxyHashType = 'map-based' | 'consistent';

/**
 * Options of the `haproxy-hash` policy: HAProxy's hash-based `balance` algorithms (`hdr(<name>)`, `uri`,
 * `url_param`, `source`, `hash <expr>`) keyed by the request's `key`, with the backend's `hash-type`.
 *
 * @example
 * ```ts
 * const spec: HaproxyHashPolicySpec = { kind: 'haproxy-hash', hashType: 'consistent' };
 * ```
 */
export interface HaproxyHashPolicySpec {
  kind: 'haproxy-hash';
  /**
   * HAProxy's `hash-type` method. `'map-based'`: the key's hash modulo the total weight of the available
   * backends, each owning `weight` consecutive slots; static, so most keys move when the set changes.
   * `'consistent'`: the `ring-hash` ring (1024 points); a change moves only the changed backend's keys.
   * @default 'map-based'
   */
  hashType?: HaproxyHashType;
}

/**
 * Slots a backend of effective `weight` owns in the `map-based` table: `round(weight)`, at least 1.
 * HAProxy weights are integers (1 to 256); a fractional effective weight (slow start) is rounded.
 *
 * @example
 * ```ts
 * mapSlots(3);    // 3
 * mapSlots(0.01); // 1
 * ```
 */
export function mapSlots(weight: number): number {
  return Math.max(1, Math.round(weight));
}

/**
 * HAProxy's hash-based balancing (https://docs.haproxy.org/3.0/configuration.html#4.2-balance and
 * `hash-type`, https://docs.haproxy.org/3.0/configuration.html#4.2-hash-type): the request's `key` is
 * hashed and "divided by the total weight of the running servers".
 *
 * - `map-based` (HAProxy's default): the available backends, in index order, own `weight` consecutive
 *   slots each ({@link mapSlots}); a key goes to the owner of slot `hash(key) mod total slots`. The
 *   table is rebuilt whenever a backend, a weight or availability changes, and since the modulus changes,
 *   most keys move: with N equal backends, one leaving moves about 1 - 1/N of all keys (HAProxy: "the
 *   result will change each time a server goes up or down"). HAProxy's `map-based` is static, so HAProxy
 *   does not apply slow start to it; here a fractional effective weight is rounded.
 * - `consistent`: the `ring-hash` policy's ring ({@link RingHashPolicy}, 1024 points), so a change moves
 *   only about 1/N of the keys.
 *
 * A request without a key goes round robin over the available backends, as HAProxy falls back to round
 * robin when `hdr(<name>)` finds no such header (or `url_param` no parameter). The key's hash is xxHash64
 * (its top 53 bits), as for the other hashing policies; HAProxy hashes with `sdbm` by default.
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), { backends, policy: { kind: 'haproxy-hash' } });
 * endpoint.call('lb', payload, { key: 'user:42' }); // same backend while the backend set is unchanged
 * ```
 */
export class HaproxyHashPolicy implements BalancerPolicy {
  readonly kind = 'haproxy-hash';
  /** The `hash-type` method. */
  readonly hashType: HaproxyHashType;
  private readonly ring: RingHashPolicy | undefined;
  private readonly fallback = new RoundRobinPolicy();
  private table = new Int32Array(0);
  private size = 0;
  private built = false;

  /** @param hashType - HAProxy's `hash-type` method, validated @default 'map-based' */
  constructor(hashType: HaproxyHashType = 'map-based') {
    this.hashType = hashType;
    this.ring = hashType === 'consistent' ? new RingHashPolicy() : undefined;
  }

  /**
   * The `map-based` table: entry `s` is the index of the backend owning slot `s`; only the first
   * {@link HaproxyHashPolicy.slotCount} entries are valid. Empty with `consistent`. Read, do not write.
   */
  get slots(): ArrayLike<number> {
    return this.table;
  }

  /** Slots in the `map-based` table: the sum of {@link mapSlots} over the available backends. */
  get slotCount(): number {
    return this.size;
  }

  /** Rebuilds the slot table (`map-based`) or the ring (`consistent`). */
  rebuild(backends: readonly BalancerBackend[]): void {
    this.built = true;
    if (this.ring !== undefined) {
      this.ring.rebuild(backends);
      return;
    }
    let total = 0;
    for (const b of backends) if (b.available) total += mapSlots(b.weight);
    if (total > this.table.length) this.table = new Int32Array(Math.max(total, this.table.length * 2));
    let s = 0;
    for (const b of backends) {
      if (!b.available) continue;
      for (let end = s + mapSlots(b.weight); s < end; s++) this.table[s] = b.index;
    }
    this.size = total;
  }

  /** The key's slot owner (or ring owner); round robin for a request without a key. */
  pick(ctx: PickContext): number {
    if (ctx.availableCount === 0) return -1;
    const key = ctx.request.key;
    if (key === undefined) return this.fallback.pick(ctx);
    if (!this.built) this.rebuild(ctx.backends);
    if (this.ring !== undefined) return this.ring.pick(ctx);
    return this.size === 0 ? -1 : this.table[hash53(key) % this.size]!;
  }
}
