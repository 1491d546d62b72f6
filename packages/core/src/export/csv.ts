import type { MetricsSeries } from '../metrics/snapshot.js';

/** The CSV header of {@link metricsCsv}. */
export const METRICS_CSV_HEADER = 'variant,t_ms,node,metric,field,value';

/**
 * The metrics time series as CSV in long format, one row per (interval, node, metric, field):
 * `variant,t_ms,node,metric,field,value`. `t_ms` is the start of the interval; counters have field
 * `count` (the increment in that interval), gauges `mean` and `max`, histograms `count`, `p50` and
 * `p99`. Missing figures are empty cells. Fields are quoted per RFC 4180 where needed, numbers are
 * printed as the snapshot rounded them, so reruns with the same seed diff byte for byte.
 *
 * @param variant - the variant name for the first column (empty for a scenario without variants)
 * @example
 * ```ts
 * const csv = metricsCsv(sim.metrics.snapshot().series);
 * ```
 */
export function metricsCsv(series: MetricsSeries, variant = '', header = true): string {
  const rows: string[] = header ? [METRICS_CSV_HEADER] : [];
  writeMetricsCsv(series, variant, (row) => rows.push(row));
  return rows.length === 0 ? '' : `${rows.join('\n')}\n`;
}

/**
 * Streams the rows of {@link metricsCsv} (without the header) one by one to `sink`, so a long series is
 * written without building one string.
 *
 * @param variant - the variant name for the first column (empty for a scenario without variants)
 * @example
 * ```ts
 * writeMetricsCsv(sim.metrics.snapshot().series, '', (row) => out.write(`${row}\n`));
 * ```
 */
export function writeMetricsCsv(series: MetricsSeries, variant: string, sink: (row: string) => void): void {
  const v = csvField(variant);
  const push = (node: string, metric: string, field: string, values: ReadonlyArray<number | null>): void => {
    const prefix = `${csvField(node)},${csvField(metric)},${field},`;
    for (let i = 0; i < series.points; i++) {
      const value = values[i];
      sink(
        `${v},${series.start + i * series.intervalMs},${prefix}${value === null || value === undefined ? '' : String(value)}`,
      );
    }
  };
  for (const [node, s] of Object.entries(series.nodes)) {
    for (const [metric, values] of Object.entries(s.counters)) push(node, metric, 'count', values);
    for (const [metric, g] of Object.entries(s.gauges)) {
      push(node, metric, 'mean', g.mean);
      push(node, metric, 'max', g.max);
    }
    for (const [metric, h] of Object.entries(s.histograms)) {
      push(node, metric, 'count', h.count);
      push(node, metric, 'p50', h.p50);
      push(node, metric, 'p99', h.p99);
    }
  }
}

/**
 * Quotes a CSV field when it holds a comma, a quote or a line break (RFC 4180).
 *
 * @example
 * ```ts
 * csvField('a,b'); // '"a,b"'
 * ```
 */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
