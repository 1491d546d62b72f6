import { z } from 'zod';
import { durationSchema, durationWithin } from './distributions.js';

// Service discovery in front of a balancer's backends: a `eureka` node (EurekaServer, with the
// EurekaInstance options of the instances that register with it) and a balancer's `discovery` (an
// EurekaClient on the balancer's node, Kubernetes ReadinessProbes and ServiceEndpoints, or a DnsServer
// and a DnsResolver). Every field
// maps onto one option of those components; defaults are theirs (Eureka's and Kubernetes').

const positiveDuration = durationSchema.refine((d) => durationWithin(d, 0, Number.POSITIVE_INFINITY, true), {
  error: 'must be a duration > 0',
});

/** The discovery defaults that are the system layer's, not a component's. */
export const DISCOVERY_DEFAULTS = Object.freeze({
  /** The discovery timers run for ever: the run goes on this long after the load ends, then stops. */
  drain: 30_000,
});

/**
 * A Eureka server (EurekaServer) on its own node, and how the instances that register with it behave
 * (EurekaInstance: every replica of a service behind a balancer with `discovery: { kind: eureka }`).
 *
 * @example
 * ```ts
 * eurekaSchema.parse({ kind: 'eureka', leaseExpiry: 'documented', instances: { registration: 'at-start' } });
 * ```
 */
export const eurekaSchema = z.strictObject({
  kind: z.literal('eureka'),
  /** `eureka.server.eviction-interval-timer-in-ms`. @default 60 s */
  evictionInterval: positiveDuration.optional(),
  /** `eureka.server.response-cache-update-interval-ms` (runs aligned to multiples of it). @default 30 s */
  responseCacheUpdateInterval: positiveDuration.optional(),
  /** `eureka.server.use-read-only-response-cache`. @default true */
  useReadOnlyResponseCache: z.boolean().optional(),
  /** `eureka.server.enable-self-preservation`. @default true */
  selfPreservation: z.boolean().optional(),
  /** `eureka.server.renewal-percent-threshold`. @default 0.85 */
  renewalPercentThreshold: z.number().gt(0).max(1).optional(),
  /**
   * `eureka`: a lease expires 2 × its duration after the last renewal (what Eureka does); `documented`:
   * one duration. @default 'eureka'
   */
  leaseExpiry: z.enum(['eureka', 'documented']).optional(),
  /** The registering instances' options (EurekaInstance). @default Eureka's */
  instances: z
    .strictObject({
      /** `eureka.instance.lease-renewal-interval-in-seconds`. @default 30 s */
      leaseRenewalInterval: positiveDuration.optional(),
      /** `eureka.instance.lease-expiration-duration-in-seconds`. @default 90 s */
      leaseExpirationDuration: positiveDuration.optional(),
      /**
       * `first-heartbeat`: registered by the first heartbeat, one interval after the start (Eureka's);
       * `at-start`: at once. @default 'first-heartbeat'
       */
      registration: z.enum(['first-heartbeat', 'at-start']).optional(),
    })
    .optional(),
  region: z.string().min(1).optional(),
});

/** A eureka node. */
export type EurekaDescription = z.infer<typeof eurekaSchema>;

const eurekaDiscovery = z.strictObject({
  kind: z.literal('eureka'),
  /** The `eureka` node the backends register with and the balancer's client fetches from. */
  server: z.string().min(1, { error: 'must be a node name' }),
  /** `eureka.client.registry-fetch-interval-seconds`. @default 30 s */
  registryFetchInterval: positiveDuration.optional(),
  /** Ribbon's `ServerListRefreshInterval`; 0: the list follows each fetch. @default 30 s */
  balancerRefreshInterval: durationSchema.optional(),
  /** Ribbon's `PollingServerListUpdater` initial delay. @default 1 s */
  balancerInitialDelay: durationSchema.optional(),
  /** How long the run goes on after the load ends (discovery's timers run for ever). @default 30 s */
  drain: durationSchema.optional(),
});

const kubernetesDiscovery = z.strictObject({
  kind: z.literal('kubernetes'),
  /** The readiness probe's `periodSeconds`. @default 10 s */
  period: positiveDuration.optional(),
  /** `timeoutSeconds`. @default 1 s */
  timeout: positiveDuration.optional(),
  /** `failureThreshold`. @default 3 */
  failureThreshold: z.int().min(1).optional(),
  /** `successThreshold`. @default 1 */
  successThreshold: z.int().min(1).optional(),
  /** `initialDelaySeconds`. @default 0 */
  initialDelay: durationSchema.optional(),
  /** From an endpoint change to kube-proxy routing by it. @default 1 s */
  propagationDelay: durationSchema.optional(),
  /** How long the run goes on after the load ends (the probes run for ever). @default 30 s */
  drain: durationSchema.optional(),
});

/**
 * The readiness probes of a `dns` discovery whose records follow them (a Kubernetes headless Service:
 * CoreDNS answers its name with the ready endpoints). The ReadinessProbe's options, Kubernetes' defaults.
 */
const dnsReadiness = z.strictObject({
  /** `periodSeconds`. @default 10 s */
  period: positiveDuration.optional(),
  /** `timeoutSeconds`. @default 1 s */
  timeout: positiveDuration.optional(),
  /** `failureThreshold`. @default 3 */
  failureThreshold: z.int().min(1).optional(),
  /** `successThreshold`. @default 1 */
  successThreshold: z.int().min(1).optional(),
  /** `initialDelaySeconds`. @default 0 */
  initialDelay: durationSchema.optional(),
});

const dnsDiscovery = z.strictObject({
  kind: z.literal('dns'),
  /**
   * The TTL the DNS server answers with (DnsServer `ttl`; CoreDNS's `kubernetes` plugin: 5 s; Consul's
   * `service_ttl`: 0). @default 5 s
   */
  ttl: durationSchema.optional(),
  /**
   * How long the balancer's resolver caches an answer (DnsResolver `cacheTtl`): `record` honours the TTL;
   * a duration overrides it, as the JVM's `networkaddress.cache.ttl` (30 s in OpenJDK). @default 'record'
   */
  cacheTtl: z.union([z.literal('record'), durationSchema]).optional(),
  /**
   * How often the balancer's node resolves the name again, as Envoy's STRICT_DNS cluster
   * (`dns_refresh_rate`, 5 s); a refresh while the cached answer is fresh is answered from the cache.
   * @default 5 s
   */
  refreshInterval: positiveDuration.optional(),
  /** How long a query waits for its answer (resolv.conf `timeout`). @default 5 s */
  queryTimeout: positiveDuration.optional(),
  /**
   * From a record change (a graceful shutdown's deregistration, or an endpoint leaving readiness) to
   * the DNS server answering without it. @default 0
   */
  propagationDelay: durationSchema.optional(),
  /**
   * Records that follow readiness probes (a Kubernetes headless Service): a crashed replica leaves after
   * `failureThreshold` failed probes. Without it the records are the registered replicas, and only a
   * graceful `shutdown` removes one: a crashed replica stays in DNS. @default none
   */
  readiness: dnsReadiness.optional(),
  /** How long the run goes on after the load ends (the refreshes run for ever). @default 30 s */
  drain: durationSchema.optional(),
});

/** The discovery kinds a balancer can name. */
export const DISCOVERY_KINDS = ['eureka', 'kubernetes', 'dns'] as const;

/**
 * Where a balancer's backends come from: `{ kind: 'eureka', server, ... }` (an EurekaClient on the
 * balancer's node fetching the registry, as Ribbon in the calling process), `{ kind: 'kubernetes',
 * ... }` (a ReadinessProbe per replica and ServiceEndpoints, as kube-proxy) or `{ kind: 'dns', ... }`
 * (the replicas as A records on a DnsServer, resolved by a caching DnsResolver on the balancer's node
 * every `refreshInterval`, as Envoy's STRICT_DNS cluster). The listed `backends` are
 * the services whose replicas register; the balancer routes only to what discovery lists.
 *
 * @example
 * ```ts
 * balancerDiscoverySchema.parse({ kind: 'eureka', server: 'registry' });
 * ```
 */
export const balancerDiscoverySchema = z.discriminatedUnion(
  'kind',
  [eurekaDiscovery, kubernetesDiscovery, dnsDiscovery],
  {
    error: (iss) =>
      iss.code === 'invalid_union' ? `kind must be one of ${DISCOVERY_KINDS.join(', ')}` : undefined,
  },
);

/** A balancer's `discovery`. */
export type BalancerDiscoveryDescription = z.infer<typeof balancerDiscoverySchema>;
