import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { SystemDescription } from './schema.js';
import { SystemError, validateSystem } from './validate.js';

/**
 * Parses a system from YAML or JSON text (JSON is YAML) and validates it; a syntax error is a
 * {@link SystemError} at the root, a defect names its path.
 *
 * @example
 * ```ts
 * const system = parseSystem('nodes:\n  db: { kind: database }\n');
 * ```
 */
export function parseSystem(text: string): SystemDescription {
  let data: unknown;
  try {
    data = parse(text, { uniqueKeys: true });
  } catch (e) {
    throw new SystemError([{ path: '', message: `not valid YAML/JSON: ${(e as Error).message}` }]);
  }
  return validateSystem(data);
}

/**
 * Reads and validates a system file (`.yaml`, `.yml` or `.json`).
 *
 * @example
 * ```ts
 * const system = loadSystem('examples/three-tier.yaml');
 * ```
 */
export function loadSystem(path: string | URL): SystemDescription {
  return parseSystem(readFileSync(path, 'utf8'));
}
