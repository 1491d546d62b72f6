import type { Counter, Gauge, NetNode, RpcEndpoint, RpcResponse } from '@dsim/core';
import type { ClusterConfig } from './config.js';
import {
  type KafkaErrorCode,
  type TxnRequest,
  type TxnResponse,
  type TxnResult,
  type TxnTopicPartition,
  tpKey,
  type WriteTxnMarkerRequest,
} from './types.js';

/**
 * A transaction's state in the coordinator (Kafka's `TransactionState`, kebab-case):
 * `empty` → `ongoing` → `prepare-commit` / `prepare-abort` → `complete-commit` / `complete-abort`.
 *
 * @example
 * ```ts
 * cluster.transactions.describe('relay-0')?.state; // 'complete-commit'
 * ```
 */
export type TxnState =
  | 'empty'
  | 'ongoing'
  | 'prepare-commit'
  | 'prepare-abort'
  | 'complete-commit'
  | 'complete-abort';

/**
 * A transactional id as the coordinator knows it (Kafka's `TransactionMetadata`).
 *
 * @example
 * ```ts
 * const { producerId, producerEpoch, state, partitions } = cluster.transactions.describe('relay-0')!;
 * ```
 */
export interface TxnDescription {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly state: TxnState;
  readonly timeoutMs: number;
  /** `topic-partition` keys in the current (or last) transaction. */
  readonly partitions: readonly string[];
  /** Consumer groups whose offsets are in the transaction. */
  readonly groups: readonly string[];
  /** When the current transaction began (its first AddPartitionsToTxn / AddOffsetsToTxn). */
  readonly startedAt: number;
}

/** Coordinator counters. */
export interface TxnCoordinatorStats {
  begun: number;
  committed: number;
  aborted: number;
  /** Aborted because they stayed open longer than `transaction.timeout.ms`. */
  timedOut: number;
  /** Producer epochs bumped over a live one: InitProducerId of a new instance, or a timeout. */
  fencedProducers: number;
}

interface TxnMeta {
  readonly transactionalId: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  partitions: Map<string, TxnTopicPartition>;
  groups: Map<string, string>;
  startedAt: number;
}

/** What the coordinator needs from the controller it runs beside. */
export interface TxnCoordinatorHost {
  readonly node: NetNode<any>;
  readonly rpc: RpcEndpoint<any, unknown>;
  readonly config: ClusterConfig;
  allocateProducerId(): number;
  /** The current leader of a partition, null while it is offline. */
  leaderOf(topic: string, partition: number): string | null;
}

/**
 * Kafka's transaction coordinator (KIP-98), as a logical component on the controller's node: like the
 * controller it stands for a replicated service (the `__transaction_state` log and its leader's
 * failover are not modelled; it never fails), and its requests and markers travel over the network.
 *
 * - **InitProducerId** for a `transactional.id` gives a producer id and bumps the epoch, fencing any
 *   older producer with the same id. If that id has a transaction open, the coordinator bumps the epoch,
 *   aborts it and answers CONCURRENT_TRANSACTIONS; the new producer retries and gets the next epoch.
 * - **AddPartitionsToTxn / AddOffsetsToTxn** start the transaction (`ongoing`) and record its
 *   partitions and consumer groups. A request with an old epoch gets PRODUCER_FENCED.
 * - **EndTxn** moves it to `prepare-commit` / `prepare-abort` and answers; the coordinator then writes a
 *   COMMIT or ABORT marker to every partition (WriteTxnMarkers to the leaders, acks=all, retried until
 *   done) and tells every group coordinator to apply or drop the transaction's offsets, then completes
 *   it. Until then, requests for that id get CONCURRENT_TRANSACTIONS.
 * - **Timeouts.** Every `transaction.abort.timed.out.transaction.cleanup.interval.ms` it aborts the
 *   transactions open longer than their `transaction.timeout.ms`, bumping the epoch first (the producer
 *   is fenced, as `prepareFenceProducerEpoch` does).
 *
 * Metrics under the controller's address: counters `kafka.txn.begun`, `.committed`, `.aborted`,
 * `.timed-out`, `.fenced-producers`, gauge `kafka.txn.open`. Traces: `@dsim.kafka.txn-state`
 * (transactionalId, producerId, epoch, from, to, partitions, reason).
 *
 * @example
 * ```ts
 * const producer = new KafkaProducer(node, { bootstrap: cluster.brokerIds, transactionalId: 'relay-0' });
 * cluster.transactions.describe('relay-0'); // { state: 'ongoing', partitions: ['out-0'], ... }
 * ```
 */
export class TransactionCoordinator {
  private readonly txns = new Map<string, TxnMeta>();
  private checking = false;
  private readonly counts: TxnCoordinatorStats = {
    begun: 0,
    committed: 0,
    aborted: 0,
    timedOut: 0,
    fencedProducers: 0,
  };
  private readonly meters: {
    begun: Counter;
    committed: Counter;
    aborted: Counter;
    timedOut: Counter;
    fenced: Counter;
    open: Gauge;
  };

  constructor(private readonly host: TxnCoordinatorHost) {
    const m = host.node.network.sim.metrics;
    const id = host.node.address;
    this.meters = {
      begun: m.counter(id, 'kafka.txn.begun'),
      committed: m.counter(id, 'kafka.txn.committed'),
      aborted: m.counter(id, 'kafka.txn.aborted'),
      timedOut: m.counter(id, 'kafka.txn.timed-out'),
      fenced: m.counter(id, 'kafka.txn.fenced-producers'),
      open: m.gauge(id, 'kafka.txn.open'),
    };
  }

  /** Starts the timeout task with the first transactional id (a cluster without transactions has none). */
  private startTimeoutTask(): void {
    if (this.checking) return;
    this.checking = true;
    const host = this.host;
    const check = (): void => {
      this.abortTimedOut();
      host.node.setTimer(host.config.transactionAbortCheckIntervalMs, check);
    };
    host.node.setTimer(host.config.transactionAbortCheckIntervalMs, check);
  }

  /** A copy of the counters. */
  get stats(): TxnCoordinatorStats {
    return { ...this.counts };
  }

  /** The coordinator's view of a transactional id, or null if unknown. */
  describe(transactionalId: string): TxnDescription | null {
    const t = this.txns.get(transactionalId);
    if (t === undefined) return null;
    return {
      transactionalId,
      producerId: t.producerId,
      producerEpoch: t.producerEpoch,
      state: t.state,
      timeoutMs: t.timeoutMs,
      partitions: [...t.partitions.keys()],
      groups: [...t.groups.keys()],
      startedAt: t.startedAt,
    };
  }

  /** Serves one transaction request; the answer is synchronous (the state log write is not modelled). */
  handle(req: TxnRequest): TxnResponse {
    switch (req.api) {
      case 'init-producer-id-txn':
        return this.initProducerId(req.transactionalId, req.transactionTimeoutMs);
      case 'add-partitions-to-txn':
      case 'add-offsets-to-txn': {
        const t = this.txns.get(req.transactionalId);
        const error = this.validate(t, req.producerId, req.producerEpoch);
        if (error !== null) return this.answer(t, error);
        if (t!.state === 'prepare-commit' || t!.state === 'prepare-abort')
          return this.answer(t, 'concurrent-transactions');
        if (t!.state !== 'ongoing') this.begin(t!);
        if (req.api === 'add-partitions-to-txn')
          for (const p of req.partitions)
            t!.partitions.set(tpKey(p.topic, p.partition), { topic: p.topic, partition: p.partition });
        else t!.groups.set(req.groupId, req.groupCoordinator);
        return this.answer(t, null);
      }
      case 'end-txn': {
        const t = this.txns.get(req.transactionalId);
        const error = this.validate(t, req.producerId, req.producerEpoch);
        if (error !== null) return this.answer(t, error);
        const done = req.result === 'commit' ? 'complete-commit' : 'complete-abort';
        const preparing = req.result === 'commit' ? 'prepare-commit' : 'prepare-abort';
        if (t!.state === done) return this.answer(t, null); // a retry after the markers were written
        if (t!.state === preparing) return this.answer(t, 'concurrent-transactions');
        if (t!.state !== 'ongoing') return this.answer(t, 'invalid-txn-state');
        this.complete(t!, req.result, 'end-txn');
        return this.answer(t, null);
      }
    }
  }

  private answer(t: TxnMeta | undefined, error: KafkaErrorCode | null): TxnResponse {
    return { error, producerId: t?.producerId ?? -1, producerEpoch: t?.producerEpoch ?? -1 };
  }

  private validate(t: TxnMeta | undefined, producerId: number, epoch: number): KafkaErrorCode | null {
    if (t === undefined || t.producerId !== producerId || t.producerEpoch !== epoch) return 'producer-fenced';
    return null;
  }

  private initProducerId(transactionalId: string, timeoutMs: number): TxnResponse {
    if (!(timeoutMs > 0) || timeoutMs > this.host.config.transactionMaxTimeoutMs)
      return { error: 'invalid-transaction-timeout', producerId: -1, producerEpoch: -1 };
    let t = this.txns.get(transactionalId);
    if (t === undefined) {
      t = {
        transactionalId,
        producerId: this.host.allocateProducerId(),
        producerEpoch: 0,
        timeoutMs,
        state: 'empty',
        partitions: new Map(),
        groups: new Map(),
        startedAt: Number.NaN,
      };
      this.txns.set(transactionalId, t);
      this.startTimeoutTask();
      this.trace(t, 'none', 'empty', 'init-producer-id');
      return this.answer(t, null);
    }
    if (t.state === 'prepare-commit' || t.state === 'prepare-abort')
      return this.answer(t, 'concurrent-transactions');
    this.fence(t);
    if (t.state === 'ongoing') {
      // Abort the zombie's transaction under the new epoch; the caller retries and gets the next one.
      this.complete(t, 'abort', 'fenced by a new producer');
      return this.answer(t, 'concurrent-transactions');
    }
    t.timeoutMs = timeoutMs;
    const from = t.state;
    t.state = 'empty';
    this.trace(t, from, 'empty', 'init-producer-id');
    return this.answer(t, null);
  }

  private fence(t: TxnMeta): void {
    t.producerEpoch++;
    this.counts.fencedProducers++;
    this.meters.fenced.inc();
  }

  private begin(t: TxnMeta): void {
    const from = t.state;
    t.state = 'ongoing';
    t.partitions = new Map();
    t.groups = new Map();
    t.startedAt = this.host.node.network.sim.now;
    this.counts.begun++;
    this.meters.begun.inc();
    this.refreshOpen();
    this.trace(t, from, 'ongoing', 'add-partitions');
  }

  /** PREPARE_COMMIT / PREPARE_ABORT, then the markers, then COMPLETE. */
  private complete(t: TxnMeta, result: TxnResult, reason: string): void {
    const preparing: TxnState = result === 'commit' ? 'prepare-commit' : 'prepare-abort';
    t.state = preparing;
    this.trace(t, 'ongoing', preparing, reason);
    const epoch = t.producerEpoch;
    let pending = t.partitions.size + t.groups.size;
    const finish = (): void => {
      if (--pending > 0) return;
      const done: TxnState = result === 'commit' ? 'complete-commit' : 'complete-abort';
      t.state = done;
      if (result === 'commit') {
        this.counts.committed++;
        this.meters.committed.inc();
      } else {
        this.counts.aborted++;
        this.meters.aborted.inc();
      }
      this.refreshOpen();
      this.trace(t, preparing, done, reason);
    };
    if (pending === 0) {
      pending = 1;
      finish();
      return;
    }
    for (const p of t.partitions.values()) this.writeMarker(t, p, epoch, result, finish);
    for (const [groupId, coordinator] of t.groups)
      this.writeGroupMarker(t, groupId, coordinator, epoch, result, finish);
  }

  private writeMarker(
    t: TxnMeta,
    p: TxnTopicPartition,
    epoch: number,
    result: TxnResult,
    done: () => void,
  ): void {
    const cfg = this.host.config;
    const retry = (): void => {
      this.host.node.setTimer(cfg.transactionMarkerRetryBackoffMs, () =>
        this.writeMarker(t, p, epoch, result, done),
      );
    };
    const leader = this.host.leaderOf(p.topic, p.partition);
    if (leader === null) {
      retry();
      return;
    }
    const request: WriteTxnMarkerRequest = {
      api: 'write-txn-marker',
      topic: p.topic,
      partition: p.partition,
      producerId: t.producerId,
      producerEpoch: epoch,
      result,
      timeoutMs: cfg.replicaSocketTimeoutMs,
    };
    this.host.rpc
      .call<{ error: KafkaErrorCode | null }>(leader, request, {
        timeout: cfg.replicaSocketTimeoutMs,
        size: 64,
      })
      .onProcessed((ev) => {
        const res = ev.value as RpcResponse<{ error: KafkaErrorCode | null }>;
        if (res.ok && res.value.error === null) done();
        else retry();
      });
  }

  private writeGroupMarker(
    t: TxnMeta,
    groupId: string,
    coordinator: string,
    epoch: number,
    result: TxnResult,
    done: () => void,
  ): void {
    const cfg = this.host.config;
    this.host.rpc
      .call(
        coordinator,
        { api: 'txn-offset-marker', groupId, producerId: t.producerId, producerEpoch: epoch, result },
        { timeout: cfg.replicaSocketTimeoutMs, size: 48 },
      )
      .onProcessed((ev) => {
        const res = ev.value as RpcResponse<unknown>;
        if (res.ok) done();
        else
          this.host.node.setTimer(cfg.transactionMarkerRetryBackoffMs, () =>
            this.writeGroupMarker(t, groupId, coordinator, epoch, result, done),
          );
      });
  }

  /** Aborts the transactions open longer than their timeout, fencing their producers. */
  private abortTimedOut(): void {
    const now = this.host.node.network.sim.now;
    for (const t of this.txns.values()) {
      if (t.state !== 'ongoing' || now - t.startedAt <= t.timeoutMs) continue;
      this.fence(t);
      this.counts.timedOut++;
      this.meters.timedOut.inc();
      this.complete(t, 'abort', 'transaction.timeout.ms');
    }
  }

  private refreshOpen(): void {
    let open = 0;
    for (const t of this.txns.values()) if (t.state === 'ongoing' || t.state.startsWith('prepare')) open++;
    this.meters.open.set(open);
  }

  private trace(t: TxnMeta, from: string, to: TxnState, reason: string): void {
    const sim = this.host.node.network.sim;
    if (sim.tracing)
      sim.emit('@dsim.kafka.txn-state', {
        transactionalId: t.transactionalId,
        producerId: t.producerId,
        epoch: t.producerEpoch,
        from,
        to,
        partitions: [...t.partitions.keys()],
        reason,
      });
  }
}
