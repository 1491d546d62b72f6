import {
  type BackoffSpec,
  CacheAside,
  CacheServer,
  createKeys,
  type LoadResult,
  openLoop,
  RemoteCache,
  RetryingClient,
  Service,
} from '@dsim/components';
import {
  exponential,
  LatencyHistogram,
  Network,
  RpcEndpoint,
  type SimEvent,
  scheduleFaults,
} from '@dsim/core';
import { type ParamValues, param } from '../params.js';
import { defineScenario, type Outcome, type ScenarioContext, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_WORKERS } from './limits.js';

const HERDS = [
  'synchronized',
  'ttl-jitter',
  'reconnect-immediate',
  'reconnect-backoff',
  'reconnect-backoff-jitter',
] as const;

/** The sub-scenarios of {@link thunderingHerd}: an expiry herd, or a reconnect herd. */
type Herd = (typeof HERDS)[number];

/** Time of the bulk load that writes every key (ms). */
const BULK_LOAD_AT = 1000;
/** Time the reconnect scenario's server crashes (ms). */
const CRASH_AT = 2000;
/** Bins of the arrival counts (ms): peaks are reported per 100 ms and per second. */
const BIN_MS = 100;
/** Least time the herd window runs on after the last expiry (ms). */
const TAIL_MS = 3000;

/**
 * What {@link expiryHerdPeak} needs.
 *
 * @example
 * ```ts
 * const m: ExpiryHerdModel = { keys: 1000, readRate: 5000, ttlMs: 30_000, jitter: 0.2 };
 * ```
 */
export interface ExpiryHerdModel {
  /** Keys written together by the bulk load (N). */
  keys: number;
  /** Reads per second, uniform over the keys (each key is read at r = readRate / keys per second). */
  readRate: number;
  /** The TTL every key gets (ms). */
  ttlMs: number;
  /** TTL jitter j: each TTL is uniform in ttl·[1 − j, 1 + j]; 0 for none. */
  jitter: number;
}

/**
 * The expected peak of origin loads per `binMs` after N keys written together expire, each reloaded
 * (once, coalesced) at its first read after its expiry, reads of a key being Poisson at r per ms:
 *
 * - no jitter: every key expires at the same instant and is reloaded Exp(r) later, so the first bin
 *   holds **N·(1 − e^(−r·bin))**, which is ≈ N once the bin is a few read gaps (1/r) long;
 * - jitter j: expiries are uniform over 2·j·TTL, a density of **N / (2·j·TTL)** per ms, so a bin holds
 *   N·bin / (2·j·TTL) (the Exp(r) delay of the reload only blurs the edges). The cut is the ratio of
 *   the two, about 2·j·TTL / bin.
 *
 * @example
 * ```ts
 * expiryHerdPeak({ keys: 1000, readRate: 5000, ttlMs: 30_000, jitter: 0 }, 1000); // 993: N(1 − e^−5)
 * expiryHerdPeak({ keys: 1000, readRate: 5000, ttlMs: 30_000, jitter: 0.2 }, 1000); // 83.3: N / 12 s
 * ```
 */
export function expiryHerdPeak(m: ExpiryHerdModel, binMs: number): number {
  const perKey = m.readRate / m.keys / 1000; // reads per ms of one key
  const synchronized = m.keys * (1 - Math.exp(-perKey * binMs));
  if (m.jitter === 0) return synchronized;
  return Math.min(synchronized, (m.keys * binMs) / (2 * m.jitter * m.ttlMs));
}

/**
 * The arrival rate at a recovered server of M clients reconnecting with capped exponential backoff
 * and full jitter (Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog 2015), per `binMs`.
 * Retry n waits uniform(0, min(cap, base·2^n)); after a long outage every client is at the cap, so its
 * attempts are a renewal process with gaps T + U(0, C) (T: the connect timeout that failed the last
 * attempt), of mean T + C/2. In the first T after the restart nobody has had time to succeed and drop
 * out, so arrivals come at the renewal rate **M / (T + C/2)** per ms, where immediate retries (or
 * backoff without jitter, which keeps every client in lockstep) bring all M in one instant.
 *
 * @example
 * ```ts
 * fullJitterReconnectRate({ clients: 1000, timeoutMs: 1000, capMs: 3200 }, 100); // 38.5 per 100 ms
 * ```
 */
export function fullJitterReconnectRate(
  m: { clients: number; timeoutMs: number; capMs: number },
  binMs: number,
): number {
  return Math.min(m.clients, (m.clients * binMs) / (m.timeoutMs + m.capMs / 2));
}

const PARAMS = {
  keys: param.integer({
    default: 1000,
    min: 1,
    max: 100_000,
    description: 'keys written together by the bulk load (N)',
  }),
  readRate: param.number({
    default: 5000,
    min: 0,
    max: MAX_RATE,
    exclusiveMin: true,
    description: 'reads per second, uniform over the keys',
  }),
  ttlMs: param.number({ default: 30_000, min: 1000, max: MAX_MS, description: 'TTL of every key' }),
  jitter: param.number({
    default: 0.2,
    min: 0,
    max: 0.3,
    exclusiveMin: true,
    description:
      'TTL jitter j of the ttl-jitter variant: TTLs uniform in ttl·[1 − j, 1 + j] (below 1/3, so no reloaded key expires again before the last key of the bulk load)',
  }),
  dbConcurrency: param.integer({ default: 8, min: 1, max: MAX_WORKERS, description: 'database workers' }),
  dbServiceMs: param.number({
    default: 10,
    min: 0,
    max: MAX_MS,
    exclusiveMin: true,
    description: 'mean database query time (exponential)',
  }),
  clients: param.integer({
    default: 1000,
    min: 1,
    max: 100_000,
    description: 'clients reconnecting after the crash (M)',
  }),
  outageMs: param.number({
    default: 30_000,
    min: 1000,
    max: MAX_MS,
    description: 'how long the server stays down (from t = 2 s)',
  }),
  connectTimeoutMs: param.number({
    default: 1000,
    min: 1,
    max: MAX_MS,
    description: 'timeout of each reconnect attempt (T)',
  }),
  backoffBaseMs: param.number({
    default: 100,
    min: 0,
    max: MAX_MS,
    exclusiveMin: true,
    description: 'backoff base: retry n waits up to base·2^n',
  }),
  backoffCapMs: param.number({
    default: 3200,
    min: 0,
    max: MAX_MS,
    exclusiveMin: true,
    description: 'backoff cap (C)',
  }),
  serverConcurrency: param.integer({ default: 4, min: 1, max: MAX_WORKERS, description: 'server workers' }),
  handshakeMs: param.number({
    default: 2,
    min: 0,
    max: MAX_MS,
    exclusiveMin: true,
    description: 'server work per (re)connect (TLS handshake, auth)',
  }),
  herd: param.enum(HERDS, { default: 'synchronized', description: 'which herd (each variant sets it)' }),
};

type Params = ParamValues<typeof PARAMS>;

/**
 * `thundering-herd`: many clients or cache entries do the same thing at the same instant, and the
 * origin takes all of it at once.
 *
 * Two herds, as variants:
 * - **Expiry herd** (`synchronized`, `ttl-jitter`): a bulk load (a deploy warm-up) writes N keys at
 *   once with the same TTL; at load + TTL they all expire and the origin (a database `Service` of
 *   limited concurrency) gets ≈ N loads in about a second. TTL jitter ±j spreads them over 2·j·TTL.
 * - **Reconnect herd** (`reconnect-immediate`, `reconnect-backoff`, `reconnect-backoff-jitter`): a
 *   server crashes, every client's session breaks at the same instant, and M clients reconnect through
 *   a `RetryingClient`. Immediate retries, and exponential backoff without jitter, keep them in lockstep:
 *   all M land in one instant after the restart. Full jitter spreads them to M / (T + C/2) per ms.
 *
 * @example
 * ```ts
 * const result = runScenario(thunderingHerd, { seed: 1 });
 * result.variants.map((v) => [v.name, v.outcome.peakPerSecond, v.outcome.theoryPeakPerSecond]);
 * ```
 */
export const thunderingHerd = defineScenario({
  name: 'thundering-herd',
  description:
    'Synchronized TTL expiries and synchronized reconnects: the origin peak, and how jitter spreads it',
  params: PARAMS,
  variants: HERDS.map((name) => ({ name, params: { herd: name } })),
  run(ctx) {
    const { params } = ctx;
    if (params.herd === 'synchronized' || params.herd === 'ttl-jitter') return expiryHerd(ctx, params);
    return reconnectHerd(ctx, params);
  },
  compare(variants: readonly VariantResult[], params) {
    const checks = [];
    const by = (name: Herd): VariantResult | undefined => variants.find((v) => v.name === name);
    const num = (v: VariantResult, field: string): number => v.outcome[field] as number;
    const sync = by('synchronized');
    const jit = by('ttl-jitter');
    if (sync !== undefined && jit !== undefined) {
      const measured = num(sync, 'peakPerSecond') / Math.max(1, num(jit, 'peakPerSecond'));
      const theory = num(sync, 'theoryPeakPerSecond') / num(jit, 'theoryPeakPerSecond');
      checks.push({
        name: 'TTL jitter cuts the peak origin load per second by about the factor theory predicts',
        // The measured jittered peak is the largest of 2jTTL/1 s noisy bins, so it sits above the mean
        // density: the measured cut is somewhat below the theoretical one.
        pass: measured >= 0.6 * theory && measured <= 1.1 * theory,
        detail: `peak cut ${measured.toFixed(1)}×, theory N(1 − e^(−r))·2jTTL/(N·1 s) = ${theory.toFixed(1)}× (j = ${params.jitter})`,
      });
    }
    const now = by('reconnect-immediate');
    const full = by('reconnect-backoff-jitter');
    if (now !== undefined && full !== undefined) {
      const measured = num(now, 'peakPer100ms') / Math.max(1, num(full, 'peakPer100ms'));
      const theory = num(now, 'theoryPeakPer100ms') / num(full, 'theoryPeakPer100ms');
      checks.push({
        name: 'full jitter cuts the reconnect peak per 100 ms by about the factor theory predicts',
        pass: measured >= 0.6 * theory && measured <= 1.1 * theory,
        detail: `peak cut ${measured.toFixed(1)}×, theory (T + C/2)/100 ms = ${theory.toFixed(1)}×`,
      });
    }
    return checks;
  },
});

/** Counts per BIN_MS bin; peaks per bin and per second (aligned seconds) over a window. */
class Bins {
  readonly counts: number[] = [];

  add(t: number): void {
    const i = Math.floor(t / BIN_MS);
    while (this.counts.length <= i) this.counts.push(0);
    this.counts[i]!++;
  }

  /** Sum over [from, to) ms, bin-aligned. */
  sum(from: number, to: number): number {
    let s = 0;
    for (let i = Math.floor(from / BIN_MS); i < Math.ceil(to / BIN_MS); i++) s += this.counts[i] ?? 0;
    return s;
  }

  /** Largest count of one bin of `width` ms (a multiple of BIN_MS, aligned to 0) within [from, to). */
  peak(from: number, to: number, width: number): number {
    let best = 0;
    for (let t = Math.floor(from / width) * width; t < to; t += width)
      best = Math.max(best, this.sum(t, t + width));
    return best;
  }
}

function expiryHerd(ctx: ScenarioContext<Params>, params: Params): Outcome {
  const { sim, requests, check } = ctx;
  const jitter = params.herd === 'ttl-jitter' ? params.jitter : 0;
  const n = params.keys;
  const net = new Network(sim, { defaults: { latency: 0.5 } });
  const cache = new CacheServer(net.addNode('cache'), {
    capacity: 2 * n,
    ttl: params.ttlMs,
    ...(jitter > 0 ? { ttlJitter: jitter } : {}),
  });
  new Service(net.addNode('db'), {
    concurrency: params.dbConcurrency,
    serviceTime: exponential({ mean: params.dbServiceMs }),
  });
  const endpoint = new RpcEndpoint(net.addNode('app'));
  const origin = new Bins();
  const load = (key: string): SimEvent<LoadResult<string>> => {
    origin.add(sim.now);
    return endpoint.call<string>('db', key, { key });
  };
  // One application tier that coalesces concurrent misses of a key (singleflight): each expired key
  // costs the origin one load, so what is measured is the herd of distinct keys, not cache-stampede's
  // duplicate loads of one key.
  const reader = new CacheAside<string>(sim, {
    name: 'app',
    cache: new RemoteCache<string>(endpoint, { servers: 'cache', timeout: 50 }),
    load,
    coalesce: true,
  });
  const keys = createKeys({ kind: 'uniform', count: n });
  sim.scheduleAt(BULK_LOAD_AT, () => {
    for (let i = 0; i < n; i++) cache.cache.set(keys.key(i), `v${i}`);
  });
  const firstExpiry = BULK_LOAD_AT + params.ttlMs * (1 - jitter);
  const lastExpiry = BULK_LOAD_AT + params.ttlMs * (1 + jitter);
  // A key is reloaded at its first read after it expires: Exp(r) later. Ten mean read gaps after the
  // last expiry, all but e^−10 of the keys have been read again; but the window must end before the
  // first reloaded key can expire again (at 2·TTL·(1 − j) after the load, later than the last first
  // expiry because j < 1/3).
  const readGap = (1000 * n) / params.readRate;
  const end = Math.min(
    lastExpiry + Math.max(TAIL_MS, 10 * readGap),
    firstExpiry + params.ttlMs * (1 - jitter),
  );
  // A slow database leaves every read of an expired key waiting on its load.
  limitOffered(
    (params.readRate * (end - BULK_LOAD_AT)) / 1000,
    'readRate × the read window (about 2 × ttlMs)',
  );
  const herdLatency = new LatencyHistogram();
  const pick = sim.rng('clients/keys');
  openLoop(sim, {
    arrivals: { kind: 'poisson', rate: params.readRate },
    start: BULK_LOAD_AT,
    until: end,
    stream: 'clients/arrivals',
    onArrival: () => {
      const started = sim.now;
      requests.start();
      reader.read(keys.next(pick)).onProcessed((e) => {
        const r = e.value!;
        requests.finish(r.ok, r.latency);
        if (started >= firstExpiry) herdLatency.record(r.latency);
      });
    },
  });
  sim.run();

  const model: ExpiryHerdModel = { keys: n, readRate: params.readRate, ttlMs: params.ttlMs, jitter };
  const theorySecond = expiryHerdPeak(model, 1000);
  const theoryBin = expiryHerdPeak(model, BIN_MS);
  const peakPerSecond = origin.peak(firstExpiry, end, 1000);
  const peakPer100ms = origin.peak(firstExpiry, end, BIN_MS);
  const herdLoads = origin.sum(firstExpiry, end);
  const firstSecond = origin.sum(firstExpiry, firstExpiry + 1000);
  // Plateau: the bins well inside the expiry spread, away from its edges (blurred by the read gap).
  const margin = Math.min((lastExpiry - firstExpiry) / 4, 3 * readGap);
  const plateauFrom = Math.ceil((firstExpiry + margin) / BIN_MS) * BIN_MS;
  const plateauTo = Math.floor((lastExpiry - margin) / BIN_MS) * BIN_MS;
  const plateau =
    plateauTo > plateauFrom
      ? origin.sum(plateauFrom, plateauTo) / ((plateauTo - plateauFrom) / BIN_MS)
      : null;
  // Coalescing leaves one load per key read again within the window (all but e^(−(end − last expiry)/gap)
  // of them), plus the rare read that looks between a load's answer and the store that follows it (the
  // store is one more hop to the cache).
  const missedShare = Math.exp(-(end - lastExpiry) / readGap);
  const expectedLoads = n * (1 - missedShare);
  const lowest = Math.floor(expectedLoads - 3 * Math.sqrt(n * missedShare * (1 - missedShare)) - 0.5);
  check(
    'about one origin load per expired key (coalesced)',
    herdLoads >= lowest && herdLoads <= 1.02 * n,
    `${herdLoads} loads in the herd window, N = ${n}, keys read again in it ${expectedLoads.toFixed(1)}`,
  );
  if (jitter === 0) {
    check(
      'the synchronized expiry sends about N loads to the origin within its first second',
      Math.abs(firstSecond - theorySecond) <= 0.05 * theorySecond,
      `${firstSecond} loads in the first second, N(1 − e^(−r·1 s)) = ${theorySecond.toFixed(1)}`,
    );
  } else {
    check(
      'jittered expiries arrive at the density N / (2·j·TTL)',
      plateau !== null && Math.abs(plateau - theoryBin) <= 0.1 * theoryBin,
      `${plateau?.toFixed(2) ?? 'no plateau'} loads per 100 ms inside the spread, theory ${theoryBin.toFixed(2)}`,
    );
    check(
      'the jittered peak per second stays near the density (at most 1.5× theory)',
      peakPerSecond <= 1.5 * theorySecond,
      `peak ${peakPerSecond}/s, theory ${theorySecond.toFixed(1)}/s`,
    );
  }
  return {
    peakPerSecond,
    theoryPeakPerSecond: theorySecond,
    peakPer100ms,
    theoryPeakPer100ms: theoryBin,
    plateauPer100ms: plateau,
    herdFirstSecond: firstSecond,
    herdLoads,
    herdSpreadMs: lastExpiry - firstExpiry,
    originPeakQueue: sim.metrics.gauge('db', 'svc.queue').max,
    latencyP50: herdLatency.percentile(50),
    latencyP99: herdLatency.percentile(99),
    latencyMax: herdLatency.max,
  };
}

function reconnectHerd(ctx: ScenarioContext<Params>, params: Params): Outcome {
  const { sim, requests, check } = ctx;
  const m = params.clients;
  const net = new Network(sim, { defaults: { latency: 0.5 } });
  const server = new Service(net.addNode('server'), {
    concurrency: params.serverConcurrency,
    serviceTime: params.handshakeMs,
  });
  const serverNode = server.node;
  const arrivals = new Bins();
  const backoff: BackoffSpec | undefined =
    params.herd === 'reconnect-immediate'
      ? undefined
      : {
          kind: 'exponential',
          baseMs: params.backoffBaseMs,
          capMs: Math.max(params.backoffCapMs, params.backoffBaseMs),
          jitter: params.herd === 'reconnect-backoff-jitter' ? 'full' : 'none',
        };
  const client = new RetryingClient(new RpcEndpoint(net.addNode('clients')), {
    timeout: params.connectTimeoutMs,
    maxAttempts: Math.ceil(params.outageMs / params.connectTimeoutMs) + 100,
    ...(backoff === undefined ? {} : { backoff }),
    // Count the attempts that reach a live server: the herd the server sees.
    target: (_attempt, to) => {
      if (serverNode.isUp) arrivals.add(sim.now);
      return to;
    },
  });
  const restart = CRASH_AT + params.outageMs;
  const reconnected = new LatencyHistogram();
  let pending = 0;
  // Every client's session breaks when the server crashes (the kernel resets the connections): all M
  // start reconnecting at that instant.
  serverNode.onCrash(() => {
    for (let i = 0; i < m; i++) {
      requests.start();
      pending++;
      client.call('server', 'connect').onProcessed((e) => {
        const r = e.value!;
        pending--;
        requests.finish(r.ok, r.latency);
        if (r.ok) reconnected.record(sim.now - restart);
      });
    }
  });
  scheduleFaults(net, [{ at: CRASH_AT, for: params.outageMs, fault: { kind: 'crash', node: 'server' } }]);
  sim.run();

  const cap = Math.max(params.backoffCapMs, params.backoffBaseMs);
  const jittered = params.herd === 'reconnect-backoff-jitter';
  const theoryBin = jittered
    ? fullJitterReconnectRate({ clients: m, timeoutMs: params.connectTimeoutMs, capMs: cap }, BIN_MS)
    : m;
  const theorySecond = jittered
    ? fullJitterReconnectRate({ clients: m, timeoutMs: params.connectTimeoutMs, capMs: cap }, 1000)
    : m;
  const end = sim.now + BIN_MS;
  const peakPer100ms = arrivals.peak(restart, end, BIN_MS);
  const peakPerSecond = arrivals.peak(restart, end, 1000);
  // Plateau: the first T after the restart (nobody has succeeded and dropped out yet).
  const plateauTo = restart + params.connectTimeoutMs;
  const plateau = arrivals.sum(restart, plateauTo) / (params.connectTimeoutMs / BIN_MS);
  const allBack = pending === 0 && reconnected.count === m;
  check('every client reconnects', allBack, `${reconnected.count} of ${m} reconnected`);
  if (jittered) {
    check(
      'full-jitter reconnects arrive at the renewal rate M / (T + C/2)',
      Math.abs(plateau - theoryBin) <= 0.15 * theoryBin,
      `${plateau.toFixed(1)} per 100 ms in the first T after the restart, theory ${theoryBin.toFixed(1)}`,
    );
  } else {
    check(
      'without jitter all M reconnects arrive within one 100 ms bin',
      peakPer100ms === m,
      `peak ${peakPer100ms} per 100 ms, M = ${m}`,
    );
  }
  return {
    peakPerSecond,
    theoryPeakPerSecond: theorySecond,
    peakPer100ms,
    theoryPeakPer100ms: theoryBin,
    plateauPer100ms: plateau,
    attempts: client.stats.attempts,
    reconnected: reconnected.count,
    originPeakQueue: sim.metrics.gauge('server', 'svc.queue').max,
    serverWaitP99: sim.metrics.histogram('server', 'svc.latency').percentile(99),
    reconnectP50: reconnected.percentile(50),
    reconnectP99: reconnected.percentile(99),
    reconnectMax: reconnected.max,
  };
}
