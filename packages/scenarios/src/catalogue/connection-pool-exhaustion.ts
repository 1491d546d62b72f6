import { ConnectionPool, Service } from '@dsim/components';
import { exponential, LatencyHistogram, Network, RpcEndpoint, scheduleFaults } from '@dsim/core';
import { param } from '../params.js';
import { meanRate, recoveryAfter } from '../recovery.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_OFFERED, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

/** The DB incident starts here (ms). */
const INCIDENT_AT = 10_000;
const POOL_POLICIES = ['unbounded-wait', 'acquire-timeout', 'bounded-pending'] as const;

/** What a front request carries: whether it needs the database. */
interface FrontRequest {
  readonly id: number;
  readonly db: boolean;
}

/**
 * `connection-pool-exhaustion`: a front service (`workers` threads, thread-per-request) serves a mix of
 * requests; a share `dbShare` of them queries a database through a client-side pool of `poolSize`
 * connections, the rest need no database at all. From t = 10 s the database answers `dbSlowMs` later
 * (a latency fault) for `incidentMs`. By Little's law the pool holds λ_db × L connections at DB latency
 * L, so it saturates once **L > L* = poolSize / λ_db**; beyond that, calls wait for a connection and
 * each waiting call holds a front worker. What the pool does with those waiters decides whether the
 * incident stays with the DB requests or takes the whole service down.
 *
 * Variants: `unbounded-wait` (wait for ever: every worker ends up blocked on the pool, and the requests
 * that need no database fail too), `acquire-timeout` (HikariCP's `connectionTimeout`: give up after
 * `acquireTimeoutMs`, the worker is freed), `bounded-pending` (Envoy's `max_pending_requests`: at most
 * `maxPending` wait, the rest fail at once), `bigger-pool` (64 connections, more than λ_db × L).
 *
 * @example
 * ```ts
 * const r = runScenario(connectionPoolExhaustion, { seed: 1, variants: ['unbounded-wait', 'acquire-timeout'] });
 * r.variants.map((v) => v.outcome.plainAvailabilityDuring); // [0.13, 1]: requests with no DB query
 * r.outcome.saturationLatencyMs; // 100: poolSize / lambda_db
 * ```
 */
export const connectionPoolExhaustion = defineScenario({
  name: 'connection-pool-exhaustion',
  description: 'A slow DB drains the connection pool, then the workers: unrelated requests fail too',
  params: {
    lambda: param.number({
      default: 200,
      min: 0,
      max: MAX_RATE,
      exclusiveMin: true,
      description: 'front requests per second (Poisson)',
    }),
    dbShare: param.number({
      default: 0.5,
      min: 0,
      max: 1,
      description: 'share of requests that query the database',
    }),
    workers: param.integer({ default: 100, min: 1, max: MAX_WORKERS, description: 'front worker threads' }),
    frontMs: param.number({
      default: 5,
      min: 0,
      max: MAX_MS,
      description: "front's own work per request (exponential)",
    }),
    dbMs: param.number({
      default: 10,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: 'DB query time when healthy (exponential; the DB has capacity to spare)',
    }),
    dbSlowMs: param.number({
      default: 500,
      min: 0,
      max: MAX_MS,
      description: 'extra DB latency during the incident (a latency fault on its responses)',
    }),
    incidentMs: param.number({
      default: 10_000,
      min: 0,
      max: MAX_MS,
      description: 'how long the DB is slow, from t = 10 s',
    }),
    poolSize: param.integer({
      default: 10,
      min: 1,
      max: MAX_WORKERS,
      description: 'connections (HikariCP maximumPoolSize)',
    }),
    pool: param.enum(POOL_POLICIES, {
      default: 'unbounded-wait',
      description: 'what a call does when no connection is free (each variant sets it)',
    }),
    acquireTimeoutMs: param.number({
      default: 250,
      min: 0,
      max: MAX_MS,
      description: 'for pool=acquire-timeout: longest wait for a connection (HikariCP connectionTimeout)',
    }),
    maxPending: param.integer({
      default: 5,
      min: 0,
      max: MAX_OFFERED,
      description: 'for pool=bounded-pending: calls that may wait (Envoy max_pending_requests)',
    }),
    timeoutMs: param.number({ default: 1000, min: 1, max: MAX_MS, description: 'client timeout' }),
    seconds: param.number({
      default: 40,
      min: 25,
      max: MAX_SECONDS,
      description: 'simulated seconds of arrivals',
    }),
  },
  variants: [
    { name: 'unbounded-wait', params: { pool: 'unbounded-wait' } },
    { name: 'acquire-timeout', params: { pool: 'acquire-timeout' } },
    { name: 'bounded-pending', params: { pool: 'bounded-pending' } },
    { name: 'bigger-pool', params: { pool: 'unbounded-wait', poolSize: 64 } },
  ],
  run({ sim, params, requests, check }) {
    // Workers blocked on the pool leave every later request queued at the front.
    limitOffered(params.lambda * params.seconds, 'lambda × seconds');
    const net = new Network(sim);
    new Service(net.addNode('db'), { concurrency: 10_000, serviceTime: exponential({ mean: params.dbMs }) });
    const pool = new ConnectionPool(sim, {
      name: 'db-pool',
      size: params.poolSize,
      ...(params.pool === 'acquire-timeout' ? { acquireTimeout: params.acquireTimeoutMs } : {}),
      ...(params.pool === 'bounded-pending' ? { maxPending: params.maxPending } : {}),
    });
    const front = new Service(net.addNode('front'), {
      concurrency: params.workers,
      serviceTime: params.frontMs > 0 ? exponential({ mean: params.frontMs }) : 0,
      // A JDBC query knows nothing of the HTTP request's deadline: it runs to the end once it has a
      // connection.
      // Only requests that need the database call it, through the pool.
      downstream: {
        calls: (request) => ((request.payload as FrontRequest).db ? ['db'] : []),
        pool,
        propagateDeadline: false,
      },
    });
    const client = new RpcEndpoint(net.addNode('client'));
    const incidentEnd = INCIDENT_AT + params.incidentMs;
    if (params.incidentMs > 0 && params.dbSlowMs > 0) {
      scheduleFaults(net, [
        {
          at: INCIDENT_AT,
          for: params.incidentMs,
          fault: { kind: 'latency', a: 'db', b: 'front', latency: params.dbSlowMs, oneWay: true },
        },
      ]);
    }

    const seconds = Math.floor(params.seconds);
    const endMs = params.seconds * 1000;
    const span = seconds + Math.ceil(params.timeoutMs / 1000) + 2;
    const okPerSecond = new Array<number>(span).fill(0);
    const offeredPerSecond = new Array<number>(span).fill(0);
    const bucket = (t: number): number => Math.min(span - 1, Math.floor(t / 1000));
    const during = (t: number): boolean => t >= INCIDENT_AT && t < incidentEnd;
    // [ok, all] during the incident, by kind of request
    const tally: Record<'db' | 'plain', [number, number]> = { db: [0, 0], plain: [0, 0] };
    const latencyDuring = new LatencyHistogram();
    const gaps = exponential({ rate: params.lambda / 1000 });
    const rng = sim.rng('pool/arrivals');
    const mix = sim.rng('pool/mix');
    let id = 0;
    let dbCallsSampled = 0; // DB requests that arrived while occupancy was sampled
    sim.process(function* () {
      yield sim.timeout(gaps.sample(rng));
      while (sim.now < endMs) {
        const started = sim.now;
        const request: FrontRequest = { id: id++, db: mix.next() < params.dbShare };
        requests.start();
        offeredPerSecond[bucket(started)]!++;
        if (request.db && started >= INCIDENT_AT + 1000 && started < incidentEnd) dbCallsSampled++;
        client.call('front', request, { timeout: params.timeoutMs }).onProcessed((e) => {
          const ok = e.value!.ok;
          const latency = sim.now - started;
          requests.finish(ok, latency);
          if (ok) okPerSecond[bucket(started)]!++;
          if (during(started)) {
            const t = request.db ? tally.db : tally.plain;
            t[1]++;
            if (ok) t[0]++;
            latencyDuring.record(latency);
          }
        });
        yield sim.timeout(gaps.sample(rng));
      }
    });
    // Pool and worker occupancy during the incident (after a 1 s settling time), sampled every 10 ms.
    let samples = 0;
    let activeSum = 0;
    let busySum = 0;
    let maxPending = 0;
    let maxQueue = 0;
    sim.process(function* () {
      yield sim.timeout(INCIDENT_AT);
      while (sim.now < incidentEnd) {
        if (sim.now >= INCIDENT_AT + 1000) {
          samples++;
          activeSum += pool.active;
          busySum += front.busy;
        }
        maxPending = Math.max(maxPending, pool.pending);
        maxQueue = Math.max(maxQueue, front.queueLength);
        yield sim.timeout(10);
      }
    });
    sim.run();

    const end = Math.ceil(incidentEnd / 1000);
    const tail = Math.max(end + 1, seconds - 10);
    const goodputAfter = meanRate(okPerSecond, tail, seconds);
    const recovered = goodputAfter >= 0.9 * meanRate(offeredPerSecond, tail, seconds);
    const recoveryMs = recoveryAfter({
      ok: okPerSecond,
      offered: offeredPerSecond,
      triggerEndMs: incidentEnd,
      seconds,
    });
    // Little's law for the pool: connections in use = DB call rate × DB latency.
    const dbRate = params.lambda * params.dbShare;
    const dbLatencyDuring = params.dbMs + params.dbSlowMs;
    const poolNeed = (dbRate * dbLatencyDuring) / 1000;
    // Workers busy at once if every call got a connection at once (Little's law again).
    const workerNeed = (dbRate * dbLatencyDuring + params.lambda * params.frontMs) / 1000;
    // The same with the DB call rate measured over the sampled window, free of the arrivals' noise.
    const sampledMs = params.incidentMs - 1000;
    const poolNeedMeasured = sampledMs > 0 ? (dbCallsSampled / sampledMs) * dbLatencyDuring : 0;
    // With unbounded waiting above saturation the waiters grow at lambda_db - poolSize / L, each holding
    // a worker: every worker is blocked after workers / that.
    const growth = dbRate - (params.poolSize * 1000) / dbLatencyDuring;
    const exhaustAfterMs = growth > 0 ? (params.workers / growth) * 1000 : null;
    const saturationLatencyMs = dbRate === 0 ? null : (params.poolSize * 1000) / dbRate;
    // Workers in use during the incident, by Little's law: below saturation every request holds one for
    // its own work plus its query; above it, the P connections' holders plus the waiters, whose number the
    // policy bounds (λ_db × acquireTimeout, or maxPending), plus the front's own work. Unbounded: all.
    const ownWork = (params.lambda * params.frontMs) / 1000;
    let predictedBusy = workerNeed;
    if (poolNeed > params.poolSize) {
      if (params.pool === 'acquire-timeout')
        predictedBusy = params.poolSize + (dbRate * params.acquireTimeoutMs) / 1000 + ownWork;
      else if (params.pool === 'bounded-pending')
        predictedBusy = params.poolSize + params.maxPending + ownWork;
      else predictedBusy = params.workers;
    }
    const predictedWorkersBusy = Math.min(1, predictedBusy / params.workers);
    const share = ([ok, all]: [number, number]): number => (all === 0 ? 1 : ok / all);
    const stats = pool.stats;
    const outcome = {
      dbLatencyDuring,
      poolNeed,
      workerNeed,
      saturationLatencyMs,
      exhaustAfterMs,
      poolActiveDuring: samples === 0 ? 0 : activeSum / samples,
      workersBusyDuring: samples === 0 ? 0 : busySum / samples / params.workers,
      predictedWorkersBusy,
      maxPending,
      maxFrontQueue: maxQueue,
      poolTimeouts: stats.timeouts,
      poolOverflows: stats.overflows,
      goodputBefore: meanRate(okPerSecond, 2, 10),
      goodputDuring: meanRate(okPerSecond, 10, Math.max(11, end)),
      goodputAfter,
      dbAvailabilityDuring: share(tally.db),
      plainAvailabilityDuring: share(tally.plain),
      p99DuringMs: latencyDuring.count === 0 ? 0 : latencyDuring.percentile(99),
      recovered,
      recoveryMs,
    };

    if (params.incidentMs >= 5000 && dbRate > 0) {
      const measured = outcome.poolActiveDuring;
      if (poolNeed < 0.9 * params.poolSize && workerNeed < 0.9 * params.workers) {
        check(
          "below saturation the pool holds lambda_db x L connections (Little's law)",
          Math.abs(measured - poolNeedMeasured) <= Math.max(0.5, 0.05 * poolNeedMeasured),
          `measured ${measured.toFixed(2)} connections, lambda_db x L = ${poolNeedMeasured.toFixed(2)} (with the measured call rate) of ${params.poolSize}`,
        );
      } else if (poolNeed < 0.9 * params.poolSize && workerNeed > 1.1 * params.workers) {
        check(
          'a pool big enough moves the queue to the workers (lambda_db x L + lambda x frontMs > workers)',
          outcome.workersBusyDuring >= 0.95,
          `workers busy ${outcome.workersBusyDuring.toFixed(3)}, needed ${workerNeed.toFixed(1)} of ${params.workers}`,
        );
      } else if (poolNeed > 1.2 * params.poolSize) {
        check(
          'above saturation (L > poolSize / lambda_db) every connection is in use',
          measured >= 0.95 * params.poolSize,
          `measured ${measured.toFixed(2)} of ${params.poolSize}; L ${dbLatencyDuring} ms > L* ${saturationLatencyMs?.toFixed(0)} ms`,
        );
        if (
          params.pool === 'unbounded-wait' &&
          exhaustAfterMs !== null &&
          exhaustAfterMs < 0.2 * params.incidentMs
        ) {
          check(
            'waiting for ever blocks every worker: requests that need no database fail too',
            outcome.workersBusyDuring >= 0.95 && outcome.plainAvailabilityDuring < 0.5,
            `workers busy ${outcome.workersBusyDuring.toFixed(3)} (all blocked after ~${exhaustAfterMs.toFixed(0)} ms), availability of requests without a DB query ${outcome.plainAvailabilityDuring.toFixed(3)}`,
          );
        }
        if (params.pool !== 'unbounded-wait' && predictedWorkersBusy < 0.9) {
          check(
            "failing fast bounds the workers held (Little's law): requests that need no database are unaffected",
            outcome.plainAvailabilityDuring >= 0.99 &&
              Math.abs(outcome.workersBusyDuring - predictedWorkersBusy) <= 0.1,
            `availability of requests without a DB query ${outcome.plainAvailabilityDuring.toFixed(3)}; workers busy ${outcome.workersBusyDuring.toFixed(3)}, predicted ${predictedWorkersBusy.toFixed(3)}`,
          );
        }
      }
    }
    return outcome;
  },
  compare(variants: readonly VariantResult[], params) {
    const wait = variants.find((v) => v.name === 'unbounded-wait')?.outcome;
    // Only when waiting for ever blocks every worker early in the incident (see the per-variant check).
    const exhaust = wait?.exhaustAfterMs;
    if (wait === undefined || typeof exhaust !== 'number' || exhaust >= 0.2 * params.incidentMs) return [];
    // ... and against the variants whose waiting Little's law says stays bounded.
    return variants
      .filter((v) => v.name !== 'unbounded-wait' && (v.outcome.predictedWorkersBusy as number) < 0.9)
      .map((v) => ({
        name: `${v.name} keeps requests without a DB query available where unbounded-wait does not`,
        pass: (v.outcome.plainAvailabilityDuring as number) > (wait.plainAvailabilityDuring as number),
        detail: `unbounded-wait ${wait.plainAvailabilityDuring}, ${v.name} ${v.outcome.plainAvailabilityDuring}`,
      }));
  },
});
