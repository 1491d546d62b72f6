import {
  checkBoolean,
  checkDistribution,
  checkDuration,
  checkKeys,
  checkNumber,
  checkObject,
  checkOptions,
  type Distribution,
  invalidOption,
  optionKeys,
  owner,
} from '@dsim/core';
import { createRateLimiter, type RateLimiterSpec } from '../resilience/rate-limiters/factory.js';
import type { RateLimiter } from '../resilience/rate-limiters/types.js';
import type { ApiGatewayOptions, GatewayAuth, GatewayPart, GatewayRoute } from './api-gateway-options.js';
import { checkMethods, compilePathPattern, type PathPattern } from './path-pattern.js';

// Validation of ApiGatewayOptions, at construction: the gateway only reads the resolved values.

const C = 'ApiGateway';

const GATEWAY_KEYS = optionKeys<ApiGatewayOptions>()({
  routes: true,
  timeout: true,
  propagateDeadline: true,
  latency: true,
  auth: true,
  tenantLimit: true,
  tenantLimits: true,
  accountLimit: true,
  maxInFlight: true,
});
const ROUTE_KEYS = optionKeys<GatewayRoute>()({
  name: true,
  method: true,
  path: true,
  to: true,
  aggregate: true,
  timeout: true,
  rateLimit: true,
  auth: true,
});
const PART_KEYS = optionKeys<GatewayPart>()({ to: true, optional: true, payload: true });
const AUTH_KEYS = optionKeys<GatewayAuth>()({ latency: true, service: true, timeout: true, cacheTtl: true });

/** API Gateway's default (and, for most APIs, maximum) integration timeout. */
const DEFAULT_TIMEOUT_MS = 29_000;
/** API Gateway's longest authorizer result TTL. */
const MAX_AUTH_TTL_MS = 3_600_000;

/**
 * A route, validated: its pattern compiled, its limiter built.
 *
 * @example
 * ```ts
 * const r: ResolvedRoute = resolveGateway({ routes: [{ name: 'a', path: '/a', to: 'svc' }] }).routes[0];
 * ```
 */
export interface ResolvedRoute {
  readonly name: string;
  /** Upper-case methods, or undefined for any. */
  readonly methods: readonly string[] | undefined;
  readonly pattern: PathPattern;
  /** The backends: one for a plain route, several for an aggregating one. */
  readonly parts: readonly {
    readonly to: string;
    readonly optional: boolean;
    readonly payload?: unknown;
    readonly hasPayload: boolean;
  }[];
  readonly aggregate: boolean;
  readonly timeout: number;
  readonly limiter: RateLimiter | undefined;
  readonly auth: boolean;
}

/**
 * {@link ApiGatewayOptions}, validated, with defaults applied.
 *
 * @example
 * ```ts
 * const config = resolveGateway({ routes: [{ name: 'a', path: '/a', to: 'svc' }] }); // config.routes[0].timeout: 29000
 * ```
 */
export interface ResolvedGateway {
  readonly routes: readonly ResolvedRoute[];
  readonly propagateDeadline: boolean;
  readonly latency: Distribution | undefined;
  readonly authLatency: Distribution | undefined;
  readonly authService: string | undefined;
  readonly authTimeout: number;
  readonly authCacheTtl: number;
  readonly tenantLimit: RateLimiterSpec | undefined;
  readonly tenantLimits: ReadonlyMap<string, RateLimiterSpec>;
  readonly accountLimiter: RateLimiter | undefined;
  readonly maxInFlight: number;
}

/**
 * Checks every field of `options` (unknown keys first, so a typo is reported as such) and applies the
 * defaults.
 *
 * @example
 * ```ts
 * resolveGateway({ routes: [{ name: 'a', path: '/a', to: 'svc', timout: 5 }] });
 * // ApiGateway: unknown option routes[0].timout (did you mean "timeout"?)
 * ```
 */
export function resolveGateway(options: ApiGatewayOptions): ResolvedGateway {
  checkObject(C, 'options', options, 'an options object with routes');
  checkOptions(C, options, GATEWAY_KEYS);
  const timeout = checkDuration(C, 'timeout', options.timeout, { positive: true }, DEFAULT_TIMEOUT_MS);
  if (!Array.isArray(options.routes) || options.routes.length === 0)
    throw invalidOption(
      C,
      'routes',
      options.routes,
      'a non-empty array of routes { name, path, to | aggregate }',
    );
  const names = new Set<string>();
  const routes = options.routes.map((route, i) => {
    const r = resolveRoute(route, `routes[${i}]`, timeout);
    if (names.has(r.name)) throw invalidOption(C, `routes[${i}].name`, r.name, 'a name no other route has');
    names.add(r.name);
    return r;
  });
  const auth = options.auth;
  if (auth !== undefined) {
    checkObject(C, 'auth', auth, 'an object { latency?, service?, timeout?, cacheTtl? }');
    checkKeys(owner(C, 'auth'), auth, AUTH_KEYS);
    if (auth.latency === undefined && auth.service === undefined)
      throw invalidOption(
        C,
        'auth',
        auth,
        'an object with latency (local validation) or service (a remote authorizer), or both',
      );
  }
  const authService = auth?.service;
  if (authService !== undefined && (typeof authService !== 'string' || authService === ''))
    throw invalidOption(C, 'auth.service', authService, "the authorizer's address (a non-empty string)");
  if (
    authService === undefined &&
    auth !== undefined &&
    (auth.timeout !== undefined || auth.cacheTtl !== undefined)
  )
    throw invalidOption(
      C,
      'auth.service',
      authService,
      "set when auth.timeout or auth.cacheTtl is (they are the remote authorizer's)",
    );
  const tenantLimits = new Map<string, RateLimiterSpec>();
  if (options.tenantLimits !== undefined) {
    checkObject(C, 'tenantLimits', options.tenantLimits, 'an object of tenant name to rate limiter spec');
    for (const [tenant, spec] of Object.entries(options.tenantLimits)) {
      limiterOf(`tenantLimits.${tenant}`, spec); // validated now, built per tenant later
      tenantLimits.set(tenant, spec);
    }
  }
  if (options.tenantLimit !== undefined) limiterOf('tenantLimit', options.tenantLimit);
  return {
    routes,
    propagateDeadline: checkBoolean(C, 'propagateDeadline', options.propagateDeadline, false),
    latency:
      options.latency === undefined
        ? undefined
        : checkDistribution(C, 'latency', options.latency, 'lognormal({ median: 1, p99: 5 })'),
    authLatency:
      auth?.latency === undefined
        ? undefined
        : checkDistribution(C, 'auth.latency', auth.latency, 'constant(0.5)'),
    authService,
    authTimeout: checkDuration(C, 'auth.timeout', auth?.timeout, { positive: true }, 1000),
    authCacheTtl: checkDuration(C, 'auth.cacheTtl', auth?.cacheTtl, { max: MAX_AUTH_TTL_MS }, 0),
    tenantLimit: options.tenantLimit,
    tenantLimits,
    accountLimiter:
      options.accountLimit === undefined ? undefined : limiterOf('accountLimit', options.accountLimit),
    maxInFlight: checkNumber(
      C,
      'maxInFlight',
      options.maxInFlight,
      { integer: true, min: 1, infinity: true },
      Infinity,
    ),
  };
}

function resolveRoute(route: GatewayRoute, at: string, defaultTimeout: number): ResolvedRoute {
  checkObject(C, at, route, 'a route { name, path, to | aggregate }');
  checkKeys(owner(C, at), route, ROUTE_KEYS);
  if (typeof route.name !== 'string' || route.name === '')
    throw invalidOption(C, `${at}.name`, route.name, 'a non-empty string');
  const pattern = compilePathPattern(C, `${at}.path`, route.path);
  const methods = checkMethods(C, `${at}.method`, route.method);
  if ((route.to === undefined) === (route.aggregate === undefined))
    throw invalidOption(C, at, route, 'a route with exactly one of to (one backend) and aggregate (several)');
  let parts: ResolvedRoute['parts'];
  if (route.to !== undefined) {
    if (typeof route.to !== 'string' || route.to === '')
      throw invalidOption(C, `${at}.to`, route.to, "the backend's address (a non-empty string)");
    parts = [{ to: route.to, optional: false, hasPayload: false }];
  } else {
    if (!Array.isArray(route.aggregate) || route.aggregate.length === 0)
      throw invalidOption(
        C,
        `${at}.aggregate`,
        route.aggregate,
        'a non-empty array of parts { to, optional?, payload? }',
      );
    parts = route.aggregate.map((raw: unknown, j) => {
      const pat = `${at}.aggregate[${j}]`;
      checkObject(C, pat, raw, 'a part { to, optional?, payload? }');
      const part = raw as GatewayPart;
      checkKeys(owner(C, pat), part, PART_KEYS);
      if (typeof part.to !== 'string' || part.to === '')
        throw invalidOption(C, `${pat}.to`, part.to, "the backend's address (a non-empty string)");
      return {
        to: part.to,
        optional: checkBoolean(C, `${pat}.optional`, part.optional, false),
        payload: part.payload,
        hasPayload: Object.hasOwn(part, 'payload'),
      };
    });
    if (parts.every((p) => p.optional))
      throw invalidOption(C, `${at}.aggregate`, '(every part optional)', 'at least one required part');
  }
  return {
    name: route.name,
    methods,
    pattern,
    parts,
    aggregate: route.aggregate !== undefined,
    timeout: checkDuration(C, `${at}.timeout`, route.timeout, { positive: true }, defaultTimeout),
    limiter: route.rateLimit === undefined ? undefined : limiterOf(`${at}.rateLimit`, route.rateLimit),
    auth: checkBoolean(C, `${at}.auth`, route.auth, true),
  };
}

/** Builds a limiter, its errors prefixed with the field it came from. */
function limiterOf(field: string, spec: RateLimiterSpec): RateLimiter {
  if (spec === null || typeof spec !== 'object')
    throw invalidOption(
      C,
      field,
      spec,
      'a rate limiter spec such as { kind: "token-bucket", capacity: 100, refillPerSecond: 50 }',
    );
  try {
    return createRateLimiter(spec);
  } catch (error) {
    if (error instanceof Error) error.message = `${C}: ${field}: ${error.message}`;
    throw error;
  }
}
