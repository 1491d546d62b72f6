import type { Network } from '@dsim/core';
import { KafkaBroker } from './broker.js';
import { type ClusterConfig, type KafkaClusterOptions, resolveClusterConfig } from './config.js';
import { KafkaController } from './controller.js';
import type { TransactionCoordinator } from './transaction-coordinator.js';
import type { LogRecord, PartitionMeta } from './types.js';

/**
 * A Kafka cluster on a {@link Network}: a controller node and one {@link KafkaBroker} per address, with
 * the topics created and every partition's preferred replica leading at epoch 0. Faults are the
 * network's: `net.crash('b1')`, `net.partition(['b1'], ['b2', 'b3'])`, `net.pause('b2')`.
 *
 * @example
 * ```ts
 * const net = new Network(sim, { defaults: { latency: 0.5 } });
 * const cluster = new KafkaCluster(net, {
 *   brokers: ['b1', 'b2', 'b3'],
 *   topics: [{ name: 'orders', partitions: 3, replicationFactor: 3, minInsyncReplicas: 2 }],
 * });
 * const producer = new KafkaProducer(net.addNode('app'), { bootstrap: cluster.brokerIds });
 * ```
 */
export class KafkaCluster {
  readonly config: ClusterConfig;
  readonly controller: KafkaController;
  private readonly brokers = new Map<string, KafkaBroker>();

  /** @param options - see {@link KafkaClusterOptions}; unknown keys and bad values throw INVALID_ARGUMENT */
  constructor(
    readonly net: Network,
    options: KafkaClusterOptions,
  ) {
    this.config = resolveClusterConfig(options);
    this.controller = new KafkaController(net.addNode(this.config.controller), this.config);
    const image = this.controller.metadata();
    // Every node first: a broker starts fetching from its leaders as it is built, and a request to
    // an address not yet on the network would be dropped (a follower then idles for
    // replica.socket.timeout.ms before it asks again).
    const nodes = this.config.brokers.map((b) => net.addNode(b));
    this.config.brokers.forEach((b, i) => {
      this.brokers.set(b, new KafkaBroker(nodes[i]!, this.config, image));
    });
  }

  /** The transaction coordinator (a logical component on the controller's node). */
  get transactions(): TransactionCoordinator {
    return this.controller.transactions;
  }

  /**
   * The current leader's last stable offset of a partition (what `read_committed` consumers read up
   * to), or -1 while the partition has no leader.
   *
   * @example
   * ```ts
   * cluster.lastStableOffset('orders', 0) <= cluster.broker('b1').logOf('orders', 0)!.highWatermark; // true
   * ```
   */
  lastStableOffset(topic: string, partition: number): number {
    const meta = this.partition(topic, partition);
    if (meta.leader === null) return -1;
    return this.broker(meta.leader).logOf(topic, partition)?.lastStableOffset ?? -1;
  }

  /** Broker addresses, in the order given. */
  get brokerIds(): string[] {
    return [...this.brokers.keys()];
  }

  /** The broker at `address`. */
  broker(address: string): KafkaBroker {
    const b = this.brokers.get(address);
    if (b === undefined) throw new Error(`KafkaCluster: no broker '${address}'`);
    return b;
  }

  /** The controller's view of a partition. */
  partition(topic: string, partition: number): PartitionMeta {
    return this.controller.partition(topic, partition);
  }

  /**
   * The records a consumer can see: the current leader's log below its high watermark, or null while
   * the partition is offline (no leader) or the elected leader has not yet taken over.
   */
  committed(topic: string, partition: number): LogRecord[] | null {
    const meta = this.partition(topic, partition);
    if (meta.leader === null) return null;
    const leader = this.broker(meta.leader);
    if (leader.leaderOf(topic, partition)?.epoch !== meta.leaderEpoch) return null;
    const log = leader.logOf(topic, partition)!;
    return log.read(log.logStartOffset, log.highWatermark, Infinity);
  }

  /**
   * Reads up to `maxRecords` committed records from `offset` (what a consumer's fetch would return, without
   * the network): only records below the leader's high watermark are visible.
   *
   * @example
   * ```ts
   * const records = cluster.read('orders', 0, 0, 500);
   * ```
   */
  read(topic: string, partition: number, offset: number, maxRecords: number): LogRecord[] {
    const meta = this.partition(topic, partition);
    if (meta.leader === null) return [];
    const leader = this.broker(meta.leader);
    if (leader.leaderOf(topic, partition) === undefined) return [];
    const log = leader.logOf(topic, partition)!;
    return log.read(offset, log.highWatermark, Infinity, maxRecords);
  }

  /**
   * Checks that no leader's high watermark is ahead of the LEO of any replica in the ISR (the controller's
   * ISR plus the leader's pending expansion). Returns a description of each violation (empty: none).
   */
  checkHighWatermarks(): string[] {
    const out: string[] = [];
    for (const meta of this.controller.partitions) {
      if (meta.leader === null) continue;
      const leader = this.broker(meta.leader).leaderOf(meta.topic, meta.partition);
      if (leader === undefined || leader.epoch !== meta.leaderEpoch) continue;
      const hw = leader.log.highWatermark;
      for (const r of new Set([...meta.isr, ...leader.maximalIsr])) {
        const leo = this.broker(r).logOf(meta.topic, meta.partition)?.logEndOffset ?? 0;
        if (leo < hw)
          out.push(
            `${meta.topic}-${meta.partition}: HW ${hw} on ${meta.leader} > LEO ${leo} of ISR member ${r}`,
          );
      }
    }
    return out;
  }
}
