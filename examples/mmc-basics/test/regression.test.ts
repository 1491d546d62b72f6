// The README's "regression test in CI" example, run as written (with the digest pinned).
import { mmc, runScenario } from '@dsim/scenarios';
import { expect, it } from 'vitest';
import '@dsim/scenarios/vitest';

it('M/M/5 at rho 0.8 stays within its SLO and matches Erlang C', () => {
  const result = runScenario(mmc, { seed: 1, params: { customers: 50_000 } });
  expect(result).toPassChecks();
  expect(result).toHaveP99Below(8000);
  expect(result).toHaveAvailabilityAtLeast(0.999);
  expect(result).toHaveDigest('b04ea4d25472bd3b');
});
