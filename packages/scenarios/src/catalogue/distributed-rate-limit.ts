import {
  CentralLimiter,
  type DistributedLimiter,
  LocalShareLimiter,
  localShare,
  RateLimitStore,
  SyncedLimiter,
  syncedOverAdmissionBound,
  WindowAccuracy,
} from '@dsim/components';
import {
  constant,
  DsimError,
  exponential,
  LatencyHistogram,
  Network,
  RpcEndpoint,
  scheduleFaults,
} from '@dsim/core';
import { param } from '../params.js';
import { type CheckResult, defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS } from './limits.js';

const DESIGNS = ['local', 'local-unsplit', 'central', 'synced'] as const;
type Design = (typeof DESIGNS)[number];

/** The three phases, in order; each lasts `windowsPerPhase` windows. */
const PHASES = ['even', 'skewed', 'partition'] as const;
type Phase = (typeof PHASES)[number];

/** Checks allow this many standard deviations of Poisson counting noise. */
const Z = 4;
/** The one key (descriptor) every request is limited under. */
const KEY = 'client';

/** Per-phase figures summed over the phase's windows. */
interface PhaseFigures {
  offered: number;
  admitted: number;
  over: number;
  under: number;
  /** Largest over-admission in one window of the phase. */
  maxOver: number;
}

/**
 * `distributed-rate-limit`: one global limit (`limit` requests per window of `windowSeconds`, one key)
 * enforced by `instances` proxies, each running one design of distributed rate limiting. Poisson
 * requests at `load` × the limit's rate arrive at the instances in three phases of `windowsPerPhase`
 * windows each: spread evenly; skewed (a `skew` share to instance 0, the rest spread over the others);
 * spread evenly with the counter store partitioned away from every instance. Every variant draws the
 * same arrivals and the same routing (common random numbers).
 *
 * Designs (variants): `local` (each instance enforces ⌊limit / instances⌋ on its own, Envoy local rate
 * limit style), `local-unsplit` (each enforces the whole limit), `central-fail-open` and
 * `central-fail-closed` (every request asks the store, Envoy global rate limiting with its 20 ms
 * timeout and `failure_mode_deny` false or true), `synced-100ms` and `synced-1s` (local decisions from
 * counts synchronised with the store every interval, Cloudflare style).
 *
 * Accuracy is judged per window against the global policy: over-admission (admitted beyond the limit)
 * and under-admission (what an exact limiter would have admitted on top). Overhead: the latency the
 * decision adds to each request, and the store's load.
 *
 * @example
 * ```ts
 * const result = runScenario(distributedRateLimit, { seed: 1 });
 * result.variants.map((v) => [v.name, v.outcome.evenOver, v.outcome.skewedUnder, v.outcome.meanAddedLatencyMs]);
 * ```
 */
export const distributedRateLimit = defineScenario({
  name: 'distributed-rate-limit',
  description:
    'One global rate limit over N proxies: local shares, a central store (fail open/closed), synced counters',
  params: {
    instances: param.integer({ default: 4, min: 1, max: 1000, description: 'proxies enforcing the limit' }),
    limit: param.integer({
      default: 2000,
      min: 1,
      max: 1_000_000,
      description: 'global limit: requests per window over all instances',
    }),
    windowSeconds: param.number({
      default: 10,
      min: 0.1,
      max: 3600,
      description: 'window length (fixed windows aligned to time 0)',
    }),
    load: param.number({
      default: 2,
      min: 0,
      exclusiveMin: true,
      max: 1000,
      description: "offered rate as a multiple of the limit's rate (limit / window)",
    }),
    skew: param.number({
      default: 0.7,
      min: 0,
      max: 1,
      description: 'share of the requests sent to instance 0 in the skewed phase',
    }),
    windowsPerPhase: param.integer({
      default: 2,
      min: 1,
      max: 10_000,
      description: 'windows in each phase (even, skewed, partitioned)',
    }),
    storeLatencyMs: param.number({
      default: 0.5,
      min: 0,
      max: MAX_MS,
      description: 'one-way latency between an instance and the store',
    }),
    storeServiceMs: param.number({
      default: 0.05,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'store service time per request (one worker, as Redis)',
    }),
    timeoutMs: param.number({
      default: 20,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: "central: how long a request waits for the store (Envoy's default 20 ms)",
    }),
    failureMode: param.enum(['open', 'closed'], {
      default: 'open',
      description: 'central: admit (open) or reject (closed) when the store cannot answer',
    }),
    syncIntervalMs: param.number({
      default: 100,
      min: 1,
      max: MAX_MS,
      description: 'synced: how often each instance syncs its counts with the store',
    }),
    design: param.enum(DESIGNS, { default: 'central', description: 'design (each variant sets it)' }),
  },
  variants: [
    { name: 'local', params: { design: 'local' } },
    { name: 'local-unsplit', params: { design: 'local-unsplit' } },
    { name: 'central-fail-open', params: { design: 'central', failureMode: 'open' } },
    { name: 'central-fail-closed', params: { design: 'central', failureMode: 'closed' } },
    { name: 'synced-100ms', params: { design: 'synced', syncIntervalMs: 100 } },
    { name: 'synced-1s', params: { design: 'synced', syncIntervalMs: 1000 } },
  ],
  run({ sim, params, requests, check }) {
    const n = params.instances;
    const L = params.limit;
    const windowMs = params.windowSeconds * 1000;
    const phaseMs = params.windowsPerPhase * windowMs;
    const horizon = PHASES.length * phaseMs;
    const ratePerMs = (params.load * L) / windowMs;
    limitOffered(ratePerMs * horizon, 'load × limit × 3 × windowsPerPhase');
    const design: Design = params.design;
    const phaseOf = (t: number): Phase => PHASES[Math.min(PHASES.length - 1, Math.floor(t / phaseMs))]!;

    // ----- Topology: N instances and one store, constant latency between them -----
    const net = new Network(sim, { defaults: { latency: constant(params.storeLatencyMs) } });
    const storeNode = net.addNode('store');
    const store = new RateLimitStore(storeNode, {
      limiter: { kind: 'fixed-window', limit: L, windowMs },
      serviceTime: constant(params.storeServiceMs),
    });
    const instanceNodes = Array.from({ length: n }, (_, i) => net.addNode(`instance-${i}`));
    if (design === 'local' && L < n)
      throw new DsimError(
        'CONFIG_ERROR',
        `the local design needs limit >= instances, so that each instance gets a permit: limit ${L}, instances ${n}`,
        { details: { field: 'limit', value: L, allowed: `>= instances (${n}) for the local design` } },
      );
    const share = design === 'local' ? localShare(L, 1 / n) : L;
    const limiterFor = (node: (typeof instanceNodes)[number], i: number): DistributedLimiter => {
      if (design === 'local' || design === 'local-unsplit') {
        const limit = design === 'local' ? share : L;
        return new LocalShareLimiter(sim, { limiter: { kind: 'fixed-window', limit, windowMs } });
      }
      if (design === 'central')
        return new CentralLimiter(RpcEndpoint.of(node), {
          store: 'store',
          timeout: params.timeoutMs,
          failureMode: params.failureMode,
        });
      // Sync phases spread evenly over the interval: instances started at different times.
      return new SyncedLimiter(RpcEndpoint.of(node), {
        store: 'store',
        limit: L,
        windowMs,
        syncInterval: params.syncIntervalMs,
        firstSyncAt: (params.syncIntervalMs * (i + 1)) / n,
      });
    };
    const limiters = instanceNodes.map(limiterFor);
    scheduleFaults(net, [
      {
        at: 2 * phaseMs,
        for: phaseMs,
        fault: { kind: 'partition', a: 'store', b: instanceNodes.map((x) => x.address) },
      },
    ]);
    // The store's load while it is reachable: what it served by the time the partition starts.
    let storeServedUp = 0;
    sim.scheduleAt(2 * phaseMs, () => {
      const s = store.stats;
      storeServedUp = s.checks + s.syncs;
    });

    // ----- Arrivals: one Poisson stream, routed per phase; the same draws in every variant -----
    const accuracy = new WindowAccuracy({ limit: L, windowMs });
    const windows = PHASES.length * params.windowsPerPhase;
    // Offered per instance per window, for the local designs' exact admissions.
    const offeredAt = Array.from({ length: windows }, () => new Array<number>(n).fill(0));
    const upLatency = new LatencyHistogram();
    let partitionLatencySum = 0;
    let partitionDecisions = 0;
    let partitionLatencyOff = 0; // partition decisions whose latency is not exactly the central timeout
    // Store reachable: decisions the failure mode took because the store answered too late.
    let upFailOpen = 0;
    let upFailClosed = 0;
    // When each instance saw its first request: its sync loop starts there.
    const firstArrival = new Array<number>(n).fill(Number.NaN);
    let offered = 0;
    let decided = 0;
    let decidedTwice = 0;
    const gaps = exponential({ rate: ratePerMs });
    const arrivalsRng = sim.rng('distributed-rate-limit/arrivals');
    const routingRng = sim.rng('distributed-rate-limit/routing');
    const route = (phase: Phase): number => {
      const u = routingRng.next();
      if (phase !== 'skewed' || n === 1) return Math.min(n - 1, Math.floor(u * n));
      if (u < params.skew) return 0;
      return 1 + Math.min(n - 2, Math.floor(((u - params.skew) / (1 - params.skew)) * (n - 1)));
    };
    const arrive = (): void => {
      const arrivedAt = sim.now;
      const phase = phaseOf(arrivedAt);
      const instance = route(phase);
      offered++;
      if (Number.isNaN(firstArrival[instance]!)) firstArrival[instance] = arrivedAt;
      offeredAt[Math.min(windows - 1, Math.floor(arrivedAt / windowMs))]![instance]!++;
      requests.start();
      let answered = false;
      limiters[instance]!.admit(KEY, (d) => {
        if (answered) decidedTwice++;
        answered = true;
        decided++;
        accuracy.record(arrivedAt, d.allowed);
        requests.finish(d.allowed, d.latencyMs);
        if (phase === 'partition') {
          partitionLatencySum += d.latencyMs;
          partitionDecisions++;
          if (Math.abs(d.latencyMs - params.timeoutMs) > 1e-6) partitionLatencyOff++; // float dust only
        } else {
          upLatency.record(d.latencyMs);
          if (d.reason === 'fail-open') upFailOpen++;
          else if (d.reason === 'fail-closed') upFailClosed++;
        }
      });
    };
    const next = (): void => {
      arrive();
      const gap = gaps.sample(arrivalsRng);
      if (sim.now + gap < horizon) sim.schedule(gap, next);
    };
    const first = gaps.sample(arrivalsRng);
    if (first < horizon) sim.schedule(first, next);
    sim.run();

    // ----- Figures per phase -----
    const perPhase = {} as Record<Phase, PhaseFigures>;
    PHASES.forEach((phase, p) => {
      const from = p * params.windowsPerPhase;
      const to = from + params.windowsPerPhase;
      const t = accuracy.totals(from, to);
      let maxOver = 0;
      for (let w = from; w < to; w++) maxOver = Math.max(maxOver, accuracy.window(w).over);
      perPhase[phase] = { offered: t.offered, admitted: t.admitted, over: t.over, under: t.under, maxOver };
    });
    const limiterCalls = limiters.reduce((sum, l) => sum + l.stats.storeCalls, 0);
    const upSeconds = (2 * phaseMs) / 1000;
    const storeLoadPerSecond = storeServedUp / upSeconds;
    const rtt = 2 * params.storeLatencyMs + params.storeServiceMs;
    const ratePerSecond = ratePerMs * 1000;

    // ----- Checks -----
    check(
      'every request is decided exactly once',
      decided === offered && decidedTwice === 0 && accuracy.totals().offered === offered,
      `${offered} offered, ${decided} decided, ${decidedTwice} decided twice`,
    );
    // What the local designs admit in each window, exactly: Σ min(offered_i, local limit).
    const localLimit = design === 'local' ? share : L;
    const localExact = (from: number, to: number): number => {
      let sum = 0;
      for (let w = from; w < to; w++) for (const o of offeredAt[w]!) sum += Math.min(o, localLimit);
      return sum;
    };
    // Poisson noise on a count with mean m.
    const slack = (m: number): number => Z * Math.sqrt(Math.max(m, 1)) + 1;
    const perWindowOffered = ratePerMs * windowMs;
    let theoryLocalUnderPerWindow: number | null = null;
    let overBoundPerWindow: number | null = null;

    if (design === 'local' || design === 'local-unsplit') {
      const wrong = [];
      for (let w = 0; w < windows; w++) {
        const a = accuracy.window(w).admitted;
        if (a !== localExact(w, w + 1)) wrong.push(`window ${w}: ${a} vs ${localExact(w, w + 1)}`);
      }
      check(
        `each window admits exactly Σ min(offered at instance i, ${localLimit})`,
        wrong.length === 0,
        wrong.length === 0 ? `${windows} windows exact` : wrong.slice(0, 5).join('; '),
      );
      if (design === 'local') {
        check(
          'a share of limit / instances never over-admits',
          perPhase.even.over + perPhase.skewed.over + perPhase.partition.over === 0 && n * share <= L,
          `over-admitted ${perPhase.even.over + perPhase.skewed.over + perPhase.partition.over}; ${n} × ${share} = ${n * share} <= ${L}`,
        );
        if (n > 1) {
          // Fluid theory of the skewed phase: instance 0 is capped at its share, the others get their
          // mean if it is below theirs.
          const others = ((1 - params.skew) * perWindowOffered) / (n - 1);
          const hot = params.skew * perWindowOffered;
          const expected = Math.min(L, Math.min(hot, share) + (n - 1) * Math.min(others, share));
          theoryLocalUnderPerWindow = Math.max(0, Math.min(perWindowOffered, L) - expected);
          const measured = perPhase.skewed.under / params.windowsPerPhase;
          const tol = slack((n - 1) * others) / Math.sqrt(params.windowsPerPhase);
          check(
            'skewed load: under-admission per window matches limit − min(hot, share) − Σ min(others, share)',
            Math.abs(measured - theoryLocalUnderPerWindow) <= tol,
            `${measured.toFixed(1)} per window, theory ${theoryLocalUnderPerWindow.toFixed(1)} (±${tol.toFixed(1)})`,
          );
        }
      }
    }

    if (design === 'central') {
      // The store counts by its own clock: only requests in flight across a window edge can land in the
      // next window, about rate × one-way latency per edge.
      const edge = slack(ratePerMs * (rtt + params.storeServiceMs)) * windows;
      const upOver = perPhase.even.over + perPhase.skewed.over;
      const upUnder = perPhase.even.under + perPhase.skewed.under;
      const upDecided = perPhase.even.offered + perPhase.skewed.offered;
      if (upFailOpen + upFailClosed === 0) {
        check(
          'store reachable: the limit holds exactly, but for requests in flight across a window edge',
          upOver <= edge && upUnder <= edge,
          `over ${upOver}, under ${upUnder} over ${2 * params.windowsPerPhase} windows (edge allowance ${edge.toFixed(0)})`,
        );
        check(
          'store reachable: every decision waits at least one round trip to the store',
          upLatency.count === 0 || upLatency.min >= rtt - 1e-9,
          `fastest ${upLatency.min.toFixed(3)} ms, round trip + service ${rtt.toFixed(3)} ms`,
        );
      } else {
        // The store answered some checks after the timeout (too far, or queueing): those requests were
        // decided by the failure mode, and only they can break the limit.
        check(
          'store too slow for the timeout: only requests decided by the failure mode break the limit',
          upOver <= upFailOpen + edge && upUnder <= upFailClosed + edge,
          `${upFailOpen + upFailClosed} of ${upDecided} decided by the failure mode (round trip ${rtt.toFixed(2)} ms, timeout ${params.timeoutMs} ms); over ${upOver}, under ${upUnder}`,
        );
      }
      const p = perPhase.partition;
      const open = params.failureMode === 'open';
      check(
        open
          ? 'store partitioned: fail open admits every request (no limit at all)'
          : 'store partitioned: fail closed rejects every request (the limiter takes the service down)',
        open ? p.admitted === p.offered : p.admitted === 0,
        `${p.admitted} of ${p.offered} admitted while partitioned`,
      );
      check(
        'store partitioned: every decision waits the full timeout',
        partitionLatencyOff === 0 && partitionDecisions === p.offered,
        `${partitionDecisions} decisions, ${partitionLatencyOff} not after exactly ${params.timeoutMs} ms`,
      );
      check(
        'the store serves one check per request while reachable',
        Math.abs(storeLoadPerSecond - ratePerSecond) <= slack(ratePerSecond * upSeconds) / upSeconds,
        `${storeLoadPerSecond.toFixed(1)} checks/s, offered ${ratePerSecond.toFixed(1)} requests/s`,
      );
    }

    if (design === 'synced') {
      const s = params.syncIntervalMs;
      overBoundPerWindow = syncedOverAdmissionBound({
        instances: n,
        arrivalsPerSecond: ratePerSecond,
        syncIntervalMs: s,
        roundTripMs: rtt,
      });
      // The arrivals in an interval of the bound's length are Poisson: allow for their noise.
      const cap = overBoundPerWindow + slack(overBoundPerWindow);
      const maxUp = Math.max(perPhase.even.maxOver, perPhase.skewed.maxOver);
      check(
        'store reachable: over-admission per window <= rate × (2 × syncInterval + RTT)',
        maxUp <= cap,
        `worst window ${maxUp}, bound ${overBoundPerWindow.toFixed(1)} (+ Poisson allowance: ${cap.toFixed(1)})`,
      );
      check(
        'store reachable: never under-admits (an instance never sees more than the true count)',
        perPhase.even.under + perPhase.skewed.under === 0,
        `under-admitted ${perPhase.even.under + perPhase.skewed.under}`,
      );
      const from = 2 * params.windowsPerPhase;
      const ownOnly = localExact(from, windows);
      check(
        'store partitioned: each instance knows only its own count, so a window admits Σ min(offered_i, limit)',
        perPhase.partition.admitted === ownOnly,
        `${perPhase.partition.admitted} admitted, Σ min(offered_i, ${L}) = ${ownOnly}`,
      );
      // Each instance syncs on its grid firstSyncAt + k × S from its first request on; a sync still on
      // the wire when the partition starts is dropped.
      let expectedSyncs = 0;
      const lastSent = 2 * phaseMs - params.storeLatencyMs;
      for (let i = 0; i < n; i++) {
        const phase = (s * (i + 1)) / n;
        const from = firstArrival[i]!;
        if (Number.isNaN(from) || from >= lastSent) continue;
        const first = from < phase ? 0 : Math.floor((from - phase) / s) + 1;
        const last = Math.ceil((lastSent - phase) / s) - 1;
        expectedSyncs += Math.max(0, last - first + 1);
      }
      check(
        'the store serves one sync per instance per interval, not one call per request',
        Math.abs(storeServedUp - expectedSyncs) <= n,
        `${storeServedUp} syncs while reachable; ${n} instances every ${s} ms from their first request: ${expectedSyncs}`,
      );
    }

    const pick = (p: Phase) => perPhase[p];
    return {
      design,
      offered,
      admitted: accuracy.totals().admitted,
      evenOffered: pick('even').offered,
      evenAdmitted: pick('even').admitted,
      evenOver: pick('even').over,
      evenUnder: pick('even').under,
      skewedOffered: pick('skewed').offered,
      skewedAdmitted: pick('skewed').admitted,
      skewedOver: pick('skewed').over,
      skewedUnder: pick('skewed').under,
      partitionOffered: pick('partition').offered,
      partitionAdmitted: pick('partition').admitted,
      partitionOver: pick('partition').over,
      partitionUnder: pick('partition').under,
      maxOverPerWindow: Math.max(pick('even').maxOver, pick('skewed').maxOver),
      overBoundPerWindow,
      theoryLocalUnderPerWindow,
      meanAddedLatencyMs: upLatency.count === 0 ? 0 : upLatency.mean,
      p99AddedLatencyMs: upLatency.count === 0 ? 0 : upLatency.percentile(99),
      partitionMeanLatencyMs: partitionDecisions === 0 ? 0 : partitionLatencySum / partitionDecisions,
      reachableFailureModeDecisions: upFailOpen + upFailClosed,
      storeLoadPerSecond,
      expectedStoreLoadPerSecond:
        design === 'central' ? ratePerSecond : design === 'synced' ? (n * 1000) / params.syncIntervalMs : 0,
      storeCalls: limiterCalls,
    };
  },
  compare(variants: readonly VariantResult[], params) {
    const checks: CheckResult[] = [];
    const by = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const num = (o: Record<string, unknown> | undefined, key: string): number =>
      Number(o?.[key] ?? Number.NaN);
    const fast = by('synced-100ms');
    const slow = by('synced-1s');
    // Only where theory expects a clear effect: the limit reached well inside each window, more than
    // one instance, and a bound worth measuring.
    if (
      fast !== undefined &&
      slow !== undefined &&
      params.load >= 1.5 &&
      num(fast, 'overBoundPerWindow') >= 10
    ) {
      const a = num(fast, 'evenOver');
      const b = num(slow, 'evenOver');
      checks.push({
        name: 'synced: a 10x longer sync interval over-admits several times more',
        pass: b > 3 * Math.max(a, 1),
        detail: `even load: ${a} over-admitted at 100 ms, ${b} at 1 s`,
      });
    }
    const central = by('central-fail-open');
    const local = by('local');
    if (central !== undefined && local !== undefined) {
      // Only when the skew leaves permits idle by more than Poisson noise (theory in the local variant).
      const theory = num(local, 'theoryLocalUnderPerWindow');
      if (theory > Z * Math.sqrt(Math.max(1, theory)))
        checks.push({
          name: 'skewed load: the local share under-admits where the central store does not',
          pass: num(local, 'skewedUnder') > num(central, 'skewedUnder'),
          detail: `under-admitted: local ${num(local, 'skewedUnder')}, central ${num(central, 'skewedUnder')} (theory for local: ${theory.toFixed(1)} per window)`,
        });
      checks.push({
        name: 'the central store adds a round trip to every request; the local share adds nothing',
        pass: num(central, 'meanAddedLatencyMs') > 0 && num(local, 'meanAddedLatencyMs') === 0,
        detail: `mean added latency: central ${num(central, 'meanAddedLatencyMs').toFixed(3)} ms, local ${num(local, 'meanAddedLatencyMs')} ms`,
      });
    }
    if (central !== undefined && fast !== undefined) {
      const syncLoad = num(fast, 'storeLoadPerSecond');
      const checkLoad = num(central, 'storeLoadPerSecond');
      checks.push({
        name: 'the store load is one call per request (central) against one sync per instance per interval (synced)',
        pass:
          syncLoad < checkLoad ===
          num(fast, 'expectedStoreLoadPerSecond') < num(central, 'expectedStoreLoadPerSecond'),
        detail: `store load: central ${checkLoad.toFixed(1)}/s, synced-100ms ${syncLoad.toFixed(1)}/s`,
      });
    }
    return checks;
  },
});
