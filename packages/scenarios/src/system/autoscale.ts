import {
  Autoscaler,
  type HpaBehavior,
  HpaPolicy,
  type LoadBalancer,
  type ReplicaMetricSpec,
  ReplicaPool,
  type ScalingPolicy,
  ScheduledScalingPolicy,
  type ServiceOptions,
  type StepAlarm,
  StepScalingPolicy,
} from '@dsim/components';
import type { Network, Simulation } from '@dsim/core';
import type { AutoscaleDescription } from './autoscale-schema.js';
import { clean } from './clean.js';
import { toDistribution } from './distributions.js';

/** An autoscaled service, compiled: its replica pool and the autoscaler sizing it. */
export interface AutoscaleHandle {
  readonly pool: ReplicaPool;
  readonly autoscaler: Autoscaler;
}

/**
 * Builds a service's `autoscale`: a {@link ReplicaPool} of `replicas` replicas (ready and warm at the
 * start) behind `balancer`, each a Service with `service`'s options, and an {@link Autoscaler} running
 * the described policy until `stopAt` (the end of the load, so that the run ends). Component errors
 * (a schedule out of order, step bounds with a gap) are thrown as they are; the caller names the path.
 *
 * @example
 * ```ts
 * const h = buildAutoscaled(net, 'app', 2, { maxReplicas: 10, metric: { utilization: 60 }, startup: '30s' }, lb, options, 600_000);
 * h.autoscaler.events; // after the run: [{ at: 45000, from: 2, to: 4, reason: 'DesiredWithinRange' }, ...]
 * ```
 */
export function buildAutoscaled(
  net: Network,
  name: string,
  replicas: number,
  a: AutoscaleDescription,
  balancer: LoadBalancer,
  service: ServiceOptions,
  stopAt: number,
): AutoscaleHandle {
  const pool = new ReplicaPool(net, {
    name,
    balancer,
    service,
    replicas,
    startup: toDistribution(a.startup),
    ...(a.warmup === undefined ? {} : { warmup: a.warmup }),
    ...(a.drain === undefined ? {} : { drain: a.drain }),
  });
  const autoscaler = new Autoscaler(pool, { policy: policyOf(a), metric: metricOf(a), until: stopAt });
  return { pool, autoscaler };
}

/** The policy described: HpaPolicy (the default), StepScalingPolicy or ScheduledScalingPolicy. */
function policyOf(a: AutoscaleDescription): ScalingPolicy {
  switch (a.policy) {
    case 'step': {
      const { scaleOut, scaleIn, policy: _p, metric: _m, startup: _s, warmup: _w, drain: _d, ...rest } = a;
      return new StepScalingPolicy({
        ...clean(rest),
        ...(scaleOut === undefined ? {} : { scaleOut: alarm(scaleOut) }),
        ...(scaleIn === undefined ? {} : { scaleIn: alarm(scaleIn) }),
      });
    }
    case 'scheduled': {
      const { schedule, policy: _p, startup: _s, warmup: _w, drain: _d, ...rest } = a;
      return new ScheduledScalingPolicy({ schedule, ...clean(rest) });
    }
    default: {
      const { behavior, metric, policy: _p, startup: _s, warmup: _w, drain: _d, ...rest } = a;
      const target = 'utilization' in metric ? metric.utilization : metric.rps;
      return new HpaPolicy({
        ...clean(rest),
        target,
        ...(behavior === undefined ? {} : { behavior: hpaBehavior(behavior) }),
      });
    }
  }
}

/** What the autoscaler measures per replica (a scheduled policy ignores it: the Autoscaler's default). */
function metricOf(a: AutoscaleDescription): ReplicaMetricSpec {
  if (a.policy === 'step') return { kind: a.metric ?? 'utilization' };
  if (a.policy === 'scheduled') return { kind: 'utilization' };
  const m = a.metric;
  if ('rps' in m) return { kind: 'rps' };
  return m.initializationPeriod === undefined
    ? { kind: 'utilization' }
    : { kind: 'utilization', initializationPeriod: m.initializationPeriod };
}

function alarm(d: NonNullable<Extract<AutoscaleDescription, { policy: 'step' }>['scaleOut']>): StepAlarm {
  return { ...clean(d), steps: d.steps.map((s) => clean(s)) } as StepAlarm;
}

function hpaBehavior(
  b: NonNullable<Extract<AutoscaleDescription, { policy?: 'hpa' | undefined }>['behavior']>,
): HpaBehavior {
  const rules = (r: NonNullable<typeof b.scaleUp>) => clean(r);
  return clean({
    scaleUp: b.scaleUp === undefined ? undefined : rules(b.scaleUp),
    scaleDown: b.scaleDown === undefined ? undefined : rules(b.scaleDown),
  }) as HpaBehavior;
}

/**
 * Replicas of a pool over [from, to) from its autoscaler's events: the most counted at any instant, and
 * the scale-ups and scale-downs made. `start` is the count at time 0.
 *
 * @example
 * ```ts
 * scaleSummary(h.autoscaler.events, 2, 0, 60_000); // { max: 6, ups: 2, downs: 0 }
 * ```
 */
export function scaleSummary(
  events: Autoscaler['events'],
  start: number,
  from: number,
  to: number,
): { max: number; ups: number; downs: number } {
  let count = start;
  let max = 0;
  let ups = 0;
  let downs = 0;
  let seen = false;
  for (const e of events) {
    if (e.at >= to) break;
    if (e.at < from) {
      count = e.to;
      continue;
    }
    if (!seen) max = count;
    seen = true;
    max = Math.max(max, e.to);
    if (e.to > e.from) ups++;
    else downs++;
  }
  if (!seen) max = count;
  return { max, ups, downs };
}

/** A cumulative reading of a pool: replica-ms counted, replica-ms ready (gauge integrals). */
export function poolReading(sim: Simulation, pool: ReplicaPool): { replicasMs: number; readyMs: number } {
  const m = sim.metrics;
  return {
    replicasMs: m.gauge(pool.name, 'pool.replicas').integral(),
    readyMs: m.gauge(pool.name, 'pool.ready').integral(),
  };
}
