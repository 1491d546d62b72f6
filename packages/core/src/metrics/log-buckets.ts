/**
 * The per-interval sketch behind {@link Histogram}'s series: {@link LogBuckets} at its default 7 bits
 * (HdrHistogram's layout at 2 significant digits). It lives in `stats/`, next to {@link LatencyHistogram},
 * which records into it too; this path stays for existing imports.
 */
export { LogBuckets } from '../stats/log-buckets.js';
