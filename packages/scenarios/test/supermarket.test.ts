import { describe, expect, it } from 'vitest';
import { supermarketMeanTime } from '../src/index.js';

describe('supermarket model (Mitzenmacher 2001)', () => {
  // Values of T_d(λ) = Σ λ^((d^i − d)/(d − 1)), tabulated to 4 decimals.
  it.each([
    [0.5, 2, 1.2657],
    [0.5, 3, 1.1252],
    [0.7, 2, 1.6145],
    [0.8, 2, 1.9474],
    [0.9, 2, 2.6141],
    [0.9, 3, 2.0279],
    [0.9, 4, 1.7778],
    [0.99, 2, 5.432],
  ])('T_%s with d = %s is %s', (lambda, d, expected) => {
    expect(supermarketMeanTime(lambda, d)).toBeCloseTo(expected, 3);
  });

  it('d = 1 is M/M/1, and more choices never hurt', () => {
    expect(supermarketMeanTime(0.9, 1)).toBeCloseTo(10, 10);
    for (const lambda of [0.3, 0.6, 0.95])
      for (let d = 1; d < 5; d++)
        expect(supermarketMeanTime(lambda, d + 1)).toBeLessThan(supermarketMeanTime(lambda, d));
  });

  it('rejects loads outside (0, 1) and non-integer choices', () => {
    expect(() => supermarketMeanTime(1, 2)).toThrow(/lambda must be in \(0, 1\), got 1/);
    expect(() => supermarketMeanTime(0.5, 1.5)).toThrow(/d must be an integer >= 1, got 1.5/);
  });
});
