import {
  checkDuration,
  checkEnum,
  checkName,
  checkNumber,
  checkOptions,
  type Duration,
  invalidOption,
  optionKeys,
} from '@dsim/core';

/**
 * Named defaults for {@link ActiveHealthCheckOptions}:
 *
 * - `'haproxy'`: HAProxy's built-in defaults (`include/haproxy/defaults.h`; configuration manual,
 *   `inter`, `fall`, `rise`, `timeout check`, https://docs.haproxy.org/3.0/configuration.html):
 *   interval (`inter`) 2000 ms, unhealthyThreshold (`fall`) 3, healthyThreshold (`rise`) 2, timeout =
 *   `inter` (HAProxy uses `inter` as the whole check's timeout when `timeout check` is not set),
 *   unhealthyInterval = `inter` (`downinter` defaults to `inter`), counting `'health-counter'`, startup
 *   `'healthy'` (a server starts UP but falls at its first failed check, HAProxy's `init-state up`).
 * - `'envoy'`: Envoy has no defaults: `timeout`, `interval`, `unhealthy_threshold` and
 *   `healthy_threshold` are required fields of `config.core.v3.HealthCheck`
 *   (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/health_check.proto). The preset
 *   picks interval 5000 ms, timeout 1000 ms, unhealthyThreshold 3, healthyThreshold 2: the order of
 *   HAProxy's defaults, with a timeout well inside the interval, so runs compare across presets. It also
 *   selects Envoy's rules: counting `'consecutive'` and startup `'first-success'` (hosts start failed
 *   and "a single success marks a host healthy",
 *   https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/health_checking).
 *
 * Any option given explicitly overrides the preset.
 *
 * @example
 * ```ts
 * new ActiveHealthCheck(rpc, { preset: 'haproxy', interval: '5s' });
 * ```
 */
export type HealthCheckPreset = 'envoy' | 'haproxy';

/**
 * How check results move a backend between HEALTHY and UNHEALTHY:
 *
 * - `'consecutive'` (Envoy): UNHEALTHY after `unhealthyThreshold` consecutive failures, HEALTHY after
 *   `healthyThreshold` consecutive successes; the other kind of result resets each run.
 * - `'health-counter'` (HAProxy): one counter in [0, rise + fall - 1]; a success adds one, a failure
 *   takes one away. A server that is UP goes DOWN when a failure finds the counter at `rise` (so `fall`
 *   failures from a fully healthy server), a DOWN server goes UP when the counter reaches `rise` and the
 *   counter jumps to its maximum. Unlike consecutive counts, isolated successes only delay the fall.
 *
 * @example
 * ```ts
 * new ActiveHealthCheck(rpc, { preset: 'envoy', counting: 'health-counter' });
 * ```
 */
export type HealthCounting = 'consecutive' | 'health-counter';

/**
 * The state of a backend before its first check, and what the first results do:
 *
 * - `'healthy'`: the backend is available at once. With `'consecutive'` counting it falls after
 *   `unhealthyThreshold` failures like any healthy backend; with `'health-counter'` the counter starts
 *   at `rise`, so the first failure takes it down (HAProxy's `init-state up`).
 * - `'first-success'`: the backend is unavailable until a check passes, and a single success marks it
 *   healthy whatever `healthyThreshold` says (Envoy's startup rule; HAProxy's `init-state down`).
 *
 * @example
 * ```ts
 * new ActiveHealthCheck(rpc, { preset: 'haproxy', startup: 'first-success' });
 * ```
 */
export type HealthStartup = 'healthy' | 'first-success';

/**
 * Options of an {@link ActiveHealthCheck}. Durations are ms or strings with a unit. Without a `preset`,
 * `interval`, `timeout`, `unhealthyThreshold` and `healthyThreshold` are required, as in Envoy.
 *
 * @example
 * ```ts
 * const options: ActiveHealthCheckOptions = {
 *   interval: '5s', timeout: '1s', unhealthyThreshold: 3, healthyThreshold: 2, intervalJitter: 500,
 * };
 * ```
 */
export interface ActiveHealthCheckOptions {
  /** Named defaults, see {@link HealthCheckPreset}. @default none (the four core fields are required) */
  preset?: HealthCheckPreset;
  /**
   * Time from the end of one check (its answer or its timeout) to the start of the next, as Envoy's
   * per-host interval timer. > 0.
   * @default haproxy 2000 ms, envoy 5000 ms
   */
  interval?: Duration;
  /** How long a check waits for its answer; no answer in time is a failure. > 0. @default haproxy = interval, envoy 1000 ms */
  timeout?: Duration;
  /** Failures that mark a backend UNHEALTHY (HAProxy `fall`). An integer >= 1. @default haproxy 3, envoy 3 */
  unhealthyThreshold?: number;
  /** Successes that mark a backend HEALTHY (HAProxy `rise`). An integer >= 1. @default haproxy 2, envoy 2 */
  healthyThreshold?: number;
  /** Interval used while a backend is UNHEALTHY (Envoy `unhealthy_interval`, HAProxy `downinter`). @default interval */
  unhealthyInterval?: Duration;
  /** The first check of each backend waits a uniform [0, initialJitter) (Envoy `initial_jitter`). @default 0 */
  initialJitter?: Duration;
  /** Each interval gets a uniform [0, intervalJitter) added (Envoy `interval_jitter`). @default 0 */
  intervalJitter?: Duration;
  /**
   * Each interval gets a uniform [0, interval × percent / 100) added (Envoy `interval_jitter_percent`),
   * on top of `intervalJitter`. A number in [0, 100].
   * @default 0
   */
  intervalJitterPercent?: number;
  /** What a check sends to the backend's RpcEndpoint. @default 'health' */
  payload?: unknown;
  /** See {@link HealthCounting}. @default haproxy 'health-counter', otherwise 'consecutive' */
  counting?: HealthCounting;
  /** See {@link HealthStartup}. @default envoy 'first-success', otherwise 'healthy' */
  startup?: HealthStartup;
  /** Name in trace records, metrics and random streams. @default the endpoint's node address */
  name?: string;
}

/** @internal */
export const ACTIVE_KEYS = optionKeys<ActiveHealthCheckOptions>()({
  preset: true,
  interval: true,
  timeout: true,
  unhealthyThreshold: true,
  healthyThreshold: true,
  unhealthyInterval: true,
  initialJitter: true,
  intervalJitter: true,
  intervalJitterPercent: true,
  payload: true,
  counting: true,
  startup: true,
  name: true,
});

/** @internal Every option resolved to ms and numbers. */
export interface ResolvedActive {
  readonly interval: number;
  readonly timeout: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
  readonly unhealthyInterval: number;
  readonly initialJitter: number;
  readonly intervalJitter: number;
  readonly intervalJitterPercent: number;
  readonly payload: unknown;
  readonly counting: HealthCounting;
  readonly startup: HealthStartup;
  readonly name: string;
}

const C = 'ActiveHealthCheck';

/** @internal Checks every option (construction only) and applies the preset. */
export function resolveActive(options: unknown, nodeAddress: string): ResolvedActive {
  if (options === undefined) options = {};
  checkOptions(C, options, ACTIVE_KEYS);
  const o = options as ActiveHealthCheckOptions;
  const preset = o.preset === undefined ? undefined : checkEnum(C, 'preset', o.preset, ['envoy', 'haproxy']);
  const required = (field: keyof ActiveHealthCheckOptions, value: unknown): void => {
    if (value === undefined && preset === undefined)
      throw invalidOption(C, field, value, `given (Envoy has no default), or a preset: 'envoy' | 'haproxy'`);
  };
  required('interval', o.interval);
  required('timeout', o.timeout);
  required('unhealthyThreshold', o.unhealthyThreshold);
  required('healthyThreshold', o.healthyThreshold);
  const haproxy = preset === 'haproxy';
  const interval = checkDuration(C, 'interval', o.interval, { positive: true }, haproxy ? 2000 : 5000);
  const timeout = checkDuration(C, 'timeout', o.timeout, { positive: true }, haproxy ? interval : 1000);
  const int = { integer: true, min: 1 } as const;
  const unhealthyThreshold = checkNumber(C, 'unhealthyThreshold', o.unhealthyThreshold, int, 3);
  const healthyThreshold = checkNumber(C, 'healthyThreshold', o.healthyThreshold, int, 2);
  return {
    interval,
    timeout,
    unhealthyThreshold,
    healthyThreshold,
    unhealthyInterval: checkDuration(
      C,
      'unhealthyInterval',
      o.unhealthyInterval,
      { positive: true },
      interval,
    ),
    initialJitter: checkDuration(C, 'initialJitter', o.initialJitter, {}, 0),
    intervalJitter: checkDuration(C, 'intervalJitter', o.intervalJitter, {}, 0),
    intervalJitterPercent: checkNumber(
      C,
      'intervalJitterPercent',
      o.intervalJitterPercent,
      { min: 0, max: 100 },
      0,
    ),
    payload: o.payload === undefined ? 'health' : o.payload,
    counting: checkEnum(
      C,
      'counting',
      o.counting,
      ['consecutive', 'health-counter'],
      haproxy ? 'health-counter' : 'consecutive',
    ),
    startup: checkEnum(
      C,
      'startup',
      o.startup,
      ['healthy', 'first-success'],
      preset === 'envoy' ? 'first-success' : 'healthy',
    ),
    name: checkName(C, 'name', o.name, nodeAddress),
  };
}
