import { checkNumber, DsimError, invalidArgument, invalidOption } from '@dsim/core';

/**
 * A concurrency-limit algorithm: it watches completed requests and says how many may be in flight at
 * once. The shape of Netflix concurrency-limits' `Limit` interface (`onSample(startTime, rtt, inflight,
 * didDrop)`, `getLimit()`), with times in ms instead of ns. A {@link ConcurrencyLimiter} enforces it.
 *
 * Implementations: {@link FixedLimit}, {@link AimdLimit}, {@link Gradient2Limit}, {@link VegasLimit},
 * and {@link WindowedLimit} around any of them.
 *
 * @example
 * ```ts
 * const limit: ConcurrencyLimit = new AimdLimit({ initialLimit: 10, minLimit: 1 });
 * limit.onSample(0, 12, 8, false); // a request admitted at 0 ms took 12 ms with 8 in flight
 * limit.limit; // 11
 * ```
 */
export interface ConcurrencyLimit {
  /** Which algorithm, e.g. `'aimd'`, `'gradient2'`, `'windowed(vegas)'`. */
  readonly kind: string;
  /** The current limit: requests allowed in flight at once, an integer >= 1. */
  readonly limit: number;
  /**
   * One finished request.
   *
   * @param startTime - when it was admitted (ms)
   * @param rtt - how long it took, admission to answer (ms, >= 0)
   * @param inflight - requests in flight when it was admitted, itself included
   * @param didDrop - it was dropped: timed out, or refused by something downstream (the library's
   *   `onDropped`)
   */
  onSample(startTime: number, rtt: number, inflight: number, didDrop: boolean): void;
}

/**
 * Bounds of a limit: integers with 1 <= minLimit <= initialLimit <= maxLimit. The library only logs a
 * warning for an initial limit outside [min, max] and clamps it at the first sample; here it is an error.
 * A minimum of 0 (allowed by the library) is refused: a limit of 0 admits nothing, so no sample ever
 * arrives to raise it again.
 *
 * @example
 * ```ts
 * const { initialLimit, minLimit, maxLimit } = checkLimitBounds('AimdLimit', 20, 20, 200);
 * ```
 */
export function checkLimitBounds(
  component: string,
  initialLimit: unknown,
  minLimit: unknown,
  maxLimit: unknown,
  maxName = 'maxLimit',
): { initialLimit: number; minLimit: number; maxLimit: number } {
  const min = checkNumber(component, 'minLimit', minLimit, { integer: true, min: 1 });
  const max = checkNumber(component, maxName, maxLimit, { integer: true, min });
  const initial = checkNumber(component, 'initialLimit', initialLimit, { integer: true, min, max });
  return { initialLimit: initial, minLimit: min, maxLimit: max };
}

/**
 * Checks one sample's arguments (cheap: a few comparisons per completed request). `positiveRtt` for the
 * delay-based algorithms, whose ratios of round-trip times are undefined at 0.
 *
 * @example
 * ```ts
 * checkSample('Gradient2Limit', startTime, rtt, inflight, true);
 * ```
 */
export function checkSample(
  component: string,
  startTime: number,
  rtt: number,
  inflight: number,
  positiveRtt: boolean,
): void {
  if (!(startTime - startTime === 0))
    throw invalidArgument('startTime', startTime, 'a finite time in ms', `${component}.onSample`);
  if (!(positiveRtt ? rtt > 0 : rtt >= 0) || rtt === Infinity)
    throw invalidArgument(
      'rtt',
      rtt,
      positiveRtt
        ? 'a finite round-trip time > 0 ms (a ratio of RTTs is undefined at 0: wrap the limit in a WindowedLimit, which drops samples below minRttThreshold)'
        : 'a finite round-trip time >= 0 ms',
      `${component}.onSample`,
    );
  if (!(Number.isInteger(inflight) && inflight >= 0))
    throw invalidArgument('inflight', inflight, 'an integer >= 0', `${component}.onSample`);
}

/**
 * The library's `Log10RootIntFunction`: max(1, floor(log10(n))), which Vegas uses for its thresholds and
 * steps (1 for n < 100, 2 below 1000, ...).
 *
 * @example
 * ```ts
 * log10Root(20); // 1
 * log10Root(250); // 2
 * ```
 */
export function log10Root(n: number): number {
  return n < 1 ? 1 : Math.max(1, Math.floor(Math.log10(n)));
}

/**
 * Throws unless `fn(limit)` returned a finite number: options given as functions are checked on use.
 *
 * @example
 * ```ts
 * const q = checkComputed('Gradient2Limit', 'queueSize(limit)', this.queueSize(limit));
 * ```
 */
export function checkComputed(component: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || value - value !== 0)
    throw new DsimError(
      'INVALID_ARGUMENT',
      `${component}: ${field} must return a finite number, got ${String(value)}`,
      {
        details: { component, field, value },
      },
    );
  return value;
}

/**
 * An option that is a number or a function of the current limit, resolved to a function.
 *
 * @example
 * ```ts
 * const queueSize = numberOrFunction('Gradient2Limit', 'queueSize', options.queueSize, 4);
 * queueSize(20); // 4
 * ```
 */
export function numberOrFunction(
  component: string,
  field: string,
  value: unknown,
  fallback: number | ((limit: number) => number),
  rule: { min: number; integer?: boolean },
): (limit: number) => number {
  if (value === undefined) return typeof fallback === 'number' ? () => fallback : fallback;
  if (typeof value === 'function') return value as (limit: number) => number;
  if (typeof value === 'number') {
    const n = checkNumber(component, field, value, rule);
    return () => n;
  }
  throw invalidOption(component, field, value, `a number >= ${rule.min} or a function (limit) => number`);
}
