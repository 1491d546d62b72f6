import {
  checkNumber,
  invalidOption,
  type Owner,
  optionKeys,
  owner,
  requireOptions,
  showValue,
} from '@dsim/core';
import { top53, xxHash64Into } from './hash.js';
import { checkCount, PlacementBase, type PlacementNode } from './types.js';

/**
 * The most points a {@link HashRing} may hold: Envoy's `maximum_ring_size` default and limit, 8M (2^23).
 *
 * @example
 * ```ts
 * new HashRing({ vnodes: 1000 }); // up to 8388 nodes of weight 1
 * ```
 */
export const RING_MAX_POINTS = 8_388_608;

const TWO_53 = 9007199254740992;

/**
 * Options of a {@link HashRing}.
 *
 * @example
 * ```ts
 * const options: HashRingOptions = { vnodes: 160, nodes: ['cache-1', 'cache-2', { name: 'cache-3', weight: 2 }] };
 * ```
 */
export interface HashRingOptions {
  /**
   * Points (virtual nodes) per unit of weight: a node of weight w gets max(1, round(vnodes × w)) points. More
   * points balance better (the spread of a node's share shrinks like 1/sqrt(vnodes): about ±10% at 100, ±3% at
   * 1000) and cost memory and build time; lookups stay O(log points). The points of a node depend only on its
   * name and weight, so a node joining or leaving moves exactly the keys it takes or held. An integer in
   * [1, 8388608].
   *
   * 100 matches the usual Karger-style rings (libketama uses 160 per server, Cassandra's vnodes were 256, now
   * 16). Envoy instead sizes the whole ring: `minimum_ring_size` 1024 spread over the hosts, so N equal hosts
   * get ceil(1024 / N) points each; `vnodes: Math.ceil(1024 / N)` reproduces Envoy's default ring exactly, but
   * then every point count changes with N, which moves more keys than necessary on a membership change.
   * @default 100
   */
  vnodes?: number;
  /** The initial nodes: names (weight 1) or `{ name, weight }`. @default [] */
  nodes?: readonly (string | PlacementNode)[];
}

/** Every key of {@link HashRingOptions}. @internal */
export const HASH_RING_KEYS = optionKeys<HashRingOptions>()({ vnodes: true, nodes: true });

/**
 * Consistent hashing on a ring with virtual nodes (Karger et al., STOC '97; the Ketama ring of memcached clients
 * and Envoy's `RING_HASH` load balancer). Each node is hashed onto a 53-bit circle at several points, point i of
 * node `name` at the top 53 bits of xxHash64(`${name}_${i}`), Envoy's host-key format; a key belongs to the first
 * point clockwise from the key's own hash (the first point >= it, wrapping to the smallest). Lookups binary-search
 * a sorted Float64Array of points.
 *
 * Properties (tested): a node joining takes about 1/(N+1) of the keys, all from other nodes, and nothing else
 * moves; a node leaving moves exactly its own keys; each node's share varies around 1/N with a relative spread of
 * about 1/sqrt(vnodes); the ring depends only on the node set, not on the order nodes were added in (points are
 * sorted, ties broken by node name).
 *
 * @example
 * ```ts
 * const ring = new HashRing({ vnodes: 100, nodes: ['cache-1', 'cache-2', 'cache-3'] });
 * ring.lookup('user:42');        // e.g. 'cache-2'
 * ring.lookupN('user:42', 2);    // e.g. ['cache-2', 'cache-3']: owner, then the next distinct node clockwise
 * ring.add('cache-4');           // takes ~1/4 of the keys, from the other three
 * ```
 */
export class HashRing extends PlacementBase {
  readonly kind = 'ring' as const;
  /** Points per unit of weight. */
  readonly vnodes: number;
  private readonly nodePoints = new Map<string, Float64Array>();
  private totalPoints = 0;
  private points = new Float64Array(0);
  private owners = new Uint32Array(0);
  private marks = new Uint32Array(0);
  private epoch = 0;
  private readonly keyHash = new Uint32Array(2);

  /**
   * @param options - points per unit of weight and the initial nodes; unknown keys and bad values throw
   *   INVALID_ARGUMENT
   * @param where - who configures the placement, for error messages @internal
   */
  constructor(options: HashRingOptions = {}, where: Owner = owner('HashRing')) {
    super('HashRing', where);
    requireOptions(where, options, HASH_RING_KEYS);
    this.vnodes = checkNumber(
      where,
      'vnodes',
      options.vnodes,
      { integer: true, min: 1, max: RING_MAX_POINTS },
      100,
    );
    this.addInitial(options.nodes);
  }

  /** How many points the ring holds (the ring size). */
  get ringSize(): number {
    return this.totalPoints;
  }

  /** The number of points a node of `weight` gets. */
  pointsFor(weight: number): number {
    return Math.max(1, Math.round(this.vnodes * weight));
  }

  protected override checkAdd(node: string, weight: number): void {
    const count = this.pointsFor(weight);
    if (this.totalPoints + count > RING_MAX_POINTS) {
      throw invalidOption(
        this.where,
        `points of ${showValue(node)} (vnodes × weight)`,
        count,
        `at most ${RING_MAX_POINTS - this.totalPoints} (${RING_MAX_POINTS} points in all)`,
      );
    }
  }

  protected override onAdd(node: string, weight: number): void {
    const count = this.pointsFor(weight);
    const pts = new Float64Array(count);
    const h = this.keyHash;
    for (let i = 0; i < count; i++) {
      xxHash64Into(`${node}_${i}`, h);
      pts[i] = top53(h[0]!, h[1]!);
    }
    this.nodePoints.set(node, pts);
    this.totalPoints += count;
  }

  protected override onRemove(node: string): void {
    const pts = this.nodePoints.get(node);
    if (pts === undefined) return;
    this.totalPoints -= pts.length;
    this.nodePoints.delete(node);
  }

  protected rebuild(): void {
    const names = this.sorted;
    const total = this.totalPoints;
    const pts = new Float64Array(total);
    const own = new Uint32Array(total);
    let p = 0;
    for (let n = 0; n < names.length; n++) {
      const mine = this.nodePoints.get(names[n]!)!;
      pts.set(mine, p);
      own.fill(n, p, p + mine.length);
      p += mine.length;
    }
    // Sort by point; equal points (a 2^-53 event) go to the node whose name sorts first, so the ring does not
    // depend on insertion order.
    const order = new Uint32Array(total);
    for (let i = 0; i < total; i++) order[i] = i;
    order.sort((a, b) => pts[a]! - pts[b]! || own[a]! - own[b]!);
    this.points = new Float64Array(total);
    this.owners = new Uint32Array(total);
    for (let i = 0; i < total; i++) {
      const j = order[i]!;
      this.points[i] = pts[j]!;
      this.owners[i] = own[j]!;
    }
    this.marks = new Uint32Array(names.length);
    this.epoch = 0;
  }

  /** Index of the first point >= the key's position, wrapping to 0; -1 for an empty ring. */
  private position(key: string): number {
    this.ensure();
    const points = this.points;
    const total = points.length;
    if (total === 0) return -1;
    const h = this.keyHash;
    xxHash64Into(key, h);
    const x = top53(h[0]!, h[1]!);
    let lo = 0;
    let hi = total;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo === total ? 0 : lo;
  }

  /** The node owning the first point clockwise from the key's hash; undefined when the ring is empty. */
  lookup(key: string): string | undefined {
    const i = this.position(key);
    return i < 0 ? undefined : this.sorted[this.owners[i]!];
  }

  /**
   * The owners of the points clockwise from the key's hash, skipping nodes already taken, until `n` distinct
   * nodes (the replica walk of Dynamo-style stores and of Envoy's retries on a ring).
   */
  lookupN(key: string, n: number): string[] {
    checkCount(this.where, n);
    const start = this.position(key);
    const out: string[] = [];
    if (start < 0 || n === 0) return out;
    const want = Math.min(n, this.sorted.length);
    if (++this.epoch === 0xffffffff) {
      this.marks.fill(0);
      this.epoch = 1;
    }
    const epoch = this.epoch;
    const marks = this.marks;
    const owners = this.owners;
    const total = owners.length;
    for (let k = 0, i = start; k < total && out.length < want; k++) {
      const o = owners[i]!;
      if (marks[o] !== epoch) {
        marks[o] = epoch;
        out.push(this.sorted[o]!);
      }
      if (++i === total) i = 0;
    }
    return out;
  }

  /**
   * Each node's share of the hash space (the arcs that end at its points), exactly: the fraction of uniformly
   * hashed keys it owns in expectation. Sorted by name; the shares sum to 1.
   *
   * @example
   * ```ts
   * new HashRing({ nodes: ['a', 'b'] }).shares(); // Map { 'a' => 0.49..., 'b' => 0.50... }
   * ```
   */
  shares(): Map<string, number> {
    this.ensure();
    const out = new Map<string, number>();
    for (const name of this.sorted) out.set(name, 0);
    const points = this.points;
    const total = points.length;
    if (total === 0) return out;
    const acc = new Float64Array(this.sorted.length);
    // The first point also owns the wrap-around arc (last point, 2^53) + [0, first point].
    const first = this.owners[0]!;
    acc[first] = points[0]! + (TWO_53 - points[total - 1]!);
    for (let i = 1; i < total; i++) {
      const o = this.owners[i]!;
      acc[o] = acc[o]! + (points[i]! - points[i - 1]!);
    }
    this.sorted.forEach((name, i) => {
      out.set(name, acc[i]! / TWO_53);
    });
    return out;
  }
}
