import {
  checkDuration,
  checkNumber,
  checkObject,
  checkOptions,
  type Duration,
  invalidOption,
  LatencyHistogram,
  optionKeys,
  type ScheduledHandle,
  type Simulation,
} from '@dsim/core';
import type { StranglerFacade } from './strangler-facade.js';

const C = 'CanaryRollout';

/**
 * Options of {@link CanaryRollout}. The defaults follow Flagger's built-in analysis (a 1 minute interval,
 * a request success rate of at least 99%) and Argo Rollouts' `failureLimit` (0: the first failed
 * measurement aborts the rollout).
 *
 * @example
 * ```ts
 * const options: CanaryRolloutOptions = { route: 'invoices', steps: [0.05, 0.25, 0.5, 1], interval: '1m' };
 * ```
 */
export interface CanaryRolloutOptions {
  /** The facade route to move. */
  readonly route: string;
  /** The weights the route goes through, increasing, each in (0, 1], the last 1. @default [0.05, 0.25, 0.5, 1] */
  readonly steps?: readonly number[];
  /** How long each step is held before its analysis. @default '1m' */
  readonly interval?: Duration;
  /** Least share of the new service's answers in a step that must be ok. @default 0.99 */
  readonly minSuccessRate?: number;
  /** Highest p99 latency (ms) of the new service's answers in a step. @default Infinity (not checked) */
  readonly maxP99Ms?: number;
  /** Fewer answers than this in a step make its analysis inconclusive. @default 10 */
  readonly minRequests?: number;
  /**
   * Inconclusive analyses tolerated (the step is held for another interval); one more pauses the rollout
   * where it is, for a person to decide (Argo Rollouts' `inconclusiveLimit`, 0 by default).
   * @default 0
   */
  readonly inconclusiveLimit?: number;
  /** Failed analyses tolerated; one more rolls the route back to weight 0. @default 0 */
  readonly failureLimit?: number;
  /** When the first step is set (absolute simulated time). @default now */
  readonly start?: Duration;
}

const KEYS = optionKeys<CanaryRolloutOptions>()({
  route: true,
  steps: true,
  interval: true,
  minSuccessRate: true,
  maxP99Ms: true,
  minRequests: true,
  inconclusiveLimit: true,
  failureLimit: true,
  start: true,
});

/** Where a rollout is. */
export type RolloutState = 'pending' | 'progressing' | 'paused' | 'promoted' | 'rolled-back';

/** One analysis: a step's figures and what was decided. */
export interface CanaryAnalysis {
  /** When the analysis ran (ms). */
  readonly at: number;
  /** The weight during the step. */
  readonly weight: number;
  /** Answers of the new service during the step. */
  readonly requests: number;
  /** Their ok share (1 when none). */
  readonly successRate: number;
  /** Their p99 latency (ms); 0 when none. */
  readonly p99Ms: number;
  readonly result: 'pass' | 'fail' | 'inconclusive';
}

/**
 * A progressive delivery controller (Argo Rollouts' canary steps, Flagger's analysis) driving one route
 * of a {@link StranglerFacade}: it sets the first weight, holds it for `interval`, then analyses the new
 * service's answers in that step. A pass moves to the next weight (after the last, weight 1, the route
 * is promoted); too few answers make the analysis inconclusive, which holds the step for another
 * interval up to `inconclusiveLimit` times and then pauses the rollout (Argo Rollouts' behaviour); a
 * failure is tolerated `failureLimit` times (the step is held), and one more rolls the route back to
 * weight 0 at once and stops.
 *
 * @example
 * ```ts
 * const rollout = new CanaryRollout(sim, facade, { route: 'invoices', steps: [0.05, 0.5, 1], interval: '1m' });
 * sim.run({ until: '10m' });
 * rollout.state;   // 'promoted' or 'rolled-back'
 * rollout.history; // one CanaryAnalysis per step analysed
 * ```
 */
export class CanaryRollout {
  /** The facade route being moved. */
  readonly route: string;
  private readonly steps: readonly number[];
  private readonly intervalMs: number;
  private readonly minSuccessRate: number;
  private readonly maxP99Ms: number;
  private readonly minRequests: number;
  private readonly failureLimit: number;
  private readonly inconclusiveLimit: number;
  private inconclusive = 0;
  private readonly analyses: CanaryAnalysis[] = [];
  private stepIndex = -1;
  private failures = 0;
  private current: RolloutState = 'pending';
  private ok = 0;
  private failed = 0;
  private latency = new LatencyHistogram();
  private timer: ScheduledHandle | undefined;
  /** The route was rolled back or promoted at this time (ms); undefined otherwise. */
  endedAt: number | undefined;

  constructor(
    private readonly sim: Simulation,
    private readonly facade: StranglerFacade,
    options: CanaryRolloutOptions,
  ) {
    checkObject(C, 'options', options, 'an options object with route');
    checkOptions(C, options, KEYS);
    if (typeof options.route !== 'string' || !facade.routeNames.includes(options.route))
      throw invalidOption(
        C,
        'route',
        options.route,
        `one of the facade's routes: ${facade.routeNames.map((n) => JSON.stringify(n)).join(', ')}`,
      );
    this.route = options.route;
    const steps = options.steps ?? [0.05, 0.25, 0.5, 1];
    const increasing =
      Array.isArray(steps) &&
      steps.length > 0 &&
      steps.every((w, i) => typeof w === 'number' && w > 0 && w <= 1 && (i === 0 || w > steps[i - 1]!)) &&
      steps[steps.length - 1] === 1;
    if (!increasing)
      throw invalidOption(
        C,
        'steps',
        steps,
        'increasing weights in (0, 1] ending at 1, such as [0.05, 0.25, 0.5, 1]',
      );
    this.steps = [...steps];
    this.intervalMs = checkDuration(C, 'interval', options.interval, { positive: true }, 60_000);
    this.minSuccessRate = checkNumber(C, 'minSuccessRate', options.minSuccessRate, { min: 0, max: 1 }, 0.99);
    this.maxP99Ms = checkNumber(C, 'maxP99Ms', options.maxP99Ms, { above: 0, infinity: true }, Infinity);
    this.minRequests = checkNumber(C, 'minRequests', options.minRequests, { integer: true, min: 1 }, 10);
    this.failureLimit = checkNumber(C, 'failureLimit', options.failureLimit, { integer: true, min: 0 }, 0);
    this.inconclusiveLimit = checkNumber(
      C,
      'inconclusiveLimit',
      options.inconclusiveLimit,
      { integer: true, min: 0 },
      0,
    );
    const start = checkDuration(C, 'start', options.start, {}, sim.now);
    if (start < sim.now) throw invalidOption(C, 'start', options.start, `a time >= now (${sim.now} ms)`);
    facade.observe(options.route, 'modern', (ok, latencyMs) => {
      if (this.current !== 'progressing') return;
      if (ok) this.ok++;
      else this.failed++;
      this.latency.record(latencyMs);
    });
    this.timer = sim.schedule(start - sim.now, () => this.advance());
  }

  /** Where the rollout is. */
  get state(): RolloutState {
    return this.current;
  }

  /** The route's weight now. */
  get weight(): number {
    return this.facade.weight(this.route);
  }

  /** Every analysis so far, in order. */
  get history(): readonly CanaryAnalysis[] {
    return this.analyses;
  }

  /** Stops the rollout where it is (the weight stays). */
  abort(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Sets the next step's weight and starts measuring it. */
  private advance(): void {
    this.stepIndex++;
    this.current = 'progressing';
    this.facade.setWeight(this.route, this.steps[this.stepIndex]!);
    this.hold();
  }

  private hold(): void {
    this.ok = 0;
    this.failed = 0;
    this.latency = new LatencyHistogram();
    this.timer = this.sim.schedule(this.intervalMs, () => this.analyse());
  }

  private analyse(): void {
    const n = this.ok + this.failed;
    const successRate = n === 0 ? 1 : this.ok / n;
    const p99Ms = n === 0 ? 0 : this.latency.percentile(99);
    const result: CanaryAnalysis['result'] =
      n < this.minRequests
        ? 'inconclusive'
        : successRate < this.minSuccessRate || p99Ms > this.maxP99Ms
          ? 'fail'
          : 'pass';
    this.analyses.push({
      at: this.sim.now,
      weight: this.steps[this.stepIndex]!,
      requests: n,
      successRate,
      p99Ms,
      result,
    });
    if (result === 'fail' && ++this.failures > this.failureLimit) {
      this.facade.setWeight(this.route, 0);
      this.end('rolled-back');
      return;
    }
    if (result === 'inconclusive' && ++this.inconclusive > this.inconclusiveLimit) {
      this.current = 'paused';
      this.timer = undefined;
      return;
    }
    if (result !== 'pass') {
      this.hold();
      return;
    }
    if (this.stepIndex === this.steps.length - 1) {
      this.end('promoted');
      return;
    }
    this.advance();
  }

  private end(state: 'promoted' | 'rolled-back'): void {
    this.current = state;
    this.endedAt = this.sim.now;
    this.timer = undefined;
  }
}
