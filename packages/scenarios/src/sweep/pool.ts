import { availableParallelism } from 'node:os';
import { DsimError, showValue } from '@dsim/core';
import Tinypool from 'tinypool';
import type { ParamSchema } from '../params.js';
import type { Scenario } from '../scenario.js';
import type { SweepResult } from './aggregate.js';
import { runPoint, type SweepRun } from './run-point.js';
import { type SweepOptions, SweepPlan, type SweepTask } from './sweep.js';
import type { WorkerTask } from './worker.js';

/**
 * The number of worker threads `--workers` defaults to: the machine's available parallelism.
 *
 * @example
 * ```ts
 * defaultWorkers(); // 2 on a 2-core machine
 * ```
 */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Runs a sweep's replications on `workers` worker threads (a Tinypool). The result is the same as
 * {@link sweep}'s, byte for byte, for any number of workers: runs are aggregated in grid and replication
 * order whatever order they finish in. `target` is the scenario's name or file, as each thread loads it
 * (a scenario object cannot be sent to a thread); `scenario` is the same scenario, loaded here to check
 * the parameters before anything runs. With one worker the runs go in this thread.
 *
 * @example
 * ```ts
 * const r = await sweepInWorkers('mmc', mmc, { seeds: [1, 2, 3], grid: { servers: [2, 3] } }, 2);
 * ```
 */
export async function sweepInWorkers(
  target: string,
  scenario: Scenario<ParamSchema>,
  options: SweepOptions,
  workers: number,
): Promise<SweepResult> {
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 1024))
    throw new DsimError(
      'CONFIG_ERROR',
      `workers must be a whole number from 1 to 1024, got ${showValue(workers)}`,
      {
        details: { field: 'workers', value: workers },
      },
    );
  const plan = new SweepPlan(scenario, options);
  if (workers === 1) {
    for (let tasks = plan.initial(); tasks.length > 0; tasks = plan.more())
      for (const t of tasks) plan.record(runPoint(scenario, t));
    return plan.result();
  }
  const fromSource = import.meta.url.endsWith('.ts');
  const pool = new Tinypool({
    filename: new URL(fromSource ? './worker-boot.mjs' : './worker.js', import.meta.url).href,
    minThreads: workers,
    maxThreads: workers,
    // From the sources, the threads resolve dsim's packages to their sources too.
    ...(fromSource ? { execArgv: ['--conditions', '@dsim/source'] } : {}),
  });
  try {
    const run = (t: SweepTask) => pool.run({ ...t, target } satisfies WorkerTask) as Promise<SweepRun>;
    for (let tasks = plan.initial(); tasks.length > 0; tasks = plan.more())
      await Promise.all(tasks.map((t) => run(t).then((r) => plan.record(r))));
  } finally {
    await pool.destroy();
  }
  return plan.result();
}
