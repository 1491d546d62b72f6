import { type Duration, toMs } from '../duration.js';
import { invalidArgument } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import { LatencyHistogram } from '../stats/histogram.js';
import { Counter } from './counter.js';
import { Gauge } from './gauge.js';
import { IntervalGrid, type MetricsClock } from './grid.js';
import { Histogram } from './histogram.js';
import { compact, round6 } from './round.js';
import type {
  GaugeSeries,
  GaugeSnapshot,
  HistogramSeries,
  HistogramSnapshot,
  MetricsSnapshot,
  NodeMetricsSnapshot,
  NodeSeries,
} from './snapshot.js';

/** Options for {@link MetricsRegistry}. */
export interface MetricsRegistryOptions {
  /**
   * Width of a time-series interval: milliseconds or a string such as `"1s"`, `"10s"`, `"1m"`.
   * @default 1000 (1 s)
   */
  interval?: Duration;
}

const REGISTRY_KEYS = optionKeys<MetricsRegistryOptions>()({ interval: true });

/** Any instrument a {@link MetricsRegistry} holds. */
export type Instrument = Counter | Gauge | Histogram;

type Kind = Instrument['kind'];

/**
 * Counters, time-weighted gauges and latency histograms, keyed by (node id, metric name), each with a
 * per-interval time series. Asking twice for the same (node, name) returns the same instrument; asking
 * for it as another kind throws.
 *
 * Determinism: instruments only read the clock. Intervals are closed lazily, when an instrument is
 * touched in a later interval or when a snapshot is taken, never by scheduled events, so attaching a
 * registry cannot change a run or its digest. Series start at the clock's time when the registry is
 * created (interval 0 begins there); an instrument created later reads as 0 before its creation.
 *
 * Hot path: fetch instruments once and keep them; `inc()` and `set()` cost a clock read and a compare
 * except once per interval.
 *
 * @example
 * ```ts
 * const sim = new Simulation();
 * const metrics = new MetricsRegistry(sim, { interval: '1s' });
 * const queue = metrics.gauge('server-1', 'queue');
 * const served = metrics.counter('server-1', 'served');
 * const latency = metrics.histogram('server-1', 'latency');
 * // ... in the model: queue.add(1); served.inc(); latency.record(sim.now - start);
 * sim.run({ until: '1m' });
 * const json = JSON.stringify(metrics.snapshot());
 * ```
 */
export class MetricsRegistry {
  /** Width of a series interval in ms. */
  readonly intervalMs: number;
  /** Time (ms) at which series point 0 begins: the clock's time at construction. */
  readonly start: number;
  private readonly clock: MetricsClock;
  private readonly grid: IntervalGrid;
  private readonly byNode = new Map<string, Map<string, Instrument>>();

  /**
   * @param clock - time source, usually the {@link Simulation}
   * @param options - see {@link MetricsRegistryOptions}
   */
  constructor(clock: MetricsClock, options: MetricsRegistryOptions = {}) {
    if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'number') {
      throw invalidArgument('clock', clock, 'an object with a numeric `now` (e.g. a Simulation)');
    }
    if (options === null || typeof options !== 'object') {
      throw invalidArgument('options', options, 'an object such as { interval: "1s" }', 'MetricsRegistry');
    }
    checkOptions('MetricsRegistry', options, REGISTRY_KEYS);
    const interval =
      options.interval === undefined ? 1000 : toMs(options.interval, 'MetricsRegistry: interval');
    if (interval === 0) {
      throw invalidArgument(
        'interval',
        options.interval,
        'a duration > 0 such as 1000 or "1s"',
        'MetricsRegistry',
      );
    }
    this.clock = clock;
    this.start = clock.now;
    this.intervalMs = interval;
    this.grid = new IntervalGrid(this.start, interval);
  }

  /**
   * The counter `name` of `node`, created on first use.
   *
   * @example
   * ```ts
   * metrics.counter('lb', 'dropped').inc();
   * ```
   */
  counter(node: string, name: string): Counter {
    const found = this.byNode.get(node)?.get(name);
    if (found instanceof Counter) return found;
    return this.create(node, name, 'counter', found) as Counter;
  }

  /**
   * The gauge `name` of `node`, created on first use at level 0.
   *
   * @example
   * ```ts
   * const busy = metrics.gauge('db', 'busy');
   * busy.set(3);
   * ```
   */
  gauge(node: string, name: string): Gauge {
    const found = this.byNode.get(node)?.get(name);
    if (found instanceof Gauge) return found;
    return this.create(node, name, 'gauge', found) as Gauge;
  }

  /**
   * The latency histogram `name` of `node`, created on first use.
   *
   * @example
   * ```ts
   * metrics.histogram('api', 'latency').record(42);
   * ```
   */
  histogram(node: string, name: string): Histogram {
    const found = this.byNode.get(node)?.get(name);
    if (found instanceof Histogram) return found;
    return this.create(node, name, 'histogram', found) as Histogram;
  }

  /**
   * The histograms called `name` on every node merged into one (nodes in creation order; the result
   * does not depend on that order). Empty when no node has one.
   *
   * @example
   * ```ts
   * metrics.mergedHistogram('latency').percentile(99); // fleet-wide p99
   * ```
   */
  mergedHistogram(name: string): LatencyHistogram {
    const merged = new LatencyHistogram();
    for (const metrics of this.byNode.values()) {
      const h = metrics.get(name);
      if (h instanceof Histogram) merged.merge(h.latency);
    }
    return merged;
  }

  /**
   * Every instrument, nodes in creation order and, within a node, metrics in creation order.
   *
   * @example
   * ```ts
   * for (const m of metrics.instruments()) console.log(m.node, m.name, m.kind);
   * ```
   */
  *instruments(): IterableIterator<Instrument> {
    for (const metrics of this.byNode.values()) yield* metrics.values();
  }

  /**
   * A JSON-ready picture of every instrument at time `now`: run-wide figures per node and per-interval
   * series, rounded (see {@link MetricsSnapshot} for the shape). Reading only: taking a snapshot never
   * changes an instrument, so snapshots may be taken at any time and repeated.
   *
   * @param now - must not precede the clock's current time
   * @default now the clock's current time
   * @example
   * ```ts
   * sim.run({ until: '10s' });
   * const snap = metrics.snapshot();
   * snap.series.nodes['server-1']?.counters.requests; // requests per second
   * ```
   */
  snapshot(now: number = this.clock.now): MetricsSnapshot {
    const clockNow = this.clock.now;
    if (typeof now !== 'number' || !(now >= clockNow) || now === Number.POSITIVE_INFINITY) {
      throw invalidArgument('now', now, `a finite time >= the clock's current time (${clockNow})`);
    }
    // An update exactly at `now` on a boundary opens a zero-length interval; include it so series sum to totals.
    let points = this.grid.pointsAt(now);
    for (const m of this.instruments()) if (m._index + 1 > points) points = m._index + 1;

    const nodes: Record<string, NodeMetricsSnapshot> = dict();
    const series: Record<string, NodeSeries> = dict();
    for (const [node, metrics] of this.byNode) {
      const counters: Record<string, number> = dict();
      const gauges: Record<string, GaugeSnapshot> = dict();
      const histograms: Record<string, HistogramSnapshot> = dict();
      const counterSeries: Record<string, number[]> = dict();
      const gaugeSeries: Record<string, GaugeSeries> = dict();
      const histogramSeries: Record<string, HistogramSeries> = dict();
      for (const [name, m] of metrics) {
        if (m instanceof Counter) {
          counters[name] = round6(m.value);
          counterSeries[name] = m._series(points).map(round6);
        } else if (m instanceof Gauge) {
          gauges[name] = { mean: compact(m.mean(now)), max: round6(m.max), last: round6(m.level) };
          const s = m._series(now, points);
          gaugeSeries[name] = { mean: s.mean.map(round6), max: s.max.map(round6) };
        } else {
          const s = m.summary();
          histograms[name] = {
            count: s.count,
            mean: compact(s.mean),
            p50: compact(s.p50),
            p90: compact(s.p90),
            p99: compact(s.p99),
            p999: compact(s.p999),
            max: compact(s.max),
          };
          const ser = m._series(points);
          histogramSeries[name] = { count: ser.count, p50: ser.p50.map(compact), p99: ser.p99.map(compact) };
        }
      }
      nodes[node] = { counters, gauges, histograms };
      series[node] = { counters: counterSeries, gauges: gaugeSeries, histograms: histogramSeries };
    }
    return {
      now,
      intervalMs: this.intervalMs,
      nodes,
      series: { start: this.start, intervalMs: this.intervalMs, points, nodes: series },
    };
  }

  private create(node: string, name: string, kind: Kind, existing: Instrument | undefined): Instrument {
    if (existing !== undefined) {
      throw invalidArgument(
        'name',
        name,
        `a metric name not already used by another kind on node ${JSON.stringify(node)}: ` +
          `it is a ${existing.kind}, asked for a ${kind}`,
      );
    }
    if (typeof node !== 'string' || node.length === 0)
      throw invalidArgument('node', node, 'a non-empty string');
    if (typeof name !== 'string' || name.length === 0)
      throw invalidArgument('name', name, 'a non-empty string');
    let metrics = this.byNode.get(node);
    if (metrics === undefined) {
      metrics = new Map();
      this.byNode.set(node, metrics);
    }
    const m =
      kind === 'counter'
        ? new Counter(node, name, this.clock, this.grid)
        : kind === 'gauge'
          ? new Gauge(node, name, this.clock, this.grid)
          : new Histogram(node, name, this.clock, this.grid);
    metrics.set(name, m);
    return m;
  }
}

/** A prototype-free record, so ids such as `"__proto__"` or `"constructor"` are plain keys. */
function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
