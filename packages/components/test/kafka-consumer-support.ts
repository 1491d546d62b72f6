import { Network, Simulation } from '@dsim/core';
import type { KafkaConsumerOptions } from '../src/messaging/kafka/consumer/consumer-options.js';
import type { GroupCoordinatorOptions } from '../src/messaging/kafka/consumer/coordinator-options.js';
import { DeliveryTally } from '../src/messaging/kafka/consumer/delivery-tally.js';
import { GroupCoordinator } from '../src/messaging/kafka/consumer/group-coordinator.js';
import { ConsumerGroupMonitor } from '../src/messaging/kafka/consumer/group-monitor.js';
import { KafkaConsumer } from '../src/messaging/kafka/consumer/kafka-consumer.js';
import { MemoryRecordSource } from '../src/messaging/kafka/consumer/memory-record-source.js';
import type { RecordSource } from '../src/messaging/kafka/consumer/record-source.js';

/** Test rig: a coordinator `gc`, an in-memory source (topic `t`), a shared tally and monitor, 0.5 ms links. */
export function consumerRig(
  options: {
    seed?: number;
    partitions?: number;
    coordinator?: GroupCoordinatorOptions;
    source?: RecordSource;
    sim?: Simulation;
    net?: Network;
  } = {},
) {
  const sim = options.sim ?? new Simulation({ seed: options.seed ?? 1 });
  const net = options.net ?? new Network(sim, { defaults: { latency: 0.5 } });
  const memory =
    options.source === undefined
      ? new MemoryRecordSource(sim, { topics: { t: options.partitions ?? 6 } })
      : null;
  const source = options.source ?? memory!;
  const coordinator = new GroupCoordinator(net.addNode('gc'), options.coordinator ?? {});
  coordinator.usePartitionCounts((t) => source.partitionCount(t));
  const tally = new DeliveryTally();
  const monitor = new ConsumerGroupMonitor(sim, {
    groupId: 'g',
    topics: ['t'],
    source,
    coordinator,
    sampleEvery: 0,
  });
  const consumers = new Map<string, KafkaConsumer>();
  const add = (address: string, extra: Partial<KafkaConsumerOptions> = {}) => {
    const c = new KafkaConsumer(net.addNode(address), {
      groupId: 'g',
      topics: ['t'],
      coordinator: 'gc',
      source,
      tally,
      monitor,
      ...extra,
    });
    consumers.set(address, c);
    return c;
  };
  /** Appends `perPartition` records to every partition of `t` every `everyMs` from `from` to `to`. */
  const produce = (from: number, to: number, everyMs: number, perPartition = 1) => {
    const n = source.partitionCount('t')!;
    for (let t = from; t < to; t += everyMs)
      sim.scheduleAt(t, () => {
        for (let p = 0; p < n; p++) memory!.append('t', p, perPartition);
      });
  };
  /** Assignment per consumer address, as t0p1 strings. */
  const assignments = () => Object.fromEntries([...consumers].map(([a, c]) => [a, c.assignment()]));
  return { sim, net, source, memory, coordinator, tally, monitor, consumers, add, produce, assignments };
}
