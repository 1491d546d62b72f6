import {
  type Counter,
  checkDistribution,
  checkFunction,
  checkName,
  checkNumber,
  type Distribution,
  DsimError,
  type Duration,
  type Gauge,
  type Histogram,
  invalidOption,
  nested,
  optionKeys,
  owner,
  requireOptions,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import { type BufferSpec, PipelineBuffer, type PipelineItem, resolveBuffer } from './buffer.js';
import { PipelineStage, type StageOutput } from './stage.js';

/**
 * One stage of a {@link Pipeline}: its workers, their service time, and the buffer in front of it. An
 * unknown key is an error with a "did you mean".
 *
 * @example
 * ```ts
 * const stage: PipelineStageOptions = {
 *   name: 'enrich',
 *   workers: 4,
 *   serviceTime: exponential({ mean: 20 }),
 *   input: { kind: 'bounded', capacity: 100, onFull: 'block' },
 * };
 * ```
 */
export interface PipelineStageOptions {
  /**
   * Name, unique in the pipeline; metrics are recorded under `<pipeline>/<name>`. A non-empty string.
   * @default `stage-<index>`
   */
  name?: string;
  /**
   * Workers serving items at the same time. An integer >= 1.
   * @default 1
   */
  workers?: number;
  /** Service time of one item: a distribution (ms) or a fixed duration. Required. */
  serviceTime: Distribution | Duration;
  /**
   * The buffer in front of the stage ({@link BufferSpec}). The first stage's is the pipeline's edge.
   * @default { kind: 'unbounded' }
   */
  input?: BufferSpec;
  /**
   * Random stream of the service times.
   * @default `<pipeline>/<name>/service`
   */
  stream?: string;
}

/**
 * Options of a {@link Pipeline}. An unknown key is an error with a "did you mean".
 *
 * @example
 * ```ts
 * const options: PipelineOptions = {
 *   name: 'ingest',
 *   stages: [
 *     { name: 'parse', serviceTime: 2 },
 *     { name: 'store', serviceTime: exponential({ mean: 10 }), input: { kind: 'credit', credits: 32 } },
 *   ],
 * };
 * ```
 */
export interface PipelineOptions<P = unknown> {
  /**
   * Name; pipeline-wide metrics are recorded under it. A non-empty string.
   * @default 'pipeline'
   */
  name?: string;
  /** The stages, in order: at least one. Required. */
  stages: readonly PipelineStageOptions[];
  /**
   * Called when the last stage finishes an item, with its end-to-end latency (ms since it entered).
   * @default none
   */
  onComplete?: (item: PipelineItem<P>, latency: number) => void;
  /**
   * Called when a buffer's overflow policy drops an item, with the buffer's name (`<pipeline>/<stage>`).
   * @default none
   */
  onDrop?: (item: PipelineItem<P>, buffer: string) => void;
}

const PIPELINE_KEYS = optionKeys<PipelineOptions>()({
  name: true,
  stages: true,
  onComplete: true,
  onDrop: true,
});
const STAGE_KEYS = optionKeys<PipelineStageOptions>()({
  name: true,
  workers: true,
  serviceTime: true,
  input: true,
  stream: true,
});

/**
 * Where every item is, for the conservation law `produced = completed + dropped + buffered + inService +
 * blocked`, which holds at every moment.
 *
 * @example
 * ```ts
 * const s = pipeline.stats;
 * s.produced === s.completed + s.dropped + s.buffered + s.inService + s.blocked; // true
 * ```
 */
export interface PipelineStats {
  /** Items that entered the pipeline (accepted by the first buffer, including any later dropped). */
  readonly produced: number;
  /** Items the last stage finished. */
  readonly completed: number;
  /** Items dropped by a buffer's overflow policy, anywhere. */
  readonly dropped: number;
  /** Offers refused at the edge: the first buffer was full (`block`) or out of credit, and `offer()` does not wait. */
  readonly rejected: number;
  /** Items in buffers now: the memory proxy. */
  readonly buffered: number;
  /** Items being served by a worker now. */
  readonly inService: number;
  /** Finished items held by workers waiting for room or credit downstream. */
  readonly blocked: number;
  /** Producers waiting in `put()` for room or credit at the edge. */
  readonly sourceWaiting: number;
  /** Total time producers have waited in `put()` (producer × ms). */
  readonly sourceBlockedMs: number;
}

/** Outcome of {@link Pipeline.offer}. */
export type OfferResult = 'accepted' | 'dropped' | 'rejected';

/**
 * A pipeline of stages connected by buffers, for studying backpressure: what happens when a producer is
 * faster than the slowest stage. Items enter at the first stage's buffer, from an open-loop source with
 * {@link Pipeline.offer} (never waits: a full `block` edge rejects, a `drop-*` edge drops) or from a
 * closed-loop producer with {@link Pipeline.put} (waits for room or credit: the producer is throttled to
 * the pipeline's rate). Each stage's workers serve items and pass them to the next buffer; with `block` or
 * `credit` buffers a slow stage fills its buffer, the workers before it block, their own buffer fills, and
 * the pressure travels back to the source.
 *
 * The fluid model: with arrival rate λ and a bottleneck of capacity μ (workers / mean service time of the
 * slowest stage), an unbounded buffer before it grows at λ − μ items per second; a `drop-*` buffer loses a
 * share 1 − μ/λ; `block` and `credit` throttle the source to μ (and an open-loop source sees a share 1 − μ/λ
 * rejected at the edge). See {@link backpressureFluid}.
 *
 * It records, under `<name>/<stage>`: gauges `buffer.depth`, `stage.busy`, `stage.blocked` (its integral
 * is the blocked time), counters `buffer.dropped`, `stage.completed`; under `<name>`: counters
 * `pipeline.produced`, `pipeline.completed`, `pipeline.dropped`, `pipeline.rejected`, gauges
 * `pipeline.buffered` (the memory proxy), `pipeline.in-stages`, `pipeline.source-waiting`, and histogram
 * `pipeline.latency` (end to end, from entering the pipeline). With tracing on it emits `@dsim.pipeline.drop`
 * `{ pipeline, buffer, id }` and `@dsim.pipeline.reject` `{ pipeline, rejected }` (the count so far).
 *
 * @example
 * ```ts
 * const pipeline = new Pipeline(sim, {
 *   stages: [
 *     { name: 'parse', serviceTime: exponential({ mean: 2 }) },
 *     { name: 'enrich', workers: 2, serviceTime: exponential({ mean: 8 }), input: { kind: 'bounded', capacity: 20 } },
 *     { name: 'store', serviceTime: exponential({ mean: 10 }), input: { kind: 'bounded', capacity: 20 } },
 *   ],
 * });
 * openLoop(sim, { arrivals: { kind: 'poisson', rate: 150 }, onArrival: () => pipeline.offer(), until: '1m' });
 * sim.run();
 * pipeline.stats.rejected / (pipeline.stats.produced + pipeline.stats.rejected); // about 1 - 100/150
 * ```
 */
export class Pipeline<P = unknown> {
  /** The simulation. */
  readonly sim: Simulation;
  /** Name (metrics owner). */
  readonly name: string;
  /** The stages, in order. */
  readonly stages: readonly PipelineStage<P>[];
  /** The buffers, in order: `buffers[i]` is in front of `stages[i]`. */
  readonly buffers: readonly PipelineBuffer<P>[];
  private readonly onComplete: ((item: PipelineItem<P>, latency: number) => void) | undefined;
  private readonly onDrop: ((item: PipelineItem<P>, buffer: string) => void) | undefined;
  private nextId = 0;
  private producedCount = 0;
  private completedCount = 0;
  private droppedCount = 0;
  private rejectedCount = 0;
  private bufferedCount = 0;
  private holdingCount = 0;
  private waitingCount = 0;
  private readonly meters: {
    produced: Counter;
    completed: Counter;
    dropped: Counter;
    rejected: Counter;
    buffered: Gauge;
    inStages: Gauge;
    sourceWaiting: Gauge;
    latency: Histogram;
  };

  /**
   * @param options - see {@link PipelineOptions}; unknown keys and bad values throw INVALID_ARGUMENT
   */
  constructor(sim: Simulation, options: PipelineOptions<P>) {
    const where = owner('Pipeline');
    requireOptions(where, options, PIPELINE_KEYS);
    this.sim = sim;
    this.name = checkName(where, 'name', options.name, 'pipeline');
    const specs = options.stages;
    if (!Array.isArray(specs) || specs.length === 0)
      throw invalidOption(where, 'stages', specs, 'a non-empty array of stage options');
    this.onComplete =
      options.onComplete === undefined
        ? undefined
        : checkFunction(where, 'onComplete', options.onComplete, '(item, latency) => void');
    this.onDrop =
      options.onDrop === undefined
        ? undefined
        : checkFunction(where, 'onDrop', options.onDrop, '(item, buffer) => void');
    const m = sim.metrics;
    const id = this.name;
    this.meters = {
      produced: m.counter(id, 'pipeline.produced'),
      completed: m.counter(id, 'pipeline.completed'),
      dropped: m.counter(id, 'pipeline.dropped'),
      rejected: m.counter(id, 'pipeline.rejected'),
      buffered: m.gauge(id, 'pipeline.buffered'),
      inStages: m.gauge(id, 'pipeline.in-stages'),
      sourceWaiting: m.gauge(id, 'pipeline.source-waiting'),
      latency: m.histogram(id, 'pipeline.latency'),
    };

    // Check every stage (and its buffer) first, then build from the last stage back, so each stage knows
    // the buffer it feeds.
    const names = new Set<string>();
    const resolved = specs.map((spec, i) => {
      const at = nested(where, `stages[${i}]`);
      requireOptions(at, spec, STAGE_KEYS);
      const stageName = checkName(at, 'name', spec.name, `stage-${i}`);
      if (names.has(stageName)) throw invalidOption(at, 'name', stageName, 'a name unique in the pipeline');
      names.add(stageName);
      return {
        name: stageName,
        workers: checkNumber(at, 'workers', spec.workers, { integer: true, min: 1 }, 1),
        serviceTime: checkDistribution(at, 'serviceTime', spec.serviceTime, 'exponential({ mean: 10 })'),
        input: resolveBuffer(nested(at, 'input'), spec.input ?? { kind: 'unbounded' }),
        stream: checkName(at, 'stream', spec.stream, `${this.name}/${stageName}/service`),
      };
    });
    const buffers = resolved.map(
      (r) =>
        new PipelineBuffer<P>(
          sim,
          `${this.name}/${r.name}`,
          r.input,
          m.gauge(`${this.name}/${r.name}`, 'buffer.depth'),
          (delta) => {
            this.bufferedCount += delta;
            this.meters.buffered.set(this.bufferedCount);
          },
          (item, buffer) => this.dropped(item, buffer),
        ),
    );
    this.buffers = buffers;
    const stages: PipelineStage<P>[] = [];
    for (let i = resolved.length - 1; i >= 0; i--) {
      const r = resolved[i]!;
      const node = `${this.name}/${r.name}`;
      const output: StageOutput<P> =
        i === resolved.length - 1
          ? { kind: 'sink', complete: (item) => this.complete(item) }
          : { kind: 'buffer', buffer: buffers[i + 1]! };
      stages[i] = new PipelineStage<P>(
        sim,
        node,
        r.workers,
        r.serviceTime,
        sim.rng(r.stream),
        buffers[i]!,
        output,
        {
          completed: m.counter(node, 'stage.completed'),
          busy: m.gauge(node, 'stage.busy'),
          blocked: m.gauge(node, 'stage.blocked'),
          holding: (delta) => {
            this.holdingCount += delta;
            this.meters.inStages.set(this.holdingCount);
          },
        },
      );
    }
    this.stages = stages;
  }

  /** Where every item is (see {@link PipelineStats}). */
  get stats(): PipelineStats {
    let blocked = 0;
    for (const stage of this.stages) blocked += stage.stats.blocked;
    return {
      produced: this.producedCount,
      completed: this.completedCount,
      dropped: this.droppedCount,
      rejected: this.rejectedCount,
      buffered: this.bufferedCount,
      inService: this.holdingCount - blocked,
      blocked,
      sourceWaiting: this.waitingCount,
      sourceBlockedMs: this.meters.sourceWaiting.integral(),
    };
  }

  /** End-to-end latency (ms) of completed items. */
  get latency(): Histogram {
    return this.meters.latency;
  }

  /**
   * Offers an item from an open-loop source, which never waits: `accepted`, `dropped` (a full `drop-*`
   * edge buffer dropped it, or an older item in its place: then `accepted`), or `rejected` (a full `block`
   * edge, or no credit: refused at the edge, counted in `rejected`, never entered).
   *
   * @example
   * ```ts
   * openLoop(sim, { arrivals: { kind: 'poisson', rate: 150 }, onArrival: (i) => pipeline.offer(i) });
   * ```
   */
  offer(payload?: P): OfferResult {
    const edge = this.buffers[0]!;
    if (!edge.wouldAccept()) {
      this.rejectedCount++;
      this.meters.rejected.inc();
      if (this.sim.tracing)
        this.sim.emit('@dsim.pipeline.reject', { pipeline: this.name, rejected: this.rejectedCount });
      return 'rejected';
    }
    const item = this.produce(payload as P);
    const result = edge.put(item, () => undefined);
    return result === 'dropped' ? 'dropped' : 'accepted';
  }

  /**
   * Puts an item from a closed-loop (blocking) producer: the event succeeds with `accepted` once the item
   * is in the first buffer, waiting while it is full (`block`) or out of credit; with `dropped` when a
   * full `drop-newest` edge dropped it. The item enters the pipeline (and its latency starts) when it is
   * accepted. Waiting producers are served first come, first served. An unbounded or `drop-*` edge
   * never makes a producer wait: a closed loop that puts as fast as it can needs a `block` or `credit` edge
   * (or its own think time), else it spins at one instant.
   *
   * @example
   * ```ts
   * sim.process(function* () {
   *   for (;;) yield pipeline.put(); // as fast as the pipeline takes them
   * });
   * ```
   */
  put(payload?: P): SimEvent<'accepted' | 'dropped'> {
    const event = this.sim.event<'accepted' | 'dropped'>();
    const edge = this.buffers[0]!;
    if (edge.wouldAccept()) {
      const result = edge.put(this.produce(payload as P), () => undefined);
      return event.succeed(result === 'dropped' ? 'dropped' : 'accepted');
    }
    // The item is produced when it is admitted: a producer blocked at the edge has not entered yet.
    this.waitingCount++;
    this.meters.sourceWaiting.set(this.waitingCount);
    const pending: PipelineItem<P> = { id: -1, producedAt: Number.NaN, payload: payload as P };
    const result = edge.put(pending, () => {
      this.waitingCount--;
      this.meters.sourceWaiting.set(this.waitingCount);
      this.produced(pending);
      event.succeed('accepted');
    });
    if (result !== 'waiting')
      throw new DsimError(
        'INVALID_STATE',
        `Pipeline ${this.name}: the edge buffer did not queue a waiting put`,
      );
    return event;
  }

  private produce(payload: P): PipelineItem<P> {
    const item: PipelineItem<P> = { id: -1, producedAt: Number.NaN, payload };
    this.produced(item);
    return item;
  }

  // Stamps the item as it enters (its id and time), and counts it.
  private produced(item: PipelineItem<P>): void {
    const stamped = item as { id: number; producedAt: number };
    stamped.id = this.nextId++;
    stamped.producedAt = this.sim.now;
    this.producedCount++;
    this.meters.produced.inc();
  }

  private complete(item: PipelineItem<P>): void {
    this.completedCount++;
    this.meters.completed.inc();
    const latency = this.sim.now - item.producedAt;
    this.meters.latency.record(latency);
    this.onComplete?.(item, latency);
  }

  private dropped(item: PipelineItem<P>, buffer: PipelineBuffer<P>): void {
    this.droppedCount++;
    this.meters.dropped.inc();
    this.sim.metrics.counter(buffer.name, 'buffer.dropped').inc();
    if (this.sim.tracing)
      this.sim.emit('@dsim.pipeline.drop', { pipeline: this.name, buffer: buffer.name, id: item.id });
    this.onDrop?.(item, buffer.name);
  }
}
