/**
 * What a load balancer needs from a health mechanism: whether a backend may receive new requests, the
 * outcome of every forwarded request, and the live list of backends. Declared structurally here, with
 * the same shape as the balancer's own `BackendHealth`, so every class in `balancer/health/` can be
 * passed to the balancer (and used without it, driven by hand in tests).
 *
 * - `isAvailable(address)` is called on every pick: it is cheap, never schedules events and never
 *   draws random numbers.
 * - `onResponse(address, ok, errorKind, latencyMs)` reports one forwarded request: `errorKind` is an
 *   `RpcErrorKind` string (`'timeout'` for the balancer's own timer).
 * - `start(balancer)` is called once with the balancer; `balancer.addresses` is live.
 *
 * @example
 * ```ts
 * const denied: BackendHealth = { isAvailable: (address) => address !== 'app-2' };
 * ```
 */
export interface BackendHealth {
  /** Whether `address` may receive new requests now. */
  isAvailable(address: string): boolean;
  /** The answer of one forwarded request (passive health). @default none */
  onResponse?(address: string, ok: boolean, errorKind: string | undefined, latencyMs: number): void;
  /** Called once with the balancer; its `addresses` are live. @default none */
  start?(balancer: { readonly addresses: readonly string[] }): void;
}

/**
 * What `start()` receives: the balancer, whose `addresses` array follows its membership changes.
 *
 * @example
 * ```ts
 * checker.start({ addresses: ['app-0', 'app-1'] }); // a fixed set, without a balancer
 * ```
 */
export interface HealthBalancer {
  /** The balancer's backends, live. */
  readonly addresses: readonly string[];
}
