import type { ClientResponse } from '@dsim/components';
import { LatencyHistogram, type Simulation } from '@dsim/core';
import type { Outcome } from '../scenario.js';
import type { CompiledSystem } from './compile.js';
import type { Phase } from './phases.js';
import { addressesOf } from './validate.js';

interface Tally {
  requests: number;
  ok: number;
  failed: number;
  attempts: number;
  retries: number;
  errors: Map<string, number>;
  latency: LatencyHistogram;
}

const tally = (): Tally => ({
  requests: 0,
  ok: 0,
  failed: 0,
  attempts: 0,
  retries: 0,
  errors: new Map(),
  latency: new LatencyHistogram(),
});

const SVC_ERRORS = ['svc.failed', 'svc.rejected', 'svc.shed', 'svc.expired', 'svc.throttled'];

/** A service's cumulative counters and gauge integrals at one instant, summed over its replicas. */
interface Reading {
  arrived: number;
  completed: number;
  errors: number;
  busy: number;
  queue: number;
}

const per = (x: number, d: number): number | null => (d > 0 ? x / d : null);
const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * Per-phase measurement of a compiled system, with no user code: per clients node, every request is
 * tallied in each phase it started in (from the compile hook `onResponse`); per service and database
 * (replicas summed), the `svc.*` counters and the time integrals of the `svc.busy` / `svc.queue` gauges
 * are read at every phase boundary (timers scheduled before the run). {@link outcome} flattens it all
 * into `<node>.<phase>.<figure>` (see docs/systems.md, "Measured figures").
 *
 * @example
 * ```ts
 * const m = new SystemMeasurement(sim, phases);
 * const sys = compileSystem(sim, system, { onResponse: m.onResponse });
 * m.watch(sys);
 * sim.run();
 * m.outcome(); // { 'users.during.p99': 812.3, 'app.during.utilisation': 0.97, ... }
 * ```
 */
export class SystemMeasurement {
  private readonly clients = new Map<string, Map<string, Tally>>();
  private readonly readings = new Map<number, Map<string, Reading>>();
  private services: Array<{ name: string; concurrency: number; addresses: string[] }> = [];

  constructor(
    private readonly sim: Simulation,
    readonly phases: readonly Phase[],
  ) {}

  /** The compile hook: tallies a finished request in each phase its start falls in. */
  readonly onResponse = (clients: string, startedAt: number, r: ClientResponse<unknown>): void => {
    let byPhase = this.clients.get(clients);
    if (byPhase === undefined) this.clients.set(clients, (byPhase = new Map()));
    for (const p of this.phases) {
      if (startedAt < p.fromMs || startedAt >= p.toMs) continue;
      let t = byPhase.get(p.name);
      if (t === undefined) byPhase.set(p.name, (t = tally()));
      t.requests++;
      t.attempts += r.attempts;
      t.retries += r.retries;
      t.latency.record(r.latency);
      if (r.ok) t.ok++;
      else {
        t.failed++;
        t.errors.set(r.error.kind, (t.errors.get(r.error.kind) ?? 0) + 1);
      }
    }
  };

  /** Registers the system's clients and services and schedules a reading at every phase boundary. */
  watch(sys: CompiledSystem): void {
    for (const [name, node] of Object.entries(sys.description.nodes).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (node.kind === 'clients') this.clients.set(name, new Map());
      if (node.kind !== 'service' && node.kind !== 'database') continue;
      const addresses = addressesOf(sys.description, name);
      const concurrency = addresses.reduce((s, a) => s + sys.services[a]!.concurrency, 0);
      this.services.push({ name, concurrency, addresses });
    }
    const times = [...new Set(this.phases.flatMap((p) => [p.fromMs, p.toMs]))].sort((a, b) => a - b);
    for (const t of times) {
      if (t <= this.sim.now) this.read(t);
      else this.sim.schedule(t - this.sim.now, () => this.read(t));
    }
  }

  private read(t: number): void {
    const m = this.sim.metrics;
    const at = new Map<string, Reading>();
    for (const s of this.services) {
      const r: Reading = { arrived: 0, completed: 0, errors: 0, busy: 0, queue: 0 };
      for (const a of s.addresses) {
        r.arrived += m.counter(a, 'svc.arrived').value;
        r.completed += m.counter(a, 'svc.completed').value;
        for (const e of SVC_ERRORS) r.errors += m.counter(a, e).value;
        r.busy += m.gauge(a, 'svc.busy').integral();
        r.queue += m.gauge(a, 'svc.queue').integral();
      }
      at.set(s.name, r);
    }
    this.readings.set(t, at);
  }

  /** The flat outcome: `<clients>.<phase>.<figure>` and `<service>.<phase>.<figure>`. */
  outcome(): Outcome {
    const out: Outcome = {};
    for (const [name, byPhase] of this.clients) {
      const kinds = [...new Set([...byPhase.values()].flatMap((t) => [...t.errors.keys()]))].sort();
      for (const p of this.phases) {
        const t = byPhase.get(p.name) ?? tally();
        const s = (p.toMs - p.fromMs) / 1000;
        const q = t.latency.summary();
        const k = `${name}.${p.name}.`;
        out[`${k}requests`] = t.requests;
        out[`${k}rate`] = per(t.requests, s);
        out[`${k}goodput`] = per(t.ok, s);
        out[`${k}availability`] = per(t.ok, t.requests);
        out[`${k}errorRate`] = per(t.failed, t.requests);
        for (const kind of kinds) out[`${k}errors.${kind}`] = t.errors.get(kind) ?? 0;
        out[`${k}p50`] = t.requests === 0 ? null : num(q.p50);
        out[`${k}p99`] = t.requests === 0 ? null : num(q.p99);
        out[`${k}p999`] = t.requests === 0 ? null : num(q.p999);
        out[`${k}retries`] = t.retries;
        out[`${k}amplification`] = per(t.attempts, t.requests);
      }
    }
    for (const svc of this.services) {
      for (const p of this.phases) {
        const a = this.readings.get(p.fromMs)?.get(svc.name);
        const b = this.readings.get(p.toMs)?.get(svc.name);
        const k = `${svc.name}.${p.name}.`;
        const ms = p.toMs - p.fromMs;
        const d = (f: keyof Reading) => (a === undefined || b === undefined ? Number.NaN : b[f] - a[f]);
        out[`${k}rate`] = num(per(d('arrived'), ms / 1000) ?? Number.NaN);
        out[`${k}goodput`] = num(per(d('completed'), ms / 1000) ?? Number.NaN);
        out[`${k}errorRate`] = num(per(d('errors'), d('arrived')) ?? Number.NaN);
        out[`${k}queue`] = num(per(d('queue'), ms) ?? Number.NaN);
        out[`${k}utilisation`] = num(per(d('busy'), ms * svc.concurrency) ?? Number.NaN);
      }
    }
    return out;
  }
}
