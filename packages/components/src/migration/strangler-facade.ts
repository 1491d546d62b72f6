import {
  checkEnum,
  checkKeys,
  checkObject,
  checkOptions,
  checkProbability,
  invalidOption,
  LatencyHistogram,
  type NetNode,
  optionKeys,
  owner,
  type RandomStream,
  type Reply,
  RpcEndpoint,
  type RpcRequest,
  type RpcResponse,
} from '@dsim/core';
import type { GatewayRequest } from '../gateway/api-gateway-options.js';
import {
  checkMethods,
  compilePathPattern,
  type PathPattern,
  proxiedErrorKind,
} from '../gateway/path-pattern.js';
import { hash53 } from '../hashing/hash.js';
import type { MigratedRoute, StranglerFacadeOptions } from './strangler-facade-options.js';

const C = 'StranglerFacade';
const OPTION_KEYS = optionKeys<StranglerFacadeOptions>()({ legacy: true, routes: true, assignment: true });
const ROUTE_KEYS = optionKeys<MigratedRoute>()({
  name: true,
  method: true,
  path: true,
  to: true,
  weight: true,
  shadow: true,
});
const TWO_53 = 2 ** 53;
const NONE: readonly AnswerObserver[] = [];

/**
 * One side of a route (legacy or new): requests sent and how they ended, with a latency histogram.
 * `requests = ok + failed + inFlight + lost`.
 */
export interface SideStats {
  requests: number;
  ok: number;
  failed: number;
  inFlight: number;
  /** In flight when the facade crashed: never answered. */
  lost: number;
  /** Latency of answered requests (ms), measured at the facade. */
  readonly latency: LatencyHistogram;
}

/** What a migrated route has done on each side, and its shadow traffic. */
export interface RouteStats {
  readonly legacy: SideStats;
  readonly modern: SideStats;
  /** Copies sent to the new service. */
  shadowSent: number;
  /** Copies the new service answered with an error while the legacy answer was ok. */
  shadowFailed: number;
  /** Copies whose value differed from the legacy answer (both ok). */
  shadowMismatched: number;
}

/** Called with each answer of one side of a route: whether it was ok, and its latency (ms). */
export type AnswerObserver = (ok: boolean, latencyMs: number) => void;

interface Route {
  readonly name: string;
  readonly observers: { legacy: AnswerObserver[]; modern: AnswerObserver[] };
  readonly methods: readonly string[] | undefined;
  readonly pattern: PathPattern;
  readonly to: string;
  weight: number;
  shadow: number;
  readonly stats: RouteStats;
}

const side = (): SideStats => ({
  requests: 0,
  ok: 0,
  failed: 0,
  inFlight: 0,
  lost: 0,
  latency: new LatencyHistogram(),
});

const lose = (s: SideStats): void => {
  s.lost += s.inFlight;
  s.inFlight = 0;
};

/**
 * The strangler-fig facade (Fowler, "StranglerFigApplication", 2004): a proxy in front of a legacy system
 * that sends a growing share of chosen routes to new services, until the legacy system serves nothing
 * and can be removed. Each migrated route has a weight (the share sent to its new service, changed with
 * {@link StranglerFacade.setWeight} or by a {@link CanaryRollout}) and may copy the requests it still
 * sends to the legacy side to the new service as shadow traffic, comparing the answers without showing
 * them to anyone.
 *
 * Requests are {@link GatewayRequest}s (`{ method, path, tenant, body }`); a request no migrated route
 * takes goes to the legacy system. The body (or the request) is passed on, the deadline propagates, and
 * the chosen side's answer is passed back as it is.
 *
 * @example
 * ```ts
 * const facade = new StranglerFacade(net.addNode('facade'), {
 *   legacy: 'monolith',
 *   routes: [{ name: 'invoices', path: '/invoices/*', to: 'billing-v2', shadow: 1 }],
 * });
 * facade.setWeight('invoices', 0.1);
 * facade.routeStats('invoices').modern.failed;
 * ```
 */
export class StranglerFacade {
  /** The facade's RPC endpoint. */
  readonly endpoint: RpcEndpoint;
  /** The legacy system's address. */
  readonly legacy: string;
  private readonly routes: Route[];
  private readonly byName = new Map<string, Route>();
  private readonly sticky: boolean;
  private readonly rng: RandomStream;
  private readonly shadowRng: RandomStream;
  /** Requests no migrated route took. */
  readonly unrouted: SideStats = side();

  constructor(
    readonly node: NetNode<any>,
    options: StranglerFacadeOptions,
  ) {
    checkObject(C, 'options', options, 'an options object with legacy and routes');
    checkOptions(C, options, OPTION_KEYS);
    if (typeof options.legacy !== 'string' || options.legacy === '')
      throw invalidOption(C, 'legacy', options.legacy, "the legacy system's address (a non-empty string)");
    this.legacy = options.legacy;
    this.sticky = checkEnum(C, 'assignment', options.assignment, ['sticky', 'random'], 'sticky') === 'sticky';
    if (!Array.isArray(options.routes) || options.routes.length === 0)
      throw invalidOption(C, 'routes', options.routes, 'a non-empty array of routes { name, path, to }');
    this.routes = options.routes.map((r, i) => this.resolveRoute(r, `routes[${i}]`));
    const sim = node.network.sim;
    this.rng = sim.rng(`${node.address}/strangler`);
    this.shadowRng = sim.rng(`${node.address}/strangler/shadow`);
    this.endpoint = new RpcEndpoint(node).serve((request, reply) => this.arrive(request, reply));
    node.onCrash(() => {
      for (const r of this.routes) {
        lose(r.stats.legacy);
        lose(r.stats.modern);
      }
      lose(this.unrouted);
    });
  }

  private resolveRoute(route: MigratedRoute, at: string): Route {
    checkObject(C, at, route, 'a route { name, path, to, weight?, shadow? }');
    checkKeys(owner(C, at), route, ROUTE_KEYS);
    if (typeof route.name !== 'string' || route.name === '')
      throw invalidOption(C, `${at}.name`, route.name, 'a non-empty string');
    if (this.byName.has(route.name))
      throw invalidOption(C, `${at}.name`, route.name, 'a name no other route has');
    if (typeof route.to !== 'string' || route.to === '')
      throw invalidOption(C, `${at}.to`, route.to, "the new service's address (a non-empty string)");
    const methods = checkMethods(C, `${at}.method`, route.method);
    const r: Route = {
      name: route.name,
      methods,
      pattern: compilePathPattern(C, `${at}.path`, route.path),
      to: route.to,
      weight: checkProbability(C, `${at}.weight`, route.weight, 0),
      shadow: checkProbability(C, `${at}.shadow`, route.shadow, 0),
      stats: { legacy: side(), modern: side(), shadowSent: 0, shadowFailed: 0, shadowMismatched: 0 },
      observers: { legacy: [], modern: [] },
    };
    this.byName.set(r.name, r);
    return r;
  }

  /**
   * Sets the share of a route's requests sent to its new service.
   *
   * @example
   * ```ts
   * facade.setWeight('invoices', 0.25);
   * ```
   */
  setWeight(route: string, weight: number): void {
    this.find(route, 'setWeight').weight = checkProbability(C, 'weight', weight);
  }

  /** The share of a route's requests sent to its new service. */
  weight(route: string): number {
    return this.find(route, 'weight').weight;
  }

  /**
   * Sets the share of a route's legacy-bound requests copied to its new service.
   *
   * @example
   * ```ts
   * facade.setShadow('invoices', 1); // mirror everything still served by the legacy system
   * ```
   */
  setShadow(route: string, share: number): void {
    this.find(route, 'setShadow').shadow = checkProbability(C, 'shadow', share);
  }

  /**
   * Calls `observer` with every answer one side of a route gets from now on (what a rollout's analysis
   * reads, as Flagger reads the mesh's metrics).
   *
   * @example
   * ```ts
   * facade.observe('invoices', 'modern', (ok, ms) => { if (!ok) errors++; });
   * ```
   */
  observe(route: string, side: 'legacy' | 'modern', observer: AnswerObserver): void {
    const r = this.find(route, 'observe');
    if (side !== 'legacy' && side !== 'modern')
      throw invalidOption(`${C}.observe`, 'side', side, '"legacy" or "modern"');
    if (typeof observer !== 'function')
      throw invalidOption(`${C}.observe`, 'observer', observer, 'a function (ok, latencyMs) => void');
    r.observers[side].push(observer);
  }

  /** A route's counts (live objects: read them, do not keep them). */
  routeStats(route: string): Readonly<RouteStats> {
    return this.find(route, 'routeStats').stats;
  }

  /** The migrated routes' names, in order. */
  get routeNames(): readonly string[] {
    return this.routes.map((r) => r.name);
  }

  private find(name: string, verb: string): Route {
    const r = this.byName.get(name);
    if (r === undefined)
      throw invalidOption(
        `${C}.${verb}`,
        'route',
        name,
        `one of ${[...this.byName.keys()].map((n) => JSON.stringify(n)).join(', ')}`,
      );
    return r;
  }

  private arrive(request: RpcRequest, reply: Reply<unknown>): void {
    const p = request.payload as GatewayRequest | null;
    const valid = p !== null && typeof p === 'object' && typeof p.path === 'string';
    const body = valid && p.body !== undefined ? p.body : request.payload;
    const route = valid ? this.match(typeof p.method === 'string' ? p.method : 'GET', p.path) : undefined;
    if (route === undefined) {
      this.forward(this.legacy, this.unrouted, NONE, request, body, reply, undefined);
      return;
    }
    const u = this.sticky ? this.stickyDraw(request, p!) : this.rng.next();
    if (u < route.weight) {
      this.forward(route.to, route.stats.modern, route.observers.modern, request, body, reply, undefined);
      return;
    }
    const shadow = route.shadow > 0 && (route.shadow >= 1 || this.shadowRng.next() < route.shadow);
    this.forward(
      this.legacy,
      route.stats.legacy,
      route.observers.legacy,
      request,
      body,
      reply,
      shadow ? route : undefined,
    );
  }

  /** A stable draw in [0, 1) per user: the tenant, else the request key, else a random draw. */
  private stickyDraw(request: RpcRequest, p: GatewayRequest): number {
    const who = typeof p.tenant === 'string' ? p.tenant : request.key;
    return who === undefined ? this.rng.next() : hash53(who) / TWO_53;
  }

  private match(method: string, path: string): Route | undefined {
    for (const r of this.routes)
      if ((r.methods === undefined || r.methods.includes(method)) && r.pattern.matches(path)) return r;
    return undefined;
  }

  private forward(
    to: string,
    stats: SideStats,
    observers: readonly AnswerObserver[],
    request: RpcRequest,
    body: unknown,
    reply: Reply<unknown>,
    shadowOf: Route | undefined,
  ): void {
    const sim = this.node.network.sim;
    const start = sim.now;
    const incarnation = this.node.incarnation;
    stats.requests++;
    stats.inFlight++;
    let primary: RpcResponse<unknown> | undefined;
    let copy: RpcResponse<unknown> | undefined;
    const compare = (): void => {
      if (primary === undefined || copy === undefined || !primary.ok) return;
      if (!copy.ok) shadowOf!.stats.shadowFailed++;
      else if (!sameValue(primary.value, copy.value)) shadowOf!.stats.shadowMismatched++;
    };
    this.endpoint.callThen(to, body, { parent: request }, (res) => {
      if (this.node.incarnation !== incarnation) return;
      stats.inFlight--;
      const latency = sim.now - start;
      stats.latency.record(latency);
      for (const o of observers) o(res.ok, latency);
      if (res.ok) {
        stats.ok++;
        reply.ok(res.value);
      } else {
        stats.failed++;
        reply.error(proxiedErrorKind(res.error.kind), res.error.message);
      }
      if (shadowOf !== undefined) {
        primary = res;
        compare();
      }
    });
    if (shadowOf === undefined) return;
    shadowOf.stats.shadowSent++;
    // A mirrored request is fire and forget (Envoy's request_mirror_policies): its own deadline, no parent.
    this.endpoint.callThen(shadowOf.to, body, { deadline: request.deadline }, (res) => {
      if (this.node.incarnation !== incarnation) return;
      copy = res;
      compare();
    });
  }
}

/** Values compared as JSON: what a shadow-traffic differ (Diffy, Scientist) compares. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}
