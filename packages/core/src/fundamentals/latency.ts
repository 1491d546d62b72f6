import { DsimError, invalidArgument } from '../errors.js';
import { didYouMean } from '../options.js';
import { constant, lognormal } from '../random/continuous.js';
import type { Distribution } from '../random/distribution.js';
import { normalQuantile } from '../random/special.js';
import type { RandomStream } from '../random/stream.js';

/**
 * The classic latency numbers as presets: named distributions (ms) to put on links and services, each
 * with where its number comes from. The numbers are order-of-magnitude guides quoted from talks and
 * widely copied lists, not measurements of your hardware: Jeff Dean's "Numbers Everyone Should Know"
 * slide (LADIS 2009 keynote, "Designs, Lessons and Advice from Building Large Distributed Systems"), the
 * 2012 community version of the table that added SSD lines (Jonas Bonér's "Latency Numbers Every
 * Programmer Should Know"), and later sources for what the table lacks (same host, same rack, across
 * zones and regions, NVMe). The published figure is taken as the median; where a source gives a tail
 * the p99 comes from it, otherwise the spread is an assumption stated in `source`.
 */

/** z such that P(N(0, 1) <= z) = 0.99. */
const Z99 = normalQuantile(0.99);

/** Parameters of {@link lognormalFromPercentiles}. */
export interface LognormalPercentiles {
  /** The median, a finite number > 0. */
  readonly median: number;
  /** The 99th percentile, a finite number >= median (equal gives a constant). */
  readonly p99: number;
}

class NamedLognormal implements Distribution {
  readonly kind = 'lognormal';
  readonly mean: number;
  readonly variance: number | undefined;
  constructor(
    private readonly inner: Distribution,
    private readonly label: string,
  ) {
    this.mean = inner.mean as number;
    this.variance = inner.variance;
  }
  sample(rng: RandomStream): number {
    return this.inner.sample(rng);
  }
  describe(): string {
    return this.label;
  }
}

/**
 * A log-normal distribution given by its median and 99th percentile, the two numbers latency
 * measurements usually report: `ln X ~ normal(ln median, ln(p99 / median) / z₀.₉₉)`, z₀.₉₉ = 2.3263.
 * Its mean is median · e^(σ²/2), a little above the median.
 *
 * @example
 * ```ts
 * const rtt = lognormalFromPercentiles({ median: 0.5, p99: 1.5 }); // ms
 * rtt.describe(); // "lognormal(median=0.5, p99=1.5)"
 * ```
 */
export function lognormalFromPercentiles(params: LognormalPercentiles): Distribution {
  const C = 'lognormalFromPercentiles';
  if (params === null || typeof params !== 'object')
    throw invalidArgument('params', params, 'an object { median, p99 }', C);
  const { median, p99 } = params;
  if (typeof median !== 'number' || !Number.isFinite(median) || !(median > 0))
    throw invalidArgument('median', median, 'a finite number > 0', C);
  if (typeof p99 !== 'number' || !Number.isFinite(p99) || !(p99 >= median))
    throw invalidArgument('p99', p99, `a finite number >= median (${median})`, C);
  const inner = lognormal({ mu: Math.log(median), sigma: Math.log(p99 / median) / Z99 });
  return new NamedLognormal(inner, `lognormal(median=${median}, p99=${p99})`);
}

/** One row of {@link LATENCY_NUMBERS}. Times in ms. */
export interface LatencyNumber {
  /** The preset's key in {@link LINK_LATENCY} (round trips) or {@link OPERATION_LATENCY} (operations). */
  readonly preset: string;
  /** What is timed, as the source words it. */
  readonly operation: string;
  /**
   * `round-trip`: a network round trip, whose link preset is the one-way delay (two draws of it, there
   * and back, make this round trip); `operation`: one step, whose preset is its time.
   */
  readonly kind: 'round-trip' | 'operation';
  /** The published figure, taken as the median, ms. */
  readonly median: number;
  /** The 99th percentile, ms: from the source when it gives one, else the stated assumption. */
  readonly p99: number;
  /** Where the number comes from, and where its spread comes from. */
  readonly source: string;
}

const DEAN_2009 = 'Dean, "Numbers Everyone Should Know", LADIS 2009';
const TABLE_2012 = 'the 2012 community table ("Latency Numbers Every Programmer Should Know")';
const RUMBLE_2011 = 'Rumble et al., "It\'s Time for Low Latency", HotOS 2011 (Table 1)';
const INTRA_DC_SPREAD = 'p99 = 3 × median is an assumption (queueing in hosts and switches)';
const WAN_SPREAD = 'p99 = 1.1 × median is an assumption (propagation dominates)';

/**
 * The numbers behind every preset, in increasing order: what each times, its median (the published
 * figure) and p99, and the source. A plain table to print or compare with your own measurements.
 *
 * @example
 * ```ts
 * for (const row of LATENCY_NUMBERS) console.log(row.operation, row.median, 'ms');
 * ```
 */
export const LATENCY_NUMBERS: readonly LatencyNumber[] = Object.freeze(
  [
    row('l1CacheReference', 'L1 cache reference', 'operation', 0.5e-6, 0.5e-6, DEAN_2009),
    row('branchMispredict', 'Branch mispredict', 'operation', 5e-6, 5e-6, DEAN_2009),
    row('l2CacheReference', 'L2 cache reference', 'operation', 7e-6, 7e-6, DEAN_2009),
    row(
      'mutexLockUnlock',
      'Mutex lock/unlock',
      'operation',
      25e-6,
      25e-6,
      `${DEAN_2009} (100 ns in earlier versions of the slide)`,
    ),
    row('mainMemoryReference', 'Main memory reference', 'operation', 100e-6, 100e-6, DEAN_2009),
    row(
      'compress1kZippy',
      'Compress 1 KB with Zippy (Snappy)',
      'operation',
      0.003,
      0.003,
      `${DEAN_2009} (10 µs in earlier versions)`,
    ),
    row(
      'send2kOver1Gbps',
      'Send 2 KB over a 1 Gbit/s network',
      'operation',
      0.02,
      0.02,
      `${DEAN_2009}: serialisation only; on a link, set its bandwidth instead`,
    ),
    row(
      'sameHost',
      'Round trip on the same host (loopback)',
      'round-trip',
      0.06,
      0.18,
      `${RUMBLE_2011}: 15 µs per pass through the OS network stack, four passes a round trip (2011 kernels); ${INTRA_DC_SPREAD}`,
    ),
    row(
      'nvmeRandomRead4k',
      'Read 4 KB at random from a flash NVMe SSD',
      'operation',
      0.076,
      0.096,
      'AnandTech, Intel Optane SSD DC P4800X review (2017): Intel SSD DC P3700 at queue depth 1, median 76 µs, p99 96 µs (Optane: 9 µs)',
    ),
    row(
      'sameRack',
      'Round trip within a rack (one switch)',
      'round-trip',
      0.1,
      0.3,
      `between the loopback and the datacenter figure, from ${RUMBLE_2011}: one switch (10-30 µs a pass) instead of five, NICs and OS stacks; ${INTRA_DC_SPREAD}`,
    ),
    row(
      'ssdRandomRead4k',
      'Read 4 KB at random from an SSD (SATA era)',
      'operation',
      0.15,
      0.19,
      `${TABLE_2012}; p99 = 1.25 × median, the ratio measured on NVMe (see nvmeRandomRead4k)`,
    ),
    row('read1MbMemory', 'Read 1 MB sequentially from memory', 'operation', 0.25, 0.25, DEAN_2009),
    row(
      'sameZone',
      'Round trip within the same datacenter (zone)',
      'round-trip',
      0.5,
      1.5,
      `${DEAN_2009}; ${RUMBLE_2011} put it at 200-500 µs; ${INTRA_DC_SPREAD}`,
    ),
    row(
      'read1MbSsd',
      'Read 1 MB sequentially from an SSD',
      'operation',
      1,
      1,
      `${TABLE_2012}, assuming about 1 GB/s`,
    ),
    row(
      'crossZone',
      'Round trip between availability zones of a region',
      'round-trip',
      1,
      2,
      'James Hamilton (AWS), re:Invent 2014 SPOT301: zones "<2 ms apart, usually <1 ms"; AWS Fault Isolation Boundaries whitepaper: "single-digit millisecond latency" between zones',
    ),
    row(
      'diskSeek',
      'Disk seek',
      'operation',
      10,
      20,
      `${DEAN_2009}; p99 = 2 × median is an assumption (a long seek plus a full turn of a 7200 rpm platter, 8.3 ms)`,
    ),
    row(
      'read1MbDisk',
      'Read 1 MB sequentially from disk',
      'operation',
      20,
      20,
      `${DEAN_2009} (30 ms in earlier versions)`,
    ),
    row(
      'crossRegionUs',
      'Round trip between US East and US West regions',
      'round-trip',
      70,
      77,
      `the figure usually quoted (Virginia to Oregon measures about 60-70 ms; light in fibre, about 200 km/ms, needs 40 ms over the 4 000 km); ${WAN_SPREAD}`,
    ),
    row(
      'intercontinental',
      'Send a packet California → Netherlands → California',
      'round-trip',
      150,
      165,
      `${DEAN_2009}; ${WAN_SPREAD}`,
    ),
  ].sort((a, b) => a.median - b.median),
);

function row(
  preset: string,
  operation: string,
  kind: LatencyNumber['kind'],
  median: number,
  p99: number,
  source: string,
): LatencyNumber {
  return Object.freeze({ preset, operation, kind, median, p99, source });
}

/** The names of the {@link LINK_LATENCY} presets. */
export type LinkLatencyPreset =
  | 'sameHost'
  | 'sameRack'
  | 'sameZone'
  | 'crossZone'
  | 'crossRegionUs'
  | 'intercontinental';

/** The names of the {@link OPERATION_LATENCY} presets. */
export type OperationLatencyPreset =
  | 'l1CacheReference'
  | 'branchMispredict'
  | 'l2CacheReference'
  | 'mutexLockUnlock'
  | 'mainMemoryReference'
  | 'compress1kZippy'
  | 'send2kOver1Gbps'
  | 'nvmeRandomRead4k'
  | 'ssdRandomRead4k'
  | 'read1MbMemory'
  | 'read1MbSsd'
  | 'diskSeek'
  | 'read1MbDisk';

/**
 * The one-way spreads of the round trips: a log-normal σ such that the sum of two independent draws
 * (there and back) has p99 / median equal to `ratio`, and that sum's median over the one-way median.
 * Solved numerically (the sum's CDF by quadrature in log space, both quantiles by bracketing); the
 * tests check both quantiles of the sum by sampling.
 */
const ROUND_TRIP_SPREADS: readonly { ratio: number; sigma: number; sumMedian: number }[] = [
  { ratio: 3, sigma: 0.6329990061, sumMedian: 2.18652035 },
  { ratio: 2, sigma: 0.410895227, sumMedian: 2.08126918 },
  { ratio: 1.1, sigma: 0.0579143802, sumMedian: 2.00167541 },
];

function presetOf(r: LatencyNumber): Distribution {
  if (r.kind === 'operation') {
    if (r.p99 === r.median) return constant(r.median);
    return lognormalFromPercentiles({ median: r.median, p99: r.p99 });
  }
  const ratio = r.p99 / r.median;
  const spread = ROUND_TRIP_SPREADS.find((s) => Math.abs(s.ratio - ratio) < 1e-9);
  if (spread === undefined)
    throw new DsimError(
      'INVALID_STATE',
      `latency preset ${r.preset}: no one-way spread for p99/median ${ratio}`,
    );
  const median = r.median / spread.sumMedian;
  const p99 = median * Math.exp(spread.sigma * Z99);
  return new NamedLognormal(
    lognormal({ mu: Math.log(median), sigma: spread.sigma }),
    `lognormal(median=${round4(median)}, p99=${round4(p99)}) one way; round trip median ${r.median}, p99 ${r.p99}`,
  );
}

function round4(x: number): number {
  return Number(x.toPrecision(4));
}

function presets<K extends string>(kind: LatencyNumber['kind']): Readonly<Record<K, Distribution>> {
  const out: Record<string, Distribution> = {};
  for (const r of LATENCY_NUMBERS) if (r.kind === kind) out[r.preset] = presetOf(r);
  return Object.freeze(out) as Record<K, Distribution>;
}

/**
 * One-way link delays (ms) for {@link LinkOptions.latency}, one per network round trip of
 * {@link LATENCY_NUMBERS}: log-normal, shaped so that a request and its response over such links (two
 * independent draws) take a round trip with the table's median and p99. The one-way median is a little
 * under half the round trip, because the sum of two skewed draws has a median above twice theirs.
 *
 * | preset | round trip median / p99 | one way median / p99 |
 * |---|---|---|
 * | `sameHost` | 60 µs / 180 µs | 27.4 µs / 120 µs |
 * | `sameRack` | 100 µs / 300 µs | 45.7 µs / 199 µs |
 * | `sameZone` | 0.5 ms / 1.5 ms | 0.229 ms / 0.997 ms |
 * | `crossZone` | 1 ms / 2 ms | 0.480 ms / 1.25 ms |
 * | `crossRegionUs` | 70 ms / 77 ms | 35.0 ms / 40.0 ms |
 * | `intercontinental` | 150 ms / 165 ms | 74.9 ms / 85.7 ms |
 *
 * @example
 * ```ts
 * const net = new Network(sim, { defaults: { latency: LINK_LATENCY.sameZone } });
 * net.setLink('app', 'db-replica', { latency: LINK_LATENCY.crossZone });
 * net.setLink('db-replica', 'app', { latency: LINK_LATENCY.crossZone });
 * ```
 */
export const LINK_LATENCY: Readonly<Record<LinkLatencyPreset, Distribution>> = presets('round-trip');

/**
 * Times of single operations (ms), for a {@link ServiceOptions.serviceTime} or a step inside a model:
 * constants where the figure is a throughput or a CPU event, log-normal with the listed median and p99
 * for storage accesses (see {@link LATENCY_NUMBERS}). For a modern SSD prefer `nvmeRandomRead4k`
 * (76 µs, measured) to the table's older `ssdRandomRead4k` (150 µs).
 *
 * @example
 * ```ts
 * // A key-value store whose every read is one random NVMe read:
 * new Service(net.addNode('kv'), { concurrency: 32, serviceTime: OPERATION_LATENCY.nvmeRandomRead4k });
 * ```
 */
export const OPERATION_LATENCY: Readonly<Record<OperationLatencyPreset, Distribution>> = presets('operation');

/**
 * A preset by name, from {@link LINK_LATENCY} or {@link OPERATION_LATENCY}, for names that come from
 * configuration: an unknown name is an error with a "did you mean".
 *
 * @example
 * ```ts
 * latencyPreset('crossZone'); // LINK_LATENCY.crossZone
 * latencyPreset('diskSeek');  // OPERATION_LATENCY.diskSeek
 * ```
 */
export function latencyPreset(name: LinkLatencyPreset | OperationLatencyPreset): Distribution {
  if (typeof name === 'string') {
    if (Object.hasOwn(LINK_LATENCY, name)) return LINK_LATENCY[name as LinkLatencyPreset];
    if (Object.hasOwn(OPERATION_LATENCY, name)) return OPERATION_LATENCY[name as OperationLatencyPreset];
  }
  const names = LATENCY_NUMBERS.map((r) => r.preset);
  const guess = typeof name === 'string' ? didYouMean(name, names) : undefined;
  throw invalidArgument(
    'name',
    name,
    `a latency preset${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}: ${names.join(', ')}`,
    'latencyPreset',
  );
}
