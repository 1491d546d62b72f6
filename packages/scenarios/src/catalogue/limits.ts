import { DsimError } from '@dsim/core';

/**
 * Upper bounds shared by the built-in scenarios' parameters. No value a parameter accepts may make a
 * run's memory grow past a few GB: what a run holds grows with the requests in flight, the keys, the
 * cache entries and the simulated time, so every parameter that sets one of them is bounded here or in
 * its scenario, and a run's offered requests are capped by {@link limitOffered}.
 */

/**
 * Longest simulated duration a `seconds`-like parameter accepts: one day. Per-second figures cost a few
 * bytes a second; a day of them is nothing, and a day at any real rate hits {@link MAX_OFFERED} first.
 *
 * @default 86_400
 * @example
 * ```ts
 * param.number({ default: 60, min: 1, max: MAX_SECONDS, description: 'simulated seconds' });
 * ```
 */
export const MAX_SECONDS = 86_400;

/**
 * Longest duration in ms a timing parameter (a timeout, a service time, an outage) accepts: one day.
 *
 * @default 86_400_000
 * @example
 * ```ts
 * param.number({ default: 1000, min: 1, max: MAX_MS, description: 'client timeout' });
 * ```
 */
export const MAX_MS = 86_400_000;

/**
 * Highest rate, per second, an arrival-rate or service-rate parameter accepts. How many requests a run
 * makes is capped separately, by {@link limitOffered}.
 *
 * @default 1_000_000
 * @example
 * ```ts
 * param.number({ default: 100, min: 0, exclusiveMin: true, max: MAX_RATE, description: 'requests per second' });
 * ```
 */
export const MAX_RATE = 1_000_000;

/**
 * Most workers, servers, connections or permits a concurrency parameter accepts.
 *
 * @default 100_000
 * @example
 * ```ts
 * param.integer({ default: 16, min: 1, max: MAX_WORKERS, description: 'server threads' });
 * ```
 */
export const MAX_WORKERS = 100_000;

/**
 * Highest factor a slowdown or multiplier parameter accepts.
 *
 * @default 1_000_000
 * @example
 * ```ts
 * param.number({ default: 10, min: 1, max: MAX_FACTOR, description: 'slowdown during the fault' });
 * ```
 */
export const MAX_FACTOR = 1_000_000;

/**
 * Highest Zipf exponent a popularity parameter accepts: far past any measured workload (0.5 to 1.5),
 * where nearly every request already goes to the first key.
 *
 * @default 10
 * @example
 * ```ts
 * param.number({ default: 0.8, min: 0, max: MAX_ZIPF, description: 'Zipf exponent' });
 * ```
 */
export const MAX_ZIPF = 10;

/**
 * Most requests (or attempts, or calls) one variant of a built-in scenario may offer. In an overload a
 * stale queue holds every request it is offered: about 0.5 KB each once settled, but a FIFO queue of
 * 2 000 000 peaked near 4 GB of resident memory while the garbage collector caught up (goodput-collapse),
 * too close to V8's default heap limit. Half that keeps the worst run near 2 GB, still twice the busiest
 * default (distributed-cache, about 450 000).
 *
 * @default 1_000_000
 * @example
 * ```ts
 * limitOffered(params.lambda * params.seconds, 'lambda × seconds');
 * ```
 */
export const MAX_OFFERED = 1_000_000;

/**
 * Throws a CONFIG_ERROR when a variant would make more than `max` requests (expected count, from its
 * parameters), before the run starts; `expression` says which parameters multiply to it.
 *
 * @param offered - expected requests of one variant, e.g. `lambda * seconds`
 * @param expression - how it is computed, in parameter names, e.g. `'lambda × seconds'`
 * @param max - the cap @default MAX_OFFERED
 * @param unit - what is counted, for the message @default 'requests'
 * @example
 * ```ts
 * limitOffered(params.rate * params.seconds, 'rate × seconds'); // throws at rate 1e6, seconds 60
 * ```
 */
export function limitOffered(
  offered: number,
  expression: string,
  max: number = MAX_OFFERED,
  unit = 'requests',
): void {
  if (offered <= max) return;
  throw new DsimError(
    'CONFIG_ERROR',
    `parameters ${expression} = ${Math.round(offered)} ${unit} per variant, more than the ${max} a run may hold in memory: lower them`,
    { details: { field: expression, value: Math.round(offered), allowed: `<= ${max}` } },
  );
}

/** Most partitions a Kafka topic of a scenario may have. */
export const MAX_PARTITIONS = 10_000;
