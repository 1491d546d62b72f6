import {
  invalidOption,
  type NetNode,
  type NodeTimer,
  type RandomStream,
  type Reply,
  RpcEndpoint,
  type RpcRequest,
  type Simulation,
} from '@dsim/core';
import {
  type EurekaServerOptions,
  type ResolvedEurekaServer,
  resolveEurekaServer,
} from './eureka-options.js';
import type { EurekaRequest } from './eureka-protocol.js';

/** MeasuredRate's fixed sample interval: renewals are counted per minute (`renewsLastMin`). */
const RATE_INTERVAL = 60_000;

/** One instance's lease, with Eureka's timestamps on the server's local clock. */
class Lease {
  constructor(
    readonly app: string,
    readonly id: string,
    readonly address: string,
    readonly duration: number,
    /** Eureka's `lastUpdateTimestamp`: now at registration, now (+ duration under 'eureka') at renewal. */
    public lastUpdate: number,
  ) {}
}

/**
 * What an {@link EurekaServer} has done so far.
 *
 * @example
 * ```ts
 * const { evictions, selfPreservationRuns } = server.stats;
 * ```
 */
export interface EurekaServerStats {
  /** Registrations, new and repeated. */
  registrations: number;
  /** Renewals of a lease the server held. */
  renewals: number;
  /** Renewals answered 404 (no lease): the instance registers again. */
  renewalsNotFound: number;
  /** Leases removed by a cancel (graceful shutdown). */
  cancels: number;
  /** Leases removed by the eviction task. */
  evictions: number;
  /** Eviction runs. */
  evictionRuns: number;
  /** Eviction runs that evicted nothing because self-preservation was on. */
  selfPreservationRuns: number;
  /** Expired leases left in place because one run may evict at most the eviction limit. */
  evictionsDeferred: number;
  /** Registry fetches answered. */
  fetches: number;
}

/**
 * A Eureka registry server on its own network node (Netflix Eureka, as Spring Cloud Netflix runs it):
 * instances register and renew leases over the network ({@link EurekaInstance}), clients fetch the
 * registry ({@link EurekaClient}), and three timers decide when a departed instance stops being
 * served:
 *
 * - **Eviction.** Every `evictionInterval` (60 s, first one interval after the start) the task removes
 *   expired leases: a lease is expired when `now > lastUpdate + duration + compensation`, where
 *   `lastUpdate` is the last renewal plus the duration under `leaseExpiry: 'eureka'` (so 180 s after the
 *   last renewal with the defaults; see {@link LeaseExpiry}) and `compensation` is how late this run
 *   is (Eureka's `EvictionTask.getCompensationTimeMs`, which a pause of the server node produces). The
 *   expired leases are evicted in random order (a seeded stream), at most `size − floor(size ×
 *   renewalPercentThreshold)` per run.
 * - **Self-preservation.** Renewals are counted per minute (Eureka's `MeasuredRate`, a 60 s bucket from
 *   the start); the threshold is `floor(expected × 60 s / expectedClientRenewalInterval ×
 *   renewalPercentThreshold)`, with `expected` = `openForTrafficCount` + registrations − cancels −
 *   evictions (changed only while above 0). A run evicts only when the last full minute's renewals
 *   are above the threshold: when many instances vanish at once (a partition between them and the
 *   server), the server keeps them all. The 15-minute threshold recount
 *   (`renewalThresholdUpdateIntervalMs`) is not modelled.
 * - **Response cache.** Fetches are answered from a read-only cache refreshed from the registry every
 *   `responseCacheUpdateInterval` (30 s, at multiples of 30 s of the node's clock). Registrations,
 *   cancels and evictions invalidate the read-write cache behind it at once, so the read-only copy is
 *   the registry as of the last refresh; an app fetched for the first time is read through. Its
 *   180 s auto-expiration never matters, since every change invalidates it.
 *
 * The registry lives in memory: a crash of the server node loses it, and on restart the server starts
 * empty (instances register again at their next heartbeat, answered 404). Peer replication between
 * servers, regions, status overrides (`OUT_OF_SERVICE`) and delta reconciliation are not modelled.
 *
 * Sources: Eureka's `Lease`, `AbstractInstanceRegistry` (register, renew, internalCancel, evict),
 * `PeerAwareInstanceRegistryImpl.isLeaseExpirationEnabled`, `ResponseCacheImpl`, `MeasuredRate`
 * (https://github.com/Netflix/eureka); the wiki's "Understanding eureka client server communication";
 * Spring Cloud Netflix's server configuration.
 *
 * Trace records (when `sim.tracing`): `@dsim.discovery.register`, `@dsim.discovery.cancel`,
 * `@dsim.discovery.evict` `{ server, app, id }`, `@dsim.discovery.self-preservation` `{ server, on,
 * renewals, threshold }` when a run finds expiry disabled or enabled again.
 *
 * @example
 * ```ts
 * const server = new EurekaServer(net.addNode('eureka'));
 * new EurekaInstance(net.addNode('orders-0'), { server: 'eureka', app: 'orders' });
 * const client = new EurekaClient(net.addNode('web'), { server: 'eureka', app: 'orders' });
 * sim.run({ until: '2m' });
 * server.registered('orders'); // ['orders-0']
 * ```
 */
export class EurekaServer {
  /** The resolved options. */
  readonly options: ResolvedEurekaServer;
  /** The server's RPC endpoint. */
  readonly endpoint: RpcEndpoint;
  private readonly sim: Simulation;
  private readonly rng: RandomStream;
  private readonly registry = new Map<string, Map<string, Lease>>();
  /** The read-only response cache: app -> instance addresses as of the last refresh. */
  private readonly readOnly = new Map<string, readonly string[]>();
  private started = false;
  private stopped = false;
  private expected = 0;
  private threshold = 0;
  private renewsCurrent = 0;
  private renewsLast = 0;
  /** Local time of the last eviction run, for the compensation; NaN before the first. */
  private lastEvictionAt = Number.NaN;
  private expiryWasDisabled = false;
  private readonly timers: NodeTimer[] = [];
  private readonly counts: EurekaServerStats = {
    registrations: 0,
    renewals: 0,
    renewalsNotFound: 0,
    cancels: 0,
    evictions: 0,
    evictionRuns: 0,
    selfPreservationRuns: 0,
    evictionsDeferred: 0,
    fetches: 0,
  };

  /**
   * @param node - the server's node; it serves RPC on the node's endpoint
   * @param options - see {@link EurekaServerOptions}
   */
  constructor(
    readonly node: NetNode<any>,
    options?: EurekaServerOptions,
  ) {
    if (node === null || typeof node !== 'object' || typeof node.setTimer !== 'function')
      throw invalidOption('EurekaServer', 'node', node, 'a network node (net.addNode(...))');
    this.options = resolveEurekaServer(options, node.address);
    this.sim = node.network.sim;
    this.rng = this.sim.rng(`${this.options.name}/eviction`);
    this.endpoint = RpcEndpoint.of(node);
    this.endpoint.serve((request, reply) => this.handle(request as RpcRequest<EurekaRequest>, reply));
    node.onCrash(() => {
      this.started = false;
      this.registry.clear();
      this.readOnly.clear();
      this.timers.length = 0;
    });
    node.onRestart(() => this.start());
    if (this.options.startAfter > 0) node.setTimer(this.options.startAfter, () => this.start());
    else this.start();
  }

  /** A copy of the counts. */
  get stats(): EurekaServerStats {
    return { ...this.counts };
  }

  /** The instance addresses of `app` in the registry now (expired leases not yet evicted included). */
  registered(app: string): string[] {
    const leases = this.registry.get(app);
    return leases === undefined ? [] : [...leases.values()].map((l) => l.address);
  }

  /**
   * What a fetch of `app` returns now: the read-only cache's copy; the registry itself when `app` was
   * never fetched (a first fetch reads through) or without the read-only cache.
   */
  served(app: string): readonly string[] {
    if (!this.options.useReadOnlyResponseCache) return this.current(app);
    return this.readOnly.get(app) ?? this.current(app);
  }

  /** Renewals counted in the last full minute (Eureka's `getNumOfRenewsInLastMin`). */
  get renewalsLastMinute(): number {
    return this.renewsLast;
  }

  /** The renewal threshold per minute (Eureka's `numberOfRenewsPerMinThreshold`). */
  get renewalThreshold(): number {
    return this.threshold;
  }

  /** Instances the server expects renewals from (`expectedNumberOfClientsSendingRenews`). */
  get expectedClients(): number {
    return this.expected;
  }

  /** True while self-preservation keeps leases from expiring (what the next eviction run would see). */
  get selfPreservationActive(): boolean {
    return !this.expirationEnabled();
  }

  /** Stops the server's timers for good (a run to quiescence); it keeps answering requests. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers.length = 0;
  }

  private start(): void {
    if (this.started || this.stopped || this.node.state === 'down') return;
    this.started = true;
    const o = this.options;
    this.expected = o.openForTrafficCount;
    this.updateThreshold();
    this.renewsCurrent = 0;
    this.renewsLast = 0;
    this.lastEvictionAt = Number.NaN;
    this.expiryWasDisabled = false;
    // MeasuredRate and the eviction timer start together; at a shared instant the bucket turns first.
    const rate = (): void => {
      this.renewsLast = this.renewsCurrent;
      this.renewsCurrent = 0;
      this.timers[0] = this.node.setTimer(RATE_INTERVAL, rate);
    };
    const evict = (): void => {
      this.evict();
      this.timers[1] = this.node.setTimer(o.evictionInterval, evict);
    };
    this.timers[0] = this.node.setTimer(RATE_INTERVAL, rate);
    this.timers[1] = this.node.setTimer(o.evictionInterval, evict);
    if (o.useReadOnlyResponseCache) {
      const every = o.responseCacheUpdateInterval;
      const refresh = (): void => {
        for (const app of this.readOnly.keys()) this.readOnly.set(app, this.current(app));
        this.timers[2] = this.node.setTimer(every, refresh);
      };
      // Aligned to the clock, as ResponseCacheImpl schedules its first run.
      const local = this.node.clock.now();
      this.timers[2] = this.node.setTimer((Math.floor(local / every) + 1) * every - local, refresh);
    }
  }

  private handle(request: RpcRequest<EurekaRequest>, reply: Reply<unknown>): void {
    if (!this.started) {
      reply.error('unavailable', `eureka server ${this.options.name} has not started`);
      return;
    }
    const p = request.payload;
    switch (p?.op) {
      case 'register':
        this.register(p.app, p.id, p.address, p.leaseDuration);
        reply.ok(true);
        return;
      case 'renew':
        reply.ok(this.renew(p.app, p.id));
        return;
      case 'cancel':
        reply.ok(this.cancel(p.app, p.id, 'cancel'));
        return;
      case 'fetch':
        this.counts.fetches++;
        reply.ok(this.fetch(p.app));
        return;
      default:
        reply.error('error', `eureka server ${this.options.name}: unknown request ${JSON.stringify(p)}`);
    }
  }

  private register(app: string, id: string, address: string, duration: number): void {
    let leases = this.registry.get(app);
    if (leases === undefined) {
      leases = new Map();
      this.registry.set(app, leases);
    }
    if (!leases.has(id) && this.expected > 0) {
      this.expected++;
      this.updateThreshold();
    }
    leases.set(id, new Lease(app, id, address, duration, this.node.clock.now()));
    this.counts.registrations++;
    this.trace('@dsim.discovery.register', app, id);
  }

  private renew(app: string, id: string): boolean {
    const lease = this.registry.get(app)?.get(id);
    if (lease === undefined) {
      this.counts.renewalsNotFound++;
      return false;
    }
    this.counts.renewals++;
    this.renewsCurrent++;
    const now = this.node.clock.now();
    lease.lastUpdate = this.options.leaseExpiry === 'eureka' ? now + lease.duration : now;
    return true;
  }

  /** Eureka's internalCancel: a cancel or an eviction. */
  private cancel(app: string, id: string, why: 'cancel' | 'evict'): boolean {
    const leases = this.registry.get(app);
    if (leases === undefined || !leases.delete(id)) return false;
    if (this.expected > 0) {
      this.expected--;
      this.updateThreshold();
    }
    if (why === 'cancel') this.counts.cancels++;
    else this.counts.evictions++;
    this.trace(why === 'cancel' ? '@dsim.discovery.cancel' : '@dsim.discovery.evict', app, id);
    return true;
  }

  private fetch(app: string): readonly string[] {
    if (!this.options.useReadOnlyResponseCache) return this.current(app);
    let cached = this.readOnly.get(app);
    if (cached === undefined) {
      // A first request for a key reads through the read-write cache and fills the read-only one.
      cached = this.current(app);
      this.readOnly.set(app, cached);
    }
    return cached;
  }

  private current(app: string): readonly string[] {
    return Object.freeze(this.registered(app));
  }

  private updateThreshold(): void {
    const o = this.options;
    this.threshold = Math.floor(
      this.expected * (60_000 / o.expectedClientRenewalInterval) * o.renewalPercentThreshold,
    );
  }

  private expirationEnabled(): boolean {
    return !this.options.selfPreservation || (this.threshold > 0 && this.renewsLast > this.threshold);
  }

  private evict(): void {
    const o = this.options;
    const now = this.node.clock.now();
    const compensation = Number.isNaN(this.lastEvictionAt)
      ? 0
      : Math.max(0, now - this.lastEvictionAt - o.evictionInterval);
    this.lastEvictionAt = now;
    this.counts.evictionRuns++;
    const enabled = this.expirationEnabled();
    if (enabled === this.expiryWasDisabled && this.sim.tracing)
      this.sim.emit('@dsim.discovery.self-preservation', {
        server: o.name,
        on: !enabled,
        renewals: this.renewsLast,
        threshold: this.threshold,
      });
    this.expiryWasDisabled = !enabled;
    if (!enabled) {
      this.counts.selfPreservationRuns++;
      return;
    }
    const expired: Lease[] = [];
    let size = 0;
    for (const leases of this.registry.values())
      for (const lease of leases.values()) {
        size++;
        if (now > lease.lastUpdate + lease.duration + compensation) expired.push(lease);
      }
    const limit = size - Math.floor(size * o.renewalPercentThreshold);
    const toEvict = Math.min(expired.length, limit);
    this.counts.evictionsDeferred += expired.length - toEvict;
    for (let i = 0; i < toEvict; i++) {
      // A Knuth shuffle, as Eureka picks the leases to evict.
      const j = i + Math.floor(this.rng.next() * (expired.length - i));
      const picked = expired[j]!;
      expired[j] = expired[i]!;
      expired[i] = picked;
      this.cancel(picked.app, picked.id, 'evict');
    }
  }

  private trace(type: string, app: string, id: string): void {
    if (this.sim.tracing) this.sim.emit(type, { server: this.options.name, app, id });
  }
}
