import {
  type Counter,
  checkBoolean,
  checkDistribution,
  checkDuration,
  checkEnum,
  checkFunction,
  checkName,
  constant,
  type Distribution,
  type Gauge,
  type Histogram,
  invalidArgument,
  invalidOption,
  type Network,
  nested,
  type Owner,
  owner,
  type RandomStream,
  type RpcEndpoint,
  requireOptions,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import { createPlacement, type PlacementSpec } from '../hashing/factory.js';
import type { KeyPlacement } from '../hashing/types.js';
import type { CacheAccess, CacheLookup, CacheRequest, CacheStoreOptions } from './cache-access.js';
import { CacheConsistency, checkVersion, Versioned } from './distributed/consistency.js';
import { HealthChecker } from './distributed/health.js';
import {
  DISTRIBUTED_CACHE_KEYS,
  type DistributedCacheOptions,
  type PlacementParams,
  READ_POLICIES,
  type ReadPolicy,
  resolveHealthCheck,
  resolvePlacement,
} from './distributed/options.js';

const ZERO = constant(0);

export {
  CacheConsistency,
  type CacheConsistencyOptions,
  type CacheConsistencyStats,
  Versioned,
} from './distributed/consistency.js';
export {
  type DistributedCacheOptions,
  type DistributedPlacement,
  type HealthCheckOptions,
  READ_POLICIES,
  type ReadPolicy,
} from './distributed/options.js';

/**
 * What a {@link DistributedCache} lookup found: a {@link CacheLookup} plus where it came from.
 *
 * @example
 * ```ts
 * dcache.lookup('user:1').onProcessed((e) => {
 *   const { status, node, version, staleRead } = e.value!;
 * });
 * ```
 */
export interface DistributedLookup<V> extends CacheLookup<V> {
  /** The node that answered; undefined when none did (no members, or every copy failed). */
  readonly node: string | undefined;
  /** The version of the value read, for a versioned entry; undefined otherwise. */
  readonly version: number | undefined;
  /** True when the version is older than the latest acknowledged write of the key when the read began. */
  readonly staleRead: boolean;
}

/**
 * Options of a {@link DistributedCache} store: {@link CacheStoreOptions} plus the write's version.
 *
 * @example
 * ```ts
 * dcache.store('user:1', row, { ttl: 60_000, version: row.version });
 * ```
 */
export interface DistributedStoreOptions extends CacheStoreOptions {
  /**
   * The write's version (higher is newer).
   * @default `versionOf(value)`, else a new version from the consistency oracle
   */
  readonly version?: number;
}

/**
 * A change of a {@link DistributedCache}'s membership.
 *
 * @example
 * ```ts
 * dcache.onMembershipChange((c) => console.log(`${c.at} ms: ${c.node} ${c.change} (${c.reason})`));
 * ```
 */
export interface MembershipChange {
  readonly node: string;
  readonly change: 'removed' | 'added';
  /** `health-check`: the health checks flipped it; `explicit`: `remove()` or `add()`. */
  readonly reason: 'health-check' | 'explicit';
  /** Simulated time (ms). */
  readonly at: number;
  /** The members after the change, in configuration order. */
  readonly members: readonly string[];
}

/**
 * Counters of a {@link DistributedCache}.
 *
 * Conservation: `lookups = hits + misses` once every lookup has answered (a lookup that no copy answered,
 * `errors`, reads as a miss), and `stores = storesAcknowledged + storeErrors`.
 *
 * @example
 * ```ts
 * const { hits, lookups, rerouted } = dcache.stats;
 * ```
 */
export interface DistributedCacheStats {
  readonly lookups: number;
  /** Lookups answered with an entry (`hit`, `stale` or `negative`). */
  readonly hits: number;
  /** Lookups answered `miss`, plus the `errors`. */
  readonly misses: number;
  /** Lookups that no copy answered (every candidate failed or timed out), or with no members. */
  readonly errors: number;
  /** Reads moved on to the next copy after a failure or timeout. */
  readonly failovers: number;
  /** Reads moved on to the next copy after a replica's miss (`missFailover`). */
  readonly missFailovers: number;
  /** Lookups and stores whose key's primary differs from the one this client used for it last time. */
  readonly rerouted: number;
  readonly staleReads: number;
  readonly rywViolations: number;
  readonly stores: number;
  readonly storesAcknowledged: number;
  /** Stores that failed, timed out, were refused, or found no members. */
  readonly storeErrors: number;
  readonly invalidations: number;
  /** Replications (sets and deletes) a replica acknowledged. */
  readonly replications: number;
  /** Replications sent that failed or timed out. */
  readonly replicationErrors: number;
  /** Replications a crash of their primary dropped before they were sent. */
  readonly replicationsDropped: number;
  /** Membership changes. */
  readonly removals: number;
  readonly additions: number;
  /** Members now. */
  readonly members: number;
}

const MISS = Object.freeze({
  status: 'miss' as const,
  value: undefined,
  expiresAt: Infinity,
  delta: 0,
  node: undefined,
  version: undefined,
  staleRead: false,
});

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One lookup's state while it tries the copies. */
interface ReadAttempt<V> {
  readonly key: string;
  readonly lease: boolean;
  readonly order: readonly string[];
  readonly primary: string;
  readonly out: SimEvent<DistributedLookup<V>>;
  readonly started: number;
  /** The latest acknowledged version and this client's own, when the read began. */
  readonly latest: number | undefined;
  readonly own: number | undefined;
}

/**
 * A client-side distributed cache: the keys are sharded over a set of {@link CacheServer} nodes by a key
 * placement (a consistent-hashing ring by default; rendezvous, Maglev or `hash mod N`), the way memcached
 * clients (libketama), twemproxy and Redis Cluster clients spread a key space. It implements
 * {@link CacheAccess}, so {@link CacheAside} and {@link CacheWriter} use it as they use one server.
 *
 * - **Membership.** All `nodes` start as members. `remove()` and `add()` change it by hand; with
 *   `healthCheck`, failed members are removed and recovered ones brought back. Every change re-places the
 *   keys: the keys that move read as misses on their new node (it never held them), a miss storm at the
 *   origin whose size the placement decides (about 1/N of the keys for a ring, (N − 1)/N for modulo).
 *   Until a failed node is removed, its keys' reads time out (`timeout`) and read as misses.
 * - **Replication.** With `replicas: R`, a key lives on `lookupN(key, R)`: writes go to the primary, and
 *   reach the R − 1 replicas `replicationLag` after the primary's acknowledgement (asynchronously, in
 *   order, from the primary's node: a crash of the primary drops what it had not sent). Reads go where
 *   `readPolicy` says and, with `failover`, move on to the next copy when one fails or times out (with
 *   `missFailover`, also when a replica misses). A removed primary's replica becomes the primary, with the
 *   data: no miss storm.
 * - **Consistency.** Values are stored with their version ({@link Versioned}). The {@link CacheConsistency}
 *   oracle counts stale reads (a version older than the latest acknowledged write of the key when the
 *   read began), read-your-writes violations (older than this client's own last acknowledged write) and
 *   writes lost to a crash.
 *
 * Records under its name: counters `dcache.lookups`, `dcache.hits`, `dcache.misses`, `dcache.errors`,
 * `dcache.failovers`, `dcache.miss-failovers`, `dcache.rerouted`, `dcache.stale-reads`,
 * `dcache.ryw-violations`, `dcache.stores`, `dcache.store-errors`, `dcache.replications`,
 * `dcache.replications-dropped`; gauge `dcache.members`; histogram `dcache.latency` (lookups). With
 * tracing on: `@dsim.dcache.membership`, `@dsim.dcache.failover`, `@dsim.dcache.stale-read` and
 * `@dsim.dcache.ryw-violation` records (and the oracle's `@dsim.dcache.lost-writes`).
 *
 * @example
 * ```ts
 * const nodes = ['cache-0', 'cache-1', 'cache-2', 'cache-3'];
 * for (const n of nodes) new CacheServer(net.addNode(n), { capacity: 100_000 });
 * const dcache = new DistributedCache<Row>(new RpcEndpoint(net.addNode('app')), {
 *   nodes,
 *   replicas: 2,
 *   replicationLag: 20,
 *   healthCheck: { interval: '1s', unhealthyThreshold: 3 },
 *   versionOf: (row) => row.version,
 * });
 * const reader = new CacheAside<Row>(sim, { cache: dcache, load: (k) => app.call('db', k) });
 * ```
 */
export class DistributedCache<V> implements CacheAccess<V> {
  readonly name: string;
  /** Copies of each key (primary included). */
  readonly replicas: number;
  readonly readPolicy: ReadPolicy;
  readonly failover: boolean;
  readonly missFailover: boolean;
  /** Timeout of each cache call (ms). */
  readonly timeout: number;
  readonly persistent: boolean;
  readonly consistency: CacheConsistency;
  readonly sim: Simulation;
  private readonly network: Network;
  private readonly where: string;
  private readonly params: PlacementParams;
  /** Who placement errors name: the `placement` option. */
  private readonly placementWhere: Owner;
  private readonly lag: Distribution;
  private readonly versionOf: ((value: V) => number) | undefined;
  private readonly configured: string[] = [];
  private readonly memberSet = new Set<string>();
  private readonly removedByHand = new Set<string>();
  private placement: KeyPlacement;
  private readonly lastPrimary = new Map<string, string>();
  private readonly own = new Map<string, number>();
  /** Due time of the last replication on each primary-to-replica stream, to keep them in order. */
  private readonly streamDue = new Map<string, number>();
  private readonly pending = new Map<string, number>();
  private readonly watched = new Set<string>();
  private readonly health: HealthChecker | undefined;
  private readonly listeners: Array<(change: MembershipChange) => void> = [];
  private readonly pick: RandomStream;
  private readonly lagRng: RandomStream;
  private counts = {
    lookups: 0,
    hits: 0,
    misses: 0,
    errors: 0,
    failovers: 0,
    missFailovers: 0,
    rerouted: 0,
    staleReads: 0,
    rywViolations: 0,
    stores: 0,
    storesAcknowledged: 0,
    storeErrors: 0,
    invalidations: 0,
    replications: 0,
    replicationErrors: 0,
    replicationsDropped: 0,
    removals: 0,
    additions: 0,
  };
  private readonly meters: Record<
    | 'lookups'
    | 'hits'
    | 'misses'
    | 'errors'
    | 'failovers'
    | 'missFailovers'
    | 'rerouted'
    | 'staleReads'
    | 'rywViolations'
    | 'stores'
    | 'storeErrors'
    | 'replications'
    | 'replicationsDropped',
    Counter
  > & { members: Gauge; latency: Histogram };

  /**
   * @param endpoint - the client's RPC endpoint (the cache servers are on its network)
   * @param options - the nodes, placement, replication, reads and health checks; unknown keys (also inside
   *   `placement` and `healthCheck`, with "did you mean") and bad values throw INVALID_ARGUMENT
   */
  constructor(
    readonly endpoint: RpcEndpoint<any, any>,
    options: DistributedCacheOptions<V>,
  ) {
    const where = owner('DistributedCache');
    if (endpoint === null || typeof endpoint !== 'object' || typeof endpoint.call !== 'function')
      throw invalidOption(where, 'endpoint', endpoint, 'an RpcEndpoint (new RpcEndpoint(node))');
    requireOptions(where, options, DISTRIBUTED_CACHE_KEYS);
    this.name = checkName(where, 'name', options.name, 'dcache');
    this.where = `DistributedCache ${this.name}`;
    this.network = endpoint.node.network;
    this.sim = this.network.sim;
    const nodes: unknown = options.nodes;
    if (!Array.isArray(nodes) || nodes.length === 0)
      throw invalidOption(where, 'nodes', nodes, 'a non-empty array of cache server addresses');
    const known = new Set(this.network.addresses);
    nodes.forEach((node: unknown, i) => {
      if (typeof node !== 'string' || !known.has(node))
        throw invalidOption(where, `nodes[${i}]`, node, "an address on the endpoint's network");
      if (this.configured.includes(node))
        throw invalidOption(where, `nodes[${i}]`, node, 'an address not already in nodes');
      this.configured.push(node);
      this.memberSet.add(node);
    });
    this.replicas = options.replicas ?? 1;
    if (!Number.isInteger(this.replicas) || this.replicas < 1 || this.replicas > nodes.length)
      throw invalidOption(
        where,
        'replicas',
        options.replicas,
        `an integer in [1, ${nodes.length}] (the number of nodes)`,
      );
    this.readPolicy = checkEnum(where, 'readPolicy', options.readPolicy, READ_POLICIES, 'primary');
    this.failover = checkBoolean(where, 'failover', options.failover, true);
    this.missFailover = checkBoolean(where, 'missFailover', options.missFailover, false);
    this.persistent = checkBoolean(where, 'persistent', options.persistent, false);
    this.timeout = checkDuration(where, 'timeout', options.timeout, { positive: true }, 100);
    this.lag = checkDistribution(
      where,
      'replicationLag',
      options.replicationLag,
      'exponential({ mean: 20 })',
      { infinity: true },
      ZERO,
    );
    this.versionOf =
      options.versionOf === undefined
        ? undefined
        : checkFunction(where, 'versionOf', options.versionOf, '(value) => version');
    if (options.consistency !== undefined && !(options.consistency instanceof CacheConsistency))
      throw invalidOption(
        where,
        'consistency',
        options.consistency,
        'a CacheConsistency (new CacheConsistency(sim))',
      );
    this.consistency = options.consistency ?? new CacheConsistency(this.sim, { name: this.name });
    this.params = resolvePlacement(options.placement, where);
    this.placementWhere = nested(where, 'placement');
    this.placement = this.build();
    this.pick = this.sim.rng(`${this.name}/read`);
    this.lagRng = this.sim.rng(`${this.name}/replication`);
    const m = this.sim.metrics;
    const id = this.name;
    this.meters = {
      lookups: m.counter(id, 'dcache.lookups'),
      hits: m.counter(id, 'dcache.hits'),
      misses: m.counter(id, 'dcache.misses'),
      errors: m.counter(id, 'dcache.errors'),
      failovers: m.counter(id, 'dcache.failovers'),
      missFailovers: m.counter(id, 'dcache.miss-failovers'),
      rerouted: m.counter(id, 'dcache.rerouted'),
      staleReads: m.counter(id, 'dcache.stale-reads'),
      rywViolations: m.counter(id, 'dcache.ryw-violations'),
      stores: m.counter(id, 'dcache.stores'),
      storeErrors: m.counter(id, 'dcache.store-errors'),
      replications: m.counter(id, 'dcache.replications'),
      replicationsDropped: m.counter(id, 'dcache.replications-dropped'),
      members: m.gauge(id, 'dcache.members'),
      latency: m.histogram(id, 'dcache.latency'),
    };
    this.meters.members.set(this.memberSet.size);
    for (const node of this.configured) this.watch(node);
    const health = resolveHealthCheck(options.healthCheck, where);
    this.health =
      health === undefined
        ? undefined
        : new HealthChecker(
            this.sim,
            endpoint,
            health,
            this.sim.rng(`${this.name}/health`),
            () => this.configured,
            (node, healthy) => (healthy ? this.join(node, 'health-check') : this.leave(node, 'health-check')),
          );
  }

  /** A snapshot of the counters. */
  get stats(): DistributedCacheStats {
    return { ...this.counts, members: this.memberSet.size };
  }

  /** The current members, in configuration order. */
  get members(): readonly string[] {
    return this.configured.filter((n) => this.memberSet.has(n));
  }

  /** Every node this cache knows (members or not), in configuration order. */
  get nodes(): readonly string[] {
    return [...this.configured];
  }

  /** The placement of the current members (read it; change membership with `remove` and `add`). */
  get currentPlacement(): KeyPlacement {
    return this.placement;
  }

  /** Whether `node` is a member now. */
  isMember(node: string): boolean {
    return this.memberSet.has(node);
  }

  /** Whether the health checks consider `node` healthy (true without health checks). */
  healthy(node: string): boolean {
    return this.health?.healthy(node) ?? true;
  }

  /** The primary of `key` among the current members; undefined when there are none. */
  primaryOf(key: string): string | undefined {
    return this.placement.lookup(key);
  }

  /** The copies of `key` among the current members: the primary, then the replicas. */
  copiesOf(key: string): string[] {
    return this.placement.lookupN(key, this.replicas);
  }

  /** Calls `listener` after every membership change. */
  onMembershipChange(listener: (change: MembershipChange) => void): this {
    if (typeof listener !== 'function')
      throw invalidArgument(`${this.where}: onMembershipChange(listener)`, listener, 'a function');
    this.listeners.push(listener);
    return this;
  }

  /**
   * Removes `node` from the members (an operator's decision): its keys move to the others. The health
   * checks do not bring it back; `add()` does. Returns whether it was a member.
   */
  remove(node: string): boolean {
    if (!this.configured.includes(node))
      throw invalidArgument(
        `${this.where}: remove(node)`,
        node,
        `one of the nodes (${this.configured.join(', ')})`,
      );
    this.removedByHand.add(node);
    return this.leave(node, 'explicit');
  }

  /**
   * Adds `node` to the members: a node of the configuration that was removed, or a new cache server on the
   * network (appended to the configuration). It takes over its share of the keys, cold. Returns whether it
   * was not a member.
   */
  add(node: string): boolean {
    if (typeof node !== 'string' || !this.network.addresses.includes(node))
      throw invalidArgument(`${this.where}: add(node)`, node, "an address on the endpoint's network");
    if (!this.configured.includes(node)) {
      this.configured.push(node);
      this.watch(node);
    }
    this.removedByHand.delete(node);
    this.health?.reset(node);
    return this.join(node, 'explicit');
  }

  /** Stops the health checks (the simulation can then run out of events). */
  stop(): void {
    this.health?.stop();
  }

  /**
   * Records a write of `key` at `version` acknowledged elsewhere (e.g. by the database) as this client's
   * own: from now on reads of an older version are stale for every client, and read-your-writes
   * violations for this one.
   */
  acknowledge(key: string, version: number): void {
    checkVersion(`${this.where}: version`, version);
    this.consistency.acknowledge(key, version);
    this.noteOwn(key, version);
  }

  /**
   * Looks `key` up on its copies, as `readPolicy` orders them, failing over when one fails (and, with
   * `missFailover`, when a replica misses). A lookup that no copy answers reads as a miss. With `lease`,
   * asks the primary for a lease on a miss.
   */
  lookup(key: string, lease = false): SimEvent<DistributedLookup<V>> {
    const out = this.sim.event<DistributedLookup<V>>();
    const started = this.sim.now;
    this.counts.lookups++;
    this.meters.lookups.inc();
    const copies = this.route(key);
    if (copies.length === 0) {
      this.failed(out, started);
      return out;
    }
    this.read(
      {
        key,
        lease,
        order: this.readOrder(copies),
        primary: copies[0]!,
        out,
        started,
        latest: this.consistency.latest(key),
        own: this.own.get(key),
      },
      0,
    );
    return out;
  }

  /**
   * Stores `value` (a negative entry when undefined) on the key's primary; once it acknowledges, the write
   * counts as acknowledged and is replicated to the other copies. The event is true once the primary holds
   * it, false when it refused or could not be reached.
   */
  store(key: string, value: V | undefined, options: DistributedStoreOptions = {}): SimEvent<boolean> {
    const out = this.sim.event<boolean>();
    this.counts.stores++;
    this.meters.stores.inc();
    const copies = this.route(key);
    const primary = copies[0];
    if (primary === undefined) return this.storeFailed(out);
    let stored: Versioned<V> | undefined;
    if (value !== undefined) {
      const version =
        options.version ??
        (this.versionOf === undefined ? this.consistency.nextVersion(key) : this.versionOf(value));
      checkVersion(`${this.where}: version`, version);
      stored = new Versioned(value, version);
    }
    const { ttl, delta, lease, size } = options;
    const request = (remaining: number | undefined, withLease: boolean): CacheRequest => ({
      op: 'set',
      key,
      value: stored,
      negative: stored === undefined,
      ...(remaining === undefined ? {} : { ttl: remaining }),
      ...(delta === undefined ? {} : { delta }),
      ...(size === undefined ? {} : { size }),
      ...(withLease && lease !== undefined ? { lease } : {}),
    });
    this.endpoint.call(primary, request(ttl, true), { timeout: this.timeout, key }).onProcessed((e) => {
      const res = e.value!;
      if (!res.ok || res.value === false) {
        this.storeFailed(out);
        return;
      }
      const expiresAt = ttl === undefined ? Infinity : this.sim.now + ttl;
      const apply = (node: string): void => {
        if (stored === undefined) this.consistency.released(node, key);
        else this.consistency.held(node, key, stored.version, expiresAt);
      };
      if (stored !== undefined) {
        this.consistency.acknowledge(key, stored.version);
        this.noteOwn(key, stored.version);
      }
      apply(primary);
      this.replicate(copies, key, expiresAt, (remaining) => request(remaining, false), apply);
      this.counts.storesAcknowledged++;
      out.succeed(true);
    });
    return out;
  }

  /**
   * Deletes `key` on its primary, then (after the replication lag) on its replicas. True once the primary
   * has no entry for it, false when it could not be reached.
   */
  invalidate(key: string): SimEvent<boolean> {
    const out = this.sim.event<boolean>();
    this.counts.invalidations++;
    const copies = this.route(key);
    const primary = copies[0];
    if (primary === undefined) return out.succeed(false);
    const request: CacheRequest = { op: 'delete', key };
    this.endpoint.call(primary, request, { timeout: this.timeout, key }).onProcessed((e) => {
      if (!e.value!.ok) {
        out.succeed(false);
        return;
      }
      const apply = (node: string): void => this.consistency.released(node, key);
      apply(primary);
      this.replicate(copies, key, Infinity, () => request, apply);
      out.succeed(true);
    });
    return out;
  }

  /** The key's copies; notes a primary that changed since this client last used the key. */
  private route(key: string): string[] {
    const copies = this.placement.lookupN(key, this.replicas);
    const primary = copies[0];
    if (primary !== undefined) {
      const before = this.lastPrimary.get(key);
      if (before !== primary) {
        if (before !== undefined) {
          this.counts.rerouted++;
          this.meters.rerouted.inc();
        }
        this.lastPrimary.set(key, primary);
      }
    }
    return copies;
  }

  /** The copies in the order a read tries them. */
  private readOrder(copies: string[]): string[] {
    const n = copies.length;
    if (n < 2 || this.readPolicy === 'primary') return copies;
    // 'replica': a random replica, the other replicas, then the primary. 'any': a random copy, then the rest.
    const first = this.readPolicy === 'replica' ? 1 + this.pick.int(0, n - 1) : this.pick.int(0, n);
    if (first === 0) return copies;
    const order = [copies[first]!];
    const from = this.readPolicy === 'replica' ? 1 : 0;
    for (let k = from; k < n; k++) if (k !== first) order.push(copies[k]!);
    if (from === 1) order.push(copies[0]!);
    return order;
  }

  private read(r: ReadAttempt<V>, i: number): void {
    const { key, order, out, started, latest, own } = r;
    const node = order[i]!;
    // Leases come from the primary only: it takes the writes, and a replica's lease would never be used.
    const request: CacheRequest =
      r.lease && node === r.primary ? { op: 'get', key, lease: true } : { op: 'get', key };
    this.endpoint
      .call<CacheLookup<unknown>>(node, request, { timeout: this.timeout, key })
      .onProcessed((e) => {
        const res = e.value!;
        const next = order[i + 1];
        if (!res.ok) {
          if (this.failover && next !== undefined) {
            this.counts.failovers++;
            this.meters.failovers.inc();
            if (this.sim.tracing)
              this.sim.emit('@dsim.dcache.failover', {
                cache: this.name,
                key,
                from: node,
                to: next,
                error: res.error.kind,
              });
            this.read(r, i + 1);
            return;
          }
          this.failed(out, started);
          return;
        }
        const found = res.value;
        if (found.status === 'miss' && this.missFailover && node !== r.primary && next !== undefined) {
          this.counts.missFailovers++;
          this.meters.missFailovers.inc();
          this.read(r, i + 1);
          return;
        }
        const raw = found.value;
        const versioned = raw instanceof Versioned ? raw : undefined;
        const result: Mutable<DistributedLookup<V>> = {
          status: found.status,
          value: (versioned === undefined ? raw : versioned.value) as V | undefined,
          expiresAt: found.expiresAt,
          delta: found.delta,
          node,
          version: versioned?.version,
          staleRead: false,
        };
        if (found.lease !== undefined) result.lease = found.lease;
        if (found.status === 'miss') {
          this.counts.misses++;
          this.meters.misses.inc();
        } else {
          this.counts.hits++;
          this.meters.hits.inc();
        }
        if (versioned !== undefined && found.status !== 'miss') {
          const version = versioned.version;
          const stale = latest !== undefined && version < latest;
          const ryw = own !== undefined && version < own;
          this.consistency.noteRead(stale, ryw);
          if (stale) {
            result.staleRead = true;
            this.counts.staleReads++;
            this.meters.staleReads.inc();
            if (this.sim.tracing)
              this.sim.emit('@dsim.dcache.stale-read', { cache: this.name, key, node, version, latest });
          }
          if (ryw) {
            this.counts.rywViolations++;
            this.meters.rywViolations.inc();
            if (this.sim.tracing)
              this.sim.emit('@dsim.dcache.ryw-violation', { cache: this.name, key, node, version, own });
          }
        }
        this.meters.latency.record(this.sim.now - started);
        out.succeed(result);
      });
  }

  private failed(out: SimEvent<DistributedLookup<V>>, started: number): void {
    this.counts.errors++;
    this.meters.errors.inc();
    this.counts.misses++;
    this.meters.misses.inc();
    this.meters.latency.record(this.sim.now - started);
    out.succeed(MISS);
  }

  private storeFailed(out: SimEvent<boolean>): SimEvent<boolean> {
    this.counts.storeErrors++;
    this.meters.storeErrors.inc();
    return out.succeed(false);
  }

  private noteOwn(key: string, version: number): void {
    const before = this.own.get(key);
    if (before === undefined || version > before) this.own.set(key, version);
  }

  /**
   * Sends what the primary `copies[0]` applied to the other copies, each after a lag drawn per replica, in
   * order per primary-to-replica stream, from a timer on the primary's node (a crash drops it).
   */
  private replicate(
    copies: readonly string[],
    key: string,
    expiresAt: number,
    request: (remainingTtl: number | undefined) => CacheRequest,
    applied: (node: string) => void,
  ): void {
    if (copies.length < 2) return;
    const primary = copies[0]!;
    const node = this.network.node(primary);
    const now = this.sim.now;
    for (let k = 1; k < copies.length; k++) {
      const replica = copies[k]!;
      const lag = this.lag.sample(this.lagRng);
      if (typeof lag !== 'number' || !(lag >= 0))
        throw invalidArgument(`${this.where}: replicationLag sample`, lag, 'a number >= 0 (ms)');
      if (lag === Infinity) continue;
      const stream = `${primary}\u0000${replica}`;
      const due = Math.max(now + lag, this.streamDue.get(stream) ?? 0);
      this.streamDue.set(stream, due);
      this.pending.set(primary, (this.pending.get(primary) ?? 0) + 1);
      node.setTimer((due - now) * (1 + node.clock.driftRate), () => {
        this.pending.set(primary, (this.pending.get(primary) ?? 1) - 1);
        const t = this.sim.now;
        if (expiresAt <= t || !this.endpoint.node.isUp) return;
        const remaining = expiresAt === Infinity ? undefined : expiresAt - t;
        this.endpoint.call(replica, request(remaining), { timeout: this.timeout, key }).onProcessed((e) => {
          const res = e.value!;
          if (res.ok && res.value !== false) {
            this.counts.replications++;
            this.meters.replications.inc();
            applied(replica);
          } else this.counts.replicationErrors++;
        });
      });
    }
  }

  /** Hooks a node's crashes: the consistency oracle's lost writes, and this client's dropped replications. */
  private watch(node: string): void {
    if (this.watched.has(node)) return;
    this.watched.add(node);
    this.consistency.watch(this.network, node, this.persistent);
    this.network.node(node).onCrash(() => {
      const dropped = this.pending.get(node) ?? 0;
      if (dropped === 0) return;
      this.pending.set(node, 0);
      this.counts.replicationsDropped += dropped;
      this.meters.replicationsDropped.inc(dropped);
    });
  }

  private build(): KeyPlacement {
    const nodes = this.configured.filter((n) => this.memberSet.has(n));
    return createPlacement({ ...this.params, nodes } as PlacementSpec, this.placementWhere);
  }

  private leave(node: string, reason: MembershipChange['reason']): boolean {
    if (!this.memberSet.delete(node)) return false;
    this.counts.removals++;
    this.changed(node, 'removed', reason);
    return true;
  }

  private join(node: string, reason: MembershipChange['reason']): boolean {
    if (reason === 'health-check' && this.removedByHand.has(node)) return false;
    if (this.memberSet.has(node)) return false;
    this.memberSet.add(node);
    this.counts.additions++;
    this.changed(node, 'added', reason);
    return true;
  }

  private changed(
    node: string,
    change: MembershipChange['change'],
    reason: MembershipChange['reason'],
  ): void {
    this.placement = this.build();
    this.meters.members.set(this.memberSet.size);
    const members = this.members;
    const at = this.sim.now;
    if (this.sim.tracing)
      this.sim.emit('@dsim.dcache.membership', {
        cache: this.name,
        node,
        change,
        reason,
        members: members.length,
      });
    for (const listener of this.listeners) listener({ node, change, reason, at, members });
  }
}
