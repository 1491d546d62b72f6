import { LatencyHistogram, type LatencySummary } from '@dsim/core';

/** The `metrics` block of a scenario result (DESIGN.md). Latencies in ms. */
export interface RunMetrics {
  /** Requests started (finished or not). */
  requests: number;
  /** Requests that finished successfully. */
  ok: number;
  /** Requests that finished with an error. */
  failed: number;
  /** ok / (ok + failed); null when no request finished (nothing was measured, so nothing is claimed). */
  availability: number | null;
  /** Latency of finished requests (ok and failed). */
  latencyMs: Omit<LatencySummary, 'count' | 'min'>;
}

/**
 * Counts requests and records their latency for a scenario's `metrics` block.
 *
 * @example
 * ```ts
 * ctx.requests.start();
 * ctx.requests.finish(true, sim.now - startedAt);
 * ```
 */
export class RequestStats {
  private started = 0;
  private succeeded = 0;
  private errored = 0;
  /** Latency histogram of finished requests. */
  readonly latency = new LatencyHistogram();

  /** Counts a request as started. */
  start(): void {
    this.started++;
  }

  /** Counts a request as finished, ok or failed, with its latency in ms. */
  finish(ok: boolean, latencyMs: number): void {
    if (ok) this.succeeded++;
    else this.errored++;
    this.latency.record(latencyMs);
  }

  /** The `metrics` block. Empty histograms report 0 latencies so the JSON stays numeric. */
  toJSON(): RunMetrics {
    const s = this.latency.summary();
    const finished = this.succeeded + this.errored;
    const num = (x: number): number => (Number.isNaN(x) ? 0 : round(x));
    return {
      requests: this.started,
      ok: this.succeeded,
      failed: this.errored,
      availability: finished === 0 ? null : this.succeeded / finished,
      latencyMs: {
        mean: num(s.mean),
        p50: num(s.p50),
        p90: num(s.p90),
        p99: num(s.p99),
        p999: num(s.p999),
        max: num(s.max),
      },
    };
  }
}

/** Rounds to 6 significant decimals so JSON stays short and stable. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  return Number(x.toPrecision(9));
}
