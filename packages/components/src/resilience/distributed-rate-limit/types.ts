import { invalidArgument } from '@dsim/core';

/**
 * Why a {@link DistributedLimiter} decided as it did.
 *
 * - `under-limit`: admitted, the count it saw left room.
 * - `over-limit`: rejected, the count it saw was at the limit (HTTP 429).
 * - `fail-open`: admitted without a decision, because the counter store could not be reached in time
 *   (Envoy's `failure_mode_deny: false`, its default; counted as `failure_mode_allowed`).
 * - `fail-closed`: rejected without a decision, for the same reason (`failure_mode_deny: true`; Envoy
 *   answers `status_on_error`, HTTP 500 by default, not 429).
 *
 * @example
 * ```ts
 * const reason: AdmitReason = 'fail-open';
 * ```
 */
export type AdmitReason = 'under-limit' | 'over-limit' | 'fail-open' | 'fail-closed';

/**
 * The answer of a {@link DistributedLimiter} to one request.
 *
 * - `allowed`: whether the request may proceed.
 * - `reason`: see {@link AdmitReason}.
 * - `latencyMs`: time the decision added to the request: 0 for a decision taken in the instance, the
 *   round trip to the store (or the check's timeout) for one taken there.
 *
 * @example
 * ```ts
 * limiter.admit('user-42', (d) => (d.allowed ? forward() : reply(429)));
 * ```
 */
export interface AdmitDecision {
  readonly allowed: boolean;
  readonly reason: AdmitReason;
  readonly latencyMs: number;
}

/**
 * One instance's view of a rate limit shared by several instances (proxies, API gateways, edge
 * servers): it admits or rejects each request for a key (a descriptor: a client IP, an API key, a
 * route). Decisions are asynchronous because some designs ask a counter store over the network:
 * `done` is called exactly once per `admit`, at once (before `admit` returns) for a decision taken in
 * the instance, later for one taken at the store. Time is the simulation's.
 *
 * Implementations: {@link LocalShareLimiter} (a limit per instance, nothing shared),
 * {@link CentralLimiter} (every request asks a central store, as Envoy's global rate limiting does)
 * and {@link SyncedLimiter} (local counts synchronised with a store every interval, as Cloudflare's
 * asynchronous counters are).
 *
 * @example
 * ```ts
 * const limiter: DistributedLimiter = new CentralLimiter(RpcEndpoint.of(node), { store: 'ratelimit' });
 * limiter.admit('client-1', (decision) => sim.log(decision.reason));
 * ```
 */
export interface DistributedLimiter {
  /** The design: `'local'`, `'central'` or `'synced'`. */
  readonly kind: 'local' | 'central' | 'synced';
  /** Decisions so far. */
  readonly stats: DistributedLimiterStats;
  /** Decides one request for `key` (a non-empty string); `done` receives the decision exactly once. */
  admit(key: string, done: (decision: AdmitDecision) => void): void;
}

/**
 * Counts of a {@link DistributedLimiter}'s decisions. At every moment admitted + rejected + pending equals
 * the calls to `admit`.
 *
 * @example
 * ```ts
 * const { admitted, rejected, failedOpen } = limiter.stats;
 * ```
 */
export interface DistributedLimiterStats {
  /** Requests admitted (including `failedOpen`). */
  readonly admitted: number;
  /** Requests rejected (including `failedClosed`). */
  readonly rejected: number;
  /** Requests whose decision has not come back yet. */
  readonly pending: number;
  /** Requests admitted because the store could not be reached (`fail-open`). */
  readonly failedOpen: number;
  /** Requests rejected because the store could not be reached (`fail-closed`). */
  readonly failedClosed: number;
  /** Calls this instance made to the counter store (checks or syncs). */
  readonly storeCalls: number;
}

/**
 * The decision for a request admitted in the instance: shared, nothing allocated per request.
 *
 * @example
 * ```ts
 * done(ADMIT_LOCAL); // { allowed: true, reason: 'under-limit', latencyMs: 0 }
 * ```
 */
export const ADMIT_LOCAL: AdmitDecision = Object.freeze({
  allowed: true,
  reason: 'under-limit',
  latencyMs: 0,
});

/**
 * The decision for a request rejected in the instance: shared, nothing allocated per request.
 *
 * @example
 * ```ts
 * done(REJECT_LOCAL); // { allowed: false, reason: 'over-limit', latencyMs: 0 }
 * ```
 */
export const REJECT_LOCAL: AdmitDecision = Object.freeze({
  allowed: false,
  reason: 'over-limit',
  latencyMs: 0,
});

/**
 * @internal Throws unless `key` is a non-empty string (checked per call without allocating).
 *
 * @example
 * ```ts
 * checkKey('CentralLimiter', key);
 * ```
 */
export function checkKey(component: string, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0)
    throw invalidArgument('key', key, 'a non-empty string (the descriptor being limited)', component);
}
