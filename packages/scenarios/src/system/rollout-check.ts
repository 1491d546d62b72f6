import { showValue } from '@dsim/core';
import type { RolloutDescription } from './rollout-schema.js';

/**
 * Checks a strangler route's `rollout` beyond its schema: steps increasing and ending at 1 (CanaryRollout's
 * rule: a rollout ends with the whole route moved). `at` is the route's path.
 *
 * @example
 * ```ts
 * checkRollout('nodes.facade.routes[0]', { steps: [0.5, 0.2, 1] }, push); // push('...rollout.steps[1]', ...)
 * ```
 */
export function checkRollout(
  at: string,
  rollout: RolloutDescription | undefined,
  push: (path: string, message: string) => void,
): void {
  const steps = rollout?.steps;
  if (steps === undefined) return;
  const path = `${at}.rollout.steps`;
  for (let i = 1; i < steps.length; i++)
    if (steps[i]! <= steps[i - 1]!) {
      push(
        `${path}[${i}]`,
        `must be above the step before it (${steps[i - 1]}), got ${showValue(steps[i])}: steps increase, such as [0.05, 0.25, 0.5, 1]`,
      );
      return;
    }
  if (steps[steps.length - 1] !== 1)
    push(
      `${path}[${steps.length - 1}]`,
      `the last step must be 1 (the whole route moved), got ${showValue(steps[steps.length - 1])}`,
    );
}
