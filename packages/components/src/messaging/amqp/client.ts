import {
  checkBoolean,
  checkDuration,
  checkName,
  checkOptions,
  type Distribution,
  DsimError,
  invalidOption,
  type NetNode,
  owner,
  type RandomStream,
  RpcEndpoint,
  type RpcResponse,
  requireOptions,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import type { XDeath } from './message.js';
import {
  type AmqpClientOptions,
  CLIENT_KEYS,
  type ConsumeOptions,
  checkString,
  type ExchangeOptions,
  type PublishOptions,
  type QueueOptions,
  resolveConsume,
  resolvePublish,
} from './options.js';
import type {
  AmqpRequest,
  AmqpResult,
  CancelWire,
  DeliveryWire,
  PublishOutcome,
  SettleWire,
} from './protocol.js';

/**
 * A message as a consumer receives it, with the acknowledgement methods of its channel
 * (https://www.rabbitmq.com/docs/confirms#consumer-acknowledgements). Settling a delivery twice, or
 * settling an auto-ack delivery, throws INVALID_STATE (RabbitMQ closes the channel with 406
 * PRECONDITION_FAILED "unknown delivery tag"). After the client closed, settling does nothing: the
 * broker has requeued the message already.
 *
 * @example
 * ```ts
 * client.consume('work', { prefetch: 10 }, (d) => (d.redelivered ? d.reject({ requeue: false }) : d.ack()));
 * ```
 */
export interface AmqpDelivery {
  readonly consumerTag: string;
  readonly deliveryTag: number;
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: unknown;
  readonly size: number;
  readonly persistent: boolean;
  /** Delivered before (to this or another consumer). */
  readonly redelivered: boolean;
  /** Broker-wide id of the original publish. */
  readonly messageId: number;
  readonly publishedAt: number;
  /** The `x-death` header, most recent first (empty when never dead-lettered). */
  readonly xDeath: readonly XDeath[];
  /** Quorum queues: `x-delivery-count`, the returns so far (undefined on a first delivery). */
  readonly xDeliveryCount: number | undefined;
  /** `basic.ack`; `multiple` acks every unsettled delivery of the channel up to this one. @default multiple false */
  ack(options?: { multiple?: boolean }): void;
  /** `basic.nack`. @default requeue true, multiple false (AMQP 0-9-1 defaults) */
  nack(options?: { multiple?: boolean; requeue?: boolean }): void;
  /** `basic.reject`. @default requeue true (AMQP 0-9-1 default) */
  reject(options?: { requeue?: boolean }): void;
}

/**
 * A consumer started by {@link AmqpClient.consume}.
 *
 * @example
 * ```ts
 * const c = client.consume('work', {}, (d) => d.ack());
 * c.tag; // 'ctag-1'
 * ```
 */
export interface AmqpConsumer {
  readonly tag: string;
  /** Resolves when the broker registered it (or refused: 404 for an unknown queue). */
  readonly ready: SimEvent<AmqpResult>;
  /** Deliveries received. */
  readonly received: number;
  /** Deliveries received and not yet handed to the handler (waiting for a worker). */
  readonly buffered: number;
}

/**
 * Client-side counts.
 *
 * @example
 * ```ts
 * client.stats.confirmed; // publishes acked by the broker
 * ```
 */
export interface AmqpClientStats {
  published: number;
  confirmed: number;
  nacked: number;
  errors: number;
  timeouts: number;
  unavailable: number;
  received: number;
  acked: number;
  nackedDeliveries: number;
  rejected: number;
}

interface LocalConsumer {
  readonly tag: string;
  readonly handler: (delivery: AmqpDelivery) => void;
  readonly processingTime: Distribution;
  readonly concurrency: number;
  readonly autoAck: boolean;
  buffer: AmqpDelivery[];
  busy: number;
  received: number;
}

const SETTLE_KEYS = ['multiple', 'requeue'] as const;

/** Runs `fn` with the event's value once it is processed. */
function after<T>(event: SimEvent<T>, fn: (value: T) => void): void {
  event.onProcessed((e) => fn(e.value as T));
}

/**
 * An AMQP 0-9-1 client on a node: one connection with one channel in confirm mode. Operations are sent
 * over the network to the broker; each answers with an event. Deliveries wait in a local buffer and are
 * handed to the handler by `concurrency` workers after `processingTime` each (a single-threaded
 * consumer by default), so a slow consumer holds its prefetch window full.
 *
 * The connection is kept alive by heartbeats: the client pings the broker every `heartbeat / 2`; when a
 * ping fails (the broker crashed, restarted or closed the connection) the client is closed and
 * `onClose` hooks run. A crash of the client's node closes it too; the broker requeues its
 * unacknowledged messages when its own heartbeat check notices (after about `heartbeat`).
 *
 * @example
 * ```ts
 * const client = new AmqpClient(net.addNode('worker'), { broker: 'rabbit' });
 * client.consume('work', { prefetch: 10, processingTime: '1s' }, (d) => d.ack());
 * sim.process(function* () {
 *   const outcome = yield* client.publish('', 'work', 'job-1', { persistent: true });
 * });
 * ```
 */
export class AmqpClient {
  readonly endpoint: RpcEndpoint;
  readonly broker: string;
  readonly heartbeat: number;
  readonly confirmTimeout: number;
  readonly stats: AmqpClientStats = {
    published: 0,
    confirmed: 0,
    nacked: 0,
    errors: 0,
    timeouts: 0,
    unavailable: 0,
    received: 0,
    acked: 0,
    nackedDeliveries: 0,
    rejected: 0,
  };
  private readonly sim: Simulation;
  private readonly rng: RandomStream;
  private connection: number | null = null;
  private closedFlag = false;
  private waiting: Array<() => void> = [];
  private readonly consumers = new Map<string, LocalConsumer>();
  private readonly unsettled = new Map<number, { settled: boolean }>();
  private nextTag = 1;
  private readonly closeHooks: Array<(reason: string) => void> = [];

  /**
   * @param at - the client's node (an RpcEndpoint is created on it) or its existing endpoint
   * @param options - `broker` is required; unknown keys and bad values throw INVALID_ARGUMENT
   */
  constructor(at: NetNode<any> | RpcEndpoint, options: AmqpClientOptions) {
    const where = owner('AmqpClient');
    requireOptions(where, options, CLIENT_KEYS);
    this.broker = checkName(where, 'broker', options.broker);
    this.heartbeat = checkDuration(where, 'heartbeat', options.heartbeat, { positive: true }, 60_000);
    this.confirmTimeout = checkDuration(
      where,
      'confirmTimeout',
      options.confirmTimeout,
      { positive: true, infinity: true },
      Infinity,
    );
    this.endpoint = at instanceof RpcEndpoint ? at : new RpcEndpoint(at);
    const node = this.endpoint.node;
    this.sim = node.network.sim;
    this.rng = this.sim.rng(`${node.address}/amqp-client`);
    this.endpoint.onMessage((m) => this.receive(m.payload));
    node.onCrash(() => this.shut('client node crashed'));
    after(this.endpoint.call<number>(this.broker, { amqp: 'open' } satisfies AmqpRequest), (res) => {
      if (this.closedFlag) return;
      if (!res.ok) return this.shut(`open failed: ${res.error.message}`);
      this.connection = res.value;
      const waiting = this.waiting;
      this.waiting = [];
      for (const fn of waiting) fn();
      this.ping();
    });
  }

  /** True once closed (by `close()`, a lost connection or a crash of the client's node). */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Runs `hook(reason)` when the client closes. */
  onClose(hook: (reason: string) => void): this {
    this.closeHooks.push(hook);
    return this;
  }

  /** `exchange.declare`. @example `yield* client.declareExchange('logs', { type: 'fanout' });` */
  declareExchange(name: string, options?: ExchangeOptions): SimEvent<AmqpResult> {
    checkName('AmqpClient.declareExchange', 'name', name);
    return this.request({ amqp: 'declare-exchange', name, options });
  }

  /** `queue.declare`. @example `yield* client.declareQueue('work', { durable: true });` */
  declareQueue(name: string, options?: QueueOptions): SimEvent<AmqpResult> {
    checkName('AmqpClient.declareQueue', 'name', name);
    return this.request({ amqp: 'declare-queue', name, options });
  }

  /** `queue.bind`. @example `yield* client.bind('q1', 'animals', '*.orange.*');` */
  bind(queue: string, exchange: string, key = ''): SimEvent<AmqpResult> {
    checkName('AmqpClient.bind', 'queue', queue);
    checkString('AmqpClient.bind', 'exchange', exchange);
    checkString('AmqpClient.bind', 'key', key);
    return this.request({ amqp: 'bind', queue, exchange, key });
  }

  /**
   * `basic.publish` in confirm mode: the event resolves with the {@link PublishOutcome}.
   * @example
   * ```ts
   * const outcome = yield* client.publish('orders', 'eu.new', { id: 1 }, { persistent: true });
   * ```
   */
  publish(
    exchange: string,
    routingKey: string,
    body: unknown,
    options?: PublishOptions,
  ): SimEvent<PublishOutcome> {
    checkString('AmqpClient.publish', 'exchange', exchange);
    checkString('AmqpClient.publish', 'routingKey', routingKey);
    const o = resolvePublish(options);
    this.stats.published++;
    const done = this.sim.event<PublishOutcome>();
    const settle = (outcome: PublishOutcome): void => {
      if (outcome.status === 'ack') this.stats.confirmed++;
      else if (outcome.status === 'nack') this.stats.nacked++;
      else if (outcome.status === 'error') this.stats.errors++;
      else if (outcome.status === 'timeout') this.stats.timeouts++;
      else this.stats.unavailable++;
      done.succeed(outcome);
    };
    this.whenOpen(
      (connection) => {
        const req: AmqpRequest = { amqp: 'publish', connection, exchange, routingKey, body, ...o };
        const call = this.endpoint.call<PublishOutcome>(this.broker, req, {
          size: o.size,
          ...(this.confirmTimeout === Infinity ? {} : { timeout: this.confirmTimeout }),
        });
        after(call, (res: RpcResponse<PublishOutcome>) => {
          if (res.ok) settle(res.value);
          else if (res.error.kind === 'timeout') settle({ status: 'timeout' });
          else settle({ status: 'unavailable', message: res.error.message });
        });
      },
      (reason) => settle({ status: 'unavailable', message: reason }),
    );
    return done;
  }

  /**
   * `basic.qos` + `basic.consume`: `handler` gets each delivery after `processingTime`.
   * @example
   * ```ts
   * client.consume('work', { prefetch: 1, processingTime: '100ms' }, (d) => d.ack());
   * ```
   */
  consume(
    queue: string,
    options: ConsumeOptions | undefined,
    handler: (delivery: AmqpDelivery) => void,
  ): AmqpConsumer {
    checkName('AmqpClient.consume', 'queue', queue);
    const o = resolveConsume(options);
    if (typeof handler !== 'function')
      throw invalidOption('AmqpClient.consume', 'handler', handler, 'a function (delivery) => void');
    const tag = o.tag ?? `ctag-${this.nextTag++}`;
    if (this.consumers.has(tag))
      throw invalidOption('AmqpClient.consume', 'tag', tag, 'a tag not used on this channel');
    const local: LocalConsumer = {
      tag,
      handler,
      processingTime: o.processingTime,
      concurrency: o.concurrency,
      autoAck: o.autoAck,
      buffer: [],
      busy: 0,
      received: 0,
    };
    this.consumers.set(tag, local);
    const ready = this.request((connection) => ({
      amqp: 'consume',
      connection,
      queue,
      tag,
      prefetch: o.prefetch,
      autoAck: o.autoAck,
    }));
    after(ready, (r) => {
      if (!r.ok) this.consumers.delete(tag);
    });
    return {
      tag,
      ready,
      get received() {
        return local.received;
      },
      get buffered() {
        return local.buffer.length;
      },
    };
  }

  /** `basic.cancel`: no new deliveries; unacknowledged ones stay with the client to settle. */
  cancel(tag: string): SimEvent<AmqpResult> {
    checkName('AmqpClient.cancel', 'tag', tag);
    return this.request((connection) => ({ amqp: 'cancel', connection, tag }));
  }

  /**
   * Closes the channel and connection: buffered deliveries are dropped, and the broker requeues every
   * unacknowledged message (redelivered).
   */
  close(): SimEvent<AmqpResult> {
    const connection = this.connection;
    const done = this.sim.event<AmqpResult>();
    this.shut('client closed');
    if (connection === null) {
      done.succeed({ ok: true });
      return done;
    }
    after(
      this.endpoint.call<AmqpResult>(this.broker, { amqp: 'close', connection } satisfies AmqpRequest),
      (res) => {
        done.succeed(res.ok ? res.value : { ok: false, error: { code: 320, text: res.error.message } });
      },
    );
    return done;
  }

  // ------------------------------------------------------------------ internals

  private whenOpen(fn: (connection: number) => void, failed: (reason: string) => void): void {
    if (this.closedFlag) {
      failed('client closed');
      return;
    }
    if (this.connection !== null) {
      fn(this.connection);
      return;
    }
    this.waiting.push(() =>
      this.closedFlag || this.connection === null ? failed('client closed') : fn(this.connection),
    );
  }

  private request(build: AmqpRequest | ((connection: number) => AmqpRequest)): SimEvent<AmqpResult> {
    const done = this.sim.event<AmqpResult>();
    this.whenOpen(
      (connection) => {
        const req = typeof build === 'function' ? build(connection) : build;
        after(this.endpoint.call<AmqpResult>(this.broker, req), (res) => {
          done.succeed(res.ok ? res.value : { ok: false, error: { code: 320, text: res.error.message } });
        });
      },
      (reason) => done.succeed({ ok: false, error: { code: 320, text: `CONNECTION_FORCED - ${reason}` } }),
    );
    return done;
  }

  private ping(): void {
    const half = this.heartbeat / 2;
    this.endpoint.node.setTimer(half, () => {
      if (this.closedFlag || this.connection === null) return;
      const hb = this.endpoint.call<boolean>(
        this.broker,
        { amqp: 'hb', connection: this.connection } satisfies AmqpRequest,
        {
          timeout: half,
        },
      );
      after(hb, (res) => {
        if (this.closedFlag) return;
        if (!res.ok || res.value !== true) this.shut('connection lost (heartbeat)');
      });
      this.ping();
    });
  }

  private shut(reason: string): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const c of this.consumers.values()) c.buffer = [];
    this.consumers.clear();
    const waiting = this.waiting;
    this.waiting = [];
    for (const fn of waiting) fn();
    for (const hook of this.closeHooks) hook(reason);
  }

  private receive(payload: unknown): void {
    if (this.closedFlag || payload === null || typeof payload !== 'object') return;
    const p = payload as DeliveryWire | CancelWire;
    if (p.connection !== this.connection) return;
    if (p.amqp === 'cancelled') {
      this.consumers.delete(p.consumerTag);
      return;
    }
    if (p.amqp !== 'deliver') return;
    const local = this.consumers.get(p.consumerTag);
    if (local === undefined) return;
    this.stats.received++;
    local.received++;
    local.buffer.push(this.delivery(p, local.autoAck));
    this.pump(local);
  }

  private pump(local: LocalConsumer): void {
    while (local.busy < local.concurrency && local.buffer.length > 0 && !this.closedFlag) {
      const d = local.buffer.shift()!;
      const ms = local.processingTime.sample(this.rng);
      if (ms === 0) {
        local.handler(d);
        continue;
      }
      local.busy++;
      this.endpoint.node.work(ms, () => {
        local.busy--;
        if (this.closedFlag) return;
        local.handler(d);
        this.pump(local);
      });
    }
  }

  private delivery(w: DeliveryWire, autoAck: boolean): AmqpDelivery {
    const state = { settled: autoAck };
    if (!autoAck) this.unsettled.set(w.deliveryTag, state);
    const send = (op: SettleWire['op'], multiple: boolean, requeue: boolean, what: string): void => {
      if (this.closedFlag || this.connection !== w.connection) return;
      if (state.settled)
        throw new DsimError(
          'INVALID_STATE',
          `AmqpClient ${this.endpoint.node.address}: ${what} of delivery ${w.deliveryTag} (${autoAck ? 'auto-ack' : 'already settled'}): PRECONDITION_FAILED - unknown delivery tag`,
        );
      if (multiple) {
        for (const [tag, s] of this.unsettled) if (tag <= w.deliveryTag) s.settled = true;
        for (const tag of [...this.unsettled.keys()]) if (tag <= w.deliveryTag) this.unsettled.delete(tag);
      } else {
        state.settled = true;
        this.unsettled.delete(w.deliveryTag);
      }
      if (op === 'ack') this.stats.acked++;
      else if (op === 'nack') this.stats.nackedDeliveries++;
      else this.stats.rejected++;
      this.endpoint.node.send(w.broker, {
        amqp: 'settle',
        connection: w.connection,
        deliveryTag: w.deliveryTag,
        op,
        multiple,
        requeue,
      } satisfies SettleWire);
    };
    const opts = (component: string, o: unknown, keys: readonly string[]): Record<string, unknown> => {
      checkOptions(component, o, keys);
      return (o ?? {}) as Record<string, unknown>;
    };
    return {
      consumerTag: w.consumerTag,
      deliveryTag: w.deliveryTag,
      queue: w.queue,
      exchange: w.exchange,
      routingKey: w.routingKey,
      body: w.body,
      size: w.size,
      persistent: w.persistent,
      redelivered: w.redelivered,
      messageId: w.messageId,
      publishedAt: w.publishedAt,
      xDeath: w.deaths,
      xDeliveryCount: w.deliveryCount,
      ack: (o) => {
        const v = opts('AmqpDelivery.ack', o, ['multiple']);
        send('ack', checkBoolean('AmqpDelivery.ack', 'multiple', v.multiple, false), false, 'ack');
      },
      nack: (o) => {
        const v = opts('AmqpDelivery.nack', o, SETTLE_KEYS);
        send(
          'nack',
          checkBoolean('AmqpDelivery.nack', 'multiple', v.multiple, false),
          checkBoolean('AmqpDelivery.nack', 'requeue', v.requeue, true),
          'nack',
        );
      },
      reject: (o) => {
        const v = opts('AmqpDelivery.reject', o, ['requeue']);
        send('reject', false, checkBoolean('AmqpDelivery.reject', 'requeue', v.requeue, true), 'reject');
      },
    };
  }
}
