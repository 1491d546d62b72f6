import {
  checkDuration,
  checkName,
  checkNumber,
  type Duration,
  invalidOption,
  type NetNode,
  type Network,
  nested,
  optionKeys,
  owner,
  type RandomStream,
  RpcEndpoint,
  requireOptions,
  type SimEvent,
} from '@dsim/core';
import { AmqpBroker } from '../messaging/amqp/broker.js';
import { AmqpClient, type AmqpDelivery } from '../messaging/amqp/client.js';
import type { PublishOutcome } from '../messaging/amqp/protocol.js';
import {
  isSagaDefinition,
  type ResolvedSagaRetry,
  resolveSagaRetry,
  type SagaDefinition,
  type SagaRetryPolicy,
} from './saga-definition.js';
import { SagaLedger, type SagaRecord } from './saga-ledger.js';
import { SagaParticipant } from './saga-participant.js';

/**
 * Options of a {@link SagaChoreography}.
 *
 * @example
 * ```ts
 * const options: SagaChoreographyOptions = { saga, broker, starter: 'orders-api' };
 * ```
 */
export interface SagaChoreographyOptions {
  /** The saga, from `defineSaga`. Required. */
  saga: SagaDefinition;
  /** The RabbitMQ-style broker the events go through (its exchange and queues are declared on it). Required. */
  broker: AmqpBroker;
  /** Address of the node that starts sagas and hears how they end (it may also be a participant). Required. */
  starter: string;
  /**
   * Prefetch of each participant's consumer (`basic.qos`): unacknowledged events it holds; 0 is unlimited.
   * @default 0 (RabbitMQ's default)
   */
  prefetch?: number;
  /** Client heartbeat (AmqpClient `heartbeat`), a duration > 0. @default 60 s */
  heartbeat?: Duration;
  /**
   * How long a publisher waits for the broker's confirm before it publishes the event again (AmqpClient
   * `confirmTimeout`); a duration > 0 or Infinity. A republished event whose first copy got through is a
   * duplicate downstream.
   * @default Infinity (wait for the confirm; an event whose connection dies is re-sent after reconnecting,
   *   by redelivery of the event that caused it, or, for a start, by the starter)
   */
  confirmTimeout?: Duration;
  /** Republishing an event whose publish was not confirmed (timeout, nack). @default unlimited, Temporal's default backoff */
  republish?: SagaRetryPolicy;
  /** Wait before a client whose connection closed (broker down, heartbeat lost) connects again, a duration > 0. @default 1 s */
  reconnectDelay?: Duration;
  /** Where outcomes are recorded. @default a new ledger */
  ledger?: SagaLedger;
}

const KEYS = optionKeys<SagaChoreographyOptions>()({
  saga: true,
  broker: true,
  starter: true,
  prefetch: true,
  heartbeat: true,
  confirmTimeout: true,
  republish: true,
  reconnectDelay: true,
  ledger: true,
});

/**
 * Counts of a choreography.
 *
 * @example
 * ```ts
 * choreography.stats.republished; // events published again after a missing confirm
 * ```
 */
export interface SagaChoreographyStats {
  /** Sagas refused because the starter's node was down. */
  refused: number;
  /** Events published (first publishes and republishes). */
  published: number;
  /** Events published again after their publish was not confirmed. */
  republished: number;
  /** Events delivered to a party (participants and the starter), redeliveries included. */
  delivered: number;
  /** Deliveries marked `redelivered` by the broker (requeued after a consumer's connection died). */
  redelivered: number;
  /** Outcome events the starter received for a saga that had already ended. */
  repeatedOutcomes: number;
  /** Connections opened again (after a crash or a lost connection). */
  reconnects: number;
}

/** What an event on a party's queue makes it do. */
type Reaction =
  | { readonly kind: 'execute' | 'compensate'; readonly step: number }
  | {
      readonly kind: 'outcome';
      readonly outcome: 'completed' | 'compensated' | 'stuck';
      readonly step: number;
    };

/** An event's body: which saga. The routing key says what happened. */
interface SagaEvent {
  readonly record: SagaRecord;
}

/** One node of the choreography: its client, its queue and what it reacts to. */
interface Party {
  readonly node: NetNode<any>;
  readonly queue: string;
  readonly reactions: Map<string, Reaction>;
  readonly participant: SagaParticipant | null;
  client: AmqpClient | null;
  /**
   * Idempotent answers being published, by `saga/step/bit`, with the other deliveries they answer: those
   * are acknowledged with the first one's confirm instead of publishing the same event again. Volatile.
   */
  publishing: Map<string, AmqpDelivery[]>;
}

/** Runs `fn` with the event's value once it is processed. */
function after<T>(event: SimEvent<T>, fn: (value: T) => void): void {
  event.onProcessed((e) => fn(e.value as T));
}

/**
 * Choreography-based saga over a RabbitMQ-style broker (Richardson, *Microservices Patterns* ch. 4;
 * Azure Architecture Center, "Saga distributed transactions pattern"): no coordinator. Each participant
 * subscribes to the events it reacts to, runs its local transaction and publishes what happened; the
 * next participant reacts to that. On a topic exchange named after the saga, with routing keys
 * `start`, `<step>.done`, `<step>.failed`, `<step>.compensated` and `<step>.stuck`:
 *
 * - the participant of step 0 reacts to `start`, that of step i to `<step i−1>.done`;
 * - a failed compensable step or pivot publishes `<step>.failed`; the participant of the step before it
 *   compensates and publishes `<its step>.compensated`, to which the one before reacts, down to step 0;
 * - a retryable step, or a compensation, that fails is retried by its participant (its policy, the event
 *   held unacknowledged meanwhile); when it runs out of attempts it publishes `<step>.stuck`;
 * - the starter hears `<last>.done` (completed), `<first>.failed` or `<first>.compensated`
 *   (compensated) and every `.stuck`.
 *
 * Delivery is at least once, as with RabbitMQ: each node has one durable queue and one connection; it
 * acknowledges an event only once the event it caused is confirmed by the broker (persistent messages).
 * A participant that crashes after committing but before that ack gets the event again when the broker
 * requeues it (after the connection's heartbeat times out), and a publish whose confirm does not come
 * within `confirmTimeout` is published again: both make duplicates. An idempotent participant (the
 * idempotent consumer pattern, microservices.io) drops a duplicate of an event it has already answered
 * (its answer confirmed, which it records with its other records, as an outbox would), and answers one it
 * has not from its records, publishing the recorded outcome; a non-idempotent one runs the transaction
 * again and publishes again, so duplicates multiply down the chain. The starter's start events are kept
 * until confirmed, and re-sent after it reconnects.
 *
 * Participants and the starter must be nodes of the broker's network. Each gets one AMQP client, which
 * takes the node's plain messages: do not put another AMQP client or plain-message handler on these nodes.
 *
 * @example
 * ```ts
 * const broker = new AmqpBroker(net.addNode('rabbit'), { heartbeat: '5s' });
 * const choreography = new SagaChoreography(net, { saga, broker, starter: 'orders-api' });
 * sim.scheduleAt(1000, () => choreography.start());
 * sim.run({ until: 60_000 });
 * choreography.ledger.audit();
 * ```
 */
export class SagaChoreography {
  readonly saga: SagaDefinition;
  readonly ledger: SagaLedger;
  readonly broker: AmqpBroker;
  readonly exchange: string;
  readonly stats: SagaChoreographyStats = {
    refused: 0,
    published: 0,
    republished: 0,
    delivered: 0,
    redelivered: 0,
    repeatedOutcomes: 0,
    reconnects: 0,
  };
  /** Each participant, by address. */
  readonly participants: ReadonlyMap<string, SagaParticipant>;
  private readonly parties = new Map<string, Party>();
  private readonly starter: Party;
  /** Start events not yet confirmed: re-sent when the starter reconnects. */
  private readonly pendingStarts = new Set<SagaRecord>();
  private readonly prefetch: number;
  private readonly heartbeat: number;
  private readonly confirmTimeout: number;
  private readonly reconnectDelay: number;
  private readonly republish: ResolvedSagaRetry;
  private readonly rng: RandomStream;

  constructor(
    readonly network: Network,
    options: SagaChoreographyOptions,
  ) {
    const where = owner('SagaChoreography');
    requireOptions(where, options, KEYS);
    if (!isSagaDefinition(options.saga))
      throw invalidOption(where, 'saga', options.saga, 'a saga built by defineSaga({ name, steps })');
    const saga = options.saga;
    this.saga = saga;
    if (!(options.broker instanceof AmqpBroker))
      throw invalidOption(where, 'broker', options.broker, 'an AmqpBroker');
    this.broker = options.broker;
    const starter = checkName(where, 'starter', options.starter);
    this.prefetch = checkNumber(where, 'prefetch', options.prefetch, { integer: true, min: 0 }, 0);
    this.heartbeat = checkDuration(where, 'heartbeat', options.heartbeat, { positive: true }, 60_000);
    this.confirmTimeout = checkDuration(
      where,
      'confirmTimeout',
      options.confirmTimeout,
      { positive: true, infinity: true },
      Infinity,
    );
    this.reconnectDelay = checkDuration(
      where,
      'reconnectDelay',
      options.reconnectDelay,
      { positive: true },
      1000,
    );
    this.republish = resolveSagaRetry(nested(where, 'republish'), options.republish);
    if (this.republish.maxAttempts !== Infinity)
      throw invalidOption(
        where,
        'republish.maxAttempts',
        this.republish.maxAttempts,
        'Infinity (left out): an event is published again until the broker confirms it',
      );
    if (
      options.ledger !== undefined &&
      !(options.ledger instanceof SagaLedger && options.ledger.saga === saga)
    )
      throw invalidOption(where, 'ledger', options.ledger, 'a SagaLedger of the same saga');
    this.ledger = options.ledger ?? new SagaLedger(saga);
    const brokerAddress = this.broker.address;
    for (const address of [starter, ...saga.participants])
      if (address === brokerAddress)
        throw invalidOption(
          where,
          'saga',
          address,
          `parties on other nodes than the broker (${address} is both)`,
        );
    this.rng = network.sim.rng(`saga-choreography/${saga.name}`);

    // The topology: a durable topic exchange, one durable queue per node bound to what it reacts to.
    this.exchange = `saga.${saga.name}`;
    this.broker.declareExchange(this.exchange, { type: 'topic', durable: true });
    const steps = saga.steps;
    const last = steps.length - 1;
    const party = (address: string): Party => {
      let p = this.parties.get(address);
      if (p === undefined) {
        p = {
          node: network.node(address),
          queue: `${this.exchange}.${address}`,
          reactions: new Map(),
          participant: saga.participants.includes(address)
            ? new SagaParticipant(network.node(address), saga)
            : null,
          client: null,
          publishing: new Map(),
        };
        this.parties.set(address, p);
      }
      return p;
    };
    const react = (address: string, key: string, reaction: Reaction) =>
      party(address).reactions.set(key, reaction);
    for (const s of steps) {
      react(s.participant, s.index === 0 ? 'start' : `${steps[s.index - 1]!.name}.done`, {
        kind: 'execute',
        step: s.index,
      });
      const nextStep = steps[s.index + 1];
      if (s.kind === 'compensable' && nextStep !== undefined && nextStep.kind !== 'retryable') {
        // The next step failing or being compensated is this one's cue to compensate.
        react(s.participant, `${nextStep.name}.failed`, { kind: 'compensate', step: s.index });
        react(s.participant, `${nextStep.name}.compensated`, { kind: 'compensate', step: s.index });
      }
      react(starter, `${s.name}.stuck`, { kind: 'outcome', outcome: 'stuck', step: s.index });
    }
    react(starter, `${steps[last]!.name}.done`, { kind: 'outcome', outcome: 'completed', step: last });
    if (saga.decisive > 0) {
      react(starter, `${steps[0]!.name}.failed`, { kind: 'outcome', outcome: 'compensated', step: 0 });
      if (steps[0]!.kind === 'compensable' && saga.decisive > 1)
        react(starter, `${steps[0]!.name}.compensated`, { kind: 'outcome', outcome: 'compensated', step: 0 });
    }
    this.starter = party(starter);
    const participants = new Map<string, SagaParticipant>();
    for (const p of this.parties.values()) {
      this.broker.declareQueue(p.queue, { durable: true });
      for (const key of p.reactions.keys()) this.broker.bind(p.queue, this.exchange, key);
      if (p.participant !== null) participants.set(p.node.address, p.participant);
      p.node.onRestart(() => this.connect(p));
      this.connect(p);
    }
    this.participants = participants;
  }

  /** Sagas whose start event is not yet confirmed by the broker. */
  get unconfirmedStarts(): number {
    return this.pendingStarts.size;
  }

  /**
   * Starts a saga now: the starter publishes its `start` event (re-sent until confirmed). Returns the
   * saga's id in the ledger, or null when the starter's node is down (refused).
   */
  start(): number | null {
    if (this.starter.node.state === 'down') {
      this.stats.refused++;
      return null;
    }
    const record = this.ledger._begin(this.network.sim.now);
    this.pendingStarts.add(record);
    this.sendStart(record, 0);
    return record.id;
  }

  private sendStart(record: SagaRecord, retry: number): void {
    const client = this.starter.client;
    if (client === null || client.closed) return; // sent again when the starter reconnects
    this.publish(client, record, 'start', retry, (ok) => {
      if (ok) this.pendingStarts.delete(record);
      else if (this.starter.client === client && !client.closed)
        this.starter.node.setTimer(this.republish.backoff.delay(retry + 1, this.rng), () => {
          if (this.pendingStarts.has(record) && this.starter.client === client)
            this.sendStart(record, retry + 1);
        });
    });
  }

  /** Opens the party's connection and consumes its queue; reconnects when it closes while the node is up. */
  private connect(p: Party): void {
    if (p.node.state === 'down') return;
    if (p.client !== null) this.stats.reconnects++;
    const client = new AmqpClient(RpcEndpoint.of(p.node), {
      broker: this.broker.address,
      heartbeat: this.heartbeat,
      confirmTimeout: this.confirmTimeout,
    });
    p.client = client;
    p.publishing = new Map();
    client.onClose(() => {
      if (p.client !== client || p.node.state === 'down') return; // a restart reconnects
      p.node.setTimer(this.reconnectDelay, () => {
        if (p.client === client) this.connect(p);
      });
    });
    client.consume(p.queue, { prefetch: this.prefetch }, (d) => this.deliver(p, client, d));
    if (p === this.starter) for (const record of this.pendingStarts) this.sendStart(record, 0);
  }

  private deliver(p: Party, client: AmqpClient, d: AmqpDelivery): void {
    this.stats.delivered++;
    if (d.redelivered) this.stats.redelivered++;
    const reaction = p.reactions.get(d.routingKey);
    const record = (d.body as SagaEvent).record;
    if (reaction === undefined) {
      d.ack(); // bound keys only: cannot happen
      return;
    }
    if (reaction.kind === 'outcome') {
      if (record.outcome === 'running') {
        if (reaction.outcome === 'stuck') record.stuckStep = reaction.step;
        // No coordinator counted them: the compensations are what the participants committed.
        let run = 0;
        for (const c of record.compensated) if (c > 0) run++;
        record.compensationsRun = run;
      }
      if (!this.ledger._end(record, reaction.outcome, this.network.sim.now)) this.stats.repeatedOutcomes++;
      d.ack();
      return;
    }
    this.act(p, client, d, record, reaction.kind, reaction.step);
  }

  /** Runs the step or compensation the event calls for (with its retries), then publishes what happened. */
  private act(
    p: Party,
    client: AmqpClient,
    d: AmqpDelivery,
    record: SagaRecord,
    kind: 'execute' | 'compensate',
    step: number,
  ): void {
    const s = this.saga.steps[step]!;
    const participant = p.participant!;
    const bit = kind === 'execute' ? 1 : 2;
    if (s.idempotent && (record.published[step]! & bit) !== 0) {
      // Answered already (its event confirmed): the idempotent consumer drops the duplicate.
      participant.drop(record);
      d.ack();
      return;
    }
    const retried = kind === 'execute' ? s.retry : s.compensation!.retry;
    // Attempts are numbered from the participant's records: a redelivered event resumes where they stand.
    const failures = kind === 'execute' ? record.failures[step]! : record.compensationFailures[step]!;
    const attempt = retried === null ? 1 : failures + 1;
    if (retried !== null && failures >= retried.maxAttempts) {
      this.emit(p, client, d, record, `${s.name}.stuck`, step, bit);
      return;
    }
    const settled = (ok: boolean) => {
      if (client.closed || p.client !== client) return; // the event comes back by redelivery
      if (ok) {
        this.emit(
          p,
          client,
          d,
          record,
          `${s.name}.${kind === 'execute' ? 'done' : 'compensated'}`,
          step,
          bit,
        );
        return;
      }
      if (retried === null) {
        if (record.failedStep < 0) record.failedStep = step;
        this.emit(p, client, d, record, `${s.name}.failed`, step, bit);
        return;
      }
      if (attempt >= retried.maxAttempts) {
        this.emit(p, client, d, record, `${s.name}.stuck`, step, bit);
        return;
      }
      const delay = retried.backoff.delay(attempt, this.rng);
      p.node.setTimer(delay, () => {
        if (!client.closed && p.client === client) this.act(p, client, d, record, kind, step);
      });
    };
    if (kind === 'execute') participant.execute(record, step, attempt, settled);
    else participant.compensate(record, step, attempt, settled);
  }

  /** Publishes the event `key` for `record`, again until confirmed, then acks the delivery that caused it. */
  private emit(
    p: Party,
    client: AmqpClient,
    d: AmqpDelivery,
    record: SagaRecord,
    key: string,
    step: number,
    bit: number,
  ): void {
    const idempotent = this.saga.steps[step]!.idempotent;
    const mark = `${record.id}/${step}/${bit}`;
    if (idempotent) {
      const joined = p.publishing.get(mark);
      if (joined !== undefined) {
        joined.push(d); // the same answer is on its way: ack this one with it
        return;
      }
      p.publishing.set(mark, []);
    }
    const send = (retry: number) =>
      this.publish(client, record, key, retry, (ok) => {
        if (ok) record.published[step]! |= bit; // the participant's outbox: this answer is out
        if (client.closed || p.client !== client) return;
        if (ok) {
          d.ack();
          if (idempotent) {
            for (const other of p.publishing.get(mark) ?? []) other.ack();
            p.publishing.delete(mark);
          }
          return;
        }
        p.node.setTimer(this.republish.backoff.delay(retry + 1, this.rng), () => {
          if (!client.closed && p.client === client) send(retry + 1);
        });
      });
    send(0);
  }

  private publish(
    client: AmqpClient,
    record: SagaRecord,
    key: string,
    retry: number,
    done: (confirmed: boolean) => void,
  ): void {
    this.stats.published++;
    if (retry > 0) this.stats.republished++;
    record.messages++;
    const event: SagaEvent = { record };
    after(client.publish(this.exchange, key, event, { persistent: true }), (o: PublishOutcome) =>
      done(o.status === 'ack'),
    );
  }
}
