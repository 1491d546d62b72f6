/**
 * The one-line message the repository's scripts (the bench, tools/instr-profile.ts,
 * tools/profile-summary.ts) print when `node:util`'s `parseArgs` rejects their flags: node's own
 * message on one line, a "did you mean" for a flag that does not exist (not for a known flag given a
 * bad argument, where node's hint, `--per=-XYZ`, is the help), and the flags there are.
 *
 * @example
 * ```ts
 * try { parseArgs({ options }); } catch (error) { fail(flagError(error, Object.keys(options))); }
 * // Unknown option '--onyl' (did you mean --only?); flags: --json, --only, --repeat, --no-simpy
 * ```
 */
import { didYouMean } from '@dsim/core';

export function flagError(error: unknown, flags: readonly string[]): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  const unknown = /^Unknown option '--?([^'=]+)'/.exec(message)?.[1];
  const near = unknown === undefined ? undefined : didYouMean(unknown, flags);
  const hint = near === undefined ? '' : ` (did you mean --${near}?)`;
  return `${message}${hint}; flags: ${flags.map((k) => `--${k}`).join(', ')}`;
}
