import { CircuitBreaker, RetryingClient, Service } from '@dsim/components';
import { exponential, Network, RpcEndpoint, scheduleFaults } from '@dsim/core';
import { param } from '../params.js';
import { meanRate, recoveryAfter } from '../recovery.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_OFFERED, MAX_RATE, MAX_SECONDS } from './limits.js';

const MITIGATIONS = ['naive', 'backoff-jitter', 'retry-budget', 'drop-expired', 'circuit-breaker'] as const;

/**
 * `retry-storm`: a metastable failure. A server runs at ρ = λ/μ = 0.7. A trigger (the server pauses
 * for `outageMs` at t = 10 s; its queue is kept) builds a backlog; once queueing delay exceeds the
 * client timeout every attempt times out, clients retry, and the offered load λ(1 + R) exceeds μ: the
 * system stays down after the trigger is gone, unless something sheds the extra work.
 *
 * Variants: `naive` (immediate retries, the server serves requests whose caller already left),
 * `backoff-jitter` (full-jitter exponential backoff between retries), `retry-budget` (retries at most
 * 10% of requests: the SRE book's per-client budget, as Finagle's RetryBudget),
 * `drop-expired` (the server skips queued requests whose deadline has passed), `circuit-breaker` (a
 * resilience4j breaker in front of the calls fails fast while open).
 */
export const retryStorm = defineScenario({
  name: 'retry-storm',
  description: 'Metastable retry storm after a short outage, and which mitigations recover',
  params: {
    lambda: param.number({
      default: 70,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'requests per second (Poisson)',
    }),
    mu: param.number({
      default: 100,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'server capacity per second (exponential service)',
    }),
    retries: param.integer({ default: 3, min: 0, max: 10, description: 'retries per request (R)' }),
    timeoutMs: param.number({
      default: 1000,
      min: 1,
      max: MAX_MS,
      description: 'client timeout per attempt',
    }),
    outageMs: param.number({
      default: 2000,
      min: 0,
      max: MAX_MS,
      description: 'how long the server stops serving from t = 10 s',
    }),
    seconds: param.number({
      default: 60,
      min: 30,
      max: MAX_SECONDS,
      description: `simulated seconds; lambda × seconds × (1 + retries) at most ${MAX_OFFERED}`,
    }),
    mitigation: param.enum(MITIGATIONS, {
      default: 'naive',
      description: 'mitigation (each variant sets it)',
    }),
  },
  variants: MITIGATIONS.map((name) => ({ name, params: { mitigation: name } })),
  run({ sim, params, requests }) {
    // The naive variant's stale queue can hold every attempt.
    limitOffered(params.lambda * params.seconds * (1 + params.retries), 'lambda × seconds × (1 + retries)');
    const m = params.mitigation;
    const net = new Network(sim);
    new Service(net.addNode('server'), {
      serviceTime: exponential({ mean: 1000 / params.mu }),
      dropExpired: m === 'drop-expired',
    });
    const breaker =
      m === 'circuit-breaker'
        ? new CircuitBreaker(sim, {
            name: 'server',
            slidingWindowSize: 50,
            minimumNumberOfCalls: 20,
            waitDurationInOpenStateMs: 2000,
            permittedNumberOfCallsInHalfOpenState: 5,
          })
        : undefined;
    const trigger = 10_000;
    if (params.outageMs > 0) {
      scheduleFaults(net, [{ at: trigger, for: params.outageMs, fault: { kind: 'pause', node: 'server' } }]);
    }
    const seconds = Math.floor(params.seconds);
    // Counts per second; retries and responses run on past the last arrival, so keep room after `seconds`
    // rather than folding them into the last second.
    const span = seconds + Math.ceil(((params.retries + 1) * params.timeoutMs) / 1000) + 5;
    const okPerSecond = new Array<number>(span).fill(0);
    const attemptsPerSecond = new Array<number>(span).fill(0);
    const offeredPerSecond = new Array<number>(span).fill(0);
    const bucket = (t: number): number => Math.min(span - 1, Math.floor(t / 1000));
    // Retries on timeouts, immediately unless the variant says otherwise; a call the breaker refuses
    // fails fast and is not retried.
    const client = new RetryingClient(new RpcEndpoint(net.addNode('client')), {
      timeout: params.timeoutMs,
      maxAttempts: params.retries + 1,
      ...(m === 'backoff-jitter'
        ? { backoff: { kind: 'exponential', baseMs: 50, capMs: 5000, jitter: 'full' } as const }
        : {}),
      // The SRE book's per-client retry budget: retries at most 10% of requests (Finagle's RetryBudget).
      ...(m === 'retry-budget' ? { budget: { kind: 'ratio', ratio: 0.1, minPerSecond: 0 } as const } : {}),
      ...(breaker === undefined ? {} : { breaker }),
      onAttempt: () => attemptsPerSecond[bucket(sim.now)]!++,
    });
    const call = (): void => {
      const started = sim.now;
      client.call('server', 'q').onProcessed((e) => {
        const res = e.value!;
        if (res.ok) okPerSecond[bucket(sim.now)]!++;
        requests.finish(res.ok, sim.now - started);
      });
    };

    const gaps = exponential({ rate: params.lambda / 1000 });
    const rng = sim.rng('client/arrivals');
    sim.process(function* () {
      while (sim.now < params.seconds * 1000) {
        requests.start();
        offeredPerSecond[bucket(sim.now)]!++;
        call();
        yield sim.timeout(gaps.sample(rng));
      }
    });
    sim.run();

    const end = Math.ceil((trigger + params.outageMs) / 1000);
    const tail = Math.max(end + 1, seconds - 20);
    const goodputAfter = meanRate(okPerSecond, tail, seconds);
    const recovered = goodputAfter >= 0.9 * params.lambda;
    const recoveryMs = recoveryAfter({
      ok: okPerSecond,
      offered: offeredPerSecond,
      triggerEndMs: trigger + params.outageMs,
      seconds,
    });
    return {
      goodputBefore: meanRate(okPerSecond, 2, 10),
      goodputDuring: meanRate(okPerSecond, 10, Math.max(11, end)),
      goodputAfter,
      amplification:
        meanRate(attemptsPerSecond, tail, seconds) /
        Math.max(1e-9, meanRate(offeredPerSecond, tail, seconds)),
      recovered,
      recoveryMs,
    };
  },
  compare(variants: readonly VariantResult[], params) {
    const checks = [];
    const naive = variants.find((v) => v.name === 'naive');
    const stuck = params.lambda * (1 + params.retries) > params.mu;
    if (naive !== undefined && stuck && params.outageMs >= 2000) {
      checks.push({
        name: 'naive stays down after the trigger ends (metastable)',
        pass: naive.outcome.recovered === false,
        detail: `goodput after ${naive.outcome.goodputAfter}/s, amplification ${naive.outcome.amplification}`,
      });
    }
    for (const name of ['retry-budget', 'drop-expired', 'circuit-breaker']) {
      const v = variants.find((x) => x.name === name);
      if (v !== undefined) {
        checks.push({
          name: `${name} recovers`,
          pass: v.outcome.recovered === true,
          detail: `goodput after ${v.outcome.goodputAfter}/s (lambda ${params.lambda}), recovery ${v.outcome.recoveryMs} ms`,
        });
      }
    }
    return checks;
  },
});
