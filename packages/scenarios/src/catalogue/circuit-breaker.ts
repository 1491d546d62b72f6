import {
  CircuitBreaker,
  type CircuitBreakerConfig,
  type CircuitBreakerMetrics,
  type CircuitBreakerState,
} from '@dsim/components';
import { exponential, LatencyHistogram, Network, RpcEndpoint, scheduleFaults } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_OFFERED, MAX_RATE, MAX_SECONDS } from './limits.js';

const BREAKERS = ['none', 'count-based', 'time-based', 'slow-call'] as const;

/** The dependency fails from here (ms): long enough for every window to fill with healthy calls first. */
const FAULT_START = 10_000;
/** Checks allow this many standard deviations of Poisson counting noise. */
const Z = 4;

/** Longest list (state changes, periods) an outcome or a check shows; the rest is counted. */
const SHOWN = 40;

/** The first {@link SHOWN} items joined by `separator`, then how many more there were. */
function upTo(items: readonly string[], separator: string): string {
  const shown = items.slice(0, SHOWN).join(separator);
  return items.length > SHOWN ? `${shown}${separator}… (${items.length - SHOWN} more)` : shown;
}

/** One HALF_OPEN period as the scenario saw it. */
interface HalfOpenPeriod {
  start: number;
  /** Time the OPEN state it came from was entered. */
  openedAt: number;
  /** True when the transition happened inside `tryAcquirePermission()` (resilience4j's lazy default). */
  onCall: boolean;
  /** Time of the call attempt before the one that made the transition (lazy mode). */
  previousAttempt: number;
  permitted: number;
  recorded: number;
  /** Recorded calls that were permitted before this period began. */
  stragglers: number;
  failed: number;
  slow: number;
  end: number | null;
  to: CircuitBreakerState | null;
}

/**
 * `circuit-breaker`: a caller sends `rate` calls per second to a dependency (exponential service,
 * `serviceMs`, no queueing) through a resilience4j circuit breaker. From t = 10 s for `faultSeconds` the
 * dependency fails: with `fault: 'errors'` every call it completes answers an error; with `fault: 'slow'`
 * every response takes `slowMs` longer (a `latency` fault on the dep → caller link) but still succeeds.
 * Then it recovers.
 *
 * Variants: `none` (no breaker: every call reaches the failing dependency), `count-based` (window of the
 * last `windowCalls` calls), `time-based` (window of the last `windowSeconds` epoch seconds), `slow-call`
 * (count window with a slow-call rate threshold, facing the `slow` fault, which a failure-rate breaker does
 * not see). The outcome has the breaker's state timeline (its first 40 changes), the calls that reached
 * the dependency during the fault, failed-fast calls, caller latency during the fault and the time to
 * close after recovery; the checks hold the breaker to resilience4j's documented semantics.
 *
 * @example
 * ```ts
 * const result = runScenario(circuitBreaker, { seed: 1, variants: ['none', 'count-based'] });
 * const breaker = result.variants[1]!.outcome;
 * breaker.timeline; // 'OPEN 10.410, HALF_OPEN 15.413, OPEN 15.513, ...'
 * breaker.loadFactor; // ≈ 0.04: the dependency sees 4% of the calls during the fault
 * ```
 */
export const circuitBreaker = defineScenario({
  name: 'circuit-breaker',
  description: 'A dependency fails for a while: resilience4j breakers (count, time, slow-call) against none',
  params: {
    rate: param.number({
      default: 100,
      min: 0,
      max: MAX_RATE,
      exclusiveMin: true,
      description: 'calls per second (Poisson)',
    }),
    serviceMs: param.number({
      default: 20,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: 'dependency service time when healthy (mean, exponential, no queueing)',
    }),
    timeoutMs: param.number({ default: 2000, min: 1, max: MAX_MS, description: 'caller timeout per call' }),
    fault: param.enum(['errors', 'slow'], {
      default: 'errors',
      description: 'errors: every call fails; slow: every response takes slowMs longer',
    }),
    slowMs: param.number({
      default: 800,
      min: 0,
      max: MAX_MS,
      description: 'extra response time in the slow fault',
    }),
    faultSeconds: param.number({
      default: 20,
      min: 1,
      max: MAX_SECONDS,
      description: 'fault length, from t = 10 s',
    }),
    afterSeconds: param.number({
      default: 15,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds after the fault',
    }),
    breaker: param.enum(BREAKERS, { default: 'none', description: 'breaker (each variant sets it)' }),
    windowCalls: param.integer({
      default: 100,
      min: 1,
      max: 1_000_000,
      description: 'slidingWindowSize of the count-based and slow-call breakers (calls)',
    }),
    windowSeconds: param.integer({
      default: 10,
      min: 1,
      max: MAX_SECONDS,
      description: 'slidingWindowSize of the time-based breaker (seconds)',
    }),
    minimumNumberOfCalls: param.integer({
      default: 100,
      min: 1,
      max: MAX_OFFERED,
      description:
        'calls in the window before any rate is computed (clamped to windowCalls for count windows)',
    }),
    failureRateThreshold: param.number({
      default: 50,
      min: 0,
      max: 100,
      exclusiveMin: true,
      description: 'failure rate (%) at or above which the breaker opens',
    }),
    slowCallRateThreshold: param.number({
      default: 50,
      min: 0,
      max: 100,
      exclusiveMin: true,
      description: 'slow-call rate (%) at or above which the slow-call breaker opens',
    }),
    slowCallDurationThresholdMs: param.number({
      default: 500,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: 'a call longer than this is slow (slow-call breaker)',
    }),
    waitDurationInOpenStateMs: param.number({
      default: 5000,
      min: 1,
      max: MAX_MS,
      description: 'time spent OPEN',
    }),
    permittedNumberOfCallsInHalfOpenState: param.integer({
      default: 10,
      min: 1,
      max: MAX_OFFERED,
      description: 'trial calls in HALF_OPEN',
    }),
    automaticTransitionFromOpenToHalfOpenEnabled: param.boolean({
      default: false,
      description: 'OPEN -> HALF_OPEN at the end of the wait (true) or on the first call after it (false)',
    }),
  },
  variants: [
    { name: 'none', params: { breaker: 'none' } },
    { name: 'count-based', params: { breaker: 'count-based' } },
    { name: 'time-based', params: { breaker: 'time-based' } },
    { name: 'slow-call', params: { breaker: 'slow-call', fault: 'slow' } },
  ],
  run({ sim, params, requests, check }) {
    // A slow dependency keeps calls in flight: up to rate x timeout of them at once.
    limitOffered(
      params.rate * (FAULT_START / 1000 + params.faultSeconds + params.afterSeconds),
      'rate × (10 + faultSeconds + afterSeconds)',
    );
    const faultEnd = FAULT_START + params.faultSeconds * 1000;
    const end = faultEnd + params.afterSeconds * 1000;
    const inFault = (t: number): boolean => t >= FAULT_START && t < faultEnd;
    const net = new Network(sim);

    // The dependency: an infinite-server delay (no queueing), so its latency is the service time alone
    // and the breaker's effect on load shows as a count, not as a queue.
    const depNode = net.addNode('dep');
    const depTime = exponential({ mean: params.serviceMs });
    const depRng = sim.rng('dep/service');
    let failing = false;
    let reachedDuringFault = 0;
    new RpcEndpoint(depNode).serve((_request, reply) => {
      if (inFault(sim.now)) reachedDuringFault++;
      depNode.setTimer(depTime.sample(depRng) / depNode.capacity, () => {
        if (failing) reply.error('error', 'dependency failing');
        else reply.ok(null);
      });
    });
    const caller = new RpcEndpoint(net.addNode('caller'));
    if (params.fault === 'errors') {
      sim.scheduleAt(FAULT_START, () => (failing = true));
      sim.scheduleAt(faultEnd, () => (failing = false));
    } else {
      scheduleFaults(net, [
        {
          at: FAULT_START,
          for: faultEnd - FAULT_START,
          fault: { kind: 'latency', a: 'dep', b: 'caller', latency: params.slowMs, oneWay: true },
        },
      ]);
    }

    // The breaker, as the variant configures it.
    const kind = params.breaker;
    const config: CircuitBreakerConfig = {
      name: 'dep',
      failureRateThreshold: params.failureRateThreshold,
      minimumNumberOfCalls: params.minimumNumberOfCalls,
      waitDurationInOpenStateMs: params.waitDurationInOpenStateMs,
      permittedNumberOfCallsInHalfOpenState: params.permittedNumberOfCallsInHalfOpenState,
      automaticTransitionFromOpenToHalfOpenEnabled: params.automaticTransitionFromOpenToHalfOpenEnabled,
      ...(kind === 'time-based'
        ? { slidingWindowType: 'time', slidingWindowSize: params.windowSeconds }
        : { slidingWindowType: 'count', slidingWindowSize: params.windowCalls }),
      ...(kind === 'slow-call'
        ? {
            slowCallRateThreshold: params.slowCallRateThreshold,
            slowCallDurationThresholdMs: params.slowCallDurationThresholdMs,
          }
        : {}),
    };
    const breaker = kind === 'none' ? null : new CircuitBreaker(sim, config);
    const wait = params.waitDurationInOpenStateMs;
    const permits = params.permittedNumberOfCallsInHalfOpenState;
    const lazy = !params.automaticTransitionFromOpenToHalfOpenEnabled;
    const failureThreshold = params.failureRateThreshold;
    const slowThreshold = kind === 'slow-call' ? params.slowCallRateThreshold : 100;
    const slowCallMs = kind === 'slow-call' ? params.slowCallDurationThresholdMs : 60_000;

    // Instrumentation of the breaker's behaviour, checked against resilience4j's semantics below.
    const timeline: string[] = [];
    const opens: Array<{ at: number; from: CircuitBreakerState; metrics: CircuitBreakerMetrics }> = [];
    const halfOpens: HalfOpenPeriod[] = [];
    const closes: number[] = [];
    let acquiring = false;
    let lastAttempt = -Infinity;
    let previousAttempt = -Infinity;
    let lastOpenAt = -Infinity;
    let closedAboveThreshold = 0; // calls recorded in CLOSED that left a rate at or above its threshold
    const atFault: { window: CircuitBreakerMetrics | null } = { window: null };
    // resilience4j compares Java floats: rate = count * 100f / total against the threshold as a float.
    const reaches = (rate: number, threshold: number): boolean => rate >= Math.fround(threshold);
    breaker?.onStateChange(({ from, to, at }) => {
      timeline.push(`${to} ${(at / 1000).toFixed(3)}`);
      const current = halfOpens.at(-1);
      if (from === 'HALF_OPEN' && current !== undefined && current.end === null) {
        current.end = at;
        current.to = to;
      }
      if (to === 'OPEN') {
        lastOpenAt = at;
        opens.push({ at, from, metrics: breaker.metrics });
      } else if (to === 'HALF_OPEN') {
        halfOpens.push({
          start: at,
          openedAt: lastOpenAt,
          onCall: acquiring,
          previousAttempt,
          permitted: 0,
          recorded: 0,
          stragglers: 0,
          failed: 0,
          slow: 0,
          end: null,
          to: null,
        });
      } else if (to === 'CLOSED') {
        closes.push(at);
      }
    });
    if (breaker !== null) sim.scheduleAt(FAULT_START, () => (atFault.window = breaker.metrics));

    const record = (ok: boolean, duration: number, permittedIn: HalfOpenPeriod | undefined): void => {
      if (breaker === null) return;
      const before = breaker.state;
      const period = halfOpens.at(-1);
      if (before === 'HALF_OPEN' && period !== undefined) {
        period.recorded++;
        if (permittedIn !== period) period.stragglers++;
        if (!ok) period.failed++;
        if (duration > slowCallMs) period.slow++;
      }
      if (ok) breaker.onSuccess(duration);
      else breaker.onError(duration);
      if (before === 'CLOSED' && breaker.state === 'CLOSED') {
        const m = breaker.metrics;
        if (reaches(m.failureRate, failureThreshold) || reaches(m.slowCallRate, slowThreshold)) {
          closedAboveThreshold++;
        }
      }
    };

    // Caller-side figures: by the time the call started.
    const faultLatency = new LatencyHistogram();
    let offeredDuringFault = 0;
    let okDuringFault = 0;
    let failedFastDuringFault = 0;
    let failedFast = 0;
    let failedFastMaxMs = 0;
    const gaps = exponential({ rate: params.rate / 1000 });
    const rng = sim.rng('circuit-breaker/arrivals');
    sim.process(function* () {
      while (sim.now < end) {
        const started = sim.now;
        const during = inFault(started);
        requests.start();
        if (during) offeredDuringFault++;
        previousAttempt = lastAttempt;
        lastAttempt = started;
        acquiring = true;
        const permitted = breaker === null ? true : breaker.tryAcquirePermission();
        acquiring = false;
        if (!permitted) {
          const latency = sim.now - started; // a rejected call never leaves the caller
          failedFast++;
          failedFastMaxMs = Math.max(failedFastMaxMs, latency);
          if (during) {
            failedFastDuringFault++;
            faultLatency.record(latency);
          }
          requests.finish(false, latency);
        } else {
          const trial = breaker?.state === 'HALF_OPEN' ? halfOpens.at(-1) : undefined;
          if (trial !== undefined) trial.permitted++;
          caller.call('dep', null, { timeout: params.timeoutMs }).onProcessed((e) => {
            const res = e.value!;
            const latency = sim.now - started;
            record(res.ok, latency, trial);
            requests.finish(res.ok, latency);
            if (during) {
              faultLatency.record(latency);
              if (res.ok) okDuringFault++;
            }
          });
        }
        yield sim.timeout(gaps.sample(rng));
      }
    });
    sim.run();

    // ----- Theory -----
    const lambda = params.rate / 1000; // per ms
    const faultMs = faultEnd - FAULT_START;
    const slowFault = params.fault === 'slow';
    const timesOut = slowFault && params.slowMs >= params.timeoutMs;
    // How long a call lasts during the fault, and when its (bad) outcome is recorded after the fault starts.
    const callMs = slowFault
      ? Math.min(params.serviceMs + params.slowMs, params.timeoutMs)
      : params.serviceMs;
    const badDelay = slowFault ? Math.min(params.slowMs, params.timeoutMs) : 0;
    // Which rate the fault drives to 100%: every call fails (errors, timeouts), or every call is slow.
    const failsAll = !slowFault || timesOut;
    const slowAll = kind === 'slow-call' && slowFault && params.slowMs > slowCallMs;
    // A time window holds between W − 1 and W seconds of calls: it may never reach minimumNumberOfCalls.
    const perWindow = params.rate * params.windowSeconds;
    const noise = Z * Math.sqrt(perWindow);
    const unreachable = kind === 'time-based' && params.minimumNumberOfCalls > perWindow + noise;
    const reachable =
      kind !== 'time-based' ||
      params.minimumNumberOfCalls <= params.rate * (params.windowSeconds - 1) - noise;
    const sees = breaker !== null && reachable && (failsAll || slowAll);
    // A slow fault whose calls stay (almost surely) below every threshold: the breaker cannot see it.
    const blind =
      breaker !== null &&
      slowFault &&
      params.slowMs + 20 * params.serviceMs < Math.min(params.timeoutMs, slowCallMs);
    const tripThreshold = Math.min(failsAll ? failureThreshold : 100, slowAll ? slowThreshold : 100);
    const tripOnSlow = !failsAll || (slowAll && slowThreshold < failureThreshold);
    // Recorded bad calls needed to trip a count window that was full of good calls: ceil(θ N / 100).
    const badToTrip = Math.ceil((tripThreshold * params.windowCalls) / 100);
    let theoryOpenAfterMs: number | null = null;
    if (sees && kind === 'time-based') {
      // Bad calls fill a fraction θ of a window of W one-second buckets after θ·W seconds.
      theoryOpenAfterMs = badDelay + (tripThreshold / 100) * params.windowSeconds * 1000;
    } else if (sees) {
      // Bad outcomes are recorded from badDelay after the fault start, at rate λ.
      theoryOpenAfterMs = badDelay + badToTrip / lambda;
    }
    // Calls reach the dependency until the trip; then each open cycle (the wait, then a trial of `permits`
    // calls lasting about permits/λ + one call) lets one trial through: trials start at trip + wait + k·cycle.
    const trialMs = permits / lambda + callMs;
    let theoryReached = lambda * faultMs;
    if (breaker !== null && theoryOpenAfterMs !== null && theoryOpenAfterMs < faultMs) {
      const trials = Math.max(0, Math.floor((faultMs - theoryOpenAfterMs - wait) / (wait + trialMs)) + 1);
      theoryReached = lambda * theoryOpenAfterMs + permits * trials;
    }
    // The model assumes each trial is decided by its own calls: the wait outlasts the calls in flight.
    const modelApplies = breaker === null || theoryOpenAfterMs === null || wait > 2 * callMs;
    const reachedTolerance = permits + Z * Math.sqrt(theoryReached) + 0.05 * theoryReached;

    // ----- Measured -----
    const firstOpen = opens.find((o) => o.at >= FAULT_START) ?? null;
    const openedAfterMs = firstOpen === null ? null : firstOpen.at - FAULT_START;
    const closeAfterRecovery = closes.find((t) => t >= faultEnd) ?? null;
    const closedAfterRecoveryMs = closeAfterRecovery === null ? null : closeAfterRecovery - faultEnd;
    const summary = faultLatency.summary();
    const num = (x: number): number | null => (Number.isNaN(x) ? null : x);

    // ----- Checks -----
    const eps = 1e-9;
    if (breaker === null) {
      check(
        'without a breaker every call during the fault reaches the dependency',
        Math.abs(reachedDuringFault - offeredDuringFault) <= 2,
        `${reachedDuringFault} of ${offeredDuringFault} calls reached it`,
      );
    } else {
      check(
        'the breaker never stays CLOSED with a rate at or above its threshold',
        closedAboveThreshold === 0,
        `${closedAboveThreshold} recorded calls left a rate >= threshold in CLOSED`,
      );
      const fromClosed = opens.filter((o) => o.from === 'CLOSED');
      const minimum =
        kind === 'time-based'
          ? params.minimumNumberOfCalls
          : Math.min(params.minimumNumberOfCalls, params.windowCalls);
      const badOpen = fromClosed.filter(
        (o) =>
          o.metrics.bufferedCalls < minimum ||
          !(
            reaches(o.metrics.failureRate, failureThreshold) || reaches(o.metrics.slowCallRate, slowThreshold)
          ),
      );
      check(
        'it opens only with at least minimumNumberOfCalls recorded and a rate at or above the threshold',
        badOpen.length === 0,
        fromClosed.length === 0
          ? 'never opened'
          : upTo(
              fromClosed.map(
                (o) =>
                  `at ${(o.at / 1000).toFixed(3)} s: ${o.metrics.bufferedCalls} calls, failure rate ${o.metrics.failureRate.toFixed(2)}%, slow rate ${o.metrics.slowCallRate.toFixed(2)}%`,
              ),
              '; ',
            ),
      );
      const w = atFault.window;
      const cleanWindow =
        w !== null && w.bufferedCalls === params.windowCalls && w.failedCalls === 0 && w.slowCalls === 0;
      if (sees && kind !== 'time-based' && cleanWindow && firstOpen !== null) {
        const bad = tripOnSlow ? firstOpen.metrics.slowCalls : firstOpen.metrics.failedCalls;
        check(
          'a count window full of good calls trips at exactly ceil(threshold x size / 100) bad calls',
          bad === badToTrip,
          `${bad} bad calls in the window of ${firstOpen.metrics.bufferedCalls} when it opened, expected ${badToTrip}`,
        );
      }
      if (sees && theoryOpenAfterMs !== null && theoryOpenAfterMs < faultMs) {
        // Count windows: the k-th bad call is a Poisson arrival time, sd sqrt(k)/λ; time windows: bucket edges.
        const tol =
          kind === 'time-based'
            ? 1000 + 0.1 * theoryOpenAfterMs
            : Z * (Math.sqrt(badToTrip) / lambda) + 4 * params.serviceMs + 50;
        check(
          'it opens when the theory says the window crosses the threshold',
          openedAfterMs !== null && Math.abs(openedAfterMs - theoryOpenAfterMs) <= tol,
          `opened ${openedAfterMs === null ? 'never' : `${openedAfterMs.toFixed(0)} ms`} after the fault started, theory ${theoryOpenAfterMs.toFixed(0)} ms (±${tol.toFixed(0)})`,
        );
      }
      const timed = halfOpens.filter((h) => Number.isFinite(h.openedAt));
      const badTiming = timed.filter((h) =>
        lazy
          ? !(h.onCall && h.start > h.openedAt + wait && h.previousAttempt <= h.openedAt + wait)
          : !(!h.onCall && Math.abs(h.start - (h.openedAt + wait)) < eps),
      );
      check(
        lazy
          ? 'OPEN -> HALF_OPEN on the first call strictly after waitDurationInOpenState (lazy, the default)'
          : 'OPEN -> HALF_OPEN exactly waitDurationInOpenState after opening (automatic transition)',
        badTiming.length === 0,
        `${timed.length} transitions, ${badTiming.length} off; delays after the wait: ${upTo(
          timed.map((h) => `${(h.start - h.openedAt - wait).toFixed(1)} ms`),
          ', ',
        )}`,
      );
      const ended = halfOpens.filter((h) => h.end !== null);
      // Calls still in flight from before count in the half-open window too (resilience4j records a call in
      // the state current when it completes), so a trial can decide before all its permits are used.
      const badTrials = ended.filter(
        (h) => h.permitted > permits || h.recorded !== permits || h.permitted + h.stragglers < permits,
      );
      check(
        'HALF_OPEN grants at most permittedNumberOfCallsInHalfOpenState permits and decides when that many calls are recorded',
        badTrials.length === 0,
        upTo(
          ended.map(
            (h) =>
              `${h.permitted} permitted / ${h.recorded} recorded${h.stragglers > 0 ? ` (${h.stragglers} from before)` : ''} -> ${h.to}`,
          ),
          '; ',
        ) || 'no half-open period',
      );
      if (unreachable) {
        check(
          'a time window that can never hold minimumNumberOfCalls never opens',
          opens.length === 0,
          `${opens.length} opens; about ${perWindow} calls per window, minimumNumberOfCalls ${params.minimumNumberOfCalls}`,
        );
      }
      if (blind) {
        check(
          'slow but successful calls never open a breaker without a matching slow-call threshold',
          opens.length === 0,
          `${opens.length} opens; calls took about ${callMs.toFixed(0)} ms, slow-call threshold ${slowCallMs} ms`,
        );
      }
      const below = (count: number, total: number, threshold: number): boolean =>
        !reaches(Math.fround((count * 100) / Math.max(1, total)), threshold);
      const wrongDecision = ended.filter(
        (h) =>
          (h.to === 'CLOSED') !==
          (below(h.failed, h.recorded, failureThreshold) && below(h.slow, h.recorded, slowThreshold)),
      );
      check(
        'a trial closes the breaker iff both its failure and slow-call rates are below their thresholds',
        wrongDecision.length === 0,
        `${wrongDecision.length} of ${ended.length} trials decided otherwise`,
      );
      // Recovery: every call of the fault has completed after badDelay (plus a long service time); the next
      // trial starts at most one wait (plus the gap to the next call, when lazy) later and lasts trialMs.
      const bound = badDelay + 10 * params.serviceMs + wait + 10 / lambda + trialMs;
      if (firstOpen !== null && firstOpen.at < faultEnd && end - faultEnd >= bound) {
        const reopenedAfter = opens.filter((o) => closeAfterRecovery !== null && o.at > closeAfterRecovery);
        // The first trial that starts once every call of the fault has completed is all good, so the breaker
        // closes there at the latest (a trial that straddles the recovery may close it earlier).
        const clean = faultEnd + badDelay + 10 * params.serviceMs;

        const trialsAfter = halfOpens.filter((h) => h.start >= clean);
        check(
          'after recovery it closes at the first trial at the latest, and stays CLOSED',
          closeAfterRecovery !== null &&
            reopenedAfter.length === 0 &&
            breaker.state === 'CLOSED' &&
            (trialsAfter.length === 0 || trialsAfter[0]!.to === 'CLOSED'),
          `closed ${closedAfterRecoveryMs === null ? 'never' : `${closedAfterRecoveryMs.toFixed(0)} ms`} after recovery, final state ${breaker.state}`,
        );
        check(
          'time to close after recovery is at most the last calls of the fault + waitDurationInOpenState + one trial',
          closedAfterRecoveryMs !== null && closedAfterRecoveryMs <= bound,
          `${closedAfterRecoveryMs === null ? 'never' : `${closedAfterRecoveryMs.toFixed(0)} ms`} (bound ${bound.toFixed(0)} ms)`,
        );
        if (modelApplies)
          check(
            'load on the dependency during the fault matches the trip-then-trials model',
            Math.abs(reachedDuringFault - theoryReached) <= reachedTolerance,
            `${reachedDuringFault} calls reached it, model ${theoryReached.toFixed(0)} (±${reachedTolerance.toFixed(0)}) of ${offeredDuringFault} offered`,
          );
        check(
          'failed-fast calls take no time',
          failedFast > 0 && failedFastMaxMs === 0,
          `${failedFast} failed fast, slowest ${failedFastMaxMs} ms`,
        );
      }
    }

    return {
      fault: params.fault,
      timeline: upTo(timeline, ', '),
      opens: opens.length,
      halfOpens: halfOpens.length,
      closes: closes.length,
      openedAfterMs,
      theoryOpenedAfterMs: theoryOpenAfterMs,
      offeredDuringFault,
      reachedDuringFault,
      theoryReachedDuringFault: modelApplies ? theoryReached : null,
      loadFactor: offeredDuringFault === 0 ? null : reachedDuringFault / offeredDuringFault,
      failedFastDuringFault,
      okShareDuringFault: offeredDuringFault === 0 ? null : okDuringFault / offeredDuringFault,
      p50DuringFaultMs: num(summary.p50),
      p99DuringFaultMs: num(summary.p99),
      closedAfterRecoveryMs,
      finalState: breaker === null ? null : breaker.state,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const checks = [];
    const by = (name: string) => variants.find((v) => v.name === name);
    const none = by('none');
    const n = (v: VariantResult, key: string): number | null => v.outcome[key] as number | null;
    for (const name of ['count-based', 'time-based', 'slow-call']) {
      const v = by(name);
      if (none === undefined || v === undefined || v.outcome.fault !== none.outcome.fault) continue;
      const model = n(v, 'theoryReachedDuringFault');
      const noneModel = n(none, 'theoryReachedDuringFault');
      if (n(v, 'theoryOpenedAfterMs') === null || model === null || noneModel === null) continue;
      const factor = (n(v, 'reachedDuringFault') ?? 0) / Math.max(1, n(none, 'reachedDuringFault') ?? 0);
      const expected = model / Math.max(1, noneModel);
      checks.push({
        name: `${name} cuts the dependency's load during the fault to the expected share of none's`,
        pass: Math.abs(factor - expected) <= 0.05 + 0.2 * expected,
        detail: `${(100 * factor).toFixed(1)}% of none's calls, expected ${(100 * expected).toFixed(1)}%`,
      });
      if (expected < 0.4) {
        checks.push({
          name: `${name} fails fast: median caller latency during the fault is 0`,
          pass: n(v, 'p50DuringFaultMs') === 0 && (n(none, 'p50DuringFaultMs') ?? 0) > 0,
          detail: `p50 ${n(v, 'p50DuringFaultMs')} ms, none ${n(none, 'p50DuringFaultMs')} ms`,
        });
      }
    }
    const count = by('count-based');
    const time = by('time-based');
    const countTheory = count === undefined ? null : n(count, 'theoryOpenedAfterMs');
    const timeTheory = time === undefined ? null : n(time, 'theoryOpenedAfterMs');
    if (count !== undefined && time !== undefined && countTheory !== null && timeTheory !== null) {
      if (Math.abs(countTheory - timeTheory) > 2000) {
        const countOpened = n(count, 'openedAfterMs');
        const timeOpened = n(time, 'openedAfterMs');
        checks.push({
          name: `the ${countTheory < timeTheory ? 'count' : 'time'} window trips first, as theory says`,
          pass: (countOpened ?? Infinity) < (timeOpened ?? Infinity) === countTheory < timeTheory,
          detail: `count ${countOpened === null ? 'never' : `${countOpened.toFixed(0)} ms`} (theory ${countTheory.toFixed(0)}), time ${timeOpened === null ? 'never' : `${timeOpened.toFixed(0)} ms`} (theory ${timeTheory.toFixed(0)}) after the fault started`,
        });
      }
    }
    return checks;
  },
});
