import type { Counter, NetNode, NodeTimer, Reply, RpcRequest } from '@dsim/core';
import { RpcEndpoint } from '@dsim/core';
import type { ClusterConfig } from './config.js';
import { TransactionCoordinator } from './transaction-coordinator.js';
import {
  type AlterPartitionResponse,
  type ClusterMetadata,
  type ControllerRequest,
  type HeartbeatResponse,
  type PartitionMeta,
  tpKey,
} from './types.js';

/** A broker's session as the controller sees it. */
interface Session {
  alive: boolean;
  expiry: NodeTimer | null;
}

type MutableMeta = { -readonly [K in keyof PartitionMeta]: PartitionMeta[K] };

/**
 * The cluster controller: a logical stand-in for the KRaft quorum (the Raft log, controller failover
 * and metadata snapshots are not modelled; it never fails). It runs on its own node, so heartbeats and
 * metadata travel over the network and a partition between a broker and the controller fences the
 * broker, as in Kafka.
 *
 * It fences a broker whose heartbeats stop for `broker.session.timeout.ms` (so failover takes about
 * the session timeout), removes fenced brokers from ISRs, elects leaders (clean: the first replica in
 * assignment order that is alive and in the ISR; unclean, when enabled and no ISR member is alive: the
 * first live replica), commits leaders' AlterPartition requests (ISR shrink and expand), and pushes
 * every change to all brokers; heartbeat responses carry the metadata to a broker that missed a push.
 * It also hosts the {@link TransactionCoordinator} (`controller.transactions`), whose address the
 * metadata carries so that transactional producers find it (FindCoordinator folded into Metadata).
 *
 * @example
 * ```ts
 * const meta = cluster.controller.partition('orders', 0);
 * sim.log(`leader ${meta.leader} epoch ${meta.leaderEpoch} isr ${meta.isr.join(',')}`);
 * ```
 */
export class KafkaController {
  readonly rpc: RpcEndpoint<ControllerRequest, unknown>;
  private readonly parts = new Map<string, MutableMeta>();
  private readonly sessions = new Map<string, Session>();
  private version = 0;
  private nextProducerId = 1000;
  private readonly elections: Counter;
  private readonly uncleanElections: Counter;
  private readonly offlineSince = new Map<string, number>();
  /** The transaction coordinator, a logical component on the controller's node. */
  readonly transactions: TransactionCoordinator;

  constructor(
    readonly node: NetNode<any>,
    private readonly config: ClusterConfig,
  ) {
    this.rpc = new RpcEndpoint<ControllerRequest, unknown>(node);
    const metrics = node.network.sim.metrics;
    this.elections = metrics.counter(node.address, 'kafka.leader-elections');
    this.uncleanElections = metrics.counter(node.address, 'kafka.unclean-leader-elections');
    for (const b of config.brokers) this.sessions.set(b, { alive: true, expiry: null });
    for (const topic of config.topics.values()) {
      const n = config.brokers.length;
      for (let p = 0; p < topic.partitions; p++) {
        const replicas = Array.from(
          { length: topic.replicationFactor },
          (_, i) => config.brokers[(p + i) % n]!,
        );
        this.parts.set(tpKey(topic.name, p), {
          topic: topic.name,
          partition: p,
          replicas,
          leader: replicas[0]!,
          leaderEpoch: 0,
          isr: [...replicas],
          partitionEpoch: 0,
        });
      }
    }
    // Brokers start registered: their first session deadline is one session timeout away.
    for (const b of config.brokers) this.armSession(b);
    this.transactions = new TransactionCoordinator({
      node,
      rpc: this.rpc,
      config,
      allocateProducerId: () => this.nextProducerId++,
      leaderOf: (topic, partition) => this.parts.get(tpKey(topic, partition))?.leader ?? null,
    });
    this.rpc.serve((req, reply) => this.handle(req, reply));
  }

  /** The current state of a partition (a copy). */
  partition(topic: string, partition: number): PartitionMeta {
    const meta = this.parts.get(tpKey(topic, partition));
    if (meta === undefined) throw new Error(`unknown partition ${tpKey(topic, partition)}`);
    return { ...meta, replicas: [...meta.replicas], isr: [...meta.isr] };
  }

  /** Every partition's state. */
  get partitions(): PartitionMeta[] {
    return [...this.parts.values()].map((m) => ({ ...m, replicas: [...m.replicas], isr: [...m.isr] }));
  }

  /** Brokers with a live session. */
  get liveBrokers(): string[] {
    return [...this.sessions].filter(([, s]) => s.alive).map(([b]) => b);
  }

  /** The metadata image brokers receive. */
  metadata(): ClusterMetadata {
    return {
      version: this.version,
      partitions: this.partitions,
      liveBrokers: this.liveBrokers,
      transactionCoordinator: this.node.address,
    };
  }

  private handle(req: RpcRequest<ControllerRequest>, reply: Reply<unknown>): void {
    const body = req.payload;
    switch (body.api) {
      case 'heartbeat': {
        this.heartbeat(body.broker);
        const res: HeartbeatResponse = {
          metadata: body.metadataVersion === this.version ? null : this.metadata(),
        };
        reply.ok(res, { size: res.metadata === null ? 16 : 64 * this.parts.size });
        return;
      }
      case 'alter-partition':
        reply.ok(this.alterPartition(body));
        return;
      case 'allocate-producer-id':
        reply.ok(this.nextProducerId++);
        return;
      case 'init-producer-id-txn':
      case 'add-partitions-to-txn':
      case 'add-offsets-to-txn':
      case 'end-txn':
        reply.ok(this.transactions.handle(body), { size: 32 });
        return;
    }
  }

  private heartbeat(broker: string): void {
    const session = this.sessions.get(broker);
    if (session === undefined) return;
    this.armSession(broker);
    if (session.alive) return;
    session.alive = true;
    this.trace('@dsim.kafka.broker-unfenced', { broker });
    // A returning broker can lead partitions that went offline while every ISR member was away.
    let changed = false;
    for (const meta of this.parts.values()) {
      if (meta.leader !== null || !meta.replicas.includes(broker)) continue;
      if (meta.isr.includes(broker)) changed = this.elect(meta, broker, true) || changed;
      else if (this.unclean(meta)) changed = this.elect(meta, broker, false) || changed;
    }
    this.publish(changed);
  }

  private armSession(broker: string): void {
    const session = this.sessions.get(broker)!;
    session.expiry?.cancel();
    session.expiry = this.node.setTimer(this.config.sessionTimeoutMs, () => this.fence(broker));
  }

  /** Session lost: fence the broker, drop it from ISRs, move its leaderships. */
  private fence(broker: string): void {
    const session = this.sessions.get(broker)!;
    session.expiry = null;
    if (!session.alive) return;
    session.alive = false;
    this.trace('@dsim.kafka.broker-fenced', { broker });
    for (const meta of this.parts.values()) {
      const wasLeader = meta.leader === broker;
      // KRaft keeps the last ISR member in the ISR, so it can come back as a clean leader.
      if (meta.isr.includes(broker) && meta.isr.length > 1) {
        meta.isr = meta.isr.filter((b) => b !== broker);
        meta.partitionEpoch++;
        this.trace('@dsim.kafka.isr-shrink', {
          ...this.tp(meta),
          isr: meta.isr,
          removed: [broker],
          by: 'controller',
        });
      }
      if (wasLeader) this.electAfterLoss(meta);
    }
    this.publish(true);
  }

  private electAfterLoss(meta: MutableMeta): void {
    const clean = meta.replicas.find((b) => b !== meta.leader && this.alive(b) && meta.isr.includes(b));
    if (clean !== undefined) {
      this.elect(meta, clean, true);
      return;
    }
    const dirty = this.unclean(meta)
      ? meta.replicas.find((b) => b !== meta.leader && this.alive(b))
      : undefined;
    if (dirty !== undefined) {
      this.elect(meta, dirty, false);
      return;
    }
    meta.leader = null;
    meta.leaderEpoch++;
    meta.partitionEpoch++;
    this.offlineSince.set(tpKey(meta.topic, meta.partition), this.node.network.sim.now);
    this.trace('@dsim.kafka.partition-offline', { ...this.tp(meta), epoch: meta.leaderEpoch, isr: meta.isr });
  }

  private elect(meta: MutableMeta, leader: string, clean: boolean): boolean {
    meta.leader = leader;
    meta.leaderEpoch++;
    meta.partitionEpoch++;
    if (!clean) meta.isr = [leader];
    this.elections.inc();
    if (!clean) this.uncleanElections.inc();
    const key = tpKey(meta.topic, meta.partition);
    const since = this.offlineSince.get(key);
    this.offlineSince.delete(key);
    this.trace('@dsim.kafka.leader-elected', {
      ...this.tp(meta),
      leader,
      epoch: meta.leaderEpoch,
      clean,
      isr: meta.isr,
      offlineMs: since === undefined ? 0 : this.node.network.sim.now - since,
    });
    return true;
  }

  private alterPartition(
    req: Extract<ControllerRequest, { api: 'alter-partition' }>,
  ): AlterPartitionResponse {
    const meta = this.parts.get(tpKey(req.topic, req.partition));
    if (meta === undefined || meta.leader !== req.broker || meta.leaderEpoch !== req.leaderEpoch)
      return { error: 'fenced-leader-epoch', state: null };
    if (meta.partitionEpoch !== req.partitionEpoch) return { error: 'invalid-update-version', state: null };
    const added = req.isr.filter((b) => !meta.isr.includes(b));
    if (added.some((b) => !this.alive(b)) || !req.isr.includes(req.broker))
      return { error: 'ineligible-replica', state: null };
    const removed = meta.isr.filter((b) => !req.isr.includes(b));
    meta.isr = meta.replicas.filter((b) => req.isr.includes(b));
    meta.partitionEpoch++;
    if (removed.length > 0)
      this.trace('@dsim.kafka.isr-shrink', { ...this.tp(meta), isr: meta.isr, removed, by: 'leader' });
    if (added.length > 0) this.trace('@dsim.kafka.isr-expand', { ...this.tp(meta), isr: meta.isr, added });
    this.publish(true);
    return { error: null, state: { ...meta, isr: [...meta.isr] } };
  }

  private unclean(meta: PartitionMeta): boolean {
    return this.config.topics.get(meta.topic)!.uncleanLeaderElection;
  }

  private alive(broker: string): boolean {
    return this.sessions.get(broker)?.alive === true;
  }

  /** Pushes the new image to every broker (a fenced one gets it too; a crashed one drops it). */
  private publish(changed: boolean): void {
    if (!changed) return;
    this.version++;
    const image = this.metadata();
    for (const b of this.config.brokers)
      this.node.send(b, { kafka: 'metadata', image }, { size: 64 * this.parts.size });
  }

  private tp(meta: PartitionMeta): { topic: string; partition: number } {
    return { topic: meta.topic, partition: meta.partition };
  }

  private trace(type: string, fields: Record<string, unknown>): void {
    const sim = this.node.network.sim;
    if (sim.tracing) sim.emit(type, fields);
  }
}
