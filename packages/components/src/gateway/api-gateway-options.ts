import type { Distribution, Duration } from '@dsim/core';
import type { RateLimiterSpec } from '../resilience/rate-limiters/factory.js';

/**
 * What a client sends to an {@link ApiGateway}: the HTTP method and path it routes on, the tenant (API
 * key, client id) its limits are kept per, and a body passed on to the backend.
 *
 * @example
 * ```ts
 * client.call('gateway', { method: 'GET', path: '/orders/42', tenant: 'acme' } satisfies GatewayRequest);
 * ```
 */
export interface GatewayRequest {
  /** @default 'GET' */
  readonly method?: string;
  /** The request path, e.g. `/orders/42`; a query string is ignored when matching. */
  readonly path: string;
  /** Whose limits apply. @default 'anonymous' */
  readonly tenant?: string;
  /** Passed on to the backend as its payload. @default the whole request */
  readonly body?: unknown;
}

/** One backend call of an aggregating route. */
export interface GatewayPart {
  /** The backend's address (a service or a load balancer). */
  readonly to: string;
  /**
   * An optional part may fail or be late: the answer is then degraded (its slot is `null`) instead of an
   * error. A required part's failure fails the request at once.
   * @default false
   */
  readonly optional?: boolean;
  /** The payload sent to this part. @default the request's body (or the request) */
  readonly payload?: unknown;
}

/**
 * A route: which requests it takes (method and path), where they go (one backend, or several whose
 * answers are joined), and its own timeout and rate limit.
 *
 * @example
 * ```ts
 * const routes: GatewayRoute[] = [
 *   { name: 'orders', method: 'GET', path: '/orders/:id', to: 'orders' },
 *   { name: 'home', path: '/home', aggregate: [{ to: 'profile' }, { to: 'feed' }, { to: 'ads', optional: true }] },
 * ];
 * ```
 */
export interface GatewayRoute {
  /** Unique name, used in stats and errors. */
  readonly name: string;
  /** Methods matched (upper case). @default any method */
  readonly method?: string | readonly string[];
  /** Path pattern: literals, `:param` segments and a final `*` (see {@link compilePathPattern}). */
  readonly path: string;
  /** The backend's address. Exactly one of `to` and `aggregate`. */
  readonly to?: string;
  /** Backends called in parallel, their answers joined in order into an array (backend for frontend). */
  readonly aggregate?: readonly GatewayPart[];
  /** This route's total timeout. @default the gateway's `timeout` */
  readonly timeout?: Duration;
  /** A limit shared by every caller of this route (API Gateway's per-method throttling). @default none */
  readonly rateLimit?: RateLimiterSpec;
  /** Whether the gateway's `auth` applies to this route. @default true */
  readonly auth?: boolean;
}

/**
 * Authentication before routing. Local validation (a JWT's signature: a cost on the gateway), or a
 * remote authorizer called per request (AWS API Gateway's Lambda authorizer, token introspection), whose
 * answer may be cached per tenant. An authorizer that fails or times out fails the request (`error`, as
 * API Gateway answers 500 when its authorizer fails).
 *
 * @example
 * ```ts
 * const auth: GatewayAuth = { service: 'authz', timeout: '1s', cacheTtl: '300s' };
 * ```
 */
export interface GatewayAuth {
  /** Time to validate a token on the gateway itself. @default none */
  readonly latency?: Distribution;
  /** Address of a remote authorizer called with `{ tenant }`. @default none */
  readonly service?: string;
  /** How long to wait for the authorizer. @default '1s' */
  readonly timeout?: Duration;
  /**
   * Keep an authorizer's "allowed" per tenant this long (API Gateway's authorizer result TTL: 300 s by
   * default, 0 to turn caching off, at most 3600 s).
   * @default 0
   */
  readonly cacheTtl?: Duration;
}

/**
 * Options of {@link ApiGateway}. Defaults follow AWS API Gateway where it documents one: a 29 s
 * integration timeout, 429 when throttled, 504 when the integration times out.
 */
export interface ApiGatewayOptions {
  /** Routes, matched in order: the first whose method and path match takes the request. */
  readonly routes: readonly GatewayRoute[];
  /**
   * Total time the gateway waits for a route's backend(s) before answering `gateway-timeout` (504).
   * The backend is not told: it keeps working on a request nobody waits for, unless
   * `propagateDeadline` passes the deadline on.
   * @default '29s' (API Gateway's default integration timeout)
   */
  readonly timeout?: Duration;
  /**
   * Pass the gateway's deadline (arrival at the backend call + timeout, or the caller's, if earlier) on
   * to the backends, so that ones that check it (`Service` with `dropExpired`) skip work nobody waits for.
   * @default false
   */
  readonly propagateDeadline?: boolean;
  /** The gateway's own time per request (TLS, routing, transformations). @default none */
  readonly latency?: Distribution;
  /** Authentication. @default none */
  readonly auth?: GatewayAuth;
  /** One limiter per tenant, built from this spec (a usage plan's throttle). @default none */
  readonly tenantLimit?: RateLimiterSpec;
  /** Per-tenant overrides of `tenantLimit`, by tenant name. @default none */
  readonly tenantLimits?: Readonly<Record<string, RateLimiterSpec>>;
  /**
   * One limiter for everything (API Gateway's account throttle: a token bucket of 10 000 requests/s with
   * a burst of 5 000 per Region).
   * @default none
   */
  readonly accountLimit?: RateLimiterSpec;
  /** Most requests in progress at once; beyond it the gateway answers `overloaded` (503). @default Infinity */
  readonly maxInFlight?: number;
}
