// The built-in least-conn-black-hole as a system scenario: the YAML's balancer with and without Envoy's
// outlier detection (at its defaults). Ejections come from the balancer's OutlierDetection after the run.
import { defineSystemScenario } from '@dsim/scenarios';

// --- scenario ---
export const blackHole = defineSystemScenario({
  name: 'black-hole-system',
  description: 'A fail-fast backend draws most of the traffic under least request, until it is ejected',
  system: new URL('black-hole.yaml', import.meta.url),
  phases: { run: ['3s', '30s'] },
  variants: [
    { name: 'full-scan' },
    {
      name: 'outlier-detection',
      recipe: (d) => void ((d.nodes.lb as { outlierDetection?: object }).outlierDetection = {}),
    },
  ],
  outcome: (_m, run) => ({ ejections: run.compiled.balancerHandles.lb?.outliers?.stats.ejections ?? 0 }),
  checks: (m, check) => {
    if (m.get('ejections') === 0)
      check('bad draws far more than its 1/10 share of errors', m.errorRate('users', 'run') > 0.25);
    else check('ejection keeps errors near 0', m.errorRate('users', 'run') < 0.001);
  },
});
// --- end ---

export default blackHole;
