import { type Duration, toMs } from '../duration.js';
import { assertProbability, invalidArgument } from '../errors.js';
import { constant } from '../random/continuous.js';
import type { Distribution } from '../random/distribution.js';

/**
 * Properties of a one-way link between two nodes. Every field is optional; missing fields come from
 * the network's defaults, whose own defaults are listed here.
 *
 * @example
 * ```ts
 * const net = new Network(sim, { defaults: { latency: lognormalFromMean(0.5, 0.3), loss: 0.001 } });
 * net.setLink('a', 'b', { bandwidth: 125_000_000 }); // 1 Gbit/s
 * ```
 */
export interface LinkOptions {
  /**
   * One-way delay: a distribution (ms) or a fixed duration. Reordering follows from its variance.
   * @default 0 (instant delivery; set a distribution for realistic networks)
   */
  latency?: Distribution | Duration;
  /**
   * Probability that a message is lost.
   * @default 0
   */
  loss?: number;
  /**
   * Probability that a message is delivered twice (the copy gets its own latency draw).
   * @default 0
   */
  duplicate?: number;
  /**
   * Bandwidth in bytes per second: a message of `size` bytes occupies the link for size / bandwidth
   * seconds before it travels, and messages queue behind each other (FIFO serialization).
   * @default Infinity (no serialization delay)
   */
  bandwidth?: number;
}

/** A fully resolved link configuration. @internal */
export interface LinkConfig {
  latency: Distribution;
  loss: number;
  duplicate: number;
  bandwidth: number;
}

const ZERO = constant(0);

/** The built-in link defaults: instant, lossless, no duplication, unlimited bandwidth. */
export const DEFAULT_LINK: Readonly<LinkConfig> = Object.freeze({
  latency: ZERO,
  loss: 0,
  duplicate: 0,
  bandwidth: Infinity,
});

/** Validates `options` and merges them over `base`. @internal */
export function resolveLink(base: LinkConfig, options: LinkOptions, where: string): LinkConfig {
  const out: LinkConfig = { ...base };
  if (options.latency !== undefined) out.latency = toDistribution(options.latency, `${where}.latency`);
  if (options.loss !== undefined) {
    assertProbability(`${where}.loss`, options.loss);
    out.loss = options.loss;
  }
  if (options.duplicate !== undefined) {
    assertProbability(`${where}.duplicate`, options.duplicate);
    out.duplicate = options.duplicate;
  }
  if (options.bandwidth !== undefined) {
    if (typeof options.bandwidth !== 'number' || !(options.bandwidth > 0)) {
      throw invalidArgument(
        `${where}.bandwidth`,
        options.bandwidth,
        'a number of bytes per second > 0, or Infinity',
      );
    }
    out.bandwidth = options.bandwidth;
  }
  return out;
}

function toDistribution(latency: Distribution | Duration, field: string): Distribution {
  if (
    typeof latency === 'object' &&
    latency !== null &&
    typeof (latency as Distribution).sample === 'function'
  ) {
    return latency as Distribution;
  }
  if (typeof latency === 'number' || typeof latency === 'string') return constant(toMs(latency, field));
  throw invalidArgument(
    field,
    latency,
    'a distribution (e.g. exponential({ mean: 2 })) or a duration such as 2 or "2ms"',
  );
}
