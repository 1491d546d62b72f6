import {
  ConsumerGroupMonitor,
  DeliveryTally,
  GroupCoordinator,
  KafkaConsumer,
  MemoryRecordSource,
} from '@dsim/components';
import { exponential, Network } from '@dsim/core';
import { param } from '../params.js';
import { type CheckResult, defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_PARTITIONS, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

/** How often the group's lag is sampled (ms). */
const SAMPLE_MS = 100;

/**
 * The fluid model of a consumer group's lag: `C` consumers, each processing `mu` records per second,
 * read `P` partitions that receive `lambda` records per second in all. Only `min(C, P)` consumers get a
 * partition (a partition has one consumer in a group), so the group drains at `min(C, P) × mu − lambda`
 * when that is positive, and the lag grows at `lambda − min(C, P) × mu` otherwise. A backlog of `lag`
 * records is worked off in `lag / (min(C, P) × mu − lambda)` seconds (assuming the partitions are shared
 * out evenly: P a multiple of min(C, P)).
 *
 * @param m - lambda and mu per second, the consumer and partition counts
 * @returns `effective` consumers, the `drainPerS` rate (negative: the lag grows), and `catchUpS(lag)`
 *   (null when the group never catches up)
 * @example
 * ```ts
 * const f = lagFluidModel({ lambda: 300, mu: 200, consumers: 3, partitions: 6 });
 * f.drainPerS;      // 300
 * f.catchUpS(6000); // 20
 * ```
 */
export function lagFluidModel(m: { lambda: number; mu: number; consumers: number; partitions: number }): {
  effective: number;
  drainPerS: number;
  catchUpS(lag: number): number | null;
} {
  const effective = Math.min(m.consumers, m.partitions);
  const drainPerS = effective * m.mu - m.lambda;
  return {
    effective,
    drainPerS,
    catchUpS: (lag) => (drainPerS > 0 ? lag / drainPerS : null),
  };
}

/**
 * `consumer-lag`: a producer at rate λ (Poisson, each record to a random partition) into P partitions,
 * read by a group of C consumers each processing at μ records per second. A burst of records lands at
 * once; the group's lag (high watermark − committed offset, summed over the partitions) rises by the
 * burst and drains at `min(C, P) × μ − λ`, or keeps growing when that is negative. Checked against
 * {@link lagFluidModel}.
 */
export const consumerLag = defineScenario({
  name: 'consumer-lag',
  description:
    'Kafka consumer-group lag: a burst drains at min(C, P)·μ − λ, grows when consumers are too few, and consumers beyond the partition count idle',
  params: {
    lambda: param.number({
      default: 300,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'records produced per second (Poisson), each to a uniformly drawn partition',
    }),
    mu: param.number({
      default: 200,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'records each consumer processes per second (1000 / μ ms each)',
    }),
    partitions: param.integer({
      default: 6,
      min: 1,
      max: MAX_PARTITIONS,
      description: 'partitions of the topic (P)',
    }),
    consumers: param.integer({
      default: 3,
      min: 1,
      max: MAX_WORKERS,
      description: 'consumers in the group (C); set by each variant',
    }),
    burst: param.integer({
      default: 6000,
      min: 0,
      max: 1_000_000,
      description: 'records appended at once at burstAtS, shared evenly over the partitions',
    }),
    burstAtS: param.number({
      default: 30,
      min: 0,
      max: MAX_SECONDS,
      description: 'when the burst lands (after the group has formed and drained its start-up backlog)',
    }),
    seconds: param.number({
      default: 90,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds',
    }),
    maxPollRecords: param.integer({
      default: 50,
      min: 1,
      max: 1_000_000,
      description: 'max.poll.records: a batch, committed after it is processed',
    }),
    autoCommitMs: param.number({
      default: 0,
      min: 0,
      max: MAX_MS,
      description:
        'auto.commit.interval.ms; 0: auto-commit off, commitSync after each batch (lag then trails by at most a batch per consumer)',
    }),
  },
  variants: [
    {
      name: 'enough',
      description: 'C = 3 on 6 partitions: 600/s of processing against 300/s',
      params: { consumers: 3 },
    },
    {
      name: 'too-few',
      description: 'C = 1: 200/s of processing against 300/s, the lag grows at 100/s',
      params: { consumers: 1 },
    },
    {
      name: 'c-equals-p',
      description: 'C = P = 6: the most consumers that can help',
      params: { consumers: 6 },
    },
    {
      name: 'more-than-p',
      description: 'C = 8 on 6 partitions: two consumers get nothing',
      params: { consumers: 8 },
    },
  ],
  run({ sim, params, requests, check }) {
    const { lambda, mu, partitions: P, consumers: C, burst, maxPollRecords } = params;
    const end = params.seconds * 1000;
    const burstAt = params.burstAtS * 1000;
    limitOffered(lambda * params.seconds + burst, 'lambda × seconds + burst', undefined, 'records');
    const net = new Network(sim, { defaults: { latency: 0.5 } });
    const source = new MemoryRecordSource(sim, { topics: { t: P } });
    const coordinator = new GroupCoordinator(net.addNode('gc'));
    coordinator.usePartitionCounts((t) => source.partitionCount(t));
    const tally = new DeliveryTally();
    const monitor = new ConsumerGroupMonitor(sim, {
      groupId: 'g',
      topics: ['t'],
      source,
      coordinator,
      sampleEvery: 0,
    });
    const commit =
      params.autoCommitMs > 0
        ? { enableAutoCommit: true, autoCommitInterval: params.autoCommitMs }
        : { enableAutoCommit: false, manualCommit: 'after-processing' as const };
    const consumers: KafkaConsumer[] = [];
    for (let i = 1; i <= C; i++)
      consumers.push(
        new KafkaConsumer(net.addNode(`c${i}`), {
          groupId: 'g',
          topics: ['t'],
          coordinator: 'gc',
          source,
          tally,
          monitor,
          autoOffsetReset: 'earliest',
          processingTime: 1000 / mu,
          maxPollRecords,
          ...commit,
        }),
      );

    const gaps = exponential({ rate: lambda / 1000 });
    const arrivals = sim.rng('producer/arrivals');
    const pick = sim.rng('producer/partition');
    const produceNext = (): void => {
      requests.start();
      source.append('t', Math.floor(pick.next() * P), 1);
      requests.finish(true, 0);
      const next = sim.now + gaps.sample(arrivals);
      if (next < end) sim.scheduleAt(next, produceNext);
    };
    sim.scheduleAt(gaps.sample(arrivals), produceNext);
    sim.scheduleAt(burstAt, () => {
      for (let p = 0; p < P; p++) source.append('t', p, Math.floor(burst / P) + (p < burst % P ? 1 : 0));
    });
    // Sampled just after the burst's instant so the sample at burstAt sees it.
    const samples: Array<[number, number]> = [];
    for (let t = 0; t <= end; t += SAMPLE_MS)
      sim.scheduleAt(t + 1e-3, () => samples.push([t, monitor.totalLagNow()]));
    sim.run({ until: end + 1 });

    const fluid = lagFluidModel({ lambda, mu, consumers: C, partitions: P });
    const before = samples.filter(([t]) => t >= burstAt - 10_000 && t < burstAt).map(([, l]) => l);
    const baseline = before.length === 0 ? 0 : before.reduce((a, b) => a + b, 0) / before.length;
    const peak = Math.max(
      0,
      ...samples.filter(([t]) => t >= burstAt && t <= burstAt + 2_000).map(([, l]) => l),
    );
    // Drained: back within 10% of the burst of the lag before it (the tail is noise).
    const target = baseline + 0.1 * burst;
    const drained = samples.find(([t, l]) => t > burstAt && l <= target);
    const catchUpS = drained === undefined ? null : (drained[0] - burstAt) / 1000;
    const theoryCatchUpS = fluid.catchUpS(peak - target);
    const idle = consumers.filter((c) => c.stats.processed === 0).length;
    // Committed offsets trail the positions by up to a commit's worth per busy consumer: a batch, or an
    // auto-commit interval of processing (plus the batch in hand).
    const commitLag =
      fluid.effective * (maxPollRecords + (params.autoCommitMs > 0 ? (mu * params.autoCommitMs) / 1000 : 0));
    const window = end - burstAt - 2_000;
    const fit = samples.filter(([t]) => t >= burstAt + 2_000);
    const slope = fit.length >= 2 ? leastSquares(fit) * 1000 : 0;

    if (fluid.drainPerS > 0) {
      // Poisson arrivals over the drain (3 sd), the commit granularity, a batch, and the sampling step.
      const T = theoryCatchUpS ?? 0;
      const tol =
        (3 * Math.sqrt(lambda * T) + commitLag) / fluid.drainPerS +
        maxPollRecords / mu +
        params.autoCommitMs / 1000 +
        (2 * SAMPLE_MS) / 1000;
      check(
        'the burst drains in lag / (min(C, P) × μ − λ), the fluid model',
        catchUpS !== null && theoryCatchUpS !== null && Math.abs(catchUpS - theoryCatchUpS) <= tol,
        `from a peak of ${peak} (${baseline.toFixed(0)} before the burst) to ${target.toFixed(0)} in ${catchUpS === null ? 'never' : `${catchUpS.toFixed(2)} s`}; fluid model ${theoryCatchUpS?.toFixed(2)} s at ${fluid.drainPerS}/s, tolerance ±${tol.toFixed(2)} s`,
      );
    } else {
      // The slope of a least-squares fit to a Poisson count over W seconds has a standard deviation
      // near sqrt(1.2 λ / W); the commit sawtooth adds at most its height over the window.
      const W = window / 1000;
      const tol = 3 * Math.sqrt((1.2 * lambda) / W) + (2 * commitLag) / W;
      check(
        'too few consumers: the lag grows at λ − min(C, P) × μ',
        catchUpS === null && Math.abs(slope + fluid.drainPerS) <= tol,
        `lag slope ${slope.toFixed(2)}/s over ${W.toFixed(0)} s; fluid model ${(-fluid.drainPerS).toFixed(2)}/s, tolerance ±${tol.toFixed(2)}/s; never caught up: ${catchUpS === null}`,
      );
    }
    check(
      'consumers beyond the partition count get nothing: C − min(C, P) idle',
      idle === C - fluid.effective,
      `${idle} of ${C} consumers processed nothing; expected ${C - fluid.effective}`,
    );
    check(
      'no record processed twice (no rebalance after the start)',
      tally.duplicates === 0,
      `${tally.duplicates} duplicates`,
    );
    return {
      effectiveConsumers: fluid.effective,
      idleConsumers: idle,
      drainPerS: fluid.drainPerS,
      lagBeforeBurst: baseline,
      peakLag: peak,
      catchUpS,
      theoryCatchUpS,
      slopePerS: slope,
      theorySlopePerS: -fluid.drainPerS,
      finalLag: samples.at(-1)![1],
      processed: tally.total,
      rebalances: coordinator.rebalances('g').length,
    };
  },
  compare(variants: readonly VariantResult[]): CheckResult[] {
    const get = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const equal = get('c-equals-p');
    const more = get('more-than-p');
    const enough = get('enough');
    const checks: CheckResult[] = [];
    if (equal !== undefined && more !== undefined && equal.catchUpS !== null && more.catchUpS !== null)
      checks.push({
        name: 'consumers beyond P do not speed up the catch-up',
        // The same arrivals and one partition per busy consumer: the same drain, to a sample or two.
        pass: (more.catchUpS as number) >= (equal.catchUpS as number) - 0.2,
        detail: `C = P: ${(equal.catchUpS as number).toFixed(2)} s; C > P: ${(more.catchUpS as number).toFixed(2)} s (${more.idleConsumers} idle)`,
      });
    if (enough !== undefined && equal !== undefined && enough.catchUpS !== null && equal.catchUpS !== null)
      checks.push({
        name: 'more consumers, up to P, catch up sooner',
        pass: (equal.catchUpS as number) < (enough.catchUpS as number),
        detail: `C = 3: ${(enough.catchUpS as number).toFixed(2)} s; C = 6: ${(equal.catchUpS as number).toFixed(2)} s`,
      });
    return checks;
  },
});

function leastSquares(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  let sx = 0;
  let sy = 0;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
    sxy += x * y;
    sxx += x * x;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}
