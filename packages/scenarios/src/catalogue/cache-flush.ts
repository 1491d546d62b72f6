import {
  CacheAside,
  CacheServer,
  cheHitRatio,
  createKeys,
  type LoadResult,
  openLoop,
  RemoteCache,
  Service,
  TokenBucket,
  zipfProbabilities,
} from '@dsim/components';
import { DsimError, exponential, LatencyHistogram, Network, RpcEndpoint, type SimEvent } from '@dsim/core';
import { param } from '../params.js';
import { meanRate, recoveryAfter } from '../recovery.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS, MAX_WORKERS, MAX_ZIPF } from './limits.js';

const DEFENCES = ['unprotected', 'coalescing', 'db-shedding', 'rate-limited-refill'] as const;

/**
 * What {@link cacheFlushTheory} needs: the key popularity, the sharded LRU cache, the flush and the
 * database.
 *
 * @example
 * ```ts
 * const m: CacheFlushModel = {
 *   keys: 10_000, zipfS: 1.1, readRate: 2000, capacity: 6000, shards: 10, flushedShards: 10,
 *   dbCapacity: 250, dbServiceMs: 20, loadTimeoutMs: 500,
 * };
 * ```
 */
export interface CacheFlushModel {
  /** Number of keys (k0 the most popular). */
  keys: number;
  /** Zipf exponent of the key popularity. */
  zipfS: number;
  /** Reads per second. */
  readRate: number;
  /** Total cache capacity in entries, split evenly over the shards (LRU each). */
  capacity: number;
  /** Cache shards; key k<i> lives on shard i mod shards. */
  shards: number;
  /** Shards flushed (0 to shards). */
  flushedShards: number;
  /** Database capacity μ, loads per second. */
  dbCapacity: number;
  /** Database query time (ms), the wait of a load with an empty queue. */
  dbServiceMs: number;
  /** Timeout of a load (ms): a load that waits longer is not stored. */
  loadTimeoutMs: number;
}

/**
 * The analytic picture of a cache flush ({@link cacheFlushTheory}).
 *
 * @example
 * ```ts
 * const { hitRatio, refillMs, tips } = cacheFlushTheory(model);
 * ```
 */
export interface CacheFlushTheory {
  /** Hit ratio before the flush, Σ p_i·h_i (Che's approximation of each LRU shard). */
  hitRatio: number;
  /** Database loads per second before the flush, R·(1 − hitRatio). */
  missRate: number;
  /** Reads per second that hit the flushed entries: the extra misses just after the flush. */
  flushedHitRate: number;
  /**
   * Time after the flush until the hit ratio is back at 90% of its value before, if every miss is loaded
   * and stored at once (a database that keeps up): a flushed key is back once it has been read, so the
   * hit ratio is Σ_unflushed p_i·h_i + Σ_flushed p_i·(1 − e^(−λ_i·min(t, T_s))). 0 when the flush never
   * takes it below 90%.
   */
  refillMs: number;
  /** Distinct flushed keys loaded by then: Σ_flushed (1 − e^(−λ_i·min(t, T_s))). */
  refillKeys: number;
  /**
   * The longest characteristic time T_s over the shards (ms): how far back the LRU remembers, and how
   * long a warm-up must run to reach the steady state.
   */
  characteristicMs: number;
  /**
   * The fluid model's verdict for a cache-aside path with no defence: true when the database's wait
   * (backlog / μ + query time) passes the load timeout, after which loads store nothing and the cache
   * stays cold.
   */
  tips: boolean;
  /**
   * `tips` or `recovers` when a database 20% larger and 20% smaller gives the same verdict; `borderline`
   * when not. Near the threshold the simulated outcome depends on the seed (the hot keys' refill times
   * are random), and the fluid model, which spreads every key's refill smoothly, sits 10-15% on the
   * pessimistic side of it.
   */
  verdict: 'tips' | 'recovers' | 'borderline';
  /** The largest database backlog of the fluid model (loads waiting), up to the tipping point. */
  peakBacklog: number;
  /**
   * Database loads the fluid model offers in the first 100 ms after the flush: every read of a flushed
   * key misses, less the hot keys already back after one query time.
   */
  offeredFirst100ms: number;
}

/**
 * The analytic picture of a flush of `flushedShards` of `shards` LRU cache shards. Before it, key i
 * (read at λ_i = R·p_i per second, Zipf p_i) is cached with probability h_i = 1 − e^(−λ_i·T_s), T_s
 * being its shard's characteristic time (Che, Tung and Wang, IEEE JSAC 2002).
 *
 * The **fluid model** of the refill (no defence): every read of a flushed key misses and loads until the
 * key is stored again, so the database is offered λ(t) = R·(1 − H) + Σ_flushed λ_i·h_i·e^(−λ_i·f(t)),
 * where f(t) is the time of the last read whose load has come back by t (a read at f is stored at
 * f + W(f)). The backlog grows at λ(t) − μ and the wait is W = backlog / μ + query time. Once W exceeds
 * the load timeout, loads fail and store nothing, λ stays above μ, and the backlog grows for ever:
 * `tips`. Otherwise the hot keys come back before the backlog gets there, λ falls below μ, and the
 * cache refills in about `refillMs`. With the database limited to L successful loads per second, the
 * refill takes about `refillKeys / L` instead (each successful load brings one distinct key back, the
 * hot ones first because they are read first).
 *
 * @example
 * ```ts
 * const t = cacheFlushTheory({
 *   keys: 10_000, zipfS: 1.1, readRate: 2000, capacity: 6000, shards: 10, flushedShards: 10,
 *   dbCapacity: 250, dbServiceMs: 20, loadTimeoutMs: 500,
 * });
 * t.hitRatio; // 0.954
 * t.refillMs; // 5184: 90% of it is back 5.2 s after the flush, if the database keeps up
 * t.tips; // true: a database of 250 loads per second does not
 * ```
 */
export function cacheFlushTheory(m: CacheFlushModel): CacheFlushTheory {
  const p = zipfProbabilities(m.keys, m.zipfS);
  const rate = p.map((x) => (x * m.readRate) / 1000); // reads per ms of each key
  const shardT: number[] = []; // characteristic time of each shard, ms
  const h = new Array<number>(m.keys).fill(0);
  const perShard = Math.floor(m.capacity / m.shards);
  for (let s = 0; s < m.shards; s++) {
    const members: number[] = [];
    for (let i = s; i < m.keys; i += m.shards) members.push(i);
    const share = members.reduce((a, i) => a + p[i]!, 0);
    const che = cheHitRatio(
      members.map((i) => p[i]!),
      perShard,
    );
    // characteristicTime counts requests to this shard; the shard sees share·R per second.
    const t = che.characteristicTime / ((share * m.readRate) / 1000);
    shardT.push(t);
    for (const i of members) h[i] = t === Infinity ? 1 : 1 - Math.exp(-rate[i]! * t);
  }
  const flushed: number[] = [];
  let hitRatio = 0;
  let kept = 0;
  for (let i = 0; i < m.keys; i++) {
    hitRatio += p[i]! * h[i]!;
    if (i % m.shards < m.flushedShards) flushed.push(i);
    else kept += p[i]! * h[i]!;
  }
  const after = (t: number): { hit: number; loaded: number } => {
    let hit = kept;
    let loaded = 0;
    for (const i of flushed) {
      const back = 1 - Math.exp(-rate[i]! * Math.min(t, shardT[i % m.shards]!));
      hit += p[i]! * back;
      loaded += back;
    }
    return { hit, loaded };
  };
  const target = 0.9 * hitRatio;
  let refillMs = 0;
  if (kept < target) {
    let lo = 0;
    let hi = 1;
    while (after(hi).hit < target && hi < 1e9) hi *= 2;
    for (let k = 0; k < 60; k++) {
      const mid = (lo + hi) / 2;
      if (after(mid).hit >= target) hi = mid;
      else lo = mid;
    }
    refillMs = hi;
  }
  const base = (1 - hitRatio) * (m.readRate / 1000);
  const fluid = (capacity: number) => fluidRefill(m, capacity, rate, h, flushed, base);
  const { tips, peakBacklog, offeredFirst100ms } = fluid(m.dbCapacity);
  // The verdict is clear when a database 20% larger (or smaller) gives the same one.
  const verdict = tips
    ? fluid(1.2 * m.dbCapacity).tips
      ? 'tips'
      : 'borderline'
    : fluid(0.8 * m.dbCapacity).tips
      ? 'borderline'
      : 'recovers';
  return {
    hitRatio,
    missRate: m.readRate * (1 - hitRatio),
    flushedHitRate: m.readRate * (hitRatio - kept),
    refillMs,
    refillKeys: refillMs === 0 ? 0 : after(refillMs).loaded,
    characteristicMs: Math.max(...shardT.filter((t) => t !== Infinity), 0),
    tips,
    verdict,
    peakBacklog,
    offeredFirst100ms,
  };
}

/** The fluid model of {@link cacheFlushTheory}, in 1 ms steps. */
function fluidRefill(
  m: CacheFlushModel,
  capacity: number,
  rate: readonly number[],
  h: readonly number[],
  flushed: readonly number[],
  baseMissPerMs: number,
): { tips: boolean; peakBacklog: number; offeredFirst100ms: number } {
  const mu = capacity / 1000;
  // term[k] = λ_i·h_i·e^(−λ_i·f) for the k-th flushed key, advanced one ms at a time.
  const term = flushed.map((i) => rate[i]! * h[i]!);
  const step = flushed.map((i) => Math.exp(-rate[i]!));
  const waits: number[] = [];
  let backlog = 0;
  let peak = 0;
  let tips: boolean | undefined;
  let first100 = 0;
  let f = 0; // last read time (ms) whose load is back
  for (let t = 0; t < 600_000; t++) {
    const wait = backlog / mu + m.dbServiceMs;
    waits.push(wait);
    if (wait > m.loadTimeoutMs) tips ??= true;
    while (f + 1 < waits.length && f + 1 + waits[f + 1]! <= t) {
      f++;
      for (let k = 0; k < term.length; k++) term[k]! *= step[k]!;
    }
    let extra = 0;
    for (let k = 0; k < term.length; k++) extra += term[k]!;
    const offered = baseMissPerMs + extra;
    if (t < 100) first100 += offered;
    // Drained, and the offered load (which only falls from here) is below capacity: it will not tip.
    if (backlog === 0 && offered < mu) tips ??= false;
    if (tips !== undefined && t >= 100) break;
    if (tips === undefined) {
      backlog = Math.max(0, backlog + offered - mu);
      peak = Math.max(peak, backlog);
    }
  }
  return { tips: tips ?? true, peakBacklog: peak, offeredFirst100ms: first100 };
}

const PARAMS = {
  readRate: param.number({
    default: 2000,
    min: 0,
    max: MAX_RATE,
    exclusiveMin: true,
    description: 'reads per second (Poisson)',
  }),
  keys: param.integer({ default: 10_000, min: 10, max: 1_000_000, description: 'number of keys' }),
  zipfS: param.number({
    default: 1.1,
    min: 0,
    max: MAX_ZIPF,
    description: 'Zipf exponent of the key popularity',
  }),
  cacheCapacity: param.integer({
    default: 6000,
    min: 1,
    max: 1_000_000,
    description: 'cache entries in all (LRU, split evenly over the shards)',
  }),
  shards: param.integer({
    default: 10,
    min: 1,
    max: 100,
    description: 'cache shards (key k<i> on shard i mod shards)',
  }),
  flushFraction: param.number({
    default: 1,
    min: 0,
    max: 1,
    description: 'share of the shards flushed at flushAtMs (1: FLUSHALL everywhere)',
  }),
  flushAtMs: param.number({
    default: 30_000,
    min: 5000,
    max: MAX_MS,
    description: 'when the flush happens (the hit ratio before it is measured over the 10 s before)',
  }),
  seconds: param.number({ default: 90, min: 10, max: MAX_SECONDS, description: 'simulated seconds' }),
  appServers: param.integer({ default: 4, min: 1, max: 64, description: 'application servers' }),
  dbConcurrency: param.integer({ default: 5, min: 1, max: MAX_WORKERS, description: 'database workers' }),
  dbServiceMs: param.number({
    default: 20,
    min: 0,
    max: MAX_MS,
    exclusiveMin: true,
    description: 'mean database query time (exponential); capacity μ = workers / query time',
  }),
  loadTimeoutMs: param.number({
    default: 500,
    min: 1,
    max: MAX_MS,
    description: 'timeout of a database load; a load that times out is not cached',
  }),
  retries: param.integer({
    default: 0,
    min: 0,
    max: 10,
    description: 'client retries of a failed read (immediate)',
  }),
  refillRate: param.number({
    default: 200,
    min: 0,
    max: MAX_RATE,
    exclusiveMin: true,
    description: 'rate-limited-refill: database loads per second allowed, all app servers together',
  }),
  defence: param.enum(DEFENCES, { default: 'unprotected', description: 'defence (each variant sets it)' }),
};

/**
 * `cache-flush`: a warm look-aside cache in front of a database sized for its miss traffic is flushed
 * (FLUSHALL on some or all shards). Every read of a flushed key misses, the database is offered many
 * times its capacity, its queue grows at λ − μ, loads time out, and a load that times out stores
 * nothing, so the cache cannot refill: the overload sustains itself after the trigger is gone. This is
 * the look-aside cache case of Bronson et al., "Metastable Failures in Distributed Systems" (HotOS
 * 2021), and of Huang et al.'s LookasideCache_Metastability artifact (OSDI 2022).
 *
 * Variants: `unprotected`; `coalescing` (singleflight per app server); `db-shedding` (the database
 * sheds with Facebook's CoDel, so what it admits is served before the caller's timeout); and
 * `rate-limited-refill` (app servers cap database loads at `refillRate` per second and fail the excess
 * fast, so the database never saturates and every admitted load refills a key).
 *
 * @example
 * ```ts
 * const r = runScenario(cacheFlush, { seed: 1 });
 * r.variants.map((v) => [v.name, v.outcome.recovered, v.outcome.recoveryMs]);
 * ```
 */
export const cacheFlush = defineScenario({
  name: 'cache-flush',
  description:
    'A warm look-aside cache is flushed: the database overloads, loads time out, and the cache may never refill',
  params: PARAMS,
  variants: DEFENCES.map((name) => ({ name, params: { defence: name } })),
  run({ sim, params, requests, check }) {
    // A stuck database's queue holds every load it is offered.
    limitOffered(
      params.readRate * params.seconds * (1 + params.retries),
      'readRate × seconds × (1 + retries)',
    );
    const d = params.defence;
    if (params.flushAtMs > (params.seconds - 5) * 1000)
      throw new DsimError(
        'CONFIG_ERROR',
        `parameter flushAtMs must leave at least 5 s of the run after the flush (seconds = ${params.seconds}), got ${params.flushAtMs}`,
      );
    const S = params.shards;
    const flushedShards = Math.round(params.flushFraction * S);
    const theory = cacheFlushTheory({
      keys: params.keys,
      zipfS: params.zipfS,
      readRate: params.readRate,
      capacity: params.cacheCapacity,
      shards: S,
      flushedShards,
      dbCapacity: (params.dbConcurrency * 1000) / params.dbServiceMs,
      dbServiceMs: params.dbServiceMs,
      loadTimeoutMs: params.loadTimeoutMs,
    });
    const net = new Network(sim, { defaults: { latency: 0.5 } });
    const perShard = Math.max(1, Math.floor(params.cacheCapacity / S));
    const shards = Array.from(
      { length: S },
      (_, s) => new CacheServer(net.addNode(`cache${s}`), { capacity: perShard }),
    );
    const seconds = Math.floor(params.seconds);
    const span = seconds + 1;
    const series = (): number[] => new Array<number>(span).fill(0);
    const reads = series();
    const hits = series();
    const ok = series();
    const finished = series();
    const dbArrivals = series();
    const dbDone = series();
    const dbQueue = series();
    const limited = series();
    let justAfter = 0; // database loads in the first 100 ms after the flush
    const sec = (t: number): number => Math.min(span - 1, Math.floor(t / 1000));
    const mu = (params.dbConcurrency * 1000) / params.dbServiceMs;
    const db = new Service(net.addNode('db'), {
      concurrency: params.dbConcurrency,
      serviceTime: exponential({ mean: params.dbServiceMs }),
      ...(d === 'db-shedding' ? { shedding: { kind: 'codel', target: 5, interval: 100 } as const } : {}),
      respond: (request) => {
        dbDone[sec(sim.now)]!++;
        return request.payload;
      },
    });
    const keys = createKeys({ kind: 'zipf', count: params.keys, s: params.zipfS });
    const shardOf = (key: string): number => Number(key.slice(1)) % S;

    // Warm-up: replay reads straight into the shards at t = 0 (4 characteristic times' worth), so the
    // run starts from the LRU's steady state instead of a cold cache.
    const warm = sim.rng('warmup/keys');
    const warmReads = Math.min(5_000_000, Math.ceil((4 * theory.characteristicMs * params.readRate) / 1000));
    for (let j = 0; j < warmReads; j++) {
      const key = keys.next(warm);
      const cache = shards[shardOf(key)]!.cache;
      if (cache.read(key) === 'miss') cache.set(key, key);
    }

    const readers = Array.from({ length: params.appServers }, (_, a) => {
      const endpoint = new RpcEndpoint(net.addNode(`app${a}`));
      // A token bucket per app server, its share of refillRate with a burst of 100 ms' worth.
      const limiter =
        d === 'rate-limited-refill'
          ? new TokenBucket({
              capacity: Math.max(1, Math.ceil(params.refillRate / params.appServers / 10)),
              refillPerSecond: params.refillRate / params.appServers,
            })
          : undefined;
      const load = (key: string): SimEvent<LoadResult<string>> => {
        if (limiter !== undefined && !limiter.tryAcquire(sim.now).allowed) {
          limited[sec(sim.now)]!++;
          return sim.event<LoadResult<string>>().succeed({ ok: false });
        }
        dbArrivals[sec(sim.now)]!++;
        if (sim.now >= params.flushAtMs && sim.now < params.flushAtMs + 100) justAfter++;
        return endpoint.call<string>('db', key, { key, timeout: params.loadTimeoutMs });
      };
      return new CacheAside<string>(sim, {
        name: `app${a}`,
        cache: new RemoteCache<string>(endpoint, { servers: (key) => `cache${shardOf(key)}`, timeout: 50 }),
        load,
        ...(d === 'coalescing' ? { coalesce: true } : {}),
      });
    });

    const flushAt = params.flushAtMs;
    const admin = new RpcEndpoint(net.addNode('admin'));
    sim.scheduleAt(flushAt, () => {
      for (let s = 0; s < flushedShards; s++) admin.call(`cache${s}`, { op: 'flush' }, { timeout: 1000 });
    });
    const end = seconds * 1000;
    for (let s = 1; s < seconds; s++) sim.scheduleAt(s * 1000, () => (dbQueue[s] = db.queueLength));

    // Windows (whole seconds): before = the 10 s before the flush, during = the 10 s after it, after =
    // the last 20 s (starting at least 5 s after the flush).
    const fs = Math.floor(flushAt / 1000);
    const tail = Math.min(seconds - 1, Math.max(fs + 5, seconds - 20));
    const duringTo = flushAt + 10_000;
    const afterFrom = tail * 1000;
    const latencyDuring = new LatencyHistogram();
    const latencyAfter = new LatencyHistogram();
    const pickApp = sim.rng('clients/app');
    const pickKey = sim.rng('clients/keys');
    openLoop(sim, {
      arrivals: { kind: 'poisson', rate: params.readRate },
      until: end,
      stream: 'clients/arrivals',
      onArrival: () => {
        const started = sim.now;
        const reader = readers[Math.floor(pickApp.next() * readers.length)]!;
        const key = keys.next(pickKey);
        requests.start();
        reads[sec(started)]!++;
        const attempt = (n: number): void => {
          reader.read(key).onProcessed((e) => {
            const r = e.value!;
            if (n === 0 && r.source === 'hit') hits[sec(started)]!++;
            if (!r.ok && n < params.retries) {
              attempt(n + 1);
              return;
            }
            const latency = sim.now - started;
            requests.finish(r.ok, latency);
            if (r.ok) ok[sec(started)]!++;
            finished[sec(started)]!++;
            if (started >= flushAt && started < duringTo) latencyDuring.record(latency);
            if (started >= afterFrom) latencyAfter.record(latency);
          });
        };
        attempt(0);
      },
    });
    sim.run({ until: end + params.loadTimeoutMs * (params.retries + 1) + 1000 });

    // Per-second accounting (reads bucketed by start time).
    const ratio = (num: number[], den: number[], from: number, to: number): number =>
      meanRate(num, from, to) / Math.max(1e-9, meanRate(den, from, to));
    const hitRatioBefore = ratio(hits, reads, Math.max(0, fs - 10), fs);
    const hitRatioAfter = ratio(hits, reads, tail, seconds);
    // Recovery: the first second from which every second's hit ratio, to the end of the run, is at least
    // 90% of its pre-flush value (recoveryAfter with 1 s windows, "offered" being the hits the old hit
    // ratio would give); null when the end of the run is still below it.
    const recoveryMs = recoveryAfter({
      ok: hits,
      offered: reads.map((r) => r * hitRatioBefore),
      triggerEndMs: flushAt,
      seconds,
      threshold: 0.9,
      window: 1,
    });
    const recovered = recoveryMs !== null;
    const dbOfferedAfter = meanRate(dbArrivals, tail, seconds);
    const backlogGrowth = (dbQueue[seconds - 1]! - dbQueue[tail]!) / Math.max(1, seconds - 1 - tail);
    const refillBoundMs =
      d === 'rate-limited-refill'
        ? Math.max(theory.refillMs, (1000 * theory.refillKeys) / Math.min(params.refillRate, mu))
        : d === 'db-shedding'
          ? Math.max(theory.refillMs, (1000 * theory.refillKeys) / mu)
          : theory.refillMs;

    check(
      'the warm hit ratio matches Che’s approximation (±1.5 points)',
      Math.abs(hitRatioBefore - theory.hitRatio) <= 0.015,
      `${hitRatioBefore.toFixed(4)} measured, Che ${theory.hitRatio.toFixed(4)}`,
    );
    if (d === 'unprotected' && theory.verdict !== 'borderline') {
      check(
        'the fluid model predicts whether the flush tips the database over',
        theory.tips === !recovered,
        `fluid model: ${theory.verdict} (peak backlog ${theory.peakBacklog.toFixed(0)}, tipping at μ·timeout = ${((mu * params.loadTimeoutMs) / 1000).toFixed(0)}); simulated: ${recovered ? 'recovered' : 'stuck'}`,
      );
    }
    if (recovered && (d !== 'unprotected' || theory.refillMs > 0)) {
      check(
        'it refills as fast as theory says: max(refill time, refill keys / admitted load rate)',
        recoveryMs >= refillBoundMs - 1500 && recoveryMs <= refillBoundMs + 3000,
        `recovery ${recoveryMs} ms, theory ${refillBoundMs.toFixed(0)} ms`,
      );
    } else if (!recovered) {
      const excess = Math.max(0, dbOfferedAfter - mu);
      check(
        'not recovered: the database backlog grows at max(0, λ − μ)',
        Math.abs(backlogGrowth - excess) <= 0.1 * Math.max(mu, excess),
        `queue grows ${backlogGrowth.toFixed(0)}/s, offered ${dbOfferedAfter.toFixed(0)}/s, μ ${mu.toFixed(0)}/s`,
      );
    }
    return {
      hitRatioBefore,
      theoryHitRatio: theory.hitRatio,
      flushedShards,
      dbOfferedBefore: meanRate(dbArrivals, Math.max(0, fs - 10), fs),
      dbLoadsFirst100ms: justAfter,
      theoryLoadsFirst100ms: theory.offeredFirst100ms,
      theoryMissRateAtFlush: theory.missRate + theory.flushedHitRate,
      dbOfferedFirstSecond: dbArrivals[fs] ?? 0,
      dbCapacity: mu,
      dbPeakQueue: sim.metrics.gauge('db', 'svc.queue').max,
      dbUtilizationAfter: meanRate(dbDone, tail, seconds) / mu,
      dbOfferedAfter,
      backlogGrowthPerSecond: backlogGrowth,
      limitedLoads: limited.reduce((a, b) => a + b, 0),
      successDuring: ratio(ok, finished, fs, fs + 10),
      successAfter: ratio(ok, finished, tail, seconds),
      p99During: latencyDuring.percentile(99),
      p99After: latencyAfter.percentile(99),
      hitRatioAfter,
      recoveryMs,
      theoryRefillMs: theory.refillMs,
      theoryRefillKeys: theory.refillKeys,
      refillBoundMs,
      theoryTips: theory.tips,
      theoryVerdict: theory.verdict,
      theoryPeakBacklog: theory.peakBacklog,
      recovered,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const unprotected = variants.find((v) => v.name === 'unprotected');
    if (unprotected === undefined) return [];
    const stuck = unprotected.outcome.recovered === false;
    return variants
      .filter((v) => v.name === 'db-shedding' || v.name === 'rate-limited-refill')
      .filter(() => stuck)
      .map((v) => ({
        name: `${v.name} recovers where the unprotected cache stays cold`,
        pass: v.outcome.recovered === true,
        detail: `${v.name}: recovery ${v.outcome.recoveryMs} ms; unprotected hit ratio after ${unprotected.outcome.hitRatioAfter}`,
      }));
  },
});
