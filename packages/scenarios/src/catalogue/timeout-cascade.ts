import { type DownstreamSpec, Service } from '@dsim/components';
import { exponential, Network, RpcEndpoint, scheduleFaults } from '@dsim/core';
import { param } from '../params.js';
import { meanRate, recoveryAfter } from '../recovery.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_FACTOR, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

/** The fault at C starts here (ms). */
const FAULT_AT = 10_000;
const TIERS = ['a', 'b', 'c'] as const;
type Tier = (typeof TIERS)[number];

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
 * @example
 * ```ts
 * const r = runScenario(timeoutCascade, { seed: 1, variants: ['uniform-timeouts', 'deadline-lifo'] });
 * r.variants.map((v) => v.outcome.wastedC); // [936, 4]: work at C for clients that had already gone
 * ```
 */
export const timeoutCascade = defineScenario({
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
  run({ sim, params, requests, check }) {
    // Without timeouts a slow C holds every attempt; each completion is also kept for the wasted-work count.
    limitOffered(params.lambda * params.seconds * (1 + params.retries), 'lambda × seconds × (1 + retries)');
    const net = new Network(sim, { defaults: { latency: 1 } });
    // Every tier answers with the payload it was given: the client's attempt id, which the hops pass down
    // unchanged. `respond` runs when a tier finishes a request, so it records who did work for whom.
    const completedFor: Record<Tier, number[]> = { a: [], b: [], c: [] };
    const respond =
      (tier: Tier) =>
      (request: { payload: unknown }): unknown => {
        completedFor[tier].push(request.payload as number);
        return request.payload;
      };
    const hop = (to: string, timeoutMs: number): DownstreamSpec => ({
      calls: [to],
      propagateDeadline: params.propagate,
      ...(timeoutMs > 0 ? { timeout: timeoutMs } : {}),
    });
    const c = new Service(net.addNode('c'), {
      concurrency: params.cWorkers,
      serviceTime: exponential({ mean: params.cServiceMs }),
      dropExpired: params.dropExpired,
      discipline: params.discipline,
      respond: respond('c'),
    });
    const b = new Service(net.addNode('b'), {
      concurrency: params.workers,
      serviceTime: params.hopServiceMs,
      dropExpired: params.dropExpired,
      discipline: params.discipline,
      downstream: hop('c', params.bcTimeoutMs),
      respond: respond('b'),
    });
    const a = new Service(net.addNode('a'), {
      concurrency: params.workers,
      serviceTime: params.hopServiceMs,
      dropExpired: params.dropExpired,
      discipline: params.discipline,
      downstream: hop('b', params.abTimeoutMs),
      respond: respond('a'),
    });
    const services: Record<Tier, Service> = { a, b, c };
    const client = new RpcEndpoint(net.addNode('client'));
    const faultEnd = FAULT_AT + params.faultMs;
    if (params.faultMs > 0) {
      scheduleFaults(net, [
        {
          at: FAULT_AT,
          for: params.faultMs,
          fault: { kind: 'degrade', node: 'c', factor: 1 / params.slowdown },
        },
      ]);
    }

    const seconds = Math.floor(params.seconds);
    const endMs = params.seconds * 1000;
    const span = seconds + Math.ceil(((params.retries + 1) * params.clientTimeoutMs) / 1000) + 2;
    const okPerSecond = new Array<number>(span).fill(0);
    const offeredPerSecond = new Array<number>(span).fill(0);
    const attemptsPerSecond = new Array<number>(span).fill(0);
    const bucket = (t: number): number => Math.min(span - 1, Math.floor(t / 1000));
    const useful = new Set<number>(); // attempt ids whose answer reached the client in time, ok
    let nextAttempt = 0;
    let okDuring = 0;
    let offeredDuring = 0;

    const attempt = (started: number, n: number): void => {
      const id = nextAttempt++;
      attemptsPerSecond[bucket(sim.now)]!++;
      client.call('a', id, { timeout: params.clientTimeoutMs, attempt: n }).onProcessed((e) => {
        const res = e.value!;
        if (res.ok) {
          useful.add(id);
          okPerSecond[bucket(started)]!++;
          if (started >= FAULT_AT && started < faultEnd) okDuring++;
          requests.finish(true, sim.now - started);
        } else if (n <= params.retries) attempt(started, n + 1);
        else requests.finish(false, sim.now - started);
      });
    };
    const gaps = exponential({ rate: params.lambda / 1000 });
    const rng = sim.rng('cascade/arrivals');
    sim.process(function* () {
      yield sim.timeout(gaps.sample(rng));
      while (sim.now < endMs) {
        requests.start();
        offeredPerSecond[bucket(sim.now)]!++;
        if (sim.now >= FAULT_AT && sim.now < faultEnd) offeredDuring++;
        attempt(sim.now, 1);
        yield sim.timeout(gaps.sample(rng));
      }
    });
    // Worker occupancy during the fault, sampled every 20 ms.
    const busySum: Record<Tier, number> = { a: 0, b: 0, c: 0 };
    const maxQueue: Record<Tier, number> = { a: 0, b: 0, c: 0 };
    let samples = 0;
    if (params.faultMs > 0) {
      sim.process(function* () {
        yield sim.timeout(FAULT_AT);
        while (sim.now < faultEnd) {
          samples++;
          for (const t of TIERS) {
            busySum[t] += services[t].busy;
            maxQueue[t] = Math.max(maxQueue[t], services[t].queueLength);
          }
          yield sim.timeout(20);
        }
      });
    }
    sim.run();

    const end = Math.ceil(faultEnd / 1000);
    const tail = Math.max(end + 1, seconds - 10);
    const goodputAfter = meanRate(okPerSecond, tail, seconds);
    const recovered = goodputAfter >= 0.9 * meanRate(offeredPerSecond, tail, seconds);
    const recoveryMs = recoveryAfter({
      ok: okPerSecond,
      offered: offeredPerSecond,
      triggerEndMs: faultEnd,
      seconds,
    });
    const wasted = (t: Tier): number => completedFor[t].filter((id) => !useful.has(id)).length;
    const counter = (t: Tier, name: string): number => sim.metrics.counter(t, name).value;
    const busy = (t: Tier): number => (samples === 0 ? 0 : busySum[t] / samples / services[t].concurrency);
    const completedC = counter('c', 'svc.completed');
    const wastedC = wasted('c');
    // Theory. During the fault C serves at most cWorkers / (cServiceMs · slowdown): no configuration can
    // answer more. When that is below λ, C's queue (or its callers') grows until every call to C outlasts
    // any finite hop timeout, so a hop with timeout T holds a worker about T per attempt: by Little's law
    // its occupancy is λ(1 + R)·T/W (every attempt fails, so the client makes all 1 + R of them),
    // saturated when that reaches 1 (no timeout: saturated).
    const cCapacityDuring = (params.cWorkers * 1000) / (params.cServiceMs * params.slowdown);
    const cOverloaded = params.lambda > cCapacityDuring && params.faultMs >= 5000;
    const attemptRate = params.lambda * (1 + params.retries);
    const occupancy = (holdMs: number): number =>
      holdMs <= 0 ? 1 : Math.min(1, (attemptRate * holdMs) / 1000 / params.workers);
    const predictedBusyB = occupancy(params.bcTimeoutMs);
    // A waits for B: B answers after its own timeout on C (plus two network hops) while B keeps up.
    const holdA = predictedBusyB < 1 && params.bcTimeoutMs > 0 ? params.bcTimeoutMs + 2 : params.abTimeoutMs;
    const predictedBusyA =
      params.abTimeoutMs > 0 ? occupancy(Math.min(holdA, params.abTimeoutMs)) : occupancy(holdA);
    const outcome = {
      goodputBefore: meanRate(okPerSecond, 2, 10),
      goodputDuring: meanRate(okPerSecond, 10, Math.max(11, end)),
      goodputAfter,
      cCapacityDuring,
      successDuring: offeredDuring === 0 ? 1 : okDuring / offeredDuring,
      attemptsPerRequest:
        meanRate(attemptsPerSecond, 0, seconds) / Math.max(1e-9, meanRate(offeredPerSecond, 0, seconds)),
      completedA: counter('a', 'svc.completed'),
      completedB: counter('b', 'svc.completed'),
      completedC,
      wastedA: wasted('a'),
      wastedB: wasted('b'),
      wastedC,
      wastedShareC: completedC === 0 ? 0 : wastedC / completedC,
      lateAtClient: client.stats.late,
      lateAtA: a.endpoint.stats.late,
      lateAtB: b.endpoint.stats.late,
      droppedExpired: counter('a', 'svc.expired') + counter('b', 'svc.expired') + counter('c', 'svc.expired'),
      busyA: busy('a'),
      busyB: busy('b'),
      busyC: busy('c'),
      predictedBusyA,
      predictedBusyB,
      maxQueueA: maxQueue.a,
      maxQueueB: maxQueue.b,
      maxQueueC: maxQueue.c,
      recovered,
      recoveryMs,
    };
    if (cOverloaded) {
      for (const [tier, measured, predicted] of [
        ['A', outcome.busyA, predictedBusyA],
        ['B', outcome.busyB, predictedBusyB],
      ] as const) {
        if (predicted >= 1)
          check(
            `${tier}'s workers saturate during the fault`,
            measured >= 0.9,
            `busy ${measured.toFixed(3)} of ${params.workers} workers (lambda (1 + R) x hold / W >= 1)`,
          );
        else
          check(
            `${tier}'s occupancy matches Little's law (lambda (1 + R) x timeout / W)`,
            Math.abs(measured - predicted) <= 0.1,
            `busy ${measured.toFixed(3)}, predicted ${predicted.toFixed(3)}`,
          );
      }
    }
    const decreasing =
      params.bcTimeoutMs > 0 &&
      params.abTimeoutMs > params.bcTimeoutMs &&
      params.clientTimeoutMs > params.abTimeoutMs;
    if (decreasing && predictedBusyB < 0.9 && predictedBusyA < 0.9) {
      check(
        'with shrinking timeouts every caller hears back before it gives up',
        client.stats.late + a.endpoint.stats.late <= 0.001 * nextAttempt,
        `late responses: at the client ${client.stats.late}, at A ${a.endpoint.stats.late}`,
      );
    }
    if (params.propagate && params.dropExpired && params.discipline === 'adaptive-lifo') {
      check(
        'deadline propagation with adaptive LIFO leaves almost no wasted work at C',
        outcome.wastedShareC <= 0.05,
        `${wastedC} of ${completedC} completions at C were for requests nobody waited for`,
      );
      if (cOverloaded)
        check(
          "it serves most of C's degraded capacity",
          outcome.goodputDuring >= 0.8 * Math.min(params.lambda, cCapacityDuring),
          `goodput during the fault ${outcome.goodputDuring.toFixed(1)}/s, C's capacity ${cCapacityDuring.toFixed(1)}/s`,
        );
    }
    return outcome;
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
