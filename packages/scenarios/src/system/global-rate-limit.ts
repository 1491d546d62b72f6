import {
  CentralLimiter,
  type DistributedLimiter,
  LocalShareLimiter,
  localShare,
  RateLimitStore,
  type Service,
  SyncedLimiter,
  WindowAccuracy,
} from '@dsim/components';
import {
  DsimError,
  type NetNode,
  type Reply,
  type RpcEndpoint,
  type RpcRequest,
  type RpcResponse,
} from '@dsim/core';
import { durationMs, toDistribution } from './distributions.js';
import type { CallHook } from './gateway.js';
import {
  GLOBAL_RATE_LIMIT_DEFAULTS,
  type GlobalRateLimitDescription,
  type RateLimitStoreDescription,
} from './global-rate-limit-schema.js';
import type { SystemDescription } from './schema.js';

type Handler = (request: RpcRequest, reply: Reply<unknown>) => void;

/** A service's global limit, compiled: each replica's limiter and the accuracy of their decisions. */
export interface GlobalLimitHandle {
  readonly kind: GlobalRateLimitDescription['kind'];
  /** The global limit per window, and the window (ms). */
  readonly limit: number;
  readonly windowMs: number;
  /** Each replica's limiter, by address. */
  readonly limiters: Readonly<Record<string, DistributedLimiter>>;
  /** Every decision, by its request's arrival window, against the global limit. */
  readonly accuracy: WindowAccuracy;
}

/**
 * Builds a `rate-limit-store` node: a {@link RateLimitStore} whose `check` limiter is the fixed window
 * of the services with a `central` limit in it (checked to agree); a store only synced limits use has
 * none.
 *
 * @example
 * ```ts
 * buildRateLimitStore(net.node('limits'), 'limits', { kind: 'rate-limit-store' }, system);
 * ```
 */
export function buildRateLimitStore(
  node: NetNode,
  name: string,
  d: RateLimitStoreDescription,
  system: SystemDescription,
): RateLimitStore {
  const central = Object.keys(system.nodes)
    .sort()
    .map((n) => system.nodes[n]!)
    .flatMap((n) =>
      n.kind === 'service' && n.globalRateLimit?.kind === 'central' && n.globalRateLimit.store === name
        ? [n.globalRateLimit]
        : [],
    )[0];
  return new RateLimitStore(node, {
    ...(central === undefined
      ? {}
      : { limiter: { kind: 'fixed-window', limit: central.limit, windowMs: windowOf(central) } }),
    ...(d.serviceTime === undefined ? {} : { serviceTime: toDistribution(d.serviceTime) }),
    ...(d.concurrency === undefined ? {} : { concurrency: d.concurrency }),
    ...(d.persistent === undefined ? {} : { persistent: d.persistent }),
  });
}

const windowOf = (g: GlobalRateLimitDescription): number =>
  durationMs(g.window ?? GLOBAL_RATE_LIMIT_DEFAULTS.window);

/**
 * Puts a service's `globalRateLimit` in front of each replica's handler (as an Envoy rate limit filter in
 * front of the application): every request is decided by the replica's limiter (one per replica, all
 * counting the key `name`), admitted ones are served, refused ones answered `rejected` (over the limit)
 * or `unavailable` (`central` failing closed). A decision that comes back after the replica crashed is
 * dropped, as the request was. Calls to the store are told to `onCall` as they end.
 *
 * @example
 * ```ts
 * const h = hostGlobalLimit('api', { 'api-0': s0, 'api-1': s1 }, { kind: 'local-share', limit: 400 }, undefined);
 * h.accuracy.totals(); // { windows, offered, admitted, rejected, over, under }
 * ```
 */
export function hostGlobalLimit(
  name: string,
  services: Readonly<Record<string, Service>>,
  d: GlobalRateLimitDescription,
  onCall: CallHook | undefined,
): GlobalLimitHandle {
  const windowMs = windowOf(d);
  const accuracy = new WindowAccuracy({ limit: d.limit, windowMs });
  const addresses = Object.keys(services);
  const limiters: Record<string, DistributedLimiter> = {};
  for (const address of addresses) {
    const service = services[address]!;
    const node = service.node;
    const sim = node.network.sim;
    const limiter = limiterOf(d, service.endpoint, addresses.length, windowMs, onCall);
    limiters[address] = limiter;
    const inner = service.endpoint.serving;
    if (typeof inner !== 'function')
      throw new DsimError('INVALID_STATE', `globalRateLimit: ${address} serves no requests to limit`);
    const serve = inner as Handler;
    service.endpoint.serve((request, reply) => {
      const arrived = sim.now;
      const incarnation = node.incarnation;
      limiter.admit(name, (decision) => {
        accuracy.record(arrived, decision.allowed);
        if (node.incarnation !== incarnation) return;
        if (decision.allowed) serve(request, reply);
        else if (decision.reason === 'fail-closed')
          reply.error('unavailable', `${address}: the rate limit store did not answer (failure mode closed)`);
        else
          reply.error('rejected', `${address}: global rate limit of ${d.limit} per ${windowMs} ms reached`);
      });
    });
  }
  return { kind: d.kind, limit: d.limit, windowMs, limiters, accuracy };
}

function limiterOf(
  d: GlobalRateLimitDescription,
  endpoint: RpcEndpoint,
  replicas: number,
  windowMs: number,
  onCall: CallHook | undefined,
): DistributedLimiter {
  switch (d.kind) {
    case 'local-share':
      return new LocalShareLimiter(endpoint.node.network.sim, {
        limiter: { kind: 'fixed-window', limit: localShare(d.limit, 1 / replicas), windowMs },
      });
    case 'central':
      return new CentralLimiter(observedStoreCalls(endpoint, onCall), {
        store: d.store,
        ...(d.timeout === undefined ? {} : { timeout: d.timeout }),
        ...(d.failureMode === undefined ? {} : { failureMode: d.failureMode }),
      });
    case 'synced':
      return new SyncedLimiter(observedStoreCalls(endpoint, onCall), {
        store: d.store,
        limit: d.limit,
        windowMs,
        syncInterval: d.syncInterval,
        ...(d.timeout === undefined ? {} : { timeout: d.timeout }),
        ...(d.algorithm === undefined ? {} : { algorithm: d.algorithm }),
      });
  }
}

/**
 * The replica's endpoint as the limiter sees it: the same endpoint (a node has one), with its
 * `callThen` calls told to `onCall` as they end; the service's own calls are not affected.
 */
function observedStoreCalls(endpoint: RpcEndpoint, onCall: CallHook | undefined): RpcEndpoint {
  if (onCall === undefined) return endpoint;
  const sim = endpoint.node.network.sim;
  const view = Object.create(endpoint) as RpcEndpoint;
  view.callThen = ((to: string, payload: unknown, o: object | undefined, done: (r: RpcResponse) => void) => {
    const started = sim.now;
    endpoint.callThen(to, payload, o as never, (r: RpcResponse) => {
      onCall(to, started, r.ok, r.ok ? undefined : r.error.kind, sim.now - started);
      done(r);
    });
  }) as RpcEndpoint['callThen'];
  return view;
}

/** A service's global limit's cumulative counts at one instant, summed over its replicas. */
export interface GlobalLimitReading {
  readonly admitted: number;
  readonly rejected: number;
  readonly failedOpen: number;
  readonly failedClosed: number;
  readonly storeCalls: number;
}

/**
 * The cumulative decisions of a service's global limit now, summed over its replicas' limiters.
 *
 * @example
 * ```ts
 * globalLimitReading(sys.globalLimits.api).storeCalls;
 * ```
 */
export function globalLimitReading(h: GlobalLimitHandle): GlobalLimitReading {
  let admitted = 0;
  let rejected = 0;
  let failedOpen = 0;
  let failedClosed = 0;
  let storeCalls = 0;
  for (const l of Object.values(h.limiters)) {
    const s = l.stats;
    admitted += s.admitted;
    rejected += s.rejected;
    failedOpen += s.failedOpen;
    failedClosed += s.failedClosed;
    storeCalls += s.storeCalls;
  }
  return { admitted, rejected, failedOpen, failedClosed, storeCalls };
}
