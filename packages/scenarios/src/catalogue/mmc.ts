import { constant, exponential, Resource, TimeWeighted } from '@dsim/core';
import { BatchMeans } from '../batch-means.js';
import { param } from '../params.js';
import { queueTheory } from '../queueing-theory.js';
import { defineScenario } from '../scenario.js';
import { MAX_OFFERED, MAX_RATE } from './limits.js';

/** Share of customers discarded as warm-up before comparing against steady-state theory. */
const WARMUP_SHARE = 0.05;
/** Checks allow the measured mean this many batch-means standard errors from theory (z = 4: about 1 in 15 000 false alarms). */
const Z = 4;

/**
 * `mmc`: an M/M/c (or M/D/c) queue built from core primitives, compared with queueing theory.
 *
 * Poisson arrivals at `lambda` per second, `servers` identical servers each serving `mu` per second,
 * one FIFO queue. Service is exponential (`exp`) or constant (`const`). Times in the outcome are ms.
 * Theory: Erlang C for exponential service; Pollaczek–Khinchine for M/D/1; the Allen–Cunneen
 * approximation (half the M/M/c wait) for M/D/c, c > 1, which is reported but not checked.
 */
export const mmc = defineScenario({
  name: 'mmc',
  description: 'M/M/c or M/D/c queue from core primitives, measured against Erlang C and Pollaczek-Khinchine',
  params: {
    lambda: param.number({
      default: 4,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'arrivals per second',
    }),
    mu: param.number({
      default: 1,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'services per second per server',
    }),
    servers: param.integer({ default: 5, min: 1, max: 10_000, description: 'number of servers (c)' }),
    // An unstable queue (lambda >= c mu) holds nearly every customer at once.
    customers: param.integer({
      default: 200_000,
      min: 100,
      max: MAX_OFFERED,
      description: 'customers to serve',
    }),
    service: param.enum(['exp', 'const'], { default: 'exp', description: 'service-time distribution' }),
  },
  run({ sim, params, requests, check }) {
    const { lambda, mu, servers, customers, service } = params;
    const arrivals = exponential({ mean: 1000 / lambda });
    const serviceTime = service === 'exp' ? exponential({ mean: 1000 / mu }) : constant(1000 / mu);
    const arrivalRng = sim.rng('mmc/arrivals');
    const serviceRng = sim.rng('mmc/service');
    const station = new Resource(sim, { capacity: servers, name: 'servers' });

    const warmup = Math.floor(customers * WARMUP_SHARE);
    const measured = customers - warmup;
    const waits = new BatchMeans(measured);
    const sojourns = new BatchMeans(measured);
    const waited = new BatchMeans(measured);
    const inSystem = new TimeWeighted(0, 0);
    const busy = new TimeWeighted(0, 0);
    let sojournSum = 0;
    let lastDeparture = 0;

    function* customer(index: number) {
      const arrived = sim.now;
      requests.start();
      inSystem.add(arrived, 1);
      const req = yield* station.request();
      const wait = sim.now - arrived;
      busy.add(sim.now, 1);
      yield sim.timeout(serviceTime.sample(serviceRng));
      station.release(req);
      busy.add(sim.now, -1);
      inSystem.add(sim.now, -1);
      const sojourn = sim.now - arrived;
      sojournSum += sojourn;
      lastDeparture = sim.now;
      requests.finish(true, sojourn);
      if (index >= warmup) {
        waits.add(wait);
        sojourns.add(sojourn);
        waited.add(wait > 0 ? 1 : 0);
      }
    }

    sim.process(function* source() {
      for (let i = 0; i < customers; i++) {
        sim.process(customer(i), 'customer');
        yield sim.timeout(arrivals.sample(arrivalRng));
      }
    });
    sim.run();

    // Little's law on the sample path: time-average number in system vs throughput x mean sojourn.
    const horizon = lastDeparture;
    const meanInSystem = inSystem.mean(horizon);
    const littleLambdaW = (customers / horizon) * (sojournSum / customers);
    const littleResidual = Math.abs(meanInSystem - littleLambdaW) / littleLambdaW;
    const utilization = busy.mean(horizon) / servers;

    const theory = queueTheory(lambda / 1000, mu / 1000, servers, service);
    const stable = theory !== null;
    check('stable (rho < 1)', stable, `rho = ${(lambda / (servers * mu)).toFixed(4)}`);
    check(
      "Little's law (L = lambda W) within 1%",
      littleResidual < 0.01,
      `L = ${meanInSystem.toFixed(4)}, lambda*W = ${littleLambdaW.toFixed(4)}`,
    );
    if (theory?.exact) {
      const tol = Math.max(Z * waits.standardError, 0.005 * theory.meanTimeInSystem);
      check(
        `mean wait matches ${theory.method}`,
        Math.abs(waits.mean - theory.meanWait) <= tol,
        `measured ${waits.mean.toFixed(3)} ms, theory ${theory.meanWait.toFixed(3)} ms, tolerance ±${tol.toFixed(3)} ms (${Z} batch SE)`,
      );
      if (theory.probWait !== null) {
        const tolP = Math.max(Z * waited.standardError, 0.005);
        check(
          `P(wait) matches ${theory.method}`,
          Math.abs(waited.mean - theory.probWait) <= tolP,
          `measured ${waited.mean.toFixed(4)}, theory ${theory.probWait.toFixed(4)}, tolerance ±${tolP.toFixed(4)}`,
        );
      }
    }

    return {
      customers,
      meanWait: waits.mean,
      meanWaitStdErr: waits.standardError,
      theoryMeanWait: theory?.meanWait ?? null,
      meanTimeInSystem: sojourns.mean,
      theoryMeanTimeInSystem: theory?.meanTimeInSystem ?? null,
      probWait: waited.mean,
      theoryProbWait: theory?.probWait ?? null,
      utilization,
      theoryUtilization: theory?.utilization ?? null,
      theoryMethod: theory?.method ?? null,
      meanInSystem,
      littleLambdaW,
      littleResidual,
    };
  },
});
