import {
  ConsumerGroupMonitor,
  clusterRecordSource,
  type DownstreamCaller,
  GroupCoordinator,
  KafkaCluster,
  KafkaConsumer,
  KafkaProducer,
  type LogRecord,
  type RecordSource,
} from '@dsim/components';
import type { Network, RpcEndpoint, RpcError, Simulation } from '@dsim/core';
import { toDistribution } from './distributions.js';
import {
  type ConsumerDescription,
  KAFKA_DEFAULTS,
  type KafkaDescription,
  kafkaAddresses,
} from './kafka-schema.js';

/** A kafka node, compiled. */
export interface KafkaHandle {
  readonly cluster: KafkaCluster;
  readonly coordinator: GroupCoordinator;
  readonly source: RecordSource;
  /** Broker addresses (a producer's bootstrap list). */
  readonly brokers: readonly string[];
}

/**
 * Builds a kafka node: a {@link KafkaCluster} of `brokers` brokers (`<name>-0` ...) with its controller
 * (`<name>-controller`), the described topics, and one {@link GroupCoordinator} (`<name>-coordinator`)
 * for every consumer group reading from it.
 */
export function buildKafka(net: Network, name: string, node: KafkaDescription): KafkaHandle {
  const addresses = kafkaAddresses(name, node);
  const brokers = addresses.slice(0, -2);
  const cluster = new KafkaCluster(net, {
    brokers,
    controller: `${name}-controller`,
    topics: Object.entries(node.topics)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([topic, t]) => ({
        name: topic,
        partitions: t.partitions ?? KAFKA_DEFAULTS.partitions,
        ...(t.replicationFactor === undefined ? {} : { replicationFactor: t.replicationFactor }),
        ...(t.minInsyncReplicas === undefined ? {} : { minInsyncReplicas: t.minInsyncReplicas }),
        ...(t.uncleanLeaderElection === undefined ? {} : { uncleanLeaderElection: t.uncleanLeaderElection }),
      })),
  });
  const source = clusterRecordSource(cluster);
  const coordinator = new GroupCoordinator(net.addNode(`${name}-coordinator`));
  coordinator.usePartitionCounts((topic) => source.partitionCount(topic));
  return { cluster, coordinator, source, brokers };
}

/**
 * A service's publishing call: each call sends one record (keyed by the request's payload) through a
 * {@link KafkaProducer} on the service's own endpoint, and answers when the producer settles it: ok
 * when acknowledged, the producer's error kind otherwise (`delivery-timeout`, `not-enough-replicas`,
 * ...). `onSettled` sees every record, for per-edge measurement.
 */
export function kafkaPublisher(
  sim: Simulation,
  endpoint: RpcEndpoint,
  kafka: KafkaHandle,
  topic: string,
  acks: 'all' | 0 | 1,
  onSettled?: (startedAt: number, ok: boolean, errorKind: string | undefined, latencyMs: number) => void,
): DownstreamCaller {
  const producer = new KafkaProducer(endpoint.node, { bootstrap: kafka.brokers, acks, endpoint });
  return {
    call(_to, payload) {
      const started = sim.now;
      const done = sim.event<{ ok: boolean; error?: RpcError }>();
      producer.send({ topic, key: String(payload) }).onProcessed((e) => {
        const r = e.value!;
        onSettled?.(started, r.ok, r.ok ? undefined : r.error, sim.now - started);
        done.succeed(r.ok ? { ok: true } : { ok: false, error: { kind: 'unavailable', message: r.error } });
      });
      return done;
    },
  };
}

/**
 * A consumer node: `instances` {@link KafkaConsumer}s (`<name>-0` ...) in one group, with a
 * {@link ConsumerGroupMonitor} (its lag gauge is `kafka.consumer-group.lag` under `group:<group>`).
 * `onRecord` sees every processed record with its end-to-end latency (from the leader's append).
 */
export function buildConsumers(
  sim: Simulation,
  net: Network,
  addresses: readonly string[],
  node: ConsumerDescription,
  kafka: KafkaHandle,
  group: string,
  onRecord?: (record: LogRecord, endToEndMs: number) => void,
): { consumers: KafkaConsumer[]; monitor: ConsumerGroupMonitor } {
  const monitor = new ConsumerGroupMonitor(sim, {
    groupId: group,
    topics: [node.topic],
    source: kafka.source,
    coordinator: kafka.coordinator,
  });
  const consumers = addresses.map(
    (a) =>
      new KafkaConsumer(net.node(a), {
        groupId: group,
        topics: [node.topic],
        coordinator: kafka.coordinator.node.address,
        source: kafka.source,
        monitor,
        autoOffsetReset: node.autoOffsetReset ?? 'earliest',
        ...(node.processingTime === undefined ? {} : { processingTime: toDistribution(node.processingTime) }),
        ...(node.maxPollRecords === undefined ? {} : { maxPollRecords: node.maxPollRecords }),
        ...(node.autoCommit === undefined ? {} : { enableAutoCommit: node.autoCommit }),
        ...(onRecord === undefined
          ? {}
          : { onRecord: (r: LogRecord) => onRecord(r, sim.now - r.appendedAt) }),
      }),
  );
  return { consumers, monitor };
}
