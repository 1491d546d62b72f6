import { describe, expect, it } from 'vitest';
import { storm } from '../storm.js';

describe('example: custom retry storm', () => {
  it.each([1, 2])('seed %i: stuck after the pause unless servers shed (LIFO, drop expired)', (seed) => {
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const naive = storm(seed, false);
    const dropping = storm(seed, true);
    expect(mean(naive.slice(5, 20))).toBeGreaterThan(95); // healthy before: about 110/s
    expect(mean(naive.slice(40, 59))).toBeLessThan(20); // metastable after the trigger is gone
    expect(mean(dropping.slice(40, 59))).toBeGreaterThan(95); // recovered
  });
});
