import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/**
 * The one audited doorway to real time and real entropy in dsim. Only the scenario runner uses it: to
 * report `wallMs` (never fed back into a run) and to pick a seed when the user gives none.
 */
export const wallClock = {
  /** Milliseconds of real time, for `wallMs` only. */
  now: (): number => performance.now(),
  /** A fresh seed for a run whose user gave none; printed so the run can be reproduced. */
  freshSeed: (): string => String(randomInt(1, 2 ** 31)),
};
