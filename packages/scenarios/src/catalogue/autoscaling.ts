import {
  Activator,
  Autoscaler,
  HpaPolicy,
  LoadBalancer,
  openLoop,
  ReplicaPool,
  type ScalingPolicy,
  ScheduledScalingPolicy,
  StepScalingPolicy,
} from '@dsim/components';
import {
  constant,
  DsimError,
  exponential,
  LatencyHistogram,
  Network,
  RpcEndpoint,
  type RpcResponse,
} from '@dsim/core';
import { param } from '../params.js';
import { type CheckResult, defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

const POLICIES = ['hpa', 'step', 'scheduled'] as const;
const PHASES = ['lead', 'ramp', 'hold', 'spikes', 'tail'] as const;
type Phase = (typeof PHASES)[number];

/** Most replicas a pool of this scenario may reach: each is a node with its own service and metrics. */
const MAX_POOL = 1000;

/** Kubernetes caps a stabilization window at one hour. */
const MAX_WINDOW_SECONDS = 3600;

/**
 * The replicas an HPA settles at for a steady load: the smallest count whose utilisation is at most
 * the target, `ceil(rate / (capacity × target))`, within [min, max].
 *
 * @example
 * ```ts
 * steadyReplicas(45, 16, 60, 2, 20); // ceil(45 / 9.6) = 5
 * ```
 */
export function steadyReplicas(
  rate: number,
  capacity: number,
  targetPercent: number,
  min: number,
  max: number,
): number {
  const need = Math.ceil(rate / ((capacity * targetPercent) / 100) - 1e-9);
  return Math.min(max, Math.max(min, need));
}

/**
 * `autoscaling`: a load that ramps, holds, spikes and falls, on services behind a load balancer whose
 * replica count an autoscaler sets. Each replica is a `Service` (`workers` workers, exponential service
 * times of mean `serviceMs`: `workers / serviceMs` requests per ms at most) that takes `startupSeconds`
 * from creation to ready; clients time out after `timeoutMs`, and a request violates the SLO when it
 * fails or takes longer than `sloMs`.
 *
 * The load: `baseRps` for `leadSeconds`, a linear ramp to `peakRps` over `rampSeconds`, `holdSeconds` at
 * the peak, then `spikes` bursts of `spikeSeconds` at the peak every `spikeEverySeconds` over the base,
 * then `tailSeconds` at the base.
 *
 * Variants: the Kubernetes HPA with its defaults; the same without scale-down stabilization (it flaps);
 * AWS step scaling on one-minute alarms; a schedule that pre-provisions the peak (the load is known);
 * and scale to zero with a Knative-style activator (no base load, cold starts).
 */
export const autoscaling = defineScenario({
  name: 'autoscaling',
  description:
    'HPA, step and scheduled scaling on a ramp and spikes: SLO misses while scaling up, flapping without stabilization, cold starts',
  params: {
    baseRps: param.number({
      default: 8,
      min: 0,
      max: MAX_RATE,
      description: 'requests per second outside the ramp and spikes (Poisson)',
    }),
    peakRps: param.number({
      default: 45,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'requests per second at the peak (>= baseRps)',
    }),
    leadSeconds: param.number({
      default: 60,
      min: 0,
      max: MAX_SECONDS,
      description: 'seconds at the base rate before the ramp',
    }),
    rampSeconds: param.number({
      default: 120,
      min: 0,
      max: MAX_SECONDS,
      description: 'seconds of the linear ramp to the peak',
    }),
    holdSeconds: param.number({
      default: 360,
      min: 0,
      max: MAX_SECONDS,
      description: 'seconds at the peak after the ramp',
    }),
    spikes: param.integer({
      default: 3,
      min: 0,
      max: 1000,
      description: 'bursts at the peak after the hold',
    }),
    spikeSeconds: param.number({
      default: 30,
      min: 0,
      exclusiveMin: true,
      max: MAX_SECONDS,
      description: 'length of a burst',
    }),
    spikeEverySeconds: param.number({
      default: 90,
      min: 0,
      exclusiveMin: true,
      max: MAX_SECONDS,
      description:
        'time from one burst start to the next (>= spikeSeconds); the first starts one gap after the hold',
    }),
    tailSeconds: param.number({
      default: 360,
      min: 0,
      max: MAX_SECONDS,
      description: 'seconds at the base rate at the end',
    }),
    workers: param.integer({ default: 4, min: 1, max: MAX_WORKERS, description: 'workers per replica' }),
    serviceMs: param.number({
      default: 250,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean service time (exponential): a replica serves workers / serviceMs requests per ms',
    }),
    startupSeconds: param.number({
      default: 30,
      min: 0,
      max: MAX_SECONDS,
      description: 'time from a replica’s creation to ready (scheduling, image pull, start, readiness)',
    }),
    timeoutMs: param.number({
      default: 2000,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'client timeout',
    }),
    sloMs: param.number({
      default: 1000,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'a request violates the SLO if it fails or takes longer',
    }),
    policy: param.enum(POLICIES, {
      default: 'hpa',
      description: 'the scaling policy (each variant sets it)',
    }),
    targetPercent: param.number({
      default: 60,
      min: 0,
      exclusiveMin: true,
      max: 100,
      description: 'HPA target utilisation (busy workers / workers), percent',
    }),
    minReplicas: param.integer({
      default: 2,
      min: 0,
      max: MAX_POOL,
      description: 'fewest replicas (also the initial count)',
    }),
    maxReplicas: param.integer({ default: 20, min: 1, max: MAX_POOL, description: 'most replicas' }),
    syncSeconds: param.number({
      default: 15,
      min: 0,
      exclusiveMin: true,
      max: MAX_SECONDS,
      description: 'HPA sync period (--horizontal-pod-autoscaler-sync-period)',
    }),
    tolerance: param.number({ default: 0.1, min: 0, max: 10, description: 'HPA tolerance' }),
    downWindowSeconds: param.number({
      default: 300,
      min: 0,
      max: MAX_WINDOW_SECONDS,
      description: 'HPA scale-down stabilization window',
    }),
    stepPeriodSeconds: param.number({
      default: 60,
      min: 0,
      exclusiveMin: true,
      max: MAX_SECONDS,
      description: 'step scaling: the alarms’ period',
    }),
    scaleOutPercent: param.number({
      default: 70,
      min: 0,
      max: 100,
      description: 'step scaling: scale-out alarm threshold',
    }),
    scaleInPercent: param.number({
      default: 40,
      min: 0,
      max: 100,
      description: 'step scaling: scale-in alarm threshold',
    }),
    cooldownSeconds: param.number({
      default: 300,
      min: 0,
      max: MAX_SECONDS,
      description: 'step scaling: cooldown of both alarms (Application Auto Scaling default 300)',
    }),
    scaleToZero: param.boolean({
      default: false,
      description: 'HPA with minReplicas 0 behind an activator that holds requests during a cold start',
    }),
  },
  variants: [
    {
      name: 'hpa-default',
      description: 'Kubernetes HPA defaults: 15 s sync, 10% tolerance, 300 s scale-down window',
    },
    {
      name: 'no-stabilization',
      description: 'the same HPA with a 0 s scale-down window: it follows every dip',
      params: { downWindowSeconds: 0 },
    },
    {
      name: 'step',
      description: 'AWS step scaling: +1/+2/+3 above 70%, -1 below 40%, one-minute alarms, 300 s cooldowns',
      params: { policy: 'step' },
    },
    {
      name: 'scheduled',
      description: 'a schedule that provisions the peak before the ramp and lets it go after the spikes',
      params: { policy: 'scheduled' },
    },
    {
      name: 'scale-to-zero',
      description: 'no base load, HPA with minReplicas 0 and a Knative-style activator: cold starts',
      params: { scaleToZero: true, baseRps: 0, minReplicas: 0 },
    },
  ],
  run({ sim, params, requests, check }) {
    if (params.peakRps < params.baseRps)
      throw new DsimError(
        'CONFIG_ERROR',
        `peakRps (${params.peakRps}) must be >= baseRps (${params.baseRps})`,
        {
          details: { field: 'peakRps', value: params.peakRps, allowed: `>= baseRps (${params.baseRps})` },
        },
      );
    if (params.spikeEverySeconds < params.spikeSeconds)
      throw new DsimError(
        'CONFIG_ERROR',
        `spikeEverySeconds (${params.spikeEverySeconds}) must be >= spikeSeconds (${params.spikeSeconds})`,
        {
          details: {
            field: 'spikeEverySeconds',
            value: params.spikeEverySeconds,
            allowed: '>= spikeSeconds',
          },
        },
      );
    if (params.maxReplicas < Math.max(1, params.minReplicas))
      throw new DsimError(
        'CONFIG_ERROR',
        `maxReplicas (${params.maxReplicas}) must be >= minReplicas and >= 1`,
        {
          details: { field: 'maxReplicas', value: params.maxReplicas, allowed: '>= max(1, minReplicas)' },
        },
      );
    if (params.scaleInPercent >= params.scaleOutPercent)
      throw new DsimError(
        'CONFIG_ERROR',
        `scaleInPercent (${params.scaleInPercent}) must be below scaleOutPercent (${params.scaleOutPercent})`,
        { details: { field: 'scaleInPercent', value: params.scaleInPercent, allowed: '< scaleOutPercent' } },
      );
    const s = 1000;
    const lead = params.leadSeconds * s;
    const rampEnd = lead + params.rampSeconds * s;
    const holdEnd = rampEnd + params.holdSeconds * s;
    const every = params.spikeEverySeconds * s;
    const spikeLen = params.spikeSeconds * s;
    const spikesEnd = holdEnd + params.spikes * every;
    const end = spikesEnd + params.tailSeconds * s;
    const base = params.baseRps;
    const peak = params.peakRps;
    const extra = peak - base;
    const offered =
      (base * end) / s +
      (extra * params.rampSeconds) / 2 +
      extra * params.holdSeconds +
      extra * params.spikes * params.spikeSeconds;
    limitOffered(offered, 'the load profile (baseRps × all seconds + the ramp, hold and spikes above it)');
    const phaseOf = (t: number): Phase =>
      t < lead ? 'lead' : t < rampEnd ? 'ramp' : t < holdEnd ? 'hold' : t < spikesEnd ? 'spikes' : 'tail';
    const spikeStarts: number[] = [];
    for (let k = 0; k < params.spikes; k++) spikeStarts.push(holdEnd + (k + 1) * every - spikeLen);

    const capacity = (params.workers / params.serviceMs) * 1000; // requests per second per replica
    const peakReplicas = steadyReplicas(
      peak,
      capacity,
      params.targetPercent,
      Math.max(1, params.minReplicas),
      params.maxReplicas,
    );
    const baseReplicas = steadyReplicas(
      base,
      capacity,
      params.targetPercent,
      params.minReplicas,
      params.maxReplicas,
    );

    const net = new Network(sim); // zero latency: every delay is queueing, start-up or service
    const lb = new LoadBalancer(net.addNode('lb'), { backends: [], policy: { kind: 'least-request' } });
    const pool = new ReplicaPool(net, {
      name: 'app',
      balancer: lb,
      service: {
        concurrency: params.workers,
        serviceTime: exponential({ mean: params.serviceMs }),
        dropExpired: true,
      },
      replicas: params.scaleToZero ? 0 : params.minReplicas,
      startup: constant(params.startupSeconds * s),
    });
    const startupMs = params.startupSeconds * s;
    const syncMs = params.syncSeconds * s;
    let policy: ScalingPolicy;
    if (params.policy === 'hpa')
      policy = new HpaPolicy({
        target: params.targetPercent,
        minReplicas: params.minReplicas,
        maxReplicas: params.maxReplicas,
        tolerance: params.tolerance,
        syncPeriod: syncMs,
        behavior: { scaleDown: { stabilizationWindow: params.downWindowSeconds * s } },
      });
    else if (params.policy === 'step')
      policy = new StepScalingPolicy({
        minReplicas: params.minReplicas,
        maxReplicas: params.maxReplicas,
        period: params.stepPeriodSeconds * s,
        scaleOut: {
          threshold: params.scaleOutPercent,
          steps: [
            { lower: 0, upper: 10, adjustment: 1 },
            { lower: 10, upper: 20, adjustment: 2 },
            { lower: 20, adjustment: 3 },
          ],
          cooldown: params.cooldownSeconds * s,
        },
        scaleIn: {
          threshold: params.scaleInPercent,
          steps: [{ upper: 0, adjustment: -1 }],
          cooldown: params.cooldownSeconds * s,
        },
      });
    else {
      // Provision the peak so that it is ready one sync before the ramp starts; back to the base after the spikes.
      const before = Math.max(0, lead - startupMs - syncMs);
      const schedule = [{ at: 0, replicas: params.minReplicas }];
      if (before > 0) schedule.push({ at: before, replicas: peakReplicas });
      else schedule[0] = { at: 0, replicas: peakReplicas };
      schedule.push({
        at: Math.max(before + 1, spikesEnd),
        replicas: Math.max(params.minReplicas, baseReplicas),
      });
      policy = new ScheduledScalingPolicy({
        schedule,
        cycle: Infinity,
        period: syncMs,
        minReplicas: params.minReplicas,
        maxReplicas: params.maxReplicas,
      });
    }
    const scaler = new Autoscaler(pool, { policy, metric: { kind: 'utilization' }, until: end });
    let activator: Activator | undefined;
    if (params.scaleToZero)
      activator = new Activator(net.addNode('activator'), { pool, target: 'lb', autoscaler: scaler });
    const entry = activator === undefined ? 'lb' : 'activator';

    // Ready replicas over time, to time each scale-up against the load.
    const readyAt: Array<[number, number]> = [];
    pool.onReady(() => readyAt.push([sim.now, pool.ready]));
    const readyAtSpike = spikeStarts.map(() => 0);
    spikeStarts.forEach((t, k) => {
      sim.scheduleAt(t, () => {
        readyAtSpike[k] = pool.ready;
      });
    });

    const client = new RpcEndpoint(net.addNode('client'));
    const byPhase = new Map<Phase, { n: number; bad: number; latency: LatencyHistogram }>();
    for (const p of PHASES) byPhase.set(p, { n: 0, bad: 0, latency: new LatencyHistogram() });
    let offeredCount = 0;
    let answered = 0;
    let violations = 0;
    const send = (): void => {
      const started = sim.now;
      const phase = byPhase.get(phaseOf(started))!;
      phase.n++;
      offeredCount++;
      requests.start();
      client.call(entry, 'GET /', { timeout: params.timeoutMs }).onProcessed((e) => {
        const res = e.value as RpcResponse;
        const latency = sim.now - started;
        answered++;
        requests.finish(res.ok, latency);
        phase.latency.record(latency);
        if (!res.ok || latency > params.sloMs) {
          phase.bad++;
          violations++;
        }
      });
    };
    if (base > 0)
      openLoop(sim, {
        arrivals: { kind: 'poisson', rate: base },
        onArrival: send,
        until: end,
        stream: 'load/base',
      });
    if (extra > 0 && holdEnd > lead)
      openLoop(sim, {
        arrivals: { kind: 'ramp', from: 0, to: extra, over: params.rampSeconds * s, start: lead },
        onArrival: send,
        start: lead,
        until: holdEnd,
        stream: 'load/ramp',
      });
    if (extra > 0 && params.spikes > 0)
      openLoop(sim, {
        arrivals: {
          kind: 'bursts',
          rate: 0,
          burstRate: extra,
          every,
          duration: spikeLen,
          offset: spikeStarts[0]!,
        },
        onArrival: send,
        start: holdEnd,
        until: spikesEnd,
        stream: 'load/spikes',
      });
    // The replica count at the end of the hold: the steady state the HPA reached for the peak.
    let holdReplicas: number | null = null;
    if (params.holdSeconds > 0) sim.scheduleAt(holdEnd, () => (holdReplicas = pool.replicas));
    // Replica-seconds at each phase boundary: what each phase cost.
    const boundaries = [lead, rampEnd, holdEnd, spikesEnd];
    const costAt = boundaries.map(() => 0);
    boundaries.forEach((t, k) => {
      if (t < end)
        sim.scheduleAt(t, () => {
          costAt[k] = pool.replicaSeconds();
        });
    });
    sim.run();

    const ups = scaler.events.filter((e) => e.to > e.from);
    const downs = scaler.events.filter((e) => e.to < e.from);
    const inSpikes = scaler.events.filter((e) => e.at >= holdEnd && e.at < spikesEnd).length;
    // Spikes met with enough ready replicas for the peak at their start (stabilization kept them).
    const spikesCovered = readyAtSpike.filter((n) => n >= peakReplicas).length;
    // Time to scale at a spike met with too few replicas to stay within the tolerance: from its start to
    // the first replica ready after it (the HPA detects it within two syncs, then the start-up runs).
    const reactions: number[] = [];
    spikeStarts.forEach((t, k) => {
      const n0 = readyAtSpike[k]!;
      const ratio = n0 === 0 ? Infinity : (Math.min(1, peak / (n0 * capacity)) * 100) / params.targetPercent;
      // Only bursts well past the tolerance (by a fifth): near it, a noisy window may not trigger at once.
      if (n0 >= peakReplicas || !(ratio > 1.2 * (1 + params.tolerance))) return;
      const first = readyAt.find(([at]) => at > t);
      if (first !== undefined && (k + 1 >= spikeStarts.length || first[0] < spikeStarts[k + 1]!))
        reactions.push(first[0] - t);
    });
    const meanReaction =
      reactions.length === 0 ? null : reactions.reduce((a, b) => a + b, 0) / reactions.length;
    // Steps of one scale-up episode: consecutive scale-ups with no scale-down between them.
    const gaps: number[] = [];
    for (let i = 1; i < scaler.events.length; i++) {
      const a = scaler.events[i - 1]!;
      const b = scaler.events[i]!;
      if (a.to > a.from && b.to > b.from && a.reason !== 'Activated') gaps.push(b.at - a.at);
    }
    const meanGap = gaps.length === 0 ? null : gaps.reduce((x, y) => x + y, 0) / gaps.length;
    const rate = (p: Phase): number | null => {
      const f = byPhase.get(p)!;
      return f.n === 0 ? null : f.bad / f.n;
    };
    const r3 = (x: number | null): number | null => (x === null ? null : Number(x.toFixed(3)));

    check(
      'every request is answered exactly once',
      answered === offeredCount,
      `${answered} answers for ${offeredCount} requests`,
    );
    if (
      params.policy === 'hpa' &&
      holdReplicas !== null &&
      params.holdSeconds >= params.downWindowSeconds + 60 &&
      !params.scaleToZero
    )
      check(
        'at the end of the hold the HPA runs ceil(peak / (capacity × target)) replicas',
        params.downWindowSeconds > 0
          ? holdReplicas === peakReplicas
          : Math.abs(holdReplicas - peakReplicas) <= 1,
        `${holdReplicas} replicas, expected ${peakReplicas} = ceil(${peak} / (${capacity.toFixed(2)} × ${params.targetPercent}%))${params.downWindowSeconds > 0 ? '' : ' (± 1: without a window a noisy dip may settle one lower, within the tolerance)'}`,
      );
    if (params.policy === 'hpa' && meanReaction !== null)
      check(
        'time to scale at an under-provisioned spike is start-up plus at most two syncs',
        reactions.every((r) => r > startupMs && r <= startupMs + 2 * syncMs + 1e-6),
        `first replica ready ${reactions.map((r) => `${(r / s).toFixed(1)} s`).join(', ')} after the spikes began, expected in (${startupMs / s}, ${(startupMs + 2 * syncMs) / s}] s: detection within two ${syncMs / s} s syncs, then the ${startupMs / s} s start-up`,
      );
    if (
      params.policy === 'step' &&
      holdReplicas !== null &&
      params.holdSeconds >= params.cooldownSeconds + params.stepPeriodSeconds
    ) {
      const low = Math.floor((100 * peak) / (capacity * params.scaleOutPercent)) + 1;
      const high = Math.ceil((100 * peak) / (capacity * params.scaleInPercent)) - 1;
      check(
        'at the end of the hold step scaling sits between its alarms (neither fires)',
        holdReplicas >= Math.min(low, params.maxReplicas) && holdReplicas <= Math.max(high, low),
        `${holdReplicas} replicas, expected ${low} to ${high}: utilisation between ${params.scaleInPercent}% and ${params.scaleOutPercent}%`,
      );
    }
    if (params.policy === 'scheduled' && holdReplicas !== null) {
      check(
        'the schedule runs the provisioned count at the peak',
        holdReplicas === peakReplicas,
        `${holdReplicas} replicas, scheduled ${peakReplicas}`,
      );
      const ramp = byPhase.get('ramp')!;
      const hold = byPhase.get('hold')!;
      if (ramp.n > 0 && hold.n > 0 && lead >= startupMs + syncMs) {
        const pr = ramp.bad / ramp.n;
        const ph = hold.bad / hold.n;
        const se = Math.sqrt((pr * (1 - pr)) / ramp.n) + Math.sqrt((ph * (1 - ph)) / hold.n);
        check(
          'provisioned before the ramp, the ramp misses the SLO no more than the steady hold (3 standard errors)',
          pr <= ph + 3 * se,
          `ramp ${pr.toFixed(4)}, hold ${ph.toFixed(4)} (3 standard errors: ${(3 * se).toFixed(4)})`,
        );
      }
    }
    // Cold starts: from each wake by the activator to the first replica ready after it.
    const coldStarts = scaler.events
      .filter((e) => e.reason === 'Activated')
      .map((e) => {
        const first = readyAt.find(([t]) => t >= e.at);
        return first === undefined ? null : first[0] - e.at;
      });
    const coldMs = coldStarts.filter((x): x is number => x !== null);
    if (activator !== undefined) {
      check(
        'a cold start lasts exactly the start-up time: from the first request to the first ready replica',
        coldMs.length > 0 && coldMs.every((ms) => Math.abs(ms - startupMs) < 1e-6),
        `cold starts of ${coldMs.map((ms) => `${(ms / s).toFixed(3)} s`).join(', ') || 'none'}, start-up ${params.startupSeconds} s`,
      );
      if (params.tailSeconds * s > params.downWindowSeconds * s + 3 * syncMs)
        check(
          'after a quiet window the pool is back at zero',
          pool.replicas === 0,
          `${pool.replicas} replicas at the end`,
        );
    }

    const outcome: Record<string, number | null> = {
      expectedPeakReplicas: peakReplicas,
      holdReplicas,
      finalReplicas: pool.replicas,
      mostReplicas: Math.max(...scaler.history.map((h) => h.replicas), pool.replicas),
      scaleUps: ups.length,
      scaleDowns: downs.length,
      scaleEvents: scaler.events.length,
      spikeScaleEvents: inSpikes,
      replicaSeconds: Number(pool.replicaSeconds().toFixed(1)),
      violations,
      violationRate: r3(offeredCount === 0 ? null : violations / offeredCount),
      meanScaleUpStepS: meanGap === null ? null : r3(meanGap / s),
      spikeReactionS: meanReaction === null ? null : r3(meanReaction / s),
      spikesCovered,
      coldStarts: activator === undefined ? null : coldMs.length,
      coldStartMs: coldMs.length === 0 ? null : r3(coldMs[0]!),
      heldForwarded: activator === undefined ? null : activator.stats.coldStarted,
      heldExpired: activator === undefined ? null : activator.stats.expired,
    };
    const total = pool.replicaSeconds();
    PHASES.forEach((p, k) => {
      const from = k === 0 ? 0 : boundaries[k - 1]! < end ? costAt[k - 1]! : total;
      const to = k < boundaries.length && boundaries[k]! < end ? costAt[k]! : total;
      outcome[`replicaSeconds.${p}`] = Number((to - from).toFixed(1));
    });
    for (const p of PHASES) {
      const f = byPhase.get(p)!;
      outcome[`requests.${p}`] = f.n;
      outcome[`violationRate.${p}`] = r3(rate(p));
      outcome[`p99Ms.${p}`] = f.latency.count === 0 ? null : r3(f.latency.percentile(99));
    }
    return outcome;
  },
  compare(variants: readonly VariantResult[]): CheckResult[] {
    const by = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const rateOf = (o: VariantResult['outcome'], p: Phase): number =>
      (o[`violationRate.${p}`] as number | null) ?? 0;
    // Binomial standard error of a phase's miss rate.
    const seOf = (o: VariantResult['outcome'], p: Phase): number => {
      const n = (o[`requests.${p}`] as number | null) ?? 0;
      const r = rateOf(o, p);
      return n === 0 ? 0 : Math.sqrt((r * (1 - r)) / n);
    };
    const checks: CheckResult[] = [];
    const hpa = by('hpa-default');
    const flat = by('no-stabilization');
    if (hpa !== undefined && flat !== undefined && hpa.spikeScaleEvents !== undefined)
      checks.push({
        name: 'without scale-down stabilization the HPA flaps: more scale events, spikes met under-provisioned, more SLO misses in them',
        pass:
          (flat.scaleEvents as number) > (hpa.scaleEvents as number) &&
          (flat.spikeScaleEvents as number) > (hpa.spikeScaleEvents as number) &&
          (flat.spikesCovered as number) < (hpa.spikesCovered as number) &&
          ((flat['violationRate.spikes'] as number | null) ?? 0) >
            ((hpa['violationRate.spikes'] as number | null) ?? 0),
        detail: `${flat.scaleEvents} scale events (${flat.spikeScaleEvents} during the spikes) against ${hpa.scaleEvents} (${hpa.spikeScaleEvents}); spikes met with the peak's replicas ready ${flat.spikesCovered} against ${hpa.spikesCovered}; SLO misses in the spikes ${flat['violationRate.spikes']} against ${hpa['violationRate.spikes']}`,
      });
    const scheduled = by('scheduled');
    if (hpa !== undefined && scheduled !== undefined)
      checks.push({
        name: 'pre-provisioning by schedule misses the SLO in the ramp no more than reacting does (3 standard errors)',
        pass:
          rateOf(scheduled, 'ramp') <=
          rateOf(hpa, 'ramp') + 3 * (seOf(scheduled, 'ramp') + seOf(hpa, 'ramp')),
        detail: `ramp SLO misses ${scheduled['violationRate.ramp']} scheduled, ${hpa['violationRate.ramp']} with the HPA`,
      });
    const step = by('step');
    if (hpa !== undefined && step !== undefined)
      checks.push({
        name: 'step scaling on one-minute alarms reacts later than the HPA: more SLO misses in the ramp',
        pass:
          ((step['violationRate.ramp'] as number | null) ?? 0) >
          ((hpa['violationRate.ramp'] as number | null) ?? 0),
        detail: `ramp SLO misses ${step['violationRate.ramp']} with step scaling, ${hpa['violationRate.ramp']} with the HPA`,
      });
    const zero = by('scale-to-zero');
    const idle = (o: VariantResult['outcome']): number =>
      Number(((o['replicaSeconds.lead'] as number) + (o['replicaSeconds.tail'] as number)).toFixed(1));
    if (hpa !== undefined && zero !== undefined)
      checks.push({
        name: 'scale to zero costs nothing while idle, and pays with cold starts',
        pass:
          idle(zero) < idle(hpa) &&
          ((zero.coldStartMs as number | null) ?? 0) > 0 &&
          ((zero['violationRate.ramp'] as number | null) ?? 0) >
            ((hpa['violationRate.ramp'] as number | null) ?? 0),
        detail: `${idle(zero)} replica-seconds in the lead and tail against ${idle(hpa)}; ${zero.coldStarts} cold start(s) of ${(zero.coldStartMs as number) / 1000} s; SLO misses in the ramp ${zero['violationRate.ramp']} against ${hpa['violationRate.ramp']}`,
      });
    return checks;
  },
});
