/** Runs the partition demo and prints, second by second, what client c1 saw. */
import { runScenario } from '@dsim/scenarios';
import partition from './partition.scenario.js';

const result = runScenario(partition, { seed: 1 });
const ok = String(result.outcome.c1OkPerSecond).split(' ');
const failed = String(result.outcome.c1FailedPerSecond).split(' ');
process.stdout.write('second  c1 ok  c1 failed\n');
for (const [s, n] of ok.entries()) {
  const note = s >= 10 && s < 20 ? '   <- partitioned from r2, r3' : '';
  process.stdout.write(`${String(s).padStart(6)}  ${n.padStart(5)}  ${failed[s]!.padStart(9)}${note}\n`);
}
for (const c of result.checks) process.stdout.write(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}\n`);
process.stdout.write(`reproduce: ${result.reproduce}\n`);
