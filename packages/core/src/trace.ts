/**
 * The trace bus: one typed stream of notable events. Exporters (NDJSON, Perfetto, CSV) read only this.
 * With no listener attached, emitting sites are skipped behind a single boolean check.
 */

/** Fields every trace record has, in this key order. */
export interface TraceRecordBase {
  /** Simulated time (ms). */
  readonly t: number;
  /** Position in the trace, 0, 1, 2, ... Unique and increasing within a run. */
  readonly seq: number;
  /** Namespaced record type, e.g. `'@dsim.process.start'`. */
  readonly type: string;
}

/** A trace record: the base fields plus the fields of its type. */
export interface TraceRecord extends TraceRecordBase {
  readonly [field: string]: unknown;
}

/**
 * The record types emitted by @dsim/core and their fields (beyond `t`, `seq`, `type`).
 * Component packages add their own `@dsim.<family>.*` types.
 */
export interface CoreTraceFields {
  /** Emitted by the scenario runner when a (variant's) run starts. */
  '@dsim.run.start': { seed: string; scenario: string; variant: string | null };
  /** Emitted by the scenario runner when a (variant's) run ends. */
  '@dsim.run.end': { events: number };
  /** `id` is unique in the run (names repeat: every `customer`), so a start pairs with its end. */
  '@dsim.process.start': { process: string; id: number };
  '@dsim.process.end': { process: string; id: number };
  '@dsim.process.fail': { process: string; id: number; error: string };
  '@dsim.process.interrupt': { process: string; id: number; cause: string };
  '@dsim.resource.request': { resource: string; process: string | null; priority: number; queue: number };
  '@dsim.resource.grant': { resource: string; process: string | null; inUse: number; queue: number };
  '@dsim.resource.release': { resource: string; process: string | null; inUse: number; queue: number };
  '@dsim.resource.preempt': { resource: string; process: string | null; by: string | null };
  '@dsim.resource.withdraw': { resource: string; process: string | null; queue: number };
  /** `queue` is the number of waiting puts. */
  '@dsim.store.put': { store: string; process: string | null; size: number; queue: number };
  /** `queue` is the number of waiting gets. */
  '@dsim.store.get': { store: string; process: string | null; size: number; queue: number };
  '@dsim.store.withdraw': { store: string; process: string | null; op: 'put' | 'get' };
  '@dsim.container.put': { container: string; process: string | null; amount: number; level: number };
  '@dsim.container.get': { container: string; process: string | null; amount: number; level: number };
  '@dsim.container.withdraw': {
    container: string;
    process: string | null;
    op: 'put' | 'get';
    amount: number;
    level: number;
  };
  '@dsim.log': { node: string | null; message: string; data?: unknown };
  '@dsim.net.send': { id: number; from: string; to: string; size: number };
  '@dsim.net.deliver': { id: number; from: string; to: string; latency: number };
  '@dsim.net.drop': {
    id: number;
    from: string;
    to: string;
    reason: 'partition' | 'loss' | 'sender-down' | 'receiver-down' | 'unknown-address';
  };
  '@dsim.rpc.start': {
    id: number;
    from: string;
    to: string;
    attempt: number;
    deadline: number;
    key: string | null;
  };
  '@dsim.rpc.end': {
    id: number;
    from: string;
    to: string;
    ok: boolean;
    error: string | null;
    latency: number;
  };
  /** A response reached its caller after the caller gave up: wasted work. */
  '@dsim.rpc.late': { id: number; at: string };
  /** A fault verb was applied: `fault` names it (`partition`, `heal`, `crash`, `restart`, `pause`, `resume`, `link`, `link-restore`, `defaults`, `isolate`, `degrade`, `skew`, `drift`); the other fields describe it. */
  '@dsim.fault': { fault: string; [field: string]: unknown };
}

/** Why `run()` returned. */
export type RunStopReason = 'until' | 'empty' | 'maxEvents' | 'stopped';

/** A listener on the trace bus. */
export type TraceListener = (record: TraceRecord) => void;
