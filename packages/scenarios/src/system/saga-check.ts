import type { RefCheck } from './gateway-check.js';
import type { SagaDescription } from './saga-schema.js';

/**
 * Checks a saga node's steps against the rest: each participant a `saga-participant` node, other than the
 * saga itself, and step names unique. The step order and the kinds' rules are defineSaga's (their
 * errors name `nodes.<saga>` and the step).
 */
export function checkSaga(
  at: string,
  name: string,
  node: SagaDescription,
  ref: RefCheck,
  push: (path: string, message: string) => void,
): void {
  const c = node.choreography;
  if (c === undefined && node.commandTimeout === undefined)
    push(
      `${at}.commandTimeout`,
      'an orchestrated saga needs its commandTimeout (a duration > 0), or give `choreography`',
    );
  if (c !== undefined) {
    ref(`${at}.choreography.amqp`, name, c.amqp, ['amqp'], 'a choreography broker');
    for (const k of ['commandTimeout', 'redelivery'] as const)
      if (node[k] !== undefined) push(`${at}.${k}`, 'an orchestrator option: not with `choreography`');
  }
  const seen = new Map<string, number>();
  node.steps.forEach((s, i) => {
    const first = seen.get(s.name);
    if (first !== undefined)
      push(`${at}.steps[${i}].name`, `"${s.name}" is also the name of steps[${first}]`);
    else seen.set(s.name, i);
    ref(`${at}.steps[${i}].participant`, name, s.participant, ['saga-participant'], 'a saga participant');
    if (s.kind === 'compensable' && s.compensation === undefined)
      push(`${at}.steps[${i}].compensation`, 'a compensable step needs its compensation: { latency, ... }');
    if (s.kind !== 'compensable' && s.compensation !== undefined)
      push(`${at}.steps[${i}].compensation`, `only compensable steps are compensated; this one is ${s.kind}`);
    if (s.kind !== 'retryable' && s.retry !== undefined)
      push(
        `${at}.steps[${i}].retry`,
        `only retryable steps are retried; this one is ${s.kind} (its failure starts the compensations)`,
      );
  });
}
