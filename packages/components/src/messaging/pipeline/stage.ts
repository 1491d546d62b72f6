import type { Counter, Distribution, Gauge, RandomStream, Simulation } from '@dsim/core';
import { DsimError } from '@dsim/core';
import type { PipelineBuffer, PipelineItem } from './buffer.js';

/**
 * Counters of one {@link PipelineStage}.
 *
 * @example
 * ```ts
 * const { completed, blockedMs } = pipeline.stages[0]!.stats;
 * ```
 */
export interface PipelineStageStats {
  /** Items this stage finished and passed on (or completed, for the last stage). */
  readonly completed: number;
  /** Workers serving an item now. */
  readonly busy: number;
  /** Workers holding a finished item, waiting for room or credit downstream. */
  readonly blocked: number;
  /** Total time its workers have spent blocked (worker × ms), since the metrics registry started. */
  readonly blockedMs: number;
  /** Items this stage holds: in service plus blocked. */
  readonly holding: number;
}

/** Where a stage sends what it finished. @internal */
export type StageOutput<P> =
  | { readonly kind: 'buffer'; readonly buffer: PipelineBuffer<P> }
  | { readonly kind: 'sink'; readonly complete: (item: PipelineItem<P>) => void };

/** What a stage records. @internal */
export interface StageMeters {
  readonly completed: Counter;
  readonly busy: Gauge;
  readonly blocked: Gauge;
  readonly holding: (delta: number) => void;
}

/**
 * One stage of a {@link Pipeline}: `workers` workers, each taking the oldest item from the stage's input
 * buffer, serving it for a time drawn from the stage's `serviceTime`, then putting it into the next
 * stage's buffer. A worker whose output is a full `block` buffer (or has no credit) holds its finished
 * item and waits: it serves nothing meanwhile (its blocked time is measured), so a slow stage throttles
 * the stages before it. Built by {@link Pipeline}.
 *
 * @example
 * ```ts
 * const last = pipeline.stages.at(-1)!;
 * last.stats.completed / seconds; // throughput of the bottleneck
 * ```
 */
export class PipelineStage<P = unknown> {
  private busyCount = 0;
  private blockedCount = 0;
  private completedCount = 0;

  /** @internal Built by {@link Pipeline}. */
  constructor(
    private readonly sim: Simulation,
    /** Name, as in metrics (`<pipeline>/<stage>`). */
    readonly name: string,
    /** Workers. */
    readonly workers: number,
    private readonly serviceTime: Distribution,
    private readonly rng: RandomStream,
    /** The buffer in front of this stage. */
    readonly input: PipelineBuffer<P>,
    private readonly output: StageOutput<P>,
    private readonly meters: StageMeters,
  ) {
    for (let w = 0; w < workers; w++) this.idle();
  }

  /** Counters. */
  get stats(): PipelineStageStats {
    return {
      completed: this.completedCount,
      busy: this.busyCount,
      blocked: this.blockedCount,
      blockedMs: this.meters.blocked.integral(),
      holding: this.busyCount + this.blockedCount,
    };
  }

  private idle(): void {
    this.input.take((item) => this.start(item));
  }

  private start(item: PipelineItem<P>): void {
    this.busyCount++;
    this.meters.busy.set(this.busyCount);
    this.meters.holding(1);
    const ms = this.serviceTime.sample(this.rng);
    if (!(ms >= 0))
      throw new DsimError(
        'INVALID_ARGUMENT',
        `Pipeline stage ${this.name}: serviceTime sampled ${ms} ms from ${this.serviceTime.describe()}; service times must be >= 0`,
        { simTime: this.sim.now, seed: this.sim.seed },
      );
    this.sim.schedule(ms, () => this.finish(item));
  }

  private finish(item: PipelineItem<P>): void {
    this.busyCount--;
    this.meters.busy.set(this.busyCount);
    this.completedCount++;
    this.meters.completed.inc();
    const output = this.output;
    if (output.kind === 'sink') {
      this.meters.holding(-1);
      output.complete(item);
      this.idle();
      return;
    }
    this.blockedCount++;
    const result = output.buffer.put(item, () => this.unblock(true));
    if (result === 'waiting') {
      this.meters.blocked.set(this.blockedCount);
      return;
    }
    this.unblock(false);
  }

  private unblock(waited: boolean): void {
    this.blockedCount--;
    if (waited) this.meters.blocked.set(this.blockedCount);
    this.meters.holding(-1);
    this.idle();
  }
}
