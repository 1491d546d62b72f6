import type { Owner } from '@dsim/core';
import { ListNode, NodeList } from './node-list.js';
import { badSize, checkContext, checkPolicyOptions, policyOwner } from './shared.js';
import type { EvictionContext, EvictionPolicy } from './types.js';

// List ids, also the index of the list in ArcPolicy.lanes.
const T1 = 0;
const B1 = 1;
const T2 = 2;
const B2 = 3;
/** Ghost nodes kept for reuse: one is usually enough (a dropped ghost makes room for a new key). */
const POOL_MAX = 16;

/** A key in one of ARC's four lists; `list` is T1, B1, T2 or B2. */
class ArcNode extends ListNode {
  /** The ghost hit of this node already moved the target (see {@link ArcPolicy.onMiss}). */
  adapted = false;
}

/** One of T1, B1, T2, B2. */
type ArcList = NodeList<ArcNode>;
const arcList = (id: number): ArcList => new NodeList(id, new ArcNode('', 0));

/**
 * Options of {@link ArcPolicy}: none (ARC tunes itself). The `kind` may be given, so that a whole
 * `{ kind: 'arc' }` spec can be passed.
 *
 * @example
 * ```ts
 * const options: ArcOptions = { kind: 'arc' };
 * ```
 */
export interface ArcOptions {
  /** The spec's kind, if the whole spec is passed. @default 'arc' */
  readonly kind?: 'arc';
}

/**
 * The state of an {@link ArcPolicy}, for tests and debugging: each list's keys from least to most
 * recently used, and the target size `p` of T1.
 *
 * @example
 * ```ts
 * const { t1, t2, b1, b2, p } = arc.snapshot(); // e.g. t1: ['c'], t2: ['a', 'b'], b1: ['d'], b2: [], p: 1
 * ```
 */
export interface ArcSnapshot {
  /** Resident keys seen once recently. */
  readonly t1: readonly string[];
  /** Resident keys seen at least twice recently. */
  readonly t2: readonly string[];
  /** Ghosts: keys recently evicted from T1 (no value kept). */
  readonly b1: readonly string[];
  /** Ghosts: keys recently evicted from T2. */
  readonly b2: readonly string[];
  /** Target size of T1, in units, in [0, capacity]. */
  readonly p: number;
}

/**
 * ARC, the adaptive replacement cache of Megiddo and Modha ("ARC: A Self-Tuning, Low Overhead
 * Replacement Cache", FAST '03). Resident keys are split between T1 (seen once recently) and T2 (seen
 * at least twice); the ghost lists B1 and B2 remember the keys recently evicted from each. A miss on a
 * ghost says which list should have been larger and moves the target size `p` of T1: a B1 ghost hit
 * raises it by `max(|B2|/|B1|, 1)`, a B2 ghost hit lowers it by `max(|B1|/|B2|, 1)` (within [0, c]).
 * REPLACE evicts T1's LRU key into B1 when `|T1| > p`, or `|T1| = p` and the request is a B2 ghost hit,
 * else T2's LRU key into B2. A miss that is no ghost follows the paper's size rules: when
 * `|T1| + |B1| = c` it drops B1's LRU ghost (or, with B1 empty, evicts T1's LRU key outright), and when
 * all four lists hold `2c` it drops B2's LRU ghost. Scan-resistant (one-time keys pass through T1),
 * self-tuning between recency and frequency, O(1) per operation.
 *
 * **Calling convention.** A request is one adaptation: {@link ArcPolicy.onMiss} applies the ghost hit's
 * change of `p` and marks the ghost; the {@link ArcPolicy.put} that loads the key then runs REPLACE and
 * moves it to T2 without adapting again. A `put` of a ghost with no `onMiss` before it (a write) adapts
 * itself. A ghost adapts `p` at most once while it stays a ghost. A miss on a key that is no ghost does
 * nothing until its `put` (the paper's case IV happens at insertion, when room is needed).
 *
 * **Sizes.** With every size 1 (a cache counting entries) this is exactly the paper's ARC(c). Larger
 * sizes are supported by counting units: `|X|` is the units in list X, `c` the capacity in units,
 * REPLACE repeats until the new key fits, a ghost hit moves `p` by its size times the paper's step,
 * and the size rules trim ghosts until `|T1| + |B1| + size <= c` and the four lists total `<= 2c`.
 *
 * **Differences from the paper**, all outside its model: `remove` (delete, expiry) forgets a resident
 * key without making it a ghost, and REPLACE runs only when the resident keys need the room (in the
 * paper the cache is always full once ghosts exist, so both rules agree there). Expiry times are
 * ignored: the cache drops expired keys through `remove`.
 *
 * @example
 * ```ts
 * const arc = new ArcPolicy({}, { capacity: 1000, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * if (arc.has('k')) arc.onHit('k', sim.now);
 * else {
 *   arc.onMiss('k', sim.now);
 *   arc.put('k', 1, Infinity, sim.now, evicted); // evicted: the keys that left to make room
 * }
 * ```
 */
export class ArcPolicy implements EvictionPolicy {
  readonly kind = 'arc' as const;
  /** Capacity `c`, in units. */
  readonly capacity: number;
  private p = 0;
  private readonly t1 = arcList(T1);
  private readonly b1 = arcList(B1);
  private readonly t2 = arcList(T2);
  private readonly b2 = arcList(B2);
  /** The lists by id. */
  private readonly lanes: readonly ArcList[] = [this.t1, this.b1, this.t2, this.b2];
  /** Resident keys and ghosts. */
  private readonly nodes = new Map<string, ArcNode>();
  private readonly pool: ArcNode[] = [];

  /**
   * @param options - none besides an optional `kind: 'arc'` (a whole spec can be passed)
   * @param ctx - the capacity `c` (units, an integer >= 1); ARC draws no random numbers, so `ctx.rng`
   *   is checked but unused
   * @param where - who configures the policy, for error messages @internal
   */
  constructor(options: ArcOptions, ctx: EvictionContext, where: Owner = policyOwner('ArcPolicy')) {
    checkPolicyOptions('arc', options, where);
    checkContext('arc', ctx, where);
    this.capacity = ctx.capacity;
  }

  /** Units resident now (`|T1| + |T2|`). */
  get used(): number {
    return this.t1.units + this.t2.units;
  }

  /** Keys resident now. */
  get count(): number {
    return this.t1.length + this.t2.length;
  }

  /** The adaptive target size `p` of T1, in units, in [0, capacity]. */
  get target(): number {
    return this.p;
  }

  /** Ghost keys remembered now (B1 and B2). */
  get ghosts(): number {
    return this.b1.length + this.b2.length;
  }

  /** Whether `key` is resident (in T1 or T2; a ghost is not). */
  has(key: string): boolean {
    const node = this.nodes.get(key);
    return node !== undefined && (node.list === T1 || node.list === T2);
  }

  /** Case I of the paper: a resident key moves to the MRU end of T2. */
  onHit(key: string, _now: number): void {
    const node = this.nodes.get(key);
    if (node === undefined) return;
    const list = node.list;
    if (list !== T1 && list !== T2) return;
    this.lanes[list]!.unlink(node);
    this.t2.pushMru(node);
  }

  /** A miss on a ghost (cases II and III) moves the target `p`; other misses change nothing. */
  onMiss(key: string, _now: number): void {
    const node = this.nodes.get(key);
    if (node !== undefined && !node.adapted && (node.list === B1 || node.list === B2)) this.adapt(node);
  }

  /**
   * Inserts or overwrites `key`: an overwrite is a hit (case I), a ghost moves to T2 after REPLACE (cases
   * II and III), a new key enters T1 after the size rules and REPLACE (case IV). Evicted keys are pushed
   * into `evicted`; a key larger than the capacity is refused (pushed itself).
   */
  put(key: string, size: number, _expiresAt: number, _now: number, evicted: string[]): void {
    if (!(size > 0 && size < Infinity)) throw badSize('arc', key, size);
    const c = this.capacity;
    let node = this.nodes.get(key);
    const resident = node !== undefined && (node.list === T1 || node.list === T2);
    if (size > c) {
      if (resident) this.forget(node!);
      evicted.push(key);
      return;
    }
    if (resident) {
      // Case I (an overwrite is a hit); a grown entry may push others out.
      const n = node!;
      this.lanes[n.list]!.unlink(n);
      n.size = size;
      this.t2.pushMru(n);
      while (this.used > c) this.replace(false, evicted, n);
      this.trimGhosts();
      return;
    }
    if (node !== undefined) {
      // Cases II and III: a ghost hit. Adapt (unless onMiss did), REPLACE, fetch into T2.
      if (!node.adapted) this.adapt(node);
      const inB2 = node.list === B2;
      this.lanes[node.list]!.unlink(node);
      node.size = size;
      node.adapted = false;
      while (this.used + size > c) this.replace(inB2, evicted, undefined);
      this.t2.pushMru(node);
      this.trimGhosts();
      return;
    }
    // Case IV: a complete miss.
    const { t1, b1, b2 } = this;
    // Case A: L1 = T1 ∪ B1 would exceed c. Drop B1's LRU ghost, or with B1 empty evict T1's LRU key.
    while (t1.units + b1.units + size > c && b1.length > 0) this.dropGhost(b1.lru());
    while (t1.units + size > c) this.evictOutright(t1.lru(), evicted);
    // Case B: the four lists would exceed 2c. Drop B2's LRU ghost.
    while (this.total() + size > 2 * c && b2.length > 0) this.dropGhost(b2.lru());
    while (this.used + size > c) this.replace(false, evicted, undefined);
    node = this.pool.pop();
    if (node === undefined) node = new ArcNode(key, size);
    else {
      node.key = key;
      node.size = size;
      node.adapted = false;
    }
    this.nodes.set(key, node);
    t1.pushMru(node);
  }

  /** Forgets a resident key (it does not become a ghost); ghosts and absent keys are left alone. */
  remove(key: string): void {
    const node = this.nodes.get(key);
    if (node !== undefined && (node.list === T1 || node.list === T2)) this.forget(node);
  }

  /** Forgets every key and ghost; `p` returns to 0. */
  clear(): void {
    this.nodes.clear();
    for (const list of this.lanes) list.reset();
    this.p = 0;
  }

  /** The four lists (LRU to MRU) and `p`; allocates, for tests and debugging. */
  snapshot(): ArcSnapshot {
    return {
      t1: this.t1.keys(),
      t2: this.t2.keys(),
      b1: this.b1.keys(),
      b2: this.b2.keys(),
      p: this.p,
    };
  }

  /** Units in T1, B1, T2 and B2 together. */
  private total(): number {
    return this.t1.units + this.b1.units + this.t2.units + this.b2.units;
  }

  /** The paper's ADAPTATION for a ghost hit, scaled by the ghost's size. */
  private adapt(node: ArcNode): void {
    node.adapted = true;
    const b1 = this.b1.units;
    const b2 = this.b2.units;
    if (node.list === B1) {
      const delta = b1 >= b2 ? 1 : b2 / b1;
      this.p = Math.min(this.p + delta * node.size, this.capacity);
    } else {
      const delta = b2 >= b1 ? 1 : b1 / b2;
      this.p = Math.max(this.p - delta * node.size, 0);
    }
  }

  /**
   * The paper's REPLACE: evicts T1's LRU key into B1 if T1 is not empty and exceeds the target (or meets
   * it on a B2 ghost hit), else T2's LRU key into B2. Takes T1's key instead when T2 is empty or holds
   * only `keep` (a grown overwrite); neither happens in the paper's model.
   */
  private replace(inB2: boolean, evicted: string[], keep: ArcNode | undefined): void {
    const { t1, t2 } = this;
    const t1Units = t1.units;
    let fromT1 = t1.length > 0 && (t1Units > this.p || (inB2 && t1Units === this.p));
    if (!fromT1 && (t2.length === 0 || t2.lru() === keep)) fromT1 = true;
    const from = fromT1 ? t1 : t2;
    const victim = from.lru();
    from.unlink(victim);
    victim.adapted = false;
    (fromT1 ? this.b1 : this.b2).pushMru(victim);
    evicted.push(victim.key);
  }

  /** Keeps `|T1| + |T2| + |B1| + |B2| <= 2c` after an entry grew (only with sizes other than 1). */
  private trimGhosts(): void {
    const limit = 2 * this.capacity;
    while (this.total() > limit) {
      if (this.b2.length > 0) this.dropGhost(this.b2.lru());
      else if (this.b1.length > 0) this.dropGhost(this.b1.lru());
      else break;
    }
  }

  private dropGhost(node: ArcNode): void {
    this.lanes[node.list]!.unlink(node);
    this.nodes.delete(node.key);
    this.recycle(node);
  }

  /** Evicts a resident key without a ghost (case IV A with B1 empty). */
  private evictOutright(node: ArcNode, evicted: string[]): void {
    evicted.push(node.key);
    this.forget(node);
  }

  private forget(node: ArcNode): void {
    this.lanes[node.list]!.unlink(node);
    this.nodes.delete(node.key);
    this.recycle(node);
  }

  private recycle(node: ArcNode): void {
    if (this.pool.length < POOL_MAX) {
      node.key = '';
      this.pool.push(node);
    }
  }
}
