import { compilePathPattern } from '@dsim/components';
import { DsimError } from '@dsim/core';
import { z } from 'zod';
import { criticalitySchema } from './criticality-schema.js';
import { distributionSchema, durationSchema, durationWithin } from './distributions.js';
import { rateLimitSchema } from './rate-limit-schema.js';

// The gateway node (ApiGateway) and what a clients node sends it. Every field maps onto one
// ApiGatewayOptions field; defaults are the component's (AWS API Gateway's where it documents one).

const name = z.string().min(1, { error: 'must be a node name' });

/** An upper-case HTTP method (`GET`, `POST`, ...), as ApiGateway matches them. */
export const methodSchema = z
  .string()
  .regex(/^[A-Z]+$/, { error: 'must be an upper-case HTTP method such as "GET"' });

/**
 * A path pattern, checked by the components' `compilePathPattern` (literals, `:param` segments, a final
 * `*`): the error says what is wrong with it.
 */
export const pathPatternSchema = z
  .string()
  .startsWith('/', { error: 'must be a path pattern starting with "/", such as "/orders" or "/users/:id"' })
  .superRefine((path, ctx) => {
    if (!path.startsWith('/')) return; // reported above
    try {
      compilePathPattern('gateway', 'path', path);
    } catch (e) {
      if (!(e instanceof DsimError)) throw e;
      ctx.addIssue({ code: 'custom', message: `must be ${String(e.details.allowed)}` });
    }
  });

const positiveDuration = durationSchema.refine((d) => durationWithin(d, 0, Number.POSITIVE_INFINITY, true), {
  error: 'must be a duration > 0',
});

/** One backend of an aggregating route (GatewayPart without `payload`). */
const partSchema = z.strictObject({
  /** The backend: a balancer, service, database or strangler node. */
  to: name,
  /** An optional part that fails or is late leaves `null` in its slot (a degraded answer). @default false */
  optional: z.boolean().optional(),
});

/** A route of a gateway node (ApiGateway's GatewayRoute). */
const routeSchema = z.strictObject({
  /** Unique among the gateway's routes. */
  name: z.string().min(1),
  /** Methods matched. @default any method */
  method: z.union([methodSchema, z.array(methodSchema).min(1)]).optional(),
  /** Path pattern: literals, `:param` segments and a final `*`. */
  path: pathPatternSchema,
  /** The one backend (exactly one of `to` and `aggregate`). */
  to: name.optional(),
  /** Backends called in parallel, their answers joined in order (backend for frontend). */
  aggregate: z.array(partSchema).min(1).optional(),
  /** This route's total timeout (504 after it). @default the gateway's `timeout` */
  timeout: positiveDuration.optional(),
  /** A limit shared by every caller of the route (API Gateway's per-method throttle). @default none */
  rateLimit: rateLimitSchema.optional(),
  /** Whether the gateway's `auth` applies to this route. @default true */
  auth: z.boolean().optional(),
});

/** API Gateway's longest authorizer result TTL. */
const MAX_AUTH_TTL_MS = 3_600_000;

/**
 * An API gateway (ApiGateway): routes by method and path to one backend or several (aggregation), with
 * authentication, rate limits per tenant, route and account, and a total timeout answering 504.
 * Clients send it `requests` (method, path) as their `tenant`.
 *
 * @example
 * ```ts
 * gatewaySchema.parse({ kind: 'gateway', routes: [{ name: 'orders', path: '/orders/:id', to: 'orders' }] });
 * ```
 */
export const gatewaySchema = z.strictObject({
  kind: z.literal('gateway'),
  /** Routes, matched in order: the first whose method and path match takes the request. */
  routes: z.array(routeSchema).min(1),
  /** Total wait for a route's backends before a 504 (`gateway-timeout`). @default 29 s (API Gateway's integration timeout) */
  timeout: positiveDuration.optional(),
  /** Pass the deadline on to the backends (a service with `dropExpired` skips expired work). @default false */
  propagateDeadline: z.boolean().optional(),
  /** The gateway's own time per request (TLS, routing). @default none */
  latency: distributionSchema.optional(),
  /** Authentication: local (`latency`) and/or a remote authorizer (`service`). @default none */
  auth: z
    .strictObject({
      /** Time to validate a token on the gateway. @default none */
      latency: distributionSchema.optional(),
      /** A node called with `{ tenant }` per request (a cache miss): a balancer, service or database. @default none */
      service: name.optional(),
      /** How long to wait for the authorizer (a failure is a 500, `error`). @default 1 s */
      timeout: positiveDuration.optional(),
      /** Keep an authorizer's "allowed" per tenant this long, at most 3600 s. @default 0 (no cache) */
      cacheTtl: durationSchema
        .refine((d) => durationWithin(d, 0, MAX_AUTH_TTL_MS), {
          error: "must be a duration from 0 to 3600 s (API Gateway's longest authorizer TTL)",
        })
        .optional(),
    })
    .optional(),
  /** One limiter per tenant built from this spec (a usage plan's throttle); a refusal is a 429. @default none */
  tenantLimit: rateLimitSchema.optional(),
  /** Per-tenant overrides of `tenantLimit`, by tenant name. @default none */
  tenantLimits: z.record(z.string().min(1), rateLimitSchema).optional(),
  /** One limiter for every request (API Gateway's account throttle). @default none */
  accountLimit: rateLimitSchema.optional(),
  /** Requests in progress at once; one more is answered `overloaded` (503). @default Infinity */
  maxInFlight: z.int().min(1).optional(),
  region: z.string().min(1).optional(),
});

/** A gateway node of a system. */
export type GatewayDescription = z.infer<typeof gatewaySchema>;
/** One route of a gateway node. */
export type GatewayRouteDescription = z.infer<typeof routeSchema>;

/**
 * One kind of request a clients node sends to a gateway or strangler node: a GatewayRequest's method
 * and path, drawn per request in proportion to `weight`.
 */
export const clientRequestSchema = z.strictObject({
  /** @default 'GET' */
  method: methodSchema.optional(),
  /** The request path, e.g. `/orders/42` (matched against the routes; a query string is ignored). */
  path: z.string().startsWith('/', { error: 'must be a path starting with "/"' }),
  /** Relative frequency among the clients node's `requests`. @default 1 */
  weight: z.number().positive().optional(),
  /** This request's criticality (see the clients node's `criticality`). @default the clients node's */
  criticality: criticalitySchema.optional(),
});

/** One entry of a clients node's `requests`. */
export type ClientRequestDescription = z.infer<typeof clientRequestSchema>;
