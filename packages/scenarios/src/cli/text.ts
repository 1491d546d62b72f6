/**
 * Quotes one word for a POSIX shell when it needs it: `retry-storm` stays bare, `a b` becomes `'a b'`,
 * and a single quote inside is written `'\''`.
 *
 * @example
 * ```ts
 * shellQuote('outageMs=1000'); // 'outageMs=1000'
 * shellQuote("it's");          // "'it'\\''s'"
 * ```
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * Makes a user-supplied string safe to print on a terminal: control characters (escape sequences,
 * carriage returns, bells) are shown as `\xNN` escapes instead of acting on the terminal. Newlines and
 * tabs are kept only where `keepNewlines` says so.
 *
 * @example
 * ```ts
 * printable('red\u001b[31m'); // 'red\\x1b[31m'
 * ```
 */
export function printable(text: string, keepNewlines = false): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    keepNewlines && (c === '\n' || c === '\t') ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
