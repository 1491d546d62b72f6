import {
  checkBoolean,
  checkDistribution,
  checkEnum,
  checkKeys,
  checkName,
  checkNumber,
  checkProbability,
  type Distribution,
  type Duration,
  invalidOption,
  isObject,
  nested,
  type OptionOwner,
  optionKeys,
  owner,
  requireOptions,
} from '@dsim/core';
import { type Backoff, type BackoffSpec, resolveBackoff } from '../resilience/backoff.js';

/**
 * What a step is, in the vocabulary of Richardson's saga pattern (microservices.io, "Pattern: Saga";
 * *Microservices Patterns*, 2018, ch. 4) and the Azure Architecture Center ("Saga distributed
 * transactions pattern"):
 *
 * - `compensable`: a local transaction that a compensating transaction can undo. It comes before the
 *   pivot. A failure of a compensable step starts backward recovery.
 * - `pivot`: the go/no-go point. It cannot be undone; once it commits, the saga must run to completion.
 *   If it fails, the compensable steps before it are compensated.
 * - `retryable`: a step after the pivot, idempotent, retried until it succeeds (forward recovery); it
 *   has no compensation.
 *
 * @example
 * ```ts
 * SAGA_STEP_KINDS.includes('pivot'); // true
 * ```
 */
export const SAGA_STEP_KINDS = ['compensable', 'pivot', 'retryable'] as const;

/**
 * One of {@link SAGA_STEP_KINDS}.
 *
 * @example
 * ```ts
 * const kind: SagaStepKind = 'pivot';
 * ```
 */
export type SagaStepKind = (typeof SAGA_STEP_KINDS)[number];

/**
 * How a failed attempt is retried: of a retryable step, of a compensation, or (on a coordinator) of a
 * command or event that got no answer.
 *
 * @example
 * ```ts
 * const policy: SagaRetryPolicy = { maxAttempts: 3, backoff: { kind: 'fixed', delayMs: 100 } };
 * ```
 */
export interface SagaRetryPolicy {
  /**
   * Attempts in all, the first included: an integer >= 1, or Infinity (retry until it succeeds).
   * @default Infinity (Temporal's default retry policy: unlimited attempts)
   */
  maxAttempts?: number;
  /**
   * Delay before each retry (see `createBackoff`).
   * @default { kind: 'exponential', baseMs: 500, capMs: 100_000, jitter: 'none' }: 1 s, 2 s, 4 s, ...
   *   capped at 100 s, Temporal's default retry policy (initial interval 1 s, coefficient 2, maximum
   *   interval 100 × the initial one)
   */
  backoff?: BackoffSpec;
}

/**
 * The compensating transaction of a compensable step: it undoes the step's effect (a refund for a
 * charge, a release for a reservation). Compensations are retried (Azure: "compensating transactions
 * must be idempotent and retryable"); one that still fails after its attempts leaves the saga stuck,
 * for an operator to repair.
 *
 * @example
 * ```ts
 * const refund: SagaCompensationSpec = { latency: 20, failureProbability: 0.01, retry: { maxAttempts: 3 } };
 * ```
 */
export interface SagaCompensationSpec {
  /** Time the compensating local transaction takes at the participant: a distribution (ms) or a duration. Required. */
  latency: Distribution | Duration;
  /** Probability that one attempt fails (and rolls back). @default 0 */
  failureProbability?: number;
  /** Retries of a failed attempt. @default unlimited attempts, Temporal's default backoff ({@link SagaRetryPolicy}) */
  retry?: SagaRetryPolicy;
}

/**
 * One step of a saga: a local transaction at one participant (a service, by its node's address).
 *
 * @example
 * ```ts
 * const reserve: SagaStepSpec = {
 *   name: 'reserve-stock', participant: 'inventory', kind: 'compensable',
 *   latency: exponential({ mean: 10 }), failureProbability: 0.05,
 *   compensation: { latency: 5 },
 * };
 * ```
 */
export interface SagaStepSpec {
  /** Unique in the saga; letters, digits, `_` and `-` (it names the step's events). Required. */
  name: string;
  /** Address of the node that runs the step. Required. */
  participant: string;
  /** `compensable`, `pivot` or `retryable` ({@link SagaStepKind}). Required. */
  kind: SagaStepKind;
  /** Time the local transaction takes at the participant: a distribution (ms) or a duration. Required. */
  latency: Distribution | Duration;
  /**
   * Probability that one execution fails (a business failure: the local transaction rolls back and the
   * participant answers "failed"). For a retryable step it is the failure probability of each attempt.
   * @default 0
   */
  failureProbability?: number;
  /**
   * Whether the participant deduplicates: a repeated command or event for a step it already ran is
   * answered from its record, without running the transaction again. A non-idempotent step runs again on
   * every delivery (a second charge, a second reservation). Retryable steps must be idempotent.
   * @default true (Richardson: participants must be idempotent, messaging delivers at least once)
   */
  idempotent?: boolean;
  /** Retryable steps only (an error on other kinds): retries of a failed attempt. @default unlimited attempts, Temporal's default backoff */
  retry?: SagaRetryPolicy;
  /** Compensable steps only, required there (an error on other kinds): the compensating transaction. */
  compensation?: SagaCompensationSpec;
}

/**
 * A saga as written: its name and steps in order, `compensable`* then at most one `pivot` then
 * `retryable`*.
 *
 * @example
 * ```ts
 * const spec: SagaSpec = { name: 'order', steps: [reserve, charge, ship] };
 * ```
 */
export interface SagaSpec {
  /** Letters, digits, `_` and `-`. Required. */
  name: string;
  /** At least one step, at most {@link SAGA_MAX_STEPS}. Required. */
  steps: readonly SagaStepSpec[];
}

/**
 * Most steps a saga may have.
 *
 * @default 1000
 * @example
 * ```ts
 * spec.steps.length <= SAGA_MAX_STEPS;
 * ```
 */
export const SAGA_MAX_STEPS = 1000;

/**
 * A retry policy with its defaults applied.
 *
 * @example
 * ```ts
 * const p: ResolvedSagaRetry = definition.steps[2]!.retry!; // p.maxAttempts: Infinity
 * ```
 */
export interface ResolvedSagaRetry {
  readonly maxAttempts: number;
  readonly backoff: Backoff;
}

/**
 * A compensation with its defaults applied.
 *
 * @example
 * ```ts
 * const c = definition.steps[0]!.compensation!; // c.failureProbability: 0
 * ```
 */
export interface SagaCompensation {
  readonly latency: Distribution;
  readonly failureProbability: number;
  readonly retry: ResolvedSagaRetry;
}

/**
 * A validated step: every field resolved, `compensation` set exactly on compensable steps and `retry`
 * exactly on retryable ones.
 *
 * @example
 * ```ts
 * const step: SagaStep = definition.steps[0]!; // step.index: 0
 * ```
 */
export interface SagaStep {
  /** Position in the saga, from 0. */
  readonly index: number;
  readonly name: string;
  readonly participant: string;
  readonly kind: SagaStepKind;
  readonly latency: Distribution;
  readonly failureProbability: number;
  readonly idempotent: boolean;
  readonly retry: ResolvedSagaRetry | null;
  readonly compensation: SagaCompensation | null;
}

/**
 * A validated saga, built by {@link defineSaga}; coordinators and {@link sagaTheory} take it.
 *
 * @example
 * ```ts
 * const saga = defineSaga(spec);
 * saga.pivot; // index of the pivot, or -1
 * ```
 */
export interface SagaDefinition {
  readonly name: string;
  readonly steps: readonly SagaStep[];
  /** Index of the pivot step, or -1 when there is none. */
  readonly pivot: number;
  /**
   * Steps whose failure ends the saga by backward recovery: the compensable steps and the pivot. They
   * are the first `decisive` steps; the rest are retryable.
   */
  readonly decisive: number;
  /** Participant addresses, each once, in order of first appearance. */
  readonly participants: readonly string[];
}

const SPEC_KEYS = optionKeys<SagaSpec>()({ name: true, steps: true });
const STEP_KEYS = optionKeys<SagaStepSpec>()({
  name: true,
  participant: true,
  kind: true,
  latency: true,
  failureProbability: true,
  idempotent: true,
  retry: true,
  compensation: true,
});
const COMPENSATION_KEYS = optionKeys<SagaCompensationSpec>()({
  latency: true,
  failureProbability: true,
  retry: true,
});
const RETRY_KEYS = optionKeys<SagaRetryPolicy>()({ maxAttempts: true, backoff: true });

/**
 * Temporal's default retry policy as a backoff: delay(n) = 500·2^n ms, so 1 s before the first retry,
 * then 2 s, 4 s, ..., at most 100 s.
 */
const TEMPORAL_BACKOFF: BackoffSpec = Object.freeze({
  kind: 'exponential',
  baseMs: 500,
  capMs: 100_000,
  jitter: 'none',
}) as BackoffSpec;

const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;
const C = 'defineSaga';

/**
 * Resolves a retry policy at `where` (nested options of a step, a compensation or a coordinator).
 *
 * @example
 * ```ts
 * const retry = resolveSagaRetry(owner('SagaOrchestrator', 'redelivery'), options.redelivery);
 * ```
 */
export function resolveSagaRetry(where: OptionOwner, policy: SagaRetryPolicy | undefined): ResolvedSagaRetry {
  checkKeys(where, policy, RETRY_KEYS);
  const maxAttempts = checkNumber(
    where,
    'maxAttempts',
    policy?.maxAttempts,
    { integer: true, min: 1, infinity: true },
    Infinity,
  );
  const at = typeof where === 'string' ? { component: where, path: '' } : where;
  const path = at.path === '' ? 'backoff' : `${at.path}.backoff`;
  const backoff = resolveBackoff(policy?.backoff ?? TEMPORAL_BACKOFF, at.component, path);
  return { maxAttempts, backoff };
}

/**
 * Validates a saga and applies the defaults. Every field is checked where it is given: an unknown key
 * is an error with a "did you mean", every value is range-checked, and the shape of the saga is strict:
 *
 * - at least one step, names unique and made of letters, digits, `_` and `-`;
 * - steps in the order `compensable`* `pivot`? `retryable`*: at most one pivot, no compensable step
 *   after the pivot or after a retryable one, no retryable step before the pivot;
 * - compensable steps have a `compensation`, other kinds none; only retryable steps have a `retry`;
 * - retryable steps are idempotent, and a step or compensation retried without limit must be able to
 *   succeed (failure probability below 1).
 *
 * @example
 * ```ts
 * const saga = defineSaga({
 *   name: 'order',
 *   steps: [
 *     { name: 'create-order', participant: 'orders', kind: 'compensable', latency: 5, compensation: { latency: 5 } },
 *     { name: 'reserve-credit', participant: 'customers', kind: 'pivot', latency: 10, failureProbability: 0.1 },
 *     { name: 'approve-order', participant: 'orders', kind: 'retryable', latency: 5, failureProbability: 0.2 },
 *   ],
 * });
 * ```
 */
export function defineSaga(spec: SagaSpec): SagaDefinition {
  requireOptions(C, spec, SPEC_KEYS);
  const name = checkName(C, 'name', spec.name);
  if (!NAME_PATTERN.test(name)) throw invalidOption(C, 'name', name, 'letters, digits, "_" and "-" only');
  if (!Array.isArray(spec.steps) || spec.steps.length === 0 || spec.steps.length > SAGA_MAX_STEPS)
    throw invalidOption(C, 'steps', spec.steps, `an array of 1 to ${SAGA_MAX_STEPS} steps`);
  const steps: SagaStep[] = [];
  const names = new Map<string, number>();
  let pivot = -1;
  let firstRetryable = -1;
  for (let i = 0; i < spec.steps.length; i++) {
    const where = owner(C, `steps[${i}]`);
    const s = spec.steps[i] as SagaStepSpec;
    requireOptions(where, s, STEP_KEYS);
    const stepName = checkName(where, 'name', s.name);
    if (!NAME_PATTERN.test(stepName))
      throw invalidOption(where, 'name', stepName, 'letters, digits, "_" and "-" only');
    const seen = names.get(stepName);
    if (seen !== undefined)
      throw invalidOption(where, 'name', stepName, `a name not used by another step (steps[${seen}] has it)`);
    names.set(stepName, i);
    const participant = checkName(where, 'participant', s.participant);
    const kind = checkEnum(where, 'kind', s.kind, SAGA_STEP_KINDS);
    const latency = checkDistribution(where, 'latency', s.latency, 'exponential({ mean: 10 })');
    const failureProbability = checkProbability(where, 'failureProbability', s.failureProbability, 0);
    const idempotent = checkBoolean(where, 'idempotent', s.idempotent, true);
    const label = (j: number) => `steps[${j}] "${steps[j]?.name ?? stepName}"`;
    if (kind === 'compensable') {
      if (pivot >= 0)
        throw invalidOption(
          where,
          'kind',
          kind,
          `"pivot" or "retryable": a compensable step must come before the pivot (${label(pivot)})`,
        );
      if (firstRetryable >= 0)
        throw invalidOption(
          where,
          'kind',
          kind,
          `"retryable": a compensable step must come before every retryable step (${label(firstRetryable)})`,
        );
    } else if (kind === 'pivot') {
      if (pivot >= 0)
        throw invalidOption(
          where,
          'kind',
          kind,
          `"retryable": a saga has at most one pivot (${label(pivot)})`,
        );
      if (firstRetryable >= 0)
        throw invalidOption(
          where,
          'kind',
          kind,
          `"retryable": the pivot must come before every retryable step (${label(firstRetryable)})`,
        );
      pivot = i;
    } else if (firstRetryable < 0) firstRetryable = i;

    let compensation: SagaCompensation | null = null;
    if (kind === 'compensable') {
      const cw = nested(where, 'compensation');
      requireOptions(cw, s.compensation, COMPENSATION_KEYS);
      const c = s.compensation as SagaCompensationSpec;
      const g = checkProbability(cw, 'failureProbability', c.failureProbability, 0);
      const retry = resolveSagaRetry(nested(cw, 'retry'), c.retry);
      if (g === 1 && retry.maxAttempts === Infinity)
        throw invalidOption(
          cw,
          'failureProbability',
          g,
          'a probability below 1 when compensations are retried without limit (retry.maxAttempts is Infinity): it would never succeed',
        );
      compensation = {
        latency: checkDistribution(cw, 'latency', c.latency, 'exponential({ mean: 10 })'),
        failureProbability: g,
        retry,
      };
    } else if (s.compensation !== undefined) {
      throw invalidOption(
        where,
        'compensation',
        s.compensation,
        `left out: a ${kind} step has no compensating transaction (only compensable steps do)`,
      );
    }
    let retry: ResolvedSagaRetry | null = null;
    if (kind === 'retryable') {
      if (!idempotent)
        throw invalidOption(where, 'idempotent', false, 'true: retryable steps must be idempotent');
      retry = resolveSagaRetry(nested(where, 'retry'), s.retry);
      if (failureProbability === 1 && retry.maxAttempts === Infinity)
        throw invalidOption(
          where,
          'failureProbability',
          1,
          'a probability below 1 when the step is retried without limit (retry.maxAttempts is Infinity): it would never succeed',
        );
    } else if (s.retry !== undefined) {
      throw invalidOption(
        where,
        'retry',
        s.retry,
        `left out: a ${kind} step is tried once, its failure starts backward recovery (only retryable steps are retried)`,
      );
    }
    steps.push(
      Object.freeze({
        index: i,
        name: stepName,
        participant,
        kind,
        latency,
        failureProbability,
        idempotent,
        retry,
        compensation,
      }),
    );
  }
  const decisive = firstRetryable < 0 ? steps.length : firstRetryable;
  return Object.freeze({
    name,
    steps: Object.freeze(steps),
    pivot,
    decisive,
    participants: Object.freeze([...new Set(steps.map((s) => s.participant))]),
  });
}

/**
 * Whether `value` is a saga built by {@link defineSaga} (coordinators check their `saga` option with it).
 *
 * @example
 * ```ts
 * isSagaDefinition(defineSaga(spec)); // true
 * isSagaDefinition(spec);             // false: pass it through defineSaga first
 * ```
 */
export function isSagaDefinition(value: unknown): value is SagaDefinition {
  return (
    isObject(value) &&
    Object.isFrozen(value) &&
    typeof value.decisive === 'number' &&
    Array.isArray(value.steps) &&
    Array.isArray(value.participants)
  );
}
