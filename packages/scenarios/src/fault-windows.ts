import type { FaultLogEntry } from '@dsim/core';

/** A fault as a window of simulated time, for results and reports. */
export interface FaultWindow {
  /** What and where, e.g. `pause server`, `partition a | b`, `degrade app-1 ×0.5`. */
  label: string;
  /** When it was applied (ms). */
  fromMs: number;
  /** When it was undone (ms); null when it never was (it lasts to the end of the run). Equal to
   * `fromMs` for an instant change (a clock skew). */
  toMs: number | null;
}

const group = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v));

/**
 * Pairs the entries of a {@link Simulation.faultLog} into windows: a crash with the node's restart, a
 * pause with its resume, a partition or isolation with its heal (a heal of everything closes every open
 * one), a degrade with the node's next degrade, a link change with its restore. Skews are instants;
 * a drift lasts until the node's next drift. Ordered by start, then by the log's order.
 *
 * @example
 * ```ts
 * faultWindows(sim.faultLog); // [{ label: 'pause server', fromMs: 10000, toMs: 12000 }]
 * ```
 */
export function faultWindows(log: readonly FaultLogEntry[]): FaultWindow[] {
  const out: FaultWindow[] = [];
  const open = new Map<string, FaultWindow>();
  const start = (key: string, label: string, t: number) => {
    const w: FaultWindow = { label, fromMs: t, toMs: null };
    out.push(w);
    open.set(key, w);
  };
  const end = (key: string, t: number) => {
    const w = open.get(key);
    if (w === undefined) return;
    w.toMs = t;
    open.delete(key);
  };
  for (const { t, fault, fields: f } of log) {
    const node = String(f.node);
    switch (fault) {
      case 'crash':
        start(`node ${node}`, `crash ${node}`, t);
        break;
      case 'restart':
        end(`node ${node}`, t);
        break;
      case 'pause':
        start(`pause ${node}`, `pause ${node}`, t);
        break;
      case 'resume':
        end(`pause ${node}`, t);
        break;
      case 'partition': {
        const key = `partition ${group(f.a)}|${group(f.b)}|${f.oneWay === true}`;
        start(key, `partition ${group(f.a)} ${f.oneWay === true ? '->' : '|'} ${group(f.b)}`, t);
        break;
      }
      case 'isolate':
        start(`isolate ${node}`, `isolate ${node}`, t);
        break;
      case 'heal':
        if (f.node !== undefined) end(`isolate ${node}`, t);
        else if (f.a !== undefined) end(`partition ${group(f.a)}|${group(f.b)}|${f.oneWay === true}`, t);
        else for (const key of [...open.keys()]) if (/^(partition|isolate) /.test(key)) end(key, t);
        break;
      case 'degrade':
        end(`degrade ${node}`, t);
        if (f.factor !== 1) start(`degrade ${node}`, `degrade ${node} ×${String(f.factor)}`, t);
        break;
      case 'drift':
        end(`drift ${node}`, t);
        if (f.rate !== 0) start(`drift ${node}`, `drift ${node} ${String(f.rate)}`, t);
        break;
      case 'skew':
        out.push({ label: `skew ${node} ${String(f.ms)} ms`, fromMs: t, toMs: t });
        break;
      case 'latency':
      case 'loss':
      case 'link': {
        const key = `link ${String(f.a)}|${String(f.b)}|${f.oneWay === true}`;
        start(key, `${fault} ${String(f.a)} ${f.oneWay === true ? '->' : '<->'} ${String(f.b)}`, t);
        break;
      }
      case 'link-restore':
        end(`link ${String(f.a)}|${String(f.b)}|${f.oneWay === true}`, t);
        break;
      default:
        out.push({ label: fault, fromMs: t, toMs: t });
    }
  }
  return out
    .map((w, i) => ({ w, i }))
    .sort((x, y) => x.w.fromMs - y.w.fromMs || x.i - y.i)
    .map((x) => x.w);
}
