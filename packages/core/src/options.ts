import { DsimError, showValue } from './errors.js';

/**
 * The known keys of an options type, as a record whose keys the compiler checks against the type: a
 * missing or extra key is a type error, so the list cannot drift from the interface.
 *
 * Build one with {@link optionKeys}; check an options object against it with {@link checkOptions}.
 */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Declares the known keys of an options interface, exhaustively. Curried so that `T` is given and the
 * record is checked against it: leaving out an option, or naming one the interface does not have, does
 * not compile.
 *
 * @example
 * ```ts
 * interface PoolOptions { size?: number; maxPending?: number }
 * const POOL_KEYS = optionKeys<PoolOptions>()({ size: true, maxPending: true });
 * checkOptions('ConnectionPool', options, POOL_KEYS);
 * ```
 */
export function optionKeys<T>(): (keys: OptionKeys<T>) => readonly string[] {
  return (keys) => Object.freeze(Object.keys(keys));
}

/**
 * Rejects anything but a plain options object whose keys are all known. The error names the component,
 * the path of the bad key, the closest known key ("did you mean") and every known key:
 *
 * `Service: unknown option "concurency" (did you mean "concurrency"?); known options: concurrency, ...`
 *
 * `undefined` passes (options are optional). Runs at construction only, never per event.
 *
 * @param component - who is being configured, as the user wrote it: `Service`, `openLoop`, `Cache`
 * @param options - the object the user passed
 * @param known - the known keys, from {@link optionKeys} or a plain list
 * @param path - where the object sits, for nested options (`eviction`, `backoff`); `''` at the top
 *   @default ''
 * @example
 * ```ts
 * checkOptions('Service', { concurency: 8 }, ['concurrency', 'serviceTime']);
 * // [dsim INVALID_ARGUMENT] Service: unknown option "concurency" (did you mean "concurrency"?); known options: concurrency, serviceTime
 * ```
 */
export function checkOptions(component: string, options: unknown, known: readonly string[], path = ''): void {
  if (options === undefined) return;
  const where = path === '' ? 'options' : path;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new DsimError(
      'INVALID_ARGUMENT',
      `${component}: ${where} must be an object with the fields ${known.join(', ')}, got ${showValue(options)}`,
      { details: { component, field: where, value: options, allowed: [...known] } },
    );
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const field = path === '' ? key : `${path}.${key}`;
    const guess = didYouMean(key, known);
    throw new DsimError(
      'INVALID_ARGUMENT',
      `${component}: unknown option ${JSON.stringify(field)}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(path === '' ? guess : `${path}.${guess}`)}?)`}; known options${path === '' ? '' : ` of ${path}`}: ${known.join(', ')}`,
      {
        details: {
          component,
          field,
          value: (options as Record<string, unknown>)[key],
          allowed: [...known],
          ...(guess === undefined ? {} : { suggestion: guess }),
        },
      },
    );
  }
}

/**
 * The candidate closest to `word`, if it is close enough to be a plausible typo: an edit distance
 * (insertions, deletions, substitutions, adjacent transpositions; case-insensitive) of at most a third
 * of the word's length, or one candidate that starts with or contains the word.
 *
 * @example
 * ```ts
 * didYouMean('concurency', ['concurrency', 'serviceTime']); // 'concurrency'
 * didYouMean('xyz', ['concurrency']);                       // undefined
 * ```
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  if (bestDistance <= limit) return best;
  // A prefix or fragment of one known word ("queue" for "queueCapacity") is a good guess only when unique.
  if (lower.length >= 3) {
    const containing = [...candidates].filter((c) => c.toLowerCase().includes(lower));
    if (containing.length === 1) return containing[0];
  }
  return undefined;
}

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * Checks a `{ kind, ... }` option (a backoff, an eviction policy, an arrival process): `kind` must be
 * one of the known kinds ("did you mean" for a typo) and the other keys must be known for that kind.
 * Returns the kind.
 *
 * @param component - who is being configured, e.g. `Cache`
 * @param path - where the spec sits, e.g. `eviction`
 * @param spec - the object the user passed
 * @param kinds - each kind's known keys, `kind` included
 * @example
 * ```ts
 * checkKind('Cache', 'eviction', { kind: 'lru' }, { lru: ['kind'], lfu: ['kind', 'decay'] }); // 'lru'
 * ```
 */
export function checkKind(
  component: string,
  path: string,
  spec: unknown,
  kinds: Readonly<Record<string, readonly string[]>>,
): string {
  const names = Object.keys(kinds);
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new DsimError(
      'INVALID_ARGUMENT',
      `${component}: ${path} must be an object { kind: ${names.map((k) => JSON.stringify(k)).join(' | ')}, ... }, got ${showValue(spec)}`,
      { details: { component, field: path, value: spec, allowed: names } },
    );
  }
  const kind = (spec as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !Object.hasOwn(kinds, kind)) {
    const guess = typeof kind === 'string' ? didYouMean(kind, names) : undefined;
    throw new DsimError(
      'INVALID_ARGUMENT',
      `${component}: ${path}.kind must be one of ${names.map((k) => JSON.stringify(k)).join(', ')}, got ${showValue(kind)}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}`,
      {
        details: {
          component,
          field: `${path}.kind`,
          value: kind,
          allowed: names,
          ...(guess === undefined ? {} : { suggestion: guess }),
        },
      },
    );
  }
  checkOptions(component, spec, kinds[kind]!, path);
  return kind;
}
