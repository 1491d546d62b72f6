import { z } from 'zod';
import { backoffSchema } from './backoff-schema.js';
import { distributionSchema, durationSchema, durationWithin } from './distributions.js';

// The saga node (SagaOrchestrator over RPC, defineSaga) and the saga-participant nodes its steps run
// on (serveSagaParticipant). Every field maps onto one SagaSpec / SagaOrchestratorOptions field; the
// defaults are the components' (Temporal's retry policy, idempotent participants).

const name = z.string().min(1, { error: 'must be a node name' });
const positiveDuration = durationSchema.refine((d) => durationWithin(d, 0, Number.POSITIVE_INFINITY, true), {
  error: 'must be a duration > 0',
});
const stepName = z.string().regex(/^[A-Za-z0-9_-]+$/, { error: 'letters, digits, "_" and "-" only' });

/** How a retried step or compensation is retried (SagaRetryPolicy). */
const retrySchema = z.strictObject({
  /** Attempts in all, the first included. @default unlimited (Temporal's default retry policy) */
  maxAttempts: z.int().min(1).optional(),
  /**
   * Delay before each retry. @default { kind: 'exponential', baseMs: 500, capMs: 100000, jitter: 'none' }
   * (Temporal's: 1 s, 2 s, 4 s, ... capped at 100 s)
   */
  backoff: backoffSchema.optional(),
});

/** One step of a saga: a local transaction at a participant (SagaStepSpec). */
const stepSchema = z.strictObject({
  /** Unique in the saga. */
  name: stepName,
  /** The `saga-participant` node that runs it. */
  participant: name,
  /** `compensable` (undone by its compensation), `pivot` (the point of no return, at most one) or `retryable` (retried until it succeeds). */
  kind: z.enum(['compensable', 'pivot', 'retryable']),
  /** Time the local transaction takes at the participant (ms, a duration or a distribution). */
  latency: distributionSchema,
  /** Probability that one execution fails (a business failure). @default 0 */
  failureProbability: z.number().min(0).max(1).optional(),
  /** The participant deduplicates repeated commands. @default true (Richardson: participants must be idempotent) */
  idempotent: z.boolean().optional(),
  /** Retryable steps only. @default unlimited attempts, Temporal's backoff */
  retry: retrySchema.optional(),
  /** Compensable steps only, required there: the compensating transaction. */
  compensation: z
    .strictObject({
      latency: distributionSchema,
      /** @default 0 */
      failureProbability: z.number().min(0).max(1).optional(),
      /** @default unlimited attempts, Temporal's backoff */
      retry: retrySchema.optional(),
    })
    .optional(),
});

/**
 * An orchestrated saga (SagaOrchestrator): every request it gets starts one saga and is answered at once
 * (accepted; `unavailable` while its node is down); the orchestrator then commands each step's
 * participant over RPC, in order, and on a failed compensable step or pivot runs the compensations of
 * the steps before it in reverse order. A command with no reply within `commandTimeout` is resent until
 * answered; the saga log survives a crash of the node.
 *
 * @example
 * ```ts
 * sagaSchema.parse({ kind: 'saga', commandTimeout: '1s', steps: [{ name: 'reserve', participant: 'inventory', kind: 'compensable', latency: 5, compensation: { latency: 5 } }] });
 * ```
 */
export const sagaSchema = z.strictObject({
  kind: z.literal('saga'),
  /**
   * Orchestration (without `choreography`, required there): how long the orchestrator waits for a
   * participant's reply before resending the command.
   */
  commandTimeout: positiveDuration.optional(),
  /** Orchestration: delay before a command is resent. @default Temporal's backoff */
  redelivery: z.strictObject({ backoff: backoffSchema.optional() }).optional(),
  /**
   * Choreography instead of an orchestrator (SagaChoreography): each party reacts to the events of the
   * others, published on a topic exchange of the `amqp` node's first broker. @default none (orchestration)
   */
  choreography: z
    .strictObject({
      /** The amqp node whose (first) broker carries the events. */
      amqp: name,
      /** Each party's consumer prefetch (`basic.qos`); 0 is unlimited. @default 0 (RabbitMQ's) */
      prefetch: z.int().min(0).optional(),
      /** Client heartbeat. @default 60 s (RabbitMQ's) */
      heartbeat: positiveDuration.optional(),
      /** How long a publisher waits for the broker's confirm before publishing again. @default none (wait) */
      confirmTimeout: positiveDuration.optional(),
      /** Delay before a client whose connection closed connects again. @default 1 s */
      reconnectDelay: positiveDuration.optional(),
      /** Delay before an unconfirmed event is published again. @default Temporal's backoff */
      republish: z.strictObject({ backoff: backoffSchema.optional() }).optional(),
    })
    .optional(),
  /**
   * When a request is answered: `at-once`, as soon as its saga starts (ok with the saga's id: accepted,
   * HTTP 202, as Richardson's createOrder() returns before the saga ends); or `at-end`, when the saga
   * ends: ok with its id when it completed, `error` when it was compensated (the request failed, its
   * effects undone) or is stuck (a compensation gave up), so the clients' latency and availability are
   * the sagas'. A request whose saga has not ended when the saga's node crashes is never answered (the
   * connection is lost; the client's `timeout` ends it).
   * @default 'at-once'
   */
  answer: z.enum(['at-once', 'at-end']).optional(),
  /** The steps in order: compensable ones, at most one pivot, then retryable ones. */
  steps: z.array(stepSchema).min(1).max(1000),
  /**
   * The run stops at the latest this long after the load ends: a command to a participant that never
   * comes back is resent for ever. Sagas still running then count as `running`.
   * @default 60 s
   */
  drain: durationSchema.optional(),
  region: z.string().min(1).optional(),
});

/** The saga defaults that are the system layer's, not a component's. */
export const SAGA_DEFAULTS = Object.freeze({ drain: 60_000 });

/** A saga node. */
export type SagaDescription = z.infer<typeof sagaSchema>;

/**
 * A participant of sagas (serveSagaParticipant): a node that runs the local transactions of the steps
 * naming it, with the steps' latencies and failure probabilities; several sagas may share one.
 *
 * @example
 * ```ts
 * sagaParticipantSchema.parse({ kind: 'saga-participant' });
 * ```
 */
export const sagaParticipantSchema = z.strictObject({
  kind: z.literal('saga-participant'),
  region: z.string().min(1).optional(),
});
