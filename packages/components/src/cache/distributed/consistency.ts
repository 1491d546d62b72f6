import {
  type Counter,
  checkName,
  invalidArgument,
  type Network,
  optionKeys,
  owner,
  requireOptions,
  type Simulation,
} from '@dsim/core';

/**
 * A value as a {@link DistributedCache} stores it on a cache server: the caller's value and the version of
 * the write that produced it. The servers keep it as an opaque value; only the client unwraps it.
 *
 * @example
 * ```ts
 * const stored = new Versioned({ name: 'Ada' }, 7);
 * stored.version; // 7
 * ```
 */
export class Versioned<V = unknown> {
  constructor(
    /** The caller's value. */
    readonly value: V,
    /** The write's version: higher is newer. */
    readonly version: number,
  ) {}
}

/**
 * Options of a {@link CacheConsistency}.
 *
 * @example
 * ```ts
 * const consistency = new CacheConsistency(sim, { name: 'dcache' });
 * ```
 */
export interface CacheConsistencyOptions {
  /**
   * Name for metrics and traces.
   * @default 'dcache'
   */
  name?: string;
}

/** Every key of {@link CacheConsistencyOptions}. @internal */
export const CACHE_CONSISTENCY_KEYS = optionKeys<CacheConsistencyOptions>()({ name: true });

/**
 * Totals of a {@link CacheConsistency}, over every client that shares it.
 *
 * @example
 * ```ts
 * const { staleReads, checkedReads } = consistency.stats;
 * const staleShare = staleReads / checkedReads;
 * ```
 */
export interface CacheConsistencyStats {
  /** Writes recorded as acknowledged: stores a primary acknowledged, and `acknowledge` calls. */
  readonly acknowledgedWrites: number;
  /** Reads that returned a versioned value (hits), the ones checked for staleness. */
  readonly checkedReads: number;
  /** Reads that returned an older version than the latest acknowledged write of the key when they began. */
  readonly staleReads: number;
  /** Reads that returned an older version than the reader's own last acknowledged write of the key. */
  readonly rywViolations: number;
  /** Acknowledged latest versions that a crash left on no node (see {@link CacheConsistency}). */
  readonly lostWrites: number;
  /** Node crashes seen. */
  readonly crashes: number;
}

interface Holding {
  version: number;
  expiresAt: number;
}

/**
 * The consistency oracle shared by the clients of a distributed cache: it knows every acknowledged write
 * (which a real client does not), so it can tell a stale read from a fresh one and count what a crash
 * loses. Give one instance to every {@link DistributedCache} that works on the same data.
 *
 * - **Versions.** Each key's writes carry increasing versions (the caller's, or issued here by
 *   {@link nextVersion}). The latest acknowledged version of a key is the highest a primary acknowledged,
 *   or that {@link acknowledge} recorded (e.g. a database's write).
 * - **Stale read**: a read that returns an older version than the latest acknowledged write of its key
 *   when the read began. A **read-your-writes violation**: older than the reading client's own last
 *   acknowledged write of the key.
 * - **Lost write**: when a node that does not persist its data crashes, each key whose latest acknowledged
 *   version it held, unexpired, while no other node held that version (or a newer one): a write that was
 *   acknowledged and whose every copy is gone (an asynchronous replica had not received it yet, or there was
 *   no replica). The copies are those the servers acknowledged; the oracle does not see evictions, so with
 *   evicting caches the count is an upper bound. Entries past the TTL the client stored them with are not
 *   counted. With cache-aside the database still holds the data: the count is what the crash took from the
 *   cache.
 *
 * Records under its name the counter `dcache.lost-writes`; with tracing on, a `@dsim.dcache.lost-writes`
 * record per crash.
 *
 * @example
 * ```ts
 * const consistency = new CacheConsistency(sim);
 * const a = new DistributedCache(endpointA, { nodes, replicas: 2, consistency });
 * const b = new DistributedCache(endpointB, { nodes, replicas: 2, consistency });
 * // ... run ...
 * consistency.stats.staleReads;
 * ```
 */
export class CacheConsistency {
  readonly name: string;
  private readonly latestVersions = new Map<string, number>();
  private readonly issued = new Map<string, number>();
  private readonly holdings = new Map<string, Map<string, Holding>>();
  private readonly persistent = new Map<string, boolean>();
  private counts = {
    acknowledgedWrites: 0,
    checkedReads: 0,
    staleReads: 0,
    rywViolations: 0,
    lostWrites: 0,
    crashes: 0,
  };
  private readonly lostCounter: Counter;

  constructor(
    readonly sim: Simulation,
    options: CacheConsistencyOptions = {},
  ) {
    const where = owner('CacheConsistency');
    requireOptions(where, options, CACHE_CONSISTENCY_KEYS);
    this.name = checkName(where, 'name', options.name, 'dcache');
    this.lostCounter = sim.metrics.counter(this.name, 'dcache.lost-writes');
  }

  /** A snapshot of the totals. */
  get stats(): CacheConsistencyStats {
    return { ...this.counts };
  }

  /** The latest acknowledged version of `key`, or undefined when none was acknowledged. */
  latest(key: string): number | undefined {
    return this.latestVersions.get(key);
  }

  /**
   * A new version for a write of `key`: one more than any issued or acknowledged so far. Used when the
   * caller gives none.
   */
  nextVersion(key: string): number {
    const v = Math.max(this.issued.get(key) ?? 0, this.latestVersions.get(key) ?? 0) + 1;
    this.issued.set(key, v);
    return v;
  }

  /**
   * Records a write of `key` at `version` as acknowledged (a primary's acknowledgement, or one made
   * elsewhere, e.g. by the database in front of which the cache sits): from now on, reads of an older
   * version are stale.
   */
  acknowledge(key: string, version: number): void {
    checkVersion(`cache consistency ${this.name}: version`, version);
    this.counts.acknowledgedWrites++;
    const latest = this.latestVersions.get(key);
    if (latest === undefined || version > latest) this.latestVersions.set(key, version);
  }

  /**
   * Watches `address` for crashes (once per node): a crash that loses the node's data counts lost writes.
   * @internal
   */
  watch(network: Network, address: string, persistent: boolean): void {
    if (this.persistent.has(address)) return;
    this.persistent.set(address, persistent);
    network.node(address).onCrash(() => this.crashed(address));
  }

  /** Records that `node` acknowledged holding `version` of `key` until `expiresAt`. @internal */
  held(node: string, key: string, version: number, expiresAt: number): void {
    let mine = this.holdings.get(node);
    if (mine === undefined) {
      mine = new Map();
      this.holdings.set(node, mine);
    }
    const h = mine.get(key);
    if (h === undefined) mine.set(key, { version, expiresAt });
    else {
      h.version = version;
      h.expiresAt = expiresAt;
    }
  }

  /** Records that `node` no longer holds `key` (a delete or a negative entry). @internal */
  released(node: string, key: string): void {
    this.holdings.get(node)?.delete(key);
  }

  /** Counts a checked read. @internal */
  noteRead(stale: boolean, ryw: boolean): void {
    this.counts.checkedReads++;
    if (stale) this.counts.staleReads++;
    if (ryw) this.counts.rywViolations++;
  }

  private crashed(address: string): void {
    this.counts.crashes++;
    if (this.persistent.get(address) === true) return;
    const mine = this.holdings.get(address) ?? new Map<string, Holding>();
    const now = this.sim.now;
    let lost = 0;
    for (const [key, h] of mine) {
      if (h.expiresAt <= now) continue;
      const latest = this.latestVersions.get(key);
      if (latest !== undefined && h.version < latest) continue;
      let elsewhere = false;
      for (const [other, theirs] of this.holdings) {
        if (other === address) continue;
        const o = theirs.get(key);
        if (o !== undefined && o.version >= h.version && o.expiresAt > now) {
          elsewhere = true;
          break;
        }
      }
      if (!elsewhere) lost++;
    }
    mine.clear();
    this.counts.lostWrites += lost;
    this.lostCounter.inc(lost);
    if (this.sim.tracing)
      this.sim.emit('@dsim.dcache.lost-writes', { cache: this.name, node: address, lost });
  }
}

/** Throws unless `version` is a finite number. @internal */
export function checkVersion(field: string, version: unknown): asserts version is number {
  if (typeof version !== 'number' || !Number.isFinite(version))
    throw invalidArgument(field, version, 'a finite number (higher is newer)');
}
