/**
 * A bank with a few tellers and Poisson customers: how long do people queue, and how many tellers keep
 * the mean wait under a minute? Written the way a user would, on the public API only.
 *
 *   pnpm dsim run examples/mmc-basics/bank.scenario.ts --seed 3
 *   pnpm dsim run examples/mmc-basics/bank.scenario.ts --seed 3 --variant two-tellers --json
 */
import { exponential, Resource } from '@dsim/core';
import { defineScenario, erlangC, param } from '@dsim/scenarios';

export default defineScenario({
  name: 'bank',
  description: 'Tellers serving Poisson customers; mean wait against Erlang C',
  params: {
    tellers: param.integer({ default: 3, min: 1, description: 'tellers on duty' }),
    perHour: param.number({ default: 60, min: 0, exclusiveMin: true, description: 'customers per hour' }),
    serviceMinutes: param.number({
      default: 1.5,
      min: 0,
      exclusiveMin: true,
      description: 'mean service time',
    }),
    hours: param.number({ default: 400, min: 1, description: 'opening hours simulated' }),
  },
  variants: [
    { name: 'two-tellers', params: { tellers: 2 } },
    { name: 'three-tellers', params: { tellers: 3 } },
  ],
  run({ sim, params, requests, check }) {
    const hour = 3_600_000;
    const tellers = new Resource(sim, { capacity: params.tellers, name: 'tellers' });
    const gaps = exponential({ mean: hour / params.perHour });
    const service = exponential({ mean: params.serviceMinutes * 60_000 });
    const rng = sim.rng('bank/customers');
    let waitSum = 0;
    let served = 0;

    sim.process(function* door() {
      while (sim.now < params.hours * hour) {
        sim.process(function* customer() {
          const arrived = sim.now;
          requests.start();
          const req = yield* tellers.request();
          waitSum += sim.now - arrived;
          yield sim.timeout(service.sample(rng));
          tellers.release(req);
          served++;
          requests.finish(true, sim.now - arrived);
        });
        yield sim.timeout(gaps.sample(rng));
      }
    });
    sim.run();

    const meanWaitMin = waitSum / served / 60_000;
    const a = (params.perHour / 60) * params.serviceMinutes; // offered load in Erlangs
    const theoryWaitMin =
      a < params.tellers
        ? erlangC(params.tellers, a) / (params.tellers / params.serviceMinutes - params.perHour / 60)
        : null;
    check('everyone was served', served === requests.toJSON().requests, `${served} served`);
    return { served, meanWaitMin, theoryWaitMin };
  },
});
