import { checkFunction, checkNumber, invalidOption, optionKeys, requireOptions } from '@dsim/core';

/*
 * The Kafka producer's built-in partitioner (Kafka >= 3.3): keyed records go to murmur2(key) mod partitions
 * (`BuiltInPartitioner.partitionForKey`), unkeyed ones to a sticky partition that changes once about
 * batch.size bytes went to it (KIP-480's sticky partitioner as refined by KIP-794's uniform sticky one).
 */

const SEED = 0x9747b28c | 0;
const M = 0x5bd1e995;

/**
 * Kafka's `Utils.murmur2`: 32-bit MurmurHash2 with seed `0x9747b28c`, as a signed 32-bit integer (Java's
 * `int`), bit for bit. The hash behind every keyed record's partition, and so behind which partition a key
 * lands on in every Kafka client that is compatible with the Java one.
 *
 * @example
 * ```ts
 * murmur2(new TextEncoder().encode('21')); // -973932308 (Kafka's UtilsTest)
 * ```
 */
export function murmur2(data: Uint8Array): number {
  if (!(data instanceof Uint8Array)) throw invalidOption('murmur2', 'data', data, 'a Uint8Array');
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last 1-3 bytes (Java's switch with fall-through).
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Kafka's `Utils.toPositive`: clears the sign bit of a 32-bit integer (`n & 0x7fffffff`), so that
 * `Integer.MIN_VALUE` maps to 0 rather than overflowing as `Math.abs` would.
 *
 * @example
 * ```ts
 * toPositive(-973932308); // 1173551340
 * ```
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

const encoder = new TextEncoder();

function checkPartitions(where: string, field: string, value: unknown): number {
  return checkNumber(where, field, value, { integer: true, min: 1, max: 0x7fffffff });
}

/**
 * The partition of a keyed record: `toPositive(murmur2(key)) % numPartitions`, Kafka's
 * `BuiltInPartitioner.partitionForKey` (and the old `DefaultPartitioner`). A string key is hashed as its
 * UTF-8 bytes, which is what Kafka's `StringSerializer` produces by default. Adding partitions moves most
 * keys: the mapping is a plain modulo.
 *
 * @example
 * ```ts
 * partitionForKey('21', 10); // 0 (toPositive(-973932308) % 10)
 * ```
 */
export function partitionForKey(key: string | Uint8Array, numPartitions: number): number {
  checkPartitions('partitionForKey', 'numPartitions', numPartitions);
  let bytes: Uint8Array;
  if (typeof key === 'string') bytes = encoder.encode(key);
  else if (key instanceof Uint8Array) bytes = key;
  else
    throw invalidOption(
      'partitionForKey',
      'key',
      key,
      'a string or a Uint8Array (use the sticky partitioner for null keys)',
    );
  return toPositive(murmur2(bytes)) % numPartitions;
}

/**
 * Options of {@link StickyPartitioner}.
 *
 * @example
 * ```ts
 * const options: StickyPartitionerOptions = { partitions: 6, random: () => rng.next() };
 * ```
 */
export interface StickyPartitionerOptions {
  /** The topic's partition count: an integer >= 1. */
  readonly partitions: number;
  /**
   * Where each switch draws from: a function returning a number in [0, 1), such as a seeded stream of the
   * simulation (never an unseeded global generator: runs must replay). Stands for Java's `ThreadLocalRandom.nextInt()`.
   */
  readonly random: () => number;
  /** `batch.size`: bytes produced to the sticky partition before switching (in bytes, >= 1). @default 16384 */
  readonly batchSize?: number;
}

const PARTITIONER_KEYS = optionKeys<StickyPartitionerOptions>()({
  partitions: true,
  random: true,
  batchSize: true,
});

/**
 * The Kafka producer's partitioner for records without a key (Kafka >= 3.3, `BuiltInPartitioner`; KIP-794,
 * which refined KIP-480's sticky partitioner). Unkeyed records all go to one partition until about
 * `batch.size` bytes have gone to it, then to another drawn at random, so batches fill up instead of one
 * tiny batch per partition. The switch waits for the partition's current batch to be full (or sent), so
 * that a partly filled batch is not abandoned, but happens regardless at 2 x `batch.size`.
 *
 * Adaptive partitioning (`partitioner.adaptive.partitioning.enable`, on by default) is modelled through
 * {@link StickyPartitioner.updateLoadStats}: given each partition's queue length (batches waiting), the next
 * partition is drawn with weight `maxQueue + 1 - queue`, so partitions on slow brokers get less; without it
 * (or with equal queues) the draw is uniform. Not modelled: `partitioner.availability.timeout.ms` and
 * leaderless partitions (pass the available partitions' ids to `updateLoadStats` to exclude others), and
 * Java's `random % n` bias (the draw here is `floor(u * n)`). The KIP-480 partitioner of Kafka 2.4 to 3.2
 * instead switched on every new batch and never redrew the same partition.
 *
 * @example
 * ```ts
 * const sticky = new StickyPartitioner({ partitions: 6, random: () => rng.next() });
 * const p = sticky.partition();  // where the next unkeyed record goes
 * sticky.onAppend(1_000, false); // 1 kB appended; the batch is not full yet
 * ```
 */
export class StickyPartitioner {
  /** The topic's partition count. */
  readonly partitions: number;
  /** `batch.size` in bytes. */
  readonly batchSize: number;
  private readonly random: () => number;
  private current = -1;
  private produced = 0;
  // KIP-794's cumulative frequency table over `ids`, or undefined for a uniform draw.
  private cft: number[] | undefined;
  private ids: number[] = [];
  private switchCount = 0;

  constructor(options: StickyPartitionerOptions) {
    requireOptions('StickyPartitioner', options, PARTITIONER_KEYS);
    this.partitions = checkPartitions('StickyPartitioner', 'partitions', options.partitions);
    this.random = checkFunction<() => number>(
      'StickyPartitioner',
      'random',
      options.random,
      '() => number in [0, 1)',
    );
    this.batchSize = checkNumber(
      'StickyPartitioner',
      'batchSize',
      options.batchSize,
      { integer: true, min: 1, unit: 'bytes' },
      16384,
    );
  }

  /** How many times the sticky partition was chosen (the first choice included). */
  get switches(): number {
    return this.switchCount;
  }

  /** Bytes produced to the current sticky partition so far. */
  get producedBytes(): number {
    return this.produced;
  }

  /**
   * The current sticky partition, drawing the first one on first use (`peekCurrentPartitionInfo`).
   *
   * @example
   * ```ts
   * sticky.partition(); // e.g. 4, the same until a switch
   * ```
   */
  partition(): number {
    if (this.current < 0) this.switchTo();
    return this.current;
  }

  /**
   * Records that `bytes` were appended to the current sticky partition, and switches to a new one if enough
   * went there (`updatePartitionInfo`): at `batchSize` bytes when `batchesFull` (the partition's last batch
   * is full, or none is waiting), at 2 x `batchSize` regardless. `onAppend(0, true)` completes a switch that
   * was held back, as the producer does when the partition's queue has drained.
   *
   * @param batchesFull - whether every batch queued for the partition is full @default true
   * @example
   * ```ts
   * sticky.onAppend(16_384); // a full batch: the next partition() is a fresh draw
   * ```
   */
  onAppend(bytes: number, batchesFull = true): void {
    checkNumber('StickyPartitioner.onAppend', 'bytes', bytes, { integer: true, min: 0, unit: 'bytes' });
    if (typeof batchesFull !== 'boolean')
      throw invalidOption('StickyPartitioner.onAppend', 'batchesFull', batchesFull, 'true or false');
    this.partition();
    this.produced += bytes;
    if ((this.produced >= this.batchSize && batchesFull) || this.produced >= this.batchSize * 2)
      this.switchTo();
  }

  /**
   * KIP-794's adaptive partitioning: the queue length (batches waiting) of each available partition, for
   * the next draws (`updatePartitionLoadStats`). A partition with queue `q` gets weight `max + 1 - q`.
   * `undefined`, fewer than 2 partitions in the topic, or equal queues over every partition: uniform draws.
   *
   * @param partitionIds - the partitions `queueSizes` describe (the available ones) @default 0 .. partitions-1
   * @example
   * ```ts
   * sticky.updateLoadStats([0, 3, 1]); // partitions 0, 1, 2 drawn with weights 4, 1, 3
   * ```
   */
  updateLoadStats(queueSizes: readonly number[] | undefined, partitionIds?: readonly number[]): void {
    const where = 'StickyPartitioner.updateLoadStats';
    if (queueSizes === undefined) {
      this.cft = undefined;
      return;
    }
    if (!Array.isArray(queueSizes))
      throw invalidOption(where, 'queueSizes', queueSizes, 'an array of queue lengths, or undefined');
    const ids = partitionIds ?? Array.from({ length: this.partitions }, (_, i) => i);
    if (!Array.isArray(ids) || ids.length !== queueSizes.length)
      throw invalidOption(
        where,
        'partitionIds',
        partitionIds,
        `an array as long as queueSizes (${queueSizes.length})`,
      );
    const seen = new Set<number>();
    ids.forEach((id, i) => {
      checkNumber(where, `partitionIds[${i}]`, id, { integer: true, min: 0, max: this.partitions - 1 });
      if (seen.has(id)) throw invalidOption(where, `partitionIds[${i}]`, id, 'a partition not listed twice');
      seen.add(id);
    });
    queueSizes.forEach((q, i) => {
      checkNumber(where, `queueSizes[${i}]`, q, { integer: true, min: 0 });
    });
    const length = queueSizes.length;
    if (length < 1 || this.partitions < 2) {
      this.cft = undefined;
      return;
    }
    let max = queueSizes[0]!;
    let allEqual = true;
    for (let i = 1; i < length; i++) {
      if (queueSizes[i] !== max) allEqual = false;
      if (queueSizes[i]! > max) max = queueSizes[i]!;
    }
    // Equal queues over every partition: no need for weights (Kafka's shortcut).
    if (allEqual && length === this.partitions) {
      this.cft = undefined;
      return;
    }
    const cft: number[] = [];
    let sum = 0;
    for (const q of queueSizes) cft.push((sum += max + 1 - q));
    this.cft = cft;
    this.ids = [...ids];
  }

  private switchTo(): void {
    const u = this.random();
    if (typeof u !== 'number' || !(u >= 0 && u < 1))
      throw invalidOption('StickyPartitioner', 'random()', u, 'a number in [0, 1)');
    const cft = this.cft;
    if (cft === undefined) {
      this.current = Math.floor(u * this.partitions);
    } else {
      // The first entry strictly greater than the draw (Kafka's binary search on the table).
      const r = Math.floor(u * cft[cft.length - 1]!);
      let lo = 0;
      let hi = cft.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cft[mid]! > r) hi = mid;
        else lo = mid + 1;
      }
      this.current = this.ids[lo]!;
    }
    this.produced = 0;
    this.switchCount++;
  }
}
