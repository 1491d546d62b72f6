// A CDN in front of an origin, as data: the YAML's origin crash with and without stale-if-error at both
// tiers. Hit ratios, offload and the origin's load are measured per phase (before, during, after).
import { defineSystemScenario } from '@dsim/scenarios';

type Tier = { staleIfError?: string };

// --- scenario ---
export const cdnCrash = defineSystemScenario({
  name: 'cdn-origin-crash',
  description: 'An origin crash behind a CDN: hits are served, misses fail unless stale-if-error',
  system: new URL('cdn.yaml', import.meta.url),
  // `after` starts 5 s after the restart: fetches sent to the dead origin time out in its first second.
  phases: { before: ['10s', '30s'], during: ['30s', '40s'], after: ['45s', '60s'] },
  variants: [
    { name: 'plain' },
    {
      name: 'stale-if-error',
      recipe: (d) => {
        const cdn = d.nodes.cdn as { edge: Tier; shield: Tier };
        cdn.edge.staleIfError = '1m';
        cdn.shield.staleIfError = '1m';
      },
    },
  ],
  checks: (m, check) => {
    check('fine before the crash', m.availability('us', 'before') > 0.999);
    check('the origin gets no request while down', m.rate('origin', 'during') === 0);
    check('the CDN still answers what it holds', m.availability('us', 'during') > 0.2);
    check('the CDN offloads the origin before', m.get('cdn.before.offload') > 0.5);
    check('fine after', m.availability('us', 'after') > 0.999);
  },
  compare: (variants) => {
    const during = (name: string) =>
      variants.find((v) => v.name === name)?.outcome['us.during.availability'] as number;
    return [
      {
        name: 'stale-if-error answers the expired objects while the origin is down',
        pass: during('stale-if-error') > during('plain') + 0.1,
        detail: `us availability during the crash ${during('plain')} -> ${during('stale-if-error')}`,
      },
    ];
  },
});
// --- end ---

export default cdnCrash;
