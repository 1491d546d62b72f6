import {
  type Counter,
  checkBoolean,
  checkEnum,
  checkName,
  constant,
  type Distribution,
  DsimError,
  type Gauge,
  type NetNode,
  owner,
  type RandomStream,
  type Reply,
  RpcEndpoint,
  type RpcRequest,
  requireOptions,
  type Simulation,
} from '@dsim/core';
import { AmqpExchange } from './exchange.js';
import {
  type AmqpMessage,
  DEAD_LETTER_REASONS,
  type DeadLetterReason,
  isDeathCycle,
  recordDeath,
} from './message.js';
import {
  type AmqpBrokerOptions,
  checkString,
  EXCHANGE_KEYS,
  EXCHANGE_TYPES,
  type ExchangeOptions,
  type QueueOptions,
  type ResolvedBroker,
  type ResolvedQueueOptions,
  resolveBroker,
  resolveQueueOptions,
} from './options.js';
import type {
  AmqpError,
  AmqpRequest,
  AmqpResult,
  CancelWire,
  DeliveryWire,
  PublishOutcome,
  SettleWire,
} from './protocol.js';
import {
  AmqpQueue,
  type AmqpQueueStats,
  type ConsumerState,
  type QueueEntry,
  type QueueHost,
} from './queue.js';
import { QuorumGroup, type QuorumWire } from './quorum.js';

/**
 * Broker-wide counts. At every moment `published = routed + unroutable + refusedEverywhere + pending`,
 * where `routed` counts publishes enqueued in at least one queue.
 *
 * @example
 * ```ts
 * broker.stats.unroutable; // publishes that matched no queue
 * ```
 */
export interface AmqpBrokerStats {
  published: number;
  routed: number;
  unroutable: number;
  /** Unroutable `mandatory` publishes returned to the publisher. */
  returned: number;
  /** Publishes every target queue refused (reject-publish overflow). */
  refusedEverywhere: number;
  /** Publishes accepted for processing whose confirm is not yet sent (quorum replication). */
  pending: number;
  delivered: number;
  redelivered: number;
  acked: number;
  /** Messages nacked or rejected by consumers (with or without requeue). */
  nacked: number;
  deadLettered: Record<DeadLetterReason, number>;
  /** Dead-lettered messages the dead-letter exchange routed nowhere (or that exchange is missing). */
  deadLetterUnroutable: number;
  /** Dead-lettered copies dropped because they would close a dead-letter cycle. */
  deadLetterCycles: number;
  /** Messages discarded with no dead-letter exchange (expired, maxlen, rejected, delivery_limit). */
  dropped: number;
  /** Messages lost in crashes. */
  lost: number;
  /** Queues deleted because they were unused for their `expires` (x-expires). */
  expiredQueues: number;
  /**
   * Messages discarded with an expired queue (never dead-lettered): ready ones at the deletion, and
   * unacked ones settled afterwards other than by an ack.
   */
  expiredWithQueue: number;
  /** Connections closed because their heartbeats stopped. */
  heartbeatTimeouts: number;
}

interface Unacked {
  readonly queue: AmqpQueue;
  readonly entry: QueueEntry;
  readonly consumer: ConsumerState;
}

interface Connection {
  readonly id: number;
  readonly client: string;
  lastSeen: number;
  nextTag: number;
  readonly unacked: Map<number, Unacked>;
  readonly consumers: Map<string, ConsumerState>;
}

interface Job {
  readonly cost: Distribution;
  readonly fn: () => void;
}

interface QueueMeters {
  readonly ready: Gauge;
  readonly unacked: Gauge;
}

const FREE = constant(0);

function err(code: AmqpError['code'], text: string): AmqpError {
  return { code, text };
}

/**
 * A RabbitMQ-style AMQP 0-9-1 broker on a node: exchanges (direct, fanout, topic and the default
 * exchange), classic and quorum queues, consumers with prefetch and manual or automatic acks,
 * publisher confirms, message TTL, length limits and dead lettering. Clients reach it over the network
 * ({@link AmqpClient}); every operation costs broker CPU time, served in arrival order by `concurrency`
 * workers, so a broker saturates.
 *
 * Durability: everything is in memory. A crash loses every non-durable queue and exchange with their
 * messages, and the transient (non-`persistent`) messages of durable classic queues; durable queues keep
 * their persistent messages (unacknowledged ones come back as redeliveries), quorum queues keep all
 * theirs. Lost messages are counted (`lost`). Connections die with the broker; a client notices with its
 * heartbeat.
 *
 * Undeclared names: the admin methods (`declareQueue`, `bind`, ...) throw a DsimError; over the network
 * (a client) the answer is an {@link AmqpError} value with RabbitMQ's code (404 NOT_FOUND), and the
 * channel stays open (RabbitMQ closes it).
 *
 * Metrics under the node's address: counters `amqp.published`, `amqp.routed`, `amqp.unroutable`,
 * `amqp.delivered`, `amqp.redelivered`, `amqp.acked`, `amqp.nacked`, `amqp.dead_lettered.<reason>`,
 * `amqp.dropped`, `amqp.lost`, `amqp.queues_expired`, `amqp.expired_with_queue`; per queue under
 * `<address>/<queue>`: gauges `amqp.ready` and `amqp.unacked`. With tracing on: `@dsim.amqp.dead-letter`,
 * `@dsim.amqp.cancel` and `@dsim.amqp.queue-expired` records.
 *
 * Queue expiry (`expires`, RabbitMQ's x-expires): a queue with no consumers that is not redeclared for
 * `expires` is deleted exactly then (RabbitMQ only promises "not before"): its bindings go, its ready
 * messages are discarded without dead-lettering (`expiredWithQueue`), and later publishes to it are
 * unroutable.
 *
 * @example
 * ```ts
 * const broker = new AmqpBroker(net.addNode('rabbit'));
 * broker.declareExchange('jobs', { type: 'direct', durable: true });
 * broker.declareQueue('work', { durable: true, deadLetterExchange: 'dlx' });
 * broker.bind('work', 'jobs', 'job');
 * ```
 */
export class AmqpBroker {
  /** The broker's RPC endpoint. */
  readonly endpoint: RpcEndpoint;
  readonly config: ResolvedBroker;
  readonly stats: AmqpBrokerStats;
  private readonly sim: Simulation;
  private readonly rng: RandomStream;
  private readonly exchanges = new Map<string, AmqpExchange>();
  private readonly queues = new Map<string, AmqpQueue>();
  private readonly groups = new Map<string, QuorumGroup>();
  private readonly connections = new Map<number, Connection>();
  private readonly queueMeters = new Map<string, QueueMeters>();
  /** Quorum queues deleted by their leader (x-expires): the term of the deletion. */
  private readonly expiredReplicas = new Map<string, number>();
  private nextConnection = 1;
  private nextMessage = 1;
  private nextSeq = 1;
  private jobs: Job[] = [];
  private busy = 0;
  private readonly host: QueueHost;
  private readonly meters: Record<string, Counter>;

  /**
   * @param node - the broker's node (its address is what clients connect to)
   * @param options - costs, heartbeat, cluster; unknown keys and bad values throw INVALID_ARGUMENT
   */
  constructor(
    readonly node: NetNode<any>,
    options: AmqpBrokerOptions = {},
  ) {
    this.config = resolveBroker(options);
    this.sim = node.network.sim;
    this.rng = this.sim.rng(`${node.address}/amqp`);
    const dead = {} as Record<DeadLetterReason, number>;
    for (const r of DEAD_LETTER_REASONS) dead[r] = 0;
    this.stats = {
      published: 0,
      routed: 0,
      unroutable: 0,
      returned: 0,
      refusedEverywhere: 0,
      pending: 0,
      delivered: 0,
      redelivered: 0,
      acked: 0,
      nacked: 0,
      deadLettered: dead,
      deadLetterUnroutable: 0,
      deadLetterCycles: 0,
      dropped: 0,
      lost: 0,
      expiredQueues: 0,
      expiredWithQueue: 0,
      heartbeatTimeouts: 0,
    };
    const m = this.sim.metrics;
    const id = node.address;
    this.meters = {};
    for (const name of [
      'published',
      'routed',
      'unroutable',
      'delivered',
      'redelivered',
      'acked',
      'nacked',
      'dropped',
      'lost',
      'queues_expired',
      'expired_with_queue',
      ...DEAD_LETTER_REASONS.map((r) => `dead_lettered.${r}`),
    ])
      this.meters[name] = m.counter(id, `amqp.${name}`);
    for (const name of ['amq.direct', 'amq.fanout', 'amq.topic'])
      this.exchanges.set(name, new AmqpExchange(name, name.slice(4) as 'direct', true));
    const broker = this;
    this.host = {
      get now() {
        return broker.sim.now;
      },
      setTimer: (delay, fn) => node.setTimer(delay, fn),
      deliver: (queue, consumer, entry) => this.deliver(queue, consumer, entry),
      deadLetter: (queue, entry, reason) => this.deadLetter(queue, entry, reason),
      changed: (queue) => {
        if (this.queues.get(queue.name) === queue) this.updateGauges(queue);
      },
      leads: (queue) => this.groups.get(queue.name)?.isLeader ?? true,
      expired: (queue) => this.expireQueue(queue),
      discardedWithQueue: (_queue, n) => {
        this.stats.expiredWithQueue += n;
        this.meters.expired_with_queue!.inc(n);
      },
    };
    this.endpoint = new RpcEndpoint(node)
      .serve((request, reply) => this.handle(request as RpcRequest<AmqpRequest>, reply))
      .onMessage((message) => this.handlePlain(message.from, message.payload));
    node.onCrash(() => this.crash());
    node.onRestart(() => this.restart());
    this.armHeartbeat();
  }

  /** The node's address. */
  get address(): string {
    return this.node.address;
  }

  // ---------------------------------------------------------------- admin API (definitions)

  /**
   * Declares an exchange (idempotent with the same options; other options throw, as RabbitMQ's 406).
   * @example
   * ```ts
   * broker.declareExchange('logs', { type: 'topic' });
   * ```
   */
  declareExchange(name: string, options?: ExchangeOptions): void {
    const error = this.doDeclareExchange(name, options, 'AmqpBroker.declareExchange');
    if (error !== undefined)
      throw new DsimError('INVALID_STATE', `AmqpBroker ${this.address}: ${error.text}`);
  }

  /**
   * Declares a queue (idempotent with the same options). A quorum queue is placed on this broker and the
   * next `replicas - 1` brokers of `cluster`.
   * @example
   * ```ts
   * broker.declareQueue('work', { type: 'quorum', deadLetterExchange: 'dlx' });
   * ```
   */
  declareQueue(name: string, options?: QueueOptions): void {
    const error = this.doDeclareQueue(name, options, 'AmqpBroker.declareQueue');
    if (error !== undefined)
      throw new DsimError('INVALID_STATE', `AmqpBroker ${this.address}: ${error.text}`);
  }

  /**
   * Binds `queue` to `exchange` with a binding key (ignored by fanout exchanges).
   * @example
   * ```ts
   * broker.bind('q1', 'animals', '*.orange.*');
   * ```
   */
  bind(queue: string, exchange: string, key = ''): void {
    const error = this.doBind(queue, exchange, key);
    if (error !== undefined)
      throw new DsimError('INVALID_STATE', `AmqpBroker ${this.address}: ${error.text}`);
  }

  /** A copy of a queue's counts; throws for an unknown queue. */
  queueStats(name: string): AmqpQueueStats {
    const q = this.queues.get(name);
    if (q === undefined)
      throw new DsimError('INVALID_ARGUMENT', `AmqpBroker ${this.address}: no queue '${name}'`);
    const s = q.stats;
    return { ...s, deadLettered: { ...s.deadLettered }, dropped: { ...s.dropped } };
  }

  /** Whether a queue or exchange exists (after a crash, only durable ones do). */
  has(kind: 'queue' | 'exchange', name: string): boolean {
    checkEnum('AmqpBroker.has', 'kind', kind, ['queue', 'exchange']);
    return kind === 'queue' ? this.queues.has(name) : name === '' || this.exchanges.has(name);
  }

  /** Names of the queues. */
  get queueNames(): string[] {
    return [...this.queues.keys()];
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** The queue object (for quorum groups and tests). @internal */
  _queue(name: string): AmqpQueue | undefined {
    return this.queues.get(name);
  }

  /** The quorum group of a queue led or followed here. @internal */
  _group(name: string): QuorumGroup | undefined {
    return this.groups.get(name);
  }

  /** Installs a queue this broker now leads (quorum failover). @internal */
  _adoptQueue(name: string, options: ResolvedQueueOptions): AmqpQueue {
    const q = new AmqpQueue(name, options, this.host);
    this.queues.set(name, q);
    return q;
  }

  /** Keeps message sequences above one replicated from another broker. @internal */
  _bumpSeq(seq: number): void {
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
  }

  // ---------------------------------------------------------------- declarations

  private doDeclareExchange(
    name: string,
    options: ExchangeOptions | undefined,
    component: string,
  ): AmqpError | undefined {
    const where = owner(component, 'options');
    checkName(component, 'name', name);
    requireOptions(where, options ?? {}, EXCHANGE_KEYS);
    const type = checkEnum(where, 'type', options?.type, EXCHANGE_TYPES, 'direct');
    const durable = checkBoolean(where, 'durable', options?.durable, false);
    if (name.startsWith('amq.') && !this.exchanges.has(name))
      return err(403, `ACCESS_REFUSED - exchange name '${name}' contains reserved prefix 'amq.'`);
    const existing = this.exchanges.get(name);
    if (existing !== undefined) {
      if (existing.type !== type || existing.durable !== durable)
        return err(406, `PRECONDITION_FAILED - inequivalent arg for exchange '${name}'`);
      return undefined;
    }
    this.exchanges.set(name, new AmqpExchange(name, type, durable));
    return undefined;
  }

  private doDeclareQueue(
    name: string,
    options: QueueOptions | undefined,
    component: string,
  ): AmqpError | undefined {
    checkName(component, 'name', name);
    const resolved = resolveQueueOptions(component, options);
    this.expiredReplicas.delete(name);
    const existing = this.queues.get(name);
    if (existing !== undefined) {
      if (JSON.stringify(existing.options) !== JSON.stringify(resolved))
        return err(406, `PRECONDITION_FAILED - inequivalent arg for queue '${name}'`);
      existing.touch(); // a redeclaration renews the x-expires lease
      return undefined;
    }
    if (resolved.type === 'quorum' && !this.groups.has(name)) {
      const cluster = this.config.cluster.length === 0 ? [this.address] : this.config.cluster;
      const members = cluster.slice(0, resolved.replicas);
      if (!members.includes(this.address))
        return err(
          406,
          `PRECONDITION_FAILED - ${this.address} is not among the replicas ${members.join(', ')} of '${name}'`,
        );
      const group = new QuorumGroup(this, name, resolved, members, true);
      this.groups.set(name, group);
      group.start();
    }
    const queue = new AmqpQueue(name, resolved, this.host);
    this.queues.set(name, queue);
    this.updateGauges(queue);
    queue.touch();
    return undefined;
  }

  private doBind(queue: string, exchange: string, key: string): AmqpError | undefined {
    checkString('AmqpBroker.bind', 'key', key);
    if (exchange === '') return err(403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
    const x = this.exchanges.get(exchange);
    if (x === undefined) return err(404, `NOT_FOUND - no exchange '${exchange}'`);
    if (!this.queues.has(queue)) return err(404, `NOT_FOUND - no queue '${queue}'`);
    x.bind(queue, key);
    return undefined;
  }

  // ---------------------------------------------------------------- requests

  private handle(request: RpcRequest<AmqpRequest>, reply: Reply<unknown>): void {
    const p = request.payload;
    if (p === null || typeof p !== 'object' || !('amqp' in p)) {
      reply.error('error', `${this.address} speaks AMQP only`);
      return;
    }
    const conn = 'connection' in p ? this.connections.get(p.connection) : undefined;
    if (conn !== undefined) conn.lastSeen = this.sim.now;
    const gone = (): void =>
      reply.ok({ ok: false, error: err(320, 'CONNECTION_FORCED - connection closed') });
    switch (p.amqp) {
      case 'open': {
        const id = this.nextConnection++;
        this.connections.set(id, {
          id,
          client: request.from,
          lastSeen: this.sim.now,
          nextTag: 1,
          unacked: new Map(),
          consumers: new Map(),
        });
        reply.ok(id);
        return;
      }
      case 'hb':
        reply.ok(conn !== undefined);
        return;
      case 'close':
        this.cpu(FREE, () => {
          if (conn !== undefined) this.closeConnection(conn, 'client closed');
          reply.ok({ ok: true });
        });
        return;
      case 'declare-exchange':
        this.cpu(FREE, () =>
          reply.ok(
            this.answer(() => this.doDeclareExchange(p.name, p.options, 'AmqpClient.declareExchange')),
          ),
        );
        return;
      case 'declare-queue':
        this.cpu(FREE, () =>
          reply.ok(this.answer(() => this.doDeclareQueue(p.name, p.options, 'AmqpClient.declareQueue'))),
        );
        return;
      case 'bind':
        this.cpu(FREE, () => reply.ok(this.answer(() => this.doBind(p.queue, p.exchange, p.key))));
        return;
      case 'publish':
        if (conn === undefined) {
          reply.ok({
            status: 'error',
            error: err(320, 'CONNECTION_FORCED - connection closed'),
          } satisfies PublishOutcome);
          return;
        }
        this.cpu(this.config.publishCost, () =>
          this.publish(p, request.sentAt, (outcome) => reply.ok(outcome)),
        );
        return;
      case 'consume':
        if (conn === undefined) {
          gone();
          return;
        }
        this.cpu(FREE, () => reply.ok(this.consume(conn, p.queue, p.tag, p.prefetch, p.autoAck)));
        return;
      case 'cancel':
        if (conn === undefined) {
          gone();
          return;
        }
        this.cpu(FREE, () => {
          const c = conn.consumers.get(p.tag);
          if (c === undefined) reply.ok({ ok: false, error: err(404, `NOT_FOUND - no consumer '${p.tag}'`) });
          else {
            this.cancelConsumer(conn, c, 'client cancelled', false);
            reply.ok({ ok: true });
          }
        });
        return;
      default:
        reply.error('error', `unknown AMQP request ${String((p as { amqp: unknown }).amqp)}`);
    }
  }

  private answer(fn: () => AmqpError | undefined): AmqpResult {
    try {
      const error = fn();
      return error === undefined ? { ok: true } : { ok: false, error };
    } catch (e) {
      // A bad option over the wire is a 406 for the client, not a crash of the broker.
      if (e instanceof DsimError) return { ok: false, error: err(406, `PRECONDITION_FAILED - ${e.message}`) };
      throw e;
    }
  }

  private handlePlain(from: string, payload: unknown): void {
    const p = payload as SettleWire | QuorumWire | null;
    if (p === null || typeof p !== 'object') return;
    if (p.amqp === 'qq') {
      let group = this.groups.get(p.queue);
      if (p.kind === 'delete') {
        if (group !== undefined && p.term >= group.currentTerm) this.dropReplica(p.queue, p.term);
        return;
      }
      const tomb = this.expiredReplicas.get(p.queue);
      if (group === undefined && tomb !== undefined && p.term <= tomb) return; // late word of a deleted queue
      if (group === undefined && (p.kind === 'append' || p.kind === 'tick')) {
        group = QuorumGroup.fromWire(this, p);
        this.groups.set(p.queue, group);
      }
      group?.receive(from, p);
      return;
    }
    if (p.amqp !== 'settle') return;
    const conn = this.connections.get(p.connection);
    if (conn === undefined) return;
    conn.lastSeen = this.sim.now;
    this.cpu(this.config.ackCost, () => {
      if (this.connections.get(p.connection) !== conn) return;
      this.settle(conn, p);
    });
  }

  // ---------------------------------------------------------------- publish and route

  private publish(
    p: Extract<AmqpRequest, { amqp: 'publish' }>,
    publishedAt: number,
    done: (outcome: PublishOutcome) => void,
  ): void {
    this.stats.published++;
    this.meters.published!.inc();
    let targets: string[];
    if (p.exchange === '') targets = this.queues.has(p.routingKey) ? [p.routingKey] : [];
    else {
      const x = this.exchanges.get(p.exchange);
      if (x === undefined) {
        this.stats.published--; // never accepted: RabbitMQ closes the channel with 404
        done({ status: 'error', error: err(404, `NOT_FOUND - no exchange '${p.exchange}'`) });
        return;
      }
      targets = x.route(p.routingKey);
    }
    const msg: AmqpMessage = {
      id: this.nextMessage++,
      exchange: p.exchange,
      routingKey: p.routingKey,
      body: p.body,
      size: p.size,
      persistent: p.persistent,
      expiration: p.expiration,
      publishedAt,
      deaths: [],
    };
    if (targets.length === 0) {
      this.stats.unroutable++;
      this.meters.unroutable!.inc();
      if (p.mandatory) this.stats.returned++;
      done({ status: 'ack', queues: 0, returned: p.mandatory });
      return;
    }
    let accepted = 0;
    let refused = 0;
    let waiting = 1;
    const finish = (): void => {
      if (--waiting > 0) return;
      if (accepted > 0) {
        this.stats.routed++;
        this.meters.routed!.inc();
      } else this.stats.refusedEverywhere++;
      done(
        refused > 0
          ? { status: 'nack', queues: accepted }
          : { status: 'ack', queues: accepted, returned: false },
      );
    };
    for (const name of targets) {
      const queue = this.queues.get(name)!;
      const entry = this.newEntry(queue, msg);
      const group = this.groups.get(name);
      if (queue.wouldRefuse(msg.size) || (group !== undefined && !group.isLeader)) {
        refused++;
        queue.refuse(entry);
        continue;
      }
      accepted++;
      if (group?.isLeader) {
        waiting++;
        this.stats.pending++;
        group.enqueue(entry, () => {
          this.stats.pending--;
          finish();
        });
      } else queue.enqueue(entry);
    }
    finish();
  }

  private newEntry(queue: AmqpQueue, msg: AmqpMessage): QueueEntry {
    const now = this.sim.now;
    const ttl = Math.min(queue.options.messageTtl, msg.expiration);
    return {
      msg,
      seq: this.nextSeq++,
      enqueuedAt: now,
      expiresAt: now + ttl,
      redelivered: false,
      returns: 0,
    };
  }

  private deadLetter(queue: AmqpQueue, entry: QueueEntry, reason: DeadLetterReason): void {
    this.groups.get(queue.name)?.removed(entry);
    const dlx = queue.options.deadLetterExchange;
    if (dlx === undefined) {
      this.stats.dropped++;
      this.meters.dropped!.inc();
      return;
    }
    this.stats.deadLettered[reason]++;
    this.meters[`dead_lettered.${reason}`]!.inc();
    const old = entry.msg;
    const deaths = recordDeath(old.deaths, queue.name, reason, old.exchange, [old.routingKey], this.sim.now);
    const routingKey = queue.options.deadLetterRoutingKey ?? old.routingKey;
    const msg: AmqpMessage = { ...old, exchange: dlx, routingKey, expiration: Infinity, deaths };
    if (this.sim.tracing)
      this.sim.emit('@dsim.amqp.dead-letter', {
        broker: this.address,
        queue: queue.name,
        reason,
        message: old.id,
        exchange: dlx,
        routingKey,
      });
    let targets: string[];
    if (dlx === '') targets = this.queues.has(routingKey) ? [routingKey] : [];
    else targets = this.exchanges.get(dlx)?.route(routingKey) ?? [];
    let delivered = 0;
    for (const name of targets) {
      if (reason !== 'rejected' && isDeathCycle(name, deaths)) {
        this.stats.deadLetterCycles++;
        continue;
      }
      const target = this.queues.get(name)!;
      const copy = this.newEntry(target, msg);
      const g = this.groups.get(name);
      if (target.wouldRefuse(msg.size) || (g !== undefined && !g.isLeader)) {
        target.refuse(copy);
        continue;
      }
      delivered++;
      if (g?.isLeader) g.enqueue(copy, () => {});
      else target.enqueue(copy);
    }
    if (delivered === 0 && targets.length === 0) this.stats.deadLetterUnroutable++;
  }

  // ---------------------------------------------------------------- consumers

  private consume(
    conn: Connection,
    queueName: string,
    tag: string,
    prefetch: number,
    autoAck: boolean,
  ): AmqpResult {
    const queue = this.queues.get(queueName);
    if (queue === undefined) return { ok: false, error: err(404, `NOT_FOUND - no queue '${queueName}'`) };
    const group = this.groups.get(queueName);
    if (group !== undefined && !group.isLeader)
      return { ok: false, error: err(404, `NOT_FOUND - queue '${queueName}' is led by another node`) };
    if (conn.consumers.has(tag))
      return { ok: false, error: err(406, `PRECONDITION_FAILED - reused consumer tag '${tag}'`) };
    const consumer: ConsumerState = {
      tag,
      connection: conn.id,
      client: conn.client,
      queue: queueName,
      prefetch,
      autoAck,
      unacked: 0,
      active: true,
    };
    conn.consumers.set(tag, consumer);
    queue.addConsumer(consumer);
    return { ok: true };
  }

  private deliver(queue: AmqpQueue, consumer: ConsumerState, entry: QueueEntry): void {
    const conn = this.connections.get(consumer.connection)!;
    const deliveryTag = conn.nextTag++;
    this.stats.delivered++;
    this.meters.delivered!.inc();
    if (entry.redelivered) {
      this.stats.redelivered++;
      this.meters.redelivered!.inc();
    }
    if (consumer.autoAck) {
      this.stats.acked++;
      this.meters.acked!.inc();
      this.groups.get(queue.name)?.removed(entry);
    } else conn.unacked.set(deliveryTag, { queue, entry, consumer });
    const m = entry.msg;
    const wire: DeliveryWire = {
      amqp: 'deliver',
      connection: conn.id,
      consumerTag: consumer.tag,
      deliveryTag,
      queue: queue.name,
      broker: this.address,
      messageId: m.id,
      exchange: m.exchange,
      routingKey: m.routingKey,
      body: m.body,
      size: m.size,
      persistent: m.persistent,
      redelivered: entry.redelivered,
      deaths: m.deaths,
      deliveryCount: queue.quorum && entry.returns > 0 ? entry.returns : undefined,
      publishedAt: m.publishedAt,
    };
    this.cpu(this.config.deliverCost, () => {
      if (this.connections.get(conn.id) !== conn) return; // closed meanwhile: already requeued
      this.node.send(conn.client, wire, { size: m.size });
    });
  }

  private settle(conn: Connection, p: SettleWire): void {
    let tags: number[];
    if (p.multiple) tags = [...conn.unacked.keys()].filter((t) => t <= p.deliveryTag).sort((a, b) => a - b);
    else tags = conn.unacked.has(p.deliveryTag) ? [p.deliveryTag] : [];
    const touched = new Set<AmqpQueue>();
    for (const tag of tags) {
      const u = conn.unacked.get(tag)!;
      conn.unacked.delete(tag);
      u.consumer.unacked--;
      touched.add(u.queue);
      const group = u.queue.deleted ? undefined : this.groups.get(u.queue.name);
      if (p.op === 'ack') {
        this.stats.acked++;
        this.meters.acked!.inc();
        u.queue.ack(u.entry);
        group?.removed(u.entry);
      } else {
        this.stats.nacked++;
        this.meters.nacked!.inc();
        if (p.requeue) {
          u.queue.requeue(u.entry);
          group?.returned(u.entry);
        } else u.queue.discard(u.entry);
      }
    }
    for (const q of touched) q.dispatch();
  }

  private cancelConsumer(conn: Connection, c: ConsumerState, reason: string, notify: boolean): void {
    conn.consumers.delete(c.tag);
    this.queues.get(c.queue)?.removeConsumer(c);
    c.active = false;
    if (this.sim.tracing)
      this.sim.emit('@dsim.amqp.cancel', {
        broker: this.address,
        consumer: c.tag,
        queue: c.queue,
        client: conn.client,
        reason,
      });
    if (notify)
      this.node.send(conn.client, {
        amqp: 'cancelled',
        connection: conn.id,
        consumerTag: c.tag,
        reason,
      } satisfies CancelWire);
  }

  /** Closes a connection: its consumers go, its unacknowledged messages are requeued in tag order. */
  private closeConnection(conn: Connection, reason: string): void {
    if (this.connections.get(conn.id) !== conn) return;
    this.connections.delete(conn.id);
    for (const c of [...conn.consumers.values()]) this.cancelConsumer(conn, c, reason, false);
    const touched = new Set<AmqpQueue>();
    for (const tag of [...conn.unacked.keys()].sort((a, b) => a - b)) {
      const u = conn.unacked.get(tag)!;
      u.queue.requeue(u.entry);
      if (!u.queue.deleted) this.groups.get(u.queue.name)?.returned(u.entry);
      touched.add(u.queue);
    }
    conn.unacked.clear();
    for (const q of touched) q.dispatch();
  }

  // ---------------------------------------------------------------- queue expiry (x-expires)

  /**
   * Deletes a queue that was unused for its `expires`: its ready messages are discarded, not
   * dead-lettered (RabbitMQ deletes them with the queue), its bindings go, and a quorum queue's
   * replicas are told to drop their copies.
   */
  private expireQueue(queue: AmqpQueue): void {
    const name = queue.name;
    if (this.queues.get(name) !== queue) return;
    const unusedSince = queue.unusedSince;
    const group = this.groups.get(name);
    // Publishes replicated but not yet committed were accepted before the deletion (Raft order):
    // they join the queue and go with it.
    group?.drainPending();
    const discarded = queue.expire();
    this.queues.delete(name);
    for (const x of this.exchanges.values()) x.unbindQueue(name);
    if (group !== undefined) {
      group.delete();
      this.groups.delete(name);
    }
    this.stats.expiredQueues++;
    this.meters.queues_expired!.inc();
    this.stats.expiredWithQueue += discarded;
    this.meters.expired_with_queue!.inc(discarded);
    const meters = this.queueMeters.get(name);
    meters?.ready.set(0);
    meters?.unacked.set(0);
    if (this.sim.tracing)
      this.sim.emit('@dsim.amqp.queue-expired', {
        broker: this.address,
        queue: name,
        queueType: queue.options.type,
        expires: queue.options.expires,
        unusedSince,
        discarded,
        unacked: queue.stats.unacked,
      });
  }

  /** A quorum queue's leader deleted it (x-expires): drop this member's copy and its bindings here. */
  private dropReplica(name: string, term: number): void {
    this.groups.get(name)?.delete();
    this.groups.delete(name);
    this.expiredReplicas.set(name, term);
    const q = this.queues.get(name);
    if (q !== undefined) {
      q.reset();
      this.queues.delete(name);
    }
    for (const x of this.exchanges.values()) x.unbindQueue(name);
    const meters = this.queueMeters.get(name);
    meters?.ready.set(0);
    meters?.unacked.set(0);
  }

  private armHeartbeat(): void {
    const period = this.config.heartbeat / 2;
    this.node.setTimer(period, () => {
      const now = this.sim.now;
      for (const conn of [...this.connections.values()]) {
        if (now - conn.lastSeen > this.config.heartbeat) {
          this.stats.heartbeatTimeouts++;
          this.closeConnection(conn, 'missed heartbeats');
        }
      }
      this.armHeartbeat();
    });
  }

  // ---------------------------------------------------------------- CPU

  private cpu(cost: Distribution, fn: () => void): void {
    this.jobs.push({ cost, fn });
    this.pump();
  }

  private pump(): void {
    while (this.busy < this.config.concurrency && this.jobs.length > 0) {
      const job = this.jobs.shift()!;
      this.busy++;
      const ms = job.cost === FREE ? 0 : job.cost.sample(this.rng) / this.node.capacity;
      this.node.work(ms, () => {
        this.busy--;
        job.fn();
        this.pump();
      });
    }
  }

  /** Operations waiting for a worker. */
  get backlog(): number {
    return this.jobs.length;
  }

  // ---------------------------------------------------------------- crash and restart

  private crash(): void {
    this.jobs = [];
    this.busy = 0;
    const all = [...this.queues.values()];
    const lostBefore = all.reduce((n, q) => n + q.stats.lost, 0);
    // Unacked messages: durable ones come back as redeliveries, the rest are lost.
    for (const conn of this.connections.values()) {
      for (const c of conn.consumers.values()) {
        c.active = false;
        if (this.sim.tracing)
          this.sim.emit('@dsim.amqp.cancel', {
            broker: this.address,
            consumer: c.tag,
            queue: c.queue,
            client: conn.client,
            reason: 'broker crashed',
          });
      }
      for (const tag of [...conn.unacked.keys()].sort((a, b) => a - b)) {
        const u = conn.unacked.get(tag)!;
        if (this.survives(u.queue, u.entry)) u.queue.restore(u.entry);
        else u.queue.lose(true);
      }
    }
    this.connections.clear();
    for (const [name, queue] of [...this.queues]) {
      queue.crash((e) => this.survives(queue, e));
      if (!queue.options.durable) {
        this.queues.delete(name);
        for (const x of this.exchanges.values()) x.unbindQueue(name);
      }
    }
    for (const [name, x] of [...this.exchanges]) if (!x.durable) this.exchanges.delete(name);
    for (const g of this.groups.values()) g.crash();
    const lost = all.reduce((n, q) => n + q.stats.lost, 0) - lostBefore;
    this.stats.lost += lost;
    this.meters.lost!.inc(lost);
    for (const name of this.queueMeters.keys()) {
      const q = this.queues.get(name);
      const meters = this.queueMeters.get(name)!;
      meters.ready.set(q?.stats.ready ?? 0);
      meters.unacked.set(q?.stats.unacked ?? 0);
    }
  }

  private survives(queue: AmqpQueue, entry: QueueEntry): boolean {
    return queue.options.durable && (queue.quorum || entry.msg.persistent);
  }

  private restart(): void {
    this.armHeartbeat();
    for (const g of this.groups.values()) g.restart();
    for (const q of this.queues.values()) q.resume();
  }

  private updateGauges(queue: AmqpQueue): void {
    let m = this.queueMeters.get(queue.name);
    if (m === undefined) {
      const id = `${this.address}/${queue.name}`;
      m = {
        ready: this.sim.metrics.gauge(id, 'amqp.ready'),
        unacked: this.sim.metrics.gauge(id, 'amqp.unacked'),
      };
      this.queueMeters.set(queue.name, m);
    }
    m.ready.set(queue.stats.ready);
    m.unacked.set(queue.stats.unacked);
  }
}
