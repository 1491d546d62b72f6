import {
  type Counter,
  checkDistribution,
  checkDuration,
  checkEnum,
  checkFunction,
  checkName,
  checkNumber,
  constant,
  type Distribution,
  type Duration,
  invalidOption,
  type NetNode,
  optionKeys,
  owner,
  type RandomStream,
  RpcEndpoint,
  requireOptions,
} from '@dsim/core';
import type { LogRecord } from '../kafka/cluster/types.js';
import type { RecordSource, SourceFetchResult } from '../kafka/consumer/record-source.js';
import type { KafkaProducer, ProduceOutcome } from '../kafka/producer/kafka-producer.js';

/**
 * One processing attempt as the handler sees it.
 *
 * @example
 * ```ts
 * handler: (m: ReprocessAttempt) => m.id !== 'poison' // false: failed
 * ```
 */
export interface ReprocessAttempt {
  /** The message id: the record's key (the component keys every retry and DLQ record by it). */
  readonly id: string;
  /** 1 for the first try on the main topic, 2 for the first retry, ... */
  readonly attempt: number;
  /** Topic the record was read from (the main topic or a retry topic). */
  readonly topic: string;
  readonly partition: number;
  readonly record: LogRecord;
}

/**
 * What happens to a record whose handler fails.
 *
 * @example
 * ```ts
 * const mode: ReprocessingMode = 'retry-topics';
 * ```
 */
export type ReprocessingMode = 'retry-topics' | 'in-place';

/**
 * Options of a {@link RetryTopics} worker.
 *
 * @example
 * ```ts
 * new RetryTopics(net.addNode('worker'), {
 *   source, producer, topic: 'orders', delays: [1_000, 10_000, 60_000], handler: (m) => charge(m.id),
 * });
 * ```
 */
export interface RetryTopicsOptions {
  /** Where records are read from (`clusterRecordSource(cluster)`); every topic must exist on it. */
  source: RecordSource;
  /** Publishes retry and DLQ records (on its own node: a producer takes its node's RPC endpoint). */
  producer: KafkaProducer;
  /** The main topic. */
  topic: string;
  /** `retry-topics`: retry topic i holds a failed record `delays[i]` after it was appended to it. `in-place`: unused. @default [] */
  delays?: readonly Duration[];
  /** Names of the retry topics, one per delay. @default `<topic>-retry-1`, `<topic>-retry-2`, ... */
  retryTopics?: readonly string[];
  /** The dead letter topic. @default `<topic>-dlq` */
  dlqTopic?: string;
  /** `retry-topics` (Uber's reprocessing topics) or `in-place` (retry the same record, blocking its partition). @default 'retry-topics' */
  mode?: ReprocessingMode;
  /** `in-place`: wait between two attempts at the same record. @default 1000 ms */
  backoff?: Duration;
  /** `in-place`: attempts at one record before it goes to the DLQ; Infinity retries for ever. @default Infinity */
  maxAttempts?: number;
  /** The application: true when the record was processed, false when it failed. */
  handler: (attempt: ReprocessAttempt) => boolean;
  /** Time of one attempt, sampled from stream `<address>/processing`. @default 0 */
  processingTime?: Distribution | Duration;
  /** `fetch.max.wait.ms` of the fetches. @default 500 ms */
  fetchMaxWait?: Duration;
  /** Records one fetch may return (by count; each fetch asks for `maxPartitionFetchBytes`). @default 1048576 bytes */
  maxPartitionFetchBytes?: number;
  /** Called when an attempt succeeds. @default none */
  onSuccess?: (attempt: ReprocessAttempt) => void;
  /** Called when a record's DLQ publish is acknowledged. @default none */
  onDeadLetter?: (attempt: ReprocessAttempt, outcome: ProduceOutcome) => void;
}

const RETRY_TOPICS_KEYS = optionKeys<RetryTopicsOptions>()({
  source: true,
  producer: true,
  topic: true,
  delays: true,
  retryTopics: true,
  dlqTopic: true,
  mode: true,
  backoff: true,
  maxAttempts: true,
  handler: true,
  processingTime: true,
  fetchMaxWait: true,
  maxPartitionFetchBytes: true,
  onSuccess: true,
  onDeadLetter: true,
});

/**
 * Counters of a {@link RetryTopics} worker.
 *
 * @example
 * ```ts
 * const { succeeded, deadLettered, retried } = worker.stats;
 * ```
 */
export interface RetryTopicsStats {
  /** Handler calls. */
  attempts: number;
  succeeded: number;
  failed: number;
  /** Records published to each retry topic (index 0: the first). */
  retried: number[];
  /** Records published to the DLQ (acknowledged). */
  deadLettered: number;
  /** Retry or DLQ publishes that failed: those records are lost. */
  publishFailures: number;
  /** Time the retry loops spent waiting for records to become due (ms). */
  waitedMs: number;
}

interface Loop {
  readonly topic: string;
  readonly partition: number;
  /** Index of the topic: 0 main, i for retry topic i. */
  readonly level: number;
  position: number;
}

/**
 * Non-blocking reprocessing with retry topics and a dead letter queue, after Uber's "Building Reliable
 * Reprocessing and Dead Letter Queues with Apache Kafka" (2018): a record whose handler fails on the main
 * topic is published to retry topic 1; its consumer waits until the record is `delays[0]` old, tries it
 * again, and on failure publishes it to retry topic 2, and so on; after the last retry topic it goes to
 * the DLQ. The main partition is never blocked: the next record is processed at once. With
 * `mode: 'in-place'` the worker instead retries the same record every `backoff` (the naive consumer),
 * which blocks its partition head of line until the record succeeds or `maxAttempts` sends it to the DLQ.
 *
 * Simplified: every partition of every topic is read by its own sequential loop on this node (as a group
 * with one member per partition would), from offset 0, with positions kept in memory as if committed
 * after each record; a crash of the node stops the loops and a restart resumes them from those positions.
 * Retry and DLQ records are keyed by the message id, and the attempt number is the topic's level (Kafka
 * headers are not modelled). The publish is not awaited before the next record (Uber's consumer awaits
 * it before committing; with no commits modelled the effect is the same unless the publish fails, which
 * is counted in `publishFailures`).
 *
 * Metrics under the node's address: `reprocess.attempts`, `.succeeded`, `.failed`, `.retried`,
 * `.dead-lettered`.
 *
 * @example
 * ```ts
 * const worker = new RetryTopics(net.addNode('worker'), {
 *   source: clusterRecordSource(cluster), producer: new KafkaProducer(net.addNode('worker-out'), { bootstrap }),
 *   topic: 'orders', delays: [1_000, 5_000], handler: (m) => m.id !== 'bad',
 * });
 * ```
 */
export class RetryTopics {
  /** Resolved topic names: the main one, the retry topics in order, the DLQ. */
  readonly topics: { readonly main: string; readonly retries: readonly string[]; readonly dlq: string };
  private readonly rpc: RpcEndpoint;
  private readonly source: RecordSource;
  private readonly producer: KafkaProducer;
  private readonly delaysMs: number[];
  private readonly mode: ReprocessingMode;
  private readonly backoffMs: number;
  private readonly maxAttempts: number;
  private readonly handler: (attempt: ReprocessAttempt) => boolean;
  private readonly processing: Distribution;
  private readonly fetchMaxWaitMs: number;
  private readonly maxBytes: number;
  private readonly onSuccess: ((a: ReprocessAttempt) => void) | null;
  private readonly onDeadLetter: ((a: ReprocessAttempt, o: ProduceOutcome) => void) | null;
  private readonly rng: RandomStream;
  private readonly loops: Loop[] = [];
  private readonly counts: RetryTopicsStats;
  private readonly meters: Record<'attempts' | 'succeeded' | 'failed' | 'retried' | 'deadLettered', Counter>;

  /** @param options - see {@link RetryTopicsOptions}; unknown keys and bad values throw INVALID_ARGUMENT */
  constructor(
    readonly node: NetNode<any>,
    options: RetryTopicsOptions,
  ) {
    const where = owner('RetryTopics');
    requireOptions(where, options, RETRY_TOPICS_KEYS);
    const source = options.source;
    if (typeof source !== 'object' || source === null || typeof source.fetch !== 'function')
      throw invalidOption(where, 'source', source, 'a RecordSource (clusterRecordSource(cluster))');
    this.source = source;
    if (
      typeof options.producer !== 'object' ||
      options.producer === null ||
      typeof options.producer.send !== 'function'
    )
      throw invalidOption(where, 'producer', options.producer, 'a KafkaProducer');
    this.producer = options.producer;
    const main = checkName(where, 'topic', options.topic);
    this.mode = checkEnum(where, 'mode', options.mode, ['retry-topics', 'in-place'] as const, 'retry-topics');
    const delays = options.delays ?? [];
    if (!Array.isArray(delays)) throw invalidOption(where, 'delays', delays, 'an array of durations');
    this.delaysMs = delays.map((d: unknown, i: number) => checkDuration(where, `delays[${i}]`, d));
    const retries =
      options.retryTopics === undefined
        ? this.delaysMs.map((_, i) => `${main}-retry-${i + 1}`)
        : [...options.retryTopics].map((t: unknown, i: number) => checkName(where, `retryTopics[${i}]`, t));
    if (retries.length !== this.delaysMs.length)
      throw invalidOption(
        where,
        'retryTopics',
        options.retryTopics,
        `${this.delaysMs.length} names, one per delay`,
      );
    const dlq = checkName(where, 'dlqTopic', options.dlqTopic, `${main}-dlq`);
    for (const [field, t] of [
      ['topic', main],
      ...retries.map((r, i) => [`retryTopics[${i}]`, r] as const),
      ['dlqTopic', dlq],
    ] as const)
      if (source.partitionCount(t) === undefined)
        throw invalidOption(where, field, t, 'a topic the source knows');
    this.topics = { main, retries, dlq };
    this.backoffMs = checkDuration(where, 'backoff', options.backoff, {}, 1_000);
    this.maxAttempts = checkNumber(
      where,
      'maxAttempts',
      options.maxAttempts,
      { integer: true, min: 1, infinity: true },
      Infinity,
    );
    this.handler = checkFunction(where, 'handler', options.handler, '(attempt) => boolean');
    this.processing = checkDistribution(
      where,
      'processingTime',
      options.processingTime,
      'exponential({ mean: 2 })',
      {},
      constant(0),
    );
    this.fetchMaxWaitMs = checkDuration(where, 'fetchMaxWait', options.fetchMaxWait, {}, 500);
    this.maxBytes = checkNumber(
      where,
      'maxPartitionFetchBytes',
      options.maxPartitionFetchBytes,
      { integer: true, min: 1 },
      1_048_576,
    );
    this.onSuccess =
      options.onSuccess === undefined
        ? null
        : checkFunction(where, 'onSuccess', options.onSuccess, '(attempt) => void');
    this.onDeadLetter =
      options.onDeadLetter === undefined
        ? null
        : checkFunction(where, 'onDeadLetter', options.onDeadLetter, '(attempt, outcome) => void');
    const sim = node.network.sim;
    this.rng = sim.rng(`${node.address}/processing`);
    this.rpc = RpcEndpoint.of(node);
    this.counts = {
      attempts: 0,
      succeeded: 0,
      failed: 0,
      retried: retries.map(() => 0),
      deadLettered: 0,
      publishFailures: 0,
      waitedMs: 0,
    };
    const m = sim.metrics;
    const id = node.address;
    this.meters = {
      attempts: m.counter(id, 'reprocess.attempts'),
      succeeded: m.counter(id, 'reprocess.succeeded'),
      failed: m.counter(id, 'reprocess.failed'),
      retried: m.counter(id, 'reprocess.retried'),
      deadLettered: m.counter(id, 'reprocess.dead-lettered'),
    };
    const levels = this.mode === 'retry-topics' ? [main, ...retries] : [main];
    levels.forEach((topic, level) => {
      for (let p = 0; p < source.partitionCount(topic)!; p++)
        this.loops.push({ topic, partition: p, level, position: 0 });
    });
    const start = () => {
      for (const loop of this.loops) this.fetch(loop, node.incarnation);
    };
    node.onRestart(() => start());
    sim.schedule(0, start);
  }

  /** A copy of the counters. */
  get stats(): RetryTopicsStats {
    return { ...this.counts, retried: [...this.counts.retried] };
  }

  /** Each loop's next offset, keyed `<topic>-<partition>`. */
  positions(): Record<string, number> {
    return Object.fromEntries(this.loops.map((l) => [`${l.topic}-${l.partition}`, l.position]));
  }

  private alive(inc: number): boolean {
    return this.node.incarnation === inc && this.node.state !== 'down';
  }

  private fetch(loop: Loop, inc: number): void {
    if (!this.alive(inc)) return;
    this.source
      .fetch(this.rpc, {
        topic: loop.topic,
        partition: loop.partition,
        offset: loop.position,
        maxBytes: this.maxBytes,
        maxWaitMs: this.fetchMaxWaitMs,
      })
      .onProcessed((ev) => {
        if (!this.alive(inc)) return;
        const res = ev.value as SourceFetchResult;
        const records = res.error === null ? res.records.filter((r) => r.offset >= loop.position) : [];
        if (records.length === 0) {
          // Errors and empty long polls: back off a little before the next fetch.
          this.node.setTimer(res.error === null ? 0 : 100, () => this.fetch(loop, inc));
          return;
        }
        this.work(loop, records, 0, 1, inc);
      });
  }

  /** Processes `records[i]` (attempt `attempt` in place), then the rest, then fetches again. */
  private work(loop: Loop, records: readonly LogRecord[], i: number, attempt: number, inc: number): void {
    if (!this.alive(inc)) return;
    if (i === records.length) {
      this.fetch(loop, inc);
      return;
    }
    const record = records[i]!;
    const sim = this.node.network.sim;
    // A retry topic's consumer waits until the record is due (its append time + the topic's delay).
    const due = loop.level === 0 ? sim.now : record.appendedAt + this.delaysMs[loop.level - 1]!;
    const wait = Math.max(0, due - sim.now);
    this.counts.waitedMs += wait;
    this.node.setTimer(wait, () => {
      if (!this.alive(inc)) return;
      this.node.setTimer(this.processing.sample(this.rng), () => {
        if (!this.alive(inc)) return;
        const a: ReprocessAttempt = {
          id: record.key ?? record.recordId,
          attempt: this.mode === 'in-place' ? attempt : loop.level + 1,
          topic: loop.topic,
          partition: loop.partition,
          record,
        };
        this.counts.attempts++;
        this.meters.attempts.inc();
        if (this.handler(a)) {
          this.counts.succeeded++;
          this.meters.succeeded.inc();
          this.onSuccess?.(a);
          loop.position = record.offset + 1;
          this.work(loop, records, i + 1, 1, inc);
          return;
        }
        this.counts.failed++;
        this.meters.failed.inc();
        if (this.mode === 'in-place') {
          if (attempt < this.maxAttempts) {
            this.node.setTimer(this.backoffMs, () => this.work(loop, records, i, attempt + 1, inc));
            return;
          }
          this.publish(this.topics.dlq, a, -1);
        } else if (loop.level < this.topics.retries.length)
          this.publish(this.topics.retries[loop.level]!, a, loop.level);
        else this.publish(this.topics.dlq, a, -1);
        loop.position = record.offset + 1;
        this.work(loop, records, i + 1, 1, inc);
      });
    });
  }

  private publish(topic: string, a: ReprocessAttempt, retryIndex: number): void {
    this.producer.send({ topic, key: a.id, size: a.record.size }).onProcessed((ev) => {
      const outcome = ev.value as ProduceOutcome;
      if (!outcome.ok) {
        this.counts.publishFailures++;
        return;
      }
      if (retryIndex >= 0) {
        this.counts.retried[retryIndex]!++;
        this.meters.retried.inc();
      } else {
        this.counts.deadLettered++;
        this.meters.deadLettered.inc();
        this.onDeadLetter?.(a, outcome);
      }
    });
  }
}
