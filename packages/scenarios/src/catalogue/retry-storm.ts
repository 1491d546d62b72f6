import { param } from '../params.js';
import { meanRate, recoveryAfter } from '../recovery.js';
import type { VariantResult } from '../scenario.js';
import type { ClientsDescription } from '../system/schema.js';
import { defineSystemScenario } from '../system/system-scenario.js';
import { limitOffered, MAX_MS, MAX_OFFERED, MAX_RATE, MAX_SECONDS } from './limits.js';

const MITIGATIONS = ['naive', 'backoff-jitter', 'retry-budget', 'drop-expired', 'circuit-breaker'] as const;
/** The server pauses here (ms). */
const TRIGGER = 10_000;

/** resilience4j's breaker over the last 50 calls, at least 20, open 2 s, then 5 trial calls. */
const BREAKER = {
  slidingWindowSize: 50,
  minimumNumberOfCalls: 20,
  waitDurationInOpenStateMs: 2000,
  permittedNumberOfCallsInHalfOpenState: 5,
};
/** Whole seconds of the run; when the outage ends (s, rounded up); the first of the last 20 s after it. */
const cuts = (p: { seconds: number; outageMs: number }) => {
  const seconds = Math.floor(p.seconds);
  const end = Math.ceil((TRIGGER + p.outageMs) / 1000);
  return { seconds, end, tail: Math.max(end + 1, seconds - 20) };
};

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
 *
 * A system scenario: the `client` and `server` nodes are measured per phase (`before` 2-10 s, `during`
 * the outage, `after` the last 20 s); the figures below come from the client's per-second counts.
 */
export const retryStorm = defineSystemScenario({
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
  system: (p) => {
    // The naive variant's stale queue can hold every attempt.
    limitOffered(p.lambda * p.seconds * (1 + p.retries), 'lambda × seconds × (1 + retries)');
    const m = p.mitigation;
    // Retries on timeouts, immediately unless the variant says otherwise; a call the breaker refuses
    // fails fast and is not retried.
    const client: ClientsDescription = {
      kind: 'clients',
      target: 'server',
      workload: { kind: 'open', rate: p.lambda },
      until: p.seconds * 1000,
      timeout: p.timeoutMs,
      retries: p.retries,
      ...(m === 'backoff-jitter'
        ? { backoff: { kind: 'exponential', baseMs: 50, capMs: 5000, jitter: 'full' } as const }
        : {}),
      // The SRE book's per-client retry budget: retries at most 10% of requests (Finagle's RetryBudget).
      ...(m === 'retry-budget' ? { budget: { kind: 'ratio', ratio: 0.1, minPerSecond: 0 } as const } : {}),
      ...(m === 'circuit-breaker' ? { breaker: BREAKER } : {}),
    };
    return {
      nodes: {
        client,
        server: {
          kind: 'service',
          serviceTime: { exponential: { mean: 1000 / p.mu } },
          dropExpired: m === 'drop-expired',
        },
      },
      faults:
        p.outageMs > 0 ? [{ at: TRIGGER, for: p.outageMs, fault: { kind: 'pause', node: 'server' } }] : [],
    };
  },
  phases: (p) => {
    const { seconds, tail } = cuts(p);
    const during = [TRIGGER, Math.min(TRIGGER + p.outageMs, seconds * 1000)] as const;
    return {
      before: ['2s', '10s'],
      ...(p.outageMs > 0 ? { during } : {}),
      ...(tail < seconds ? { after: [tail * 1000, seconds * 1000] } : {}),
    };
  },
  outcome: (_m, { params: p, perSecond }) => {
    const { seconds, end, tail } = cuts(p);
    const s = perSecond('client');
    // Zeros where nothing happened: meanRate and recoveryAfter count every second up to `seconds`.
    const full = (a: number[]) => Array.from({ length: Math.max(a.length, seconds) }, (_, i) => a[i] ?? 0);
    const [ok, offered, attempts] = [full(s.ok), full(s.started), full(s.attempts)];
    const goodputAfter = meanRate(ok, tail, seconds);
    return {
      goodputBefore: meanRate(ok, 2, 10),
      goodputDuring: meanRate(ok, 10, Math.max(11, end)),
      goodputAfter,
      amplification: meanRate(attempts, tail, seconds) / Math.max(1e-9, meanRate(offered, tail, seconds)),
      recovered: goodputAfter >= 0.9 * p.lambda,
      recoveryMs: recoveryAfter({ ok, offered, triggerEndMs: TRIGGER + p.outageMs, seconds }),
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
