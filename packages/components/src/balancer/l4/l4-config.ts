import {
  checkDistribution,
  checkDuration,
  checkEnum,
  checkKindOf,
  checkNumber,
  checkObject,
  checkOptions,
  type Distribution,
  invalidOption,
  nested,
  optionKeys,
} from '@dsim/core';
import { isPrime, MAGLEV_DEFAULT_TABLE_SIZE, MAGLEV_MAX_TABLE_SIZE } from '../../hashing/maglev.js';
import { type BackendHealth, checkHealthHooks } from '../health-hook.js';
import type {
  ConnectionClientOptions,
  ConnectionProtocol,
  L4BalancerOptions,
  L4PolicyKind,
  L4PolicySpec,
} from './l4-options.js';

const PROTOCOLS: readonly ConnectionProtocol[] = ['http2', 'http1.1'];

// Validation of the L4 options, at construction: the classes only read resolved values.

const L4 = 'L4Balancer';
const CC = 'ConnectionClient';

const L4_KEYS = optionKeys<L4BalancerOptions>()({
  backends: true,
  policy: true,
  latency: true,
  health: true,
});

const CLIENT_KEYS = optionKeys<ConnectionClientOptions>()({
  balancer: true,
  connections: true,
  protocol: true,
  timeout: true,
  reconnectDelay: true,
  connectTime: true,
  idleTimeout: true,
  maxRequestsPerConnection: true,
  maxPending: true,
});

/** Each policy kind's known keys. */
const POLICY_KINDS: Readonly<Record<L4PolicyKind, readonly string[]>> = {
  'round-robin': ['kind'],
  'five-tuple-hash': ['kind'],
  maglev: ['kind', 'tableSize'],
  'least-connections': ['kind'],
};

/** Most connections one {@link ConnectionClient} may keep. */
export const MAX_CLIENT_CONNECTIONS = 100_000;

/**
 * {@link L4BalancerOptions}, validated, with defaults applied.
 *
 * @example
 * ```ts
 * const config: ResolvedL4Balancer = resolveL4Balancer({ backends: ['a', 'b'] }, ['a', 'b']);
 * config.policy; // { kind: 'round-robin', tableSize: 65537 }
 * ```
 */
export interface ResolvedL4Balancer {
  backends: string[];
  policy: { kind: L4PolicyKind; tableSize: number };
  /** undefined when there is no pass-through delay. */
  latency: Distribution | undefined;
  health: readonly BackendHealth[];
}

/**
 * Checks every field of `options` (unknown keys first, with "did you mean") and applies the defaults.
 *
 * @param onNetwork - the addresses on the balancer's network; every backend must be one of them
 * @example
 * ```ts
 * resolveL4Balancer({ backends: ['a'], polcy: { kind: 'maglev' } } as never, ['a']);
 * // L4Balancer: unknown option "polcy" (did you mean "policy"?); known options: backends, ...
 * ```
 */
export function resolveL4Balancer(
  options: L4BalancerOptions,
  onNetwork: readonly string[],
): ResolvedL4Balancer {
  checkObject(L4, 'options', options, 'an options object with backends');
  checkOptions(L4, options, L4_KEYS);
  if (!Array.isArray(options.backends))
    throw invalidOption(L4, 'backends', options.backends, 'an array of backend addresses');
  const known = new Set(onNetwork);
  const backends: string[] = [];
  options.backends.forEach((address, i) => {
    if (typeof address !== 'string' || address === '')
      throw invalidOption(L4, `backends[${i}]`, address, 'a non-empty address');
    if (backends.includes(address))
      throw invalidOption(L4, `backends[${i}]`, address, 'an address not already in backends');
    if (!known.has(address))
      throw invalidOption(L4, `backends[${i}]`, address, 'the address of a node already on the network');
    backends.push(address);
  });
  const spec = (options.policy ?? { kind: 'round-robin' }) as L4PolicySpec;
  const kind = checkKindOf(nested(L4, 'policy'), spec, POLICY_KINDS);
  let tableSize = MAGLEV_DEFAULT_TABLE_SIZE;
  if (spec.kind === 'maglev' && spec.tableSize !== undefined) {
    tableSize = spec.tableSize;
    if (!isPrime(tableSize) || tableSize > MAGLEV_MAX_TABLE_SIZE || tableSize <= backends.length)
      throw invalidOption(
        nested(L4, 'policy'),
        'tableSize',
        spec.tableSize,
        `a prime in [2, ${MAGLEV_MAX_TABLE_SIZE}] greater than the backend count (${backends.length})`,
      );
  }
  const health = checkHealthHooks(
    L4,
    options.health,
    'a BackendHealth { isAvailable(address), start?(balancer) }',
  );
  const latency =
    options.latency === undefined
      ? undefined
      : checkDistribution(L4, 'latency', options.latency, 'exponential({ mean: 0.05 })');
  return {
    backends,
    policy: { kind, tableSize },
    latency:
      latency === undefined || (latency.kind === 'constant' && latency.mean === 0) ? undefined : latency,
    health: [...health],
  };
}

/**
 * {@link ConnectionClientOptions}, validated, with defaults applied (the balancer is checked by the
 * client itself: it must be an {@link L4Balancer}).
 *
 * @example
 * ```ts
 * resolveConnectionClient({ balancer: l4, connections: 4 }).protocol; // 'http2'
 * ```
 */
export interface ResolvedConnectionClient {
  protocol: ConnectionProtocol;
  connections: number;
  timeout: number;
  reconnectDelay: number;
  /** undefined when connections are ready at once. */
  connectTime: Distribution | undefined;
  idleTimeout: number;
  maxRequestsPerConnection: number;
  maxPending: number;
}

/**
 * Checks every field of `options` (unknown keys first, with "did you mean") and applies the defaults.
 *
 * @example
 * ```ts
 * resolveConnectionClient({ balancer: l4, protocol: 'http1.1', connections: 8 }).maxPending; // Infinity
 * ```
 */
export function resolveConnectionClient(options: ConnectionClientOptions): ResolvedConnectionClient {
  checkObject(CC, 'options', options, 'an options object with balancer');
  checkOptions(CC, options, CLIENT_KEYS);
  const protocol = checkEnum(CC, 'protocol', options.protocol, PROTOCOLS, 'http2');
  if (protocol === 'http2' && options.maxPending !== undefined)
    throw invalidOption(
      CC,
      'maxPending',
      options.maxPending,
      "no value with protocol 'http2' (requests never wait for an HTTP/2 connection); set protocol: 'http1.1'",
    );
  const connectTime =
    options.connectTime === undefined
      ? undefined
      : checkDistribution(CC, 'connectTime', options.connectTime, 'constant(1)');
  return {
    protocol,
    connections: checkNumber(
      CC,
      'connections',
      options.connections,
      { integer: true, min: 1, max: MAX_CLIENT_CONNECTIONS },
      1,
    ),
    timeout: checkDuration(CC, 'timeout', options.timeout, { positive: true, infinity: true }, Infinity),
    reconnectDelay: checkDuration(CC, 'reconnectDelay', options.reconnectDelay, {}, 0),
    connectTime:
      connectTime === undefined || (connectTime.kind === 'constant' && connectTime.mean === 0)
        ? undefined
        : connectTime,
    idleTimeout: checkDuration(
      CC,
      'idleTimeout',
      options.idleTimeout,
      { positive: true, infinity: true },
      Infinity,
    ),
    maxRequestsPerConnection: checkNumber(
      CC,
      'maxRequestsPerConnection',
      options.maxRequestsPerConnection,
      { integer: true, min: 1, infinity: true },
      Infinity,
    ),
    maxPending: checkNumber(
      CC,
      'maxPending',
      options.maxPending,
      { integer: true, min: 0, infinity: true },
      Infinity,
    ),
  };
}
