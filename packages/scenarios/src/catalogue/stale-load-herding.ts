import { type BalancerPolicySpec, LoadBalancer, type LoadBalancerOptions, Service } from '@dsim/components';
import { exponential, Network, RpcEndpoint } from '@dsim/core';
import { BatchMeans } from '../batch-means.js';
import { param } from '../params.js';
import { supermarketMeanTime } from '../queueing-theory.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_FACTOR, MAX_MS, MAX_OFFERED } from './limits.js';

/** Share of customers (by arrival) discarded as warm-up. */
const WARMUP_SHARE = 0.05;

const POLICIES = ['full-scan', 'power-of-two', 'random'] as const;
type Policy = (typeof POLICIES)[number];

const SPECS: Record<Policy, BalancerPolicySpec> = {
  'full-scan': { kind: 'least-request', fullScan: true },
  'power-of-two': { kind: 'least-request', choiceCount: 2 },
  random: { kind: 'random' },
};

/** The report intervals of the variants, in service times (0: live counts). */
const INTERVALS = [0, 1, 5, 20] as const;

/**
 * `stale-load-herding`: Mitzenmacher's periodic update model ("How useful is old information?", IEEE
 * TPDS 11(1), 2000). N single-worker servers with exponential service behind a {@link LoadBalancer}
 * whose policies see the backends' active counts as of the last load report, every T service times
 * (`loadReport: { interval }`; T = 0 is live counts). Poisson arrivals at λ·N. The variants run the full
 * scan (join the shortest queue as reported) and the power of two choices at T = 0, 1, 5 and 20, and
 * random (which ignores load) as the baseline, on common random numbers. With stale counts the full
 * scan herds: every arrival of a period goes to the server(s) reported least loaded.
 */
export const staleLoadHerding = defineScenario({
  name: 'stale-load-herding',
  description:
    'Stale load reports: full scan herds and falls behind power of two choices, then random (Mitzenmacher 2000)',
  params: {
    servers: param.integer({
      default: 50,
      min: 1,
      max: 10_000,
      description: 'servers behind the balancer (N)',
    }),
    lambda: param.number({
      default: 0.9,
      min: 0,
      exclusiveMin: true,
      max: 1,
      exclusiveMax: true,
      description: 'load per server: arrivals at lambda × N per service time',
    }),
    customers: param.integer({
      default: 50_000,
      min: 1000,
      max: MAX_OFFERED,
      description: 'requests per variant (the first 5% are warm-up)',
    }),
    serviceMs: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean service time (exponential) of every server',
    }),
    interval: param.number({
      default: 0,
      min: 0,
      max: MAX_FACTOR,
      description:
        'load-report interval T in service times; 0: the balancer sees live counts (each variant sets it)',
    }),
    policy: param.enum(POLICIES, {
      default: 'full-scan',
      description: 'balancing policy (each variant sets it)',
    }),
  },
  variants: [
    ...INTERVALS.map((interval) => ({
      name: `full-scan-T${interval}`,
      description:
        interval === 0
          ? 'join the shortest queue on live counts'
          : `join the shortest queue as reported every ${interval} service times`,
      params: { policy: 'full-scan' as const, interval },
    })),
    ...INTERVALS.map((interval) => ({
      name: `p2c-T${interval}`,
      description:
        interval === 0
          ? 'power of two choices on live counts'
          : `power of two choices on counts reported every ${interval} service times`,
      params: { policy: 'power-of-two' as const, interval },
    })),
    {
      name: 'random',
      description: 'random: ignores load, so stale reports cannot hurt it (N M/M/1 queues)',
      params: { policy: 'random' as const, interval: 0 },
    },
  ],
  run({ sim, params, requests, check }) {
    const { servers: n, lambda, customers, serviceMs, policy, interval } = params;
    limitOffered(customers, 'customers');
    const reportMs = interval * serviceMs;
    if (interval > 0 && !(reportMs > 0 && reportMs <= MAX_MS))
      throw new RangeError(
        `stale-load-herding: interval × serviceMs must be at most ${MAX_MS} ms, got ${reportMs}`,
      );

    const net = new Network(sim); // zero latency on every link
    const backends: string[] = [];
    for (let i = 0; i < n; i++) {
      const address = `server-${i}`;
      backends.push(address);
      new Service(net.addNode(address), {
        serviceTime: exponential({ mean: serviceMs }),
        respond: () => i,
      });
    }
    const options: LoadBalancerOptions = { backends, policy: SPECS[policy], timeout: Infinity };
    if (interval > 0) options.loadReport = { interval: reportMs };
    new LoadBalancer(net.addNode('lb'), options);
    const client = new RpcEndpoint(net.addNode('client'));

    const warmup = Math.floor(customers * WARMUP_SHARE);
    const measured = customers - warmup;
    const sojourns = new Float64Array(measured);
    const batches = new BatchMeans(measured);
    let done = 0;
    let failed = 0;
    // Herding: per report period, the arrivals and the most any one server got of them.
    const period = interval > 0 ? reportMs : serviceMs;
    const perServer = new Map<number, Int32Array>();
    const arrivalsIn = new Map<number, number>();
    let herdSum = 0;
    let herdPeriods = 0;

    const gaps = exponential({ mean: serviceMs / (lambda * n) });
    const rng = sim.rng('stale-load-herding/arrivals');
    sim.process(function* () {
      for (let c = 0; c < customers; c++) {
        const started = sim.now;
        const counted = c >= warmup;
        // Zero latency: the balancer picks at `started`, so the pick belongs to this period.
        const p = Math.floor(started / period);
        requests.start();
        client.call('lb', c).onProcessed((e) => {
          const res = e.value!;
          const t = sim.now - started;
          requests.finish(res.ok, t);
          if (!res.ok) {
            failed++;
            return;
          }
          if (!counted) return;
          let counts = perServer.get(p);
          if (counts === undefined) {
            counts = new Int32Array(n);
            perServer.set(p, counts);
          }
          counts[res.value as number]!++;
          arrivalsIn.set(p, (arrivalsIn.get(p) ?? 0) + 1);
          sojourns[done++] = t;
          batches.add(t / serviceMs);
        });
        yield sim.timeout(gaps.sample(rng));
      }
    });
    sim.run();
    for (const [p, counts] of perServer) {
      const total = arrivalsIn.get(p)!;
      if (total < 2) continue;
      let max = 0;
      for (let i = 0; i < n; i++) if (counts[i]! > max) max = counts[i]!;
      herdSum += max / total;
      herdPeriods++;
    }

    const times = sojourns.subarray(0, done).sort();
    const mean = batches.mean;
    const p99 = done === 0 ? 0 : times[Math.min(done - 1, Math.ceil(0.99 * done) - 1)]!;
    check(
      'every request answered ok',
      failed === 0 && done === measured,
      `${done} of ${measured} measured, ${failed} failed`,
    );
    const theory =
      policy === 'random'
        ? supermarketMeanTime(lambda, 1)
        : policy === 'power-of-two' && interval === 0
          ? supermarketMeanTime(lambda, 2)
          : null;
    return {
      meanTimeInSystem: mean * serviceMs,
      meanInServiceTimes: mean,
      meanStdErr: batches.standardError * serviceMs,
      p99TimeInSystem: p99,
      reportIntervalMs: interval > 0 ? reportMs : null,
      // Mean over report periods (service-time periods at T = 0) of the largest share of the period's
      // arrivals that one server got: 1 when the whole period herds onto one server.
      herdShare: herdPeriods === 0 ? null : herdSum / herdPeriods,
      // Random: M/M/1, 1/(1 − λ); p2c on live counts: the supermarket fixed point T_2 (n → ∞).
      theoryMeanTimeInSystem: theory === null ? null : theory * serviceMs,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const mean = (name: string): number | undefined =>
      variants.find((v) => v.name === name)?.outcome.meanTimeInSystem as number | undefined;
    const fmt = (x: number): string => `${x.toFixed(1)} ms`;
    const checks = [];
    const fs0 = mean('full-scan-T0');
    const p0 = mean('p2c-T0');
    if (fs0 !== undefined && p0 !== undefined)
      checks.push({
        name: 'fresh information: full scan beats power of two choices',
        pass: fs0 < p0,
        detail: `full-scan-T0 ${fmt(fs0)}, p2c-T0 ${fmt(p0)}`,
      });
    const staleT = INTERVALS.filter((t) => t > 0);
    const fs = staleT.map((t) => mean(`full-scan-T${t}`));
    const p2 = staleT.map((t) => mean(`p2c-T${t}`));
    const fsKnown = [fs0, ...fs].every((x) => x !== undefined);
    if (fsKnown) {
      const all = [fs0!, ...(fs as number[])];
      checks.push({
        name: 'full scan gets worse as the reports get older',
        pass: all.every((m, i) => i === 0 || m > all[i - 1]!),
        detail: INTERVALS.map((t, i) => `T${t} ${fmt(all[i]!)}`).join(', '),
      });
    }
    const last = staleT.length - 1;
    const tMax = staleT[last]!;
    const fsMax = fs[last];
    const pMax = p2[last];
    if (fsMax !== undefined && pMax !== undefined)
      checks.push({
        name: `stale information (T = ${tMax}): full scan herds and is worse than power of two choices`,
        pass: fsMax > pMax,
        detail: `full-scan-T${tMax} ${fmt(fsMax)}, p2c-T${tMax} ${fmt(pMax)}`,
      });
    const rnd = mean('random');
    if (fsMax !== undefined && rnd !== undefined)
      checks.push({
        name: `very stale information (T = ${tMax}): full scan is worse than random`,
        pass: fsMax > rnd,
        detail: `full-scan-T${tMax} ${fmt(fsMax)}, random ${fmt(rnd)}`,
      });
    if (p0 !== undefined && p2.every((x) => x !== undefined) && fs.every((x) => x !== undefined)) {
      // Graceful: at every staleness p2c is at most the full scan's figure, and its worst case stays
      // within a small factor of its fresh figure while the full scan's grows by far more.
      const pWorst = Math.max(...(p2 as number[]));
      const fsWorst = Math.max(...(fs as number[]));
      checks.push({
        name: 'power of two choices degrades gracefully: no worse than full scan at every T > 0, and grows far less',
        pass: staleT.every((_, i) => p2[i]! <= fs[i]!) && pWorst / p0 < fsWorst / fs0!,
        detail: `${staleT.map((t, i) => `T${t}: p2c ${fmt(p2[i]!)} vs full scan ${fmt(fs[i]!)}`).join('; ')}; worst/fresh p2c ×${(pWorst / p0).toFixed(1)}, full scan ×${(fsWorst / fs0!).toFixed(1)}`,
      });
    }
    return checks;
  },
});
