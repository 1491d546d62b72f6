import { fileURLToPath } from 'node:url';
import { isDsimError } from '@dsim/core';
import { ScenarioLoadError } from './load-scenario.js';
import { OutputPathError } from './output-file.js';
import { printable } from './text.js';

/** A command-line mistake: exit 2 with a message naming the flag. */
export class UsageError extends Error {}

/** Error codes that mean the input was wrong (exit 2), not that the model failed. */
const CONFIG_CODES = new Set(['CONFIG_ERROR', 'SCENARIO_NOT_FOUND', 'INVALID_ARGUMENT', 'INVALID_DURATION']);

/**
 * The exit code for an error: 2 for usage and configuration errors (flags, parameters, component
 * options, output paths), 3 for errors the scenario or model raised (user code that threw, a failed
 * process, a run limit), 1 is left for failed checks.
 *
 * @example
 * ```ts
 * exitCodeFor(new UsageError('--seed must not be empty')); // 2
 * ```
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof OutputPathError) return 2;
  if (error instanceof ScenarioLoadError) return isConfig(error.cause) ? 2 : 3;
  return isConfig(error) ? 2 : 3;
}

/** A configuration error, itself or as the cause of a failed process or callback. */
function isConfig(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; depth++) {
    if (isDsimError(e)) {
      if (CONFIG_CODES.has(e.code)) return true;
      e = e.cause;
    } else return false;
  }
  return false;
}

/** What the failing run was, when it got that far. */
export interface FailureContext {
  debug: boolean;
  seed: string | undefined;
  reproduce: string | undefined;
}

/**
 * The message for a failed command: one line saying what happened (and where, for user code), one with
 * the seed and the reproduce line when a run had started. Stacks only with `--debug` or `DSIM_DEBUG=1`.
 *
 * @example
 * ```ts
 * io.stderr(describeFailure(error, { debug: false, seed: '1', reproduce: 'dsim run mmc --seed 1' }));
 * ```
 */
export function describeFailure(error: unknown, context: FailureContext): string {
  const lines: string[] = [];
  if (error instanceof UsageError || error instanceof OutputPathError) {
    lines.push(`dsim: ${oneLine(error.message)}`);
    lines.push("  run 'dsim help' for usage");
    return `${lines.join('\n')}\n${context.debug ? stackOf(error) : ''}`;
  }
  const root = error instanceof ScenarioLoadError ? error.cause : error;
  const where = userLocation(root);
  if (error instanceof ScenarioLoadError) {
    lines.push(
      `dsim: could not load ${error.file}: ${oneLine(messageOf(root))}${where === undefined ? '' : ` (at ${where})`}`,
    );
  } else if (isDsimError(error)) {
    const at = error.simTime === undefined ? '' : ` at simulated time ${formatMs(error.simTime)}`;
    const cause = error.cause === undefined ? '' : `: ${oneLine(messageOf(error.cause))}`;
    const message = error.message.includes(messageOf(error.cause))
      ? error.message
      : `${error.message}${cause}`;
    lines.push(
      `dsim: [${error.code}] ${oneLine(message)}${at}${where === undefined ? '' : ` (at ${where})`}`,
    );
  } else {
    lines.push(
      `dsim: the scenario threw ${oneLine(messageOf(error))}${where === undefined ? '' : ` (at ${where})`}`,
    );
  }
  const seed = (isDsimError(error) ? error.seed : undefined) ?? context.seed;
  const reproduce = (isDsimError(error) ? error.reproduce : undefined) ?? context.reproduce;
  if (seed !== undefined || reproduce !== undefined) {
    const parts = [];
    if (seed !== undefined) parts.push(`seed ${printable(seed)}`);
    if (reproduce !== undefined) parts.push(`reproduce: ${printable(reproduce)}`);
    const hint = !context.debug && exitCodeFor(error) === 3 ? ' (add --debug for the stack)' : '';
    lines.push(`  ${parts.join('; ')}${hint}`);
  } else if (!context.debug && exitCodeFor(error) === 3) {
    lines.push('  rerun with --debug for the stack');
  }
  return `${lines.join('\n')}\n${context.debug ? stackOf(error) : ''}`;
}

function messageOf(error: unknown): string {
  if (error instanceof Error)
    return error.name === 'Error' || error.name === 'DsimError'
      ? error.message
      : `${error.name}: ${error.message}`;
  return String(error);
}

/** Newlines folded, control characters escaped: one printable line. */
function oneLine(text: string): string {
  return printable(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .join(' '),
  );
}

function formatMs(ms: number): string {
  return `${Number.isInteger(ms) ? ms : ms.toFixed(3)} ms`;
}

function stackOf(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; depth++) {
    parts.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
    e = e instanceof Error ? e.cause : undefined;
    if (e !== undefined) parts.push('caused by:');
  }
  return `${parts.join('\n')}\n`;
}

const OWN = /[\\/](packages[\\/](core|components|scenarios)[\\/](src|dist)|node_modules)[\\/]/;

/**
 * The first stack frame in the user's own code (not node internals, not dsim, not node_modules), as
 * `file:line:column`, from the error or its causes. Esbuild syntax errors carry it in the message.
 */
function userLocation(error: unknown): string | undefined {
  // The deepest cause first: a failed process's own error was thrown where the user's code broke; the
  // wrapping error was made later, inside sim.run().
  const chain: Error[] = [];
  for (let e: unknown = error; e instanceof Error && chain.length < 5; e = e.cause) chain.push(e);
  for (const e of chain.reverse()) {
    const syntax = /(\S+\.[cm]?[jt]sx?:\d+:\d+): ERROR:/.exec(e.message)?.[1];
    if (syntax !== undefined) return syntax;
    for (const line of (e.stack ?? '').split('\n').slice(1)) {
      // "    at fn (LOCATION)" or "    at LOCATION", LOCATION being "path:line:column"
      const frame = /^\s*at (?:.*\()?(.+?):(\d+):(\d+)\)?\s*$/.exec(line);
      if (frame === null) continue;
      const where = frame[1]!;
      if (!where.startsWith('file://') && !where.startsWith('/') && !/^[A-Za-z]:\\/.test(where)) continue;
      const file = where.startsWith('file://') ? fileURLToPath(where) : where;
      if (OWN.test(file)) continue;
      return `${file}:${frame[2]}:${frame[3]}`;
    }
  }
  return undefined;
}
