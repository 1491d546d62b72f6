/**
 * A custom cache stampede: three app servers, each with its own in-process cache of a product page, in
 * front of one database with 16 connections. The page expires every 5 s; rendering it takes a 300 ms
 * query. Does the database see a stampede, and what does each defence leave of it?
 *
 *   pnpm dsim run examples/custom-stampede/stampede.scenario.ts --seed 1
 */
import { Cache, CacheAside, LocalCacheAccess, openLoop, Service } from '@dsim/components';
import { Network, RpcEndpoint } from '@dsim/core';
import { defineScenario, param } from '@dsim/scenarios';

const DEFENCES = ['none', 'singleflight', 'xfetch'] as const;

export default defineScenario({
  name: 'custom-stampede',
  description: 'Per-process caches of one hot page in front of a database with 16 connections',
  params: {
    rate: param.number({ default: 200, min: 1, description: 'page views per second' }),
    defence: param.enum(DEFENCES, { default: 'none', description: 'defence' }),
  },
  variants: DEFENCES.map((d) => ({ name: d, params: { defence: d } })),
  run({ sim, params, requests, check }) {
    const net = new Network(sim, { defaults: { latency: 0.5 } });
    new Service(net.addNode('db'), { concurrency: 16, serviceTime: 300 });
    const apps = [0, 1, 2].map((i) => {
      const endpoint = new RpcEndpoint(net.addNode(`app${i}`));
      return new CacheAside<unknown>(sim, {
        name: `app${i}`,
        cache: new LocalCacheAccess(new Cache(sim, { name: `app${i}/cache`, capacity: 100, ttl: '5s' })),
        load: (key) => endpoint.call('db', key, { timeout: '2s' }),
        coalesce: params.defence === 'singleflight',
        ...(params.defence === 'xfetch' ? { xfetch: { beta: 1 } } : {}),
      });
    });
    const pick = sim.rng('app');
    openLoop(sim, {
      arrivals: { kind: 'poisson', rate: params.rate },
      until: '60s',
      onArrival: () => {
        requests.start();
        const app = apps[Math.floor(pick.next() * apps.length)]!;
        app.read('product:42').onProcessed((e) => requests.finish(e.value!.ok, e.value!.latency));
      },
    });
    sim.run();
    const queries = sim.metrics.counter('db', 'svc.arrived').value; // 12 expiries of 5 s in 60 s
    const peakQueue = sim.metrics.gauge('db', 'svc.queue').max;
    if (params.defence === 'none')
      check('the stampede queues at the database', peakQueue > 0, `peak queue ${peakQueue}`);
    if (params.defence === 'singleflight')
      check('one query per app server per expiry', queries <= 3 * 12, `${queries} queries`);
    return { dbQueries: queries, queriesPerExpiry: queries / 12, dbPeakQueue: peakQueue };
  },
});
