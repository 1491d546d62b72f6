import {
  checkDuration,
  type Duration,
  invalidOption,
  optionKeys,
  type RpcEndpoint,
  requireOptions,
  type ScheduledHandle,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import type { LogRecord } from '../cluster/types.js';
import type { RecordSource, SourceFetch, SourceFetchResult, SourceOffset } from './record-source.js';

/**
 * Options of a {@link MemoryRecordSource}.
 *
 * @example
 * ```ts
 * new MemoryRecordSource(sim, { topics: { orders: 6 }, latency: 1 });
 * ```
 */
export interface MemoryRecordSourceOptions {
  /** Partition count per topic. */
  topics: Readonly<Record<string, number>>;
  /** Time from a fetch to its answer when records are available (a round trip). @default 1 ms */
  latency?: Duration;
  /** Record size in bytes, for `maxBytes`. @default 100 */
  recordSize?: number;
}

const KEYS = optionKeys<MemoryRecordSourceOptions>()({ topics: true, latency: true, recordSize: true });

interface Parked {
  readonly request: SourceFetch;
  readonly event: SimEvent<SourceFetchResult>;
  readonly timer: ScheduledHandle;
}

/**
 * An in-memory {@link RecordSource}: one append-only log per partition, every appended record at once
 * below the high watermark (no replication), fetches answered after `latency` and long-polled up to
 * `maxWaitMs` when empty (an append wakes them). Record ids are `<topic>-<partition>@<offset>`.
 * Not on the network: a fetch from a crashed consumer still completes and the consumer ignores it.
 *
 * @example
 * ```ts
 * const source = new MemoryRecordSource(sim, { topics: { t: 4 } });
 * source.append('t', 0, 100); // 100 records on t-0
 * ```
 */
export class MemoryRecordSource implements RecordSource {
  private readonly logs = new Map<string, LogRecord[]>();
  private readonly counts = new Map<string, number>();
  private readonly parked = new Map<string, Parked[]>();
  private readonly latency: number;
  private readonly recordSize: number;

  /** @param options - see {@link MemoryRecordSourceOptions} */
  constructor(
    readonly sim: Simulation,
    options: MemoryRecordSourceOptions,
  ) {
    requireOptions('MemoryRecordSource', options, KEYS);
    const topics = options.topics;
    if (typeof topics !== 'object' || topics === null || Object.keys(topics).length === 0)
      throw invalidOption(
        'MemoryRecordSource',
        'topics',
        topics,
        'an object of topic to partition count, such as { t: 3 }',
      );
    for (const [topic, n] of Object.entries(topics)) {
      if (!Number.isSafeInteger(n) || n < 1)
        throw invalidOption('MemoryRecordSource', `topics.${topic}`, n, 'a partition count: an integer >= 1');
      this.counts.set(topic, n);
      for (let p = 0; p < n; p++) this.logs.set(`${topic}-${p}`, []);
    }
    this.latency = checkDuration('MemoryRecordSource', 'latency', options.latency, {}, 1);
    const size = options.recordSize ?? 100;
    if (!Number.isSafeInteger(size) || size < 1)
      throw invalidOption('MemoryRecordSource', 'recordSize', size, 'an integer >= 1 (bytes)');
    this.recordSize = size;
  }

  /** Appends `count` records to a partition; returns the offset of the first. */
  append(topic: string, partition: number, count = 1): number {
    const log = this.log(topic, partition);
    const base = log.length;
    for (let i = 0; i < count; i++) {
      const offset = log.length;
      log.push({
        offset,
        epoch: 0,
        producerId: -1,
        producerEpoch: -1,
        sequence: -1,
        baseSequence: -1,
        lastSequence: -1,
        key: null,
        size: this.recordSize,
        appendedAt: this.sim.now,
        recordId: `${topic}-${partition}@${offset}`,
      });
    }
    const key = `${topic}-${partition}`;
    const waiting = this.parked.get(key);
    if (waiting !== undefined && count > 0) {
      this.parked.delete(key);
      for (const w of waiting) {
        w.timer.cancel();
        this.answer(w.request, w.event, this.latency / 2);
      }
    }
    return base;
  }

  /** The records of a partition so far. */
  records(topic: string, partition: number): readonly LogRecord[] {
    return this.log(topic, partition);
  }

  partitionCount(topic: string): number | undefined {
    return this.counts.get(topic);
  }

  leaderOf(topic: string, partition: number): string | null {
    this.log(topic, partition);
    return 'memory';
  }

  highWatermark(topic: string, partition: number): number {
    return this.log(topic, partition).length;
  }

  fetch(_client: RpcEndpoint<any, any>, request: SourceFetch): SimEvent<SourceFetchResult> {
    const log = this.log(request.topic, request.partition);
    const event = this.sim.event<SourceFetchResult>();
    if (request.offset < log.length || request.offset > log.length || request.maxWaitMs <= 0) {
      this.answer(request, event, this.latency);
      return event;
    }
    // Nothing yet: the request reaches the "broker" after half the round trip and waits there.
    const key = `${request.topic}-${request.partition}`;
    const list = this.parked.get(key) ?? [];
    this.parked.set(key, list);
    const timer = this.sim.schedule(this.latency / 2 + request.maxWaitMs, () => {
      const i = list.findIndex((w) => w.event === event);
      if (i >= 0) list.splice(i, 1);
      this.answer(request, event, this.latency / 2);
    });
    list.push({ request, event, timer });
    return event;
  }

  listOffset(
    _client: RpcEndpoint<any, any>,
    topic: string,
    partition: number,
    which: 'earliest' | 'latest',
  ): SimEvent<SourceOffset> {
    const log = this.log(topic, partition);
    const event = this.sim.event<SourceOffset>();
    const offset = which === 'earliest' ? 0 : log.length;
    this.sim.schedule(this.latency, () => event.succeed({ error: null, offset }));
    return event;
  }

  private answer(request: SourceFetch, event: SimEvent<SourceFetchResult>, delay: number): void {
    this.sim.schedule(delay, () => {
      const log = this.log(request.topic, request.partition);
      if (request.offset > log.length) {
        event.succeed({
          error: 'offset-out-of-range',
          records: [],
          highWatermark: log.length,
          logStartOffset: 0,
        });
        return;
      }
      const records: LogRecord[] = [];
      let bytes = 0;
      for (let o = request.offset; o < log.length; o++) {
        const r = log[o]!;
        if (records.length > 0 && bytes + r.size > request.maxBytes) break;
        records.push(r);
        bytes += r.size;
      }
      event.succeed({ error: null, records, highWatermark: log.length, logStartOffset: 0 });
    });
  }

  private log(topic: string, partition: number): LogRecord[] {
    const log = this.logs.get(`${topic}-${partition}`);
    if (log === undefined)
      throw invalidOption(
        'MemoryRecordSource',
        'partition',
        `${topic}-${partition}`,
        'a partition of the configured topics',
      );
    return log;
  }
}
