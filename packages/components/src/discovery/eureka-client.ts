import { invalidOption, type NetNode, type NodeTimer, RpcEndpoint, type Simulation } from '@dsim/core';
import { EndpointList, type EndpointListener, type EndpointSource } from './endpoint-source.js';
import {
  type EurekaClientOptions,
  type ResolvedEurekaClient,
  resolveEurekaClient,
} from './eureka-options.js';
import type { EurekaRequest } from './eureka-protocol.js';

/**
 * What an {@link EurekaClient} has done so far.
 *
 * @example
 * ```ts
 * const { fetches, fetchFailures } = client.stats;
 * ```
 */
export interface EurekaClientStats {
  /** Registry fetches sent. */
  fetches: number;
  /** Fetches that failed (no answer in time, server down): the previous copy is kept. */
  fetchFailures: number;
  /** Balancer refreshes (copies of the registry cache into the endpoint list). */
  refreshes: number;
}

/**
 * The discovering side of a Eureka client, on the caller's node: two caches in a row between the
 * {@link EurekaServer}'s response cache and the requests.
 *
 * 1. **The client's registry cache.** A fetch at the start, then one every `registryFetchInterval`
 *    (30 s) after the previous one ended: an RPC to the server, answered from its read-only response
 *    cache. A failed fetch keeps the last copy (a client cut off from the server keeps calling what it
 *    knew).
 * 2. **The balancer's server list.** Ribbon's `DynamicServerListLoadBalancer` copies the registry cache
 *    at the start, then every `balancerRefreshInterval` (30 s, `ServerListRefreshInterval`) after a
 *    first `balancerInitialDelay` (1 s). With `balancerRefreshInterval: 0` the list follows each fetch.
 *
 * `endpoints` is that list: what a client-side balancer picks from. Feed a `LoadBalancer` with
 * {@link feedLoadBalancer}, or pick from `endpoints` directly. A departed instance stays in it until
 * the server evicts or cancels it, the response cache refreshes, a fetch brings the new copy and the
 * balancer copies it: with the defaults up to 30 + 30 + 30 s after a cancel.
 *
 * Both timers are fixed-delay, so with network latency the fetch drifts later by one round trip per
 * cycle against the balancer's refresh: after enough cycles their phases are unrelated.
 *
 * Trace records (when `sim.tracing`): `@dsim.discovery.endpoints` `{ client, app, endpoints, added,
 * removed }` when the balancer's list changes.
 *
 * @example
 * ```ts
 * const client = new EurekaClient(net.addNode('web'), { server: 'eureka', app: 'orders' });
 * const lb = new LoadBalancer(net.addNode('web-lb'), { backends: [], timeout: '1s' });
 * feedLoadBalancer(client, lb);
 * ```
 */
export class EurekaClient implements EndpointSource {
  /** The resolved options. */
  readonly options: ResolvedEurekaClient;
  private readonly sim: Simulation;
  private readonly endpoint: RpcEndpoint;
  private readonly list = new EndpointList();
  private cache: readonly string[] = Object.freeze([]);
  private generation = 0;
  private running = false;
  private stopped = false;
  private fetchTimer: NodeTimer | null = null;
  private balancerTimer: NodeTimer | null = null;
  private readonly counts: EurekaClientStats = { fetches: 0, fetchFailures: 0, refreshes: 0 };

  /**
   * @param node - the caller's node; fetches are calls on its endpoint
   * @param options - see {@link EurekaClientOptions}
   */
  constructor(
    readonly node: NetNode<any>,
    options: EurekaClientOptions,
  ) {
    if (node === null || typeof node !== 'object' || typeof node.setTimer !== 'function')
      throw invalidOption('EurekaClient', 'node', node, 'a network node (net.addNode(...))');
    this.options = resolveEurekaClient(options, node.address);
    this.sim = node.network.sim;
    this.endpoint = RpcEndpoint.of(node);
    this.list.onChange((endpoints, added, removed) => {
      if (this.sim.tracing)
        this.sim.emit('@dsim.discovery.endpoints', {
          client: this.options.name,
          app: this.options.app,
          endpoints: [...endpoints],
          added: [...added],
          removed: [...removed],
        });
    });
    node.onCrash(() => {
      // The process's caches are memory: gone with it.
      this.generation++;
      this.running = false;
      this.fetchTimer = null;
      this.balancerTimer = null;
      this.cache = Object.freeze([]);
      this.list.set([]);
    });
    node.onRestart(() => this.start());
    if (this.options.startAfter > 0) node.setTimer(this.options.startAfter, () => this.start());
    else this.start();
  }

  /** The endpoints the client's balancer uses now. */
  get endpoints(): readonly string[] {
    return this.list.endpoints;
  }

  /** The client's registry cache: the instances of the last successful fetch. */
  get registryCache(): readonly string[] {
    return this.cache;
  }

  /** A copy of the counts. */
  get stats(): EurekaClientStats {
    return { ...this.counts };
  }

  onChange(listener: EndpointListener): () => void {
    return this.list.onChange(listener);
  }

  /** Stops fetching and refreshing for good; the endpoints stay as they are. */
  stop(): void {
    this.stopped = true;
    this.generation++;
    this.fetchTimer?.cancel();
    this.balancerTimer?.cancel();
    this.fetchTimer = null;
    this.balancerTimer = null;
  }

  private start(): void {
    if (this.running || this.stopped || this.node.state === 'down') return;
    this.running = true;
    const generation = ++this.generation;
    this.fetch(generation);
    const o = this.options;
    if (o.balancerRefreshInterval > 0) {
      this.refresh();
      this.balancerTimer = this.node.setTimer(o.balancerInitialDelay, () => this.balancerTick(generation));
    }
  }

  private fetch(generation: number): void {
    this.fetchTimer = null;
    if (generation !== this.generation) return;
    this.counts.fetches++;
    const o = this.options;
    const request: EurekaRequest = { op: 'fetch', app: o.app };
    this.endpoint.callThen(o.server, request, { timeout: o.timeout }, (res) => {
      if (generation !== this.generation || this.node.state === 'down') return;
      if (res.ok) {
        this.cache = res.value as readonly string[];
        if (o.balancerRefreshInterval === 0) this.refresh();
      } else this.counts.fetchFailures++;
      this.fetchTimer = this.node.setTimer(o.registryFetchInterval, () => this.fetch(generation));
    });
  }

  private balancerTick(generation: number): void {
    this.balancerTimer = null;
    if (generation !== this.generation) return;
    this.refresh();
    this.balancerTimer = this.node.setTimer(this.options.balancerRefreshInterval, () =>
      this.balancerTick(generation),
    );
  }

  private refresh(): void {
    this.counts.refreshes++;
    this.list.set(this.cache);
  }
}
