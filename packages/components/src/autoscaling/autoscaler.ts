import {
  checkDuration,
  checkObject,
  checkOptions,
  DsimError,
  type Duration,
  invalidOption,
  optionKeys,
  type ScheduledHandle,
  type Simulation,
} from '@dsim/core';
import {
  type ReplicaMetricSpec,
  type ResolvedReplicaMetric,
  resolveReplicaMetric,
} from './replica-metrics.js';
import type { Replica, ReplicaPool } from './replica-pool.js';
import type { PodSample, ScalingInput, ScalingPolicy } from './scaling-policy.js';

const C = 'Autoscaler';

/**
 * Options of {@link Autoscaler}; an unknown key is an error.
 *
 * @example
 * ```ts
 * const options: AutoscalerOptions = { policy: new HpaPolicy({ target: 60, maxReplicas: 20 }), until: '30m' };
 * ```
 */
export interface AutoscalerOptions {
  /** The policy deciding the replica count: {@link HpaPolicy}, {@link StepScalingPolicy}, {@link ScheduledScalingPolicy} or your own. */
  policy: ScalingPolicy;
  /** What is measured on each replica. @default { kind: 'utilization' } */
  metric?: ReplicaMetricSpec;
  /**
   * Absolute simulated time after which no evaluation runs (the periodic evaluations would otherwise keep
   * `sim.run()` going for ever). A duration, or Infinity.
   * @default Infinity
   */
  until?: Duration;
}

const KEYS = optionKeys<AutoscalerOptions>()({ policy: true, metric: true, until: true });

/**
 * One change of the replica count an {@link Autoscaler} made.
 *
 * @example
 * ```ts
 * const e: ScaleRecord = { at: 45_000, from: 2, to: 4, reason: 'DesiredWithinRange' };
 * ```
 */
export interface ScaleRecord {
  /** When, ms. */
  readonly at: number;
  /** Replicas before. */
  readonly from: number;
  /** Replicas after. */
  readonly to: number;
  /** The policy's reason, or `Activated` for a wake from zero. */
  readonly reason: string;
}

/**
 * One evaluation of an {@link Autoscaler}.
 *
 * @example
 * ```ts
 * const s: SyncRecord = { at: 15_000, replicas: 2, ready: 2, desired: 3, metric: 91, reason: 'DesiredWithinRange' };
 * ```
 */
export interface SyncRecord {
  readonly at: number;
  /** Counted replicas before the decision. */
  readonly replicas: number;
  /** Ready replicas before the decision. */
  readonly ready: number;
  /** What the policy answered. */
  readonly desired: number;
  /** Mean metric over the ready replicas with a sample (NaN: none). */
  readonly metric: number;
  readonly reason: string;
}

/**
 * Runs a {@link ScalingPolicy} against a {@link ReplicaPool} on the simulation clock: every
 * `policy.periodMs` (the first one period after construction) it samples each counted replica's metric
 * over the window since the previous evaluation, asks the policy, and sets the pool to its answer.
 *
 * Per replica, as the Kubernetes replica calculator groups pods: a replica still starting is `unready`;
 * one whose node is down is `missing` (no metrics from a crashed container); a ready one has its metric
 * over [max(previous evaluation, ready time), now). With a `utilization` metric a replica ready for less
 * than one period, within `initializationPeriod` of its creation, is `unready` too (the controller's CPU
 * initialisation rule). The window is the evaluation period, as metrics-server's 15 s resolution matches
 * the HPA's 15 s sync.
 *
 * `wake()` is how an {@link Activator} scales a pool from zero: it sets one replica at once and tells
 * the policy (`observe`), which treats it as its own recommendation.
 *
 * `events` lists every change it made and `history` every evaluation; with tracing on, each evaluation
 * emits an `@dsim.autoscaler.sync` record (replicas, ready, desired, mean metric, reason).
 *
 * @example
 * ```ts
 * const scaler = new Autoscaler(pool, {
 *   policy: new HpaPolicy({ target: 60, minReplicas: 2, maxReplicas: 20 }),
 *   metric: { kind: 'utilization' },
 *   until: '20m',
 * });
 * sim.run({ until: '20m' });
 * scaler.events; // [{ at: 45000, from: 2, to: 4, reason: 'DesiredWithinRange' }, ...]
 * ```
 */
export class Autoscaler {
  readonly policy: ScalingPolicy;
  readonly metric: ResolvedReplicaMetric;
  /** Every change of the replica count it made, in order. */
  readonly events: ScaleRecord[] = [];
  /** Every evaluation, in order. */
  readonly history: SyncRecord[] = [];
  private readonly sim: Simulation;
  private readonly until: number;
  private lastSync: number;
  private timer: ScheduledHandle | undefined;
  /** Each replica's readings at the previous evaluation. */
  private readings = new Map<Replica, { at: number; busy: number; arrivals: number }>();

  constructor(
    readonly pool: ReplicaPool,
    options: AutoscalerOptions,
  ) {
    checkObject(C, 'options', options, 'an options object with policy');
    checkOptions(C, options, KEYS);
    const p = options.policy as unknown;
    if (
      p === null ||
      typeof p !== 'object' ||
      typeof (p as ScalingPolicy).decide !== 'function' ||
      !(typeof (p as ScalingPolicy).periodMs === 'number' && (p as ScalingPolicy).periodMs > 0)
    )
      throw invalidOption(
        C,
        'policy',
        p,
        'a ScalingPolicy { decide(input), periodMs > 0, ... } such as new HpaPolicy(...)',
      );
    this.policy = options.policy;
    this.metric = resolveReplicaMetric(options.metric ?? { kind: 'utilization' });
    this.sim = pool.net.sim;
    this.until = checkDuration(C, 'until', options.until, { infinity: true }, Infinity);
    this.lastSync = this.sim.now;
    this.arm();
  }

  /** Scale-ups made (events that added replicas, wakes included). */
  get scaleUps(): number {
    return this.events.filter((e) => e.to > e.from).length;
  }

  /** Scale-downs made. */
  get scaleDowns(): number {
    return this.events.filter((e) => e.to < e.from).length;
  }

  /** Stops the evaluations (a later `wake()` still works). */
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /**
   * Scales a pool at zero replicas to one at once (Knative's activator poke); no-op otherwise. The
   * policy is told, so that it keeps the replica at least for its scale-down window.
   *
   * @example
   * ```ts
   * if (pool.replicas === 0) scaler.wake();
   * ```
   */
  wake(): void {
    const pool = this.pool;
    if (pool.replicas !== 0) return;
    const now = this.sim.now;
    pool.scaleTo(1);
    this.policy.observe?.(now, 0, 1);
    this.events.push({ at: now, from: 0, to: 1, reason: 'Activated' });
  }

  private arm(): void {
    const at = this.sim.now + this.policy.periodMs;
    if (at > this.until) return;
    this.timer = this.sim.schedule(this.policy.periodMs, () => this.sync());
  }

  private sync(): void {
    this.timer = undefined;
    const sim = this.sim;
    const now = sim.now;
    const pool = this.pool;
    const pods = this.sample(now);
    const replicas = pool.replicas;
    const input: ScalingInput = { now, replicas, metric: this.metric.kind, pods };
    const desired = this.policy.decide(input);
    if (typeof desired !== 'number' || !Number.isInteger(desired) || desired < 0)
      throw new DsimError(
        'INVALID_STATE',
        `Autoscaler: policy ${this.policy.kind}.decide returned ${String(desired)}; it must return an integer >= 0`,
        { simTime: now, seed: sim.seed, details: { component: C, field: 'policy', value: desired } },
      );
    let sum = 0;
    let n = 0;
    for (const pod of pods)
      if (pod.state === 'ready') {
        sum += pod.value;
        n++;
      }
    const reason = this.policy.reason;
    const metric = n === 0 ? Number.NaN : sum / n;
    this.history.push({ at: now, replicas, ready: pool.ready, desired, metric, reason });
    if (sim.tracing)
      sim.emit('@dsim.autoscaler.sync', {
        pool: pool.name,
        replicas,
        ready: pool.ready,
        desired,
        metric: n === 0 ? null : metric,
        reason,
      });
    if (desired !== replicas) {
      pool.scaleTo(desired);
      this.events.push({ at: now, from: replicas, to: desired, reason });
    }
    this.lastSync = now;
    this.arm();
  }

  /** One sample per counted replica, over [max(last evaluation, ready time), now). */
  private sample(now: number): PodSample[] {
    const metric = this.metric;
    const prev = this.lastSync;
    const pods: PodSample[] = [];
    const readings = new Map<Replica, { at: number; busy: number; arrivals: number }>();
    for (const r of this.pool.members) {
      if (r.state === 'starting') {
        pods.push(UNREADY);
        continue;
      }
      if (r.state !== 'ready') {
        pods.push(MISSING);
        continue;
      }
      const busy = r.busyIntegral();
      const arrivals = r.arrivals();
      readings.set(r, { at: now, busy, arrivals });
      const last = this.readings.get(r);
      const fresh = last === undefined || r.readyAt > last.at;
      const from = fresh ? Math.max(prev, r.readyAt) : last.at;
      const span = now - from;
      if (!(span > 0)) {
        pods.push(UNREADY);
        continue;
      }
      if (metric.kind === 'utilization') {
        // The CPU initialisation rule: ready for less than one window, early in the pod's life.
        if (now - r.createdAt < metric.initializationMs && now < r.readyAt + this.policy.periodMs) {
          pods.push(UNREADY);
          continue;
        }
        const base = fresh ? r.busyAtReady : last.busy;
        pods.push({ state: 'ready', value: (100 * (busy - base)) / span / r.service.concurrency });
      } else if (metric.kind === 'rps') {
        const base = fresh ? r.arrivedAtReady : last.arrivals;
        pods.push({ state: 'ready', value: ((arrivals - base) * 1000) / span });
      } else {
        const v = metric.value!(r, from, now);
        if (v === undefined || Number.isNaN(v)) pods.push(MISSING);
        else if (typeof v !== 'number' || !Number.isFinite(v))
          throw new DsimError(
            'INVALID_ARGUMENT',
            `Autoscaler: metric.value(${r.address}) returned ${String(v)}; it must return a finite number or undefined`,
            { simTime: now, seed: this.sim.seed, details: { component: C, field: 'metric.value', value: v } },
          );
        else pods.push({ state: 'ready', value: v });
      }
    }
    this.readings = readings;
    return pods;
  }
}

const UNREADY: PodSample = Object.freeze({ state: 'unready', value: Number.NaN });
const MISSING: PodSample = Object.freeze({ state: 'missing', value: Number.NaN });
