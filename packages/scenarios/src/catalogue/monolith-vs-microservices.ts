import { openLoop, RetryingClient, Service } from '@dsim/components';
import {
  constant,
  type Distribution,
  DsimError,
  exponential,
  mmcQueue,
  Network,
  RpcEndpoint,
  type RpcErrorKind,
  serialAvailability,
} from '@dsim/core';
import { BatchMeans } from '../batch-means.js';
import { param } from '../params.js';
import { type CheckResult, defineScenario, type VariantResult } from '../scenario.js';
import {
  crashLoop,
  FallbackRoute,
  fmt,
  MAX_CRASH_CYCLES,
  MeteredWork,
  samplePercentile,
  sumOf,
} from './decomposition-parts.js';
import {
  meanUpMs,
  mgcMeanWait,
  mmcP99StandardError,
  processAvailability,
  replicasForP99,
  requestAvailability,
  timeAvailabilityVariance,
} from './decomposition-theory.js';
import { limitOffered, MAX_FACTOR, MAX_MS, MAX_RATE, MAX_SECONDS } from './limits.js';

/**
 * One capability of the checkout flow: its CPU per checkout and the memory it holds in a process.
 *
 * @example
 * ```ts
 * const auth: CheckoutModule = { name: 'auth', workMs: 1, memoryMb: 100, critical: true };
 * ```
 */
export interface CheckoutModule {
  /** The module in the monolith, the service in the microservices. */
  readonly name: string;
  /** Mean CPU per checkout (ms, exponential). */
  readonly workMs: number;
  /** Memory it holds (heap, caches, a model), MB, in every process that loads it. */
  readonly memoryMb: number;
  /** A checkout fails without it; a non-critical one (recommendations) has a fallback. */
  readonly critical: boolean;
}

/**
 * The checkout flow, in call order: 15 ms of CPU in all. Memory is what a process loading the module
 * holds on top of its runtime: recommendations keeps a model in memory, pricing and inventory caches.
 *
 * @example
 * ```ts
 * CHECKOUT_MODULES.reduce((s, m) => s + m.workMs, 0); // 15
 * ```
 */
export const CHECKOUT_MODULES: readonly CheckoutModule[] = Object.freeze([
  { name: 'auth', workMs: 1, memoryMb: 100, critical: true },
  { name: 'cart', workMs: 2, memoryMb: 200, critical: true },
  { name: 'pricing', workMs: 2, memoryMb: 300, critical: true },
  { name: 'inventory', workMs: 2, memoryMb: 300, critical: true },
  { name: 'payment', workMs: 3, memoryMb: 100, critical: true },
  { name: 'order', workMs: 3, memoryMb: 200, critical: true },
  { name: 'recommendations', workMs: 2, memoryMb: 1000, critical: false },
]);

const MODULE_NAMES = CHECKOUT_MODULES.map((m) => m.name) as [string, ...string[]];
/** The non-critical module, called last with a fallback, and the one that leaks in the leak variants. */
const RECS = 'recommendations';
/** The orchestrating service of the microservices (in the monolith, a function). */
const CHECKOUT = 'checkout';
const MONOLITH = 'monolith';
/** Threads of the checkout service: it waits on its calls (thread-per-request), so threads are not its cores. */
const CHECKOUT_THREADS = 10_000;
/** Standard errors allowed between a measured figure and its theory. */
const Z = 4;
/** Batches for the batch-means standard errors. */
const BATCHES = 20;
/**
 * Share of the predicted queueing wait allowed as error in the mean latency: Allen–Cunneen's M/G/c
 * wait is exact for one server (Pollaczek–Khinchine) and within a few percent for more at these loads.
 */
const WAIT_ALLOWANCE = 0.25;
/** Most checkouts one variant may offer; each is some 25 events in the microservices. */
const MAX_CHECKOUTS = 400_000;

const NO_RECOMMENDATIONS: readonly string[] = Object.freeze([]);

/** A deployable as sized and built: one node, `replicas` single-core workers sharing one queue. */
interface Deployable {
  readonly name: string;
  /** Modules it runs (the checkout service runs none: it orchestrates). */
  readonly modules: readonly string[];
  readonly cpu: MeteredWork | null;
  readonly meanMs: number;
  readonly variance: number;
  readonly replicas: number;
  readonly memoryMb: number;
  /** Its p99 objective (ms), or null when it is not sized by queueing (the checkout service's threads). */
  readonly objectiveMs: number | null;
}

/**
 * `monolith-vs-microservices`: one checkout flow (auth, cart, pricing, inventory, payment, order write,
 * recommendations: 15 ms of CPU) built as a monolith (one deployable, in-process calls, one failure
 * domain) and as microservices (a checkout service calling one service per capability, in sequence, over
 * the network: a hop and serialization per call; independent replica sets and failure domains;
 * recommendations has a fallback). Every deployable is sized by the same M/M/c rule; latency,
 * availability and cost are measured under normal load with crashes, under a hotspot (pricing's CPU per
 * checkout triples, no crashes) and with a leaking recommendations module, and checked against queueing
 * theory and the availability formulas. Sources: Fowler, "Microservice Trade-Offs" (2015); Newman,
 * *Building Microservices*, 2nd ed. (2021), ch. 1 and 12; Treynor et al., "The Calculus of Service
 * Availability", ACM Queue 15(2), 2017 (dependencies in series multiply).
 */
export const monolithVsMicroservices = defineScenario({
  name: 'monolith-vs-microservices',
  description:
    'One checkout flow as a monolith and as microservices: latency, availability and cost, under a hotspot and a leaking module',
  params: {
    architecture: param.enum(['monolith', 'microservices'], {
      default: 'monolith',
      description: 'one deployable with in-process calls, or a service per capability (each variant sets it)',
    }),
    rate: param.number({
      default: 40,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'checkouts per second (Poisson)',
    }),
    seconds: param.number({
      default: 400,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds of arrivals',
    }),
    hotspot: param.number({
      default: 1,
      min: 1,
      max: MAX_FACTOR,
      description: "factor on the hot module's CPU per checkout (its load), 1: none",
    }),
    hotModule: param.enum(MODULE_NAMES, {
      default: 'pricing',
      description: 'the module whose load the hotspot multiplies',
    }),
    mttfMs: param.number({
      default: 10_000,
      min: 0,
      max: MAX_MS,
      description:
        'mean time between crashes of each deployable (exponential; a compressed time scale), 0: no crashes',
    }),
    mttrMs: param.number({
      default: 125,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean time to restart a crashed deployable (exponential)',
    }),
    failureModel: param.enum(['per-deployable', 'per-module'], {
      default: 'per-deployable',
      description:
        "per-deployable: every process crashes at 1/mttf (platform, deploys); per-module: each module's code does, so the monolith crashes 8× as often",
    }),
    leakMs: param.number({
      default: 0,
      min: 0,
      max: MAX_MS,
      description:
        'recommendations leaks memory and is OOM-killed this long after each start (its whole process), 0: no leak',
    }),
    hopMs: param.number({
      default: 0.5,
      min: 0,
      max: MAX_MS,
      description: 'network round trip of one call (links are half of it each way)',
    }),
    serdesMs: param.number({
      default: 0.1,
      min: 0,
      max: MAX_MS,
      description: 'CPU to encode or decode one message (each call costs four: two at each end)',
    }),
    callTimeoutMs: param.number({
      default: 100,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: "the checkout service's timeout on each critical call",
    }),
    recsTimeoutMs: param.number({
      default: 20,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'timeout on the recommendations call, after which the fallback answers',
    }),
    clientTimeoutMs: param.number({
      default: 1000,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: "the users' timeout on a checkout",
    }),
    p99Factor: param.number({
      default: 6,
      min: 4.7,
      max: 1000,
      description:
        "sizing objective: each deployable's p99 (queue + CPU) at most this × its mean CPU (an exponential's own p99 is 4.6×)",
    }),
    runtimeMb: param.number({
      default: 250,
      min: 0,
      max: 1_000_000,
      description: 'memory of one process before any module (runtime, framework)',
    }),
    replicaOffset: param.integer({
      default: 0,
      min: -100,
      max: 100,
      description: 'replicas added to every sized count (negative: fewer, to see the objective missed)',
    }),
  },
  variants: [
    {
      name: 'monolith',
      description: 'normal load, every deployable crashes now and then: one failure domain',
      params: { architecture: 'monolith' as const },
    },
    {
      name: 'microservices',
      description: 'normal load, the same crashes per deployable: seven in series',
      params: { architecture: 'microservices' as const },
    },
    {
      name: 'monolith-hotspot',
      description: "pricing's CPU per checkout triples at 400 checkouts/s: scale the whole monolith",
      params: { architecture: 'monolith' as const, hotspot: 3, rate: 400, seconds: 20, mttfMs: 0 },
    },
    {
      name: 'microservices-hotspot',
      description: 'the same hotspot: scale pricing alone',
      params: { architecture: 'microservices' as const, hotspot: 3, rate: 400, seconds: 20, mttfMs: 0 },
    },
    {
      name: 'monolith-leak',
      description: 'recommendations leaks and is OOM-killed every 0.5 s: the whole process with it',
      params: { architecture: 'monolith' as const, leakMs: 500 },
    },
    {
      name: 'microservices-leak',
      description: 'the same leak in the recommendations service: checkouts fall back to no recommendations',
      params: { architecture: 'microservices' as const, leakMs: 500 },
    },
  ],
  run({ sim, params, requests, check }) {
    const p = params;
    const micro = p.architecture === 'microservices';
    const endMs = p.seconds * 1000;
    limitOffered(p.rate * p.seconds, 'rate × seconds', MAX_CHECKOUTS, 'checkouts');
    const lambda = p.rate / 1000;
    const work = (m: CheckoutModule, hot: number): number =>
      m.name === p.hotModule ? m.workMs * hot : m.workMs;

    // Sizing: the same rule for every deployable, at this load, and without the hotspot (the "before");
    // `replicaOffset` shifts every count, and the theory follows the counts run.
    const sizing = (hot: number): Deployable[] =>
      plan(p, work, hot, micro).map((d) => {
        const replicas = d.replicas + p.replicaOffset;
        if (replicas < 1)
          throw new DsimError(
            'CONFIG_ERROR',
            `parameter replicaOffset ${p.replicaOffset} leaves ${d.name} with ${replicas} replicas (sized ${d.replicas}); at least 1 must remain`,
            { details: { field: 'replicaOffset', value: p.replicaOffset, allowed: `>= ${1 - d.replicas}` } },
          );
        return { ...d, replicas };
      });
    const before = sizing(1);
    const deployables = sizing(p.hotspot);

    const net = new Network(sim, { defaults: { latency: constant(p.hopMs / 2) } });
    net.addNode('users');
    const fellBack: number[] = [];
    let crashes = 0;
    const onCrash = (): void => {
      crashes++;
    };
    const modulesPerMonolith = CHECKOUT_MODULES.length + 1; // every module and the checkout flow
    // Every process crashes at 1/mttf; with per-module failures the monolith at one per module and flow.
    const processMttf = !micro && p.failureModel === 'per-module' ? p.mttfMs / modulesPerMonolith : p.mttfMs;
    const leakOf = (d: Deployable): number => (d.modules.includes(RECS) ? p.leakMs : 0);
    // Crash loops run to the end of the run: bound their cycles as requests are bounded.
    limitOffered(
      deployables.reduce((sum, d) => {
        const up = meanUpMs(processMttf, leakOf(d));
        return up === Number.POSITIVE_INFINITY ? sum : sum + (endMs + p.clientTimeoutMs) / (up + p.mttrMs);
      }, 0),
      'deployables × (seconds + clientTimeoutMs) / (mean up time + mttrMs)',
      MAX_CRASH_CYCLES,
      'crash cycles',
    );

    for (const d of deployables) {
      const node = net.addNode(d.name);
      if (d.name === CHECKOUT) {
        const calls = CHECKOUT_MODULES.map((m) => ({
          to: m.name,
          timeout: m.critical ? p.callTimeoutMs : p.recsTimeoutMs,
        }));
        new Service(node, {
          concurrency: CHECKOUT_THREADS,
          serviceTime: d.cpu!,
          downstream: {
            calls,
            mode: 'sequential',
            client: (endpoint) =>
              new FallbackRoute(
                endpoint,
                RECS,
                new RetryingClient(endpoint, {
                  name: `${CHECKOUT}->${RECS}`,
                  fallback: () => NO_RECOMMENDATIONS,
                }),
                (parent) => {
                  fellBack[parent.payload as number] = 1;
                },
              ),
          },
        });
      } else new Service(node, { concurrency: d.replicas, serviceTime: d.cpu! });
      crashLoop(sim, net, d.name, { mttfMs: processMttf, leakMs: leakOf(d), mttrMs: p.mttrMs }, onCrash);
    }

    // Users: Poisson checkouts, each with a timeout; outcome per arrival for the batch means.
    const client = RpcEndpoint.of(net.node('users'));
    const entry = micro ? CHECKOUT : MONOLITH;
    const answered: number[] = [];
    const okLatency: number[] = [];
    const failures: Partial<Record<RpcErrorKind, number>> = {};
    let ok = 0;
    let degraded = 0;
    openLoop(sim, {
      arrivals: { kind: 'poisson', rate: p.rate },
      until: endMs,
      stream: 'users/arrivals',
      onArrival: (i) => {
        answered.push(-1);
        fellBack.push(0);
        requests.start();
        const t0 = sim.now;
        client.callThen(entry, i, { timeout: p.clientTimeoutMs }, (res) => {
          const t = sim.now - t0;
          requests.finish(res.ok, t);
          answered[i] = res.ok ? 1 : 0;
          if (res.ok) {
            ok++;
            okLatency.push(t);
            if (fellBack[i] === 1) degraded++;
          } else failures[res.error.kind] = (failures[res.error.kind] ?? 0) + 1;
        });
      },
    });
    // Crash loops run for ever: stop once every checkout has had its answer or its timeout.
    sim.run({ until: endMs + p.clientTimeoutMs + 1 });

    const checkouts = answered.length;
    const unanswered = answered.filter((a) => a === -1).length;
    check(
      'every checkout is answered once: ok + failed = started',
      unanswered === 0 &&
        checkouts > 0 &&
        ok + Object.values(failures).reduce((a, b) => a + b, 0) === checkouts,
      `${checkouts} started, ${ok} ok, failures ${JSON.stringify(failures)}, ${unanswered} unanswered`,
    );

    // Latency: the sum of the work, the hops and the serialization, plus each deployable's queueing;
    // a checkout whose recommendations call finds it down (or loses it to a crash) waits for the timeout.
    const recs = deployables.find((d) => d.name === RECS);
    const theory = latencyTheory(p, deployables, lambda, micro, (insideMs) =>
      recs === undefined ? 0 : 1 - requestAvailability(processMttf, leakOf(recs), p.mttrMs, insideMs),
    );
    const lat = new BatchMeans(okLatency.length, BATCHES);
    for (const t of okLatency) lat.add(t);
    const tolerance = Z * lat.standardError + WAIT_ALLOWANCE * theory.waitMs + 0.01;
    check(
      `mean latency = ${micro ? 'hops + serialization + Σ (work + queueing)' : 'one hop + Σ work + queueing'} (Allen–Cunneen; within ${Z} SE + ${WAIT_ALLOWANCE * 100}% of the wait)`,
      Math.abs(lat.mean - theory.meanMs) <= tolerance,
      `measured ${fmt(lat.mean)} ms, theory ${fmt(theory.meanMs)} ms (floor ${fmt(theory.floorMs)} with no queueing, waits ${fmt(theory.waitMs)}${theory.fallbackMs > 0 ? `, recommendations timeouts ${fmt(theory.fallbackMs)}` : ''}); tolerance ${fmt(tolerance)}`,
    );

    // Availability: per request, the product over the deployables on the critical path of the share
    // each serves: up when called, and not crashing while the request is inside.
    const critical = deployables.filter((d) => !micro || d.name !== RECS);
    const parts = critical.map((d) =>
      requestAvailability(processMttf, leakOf(d), p.mttrMs, theory.insideMs.get(d.name)!),
    );
    const availabilityTheory = serialAvailability(parts);
    // The textbook figure: time up only, as if requests took no time.
    const availabilityTimeTheory = serialAvailability(
      critical.map((d) => processAvailability(processMttf, leakOf(d), p.mttrMs)),
    );
    const avail = new BatchMeans(checkouts, BATCHES);
    for (const a of answered) avail.add(a === 1 ? 1 : 0);
    // The batch-means SE runs low in a run that drew few crashes; the renewal theory's is the floor.
    const relVar = critical.reduce((sum, d) => {
      const a = processAvailability(processMttf, leakOf(d), p.mttrMs);
      return sum + timeAvailabilityVariance(processMttf, leakOf(d), p.mttrMs, endMs) / (a * a);
    }, 0);
    const availSe = Math.max(
      avail.standardError,
      Math.sqrt(
        availabilityTheory * availabilityTheory * relVar +
          (availabilityTheory * (1 - availabilityTheory)) / checkouts,
      ),
    );
    const availabilityFormula = `serialAvailability([${parts.map((a) => fmt(a, 5)).join(', ')}])`;
    if (p.mttfMs === 0 && p.leakMs === 0)
      check('with no crashes every checkout succeeds', ok === checkouts, `${ok} of ${checkouts} ok`);
    else
      check(
        `availability = the product over the ${critical.length} deployable${critical.length === 1 ? '' : 's'} on the critical path of the share each serves (within ${Z} SE)`,
        Math.abs(avail.mean - availabilityTheory) <= Z * availSe,
        `measured ${fmt(avail.mean, 5)} ± ${fmt(availSe, 5)} (SE), ${availabilityFormula} = ${fmt(availabilityTheory, 5)}: ${fmt((avail.mean - availabilityTheory) / availSe, 2)} SE; time up alone ${fmt(availabilityTimeTheory, 5)}`,
      );

    // Degraded checkouts: the recommendations call fell back, as often as it found recommendations down.
    let degradedShare: number | null = null;
    let degradedSe: number | null = null;
    if (micro) {
      const share = new BatchMeans(ok, BATCHES);
      for (let i = 0; i < checkouts; i++) if (answered[i] === 1) share.add(fellBack[i]!);
      degradedShare = share.mean;
      // Floors as above: the renewal theory's SE of recommendations' down time, and the binomial one
      // (rare fallbacks, from slow answers alone, leave batches empty).
      const recsVar =
        recs === undefined ? 0 : timeAvailabilityVariance(processMttf, leakOf(recs), p.mttrMs, endMs);
      const se = Math.max(
        share.standardError,
        Math.sqrt(recsVar + (theory.recsDown * (1 - theory.recsDown)) / ok),
      );
      degradedSe = se;
      check(
        `checkouts served without recommendations (the fallback) as often as recommendations is down or slower than its timeout (within ${Z} SE)`,
        Math.abs(share.mean - theory.recsDown) <= Z * se + 1 / ok,
        `${degraded} of ${ok} ok checkouts (${fmt(share.mean, 5)} ± ${fmt(se, 5)}), theory ${fmt(theory.recsDown, 5)}: down, cut off or slower than ${p.recsTimeoutMs} ms`,
      );
    }

    // Sizing, confirmed: each sized deployable's p99 (queue + CPU, at the server) within its objective,
    // allowing for the sampling error of a p99 (its SE from the M/M/c density at the objective).
    let worst = 0;
    let worstName = '';
    let allMet = true;
    const p99s: string[] = [];
    for (const d of deployables) {
      if (d.objectiveMs === null) continue;
      const h = sim.metrics.histogram(d.name, 'svc.latency');
      const p99 = h.percentile(99);
      const ratio = p99 / d.objectiveMs;
      const se = mmcP99StandardError(d.replicas, lambda, d.meanMs, d.objectiveMs, h.count);
      if (p99 > d.objectiveMs + Z * se) allMet = false;
      p99s.push(`${d.name} ${fmt(p99, 1)}/${fmt(d.objectiveMs, 1)}`);
      if (!(ratio <= worst)) {
        worst = ratio;
        worstName = d.name;
      }
    }
    check(
      `every deployable meets its p99 objective (${p.p99Factor} × its mean CPU) with the M/M/c replica count (within ${Z} SE of a sample p99)`,
      allMet,
      `p99/objective ms: ${p99s.join(', ')}; worst ${worstName} at ${fmt(worst, 2)}`,
    );

    // CPU per checkout: serialization is the microservices' tax. Checked without crashes (cut work).
    const cpuMs = deployables.reduce((sum, d) => sum + d.cpu!.totalMs, 0);
    const cpuPerCheckout = cpuMs / checkouts;
    const cpuTheory = deployables.reduce((sum, d) => sum + d.meanMs, 0);
    const cpuSe = Math.sqrt(deployables.reduce((sum, d) => sum + d.variance, 0) / checkouts);
    if (p.mttfMs === 0 && p.leakMs === 0)
      check(
        `CPU per checkout = Σ work + ${micro ? 4 * CHECKOUT_MODULES.length + 2 : 2} encodes and decodes (within ${Z} SE)`,
        Math.abs(cpuPerCheckout - cpuTheory) <= Z * cpuSe + 1e-9,
        `${fmt(cpuPerCheckout)} ms, theory ${fmt(cpuTheory)} ms`,
      );

    const cores = (ds: readonly Deployable[]): number => ds.reduce((sum, d) => sum + d.replicas, 0);
    const memoryGb = (ds: readonly Deployable[]): number =>
      ds.reduce((sum, d) => sum + d.replicas * d.memoryMb, 0) / 1024;
    const replicas: Record<string, number> = {};
    for (const d of deployables) replicas[`replicas.${d.name}`] = d.replicas;
    const added = deployables
      .map((d, i) => [d.name, d.replicas - before[i]!.replicas] as const)
      .filter(([, n]) => n !== 0)
      .map(([name, n]) => `${name} +${n}`)
      .join(', ');
    const hot = deployables.find((d) => d.modules.includes(p.hotModule))!;

    return {
      architecture: p.architecture,
      deployables: deployables.length,
      checkouts,
      ok,
      availability: avail.mean,
      availabilitySe: availSe,
      availabilityTheory,
      availabilityTimeTheory,
      availabilityZ: availSe > 0 ? (avail.mean - availabilityTheory) / availSe : null,
      degradedShare,
      degradedSe,
      degradedTheory: micro ? theory.recsDown : null,
      meanMs: lat.mean,
      meanSe: lat.standardError,
      meanTheoryMs: theory.meanMs,
      floorMs: theory.floorMs,
      p50Ms: requests.latency.count === 0 ? null : samplePercentile(okLatency, 0.5),
      p99Ms: requests.latency.count === 0 ? null : samplePercentile(okLatency, 0.99),
      cores: cores(deployables),
      memoryGb: memoryGb(deployables),
      coresBefore: cores(before),
      memoryBeforeGb: memoryGb(before),
      addedReplicas: added === '' ? 'none' : added,
      cpuPerCheckoutMs: cpuPerCheckout,
      cpuTheoryMs: cpuTheory,
      busyCores: cpuMs / (endMs + p.clientTimeoutMs),
      hotDeployable: hot.name,
      hotP99Ms: sim.metrics.histogram(hot.name, 'svc.latency').percentile(99),
      hotObjectiveMs: hot.objectiveMs,
      worstObjectiveRatio: worst,
      ...replicas,
      crashes,
    };
  },
  compare(variants, params) {
    return compareArchitectures(variants, params.failureModel);
  },
});

/** The deployables of one architecture, sized by {@link replicasForP99} at the load with `hot`. */
function plan(
  p: { rate: number; serdesMs: number; p99Factor: number; runtimeMb: number },
  work: (m: CheckoutModule, hot: number) => number,
  hot: number,
  micro: boolean,
): Deployable[] {
  const s = p.serdesMs;
  const exp = (mean: number): Distribution => exponential({ mean });
  if (!micro) {
    // One process: decode the checkout, run every module in process, encode the answer.
    const cpu = sumOf([constant(2 * s), ...CHECKOUT_MODULES.map((m) => exp(work(m, hot)))]);
    const meanMs = cpu.mean!;
    return [
      {
        name: MONOLITH,
        modules: MODULE_NAMES,
        cpu: new MeteredWork(cpu),
        meanMs,
        variance: cpu.variance!,
        replicas: replicasForP99(p.rate, meanMs, p.p99Factor),
        memoryMb: p.runtimeMb + CHECKOUT_MODULES.reduce((sum, m) => sum + m.memoryMb, 0),
        objectiveMs: p.p99Factor * meanMs,
      },
    ];
  }
  // The checkout service decodes the checkout and encodes its answer, and encodes each call and decodes
  // its answer; each service decodes its call and encodes its answer.
  const orchestration = 2 * s + CHECKOUT_MODULES.length * 2 * s;
  const out: Deployable[] = [
    {
      name: CHECKOUT,
      modules: [],
      cpu: new MeteredWork(constant(orchestration)),
      meanMs: orchestration,
      variance: 0,
      replicas: orchestration > 0 ? replicasForP99(p.rate, orchestration, p.p99Factor) : 1,
      memoryMb: p.runtimeMb,
      objectiveMs: null,
    },
  ];
  for (const m of CHECKOUT_MODULES) {
    const cpu = sumOf([constant(2 * s), exp(work(m, hot))]);
    out.push({
      name: m.name,
      modules: [m.name],
      cpu: new MeteredWork(cpu),
      meanMs: cpu.mean!,
      variance: cpu.variance!,
      replicas: replicasForP99(p.rate, cpu.mean!, p.p99Factor),
      memoryMb: p.runtimeMb + m.memoryMb,
      objectiveMs: p.p99Factor * cpu.mean!,
    });
  }
  return out;
}

/** What the latency theory gives: the mean, its parts, and the time a checkout spends in each deployable. */
interface LatencyTheory {
  readonly meanMs: number;
  /** Work, hops and serialization: the mean with no queueing and no fallback. */
  readonly floorMs: number;
  readonly waitMs: number;
  /** Mean time added by recommendations calls that time out. */
  readonly fallbackMs: number;
  /** Share of checkouts whose recommendations call falls back. */
  readonly recsDown: number;
  /** Mean time a checkout spends inside each deployable (for the crashes that cut it off). */
  readonly insideMs: ReadonlyMap<string, number>;
}

/**
 * Mean end-to-end latency of an ok checkout: hops, work and serialization, queueing (Allen–Cunneen),
 * and the recommendations timeouts; `recsDown(insideMs)` is the share of recommendations calls that
 * fail, given the time such a call spends inside the service.
 */
function latencyTheory(
  p: { hopMs: number; recsTimeoutMs: number },
  deployables: readonly Deployable[],
  lambda: number,
  micro: boolean,
  recsDown: (insideMs: number) => number,
): LatencyTheory {
  let floor = p.hopMs; // the users' call
  let wait = 0;
  const inside = new Map<string, number>();
  for (const d of deployables) {
    floor += d.meanMs;
    if (micro && d.name !== CHECKOUT) floor += p.hopMs;
    // The checkout service's threads wait on calls; its own CPU is too small to queue for (its cores are
    // sized, its threads are not).
    if (d.objectiveMs === null) continue;
    const w = mgcMeanWait(d.replicas, lambda, d.meanMs, d.variance);
    wait += w;
    inside.set(d.name, w + d.meanMs);
  }
  // A checkout that calls recommendations while it is down waits for the timeout instead of its answer.
  const insideRecs = inside.get(RECS) ?? 0;
  // It also falls back when recommendations answers later than the timeout: the M/M/c response tail
  // (its service time varies less than an exponential's, so this is an upper bound).
  const recs = deployables.find((d) => d.name === RECS);
  const slow =
    recs === undefined
      ? 0
      : (mmcQueue({
          servers: recs.replicas,
          arrivalRate: lambda,
          serviceRate: 1 / recs.meanMs,
        })?.responseExceeds(Math.max(0, p.recsTimeoutMs - p.hopMs)) ?? 1);
  const down = micro ? 1 - (1 - recsDown(insideRecs)) * (1 - slow) : 0;
  const fallback = down * (p.recsTimeoutMs - (p.hopMs + insideRecs));
  const mean = floor + wait + fallback;
  // The checkout service holds a checkout from its arrival to its answer.
  if (micro) inside.set(CHECKOUT, mean - p.hopMs);
  return {
    meanMs: mean,
    floorMs: floor,
    waitMs: wait,
    fallbackMs: fallback,
    recsDown: down,
    insideMs: inside,
  };
}

/** Across the pairs of variants: who wins what, both ways. */
function compareArchitectures(
  variants: readonly VariantResult[],
  failureModel: 'per-deployable' | 'per-module',
): CheckResult[] {
  const checks: CheckResult[] = [];
  const by = (name: string) => variants.find((v) => v.name === name)?.outcome;
  const n = (o: Record<string, unknown>, key: string): number => o[key] as number;
  const pair = (suffix: string) => {
    const mono = by(`monolith${suffix}`);
    const micro = by(`microservices${suffix}`);
    return mono !== undefined && micro !== undefined ? { mono, micro } : undefined;
  };
  const gap = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    Math.hypot(n(a, 'availabilitySe'), n(b, 'availabilitySe'));

  const normal = pair('');
  if (normal !== undefined) {
    const { mono, micro } = normal;
    checks.push({
      name: 'normal load: the monolith is faster, mean and p99 (no hops, no serialization)',
      pass: n(mono, 'meanMs') < n(micro, 'meanMs') && n(mono, 'p99Ms') < n(micro, 'p99Ms'),
      detail: `mean ${fmt(n(mono, 'meanMs'))} against ${fmt(n(micro, 'meanMs'))} ms, p99 ${fmt(n(mono, 'p99Ms'))} against ${fmt(n(micro, 'p99Ms'))} ms`,
    });
    const diff = n(mono, 'availability') - n(micro, 'availability');
    const diffTheory = n(mono, 'availabilityTheory') - n(micro, 'availabilityTheory');
    const agrees = Math.abs(diff - diffTheory) <= Z * gap(mono, micro);
    // Without crashes both are always up: nothing to compare.
    if (n(mono, 'crashes') + n(micro, 'crashes') > 0)
      checks.push(
        failureModel === 'per-deployable'
          ? {
              name: 'normal load: the monolith is more available (one deployable, against seven in series), by the formulas’ margin',
              pass: diff > 0 && agrees,
              detail: `${fmt(n(mono, 'availability'), 5)} against ${fmt(n(micro, 'availability'), 5)}: ${fmt(diff, 4)} apart, theory ${fmt(diffTheory, 4)}`,
            }
          : {
              name: "normal load, crashes from each module's code: the monolith's edge is gone (the formulas' margin, within 4 SE)",
              pass: agrees,
              detail: `${fmt(n(mono, 'availability'), 5)} against ${fmt(n(micro, 'availability'), 5)}: ${fmt(diff, 4)} apart, theory ${fmt(diffTheory, 4)}: the monolith crashes for any of its 8 parts, the fallback absorbs recommendations'`,
            },
      );
    checks.push({
      name: 'normal load: the microservices cost more cores and more CPU per checkout (a replica per deployable, serialization)',
      pass:
        n(micro, 'cores') > n(mono, 'cores') && n(micro, 'cpuPerCheckoutMs') > n(mono, 'cpuPerCheckoutMs'),
      detail: `${n(micro, 'cores')} cores against ${n(mono, 'cores')}; ${fmt(n(micro, 'cpuPerCheckoutMs'))} ms of CPU per checkout against ${fmt(n(mono, 'cpuPerCheckoutMs'))}`,
    });
  }

  const hot = pair('-hotspot');
  if (hot !== undefined) {
    const { mono, micro } = hot;
    const hotName = micro.hotDeployable as string;
    const microAdded = micro.addedReplicas as string;
    checks.push({
      name: 'hotspot: the microservices scale the hot service alone',
      pass: microAdded !== 'none' && microAdded.split(', ').every((a) => a.startsWith(`${hotName} +`)),
      detail: `microservices added ${microAdded}; the monolith added ${mono.addedReplicas} (each a copy of every module)`,
    });
    const monoMem = n(mono, 'memoryGb') - n(mono, 'memoryBeforeGb');
    const microMem = n(micro, 'memoryGb') - n(micro, 'memoryBeforeGb');
    checks.push({
      name: 'hotspot: the monolith adds more memory for it (every module in every added replica)',
      pass: monoMem > microMem,
      detail: `+${fmt(monoMem, 2)} GB against +${fmt(microMem, 2)} GB`,
    });
    checks.push({
      name: 'hotspot, the other way: the monolith still needs fewer cores in all (one large pool, no serialization)',
      pass: n(mono, 'cores') < n(micro, 'cores'),
      detail: `${n(mono, 'cores')} cores (${fmt(n(mono, 'memoryGb'), 1)} GB) against ${n(micro, 'cores')} (${fmt(n(micro, 'memoryGb'), 1)} GB)`,
    });
  }

  const leak = pair('-leak');
  if (leak !== undefined) {
    const { mono, micro } = leak;
    checks.push({
      name: 'leaking module: the fallback keeps microservice checkouts up; the monolith goes down with it',
      pass:
        n(micro, 'availability') > n(mono, 'availability') &&
        Math.abs(
          n(micro, 'availability') -
            n(mono, 'availability') -
            (n(micro, 'availabilityTheory') - n(mono, 'availabilityTheory')),
        ) <=
          Z * gap(mono, micro),
      detail: `${fmt(n(micro, 'availability'), 5)} against ${fmt(n(mono, 'availability'), 5)} (theory ${fmt(n(micro, 'availabilityTheory'), 5)} and ${fmt(n(mono, 'availabilityTheory'), 5)})`,
    });
    if (failureModel === 'per-deployable') {
      // The same crash causes hit the monolith and the recommendations service: the down time the one
      // loses, the other serves degraded; the monolith also loses the checkouts in flight at its crashes.
      const lost = 1 - n(mono, 'availability');
      const deg = n(micro, 'degradedShare');
      const expected = 1 - n(mono, 'availabilityTheory') - n(micro, 'degradedTheory');
      checks.push({
        name: 'leaking module: the checkouts the monolith loses, the microservices serve without recommendations',
        pass:
          Math.abs(lost - deg - expected) <=
          Z * Math.hypot(n(mono, 'availabilitySe'), n(micro, 'degradedSe')),
        detail: `monolith lost ${fmt(lost, 4)}, microservices degraded ${fmt(deg, 4)}: ${fmt(lost - deg, 4)} apart, theory ${fmt(expected, 4)} (the checkouts in flight when the monolith crashes)`,
      });
    }
  }
  return checks;
}
