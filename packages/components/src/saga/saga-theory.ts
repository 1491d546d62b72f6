import type { SagaDefinition } from './saga-definition.js';

/**
 * What probability theory says a saga does when its steps fail independently, each execution of step i
 * with probability f_i and each attempt of compensation j with probability g_j (Garcia-Molina & Salem,
 * "Sagas", SIGMOD 1987, for backward recovery; the pivot and retryable steps as in Richardson's saga
 * pattern). With h_j = g_j^(c_j) the probability that compensation j fails all its c_j attempts and r_m the
 * same for retryable step m, f_m^(a_m):
 *
 * - P(fail at k) = f_k · Π_{i<k} (1 − f_i) for the decisive steps (compensable steps and the pivot);
 * - P(completed) = Π_{decisive} (1 − f_i) · Π_{retryable} (1 − r_m);
 * - after a failure at k, compensations run for k − 1, ..., 0 in that order, and stop at the first one
 *   that fails for good: P(stuck | fail at k) = 1 − Π_{j<k} (1 − h_j), which is 1 − (1 − g)^(k−1) for
 *   single attempts with one g and 1-based k;
 * - committed compensations given a failure at k: Σ_{m=1}^{k} Π_{j=k−m}^{k−1} (1 − h_j), so k − 1 (1-based)
 *   when compensations never fail;
 * - attempts of a step or compensation retried up to a times with failure probability p:
 *   (1 − p^a) / (1 − p), 1/(1 − p) without a limit (a truncated geometric law).
 *
 * Index k is 0-based in the arrays (`pFailAt[0]` is the first step), so "k − 1 compensations" there reads
 * "k compensations" for `pFailAt[k]`.
 *
 * Message counts, when no message is lost or repeated: an orchestrator sends one command per attempt and
 * receives one reply, so 2 × (step attempts + compensation attempts); in a choreography each step and
 * each compensation publishes one event when it settles (done, failed, compensated or stuck), plus the
 * event that starts the saga, so 1 + steps settled + compensations settled (n + 1 for a completed saga).
 *
 * @example
 * ```ts
 * const t = sagaTheory(saga);
 * t.pCompleted + t.pCompensated + t.pStuck; // 1
 * ```
 */
export interface SagaTheory {
  /** Probability that the saga completes (every step committed). */
  readonly pCompleted: number;
  /** Probability that it fails and every committed compensable step is compensated. */
  readonly pCompensated: number;
  /** Probability that it ends stuck: a compensation (or a retryable step) failed all its attempts. */
  readonly pStuck: number;
  /** Per step: probability that this step's failure starts backward recovery (0 for retryable steps). */
  readonly pFailAt: readonly number[];
  /** Per step: P(stuck | failure at this step). */
  readonly pStuckGivenFailAt: readonly number[];
  /** Per step: expected committed compensations given a failure at this step (k for step index k without compensation failures). */
  readonly compensationsGivenFailAt: readonly number[];
  /** Expected committed compensations per saga (over all sagas). */
  readonly compensationsPerSaga: number;
  /** Expected committed compensations per saga that failed (fell into backward recovery). */
  readonly compensationsPerFailedSaga: number;
  /** Probability that the forward part gets stuck: a retryable step failed all its attempts. */
  readonly pStuckForward: number;
  /** Expected executions of steps per saga (attempts of retryable steps included). */
  readonly stepAttempts: number;
  /** Expected attempts of compensations per saga. */
  readonly compensationAttempts: number;
  /** Expected orchestration messages per saga (commands and replies) with no message lost. */
  readonly orchestrationMessages: number;
  /** Expected choreography events per saga with no event lost or repeated. */
  readonly choreographyEvents: number;
}

/** Mean attempts of a try-until-success-or-limit with failure probability p and at most a attempts. */
function attempts(p: number, a: number): number {
  if (p === 0) return 1;
  if (a === Infinity) return 1 / (1 - p);
  if (p === 1) return a;
  return (1 - p ** a) / (1 - p);
}

/** Probability that all of a attempts fail. */
function allFail(p: number, a: number): number {
  if (p === 0) return 0;
  if (a === Infinity) return p === 1 ? 1 : 0;
  return p ** a;
}

/**
 * The figures of {@link SagaTheory} for a saga: exact for independent failures and no lost messages
 * (timeouts, crashes and duplicate deliveries add attempts and messages, not outcomes, when every
 * participant is idempotent).
 *
 * @example
 * ```ts
 * const t = sagaTheory(defineSaga(spec));
 * t.pFailAt[2]; // f_2 (1 − f_0)(1 − f_1)
 * ```
 */
export function sagaTheory(saga: SagaDefinition): SagaTheory {
  const steps = saga.steps;
  const n = steps.length;
  const d = saga.decisive;
  const pFailAt = new Array<number>(n).fill(0);
  const pStuckGivenFailAt = new Array<number>(n).fill(0);
  const compensationsGivenFailAt = new Array<number>(n).fill(0);
  // Per compensable step j: the chance its compensation fails for good, and its mean attempts.
  const h = steps.map((s) =>
    s.compensation === null
      ? 0
      : allFail(s.compensation.failureProbability, s.compensation.retry.maxAttempts),
  );
  const compTries = steps.map((s) =>
    s.compensation === null
      ? 0
      : attempts(s.compensation.failureProbability, s.compensation.retry.maxAttempts),
  );
  let reach = 1;
  let stepAttempts = 0;
  let compensationAttempts = 0;
  let compensated = 0;
  let stuckBackward = 0;
  let compensations = 0;
  let settledCompensations = 0;
  for (let k = 0; k < d; k++) {
    stepAttempts += reach;
    const fail = reach * steps[k]!.failureProbability;
    pFailAt[k] = fail;
    // Backward from k − 1: compensation j runs if every later one committed.
    let alive = 1;
    let committed = 0;
    let tries = 0;
    let settled = 0;
    for (let j = k - 1; j >= 0; j--) {
      tries += alive * compTries[j]!;
      settled += alive;
      alive *= 1 - h[j]!;
      committed += alive;
    }
    pStuckGivenFailAt[k] = 1 - alive;
    compensationsGivenFailAt[k] = committed;
    compensated += fail * alive;
    stuckBackward += fail * (1 - alive);
    compensations += fail * committed;
    compensationAttempts += fail * tries;
    settledCompensations += fail * settled;
    reach -= fail;
  }
  const pastDecisive = reach;
  let completed = reach;
  for (let m = d; m < n; m++) {
    const s = steps[m]!;
    stepAttempts += completed * attempts(s.failureProbability, s.retry!.maxAttempts);
    completed *= 1 - allFail(s.failureProbability, s.retry!.maxAttempts);
  }
  const stuckForward = pastDecisive - completed;
  const failed = 1 - pastDecisive;
  // Each step attempt settles at most once in a choreography: a retryable step's retries stay local.
  let settledSteps = 0;
  let r = 1;
  for (let k = 0; k < d; k++) {
    settledSteps += r;
    r -= pFailAt[k]!;
  }
  for (let m = d; m < n; m++) {
    settledSteps += r;
    r *= 1 - allFail(steps[m]!.failureProbability, steps[m]!.retry!.maxAttempts);
  }
  return Object.freeze({
    pCompleted: completed,
    pCompensated: compensated,
    pStuck: stuckBackward + stuckForward,
    pFailAt: Object.freeze(pFailAt),
    pStuckGivenFailAt: Object.freeze(pStuckGivenFailAt),
    compensationsGivenFailAt: Object.freeze(compensationsGivenFailAt),
    compensationsPerSaga: compensations,
    compensationsPerFailedSaga: failed === 0 ? 0 : compensations / failed,
    pStuckForward: stuckForward,
    stepAttempts,
    compensationAttempts,
    orchestrationMessages: 2 * (stepAttempts + compensationAttempts),
    choreographyEvents: 1 + settledSteps + settledCompensations,
  });
}
