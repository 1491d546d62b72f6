import { afterEach, beforeEach } from 'vitest';

// Library code must draw randomness from seeded streams and time from the simulation. During every
// core and components test, the unseeded sources throw, so a stray call fails the test that made it.
const realRandom = Math.random;
const realDateNow = Date.now;

function forbidden(what: string, instead: string): () => never {
  return () => {
    throw new Error(`determinism guard: ${what} was called during a test; library code must use ${instead}`);
  };
}

beforeEach(() => {
  Math.random = forbidden('Math.random()', 'sim.rng(name)');
  Date.now = forbidden('Date.now()', 'sim.now');
});

afterEach(() => {
  Math.random = realRandom;
  Date.now = realDateNow;
});
