import { erlangC, invalidArgument } from '@dsim/core';

/**
 * Closed-form queueing results used to validate simulations. Rates are per unit time; results are in
 * the same time unit (callers convert). Erlang B and C live in `@dsim/core` (with the whole M/M/c
 * steady state, `mmcQueue`); they are re-exported here for the scenarios that have always used them.
 */
export { erlangB, erlangC } from '@dsim/core';

/** Steady-state figures of a queue. Times in the rate's time unit. */
export interface QueueTheory {
  /** Server utilisation ρ = λ / (cμ). */
  utilization: number;
  /** Probability an arrival waits, or null where no closed form is used. */
  probWait: number | null;
  /** Mean wait in queue Wq. */
  meanWait: number;
  /** Mean time in system W = Wq + 1/μ. */
  meanTimeInSystem: number;
  /** Which result: `erlang-c`, `pollaczek-khinchine`, or `allen-cunneen` (an approximation). */
  method: 'erlang-c' | 'pollaczek-khinchine' | 'allen-cunneen';
  /** False for approximations. */
  exact: boolean;
}

/**
 * M/M/c (Erlang C) or M/D/c steady state. For M/D/1 it is Pollaczek–Khinchine, Wq = ρ / (2μ(1 − ρ));
 * for M/D/c with c > 1 the Allen–Cunneen approximation, half the M/M/c wait.
 * Returns null when the queue is unstable (λ >= cμ).
 *
 * @example
 * ```ts
 * queueTheory(0.9, 1, 1, 'exp')?.meanTimeInSystem; // 10
 * ```
 */
export function queueTheory(
  lambda: number,
  mu: number,
  c: number,
  service: 'exp' | 'const',
): QueueTheory | null {
  const a = lambda / mu;
  const rho = a / c;
  if (rho >= 1) return null;
  const pWait = erlangC(c, a);
  const wqMMc = pWait / (c * mu - lambda);
  if (service === 'exp') {
    return {
      utilization: rho,
      probWait: pWait,
      meanWait: wqMMc,
      meanTimeInSystem: wqMMc + 1 / mu,
      method: 'erlang-c',
      exact: true,
    };
  }
  if (c === 1) {
    const wq = rho / (2 * mu * (1 - rho));
    return {
      utilization: rho,
      probWait: rho,
      meanWait: wq,
      meanTimeInSystem: wq + 1 / mu,
      method: 'pollaczek-khinchine',
      exact: true,
    };
  }
  const wq = wqMMc / 2;
  return {
    utilization: rho,
    probWait: null,
    meanWait: wq,
    meanTimeInSystem: wq + 1 / mu,
    method: 'allen-cunneen',
    exact: false,
  };
}

/**
 * Mean time in system of the supermarket model (Mitzenmacher, "The Power of Two Choices in Randomized
 * Load Balancing", IEEE TPDS 2001): n FIFO servers with exp(1) service, Poisson arrivals at rate λ·n,
 * each arrival joining the shortest of `d` queues picked at random. As n → ∞ the fraction of queues
 * holding at least i customers is λ^((d^i − 1)/(d − 1)), and the mean time in system (in service times)
 * is T_d(λ) = Σ_{i≥1} λ^((d^i − d)/(d − 1)); for d = 1 it is the M/M/1 value 1/(1 − λ). Finite n runs a
 * little above it, more so near saturation.
 *
 * @param lambda - load per server, in (0, 1)
 * @param d - choices per arrival, an integer >= 1
 * @example
 * ```ts
 * supermarketMeanTime(0.9, 2); // 2.6141 service times
 * supermarketMeanTime(0.9, 1); // 10, as M/M/1
 * ```
 */
export function supermarketMeanTime(lambda: number, d: number): number {
  if (!(lambda > 0 && lambda < 1)) throw invalidArgument('supermarketMeanTime: lambda', lambda, 'in (0, 1)');
  if (!(Number.isInteger(d) && d >= 1)) throw invalidArgument('supermarketMeanTime: d', d, 'an integer >= 1');
  if (d === 1) return 1 / (1 - lambda);
  let sum = 0;
  for (let i = 1; ; i++) {
    const term = lambda ** ((d ** i - d) / (d - 1));
    sum += term;
    if (term < 1e-15 || i > 64) return sum;
  }
}
