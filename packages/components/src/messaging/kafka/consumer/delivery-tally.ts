/**
 * One processed record as the tally saw it.
 *
 * @example
 * ```ts
 * tally.history[0]; // { key: 't-0@0', consumer: 'c1', at: 12.5 }
 * ```
 */
export interface TallyEntry {
  /** `<topic>-<partition>@<offset>`. */
  readonly key: string;
  /** Address of the consumer that processed it. */
  readonly consumer: string;
  /** When processing finished. */
  readonly at: number;
}

/**
 * How many times the application processed each record, keyed `<topic>-<partition>@<offset>` (one log
 * position, whoever produced it): the ground truth for delivery semantics. A record processed twice is a
 * duplicate (at-least-once after a crash or rebalance); a record below the end of the log never
 * processed is a loss (at-most-once). Share one tally between the consumers of a group.
 *
 * @example
 * ```ts
 * const tally = new DeliveryTally();
 * new KafkaConsumer(node, { ..., tally });
 * sim.run({ until: 120_000 });
 * tally.duplicates;          // extra deliveries
 * tally.missing('t', 0, 1000); // offsets in [0, 1000) never processed
 * ```
 */
export class DeliveryTally {
  private readonly counts = new Map<string, number>();
  private readonly entries: TallyEntry[] = [];
  private dups = 0;

  /** Records one processing of `offset` of a partition by `consumer` at `at`. */
  processed(topic: string, partition: number, offset: number, consumer: string, at: number): void {
    const key = `${topic}-${partition}@${offset}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (n > 1) this.dups++;
    this.entries.push({ key, consumer, at });
  }

  /** How many times a record was processed (0 if never). */
  count(topic: string, partition: number, offset: number): number {
    return this.counts.get(`${topic}-${partition}@${offset}`) ?? 0;
  }

  /** Processings in all, duplicates included. */
  get total(): number {
    return this.entries.length;
  }

  /** Distinct records processed. */
  get distinct(): number {
    return this.counts.size;
  }

  /** Extra processings: the sum over records of (count - 1). */
  get duplicates(): number {
    return this.dups;
  }

  /** Every processing, in order. */
  get history(): readonly TallyEntry[] {
    return this.entries;
  }

  /** Offsets in [from, to) of a partition processed more than once. */
  duplicated(topic: string, partition: number, to: number, from = 0): number[] {
    const out: number[] = [];
    for (let o = from; o < to; o++) if (this.count(topic, partition, o) > 1) out.push(o);
    return out;
  }

  /** Offsets in [from, to) of a partition never processed (losses, once the consumers caught up). */
  missing(topic: string, partition: number, to: number, from = 0): number[] {
    const out: number[] = [];
    for (let o = from; o < to; o++) if (this.count(topic, partition, o) === 0) out.push(o);
    return out;
  }
}
