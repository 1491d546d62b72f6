/**
 * What a sweep runs: a scenario, fixed parameters, a grid of swept parameters, the replications and the
 * confidence level. Everything a shard or a resumed run must agree on to be merged.
 */
export interface SweepSpec {
  /** The scenario's name, or the path of its file as given. */
  scenario: string;
  /** Fixed parameter values (`--set k=v`), as given. */
  set: Record<string, string>;
  /** Swept parameters in order, each with its values as given (`--set k=a,b,c`, `k=10..100:10`). */
  grid: Record<string, string[]>;
  /** Seeds of the replications, the same for every point (common random numbers across points). */
  seeds: string[];
  /** Variants to run. @default all */
  variants?: string[];
  /** Confidence level of the intervals. @default 0.95 */
  confidence: number;
  /** Steady-state figures taken from each run's series, `node/metric` (MSER-5). @default none */
  steady?: string[];
}

/** One point of a sweep: its id (`lambda=10,servers=3`) and its swept parameter values, as given. */
export interface SweepPointSpec {
  id: string;
  values: Record<string, string>;
}
