import { openLoop, Service } from '@dsim/components';
import {
  constant,
  type Distribution,
  exponential,
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
  fmt,
  MAX_CRASH_CYCLES,
  MeteredWork,
  samplePercentile,
  sumOf,
} from './decomposition-parts.js';
import {
  mmcP99StandardError,
  processAvailability,
  replicasForP99,
  requestAvailability,
  timeAvailabilityVariance,
} from './decomposition-theory.js';
import { LatencyGrid } from './latency-grid.js';
import { limitOffered, MAX_FACTOR, MAX_MS, MAX_RATE, MAX_SECONDS } from './limits.js';

/**
 * One capability of placing an order: its CPU per call and the bounded context it belongs to.
 *
 * @example
 * ```ts
 * const tax: OrderCapability = { name: 'tax', workMs: 1, context: 'pricing' };
 * ```
 */
export interface OrderCapability {
  /** Its service in the fine-grained design. */
  readonly name: string;
  /** Mean CPU per call (ms, exponential). */
  readonly workMs: number;
  /**
   * Its bounded context in the coarse design: `ordering` is the order service itself (the data is
   * owned there: a local read), the others one service each.
   */
  readonly context: 'ordering' | 'pricing' | 'inventory';
}

/**
 * Placing an order, capability by capability, in the fine-grained call order; the order service's own
 * work is {@link ORDER_WORK_MS} on top.
 *
 * @example
 * ```ts
 * ORDER_CAPABILITIES.filter((c) => c.context === 'pricing').map((c) => c.name); // ['price', 'tax']
 * ```
 */
export const ORDER_CAPABILITIES: readonly OrderCapability[] = Object.freeze([
  { name: 'customer', workMs: 1, context: 'ordering' },
  { name: 'address', workMs: 1, context: 'ordering' },
  { name: 'price', workMs: 1.5, context: 'pricing' },
  { name: 'tax', workMs: 1, context: 'pricing' },
  { name: 'stock', workMs: 1.5, context: 'inventory' },
]);

/**
 * The order service's own mean CPU per order (ms, exponential): validation and the order write.
 *
 * @example
 * ```ts
 * ORDER_WORK_MS + ORDER_CAPABILITIES.reduce((s, c) => s + c.workMs, 0); // 7 ms of work an order
 * ```
 */
export const ORDER_WORK_MS = 1;

const ORDER = 'order';
/** Threads of the order service: it waits on its calls (thread-per-request), so threads are not cores. */
const ORDER_THREADS = 10_000;
/** Standard errors allowed between a measured figure and its theory. */
const Z = 4;
const BATCHES = 20;
/** Share of the predicted waits allowed as error in a mean (Allen–Cunneen is exact for one server). */
const WAIT_ALLOWANCE = 0.25;
/** Share of a theory p99 allowed as model error: the waits' tails are exponential approximations. */
const P99_ALLOWANCE = 0.05;
/** Grid step of the latency distributions, ms. */
const DT = 0.05;
/** Most orders plus price checks one variant may offer. */
const MAX_REQUESTS = 600_000;

/** A deployable: one node, `replicas` single-core workers sharing a queue (or threads, for `order`). */
interface Deployable {
  readonly name: string;
  /** Capabilities it runs. */
  readonly capabilities: readonly string[];
  readonly cpu: MeteredWork;
  /** Its sojourn for a call, as theory sees it (queue + CPU); null for the order service. */
  sojourn: LatencyGrid | null;
  /** Arrivals per ms. */
  readonly rate: number;
  readonly replicas: number;
  readonly objectiveMs: number | null;
}

/**
 * `service-boundaries`: placing an order under two decompositions. Fine-grained: the order service calls
 * customer, address, price, tax and stock services one after the other (five calls in sequence).
 * Coarse-grained, along bounded contexts: the order service owns customer and address data (a local
 * read) and calls a pricing service (price and tax) and an inventory service (stock) in parallel; each
 * coarse answer carries a larger payload. A second flow, price checks from product pages, needs the price
 * alone: the fine-grained price service answers it, the coarse pricing service computes tax too.
 * Latency (mean and p99 against the distribution of the sum or the maximum of the calls), availability
 * (the product over the critical path) and CPU are measured with crashes, and with a slow tax. Sources:
 * Evans, *Domain-Driven Design* (2003), bounded contexts; Newman, *Building Microservices*, 2nd ed.
 * (2021), ch. 2; Dean and Barroso, "The Tail at Scale", CACM 56(2), 2013; Treynor et al., "The Calculus
 * of Service Availability", ACM Queue 15(2), 2017.
 */
export const serviceBoundaries = defineScenario({
  name: 'service-boundaries',
  description:
    'Chatty fine-grained boundaries against coarse bounded contexts: hops in sequence, parallel calls, availability, and a slow internal part',
  params: {
    boundaries: param.enum(['fine', 'coarse'], {
      default: 'fine',
      description:
        'a service per capability called in sequence, or bounded contexts called in parallel (each variant sets it)',
    }),
    orderRate: param.number({
      default: 50,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'orders per second (Poisson)',
    }),
    priceCheckRate: param.number({
      default: 100,
      min: 0,
      max: MAX_RATE,
      description: 'price checks per second from product pages (Poisson), 0: none',
    }),
    seconds: param.number({
      default: 300,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds of arrivals',
    }),
    taxSlowdown: param.number({
      default: 1,
      min: 1,
      max: MAX_FACTOR,
      description: "factor on tax's CPU per call (an incident: replicas stay as planned), 1: none",
    }),
    payloadFactor: param.number({
      default: 3,
      min: 0,
      max: 1000,
      description:
        "size of a coarse service's answer (an aggregate) in fine-grained answers: its serialization cost",
    }),
    mttfMs: param.number({
      default: 10_000,
      min: 0,
      max: MAX_MS,
      description:
        'mean time between crashes of each deployable (exponential; a compressed time scale), 0: none',
    }),
    mttrMs: param.number({
      default: 125,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean time to restart a crashed deployable (exponential)',
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
      description: 'CPU to encode or decode one fine-grained message',
    }),
    callTimeoutMs: param.number({
      default: 100,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: "the order service's timeout on each call",
    }),
    clientTimeoutMs: param.number({
      default: 1000,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: "callers' timeout on an order or a price check",
    }),
    p99Factor: param.number({
      default: 6,
      min: 4.7,
      max: 1000,
      description:
        "sizing objective: each service's p99 (queue + CPU) at most this × its mean CPU (an exponential's own p99 is 4.6×)",
    }),
  },
  variants: [
    {
      name: 'fine',
      description: 'five services called in sequence; crashes now and then',
      params: { boundaries: 'fine' as const },
    },
    {
      name: 'coarse',
      description: 'two bounded contexts called in parallel, customer data owned locally; the same crashes',
      params: { boundaries: 'coarse' as const },
    },
    {
      name: 'fine-slow-tax',
      description: "tax's CPU × 5, no crashes: orders slow down, price checks do not",
      params: { boundaries: 'fine' as const, taxSlowdown: 5, mttfMs: 0, seconds: 60 },
    },
    {
      name: 'coarse-slow-tax',
      description: 'the same: tax inside the pricing service slows every price check too',
      params: { boundaries: 'coarse' as const, taxSlowdown: 5, mttfMs: 0, seconds: 60 },
    },
  ],
  run({ sim, params: p, requests, check }) {
    const fine = p.boundaries === 'fine';
    const endMs = p.seconds * 1000;
    limitOffered(
      (p.orderRate + p.priceCheckRate) * p.seconds,
      '(orderRate + priceCheckRate) × seconds',
      MAX_REQUESTS,
    );
    const s = p.serdesMs;
    const answerSerdes = fine ? s : s * p.payloadFactor;
    const work = (c: OrderCapability, slow: number): number =>
      c.name === 'tax' ? c.workMs * slow : c.workMs;
    const exps = (names: readonly string[], slow: number): Distribution[] =>
      ORDER_CAPABILITIES.filter((c) => names.includes(c.name)).map((c) =>
        exponential({ mean: work(c, slow) }),
      );

    // The services behind the order service, and who calls them: in order of the calls.
    const remote = fine
      ? ORDER_CAPABILITIES.map((c) => ({ name: c.name, capabilities: [c.name] }))
      : [
          { name: 'pricing', capabilities: ['price', 'tax'] },
          { name: 'inventory', capabilities: ['stock'] },
        ];
    const checkTarget = fine ? 'price' : 'pricing';
    const local = fine ? [] : ORDER_CAPABILITIES.filter((c) => c.context === 'ordering').map((c) => c.name);
    // A call costs the callee a decode and an encode, and the caller the same.
    const perCall = s + answerSerdes;
    const orderConst = 2 * s + remote.length * perCall;
    const orderCpu = sumOf([
      constant(orderConst),
      exponential({ mean: ORDER_WORK_MS }),
      ...exps(local, p.taxSlowdown),
    ]);

    // Sizing at the planned load (no slowdown): the same M/M/c rule as monolith-vs-microservices.
    const rateOf = (name: string): number =>
      (p.orderRate + (name === checkTarget ? p.priceCheckRate : 0)) / 1000;
    const deployables: Deployable[] = [
      {
        name: ORDER,
        capabilities: local,
        cpu: new MeteredWork(orderCpu),
        sojourn: null,
        rate: p.orderRate / 1000,
        replicas: replicasForP99(
          p.orderRate,
          sumOf([constant(orderConst), exponential({ mean: ORDER_WORK_MS }), ...exps(local, 1)]).mean!,
          p.p99Factor,
        ),
        objectiveMs: null,
      },
    ];
    for (const r of remote) {
      const cpu = sumOf([constant(perCall), ...exps(r.capabilities, p.taxSlowdown)]);
      const planned = sumOf([constant(perCall), ...exps(r.capabilities, 1)]).mean!;
      const rate = rateOf(r.name);
      const replicas = replicasForP99(rate * 1000, planned, p.p99Factor);
      const wait = LatencyGrid.mgcWait(replicas, rate, cpu.mean!, cpu.variance!, DT);
      let sojourn: LatencyGrid | null = null;
      if (wait !== null) {
        sojourn = wait.plus(LatencyGrid.constant(perCall, DT));
        for (const c of r.capabilities)
          sojourn = sojourn.plus(
            LatencyGrid.exponential(work(ORDER_CAPABILITIES.find((x) => x.name === c)!, p.taxSlowdown), DT),
          );
      }
      deployables.push({
        name: r.name,
        capabilities: r.capabilities,
        cpu: new MeteredWork(cpu),
        sojourn,
        rate,
        replicas,
        objectiveMs: p.p99Factor * planned,
      });
    }

    const net = new Network(sim, { defaults: { latency: constant(p.hopMs / 2) } });
    net.addNode('users');
    net.addNode('shoppers');
    if (p.mttfMs > 0)
      limitOffered(
        (deployables.length * (endMs + p.clientTimeoutMs)) / (p.mttfMs + p.mttrMs),
        'deployables × (seconds + clientTimeoutMs) / (mttfMs + mttrMs)',
        MAX_CRASH_CYCLES,
        'crash cycles',
      );
    let crashes = 0;
    for (const d of deployables) {
      const node = net.addNode(d.name);
      if (d.name === ORDER)
        new Service(node, {
          concurrency: ORDER_THREADS,
          serviceTime: d.cpu,
          downstream: {
            calls: remote.map((r) => r.name),
            mode: fine ? 'sequential' : 'parallel',
            timeout: p.callTimeoutMs,
          },
        });
      else new Service(node, { concurrency: d.replicas, serviceTime: d.cpu });
      crashLoop(sim, net, d.name, { mttfMs: p.mttfMs, leakMs: 0, mttrMs: p.mttrMs }, () => {
        crashes++;
      });
    }

    // Two flows, each with its outcome per arrival (for the batch means) and its ok latencies.
    const flow = (from: string, to: string, rate: number, stream: string) => {
      const f = {
        answered: [] as number[],
        ok: [] as number[],
        failures: {} as Partial<Record<RpcErrorKind, number>>,
      };
      if (rate === 0) return f;
      const client = RpcEndpoint.of(net.node(from));
      openLoop(sim, {
        arrivals: { kind: 'poisson', rate },
        until: endMs,
        stream,
        onArrival: (i) => {
          f.answered.push(-1);
          requests.start();
          const t0 = sim.now;
          client.callThen(to, i, { timeout: p.clientTimeoutMs }, (res) => {
            const t = sim.now - t0;
            requests.finish(res.ok, t);
            f.answered[i] = res.ok ? 1 : 0;
            if (res.ok) f.ok.push(t);
            else f.failures[res.error.kind] = (f.failures[res.error.kind] ?? 0) + 1;
          });
        },
      });
      return f;
    };
    const orders = flow('users', ORDER, p.orderRate, 'users/arrivals');
    const checks = flow('shoppers', checkTarget, p.priceCheckRate, 'shoppers/arrivals');
    sim.run({ until: endMs + p.clientTimeoutMs + 1 });

    const started = orders.answered.length + checks.answered.length;
    const pending = [...orders.answered, ...checks.answered].filter((a) => a === -1).length;
    const failed = (f: typeof orders) => Object.values(f.failures).reduce((a, b) => a + b, 0);
    check(
      'every order and price check is answered once: ok + failed = started',
      pending === 0 && orders.ok.length + failed(orders) + checks.ok.length + failed(checks) === started,
      `${orders.answered.length} orders (${orders.ok.length} ok, failures ${JSON.stringify(orders.failures)}), ${checks.answered.length} price checks (${checks.ok.length} ok), ${pending} unanswered`,
    );

    // Latency theory: the order's own CPU, the users' hop, then the calls: a sum in sequence, the
    // larger of two in parallel.
    const byName = new Map(deployables.map((d) => [d.name, d]));
    const hop = LatencyGrid.constant(p.hopMs, DT);
    const stable = deployables.every((d) => d.name === ORDER || d.sojourn !== null);
    let orderTheory: LatencyGrid | null = null;
    let checkTheory: LatencyGrid | null = null;
    if (stable) {
      let own = hop
        .plus(LatencyGrid.constant(orderConst, DT))
        .plus(LatencyGrid.exponential(ORDER_WORK_MS, DT));
      for (const c of local)
        own = own.plus(
          LatencyGrid.exponential(work(ORDER_CAPABILITIES.find((x) => x.name === c)!, p.taxSlowdown), DT),
        );
      const calls = remote.map((r) => hop.plus(byName.get(r.name)!.sojourn!));
      let downstream = calls[0]!;
      for (const c of calls.slice(1)) downstream = fine ? downstream.plus(c) : downstream.max(c);
      orderTheory = own.plus(downstream);
      checkTheory = hop.plus(byName.get(checkTarget)!.sojourn!);
    }
    const latencyChecks = (
      label: string,
      ok: readonly number[],
      theory: LatencyGrid | null,
      waits: number,
    ) => {
      if (ok.length === 0 || theory === null)
        return { mean: null, se: null, p99: null, meanTheory: null, p99Theory: null };
      const bm = new BatchMeans(ok.length, BATCHES);
      for (const t of ok) bm.add(t);
      const p99 = samplePercentile(ok, 0.99);
      const meanTol = Z * bm.standardError + WAIT_ALLOWANCE * waits + 0.01;
      check(
        `${label}: mean latency = the distribution of its parts (work, hops, serialization, Allen–Cunneen waits; within ${Z} SE + ${WAIT_ALLOWANCE * 100}% of the waits)`,
        Math.abs(bm.mean - theory.mean) <= meanTol,
        `measured ${fmt(bm.mean)} ms, theory ${fmt(theory.mean)} ms; tolerance ${fmt(meanTol)}`,
      );
      const p99Theory = theory.quantile(0.99);
      // The i.i.d. SE of a sample p99, or the spread of the batches' p99s when queueing correlates them.
      const se = Math.max(
        Math.sqrt((0.01 * 0.99) / ok.length) / theory.density(p99Theory),
        batchPercentileSe(ok, 0.99, BATCHES),
      );
      const p99Tol = Z * se + P99_ALLOWANCE * p99Theory;
      check(
        `${label}: p99 = the p99 of ${label === 'orders' ? (fine ? 'the sum of the calls in sequence' : 'the larger of the parallel calls') : 'one call'} (within ${Z} SE + ${P99_ALLOWANCE * 100}%)`,
        Math.abs(p99 - p99Theory) <= p99Tol,
        `measured ${fmt(p99)} ms, theory ${fmt(p99Theory)} ms; tolerance ${fmt(p99Tol)}`,
      );
      return { mean: bm.mean, se: bm.standardError, p99, meanTheory: theory.mean, p99Theory };
    };
    const waitOf = (names: readonly string[]) =>
      names.reduce((sum, n) => {
        const d = byName.get(n)!;
        return sum + (d.sojourn === null ? 0 : d.sojourn.mean - d.cpu.mean!);
      }, 0);
    const orderLatency = latencyChecks('orders', orders.ok, orderTheory, waitOf(remote.map((r) => r.name)));
    const checkLatency = latencyChecks('price checks', checks.ok, checkTheory, waitOf([checkTarget]));

    // Availability: the product over the deployables on each flow's critical path of the share of
    // requests each serves (up when called, no crash while the request is inside).
    const inside = (d: Deployable): number =>
      d.name === ORDER ? (orderTheory?.mean ?? 0) - p.hopMs : (d.sojourn?.mean ?? 0);
    const availability = (label: string, f: typeof orders, path: readonly Deployable[]) => {
      const n = f.answered.length;
      if (n === 0) return { value: null, se: null, theory: null };
      const theory = serialAvailability(
        path.map((d) => requestAvailability(p.mttfMs, 0, p.mttrMs, inside(d))),
      );
      const bm = new BatchMeans(n, BATCHES);
      for (const a of f.answered) bm.add(a === 1 ? 1 : 0);
      const a = processAvailability(p.mttfMs, 0, p.mttrMs);
      const relVar = (path.length * timeAvailabilityVariance(p.mttfMs, 0, p.mttrMs, endMs)) / (a * a);
      const se = Math.max(
        bm.standardError,
        Math.sqrt(theory * theory * relVar + (theory * (1 - theory)) / n),
      );
      if (p.mttfMs === 0)
        check(`${label}: with no crashes every one succeeds`, bm.mean === 1, `${fmt(bm.mean, 5)} ok`);
      else
        check(
          `${label}: availability = the product over the ${path.length} deployable${path.length === 1 ? '' : 's'} on its path (within ${Z} SE)`,
          Math.abs(bm.mean - theory) <= Z * se,
          `measured ${fmt(bm.mean, 5)} ± ${fmt(se, 5)}, serialAvailability of ${path.length} = ${fmt(theory, 5)} (time up alone ${fmt(a ** path.length, 5)})`,
        );
      return { value: bm.mean, se, theory };
    };
    const orderAvail = availability('orders', orders, deployables);
    const checkAvail = availability('price checks', checks, [byName.get(checkTarget)!]);

    // Sizing, confirmed where nothing slowed down: each service's p99 at the server within its objective.
    const p99s: string[] = [];
    let met = true;
    for (const d of deployables) {
      if (d.objectiveMs === null) continue;
      const h = sim.metrics.histogram(d.name, 'svc.latency');
      const p99 = h.percentile(99);
      p99s.push(`${d.name} ${fmt(p99, 1)}/${fmt(d.objectiveMs, 1)}`);
      if (
        p99 >
        d.objectiveMs + Z * mmcP99StandardError(d.replicas, d.rate, d.cpu.mean!, d.objectiveMs, h.count)
      )
        met = false;
    }
    if (p.taxSlowdown === 1)
      check(
        `every service meets its p99 objective (${p.p99Factor} × its mean CPU) with the M/M/c replica count (within ${Z} SE)`,
        met,
        `p99/objective ms: ${p99s.join(', ')}`,
      );

    // CPU per order and per price check: serialization grows with calls and with payloads.
    const cpuMs = deployables.reduce((sum, d) => sum + d.cpu.totalMs, 0);
    const calls = remote.length;
    const cpuPerOrderTheory =
      orderCpu.mean! + remote.reduce((sum, r) => sum + byName.get(r.name)!.cpu.mean!, 0);
    const cpuPerCheckTheory = byName.get(checkTarget)!.cpu.mean!;
    const expectedCpu =
      orders.answered.length * cpuPerOrderTheory + checks.answered.length * cpuPerCheckTheory;
    if (p.mttfMs === 0) {
      const variance = deployables.reduce((sum, d) => sum + d.cpu.draws * d.cpu.variance!, 0);
      check(
        `CPU = orders × (work + serialization) + price checks × theirs (within ${Z} SE)`,
        Math.abs(cpuMs - expectedCpu) <= Z * Math.sqrt(variance) + 1e-6,
        `${fmt(cpuMs / 1000, 2)} s of CPU, theory ${fmt(expectedCpu / 1000, 2)} s: ${fmt(cpuPerOrderTheory)} ms an order (${calls} calls), ${fmt(cpuPerCheckTheory)} ms a price check`,
      );
    }

    const replicas: Record<string, number> = {};
    for (const d of deployables) replicas[`replicas.${d.name}`] = d.replicas;
    return {
      boundaries: p.boundaries,
      callsPerOrder: calls,
      orders: orders.answered.length,
      priceChecks: checks.answered.length,
      orderAvailability: orderAvail.value,
      orderAvailabilitySe: orderAvail.se,
      orderAvailabilityTheory: orderAvail.theory,
      orderMeanMs: orderLatency.mean,
      orderMeanSe: orderLatency.se,
      orderMeanTheoryMs: orderLatency.meanTheory,
      orderP99Ms: orderLatency.p99,
      orderP99TheoryMs: orderLatency.p99Theory,
      checkAvailability: checkAvail.value,
      checkMeanMs: checkLatency.mean,
      checkMeanTheoryMs: checkLatency.meanTheory,
      checkP99Ms: checkLatency.p99,
      checkP99TheoryMs: checkLatency.p99Theory,
      orderCpuTheoryMs: cpuPerOrderTheory,
      checkCpuTheoryMs: cpuPerCheckTheory,
      cpuS: cpuMs / 1000,
      cpuTheoryS: expectedCpu / 1000,
      busyCores: cpuMs / (endMs + p.clientTimeoutMs),
      cores: deployables.reduce((sum, d) => sum + d.replicas, 0),
      ...replicas,
      crashes,
    };
  },
  compare(variants) {
    return compareBoundaries(variants);
  },
});

/**
 * Standard error of a sample percentile from its spread over `batches` consecutive batches (the
 * batch-means idea applied to a quantile): sd of the batch percentiles / sqrt(batches).
 */
function batchPercentileSe(xs: readonly number[], q: number, batches: number): number {
  const size = Math.floor(xs.length / batches);
  if (size < 2) return Number.POSITIVE_INFINITY;
  const values: number[] = [];
  for (let b = 0; b < batches; b++) values.push(samplePercentile(xs.slice(b * size, (b + 1) * size), q));
  const mean = values.reduce((a, v) => a + v, 0) / batches;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (batches - 1);
  return Math.sqrt(variance / batches);
}

/** Across variants: what each decomposition wins. */
function compareBoundaries(variants: readonly VariantResult[]): CheckResult[] {
  const checks: CheckResult[] = [];
  const by = (name: string) => variants.find((v) => v.name === name)?.outcome;
  const n = (o: Record<string, unknown>, key: string): number => o[key] as number;
  const fine = by('fine');
  const coarse = by('coarse');
  if (fine !== undefined && coarse !== undefined) {
    checks.push({
      name: 'orders: coarse boundaries are faster, mean and p99 (two parallel calls against five in sequence)',
      pass:
        n(coarse, 'orderMeanMs') < n(fine, 'orderMeanMs') && n(coarse, 'orderP99Ms') < n(fine, 'orderP99Ms'),
      detail: `mean ${fmt(n(coarse, 'orderMeanMs'))} against ${fmt(n(fine, 'orderMeanMs'))} ms, p99 ${fmt(n(coarse, 'orderP99Ms'))} against ${fmt(n(fine, 'orderP99Ms'))} ms`,
    });
    const gap = n(coarse, 'orderAvailability') - n(fine, 'orderAvailability');
    const gapTheory = n(coarse, 'orderAvailabilityTheory') - n(fine, 'orderAvailabilityTheory');
    // Without crashes both are always up: nothing to compare.
    if (n(coarse, 'crashes') + n(fine, 'crashes') > 0)
      checks.push({
        name: 'orders: coarse boundaries are more available (three deployables in series against six), by the formulas’ margin',
        pass:
          gap > 0 &&
          Math.abs(gap - gapTheory) <=
            Z * Math.hypot(n(coarse, 'orderAvailabilitySe'), n(fine, 'orderAvailabilitySe')),
        detail: `${fmt(n(coarse, 'orderAvailability'), 5)} against ${fmt(n(fine, 'orderAvailability'), 5)}: ${fmt(gap, 4)} apart, theory ${fmt(n(coarse, 'orderAvailabilityTheory'), 5)} and ${fmt(n(fine, 'orderAvailabilityTheory'), 5)}: ${fmt(gapTheory, 4)}`,
      });
    if (coarse.checkMeanMs !== null && fine.checkMeanMs !== null)
      checks.push({
        name: 'price checks, the other way: the fine-grained price service answers faster (no tax, a small answer)',
        pass:
          n(fine, 'checkMeanMs') < n(coarse, 'checkMeanMs') &&
          n(fine, 'checkP99Ms') < n(coarse, 'checkP99Ms'),
        detail: `mean ${fmt(n(fine, 'checkMeanMs'))} against ${fmt(n(coarse, 'checkMeanMs'))} ms, p99 ${fmt(n(fine, 'checkP99Ms'))} against ${fmt(n(coarse, 'checkP99Ms'))} ms`,
      });
  }
  const fineSlow = by('fine-slow-tax');
  const coarseSlow = by('coarse-slow-tax');
  if (fineSlow !== undefined && coarseSlow !== undefined) {
    const grow = (slow: Record<string, unknown>, base: Record<string, unknown> | undefined, key: string) =>
      base === undefined ? null : n(slow, key) / n(base, key);
    const fineGrowth = grow(fineSlow, fine, 'checkP99Ms');
    const coarseGrowth = grow(coarseSlow, coarse, 'checkP99Ms');
    if (coarseSlow.checkP99Ms !== null && fineSlow.checkP99Ms !== null)
      checks.push({
        name: 'slow tax: a slow part of the coarse pricing service slows every price check; the fine price service is untouched',
        pass:
          n(coarseSlow, 'checkP99Ms') > 1.5 * n(fineSlow, 'checkP99Ms') &&
          (fineGrowth === null || fineGrowth < 1.1),
        detail: `price check p99 ${fmt(n(coarseSlow, 'checkP99Ms'))} ms coarse against ${fmt(n(fineSlow, 'checkP99Ms'))} ms fine${fineGrowth === null || coarseGrowth === null ? '' : ` (× ${fmt(coarseGrowth, 2)} and × ${fmt(fineGrowth, 2)} from normal)`}`,
      });
    checks.push({
      name: 'slow tax: orders slow down under both boundaries (tax is on every order’s path)',
      pass:
        fine === undefined ||
        coarse === undefined ||
        (n(fineSlow, 'orderMeanMs') > n(fine, 'orderMeanMs') &&
          n(coarseSlow, 'orderMeanMs') > n(coarse, 'orderMeanMs')),
      detail: `order mean ${fmt(n(fineSlow, 'orderMeanMs'))} ms fine, ${fmt(n(coarseSlow, 'orderMeanMs'))} ms coarse${fine === undefined || coarse === undefined ? '' : ` (from ${fmt(n(fine, 'orderMeanMs'))} and ${fmt(n(coarse, 'orderMeanMs'))})`}`,
    });
  }
  return checks;
}
