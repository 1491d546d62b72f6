import type { Duration, RpcError, RpcErrorKind, RpcRequest } from '@dsim/core';
import type { Backoff, BackoffSpec } from '../resilience/backoff.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import type { AdaptiveThrottle, EnvoyRetryBudget, RetryQuota } from '../resilience/retry-budget.js';
import type { RatioRetryBudget, RatioRetryBudgetOptions } from './ratio-budget.js';
import type { RetryingClient } from './retrying-client.js';

// Public types of the retrying client (`RetryingClient` in ./retrying-client.ts), kept apart so that the
// client's module holds only its logic.

/**
 * A ratio retry budget given as a spec: the client builds its own {@link RatioRetryBudget} from it.
 *
 * @example
 * ```ts
 * const budget: RatioBudgetSpec = { kind: 'ratio', ratio: 0.1, minPerSecond: 0 };
 * ```
 */
export type RatioBudgetSpec = { kind: 'ratio' } & RatioRetryBudgetOptions;

/**
 * What limits a client's retries (and hedges) beyond `maxAttempts`:
 *
 * - {@link RetryQuota}: the AWS SDK standard-mode token bucket (500 tokens, 5 per retry, 10 after a
 *   timeout or throttle, refunds on success).
 * - {@link EnvoyRetryBudget}: at most max(3, 20% × active requests) retries outstanding at once.
 * - {@link AdaptiveThrottle}: Google SRE client-side throttling; it may refuse any attempt, the first too.
 * - {@link RatioRetryBudget} or a {@link RatioBudgetSpec}: Finagle's budget, retries ≈ ratio × requests
 *   plus a per-second reserve.
 *
 * Pass the same instance to several clients to share one budget between them.
 *
 * @example
 * ```ts
 * new RetryingClient(endpoint, { maxAttempts: 3, budget: new RetryQuota() });
 * ```
 */
export type RetryBudgetOption =
  | RetryQuota
  | EnvoyRetryBudget
  | AdaptiveThrottle
  | RatioRetryBudget
  | RatioBudgetSpec;

/**
 * Hedging ("The Tail at Scale"; gRPC's `hedgingPolicy`): while no attempt has answered, send another one
 * `after` the last one was sent, up to `maxHedges` extra attempts. The first success wins; late answers
 * of the losers are ignored by the client (the endpoint still counts them).
 *
 * @example
 * ```ts
 * const hedge: HedgeOptions = { after: '50ms', maxHedges: 1 };
 * ```
 */
export interface HedgeOptions {
  /** Delay after the last attempt was sent before a hedge is sent (the caller's local time). > 0. */
  after: Duration;
  /**
   * Hedges per call at most. An integer >= 1. Hedges count as attempts, so `maxAttempts` caps them too.
   * @default 1
   */
  maxHedges?: number;
}

/**
 * Why a call ended without a real success (on failed and fallback responses, and in
 * `@dsim.client.give-up` trace records):
 *
 * - `not-retryable`: the last attempt failed with an error kind not in `retryOn` (this also ends a hedged
 *   call at once, as in gRPC, where a fatal status commits the call).
 * - `exhausted`: `maxAttempts` attempts were made and all failed.
 * - `budget`: the retry budget refused a retry (including the adaptive throttle refusing a retry).
 * - `throttled`: the adaptive throttle refused the first attempt (error kind `rejected`, nothing sent).
 * - `breaker`: the circuit breaker did not permit an attempt (error kind `rejected`, nothing sent).
 * - `deadline`: `totalTimeout` or the parent's deadline left no time for another attempt.
 * - `crashed`: the client's node crashed (or was down) while the call was active (kind `unavailable`).
 *
 * @example
 * ```ts
 * if (!res.ok && res.reason === 'breaker') sim.log('failed fast');
 * ```
 */
export type GiveUpReason =
  | 'not-retryable'
  | 'exhausted'
  | 'budget'
  | 'throttled'
  | 'breaker'
  | 'deadline'
  | 'crashed';

/**
 * Options of {@link RetryingClient}. Every field is validated when the client is built; unknown keys
 * are errors with a "did you mean" (a misspelt `maxAttemps` would otherwise silently mean "no retries"),
 * nested specs (`hedge`, `backoff`, a `{ kind: 'ratio' }` budget) included.
 *
 * @example
 * ```ts
 * const options: RetryingClientOptions = {
 *   timeout: '200ms',
 *   totalTimeout: '1s',
 *   maxAttempts: 3,
 *   backoff: { kind: 'exponential', baseMs: 25, capMs: 1000, jitter: 'full' },
 *   budget: { kind: 'ratio', ratio: 0.1 },
 * };
 * ```
 */
export interface RetryingClientOptions<R = unknown> {
  /**
   * Id for metrics, traces and the random stream `${name}/retry`.
   * @default the endpoint's node address
   */
  name?: string;
  /**
   * Timeout of each attempt (caller's local time). The attempt's effective deadline is the earlier of
   * this and the call's deadline (`totalTimeout`, the parent's deadline).
   * @default none (an attempt waits until the call's deadline, or forever)
   */
  timeout?: Duration;
  /**
   * Deadline of the whole call, across attempts and backoff, from `call()` (caller's local time). A retry
   * whose backoff would end at or after it is not made.
   * @default none
   */
  totalTimeout?: Duration;
  /**
   * Attempts per call, the first included (retries and hedges both count). An integer >= 1. The default
   * 1 means no retries, unlike resilience4j (3) and the AWS SDKs (3): retries amplify load, so a
   * simulation should ask for them explicitly. With `hedge` and no `maxAttempts` it is 1 + maxHedges.
   * @default 1 (1 + hedge.maxHedges with hedge)
   */
  maxAttempts?: number;
  /**
   * Delay before each retry (not before hedges): a {@link BackoffSpec} or a built {@link Backoff}. Jitter
   * draws from the stream `${name}/retry`. Retry n (1 for the first retry) waits `backoff.delay(n)`.
   * @default none (retry at once)
   */
  backoff?: BackoffSpec | Backoff;
  /**
   * Error kinds that are retried, each one of core's `RpcErrorKind`s. The default retries what real
   * stacks retry: the attempt's own `timeout`, `unavailable` and `overloaded` (503), and
   * `gateway-timeout` (504: a proxy or frontend gave up on its upstream; Envoy's `retry_on: 5xx` /
   * `gateway-error` and the AWS SDKs' standard mode retry it). Left out: `error` (500), because a
   * handler failure may have had effects and a non-idempotent call is not safe to repeat; `rejected`
   * (429), a deliberate refusal (rate limit, open breaker) that a retry only repeats; and
   * `deadline-exceeded`, because the propagated deadline has passed and no retry can succeed in time.
   *
   * Retrying `gateway-timeout` at every layer multiplies attempts: three layers of 4 attempts each send
   * up to 4 × 4 = 16 attempts to a stuck leaf per request at the second layer (64 at the third).
   * @default ['timeout', 'unavailable', 'overloaded', 'gateway-timeout']
   */
  retryOn?: readonly RpcErrorKind[];
  /**
   * Limits retries and hedges beyond `maxAttempts`; see {@link RetryBudgetOption}.
   * @default none
   */
  budget?: RetryBudgetOption;
  /**
   * Send hedges while an attempt is outstanding; see {@link HedgeOptions}.
   * @default none
   */
  hedge?: HedgeOptions;
  /**
   * Asked before every attempt (`tryAcquirePermission`); told every attempt's outcome (`onSuccess` /
   * `onError` with the attempt's latency). An attempt it refuses is not sent: the call fails fast with
   * kind `rejected` (a refused hedge is just not sent).
   * @default none
   */
  breaker?: CircuitBreaker;
  /**
   * Error kinds the breaker neither records as failures nor as successes (resilience4j's
   * `ignoreExceptions`): the attempt's permission is released instead. For example `['rejected']`, so that
   * a downstream rate limiter's refusals do not open the breaker. Only with `breaker` (an error without).
   * @default [] (every error is recorded)
   */
  breakerIgnores?: readonly RpcErrorKind[];
  /**
   * Called with the failure when a call fails for any reason; its value is returned as an ok response
   * with `fallback: true` (the failure's `error` and `reason` stay on it). Such responses count as `ok`
   * and as `fallbacks`. It runs inside the simulation: one that throws stops the run like any callback.
   * @default none (failures are returned as they are)
   */
  fallback?: (failure: ClientFailure) => R;
  /**
   * Destination of each attempt (1 for the first), e.g. to send a hedge to another replica.
   * @default the `to` given to `call()`
   */
  target?: (attempt: number, to: string) => string;
  /**
   * Told of every attempt as it is sent: its number (1 for the first), its destination and whether it is
   * the first try, a retry or a hedge. For per-attempt accounting (attempts per second, amplification).
   * @default none
   */
  onAttempt?: (attempt: number, to: string, kind: 'first' | 'retry' | 'hedge') => void;
  /**
   * What to do with a failed attempt's retry-after hint (`error.retryAfterMs`, set by a server's
   * `reply.error(kind, message, { retryAfter })`: HTTP `Retry-After` on a 503 or 429, gRPC's
   * `grpc-retry-pushback-ms`):
   *
   * - `ignore`: retry after the backoff alone, as most SDKs do;
   * - `at-least`: wait max(backoff, hint), never retrying earlier than the server asked (RFC 9110
   *   §10.2.3: how long the user agent ought to wait before a follow-up request);
   * - `pushback`: wait exactly the hint instead of the backoff (gRPC's retry design, A6 "Pushback").
   *
   * Only a retry is affected (the kind must still be in `retryOn`; a 429 is `rejected`, which is not
   * retried by default), and a hint that would end past the call's deadline gives up with reason
   * `deadline`. The backoff sequence itself (decorrelated jitter's previous delay) is not stretched by
   * the hint. Hedges are not delayed.
   * @default 'ignore'
   */
  retryAfter?: 'ignore' | 'at-least' | 'pushback';
}

/**
 * Per-call options of {@link RetryingClient.call}.
 *
 * @example
 * ```ts
 * client.call('db', 'GET', { key: 'user:1', parent: request, size: 200 });
 * ```
 */
export interface RetryingCallOptions {
  /** Key for hashing and caching (every attempt carries it). @default the parent's key */
  key?: string;
  /** The request being served that makes this call: its origin, key and deadline propagate. */
  parent?: RpcRequest;
  /** Request size in bytes. @default 0 */
  size?: number;
  /**
   * How long this call may take in all, retries and backoffs included (ms of the caller's local time),
   * on top of the client's own `totalTimeout`: the earlier limit wins. A `Service` passes its downstream
   * call's `timeout` here.
   * @default none
   */
  timeout?: number;
  /**
   * Absolute deadline (true time) instead of the parent's: `Infinity` stops the parent's deadline from
   * propagating (what a `Service` passes with `propagateDeadline: false`).
   * @default the parent's deadline, else none
   */
  deadline?: number;
}

/**
 * Fields every {@link ClientResponse} has.
 *
 * @example
 * ```ts
 * const { latency, attempts, retries, hedges } = res;
 * ```
 */
export interface ClientResponseBase {
  /** Time from `call()` to the response (ms of true time), across every attempt and backoff. */
  readonly latency: number;
  /** Attempts sent (0 when the call failed before sending anything). */
  readonly attempts: number;
  /** Of those, retries (sent after a failure). */
  readonly retries: number;
  /** Of those, hedges (sent after `hedge.after` without an answer). */
  readonly hedges: number;
  /** The request of the attempt that decided the outcome (the last one answered); undefined if none was. */
  readonly request: RpcRequest | undefined;
}

/**
 * A real success: an attempt answered ok.
 *
 * @example
 * ```ts
 * if (res.ok && !res.fallback) use(res.value);
 * ```
 */
export interface ClientSuccess<R = unknown> extends ClientResponseBase {
  readonly ok: true;
  readonly value: R;
  readonly fallback: false;
}

/**
 * A failure replaced by the `fallback` option's value.
 *
 * @example
 * ```ts
 * if (res.ok && res.fallback) sim.log(`served stale after ${res.error.kind}`);
 * ```
 */
export interface ClientFallback<R = unknown> extends ClientResponseBase {
  readonly ok: true;
  readonly value: R;
  readonly fallback: true;
  /** The failure the fallback replaced. */
  readonly error: RpcError;
  readonly reason: GiveUpReason;
}

/**
 * A failed call: the error of the last attempt, or the local refusal (`rejected` by the breaker or the
 * throttle, `unavailable` after a crash, `timeout` when the deadline had passed before any attempt).
 *
 * @example
 * ```ts
 * if (!res.ok) sim.log(`${res.error.kind} after ${res.attempts} attempts (${res.reason})`);
 * ```
 */
export interface ClientFailure extends ClientResponseBase {
  readonly ok: false;
  readonly error: RpcError;
  readonly fallback: false;
  readonly reason: GiveUpReason;
}

/**
 * What a {@link RetryingClient} call resolves to: never an exception, always one of these.
 *
 * @example
 * ```ts
 * const res = yield* client.call('db', 'GET');
 * if (res.ok) sim.log(`got ${res.value} after ${res.attempts} attempts`);
 * ```
 */
export type ClientResponse<R = unknown> = ClientSuccess<R> | ClientFallback<R> | ClientFailure;

/**
 * Client-side accounting. At every moment `requests = ok + failed + inFlight` and
 * `attempts = requests − unsent + retries + hedges`.
 *
 * @example
 * ```ts
 * const { requests, attempts } = client.stats;
 * const amplification = attempts / requests;
 * ```
 */
export interface RetryingClientStats {
  /** Calls made. */
  requests: number;
  /** Calls that resolved ok (fallbacks included). */
  ok: number;
  /** Calls that resolved with an error. */
  failed: number;
  /** Calls not resolved yet. */
  inFlight: number;
  /** Attempts sent (first tries, retries and hedges). */
  attempts: number;
  /** Retries sent. */
  retries: number;
  /** Hedges sent. */
  hedges: number;
  /** Retries and hedges the budget refused, plus attempts the adaptive throttle refused. */
  budgetDenied: number;
  /** Attempts the circuit breaker did not permit. */
  breakerRejected: number;
  /** Failures replaced by the fallback (counted in `ok`). */
  fallbacks: number;
  /** Calls that ended without sending any attempt (breaker, throttle, deadline already passed, node down). */
  unsent: number;
  /** Failed calls by their final error kind (sums to `failed`). */
  failedBy: Record<RpcErrorKind, number>;
}

/**
 * The error kinds retried by default: `timeout`, `unavailable`, `overloaded`, `gateway-timeout` (see
 * {@link RetryingClientOptions.retryOn} for why these and not the others).
 *
 * @example
 * ```ts
 * new RetryingClient(endpoint, { maxAttempts: 3, retryOn: [...DEFAULT_RETRY_ON, 'error'] });
 * ```
 */
export const DEFAULT_RETRY_ON: readonly RpcErrorKind[] = Object.freeze([
  'timeout',
  'unavailable',
  'overloaded',
  'gateway-timeout',
] as const);
