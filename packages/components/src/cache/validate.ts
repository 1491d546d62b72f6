import {
  checkKind,
  checkOptions,
  constant,
  type Distribution,
  DsimError,
  type Duration,
  didYouMean,
  showValue,
  toMs,
} from '@dsim/core';

/**
 * Option validation shared by the caches and the key placements. Internal: not part of the package's
 * public surface. Every check runs at construction, never per event.
 */

/**
 * Who is being configured and where its options sit: the names an error message uses. A component that
 * builds another (a `CacheServer` its `Cache`, `buildCdn` its edges) passes its own owner down, so the
 * message names what the user wrote (`buildCdn: edge.capacity`), not the inner class.
 * @internal
 */
export interface Owner {
  /** The component as the user wrote it: `Cache`, `CacheServer`, `buildCdn`. */
  readonly component: string;
  /** Where the options sit in the component's options (`edge`, `eviction`); '' at the top. */
  readonly path: string;
}

/**
 * An {@link Owner}.
 * @internal
 * @example
 * ```ts
 * owner('buildCdn', 'edge'); // errors read "buildCdn: edge.capacity must be ..."
 * ```
 */
export function owner(component: string, path = ''): Owner {
  return { component, path };
}

/**
 * The path of `field` under `where`.
 * @internal
 * @example
 * ```ts
 * fieldPath(owner('buildCdn', 'edge'), 'capacity'); // 'edge.capacity'
 * ```
 */
export function fieldPath(where: Owner, field: string): string {
  return where.path === '' ? field : `${where.path}.${field}`;
}

/**
 * The owner of the nested options object `field`.
 * @internal
 * @example
 * ```ts
 * nested(owner('Cache'), 'eviction'); // { component: 'Cache', path: 'eviction' }
 * ```
 */
export function nested(where: Owner, field: string): Owner {
  return { component: where.component, path: fieldPath(where, field) };
}

/**
 * The standard bad-option error: `Cache: eviction.samples must be an integer in [1, 64], got 100`, with
 * the component, field, value and what is allowed in its details.
 * @internal
 * @example
 * ```ts
 * throw invalid(owner('Cache'), 'capacity', 0, 'an integer >= 1');
 * ```
 */
export function invalid(
  where: Owner,
  field: string,
  value: unknown,
  allowed: string,
  suggestion?: string,
): DsimError {
  const path = fieldPath(where, field);
  const guess = suggestion === undefined ? '' : ` (did you mean ${showValue(suggestion)}?)`;
  return new DsimError(
    'INVALID_ARGUMENT',
    `${where.component}: ${path} must be ${allowed}, got ${showValue(value)}${guess}`,
    {
      details: {
        component: where.component,
        field: path,
        value,
        allowed,
        ...(suggestion === undefined ? {} : { suggestion }),
      },
    },
  );
}

/**
 * Rejects keys not in `known` (with "did you mean"), and anything but an object.
 * @internal
 * @example
 * ```ts
 * checkKeys(owner('Cache'), options, CACHE_KEYS);
 * ```
 */
export function checkKeys(where: Owner, options: unknown, known: readonly string[]): void {
  checkOptions(where.component, options, known, where.path);
}

/**
 * Whether `value` is a plain object (not null, not an array).
 * @internal * @example
 * ```ts
 * isObject({ kind: 'lru' }); // true
 * isObject([1]);            // false
 * ```
 */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A required options object: throws unless `options` is an object, then checks its keys.
 * @internal
 * @example
 * ```ts
 * requireOptions(owner('RemoteCache'), options, REMOTE_CACHE_KEYS);
 * ```
 */
export function requireOptions(where: Owner, options: unknown, known: readonly string[]): void {
  if (!isObject(options)) {
    const field = where.path === '' ? 'options' : where.path;
    const allowed = `an object with the fields ${known.join(', ')}`;
    throw new DsimError(
      'INVALID_ARGUMENT',
      `${where.component}: ${field} must be ${allowed}, got ${showValue(options)}`,
      {
        details: { component: where.component, field, value: options, allowed },
      },
    );
  }
  checkKeys(where, options, known);
}

/**
 * Checks a `{ kind, ... }` spec at `where` (`checkKind`: "did you mean" for a misspelt kind, then the
 * kind's keys) and returns the kind. At the top (`where.path` empty) the spec is the whole argument,
 * named `spec` when it is not an object.
 * @internal
 * @example
 * ```ts
 * kindOf(owner('createPlacement'), { kind: 'rign' }, PLACEMENT_SPEC_KEYS); // throws: did you mean "ring"?
 * ```
 */
export function kindOf<K extends string>(
  where: Owner,
  spec: unknown,
  kinds: Readonly<Record<K, readonly string[]>>,
): K {
  if (where.path !== '') return checkKind(where.component, where.path, spec, kinds) as K;
  const names = Object.keys(kinds);
  const list = names.map((k) => showValue(k)).join(', ');
  if (!isObject(spec))
    throw invalid(
      where,
      'spec',
      spec,
      `an object { kind: ${names.map((k) => showValue(k)).join(' | ')}, ... }`,
    );
  const kind = spec.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(kinds, kind)) {
    throw invalid(
      where,
      'kind',
      kind,
      `one of ${list}`,
      typeof kind === 'string' ? didYouMean(kind, names) : undefined,
    );
  }
  checkKeys(where, spec, kinds[kind as K]);
  return kind as K;
}

/**
 * A boolean option, `fallback` when absent.
 * @internal * @example
 * ```ts
 * const persistent = boolOption(owner('CacheServer'), 'persistent', options.persistent, false);
 * ```
 */
export function boolOption(where: Owner, field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(where, field, value, 'a boolean (true or false)');
  return value;
}

/**
 * A name option: a non-empty string, `fallback` when absent.
 * @internal * @example
 * ```ts
 * const name = nameOption(owner('Cache'), 'name', options.name, 'cache');
 * ```
 */
export function nameOption(where: Owner, field: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw invalid(where, field, value, 'a non-empty string');
  return value;
}

/**
 * An integer option in [min, max], `fallback` when absent (required when `fallback` is undefined);
 * `Infinity` too when `infinite`.
 * @internal * @example
 * ```ts
 * const samples = intOption(where, 'samples', options.samples, 5, 1, 64);
 * const batch = intOption(where, 'batchSize', options.batchSize, Infinity, 1, undefined, true);
 * ```
 */
export function intOption(
  where: Owner,
  field: string,
  value: unknown,
  fallback: number | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  infinite = false,
): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (infinite && value === Infinity) return Infinity;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw invalid(
      where,
      field,
      value,
      `${max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`}${infinite ? ', or Infinity' : ''}`,
    );
  return value;
}

/**
 * A required function option.
 * @internal * @example
 * ```ts
 * const load = fnOption<Loader>(owner('CacheAside'), 'load', options.load, '(key) => SimEvent<{ ok, value }>');
 * ```
 */
export function fnOption<F>(where: Owner, field: string, value: unknown, shape: string): F {
  if (typeof value !== 'function') throw invalid(where, field, value, `a function ${shape}`);
  return value as F;
}

/**
 * An optional function option.
 * @internal * @example
 * ```ts
 * const versionOf = optionalFn<(v: V) => number>(where, 'versionOf', options.versionOf, '(value) => version');
 * ```
 */
export function optionalFn<F>(where: Owner, field: string, value: unknown, shape: string): F | undefined {
  return value === undefined ? undefined : fnOption<F>(where, field, value, shape);
}

/**
 * One of a few strings, `fallback` when absent; a near miss gets "did you mean".
 * @internal * @example
 * ```ts
 * const unit = oneOf(owner('Cache'), 'unit', options.unit, 'entries', ['entries', 'bytes'] as const);
 * ```
 */
export function oneOf<T extends string>(
  where: Owner,
  field: string,
  value: unknown,
  fallback: T | undefined,
  allowed: readonly T[],
): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(
    where,
    field,
    value,
    `one of ${allowed.map((a) => showValue(a)).join(', ')}`,
    typeof value === 'string' ? didYouMean(value, allowed) : undefined,
  );
}

/** What a duration option allows besides a finite number of ms >= 0. @internal */
export interface DurationRule {
  /** Whether 0 is allowed. @default true */
  readonly zero?: boolean;
  /** Whether `Infinity` is allowed (returned as Infinity). @default false */
  readonly infinite?: boolean;
}

/**
 * A duration option in ms, `fallback` when absent. A bad string or a negative number is an
 * INVALID_DURATION error (from `toMs`); 0 or Infinity where not allowed, INVALID_ARGUMENT.
 * @internal * @example
 * ```ts
 * const ttl = durationOption(owner('Cache'), 'ttl', options.ttl, Infinity, { zero: false, infinite: true });
 * ```
 */
export function durationOption(
  where: Owner,
  field: string,
  value: unknown,
  fallback: number,
  rule: DurationRule = {},
): number {
  if (value === undefined) return fallback;
  const zero = rule.zero ?? true;
  const infinite = rule.infinite ?? false;
  const allowed = `a duration ${zero ? '>= 0' : '> 0'} (ms, or a string such as "250ms", "5m")${infinite ? ', or Infinity' : ''}`;
  if (value === Infinity) {
    if (infinite) return Infinity;
    throw invalid(where, field, value, allowed);
  }
  const ms = msOf(where, field, value);
  if (!zero && ms === 0) throw invalid(where, field, value, allowed);
  return ms;
}

/**
 * A duration in ms (`toMs`), its INVALID_DURATION error naming the component as well as the field.
 * @internal * @example
 * ```ts
 * msOf(owner('cdnOrigin'), 'maxAge', '1h'); // 3_600_000
 * ```
 */
export function msOf(where: Owner, field: string, value: unknown): number {
  try {
    return toMs(value as Duration, fieldPath(where, field));
  } catch (error) {
    if (!(error instanceof DsimError)) throw error;
    throw new DsimError(error.code, `${where.component}: ${error.message}`, {
      details: { ...error.details, component: where.component },
    });
  }
}

/**
 * Whether `value` looks like a {@link Distribution} (an object with `sample`).
 * @internal * @example
 * ```ts
 * isDistribution(exponential({ mean: 5 })); // true
 * ```
 */
export function isDistribution(value: unknown): value is Distribution {
  return typeof value === 'object' && value !== null && typeof (value as Distribution).sample === 'function';
}

/**
 * A time option given as a distribution (ms) or a duration; `Infinity` too when `infinite` (as the
 * distribution that always samples Infinity). `fallback` when absent.
 * @internal * @example
 * ```ts
 * const lag = timeOption(owner('DistributedCache'), 'replicationLag', options.replicationLag, ZERO, true);
 * ```
 */
export function timeOption(
  where: Owner,
  field: string,
  value: unknown,
  fallback: Distribution,
  infinite = false,
): Distribution {
  if (value === undefined) return fallback;
  if (isDistribution(value)) return value;
  if (value === Infinity && infinite) return NEVER;
  if (typeof value === 'number' || typeof value === 'string')
    return constant(durationOption(where, field, value, 0, { infinite: false }));
  throw invalid(
    where,
    field,
    value,
    `a duration${infinite ? ', Infinity,' : ''} or a distribution in ms (e.g. exponential({ mean: 20 }))`,
  );
}

/** A distribution that always samples Infinity ("never"). @internal */
export const NEVER: Distribution = Object.freeze({
  kind: 'never',
  mean: Infinity,
  variance: 0,
  sample: () => Infinity,
  describe: () => 'never',
});

/** The zero distribution. @internal */
export const ZERO: Distribution = constant(0);
