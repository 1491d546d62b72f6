/** Runs the bank scenario from code and prints the comparison. `pnpm --filter @dsim/example-mmc-basics start` */
import { formatResult, runScenario } from '@dsim/scenarios';
import bank from './bank.scenario.js';

const result = runScenario(bank, { seed: 3 });
process.stdout.write(formatResult(result));
