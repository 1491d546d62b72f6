/**
 * JSON shape of {@link MetricsRegistry.snapshot}. Every number is rounded for compactness: integers
 * stay exact, other values keep 6 significant digits; a figure that does not exist (the mean of an
 * empty histogram, the p50 of an interval without samples) is `null`. Keys follow insertion order:
 * nodes in the order their first metric was created, metrics in creation order (JavaScript puts
 * integer-like keys such as `"7"` first, in ascending order; still deterministic).
 *
 * @example
 * ```json
 * {
 *   "now": 2000,
 *   "intervalMs": 1000,
 *   "nodes": {
 *     "server-1": {
 *       "counters": { "requests": 30 },
 *       "gauges": { "queue": { "mean": 2.5, "max": 4, "last": 4 } },
 *       "histograms": {
 *         "latency": { "count": 30, "mean": 12.1, "p50": 11, "p90": 20, "p99": 31, "p999": 31, "max": 31 }
 *       }
 *     }
 *   },
 *   "series": {
 *     "start": 0,
 *     "intervalMs": 1000,
 *     "points": 2,
 *     "nodes": {
 *       "server-1": {
 *         "counters": { "requests": [10, 20] },
 *         "gauges": { "queue": { "mean": [2, 3], "max": [2, 4] } },
 *         "histograms": { "latency": { "count": [10, 20], "p50": [10, 12], "p99": [20, 31] } }
 *       }
 *     }
 *   }
 * }
 * ```
 */
export interface MetricsSnapshot {
  /** Time (ms) the snapshot was taken at. */
  readonly now: number;
  /** Width of a series interval in ms. */
  readonly intervalMs: number;
  /** Run-wide figures per node id. */
  readonly nodes: Record<string, NodeMetricsSnapshot>;
  /** Per-interval time series. */
  readonly series: MetricsSeries;
}

/** Run-wide figures of one node, grouped by instrument kind. */
export interface NodeMetricsSnapshot {
  /** Counter totals. */
  readonly counters: Record<string, number>;
  /** Gauges: time-weighted mean over `[start, now)`, highest level, current level. */
  readonly gauges: Record<string, GaugeSnapshot>;
  /** Latency histograms, in ms. */
  readonly histograms: Record<string, HistogramSnapshot>;
}

/** Run-wide figures of a gauge. */
export interface GaugeSnapshot {
  /** Time-weighted mean over `[start, now)`; null when `now === start`. */
  readonly mean: number | null;
  /** Highest level reached (the level is 0 before the first set). */
  readonly max: number;
  /** Level at `now`. */
  readonly last: number;
}

/** Run-wide figures of a latency histogram, in ms; null when it has no samples. */
export interface HistogramSnapshot {
  readonly count: number;
  /** Exact mean. */
  readonly mean: number | null;
  /** Percentiles within 0.1% (relative) of the exact sample percentiles. */
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly p999: number | null;
  /** Exact maximum. */
  readonly max: number | null;
}

/**
 * Per-interval series. Point `j` covers `[start + j·intervalMs, start + (j+1)·intervalMs)`; the last
 * point may be partial (it ends at `now`). Every series of every node has exactly `points` entries,
 * intervals without activity included (counters 0, gauges carry their level, histograms count 0).
 */
export interface MetricsSeries {
  /** Start (ms) of point 0. */
  readonly start: number;
  /** Interval width in ms. */
  readonly intervalMs: number;
  /** Number of points in every series. */
  readonly points: number;
  /** Series per node id, same node and metric order as {@link MetricsSnapshot.nodes}. */
  readonly nodes: Record<string, NodeSeries>;
}

/** Series of one node, grouped by instrument kind. */
export interface NodeSeries {
  /** Counter increment per interval. */
  readonly counters: Record<string, number[]>;
  /** Time-weighted mean and maximum level per interval. */
  readonly gauges: Record<string, GaugeSeries>;
  /** Sample count, p50 and p99 (ms, within 1%; null without samples) per interval. */
  readonly histograms: Record<string, HistogramSeries>;
}

/** Per-interval gauge series. */
export interface GaugeSeries {
  readonly mean: number[];
  readonly max: number[];
}

/** Per-interval histogram series. */
export interface HistogramSeries {
  readonly count: number[];
  readonly p50: (number | null)[];
  readonly p99: (number | null)[];
}
