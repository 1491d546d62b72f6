import {
  checkBoolean,
  checkDuration,
  checkFunction,
  checkName,
  checkNumber,
  type Duration,
  invalidOption,
  optionKeys,
  owner,
  RpcEndpoint,
  requireOptions,
} from '@dsim/core';

/**
 * Options of a {@link KafkaProducer}, named after ProducerConfig. Defaults are Kafka 4.0's.
 *
 * @example
 * ```ts
 * new KafkaProducer(net.addNode('app'), { bootstrap: ['b1', 'b2', 'b3'], acks: 'all', linger: 5 });
 * ```
 */
export interface KafkaProducerOptions {
  /** `bootstrap.servers`: brokers asked for metadata, in turn. */
  bootstrap: readonly string[];
  /** `acks`: 0, 1 or 'all' (-1). @default 'all' (since Kafka 3.0) */
  acks?: 0 | 1 | -1 | 'all';
  /**
   * `enable.idempotence`. @default true (since 3.0); when not set and acks is not 'all' (or
   * retries is 0, or maxInFlight > 5), idempotence is turned off as Kafka does (KAFKA-13598); set
   * explicitly with a conflicting config it is an error.
   */
  enableIdempotence?: boolean;
  /** `retries`. @default 2147483647 (Integer.MAX_VALUE): delivery.timeout.ms bounds retrying */
  retries?: number;
  /** `retry.backoff.ms`: first retry backoff, doubled per attempt with ±20% jitter. @default 100 ms */
  retryBackoff?: Duration;
  /** `retry.backoff.max.ms`. @default 1000 ms */
  retryBackoffMax?: Duration;
  /** `delivery.timeout.ms`: a record fails if not acknowledged this long after send(). @default 120000 ms */
  deliveryTimeout?: Duration;
  /** `request.timeout.ms`: per request (also the leader's acks=all purgatory timeout). @default 30000 ms */
  requestTimeout?: Duration;
  /** `max.in.flight.requests.per.connection`. @default 5 */
  maxInFlight?: number;
  /** `linger.ms`. @default 5 ms (Kafka 4.0, KIP-1030; 0 before 4.0) */
  linger?: Duration;
  /** `batch.size` in bytes per partition batch. @default 16384 */
  batchSize?: number;
  /**
   * Picks the partition of a keyed record sent without one.
   * @default Kafka's: `toPositive(murmur2(utf8(key))) % partitions` (`partitionForKey`)
   */
  partitionFor?: (key: string, partitions: number) => number;
  /**
   * `transactional.id`: makes the producer transactional (KIP-98). It requires idempotence; the
   * application calls `initTransactions()` once, then `beginTransaction()`, `send()`,
   * `sendOffsetsToTransaction()` and `commitTransaction()` / `abortTransaction()`. A newer producer
   * with the same id fences this one. @default none (not transactional)
   */
  transactionalId?: string;
  /** `transaction.timeout.ms`: the coordinator aborts a transaction open longer. @default 60000 ms */
  transactionTimeout?: Duration;
  /**
   * The RPC endpoint to send from. A node has one endpoint, shared by every client on it (a consumer
   * and a producer on one application node), so this is rarely needed.
   * @default the node's endpoint (`RpcEndpoint.of(node)`)
   */
  endpoint?: RpcEndpoint;
}

/** @internal */
export const KAFKA_PRODUCER_KEYS = optionKeys<KafkaProducerOptions>()({
  bootstrap: true,
  acks: true,
  enableIdempotence: true,
  retries: true,
  retryBackoff: true,
  retryBackoffMax: true,
  deliveryTimeout: true,
  requestTimeout: true,
  maxInFlight: true,
  linger: true,
  batchSize: true,
  partitionFor: true,
  transactionalId: true,
  transactionTimeout: true,
  endpoint: true,
});

/** Resolved producer config. @internal */
export interface ProducerConfig {
  readonly bootstrap: readonly string[];
  readonly acks: 0 | 1 | -1;
  readonly idempotent: boolean;
  readonly retries: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  readonly deliveryTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxInFlight: number;
  readonly lingerMs: number;
  readonly batchSize: number;
  readonly partitionFor: ((key: string, partitions: number) => number) | null;
  readonly transactionalId: string | null;
  readonly transactionTimeoutMs: number;
  readonly endpoint: RpcEndpoint | null;
}

/** @internal */
export function resolveProducerConfig(options: KafkaProducerOptions): ProducerConfig {
  const where = owner('KafkaProducer');
  requireOptions(where, options, KAFKA_PRODUCER_KEYS);
  if (!Array.isArray(options.bootstrap) || options.bootstrap.length === 0)
    throw invalidOption(where, 'bootstrap', options.bootstrap, 'a non-empty array of broker addresses');
  const rawAcks = options.acks ?? 'all';
  if (![0, 1, -1, 'all'].includes(rawAcks as never))
    throw invalidOption(where, 'acks', rawAcks, '0, 1, -1 or "all"');
  const acks = rawAcks === 'all' ? -1 : (rawAcks as 0 | 1 | -1);
  const retries = checkNumber(where, 'retries', options.retries, { integer: true, min: 0 }, 2_147_483_647);
  const maxInFlight = checkNumber(where, 'maxInFlight', options.maxInFlight, { integer: true, min: 1 }, 5);
  const explicit = options.enableIdempotence !== undefined;
  let idempotent = checkBoolean(where, 'enableIdempotence', options.enableIdempotence, true);
  const conflict =
    acks !== -1
      ? 'acks must be "all"'
      : retries === 0
        ? 'retries must be > 0'
        : maxInFlight > 5
          ? 'maxInFlight must be <= 5'
          : null;
  if (idempotent && conflict !== null) {
    if (explicit)
      throw invalidOption(
        where,
        'enableIdempotence',
        true,
        `false when ${conflict.replace(' must be', ' is not')}: with idempotence ${conflict}`,
      );
    idempotent = false;
  }
  const transactionalId =
    options.transactionalId === undefined
      ? null
      : checkName(where, 'transactionalId', options.transactionalId);
  // KafkaProducer: "Cannot set a transactional.id without also enabling idempotence".
  if (transactionalId !== null && !idempotent)
    throw invalidOption(
      where,
      'transactionalId',
      transactionalId,
      'unset unless idempotence is on (enableIdempotence not false, acks "all", retries > 0, maxInFlight <= 5)',
    );
  const retryBackoffMs = checkDuration(where, 'retryBackoff', options.retryBackoff, {}, 100);
  const deliveryTimeoutMs = checkDuration(
    where,
    'deliveryTimeout',
    options.deliveryTimeout,
    { positive: true },
    120_000,
  );
  const requestTimeoutMs = checkDuration(
    where,
    'requestTimeout',
    options.requestTimeout,
    { positive: true },
    30_000,
  );
  const lingerMs = checkDuration(where, 'linger', options.linger, {}, 5);
  // Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms.
  if (deliveryTimeoutMs < lingerMs + requestTimeoutMs)
    throw invalidOption(
      where,
      'deliveryTimeout',
      deliveryTimeoutMs,
      `>= linger + requestTimeout (${lingerMs + requestTimeoutMs} ms)`,
    );
  return {
    bootstrap: [...options.bootstrap],
    acks,
    idempotent,
    retries,
    retryBackoffMs,
    retryBackoffMaxMs: Math.max(
      retryBackoffMs,
      checkDuration(where, 'retryBackoffMax', options.retryBackoffMax, {}, 1_000),
    ),
    deliveryTimeoutMs,
    requestTimeoutMs,
    maxInFlight,
    lingerMs,
    batchSize: checkNumber(where, 'batchSize', options.batchSize, { integer: true, min: 1 }, 16_384),
    partitionFor:
      options.partitionFor === undefined
        ? null
        : checkFunction<(key: string, n: number) => number>(
            where,
            'partitionFor',
            options.partitionFor,
            '(key, partitions) => partition',
          ),
    transactionalId,
    endpoint:
      options.endpoint === undefined
        ? null
        : options.endpoint instanceof RpcEndpoint
          ? options.endpoint
          : (() => {
              throw invalidOption(
                where,
                'endpoint',
                options.endpoint,
                "an RpcEndpoint (a consumer's endpoint)",
              );
            })(),
    transactionTimeoutMs: checkDuration(
      where,
      'transactionTimeout',
      options.transactionTimeout,
      { positive: true },
      60_000,
    ),
  };
}
