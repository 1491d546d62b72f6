// The whole system of full-system.yaml as a scenario: a cache crash behind an API gateway, with the
// partner's per-tenant quota (as in the file) and without it. The quota is what keeps the database under
// its capacity while every read misses. The services reach the database through Istio 1.12.3 sidecars.
import { defineSystemScenario, param } from '@dsim/scenarios';

// --- scenario ---
export const fullSystem = defineSystemScenario({
  name: 'full-system',
  description:
    'Gateway, balancer, cache-aside services in a sidecar mesh, a database and a queue: a cache crash, with and without tenant quotas',
  system: new URL('full-system.yaml', import.meta.url),
  params: { quota: param.boolean({ default: true, description: "the gateway's per-tenant quota" }) },
  phases: { before: ['4s', '12s'], during: ['12s', '20s'], after: ['24s', '30s'] },
  variants: [
    { name: 'quota', description: 'as in the file: partner held to 25/s' },
    {
      name: 'no-quota',
      description: 'no tenant limit: partner sends 150/s of reads',
      params: { quota: false },
      recipe: (d) => {
        const gateway = d.nodes.gateway as { tenantLimit?: unknown; tenantLimits?: unknown };
        delete gateway.tenantLimit;
        delete gateway.tenantLimits;
      },
    },
  ],
  checks: (m, check, p) => {
    check('before: web availability over 99.9%', m.availability('web', 'before') > 0.999);
    check('before: web p99 under 100 ms', m.p99('web', 'before') < 100);
    if (p.quota) {
      // A token bucket refilling 25/s: the partner's goodput is its refill rate, the rest is refused.
      check('partner held to its quota of 25/s', Math.abs(m.goodput('partner', 'before') - 25) < 1);
      check('during: the quota keeps the database under capacity', m.utilisation('db', 'during') < 0.95);
      check('during: web unharmed', m.availability('web', 'during') > 0.99);
    } else {
      check('during: every read misses to a saturated database', m.utilisation('db', 'during') > 0.98);
      check('during: web suffers', m.availability('web', 'during') < 0.9);
    }
    check('during: the cache is down, (almost) every read misses', m.get('catalog.during.hitRatio') < 0.01);
    for (const phase of ['before', 'during', 'after'])
      check(
        `${phase}: fulfilment consumes every order event published`,
        m.rate('fulfilment', phase) >=
          m.rate('orders->rabbit', phase) * (1 - m.errorRate('orders->rabbit', phase)),
      );
    check('after: web availability over 99.9%', m.availability('web', 'after') > 0.999);
    // Istio 1.12.3's sidecars: 0.35 ms of CPU a pass, two passes a hop (the caller's, the database's).
    check(
      'during: the sidecars use 2 × 0.35 ms of CPU per call through the mesh',
      Math.abs(m.get('mesh.during.proxyCpu') / ((m.get('mesh.during.hops') * 2 * 0.35) / 1000) - 1) < 0.02,
    );
    // The lognormal fitted to Istio's published p90 (1.7 ms) and p99 (2.7 ms) per hop has a mean of 1.25 ms.
    check(
      'before: the mesh adds about 1.25 ms per call',
      Math.abs(m.get('mesh.before.hopMean') - 1.25) < 0.15,
    );
  },
});
// --- end ---

export default fullSystem;
