import { z } from 'zod';
import { distributionSchema, durationSchema } from './distributions.js';

const int = (min: number) => z.int().min(min);
const QUEUE = /^[A-Za-z0-9._:-]{1,255}$/;

/** A queue of an amqp node (AmqpBroker.declareQueue's options, in the description's terms). */
const queueSchema = z.strictObject({
  /** `x-queue-type`. A quorum queue needs `brokers` ≥ its `replicas`. @default 'classic' */
  type: z.enum(['classic', 'quorum']).optional(),
  /** Survives a broker restart (quorum queues always do). @default false */
  durable: z.boolean().optional(),
  /** `x-max-length`: ready messages at most. @default none */
  maxLength: int(0).optional(),
  /** `x-overflow` when full. @default 'drop-head' */
  overflow: z.enum(['drop-head', 'reject-publish', 'reject-publish-dlx']).optional(),
  /** `x-message-ttl`. @default none */
  messageTtl: durationSchema.optional(),
  /**
   * Dead-letter into this queue of the same node (through the default exchange, with the queue's name
   * as the routing key: `x-dead-letter-exchange: ""` and `x-dead-letter-routing-key`). @default none
   */
  deadLetter: z.string().min(1).optional(),
  /** Quorum queues: `x-delivery-limit`. @default 20 (RabbitMQ 4.0) */
  deliveryLimit: int(0).optional(),
  /** Quorum queues: `x-quorum-initial-group-size`. @default 3 */
  replicas: int(1).optional(),
});

/**
 * A RabbitMQ broker (AmqpBroker), or a cluster of `brokers` (named `<name>-0` ...; clients connect to
 * the first). Services publish to it with a downstream call that names a `queue`; worker nodes consume.
 */
export const amqpSchema = z.strictObject({
  kind: z.literal('amqp'),
  /** Brokers in the cluster. @default 1 */
  brokers: int(1).max(9).optional(),
  /** Queues by name. */
  queues: z.record(z.string().regex(QUEUE, { error: 'must be a queue name' }), queueSchema),
  /** Broker workers (publish, deliver and ack costs are served by them). @default 1 */
  concurrency: int(1).optional(),
  /**
   * How long the run goes on after the load ends, for workers to drain their queues. Connections
   * heartbeat forever, so the run stops then. @default 30 s
   */
  drain: durationSchema.optional(),
  region: z.string().min(1).optional(),
});

/** Workers (AmqpClient consumers × `instances`, named `<name>-0` ...) on one queue of an amqp node. */
export const workerSchema = z.strictObject({
  kind: z.literal('worker'),
  /** The amqp node consumed from. */
  source: z.string().min(1, { error: 'must be a node name' }),
  /** A queue of that node. */
  queue: z.string().min(1),
  /** Workers. @default 1 */
  instances: int(1).max(1000).optional(),
  /** `basic.qos` prefetch per worker; 0 is unlimited. @default 0 (AMQP's) */
  prefetch: int(0).optional(),
  /** Time to process one delivery. @default 0 */
  processingTime: distributionSchema.optional(),
  /** Share of deliveries whose processing fails: nacked (with `requeue`). @default 0 */
  failureRate: z.number().min(0).max(1).optional(),
  /** A failed delivery goes back to the queue (else it is dead-lettered or dropped). @default true */
  requeue: z.boolean().optional(),
  region: z.string().min(1).optional(),
});

/** An amqp node of a system. */
export type AmqpDescription = z.infer<typeof amqpSchema>;
/** A worker node of a system. */
export type WorkerDescription = z.infer<typeof workerSchema>;

/** AMQP defaults as the description applies them. */
export const AMQP_DEFAULTS = {
  brokers: 1,
  /** How long a system with an amqp node runs on after its load ends. */
  drain: 30_000,
} as const;

/**
 * The network addresses of an amqp node: its name for one broker, else `<name>-0` ....
 *
 * @example
 * ```ts
 * amqpAddresses('rabbit', { kind: 'amqp', brokers: 3, queues: { q: {} } }); // ['rabbit-0', 'rabbit-1', 'rabbit-2']
 * ```
 */
export function amqpAddresses(name: string, node: AmqpDescription): string[] {
  const n = node.brokers ?? AMQP_DEFAULTS.brokers;
  return n === 1 ? [name] : Array.from({ length: n }, (_, i) => `${name}-${i}`);
}
