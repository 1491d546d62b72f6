/**
 * The one error family of dsim. Every error thrown by the library is a {@link DsimError} with a stable
 * {@link DsimErrorCode}, a message that names the bad field or value and what is allowed, and, when it
 * happens inside a run, the simulated time and the seed that reproduce it.
 */

/**
 * Stable machine-readable error codes.
 *
 * - `INVALID_ARGUMENT`: a function argument or config field is out of range or of the wrong type.
 * - `INVALID_DURATION`: a duration is negative, not finite, or a string such as `"5 minutes"` that could not be parsed.
 * - `INVALID_STATE`: an operation is not allowed in the object's current state (e.g. interrupting a finished process).
 * - `INVALID_YIELD`: a process yielded something that is not a wait.
 * - `INTERRUPTED`: thrown into a process by `process.interrupt(cause)`; `error.cause` is the cause.
 * - `PROCESS_FAILED`: a process threw and nobody was waiting on it to handle the failure.
 * - `CALLBACK_FAILED`: a scheduled callback threw.
 * - `EVENT_FAILED`: an event failed and nobody was waiting on it.
 * - `CONFIG_ERROR`: a scenario parameter or CLI flag is invalid.
 * - `CHECK_FAILED`: a scenario check (documented expectation) did not hold.
 * - `SCENARIO_NOT_FOUND`: no built-in scenario or file by that name.
 * - `RUN_LIMIT`: a run was stopped by an event or wall-clock limit (e.g. the CLI's `--max-events`,
 *   `--max-wall`), usually thrown from a {@link Simulation.watch} check.
 */
export type DsimErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_DURATION'
  | 'INVALID_STATE'
  | 'INVALID_YIELD'
  | 'INTERRUPTED'
  | 'PROCESS_FAILED'
  | 'CALLBACK_FAILED'
  | 'EVENT_FAILED'
  | 'CONFIG_ERROR'
  | 'CHECK_FAILED'
  | 'SCENARIO_NOT_FOUND'
  | 'RUN_LIMIT';

/** Extra context carried by a {@link DsimError}. */
export interface DsimErrorContext {
  /** The underlying error, if this one wraps another. */
  cause?: unknown;
  /** Simulated time (ms) at which the error happened, when it happened inside a run. */
  simTime?: number;
  /** Root seed of the run. */
  seed?: string;
  /** A command line or call that reproduces the run. */
  reproduce?: string;
  /** Structured details (field name, value, allowed range, process name...). */
  details?: Record<string, unknown>;
}

/**
 * The base class of every error dsim throws.
 *
 * @example
 * ```ts
 * try {
 *   sim.timeout(-1);
 * } catch (err) {
 *   if (err instanceof DsimError && err.code === 'INVALID_ARGUMENT') console.error(err.message);
 * }
 * ```
 */
export class DsimError extends Error {
  override readonly name = 'DsimError';
  /** Stable machine-readable code. */
  readonly code: DsimErrorCode;
  /** Simulated time (ms) at which the error happened, if it happened inside a run. */
  simTime: number | undefined;
  /** Root seed of the run, if known. */
  seed: string | undefined;
  /** A line that reproduces the run, if known. */
  reproduce: string | undefined;
  /** Structured details for programmatic handling. */
  readonly details: Record<string, unknown>;

  constructor(code: DsimErrorCode, message: string, context: DsimErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.simTime = context.simTime;
    this.seed = context.seed;
    this.reproduce = context.reproduce;
    this.details = context.details ?? {};
  }

  /** The message followed by the simulated time, seed and reproduce line, when known. */
  describe(): string {
    const lines = [`[dsim ${this.code}] ${this.message}`];
    if (this.simTime !== undefined) lines.push(`  at simulated time ${formatMs(this.simTime)}`);
    if (this.seed !== undefined) lines.push(`  seed: ${this.seed}`);
    if (this.reproduce !== undefined) lines.push(`  reproduce: ${this.reproduce}`);
    return lines.join('\n');
  }
}

function formatMs(ms: number): string {
  return `${Number.isInteger(ms) ? ms : ms.toFixed(3)}ms`;
}

/**
 * True for a {@link DsimError}, also one thrown by another copy of @dsim/core (two installed versions,
 * or a module loaded twice), where `instanceof` would say no.
 *
 * @example
 * ```ts
 * catch (err) { if (isDsimError(err) && err.code === 'CONFIG_ERROR') process.exitCode = 2; }
 * ```
 */
export function isDsimError(error: unknown): error is DsimError {
  if (error instanceof DsimError) return true;
  return (
    error instanceof Error &&
    error.name === 'DsimError' &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { describe?: unknown }).describe === 'function'
  );
}

/**
 * Renders a value for an error message: strings quoted, others via String().
 *
 * @example
 * ```ts
 * showValue('fast'); // '"fast"'
 * showValue(NaN);    // 'NaN'
 * ```
 */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/**
 * Builds the standard "bad argument" error: names the component (when given), the field, shows the
 * value, says what is allowed.
 *
 * @param component - who is being configured, e.g. `Network`; prefixes the message
 * @default component none
 * @example
 * ```ts
 * throw invalidArgument('capacity', 0, 'an integer >= 1');
 * // [dsim INVALID_ARGUMENT] capacity must be an integer >= 1, got 0
 * throw invalidArgument('defaults.loss', 2, 'a probability in [0, 1]', 'Network');
 * // [dsim INVALID_ARGUMENT] Network: defaults.loss must be a probability in [0, 1], got 2
 * ```
 */
export function invalidArgument(
  field: string,
  value: unknown,
  allowed: string,
  component?: string,
): DsimError {
  const prefix = component === undefined ? '' : `${component}: `;
  return new DsimError('INVALID_ARGUMENT', `${prefix}${field} must be ${allowed}, got ${showValue(value)}`, {
    details: component === undefined ? { field, value, allowed } : { component, field, value, allowed },
  });
}

/**
 * Throws unless `value` is a finite number. The error names the component (when given), `field`, the
 * value and what is allowed.
 *
 * @example
 * ```ts
 * assertFinite('rate', rate);
 * ```
 */
export function assertFinite(field: string, value: unknown, component?: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalidArgument(field, value, 'a finite number', component);
}

/**
 * Throws unless `value` is a finite number >= 0. The error names the component (when given), `field`,
 * the value and what is allowed.
 *
 * @example
 * ```ts
 * assertNonNegative('delayMs', delayMs);
 * ```
 */
export function assertNonNegative(
  field: string,
  value: unknown,
  component?: string,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidArgument(field, value, 'a finite number >= 0', component);
  }
}

/**
 * Throws unless `value` is a finite number > 0. The error names the component (when given), `field`,
 * the value and what is allowed.
 *
 * @example
 * ```ts
 * assertPositive('mean', mean);
 * ```
 */
export function assertPositive(field: string, value: unknown, component?: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidArgument(field, value, 'a finite number > 0', component);
  }
}

/**
 * Throws unless `value` is an integer >= `min`. The error names the component (when given), `field`,
 * the value and what is allowed.
 *
 * @example
 * ```ts
 * assertInteger('servers', servers, 1);
 * ```
 */
export function assertInteger(
  field: string,
  value: unknown,
  min: number,
  component?: string,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidArgument(field, value, `an integer >= ${min}`, component);
  }
}

/**
 * Throws unless `value` is a probability in [0, 1]. The error names the component (when given),
 * `field`, the value and what is allowed.
 *
 * @example
 * ```ts
 * assertProbability('loss', loss);
 * ```
 */
export function assertProbability(
  field: string,
  value: unknown,
  component?: string,
): asserts value is number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw invalidArgument(field, value, 'a probability in [0, 1]', component);
  }
}

/**
 * Throws unless `value` is `true` or `false`. The error names the component (when given), `field`, the
 * value and what is allowed.
 *
 * @example
 * ```ts
 * assertBoolean('preemptive', options.preemptive, 'Resource');
 * ```
 */
export function assertBoolean(field: string, value: unknown, component?: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgument(field, value, 'true or false', component);
}
