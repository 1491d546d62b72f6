import { type Duration, toMs } from '../duration.js';
import { assertProbability, invalidArgument } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
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
   * One-way delay: a distribution (ms) or a fixed duration. Reordering follows from its variance. The
   * distribution must not sample negative values (a message cannot arrive before it was sent): a
   * negative or NaN sample stops the run with an error; bound a normal with
   * `truncate(normal({ mean: 1, sd: 0.5 }), { min: 0 })`, or use lognormal or gamma.
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

/** The known keys of {@link LinkOptions}. @internal */
export const LINK_KEYS = optionKeys<LinkOptions>()({
  latency: true,
  loss: true,
  duplicate: true,
  bandwidth: true,
});

/**
 * Validates `options` (unknown keys included) and merges them over `base`. Errors name `component` and
 * the field under `path` (`defaults.loss`, `faults[0].fault.options.latency`). @internal
 */
export function resolveLink(
  base: LinkConfig,
  options: LinkOptions,
  component: string,
  path = '',
): LinkConfig {
  if (options === undefined) {
    throw invalidArgument(
      path === '' ? 'options' : path,
      options,
      `an object with the fields ${LINK_KEYS.join(', ')}`,
      component,
    );
  }
  checkOptions(component, options, LINK_KEYS, path);
  const field = (key: string): string => (path === '' ? key : `${path}.${key}`);
  const out: LinkConfig = { ...base };
  if (options.latency !== undefined) {
    out.latency = toDistribution(options.latency, field('latency'), component);
  }
  if (options.loss !== undefined) {
    assertProbability(field('loss'), options.loss, component);
    out.loss = options.loss;
  }
  if (options.duplicate !== undefined) {
    assertProbability(field('duplicate'), options.duplicate, component);
    out.duplicate = options.duplicate;
  }
  if (options.bandwidth !== undefined) {
    if (typeof options.bandwidth !== 'number' || !(options.bandwidth > 0)) {
      throw invalidArgument(
        field('bandwidth'),
        options.bandwidth,
        'a number of bytes per second > 0, or Infinity',
        component,
      );
    }
    out.bandwidth = options.bandwidth;
  }
  return out;
}

function toDistribution(latency: Distribution | Duration, field: string, component: string): Distribution {
  if (
    typeof latency === 'object' &&
    latency !== null &&
    typeof (latency as Distribution).sample === 'function'
  ) {
    const dist = latency as Distribution;
    // A negative constant is known now; other distributions are checked per sample.
    if (dist.kind === 'constant' && typeof dist.mean === 'number' && dist.mean < 0) {
      throw invalidArgument(field, dist.describe(), 'a non-negative latency distribution', component);
    }
    return dist;
  }
  if (typeof latency === 'number' || typeof latency === 'string') {
    return constant(toMs(latency, `${component}: ${field}`));
  }
  throw invalidArgument(
    field,
    latency,
    'a distribution (e.g. exponential({ mean: 2 })) or a duration such as 2 or "2ms"',
    component,
  );
}
