import {
  Cache,
  cheHitRatio,
  createKeys,
  EVICTION_KINDS,
  type EvictionKind,
  type EvictionSpec,
  fifoHitRatio,
  lfuHitRatio,
  zipfProbabilities,
} from '@dsim/components';
import { param } from '../params.js';
import { type CheckResult, defineScenario, type VariantResult } from '../scenario.js';
import { MAX_MS, MAX_ZIPF } from './limits.js';

/** The policies compared: every eviction kind but `none` (never evicts) and `ttl` (needs TTLs). */
type PolicyKind = Exclude<EvictionKind, 'none' | 'ttl'>;
const POLICIES = EVICTION_KINDS.filter((k): k is PolicyKind => k !== 'none' && k !== 'ttl');

const WORKLOADS = ['irm', 'scan', 'loop'] as const;

/** One percentage point. */
const PP = 0.01;
/** Standard errors allowed between a measured hit ratio and its model (z = 4). */
const Z = 4;
/** LRU against Che: at least this tolerance (Che's own error is far below it for Zipf). */
const LRU_TOLERANCE = 0.5 * PP;
/** FIFO and RANDOM against their formula: at least this tolerance. */
const FIFO_TOLERANCE = 1 * PP;
/** LFU with aging against top-C: it forgets, so it sits about a point short (components tests). */
const AGED_LFU_SHORTFALL = 1 * PP;
/** `lfu-aged`: counts halve every this many requests per unit of capacity (30·C requests). */
const AGING_REQUESTS_PER_SLOT = 30;
/** Batches of the batch-means standard error. */
const BATCHES = 20;

/** The eviction spec a variant's params describe. */
function evictionSpec(p: {
  policy: PolicyKind;
  samples: number;
  aging: boolean;
  capacity: number;
  gapMs: number;
}): EvictionSpec {
  switch (p.policy) {
    case 'lfu':
      return p.aging
        ? { kind: 'lfu', halfLife: AGING_REQUESTS_PER_SLOT * p.capacity * p.gapMs }
        : { kind: 'lfu' };
    case 'redis-lru':
    case 'redis-lfu':
      return { kind: p.policy, samples: p.samples };
    default:
      return { kind: p.policy };
  }
}

/** A variant: the policy and its options. */
interface PolicyVariant {
  readonly name: string;
  readonly description?: string;
  readonly params: { policy: PolicyKind; samples?: number; aging?: boolean };
}

/** Variants: one per policy; LFU also with aging, Redis's sampled LRU with 1, 5 and 10 samples. */
const VARIANTS = POLICIES.flatMap((policy): PolicyVariant[] => {
  if (policy === 'lfu')
    return [
      { name: 'lfu', description: 'in-cache LFU, no aging', params: { policy } },
      {
        name: 'lfu-aged',
        description: `LFU whose counts halve every ${AGING_REQUESTS_PER_SLOT}·C requests`,
        params: { policy, aging: true },
      },
    ];
  if (policy === 'redis-lru')
    return [1, 5, 10].map((samples) => ({
      name: `redis-lru-${samples}`,
      description: `Redis allkeys-lru, maxmemory-samples ${samples}`,
      params: { policy, samples },
    }));
  if (policy === 'redis-lfu')
    return [
      { name: 'redis-lfu', description: 'Redis allkeys-lfu, 5 samples', params: { policy, samples: 5 } },
    ];
  return [{ name: policy, params: { policy } }];
});

/** The analytic value a policy's IRM hit ratio is compared with. */
interface Model {
  /** Name, e.g. `che`. */
  readonly name: string;
  readonly hitRatio: number;
}

/**
 * `eviction-policies`: every eviction policy of the components package on the same key stream (common
 * random numbers: each variant draws the same keys), against the analytic models (Che's approximation for LRU, the FIFO/RANDOM fixed point, top-C for perfect LFU). A
 * `Cache` of `capacity` entries is read once per `gapMs` of simulated time; a miss is filled at once
 * (read, then set on a miss). The first `warmup` requests fill the cache and are not counted.
 *
 * Workloads: `irm` (independent reference model: each request draws one of `keys` objects with Zipf
 * popularity of exponent `zipf`); `scan` (that stream, interrupted after every `scanEvery` requests by a
 * sequential scan of `scanFactor`·C cold keys, each read once, never again); `loop` (a cycle over
 * `loopFactor`·C keys, every key's reuse distance larger than the cache: LRU's and FIFO's worst case).
 *
 * Models (IRM): Che's approximation for LRU (also the limit of Redis's sampled LRU as samples grow); the
 * FIFO/RANDOM characteristic-time formula for FIFO, RANDOM and Redis's LRU with 1 sample; the top-C mass
 * (perfect LFU, the IRM optimum) for LFU with aging, and as the upper bound of every policy. In-cache LFU
 * (counts die with their key) falls short of it. On the loop, LRU and FIFO hit exactly 0 and Belady's
 * offline optimum is (C − 1)/(L − 1).
 *
 * Outcome per variant: `hitRatio` (measured), `theoryHitRatio` and `theory` (the policy's model, null
 * when it has none), `deltaPp` (measured − model, in percentage points), `standardError` (batch means),
 * `cheHitRatio` and `optimumHitRatio` (the LRU estimate and the optimum of the stream), `hotHitRatio`
 * (scan: hit ratio of the Zipf requests) and `evictions` (in the measured window).
 *
 * @example
 * ```ts
 * const result = runScenario(evictionPolicies, { seed: 1 });
 * result.variants.map((v) => [v.name, v.outcome.hitRatio, v.outcome.theoryHitRatio]);
 * runScenario(evictionPolicies, { seed: 1, params: { workload: 'scan' }, variants: ['lru', 'arc', 'w-tinylfu'] });
 * ```
 */
export const evictionPolicies = defineScenario({
  name: 'eviction-policies',
  description:
    'Every eviction policy on one Zipf key stream (or scans, or a loop): hit ratio against Che, FIFO/RANDOM and top-C',
  params: {
    keys: param.integer({
      default: 1000,
      min: 2,
      max: 10_000_000,
      description: 'distinct objects N of the Zipf stream',
    }),
    capacity: param.integer({
      default: 100,
      min: 1,
      max: 1_000_000,
      description: 'cache capacity C in entries',
    }),
    zipf: param.number({
      default: 0.8,
      min: 0,
      max: MAX_ZIPF,
      description: 'Zipf exponent alpha (p_i ∝ i^-alpha)',
    }),
    requests: param.integer({
      default: 120_000,
      min: 1000,
      max: 10_000_000,
      description: 'measured requests (after the warm-up)',
    }),
    warmup: param.integer({
      default: 20_000,
      min: 0,
      max: 10_000_000,
      description: 'requests before measuring',
    }),
    workload: param.enum(WORKLOADS, {
      default: 'irm',
      description: 'irm (Zipf), scan (Zipf plus one-time sequential scans) or loop (a cycle > C)',
    }),
    scanEvery: param.integer({
      default: 200,
      min: 1,
      max: 10_000_000,
      description: 'scan workload: Zipf requests between two scans',
    }),
    scanFactor: param.number({
      default: 1,
      min: 0,
      max: 1000,
      exclusiveMin: true,
      description: 'scan workload: keys per scan, in multiples of the capacity',
    }),
    loopFactor: param.number({
      default: 1.1,
      min: 1,
      max: 1000,
      exclusiveMin: true,
      description: 'loop workload: loop length in multiples of the capacity',
    }),
    gapMs: param.number({
      default: 1000,
      min: 0,
      max: MAX_MS,
      exclusiveMin: true,
      description: "simulated ms between requests (Redis's LRU clock ticks once a second)",
    }),
    policy: param.enum(POLICIES, { default: 'lru', description: 'eviction policy (each variant sets it)' }),
    samples: param.integer({
      default: 5,
      min: 1,
      max: 64,
      description: 'redis-lru / redis-lfu: maxmemory-samples (variants set it)',
    }),
    aging: param.boolean({
      default: false,
      description: `lfu: halve the counts every ${AGING_REQUESTS_PER_SLOT}·C requests (variant lfu-aged)`,
    }),
  },
  variants: VARIANTS,
  run({ sim, params, variant, requests: stats, check }) {
    const { capacity, warmup, requests, workload, gapMs } = params;
    const spec = evictionSpec(params);
    const cache = new Cache<true>(sim, { name: 'cache', capacity, eviction: spec });
    const rng = sim.rng('eviction-policies/keys');
    const zipfKeys = createKeys({ kind: 'zipf', count: params.keys, s: params.zipf, prefix: 'k' });
    const scanLength = Math.max(1, Math.round(params.scanFactor * capacity));
    const loopLength = Math.max(capacity + 1, Math.round(params.loopFactor * capacity));

    // The key stream. `hot` says whether the last key came from the Zipf popularity (not a scan).
    let hot = true;
    let sinceScan = 0;
    let scanLeft = 0;
    let cold = 0;
    let position = 0;
    const nextKey = (): string => {
      if (workload === 'loop') {
        const key = `loop:${position}`; // made as needed: the loop may be far longer than the cache
        position = position + 1 === loopLength ? 0 : position + 1;
        return key;
      }
      if (workload === 'scan') {
        if (scanLeft === 0 && sinceScan === params.scanEvery) {
          scanLeft = scanLength;
          sinceScan = 0;
        }
        if (scanLeft > 0) {
          scanLeft--;
          hot = false;
          return `cold:${cold++}`;
        }
        sinceScan++;
      }
      hot = true;
      return zipfKeys.next(rng);
    };

    // Hits per batch of measured requests, for a batch-means standard error (hits are autocorrelated).
    const perBatch = Math.max(1, Math.floor(requests / BATCHES));
    const batchHits = new Float64Array(Math.ceil(requests / perBatch));
    let hits = 0;
    let hotHits = 0;
    let hotReads = 0;
    let evictionsAtWarmup = 0;
    const total = warmup + requests;
    let index = 0;
    const step = (): void => {
      const key = nextKey();
      const hit = cache.get(key) !== undefined;
      if (!hit) cache.set(key, true);
      if (index === warmup - 1) evictionsAtWarmup = cache.stats.evictions;
      if (index >= warmup) {
        if (hit) {
          hits++;
          const b = ((index - warmup) / perBatch) | 0;
          batchHits[b] = batchHits[b]! + 1;
        }
        if (hot) {
          hotReads++;
          if (hit) hotHits++;
        }
      }
      if (++index < total) sim.schedule(gapMs, step);
    };
    sim.schedule(0, step);
    sim.run();

    // Every read is answered at once (an in-memory cache): `metrics` counts them, with latency 0.
    for (let k = 0; k < requests; k++) {
      stats.start();
      stats.finish(true, 0);
    }
    const hitRatio = hits / requests;
    const se = batchStandardError(batchHits, perBatch, requests);
    const noise = Number.isFinite(se) ? Z * se : 0;
    const name = variant ?? params.policy;

    // IRM yardsticks of the Zipf part of the stream (for scans: what the hot set gets without them).
    // On the loop: Belady's offline optimum evicts the key used last (its next use is furthest away).
    let che: number | null = null;
    let fifo: number | null = null;
    let optimum = (capacity - 1) / (loopLength - 1);
    if (workload !== 'loop') {
      const p = zipfProbabilities(params.keys, params.zipf);
      che = cheHitRatio(p, capacity).hitRatio;
      fifo = fifoHitRatio(p, capacity).hitRatio;
      optimum = lfuHitRatio(p, capacity).hitRatio;
    }

    let model: Model | null = null;
    if (workload === 'irm') {
      model = irmChecks(name, params, hitRatio, che!, fifo!, optimum, noise, check);
    } else if (workload === 'scan' && hotReads > 0) {
      scanChecks(name, params.policy, hotHits / hotReads, che!, scanLength, capacity, noise, check);
    } else {
      // Over a window that starts warm, a policy can beat MIN by at most the C keys it holds at the start.
      check(
        "no policy beats Belady's MIN on the loop",
        hits <= optimum * requests + capacity,
        `measured ${fmt(hitRatio)}, MIN (C − 1)/(L − 1) = ${fmt(optimum)}`,
      );
      if (params.policy === 'lru' || params.policy === 'fifo') {
        model = { name: 'zero (loop > C)', hitRatio: 0 };
        check(
          `${params.policy} never hits a loop longer than the cache`,
          hits === 0,
          `${hits} hits in ${requests} requests over a loop of ${loopLength} keys, C = ${capacity}`,
        );
      }
    }

    return {
      hitRatio,
      theoryHitRatio: model?.hitRatio ?? null,
      theory: model?.name ?? null,
      deltaPp: model === null ? null : (hitRatio - model.hitRatio) / PP,
      standardError: Number.isFinite(se) ? se : null,
      cheHitRatio: che,
      optimumHitRatio: optimum,
      hotHitRatio: workload === 'scan' && hotReads > 0 ? hotHits / hotReads : null,
      evictions: cache.stats.evictions - evictionsAtWarmup,
    };
  },
  compare(variants, params) {
    const by = new Map(variants.map((v) => [v.name, v.outcome]));
    const h = (name: string, field = 'hitRatio'): number | null => {
      const x = by.get(name)?.[field];
      return typeof x === 'number' ? x : null;
    };
    const out: CheckResult[] = [];
    if (params.workload === 'irm') {
      const lru = h('lru');
      const arc = h('arc');
      if (lru !== null && arc !== null)
        out.push({
          name: 'ARC beats LRU on IRM',
          pass: arc > lru,
          detail: `arc ${fmt(arc)} vs lru ${fmt(lru)}`,
        });
      const fifo = h('fifo');
      const random = h('random');
      if (fifo !== null && random !== null) {
        const tol = pairTolerance(by.get('fifo'), by.get('random'), FIFO_TOLERANCE);
        out.push({
          name: 'FIFO and RANDOM hit alike under IRM (Gelenbe)',
          pass: Math.abs(fifo - random) <= tol,
          detail: `fifo ${fmt(fifo)} vs random ${fmt(random)}, tolerance ${fmt(tol)}`,
        });
      }
      const r1 = h('redis-lru-1');
      const r5 = h('redis-lru-5');
      const r10 = h('redis-lru-10');
      // Only when Redis's 1 s LRU clock tells requests apart (else every sample count is near RANDOM).
      if (r1 !== null && r5 !== null && r10 !== null && lru !== null && params.gapMs >= 1000) {
        // 5 samples are far above 1; 10 above 5 and below LRU by fractions of a point (within noise).
        const tol = pairTolerance(by.get('redis-lru-10'), by.get('lru'), LRU_TOLERANCE);
        out.push({
          name: "Redis's sampled LRU approaches LRU as samples grow",
          pass: r1 < r5 && r10 >= r5 - tol && r10 <= lru + tol,
          detail: `1 sample ${fmt(r1)}, 5 ${fmt(r5)}, 10 ${fmt(r10)}, exact LRU ${fmt(lru)} (tolerance ${fmt(tol)})`,
        });
      }
    }
    if (params.workload === 'scan') {
      const lru = h('lru', 'hotHitRatio');
      for (const name of ['arc', 'w-tinylfu']) {
        const x = h(name, 'hotHitRatio');
        if (lru !== null && x !== null)
          out.push({
            name: `${name} keeps the hot set through scans better than LRU`,
            pass: x > lru,
            detail: `hot-set hit ratio ${fmt(x)} vs lru ${fmt(lru)}`,
          });
      }
    }
    return out;
  },
});

/** Checks a policy's IRM hit ratio against its model; returns the model shown beside it. */
function irmChecks(
  name: string,
  params: { policy: PolicyKind; samples: number; aging: boolean; gapMs: number },
  hitRatio: number,
  che: number,
  fifo: number,
  topC: number,
  noise: number,
  check: (name: string, pass: boolean, detail: string) => void,
): Model | null {
  const within = (label: string, model: number, floor: number): void => {
    const tol = Math.max(floor, noise);
    check(
      `hit ratio matches ${label} within ${fmtPp(tol)}`,
      Math.abs(hitRatio - model) <= tol,
      `measured ${fmt(hitRatio)}, ${label} ${fmt(model)} (${fmtDelta(hitRatio - model)})`,
    );
  };
  const bound = `top-C ${fmt(topC)}`;
  const tol = Math.max(LRU_TOLERANCE, noise);
  switch (params.policy) {
    case 'lru':
      within('Che', che, LRU_TOLERANCE);
      return { name: 'che', hitRatio: che };
    case 'fifo':
    case 'random':
      within('the FIFO/RANDOM formula', fifo, FIFO_TOLERANCE);
      return { name: 'fifo/random', hitRatio: fifo };
    case 'redis-lru':
      if (params.samples === 1) {
        within('the FIFO/RANDOM formula (1 sample is RANDOM)', fifo, FIFO_TOLERANCE);
        return { name: 'fifo/random', hitRatio: fifo };
      }
      // With requests less than a second apart, Redis's 1 s LRU clock ties them: it tends to RANDOM.
      check(
        'sampled LRU lies between RANDOM and LRU (Che)',
        hitRatio > fifo - (params.gapMs < 1000 ? tol : 0) && hitRatio <= che + tol,
        `FIFO/RANDOM ${fmt(fifo)} < measured ${fmt(hitRatio)} <= Che ${fmt(che)}`,
      );
      return { name: 'che', hitRatio: che };
    case 'lfu':
      if (params.aging) {
        const short = AGED_LFU_SHORTFALL + noise;
        check(
          `LFU with aging reaches top-C within ${fmtPp(short)}`,
          hitRatio >= topC - short && hitRatio <= topC + tol,
          `measured ${fmt(hitRatio)}, ${bound} (${fmtDelta(hitRatio - topC)})`,
        );
      } else {
        check(
          'in-cache LFU beats LRU but falls short of top-C (no aging)',
          hitRatio > che && hitRatio < topC,
          `Che ${fmt(che)} < measured ${fmt(hitRatio)} < ${bound}`,
        );
      }
      return { name: 'top-C', hitRatio: topC };
    case 'arc':
    case 'w-tinylfu':
      check(
        `${name} lies between LRU (Che) and perfect LFU (top-C)`,
        hitRatio > che && hitRatio <= topC + tol,
        `Che ${fmt(che)} < measured ${fmt(hitRatio)} <= ${bound}`,
      );
      return null;
    case 'redis-lfu':
      check(
        'Redis LFU stays below perfect LFU (top-C)',
        hitRatio <= topC + tol,
        `measured ${fmt(hitRatio)} <= ${bound}`,
      );
      return null;
  }
}

/** Scan workload: the scan-resistant policies keep the hot set; LRU loses it when a scan fills the cache. */
function scanChecks(
  name: string,
  policy: PolicyKind,
  hotHitRatio: number,
  che: number,
  scanLength: number,
  capacity: number,
  noise: number,
  check: (name: string, pass: boolean, detail: string) => void,
): void {
  const tol = Math.max(FIFO_TOLERANCE, noise);
  if (policy === 'arc' || policy === 'w-tinylfu') {
    check(
      `${name} keeps the hot set: its hit ratio is at least LRU's without scans (Che)`,
      hotHitRatio >= che - tol,
      `hot-set hit ratio ${fmt(hotHitRatio)}, Che without scans ${fmt(che)}`,
    );
  }
  if (policy === 'lru' && scanLength >= capacity) {
    check(
      'LRU loses the hot set: each scan flushes the cache',
      hotHitRatio < che - tol,
      `hot-set hit ratio ${fmt(hotHitRatio)}, Che without scans ${fmt(che)}, scans of ${scanLength} keys, C = ${capacity}`,
    );
  }
}

/** Tolerance between two measured hit ratios: Z standard errors of their difference, at least `floor`. */
function pairTolerance(
  a: VariantResult['outcome'] | undefined,
  b: VariantResult['outcome'] | undefined,
  floor: number,
): number {
  const se = (o: VariantResult['outcome'] | undefined): number =>
    typeof o?.standardError === 'number' ? o.standardError : 0;
  return Math.max(floor, Z * Math.hypot(se(a), se(b)));
}

/**
 * Standard error of the hit ratio from the means of the full batches (the last, partial batch is left
 * out); NaN with fewer than two full batches.
 */
function batchStandardError(batchHits: Float64Array, perBatch: number, requests: number): number {
  const full = Math.floor(requests / perBatch);
  if (full < 2) return Number.NaN;
  let sum = 0;
  for (let b = 0; b < full; b++) sum += batchHits[b]! / perBatch;
  const mean = sum / full;
  let squares = 0;
  for (let b = 0; b < full; b++) squares += (batchHits[b]! / perBatch - mean) ** 2;
  return Math.sqrt(squares / (full - 1) / full);
}

function fmt(x: number): string {
  return x.toFixed(4);
}

function fmtPp(x: number): string {
  return `${(x / PP).toFixed(2)} pp`;
}

function fmtDelta(x: number): string {
  return `${x >= 0 ? '+' : ''}${fmtPp(x)}`;
}
