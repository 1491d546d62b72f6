import {
  type Counter,
  type NetNode,
  type RandomStream,
  RpcEndpoint,
  type RpcResponse,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import {
  type ClusterMetadata,
  type KafkaErrorCode,
  type PartitionMeta,
  type ProduceRequest,
  type ProduceResponse,
  tpKey,
} from '../cluster/types.js';
import { partitionForKey, StickyPartitioner } from '../partitioner.js';
import { type KafkaProducerOptions, type ProducerConfig, resolveProducerConfig } from './producer-options.js';
import {
  type ConsumerGroupMetadata,
  TransactionManager,
  type TransactionState,
  type TxnOffset,
  type TxnOutcome,
} from './transaction-manager.js';

/** Why a record failed: a broker error code, the client's own timeouts, or the producer crashing. */
export type ProducerErrorKind =
  | KafkaErrorCode
  | 'delivery-timeout'
  | 'timeout'
  | 'unavailable'
  | 'producer-crashed'
  | 'transaction-aborted';

/**
 * The callback outcome of one record. With acks=0 a record counts as acknowledged once sent (offset -1).
 *
 * @example
 * ```ts
 * const outcome = yield producer.send({ topic: 'orders', key: 'k1', size: 200 });
 * if (!outcome.ok) sim.log(outcome.error);
 * ```
 */
export type ProduceOutcome =
  | {
      readonly ok: true;
      readonly recordId: string;
      readonly topic: string;
      readonly partition: number;
      readonly offset: number;
    }
  | {
      readonly ok: false;
      readonly recordId: string;
      readonly topic: string;
      readonly partition: number;
      readonly error: ProducerErrorKind;
    };

/** A record to send. */
export interface ProducerRecord {
  topic: string;
  /** Explicit partition. @default the partitionFor(key) callback for keyed records, else the sticky partition */
  partition?: number;
  key?: string | null;
  /** Bytes (key + value + per-record overhead). @default 100 */
  size?: number;
  /** A label for the value, carried to the log and the consumers (the payload is not modelled). @default none */
  value?: string;
  /** A tombstone (a null value): deletes the key from a compacted topic. @default false */
  tombstone?: boolean;
}

/** The fate of one record as the producer knows it. */
export interface RecordFate {
  readonly recordId: string;
  readonly topic: string;
  /** -1 while not yet assigned (no metadata). */
  readonly partition: number;
  readonly status: 'acked' | 'failed' | 'in-flight';
  readonly error: ProducerErrorKind | null;
  readonly offset: number;
  readonly sentAt: number;
  /** When the callback fired (NaN while in flight). */
  readonly settledAt: number;
}

/** Producer counters: at every moment records = acked + failed + inFlight. */
export interface KafkaProducerStats {
  records: number;
  acked: number;
  failed: number;
  failedBy: Record<string, number>;
  inFlight: number;
  requests: number;
  retries: number;
  /** Batches the leader reported as duplicates of an earlier append (idempotence at work). */
  duplicateAcks: number;
}

interface Pending {
  readonly recordId: string;
  readonly topic: string;
  partition: number;
  readonly key: string | null;
  readonly size: number;
  readonly value: string | undefined;
  readonly tombstone: boolean;
  /** Counted in the current transaction. */
  readonly inTxn: boolean;
  readonly explicit: number | undefined;
  readonly sentAt: number;
  readonly event: SimEvent<ProduceOutcome>;
  outcome: ProduceOutcome | null;
  settledAt: number;
}

interface Batch {
  readonly tp: TopicPartition;
  readonly records: Pending[];
  bytes: number;
  readonly createdAt: number;
  baseSeq: number;
  epoch: number;
  attempts: number;
  retryAt: number;
  inFlight: boolean;
  closed: boolean;
  expired: boolean;
  done: boolean;
  attemptToken: number;
  leader: string;
}

interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
  open: Batch | null;
  queue: Batch[];
  /** Batches in flight. */
  sending: Set<Batch>;
  nextSeq: number;
  /** Producer epoch for this partition's sequences: bumped to reset them (KIP-360 style). */
  epoch: number;
}

const REFRESH_ON: ReadonlySet<string> = new Set([
  'not-leader-or-follower',
  'fenced-leader-epoch',
  'unknown-leader-epoch',
  'unknown-topic-or-partition',
  'timeout',
  'unavailable',
  'request-timed-out',
]);

/**
 * A Kafka producer on a node: accumulates records into per-partition batches (`batch.size`,
 * `linger.ms`), sends each batch to the partition leader it learned from metadata, with `acks`
 * 0/1/all, at most `max.in.flight.requests.per.connection` requests per broker, retries with
 * exponential backoff until `delivery.timeout.ms`, and refreshes metadata on NotLeaderOrFollower or
 * a timeout. With `enable.idempotence` (default) it gets a producer id and numbers each partition's
 * records so the leader drops a retried batch it already appended; without it, a retry after a lost
 * acknowledgement duplicates the batch.
 *
 * With a `transactional.id` (KIP-98) the producer is transactional: `initTransactions()` gets its
 * producer id and epoch from the transaction coordinator (fencing older producers with the same id),
 * each partition is added to the transaction (AddPartitionsToTxn) before its first batch, and
 * `commitTransaction()` flushes then ends the transaction; the coordinator writes the markers. A
 * fenced producer's records fail with `producer-fenced`; the records of an aborted transaction that
 * were never sent fail with `transaction-aborted`.
 *
 * Simplifications: one batch per request (Kafka packs a batch per partition per broker request); a
 * partition's sequences are reset by bumping a per-partition epoch (Kafka bumps the producer epoch).
 *
 * @example
 * ```ts
 * const producer = new KafkaProducer(net.addNode('app'), { bootstrap: ['b1', 'b2', 'b3'], acks: 'all' });
 * sim.process(function* () {
 *   const outcome = yield producer.send({ topic: 'orders', key: 'user-7', size: 300 });
 * });
 * ```
 */
export class KafkaProducer {
  readonly config: ProducerConfig;
  readonly rpc: RpcEndpoint;
  private readonly sim: Simulation;
  private readonly rng: RandomStream;
  private readonly ledger: Pending[] = [];
  private readonly waiting: Pending[] = [];
  private readonly tps = new Map<string, TopicPartition>();
  /** Per topic, the partitioner of records without a key (KIP-794). */
  private readonly stickies = new Map<string, StickyPartitioner>();
  private stickyRng: RandomStream | undefined;
  private readonly inflight = new Map<string, number>();
  private readonly watched = new Set<string>();
  private readonly rtt = new Map<string, number>();
  private metadata: ClusterMetadata | null = null;
  private readonly topics = new Map<string, PartitionMeta[]>();
  private refreshing = false;
  private refreshQueued = false;
  private bootstrapIndex = 0;
  private producerId = -1;
  private initializing = false;
  private drainTimer = Infinity;
  private nextRecord = 1;
  private readonly txn: TransactionManager | null;
  private readonly counts: KafkaProducerStats = {
    records: 0,
    acked: 0,
    failed: 0,
    failedBy: {},
    inFlight: 0,
    requests: 0,
    retries: 0,
    duplicateAcks: 0,
  };
  private readonly meters: {
    records: Counter;
    acked: Counter;
    failed: Counter;
    requests: Counter;
    retries: Counter;
  };

  /** @param options - see {@link KafkaProducerOptions}; unknown keys and bad values throw INVALID_ARGUMENT */
  constructor(
    readonly node: NetNode<any>,
    options: KafkaProducerOptions,
  ) {
    this.config = resolveProducerConfig(options);
    this.sim = node.network.sim;
    if (this.config.endpoint !== null && this.config.endpoint.node !== node)
      throw new Error('KafkaProducer: options.endpoint belongs to another node');
    this.rpc = this.config.endpoint ?? RpcEndpoint.of(node);
    this.rng = this.sim.rng(`${node.address}/kafka-producer`);
    const m = this.sim.metrics;
    const id = node.address;
    this.meters = {
      records: m.counter(id, 'kafka.producer.records'),
      acked: m.counter(id, 'kafka.producer.acks'),
      failed: m.counter(id, 'kafka.producer.errors'),
      requests: m.counter(id, 'kafka.producer.requests'),
      retries: m.counter(id, 'kafka.producer.retries'),
    };
    this.txn =
      this.config.transactionalId === null
        ? null
        : new TransactionManager(
            {
              node,
              rpc: this.rpc,
              sim: this.sim,
              config: this.config,
              coordinator: () => {
                if (this.metadata === null) this.refreshMetadata();
                return this.metadata?.transactionCoordinator ?? null;
              },
              initialized: (producerId) => {
                this.producerId = producerId;
                for (const tp of this.tps.values()) tp.nextSeq = 0;
                this.drain();
              },
              failRecords: (error, onlyUnsent) => this.failTransactionRecords(error, onlyUnsent),
              drain: () => this.drain(),
            },
            this.config.transactionalId,
          );
    node.onCrash(() => {
      this.txn?.reset();
      for (const p of this.ledger) if (p.outcome === null) this.finish(p, { error: 'producer-crashed' });
      this.tps.clear();
      this.waiting.length = 0;
      this.inflight.clear();
      this.refreshing = false;
      this.initializing = false;
      this.drainTimer = Infinity;
    });
  }

  /** A copy of the counters. */
  get stats(): KafkaProducerStats {
    return { ...this.counts, failedBy: { ...this.counts.failedBy } };
  }

  /** The producer id the cluster assigned (-1 before, or without idempotence). */
  get id(): number {
    return this.producerId;
  }

  /** The transactional producer's state (`'uninitialized'` … `'fenced'`); null without a transactional id. */
  get transactionState(): TransactionState | null {
    return this.txn?.state ?? null;
  }

  /** The producer epoch the transaction coordinator gave (-1 before initTransactions or without transactions). */
  get epoch(): number {
    return this.txn?.epoch ?? -1;
  }

  /**
   * `initTransactions()`: registers the transactional id with the coordinator, fencing any older
   * producer with the same id and aborting its open transaction. Call once before the first transaction
   * (and again after a crash of the producer's node).
   *
   * @example
   * ```ts
   * const ok = (yield producer.initTransactions()).ok;
   * ```
   */
  initTransactions(): SimEvent<TxnOutcome> {
    return this.transactional('initTransactions').init();
  }

  /** `beginTransaction()`: starts a transaction (local); throws unless initialized and no transaction is open. */
  beginTransaction(): void {
    this.transactional('beginTransaction').begin();
  }

  /**
   * `sendOffsetsToTransaction(offsets, groupMetadata)`: the consumer offsets are committed if and only if
   * the transaction commits (AddOffsetsToTxn, then TxnOffsetCommit to the group coordinator).
   *
   * @example
   * ```ts
   * producer.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 42 }], consumer.groupMetadata());
   * ```
   */
  sendOffsetsToTransaction(
    offsets: readonly TxnOffset[],
    group: ConsumerGroupMetadata,
  ): SimEvent<TxnOutcome> {
    return this.transactional('sendOffsetsToTransaction').sendOffsets(offsets, group);
  }

  /** `commitTransaction()`: waits for every record of the transaction, then commits it. */
  commitTransaction(): SimEvent<TxnOutcome> {
    return this.transactional('commitTransaction').commit();
  }

  /** `abortTransaction()`: drops records not yet sent, waits for those in flight, then aborts. */
  abortTransaction(): SimEvent<TxnOutcome> {
    return this.transactional('abortTransaction').abort();
  }

  private transactional(method: string): TransactionManager {
    if (this.txn === null) throw new Error(`KafkaProducer.${method}: the producer has no transactionalId`);
    return this.txn;
  }

  /** Fails the records of the current transaction: all not yet settled (fenced) or only never-sent ones. */
  private failTransactionRecords(
    error: 'producer-fenced' | 'transaction-aborted',
    onlyUnsent: boolean,
  ): void {
    for (const tp of this.tps.values()) {
      const batches = [
        ...(tp.open === null ? [] : [tp.open]),
        ...tp.queue,
        ...(onlyUnsent ? [] : tp.sending),
      ];
      const failed = batches.filter((b) => !b.done && (!onlyUnsent || b.baseSeq < 0));
      if (failed.length === 0) continue;
      if (tp.open !== null && failed.includes(tp.open)) tp.open = null;
      tp.queue = tp.queue.filter((b) => !failed.includes(b));
      for (const b of failed) this.failBatch(b, error);
    }
    if (!onlyUnsent)
      for (const p of this.waiting.splice(0)) if (p.outcome === null) this.finish(p, { error });
  }

  /** Every record sent so far and what became of it, in send order. */
  fates(): RecordFate[] {
    return this.ledger.map((p) => ({
      recordId: p.recordId,
      topic: p.topic,
      partition: p.partition,
      status: p.outcome === null ? 'in-flight' : p.outcome.ok ? 'acked' : 'failed',
      error: p.outcome !== null && !p.outcome.ok ? p.outcome.error : null,
      offset: p.outcome?.ok === true ? p.outcome.offset : -1,
      sentAt: p.sentAt,
      settledAt: p.settledAt,
    }));
  }

  /** Sends a record; the event resolves with its outcome (never fails: errors are values). */
  send(record: ProducerRecord): SimEvent<ProduceOutcome> {
    const event = this.sim.event<ProduceOutcome>();
    const size = record.size ?? 100;
    if (!(size > 0) || size === Infinity)
      throw new Error(`KafkaProducer.send: size must be > 0, got ${size}`);
    const refused = this.txn?.checkSend() ?? null;
    const p: Pending = {
      recordId: `${this.node.address}#${this.nextRecord++}`,
      topic: record.topic,
      partition: -1,
      key: record.key ?? null,
      size,
      value: record.value,
      tombstone: record.tombstone === true,
      inTxn: this.txn !== null && refused === null,
      explicit: record.partition,
      sentAt: this.sim.now,
      event,
      outcome: null,
      settledAt: Number.NaN,
    };
    this.ledger.push(p);
    this.counts.records++;
    this.counts.inFlight++;
    this.meters.records.inc();
    if (refused !== null) {
      this.finish(p, { error: refused });
      return event;
    }
    // delivery.timeout.ms covers the wait for metadata too.
    this.node.setTimer(this.config.deliveryTimeoutMs, () => {
      if (p.outcome === null && p.partition < 0) {
        this.waiting.splice(this.waiting.indexOf(p), 1);
        this.finish(p, { error: 'delivery-timeout' });
      }
    });
    if (this.topics.has(p.topic)) this.route(p);
    else {
      this.waiting.push(p);
      this.refreshMetadata();
    }
    return event;
  }

  private route(p: Pending): void {
    const parts = this.topics.get(p.topic)!;
    const n = parts.length;
    let partition: number;
    if (p.explicit !== undefined) partition = p.explicit;
    else if (p.key !== null) partition = this.config.partitionFor?.(p.key, n) ?? partitionForKey(p.key, n);
    else partition = this.stickyFor(p.topic, n).partition();
    if (!Number.isInteger(partition) || partition < 0 || partition >= n)
      throw new Error(
        `KafkaProducer: partition ${partition} of topic '${p.topic}' does not exist (it has ${n})`,
      );
    p.partition = partition;
    const tp = this.tpOf(p.topic, partition);
    if (tp.open !== null && tp.open.bytes + p.size > this.config.batchSize) this.close(tp.open);
    if (tp.open === null) {
      const b: Batch = {
        tp,
        records: [],
        bytes: 0,
        createdAt: this.sim.now,
        baseSeq: -1,
        epoch: tp.epoch,
        attempts: 0,
        retryAt: 0,
        inFlight: false,
        closed: false,
        expired: false,
        done: false,
        attemptToken: 0,
        leader: '',
      };
      tp.open = b;
      this.node.setTimer(this.config.lingerMs, () => this.close(b));
      this.node.setTimer(this.config.deliveryTimeoutMs, () => this.expire(b));
    }
    const b = tp.open;
    b.records.push(p);
    b.bytes += p.size;
    if (b.bytes >= this.config.batchSize) this.close(b);
    // The sticky partition moves on once about batch.size bytes went to it and its batch is full.
    if (p.explicit === undefined && p.key === null)
      this.stickyFor(p.topic, n).onAppend(p.size, tp.open === null);
  }

  private stickyFor(topic: string, partitions: number): StickyPartitioner {
    let sticky = this.stickies.get(topic);
    if (sticky === undefined || sticky.partitions !== partitions) {
      // Its own stream, so unkeyed records never shift the retry jitter's draws.
      const rng = (this.stickyRng ??= this.sim.rng(`${this.node.address}/kafka-partitioner`));
      sticky = new StickyPartitioner({
        partitions,
        random: () => rng.next(),
        batchSize: this.config.batchSize,
      });
      this.stickies.set(topic, sticky);
    }
    return sticky;
  }

  private tpOf(topic: string, partition: number): TopicPartition {
    const key = tpKey(topic, partition);
    let tp = this.tps.get(key);
    if (tp === undefined) {
      tp = { topic, partition, open: null, queue: [], sending: new Set(), nextSeq: 0, epoch: 0 };
      this.tps.set(key, tp);
    }
    return tp;
  }

  /** The batch is ready (full, or its linger ran out): queue it. */
  private close(b: Batch): void {
    if (b.closed || b.done) return;
    b.closed = true;
    const tp = b.tp;
    if (tp.open === b) tp.open = null;
    tp.queue.push(b);
    // A sticky partition held back only by this batch being open may switch now.
    const sticky = this.stickies.get(tp.topic);
    if (sticky !== undefined && sticky.partition() === tp.partition) sticky.onAppend(0, true);
    this.drain();
  }

  private expire(b: Batch): void {
    if (b.done) return;
    if (b.inFlight) {
      b.expired = true; // fails when the response says it did not succeed
      return;
    }
    const tp = b.tp;
    if (tp.open === b) tp.open = null;
    tp.queue = tp.queue.filter((x) => x !== b);
    this.failBatch(b, 'delivery-timeout');
  }

  /** Sends what can be sent: each partition's queue in order, within the in-flight limit per broker. */
  private drain(): void {
    const now = this.sim.now;
    let wake = Infinity;
    let needMetadata = false;
    for (const tp of this.tps.values()) {
      while (tp.queue.length > 0) {
        const head = tp.queue[0]!;
        const meta = this.topics.get(tp.topic)?.[tp.partition];
        const leader = meta?.leader ?? null;
        if (leader === null) {
          needMetadata = true;
          break;
        }
        if (head.retryAt > now) {
          wake = Math.min(wake, head.retryAt);
          break;
        }
        if ((this.inflight.get(leader) ?? 0) >= this.config.maxInFlight) break;
        if (this.config.idempotent && this.producerId < 0) {
          // A transactional producer gets its id from initTransactions().
          if (this.txn === null) this.initProducerId();
          break;
        }
        if (this.txn !== null && !this.txn.partitionReady(tp.topic, tp.partition)) break;
        tp.queue.shift();
        this.sendBatch(head, leader);
      }
    }
    if (needMetadata) this.refreshLater();
    if (wake < Infinity && wake < this.drainTimer) {
      this.drainTimer = wake;
      this.node.setTimer(wake - now, () => {
        if (this.drainTimer === wake) this.drainTimer = Infinity;
        this.drain();
      });
    }
  }

  private sendBatch(b: Batch, leader: string): void {
    const cfg = this.config;
    const tp = b.tp;
    if (cfg.idempotent && b.baseSeq < 0) {
      b.baseSeq = tp.nextSeq;
      b.epoch = tp.epoch;
      tp.nextSeq += b.records.length;
    }
    const request: ProduceRequest = {
      api: 'produce',
      topic: tp.topic,
      partition: tp.partition,
      acks: cfg.acks,
      timeoutMs: cfg.requestTimeoutMs,
      batch: {
        producerId: cfg.idempotent ? this.producerId : -1,
        producerEpoch: this.txn !== null ? this.txn.epoch : cfg.idempotent ? b.epoch : -1,
        baseSequence: cfg.idempotent ? b.baseSeq : -1,
        records: b.records.map((r) => ({
          recordId: r.recordId,
          key: r.key,
          size: r.size,
          ...(r.value === undefined ? {} : { value: r.value }),
          ...(r.tombstone ? { tombstone: true } : {}),
        })),
        ...(this.txn !== null ? { transactional: true } : {}),
      },
    };
    const size = b.bytes + 61;
    this.counts.requests++;
    this.meters.requests.inc();
    if (b.attempts > 0) {
      this.counts.retries++;
      this.meters.retries.inc();
    }
    if (this.node.network.node(leader).state === 'down') {
      // A crashed broker's port refuses the connection: the client notices at once, refreshes
      // metadata and keeps the batch (no request was sent).
      this.refreshMetadata();
      this.requeue(b, true);
      return;
    }
    if (cfg.acks === 0) {
      // Fire and forget: the record counts as sent.
      this.node.send(leader, { kafka: 'produce', request }, { size });
      b.done = true;
      for (const r of b.records) this.finish(r, { offset: -1 });
      return;
    }
    b.inFlight = true;
    tp.sending.add(b);
    this.inflight.set(leader, (this.inflight.get(leader) ?? 0) + 1);
    this.watchBroker(leader);
    const attempt = ++b.attemptToken;
    b.leader = leader;
    this.rpc
      .call<ProduceResponse>(leader, request, { timeout: cfg.requestTimeoutMs, size })
      .onProcessed((ev) => {
        if (b.attemptToken !== attempt || !b.inFlight) return; // settled by a connection reset
        const res = ev.value as RpcResponse<ProduceResponse>;
        if (res.ok) this.rtt.set(leader, res.latency);
        this.settleAttempt(b, res);
      });
  }

  private settleAttempt(b: Batch, res: RpcResponse<ProduceResponse>): void {
    this.inflight.set(b.leader, (this.inflight.get(b.leader) ?? 1) - 1);
    b.inFlight = false;
    b.tp.sending.delete(b);
    if (b.done) return;
    this.onResponse(b, res);
    this.drain();
  }

  /**
   * When a broker process dies its OS resets the TCP connections: the client fails the requests in
   * flight to it at once (a disconnect) instead of waiting for request.timeout.ms. A partition or a
   * pause gives no such signal: those requests time out.
   */
  private watchBroker(address: string): void {
    if (this.watched.has(address)) return;
    this.watched.add(address);
    this.node.network.node(address).onCrash(() => {
      if (!this.node.isUp) return;
      // Data the broker wrote before dying still arrives ahead of the reset: wait one observed RTT.
      const incarnation = this.node.incarnation;
      this.node.setTimer(this.rtt.get(address) ?? 0, () => {
        if (this.node.incarnation === incarnation) this.resetConnection(address);
      });
    });
  }

  private resetConnection(address: string): void {
    for (const tp of this.tps.values()) {
      for (const b of [...tp.sending]) {
        if (b.leader !== address) continue;
        b.attemptToken++;
        this.settleAttempt(b, {
          ok: false,
          error: { kind: 'unavailable', message: `connection to ${address} reset` },
          latency: 0,
          request: undefined as never,
        });
      }
    }
  }

  private onResponse(b: Batch, res: RpcResponse<ProduceResponse>): void {
    if (res.ok && res.value.error === null) {
      if (res.value.duplicate) this.counts.duplicateAcks++;
      b.done = true;
      b.records.forEach((r, i) => {
        this.finish(r, { offset: res.value.baseOffset + i });
      });
      return;
    }
    const error: ProducerErrorKind = res.ok
      ? res.value.error!
      : res.error.kind === 'timeout'
        ? 'timeout'
        : 'unavailable';
    if (REFRESH_ON.has(error)) this.refreshMetadata();
    const tp = b.tp;
    if (this.config.idempotent && b.epoch < tp.epoch) {
      // Its partition's sequences were reset meanwhile: renumber it in the new epoch.
      b.baseSeq = -1;
      this.requeue(b, false);
      return;
    }
    if (b.expired || this.sim.now - b.createdAt >= this.config.deliveryTimeoutMs) {
      this.failBatch(b, 'delivery-timeout');
      return;
    }
    if (this.txn !== null && (error === 'invalid-producer-epoch' || error === 'producer-fenced')) {
      this.failBatch(b, 'producer-fenced');
      this.txn.fence();
      return;
    }
    if (
      error === 'invalid-producer-epoch' ||
      error === 'invalid-record' ||
      b.attempts >= this.config.retries ||
      (this.txn !== null && error === 'out-of-order-sequence' && this.isHeadOfLine(b))
    ) {
      this.failBatch(b, error);
      return;
    }
    if (error === 'out-of-order-sequence' && this.isHeadOfLine(b)) {
      // Nothing before it is pending: the leader lost earlier batches (e.g. an unclean election).
      // Reset this partition's sequences in a new epoch, as KIP-360 lets an idempotent producer do.
      tp.epoch++;
      tp.nextSeq = 0;
      b.baseSeq = -1;
      for (const q of tp.queue) q.baseSeq = -1;
    }
    this.requeue(b, true);
  }

  private isHeadOfLine(b: Batch): boolean {
    const tp = b.tp;
    for (const q of tp.queue) if (q.baseSeq >= 0 && q.baseSeq < b.baseSeq) return false;
    for (const q of tp.sending) if (q.baseSeq < b.baseSeq) return false;
    return true;
  }

  private requeue(b: Batch, backoff: boolean): void {
    if (backoff) {
      b.attempts++;
      b.retryAt = this.sim.now + this.backoff(b.attempts);
    }
    const q = b.tp.queue;
    if (!this.config.idempotent || b.baseSeq < 0) {
      q.unshift(b);
      return;
    }
    let i = 0;
    while (i < q.length && q[i]!.baseSeq >= 0 && q[i]!.baseSeq < b.baseSeq) i++;
    q.splice(i, 0, b);
  }

  /** Kafka's ExponentialBackoff: retry.backoff.ms * 2^(n-1), capped at retry.backoff.max.ms, ±20% jitter. */
  private backoff(attempt: number): number {
    const cfg = this.config;
    const term = Math.min(cfg.retryBackoffMaxMs, cfg.retryBackoffMs * 2 ** (attempt - 1));
    return term * (0.8 + 0.4 * this.rng.next());
  }

  private failBatch(b: Batch, error: ProducerErrorKind): void {
    b.done = true;
    for (const r of b.records) this.finish(r, { error });
  }

  private finish(p: Pending, result: { offset: number } | { error: ProducerErrorKind }): void {
    if (p.outcome !== null) return;
    this.counts.inFlight--;
    p.settledAt = this.sim.now;
    if ('offset' in result) {
      p.outcome = {
        ok: true,
        recordId: p.recordId,
        topic: p.topic,
        partition: p.partition,
        offset: result.offset,
      };
      this.counts.acked++;
      this.meters.acked.inc();
    } else {
      p.outcome = {
        ok: false,
        recordId: p.recordId,
        topic: p.topic,
        partition: p.partition,
        error: result.error,
      };
      this.counts.failed++;
      this.counts.failedBy[result.error] = (this.counts.failedBy[result.error] ?? 0) + 1;
      this.meters.failed.inc();
      this.sim.metrics.counter(this.node.address, `kafka.producer.errors.${result.error}`).inc();
    }
    p.event.succeed(p.outcome);
    if (this.txn !== null && p.inTxn && !(!p.outcome.ok && p.outcome.error === 'producer-crashed'))
      this.txn.settled(p.outcome.ok ? null : p.outcome.error);
  }

  private refreshLater(): void {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    this.node.setTimer(this.config.retryBackoffMs, () => {
      this.refreshQueued = false;
      this.refreshMetadata();
    });
  }

  /** Asks the next bootstrap broker for metadata. */
  private refreshMetadata(): void {
    if (this.refreshing) return;
    const to = this.nextBootstrap();
    if (to === undefined) {
      this.refreshLater();
      return;
    }
    this.refreshing = true;
    this.rpc
      .call<ClusterMetadata | null>(
        to,
        { api: 'metadata' },
        { timeout: this.config.requestTimeoutMs, size: 32 },
      )
      .onProcessed((ev) => {
        this.refreshing = false;
        const res = ev.value as RpcResponse<ClusterMetadata | null>;
        if (!res.ok || res.value === null) {
          this.refreshLater();
          return;
        }
        this.applyMetadata(res.value);
      });
  }

  /**
   * The next bootstrap broker, skipping crashed ones; undefined when every one is down. A connection
   * to a crashed broker is refused at once, so the client backs off and tries again rather than
   * waiting out request.timeout.ms.
   */
  private nextBootstrap(): string | undefined {
    const brokers = this.config.bootstrap;
    for (let i = 0; i < brokers.length; i++) {
      const to = brokers[this.bootstrapIndex++ % brokers.length]!;
      if (this.node.network.node(to).state !== 'down') return to;
    }
    return undefined;
  }

  private applyMetadata(image: ClusterMetadata): void {
    if (this.metadata !== null && image.version < this.metadata.version) return;
    this.metadata = image;
    this.topics.clear();
    for (const p of image.partitions) {
      let list = this.topics.get(p.topic);
      if (list === undefined) this.topics.set(p.topic, (list = []));
      list[p.partition] = p;
    }
    const waiting = this.waiting.splice(0);
    for (const p of waiting) {
      if (p.outcome !== null) continue;
      if (this.topics.has(p.topic)) this.route(p);
      else this.waiting.push(p);
    }
    if (this.waiting.length > 0) this.refreshLater();
    this.drain();
  }

  private initProducerId(): void {
    if (this.initializing) return;
    const to = this.nextBootstrap();
    if (to === undefined) {
      this.node.setTimer(this.config.retryBackoffMs, () => this.drain());
      return;
    }
    this.initializing = true;
    this.rpc
      .call<number>(to, { api: 'init-producer-id' }, { timeout: this.config.requestTimeoutMs })
      .onProcessed((ev) => {
        this.initializing = false;
        const res = ev.value as RpcResponse<number>;
        if (res.ok) this.producerId = res.value;
        if (res.ok) this.drain();
        else this.node.setTimer(this.config.retryBackoffMs, () => this.drain());
      });
  }
}
