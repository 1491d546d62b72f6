import {
  AimdLimit,
  type ConcurrencyLimit,
  ConcurrencyLimiter,
  ConcurrencyLimitProxy,
  FixedLimit,
  Gradient2Limit,
  LimitedCaller,
  openLoop,
  Service,
  VegasLimit,
  WindowedLimit,
} from '@dsim/components';
import {
  erlangB,
  exponential,
  type Gauge,
  LatencyHistogram,
  Network,
  type RandomStream,
  RpcEndpoint,
  scheduleFaults,
} from '@dsim/core';
import { param } from '../params.js';
import { type CheckResult, defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_FACTOR, MAX_MS, MAX_SECONDS, MAX_WORKERS } from './limits.js';

const LIMITS = ['static-high', 'static-low', 'aimd', 'gradient2', 'vegas'] as const;
type LimitKind = (typeof LIMITS)[number];
const ADAPTIVE: readonly LimitKind[] = ['aimd', 'gradient2', 'vegas'];
/** The measured phases, in order; each lasts `phaseSeconds` (the first from a fifth of it, once settled). */
const PHASES = ['base', 'spike', 'after', 'slow'] as const;
type Phase = (typeof PHASES)[number];
/** Checks allow this many standard errors of counting noise. */
const Z = 4;
/** Sampling windows of the windowed limits (the library's smallest allowed, 100 ms). */
const WINDOW = { minWindowTime: 100, maxWindowTime: 100 } as const;

/** The limit algorithm of a variant: library defaults except minLimit 1 (see the docs page). */
function makeLimit(
  kind: LimitKind,
  p: { highLimit: number; lowLimit: number; aimdTimeoutMs: number; gradientTolerance: number },
  rng: () => RandomStream,
): ConcurrencyLimit {
  switch (kind) {
    case 'static-high':
      return new FixedLimit(p.highLimit);
    case 'static-low':
      return new FixedLimit(p.lowLimit);
    case 'aimd':
      return new WindowedLimit(
        new AimdLimit({ initialLimit: 20, minLimit: 1, timeout: p.aimdTimeoutMs }),
        WINDOW,
      );
    case 'gradient2':
      return new Gradient2Limit({ initialLimit: 20, minLimit: 1, rttTolerance: p.gradientTolerance });
    case 'vegas':
      return new WindowedLimit(new VegasLimit({ rng: rng(), initialLimit: 20 }), WINDOW);
  }
}

/** Figures of one phase, by the time requests were sent. */
class PhaseFigures {
  sent = 0;
  ok = 0;
  refused = 0;
  timedOut = 0;
  readonly latency = new LatencyHistogram();
}

/**
 * `adaptive-concurrency`: a concurrency limit in front of a service with `workers` workers and exponential
 * service of mean `serviceMs`, under Poisson load that steps from `baseLoad` × capacity to a `spikeLoad`
 * spike, back, and then meets a downstream slowdown (the service runs `slowdown` times slower at the base
 * load). Variants compare static limits (too high, too low) with Netflix concurrency-limits' adaptive
 * algorithms (windowed AIMD, per-request Gradient2, windowed Vegas), measuring per phase the goodput, the
 * p99 of admitted requests, the share refused, and the limit over time (`limiter.limit` gauge, also a
 * series). With `topology: 'chain'` the service sits behind two thread-per-request tiers A → B and the
 * limit is client-side, in B's calls: it shows where the excess queues or is refused.
 *
 * @example
 * ```ts
 * const r = runScenario(adaptiveConcurrency, { seed: 1, variants: ['static-high', 'gradient2'] });
 * r.variants.map((v) => [v.name, v.outcome.spikeP99Ms, v.outcome.spikeGoodput]);
 * ```
 */
export const adaptiveConcurrency = defineScenario({
  name: 'adaptive-concurrency',
  description:
    'Static vs adaptive concurrency limits (AIMD, Gradient2, Vegas) under a load spike and a slowdown',
  params: {
    workers: param.integer({
      default: 8,
      min: 1,
      max: MAX_WORKERS,
      description: 'workers of the limited service',
    }),
    serviceMs: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean service time (exponential); capacity = workers × 1000 / serviceMs per second',
    }),
    baseLoad: param.number({
      default: 0.6,
      min: 0,
      exclusiveMin: true,
      max: MAX_FACTOR,
      description: 'offered load outside the spike, as a fraction of capacity',
    }),
    spikeLoad: param.number({
      default: 1.5,
      min: 0,
      exclusiveMin: true,
      max: MAX_FACTOR,
      description: 'offered load during the spike, as a fraction of capacity',
    }),
    slowdown: param.number({
      default: 2,
      min: 1,
      max: MAX_FACTOR,
      description: 'factor the service is slowed by in the last phase (a degrade fault)',
    }),
    phaseSeconds: param.number({
      default: 6,
      min: 1,
      max: MAX_SECONDS / 4,
      description: 'length of each phase: base, spike, after, slow',
    }),
    timeoutMs: param.number({ default: 1000, min: 1, max: MAX_MS, description: 'client timeout' }),
    highLimit: param.integer({
      default: 200,
      min: 1,
      max: MAX_WORKERS,
      description: 'the static-high limit',
    }),
    lowLimit: param.integer({ default: 4, min: 1, max: MAX_WORKERS, description: 'the static-low limit' }),
    aimdTimeoutMs: param.number({
      default: 25,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: "AIMD's timeout: a window whose mean RTT exceeds it counts as a drop",
    }),
    gradientTolerance: param.number({
      default: 1.2,
      min: 1,
      max: MAX_FACTOR,
      description:
        "Gradient2's rttTolerance (the library's default 1.5 can run away to maxLimit under sustained overload)",
    }),
    limit: param.enum(LIMITS, {
      default: 'static-high',
      description: 'limit algorithm (each variant sets it)',
    }),
    topology: param.enum(['single', 'chain'], {
      default: 'single',
      description: 'single: clients → limiter → service; chain: clients → A → B → service, limited in B',
    }),
    chainWorkers: param.integer({
      default: 32,
      min: 1,
      max: MAX_WORKERS / 2,
      description: "B's workers in the chain (A has twice as many)",
    }),
  },
  variants: LIMITS.map((limit) => ({ name: limit, params: { limit } })),
  run({ sim, params: p, requests, check }) {
    const mu = (p.workers * 1000) / p.serviceMs;
    const phaseMs = p.phaseSeconds * 1000;
    const baseRate = p.baseLoad * mu;
    const spikeRate = p.spikeLoad * mu;
    limitOffered(
      (baseRate * 3 + spikeRate) * p.phaseSeconds,
      '(3 × baseLoad + spikeLoad) × capacity × phaseSeconds',
    );
    const chain = p.topology === 'chain';
    const net = new Network(sim, chain ? { defaults: { latency: 0.5 } } : {});
    new Service(net.addNode('server'), {
      concurrency: p.workers,
      serviceTime: exponential({ mean: p.serviceMs }),
    });
    const limiter = new ConcurrencyLimiter({ limit: makeLimit(p.limit, p, () => sim.rng('vegas/probe')) });
    let entry: string;
    let limiterNode: string;
    let caller: LimitedCaller | undefined;
    if (!chain) {
      new ConcurrencyLimitProxy(net.addNode('gate'), { upstream: 'server', limiter });
      entry = 'gate';
      limiterNode = 'gate';
    } else {
      // Thread-per-request tiers: each holds a worker while it waits for the next hop.
      new Service(net.addNode('a'), {
        concurrency: 2 * p.chainWorkers,
        serviceTime: 1,
        downstream: { calls: ['b'] },
      });
      new Service(net.addNode('b'), {
        concurrency: p.chainWorkers,
        serviceTime: 1,
        downstream: {
          calls: ['server'],
          client: (endpoint) => (caller = new LimitedCaller(endpoint, { limiter })),
        },
      });
      entry = 'a';
      limiterNode = 'b';
    }
    scheduleFaults(net, [
      { at: 3 * phaseMs, for: phaseMs, fault: { kind: 'degrade', node: 'server', factor: 1 / p.slowdown } },
    ]);

    // Phase figures by send time; gauge integrals read at the phase boundaries.
    const figures = Object.fromEntries(PHASES.map((ph) => [ph, new PhaseFigures()])) as Record<
      Phase,
      PhaseFigures
    >;
    const starts = [0.2 * phaseMs, phaseMs, 2 * phaseMs, 3 * phaseMs];
    const phaseOf = (t: number): Phase | null => {
      if (t < starts[0]!) return null;
      return PHASES[Math.min(3, Math.floor(t / phaseMs))]!;
    };
    const limitGauge: Gauge = sim.metrics.gauge(limiterNode, 'limiter.limit');
    const queueGauge: Gauge = sim.metrics.gauge('server', 'svc.queue');
    const marks: { limit: number; queue: number }[] = [];
    for (const t of [...starts, 4 * phaseMs])
      sim.scheduleAt(t, () => marks.push({ limit: limitGauge.integral(), queue: queueGauge.integral() }));

    const client = new RpcEndpoint(net.addNode('client'));
    openLoop(sim, {
      arrivals: {
        kind: 'steps',
        steps: [
          { at: 0, rate: baseRate },
          { at: phaseMs, rate: spikeRate },
          { at: 2 * phaseMs, rate: baseRate },
        ],
      },
      until: 4 * phaseMs,
      stream: 'adaptive-concurrency/arrivals',
      onArrival: () => {
        const phase = phaseOf(sim.now);
        requests.start();
        const f = phase === null ? null : figures[phase];
        if (f !== null) f.sent++;
        client.callThen(entry, null, { timeout: p.timeoutMs }, (res) => {
          requests.finish(res.ok, res.latency);
          if (f === null) return;
          if (res.ok) {
            f.ok++;
            f.latency.record(res.latency);
          } else if (res.error.kind === 'overloaded' || res.error.kind === 'unavailable') f.refused++;
          else f.timedOut++;
        });
      },
    });
    sim.run();

    // ----- Figures -----
    const spanMs = (i: number) => (i === 0 ? 0.8 * phaseMs : phaseMs);
    const outcome: Record<string, number | string | boolean | null> = {
      capacity: mu,
      slowCapacity: mu / p.slowdown,
    };
    for (const [i, ph] of PHASES.entries()) {
      const f = figures[ph];
      const seconds = spanMs(i) / 1000;
      outcome[`${ph}Offered`] = round(f.sent / seconds);
      outcome[`${ph}Goodput`] = round(f.ok / seconds);
      outcome[`${ph}P99Ms`] = f.latency.count === 0 ? null : round(f.latency.percentile(99));
      outcome[`${ph}RefusedShare`] = round(f.sent === 0 ? 0 : f.refused / f.sent, 4);
      outcome[`${ph}TimedOutShare`] = round(f.sent === 0 ? 0 : f.timedOut / f.sent, 4);
      outcome[`${ph}MeanLimit`] = round((marks[i + 1]!.limit - marks[i]!.limit) / spanMs(i));
      outcome[`${ph}MeanQueue`] = round((marks[i + 1]!.queue - marks[i]!.queue) / spanMs(i));
    }
    outcome.maxQueue = queueGauge.max;
    if (chain) {
      outcome.maxQueueA = sim.metrics.gauge('a', 'svc.queue').max;
      outcome.maxQueueB = sim.metrics.gauge('b', 'svc.queue').max;
      outcome.refusedAtB = caller?.rejected ?? 0;
    }
    const serviceP99 = Math.log(100) * p.serviceMs;
    outcome.serviceP99Ms = round(serviceP99);
    // Theory: the queue a static limit above the workers lets build, and the refusals of one below them.
    const queueDelay = p.highLimit > p.workers ? ((p.highLimit - p.workers) / mu) * 1000 : 0;
    outcome.staticHighQueueDelayMs = round(queueDelay);
    const lowBlocking = erlangB(p.lowLimit, (baseRate * p.serviceMs) / 1000);
    outcome.staticLowErlangB = round(lowBlocking, 4);
    outcome.aimdPredictedLimit = round((mu * p.aimdTimeoutMs) / 1000);

    // ----- Checks -----
    const base = figures.base;
    const spike = figures.spike;
    const spikeP99 = spike.latency.count === 0 ? 0 : spike.latency.percentile(99);
    const overloaded = p.spikeLoad > 1.1;
    if (
      !chain &&
      p.limit === 'static-high' &&
      overloaded &&
      p.highLimit >= 2 * p.workers &&
      queueDelay < p.timeoutMs / 2
    )
      check(
        'a static limit far above the workers lets latency blow up to the queue it admits',
        spikeP99 >= 0.8 * queueDelay,
        `p99 during the spike ${round(spikeP99)} ms; (limit − workers) / capacity = ${round(queueDelay)} ms`,
      );
    if (!chain && p.limit === 'static-low' && p.lowLimit < p.workers && base.sent > 0) {
      const share = base.refused / base.sent;
      const se = Math.sqrt((lowBlocking * (1 - lowBlocking)) / base.sent);
      check(
        'a static limit below the workers refuses what the service could serve: Erlang B at the base load',
        Math.abs(share - lowBlocking) <= Z * se + 0.02,
        `refused ${round(share, 4)} at ${round(baseRate)}/s offered (load ${p.baseLoad}); Erlang B(${p.lowLimit}, ${round((baseRate * p.serviceMs) / 1000, 3)}) = ${round(lowBlocking, 4)}`,
      );
    }
    if (!chain && ADAPTIVE.includes(p.limit) && overloaded) {
      const goodput = spike.ok / (phaseMs / 1000);
      check(
        'adaptive: goodput during the spike stays near capacity',
        goodput >= 0.9 * mu,
        `${round(goodput)}/s against capacity ${round(mu)}/s`,
      );
      check(
        'adaptive: p99 of admitted requests during the spike stays bounded (under 3 × the service time p99)',
        spikeP99 <= 3 * serviceP99,
        `p99 ${round(spikeP99)} ms; the service time alone has p99 ln(100) × ${p.serviceMs} = ${round(serviceP99)} ms`,
      );
    }
    const slow = figures.slow;
    const slowP99 = slow.latency.count === 0 ? 0 : slow.latency.percentile(99);
    const slowMu = mu / p.slowdown;
    const slowOverloaded = p.baseLoad * p.slowdown > 1.1;
    const slowQueueDelay = p.highLimit > p.workers ? ((p.highLimit - p.workers) / slowMu) * 1000 : 0;
    if (
      !chain &&
      p.limit === 'static-high' &&
      slowOverloaded &&
      p.highLimit >= 2 * p.workers &&
      slowQueueDelay < p.timeoutMs / 2
    )
      check(
        'a static limit far above the workers lets a slower service queue up to the limit',
        slowP99 >= 0.8 * slowQueueDelay,
        `p99 during the slowdown ${round(slowP99)} ms; (limit − workers) / slowed capacity = ${round(slowQueueDelay)} ms`,
      );
    if (!chain && ADAPTIVE.includes(p.limit) && slowOverloaded) {
      const goodput = slow.ok / (phaseMs / 1000);
      check(
        'adaptive: during the slowdown goodput stays near the slowed capacity',
        goodput >= 0.85 * slowMu,
        `${round(goodput)}/s against ${round(slowMu)}/s (capacity / ${p.slowdown})`,
      );
      check(
        'adaptive: during the slowdown p99 stays under 3 × the slowed service time p99',
        slowP99 <= 3 * serviceP99 * p.slowdown,
        `p99 ${round(slowP99)} ms; the slowed service time alone has p99 ${round(serviceP99 * p.slowdown)} ms`,
      );
    }
    if (chain && overloaded && p.limit === 'static-high' && p.highLimit >= p.chainWorkers)
      check(
        "chain, static limit above B's workers: nothing is refused, the excess queues at the top tier",
        (caller?.rejected ?? 0) === 0 && (outcome.maxQueueA as number) > 2 * p.chainWorkers,
        `refused at B ${caller?.rejected ?? 0}; A's queue peaked at ${outcome.maxQueueA}, B's at ${outcome.maxQueueB}`,
      );
    if (chain && overloaded && (p.limit === 'aimd' || p.limit === 'vegas')) {
      const goodput = spike.ok / (phaseMs / 1000);
      check(
        'chain, adaptive limit in B: the excess is refused at B, A and B hardly queue, the leaf stays busy',
        (outcome.maxQueueA as number) <= p.chainWorkers && goodput >= 0.9 * mu,
        `A's queue peaked at ${outcome.maxQueueA}, B's at ${outcome.maxQueueB}; ${caller?.rejected ?? 0} refused at B; spike goodput ${round(goodput)}/s of ${round(mu)}/s`,
      );
    }
    if (!chain && p.limit === 'aimd' && overloaded && (mu * p.aimdTimeoutMs) / 1000 > 2 * p.workers) {
      const predicted = (mu * p.aimdTimeoutMs) / 1000;
      const measured = (marks[2]!.limit - marks[1]!.limit) / phaseMs;
      check(
        "AIMD's limit settles where the window's mean RTT reaches its timeout: capacity × timeout (Little)",
        Math.abs(measured - predicted) <= 0.25 * predicted,
        `mean limit ${round(measured)} during the spike; capacity × timeout = ${round(predicted)}`,
      );
    }
    return outcome;
  },
  compare(variants: readonly VariantResult[], params): CheckResult[] {
    const checks: CheckResult[] = [];
    if (params.topology !== 'single' || params.spikeLoad <= 1.1) return checks;
    const by = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const high = by('static-high');
    const low = by('static-low');
    for (const name of ADAPTIVE) {
      const a = by(name);
      if (a === undefined) continue;
      if (high !== undefined && params.highLimit >= 4 * params.workers)
        checks.push({
          name: `${name} keeps the spike's p99 under half the static-high limit's`,
          pass: (a.spikeP99Ms as number) < 0.5 * (high.spikeP99Ms as number),
          detail: `${a.spikeP99Ms} ms against ${high.spikeP99Ms} ms`,
        });
      if (low !== undefined && params.lowLimit <= params.workers / 2)
        checks.push({
          name: `${name} serves more than the static-low limit during the spike`,
          pass: (a.spikeGoodput as number) > 1.5 * (low.spikeGoodput as number),
          detail: `${a.spikeGoodput}/s against ${low.spikeGoodput}/s`,
        });
    }
    return checks;
  },
});

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
