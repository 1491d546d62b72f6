import {
  checkBoolean,
  checkDistribution,
  checkDuration,
  checkEnum,
  checkName,
  checkNumber,
  constant,
  type Distribution,
  type Duration,
  invalidOption,
  optionKeys,
  owner,
  requireOptions,
} from '@dsim/core';

/**
 * The exchange types modelled: `direct` (binding key equals routing key), `fanout` (every bound queue)
 * and `topic` (dot-separated words with `*` and `#`). See https://www.rabbitmq.com/docs/exchanges.
 *
 * @example
 * ```ts
 * const kind: ExchangeType = 'topic';
 * ```
 */
export type ExchangeType = 'direct' | 'fanout' | 'topic';

/** Every {@link ExchangeType}. */
export const EXCHANGE_TYPES: readonly ExchangeType[] = Object.freeze(['direct', 'fanout', 'topic']);

/**
 * Options of `exchange.declare`.
 *
 * @example
 * ```ts
 * broker.declareExchange('logs', { type: 'fanout', durable: true });
 * ```
 */
export interface ExchangeOptions {
  /**
   * How the exchange routes.
   * @default 'direct' (the type most clients default to; https://www.rabbitmq.com/docs/exchanges)
   */
  type?: ExchangeType;
  /**
   * Whether the exchange survives a broker restart. AMQP 0-9-1's `durable` bit is off unless set
   * (https://www.rabbitmq.com/amqp-0-9-1-reference#exchange.declare.durable).
   * @default false
   */
  durable?: boolean;
}

/** Every key of {@link ExchangeOptions}. @internal */
export const EXCHANGE_KEYS = optionKeys<ExchangeOptions>()({ type: true, durable: true });

/**
 * What a full queue does with a new message (https://www.rabbitmq.com/docs/maxlength#overflow-behaviour):
 * `drop-head` drops (or dead-letters, reason `maxlen`) the oldest ready message; `reject-publish`
 * refuses the new one (the publisher gets a `basic.nack`); `reject-publish-dlx` refuses and dead-letters it.
 *
 * @example
 * ```ts
 * const overflow: OverflowMode = 'reject-publish';
 * ```
 */
export type OverflowMode = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** Every {@link OverflowMode}. */
export const OVERFLOW_MODES: readonly OverflowMode[] = Object.freeze([
  'drop-head',
  'reject-publish',
  'reject-publish-dlx',
]);

/**
 * The queue types modelled: `classic` (one node) and `quorum` (replicated by majority, with a delivery
 * limit). See https://www.rabbitmq.com/docs/queues and https://www.rabbitmq.com/docs/quorum-queues.
 *
 * @example
 * ```ts
 * const type: QueueType = 'quorum';
 * ```
 */
export type QueueType = 'classic' | 'quorum';

/** Every {@link QueueType}. */
export const QUEUE_TYPES: readonly QueueType[] = Object.freeze(['classic', 'quorum']);

/**
 * Options of `queue.declare` (the `x-` arguments as fields).
 *
 * @example
 * ```ts
 * broker.declareQueue('work', { durable: true, maxLength: 1000, overflow: 'reject-publish', deadLetterExchange: 'dlx' });
 * ```
 */
export interface QueueOptions {
  /**
   * `x-queue-type`.
   * @default 'classic' (https://www.rabbitmq.com/docs/queues#optional-arguments)
   */
  type?: QueueType;
  /**
   * Whether the queue (and its persistent messages) survives a broker crash. Quorum queues are always
   * durable. @default false (AMQP 0-9-1 `queue.declare`; https://www.rabbitmq.com/docs/queues#durability)
   */
  durable?: boolean;
  /**
   * `x-max-length`: the most ready messages (unacknowledged ones do not count). An integer >= 0 or
   * Infinity. @default Infinity (no limit; https://www.rabbitmq.com/docs/maxlength)
   */
  maxLength?: number;
  /**
   * `x-max-length-bytes`: the most bytes of ready message bodies. @default Infinity (no limit;
   * https://www.rabbitmq.com/docs/maxlength)
   */
  maxLengthBytes?: number;
  /** `x-overflow`. @default 'drop-head' (https://www.rabbitmq.com/docs/maxlength#overflow-behaviour) */
  overflow?: OverflowMode;
  /**
   * `x-message-ttl`: how long a message may wait in the queue (>= 0; 0 means "deliver now or expire").
   * @default Infinity (no TTL; https://www.rabbitmq.com/docs/ttl#per-queue-message-ttl)
   */
  messageTtl?: Duration;
  /**
   * `x-expires` (queue TTL): the queue is deleted once it has been unused for this long (> 0). Unused
   * means no consumers and not redeclared for the whole period (RabbitMQ also counts `basic.get`, which is
   * not modelled); publishing does not count as use. Deleting the queue discards its messages without
   * dead-lettering them (counted in `expiredWithQueue`), and later publishes to it are unroutable. Quorum
   * queues support it too; their lease runs at the leader.
   * @default none (the queue never expires; https://www.rabbitmq.com/docs/ttl#queue-ttl)
   */
  expires?: Duration;
  /**
   * `x-dead-letter-exchange`: where dead-lettered messages are republished (`''` is the default
   * exchange). @default none: dead-lettered messages are dropped (https://www.rabbitmq.com/docs/dlx)
   */
  deadLetterExchange?: string;
  /**
   * `x-dead-letter-routing-key`. @default the message's own routing key (https://www.rabbitmq.com/docs/dlx#routing)
   */
  deadLetterRoutingKey?: string;
  /**
   * Quorum queues only: `x-delivery-limit`, how many times a message may be returned (nack/reject with
   * requeue, or its consumer's channel closing) before it is dead-lettered with reason `delivery_limit`.
   * Infinity disables it (RabbitMQ's -1). @default 20 (RabbitMQ 4.0+;
   * https://www.rabbitmq.com/docs/quorum-queues#poison-message-handling)
   */
  deliveryLimit?: number;
  /**
   * Quorum queues only: `x-quorum-initial-group-size`, the replicas (this broker and the next brokers of
   * its `cluster`). @default 3 (https://www.rabbitmq.com/docs/quorum-queues#replication-factor)
   */
  replicas?: number;
}

/** Every key of {@link QueueOptions}. @internal */
export const QUEUE_KEYS = optionKeys<QueueOptions>()({
  type: true,
  durable: true,
  maxLength: true,
  maxLengthBytes: true,
  overflow: true,
  messageTtl: true,
  expires: true,
  deadLetterExchange: true,
  deadLetterRoutingKey: true,
  deliveryLimit: true,
  replicas: true,
});

/** {@link QueueOptions} with every default applied. @internal */
export interface ResolvedQueueOptions {
  readonly type: QueueType;
  readonly durable: boolean;
  readonly maxLength: number;
  readonly maxLengthBytes: number;
  readonly overflow: OverflowMode;
  readonly messageTtl: number;
  /** Queue TTL in ms (Infinity when none). */
  readonly expires: number;
  readonly deadLetterExchange: string | undefined;
  readonly deadLetterRoutingKey: string | undefined;
  readonly deliveryLimit: number;
  readonly replicas: number;
}

/** Checks and completes {@link QueueOptions}. @internal */
export function resolveQueueOptions(
  component: string,
  options: QueueOptions | undefined,
): ResolvedQueueOptions {
  const where = owner(component, 'options');
  const o = options ?? {};
  requireOptions(where, o, QUEUE_KEYS);
  const type = checkEnum(where, 'type', o.type, QUEUE_TYPES, 'classic');
  const quorum = type === 'quorum';
  const durable = checkBoolean(where, 'durable', o.durable, quorum);
  if (quorum && !durable)
    throw invalidOption(where, 'durable', o.durable, 'true for a quorum queue (always durable)');
  const maxLength = checkNumber(
    where,
    'maxLength',
    o.maxLength,
    { integer: true, min: 0, infinity: true },
    Infinity,
  );
  const maxLengthBytes = checkNumber(
    where,
    'maxLengthBytes',
    o.maxLengthBytes,
    { integer: true, min: 0, infinity: true },
    Infinity,
  );
  const overflow = checkEnum(where, 'overflow', o.overflow, OVERFLOW_MODES, 'drop-head');
  if (quorum && overflow === 'reject-publish-dlx')
    throw invalidOption(where, 'overflow', overflow, '"drop-head" or "reject-publish" for a quorum queue');
  const messageTtl = checkDuration(where, 'messageTtl', o.messageTtl, { infinity: true }, Infinity);
  // Like RabbitMQ's x-expires, a positive period: 0 and Infinity are refused (leave it out for none).
  const expires = checkDuration(where, 'expires', o.expires, { positive: true }, Infinity);
  const deadLetterExchange =
    o.deadLetterExchange === undefined
      ? undefined
      : checkString(where, 'deadLetterExchange', o.deadLetterExchange);
  const deadLetterRoutingKey =
    o.deadLetterRoutingKey === undefined
      ? undefined
      : checkString(where, 'deadLetterRoutingKey', o.deadLetterRoutingKey);
  if (!quorum && o.deliveryLimit !== undefined)
    throw invalidOption(
      where,
      'deliveryLimit',
      o.deliveryLimit,
      'left out: only quorum queues have a delivery limit',
    );
  if (!quorum && o.replicas !== undefined)
    throw invalidOption(where, 'replicas', o.replicas, 'left out: only quorum queues are replicated');
  const deliveryLimit = checkNumber(
    where,
    'deliveryLimit',
    o.deliveryLimit,
    { integer: true, min: 0, infinity: true },
    20,
  );
  const replicas = checkNumber(where, 'replicas', o.replicas, { integer: true, min: 1 }, 3);
  return {
    type,
    durable,
    maxLength,
    maxLengthBytes,
    overflow,
    messageTtl,
    expires,
    deadLetterExchange,
    deadLetterRoutingKey,
    deliveryLimit,
    replicas,
  };
}

/** A string option that may be empty (exchange names, routing keys). @internal */
export function checkString(where: ReturnType<typeof owner> | string, field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidOption(where, field, value, 'a string');
  return value;
}

/**
 * Options of one `basic.publish`.
 *
 * @example
 * ```ts
 * client.publish('orders', 'eu.new', { id: 7 }, { persistent: true, expiration: '30s', size: 512 });
 * ```
 */
export interface PublishOptions {
  /**
   * `delivery_mode` 2: the message survives a broker crash when its queue is durable.
   * @default false (delivery_mode 1, transient; https://www.rabbitmq.com/docs/publishers#message-properties)
   */
  persistent?: boolean;
  /**
   * Per-message TTL (the `expiration` property); the lower of it and the queue's `messageTtl` applies.
   * @default none (https://www.rabbitmq.com/docs/ttl#per-message-ttl-in-publishers)
   */
  expiration?: Duration;
  /** Body size in bytes (counts towards `maxLengthBytes` and the network message size). @default 0 */
  size?: number;
  /**
   * Return an unroutable message to the publisher (`basic.return`) instead of dropping it silently.
   * @default false (https://www.rabbitmq.com/docs/publishers#unroutable)
   */
  mandatory?: boolean;
}

/** Every key of {@link PublishOptions}. @internal */
export const PUBLISH_KEYS = optionKeys<PublishOptions>()({
  persistent: true,
  expiration: true,
  size: true,
  mandatory: true,
});

/** {@link PublishOptions} with defaults applied. @internal */
export interface ResolvedPublish {
  readonly persistent: boolean;
  readonly expiration: number;
  readonly size: number;
  readonly mandatory: boolean;
}

/** Checks and completes {@link PublishOptions}. @internal */
export function resolvePublish(options: PublishOptions | undefined): ResolvedPublish {
  const where = owner('AmqpClient.publish', 'options');
  const o = options ?? {};
  requireOptions(where, o, PUBLISH_KEYS);
  return {
    persistent: checkBoolean(where, 'persistent', o.persistent, false),
    expiration: checkDuration(where, 'expiration', o.expiration, { infinity: true }, Infinity),
    size: checkNumber(where, 'size', o.size, { min: 0 }, 0),
    mandatory: checkBoolean(where, 'mandatory', o.mandatory, false),
  };
}

/**
 * Options of `basic.consume` (with the consumer's `basic.qos` and how the client processes deliveries).
 *
 * @example
 * ```ts
 * client.consume('work', { prefetch: 10, processingTime: '1s' }, (d) => d.ack());
 * ```
 */
export interface ConsumeOptions {
  /**
   * `basic.qos` prefetch count for this consumer: the most unacknowledged deliveries it holds; 0 is
   * unlimited. @default 0 (unlimited, the AMQP default; https://www.rabbitmq.com/docs/consumer-prefetch)
   */
  prefetch?: number;
  /**
   * Automatic acknowledgement (`no-ack`): the broker forgets a message as soon as it sends it; no
   * prefetch limit applies. @default false (manual acks; https://www.rabbitmq.com/docs/confirms#acknowledgement-modes)
   */
  autoAck?: boolean;
  /**
   * Time the client spends on one delivery before the handler runs (its work); deliveries wait in the
   * client's buffer for a free worker. @default 0 (the handler runs on arrival)
   */
  processingTime?: Distribution | Duration;
  /**
   * How many deliveries the client works on at once. Client libraries dispatch a channel's deliveries
   * one at a time. @default 1 (https://www.rabbitmq.com/client-libraries/java-api-guide#consumer-thread-safety)
   */
  concurrency?: number;
  /** The consumer tag. @default `ctag-<n>` */
  tag?: string;
}

/** Every key of {@link ConsumeOptions}. @internal */
export const CONSUME_KEYS = optionKeys<ConsumeOptions>()({
  prefetch: true,
  autoAck: true,
  processingTime: true,
  concurrency: true,
  tag: true,
});

/** {@link ConsumeOptions} with defaults applied. @internal */
export interface ResolvedConsume {
  readonly prefetch: number;
  readonly autoAck: boolean;
  readonly processingTime: Distribution;
  readonly concurrency: number;
  readonly tag: string | undefined;
}

/** Checks and completes {@link ConsumeOptions}. @internal */
export function resolveConsume(options: ConsumeOptions | undefined): ResolvedConsume {
  const where = owner('AmqpClient.consume', 'options');
  const o = options ?? {};
  requireOptions(where, o, CONSUME_KEYS);
  return {
    prefetch: checkNumber(where, 'prefetch', o.prefetch, { integer: true, min: 0, max: 65_535 }, 0),
    autoAck: checkBoolean(where, 'autoAck', o.autoAck, false),
    processingTime: checkDistribution(
      where,
      'processingTime',
      o.processingTime,
      'constant(1000)',
      {},
      constant(0),
    ),
    concurrency: checkNumber(where, 'concurrency', o.concurrency, { integer: true, min: 1 }, 1),
    tag: o.tag === undefined ? undefined : checkName(where, 'tag', o.tag),
  };
}

/**
 * Options of an {@link AmqpBroker}: its processing costs and its connection handling.
 *
 * The costs are the broker's CPU time per operation, served first come first served by `concurrency`
 * workers, so a broker saturates at about `concurrency / publishCost` publishes per second. They are
 * modelling assumptions, not RabbitMQ-published figures: a classic queue handles some tens of thousands
 * of small messages per second per queue (https://www.rabbitmq.com/docs/classic-queues).
 *
 * @example
 * ```ts
 * const broker = new AmqpBroker(net.addNode('rabbit'), { publishCost: 0.05, deliverCost: 0.02 });
 * ```
 */
export interface AmqpBrokerOptions {
  /** CPU time to accept and route one publish. @default 0.02 ms */
  publishCost?: Distribution | Duration;
  /** CPU time to send one delivery. @default 0.01 ms */
  deliverCost?: Distribution | Duration;
  /** CPU time to process one ack, nack or reject. @default 0.005 ms */
  ackCost?: Distribution | Duration;
  /** Workers serving operations. @default 1 */
  concurrency?: number;
  /**
   * Heartbeat timeout: a connection with no traffic for this long is closed (its unacknowledged
   * messages requeued). @default 60 s (https://www.rabbitmq.com/docs/heartbeats)
   */
  heartbeat?: Duration;
  /**
   * Every broker of the cluster, this one included, in the same order on every broker: a quorum queue's
   * replicas are its first `replicas` members, led at first by the first one. @default [] (a single node)
   */
  cluster?: readonly string[];
  /**
   * Quorum queues: how often a leader tells its followers it is alive; a follower that hears nothing for
   * 5 × this starts an election. @default 1 s (an assumption close to Ra's defaults)
   */
  quorumTick?: Duration;
}

/** Every key of {@link AmqpBrokerOptions}. @internal */
export const BROKER_KEYS = optionKeys<AmqpBrokerOptions>()({
  publishCost: true,
  deliverCost: true,
  ackCost: true,
  concurrency: true,
  heartbeat: true,
  cluster: true,
  quorumTick: true,
});

/** Resolved {@link AmqpBrokerOptions}. @internal */
export interface ResolvedBroker {
  readonly publishCost: Distribution;
  readonly deliverCost: Distribution;
  readonly ackCost: Distribution;
  readonly concurrency: number;
  readonly heartbeat: number;
  readonly cluster: readonly string[];
  readonly quorumTick: number;
}

/** Checks and completes {@link AmqpBrokerOptions}. @internal */
export function resolveBroker(options: AmqpBrokerOptions | undefined): ResolvedBroker {
  const where = owner('AmqpBroker');
  const o = options ?? {};
  requireOptions(where, o, BROKER_KEYS);
  const cost = (field: 'publishCost' | 'deliverCost' | 'ackCost', fallback: number) =>
    checkDistribution(where, field, o[field], 'exponential({ mean: 0.02 })', {}, constant(fallback));
  const cluster = o.cluster ?? [];
  if (!Array.isArray(cluster) || !cluster.every((a) => typeof a === 'string' && a !== ''))
    throw invalidOption(where, 'cluster', cluster, 'an array of broker addresses');
  return {
    publishCost: cost('publishCost', 0.02),
    deliverCost: cost('deliverCost', 0.01),
    ackCost: cost('ackCost', 0.005),
    concurrency: checkNumber(where, 'concurrency', o.concurrency, { integer: true, min: 1 }, 1),
    heartbeat: checkDuration(where, 'heartbeat', o.heartbeat, { positive: true }, 60_000),
    cluster: Object.freeze([...cluster]),
    quorumTick: checkDuration(where, 'quorumTick', o.quorumTick, { positive: true }, 1000),
  };
}

/**
 * Options of an {@link AmqpClient} (one connection with one channel, in confirm mode).
 *
 * @example
 * ```ts
 * const client = new AmqpClient(net.addNode('app'), { broker: 'rabbit', confirmTimeout: '5s' });
 * ```
 */
export interface AmqpClientOptions {
  /** Address of the broker node to connect to. */
  broker: string;
  /**
   * Heartbeat timeout: the client pings every half of it and gives the connection up after a ping
   * got no answer within it. @default 60 s (https://www.rabbitmq.com/docs/heartbeats)
   */
  heartbeat?: Duration;
  /**
   * How long a publish waits for its confirm before it resolves `timeout`. @default Infinity (wait;
   * clients such as the Java client's `waitForConfirms()` wait without limit unless given one)
   */
  confirmTimeout?: Duration;
}

/** Every key of {@link AmqpClientOptions}. @internal */
export const CLIENT_KEYS = optionKeys<AmqpClientOptions>()({
  broker: true,
  heartbeat: true,
  confirmTimeout: true,
});
