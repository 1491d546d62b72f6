import { Activator, type Autoscaler } from '@dsim/components';
import type { NetNode, Simulation } from '@dsim/core';
import type { ActivatorDescription } from './activator-schema.js';
import type { AutoscaleHandle } from './autoscale.js';
import { type CallHook, observeCallThen } from './gateway.js';

/**
 * Builds an activator node: an {@link Activator} on `node` forwarding to the balancer `d.target`, waiting
 * for (and waking through its autoscaler) the pool of the autoscaled service behind it. Every forwarded
 * call is told to `onCall` as it ends (per-edge measurement).
 *
 * @example
 * ```ts
 * const activator = buildActivator(net.node('activator'), { kind: 'activator', target: 'lb' }, sys.autoscaled.app, undefined);
 * ```
 */
export function buildActivator(
  node: NetNode,
  d: ActivatorDescription,
  scaled: AutoscaleHandle,
  onCall: CallHook | undefined,
): Activator {
  const activator = new Activator(node, {
    pool: scaled.pool,
    target: d.target,
    autoscaler: scaled.autoscaler,
    ...(d.capacity === undefined ? {} : { capacity: d.capacity }),
    ...(d.timeout === undefined ? {} : { timeout: d.timeout }),
  });
  if (onCall !== undefined) observeCallThen(activator.endpoint, onCall);
  return activator;
}

/** An activator's cumulative counters at one instant (its `activator.*` metrics). */
export interface ActivatorReading {
  readonly requests: number;
  readonly held: number;
  readonly expired: number;
  readonly overflow: number;
  readonly wakes: number;
}

/**
 * An activator's cumulative counters now, from its metrics.
 *
 * @example
 * ```ts
 * activatorReading(sim, 'activator').wakes; // times it woke the pool from zero so far
 * ```
 */
export function activatorReading(sim: Simulation, address: string): ActivatorReading {
  const m = sim.metrics;
  return {
    requests: m.counter(address, 'activator.requests').value,
    held: m.counter(address, 'activator.held').value,
    expired: m.counter(address, 'activator.expired').value,
    overflow: m.counter(address, 'activator.overflow').value,
    wakes: m.counter(address, 'activator.wakes').value,
  };
}

/**
 * Scale to zero over [from, to): the time the pool had no replica counted (ms), from the autoscaler's
 * changes and the count at the start; the wakes from zero (`Activated`) in the window, and their cold
 * starts: from each wake to the first replica ready at or after it (`readyAt`, in order), undefined for
 * a wake whose replica was not ready yet.
 *
 * @example
 * ```ts
 * zeroSummary(h.autoscaler.events, 0, readyTimes, 0, 60_000); // { zeroMs: 41000, wakes: 1, coldStartsMs: [5000] }
 * ```
 */
export function zeroSummary(
  events: Autoscaler['events'],
  start: number,
  readyAt: readonly number[],
  from: number,
  to: number,
): { zeroMs: number; wakes: number; coldStartsMs: number[] } {
  let count = start;
  let since = from;
  let zeroMs = 0;
  let wakes = 0;
  const coldStartsMs: number[] = [];
  for (const e of events) {
    if (e.at >= to) break;
    if (e.at > since) {
      if (count === 0) zeroMs += e.at - since;
      since = e.at;
    }
    count = e.to;
    if (e.at < from || e.reason !== 'Activated') continue;
    wakes++;
    const ready = readyAt.find((t) => t >= e.at);
    if (ready !== undefined) coldStartsMs.push(ready - e.at);
  }
  if (count === 0) zeroMs += to - since;
  return { zeroMs, wakes, coldStartsMs };
}
