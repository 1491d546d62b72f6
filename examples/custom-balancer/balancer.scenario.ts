/**
 * A custom balancing policy: the balancer and its clients sit in zone `a`; three backends are in `a`,
 * three in `b`, 1 ms away each way. Round robin sends half the requests across zones. The zone-aware
 * policy of zone-aware.ts keeps them local and spills to `b` only while the local backends are full,
 * as in a surge between 20 s and 30 s.
 *
 *   pnpm dsim run examples/custom-balancer/balancer.scenario.ts --seed 1
 */
import { LoadBalancer, openLoop, Service } from '@dsim/components';
import { exponential, Network, RpcEndpoint } from '@dsim/core';
import { defineScenario, param } from '@dsim/scenarios';
import { zoneAware } from './zone-aware.js';

const POLICIES = ['round-robin', 'zone-aware'] as const;
const BACKENDS = ['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'b-2'];
const zoneOf = (address: string) => address.split('-')[0]!;

export default defineScenario({
  name: 'custom-balancer',
  description: 'A zone-aware policy written in 20 lines against round robin, across two zones',
  params: {
    policy: param.enum(POLICIES, { default: 'zone-aware', description: 'balancing policy' }),
    rate: param.number({ default: 900, min: 1, description: 'requests per second, all along' }),
    surge: param.number({ default: 1200, min: 0, description: 'extra requests per second, 20 s to 30 s' }),
    spillAt: param.integer({
      default: 2,
      min: 1,
      description: 'spill when every local backend has this many active',
    }),
  },
  variants: POLICIES.map((p) => ({ name: p, params: { policy: p } })),
  run({ sim, params, requests, check }) {
    const net = new Network(sim, { defaults: { latency: 0.1 } });
    // Each backend: 2 workers, 4 ms mean service time, 500 requests/s; zone a holds 1500/s.
    for (const b of BACKENDS)
      new Service(net.addNode(b), { concurrency: 2, serviceTime: exponential({ mean: 4 }) });
    const lbNode = net.addNode('lb');
    for (const b of BACKENDS) if (zoneOf(b) !== 'a') net.setLatency('lb', b, 1);
    new LoadBalancer(lbNode, {
      backends: BACKENDS,
      policy:
        params.policy === 'zone-aware'
          ? zoneAware({ local: 'a', zoneOf, spillAt: params.spillAt })
          : { kind: 'round-robin' },
    });
    const client = new RpcEndpoint(net.addNode('client'));
    const send = () => {
      requests.start();
      client
        .call('lb', 'GET /', { timeout: '1s' })
        .onProcessed((e) => requests.finish(e.value!.ok, e.value!.latency));
    };
    openLoop(sim, { arrivals: { kind: 'poisson', rate: params.rate }, until: '40s', onArrival: send });
    if (params.surge > 0)
      openLoop(sim, {
        arrivals: { kind: 'poisson', rate: params.surge },
        start: '20s',
        until: '30s',
        onArrival: send,
        stream: 'surge',
      });

    // Requests forwarded to each zone, calm (0-20 s and 30-40 s) and in the surge (20-30 s).
    const forwarded = (zone: string) =>
      BACKENDS.filter((b) => zoneOf(b) === zone).reduce(
        (n, b) => n + sim.metrics.counter('lb', `lb.backend.${b}.requests`).value,
        0,
      );
    const at: Record<string, { a: number; b: number }> = {};
    sim.process(function* () {
      for (const t of [20_000, 30_000]) {
        yield sim.timeout(t - sim.now);
        at[t] = { a: forwarded('a'), b: forwarded('b') };
      }
    });
    sim.run();
    const end = { a: forwarded('a'), b: forwarded('b') };
    const surgeA = at[30_000]!.a - at[20_000]!.a;
    const surgeB = at[30_000]!.b - at[20_000]!.b;
    const calmA = end.a - surgeA;
    const calmB = end.b - surgeB;
    const share = (x: number, y: number) => Math.round((1000 * x) / (x + y)) / 1000;
    const result = {
      localShare: share(end.a, end.b),
      localShareCalm: share(calmA, calmB),
      localShareSurge: share(surgeA, surgeB),
      crossZone: end.b,
    };
    if (params.policy === 'zone-aware') {
      check(
        'calm: nine in ten requests stay local',
        result.localShareCalm > 0.85,
        `${result.localShareCalm}`,
      );
      check('surge: the excess spills to zone b', result.localShareSurge < 0.85, `${result.localShareSurge}`);
    }
    return result;
  },
  compare(variants) {
    const [rr, zone] = variants;
    if (rr === undefined || zone === undefined) return [];
    const fewer = (zone.outcome.crossZone as number) < 0.5 * (rr.outcome.crossZone as number);
    const faster = zone.metrics.latencyMs.mean < rr.metrics.latencyMs.mean;
    return [
      {
        name: 'zone-aware: under half the cross-zone requests',
        pass: fewer,
        detail: `${zone.outcome.crossZone} vs ${rr.outcome.crossZone}`,
      },
      {
        name: 'zone-aware: lower mean latency',
        pass: faster,
        detail: `${zone.metrics.latencyMs.mean} vs ${rr.metrics.latencyMs.mean} ms`,
      },
    ];
  },
});
