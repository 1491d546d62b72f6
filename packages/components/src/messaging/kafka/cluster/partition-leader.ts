import type { NodeTimer } from '@dsim/core';
import type { TopicConfig } from './config.js';
import type { ReplicaLog } from './replica-log.js';
import type { KafkaErrorCode, PartitionMeta } from './types.js';

/** What the leader knows of one follower, from its fetches (Kafka's ReplicaState). */
export interface FollowerState {
  /** The follower's LEO: the offset of its last fetch. */
  leo: number;
  /** Last time the follower had fetched up to the leader's LEO (the ISR lag clock). */
  lastCaughtUpMs: number;
  lastFetchMs: number;
  /** Leader LEO when that last fetch arrived. */
  lastFetchLeaderLeo: number;
}

/** What a leader needs from its broker. */
export interface LeaderHost {
  now(): number;
  setTimer(ms: number, fn: () => void): NodeTimer;
  /** Sends AlterPartition to the controller; `done(state)` with the committed state, or null on failure. */
  alterPartition(
    isr: readonly string[],
    leaderEpoch: number,
    partitionEpoch: number,
    done: (state: PartitionMeta | null) => void,
  ): void;
  /** Called after the high watermark moved (gauges, consumer fetches). */
  onHighWatermark(): void;
  trace(type: string, fields: Record<string, unknown>): void;
}

interface Waiting {
  readonly requiredOffset: number;
  readonly respond: (error: KafkaErrorCode | null) => void;
  readonly timer: NodeTimer;
}

interface Parked {
  readonly wake: () => void;
  readonly timer: NodeTimer;
  readonly consumer: boolean;
}

/**
 * The leader side of one partition on one broker (Kafka's `Partition` while leader): follower fetch
 * states, the ISR (committed, plus the change in flight to the controller: the "maximal ISR" of
 * KIP-497), the high watermark, the produce purgatory for acks=all and long-polling fetches.
 *
 * HW = min LEO over the maximal ISR, and it does not advance while |ISR| < min.insync.replicas
 * (Kafka 3.7+, KAFKA-15583). A follower leaves the ISR when it has not caught up to the leader's LEO
 * for `replica.lag.time.max.ms` (checked by {@link PartitionLeader.checkIsr} every
 * `isrCheckInterval`); it rejoins once its LEO reaches the HW and the current epoch's start offset.
 *
 * @example
 * ```ts
 * broker.leaderOf('orders', 0)?.isr; // ['b1', 'b2', 'b3']
 * ```
 */
export class PartitionLeader {
  isr: string[];
  partitionEpoch: number;
  /** The ISR proposed to the controller and not yet committed, or null. */
  pendingIsr: string[] | null = null;
  readonly followers = new Map<string, FollowerState>();
  private purgatory: Waiting[] = [];
  private parked: Parked[] = [];
  /** LEO when this leader's epoch began: a follower must reach it to rejoin the ISR. */
  readonly epochStartOffset: number;

  constructor(
    readonly self: string,
    readonly meta: PartitionMeta,
    readonly log: ReplicaLog,
    readonly topic: TopicConfig,
    private readonly lagMaxMs: number,
    private readonly host: LeaderHost,
  ) {
    this.isr = [...meta.isr];
    this.partitionEpoch = meta.partitionEpoch;
    this.epochStartOffset = log.logEndOffset;
    const now = host.now();
    // Kafka resets remote replica states on election: ISR members count as caught up now.
    for (const r of meta.replicas) {
      if (r === self) continue;
      this.followers.set(r, {
        leo: 0,
        lastCaughtUpMs: meta.isr.includes(r) ? now : -Infinity,
        lastFetchMs: -Infinity,
        lastFetchLeaderLeo: -1,
      });
    }
  }

  get epoch(): number {
    return this.meta.leaderEpoch;
  }

  /** ISR used for the high watermark: committed plus a pending expansion. */
  get maximalIsr(): string[] {
    if (this.pendingIsr === null) return this.isr;
    return [...new Set([...this.isr, ...this.pendingIsr])];
  }

  /** The leader rejects acks=all writes with NotEnoughReplicas below this. */
  get underMinIsr(): boolean {
    return this.isr.length < this.topic.minInsyncReplicas;
  }

  /** A follower fetched from `fetchOffset`: update its state, maybe expand the ISR, maybe move the HW. */
  onReplicaFetch(replica: string, fetchOffset: number): void {
    const f = this.followers.get(replica);
    if (f === undefined) return;
    const now = this.host.now();
    const leo = this.log.logEndOffset;
    if (fetchOffset >= leo) f.lastCaughtUpMs = now;
    else if (fetchOffset >= f.lastFetchLeaderLeo)
      f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, f.lastFetchMs);
    f.lastFetchLeaderLeo = leo;
    f.lastFetchMs = now;
    f.leo = fetchOffset;
    if (
      this.pendingIsr === null &&
      !this.isr.includes(replica) &&
      fetchOffset >= this.log.highWatermark &&
      fetchOffset >= this.epochStartOffset
    )
      this.propose([...this.isr, replica]);
    this.maybeAdvanceHw();
  }

  /** The isr-expiration task: drop followers that have not caught up within replica.lag.time.max.ms. */
  checkIsr(): void {
    if (this.pendingIsr !== null) return;
    const now = this.host.now();
    const leo = this.log.logEndOffset;
    const out = this.isr.filter((r) => {
      if (r === this.self) return false;
      const f = this.followers.get(r);
      return f === undefined || !(f.leo === leo || now - f.lastCaughtUpMs <= this.lagMaxMs);
    });
    if (out.length > 0) this.propose(this.isr.filter((r) => !out.includes(r)));
  }

  private propose(isr: string[]): void {
    this.pendingIsr = isr;
    const epoch = this.epoch;
    this.host.alterPartition(isr, epoch, this.partitionEpoch, (state) => {
      if (this.pendingIsr !== isr) return;
      this.pendingIsr = null;
      if (state !== null) this.applyIsr(state.isr, state.partitionEpoch);
    });
  }

  /** An ISR committed by the controller (AlterPartition response or metadata push). */
  applyIsr(isr: readonly string[], partitionEpoch: number): void {
    if (partitionEpoch <= this.partitionEpoch) return;
    this.isr = [...isr];
    this.partitionEpoch = partitionEpoch;
    this.pendingIsr = null;
    this.maybeAdvanceHw();
  }

  /** Recomputes the HW; completes acks=all requests it passes. */
  maybeAdvanceHw(): void {
    if (this.underMinIsr) return;
    let hw = this.log.logEndOffset;
    for (const r of this.maximalIsr) {
      if (r === this.self) continue;
      const f = this.followers.get(r);
      hw = Math.min(hw, f === undefined ? 0 : f.leo);
    }
    if (hw <= this.log.highWatermark) return;
    this.log.highWatermark = hw;
    this.host.onHighWatermark();
    this.completeWaiting();
    this.wake(true);
  }

  private completeWaiting(): void {
    const hw = this.log.highWatermark;
    const done = this.purgatory.filter((w) => w.requiredOffset <= hw);
    if (done.length === 0) return;
    this.purgatory = this.purgatory.filter((w) => w.requiredOffset > hw);
    const error =
      this.maximalIsr.length < this.topic.minInsyncReplicas ? 'not-enough-replicas-after-append' : null;
    for (const w of done) {
      w.timer.cancel();
      w.respond(error);
    }
  }

  /** acks=all: answer when the HW reaches `requiredOffset`, or `request-timed-out` after `timeoutMs`. */
  awaitHw(requiredOffset: number, timeoutMs: number, answer: (error: KafkaErrorCode | null) => void): void {
    const respond = once(answer);
    if (this.log.highWatermark >= requiredOffset) {
      respond(null);
      return;
    }
    const entry: Waiting = {
      requiredOffset,
      respond,
      timer: this.host.setTimer(timeoutMs, () => {
        this.purgatory = this.purgatory.filter((w) => w !== entry);
        respond('request-timed-out');
      }),
    };
    this.purgatory.push(entry);
  }

  /** Parks a fetch that found no data; `wake` runs on new data (replica) or a new HW (consumer). */
  park(consumer: boolean, maxWaitMs: number, run: () => void): void {
    const wake = once(run);
    const entry: Parked = {
      consumer,
      wake,
      timer: this.host.setTimer(maxWaitMs, () => {
        this.parked = this.parked.filter((p) => p !== entry);
        wake();
      }),
    };
    this.parked.push(entry);
  }

  /** New records were appended. */
  onAppend(): void {
    this.wake(false);
    this.maybeAdvanceHw();
  }

  private wake(consumers: boolean): void {
    const ready = this.parked.filter((p) => p.consumer === consumers);
    if (ready.length === 0) return;
    this.parked = this.parked.filter((p) => p.consumer !== consumers);
    for (const p of ready) {
      p.timer.cancel();
      p.wake();
    }
  }

  /** Leadership ends: waiting produce requests fail with NotLeaderOrFollower, parked fetches return. */
  resign(): void {
    const waiting = this.purgatory;
    const parked = this.parked;
    this.purgatory = [];
    this.parked = [];
    for (const w of waiting) {
      w.timer.cancel();
      w.respond('not-leader-or-follower');
    }
    for (const p of parked) {
      p.timer.cancel();
      p.wake();
    }
  }
}

/** `fn` runs at most once: a node timer that fired during a pause runs at the resume even if cancelled. */
function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let done = false;
  return (...args) => {
    if (done) return;
    done = true;
    fn(...args);
  };
}
