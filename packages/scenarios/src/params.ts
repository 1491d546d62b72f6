import { DsimError, type Duration, didYouMean, showValue, toMs } from '@dsim/core';

/**
 * A scenario parameter: its default, its description, how to validate a value given from code, and how
 * to parse one given on the command line (`--set key=value`).
 */
export interface ParamSpec<T> {
  /** Kind, for help output: `number`, `integer`, `boolean`, `string`, `duration`, `enum`. */
  readonly kind: string;
  /** Value used when none is given. */
  readonly default: T;
  /** One line for `dsim list` and docs. */
  readonly description: string;
  /** Human description of the allowed values, used in errors. */
  readonly allowed: string;
  /** Checks a value given from code; throws a CONFIG_ERROR naming `field`. */
  validate(value: unknown, field: string): T;
  /** Parses a command-line string; throws a CONFIG_ERROR naming `field`. */
  parse(raw: string, field: string): T;
}

/** A scenario's parameter schema: name to spec. */
export type ParamSchema = Record<string, ParamSpec<any>>;

/** The values of a schema: `{ lambda: number, service: 'exp' | 'const', ... }`. */
export type ParamValues<S extends ParamSchema> = {
  [K in keyof S]: S[K] extends ParamSpec<infer T> ? T : never;
};

function configError(field: string, value: unknown, allowed: string): DsimError {
  return new DsimError('CONFIG_ERROR', `parameter ${field} must be ${allowed}, got ${showValue(value)}`, {
    details: { field, value, allowed },
  });
}

/** Options of a numeric parameter. */
export interface NumberParamOptions {
  default: number;
  description: string;
  /** Smallest allowed value (inclusive unless `exclusiveMin`). @default -Infinity */
  min?: number;
  /** Largest allowed value (inclusive unless `exclusiveMax`). @default Infinity */
  max?: number;
  /** @default false */
  exclusiveMin?: boolean;
  /** @default false */
  exclusiveMax?: boolean;
}

function numberSpec(kind: 'number' | 'integer', options: NumberParamOptions): ParamSpec<number> {
  const { min = -Infinity, max = Infinity, exclusiveMin = false, exclusiveMax = false } = options;
  const parts: string[] = [kind === 'integer' ? 'an integer' : 'a finite number'];
  if (min !== -Infinity) parts.push(`${exclusiveMin ? '>' : '>='} ${min}`);
  if (max !== Infinity) parts.push(`${min !== -Infinity ? 'and ' : ''}${exclusiveMax ? '<' : '<='} ${max}`);
  const allowed = parts.join(' ');
  const validate = (value: unknown, field: string): number => {
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (kind === 'number' || Number.isInteger(value)) &&
      (exclusiveMin ? value > min : value >= min) &&
      (exclusiveMax ? value < max : value <= max);
    if (!ok) throw configError(field, value, allowed);
    return value as number;
  };
  const spec: ParamSpec<number> = {
    kind,
    default: options.default,
    description: options.description,
    allowed,
    validate,
    parse: (raw, field) => {
      const trimmed = raw.trim();
      const value = trimmed === '' ? Number.NaN : Number(trimmed);
      if (Number.isNaN(value)) throw configError(field, raw, allowed);
      return validate(value, field);
    },
  };
  validate(options.default, 'default');
  return spec;
}

/**
 * Builders for scenario parameters.
 *
 * @example
 * ```ts
 * const params = {
 *   lambda: param.number({ default: 4, min: 0, exclusiveMin: true, description: 'arrivals per second' }),
 *   servers: param.integer({ default: 5, min: 1, description: 'servers' }),
 *   service: param.enum(['exp', 'const'], { default: 'exp', description: 'service-time distribution' }),
 * };
 * ```
 */
export const param = {
  /** A finite number, optionally bounded. */
  number(options: NumberParamOptions): ParamSpec<number> {
    return numberSpec('number', options);
  },
  /** An integer, optionally bounded. */
  integer(options: NumberParamOptions): ParamSpec<number> {
    return numberSpec('integer', options);
  },
  /** `true` or `false` (also `1`/`0`, `yes`/`no` on the command line). */
  boolean(options: { default: boolean; description: string }): ParamSpec<boolean> {
    const allowed = 'true or false';
    const validate = (value: unknown, field: string): boolean => {
      if (typeof value !== 'boolean') throw configError(field, value, allowed);
      return value;
    };
    return {
      kind: 'boolean',
      default: options.default,
      description: options.description,
      allowed,
      validate,
      parse: (raw, field) => {
        const v = raw.trim().toLowerCase();
        if (v === 'true' || v === '1' || v === 'yes') return true;
        if (v === 'false' || v === '0' || v === 'no') return false;
        throw configError(field, raw, allowed);
      },
    };
  },
  /** One of a fixed set of strings. */
  enum<const V extends string>(
    values: readonly V[],
    options: { default: V; description: string },
  ): ParamSpec<V> {
    const allowed = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
    const validate = (value: unknown, field: string): V => {
      if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
        const guess = typeof value === 'string' ? didYouMean(value, values) : undefined;
        throw configError(
          field,
          value,
          guess === undefined ? allowed : `${allowed} (did you mean ${JSON.stringify(guess)}?)`,
        );
      }
      return value as V;
    };
    validate(options.default, 'default');
    return {
      kind: 'enum',
      default: options.default,
      description: options.description,
      allowed,
      validate,
      parse: (raw, field) => validate(raw.trim(), field),
    };
  },
  /** Any string. */
  string(options: { default: string; description: string }): ParamSpec<string> {
    const allowed = 'a string';
    const validate = (value: unknown, field: string): string => {
      if (typeof value !== 'string') throw configError(field, value, allowed);
      return value;
    };
    return {
      kind: 'string',
      default: options.default,
      description: options.description,
      allowed,
      validate,
      parse: validate,
    };
  },
  /** A duration, stored as ms: numbers are ms, strings need a unit (`"250ms"`, `"30s"`, `"5m"`, `"1h"`). */
  duration(options: { default: Duration; description: string }): ParamSpec<number> {
    const allowed = 'a duration such as 250 (ms), "250ms", "30s", "5m" or "1h"';
    const validate = (value: unknown, field: string): number => {
      try {
        return toMs(value as Duration, field);
      } catch {
        throw configError(field, value, allowed);
      }
    };
    return {
      kind: 'duration',
      default: validate(options.default, 'default'),
      description: options.description,
      allowed,
      validate,
      parse: (raw, field) => {
        const trimmed = raw.trim();
        return validate(/^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed, field);
      },
    };
  },
};

/**
 * Fills defaults and validates `given` against `schema`. Unknown keys are an error that lists the known ones.
 *
 * @example
 * ```ts
 * resolveParams({ lambda: param.number({ default: 1, min: 0 }) }, { lambda: 2 }, 'demo'); // { lambda: 2 }
 * ```
 */
export function resolveParams<S extends ParamSchema>(
  schema: S,
  given: Partial<Record<string, unknown>>,
  scenario: string,
): ParamValues<S> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(schema, key)) {
      throw unknownParameter(key, schema, scenario, '');
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    const value = given[key];
    out[key] = value === undefined ? spec.default : spec.validate(value, key);
  }
  return out as ParamValues<S>;
}

/**
 * Parses `key=value` strings from the command line against a schema.
 * @example
 * ```ts
 * parseAssignments(['lambda=4', 'service=const'], schema, 'mmc'); // { lambda: 4, service: 'const' }
 * ```
 */
export function parseAssignments(
  assignments: readonly string[],
  schema: ParamSchema,
  scenario: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const given = new Map<string, string>();
  for (const assignment of assignments) {
    const key = assignment.slice(0, Math.max(0, assignment.indexOf('='))).trim();
    const first = given.get(key);
    if (key !== '' && first !== undefined) {
      throw new DsimError(
        'CONFIG_ERROR',
        `--set ${key} is given twice (${first} and ${assignment}); give each parameter once`,
        { details: { field: key, value: assignment } },
      );
    }
    given.set(key, assignment);
  }
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) {
      throw new DsimError('CONFIG_ERROR', `--set expects key=value, got ${JSON.stringify(assignment)}`, {
        details: { field: '--set', value: assignment },
      });
    }
    const key = assignment.slice(0, eq).trim();
    const spec = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (spec === undefined) {
      throw unknownParameter(key, schema, scenario, ' in --set');
    }
    out[key] = spec.parse(assignment.slice(eq + 1), key);
  }
  return out;
}

function unknownParameter(key: string, schema: ParamSchema, scenario: string, where: string): DsimError {
  const known = Object.keys(schema);
  const guess = didYouMean(key, known);
  return new DsimError(
    'CONFIG_ERROR',
    `unknown parameter ${JSON.stringify(key)}${where} for scenario ${scenario}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}; known parameters: ${known.join(', ') || '(none)'}`,
    { details: { field: key, allowed: known, ...(guess === undefined ? {} : { suggestion: guess }) } },
  );
}
