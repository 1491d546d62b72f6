import {
  type Activator,
  type AmqpClient,
  type ApiGateway,
  type ArrivalSpec,
  CacheAside,
  CacheServer,
  type CanaryRollout,
  CircuitBreaker,
  type ClientResponse,
  type ClosedLoopHandle,
  ConnectionPool,
  type ConsumerGroupMonitor,
  closedLoop,
  createKeys,
  createRateLimiter,
  type DownstreamCall,
  type DownstreamCaller,
  type DownstreamSpec,
  type EurekaServer,
  type EvictionSpec,
  type KafkaConsumer,
  type KeyPlacement,
  type LoadBalancer,
  type OpenLoopHandle,
  openLoop,
  type RateLimiterSpec,
  type RateLimitStore,
  type RatioBudgetSpec,
  RemoteCache,
  RetryingClient,
  type RetryingClientOptions,
  SemaphoreBulkhead,
  Service,
  type ServiceOptions,
  type StranglerFacade,
} from '@dsim/components';
import {
  type Duration,
  type LinkOptions,
  type NetNode,
  Network,
  RpcEndpoint,
  type RpcError,
  type RpcResponse,
  type ScheduledFault,
  type SimEvent,
  type Simulation,
  scheduleFaults,
} from '@dsim/core';
import { RequestStats } from '../request-stats.js';
import { buildActivator } from './activator.js';
import { autoscaledBackends } from './activator-check.js';
import { type AmqpHandle, amqpPublisher, buildAmqp, buildWorkers } from './amqp.js';
import { AMQP_DEFAULTS } from './amqp-schema.js';
import { type AutoscaleHandle, buildAutoscaled } from './autoscale.js';
import { balancersOf } from './autoscale-check.js';
import { type BalancerHandle, buildBalancer } from './balancer.js';
import { buildCdnNode, type CdnHandle, cdnRoute } from './cdn.js';
import { clean } from './clean.js';
import { type HostedLimit, hostLimit, type LimitClasses, limitAlgorithm } from './concurrency-limit.js';
import { CriticalityTags } from './criticality.js';
import { buildDiscovery, buildEurekaServer, type DiscoveryHandle } from './discovery.js';
import { DISCOVERY_DEFAULTS, type EurekaDescription } from './discovery-schema.js';
import { type DurationData, durationMs, toDistribution } from './distributions.js';
import { buildGateway, requestMix } from './gateway.js';
import { buildRateLimitStore, type GlobalLimitHandle, hostGlobalLimit } from './global-rate-limit.js';
import { buildConsumers, buildKafka, type KafkaHandle, kafkaPublisher } from './kafka.js';
import { KAFKA_DEFAULTS } from './kafka-schema.js';
import { buildMesh, captureInbound, type MeshHandle, meshEndpoint, meshLinks, meshReplicas } from './mesh.js';
import { buildRollouts } from './rollout.js';
import { buildSaga, type SagaHandle } from './saga.js';
import { SAGA_DEFAULTS } from './saga-schema.js';
import type {
  ClientsDescription,
  DownstreamCallDescription,
  NodeDescription,
  ServiceDescription,
  SystemDescription,
} from './schema.js';
import { buildStrangler } from './strangler.js';
import { addressesOf, cachePlacement, SystemError, validateSystem } from './validate.js';

/** Options of {@link compileSystem}: where to count the client requests. */
export interface CompileOptions {
  /** Every client request is counted here too (a scenario's `ctx.requests`). @default none */
  readonly requests?: RequestStats;
  /**
   * Named time windows `[from, to)`: each counts the requests that start in it (p99, availability per
   * window through `RequestStats.toJSON()`).
   * @default none
   * @example
   * ```ts
   * compileSystem(sim, system, { windows: { before: [0, '30s'], during: ['30s', '60s'] } });
   * ```
   */
  readonly windows?: Readonly<Record<string, readonly [Duration, Duration]>>;
  /**
   * Called as every client request ends: the clients node's name, when the request started (ms) and its
   * response (attempts, retries, error kind). For per-phase measurement (defineSystemScenario).
   * @default none
   */
  readonly onResponse?: (clients: string, startedAt: number, response: ClientResponse<unknown>) => void;
  /**
   * Called as every call on an edge ends, per attempt: the calling node's name, the address called, when
   * the attempt started (ms), whether it succeeded, its error kind and latency. Covers clients → target,
   * balancer → backend, service → downstream and service → cache. For per-edge measurement.
   * @default none
   */
  readonly onEdge?: EdgeHook;
  /**
   * Called as a clients node starts an attempt (first, retry or hedge), for per-second attempt counts.
   * @default none
   */
  readonly onAttempt?: (clients: string, kind: 'first' | 'retry' | 'hedge') => void;
  /**
   * Called as a consumer or worker node has processed a record or message: the node's name, when the
   * record was appended (kafka) or the message published (amqp), in ms, the time from then to the end
   * of processing, and (workers) whether it succeeded (acked) or failed (nacked). For per-phase
   * measurement.
   * @default none
   */
  readonly onConsume?: (consumer: string, appendedAt: number, endToEndMs: number, ok: boolean) => void;
}

/** See {@link CompileOptions.onEdge}. */
export type EdgeHook = (
  from: string,
  to: string,
  startedAt: number,
  ok: boolean,
  errorKind: string | undefined,
  latencyMs: number,
) => void;

/** A client population, compiled. */
export interface ClientsHandle {
  readonly client: RetryingClient;
  /** Its requests (started, ok, failed, latency). */
  readonly stats: RequestStats;
  readonly load: OpenLoopHandle | ClosedLoopHandle;
}

/** What {@link compileSystem} built. */
export interface CompiledSystem {
  readonly description: SystemDescription;
  readonly net: Network;
  /** Network nodes by address (a replicated service's are `<name>-0` ...). */
  readonly nodes: Readonly<Record<string, NetNode>>;
  /** Services and databases by address. */
  readonly services: Readonly<Record<string, Service>>;
  readonly balancers: Readonly<Record<string, LoadBalancer>>;
  /** Balancer nodes by name: the LoadBalancer and its health hooks (checks, outlier detection, max-fails). */
  readonly balancerHandles: Readonly<Record<string, BalancerHandle>>;
  /** Cache servers by address (a sharded cache's are `<name>-0` ...). */
  readonly caches: Readonly<Record<string, CacheServer>>;
  /** The key placement of each sharded cache, by cache node name: which shard a key is read from. */
  readonly placements: Readonly<Record<string, KeyPlacement>>;
  /** Cache-aside readers by service address. */
  readonly asides: Readonly<Record<string, CacheAside<unknown>>>;
  readonly clients: Readonly<Record<string, ClientsHandle>>;
  /** Connection pools of downstream calls, by `<caller address>-><to>` (also their metrics name). */
  readonly pools: Readonly<Record<string, ConnectionPool>>;
  /** The requests of every population. */
  readonly stats: RequestStats;
  /** One RequestStats per window of {@link CompileOptions.windows}. */
  readonly windows: Readonly<Record<string, RequestStats>>;
  /** Kafka clusters by kafka node name. */
  readonly kafka: Readonly<Record<string, KafkaHandle>>;
  /** AMQP brokers by amqp node name. */
  readonly amqp: Readonly<Record<string, AmqpHandle>>;
  /** Worker clients by worker node name. */
  readonly workers: Readonly<Record<string, readonly AmqpClient[]>>;
  /** Consumer groups by consumer node name: the consumers, the group id and its lag monitor. */
  readonly consumers: Readonly<Record<string, ConsumerGroupHandle>>;
  /** CDNs by cdn node name: the PoPs' and the shield's CdnCaches. */
  readonly cdns: Readonly<Record<string, CdnHandle>>;
  /** API gateways by gateway node name. */
  readonly gateways: Readonly<Record<string, ApiGateway>>;
  /** Strangler-fig facades by strangler node name. */
  readonly stranglers: Readonly<Record<string, StranglerFacade>>;
  /** Canary rollouts by strangler node name, then route name (routes with a `rollout` only). */
  readonly rollouts: Readonly<Record<string, Readonly<Record<string, CanaryRollout>>>>;
  /**
   * Autoscaled services by service node name: the ReplicaPool and its Autoscaler. Their replicas at the
   * start are in `nodes` and `services` too; later ones only in the pool (`pool.members`).
   */
  readonly autoscaled: Readonly<Record<string, AutoscaleHandle>>;
  /**
   * The service mesh (`mesh`): the ServiceMesh and the nodes in it; calls between its members go through
   * its proxies. Undefined without a mesh.
   */
  readonly mesh: MeshHandle | undefined;
  /** Global rate limits of services with `globalRateLimit`, by service node name. */
  readonly globalLimits: Readonly<Record<string, GlobalLimitHandle>>;
  /** Rate limit stores by rate-limit-store node name. */
  readonly rateLimitStores: Readonly<Record<string, RateLimitStore>>;
  /** Eureka servers by eureka node name. */
  readonly eurekaServers: Readonly<Record<string, EurekaServer>>;
  /** The discovery of balancers with `discovery`, by balancer node name. */
  readonly discovery: Readonly<Record<string, DiscoveryHandle>>;
  /** Sagas by saga node name: the definition and its orchestrator (with the ledger). */
  readonly sagas: Readonly<Record<string, SagaHandle>>;
  /** Activators (scale to zero) by activator node name. */
  readonly activators: Readonly<Record<string, Activator>>;
  /** The concurrency limits of services with `concurrencyLimit`, by replica address. */
  readonly limits: Readonly<Record<string, HostedLimit>>;
  /** The criticality each request carries (clients' `criticality`), read by limits that admit by it. */
  readonly criticality: CriticalityTags;
  /**
   * When to stop the run (ms), or null to run until nothing is left to do. A system with a kafka node
   * never goes idle (brokers heartbeat, consumers poll), so it stops its `drain` after the load ends.
   */
  readonly runUntil: number | null;
}

/** A consumer node, compiled. */
export interface ConsumerGroupHandle {
  readonly group: string;
  readonly consumers: readonly KafkaConsumer[];
  readonly monitor: ConsumerGroupMonitor;
}

const DATABASE = {
  concurrency: 16,
  queueCapacity: 1000,
  mean: 10,
};

/**
 * Builds a described system on `sim` from the existing components: a {@link Network} with its links, a
 * {@link Service} per service and database (replicas included), a {@link LoadBalancer} per balancer, a
 * {@link CacheServer} per cache shard, and per clients node a {@link RetryingClient} driven by `openLoop` or
 * `closedLoop`; then schedules the faults. Validates first (a {@link SystemError} names the path of every
 * defect). Call `sim.run()` afterwards.
 *
 * @example
 * ```ts
 * const sys = compileSystem(sim, system, { requests, windows: { during: ['30s', '60s'] } });
 * sim.run();
 * sys.windows.during.toJSON().latencyMs.p99;
 * ```
 */
export function compileSystem(
  sim: Simulation,
  description: unknown,
  options: CompileOptions = {},
): CompiledSystem {
  const system = validateSystem(description);
  const net = new Network(sim, {
    defaults: {
      ...(system.network?.latency === undefined ? {} : { latency: toDistribution(system.network.latency) }),
      ...(system.network?.loss === undefined ? {} : { loss: system.network.loss }),
    },
  });
  // Sorted, so that key order in a file never changes the run.
  const names = Object.keys(system.nodes).sort();
  const nodes: Record<string, NetNode> = {};
  // A kafka cluster adds its own nodes (brokers, controller); the rest are added here.
  // So does an autoscaled service's pool, for its replicas.
  const autoscaled = (n: string): boolean => {
    const d = system.nodes[n]!;
    return d.kind === 'service' && d.autoscale !== undefined;
  };
  for (const n of names)
    if (system.nodes[n]!.kind !== 'kafka' && !autoscaled(n))
      for (const a of addressesOf(system, n)) nodes[a] = net.addNode(a);
  const out = {
    description: system,
    net,
    nodes,
    services: {} as Record<string, Service>,
    balancers: {} as Record<string, LoadBalancer>,
    balancerHandles: {} as Record<string, BalancerHandle>,
    caches: {} as Record<string, CacheServer>,
    placements: {} as Record<string, KeyPlacement>,
    asides: {} as Record<string, CacheAside<unknown>>,
    clients: {} as Record<string, ClientsHandle>,
    pools: {} as Record<string, ConnectionPool>,
    stats: new RequestStats(),
    windows: Object.fromEntries(Object.keys(options.windows ?? {}).map((w) => [w, new RequestStats()])),
    kafka: {} as Record<string, KafkaHandle>,
    amqp: {} as Record<string, AmqpHandle>,
    workers: {} as Record<string, readonly AmqpClient[]>,
    consumers: {} as Record<string, ConsumerGroupHandle>,
    cdns: {} as Record<string, CdnHandle>,
    gateways: {} as Record<string, ApiGateway>,
    stranglers: {} as Record<string, StranglerFacade>,
    rollouts: {} as Record<string, Readonly<Record<string, CanaryRollout>>>,
    autoscaled: {} as Record<string, AutoscaleHandle>,
    // Before the services: their callers route calls to other members through it.
    mesh: at('mesh', () => buildMesh(net, system)),
    limits: {} as Record<string, HostedLimit>,
    criticality: new CriticalityTags(),
    activators: {} as Record<string, Activator>,
    sagas: {} as Record<string, SagaHandle>,
    eurekaServers: {} as Record<string, EurekaServer>,
    discovery: {} as Record<string, DiscoveryHandle>,
    globalLimits: {} as Record<string, GlobalLimitHandle>,
    rateLimitStores: {} as Record<string, RateLimitStore>,
    runUntil: null as number | null,
  };
  const stopAt = Math.max(
    0,
    ...Object.values(system.nodes).map((n) => (n.kind === 'clients' ? durationMs(n.until) : 0)),
  );
  // Clusters first: services publish to them and consumers read from them as they are built.
  for (const name of names) {
    const node = system.nodes[name]!;
    if (node.kind !== 'kafka') continue;
    out.kafka[name] = at(`nodes.${name}`, () => buildKafka(net, name, node));
    for (const a of addressesOf(system, name)) nodes[a] = net.node(a);
    const drain = durationMs(node.drain ?? KAFKA_DEFAULTS.drain);
    out.runUntil = Math.max(out.runUntil ?? 0, stopAt + drain);
  }
  for (const name of names) {
    const node = system.nodes[name]!;
    if (node.kind !== 'amqp') continue;
    out.amqp[name] = at(`nodes.${name}`, () => buildAmqp(net, name, node));
    // Connections heartbeat forever: stop with the drain, as for kafka.
    const drain = durationMs(node.drain ?? AMQP_DEFAULTS.drain);
    out.runUntil = Math.max(out.runUntil ?? 0, stopAt + drain);
  }
  // Before the services: their cache-aside readers route keys by these (validated already).
  for (const name of names) {
    const placement = cachePlacement(system, name);
    if (placement !== null) out.placements[name] = placement;
  }
  for (const name of names) {
    const node = system.nodes[name]!;
    at(`nodes.${name}`, () => build(sim, system, name, node, out, options, stopAt));
  }
  // After the balancers: a pool's replicas join its balancer as they become ready.
  for (const name of names) {
    const node = system.nodes[name]!;
    if (node.kind !== 'service' || node.autoscale === undefined) continue;
    const lb = out.balancers[balancersOf(system, name)[0]!]!;
    const h = at(`nodes.${name}.autoscale`, () =>
      buildAutoscaled(
        net,
        name,
        node.replicas ?? 1,
        node.autoscale!,
        lb,
        serviceOptions(sim, system, name, node, name, out, options),
        stopAt,
      ),
    );
    out.autoscaled[name] = h;
    at('mesh', () => meshReplicas(out.mesh, name, h.pool));
    for (const r of h.pool.members) {
      nodes[r.address] = r.node;
      out.services[r.address] = r.service;
    }
  }
  // After the pools: an activator waits for (and wakes) the pool behind its balancer.
  for (const name of names) {
    const node = system.nodes[name]!;
    if (node.kind !== 'activator') continue;
    const onEdge = options.onEdge;
    const scaled = out.autoscaled[autoscaledBackends(system, node.target)[0]!]!;
    out.activators[name] = at(`nodes.${name}`, () =>
      buildActivator(
        nodes[name]!,
        node,
        scaled,
        onEdge === undefined
          ? undefined
          : (to, t, ok, kind, latency) => onEdge(name, to, t, ok, kind, latency),
      ),
    );
  }
  // After the services and balancers: discovery wraps the replicas' handlers and feeds the balancer.
  for (const name of names) {
    const node = system.nodes[name]!;
    if (node.kind !== 'balancer' || node.discovery === undefined) continue;
    const d = node.discovery;
    const app = node.backends[0]!;
    const replicas = Object.fromEntries(addressesOf(system, app).map((a) => [a, out.services[a]!]));
    const eureka = d.kind === 'eureka' ? (system.nodes[d.server] as EurekaDescription) : undefined;
    out.discovery[name] = at(`nodes.${name}.discovery`, () =>
      buildDiscovery(net, nodes[name]!, out.balancers[name]!, d, app, replicas, eureka),
    );
    // Discovery's timers run for ever: stop with the drain, as for kafka.
    out.runUntil = Math.max(out.runUntil ?? 0, stopAt + durationMs(d.drain ?? DISCOVERY_DEFAULTS.drain));
  }
  const settings = links(system, net);
  if (out.mesh !== undefined) at('mesh', () => meshLinks(out.mesh!, system, settings));
  // A graceful shutdown is the system layer's (discovery tells it from a crash); the rest are core's.
  const faults = system.faults ?? [];
  const core = faults.filter((f) => (f.fault as { kind: string }).kind !== 'shutdown');
  if (core.length > 0) at('faults', () => scheduleFaults(net, core as unknown as ScheduledFault[]));
  faults.forEach((f, i) => {
    const fault = f.fault as { kind: string; node: string; preStop?: DurationData };
    if (fault.kind !== 'shutdown') return;
    const lb = Object.keys(out.discovery).find((b) => out.discovery[b]!.replicas.includes(fault.node))!;
    const preStop = at(`faults[${i}].fault.preStop`, () => durationMs(fault.preStop ?? 0));
    sim.scheduleAt(durationMs(f.at), () => out.discovery[lb]!.shutdown(fault.node, preStop));
  });
  return out;
}

type Out = {
  -readonly [K in keyof CompiledSystem]: CompiledSystem[K] extends Readonly<Record<string, infer V>>
    ? Record<string, V>
    : CompiledSystem[K];
};

/** Runs `f`; a component's error becomes a SystemError at `path` (unless it already is one). */
function at<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SystemError) throw e;
    throw new SystemError([{ path, message: e instanceof Error ? e.message : String(e) }]);
  }
}

function build(
  sim: Simulation,
  system: SystemDescription,
  name: string,
  node: NodeDescription,
  out: Out,
  options: CompileOptions,
  stopAt: number,
): void {
  const nodes = out.nodes;
  switch (node.kind) {
    case 'kafka':
    case 'amqp':
      return; // built before the other nodes
    case 'activator':
      return; // built after the autoscaled services' pools
    case 'eureka':
      out.eurekaServers[name] = buildEurekaServer(nodes[name]!, node);
      return;
    case 'saga-participant':
      return; // served by the sagas that name it
    case 'saga': {
      const onEdge = options.onEdge;
      out.runUntil = Math.max(out.runUntil ?? 0, stopAt + durationMs(node.drain ?? SAGA_DEFAULTS.drain));
      out.sagas[name] = buildSaga(
        nodes[name]!,
        name,
        node,
        node.choreography === undefined ? undefined : out.amqp[node.choreography.amqp],
        onEdge === undefined
          ? undefined
          : (to, t, ok, kind, latency) => onEdge(name, to, t, ok, kind, latency),
      );
      return;
    }
    case 'rate-limit-store':
      out.rateLimitStores[name] = buildRateLimitStore(nodes[name]!, name, node, system);
      return;
    case 'worker': {
      const onConsume = options.onConsume;
      const onEdge = options.onEdge;
      out.workers[name] = buildWorkers(
        sim,
        out.net,
        name,
        addressesOf(system, name),
        node,
        out.amqp[node.source]!,
        onConsume === undefined && onEdge === undefined
          ? undefined
          : (publishedAt, ok, e2e) => {
              onConsume?.(name, publishedAt, e2e, ok);
              onEdge?.(node.source, name, publishedAt, ok, ok ? undefined : 'nacked', e2e);
            },
      );
      return;
    }
    case 'consumer': {
      const kafka = out.kafka[node.source]!;
      const group = node.group ?? name;
      const onConsume = options.onConsume;
      const onEdge = options.onEdge;
      const built = buildConsumers(
        sim,
        out.net,
        addressesOf(system, name),
        node,
        kafka,
        group,
        onConsume === undefined && onEdge === undefined
          ? undefined
          : (record, e2e) => {
              onConsume?.(name, record.appendedAt, e2e, true);
              onEdge?.(node.source, name, record.appendedAt, true, undefined, e2e);
            },
      );
      out.consumers[name] = { group, ...built };
      return;
    }
    case 'cache':
      for (const address of addressesOf(system, name))
        out.caches[address] = new CacheServer(nodes[address]!, {
          capacity: node.capacity,
          ...(node.eviction === undefined ? {} : { eviction: { kind: node.eviction } as EvictionSpec }),
          ...(node.ttl === undefined ? {} : { ttl: node.ttl }),
          ...(node.serviceTime === undefined ? {} : { serviceTime: toDistribution(node.serviceTime) }),
          ...(node.concurrency === undefined ? {} : { concurrency: node.concurrency }),
          ...(node.persistent === undefined ? {} : { persistent: node.persistent }),
        });
      return;
    case 'database':
      out.services[name] = new Service(nodes[name]!, {
        ...serverOptions(node),
        concurrency: node.concurrency ?? DATABASE.concurrency,
        queueCapacity: node.queueCapacity ?? DATABASE.queueCapacity,
        serviceTime: toDistribution(node.serviceTime ?? { exponential: { mean: DATABASE.mean } }),
      });
      return;
    case 'service':
      if (node.autoscale !== undefined) return; // built after the balancers
      for (const address of addressesOf(system, name)) {
        const service = new Service(
          nodes[address]!,
          serviceOptions(sim, system, name, node, address, out, options),
        );
        out.services[address] = service;
        const limit = node.concurrencyLimit;
        if (limit !== undefined)
          out.limits[address] = at(`nodes.${name}.concurrencyLimit`, () =>
            hostLimit(
              service,
              () => limitAlgorithm(sim, address, limit),
              limit.rejectWith ?? 'overloaded',
              limit.retryAfter === undefined ? undefined : durationMs(limit.retryAfter),
              limit.criticality === undefined
                ? undefined
                : {
                    // Strict parsing left no undefined values.
                    shares: limit.criticality as LimitClasses['shares'],
                    of: (r) => out.criticality.of(r.payload),
                  },
            ),
          );
      }
      if (node.globalRateLimit !== undefined) {
        const g = node.globalRateLimit;
        const onEdge = options.onEdge;
        const replicas = Object.fromEntries(addressesOf(system, name).map((a) => [a, out.services[a]!]));
        out.globalLimits[name] = at(`nodes.${name}.globalRateLimit`, () =>
          hostGlobalLimit(
            name,
            replicas,
            g,
            onEdge === undefined
              ? undefined
              : (to, t, ok, kind, latency) => onEdge(name, to, t, ok, kind, latency),
          ),
        );
      }
      return;
    case 'balancer': {
      const onEdge = options.onEdge;
      const h = buildBalancer(
        sim,
        system,
        nodes[name]!,
        node,
        onEdge === undefined
          ? undefined
          : (address, ok, kind, latency) => onEdge(name, address, sim.now - latency, ok, kind, latency),
        stopAt,
      );
      captureInbound(out.mesh, h.lb.endpoint);
      out.balancers[name] = h.lb;
      out.balancerHandles[name] = h;
      return;
    }
    case 'clients':
      out.clients[name] = clients(sim, name, node, out, options);
      return;
    case 'gateway':
    case 'strangler': {
      const onEdge = options.onEdge;
      const onCall =
        onEdge === undefined
          ? undefined
          : (to: string, t: number, ok: boolean, kind: string | undefined, latency: number) =>
              onEdge(name, to, t, ok, kind, latency);
      if (node.kind === 'gateway') out.gateways[name] = buildGateway(nodes[name]!, node, onCall, out.mesh);
      else {
        const facade = buildStrangler(nodes[name]!, node, onCall, out.mesh);
        out.stranglers[name] = facade;
        const rollouts = buildRollouts(sim, facade, node);
        if (Object.keys(rollouts).length > 0) out.rollouts[name] = rollouts;
      }
      return;
    }
    case 'cdn': {
      const onEdge = options.onEdge;
      out.cdns[name] = buildCdnNode(
        out.net,
        name,
        node,
        node.origin,
        onEdge === undefined
          ? undefined
          : (to, t, ok, kind, latency) => onEdge(name, to, t, ok, kind, latency),
      );
      return;
    }
  }
}

/**
 * The Service options of one replica of a service node at `address` (for an autoscaled service, its
 * name: one options object shared by the pool's replicas, each Service still building its own callers).
 */
function serviceOptions(
  sim: Simulation,
  system: SystemDescription,
  name: string,
  node: ServiceDescription,
  address: string,
  out: Out,
  options: CompileOptions,
): ServiceOptions {
  const downstream = node.downstream;
  const aside = node.cacheAside;
  return {
    ...serverOptions(node),
    serviceTime: toDistribution(node.serviceTime),
    ...(node.concurrency === undefined ? {} : { concurrency: node.concurrency }),
    ...(node.queueCapacity === undefined ? {} : { queueCapacity: node.queueCapacity }),
    ...(downstream === undefined || downstream.length === 0
      ? {}
      : {
          downstream: {
            calls: routed(
              system,
              downstream,
              downstream.map((c, i) =>
                at(`nodes.${name}.downstream[${i}]`, () => downstreamCall(sim, address, c, out.pools)),
              ),
            ),
            ...(node.downstreamMode === undefined ? {} : { mode: node.downstreamMode }),
            ...(node.propagateDeadline === undefined ? {} : { propagateDeadline: node.propagateDeadline }),
            client: (own: RpcEndpoint) => {
              const endpoint = observed(meshEndpoint(out.mesh, own, name), name, options.onEdge);
              const publishers = new Map<string, DownstreamCaller>();
              for (const c of downstream) {
                const onSettled =
                  options.onEdge === undefined
                    ? undefined
                    : (t: number, ok: boolean, kind: string | undefined, latency: number) =>
                        options.onEdge!(name, c.to, t, ok, kind, latency);
                if (c.queue !== undefined)
                  publishers.set(
                    c.to,
                    amqpPublisher(sim, own, out.amqp[c.to]!, c.queue, c.persistent ?? false, onSettled),
                  );
                // The producer talks to the brokers on the service's own endpoint, unobserved:
                // the edge counts records, not produce requests.
                if (c.topic !== undefined)
                  publishers.set(
                    c.to,
                    kafkaPublisher(
                      sim,
                      own,
                      out.kafka[c.to]!,
                      c.topic,
                      c.acks ?? KAFKA_DEFAULTS.acks,
                      onSettled,
                    ),
                  );
              }
              const caller = dispatcher(sim, endpoint, downstream, node.bulkhead, publishers);
              if (aside === undefined) return caller;
              const placement = out.placements[aside.cache];
              const reader = new CacheAside<unknown>(sim, {
                name: `${address}/aside`,
                cache: new RemoteCache(endpoint, {
                  // Fixed membership, as a ketama client's server list: a down shard's keys miss.
                  servers: placement === undefined ? aside.cache : (key) => placement.lookup(key)!,
                  ...(aside.timeout === undefined ? {} : { timeout: aside.timeout }),
                }),
                // The origin call has no parent request: a cache-aside load carries no deadline.
                load: (key) => caller.call(downstream[0]!.to, key, {} as never) as SimEvent<never>,
                ...(aside.ttl === undefined ? {} : { ttl: aside.ttl }),
                ...(aside.coalesce === undefined ? {} : { coalesce: aside.coalesce }),
              });
              out.asides[address] = reader;
              return cacheAsideCaller(sim, reader);
            },
          },
        }),
  };
}

/**
 * The endpoint as callers see it, with every call told to `onEdge` as it ends (the endpoint itself when
 * there is no hook). RetryingClient, RemoteCache and services use only `node`, `call` and `callThen`.
 */
function observed(endpoint: RpcEndpoint, from: string, onEdge: EdgeHook | undefined): RpcEndpoint {
  if (onEdge === undefined) return endpoint;
  const sim = endpoint.node.network.sim;
  const report = (to: string, started: number, r: RpcResponse): void =>
    onEdge(from, to, started, r.ok, r.ok ? undefined : r.error.kind, sim.now - started);
  const wrapper = {
    node: endpoint.node,
    call(to: string, payload: unknown, o?: object) {
      const started = sim.now;
      const ev = endpoint.call(to, payload, o as never);
      ev.onProcessed((e) => report(to, started, e.value!));
      return ev;
    },
    callThen(to: string, payload: unknown, o: object | undefined, done: (r: RpcResponse) => void) {
      const started = sim.now;
      endpoint.callThen(to, payload, o as never, (r) => {
        report(to, started, r);
        done(r);
      });
    },
  };
  return wrapper as unknown as RpcEndpoint;
}

function serverOptions(node: NodeDescription & { kind: 'service' | 'database' }): Partial<ServiceOptions> {
  return {
    ...(node.discipline === undefined ? {} : { discipline: node.discipline }),
    ...(node.queueTimeout === undefined ? {} : { queueTimeout: node.queueTimeout }),
    ...(node.dropExpired === undefined ? {} : { dropExpired: node.dropExpired }),
    ...(node.replyOnDrop === undefined ? {} : { replyOnDrop: node.replyOnDrop }),
    ...(node.shedding === undefined ? {} : { shedding: clean(node.shedding) }),
    ...(node.errorRate === undefined ? {} : { errorRate: node.errorRate }),
    // One limiter per Service, so each replica limits its own arrivals (as a per-instance limit does).
    ...(node.rateLimit === undefined
      ? {}
      : { rateLimit: createRateLimiter(node.rateLimit as RateLimiterSpec) }),
  };
}

/** RetryingClient options of a caller's policy (timeout per attempt, retries, backoff, budget, breaker). */
function clientOptions(
  sim: Simulation,
  name: string,
  p: Pick<
    ClientsDescription,
    'timeout' | 'retries' | 'backoff' | 'budget' | 'breaker' | 'retryOn' | 'retryAfter'
  >,
): RetryingClientOptions<unknown> {
  return {
    name,
    ...(p.timeout === undefined ? {} : { timeout: p.timeout }),
    ...(p.retries === undefined ? {} : { maxAttempts: p.retries + 1 }),
    ...(p.backoff === undefined ? {} : { backoff: p.backoff }),
    ...(p.retryOn === undefined ? {} : { retryOn: p.retryOn }),
    ...(p.retryAfter === undefined ? {} : { retryAfter: p.retryAfter }),
    ...(p.budget === undefined ? {} : { budget: clean(p.budget) as RatioBudgetSpec }),
    ...(p.breaker === undefined ? {} : { breaker: new CircuitBreaker(sim, { name, ...clean(p.breaker) }) }),
  };
}

/** Whether a downstream call needs a RetryingClient in front of it. */
const needsClient = (c: DownstreamCallDescription): boolean =>
  c.retries !== undefined ||
  c.backoff !== undefined ||
  c.budget !== undefined ||
  c.breaker !== undefined ||
  c.retryAfter !== undefined;

function downstreamCall(
  sim: Simulation,
  address: string,
  c: DownstreamCallDescription,
  pools: Record<string, ConnectionPool>,
): DownstreamCall {
  const retrying = needsClient(c);
  const key = `${address}->${c.to}`;
  const pool = c.pool === undefined ? undefined : new ConnectionPool(sim, { name: key, ...clean(c.pool) });
  // Kept for outcome hooks (a pool's stats); two calls to one node: the first one's.
  if (pool !== undefined) pools[key] ??= pool;
  return {
    to: c.to,
    // Without a RetryingClient the timeout is the call's own; with one it is per attempt (clientOptions).
    ...(c.timeout === undefined || retrying ? {} : { timeout: c.timeout }),
    ...(pool === undefined ? {} : { pool }),
  };
}

const FAILED: RpcError = { kind: 'unavailable', message: 'cache-aside: the origin failed' };
const BULKHEAD_FULL: RpcError = { kind: 'rejected', message: 'bulkhead full' };

/**
 * One caller per downstream target: a RetryingClient when it retries, budgets or breaks, behind its
 * bulkhead; all of them behind the service's `shared` bulkhead.
 */
function dispatcher(
  sim: Simulation,
  endpoint: RpcEndpoint,
  calls: readonly DownstreamCallDescription[],
  shared: ServiceDescription['bulkhead'],
  publishers: ReadonlyMap<string, DownstreamCaller> = new Map(),
): DownstreamCaller {
  const by = new Map<string, DownstreamCaller>();
  for (const c of calls) {
    if (by.has(c.to)) continue;
    const publisher = publishers.get(c.to);
    if (publisher !== undefined) {
      by.set(
        c.to,
        c.bulkhead === undefined
          ? publisher
          : bulkheaded(
              sim,
              publisher,
              new SemaphoreBulkhead(sim, { name: `${endpoint.node.address}->${c.to}`, ...clean(c.bulkhead) }),
            ),
      );
      continue;
    }
    const name = `${endpoint.node.address}->${c.to}`;
    const retrying = needsClient(c);
    let caller: DownstreamCaller = retrying
      ? new RetryingClient(endpoint, clientOptions(sim, name, c))
      : endpoint;
    if (c.bulkhead !== undefined)
      caller = bulkheaded(sim, caller, new SemaphoreBulkhead(sim, { name, ...clean(c.bulkhead) }));
    by.set(c.to, caller);
  }
  const caller: DownstreamCaller = { call: (to, payload, o) => by.get(to)!.call(to, payload, o) };
  if (shared === undefined) return caller;
  const name = `${endpoint.node.address}/bulkhead`;
  return bulkheaded(sim, caller, new SemaphoreBulkhead(sim, { name, ...clean(shared) }));
}

/** The calls, or with `onlyFrom` a function choosing them by the request's sender (DownstreamSpec.calls). */
function routed(
  system: SystemDescription,
  described: readonly DownstreamCallDescription[],
  calls: DownstreamCall[],
): DownstreamSpec['calls'] {
  if (described.every((c) => c.onlyFrom === undefined)) return calls;
  const senders = described.map((c) =>
    c.onlyFrom === undefined ? undefined : new Set(c.onlyFrom.flatMap((n) => addressesOf(system, n))),
  );
  return (request) => calls.filter((_, i) => senders[i]?.has(request.from) ?? true);
}

function bulkheaded(sim: Simulation, inner: DownstreamCaller, bulkhead: SemaphoreBulkhead): DownstreamCaller {
  return {
    call(to, payload, o) {
      const done = sim.event<{ ok: boolean; error?: RpcError }>();
      bulkhead.acquire().onProcessed((permit) => {
        if (!permit.value) {
          done.succeed({ ok: false, error: BULKHEAD_FULL });
          return;
        }
        inner.call(to, payload, o).onProcessed((r) => {
          bulkhead.release();
          done.succeed(r.value!);
        });
      });
      return done;
    },
  };
}

/** The service's downstream call, as a cache-aside read of the request's payload as the key. */
function cacheAsideCaller(sim: Simulation, reader: CacheAside<unknown>): DownstreamCaller {
  return {
    call(_to, payload) {
      const done = sim.event<{ ok: boolean; error?: RpcError }>();
      reader.read(String(payload)).onProcessed((e) => {
        done.succeed(e.value!.ok ? { ok: true } : { ok: false, error: FAILED });
      });
      return done;
    },
  };
}

function clients(
  sim: Simulation,
  name: string,
  node: ClientsDescription,
  out: Out,
  options: CompileOptions,
): ClientsHandle {
  const onAttempt = options.onAttempt;
  const own = new RpcEndpoint(out.nodes[name]!);
  captureInbound(out.mesh, own);
  const client = new RetryingClient(observed(own, name, options.onEdge), {
    ...clientOptions(sim, name, node),
    ...(onAttempt === undefined ? {} : { onAttempt: (_n, _to, kind) => onAttempt(name, kind) }),
  });
  const stats = new RequestStats();
  const windows = Object.entries(options.windows ?? {}).map(
    ([w, [from, to]]) => [durationMs(from), durationMs(to), out.windows[w]!] as const,
  );
  const every = [stats, out.stats, ...(options.requests === undefined ? [] : [options.requests])];
  const keys = node.keys === undefined ? undefined : createKeys(node.keys);
  // A cdn with several PoPs, targeted by its name: the PoP a hash of the key picks.
  const route = cdnRoute(out.description as SystemDescription, node.target);
  const rng = sim.rng(`${name}/keys`);
  // For a gateway or strangler: a GatewayRequest per call, its key (if any) as the body.
  const tags = out.criticality;
  const level = node.criticality;
  const mix = node.requests === undefined ? undefined : requestMix(node, sim.rng(`${name}/requests`), tags);
  const send = (i: number): SimEvent<ClientResponse<unknown>> => {
    const started = sim.now;
    const sinks = [...every, ...windows.filter(([a, b]) => started >= a && started < b).map((w) => w[2])];
    for (const s of sinks) s.start();
    // With keys the payload is also the request's key (hash policies balance on it; it travels down).
    const key = keys?.next(rng);
    const ev =
      mix !== undefined
        ? client.call(node.target, mix(key), key === undefined ? undefined : { key })
        : key === undefined
          ? client.call(node.target, tags.carry(i, level))
          : client.call(route?.(key) ?? node.target, tags.carry(key, level), { key });
    ev.onProcessed((e) => {
      for (const s of sinks) s.finish(e.value!.ok, sim.now - started);
      options.onResponse?.(name, started, e.value!);
    });
    return ev;
  };
  const from = durationMs(node.from ?? 0);
  const until = durationMs(node.until);
  const w = node.workload;
  const load =
    w.kind === 'open'
      ? openLoop(sim, {
          arrivals: { kind: w.arrivals ?? 'poisson', rate: w.rate } as ArrivalSpec,
          onArrival: (i) => void send(i),
          start: from,
          until,
          stream: `${name}/arrivals`,
        })
      : closedLoop(sim, {
          users: w.users,
          thinkTime: toDistribution(w.thinkTime),
          request: (user, it) => send(user * 1_000_000 + it),
          until,
          stream: `${name}/think`,
        });
  return { client, stats, load };
}

/**
 * Link settings: region pairs first, then edges (an edge wins). Both directions. Returns what was set,
 * by `<from address>\u0000<to address>`, for the mesh's connections to follow.
 */
function links(system: SystemDescription, net: Network): Map<string, LinkOptions> {
  const set = new Map<string, LinkOptions>();
  const apply = (x: string, y: string, l: LinkOptions): void => {
    net.setLink(x, y, l, { bidirectional: true });
    set.set(`${x}\u0000${y}`, l);
    set.set(`${y}\u0000${x}`, l);
  };
  const link = (l: { latency?: unknown; loss?: number | undefined }) => ({
    ...(l.latency === undefined ? {} : { latency: toDistribution(l.latency as never) }),
    ...(l.loss === undefined ? {} : { loss: l.loss }),
  });
  const names = Object.keys(system.nodes).sort();
  for (const [key, l] of Object.entries(system.network?.regions ?? {}).sort()) {
    const [ra, rb] = key.split('->') as [string, string];
    for (const a of names)
      for (const b of names)
        if (system.nodes[a]!.region === ra && system.nodes[b]!.region === rb)
          for (const x of addressesOf(system, a))
            for (const y of addressesOf(system, b)) apply(x, y, link(l));
  }
  for (const [key, l] of Object.entries(system.network?.edges ?? {}).sort()) {
    const [a, b] = key.split('->') as [string, string];
    for (const x of a in system.nodes ? addressesOf(system, a) : [a])
      for (const y of b in system.nodes ? addressesOf(system, b) : [b])
        at(`network.edges.${key}`, () => apply(x, y, link(l)));
  }
  return set;
}
