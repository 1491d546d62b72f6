import type { Counter, NetNode, RpcEndpoint, RpcResponse, SimEvent, Simulation } from '@dsim/core';
import { type KafkaErrorCode, type TxnRequest, type TxnResponse, tpKey } from '../cluster/types.js';
import type { ProducerConfig } from './producer-options.js';

/**
 * The client side of a transactional producer (Kafka's `TransactionManager`, kebab-case states).
 * `fenced` is fatal: a newer producer with the same `transactional.id` took over (or the coordinator
 * timed the transaction out); `abortable-error` means a record of the transaction failed: the
 * application must call `abortTransaction()`.
 *
 * @example
 * ```ts
 * if (producer.transactionState === 'fenced') sim.log('a newer instance took over');
 * ```
 */
export type TransactionState =
  | 'uninitialized'
  | 'initializing'
  | 'ready'
  | 'in-transaction'
  | 'committing'
  | 'aborting'
  | 'abortable-error'
  | 'fenced';

/**
 * The outcome of a transactional call (`initTransactions`, `sendOffsetsToTransaction`,
 * `commitTransaction`, `abortTransaction`): errors are values.
 *
 * @example
 * ```ts
 * const out = yield producer.commitTransaction();
 * if (!out.ok) yield producer.abortTransaction();
 * ```
 */
export type TxnOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly error: KafkaErrorCode | 'timeout' | 'transaction-aborted' | 'producer-crashed';
    };

/**
 * The consumer's group as `sendOffsetsToTransaction` needs it (Kafka's `ConsumerGroupMetadata`, from
 * `consumer.groupMetadata()`): with a member id and generation the group coordinator fences a zombie
 * consumer's offsets (KIP-447).
 *
 * @example
 * ```ts
 * producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
 * ```
 */
export interface ConsumerGroupMetadata {
  readonly groupId: string;
  /** Address of the group's coordinator. */
  readonly coordinator: string;
  /** @default '' (no generation check) */
  readonly memberId?: string;
  /** @default -1 (no generation check) */
  readonly generationId?: number;
}

/** An offset to commit in a transaction: the next offset to consume. */
export interface TxnOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** What the manager needs from its producer. @internal */
export interface TxnProducerHost {
  readonly node: NetNode<any>;
  readonly rpc: RpcEndpoint;
  readonly sim: Simulation;
  readonly config: ProducerConfig;
  /** The coordinator's address from metadata, or null (metadata is refreshed). */
  coordinator(): string | null;
  /** A new producer id / epoch: reset sequences and start sending. */
  initialized(producerId: number, epoch: number): void;
  /** Fail every record not yet acknowledged (fenced) or never sent (abort). */
  failRecords(error: 'producer-fenced' | 'transaction-aborted', onlyUnsent: boolean): void;
  drain(): void;
}

/** Kafka's `max.block.ms`: how long transactional calls retry retriable errors. */
const MAX_BLOCK_MS = 60_000;

/**
 * The transactional state machine of one producer. @internal
 *
 * @example
 * ```ts
 * const txn = new TransactionManager(host, 'relay-0');
 * txn.init();
 * ```
 */
export class TransactionManager {
  state: TransactionState = 'uninitialized';
  producerId = -1;
  epoch = -1;
  private incarnation = 0;
  private readonly added = new Set<string>();
  private readonly adding = new Set<string>();
  private hasGroups = false;
  /** Records of the current transaction not yet acknowledged or failed; offset requests in flight. */
  private unsettled = 0;
  private opsInFlight = 0;
  private waiters: Array<() => void> = [];
  /** A failure forces an epoch bump before the next transaction (KIP-360): sequences may have gaps. */
  private bumpNeeded = false;
  private readonly meters: { commits: Counter; aborts: Counter };

  constructor(
    private readonly host: TxnProducerHost,
    readonly transactionalId: string,
  ) {
    const m = host.sim.metrics;
    this.meters = {
      commits: m.counter(host.node.address, 'kafka.producer.txn-commits'),
      aborts: m.counter(host.node.address, 'kafka.producer.txn-aborts'),
    };
  }

  /** The producer crashed: everything in memory is lost. */
  reset(): void {
    this.incarnation++;
    this.state = 'uninitialized';
    this.producerId = -1;
    this.epoch = -1;
    this.added.clear();
    this.adding.clear();
    this.hasGroups = false;
    this.unsettled = 0;
    this.opsInFlight = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** `initTransactions()`: InitProducerId for the transactional id, retried while the coordinator is busy. */
  init(): SimEvent<TxnOutcome> {
    const out = this.host.sim.event<TxnOutcome>();
    if (this.state !== 'uninitialized' && this.state !== 'ready') {
      out.succeed({ ok: false, error: this.state === 'fenced' ? 'producer-fenced' : 'invalid-txn-state' });
      return out;
    }
    this.state = 'initializing';
    const inc = this.incarnation;
    this.request(
      {
        api: 'init-producer-id-txn',
        transactionalId: this.transactionalId,
        transactionTimeoutMs: this.host.config.transactionTimeoutMs,
      },
      (res) => {
        if (inc !== this.incarnation) return;
        if (res.error !== null) {
          this.state = 'uninitialized';
          out.succeed({ ok: false, error: res.error });
          return;
        }
        this.producerId = res.producerId;
        this.epoch = res.producerEpoch;
        this.bumpNeeded = false;
        this.state = 'ready';
        this.host.initialized(res.producerId, res.producerEpoch);
        out.succeed({ ok: true });
      },
    );
    return out;
  }

  /** `beginTransaction()`: a local state change; throws unless the producer is ready. */
  begin(): void {
    if (this.state === 'fenced') throw new Error(`KafkaProducer(${this.transactionalId}): producer fenced`);
    if (this.state !== 'ready')
      throw new Error(
        `KafkaProducer(${this.transactionalId}): beginTransaction() in state '${this.state}' (call initTransactions() first, and end the previous transaction)`,
      );
    this.state = 'in-transaction';
    this.added.clear();
    this.adding.clear();
    this.hasGroups = false;
    this.unsettled = 0;
  }

  /** Checks a send: null to go ahead, or the error to fail the record with; throws outside a transaction. */
  checkSend(): 'producer-fenced' | 'transaction-aborted' | null {
    if (this.state === 'fenced') return 'producer-fenced';
    if (this.state === 'abortable-error' || this.state === 'aborting') return 'transaction-aborted';
    if (this.state !== 'in-transaction')
      throw new Error(
        `KafkaProducer(${this.transactionalId}): send() outside a transaction (state '${this.state}')`,
      );
    this.unsettled++;
    return null;
  }

  /** A record of the transaction settled (`error` null when acknowledged). */
  settled(error: string | null): void {
    if (this.unsettled > 0) this.unsettled--;
    if (error === 'transaction-aborted') {
      if (this.state === 'in-transaction' || this.state === 'committing') this.state = 'abortable-error';
    } else if (error !== null && error !== 'producer-fenced') this.abortable();
    this.wake();
  }

  /** A non-retriable error in the transaction: only an abort can follow. */
  abortable(): void {
    this.bumpNeeded = true;
    if (this.state === 'in-transaction' || this.state === 'committing') this.state = 'abortable-error';
  }

  /** Whether a partition was added to the transaction; if not, adds it (AddPartitionsToTxn). */
  partitionReady(topic: string, partition: number): boolean {
    const key = tpKey(topic, partition);
    if (this.added.has(key)) return true;
    if (this.adding.has(key) || (this.state !== 'in-transaction' && this.state !== 'committing'))
      return false;
    this.adding.add(key);
    const inc = this.incarnation;
    this.request(
      {
        api: 'add-partitions-to-txn',
        transactionalId: this.transactionalId,
        producerId: this.producerId,
        producerEpoch: this.epoch,
        partitions: [{ topic, partition }],
      },
      (res) => {
        if (inc !== this.incarnation) return;
        this.adding.delete(key);
        if (res.error === null) this.added.add(key);
        else if (res.error === 'producer-fenced') this.fence();
        else {
          this.abortable();
          this.host.failRecords('transaction-aborted', true);
        }
        this.host.drain();
        this.wake();
      },
    );
    return false;
  }

  /** `sendOffsetsToTransaction()`: AddOffsetsToTxn, then TxnOffsetCommit to the group coordinator. */
  sendOffsets(offsets: readonly TxnOffset[], group: ConsumerGroupMetadata): SimEvent<TxnOutcome> {
    const out = this.host.sim.event<TxnOutcome>();
    if (this.state !== 'in-transaction') {
      out.succeed(this.notInTransaction());
      return out;
    }
    const inc = this.incarnation;
    this.opsInFlight++;
    const settle = (outcome: TxnOutcome): void => {
      if (inc !== this.incarnation) return;
      this.opsInFlight--;
      if (!outcome.ok) {
        if (outcome.error === 'producer-fenced') this.fence();
        else this.abortable();
      }
      out.succeed(outcome);
      this.wake();
    };
    this.request(
      {
        api: 'add-offsets-to-txn',
        transactionalId: this.transactionalId,
        producerId: this.producerId,
        producerEpoch: this.epoch,
        groupId: group.groupId,
        groupCoordinator: group.coordinator,
      },
      (res) => {
        if (inc !== this.incarnation) return;
        if (res.error !== null) {
          settle({ ok: false, error: res.error });
          return;
        }
        this.hasGroups = true;
        this.host.rpc
          .call<{ error: KafkaErrorCode | null }>(
            group.coordinator,
            {
              api: 'txn-offset-commit',
              groupId: group.groupId,
              producerId: this.producerId,
              producerEpoch: this.epoch,
              memberId: group.memberId ?? '',
              generationId: group.generationId ?? -1,
              offsets,
            },
            { timeout: this.host.config.requestTimeoutMs, size: 32 + 16 * offsets.length },
          )
          .onProcessed((ev) => {
            const r = ev.value as RpcResponse<{ error: KafkaErrorCode | null }>;
            if (!r.ok) settle({ ok: false, error: 'timeout' });
            else settle(r.value.error === null ? { ok: true } : { ok: false, error: r.value.error });
          });
      },
    );
    return out;
  }

  /** Why an operation that needs an open transaction cannot run in the current state. */
  private notInTransaction(): TxnOutcome {
    const error =
      this.state === 'fenced'
        ? 'producer-fenced'
        : this.state === 'abortable-error'
          ? 'transaction-aborted'
          : 'invalid-txn-state';
    return { ok: false, error };
  }

  /** `commitTransaction()`: flush, then EndTxn(COMMIT); fails if a record of the transaction failed. */
  commit(): SimEvent<TxnOutcome> {
    const out = this.host.sim.event<TxnOutcome>();
    if (this.state !== 'in-transaction') {
      out.succeed(this.notInTransaction());
      return out;
    }
    this.state = 'committing';
    const inc = this.incarnation;
    this.whenFlushed(() => {
      if (inc !== this.incarnation) {
        out.succeed({ ok: false, error: 'producer-crashed' });
        return;
      }
      if (this.state !== 'committing') {
        out.succeed({
          ok: false,
          error: this.state === 'fenced' ? 'producer-fenced' : 'transaction-aborted',
        });
        return;
      }
      this.end('commit', out, inc);
    });
    return out;
  }

  /** `abortTransaction()`: drop records never sent, wait for those in flight, then EndTxn(ABORT). */
  abort(): SimEvent<TxnOutcome> {
    const out = this.host.sim.event<TxnOutcome>();
    if (this.state !== 'in-transaction' && this.state !== 'abortable-error') {
      out.succeed({ ok: false, error: this.state === 'fenced' ? 'producer-fenced' : 'invalid-txn-state' });
      return out;
    }
    this.state = 'aborting';
    this.host.failRecords('transaction-aborted', true);
    const inc = this.incarnation;
    this.whenFlushed(() => {
      if (inc !== this.incarnation) {
        out.succeed({ ok: false, error: 'producer-crashed' });
        return;
      }
      if (this.state !== 'aborting') {
        out.succeed({ ok: false, error: 'producer-fenced' });
        return;
      }
      this.end('abort', out, inc);
    });
    return out;
  }

  private end(result: 'commit' | 'abort', out: SimEvent<TxnOutcome>, inc: number): void {
    const done = (outcome: TxnOutcome): void => {
      this.added.clear();
      if (outcome.ok) {
        if (result === 'commit') this.meters.commits.inc();
        else this.meters.aborts.inc();
      }
      if (this.bumpNeeded && outcome.ok) {
        // KIP-360: bump the epoch so that sequences start over after a failed batch.
        this.state = 'ready';
        this.init().onProcessed((ev) => out.succeed(ev.value as TxnOutcome));
        return;
      }
      out.succeed(outcome);
    };
    if (this.added.size === 0 && !this.hasGroups) {
      this.state = 'ready';
      done({ ok: true });
      return;
    }
    this.request(
      {
        api: 'end-txn',
        transactionalId: this.transactionalId,
        producerId: this.producerId,
        producerEpoch: this.epoch,
        result,
      },
      (res) => {
        if (inc !== this.incarnation) return;
        if (res.error === null) {
          this.state = 'ready';
          done({ ok: true });
        } else {
          if (res.error === 'producer-fenced') this.fence();
          else this.state = 'abortable-error';
          out.succeed({ ok: false, error: res.error });
        }
      },
    );
  }

  /** Fatal: a newer epoch exists. Every record not yet acknowledged fails. */
  fence(): void {
    if (this.state === 'fenced') return;
    this.state = 'fenced';
    this.host.failRecords('producer-fenced', false);
    this.wake();
  }

  private whenFlushed(fn: () => void): void {
    this.waiters.push(fn);
    this.wake();
  }

  private wake(): void {
    if (this.unsettled > 0 || this.opsInFlight > 0 || this.adding.size > 0) {
      if (this.state !== 'fenced') return;
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Sends a coordinator request, retrying retriable errors (CONCURRENT_TRANSACTIONS, timeouts) up to max.block.ms. */
  private request(body: TxnRequest, done: (res: TxnResponse) => void, since = this.host.sim.now): void {
    const host = this.host;
    const inc = this.incarnation;
    const retry = (error: KafkaErrorCode | 'timeout'): void => {
      if (host.sim.now - since >= MAX_BLOCK_MS) {
        done({ error: error === 'timeout' ? 'request-timed-out' : error, producerId: -1, producerEpoch: -1 });
        return;
      }
      host.node.setTimer(host.config.retryBackoffMs, () => {
        if (inc === this.incarnation) this.request(body, done, since);
      });
    };
    const to = host.coordinator();
    if (to === null) {
      retry('coordinator-not-available');
      return;
    }
    host.rpc
      .call<TxnResponse>(to, body, { timeout: host.config.requestTimeoutMs, size: 64 })
      .onProcessed((ev) => {
        if (inc !== this.incarnation) return;
        const res = ev.value as RpcResponse<TxnResponse>;
        if (!res.ok) retry('timeout');
        else if (res.value.error === 'concurrent-transactions') retry('concurrent-transactions');
        else done(res.value);
      });
  }
}
