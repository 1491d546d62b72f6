import {
  AggregateRepository,
  EventStoreServer,
  Projection,
  ReadModelServer,
  type ReadModelView,
} from '@dsim/components';
import { exponential, LatencyHistogram, Network, RpcEndpoint } from '@dsim/core';
import { param } from '../params.js';
import { defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS } from './limits.js';

/** Checks allow this many standard errors. */
const Z = 4;
/** Figures are measured for commands and events from here (ms). */
const WARMUP = 5000;

/**
 * `event-sourcing-cqrs`: commands append events to aggregates in an event store (optimistic concurrency,
 * snapshots every S events); a polling projection copies the global log into a read model on another
 * node. Measured: the read model's staleness (commit to visible) as the polling interval T grows, against
 * the theory "uniform on [0, T] plus fixed costs" (mean T/2 + fixed); read-your-writes violations of a
 * client that queries the read model D ms after its append was acknowledged, against
 * P(U[0, T] + processing > D); and the time to rebuild an aggregate of N events with and without
 * snapshots, against N × c versus (N mod S) × c + snapshot load (plus one round trip).
 *
 * @example
 * ```ts
 * const result = runScenario(eventSourcingCqrs, { seed: 1 });
 * result.variants.map((v) => v.outcome.stalenessP50Ms); // ≈ 5, 50, 500 ms plus a few ms
 * ```
 */
export const eventSourcingCqrs = defineScenario({
  name: 'event-sourcing-cqrs',
  description: 'Event store + polling projection: read-model staleness, read-your-writes, snapshot replay',
  params: {
    commandRate: param.number({
      default: 100,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'commands per second (Poisson), each appending one event',
    }),
    aggregates: param.integer({
      default: 200,
      min: 1,
      max: 1_000_000,
      description: 'aggregates the commands pick from (uniformly)',
    }),
    pollMs: param.number({
      default: 100,
      min: 0,
      exclusiveMin: true,
      max: MAX_MS,
      description: 'projection polling interval T (each variant sets it)',
    }),
    readDelayMs: param.number({
      default: 50,
      min: 0,
      max: MAX_MS,
      description: 'D: how long a client waits after its append is acknowledged before reading its write',
    }),
    latencyMs: param.number({ default: 1, min: 0, max: MAX_MS, description: 'one-way network latency' }),
    storeServiceMs: param.number({
      default: 0.5,
      min: 0,
      max: MAX_MS,
      description: 'event store service time per request (one worker)',
    }),
    readModelServiceMs: param.number({
      default: 0.1,
      min: 0,
      max: MAX_MS,
      description: 'read model service time per request (one worker)',
    }),
    processingMs: param.number({
      default: 0.01,
      min: 0,
      max: MAX_MS,
      description: 'projection processing time per event',
    }),
    rebuildEvents: param.integer({
      default: 1037,
      min: 1,
      max: 100_000,
      description: 'N: events of the aggregate rebuilt with and without snapshots',
    }),
    snapshotEvery: param.integer({
      default: 100,
      min: 1,
      max: 100_000,
      description: 'S: snapshot period (events)',
    }),
    replayCostMs: param.number({
      default: 0.1,
      min: 0,
      max: MAX_MS,
      description: 'c: time to replay one event when loading an aggregate',
    }),
    snapshotLoadMs: param.number({ default: 1, min: 0, max: MAX_MS, description: 'time to load a snapshot' }),
    seconds: param.number({
      default: 60,
      min: 10,
      max: MAX_SECONDS,
      description: 'simulated seconds of commands (figures from 5 s on)',
    }),
  },
  variants: [
    { name: 'poll-10ms', params: { pollMs: 10 } },
    { name: 'poll-100ms', params: { pollMs: 100 } },
    { name: 'poll-1000ms', params: { pollMs: 1000 } },
  ],
  run({ sim, params, requests, check }) {
    const { commandRate, pollMs: T, readDelayMs: D, latencyMs: L, seconds } = params;
    const end = seconds * 1000;
    limitOffered(commandRate * seconds + params.rebuildEvents, 'commandRate × seconds + rebuildEvents');
    // Writing the rebuilt aggregate one command at a time replays up to min(S, N) events per command.
    limitOffered(
      (params.rebuildEvents * Math.min(params.snapshotEvery, params.rebuildEvents)) / 2,
      'rebuildEvents × min(snapshotEvery, rebuildEvents) / 2',
      10_000_000,
      'replayed events',
    );

    const net = new Network(sim, { defaults: { latency: L } });
    new EventStoreServer(net.addNode('store'), { serviceTime: params.storeServiceMs });
    const staleness = new LatencyHistogram();
    const readModel = new ReadModelServer(net.addNode('read-model'), {
      serviceTime: params.readModelServiceMs,
      onVisible: (event, ms) => {
        if (event.appendedAt >= WARMUP && event.aggregateId !== 'rebuild') staleness.record(ms);
      },
    });
    const projection = new Projection(sim, {
      endpoint: new RpcEndpoint(net.addNode('projector')),
      store: 'store',
      readModel: 'read-model',
      pollInterval: T,
      processingTime: params.processingMs,
      until: end + 2 * T + 1000,
    });

    // Command side: Poisson commands on random aggregates, each appending one event, then a read of the
    // client's own write D ms after the acknowledgement.
    const app = new RpcEndpoint(net.addNode('app'));
    const repo = new AggregateRepository(sim, {
      endpoint: app,
      store: 'store',
      snapshotEvery: params.snapshotEvery,
      replayCost: params.replayCostMs,
      snapshotLoadCost: params.snapshotLoadMs,
      maxAttempts: 5,
    });
    const gaps = exponential({ rate: commandRate / 1000 });
    const rng = sim.rng('cqrs/commands');
    let reads = 0;
    let violations = 0;
    let committed = 0;
    sim.process(function* () {
      for (;;) {
        const gap = gaps.sample(rng);
        if (sim.now + gap >= end) return;
        yield sim.timeout(gap);
        const aggregate = `agg-${rng.int(0, params.aggregates)}`;
        const started = sim.now;
        requests.start();
        repo
          .execute(aggregate, (_state, version) => [{ n: version + 1 }])
          .onProcessed((e) => {
            const r = e.value!;
            requests.finish(r.ok, sim.now - started);
            if (!r.ok) return;
            committed++;
            if (started < WARMUP) return;
            const query = (): void => {
              app
                .call<ReadModelView | null>('read-model', { op: 'query', aggregateId: aggregate })
                .onProcessed((q) => {
                  const res = q.value!;
                  if (!res.ok) return;
                  reads++;
                  if (res.value === null || res.value.version < r.version) violations++;
                });
            };
            if (D === 0) query();
            else sim.schedule(D, query);
          });
      }
    }, 'commands');

    // Rebuild: one aggregate of N events, written one command at a time with snapshots every S, then
    // loaded with and without them once the command load is over.
    const rebuilder = new AggregateRepository(sim, {
      endpoint: new RpcEndpoint(net.addNode('rebuilder')),
      store: 'store',
      snapshotEvery: params.snapshotEvery,
      replayCost: params.replayCostMs,
      snapshotLoadCost: params.snapshotLoadMs,
      stream: 'cqrs/rebuild',
    });
    const rebuild = { full: Number.NaN, snapshot: Number.NaN, replayed: -1, version: -1 };
    sim.process(function* () {
      for (let i = 0; i < params.rebuildEvents; i++) yield rebuilder.execute('rebuild', () => [{ i }]);
      const quiet = Math.max(sim.now, end + 2 * T + 1500);
      yield sim.timeout(quiet - sim.now);
      const full = yield* rebuilder.load('rebuild', { snapshot: false });
      const snap = yield* rebuilder.load('rebuild');
      if (full.ok) rebuild.full = full.ms;
      if (snap.ok) {
        rebuild.snapshot = snap.ms;
        rebuild.replayed = snap.replayed;
        rebuild.version = snap.version;
      }
    }, 'rebuild');

    sim.run();

    // Theory. The projection's read at the store happens at r_k = kT + L + store service; an event committed
    // at c is in the first read after it, visible after the response (L), the batch's processing and the
    // update (L + read-model service): S = (r_k − c) + 2L + processing + s_rm, r_k − c ~ U[0, T].
    const batch = (commandRate * T) / 1000 + 1; // size-biased batch of an event
    const fixed = 2 * L + batch * params.processingMs + params.readModelServiceMs;
    const theoryMean = T / 2 + fixed;
    const s = staleness.summary();
    // Polls read at fixed times kT + const and commits are Poisson, so each event's wait for the next read
    // is an independent U[0, T]: the errors are those of `count` independent draws.
    const n = Math.max(1, s.count);
    const tolMean = (Z * (T / Math.sqrt(12))) / Math.sqrt(n) + 2 + 0.02 * theoryMean;
    check(
      'staleness mean ≈ T/2 + fixed costs (uniform wait for the next poll)',
      Math.abs(s.mean - theoryMean) <= tolMean,
      `${s.mean.toFixed(2)} ms, theory ${theoryMean.toFixed(2)} ms = ${T}/2 + ${fixed.toFixed(2)} (±${tolMean.toFixed(2)})`,
    );
    const theoryP50 = T / 2 + fixed;
    const theoryP99 = 0.99 * T + fixed;
    // A sample quantile of a uniform on [0, T] has standard error T sqrt(p(1 − p)/n).
    const tolQ = (p: number, theory: number): number =>
      Z * T * Math.sqrt((p * (1 - p)) / n) + 2 + 0.01 * theory;
    const tol50 = tolQ(0.5, theoryP50);
    const tol99 = tolQ(0.99, theoryP99);
    check(
      'staleness p50 ≈ T/2 + fixed, p99 ≈ 0.99 T + fixed',
      Math.abs(s.p50 - theoryP50) <= tol50 && Math.abs(s.p99 - theoryP99) <= tol99,
      `p50 ${s.p50.toFixed(1)} ms (theory ${theoryP50.toFixed(1)} ±${tol50.toFixed(1)}), p99 ${s.p99.toFixed(1)} ms (theory ${theoryP99.toFixed(1)} ±${tol99.toFixed(1)})`,
    );
    // Read-your-writes: the query reaches the read model 2L + D after the commit (ack L, query L) and is
    // served after s_rm, as the update is: violated iff U + processing > D.
    const theoryViolation = Math.min(1, Math.max(0, 1 - (D - batch * params.processingMs) / T));
    const violationRate = reads === 0 ? Number.NaN : violations / reads;
    const pv = theoryViolation;
    const tolV = Z * Math.sqrt(Math.max(pv * (1 - pv), 0.0025) / Math.max(1, reads)) + 0.02;
    check(
      'read-your-writes violations ≈ P(U[0, T] + processing > D)',
      Math.abs(violationRate - theoryViolation) <= tolV,
      `${(100 * violationRate).toFixed(1)}% of ${reads} reads, theory ${(100 * theoryViolation).toFixed(1)}% (±${(100 * tolV).toFixed(1)} points)`,
    );
    check(
      'the projection caught up: every committed event is in the read model',
      readModel.checkpoint === projection.stats.checkpoint &&
        readModel.checkpoint === committed + params.rebuildEvents,
      `read model at ${readModel.checkpoint}, projection at ${projection.stats.checkpoint}, committed ${committed} + ${params.rebuildEvents}`,
    );
    // Rebuild: one round trip (2L + store service) plus the replay.
    const N = params.rebuildEvents;
    const S = params.snapshotEvery;
    const rtt = 2 * L + params.storeServiceMs;
    const theoryFull = rtt + N * params.replayCostMs;
    const tail = N % S;
    const theorySnap = rtt + (N >= S ? params.snapshotLoadMs : 0) + tail * params.replayCostMs;
    const tolR = (x: number): number => 1 + 0.01 * x; // queueing behind a poll at the store
    check(
      'rebuild without snapshots costs N × c (+ a round trip)',
      Math.abs(rebuild.full - theoryFull) <= tolR(theoryFull),
      `${rebuild.full.toFixed(2)} ms, theory ${theoryFull.toFixed(2)} ms (N = ${N}, c = ${params.replayCostMs} ms)`,
    );
    check(
      'rebuild with a snapshot every S replays N mod S events: (N mod S) × c + snapshot load (+ a round trip)',
      rebuild.replayed === tail && Math.abs(rebuild.snapshot - theorySnap) <= tolR(theorySnap),
      `${rebuild.snapshot.toFixed(2)} ms replaying ${rebuild.replayed} events, theory ${theorySnap.toFixed(2)} ms (${tail} events)`,
    );
    const repoStats = repo.stats;
    return {
      pollMs: T,
      stalenessMeanMs: s.mean,
      theoryStalenessMeanMs: theoryMean,
      stalenessP50Ms: s.p50,
      stalenessP99Ms: s.p99,
      stalenessMaxMs: s.max,
      theoryStalenessP99Ms: theoryP99,
      readYourWritesViolationRate: violationRate,
      theoryViolationRate: theoryViolation,
      reads,
      committed,
      conflicts: repoStats.conflicts,
      projectionPolls: projection.stats.polls,
      rebuildFullMs: rebuild.full,
      theoryRebuildFullMs: theoryFull,
      rebuildSnapshotMs: rebuild.snapshot,
      theoryRebuildSnapshotMs: theorySnap,
      rebuildReplayedWithSnapshot: rebuild.replayed,
      rebuildVersion: rebuild.version,
    };
  },
  compare(variants: readonly VariantResult[]) {
    const sorted = [...variants].sort((a, b) => (a.outcome.pollMs as number) - (b.outcome.pollMs as number));
    const out = [];
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1]!;
      const b = sorted[i]!;
      out.push({
        name: `staleness grows with the polling interval (${a.name} < ${b.name})`,
        pass: (a.outcome.stalenessP99Ms as number) < (b.outcome.stalenessP99Ms as number),
        detail: `p99 ${(a.outcome.stalenessP99Ms as number).toFixed(1)} ms < ${(b.outcome.stalenessP99Ms as number).toFixed(1)} ms`,
      });
    }
    return out;
  },
});
