import type { Simulation } from '../simulation.js';
import type { TraceRecord } from '../trace.js';

/** One Chrome trace event (the subset of phases dsim writes). */
export interface TraceEvent {
  name: string;
  ph: 'b' | 'e' | 'i' | 'C' | 'M';
  /** Microseconds. */
  ts?: number;
  pid: number;
  tid: number;
  cat?: string;
  id?: string;
  s?: 'g' | 'p' | 't';
  args?: Record<string, unknown>;
}

/** The Chrome/Perfetto trace JSON document. */
export interface PerfettoTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string>;
}

/** A running Perfetto recording. */
export interface PerfettoRecording {
  /** The trace document so far. */
  trace(): PerfettoTrace;
  /** The trace as JSON text. */
  json(): string;
  /** Stops recording. */
  detach(): void;
}

/**
 * Records the trace bus as Chrome trace-event JSON, which opens in ui.perfetto.dev and chrome://tracing:
 * requests (`@dsim.rpc.*`) become async spans on the caller's track, paired by id; resource occupancy
 * becomes counters; faults become global instants; drops, late responses and log lines become instants on
 * their node's track. Each node or resource is a "process" track named by metadata records.
 * Times are simulated microseconds.
 *
 * @example
 * ```ts
 * const rec = recordPerfetto(sim, { seed: sim.seed, scenario: 'partition-demo' });
 * sim.run();
 * writeFileSync('trace.json', rec.json());
 * ```
 */
export function recordPerfetto(sim: Simulation, otherData: Record<string, string> = {}): PerfettoRecording {
  const builder = new PerfettoBuilder(otherData);
  const detach = sim.inspect((r) => builder.add(r));
  return { trace: () => builder.trace(), json: () => builder.json(), detach };
}

/**
 * Builds a Perfetto trace from trace records fed one by one (what {@link recordPerfetto} does for one
 * simulation). Records of several simulations can share one builder: a `@dsim.run.start` record with a
 * `variant` prefixes the tracks that follow with the variant's name.
 *
 * @example
 * ```ts
 * const builder = new PerfettoBuilder({ seed: '1' });
 * runScenario(scenario, { seed: 1, inspect: (r) => builder.add(r) });
 * ```
 */
export class PerfettoBuilder {
  private readonly events: TraceEvent[] = [];
  private readonly pids = new Map<string, number>();
  // Last in-use count per resource, so a request's queue counter keeps the in-use series whole.
  private readonly inUse = new Map<string, number>();
  private prefix = '';
  private readonly sink: ((chunk: string) => void) | undefined;
  private written = 0;
  private finished = false;

  /**
   * @param otherData - strings shown in the trace's metadata (seed, scenario)
   * @param options - `sink` streams the JSON text chunk by chunk as records arrive, so memory stays
   *   bounded however long the run; call {@link PerfettoBuilder.finish} at the end. Without a sink the
   *   events are kept and read with `trace()` or `json()`.
   *   @default no sink: keep events in memory
   */
  constructor(
    private readonly otherData: Record<string, string> = {},
    options: { sink?: (chunk: string) => void } = {},
  ) {
    this.sink = options.sink;
    this.sink?.(`{"displayTimeUnit":"ms","otherData":${JSON.stringify(otherData)},"traceEvents":[`);
  }

  /** Closes the streamed document (with a sink); a no-op without one or when already finished. */
  finish(): void {
    if (this.sink === undefined || this.finished) return;
    this.finished = true;
    this.sink('\n]}\n');
  }

  private emit(event: TraceEvent): void {
    if (this.sink === undefined) {
      this.events.push(event);
      return;
    }
    this.sink(`${this.written++ === 0 ? '\n' : ',\n'}${JSON.stringify(event)}`);
  }

  /** Adds one trace record; types the trace does not show are ignored. */
  add(r: TraceRecord): void {
    const ts = us(r.t);
    switch (r.type) {
      case '@dsim.run.start':
        this.prefix = typeof r.variant === 'string' && r.variant !== '' ? `${r.variant}: ` : '';
        return;
      case '@dsim.rpc.start':
      case '@dsim.rpc.end': {
        const start = r.type === '@dsim.rpc.start';
        this.emit({
          name: `${String(r.from)} -> ${String(r.to)}`,
          cat: 'rpc',
          ph: start ? 'b' : 'e',
          id: `${this.prefix}${String(r.from)}#${String(r.id)}`,
          ts,
          pid: this.pid(String(r.from)),
          tid: 0,
          args: start
            ? { attempt: r.attempt, key: r.key, deadline: r.deadline }
            : { ok: r.ok, error: r.error, latencyMs: r.latency },
        });
        return;
      }
      case '@dsim.rpc.late':
        this.instant('late response', 'rpc', ts, String(r.at), { id: r.id });
        return;
      case '@dsim.net.drop':
        this.instant(`drop: ${String(r.reason)}`, 'net', ts, String(r.from), { to: r.to, id: r.id });
        return;
      case '@dsim.fault': {
        const { t: _t, seq: _seq, type: _type, fault, ...rest } = r;
        this.emit({
          name: `fault: ${String(fault)}`,
          cat: 'fault',
          ph: 'i',
          s: 'g',
          ts,
          pid: this.pid('faults'),
          tid: 0,
          args: rest,
        });
        return;
      }
      case '@dsim.process.start':
      case '@dsim.process.end':
      case '@dsim.process.fail': {
        // Each process is an async slice on the "processes" track, paired by its id.
        const start = r.type === '@dsim.process.start';
        this.emit({
          name: String(r.process),
          cat: 'process',
          ph: start ? 'b' : 'e',
          id: `${this.prefix}process#${String(r.id)}`,
          ts,
          pid: this.pid('processes'),
          tid: 0,
          ...(r.type === '@dsim.process.fail' ? { args: { error: r.error } } : {}),
        });
        return;
      }
      case '@dsim.resource.grant':
      case '@dsim.resource.release': {
        const name = String(r.resource);
        this.inUse.set(this.prefix + name, r.inUse as number);
        this.counter(name, `resource ${name}`, ts, { inUse: r.inUse, queue: r.queue });
        return;
      }
      case '@dsim.resource.request': {
        // The record carries the queue before this request joins it; a request that must wait makes it one longer.
        const name = String(r.resource);
        const inUse = this.inUse.get(this.prefix + name) ?? 0;
        const waiting = (r.queue as number) + 1;
        this.counter(name, `resource ${name}`, ts, { inUse, queue: waiting });
        return;
      }
      case '@dsim.resource.withdraw': {
        const name = String(r.resource);
        this.counter(name, `resource ${name}`, ts, {
          inUse: this.inUse.get(this.prefix + name) ?? 0,
          queue: r.queue,
        });
        return;
      }
      case '@dsim.store.put':
      case '@dsim.store.get': {
        const name = String(r.store);
        const side = r.type === '@dsim.store.put' ? 'put queue' : 'get queue';
        this.counter(name, `store ${name}`, ts, { size: r.size, [side]: r.queue });
        return;
      }
      case '@dsim.container.put':
      case '@dsim.container.get':
      case '@dsim.container.withdraw': {
        const name = String(r.container);
        this.counter(name, `container ${name}`, ts, { level: r.level });
        return;
      }
      case '@dsim.log':
        this.instant(String(r.message), 'log', ts, r.node === null ? 'log' : String(r.node), undefined);
        return;
      default:
        return;
    }
  }

  /** The trace document so far (empty `traceEvents` when streaming to a sink). */
  trace(): PerfettoTrace {
    return { traceEvents: this.events, displayTimeUnit: 'ms', otherData: { ...this.otherData } };
  }

  /** The trace as JSON text. */
  json(): string {
    return JSON.stringify(this.trace());
  }

  private instant(
    name: string,
    cat: string,
    ts: number,
    track: string,
    args: Record<string, unknown> | undefined,
  ): void {
    const event: TraceEvent = { name, cat, ph: 'i', s: 't', ts, pid: this.pid(track), tid: 0 };
    if (args !== undefined) event.args = args;
    this.emit(event);
  }

  private counter(name: string, track: string, ts: number, args: Record<string, unknown>): void {
    this.emit({ name, ph: 'C', ts, pid: this.pid(track), tid: 0, args });
  }

  private pid(track: string): number {
    const name = this.prefix + track;
    let id = this.pids.get(name);
    if (id === undefined) {
      id = this.pids.size + 1;
      this.pids.set(name, id);
      this.emit({ name: 'process_name', ph: 'M', pid: id, tid: 0, args: { name } });
    }
    return id;
  }
}

function us(ms: number): number {
  return Math.round(ms * 1_000_000) / 1000;
}
