import {
  clusterRecordSource,
  DedupStore,
  DeliveryTally,
  GroupCoordinator,
  IdempotentConsumer,
  KafkaCluster,
  KafkaConsumer,
  KafkaProducer,
  type LogRecord,
} from '@dsim/components';
import { Network } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { MAX_MS } from './limits.js';

/** The most messages one run may generate. */
const MAX_MESSAGES = 200_000;
/** Traffic starts after this warm-up (the group's first rebalance, every replica fetcher running). */
const WARMUP_MS = 8_000;
/** Seconds simulated after the last message, for retries, rebalances and catch-up. */
const DRAIN_MS = 60_000;

const SEMANTICS = ['at-most-once', 'at-least-once', 'exactly-once-effect'] as const;

/**
 * `delivery-guarantees`: one pipeline (a source → producer → Kafka topic → consumer group → a store that
 * counts effects) under a fault at every step (acks lost on the way back to the producer, a consumer
 * crash mid-batch, the crash of a partition leader), configured three ways: at-most-once,
 * at-least-once, and exactly-once effects (idempotent producer + idempotent consumer with a dedup store).
 * Losses and duplicates are counted exactly against the source's own list of what it generated.
 */
export const deliveryGuarantees = defineScenario({
  name: 'delivery-guarantees',
  description:
    'At-most-once, at-least-once and exactly-once effects in one Kafka pipeline under lost acks, a consumer crash and a leader crash: losses and duplicates counted against the source',
  params: {
    semantics: param.enum(SEMANTICS, {
      default: 'at-least-once',
      description: 'delivery configuration (set by each variant)',
    }),
    messages: param.integer({
      default: 3_000,
      min: 10,
      max: MAX_MESSAGES,
      description: 'messages the source generates, one every intervalMs',
    }),
    intervalMs: param.number({
      default: 5,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'time between two messages',
    }),
    processingMs: param.number({
      default: 12,
      min: 0,
      max: MAX_MS,
      description:
        "the consumers' processing time per record (12 ms: slower than the load, so polls return full batches)",
    }),
    ackLossMs: param.number({
      default: 3_000,
      min: 0,
      max: MAX_MS,
      description: "how long the partition leader's responses to the producer are lost (0: no such fault)",
    }),
    consumerDownMs: param.number({
      default: 2_000,
      min: 0,
      max: MAX_MS,
      description: 'how long the crashed consumer stays down (0: no consumer crash)',
    }),
    brokerDownMs: param.number({
      default: 10_000,
      min: 0,
      max: MAX_MS,
      description: 'how long the crashed partition leader stays down (0: no broker crash)',
    }),
    dedupWindow: param.integer({
      default: 100_000,
      min: 1,
      max: 10_000_000,
      description: 'exactly-once-effect: ids the dedup store remembers',
    }),
  },
  variants: [
    {
      name: 'at-most-once',
      description: 'acks=1, no retries, no idempotence; offsets committed before processing',
      params: { semantics: 'at-most-once' },
    },
    {
      name: 'at-least-once',
      description: 'acks=all, retries, no idempotence; offsets committed after processing',
      params: { semantics: 'at-least-once' },
    },
    {
      name: 'exactly-once-effect',
      description:
        'idempotent producer (acks=all) + commit after processing + a dedup store in front of the effect',
      params: { semantics: 'exactly-once-effect' },
    },
  ],
  run({ sim, params, requests, check }) {
    const { semantics, messages, intervalMs } = params;
    const net = new Network(sim, { defaults: { latency: 0.5 } });
    const cluster = new KafkaCluster(net, {
      brokers: ['b1', 'b2', 'b3'],
      topics: [{ name: 'events', partitions: 2, replicationFactor: 3, minInsyncReplicas: 2 }],
    });
    const amo = semantics === 'at-most-once';
    const producer = new KafkaProducer(net.addNode('app'), {
      bootstrap: cluster.brokerIds,
      requestTimeout: 1_500,
      ...(amo
        ? { acks: 1, retries: 0, enableIdempotence: false }
        : { acks: 'all', enableIdempotence: semantics === 'exactly-once-effect', deliveryTimeout: 40_000 }),
    });
    const source = clusterRecordSource(cluster);
    const coordinator = new GroupCoordinator(net.addNode('gc'), { groupInitialRebalanceDelay: 1_000 });
    coordinator.usePartitionCounts((t) => source.partitionCount(t));
    const tally = new DeliveryTally();
    // The downstream store: effects per message id, and the generated ids (the independent tally).
    const effects = new Map<string, number>();
    const apply = (record: LogRecord) => {
      const id = record.key!;
      effects.set(id, (effects.get(id) ?? 0) + 1);
      requests.finish(true, sim.now - sentAt[Number(id.slice(1))]!);
    };
    const dedup =
      semantics === 'exactly-once-effect'
        ? new IdempotentConsumer(sim, {
            store: new DedupStore(sim, { maxEntries: params.dedupWindow }),
            handler: apply,
          })
        : null;
    // c1's last processed offset per partition, to crash it mid-batch.
    const c1Last = new Map<number, number>();
    const onRecord = dedup === null ? apply : dedup.handle;
    for (const c of ['c1', 'c2'])
      new KafkaConsumer(net.addNode(c), {
        groupId: 'sink',
        topics: ['events'],
        coordinator: 'gc',
        source,
        tally,
        autoOffsetReset: 'earliest',
        enableAutoCommit: false,
        manualCommit: amo ? 'before-processing' : 'after-processing',
        processingTime: params.processingMs,
        maxPollRecords: 100,
        sessionTimeout: 6_000,
        heartbeatInterval: 1_000,
        onRecord: (record, topic, partition) => {
          if (c === 'c1') c1Last.set(partition, record.offset);
          onRecord(record, topic, partition);
        },
      });
    const sentAt = new Float64Array(messages);
    for (let i = 0; i < messages; i++)
      sim.scheduleAt(WARMUP_MS + i * intervalMs, () => {
        sentAt[i] = sim.now;
        requests.start();
        producer.send({ topic: 'events', key: `m${i}`, size: 200 });
      });
    // Faults, each at a seed-drawn moment inside the load.
    const rng = sim.rng('faults');
    const loadMs = messages * intervalMs;
    const at = (from: number, to: number) => WARMUP_MS + loadMs * (from + (to - from) * rng.next());
    const faults: string[] = [];
    if (params.ackLossMs > 0) {
      const t = at(0.1, 0.25);
      sim.scheduleAt(t, () => {
        const leader = cluster.partition('events', 0).leader;
        if (leader === null) return;
        faults.push(`acks from ${leader} lost at ${(t / 1000).toFixed(2)} s`);
        const h = net.partition([leader], ['app'], { oneWay: true });
        sim.schedule(params.ackLossMs, () => h.heal());
      });
    }
    if (params.consumerDownMs > 0) {
      // From a seed-drawn moment, c1 crashes at the first millisecond it is mid-batch: its position and
      // the group's committed offset differ by 5 records or more on a partition it owns.
      const t = at(0.35, 0.5);
      let crashed = false;
      for (let dt = 0; dt < 3_000; dt += 1)
        sim.scheduleAt(t + dt, () => {
          if (crashed) return;
          const gap = [...c1Last].some(
            ([p, last]) => Math.abs((coordinator.committed('sink', 'events', p) ?? 0) - (last + 1)) >= 5,
          );
          if (!gap && dt < 2_999) return;
          crashed = true;
          faults.push(`c1 crashed at ${(sim.now / 1000).toFixed(3)} s`);
          net.crash('c1');
          sim.schedule(params.consumerDownMs, () => net.restart('c1'));
        });
    }
    if (params.brokerDownMs > 0) {
      const t = at(0.6, 0.75);
      sim.scheduleAt(t, () => {
        const leader = cluster.partition('events', 1).leader;
        if (leader === null) return;
        faults.push(`${leader} (leader of events-1) crashed at ${(t / 1000).toFixed(2)} s`);
        net.crash(leader);
        sim.schedule(params.brokerDownMs, () => net.restart(leader));
      });
    }
    sim.run({ until: WARMUP_MS + loadMs + DRAIN_MS });

    let lost = 0;
    let duplicated = 0;
    let unknown = 0;
    for (let i = 0; i < messages; i++) {
      const n = effects.get(`m${i}`) ?? 0;
      if (n === 0) lost++;
      else duplicated += n - 1;
    }
    for (const id of effects.keys()) if (!/^m\d+$/.test(id) || Number(id.slice(1)) >= messages) unknown++;
    // Duplicates already in the log (producer retries) against redeliveries by the consumers.
    const logCounts = new Map<string, number>();
    for (let p = 0; p < 2; p++)
      for (const r of cluster.committed('events', p) ?? [])
        logCounts.set(r.key!, (logCounts.get(r.key!) ?? 0) + 1);
    let logDuplicates = 0;
    for (const n of logCounts.values()) logDuplicates += n - 1;
    const ps = producer.stats;
    const effectsTotal = [...effects.values()].reduce((s, n) => s + n, 0);
    const outcome = {
      generated: messages,
      effects: effectsTotal,
      distinct: effects.size,
      lost,
      duplicated,
      notInLog: messages - logCounts.size,
      logDuplicates,
      redeliveries: tally.duplicates,
      dedupCaught: dedup?.stats.duplicates ?? 0,
      producerAcked: ps.acked,
      producerFailed: ps.failed,
      producerRetries: ps.retries,
      faults: faults.join('; '),
    };
    check(
      'conservation: every generated message is applied or lost, and nothing else is applied',
      effects.size + lost === messages && unknown === 0 && effectsTotal === effects.size + duplicated,
      `${effects.size} applied + ${lost} lost = ${messages} generated; ${effectsTotal} effects = ${effects.size} + ${duplicated} duplicates; ${unknown} unknown ids`,
    );
    check(
      'every fault was injected',
      faults.length === 3 || params.ackLossMs * params.consumerDownMs * params.brokerDownMs === 0,
      outcome.faults,
    );
    if (semantics === 'at-most-once')
      check(
        'at-most-once: messages lost, none applied twice',
        lost > 0 && duplicated === 0,
        `${lost} lost (${outcome.notInLog} never in the log), ${duplicated} duplicated`,
      );
    else if (semantics === 'at-least-once')
      check(
        'at-least-once: nothing lost, some applied twice',
        lost === 0 && duplicated > 0,
        `${lost} lost, ${duplicated} duplicated (${logDuplicates} duplicates in the log from producer retries, ${tally.duplicates} consumer redeliveries)`,
      );
    else
      check(
        'exactly-once effects: nothing lost, nothing applied twice',
        lost === 0 && duplicated === 0,
        `${lost} lost, ${duplicated} duplicated; the dedup store caught ${outcome.dedupCaught} redeliveries, the log holds ${logDuplicates} duplicates`,
      );
    return outcome;
  },
  compare(variants: readonly VariantResult[]) {
    const get = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const alo = get('at-least-once');
    const eoe = get('exactly-once-effect');
    const checks = [];
    if (alo !== undefined && eoe !== undefined)
      checks.push({
        name: 'the dedup store removes the duplicates at-least-once shows, and the idempotent producer keeps them out of the log',
        pass:
          (eoe.duplicated as number) === 0 &&
          (alo.duplicated as number) > 0 &&
          (eoe.logDuplicates as number) === 0,
        detail: `at-least-once: ${alo.duplicated} duplicated (${alo.logDuplicates} in the log); exactly-once-effect: ${eoe.duplicated} (${eoe.logDuplicates} in the log, ${eoe.dedupCaught} caught)`,
      });
    return checks;
  },
});
