import type { SimEvent } from '@dsim/core';
import type { LogRecord } from '../cluster/types.js';
import type { KafkaProducer, ProducerRecord } from '../producer/kafka-producer.js';
import type { TxnOutcome } from '../producer/transaction-manager.js';
import type { ConsumedBatch } from './consumer-options.js';

/** What a {@link TransactionalRelay} has done. */
export interface TransactionalRelayStats {
  /** Transactions committed (one per batch). */
  committed: number;
  /** Transactions aborted (a send or the commit failed); the consumer rewound to its committed offsets. */
  aborted: number;
  /** Batches dropped because the producer was fenced (a newer instance owns the transactional id). */
  fenced: number;
  /** Output records sent in committed transactions. */
  produced: number;
}

/**
 * Exactly-once consume-transform-produce (KIP-98's canonical loop) as a consumer's `onBatch`: for each
 * batch the consumer has processed, `beginTransaction()`, one `send()` per output record of
 * `transform`, `sendOffsetsToTransaction(positions, consumer.groupMetadata())`, `commitTransaction()`.
 * On a failure it aborts and rewinds the consumer to its committed offsets; a fenced producer (a newer
 * instance with the same `transactional.id`) produces nothing more. The producer's transactions are
 * initialised lazily (again after a crash of its node). Use it with `enableAutoCommit: false`,
 * `manualCommit: 'none'` and, downstream, `isolationLevel: 'read_committed'`.
 *
 * @example
 * ```ts
 * const producer = new KafkaProducer(node, { bootstrap: cluster.brokerIds, transactionalId: 'relay-0' });
 * const relay = new TransactionalRelay(producer, (r) => ({ topic: 'out', key: r.key, value: r.recordId }));
 * new KafkaConsumer(node, {
 *   groupId: 'relay', topics: ['in'], coordinator: 'gc', source, enableAutoCommit: false,
 *   manualCommit: 'none', isolationLevel: 'read_committed', onBatch: relay.onBatch,
 * });
 * ```
 */
export class TransactionalRelay {
  private readonly counts: TransactionalRelayStats = { committed: 0, aborted: 0, fenced: 0, produced: 0 };

  /**
   * @param producer - a producer with a `transactionalId`
   * @param transform - the output records of one input record (none, one or several)
   */
  constructor(
    readonly producer: KafkaProducer,
    private readonly transform: (
      record: LogRecord,
      topic: string,
      partition: number,
    ) => ProducerRecord | readonly ProducerRecord[] | null,
  ) {
    if (producer.transactionState === null)
      throw new Error('TransactionalRelay: the producer needs a transactionalId');
  }

  /** A copy of the counters. */
  get stats(): TransactionalRelayStats {
    return { ...this.counts };
  }

  /** The consumer's `onBatch` hook. */
  readonly onBatch = (batch: ConsumedBatch): SimEvent<unknown> => {
    const sim = this.producer.node.network.sim;
    const out = sim.event<unknown>();
    const state = this.producer.transactionState;
    if (state === 'uninitialized') {
      this.producer.initTransactions().onProcessed((ev) => {
        if ((ev.value as TxnOutcome).ok) this.run(batch, out);
        else this.give(batch, out);
      });
      return out;
    }
    if (state !== 'ready') {
      this.give(batch, out);
      return out;
    }
    this.run(batch, out);
    return out;
  };

  /** The batch cannot be produced: fenced, or the producer is not usable. */
  private give(batch: ConsumedBatch, out: SimEvent<unknown>): void {
    this.counts.fenced++;
    batch.rewind();
    out.succeed(false);
  }

  private run(batch: ConsumedBatch, out: SimEvent<unknown>): void {
    const p = this.producer;
    p.beginTransaction();
    let sent = 0;
    for (const { record, topic, partition } of batch.records) {
      const res = this.transform(record, topic, partition);
      const list: readonly ProducerRecord[] =
        res === null ? [] : Array.isArray(res) ? res : [res as ProducerRecord];
      for (const r of list) {
        p.send(r);
        sent++;
      }
    }
    p.sendOffsetsToTransaction(batch.offsets, batch.group);
    p.commitTransaction().onProcessed((ev) => {
      const outcome = ev.value as TxnOutcome;
      if (outcome.ok) {
        this.counts.committed++;
        this.counts.produced += sent;
        out.succeed(true);
        return;
      }
      if (!outcome.ok && outcome.error === 'producer-crashed') {
        out.succeed(false); // the node crashed: the consumer went with it
        return;
      }
      if (p.transactionState === 'fenced') {
        this.give(batch, out);
        return;
      }
      p.abortTransaction().onProcessed(() => {
        this.counts.aborted++;
        batch.rewind();
        out.succeed(false);
      });
    });
  }
}
