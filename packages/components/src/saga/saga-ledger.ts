import { invalidArgument, LatencyHistogram } from '@dsim/core';
import type { SagaDefinition } from './saga-definition.js';

/**
 * How a saga ended: `completed` (every step committed), `compensated` (rolled back: a decisive step
 * failed and every compensable step committed before it was compensated, in reverse order), `stuck` (a
 * compensation, or a retryable step, failed all its attempts: an operator must repair it), or still
 * `running` when the run ended.
 *
 * @example
 * ```ts
 * const outcome: SagaOutcome = ledger.record(1).outcome;
 * ```
 */
export type SagaOutcome = 'running' | 'completed' | 'compensated' | 'stuck';

/**
 * One saga, as an observer sees it: what its coordinator decided (outcome, failed step, messages,
 * compensations) and what the participants' databases hold for it (each step's committed executions and
 * compensations, and the order compensations committed in). Arrays are indexed by step.
 *
 * @example
 * ```ts
 * const r = ledger.record(7);
 * r.outcome === 'compensated' && r.compensationOrder; // [2, 1, 0]
 * ```
 */
export interface SagaRecord {
  readonly id: number;
  readonly startedAt: number;
  /** NaN while running. */
  endedAt: number;
  outcome: SagaOutcome;
  /** Step whose failure started backward recovery, or -1. */
  failedStep: number;
  /** Step (or compensation of the step) that failed all its attempts, or -1. */
  stuckStep: number;
  /** Application messages of this saga: commands and replies (orchestration), events published (choreography). */
  messages: number;
  /** Compensations the coordinator saw commit. */
  compensationsRun: number;
  /** Participant side: executions of each step that committed their effect (more than 1: applied twice). */
  readonly applied: Uint32Array;
  /** Participant side: executions of each step that failed and rolled back. */
  readonly failures: Uint32Array;
  /** Participant side: committed compensations of each step (more than 1: compensated twice). */
  readonly compensated: Uint32Array;
  /** Participant side: compensation attempts that failed and rolled back. */
  readonly compensationFailures: Uint32Array;
  /** Steps in the order their compensations committed at the participants. */
  readonly compensationOrder: number[];
  /** Commands or events for this saga delivered to participants (duplicates included). */
  deliveries: number;
  /** Deliveries an idempotent participant answered from its records without running anything. */
  absorbed: number;
  /**
   * Choreography, participant side: the outcome events each step's participant has had confirmed by the
   * broker (bit 1: the step's, bit 2: its compensation's), kept with its records so that a duplicate of
   * an event it already answered is dropped rather than answered again.
   */
  readonly published: Uint8Array;
}

/**
 * Counts over every saga of a {@link SagaLedger}. `started = completed + compensated + stuck + running`.
 *
 * @example
 * ```ts
 * const { started, completed } = ledger.stats;
 * ```
 */
export interface SagaLedgerStats {
  started: number;
  completed: number;
  compensated: number;
  stuck: number;
  running: number;
  /** Outcome reports for a saga that had already ended, with the same outcome (a repeated final event). */
  repeatedOutcomes: number;
  /** Outcome reports that contradict the recorded one (a non-idempotent step re-run with another result). */
  conflictingOutcomes: number;
}

/**
 * What {@link SagaLedger.audit} finds: the counts, and each invariant's violations.
 *
 * @example
 * ```ts
 * const a = ledger.audit();
 * a.conserved && a.outOfOrder === 0 && a.idempotencyViolations === 0;
 * ```
 */
export interface SagaAudit extends SagaLedgerStats {
  /** started = completed + compensated + stuck + running, and each saga counted under its outcome. */
  readonly conserved: boolean;
  /** Completed sagas where a step is not committed, or is compensated. */
  readonly badCompleted: number;
  /**
   * Compensated sagas where a compensable step committed before the failure is not compensated as many
   * times as it was applied, a step from the failed one on is applied, or nothing failed.
   */
  readonly badCompensated: number;
  /** Ended sagas whose compensations did not commit in strictly reverse step order. */
  readonly outOfOrder: number;
  /** Applications and compensations beyond the first, on idempotent steps (must be 0). */
  readonly idempotencyViolations: number;
  /** Applications beyond the first of non-idempotent steps (double charges). */
  readonly doubleApplied: number;
  /** Compensations beyond the first of non-idempotent steps. */
  readonly doubleCompensated: number;
  /** Step effects left in place by a compensated saga (applied more often than compensated). */
  readonly leaked: number;
  /** Deliveries to participants, and those absorbed by idempotency. */
  readonly deliveries: number;
  readonly absorbed: number;
  /** The first violations in words (at most 20). */
  readonly violations: readonly string[];
}

const SHOWN = 20;

/**
 * The record of every saga a coordinator starts: outcome, latency and messages from the coordinator, and
 * the participants' committed effects. A coordinator ({@link SagaOrchestrator}, {@link SagaChoreography})
 * creates one, or several coordinators share one. {@link SagaLedger.audit} checks the invariants: every
 * started saga ends in exactly one outcome or is still running; a completed saga has every step committed
 * once and nothing compensated; a compensated saga has every step committed before the failure
 * compensated, in reverse order; idempotent steps are never applied twice.
 *
 * Latency histograms per outcome: `latency.completed`, `latency.compensated`, `latency.stuck`.
 *
 * @example
 * ```ts
 * const ledger = orchestrator.ledger;
 * sim.run();
 * ledger.stats.completed / ledger.stats.started; // ≈ sagaTheory(saga).pCompleted
 * ```
 */
export class SagaLedger {
  /** Latency (ms, start to outcome) of the ended sagas, by outcome. */
  readonly latency = {
    completed: new LatencyHistogram(),
    compensated: new LatencyHistogram(),
    stuck: new LatencyHistogram(),
  };
  private readonly records: SagaRecord[] = [];
  private readonly endListeners: ((record: SagaRecord) => void)[] = [];
  private readonly counts: SagaLedgerStats = {
    started: 0,
    completed: 0,
    compensated: 0,
    stuck: 0,
    running: 0,
    repeatedOutcomes: 0,
    conflictingOutcomes: 0,
  };

  constructor(readonly saga: SagaDefinition) {}

  /** A copy of the counts. */
  get stats(): SagaLedgerStats {
    return { ...this.counts };
  }

  /** Every saga started, in order of id (ids are 1, 2, ...). */
  get all(): readonly SagaRecord[] {
    return this.records;
  }

  /** The saga with id `id`. */
  record(id: number): SagaRecord {
    const r = this.records[id - 1];
    if (r === undefined)
      throw invalidArgument('id', id, `a saga id from 1 to ${this.records.length}`, 'SagaLedger.record');
    return r;
  }

  /**
   * Calls `listener(record)` as each saga ends (completed, compensated or stuck), once, after its
   * record holds the outcome; a repeated or conflicting report calls nothing.
   *
   * @example
   * ```ts
   * ledger.onEnd((r) => console.log(`saga ${r.id} ${r.outcome} after ${r.endedAt - r.startedAt} ms`));
   * ```
   */
  onEnd(listener: (record: SagaRecord) => void): void {
    if (typeof listener !== 'function')
      throw invalidArgument('listener', listener, 'a function (record) => void', 'SagaLedger.onEnd');
    this.endListeners.push(listener);
  }

  /** @internal A saga starts now: its record, with the next id. */
  _begin(now: number): SagaRecord {
    const n = this.saga.steps.length;
    const r: SagaRecord = {
      id: this.records.length + 1,
      startedAt: now,
      endedAt: Number.NaN,
      outcome: 'running',
      failedStep: -1,
      stuckStep: -1,
      messages: 0,
      compensationsRun: 0,
      applied: new Uint32Array(n),
      failures: new Uint32Array(n),
      compensated: new Uint32Array(n),
      compensationFailures: new Uint32Array(n),
      compensationOrder: [],
      deliveries: 0,
      absorbed: 0,
      published: new Uint8Array(n),
    };
    this.records.push(r);
    this.counts.started++;
    this.counts.running++;
    return r;
  }

  /**
   * @internal The coordinator's verdict. A second report for an ended saga is counted (repeated or
   * conflicting), never applied. Returns whether it was the first.
   */
  _end(r: SagaRecord, outcome: Exclude<SagaOutcome, 'running'>, now: number): boolean {
    if (r.outcome !== 'running') {
      if (r.outcome === outcome) this.counts.repeatedOutcomes++;
      else this.counts.conflictingOutcomes++;
      return false;
    }
    r.outcome = outcome;
    r.endedAt = now;
    this.counts.running--;
    this.counts[outcome]++;
    this.latency[outcome].record(now - r.startedAt);
    for (const listener of this.endListeners) listener(r);
    return true;
  }

  /**
   * Checks every invariant over every saga (a full pass: call it after a run, not per event).
   *
   * @example
   * ```ts
   * const audit = ledger.audit();
   * if (audit.violations.length > 0) console.log(audit.violations);
   * ```
   */
  audit(): SagaAudit {
    const steps = this.saga.steps;
    const n = steps.length;
    const violations: string[] = [];
    const note = (text: string) => {
      if (violations.length < SHOWN) violations.push(text);
    };
    const tally = { running: 0, completed: 0, compensated: 0, stuck: 0 };
    let badCompleted = 0;
    let badCompensated = 0;
    let outOfOrder = 0;
    let idempotencyViolations = 0;
    let doubleApplied = 0;
    let doubleCompensated = 0;
    let leaked = 0;
    let deliveries = 0;
    let absorbed = 0;
    for (const r of this.records) {
      tally[r.outcome]++;
      deliveries += r.deliveries;
      absorbed += r.absorbed;
      for (let i = 0; i < n; i++) {
        const extraApplied = Math.max(0, r.applied[i]! - 1);
        const extraCompensated = Math.max(0, r.compensated[i]! - 1);
        if (steps[i]!.idempotent) {
          if (extraApplied + extraCompensated > 0) {
            idempotencyViolations += extraApplied + extraCompensated;
            note(
              `saga ${r.id}: idempotent step ${steps[i]!.name} applied ${r.applied[i]} and compensated ${r.compensated[i]} times`,
            );
          }
        } else {
          doubleApplied += extraApplied;
          doubleCompensated += extraCompensated;
        }
      }
      // First commits only: a second compensation of a non-idempotent step is counted above, not here.
      const order = r.compensationOrder.filter((step, m, all) => all.indexOf(step) === m);
      for (let m = 1; m < order.length; m++) {
        if (order[m]! >= order[m - 1]!) {
          outOfOrder++;
          note(`saga ${r.id}: compensations committed in the order ${order.join(', ')}, not reverse`);
          break;
        }
      }
      if (r.outcome === 'completed') {
        let bad = false;
        for (let i = 0; i < n; i++) if (r.applied[i] === 0 || r.compensated[i]! > 0) bad = true;
        if (bad) {
          badCompleted++;
          note(
            `saga ${r.id}: completed with applied [${[...r.applied].join(', ')}] and compensated [${[...r.compensated].join(', ')}]`,
          );
        }
      } else if (r.outcome === 'compensated') {
        const k = r.failedStep;
        let bad = k < 0;
        for (let i = 0; i < n && !bad; i++) {
          if (i < k) {
            if (r.applied[i] === 0 || r.compensated[i]! < 1) bad = true;
          } else if (i > k && r.applied[i]! > 0) bad = true;
        }
        for (let i = 0; i < n; i++) {
          const left = r.applied[i]! - r.compensated[i]!;
          // A step after the failure never runs; the failed one left nothing, unless re-run (non-idempotent).
          if (left > 0) leaked += left;
        }
        if (bad) {
          badCompensated++;
          note(
            `saga ${r.id}: compensated after step ${k} failed, with applied [${[...r.applied].join(', ')}] and compensated [${[...r.compensated].join(', ')}]`,
          );
        }
      }
    }
    const c = this.counts;
    const conserved =
      c.started === this.records.length &&
      c.started === c.completed + c.compensated + c.stuck + c.running &&
      tally.running === c.running &&
      tally.completed === c.completed &&
      tally.compensated === c.compensated &&
      tally.stuck === c.stuck;
    if (!conserved)
      note(
        `counts: started ${c.started}, completed ${c.completed}, compensated ${c.compensated}, stuck ${c.stuck}, running ${c.running}; records say ${JSON.stringify(tally)}`,
      );
    return {
      ...this.stats,
      conserved,
      badCompleted,
      badCompensated,
      outOfOrder,
      idempotencyViolations,
      doubleApplied,
      doubleCompensated,
      leaked,
      deliveries,
      absorbed,
      violations,
    };
  }
}
