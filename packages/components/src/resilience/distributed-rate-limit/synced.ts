import {
  checkDuration,
  checkEnum,
  checkName,
  checkNumber,
  type Duration,
  invalidOption,
  type NodeTimer,
  optionKeys,
  RpcEndpoint,
  type RpcResponse,
  requireOptions,
} from '@dsim/core';
import { PERMIT_EPSILON } from '../rate-limiters/types.js';
import type { RateLimitStoreRequest, SyncEntry, SyncTotals } from './store.js';
import {
  ADMIT_LOCAL,
  type AdmitDecision,
  checkKey,
  type DistributedLimiter,
  type DistributedLimiterStats,
  REJECT_LOCAL,
} from './types.js';

/**
 * Options of {@link SyncedLimiter}; an unknown key is an error (with a "did you mean").
 *
 * @example
 * ```ts
 * const options: SyncedLimiterOptions = { store: 'counters', limit: 4000, windowMs: 10_000, syncInterval: '100ms' };
 * ```
 */
export interface SyncedLimiterOptions {
  /** Address of the {@link RateLimitStore}'s node that holds the shared counts. */
  store: string;
  /** The global limit: permits per window over all instances. An integer >= 1. */
  limit: number;
  /** Window length in ms; windows are aligned to time 0. A finite number > 0. */
  windowMs: number;
  /** How often the instance reports its counts and reads the totals. A duration > 0. */
  syncInterval: Duration;
  /**
   * When the first sync is due (then every `syncInterval`): instances started at different times sync
   * at different phases. A duration > 0.
   * @default syncInterval
   */
  firstSyncAt?: Duration;
  /**
   * How long a sync waits for the store before its counts are kept for the next one. A duration > 0.
   * @default syncInterval
   */
  timeout?: Duration;
  /**
   * How the counts are compared with the limit: `'fixed-window'` (the window's count) or
   * `'sliding-window-counter'` (Cloudflare's estimate, previous × (windowMs − elapsed) / windowMs +
   * current).
   * @default 'fixed-window'
   */
  algorithm?: 'fixed-window' | 'sliding-window-counter';
}

const C = 'SyncedLimiter';
const KEYS = optionKeys<SyncedLimiterOptions>()({
  store: true,
  limit: true,
  windowMs: true,
  syncInterval: true,
  firstSyncAt: true,
  timeout: true,
  algorithm: true,
});

/**
 * One key's counts at one instance, for its current window and the one before. `known*` are the
 * store's totals as last heard; `flight*` were sent in the sync now in flight; `unsent*` were admitted
 * here since. The instance's view of a window is their sum, so nothing is counted twice.
 */
class KeyCounts {
  window: number;
  /** Window of the last request seen for this key, to forget idle keys. */
  lastSeen: number;
  knownCurrent = 0;
  knownPrevious = 0;
  flightCurrent = 0;
  flightPrevious = 0;
  unsentCurrent = 0;
  unsentPrevious = 0;

  constructor(window: number) {
    this.window = window;
    this.lastSeen = window;
  }

  roll(window: number): void {
    if (window === this.window) return;
    if (window === this.window + 1) {
      this.knownPrevious = this.knownCurrent;
      this.flightPrevious = this.flightCurrent;
      this.unsentPrevious = this.unsentCurrent;
    } else {
      // Two windows or more later: both windows this instance held are past.
      this.knownPrevious = 0;
      this.flightPrevious = 0;
      this.unsentPrevious = 0;
    }
    this.knownCurrent = 0;
    this.flightCurrent = 0;
    this.unsentCurrent = 0;
    this.window = window;
  }

  get current(): number {
    return this.knownCurrent + this.flightCurrent + this.unsentCurrent;
  }

  get previous(): number {
    return this.knownPrevious + this.flightPrevious + this.unsentPrevious;
  }
}

/**
 * Approximately synchronised counters, in the manner of Cloudflare's edge rate limiting ("How we built
 * rate limiting capable of scaling to millions of domains", 2017: counters in memcached incremented
 * asynchronously, a sliding window counter estimate; over 400 million requests from 270 000 sources
 * they measured 0.003% of requests wrongly allowed or rate limited). Each instance decides locally, at
 * once, from the last totals it heard plus what it admitted since; every `syncInterval` it sends its
 * unsent counts to the {@link RateLimitStore} (`sync`) and reads back the totals.
 *
 * What the others admitted since their last report is invisible, so an instance's view never exceeds
 * the true count: with the fixed window the design over-admits and never under-admits while the store
 * answers. Once the window's true count reaches the limit at T, every instance has heard a total that includes it within
 * two intervals and a round trip (the others' report, then its own read), so the over-admission in a
 * window is at most the requests arriving in (T, T + 2 × syncInterval + RTT): about
 * rate × (2 × syncInterval + RTT) at a steady rate ({@link syncedOverAdmissionBound}). No request waits
 * for the network: the added latency is 0, and the store's load is one sync per instance per interval
 * (while the instance has traffic), not one call per request.
 *
 * When the store cannot be reached the instance keeps deciding from stale totals: at each new window
 * it knows only its own count, so N instances admit up to N × limit (fail open). A failed sync's counts
 * are resent with the next (at least once: a sync applied whose answer was lost is counted twice).
 * Counts for a window the store has expired are dropped. Only one sync is in flight at a time; a sync
 * due while one is still out is skipped. Syncs stop while the instance has no key seen in the last two
 * windows and start again with its next request, so an idle system goes quiet. A crash loses the
 * instance's counts; the restart starts afresh.
 *
 * @example
 * ```ts
 * new RateLimitStore(net.addNode('counters'));
 * const limiter = new SyncedLimiter(RpcEndpoint.of(net.addNode('edge-0')), {
 *   store: 'counters', limit: 4000, windowMs: 10_000, syncInterval: '100ms',
 * });
 * limiter.admit('client', (d) => sim.log(d.allowed)); // decided at once, latencyMs 0
 * ```
 */
export class SyncedLimiter implements DistributedLimiter {
  readonly kind = 'synced';
  readonly store: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly syncIntervalMs: number;
  readonly firstSyncAtMs: number;
  readonly timeoutMs: number;
  readonly algorithm: 'fixed-window' | 'sliding-window-counter';
  private readonly keys = new Map<string, KeyCounts>();
  private timer: NodeTimer | null = null;
  private inFlight = false;
  private admitted = 0;
  private rejected = 0;
  private syncs = 0;
  private syncFailures = 0;

  /**
   * @param endpoint - the instance's endpoint (`RpcEndpoint.of(node)`); syncs are sent from it and run on
   *   its node's timers (they stall while it is paused)
   * @param options - see {@link SyncedLimiterOptions}; bad values throw INVALID_ARGUMENT naming the field
   */
  constructor(
    readonly endpoint: RpcEndpoint,
    options: SyncedLimiterOptions,
  ) {
    if (!(endpoint instanceof RpcEndpoint))
      throw invalidOption(C, 'endpoint', endpoint, 'an RpcEndpoint (RpcEndpoint.of(node))');
    requireOptions(C, options, KEYS);
    this.store = checkName(C, 'store', options.store);
    this.limit = checkNumber(C, 'limit', options.limit, { integer: true, min: 1, unit: 'permits' });
    this.windowMs = checkNumber(C, 'windowMs', options.windowMs, { above: 0, unit: 'ms' });
    this.syncIntervalMs = checkDuration(C, 'syncInterval', options.syncInterval, { positive: true });
    this.firstSyncAtMs = checkDuration(
      C,
      'firstSyncAt',
      options.firstSyncAt,
      { positive: true },
      this.syncIntervalMs,
    );
    this.timeoutMs = checkDuration(C, 'timeout', options.timeout, { positive: true }, this.syncIntervalMs);
    this.algorithm = checkEnum(
      C,
      'algorithm',
      options.algorithm,
      ['fixed-window', 'sliding-window-counter'],
      'fixed-window',
    );
    const node = endpoint.node;
    node.onCrash(() => {
      this.timer = null; // the node's timers die with it
    });
    node.onRestart((info) => {
      if (!info.keptState) this.keys.clear();
      this.inFlight = false;
      if (this.keys.size > 0) this.arm();
    });
  }

  /** Decisions so far; `storeCalls` counts syncs sent. */
  get stats(): DistributedLimiterStats & { readonly syncFailures: number } {
    return {
      admitted: this.admitted,
      rejected: this.rejected,
      pending: 0,
      failedOpen: 0,
      failedClosed: 0,
      storeCalls: this.syncs,
      syncFailures: this.syncFailures,
    };
  }

  /**
   * This instance's view of `key`'s count now: the fixed window's count, or the sliding window
   * counter's estimate. 0 for a key it has not seen.
   *
   * @example
   * ```ts
   * limiter.view('client'); // 3987: the last totals heard plus what this instance admitted since
   * ```
   */
  view(key: string): number {
    const counts = this.keys.get(key);
    if (counts === undefined) return 0;
    const now = this.endpoint.node.network.sim.now;
    counts.roll(Math.floor(now / this.windowMs));
    return this.estimate(counts, now);
  }

  admit(key: string, done: (decision: AdmitDecision) => void): void {
    checkKey(C, key);
    const now = this.endpoint.node.network.sim.now;
    const window = Math.floor(now / this.windowMs);
    let counts = this.keys.get(key);
    if (counts === undefined) {
      counts = new KeyCounts(window);
      this.keys.set(key, counts);
    }
    counts.roll(window);
    counts.lastSeen = window;
    if (this.timer === null) this.arm();
    if (this.estimate(counts, now) + 1 <= this.limit + PERMIT_EPSILON) {
      counts.unsentCurrent++;
      this.admitted++;
      done(ADMIT_LOCAL);
    } else {
      this.rejected++;
      done(REJECT_LOCAL);
    }
  }

  private estimate(counts: KeyCounts, now: number): number {
    if (this.algorithm === 'fixed-window') return counts.current;
    const w = this.windowMs;
    const elapsed = now - counts.window * w;
    return (counts.previous * (w - elapsed)) / w + counts.current;
  }

  /** Sets the timer for the next sync on the grid firstSyncAt + k × syncInterval. */
  private arm(): void {
    const now = this.endpoint.node.network.sim.now;
    const s = this.syncIntervalMs;
    let next = this.firstSyncAtMs;
    if (next <= now) next += Math.floor((now - next) / s + 1) * s;
    if (next <= now) next += s; // float dust at a grid point
    this.timer = this.endpoint.node.setTimer(next - now, () => this.tick());
  }

  private tick(): void {
    this.timer = null;
    const now = this.endpoint.node.network.sim.now;
    const window = Math.floor(now / this.windowMs);
    if (!this.inFlight) {
      const entries: SyncEntry[] = [];
      for (const [key, counts] of this.keys) {
        counts.roll(window);
        if (counts.lastSeen < window - 1 && counts.unsentPrevious === 0) {
          this.keys.delete(key); // idle for two windows, nothing left to report
          continue;
        }
        entries.push({
          key,
          window,
          delta: counts.unsentCurrent,
          deltaPrevious: counts.unsentPrevious,
        });
        counts.flightCurrent = counts.unsentCurrent;
        counts.flightPrevious = counts.unsentPrevious;
        counts.unsentCurrent = 0;
        counts.unsentPrevious = 0;
      }
      if (entries.length > 0) this.send(entries, window);
    }
    if (this.keys.size > 0) this.arm();
  }

  private send(entries: SyncEntry[], window: number): void {
    this.inFlight = true;
    this.syncs++;
    const request: RateLimitStoreRequest = { op: 'sync', entries };
    this.endpoint.callThen(
      this.store,
      request,
      { timeout: this.timeoutMs },
      (response: RpcResponse<SyncTotals[]>) => {
        this.inFlight = false;
        const now = this.endpoint.node.network.sim.now;
        const current = Math.floor(now / this.windowMs);
        if (!response.ok) this.syncFailures++;
        for (let i = 0; i < entries.length; i++) {
          const counts = this.keys.get(entries[i]!.key);
          if (counts === undefined) continue; // forgotten after a restart
          counts.roll(current);
          if (response.ok) {
            const totals = response.value[i]!;
            if (counts.window === window) {
              counts.knownCurrent = totals.current;
              counts.knownPrevious = totals.previous;
            } else if (counts.window === window + 1) {
              counts.knownPrevious = totals.current;
            }
          } else {
            // Keep the counts for the next sync (roll already moved or dropped them by window).
            counts.unsentCurrent += counts.flightCurrent;
            counts.unsentPrevious += counts.flightPrevious;
          }
          counts.flightCurrent = 0;
          counts.flightPrevious = 0;
        }
      },
    );
  }
}
