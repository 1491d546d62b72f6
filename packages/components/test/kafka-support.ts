import { Network, Simulation } from '@dsim/core';
import { auditDelivery } from '../src/messaging/kafka/cluster/audit.js';
import type { KafkaClusterOptions } from '../src/messaging/kafka/cluster/config.js';
import { KafkaCluster } from '../src/messaging/kafka/cluster/kafka-cluster.js';
import { KafkaProducer } from '../src/messaging/kafka/producer/kafka-producer.js';
import type { KafkaProducerOptions } from '../src/messaging/kafka/producer/producer-options.js';

/** Test rig: 3 brokers b1 b2 b3, topic `t` (RF 3), a producer on `app`, constant 0.5 ms links. */
export function kafkaRig(
  options: {
    seed?: number;
    latency?: number;
    cluster?: Partial<KafkaClusterOptions>;
    producer?: Partial<KafkaProducerOptions>;
    partitions?: number;
  } = {},
) {
  const sim = new Simulation({ seed: options.seed ?? 1 });
  const net = new Network(sim, { defaults: { latency: options.latency ?? 0.5 } });
  const cluster = new KafkaCluster(net, {
    brokers: ['b1', 'b2', 'b3'],
    topics: [{ name: 't', partitions: options.partitions ?? 1, replicationFactor: 3 }],
    ...options.cluster,
  });
  const producer = new KafkaProducer(net.addNode('app'), {
    bootstrap: ['b1', 'b2', 'b3'],
    ...options.producer,
  });
  /** Sends one record every `everyMs` from `from` until `to` (absolute ms). */
  const load = (from: number, to: number, everyMs: number, size = 100) => {
    for (let t = from; t < to; t += everyMs)
      sim.scheduleAt(t, () => producer.send({ topic: 't', partition: 0, size }));
  };
  const audit = () => auditDelivery(cluster, [producer.fates()]);
  return { sim, net, cluster, producer, load, audit };
}
