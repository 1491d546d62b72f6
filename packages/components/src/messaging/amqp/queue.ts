import type { NodeTimer } from '@dsim/core';
import { type AmqpMessage, DEAD_LETTER_REASONS, type DeadLetterReason } from './message.js';
import type { ResolvedQueueOptions } from './options.js';

/** A message in one queue: the shared message plus this queue's state for it. @internal */
export interface QueueEntry {
  readonly msg: AmqpMessage;
  /** Position in the queue (publish order); a classic queue requeues by it. */
  readonly seq: number;
  readonly enqueuedAt: number;
  /** Absolute expiry time (Infinity when none); kept when requeued. */
  readonly expiresAt: number;
  /** Delivered before (the `redelivered` flag of the next delivery). */
  redelivered: boolean;
  /** Quorum queues: times the message was returned (RabbitMQ 4.0's `acquired_count`). */
  returns: number;
}

/** A consumer as the broker tracks it. @internal */
export interface ConsumerState {
  readonly tag: string;
  readonly connection: number;
  readonly client: string;
  readonly queue: string;
  readonly prefetch: number;
  readonly autoAck: boolean;
  unacked: number;
  active: boolean;
}

/** What a queue needs from its broker. @internal */
export interface QueueHost {
  readonly now: number;
  setTimer(delay: number, fn: () => void): NodeTimer;
  /** Hands `entry` to `consumer` (tracks it as unacked unless auto-ack) and sends it. */
  deliver(queue: AmqpQueue, consumer: ConsumerState, entry: QueueEntry): void;
  /** Republishes a dead-lettered message to the queue's dead-letter exchange. */
  deadLetter(queue: AmqpQueue, entry: QueueEntry, reason: DeadLetterReason): void;
  /** The queue's depth changed (gauges). */
  changed(queue: AmqpQueue): void;
  /** Whether this broker runs the queue's `expires` lease (classic: always; quorum: the leader only). */
  leads(queue: AmqpQueue): boolean;
  /** The queue was unused for `expires`: delete it (it calls {@link AmqpQueue.expire}). */
  expired(queue: AmqpQueue): void;
  /** `n` unacked messages of an expired queue were settled other than by an ack: they are gone. */
  discardedWithQueue(queue: AmqpQueue, n: number): void;
}

/**
 * Counts of one queue. At every moment (a single broker):
 * `enqueued + adopted = acked + deadLettered + dropped + lost + expiredWithQueue + ready + unacked`
 * (sums over reasons), where a `reject-publish` refusal is not enqueued (it is in `refused`) and a
 * `reject-publish-dlx` refusal is enqueued and dead-lettered at once.
 *
 * @example
 * ```ts
 * const s = broker.queueStats('work');
 * s.enqueued === s.acked + sum(s.deadLettered) + sum(s.dropped) + s.lost + s.expiredWithQueue + s.ready + s.unacked;
 * ```
 */
export interface AmqpQueueStats {
  enqueued: number;
  /** Quorum queues: messages taken over from the previous leader's replicated log. */
  adopted: number;
  /** Deliveries sent to consumers (first deliveries and redeliveries). */
  delivered: number;
  /** Deliveries with the redelivered flag. */
  redelivered: number;
  /** Acknowledged messages (manual acks, and auto-ack deliveries, which are forgotten on send). */
  acked: number;
  /** Messages returned to the queue (nack/reject with requeue, or their consumer went away). */
  requeued: number;
  /** Publishes refused by `reject-publish` / `reject-publish-dlx` overflow. */
  refused: number;
  /** Messages that left through the dead-letter exchange, by reason. */
  deadLettered: Record<DeadLetterReason, number>;
  /** Messages discarded because the queue has no dead-letter exchange, by reason. */
  dropped: Record<DeadLetterReason, number>;
  /** Messages lost in a broker crash (transient messages, or any message of a non-durable queue). */
  lost: number;
  /**
   * Messages discarded because the queue expired (`expires`, x-expires): its ready messages at the
   * deletion, and unacked ones whose consumer later returned or rejected them. Never dead-lettered,
   * as in RabbitMQ (deleting a queue does not dead-letter its messages).
   */
  expiredWithQueue: number;
  ready: number;
  unacked: number;
}

function reasons(): Record<DeadLetterReason, number> {
  const r = {} as Record<DeadLetterReason, number>;
  for (const k of DEAD_LETTER_REASONS) r[k] = 0;
  return r;
}

/**
 * A queue inside an {@link AmqpBroker}: ready messages in order, consumers served round robin among
 * those with prefetch credit, length limits with the three overflow modes, message TTL and dead
 * lettering. Its semantics follow the queue type:
 *
 * - classic: expired messages are discarded only when they reach the head
 *   (https://www.rabbitmq.com/docs/ttl#per-message-ttl-caveats); a requeued message goes back to its
 *   original position (https://www.rabbitmq.com/docs/confirms#consumer-nacks-requeue).
 * - quorum: expired messages anywhere are removed shortly after they expire
 *   (https://www.rabbitmq.com/docs/ttl#quorum-queues); returned messages are delivered before the rest
 *   (rabbit_fifo's returns queue) and each return counts towards `deliveryLimit`: the message is
 *   dead-lettered on the return that makes the count exceed the limit, so with the default 20 it is
 *   delivered 21 times (rabbit_fifo.erl, RabbitMQ 4.0-4.2: `acquired_count > DeliveryLimit`).
 *
 * Created by the broker; read its state through `broker.queueStats(name)`.
 *
 * @example
 * ```ts
 * broker.declareQueue('work', { maxLength: 100 });
 * broker.queueStats('work').ready; // 0
 * ```
 */
export class AmqpQueue {
  readonly stats: AmqpQueueStats = {
    enqueued: 0,
    adopted: 0,
    delivered: 0,
    redelivered: 0,
    acked: 0,
    requeued: 0,
    refused: 0,
    deadLettered: reasons(),
    dropped: reasons(),
    lost: 0,
    expiredWithQueue: 0,
    ready: 0,
    unacked: 0,
  };
  /** Ready messages in seq order (classic), or the quorum queue's main FIFO. */
  private ready: QueueEntry[] = [];
  /** Quorum queues: returned messages, delivered first. */
  private returned: QueueEntry[] = [];
  private readyBytes = 0;
  private consumers: ConsumerState[] = [];
  private rr = 0;
  private dispatching = false;
  private expiryTimer: NodeTimer | null = null;
  private expiryAt = Infinity;
  /** The `expires` lease: runs while the queue has no consumers. */
  private leaseTimer: NodeTimer | null = null;
  /** When the running lease started (the queue was last used); NaN when none runs. */
  private idleSince = Number.NaN;
  private gone = false;

  constructor(
    readonly name: string,
    readonly options: ResolvedQueueOptions,
    private readonly host: QueueHost,
  ) {}

  /** True for a quorum queue. */
  get quorum(): boolean {
    return this.options.type === 'quorum';
  }

  /** True once the queue expired (x-expires) and was deleted from its broker. */
  get deleted(): boolean {
    return this.gone;
  }

  /** When the running `expires` lease started (the queue was last used); NaN when no lease runs. */
  get unusedSince(): number {
    return this.idleSince;
  }

  /** Consumers attached, in round-robin order. */
  get consumerList(): readonly ConsumerState[] {
    return this.consumers;
  }

  /** The ready messages, head first. @internal */
  readyEntries(): QueueEntry[] {
    return [...this.returned, ...this.ready];
  }

  /** Whether a message of `size` bytes would be refused by `reject-publish(-dlx)` overflow now. */
  wouldRefuse(size: number): boolean {
    if (this.options.overflow === 'drop-head') return false;
    const o = this.options;
    return (
      this.stats.ready >= o.maxLength ||
      (o.maxLengthBytes !== Infinity && this.readyBytes + size > o.maxLengthBytes)
    );
  }

  /** Refuses `entry` (reject-publish overflow): counted, and dead-lettered for `reject-publish-dlx`. */
  refuse(entry: QueueEntry): void {
    this.stats.refused++;
    if (this.options.overflow === 'reject-publish-dlx') {
      this.stats.enqueued++;
      this.dead(entry, 'maxlen');
    }
  }

  /** Appends a message that was accepted (see {@link wouldRefuse}) and serves consumers. */
  enqueue(entry: QueueEntry): void {
    this.stats.enqueued++;
    this.pushReady(entry);
    this.dispatch(entry);
    this.enforceLength();
    this.host.changed(this);
  }

  /** Adds a consumer and serves it. */
  addConsumer(consumer: ConsumerState): void {
    this.consumers.push(consumer);
    this.stopLease();
    this.dispatch();
  }

  /** Removes a consumer (its unacked messages are the broker's business). */
  removeConsumer(consumer: ConsumerState): void {
    const i = this.consumers.indexOf(consumer);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (this.rr > i) this.rr--;
    if (this.rr >= this.consumers.length) this.rr = 0;
    consumer.active = false;
    if (this.consumers.length === 0) this.touch();
  }

  /**
   * The queue was used (declared or redeclared, or its last consumer went): the `expires` lease
   * restarts from now if the queue has no consumers and this broker runs its lease.
   */
  touch(): void {
    this.stopLease();
    const expires = this.options.expires;
    if (expires === Infinity || this.gone || this.consumers.length > 0 || !this.host.leads(this)) return;
    this.idleSince = this.host.now;
    this.leaseTimer = this.host.setTimer(expires, () => {
      this.leaseTimer = null;
      if (this.gone || this.consumers.length > 0 || !this.host.leads(this)) return;
      this.host.expired(this);
    });
  }

  /**
   * Deletes the queue's contents because it expired: its ready messages are discarded (not
   * dead-lettered) and counted in `expiredWithQueue`; returns how many. Its unacked messages stay with
   * their consumers: an ack still counts, any other settlement discards them.
   */
  expire(): number {
    this.stopLease();
    this.expiryTimer?.cancel();
    this.expiryTimer = null;
    this.expiryAt = Infinity;
    this.gone = true;
    const n = this.stats.ready;
    for (const c of this.consumers) c.active = false;
    this.consumers = [];
    this.rr = 0;
    this.returned = [];
    this.ready = [];
    this.readyBytes = 0;
    this.stats.ready = 0;
    this.stats.expiredWithQueue += n;
    return n;
  }

  /** An acknowledgement of `entry`. */
  ack(entry: QueueEntry): void {
    this.stats.unacked--;
    this.stats.acked++;
    void entry;
  }

  /** Returns `entry` to the queue (nack/reject with requeue, or its consumer went away). */
  requeue(entry: QueueEntry): void {
    if (this.gone) {
      this.discardGone();
      return;
    }
    this.stats.unacked--;
    this.stats.requeued++;
    entry.redelivered = true;
    if (this.quorum) {
      entry.returns++;
      if (entry.returns > this.options.deliveryLimit) {
        this.dead(entry, 'delivery_limit');
        return;
      }
      this.returned.push(entry);
      this.readyBytes += entry.msg.size;
      this.stats.ready++;
    } else {
      this.pushReady(entry);
    }
    this.enforceLength();
  }

  /** A nack/reject without requeue: dead-lettered (`rejected`) or dropped. */
  discard(entry: QueueEntry): void {
    if (this.gone) {
      this.discardGone();
      return;
    }
    this.stats.unacked--;
    this.dead(entry, 'rejected');
  }

  /** Serves consumers with credit, round robin, expiring messages that reached the head. */
  dispatch(fresh?: QueueEntry): void {
    if (this.dispatching || this.gone) return;
    this.dispatching = true;
    try {
      const now = this.host.now;
      if (this.quorum) this.expireAnywhere(now, fresh);
      for (;;) {
        const head = this.returned[0] ?? this.ready[0];
        if (head === undefined) break;
        if (head !== fresh && head.expiresAt <= now) {
          this.popHead();
          this.dead(head, 'expired');
          continue;
        }
        const consumer = this.nextConsumer();
        if (consumer === undefined) break;
        this.popHead();
        this.stats.delivered++;
        if (head.redelivered) this.stats.redelivered++;
        if (consumer.autoAck) this.stats.acked++;
        else {
          consumer.unacked++;
          this.stats.unacked++;
        }
        this.host.deliver(this, consumer, head);
      }
    } finally {
      this.dispatching = false;
    }
    this.armExpiry();
    this.host.changed(this);
  }

  /** Empties the queue at a broker crash, keeping what is durable; returns how many were lost. */
  crash(keep: (entry: QueueEntry) => boolean): void {
    this.stopLease();
    this.expiryTimer?.cancel();
    this.expiryTimer = null;
    this.expiryAt = Infinity;
    this.consumers = [];
    this.rr = 0;
    const all = [...this.returned, ...this.ready];
    this.returned = [];
    this.ready = [];
    this.readyBytes = 0;
    this.stats.ready = 0;
    for (const e of all) {
      if (keep(e)) this.pushReady(e);
      else this.stats.lost++;
    }
  }

  /** Puts back an unacked message that survived a crash (as a redelivery). */
  restore(entry: QueueEntry): void {
    if (this.gone) {
      this.discardGone();
      return;
    }
    this.stats.unacked--;
    entry.redelivered = true;
    this.pushReady(entry);
  }

  /** Takes over a message replicated by a quorum queue's previous leader (as ready). */
  adopt(entry: QueueEntry): void {
    this.stats.adopted++;
    if (entry.returns > 0) this.returned.push(entry);
    else this.ready.push(entry);
    this.readyBytes += entry.msg.size;
    this.stats.ready++;
  }

  /** Empties the queue without counting anything (a quorum member stepped down: its log keeps the messages). */
  reset(): void {
    this.stopLease();
    this.expiryTimer?.cancel();
    this.expiryTimer = null;
    this.expiryAt = Infinity;
    for (const c of this.consumers) c.active = false;
    this.consumers = [];
    this.rr = 0;
    this.returned = [];
    this.ready = [];
    this.readyBytes = 0;
    this.stats.ready = 0;
    this.stats.unacked = 0;
    this.host.changed(this);
  }

  /** Counts a message lost with the broker. */
  lose(fromUnacked: boolean): void {
    if (this.gone && fromUnacked) {
      this.discardGone();
      return;
    }
    if (fromUnacked) this.stats.unacked--;
    this.stats.lost++;
  }

  /** After a restart: timers again (the `expires` lease of a durable queue starts afresh), and serve. */
  resume(): void {
    this.armExpiry();
    this.touch();
    this.host.changed(this);
  }

  private stopLease(): void {
    this.leaseTimer?.cancel();
    this.leaseTimer = null;
    this.idleSince = Number.NaN;
  }

  /** An unacked message of this expired queue came back (nack, reject, close, crash): it is gone. */
  private discardGone(): void {
    this.stats.unacked--;
    this.stats.expiredWithQueue++;
    this.host.discardedWithQueue(this, 1);
  }

  private pushReady(entry: QueueEntry): void {
    const ready = this.ready;
    if (ready.length === 0 || ready[ready.length - 1]!.seq < entry.seq) ready.push(entry);
    else {
      // Back to its original position (a classic queue requeues by position).
      let lo = 0;
      let hi = ready.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ready[mid]!.seq < entry.seq) lo = mid + 1;
        else hi = mid;
      }
      ready.splice(lo, 0, entry);
    }
    this.readyBytes += entry.msg.size;
    this.stats.ready++;
  }

  private popHead(): QueueEntry {
    const e = this.returned.length > 0 ? this.returned.shift()! : this.ready.shift()!;
    this.readyBytes -= e.msg.size;
    this.stats.ready--;
    return e;
  }

  private nextConsumer(): ConsumerState | undefined {
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.rr + i) % n;
      const c = this.consumers[idx]!;
      if (c.autoAck || c.prefetch === 0 || c.unacked < c.prefetch) {
        this.rr = (idx + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  private enforceLength(): void {
    const o = this.options;
    if (o.overflow !== 'drop-head') return;
    while (this.stats.ready > 0 && (this.stats.ready > o.maxLength || this.readyBytes > o.maxLengthBytes)) {
      this.dead(this.popHead(), 'maxlen');
    }
  }

  private dead(entry: QueueEntry, reason: DeadLetterReason): void {
    if (this.options.deadLetterExchange === undefined) this.stats.dropped[reason]++;
    else this.stats.deadLettered[reason]++;
    this.host.deadLetter(this, entry, reason);
  }

  private expireAnywhere(now: number, fresh: QueueEntry | undefined): void {
    for (const list of [this.returned, this.ready]) {
      for (let i = 0; i < list.length; ) {
        const e = list[i]!;
        if (e !== fresh && e.expiresAt <= now) {
          list.splice(i, 1);
          this.readyBytes -= e.msg.size;
          this.stats.ready--;
          this.dead(e, 'expired');
        } else i++;
      }
    }
  }

  private armExpiry(): void {
    let at = Infinity;
    if (this.quorum) {
      for (const e of this.returned) at = Math.min(at, e.expiresAt);
      for (const e of this.ready) at = Math.min(at, e.expiresAt);
    } else at = (this.returned[0] ?? this.ready[0])?.expiresAt ?? Infinity;
    if (at === this.expiryAt) return;
    this.expiryTimer?.cancel();
    this.expiryTimer = null;
    this.expiryAt = at;
    if (at === Infinity) return;
    this.expiryTimer = this.host.setTimer(Math.max(0, at - this.host.now), () => {
      this.expiryTimer = null;
      this.expiryAt = Infinity;
      this.dispatch();
    });
  }
}
