import {
  checkDuration,
  type Duration,
  invalidOption,
  type NetNode,
  nested,
  optionKeys,
  owner,
  type RandomStream,
  RpcEndpoint,
  type RpcResponse,
  requireOptions,
} from '@dsim/core';
import {
  isSagaDefinition,
  type ResolvedSagaRetry,
  resolveSagaRetry,
  type SagaDefinition,
  type SagaRetryPolicy,
} from './saga-definition.js';
import { SagaLedger, type SagaRecord } from './saga-ledger.js';
import type { SagaParticipant } from './saga-participant.js';
import { type SagaCommand, serveSagaParticipant } from './saga-participant-server.js';

/**
 * Options of a {@link SagaOrchestrator}.
 *
 * @example
 * ```ts
 * const options: SagaOrchestratorOptions = { saga, commandTimeout: 500 };
 * ```
 */
export interface SagaOrchestratorOptions {
  /** The saga, from `defineSaga`. Required. */
  saga: SagaDefinition;
  /**
   * How long the orchestrator waits for a participant's reply before it resends the command (the
   * caller's RPC timeout), a duration > 0. Required: there is no sensible default (Temporal requires an
   * activity's start-to-close or schedule-to-close timeout too).
   */
  commandTimeout: Duration;
  /**
   * Resending a command that got no reply (timeout, participant down). Commands are resent until answered:
   * the saga log keeps them pending, so `maxAttempts` must stay Infinity; only the backoff is chosen here.
   * @default unlimited, Temporal's default backoff (1 s, 2 s, 4 s, ... capped at 100 s)
   */
  redelivery?: SagaRetryPolicy;
  /** Where outcomes are recorded; share one between coordinators to pool their sagas. @default a new ledger */
  ledger?: SagaLedger;
}

const KEYS = optionKeys<SagaOrchestratorOptions>()({
  saga: true,
  commandTimeout: true,
  redelivery: true,
  ledger: true,
});

/**
 * Orchestrator-side counts.
 *
 * @example
 * ```ts
 * orchestrator.stats.resent; // commands sent again after a timeout
 * ```
 */
export interface SagaOrchestratorStats {
  /** Sagas refused because the orchestrator's node was down. */
  refused: number;
  /** Commands sent (first sends, retries and resends). */
  commands: number;
  /** Replies received (late ones, after the timeout, are not: the RPC layer counts them as late). */
  replies: number;
  /** Commands resent after no reply (timeout or unavailable). */
  resent: number;
  /** Retries after a failed attempt of a retryable step or a compensation. */
  retries: number;
  /** Sagas resumed from the log when the orchestrator restarted after a crash. */
  resumed: number;
}

/** A saga in progress: its log entry, durable across orchestrator crashes. */
interface Run {
  readonly record: SagaRecord;
  action: 'execute' | 'compensate';
  step: number;
  attempt: number;
  /** Resends of the current command after no reply. */
  resends: number;
  /** Identifies the current command: an answer to an older one is ignored. */
  token: number;
  /** The previous backoff delay, for decorrelated jitter. */
  lastDelay: number;
}

/**
 * Orchestration-based saga (Richardson, *Microservices Patterns* ch. 4; Azure Architecture Center, "Saga
 * distributed transactions pattern"): a central orchestrator on a node tells each participant, over RPC,
 * which local transaction to run, and decides from the replies. Forward: step 0, 1, ... in order. When a
 * compensable step or the pivot fails, backward recovery (Garcia-Molina & Salem, SIGMOD 1987): the
 * compensations of the steps before it, in reverse order, each retried by its policy; when one fails all
 * its attempts the saga is stuck. A retryable step (after the pivot) is retried by its own policy until it
 * succeeds; if it has a finite `maxAttempts` and runs out, the saga is stuck too.
 *
 * Messages are not lost silently: a command with no reply within `commandTimeout` (a slow or crashed
 * participant, a partition) is resent with the same attempt number, until answered. A resend can reach
 * a participant that already ran the step (its reply was late or lost): idempotent steps answer from
 * their records, non-idempotent ones run again (counted by the ledger's audit).
 *
 * The orchestrator's saga log is durable: when its node crashes, sagas in progress stop; when it
 * restarts, each resumes by sending its pending command again. While the node is down, {@link start}
 * refuses new sagas (it returns null).
 *
 * Participants are served on the nodes named in the saga ({@link serveSagaParticipant}); the nodes must
 * exist on the orchestrator's network. Each saga's messages (commands and replies) are counted on its
 * {@link SagaRecord}.
 *
 * @example
 * ```ts
 * const orchestrator = new SagaOrchestrator(net.addNode('orchestrator'), { saga, commandTimeout: 500 });
 * openLoop(sim, { arrivals: { kind: 'poisson', rate: 10 }, onArrival: () => orchestrator.start(), until: '1m' });
 * sim.run();
 * orchestrator.ledger.audit(); // outcomes and invariants
 * ```
 */
export class SagaOrchestrator {
  readonly saga: SagaDefinition;
  readonly ledger: SagaLedger;
  readonly endpoint: RpcEndpoint;
  readonly commandTimeout: number;
  readonly stats: SagaOrchestratorStats = {
    refused: 0,
    commands: 0,
    replies: 0,
    resent: 0,
    retries: 0,
    resumed: 0,
  };
  /** The participants, by address. */
  readonly participants: ReadonlyMap<string, SagaParticipant>;
  private readonly redelivery: ResolvedSagaRetry;
  private readonly runs = new Map<number, Run>();
  private readonly rng: RandomStream;

  constructor(
    readonly node: NetNode<any>,
    options: SagaOrchestratorOptions,
  ) {
    const where = owner('SagaOrchestrator');
    requireOptions(where, options, KEYS);
    if (!isSagaDefinition(options.saga))
      throw invalidOption(where, 'saga', options.saga, 'a saga built by defineSaga({ name, steps })');
    this.saga = options.saga;
    if (options.commandTimeout === undefined)
      throw invalidOption(
        where,
        'commandTimeout',
        undefined,
        'a duration > 0 (required), such as 500 or "2s"',
      );
    this.commandTimeout = checkDuration(where, 'commandTimeout', options.commandTimeout, { positive: true });
    this.redelivery = resolveSagaRetry(nested(where, 'redelivery'), options.redelivery);
    if (this.redelivery.maxAttempts !== Infinity)
      throw invalidOption(
        where,
        'redelivery.maxAttempts',
        this.redelivery.maxAttempts,
        'Infinity (left out): a command is resent until a participant answers it',
      );
    if (
      options.ledger !== undefined &&
      !(options.ledger instanceof SagaLedger && options.ledger.saga === this.saga)
    )
      throw invalidOption(where, 'ledger', options.ledger, 'a SagaLedger of the same saga');
    this.ledger = options.ledger ?? new SagaLedger(this.saga);
    const net = node.network;
    const participants = new Map<string, SagaParticipant>();
    for (const address of this.saga.participants) {
      if (address === node.address)
        throw invalidOption(
          where,
          'saga',
          address,
          `participants on other nodes than the orchestrator's (${address} is both)`,
        );
      participants.set(address, serveSagaParticipant(net.node(address), this.saga));
    }
    this.participants = participants;
    this.endpoint = RpcEndpoint.of(node);
    this.rng = net.sim.rng(`${node.address}/saga-orchestrator/${this.saga.name}`);
    node.onRestart(() => {
      for (const run of this.runs.values()) {
        this.stats.resumed++;
        this.dispatch(run);
      }
    });
  }

  /** Sagas in progress (started, not yet ended). */
  get running(): number {
    return this.runs.size;
  }

  /**
   * Starts a saga now; returns its id in the ledger, or null when the orchestrator's node is down (the
   * request is refused, counted in `stats.refused`).
   */
  start(): number | null {
    if (this.node.state === 'down') {
      this.stats.refused++;
      return null;
    }
    const record = this.ledger._begin(this.node.network.sim.now);
    const run: Run = { record, action: 'execute', step: 0, attempt: 1, resends: 0, token: 0, lastDelay: 0 };
    this.runs.set(record.id, run);
    this.dispatch(run);
    return record.id;
  }

  private dispatch(run: Run): void {
    const token = ++run.token;
    const incarnation = this.node.incarnation;
    const cmd: SagaCommand = {
      saga: this.saga,
      record: run.record,
      action: run.action,
      step: run.step,
      attempt: run.attempt,
    };
    this.stats.commands++;
    run.record.messages++;
    this.endpoint.callThen(
      this.saga.steps[run.step]!.participant,
      cmd,
      { timeout: this.commandTimeout },
      (res: RpcResponse<unknown>) => {
        // A crash fails every waiting call at once: the log, not these answers, decides what happens next.
        if (this.node.incarnation !== incarnation || run.token !== token) return;
        if (!res.ok && res.error.kind !== 'error') {
          run.resends++;
          this.stats.resent++;
          this.later(run, this.redelivery, run.resends);
          return;
        }
        this.stats.replies++;
        run.record.messages++;
        run.resends = 0;
        this.advance(run, res.ok);
      },
    );
  }

  /** Dispatches `run` again after the policy's delay before retry `retry`. */
  private later(run: Run, policy: ResolvedSagaRetry, retry: number): void {
    const delay = policy.backoff.delay(retry, this.rng, run.lastDelay);
    run.lastDelay = delay;
    const token = ++run.token;
    const incarnation = this.node.incarnation;
    if (delay === 0) {
      this.dispatch(run);
      return;
    }
    this.node.setTimer(delay, () => {
      if (this.node.incarnation === incarnation && run.token === token) this.dispatch(run);
    });
  }

  private advance(run: Run, ok: boolean): void {
    const r = run.record;
    const s = this.saga.steps[run.step]!;
    if (run.action === 'execute' && ok) {
      if (run.step + 1 === this.saga.steps.length) this.end(run, 'completed');
      else this.next(run, 'execute', run.step + 1);
    } else if (run.action === 'execute' && s.kind !== 'retryable') {
      // Backward recovery from the step before the one that failed.
      r.failedStep = run.step;
      if (run.step === 0) this.end(run, 'compensated');
      else this.next(run, 'compensate', run.step - 1);
    } else if (run.action === 'compensate' && ok) {
      r.compensationsRun++;
      if (run.step === 0) this.end(run, 'compensated');
      else this.next(run, 'compensate', run.step - 1);
    } else {
      // A failed attempt of a retryable step or of a compensation: retry, or stuck once out of attempts.
      const policy = run.action === 'execute' ? s.retry! : s.compensation!.retry;
      if (run.attempt < policy.maxAttempts) this.retry(run, policy);
      else {
        r.stuckStep = run.step;
        this.end(run, 'stuck');
      }
    }
  }

  private next(run: Run, action: 'execute' | 'compensate', step: number): void {
    run.action = action;
    run.step = step;
    run.attempt = 1;
    run.lastDelay = 0;
    this.dispatch(run);
  }

  private retry(run: Run, policy: ResolvedSagaRetry): void {
    this.stats.retries++;
    run.attempt++;
    this.later(run, policy, run.attempt - 1);
  }

  private end(run: Run, outcome: 'completed' | 'compensated' | 'stuck'): void {
    this.runs.delete(run.record.id);
    run.token++;
    this.ledger._end(run.record, outcome, this.node.network.sim.now);
  }
}
