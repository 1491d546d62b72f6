import {
  type Counter,
  type Gauge,
  type NetNode,
  type NodeTimer,
  type RandomStream,
  RpcEndpoint,
  type RpcResponse,
  type SimEvent,
} from '@dsim/core';
import { cooperativeStickyAssign } from '../assignors/cooperative-sticky.js';
import { rangeAssign } from '../assignors/range.js';
import { roundRobinAssign } from '../assignors/round-robin.js';
import { stickyAssign } from '../assignors/sticky.js';
import {
  type Assignment,
  type AssignorInput,
  formatTp,
  type TopicPartition,
  tp,
} from '../assignors/types.js';
import { hiddenRecord } from '../cluster/transaction-index.js';
import type { LogRecord } from '../cluster/types.js';
import type { ConsumerGroupMetadata } from '../producer/transaction-manager.js';
import { type ConsumerConfig, type KafkaConsumerOptions, resolveConsumerConfig } from './consumer-options.js';
import type {
  CommittedOffset,
  ConsumerHeartbeatResponse,
  GroupErrorCode,
  JoinGroupResponse,
  OffsetFetchResponse,
  SyncGroupResponse,
} from './protocol.js';
import type { SourceFetchResult, SourceOffset } from './record-source.js';

/**
 * What a {@link KafkaConsumer} has done so far (this incarnation and earlier ones: counters survive a
 * crash of its node, as a metrics system would).
 *
 * @example
 * ```ts
 * const { processed, commits, rebalances } = consumer.stats;
 * ```
 */
export interface KafkaConsumerStats {
  /** poll() calls. */
  polls: number;
  /** Records returned by poll(). */
  consumed: number;
  /** Records the application finished processing. */
  processed: number;
  /** Successful offset commits (auto and manual). */
  commits: number;
  /** Commits refused (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS: CommitFailedException) or failed. */
  commitFailures: number;
  /** Assignments applied (one per rebalance this member took part in). */
  rebalances: number;
  /** Partitions revoked (eager: all of them at each rebalance). */
  revoked: number;
  /** Partitions lost without a commit (session expired, fenced, poll timeout). */
  lost: number;
  /** Partitions assigned. */
  assigned: number;
  /** Times the member left the group because poll() was not called within max.poll.interval.ms. */
  pollTimeouts: number;
  /** Fetches sent. */
  fetches: number;
  /** Fetches answered with an error. */
  fetchErrors: number;
}

interface Part {
  readonly tp: TopicPartition;
  readonly key: string;
  /** Next offset to hand to the application; null until its committed offset (or reset) is known. */
  position: number | null;
  buffer: LogRecord[];
  inflight: boolean;
  retryAt: number;
  highWatermark: number;
  /** The offset after the last fetched record (hidden ones included): the position once the buffer is drained. */
  fetchedUpTo: number;
}

const EAGER_ASSIGNORS = new Set(['range', 'roundrobin', 'sticky']);

/**
 * A Kafka consumer in a consumer group, on a node: the application's poll loop and the group
 * membership of Kafka's `KafkaConsumer` (`ConsumerCoordinator` / `AbstractCoordinator` for
 * `group.protocol=classic`, the `AsyncKafkaConsumer`'s membership manager for `consumer`).
 *
 * The poll loop: `poll()` first does the group's work (rebalance callbacks, joining, auto-commit of the
 * previous poll's positions every `auto.commit.interval.ms`), then returns up to `max.poll.records`
 * buffered records of its assigned partitions, fetched from their leaders (records below the high
 * watermark only, long-polled `fetch.max.wait.ms`; the next fetch is sent as soon as a partition's
 * buffer is empty, so fetching overlaps processing). An empty poll returns after `pollTimeout`. The
 * application processes each record (`processingTime`), then commits as `manualCommit` says and polls
 * again. Rebalances only take effect inside poll(): a member busy with a batch delays the group.
 *
 * Classic protocol: JoinGroup (the leader, the first member, runs the assignor on every member's
 * subscription), SyncGroup, heartbeats every `heartbeat.interval.ms` from a background timer (REBALANCE
 * _IN_PROGRESS makes the member rejoin at its next poll). Eager assignors (`range`, `roundrobin`,
 * `sticky`) commit (with auto-commit) and revoke every partition before rejoining; `cooperative-sticky`
 * keeps consuming, revokes only what moves (committing it first with auto-commit) and rejoins for the
 * second rebalance that hands the revoked partitions over. If poll() is not called within
 * `max.poll.interval.ms` the heartbeat timer leaves the group (a static member only stops heartbeating);
 * the member rejoins at its next poll, its partitions lost (no commit). A static member
 * (`group.instance.id`) never sends LeaveGroup.
 *
 * KIP-848 (`groupProtocol: 'consumer'`): ConsumerGroupHeartbeat every interval the coordinator gives,
 * carrying the owned partitions; the member applies the assignment it is sent at its next poll
 * (revoking first, committing revoked partitions with auto-commit) and heartbeats at once to
 * acknowledge.
 *
 * `isolation.level=read_committed` fetches up to the last stable offset only, skips the records of
 * aborted transactions (the fetch response's aborted-transaction list) and asks for stable offsets
 * (KIP-447: OffsetFetch is retried while a transaction holding the group's offsets is open). Transaction
 * markers are never returned to the application. `onBatch` lets the application run a transaction per
 * batch (see {@link TransactionalRelay}).
 *
 * A crash of the node loses everything in memory (positions, buffers, the batch being processed);
 * on restart the consumer starts over (a dynamic member as a new member, a static one with its
 * instance id). Offsets not committed are redelivered to the next owner.
 *
 * Metrics under the consumer's address: counters `kafka.consumer.records-consumed`,
 * `.records-processed`, `.commits`, `.commit-failures`, `.rebalances`; gauges
 * `kafka.consumer.assigned-partitions` and `kafka.consumer.records-lag` (high watermark − position,
 * summed over its partitions, as of the last fetches). Traces: `@dsim.kafka.partitions-revoked`,
 * `-assigned`, `-lost` (consumer, member, partitions), `@dsim.kafka.poll-timeout`.
 *
 * @example
 * ```ts
 * const coordinator = new GroupCoordinator(net.addNode('gc'));
 * const source = clusterRecordSource(cluster);
 * const consumer = new KafkaConsumer(net.addNode('c1'), {
 *   groupId: 'billing', topics: ['orders'], coordinator: 'gc', source,
 *   processingTime: exponential({ mean: 2 }),
 * });
 * sim.run({ until: '5m' });
 * consumer.assignment(); // ['ordersp0', 'ordersp1', ...]
 * ```
 */
export class KafkaConsumer {
  readonly endpoint: RpcEndpoint;
  readonly config: ConsumerConfig;
  private readonly rng: RandomStream;
  private readonly counts: KafkaConsumerStats = {
    polls: 0,
    consumed: 0,
    processed: 0,
    commits: 0,
    commitFailures: 0,
    rebalances: 0,
    revoked: 0,
    lost: 0,
    assigned: 0,
    pollTimeouts: 0,
    fetches: 0,
    fetchErrors: 0,
  };
  private readonly meters: {
    consumed: Counter;
    processed: Counter;
    commits: Counter;
    commitFailures: Counter;
    rebalances: Counter;
    assigned: Gauge;
    lag: Gauge;
  };
  // Membership (lost with the node).
  private incarnation = 0;
  private running = false;
  private memberId = '';
  private generation = -1;
  private rejoinNeeded = true;
  private joinInFlight = false;
  private lostPending = false;
  /** KIP-848: left on a poll timeout, out of the group until the next poll. */
  private pollTimedOut = false;
  private pendingAssignment: readonly TopicPartition[] | null = null;
  /** Eager sticky: the previous assignment, sent as user data. */
  private lastAssignment: readonly TopicPartition[] = [];
  private heartbeatIntervalMs: number;
  private heartbeatTimer: NodeTimer | null = null;
  // Poll loop.
  private readonly owned = new Map<string, Part>();
  private lastPollAt = 0;
  private lastAutoCommitAt = 0;
  private waiting: NodeTimer | null = null;
  private cursor = 0;
  private processing = false;

  /** @param options - see {@link KafkaConsumerOptions}; unknown keys and bad values throw INVALID_ARGUMENT */
  constructor(
    readonly node: NetNode<any>,
    options: KafkaConsumerOptions,
  ) {
    this.config = resolveConsumerConfig(options, node.address);
    this.endpoint = RpcEndpoint.of(node);
    const sim = node.network.sim;
    this.rng = sim.rng(`${node.address}/processing`);
    const m = sim.metrics;
    const id = node.address;
    this.meters = {
      consumed: m.counter(id, 'kafka.consumer.records-consumed'),
      processed: m.counter(id, 'kafka.consumer.records-processed'),
      commits: m.counter(id, 'kafka.consumer.commits'),
      commitFailures: m.counter(id, 'kafka.consumer.commit-failures'),
      rebalances: m.counter(id, 'kafka.consumer.rebalances'),
      assigned: m.gauge(id, 'kafka.consumer.assigned-partitions'),
      lag: m.gauge(id, 'kafka.consumer.records-lag'),
    };
    this.heartbeatIntervalMs = this.config.heartbeatIntervalMs;
    node.onCrash(() => {
      this.incarnation++;
      this.running = false;
      this.owned.clear();
      this.report();
    });
    node.onRestart(() => this.start());
    this.start();
  }

  /** The node's address. */
  get address(): string {
    return this.node.address;
  }

  /** A copy of the counters. */
  get stats(): KafkaConsumerStats {
    return { ...this.counts };
  }

  /** The member id the coordinator gave (classic) or '' while not a member. */
  get member(): string {
    return this.memberId;
  }

  /** Classic generation id or KIP-848 member epoch; -1 while not a member. */
  get generationId(): number {
    return this.generation;
  }

  /** The partitions this consumer owns now, as `t0p1` strings, in assignment order. */
  assignment(): string[] {
    return [...this.owned.values()].map((p) => formatTp(p.tp));
  }

  /** `groupMetadata()`: what a transactional producer's `sendOffsetsToTransaction` needs (KIP-447). */
  groupMetadata(): ConsumerGroupMetadata {
    return {
      groupId: this.config.groupId,
      coordinator: this.config.coordinator,
      memberId: this.memberId,
      generationId: this.generation,
    };
  }

  /** The position (next offset to return) of an owned partition, or null. */
  position(topic: string, partition: number): number | null {
    return this.owned.get(`${topic}-${partition}`)?.position ?? null;
  }

  /**
   * Closes the consumer as `consumer.close()` does: commits its positions (with auto-commit), then a
   * dynamic member leaves the group (a static member does not, KIP-345), and the poll loop stops.
   */
  close(): void {
    if (!this.running) return;
    const inc = this.incarnation;
    const finish = (): void => {
      if (inc !== this.incarnation) return;
      if (this.config.groupInstanceId === null && this.memberId !== '')
        this.sendLeave('the consumer is being closed');
      this.running = false;
      this.incarnation++;
      this.owned.clear();
      this.report();
    };
    if (this.config.autoCommit) this.commitSync(this.positions([...this.owned.values()]), finish);
    else finish();
  }

  private get alive(): boolean {
    return this.running && this.node.isUp;
  }

  private start(): void {
    this.running = true;
    const inc = this.incarnation;
    this.memberId = '';
    this.generation = this.config.groupProtocol === 'consumer' ? 0 : -1;
    this.rejoinNeeded = this.config.groupProtocol === 'classic';
    this.joinInFlight = false;
    this.lostPending = false;
    this.pollTimedOut = false;
    this.pendingAssignment = null;
    this.lastAssignment = [];
    this.owned.clear();
    this.processing = false;
    this.waiting = null;
    this.heartbeatTimer = null;
    const now = this.node.network.sim.now;
    this.lastPollAt = now;
    this.lastAutoCommitAt = now;
    this.heartbeatIntervalMs = this.config.heartbeatIntervalMs;
    if (this.config.groupProtocol === 'consumer') this.consumerHeartbeat(inc);
    this.poll();
  }

  // ---- The application's poll loop ------------------------------------------------------------

  private poll(): void {
    if (!this.alive) return;
    this.waiting = null;
    const sim = this.node.network.sim;
    this.counts.polls++;
    this.lastPollAt = sim.now;
    const inc = this.incarnation;
    const step3 = (): void => {
      if (inc !== this.incarnation) return;
      this.fetchPhase();
    };
    const step2 = (): void => {
      if (inc !== this.incarnation) return;
      if (this.config.groupProtocol === 'classic' && this.rejoinNeeded && !this.joinInFlight)
        this.prepareJoin(() => {
          if (inc !== this.incarnation) return;
          this.sendJoin();
          step3();
        });
      else step3();
    };
    if (this.lostPending) this.loseAll();
    if (this.pollTimedOut) {
      this.pollTimedOut = false;
      this.consumerHeartbeat(inc);
    }
    if (this.pendingAssignment !== null) {
      const next = this.pendingAssignment;
      this.pendingAssignment = null;
      this.applyAssignment(next, step2);
    } else step2();
  }

  private fetchPhase(): void {
    const sim = this.node.network.sim;
    if (this.config.autoCommit && sim.now - this.lastAutoCommitAt >= this.config.autoCommitIntervalMs) {
      this.lastAutoCommitAt = sim.now;
      const offsets = this.positions([...this.owned.values()]);
      if (offsets.length > 0) this.commitAsync(offsets);
    }
    const records = this.drain();
    this.sendFetches();
    if (records.length > 0) {
      this.process(records);
      return;
    }
    this.waiting = this.node.setTimer(this.config.pollTimeoutMs, () => this.poll());
  }

  /** Data or an assignment arrived while poll() was waiting: return now. */
  private kick(): void {
    if (this.waiting === null || this.processing) return;
    this.waiting.cancel();
    this.waiting = null;
    this.node.setTimer(0, () => this.poll());
  }

  private drain(): Array<{ part: Part; record: LogRecord }> {
    const out: Array<{ part: Part; record: LogRecord }> = [];
    const parts = [...this.owned.values()];
    if (parts.length === 0) return out;
    // Round-robin over partitions between polls, like the fetch buffer's completed-fetch order.
    for (let i = 0; i < parts.length && out.length < this.config.maxPollRecords; i++) {
      const part = parts[(this.cursor + i) % parts.length]!;
      while (part.buffer.length > 0 && out.length < this.config.maxPollRecords) {
        const record = part.buffer.shift()!;
        if (part.position === null || record.offset < part.position) continue;
        out.push({ part, record });
        part.position = record.offset + 1;
      }
      // Hidden records (markers, aborted) after the last returned one: skip them too.
      if (part.buffer.length === 0 && part.position !== null && part.fetchedUpTo > part.position)
        part.position = part.fetchedUpTo;
    }
    this.cursor = (this.cursor + 1) % parts.length;
    this.counts.consumed += out.length;
    this.meters.consumed.inc(out.length);
    return out;
  }

  private process(batch: Array<{ part: Part; record: LogRecord }>): void {
    const inc = this.incarnation;
    const cfg = this.config;
    this.processing = true;
    const positions = this.positions(this.uniqueParts(batch));
    const done = (): void => {
      if (inc !== this.incarnation) return;
      this.processing = false;
      this.poll();
    };
    const next = (i: number): void => {
      if (inc !== this.incarnation) return;
      if (i === batch.length) {
        const commit = (): void => {
          if (inc !== this.incarnation) return;
          if (cfg.manualCommit === 'after-processing') this.commitSync(positions, done);
          else if (cfg.manualCommit === 'after-processing-async') {
            this.commitAsync(positions);
            done();
          } else done();
        };
        const wait = cfg.onBatch?.({
          records: batch.map(({ part, record }) => ({
            topic: part.tp.topic,
            partition: part.tp.partition,
            record,
          })),
          offsets: positions,
          group: this.groupMetadata(),
          rewind: () => {
            if (inc === this.incarnation) this.rewind();
          },
        });
        if (wait === undefined) commit();
        else wait.onProcessed(commit);
        return;
      }
      const { part, record } = batch[i]!;
      this.node.setTimer(cfg.processingTime.sample(this.rng), () => {
        if (inc !== this.incarnation) return;
        this.counts.processed++;
        this.meters.processed.inc();
        const sim = this.node.network.sim;
        cfg.tally?.processed(part.tp.topic, part.tp.partition, record.offset, this.address, sim.now);
        cfg.onRecord?.(record, part.tp.topic, part.tp.partition);
        next(i + 1);
      });
    };
    if (cfg.manualCommit === 'before-processing') this.commitSync(positions, () => next(0));
    else next(0);
  }

  private uniqueParts(batch: Array<{ part: Part }>): Part[] {
    const seen = new Set<Part>();
    for (const { part } of batch) seen.add(part);
    return [...seen];
  }

  private positions(parts: readonly Part[]): CommittedOffset[] {
    const out: CommittedOffset[] = [];
    for (const p of parts)
      if (p.position !== null) out.push({ topic: p.tp.topic, partition: p.tp.partition, offset: p.position });
    return out;
  }

  // ---- Fetching -----------------------------------------------------------------------------------

  private sendFetches(): void {
    const sim = this.node.network.sim;
    const inc = this.incarnation;
    for (const part of this.owned.values()) {
      if (part.position === null || part.inflight || part.buffer.length > 0 || sim.now < part.retryAt)
        continue;
      part.inflight = true;
      this.counts.fetches++;
      const offset = part.position;
      this.config.source
        .fetch(this.endpoint, {
          topic: part.tp.topic,
          partition: part.tp.partition,
          offset,
          maxBytes: this.config.maxPartitionFetchBytes,
          maxWaitMs: this.config.fetchMaxWaitMs,
          ...(this.config.isolationLevel === 'read_committed'
            ? { isolationLevel: 'read_committed' as const }
            : {}),
        })
        .onProcessed((ev) => {
          part.inflight = false;
          if (inc !== this.incarnation || this.owned.get(part.key) !== part || part.position !== offset)
            return;
          const res = ev.value as SourceFetchResult;
          if (res.error !== null) {
            this.counts.fetchErrors++;
            if (res.error === 'offset-out-of-range') {
              part.position = null;
              this.resetOffset(part);
            } else part.retryAt = sim.now + this.config.retryBackoffMs;
            this.retryFetchLater();
            return;
          }
          const committed = this.config.isolationLevel === 'read_committed';
          part.highWatermark = committed ? (res.lastStableOffset ?? res.highWatermark) : res.highWatermark;
          const fetched = res.records.filter((r) => r.offset >= offset);
          const aborted = res.abortedTransactions ?? [];
          part.buffer = fetched.filter((r) => !hiddenRecord(r, this.config.isolationLevel, aborted));
          if (fetched.length > 0) part.fetchedUpTo = fetched[fetched.length - 1]!.offset + 1;
          if (part.buffer.length === 0 && fetched.length > 0) part.position = part.fetchedUpTo;
          this.updateLag();
          if (part.buffer.length > 0) this.kick();
          else this.sendFetches();
        });
    }
  }

  /** Seeks every owned partition back to its committed offset (buffers and fetches in flight are dropped). */
  private rewind(): void {
    const parts = [...this.owned.values()];
    for (const p of parts) {
      p.position = null;
      p.buffer = [];
      p.fetchedUpTo = 0;
    }
    this.initPositions(parts);
  }

  private retryFetchLater(): void {
    const inc = this.incarnation;
    this.node.setTimer(this.config.retryBackoffMs, () => {
      if (inc === this.incarnation) this.sendFetches();
    });
  }

  private updateLag(): void {
    let lag = 0;
    for (const p of this.owned.values())
      if (p.position !== null) lag += Math.max(0, p.highWatermark - p.position);
    this.meters.lag.set(lag);
  }

  // ---- Offsets ------------------------------------------------------------------------------------

  private commitSync(offsets: readonly CommittedOffset[], then: () => void, attempt = 0): void {
    const inc = this.incarnation;
    if (offsets.length === 0 || this.memberId === '') {
      if (offsets.length > 0) this.commitFailed();
      then();
      return;
    }
    this.sendCommit(offsets).onProcessed((ev) => {
      if (inc !== this.incarnation) return;
      const res = ev.value as RpcResponse<{ error: GroupErrorCode | null }>;
      if (!res.ok) {
        // Retriable (coordinator unreachable): commitSync retries until default.api.timeout.ms (60 s).
        if ((attempt + 1) * this.config.retryBackoffMs < 60_000)
          this.node.setTimer(this.config.retryBackoffMs, () => this.commitSync(offsets, then, attempt + 1));
        else {
          this.commitFailed();
          then();
        }
        return;
      }
      this.onCommitResult(res.value.error);
      then();
    });
  }

  private commitAsync(offsets: readonly CommittedOffset[]): void {
    const inc = this.incarnation;
    if (this.memberId === '') return;
    this.sendCommit(offsets).onProcessed((ev) => {
      if (inc !== this.incarnation) return;
      const res = ev.value as RpcResponse<{ error: GroupErrorCode | null }>;
      if (!res.ok) this.commitFailed();
      else this.onCommitResult(res.value.error);
    });
  }

  private sendCommit(offsets: readonly CommittedOffset[]): SimEvent<RpcResponse<unknown>> {
    return this.endpoint.call(
      this.config.coordinator,
      {
        api: 'offset-commit',
        groupId: this.config.groupId,
        memberId: this.memberId,
        generationId: this.generation,
        offsets,
      },
      { timeout: this.config.requestTimeoutMs, size: 32 + 16 * offsets.length },
    );
  }

  private onCommitResult(error: GroupErrorCode | null): void {
    if (error === null) {
      this.counts.commits++;
      this.meters.commits.inc();
      return;
    }
    this.commitFailed();
    if (error === 'unknown-member-id' || error === 'illegal-generation' || error === 'fenced-member-epoch')
      this.memberLost(error);
    else if (error === 'rebalance-in-progress') this.rejoinNeeded = true;
  }

  private commitFailed(): void {
    this.counts.commitFailures++;
    this.meters.commitFailures.inc();
  }

  /** Finds where to start on a newly assigned partition: its committed offset, else auto.offset.reset. */
  private initPositions(parts: readonly Part[]): void {
    if (parts.length === 0) return;
    const inc = this.incarnation;
    this.endpoint
      .call<OffsetFetchResponse>(
        this.config.coordinator,
        {
          api: 'offset-fetch',
          groupId: this.config.groupId,
          partitions: parts.map((p) => p.tp),
          ...(this.config.isolationLevel === 'read_committed' ? { requireStable: true } : {}),
        },
        { timeout: this.config.requestTimeoutMs, size: 32 + 12 * parts.length },
      )
      .onProcessed((ev) => {
        if (inc !== this.incarnation) return;
        const res = ev.value as RpcResponse<OffsetFetchResponse>;
        // UNSTABLE_OFFSET_COMMIT (a transaction holds offsets of these partitions) is retried too.
        if (!res.ok || (res.value.error ?? null) !== null) {
          this.node.setTimer(this.config.retryBackoffMs, () => {
            if (inc === this.incarnation)
              this.initPositions(parts.filter((p) => this.owned.get(p.key) === p));
          });
          return;
        }
        res.value.offsets.forEach((o, i) => {
          const part = parts[i]!;
          if (this.owned.get(part.key) !== part) return;
          if (o.offset >= 0) part.position = o.offset;
          else this.resetOffset(part);
        });
        this.report();
        this.sendFetches();
      });
  }

  private resetOffset(part: Part): void {
    const inc = this.incarnation;
    this.config.source
      .listOffset(
        this.endpoint,
        part.tp.topic,
        part.tp.partition,
        this.config.autoOffsetReset,
        this.config.isolationLevel,
      )
      .onProcessed((ev) => {
        if (inc !== this.incarnation || this.owned.get(part.key) !== part) return;
        const res = ev.value as SourceOffset;
        if (res.error !== null) {
          this.node.setTimer(this.config.retryBackoffMs, () => {
            if (inc === this.incarnation && this.owned.get(part.key) === part) this.resetOffset(part);
          });
          return;
        }
        part.position = res.offset;
        this.report();
        this.sendFetches();
      });
  }

  // ---- Assignment changes -------------------------------------------------------------------------

  private applyAssignment(next: readonly TopicPartition[], then: () => void): void {
    const inc = this.incarnation;
    const keys = new Set(next.map((p) => `${p.topic}-${p.partition}`));
    const revoked = [...this.owned.values()].filter((p) => !keys.has(p.key));
    const finish = (): void => {
      if (inc !== this.incarnation) return;
      for (const p of revoked) this.owned.delete(p.key);
      if (revoked.length > 0) {
        this.counts.revoked += revoked.length;
        this.trace(
          '@dsim.kafka.partitions-revoked',
          revoked.map((p) => p.tp),
        );
      }
      const added: Part[] = [];
      for (const p of next) {
        const key = `${p.topic}-${p.partition}`;
        if (this.owned.has(key)) continue;
        const part: Part = {
          tp: tp(p.topic, p.partition),
          key,
          position: null,
          buffer: [],
          inflight: false,
          retryAt: 0,
          highWatermark: 0,
          fetchedUpTo: 0,
        };
        this.owned.set(key, part);
        added.push(part);
      }
      this.lastAssignment = next;
      this.counts.rebalances++;
      this.meters.rebalances.inc();
      this.counts.assigned += added.length;
      this.meters.assigned.set(this.owned.size);
      if (added.length > 0)
        this.trace(
          '@dsim.kafka.partitions-assigned',
          added.map((p) => p.tp),
        );
      this.report();
      this.initPositions(added);
      if (this.config.groupProtocol === 'consumer') {
        // Acknowledge the reconciliation at once.
        if (revoked.length > 0 || added.length > 0) this.consumerHeartbeat(inc);
      } else if (revoked.length > 0 && this.config.assignor === 'cooperative-sticky') {
        // KIP-429: revoked partitions are handed over in a follow-up rebalance.
        this.rejoinNeeded = true;
      }
      then();
    };
    if (revoked.length > 0 && this.config.autoCommit) this.commitSync(this.positions(revoked), finish);
    else finish();
  }

  /** The member lost its membership (fenced, expired): partitions are dropped without a commit at the next poll. */
  private memberLost(why: string): void {
    if (this.config.groupProtocol === 'consumer') {
      this.memberId = '';
      this.generation = 0;
    } else {
      if (why === 'unknown-member-id' || why === 'fenced-instance-id') this.memberId = '';
      this.generation = -1;
      this.rejoinNeeded = true;
    }
    this.lostPending = true;
    this.pendingAssignment = null;
  }

  private loseAll(): void {
    this.lostPending = false;
    if (this.owned.size === 0) return;
    const lost = [...this.owned.values()].map((p) => p.tp);
    this.counts.lost += lost.length;
    this.owned.clear();
    this.meters.assigned.set(0);
    this.trace('@dsim.kafka.partitions-lost', lost);
    this.report();
  }

  // ---- Classic protocol ---------------------------------------------------------------------------

  private get eager(): boolean {
    return EAGER_ASSIGNORS.has(this.config.assignor);
  }

  /** onJoinPrepare: eager members commit (auto-commit) and revoke everything before rejoining. */
  private prepareJoin(then: () => void): void {
    if (!this.eager || this.owned.size === 0) {
      then();
      return;
    }
    const inc = this.incarnation;
    const revokeAll = (): void => {
      if (inc !== this.incarnation) return;
      const revoked = [...this.owned.values()].map((p) => p.tp);
      this.owned.clear();
      this.counts.revoked += revoked.length;
      this.meters.assigned.set(0);
      this.trace('@dsim.kafka.partitions-revoked', revoked);
      this.report();
      then();
    };
    if (this.config.autoCommit && this.generation >= 0)
      this.commitSync(this.positions([...this.owned.values()]), revokeAll);
    else revokeAll();
  }

  private sendJoin(): void {
    const cfg = this.config;
    const inc = this.incarnation;
    this.joinInFlight = true;
    this.rejoinNeeded = false;
    this.stopHeartbeats();
    const owned =
      cfg.assignor === 'cooperative-sticky'
        ? [...this.owned.values()].map((p) => p.tp)
        : cfg.assignor === 'sticky'
          ? this.lastAssignment
          : [];
    this.endpoint
      .call<JoinGroupResponse>(
        cfg.coordinator,
        {
          api: 'join-group',
          groupId: cfg.groupId,
          memberId: this.memberId,
          groupInstanceId: cfg.groupInstanceId,
          clientId: cfg.clientId,
          sessionTimeoutMs: cfg.sessionTimeoutMs,
          rebalanceTimeoutMs: cfg.maxPollIntervalMs,
          protocol: cfg.assignor,
          topics: cfg.topics,
          owned,
        },
        { timeout: cfg.maxPollIntervalMs + 5_000, size: 64 + 8 * owned.length },
      )
      .onProcessed((ev) => {
        if (inc !== this.incarnation) return;
        const res = ev.value as RpcResponse<JoinGroupResponse>;
        if (!res.ok || res.value.error !== null) {
          const error = res.ok ? res.value.error : null;
          if (error === 'unknown-member-id' || error === 'fenced-instance-id') this.memberId = '';
          return this.joinFailed();
        }
        const join = res.value;
        this.memberId = join.memberId;
        this.generation = join.generationId;
        const assignments =
          join.leaderId === join.memberId && !join.skipAssignment && join.members.length > 0
            ? this.assign(join)
            : null;
        this.sendSync(assignments);
      });
  }

  private joinFailed(): void {
    const inc = this.incarnation;
    this.node.setTimer(this.config.retryBackoffMs, () => {
      if (inc !== this.incarnation) return;
      this.joinInFlight = false;
      this.rejoinNeeded = true;
      this.kick();
    });
  }

  /** The leader's assignment: the configured assignor over every member's subscription. */
  private assign(join: JoinGroupResponse): Record<string, readonly TopicPartition[]> {
    const topics: Record<string, number> = {};
    for (const m of join.members)
      for (const t of m.topics) topics[t] = this.config.source.partitionCount(t) ?? 1;
    const input: AssignorInput = {
      members: join.members.map((m) => ({ id: m.memberId, topics: m.topics, owned: m.owned })),
      topics,
    };
    let result: Assignment;
    switch (join.protocol) {
      case 'roundrobin':
        result = roundRobinAssign(input);
        break;
      case 'sticky':
        result = stickyAssign(input);
        break;
      case 'cooperative-sticky':
        result = cooperativeStickyAssign(input);
        break;
      default:
        result = rangeAssign(input);
    }
    const out: Record<string, readonly TopicPartition[]> = {};
    for (const [id, list] of result) Object.defineProperty(out, id, { value: list, enumerable: true });
    return out;
  }

  private sendSync(assignments: Record<string, readonly TopicPartition[]> | null): void {
    const inc = this.incarnation;
    this.endpoint
      .call<SyncGroupResponse>(
        this.config.coordinator,
        {
          api: 'sync-group',
          groupId: this.config.groupId,
          memberId: this.memberId,
          generationId: this.generation,
          assignments,
        },
        { timeout: this.config.requestTimeoutMs, size: 64 },
      )
      .onProcessed((ev) => {
        if (inc !== this.incarnation) return;
        const res = ev.value as RpcResponse<SyncGroupResponse>;
        if (!res.ok || res.value.error !== null) {
          const error = res.ok ? res.value.error : null;
          if (error === 'unknown-member-id' || error === 'fenced-instance-id') this.memberId = '';
          if (error === 'illegal-generation') this.generation = -1;
          return this.joinFailed();
        }
        this.joinInFlight = false;
        this.pendingAssignment = res.value.assignment;
        this.startHeartbeats();
        this.kick();
      });
  }

  private startHeartbeats(): void {
    this.stopHeartbeats();
    const inc = this.incarnation;
    const tick = (): void => {
      if (inc !== this.incarnation) return;
      this.heartbeatTimer = this.node.setTimer(this.config.heartbeatIntervalMs, tick);
      if (this.checkPollTimeout()) return;
      if (this.memberId === '' || this.generation < 0 || this.joinInFlight) return;
      this.endpoint
        .call<{ error: GroupErrorCode | null }>(
          this.config.coordinator,
          {
            api: 'heartbeat',
            groupId: this.config.groupId,
            memberId: this.memberId,
            generationId: this.generation,
          },
          { timeout: this.config.requestTimeoutMs, size: 32 },
        )
        .onProcessed((ev) => {
          if (inc !== this.incarnation || this.joinInFlight) return;
          const res = ev.value as RpcResponse<{ error: GroupErrorCode | null }>;
          if (!res.ok) return;
          const error = res.value.error;
          if (error === 'rebalance-in-progress') this.rejoinNeeded = true;
          else if (error !== null) this.memberLost(error);
          if (error !== null) this.kick();
        });
    };
    this.heartbeatTimer = this.node.setTimer(this.config.heartbeatIntervalMs, tick);
  }

  private stopHeartbeats(): void {
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = null;
  }

  /** max.poll.interval.ms passed since the last poll(): leave the group (a static member just goes quiet). */
  private checkPollTimeout(): boolean {
    const sim = this.node.network.sim;
    if (
      sim.now - this.lastPollAt <= this.config.maxPollIntervalMs ||
      (this.memberId === '' && this.config.groupProtocol === 'classic')
    )
      return false;
    if (this.generation < 0 && this.config.groupProtocol === 'classic') return false;
    this.counts.pollTimeouts++;
    if (sim.tracing)
      sim.emit('@dsim.kafka.poll-timeout', {
        consumer: this.address,
        member: this.memberId,
        sinceLastPoll: sim.now - this.lastPollAt,
      });
    if (this.config.groupProtocol === 'consumer') {
      this.sendConsumerLeave();
      this.memberLost('poll-timeout');
      this.pollTimedOut = true;
      return true;
    }
    if (this.config.groupInstanceId === null) this.sendLeave('consumer poll timeout has expired');
    this.memberLost('unknown-member-id');
    this.stopHeartbeats();
    return true;
  }

  private sendLeave(reason: string): void {
    this.endpoint.call(
      this.config.coordinator,
      { api: 'leave-group', groupId: this.config.groupId, memberId: this.memberId, reason },
      { timeout: this.config.requestTimeoutMs, size: 32 },
    );
  }

  // ---- KIP-848 --------------------------------------------------------------------------------------

  private consumerHeartbeat(inc: number): void {
    if (inc !== this.incarnation || !this.alive) return;
    // Every heartbeat, periodic or an acknowledgement, restarts the interval.
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = this.node.setTimer(this.heartbeatIntervalMs, () => this.consumerHeartbeat(inc));
    if (this.pollTimedOut) return;
    if (this.memberId !== '' && this.checkPollTimeout()) return;
    const cfg = this.config;
    this.endpoint
      .call<ConsumerHeartbeatResponse>(
        cfg.coordinator,
        {
          api: 'consumer-heartbeat',
          groupId: cfg.groupId,
          memberId: this.memberId,
          memberEpoch: this.memberId === '' ? 0 : this.generation,
          groupInstanceId: cfg.groupInstanceId,
          clientId: cfg.clientId,
          rebalanceTimeoutMs: cfg.maxPollIntervalMs,
          topics: cfg.topics,
          owned: [...this.owned.values()].map((p) => p.tp),
        },
        { timeout: cfg.requestTimeoutMs, size: 64 + 8 * this.owned.size },
      )
      .onProcessed((ev) => {
        if (inc !== this.incarnation) return;
        const res = ev.value as RpcResponse<ConsumerHeartbeatResponse>;
        if (!res.ok) return;
        const hb = res.value;
        if (hb.error !== null) {
          this.memberLost(hb.error);
          this.kick();
          return;
        }
        this.memberId = hb.memberId;
        this.generation = hb.memberEpoch;
        this.heartbeatIntervalMs = hb.heartbeatIntervalMs;
        if (hb.assignment !== null && !this.sameAsOwned(hb.assignment)) {
          this.pendingAssignment = hb.assignment;
          this.kick();
        }
      });
  }

  private sendConsumerLeave(): void {
    const cfg = this.config;
    this.endpoint.call(
      cfg.coordinator,
      {
        api: 'consumer-heartbeat',
        groupId: cfg.groupId,
        memberId: this.memberId,
        memberEpoch: cfg.groupInstanceId === null ? -1 : -2,
        groupInstanceId: cfg.groupInstanceId,
        clientId: cfg.clientId,
        rebalanceTimeoutMs: cfg.maxPollIntervalMs,
        topics: cfg.topics,
        owned: [],
      },
      { timeout: cfg.requestTimeoutMs, size: 64 },
    );
  }

  private sameAsOwned(list: readonly TopicPartition[]): boolean {
    if (list.length !== this.owned.size) return false;
    return list.every((p) => this.owned.has(`${p.topic}-${p.partition}`));
  }

  // ---- Reporting ------------------------------------------------------------------------------------

  private report(): void {
    const live = new Set<string>();
    if (this.alive) for (const p of this.owned.values()) if (p.position !== null) live.add(p.key);
    this.config.monitor?.report(this.address, live);
  }

  private trace(type: string, partitions: readonly TopicPartition[]): void {
    const sim = this.node.network.sim;
    if (sim.tracing)
      sim.emit(type, {
        consumer: this.address,
        member: this.memberId,
        generation: this.generation,
        partitions: partitions.map(formatTp),
      });
  }
}
