import {
  checkBoolean,
  checkDistribution,
  checkNumber,
  constant,
  type Distribution,
  DsimError,
  type Duration,
  invalidArgument,
  type NetNode,
  optionKeys,
  owner,
  requireOptions,
} from '@dsim/core';
import { Service } from '../../service/service.js';
import { createRateLimiter, type RateLimiterSpec } from '../rate-limiters/factory.js';
import type { RateLimiter } from '../rate-limiters/types.js';

/**
 * What an instance asks a {@link RateLimitStore}:
 *
 * - `check`: count one request for `key` against the store's limiter and answer whether it is admitted
 *   (a `boolean`); what Envoy's rate limit filter asks the rate limit service for every request.
 * - `sync`: add each entry's unsent counts to the store's per-window counters and answer the totals
 *   (a {@link SyncTotals} per entry, in order); what a {@link SyncedLimiter} sends every interval.
 *
 * @example
 * ```ts
 * const check: RateLimitStoreRequest = { op: 'check', key: 'client-1' };
 * const sync: RateLimitStoreRequest = { op: 'sync', entries: [{ key: 'client-1', window: 3, delta: 12, deltaPrevious: 0 }] };
 * ```
 */
export type RateLimitStoreRequest =
  | { readonly op: 'check'; readonly key: string }
  | { readonly op: 'sync'; readonly entries: readonly SyncEntry[] };

/**
 * One key's counts in a `sync`: requests the instance admitted and has not reported yet, in window
 * `window` (index of the aligned window, ⌊t / windowMs⌋) and in the window before it.
 *
 * @example
 * ```ts
 * const entry: SyncEntry = { key: 'client-1', window: 3, delta: 12, deltaPrevious: 2 };
 * ```
 */
export interface SyncEntry {
  readonly key: string;
  readonly window: number;
  readonly delta: number;
  readonly deltaPrevious: number;
}

/**
 * The store's totals for one {@link SyncEntry}, after adding it: the counts of window `window` and of
 * the window before (0 when the store no longer holds it).
 *
 * @example
 * ```ts
 * const totals: SyncTotals = { current: 3120, previous: 4000 };
 * ```
 */
export interface SyncTotals {
  readonly current: number;
  readonly previous: number;
}

/**
 * Options of {@link RateLimitStore}; an unknown key is an error (with a "did you mean").
 *
 * @example
 * ```ts
 * const options: RateLimitStoreOptions = { limiter: { kind: 'fixed-window', limit: 4000, windowMs: 10_000 } };
 * ```
 */
export interface RateLimitStoreOptions {
  /**
   * The limit `check` requests are counted against, one limiter per key ({@link RateLimiterSpec}; not
   * `leaky-bucket-queue`). envoyproxy/ratelimit keeps a fixed window per unit (second, minute, hour):
   * `{ kind: 'fixed-window', limit, windowMs }`. A store without one answers only `sync`; a `check`
   * then stops the run with an error.
   * @default none
   */
  limiter?: RateLimiterSpec;
  /**
   * Time to serve one request (a check, or a whole sync).
   * @default 0.05 ms (an in-memory store such as Redis: about 20 000 operations per second per worker)
   */
  serviceTime?: Distribution | Duration;
  /**
   * Workers. Redis executes commands on one thread.
   * @default 1
   */
  concurrency?: number;
  /**
   * Whether the counters survive a crash and restart. Without it a restart starts every window's count
   * from zero, so the windows in progress admit up to the limit again.
   * @default false
   */
  persistent?: boolean;
}

const STORE_KEYS = optionKeys<RateLimitStoreOptions>()({
  limiter: true,
  serviceTime: true,
  concurrency: true,
  persistent: true,
});

/** 0.05 ms: an in-memory store. */
const DEFAULT_SERVICE_TIME = constant(0.05);

/** One key's counters for `sync`: the latest window it was told of, and the window before. */
interface WindowCounts {
  window: number;
  current: number;
  previous: number;
}

/**
 * Counts a {@link RateLimitStore} has served.
 *
 * @example
 * ```ts
 * const { checks, syncs } = store.stats;
 * ```
 */
export interface RateLimitStoreStats {
  /** `check` requests served. */
  readonly checks: number;
  /** `check` requests it admitted. */
  readonly admitted: number;
  /** `sync` requests served. */
  readonly syncs: number;
  /** Entries in those syncs. */
  readonly syncEntries: number;
}

/**
 * The shared counter store of global rate limiting, on its own node and reached over RPC: a
 * {@link Service} (workers, queueing, the node's faults) in front of per-key counters.
 *
 * - `check` counts a request against the key's limiter and answers whether it is admitted, in the order
 *   requests are served: with a `fixed-window` limiter this is envoyproxy/ratelimit's Redis cache
 *   (`INCRBY key 1` then `EXPIRE key unit` in one pipeline, over the limit once the count after the
 *   increment exceeds it; windows aligned on the unit). The limiter here counts admitted requests only;
 *   for one hit per request the decisions are the same, since every hit after the limit is over it.
 *   The rate limit service and Redis are one node here: one round trip, not two.
 * - `sync` adds the instances' unsent counts to per-window counters (each entry names its window, so a
 *   count sent just after a window edge still lands in its own window) and answers the totals of the
 *   window and the one before. Older windows are forgotten (EXPIRE): counts for them are dropped.
 *
 * Windows are aligned on the simulation's true time: every node's clock is assumed synchronised.
 * A crash empties the counters unless `persistent`.
 *
 * @example
 * ```ts
 * const store = new RateLimitStore(net.addNode('ratelimit'), {
 *   limiter: { kind: 'fixed-window', limit: 4000, windowMs: 10_000 },
 * });
 * const limiter = new CentralLimiter(RpcEndpoint.of(net.addNode('envoy-0')), { store: 'ratelimit' });
 * ```
 */
export class RateLimitStore {
  readonly service: Service;
  private readonly spec: RateLimiterSpec | undefined;
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly windows = new Map<string, WindowCounts>();
  private checks = 0;
  private admitted = 0;
  private syncs = 0;
  private syncEntries = 0;

  /**
   * @param node - the node the store runs on
   * @param options - see {@link RateLimitStoreOptions}; bad values throw INVALID_ARGUMENT naming the field
   */
  constructor(
    readonly node: NetNode<any>,
    options: RateLimitStoreOptions = {},
  ) {
    const where = owner('RateLimitStore');
    requireOptions(where, options, STORE_KEYS);
    if (options.limiter !== undefined) {
      if (options.limiter?.kind === 'leaky-bucket-queue')
        throw invalidArgument(
          'limiter.kind',
          options.limiter.kind,
          'an algorithm that admits or rejects (leaky-bucket-queue delays requests instead)',
          'RateLimitStore',
        );
      createRateLimiter(options.limiter); // validates every field now
    }
    this.spec = options.limiter;
    const serviceTime = checkDistribution(
      where,
      'serviceTime',
      options.serviceTime,
      'constant(0.05)',
      {},
      DEFAULT_SERVICE_TIME,
    );
    const concurrency = checkNumber(where, 'concurrency', options.concurrency, { integer: true, min: 1 }, 1);
    const persistent = checkBoolean(where, 'persistent', options.persistent, false);
    this.service = new Service(node, {
      serviceTime,
      concurrency,
      respond: (request) => this.handle(request.payload as RateLimitStoreRequest),
    });
    node.onCrash(() => {
      if (persistent) return;
      this.limiters.clear();
      this.windows.clear();
    });
  }

  /** Requests served so far. */
  get stats(): RateLimitStoreStats {
    return { checks: this.checks, admitted: this.admitted, syncs: this.syncs, syncEntries: this.syncEntries };
  }

  /**
   * The total the store holds for `key` in window `window` (0 when it holds none), as `sync` counts it.
   *
   * @example
   * ```ts
   * store.syncedCount('client', 3); // 4120
   * ```
   */
  syncedCount(key: string, window: number): number {
    const counts = this.windows.get(key);
    if (counts === undefined) return 0;
    if (counts.window === window) return counts.current;
    return counts.window === window + 1 ? counts.previous : 0;
  }

  private handle(request: RateLimitStoreRequest): unknown {
    const now = this.node.network.sim.now;
    if (request?.op === 'check') return this.check(request.key, now);
    if (request?.op === 'sync') return this.sync(request.entries);
    throw invalidArgument(
      `rate limit store ${this.node.address}: request.op`,
      (request as { op?: unknown } | null)?.op,
      '"check" or "sync"',
    );
  }

  private check(key: string, now: number): boolean {
    if (this.spec === undefined) {
      const sim = this.node.network.sim;
      throw new DsimError(
        'CONFIG_ERROR',
        `RateLimitStore ${this.node.address}: a check for key ${JSON.stringify(key)} reached a store with no limiter; give the store a limiter option`,
        { simTime: sim.now, seed: sim.seed },
      );
    }
    let limiter = this.limiters.get(key);
    if (limiter === undefined) {
      limiter = createRateLimiter(this.spec);
      this.limiters.set(key, limiter);
    }
    this.checks++;
    const allowed = limiter.tryAcquire(now).allowed;
    if (allowed) this.admitted++;
    return allowed;
  }

  private sync(entries: readonly SyncEntry[]): SyncTotals[] {
    this.syncs++;
    this.syncEntries += entries.length;
    const totals: SyncTotals[] = [];
    for (const entry of entries) {
      let counts = this.windows.get(entry.key);
      if (counts === undefined) {
        counts = { window: entry.window, current: 0, previous: 0 };
        this.windows.set(entry.key, counts);
      }
      // Roll forward to the entry's window; an entry for an older window adds to what is still held.
      if (entry.window > counts.window) {
        counts.previous = entry.window === counts.window + 1 ? counts.current : 0;
        counts.current = 0;
        counts.window = entry.window;
      }
      if (entry.window === counts.window) {
        counts.current += entry.delta;
        counts.previous += entry.deltaPrevious;
        totals.push({ current: counts.current, previous: counts.previous });
      } else if (entry.window === counts.window - 1) {
        // The instance is behind: its current window is the store's previous; its previous is expired.
        counts.previous += entry.delta;
        totals.push({ current: counts.previous, previous: 0 });
      } else {
        totals.push({ current: 0, previous: 0 }); // both windows expired: the counts are dropped
      }
    }
    return totals;
  }
}
