import { invalidArgument } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';

/**
 * Closed-form results of the M/M/c queue (Poisson arrivals, exponential service, `c` identical servers
 * sharing one FIFO queue), as in Kleinrock, *Queueing Systems* vol. 1 §3.5, and Harchol-Balter,
 * *Performance Modeling and Design of Computer Systems* ch. 14. Rates are per unit of time and every
 * time comes back in that unit: give rates per millisecond to get milliseconds.
 */

/** Largest server count accepted: the recursions are O(c), and no real pool is larger. */
const MAX_SERVERS = 10_000_000;

function checkServers(value: unknown, min: number, component: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_SERVERS)
    throw invalidArgument('servers', value, `an integer in [${min}, ${MAX_SERVERS}]`, component);
  return value;
}

function checkLoad(value: unknown, component: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw invalidArgument('load', value, 'the offered load a = λ/μ, a finite number >= 0', component);
  return value;
}

/**
 * Erlang B: the probability that an arrival finds all `servers` busy and is lost, in a loss system
 * with no queue (M/M/c/c), offered load `load` = λ/μ erlangs. Computed by the stable recursion
 * B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)).
 *
 * @param servers - c, an integer >= 0 (B(0) = 1: with no server every arrival is lost)
 * @param load - a = λ/μ in erlangs, a finite number >= 0
 * @example
 * ```ts
 * erlangB(10, 8); // 0.1217
 * ```
 */
export function erlangB(servers: number, load: number): number {
  const c = checkServers(servers, 0, 'erlangB');
  const a = checkLoad(load, 'erlangB');
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b;
}

/**
 * Erlang C: the probability that an arrival has to wait in an M/M/c queue, C = c·B / (c − a·(1 − B))
 * with B = {@link erlangB}(c, a). When `load` >= `servers` the queue is unstable and every arrival
 * eventually waits: the result is 1.
 *
 * @param servers - c, an integer >= 1
 * @param load - a = λ/μ in erlangs, a finite number >= 0
 * @example
 * ```ts
 * erlangC(2, 1.5); // 0.6429
 * erlangC(1, 0.5); // 0.5: for M/M/1 it is the utilisation
 * ```
 */
export function erlangC(servers: number, load: number): number {
  const c = checkServers(servers, 1, 'erlangC');
  const a = checkLoad(load, 'erlangC');
  if (a >= c) return 1;
  const b = erlangB(c, a);
  return (c * b) / (c - a * (1 - b));
}

/** Options of {@link mmcQueue}: the rates in one unit of time (per ms gives times in ms). */
export interface MmcOptions {
  /** c: servers sharing the one queue, an integer >= 1. */
  servers: number;
  /** λ: arrivals per unit of time, a finite number >= 0. */
  arrivalRate: number;
  /** μ: services per unit of time of one server (1 / mean service time), a finite number > 0. */
  serviceRate: number;
}

const MMC_KEYS = optionKeys<MmcOptions>()({ servers: true, arrivalRate: true, serviceRate: true });

/**
 * The steady state of a stable M/M/c queue (see {@link mmcQueue}). Times are in the unit the rates
 * were given in.
 */
export interface MmcQueue {
  /** c. */
  readonly servers: number;
  /** λ. */
  readonly arrivalRate: number;
  /** μ. */
  readonly serviceRate: number;
  /** Offered load a = λ/μ in erlangs: the mean number of busy servers. */
  readonly offeredLoad: number;
  /** Utilisation ρ = λ / (cμ), in [0, 1). */
  readonly utilization: number;
  /** C(c, a): the probability that an arrival waits ({@link erlangC}). */
  readonly probWait: number;
  /** Mean wait in the queue, Wq = C / (cμ − λ). */
  readonly meanWait: number;
  /** Mean response (sojourn) time, W = Wq + 1/μ. */
  readonly meanResponse: number;
  /** Mean number waiting, Lq = λ·Wq (Little). */
  readonly meanQueueLength: number;
  /** Mean number in the system, L = λ·W (Little). */
  readonly meanInSystem: number;
  /** P(wait > t) = C · e^(−(cμ − λ)t), for t >= 0. */
  waitExceeds(t: number): number;
  /** P(response > t), the exact sojourn-time tail (see {@link mmcQueue}), for t >= 0. */
  responseExceeds(t: number): number;
  /** The p-quantile of the wait: 0 when p <= 1 − C, else ln(C / (1 − p)) / (cμ − λ). p in (0, 1). */
  waitPercentile(p: number): number;
  /** The p-quantile of the response time, by inverting {@link MmcQueue.responseExceeds}. p in (0, 1). */
  responsePercentile(p: number): number;
}

/**
 * The M/M/c queue in steady state, with its wait and response-time distributions; `null` when it is
 * unstable (λ >= cμ: the queue grows without bound, there is no steady state).
 *
 * The wait W of a FIFO M/M/c queue is 0 with probability 1 − C and otherwise exponential with rate
 * θ = cμ − λ. A request's own service S ~ exp(μ) does not depend on how long it waited, so its response
 * time is T = W + S and
 *
 *   P(T > t) = e^(−μt) · (1 + C·μt·g((θ − μ)t)),   g(x) = (1 − e^(−x)) / x, g(0) = 1,
 *
 * which for c = 1 (C = ρ, θ = μ − λ) is e^(−(μ−λ)t): the M/M/1 sojourn is exponential. Percentiles of T
 * invert this exact tail numerically (bisection to 1e−12 relative): there is no closed-form quantile
 * for c > 1. See Harchol-Balter, *Performance Modeling and Design of Computer Systems* (2013), §14.
 *
 * @example
 * ```ts
 * // 400 requests/s, 20 ms each, 10 servers: rates per ms give times in ms.
 * const q = mmcQueue({ servers: 10, arrivalRate: 0.4, serviceRate: 0.05 })!;
 * q.utilization;              // 0.8
 * q.probWait;                 // 0.409
 * q.meanWait;                 // 4.09 (ms)
 * q.responsePercentile(0.99); // 98.9 (ms): the service time alone has a p99 of 92.1
 * ```
 */
export function mmcQueue(options: MmcOptions): MmcQueue | null {
  const C = 'mmcQueue';
  if (options === null || typeof options !== 'object')
    throw invalidArgument('options', options, 'an object { servers, arrivalRate, serviceRate }', C);
  checkOptions(C, options, MMC_KEYS);
  const c = checkServers(options.servers, 1, C);
  const lambda = options.arrivalRate;
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0)
    throw invalidArgument('arrivalRate', lambda, 'a finite number >= 0 (arrivals per unit of time)', C);
  const mu = options.serviceRate;
  if (typeof mu !== 'number' || !Number.isFinite(mu) || !(mu > 0))
    throw invalidArgument('serviceRate', mu, 'a finite number > 0 (services per unit of time)', C);
  const a = lambda / mu;
  if (a >= c) return null;
  const pWait = erlangC(c, a);
  const theta = c * mu - lambda;
  const delta = theta - mu;
  const wq = pWait / theta;
  const waitExceeds = (t: number): number => pWait * Math.exp(-theta * checkTime(t, 'waitExceeds'));
  const responseTail = (t: number): number => {
    if (t === 0) return 1;
    const x = delta * t;
    if (x >= 0) return Math.exp(-mu * t) * (1 + pWait * mu * t * (x === 0 ? 1 : -Math.expm1(-x) / x));
    // θ < μ: the same tail as e^(−μt) + C·μt·e^(−θt)·(e^x − 1)/x, with no overflow for large t.
    return Math.exp(-mu * t) + pWait * mu * t * Math.exp(-theta * t) * (Math.expm1(x) / x);
  };
  return {
    servers: c,
    arrivalRate: lambda,
    serviceRate: mu,
    offeredLoad: a,
    utilization: a / c,
    probWait: pWait,
    meanWait: wq,
    meanResponse: wq + 1 / mu,
    meanQueueLength: lambda * wq,
    meanInSystem: lambda * (wq + 1 / mu),
    waitExceeds,
    responseExceeds: (t) => responseTail(checkTime(t, 'responseExceeds')),
    waitPercentile: (p) => {
      const q = 1 - checkQuantile(p, 'waitPercentile');
      return q >= pWait ? 0 : Math.log(pWait / q) / theta;
    },
    responsePercentile: (p) => invertTail(responseTail, 1 - checkQuantile(p, 'responsePercentile'), 1 / mu),
  };
}

function checkTime(t: unknown, method: string): number {
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0)
    throw invalidArgument('t', t, 'a finite time >= 0', `MmcQueue.${method}`);
  return t;
}

function checkQuantile(p: unknown, method: string): number {
  if (typeof p !== 'number' || !(p > 0 && p < 1))
    throw invalidArgument('p', p, 'a probability in (0, 1), such as 0.99', `MmcQueue.${method}`);
  return p;
}

/** The t with tail(t) = q, for a continuous decreasing tail from 1 at 0; `scale` seeds the bracket. */
function invertTail(tail: (t: number) => number, q: number, scale: number): number {
  let lo = 0;
  let hi = scale;
  while (tail(hi) > q) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tail(mid) > q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
