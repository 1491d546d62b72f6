import {
  type Counter,
  type Histogram,
  type NetNode,
  type NodeTimer,
  type RandomStream,
  type Reply,
  RpcEndpoint,
  type RpcErrorKind,
  type RpcRequest,
  type RpcResponse,
} from '@dsim/core';
import { createRateLimiter } from '../resilience/rate-limiters/factory.js';
import type { RateLimiter } from '../resilience/rate-limiters/types.js';
import { type ResolvedGateway, type ResolvedRoute, resolveGateway } from './api-gateway-config.js';
import type { ApiGatewayOptions, GatewayRequest } from './api-gateway-options.js';
import { proxiedErrorKind } from './path-pattern.js';

/** Which limit refused a request. */
export type GatewayLimit = 'tenant' | 'route' | 'account';

/**
 * A tenant's requests at the gateway. At every moment: `requests = ok + failed + rejected + inFlight +
 * lost`.
 */
export interface TenantStats {
  requests: number;
  ok: number;
  /** Answered with an error other than a 429 from a limit (504s, backend errors, auth failures, ...). */
  failed: number;
  /** Refused by a rate limit (429). */
  rejected: number;
  inFlight: number;
  /** In progress when the gateway crashed: never answered. */
  lost: number;
}

/**
 * What an {@link ApiGateway} has done. At every moment: `requests = ok + failed + inFlight + lost`, where
 * `failed` counts every error answer (`noRoute`, `rejected`, `overloaded`, `authFailed`, `timedOut` and
 * backend errors are parts of it).
 */
export interface ApiGatewayStats {
  requests: number;
  ok: number;
  failed: number;
  inFlight: number;
  /** In progress when the gateway crashed: never answered (their callers time out). */
  lost: number;
  /** No route matched (the gateway's 404), or the payload was not a {@link GatewayRequest} (400). */
  noRoute: number;
  /** Refused by a rate limit (429), by which limit. */
  rejected: number;
  rejectedBy: Record<GatewayLimit, number>;
  /** Refused because `maxInFlight` requests were in progress (503). */
  overloaded: number;
  /** The authorizer failed or timed out (500). */
  authFailed: number;
  /** Answered 504: the route's timeout (or a propagated deadline, or a backend's own 504) came first. */
  timedOut: number;
  /** Answers from backends that came after the gateway had answered: work nobody used. */
  late: number;
  /** ...of which were successes: the backend did the whole job for nothing. */
  lateOk: number;
  /** Aggregated answers with at least one optional part missing. */
  degraded: number;
  /** Backend calls made (an aggregating route makes one per part). */
  backendCalls: number;
  /** Remote authorizer calls made (cache misses). */
  authCalls: number;
}

/** One request in progress. */
class Exchange {
  answered = false;
  left: number;
  timer: NodeTimer | undefined;
  readonly values: unknown[];
  /** Which parts have answered ok (an aggregating route's). */
  readonly got: Uint8Array;
  degraded = false;
  constructor(
    readonly request: RpcRequest,
    readonly reply: Reply<unknown>,
    readonly route: ResolvedRoute,
    readonly tenant: TenantStats,
    readonly arrivedAt: number,
  ) {
    this.left = route.parts.length;
    this.values = route.aggregate ? new Array<unknown>(route.parts.length).fill(null) : [];
    this.got = new Uint8Array(route.aggregate ? route.parts.length : 0);
  }
}

/**
 * An API gateway: the front door that routes each request by method and path to a backend (or to
 * several, joining their answers: backend for frontend), after authentication and rate limits per
 * tenant, per route and per account, with a total timeout that answers 504 while the backend keeps
 * working on a request nobody waits for.
 *
 * Semantics follow AWS API Gateway where it documents them: limits are applied in its order (the
 * tenant's usage plan, then the route's method throttle, then the account's), each refusal is a 429
 * (`rejected`); an integration that does not answer within the timeout (29 s by default) is a 504
 * (`gateway-timeout`), and the backend is not cancelled; a failing authorizer is a 500 (`error`), and an
 * authorizer's answer is cached per tenant for `cacheTtl`. A limit that admits a request charges it even
 * if a later limit refuses it, as real gateways do (each limit is checked and charged in turn). A shaping
 * limit (`leaky-bucket-queue`) delays the requests it admits instead of refusing them at once.
 *
 * A request is a {@link GatewayRequest} `{ method, path, tenant, body }`; the backend receives `body`
 * (or the request itself when there is no body). An aggregating route answers an array of its parts'
 * values in order, with `null` for an optional part that failed or was late.
 *
 * A crash loses every request in progress (callers time out); answers arriving for them are ignored.
 *
 * @example
 * ```ts
 * const gw = new ApiGateway(net.addNode('gateway'), {
 *   routes: [
 *     { name: 'orders', method: 'GET', path: '/orders/:id', to: 'orders-lb', timeout: '2s' },
 *     { name: 'home', path: '/home', aggregate: [{ to: 'profile' }, { to: 'feed' }, { to: 'ads', optional: true }] },
 *   ],
 *   tenantLimit: { kind: 'token-bucket', capacity: 100, refillPerSecond: 50 },
 *   auth: { latency: constant(0.3) },
 * });
 * client.call('gateway', { method: 'GET', path: '/orders/7', tenant: 'acme' });
 * ```
 */
export class ApiGateway {
  /** The gateway's RPC endpoint: it serves clients and calls backends. */
  readonly endpoint: RpcEndpoint;
  private readonly config: ResolvedGateway;
  private readonly rng: RandomStream;
  private readonly tenantLimiters = new Map<string, RateLimiter | null>();
  /** The delay the last admitted request's shaping limits asked for (ms). */
  private shapeDelay = 0;
  private readonly tenants = new Map<string, TenantStats>();
  /** Authorizer "allowed" answers per tenant: until when they hold. */
  private readonly authCache = new Map<string, number>();
  private readonly counts: ApiGatewayStats = {
    requests: 0,
    ok: 0,
    failed: 0,
    inFlight: 0,
    lost: 0,
    noRoute: 0,
    rejected: 0,
    rejectedBy: { tenant: 0, route: 0, account: 0 },
    overloaded: 0,
    authFailed: 0,
    timedOut: 0,
    late: 0,
    lateOk: 0,
    degraded: 0,
    backendCalls: 0,
    authCalls: 0,
  };
  private readonly meters: {
    requests: Counter;
    ok: Counter;
    failed: Counter;
    rejected: Counter;
    timedOut: Counter;
    late: Counter;
    latency: Histogram;
  };

  /**
   * @param node - the gateway's node (`net.addNode('gateway')`); the gateway takes over its RPC endpoint
   * @param options - routes, timeout, auth and limits; checked here, once
   */
  constructor(
    readonly node: NetNode<any>,
    options: ApiGatewayOptions,
  ) {
    this.config = resolveGateway(options);
    const sim = node.network.sim;
    this.rng = sim.rng(`${node.address}/gateway`);
    const m = sim.metrics;
    const id = node.address;
    this.meters = {
      requests: m.counter(id, 'gateway.requests'),
      ok: m.counter(id, 'gateway.ok'),
      failed: m.counter(id, 'gateway.failed'),
      rejected: m.counter(id, 'gateway.rejected'),
      timedOut: m.counter(id, 'gateway.timeout'),
      late: m.counter(id, 'gateway.late'),
      latency: m.histogram(id, 'gateway.latency'),
    };
    this.endpoint = new RpcEndpoint(node).serve((request, reply) => this.arrive(request, reply));
    node.onCrash(() => {
      for (const t of this.tenants.values()) {
        t.lost += t.inFlight;
        t.inFlight = 0;
      }
      this.counts.lost += this.counts.inFlight;
      this.counts.inFlight = 0;
      this.authCache.clear();
    });
  }

  /** Counts so far (a live object: read it, do not keep it). */
  get stats(): Readonly<ApiGatewayStats> {
    return this.counts;
  }

  /** Counts per tenant, in order of first appearance (live objects). */
  get tenantStats(): ReadonlyMap<string, Readonly<TenantStats>> {
    return this.tenants;
  }

  /**
   * The name of the route a request would take, or undefined (the gateway's 404).
   *
   * @example
   * ```ts
   * gw.routeOf('GET', '/orders/7'); // 'orders'
   * ```
   */
  routeOf(method: string, path: string): string | undefined {
    return this.match(method, path)?.name;
  }

  private match(method: string, path: string): ResolvedRoute | undefined {
    for (const r of this.config.routes)
      if ((r.methods === undefined || r.methods.includes(method)) && r.pattern.matches(path)) return r;
    return undefined;
  }

  private tenantOf(name: string): TenantStats {
    let t = this.tenants.get(name);
    if (t === undefined) {
      t = { requests: 0, ok: 0, failed: 0, rejected: 0, inFlight: 0, lost: 0 };
      this.tenants.set(name, t);
    }
    return t;
  }

  private arrive(request: RpcRequest, reply: Reply<unknown>): void {
    const c = this.counts;
    c.requests++;
    this.meters.requests.inc();
    const p = request.payload as GatewayRequest | null;
    const valid = p !== null && typeof p === 'object' && typeof p.path === 'string';
    const tenantName = valid && typeof p.tenant === 'string' ? p.tenant : 'anonymous';
    const tenant = this.tenantOf(tenantName);
    tenant.requests++;
    if (!valid) {
      c.noRoute++;
      this.fail(
        tenant,
        reply,
        'error',
        '400 bad request: the payload must be { method?, path, tenant?, body? }',
      );
      return;
    }
    const method = typeof p.method === 'string' ? p.method : 'GET';
    const route = this.match(method, p.path);
    if (route === undefined) {
      c.noRoute++;
      this.fail(tenant, reply, 'error', `404 no route for ${method} ${p.path}`);
      return;
    }
    if (c.inFlight >= this.config.maxInFlight) {
      c.overloaded++;
      this.fail(tenant, reply, 'overloaded', `503 gateway busy: ${c.inFlight} requests in progress`);
      return;
    }
    const now = this.node.network.sim.now;
    const refused = this.limit(tenantName, route, now);
    if (refused !== undefined) {
      c.rejected++;
      c.rejectedBy[refused]++;
      tenant.rejected++;
      this.meters.rejected.inc();
      c.failed++;
      this.meters.failed.inc();
      reply.error('rejected', `429 too many requests (${refused} limit, route ${route.name})`);
      return;
    }
    c.inFlight++;
    tenant.inFlight++;
    const ex = new Exchange(request, reply, route, tenant, now);
    const own = this.config.latency === undefined ? 0 : this.config.latency.sample(this.rng);
    const local =
      route.auth && this.config.authLatency !== undefined ? this.config.authLatency.sample(this.rng) : 0;
    const incarnation = this.node.incarnation;
    const go = (): void => {
      if (this.node.incarnation !== incarnation) return;
      if (route.auth && this.config.authService !== undefined) this.authorize(ex, tenantName);
      else this.forward(ex);
    };
    const work = (): void => {
      if (own + local > 0) this.node.work(own + local, go);
      else go();
    };
    // A shaping limit holds the request first (it waits in the bucket), then the gateway works on it.
    if (this.shapeDelay > 0) this.node.setTimer(this.shapeDelay, work);
    else work();
  }

  /**
   * Checks and charges the limits in API Gateway's order; returns the one that refused, if any. A
   * shaping limit (a leaky bucket as a queue) admits with a delay: the longest is kept in `shapeDelay`.
   */
  private limit(tenant: string, route: ResolvedRoute, now: number): GatewayLimit | undefined {
    this.shapeDelay = 0;
    const t = this.tenantLimiter(tenant);
    if (t !== null && !this.admits(t, now)) return 'tenant';
    if (route.limiter !== undefined && !this.admits(route.limiter, now)) return 'route';
    const account = this.config.accountLimiter;
    if (account !== undefined && !this.admits(account, now)) return 'account';
    return undefined;
  }

  private admits(limiter: RateLimiter, now: number): boolean {
    const d = limiter.tryAcquire(now);
    if (d.delayMs > this.shapeDelay) this.shapeDelay = d.delayMs;
    return d.allowed;
  }

  private tenantLimiter(tenant: string): RateLimiter | null {
    let l = this.tenantLimiters.get(tenant);
    if (l === undefined) {
      const spec = this.config.tenantLimits.get(tenant) ?? this.config.tenantLimit;
      l = spec === undefined ? null : createRateLimiter(spec);
      this.tenantLimiters.set(tenant, l);
    }
    return l;
  }

  private authorize(ex: Exchange, tenant: string): void {
    const now = this.node.network.sim.now;
    const until = this.authCache.get(tenant);
    if (until !== undefined && now < until) {
      this.forward(ex);
      return;
    }
    this.counts.authCalls++;
    const incarnation = this.node.incarnation;
    this.endpoint.callThen(
      this.config.authService!,
      { tenant },
      { parent: ex.request, timeout: this.config.authTimeout },
      (res) => {
        if (this.node.incarnation !== incarnation) return;
        if (!res.ok) {
          this.counts.authFailed++;
          this.finish(ex, 'error', `500 authorizer failed: ${res.error.kind}`);
          return;
        }
        const ttl = this.config.authCacheTtl;
        if (ttl > 0) this.authCache.set(tenant, this.node.network.sim.now + ttl);
        this.forward(ex);
      },
    );
  }

  private forward(ex: Exchange): void {
    const route = ex.route;
    const sim = this.node.network.sim;
    const now = sim.now;
    const deadline = this.config.propagateDeadline
      ? Math.min(ex.request.deadline, now + route.timeout)
      : Infinity;
    const incarnation = this.node.incarnation;
    ex.timer = this.node.setTimer(route.timeout, () => this.expire(ex));
    const p = ex.request.payload as GatewayRequest;
    const body = p.body === undefined ? p : p.body;
    for (let i = 0; i < route.parts.length; i++) {
      const part = route.parts[i]!;
      this.counts.backendCalls++;
      this.endpoint.callThen(
        part.to,
        part.hasPayload ? part.payload : body,
        { parent: ex.request, deadline },
        (res) => {
          if (this.node.incarnation !== incarnation) return;
          this.part(ex, i, res);
        },
      );
    }
  }

  private part(ex: Exchange, i: number, res: RpcResponse<unknown>): void {
    if (ex.answered) {
      this.counts.late++;
      this.meters.late.inc();
      if (res.ok) this.counts.lateOk++;
      return;
    }
    const route = ex.route;
    if (!route.aggregate) {
      if (res.ok) this.succeed(ex, res.value);
      else this.finish(ex, proxiedErrorKind(res.error.kind), res.error.message);
      return;
    }
    const part = route.parts[i]!;
    if (res.ok) {
      ex.values[i] = res.value;
      ex.got[i] = 1;
    } else if (part.optional) ex.degraded = true;
    else {
      this.finish(ex, proxiedErrorKind(res.error.kind), `part ${i} (${part.to}): ${res.error.message}`);
      return;
    }
    if (--ex.left === 0) {
      if (ex.degraded) this.counts.degraded++;
      this.succeed(ex, ex.values);
    }
  }

  private succeed(ex: Exchange, value: unknown): void {
    this.settle(ex);
    this.counts.ok++;
    ex.tenant.ok++;
    this.meters.ok.inc();
    ex.reply.ok(value);
  }

  /** The route's timeout: 504, unless only optional parts are missing (then a degraded answer). */
  private expire(ex: Exchange): void {
    const route = ex.route;
    if (route.aggregate && route.parts.every((p, i) => p.optional || ex.got[i] === 1)) {
      this.counts.degraded++;
      this.succeed(ex, ex.values);
      return;
    }
    this.finish(ex, 'gateway-timeout', `504 route ${route.name} timed out after ${route.timeout} ms`);
  }

  /** Answers an error for a request in progress; its remaining parts' answers will be late. */
  private finish(ex: Exchange, kind: Exclude<RpcErrorKind, 'timeout'>, message: string): void {
    if (ex.answered) return;
    this.settle(ex);
    if (kind === 'gateway-timeout') {
      this.counts.timedOut++;
      this.meters.timedOut.inc();
    }
    this.counts.failed++;
    ex.tenant.failed++;
    this.meters.failed.inc();
    ex.reply.error(kind, message);
  }

  private settle(ex: Exchange): void {
    ex.answered = true;
    ex.timer?.cancel();
    this.counts.inFlight--;
    ex.tenant.inFlight--;
    this.meters.latency.record(this.node.network.sim.now - ex.arrivedAt);
  }

  /** An answer refused before any work: counts it as failed for the tenant. */
  private fail(
    tenant: TenantStats,
    reply: Reply<unknown>,
    kind: Exclude<RpcErrorKind, 'timeout'>,
    message: string,
  ): void {
    this.counts.failed++;
    tenant.failed++;
    this.meters.failed.inc();
    reply.error(kind, message);
  }
}
