import { AmqpBroker, AmqpClient, type DownstreamCaller } from '@dsim/components';
import type { Network, RpcEndpoint, RpcError, Simulation } from '@dsim/core';
import { type AmqpDescription, amqpAddresses, type WorkerDescription } from './amqp-schema.js';
import { durationMs, toDistribution } from './distributions.js';

/** An amqp node, compiled. */
export interface AmqpHandle {
  readonly brokers: readonly AmqpBroker[];
  /** The address clients connect to (the first broker). */
  readonly entry: string;
}

/**
 * Builds an amqp node: one {@link AmqpBroker} per address (a cluster when there are several), each
 * declaring every described queue, dead-letter targets first.
 */
export function buildAmqp(net: Network, name: string, node: AmqpDescription): AmqpHandle {
  const addresses = amqpAddresses(name, node);
  const brokers = addresses.map(
    (a) =>
      new AmqpBroker(net.node(a), {
        ...(addresses.length > 1 ? { cluster: addresses } : {}),
        ...(node.concurrency === undefined ? {} : { concurrency: node.concurrency }),
      }),
  );
  // Dead-letter targets before the queues that name them; otherwise by name, so key order never matters.
  const names = Object.keys(node.queues).sort((a, b) => {
    const da = node.queues[a]!.deadLetter === undefined ? 0 : 1;
    const db = node.queues[b]!.deadLetter === undefined ? 0 : 1;
    return da - db || (a < b ? -1 : a > b ? 1 : 0);
  });
  for (const broker of brokers)
    for (const q of names) {
      const spec = node.queues[q]!;
      broker.declareQueue(q, {
        ...(spec.type === undefined ? {} : { type: spec.type }),
        ...(spec.durable === undefined ? {} : { durable: spec.durable }),
        ...(spec.maxLength === undefined ? {} : { maxLength: spec.maxLength }),
        ...(spec.overflow === undefined ? {} : { overflow: spec.overflow }),
        ...(spec.messageTtl === undefined ? {} : { messageTtl: durationMs(spec.messageTtl) }),
        ...(spec.deadLetter === undefined
          ? {}
          : { deadLetterExchange: '', deadLetterRoutingKey: spec.deadLetter }),
        ...(spec.deliveryLimit === undefined ? {} : { deliveryLimit: spec.deliveryLimit }),
        ...(spec.replicas === undefined ? {} : { replicas: spec.replicas }),
      });
    }
  return { brokers, entry: addresses[0]! };
}

/**
 * A service's publishing call to a queue: each call publishes one message (the request's payload, to
 * the default exchange with the queue's name as the routing key) on a confirm-mode {@link AmqpClient}
 * over the service's own endpoint, and answers when the broker confirms: ok on `basic.ack`,
 * `unavailable` on a nack, an error, a timeout or a lost connection. `onSettled` sees every message.
 */
export function amqpPublisher(
  sim: Simulation,
  endpoint: RpcEndpoint,
  amqp: AmqpHandle,
  queue: string,
  persistent: boolean,
  onSettled?: (startedAt: number, ok: boolean, errorKind: string | undefined, latencyMs: number) => void,
): DownstreamCaller {
  const client = new AmqpClient(endpoint, { broker: amqp.entry });
  return {
    call(_to, payload) {
      const started = sim.now;
      const done = sim.event<{ ok: boolean; error?: RpcError }>();
      client.publish('', queue, payload, { persistent }).onProcessed((e) => {
        const status = e.value!.status;
        const ok = status === 'ack';
        onSettled?.(started, ok, ok ? undefined : status, sim.now - started);
        done.succeed(
          ok ? { ok: true } : { ok: false, error: { kind: 'unavailable', message: `publish ${status}` } },
        );
      });
      return done;
    },
  };
}

/**
 * Worker instances on one queue: an {@link AmqpClient} per address consuming with the described
 * prefetch and processing time; a share `failureRate` of deliveries (drawn from the stream
 * `<name>/failures`) is nacked, the rest acked. `onDelivery` sees every settled delivery with the time
 * from its publish.
 */
export function buildWorkers(
  sim: Simulation,
  net: Network,
  name: string,
  addresses: readonly string[],
  node: WorkerDescription,
  amqp: AmqpHandle,
  onDelivery?: (publishedAt: number, ok: boolean, endToEndMs: number) => void,
): AmqpClient[] {
  const rng = sim.rng(`${name}/failures`);
  const failureRate = node.failureRate ?? 0;
  const requeue = node.requeue ?? true;
  return addresses.map((a) => {
    const client = new AmqpClient(net.node(a), { broker: amqp.entry });
    client.consume(
      node.queue,
      {
        ...(node.prefetch === undefined ? {} : { prefetch: node.prefetch }),
        ...(node.processingTime === undefined ? {} : { processingTime: toDistribution(node.processingTime) }),
      },
      (d) => {
        const ok = failureRate === 0 || rng.next() >= failureRate;
        onDelivery?.(d.publishedAt, ok, sim.now - d.publishedAt);
        if (ok) d.ack();
        else d.nack({ requeue });
      },
    );
    return client;
  });
}
