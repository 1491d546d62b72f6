import type { RandomStream } from '@dsim/core';
import { checkBoolean, invalidOption, type Owner } from '@dsim/core';
import { CountMinSketch, hashKey } from './count-min-sketch.js';
import { ListNode, NodeList } from './node-list.js';
import { badSize, checkContext, checkPolicyOptions, policyOwner } from './shared.js';
import type { EvictionContext, EvictionPolicy } from './types.js';

// Region ids, also the index of the region's list in WTinyLfuPolicy.lists.
const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;
const REGION_NAMES = ['window', 'probation', 'protected'] as const;
/** Nodes kept for reuse after a removal or eviction. */
const POOL_MAX = 16;

/** A candidate at least this frequent that loses to its victim is still admitted with probability 1/128. */
export const ADMIT_HASHDOS_THRESHOLD = 6;
/** Probability of that random admission (Caffeine draws `random & 127 == 0`). */
const ADMIT_HASHDOS_PROBABILITY = 1 / 128;
/** Hill climber: a step moves this fraction of the capacity between the window and main. */
const CLIMBER_STEP_FRACTION = 0.0625;
/** Hill climber: a step shrinks by this factor while the hit ratio changes little. */
const CLIMBER_STEP_DECAY = 0.98;
/** Hill climber: a hit-ratio change at least this large restarts with a full step. */
const CLIMBER_RESTART_THRESHOLD = 0.05;
/** Hill climber: reads per sample, per unit of capacity. */
const CLIMBER_SAMPLE_FACTOR = 10;

/** A resident key, with its sketch hash; `list` is its region (WINDOW, PROBATION or PROTECTED). */
class TlNode extends ListNode {
  constructor(
    key: string,
    public hash: number,
    size: number,
  ) {
    super(key, size);
  }
}

/** One region's LRU-ordered list. */
type TlList = NodeList<TlNode>;
const regionList = (id: number): TlList => new NodeList(id, new TlNode('', 0, 0));

/**
 * Options of a {@link WTinyLfuPolicy}. `windowPercent` and `protectedPercent` are the fields of the
 * `w-tinylfu` `EvictionSpec`, so a spec can be passed as is.
 *
 * @example
 * ```ts
 * const options: WTinyLfuOptions = { windowPercent: 20, protectedPercent: 80 }; // a recency-heavy workload
 * ```
 */
export interface WTinyLfuOptions {
  /** The spec's kind, if the whole spec is passed. @default 'w-tinylfu' */
  readonly kind?: 'w-tinylfu';
  /**
   * Size of the admission window, in percent of the capacity, a number in [0, 100]. Rounded up to whole
   * units and at least 1 (Caffeine's `maxWindow = max − floor(0.99 · max)`).
   * @default 1
   */
  readonly windowPercent?: number;
  /**
   * Size of the protected segment, in percent of the main region (capacity − window), a number in
   * [0, 100]; rounded down. The rest of main is probation.
   * @default 80
   */
  readonly protectedPercent?: number;
  /**
   * Caffeine's defence against hash flooding: a candidate whose estimated frequency is at least
   * {@link ADMIT_HASHDOS_THRESHOLD} and that loses to the victim is still admitted with probability
   * 1/128, drawn from the context's random stream.
   * @default true
   */
  readonly randomAdmission?: boolean;
  /**
   * Adapt the window size with a hill climber (after Caffeine): every 10 × capacity reads, compare the
   * sample's hit ratio with the previous one, keep moving the window boundary in the same direction if
   * it improved and reverse it if not; the step starts at 6.25% of the capacity (first towards a smaller
   * window), decays by 0.98 per sample and restarts at full size when the hit ratio moves by 5 points.
   * Off: the window stays at `windowPercent`.
   * @default false
   */
  readonly hillClimber?: boolean;
}

/**
 * W-TinyLFU, Caffeine's eviction policy (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache
 * Admission Policy", ACM ToS 2017). Three LRU-ordered regions:
 *
 * - the **admission window** (1% of the capacity by default, at least one unit): every new key enters
 *   here, so recency bursts get a chance;
 * - the **main** region, a segmented LRU: **probation** and **protected** (80% of main by default).
 *
 * When the window overflows, its LRU key becomes the *candidate* for main. If the cache has room it goes
 * to probation; otherwise it duels probation's LRU key (the *victim*; protected's LRU key when probation
 * is empty): the candidate is admitted, and the victim evicted, only if its estimated frequency is
 * strictly higher, else the candidate is evicted. A hit in probation promotes the key to protected,
 * whose LRU keys fall back to probation's MRU end when protected exceeds its size. Frequencies come from
 * a {@link CountMinSketch} (4-bit counters, depth 4, halved every 10 × capacity increments).
 *
 * **What counts as an access**: `onHit`, `onMiss` and an overwriting `put` increment the key's frequency.
 * The `put` that inserts a new key does not: the read miss that precedes it in cache-aside use has
 * already counted (counting both would double every miss, also when loads of other keys interleave).
 * A key only ever written, never read, therefore starts at frequency 0.
 *
 * **Window size**: fixed at `windowPercent` unless `hillClimber` is on. **Sizes**: regions and limits are
 * in units, like Caffeine's weighted mode; a candidate larger than the victim may evict several victims,
 * each duel on frequency alone. Expiry times are ignored (the cache drops expired keys through `remove`).
 * O(1) per operation; no allocation on a hit.
 *
 * @example
 * ```ts
 * const policy = new WTinyLfuPolicy({ windowPercent: 1 }, { capacity: 1000, rng: sim.rng('cache/evict') });
 * const evicted: string[] = [];
 * policy.onMiss('k', sim.now);
 * policy.put('k', 1, Infinity, sim.now, evicted); // 'k' enters the window
 * ```
 */
export class WTinyLfuPolicy implements EvictionPolicy {
  readonly kind = 'w-tinylfu' as const;
  readonly capacity: number;
  /** The frequency sketch that decides admission. */
  readonly sketch: CountMinSketch;
  /** Whether losing candidates of frequency >= 6 are admitted with probability 1/128. */
  readonly randomAdmission: boolean;
  /** Whether the window size adapts. */
  readonly hillClimber: boolean;
  private readonly rng: RandomStream;
  private readonly initialWindow: number;
  private readonly initialProtected: number;
  private windowLimit: number;
  private protectedLimit: number;
  private readonly window = regionList(WINDOW);
  private readonly probation = regionList(PROBATION);
  private readonly protected = regionList(PROTECTED);
  /** The regions by id. */
  private readonly lists: readonly TlList[] = [this.window, this.probation, this.protected];
  private readonly nodes = new Map<string, TlNode>();
  private readonly pool: TlNode[] = [];
  /** The last key `onMiss` hashed, so that the `put` that follows does not hash it again. */
  private lastMissKey: string | undefined = undefined;
  private lastMissHash = 0;
  // Hill climber state.
  private sampleHits = 0;
  private sampleMisses = 0;
  private previousHitRatio = 0;
  private step: number;

  /**
   * @param options - region sizes and switches; a `w-tinylfu` `EvictionSpec` works as is
   * @param ctx - the capacity (units, an integer >= 1) and the random stream of the random admission
   * @param where - who configures the policy, for error messages @internal
   */
  constructor(options: WTinyLfuOptions, ctx: EvictionContext, where: Owner = policyOwner('WTinyLfuPolicy')) {
    checkPolicyOptions('w-tinylfu', options, where);
    checkContext('w-tinylfu', ctx, where);
    const { capacity, rng } = ctx;
    const windowPercent = options.windowPercent ?? 1;
    if (typeof windowPercent !== 'number' || !(windowPercent >= 0 && windowPercent <= 100))
      throw invalidOption(where, 'windowPercent', options.windowPercent, 'a number in [0, 100] (w-tinylfu)');
    const protectedPercent = options.protectedPercent ?? 80;
    if (typeof protectedPercent !== 'number' || !(protectedPercent >= 0 && protectedPercent <= 100))
      throw invalidOption(
        where,
        'protectedPercent',
        options.protectedPercent,
        'a number in [0, 100] (w-tinylfu)',
      );
    const randomAdmission = checkBoolean(where, 'randomAdmission', options.randomAdmission, true);
    const hillClimber = checkBoolean(where, 'hillClimber', options.hillClimber, false);
    this.capacity = capacity;
    this.rng = rng;
    this.randomAdmission = randomAdmission;
    this.hillClimber = hillClimber;
    this.initialWindow = Math.min(capacity, Math.max(1, Math.ceil((capacity * windowPercent) / 100)));
    this.initialProtected = Math.floor(((capacity - this.initialWindow) * protectedPercent) / 100);
    this.windowLimit = this.initialWindow;
    this.protectedLimit = this.initialProtected;
    this.step = -CLIMBER_STEP_FRACTION * capacity;
    this.sketch = new CountMinSketch(capacity);
  }

  /** Units resident now. */
  get used(): number {
    return this.window.units + this.probation.units + this.protected.units;
  }

  /** Keys resident now. */
  get count(): number {
    return this.window.length + this.probation.length + this.protected.length;
  }

  /** Size of the admission window, in units (changes only with the hill climber). */
  get windowMax(): number {
    return this.windowLimit;
  }

  /** Size of the main region (probation and protected), in units: `capacity − windowMax`. */
  get mainMax(): number {
    return this.capacity - this.windowLimit;
  }

  /** Size of the protected segment, in units. */
  get protectedMax(): number {
    return this.protectedLimit;
  }

  /** Whether `key` is resident (in any region). */
  has(key: string): boolean {
    return this.nodes.has(key);
  }

  /** The region a resident key is in, or undefined. */
  regionOf(key: string): 'window' | 'probation' | 'protected' | undefined {
    const node = this.nodes.get(key);
    return node === undefined ? undefined : REGION_NAMES[node.list];
  }

  /** The sketch's frequency estimate for `key`, 0 to 15. */
  frequency(key: string): number {
    const node = this.nodes.get(key);
    return this.sketch.frequency(node === undefined ? hashKey(key) : node.hash);
  }

  /** Counts the access and moves the key up: window MRU, probation to protected, protected MRU. */
  onHit(key: string, _now: number): void {
    const node = this.nodes.get(key);
    if (node === undefined) return;
    this.sketch.increment(node.hash);
    this.touch(node);
    if (this.hillClimber) {
      this.sampleHits++;
      this.sample();
    }
  }

  /** Counts the access in the sketch. */
  onMiss(key: string, _now: number): void {
    const hash = hashKey(key);
    this.lastMissKey = key;
    this.lastMissHash = hash;
    this.sketch.increment(hash);
    if (this.hillClimber) {
      this.sampleMisses++;
      this.sample();
    }
  }

  /**
   * Inserts `key` into the window (an overwrite counts as an access and keeps the key's region), then
   * restores the limits through admission duels. Evicted keys, including a refused candidate or a key
   * larger than the capacity, are pushed into `evicted`.
   */
  put(key: string, size: number, _expiresAt: number, _now: number, evicted: string[]): void {
    if (!(size > 0 && size < Infinity)) throw badSize('w-tinylfu', key, size);
    let node = this.nodes.get(key);
    if (size > this.capacity) {
      if (node !== undefined) this.forget(node);
      evicted.push(key);
      return;
    }
    if (node !== undefined) {
      // An overwrite: an access, with a new size.
      this.sketch.increment(node.hash);
      const list = this.lists[node.list]!;
      list.unlink(node);
      node.size = size;
      list.pushMru(node);
      this.touch(node);
      this.demoteProtected(); // a protected key may have grown
      this.evict(evicted);
      return;
    }
    const hash = key === this.lastMissKey ? this.lastMissHash : hashKey(key);
    node = this.pool.pop();
    if (node === undefined) node = new TlNode(key, hash, size);
    else {
      node.key = key;
      node.hash = hash;
      node.size = size;
    }
    this.nodes.set(key, node);
    this.window.pushMru(node);
    this.evict(evicted);
  }

  /** Forgets a resident key; a no-op for an absent one. The sketch keeps its counts. */
  remove(key: string): void {
    const node = this.nodes.get(key);
    if (node !== undefined) this.forget(node);
  }

  /** Forgets every key and every count; the window returns to its initial size. */
  clear(): void {
    this.nodes.clear();
    for (const list of this.lists) list.reset();
    this.sketch.clear();
    this.lastMissKey = undefined;
    this.windowLimit = this.initialWindow;
    this.protectedLimit = this.initialProtected;
    this.sampleHits = 0;
    this.sampleMisses = 0;
    this.previousHitRatio = 0;
    this.step = -CLIMBER_STEP_FRACTION * this.capacity;
  }

  /** The regions' keys from LRU to MRU; allocates, for tests and debugging. */
  snapshot(): { window: string[]; probation: string[]; protected: string[] } {
    return { window: this.window.keys(), probation: this.probation.keys(), protected: this.protected.keys() };
  }

  /** Reorders a resident key after an access. */
  private touch(node: TlNode): void {
    const region = node.list;
    if (region === PROBATION) {
      this.probation.unlink(node);
      this.protected.pushMru(node);
      this.demoteProtected();
    } else {
      const list = this.lists[region]!;
      if (list.head.prev === node) return; // already MRU
      list.unlink(node);
      list.pushMru(node);
    }
  }

  /** Moves protected's LRU keys to probation's MRU end while protected is over its size. */
  private demoteProtected(): void {
    const prot = this.protected;
    while (prot.units > this.protectedLimit && prot.length > 0) {
      const node = prot.lru();
      prot.unlink(node);
      this.probation.pushMru(node);
    }
  }

  /**
   * Restores the limits: window overflow goes to main through admission duels; whatever is still over
   * the capacity (after an overwrite grew, or while the window is below its size) leaves from
   * probation's LRU end, then protected's, then the window's.
   */
  private evict(evicted: string[]): void {
    const { window, probation } = this;
    const prot = this.protected;
    const capacity = this.capacity;
    while (window.units > this.windowLimit) {
      const candidate = window.lru();
      window.unlink(candidate);
      let admitted = true;
      while (this.used + candidate.size > capacity) {
        const victim = probation.length > 0 ? probation.lru() : prot.length > 0 ? prot.lru() : undefined;
        if (victim === undefined) break;
        if (this.admit(candidate, victim)) {
          this.evictNode(victim, evicted);
        } else {
          admitted = false;
          this.nodes.delete(candidate.key);
          evicted.push(candidate.key);
          this.recycle(candidate);
          break;
        }
      }
      if (admitted) probation.pushMru(candidate);
    }
    while (this.used > capacity) {
      const from = probation.length > 0 ? probation : prot.length > 0 ? prot : window;
      this.evictNode(from.lru(), evicted);
    }
  }

  /** TinyLFU's admission: the candidate must be strictly more frequent than the victim. */
  private admit(candidate: TlNode, victim: TlNode): boolean {
    const candidateFreq = this.sketch.frequency(candidate.hash);
    if (candidateFreq > this.sketch.frequency(victim.hash)) return true;
    return (
      this.randomAdmission &&
      candidateFreq >= ADMIT_HASHDOS_THRESHOLD &&
      this.rng.next() < ADMIT_HASHDOS_PROBABILITY
    );
  }

  private evictNode(node: TlNode, evicted: string[]): void {
    evicted.push(node.key);
    this.forget(node);
  }

  private forget(node: TlNode): void {
    this.lists[node.list]!.unlink(node);
    this.nodes.delete(node.key);
    this.recycle(node);
  }

  private recycle(node: TlNode): void {
    if (this.pool.length < POOL_MAX) {
      node.key = '';
      this.pool.push(node);
    }
  }

  /** Hill climber: at the end of a sample, moves the window boundary. */
  private sample(): void {
    const requests = this.sampleHits + this.sampleMisses;
    if (requests < CLIMBER_SAMPLE_FACTOR * this.capacity) return;
    const hitRatio = this.sampleHits / requests;
    const change = hitRatio - this.previousHitRatio;
    const amount = change >= 0 ? this.step : -this.step;
    this.step =
      Math.abs(change) >= CLIMBER_RESTART_THRESHOLD
        ? CLIMBER_STEP_FRACTION * this.capacity * (amount >= 0 ? 1 : -1)
        : CLIMBER_STEP_DECAY * amount;
    this.previousHitRatio = hitRatio;
    this.sampleHits = 0;
    this.sampleMisses = 0;
    const units = Math.trunc(amount);
    if (units > 0) this.growWindow(units);
    else if (units < 0) this.shrinkWindow(-units);
  }

  /**
   * Moves `units` of capacity from protected to the window. Nothing is moved now: new keys fill the
   * window and main's coldest keys leave as the cache overflows.
   */
  private growWindow(units: number): void {
    const q = Math.min(units, this.protectedLimit);
    this.windowLimit += q;
    this.protectedLimit -= q;
    this.demoteProtected();
  }

  /** Moves `units` of capacity from the window to protected; the window's LRU keys go to probation. */
  private shrinkWindow(units: number): void {
    const q = Math.min(units, this.windowLimit - 1);
    if (q <= 0) return;
    this.windowLimit -= q;
    this.protectedLimit += q;
    const { window, probation } = this;
    while (window.units > this.windowLimit) {
      const node = window.lru();
      window.unlink(node);
      probation.pushMru(node);
    }
  }
}
