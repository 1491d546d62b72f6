import type { Counter, Gauge, NodeTimer, RandomStream } from '@dsim/core';
import { GATEWAY_FAILURES, OUTCOME_5XX } from './error-kinds.js';
import { type HealthClock, type ResolvedClock, resolveClock } from './host.js';
import { type OutlierDetectionOptions, type ResolvedOutlier, resolveOutlier } from './outlier-options.js';
import type { BackendHealth, HealthBalancer } from './types.js';

/**
 * Why a host was ejected, as Envoy's detection types.
 *
 * @example
 * ```ts
 * const reason: EjectionReason = 'consecutive-5xx';
 * ```
 */
export type EjectionReason =
  | 'consecutive-5xx'
  | 'consecutive-gateway-failure'
  | 'success-rate'
  | 'failure-percentage';

/**
 * What outlier detection knows of one host, for tests and reports.
 *
 * @example
 * ```ts
 * expect(od.host('app-1')?.multiplier).toBe(2);
 * ```
 */
export interface OutlierHostState {
  /** Currently ejected. */
  readonly ejected: boolean;
  /** Envoy's ejection-time multiplier: +1 per ejection (up to the cap), −1 per sweep while not ejected. */
  readonly multiplier: number;
  /** Ejections so far. */
  readonly ejections: number;
  /** Length of the current (or last) ejection, ms. */
  readonly ejectionTime: number;
  /** Consecutive 5xx answers counted now. */
  readonly consecutive5xx: number;
  /** Consecutive gateway failures counted now. */
  readonly consecutiveGatewayFailure: number;
}

/**
 * Lifetime counts of an {@link OutlierDetection}.
 *
 * @example
 * ```ts
 * expect(od.stats.overflow).toBe(4); // detections refused by maxEjectionPercent
 * ```
 */
export interface OutlierStats {
  /** Hosts ejected (enforced detections). */
  readonly ejections: number;
  /** Detections, enforced or not, by reason. */
  readonly detected: Readonly<Record<EjectionReason, number>>;
  /** Detections refused because maxEjectionPercent was reached (Envoy `ejections_overflow`). */
  readonly overflow: number;
}

interface Host {
  ejected: boolean;
  ejectedAt: number;
  ejectionTime: number;
  multiplier: number;
  ejections: number;
  c5xx: number;
  cGateway: number;
  /** Requests and successes in the current interval, and in the last completed one. */
  total: number;
  ok: number;
}

/**
 * Envoy's outlier detection: passive health from the answers of forwarded requests
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier, defaults from
 * `outlier_detection.proto`). Implements the balancer's `BackendHealth`: `isAvailable` is false while a
 * host is ejected.
 *
 * - **Consecutive 5xx** (default 5, enforced 100%): the 5th consecutive 5xx ejects the host inline,
 *   at that answer. The counter is reset after each detection, and on any non-5xx answer.
 * - **Consecutive gateway failures** (default 5, enforced 0%: detected, counted, not ejected).
 * - Which error kinds are 5xx and gateway failures: see {@link OUTCOME_5XX}. `ok` answers and
 *   `rejected` (429) are successes.
 * - **Sweep** every `interval` (10 s): a host whose ejection time has passed returns (so a host returns
 *   at the first sweep at or after its expiry, as in Envoy) with its counters reset; a host not ejected
 *   has its multiplier decremented; then **success rate** (hosts with ≥ 100 requests in the interval, at
 *   least 5 of them: eject below mean − 1.9 × stdev, the population standard deviation) and **failure
 *   percentage** (hosts with ≥ 50 requests, at least 5: failure % ≥ 85, enforced 0% by default) run on
 *   the requests of the interval just ended.
 * - **Ejection time** = baseEjectionTime (30 s) × multiplier, where each ejection adds one to the
 *   multiplier while base × multiplier is below maxEjectionTime (300 s): 30 s, 60 s, 90 s, … 300 s.
 * - **maxEjectionPercent** (10): an ejection is refused when it would eject more than this share of the
 *   hosts, unless no host is ejected (at least one host is always ejectable). The hosts are the
 *   balancer's live `addresses` once `start()` was called, otherwise every host seen or `add`ed.
 * - Enforcement percentages below 100 draw from `sim.rng('<name>/outlier')`.
 *
 * **Time.** Sweeps need a clock: pass the {@link Simulation} (true time) or the balancer's
 * {@link NetNode} (node timers: they stall while it is paused; a crash loses all outlier state and a
 * restart starts afresh, as a restarted Envoy would). Sweeps start at construction and run for ever:
 * run the simulation with `until`, or call `stop()`.
 *
 * Not modelled: panic routing (the balancer's concern), split local-origin errors,
 * `successful_active_health_check_uneject_host`.
 *
 * Trace records (when `sim.tracing`): `@dsim.lb.eject` `{ balancer, backend, reason, ejectionTime,
 * ejections }` and `@dsim.lb.uneject` `{ balancer, backend, ejectedFor }`. Metrics under `name`:
 * counters `lb.ejections` and `lb.ejections.overflow`, gauge `lb.ejected` (hosts ejected now).
 *
 * @example
 * ```ts
 * const outliers = new OutlierDetection(sim); // Envoy's defaults
 * outliers.onResponse('app-1', false, 'error', 3);
 * outliers.isAvailable('app-1'); // true until the 5th consecutive 5xx
 * ```
 */
export class OutlierDetection implements BackendHealth {
  /** The resolved options. */
  readonly options: ResolvedOutlier;
  private readonly clock: ResolvedClock;
  private readonly hosts = new Map<string, Host>();
  private balancer: HealthBalancer | null = null;
  private timer: NodeTimer | null = null;
  private stopped = false;
  private ejectedCount = 0;
  private readonly rng: RandomStream;
  private readonly counts = {
    ejections: 0,
    overflow: 0,
    detected: {
      'consecutive-5xx': 0,
      'consecutive-gateway-failure': 0,
      'success-rate': 0,
      'failure-percentage': 0,
    },
  };
  private readonly ejectionsCounter: Counter;
  private readonly overflowCounter: Counter;
  private readonly ejectedGauge: Gauge;

  /**
   * @param clock - the Simulation, or the balancer's NetNode (see {@link HealthClock})
   * @param options - see {@link OutlierDetectionOptions}; Envoy's defaults when left out
   */
  constructor(clock: HealthClock, options?: OutlierDetectionOptions) {
    this.clock = resolveClock('OutlierDetection', 'clock', clock);
    this.options = resolveOutlier(options, this.clock.node?.address ?? 'outlier');
    const sim = this.clock.sim;
    const name = this.options.name;
    this.rng = sim.rng(`${name}/outlier`);
    this.ejectionsCounter = sim.metrics.counter(name, 'lb.ejections');
    this.overflowCounter = sim.metrics.counter(name, 'lb.ejections.overflow');
    this.ejectedGauge = sim.metrics.gauge(name, 'lb.ejected');
    const node = this.clock.node;
    if (node !== null) {
      node.onCrash(() => {
        this.timer = null;
        this.hosts.clear();
        this.ejectedCount = 0;
        this.ejectedGauge.set(0);
      });
      node.onRestart(() => this.arm());
    }
    this.arm();
  }

  /** Lifetime counts. */
  get stats(): OutlierStats {
    return {
      ejections: this.counts.ejections,
      overflow: this.counts.overflow,
      detected: { ...this.counts.detected },
    };
  }

  /** Hosts ejected now. */
  get ejectedHosts(): readonly string[] {
    return [...this.hosts].filter(([, h]) => h.ejected).map(([a]) => a);
  }

  /** False while `address` is ejected. */
  isAvailable(address: string): boolean {
    return this.hosts.get(address)?.ejected !== true;
  }

  /** What is known of `address`, or undefined for a host never seen. */
  host(address: string): OutlierHostState | undefined {
    const h = this.hosts.get(address);
    if (h === undefined) return undefined;
    return {
      ejected: h.ejected,
      multiplier: h.multiplier,
      ejections: h.ejections,
      ejectionTime: h.ejectionTime,
      consecutive5xx: h.c5xx,
      consecutiveGatewayFailure: h.cGateway,
    };
  }

  /** Follows the balancer's live `addresses` for maxEjectionPercent. Called by the balancer. */
  start(balancer: HealthBalancer): void {
    this.balancer = balancer;
    for (const a of balancer.addresses) this.hostOf(a);
  }

  /** Adds `address` to the hosts (counted for maxEjectionPercent without a balancer). */
  add(address: string): void {
    this.hostOf(address);
  }

  /** Forgets `address` (an ejected host no longer counts as ejected). */
  remove(address: string): void {
    const h = this.hosts.get(address);
    if (h === undefined) return;
    if (h.ejected) this.setEjectedCount(this.ejectedCount - 1);
    this.hosts.delete(address);
  }

  /** Stops the sweeps for good (ejected hosts then stay ejected). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  /** Records one forwarded request's answer; may eject `address` inline. */
  onResponse(address: string, ok: boolean, errorKind: string | undefined, _latencyMs: number): void {
    if (this.clock.node !== null && !this.clock.node.isUp) return;
    const h = this.hostOf(address);
    h.total++;
    const is5xx = !ok && errorKind !== undefined && OUTCOME_5XX.has(errorKind);
    if (!is5xx) {
      h.ok++;
      h.c5xx = 0;
      h.cGateway = 0;
      return;
    }
    const o = this.options;
    if (GATEWAY_FAILURES.has(errorKind)) {
      if (++h.cGateway === o.consecutiveGatewayFailure)
        this.consecutive(address, h, 'consecutive-gateway-failure');
    } else h.cGateway = 0;
    if (++h.c5xx === o.consecutive5xx) this.consecutive(address, h, 'consecutive-5xx');
  }

  private consecutive(address: string, h: Host, reason: EjectionReason): void {
    if (h.ejected) return;
    this.counts.detected[reason]++;
    const o = this.options;
    this.eject(
      address,
      h,
      reason,
      reason === 'consecutive-5xx' ? o.enforcingConsecutive5xx : o.enforcingConsecutiveGatewayFailure,
    );
    if (reason === 'consecutive-5xx') h.c5xx = 0;
    else h.cGateway = 0;
  }

  private hostOf(address: string): Host {
    let h = this.hosts.get(address);
    if (h === undefined) {
      h = {
        ejected: false,
        ejectedAt: 0,
        ejectionTime: 0,
        multiplier: 0,
        ejections: 0,
        c5xx: 0,
        cGateway: 0,
        total: 0,
        ok: 0,
      };
      this.hosts.set(address, h);
    }
    return h;
  }

  private hostCount(): number {
    return this.balancer === null ? this.hosts.size : this.balancer.addresses.length;
  }

  private setEjectedCount(n: number): void {
    this.ejectedCount = n;
    this.ejectedGauge.set(n);
  }

  private eject(address: string, h: Host, reason: EjectionReason, enforcing: number): void {
    const o = this.options;
    const hosts = Math.max(1, this.hostCount());
    const allowed =
      (100 * (this.ejectedCount + 1)) / hosts <= o.maxEjectionPercent || this.ejectedCount === 0;
    if (!allowed) {
      this.counts.overflow++;
      this.overflowCounter.inc();
      return;
    }
    if (!(enforcing >= 100 || (enforcing > 0 && this.rng.next() * 100 < enforcing))) return;
    if (o.baseEjectionTime * h.multiplier < o.maxEjectionTime) h.multiplier++;
    const jitter = o.maxEjectionTimeJitter > 0 ? this.rng.next() * o.maxEjectionTimeJitter : 0;
    h.ejected = true;
    h.ejectedAt = this.clock.sim.now;
    h.ejectionTime = Math.min(o.baseEjectionTime * h.multiplier, o.maxEjectionTime) + jitter;
    h.ejections++;
    this.counts.ejections++;
    this.ejectionsCounter.inc();
    this.setEjectedCount(this.ejectedCount + 1);
    const sim = this.clock.sim;
    if (sim.tracing)
      sim.emit('@dsim.lb.eject', {
        balancer: o.name,
        backend: address,
        reason,
        ejectionTime: h.ejectionTime,
        ejections: h.ejections,
      });
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.clock.after(this.options.interval, () => this.sweep());
  }

  private sweep(): void {
    this.timer = null;
    if (this.stopped) return;
    const now = this.clock.sim.now;
    const sim = this.clock.sim;
    const o = this.options;
    const volumes: Array<{ address: string; h: Host; total: number; rate: number }> = [];
    for (const [address, h] of this.hosts) {
      if (!h.ejected) {
        if (h.multiplier > 0) h.multiplier--;
      } else if (h.ejectionTime <= now - h.ejectedAt) {
        h.ejected = false;
        h.c5xx = 0;
        h.cGateway = 0;
        this.setEjectedCount(this.ejectedCount - 1);
        if (sim.tracing)
          sim.emit('@dsim.lb.uneject', { balancer: o.name, backend: address, ejectedFor: now - h.ejectedAt });
      }
      const total = h.total;
      const ok = h.ok;
      h.total = 0;
      h.ok = 0;
      if (!h.ejected && total > 0) volumes.push({ address, h, total, rate: (100 * ok) / total });
    }
    const sr = volumes.filter((v) => v.total >= o.successRateRequestVolume);
    if (sr.length > 0 && sr.length >= o.successRateMinimumHosts) {
      const mean = sr.reduce((s, v) => s + v.rate, 0) / sr.length;
      const variance = sr.reduce((s, v) => s + (v.rate - mean) ** 2, 0) / sr.length;
      const threshold = mean - o.successRateStdevFactor * Math.sqrt(variance);
      for (const v of sr) {
        if (v.rate < threshold && !v.h.ejected) {
          this.counts.detected['success-rate']++;
          this.eject(v.address, v.h, 'success-rate', o.enforcingSuccessRate);
        }
      }
    }
    const fp = volumes.filter((v) => v.total >= o.failurePercentageRequestVolume);
    if (fp.length > 0 && fp.length >= o.failurePercentageMinimumHosts) {
      for (const v of fp) {
        if (100 - v.rate >= o.failurePercentageThreshold && !v.h.ejected) {
          this.counts.detected['failure-percentage']++;
          this.eject(v.address, v.h, 'failure-percentage', o.enforcingFailurePercentage);
        }
      }
    }
    this.arm();
  }
}
