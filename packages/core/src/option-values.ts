import { type Duration, toMs } from './duration.js';
import { DsimError, isDsimError, showValue } from './errors.js';
import { checkKind, checkOptions, didYouMean } from './options.js';
import { constant } from './random/continuous.js';
import type { Distribution } from './random/distribution.js';

// Value checks for component options, the companion of checkOptions/checkKind (which check the keys).
// Every error names the component the user configured, the field's path, the bad value and what is
// allowed: `Component: field must be <allowed>, got <value>`, with the details
// { component, field, value, allowed, suggestion? } that checkOptions gives too.
// Construction-time only: nothing here belongs on a per-event path.

/**
 * Who is being configured and where the options being checked sit in what the user wrote. A component
 * that builds another (a `CacheServer` its `Cache`, `buildCdn` its edges) passes its own owner down, so
 * the error names what the user configured (`CacheServer: eviction.samples`), not the inner class.
 *
 * @example
 * ```ts
 * const where: Owner = { component: 'buildCdn', path: 'edge' }; // "buildCdn: edge.capacity must be ..."
 * ```
 */
export interface Owner {
  /** The component as the user wrote it: `Cache`, `CacheServer`, `buildCdn`, `Service`. */
  readonly component: string;
  /** Where the options sit in the component's options (`edge`, `eviction`); `''` at the top. */
  readonly path: string;
}

/**
 * Where a value sits, for every check here: an {@link Owner}, or just the component's name (then the
 * field is at the top, or the caller spells out its path, e.g. `'hedge.after'`).
 *
 * @example
 * ```ts
 * const a: OptionOwner = 'Service';
 * const b: OptionOwner = owner('Cache', 'eviction');
 * ```
 */
export type OptionOwner = string | Owner;

/**
 * An {@link Owner}.
 *
 * @param path - where the options sit; `''` at the top @default ''
 * @example
 * ```ts
 * owner('buildCdn', 'edge'); // errors read "buildCdn: edge.capacity must be ..."
 * ```
 */
export function owner(component: string, path = ''): Owner {
  return { component, path };
}

/**
 * The path of `field` under `where`, as an error names it.
 *
 * @example
 * ```ts
 * fieldPath(owner('buildCdn', 'edge'), 'capacity'); // 'edge.capacity'
 * fieldPath('Service', 'concurrency');              // 'concurrency'
 * ```
 */
export function fieldPath(where: OptionOwner, field: string): string {
  const path = typeof where === 'string' ? '' : where.path;
  return path === '' ? field : `${path}.${field}`;
}

/**
 * The owner of the nested options object `field` under `where`.
 *
 * @example
 * ```ts
 * nested(owner('Cache'), 'eviction'); // { component: 'Cache', path: 'eviction' }
 * ```
 */
export function nested(where: OptionOwner, field: string): Owner {
  return { component: componentOf(where), path: fieldPath(where, field) };
}

function componentOf(where: OptionOwner): string {
  return typeof where === 'string' ? where : where.component;
}

function toOwner(where: OptionOwner): Owner {
  return typeof where === 'string' ? { component: where, path: '' } : where;
}

/**
 * The INVALID_ARGUMENT error for a bad option value:
 * `Service: concurrency must be an integer >= 1, got 0`, with { component, field, value, allowed,
 * suggestion? } in its details. A function value is shown by its name, a long value cut short.
 *
 * @param suggestion - the value the user probably meant (from `didYouMean`), shown as a hint
 * @example
 * ```ts
 * throw invalidOption('ConnectionPool', 'size', 0, 'an integer >= 1');
 * // ConnectionPool: size must be an integer >= 1, got 0
 * throw invalidOption(owner('Cache', 'eviction'), 'samples', 100, 'an integer in [1, 64]');
 * // Cache: eviction.samples must be an integer in [1, 64], got 100
 * ```
 */
export function invalidOption(
  where: OptionOwner,
  field: string,
  value: unknown,
  allowed: string,
  suggestion?: string,
): DsimError {
  const component = componentOf(where);
  const path = fieldPath(where, field);
  const hint = suggestion === undefined ? '' : ` (did you mean ${JSON.stringify(suggestion)}?)`;
  return new DsimError(
    'INVALID_ARGUMENT',
    `${component}: ${path} must be ${allowed}, got ${show(value)}${hint}`,
    {
      details: {
        component,
        field: path,
        value,
        allowed,
        ...(suggestion === undefined ? {} : { suggestion }),
      },
    },
  );
}

/** Like showValue, but a function by its name (not its source) and long values cut short. */
function show(value: unknown): string {
  if (typeof value === 'function') return value.name === '' ? 'a function' : `function ${value.name}`;
  const text = showValue(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * Whether `value` is a plain object (not null, not an array).
 *
 * @example
 * ```ts
 * isObject({ kind: 'lru' }); // true
 * isObject([1]);             // false
 * ```
 */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Throws unless `value` is an object (an options argument itself, before its keys are checked).
 *
 * @param allowed - what the message says is allowed, e.g. `an options object with serviceTime`
 * @example
 * ```ts
 * checkObject('Service', 'options', options, 'an options object with serviceTime');
 * ```
 */
export function checkObject(
  where: OptionOwner,
  field: string,
  value: unknown,
  allowed: string,
): asserts value is object {
  if (!isObject(value)) throw invalidOption(where, field, value, allowed);
}

/**
 * {@link checkOptions} at `where`: rejects keys not in `known` (with "did you mean") and anything but an
 * object; `undefined` passes.
 *
 * @example
 * ```ts
 * checkKeys(owner('Cache', 'eviction'), spec, ['kind', 'samples']);
 * ```
 */
export function checkKeys(where: OptionOwner, options: unknown, known: readonly string[]): void {
  const at = toOwner(where);
  checkOptions(at.component, options, known, at.path);
}

/**
 * A required options object: throws unless `options` is an object (named `options`, or its path when
 * nested), then checks its keys with {@link checkKeys}.
 *
 * @example
 * ```ts
 * requireOptions('RemoteCache', options, ['client', 'server']);
 * // RemoteCache: options must be an object with the fields client, server, got undefined
 * ```
 */
export function requireOptions(where: OptionOwner, options: unknown, known: readonly string[]): void {
  if (!isObject(options)) {
    const at = toOwner(where);
    const field = at.path === '' ? 'options' : at.path;
    throw invalidOption(at.component, field, options, `an object with the fields ${known.join(', ')}`);
  }
  checkKeys(where, options, known);
}

/**
 * Checks a `{ kind, ... }` spec at `where` ({@link checkKind}: "did you mean" for a misspelt kind, then
 * the kind's keys) and returns the kind. At the top (no path) the spec is the whole argument, named
 * `spec` when it is not an object.
 *
 * @example
 * ```ts
 * checkKindOf('createPlacement', { kind: 'rign' }, { ring: ['kind', 'vnodes'] });
 * // createPlacement: kind must be one of "ring", got "rign" (did you mean "ring"?)
 * ```
 */
export function checkKindOf<K extends string>(
  where: OptionOwner,
  spec: unknown,
  kinds: Readonly<Record<K, readonly string[]>>,
): K {
  const at = toOwner(where);
  if (at.path !== '') return checkKind(at.component, at.path, spec, kinds) as K;
  const names = Object.keys(kinds);
  if (!isObject(spec))
    throw invalidOption(
      at,
      'spec',
      spec,
      `an object { kind: ${names.map((k) => showValue(k)).join(' | ')}, ... }`,
    );
  const kind = spec.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(kinds, kind)) {
    const guess = typeof kind === 'string' ? didYouMean(kind, names) : undefined;
    throw invalidOption(at, 'kind', kind, `one of ${names.map((k) => showValue(k)).join(', ')}`, guess);
  }
  checkKeys(at, spec, kinds[kind as K]);
  return kind as K;
}

/**
 * The range a numeric option must fall in, for {@link checkNumber}. Bounds left out are not checked.
 *
 * @example
 * ```ts
 * const rule: NumberRule = { integer: true, min: 0, infinity: true }; // "an integer >= 0 or Infinity"
 * ```
 */
export interface NumberRule {
  /** Only integers. @default false */
  readonly integer?: boolean;
  /** Smallest value allowed (inclusive). @default none */
  readonly min?: number;
  /** The value must be strictly above this. @default none */
  readonly above?: number;
  /** Largest value allowed (inclusive). @default none */
  readonly max?: number;
  /** Infinity is allowed too ("no limit"). @default false */
  readonly infinity?: boolean;
  /** Unit or meaning, added to the message in parentheses, e.g. `ms`. @default none */
  readonly unit?: string;
}

/**
 * Returns `value` if it is a number that satisfies `rule` (`fallback` when `value` is undefined and a
 * fallback is given); throws {@link invalidOption} otherwise. NaN and (unless `rule.infinity`) ±Infinity
 * are always rejected.
 *
 * @param fallback - returned when `value` is undefined; without it the option is required
 * @example
 * ```ts
 * checkNumber('ConnectionPool', 'size', options.size ?? 10, { integer: true, min: 1 });
 * checkNumber(owner('Cache', 'eviction'), 'samples', spec.samples, { integer: true, min: 1, max: 64 }, 5);
 * // Cache: eviction.samples must be an integer in [1, 64], got 100
 * ```
 */
export function checkNumber(
  where: OptionOwner,
  field: string,
  value: unknown,
  rule: NumberRule,
  fallback?: number,
): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (rule.infinity === true && value === Infinity) return Infinity;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (rule.integer !== true || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) throw invalidOption(where, field, value, describeRule(rule));
  return value as number;
}

function describeRule(rule: NumberRule): string {
  let text = rule.integer === true ? 'an integer' : 'a finite number';
  const low = rule.min !== undefined ? `[${rule.min}` : rule.above !== undefined ? `(${rule.above}` : '';
  if (low !== '' && rule.max !== undefined) text += ` in ${low}, ${rule.max}]`;
  else if (rule.min !== undefined) text += ` >= ${rule.min}`;
  else if (rule.above !== undefined) text += ` > ${rule.above}`;
  else if (rule.max !== undefined) text += ` <= ${rule.max}`;
  if (rule.infinity === true) text += ' or Infinity';
  if (rule.unit !== undefined) text += ` (${rule.unit})`;
  return text;
}

/**
 * Returns `value` if it is a probability in [0, 1] (`fallback` when undefined and given).
 *
 * @example
 * ```ts
 * checkProbability('Service', 'errorRate', options.errorRate ?? 0);
 * // Service: errorRate must be a probability in [0, 1], got 2
 * ```
 */
export function checkProbability(
  where: OptionOwner,
  field: string,
  value: unknown,
  fallback?: number,
): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw invalidOption(where, field, value, 'a probability in [0, 1]');
  return value;
}

/**
 * The range a duration option must fall in, for {@link checkDuration}.
 *
 * @example
 * ```ts
 * const rule: DurationRule = { positive: true, infinity: true }; // "a duration > 0 or Infinity"
 * ```
 */
export interface DurationRule {
  /** Zero is rejected. @default false (0 is allowed) */
  readonly positive?: boolean;
  /** Infinity (the number) is allowed ("never"). @default false */
  readonly infinity?: boolean;
  /** Smallest value in ms (inclusive). @default 0 */
  readonly min?: number;
  /** Largest value in ms (inclusive). @default none */
  readonly max?: number;
}

/**
 * A duration in ms ({@link toMs}: numbers are ms, strings need a unit), its INVALID_DURATION error
 * naming the component as well as the field.
 *
 * @example
 * ```ts
 * durationMs('cdnOrigin', 'maxAge', '1h');       // 3_600_000
 * durationMs('cdnOrigin', 'maxAge', '1 hour');   // throws INVALID_DURATION "cdnOrigin: maxAge must be ..."
 * ```
 */
export function durationMs(where: OptionOwner, field: string, value: unknown): number {
  try {
    return toMs(value as Duration, fieldPath(where, field));
  } catch (error) {
    if (!isDsimError(error)) throw error;
    const component = componentOf(where);
    throw new DsimError(error.code, `${component}: ${error.message}`, {
      details: { ...error.details, component },
    });
  }
}

/**
 * Converts a duration option to ms and checks its range (`fallback` when undefined and given). A value
 * that is not a duration at all (a negative number, `"5 minutes"`) keeps core's INVALID_DURATION code,
 * with the component added to the message; a duration out of range, or Infinity where it is not
 * allowed, is INVALID_ARGUMENT.
 *
 * @example
 * ```ts
 * checkDuration('RetryingClient', 'timeout', options.timeout ?? 1000, { positive: true }); // ms
 * // RetryingClient: timeout must be a duration > 0, such as 100 or "250ms", got 0
 * ```
 */
export function checkDuration(
  where: OptionOwner,
  field: string,
  value: unknown,
  rule: DurationRule = {},
  fallback?: number,
): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const min = rule.min ?? 0;
  const fail = (): DsimError => {
    let allowed = rule.positive === true && min === 0 ? 'a duration > 0' : `a duration >= ${min} ms`;
    if (rule.max !== undefined) allowed += ` and <= ${rule.max} ms`;
    if (rule.infinity === true) allowed += ' or Infinity';
    else if (min === 0 && rule.max === undefined) allowed += ', such as 100 or "250ms"';
    return invalidOption(where, field, value, allowed);
  };
  if (value === Infinity) {
    if (rule.infinity === true) return Infinity;
    throw fail();
  }
  const ms = durationMs(where, field, value);
  if ((rule.positive === true && ms <= 0) || ms < min || (rule.max !== undefined && ms > rule.max))
    throw fail();
  return ms;
}

/**
 * Returns `value` if it is one of `allowed` (`fallback` when undefined and given); otherwise throws
 * naming the choices, with a "did you mean" for a misspelt string.
 *
 * @example
 * ```ts
 * checkEnum('Service', 'downstream.mode', 'paralel', ['sequential', 'parallel']);
 * // Service: downstream.mode must be one of "sequential", "parallel", got "paralel" (did you mean "parallel"?)
 * ```
 */
export function checkEnum<T extends string>(
  where: OptionOwner,
  field: string,
  value: unknown,
  allowed: readonly T[],
  fallback?: T,
): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  const guess = typeof value === 'string' ? didYouMean(value, allowed) : undefined;
  throw invalidOption(
    where,
    field,
    value,
    `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
    guess,
  );
}

/**
 * Returns `value` if it is a boolean, not a truthy string or number (`fallback` when undefined and
 * given).
 *
 * @example
 * ```ts
 * checkBoolean('Service', 'dropExpired', options.dropExpired, false);
 * // Service: dropExpired must be true or false, got "yes"
 * ```
 */
export function checkBoolean(where: OptionOwner, field: string, value: unknown, fallback?: boolean): boolean {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(where, field, value, 'true or false');
  return value;
}

/**
 * Returns `value` if it is a function; `shape` says which, e.g. `(request) => number`.
 *
 * @example
 * ```ts
 * const respond = checkFunction<(r: Request) => unknown>('Service', 'respond', options.respond, '(request) => value');
 * // Service: respond must be a function (request) => value, got 3
 * ```
 */
export function checkFunction<F = (...args: never[]) => unknown>(
  where: OptionOwner,
  field: string,
  value: unknown,
  shape: string,
): F {
  if (typeof value !== 'function') throw invalidOption(where, field, value, `a function ${shape}`);
  return value as F;
}

/**
 * Returns `value` if it is a non-empty string (`fallback` when undefined and given).
 *
 * @example
 * ```ts
 * checkName('ConnectionPool', 'name', options.name, 'pool');
 * // ConnectionPool: name must be a non-empty string, got ""
 * ```
 */
export function checkName(where: OptionOwner, field: string, value: unknown, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value === '')
    throw invalidOption(where, field, value, 'a non-empty string');
  return value;
}

/**
 * Whether `value` is a {@link Distribution}: an object with `sample()` and `describe()`.
 *
 * @example
 * ```ts
 * isDistribution(exponential({ mean: 5 })); // true
 * isDistribution({ mean: 5 });              // false
 * ```
 */
export function isDistribution(value: unknown): value is Distribution {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Distribution).sample === 'function' &&
    typeof (value as Distribution).describe === 'function'
  );
}

/** What a distribution option allows besides a distribution, for {@link checkDistribution}. */
export interface DistributionRule {
  /** Infinity is allowed too, as the distribution that always samples Infinity ("never"). @default false */
  readonly infinity?: boolean;
}

/** A distribution that always samples Infinity ("never"). */
const NEVER: Distribution = Object.freeze({
  kind: 'never',
  mean: Infinity,
  variance: 0,
  sample: () => Infinity,
  describe: () => 'never',
});

/**
 * Turns a distribution-or-duration option into a {@link Distribution} (`fallback` when undefined and
 * given): a distribution as it is, a duration (ms, or a string with a unit) as a constant. Anything else
 * (a parameter object such as `{ mean: 5 }`, the factory function itself) is an error that shows how
 * to build one.
 *
 * @param example - a call that builds a suitable distribution, for the message
 * @example
 * ```ts
 * checkDistribution('Service', 'serviceTime', { mean: 5 }, 'exponential({ mean: 5 })');
 * // Service: serviceTime must be a distribution such as exponential({ mean: 5 }), or a duration, got {"mean":5}
 * ```
 */
export function checkDistribution(
  where: OptionOwner,
  field: string,
  value: unknown,
  example: string,
  rule: DistributionRule = {},
  fallback?: Distribution,
): Distribution {
  if (value === undefined && fallback !== undefined) return fallback;
  if (isDistribution(value)) return value;
  if (value === Infinity && rule.infinity === true) return NEVER;
  if (typeof value === 'number' || typeof value === 'string')
    return constant(checkDuration(where, field, value));
  const also = rule.infinity === true ? ', a duration or Infinity' : ', or a duration';
  throw invalidOption(where, field, value, `a distribution such as ${example}${also}`);
}
