import {
  type Counter,
  checkDistribution,
  checkDuration,
  checkEnum,
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
  requireOptions,
  type Simulation,
} from '@dsim/core';
import type { KafkaProducer, ProduceOutcome } from '../kafka/producer/kafka-producer.js';

/**
 * Options of an {@link OutboxDatabase}.
 *
 * @example
 * ```ts
 * new OutboxDatabase(sim, { commitLatency: 5, queryLatency: 1 });
 * ```
 */
export interface OutboxDatabaseOptions {
  /** Time from a transaction's start to its commit, sampled from stream `outbox-db/commit`. @default 2 ms */
  commitLatency?: Distribution | Duration;
  /** Time of the relay's query for unsent rows. @default 1 ms */
  queryLatency?: Duration;
}

const OUTBOX_DB_KEYS = optionKeys<OutboxDatabaseOptions>()({ commitLatency: true, queryLatency: true });

/**
 * One outbox row: an event waiting to be published.
 *
 * @example
 * ```ts
 * db.rows[0]; // { id: 'order-1', createdAt: 12, sentAt: 40, publishes: 1 }
 * ```
 */
export interface OutboxRow {
  readonly id: string;
  readonly createdAt: number;
  /** When the relay's mark-as-sent committed; NaN while unsent. */
  sentAt: number;
  /** Times the relay published it (more than 1: a duplicate publish). */
  publishes: number;
}

/**
 * What one transaction writes.
 *
 * @example
 * ```ts
 * db.transaction(node, { state: 'order-1', outbox: 'order-1' }, () => reply());
 * ```
 */
export interface OutboxWrite {
  /** The business state change (the entity's id). */
  readonly state?: string;
  /** An outbox row for this event id, in the same transaction. */
  readonly outbox?: string;
  /** Outbox rows to mark as sent. */
  readonly markSent?: readonly string[];
}

/**
 * The service's database, durable and never down (it outlives every caller's crash): business state and
 * an outbox table, written by transactions that commit atomically `commitLatency` after they start. A
 * transaction runs on the caller's node: if that node crashes before the commit, nothing is written (a
 * rollback); once committed it stays. Not modelled: the database as a network node (its own crashes and
 * partitions), isolation between concurrent transactions (they touch different rows here), locks.
 *
 * @example
 * ```ts
 * const db = new OutboxDatabase(sim, { commitLatency: 3 });
 * db.transaction(net.node('svc'), { state: 'o-1', outbox: 'o-1' }, () => {});
 * ```
 */
export class OutboxDatabase {
  /** Committed business state changes: entity id → commit time. */
  readonly state = new Map<string, number>();
  /** The outbox table, in insertion order. */
  readonly rows: OutboxRow[] = [];
  private readonly byId = new Map<string, OutboxRow>();
  private readonly commit: Distribution;
  private readonly rng: RandomStream;
  /** Resolved query latency (ms). */
  readonly queryLatencyMs: number;
  /** Committed transactions. */
  commits = 0;

  /** @param options - see {@link OutboxDatabaseOptions}; unknown keys and bad values throw INVALID_ARGUMENT */
  constructor(
    readonly sim: Simulation,
    options: OutboxDatabaseOptions = {},
  ) {
    const where = owner('OutboxDatabase');
    requireOptions(where, options, OUTBOX_DB_KEYS);
    this.commit = checkDistribution(
      where,
      'commitLatency',
      options.commitLatency,
      'exponential({ mean: 2 })',
      {},
      constant(2),
    );
    this.queryLatencyMs = checkDuration(where, 'queryLatency', options.queryLatency, {}, 1);
    this.rng = sim.rng('outbox-db/commit');
  }

  /** Runs a transaction for `node`; `then` runs on `node` after the commit. A crash of `node` first rolls it back. */
  transaction(node: NetNode<any>, write: OutboxWrite, then: () => void): void {
    node.setTimer(this.commit.sample(this.rng), () => {
      const now = this.sim.now;
      if (write.state !== undefined) this.state.set(write.state, now);
      if (write.outbox !== undefined && !this.byId.has(write.outbox)) {
        const row: OutboxRow = { id: write.outbox, createdAt: now, sentAt: Number.NaN, publishes: 0 };
        this.rows.push(row);
        this.byId.set(row.id, row);
      }
      for (const id of write.markSent ?? []) {
        const row = this.byId.get(id);
        if (row !== undefined && Number.isNaN(row.sentAt)) row.sentAt = now;
      }
      this.commits++;
      then();
    });
  }

  /** Up to `limit` unsent rows, oldest first (answered `queryLatency` later on `node`). */
  unsent(node: NetNode<any>, limit: number, then: (rows: OutboxRow[]) => void): void {
    node.setTimer(this.queryLatencyMs, () => {
      const out: OutboxRow[] = [];
      for (const r of this.rows) {
        if (out.length >= limit) break;
        if (Number.isNaN(r.sentAt)) out.push(r);
      }
      then(out);
    });
  }

  /** A row by id. */
  row(id: string): OutboxRow | undefined {
    return this.byId.get(id);
  }
}

/**
 * Options of an {@link OutboxService}.
 *
 * @example
 * ```ts
 * new OutboxService(node, { db, producer, topic: 'orders', mode: 'dual-write' });
 * ```
 */
export interface OutboxServiceOptions {
  db: OutboxDatabase;
  /** Publishes events in `dual-write` mode (on the service's node). Unused with `outbox`. */
  producer?: KafkaProducer;
  /** Topic events go to (dual-write). @default 'events' */
  topic?: string;
  /** `outbox`: state and outbox row in one transaction; `dual-write`: commit the state, then publish. @default 'outbox' */
  mode?: 'outbox' | 'dual-write';
}

const OUTBOX_SERVICE_KEYS = optionKeys<OutboxServiceOptions>()({
  db: true,
  producer: true,
  topic: true,
  mode: true,
});

/**
 * A service that changes its state and announces it.
 *
 * - `outbox` (https://microservices.io/patterns/data/transactional-outbox.html): the state change and an
 *   outbox row commit in one local transaction; an {@link OutboxRelay} publishes the row later. A crash
 *   loses nothing committed.
 * - `dual-write`: commit the state, then `producer.send`. A crash after the commit and before the
 *   record is appended (its batch lingering, or in flight) loses the event while the state stays: the
 *   dual-write problem.
 *
 * @example
 * ```ts
 * const svc = new OutboxService(net.node('svc'), { db, mode: 'outbox' });
 * sim.scheduleAt(10, () => svc.handle('order-1'));
 * ```
 */
export class OutboxService {
  private readonly db: OutboxDatabase;
  private readonly producer: KafkaProducer | null;
  private readonly topic: string;
  /** Resolved mode. */
  readonly mode: 'outbox' | 'dual-write';
  /** Counters: requests handled, transactions committed, events published (acked) and failed (dual-write). */
  readonly stats = { requests: 0, committed: 0, published: 0, publishFailed: 0 };

  /** @param options - see {@link OutboxServiceOptions}; unknown keys and bad values throw INVALID_ARGUMENT */
  constructor(
    readonly node: NetNode<any>,
    options: OutboxServiceOptions,
  ) {
    const where = owner('OutboxService');
    requireOptions(where, options, OUTBOX_SERVICE_KEYS);
    if (!(options.db instanceof OutboxDatabase))
      throw invalidOption(where, 'db', options.db, 'an OutboxDatabase');
    this.db = options.db;
    this.mode = checkEnum(where, 'mode', options.mode, ['outbox', 'dual-write'] as const, 'outbox');
    this.topic = checkName(where, 'topic', options.topic, 'events');
    if (this.mode === 'dual-write' && (typeof options.producer !== 'object' || options.producer === null))
      throw invalidOption(where, 'producer', options.producer, 'a KafkaProducer (needed by dual-write)');
    this.producer = options.producer ?? null;
  }

  /** Handles one request that changes entity `id` (ignored while the node is down). */
  handle(id: string): void {
    if (this.node.state === 'down') return;
    this.stats.requests++;
    if (this.mode === 'outbox') {
      this.db.transaction(this.node, { state: id, outbox: id }, () => this.stats.committed++);
      return;
    }
    this.db.transaction(this.node, { state: id }, () => {
      this.stats.committed++;
      this.producer!.send({ topic: this.topic, key: id }).onProcessed((ev) => {
        if ((ev.value as ProduceOutcome).ok) this.stats.published++;
        else this.stats.publishFailed++;
      });
    });
  }
}

/**
 * Options of an {@link OutboxRelay}.
 *
 * @example
 * ```ts
 * new OutboxRelay(net.addNode('relay'), { db, producer, topic: 'orders', pollInterval: 500, batchSize: 50 });
 * ```
 */
export interface OutboxRelayOptions {
  db: OutboxDatabase;
  /** Publishes the rows (on the relay's node). */
  producer: KafkaProducer;
  /** Topic the events go to; each record is keyed by the row's id. @default 'events' */
  topic?: string;
  /** Wait between the end of one round and the next query. @default 1000 ms */
  pollInterval?: Duration;
  /** Rows per round. @default 100 */
  batchSize?: number;
}

const OUTBOX_RELAY_KEYS = optionKeys<OutboxRelayOptions>()({
  db: true,
  producer: true,
  topic: true,
  pollInterval: true,
  batchSize: true,
});

/**
 * The outbox's message relay (polling publisher): every `pollInterval` it reads up to `batchSize` unsent
 * rows, publishes each, waits for all the acks, then marks the acknowledged ones sent in one transaction.
 * A crash after a publish and before the mark commits leaves the rows unsent: the restarted relay
 * publishes them again, a duplicate (at-least-once; consumers must be idempotent). `duplicatePublishes`
 * counts every publish of a row beyond its first. Rows whose publish failed stay unsent and are retried
 * next round. Metrics under the node's address: `outbox.published`, `outbox.duplicate-publishes`.
 *
 * @example
 * ```ts
 * const relay = new OutboxRelay(net.addNode('relay'), { db, producer, topic: 'orders' });
 * relay.stats.duplicatePublishes;
 * ```
 */
export class OutboxRelay {
  private readonly db: OutboxDatabase;
  private readonly producer: KafkaProducer;
  private readonly topic: string;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly meters: { published: Counter; duplicates: Counter };
  /** Counters: rounds, publishes (acked), duplicate publishes, publish failures, rows marked sent. */
  readonly stats = { rounds: 0, published: 0, duplicatePublishes: 0, publishFailures: 0, marked: 0 };

  /** @param options - see {@link OutboxRelayOptions}; unknown keys and bad values throw INVALID_ARGUMENT */
  constructor(
    readonly node: NetNode<any>,
    options: OutboxRelayOptions,
  ) {
    const where = owner('OutboxRelay');
    requireOptions(where, options, OUTBOX_RELAY_KEYS);
    if (!(options.db instanceof OutboxDatabase))
      throw invalidOption(where, 'db', options.db, 'an OutboxDatabase');
    if (typeof options.producer !== 'object' || options.producer === null)
      throw invalidOption(where, 'producer', options.producer, 'a KafkaProducer');
    this.db = options.db;
    this.producer = options.producer;
    this.topic = checkName(where, 'topic', options.topic, 'events');
    this.pollMs = checkDuration(where, 'pollInterval', options.pollInterval, { positive: true }, 1_000);
    this.batch = checkNumber(where, 'batchSize', options.batchSize, { integer: true, min: 1 }, 100);
    const m = node.network.sim.metrics;
    this.meters = {
      published: m.counter(node.address, 'outbox.published'),
      duplicates: m.counter(node.address, 'outbox.duplicate-publishes'),
    };
    node.onRestart(() => this.schedule());
    this.schedule();
  }

  private schedule(): void {
    this.node.setTimer(this.pollMs, () => this.round());
  }

  private round(): void {
    this.stats.rounds++;
    this.db.unsent(this.node, this.batch, (rows) => {
      if (rows.length === 0) {
        this.schedule();
        return;
      }
      let left = rows.length;
      const acked: string[] = [];
      for (const row of rows)
        this.producer.send({ topic: this.topic, key: row.id }).onProcessed((ev) => {
          if ((ev.value as ProduceOutcome).ok) {
            row.publishes++;
            this.stats.published++;
            this.meters.published.inc();
            if (row.publishes > 1) {
              this.stats.duplicatePublishes++;
              this.meters.duplicates.inc();
            }
            acked.push(row.id);
          } else this.stats.publishFailures++;
          if (--left > 0 || this.node.state === 'down') return;
          this.db.transaction(this.node, { markSent: acked }, () => {
            this.stats.marked += acked.length;
            this.schedule();
          });
        });
    });
  }
}
