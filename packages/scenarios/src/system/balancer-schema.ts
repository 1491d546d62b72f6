import {
  BALANCER_POLICY_KINDS,
  type BalancerPolicyKind,
  isPrime,
  MAGLEV_MAX_TABLE_SIZE,
  RING_MAX_POINTS,
} from '@dsim/components';
import { didYouMean, RPC_ERROR_KINDS, type RpcErrorKind } from '@dsim/core';
import { z } from 'zod';
import { BACKOFF_VARIANTS } from './backoff-schema.js';
import { balancerDiscoverySchema } from './discovery-schema.js';
import { distributionSchema, durationSchema, durationWithin } from './distributions.js';

// The balancer node (LoadBalancer): every field maps onto one LoadBalancer option, or onto the options
// of one of its health hooks (ActiveHealthCheck, OutlierDetection, MaxFails). Defaults are the
// components' own; the schema only checks shapes and ranges so that errors name the description's path.

const name = z.string().min(1, { error: 'must be a node name' });
const int = (min: number) => z.int().min(min);
const percent = z.number().min(0).max(100);

const positiveDuration = durationSchema.refine((d) => durationWithin(d, 0, Number.POSITIVE_INFINITY, true), {
  error: 'must be a duration > 0',
});

const errorKind = z.enum(RPC_ERROR_KINDS as [RpcErrorKind, ...RpcErrorKind[]]);

const kind = <K extends BalancerPolicyKind>(k: K) => z.literal(k);
const ringSize = int(1).max(RING_MAX_POINTS);

// One object per built-in policy, keyed by kind: a policy added to the components fails to compile here.
const POLICIES = {
  'round-robin': z.strictObject({ kind: kind('round-robin') }),
  'weighted-round-robin': z.strictObject({
    kind: kind('weighted-round-robin'),
    /** `smooth` (nginx's smooth weighted round robin) or `edf` (Envoy's scheduler). @default 'smooth' */
    scheduler: z.enum(['smooth', 'edf']).optional(),
  }),
  random: z.strictObject({ kind: kind('random') }),
  'least-request': z.strictObject({
    kind: kind('least-request'),
    /** Envoy's `choice_count`: backends drawn per pick; the least active wins. @default 2 */
    choiceCount: int(1).optional(),
    /** Envoy's `FULL_SCAN`: compare every available backend instead of drawing. @default false */
    fullScan: z.boolean().optional(),
    /** Envoy's `active_request_bias`, used while weights differ: `weight / (active + 1)^bias`. @default 1 */
    activeRequestBias: z.number().min(0).optional(),
  }),
  'power-of-d': z.strictObject({
    kind: kind('power-of-d'),
    /** HAProxy's `random(<draws>)`: backends drawn per pick; 1 is plain random. @default 2 */
    d: int(1).optional(),
  }),
  'ring-hash': z.strictObject({
    kind: kind('ring-hash'),
    /** Envoy's `minimum_ring_size`: ring points. @default 1024 */
    minimumRingSize: ringSize.optional(),
  }),
  maglev: z.strictObject({
    kind: kind('maglev'),
    /** Envoy's `table_size`: a prime above the backend count. @default 65537 */
    tableSize: int(2)
      .max(MAGLEV_MAX_TABLE_SIZE)
      .refine(isPrime, { error: `must be a prime in [2, ${MAGLEV_MAX_TABLE_SIZE}]` })
      .optional(),
  }),
  'consistent-bounded': z.strictObject({
    kind: kind('consistent-bounded'),
    /** Envoy's `hash_balance_factor`: a backend takes at most this percent of the average load. @default 125 */
    hashBalanceFactor: int(100).max(100_000).optional(),
    /** Ring points, as for `ring-hash`. @default 1024 */
    minimumRingSize: ringSize.optional(),
  }),
  first: z.strictObject({
    kind: kind('first'),
    /** HAProxy's server `maxconn`: active requests a backend holds before the next one is used. */
    maxConn: int(1),
  }),
  'peak-ewma': z.strictObject({
    kind: kind('peak-ewma'),
    /** Linkerd's decay time τ of the latency estimate. @default 10 s */
    decay: positiveDuration.optional(),
    /** The estimate of a backend with no answer yet. @default 30 ms */
    defaultRtt: durationSchema.optional(),
    /** Backends compared per pick. @default 2 */
    choiceCount: int(1).optional(),
  }),
  'haproxy-hash': z.strictObject({
    kind: kind('haproxy-hash'),
    /** HAProxy's `hash-type`: `map-based` (hash mod total weight) or `consistent` (a ring). @default 'map-based' */
    hashType: z.enum(['map-based', 'consistent']).optional(),
  }),
  'haproxy-random': z.strictObject({
    kind: kind('haproxy-random'),
    /** HAProxy's `random(<draws>)`: draws per pick, the least loaded wins. @default 2 */
    draws: int(1).optional(),
  }),
  leastconn: z.strictObject({ kind: kind('leastconn') }),
} satisfies Record<BalancerPolicyKind, z.ZodType>;

const KINDS = BALANCER_POLICY_KINDS as readonly string[];
const unknownPolicy = (input: unknown): string => {
  const guess = typeof input === 'string' ? didYouMean(input, KINDS) : undefined;
  return `unknown policy${guess === undefined ? '' : ` (did you mean "${guess}"?)`}; one of ${KINDS.join(', ')}`;
};

/** The policies whose pick hashes the request's key (the clients' payload, with `keys`). */
export const HASH_POLICIES: readonly BalancerPolicyKind[] = [
  'ring-hash',
  'maglev',
  'consistent-bounded',
  'haproxy-hash',
];

/**
 * A balancing policy: its kind alone (`least-request`), or `{ kind, ...options }` (createBalancerPolicy's
 * spec). Hash policies hash the request's key: a clients node with `keys` sends its payload as the key.
 */
export const policySchema = z.union(
  [
    z.string().refine((k) => KINDS.includes(k), { error: (iss) => unknownPolicy(iss.input) }),
    z.discriminatedUnion(
      'kind',
      Object.values(POLICIES) as unknown as [
        (typeof POLICIES)[BalancerPolicyKind],
        ...(typeof POLICIES)[BalancerPolicyKind][],
      ],
      {
        error: (iss) =>
          iss.code === 'invalid_union' ? unknownPolicy((iss.input as { kind?: unknown })?.kind) : undefined,
      },
    ),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union' ? 'must be a policy kind, or { kind, ...options }' : undefined,
  },
);

/** Envoy's outlier detection (OutlierDetection), with Envoy's defaults. */
export const outlierSchema = z.strictObject({
  /** Consecutive 5xx answers that eject a backend at once. @default 5 */
  consecutive5xx: int(1).optional(),
  /** Consecutive gateway failures (502/503/504, the balancer's own timeouts). @default 5 */
  consecutiveGatewayFailure: int(1).optional(),
  /** Period of the sweep that returns ejected backends and runs the statistical checks. @default 10 s */
  interval: positiveDuration.optional(),
  /** Ejection time = baseEjectionTime × the backend's ejection count (decayed). @default 30 s */
  baseEjectionTime: positiveDuration.optional(),
  /** Cap of an ejection time (at least baseEjectionTime). @default 300 s */
  maxEjectionTime: positiveDuration.optional(),
  /** A uniform [0, jitter] added to each ejection time. @default 0 */
  maxEjectionTimeJitter: durationSchema.optional(),
  /** Most backends ejected at once, in percent (one can always be). @default 10 */
  maxEjectionPercent: percent.optional(),
  /** Percent chance that a consecutive-5xx detection ejects. @default 100 */
  enforcingConsecutive5xx: percent.optional(),
  /** Percent chance that a consecutive-gateway-failure detection ejects. @default 0 (detect only) */
  enforcingConsecutiveGatewayFailure: percent.optional(),
  /** Percent chance that a success-rate detection ejects. @default 100 */
  enforcingSuccessRate: percent.optional(),
  /** Backends with enough volume needed before success-rate detection runs. @default 5 */
  successRateMinimumHosts: int(1).optional(),
  /** Requests in an interval a backend needs to take part in success-rate detection. @default 100 */
  successRateRequestVolume: int(1).optional(),
  /** Ejection below mean − factor × stdev of the success rates (Envoy's 1900 is 1.9). @default 1.9 */
  successRateStdevFactor: z.number().positive().optional(),
  /** Failure percentage at or above which a backend is an outlier. @default 85 */
  failurePercentageThreshold: percent.optional(),
  /** Percent chance that a failure-percentage detection ejects. @default 0 (detect only) */
  enforcingFailurePercentage: percent.optional(),
  /** Backends with enough volume needed before failure-percentage detection runs. @default 5 */
  failurePercentageMinimumHosts: int(1).optional(),
  /** Requests in an interval a backend needs to take part in failure-percentage detection. @default 50 */
  failurePercentageRequestVolume: int(1).optional(),
});

/** Envoy's retry budget: retries outstanding at most max(min, percent × requests in flight). */
const lbBudgetSchema = z.strictObject({
  /** Envoy's `budget_percent`. @default 20 */
  budgetPercent: percent.optional(),
  /** Envoy's `min_retry_concurrency`. @default 3 */
  minRetryConcurrency: int(0).optional(),
});

/** Retry backoff at the balancer, as the components' BackoffSpec (Envoy's by default). */
const lbBackoffSchema = z.discriminatedUnion('kind', [
  ...BACKOFF_VARIANTS,
  z.strictObject({
    kind: z.literal('envoy'),
    /** @default 25 */
    baseMs: z.number().positive().optional(),
    /** @default 250 */
    maxMs: z.number().positive().optional(),
  }),
]);

/** Envoy's router retry policy (LoadBalancer's `retry`). */
export const lbRetrySchema = z.strictObject({
  /** Envoy's `num_retries`: retries after the first attempt. @default 1 */
  attempts: int(0).max(100).optional(),
  /**
   * Raw error kinds of an attempt that are retried (`timeout` is the per-try timer).
   * @default ['error', 'unavailable', 'overloaded', 'gateway-timeout', 'timeout'] (Envoy's `5xx`)
   */
  retryOn: z.array(errorKind).min(1).optional(),
  /** Envoy's `previous_hosts` predicate: a retry avoids the backends already tried. @default true */
  previousHosts: z.boolean().optional(),
  /** Envoy's `host_selection_retry_max_attempts`: picks redone by `previousHosts`. @default 1 */
  hostSelectionAttempts: int(1).optional(),
  /** Envoy's `per_try_timeout`; the balancer's `timeout` then bounds the whole request. @default none */
  perTryTimeout: positiveDuration.optional(),
  /** Wait before each retry. @default { kind: 'envoy', baseMs: 25, maxMs: 250 } */
  backoff: lbBackoffSchema.optional(),
  /** Envoy's `max_retries` circuit breaker: retries outstanding at once; ignored with `budget`. @default 3 */
  maxConcurrentRetries: int(0).optional(),
  /** Envoy's retry budget, replacing `maxConcurrentRetries`. @default none */
  budget: lbBudgetSchema.optional(),
});

/**
 * A balancer (LoadBalancer) in front of services or databases. Every field is a LoadBalancer option or
 * one of its health hooks' options; defaults are the component's.
 */
export const balancerSchema = z.strictObject({
  kind: z.literal('balancer'),
  /** Backend node names; a replicated service's name stands for all its replicas. */
  backends: z.array(name).min(1),
  /**
   * Weights by backend name (all its replicas) or replica address (`app-2`, which wins over its name):
   * LoadBalancer's `{ address, weight }` backends. Weighted policies use them.
   * @default 1 each
   */
  weights: z.record(name, z.number().positive()).optional(),
  /**
   * Take the backends from service discovery instead of the fixed list: `{ kind: 'eureka', server, ... }`,
   * `{ kind: 'kubernetes', ... }` or `{ kind: 'dns', ... }`. `backends` names the services whose replicas register; the balancer
   * routes to what discovery lists, so a crashed or stopped replica keeps getting calls until every
   * layer has refreshed. See discovery-schema.ts.
   * @default none (the fixed `backends`)
   */
  discovery: balancerDiscoverySchema.optional(),
  /** A policy kind, or `{ kind, ...options }`. @default 'round-robin' */
  policy: policySchema.optional(),
  /** Wait for a backend's answer (Envoy's route timeout), retries included. @default 15 s */
  timeout: durationSchema.optional(),
  /** Requests held at once; one more is refused `overloaded`. @default Infinity */
  concurrency: int(1).optional(),
  /** The balancer's own processing time per request, on one of `workers`. @default 0 */
  latency: distributionSchema.optional(),
  /** Threads doing that processing. @default 1 */
  workers: int(1).optional(),
  /** Envoy's `healthy_panic_threshold` in percent: below it, balance over all backends. @default 50 */
  panicThreshold: percent.optional(),
  /** Active health checks (ActiveHealthCheck). @default none */
  health: z
    .strictObject({
      interval: durationSchema.optional(),
      timeout: durationSchema.optional(),
      unhealthyThreshold: int(1).optional(),
      healthyThreshold: int(1).optional(),
    })
    .optional(),
  /** Envoy's outlier detection (OutlierDetection) on the backends' answers. @default none */
  outlierDetection: outlierSchema.optional(),
  /** nginx's passive health (MaxFails): `max_fails` failures in `fail_timeout` skip a backend. @default none */
  maxFails: z
    .strictObject({
      /** nginx `max_fails`; 0 disables the accounting. @default 1 */
      maxFails: int(0).optional(),
      /** nginx `fail_timeout`: the window failures are counted in, and how long the backend is skipped. @default 10 s */
      failTimeout: positiveDuration.optional(),
      /** nginx worker processes, each with its own failure state. @default 1 */
      workers: int(1).optional(),
      /** Error kinds that count as failures (nginx `proxy_next_upstream`). @default ['timeout', 'unavailable'] */
      failOn: z.array(errorKind).min(1).optional(),
    })
    .optional(),
  /**
   * A backend that comes back (every health hook says available again) ramps its weight up: Envoy's
   * `{ kind: envoy, window, aggression?, minWeightPercent? }` or HAProxy's linear 1% to 100%
   * `{ kind: haproxy, window }`. Felt by `weighted-round-robin` and `least-request`.
   * @default none
   */
  slowStart: z
    .discriminatedUnion('kind', [
      z.strictObject({
        kind: z.literal('envoy'),
        /** Envoy's `slow_start_window`. */
        window: positiveDuration,
        /** Envoy's `aggression`: 1 is linear, larger ramps faster at first. @default 1 */
        aggression: z.number().positive().optional(),
        /** Envoy's `min_weight_percent`: the floor of the ramp. @default 10 */
        minWeightPercent: z.number().positive().max(100).optional(),
      }),
      z.strictObject({
        kind: z.literal('haproxy'),
        /** HAProxy's `slowstart` time. */
        window: positiveDuration,
      }),
    ])
    .optional(),
  /** Retries at the balancer (Envoy's router retry policy). @default none (each request forwarded once) */
  retry: lbRetrySchema.optional(),
  /**
   * Envoy's `hedge_on_per_try_timeout`: at `retry.perTryTimeout` another attempt goes to another backend
   * without cancelling the first; the first ok answer wins. Needs `retry.perTryTimeout`.
   * @default none
   */
  hedge: z
    .strictObject({
      /** @default false */
      onPerTryTimeout: z.boolean().optional(),
    })
    .optional(),
  /**
   * Stale load: the policies see each backend's active count as of the last report, every `interval`
   * (LoadBalancer's `loadReport`).
   * @default none (live counts)
   */
  loadReport: z.strictObject({ interval: positiveDuration }).optional(),
  region: z.string().min(1).optional(),
});

/** A balancer node. */
export type BalancerDescription = z.infer<typeof balancerSchema>;
