/**
 * A route being moved from the legacy system to a new service.
 *
 * @example
 * ```ts
 * const route: MigratedRoute = { name: 'invoices', path: '/invoices/*', to: 'billing-v2', weight: 0.05 };
 * ```
 */
export interface MigratedRoute {
  /** Unique name, used in stats and by {@link CanaryRollout}. */
  readonly name: string;
  /** Methods matched (upper case). @default any method */
  readonly method?: string | readonly string[];
  /** Path pattern: literals, `:param` segments and a final `*`. */
  readonly path: string;
  /** The new service's address. */
  readonly to: string;
  /** Share of the route's requests sent to the new service, in [0, 1]. @default 0 */
  readonly weight?: number;
  /**
   * Share of the requests still sent to the legacy system that are also copied to the new service
   * (shadow traffic, a dark launch, like Envoy's request mirroring): its answer is compared and then
   * dropped; the caller only ever sees the legacy answer.
   * @default 0
   */
  readonly shadow?: number;
}

/**
 * Options of {@link StranglerFacade}.
 *
 * @example
 * ```ts
 * const options: StranglerFacadeOptions = {
 *   legacy: 'monolith',
 *   routes: [{ name: 'invoices', path: '/invoices/*', to: 'billing-v2' }],
 * };
 * ```
 */
export interface StranglerFacadeOptions {
  /** The legacy system's address: every request no migrated route takes goes there. */
  readonly legacy: string;
  /** Routes being migrated, matched in order. */
  readonly routes: readonly MigratedRoute[];
  /**
   * How a request's side is chosen. `sticky` hashes the tenant (or the request key) so that a user stays
   * on one side, and a user moved to the new service stays there while the weight only grows (the usual
   * header- or cookie-based split); `random` draws per request.
   * @default 'sticky'
   */
  readonly assignment?: 'sticky' | 'random';
}
