import {
  AmqpBroker,
  AmqpClient,
  type AmqpDelivery,
  clusterRecordSource,
  KafkaCluster,
  KafkaProducer,
  RetryTopics,
} from '@dsim/components';
import { Network, uniform } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { MAX_MS, MAX_SECONDS } from './limits.js';

/** The most messages one run may publish. */
const MAX_MESSAGES = 200_000;
/** Traffic starts after this warm-up, once every replica fetcher runs. */
const WARMUP_MS = 5_000;

const MODES = ['kafka-in-place', 'kafka-retry-topics', 'rabbit-quorum', 'rabbit-classic'] as const;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/**
 * `poison-message`: one message that always fails processing, among good ones, under four ways of
 * handling failures: Kafka retry in place (the partition blocks head of line), Kafka retry topics and a
 * DLQ (Uber's non-blocking reprocessing), a RabbitMQ quorum queue with its delivery limit (dead-lettered
 * after 21 deliveries), and a classic queue requeueing for ever.
 */
export const poisonMessage = defineScenario({
  name: 'poison-message',
  description:
    'One message that always fails: Kafka retry in place blocks its partition, retry topics + DLQ do not, a quorum queue dead-letters it after 21 deliveries, a classic queue redelivers it for ever',
  params: {
    mode: param.enum(MODES, {
      default: 'kafka-retry-topics',
      description: 'how failures are handled (set by each variant)',
    }),
    messages: param.integer({
      default: 2_000,
      min: 2,
      max: MAX_MESSAGES,
      description: 'messages published, one every intervalMs',
    }),
    intervalMs: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'time between two publishes',
    }),
    poisonIndex: param.integer({
      default: 100,
      min: 0,
      max: MAX_MESSAGES,
      description: 'which message is the poison one (0-based; must be < messages)',
    }),
    processingMs: param.number({
      default: 2,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean time to process (or fail) one message, uniform within ±50%',
    }),
    delay1Ms: param.number({ default: 1_000, min: 0, max: MAX_MS, description: 'Kafka retry topic 1 delay' }),
    delay2Ms: param.number({ default: 5_000, min: 0, max: MAX_MS, description: 'Kafka retry topic 2 delay' }),
    backoffMs: param.number({
      default: 1_000,
      min: 0,
      max: MAX_MS,
      description: 'Kafka retry in place: wait between attempts at the same record',
    }),
    deliveryLimit: param.integer({
      default: 20,
      min: 0,
      max: 1_000,
      description: 'quorum queue x-delivery-limit',
    }),
    tailS: param.number({
      default: 15,
      min: 1,
      max: MAX_SECONDS,
      description: 'seconds observed after the last publish',
    }),
  },
  variants: [
    {
      name: 'kafka-in-place',
      description: 'Kafka, the consumer retries the record for ever every backoffMs',
      params: { mode: 'kafka-in-place' },
    },
    {
      name: 'kafka-retry-topics',
      description: 'Kafka, retry-1 (delay1Ms), retry-2 (delay2Ms), then the DLQ',
      params: { mode: 'kafka-retry-topics' },
    },
    {
      name: 'rabbit-quorum',
      description: 'RabbitMQ quorum queue, nack with requeue, delivery limit, DLX',
      params: { mode: 'rabbit-quorum' },
    },
    {
      name: 'rabbit-classic',
      description: 'RabbitMQ classic queue, nack with requeue: redelivered for ever',
      params: { mode: 'rabbit-classic' },
    },
  ],
  run({ sim, params, requests, check }) {
    const { mode, messages, intervalMs, poisonIndex, processingMs } = params;
    if (poisonIndex >= messages)
      throw new RangeError(`poisonIndex ${poisonIndex} must be < messages ${messages}`);
    const net = new Network(sim, { defaults: { latency: 0.5 } });
    const work = uniform(processingMs * 0.5, processingMs * 1.5);
    const sentAt = new Float64Array(messages).fill(Number.NaN);
    const doneAt = new Float64Array(messages).fill(Number.NaN);
    const idOf = (i: number) => (i === poisonIndex ? 'poison' : `m${i}`);
    const indexOf = (id: string) => (id === 'poison' ? poisonIndex : Number(id.slice(1)));
    const lastSend = WARMUP_MS + (messages - 1) * intervalMs;
    const end = lastSend + params.tailS * 1_000;
    let poisonAttempts = 0;
    let poisonAttemptsInWindow = 0;
    let dlqAt = Number.NaN;
    let dlqReason = '';
    let dlqDeliveryCount: number | undefined;
    let dlqCount = 0;
    const succeed = (i: number) => {
      if (!Number.isNaN(doneAt[i]!)) return;
      doneAt[i] = sim.now;
      requests.finish(true, sim.now - sentAt[i]!);
    };
    let send: (i: number) => void;
    const poisonPartition = poisonIndex % 2;

    if (mode === 'kafka-in-place' || mode === 'kafka-retry-topics') {
      const cluster = new KafkaCluster(net, {
        brokers: ['b1', 'b2', 'b3'],
        topics: [
          { name: 'orders', partitions: 2 },
          { name: 'orders-retry-1' },
          { name: 'orders-retry-2' },
          { name: 'orders-dlq' },
        ],
      });
      const bootstrap = cluster.brokerIds;
      const app = new KafkaProducer(net.addNode('app'), { bootstrap });
      new RetryTopics(net.addNode('worker'), {
        source: clusterRecordSource(cluster),
        producer: new KafkaProducer(net.addNode('worker-out'), { bootstrap }),
        topic: 'orders',
        mode: mode === 'kafka-in-place' ? 'in-place' : 'retry-topics',
        delays: [params.delay1Ms, params.delay2Ms],
        backoff: params.backoffMs,
        processingTime: work,
        handler: (a) => {
          if (a.id !== 'poison') return true;
          poisonAttempts++;
          if (sim.now <= end) poisonAttemptsInWindow++;
          return false;
        },
        onSuccess: (a) => succeed(indexOf(a.id)),
        onDeadLetter: () => {
          dlqCount++;
          dlqAt = sim.now;
          dlqReason = 'retries exhausted';
        },
      });
      send = (i) => app.send({ topic: 'orders', key: idOf(i), partition: i % 2, size: 200 });
    } else {
      const broker = new AmqpBroker(net.addNode('rabbit'));
      broker.declareQueue('orders', {
        type: mode === 'rabbit-quorum' ? 'quorum' : 'classic',
        deadLetterExchange: '',
        deadLetterRoutingKey: 'orders-dlq',
        ...(mode === 'rabbit-quorum' ? { deliveryLimit: params.deliveryLimit } : {}),
      });
      broker.declareQueue('orders-dlq');
      const app = new AmqpClient(net.addNode('app'), { broker: 'rabbit' });
      const consumer = new AmqpClient(net.addNode('worker'), { broker: 'rabbit' });
      consumer.consume('orders', { prefetch: 10, processingTime: work }, (d: AmqpDelivery) => {
        const i = d.body as number;
        if (i !== poisonIndex) {
          succeed(i);
          d.ack();
          return;
        }
        poisonAttempts++;
        if (sim.now <= end) poisonAttemptsInWindow++;
        d.nack({ requeue: true });
      });
      new AmqpClient(net.addNode('dlq-reader'), { broker: 'rabbit' }).consume(
        'orders-dlq',
        { autoAck: true },
        (d) => {
          dlqCount++;
          dlqAt = sim.now;
          dlqReason = d.xDeath[0]?.reason ?? '';
          dlqDeliveryCount = d.xDeath[0]?.count;
        },
      );
      send = (i) => app.publish('', 'orders', i);
    }
    for (let i = 0; i < messages; i++)
      sim.scheduleAt(WARMUP_MS + i * intervalMs, () => {
        sentAt[i] = sim.now;
        if (i !== poisonIndex) requests.start();
        send(i);
      });
    sim.run({ until: end });

    // Good records: done, blocked (never done), latency.
    const latencies: number[] = [];
    const blockedLatencies: number[] = [];
    let blocked = 0;
    let behindPoison = 0;
    for (let i = 0; i < messages; i++) {
      if (i === poisonIndex) continue;
      if (Number.isNaN(doneAt[i]!)) {
        blocked++;
        blockedLatencies.push(end - sentAt[i]!);
      } else latencies.push(doneAt[i]! - sentAt[i]!);
      if (i > poisonIndex && i % 2 === poisonPartition) behindPoison++;
    }
    latencies.sort((a, b) => a - b);
    const good = messages - 1;
    const dlqAfterMs = dlqAt - sentAt[poisonIndex]!;
    const theoryDlqMs = params.delay1Ms + params.delay2Ms;
    const outcome = {
      good,
      processed: latencies.length,
      blocked,
      blockedOldestS: blockedLatencies.length === 0 ? 0 : Math.max(...blockedLatencies) / 1000,
      behindPoison,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      maxMs: latencies.length === 0 ? Number.NaN : latencies[latencies.length - 1]!,
      poisonAttempts: poisonAttemptsInWindow,
      dlq: dlqCount,
      dlqAfterS: Number.isNaN(dlqAfterMs) ? -1 : dlqAfterMs / 1000,
      theoryDlqS: mode === 'kafka-retry-topics' ? theoryDlqMs / 1000 : -1,
      dlqReason,
      xDeathCount: dlqDeliveryCount ?? 0,
      windowS: (end - WARMUP_MS) / 1000,
    };
    if (mode === 'kafka-in-place') {
      check(
        'the poison record blocks its partition: every later record of that partition waits',
        blocked === behindPoison && outcome.dlq === 0,
        `${blocked} good records never processed (${behindPoison} behind the poison record on its partition), the oldest waiting ${outcome.blockedOldestS.toFixed(1)} s`,
      );
      const expected = Math.floor((end - sentAt[poisonIndex]!) / (params.backoffMs + processingMs));
      check(
        'it is retried every backoff, for ever',
        Math.abs(poisonAttemptsInWindow - expected) <= 2 + 0.02 * expected,
        `${poisonAttemptsInWindow} attempts in the window; about ${expected} expected (window / (backoff + processing))`,
      );
    } else if (mode === 'kafka-retry-topics') {
      check(
        'the other records flow: none blocked, latency unaffected',
        blocked === 0 && outcome.p99Ms < 50,
        `${latencies.length} of ${good} processed, p99 ${outcome.p99Ms.toFixed(1)} ms, max ${outcome.maxMs.toFixed(1)} ms`,
      );
      check(
        'the DLQ gets exactly the poison record after 3 attempts, at about the sum of the delays',
        outcome.dlq === 1 &&
          poisonAttempts === 3 &&
          dlqAfterMs >= theoryDlqMs &&
          dlqAfterMs <= theoryDlqMs + 200 + 3 * 1.5 * processingMs,
        `${outcome.dlq} in the DLQ after ${poisonAttempts} attempts, ${(dlqAfterMs / 1000).toFixed(3)} s after the publish; delays sum to ${(theoryDlqMs / 1000).toFixed(3)} s`,
      );
    } else if (mode === 'rabbit-quorum') {
      check(
        'dead-lettered after exactly deliveryLimit + 1 deliveries, reason delivery_limit, x-death count 1',
        outcome.dlq === 1 &&
          poisonAttempts === params.deliveryLimit + 1 &&
          dlqReason === 'delivery_limit' &&
          outcome.xDeathCount === 1,
        `${poisonAttempts} deliveries (limit ${params.deliveryLimit}), ${outcome.dlq} in the DLQ, reason ${dlqReason || 'none'}, x-death count ${outcome.xDeathCount}`,
      );
      check(
        'the other messages flow',
        blocked === 0,
        `${latencies.length} of ${good} processed, p99 ${outcome.p99Ms.toFixed(1)} ms`,
      );
    } else {
      check(
        'a classic queue redelivers it for ever, never dead-lettered',
        outcome.dlq === 0 && poisonAttemptsInWindow > 100,
        `${poisonAttemptsInWindow} deliveries in ${outcome.windowS.toFixed(1)} s, ${outcome.dlq} in the DLQ`,
      );
    }
    check(
      'conservation: every good message is processed or still waiting',
      latencies.length + blocked === good,
      `${latencies.length} processed + ${blocked} waiting = ${good}`,
    );
    return outcome;
  },
  compare(variants: readonly VariantResult[]) {
    const get = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const inPlace = get('kafka-in-place');
    const topics = get('kafka-retry-topics');
    const checks = [];
    if (inPlace !== undefined && topics !== undefined)
      checks.push({
        name: 'retry topics unblock what retrying in place blocks',
        pass: (topics.blocked as number) === 0 && (inPlace.blocked as number) > 0,
        detail: `in place: ${inPlace.blocked} blocked; retry topics: ${topics.blocked} blocked, p99 ${(topics.p99Ms as number).toFixed(1)} ms`,
      });
    return checks;
  },
});
