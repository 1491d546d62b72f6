import {
  checkKindOf,
  invalidOption,
  type Owner,
  optionKeys,
  owner,
  requireOptions,
  showValue,
} from '@dsim/core';
import { mod64, xxHash64Into } from './hash.js';
import { MaglevHash, type MaglevHashOptions } from './maglev.js';
import { RendezvousHash, type RendezvousHashOptions } from './rendezvous.js';
import { HashRing, type HashRingOptions } from './ring.js';
import {
  checkCount,
  type KeyPlacement,
  PlacementBase,
  type PlacementKind,
  type PlacementNode,
} from './types.js';

/**
 * Options of a {@link ModuloHash}.
 *
 * @example
 * ```ts
 * const options: ModuloHashOptions = { nodes: ['a', 'b', { name: 'c', weight: 2 }] };
 * ```
 */
export interface ModuloHashOptions {
  /** The initial nodes, in slot order: names (weight 1) or `{ name, weight }` with an integer weight. @default [] */
  nodes?: readonly (string | PlacementNode)[];
}

/** Every key of {@link ModuloHashOptions}. @internal */
export const MODULO_KEYS = optionKeys<ModuloHashOptions>()({ nodes: true });

/**
 * The naive baseline: `node = slots[hash(key) mod S]`, where each node holds `weight` consecutive slots in the
 * order nodes were added (HAProxy's default `hash-type map-based`, and every `hash % servers.length` in the wild).
 * Perfectly balanced and O(1), but not consistent: going from N to N + 1 equal nodes moves about N / (N + 1) of
 * the keys (a key stays only if hash mod N = hash mod (N + 1)), which is why caches in front of databases use a
 * ring instead. Here to show that cost.
 *
 * `nodes` is in slot (insertion) order, not sorted; removing a node shifts every later node's slots.
 *
 * @example
 * ```ts
 * const mod = new ModuloHash({ nodes: ['a', 'b', 'c'] });
 * mod.lookup('user:42');     // xxHash64('user:42') mod 3 picks 'a', 'b' or 'c'
 * mod.lookupN('user:42', 2); // that node, then the next one in slot order
 * ```
 */
export class ModuloHash extends PlacementBase {
  readonly kind = 'modulo' as const;
  private order: string[] = [];
  private cumulative = new Float64Array(0);
  private totalSlots = 0;
  private uniform = true;
  private readonly keyHash = new Uint32Array(2);

  /**
   * @param options - the initial nodes, in slot order; unknown keys and bad values throw INVALID_ARGUMENT
   * @param where - who configures the placement, for error messages @internal
   */
  constructor(options: ModuloHashOptions = {}, where: Owner = owner('ModuloHash')) {
    super('ModuloHash', where);
    requireOptions(where, options, MODULO_KEYS);
    this.addInitial(options.nodes);
  }

  /** The node names in slot order (insertion order). */
  override get nodes(): readonly string[] {
    this.ensure();
    return this.order;
  }

  protected override checkWeight(node: string, weight: number): void {
    if (!Number.isInteger(weight) || weight < 1) {
      throw invalidOption(this.where, `weight of ${showValue(node)}`, weight, 'an integer >= 1 (slots)');
    }
    if (this.totalWeight() + weight > 2 ** 32) {
      throw invalidOption(this.where, `weight of ${showValue(node)}`, weight, 'at most 2^32 slots in all');
    }
  }

  private totalWeight(): number {
    let t = 0;
    for (const w of this.weights.values()) t += w;
    return t;
  }

  protected rebuild(): void {
    this.order = [...this.weights.keys()];
    const n = this.order.length;
    this.cumulative = new Float64Array(n);
    let t = 0;
    this.uniform = true;
    for (let i = 0; i < n; i++) {
      const w = this.weights.get(this.order[i]!)!;
      if (w !== 1) this.uniform = false;
      t += w;
      this.cumulative[i] = t;
    }
    this.totalSlots = t;
  }

  /** Index in `order` of the key's node; -1 when there are no nodes. */
  private index(key: string): number {
    this.ensure();
    if (this.totalSlots === 0) return -1;
    const h = this.keyHash;
    xxHash64Into(key, h);
    const slot = mod64(h[0]!, h[1]!, this.totalSlots);
    if (this.uniform) return slot;
    const cum = this.cumulative;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! > slot) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The node holding slot xxHash64(key) mod S; undefined when there are no nodes. */
  lookup(key: string): string | undefined {
    const i = this.index(key);
    return i < 0 ? undefined : this.order[i];
  }

  /** The key's node, then the next nodes in slot order (wrapping), `n` in all. */
  lookupN(key: string, n: number): string[] {
    checkCount(this.where, n);
    const start = this.index(key);
    if (start < 0) return [];
    const size = this.order.length;
    const want = Math.min(n, size);
    const out: string[] = [];
    for (let k = 0; k < want; k++) out.push(this.order[(start + k) % size]!);
    return out;
  }
}

/**
 * A key placement described as data (e.g. from a scenario file): `kind` plus that algorithm's options.
 *
 * @example
 * ```ts
 * const spec: PlacementSpec = { kind: 'ring', vnodes: 160, nodes: ['cache-1', 'cache-2'] };
 * ```
 */
export type PlacementSpec =
  | ({ kind: 'ring' } & HashRingOptions)
  | ({ kind: 'rendezvous' } & RendezvousHashOptions)
  | ({ kind: 'maglev' } & MaglevHashOptions)
  | ({ kind: 'modulo' } & ModuloHashOptions);

/**
 * The keys of each placement spec, `kind` included; checked against {@link PlacementSpec} at compile time.
 * @internal
 */
export const PLACEMENT_SPEC_KEYS: Readonly<Record<PlacementKind, readonly string[]>> = Object.freeze({
  ring: optionKeys<Extract<PlacementSpec, { kind: 'ring' }>>()({ kind: true, vnodes: true, nodes: true }),
  rendezvous: optionKeys<Extract<PlacementSpec, { kind: 'rendezvous' }>>()({ kind: true, nodes: true }),
  maglev: optionKeys<Extract<PlacementSpec, { kind: 'maglev' }>>()({
    kind: true,
    tableSize: true,
    nodes: true,
  }),
  modulo: optionKeys<Extract<PlacementSpec, { kind: 'modulo' }>>()({ kind: true, nodes: true }),
});

/**
 * Builds a placement from a {@link PlacementSpec}: {@link HashRing}, {@link RendezvousHash}, {@link MaglevHash} or
 * {@link ModuloHash}. Every field is validated: a misspelt `kind` or key throws INVALID_ARGUMENT with a "did you
 * mean", a bad value names the field (e.g. `createPlacement: tableSize`).
 *
 * @param spec - the algorithm and its options
 * @param where - who configures the placement, for error messages (a `DistributedCache` passes its
 *   `placement`) @internal
 * @example
 * ```ts
 * const placement = createPlacement({ kind: 'maglev', nodes: ['a', 'b', 'c'] });
 * placement.lookup('user:42'); // 'a', 'b' or 'c'
 * ```
 */
export function createPlacement(spec: PlacementSpec, where: Owner = owner('createPlacement')): KeyPlacement {
  const kind = checkKindOf(where, spec, PLACEMENT_SPEC_KEYS);
  const { kind: _kind, ...options } = spec as unknown as Record<string, unknown>;
  switch (kind) {
    case 'ring':
      return new HashRing(options as HashRingOptions, where);
    case 'rendezvous':
      return new RendezvousHash(options as RendezvousHashOptions, where);
    case 'maglev':
      return new MaglevHash(options as MaglevHashOptions, where);
    case 'modulo':
      return new ModuloHash(options as ModuloHashOptions, where);
  }
}
