import { type CanaryRollout, type ClientResponse, CRITICALITIES } from '@dsim/components';
import { DsimError, didYouMean, LatencyHistogram, type Simulation, showValue } from '@dsim/core';
import type { Outcome } from '../scenario.js';
import { type ActivatorReading, activatorReading, zeroSummary } from './activator.js';
import { type AutoscaleHandle, poolReading, scaleSummary } from './autoscale.js';
import { autoscaleBounds } from './autoscale-check.js';
import { type BalancerHandle, type BalancerReading, balancerReading } from './balancer.js';
import type { CompiledSystem } from './compile.js';
import type { DiscoveryHandle } from './discovery.js';
import { type GatewayReading, gatewayReading } from './gateway.js';
import { type GlobalLimitHandle, type GlobalLimitReading, globalLimitReading } from './global-rate-limit.js';
import { systemGraph } from './graph/graph.js';
import { type MeshReading, meshReading } from './mesh.js';
import type { Phase } from './phases.js';
import { rolloutOutcome } from './rollout.js';
import { type SagaHandle, sagaOutcome } from './saga.js';
import { type StranglerReading, stranglerReading } from './strangler.js';
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
/** A cache server's answered reads, by outcome: their sum is the reads a shard served. */
const SHARD_READS = ['cache.hits', 'cache.misses', 'cache.stale-hits', 'cache.negative-hits'];

/** A service's cumulative counters and gauge integrals at one instant, summed over its replicas. */
interface Reading {
  arrived: number;
  completed: number;
  /** Refused by the rate limiter (`svc.throttled`). */
  throttled: number;
  errors: number;
  busy: number;
  queue: number;
  /** An autoscaled service's replica-ms counted and ready (zero otherwise). */
  replicasMs: number;
  readyMs: number;
  /** Cache-aside reads and hits (zero without cache-aside). */
  reads: number;
  hits: number;
  /** Admitted and refused by the `concurrencyLimit`, and its limit's time integral (zero without one). */
  limitAdmitted: number;
  limitRefused: number;
  limitMs: number;
  /** With admission by criticality: admitted and refused per level, in CRITICALITIES order (else empty). */
  levelAdmitted: number[];
  levelRefused: number[];
}

/** The numeric fields of a {@link Reading}. */
type Figure = { [K in keyof Reading]: Reading[K] extends number ? K : never }[keyof Reading];

/** A cdn node's cumulative counters at one instant (PoPs summed). */
interface CdnReading {
  /** Requests for an object at the PoPs (`cdn.requests`), and their hits and errors. */
  requests: number;
  hits: number;
  errors: number;
  /** The shield's requests and hits (0 without a shield). */
  shieldRequests: number;
  shieldHits: number;
  /** Fetches from the origin (`cdn.fetches` of the shield, else of the PoPs). */
  originFetches: number;
}

/** Records (or messages) a consumer group (or workers) processed in one phase, by when they were appended. */
interface ConsumeTally {
  records: number;
  failed: number;
  latency: LatencyHistogram;
}

/** Calls on one edge in one phase. */
interface EdgeTally {
  calls: number;
  failed: number;
  /** Failed calls by error kind. */
  errors: Map<string, number>;
  latency: LatencyHistogram;
}

/** Per-second counts of a clients node (index: simulated second). */
export interface ClientSeconds {
  /** Requests started in each second. */
  started: number[];
  /** Attempts (first, retries, hedges) started in each second. */
  attempts: number[];
  /** Requests that ended ok in each second (by when they ended). */
  ok: number[];
  /** Requests that ended failed in each second (by when they ended). */
  failed: number[];
}

const bump = (a: number[], t: number): void => {
  const i = Math.floor(t / 1000);
  while (a.length <= i) a.push(0);
  a[i]!++;
};

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
  private services: Array<{
    name: string;
    concurrency: number;
    addresses: string[];
    aside: boolean;
    limited: boolean;
    /** With a `concurrencyLimit`: its refusals and mean limit are measured. */
    concurrencyLimited: boolean;
    /** With a `concurrencyLimit` that admits by criticality: its refusals per level too. */
    byCriticality: boolean;
    /**
     * An autoscaled service: its pool and autoscaler, and one replica's workers; `readyAt` (when each
     * replica became ready) when it can scale to zero, for its cold starts.
     */
    scaled:
      | { handle: AutoscaleHandle; start: number; perReplica: number; readyAt: number[] | undefined }
      | undefined;
  }> = [];
  private readonly edges = new Map<string, Map<string, EdgeTally>>();
  private readonly owner = new Map<string, string>();
  private readonly seconds = new Map<string, ClientSeconds>();
  private readonly consumed = new Map<string, Map<string, ConsumeTally>>();
  /** Consumer nodes and the metrics node of their group's lag gauge. */
  private groups: Array<{ name: string; node: string }> = [];
  /** Worker nodes and the metrics node of their queue's ready gauge (on the broker clients connect to). */
  private workers: Array<{ name: string; node: string }> = [];
  private readonly ready = new Map<number, Map<string, number>>();
  private balancers: Array<{ name: string; handle: BalancerHandle }> = [];
  private readonly lbReadings = new Map<number, Map<string, BalancerReading>>();
  /** Sharded caches and their shard addresses. */
  private shardedCaches: Array<{ name: string; shards: string[] }> = [];
  private readonly shardReads = new Map<number, Map<string, number[]>>();
  private readonly lag = new Map<number, Map<string, number>>();
  /** Cdn nodes: their PoPs, their shield, and the tiers that call the origin. */
  private cdns: Array<{ name: string; pops: string[]; shield: string | null; fetchers: string[] }> = [];
  private readonly cdnReadings = new Map<number, Map<string, CdnReading>>();
  /** Gateway and strangler nodes, read at every phase boundary. */
  private gateways: Array<{ name: string; read: () => GatewayReading }> = [];
  private readonly gatewayReadings = new Map<number, Map<string, GatewayReading>>();
  private stranglers: Array<{
    name: string;
    routes: readonly string[];
    read: () => StranglerReading;
    /** Its canary rollouts by route (none without `rollout`). */
    rollouts: Readonly<Record<string, CanaryRollout>>;
  }> = [];
  private readonly stranglerReadings = new Map<number, Map<string, StranglerReading>>();
  /** Services with a `globalRateLimit`, read at every phase boundary. */
  private globalLimits: Array<{ name: string; handle: GlobalLimitHandle }> = [];
  private readonly globalReadings = new Map<number, Map<string, GlobalLimitReading>>();
  /** Balancers with `discovery`: their handles, integrals by time, and stale calls by phase. */
  private discovering = new Map<string, DiscoveryHandle>();
  private readonly discoveryReadings = new Map<number, Map<string, { listedMs: number; staleMs: number }>>();
  private readonly staleCalls = new Map<string, Map<string, { calls: number; failed: number }>>();
  /** Saga nodes: their figures come from the ledger after the run. */
  private sagas: Array<{ name: string; handle: SagaHandle }> = [];
  /** Activator nodes, read at every phase boundary. */
  private activators: string[] = [];
  private readonly activatorReadings = new Map<number, Map<string, ActivatorReading>>();
  /** The mesh's reader, if the system has one, and its readings by time. */
  private meshRead: (() => MeshReading) | undefined;
  private readonly meshReadings = new Map<number, MeshReading>();

  constructor(
    private readonly sim: Simulation,
    readonly phases: readonly Phase[],
  ) {}

  /** The compile hook: tallies a finished request in each phase its start falls in. */
  readonly onResponse = (clients: string, startedAt: number, r: ClientResponse<unknown>): void => {
    const sec = this.secondsOf(clients);
    bump(sec.started, startedAt);
    bump(r.ok ? sec.ok : sec.failed, this.sim.now);
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

  /** The compile hook: counts a clients node's attempts per second. */
  readonly onAttempt = (clients: string): void => bump(this.secondsOf(clients).attempts, this.sim.now);

  /** The compile hook: tallies a call on an edge in each phase its start falls in. */
  readonly onEdge = (
    from: string,
    to: string,
    startedAt: number,
    ok: boolean,
    kind: string | undefined,
    latency: number,
  ): void => {
    const discovery = this.discovering.get(from);
    if (discovery?.goneAt(to, startedAt)) {
      // A call to an endpoint the balancer still listed after it went: stale discovery.
      let byPhase = this.staleCalls.get(from);
      if (byPhase === undefined) this.staleCalls.set(from, (byPhase = new Map()));
      for (const p of this.phases) {
        if (startedAt < p.fromMs || startedAt >= p.toMs) continue;
        let t = byPhase.get(p.name);
        if (t === undefined) byPhase.set(p.name, (t = { calls: 0, failed: 0 }));
        t.calls++;
        if (!ok) t.failed++;
      }
    }
    const key = `${from}->${this.owner.get(to) ?? to}`;
    let byPhase = this.edges.get(key);
    if (byPhase === undefined) this.edges.set(key, (byPhase = new Map()));
    for (const p of this.phases) {
      if (startedAt < p.fromMs || startedAt >= p.toMs) continue;
      let t = byPhase.get(p.name);
      if (t === undefined)
        byPhase.set(
          p.name,
          (t = { calls: 0, failed: 0, errors: new Map(), latency: new LatencyHistogram() }),
        );
      t.calls++;
      if (!ok) {
        t.failed++;
        const k = kind ?? 'error';
        t.errors.set(k, (t.errors.get(k) ?? 0) + 1);
      }
      t.latency.record(latency);
    }
  };

  /** The compile hook: tallies a processed record in each phase its append falls in. */
  readonly onConsume = (consumer: string, appendedAt: number, endToEnd: number, ok = true): void => {
    let byPhase = this.consumed.get(consumer);
    if (byPhase === undefined) this.consumed.set(consumer, (byPhase = new Map()));
    for (const p of this.phases) {
      if (appendedAt < p.fromMs || appendedAt >= p.toMs) continue;
      let t = byPhase.get(p.name);
      if (t === undefined)
        byPhase.set(p.name, (t = { records: 0, failed: 0, latency: new LatencyHistogram() }));
      t.records++;
      if (!ok) t.failed++;
      t.latency.record(endToEnd);
    }
  };

  /** Per-second counts of a clients node (empty arrays for a node that sent nothing). */
  perSecond(clients: string): ClientSeconds {
    if (!this.clients.has(clients)) {
      const guess = didYouMean(clients, [...this.clients.keys()]);
      throw new DsimError(
        'CONFIG_ERROR',
        `perSecond: no clients node ${showValue(clients)}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}`,
        { details: { field: 'clients', value: clients } },
      );
    }
    return this.secondsOf(clients);
  }

  private secondsOf(clients: string): ClientSeconds {
    let s = this.seconds.get(clients);
    if (s === undefined) this.seconds.set(clients, (s = { started: [], attempts: [], ok: [], failed: [] }));
    return s;
  }

  /** Registers the system's clients and services and schedules a reading at every phase boundary. */
  watch(sys: CompiledSystem): void {
    for (const [name, node] of Object.entries(sys.description.nodes).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const addresses = addressesOf(sys.description, name);
      for (const a of addresses) this.owner.set(a, name);
      if (node.kind === 'clients') this.clients.set(name, new Map());
      if (node.kind === 'consumer') {
        this.consumed.set(name, new Map());
        this.groups.push({ name, node: `group:${sys.consumers[name]!.group}` });
      }
      if (node.kind === 'balancer') this.balancers.push({ name, handle: sys.balancerHandles[name]! });
      const discovery = sys.discovery[name];
      if (discovery !== undefined) this.discovering.set(name, discovery);
      if (node.kind === 'cache' && addresses.length > 1) this.shardedCaches.push({ name, shards: addresses });
      if (node.kind === 'cdn') {
        const h = sys.cdns[name]!;
        const shield = h.shield?.address ?? null;
        const fetchers = h.originCallers.map((c) => c.address);
        this.cdns.push({ name, pops: h.pops.map((c) => c.address), shield, fetchers });
      }
      if (node.kind === 'gateway') {
        const gateway = sys.gateways[name]!;
        this.gateways.push({ name, read: () => gatewayReading(gateway) });
      }
      if (node.kind === 'strangler') {
        const facade = sys.stranglers[name]!;
        this.stranglers.push({
          name,
          routes: facade.routeNames,
          read: () => stranglerReading(facade),
          rollouts: sys.rollouts[name] ?? {},
        });
      }
      if (node.kind === 'activator') this.activators.push(name);
      if (node.kind === 'saga') this.sagas.push({ name, handle: sys.sagas[name]! });
      if (node.kind === 'worker') {
        this.consumed.set(name, new Map());
        this.workers.push({ name, node: `${sys.amqp[node.source]!.entry}/${node.queue}` });
      }
      if (node.kind !== 'service' && node.kind !== 'database') continue;
      const concurrency = addresses.reduce((s, a) => s + sys.services[a]!.concurrency, 0);
      const aside = node.kind === 'service' && node.cacheAside !== undefined;
      const handle = sys.autoscaled[name];
      // Replicas created later are edge targets too (balancer -> replica counts as balancer -> service).
      handle?.pool.onReady((r) => this.owner.set(r.address, name));
      const global = sys.globalLimits[name];
      if (global !== undefined) this.globalLimits.push({ name, handle: global });
      const a = node.kind === 'service' ? node.autoscale : undefined;
      const toZero = a !== undefined && a.policy !== 'scheduled' && autoscaleBounds(a).min === 0;
      const readyAt = toZero ? ([] as number[]) : undefined;
      if (readyAt !== undefined) handle?.pool.onReady(() => readyAt.push(this.sim.now));
      const scaled =
        handle === undefined
          ? undefined
          : {
              handle,
              start: addresses.length,
              // Started at zero: no replica to count the workers of, so the description's (Service's default 1).
              perReplica:
                addresses.length > 0
                  ? concurrency / addresses.length
                  : ((node as { concurrency?: number }).concurrency ?? 1),
              readyAt,
            };
      this.services.push({
        name,
        concurrency,
        addresses,
        aside,
        limited: node.rateLimit !== undefined,
        concurrencyLimited: node.kind === 'service' && node.concurrencyLimit !== undefined,
        byCriticality: node.kind === 'service' && node.concurrencyLimit?.criticality !== undefined,
        scaled,
      });
    }
    const mesh = sys.mesh?.mesh;
    if (mesh !== undefined) this.meshRead = () => meshReading(mesh);
    // A choreographed saga's events go through the broker's queues, not calls: no edge figures for them.
    const buses = new Set(
      Object.values(sys.description.nodes).flatMap((n) =>
        n.kind === 'saga' && n.choreography !== undefined ? [n.choreography.amqp] : [],
      ),
    );
    for (const e of systemGraph(sys.description).edges) {
      if (buses.has(e.to) && e.label === 'publish' && sys.description.nodes[e.from]?.kind === 'saga')
        continue;
      if (buses.has(e.from) && sys.description.nodes[e.to]?.kind === 'saga-participant') continue;
      if (!this.edges.has(`${e.from}->${e.to}`)) this.edges.set(`${e.from}->${e.to}`, new Map());
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
      const r: Reading = {
        arrived: 0,
        completed: 0,
        throttled: 0,
        errors: 0,
        busy: 0,
        queue: 0,
        replicasMs: 0,
        readyMs: 0,
        reads: 0,
        hits: 0,
        limitAdmitted: 0,
        limitRefused: 0,
        limitMs: 0,
        levelAdmitted: s.byCriticality ? CRITICALITIES.map(() => 0) : [],
        levelRefused: s.byCriticality ? CRITICALITIES.map(() => 0) : [],
      };
      const pool = s.scaled?.handle.pool;
      if (pool !== undefined) Object.assign(r, poolReading(this.sim, pool));
      // Every replica the pool ever created (`<name>-0` ...): terminated ones served until then.
      const addresses =
        pool === undefined
          ? s.addresses
          : Array.from({ length: pool.stats.created }, (_, i) => `${pool.name}-${i}`);
      for (const a of addresses) {
        if (s.aside) {
          r.reads += m.counter(`${a}/aside`, 'aside.reads').value;
          r.hits += m.counter(`${a}/aside`, 'aside.hits').value;
        }
        r.arrived += m.counter(a, 'svc.arrived').value;
        r.completed += m.counter(a, 'svc.completed').value;
        r.throttled += m.counter(a, 'svc.throttled').value;
        for (const e of SVC_ERRORS) r.errors += m.counter(a, e).value;
        r.busy += m.gauge(a, 'svc.busy').integral();
        r.queue += m.gauge(a, 'svc.queue').integral();
        if (s.concurrencyLimited) {
          r.limitAdmitted += m.counter(a, 'limiter.admitted').value;
          r.limitRefused += m.counter(a, 'limiter.rejected').value;
          r.limitMs += m.gauge(a, 'limiter.limit').integral();
        }
        if (s.byCriticality)
          CRITICALITIES.forEach((c, i) => {
            r.levelAdmitted[i]! += m.counter(a, `limiter.admitted.${c}`).value;
            r.levelRefused[i]! += m.counter(a, `limiter.rejected.${c}`).value;
          });
      }
      at.set(s.name, r);
    }
    this.readings.set(t, at);
    const lag = new Map<string, number>();
    for (const g of this.groups) lag.set(g.name, m.gauge(g.node, 'kafka.consumer-group.lag').integral());
    this.lag.set(t, lag);
    const lb = new Map<string, BalancerReading>();
    for (const b of this.balancers) lb.set(b.name, balancerReading(this.sim, b.handle));
    this.lbReadings.set(t, lb);
    const shards = new Map<string, number[]>();
    for (const c of this.shardedCaches)
      shards.set(
        c.name,
        c.shards.map((a) => SHARD_READS.reduce((sum, k) => sum + m.counter(a, k).value, 0)),
      );
    this.shardReads.set(t, shards);
    const cdns = new Map<string, CdnReading>();
    const sum = (addresses: readonly string[], metric: string) =>
      addresses.reduce((total, a) => total + m.counter(a, metric).value, 0);
    for (const c of this.cdns)
      cdns.set(c.name, {
        requests: sum(c.pops, 'cdn.requests'),
        hits: sum(c.pops, 'cdn.hits'),
        errors: sum(c.pops, 'cdn.errors'),
        shieldRequests: c.shield === null ? 0 : sum([c.shield], 'cdn.requests'),
        shieldHits: c.shield === null ? 0 : sum([c.shield], 'cdn.hits'),
        originFetches: sum(c.fetchers, 'cdn.fetches'),
      });
    this.cdnReadings.set(t, cdns);
    const ready = new Map<string, number>();
    for (const w of this.workers) ready.set(w.name, m.gauge(w.node, 'amqp.ready').integral());
    this.ready.set(t, ready);
    this.gatewayReadings.set(t, new Map(this.gateways.map((g) => [g.name, g.read()])));
    this.stranglerReadings.set(t, new Map(this.stranglers.map((g) => [g.name, g.read()])));
    if (this.meshRead !== undefined) this.meshReadings.set(t, this.meshRead());
    this.activatorReadings.set(t, new Map(this.activators.map((a) => [a, activatorReading(this.sim, a)])));
    this.discoveryReadings.set(t, new Map([...this.discovering].map(([n, h]) => [n, h.integrals()])));
    this.globalReadings.set(t, new Map(this.globalLimits.map((g) => [g.name, globalLimitReading(g.handle)])));
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
        const d = (f: Figure) => (a === undefined || b === undefined ? Number.NaN : b[f] - a[f]);
        out[`${k}rate`] = num(per(d('arrived'), ms / 1000) ?? Number.NaN);
        out[`${k}goodput`] = num(per(d('completed'), ms / 1000) ?? Number.NaN);
        if (svc.limited) out[`${k}throttled`] = num(per(d('throttled'), ms / 1000) ?? Number.NaN);
        if (svc.concurrencyLimited) {
          // Refused by the concurrency limit, of the requests offered to it; the limit per replica, time-averaged.
          out[`${k}limitRefused`] = num(d('limitRefused'));
          out[`${k}limitRefusedShare`] = num(
            per(d('limitRefused'), d('limitRefused') + d('limitAdmitted')) ?? Number.NaN,
          );
          out[`${k}meanLimit`] = num(per(d('limitMs'), ms * svc.addresses.length) ?? Number.NaN);
        }
        if (svc.byCriticality)
          CRITICALITIES.forEach((c, i) => {
            const at = (r: Reading | undefined, f: 'levelAdmitted' | 'levelRefused') =>
              r?.[f][i] ?? Number.NaN;
            const refused = at(b, 'levelRefused') - at(a, 'levelRefused');
            const admitted = at(b, 'levelAdmitted') - at(a, 'levelAdmitted');
            // Per criticality: refused, and the share of that level's requests offered to the limit.
            out[`${k}limitRefused.${c}`] = num(refused);
            out[`${k}limitRefusedShare.${c}`] = num(per(refused, refused + admitted) ?? Number.NaN);
          });
        out[`${k}errorRate`] = num(per(d('errors'), d('arrived')) ?? Number.NaN);
        out[`${k}queue`] = num(per(d('queue'), ms) ?? Number.NaN);
        const scaled = svc.scaled;
        if (scaled === undefined)
          out[`${k}utilisation`] = num(per(d('busy'), ms * svc.concurrency) ?? Number.NaN);
        else {
          // Busy workers over the workers of the ready replicas, time-averaged; then the replica counts.
          out[`${k}utilisation`] = num(per(d('busy'), d('readyMs') * scaled.perReplica) ?? Number.NaN);
          out[`${k}replicas`] = num(d('replicasMs') / ms);
          out[`${k}readyReplicas`] = num(d('readyMs') / ms);
          const e = scaleSummary(scaled.handle.autoscaler.events, scaled.start, p.fromMs, p.toMs);
          out[`${k}maxReplicas`] = e.max;
          out[`${k}scaleUps`] = e.ups;
          out[`${k}scaleDowns`] = e.downs;
          if (scaled.readyAt !== undefined) {
            // Scale to zero: the share of the phase with no replica, the wakes and their cold starts.
            const z = zeroSummary(
              scaled.handle.autoscaler.events,
              scaled.start,
              scaled.readyAt,
              p.fromMs,
              p.toMs,
            );
            out[`${k}timeAtZero`] = num(z.zeroMs / ms);
            out[`${k}coldStarts`] = z.wakes;
            out[`${k}coldStartMs`] =
              z.coldStartsMs.length === 0
                ? null
                : z.coldStartsMs.reduce((s, x) => s + x, 0) / z.coldStartsMs.length;
          }
        }
        if (svc.aside) out[`${k}hitRatio`] = num(per(d('hits'), d('reads')) ?? Number.NaN);
      }
    }
    for (const g of this.groups) {
      const byPhase = this.consumed.get(g.name)!;
      for (const p of this.phases) {
        const t = byPhase.get(p.name);
        const k = `${g.name}.${p.name}.`;
        const q = t?.latency.summary();
        const a = this.lag.get(p.fromMs)?.get(g.name);
        const b = this.lag.get(p.toMs)?.get(g.name);
        out[`${k}rate`] = per(t?.records ?? 0, (p.toMs - p.fromMs) / 1000);
        out[`${k}p50`] = q === undefined ? null : num(q.p50);
        out[`${k}p99`] = q === undefined ? null : num(q.p99);
        out[`${k}lag`] = a === undefined || b === undefined ? null : num((b - a) / (p.toMs - p.fromMs));
      }
    }
    for (const b of this.balancers) {
      for (const p of this.phases) {
        const x = this.lbReadings.get(p.fromMs)?.get(b.name);
        const y = this.lbReadings.get(p.toMs)?.get(b.name);
        const k = `${b.name}.${p.name}.`;
        const ms = p.toMs - p.fromMs;
        const d = (f: keyof BalancerReading) =>
          x === undefined || y === undefined ? Number.NaN : y[f] - x[f];
        const refused = d('failed') + d('overloaded') + d('noBackend');
        out[`${k}rate`] = num(d('requests') / (ms / 1000));
        out[`${k}errorRate`] = num(per(refused, d('requests')) ?? Number.NaN);
        out[`${k}retries`] = num(d('retries'));
        out[`${k}retryOverflow`] = num(d('retryOverflow'));
        out[`${k}hedges`] = num(d('hedges'));
        out[`${k}ejections`] = num(d('ejections'));
        out[`${k}ejected`] = num(d('ejectedMs') / ms);
      }
    }
    for (const c of this.shardedCaches) {
      for (const p of this.phases) {
        const x = this.shardReads.get(p.fromMs)?.get(c.name);
        const y = this.shardReads.get(p.toMs)?.get(c.name);
        const reads = x === undefined || y === undefined ? [] : y.map((v, i) => v - x[i]!);
        const total = reads.reduce((s, v) => s + v, 0);
        out[`${c.name}.${p.name}.maxShardShare`] = total > 0 ? Math.max(...reads) / total : null;
      }
    }
    for (const c of this.cdns) {
      for (const p of this.phases) {
        const x = this.cdnReadings.get(p.fromMs)?.get(c.name);
        const y = this.cdnReadings.get(p.toMs)?.get(c.name);
        const k = `${c.name}.${p.name}.`;
        const d = (f: keyof CdnReading) => (x === undefined || y === undefined ? Number.NaN : y[f] - x[f]);
        const requests = d('requests');
        out[`${k}rate`] = num(requests / ((p.toMs - p.fromMs) / 1000));
        out[`${k}hitRatio`] = num(per(d('hits'), requests) ?? Number.NaN);
        if (c.shield !== null)
          out[`${k}shieldHitRatio`] = num(per(d('shieldHits'), d('shieldRequests')) ?? Number.NaN);
        out[`${k}offload`] = num(1 - (per(d('originFetches'), requests) ?? Number.NaN));
        out[`${k}originRate`] = num(d('originFetches') / ((p.toMs - p.fromMs) / 1000));
        out[`${k}errorRate`] = num(per(d('errors'), requests) ?? Number.NaN);
      }
    }
    for (const g of this.gateways) {
      for (const p of this.phases) {
        const x = this.gatewayReadings.get(p.fromMs)?.get(g.name);
        const y = this.gatewayReadings.get(p.toMs)?.get(g.name);
        const k = `${g.name}.${p.name}.`;
        const s = (p.toMs - p.fromMs) / 1000;
        const d = (f: keyof GatewayReading) =>
          x === undefined || y === undefined ? Number.NaN : y[f] - x[f];
        out[`${k}rate`] = num(d('requests') / s);
        out[`${k}goodput`] = num(d('ok') / s);
        out[`${k}errorRate`] = num(per(d('failed'), d('requests')) ?? Number.NaN);
        out[`${k}rejected`] = num(d('rejected') / s);
        out[`${k}timedOut`] = num(d('timedOut') / s);
        out[`${k}late`] = num(d('late') / s);
        out[`${k}degraded`] = num(d('degraded') / s);
      }
    }
    for (const f of this.stranglers) {
      for (const p of this.phases) {
        const x = this.stranglerReadings.get(p.fromMs)?.get(f.name);
        const y = this.stranglerReadings.get(p.toMs)?.get(f.name);
        const k = `${f.name}.${p.name}.`;
        const s = (p.toMs - p.fromMs) / 1000;
        const d = (g: (r: StranglerReading) => number) =>
          x === undefined || y === undefined ? Number.NaN : g(y) - g(x);
        out[`${k}rate`] = num(d((r) => r.requests) / s);
        out[`${k}errorRate`] = num(
          per(
            d((r) => r.failed),
            d((r) => r.requests),
          ) ?? Number.NaN,
        );
        out[`${k}shadowRate`] = num(d((r) => r.shadowSent) / s);
        out[`${k}shadowErrorRate`] = num(
          per(
            d((r) => r.shadowFailed),
            d((r) => r.shadowSent),
          ) ?? Number.NaN,
        );
        for (const route of f.routes) {
          const modern = d((r) => r.routes[route]!.modern);
          out[`${k}modernShare.${route}`] = num(
            per(modern, modern + d((r) => r.routes[route]!.legacy)) ?? Number.NaN,
          );
          // A rolled-out route's weight changes during the run: its weight as the phase ends.
          if (route in f.rollouts) out[`${k}weight.${route}`] = y?.routes[route]?.weight ?? null;
        }
      }
      Object.assign(out, rolloutOutcome(f.name, f.rollouts));
    }
    for (const s of this.sagas) Object.assign(out, sagaOutcome(s.name, s.handle, this.phases));
    for (const [name, handle] of this.discovering) {
      for (const p of this.phases) {
        const x = this.discoveryReadings.get(p.fromMs)?.get(name);
        const y = this.discoveryReadings.get(p.toMs)?.get(name);
        const k = `${name}.${p.name}.`;
        const ms = p.toMs - p.fromMs;
        out[`${k}endpoints`] =
          x === undefined || y === undefined ? null : num((y.listedMs - x.listedMs) / ms);
        out[`${k}staleEndpoints`] =
          x === undefined || y === undefined ? null : num((y.staleMs - x.staleMs) / ms);
        const s = this.staleCalls.get(name)?.get(p.name);
        out[`${k}staleCalls`] = s?.calls ?? 0;
        out[`${k}staleCallErrors`] = s?.failed ?? 0;
      }
      // The staleness windows of the run: from each departure to the balancer dropping the endpoint.
      const windows = handle.departures.flatMap((d) =>
        d.droppedAt === undefined ? [] : [d.droppedAt - d.at],
      );
      const k = `${name}.discovery.`;
      out[`${k}departures`] = handle.departures.length;
      // Neither dropped nor back (restarted) by the end of the run.
      out[`${k}undropped`] = handle.departures.filter(
        (d) => d.droppedAt === undefined && d.returnedAt === undefined,
      ).length;
      out[`${k}meanStaleMs`] =
        windows.length === 0 ? null : windows.reduce((a, b) => a + b, 0) / windows.length;
      out[`${k}maxStaleMs`] = windows.length === 0 ? null : Math.max(...windows);
    }
    for (const { name, handle } of this.globalLimits)
      for (const p of this.phases) {
        const x = this.globalReadings.get(p.fromMs)?.get(name);
        const y = this.globalReadings.get(p.toMs)?.get(name);
        const k = `${name}.${p.name}.`;
        const d = (f: keyof GlobalLimitReading) =>
          x === undefined || y === undefined ? Number.NaN : y[f] - x[f];
        out[`${k}limitRejected`] = num(d('rejected'));
        out[`${k}failedOpen`] = num(d('failedOpen'));
        out[`${k}failedClosed`] = num(d('failedClosed'));
        out[`${k}storeCalls`] = num(d('storeCalls'));
        // Against the global limit, over the limit's windows that lie wholly in the phase (by arrival).
        const w = handle.windowMs;
        const from = Math.ceil(p.fromMs / w);
        const to = Math.max(from, Math.floor(p.toMs / w));
        const acc = handle.accuracy.totals(from, to);
        out[`${k}limitWindows`] = acc.windows;
        out[`${k}globalAdmitted`] = acc.windows === 0 ? null : acc.admitted / acc.windows;
        out[`${k}overAdmitted`] = acc.over;
        out[`${k}underAdmitted`] = acc.under;
      }
    for (const name of this.activators)
      for (const p of this.phases) {
        const x = this.activatorReadings.get(p.fromMs)?.get(name);
        const y = this.activatorReadings.get(p.toMs)?.get(name);
        const k = `${name}.${p.name}.`;
        const d = (f: keyof ActivatorReading) =>
          x === undefined || y === undefined ? Number.NaN : y[f] - x[f];
        out[`${k}rate`] = num(d('requests') / ((p.toMs - p.fromMs) / 1000));
        out[`${k}held`] = num(d('held'));
        out[`${k}expired`] = num(d('expired'));
        out[`${k}overflow`] = num(d('overflow'));
        out[`${k}wakes`] = num(d('wakes'));
      }
    if (this.meshRead !== undefined)
      for (const p of this.phases) {
        const x = this.meshReadings.get(p.fromMs);
        const y = this.meshReadings.get(p.toMs);
        const k = `mesh.${p.name}.`;
        const ms = p.toMs - p.fromMs;
        const d = (f: keyof MeshReading) => (x === undefined || y === undefined ? Number.NaN : y[f] - x[f]);
        out[`${k}proxyCpu`] = num(d('cpuMs') / ms);
        out[`${k}hops`] = num(d('hops') / (ms / 1000));
        out[`${k}hopMean`] = num(per(d('hopMs'), d('hops')) ?? Number.NaN);
      }
    for (const w of this.workers) {
      const byPhase = this.consumed.get(w.name)!;
      for (const p of this.phases) {
        const t = byPhase.get(p.name);
        const k = `${w.name}.${p.name}.`;
        const q = t?.latency.summary();
        const a = this.ready.get(p.fromMs)?.get(w.name);
        const b = this.ready.get(p.toMs)?.get(w.name);
        out[`${k}rate`] = per(t?.records ?? 0, (p.toMs - p.fromMs) / 1000);
        out[`${k}errorRate`] = t === undefined ? null : per(t.failed, t.records);
        out[`${k}p50`] = q === undefined ? null : num(q.p50);
        out[`${k}p99`] = q === undefined ? null : num(q.p99);
        out[`${k}queue`] = a === undefined || b === undefined ? null : num((b - a) / (p.toMs - p.fromMs));
      }
    }
    for (const [edge, byPhase] of [...this.edges].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const kinds = [...new Set([...byPhase.values()].flatMap((t) => [...t.errors.keys()]))].sort();
      for (const p of this.phases) {
        const t = byPhase.get(p.name);
        const k = `${edge}.${p.name}.`;
        const q = t?.latency.summary();
        out[`${k}rate`] = t === undefined ? 0 : (per(t.calls, (p.toMs - p.fromMs) / 1000) ?? 0);
        out[`${k}errorRate`] = t === undefined ? null : per(t.failed, t.calls);
        for (const kind of kinds) out[`${k}errors.${kind}`] = t?.errors.get(kind) ?? 0;
        out[`${k}p50`] = q === undefined ? null : num(q.p50);
        out[`${k}p99`] = q === undefined ? null : num(q.p99);
      }
    }
    return out;
  }
}
