import { invalidOption, type Owner, optionKeys, owner, requireOptions, showValue } from '@dsim/core';
import { mod64, xxHash64Into } from './hash.js';
import { checkCount, PlacementBase, type PlacementNode } from './types.js';

/**
 * Envoy's default Maglev lookup-table size, 65537 (a prime; `MaglevTable::DefaultTableSize`).
 *
 * @example
 * ```ts
 * new MaglevHash({ tableSize: MAGLEV_DEFAULT_TABLE_SIZE });
 * ```
 */
export const MAGLEV_DEFAULT_TABLE_SIZE = 65537;

/**
 * The largest table size Envoy accepts, 5000011 (a prime; `MaglevLbConfig.table_size` is validated `lte: 5000011`).
 *
 * @example
 * ```ts
 * new MaglevHash({ tableSize: MAGLEV_MAX_TABLE_SIZE }); // 5000011 entries, ~20 MB
 * ```
 */
export const MAGLEV_MAX_TABLE_SIZE = 5_000_011;

/**
 * Whether `n` is a prime number (trial division; fine for table sizes).
 *
 * @example
 * ```ts
 * isPrime(65537); // true
 * isPrime(65536); // false
 * ```
 */
export function isPrime(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/**
 * Options of a {@link MaglevHash}.
 *
 * @example
 * ```ts
 * const options: MaglevHashOptions = { tableSize: 65537, nodes: ['a', 'b', { name: 'c', weight: 2 }] };
 * ```
 */
export interface MaglevHashOptions {
  /**
   * Lookup-table entries, M: a prime in [2, 5000011], greater than the number of nodes. Larger tables balance
   * better and move fewer keys on a membership change, at M × 4 bytes and O(M log M) build time. The Maglev
   * paper recommends M > 100 × N (each node then gets within about 1% of M/N entries).
   * @default 65537 (Envoy's default)
   */
  tableSize?: number;
  /** The initial nodes: names (weight 1) or `{ name, weight }`. @default [] */
  nodes?: readonly (string | PlacementNode)[];
}

/** Every key of {@link MaglevHashOptions}. @internal */
export const MAGLEV_KEYS = optionKeys<MaglevHashOptions>()({ tableSize: true, nodes: true });

/**
 * Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI '16,
 * §3.4), as Envoy's `MAGLEV` load balancer builds it. Every node has a permutation of the table slots, from
 * offset = xxHash64(name, seed 0) mod M and skip = xxHash64(name, seed 1) mod (M − 1) + 1 (slot j of the
 * permutation is (offset + j × skip) mod M); nodes then take turns claiming their next free slot until the table
 * is full. A key goes to `table[xxHash64(key) mod M]`: one hash and one array read.
 *
 * Nodes take turns in name order (Envoy sorts by host key too), so the table depends only on the node set.
 * Weights follow Envoy: on turn t a node of weight w claims a slot only if t × w >= its running target, which
 * grows by the largest weight each time it claims, so shares are proportional to weight and every node gets at
 * least one slot (weights 1 and 2 in a 65537 table: 21846 and 43691 entries, as Envoy documents). Envoy
 * normalizes the weights to doubles first; with integer weights these comparisons are exact, so the tables agree.
 *
 * Unweighted, the entry counts of any two nodes differ by at most one (near-perfect balance). The price is
 * disruption slightly above the minimum: when a node joins or leaves, a few keys also move between nodes that
 * did not change (measured: about 1/(N+1) plus a few percent; see docs/components/hashing.md).
 *
 * @example
 * ```ts
 * const maglev = new MaglevHash({ nodes: ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'] });
 * maglev.lookup('user:42'); // e.g. '10.0.0.2:80'
 * maglev.tableCounts();     // Map { '10.0.0.1:80' => 21846, '10.0.0.2:80' => 21846, '10.0.0.3:80' => 21845 }
 * ```
 */
export class MaglevHash extends PlacementBase {
  readonly kind = 'maglev' as const;
  /** The number of table entries, M. */
  readonly tableSize: number;
  private readonly perms = new Map<string, readonly [offset: number, skip: number]>();
  private table: Int32Array | null = null;
  private counts = new Uint32Array(0);
  private marks = new Uint32Array(0);
  private epoch = 0;
  private readonly keyHash = new Uint32Array(2);

  /**
   * @param options - the table size and the initial nodes; unknown keys and bad values throw
   *   INVALID_ARGUMENT
   * @param where - who configures the placement, for error messages @internal
   */
  constructor(options: MaglevHashOptions = {}, where: Owner = owner('MaglevHash')) {
    super('MaglevHash', where);
    requireOptions(where, options, MAGLEV_KEYS);
    this.tableSize = options.tableSize ?? MAGLEV_DEFAULT_TABLE_SIZE;
    if (!isPrime(this.tableSize) || this.tableSize > MAGLEV_MAX_TABLE_SIZE) {
      throw invalidOption(where, 'tableSize', options.tableSize, `a prime in [2, ${MAGLEV_MAX_TABLE_SIZE}]`);
    }
    this.addInitial(options.nodes);
  }

  protected override checkAdd(node: string): void {
    if (this.size + 1 >= this.tableSize) {
      throw invalidOption(
        this.where,
        'tableSize',
        this.tableSize,
        `a prime greater than the node count (${this.size + 1} with ${showValue(node)})`,
      );
    }
  }

  protected override onAdd(node: string): void {
    const m = this.tableSize;
    const h = this.keyHash;
    xxHash64Into(node, h, 0);
    const offset = mod64(h[0]!, h[1]!, m);
    xxHash64Into(node, h, 1);
    const skip = mod64(h[0]!, h[1]!, m - 1) + 1;
    this.perms.set(node, [offset, skip]);
  }

  protected override onRemove(node: string): void {
    this.perms.delete(node);
  }

  protected rebuild(): void {
    const names = this.sorted;
    const n = names.length;
    const m = this.tableSize;
    this.counts = new Uint32Array(n);
    this.marks = new Uint32Array(n);
    this.epoch = 0;
    if (n === 0) {
      this.table = null;
      return;
    }
    const table = this.table ?? new Int32Array(m);
    table.fill(-1);
    const pos = new Float64Array(n);
    const skip = new Float64Array(n);
    const weight = new Float64Array(n);
    const target = new Float64Array(n);
    let maxWeight = 0;
    for (let i = 0; i < n; i++) {
      const name = names[i]!;
      const [o, s] = this.perms.get(name)!;
      pos[i] = o;
      skip[i] = s;
      weight[i] = this.weights.get(name)!;
      if (weight[i]! > maxWeight) maxWeight = weight[i]!;
    }
    const counts = this.counts;
    let filled = 0;
    for (let turn = 1; filled < m; turn++) {
      for (let i = 0; i < n && filled < m; i++) {
        if (turn * weight[i]! < target[i]!) continue;
        target[i] = target[i]! + maxWeight;
        const s = skip[i]!;
        let c = pos[i]!;
        while (table[c] !== -1) {
          c += s;
          if (c >= m) c -= m;
        }
        table[c] = i;
        c += s;
        pos[i] = c >= m ? c - m : c;
        counts[i] = counts[i]! + 1;
        filled++;
      }
    }
    this.table = table;
  }

  /** The table slot of `key`, xxHash64(key) mod M; -1 when there are no nodes. */
  private slot(key: string): number {
    this.ensure();
    if (this.table === null) return -1;
    const h = this.keyHash;
    xxHash64Into(key, h);
    return mod64(h[0]!, h[1]!, this.tableSize);
  }

  /** The node in the key's table slot; undefined when there are no nodes. */
  lookup(key: string): string | undefined {
    const s = this.slot(key);
    return s < 0 ? undefined : this.sorted[this.table![s]!];
  }

  /**
   * The owner of the key's slot, then the owners of the following slots (wrapping) that are not yet taken, until
   * `n` distinct nodes. Not part of the paper (Maglev picks one backend); a deterministic fallback and replica
   * order whose later entries are spread evenly over the other nodes, since the table interleaves them.
   */
  lookupN(key: string, n: number): string[] {
    checkCount(this.where, n);
    const start = this.slot(key);
    const out: string[] = [];
    if (start < 0 || n === 0) return out;
    const want = Math.min(n, this.sorted.length);
    if (++this.epoch === 0xffffffff) {
      this.marks.fill(0);
      this.epoch = 1;
    }
    const epoch = this.epoch;
    const marks = this.marks;
    const table = this.table!;
    const m = this.tableSize;
    for (let k = 0, i = start; k < m && out.length < want; k++) {
      const o = table[i]!;
      if (marks[o] !== epoch) {
        marks[o] = epoch;
        out.push(this.sorted[o]!);
      }
      if (++i === m) i = 0;
    }
    return out;
  }

  /**
   * The node in table slot `slot` (an integer in [0, tableSize)); undefined when there are no nodes. For
   * inspecting or drawing the table; {@link MaglevHash.lookup} reads slot xxHash64(key) mod M.
   *
   * @example
   * ```ts
   * maglev.slotOwner(0); // e.g. '10.0.0.3:80'
   * ```
   */
  slotOwner(slot: number): string | undefined {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.tableSize) {
      throw invalidOption(this.where, 'slot', slot, `an integer in [0, ${this.tableSize})`);
    }
    this.ensure();
    return this.table === null ? undefined : this.sorted[this.table[slot]!];
  }

  /**
   * How many table entries each node holds, sorted by name; the counts sum to `tableSize`. A node's share of keys
   * is its count / M.
   *
   * @example
   * ```ts
   * new MaglevHash({ nodes: [{ name: 'a' }, { name: 'b', weight: 2 }] }).tableCounts(); // Map { 'a' => 21846, 'b' => 43691 }
   * ```
   */
  tableCounts(): Map<string, number> {
    this.ensure();
    const out = new Map<string, number>();
    this.sorted.forEach((name, i) => {
      out.set(name, this.counts[i]!);
    });
    return out;
  }
}
