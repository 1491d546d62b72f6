import type { RandomStream, RpcRequest } from '@dsim/core';

/**
 * A backend as a {@link BalancerPolicy} sees it. The balancer owns these objects and updates them in
 * place; a policy reads them and never writes.
 *
 * @example
 * ```ts
 * const least = (bs: readonly BalancerBackend[]) => bs.reduce((a, b) => (b.active < a.active ? b : a));
 * ```
 */
export interface BalancerBackend {
  /** The backend's network address. */
  readonly address: string;
  /**
   * Its effective weight, a finite number > 0: the configured weight (`setWeight` changes it), reduced
   * while the backend is in slow start (the balancer updates it before every pick). @default 1
   */
  readonly weight: number;
  /**
   * Requests forwarded to it and not yet answered (tracked by the balancer). With the balancer's
   * `loadReport` option, the count as of the last report (refreshed every `interval` ms), not the live one.
   */
  readonly active: number;
  /**
   * Whether it may receive this request: every health hook says so, or the balancer is in panic mode
   * (then every backend is available).
   */
  readonly available: boolean;
  /** Its position in `backends`. */
  readonly index: number;
}

/**
 * What a policy gets on every pick. One object, reused for every request: read it during `pick`, do not
 * keep it.
 *
 * @example
 * ```ts
 * const pickFirstAvailable: BalancerPolicy = {
 *   kind: 'first-available',
 *   pick: (ctx) => (ctx.availableCount === 0 ? -1 : ctx.availableIndices[0]!),
 * };
 * ```
 */
export interface PickContext {
  /** Every backend, in the balancer's order (the order given, then `addBackend` order). */
  readonly backends: readonly BalancerBackend[];
  /** Indices of the available backends, ascending; only the first `availableCount` entries are valid. */
  readonly availableIndices: ArrayLike<number>;
  /** How many backends are available. */
  readonly availableCount: number;
  /** True while the balancer is in panic mode (health ignored; every backend counts as available). */
  readonly panic: boolean;
  /** The request being balanced (`request.key` for hashing policies). */
  readonly request: RpcRequest;
  /** The balancer's random stream (`sim.rng('<lb address>/lb')`): the only randomness a policy may use. */
  readonly rng: RandomStream;
  /** The simulated time, ms. */
  readonly now: number;
}

/**
 * How a {@link LoadBalancer} chooses a backend. Built-in policies come from `createPolicy({ kind, ... })`;
 * a custom one is an object with a `pick` method:
 *
 * - `pick(ctx)` returns an index into `ctx.backends` of an available backend, or -1 when none can take
 *   the request (the balancer then answers `unavailable`, HTTP 503).
 * - `rebuild(backends)` (optional) is called before the next pick whenever the backend list, a weight or
 *   an availability flag changed: rebuild tables (rings, schedulers) there, not in `pick`.
 * - `onResponse(index, latencyMs, ok, now)` (optional) is called when a forwarded request is answered,
 *   for latency-aware policies. It is not called for a backend that was removed meanwhile.
 *
 * Policies must be deterministic: randomness only from `ctx.rng`, no clocks but `ctx.now` / `now`.
 *
 * @example
 * ```ts
 * // Always the available backend with the fewest active requests (lowest index on ties).
 * const leastActive: BalancerPolicy = {
 *   kind: 'least-active',
 *   pick(ctx) {
 *     let best = -1;
 *     for (let i = 0; i < ctx.availableCount; i++) {
 *       const b = ctx.availableIndices[i]!;
 *       if (best < 0 || ctx.backends[b]!.active < ctx.backends[best]!.active) best = b;
 *     }
 *     return best;
 *   },
 * };
 * new LoadBalancer(net.addNode('lb'), { backends: ['a', 'b'], policy: leastActive });
 * ```
 */
export interface BalancerPolicy {
  /** A name for traces and errors, e.g. `round-robin`. */
  readonly kind: string;
  /** The backend for `ctx.request`: an index into `ctx.backends`, or -1 for none. */
  pick(ctx: PickContext): number;
  /** Rebuilds the policy's tables after the backends, a weight or availability changed. @default none */
  rebuild?(backends: readonly BalancerBackend[]): void;
  /** A forwarded request was answered after `latencyMs` (`ok`: the backend answered ok). @default none */
  onResponse?(backendIndex: number, latencyMs: number, ok: boolean, now: number): void;
}
