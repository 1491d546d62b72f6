import {
  LoadBalancer,
  resolveSlowStart,
  Service,
  type SlowStartSpec,
  slowStartFactor,
} from '@dsim/components';
import { exponential, LatencyHistogram, Network, RpcEndpoint } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_FACTOR, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

const MODES = ['none', 'envoy', 'haproxy'] as const;
type Mode = (typeof MODES)[number];

/** Width of the bins in which the new backend's share is reported, ms. */
const BIN_MS = 10_000;

/** Largest Envoy `aggression` accepted: at 100 the ramp is already a step. */
const MAX_AGGRESSION = 100;

/**
 * The slow-start spec of a mode, or undefined for `none`.
 *
 * @example
 * ```ts
 * slowStartSpec('envoy', 60, 1, 10); // { kind: 'envoy', window: 60000, aggression: 1, minWeightPercent: 10 }
 * ```
 */
export function slowStartSpec(
  mode: Mode,
  windowSeconds: number,
  aggression: number,
  minWeightPercent: number,
): SlowStartSpec | undefined {
  const window = windowSeconds * 1000;
  if (mode === 'envoy') return { kind: 'envoy', window, aggression, minWeightPercent };
  if (mode === 'haproxy') return { kind: 'haproxy', window };
  return undefined;
}

/**
 * The new backend's expected share of weighted-round-robin picks over [from, to) ms after it joined,
 * with `warm` backends of weight 1 beside it: the time average of `f(t) / (warm + f(t))`, `f` the
 * slow-start factor (1 without slow start). Arrivals are Poisson at a constant rate, so the time
 * average is the request average.
 *
 * @example
 * ```ts
 * expectedShare(resolveSlowStart({ kind: 'envoy', window: '60s' }), 4, 0, 6000); // 0.1 / 4.1
 * ```
 */
export function expectedShare(
  spec: ReturnType<typeof resolveSlowStart> | undefined,
  warm: number,
  from: number,
  to: number,
): number {
  const steps = 2000;
  let sum = 0;
  for (let k = 0; k < steps; k++) {
    const t = from + ((k + 0.5) * (to - from)) / steps;
    const f = spec === undefined ? 1 : slowStartFactor(spec, t);
    sum += f / (warm + f);
  }
  return sum / steps;
}

/**
 * `slow-start`: N − 1 warm backends behind a weighted round robin balancer (Envoy's EDF scheduler);
 * at `joinAtSeconds` a cold one joins (`addBackend`). Its first requests are slower, as with an empty
 * cache or a cold JIT: its service time is multiplied by `coldFactor` at the join, falling linearly to
 * 1 over `warmSeconds`. Without slow start it gets its full 1/N share at once, is overloaded while its
 * multiplier is high, and its queue makes the p99 of what it serves spike. Envoy's slow start (window
 * 60 s, aggression 1, 10% floor) and HAProxy's (`slowstart 60s`, 1% to 100%) ramp its weight instead.
 */
export const slowStart = defineScenario({
  name: 'slow-start',
  description:
    'A cold backend joins: without slow start it takes 1/N at once and its p99 spikes; Envoy and HAProxy ramp it',
  params: {
    backends: param.integer({
      default: 5,
      min: 2,
      max: 1000,
      description: 'backends once the new one has joined (N): N - 1 warm ones from the start',
    }),
    rate: param.number({
      default: 500,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'requests per second (Poisson) over all backends',
    }),
    serviceMs: param.number({
      default: 20,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean service time of a warm backend (exponential)',
    }),
    workers: param.integer({ default: 4, min: 1, max: MAX_WORKERS, description: 'workers per backend' }),
    coldFactor: param.number({
      default: 5,
      min: 1,
      max: MAX_FACTOR,
      description: "the new backend's service-time multiplier when it joins",
    }),
    warmSeconds: param.number({
      default: 30,
      min: 0,
      exclusiveMin: true,
      max: MAX_SECONDS,
      description: 'seconds over which the multiplier falls linearly to 1 (the cache warming)',
    }),
    joinAtSeconds: param.number({
      default: 10,
      min: 0,
      max: MAX_SECONDS,
      description: 'when the new backend joins (simulated seconds)',
    }),
    seconds: param.number({
      default: 100,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds of arrivals; rate × seconds at most 1000000',
    }),
    slowStart: param.enum(MODES, { default: 'none', description: 'slow start mode (each variant sets it)' }),
    windowSeconds: param.number({
      default: 60,
      min: 0,
      exclusiveMin: true,
      max: MAX_SECONDS,
      description: 'slow start window (Envoy slow_start_window, HAProxy slowstart)',
    }),
    aggression: param.number({
      default: 1,
      min: 0,
      exclusiveMin: true,
      max: MAX_AGGRESSION,
      description: "Envoy's aggression (1: linear)",
    }),
    minWeightPercent: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: 100,
      description: "Envoy's min_weight_percent",
    }),
  },
  variants: [
    { name: 'no-slow-start', params: { slowStart: 'none' } },
    {
      name: 'envoy',
      description: "Envoy's slow start: window 60 s, aggression 1, min weight 10%",
      params: { slowStart: 'envoy' },
    },
    {
      name: 'haproxy',
      description: "HAProxy's slowstart 60s: weight from 1% to 100%",
      params: { slowStart: 'haproxy' },
    },
  ],
  run({ sim, params, requests, check }) {
    limitOffered(params.rate * params.seconds, 'rate × seconds');
    const n = params.backends;
    const joinAt = params.joinAtSeconds * 1000;
    const end = params.seconds * 1000;
    const windowMs = params.windowSeconds * 1000;
    const warmMs = params.warmSeconds * 1000;
    const spec = slowStartSpec(
      params.slowStart,
      params.windowSeconds,
      params.aggression,
      params.minWeightPercent,
    );
    const resolved = spec === undefined ? undefined : resolveSlowStart(spec);
    const net = new Network(sim); // zero latency
    const serviceTime = exponential({ mean: params.serviceMs });
    const fresh = `backend-${n - 1}`;

    // Each backend is a front that times its worker: the time a request spent at that backend.
    const coldLatency = new LatencyHistogram(); // the new backend, requests it took in the first window
    const warmLatency = new LatencyHistogram(); // the warm backends, over the same interval
    const bins = Math.ceil((windowMs + BIN_MS) / BIN_MS);
    const freshPicks = new Array<number>(bins).fill(0);
    const allPicks = new Array<number>(bins).fill(0);
    let freshFirstSeconds = 0; // picks in the first `floorMs` after the join
    let allFirstSeconds = 0;
    // Envoy's floor lasts until timeFactor^(1/aggression) reaches minWeightPercent: 6 s at the defaults.
    const floorMs = Math.max(1000, windowMs * (params.minWeightPercent / 100) ** params.aggression);
    const addBackend = (address: string, cold: boolean): void => {
      const bornAt = sim.now;
      const slowdown = cold
        ? () => 1 + (params.coldFactor - 1) * Math.max(0, 1 - (sim.now - bornAt) / warmMs)
        : undefined;
      new Service(net.addNode(`${address}-worker`), {
        concurrency: params.workers,
        serviceTime,
        ...(slowdown === undefined ? {} : { slowdown }),
      });
      const front = new RpcEndpoint(net.addNode(address));
      front.serve((request, reply) => {
        const started = sim.now;
        const since = started - joinAt;
        const inWindow = since >= 0 && since < windowMs;
        if (cold && since >= 0) {
          const bin = Math.floor(since / BIN_MS);
          if (bin < bins) freshPicks[bin]!++;
          if (since < floorMs) freshFirstSeconds++;
        }
        front.call(`${address}-worker`, request.payload, { parent: request }).onProcessed((e) => {
          const res = e.value!;
          if (inWindow) (cold ? coldLatency : warmLatency).record(sim.now - started);
          if (res.ok) reply.ok(res.value);
          else
            reply.error(res.error.kind === 'timeout' ? 'gateway-timeout' : res.error.kind, res.error.message);
        });
      });
    };
    const warm: string[] = [];
    for (let i = 0; i < n - 1; i++) {
      warm.push(`backend-${i}`);
      addBackend(`backend-${i}`, false);
    }
    // Envoy's ROUND_ROBIN with weights is its EDF scheduler; slow start needs a weight-aware policy.
    const lb = new LoadBalancer(net.addNode('lb'), {
      backends: warm,
      policy: { kind: 'weighted-round-robin', scheduler: 'edf' },
      timeout: Infinity,
      ...(spec === undefined ? {} : { slowStart: spec }),
    });
    let weightAt15: number | null = null;
    let weightAt3: number | null = null;
    sim.schedule(joinAt, () => {
      addBackend(fresh, true);
      lb.addBackend(fresh);
    });
    if (joinAt + 3000 < end) sim.schedule(joinAt + 3000, () => (weightAt3 = lb.effectiveWeight(fresh)));
    if (joinAt + 15_000 < end) sim.schedule(joinAt + 15_000, () => (weightAt15 = lb.effectiveWeight(fresh)));

    const client = new RpcEndpoint(net.addNode('client'));
    const gaps = exponential({ rate: params.rate / 1000 });
    const rng = sim.rng('slow-start/arrivals');
    sim.process(function* () {
      while (sim.now < end) {
        const started = sim.now;
        const since = started - joinAt;
        if (since >= 0) {
          const bin = Math.floor(since / BIN_MS);
          if (bin < bins) allPicks[bin]!++;
          if (since < floorMs) allFirstSeconds++;
        }
        requests.start();
        client.call('lb', 'GET /').onProcessed((e) => {
          requests.finish(e.value!.ok, sim.now - started);
        });
        yield sim.timeout(gaps.sample(rng));
      }
    });
    sim.run();

    const outcome: Record<string, number | null> = {};
    const share = (picks: number, all: number): number => (all === 0 ? 0 : picks / all);
    const fair = 1 / n;
    // Bins whose arrivals all fall inside the run.
    const full = Math.max(0, Math.min(bins, Math.floor((end - joinAt) / BIN_MS)));
    const misses: string[] = [];
    for (let b = 0; b < full; b++) {
      const label = `${(b * BIN_MS) / 1000}-${((b + 1) * BIN_MS) / 1000}s`;
      const measured = share(freshPicks[b]!, allPicks[b]!);
      const expected = expectedShare(resolved, n - 1, b * BIN_MS, (b + 1) * BIN_MS);
      outcome[`share.${label}`] = measured;
      outcome[`expectedShare.${label}`] = expected;
      // Binomial standard error: a conservative bound (the scheduler itself is deterministic).
      const se = Math.sqrt((expected * (1 - expected)) / Math.max(1, allPicks[b]!));
      if (Math.abs(measured - expected) > 4 * se + 1 / Math.max(1, allPicks[b]!))
        misses.push(`${label}: ${measured.toFixed(4)} vs ${expected.toFixed(4)}`);
    }
    if (full > 0)
      check(
        "the new backend's share in every 10 s bin is the weighted share its effective weight gives",
        misses.length === 0,
        misses.length === 0
          ? `${full} bins within 4 binomial standard errors of the time average of f/(N - 1 + f)`
          : `off: ${misses.join('; ')}`,
      );
    const early = share(freshFirstSeconds, allFirstSeconds);
    const earlyExpected = expectedShare(resolved, n - 1, 0, floorMs);
    const coldP99 = coldLatency.count === 0 ? 0 : coldLatency.percentile(99);
    const warmP99 = warmLatency.count === 0 ? 0 : warmLatency.percentile(99);
    const expectedAt15 = resolved === undefined ? 1 : slowStartFactor(resolved, 15_000);
    if (weightAt15 !== null)
      check(
        "the balancer's effective weight of the new backend 15 s after it joined",
        Math.abs(weightAt15 - expectedAt15) < 1e-12,
        `effectiveWeight ${weightAt15}, expected ${expectedAt15}${params.slowStart === 'envoy' && params.aggression === 1 && params.windowSeconds === 60 ? ' (Envoy: 15/60 = 0.25)' : ''}`,
      );
    if (params.slowStart === 'none') {
      if (allFirstSeconds > 0)
        check(
          'without slow start the new backend takes its full 1/N from the start',
          Math.abs(early - fair) <= 2 / allFirstSeconds + 1e-12,
          `share ${early.toFixed(4)} in the first ${floorMs / 1000} s, 1/N = ${fair.toFixed(4)}`,
        );
      if (coldLatency.count > 0 && warmLatency.count > 0 && params.coldFactor >= 2)
        check(
          "without slow start the cold backend's p99 spikes far above the warm ones'",
          coldP99 > 3 * warmP99,
          `p99 ${coldP99.toFixed(1)} ms on the new backend, ${warmP99.toFixed(1)} ms on the warm ones`,
        );
    } else if (allFirstSeconds > 0) {
      const se = Math.sqrt((earlyExpected * (1 - earlyExpected)) / allFirstSeconds);
      check(
        "the new backend's early share is its floor weight over the sum of weights",
        Math.abs(early - earlyExpected) <= 4 * se + 1 / allFirstSeconds,
        `share ${early.toFixed(4)} in the first ${floorMs / 1000} s, expected ${earlyExpected.toFixed(4)}${params.slowStart === 'envoy' ? ` = ${params.minWeightPercent / 100} / (${n - 1} + ${params.minWeightPercent / 100})` : ''}`,
      );
    }
    const r = (x: number): number => Number(x.toFixed(3));
    return {
      fairShare: fair,
      earlyShare: early,
      earlyExpectedShare: earlyExpected,
      earlyMs: floorMs,
      weightAt3s: weightAt3,
      weightAt15s: weightAt15,
      coldRequests: coldLatency.count,
      coldP99Ms: r(coldP99),
      coldMeanMs: coldLatency.count === 0 ? 0 : r(coldLatency.mean),
      warmP99Ms: r(warmP99),
      ...outcome,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const none = variants.find((v) => v.name === 'no-slow-start')?.outcome;
    if (none === undefined) return [];
    return variants
      .filter((v) => v.name !== 'no-slow-start')
      .map((v) => ({
        name: `${v.name}: slow start lowers the cold backend's p99 in the first window`,
        pass: (v.outcome.coldP99Ms as number) < (none.coldP99Ms as number),
        detail: `p99 ${v.outcome.coldP99Ms} ms with, ${none.coldP99Ms} ms without`,
      }));
  },
});
