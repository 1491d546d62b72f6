import {
  type BackendHealth,
  type BalancerPolicySpec,
  LoadBalancer,
  OutlierDetection,
  Service,
} from '@dsim/components';
import { exponential, Network, RpcEndpoint } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_OFFERED, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

const POLICIES = ['full-scan', 'power-of-two', 'round-robin'] as const;
type Policy = (typeof POLICIES)[number];

const SPECS: Record<Policy, BalancerPolicySpec> = {
  'full-scan': { kind: 'least-request', fullScan: true },
  'power-of-two': { kind: 'least-request', choiceCount: 2 },
  'round-robin': { kind: 'round-robin' },
};

/** Envoy's default `consecutive_5xx`: the answer that ejects a host. */
const CONSECUTIVE_5XX = 5;

/**
 * `least-conn-black-hole`: N backends behind a least-request balancer; at `failAtSeconds` one of them
 * starts answering every request with an error at once (a bad deploy, a lost dependency answered with a
 * 500). It holds no active requests, so least request prefers it: it draws far more than 1/N of the
 * traffic and the error rate climbs far above 1/N. Variants: full scan (join the idlest), power of two
 * choices, round robin (for contrast: exactly 1/N), and full scan with Envoy's outlier detection at its
 * defaults (eject on the 5th consecutive 5xx for 30 s, then 60 s, ...).
 */
export const leastConnBlackHole = defineScenario({
  name: 'least-conn-black-hole',
  description:
    'A fail-fast backend draws most of the traffic under least request, until outlier detection ejects it',
  params: {
    backends: param.integer({
      default: 10,
      min: 2,
      max: 1000,
      description: 'backends behind the balancer (N)',
    }),
    rate: param.number({
      default: 800,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'requests per second (Poisson) over all backends',
    }),
    serviceMs: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean service time of a healthy backend (exponential)',
    }),
    workers: param.integer({ default: 1, min: 1, max: MAX_WORKERS, description: 'workers per backend' }),
    failAtSeconds: param.number({
      default: 10,
      min: 0,
      max: MAX_SECONDS,
      description: 'when backend-0 starts failing fast (simulated seconds)',
    }),
    seconds: param.number({
      default: 60,
      min: 1,
      max: MAX_SECONDS,
      description: `simulated seconds of arrivals; rate × seconds at most ${MAX_OFFERED}`,
    }),
    policy: param.enum(POLICIES, {
      default: 'full-scan',
      description: 'balancing policy (each variant sets it)',
    }),
    outlierDetection: param.boolean({
      default: false,
      description: "Envoy's outlier detection with its defaults (each variant sets it)",
    }),
  },
  variants: [
    { name: 'full-scan', params: { policy: 'full-scan', outlierDetection: false } },
    { name: 'power-of-two', params: { policy: 'power-of-two', outlierDetection: false } },
    { name: 'round-robin', params: { policy: 'round-robin', outlierDetection: false } },
    {
      name: 'full-scan-outlier-detection',
      description: "full scan with Envoy's outlier detection at its defaults",
      params: { policy: 'full-scan', outlierDetection: true },
    },
  ],
  run({ sim, params, requests, check }) {
    limitOffered(params.rate * params.seconds, 'rate × seconds');
    const n = params.backends;
    const failAt = params.failAtSeconds * 1000;
    const end = params.seconds * 1000;
    const net = new Network(sim); // zero latency: the failing backend answers in 0 ms
    const serviceTime = exponential({ mean: params.serviceMs });
    const addresses: string[] = [];
    for (let i = 0; i < n; i++) {
      const address = `backend-${i}`;
      addresses.push(address);
      // backend-0 is a front that hands requests to its own worker until failAt, then fails them at once.
      new Service(net.addNode(i === 0 ? 'backend-0-worker' : address), {
        concurrency: params.workers,
        serviceTime,
      });
    }
    let badAfter = 0;
    let workerOutstanding = 0;
    let inFlightAtFail = 0;
    sim.schedule(failAt, () => {
      inFlightAtFail = workerOutstanding;
    });
    const front = new RpcEndpoint(net.addNode('backend-0'));
    front.serve((request, reply) => {
      if (sim.now >= failAt) {
        badAfter++;
        reply.error('error', 'backend-0: failing fast');
        return;
      }
      workerOutstanding++;
      front.call('backend-0-worker', request.payload, { parent: request }).onProcessed((e) => {
        workerOutstanding--;
        const res = e.value!;
        if (res.ok) reply.ok(res.value);
        else
          reply.error(res.error.kind === 'timeout' ? 'gateway-timeout' : res.error.kind, res.error.message);
      });
    });

    // Outlier detection, seen through a thin wrapper that notes how many of the bad backend's errors
    // came before its first ejection, and how many of them in a row (an answer from a request it took
    // before failAt, served fine after it, resets Envoy's consecutive count).
    const od = params.outlierDetection ? new OutlierDetection(sim, { name: 'lb' }) : null;
    let badErrors = 0;
    let badRun = 0;
    let errorsAtFirstEjection: number | null = null;
    let runAtFirstEjection: number | null = null;
    let firstEjectionAt: number | null = null;
    const health: BackendHealth[] = [];
    if (od !== null) {
      health.push({
        isAvailable: (address) => od.isAvailable(address),
        start: (balancer) => od.start(balancer),
        onResponse: (address, ok, kind, latency) => {
          if (address === 'backend-0') {
            if (ok) badRun = 0;
            else {
              badErrors++;
              badRun++;
            }
          }
          od.onResponse(address, ok, kind, latency);
          if (firstEjectionAt === null && od.host('backend-0')?.ejected === true) {
            firstEjectionAt = sim.now;
            errorsAtFirstEjection = badErrors;
            runAtFirstEjection = badRun;
          }
        },
      });
    }
    // Panic mode would not matter here (one of N ejected); Envoy's defaults all round.
    new LoadBalancer(net.addNode('lb'), { backends: addresses, policy: SPECS[params.policy], health });
    const client = new RpcEndpoint(net.addNode('client'));

    let before = 0;
    let after = 0;
    let errorsBefore = 0;
    let errorsAfter = 0;
    let outstanding = 0;
    let arrivalsDone = false;
    const gaps = exponential({ rate: params.rate / 1000 });
    const rng = sim.rng('least-conn-black-hole/arrivals');
    sim.process(function* () {
      while (sim.now < end) {
        const started = sim.now;
        const late = started >= failAt;
        if (late) after++;
        else before++;
        requests.start();
        outstanding++;
        client.call('lb', 'GET /').onProcessed((e) => {
          const res = e.value!;
          requests.finish(res.ok, sim.now - started);
          if (!res.ok) {
            if (late) errorsAfter++;
            else errorsBefore++;
          }
          // The sweeps of outlier detection run for ever: stop them once everything is answered.
          if (--outstanding === 0 && arrivalsDone) od?.stop();
        });
        yield sim.timeout(gaps.sample(rng));
      }
      arrivalsDone = true;
      if (outstanding === 0) od?.stop();
    });
    sim.run();

    const share = after === 0 ? 0 : badAfter / after;
    const errorRate = after === 0 ? 0 : errorsAfter / after;
    const ejections = od?.stats.ejections ?? null;
    const fair = 1 / n;
    if (after > 0) {
      // Binomial standard error of a 1/N share over the requests after failAt.
      const se = Math.sqrt((fair * (1 - fair)) / after);
      if (params.policy === 'round-robin' && od === null) {
        check(
          'round robin gives the failing backend exactly its 1/N share',
          Math.abs(share - fair) <= 1 / after + 1e-12,
          `share ${share.toFixed(4)}, 1/N = ${fair.toFixed(4)}`,
        );
      } else if (od === null) {
        check(
          `${params.policy}: the failing backend draws more than 1/N of the requests`,
          share > fair + 4 * se,
          `share ${share.toFixed(4)} after failAt, 1/N = ${fair.toFixed(4)} (4 SE = ${(4 * se).toFixed(4)})`,
        );
        check(
          `${params.policy}: the error rate after failAt is above 1/N`,
          errorRate > fair + 4 * se,
          `error rate ${errorRate.toFixed(4)}, 1/N = ${fair.toFixed(4)}`,
        );
      } else {
        check(
          'outlier detection ejects the failing backend on exactly its 5th consecutive error',
          runAtFirstEjection === CONSECUTIVE_5XX && od.stats.detected['consecutive-5xx'] >= 1,
          `ejected after ${runAtFirstEjection} consecutive errors (${errorsAtFirstEjection} in all since failAt); consecutive-5xx detections ${od.stats.detected['consecutive-5xx']}, ejections ${ejections}`,
        );
        check(
          'with ejection, the only errors are the 5 in a row that each ejection costs',
          // Fewer than 5 more since the last return; and each request the backend still held at failAt
          // can break the first run of errors with a success once.
          errorsAfter >= CONSECUTIVE_5XX * ejections! &&
            errorsAfter < CONSECUTIVE_5XX * (ejections! + 1) + inFlightAtFail * (CONSECUTIVE_5XX - 1) &&
            badAfter === errorsAfter,
          `${errorsAfter} errors after failAt, ${ejections} ejections, ${badAfter} requests to the failing backend, ${inFlightAtFail} in flight on it at failAt`,
        );
        check(
          'with ejection, the failing backend gets far less than 1/N and the error rate stays near 0',
          share < fair / 10 && errorRate < fair / 10,
          `share ${share.toFixed(5)}, error rate ${errorRate.toFixed(5)}, 1/N = ${fair.toFixed(4)}`,
        );
      }
    }
    return {
      requestsAfter: after,
      failingShareAfter: share,
      errorRateAfter: errorRate,
      errorRateBefore: before === 0 ? 0 : errorsBefore / before,
      fairShare: fair,
      ejections,
      errorsBeforeFirstEjection: errorsAtFirstEjection,
      consecutiveErrorsAtEjection: runAtFirstEjection,
      timeToEjectionMs: firstEjectionAt === null ? null : firstEjectionAt - failAt,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const plain = variants.find((v) => v.name === 'full-scan')?.outcome;
    const ejected = variants.find((v) => v.name === 'full-scan-outlier-detection')?.outcome;
    if (plain === undefined || ejected === undefined) return [];
    return [
      {
        name: 'outlier detection cuts the error rate of least request',
        pass: (ejected.errorRateAfter as number) < (plain.errorRateAfter as number) / 10,
        detail: `error rate after failAt ${plain.errorRateAfter} without, ${ejected.errorRateAfter} with`,
      },
    ];
  },
});
