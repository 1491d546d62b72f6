import {
  checkBoolean,
  checkDuration,
  checkEnum,
  checkName,
  checkNumber,
  checkOptions,
  type Duration,
  optionKeys,
  requireOptions,
} from '@dsim/core';

/**
 * When a lease that stopped renewing counts as expired:
 *
 * - `'eureka'` (what Eureka does): `Lease.renew()` stores `now + duration` as the last update and
 *   `isExpired()` adds `duration` again, so a lease expires `2 × leaseExpirationDuration` (180 s by
 *   default) after its last renewal. Netflix documents this in `Lease.isExpired`: "the expiry will
 *   actually be 2 * duration. This is a minor bug ... this will not be fixed." A lease that was never
 *   renewed after its registration expires after one duration (registration stores `now`).
 * - `'documented'`: the behaviour the configuration describes, one `leaseExpirationDuration` after the
 *   last renewal (90 s by default).
 *
 * @example
 * ```ts
 * new EurekaServer(net.addNode('eureka'), { leaseExpiry: 'documented' });
 * ```
 */
export type LeaseExpiry = 'eureka' | 'documented';

/**
 * Options of an {@link EurekaServer}. Defaults are Eureka's (`EurekaServerConfig`,
 * https://github.com/Netflix/eureka/wiki/Understanding-eureka-client-server-communication) and Spring
 * Cloud Netflix's where Spring changes them
 * (https://docs.spring.io/spring-cloud-netflix/reference/spring-cloud-netflix.html).
 *
 * @example
 * ```ts
 * const options: EurekaServerOptions = { evictionInterval: '60s', selfPreservation: false };
 * ```
 */
export interface EurekaServerOptions {
  /**
   * How often the eviction task runs (`eureka.server.eviction-interval-timer-in-ms`). Its first run is
   * one interval after the server starts. A duration > 0.
   * @default 60000
   */
  evictionInterval?: Duration;
  /**
   * How often the read-only response cache is refreshed from the read-write cache
   * (`eureka.server.response-cache-update-interval-ms`). Eureka aligns the runs to multiples of the
   * interval on the server's clock, so they fall at 30 s, 60 s, ... of the node's local time. A duration > 0.
   * @default 30000
   */
  responseCacheUpdateInterval?: Duration;
  /**
   * Whether fetches are answered from the read-only cache (`eureka.server.use-read-only-response-cache`).
   * `false` answers from the read-write cache, which every registration, cancel and eviction
   * invalidates, so a fetch sees the registry as it is.
   * @default true
   */
  useReadOnlyResponseCache?: boolean;
  /**
   * Self-preservation (`eureka.server.enable-self-preservation`): the eviction task evicts nothing while
   * the renewals counted in the last full minute are not above the renewal threshold.
   * @default true
   */
  selfPreservation?: boolean;
  /**
   * The share of expected renewals below which self-preservation stops evictions
   * (`eureka.server.renewal-percent-threshold`); it also caps one eviction run at `registry size −
   * floor(registry size × threshold)` leases. A number in (0, 1].
   * @default 0.85
   */
  renewalPercentThreshold?: number;
  /**
   * The renewal interval the server assumes to expect `60 s / interval` renewals a minute per
   * instance (`eureka.server.expected-client-renewal-interval-seconds`). A duration > 0.
   * @default 30000
   */
  expectedClientRenewalInterval?: Duration;
  /**
   * Instances the server expects renewals from before any registers: Spring Cloud Netflix's
   * `eureka.server.default-open-for-traffic-count` (a standalone server that synced no peer). Each new
   * registration adds one and each cancel or eviction takes one away, but only while the count is
   * above 0, as in Eureka: with 0 the threshold stays 0 and nothing ever expires. An integer >= 0.
   * @default 1
   */
  openForTrafficCount?: number;
  /** See {@link LeaseExpiry}. @default 'eureka' */
  leaseExpiry?: LeaseExpiry;
  /**
   * When the server process starts; before it, requests are answered `unavailable` and no timer runs.
   * A duration >= 0.
   * @default 0
   */
  startAfter?: Duration;
  /** Name in trace records, metrics and random streams. @default the node's address */
  name?: string;
}

/** @internal */
export const EUREKA_SERVER_KEYS = optionKeys<EurekaServerOptions>()({
  evictionInterval: true,
  responseCacheUpdateInterval: true,
  useReadOnlyResponseCache: true,
  selfPreservation: true,
  renewalPercentThreshold: true,
  expectedClientRenewalInterval: true,
  openForTrafficCount: true,
  leaseExpiry: true,
  startAfter: true,
  name: true,
});

/** Every {@link EurekaServerOptions} resolved to ms and numbers. */
export interface ResolvedEurekaServer {
  readonly evictionInterval: number;
  readonly responseCacheUpdateInterval: number;
  readonly useReadOnlyResponseCache: boolean;
  readonly selfPreservation: boolean;
  readonly renewalPercentThreshold: number;
  readonly expectedClientRenewalInterval: number;
  readonly openForTrafficCount: number;
  readonly leaseExpiry: LeaseExpiry;
  readonly startAfter: number;
  readonly name: string;
}

/** @internal Checks every option (construction only). */
export function resolveEurekaServer(options: unknown, address: string): ResolvedEurekaServer {
  const C = 'EurekaServer';
  if (options === undefined) options = {};
  checkOptions(C, options, EUREKA_SERVER_KEYS);
  const o = options as EurekaServerOptions;
  const positive = { positive: true } as const;
  return {
    evictionInterval: checkDuration(C, 'evictionInterval', o.evictionInterval, positive, 60_000),
    responseCacheUpdateInterval: checkDuration(
      C,
      'responseCacheUpdateInterval',
      o.responseCacheUpdateInterval,
      positive,
      30_000,
    ),
    useReadOnlyResponseCache: checkBoolean(C, 'useReadOnlyResponseCache', o.useReadOnlyResponseCache, true),
    selfPreservation: checkBoolean(C, 'selfPreservation', o.selfPreservation, true),
    renewalPercentThreshold: checkNumber(
      C,
      'renewalPercentThreshold',
      o.renewalPercentThreshold,
      { above: 0, max: 1 },
      0.85,
    ),
    expectedClientRenewalInterval: checkDuration(
      C,
      'expectedClientRenewalInterval',
      o.expectedClientRenewalInterval,
      positive,
      30_000,
    ),
    openForTrafficCount: checkNumber(
      C,
      'openForTrafficCount',
      o.openForTrafficCount,
      { integer: true, min: 0 },
      1,
    ),
    leaseExpiry: checkEnum(C, 'leaseExpiry', o.leaseExpiry, ['eureka', 'documented'], 'eureka'),
    startAfter: checkDuration(C, 'startAfter', o.startAfter, {}, 0),
    name: checkName(C, 'name', o.name, address),
  };
}

/**
 * When an instance first registers:
 *
 * - `'first-heartbeat'` (Netflix's Eureka client: "Registration happens on first heartbeat (after 30
 *   seconds)"): the first renewal, one `leaseRenewalInterval` after the start, is answered 404 (no
 *   lease) and the instance registers at once.
 * - `'at-start'` (Spring Cloud Netflix, which registers when the application context starts): the
 *   instance registers at its start; the first renewal follows one interval later.
 *
 * The Eureka client's `InstanceInfoReplicator`, which would also register 40 s after the start
 * (`initialInstanceInfoReplicationIntervalSeconds`), is not modelled: with the defaults the heartbeat at
 * 30 s comes first.
 *
 * @example
 * ```ts
 * new EurekaInstance(node, { server: 'eureka', app: 'orders', registration: 'at-start' });
 * ```
 */
export type EurekaRegistration = 'first-heartbeat' | 'at-start';

/**
 * Options of an {@link EurekaInstance}: the registering side of Eureka's client
 * (`eureka.instance.*`, `eureka.client.*`).
 *
 * @example
 * ```ts
 * const options: EurekaInstanceOptions = { server: 'eureka', app: 'orders', leaseRenewalInterval: '30s' };
 * ```
 */
export interface EurekaInstanceOptions {
  /** The {@link EurekaServer}'s node address. */
  server: string;
  /** The application the instance belongs to (Eureka's app name, Spring's `spring.application.name`). */
  app: string;
  /** The instance id. @default the node's address */
  id?: string;
  /**
   * Time between heartbeats (`eureka.instance.lease-renewal-interval-in-seconds`), counted from the end
   * of the previous one (the client's heartbeat task is rescheduled after each run). A duration > 0.
   * @default 30000
   */
  leaseRenewalInterval?: Duration;
  /**
   * The lease duration the instance asks for (`eureka.instance.lease-expiration-duration-in-seconds`);
   * see `EurekaServerOptions.leaseExpiry` for what the server makes of it. A duration > 0.
   * @default 90000
   */
  leaseExpirationDuration?: Duration;
  /** See {@link EurekaRegistration}. @default 'first-heartbeat' */
  registration?: EurekaRegistration;
  /**
   * How long a call to the server may take (`eureka.client.eureka-server-read-timeout-seconds`); a
   * heartbeat that gets no answer in time fails and the next one follows one interval later. A
   * duration > 0.
   * @default 8000
   */
  timeout?: Duration;
  /** When the instance process starts (its registration and heartbeat phase). A duration >= 0. @default 0 */
  startAfter?: Duration;
}

/** @internal */
export const EUREKA_INSTANCE_KEYS = optionKeys<EurekaInstanceOptions>()({
  server: true,
  app: true,
  id: true,
  leaseRenewalInterval: true,
  leaseExpirationDuration: true,
  registration: true,
  timeout: true,
  startAfter: true,
});

/** Every {@link EurekaInstanceOptions} resolved. */
export interface ResolvedEurekaInstance {
  readonly server: string;
  readonly app: string;
  readonly id: string;
  readonly leaseRenewalInterval: number;
  readonly leaseExpirationDuration: number;
  readonly registration: EurekaRegistration;
  readonly timeout: number;
  readonly startAfter: number;
}

/** @internal */
export function resolveEurekaInstance(options: unknown, address: string): ResolvedEurekaInstance {
  const C = 'EurekaInstance';
  requireOptions(C, options, EUREKA_INSTANCE_KEYS);
  const o = options as EurekaInstanceOptions;
  const positive = { positive: true } as const;
  return {
    server: checkName(C, 'server', o.server),
    app: checkName(C, 'app', o.app),
    id: checkName(C, 'id', o.id, address),
    leaseRenewalInterval: checkDuration(C, 'leaseRenewalInterval', o.leaseRenewalInterval, positive, 30_000),
    leaseExpirationDuration: checkDuration(
      C,
      'leaseExpirationDuration',
      o.leaseExpirationDuration,
      positive,
      90_000,
    ),
    registration: checkEnum(
      C,
      'registration',
      o.registration,
      ['first-heartbeat', 'at-start'],
      'first-heartbeat',
    ),
    timeout: checkDuration(C, 'timeout', o.timeout, positive, 8000),
    startAfter: checkDuration(C, 'startAfter', o.startAfter, {}, 0),
  };
}

/**
 * Options of an {@link EurekaClient}: the discovering side, Eureka's client registry cache and the
 * client-side balancer's server list on top of it.
 *
 * @example
 * ```ts
 * const options: EurekaClientOptions = { server: 'eureka', app: 'orders', balancerRefreshInterval: '30s' };
 * ```
 */
export interface EurekaClientOptions {
  /** The {@link EurekaServer}'s node address. */
  server: string;
  /** The application whose instances the client looks up. */
  app: string;
  /**
   * Time between registry fetches (`eureka.client.registry-fetch-interval-seconds`), counted from the
   * end of the previous fetch; the first fetch is at the start. A duration > 0.
   * @default 30000
   */
  registryFetchInterval?: Duration;
  /**
   * Time between refreshes of the balancer's server list from the client's registry cache (Ribbon's
   * `ServerListRefreshInterval`, 30 s; Spring Cloud LoadBalancer's cache, `spring.cloud.loadbalancer.cache.ttl`,
   * holds a list 35 s). 0: no balancer cache, the endpoints follow each fetch. A duration >= 0.
   * @default 30000
   */
  balancerRefreshInterval?: Duration;
  /**
   * Delay of the balancer's first periodic refresh after the start (Ribbon's `PollingServerListUpdater`
   * waits 1 s; the balancer also copies the list once at the start). A duration >= 0.
   * @default 1000
   */
  balancerInitialDelay?: Duration;
  /** How long a fetch may take (`eureka.client.eureka-server-read-timeout-seconds`). A duration > 0. @default 8000 */
  timeout?: Duration;
  /** When the client process starts. A duration >= 0. @default 0 */
  startAfter?: Duration;
  /** Name in trace records. @default the node's address */
  name?: string;
}

/** @internal */
export const EUREKA_CLIENT_KEYS = optionKeys<EurekaClientOptions>()({
  server: true,
  app: true,
  registryFetchInterval: true,
  balancerRefreshInterval: true,
  balancerInitialDelay: true,
  timeout: true,
  startAfter: true,
  name: true,
});

/** Every {@link EurekaClientOptions} resolved. */
export interface ResolvedEurekaClient {
  readonly server: string;
  readonly app: string;
  readonly registryFetchInterval: number;
  readonly balancerRefreshInterval: number;
  readonly balancerInitialDelay: number;
  readonly timeout: number;
  readonly startAfter: number;
  readonly name: string;
}

/** @internal */
export function resolveEurekaClient(options: unknown, address: string): ResolvedEurekaClient {
  const C = 'EurekaClient';
  requireOptions(C, options, EUREKA_CLIENT_KEYS);
  const o = options as EurekaClientOptions;
  return {
    server: checkName(C, 'server', o.server),
    app: checkName(C, 'app', o.app),
    registryFetchInterval: checkDuration(
      C,
      'registryFetchInterval',
      o.registryFetchInterval,
      { positive: true },
      30_000,
    ),
    balancerRefreshInterval: checkDuration(
      C,
      'balancerRefreshInterval',
      o.balancerRefreshInterval,
      {},
      30_000,
    ),
    balancerInitialDelay: checkDuration(C, 'balancerInitialDelay', o.balancerInitialDelay, {}, 1000),
    timeout: checkDuration(C, 'timeout', o.timeout, { positive: true }, 8000),
    startAfter: checkDuration(C, 'startAfter', o.startAfter, {}, 0),
    name: checkName(C, 'name', o.name, address),
  };
}
