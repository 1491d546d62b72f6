import { RPC_ERROR_KINDS, RpcEndpoint } from '@dsim/core';
import { param } from '../params.js';
import { meanRate, recoveryAfter } from '../recovery.js';
import type { VariantResult } from '../scenario.js';
import type { ServiceDescription } from '../system/schema.js';
import { defineSystemScenario } from '../system/system-scenario.js';
import { limitOffered, MAX_FACTOR, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

/** The fault at C starts here (ms). */
const FAULT_AT = 10_000;
const TIERS = ['a', 'b', 'c'] as const;

/** Whole seconds of the run; when the fault ends (ms); the first of the last 10 s after it. */
const cuts = (p: { seconds: number; faultMs: number }) => {
  const seconds = Math.floor(p.seconds);
  const faultEnd = FAULT_AT + p.faultMs;
  return { seconds, faultEnd, tail: Math.max(Math.ceil(faultEnd / 1000) + 1, seconds - 10) };
};

/**
 * `timeout-cascade`: a chain client → A → B → C in which C slows down for a while. Each tier holds a
 * worker while it waits for the next (thread-per-request), so a slow leaf can tie up every worker above
 * it. The timeout configuration decides how far the slowdown spreads and how much work is wasted: work a
 * tier finishes for a request whose client has already given up.
 *
 * Variants: `no-timeouts` (the hops wait for ever: workers stay blocked as long as C is slow),
 * `uniform-timeouts` (every hop waits as long as the client, no deadline propagation: each caller gives
 * up at the same moment as, or before, the callee, which keeps working), `decreasing-timeouts` (each hop's
 * timeout shorter than its caller's: an error comes back before the caller gives up and workers are freed
 * early), `deadline-propagation` (every hop passes the client's deadline down and every tier drops queued
 * work whose deadline has passed), `deadline-lifo` (the same with adaptive LIFO queues, which serve the
 * freshest request first under a standing queue).
 *
 * A system scenario: `client`, `a`, `b`, `c` and their edges are measured per phase (`before` 2-10 s,
 * `during` the fault, at least 1 s, `after` the last 10 s); late answers, completions, expired drops and
 * queue maxima are read from the components after the run.
 *
 * @example
 * ```ts
 * const r = runScenario(timeoutCascade, { seed: 1, variants: ['uniform-timeouts', 'deadline-lifo'] });
 * r.variants.map((v) => v.outcome.wastedC); // [980, 5]: work at C for clients that had already gone
 * ```
 */
export const timeoutCascade = defineSystemScenario({
  name: 'timeout-cascade',
  description: 'A slow leaf in client -> A -> B -> C: how hop timeouts and deadlines decide the cascade',
  params: {
    lambda: param.number({
      default: 100,
      min: 0,
      max: MAX_RATE,
      exclusiveMin: true,
      description: 'client requests per second (Poisson)',
    }),
    workers: param.integer({ default: 40, min: 1, max: MAX_WORKERS, description: 'workers at A and at B' }),
    hopServiceMs: param.number({
      default: 2,
      min: 0,
      max: MAX_MS,
      description: "A's and B's own work per request",
    }),
    cWorkers: param.integer({ default: 10, min: 1, max: MAX_WORKERS, description: 'workers at C' }),
    cServiceMs: param.number({
      default: 20,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: "C's mean service time when healthy (exponential)",
    }),
    slowdown: param.number({
      default: 10,
      min: 1,
      max: MAX_FACTOR,
      description: 'factor by which C slows down during the fault (a degrade fault)',
    }),
    faultMs: param.number({
      default: 10_000,
      min: 0,
      max: MAX_MS,
      description: 'how long C is slow, from t = 10 s',
    }),
    clientTimeoutMs: param.number({
      default: 1000,
      min: 1,
      max: MAX_MS,
      description: "the client's timeout",
    }),
    abTimeoutMs: param.number({
      default: 1000,
      min: 0,
      max: MAX_MS,
      description: "A's timeout on B (0: none)",
    }),
    bcTimeoutMs: param.number({
      default: 1000,
      min: 0,
      max: MAX_MS,
      description: "B's timeout on C (0: none)",
    }),
    propagate: param.boolean({
      default: false,
      description: "pass the client's deadline down the chain (gRPC-style)",
    }),
    dropExpired: param.boolean({
      default: false,
      description: 'every tier skips queued requests whose deadline has passed',
    }),
    discipline: param.enum(['fifo', 'adaptive-lifo'], {
      default: 'fifo',
      description: 'queue discipline at every tier',
    }),
    retries: param.integer({
      default: 0,
      min: 0,
      max: 10,
      description: 'client retries after a failure or timeout (immediate)',
    }),
    seconds: param.number({
      default: 40,
      min: 25,
      max: MAX_SECONDS,
      description: 'simulated seconds of arrivals',
    }),
  },
  variants: [
    {
      name: 'no-timeouts',
      description: 'hops wait for ever',
      params: { abTimeoutMs: 0, bcTimeoutMs: 0, propagate: false, dropExpired: false },
    },
    {
      name: 'uniform-timeouts',
      description: 'every hop 1 s, no deadline propagation',
      params: { abTimeoutMs: 1000, bcTimeoutMs: 1000, propagate: false, dropExpired: false },
    },
    {
      name: 'decreasing-timeouts',
      description: 'A->B 600 ms, B->C 300 ms',
      params: { abTimeoutMs: 600, bcTimeoutMs: 300, propagate: false, dropExpired: false },
    },
    {
      name: 'deadline-propagation',
      description: "1 s hops, the client's deadline propagates, expired work dropped",
      params: { abTimeoutMs: 1000, bcTimeoutMs: 1000, propagate: true, dropExpired: true },
    },
    {
      name: 'deadline-lifo',
      description: 'deadline propagation plus adaptive LIFO at every tier',
      params: {
        abTimeoutMs: 1000,
        bcTimeoutMs: 1000,
        propagate: true,
        dropExpired: true,
        discipline: 'adaptive-lifo',
      },
    },
  ],
  system: (p) => {
    // Without timeouts a slow C holds every attempt.
    limitOffered(p.lambda * p.seconds * (1 + p.retries), 'lambda × seconds × (1 + retries)');
    const tier = { dropExpired: p.dropExpired, discipline: p.discipline } as const;
    const hop = (to: string, timeoutMs: number): ServiceDescription => ({
      kind: 'service',
      concurrency: p.workers,
      serviceTime: p.hopServiceMs,
      ...tier,
      downstream: [{ to, ...(timeoutMs > 0 ? { timeout: timeoutMs } : {}) }],
      propagateDeadline: p.propagate,
    });
    return {
      nodes: {
        // Retries at once, after any failure (a hop's 504 or deadline-exceeded too).
        client: {
          kind: 'clients',
          target: 'a',
          workload: { kind: 'open', rate: p.lambda },
          until: p.seconds * 1000,
          timeout: p.clientTimeoutMs,
          ...(p.retries > 0 ? { retries: p.retries, retryOn: [...RPC_ERROR_KINDS] } : {}),
        },
        a: hop('b', p.abTimeoutMs),
        b: hop('c', p.bcTimeoutMs),
        c: {
          kind: 'service',
          concurrency: p.cWorkers,
          serviceTime: { exponential: { mean: p.cServiceMs } },
          ...tier,
        },
      },
      network: { latency: 1 },
      faults:
        p.faultMs > 0
          ? [{ at: FAULT_AT, for: p.faultMs, fault: { kind: 'degrade', node: 'c', factor: 1 / p.slowdown } }]
          : [],
    };
  },
  phases: (p) => {
    const { seconds, faultEnd, tail } = cuts(p);
    return {
      before: ['2s', '10s'],
      during: [FAULT_AT, Math.min(Math.max(faultEnd, FAULT_AT + 1000), p.seconds * 1000)],
      ...(tail < seconds ? { after: [tail * 1000, seconds * 1000] } : {}),
    };
  },
  outcome: (m, { params: p, compiled, sim, perSecond }) => {
    const { seconds, faultEnd, tail } = cuts(p);
    const s = perSecond('client');
    // Zeros where nothing happened: meanRate and recoveryAfter count every second up to `seconds`.
    const full = (a: number[]) => Array.from({ length: Math.max(a.length, seconds) }, (_, i) => a[i] ?? 0);
    const [ok, offered, attempts] = [full(s.ok), full(s.started), full(s.attempts)];
    const counter = (node: string, name: string): number => sim.metrics.counter(node, name).value;
    const done = (t: string): number => counter(t, 'svc.completed');
    // Each tier serves an attempt at most once and answers ok only after the next tier did, so an attempt
    // the client got ok was completed once at every tier; any other completion was for nobody.
    const useful = compiled.clients.client!.client.stats.ok;
    const after = tail < seconds;
    const goodputAfter = after ? m.goodput('client', 'after') : 0;
    const late = (node: string): number => RpcEndpoint.of(compiled.nodes[node]!).stats.late;
    const maxQueue = (node: string): number => sim.metrics.gauge(node, 'svc.queue').max;
    // Theory. During the fault C serves at most cWorkers / (cServiceMs · slowdown): no configuration can
    // answer more. When that is below λ, C's queue (or its callers') grows until every call to C outlasts
    // any finite hop timeout, so a hop with timeout T holds a worker about T per attempt: by Little's law
    // its occupancy is λ(1 + R)·T/W (every attempt fails, so the client makes all 1 + R of them),
    // saturated when that reaches 1 (no timeout: saturated).
    const occupancy = (holdMs: number): number =>
      holdMs <= 0 ? 1 : Math.min(1, (p.lambda * (1 + p.retries) * holdMs) / 1000 / p.workers);
    const predictedBusyB = occupancy(p.bcTimeoutMs);
    // A waits for B: B answers after its own timeout on C (plus two network hops) while B keeps up.
    const holdA = predictedBusyB < 1 && p.bcTimeoutMs > 0 ? p.bcTimeoutMs + 2 : p.abTimeoutMs;
    return {
      goodputBefore: m.goodput('client', 'before'),
      goodputDuring: m.goodput('client', 'during'),
      goodputAfter,
      cCapacityDuring: (p.cWorkers * 1000) / (p.cServiceMs * p.slowdown),
      successDuring: m.availability('client', 'during'),
      attemptsPerRequest: meanRate(attempts, 0, seconds) / Math.max(1e-9, meanRate(offered, 0, seconds)),
      completedA: done('a'),
      completedB: done('b'),
      completedC: done('c'),
      wastedA: done('a') - useful,
      wastedB: done('b') - useful,
      wastedC: done('c') - useful,
      wastedShareC: done('c') === 0 ? 0 : (done('c') - useful) / done('c'),
      lateAtClient: late('client'),
      lateAtA: late('a'),
      lateAtB: late('b'),
      droppedExpired: TIERS.reduce((sum, t) => sum + counter(t, 'svc.expired'), 0),
      busyA: m.utilisation('a', 'during'),
      busyB: m.utilisation('b', 'during'),
      busyC: m.utilisation('c', 'during'),
      predictedBusyA: p.abTimeoutMs > 0 ? occupancy(Math.min(holdA, p.abTimeoutMs)) : occupancy(holdA),
      predictedBusyB,
      maxQueueA: maxQueue('a'),
      maxQueueB: maxQueue('b'),
      maxQueueC: maxQueue('c'),
      recovered: !after || goodputAfter >= 0.9 * m.rate('client', 'after'),
      recoveryMs: recoveryAfter({ ok, offered, triggerEndMs: faultEnd, seconds }),
    };
  },
  checks: (m, check, p) => {
    const capacity = m.get('cCapacityDuring');
    const [predictedA, predictedB] = [m.get('predictedBusyA'), m.get('predictedBusyB')];
    const cOverloaded = p.lambda > capacity && p.faultMs >= 5000;
    if (cOverloaded) {
      for (const [tier, predicted] of [
        ['A', predictedA],
        ['B', predictedB],
      ] as const) {
        const busy = m.get(`busy${tier}`);
        if (predicted >= 1)
          check(
            `${tier}'s workers saturate during the fault`,
            busy >= 0.9,
            `busy ${busy.toFixed(3)} of ${p.workers} workers (lambda (1 + R) x hold / W >= 1)`,
          );
        else
          check(
            `${tier}'s occupancy matches Little's law (lambda (1 + R) x timeout / W)`,
            Math.abs(busy - predicted) <= 0.1,
            `busy ${busy.toFixed(3)}, predicted ${predicted.toFixed(3)}`,
          );
      }
    }
    const decreasing =
      p.bcTimeoutMs > 0 && p.abTimeoutMs > p.bcTimeoutMs && p.clientTimeoutMs > p.abTimeoutMs;
    if (decreasing && predictedB < 0.9 && predictedA < 0.9) {
      const [client, a] = [m.get('lateAtClient'), m.get('lateAtA')];
      // At most 0.1% of the attempts (λ × seconds × attempts per request).
      check(
        'with shrinking timeouts every caller hears back before it gives up',
        client + a <= 0.001 * p.lambda * p.seconds * m.get('attemptsPerRequest'),
        `late responses: at the client ${client}, at A ${a}`,
      );
    }
    if (p.propagate && p.dropExpired && p.discipline === 'adaptive-lifo') {
      const [wasted, completed] = [m.get('wastedC'), m.get('completedC')];
      check(
        'deadline propagation with adaptive LIFO leaves almost no wasted work at C',
        m.get('wastedShareC') <= 0.05,
        `${wasted} of ${completed} completions at C were for requests nobody waited for`,
      );
      const goodput = m.get('goodputDuring');
      if (cOverloaded)
        check(
          "it serves most of C's degraded capacity",
          goodput >= 0.8 * Math.min(p.lambda, capacity),
          `goodput during the fault ${goodput.toFixed(1)}/s, C's capacity ${capacity.toFixed(1)}/s`,
        );
    }
  },
  compare(variants: readonly VariantResult[]) {
    const get = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const uniform = get('uniform-timeouts');
    const decreasing = get('decreasing-timeouts');
    const deadline = get('deadline-propagation');
    const checks = [];
    // Only when the fault saturates uniform's workers and Little's law says decreasing's stay free.
    if (
      uniform !== undefined &&
      decreasing !== undefined &&
      (uniform.predictedBusyA as number) >= 1 &&
      (uniform.busyA as number) >= 0.9 &&
      (decreasing.predictedBusyA as number) < 0.9
    ) {
      checks.push({
        name: 'decreasing timeouts free the workers that uniform timeouts tie up',
        pass: (decreasing.busyA as number) < (uniform.busyA as number),
        detail: `A busy during the fault: uniform ${uniform.busyA}, decreasing ${decreasing.busyA}`,
      });
    }
    if (uniform !== undefined && deadline !== undefined && (uniform.wastedShareC as number) > 0.05) {
      checks.push({
        name: 'deadline propagation wastes less work at C than uniform timeouts',
        pass: (deadline.wastedC as number) < (uniform.wastedC as number),
        detail: `wasted at C: uniform ${uniform.wastedC}, deadline-propagation ${deadline.wastedC}`,
      });
    }
    return checks;
  },
});
