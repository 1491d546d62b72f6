import {
  type Counter,
  checkDuration,
  checkEnum,
  checkFunction,
  checkName,
  type Duration,
  invalidOption,
  optionKeys,
  owner,
  type RpcEndpoint,
  type RpcResponse,
  requireOptions,
  type Simulation,
} from '@dsim/core';
import type { LogRecord } from '../kafka/cluster/types.js';
import { DedupStore } from './dedup-store.js';

/**
 * Where an {@link IdempotentConsumer} keeps its processed ids when they live on another node.
 *
 * @example
 * ```ts
 * const remote: RemoteDedup = { client: consumer.endpoint, server: 'redis', timeout: 100 };
 * ```
 */
export interface RemoteDedup {
  /** The calling endpoint (a {@link KafkaConsumer}'s `endpoint`, on the consumer's node). */
  readonly client: RpcEndpoint<any, any>;
  /** Address of the {@link DedupStoreServer}. */
  readonly server: string;
  /** RPC timeout of one check. @default 1000 ms */
  readonly timeout?: Duration;
}

/**
 * Options of an {@link IdempotentConsumer}: the handler it guards and where the ids live (exactly one of
 * `store` and `remote`).
 *
 * @example
 * ```ts
 * new IdempotentConsumer(sim, { store: new DedupStore(sim), handler: (r) => effects.push(r.key) });
 * ```
 */
export interface IdempotentConsumerOptions {
  /** The application's effect, run once per message id (as far as the window remembers). */
  handler: (record: LogRecord, topic: string, partition: number) => void;
  /** A local store: the id and the effect are recorded together (one transaction). */
  store?: DedupStore;
  /** A remote store: the id is recorded first, then the effect runs when the answer comes back. */
  remote?: RemoteDedup;
  /** The message id. @default the record's key, else its producer record id */
  idOf?: (record: LogRecord, topic: string, partition: number) => string;
  /** With `remote`: what to do when the store does not answer (timeout, crash): `process` (at-least-once) or `skip` (at-most-once). @default 'process' */
  onStoreError?: 'process' | 'skip';
  /** Metrics owner: `dedup.processed`, `dedup.duplicates`, `dedup.store-errors` are recorded under it. @default 'idempotent-consumer' */
  name?: string;
}

const IDEMPOTENT_CONSUMER_KEYS = optionKeys<IdempotentConsumerOptions>()({
  handler: true,
  store: true,
  remote: true,
  idOf: true,
  onStoreError: true,
  name: true,
});

/**
 * Counters of an {@link IdempotentConsumer}: `received = processed + duplicates + skipped + pending`.
 *
 * @example
 * ```ts
 * const { processed, duplicates } = idem.stats;
 * ```
 */
export interface IdempotentConsumerStats {
  /** Records handed to `handle`. */
  received: number;
  /** Effects run. */
  processed: number;
  /** Records skipped because their id was in the window. */
  duplicates: number;
  /** Remote checks that failed (timeout, crash). */
  storeErrors: number;
  /** Records dropped after a store error with `onStoreError: 'skip'`, or whose consumer crashed while the check was out. */
  skipped: number;
  /** Remote checks in flight. */
  pending: number;
}

/**
 * The idempotent consumer pattern (https://microservices.io/patterns/communication-style/idempotent-consumer.html):
 * wraps a record handler so that a message redelivered (a consumer crash after processing and before
 * the commit, a producer retry without idempotence) runs its effect once. Pass `idem.handle` as a
 * {@link KafkaConsumer}'s `onRecord`.
 *
 * - With a local `store`, the check, the id and the effect happen at once: the model of a dedup table
 *   written in the same transaction as the effect. Exactly once per id, as long as the window holds it.
 * - With `remote`, the id is recorded on a {@link DedupStoreServer} (one RPC, its latency and failures),
 *   then the effect runs: a consumer crash between the two loses the effect, which is why real systems
 *   keep the ids next to the effect. The consumer does not wait for the answer (the record counts as
 *   processed when `onRecord` is called): a simplification.
 *
 * A window too small (`maxEntries`, `ttl`) forgets ids before their duplicates arrive: those run again.
 *
 * @example
 * ```ts
 * const idem = new IdempotentConsumer(sim, { store: new DedupStore(sim, { maxEntries: 10_000 }), handler: apply });
 * new KafkaConsumer(net.addNode('c1'), { groupId: 'g', topics: ['t'], coordinator: 'gc', source, onRecord: idem.handle });
 * ```
 */
export class IdempotentConsumer {
  private readonly handler: (record: LogRecord, topic: string, partition: number) => void;
  private readonly store: DedupStore | null;
  private readonly remote: { client: RpcEndpoint<any, any>; server: string; timeoutMs: number } | null;
  private readonly idOf: (record: LogRecord, topic: string, partition: number) => string;
  private readonly onStoreError: 'process' | 'skip';
  private readonly counts: IdempotentConsumerStats = {
    received: 0,
    processed: 0,
    duplicates: 0,
    storeErrors: 0,
    skipped: 0,
    pending: 0,
  };
  private readonly meters: { processed: Counter; duplicates: Counter; storeErrors: Counter };

  /** @param options - see {@link IdempotentConsumerOptions}; unknown keys and bad values throw INVALID_ARGUMENT */
  constructor(sim: Simulation, options: IdempotentConsumerOptions) {
    const where = owner('IdempotentConsumer');
    requireOptions(where, options, IDEMPOTENT_CONSUMER_KEYS);
    this.handler = checkFunction(where, 'handler', options.handler, '(record, topic, partition) => void');
    if ((options.store === undefined) === (options.remote === undefined))
      throw invalidOption(where, 'store', options.store, 'exactly one of store (a DedupStore) and remote');
    if (options.store !== undefined && !(options.store instanceof DedupStore))
      throw invalidOption(where, 'store', options.store, 'a DedupStore');
    this.store = options.store ?? null;
    const r = options.remote;
    if (r !== undefined) {
      if (typeof r !== 'object' || r === null || typeof r.client?.call !== 'function')
        throw invalidOption(where, 'remote', r, '{ client: RpcEndpoint, server: address, timeout? }');
      this.remote = {
        client: r.client,
        server: checkName(owner('IdempotentConsumer', 'remote'), 'server', r.server),
        timeoutMs: checkDuration(
          owner('IdempotentConsumer', 'remote'),
          'timeout',
          r.timeout,
          { positive: true },
          1_000,
        ),
      };
    } else this.remote = null;
    this.idOf =
      options.idOf === undefined
        ? (record) => record.key ?? record.recordId
        : checkFunction(where, 'idOf', options.idOf, '(record, topic, partition) => string');
    this.onStoreError = checkEnum(
      where,
      'onStoreError',
      options.onStoreError,
      ['process', 'skip'] as const,
      'process',
    );
    const name = checkName(where, 'name', options.name, 'idempotent-consumer');
    this.meters = {
      processed: sim.metrics.counter(name, 'dedup.processed'),
      duplicates: sim.metrics.counter(name, 'dedup.duplicates'),
      storeErrors: sim.metrics.counter(name, 'dedup.store-errors'),
    };
  }

  /** A copy of the counters. */
  get stats(): IdempotentConsumerStats {
    return { ...this.counts };
  }

  /** The record handler to pass as `onRecord`: runs the effect unless the id was seen. */
  readonly handle = (record: LogRecord, topic: string, partition: number): void => {
    this.counts.received++;
    const id = this.idOf(record, topic, partition);
    if (this.store !== null) {
      if (this.store.checkAndAdd(id)) this.apply(record, topic, partition);
      else this.duplicate();
      return;
    }
    const remote = this.remote!;
    const node = remote.client.node;
    const incarnation = node.incarnation;
    this.counts.pending++;
    remote.client
      .call<boolean>(remote.server, { dedup: 'check-and-add', id }, { timeout: remote.timeoutMs, size: 64 })
      .onProcessed((ev) => {
        this.counts.pending--;
        // The consumer crashed while the check was out: its effect never runs.
        if (node.incarnation !== incarnation || node.state === 'down') {
          this.counts.skipped++;
          return;
        }
        const res = ev.value as RpcResponse<boolean>;
        if (res.ok) {
          if (res.value) this.apply(record, topic, partition);
          else this.duplicate();
          return;
        }
        this.counts.storeErrors++;
        this.meters.storeErrors.inc();
        if (this.onStoreError === 'process') this.apply(record, topic, partition);
        else this.counts.skipped++;
      });
  };

  private apply(record: LogRecord, topic: string, partition: number): void {
    this.counts.processed++;
    this.meters.processed.inc();
    this.handler(record, topic, partition);
  }

  private duplicate(): void {
    this.counts.duplicates++;
    this.meters.duplicates.inc();
  }
}
