import { ApiGateway, type GatewayRequest, openLoop, Service } from '@dsim/components';
import { constant, exponential, LatencyHistogram, Network, RpcEndpoint, type RpcResponse } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario } from '../scenario.js';
import { MAX_MS, MAX_RATE, MAX_SECONDS } from './limits.js';

/** One-way latency of every link (ms). */
const LINK_MS = 0.25;

/**
 * `api-gateway`: three things an API gateway does to a system, each measured against its theory.
 *
 * - **Tenants** (`no-tenant-limits`, `tenant-limits`): one noisy tenant sends more than the backend can
 *   serve, three quiet ones send little. Without per-tenant limits the backend's queue grows until every
 *   tenant's requests wait past the gateway's timeout (504s for all). A token bucket per tenant refuses
 *   the noisy tenant's excess (429s, the share `1 - admitted / offered`) and the quiet tenants do not
 *   notice.
 * - **Aggregation** (`aggregation`): a backend-for-frontend route fans out to `parts` backends in
 *   parallel and joins their answers, so its latency is the slowest part's. For exponential parts of mean
 *   m, the mean is m·H_k (H_k the k-th harmonic number) and the p99 is −m·ln(1 − 0.99^(1/k)), against
 *   −m·ln(0.01) for one part: the tail at scale.
 * - **Timeouts** (`timeout-504`, `deadline-propagation`, `deadline-and-lifo`): the backend is
 *   overloaded; the gateway answers 504 after its timeout but the backend does not know and serves every
 *   request anyway, most of them for nobody. Propagating the deadline lets the backend drop work whose
 *   caller has gone, but with a FIFO queue the requests it does serve have waited almost the whole
 *   deadline and still finish too late; serving the newest first under overload (adaptive LIFO) makes
 *   what it serves count, and goodput returns to capacity.
 */
export const apiGateway = defineScenario({
  name: 'api-gateway',
  description: 'A noisy tenant contained by per-tenant limits; the aggregation tail; wasted work after 504s',
  params: {
    model: param.enum(['tenants', 'aggregation', 'timeouts'], {
      default: 'tenants',
      description: 'which of the three models runs',
    }),
    seconds: param.number({
      default: 30,
      min: 5,
      max: MAX_SECONDS,
      description: 'simulated seconds of load',
    }),
    tenantLimits: param.boolean({ default: false, description: 'tenants: a token bucket per tenant' }),
    noisyRate: param.number({
      default: 1000,
      min: 1,
      max: MAX_RATE,
      description: 'tenants: requests per second of the noisy tenant',
    }),
    quietRate: param.number({
      default: 50,
      min: 1,
      max: MAX_RATE,
      description: 'tenants: requests per second of each of the three quiet tenants',
    }),
    tenantRps: param.number({
      default: 200,
      min: 1,
      max: MAX_RATE,
      description: "tenants: each tenant's token bucket refill per second",
    }),
    tenantBurst: param.integer({
      default: 100,
      min: 1,
      max: 1_000_000,
      description: "tenants: each tenant's token bucket capacity",
    }),
    parts: param.integer({ default: 4, min: 1, max: 64, description: 'aggregation: backends per request' }),
    partMs: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: "aggregation: each part's mean (exponential) service time",
    }),
    rate: param.number({
      default: 50,
      min: 1,
      max: MAX_RATE,
      description: 'aggregation and timeouts: requests per second',
    }),
    propagateDeadline: param.boolean({
      default: false,
      description: 'timeouts: pass the deadline on; the backend drops expired work',
    }),
    backendQueue: param.enum(['fifo', 'adaptive-lifo'], {
      default: 'fifo',
      description: "timeouts: the backend's queue discipline",
    }),
    timeoutMs: param.number({
      default: 1000,
      min: 1,
      max: MAX_MS,
      description: "the gateway's route timeout",
    }),
  },
  variants: [
    { name: 'no-tenant-limits', params: { model: 'tenants', tenantLimits: false } },
    { name: 'tenant-limits', params: { model: 'tenants', tenantLimits: true } },
    { name: 'aggregation', params: { model: 'aggregation', rate: 200 } },
    { name: 'timeout-504', params: { model: 'timeouts', propagateDeadline: false } },
    { name: 'deadline-propagation', params: { model: 'timeouts', propagateDeadline: true } },
    {
      name: 'deadline-and-lifo',
      params: { model: 'timeouts', propagateDeadline: true, backendQueue: 'adaptive-lifo' },
    },
  ],
  run({ sim, params: p, requests, check }) {
    const net = new Network(sim, { defaults: { latency: LINK_MS } });
    const client = new RpcEndpoint(net.addNode('clients'));
    const until = p.seconds * 1000;

    /** Sends one request through the gateway; `done` sees the answer. */
    const send = (request: GatewayRequest, done: (res: RpcResponse) => void): void => {
      requests.start();
      client.callThen('gateway', request, undefined, (res) => {
        requests.finish(res.ok, res.latency);
        done(res);
      });
    };

    if (p.model === 'tenants') {
      // 8 workers at 10 ms: 800 requests/s. Offered: noisyRate + 3 x quietRate (1150/s by default).
      new Service(net.addNode('orders'), { concurrency: 8, serviceTime: exponential({ mean: 10 }) });
      const gw = new ApiGateway(net.addNode('gateway'), {
        routes: [{ name: 'orders', path: '/orders/:id', to: 'orders' }],
        timeout: p.timeoutMs,
        ...(p.tenantLimits
          ? { tenantLimit: { kind: 'token-bucket', capacity: p.tenantBurst, refillPerSecond: p.tenantRps } }
          : {}),
      });
      const quiet = { sent: 0, ok: 0, latency: new LatencyHistogram() };
      const noisy = { sent: 0, ok: 0, rejected: 0 };
      for (const tenant of ['noisy', 'quiet-1', 'quiet-2', 'quiet-3']) {
        const isNoisy = tenant === 'noisy';
        openLoop(sim, {
          arrivals: { kind: 'poisson', rate: isNoisy ? p.noisyRate : p.quietRate },
          until,
          stream: `workload/${tenant}`,
          onArrival: (i) =>
            send({ method: 'GET', path: `/orders/${i}`, tenant }, (res) => {
              if (isNoisy) {
                noisy.sent++;
                if (res.ok) noisy.ok++;
                else if (res.error.kind === 'rejected') noisy.rejected++;
              } else {
                quiet.sent++;
                if (res.ok) {
                  quiet.ok++;
                  quiet.latency.record(res.latency);
                }
              }
            }),
        });
      }
      sim.run();
      const quietAvailability = quiet.ok / quiet.sent;
      const rejectedShare = noisy.rejected / noisy.sent;
      // A token bucket admits at most burst + rate x T over T; Poisson arrivals above the rate use it all.
      const admittable = Math.min(noisy.sent, p.tenantBurst + (p.tenantRps * until) / 1000);
      const theoryRejected = p.tenantLimits ? 1 - admittable / noisy.sent : 0;
      const offeredRho =
        (Math.min(p.noisyRate, p.tenantLimits ? p.tenantRps : Infinity) + 3 * p.quietRate) / 800;
      if (p.tenantLimits) {
        check(
          "the noisy tenant's refused share matches its token bucket (1 - (burst + rate T) / offered)",
          Math.abs(rejectedShare - theoryRejected) <= 0.01,
          `refused ${rejectedShare.toFixed(4)}, theory ${theoryRejected.toFixed(4)}, tolerance ±0.01`,
        );
        if (offeredRho < 0.9)
          check(
            'with per-tenant limits the quiet tenants keep their availability (>= 99.9%)',
            quietAvailability >= 0.999,
            `quiet tenants ${quietAvailability.toFixed(4)} ok; admitted load rho = ${offeredRho.toFixed(3)}`,
          );
      } else if (offeredRho > 1.1)
        check(
          'without per-tenant limits the noisy tenant takes the quiet ones down with it (< 50% ok)',
          quietAvailability < 0.5,
          `quiet tenants ${quietAvailability.toFixed(4)} ok; offered load rho = ${offeredRho.toFixed(3)}`,
        );
      return {
        quietAvailability,
        quietP99Ms: quiet.ok > 0 ? quiet.latency.percentile(99) : null,
        noisyRejectedShare: rejectedShare,
        noisyRejectedTheory: theoryRejected,
        noisyAvailability: noisy.ok / noisy.sent,
        gatewayTimeouts: gw.stats.timedOut,
        backendRho: offeredRho,
      };
    }

    if (p.model === 'aggregation') {
      const parts = [];
      for (let i = 0; i < p.parts; i++) {
        // Enough workers that nothing queues: the tail is the parts' own, not a queue's.
        new Service(net.addNode(`part-${i}`), {
          concurrency: 100_000,
          serviceTime: exponential({ mean: p.partMs }),
        });
        parts.push({ to: `part-${i}` });
      }
      new ApiGateway(net.addNode('gateway'), {
        routes: [{ name: 'home', path: '/home', aggregate: parts }],
        timeout: p.timeoutMs,
      });
      const latency = new LatencyHistogram();
      let sum = 0;
      let n = 0;
      let failed = 0;
      openLoop(sim, {
        arrivals: { kind: 'poisson', rate: p.rate },
        until,
        onArrival: () =>
          send({ path: '/home' }, (res) => {
            if (!res.ok) {
              failed++;
              return;
            }
            latency.record(res.latency);
            sum += res.latency;
            n++;
          }),
      });
      sim.run();
      const hops = 4 * LINK_MS; // client -> gateway -> part -> gateway -> client
      let harmonic = 0;
      for (let k = 1; k <= p.parts; k++) harmonic += 1 / k;
      const theoryMean = hops + p.partMs * harmonic;
      const theoryP99 = hops - p.partMs * Math.log(1 - 0.99 ** (1 / p.parts));
      const singleP99 = hops - p.partMs * Math.log(0.01);
      const mean = sum / n;
      const p99 = latency.percentile(99);
      if (n >= 2000) {
        check(
          "mean latency is the slowest part's: m H_k",
          Math.abs(mean - theoryMean) / theoryMean <= 0.03,
          `measured ${mean.toFixed(3)} ms, theory ${theoryMean.toFixed(3)} ms, tolerance ±3%`,
        );
        check(
          'p99 is the max of k parts: -m ln(1 - 0.99^(1/k))',
          Math.abs(p99 - theoryP99) / theoryP99 <= 0.06,
          `measured ${p99.toFixed(2)} ms, theory ${theoryP99.toFixed(2)} ms (one part: ${singleP99.toFixed(2)} ms), tolerance ±6%`,
        );
      }
      return {
        meanMs: mean,
        theoryMeanMs: theoryMean,
        p99Ms: p99,
        theoryP99Ms: theoryP99,
        singlePartP99Ms: singleP99,
        failed,
      };
    }

    // timeouts: 4 workers at 100 ms (40 requests/s) against `rate` requests/s.
    new Service(net.addNode('backend'), {
      concurrency: 4,
      serviceTime: constant(100),
      discipline: p.backendQueue,
      ...(p.propagateDeadline ? { dropExpired: true, replyOnDrop: true } : {}),
    });
    const gw = new ApiGateway(net.addNode('gateway'), {
      routes: [{ name: 'report', path: '/report', to: 'backend' }],
      timeout: p.timeoutMs,
      propagateDeadline: p.propagateDeadline,
    });
    let ok = 0;
    let sent = 0;
    openLoop(sim, {
      arrivals: { kind: 'poisson', rate: p.rate },
      until,
      onArrival: () =>
        send({ path: '/report' }, (res) => {
          sent++;
          if (res.ok) ok++;
        }),
    });
    sim.run();
    const served = sim.metrics.counter('backend', 'svc.completed').value;
    const wastedShare = served === 0 ? 0 : (served - ok) / served;
    const capacity = 40;
    const goodput = ok / p.seconds;
    const wasted = `${(wastedShare * 100).toFixed(1)}% of ${served} served requests were answered after their 504`;
    if (p.rate > capacity * 1.1) {
      if (!p.propagateDeadline)
        check(
          'overloaded behind a 504, the backend serves mostly requests nobody waits for (> 80%)',
          wastedShare > 0.8,
          wasted,
        );
      else if (p.backendQueue === 'fifo')
        check(
          'dropping expired work in a FIFO queue still serves mostly late requests: waits sit at the deadline (> 50%)',
          wastedShare > 0.5 && served < sent,
          `${wasted}; ${sent - served} dropped unserved`,
        );
      else
        check(
          'deadline plus newest-first: goodput back to >= 90% of capacity',
          goodput >= 0.9 * capacity,
          `goodput ${goodput.toFixed(2)}/s, capacity ${capacity}/s; ${wasted}`,
        );
    }
    return {
      sent,
      ok,
      goodputPerSecond: goodput,
      backendServed: served,
      wastedShare,
      gatewayTimeouts: gw.stats.timedOut,
      capacityPerSecond: capacity,
    };
  },
  compare(variants) {
    const get = (name: string) => variants.find((v) => v.name === name);
    const out = [];
    const off = get('no-tenant-limits');
    const on = get('tenant-limits');
    if (off !== undefined && on !== undefined) {
      const a = off.outcome.quietAvailability as number;
      const b = on.outcome.quietAvailability as number;
      out.push({
        name: 'per-tenant limits protect the quiet tenants',
        pass: b > a,
        detail: `quiet tenants ok: ${a.toFixed(4)} without, ${b.toFixed(4)} with`,
      });
    }
    const t = get('timeout-504');
    const d = get('deadline-propagation');
    const l = get('deadline-and-lifo');
    if (t !== undefined && d !== undefined && l !== undefined) {
      const [a, b, c] = [t, d, l].map((v) => v.outcome.goodputPerSecond as number) as [
        number,
        number,
        number,
      ];
      out.push({
        name: 'goodput under overload: plain 504s < deadline propagated < deadline and newest first',
        pass: a < b && b < c,
        detail: `${a.toFixed(2)}/s, ${b.toFixed(2)}/s, ${c.toFixed(2)}/s`,
      });
    }
    return out;
  },
});
