import {
  CacheAside,
  CacheServer,
  CacheWriter,
  type CacheWriterOptions,
  createKeys,
  type LoadResult,
  RemoteCache,
  Service,
  writeBehindExpectedQueue,
} from '@dsim/components';
import {
  DsimError,
  exponential,
  LatencyHistogram,
  lognormalFromMean,
  Network,
  RpcEndpoint,
  type RpcRequest,
  type SimEvent,
  scheduleFaults,
  Tally,
} from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_OFFERED, MAX_RATE, MAX_SECONDS, MAX_WORKERS, MAX_ZIPF } from './limits.js';

const POLICIES = [
  'write-through',
  'write-around',
  'cache-aside-invalidate',
  'write-behind',
  'write-behind-coalesced',
] as const;
type Policy = (typeof POLICIES)[number];

type DbRequest = { op: 'put'; key: string; version: number } | { op: 'get'; key: string };

const DESCRIPTIONS: Record<Policy, string> = {
  'write-through': 'store, then cache; acknowledged after both',
  'write-around': 'store, then an asynchronous invalidation (CDC-style lag) deletes the cache entry',
  'cache-aside-invalidate': 'store, then the app deletes the cache entry (write-around with lag 0)',
  'write-behind': 'cache, acknowledged at once; flushed to the store in the background',
  'write-behind-coalesced': 'write-behind keeping only the latest queued value per key',
};

/**
 * `write-policies`: an application writes and reads keys through a shared cache in front of a database,
 * with each write policy, while the app server holding the write-behind queue crashes now and then.
 * Each key is written by one app server (its owner: writes of a key are ordered) and read by all, through
 * cache-aside reads. Values are versions, so a read is stale when it returns an older version than the
 * last acknowledged write of its key when the read began.
 *
 * Variants: `write-through`, `write-around` (an invalidation lag, lognormal around `invalidationLagMs`,
 * through a separate CDC node), `cache-aside-invalidate` (delete after write, lag 0), `write-behind` and
 * `write-behind-coalesced` (flush `flushMs` after the oldest queued write, or at `batchSize` entries).
 *
 * Theory: for Poisson writes at rate w per server and a flush F after the oldest queued write, a crash at
 * a random instant loses E[Q] = wF(1 + wF/2)/(1 + wF) ≈ wF/2 writes ({@link writeBehindExpectedQueue},
 * with the batch-size correction); coalescing loses the same writes (fewer keys). With an invalidation
 * lag L, a read of key k is stale while one of its writes still waits for its invalidation: with
 * Poisson writes that has probability about 1 − e^(−w_k·E[L]).
 *
 * @example
 * ```ts
 * const result = runScenario(writePolicies, { seed: 1 });
 * result.variants.map((v) => [v.name, v.outcome.writeP50, v.outcome.lostWrites]);
 * ```
 */
export const writePolicies = defineScenario({
  name: 'write-policies',
  description:
    'Write-through, write-around, cache-aside invalidation, write-behind: latency, store load, stale reads, crash loss',
  params: {
    writeRate: param.number({
      default: 200,
      min: 0,
      max: MAX_RATE,
      exclusiveMin: true,
      description: 'writes per second (all app servers)',
    }),
    readRate: param.number({
      default: 400,
      min: 0,
      max: MAX_RATE,
      description: 'reads per second (all app servers)',
    }),
    apps: param.integer({
      default: 2,
      min: 1,
      max: 16,
      description: 'app servers; each owns the writes of its keys',
    }),
    keys: param.integer({ default: 1000, min: 1, max: 1_000_000, description: 'keys per app server' }),
    skew: param.number({
      default: 1,
      min: 0,
      max: MAX_ZIPF,
      description: 'Zipf exponent of key popularity (reads and writes)',
    }),
    dbMs: param.number({
      default: 5,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: 'mean database service time (lognormal, cv 0.5)',
    }),
    dbConcurrency: param.integer({ default: 32, min: 1, max: MAX_WORKERS, description: 'database workers' }),
    linkMs: param.number({
      default: 0.5,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: 'mean one-way network latency (lognormal, cv 0.5)',
    }),
    ttlMs: param.number({ default: 30_000, min: 1, max: MAX_MS, description: 'TTL of cache entries' }),
    flushMs: param.number({
      default: 1000,
      min: 1,
      max: MAX_MS,
      description: 'write-behind: flush this long after the oldest queued write',
    }),
    batchSize: param.integer({
      default: 0,
      min: 0,
      max: MAX_OFFERED,
      description: 'write-behind: also flush at this many queued entries (0: never)',
    }),
    invalidationLagMs: param.number({
      default: 100,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: 'write-around: mean invalidation lag (lognormal, cv 0.5)',
    }),
    crashes: param.integer({
      default: 8,
      min: 0,
      max: 1000,
      description: 'crashes of app0 (each at a random time in its own window)',
    }),
    downMs: param.number({
      default: 1000,
      min: 0,
      max: MAX_MS,
      description: 'how long app0 stays down after each crash',
    }),
    seconds: param.number({
      default: 60,
      min: 10,
      max: MAX_SECONDS,
      description: 'simulated seconds of workload',
    }),
    policy: param.enum(POLICIES, {
      default: 'write-through',
      description: 'write policy (each variant sets it)',
    }),
  },
  variants: POLICIES.map((name) => ({ name, description: DESCRIPTIONS[name], params: { policy: name } })),
  run({ sim, params, requests, check }) {
    // A slow database leaves every write in flight (or queued behind, for write-behind).
    limitOffered((params.writeRate + params.readRate) * params.seconds, '(writeRate + readRate) × seconds');
    const policy = params.policy;
    const behind = policy === 'write-behind' || policy === 'write-behind-coalesced';
    const end = params.seconds * 1000;
    const net = new Network(sim, { defaults: { latency: lognormalFromMean(params.linkMs, 0.5) } });
    // The database keeps the latest version written per key.
    const rows = new Map<string, number>();
    let dbPuts = 0;
    let dbGets = 0;
    new Service(net.addNode('db'), {
      concurrency: params.dbConcurrency,
      serviceTime: lognormalFromMean(params.dbMs, 0.5),
      respond: (request: RpcRequest) => {
        const r = request.payload as DbRequest;
        if (r.op === 'get') {
          dbGets++;
          return rows.get(r.key);
        }
        dbPuts++;
        rows.set(r.key, r.version);
        return true;
      },
    });
    new CacheServer(net.addNode('cache'), { capacity: 10 * params.apps * params.keys, ttl: params.ttlMs });
    // Write-around's invalidation pipeline runs on its own node (it survives the app's crashes).
    const cdc = new RemoteCache<number>(new RpcEndpoint(net.addNode('cdc')), {
      servers: 'cache',
      timeout: 100,
    });
    const lag = lognormalFromMean(params.invalidationLagMs, 0.5);

    const acked = new Map<string, number>(); // latest acknowledged version per key
    const issued = new Map<string, number>(); // latest version written per key
    const atCrash: { queued: number; inFlight: number }[] = [];
    const apps = Array.from({ length: params.apps }, (_, i) => {
      const node = net.addNode(`app${i}`);
      const endpoint = new RpcEndpoint(node);
      const cache = new RemoteCache<number>(endpoint, { servers: 'cache', timeout: 100 });
      const reader = new CacheAside<number>(sim, {
        name: `app${i}`,
        cache,
        coalesce: true,
        load: (key) =>
          endpoint.call<number>('db', { op: 'get', key } satisfies DbRequest, {
            timeout: 1000,
            key,
          }) as SimEvent<LoadResult<number>>,
      });
      const base: Omit<CacheWriterOptions<number>, 'mode'> = {
        name: `app${i}`,
        cache,
        node,
        store: (key, version) =>
          endpoint.call('db', { op: 'put', key, version } satisfies DbRequest, { timeout: 1000, key }),
      };
      // Registered before the writer's own hook: sees the queue as the crash finds it.
      const holder: { writer?: CacheWriter<number> } = {};
      if (i === 0)
        node.onCrash(() => {
          const s = holder.writer!.stats;
          atCrash.push({ queued: s.queued, inFlight: s.inFlight });
        });
      const writer = new CacheWriter<number>(
        sim,
        policy === 'write-through'
          ? { ...base, mode: 'write-through' }
          : policy === 'write-around'
            ? { ...base, mode: 'write-around', invalidationLag: lag, invalidator: cdc }
            : policy === 'cache-aside-invalidate'
              ? { ...base, mode: 'write-around' }
              : {
                  ...base,
                  mode: 'write-behind',
                  writeBehind: {
                    flushInterval: params.flushMs,
                    batchSize: params.batchSize === 0 ? Infinity : params.batchSize,
                    coalesce: policy === 'write-behind-coalesced',
                    concurrency: 32,
                  },
                },
      );
      holder.writer = writer;
      const keys = createKeys({ kind: 'zipf', count: params.keys, s: params.skew, prefix: `a${i}:k` });
      return { node, reader, writer, keys };
    });

    // Crashes of app0, one at a random time in each window (common to all variants: same stream).
    const crashTimes: number[] = [];
    if (params.crashes > 0) {
      const window = end / params.crashes;
      const room = window - params.downMs - 2000;
      if (!(room > 0))
        throw new DsimError(
          'CONFIG_ERROR',
          `parameter crashes must leave each crash a window of at least downMs + 2 s (seconds·1000/crashes = ${window} ms, downMs ${params.downMs} ms): lower crashes or downMs, or raise seconds`,
        );
      const rng = sim.rng('faults');
      for (let k = 0; k < params.crashes; k++)
        crashTimes.push(k * window + 2000 + rng.next() * Math.max(0, room));
      scheduleFaults(
        net,
        crashTimes.map((at) => ({ at, for: params.downMs, fault: { kind: 'crash' as const, node: 'app0' } })),
      );
    }

    // Workload: Poisson writes (each app its own keys) and reads (any app's keys), all through the cache.
    const writeLatency = new LatencyHistogram();
    let reads = 0;
    let readsFailed = 0;
    let staleReads = 0;
    const writeGap = exponential({ rate: params.writeRate / params.apps / 1000 });
    const readGap =
      params.readRate > 0 ? exponential({ rate: params.readRate / params.apps / 1000 }) : undefined;
    apps.forEach((app, i) => {
      const wrng = sim.rng(`app${i}/writes`);
      const write = (): void => {
        const key = app.keys.next(wrng);
        const version = (issued.get(key) ?? 0) + 1;
        issued.set(key, version);
        requests.start();
        app.writer.write(key, version).onProcessed((e) => {
          const r = e.value!;
          requests.finish(r.ok, r.latency);
          if (!r.ok) return;
          writeLatency.record(r.latency);
          if ((acked.get(key) ?? 0) < version) acked.set(key, version);
        });
        const gap = writeGap.sample(wrng);
        if (sim.now + gap < end) sim.schedule(gap, write);
      };
      sim.schedule(writeGap.sample(wrng), write);
      if (readGap === undefined) return;
      const rrng = sim.rng(`app${i}/reads`);
      const read = (): void => {
        const owner = apps[Math.floor(rrng.next() * apps.length)]!;
        const key = owner.keys.next(rrng);
        if (app.node.state === 'up') {
          const floor = acked.get(key) ?? 0;
          app.reader.read(key).onProcessed((e) => {
            const r = e.value!;
            if (!r.ok) {
              readsFailed++;
              return;
            }
            reads++;
            if ((r.value ?? 0) < floor) staleReads++;
          });
        }
        const gap = readGap.sample(rrng);
        if (sim.now + gap < end) sim.schedule(gap, read);
      };
      sim.schedule(readGap.sample(rrng), read);
    });
    sim.run();

    // Figures.
    const totals = apps.map((a) => a.writer.stats);
    const sum = (f: (s: (typeof totals)[number]) => number): number =>
      totals.reduce((acc, s) => acc + f(s), 0);
    const acks = sum((s) => s.acks);
    const storeCalls = sum((s) => s.storeCalls);
    const losses = apps[0]!.writer.losses;
    let keysBehind = 0;
    for (const [key, version] of acked) if ((rows.get(key) ?? 0) < version) keysBehind++;
    const perCrash = new Tally();
    for (const loss of losses) perCrash.add(loss.writes);
    const w0 = params.writeRate / params.apps;
    const theoryLost = writeBehindExpectedQueue({
      ratePerSecond: w0,
      flushIntervalMs: params.flushMs,
      batchSize: params.batchSize === 0 ? Infinity : params.batchSize,
    });
    const lostWrites = sum((s) => s.lost);
    const standardError = perCrash.count > 1 ? Math.sqrt(perCrash.variance / perCrash.count) : 0;
    // Write-around: a read of key k can be stale only while the key's latest write waits for its
    // invalidation: at most 1 − e^(−w_k·E[L]) of the time (the Poisson writes pending an invalidation).
    const keys = apps[0]!.keys;
    let staleBound = 0;
    for (let k = 0; k < keys.count; k++) {
      const p = keys.probability(k);
      staleBound += p * (1 - Math.exp(-(w0 / 1000) * p * params.invalidationLagMs));
    }
    const staleFraction = staleReads / Math.max(1, reads);

    if (!behind) {
      check(
        'nothing acknowledged is lost: the database has every acknowledged write',
        lostWrites === 0 && keysBehind === 0,
        `${lostWrites} lost, ${keysBehind} keys behind their last acknowledged write`,
      );
    } else if (crashTimes.length > 0) {
      const exact = losses.every(
        (l, k) => l.writes + l.inDoubt === atCrash[k]!.queued + atCrash[k]!.inFlight,
      );
      check(
        'each crash loses exactly the writes the queue held (lost + in doubt = queued + in flight at the crash)',
        exact && losses.length === crashTimes.length,
        `lost per crash ${losses.map((l) => l.writes).join(', ')}; queued ${atCrash.map((a) => a.queued).join(', ')}`,
      );
      check(
        'writes lost per crash match the theory E[Q] ≈ w·F/2 (within 3 standard errors)',
        Math.abs(perCrash.mean - theoryLost) <= 3 * standardError + 0.05 * theoryLost,
        `${perCrash.mean.toFixed(1)} ± ${standardError.toFixed(1)} per crash, theory ${theoryLost.toFixed(1)}`,
      );
    }
    if (policy === 'write-around' && reads > 0)
      check(
        'stale reads stay within the bound Σ p_k (1 − e^(−w_k·E[L]))',
        staleFraction <= staleBound,
        `${(100 * staleFraction).toFixed(2)}% of reads stale, bound ${(100 * staleBound).toFixed(2)}%`,
      );
    const ws = writeLatency.summary();
    return {
      writes: sum((s) => s.writes),
      acks,
      writesFailed: sum((s) => s.failed),
      writeP50: ws.p50,
      writeP99: ws.p99,
      writeMean: ws.mean,
      storeCalls,
      storeCallsPerWrite: storeCalls / Math.max(1, acks),
      flushes: sum((s) => s.flushes),
      coalesced: sum((s) => s.coalesced),
      dbWritesPerSecond: dbPuts / params.seconds,
      dbReadsPerSecond: dbGets / params.seconds,
      reads,
      readsFailed,
      staleReads,
      staleReadFraction: staleFraction,
      staleFractionBound: policy === 'write-around' ? staleBound : null,
      crashes: crashTimes.length,
      lostWrites,
      lostKeys: sum((s) => s.lostKeys),
      inDoubt: sum((s) => s.inDoubt),
      lostPerCrash: behind && perCrash.count > 0 ? perCrash.mean : 0,
      lostPerCrashSe: behind ? standardError : 0,
      theoryLostPerCrash: behind ? theoryLost : 0,
      keysBehind,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const by = new Map(variants.map((v) => [v.name, v.outcome]));
    const num = (name: string, field: string): number => by.get(name)![field] as number;
    const checks = [];
    if (by.has('write-through') && by.has('write-behind')) {
      const through = num('write-through', 'writeP50');
      const slower = [...by.keys()].filter((n) => n !== 'write-through' && n !== 'cache-aside-invalidate');
      checks.push({
        name: 'write-through is the slowest write (p50; a cache-aside delete costs the same) and loses nothing',
        pass: slower.every((n) => num(n, 'writeP50') < through) && num('write-through', 'lostWrites') === 0,
        detail: [...by.keys()].map((n) => `${n} ${num(n, 'writeP50').toFixed(2)} ms`).join(', '),
      });
      if (num('write-behind', 'crashes') > 0)
        checks.push({
          name: 'write-behind loses writes on a crash; the synchronous policies lose none',
          pass:
            num('write-behind', 'lostWrites') > 0 &&
            [...by.keys()]
              .filter((n) => !n.startsWith('write-behind'))
              .every((n) => num(n, 'keysBehind') === 0),
          detail: [...by.keys()].map((n) => `${n} ${num(n, 'lostWrites')}`).join(', '),
        });
    }
    if (by.has('write-behind') && by.has('write-behind-coalesced'))
      checks.push({
        name: 'coalescing cuts the store calls per write',
        pass: num('write-behind-coalesced', 'storeCallsPerWrite') < num('write-behind', 'storeCallsPerWrite'),
        detail: `${num('write-behind-coalesced', 'storeCallsPerWrite').toFixed(3)} vs ${num('write-behind', 'storeCallsPerWrite').toFixed(3)}`,
      });
    if (by.has('write-around') && by.has('cache-aside-invalidate'))
      checks.push({
        name: 'an invalidation lag makes stale reads (write-around ≫ cache-aside invalidation)',
        pass:
          num('write-around', 'staleReads') > 10 * Math.max(1, num('cache-aside-invalidate', 'staleReads')),
        detail: `${num('write-around', 'staleReads')} vs ${num('cache-aside-invalidate', 'staleReads')} stale reads`,
      });
    return checks;
  },
});
