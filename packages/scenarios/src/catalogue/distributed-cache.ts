import {
  CacheAside,
  CacheConsistency,
  CacheServer,
  createKeys,
  createPlacement,
  DistributedCache,
  type DistributedCacheStats,
  type LoadResult,
  PLACEMENT_KINDS,
  type PlacementSpec,
  READ_POLICIES,
  Service,
  zipfProbabilities,
} from '@dsim/components';
import {
  exponential,
  Network,
  RpcEndpoint,
  type RpcRequest,
  type SimEvent,
  scheduleFaults,
} from '@dsim/core';
import { param } from '../params.js';
import { meanRate, recoveryAfter } from '../recovery.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_OFFERED, MAX_RATE, MAX_SECONDS, MAX_WORKERS, MAX_ZIPF } from './limits.js';

/** A database row: its key and version. */
interface Row {
  readonly key: string;
  readonly version: number;
}

type DbRequest = { readonly op: 'get'; readonly key: string } | { readonly op: 'put'; readonly key: string };

/** The node that crashes. */
const VICTIM = 'cache-3';
/** Width of the before / during / after windows, in seconds. */
const WINDOW = 10;

/**
 * `distributed-cache`: application servers read Zipf-popular keys through a distributed cache
 * ({@link DistributedCache}: keys sharded over N cache servers) in front of a database, cache-aside, with a
 * share of writes that update the database and then the cache. The tier starts warm (a warm-up pass stores
 * every key; entries live until replaced unless `ttlMs` is set). At `crashAt` one cache node crashes; the
 * clients' health checks remove it about three seconds later, and its keys move. It returns cold after
 * `downFor`.
 *
 * Variants: `ring` (consistent hashing: about 1/N of the keys move, a modest miss storm), `modulo`
 * (hash mod N: about (N − 1)/N move, a miss storm that overloads the database), `maglev`, and
 * `ring-replicated` (two copies, reads from either with failover: the promoted replica is warm, so there is
 * almost no miss storm, but replica reads within the replication lag of a write are stale).
 *
 * @example
 * ```ts
 * const result = runScenario(distributedCache, { seed: 1 });
 * result.variants.map((v) => [v.name, v.outcome.originPeakRatio, v.outcome.movedKeyShare]);
 * ```
 */
export const distributedCache = defineScenario({
  name: 'distributed-cache',
  description:
    'A cache node crashes under load: keys moved and miss storm per placement; stale reads with replicas',
  params: {
    nodes: param.integer({ default: 8, min: 4, max: 64, description: 'cache nodes (N; cache-3 crashes)' }),
    placement: param.enum(PLACEMENT_KINDS, {
      default: 'ring',
      description: 'key placement (variants set it)',
    }),
    replicas: param.integer({ default: 1, min: 1, max: 4, description: 'copies of each key (R)' }),
    readPolicy: param.enum(READ_POLICIES, {
      default: 'any',
      description: 'where reads go among the copies (with replicas > 1)',
    }),
    missFailover: param.boolean({
      default: true,
      description: 'a replica that misses hands the read to the primary (with replicas > 1)',
    }),
    lagMs: param.number({ default: 20, min: 0, max: MAX_MS, description: 'replication lag (constant)' }),
    // Every key is stored at warm-up, on every replica, and tracked for consistency: ~2.5 KB a key.
    keys: param.integer({ default: 100_000, min: 10, max: 250_000, description: 'distinct keys' }),
    skew: param.number({
      default: 0.99,
      min: 0,
      max: MAX_ZIPF,
      description: 'Zipf exponent of key popularity',
    }),
    rate: param.number({
      default: 5000,
      min: 0,
      max: MAX_RATE,
      exclusiveMin: true,
      description: 'requests per second',
    }),
    writeShare: param.number({
      default: 0.05,
      min: 0,
      max: 1,
      description: 'share of requests that write (database, then cache)',
    }),
    apps: param.integer({ default: 4, min: 1, max: 64, description: 'application servers' }),
    ttlMs: param.number({
      default: 0,
      min: 0,
      max: MAX_MS,
      description: 'TTL of cached entries (0: none; entries live until replaced)',
    }),
    dbWorkers: param.integer({ default: 16, min: 1, max: MAX_WORKERS, description: 'database workers' }),
    dbMs: param.number({
      default: 10,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: 'mean database query time',
    }),
    dbQueue: param.integer({
      default: 2000,
      min: 0,
      max: MAX_OFFERED,
      description: 'database queue capacity',
    }),
    dbTimeoutMs: param.number({
      default: 500,
      min: 1,
      max: MAX_MS,
      description: 'timeout of a database call',
    }),
    cacheTimeoutMs: param.number({
      default: 50,
      min: 1,
      max: MAX_MS,
      description: 'timeout of a cache call',
    }),
    healthIntervalMs: param.number({
      default: 1000,
      min: 1,
      max: MAX_MS,
      description: 'health check interval',
    }),
    unhealthyThreshold: param.integer({
      default: 3,
      min: 1,
      max: 1000,
      description: 'failed health checks that remove a node',
    }),
    crashAt: param.number({
      default: 30,
      min: 0,
      max: MAX_SECONDS,
      description: 'second at which cache-3 crashes (0: never)',
    }),
    downFor: param.number({
      default: 30,
      min: 0,
      max: MAX_SECONDS,
      description: 'seconds it stays down (0: for good)',
    }),
    seconds: param.number({
      default: 90,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds of load',
    }),
  },
  variants: [
    {
      name: 'ring',
      description: 'consistent hashing ring, 100 points per node',
      params: { placement: 'ring' },
    },
    { name: 'modulo', description: 'hash mod N over the live nodes', params: { placement: 'modulo' } },
    { name: 'maglev', description: 'Maglev lookup table (65537 entries)', params: { placement: 'maglev' } },
    {
      name: 'ring-replicated',
      description: 'ring with two copies of each key, reads from either, failover',
      params: { placement: 'ring', replicas: 2 },
    },
  ],
  run({ sim, params, requests, check }) {
    // A slow database leaves every miss in flight; per-key state is bounded by `keys`.
    limitOffered(params.rate * params.seconds, 'rate × seconds');
    const net = new Network(sim, { defaults: { latency: LATENCY } });
    const names = Array.from({ length: params.nodes }, (_, i) => `cache-${i}`);
    for (const name of names) new CacheServer(net.addNode(name), { capacity: params.keys });
    // The database: the latest version of each key.
    const versions = new Map<string, number>();
    const db = new Service(net.addNode('db'), {
      concurrency: params.dbWorkers,
      serviceTime: exponential({ mean: params.dbMs }),
      queueCapacity: params.dbQueue,
      respond: (request: RpcRequest) => {
        const { op, key } = request.payload as DbRequest;
        let version = versions.get(key) ?? 0;
        if (op === 'put') versions.set(key, ++version);
        return { key, version } satisfies Row;
      },
    });

    const seconds = Math.ceil(params.seconds);
    const endMs = params.seconds * 1000;
    const span = seconds + 2;
    const series = () => new Array<number>(span).fill(0);
    const reads = series();
    const hits = series();
    const dbCalls = series();
    const failed = series();
    const bucket = (t: number): number => Math.min(span - 1, Math.floor(t / 1000));

    const consistency = new CacheConsistency(sim);
    const replicated = params.replicas > 1;
    const ttl = params.ttlMs > 0 ? { ttl: params.ttlMs } : {};
    let detectedAt: number | null = null;
    let rejoinedAt: number | null = null;
    const apps = Array.from({ length: params.apps }, (_, i) => {
      const endpoint = new RpcEndpoint(net.addNode(`app${i}`));
      const dc = new DistributedCache<Row>(endpoint, {
        name: `app${i}/dcache`,
        nodes: names,
        placement: params.placement,
        replicas: params.replicas,
        readPolicy: params.readPolicy,
        missFailover: params.missFailover,
        replicationLag: params.lagMs,
        timeout: params.cacheTimeoutMs,
        healthCheck: {
          interval: params.healthIntervalMs,
          timeout: params.cacheTimeoutMs,
          unhealthyThreshold: params.unhealthyThreshold,
        },
        versionOf: (row) => row.version,
        consistency,
      });
      dc.onMembershipChange((c) => {
        if (c.change === 'removed' && detectedAt === null) detectedAt = c.at;
        if (c.change === 'added' && rejoinedAt === null) rejoinedAt = c.at;
      });
      const call = (request: DbRequest): SimEvent<LoadResult<Row>> => {
        dbCalls[bucket(sim.now)]!++;
        return endpoint.call<Row>('db', request, { timeout: params.dbTimeoutMs, key: request.key });
      };
      const aside = new CacheAside<Row>(sim, {
        name: `app${i}`,
        cache: dc,
        load: (key) => call({ op: 'get', key }),
        ...ttl,
      });
      return { dc, aside, call };
    });

    const crashMs = params.crashAt * 1000;
    const restartMs = params.downFor > 0 ? crashMs + params.downFor * 1000 : null;
    const crashes = params.crashAt > 0 && crashMs < endMs;
    if (crashes) {
      scheduleFaults(net, [
        {
          at: crashMs,
          ...(params.downFor > 0 ? { for: params.downFor * 1000 } : {}),
          fault: { kind: 'crash', node: VICTIM },
        },
      ]);
    }

    // Warm-up: a cache warmer stores every key (version 0) over the first WARMUP_MS, spread over the apps;
    // with a TTL, each warm entry gets a random part of it, so that they do not all expire together.
    const keys = createKeys({ kind: 'zipf', count: params.keys, s: params.skew });
    const warm = sim.rng('warm-up');
    for (let i = 0; i < params.keys; i++) {
      sim.schedule((i * WARMUP_MS) / params.keys, () => {
        const key = keys.key(i);
        const entryTtl = params.ttlMs > 0 ? { ttl: (1 - warm.next()) * params.ttlMs } : {};
        apps[i % apps.length]!.dc.store(key, { key, version: 0 }, entryTtl);
      });
    }

    let dbQueuePeak = 0;
    const gaps = exponential({ rate: params.rate / 1000 });
    const arrivals = sim.rng('clients/arrivals');
    const mix = sim.rng('clients/mix');
    const next = (): void => {
      const app = apps[mix.int(0, apps.length)]!;
      const key = keys.next(mix);
      const started = sim.now;
      const s = bucket(started);
      requests.start();
      if (mix.next() < params.writeShare) {
        // A write: the database, then the cache (the new version replaces the cached one).
        app.call({ op: 'put', key }).onProcessed((e) => {
          const res = e.value!;
          if (res.ok && res.value !== undefined) {
            app.dc.acknowledge(key, res.value.version);
            app.dc.store(key, res.value, ttl);
          } else failed[s]!++;
          requests.finish(res.ok, sim.now - started);
        });
      } else {
        reads[s]!++;
        app.aside.read(key).onProcessed((e) => {
          const r = e.value!;
          if (r.source === 'hit') hits[s]!++;
          if (!r.ok) failed[s]!++;
          requests.finish(r.ok, r.latency);
        });
      }
      dbQueuePeak = Math.max(dbQueuePeak, db.queueLength);
      const gap = gaps.sample(arrivals);
      if (sim.now + gap < endMs) sim.schedule(gap, next);
    };
    sim.schedule(LOAD_FROM_MS + gaps.sample(arrivals), next);
    // Stale reads in the steady window before the crash, for the replication-lag theory.
    const steadyFrom = Math.max(LOAD_FROM_MS, crashes ? crashMs - 2 * WINDOW * 1000 : endMs / 2);
    const steadyTo = crashes ? crashMs : endMs;
    const marks: number[] = [];
    sim.schedule(steadyFrom, () => marks.push(consistency.stats.staleReads));
    sim.schedule(steadyTo, () => marks.push(consistency.stats.staleReads));
    // Stop the health checks with the load, so the run can drain.
    sim.schedule(endMs, () => {
      for (const a of apps) a.dc.stop();
    });
    sim.run();

    // --- Figures ---
    const sumOf = (a: readonly number[], from: number, to: number): number => {
      let t = 0;
      for (let i = Math.max(0, from); i < Math.min(to, a.length); i++) t += a[i]!;
      return t;
    };
    const hitRatio = (from: number, to: number): number | null => {
      const r = sumOf(reads, from, to);
      return r === 0 ? null : sumOf(hits, from, to) / r;
    };
    const crashS = Math.floor(crashMs / 1000);
    const lastS = restartMs === null ? seconds : Math.min(seconds, Math.floor(restartMs / 1000));
    const before = crashes ? hitRatio(crashS - WINDOW, crashS) : hitRatio(seconds - WINDOW, seconds);
    const during = crashes ? hitRatio(crashS, crashS + WINDOW) : null;
    const after = crashes ? hitRatio(lastS - WINDOW, lastS) : null;
    let minHit = 1;
    if (crashes)
      for (let s = crashS; s < lastS; s++) if (reads[s]! > 0) minHit = Math.min(minHit, hits[s]! / reads[s]!);
    const steadyFromS = Math.ceil(steadyFrom / 1000);
    const steadyToS = Math.floor(steadyTo / 1000);
    const steady = meanRate(dbCalls, steadyFromS, steadyToS);
    const steadyMisses = meanRate(reads, steadyFromS, steadyToS) - meanRate(hits, steadyFromS, steadyToS);
    let peak = 0;
    for (let s = crashes ? crashS : steadyFromS; s < (crashes ? lastS : seconds); s++)
      peak = Math.max(peak, dbCalls[s]!);
    const stormTo = Math.min(lastS, crashS + STORM);
    const stormMisses = crashes
      ? sumOf(reads, crashS, stormTo) - sumOf(hits, crashS, stormTo) - steadyMisses * (stormTo - crashS)
      : 0;
    let rejoinPeak = 0;
    if (restartMs !== null)
      for (let s = Math.floor(restartMs / 1000); s < seconds; s++)
        rejoinPeak = Math.max(rejoinPeak, dbCalls[s]!);
    const failedDuring = crashes ? sumOf(failed, crashS, lastS) : 0;
    const rewarmMs =
      crashes && detectedAt !== null && before !== null
        ? recoveryAfter({
            ok: hits,
            offered: reads,
            triggerEndMs: detectedAt,
            seconds: lastS,
            threshold: 0.95 * before,
          })
        : null;

    // Keys moved by the removal of the victim, over the whole key space, and their share of the traffic.
    const spec = (nodes: readonly string[]): PlacementSpec =>
      ({ kind: params.placement, nodes }) as PlacementSpec;
    const full = createPlacement(spec(names));
    const without = createPlacement(spec(names.filter((n) => n !== VICTIM)));
    const p = zipfProbabilities(params.keys, params.skew);
    const readRate = (params.rate * (1 - params.writeShare)) / 1000; // per ms
    const writeRate = (params.rate * params.writeShare) / 1000;
    let moved = 0;
    let movedTraffic = 0;
    let victimTraffic = 0;
    // Expected misses of the moved keys in the storm window after the removal: a moved key misses on its
    // first read, unless a write (which stores the new version on its new node) comes first.
    const detection = detectedAt === null ? 0 : detectedAt - crashMs;
    const horizon = Math.max(0, (stormTo - crashS) * 1000 - detection - (crashMs - crashS * 1000));
    let stormTheory = 0;
    for (let i = 0; i < params.keys; i++) {
      const k = keys.key(i);
      const home = full.lookup(k);
      if (home === VICTIM) victimTraffic += p[i]!;
      if (home !== without.lookup(k)) {
        moved++;
        movedTraffic += p[i]!;
        const r = readRate * p[i]!;
        const w = writeRate * p[i]!;
        stormTheory += (r / (r + w)) * -Math.expm1(-(r + w) * horizon);
      }
    }
    // Until the removal, every read of the victim's keys times out and misses.
    if (!replicated) stormTheory += readRate * victimTraffic * detection;
    else stormTheory = 0;
    const movedKeyShare = moved / params.keys;
    const n = params.nodes;
    const theoryMoved = params.placement === 'modulo' ? (n - 1) / n : 1 / n;

    // Stale reads: a replica read is stale while the key's last write has not reached it, a window W of
    // the lag plus a round trip; with Poisson writes at w_i per key, P = 1 − e^(−w_i W).
    const window = params.lagMs + 2 * LATENCY + SERVICE_MS;
    let staleTheory = 0;
    for (let i = 0; i < params.keys; i++) staleTheory += p[i]! * -Math.expm1(-writeRate * p[i]! * window);
    const replicaShare = !replicated
      ? 0
      : params.readPolicy === 'replica'
        ? 1
        : params.readPolicy === 'any'
          ? (params.replicas - 1) / params.replicas
          : 0;
    staleTheory *= replicaShare;
    const steadyReads = sumOf(reads, steadyFromS, steadyToS);
    const staleSteady = marks.length === 2 && steadyReads > 0 ? (marks[1]! - marks[0]!) / steadyReads : 0;
    const totalReads = apps.reduce((a, x) => a + x.aside.stats.reads, 0);
    const c = consistency.stats;
    const sum = (f: (s: DistributedCacheStats) => number): number =>
      apps.reduce((a, x) => a + f(x.dc.stats), 0);

    if (crashes) {
      if (params.placement === 'modulo') {
        check(
          'about (N − 1)/N of the keys move when a node leaves',
          Math.abs(movedKeyShare - theoryMoved) < 0.03,
          `${fmt(movedKeyShare)} moved, (N − 1)/N = ${fmt(theoryMoved)}`,
        );
      } else {
        check(
          'about 1/N of the keys move when a node leaves',
          Math.abs(movedKeyShare - theoryMoved) < 0.35 * theoryMoved,
          `${fmt(movedKeyShare)} moved, 1/N = ${fmt(theoryMoved)}`,
        );
      }
      const limit = params.unhealthyThreshold * params.healthIntervalMs + params.cacheTimeoutMs;
      check(
        'the health checks remove the crashed node within the detection delay',
        detectedAt !== null && detection <= limit,
        detectedAt === null ? 'never removed' : `removed ${detection} ms after the crash (at most ${limit})`,
      );
      if (params.placement !== 'modulo' && !replicated) {
        check(
          'the miss storm is the victim’s reads until the removal plus one miss per moved key read',
          Math.abs(stormMisses - stormTheory) < 0.15 * stormTheory,
          `${Math.round(stormMisses)} extra misses, theory ${Math.round(stormTheory)}`,
        );
      }
      if (params.placement !== 'modulo') {
        check(
          'the hit ratio re-warms to 95% of its level before the crash',
          rewarmMs !== null,
          rewarmMs === null ? 'not before the node returns' : `${rewarmMs} ms after the removal`,
        );
      }
    }
    if (replicated && params.lagMs > 0 && params.writeShare > 0 && replicaShare > 0) {
      check(
        'replica reads within the replication lag are stale: Σ p_i(1 − e^(−w_i W)) of reads',
        staleSteady > 0 && Math.abs(staleSteady - staleTheory) < 0.5 * staleTheory,
        `${fmt(staleSteady)} of reads stale before the crash, theory ${fmt(staleTheory)}`,
      );
    }

    return {
      hitRatioBefore: before,
      hitRatioDuring: during,
      hitRatioAfter: after,
      hitRatioMin: crashes ? minHit : null,
      originSteadyPerSec: steady,
      originPeakPerSec: peak,
      originPeakRatio: steady === 0 ? null : peak / steady,
      originPeakRejoinPerSec: restartMs === null ? null : rejoinPeak,
      stormMisses: Math.round(stormMisses),
      stormMissesTheory: Math.round(stormTheory),
      failedDuring,
      detectionMs: detectedAt === null ? null : detection,
      rejoinMs: rejoinedAt === null || restartMs === null ? null : rejoinedAt - restartMs,
      rewarmMs,
      movedKeyShare,
      movedTrafficShare: movedTraffic,
      theoryMovedShare: theoryMoved,
      reroutes: sum((s) => s.rerouted),
      failovers: sum((s) => s.failovers),
      missFailovers: sum((s) => s.missFailovers),
      staleReads: c.staleReads,
      staleReadShare: totalReads === 0 ? 0 : c.staleReads / totalReads,
      staleReadShareSteady: staleSteady,
      staleReadShareTheory: staleTheory,
      rywViolations: c.rywViolations,
      lostWrites: c.lostWrites,
      replicationsDropped: sum((s) => s.replicationsDropped),
      dbQueuePeak,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const by = new Map(variants.map((v) => [v.name, v.outcome]));
    const ring = by.get('ring');
    const out = [];
    const modulo = by.get('modulo');
    if (ring !== undefined && modulo !== undefined && ring.detectionMs !== null) {
      out.push({
        name: 'the modulo miss storm loads the origin far more than the ring’s',
        pass: (modulo.originPeakPerSec as number) > 1.5 * (ring.originPeakPerSec as number),
        detail: `origin peak: modulo ${modulo.originPeakPerSec}/s, ring ${ring.originPeakPerSec}/s`,
      });
    }
    if (ring !== undefined && modulo !== undefined && ring.detectionMs !== null) {
      const late = (v: typeof ring) => (v.rewarmMs === null ? Infinity : (v.rewarmMs as number));
      out.push({
        name: 'modulo takes longer to re-warm than the ring',
        pass: late(modulo) > late(ring),
        detail: `re-warmed after: modulo ${modulo.rewarmMs ?? 'never'} ms, ring ${ring.rewarmMs ?? 'never'} ms`,
      });
    }
    const rep = by.get('ring-replicated');
    if (ring !== undefined && rep !== undefined && ring.detectionMs !== null) {
      out.push({
        name: 'replication shrinks the miss storm on a node loss',
        pass: (rep.stormMisses as number) < 0.25 * (ring.stormMisses as number),
        detail: `extra misses: ring-replicated ${rep.stormMisses}, ring ${ring.stormMisses}`,
      });
    }
    return out;
  },
});

/** One-way network latency (ms). */
const LATENCY = 0.5;
/** A cache server's service time (ms), CacheServer's default. */
const SERVICE_MS = 0.05;
/** The warm-up stores every key over this long (ms); the load starts at LOAD_FROM_MS. */
const WARMUP_MS = 2000;
const LOAD_FROM_MS = 3000;
/** Seconds after the crash over which the miss storm is counted. */
const STORM = 20;

function fmt(x: number): string {
  return x.toFixed(4);
}
