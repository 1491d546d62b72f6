import {
  type Counter,
  type Gauge,
  type NetNode,
  type Reply,
  RpcEndpoint,
  type RpcRequest,
  type RpcResponse,
} from '@dsim/core';
import type { ClusterConfig, TopicConfig } from './config.js';
import { DiskQueue } from './disk.js';
import { runCleaner } from './log-cleaner.js';
import { PartitionLeader } from './partition-leader.js';
import { ReplicaFetcher } from './replica-fetcher.js';
import { MARKER_BYTES, ReplicaLog } from './replica-log.js';
import {
  type AlterPartitionResponse,
  type BrokerRequest,
  type ClusterMetadata,
  type EpochRequest,
  type EpochResponse,
  type FetchRequest,
  type FetchResponse,
  type HeartbeatResponse,
  type KafkaErrorCode,
  type PartitionMeta,
  type ProduceRequest,
  type ProduceResponse,
  tpKey,
  type WriteTxnMarkerRequest,
} from './types.js';

/** A partition this broker holds a replica of. */
interface Hosted {
  readonly topic: TopicConfig;
  readonly partition: number;
  /** On disk: survives crashes. */
  readonly log: ReplicaLog;
  meta: PartitionMeta | null;
  leader: PartitionLeader | null;
  fetcher: ReplicaFetcher | null;
}

interface PartitionGauges {
  hw: Gauge;
  leo: Gauge;
  isr: Gauge;
  lso: Gauge;
}

/** Broker-side counters, under the broker's address. */
export interface KafkaBrokerStats {
  produceRequests: number;
  producedRecords: number;
  duplicateBatches: number;
  errors: Record<string, number>;
  truncatedRecords: number;
  /** Transaction markers appended as leader. */
  markers: number;
  /** Records the log cleaner removed from this broker's compacted logs. */
  cleanedRecords: number;
}

/**
 * A Kafka broker on a node: hosts replica logs, leads or follows partitions as the controller's
 * metadata says, serves Produce (acks 0/1/all, min.insync.replicas, idempotent dedup), Fetch (replica
 * and consumer, `read_uncommitted` up to the HW or `read_committed` up to the last stable offset with
 * the aborted-transaction index; long-polling), OffsetsForLeaderEpoch, Metadata, InitProducerId and
 * WriteTxnMarkers, heartbeats to the controller, and runs the ISR-expiration, retention (`delete`
 * topics) and log-cleaner (`compact` topics, every `log.cleaner.backoff.ms`) tasks. Logs are on disk: a crash loses the
 * broker's in-memory state (leadership, fetchers, purgatory, queued appends), not its logs.
 *
 * Metrics under the broker's address: `kafka.produce.requests`, `kafka.produce.records`,
 * `kafka.produce.errors.<code>`, `kafka.duplicate-batches`, `kafka.truncated-records`,
 * `kafka.under-replicated-partitions`, `kafka.txn-markers`, `kafka.cleaner.records-removed`, and per
 * led partition `kafka.<topic>-<p>.hw`, `.leo`, `.isr`, `.lso` (last stable offset). Traces:
 * `@dsim.kafka.log-cleaned` (broker, topic, partition, cleanedUpTo, removed, tombstonesRemoved).
 *
 * @example
 * ```ts
 * const cluster = new KafkaCluster(net, { brokers: ['b1', 'b2', 'b3'], topics: [{ name: 't' }] });
 * cluster.broker('b1').leaderOf('t', 0)?.isr;
 * ```
 */
export class KafkaBroker {
  readonly rpc: RpcEndpoint<BrokerRequest, unknown>;
  readonly disk: DiskQueue;
  private readonly hosted = new Map<string, Hosted>();
  private metadataVersion = -1;
  private image: ClusterMetadata | null = null;
  private readonly counts: KafkaBrokerStats = {
    produceRequests: 0,
    producedRecords: 0,
    duplicateBatches: 0,
    errors: {},
    truncatedRecords: 0,
    markers: 0,
    cleanedRecords: 0,
  };
  private readonly meters: {
    requests: Counter;
    records: Counter;
    dups: Counter;
    truncated: Counter;
    urp: Gauge;
    markers: Counter;
    cleaned: Counter;
  };
  private readonly gauges = new Map<string, PartitionGauges>();

  constructor(
    readonly node: NetNode<any>,
    readonly config: ClusterConfig,
    initial: ClusterMetadata,
  ) {
    this.rpc = new RpcEndpoint<BrokerRequest, unknown>(node);
    this.disk = new DiskQueue(node, config.diskRequestTimeMs, config.diskThroughput);
    const m = node.network.sim.metrics;
    const id = node.address;
    this.meters = {
      requests: m.counter(id, 'kafka.produce.requests'),
      records: m.counter(id, 'kafka.produce.records'),
      dups: m.counter(id, 'kafka.duplicate-batches'),
      truncated: m.counter(id, 'kafka.truncated-records'),
      urp: m.gauge(id, 'kafka.under-replicated-partitions'),
      markers: m.counter(id, 'kafka.txn-markers'),
      cleaned: m.counter(id, 'kafka.cleaner.records-removed'),
    };
    this.rpc.serve((req, reply) => this.handle(req, reply));
    this.rpc.onMessage((message) => {
      const body = message.payload as { kafka?: string; image?: ClusterMetadata; request?: ProduceRequest };
      if (body?.kafka === 'metadata' && body.image !== undefined) this.applyMetadata(body.image);
      else if (body?.kafka === 'produce' && body.request !== undefined) this.produce(body.request, null);
    });
    node.onCrash(() => this.reset());
    node.onRestart(() => this.startTasks());
    // The first image as if replayed from the metadata log at startup.
    this.applyMetadata(initial);
    this.startTasks();
  }

  /** This broker's address (its broker id). */
  get id(): string {
    return this.node.address;
  }

  /** A copy of the broker's counters. */
  get stats(): KafkaBrokerStats {
    return { ...this.counts, errors: { ...this.counts.errors } };
  }

  /** The metadata version this broker has applied (-1 after a crash, until the next heartbeat). */
  get version(): number {
    return this.metadataVersion;
  }

  /** The replica log of a partition, if this broker holds a replica. */
  logOf(topic: string, partition: number): ReplicaLog | undefined {
    return this.hosted.get(tpKey(topic, partition))?.log;
  }

  /** The leader state, if this broker currently leads the partition. */
  leaderOf(topic: string, partition: number): PartitionLeader | undefined {
    return this.hosted.get(tpKey(topic, partition))?.leader ?? undefined;
  }

  /** The fetcher, if this broker currently follows the partition. */
  fetcherOf(topic: string, partition: number): ReplicaFetcher | undefined {
    return this.hosted.get(tpKey(topic, partition))?.fetcher ?? undefined;
  }

  private reset(): void {
    for (const h of this.hosted.values()) {
      h.fetcher?.stop();
      h.fetcher = null;
      h.leader = null;
      h.meta = null;
    }
    this.metadataVersion = -1;
    this.image = null;
    this.refreshUrp();
  }

  private startTasks(): void {
    const cfg = this.config;
    const heartbeat = (): void => {
      this.rpc
        .call<HeartbeatResponse>(
          cfg.controller,
          { api: 'heartbeat', broker: this.id, metadataVersion: this.metadataVersion },
          { timeout: cfg.heartbeatIntervalMs, size: 32 },
        )
        .onProcessed((ev) => {
          const res = ev.value as RpcResponse<HeartbeatResponse>;
          if (res.ok && res.value.metadata !== null) this.applyMetadata(res.value.metadata);
        });
      this.node.setTimer(cfg.heartbeatIntervalMs, heartbeat);
    };
    heartbeat();
    const isr = (): void => {
      for (const h of this.hosted.values()) h.leader?.checkIsr();
      this.node.setTimer(cfg.isrCheckIntervalMs, isr);
    };
    this.node.setTimer(cfg.isrCheckIntervalMs, isr);
    const retention = (): void => {
      const now = this.node.network.sim.now;
      for (const h of this.hosted.values())
        if (h.topic.cleanupPolicy !== 'compact') h.log.applyRetention(now, h.topic);
      this.node.setTimer(cfg.retentionCheckIntervalMs, retention);
    };
    this.node.setTimer(cfg.retentionCheckIntervalMs, retention);
    if ([...cfg.topics.values()].some((t) => t.cleanupPolicy !== 'delete')) {
      const clean = (): void => {
        this.cleanLogs();
        this.node.setTimer(cfg.logCleanerBackoffMs, clean);
      };
      this.node.setTimer(cfg.logCleanerBackoffMs, clean);
    }
  }

  /** One pass of the log cleaner over this broker's compacted logs (leader and follower replicas alike). */
  private cleanLogs(): void {
    const sim = this.node.network.sim;
    const hosted = [...this.hosted.values()];
    for (const result of runCleaner(hosted, sim.now)) {
      this.counts.cleanedRecords += result.removed;
      this.meters.cleaned.inc(result.removed);
      this.trace('@dsim.kafka.log-cleaned', { broker: this.id, ...result });
    }
    for (const h of hosted) if (h.leader !== null) this.updateGauges(h);
  }

  /** Applies a newer metadata image: become leader or follower where the leader or epoch changed. */
  private applyMetadata(image: ClusterMetadata): void {
    if (image.version <= this.metadataVersion) return;
    this.metadataVersion = image.version;
    this.image = image;
    for (const meta of image.partitions) {
      if (!meta.replicas.includes(this.id)) continue;
      const h = this.host(meta);
      h.meta = meta;
      if (meta.leader === this.id) {
        if (h.leader !== null && h.leader.epoch === meta.leaderEpoch) {
          h.leader.applyIsr(meta.isr, meta.partitionEpoch);
          this.updateGauges(h);
          continue;
        }
        this.becomeLeader(h, meta);
      } else {
        if (h.leader !== null) {
          h.leader.resign();
          h.leader = null;
        }
        if (
          h.fetcher !== null &&
          h.fetcher.leader === meta.leader &&
          h.fetcher.leaderEpoch === meta.leaderEpoch
        )
          continue;
        h.fetcher?.stop();
        h.fetcher = null;
        if (meta.leader !== null) {
          h.fetcher = new ReplicaFetcher(
            this.fetcherHost(h),
            meta.topic,
            meta.partition,
            h.log,
            meta.leader,
            meta.leaderEpoch,
          );
          h.fetcher.start();
        }
      }
    }
    this.refreshUrp();
  }

  private host(meta: PartitionMeta): Hosted {
    const key = tpKey(meta.topic, meta.partition);
    let h = this.hosted.get(key);
    if (h === undefined) {
      const topic = this.config.topics.get(meta.topic)!;
      h = {
        topic,
        partition: meta.partition,
        log: new ReplicaLog(topic.segmentBytes),
        meta: null,
        leader: null,
        fetcher: null,
      };
      this.hosted.set(key, h);
    }
    return h;
  }

  private becomeLeader(h: Hosted, meta: PartitionMeta): void {
    h.fetcher?.stop();
    h.fetcher = null;
    h.leader?.resign();
    h.log.assignEpoch(meta.leaderEpoch, h.log.logEndOffset);
    const sim = this.node.network.sim;
    h.leader = new PartitionLeader(this.id, meta, h.log, h.topic, this.config.replicaLagTimeMaxMs, {
      now: () => sim.now,
      setTimer: (ms, fn) => this.node.setTimer(ms, fn),
      alterPartition: (isr, leaderEpoch, partitionEpoch, done) => {
        this.rpc
          .call<AlterPartitionResponse>(
            this.config.controller,
            {
              api: 'alter-partition',
              broker: this.id,
              topic: meta.topic,
              partition: meta.partition,
              leaderEpoch,
              partitionEpoch,
              isr,
            },
            { timeout: this.config.replicaSocketTimeoutMs, size: 64 },
          )
          .onProcessed((ev) => {
            const res = ev.value as RpcResponse<AlterPartitionResponse>;
            done(res.ok && res.value.error === null ? res.value.state : null);
            this.updateGauges(h);
            this.refreshUrp();
          });
      },
      onHighWatermark: () => this.updateGauges(h),
      trace: (type, fields) => this.trace(type, fields),
    });
    h.leader.maybeAdvanceHw();
    this.updateGauges(h);
  }

  private fetcherHost(h: Hosted) {
    return {
      self: this.id,
      rpc: this.rpc,
      disk: this.disk,
      config: this.config,
      setTimer: (ms: number, fn: () => void) => {
        this.node.setTimer(ms, fn);
      },
      onTruncate: (removed: number, to: number, rule: string) => {
        this.counts.truncatedRecords += removed;
        this.meters.truncated.inc(removed);
        this.trace('@dsim.kafka.truncation', {
          broker: this.id,
          topic: h.topic.name,
          partition: h.partition,
          to,
          removed,
          rule,
        });
      },
      onProgress: () => {},
    };
  }

  private handle(req: RpcRequest<BrokerRequest>, reply: Reply<unknown>): void {
    const body = req.payload;
    switch (body.api) {
      case 'produce':
        this.produce(body, reply);
        return;
      case 'fetch':
        this.fetch(body, reply);
        return;
      case 'offsets-for-leader-epoch':
        reply.ok(this.epochEnd(body), { size: 32 });
        return;
      case 'metadata':
        reply.ok(this.image, { size: 64 * this.hosted.size });
        return;
      case 'write-txn-marker':
        this.writeMarker(body, reply);
        return;
      case 'init-producer-id':
        // The coordinator asks the controller for an id block; here one id at a time.
        this.rpc
          .call<number>(
            this.config.controller,
            { api: 'allocate-producer-id' },
            { timeout: this.config.replicaSocketTimeoutMs },
          )
          .onProcessed((ev) => {
            const res = ev.value as RpcResponse<number>;
            if (res.ok) reply.ok(res.value);
            else reply.error('unavailable', 'controller unreachable');
          });
        return;
    }
  }

  /** Handles a produce request; `reply` is null for acks=0 (no response is sent). */
  private produce(req: ProduceRequest, reply: Reply<unknown> | null): void {
    const key = tpKey(req.topic, req.partition);
    const respond = (error: KafkaErrorCode | null, baseOffset = -1, duplicate = false): void => {
      if (error !== null) {
        this.counts.errors[error] = (this.counts.errors[error] ?? 0) + 1;
        this.node.network.sim.metrics.counter(this.id, `kafka.produce.errors.${error}`).inc();
      }
      const res: ProduceResponse = { error, baseOffset: error === null ? baseOffset : -1, duplicate };
      reply?.ok(res, { size: 32 });
    };
    this.counts.produceRequests++;
    this.meters.requests.inc();
    const h = this.hosted.get(key);
    const leader = h?.leader ?? null;
    if (h === undefined || leader === null) {
      respond(
        h === undefined && this.image !== null && !this.knows(req.topic, req.partition)
          ? 'unknown-topic-or-partition'
          : 'not-leader-or-follower',
      );
      return;
    }
    const batch = req.batch;
    // Kafka's LogValidator: a compacted topic refuses records without a key (InvalidRecordException).
    if (h.topic.cleanupPolicy !== 'delete' && batch.records.some((r) => r.key === null)) {
      respond('invalid-record');
      return;
    }
    let bytes = this.config.batchOverhead;
    for (const r of batch.records) bytes += r.size;
    this.disk.write(bytes, () => {
      if (h.leader !== leader) {
        respond('not-leader-or-follower');
        return;
      }
      // Kafka checks min.insync.replicas at append time, under the partition's lock.
      if (req.acks === -1 && leader.underMinIsr) {
        respond('not-enough-replicas');
        return;
      }
      const check = h.log.checkSequence(batch);
      let base: number;
      let duplicate = false;
      if (check.kind === 'duplicate') {
        base = check.baseOffset;
        duplicate = true;
        this.counts.duplicateBatches++;
        this.meters.dups.inc();
      } else if (check.kind !== 'append') {
        respond(check.kind);
        return;
      } else {
        base = h.log.appendAsLeader(batch, leader.epoch, this.node.network.sim.now);
        this.counts.producedRecords += batch.records.length;
        this.meters.records.inc(batch.records.length);
        leader.onAppend();
        this.updateGauges(h);
      }
      if (req.acks !== -1) {
        respond(null, base, duplicate);
        return;
      }
      leader.awaitHw(base + batch.records.length, req.timeoutMs, (error) => respond(error, base, duplicate));
    });
  }

  /**
   * WriteTxnMarkers: append a COMMIT or ABORT control record for a producer as leader, and answer once
   * it is below the high watermark (the coordinator writes markers with acks=all).
   */
  private writeMarker(req: WriteTxnMarkerRequest, reply: Reply<unknown>): void {
    const h = this.hosted.get(tpKey(req.topic, req.partition));
    const leader = h?.leader ?? null;
    const respond = (error: KafkaErrorCode | null): void => {
      reply.ok({ error }, { size: 16 });
    };
    if (h === undefined || leader === null) {
      respond('not-leader-or-follower');
      return;
    }
    this.disk.write(MARKER_BYTES, () => {
      if (h.leader !== leader) {
        respond('not-leader-or-follower');
        return;
      }
      if (leader.underMinIsr) {
        respond('not-enough-replicas');
        return;
      }
      const sim = this.node.network.sim;
      const offset = h.log.appendMarker(req.producerId, req.producerEpoch, req.result, leader.epoch, sim.now);
      this.counts.markers++;
      this.meters.markers.inc();
      leader.onAppend();
      this.updateGauges(h);
      leader.awaitHw(offset + 1, req.timeoutMs, respond);
    });
  }

  private knows(topic: string, partition: number): boolean {
    return this.image?.partitions.some((p) => p.topic === topic && p.partition === partition) ?? false;
  }

  private fetch(req: FetchRequest, reply: Reply<unknown>): void {
    const h = this.hosted.get(tpKey(req.topic, req.partition));
    const leader = h?.leader ?? null;
    const fail = (error: KafkaErrorCode): void => {
      const log = h?.log;
      const res: FetchResponse = {
        error,
        records: [],
        highWatermark: log?.highWatermark ?? -1,
        logEndOffset: log?.logEndOffset ?? -1,
        logStartOffset: log?.logStartOffset ?? -1,
      };
      reply.ok(res, { size: 32 });
    };
    if (h === undefined || leader === null) {
      fail('not-leader-or-follower');
      return;
    }
    if (req.leaderEpoch >= 0 && req.leaderEpoch < leader.epoch) {
      fail('fenced-leader-epoch');
      return;
    }
    if (req.leaderEpoch > leader.epoch) {
      fail('unknown-leader-epoch');
      return;
    }
    const log = h.log;
    const consumer = req.replicaId === null;
    if (req.fetchOffset > log.logEndOffset || req.fetchOffset < log.logStartOffset) {
      fail('offset-out-of-range');
      return;
    }
    if (!consumer) leader.onReplicaFetch(req.replicaId, req.fetchOffset);
    const committed = consumer && req.isolationLevel === 'read_committed';
    // Consumers read below the HW; read_committed ones below the last stable offset.
    const limit = (): number =>
      !consumer ? log.logEndOffset : committed ? log.lastStableOffset : log.highWatermark;
    const respond = (): void => {
      if (h.leader !== leader) {
        fail('not-leader-or-follower');
        return;
      }
      const upTo = limit();
      const records = log.read(req.fetchOffset, upTo, req.maxBytes);
      let bytes = 32;
      for (const r of records) bytes += r.size;
      const lastStableOffset = log.lastStableOffset;
      const last = records[records.length - 1];
      const res: FetchResponse = {
        error: null,
        records,
        highWatermark: log.highWatermark,
        logEndOffset: log.logEndOffset,
        logStartOffset: log.logStartOffset,
        lastStableOffset,
        ...(committed && last !== undefined
          ? { abortedTransactions: log.abortedTransactions(req.fetchOffset, last.offset + 1) }
          : {}),
      };
      reply.ok(res, { size: bytes });
    };
    const available = limit() > req.fetchOffset;
    if (available || req.maxWaitMs <= 0) respond();
    else leader.park(consumer, req.maxWaitMs, respond);
  }

  private epochEnd(req: EpochRequest): EpochResponse {
    const h = this.hosted.get(tpKey(req.topic, req.partition));
    const leader = h?.leader ?? null;
    if (h === undefined || leader === null)
      return { error: 'not-leader-or-follower', epoch: -1, endOffset: -1 };
    if (req.currentLeaderEpoch < leader.epoch)
      return { error: 'fenced-leader-epoch', epoch: -1, endOffset: -1 };
    if (req.currentLeaderEpoch > leader.epoch)
      return { error: 'unknown-leader-epoch', epoch: -1, endOffset: -1 };
    return { error: null, ...h.log.endOffsetFor(req.requestedEpoch) };
  }

  private updateGauges(h: Hosted): void {
    const key = tpKey(h.topic.name, h.partition);
    let g = this.gauges.get(key);
    if (g === undefined) {
      const m = this.node.network.sim.metrics;
      g = {
        hw: m.gauge(this.id, `kafka.${key}.hw`),
        leo: m.gauge(this.id, `kafka.${key}.leo`),
        isr: m.gauge(this.id, `kafka.${key}.isr`),
        lso: m.gauge(this.id, `kafka.${key}.lso`),
      };
      this.gauges.set(key, g);
    }
    g.hw.set(h.log.highWatermark);
    g.leo.set(h.log.logEndOffset);
    g.lso.set(h.log.lastStableOffset);
    if (h.leader !== null) g.isr.set(h.leader.isr.length);
  }

  private refreshUrp(): void {
    let urp = 0;
    for (const h of this.hosted.values()) {
      if (h.leader !== null && h.meta !== null && h.leader.isr.length < h.meta.replicas.length) urp++;
      if (h.leader !== null) this.updateGauges(h);
    }
    this.meters.urp.set(urp);
  }

  private trace(type: string, fields: Record<string, unknown>): void {
    const sim = this.node.network.sim;
    if (sim.tracing) sim.emit(type, fields);
  }
}
