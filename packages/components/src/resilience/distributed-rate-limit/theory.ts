import { checkNumber, invalidArgument, optionKeys, requireOptions } from '@dsim/core';

/**
 * Inputs of {@link syncedOverAdmissionBound}.
 *
 * @example
 * ```ts
 * const inputs: SyncedBoundInputs = { instances: 4, arrivalsPerSecond: 800, syncIntervalMs: 100, roundTripMs: 1 };
 * ```
 */
export interface SyncedBoundInputs {
  /** Instances sharing the limit. An integer >= 1. */
  instances: number;
  /** Requests per second over all instances once the limit is reached. A finite number >= 0. */
  arrivalsPerSecond: number;
  /** The instances' sync interval, ms. A finite number > 0. */
  syncIntervalMs: number;
  /** Round trip of a sync (network both ways plus the store's queueing and service), ms. >= 0. */
  roundTripMs: number;
}

const BOUND_KEYS = optionKeys<SyncedBoundInputs>()({
  instances: true,
  arrivalsPerSecond: true,
  syncIntervalMs: true,
  roundTripMs: true,
});

/**
 * Most requests a {@link SyncedLimiter} deployment admits beyond the limit in one window, at a steady
 * arrival rate: rate × (2 × syncInterval + RTT).
 *
 * Why: an instance's view at time t holds the totals its last sync read, and that sync's reply left the
 * store less than one interval plus the reply's trip before t; those totals hold every other instance's
 * counts up to its last report, made less than one interval plus the request's trip before that. So the
 * view at t includes every admission made before t − 2 × syncInterval − RTT. Once the window's true
 * count reaches the limit at T, every instance rejects from T + 2 × syncInterval + RTT on: only the
 * requests arriving in between can be over-admitted. With random phases the measured figure is lower
 * (the lags average less than their maxima), and it can never exceed the window's arrivals after T.
 * A lone instance counts every admission itself: its bound is 0.
 *
 * @example
 * ```ts
 * syncedOverAdmissionBound({ instances: 4, arrivalsPerSecond: 800, syncIntervalMs: 100, roundTripMs: 1 }); // 160.8
 * ```
 */
export function syncedOverAdmissionBound(inputs: SyncedBoundInputs): number {
  const where = 'syncedOverAdmissionBound';
  requireOptions(where, inputs, BOUND_KEYS);
  const instances = checkNumber(where, 'instances', inputs.instances, { integer: true, min: 1 });
  const rate = checkNumber(where, 'arrivalsPerSecond', inputs.arrivalsPerSecond, { min: 0 });
  const s = checkNumber(where, 'syncIntervalMs', inputs.syncIntervalMs, { above: 0, unit: 'ms' });
  const rtt = checkNumber(where, 'roundTripMs', inputs.roundTripMs, { min: 0, unit: 'ms' });
  return instances === 1 ? 0 : (rate * (2 * s + rtt)) / 1000;
}

/**
 * What N instances with a local limit each admit together in one window: Σ min(offered_i, localLimit).
 * It equals the global limit only when every instance is offered at least its share; any instance
 * offered less leaves its unused permits idle while the others reject.
 *
 * @param offered - requests each instance is offered in the window (finite numbers >= 0)
 * @param localLimit - each instance's limit per window (> 0)
 * @example
 * ```ts
 * localAdmitted([5600, 800, 800, 800], 1000); // 3400: 600 short of a global limit of 4000
 * ```
 */
export function localAdmitted(offered: readonly number[], localLimit: number): number {
  const where = 'localAdmitted';
  if (!Array.isArray(offered)) throw invalidArgument('offered', offered, 'an array of request counts', where);
  checkNumber(where, 'localLimit', localLimit, { above: 0 });
  let sum = 0;
  offered.forEach((o, i) => {
    if (typeof o !== 'number' || !Number.isFinite(o) || o < 0)
      throw invalidArgument(`offered[${i}]`, o, 'a finite number >= 0', where);
    sum += Math.min(o, localLimit);
  });
  return sum;
}
