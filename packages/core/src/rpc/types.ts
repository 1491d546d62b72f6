/**
 * Why a call failed. Each kind stands for the status a real stack would return; the HTTP and gRPC
 * equivalents are listed so a model can be read against production dashboards:
 *
 * | kind | HTTP | gRPC | retried by default (RetryingClient) |
 * |---|---|---|---|
 * | `timeout` | (none: the caller's own timer) | `DEADLINE_EXCEEDED` (client side) | yes |
 * | `rejected` | 429 | `RESOURCE_EXHAUSTED` | no |
 * | `unavailable` | 503 | `UNAVAILABLE` | yes |
 * | `overloaded` | 503 | `UNAVAILABLE` | yes |
 * | `gateway-timeout` | 504 | `UNAVAILABLE` (Envoy's mapping of 504) | yes |
 * | `deadline-exceeded` | 504 | `DEADLINE_EXCEEDED` | no |
 * | `error` | 500 | `INTERNAL` | no |
 */
export type RpcErrorKind =
  /** The caller's own timeout or deadline passed before a response arrived. */
  | 'timeout'
  /** The server refused the request (e.g. a rate limiter or a full queue). */
  | 'rejected'
  /** The server is down or unreachable, or the caller crashed while waiting. */
  | 'unavailable'
  /** The server is overloaded (load shedding). */
  | 'overloaded'
  /**
   * A frontend or proxy gave up waiting on its own upstream (HTTP 504 Gateway Timeout, what Envoy
   * answers when `route.timeout` fires). Retryable: Envoy's `retry_on: 5xx` and `gateway-error` cover
   * 504, and the AWS SDKs' standard retry mode retries it.
   */
  | 'gateway-timeout'
  /** The request's propagated deadline had already passed when the server looked at it. */
  | 'deadline-exceeded'
  /** The handler failed. */
  | 'error';

// A record, not a list, so that a new RpcErrorKind fails to compile here until it is added.
const RPC_ERROR_KIND_SET: Record<RpcErrorKind, true> = {
  timeout: true,
  rejected: true,
  unavailable: true,
  overloaded: true,
  'gateway-timeout': true,
  'deadline-exceeded': true,
  error: true,
};

/**
 * Every {@link RpcErrorKind}, in the order of the table above (`retryOn: RPC_ERROR_KINDS` retries any
 * failure).
 *
 * @example
 * ```ts
 * RPC_ERROR_KINDS.includes('timeout'); // true
 * ```
 */
export const RPC_ERROR_KINDS: readonly RpcErrorKind[] = Object.freeze(
  Object.keys(RPC_ERROR_KIND_SET) as RpcErrorKind[],
);

/** The error half of a response. */
export interface RpcError {
  readonly kind: RpcErrorKind;
  readonly message: string;
  /**
   * The server's hint of how long (ms) the caller should wait before trying again: HTTP's `Retry-After`
   * on a 503 or 429 (RFC 9110 §10.2.3), gRPC's `grpc-retry-pushback-ms`. Absent when the server gave
   * none. A client honours it only when told to (`RetryingClient`'s `retryAfter` option).
   */
  readonly retryAfterMs?: number;
}

/** A request as the server sees it. */
export interface RpcRequest<P = unknown> {
  /** Unique per caller endpoint. */
  readonly id: number;
  readonly from: string;
  readonly to: string;
  readonly payload: P;
  /** Time the top-level request started (propagated to downstream calls). */
  readonly origin: number;
  /** Absolute time after which the caller no longer waits (propagated downstream). */
  readonly deadline: number;
  /** 1 for the first try, 2 for the first retry, ... */
  readonly attempt: number;
  /** Optional key for hashing and caching. */
  readonly key: string | undefined;
  /** Bytes. */
  readonly size: number;
  /** Time the request was sent. */
  readonly sentAt: number;
}

/** A response: ok with a value, or a typed error. `latency` is measured by the caller. */
export type RpcResponse<R = unknown> =
  | { readonly ok: true; readonly value: R; readonly latency: number; readonly request: RpcRequest }
  | { readonly ok: false; readonly error: RpcError; readonly latency: number; readonly request: RpcRequest };
