import { loadScenario } from '../cli/load-scenario.js';
import type { Scenario } from '../scenario.js';
import { runPoint, type SweepRun } from './run-point.js';
import type { SweepTask } from './sweep.js';

/** A task as a worker thread gets it: the run, and the scenario by name or file (as given to the CLI). */
export interface WorkerTask extends SweepTask {
  target: string;
}

const scenarios = new Map<string, Promise<Scenario<any>>>();

/**
 * The worker threads' entry: loads the scenario once per thread (a built-in by name, or a file through
 * the same loader as `dsim run`) and runs one replication.
 *
 * @example
 * ```ts
 * await runWorkerTask({ target: 'mmc', point: '', replication: 0, seed: '1', params: {} });
 * ```
 */
export default async function runWorkerTask(task: WorkerTask): Promise<SweepRun> {
  let scenario = scenarios.get(task.target);
  if (scenario === undefined) scenarios.set(task.target, (scenario = loadScenario(task.target)));
  const { target: _target, ...run } = task;
  return runPoint(await scenario, run);
}
