import { type QueueDiscipline, Service } from '@dsim/components';
import { exponential, LatencyHistogram, Network, RpcEndpoint } from '@dsim/core';
import { BatchMeans } from '../batch-means.js';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_FACTOR, MAX_MS, MAX_RATE, MAX_SECONDS } from './limits.js';

const QUEUES = [
  'fifo',
  'bounded-queue',
  'lifo',
  'drop-expired',
  'queue-timeout',
  'adaptive-lifo',
  'codel',
] as const;

/** The overload starts here (ms); before it the server runs at the base load. */
const PEAK_START = 5000;
/** Measurement of the overload starts this long after it begins (ms), once queues have settled. */
const SETTLE = 5000;
/** Checks allow this many standard errors of counting noise (Poisson counts of served requests). */
const Z = 4;
/**
 * Variance of drop-expired's (and queue-timeout's) in-time count relative to a Poisson count of the same
 * mean. Successes cluster (an in-time answer leaves the next request more slack), so the count is
 * over-dispersed: 40 seeds gave a standard deviation of 3.1/s over the default 25 s window, against 1.6/s
 * for a Poisson count.
 */
const DROP_EXPIRED_DISPERSION = 4;
/** 5 s buckets shown in `goodputPer5s` (the first 10 minutes). */
const TIMELINE_BUCKETS = 120;

/**
 * Expected figures of an M/M/1/K queue whose callers give up after a timeout. Rates per second.
 *
 * @example
 * ```ts
 * const { goodput, blocking }: DeadlineQueueTheory = mm1kDeadlineGoodput(150, 100, 50, 1);
 * ```
 */
export interface DeadlineQueueTheory {
  /** Admitted and served per second: λ(1 − P_N). */
  throughput: number;
  /** Served and answered before the caller's timeout, per second. */
  goodput: number;
  /** Share of arrivals that find the queue full: P_N. */
  blocking: number;
}

/**
 * Steady state of an M/M/1/K queue (one server, `queueSlots` waiting places, so N = K + 1 in the system)
 * whose callers time out after `timeoutS` seconds. An admitted arrival that finds n in the system leaves
 * after n + 1 exponential phases (Erlang(n + 1, μ)), so it is answered in time with probability
 * P(Poisson(μT) ≥ n + 1), and goodput = λ Σ_{n<N} π_n P(Poisson(μT) ≥ n + 1) with π_n ∝ ρ^n.
 *
 * @param lambda - arrivals per second
 * @param mu - services per second
 * @param queueSlots - waiting places K (0 or more)
 * @param timeoutS - the caller's timeout in seconds
 * @example
 * ```ts
 * const t = mm1kDeadlineGoodput(150, 100, 50, 1); // overload 1.5x, 50 slots, 1 s timeout
 * t.goodput; // ~99.9 per second: almost every admitted request is answered in time
 * ```
 */
export function mm1kDeadlineGoodput(
  lambda: number,
  mu: number,
  queueSlots: number,
  timeoutS: number,
): DeadlineQueueTheory {
  const n = queueSlots + 1;
  const rho = lambda / mu;
  // Weights rho^k scaled by the largest one, so large K neither overflows nor underflows.
  const logRho = Math.log(rho);
  const top = rho >= 1 ? n * logRho : 0;
  const weights = Array.from({ length: n + 1 }, (_, k) => Math.exp(k * logRho - top));
  const total = weights.reduce((a, b) => a + b, 0);
  const pi = weights.map((w) => w / total);
  // P(Poisson(x) >= k + 1) = 1 - sum_{i<=k} e^-x x^i / i!, terms in log space.
  const x = mu * timeoutS;
  let logTerm = -x; // log(e^-x x^0 / 0!)
  let cdf = 0;
  let goodput = 0;
  for (let k = 0; k < n; k++) {
    cdf += Math.exp(logTerm);
    goodput += pi[k]! * Math.max(0, 1 - cdf);
    logTerm += Math.log(x) - Math.log(k + 1);
  }
  const blocking = pi[n]!;
  return { throughput: lambda * (1 - blocking), goodput: lambda * goodput, blocking };
}

/**
 * `goodput-collapse`: high throughput, zero goodput from a stale queue. One server (exponential service,
 * `mu` per second, one worker) behind clients that give up after `timeoutMs`. Load is `baseLambda` except
 * for `peakSeconds` from t = 5 s, when it is `peakLambda` > `mu`. With an unbounded FIFO queue the backlog
 * grows at λ − μ; once its delay exceeds the timeout the server is 100% busy serving requests whose callers
 * have left: throughput ≈ μ, goodput 0. The queue stays stale after the peak, until the backlog has drained
 * below μT, about (B − μT)/(μ − λ_base) seconds for a backlog B.
 *
 * Variants change only how the queue is managed: `fifo` (the collapse), `bounded-queue` (K = share·μT
 * slots: Little's law bounds the wait at about K/μ; compared with the M/M/1/K formula), `lifo` (newest
 * first), `drop-expired` (skip requests whose deadline has passed: goodput μ²/λ, see the docs) and
 * `queue-timeout` (drop requests that waited longer than share·T: goodput μ(1 − e^(−μ(T − share·T))(1 − μ/λ))),
 * `adaptive-lifo` (Facebook's: FIFO until the queue has stood for 100 ms, then LIFO) and `codel` (Facebook's
 * CoDel for server queues, its 5 ms / 100 ms scaled to this service: target 5/μ, interval 50/μ).
 *
 * @example
 * ```ts
 * const result = runScenario(goodputCollapse, { seed: 1 });
 * const fifo = result.variants.find((v) => v.name === 'fifo')!;
 * fifo.outcome.throughputDuring; // ≈ 100 per second
 * fifo.outcome.goodputDuring; // 0
 * ```
 */
export const goodputCollapse = defineScenario({
  name: 'goodput-collapse',
  description:
    'Overload with a FIFO queue: the server stays busy, goodput falls to 0; how queue policies fix it',
  params: {
    mu: param.number({
      default: 100,
      min: 0,
      max: MAX_RATE,
      exclusiveMin: true,
      description: 'server capacity per second (one worker, exponential service)',
    }),
    baseLambda: param.number({
      default: 50,
      min: 0,
      max: MAX_RATE,
      exclusiveMin: true,
      description: 'requests per second (Poisson) before and after the overload',
    }),
    peakLambda: param.number({
      default: 150,
      min: 0,
      max: MAX_RATE,
      exclusiveMin: true,
      description: 'requests per second during the overload',
    }),
    peakSeconds: param.number({
      default: 30,
      min: 10,
      max: MAX_SECONDS,
      description: 'length of the overload, from t = 5 s; measured from 5 s after it starts',
    }),
    afterSeconds: param.number({
      default: 45,
      min: 5,
      max: MAX_SECONDS,
      description: 'simulated seconds after the overload',
    }),
    timeoutMs: param.number({ default: 1000, min: 1, max: MAX_MS, description: 'client timeout (T)' }),
    boundedShare: param.number({
      default: 0.5,
      min: 0,
      max: MAX_FACTOR,
      exclusiveMin: true,
      description: 'bounded-queue slots as a share of mu x T (Little: a full queue waits about K/mu)',
    }),
    queueTimeoutShare: param.number({
      default: 0.5,
      min: 0,
      max: 1,
      exclusiveMin: true,
      description: 'queue-timeout as a share of T',
    }),
    queue: param.enum(QUEUES, {
      default: 'fifo',
      description: 'queue management (each variant sets it)',
    }),
  },
  variants: QUEUES.map((name) => ({ name, params: { queue: name } })),
  run({ sim, params, requests, check }) {
    const { mu, baseLambda, peakLambda, timeoutMs, queue } = params;
    // The FIFO variant's stale queue can hold every request of the overload.
    limitOffered(
      baseLambda * (PEAK_START / 1000 + params.afterSeconds) + peakLambda * params.peakSeconds,
      'baseLambda × (5 + afterSeconds) + peakLambda × peakSeconds',
    );
    const peakEnd = PEAK_START + params.peakSeconds * 1000;
    const end = peakEnd + params.afterSeconds * 1000;
    const from = PEAK_START + SETTLE;
    const window = (peakEnd - from) / 1000;
    const slots = Math.max(1, Math.round((params.boundedShare * mu * timeoutMs) / 1000));
    const queueTimeout = params.queueTimeoutShare * timeoutMs;

    const net = new Network(sim);
    const discipline: QueueDiscipline =
      queue === 'lifo' ? 'lifo' : queue === 'adaptive-lifo' ? 'adaptive-lifo' : 'fifo';
    const server = new Service(net.addNode('server'), {
      serviceTime: exponential({ mean: 1000 / mu }),
      discipline,
      ...(queue === 'bounded-queue' ? { queueCapacity: slots } : {}),
      ...(queue === 'queue-timeout' ? { queueTimeout } : {}),
      // CoDel's 5 ms / 100 ms suit sub-millisecond services; scale them to this one (mean service 1/μ).
      ...(queue === 'codel'
        ? { shedding: { kind: 'codel', target: 5000 / mu, interval: 50_000 / mu } as const }
        : {}),
      dropExpired: queue === 'drop-expired',
    });
    const client = new RpcEndpoint(net.addNode('client'));
    const completed = sim.metrics.counter('server', 'svc.completed');
    const busy = sim.metrics.gauge('server', 'svc.busy');
    const queueGauge = sim.metrics.gauge('server', 'svc.queue');

    const seconds = Math.ceil(end / 1000);
    const offeredBySecond = new Array<number>(seconds).fill(0); // by arrival second
    const okByArrival = new Array<number>(seconds).fill(0); // in-time answers, by arrival second
    const okByCompletion = new Array<number>(seconds + Math.ceil(timeoutMs / 1000) + 1).fill(0);
    const okLatency = new LatencyHistogram();
    let ok = 0;

    // Counters read at the edges of the measurement window [from, peakEnd).
    interface Reading {
      ok: number;
      served: number;
      late: number;
      busyIntegral: number;
      inSystem: number;
    }
    const read = (): Reading => ({
      ok,
      served: completed.value,
      late: client.stats.late,
      busyIntegral: busy.mean() * (sim.now - sim.metrics.start),
      inSystem: server.queueLength + server.busy,
    });
    const readings: Reading[] = [];
    sim.scheduleAt(from, () => readings.push(read()));
    sim.scheduleAt(peakEnd, () => readings.push(read()));

    const send = (): void => {
      const started = sim.now;
      const second = Math.floor(started / 1000);
      offeredBySecond[second]!++;
      requests.start();
      client.call('server', null, { timeout: timeoutMs }).onProcessed((e) => {
        const res = e.value!;
        const latency = sim.now - started;
        requests.finish(res.ok, latency);
        if (!res.ok) return;
        ok++;
        okByArrival[second]!++;
        okByCompletion[Math.floor(sim.now / 1000)]!++;
        if (sim.now >= from && sim.now < peakEnd) okLatency.record(latency);
      });
    };

    // Piecewise Poisson arrivals: at a rate change, restart the gap at the new rate (memorylessness).
    const base = exponential({ rate: baseLambda / 1000 });
    const peak = exponential({ rate: peakLambda / 1000 });
    const rng = sim.rng('goodput-collapse/arrivals');
    sim.process(function* () {
      while (sim.now < end) {
        const inPeak = sim.now >= PEAK_START && sim.now < peakEnd;
        const boundary = sim.now < PEAK_START ? PEAK_START : inPeak ? peakEnd : end;
        const gap = (inPeak ? peak : base).sample(rng);
        if (sim.now + gap >= boundary) {
          yield sim.timeout(boundary - sim.now);
          continue;
        }
        yield sim.timeout(gap);
        send();
      }
    });
    sim.run();

    const [a, b] = readings as [Reading, Reading];
    const served = b.served - a.served;
    const late = b.late - a.late;
    const throughput = served / window;
    const goodput = (b.ok - a.ok) / window;
    const utilization = (b.busyIntegral - a.busyIntegral) / (peakEnd - from);
    const capacity = Math.min(peakLambda, mu);
    const overloaded = peakLambda > mu;
    const countNoise = (rate: number, dispersion = 1): number =>
      (Z * Math.sqrt(dispersion * Math.max(rate, 1) * window)) / window;

    // Recovery: first arrival second after the peak from which every later second has >= 90% answered in time.
    const firstAfter = Math.ceil(peakEnd / 1000);
    let recoveredAt: number | null = null;
    for (let s = seconds - 1; s >= firstAfter; s--) {
      const offered = offeredBySecond[s]!;
      if (offered > 0 && okByArrival[s]! / offered < 0.9) break;
      recoveredAt = s;
    }
    const recoveryMs = recoveredAt === null ? null : Math.max(0, recoveredAt * 1000 - peakEnd);
    // Fluid model of the stale FIFO queue: an arrival s seconds after the peak completes after the backlog B
    // and the s·λ_base arrivals before it: in time once (B + 1 + λ_base s)/μ − s <= T.
    const backlog = b.inSystem;
    const fifoTheoryRecoveryMs =
      baseLambda < mu
        ? Math.max(0, (backlog + 1 - (mu * timeoutMs) / 1000) / (mu - baseLambda)) * 1000
        : null;

    // Theory of goodput during the overload, per variant.
    let theoryGoodput: number | null = null;
    if (queue === 'fifo') {
      // Completions in the window arrived after >= SETTLE·μ/λ of overload and waited (1 − μ/λ) of that.
      if (overloaded && (1 - mu / peakLambda) * SETTLE > 1.2 * timeoutMs) theoryGoodput = 0;
    } else if (queue === 'bounded-queue') {
      theoryGoodput = mm1kDeadlineGoodput(peakLambda, mu, slots, timeoutMs / 1000).goodput;
    } else if ((queue === 'drop-expired' || queue === 'queue-timeout') && overloaded) {
      // The server picks the oldest request not yet dropped; its slack before the drop line is a sum of
      // Exp(λ) gaps raced by Exp(μ) services: a GI/M/1-type chain with a geometric stationary law of ratio
      // μ/λ, so P(service > slack) = 1 − μ/λ. A margin D between the drop line and the deadline (D = T − queue
      // timeout; 0 for drop-expired) adds e^(−μD): goodput = μ(1 − e^(−μD)(1 − μ/λ)), μ²/λ for D = 0.
      const margin = queue === 'drop-expired' ? 0 : (timeoutMs - queueTimeout) / 1000;
      theoryGoodput = mu * (1 - Math.exp(-mu * margin) * (1 - mu / peakLambda));
    }

    // Batch-means standard error of the per-second goodput in the window: in-time answers are correlated
    // (a queue that runs long makes many requests late at once), so a Poisson error can be far too small.
    const firstSecond = Math.ceil(from / 1000);
    const lastSecond = Math.floor(peakEnd / 1000);
    const perSecond = new BatchMeans(lastSecond - firstSecond, 5);
    for (let s = firstSecond; s < lastSecond; s++) perSecond.add(okByCompletion[s]!);
    const batchError = Number.isNaN(perSecond.standardError) ? 0 : perSecond.standardError;

    if (queue === 'fifo' && overloaded) {
      check(
        'the server stays 100% busy during the overload',
        utilization > 0.999,
        `utilization ${utilization.toFixed(4)}`,
      );
      check(
        'throughput during the overload ≈ mu',
        Math.abs(throughput - mu) <= countNoise(mu),
        `${throughput.toFixed(1)}/s, mu ${mu}/s (±${countNoise(mu).toFixed(1)}, ${Z} SE of a Poisson count)`,
      );
      if (theoryGoodput === 0) {
        check(
          'goodput during the overload collapses (< 2% of mu)',
          goodput < 0.02 * mu,
          `goodput ${goodput.toFixed(2)}/s, ${(100 * (late / Math.max(1, served))).toFixed(1)}% of served responses late`,
        );
      }
      if (fifoTheoryRecoveryMs !== null && fifoTheoryRecoveryMs > 2000) {
        const tol = Math.max(3000, 0.15 * fifoTheoryRecoveryMs);
        const shown = `${recoveryMs === null ? 'not recovered' : `recovered ${(recoveryMs / 1000).toFixed(1)} s after the peak`}, fluid model ${(fifoTheoryRecoveryMs / 1000).toFixed(1)} s for a backlog of ${backlog} (±${(tol / 1000).toFixed(1)} s)`;
        const horizon = end - peakEnd - 2000; // the last seconds cannot show a sustained recovery
        if (fifoTheoryRecoveryMs + tol <= horizon) {
          check(
            'the stale queue keeps goodput at 0 after the peak for (B − μT)/(μ − λ_base)',
            recoveryMs !== null && Math.abs(recoveryMs - fifoTheoryRecoveryMs) <= tol,
            shown,
          );
        } else if (fifoTheoryRecoveryMs - tol > end - peakEnd) {
          check('the stale queue has not drained by the end of the run', recoveryMs === null, shown);
        }
      }
    }
    if (queue !== 'fifo' && overloaded) {
      if (theoryGoodput !== null) {
        const dispersion = queue === 'bounded-queue' ? 1 : DROP_EXPIRED_DISPERSION;
        const tol = Math.max(countNoise(theoryGoodput, dispersion), Z * batchError) + 0.01 * theoryGoodput;
        check(
          `goodput during the overload matches theory (${queue === 'bounded-queue' ? 'M/M/1/K with timeout' : queue === 'drop-expired' ? 'μ²/λ' : 'μ(1 − e^(−μD)(1 − μ/λ))'})`,
          Math.abs(goodput - theoryGoodput) <= tol,
          `measured ${goodput.toFixed(1)}/s, theory ${theoryGoodput.toFixed(1)}/s (±${tol.toFixed(1)})`,
        );
      }
      if (queue !== 'drop-expired') {
        const floor = 0.9 * capacity;
        check(
          'goodput during the overload stays near min(λ, μ) (>= 90%)',
          goodput >= floor,
          `goodput ${goodput.toFixed(1)}/s, min(λ, μ) = ${capacity}/s`,
        );
      }
      check(
        'recovers within T + 1 s of the end of the overload',
        recoveryMs !== null && recoveryMs <= timeoutMs + 1000,
        `recovered ${recoveryMs === null ? 'never' : `${recoveryMs} ms`} after the peak`,
      );
    }

    const rate = (series: number[], s0: number, s1: number): number =>
      series.slice(s0, s1).reduce((x, y) => x + y, 0) / Math.max(1, s1 - s0);
    // The first TIMELINE_BUCKETS buckets: a long run's outcome stays short.
    const timeline: string[] = [];
    const buckets = Math.floor(seconds / 5);
    for (let s = 0; s + 5 <= Math.min(seconds, 5 * TIMELINE_BUCKETS); s += 5)
      timeline.push(String(Math.round(rate(okByCompletion, s, s + 5))));
    if (buckets > TIMELINE_BUCKETS) timeline.push(`… (${buckets - TIMELINE_BUCKETS} more)`);
    const okSummary = okLatency.summary();
    return {
      queueSlots: queue === 'bounded-queue' ? slots : null,
      utilizationDuring: utilization,
      throughputDuring: throughput,
      goodputDuring: goodput,
      theoryGoodputDuring: theoryGoodput,
      wastedShareDuring: served === 0 ? 0 : late / served,
      wastedShareTotal: completed.value === 0 ? 0 : client.stats.late / completed.value,
      okP99DuringMs: okSummary.count === 0 ? null : okSummary.p99,
      maxQueue: queueGauge.max,
      backlogAtPeakEnd: backlog,
      goodputAfter: rate(okByCompletion, seconds - 10, seconds),
      recoveryMs,
      theoryRecoveryMs: queue === 'fifo' ? fifoTheoryRecoveryMs : null,
      goodputPer5s: timeline.join(' '),
    };
  },
  compare(variants: readonly VariantResult[], params) {
    const fifo = variants.find((v) => v.name === 'fifo');
    if (fifo === undefined || params.peakLambda <= params.mu) return [];
    const goodput = (v: VariantResult): number => v.outcome.goodputDuring as number;
    return variants
      .filter((v) => v.name !== 'fifo')
      .map((v) => {
        // Half of what theory promises the variant (min(λ, μ) where no closed form is used).
        const theory = v.outcome.theoryGoodputDuring as number | null;
        const promised = theory ?? Math.min(params.mu, params.peakLambda);
        return {
          name: `${v.name} keeps more goodput than fifo during the overload`,
          pass: goodput(v) > goodput(fifo) + 0.5 * promised,
          detail: `${v.name} ${goodput(v).toFixed(1)}/s (${theory === null ? 'min(λ, μ)' : 'theory'} ${promised.toFixed(1)}/s), fifo ${goodput(fifo).toFixed(1)}/s`,
        };
      });
  },
});
