import { CanaryRollout, openLoop, Service, StranglerFacade } from '@dsim/components';
import { exponential, Network, RpcEndpoint } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario } from '../scenario.js';
import { MAX_RATE } from './limits.js';

/** The routes moved out of the monolith, in order; `orders` is the one whose new service is broken. */
const ROUTES = ['invoices', 'orders', 'profile'] as const;
const BAD_ROUTE = 'orders';
/** The canary's weights (Argo Rollouts-style steps). */
const STEPS = [0.05, 0.25, 0.5, 1] as const;

/**
 * `strangler-fig`: a monolith's routes are moved one by one to new services behind a
 * {@link StranglerFacade}. Route i's migration starts at i × `gapMinutes`. The new `orders` service is a
 * bad release (it fails `badErrorRate` of its requests); the others are good.
 *
 * - `canary`: each route goes through weights 5%, 25%, 50%, 100%, one `intervalS` each, analysed by a
 *   {@link CanaryRollout} (success rate >= 99%). The bad release fails its first analysis and is rolled
 *   back: its users saw about `rate × 5% × interval × errorRate` errors.
 * - `big-bang`: each route is switched to its new service at once, with nothing watching: the bad
 *   release fails `errorRate` of its route's requests until the end.
 * - `shadow-first`: each route's requests are first mirrored to the new service for one interval (a dark
 *   launch); only a new service whose shadow success rate is >= 99% gets a canary. The bad release is
 *   caught with no user seeing an error.
 */
export const stranglerFig = defineScenario({
  name: 'strangler-fig',
  description: 'Routes moved out of a monolith one by one: canary with rollback, big bang, shadow first',
  params: {
    strategy: param.enum(['canary', 'big-bang', 'shadow-first'], {
      default: 'canary',
      description: 'how each route is moved',
    }),
    rate: param.number({
      default: 50,
      min: 1,
      max: MAX_RATE,
      description: 'requests per second on each route',
    }),
    badErrorRate: param.number({
      default: 0.05,
      min: 0,
      max: 1,
      description: 'share of requests the bad new orders service fails',
    }),
    intervalS: param.number({ default: 30, min: 1, max: 3600, description: 'seconds per canary step' }),
    gapMinutes: param.number({
      default: 3,
      min: 1,
      max: 1440,
      description: "minutes between the starts of two routes' migrations",
    }),
  },
  variants: [
    { name: 'canary', params: { strategy: 'canary' } },
    { name: 'big-bang', params: { strategy: 'big-bang' } },
    { name: 'shadow-first', params: { strategy: 'shadow-first' } },
  ],
  run({ sim, params: p, requests, check }) {
    const net = new Network(sim, { defaults: { latency: 0.5 } });
    const intervalMs = p.intervalS * 1000;
    const gapMs = p.gapMinutes * 60_000;
    // The last route's canary needs up to its four steps (plus a shadow interval) after its start.
    const endMs = (ROUTES.length - 1) * gapMs + (STEPS.length + 2) * intervalMs;
    new Service(net.addNode('monolith'), { concurrency: 1000, serviceTime: exponential({ mean: 20 }) });
    for (const route of ROUTES)
      new Service(net.addNode(`${route}-v2`), {
        concurrency: 1000,
        serviceTime: exponential({ mean: 8 }),
        errorRate: route === BAD_ROUTE ? p.badErrorRate : 0,
      });
    const facade = new StranglerFacade(net.addNode('facade'), {
      legacy: 'monolith',
      routes: ROUTES.map((name) => ({ name, path: `/${name}/*`, to: `${name}-v2` })),
      assignment: 'random',
    });
    const client = new RpcEndpoint(net.addNode('users'));
    const userErrors: Record<string, number> = {};
    for (const route of ROUTES) {
      userErrors[route] = 0;
      openLoop(sim, {
        arrivals: { kind: 'poisson', rate: p.rate },
        until: endMs,
        stream: `workload/${route}`,
        onArrival: (i) => {
          requests.start();
          client.callThen('facade', { path: `/${route}/${i}` }, undefined, (res) => {
            requests.finish(res.ok, res.latency);
            if (!res.ok) userErrors[route]!++;
          });
        },
      });
    }

    const rollouts = new Map<string, CanaryRollout>();
    const blocked = new Set<string>();
    ROUTES.forEach((route, i) => {
      const start = i * gapMs;
      const canary = (at: number) =>
        rollouts.set(
          route,
          new CanaryRollout(sim, facade, { route, steps: [...STEPS], interval: intervalMs, start: at }),
        );
      if (p.strategy === 'canary') canary(start);
      else if (p.strategy === 'big-bang') sim.schedule(start, () => facade.setWeight(route, 1));
      else {
        sim.schedule(start, () => facade.setShadow(route, 1));
        sim.schedule(start + intervalMs, () => {
          facade.setShadow(route, 0);
          const s = facade.routeStats(route);
          if (s.shadowSent > 0 && 1 - s.shadowFailed / s.shadowSent >= 0.99) canary(sim.now);
          else blocked.add(route);
        });
      }
    });
    sim.run();

    const bad = facade.routeStats(BAD_ROUTE);
    const badErrors = userErrors[BAD_ROUTE]!;
    const good = ROUTES.filter((r) => r !== BAD_ROUTE);
    const goodErrors = good.reduce((a, r) => a + userErrors[r]!, 0);
    const promoted = [...rollouts.values()].filter((r) => r.state === 'promoted').length;
    const rolledBack = [...rollouts.values()].filter((r) => r.state === 'rolled-back').length;
    const badStart = ROUTES.indexOf(BAD_ROUTE) * gapMs;
    // Expected user-visible errors from the bad release, by strategy.
    const expectedBadErrors =
      p.strategy === 'canary'
        ? p.rate * STEPS[0] * p.intervalS * p.badErrorRate
        : p.strategy === 'big-bang'
          ? (p.rate * (endMs - badStart) * p.badErrorRate) / 1000
          : 0;
    const sd = Math.sqrt(expectedBadErrors);
    const shadowFailureRate = bad.shadowSent === 0 ? null : bad.shadowFailed / bad.shadowSent;

    check(
      'the good new services never fail a user',
      goodErrors === 0,
      `${goodErrors} errors on ${good.join(', ')}`,
    );
    if (p.badErrorRate > 0.02 && p.strategy !== 'shadow-first')
      check(
        "the bad release's user-visible errors match rate x exposure x error rate (4 sd)",
        Math.abs(badErrors - expectedBadErrors) <= 4 * sd + 1,
        `${badErrors} errors, expected ${expectedBadErrors.toFixed(1)} ± ${(4 * sd + 1).toFixed(1)}`,
      );
    if (p.strategy === 'canary') {
      const r = rollouts.get(BAD_ROUTE)!;
      if (p.badErrorRate > 0.02)
        check(
          'the canary rolls the bad release back at its first analysis',
          r.state === 'rolled-back' && r.endedAt === badStart + intervalMs,
          `state ${r.state} at ${r.endedAt ?? '-'} ms, expected rolled-back at ${badStart + intervalMs} ms`,
        );
      const onTime = good.every(
        (g) => rollouts.get(g)!.endedAt === ROUTES.indexOf(g) * gapMs + STEPS.length * intervalMs,
      );
      check(
        'the good routes are promoted after their four steps, exactly',
        onTime && good.every((g) => rollouts.get(g)!.state === 'promoted'),
        good.map((g) => `${g} ${rollouts.get(g)!.state} at ${rollouts.get(g)!.endedAt ?? '-'} ms`).join(', '),
      );
    }
    if (p.strategy === 'shadow-first' && p.badErrorRate > 0.02)
      check(
        'shadow traffic catches the bad release before any user sees it',
        badErrors === 0 && blocked.has(BAD_ROUTE) && bad.modern.requests === 0,
        `${badErrors} user errors, shadow failure rate ${shadowFailureRate?.toFixed(4)}, orders ${blocked.has(BAD_ROUTE) ? 'blocked' : 'not blocked'}`,
      );

    const legacyShare = (r: string) => {
      const s = facade.routeStats(r);
      return s.legacy.requests / (s.legacy.requests + s.modern.requests);
    };
    return {
      badReleaseUserErrors: badErrors,
      badReleaseExpectedErrors: expectedBadErrors,
      goodUserErrors: goodErrors,
      badShadowFailureRate: shadowFailureRate,
      promoted,
      rolledBack,
      blocked: blocked.size,
      ordersFinalWeight: facade.weight(BAD_ROUTE),
      invoicesLegacyShare: legacyShare('invoices'),
      ordersLegacyShare: legacyShare('orders'),
      profileLegacyShare: legacyShare('profile'),
      migrationEndMs: endMs,
    };
  },
  compare(variants) {
    const errors = (name: string) =>
      variants.find((v) => v.name === name)?.outcome.badReleaseUserErrors as number;
    const [c, b, s] = [errors('canary'), errors('big-bang'), errors('shadow-first')];
    if (c === undefined || b === undefined || s === undefined) return [];
    return [
      {
        name: 'user errors from the bad release: shadow first < canary < big bang',
        pass: s < c && c < b,
        detail: `shadow first ${s}, canary ${c}, big bang ${b}`,
      },
    ];
  },
});
