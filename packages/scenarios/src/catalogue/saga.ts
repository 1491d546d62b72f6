import {
  AmqpBroker,
  defineSaga,
  SagaChoreography,
  type SagaDefinition,
  type SagaLedger,
  SagaOrchestrator,
  type SagaStepSpec,
  type SagaTheory,
  sagaTheory,
} from '@dsim/components';
import { type Distribution, DsimError, exponential, Network, scheduleFaults, Tally } from '@dsim/core';
import { param } from '../params.js';
import { type CheckResult, defineScenario, type VariantResult } from '../scenario.js';
import { MAX_MS, MAX_RATE, MAX_SECONDS } from './limits.js';

/** Standard errors a measured share or mean may stray from its theory. */
const Z = 4;
/** Most compensable (and most retryable) steps: the outcome has a few fields per step. */
const MAX_STEPS = 8;
/** AmqpBroker's default CPU per publish and per delivery (ms): each choreography event pays both. */
const BROKER_MS_PER_EVENT = 0.02 + 0.01;

const COORDINATIONS = ['orchestration', 'choreography'] as const;

/**
 * The saga the parameters describe: `compensable` compensable steps, a pivot if `pivot`, then
 * `retryable` retryable steps, each on its own participant node `s1`, `s2`, ... (1-based, as in the
 * formulas).
 */
function buildSaga(p: {
  compensable: number;
  pivot: boolean;
  retryable: number;
  failureProbability: number;
  retryFailureProbability: number;
  retryBackoffMs: number;
  compensationFailureProbability: number;
  compensationAttempts: number;
  compensationBackoffMs: number;
  stepMs: number;
  compensationMs: number;
  idempotent: boolean;
}): SagaDefinition {
  const steps: SagaStepSpec[] = [];
  const latency = exponential({ mean: p.stepMs });
  const at = () => `s${steps.length + 1}`;
  for (let i = 0; i < p.compensable; i++)
    steps.push({
      name: `step${steps.length + 1}`,
      participant: at(),
      kind: 'compensable',
      latency,
      failureProbability: p.failureProbability,
      idempotent: p.idempotent,
      compensation: {
        latency: exponential({ mean: p.compensationMs }),
        failureProbability: p.compensationFailureProbability,
        retry: {
          maxAttempts: p.compensationAttempts,
          backoff: { kind: 'fixed', delayMs: p.compensationBackoffMs },
        },
      },
    });
  if (p.pivot)
    steps.push({
      name: `step${steps.length + 1}`,
      participant: at(),
      kind: 'pivot',
      latency,
      failureProbability: p.failureProbability,
      idempotent: p.idempotent,
    });
  for (let i = 0; i < p.retryable; i++)
    steps.push({
      name: `step${steps.length + 1}`,
      participant: at(),
      kind: 'retryable',
      latency,
      failureProbability: p.retryFailureProbability,
      retry: { backoff: { kind: 'fixed', delayMs: p.retryBackoffMs } },
    });
  return defineSaga({ name: 'order', steps });
}

/** networkMs plus an exponential jitter of mean `jitterMs`: a link whose latency has a floor and a tail. */
function shifted(networkMs: number, jitterMs: number): Distribution {
  const tail = exponential({ mean: jitterMs });
  return {
    kind: 'shifted-exponential',
    mean: networkMs + jitterMs,
    variance: jitterMs * jitterMs,
    sample: (rng) => networkMs + tail.sample(rng),
    describe: () => `${networkMs} + exponential(mean=${jitterMs})`,
  };
}

/**
 * Mean latency of a completed saga with no faults and no lost messages. Orchestration: each attempt of a
 * step is a command and a reply (2 link latencies d) around the step's work L. Choreography: one event
 * per step plus the start, each 2 hops through the broker plus its CPU, and a retryable step's retries
 * stay at its participant. A retryable step retried without limit takes 1/(1 − f) attempts with a backoff
 * b between two, given that it completes.
 */
function completedLatency(
  orchestration: boolean,
  p: {
    compensable: number;
    pivot: boolean;
    retryable: number;
    retryFailureProbability: number;
    retryBackoffMs: number;
    stepMs: number;
    networkMs: number;
  },
): number {
  const decisive = p.compensable + (p.pivot ? 1 : 0);
  const tries = 1 / (1 - p.retryFailureProbability);
  const hop = 2 * p.networkMs;
  const retryWait = (tries - 1) * p.retryBackoffMs;
  if (orchestration)
    return decisive * (p.stepMs + hop) + p.retryable * (tries * (p.stepMs + hop) + retryWait);
  const events = decisive + p.retryable + 1;
  return (
    events * (hop + BROKER_MS_PER_EVENT) + decisive * p.stepMs + p.retryable * (tries * p.stepMs + retryWait)
  );
}

/**
 * `saga`: sagas of compensable steps, a pivot and retryable steps (Garcia-Molina & Salem, "Sagas",
 * SIGMOD 1987; Richardson, microservices.io "Pattern: Saga"; Azure Architecture Center, "Saga distributed
 * transactions pattern") arrive as a Poisson stream and run either under an orchestrator that sends
 * commands over RPC, or as a choreography of events through a RabbitMQ-style broker. Steps fail
 * independently; a failure before the pivot compensates the steps before it in reverse order, and a
 * compensation that fails all its attempts leaves the saga stuck; failures after the pivot are retried
 * forward. The outcome compares completed, compensated and stuck sagas, the failures at each step and the
 * compensations they caused with the formulas; messages and latency per saga with each coordination; and,
 * in the at-least-once variants, duplicate deliveries absorbed by idempotent participants.
 *
 * @example
 * ```ts
 * const result = runScenario(saga, { seed: 1, variants: ['orchestration'] });
 * result.variants[0]!.outcome.pCompleted; // ≈ 0.95^4 = 0.815
 * ```
 */
export const saga = defineScenario({
  name: 'saga',
  description:
    'Sagas fail at each step: compensations in reverse order, stuck sagas when compensations fail, against the formulas; orchestration (RPC) against choreography (broker events)',
  params: {
    coordination: param.enum(COORDINATIONS, {
      default: 'orchestration',
      description:
        'orchestration (commands over RPC) or choreography (events through a broker); set by each variant',
    }),
    sagas: param.integer({
      default: 2000,
      min: 1,
      max: 200_000,
      description: 'sagas started (Poisson arrivals)',
    }),
    rate: param.number({
      default: 100,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'sagas per second',
    }),
    compensable: param.integer({
      default: 3,
      min: 0,
      max: MAX_STEPS,
      description: 'compensable steps (before the pivot)',
    }),
    pivot: param.boolean({ default: true, description: 'a pivot step after the compensable ones' }),
    retryable: param.integer({
      default: 1,
      min: 0,
      max: MAX_STEPS,
      description: 'retryable steps after the pivot',
    }),
    failureProbability: param.number({
      default: 0.05,
      min: 0,
      max: 1,
      description: 'failure probability f of each compensable step and of the pivot',
    }),
    retryFailureProbability: param.number({
      default: 0.3,
      min: 0,
      max: 0.99,
      description: 'failure probability of each attempt of a retryable step (retried until it succeeds)',
    }),
    retryBackoffMs: param.number({
      default: 100,
      min: 0,
      max: MAX_MS,
      description: 'wait before retrying a retryable step',
    }),
    compensationFailureProbability: param.number({
      default: 0.1,
      min: 0,
      max: 1,
      description: 'failure probability g of each compensation attempt',
    }),
    compensationAttempts: param.integer({
      default: 1,
      min: 1,
      max: 100,
      description: 'attempts of each compensation before the saga is stuck',
    }),
    compensationBackoffMs: param.number({
      default: 100,
      min: 0,
      max: MAX_MS,
      description: 'wait between compensation attempts',
    }),
    stepMs: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean time of a step (exponential)',
    }),
    compensationMs: param.number({
      default: 5,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean time of a compensation (exponential)',
    }),
    networkMs: param.number({
      default: 1,
      min: 0,
      max: MAX_MS,
      description: 'link latency, one way (constant)',
    }),
    idempotent: param.boolean({
      default: true,
      description: 'participants deduplicate repeated commands and events (false: every delivery runs again)',
    }),
    commandTimeoutMs: param.number({
      default: 1000,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'orchestration: time to wait for a reply before resending the command',
    }),
    confirmTimeoutMs: param.number({
      default: 0,
      min: 0,
      max: MAX_MS,
      description:
        'choreography: time to wait for a publisher confirm before publishing again (0: wait for ever)',
    }),
    jitterMs: param.number({
      default: 0,
      min: 0,
      max: MAX_MS,
      description:
        'extra link latency, exponential with this mean, on top of networkMs (makes timeouts fire)',
    }),
    heartbeatSeconds: param.number({
      default: 10,
      min: 1,
      max: MAX_SECONDS,
      description: 'choreography: AMQP heartbeat, after which a dead consumer’s events are requeued',
    }),
    crashMs: param.number({
      default: 0,
      min: 0,
      max: MAX_MS,
      description:
        'participant s2 crashes when a third of the sagas have started, for this long (0: no crash)',
    }),
    tailSeconds: param.number({
      default: 60,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds after the last arrival for sagas to finish',
    }),
  },
  variants: [
    {
      name: 'orchestration',
      description: 'an orchestrator sends commands over RPC',
      params: { coordination: 'orchestration' },
    },
    {
      name: 'choreography',
      description: 'participants react to events through a broker',
      params: { coordination: 'choreography' },
    },
    {
      name: 'orchestration-at-least-once',
      description:
        'replies slower than the 8 ms command timeout: commands are resent, idempotent steps absorb them',
      params: { coordination: 'orchestration', commandTimeoutMs: 8, jitterMs: 1 },
    },
    {
      name: 'choreography-at-least-once',
      description:
        'confirms slower than 5 ms: events are published again, idempotent participants absorb them',
      params: { coordination: 'choreography', confirmTimeoutMs: 5, jitterMs: 1 },
    },
  ],
  run({ sim, params, requests, check }) {
    const orchestration = params.coordination === 'orchestration';
    if (params.compensable + (params.pivot ? 1 : 0) + params.retryable === 0)
      throw new DsimError(
        'CONFIG_ERROR',
        'saga: compensable + pivot + retryable must give at least one step',
        {
          details: { field: 'compensable', value: 0, allowed: 'at least one step' },
        },
      );
    const definition = buildSaga(params);
    const steps = definition.steps.length;
    const theory: SagaTheory = sagaTheory(definition);
    const latency = params.jitterMs > 0 ? shifted(params.networkMs, params.jitterMs) : params.networkMs;
    const net = new Network(sim, { defaults: { latency } });
    for (const address of definition.participants) net.addNode(address);
    let start: () => number | null;
    let ledger: SagaLedger;
    // Sagas refused while the starter was down; commands or events sent again (at least once).
    let counts: () => { refused: number; resent: number };
    if (orchestration) {
      const orchestrator = new SagaOrchestrator(net.addNode('orchestrator'), {
        saga: definition,
        commandTimeout: params.commandTimeoutMs,
        redelivery: { backoff: { kind: 'none' } },
      });
      start = () => orchestrator.start();
      ledger = orchestrator.ledger;
      counts = () => ({ refused: orchestrator.stats.refused, resent: orchestrator.stats.resent });
    } else {
      net.addNode('orders-api');
      const broker = new AmqpBroker(net.addNode('rabbit'), { heartbeat: params.heartbeatSeconds * 1000 });
      const choreography = new SagaChoreography(net, {
        saga: definition,
        broker,
        starter: 'orders-api',
        heartbeat: params.heartbeatSeconds * 1000,
        ...(params.confirmTimeoutMs > 0 ? { confirmTimeout: params.confirmTimeoutMs } : {}),
        republish: { backoff: { kind: 'none' } },
      });
      start = () => choreography.start();
      ledger = choreography.ledger;
      counts = () => ({
        refused: choreography.stats.refused,
        resent: choreography.stats.republished + choreography.stats.redelivered,
      });
    }
    // Poisson arrivals; the crash of s2 (or s1) starts when a third of them have arrived.
    const gaps = exponential({ mean: 1000 / params.rate });
    const rng = sim.rng('saga/arrivals');
    let t = 0;
    let crashAt = 0;
    for (let i = 0; i < params.sagas; i++) {
      t += gaps.sample(rng);
      if (i === Math.floor(params.sagas / 3)) crashAt = t;
      sim.scheduleAt(t, () => {
        if (start() !== null) requests.start();
      });
    }
    const crashed = params.crashMs > 0;
    if (crashed)
      scheduleFaults(net, [
        {
          at: crashAt,
          for: params.crashMs,
          fault: { kind: 'crash', node: definition.steps[Math.min(1, steps - 1)]!.participant },
        },
      ]);
    const end = t + params.tailSeconds * 1000;
    sim.run({ until: end });
    const { refused, resent } = counts();

    // ----- Measured -----
    const audit = ledger.audit();
    const started = audit.started;
    const failedAt = new Array<number>(steps).fill(0);
    const compsAfter = Array.from({ length: steps }, () => new Tally());
    const exactComps = { compensated: 0, mismatched: 0 };
    const perSaga = new Tally();
    const completedMs = new Tally();
    let compensatedAfterPivot = 0;
    const compensationsOfFailed = new Tally();
    for (const r of ledger.all) {
      perSaga.add(r.messages);
      if (r.outcome !== 'running') requests.finish(r.outcome === 'completed', r.endedAt - r.startedAt);
      if (r.outcome === 'completed') completedMs.add(r.endedAt - r.startedAt);
      if (r.failedStep >= 0 && r.outcome !== 'running') {
        failedAt[r.failedStep]!++;
        compsAfter[r.failedStep]!.add(r.compensationsRun);
        compensationsOfFailed.add(r.compensationsRun);
      }
      if (r.outcome === 'compensated') {
        exactComps.compensated++;
        if (r.compensationsRun !== r.failedStep) exactComps.mismatched++;
        if (definition.pivot >= 0 && r.applied[definition.pivot]! > 0) compensatedAfterPivot++;
      }
    }
    const share = (x: number) => (started === 0 ? 0 : x / started);
    const sd = (p: number) => Math.sqrt((p * (1 - p)) / Math.max(1, started));
    const near = (count: number, p: number) => Math.abs(share(count) - p) <= Z * sd(p) + 1e-12;
    const failedSagas = failedAt.reduce((s, x) => s + x, 0);
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

    // ----- Checks -----
    const conservedDetail = `${started} started = ${audit.completed} completed + ${audit.compensated} compensated + ${audit.stuck} stuck + ${audit.running} running (${refused} refused while the starter was down)`;
    check(
      'every saga started ends in exactly one outcome',
      audit.conserved && audit.running === 0,
      conservedDetail,
    );
    if (params.idempotent) {
      check(
        'compensations commit in strictly reverse step order',
        audit.outOfOrder === 0,
        `${audit.outOfOrder} sagas out of order of ${audit.compensated + audit.stuck} that compensated`,
      );
      check(
        'no idempotent step is applied or compensated twice, whatever was delivered twice',
        audit.idempotencyViolations === 0,
        `${audit.idempotencyViolations} extra applications; ${audit.deliveries} deliveries, ${audit.absorbed} absorbed as duplicates`,
      );
      check(
        'completed sagas have every step applied once; compensated ones have every step before the failure compensated',
        audit.badCompleted === 0 && audit.badCompensated === 0 && audit.leaked === 0,
        `${audit.badCompleted} bad completed, ${audit.badCompensated} bad compensated, ${audit.leaked} effects left in place`,
      );
      check(
        'P(completed) = Π(1 − f_i) over the steps up to the pivot',
        near(audit.completed, theory.pCompleted),
        `${pct(share(audit.completed))} of ${started}, theory ${pct(theory.pCompleted)} (±${pct(Z * sd(theory.pCompleted))})`,
      );
      check(
        'P(stuck) = Σ_k P(fail at k)(1 − (1 − g^a)^(k − 1))',
        near(audit.stuck, theory.pStuck),
        `${pct(share(audit.stuck))}, theory ${pct(theory.pStuck)} (±${pct(Z * sd(theory.pStuck))})`,
      );
      const off = [];
      for (let k = 0; k < definition.decisive; k++)
        if (!near(failedAt[k]!, theory.pFailAt[k]!))
          off.push(`step ${k + 1}: ${failedAt[k]} vs ${(theory.pFailAt[k]! * started).toFixed(1)}`);
      check(
        'failures at each step k match f (1 − f)^(k − 1)',
        off.length === 0,
        off.length === 0
          ? failedAt
              .slice(0, definition.decisive)
              .map((x, k) => `step ${k + 1}: ${x} (theory ${(theory.pFailAt[k]! * started).toFixed(1)})`)
              .join(', ')
          : off.join('; '),
      );
      check(
        'a compensated saga that failed at step k ran exactly k − 1 compensations',
        exactComps.mismatched === 0,
        `${exactComps.mismatched} of ${exactComps.compensated} compensated sagas differ`,
      );
      const meanComps = compensationsOfFailed.mean;
      const compsTol =
        failedSagas < 2 ? 0 : (Z * compensationsOfFailed.stdDev) / Math.sqrt(failedSagas) + 1e-9;
      check(
        'committed compensations per failed saga match the theory (stopping at a failed compensation)',
        failedSagas < 2 || Math.abs(meanComps - theory.compensationsPerFailedSaga) <= compsTol,
        `${failedSagas < 1 ? 'none' : meanComps.toFixed(3)} per failed saga (${failedSagas}), theory ${theory.compensationsPerFailedSaga.toFixed(3)} (±${compsTol.toFixed(3)})`,
      );
    }
    if (definition.pivot >= 0 && params.idempotent)
      check(
        'no saga is compensated once its pivot committed (failures after it are retried forward)',
        compensatedAfterPivot === 0,
        `${compensatedAfterPivot} compensated after the pivot committed`,
      );
    const messagesPerSaga = perSaga.mean;
    const theoryMessages = orchestration ? theory.orchestrationMessages : theory.choreographyEvents;
    const clean = !crashed && resent === 0 && params.idempotent;
    if (clean && started > 1) {
      const tol = Z * (perSaga.stdDev / Math.sqrt(started)) + 1e-9;
      check(
        orchestration
          ? 'messages per saga = 2 × (step attempts + compensation attempts)'
          : 'events per saga = 1 + steps settled + compensations settled (n + 1 when completed)',
        Math.abs(messagesPerSaga - theoryMessages) <= tol,
        `${messagesPerSaga.toFixed(3)}, theory ${theoryMessages.toFixed(3)} (±${tol.toFixed(3)})`,
      );
    }
    const theoryLatency = completedLatency(orchestration, params);
    if (clean && params.jitterMs === 0 && completedMs.count > 1) {
      // Choreography events also wait for the broker's worker (its acks and confirms): 5% slack for it.
      const tol =
        Z * (completedMs.stdDev / Math.sqrt(completedMs.count)) + (orchestration ? 0 : 0.05 * theoryLatency);
      check(
        'mean latency of completed sagas matches the per-step hops, work and retries',
        Math.abs(completedMs.mean - theoryLatency) <= tol,
        `${completedMs.mean.toFixed(2)} ms, theory ${theoryLatency.toFixed(2)} ms (±${tol.toFixed(2)})`,
      );
    }

    const outcome: Record<string, number | string | boolean | null> = {
      coordination: params.coordination,
      idempotent: params.idempotent,
      faultFree: clean,
      steps,
      started,
      refused,
      completed: audit.completed,
      compensated: audit.compensated,
      stuck: audit.stuck,
      running: audit.running,
      pCompleted: share(audit.completed),
      theoryPCompleted: theory.pCompleted,
      pCompensated: share(audit.compensated),
      theoryPCompensated: theory.pCompensated,
      pStuck: share(audit.stuck),
      theoryPStuck: theory.pStuck,
      compensationsPerFailedSaga: failedSagas === 0 ? null : compensationsOfFailed.mean,
      theoryCompensationsPerFailedSaga: theory.compensationsPerFailedSaga,
      messagesPerSaga,
      theoryMessagesPerSaga: theoryMessages,
      networkMessagesPerSaga: started === 0 ? null : net.stats.sent / started,
      meanLatencyCompletedMs: completedMs.count === 0 ? null : completedMs.mean,
      sdLatencyCompletedMs: completedMs.count < 2 ? null : completedMs.stdDev,
      theoryLatencyCompletedMs: theoryLatency,
      p99LatencyCompletedMs: completedMs.count === 0 ? null : ledger.latency.completed.percentile(99),
      meanLatencyCompensatedMs: audit.compensated === 0 ? null : ledger.latency.compensated.mean,
      resentOrRedelivered: resent,
      deliveries: audit.deliveries,
      absorbed: audit.absorbed,
      doubleApplied: audit.doubleApplied,
      doubleCompensated: audit.doubleCompensated,
      leaked: audit.leaked,
      conflictingOutcomes: audit.conflictingOutcomes,
      outOfOrder: audit.outOfOrder,
    };
    for (let k = 0; k < definition.decisive; k++) {
      outcome[`failedAtStep${k + 1}`] = failedAt[k]!;
      outcome[`theoryFailedAtStep${k + 1}`] = theory.pFailAt[k]! * started;
      outcome[`compensationsAfterStep${k + 1}`] = compsAfter[k]!.count === 0 ? null : compsAfter[k]!.mean;
      outcome[`theoryCompensationsAfterStep${k + 1}`] = theory.compensationsGivenFailAt[k]!;
    }
    return outcome;
  },
  compare(variants: readonly VariantResult[]): CheckResult[] {
    const checks: CheckResult[] = [];
    const get = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const orch = get('orchestration');
    const chor = get('choreography');
    const num = (o: Record<string, unknown>, k: string) => o[k] as number;
    if (orch !== undefined && chor !== undefined && num(orch, 'steps') === num(chor, 'steps')) {
      const n = num(orch, 'steps');
      checks.push({
        name: 'choreography sends fewer application messages than orchestration (about n + 1 events against 2n commands and replies)',
        pass: num(chor, 'messagesPerSaga') < num(orch, 'messagesPerSaga') || n < 2,
        detail: `${num(chor, 'messagesPerSaga').toFixed(2)} events against ${num(orch, 'messagesPerSaga').toFixed(2)} messages per saga (n = ${n})`,
      });
      checks.push({
        name: 'but more messages on the wire: each event is a publish, a confirm, a delivery and an ack',
        pass: num(chor, 'networkMessagesPerSaga') > num(orch, 'networkMessagesPerSaga'),
        detail: `${num(chor, 'networkMessagesPerSaga').toFixed(2)} against ${num(orch, 'networkMessagesPerSaga').toFixed(2)} network messages per saga`,
      });
      const o = num(orch, 'meanLatencyCompletedMs');
      const c = num(chor, 'meanLatencyCompletedMs');
      const expected = num(chor, 'theoryLatencyCompletedMs') - num(orch, 'theoryLatencyCompletedMs');
      const so = num(orch, 'sdLatencyCompletedMs');
      const sc = num(chor, 'sdLatencyCompletedMs');
      if (
        orch.faultFree === true &&
        chor.faultFree === true &&
        o !== null &&
        c !== null &&
        so !== null &&
        sc !== null
      ) {
        // Independent-sample bound (the variants share random streams, so the real spread is smaller),
        // plus the 5% of broker queueing the latency check allows.
        const tol =
          Z * Math.sqrt((so * so) / num(orch, 'completed') + (sc * sc) / num(chor, 'completed')) +
          0.05 * num(chor, 'theoryLatencyCompletedMs');
        checks.push({
          name: 'choreography’s completed sagas differ in latency from orchestration’s by what the hops predict (one more event through the broker, retries without a round trip)',
          pass: Math.abs(c - o - expected) <= tol,
          detail: `choreography ${c.toFixed(2)} ms, orchestration ${o.toFixed(2)} ms: difference ${(c - o).toFixed(2)} ms, theory ${expected.toFixed(2)} ms (±${tol.toFixed(2)})`,
        });
      }
      checks.push({
        name: 'both coordinations end sagas alike: P(completed) within 4 combined standard errors',
        pass:
          Math.abs(num(orch, 'pCompleted') - num(chor, 'pCompleted')) <=
          Z *
            Math.sqrt(
              num(orch, 'theoryPCompleted') *
                (1 - num(orch, 'theoryPCompleted')) *
                (1 / Math.max(1, num(orch, 'started')) + 1 / Math.max(1, num(chor, 'started'))),
            ),
        detail: `orchestration ${(100 * num(orch, 'pCompleted')).toFixed(2)}%, choreography ${(100 * num(chor, 'pCompleted')).toFixed(2)}%`,
      });
    }
    for (const name of ['orchestration-at-least-once', 'choreography-at-least-once']) {
      const v = get(name);
      if (v === undefined || v.idempotent === false) continue;
      checks.push({
        name: `${name}: duplicates were delivered and absorbed by idempotent participants`,
        pass: num(v, 'absorbed') > 0 && num(v, 'doubleApplied') === 0,
        detail: `${num(v, 'resentOrRedelivered')} resent, ${num(v, 'absorbed')} deliveries absorbed, ${num(v, 'doubleApplied')} applied twice`,
      });
    }
    return checks;
  },
});
