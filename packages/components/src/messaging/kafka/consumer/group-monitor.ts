import {
  checkDuration,
  checkName,
  type Duration,
  type Gauge,
  invalidOption,
  optionKeys,
  requireOptions,
  type Simulation,
} from '@dsim/core';
import type { GroupCoordinator } from './group-coordinator.js';
import type { RecordSource } from './record-source.js';

/**
 * Options of a {@link ConsumerGroupMonitor}.
 *
 * @example
 * ```ts
 * new ConsumerGroupMonitor(sim, { groupId: 'g', topics: ['t'], source, coordinator, sampleEvery: '1s' });
 * ```
 */
export interface ConsumerGroupMonitorOptions {
  /** The group watched (`group.id`). */
  groupId: string;
  /** The topics the group consumes. */
  topics: readonly string[];
  /** Where the high watermarks come from. */
  source: RecordSource;
  /** Where the committed offsets come from. */
  coordinator: GroupCoordinator;
  /** How often the lag gauges are sampled; 0 to sample only on {@link ConsumerGroupMonitor.sample}. @default 1000 ms */
  sampleEvery?: Duration;
}

const KEYS = optionKeys<ConsumerGroupMonitorOptions>()({
  groupId: true,
  topics: true,
  source: true,
  coordinator: true,
  sampleEvery: true,
});

/**
 * Group-wide measurements, what `kafka-consumer-groups.sh --describe` and Burrow show: the lag of every
 * partition (high watermark − committed offset; a partition with no commit counts from 0), and how many
 * partitions are paused (not being consumed by any live member: unassigned during a rebalance, assigned
 * to a crashed consumer, or waiting for its starting offset). Consumers given this monitor report what
 * they consume.
 *
 * Metrics under `group:<groupId>`: gauges `kafka.consumer-group.paused-partitions` (its integral is the
 * paused partition-ms), `kafka.consumer-group.lag` and `kafka.consumer-group.<topic>-<p>.lag`.
 *
 * @example
 * ```ts
 * const monitor = new ConsumerGroupMonitor(sim, { groupId: 'g', topics: ['t'], source, coordinator });
 * new KafkaConsumer(node, { ..., monitor });
 * sim.run({ until: 60_000 });
 * monitor.pausedPartitionMs(); // partition-ms not consumed
 * monitor.lag('t', 0);
 * ```
 */
export class ConsumerGroupMonitor {
  readonly groupId: string;
  readonly topics: readonly string[];
  private readonly source: RecordSource;
  private readonly coordinator: GroupCoordinator;
  private readonly consuming = new Map<string, ReadonlySet<string>>();
  private readonly partitions: string[] = [];
  private readonly paused: Gauge;
  private readonly totalLag: Gauge;
  private readonly lagGauges = new Map<string, Gauge>();

  /** @param options - see {@link ConsumerGroupMonitorOptions} */
  constructor(
    readonly sim: Simulation,
    options: ConsumerGroupMonitorOptions,
  ) {
    requireOptions('ConsumerGroupMonitor', options, KEYS);
    this.groupId = checkName('ConsumerGroupMonitor', 'groupId', options.groupId);
    this.source = options.source;
    this.coordinator = options.coordinator;
    if (!Array.isArray(options.topics) || options.topics.length === 0)
      throw invalidOption(
        'ConsumerGroupMonitor',
        'topics',
        options.topics,
        'a non-empty array of topic names',
      );
    this.topics = [...options.topics];
    for (const t of this.topics) {
      const n = this.source.partitionCount(t);
      if (n === undefined)
        throw invalidOption('ConsumerGroupMonitor', 'topics', t, 'topics the source knows');
      for (let p = 0; p < n; p++) this.partitions.push(`${t}-${p}`);
    }
    const where = `group:${this.groupId}`;
    this.paused = sim.metrics.gauge(where, 'kafka.consumer-group.paused-partitions');
    this.totalLag = sim.metrics.gauge(where, 'kafka.consumer-group.lag');
    for (const key of this.partitions)
      this.lagGauges.set(key, sim.metrics.gauge(where, `kafka.consumer-group.${key}.lag`));
    this.paused.set(this.partitions.length);
    const every = checkDuration('ConsumerGroupMonitor', 'sampleEvery', options.sampleEvery, {}, 1_000);
    if (every > 0) {
      const tick = (): void => {
        this.sample();
        sim.schedule(every, tick);
      };
      sim.schedule(every, tick);
    }
  }

  /** A consumer reports the partitions (`<topic>-<p>`) it is consuming now (empty when it crashed). */
  report(consumer: string, partitions: ReadonlySet<string>): void {
    this.consuming.set(consumer, partitions);
    this.paused.set(this.pausedNow());
  }

  /** Partitions of the group's topics that no consumer is consuming now. */
  pausedNow(): number {
    const live = new Set<string>();
    for (const set of this.consuming.values()) for (const k of set) live.add(k);
    let n = 0;
    for (const k of this.partitions) if (!live.has(k)) n++;
    return n;
  }

  /** Paused partition-ms from the start (or since `from`, given the integral then). */
  pausedPartitionMs(upTo: number = this.sim.now): number {
    return this.paused.integral(upTo);
  }

  /** Lag of a partition now: high watermark − committed offset (0 when nothing is committed yet). */
  lag(topic: string, partition: number): number {
    const hw = this.source.highWatermark(topic, partition);
    const committed = this.coordinator.committed(this.groupId, topic, partition) ?? 0;
    return Math.max(0, hw - committed);
  }

  /** Total lag over the group's partitions now. */
  totalLagNow(): number {
    let sum = 0;
    for (const t of this.topics)
      for (let p = 0; p < this.source.partitionCount(t)!; p++) sum += this.lag(t, p);
    return sum;
  }

  /** Updates the lag gauges now. */
  sample(): void {
    let sum = 0;
    for (const t of this.topics) {
      for (let p = 0; p < this.source.partitionCount(t)!; p++) {
        const lag = this.lag(t, p);
        this.lagGauges.get(`${t}-${p}`)!.set(lag);
        sum += lag;
      }
    }
    this.totalLag.set(sum);
  }
}
