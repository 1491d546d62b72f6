import { checkKeys, invalidOption, nested, type Owner, optionKeys, owner, showValue } from '@dsim/core';

/**
 * Every placement algorithm {@link createPlacement} knows, in a stable order.
 *
 * @example
 * ```ts
 * for (const kind of PLACEMENT_KINDS) console.log(kind); // 'ring', 'rendezvous', 'maglev', 'modulo'
 * ```
 */
export const PLACEMENT_KINDS = ['ring', 'rendezvous', 'maglev', 'modulo'] as const;

/**
 * The name of a placement algorithm: `'ring'` ({@link HashRing}), `'rendezvous'` ({@link RendezvousHash}),
 * `'maglev'` ({@link MaglevHash}) or `'modulo'` ({@link ModuloHash}).
 */
export type PlacementKind = (typeof PLACEMENT_KINDS)[number];

/**
 * A node given with its weight, for the `nodes` option of every placement.
 *
 * @example
 * ```ts
 * const nodes: PlacementNode[] = [{ name: 'cache-1' }, { name: 'cache-2', weight: 2 }];
 * ```
 */
export interface PlacementNode {
  /** The node's name: a non-empty string, unique within the placement. */
  readonly name: string;
  /**
   * Relative capacity: a node of weight 2 gets about twice the keys of a node of weight 1. A finite number > 0
   * (an integer >= 1 for {@link ModuloHash}).
   * @default 1
   */
  readonly weight?: number;
}

/**
 * Maps keys (strings) to nodes (strings) and keeps doing so as nodes join and leave: the common interface of
 * {@link HashRing}, {@link RendezvousHash}, {@link MaglevHash} and {@link ModuloHash}. Every placement is a pure,
 * deterministic function of its node set (names and weights) and the key: no randomness, no clock, and (except
 * for {@link ModuloHash}, whose slots follow insertion order) no dependence on the order nodes were added in.
 * Keys are hashed with {@link xxHash64} of their UTF-8 bytes, seed 0, as Envoy hashes request keys.
 *
 * @example
 * ```ts
 * const placement: KeyPlacement = createPlacement({ kind: 'ring', nodes: ['a', 'b', 'c'] });
 * placement.lookup('user:42');     // e.g. 'b'
 * placement.lookupN('user:42', 2); // e.g. ['b', 'a']: the owner first, then the next replica
 * placement.add('d');
 * placement.remove('a');
 * ```
 */
export interface KeyPlacement {
  /** Which algorithm. */
  readonly kind: PlacementKind;
  /** The node names: sorted by name (UTF-16 code-unit order), or in slot order for {@link ModuloHash}. */
  readonly nodes: readonly string[];
  /** How many nodes there are. */
  readonly size: number;
  /** Whether `node` is a member. */
  has(node: string): boolean;
  /** The weight of `node`, or undefined if it is not a member. */
  weight(node: string): number | undefined;
  /**
   * Adds a node. Throws INVALID_ARGUMENT naming `node` for an empty or duplicate name and `weight` for a bad
   * weight. The placement's tables are rebuilt lazily, on the next lookup.
   *
   * @param weight - a finite number > 0. @default 1
   */
  add(node: string, weight?: number): void;
  /** Removes a node; returns whether it was a member. */
  remove(node: string): boolean;
  /** The node that owns `key`, or undefined when there are no nodes. */
  lookup(key: string): string | undefined;
  /**
   * Up to `n` distinct nodes for `key` in preference order (replicas, or fallbacks): the first is
   * `lookup(key)`, and `lookupN(key, k)` is a prefix of `lookupN(key, k + 1)`. Returns every node when
   * `n >= size`.
   *
   * @param n - an integer >= 0.
   */
  lookupN(key: string, n: number): string[];
}

/** Every key of {@link PlacementNode}. @internal */
export const PLACEMENT_NODE_KEYS = optionKeys<PlacementNode>()({ name: true, weight: true });

/** Compares strings by UTF-16 code units (locale-independent, so deterministic everywhere). @internal */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Node bookkeeping shared by the placements: validation, membership, weights, the sorted name list, and a lazy
 * rebuild of the algorithm's tables on the first lookup after a change. Subclasses call {@link addInitial} at the
 * end of their constructor and implement {@link rebuild}.
 * @internal
 */
export abstract class PlacementBase implements KeyPlacement {
  abstract readonly kind: PlacementKind;
  /** Weights by name, in insertion order. */
  protected readonly weights = new Map<string, number>();
  /** Names sorted by {@link compareNames}; valid after {@link ensure}. */
  protected sorted: string[] = [];
  private dirty = true;
  /**
   * Who errors name: the configuring component (e.g. `createPlacement`, or a `DistributedCache`'s
   * `placement`) while the constructor runs, the class itself afterwards.
   */
  protected where: Owner;

  /**
   * @param className - the class, named by errors of `add` and `lookupN`
   * @param where - who configures the placement, named by errors while it is built
   */
  protected constructor(
    private readonly className: string,
    where: Owner,
  ) {
    this.where = where;
  }

  /** The node names, sorted by name (UTF-16 code-unit order). */
  get nodes(): readonly string[] {
    this.ensure();
    return this.sorted;
  }

  /** How many nodes there are. */
  get size(): number {
    return this.weights.size;
  }

  /** Whether `node` is a member. */
  has(node: string): boolean {
    return this.weights.has(node);
  }

  /** The weight of `node`, or undefined if it is not a member. */
  weight(node: string): number | undefined {
    return this.weights.get(node);
  }

  /**
   * Adds a node (see {@link KeyPlacement.add}); throws INVALID_ARGUMENT naming `node` or `weight`.
   * @param weight - a finite number > 0. @default 1
   */
  add(node: string, weight = 1): void {
    if (typeof node !== 'string' || node === '') {
      throw invalidOption(this.where, 'node', node, 'a non-empty string');
    }
    if (this.weights.has(node)) {
      throw invalidOption(this.where, 'node', node, 'a name not already in this placement');
    }
    this.checkWeight(node, weight);
    this.checkAdd(node, weight);
    this.weights.set(node, weight);
    this.dirty = true;
    this.onAdd(node, weight);
  }

  /** Removes a node; returns whether it was a member. */
  remove(node: string): boolean {
    if (!this.weights.delete(node)) return false;
    this.dirty = true;
    this.onRemove(node);
    return true;
  }

  abstract lookup(key: string): string | undefined;
  abstract lookupN(key: string, n: number): string[];

  /** Validates a weight; {@link ModuloHash} narrows it to integers. */
  protected checkWeight(node: string, weight: number): void {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
      throw invalidOption(this.where, `weight of ${showValue(node)}`, weight, 'a finite number > 0');
    }
  }

  /** Further checks before a node joins (table capacity). */
  protected checkAdd(_node: string, _weight: number): void {}

  /** Per-node work when a node joins (e.g. hashing its points). */
  protected onAdd(_node: string, _weight: number): void {}

  /** Per-node cleanup when a node leaves. */
  protected onRemove(_node: string): void {}

  /** Rebuilds the lookup structures from {@link weights} and {@link sorted}. */
  protected abstract rebuild(): void;

  /** Brings the lookup structures up to date; call at the start of every lookup. */
  protected ensure(): void {
    if (!this.dirty) return;
    this.sorted = [...this.weights.keys()].sort(compareNames);
    this.rebuild();
    this.dirty = false;
  }

  /**
   * Adds the `nodes` option's entries; the last step of a subclass's constructor (errors name the class
   * from then on).
   */
  protected addInitial(nodes: readonly (string | PlacementNode)[] | undefined): void {
    if (nodes !== undefined) {
      if (!Array.isArray(nodes)) {
        throw invalidOption(this.where, 'nodes', nodes, 'an array of names or { name, weight } objects');
      }
      for (const [i, entry] of (nodes as readonly (string | PlacementNode)[]).entries()) {
        if (typeof entry === 'string') this.add(entry);
        else if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
          checkKeys(nested(this.where, `nodes[${i}]`), entry, PLACEMENT_NODE_KEYS);
          this.add(entry.name, entry.weight ?? 1);
        } else throw invalidOption(this.where, `nodes[${i}]`, entry, 'a name or a { name, weight } object');
      }
    }
    this.where = owner(this.className);
  }
}

/** Throws unless `n` is an integer >= 0 (the `n` of lookupN). @internal */
export function checkCount(where: Owner, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw invalidOption(where, 'lookupN n', n, 'an integer >= 0');
}
