import { describe, expect, it } from 'vitest';
import { logGamma, normalQuantile } from '../src/random/special.js';

describe('special functions', () => {
  it('normalQuantile matches known values in the centre and both tails', () => {
    // Expected values, checked independently: Φ(z) via erfc, and the asymptotic tail series at 1e-300.
    const cases: [number, number][] = [
      [0.5, 0],
      [0.6, 0.2533471031357997],
      [0.975, 1.959963984540054],
      [0.001, -3.090232306167814],
      [1e-10, -6.361340902404056],
      [1e-300, -37.04709629936],
    ];
    for (const [p, z] of cases) expect(normalQuantile(p)).toBeCloseTo(z, z < -30 ? 9 : 13);
    expect(normalQuantile(0.3)).toBeCloseTo(-normalQuantile(0.7), 15);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
  });

  it('logGamma matches log factorials and Γ(1/2) = √π', () => {
    let logFactorial = 0;
    for (let k = 1; k <= 170; k++) {
      logFactorial += Math.log(k);
      expect(Math.abs(logGamma(k + 1) - logFactorial)).toBeLessThanOrEqual(1e-13 * Math.max(1, logFactorial));
    }
    expect(Math.exp(logGamma(0.5))).toBeCloseTo(Math.sqrt(Math.PI), 14);
    expect(Math.exp(logGamma(0.1))).toBeCloseTo(9.513507698668732, 12);
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(2)).toBeCloseTo(0, 14);
  });
});
