import {
  ConsumerGroupMonitor,
  DeliveryTally,
  formatTp,
  GroupCoordinator,
  KafkaConsumer,
  MemoryRecordSource,
} from '@dsim/components';
import { exponential, Network } from '@dsim/core';
import { param } from '../params.js';
import { type CheckResult, defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_PARTITIONS, MAX_RATE, MAX_SECONDS, MAX_WORKERS } from './limits.js';

/** How often the lag is sampled (ms). */
const SAMPLE_MS = 100;

/**
 * The group monitor, also keeping every change of the paused-partition count: a stop-the-world pause
 * can last a few milliseconds, shorter than any sampling step.
 */
class PauseLog extends ConsumerGroupMonitor {
  readonly steps: Array<[number, number]> = [];
  override report(consumer: string, partitions: ReadonlySet<string>): void {
    super.report(consumer, partitions);
    const n = this.pausedNow();
    if (this.steps.at(-1)?.[1] !== n) this.steps.push([this.sim.now, n]);
  }
  /** The largest count and the time with any partition paused, within [from, to). */
  within(from: number, to: number): { max: number; anyMs: number } {
    let current = 0;
    for (const [t, n] of this.steps) if (t <= from) current = n;
    let max = current;
    let anyMs = 0;
    let since = from;
    for (const [t, n] of this.steps) {
      if (t <= from || t >= to) continue;
      if (current > 0) anyMs += t - since;
      since = t;
      current = n;
      max = Math.max(max, n);
    }
    if (current > 0) anyMs += to - since;
    return { max, anyMs };
  }
}

/** What one event (the join, or the crash) cost the group, measured from the event to the next one. */
interface EventCost {
  rebalances: number;
  revoked: number;
  lost: number;
  moved: number;
  pausedPartitionS: number;
  maxPaused: number;
  /** Time with at least one partition paused. */
  pauseSpanS: number;
  lagBefore: number;
  lagAfter: number;
  duplicates: number;
  uncommittedAtEvent: number;
  detectionS: number | null;
}

/**
 * `consumer-rebalance`: a group of N consumers on P partitions under a steady Poisson load; at
 * `joinAtS` one more consumer joins, and at `crashAtS` one of the first ones crashes (for good, or
 * restarting after `restartAfterS`). Compares eager rebalancing (range), cooperative rebalancing
 * (cooperative-sticky, KIP-429), static membership (KIP-345) and the KIP-848 consumer protocol:
 * rebalances, partitions revoked and moved, paused partition-seconds, the lag spike, and the records
 * processed twice.
 */
export const consumerRebalance = defineScenario({
  name: 'consumer-rebalance',
  description:
    'Kafka consumer-group rebalances on a join and a crash: eager vs cooperative-sticky vs static membership vs KIP-848; revoked partitions, pause, lag spike, duplicates',
  params: {
    consumers: param.integer({
      default: 3,
      min: 1,
      max: MAX_WORKERS,
      description: 'consumers in the group at the start (N); one more joins at joinAtS',
    }),
    partitions: param.integer({
      default: 12,
      min: 1,
      max: MAX_PARTITIONS,
      description: 'partitions of the topic (P)',
    }),
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
      description: 'records each consumer processes per second (exponential times, mean 1000 / μ ms)',
    }),
    protocol: param.enum(['classic', 'consumer'], {
      default: 'classic',
      description: "group.protocol: 'classic' (JoinGroup / SyncGroup) or 'consumer' (KIP-848)",
    }),
    assignor: param.enum(['range', 'roundrobin', 'sticky', 'cooperative-sticky'], {
      default: 'range',
      description: 'partition.assignment.strategy (classic protocol)',
    }),
    staticMembership: param.boolean({
      default: false,
      description: 'group.instance.id set on every consumer (KIP-345)',
    }),
    joinAtS: param.number({
      default: 30,
      min: 0,
      max: MAX_SECONDS,
      description: 'when the extra consumer joins',
    }),
    crashAtS: param.number({
      default: 60,
      min: 0,
      max: MAX_SECONDS,
      description: 'when consumer c2 crashes (after joinAtS)',
    }),
    restartAfterS: param.number({
      default: 0,
      min: 0,
      max: MAX_SECONDS,
      description: 'c2 restarts this long after its crash; 0: it never does',
    }),
    sessionTimeoutMs: param.number({
      default: 45_000,
      min: 1,
      max: MAX_MS,
      description:
        'session.timeout.ms (classic) and group.consumer.session.timeout.ms (KIP-848): a silent member is expired after this',
    }),
    heartbeatMs: param.number({
      default: 3_000,
      min: 1,
      max: MAX_MS,
      description: 'heartbeat.interval.ms (classic; KIP-848 uses group.consumer.heartbeat.interval.ms, 5 s)',
    }),
    autoCommitMs: param.number({
      default: 5_000,
      min: 1,
      max: MAX_MS,
      description: 'auto.commit.interval.ms',
    }),
    maxPollRecords: param.integer({
      default: 100,
      min: 1,
      max: 1_000_000,
      description: 'max.poll.records',
    }),
    seconds: param.number({
      default: 140,
      min: 1,
      max: MAX_SECONDS,
      description: 'simulated seconds (long enough after the crash for the session to expire)',
    }),
  },
  variants: [
    {
      name: 'eager',
      description: 'classic protocol, range assignor: stop-the-world rebalances',
      params: { assignor: 'range' },
    },
    {
      name: 'cooperative',
      description:
        'classic protocol, cooperative-sticky: only moved partitions are revoked, in two rebalances',
      params: { assignor: 'cooperative-sticky' },
    },
    {
      name: 'static',
      description:
        'range with group.instance.id; c2 restarts 20 s after its crash, within the session timeout',
      params: { assignor: 'range', staticMembership: true, restartAfterS: 20 },
    },
    {
      name: 'kip848',
      description: "group.protocol 'consumer': the coordinator assigns, members reconcile through heartbeats",
      params: { protocol: 'consumer' },
    },
  ],
  run({ sim, params, requests, check }) {
    const { partitions: P, consumers: N, lambda, mu } = params;
    const end = params.seconds * 1000;
    const joinAt = params.joinAtS * 1000;
    // A seeded phase against the heartbeats, which tick from the group's start.
    const crashAt = params.crashAtS * 1000 + sim.rng('fault/phase').next() * 1000;
    const restart = params.restartAfterS > 0 ? crashAt + params.restartAfterS * 1000 : null;
    const kip848 = params.protocol === 'consumer';
    const heartbeat = kip848 ? 5_000 : Math.min(params.heartbeatMs, params.sessionTimeoutMs - 1);
    limitOffered(lambda * params.seconds, 'lambda × seconds', undefined, 'records');
    const net = new Network(sim, { defaults: { latency: 0.5 } });
    const source = new MemoryRecordSource(sim, { topics: { t: P } });
    const coordinator = new GroupCoordinator(net.addNode('gc'), {
      consumerSessionTimeout: params.sessionTimeoutMs,
      consumerHeartbeatInterval: Math.min(5_000, params.sessionTimeoutMs - 1),
      groupMaxSessionTimeout: Math.max(1_800_000, params.sessionTimeoutMs),
      groupMinSessionTimeout: Math.min(6_000, params.sessionTimeoutMs),
    });
    coordinator.usePartitionCounts((t) => source.partitionCount(t));
    const tally = new DeliveryTally();
    const monitor = new PauseLog(sim, {
      groupId: 'g',
      topics: ['t'],
      source,
      coordinator,
      sampleEvery: 0,
    });
    const consumers = new Map<string, KafkaConsumer>();
    const processing = exponential({ mean: 1000 / mu });
    const add = (address: string): void => {
      consumers.set(
        address,
        new KafkaConsumer(net.addNode(address), {
          groupId: 'g',
          topics: ['t'],
          coordinator: 'gc',
          source,
          tally,
          monitor,
          groupProtocol: params.protocol,
          ...(kip848
            ? {}
            : {
                assignor: params.assignor,
                sessionTimeout: params.sessionTimeoutMs,
                heartbeatInterval: heartbeat,
              }),
          ...(params.staticMembership ? { groupInstanceId: `instance-${address}` } : {}),
          autoOffsetReset: 'earliest',
          processingTime: processing,
          maxPollRecords: params.maxPollRecords,
          autoCommitInterval: params.autoCommitMs,
        }),
      );
    };
    for (let i = 1; i <= N; i++) add(`c${i}`);

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

    const samples: Array<{ t: number; lag: number }> = [];
    for (let t = 0; t <= end; t += SAMPLE_MS)
      sim.scheduleAt(t + 1e-3, () => samples.push({ t, lag: monitor.totalLagNow() }));

    /** Who consumes each partition now (member address per `tp`). */
    const owners = (): Map<string, string> => {
      const m = new Map<string, string>();
      for (const [a, c] of consumers) for (const tp of c.assignment()) m.set(tp, a);
      return m;
    };
    /** Records processed past the committed offset of each partition: what a crash could replay. */
    const uncommitted = (only?: ReadonlySet<string>): number => {
      let n = 0;
      for (let p = 0; p < P; p++) {
        if (only !== undefined && !only.has(formatTp({ topic: 't', partition: p }))) continue;
        const from = coordinator.committed('g', 't', p) ?? 0;
        for (let o = from; o < source.highWatermark('t', p); o++) if (tally.count('t', p, o) > 0) n++;
      }
      return n;
    };
    const totals = () => {
      let revoked = 0;
      let lost = 0;
      for (const c of consumers.values()) {
        revoked += c.stats.revoked;
        lost += c.stats.lost;
      }
      return { revoked, lost, dups: tally.duplicates, paused: monitor.pausedPartitionMs() };
    };
    interface Mark {
      at: number;
      totals: ReturnType<typeof totals>;
      owners: Map<string, string>;
      uncommitted: number;
      rebalances: number;
    }
    const marks: Mark[] = [];
    const mark = (uncommittedNow: number): void => {
      marks.push({
        at: sim.now,
        totals: totals(),
        owners: owners(),
        uncommitted: uncommittedNow,
        rebalances: coordinator.rebalances('g').length,
      });
    };
    sim.scheduleAt(joinAt, () => {
      mark(uncommitted());
      add(`c${N + 1}`);
    });
    let crashedOwned = new Set<string>();
    sim.scheduleAt(crashAt, () => {
      crashedOwned = new Set(consumers.get('c2')?.assignment() ?? []);
      // Only the crashed member's processed-but-uncommitted records can be replayed: the others commit
      // before they give a partition up.
      mark(uncommitted(crashedOwned));
      net.crash('c2');
    });
    if (restart !== null) sim.scheduleAt(restart, () => net.restart('c2'));
    sim.scheduleAt(end, () => mark(0));
    sim.run({ until: end + 1 });

    const costOf = (from: Mark, to: Mark, isCrash: boolean): EventCost => {
      const inWindow = samples.filter((s) => s.t >= from.at && s.t < to.at);
      const pause = monitor.within(from.at, to.at);
      const before = samples.filter((s) => s.t >= from.at - 10_000 && s.t < from.at);
      let moved = 0;
      for (const [tp, owner] of from.owners) if (to.owners.get(tp) !== owner) moved++;
      const episodes = coordinator.rebalances('g').slice(from.rebalances);
      const started = episodes.filter((e) => e.startedAt < to.at);
      return {
        rebalances: started.length,
        revoked: to.totals.revoked - from.totals.revoked,
        lost: to.totals.lost - from.totals.lost,
        moved,
        pausedPartitionS: (to.totals.paused - from.totals.paused) / 1000,
        maxPaused: pause.max,
        pauseSpanS: pause.anyMs / 1000,
        lagBefore: Math.max(0, ...before.map((s) => s.lag)),
        lagAfter: Math.max(0, ...inWindow.map((s) => s.lag)),
        duplicates: to.totals.dups - from.totals.dups,
        uncommittedAtEvent: from.uncommitted,
        detectionS: isCrash && started.length > 0 ? (started[0]!.startedAt - from.at) / 1000 : null,
      };
    };
    const [atJoin, atCrash, atEnd] = marks as [Mark, Mark, Mark];
    const join = costOf(atJoin, atCrash, false);
    const crash = costOf(atCrash, atEnd, true);
    const cooperative = !kip848 && params.assignor === 'cooperative-sticky';
    const eager = !kip848 && !cooperative;
    const ownedAtJoin = atJoin.owners.size;

    // The join.
    if (eager)
      check(
        'eager: the join revokes every partition, in one rebalance',
        join.revoked === ownedAtJoin && join.rebalances === 1 && join.maxPaused === P,
        `${join.revoked} of ${ownedAtJoin} owned partitions revoked, ${join.rebalances} rebalance(s), up to ${join.maxPaused} of ${P} paused at once; ${join.moved} changed owner`,
      );
    else
      check(
        `${cooperative ? 'cooperative' : 'KIP-848'}: the join revokes only the partitions that move${cooperative ? ', in two rebalances' : ''}`,
        join.moved > 0 &&
          join.revoked === join.moved &&
          join.maxPaused <= join.moved &&
          (!cooperative || join.rebalances === 2),
        `${join.revoked} revoked, ${join.moved} changed owner, up to ${join.maxPaused} paused at once, ${join.rebalances} rebalance(s)`,
      );

    // The crash.
    const staticRestart =
      params.staticMembership && restart !== null && restart - crashAt < params.sessionTimeoutMs;
    if (staticRestart)
      check(
        'static member restarted within session.timeout.ms: no rebalance, no partition moves',
        crash.rebalances === 0 && crash.moved === 0,
        `${crash.rebalances} rebalance(s), ${crash.moved} partitions changed owner; c2's ${crashedOwned.size} partitions paused ${crash.pauseSpanS.toFixed(1)} s (it was down ${(params.restartAfterS).toFixed(1)} s)`,
      );
    else if (restart === null) {
      // The last heartbeat got through at most one interval before the crash; the coordinator then
      // waits out the session timeout.
      const lo = (params.sessionTimeoutMs - heartbeat) / 1000 - 0.01;
      const hi = params.sessionTimeoutMs / 1000 + 0.1;
      check(
        'the crash is detected after ≈ session.timeout.ms',
        crash.detectionS !== null && crash.detectionS >= lo && crash.detectionS <= hi,
        `first rebalance ${crash.detectionS === null ? 'never' : `${crash.detectionS.toFixed(2)} s`} after the crash; expected within [${lo.toFixed(1)}, ${hi.toFixed(1)}] s (session timeout less one heartbeat interval, to the session timeout)`,
      );
      check(
        "the crashed member's partitions all move to live members",
        crash.moved >= crashedOwned.size &&
          [...crashedOwned].every((tp) => atEnd.owners.has(tp) && atEnd.owners.get(tp) !== 'c2'),
        `c2 owned ${crashedOwned.size}; ${crash.moved} changed owner; all of c2's have a live owner at the end: ${[...crashedOwned].every((tp) => atEnd.owners.has(tp) && atEnd.owners.get(tp) !== 'c2')}`,
      );
    }
    check(
      'duplicates ≤ records processed since the last commit',
      join.duplicates <= join.uncommittedAtEvent && crash.duplicates <= crash.uncommittedAtEvent,
      `join: ${join.duplicates} duplicates, ${join.uncommittedAtEvent} processed but uncommitted at the join; crash: ${crash.duplicates} duplicates, ${crash.uncommittedAtEvent} processed but uncommitted by c2 at its crash`,
    );
    check(
      'nothing lost: every record below the high watermark processed at the end',
      Array.from({ length: P }, (_, p) =>
        tally.missing('t', p, Math.max(0, source.highWatermark('t', p) - 2 * params.maxPollRecords)),
      ).every((m) => m.length === 0),
      'offsets never processed, excluding the last two batches of each partition',
    );

    const out: Record<string, number | null> = {};
    for (const [prefix, cost] of [
      ['join', join],
      ['crash', crash],
    ] as const)
      for (const [k, v] of Object.entries(cost))
        out[`${prefix}${k[0]!.toUpperCase()}${k.slice(1)}`] = v as number | null;
    delete out.joinDetectionS;
    return { ...out, processed: tally.total };
  },
  compare(variants: readonly VariantResult[]): CheckResult[] {
    const get = (name: string) => variants.find((v) => v.name === name)?.outcome;
    const eager = get('eager');
    const coop = get('cooperative');
    const stat = get('static');
    const kip = get('kip848');
    const checks: CheckResult[] = [];
    if (eager !== undefined && coop !== undefined)
      checks.push({
        name: 'on the join, cooperative revokes fewer partitions than eager (not necessarily fewer paused partition-seconds)',
        pass: (coop.joinRevoked as number) < (eager.joinRevoked as number),
        detail: `revoked: eager ${eager.joinRevoked}, cooperative ${coop.joinRevoked}${kip === undefined ? '' : `, KIP-848 ${kip.joinRevoked}`}; paused partition-s: eager ${(eager.joinPausedPartitionS as number).toFixed(1)}, cooperative ${(coop.joinPausedPartitionS as number).toFixed(1)}${kip === undefined ? '' : `, KIP-848 ${(kip.joinPausedPartitionS as number).toFixed(1)}`}; rebalances: eager ${eager.joinRebalances}, cooperative ${coop.joinRebalances}`,
      });
    if (eager !== undefined && stat !== undefined)
      checks.push({
        name: 'a static member that restarts within the session timeout avoids the rebalance a crash costs',
        pass: (stat.crashRebalances as number) === 0 && (eager.crashRebalances as number) >= 1,
        detail: `crash: eager ${eager.crashRebalances} rebalance(s), ${eager.crashMoved} partitions moved, ${(eager.crashPausedPartitionS as number).toFixed(1)} paused partition-s; static ${stat.crashRebalances}, ${stat.crashMoved} moved, ${(stat.crashPausedPartitionS as number).toFixed(1)} paused partition-s`,
      });
    return checks;
  },
});
