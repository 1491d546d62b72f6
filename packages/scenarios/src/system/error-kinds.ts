import type { RpcErrorKind } from '@dsim/core';

// A record, so that a new RpcErrorKind in core fails to compile here until it is added.
const ERROR_KIND_SET: Record<RpcErrorKind, true> = {
  timeout: true,
  rejected: true,
  unavailable: true,
  overloaded: true,
  'gateway-timeout': true,
  'deadline-exceeded': true,
  error: true,
};

/**
 * Every RPC error kind, as a caller's `retryOn` takes them (`retryOn: RPC_ERROR_KINDS` retries any
 * failure).
 *
 * @example
 * ```ts
 * RPC_ERROR_KINDS.includes('timeout'); // true
 * ```
 */
export const RPC_ERROR_KINDS = Object.freeze(Object.keys(ERROR_KIND_SET)) as readonly RpcErrorKind[];
