import { SemaphoreBulkhead, Service } from '@dsim/components';
import { exponential, Network, RpcEndpoint, scheduleFaults } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario } from '../scenario.js';
import { MAX_FACTOR, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

/**
 * `bulkhead`: a frontend calls two dependencies through semaphore bulkheads. During an incident one
 * dependency (`b`) becomes very slow. With one shared pool of permits the slow calls hold every permit and
 * calls to the healthy dependency (`a`) are rejected too; with isolated pools (half the permits each)
 * only calls to `b` suffer.
 */
export const bulkhead = defineScenario({
  name: 'bulkhead',
  description: 'One slow dependency exhausts a shared pool; isolated pools contain it',
  params: {
    pools: param.enum(['shared', 'isolated'], {
      default: 'shared',
      description: 'one pool for both dependencies, or one each',
    }),
    // A call holds a permit while in flight and a rejected one is answered at once: nothing else piles up.
    permits: param.integer({
      default: 20,
      min: 2,
      max: MAX_WORKERS,
      description: 'concurrent outbound calls in total',
    }),
    rate: param.number({
      default: 100,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'requests per second, half to each dependency',
    }),
    serviceMs: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'dependency service time when healthy',
    }),
    slowdown: param.number({
      default: 200,
      min: 1,
      max: MAX_FACTOR,
      description: 'factor by which b slows down during the incident',
    }),
    timeoutMs: param.number({ default: 3000, min: 1, max: MAX_MS, description: 'frontend call timeout' }),
    seconds: param.number({
      default: 60,
      min: 30,
      max: MAX_SECONDS,
      description: 'simulated seconds; the incident runs from 20 s to 40 s',
    }),
  },
  variants: [
    { name: 'shared', params: { pools: 'shared' } },
    { name: 'isolated', params: { pools: 'isolated' } },
  ],
  run({ sim, params, requests, check }) {
    const net = new Network(sim, { defaults: { latency: 1 } });
    for (const dep of ['a', 'b'])
      new Service(net.addNode(dep), {
        concurrency: 1000,
        serviceTime: exponential({ mean: params.serviceMs }),
      });
    const frontend = new RpcEndpoint(net.addNode('frontend'));
    const shared = new SemaphoreBulkhead(sim, { maxConcurrentCalls: params.permits });
    const pools =
      params.pools === 'shared'
        ? { a: shared, b: shared }
        : {
            a: new SemaphoreBulkhead(sim, { maxConcurrentCalls: params.permits / 2 }),
            b: new SemaphoreBulkhead(sim, { maxConcurrentCalls: params.permits / 2 }),
          };
    scheduleFaults(net, [
      { at: '20s', for: '20s', fault: { kind: 'degrade', node: 'b', factor: 1 / params.slowdown } },
    ]);
    const gaps = exponential({ rate: params.rate / 1000 });
    const rng = sim.rng('bulkhead/arrivals');
    // [ok, total] per dependency during the incident
    const during: Record<'a' | 'b', [number, number]> = { a: [0, 0], b: [0, 0] };
    sim.process(function* () {
      while (sim.now < params.seconds * 1000) {
        const dep = rng.bool() ? 'a' : 'b';
        const started = sim.now;
        requests.start();
        const finish = (ok: boolean): void => {
          requests.finish(ok, sim.now - started);
          if (started >= 20_000 && started < 40_000) {
            during[dep][1]++;
            if (ok) during[dep][0]++;
          }
        };
        const pool = pools[dep];
        const permitted = pool.acquire();
        permitted.onProcessed((e) => {
          if (!e.value) {
            finish(false); // bulkhead full: rejected at once
            return;
          }
          frontend.call(dep, 'q', { timeout: params.timeoutMs }).onProcessed((r) => {
            pool.release();
            finish(r.value!.ok);
          });
        });
        yield sim.timeout(gaps.sample(rng));
      }
    });
    sim.run();
    const share = ([ok, all]: [number, number]): number => (all === 0 ? 1 : ok / all);
    const aDuring = share(during.a);
    const bDuring = share(during.b);
    if (params.pools === 'isolated') {
      check(
        'isolated pools keep the healthy dependency available during the incident',
        aDuring > 0.99,
        `a: ${aDuring.toFixed(3)} ok`,
      );
    } else {
      check(
        'a shared pool lets the slow dependency starve the healthy one',
        aDuring < 0.5,
        `a: ${aDuring.toFixed(3)} ok`,
      );
    }
    return { aAvailabilityDuring: aDuring, bAvailabilityDuring: bDuring };
  },
});
