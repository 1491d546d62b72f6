import { LoadBalancer, Service } from '@dsim/components';
import { exponential, LatencyHistogram, lognormal, Network, RpcEndpoint, truncate } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

/** AWS target groups accept a `deregistration_delay` from 0 to 3600 s. */
const MAX_DRAIN_SECONDS = 3600;

/** Largest log-scale spread of the service time: e^10 is a factor of 22 000 per standard deviation. */
const MAX_SIGMA = 10;

/** The standard normal CDF (Abramowitz and Stegun 7.1.26 for erfc: absolute error below 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/**
 * `E[(S - d)+]` for S lognormal(mu, sigma) truncated to (0, max]: the mean time a request still has to
 * run past `d`, counting those that end before as 0. By Little's law for an M/G/∞ backend, arrivals at
 * rate λ leave `λ × E[(S - d)+]` requests still running `d` after the arrivals stop.
 *
 * @example
 * ```ts
 * lognormalExcessMean(Math.log(50), 1.5, 20_000, 1000); // ≈ 23.6 ms
 * ```
 */
export function lognormalExcessMean(mu: number, sigma: number, max: number, d: number): number {
  if (d >= max) return 0;
  if (sigma === 0) return Math.max(0, Math.exp(mu) - d);
  const z = (x: number): number => (x <= 0 ? -Infinity : (Math.log(x) - mu) / sigma);
  const zMax = z(max);
  const zD = z(d);
  const mean = Math.exp(mu + (sigma * sigma) / 2);
  const above =
    mean * (normalCdf(zMax - sigma) - normalCdf(zD - sigma)) - d * (normalCdf(zMax) - normalCdf(zD));
  return above / normalCdf(zMax);
}

/** One step of the rolling deploy, as it happened. */
interface Step {
  readonly backend: string;
  readonly removedAt: number;
  /** Requests the old backend held when it was removed (its own count: busy + queued). */
  readonly inFlightAtRemoval: number;
  /** Requests it still held at the drain deadline (its own count); 0 when it drained early. */
  inFlightAtDeadline: number;
  /** The balancer's `stats.cut` gained between the removal and the deadline. */
  cut: number;
}

/**
 * `connection-draining`: a rolling deploy of every backend under load. Each backend in turn is removed
 * from the balancer with a deregistration delay (`removeBackend(address, { drain })`, AWS target groups'
 * `deregistration_delay`), and its replacement, a fresh backend at a new address, joins `restartSeconds`
 * later, when the next backend's turn comes. Service times are lognormal (a heavy-ish tail, capped at
 * `maxServiceMs`), so a delay shorter than the longest request cuts the few long ones still running at
 * the deadline. Variants: no drain (delay 0: every request in flight is cut at once), a delay longer than
 * the longest request (nothing is cut), and a 1 s delay (some are cut).
 */
export const connectionDraining = defineScenario({
  name: 'connection-draining',
  description:
    'A rolling deploy behind a balancer: the deregistration delay decides how many in-flight requests are cut',
  params: {
    backends: param.integer({
      default: 4,
      min: 2,
      max: 1000,
      description: 'backends behind the balancer (N); each is replaced once',
    }),
    rate: param.number({
      default: 400,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'requests per second (Poisson) over all backends',
    }),
    medianMs: param.number({
      default: 50,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'median service time (lognormal)',
    }),
    sigma: param.number({
      default: 1.5,
      min: 0,
      max: MAX_SIGMA,
      description: 'log-scale standard deviation of the service time (1.5: mean ≈ 3 × median)',
    }),
    maxServiceMs: param.number({
      default: 20_000,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'longest service time: the lognormal is truncated here (the longest request)',
    }),
    workers: param.integer({
      default: 100,
      min: 1,
      max: MAX_WORKERS,
      description: 'workers per backend (enough that requests rarely queue)',
    }),
    deployAtSeconds: param.number({
      default: 10,
      min: 0,
      max: MAX_SECONDS,
      description: 'when the first backend is removed (simulated seconds)',
    }),
    restartSeconds: param.number({
      default: 5,
      min: 0,
      exclusiveMin: true,
      max: MAX_SECONDS,
      description: 'from a removal to its replacement joining, and to the next removal',
    }),
    drainSeconds: param.number({
      default: 30,
      min: 0,
      max: MAX_DRAIN_SECONDS,
      description: 'deregistration delay (AWS: 0 to 3600 s, default 300 s); each variant sets it',
    }),
    seconds: param.number({
      default: 60,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds of arrivals; rate × seconds at most 1000000',
    }),
  },
  variants: [
    {
      name: 'no-drain',
      description: 'deregistration delay 0: every request in flight is cut at the removal',
      params: { drainSeconds: 0 },
    },
    {
      name: 'long-drain',
      description: 'a 30 s delay, longer than the longest request (20 s)',
      params: { drainSeconds: 30 },
    },
    {
      name: 'short-drain',
      description: 'a 1 s delay, shorter than the longest requests: those still running are cut',
      params: { drainSeconds: 1 },
    },
  ],
  run({ sim, params, requests, check }) {
    limitOffered(params.rate * params.seconds, 'rate × seconds');
    const n = params.backends;
    const end = params.seconds * 1000;
    const deployAt = params.deployAtSeconds * 1000;
    const step = params.restartSeconds * 1000;
    const drainMs = params.drainSeconds * 1000;
    const net = new Network(sim); // zero latency: time in flight at the balancer is time at the backend
    const serviceTime = truncate(lognormal({ mu: Math.log(params.medianMs), sigma: params.sigma }), {
      max: params.maxServiceMs,
    });
    const services = new Map<string, Service>();
    const addBackendNode = (address: string): void => {
      services.set(address, new Service(net.addNode(address), { concurrency: params.workers, serviceTime }));
    };
    const addresses: string[] = [];
    for (let i = 0; i < n; i++) {
      addresses.push(`backend-${i}`);
      addBackendNode(`backend-${i}`);
    }
    // No balancer timeout: a long request is cut only by a drain deadline, never by a 504.
    const lb = new LoadBalancer(net.addNode('lb'), {
      backends: addresses,
      policy: { kind: 'least-request' },
      timeout: Infinity,
    });
    const held = (address: string): number => {
      const svc = services.get(address)!;
      return svc.busy + svc.queueLength;
    };

    // The rolling deploy: backend i leaves at deployAt + i × step, its replacement joins step later.
    const steps: Step[] = [];
    for (let i = 0; i < n; i++) {
      const old = `backend-${i}`;
      const fresh = `backend-${i}-v2`;
      sim.schedule(deployAt + i * step, () => {
        const s: Step = {
          backend: old,
          removedAt: sim.now,
          inFlightAtRemoval: held(old),
          inFlightAtDeadline: 0,
          cut: 0,
        };
        steps.push(s);
        const cutBefore = lb.stats.cut;
        lb.removeBackend(old, { drain: drainMs });
        // After the balancer's own deadline timer (priority 1, set just before): what it cut, and what
        // the old backend, by its own count, still held then.
        sim.schedule(
          drainMs,
          () => {
            s.inFlightAtDeadline = held(old);
            s.cut = lb.stats.cut - cutBefore;
          },
          { priority: 2 },
        );
      });
      sim.schedule(deployAt + (i + 1) * step, () => {
        addBackendNode(fresh);
        lb.addBackend(fresh);
      });
    }
    const deployEnd = deployAt + n * step;

    const client = new RpcEndpoint(net.addNode('client'));
    const during = new LatencyHistogram();
    const before = new LatencyHistogram();
    let errors = 0;
    let unavailable = 0;
    let longestOk = 0;
    const gaps = exponential({ rate: params.rate / 1000 });
    const rng = sim.rng('connection-draining/arrivals');
    sim.process(function* () {
      while (sim.now < end) {
        const started = sim.now;
        requests.start();
        client.call('lb', 'GET /').onProcessed((e) => {
          const res = e.value!;
          const latency = sim.now - started;
          requests.finish(res.ok, latency);
          if (started >= deployAt && started < deployEnd) during.record(latency);
          else if (started < deployAt) before.record(latency);
          if (res.ok) longestOk = Math.max(longestOk, latency);
          else {
            errors++;
            if (res.error.kind === 'unavailable') unavailable++;
          }
        });
        yield sim.timeout(gaps.sample(rng));
      }
    });
    sim.run();

    const stats = lb.stats;
    const cut = stats.cut;
    const heldAtRemoval = steps.reduce((a, s) => a + s.inFlightAtRemoval, 0);
    const heldAtDeadline = steps.reduce((a, s) => a + s.inFlightAtDeadline, 0);
    // Drains that ended before their deadline: the old backend had finished everything it held.
    const drainedEarly = steps.filter(
      (s) => drainMs > 0 && s.inFlightAtRemoval > 0 && s.inFlightAtDeadline === 0,
    ).length;
    const perStep = steps.map((s) => `${s.backend} ${s.cut}/${s.inFlightAtDeadline}`).join(', ');
    check(
      'every cut request is answered unavailable, and nothing else fails',
      errors === cut && unavailable === cut && stats.requests === stats.ok + stats.failed,
      `${cut} cut by the balancer, ${unavailable} unavailable and ${errors} errors at the client`,
    );
    check(
      'the balancer cuts exactly what the old backends still held at their deadlines',
      cut === heldAtDeadline,
      `stats.cut ${cut}; the old backends' own count at their deadlines: ${heldAtDeadline}`,
    );
    // Per step only while drains cannot overlap: then nothing else is cut between a removal and its deadline.
    if (drainMs < step) {
      check(
        'at each removal, the cut equals the requests the old backend held at its deadline',
        steps.every((s) => s.cut === s.inFlightAtDeadline),
        `cut/held per backend: ${perStep}`,
      );
    }
    if (drainMs === 0) {
      check(
        'no drain: every request in flight at a removal is cut at once',
        steps.every((s) => s.cut === s.inFlightAtRemoval) && cut === heldAtRemoval,
        `stats.cut ${cut}; in flight at the removals ${steps.map((s) => s.inFlightAtRemoval).join(' + ')} = ${heldAtRemoval}`,
      );
    } else if (drainMs > params.maxServiceMs) {
      check(
        'a delay longer than the longest request cuts nothing',
        cut === 0 && errors === 0,
        `delay ${drainMs} ms > maxServiceMs ${params.maxServiceMs} ms (longest request ${longestOk.toFixed(0)} ms): ${cut} cut, ${errors} errors`,
      );
    } else {
      check(
        'a delay shorter than the longest request cuts fewer than were in flight at the removals',
        cut < heldAtRemoval,
        `${cut} cut of ${heldAtRemoval} in flight at the removals`,
      );
    }
    // M/G/∞ expectations (Poisson counts): backend i took rate/(N-1) during the step before its
    // removal (one backend was out) and rate/N before that; backend 0 rate/N throughout.
    const mu = Math.log(params.medianMs);
    const excess = (d: number): number => lognormalExcessMean(mu, params.sigma, params.maxServiceMs, d);
    const perMs = params.rate / 1000;
    const stillRunning = (d: number): number =>
      (perMs / n) * excess(d) +
      (n - 1) * ((perMs / (n - 1)) * (excess(d) - excess(d + step)) + (perMs / n) * excess(d + step));
    const expectedHeld = stillRunning(0);
    const expectedCut = stillRunning(drainMs);
    check(
      'the cut count is a Poisson count around its M/G/∞ expectation (within 4 standard deviations)',
      Math.abs(cut - expectedCut) <= 4 * Math.sqrt(expectedCut) + 1,
      `${cut} cut, expected ${expectedCut.toFixed(2)} ± ${(4 * Math.sqrt(expectedCut)).toFixed(2)} (+1)`,
    );
    const ms = (x: number): number => Number(x.toFixed(3));
    return {
      drainMs,
      removals: steps.length,
      inFlightAtRemovals: heldAtRemoval,
      expectedInFlightAtRemovals: Number(expectedHeld.toFixed(3)),
      cut,
      expectedCut: Number(expectedCut.toFixed(3)),
      errors,
      drainedEarly,
      requests: stats.requests,
      cutRate: stats.requests === 0 ? 0 : cut / stats.requests,
      p99BeforeMs: before.count === 0 ? 0 : ms(before.percentile(99)),
      p99DuringMs: during.count === 0 ? 0 : ms(during.percentile(99)),
      requestsDuring: during.count,
      longestOkMs: ms(longestOk),
    };
  },
  compare(variants: readonly VariantResult[]) {
    const none = variants.find((v) => v.name === 'no-drain')?.outcome;
    const short = variants.find((v) => v.name === 'short-drain')?.outcome;
    const long = variants.find((v) => v.name === 'long-drain')?.outcome;
    if (none === undefined || short === undefined || long === undefined) return [];
    return [
      {
        name: 'cuts fall as the deregistration delay grows',
        pass: (none.cut as number) > (short.cut as number) && (short.cut as number) > (long.cut as number),
        detail: `cut: no drain ${none.cut}, short ${short.cut}, long ${long.cut}`,
      },
    ];
  },
});
