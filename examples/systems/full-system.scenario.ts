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
    // Istio 1.12.3's sidecars: 0.35 ms of CPU a pass. A call between members (catalog or orders to the
    // database) takes two passes (the caller's sidecar, the database's); a call into the mesh (the
    // balancer's to catalog, the gateway's to orders) one, captured by the callee's sidecar on its way in.
    const passes = (phase: string) => {
      const captured = m.rate('lb->catalog', phase) + m.rate('gateway->orders', phase);
      return {
        per: 2 - captured / m.get(`mesh.${phase}.hops`),
        rate: 2 * m.get(`mesh.${phase}.hops`) - captured,
      };
    };
    check(
      'during: the sidecars use 0.35 ms of CPU per pass (two a call between members, one a call into one)',
      Math.abs(m.get('mesh.during.proxyCpu') / ((passes('during').rate * 0.35) / 1000) - 1) < 0.02,
    );
    // The lognormal fitted to Istio's published p90 (1.7 ms) and p99 (2.7 ms) per hop of two passes has a
    // mean of 1.25 ms: 0.625 ms a pass.
    check(
      'before: the mesh adds about 0.625 ms per pass',
      Math.abs(m.get('mesh.before.hopMean') / passes('before').per - 0.625) < 0.075,
    );
  },
});
// --- end ---

export default fullSystem;
