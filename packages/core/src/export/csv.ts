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
  const times = Array.from({ length: series.points }, (_, i) => series.start + i * series.intervalMs);
  const push = (node: string, metric: string, field: string, values: ReadonlyArray<number | null>): void => {
    for (let i = 0; i < times.length; i++) {
      const v = values[i];
      rows.push(
        [
          csvField(variant),
          String(times[i]),
          csvField(node),
          csvField(metric),
          field,
          v === null || v === undefined ? '' : String(v),
        ].join(','),
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
  return rows.length === 0 ? '' : `${rows.join('\n')}\n`;
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
