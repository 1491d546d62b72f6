import { expect } from 'vitest';
import { DsimError } from '../../src/errors.js';

/** Runs `fn`, which must throw a DsimError; returns it. */
export function thrown(fn: () => unknown): DsimError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DsimError);
    return err as DsimError;
  }
  throw new Error('expected the call to throw');
}
