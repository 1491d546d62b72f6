import {
  ActiveHealthCheck,
  type BackendHealth,
  type BackendSpec,
  type BackoffSpec,
  type BalancerPolicySpec,
  type EnvoySlowStartSpec,
  LoadBalancer,
  type LoadBalancerOptions,
  type LoadBalancerRetryOptions,
  MaxFails,
  OutlierDetection,
  type SlowStartSpec,
} from '@dsim/components';
import type { NetNode, Simulation } from '@dsim/core';
import type { BalancerDescription } from './balancer-schema.js';
import { clean } from './clean.js';
import { toDistribution } from './distributions.js';
import type { SystemDescription } from './schema.js';
import { addressesOf } from './validate.js';

/** A balancer node, compiled: the LoadBalancer and the health hooks built for it. */
export interface BalancerHandle {
  readonly lb: LoadBalancer;
  /** Active health checks (`health`), or undefined. */
  readonly checks: ActiveHealthCheck | undefined;
  /** Outlier detection (`outlierDetection`), or undefined; its metrics are under the balancer's name. */
  readonly outliers: OutlierDetection | undefined;
  /** nginx's passive health (`maxFails`), or undefined. */
  readonly maxFails: MaxFails | undefined;
}

/** Called for every backend answer the balancer gets: backend address, ok, error kind, latency (ms). */
export type BackendAnswerHook = (
  address: string,
  ok: boolean,
  kind: string | undefined,
  latency: number,
) => void;

/**
 * Builds a balancer node: a {@link LoadBalancer} on `node` with the described policy, weights, limits,
 * slow start, retries, hedging and load reports, and as its health hooks (a backend is available when
 * every one says so) the active checks, outlier detection and max-fails when described. `onAnswer`
 * (per-edge measurement) is told every backend answer. Hooks that run timers for ever (checks, outlier
 * sweeps) are stopped at `stopAt`, so that the run ends.
 */
export function buildBalancer(
  sim: Simulation,
  system: SystemDescription,
  node: NetNode,
  d: BalancerDescription,
  onAnswer: BackendAnswerHook | undefined,
  stopAt: number,
): BalancerHandle {
  let checks: ActiveHealthCheck | undefined;
  // The checks need the balancer's endpoint, so they are built after it: this hook asks them lazily.
  const health: BackendHealth[] = [];
  if (d.health !== undefined || onAnswer !== undefined)
    health.push({
      isAvailable: (a) => checks?.isAvailable(a) ?? true,
      ...(onAnswer === undefined ? {} : { onResponse: onAnswer }),
    });
  // On the balancer's node: a crash of the balancer loses their state, as a restarted proxy's.
  const outliers =
    d.outlierDetection === undefined ? undefined : new OutlierDetection(node, clean(d.outlierDetection));
  if (outliers !== undefined) health.push(outliers);
  const maxFails = d.maxFails === undefined ? undefined : new MaxFails(node, clean(d.maxFails));
  if (maxFails !== undefined) health.push(maxFails);
  const options: LoadBalancerOptions = {
    backends: backends(system, d),
    ...(d.policy === undefined
      ? {}
      : {
          policy: (typeof d.policy === 'string' ? { kind: d.policy } : clean(d.policy)) as BalancerPolicySpec,
        }),
    ...(d.timeout === undefined ? {} : { timeout: d.timeout }),
    ...(d.concurrency === undefined ? {} : { concurrency: d.concurrency }),
    ...(d.latency === undefined ? {} : { latency: toDistribution(d.latency) }),
    ...(d.workers === undefined ? {} : { workers: d.workers }),
    ...(d.panicThreshold === undefined ? {} : { panicThreshold: d.panicThreshold }),
    ...(health.length === 0 ? {} : { health }),
    ...(d.slowStart === undefined
      ? {}
      : { slowStart: clean(d.slowStart as EnvoySlowStartSpec) as SlowStartSpec }),
    ...(d.retry === undefined ? {} : { retry: lbRetry(d.retry) }),
    ...(d.hedge === undefined ? {} : { hedge: clean(d.hedge) }),
    ...(d.loadReport === undefined ? {} : { loadReport: d.loadReport }),
  };
  const lb = new LoadBalancer(node, options);
  if (d.health !== undefined) {
    const hc = new ActiveHealthCheck(lb.endpoint, { ...clean(d.health), name: `${node.address}/health` });
    checks = hc;
    hc.start(lb);
  }
  // Checks and sweeps run for ever: stop them with the load.
  if (checks !== undefined || outliers !== undefined)
    sim.schedule(stopAt, () => {
      checks?.stop();
      outliers?.stop();
    });
  return { lb, checks, outliers, maxFails };
}

/** The backends' addresses, with `{ address, weight }` where a weight is given (an address wins over its name). */
function backends(system: SystemDescription, d: BalancerDescription): (string | BackendSpec)[] {
  const weights = d.weights ?? {};
  // An autoscaled service's pool adds its replicas as they become ready.
  const pooled = (b: string): boolean => {
    const n = system.nodes[b];
    return n?.kind === 'service' && n.autoscale !== undefined;
  };
  return d.backends.flatMap((b) =>
    (pooled(b) ? [] : addressesOf(system, b)).map((address) => {
      const weight = weights[address] ?? weights[b];
      return weight === undefined ? address : { address, weight };
    }),
  );
}

/**
 * A described retry policy (a balancer's `retry`, a mesh's `retry`) as LoadBalancer's retry options.
 *
 * @example
 * ```ts
 * lbRetry({ attempts: 2, backoff: { kind: 'envoy' } }); // { attempts: 2, backoff: { kind: 'envoy' } }
 * ```
 */
export function lbRetry(r: NonNullable<BalancerDescription['retry']>): LoadBalancerRetryOptions {
  const { backoff, budget, ...rest } = r;
  return {
    ...clean(rest),
    ...(backoff === undefined ? {} : { backoff: clean(backoff) as BackoffSpec }),
    ...(budget === undefined ? {} : { budget: clean(budget) }),
  };
}

/**
 * A balancer's cumulative counts now: what it did (LoadBalancer's stats) and what its passive health did
 * (ejections, max-fails disablings), plus the time integral of the backends ejected (ms × backends).
 * Two readings, at a phase's start and end, give that phase's figures by difference.
 *
 * @example
 * ```ts
 * const a = balancerReading(sim, sys.balancerHandles.lb); // at 30 s
 * const b = balancerReading(sim, sys.balancerHandles.lb); // at 60 s
 * b.ejections - a.ejections; // ejections in [30 s, 60 s)
 * ```
 */
export function balancerReading(sim: Simulation, h: BalancerHandle): BalancerReading {
  const s = h.lb.stats;
  const name = h.lb.node.address;
  const m = sim.metrics;
  return {
    requests: s.requests,
    ok: s.ok,
    failed: s.failed,
    overloaded: s.overloaded,
    noBackend: s.noBackend,
    panicked: s.panicked,
    attempts: s.attempts,
    retries: s.retries,
    retryOverflow: s.retryOverflow,
    hedges: s.hedges,
    ejections: h.outliers?.stats.ejections ?? 0,
    ejectedMs: h.outliers === undefined ? 0 : m.gauge(name, 'lb.ejected').integral(),
    maxFailsDisabled: h.maxFails === undefined ? 0 : m.counter(name, 'lb.max-fails.disabled').value,
  };
}

/** See {@link balancerReading}: cumulative counts of one balancer at one instant. */
export interface BalancerReading {
  /** Requests that arrived, answered ok, failed (a backend's error or gateway-timeout), refused overloaded. */
  readonly requests: number;
  readonly ok: number;
  readonly failed: number;
  readonly overloaded: number;
  /** Answered `unavailable`: no backend could take them. */
  readonly noBackend: number;
  /** Balanced in panic mode (health ignored). */
  readonly panicked: number;
  /** Attempts forwarded to backends (first attempts, retries, hedges). */
  readonly attempts: number;
  /** Retries (hedges included) sent, and retries refused by the concurrent-retry limit or budget. */
  readonly retries: number;
  readonly retryOverflow: number;
  readonly hedges: number;
  /** Outlier-detection ejections. */
  readonly ejections: number;
  /** Integral of the backends ejected over time (ms × backends): its difference / phase length is the mean ejected. */
  readonly ejectedMs: number;
  /** Times a max-fails worker started skipping a backend. */
  readonly maxFailsDisabled: number;
}
