import { invalidOption, isObject, type OptionOwner } from '@dsim/core';

/**
 * What a {@link LoadBalancer} needs from a health mechanism (active health checks, passive outlier
 * detection, a circuit breaker per backend): whether a backend may receive new requests, and the outcome
 * of every forwarded request. The balancer combines several: a backend is available when every
 * `BackendHealth` says so. Availability only affects new picks; requests already forwarded finish.
 *
 * Implementations live in `balancer/health/`; anything with an `isAvailable` method works.
 *
 * @example
 * ```ts
 * // A static deny-list: 'app-2' is out of rotation.
 * const denied: BackendHealth = { isAvailable: (address) => address !== 'app-2' };
 * new LoadBalancer(net.addNode('lb'), { backends: ['app-0', 'app-1', 'app-2'], health: [denied] });
 * ```
 */
export interface BackendHealth {
  /**
   * Whether `address` may receive new requests now. Called for every backend on every pick, so it must
   * be cheap and must not schedule events or draw random numbers.
   */
  isAvailable(address: string): boolean;
  /**
   * Called once per forwarded request when its answer (or the balancer's own timeout) comes back:
   * `ok` says the backend answered ok; `errorKind` is the raw error kind otherwise (`timeout` when the
   * balancer's per-request timer fired, before it is mapped to `gateway-timeout`); `latencyMs` is the
   * time from forwarding to the answer. The hook for passive outlier detection.
   * @default none
   */
  onResponse?(address: string, ok: boolean, errorKind: string | undefined, latencyMs: number): void;
  /**
   * Called once when the balancer is built, with the balancer itself: `addresses` is live (it follows
   * `addBackend` / `removeBackend`), so an active health checker can read it on every round.
   * @default none
   */
  start?(balancer: { readonly addresses: readonly string[] }): void;
}

/**
 * Checks a balancer's `health` option: an array of {@link BackendHealth} objects. Shared by the L7 and L4
 * balancers; the error names the component and the index of the bad entry.
 *
 * @param where - the component (or owner path) being configured
 * @param shape - how the expected object is described in the error
 * @default value: `[]` when `undefined`
 * @example
 * ```ts
 * const hooks = checkHealthHooks('LoadBalancer', options.health, 'a BackendHealth { isAvailable(address) }');
 * ```
 */
export function checkHealthHooks(
  where: OptionOwner,
  value: unknown,
  shape: string,
): readonly BackendHealth[] {
  const health = value ?? [];
  if (!Array.isArray(health)) throw invalidOption(where, 'health', health, 'an array of BackendHealth');
  health.forEach((h, i) => {
    const ok =
      isObject(h) &&
      typeof h.isAvailable === 'function' &&
      (h.onResponse === undefined || typeof h.onResponse === 'function') &&
      (h.start === undefined || typeof h.start === 'function');
    if (!ok) throw invalidOption(where, `health[${i}]`, h, shape);
  });
  return health as readonly BackendHealth[];
}
