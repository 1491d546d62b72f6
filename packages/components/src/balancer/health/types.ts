/**
 * The contract between the balancer and the health mechanisms in this folder: {@link BackendHealth}
 * (declared once, beside the balancer) and the view of the balancer a mechanism receives in `start`.
 */
import type { BackendHealth } from '../health-hook.js';

export type { BackendHealth };

/**
 * What `BackendHealth.start` receives: the balancer's backends, live (they follow `addBackend` and
 * `removeBackend`).
 *
 * @example
 * ```ts
 * start(balancer: HealthBalancer) { for (const a of balancer.addresses) this.watch(a); }
 * ```
 */
export type HealthBalancer = Parameters<NonNullable<BackendHealth['start']>>[0];
