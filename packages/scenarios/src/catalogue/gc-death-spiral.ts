import { loadSlowdown, Service, type Shedding } from '@dsim/components';
import { exponential, Network, RpcEndpoint, scheduleFaults } from '@dsim/core';
import { param } from '../params.js';
import { meanRate, recoveryAfter } from '../recovery.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import {
  limitOffered,
  MAX_FACTOR,
  MAX_MS,
  MAX_OFFERED,
  MAX_RATE,
  MAX_SECONDS,
  MAX_WORKERS,
} from './limits.js';

const PROTECTIONS = ['none', 'bounded-queue', 'codel'] as const;

/** The trigger (spike or pause) starts here (ms). */
const TRIGGER_AT = 10_000;

/**
 * What {@link gcTippingPoint} needs: the server and its memory-pressure curve.
 *
 * @example
 * ```ts
 * const m: GcModel = { lambda: 280, workers: 16, serviceMs: 40, threshold: 80, perUnit: 0.005, maxSlowdown: 20 };
 * ```
 */
export interface GcModel {
  /** Arrivals per second. */
  lambda: number;
  /** Workers (threads). */
  workers: number;
  /** Mean service time per request in ms, before any slowdown. */
  serviceMs: number;
  /** Requests held in memory (in service plus queued) before the slowdown starts. */
  threshold: number;
  /** Slowdown per request held beyond the threshold: `1 + perUnit·(n − threshold)`. */
  perUnit: number;
  /** Cap on the slowdown. */
  maxSlowdown: number;
}

/**
 * The analytic picture of {@link gcTippingPoint}.
 *
 * @example
 * ```ts
 * const { mu, nStar, spiralCapacity } = gcTippingPoint(m); // 400, 165.7, 20
 * ```
 */
export interface GcTippingPoint {
  /** Nominal capacity μ = workers / serviceMs, per second. */
  mu: number;
  /**
   * Requests held (n*) at which the effective capacity μ / slowdown(n*) falls to λ. Below it the backlog
   * drains, above it the backlog grows: the unstable equilibrium between the two stable states. 0 when
   * λ ≥ μ (overloaded even without pressure); null when even the capped slowdown leaves μ / max ≥ λ (no
   * spiral).
   */
  nStar: number | null;
  /** Effective capacity per second at the slowdown cap, μ / maxSlowdown: the throughput of the spiral. */
  spiralCapacity: number;
}

/**
 * Effective capacity of the server holding `n` requests: `min(n, c)/c · μ / slowdown(n)` per second.
 *
 * @example
 * ```ts
 * const m = { lambda: 280, workers: 16, serviceMs: 40, threshold: 80, perUnit: 0.005, maxSlowdown: 20 };
 * effectiveCapacity(m, 120); // 333.3 per second: 400 / 1.2
 * ```
 */
export function effectiveCapacity(m: GcModel, n: number): number {
  const mu = (m.workers * 1000) / m.serviceMs;
  const slowdown = Math.min(m.maxSlowdown, 1 + m.perUnit * Math.max(0, n - m.threshold));
  return ((Math.min(n, m.workers) / m.workers) * mu) / slowdown;
}

/**
 * The tipping point of a GC death spiral with a linear slowdown `1 + k(n − n₀)` above `n₀` requests held
 * and all `c` workers busy: μ / (1 + k(n* − n₀)) = λ gives **n* = n₀ + (μ/λ − 1)/k** (never below c).
 *
 * @example
 * ```ts
 * const m = { lambda: 280, workers: 16, serviceMs: 40, threshold: 80, perUnit: 0.005, maxSlowdown: 20 };
 * gcTippingPoint(m).nStar; // 165.7 = 80 + (400/280 - 1) / 0.005
 * ```
 */
export function gcTippingPoint(m: GcModel): GcTippingPoint {
  const mu = (m.workers * 1000) / m.serviceMs;
  const spiralCapacity = mu / m.maxSlowdown;
  if (m.lambda >= mu) return { mu, nStar: 0, spiralCapacity };
  if (spiralCapacity >= m.lambda || m.perUnit === 0) return { mu, nStar: null, spiralCapacity };
  const nStar = Math.max(m.workers, m.threshold + (mu / m.lambda - 1) / m.perUnit);
  return { mu, nStar, spiralCapacity };
}

/**
 * Fluid-model estimate of the shortest load spike (extra `spikeRate` per second on top of λ) that pushes
 * the backlog from its usual level (λ/μ · c held) past n*: the integral of dn / (λ + spike − μ_eff(n)).
 * Null when the spike never gets there (the server outruns it somewhere below n*).
 *
 * @example
 * ```ts
 * const m = { lambda: 280, workers: 16, serviceMs: 40, threshold: 80, perUnit: 0.005, maxSlowdown: 20 };
 * criticalSpikeMs(m, 280); // ~809 ms: doubling the load for longer than that tips the server
 * ```
 */
export function criticalSpikeMs(m: GcModel, spikeRate: number): number | null {
  const { mu, nStar } = gcTippingPoint(m);
  if (nStar === null) return null;
  const start = Math.min((m.lambda / mu) * m.workers, nStar);
  const steps = 2000;
  const dn = (nStar - start) / steps;
  let seconds = 0;
  for (let i = 0; i < steps; i++) {
    const growth = m.lambda + spikeRate - effectiveCapacity(m, start + (i + 0.5) * dn);
    if (growth <= 0) return null;
    seconds += dn / growth;
  }
  return seconds * 1000;
}

/**
 * `gc-death-spiral`: a metastable failure sustained by **capacity degradation** (Huang et al., OSDI '22,
 * the GC_Metastability artifact; Brooker's stability-sim "GC Pressure Death Spiral"). A JVM-like server
 * (`workers` threads, exponential service of mean `serviceMs`) slows down with the requests it holds in
 * memory: each sampled service time is multiplied by `1 + perUnit·(n − threshold)` for n requests held
 * (in service plus queued) above `threshold`, capped at `maxSlowdown` (more live objects, more GC work).
 * Its effective capacity μ/slowdown(n) falls as the backlog grows, and crosses λ at the tipping point
 * n* = threshold + (μ/λ − 1)/perUnit. A backlog below n* drains; above it, it grows for ever: the server
 * is bistable. A trigger at t = 10 s (a load spike of `spikeRate` extra requests per second for
 * `spikeMs`, or a stop-the-world pause of `pauseMs`) can push it over, and it stays down after the trigger
 * has gone.
 *
 * Variants: `no-protection` (unbounded FIFO queue: spirals), `bounded-queue` (at most `queueCapacity`
 * waiting, so at most `workers + queueCapacity` < n* held: recovers), `codel` (Facebook's CoDel sheds
 * requests from a standing queue: recovers), `lower-load` (λ = 160/s: n* is higher and the spike does not
 * reach it).
 *
 * @example
 * ```ts
 * const r = runScenario(gcDeathSpiral, { seed: 1, variants: ['no-protection', 'bounded-queue'] });
 * r.variants.map((v) => v.outcome.recovered); // [false, true]
 * r.outcome.nStar; // 165.7
 * ```
 */
export const gcDeathSpiral = defineScenario({
  name: 'gc-death-spiral',
  description: 'Load-dependent latency (GC pressure) tips a server into a spiral that outlives the trigger',
  params: {
    lambda: param.number({
      default: 280,
      min: 0,
      max: MAX_RATE,
      exclusiveMin: true,
      description: 'requests per second (Poisson)',
    }),
    workers: param.integer({ default: 16, min: 1, max: MAX_WORKERS, description: 'server threads (c)' }),
    serviceMs: param.number({
      default: 40,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: 'mean service time without memory pressure (exponential); mu = workers / serviceMs',
    }),
    threshold: param.number({
      default: 80,
      min: 0,
      max: MAX_OFFERED,
      description: 'requests held (in service + queued) before GC pressure slows the server',
    }),
    perUnit: param.number({
      default: 0.005,
      min: 0,
      max: MAX_FACTOR,
      description: 'slowdown per request held beyond the threshold (0.005: 0.5% slower each)',
    }),
    maxSlowdown: param.number({
      default: 20,
      min: 1,
      max: MAX_FACTOR,
      description: 'cap on the slowdown factor',
    }),
    timeoutMs: param.number({ default: 1000, min: 1, max: MAX_MS, description: 'client timeout' }),
    spikeRate: param.number({
      default: 280,
      min: 0,
      max: MAX_RATE,
      description: 'extra requests per second during the spike (from t = 10 s)',
    }),
    spikeMs: param.number({
      default: 2000,
      min: 0,
      max: MAX_MS,
      description: 'how long the spike lasts (0: no spike)',
    }),
    pauseMs: param.number({
      default: 0,
      min: 0,
      max: MAX_MS,
      description: 'stop-the-world pause of the server at t = 10 s (0: none); another trigger',
    }),
    protection: param.enum(PROTECTIONS, {
      default: 'none',
      description: 'overload protection (each variant sets it)',
    }),
    queueCapacity: param.integer({
      default: 100,
      min: 0,
      max: MAX_OFFERED,
      description: 'queue slots for protection=bounded-queue (keep workers + slots below n*)',
    }),
    codelTargetMs: param.number({
      default: 5,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: 'CoDel target for protection=codel (interval 100 ms)',
    }),
    seconds: param.number({
      default: 60,
      min: 20,
      max: MAX_SECONDS,
      description: 'simulated seconds of arrivals',
    }),
  },
  variants: [
    { name: 'no-protection', description: 'unbounded FIFO queue', params: { protection: 'none' } },
    {
      name: 'bounded-queue',
      description: 'reject beyond queueCapacity waiting',
      params: { protection: 'bounded-queue' },
    },
    { name: 'codel', description: 'CoDel sheds a standing queue', params: { protection: 'codel' } },
    {
      name: 'lower-load',
      description: 'no protection at lambda = 160/s',
      params: { protection: 'none', lambda: 160 },
    },
  ],
  run({ sim, params, requests, check }) {
    // A spiralling server holds every request it is sent.
    limitOffered(
      params.lambda * params.seconds +
        (params.spikeRate * Math.min(params.spikeMs, params.seconds * 1000)) / 1000,
      'lambda × seconds + spikeRate × spikeMs / 1000',
    );
    const model: GcModel = {
      lambda: params.lambda,
      workers: params.workers,
      serviceMs: params.serviceMs,
      threshold: params.threshold,
      perUnit: params.perUnit,
      maxSlowdown: params.maxSlowdown,
    };
    const { mu, nStar } = gcTippingPoint(model);
    const net = new Network(sim);
    const shedding: Shedding | undefined =
      params.protection === 'codel'
        ? { kind: 'codel', target: params.codelTargetMs, interval: Math.max(100, 2 * params.codelTargetMs) }
        : undefined;
    const server = new Service(net.addNode('server'), {
      concurrency: params.workers,
      serviceTime: exponential({ mean: params.serviceMs }),
      slowdown: loadSlowdown({
        on: 'inFlight',
        threshold: params.threshold,
        perUnit: params.perUnit,
        max: params.maxSlowdown,
      }),
      ...(params.protection === 'bounded-queue' ? { queueCapacity: params.queueCapacity } : {}),
      ...(shedding !== undefined ? { shedding } : {}),
    });
    const client = new RpcEndpoint(net.addNode('client'));
    if (params.pauseMs > 0) {
      scheduleFaults(net, [
        { at: TRIGGER_AT, for: params.pauseMs, fault: { kind: 'pause', node: 'server' } },
      ]);
    }
    const triggerEnd = TRIGGER_AT + Math.max(params.pauseMs, params.spikeRate > 0 ? params.spikeMs : 0);
    const seconds = Math.floor(params.seconds);
    const endMs = params.seconds * 1000;
    const okPerSecond = new Array<number>(seconds + 1).fill(0);
    const offeredPerSecond = new Array<number>(seconds + 1).fill(0);
    const bucket = (t: number): number => Math.min(seconds, Math.floor(t / 1000));

    const send = (): void => {
      const started = sim.now;
      requests.start();
      offeredPerSecond[bucket(started)]!++;
      client.call('server', 'q', { timeout: params.timeoutMs }).onProcessed((e) => {
        const ok = e.value!.ok;
        if (ok) okPerSecond[bucket(started)]!++;
        requests.finish(ok, sim.now - started);
      });
    };
    const base = exponential({ rate: params.lambda / 1000 });
    const rng = sim.rng('gc/arrivals');
    sim.process(function* () {
      yield sim.timeout(base.sample(rng));
      while (sim.now < endMs) {
        send();
        yield sim.timeout(base.sample(rng));
      }
    });
    if (params.spikeRate > 0 && params.spikeMs > 0) {
      const extra = exponential({ rate: params.spikeRate / 1000 });
      const spikeRng = sim.rng('gc/spike');
      sim.process(function* () {
        yield sim.timeout(TRIGGER_AT + extra.sample(spikeRng));
        while (sim.now < TRIGGER_AT + params.spikeMs) {
          send();
          yield sim.timeout(extra.sample(spikeRng));
        }
      });
    }
    // Requests held by the server (in service plus queued), sampled every 50 ms.
    let maxInFlight = 0;
    let inFlightAtTriggerEnd = 0;
    let inFlightAtEnd = 0;
    sim.process(function* () {
      while (sim.now < endMs) {
        const held = server.busy + server.queueLength;
        if (held > maxInFlight) maxInFlight = held;
        if (sim.now <= triggerEnd) inFlightAtTriggerEnd = held;
        inFlightAtEnd = held;
        yield sim.timeout(50);
      }
    });
    // Every client request ends by its timeout: stop there, with whatever the server still holds.
    sim.run({ until: endMs + params.timeoutMs + 1 });

    const end = Math.ceil(triggerEnd / 1000);
    const tail = Math.max(end + 1, seconds - 20);
    const goodputAfter = meanRate(okPerSecond, tail, seconds);
    // Recovered: the last 20 s answer at least 90% of what was offered in them (comparing with the
    // offered load, not with lambda, keeps the criterion free of the arrival process's own noise).
    const recovered = goodputAfter >= 0.9 * meanRate(offeredPerSecond, tail, seconds);
    const recoveryMs = recoveryAfter({
      ok: okPerSecond,
      offered: offeredPerSecond,
      triggerEndMs: triggerEnd,
      seconds,
    });
    const spike = params.spikeRate > 0 && params.spikeMs > 0;
    const critical = spike ? criticalSpikeMs(model, params.spikeRate) : null;
    // A pause queues λ·pause arrivals on top of the λ/μ·c requests in service.
    const pauseBacklog = (params.lambda * params.pauseMs) / 1000 + (params.lambda / mu) * params.workers;
    if (params.protection === 'none' && nStar !== null && nStar > 0) {
      // The analytic boundary decides; the checks leave a 40% margin either side for the noise near n*.
      let side: 'below' | 'above' | null = null;
      let trigger = 'no trigger';
      if (spike && params.pauseMs === 0) {
        trigger = `spike ${params.spikeMs} ms (fluid critical ${critical === null ? 'none' : Math.round(critical)} ms)`;
        if (critical === null || params.spikeMs < 0.6 * critical) side = 'below';
        else if (params.spikeMs > 1.4 * critical) side = 'above';
      } else if (!spike && params.pauseMs > 0) {
        trigger = `pause ${params.pauseMs} ms (backlog ~${Math.round(pauseBacklog)})`;
        if (pauseBacklog < 0.6 * nStar) side = 'below';
        else if (pauseBacklog > 1.4 * nStar) side = 'above';
      } else if (!spike) side = 'below';
      const detail = `${trigger}; n* ${nStar.toFixed(1)}, in flight at the end of the trigger ${inFlightAtTriggerEnd}, at the end ${inFlightAtEnd}; goodput after ${goodputAfter.toFixed(1)}/s`;
      if (side === 'below')
        check('a trigger that leaves the backlog below n* does no lasting damage', recovered, detail);
      if (side === 'above')
        check(
          'a trigger that pushes the backlog past n* spirals and stays down',
          !recovered && inFlightAtEnd > 2 * nStar,
          detail,
        );
    }
    if (params.protection === 'bounded-queue') {
      const cap = params.workers + params.queueCapacity;
      check(
        'a bounded queue holds at most workers + queueCapacity',
        maxInFlight <= cap,
        `max in flight ${maxInFlight}, cap ${cap}`,
      );
      if (nStar !== null && cap < nStar)
        check(
          'a cap below n* recovers',
          recovered,
          `cap ${cap} < n* ${nStar.toFixed(1)}; goodput after ${goodputAfter.toFixed(1)}/s`,
        );
    }
    if (params.protection === 'codel') {
      check(
        'CoDel keeps the queue short and recovers',
        recovered && (nStar === null || maxInFlight < nStar),
        `max in flight ${maxInFlight} (n* ${nStar === null ? 'none' : nStar.toFixed(1)}), goodput after ${goodputAfter.toFixed(1)}/s`,
      );
    }
    return {
      mu,
      nStar,
      criticalSpikeMs: critical,
      goodputBefore: meanRate(okPerSecond, 2, 10),
      goodputDuring: meanRate(okPerSecond, 10, Math.max(11, end)),
      goodputAfter,
      maxInFlight,
      inFlightAtTriggerEnd,
      inFlightAtEnd,
      recovered,
      recoveryMs,
      shed:
        sim.metrics.counter('server', 'svc.shed').value + sim.metrics.counter('server', 'svc.rejected').value,
      lateResponses: client.stats.late,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const checks = [];
    const none = variants.find((v) => v.name === 'no-protection');
    for (const name of ['bounded-queue', 'codel', 'lower-load']) {
      const v = variants.find((x) => x.name === name);
      if (none === undefined || v === undefined || none.outcome.recovered !== false) continue;
      checks.push({
        name: `${name} recovers where no-protection spirals`,
        pass: v.outcome.recovered === true,
        detail: `goodput after: no-protection ${none.outcome.goodputAfter}/s, ${name} ${v.outcome.goodputAfter}/s`,
      });
    }
    return checks;
  },
});
