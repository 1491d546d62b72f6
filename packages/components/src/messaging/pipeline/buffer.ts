import {
  checkDuration,
  checkEnum,
  checkKindOf,
  checkNumber,
  type Duration,
  type Gauge,
  invalidOption,
  type OptionOwner,
  type Simulation,
} from '@dsim/core';

/**
 * What a bounded buffer does with an item that finds it full.
 * - `block`: the producer (the upstream stage's worker, or the source) waits until there is room, so
 *   pressure propagates upstream (TCP's receive window, a blocking `BlockingQueue.put`).
 * - `drop-newest`: the arriving item is dropped (tail drop).
 * - `drop-oldest`: the oldest buffered item is dropped to make room (Reactor's
 *   `onBackpressureBuffer(..., DROP_OLDEST)`, Akka Streams' `OverflowStrategy.dropHead`).
 *
 * @example
 * ```ts
 * const onFull: OnFull = 'drop-oldest';
 * ```
 */
export type OnFull = 'block' | 'drop-newest' | 'drop-oldest';

/**
 * Every {@link OnFull} value.
 *
 * @example
 * ```ts
 * ON_FULL_POLICIES.includes('block'); // true
 * ```
 */
export const ON_FULL_POLICIES: readonly OnFull[] = ['block', 'drop-newest', 'drop-oldest'];

/**
 * A buffer that never fills: depth, latency and memory grow without bound when the consumer is slower
 * than the producer.
 *
 * @example
 * ```ts
 * const spec: UnboundedBufferSpec = { kind: 'unbounded' };
 * ```
 */
export interface UnboundedBufferSpec {
  readonly kind: 'unbounded';
}

/**
 * A buffer of `capacity` items with an overflow policy.
 *
 * @example
 * ```ts
 * const spec: BoundedBufferSpec = { kind: 'bounded', capacity: 50, onFull: 'drop-newest' };
 * ```
 */
export interface BoundedBufferSpec {
  readonly kind: 'bounded';
  /** Items the buffer holds, an integer >= 1. Required. */
  readonly capacity: number;
  /**
   * What happens to an item that finds the buffer full ({@link OnFull}).
   * @default 'block'
   */
  readonly onFull?: OnFull;
}

/**
 * Credit-based flow control between the upstream stage and this buffer: the downstream grants
 * `credits` up front; the upstream sends an item only while it holds a credit (spending it), and the
 * downstream grants a credit back when one of its workers takes an item from the buffer. This is
 * Reactive Streams' `Subscription.request(n)` (rule 3.17: demand is cumulative; a publisher must not
 * emit more than requested, rule 1.1), HTTP/2's flow-control window (RFC 9113 §5.2, WINDOW_UPDATE) and
 * AMQP's prefetch (`basic.qos`). Credits spent but not yet returned bound the items buffered:
 * `credits held + items buffered + credits being returned = credits` at every moment.
 *
 * @example
 * ```ts
 * // request(16) up front, then request(4) each time 4 items have been taken, arriving 2 ms later
 * const spec: CreditBufferSpec = { kind: 'credit', credits: 16, batch: 4, creditDelay: 2 };
 * ```
 */
export interface CreditBufferSpec {
  readonly kind: 'credit';
  /** The window: credits granted up front, an integer >= 1. Required. */
  readonly credits: number;
  /**
   * Credits are granted back in batches of this many (a `request(batch)` once `batch` items have been
   * taken; Reactor's `limitRate` replenishes at 75% of its prefetch). An integer in [1, credits].
   * @default 1
   */
  readonly batch?: number;
  /**
   * Time for a grant to reach the upstream (the `request(n)` signal's, or WINDOW_UPDATE frame's, trip).
   * With a delay d the window must cover the bandwidth-delay product (credits >= throughput × d) or the
   * link idles waiting for credit. A duration >= 0.
   * @default 0
   */
  readonly creditDelay?: Duration;
}

/**
 * How a buffer between two pipeline stages behaves: {@link UnboundedBufferSpec},
 * {@link BoundedBufferSpec} or {@link CreditBufferSpec}.
 *
 * @example
 * ```ts
 * const spec: BufferSpec = { kind: 'bounded', capacity: 20, onFull: 'block' };
 * ```
 */
export type BufferSpec = UnboundedBufferSpec | BoundedBufferSpec | CreditBufferSpec;

/**
 * Every buffer kind, for "did you mean".
 *
 * @example
 * ```ts
 * BUFFER_KINDS; // ['unbounded', 'bounded', 'credit']
 * ```
 */
export const BUFFER_KINDS = ['unbounded', 'bounded', 'credit'] as const;

const BUFFER_KEYS = {
  unbounded: ['kind'],
  bounded: ['kind', 'capacity', 'onFull'],
  credit: ['kind', 'credits', 'batch', 'creditDelay'],
} as const;

/**
 * A checked buffer spec with its defaults filled in. @internal
 */
export interface ResolvedBuffer {
  readonly kind: BufferSpec['kind'];
  readonly capacity: number;
  readonly onFull: OnFull;
  readonly batch: number;
  readonly creditDelay: number;
}

/**
 * Checks a {@link BufferSpec} at `where` (unknown keys are errors with "did you mean") and fills in its
 * defaults. @internal
 */
export function resolveBuffer(where: OptionOwner, spec: unknown): ResolvedBuffer {
  const kind = checkKindOf(where, spec, BUFFER_KEYS);
  const s = spec as Record<string, unknown>;
  if (kind === 'unbounded') return { kind, capacity: Infinity, onFull: 'block', batch: 1, creditDelay: 0 };
  if (kind === 'bounded') {
    const capacity = checkNumber(where, 'capacity', s.capacity, { integer: true, min: 1 });
    const onFull = checkEnum(where, 'onFull', s.onFull, ON_FULL_POLICIES, 'block');
    return { kind, capacity, onFull, batch: 1, creditDelay: 0 };
  }
  const credits = checkNumber(where, 'credits', s.credits, { integer: true, min: 1 });
  const batch = checkNumber(where, 'batch', s.batch, { integer: true, min: 1 }, 1);
  if (batch > credits) throw invalidOption(where, 'batch', batch, `an integer in [1, credits = ${credits}]`);
  const creditDelay = checkDuration(where, 'creditDelay', s.creditDelay, {}, 0);
  return { kind, capacity: credits, onFull: 'block', batch, creditDelay };
}

/**
 * An item travelling through a {@link Pipeline}.
 *
 * @example
 * ```ts
 * pipeline.options.onComplete = (item: PipelineItem<string>, latency) => sim.log(item.payload);
 * ```
 */
export interface PipelineItem<P = unknown> {
  /** 0, 1, 2... in the order items entered the pipeline. */
  readonly id: number;
  /** Time the item entered the pipeline (ms). */
  readonly producedAt: number;
  /** What the source gave. */
  readonly payload: P;
}

/** Result of putting an item into a buffer. @internal */
export type PutResult = 'accepted' | 'dropped' | 'waiting';

interface Putter<P> {
  readonly item: PipelineItem<P>;
  readonly onAccepted: () => void;
}

/**
 * Counters of one {@link PipelineBuffer}.
 *
 * @example
 * ```ts
 * const { depth, maxDepth, dropped } = pipeline.buffers[2]!.stats;
 * ```
 */
export interface PipelineBufferStats {
  /** Items in the buffer now. */
  readonly depth: number;
  /** Most items it has held at once. */
  readonly maxDepth: number;
  /** Time-weighted mean depth since the metrics registry started. */
  readonly meanDepth: number;
  /** Items that entered the buffer. */
  readonly accepted: number;
  /** Items dropped by the overflow policy (the arriving one, or the oldest). */
  readonly dropped: number;
  /** Producers waiting for room or credit. */
  readonly waiting: number;
  /** Credit buffers: credits the upstream holds now (Infinity for the other kinds). */
  readonly credits: number;
  /** Credit buffers: credits granted back but not yet arrived upstream, plus those not yet batched. */
  readonly creditsReturning: number;
}

/**
 * The buffer in front of a pipeline stage: FIFO, with the behaviour of its {@link BufferSpec}. Built by
 * {@link Pipeline}; read its `stats`. Items are handed to a waiting consumer at once (the depth stays 0
 * while a worker is idle); a producer that must wait (a full `block` buffer, no credit) is queued FIFO
 * and admitted as soon as there is room or credit.
 *
 * @example
 * ```ts
 * const buffer = pipeline.buffers[1]!;
 * buffer.stats.depth; // items waiting for stage 1
 * ```
 */
export class PipelineBuffer<P = unknown> {
  /** Name, as in metrics (`<pipeline>/<stage>`). */
  readonly name: string;
  /** The checked spec. */
  readonly spec: ResolvedBuffer;
  private items: PipelineItem<P>[] = [];
  private head = 0;
  private readonly getters: ((item: PipelineItem<P>) => void)[] = [];
  private readonly putters: Putter<P>[] = [];
  private credits: number;
  private unbatched = 0;
  private inTransit = 0;
  private acceptedCount = 0;
  private droppedCount = 0;
  private peak = 0;
  private pumping = false;

  /** @internal Built by {@link Pipeline}. */
  constructor(
    private readonly sim: Simulation,
    name: string,
    spec: ResolvedBuffer,
    private readonly depthGauge: Gauge,
    private readonly onDepth: (delta: number) => void,
    private readonly onDrop: (item: PipelineItem<P>, buffer: PipelineBuffer<P>) => void,
  ) {
    this.name = name;
    this.spec = spec;
    this.credits = spec.kind === 'credit' ? spec.capacity : Infinity;
  }

  /** Items in the buffer now. */
  get depth(): number {
    return this.items.length - this.head;
  }

  /** Counters. */
  get stats(): PipelineBufferStats {
    return {
      depth: this.depth,
      maxDepth: this.peak,
      meanDepth: this.depthGauge.mean(),
      accepted: this.acceptedCount,
      dropped: this.droppedCount,
      waiting: this.putters.length,
      credits: this.credits,
      creditsReturning: this.inTransit + this.unbatched,
    };
  }

  /**
   * Whether an item put now would be accepted or dropped without waiting (false: the producer would
   * block for room or credit). @internal
   */
  wouldAccept(): boolean {
    return this.putters.length === 0 && (this.canAdmit() || this.spec.onFull !== 'block');
  }

  /**
   * Puts an item: `accepted` (buffered, or handed to an idle consumer), `dropped` (drop-newest on a full
   * buffer), or `waiting` (full block buffer or no credit: `onAccepted` is called once it is in). @internal
   */
  put(item: PipelineItem<P>, onAccepted: () => void): PutResult {
    if (this.putters.length === 0 && this.canAdmit()) {
      this.admit(item);
      this.pump();
      return 'accepted';
    }
    if (this.spec.onFull === 'drop-newest') {
      this.drop(item);
      return 'dropped';
    }
    if (this.spec.onFull === 'drop-oldest') {
      this.drop(this.shift());
      this.admit(item);
      this.pump();
      return 'accepted';
    }
    this.putters.push({ item, onAccepted });
    return 'waiting';
  }

  /** Takes the oldest item, now if there is one, else when one arrives. @internal */
  take(onItem: (item: PipelineItem<P>) => void): void {
    this.getters.push(onItem);
    this.pump();
  }

  private canAdmit(): boolean {
    return this.spec.kind === 'credit' ? this.credits > 0 : this.depth < this.spec.capacity;
  }

  private admit(item: PipelineItem<P>): void {
    if (this.spec.kind === 'credit') this.credits--;
    this.items.push(item);
    this.acceptedCount++;
    const depth = this.depth;
    if (depth > this.peak) this.peak = depth;
    this.depthGauge.set(depth);
    this.onDepth(1);
  }

  private shift(): PipelineItem<P> {
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as unknown as PipelineItem<P>;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.depthGauge.set(this.depth);
    this.onDepth(-1);
    return item;
  }

  private drop(item: PipelineItem<P>): void {
    this.droppedCount++;
    this.onDrop(item, this);
  }

  // Hands items to waiting consumers and admits waiting producers until neither can move. Re-entrant
  // calls (a consumer's or producer's callback that puts or takes here) fold into the running loop.
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.getters.length > 0 && this.depth > 0) {
          const item = this.shift();
          const getter = this.getters.shift()!;
          this.taken();
          getter(item);
          continue;
        }
        if (this.putters.length > 0 && this.canAdmit()) {
          const putter = this.putters.shift()!;
          this.admit(putter.item);
          putter.onAccepted();
          continue;
        }
        return;
      }
    } finally {
      this.pumping = false;
    }
  }

  // A consumer took an item: a credit buffer grants credit back (in batches, after creditDelay).
  private taken(): void {
    if (this.spec.kind !== 'credit') return;
    this.unbatched++;
    if (this.unbatched < this.spec.batch) return;
    const grant = this.unbatched;
    this.unbatched = 0;
    if (this.spec.creditDelay === 0) {
      this.credits += grant;
      return; // the running pump admits waiting producers
    }
    this.inTransit += grant;
    this.sim.schedule(this.spec.creditDelay, () => {
      this.inTransit -= grant;
      this.credits += grant;
      this.pump();
    });
  }
}
