import { DsimError, showValue } from '@dsim/core';
import { type DurationData, durationMs } from './distributions.js';
import type { SystemDescription } from './schema.js';

/** A phase: the requests that start in `[fromMs, toMs)` belong to it. */
export interface Phase {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** Explicit phases, by name: `[from, to)` as durations from the start of the run. */
export type PhaseWindows = Readonly<Record<string, readonly [DurationData, DurationData]>>;

const PHASE_NAME = /^[a-z][a-z0-9-]*$/;

function configError(field: string, message: string, value?: unknown): DsimError {
  return new DsimError('CONFIG_ERROR', `${field}: ${message}`, {
    details: { field, ...(value === undefined ? {} : { value }) },
  });
}

function ms(field: string, d: unknown): number {
  try {
    const v = durationMs(d as DurationData);
    if (Number.isFinite(v) && v >= 0) return v;
  } catch {}
  throw configError(field, `must be a duration >= 0 such as 500, '10s' or '1m', got ${showValue(d)}`, d);
}

/**
 * When the run's load ends: the latest `until` of the clients nodes (ms).
 *
 * @example
 * ```ts
 * runEndMs(system); // 60000 for clients with until: '60s'
 * ```
 */
export function runEndMs(system: SystemDescription): number {
  let end = 0;
  for (const n of Object.values(system.nodes))
    if (n.kind === 'clients') end = Math.max(end, durationMs(n.until));
  return end;
}

/**
 * The phases of a run. Explicit `windows` are checked (names lowercase words joined by hyphens, `from <
 * to`, within `[0, run end]`; overlaps are allowed: a request counts in every phase it starts in).
 * Otherwise they come from the fault schedule: `before` (from the warm-up cut to the first fault), one
 * `during` per fault (`during` for a single fault; `during-<node>` when every fault names a different
 * node, else `during-1`, `during-2`, ...), and `after` (from the end of the last fault to the end of the
 * run; none when a fault has no `for`, as it lasts to the end). Without faults: one phase `run`.
 *
 * @param warmup The cut at the start, excluded from `before`. @default 10% of the run
 * @example
 * ```ts
 * systemPhases(system); // [{ name: 'before', fromMs: 6000, toMs: 10000 }, { name: 'during', ... }, ...]
 * systemPhases(system, { windows: { steady: ['5s', '10s'] } });
 * ```
 */
export function systemPhases(
  system: SystemDescription,
  options: { windows?: PhaseWindows | undefined; warmup?: DurationData | undefined } = {},
): Phase[] {
  const end = runEndMs(system);
  if (options.windows !== undefined) return explicit(options.windows, end);
  const warmup = options.warmup === undefined ? end / 10 : ms('warmup', options.warmup);
  if (warmup >= end)
    throw configError('warmup', `must end before the run does (${end} ms), got ${warmup} ms`, options.warmup);
  const faults = [...(system.faults ?? [])]
    .map((f) => ({
      from: durationMs(f.at),
      to: f.for === undefined ? end : Math.min(end, durationMs(f.at) + durationMs(f.for)),
      node: (f.fault as { node?: unknown }).node,
    }))
    .sort((a, b) => a.from - b.from);
  if (faults.length === 0) return [{ name: 'run', fromMs: warmup, toMs: end }];
  const first = faults[0]!;
  if (first.from >= end)
    throw configError(
      'faults',
      `the first fault (at ${first.from} ms) is not before the end of the run (${end} ms)`,
    );
  if (warmup >= first.from)
    throw configError(
      'warmup',
      `must end before the first fault (at ${first.from} ms), got ${warmup} ms; pass a shorter warmup`,
      options.warmup,
    );
  const nodes = faults.map((f) => f.node);
  const byNode =
    nodes.every((n) => typeof n === 'string' && PHASE_NAME.test(n)) && new Set(nodes).size === nodes.length;
  const phases: Phase[] = [{ name: 'before', fromMs: warmup, toMs: first.from }];
  faults.forEach((f, i) => {
    const name = faults.length === 1 ? 'during' : byNode ? `during-${f.node}` : `during-${i + 1}`;
    phases.push({ name, fromMs: f.from, toMs: Math.max(f.from, f.to) });
  });
  const last = Math.max(...faults.map((f) => f.to));
  if (last < end) phases.push({ name: 'after', fromMs: last, toMs: end });
  return phases;
}

function explicit(windows: PhaseWindows, end: number): Phase[] {
  if (windows === null || typeof windows !== 'object' || Array.isArray(windows))
    throw configError('phases', `must be an object of name: [from, to], got ${showValue(windows)}`, windows);
  const out: Phase[] = [];
  for (const [name, w] of Object.entries(windows)) {
    const field = `phases.${name}`;
    if (!PHASE_NAME.test(name))
      throw configError(
        field,
        'a phase name is lowercase words joined by hyphens, e.g. "during-crash"',
        name,
      );
    if (!Array.isArray(w) || w.length !== 2)
      throw configError(field, `must be [from, to], e.g. ['10s', '20s'], got ${showValue(w)}`, w);
    const fromMs = ms(`${field}[0]`, w[0]);
    const toMs = ms(`${field}[1]`, w[1]);
    if (!(fromMs < toMs)) throw configError(field, `from (${fromMs} ms) must be before to (${toMs} ms)`, w);
    if (toMs > end) throw configError(`${field}[1]`, `ends after the run does (${end} ms): ${toMs} ms`, w[1]);
    out.push({ name, fromMs, toMs });
  }
  if (out.length === 0) throw configError('phases', 'must name at least one phase');
  return out;
}
