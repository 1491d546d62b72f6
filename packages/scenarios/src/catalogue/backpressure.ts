import { type BufferSpec, backpressureFluid, openLoop, Pipeline } from '@dsim/components';
import { DsimError, exponential } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

const BUFFERS = ['unbounded', 'block', 'drop-newest', 'drop-oldest', 'credit'] as const;
/** Checks allow this many standard errors of counting noise. */
const Z = 4;
/** Conservation and the credit invariant are checked this often (ms). */
const PROBE_MS = 10;

/**
 * `backpressure`: a three-stage pipeline (fast parse, medium enrich with 2 workers, slow store) fed above
 * the last stage's capacity μ. What happens to the excess λ − μ depends on the buffers between stages:
 * unbounded buffers grow at λ − μ items per second (memory and latency without bound); bounded buffers
 * that block propagate the pressure back to the source, which is throttled to μ (a closed-loop producer
 * waits; an open-loop source has a share 1 − μ/λ rejected at the edge); bounded buffers that drop lose a
 * share 1 − μ/λ; credit-based flow control (Reactive Streams `request(n)`) behaves as blocking, with the
 * credits in flight bounding each buffer exactly. Checks against the fluid model
 * ({@link backpressureFluid}) and conservation (produced = completed + dropped + buffered + in service +
 * blocked at every 10 ms).
 *
 * @example
 * ```ts
 * const result = runScenario(backpressure, { seed: 1 });
 * const unbounded = result.variants.find((v) => v.name === 'unbounded')!;
 * unbounded.outcome.growthPerSecond; // ≈ 50 (λ 150 − μ 100)
 * ```
 */
export const backpressure = defineScenario({
  name: 'backpressure',
  description: 'A slow last stage behind unbounded, blocking, dropping and credit-based buffers',
  params: {
    lambda: param.number({
      default: 150,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'open-loop arrivals per second (Poisson)',
    }),
    parseMs: param.number({
      default: 2,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean service time of stage 1 (parse, 1 worker, exponential)',
    }),
    enrichMs: param.number({
      default: 8,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean service time of stage 2 (enrich, exponential)',
    }),
    enrichWorkers: param.integer({ default: 2, min: 1, max: MAX_WORKERS, description: 'workers of stage 2' }),
    storeMs: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean service time of stage 3 (store, 1 worker, exponential): μ = 1000 / storeMs',
    }),
    capacity: param.integer({
      default: 20,
      min: 1,
      max: 1_000_000,
      description: 'bound of each bounded buffer, or credits of each credit buffer',
    }),
    buffer: param.enum(BUFFERS, { default: 'unbounded', description: 'buffer kind (each variant sets it)' }),
    source: param.enum(['open', 'closed'] as const, {
      default: 'open',
      description: 'open-loop Poisson source, or a closed-loop producer that puts as fast as it is let',
    }),
    creditBatch: param.integer({
      default: 1,
      min: 1,
      max: 1_000_000,
      description: 'credit buffers: credits granted back in batches of this many (<= capacity)',
    }),
    creditDelayMs: param.number({
      default: 1,
      min: 0,
      max: MAX_MS,
      description: 'credit buffers: time for a grant to reach the upstream',
    }),
    seconds: param.number({ default: 60, min: 10, max: MAX_SECONDS, description: 'simulated seconds' }),
    warmupSeconds: param.number({
      default: 10,
      min: 0,
      max: MAX_SECONDS,
      description: 'figures are measured from here to the end',
    }),
  },
  variants: [
    {
      name: 'unbounded',
      description: 'unbounded buffers: backlog grows at λ − μ',
      params: { buffer: 'unbounded' },
    },
    {
      name: 'block',
      description: 'bounded, block when full; open-loop source rejected at the edge',
      params: { buffer: 'block' },
    },
    { name: 'drop-newest', params: { buffer: 'drop-newest' } },
    { name: 'drop-oldest', params: { buffer: 'drop-oldest' } },
    { name: 'credit', description: 'credit-based flow control (request(n))', params: { buffer: 'credit' } },
    { name: 'block-closed-loop', params: { buffer: 'block', source: 'closed' } },
    { name: 'credit-closed-loop', params: { buffer: 'credit', source: 'closed' } },
  ],
  run({ sim, params, requests, check }) {
    const { lambda, capacity, buffer, source, seconds } = params;
    const end = seconds * 1000;
    const from = params.warmupSeconds * 1000;
    if (from >= end - 5000)
      throw new DsimError('CONFIG_ERROR', 'parameter warmupSeconds must be at least 5 s below seconds', {
        details: { field: 'warmupSeconds', value: params.warmupSeconds, allowed: `<= ${seconds - 5}` },
      });
    if (source === 'closed' && buffer !== 'block' && buffer !== 'credit')
      throw new DsimError(
        'CONFIG_ERROR',
        `parameter source "closed" needs buffer "block" or "credit": a producer that never waits would put without end at one instant (got buffer "${buffer}")`,
        { details: { field: 'source', value: source, allowed: 'open, or closed with block/credit buffers' } },
      );
    if (buffer === 'credit' && params.creditBatch > capacity)
      throw new DsimError('CONFIG_ERROR', `parameter creditBatch must be <= capacity (${capacity})`, {
        details: { field: 'creditBatch', value: params.creditBatch, allowed: `<= ${capacity}` },
      });
    const stageDefs = [
      { name: 'parse', workers: 1, meanServiceMs: params.parseMs },
      { name: 'enrich', workers: params.enrichWorkers, meanServiceMs: params.enrichMs },
      { name: 'store', workers: 1, meanServiceMs: params.storeMs },
    ];
    const fluid = backpressureFluid(lambda, stageDefs);
    const mu = fluid.capacities[fluid.bottleneck]!;
    // Unbounded buffers hold every item of the run; a closed loop offers about mu per second.
    limitOffered(
      (source === 'open' ? lambda : mu) * seconds,
      source === 'open' ? 'lambda × seconds' : 'mu × seconds',
    );
    const spec: BufferSpec =
      buffer === 'unbounded'
        ? { kind: 'unbounded' }
        : buffer === 'credit'
          ? {
              kind: 'credit',
              credits: capacity,
              batch: params.creditBatch,
              creditDelay: params.creditDelayMs,
            }
          : { kind: 'bounded', capacity, onFull: buffer === 'block' ? 'block' : buffer };
    const pipeline = new Pipeline<number>(sim, {
      name: 'pipeline',
      stages: stageDefs.map((s) => ({
        name: s.name,
        workers: s.workers,
        serviceTime: exponential({ mean: s.meanServiceMs }),
        input: spec,
      })),
      onComplete: (_, latency) => {
        requests.finish(true, latency);
        if (sim.now >= end - 5000) lateLatency.sum += latency;
        if (sim.now >= end - 5000) lateLatency.n++;
      },
      onDrop: () => requests.finish(false, 0),
    });
    const lateLatency = { sum: 0, n: 0 };

    if (source === 'open') {
      openLoop(sim, {
        arrivals: { kind: 'poisson', rate: lambda },
        onArrival: (i) => {
          requests.start();
          if (pipeline.offer(i) === 'rejected') requests.finish(false, 0);
        },
        until: end,
        stream: 'backpressure/arrivals',
      });
    } else {
      sim.process(function* () {
        for (let i = 0; sim.now < end; i++) {
          requests.start();
          yield pipeline.put(i);
        }
      }, 'producer');
    }

    // Conservation, and the credit window, every PROBE_MS.
    let probes = 0;
    let conservationViolations = 0;
    let creditViolations = 0;
    const probe = (): void => {
      probes++;
      const s = pipeline.stats;
      if (s.produced !== s.completed + s.dropped + s.buffered + s.inService + s.blocked)
        conservationViolations++;
      if (buffer === 'credit')
        for (const b of pipeline.buffers) {
          const bs = b.stats;
          if (bs.credits + bs.depth + bs.creditsReturning !== capacity || bs.depth > capacity)
            creditViolations++;
        }
      if (sim.now + PROBE_MS <= end) sim.schedule(PROBE_MS, probe);
    };
    sim.schedule(0, probe);

    interface Reading {
      t: number;
      produced: number;
      completed: number;
      dropped: number;
      rejected: number;
      buffered: number;
      sourceBlockedMs: number;
    }
    const read = (): Reading => {
      const s = pipeline.stats;
      return {
        t: sim.now,
        produced: s.produced,
        completed: s.completed,
        dropped: s.dropped,
        rejected: s.rejected,
        buffered: s.buffered,
        sourceBlockedMs: s.sourceBlockedMs,
      };
    };
    const readings: Reading[] = [];
    sim.scheduleAt(from, () => readings.push(read()));
    sim.run({ until: end });
    readings.push(read());
    const [a, b] = readings as [Reading, Reading];
    const window = (b.t - a.t) / 1000;
    const produced = b.produced - a.produced;
    const offered = produced + (b.rejected - a.rejected);
    const throughput = (b.completed - a.completed) / window;
    const dropShare = produced === 0 ? 0 : (b.dropped - a.dropped) / produced;
    const rejectShare = offered === 0 ? 0 : (b.rejected - a.rejected) / offered;
    const lossShare = buffer === 'drop-newest' || buffer === 'drop-oldest' ? dropShare : rejectShare;
    const growth = (b.buffered - a.buffered) / window;
    const stats = pipeline.stats;
    const depths = pipeline.buffers.map((x) => x.stats);
    const maxDepths = depths.map((d) => d.maxDepth);
    const meanBottleneckDepth = depths[fluid.bottleneck]!.meanDepth;
    const blockedMs = pipeline.stages.map((s) => s.stats.blockedMs);
    const latency = pipeline.latency.summary();
    const overloaded = lambda > mu;
    const thrNoise = (Z * Math.sqrt(mu * window)) / window;

    check(
      'conservation: produced = completed + dropped + buffered + in service + blocked, every 10 ms',
      conservationViolations === 0 && probes > 0,
      `${conservationViolations} violations in ${probes} probes; at the end ${stats.produced} = ${stats.completed} + ${stats.dropped} + ${stats.buffered} + ${stats.inService} + ${stats.blocked}`,
    );
    if (overloaded) {
      check(
        'throughput ≈ μ of the bottleneck (fluid model)',
        Math.abs(throughput - fluid.throughput) <= thrNoise + 0.02 * fluid.throughput,
        `${throughput.toFixed(1)}/s, fluid ${fluid.throughput.toFixed(1)}/s (±${(thrNoise + 0.02 * fluid.throughput).toFixed(1)})`,
      );
    }
    if (buffer === 'unbounded' && overloaded) {
      // Backlog = arrivals − departures over the window: Var ≈ (λ + μ) × window (Poisson arrivals, and an
      // always-busy exponential server departs as a Poisson process).
      const tol = (Z * Math.sqrt((lambda + mu) * window)) / window;
      check(
        'buffered items grow at λ − μ (fluid model)',
        Math.abs(growth - fluid.totalGrowthPerSecond) <= tol,
        `${growth.toFixed(1)} items/s, fluid ${fluid.totalGrowthPerSecond.toFixed(1)} (±${tol.toFixed(1)}); ${b.buffered} buffered at the end`,
      );
      // An item arriving at t waits Q(t)/μ = (λ − μ)t/μ and completes at tλ/μ: at completion time s its
      // latency is (1 − μ/λ)s. Completions in the last 5 s: s ≈ end − 2.5 s.
      const theoryLate = (1 - mu / lambda) * (end - 2500);
      const lateMean = lateLatency.n === 0 ? Number.NaN : lateLatency.sum / lateLatency.n;
      check(
        'latency grows without bound: at completion time s it is (1 − μ/λ)s (fluid model, ±15%)',
        Math.abs(lateMean - theoryLate) <= 0.15 * theoryLate,
        `mean latency of the last 5 s ${(lateMean / 1000).toFixed(2)} s, fluid ${(theoryLate / 1000).toFixed(2)} s`,
      );
    }
    if (buffer !== 'unbounded') {
      check(
        'no buffer ever exceeds its bound (memory ≤ 3 × capacity)',
        maxDepths.every((d) => d <= capacity),
        `max depths ${maxDepths.join(', ')}, bound ${capacity}`,
      );
      if (overloaded)
        check(
          'the bottleneck buffer stays near its bound (≥ 80% on average)',
          meanBottleneckDepth >= 0.8 * capacity,
          `mean depth ${meanBottleneckDepth.toFixed(1)} of ${capacity}`,
        );
    }
    if (buffer === 'credit')
      check(
        'credits held + buffered + returning = credits, every 10 ms (the window bounds the buffer exactly)',
        creditViolations === 0,
        `${creditViolations} violations`,
      );
    if (source === 'open' && buffer !== 'unbounded' && overloaded) {
      // loss = 1 − throughput/λ: its error is that of the two counts.
      const tol = (Z * Math.sqrt(mu * window + lambda * window)) / (lambda * window) + 0.01;
      const what = buffer === 'drop-newest' || buffer === 'drop-oldest' ? 'dropped' : 'rejected at the edge';
      check(
        `share ${what} ≈ 1 − μ/λ (fluid model)`,
        Math.abs(lossShare - fluid.lossShare) <= tol,
        `${lossShare.toFixed(4)}, fluid ${fluid.lossShare.toFixed(4)} (±${tol.toFixed(4)})`,
      );
    }
    if (source === 'closed') {
      check(
        'a closed-loop producer loses nothing: it is throttled, and waits most of the time',
        stats.dropped === 0 &&
          stats.rejected === 0 &&
          (b.sourceBlockedMs - a.sourceBlockedMs) / (window * 1000) > 0.9,
        `dropped ${stats.dropped}, rejected ${stats.rejected}, producer waiting ${((100 * (b.sourceBlockedMs - a.sourceBlockedMs)) / (window * 1000)).toFixed(1)}% of the time`,
      );
    }
    return {
      mu,
      fluidThroughput: fluid.throughput,
      throughput,
      fluidGrowthPerSecond: fluid.totalGrowthPerSecond,
      growthPerSecond: growth,
      fluidLossShare: fluid.lossShare,
      dropShare,
      rejectShare,
      bufferedAtEnd: stats.buffered,
      maxBuffered: sim.metrics.gauge('pipeline', 'pipeline.buffered').max,
      meanBuffered: sim.metrics.gauge('pipeline', 'pipeline.buffered').mean(),
      maxDepths: maxDepths.join(' '),
      meanBottleneckDepth,
      blockedSecondsParse: blockedMs[0]! / 1000,
      blockedSecondsEnrich: blockedMs[1]! / 1000,
      sourceBlockedShare: (b.sourceBlockedMs - a.sourceBlockedMs) / (window * 1000),
      latencyP50Ms: latency.count === 0 ? null : latency.p50,
      latencyP99Ms: latency.count === 0 ? null : latency.p99,
      latencyMaxMs: latency.count === 0 ? null : latency.max,
      conservationViolations,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const unbounded = variants.find((v) => v.name === 'unbounded');
    if (unbounded === undefined || (unbounded.outcome.fluidGrowthPerSecond as number) <= 0) return [];
    const out = [];
    for (const v of variants) {
      if (v.name === 'unbounded') continue;
      out.push({
        name: `${v.name} bounds memory and latency where unbounded does not`,
        pass:
          (v.outcome.maxBuffered as number) * 10 < (unbounded.outcome.maxBuffered as number) &&
          (v.outcome.latencyP99Ms as number) * 10 < (unbounded.outcome.latencyP99Ms as number),
        detail: `max buffered ${v.outcome.maxBuffered} vs ${unbounded.outcome.maxBuffered}; p99 ${(v.outcome.latencyP99Ms as number).toFixed(0)} ms vs ${(unbounded.outcome.latencyP99Ms as number).toFixed(0)} ms`,
      });
    }
    return out;
  },
});
