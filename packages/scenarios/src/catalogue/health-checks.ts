import { ActiveHealthCheck, type BackendHealth, LoadBalancer, OutlierDetection } from '@dsim/components';
import { DsimError, exponential, Network, RpcEndpoint, type TraceRecord } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS } from './limits.js';

const HEALTH = ['none', 'active-haproxy', 'active-envoy', 'passive', 'active-passive'] as const;
type Health = (typeof HEALTH)[number];

/** Envoy's default `consecutive_5xx`: the answer that ejects a host. */
const CONSECUTIVE_5XX = 5;

/** The settings of an active checker that the timeline model needs (zero jitter, zero latency). */
export interface CheckModel {
  readonly interval: number;
  readonly timeout: number;
  /** unhealthyThreshold (HAProxy `fall`). */
  readonly fall: number;
  /** healthyThreshold (HAProxy `rise`). */
  readonly rise: number;
  readonly counting: 'consecutive' | 'health-counter';
  readonly startup: 'healthy' | 'first-success';
}

/** One flip of a backend's checked state. */
export interface ModelFlip {
  readonly t: number;
  readonly healthy: boolean;
}

/**
 * The check timeline of one backend under an active checker with zero jitter and zero network latency,
 * computed independently of `ActiveHealthCheck`: the first check leaves at 0; a check sent while the
 * backend is down is lost and fails when its `timeout` fires, one sent while it is up passes at once;
 * the next check leaves `interval` after the previous one ended (Envoy's per-host session; HAProxy's
 * `downinter` defaults to `inter`). Thresholds follow Envoy's consecutive counts or HAProxy's health
 * counter in [0, rise + fall - 1]. Returns the flips whose check ended before `until`.
 *
 * @param o - interval, timeout, fall, rise, counting, startup
 * @param isDown - whether the backend is down at a time (ms)
 * @param until - horizon (ms, exclusive)
 * @example
 * ```ts
 * const haproxy = { interval: 2000, timeout: 2000, fall: 3, rise: 2, counting: 'health-counter', startup: 'healthy' } as const;
 * checkTimeline(haproxy, (t) => t >= 10_300, 60_000); // [{ t: 22_000, healthy: false }]
 * ```
 */
export function checkTimeline(o: CheckModel, isDown: (t: number) => boolean, until: number): ModelFlip[] {
  const flips: ModelFlip[] = [];
  let healthy = o.startup === 'healthy';
  let pending = o.startup === 'first-success';
  let health = healthy ? o.rise : o.rise - 1;
  const max = o.rise + o.fall - 1;
  let successes = 0;
  let failures = 0;
  let t = 0;
  while (t < until) {
    const ok = !isDown(t);
    const end = ok ? t : t + o.timeout;
    if (end >= until) break;
    const was = healthy;
    if (o.counting === 'health-counter') {
      if (ok) {
        if (health < max) health++;
        if (!healthy && health >= o.rise) {
          health = max;
          healthy = true;
        }
      } else if (healthy) {
        if (health > o.rise) health--;
        else {
          health = 0;
          healthy = false;
        }
      } else if (health > 0) health--;
    } else if (ok) {
      failures = 0;
      successes++;
      if (!healthy && (pending || successes >= o.rise)) healthy = true;
      pending = false;
    } else {
      successes = 0;
      failures++;
      pending = false;
      if (healthy && failures >= o.fall) healthy = false;
    }
    if (healthy !== was) flips.push({ t: end, healthy });
    t = end + o.interval;
  }
  return flips;
}

/**
 * `health-checks`: N backends behind a round-robin {@link LoadBalancer}; at `crashAtSeconds` backend-0
 * (or the first `crashed` backends) crashes (`net.crash`): requests sent to it are lost and fail when the
 * balancer's `timeoutMs` fires. The variants compare how the balancer learns of it: active checks with
 * HAProxy's defaults (inter 2 s, fall 3, rise 2) or Envoy-style settings (interval 5 s, timeout 1 s,
 * unhealthy threshold 3), passive outlier detection (Envoy's defaults), both, or nothing. Two variants
 * flap backend-0 (down `flapDownSeconds` every `flapPeriodSeconds`) under fall 3 and fall 1; two crash
 * most backends, with and without Envoy's panic threshold.
 */
export const healthChecks = defineScenario({
  name: 'health-checks',
  description:
    'Active checks, outlier detection, both or neither: time to detect a crashed backend, flapping, panic mode',
  params: {
    backends: param.integer({
      default: 5,
      min: 2,
      max: 1000,
      description: 'backends behind the balancer (N)',
    }),
    rate: param.number({
      default: 200,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'requests per second (Poisson) over all backends',
    }),
    serviceMs: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'mean service time of a backend (exponential, no queueing); health checks answer at once',
    }),
    timeoutMs: param.number({
      default: 1000,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: "the balancer's per-request timeout: a request sent to a crashed backend fails after it",
    }),
    crashAtSeconds: param.number({
      default: 10.3,
      min: 0,
      max: MAX_SECONDS,
      description: 'when the backends crash (crash variants; simulated seconds)',
    }),
    seconds: param.number({
      default: 60,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds of arrivals; rate × seconds at most 1 000 000',
    }),
    flapDownAtSeconds: param.number({
      default: 5.5,
      min: 0,
      max: MAX_SECONDS,
      description: 'flap variants: start of the first outage of backend-0',
    }),
    flapDownSeconds: param.number({
      default: 1,
      min: 0,
      exclusiveMin: true,
      max: MAX_SECONDS,
      description: 'flap variants: length of each outage',
    }),
    flapPeriodSeconds: param.number({
      default: 10,
      min: 0,
      exclusiveMin: true,
      max: MAX_SECONDS,
      description: 'flap variants: one outage every this many seconds (longer than flapDownSeconds)',
    }),
    health: param.enum(HEALTH, {
      default: 'active-haproxy',
      description: 'health sources (each variant sets it)',
    }),
    fault: param.enum(['crash', 'flap'], {
      default: 'crash',
      description: 'crash at crashAtSeconds, or flap (each variant sets it)',
    }),
    crashed: param.integer({
      default: 1,
      min: 1,
      max: 1000,
      description: 'how many backends crash, at most N (each variant sets it)',
    }),
    fall: param.integer({
      default: 3,
      min: 1,
      max: 1000,
      description: "active checks' unhealthy threshold (HAProxy fall; each variant sets it)",
    }),
    panicThreshold: param.number({
      default: 50,
      min: 0,
      max: 100,
      description: "the balancer's panic threshold in percent, 0 disables (each variant sets it)",
    }),
  },
  // Each variant states what differs from the parameter defaults (a crash of one backend, fall 3, panic at 50%).
  variants: [
    {
      name: 'active-haproxy',
      description: "active checks with HAProxy's defaults: inter 2 s (timeout = inter), fall 3, rise 2",
      params: { health: 'active-haproxy' },
    },
    {
      name: 'active-envoy',
      description: 'active checks, Envoy-style: interval 5 s, timeout 1 s, unhealthy 3, healthy 2',
      params: { health: 'active-envoy' },
    },
    {
      name: 'passive',
      description: "outlier detection only, Envoy's defaults (eject on the 5th consecutive 5xx)",
      params: { health: 'passive' },
    },
    {
      name: 'active-passive',
      description: 'Envoy-style active checks and outlier detection together',
      params: { health: 'active-passive' },
    },
    {
      name: 'none',
      description: 'no health checking: the crashed backend keeps its 1/N share',
      params: { health: 'none' },
    },
    {
      name: 'flapping-fall-3',
      description: 'backend-0 down 1 s every 10 s; HAProxy checks with fall 3',
      params: { health: 'active-haproxy', fault: 'flap' },
    },
    {
      name: 'flapping-fall-1',
      description: 'backend-0 down 1 s every 10 s; HAProxy checks with fall 1',
      params: { health: 'active-haproxy', fault: 'flap', fall: 1 },
    },
    {
      name: 'panic',
      description: '3 of 5 crash; Envoy-style checks; panic threshold 50%: the balancer spreads over all',
      params: { health: 'active-envoy', crashed: 3 },
    },
    {
      name: 'panic-disabled',
      description: '3 of 5 crash; Envoy-style checks; panic threshold 0: only the healthy backends',
      params: { health: 'active-envoy', crashed: 3, panicThreshold: 0 },
    },
  ],
  run({ sim, params, requests, check }) {
    limitOffered(params.rate * params.seconds, 'rate × seconds');
    const n = params.backends;
    const health: Health = params.health;
    const flap = params.fault === 'flap';
    const crashed = flap ? 1 : params.crashed;
    if (crashed > n)
      throw new DsimError(
        'CONFIG_ERROR',
        `parameter crashed must be at most backends (${n}), got ${crashed}`,
        {
          details: { field: 'crashed', value: crashed, allowed: `<= backends (${n})` },
        },
      );
    const crashAt = params.crashAtSeconds * 1000;
    const end = params.seconds * 1000;
    const timeoutMs = params.timeoutMs;
    const downAt = params.flapDownAtSeconds * 1000;
    const downFor = params.flapDownSeconds * 1000;
    const period = params.flapPeriodSeconds * 1000;
    if (flap && downFor >= period)
      throw new DsimError(
        'CONFIG_ERROR',
        `parameter flapDownSeconds must be shorter than flapPeriodSeconds (${params.flapPeriodSeconds}), got ${params.flapDownSeconds}`,
        {
          details: {
            field: 'flapDownSeconds',
            value: params.flapDownSeconds,
            allowed: '< flapPeriodSeconds',
          },
        },
      );
    /** Whether backend-0 is down at t (its fault schedule). */
    const isDown = (t: number): boolean =>
      flap ? t >= downAt && (t - downAt) % period < downFor : t >= crashAt;

    const net = new Network(sim); // zero latency: checks and requests reach a live backend at once
    const serviceTime = exponential({ mean: params.serviceMs });
    const addresses: string[] = [];
    for (let i = 0; i < n; i++) {
      const address = `backend-${i}`;
      addresses.push(address);
      const node = net.addNode(address);
      const rng = sim.rng(`health-checks/service/${address}`);
      // No queueing (an infinite-server backend): the fault, not load, is what the variants compare.
      // Health checks answer at once; the node's timers die with a crash, so its answers are lost.
      new RpcEndpoint(node).serve((request, reply) => {
        if (request.payload === 'health') reply.ok('ok');
        else node.setTimer(serviceTime.sample(rng), () => reply.ok(i));
      });
    }

    const activePreset =
      health === 'active-haproxy'
        ? 'haproxy'
        : health === 'active-envoy' || health === 'active-passive'
          ? 'envoy'
          : null;
    const passive = health === 'passive' || health === 'active-passive';
    const lbNode = net.addNode('lb');

    // Passive: Envoy's outlier detection, watched for the first ejection of a crashed backend and the
    // failures it had reported in a row by then.
    const od = passive ? new OutlierDetection(lbNode) : null;
    let firstEjectionAt: number | null = null;
    let runAtEjection: number | null = null;
    let run0 = 0;
    const hooks: BackendHealth[] = [];
    if (od !== null) {
      hooks.push({
        isAvailable: (address) => od.isAvailable(address),
        start: (balancer) => od.start(balancer),
        onResponse: (address, ok, kind, latency) => {
          if (address === 'backend-0') run0 = ok ? 0 : run0 + 1;
          od.onResponse(address, ok, kind, latency);
          if (firstEjectionAt === null && od.host('backend-0')?.ejected === true) {
            firstEjectionAt = sim.now;
            runAtEjection = run0;
          }
        },
      });
    }
    // Active: the checker needs the balancer's own endpoint, which exists once the balancer does; the
    // hook delegates to it from then on.
    let checks: ActiveHealthCheck | null = null;
    if (activePreset !== null) hooks.push({ isAvailable: (address) => checks?.isAvailable(address) ?? true });
    const lb = new LoadBalancer(lbNode, {
      backends: addresses,
      policy: { kind: 'round-robin' },
      timeout: timeoutMs,
      health: hooks,
      panicThreshold: params.panicThreshold,
    });
    if (activePreset !== null) {
      checks = new ActiveHealthCheck(lb.endpoint, { preset: activePreset, unhealthyThreshold: params.fall });
      checks.start(lb);
    }
    const model: CheckModel | null =
      checks === null
        ? null
        : {
            interval: checks.options.interval,
            timeout: checks.options.timeout,
            fall: checks.options.unhealthyThreshold,
            rise: checks.options.healthyThreshold,
            counting: checks.options.counting,
            startup: checks.options.startup,
          };

    // Health flips of backend-0 and the first time each crashed backend was marked unhealthy.
    const flips: ModelFlip[] = [];
    const firstDown = new Map<string, number>();
    if (checks !== null)
      sim.inspect((r: TraceRecord) => {
        if (r.type !== '@dsim.lb.health') return;
        const backend = String(r.backend);
        const healthy = r.state === 'healthy';
        if (backend === 'backend-0' && r.t < end) flips.push({ t: r.t, healthy });
        if (!healthy && !firstDown.has(backend)) firstDown.set(backend, r.t);
      });

    // Faults.
    if (flap) {
      for (let t = downAt; t < end; t += period) {
        sim.schedule(t, () => net.crash('backend-0'));
        sim.schedule(t + downFor, () => net.restart('backend-0'));
      }
    } else {
      sim.schedule(crashAt, () => {
        for (let i = 0; i < crashed; i++) net.crash(`backend-${i}`);
      });
    }

    // Arrivals.
    const client = new RpcEndpoint(net.addNode('client'));
    const failedStarts: number[] = [];
    let total = 0;
    let failed = 0;
    let after = 0;
    let failedAfter = 0;
    let unavailable = 0;
    const starts: number[] = [];
    const oks: boolean[] = [];
    const gaps = exponential({ rate: params.rate / 1000 });
    const rng = sim.rng('health-checks/arrivals');
    sim.process(function* () {
      while (sim.now < end) {
        const started = sim.now;
        const late = !flap && started >= crashAt;
        total++;
        if (late) after++;
        requests.start();
        const k = starts.length;
        starts.push(started);
        oks.push(true);
        client.call('lb', 'GET /').onProcessed((e) => {
          const res = e.value!;
          requests.finish(res.ok, sim.now - started);
          if (res.ok) return;
          oks[k] = false;
          failed++;
          failedStarts.push(started);
          if (late) failedAfter++;
          if (res.error.kind === 'unavailable' && (flap || started >= crashAt)) unavailable++;
        });
        yield sim.timeout(gaps.sample(rng));
      }
    });
    // Periodic checks and sweeps never stop on their own: run past the last answer, then stop them.
    sim.run({ until: end + timeoutMs + 1 });
    checks?.stop();
    od?.stop();

    // What was detected, and when.
    const activeDown = flap ? null : crashedDetection(firstDown, crashed, crashAt);
    const passiveDown = firstEjectionAt;
    const detectedAt =
      activeDown === null
        ? passiveDown
        : passiveDown === null
          ? activeDown
          : Math.min(activeDown, passiveDown);
    const detectMs = detectedAt === null ? null : detectedAt - crashAt;

    // Expectations. Active: the independent timeline model (zero jitter, zero latency).
    let expectedActive: number | null = null;
    if (model !== null && !flap) {
      const down = checkTimeline(model, isDown, end + timeoutMs + 1).find(
        (f) => !f.healthy && f.t >= crashAt,
      );
      expectedActive = down?.t ?? null;
    }
    // Passive: the 5th failed request (all fail by timeout, in the order they were sent) is reported
    // timeoutMs after it was sent (zero latency: sent when it arrived at the balancer).
    failedStarts.sort((a, b) => a - b);
    const expectedPassive =
      od !== null && !flap && crashed === 1 && failedStarts.length >= CONSECUTIVE_5XX
        ? failedStarts[CONSECUTIVE_5XX - 1]! + timeoutMs
        : null;

    // Requests failed while the crash went undetected; error rates before and after detection.
    let failedBeforeDetect = 0;
    let sentAfterDetect = 0;
    let failedAfterDetect = 0;
    for (let k = 0; k < starts.length; k++) {
      const t = starts[k]!;
      if (flap || t < crashAt - timeoutMs) continue;
      if (detectedAt === null || t < detectedAt) {
        if (!oks[k]) failedBeforeDetect++;
      } else {
        sentAfterDetect++;
        if (!oks[k]) failedAfterDetect++;
      }
    }

    const label = `${health}${flap ? ' (flapping)' : ''}`;
    const stats = lb.stats;
    if (!flap) {
      if (activePreset !== null && health !== 'active-passive') {
        check(
          `${label}: detection time equals the check-timeline expectation`,
          activeDown !== null && activeDown === expectedActive,
          `marked unhealthy at ${show(activeDown)} ms, expected ${show(expectedActive)} ms (crash at ${crashAt} ms, interval ${model!.interval} ms, timeout ${model!.timeout} ms, fall ${model!.fall})`,
        );
        if (crashed > 1 && params.panicThreshold > 0 && (n - crashed) * 100 < params.panicThreshold * n) {
          check(
            'panic: below the threshold the balancer spreads over all backends and refuses none as unavailable',
            unavailable === 0 && stats.noBackend === 0 && stats.panicked > 0,
            `${unavailable} unavailable, ${stats.noBackend} without a backend, ${stats.panicked} balanced in panic`,
          );
          const share = crashed / n;
          check(
            'panic: after detection round robin over all gives the crashed backends exactly their share',
            sentAfterDetect > 0 &&
              Math.abs(failedAfterDetect / sentAfterDetect - share) <= crashed / sentAfterDetect + 1e-12,
            `error rate after detection ${ratio(failedAfterDetect, sentAfterDetect)} of ${sentAfterDetect}, crashed share ${share}`,
          );
        } else if (detectedAt !== null) {
          check(
            `${label}: once detected, no request is sent to a crashed backend`,
            failedAfterDetect === 0 && unavailable === 0,
            `${failedAfterDetect} failures among ${sentAfterDetect} requests sent after detection, ${unavailable} unavailable`,
          );
        }
      }
      if (health === 'passive') {
        check(
          'passive: ejected on the 5th consecutive failure, when its timeout fires',
          passiveDown !== null && passiveDown === expectedPassive && runAtEjection === CONSECUTIVE_5XX,
          `ejected at ${show(passiveDown)} ms after ${show(runAtEjection)} failures in a row; 5th failed request sent at ${show(failedStarts[CONSECUTIVE_5XX - 1] ?? null)} ms + timeout ${timeoutMs} ms = ${show(expectedPassive)} ms`,
        );
      }
      if (health === 'active-passive') {
        const expected =
          expectedActive === null
            ? expectedPassive
            : expectedPassive === null
              ? expectedActive
              : Math.min(expectedActive, expectedPassive);
        check(
          'active + passive: detected at the earlier of the two expectations',
          detectedAt !== null && detectedAt === expected,
          `detected at ${show(detectedAt)} ms; active alone ${show(expectedActive)} ms, passive alone ${show(expectedPassive)} ms`,
        );
      }
      if (health === 'none') {
        const share = crashed / n;
        check(
          'none: never detected; the crashed backend keeps its share of the requests, all failing',
          detectedAt === null &&
            after > 0 &&
            Math.abs(failedAfter / after - share) <= (crashed + 1) / after + 1e-12,
          `error rate after the crash ${ratio(failedAfter, after)} of ${after} requests, crashed share ${share}`,
        );
      }
    } else if (model !== null) {
      const expected = checkTimeline(model, isDown, end);
      const same =
        expected.length === flips.length &&
        expected.every((f, i) => f.t === flips[i]!.t && f.healthy === flips[i]!.healthy);
      check(
        `flapping, fall ${model.fall}: health flips exactly as the check-timeline model says`,
        same,
        `${flips.length} flips (${flips
          .slice(0, 4)
          .map((f) => `${f.healthy ? 'up' : 'down'}@${f.t}`)
          .join(', ')}${flips.length > 4 ? ', ...' : ''}), model ${expected.length}`,
      );
      if (downFor < model.interval + model.timeout && model.fall >= 2)
        check(
          `flapping, fall ${model.fall}: an outage shorter than interval + timeout fails one check at most, so it never flips`,
          flips.length === 0,
          `${flips.length} flips; outage ${downFor} ms, interval + timeout ${model.interval + model.timeout} ms`,
        );
    }

    const outages = flap ? Math.max(0, Math.ceil((end - downAt) / period)) : null;
    return {
      detectMs,
      expectedActiveDetectMs: expectedActive === null ? null : expectedActive - crashAt,
      expectedPassiveDetectMs: expectedPassive === null ? null : expectedPassive - crashAt,
      activeDetectMs: activeDown === null ? null : activeDown - crashAt,
      passiveDetectMs: passiveDown === null ? null : passiveDown - crashAt,
      failuresInARowAtEjection: runAtEjection,
      failedBeforeDetect: flap ? null : failedBeforeDetect,
      requests: total,
      failed,
      errorRate: total === 0 ? 0 : failed / total,
      errorRateAfterCrash: flap ? null : after === 0 ? 0 : failedAfter / after,
      errorRateAfterDetect:
        flap || detectedAt === null ? null : sentAfterDetect === 0 ? 0 : failedAfterDetect / sentAfterDetect,
      unavailable,
      panicked: stats.panicked,
      ejections: od?.stats.ejections ?? null,
      healthChecks: checks?.checks ?? null,
      flips: checks === null ? null : flips.length,
      outages,
      // Time backend-0 spent marked unhealthy by the checks before the end of arrivals (flapping).
      markedDownMs: checks === null ? null : downTime(flips, end),
    };
  },
  compare(variants: readonly VariantResult[]) {
    const get = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const out = [];
    const both = get('active-passive');
    const parts = ['active-envoy', 'passive'].map(get).filter((o) => o !== undefined);
    if (both !== undefined && parts.length > 0) {
      const mine = both.detectMs as number | null;
      out.push({
        name: 'active + passive detects at least as fast as either alone',
        pass: mine !== null && parts.every((o) => o.detectMs === null || mine <= (o.detectMs as number)),
        detail: `active + passive ${mine} ms; ${parts.map((o) => o.detectMs).join(' ms, ')} ms alone`,
      });
    }
    const none = get('none');
    if (none !== undefined)
      out.push({
        name: 'without health checking the crash is never detected',
        pass: none.detectMs === null,
        detail: `detectMs ${none.detectMs}, error rate after the crash ${none.errorRateAfterCrash}`,
      });
    const f3 = get('flapping-fall-3');
    const f1 = get('flapping-fall-1');
    if (f3 !== undefined && f1 !== undefined)
      out.push({
        name: 'a higher fall threshold damps flips of a flapping backend',
        pass: (f3.flips as number) < (f1.flips as number),
        detail: `fall 3: ${f3.flips} flips, fall 1: ${f1.flips} flips over ${f1.outages} outages`,
      });
    return out;
  },
});

/** The time all `crashed` backends were first marked unhealthy after the crash, or null. */
function crashedDetection(firstDown: Map<string, number>, crashed: number, crashAt: number): number | null {
  let latest = -Infinity;
  for (let i = 0; i < crashed; i++) {
    const t = firstDown.get(`backend-${i}`);
    if (t === undefined || t < crashAt) return null;
    latest = Math.max(latest, t);
  }
  return latest;
}

/** Total time marked down from the flips, up to `end`. */
function downTime(flips: readonly ModelFlip[], end: number): number {
  let total = 0;
  let since: number | null = null;
  for (const f of flips) {
    if (!f.healthy) since = f.t;
    else if (since !== null) {
      total += f.t - since;
      since = null;
    }
  }
  if (since !== null) total += end - since;
  return total;
}

const show = (x: number | null): string => (x === null ? 'never' : String(x));
const ratio = (a: number, b: number): string => (b === 0 ? '0' : (a / b).toFixed(4));
