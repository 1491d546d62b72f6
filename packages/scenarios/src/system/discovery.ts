import {
  DnsResolver,
  DnsServer,
  EndpointList,
  type EndpointSource,
  EurekaClient,
  EurekaInstance,
  EurekaServer,
  feedLoadBalancer,
  type LoadBalancer,
  ReadinessProbe,
  type Service,
  ServiceEndpoints,
} from '@dsim/components';
import type { NetNode, Network, Reply, RpcRequest, Simulation } from '@dsim/core';
import { clean } from './clean.js';
import type { BalancerDiscoveryDescription, EurekaDescription } from './discovery-schema.js';
import { durationMs } from './distributions.js';

type Handler = (request: RpcRequest, reply: Reply<unknown>) => void;

/**
 * How often a `dns` discovery resolves the name again by default: Envoy's STRICT_DNS cluster
 * re-resolves every `dns_refresh_rate`, 5 s by default (Envoy's Cluster API reference).
 */
export const DNS_REFRESH_DEFAULT_MS = 5000;

/**
 * Builds a `eureka` node: an {@link EurekaServer} on `node` with the described server options.
 *
 * @example
 * ```ts
 * buildEurekaServer(net.node('registry'), { kind: 'eureka', selfPreservation: false });
 * ```
 */
export function buildEurekaServer(node: NetNode, d: EurekaDescription): EurekaServer {
  const { kind: _k, instances: _i, region: _r, ...server } = d;
  return new EurekaServer(node, clean(server));
}

/**
 * A balancer's discovery, compiled: where its backends come from, the registering side per replica, and
 * when each replica went away (a crash, or a graceful `shutdown` fault) and when the balancer's list
 * dropped it: the staleness windows.
 */
export interface DiscoveryHandle {
  readonly kind: BalancerDiscoveryDescription['kind'];
  /** What the balancer follows: the EurekaClient, the ServiceEndpoints, or the resolver's last answer. */
  readonly source: EndpointSource;
  readonly client: EurekaClient | undefined;
  /** The ServiceEndpoints (kubernetes, or the records of a dns discovery with `readiness`). */
  readonly endpoints: ServiceEndpoints | undefined;
  /** dns: the DnsServer (on its node `<service>/dns`) and the DnsResolver on the balancer's node. */
  readonly dnsServer: DnsServer | undefined;
  readonly resolver: DnsResolver | undefined;
  /** The replicas' addresses. */
  readonly replicas: readonly string[];
  /** Per replica address: its EurekaInstance (eureka) or its ReadinessProbe (kubernetes, dns with readiness). */
  readonly instances: Readonly<Record<string, EurekaInstance>>;
  readonly probes: Readonly<Record<string, ReadinessProbe>>;
  /** Every departure so far: the replica, when it went (crash or shutdown), when the list dropped it. */
  readonly departures: readonly Departure[];
  /** Whether `address` was gone (crashed and not restarted, or shut down) at time `t`. */
  goneAt(address: string, t: number): boolean;
  /**
   * A graceful shutdown of a replica: eureka cancels its lease and the application refuses connections
   * at once; kubernetes (and dns with `readiness`) deletes the pod (the endpoint turns not ready, the
   * application stops at SIGTERM after `preStop`); dns without it removes the A record after the
   * propagation and refuses connections at once.
   */
  shutdown(address: string, preStop: number): void;
  /**
   * Cumulative time integrals now (ms × endpoints): of the endpoints the balancer follows, and of those
   * among them that are gone (stale).
   */
  integrals(): { listedMs: number; staleMs: number };
}

/**
 * One replica leaving: when it went, when the balancer's list dropped it (undefined: not yet), and when
 * it came back (a restart) before being dropped (undefined: it did not).
 */
export interface Departure {
  readonly address: string;
  readonly at: number;
  readonly how: 'crash' | 'shutdown';
  droppedAt: number | undefined;
  returnedAt: number | undefined;
}

/**
 * Builds a balancer's `discovery` over the replicas `services` (address → Service) of its one backend,
 * the service `app`:
 *
 * - eureka: an {@link EurekaInstance} per replica (on the replica's node, app = its service's name) and
 *   an {@link EurekaClient} on the balancer's node (Ribbon in the calling process); the balancer
 *   follows the client's list.
 * - kubernetes: a {@link ReadinessProbe} per replica (on a kubelet node of its own, `<replica>/kubelet`)
 *   and a {@link ServiceEndpoints}; the balancer follows its propagated list (as kube-proxy).
 * - dns: a {@link DnsServer} on a node `<app>/dns` answering the name `app` with the replicas' A
 *   records (the registered replicas, or with `readiness` a ServiceEndpoints over ReadinessProbes: a
 *   headless Service), and a {@link DnsResolver} on the balancer's node that resolves `app` at the start
 *   and every `refreshInterval` (Envoy's STRICT_DNS); each answer replaces the balancer's list, a failed
 *   query keeps it (as Envoy keeps the last hosts). A refresh within the cache time is answered from the
 *   cache, so the balancer drops a removed record at the first refresh at or after its cached answer
 *   expired and the server stopped answering it.
 *
 * Each replica's handler refuses connections (`unavailable`) once it is shut down.
 *
 * @example
 * ```ts
 * const h = buildDiscovery(net, lbNode, lb, { kind: 'kubernetes' }, 'app', { 'app-0': s0, 'app-1': s1 }, undefined);
 * ```
 */
export function buildDiscovery(
  net: Network,
  node: NetNode,
  lb: LoadBalancer,
  d: BalancerDiscoveryDescription,
  app: string,
  services: Readonly<Record<string, Service>>,
  eureka: EurekaDescription | undefined,
): DiscoveryHandle {
  const sim: Simulation = net.sim;
  const stopped = new Set<string>();
  const departures: Departure[] = [];
  const gone = new Map<string, Array<[number, number]>>();
  // Time integrals of the listed endpoints and of the gone ones among them, advanced at every change.
  let listed: readonly string[] = [];
  let lastT = sim.now;
  let listedMs = 0;
  let staleMs = 0;
  const advance = (): void => {
    const dt = sim.now - lastT;
    if (dt > 0) {
      listedMs += dt * listed.length;
      for (const a of listed) if (goneNow(a)) staleMs += dt;
    }
    lastT = sim.now;
  };
  const goneNow = (a: string): boolean => {
    const spans = gone.get(a);
    return spans !== undefined && spans[spans.length - 1]![1] === Number.POSITIVE_INFINITY;
  };
  const leave = (address: string, how: Departure['how']): void => {
    advance();
    departures.push({ address, at: sim.now, how, droppedAt: undefined, returnedAt: undefined });
    let spans = gone.get(address);
    if (spans === undefined) gone.set(address, (spans = []));
    spans.push([sim.now, Number.POSITIVE_INFINITY]);
  };
  const instances: Record<string, EurekaInstance> = {};
  const probes: Record<string, ReadinessProbe> = {};
  let client: EurekaClient | undefined;
  let endpoints: ServiceEndpoints | undefined;
  let dnsServer: DnsServer | undefined;
  let resolver: DnsResolver | undefined;
  let registered: EndpointList | undefined;
  let recordDelay = 0;
  const addKubelets = (probe: Record<string, unknown>): void => {
    for (const address of Object.keys(services)) {
      probes[address] = new ReadinessProbe(net.addNode(`${address}/kubelet`), {
        target: address,
        ...clean(probe),
      });
      endpoints!.addPod(address, probes[address]);
    }
  };
  for (const [address, service] of Object.entries(services)) {
    const serve = service.endpoint.serving as Handler;
    service.endpoint.serve((request, reply) => {
      if (stopped.has(address)) reply.error('unavailable', `${address}: connection refused (shut down)`);
      else serve(request, reply);
    });
    service.node.onCrash(() => leave(address, 'crash'));
    service.node.onRestart(() => {
      advance();
      const spans = gone.get(address);
      const last = spans?.[spans.length - 1];
      if (last !== undefined && last[1] === Number.POSITIVE_INFINITY) last[1] = sim.now;
      for (const dep of departures)
        if (dep.address === address && dep.droppedAt === undefined && dep.returnedAt === undefined)
          dep.returnedAt = sim.now;
    });
  }
  if (d.kind === 'eureka') {
    for (const address of Object.keys(services))
      instances[address] = new EurekaInstance(net.node(address), {
        server: d.server,
        app,
        ...clean(eureka?.instances ?? {}),
      });
    const { kind: _k, server, drain: _d, ...timers } = d;
    client = new EurekaClient(node, { server, app, ...clean(timers) });
    return handle(client);
  }
  if (d.kind === 'dns') {
    recordDelay = durationMs(d.propagationDelay ?? 0);
    let records: EndpointSource;
    if (d.readiness !== undefined) {
      // A headless Service: CoreDNS answers with the ready endpoints as its watch sees them.
      endpoints = new ServiceEndpoints(sim, { propagationDelay: recordDelay, name: `${app}/dns` });
      addKubelets(d.readiness);
      records = endpoints;
    } else {
      registered = new EndpointList();
      registered.set(Object.keys(services));
      records = registered;
    }
    const server = `${app}/dns`;
    dnsServer = new DnsServer(net.addNode(server), {
      records: { [app]: records },
      ...(d.ttl === undefined ? {} : { ttl: d.ttl }),
    });
    const r = new DnsResolver(node, clean({ server, cacheTtl: d.cacheTtl, timeout: d.queryTimeout }));
    resolver = r;
    const answer = new EndpointList();
    const every = durationMs(d.refreshInterval ?? DNS_REFRESH_DEFAULT_MS);
    const refresh = (): void => {
      r.resolve(app, (addresses) => {
        if (addresses !== null) answer.set(addresses);
      });
      node.setTimer(every, refresh);
    };
    refresh();
    // A crash discards the node's timers and the resolver's cache; a restarted proxy resolves at once.
    node.onRestart(refresh);
    return handle(answer);
  }
  const { kind: _k, propagationDelay, drain: _d, ...probe } = d;
  endpoints = new ServiceEndpoints(sim, {
    ...(propagationDelay === undefined ? {} : { propagationDelay }),
    name: node.address,
  });
  addKubelets(probe);
  return handle(endpoints);

  function handle(source: EndpointSource): DiscoveryHandle {
    feedLoadBalancer(source, lb);
    listed = source.endpoints;
    source.onChange((endpoints, _added, removed) => {
      advance();
      listed = endpoints;
      for (const a of removed)
        for (const dep of departures)
          if (dep.address === a && dep.droppedAt === undefined && dep.returnedAt === undefined)
            dep.droppedAt = sim.now;
    });
    return {
      kind: d.kind,
      source,
      client,
      endpoints,
      dnsServer,
      resolver,
      replicas: Object.keys(services),
      instances,
      probes,
      departures,
      goneAt(address, t) {
        for (const [from, to] of gone.get(address) ?? []) if (t >= from && t < to) return true;
        return false;
      },
      integrals() {
        advance();
        return { listedMs, staleMs };
      },
      shutdown(address, preStop) {
        leave(address, 'shutdown');
        if (d.kind === 'eureka') {
          instances[address]!.shutdown();
          stopped.add(address);
        } else if (registered !== undefined) {
          // Deregistered (the A record deleted): the server answers without it after the propagation.
          const list = registered;
          stopped.add(address);
          const remove = () => list.set(list.endpoints.filter((a) => a !== address));
          if (recordDelay > 0) sim.schedule(recordDelay, remove);
          else remove();
        } else endpoints!.terminate(address, { preStop, onSigterm: () => stopped.add(address) });
      },
    };
  }
}
