import {
  constant,
  type Distribution,
  erlang,
  exponential,
  gamma,
  LATENCY_NUMBERS,
  latencyPreset,
  lognormalFromMean,
  normal,
  pareto,
  toMs,
  truncate,
  uniform,
  weibull,
} from '@dsim/core';
import { z } from 'zod';

/**
 * A duration as data: milliseconds (a number >= 0) or a string with a unit (`'250ms'`, `'2s'`, `'1m'`).
 *
 * @example
 * ```ts
 * const timeout: DurationData = '1s';
 * ```
 */
export const durationSchema = z.union([
  z.number().min(0, { error: 'must be a duration >= 0 (ms)' }),
  z.string().refine(isDuration, { error: "must be a duration such as 250, '250ms', '2s' or '1m'" }),
]);

/** A duration as data: ms, or a string with a unit. */
export type DurationData = z.infer<typeof durationSchema>;

function isDuration(s: string): boolean {
  try {
    return toMs(s) >= 0;
  } catch {
    return false;
  }
}

const positive = z.number().positive();
const nonNegative = z.number().min(0);

/** Names of core's latency presets (LINK_LATENCY and OPERATION_LATENCY), in the table's order. */
const PRESET_NAMES = LATENCY_NUMBERS.map((r) => r.preset) as [string, ...string[]];

/**
 * A distribution as data, in ms: a number or a duration string (a constant), or an object with exactly
 * one key naming the distribution: `{ exponential: { mean: 5 } }`, `{ uniform: { min, max } }`,
 * `{ normal: { mean, sd } }` (truncated at 0), `{ lognormal: { mean, cv } }`, `{ gamma: { shape, scale } }`,
 * `{ erlang: { k, mean } }`, `{ pareto: { scale, shape } }`, `{ weibull: { scale, shape } }`,
 * `{ constant: 5 }`, or `{ preset: 'crossZone' }`: one of core's latency presets, a one-way link delay
 * whose round trip has the classic table's median and p99 (`sameHost`, `sameRack`, `sameZone`,
 * `crossZone`, `crossRegionUs`, `intercontinental`) or an operation's time (`nvmeRandomRead4k`,
 * `ssdRandomRead4k`, `read1MbSsd`, `diskSeek`, `read1MbDisk`, ...; see core's `LATENCY_NUMBERS`).
 *
 * @example
 * ```ts
 * const serviceTime: DistributionData = { exponential: { mean: 5 } };
 * ```
 */
export const distributionSchema = z.union([
  durationSchema,
  z
    .strictObject({
      constant: nonNegative.optional(),
      exponential: z.strictObject({ mean: positive }).optional(),
      uniform: z.strictObject({ min: nonNegative, max: nonNegative }).optional(),
      normal: z.strictObject({ mean: z.number(), sd: nonNegative }).optional(),
      lognormal: z.strictObject({ mean: positive, cv: positive }).optional(),
      gamma: z.strictObject({ shape: positive, scale: positive }).optional(),
      erlang: z.strictObject({ k: z.int().min(1), mean: positive }).optional(),
      pareto: z.strictObject({ scale: positive, shape: positive }).optional(),
      weibull: z.strictObject({ scale: positive, shape: positive }).optional(),
      preset: z.enum(PRESET_NAMES).optional(),
    })
    .refine((o) => Object.keys(o).length === 1, {
      error: 'must name exactly one distribution, e.g. { exponential: { mean: 5 } }',
    }),
]);

/** A distribution as data; see {@link distributionSchema}. */
export type DistributionData = z.infer<typeof distributionSchema>;

/**
 * Builds the core distribution a {@link DistributionData} describes (ms).
 *
 * @example
 * ```ts
 * toDistribution({ exponential: { mean: 5 } }).describe(); // "exponential(mean=5)"
 * ```
 */
export function toDistribution(d: DistributionData): Distribution {
  if (typeof d === 'number' || typeof d === 'string') return constant(toMs(d));
  if (d.constant !== undefined) return constant(d.constant);
  if (d.exponential) return exponential(d.exponential);
  if (d.uniform) return uniform(d.uniform);
  if (d.normal) return truncate(normal(d.normal), { min: 0 });
  if (d.lognormal) return lognormalFromMean(d.lognormal.mean, d.lognormal.cv);
  if (d.gamma) return gamma(d.gamma);
  if (d.erlang) return erlang(d.erlang);
  if (d.pareto) return pareto(d.pareto);
  if (d.weibull) return weibull(d.weibull);
  if (d.preset) return latencyPreset(d.preset as Parameters<typeof latencyPreset>[0]);
  throw new Error('unreachable: a validated distribution names one kind');
}

/** A {@link DurationData} in ms. */
export function durationMs(d: DurationData): number {
  return toMs(d);
}

/**
 * Whether a duration lies in [min, max] ms (`(min, max]` with `minExclusive`). True when it is no
 * duration at all: `durationSchema` reports that, and a refinement on top must not report it twice.
 *
 * @example
 * ```ts
 * durationSchema.refine((d) => durationWithin(d, 1000, 60_000), { error: 'must be from 1 s to 60 s' });
 * ```
 */
export function durationWithin(d: unknown, min: number, max: number, minExclusive = false): boolean {
  let ms: number;
  try {
    ms = durationMs(d as DurationData);
  } catch {
    return true;
  }
  return (minExclusive ? ms > min : ms >= min) && ms <= max;
}
