import { invalidOption, type NetNode, type NodeTimer, RpcEndpoint, type RpcResponse } from '@dsim/core';
import {
  type EurekaInstanceOptions,
  type ResolvedEurekaInstance,
  resolveEurekaInstance,
} from './eureka-options.js';
import type { EurekaRequest } from './eureka-protocol.js';

/**
 * What an {@link EurekaInstance} has done so far.
 *
 * @example
 * ```ts
 * const { heartbeats, heartbeatFailures } = instance.stats;
 * ```
 */
export interface EurekaInstanceStats {
  /** Heartbeats (renewals) sent. */
  heartbeats: number;
  /** Heartbeats that got no answer in time or an error (a partition, a server down). */
  heartbeatFailures: number;
  /** Registrations sent. */
  registrations: number;
  /** Registrations sent because a heartbeat was answered 404 (the first one, or after an eviction). */
  reregistrations: number;
  /** Cancels sent (graceful shutdowns). */
  cancels: number;
}

/**
 * The registering side of a Eureka client, on the instance's own node: it registers with an
 * {@link EurekaServer} and renews its lease every `leaseRenewalInterval` (30 s) with a heartbeat, a
 * real RPC over the network, so a partition or a paused node stops the renewals and the lease expires
 * on the server. A heartbeat answered 404 (no lease: before the first registration, or after an
 * eviction) registers again at once, as Eureka's `DiscoveryClient.renew` does.
 *
 * - **Graceful shutdown** (`shutdown()`): the instance stops its heartbeats and sends a cancel
 *   (`DELETE /apps/{app}/{id}`), which removes the lease at once; clients still see the instance until
 *   their caches refresh.
 * - **Crash** (`net.crash(node)`): nothing is sent; the lease stays until it expires and the eviction
 *   task removes it. On `net.restart` the instance starts over (registration and heartbeat phase from
 *   the restart).
 *
 * Heartbeat timing: the first heartbeat leaves one interval after the start; each next one leaves one
 * interval after the previous one ended (answer, re-registration or `timeout`), as the client's
 * `TimedSupervisorTask` reschedules it. Its back-off when a heartbeat exceeds the whole interval is not
 * modelled (the 8 s `timeout` ends a call well before).
 *
 * The instance does not serve application traffic: whatever serves the node's requests
 * (`RpcEndpoint.of(node).serve`, a `Service`) does, and shares the node's endpoint with it.
 *
 * @example
 * ```ts
 * const instance = new EurekaInstance(net.addNode('orders-0'), { server: 'eureka', app: 'orders' });
 * sim.schedule(120_000, () => instance.shutdown()); // deregisters
 * ```
 */
export class EurekaInstance {
  /** The resolved options. */
  readonly options: ResolvedEurekaInstance;
  private readonly endpoint: RpcEndpoint;
  private generation = 0;
  private running = false;
  private down = false;
  private timer: NodeTimer | null = null;
  private readonly counts: EurekaInstanceStats = {
    heartbeats: 0,
    heartbeatFailures: 0,
    registrations: 0,
    reregistrations: 0,
    cancels: 0,
  };

  /**
   * @param node - the instance's node (its address is what clients call)
   * @param options - see {@link EurekaInstanceOptions}
   */
  constructor(
    readonly node: NetNode<any>,
    options: EurekaInstanceOptions,
  ) {
    if (node === null || typeof node !== 'object' || typeof node.setTimer !== 'function')
      throw invalidOption('EurekaInstance', 'node', node, 'a network node (net.addNode(...))');
    this.options = resolveEurekaInstance(options, node.address);
    this.endpoint = RpcEndpoint.of(node);
    node.onCrash(() => {
      this.generation++;
      this.running = false;
      this.timer = null;
    });
    node.onRestart(() => this.start());
    if (this.options.startAfter > 0) node.setTimer(this.options.startAfter, () => this.start());
    else this.start();
  }

  /** A copy of the counts. */
  get stats(): EurekaInstanceStats {
    return { ...this.counts };
  }

  /** True once `shutdown()` was called. */
  get isShutDown(): boolean {
    return this.down;
  }

  /**
   * Graceful shutdown: stops the heartbeats and sends a cancel to the server (fire and forget, as the
   * client's `unregister` on shutdown). No-op after the first call or while the node is down.
   *
   * @example
   * ```ts
   * sim.schedule('2m', () => instance.shutdown());
   * ```
   */
  shutdown(): void {
    if (this.down) return;
    this.down = true;
    this.generation++;
    this.timer?.cancel();
    this.timer = null;
    const wasRunning = this.running;
    this.running = false;
    if (!wasRunning || this.node.state === 'down') return;
    this.counts.cancels++;
    const o = this.options;
    this.send({ op: 'cancel', app: o.app, id: o.id }, () => {});
  }

  private start(): void {
    if (this.running || this.down || this.node.state === 'down') return;
    this.running = true;
    const generation = ++this.generation;
    if (this.options.registration === 'at-start') this.register(generation, () => {});
    this.timer = this.node.setTimer(this.options.leaseRenewalInterval, () => this.heartbeat(generation));
  }

  private heartbeat(generation: number): void {
    this.timer = null;
    if (generation !== this.generation) return;
    this.counts.heartbeats++;
    const o = this.options;
    this.send({ op: 'renew', app: o.app, id: o.id }, (res) => {
      // A crash of this node fails its calls inside the crash: that is not a failed heartbeat.
      if (generation !== this.generation || this.node.state === 'down') return;
      const next = (): void => {
        if (generation !== this.generation) return;
        this.timer = this.node.setTimer(o.leaseRenewalInterval, () => this.heartbeat(generation));
      };
      if (!res.ok) {
        this.counts.heartbeatFailures++;
        next();
      } else if (res.value === false) {
        this.counts.reregistrations++;
        this.register(generation, next);
      } else next();
    });
  }

  private register(generation: number, then: () => void): void {
    const o = this.options;
    this.counts.registrations++;
    this.send(
      {
        op: 'register',
        app: o.app,
        id: o.id,
        address: this.node.address,
        leaseDuration: o.leaseExpirationDuration,
      },
      () => {
        if (generation === this.generation && this.node.state !== 'down') then();
      },
    );
  }

  private send(request: EurekaRequest, done: (res: RpcResponse<unknown>) => void): void {
    this.endpoint.callThen(this.options.server, request, { timeout: this.options.timeout }, done);
  }
}
