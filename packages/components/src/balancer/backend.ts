import type { Counter, Gauge, MetricsRegistry, NodeTimer, RpcErrorKind } from '@dsim/core';
import type { BalancerBackend } from './policy.js';

/**
 * The balancer's record of one backend: the fields a policy reads ({@link BalancerBackend}), updated in
 * place, and its metrics under the balancer's node: `lb.backend.<address>.requests` (counter),
 * `lb.backend.<address>.active` (gauge) and `lb.backend.<address>.errors.<kind>` (counters, created at
 * the first error of that kind).
 *
 * @example
 * ```ts
 * const b = new BackendState('app-0', 1, 0, sim.metrics, 'lb');
 * b.started(); // one more active request
 * ```
 */
export class BackendState<T = unknown> implements BalancerBackend {
  /**
   * The count the policies see: the live count, or with load reports the live count at the last report
   * ({@link BackendState.report}).
   */
  active = 0;
  /** Requests forwarded to it and not answered yet, always current (its metric follows this one). */
  live = 0;
  available = true;
  /** Not available by health alone (before panic mode overrides it). */
  healthy = true;
  /** Set when the backend was removed; its requests in flight still finish. */
  removed = false;
  /** The configured weight (`weight` is the effective one, reduced during slow start). */
  baseWeight: number;
  /** When its slow start began (ms); NaN when it is not in slow start. */
  slowStartAt = Number.NaN;
  /** Its forwarded attempts not answered yet, in forwarding order (to cut them when draining ends). */
  readonly inflight = new Set<T>();
  /** True while it drains after `removeBackend(address, { drain })`. */
  draining = false;
  /** When the drain began, and its deadline (ms; Infinity for none). */
  drainStartedAt = 0;
  drainDeadline = Infinity;
  /** The timer that ends the drain at its deadline. */
  drainTimer: NodeTimer | undefined = undefined;
  private readonly requests: Counter;
  private readonly activeGauge: Gauge;
  private readonly errors: Partial<Record<RpcErrorKind, Counter>> = {};

  /**
   * @param address - the backend's address
   * @param weight - its configured weight, > 0 (also its effective weight until slow start says otherwise)
   * @param index - its position in the balancer's list
   * @param metrics - the simulation's registry
   * @param node - the balancer's address, under which the metrics are recorded
   * @param reported - `active` is updated only by `report()` (load reports) @default false
   */
  constructor(
    readonly address: string,
    public weight: number,
    public index: number,
    private readonly metrics: MetricsRegistry,
    private readonly node: string,
    /** `active` follows only {@link BackendState.report}, not every request (load reports). */
    private readonly reported = false,
  ) {
    this.baseWeight = weight;
    this.requests = metrics.counter(node, `lb.backend.${address}.requests`);
    this.activeGauge = metrics.gauge(node, `lb.backend.${address}.active`);
  }

  /** A request was forwarded to it. */
  started(): void {
    this.live++;
    if (!this.reported) this.active = this.live;
    this.requests.inc();
    this.activeGauge.set(this.live);
  }

  /** A load report: the policies see the live count from now until the next report. */
  report(): void {
    this.active = this.live;
  }

  /** A forwarded request was answered; `errorKind` when it failed. */
  finished(errorKind: RpcErrorKind | undefined): void {
    this.live--;
    if (!this.reported) this.active = this.live;
    this.activeGauge.set(this.live);
    if (errorKind === undefined) return;
    let counter = this.errors[errorKind];
    if (counter === undefined) {
      counter = this.metrics.counter(this.node, `lb.backend.${this.address}.errors.${errorKind}`);
      this.errors[errorKind] = counter;
    }
    counter.inc();
  }

  /** The balancer crashed: nothing is in flight any more. */
  reset(): void {
    this.active = 0;
    this.live = 0;
    this.inflight.clear();
    this.activeGauge.set(0);
  }
}
