import {
  checkBoolean,
  checkDistribution,
  checkDuration,
  checkEnum,
  checkFunction,
  checkKind,
  checkNumber,
  checkObject,
  checkOptions,
  checkProbability,
  type Distribution,
  invalidOption,
  optionKeys,
  type RpcEndpoint,
  type RpcError,
  type RpcRequest,
} from '@dsim/core';
import type { RateLimiter } from '../resilience/rate-limiters/types.js';
import type { ConnectionPool } from './connection-pool.js';
import type {
  DownstreamCall,
  DownstreamCaller,
  DownstreamSpec,
  QueueDiscipline,
  ServiceOptions,
  Shedding,
} from './service-options.js';
import type { Slowdown } from './slowdown.js';

// Validation of ServiceOptions, at construction: the Service itself only reads the resolved values.

const C = 'Service';

const SERVICE_KEYS = optionKeys<ServiceOptions>()({
  concurrency: true,
  serviceTime: true,
  queueCapacity: true,
  discipline: true,
  priority: true,
  adaptiveLifoInterval: true,
  queueTimeout: true,
  dropExpired: true,
  rateLimit: true,
  replyOnDrop: true,
  shedding: true,
  slowdown: true,
  downstream: true,
  errorRate: true,
  respond: true,
});

const DOWNSTREAM_KEYS = optionKeys<DownstreamSpec>()({
  calls: true,
  mode: true,
  timeout: true,
  propagateDeadline: true,
  pool: true,
  onFailure: true,
  fallback: true,
  client: true,
});

const CALL_KEYS = optionKeys<DownstreamCall>()({ to: true, payload: true, timeout: true, pool: true });

const SHEDDING_KINDS = {
  'queue-length': optionKeys<Extract<Shedding, { kind: 'queue-length' }>>()({ kind: true, max: true }),
  'queue-delay': optionKeys<Extract<Shedding, { kind: 'queue-delay' }>>()({ kind: true, max: true }),
  codel: optionKeys<Extract<Shedding, { kind: 'codel' }>>()({ kind: true, target: true, interval: true }),
};

const DISCIPLINES: readonly QueueDiscipline[] = ['fifo', 'lifo', 'priority', 'adaptive-lifo'];

/**
 * One downstream call with its defaults applied.
 *
 * @example
 * ```ts
 * const call: ResolvedCall = { to: 'db', payload: undefined, hasPayload: false, timeout: 100, pool: undefined };
 * ```
 */
export interface ResolvedCall {
  to: string;
  payload: unknown;
  hasPayload: boolean;
  timeout: number | undefined;
  pool: ConnectionPool | undefined;
}

/**
 * The downstream spec, validated, with its caller built.
 *
 * @example
 * ```ts
 * const downstream: ResolvedDownstream | undefined = resolveDownstream(options.downstream, endpoint);
 * ```
 */
export interface ResolvedDownstream {
  /** The calls, fixed or chosen per request. */
  calls: ResolvedCall[] | ((request: RpcRequest) => ResolvedCall[]);
  parallel: boolean;
  propagate: boolean;
  fallback: ((request: RpcRequest, error: RpcError) => unknown) | undefined;
  caller: DownstreamCaller;
}

/**
 * ServiceOptions, validated, with defaults applied (the downstream spec is resolved separately, once the
 * service's endpoint exists).
 *
 * @example
 * ```ts
 * const { concurrency, queueCapacity } = resolveService({ serviceTime: 5 }); // 1, Infinity
 * ```
 */
export interface ResolvedService {
  concurrency: number;
  serviceTime: Distribution;
  queueCapacity: number;
  discipline: QueueDiscipline;
  priority: ((request: RpcRequest) => number) | undefined;
  lifoInterval: number;
  queueTimeout: number;
  dropExpired: boolean;
  replyOnDrop: boolean;
  shedLength: number;
  shedDelay: number;
  codelTarget: number;
  codelInterval: number;
  slowdown: Slowdown | undefined;
  rateLimit: RateLimiter | undefined;
  errorRate: number;
  respond: (request: RpcRequest) => unknown;
}

/**
 * Checks every field of `options` (unknown keys first, so a typo is reported as such) and applies the
 * defaults.
 *
 * @example
 * ```ts
 * const config = resolveService({ serviceTime: 5, concurrency: 4 }); // config.queueCapacity: Infinity
 * ```
 */
export function resolveService(options: ServiceOptions): ResolvedService {
  checkObject(C, 'options', options, 'an options object with serviceTime');
  checkOptions(C, options, SERVICE_KEYS);
  const discipline = checkEnum(C, 'discipline', options.discipline ?? 'fifo', DISCIPLINES);
  if (discipline === 'priority')
    checkFunction(C, 'priority', options.priority, '(request) => number for the priority discipline');
  else if (options.priority !== undefined)
    throw notUsed('priority', options.priority, 'discipline "priority"', `discipline is "${discipline}"`);
  if (discipline !== 'adaptive-lifo' && options.adaptiveLifoInterval !== undefined)
    throw notUsed(
      'adaptiveLifoInterval',
      options.adaptiveLifoInterval,
      'discipline "adaptive-lifo"',
      `discipline is "${discipline}"`,
    );
  if (options.rateLimit !== undefined && typeof options.rateLimit?.tryAcquire !== 'function')
    throw invalidOption(
      C,
      'rateLimit',
      options.rateLimit,
      'a rate limiter (with tryAcquire), e.g. createRateLimiter({ kind: "token-bucket", ... })',
    );
  if (options.slowdown !== undefined)
    checkFunction(C, 'slowdown', options.slowdown, '(load) => multiplier, e.g. loadSlowdown({ ... })');
  if (options.respond !== undefined) checkFunction(C, 'respond', options.respond, '(request) => value');
  const shed = resolveShedding(options.shedding);
  return {
    concurrency: checkNumber(C, 'concurrency', options.concurrency ?? 1, { integer: true, min: 1 }),
    serviceTime: checkDistribution(C, 'serviceTime', options.serviceTime, 'exponential({ mean: 5 })'),
    queueCapacity: checkNumber(C, 'queueCapacity', options.queueCapacity ?? Infinity, {
      integer: true,
      min: 0,
      infinity: true,
    }),
    discipline,
    priority: options.priority,
    lifoInterval: checkDuration(C, 'adaptiveLifoInterval', options.adaptiveLifoInterval ?? 100, {
      positive: true,
    }),
    queueTimeout: checkDuration(C, 'queueTimeout', options.queueTimeout ?? Infinity, { infinity: true }),
    dropExpired: checkBoolean(C, 'dropExpired', options.dropExpired ?? false),
    replyOnDrop: checkBoolean(C, 'replyOnDrop', options.replyOnDrop ?? false),
    ...shed,
    slowdown: options.slowdown,
    rateLimit: options.rateLimit,
    errorRate: checkProbability(C, 'errorRate', options.errorRate ?? 0),
    respond: options.respond ?? ((request) => request.payload),
  };
}

/** An option that only means something with another setting: an error, not a silent no-op. */
function notUsed(field: string, value: unknown, needs: string, actual: string) {
  return invalidOption(C, field, value, `left out unless ${needs} is set (${actual})`);
}

function resolveShedding(spec: Shedding | undefined): {
  shedLength: number;
  shedDelay: number;
  codelTarget: number;
  codelInterval: number;
} {
  const none = { shedLength: Infinity, shedDelay: Infinity, codelTarget: Infinity, codelInterval: Infinity };
  if (spec === undefined) return none;
  switch (checkKind(C, 'shedding', spec, SHEDDING_KINDS) as Shedding['kind']) {
    case 'queue-length': {
      const max = (spec as { max: unknown }).max;
      const shedLength = checkNumber(C, 'shedding.max', max, {
        integer: true,
        min: 0,
        unit: 'requests waiting',
      });
      return { ...none, shedLength };
    }
    case 'queue-delay':
      return { ...none, shedDelay: checkDuration(C, 'shedding.max', (spec as { max: unknown }).max) };
    case 'codel': {
      const codel = spec as Extract<Shedding, { kind: 'codel' }>;
      const target = checkDuration(C, 'shedding.target', codel.target ?? 5, { positive: true });
      const interval = checkDuration(C, 'shedding.interval', codel.interval ?? 100, { positive: true });
      if (!(target < interval))
        throw invalidOption(
          C,
          'shedding.target',
          codel.target ?? 5,
          `a duration below interval (${interval} ms)`,
        );
      return { ...none, codelTarget: target, codelInterval: interval };
    }
  }
}

/**
 * Checks a {@link DownstreamSpec} and builds its caller from `endpoint`.
 *
 * @example
 * ```ts
 * const downstream = resolveDownstream({ calls: ['db'], timeout: 100 }, service.endpoint);
 * ```
 */
export function resolveDownstream(
  spec: DownstreamSpec | undefined,
  endpoint: RpcEndpoint,
): ResolvedDownstream | undefined {
  if (spec === undefined) return undefined;
  checkObject(C, 'downstream', spec, 'an object { calls, mode?, timeout?, pool?, ... }');
  checkOptions(C, spec, DOWNSTREAM_KEYS, 'downstream');
  const given = spec.calls;
  if (!((Array.isArray(given) && given.length > 0) || typeof given === 'function'))
    throw invalidOption(
      C,
      'downstream.calls',
      given,
      'a non-empty array of addresses or { to, ... } calls, or a function (request) => calls',
    );
  const mode = checkEnum(C, 'downstream.mode', spec.mode ?? 'sequential', ['sequential', 'parallel']);
  const timeout =
    spec.timeout === undefined
      ? undefined
      : checkDuration(C, 'downstream.timeout', spec.timeout, { positive: true });
  const propagate = checkBoolean(C, 'downstream.propagateDeadline', spec.propagateDeadline ?? true);
  if (spec.pool !== undefined) checkPool('downstream.pool', spec.pool);
  const onFailure = checkEnum(C, 'downstream.onFailure', spec.onFailure ?? 'fail', ['fail', 'fallback']);
  if (onFailure === 'fallback')
    checkFunction(
      C,
      'downstream.fallback',
      spec.fallback,
      "(request, error) => value for onFailure 'fallback'",
    );
  else if (spec.fallback !== undefined)
    throw invalidOption(
      C,
      'downstream.fallback',
      spec.fallback,
      'left out unless onFailure is "fallback" (onFailure is "fail")',
    );
  if (spec.client !== undefined) checkFunction(C, 'downstream.client', spec.client, '(endpoint) => caller');
  // Calls given by address resolve the same way every time: resolved once per address.
  const byAddress = new Map<string, ResolvedCall>();
  const calls =
    typeof given === 'function'
      ? (request: RpcRequest): ResolvedCall[] => {
          const list = given(request);
          if (!Array.isArray(list))
            throw invalidOption(
              C,
              'downstream.calls(request)',
              list,
              'an array of addresses or { to, ... } calls',
            );
          // Per request: only what is needed to make the call safely, no key audit on the hot path, and
          // a plain loop (no closure per request).
          const resolved = new Array<ResolvedCall>(list.length);
          for (let i = 0; i < list.length; i++) {
            const c = list[i];
            if (typeof c !== 'string' || c === '') {
              resolved[i] = resolveCall(c, `downstream.calls(request)[${i}]`, spec, timeout, false);
              continue;
            }
            let known = byAddress.get(c);
            if (known === undefined) {
              known = resolveCall(c, `downstream.calls(request)[${i}]`, spec, timeout, false);
              byAddress.set(c, known);
            }
            resolved[i] = known;
          }
          return resolved;
        }
      : given.map((c, i) => resolveCall(c, `downstream.calls[${i}]`, spec, timeout, true));
  return {
    calls,
    parallel: mode === 'parallel',
    propagate,
    fallback: onFailure === 'fallback' ? spec.fallback : undefined,
    caller: spec.client === undefined ? endpoint : spec.client(endpoint),
  };
}

function resolveCall(
  c: string | DownstreamCall,
  field: string,
  spec: DownstreamSpec,
  timeout: number | undefined,
  strict: boolean,
): ResolvedCall {
  const call: DownstreamCall = typeof c === 'string' ? { to: c } : c;
  if (call === null || typeof call !== 'object' || typeof call.to !== 'string' || call.to === '')
    throw invalidOption(C, field, c, 'an address or { to, payload?, timeout?, pool? }');
  if (strict) {
    checkOptions(C, call, CALL_KEYS, field);
    if (call.pool !== undefined) checkPool(`${field}.pool`, call.pool);
  }
  return {
    to: call.to,
    payload: call.payload,
    hasPayload: 'payload' in call,
    timeout:
      call.timeout === undefined
        ? timeout
        : checkDuration(C, `${field}.timeout`, call.timeout, { positive: true }),
    pool: call.pool ?? spec.pool,
  };
}

function checkPool(field: string, pool: unknown): void {
  const p = pool as Partial<ConnectionPool> | null;
  if (
    p === null ||
    typeof p !== 'object' ||
    typeof p.acquire !== 'function' ||
    typeof p.release !== 'function'
  )
    throw invalidOption(C, field, pool, 'a ConnectionPool');
}
