import { SystemError, validateSystem } from '../../src/system/validate.js';

/** The issues of an invalid description, as `path: message` lines; none for a valid one. */
export function issuesOf(system: unknown): string[] {
  try {
    validateSystem(system);
  } catch (e) {
    if (e instanceof SystemError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

/** The SystemError message of an invalid description, or `valid`. */
export function systemErrorText(system: unknown): string {
  try {
    validateSystem(system);
  } catch (e) {
    if (e instanceof SystemError) return e.message;
    throw e;
  }
  return 'valid';
}
