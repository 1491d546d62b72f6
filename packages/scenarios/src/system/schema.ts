import { EVICTION_KINDS, PLACEMENT_KINDS } from '@dsim/components';
import { didYouMean, RPC_ERROR_KINDS, type RpcErrorKind } from '@dsim/core';
import { z } from 'zod';
import { activatorSchema } from './activator-schema.js';
import { amqpSchema, workerSchema } from './amqp-schema.js';
import { autoscaleSchema } from './autoscale-schema.js';
import { backoffSchema } from './backoff-schema.js';
import { balancerSchema } from './balancer-schema.js';
import { cdnSchema } from './cdn-schema.js';
import { concurrencyLimitSchema } from './concurrency-limit-schema.js';
import { criticalitySchema } from './criticality-schema.js';
import { eurekaSchema } from './discovery-schema.js';
import { distributionSchema, durationSchema, durationWithin } from './distributions.js';
import { clientRequestSchema, gatewaySchema } from './gateway-schema.js';
import { globalRateLimitSchema, rateLimitStoreSchema } from './global-rate-limit-schema.js';
import { consumerSchema, kafkaSchema } from './kafka-schema.js';
import { meshSchema } from './mesh-schema.js';
import { rateLimitSchema } from './rate-limit-schema.js';
import { sagaParticipantSchema, sagaSchema } from './saga-schema.js';
import { stranglerSchema } from './strangler-schema.js';

const name = z.string().min(1, { error: 'must be a node name' });
const int = (min: number) => z.int().min(min);
const probability = z.number().min(0).max(1);

/** RetryingClient's `retryAfter` modes, for `retryAfter` on clients and downstream calls. */
export const RETRY_AFTER_MODES = ['ignore', 'at-least', 'pushback'] as const;

const retryAfterMode = z.enum(RETRY_AFTER_MODES);

/** What a caller (clients, or a service's downstream call) does per call: RetryingClient options. */
const callPolicy = {
  /** Timeout of each attempt. @default none */
  timeout: durationSchema.optional(),
  /** Retries after the first attempt (RetryingClient maxAttempts − 1). @default 0 */
  retries: int(0).max(100).optional(),
  /** Delay between retries. @default none (retry at once) */
  backoff: backoffSchema.optional(),
  /**
   * Error kinds that are retried (RetryingClient's `retryOn`).
   * @default ['timeout', 'unavailable', 'overloaded', 'gateway-timeout']
   */
  retryOn: z
    .array(z.enum(RPC_ERROR_KINDS as [RpcErrorKind, ...RpcErrorKind[]]))
    .min(1)
    .optional(),
  /**
   * A retry budget (RetryingClient's `budget`): `{ kind: 'ratio', ratio?, minPerSecond?, ttl? }` is
   * Finagle's RetryBudget, retries at most `ratio` × requests (default 0.2) plus `minPerSecond` a second
   * (default 10), counted over `ttl` (default 10 s, 1 s to 60 s). A retry it refuses is not sent.
   * @default none (only `retries` limits retries)
   */
  budget: z
    .discriminatedUnion('kind', [
      z.strictObject({
        kind: z.literal('ratio'),
        /** Retries allowed per request (0.1: one per ten requests). @default 0.2 */
        ratio: z.number().min(0).max(1000).optional(),
        /** Retries always allowed per second on top of the ratio. @default 10 */
        minPerSecond: int(0).optional(),
        /** How long a request's deposit lasts, 1 s to 60 s. @default 10 s */
        ttl: durationSchema
          .refine((d) => durationWithin(d, 1000, 60_000), { error: 'must be a duration from 1 s to 60 s' })
          .optional(),
      }),
    ])
    .optional(),
  /**
   * What a retry does with a refusal's retry-after hint (RetryingClient's `retryAfter`): `ignore` waits
   * the backoff alone, as most SDKs do; `at-least` waits max(backoff, hint), never earlier than the
   * server asked (RFC 9110 §10.2.3, `Retry-After`); `pushback` waits exactly the hint instead of the
   * backoff (gRPC's retry design, A6, `grpc-retry-pushback-ms`). Hints come from a service's `rateLimit`
   * (the limiter's time until it would admit) and its `concurrencyLimit` with `retryAfter`. A 429
   * (`rejected`) is retried only if `retryOn` lists it. An error without `retries`.
   * @default 'ignore'
   */
  retryAfter: retryAfterMode.optional(),
  /** A resilience4j circuit breaker in front of the calls. @default none */
  breaker: z
    .strictObject({
      failureRateThreshold: z.number().min(0).max(100).optional(),
      slidingWindowSize: int(1).optional(),
      minimumNumberOfCalls: int(1).optional(),
      waitDurationInOpenStateMs: z.number().positive().optional(),
      permittedNumberOfCallsInHalfOpenState: int(1).optional(),
      slowCallRateThreshold: z.number().min(0).max(100).optional(),
      slowCallDurationThresholdMs: z.number().positive().optional(),
    })
    .optional(),
};

const region = z.string().min(1).optional();

const clientsSchema = z.strictObject({
  kind: z.literal('clients'),
  /** The node the requests go to: a balancer, service, database, cdn, gateway, strangler, activator or saga. */
  target: name,
  workload: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('open'),
      /** Requests per second. */
      rate: z.number().positive(),
      /** @default 'poisson' */
      arrivals: z.enum(['poisson', 'constant']).optional(),
    }),
    z.strictObject({ kind: z.literal('closed'), users: int(1), thinkTime: distributionSchema }),
  ]),
  /** When the load starts. @default 0 */
  from: durationSchema.optional(),
  /** When the load stops (required: the run ends when the work does). */
  until: durationSchema,
  /** Request payloads: keys drawn from a key generator (cache-aside needs them). @default the request index */
  keys: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('uniform'), count: int(1) }),
      z.strictObject({ kind: z.literal('zipf'), count: int(1), s: z.number().min(0) }),
    ])
    .optional(),
  /**
   * For a gateway or strangler target: the requests sent, `{ method?, path, weight? }`, one drawn per
   * request in proportion to its weight; each is sent as a GatewayRequest `{ method, path, tenant, body }`
   * (with `keys`, the key is the body and the request's key). Required for a gateway target.
   * @default none
   */
  requests: z.array(clientRequestSchema).min(1).optional(),
  /** The tenant of every request (whose limits apply at a gateway). @default none (the gateway's `anonymous`) */
  tenant: z.string().min(1).optional(),
  /**
   * The criticality of every request (a `requests` entry's own wins), carried with the request through
   * balancers, gateways, the mesh and services' downstream calls to any `concurrencyLimit` that admits
   * by criticality (Google SRE book, "Handling Overload"). See criticality.ts.
   * @default none (such a limit takes the request as `CRITICAL`)
   */
  criticality: criticalitySchema.optional(),
  ...callPolicy,
  region,
});

const downstreamCallSchema = z.strictObject({
  /** The node called. */
  to: name,
  ...callPolicy,
  /** A connection pool for this call. @default none (no limit) */
  pool: z
    .strictObject({
      size: int(1),
      maxPending: int(0).optional(),
      acquireTimeout: durationSchema.optional(),
    })
    .optional(),
  /** A semaphore bulkhead around this call. @default none */
  bulkhead: z
    .strictObject({ maxConcurrentCalls: int(1), maxWaitDurationMs: z.number().min(0).optional() })
    .optional(),
  /**
   * Make this call only for requests sent by these nodes (a replicated caller's name covers its
   * replicas), e.g. a frontend that calls `a` for one population of clients and `b` for another.
   * @default every request
   */
  onlyFrom: z.array(name).min(1).optional(),
  /** Publish to this topic of the kafka node `to`: one record per call, keyed by the request. @default none */
  topic: z.string().min(1).optional(),
  /** The producer's `acks` for a publishing call. @default 'all' (Kafka 3.0's default) */
  acks: z.union([z.literal('all'), z.literal(0), z.literal(1)]).optional(),
  /** Publish to this queue of the amqp node `to`: one message per call (the request's payload). @default none */
  queue: z.string().min(1).optional(),
  /** `delivery_mode` 2 for a message published to a queue. @default false (AMQP's) */
  persistent: z.boolean().optional(),
});

const serverFields = {
  /** Workers. */
  concurrency: int(1).optional(),
  /** Admission control in front of the queue (a rate limiter; refused requests get 429). @default none */
  rateLimit: rateLimitSchema.optional(),
  /** Service time per request. */
  serviceTime: distributionSchema,
  /** Queue slots. @default Infinity */
  queueCapacity: int(0).optional(),
  /** @default 'fifo' */
  discipline: z.enum(['fifo', 'lifo', 'adaptive-lifo']).optional(),
  queueTimeout: durationSchema.optional(),
  /** @default false */
  dropExpired: z.boolean().optional(),
  /** @default false */
  replyOnDrop: z.boolean().optional(),
  shedding: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('queue-length'), max: int(0) }),
      z.strictObject({ kind: z.literal('queue-delay'), max: durationSchema }),
      z.strictObject({
        kind: z.literal('codel'),
        target: durationSchema.optional(),
        interval: durationSchema.optional(),
      }),
    ])
    .optional(),
  /** @default 0 */
  errorRate: probability.optional(),
  region,
};

const serviceSchema = z.strictObject({
  kind: z.literal('service'),
  /**
   * Copies named `<name>-0` ... `<name>-(n-1)`; a balancer's backend `<name>` means all of them. 0 only
   * for a service that scales to zero (`autoscale` with `minReplicas: 0`).
   * @default 1
   */
  replicas: int(0).max(1000).optional(),
  /**
   * Scale the replicas with load (a ReplicaPool behind the one balancer that lists this service, sized by
   * an Autoscaler): `{ policy?: 'hpa' | 'step' | 'scheduled', ... }`; `replicas` is then the count at the
   * start. See autoscale-schema.ts.
   * @default none (a fixed `replicas`)
   */
  autoscale: autoscaleSchema.optional(),
  ...serverFields,
  /**
   * A rate limit over all the replicas together, in front of each replica's handler: `{ kind:
   * 'local-share' | 'central' | 'synced', limit, window?, ... }` (LocalShareLimiter, CentralLimiter through
   * a `rate-limit-store` node, SyncedLimiter). A refused request is answered `rejected`. An error with
   * `rateLimit` (per replica) or `autoscale`. See global-rate-limit-schema.ts.
   * @default none
   */
  globalRateLimit: globalRateLimitSchema.optional(),
  /**
   * A concurrency limit in front of the workers (one ConcurrencyLimiter per replica, in its node, as
   * Netflix concurrency-limits' server filter): `{ limit: 'fixed', max }` or `{ limit: 'aimd' |
   * 'gradient2' | 'vegas', ...that limit's options }`. A refused request is answered `rejectWith`
   * (default `overloaded`) and counted as `<service>.<phase>.limitRefused`. See
   * concurrency-limit-schema.ts.
   * @default none
   */
  concurrencyLimit: concurrencyLimitSchema.optional(),
  /** Calls made for every request (on a miss only, with `cacheAside`). @default none */
  downstream: z.array(downstreamCallSchema).optional(),
  /** @default 'sequential' */
  downstreamMode: z.enum(['sequential', 'parallel']).optional(),
  /**
   * Pass the request's deadline down to the downstream calls (Service's `downstream.propagateDeadline`).
   * An error without `downstream`.
   * @default true
   */
  propagateDeadline: z.boolean().optional(),
  /**
   * A semaphore bulkhead shared by all the downstream calls (one per replica): a call that finds its
   * permits taken is answered `rejected`. Inside it, a call's own `bulkhead` still applies. An error
   * without `downstream` (it would bound nothing).
   * @default none
   */
  bulkhead: z
    .strictObject({ maxConcurrentCalls: int(1), maxWaitDurationMs: z.number().min(0).optional() })
    .optional(),
  /** Read the request's key through a cache first; the single downstream call loads a miss. */
  cacheAside: z
    .strictObject({
      cache: name,
      /** Timeout of a cache call. @default 100 ms */
      timeout: durationSchema.optional(),
      ttl: durationSchema.optional(),
      /** @default false */
      coalesce: z.boolean().optional(),
    })
    .optional(),
});

const databaseSchema = z.strictObject({
  kind: z.literal('database'),
  ...serverFields,
  /** @default 16 */
  concurrency: int(1).optional(),
  /** @default { exponential: { mean: 10 } } */
  serviceTime: distributionSchema.optional(),
  /** @default 1000 */
  queueCapacity: int(0).optional(),
});

// The balancer node lives in balancer-schema.ts (LoadBalancer and its health hooks).

/**
 * The placement of a sharded cache without `placement`: a ketama ring, twemproxy's default `distribution`,
 * 160 points per server (hashed with xxHash64, not twemproxy's MD5 and FNV-1a: same balance, other keys).
 */
export const DEFAULT_CACHE_PLACEMENT = Object.freeze({ kind: 'ring', vnodes: 160 } as const);

/** How a sharded cache's client maps keys to shards: createPlacement's PlacementSpec without `nodes`. */
const placementSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('ring'),
      /** Points per shard. @default 160 (libketama's and twemproxy's points per server) */
      vnodes: int(1).optional(),
    }),
    z.strictObject({ kind: z.literal('rendezvous') }),
    z.strictObject({
      kind: z.literal('maglev'),
      /** Lookup table entries, a prime. @default 65537 */
      tableSize: int(1).optional(),
    }),
    z.strictObject({ kind: z.literal('modulo') }),
  ],
  {
    // zod's own message lists the kinds but guesses none.
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const kind = (issue.input as { kind?: unknown } | undefined)?.kind;
      const guess = typeof kind === 'string' ? didYouMean(kind, PLACEMENT_KINDS) : undefined;
      return `must be one of ${PLACEMENT_KINDS.join(', ')}${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`;
    },
  },
);

const cacheSchema = z.strictObject({
  kind: z.literal('cache'),
  /** Entries held (by each shard). */
  capacity: int(1),
  /**
   * CacheServers, named `<name>-0` ... `<name>-(n-1)` when more than one (a fault names one: `cache-1`);
   * a service's cacheAside on `<name>` reads each key from the shard `placement` gives it.
   * @default 1
   */
  shards: int(1).max(1000).optional(),
  /**
   * How keys map to shards (an error without `shards` > 1). Membership is fixed: a crashed shard's keys
   * read as misses (the client times out), they do not move.
   * @default { kind: 'ring', vnodes: 160 } (twemproxy's default distribution, ketama)
   */
  placement: placementSchema.optional(),
  /** @default 'lru' */
  eviction: z.enum(EVICTION_KINDS as unknown as [string, ...string[]]).optional(),
  ttl: durationSchema.optional(),
  /** @default 0.05 ms */
  serviceTime: distributionSchema.optional(),
  /** @default 1 */
  concurrency: int(1).optional(),
  /** @default false */
  persistent: z.boolean().optional(),
  region,
});

/** One node of a system, by `kind`. */
export const nodeSchema = z.discriminatedUnion('kind', [
  clientsSchema,
  balancerSchema,
  serviceSchema,
  databaseSchema,
  cacheSchema,
  kafkaSchema,
  consumerSchema,
  amqpSchema,
  workerSchema,
  cdnSchema,
  gatewaySchema,
  stranglerSchema,
  activatorSchema,
  rateLimitStoreSchema,
  eurekaSchema,
  sagaSchema,
  sagaParticipantSchema,
]);

const linkSchema = z.strictObject({
  latency: distributionSchema.optional(),
  loss: probability.optional(),
});

const faultSchema = z.strictObject({
  at: durationSchema,
  for: durationSchema.optional(),
  /**
   * A core fault (`{ kind: 'crash', node }`, ...), checked by scheduleFaults; or `{ kind: 'shutdown',
   * node, preStop? }`, a graceful shutdown of a replica behind a balancer with `discovery`.
   */
  fault: z.looseObject({ kind: z.string() }),
});

/**
 * The JSON/YAML form of a system: nodes by name, the network, and a fault schedule.
 *
 * @example
 * ```ts
 * systemSchema.parse({ nodes: { db: { kind: 'database' } } });
 * ```
 */
export const systemSchema = z.strictObject({
  /** Human-readable name. */
  name: z.string().optional(),
  nodes: z.record(z.string().regex(/^[A-Za-z0-9_.:-]+$/), nodeSchema),
  network: z
    .strictObject({
      /** Every link's default. @default 0 latency, 0 loss */
      latency: distributionSchema.optional(),
      loss: probability.optional(),
      /** Per pair of nodes, `'a->b'`: both directions of the link between a and b. */
      edges: z.record(z.string(), linkSchema).optional(),
      /** Per pair of regions, `'us->eu'` (both directions), for nodes in different regions. */
      regions: z.record(z.string(), linkSchema).optional(),
    })
    .optional(),
  /**
   * A service mesh (ServiceMesh, sidecar or ambient) over the services and databases: their calls to
   * each other go through its proxies. See mesh-schema.ts.
   * @default none
   */
  mesh: meshSchema.optional(),
  /** Faults at absolute times, as core's scheduleFaults entries. */
  faults: z.array(faultSchema).optional(),
});

/**
 * A system described as data. Every object is strict (unknown keys are errors).
 *
 * @example
 * ```ts
 * const system: SystemDescription = {
 *   nodes: {
 *     users: { kind: 'clients', target: 'api', workload: { kind: 'open', rate: 50 }, until: '30s' },
 *     api: { kind: 'service', concurrency: 4, serviceTime: { exponential: { mean: 20 } } },
 *   },
 * };
 * ```
 */
export type SystemDescription = z.infer<typeof systemSchema>;
/** One node of a {@link SystemDescription}. */
export type NodeDescription = z.infer<typeof nodeSchema>;
/** A service's downstream call. */
export type DownstreamCallDescription = z.infer<typeof downstreamCallSchema>;
/** A clients node. */
export type ClientsDescription = z.infer<typeof clientsSchema>;
/** A service node. */
export type ServiceDescription = z.infer<typeof serviceSchema>;
/** A cache node. */
export type CacheDescription = z.infer<typeof cacheSchema>;
