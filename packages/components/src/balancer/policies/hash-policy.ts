import type { KeyPlacement } from '../../hashing/types.js';
import type { BalancerBackend, BalancerPolicy, PickContext } from '../policy.js';
import { randomAvailable } from './random.js';

/**
 * The common part of the key-hashing policies (`ring-hash`, `maglev`, `consistent-bounded`): a
 * {@link KeyPlacement} over the available backends, brought up to date on `rebuild` by adding and
 * removing only the backends that changed, as Envoy rebuilds its ring or table on every host-set or
 * health change. A request with a key goes to the key's owner; a request without one to a random
 * available backend (Envoy falls back to a random host when the hash policy yields no hash).
 *
 * @example
 * ```ts
 * class ModuloPolicy extends HashPolicy {
 *   readonly kind = 'modulo';
 *   protected create(): KeyPlacement { return new ModuloHash(); }
 * }
 * ```
 */
export abstract class HashPolicy implements BalancerPolicy {
  abstract readonly kind: string;
  /** The placement, created on the first rebuild with at least one backend. */
  protected placement: KeyPlacement | undefined;
  /** The weight each member was added with. */
  private readonly members = new Map<string, number>();
  /** Backend index by address, for the current backend list. */
  protected readonly indexOf = new Map<string, number>();

  /** A new, empty placement; `backends` is the list at the first rebuild (to size a ring). */
  protected abstract create(backends: readonly BalancerBackend[]): KeyPlacement;

  /** Adds and removes members so that the placement holds exactly the available backends. */
  rebuild(backends: readonly BalancerBackend[]): void {
    this.indexOf.clear();
    for (const b of backends) this.indexOf.set(b.address, b.index);
    if (this.placement === undefined) {
      if (backends.length === 0) return;
      this.placement = this.create(backends);
    }
    const placement = this.placement;
    for (const [address, weight] of this.members) {
      const i = this.indexOf.get(address);
      const b = i === undefined ? undefined : backends[i];
      if (b === undefined || !b.available || b.weight !== weight) {
        placement.remove(address);
        this.members.delete(address);
      }
    }
    for (const b of backends) {
      if (b.available && !this.members.has(b.address)) {
        placement.add(b.address, b.weight);
        this.members.set(b.address, b.weight);
      }
    }
  }

  /** The key's owner, or a random available backend for a request without a key. */
  pick(ctx: PickContext): number {
    const key = ctx.request.key;
    if (key === undefined || this.placement === undefined) return randomAvailable(ctx);
    const owner = this.placement.lookup(key);
    return owner === undefined ? -1 : this.indexOf.get(owner)!;
  }
}
