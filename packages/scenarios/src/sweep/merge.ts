import { DsimError } from '@dsim/core';
import { aggregate, type SweepResult } from './aggregate.js';
import { gridPoints } from './grid.js';
import type { SweepRun } from './run-point.js';
import type { SweepSpec } from './spec.js';
import { sweepDigest } from './sweep.js';

/** What `dsim sweep --shard K/N` writes: its slice of the runs, with the spec they belong to. */
export interface SweepShard {
  kind: 'dsim-sweep-shard';
  /** 1-based. */
  shard: { index: number; count: number };
  spec: SweepSpec;
  runs: SweepRun[];
}

/**
 * Combines the shards of one sweep into the result one run of the whole sweep gives (the same JSON,
 * byte for byte): the specs must be the same, and every shard `1..N` must be given once.
 *
 * @example
 * ```ts
 * const result = mergeSweeps([shard1, shard2]);
 * ```
 */
export function mergeSweeps(shards: readonly SweepShard[]): SweepResult {
  const fail = (message: string) => new DsimError('CONFIG_ERROR', `merge: ${message}`);
  const first = shards[0];
  if (first === undefined) throw fail('no shard given');
  const spec = JSON.stringify(first.spec);
  const count = first.shard.count;
  const seen = new Set<number>();
  for (const s of shards) {
    if (JSON.stringify(s.spec) !== spec)
      throw fail(
        `shard ${s.shard.index}/${s.shard.count} is of another sweep (a different scenario, grid, seeds or confidence): merge the shards of one command`,
      );
    if (s.shard.count !== count)
      throw fail(`shards of ${count} and of ${s.shard.count} given: merge the shards of one split`);
    if (seen.has(s.shard.index)) throw fail(`shard ${s.shard.index}/${count} is given twice`);
    seen.add(s.shard.index);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length > 0) throw fail(`shards ${missing.map((i) => `${i}/${count}`).join(', ')} are missing`);
  return aggregate(
    first.spec,
    gridPoints(first.spec.grid),
    shards.flatMap((s) => s.runs),
    sweepDigest,
  );
}
