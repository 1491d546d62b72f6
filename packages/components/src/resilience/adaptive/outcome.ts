import { checkEnum, invalidOption, RPC_ERROR_KINDS, type RpcError, type RpcErrorKind } from '@dsim/core';
import type { LimiterPermit } from './concurrency-limiter.js';

/**
 * The error kinds a limiter counts as drops by default: the caller's own `timeout`, the callee's
 * `deadline-exceeded` and `gateway-timeout` (it timed out further down), and `overloaded` and
 * `unavailable` (503: refused by a limit or queue downstream). The library's listener contract: a drop is
 * a request "rejected by an external limit or hitting a timeout". Its gRPC server interceptor marks
 * DEADLINE_EXCEEDED as a drop, its client interceptor UNAVAILABLE.
 *
 * @example
 * ```ts
 * new ConcurrencyLimitProxy(node, { upstream: 'db', limiter, dropOn: [...DEFAULT_DROP_ON, 'error'] });
 * ```
 */
export const DEFAULT_DROP_ON: readonly RpcErrorKind[] = Object.freeze([
  'timeout',
  'deadline-exceeded',
  'gateway-timeout',
  'overloaded',
  'unavailable',
] as const);

/**
 * Releases `permit` for an answer: ok, or a handler `error` (the server did the work, so its RTT is a
 * real sample, as the library's gRPC server interceptor counts any non-deadline status) is a success; an
 * error kind in `dropOn` is a drop; anything else (`rejected`: a 429 that did no work) is ignored, so it
 * cannot pull the RTT down.
 *
 * @example
 * ```ts
 * releaseFor(permit, res.ok ? null : res.error, dropOn, sim.now);
 * ```
 */
export function releaseFor(
  permit: LimiterPermit,
  error: RpcError | null | undefined,
  dropOn: ReadonlySet<RpcErrorKind>,
  now: number,
): void {
  if (error === null || error === undefined) permit.success(now);
  else if (dropOn.has(error.kind)) permit.dropped(now);
  else if (error.kind === 'error') permit.success(now);
  else permit.ignore();
}

/**
 * Checks a list of error kinds (`dropOn`), with a "did you mean" for a misspelt one.
 *
 * @example
 * ```ts
 * const dropOn = errorKindSet('ConcurrencyLimitProxy', 'dropOn', options.dropOn ?? DEFAULT_DROP_ON);
 * ```
 */
export function errorKindSet(component: string, field: string, kinds: unknown): ReadonlySet<RpcErrorKind> {
  if (!Array.isArray(kinds))
    throw invalidOption(component, field, kinds, `an array of error kinds (${RPC_ERROR_KINDS.join(', ')})`);
  return new Set(kinds.map((kind, i) => checkEnum(component, `${field}[${i}]`, kind, RPC_ERROR_KINDS)));
}
