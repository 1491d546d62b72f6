import type { Simulation } from '../simulation.js';
import type { TraceRecord } from '../trace.js';

/**
 * One NDJSON line for a trace record: JSON with keys in the record's own order (`t`, `seq`, `type`,
 * then the type's fields), numbers as JavaScript prints them, and no trailing newline. Non-finite numbers
 * become `null`, as JSON requires.
 *
 * @example
 * ```ts
 * toNdjsonLine({ t: 5, seq: 0, type: '@dsim.log', node: null, message: 'hi' });
 * // '{"t":5,"seq":0,"type":"@dsim.log","node":null,"message":"hi"}'
 * ```
 */
export function toNdjsonLine(record: TraceRecord): string {
  return JSON.stringify(record);
}

/** Where an NDJSON recorder sends each line (without the newline). */
export type LineSink = (line: string) => void;

/**
 * Records a simulation's trace bus as NDJSON: the canonical, diffable event log. Core has no file
 * system: give a sink to stream lines, or read `text()` at the end.
 *
 * @example
 * ```ts
 * const log = recordNdjson(sim);
 * sim.run();
 * writeFileSync('events.ndjson', log.text());
 * ```
 */
export function recordNdjson(sim: Simulation, sink?: LineSink): NdjsonRecording {
  const lines: string[] = [];
  const write: LineSink = sink ?? ((line) => lines.push(line));
  const detach = sim.inspect((record) => write(toNdjsonLine(record)));
  return {
    lines,
    text: () => (lines.length === 0 ? '' : `${lines.join('\n')}\n`),
    detach,
  };
}

/** A running NDJSON recording. */
export interface NdjsonRecording {
  /** Lines recorded so far (empty when a sink was given). */
  readonly lines: readonly string[];
  /** The recording as one string, one record per line, ending in a newline. */
  text(): string;
  /** Stops recording. */
  detach(): void;
}
