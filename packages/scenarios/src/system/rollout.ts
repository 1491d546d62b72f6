import { CanaryRollout, type CanaryRolloutOptions, type StranglerFacade } from '@dsim/components';
import type { Simulation } from '@dsim/core';
import type { Outcome } from '../scenario.js';
import { clean } from './clean.js';
import type { StranglerDescription } from './strangler-schema.js';

/**
 * Builds the canary rollouts of a strangler node: one {@link CanaryRollout} per route with a `rollout`,
 * driving that route of `facade`. Returns them by route name (empty when no route has one).
 *
 * @example
 * ```ts
 * const rollouts = buildRollouts(sim, facade, node);
 * sim.run();
 * rollouts.invoices?.state; // 'promoted' or 'rolled-back'
 * ```
 */
export function buildRollouts(
  sim: Simulation,
  facade: StranglerFacade,
  d: StranglerDescription,
): Record<string, CanaryRollout> {
  const out: Record<string, CanaryRollout> = {};
  for (const r of d.routes)
    if (r.rollout !== undefined)
      out[r.name] = new CanaryRollout(sim, facade, {
        route: r.name,
        ...(clean(r.rollout) as Omit<CanaryRolloutOptions, 'route'>),
      });
  return out;
}

/**
 * The run-wide figures of a strangler's rollouts, `<strangler>.rollout.<route>.<figure>`: `state`
 * (pending, progressing, paused, promoted or rolled-back), `finalWeight`, `rolledBack` (1 or 0),
 * `rolledBackAt` and `promotedAt` (seconds from the start, or null), `analyses`, `failedAnalyses` and
 * `inconclusiveAnalyses`.
 *
 * @example
 * ```ts
 * rolloutOutcome('facade', sys.rollouts.facade); // { 'facade.rollout.invoices.state': 'rolled-back', ... }
 * ```
 */
export function rolloutOutcome(
  strangler: string,
  rollouts: Readonly<Record<string, CanaryRollout>>,
): Outcome {
  const out: Outcome = {};
  for (const [route, r] of Object.entries(rollouts)) {
    const k = `${strangler}.rollout.${route}.`;
    const ended = r.endedAt === undefined ? null : r.endedAt / 1000;
    out[`${k}state`] = r.state;
    out[`${k}finalWeight`] = r.weight;
    out[`${k}rolledBack`] = r.state === 'rolled-back' ? 1 : 0;
    out[`${k}rolledBackAt`] = r.state === 'rolled-back' ? ended : null;
    out[`${k}promotedAt`] = r.state === 'promoted' ? ended : null;
    out[`${k}analyses`] = r.history.length;
    out[`${k}failedAnalyses`] = r.history.filter((a) => a.result === 'fail').length;
    out[`${k}inconclusiveAnalyses`] = r.history.filter((a) => a.result === 'inconclusive').length;
  }
  return out;
}
