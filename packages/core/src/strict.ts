import { checkOptions } from './options.js';

/**
 * The per-call form of {@link checkOptions}, for options passed on every call (a send, a request, a
 * schedule): allocates nothing while every key is known, and defers to `checkOptions` for the error
 * (with its "did you mean") at the first unknown key or a non-object. For components whose methods
 * take options on the hot path.
 *
 * @example
 * ```ts
 * checkCallOptions('NetNode.send', options, SEND_KEYS);
 * ```
 */
export function checkCallOptions(
  component: string,
  options: unknown,
  known: readonly string[],
  path = '',
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    checkOptions(component, options, known, path);
    return;
  }
  for (const key in options) if (!known.includes(key)) checkOptions(component, options, known, path);
}
