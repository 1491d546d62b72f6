import type { XDeath } from './message.js';
import type { ExchangeOptions, QueueOptions } from './options.js';

/**
 * An AMQP error as the model reports it, with RabbitMQ's reply code: 404 NOT_FOUND (no such exchange or
 * queue), 406 PRECONDITION_FAILED (redeclared with other options, unknown delivery tag), 403
 * ACCESS_REFUSED (binding the default exchange), 320 CONNECTION_FORCED (the connection is gone). See
 * https://www.rabbitmq.com/amqp-0-9-1-reference#constants. The model answers these as values; it does not
 * close the channel as RabbitMQ does.
 *
 * @example
 * ```ts
 * const e: AmqpError = { code: 404, text: "NOT_FOUND - no exchange 'x'" };
 * ```
 */
export interface AmqpError {
  readonly code: 320 | 403 | 404 | 406;
  readonly text: string;
}

/**
 * The answer to a declaration, binding, consume or cancel.
 *
 * @example
 * ```ts
 * const r: AmqpResult = { ok: false, error: { code: 404, text: "NOT_FOUND - no queue 'q'" } };
 * ```
 */
export type AmqpResult = { readonly ok: true } | { readonly ok: false; readonly error: AmqpError };

/**
 * How a publish ended, from the publisher's side (publisher confirms,
 * https://www.rabbitmq.com/docs/confirms#publisher-confirms):
 * - `ack`: the broker took responsibility: enqueued in `queues` queues (0 when unroutable; `returned`
 *   when it was `mandatory` and unroutable, i.e. a `basic.return` preceded the ack). For a quorum queue
 *   the ack comes once a majority of its replicas have the message.
 * - `nack`: at least one queue refused it (`reject-publish` overflow); it may still be in other queues.
 * - `error`: the exchange does not exist (404) or the connection is gone (320).
 * - `timeout`: no confirm within the client's `confirmTimeout`; `unavailable`: the client's node crashed
 *   or its connection was lost while waiting. The message may or may not have been enqueued.
 *
 * @example
 * ```ts
 * const outcome = yield* client.publish('', 'work', 'job-1');
 * if (outcome.status === 'nack') sim.log('queue full');
 * ```
 */
export type PublishOutcome =
  | { readonly status: 'ack'; readonly queues: number; readonly returned: boolean }
  | { readonly status: 'nack'; readonly queues: number }
  | { readonly status: 'error'; readonly error: AmqpError }
  | { readonly status: 'timeout' }
  | { readonly status: 'unavailable'; readonly message: string };

/** A delivery on the wire (broker → client). @internal */
export interface DeliveryWire {
  readonly amqp: 'deliver';
  readonly connection: number;
  readonly consumerTag: string;
  readonly deliveryTag: number;
  readonly queue: string;
  readonly broker: string;
  readonly messageId: number;
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: unknown;
  readonly size: number;
  readonly persistent: boolean;
  readonly redelivered: boolean;
  readonly deaths: readonly XDeath[];
  readonly deliveryCount: number | undefined;
  readonly publishedAt: number;
}

/** Requests (client → broker, over RPC). @internal */
export type AmqpRequest =
  | { readonly amqp: 'open' }
  | { readonly amqp: 'hb'; readonly connection: number }
  | { readonly amqp: 'close'; readonly connection: number }
  | {
      readonly amqp: 'declare-exchange';
      readonly name: string;
      readonly options: ExchangeOptions | undefined;
    }
  | { readonly amqp: 'declare-queue'; readonly name: string; readonly options: QueueOptions | undefined }
  | { readonly amqp: 'bind'; readonly queue: string; readonly exchange: string; readonly key: string }
  | {
      readonly amqp: 'publish';
      readonly connection: number;
      readonly exchange: string;
      readonly routingKey: string;
      readonly body: unknown;
      readonly size: number;
      readonly persistent: boolean;
      readonly expiration: number;
      readonly mandatory: boolean;
    }
  | {
      readonly amqp: 'consume';
      readonly connection: number;
      readonly queue: string;
      readonly tag: string;
      readonly prefetch: number;
      readonly autoAck: boolean;
    }
  | { readonly amqp: 'cancel'; readonly connection: number; readonly tag: string };

/** Plain messages (client → broker): acknowledgements. @internal */
export interface SettleWire {
  readonly amqp: 'settle';
  readonly connection: number;
  readonly deliveryTag: number;
  readonly op: 'ack' | 'nack' | 'reject';
  readonly multiple: boolean;
  readonly requeue: boolean;
}

/** Broker → client: a consumer was cancelled by the broker. @internal */
export interface CancelWire {
  readonly amqp: 'cancelled';
  readonly connection: number;
  readonly consumerTag: string;
  readonly reason: string;
}
