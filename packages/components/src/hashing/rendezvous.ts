import { type Owner, optionKeys, owner, requireOptions } from '@dsim/core';
import { mixPair52, xxHash64Into } from './hash.js';
import { checkCount, PlacementBase, type PlacementNode } from './types.js';

const TWO_52 = 4503599627370496;

/**
 * Options of a {@link RendezvousHash}.
 *
 * @example
 * ```ts
 * const options: RendezvousHashOptions = { nodes: ['a', 'b', { name: 'c', weight: 2 }] };
 * ```
 */
export interface RendezvousHashOptions {
  /** The initial nodes: names (weight 1) or `{ name, weight }`. @default [] */
  nodes?: readonly (string | PlacementNode)[];
}

/** Every key of {@link RendezvousHashOptions}. @internal */
export const RENDEZVOUS_KEYS = optionKeys<RendezvousHashOptions>()({ nodes: true });

/**
 * Rendezvous, or highest-random-weight (HRW), hashing (Thaler & Ravishankar, "Using name-based mappings to
 * increase hit rates", IEEE/ACM ToN 1998): every node scores every key with a hash of the pair, and the
 * highest score wins. No table and no tuning: balance is as good as the hash (binomial spread only) and a
 * membership change moves exactly the keys won or lost by that node; the price is O(N) work per lookup (a few
 * tens of nanoseconds per node).
 *
 * The pair hash is the xxHash64 avalanche of xxHash64(key) XOR xxHash64(node name), a 64-bit bijective mix.
 * Weights use the logarithmic method (Schindelhauer & Schomaker, "Weighted distributed hash tables", SPAA 2005):
 * score = -weight / ln(u), u the top 52 bits of the pair hash as a number in (0, 1), which gives each node a
 * share exactly proportional to its weight. With equal weights it compares u directly (same winner, no logarithm). Ties (2^-52) go to the node whose name sorts first, so nothing depends on the order
 * nodes were added in.
 *
 * @example
 * ```ts
 * const hrw = new RendezvousHash({ nodes: ['cache-1', 'cache-2', 'cache-3'] });
 * hrw.lookup('user:42');     // e.g. 'cache-3'
 * hrw.lookupN('user:42', 2); // e.g. ['cache-3', 'cache-1']: highest score first
 * ```
 */
export class RendezvousHash extends PlacementBase {
  readonly kind = 'rendezvous' as const;
  private readonly nodeHashes = new Map<string, readonly [number, number]>();
  private hi = new Uint32Array(0);
  private lo = new Uint32Array(0);
  private w = new Float64Array(0);
  private uniform = true;
  private scores = new Float64Array(0);
  private readonly keyHash = new Uint32Array(2);

  /**
   * @param options - the initial nodes; unknown keys and bad values throw INVALID_ARGUMENT
   * @param where - who configures the placement, for error messages @internal
   */
  constructor(options: RendezvousHashOptions = {}, where: Owner = owner('RendezvousHash')) {
    super('RendezvousHash', where);
    requireOptions(where, options, RENDEZVOUS_KEYS);
    this.addInitial(options.nodes);
  }

  protected override onAdd(node: string): void {
    const h = this.keyHash;
    xxHash64Into(node, h);
    this.nodeHashes.set(node, [h[0]!, h[1]!]);
  }

  protected override onRemove(node: string): void {
    this.nodeHashes.delete(node);
  }

  protected rebuild(): void {
    const names = this.sorted;
    const n = names.length;
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.w = new Float64Array(n);
    this.scores = new Float64Array(n);
    this.uniform = true;
    for (let i = 0; i < n; i++) {
      const name = names[i]!;
      const [hi, lo] = this.nodeHashes.get(name)!;
      this.hi[i] = hi;
      this.lo[i] = lo;
      this.w[i] = this.weights.get(name)!;
      if (this.w[i] !== this.w[0]) this.uniform = false;
    }
  }

  /** Fills `scores` for `key`; returns the index of the best node (-1 if none). */
  private score(key: string): number {
    this.ensure();
    const n = this.hi.length;
    if (n === 0) return -1;
    const h = this.keyHash;
    xxHash64Into(key, h);
    const kh = h[0]!;
    const kl = h[1]!;
    const his = this.hi;
    const los = this.lo;
    const scores = this.scores;
    let best = -1;
    let bestScore = -1;
    if (this.uniform) {
      for (let i = 0; i < n; i++) {
        const s = mixPair52(kh, kl, his[i]!, los[i]!);
        scores[i] = s;
        if (s > bestScore) {
          bestScore = s;
          best = i;
        }
      }
    } else {
      const w = this.w;
      for (let i = 0; i < n; i++) {
        const x = mixPair52(kh, kl, his[i]!, los[i]!);
        // u in [2^-53, 1 - 2^-53]: never 0 or 1, so ln(u) is finite and < 0.
        const s = -w[i]! / Math.log((x + 0.5) / TWO_52);
        scores[i] = s;
        if (s > bestScore) {
          bestScore = s;
          best = i;
        }
      }
    }
    return best;
  }

  /** The node with the highest score for `key`; undefined when there are no nodes. */
  lookup(key: string): string | undefined {
    const best = this.score(key);
    return best < 0 ? undefined : this.sorted[best];
  }

  /** The `n` nodes with the highest scores for `key`, best first (ties: name order). */
  lookupN(key: string, n: number): string[] {
    checkCount(this.where, n);
    if (this.score(key) < 0 || n === 0) return [];
    const scores = this.scores;
    const size = scores.length;
    const want = Math.min(n, size);
    let top: number[];
    if (want > 16) {
      top = Array.from({ length: size }, (_, i) => i);
      top.sort((a, b) => scores[b]! - scores[a]! || a - b);
      top.length = want;
    } else {
      // Insertion into a short sorted list: O(size × want), no allocation beyond the result.
      top = [];
      for (let i = 0; i < size; i++) {
        const s = scores[i]!;
        if (top.length === want && s <= scores[top[want - 1]!]!) continue;
        let j = top.length < want ? top.length : want - 1;
        while (j > 0 && scores[top[j - 1]!]! < s) {
          top[j] = top[j - 1]!;
          j--;
        }
        top[j] = i;
      }
    }
    return top.map((i) => this.sorted[i]!);
  }
}
