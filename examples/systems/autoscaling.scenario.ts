// An HPA on a ramp, described as data: Kubernetes' default behavior against a 60 s scale-down
// stabilization window. Both over-scale on the surge's backlog; only the short window comes back to
// ceil(load / (μ × target)) = 9 replicas before the run ends.
import { defineSystemScenario } from '@dsim/scenarios';

// --- scenario ---
export const autoscaling = defineSystemScenario({
  name: 'autoscaling-system',
  description: 'An HPA scales a described service on a ramp; the scale-down window decides when it settles',
  system: new URL('autoscaling.yaml', import.meta.url),
  phases: { before: [0, '60s'], ramp: ['60s', '180s'], settle: ['180s', '240s'], steady: ['240s', '300s'] },
  variants: [
    { name: 'kubernetes-defaults' },
    {
      name: 'scale-down-60s',
      recipe: (d) =>
        void ((d.nodes.app as { autoscale: { behavior?: object } }).autoscale.behavior = {
          scaleDown: { stabilizationWindow: '60s' },
        }),
    },
  ],
  checks: (m, check) => {
    check('two replicas before the surge', m.get('app.before.replicas') === 2);
    check('scales up on the surge', m.get('app.ramp.scaleUps') >= 2);
    check('every steady request answered', m.availability('base', 'steady') === 1);
    const downs = ['ramp', 'settle', 'steady'].reduce((n, p) => n + m.get(`app.${p}.scaleDowns`), 0);
    if (downs === 0)
      check('the default 5-minute window keeps the overshoot', m.get('app.steady.replicas') > 9);
    else check('settles at ceil(100 / (20 × 0.6)) = 9', m.get('app.steady.replicas') === 9);
  },
});
// --- end ---

export default autoscaling;
