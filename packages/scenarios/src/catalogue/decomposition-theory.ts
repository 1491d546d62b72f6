import { availabilityFromMttf, mmcQueue, replicasForObjective } from '@dsim/core';

/**
 * Formulas behind the service-decomposition scenarios (`monolith-vs-microservices`,
 * `service-boundaries`): queueing waits and replica counts for a deployable, and the availability of a
 * process that crashes and restarts, as time up and as the share of requests it serves (the
 * renewal-reward theorem: S. M. Ross, *Introduction to Probability Models*, 11th ed. 2014, §7.4).
 */

/**
 * Mean wait in queue of an M/G/c queue by the Allen–Cunneen approximation: the M/M/c wait
 * ({@link mmcQueue}, Erlang C) times (1 + CV²) / 2, CV² the squared coefficient of variation of the
 * service time. For one server it is exact: the Pollaczek–Khinchine formula λE[S²] / (2(1 − ρ)).
 * Infinity when the queue is unstable. (A. O. Allen, *Probability, Statistics, and Queueing Theory*,
 * 2nd ed. 1990, §6; Gross and Harris, *Fundamentals of Queueing Theory*, §6.)
 *
 * @param servers - c, an integer >= 1
 * @param ratePerMs - arrivals per ms
 * @param meanMs - mean service time, ms (> 0)
 * @param variance - variance of the service time, ms²
 * @example
 * ```ts
 * mgcMeanWait(1, 0.04, 15.2, 35); // P-K: 0.04 × (35 + 15.2²) / (2 × (1 − 0.608)) = 13.6 ms
 * ```
 */
export function mgcMeanWait(servers: number, ratePerMs: number, meanMs: number, variance: number): number {
  const q = mmcQueue({ servers, arrivalRate: ratePerMs, serviceRate: 1 / meanMs });
  if (q === null) return Number.POSITIVE_INFINITY;
  return (q.meanWait * (1 + variance / (meanMs * meanMs))) / 2;
}

/**
 * Fewest single-core replicas of a deployable such that, as an M/M/c queue with its mean CPU per
 * request ({@link replicasForObjective}), the p99 of the time a request spends in it (queue and CPU)
 * is at most `factor` × that mean: each deployable gets a share of the end-to-end p99 budget in
 * proportion to its work. Service times here vary less than exponential ones (CV² < 1), so the count
 * is on the safe side.
 *
 * @example
 * ```ts
 * replicasForP99(400, 15.2, 6); // 8 replicas of the monolith at 400 checkouts/s
 * ```
 */
export function replicasForP99(ratePerSecond: number, meanMs: number, factor: number): number {
  return replicasForObjective({
    rate: ratePerSecond,
    serviceTime: meanMs,
    objective: { kind: 'response-percentile', percentile: 0.99, max: factor * meanMs },
  }).replicas;
}

/**
 * Mean up time of a process that a crash cause with exponential up times (mean `mttfMs`, 0: none) and a
 * leak that kills it `leakMs` after each start (0: none) take down: E[min(X, T)] = mttf (1 − e^(−T/mttf)).
 * Infinity when nothing takes it down.
 *
 * @example
 * ```ts
 * meanUpMs(10_000, 500); // 487.7
 * ```
 */
export function meanUpMs(mttfMs: number, leakMs: number): number {
  if (mttfMs === 0) return leakMs === 0 ? Number.POSITIVE_INFINITY : leakMs;
  return leakMs === 0 ? mttfMs : mttfMs * -Math.expm1(-leakMs / mttfMs);
}

/**
 * Availability of that process ({@link meanUpMs}) when it restarts after a mean `mttrMs`:
 * E[up] / (E[up] + MTTR) by the renewal-reward theorem ({@link availabilityFromMttf}); 1 when nothing
 * takes it down.
 *
 * @example
 * ```ts
 * processAvailability(10_000, 0, 125);   // 0.98765 = 80/81
 * processAvailability(10_000, 500, 125); // 0.796: a leak every 0.5 s
 * ```
 */
export function processAvailability(mttfMs: number, leakMs: number, mttrMs: number): number {
  const up = meanUpMs(mttfMs, leakMs);
  return up === Number.POSITIVE_INFINITY ? 1 : availabilityFromMttf(up, mttrMs);
}

/**
 * The share of requests a process serves: it must be up when the request arrives (its
 * {@link processAvailability}) and stay up while the request is inside it, E[time inside] = T on
 * average. Crashes come at one per E[up] of up time, so the request survives with probability
 * e^(−T / E[up]): exact for exponential up times (memoryless), and 1 − T / E[up] to first order whatever
 * their distribution (the leak's fixed up time included) while T is much shorter than E[up].
 *
 * @example
 * ```ts
 * requestAvailability(10_000, 500, 125, 16); // 0.796 × e^(−16 / 487.7) = 0.770
 * ```
 */
export function requestAvailability(
  mttfMs: number,
  leakMs: number,
  mttrMs: number,
  insideMs: number,
): number {
  const up = meanUpMs(mttfMs, leakMs);
  if (up === Number.POSITIVE_INFINITY) return 1;
  return availabilityFromMttf(up, mttrMs) * Math.exp(-insideMs / up);
}

/**
 * Variance of the share of `horizonMs` a process is up (see {@link processAvailability}), by the delta
 * method on the renewal-reward ratio ΣU / Σ(U + D) over n = horizon / (E[U] + E[D]) cycles:
 * (Var U · E[D]² + Var D · E[U]²) / (n (E[U] + E[D])⁴), with U = min(exponential(mttf), leak) and D
 * exponential(mttr). For exponential U it is A²(1 − A)² · 2/n. 0 when nothing takes it down.
 *
 * @example
 * ```ts
 * Math.sqrt(timeAvailabilityVariance(10_000, 0, 125, 400_000)); // 0.0027
 * ```
 */
export function timeAvailabilityVariance(
  mttfMs: number,
  leakMs: number,
  mttrMs: number,
  horizonMs: number,
): number {
  const u = meanUpMs(mttfMs, leakMs);
  if (u === Number.POSITIVE_INFINITY) return 0;
  let u2: number; // E[U²]
  if (mttfMs === 0) u2 = leakMs * leakMs;
  else if (leakMs === 0) u2 = 2 * mttfMs * mttfMs;
  else {
    const x = leakMs / mttfMs;
    u2 = 2 * mttfMs * mttfMs * (1 - Math.exp(-x) * (1 + x));
  }
  const varU = u2 - u * u;
  const d = mttrMs;
  const cycle = u + d;
  const n = horizonMs / cycle;
  return (varU * d * d + d * d * u * u) / (n * cycle ** 4);
}

/**
 * Standard error of the sample p99 of `n` response times of an M/M/c queue, near the time `atMs`:
 * sqrt(p(1 − p) / n) / f(atMs), f the response-time density there (a central difference of
 * {@link mmcQueue}'s `responseExceeds`). 0 when the queue is unstable: it has no steady state, so no
 * sampling allowance either (its p99 grows with the run). Infinity when `n` is 0.
 *
 * @example
 * ```ts
 * mmcP99StandardError(2, 0.4, 2.2, 13.2, 8000); // 0.49 ms
 * ```
 */
export function mmcP99StandardError(
  servers: number,
  ratePerMs: number,
  meanMs: number,
  atMs: number,
  n: number,
): number {
  const q = mmcQueue({ servers, arrivalRate: ratePerMs, serviceRate: 1 / meanMs });
  if (q === null) return 0;
  if (n === 0) return Number.POSITIVE_INFINITY;
  const h = 1e-3 * atMs;
  const density = (q.responseExceeds(atMs - h) - q.responseExceeds(atMs + h)) / (2 * h);
  return Math.sqrt((0.01 * 0.99) / n) / density;
}
