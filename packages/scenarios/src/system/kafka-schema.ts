import { z } from 'zod';
import { distributionSchema, durationSchema } from './distributions.js';

const int = (min: number) => z.int().min(min);
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

/** A topic of a kafka node (KafkaCluster's topic spec). */
const topicSchema = z.strictObject({
  /** @default 1 */
  partitions: int(1).max(1000).optional(),
  /** Copies of each partition, at most the brokers. @default min(3, brokers) */
  replicationFactor: int(1).optional(),
  /** `min.insync.replicas`: an acks=all write needs this many in-sync copies. @default 1 */
  minInsyncReplicas: int(1).optional(),
  /** `unclean.leader.election.enable`: elect an out-of-sync replica rather than go offline. @default false */
  uncleanLeaderElection: z.boolean().optional(),
});

/**
 * A Kafka cluster (KafkaCluster): `brokers` brokers named `<name>-0` ..., its controller
 * `<name>-controller` and a group coordinator `<name>-coordinator`. Services publish to it with a
 * downstream call that names a `topic`; consumer nodes read from it.
 */
export const kafkaSchema = z.strictObject({
  kind: z.literal('kafka'),
  /** @default 3 */
  brokers: int(1).max(50).optional(),
  /** Topics by name (letters, digits, `.`, `_` and `-`, as Kafka allows). */
  topics: z.record(z.string().regex(TOPIC, { error: 'must be a Kafka topic name' }), topicSchema),
  /**
   * How long the run goes on after the load ends, for consumers to catch up. A cluster never goes idle
   * (brokers heartbeat, consumers poll), so the run stops then; records still unconsumed count as lag.
   * @default 30 s
   */
  drain: durationSchema.optional(),
  region: z.string().min(1).optional(),
});

/**
 * A consumer group (KafkaConsumer × `instances`, named `<name>-0` ...) reading one topic of a kafka
 * node, with a ConsumerGroupMonitor for its lag.
 */
export const consumerSchema = z.strictObject({
  kind: z.literal('consumer'),
  /** The kafka node read from. */
  source: z.string().min(1, { error: 'must be a node name' }),
  /** A topic of that node. */
  topic: z.string().min(1),
  /** `group.id`. @default the node's name */
  group: z.string().min(1).optional(),
  /** Consumers in the group. @default 1 */
  instances: int(1).max(1000).optional(),
  /** Time to process one record. @default 0 */
  processingTime: distributionSchema.optional(),
  /** `max.poll.records`. @default 500 */
  maxPollRecords: int(1).optional(),
  /** `enable.auto.commit`; false commits after each processed batch. @default true */
  autoCommit: z.boolean().optional(),
  /** `auto.offset.reset`. @default 'earliest' (the description's consumers start with the run) */
  autoOffsetReset: z.enum(['earliest', 'latest']).optional(),
  region: z.string().min(1).optional(),
});

/** A kafka node of a system. */
export type KafkaDescription = z.infer<typeof kafkaSchema>;
/** A consumer node of a system. */
export type ConsumerDescription = z.infer<typeof consumerSchema>;

/** Kafka's defaults as the description applies them. */
export const KAFKA_DEFAULTS = {
  /** Brokers of a kafka node. */
  brokers: 3,
  /** Partitions of a topic. */
  partitions: 1,
  /** `acks` of a publishing call (Kafka 3.0's producer default). */
  acks: 'all',
  /** How long a system with a kafka node runs on after its load ends. */
  drain: 30_000,
} as const;

/**
 * The network addresses of a kafka node: its brokers (`<name>-0` ...), then its controller and group
 * coordinator.
 *
 * @example
 * ```ts
 * kafkaAddresses('events', { kind: 'kafka', brokers: 2, topics: { t: {} } });
 * // ['events-0', 'events-1', 'events-controller', 'events-coordinator']
 * ```
 */
export function kafkaAddresses(name: string, node: KafkaDescription): string[] {
  const brokers = Array.from({ length: node.brokers ?? KAFKA_DEFAULTS.brokers }, (_, i) => `${name}-${i}`);
  return [...brokers, `${name}-controller`, `${name}-coordinator`];
}
