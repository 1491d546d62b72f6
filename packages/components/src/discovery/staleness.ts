import type { LeaseExpiry } from './eureka-options.js';

/**
 * The first tick strictly after `t` of the periodic sequence `first, first + period, first + 2 period, ...`.
 *
 * @example
 * ```ts
 * tickAfter(7_000, 60_000, 100_000); // 127_000
 * tickAfter(7_000, 60_000, 67_000);  // 127_000 (strictly after)
 * ```
 */
export function tickAfter(first: number, period: number, t: number): number {
  if (t < first) return first;
  return first + (Math.floor((t - first) / period) + 1) * period;
}

/**
 * The first tick at or after `t` of `first, first + period, ...`.
 *
 * @example
 * ```ts
 * tickAtOrAfter(0, 10_000, 30_000); // 30_000
 * ```
 */
export function tickAtOrAfter(first: number, period: number, t: number): number {
  if (t <= first) return first;
  return first + Math.ceil((t - first) / period) * period;
}

/**
 * The periodic tasks between a registry change and a client's balancer, as absolute times of their
 * first run and their periods (ms). With zero network latency each runs exactly on its ticks.
 *
 * @example
 * ```ts
 * const s: EurekaSchedule = {
 *   evictionFirst: 60_000, evictionInterval: 60_000, cacheFirst: 30_000, cacheInterval: 30_000,
 *   fetchFirst: 5_000, fetchInterval: 30_000, balancerFirst: 17_000, balancerInterval: 30_000,
 * };
 * ```
 */
export interface EurekaSchedule {
  /** The server's first eviction run and the eviction interval. */
  readonly evictionFirst: number;
  readonly evictionInterval: number;
  /** The first read-only cache refresh and its interval. */
  readonly cacheFirst: number;
  readonly cacheInterval: number;
  /** False: fetches read the registry itself. @default true */
  readonly useReadOnlyResponseCache?: boolean;
  /** The client's fetches (a fetch at `fetchFirst`, then every `fetchInterval`). */
  readonly fetchFirst: number;
  readonly fetchInterval: number;
  /** The balancer's refreshes; a `balancerInterval` of 0 (or none) means the list follows each fetch. */
  readonly balancerFirst?: number;
  readonly balancerInterval?: number;
}

/**
 * When each layer stops listing a departed instance (absolute times, ms).
 *
 * @example
 * ```ts
 * const { registry, balancer } = eurekaShutdownTimeline(schedule, 100_000);
 * ```
 */
export interface EurekaDrop {
  /** The lease left the registry (cancel, or the eviction run that found it expired). */
  readonly registry: number;
  /** The read-only response cache stopped serving it. */
  readonly responseCache: number;
  /** The client's registry cache lost it (the first fetch after that). */
  readonly client: number;
  /** The balancer's list lost it: from here no request goes to it. */
  readonly balancer: number;
}

function downstream(s: EurekaSchedule, registry: number): EurekaDrop {
  const responseCache =
    s.useReadOnlyResponseCache === false ? registry : tickAfter(s.cacheFirst, s.cacheInterval, registry);
  const client = tickAfter(s.fetchFirst, s.fetchInterval, responseCache);
  const interval = s.balancerInterval ?? 0;
  const balancer = interval > 0 ? tickAfter(s.balancerFirst ?? 0, interval, client) : client;
  return { registry, responseCache, client, balancer };
}

/**
 * The exact timeline of a graceful shutdown: the cancel at `cancelAt` removes the lease at once, then
 * each cache in turn. Assumes zero latency and no two layers ticking at the same instant.
 *
 * @example
 * ```ts
 * eurekaShutdownTimeline(schedule, 100_000).balancer; // the first balancer refresh after the fetch after the cache refresh after 100 s
 * ```
 */
export function eurekaShutdownTimeline(s: EurekaSchedule, cancelAt: number): EurekaDrop {
  return downstream(s, cancelAt);
}

/**
 * The lease of an instance that stopped renewing, for {@link eurekaCrashTimeline}.
 *
 * @example
 * ```ts
 * const lease: StoppedLease = { lastRenewal: 95_000, renewed: true, duration: 90_000, expiry: 'eureka' };
 * ```
 */
export interface StoppedLease {
  /** When the server processed the last renewal (or the registration, if `renewed` is false). */
  readonly lastRenewal: number;
  /** Whether the lease was renewed at least once since its registration. */
  readonly renewed: boolean;
  /** The lease duration, ms (90 s by default). */
  readonly duration: number;
  /** How the server counts expiry; see {@link LeaseExpiry}. */
  readonly expiry: LeaseExpiry;
}

/**
 * The instant after which the server counts the lease expired: the last renewal plus twice the
 * duration under `'eureka'` (one duration if it was never renewed), plus one duration under
 * `'documented'`.
 *
 * @example
 * ```ts
 * leaseExpiresAfter({ lastRenewal: 95_000, renewed: true, duration: 90_000, expiry: 'eureka' }); // 275_000
 * ```
 */
export function leaseExpiresAfter(lease: StoppedLease): number {
  const times = lease.expiry === 'eureka' && lease.renewed ? 2 : 1;
  return lease.lastRenewal + times * lease.duration;
}

/**
 * The exact timeline of a crash: the lease expires ({@link leaseExpiresAfter}), the first eviction run
 * strictly after that removes it (assuming self-preservation lets it, and no pause delays the run),
 * then each cache in turn. Assumes zero latency and no two layers ticking at the same instant (at a
 * shared instant the simulator's event order decides, which a model of independent timers cannot).
 *
 * @example
 * ```ts
 * eurekaCrashTimeline(schedule, { lastRenewal: 95_000, renewed: true, duration: 90_000, expiry: 'eureka' });
 * ```
 */
export function eurekaCrashTimeline(s: EurekaSchedule, lease: StoppedLease): EurekaDrop {
  return downstream(s, tickAfter(s.evictionFirst, s.evictionInterval, leaseExpiresAfter(lease)));
}

/**
 * The intervals that bound a staleness window, ms: the Eureka defaults are renewal 30 s, lease 90 s,
 * eviction 60 s, response cache 30 s, fetch 30 s, balancer 30 s.
 *
 * @example
 * ```ts
 * const defaults: EurekaIntervals = { renewal: 30_000, lease: 90_000, eviction: 60_000, cache: 30_000, fetch: 30_000, balancer: 30_000, expiry: 'eureka' };
 * ```
 */
export interface EurekaIntervals {
  readonly renewal: number;
  readonly lease: number;
  readonly eviction: number;
  /** 0 without the read-only response cache. */
  readonly cache: number;
  readonly fetch: number;
  /** 0 without a balancer cache. */
  readonly balancer: number;
  readonly expiry: LeaseExpiry;
}

/**
 * The range of the staleness window (from the fault to the balancer dropping the instance) over every
 * phase of the periodic tasks, with zero latency. Each periodic wait is in (0, period]; a crash comes
 * up to one renewal interval after the last renewal. `best` is an infimum (never reached), `worst` a
 * maximum.
 *
 * - Crash: (k·lease − renewal, k·lease + eviction + cache + fetch + balancer], k = 2 under `'eureka'`
 *   (150 to 330 s with the defaults), 1 under `'documented'` (60 to 240 s).
 * - Graceful shutdown: (0, cache + fetch + balancer] (up to 90 s).
 *
 * @example
 * ```ts
 * stalenessBounds('crash', defaults); // { best: 150_000, worst: 330_000 }
 * ```
 */
export function stalenessBounds(
  fault: 'crash' | 'shutdown',
  i: EurekaIntervals,
): { readonly best: number; readonly worst: number } {
  const caches = i.cache + i.fetch + i.balancer;
  if (fault === 'shutdown') return { best: 0, worst: caches };
  const k = i.expiry === 'eureka' ? 2 : 1;
  return { best: k * i.lease - i.renewal, worst: k * i.lease + i.eviction + caches };
}

/**
 * Kubernetes readiness settings for {@link readinessTimeline} (ms).
 *
 * @example
 * ```ts
 * const k8s: ReadinessSchedule = { probeFirst: 3_000, period: 10_000, timeout: 1_000, failureThreshold: 3, propagationDelay: 1_000 };
 * ```
 */
export interface ReadinessSchedule {
  /** The first probe tick (the container's start); ticks every `period`. */
  readonly probeFirst: number;
  readonly period: number;
  /** Must be below `period` for the closed form. */
  readonly timeout: number;
  readonly failureThreshold: number;
  readonly propagationDelay: number;
}

/**
 * When a pod that stops answering at `failAt` is marked not ready and when clients stop getting it:
 * the first probe tick at or after `failAt` fails when its timeout fires, and so do the next
 * `failureThreshold − 1`; the removal then takes `propagationDelay`.
 *
 * @example
 * ```ts
 * readinessTimeline(k8s, 50_000); // { notReady: 74_000, removed: 75_000 }
 * ```
 */
export function readinessTimeline(
  s: ReadinessSchedule,
  failAt: number,
): { readonly notReady: number; readonly removed: number } {
  const first = tickAtOrAfter(s.probeFirst, s.period, failAt);
  const notReady = first + (s.failureThreshold - 1) * s.period + s.timeout;
  return { notReady, removed: notReady + s.propagationDelay };
}

/**
 * The range of the readiness window over every probe phase: [(F − 1)·period + timeout + delay,
 * F·period + timeout + delay), 21 to 31 s plus the propagation with Kubernetes' defaults.
 *
 * @example
 * ```ts
 * readinessBounds({ period: 10_000, timeout: 1_000, failureThreshold: 3, propagationDelay: 1_000 }); // { best: 22_000, worst: 32_000 }
 * ```
 */
export function readinessBounds(s: Omit<ReadinessSchedule, 'probeFirst'>): {
  readonly best: number;
  readonly worst: number;
} {
  const base = s.timeout + s.propagationDelay;
  return { best: (s.failureThreshold - 1) * s.period + base, worst: s.failureThreshold * s.period + base };
}
