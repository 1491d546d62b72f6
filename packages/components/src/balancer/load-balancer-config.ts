import {
  checkDistribution,
  checkDuration,
  checkNumber,
  checkObject,
  checkOptions,
  type Distribution,
  invalidOption,
  isObject,
  nested,
  optionKeys,
  owner,
} from '@dsim/core';
import { type BackendHealth, checkHealthHooks } from './health-hook.js';
import { type ResolvedLbHedge, resolveLbHedge } from './hedge-policy.js';
import type {
  BackendSpec,
  LoadBalancerOptions,
  LoadReportOptions,
  RemoveBackendOptions,
} from './load-balancer-options.js';
import { type BalancerPolicySpec, createBalancerPolicy } from './policies/factory.js';
import type { BalancerPolicy } from './policy.js';
import { type ResolvedLbRetry, resolveLbRetry } from './retry-policy.js';
import { type ResolvedSlowStart, resolveSlowStart } from './slow-start.js';

// Validation of LoadBalancerOptions, at construction: the balancer itself only reads resolved values.

const C = 'LoadBalancer';

const LB_KEYS = optionKeys<LoadBalancerOptions>()({
  backends: true,
  policy: true,
  concurrency: true,
  latency: true,
  workers: true,
  timeout: true,
  health: true,
  panicThreshold: true,
  slowStart: true,
  retry: true,
  hedge: true,
  loadReport: true,
});

const LOAD_REPORT_KEYS = optionKeys<LoadReportOptions>()({ interval: true });

const REMOVE_KEYS = optionKeys<RemoveBackendOptions>()({ drain: true });

const BACKEND_KEYS = optionKeys<BackendSpec>()({ address: true, weight: true });

/**
 * {@link LoadBalancerOptions}, validated, with defaults applied.
 *
 * @example
 * ```ts
 * const config: ResolvedLoadBalancer = resolveLoadBalancer({ backends: ['a', 'b'] });
 * config.timeout; // 15000
 * ```
 */
export interface ResolvedLoadBalancer {
  backends: { address: string; weight: number }[];
  policy: BalancerPolicy;
  concurrency: number;
  /** undefined when there is no processing delay. */
  latency: Distribution | undefined;
  workers: number;
  timeout: number;
  health: readonly BackendHealth[];
  panicThreshold: number;
  /** undefined when there is no slow start. */
  slowStart: ResolvedSlowStart | undefined;
  /** undefined when there are no retries. */
  retry: ResolvedLbRetry | undefined;
  /** undefined when there is no hedging. */
  hedge: ResolvedLbHedge | undefined;
  /** The load-report interval in ms; undefined when the policies see the live counts. */
  loadReportMs: number | undefined;
}

/**
 * Checks every field of `options` (unknown keys first, with "did you mean") and applies the defaults.
 *
 * @example
 * ```ts
 * resolveLoadBalancer({ backends: ['a'], polcy: { kind: 'random' } } as never);
 * // LoadBalancer: unknown option "polcy" (did you mean "policy"?); known options: backends, ...
 * ```
 */
export function resolveLoadBalancer(options: LoadBalancerOptions): ResolvedLoadBalancer {
  checkObject(C, 'options', options, 'an options object with backends');
  checkOptions(C, options, LB_KEYS);
  if (!Array.isArray(options.backends))
    throw invalidOption(C, 'backends', options.backends, 'an array of addresses or { address, weight }');
  const backends: { address: string; weight: number }[] = [];
  const seen = new Set<string>();
  options.backends.forEach((spec, i) => {
    const b = resolveBackend(spec, `backends[${i}]`);
    if (seen.has(b.address))
      throw invalidOption(C, `backends[${i}]`, b.address, 'an address not already in backends');
    seen.add(b.address);
    backends.push(b);
  });
  const health = checkHealthHooks(
    C,
    options.health,
    'a BackendHealth { isAvailable(address), onResponse?(...), start?(balancer) }',
  );
  const retry = options.retry === undefined ? undefined : resolveLbRetry(options.retry);
  const latency =
    options.latency === undefined
      ? undefined
      : checkDistribution(C, 'latency', options.latency, 'exponential({ mean: 0.1 })');
  return {
    backends,
    policy: resolvePolicy(options.policy),
    concurrency: checkNumber(
      C,
      'concurrency',
      options.concurrency,
      { integer: true, min: 1, infinity: true },
      Infinity,
    ),
    latency:
      latency === undefined || (latency.kind === 'constant' && latency.mean === 0) ? undefined : latency,
    workers: checkNumber(C, 'workers', options.workers, { integer: true, min: 1, infinity: true }, 1),
    timeout: checkDuration(C, 'timeout', options.timeout, { positive: true, infinity: true }, 15_000),
    health: [...health],
    panicThreshold: checkNumber(
      C,
      'panicThreshold',
      options.panicThreshold,
      { min: 0, max: 100, unit: 'percent' },
      50,
    ),
    slowStart:
      options.slowStart === undefined
        ? undefined
        : resolveSlowStart(options.slowStart, owner(C, 'slowStart')),
    retry,
    hedge: resolveLbHedge(options.hedge, retry?.perTryTimeout),
    loadReportMs: resolveLoadReport(options.loadReport),
  };
}

/**
 * Checks `loadReport` and returns its interval in ms (undefined when left out: live counts).
 *
 * @example
 * ```ts
 * resolveLoadReport({ interval: '50ms' }); // 50
 * resolveLoadReport(undefined);            // undefined
 * resolveLoadReport({ intervl: 50 } as never);
 * // LoadBalancer: unknown option "loadReport.intervl" (did you mean "interval"?) ...
 * ```
 */
export function resolveLoadReport(report: LoadReportOptions | undefined): number | undefined {
  if (report === undefined) return undefined;
  checkObject(C, 'loadReport', report, 'an object such as { interval: 100 }');
  checkOptions(C, report, LOAD_REPORT_KEYS, 'loadReport');
  if (report.interval === undefined)
    throw invalidOption(
      C,
      'loadReport.interval',
      report.interval,
      'a finite duration > 0, such as 100 or "50ms"',
    );
  return checkDuration(owner(C, 'loadReport'), 'interval', report.interval, { positive: true });
}

/** AWS target groups' default `deregistration_delay`, 300 s. */
export const DEFAULT_DRAIN_MS = 300_000;

/**
 * Checks the options of `removeBackend` and returns the drain delay in ms: undefined for no draining,
 * {@link DEFAULT_DRAIN_MS} for `drain: true`.
 *
 * @example
 * ```ts
 * resolveDrain({ drain: '30s' }); // 30000
 * resolveDrain({ drain: true });  // 300000
 * resolveDrain(undefined);        // undefined
 * ```
 */
export function resolveDrain(options: RemoveBackendOptions | undefined): number | undefined {
  if (options === undefined) return undefined;
  const where = owner(C, 'removeBackend(options)');
  checkObject(C, 'removeBackend(options)', options, 'an options object such as { drain: "30s" }');
  checkOptions(C, options, REMOVE_KEYS, 'removeBackend(options)');
  const drain = options.drain;
  if (drain === undefined || drain === false) return undefined;
  if (drain === true) return DEFAULT_DRAIN_MS;
  return checkDuration(where, 'drain', drain, { infinity: true });
}

/**
 * Checks one backend (an address or `{ address, weight }`); `field` names it in errors.
 *
 * @param strict - audit the keys of an object spec @default true
 * @example
 * ```ts
 * resolveBackend({ address: 'app-3', weight: 2 }, 'addBackend(spec)'); // { address: 'app-3', weight: 2 }
 * ```
 */
export function resolveBackend(spec: unknown, field: string): { address: string; weight: number } {
  if (typeof spec === 'string') {
    if (spec === '') throw invalidOption(C, field, spec, 'a non-empty address');
    return { address: spec, weight: 1 };
  }
  if (!isObject(spec)) throw invalidOption(C, field, spec, 'an address or { address, weight }');
  checkOptions(C, spec, BACKEND_KEYS, field);
  const address = spec.address;
  if (typeof address !== 'string' || address === '')
    throw invalidOption(C, `${field}.address`, address, 'a non-empty address');
  return { address, weight: checkWeight(`${field}.weight`, spec.weight ?? 1) };
}

/**
 * Checks a backend weight: a finite number > 0.
 *
 * @example
 * ```ts
 * checkWeight('setWeight(weight)', 0); // LoadBalancer: setWeight(weight) must be a finite number > 0, got 0
 * ```
 */
export function checkWeight(field: string, weight: unknown): number {
  return checkNumber(C, field, weight, { above: 0 });
}

function resolvePolicy(spec: BalancerPolicySpec | BalancerPolicy | undefined): BalancerPolicy {
  if (spec === undefined) return createBalancerPolicy({ kind: 'round-robin' }, owner(C, 'policy'));
  if (isObject(spec) && typeof (spec as { pick?: unknown }).pick === 'function') {
    const p = spec as unknown as BalancerPolicy;
    for (const hook of ['rebuild', 'onResponse'] as const)
      if (p[hook] !== undefined && typeof p[hook] !== 'function')
        throw invalidOption(nested(C, 'policy'), hook, p[hook], 'a function or left out');
    return p;
  }
  return createBalancerPolicy(spec as BalancerPolicySpec, owner(C, 'policy'));
}
