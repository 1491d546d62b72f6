// A canary rollout on a strangler route, described as data: a good release is promoted step by step; a
// release that fails 10% of its answers is rolled back at its first analysis, so the users see its
// errors for one 5 s step only.
import { defineSystemScenario } from '@dsim/scenarios';

// --- scenario ---
export const canary = defineSystemScenario({
  name: 'canary-system',
  description:
    'A strangler route rolled out in steps with canary analysis: promoted when good, rolled back when bad',
  system: new URL('canary.yaml', import.meta.url),
  phases: { first: [0, '5s'], rest: ['5s', '30s'] },
  variants: [
    { name: 'good-release' },
    {
      name: 'bad-release',
      recipe: (d) => void ((d.nodes.billing as { errorRate?: number }).errorRate = 0.1),
    },
  ],
  checks: (m, check) => {
    const state = m.all['facade.rollout.invoices.state'];
    if (state === 'promoted') {
      check('promoted after three 5 s steps', m.get('facade.rollout.invoices.promotedAt') === 15);
      check('no request failed', m.errorRate('users', 'rest') === 0);
    } else {
      check('rolled back at the first analysis', m.get('facade.rollout.invoices.rolledBackAt') === 5);
      check('after the rollback, no invoice reaches billing', m.get('facade.rest.weight.invoices') === 0);
    }
  },
});
// --- end ---

export default canary;
