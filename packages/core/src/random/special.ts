/**
 * Special functions the distributions need: the standard normal quantile and the log-gamma function.
 * Internal to the random module; exported for its tests.
 */

const HALF_LOG_TWO_PI = 0.9189385332046728;

// Lanczos approximation, g = 7, 9 terms: about 15 correct digits for x > 0.
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
  12.507343278686905, -0.13857109526572012, 0.000009984369578019572, 1.5056327351493116e-7,
] as const;

/**
 * The natural log of the gamma function, for x > 0 (about 15 significant digits; absolute error near
 * 1e-15 around its zeros at 1 and 2).
 *
 * @example
 * ```ts
 * logGamma(5); // ln(4!) = 3.1780538303479458
 * ```
 */
export function logGamma(x: number): number {
  // Reflection keeps the series in its accurate range.
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < 9; i++) sum += (LANCZOS[i] as number) / (z + i);
  const t = z + 7.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

// AS 241 rational approximations, coefficients from the constant term up.
const CENTRAL_NUM = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
] as const;
const CENTRAL_DEN = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852854,
] as const;
const NEAR_NUM = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
] as const;
const NEAR_DEN = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-9,
] as const;
const FAR_NUM = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 0.000027115555687434876, 2.0103343992922881e-7,
] as const;
const FAR_DEN = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  0.000018463183175100548, 1.421511758316446e-7, 2.0442631033899397e-15,
] as const;

/** Evaluates a degree-7 polynomial (coefficients from the constant term up) by Horner's rule. */
function poly7(c: readonly number[], x: number): number {
  let y = c[7] as number;
  for (let i = 6; i >= 0; i--) y = y * x + (c[i] as number);
  return y;
}

/**
 * The standard normal quantile (inverse CDF) for p in (0, 1), by Wichura's algorithm AS 241 (PPND16,
 * about 16 significant digits). Returns -Infinity at 0 and Infinity at 1.
 *
 * @example
 * ```ts
 * normalQuantile(0.975); // 1.959963984540054
 * ```
 */
export function normalQuantile(p: number): number {
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly7(CENTRAL_NUM, r)) / poly7(CENTRAL_DEN, r);
  }
  const tail = q < 0 ? p : 1 - p;
  if (tail <= 0) return q < 0 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  const r = Math.sqrt(-Math.log(tail));
  const z =
    r <= 5
      ? poly7(NEAR_NUM, r - 1.6) / poly7(NEAR_DEN, r - 1.6)
      : poly7(FAR_NUM, r - 5) / poly7(FAR_DEN, r - 5);
  return q < 0 ? -z : z;
}
