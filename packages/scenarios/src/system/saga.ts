import {
  type BackoffSpec,
  defineSaga,
  SagaChoreography,
  type SagaDefinition,
  type SagaLedger,
  SagaOrchestrator,
  type SagaRecord,
  type SagaRetryPolicy,
  type SagaStepSpec,
} from '@dsim/components';
import { type NetNode, type Reply, RpcEndpoint } from '@dsim/core';
import type { Outcome } from '../scenario.js';
import type { AmqpHandle } from './amqp.js';
import { toDistribution } from './distributions.js';
import { type CallHook, observeCallThen } from './gateway.js';
import type { Phase } from './phases.js';
import type { SagaDescription } from './saga-schema.js';

/**
 * A saga node, compiled: its definition, its orchestrator or its choreography (one of them), and the
 * ledger of every saga it started.
 */
export interface SagaHandle {
  readonly definition: SagaDefinition;
  readonly orchestrator: SagaOrchestrator | undefined;
  readonly choreography: SagaChoreography | undefined;
  readonly ledger: SagaLedger;
}

const retry = (
  r: { maxAttempts?: number | undefined; backoff?: unknown } | undefined,
): SagaRetryPolicy | undefined =>
  r === undefined
    ? undefined
    : {
        ...(r.maxAttempts === undefined ? {} : { maxAttempts: r.maxAttempts }),
        ...(r.backoff === undefined ? {} : { backoff: r.backoff as BackoffSpec }),
      };

/**
 * The saga as the components define it (defineSaga), named after its node. A defect of the steps' order
 * or kinds is defineSaga's error (the caller names the node).
 *
 * @example
 * ```ts
 * sagaDefinition('checkout', node).pivot; // index of the pivot step, or -1
 * ```
 */
export function sagaDefinition(name: string, d: SagaDescription): SagaDefinition {
  return defineSaga({
    name: name.replace(/[^A-Za-z0-9_-]/g, '_'),
    steps: d.steps.map((s): SagaStepSpec => {
      const r = retry(s.retry);
      const c = s.compensation;
      const cr = retry(c?.retry);
      return {
        name: s.name,
        participant: s.participant,
        kind: s.kind,
        latency: toDistribution(s.latency),
        ...(s.failureProbability === undefined ? {} : { failureProbability: s.failureProbability }),
        ...(s.idempotent === undefined ? {} : { idempotent: s.idempotent }),
        ...(r === undefined ? {} : { retry: r }),
        ...(c === undefined
          ? {}
          : {
              compensation: {
                latency: toDistribution(c.latency),
                ...(c.failureProbability === undefined ? {} : { failureProbability: c.failureProbability }),
                ...(cr === undefined ? {} : { retry: cr }),
              },
            }),
      };
    }),
  });
}

/**
 * Builds a saga node: a {@link SagaOrchestrator} on `node` (serving the participants on their nodes),
 * or with `choreography` a {@link SagaChoreography} over the first broker of `amqp` with `node` as its
 * starter; either way the node's endpoint starts one saga per request and answers at once (`answer:
 * at-once`): ok with the saga's id, or `unavailable` when its node is down; or with `answer: at-end` when
 * the saga ends (ok when completed, `error` when compensated or stuck; the requests waiting when the node
 * crashes are never answered). The orchestrator's commands to the participants are
 * told to `onCall` as they end.
 *
 * @example
 * ```ts
 * const h = buildSaga(net.node('checkout'), 'checkout', node, undefined, undefined);
 * h.ledger.stats; // { started, completed, compensated, stuck, ... }
 * ```
 */
export function buildSaga(
  node: NetNode,
  name: string,
  d: SagaDescription,
  amqp: AmqpHandle | undefined,
  onCall: CallHook | undefined,
): SagaHandle {
  const definition = sagaDefinition(name, d);
  const c = d.choreography;
  let start: () => number | null;
  let handle: SagaHandle;
  if (c === undefined) {
    const redelivery = retry(d.redelivery);
    const orchestrator = new SagaOrchestrator(node, {
      saga: definition,
      // Required without choreography (checkSaga).
      commandTimeout: d.commandTimeout!,
      ...(redelivery === undefined ? {} : { redelivery }),
    });
    if (onCall !== undefined) observeCallThen(orchestrator.endpoint, onCall);
    start = () => orchestrator.start();
    handle = { definition, orchestrator, choreography: undefined, ledger: orchestrator.ledger };
  } else {
    const republish = retry(c.republish);
    const choreography = new SagaChoreography(node.network, {
      saga: definition,
      broker: amqp!.brokers[0]!,
      starter: node.address,
      ...(c.prefetch === undefined ? {} : { prefetch: c.prefetch }),
      ...(c.heartbeat === undefined ? {} : { heartbeat: c.heartbeat }),
      ...(c.confirmTimeout === undefined ? {} : { confirmTimeout: c.confirmTimeout }),
      ...(c.reconnectDelay === undefined ? {} : { reconnectDelay: c.reconnectDelay }),
      ...(republish === undefined ? {} : { republish }),
    });
    start = () => choreography.start();
    handle = { definition, orchestrator: undefined, choreography, ledger: choreography.ledger };
  }
  if (d.answer !== 'at-end') {
    RpcEndpoint.of(node).serve((_request, reply) => {
      const id = start();
      if (id === null) reply.error('unavailable', `${node.address}: the saga's node is down`);
      else reply.ok(id);
    });
    return handle;
  }
  // Answered as each saga ends: the requests waiting, by saga id.
  const waiting = new Map<number, Reply<unknown>>();
  const ledger = handle.ledger;
  const answer = (r: SagaRecord, reply: Reply<unknown>): void => {
    if (r.outcome === 'completed') reply.ok(r.id);
    else reply.error('error', `${node.address}: saga ${r.id} ${r.outcome}`);
  };
  ledger.onEnd((r) => {
    const reply = waiting.get(r.id);
    if (reply === undefined) return;
    waiting.delete(r.id);
    answer(r, reply);
  });
  // The connections die with the process: nobody is answered (the saga log survives and carries on).
  node.onCrash(() => waiting.clear());
  RpcEndpoint.of(node).serve((_request, reply) => {
    const id = start();
    if (id === null) {
      reply.error('unavailable', `${node.address}: the saga's node is down`);
      return;
    }
    const r = ledger.record(id);
    if (r.outcome === 'running') waiting.set(id, reply);
    else answer(r, reply);
  });
  return handle;
}

/**
 * Per phase, for the sagas started in it (from the ledger, after the run): `sagas` started,
 * `completed`, `compensated`, `stuck` and `running` (not ended by the end of the run),
 * `compensationsRun`, and `p50` / `p99` of the ended ones' duration (ms).
 *
 * @example
 * ```ts
 * sagaOutcome('checkout', h, phases); // { 'checkout.all.completed': 812, ... }
 * ```
 */
export function sagaOutcome(name: string, h: SagaHandle, phases: readonly Phase[]): Outcome {
  const out: Outcome = {};
  const records = h.ledger.all;
  for (const p of phases) {
    const k = `${name}.${p.name}.`;
    const counts = { sagas: 0, completed: 0, compensated: 0, stuck: 0, running: 0, compensationsRun: 0 };
    const durations: number[] = [];
    for (const r of records) {
      if (r.startedAt < p.fromMs || r.startedAt >= p.toMs) continue;
      counts.sagas++;
      counts[r.outcome]++;
      counts.compensationsRun += r.compensationsRun;
      if (r.outcome !== 'running') durations.push(r.endedAt - r.startedAt);
    }
    durations.sort((a, b) => a - b);
    const q = (f: number) =>
      durations.length === 0 ? null : durations[Math.ceil(f * durations.length) - 1]!;
    for (const [f, v] of Object.entries(counts)) out[`${k}${f}`] = v;
    out[`${k}p50`] = q(0.5);
    out[`${k}p99`] = q(0.99);
  }
  return out;
}
