import {
  checkDuration,
  checkEnum,
  checkKeys,
  checkKindOf,
  checkNumber,
  type Distribution,
  type Duration,
  invalidOption,
  isObject,
  nested,
  type Owner,
  optionKeys,
} from '@dsim/core';
import { PLACEMENT_KINDS, type PlacementKind } from '../../hashing/types.js';
import type { CacheConsistency } from './consistency.js';

/**
 * Where a {@link DistributedCache} sends a read, among the key's replicas (`lookupN(key, replicas)`, the
 * primary first). With `failover`, a read that fails or times out moves on to the next candidate.
 * - `primary`: the primary, then the replicas in order (Redis Cluster's default; Lettuce `MASTER`).
 * - `replica`: a random replica, then the other replicas, then the primary (Redis `READONLY` replica reads;
 *   Lettuce `REPLICA_PREFERRED`). With one copy it is `primary`.
 * - `any`: any copy at random, primary included (Lettuce `ANY`), then the others in order.
 *
 * @example
 * ```ts
 * const policy: ReadPolicy = 'any';
 * ```
 */
export type ReadPolicy = 'primary' | 'replica' | 'any';

/**
 * The read policies.
 *
 * @example
 * ```ts
 * READ_POLICIES.includes('any'); // true
 * ```
 */
export const READ_POLICIES: readonly ReadPolicy[] = Object.freeze(['primary', 'replica', 'any']);

/**
 * How a {@link DistributedCache} maps keys to nodes: a placement kind, or a kind with its parameters (see
 * `createPlacement`). The nodes come from the cache's `nodes` and its membership; every node has weight 1.
 *
 * @example
 * ```ts
 * const placement: DistributedPlacement = { kind: 'ring', vnodes: 160 }; // libketama's points per server
 * ```
 */
export type DistributedPlacement =
  | PlacementKind
  | { readonly kind: 'ring'; readonly vnodes?: number }
  | { readonly kind: 'rendezvous' }
  | { readonly kind: 'maglev'; readonly tableSize?: number }
  | { readonly kind: 'modulo' };

/**
 * Active health checks of a {@link DistributedCache}'s nodes, with the semantics of Envoy's active health checking: every
 * `interval` the client probes each node; a probe that fails or gets no answer within `timeout` is a
 * failure. A member is removed after `unhealthyThreshold` consecutive failures, and a removed node comes
 * back after `healthyThreshold` consecutive successes (unless it was removed with `remove()`). The detection
 * delay of a crash is therefore between (unhealthyThreshold − 1) × interval + timeout and
 * unhealthyThreshold × interval + timeout. The first round comes at a random phase in (0, interval] (Envoy's
 * `initial_jitter`), drawn from the client's own stream, so clients do not probe in lockstep.
 *
 * A probe is a `delete` of a reserved key (`'\u0000dsim-health'`): the cache server answers it without
 * touching its hit and miss counters.
 *
 * @example
 * ```ts
 * const healthCheck: HealthCheckOptions = { interval: '1s', timeout: '100ms', unhealthyThreshold: 3 };
 * ```
 */
export interface HealthCheckOptions {
  /**
   * Time between probes of a node.
   * @default 1 s
   */
  interval?: Duration;
  /**
   * How long a probe waits for its answer.
   * @default 100 ms
   */
  timeout?: Duration;
  /**
   * Consecutive failures that remove a member.
   * @default 3
   */
  unhealthyThreshold?: number;
  /**
   * Consecutive successes that bring a removed node back.
   * @default 2
   */
  healthyThreshold?: number;
}

/**
 * Options of a {@link DistributedCache}.
 *
 * @example
 * ```ts
 * const options: DistributedCacheOptions<Row> = {
 *   nodes: ['cache-0', 'cache-1', 'cache-2', 'cache-3'],
 *   placement: { kind: 'ring', vnodes: 100 },
 *   replicas: 2,
 *   replicationLag: exponential({ mean: 20 }),
 *   readPolicy: 'any',
 *   healthCheck: { interval: '1s', unhealthyThreshold: 3 },
 *   versionOf: (row) => row.version,
 * };
 * ```
 */
export interface DistributedCacheOptions<V> {
  /**
   * Name for metrics, traces and the random streams.
   * @default 'dcache'
   */
  name?: string;
  /**
   * Addresses of the {@link CacheServer}s, on the endpoint's network, in configuration order (the order
   * that `modulo` placement numbers them in). All start as members.
   */
  nodes: readonly string[];
  /**
   * How keys map to nodes.
   * @default { kind: 'ring', vnodes: 100 }
   */
  placement?: DistributedPlacement;
  /**
   * Copies of each key: the primary plus R − 1 replicas, the next nodes of `lookupN(key, R)`. Writes go to
   * the primary and reach the replicas `replicationLag` after the primary's acknowledgement.
   * @default 1
   */
  replicas?: number;
  /**
   * Time from the primary's acknowledgement of a write to its replication to each replica (then the
   * network and the replica's service time). A duration, `Infinity` (never), or a distribution in ms.
   * Replication from a primary to a replica is in order (a replication stream): a write is never applied
   * before an earlier one. It runs on the primary's node: a crash of the primary drops what it had not sent.
   * @default 0
   */
  replicationLag?: Distribution | Duration;
  /**
   * Where reads go among the copies.
   * @default 'primary'
   */
  readPolicy?: ReadPolicy;
  /**
   * Retry a failed or timed-out read on the next copy.
   * @default true
   */
  failover?: boolean;
  /**
   * A miss on a replica moves on to the next copy, as mcrouter's `MissFailoverRoute`: the primary, which
   * takes every write, is authoritative, so a replica that is cold (new after a membership change) or
   * behind (replication lag) costs one more hop instead of an origin load. A miss on the primary is final.
   * @default false
   */
  missFailover?: boolean;
  /**
   * Timeout of each cache call (a read that fails everywhere reads as a miss; a write that fails returns
   * false).
   * @default 100 ms
   */
  timeout?: Duration;
  /**
   * Active health checks that remove failed members and bring recovered ones back. Health checks keep the
   * simulation busy: run it with `until`, or call `stop()`.
   * @default off (membership changes only with `remove()` and `add()`)
   */
  healthCheck?: HealthCheckOptions | false;
  /**
   * The version of a value (e.g. a database row's version column). Without it, each store takes a new
   * version from the consistency oracle.
   * @default none
   */
  versionOf?: (value: V) => number;
  /**
   * The consistency oracle; share one between clients that work on the same data.
   * @default a new one, named after the cache
   */
  consistency?: CacheConsistency;
  /**
   * Whether the nodes keep their data across a crash (as their `CacheServer`s' `persistent`): only then
   * does a crash lose no writes.
   * @default false
   */
  persistent?: boolean;
}

/** Every key of {@link DistributedCacheOptions}. @internal */
export const DISTRIBUTED_CACHE_KEYS = optionKeys<DistributedCacheOptions<unknown>>()({
  name: true,
  nodes: true,
  placement: true,
  replicas: true,
  replicationLag: true,
  readPolicy: true,
  failover: true,
  missFailover: true,
  timeout: true,
  healthCheck: true,
  versionOf: true,
  consistency: true,
  persistent: true,
});

/** Every key of {@link HealthCheckOptions}. @internal */
export const HEALTH_CHECK_KEYS = optionKeys<HealthCheckOptions>()({
  interval: true,
  timeout: true,
  unhealthyThreshold: true,
  healthyThreshold: true,
});

type PlacementOf<K extends PlacementKind> = Extract<DistributedPlacement, { readonly kind: K }>;

/** The keys of each `placement` spec, `kind` included (no `nodes`: they are the cache's). @internal */
export const DISTRIBUTED_PLACEMENT_KEYS: Readonly<Record<PlacementKind, readonly string[]>> = Object.freeze({
  ring: optionKeys<PlacementOf<'ring'>>()({ kind: true, vnodes: true }),
  rendezvous: optionKeys<PlacementOf<'rendezvous'>>()({ kind: true }),
  maglev: optionKeys<PlacementOf<'maglev'>>()({ kind: true, tableSize: true }),
  modulo: optionKeys<PlacementOf<'modulo'>>()({ kind: true }),
});

/** Resolved health check settings. @internal */
export interface ResolvedHealthCheck {
  readonly interval: number;
  readonly timeout: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

/** Resolved placement spec (without nodes). @internal */
export type PlacementParams =
  | { kind: 'ring'; vnodes?: number }
  | { kind: 'rendezvous' }
  | { kind: 'maglev'; tableSize?: number }
  | { kind: 'modulo' };

/**
 * Validates the placement option's kind and keys (its values are checked when the placement is built).
 * @internal
 */
export function resolvePlacement(value: DistributedPlacement | undefined, where: Owner): PlacementParams {
  if (value === undefined) return { kind: 'ring' };
  if (typeof value === 'string') return { kind: checkEnum(where, 'placement', value, PLACEMENT_KINDS) };
  const raw: unknown = value;
  if (isObject(raw) && Object.hasOwn(raw, 'nodes'))
    throw invalidOption(
      where,
      'placement.nodes',
      raw.nodes,
      "left out: the nodes are the cache's `nodes` option",
    );
  checkKindOf(nested(where, 'placement'), value, DISTRIBUTED_PLACEMENT_KEYS);
  return { ...value } as PlacementParams;
}

/** Validates the health check option (unknown keys included). @internal */
export function resolveHealthCheck(
  value: HealthCheckOptions | false | undefined,
  where: Owner,
): ResolvedHealthCheck | undefined {
  if (value === undefined || value === false) return undefined;
  if (!isObject(value))
    throw invalidOption(
      where,
      'healthCheck',
      value,
      'false or { interval, timeout, unhealthyThreshold, healthyThreshold }',
    );
  const health = nested(where, 'healthCheck');
  checkKeys(health, value, HEALTH_CHECK_KEYS);
  return {
    interval: checkDuration(health, 'interval', value.interval, { positive: true }, 1000),
    timeout: checkDuration(health, 'timeout', value.timeout, { positive: true }, 100),
    unhealthyThreshold: checkNumber(
      health,
      'unhealthyThreshold',
      value.unhealthyThreshold,
      { integer: true, min: 1 },
      3,
    ),
    healthyThreshold: checkNumber(
      health,
      'healthyThreshold',
      value.healthyThreshold,
      { integer: true, min: 1 },
      2,
    ),
  };
}
