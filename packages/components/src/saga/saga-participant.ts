import { invalidArgument, type NetNode, type RandomStream } from '@dsim/core';
import type { SagaDefinition, SagaStep } from './saga-definition.js';
import type { SagaRecord } from './saga-ledger.js';

/**
 * Counts of one participant: deliveries received, transactions run, duplicates absorbed.
 *
 * @example
 * ```ts
 * const { executions, absorbed } = participant.stats;
 * ```
 */
export interface SagaParticipantStats {
  /** Commands or events received for a step or a compensation. */
  deliveries: number;
  /** Local transactions run (steps and compensations, committed or rolled back). */
  executions: number;
  /** Deliveries answered from the participant's records, without running anything (idempotency). */
  absorbed: number;
  /** Local transactions lost in a crash of the node (never committed). */
  lostInCrash: number;
}

/** Whose answer a transaction in progress owes: every delivery of it that arrived meanwhile. */
type Waiter = (ok: boolean) => void;

/**
 * The local side of a saga at one participant node: runs the steps (and compensations) the node owns as
 * local transactions that take their `latency` of the node's work (divided by its capacity factor, so a
 * `degrade` fault slows them), then commit or roll back (a failure
 * with the step's probability, drawn from the stream `<node>/saga/<saga>`). The transport (RPC for
 * orchestration, a broker for choreography) calls {@link SagaParticipant.execute} and
 * {@link SagaParticipant.compensate} for each delivery and sends the answer on.
 *
 * What it keeps is its database: for each saga and step, the committed executions, failures and
 * compensations, written into the saga's {@link SagaRecord} when the transaction commits. It survives a
 * crash; a transaction in progress does not (its work timer dies with the node, nothing is committed and
 * no answer is sent: the coordinator's timeout or the broker's redelivery brings the request back).
 *
 * Idempotency, per step ({@link SagaStepSpec.idempotent}): an idempotent participant answers a repeated
 * delivery from its records (the step already committed: "done"; this attempt already failed: "failed";
 * the same transaction is still running: the answer it will give), so nothing runs twice. A
 * non-idempotent one runs the transaction again for every delivery, each with its own failure draw: a
 * second charge, counted in the ledger's audit as `doubleApplied`.
 *
 * @example
 * ```ts
 * const p = new SagaParticipant(net.node('payments'), saga);
 * p.execute(ledger.record(1), 1, 1, (ok) => reply(ok));
 * ```
 */
export class SagaParticipant {
  readonly stats: SagaParticipantStats = { deliveries: 0, executions: 0, absorbed: 0, lostInCrash: 0 };
  /** Transactions in progress, by `saga/step/kind`: who waits for the answer. Volatile. */
  private running = new Map<string, Waiter[]>();
  /** Transactions whose work is under way (idempotent or not). */
  private inFlight = 0;
  private readonly rng: RandomStream;

  constructor(
    readonly node: NetNode<any>,
    readonly saga: SagaDefinition,
  ) {
    this.rng = node.network.sim.rng(`${node.address}/saga/${saga.name}`);
    node.onCrash(() => {
      this.stats.lostInCrash += this.inFlight;
      this.inFlight = 0;
      this.running = new Map();
    });
  }

  /**
   * Runs `attempt` (1, 2, ...) of step `step` of saga `record`, or answers it from the records; calls
   * `done(committed)` when the transaction commits (true) or rolls back (false). Never called if the node
   * crashes first.
   */
  execute(record: SagaRecord, step: number, attempt: number, done: Waiter): void {
    const s = this.own(step);
    this.stats.deliveries++;
    record.deliveries++;
    if (
      !s.idempotent ||
      !this.answered(
        record,
        `${record.id}/${step}/x`,
        record.applied[step]! > 0,
        record.failures[step]! >= attempt,
        done,
      )
    )
      this.run(record, s, false, done);
  }

  /** Runs `attempt` of the compensation of step `step` of saga `record`, or answers it from the records. */
  compensate(record: SagaRecord, step: number, attempt: number, done: Waiter): void {
    const s = this.own(step);
    this.stats.deliveries++;
    record.deliveries++;
    const failed = record.compensationFailures[step]! >= attempt;
    if (
      !s.idempotent ||
      !this.answered(record, `${record.id}/${step}/c`, record.compensated[step]! > 0, failed, done)
    )
      this.run(record, s, true, done);
  }

  /**
   * The idempotent answer from the records: done if it committed, failed if this attempt failed, or the
   * answer of the same transaction still running. False when nothing is known: it must run.
   */
  private answered(
    record: SagaRecord,
    key: string,
    committed: boolean,
    failed: boolean,
    done: Waiter,
  ): boolean {
    const waiting = committed || failed ? undefined : this.running.get(key);
    if (!committed && !failed && waiting === undefined) return false;
    this.stats.absorbed++;
    record.absorbed++;
    if (waiting !== undefined) waiting.push(done);
    else done(committed);
    return true;
  }

  /**
   * Counts a delivery that an idempotent participant drops without answering: the event that answered
   * it was already published (a choreography's duplicate).
   */
  drop(record: SagaRecord): void {
    this.stats.deliveries++;
    this.stats.absorbed++;
    record.deliveries++;
    record.absorbed++;
  }

  private own(step: number): SagaStep {
    const s = this.saga.steps[step];
    if (s === undefined || s.participant !== this.node.address)
      throw invalidArgument(
        'step',
        step,
        `one of the steps of saga ${this.saga.name} that ${this.node.address} runs`,
        `SagaParticipant ${this.node.address}`,
      );
    return s;
  }

  private run(record: SagaRecord, s: SagaStep, compensation: boolean, done: Waiter): void {
    const c = s.compensation;
    if (compensation && c === null)
      throw invalidArgument(
        'step',
        s.index,
        `a compensable step (${s.name} is ${s.kind}: it has no compensation)`,
        `SagaParticipant ${this.node.address}`,
      );
    const key = `${record.id}/${s.index}/${compensation ? 'c' : 'x'}`;
    // Idempotent: one transaction per key, duplicates wait on it. Non-idempotent: each runs on its own.
    let waiters: Waiter[] = [done];
    if (s.idempotent) this.running.set(key, waiters);
    const latency = compensation ? c!.latency : s.latency;
    const p = compensation ? c!.failureProbability : s.failureProbability;
    // A degraded node (capacity below 1) works slower, as a Service does.
    const work = latency.sample(this.rng) / this.node.capacity;
    const failed = p > 0 && this.rng.next() < p;
    this.inFlight++;
    this.node.work(work, () => {
      this.inFlight--;
      this.stats.executions++;
      if (s.idempotent) {
        waiters = this.running.get(key) ?? waiters;
        this.running.delete(key);
      }
      const i = s.index;
      if (compensation) {
        if (failed) record.compensationFailures[i]!++;
        else {
          record.compensated[i]!++;
          record.compensationOrder.push(i);
        }
      } else if (failed) record.failures[i]!++;
      else record.applied[i]!++;
      for (const w of waiters) w(!failed);
    });
  }
}
