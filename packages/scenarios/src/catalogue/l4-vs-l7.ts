import { ConnectionClient, L4Balancer, type L4PolicySpec, LoadBalancer, Service } from '@dsim/components';
import { exponential, Network, RpcEndpoint } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { roundRobinMeanTime } from './lb-algorithms.js';
import { limitOffered, MAX_MS, MAX_SECONDS, MAX_WORKERS } from './limits.js';

/** Share of the run (by time) left out of the latency figures as warm-up. */
const WARMUP_SHARE = 0.05;
/** Standard errors allowed on a share measured on Poisson arrivals. */
const Z = 4;
/** Above this expected utilisation of the busiest L4 backend the p99 comparison is checked. */
const HIGH_LOAD = 0.75;

const L4_POLICIES = ['round-robin', 'five-tuple-hash', 'maglev', 'least-connections'] as const;

/**
 * The expected share of each backend when every connection carries the same request rate: the
 * connections pinned to it over all connections.
 *
 * @param pinned - the backend index of every connection
 * @param backends - how many backends there are
 * @example
 * ```ts
 * connectionShares([0, 1, 2, 0], 3); // [0.5, 0.25, 0.25]: A-T8's 4 connections over 3 backends
 * ```
 */
export function connectionShares(pinned: readonly number[], backends: number): number[] {
  const shares = new Array<number>(backends).fill(0);
  for (const b of pinned) shares[b]! += 1 / pinned.length;
  return shares;
}

const pct = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)}%`;

/**
 * `l4-vs-l7`: C clients, each with K long-lived multiplexed connections (HTTP/2 or gRPC style) and the
 * same request rate, in front of B single-queue backends. Variant `l4`: an {@link L4Balancer} pins each
 * connection to a backend when it opens (round robin over connections by default) and every request
 * follows its connection. Variant `l7`: a per-request {@link LoadBalancer} (round robin) spreads the same
 * requests. With 4 connections over 3 backends L4 gives one backend half the requests (50% / 25% / 25%);
 * L7 gives each a third, and the hot L4 backend's queue sets the p99. The L7 variant's mean and p99 are
 * reported against E_B/M/1 theory (round robin over a Poisson stream).
 */
export const l4VsL7 = defineScenario({
  name: 'l4-vs-l7',
  description:
    'Connection-level (L4) against request-level (L7) balancing of long-lived multiplexed connections: shares, utilisation, p99',
  params: {
    backends: param.integer({ default: 3, min: 1, max: 1000, description: 'backends (B)' }),
    clients: param.integer({
      default: 2,
      min: 1,
      max: 10_000,
      description: 'clients (C), equal request rates',
    }),
    connections: param.integer({
      default: 2,
      min: 1,
      max: MAX_WORKERS,
      description: 'long-lived connections per client (K); requests take them in turn',
    }),
    load: param.number({
      default: 0.6,
      min: 0,
      exclusiveMin: true,
      max: 1,
      exclusiveMax: true,
      description: 'offered load per backend if spread evenly: total rate × serviceMs / (backends × workers)',
    }),
    serviceMs: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean service time (exponential) of a backend',
    }),
    workers: param.integer({ default: 1, min: 1, max: MAX_WORKERS, description: 'workers per backend' }),
    seconds: param.number({
      default: 300,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds of arrivals (the first 5% are warm-up for the latency figures)',
    }),
    arrivals: param.enum(['poisson', 'periodic'], {
      default: 'poisson',
      description: "each client's arrivals: Poisson, or evenly spaced (then the shares are exact)",
    }),
    l4Policy: param.enum(L4_POLICIES, {
      default: 'round-robin',
      description: 'how the L4 balancer assigns a connection',
    }),
    recycleAfter: param.integer({
      default: 0,
      min: 0,
      max: 1_000_000_000,
      description:
        "L4: a client retires a connection after this many requests and opens a new one (Envoy's max_requests_per_connection); 0: never",
    }),
    mode: param.enum(['l4', 'l7'], {
      default: 'l4',
      description: 'connection-level or request-level balancing (each variant sets it)',
    }),
  },
  variants: [
    {
      name: 'l4',
      description: 'an L4 balancer assigns each connection at connect time; its requests follow it',
      params: { mode: 'l4' as const },
    },
    {
      name: 'l4-recycled',
      description:
        'as l4, but each connection is retired after 100 requests (nginx keepalive_requests before 1.19.10), so connections are reassigned',
      params: { mode: 'l4' as const, recycleAfter: 100 },
    },
    {
      name: 'l7',
      description: 'an L7 balancer (round robin) picks a backend for every request',
      params: { mode: 'l7' as const },
    },
  ],
  run({ sim, params, requests, check }) {
    const {
      backends: B,
      clients: C,
      connections: K,
      load,
      serviceMs,
      workers,
      seconds,
      mode,
      recycleAfter,
    } = params;
    const totalRate = (load * B * workers) / serviceMs; // requests per ms
    const endMs = seconds * 1000;
    limitOffered(totalRate * endMs, 'load × backends × workers / serviceMs × seconds');
    const net = new Network(sim); // zero latency on every link
    const addresses: string[] = [];
    for (let i = 0; i < B; i++) {
      const address = `backend-${i}`;
      addresses.push(address);
      new Service(net.addNode(address), {
        serviceTime: exponential({ mean: serviceMs }),
        concurrency: workers,
        respond: () => i,
      });
    }

    // Each client sends with call(payload) and gets back the index of the backend that served it.
    type Send = (payload: number, done: (ok: boolean, value: unknown) => void) => void;
    const senders: Send[] = [];
    let expected: number[];
    const clientsMade: ConnectionClient[] = [];
    let reconnectCount = (): number => 0;
    if (mode === 'l4') {
      const l4 = new L4Balancer(net.addNode('nlb'), {
        backends: addresses,
        policy: { kind: params.l4Policy } as L4PolicySpec,
      });
      const pinned: number[] = [];
      for (let c = 0; c < C; c++) {
        const client = new ConnectionClient(net.addNode(`client-${c}`), {
          balancer: l4,
          connections: K,
          ...(recycleAfter > 0 ? { maxRequestsPerConnection: recycleAfter } : {}),
        });
        clientsMade.push(client);
        for (const b of client.backends) pinned.push(addresses.indexOf(b!));
        senders.push((payload, done) =>
          client.call(payload).onProcessed((e) => {
            const res = e.value!;
            done(res.ok, res.ok ? res.value : undefined);
          }),
        );
      }
      // Recycled connections are reassigned again and again: over many reassignments every backend
      // carries about 1/B of the connection lifetimes, so of the requests.
      reconnectCount = () => clientsMade.reduce((sum, c) => sum + c.stats.reconnects, 0);
      expected = recycleAfter > 0 ? new Array<number>(B).fill(1 / B) : connectionShares(pinned, B);
    } else {
      new LoadBalancer(net.addNode('lb'), {
        backends: addresses,
        policy: { kind: 'round-robin' },
        timeout: Infinity,
      });
      for (let c = 0; c < C; c++) {
        const endpoint = new RpcEndpoint(net.addNode(`client-${c}`));
        senders.push((payload, done) =>
          endpoint.call('lb', payload).onProcessed((e) => {
            const res = e.value!;
            done(res.ok, res.ok ? res.value : undefined);
          }),
        );
      }
      expected = new Array<number>(B).fill(1 / B);
    }

    const counts = new Float64Array(B);
    const latencies: number[] = [];
    const warmupMs = WARMUP_SHARE * endMs;
    let sent = 0;
    let answered = 0;
    let failed = 0;
    const clientRate = totalRate / C;
    for (let c = 0; c < C; c++) {
      const send = senders[c]!;
      const rng = sim.rng(`l4-vs-l7/arrivals/${c}`);
      const gaps = exponential({ mean: 1 / clientRate });
      const periodic = params.arrivals === 'periodic';
      sim.process(function* () {
        // Periodic clients are spread over one gap so that they do not arrive together.
        if (periodic) yield sim.timeout(c / C / clientRate);
        while (true) {
          if (!periodic) yield sim.timeout(gaps.sample(rng));
          if (sim.now >= endMs) return;
          const started = sim.now;
          sent++;
          requests.start();
          send(sent, (ok, value) => {
            const t = sim.now - started;
            requests.finish(ok, t);
            answered++;
            if (!ok) {
              failed++;
              return;
            }
            counts[value as number]!++;
            if (started >= warmupMs) latencies.push(t);
          });
          if (periodic) yield sim.timeout(1 / clientRate);
        }
      });
    }
    // Utilisation over the arrival window: each backend's busy workers, time-averaged, per worker.
    const util = new Array<number>(B).fill(0);
    sim.schedule(endMs, () => {
      for (let i = 0; i < B; i++)
        util[i] = sim.metrics.gauge(addresses[i]!, 'svc.busy').mean(sim.now) / workers;
    });
    sim.run();

    const reconnects = reconnectCount();
    const n = counts.reduce((s, x) => s + x, 0);
    const shares = Array.from(counts, (x) => (n === 0 ? 0 : x / n));
    const maxShare = Math.max(...shares);
    const minShare = Math.min(...shares);
    const sorted = Float64Array.from(latencies).sort();
    const q = (p: number): number =>
      sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
    const mean = sorted.length === 0 ? 0 : sorted.reduce((s, x) => s + x, 0) / sorted.length;

    check(
      'every request answered ok',
      failed === 0 && answered === sent,
      `${answered} of ${sent} answered, ${failed} failed`,
    );
    // L7 round robin and evenly spaced L4 clients: exact up to one request per connection. L4 with
    // Poisson clients: each client's own count is Poisson, so a share is exact only in expectation.
    const loose = mode === 'l4' && params.arrivals === 'poisson';
    let within = true;
    let worst = 0;
    let worstTol = 0;
    for (let b = 0; b < B; b++) {
      const p = expected[b]!;
      // Rounding: one request per connection; with recycling, one connection lifetime per connection
      // (each carries exactly recycleAfter requests, and the lifetimes are dealt out, not sampled),
      // plus, for hashing policies, the binomial noise of where E lifetimes land.
      const lifetimes = recycleAfter > 0 ? Math.max(1, n / recycleAfter) : 0;
      const rounding = ((C * K + 1) * Math.max(1, recycleAfter)) / Math.max(n, 1);
      const hashed =
        recycleAfter > 0 && (params.l4Policy === 'five-tuple-hash' || params.l4Policy === 'maglev')
          ? Z * Math.sqrt((p * (1 - p)) / lifetimes)
          : 0;
      const tol = (loose ? Z * Math.sqrt((p * (1 - p)) / Math.max(n, 1)) : 0) + rounding + hashed;
      const err = Math.abs(shares[b]! - p);
      if (err > tol) within = false;
      if (b === 0 || err / tol > worst / worstTol) {
        worst = err;
        worstTol = tol;
      }
    }
    check(
      mode === 'l7'
        ? 'L7: round robin gives each backend 1/B of the requests'
        : recycleAfter > 0
          ? 'L4 with recycled connections: each backend gets about 1/B of the requests'
          : 'L4: each backend gets the share of the connections pinned to it',
      within,
      `measured ${shares.map((x) => pct(x)).join(' / ')}, expected ${expected.map((x) => pct(x)).join(' / ')} (largest error ${pct(worst, 3)} against a tolerance of ${pct(worstTol, 3)}: ${loose ? `${Z} SE plus rounding` : 'rounding only'}${recycleAfter > 0 ? `, ${recycleAfter} requests per connection` : ''})`,
    );

    const expectedUtil = expected.map((s) => (s * totalRate * serviceMs) / workers);
    // L7 round robin over one Poisson stream: each backend sees Erlang-B gaps, an E_B/M/1 queue whose
    // sojourn time is exponential (Kleinrock vol. 1, section 6.4). Single workers and Poisson arrivals only.
    const theoryMean =
      mode === 'l7' && workers === 1 && params.arrivals === 'poisson'
        ? roundRobinMeanTime(load, B) * serviceMs
        : null;
    return {
      shares: shares.map((x) => pct(x)).join(' / '),
      expectedShares: expected.map((x) => pct(x)).join(' / '),
      maxShare,
      minShare,
      maxMinRatio: minShare === 0 ? null : maxShare / minShare,
      expectedMaxShare: Math.max(...expected),
      expectedMinShare: Math.min(...expected),
      utilisations: util.map((u) => u.toFixed(3)).join(' / '),
      utilMax: Math.max(...util),
      utilMin: Math.min(...util),
      utilSpread: Math.max(...util) - Math.min(...util),
      expectedUtilMax: Math.max(...expectedUtil),
      meanMs: mean,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      theoryMeanMs: theoryMean,
      theoryP99Ms: theoryMean === null ? null : theoryMean * Math.log(100),
      requests: sent,
      failed,
      reconnects: reconnects,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const l4 = variants.find((v) => v.name === 'l4')?.outcome;
    const l7 = variants.find((v) => v.name === 'l7')?.outcome;
    const recycled = variants.find((v) => v.name === 'l4-recycled')?.outcome;
    if (l4 === undefined || l7 === undefined) return [];
    const checks = [];
    if (recycled !== undefined && (l4.expectedMaxShare as number) > (l4.expectedMinShare as number)) {
      const r4 = (l4.maxMinRatio as number | null) ?? Infinity;
      const rr = (recycled.maxMinRatio as number | null) ?? Infinity;
      checks.push({
        name: 'recycling connections spreads L4 requests more evenly (max/min share)',
        pass: rr < r4,
        detail: `L4 ${l4.shares} (max/min ${r4.toFixed(3)}), recycled ${recycled.shares} (max/min ${rr.toFixed(3)}, ${recycled.reconnects} reconnects)`,
      });
    }
    const imbalanced = (l4.expectedMaxShare as number) > (l4.expectedMinShare as number);
    if (imbalanced) {
      const r4 = (l4.maxMinRatio as number | null) ?? Infinity;
      const r7 = (l7.maxMinRatio as number | null) ?? Infinity;
      checks.push({
        name: 'L4 spreads requests less evenly than L7 (max/min share)',
        pass: r4 > r7,
        detail: `L4 ${l4.shares} (max/min ${r4.toFixed(3)}), L7 ${l7.shares} (max/min ${r7.toFixed(3)}); utilisation L4 ${l4.utilisations}, L7 ${l7.utilisations}`,
      });
      if ((l4.expectedUtilMax as number) >= HIGH_LOAD)
        checks.push({
          name: `L4 p99 worse than L7 when the busiest L4 backend runs at ${HIGH_LOAD} or more`,
          pass: (l4.p99Ms as number) > (l7.p99Ms as number),
          detail: `p99 L4 ${(l4.p99Ms as number).toFixed(1)} ms against L7 ${(l7.p99Ms as number).toFixed(1)} ms; busiest L4 backend at ${(l4.utilMax as number).toFixed(3)} (expected ${(l4.expectedUtilMax as number).toFixed(3)})`,
        });
    }
    return checks;
  },
});
