import {
  constant,
  type Distribution,
  DsimError,
  type Duration,
  didYouMean,
  isDsimError,
  showValue,
  toMs,
} from '@dsim/core';

// Value checks for component options, the companion of core's checkOptions/checkKind (which check the
// keys). Every error names the component, the field's path, the bad value and what is allowed, and
// carries the same details as checkOptions: { component, field, value, allowed, suggestion? }.
// Construction-time only: nothing here belongs on a per-event path.

/**
 * The INVALID_ARGUMENT error for a bad option value:
 * `Service: concurrency must be an integer >= 1, got 0`.
 *
 * @param suggestion - the value the user probably meant (from `didYouMean`), shown as a hint
 * @example
 * ```ts
 * throw invalidOption('ConnectionPool', 'size', 0, 'an integer >= 1');
 * ```
 */
export function invalidOption(
  component: string,
  field: string,
  value: unknown,
  allowed: string,
  suggestion?: string,
): DsimError {
  const hint = suggestion === undefined ? '' : ` (did you mean ${JSON.stringify(suggestion)}?)`;
  return new DsimError(
    'INVALID_ARGUMENT',
    `${component}: ${field} must be ${allowed}, got ${show(value)}${hint}`,
    { details: { component, field, value, allowed, ...(suggestion === undefined ? {} : { suggestion }) } },
  );
}

/** Like core's showValue, but a function by its name (not its source) and long values cut short. */
function show(value: unknown): string {
  if (typeof value === 'function') return value.name === '' ? 'a function' : `function ${value.name}`;
  const text = showValue(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
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
 * Returns `value` if it is a number that satisfies `rule`; throws {@link invalidOption} otherwise. NaN
 * and (unless `rule.infinity`) ±Infinity are always rejected.
 *
 * @example
 * ```ts
 * const size = checkNumber('ConnectionPool', 'size', options.size ?? 10, { integer: true, min: 1 });
 * ```
 */
export function checkNumber(component: string, field: string, value: unknown, rule: NumberRule): number {
  if (rule.infinity === true && value === Infinity) return Infinity;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (rule.integer !== true || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) throw invalidOption(component, field, value, describeRule(rule));
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
 * Returns `value` if it is a probability in [0, 1].
 *
 * @example
 * ```ts
 * const errorRate = checkProbability('Service', 'errorRate', options.errorRate ?? 0);
 * ```
 */
export function checkProbability(component: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw invalidOption(component, field, value, 'a probability in [0, 1]');
  return value;
}

/**
 * The range a duration option must fall in, for {@link checkDuration}.
 *
 * @example
 * ```ts
 * const rule: DurationRule = { positive: true, infinity: true };
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
 * Converts a duration option to ms and checks its range. A value that is not a duration at all keeps
 * core's `INVALID_DURATION` code (with the component added to the message); a duration out of range is
 * INVALID_ARGUMENT.
 *
 * @example
 * ```ts
 * const after = checkDuration('RetryingClient', 'hedge.after', hedge.after, { positive: true });
 * ```
 */
export function checkDuration(
  component: string,
  field: string,
  value: unknown,
  rule: DurationRule = {},
): number {
  if (rule.infinity === true && value === Infinity) return Infinity;
  let ms: number;
  try {
    ms = toMs(value as Duration, field);
  } catch (error) {
    if (!isDsimError(error)) throw error;
    throw new DsimError(error.code, `${component}: ${error.message}`, {
      details: { ...error.details, component },
    });
  }
  const min = rule.min ?? 0;
  if ((rule.positive === true && ms <= 0) || ms < min || (rule.max !== undefined && ms > rule.max)) {
    let allowed = rule.positive === true && min === 0 ? 'a duration > 0' : `a duration >= ${min} ms`;
    if (rule.max !== undefined) allowed += ` and <= ${rule.max} ms`;
    if (rule.infinity === true) allowed += ' or Infinity';
    else if (min === 0 && rule.max === undefined) allowed += ', such as 100 or "250ms"';
    throw invalidOption(component, field, value, allowed);
  }
  return ms;
}

/**
 * Returns `value` if it is one of `allowed`; otherwise throws naming the choices, with a "did you mean"
 * for a misspelt string (`'adaptive_lifo'`).
 *
 * @example
 * ```ts
 * const mode = checkEnum('Service', 'downstream.mode', spec.mode ?? 'sequential', ['sequential', 'parallel']);
 * ```
 */
export function checkEnum<T extends string>(
  component: string,
  field: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  const guess = typeof value === 'string' ? didYouMean(value, allowed) : undefined;
  throw invalidOption(
    component,
    field,
    value,
    `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
    guess,
  );
}

/**
 * Returns `value` if it is a boolean (not a truthy string or number).
 *
 * @example
 * ```ts
 * const dropExpired = checkBoolean('Service', 'dropExpired', options.dropExpired ?? false);
 * ```
 */
export function checkBoolean(component: string, field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidOption(component, field, value, 'true or false');
  return value;
}

/**
 * Throws unless `value` is a function; `shape` says which, e.g. `(request) => number`.
 *
 * @example
 * ```ts
 * checkFunction('Service', 'respond', options.respond, '(request) => value');
 * ```
 */
export function checkFunction(component: string, field: string, value: unknown, shape: string): void {
  if (typeof value !== 'function') throw invalidOption(component, field, value, `a function ${shape}`);
}

/**
 * Returns `value` if it is a non-empty string.
 *
 * @example
 * ```ts
 * const name = checkName('ConnectionPool', 'name', options.name ?? 'pool');
 * ```
 */
export function checkName(component: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw invalidOption(component, field, value, 'a non-empty string');
  return value;
}

/**
 * Turns a distribution-or-duration option into a {@link Distribution}: a distribution as it is, a
 * duration as a constant. Anything else (a parameter object such as `{ mean: 5 }`, the factory function
 * itself) is an error that shows how to build one.
 *
 * @param example - a call that builds a suitable distribution, for the message
 * @example
 * ```ts
 * const serviceTime = checkDistribution('Service', 'serviceTime', options.serviceTime, 'exponential({ mean: 5 })');
 * ```
 */
export function checkDistribution(
  component: string,
  field: string,
  value: unknown,
  example: string,
): Distribution {
  if (typeof value === 'object' && value !== null && typeof (value as Distribution).sample === 'function')
    return value as Distribution;
  if (typeof value === 'number' || typeof value === 'string')
    return constant(checkDuration(component, field, value));
  throw invalidOption(component, field, value, `a distribution such as ${example}, or a duration`);
}

/**
 * Throws unless `value` is an object (an options argument itself, before its keys are checked).
 *
 * @example
 * ```ts
 * checkObject('Service', 'options', options, 'an options object with serviceTime');
 * ```
 */
export function checkObject(
  component: string,
  field: string,
  value: unknown,
  allowed: string,
): asserts value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidOption(component, field, value, allowed);
}
