import type { SweepRun } from './run-point.js';
import type { SweepPointSpec, SweepSpec } from './spec.js';
import { type Summary, summarize } from './stats.js';

/** One point of a sweep result: its parameters and every figure summarised over its replications. */
export interface SweepPointResult {
  id: string;
  /** The swept parameters' values, as given. */
  values: Record<string, string>;
  /** Replications run. */
  n: number;
  /** Per numeric or boolean figure (booleans as 0/1): mean, sd, interval and percentiles over seeds. */
  figures: Record<string, Summary>;
  /** Per check: in how many replications it held. */
  checks: { name: string; passed: number; of: number }[];
}

/** A sweep's result: the spec, the points in grid order, and a digest of every run. */
export interface SweepResult {
  spec: SweepSpec;
  points: SweepPointResult[];
  /** Runs aggregated (replications over all points). */
  runs: number;
  /** Digest over every run's digest, in grid and replication order. */
  digest: string;
}

/**
 * Aggregates runs into a sweep result. Deterministic whatever order the runs come in (from workers,
 * shards or a resumed file): they are sorted by point (grid order) and replication first. A run is
 * counted once even if given twice (a shard or a resumed file may repeat one).
 *
 * @example
 * ```ts
 * const result = aggregate(spec, points, runs);
 * result.points[0].figures.meanWait.ci.halfWidth;
 * ```
 */
export function aggregate(
  spec: SweepSpec,
  points: readonly SweepPointSpec[],
  runs: readonly SweepRun[],
  digestOf: (parts: readonly string[]) => string,
): SweepResult {
  const byPoint = new Map<string, Map<number, SweepRun>>(points.map((p) => [p.id, new Map()]));
  for (const r of runs) byPoint.get(r.point)?.set(r.replication, r);
  const digests: string[] = [];
  let total = 0;
  const out = points.map((p): SweepPointResult => {
    const mine = [...byPoint.get(p.id)!.values()].sort((a, b) => a.replication - b.replication);
    total += mine.length;
    for (const r of mine) digests.push(`${p.id}#${r.replication}:${r.digest}`);
    const names: string[] = [];
    const seen = new Set<string>();
    for (const r of mine)
      for (const [k, v] of Object.entries(r.outcome))
        if ((typeof v === 'number' || typeof v === 'boolean') && !seen.has(k)) {
          seen.add(k);
          names.push(k);
        }
    const figures: Record<string, Summary> = {};
    for (const k of names) {
      // A figure missing or null in a replication (nothing measured) is left out of that summary.
      const values = mine.flatMap((r) => {
        const v = r.outcome[k];
        return typeof v === 'boolean' ? [v ? 1 : 0] : typeof v === 'number' && Number.isFinite(v) ? [v] : [];
      });
      figures[k] = summarize(values, { confidence: spec.confidence });
    }
    const checkNames = [...new Set(mine.flatMap((r) => r.checks.map((c) => c.name)))];
    const checks = checkNames.map((name) => ({
      name,
      passed: mine.filter((r) => r.checks.some((c) => c.name === name && c.pass)).length,
      of: mine.filter((r) => r.checks.some((c) => c.name === name)).length,
    }));
    return { id: p.id, values: p.values, n: mine.length, figures, checks };
  });
  return { spec, points: out, runs: total, digest: digestOf(digests) };
}
