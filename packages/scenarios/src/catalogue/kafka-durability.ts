import { auditDelivery, KafkaCluster, KafkaProducer, type RecordFate } from '@dsim/components';
import { exponential, Network } from '@dsim/core';
import { param } from '../params.js';
import { type CheckResult, defineScenario, type VariantResult } from '../scenario.js';
import { limitOffered, MAX_MS, MAX_RATE, MAX_SECONDS } from './limits.js';

const ISR_STATES = ['full', 'leader', 'leader-f1', 'all-dead'] as const;
type IsrState = (typeof ISR_STATES)[number];

/** The producer's `delivery.timeout.ms` (Kafka's default): every record is settled this long after its send. */
const DELIVERY_TIMEOUT = 120_000;

/** When the followers are cut off (or F2 crashes, for `all-dead`), before the crash. */
const CUT_AT = 1_000;

/**
 * What the loss table says of one configuration: whether a leader crash may lose acknowledged records,
 * whether it must, and whether the partition stays offline.
 *
 * - acks=0 and acks=1 may lose what the leader had and no follower had fetched yet.
 * - acks=all with a clean election loses nothing: every acknowledged record is on every ISR member, and
 *   only an ISR member can be elected. With the ISR shrunk to the leader alone the partition goes
 *   offline instead.
 * - An unclean election of a replica outside the ISR loses everything it missed: certain when the
 *   ISR had shrunk to the leader under load, or when every ISR member is down and an out-of-sync
 *   replica comes back first.
 *
 * @param c - the producer's acks, unclean leader election, and the ISR at the crash
 * @returns `loss`: `'none'`, `'possible'` or `'certain'`; `offline`: the partition never gets a leader
 * @example
 * ```ts
 * durabilityTable({ acks: 'all', unclean: true, isr: 'leader' }); // { loss: 'certain', offline: false }
 * ```
 */
export function durabilityTable(c: { acks: '0' | '1' | 'all'; unclean: boolean; isr: IsrState }): {
  loss: 'none' | 'possible' | 'certain';
  offline: boolean;
} {
  const outOfSyncOnly = c.isr === 'leader' || c.isr === 'all-dead';
  if (outOfSyncOnly && c.unclean) return { loss: 'certain', offline: false };
  if (c.isr === 'leader' && !c.unclean) return { loss: 'none', offline: true };
  if (c.acks !== 'all') return { loss: 'possible', offline: false };
  return { loss: 'none', offline: false };
}

/**
 * `kafka-durability`: the leader of a partition (RF 3: L = b1, F1 = b2, F2 = b3) crashes for good under
 * a Poisson load, in every row of Kafka's loss table: acks 0 / 1 / all, `min.insync.replicas`, unclean
 * leader election, and the ISR at the crash (full; shrunk to L because the followers were cut off longer
 * than `replica.lag.time.max.ms`; {L, F1}; or every ISR member down with the out-of-sync F2 back first).
 * The outcome is what was acknowledged, lost, duplicated, and how long no new record could be acked.
 */
export const kafkaDurability = defineScenario({
  name: 'kafka-durability',
  description:
    "Kafka's loss table: a partition leader crashes under load with acks 0/1/all, min.insync.replicas, unclean election and a shrunk ISR; acked-and-lost records and the outage",
  params: {
    acks: param.enum(['0', '1', 'all'], { default: 'all', description: "the producer's acks" }),
    minInsync: param.integer({
      default: 1,
      min: 1,
      max: 3,
      description: 'min.insync.replicas of the topic (replication factor 3)',
    }),
    unclean: param.boolean({
      default: false,
      description: 'unclean.leader.election.enable: may a replica outside the ISR be elected',
    }),
    isr: param.enum(ISR_STATES, {
      default: 'full',
      description:
        'the ISR at the crash: full; leader (followers cut off at 1 s); leader-f1 (F2 cut off at 1 s); all-dead (F2 crashes at 1 s, L and F1 at the crash, F2 returns first)',
    }),
    rate: param.number({
      default: 500,
      min: 0,
      exclusiveMin: true,
      max: MAX_RATE,
      description: 'records per second, Poisson arrivals, all to partition 0',
    }),
    linger: param.number({
      default: 5,
      min: 0,
      max: MAX_MS,
      description:
        "the producer's linger.ms: 5, Kafka 4.0's default; the acks=0 and acks=1 rows use 0 (the pre-4.0 default, a batch per record)",
    }),
    latencyMs: param.number({
      default: 2,
      min: 0,
      max: MAX_MS,
      description: 'one-way latency of every link',
    }),
    crashAtS: param.number({
      default: 60,
      min: 2,
      max: MAX_SECONDS,
      description:
        'when the leader crashes, plus a seeded phase in [0, 1) s (must exceed 1 s + 1.5 × replica.lag.time.max.ms for the shrunk-ISR rows)',
    }),
    loadAfterS: param.number({
      default: 20,
      min: 0,
      max: MAX_SECONDS,
      description: 'how long the producer keeps sending after the crash',
    }),
    returnAfterS: param.number({
      default: 10,
      min: 0,
      max: MAX_SECONDS,
      description: 'all-dead only: F2 restarts this long after the crash, L and F1 15 s later',
    }),
    sessionTimeoutMs: param.number({
      default: 9000,
      min: 1,
      max: MAX_MS,
      description: 'broker.session.timeout.ms: a broker silent this long is fenced',
    }),
    heartbeatMs: param.number({
      default: 2000,
      min: 1,
      max: MAX_MS,
      description: 'broker.heartbeat.interval.ms (below the session timeout)',
    }),
    replicaLagMs: param.number({
      default: 30_000,
      min: 1,
      max: MAX_MS,
      description: 'replica.lag.time.max.ms: a follower not caught up this long leaves the ISR',
    }),
  },
  variants: [
    { name: 'acks-0', description: 'acks=0, linger 0, full ISR', params: { acks: '0', linger: 0 } },
    { name: 'acks-1', description: 'acks=1, linger 0, full ISR', params: { acks: '1', linger: 0 } },
    { name: 'acks-all', description: 'acks=all, min.insync=1, full ISR', params: { acks: 'all' } },
    {
      name: 'isr-leader-clean',
      description: 'acks=all, min.insync=1, ISR shrunk to {L}, unclean election off: offline',
      params: { acks: 'all', isr: 'leader' },
    },
    {
      name: 'isr-leader-unclean',
      description: 'acks=all, min.insync=1, ISR shrunk to {L}, unclean election on: loses what F1 missed',
      params: { acks: 'all', isr: 'leader', unclean: true },
    },
    {
      name: 'min-isr-2-leader-f1',
      description: 'acks=all, min.insync=2, ISR {L, F1}',
      params: { acks: 'all', minInsync: 2, isr: 'leader-f1' },
    },
    {
      name: 'min-isr-2-leader',
      description: 'acks=all, min.insync=2, ISR shrunk to {L}: writes refused, then offline',
      // Requests parked in purgatory before the ISR shrank wait out request.timeout.ms (30 s) before
      // their retries meet NOT_ENOUGH_REPLICAS: a later crash than the other rows.
      params: { acks: 'all', minInsync: 2, isr: 'leader', crashAtS: 90 },
    },
    {
      name: 'all-dead-unclean',
      description: 'acks=all, unclean on: every ISR member down, the out-of-sync F2 returns first',
      params: { acks: 'all', isr: 'all-dead', unclean: true },
    },
  ],
  run({ sim, params, requests, check }) {
    const { rate, latencyMs, isr, unclean } = params;
    limitOffered(rate * (params.crashAtS + params.loadAfterS + 1), 'rate × (crashAtS + loadAfterS)');
    if (params.heartbeatMs >= params.sessionTimeoutMs)
      check('heartbeatMs < sessionTimeoutMs', false, `${params.heartbeatMs} >= ${params.sessionTimeoutMs}`);
    const net = new Network(sim, { defaults: { latency: latencyMs } });
    const cluster = new KafkaCluster(net, {
      brokers: ['b1', 'b2', 'b3'],
      topics: [{ name: 't', partitions: 1, replicationFactor: 3 }],
      minInsyncReplicas: params.minInsync,
      uncleanLeaderElection: unclean,
      sessionTimeout: params.sessionTimeoutMs,
      heartbeatInterval: Math.min(params.heartbeatMs, params.sessionTimeoutMs - 1),
      replicaLagTimeMax: params.replicaLagMs,
    });
    const acks = params.acks === 'all' ? 'all' : (Number(params.acks) as 0 | 1);
    const producer = new KafkaProducer(net.addNode('app'), {
      bootstrap: cluster.brokerIds,
      acks,
      linger: params.linger,
    });
    // The crash lands at a seeded phase against the followers' fetch cycle and the arrivals.
    const crashAt = params.crashAtS * 1000 + sim.rng('fault/phase').next() * 1000;
    const loadUntil = crashAt + params.loadAfterS * 1000;
    const gaps = exponential({ rate: rate / 1000 });
    const arrivals = sim.rng('producer/arrivals');
    const sendNext = (): void => {
      requests.start();
      const sentAt = sim.now;
      producer
        .send({ topic: 't', partition: 0, size: 100 })
        .onProcessed((e) => requests.finish(e.value?.ok === true, sim.now - sentAt));
      const next = sim.now + gaps.sample(arrivals);
      if (next < loadUntil) sim.scheduleAt(next, sendNext);
    };
    sim.scheduleAt(gaps.sample(arrivals), sendNext);

    if (isr === 'leader') sim.scheduleAt(CUT_AT, () => net.partition(['b1'], ['b2', 'b3']));
    if (isr === 'leader-f1') sim.scheduleAt(CUT_AT, () => net.partition(['b1'], ['b3']));
    if (isr === 'all-dead') sim.scheduleAt(CUT_AT, () => net.crash('b3'));
    let isrAtCrash: readonly string[] = [];
    let leaderLog = new Set<string>();
    const logOf = (b: string) =>
      new Set((cluster.broker(b).logOf('t', 0)?.all() ?? []).map((r) => r.recordId));
    sim.scheduleAt(crashAt, () => {
      isrAtCrash = cluster.partition('t', 0).isr;
      leaderLog = logOf('b1');
      net.crash('b1');
      if (isr === 'all-dead') net.crash('b2');
    });
    const returnAt = crashAt + params.returnAfterS * 1000;
    if (isr === 'all-dead') {
      sim.scheduleAt(returnAt, () => net.restart('b3'));
      sim.scheduleAt(returnAt + 15_000, () => {
        net.restart('b1');
        net.restart('b2');
      });
    }
    // Each broker's log just after the crash: a fetch response already on the wire lands within one
    // link latency, and its append within a few ms of disk time. What the new leader lacks then is what
    // the crash can lose: its fetches to the dead leader get no answer.
    const logsAtCrash = new Map<string, Set<string>>();
    const snapshotAt = crashAt + latencyMs + 20;
    sim.scheduleAt(snapshotAt, () => {
      for (const b of cluster.brokerIds) logsAtCrash.set(b, logOf(b));
    });
    sim.run({ until: loadUntil + DELIVERY_TIMEOUT + 10_000 });

    const audit = auditDelivery(cluster, [producer.fates()]);
    const fates = producer.fates();
    const meta = cluster.partition('t', 0);
    const lost = new Set(audit.lostIds);
    // Acked by the dead leader: its acks still on the wire arrive within a link latency, while the new
    // leader takes seconds. A record it appended but whose ack it never sent is retried (and acked by
    // the new leader, or a duplicate without idempotence): not lost.
    const byOldLeader = (f: RecordFate) =>
      f.status === 'acked' && f.settledAt <= snapshotAt && leaderLog.has(f.recordId);
    // Lost records the dead leader had acked, against those it never got (acks=0: sent into its
    // socket after it died).
    const lostAppended = fates.filter((f) => lost.has(f.recordId) && byOldLeader(f)).length;
    const ackedBeforeCrash = fates.filter((f) => f.status === 'acked' && f.settledAt <= crashAt).length;
    const newLeaderLog = meta.leader === null ? null : logsAtCrash.get(meta.leader)!;
    const unreplicated =
      newLeaderLog === null ? 0 : fates.filter((f) => byOldLeader(f) && !newLeaderLog.has(f.recordId)).length;
    const outage = outageAfter(fates, crashAt);
    const failedBy = producer.stats.failedBy;
    const brokerErrors: Record<string, number> = {};
    for (const b of cluster.brokerIds)
      for (const [k, n] of Object.entries(cluster.broker(b).stats.errors))
        brokerErrors[k] = (brokerErrors[k] ?? 0) + n;
    const table = durabilityTable({ acks: params.acks, unclean, isr });

    const expectedIsr = { full: 'b1,b2,b3', leader: 'b1', 'leader-f1': 'b1,b2', 'all-dead': 'b1,b2' }[isr];
    check(
      'the ISR at the crash is the one the row describes',
      isrAtCrash.join(',') === expectedIsr,
      `ISR at the crash {${isrAtCrash.join(', ')}}, expected {${expectedIsr.replaceAll(',', ', ')}}`,
    );
    check(
      'every record settled: acked or failed, none in flight',
      audit.inFlight === 0 && audit.produced === audit.acked + audit.failed,
      `${audit.produced} produced: ${audit.acked} acked, ${audit.failed} failed, ${audit.inFlight} in flight`,
    );
    if (table.loss === 'none')
      check(
        'the table says no acknowledged record can be lost: none is',
        audit.ackedAndLost === 0 && unreplicated === 0,
        `${audit.ackedAndLost} acked and lost; ${unreplicated} acked records missing from the new leader at the crash`,
      );
    else
      check(
        `the table says loss is ${table.loss}: what is lost is exactly what the new leader lacked at the crash`,
        lostAppended === unreplicated &&
          (params.acks === '0' || audit.ackedAndLost === lostAppended) &&
          (table.loss === 'possible' || unreplicated > 0),
        `${audit.ackedAndLost} acked records lost: ${lostAppended} the dead leader had appended, ${audit.ackedAndLost - lostAppended} it never got (acks=0 only); the new leader (${meta.leader}) lacked ${unreplicated} acked records the dead one had${table.loss === 'certain' ? ' (must be > 0)' : ''}`,
      );
    if (table.offline)
      check(
        'no ISR member alive and unclean election off: the partition stays offline, nothing acked is lost',
        meta.leader === null && outage === null && audit.ackedUnavailable === audit.acked,
        `leader ${meta.leader}, first ack after the crash ${outage === null ? 'never' : `${(outage / 1000).toFixed(2)} s`}, ${audit.ackedUnavailable} of ${audit.acked} acked records unavailable`,
      );
    else if (isr === 'all-dead')
      check(
        'available again only once a replica returns: F2, elected uncleanly',
        outage !== null && outage >= params.returnAfterS * 1000 && meta.leader === 'b3',
        `first ack ${outage === null ? 'never' : `${(outage / 1000).toFixed(2)} s`} after the crash; F2 returned after ${params.returnAfterS} s; leader ${meta.leader}`,
      );
    else {
      // Fenced between session − heartbeat and session after the crash (the last heartbeat got through
      // up to one interval before it); then the election, the metadata push, and the producer's
      // metadata refresh and retry backoff (retry.backoff.max.ms 1 s), plus 2 s for round trips.
      // With min.insync=2 and F2 out of the ISR, writes also need F2 back in the ISR, and the backlog
      // left by the stall before the ISR shrank goes first.
      const lo = params.sessionTimeoutMs - params.heartbeatMs;
      const hi =
        params.sessionTimeoutMs +
        3_000 +
        50 * latencyMs +
        (params.minInsync > 1 && isr !== 'full' ? 10_000 : 0);
      check(
        'outage ≈ broker.session.timeout.ms + election',
        outage !== null && outage >= lo && outage <= hi,
        `first ack of a record sent after the crash ${outage === null ? 'never' : `${(outage / 1000).toFixed(2)} s`} after it; bound [${(lo / 1000).toFixed(1)}, ${(hi / 1000).toFixed(1)}] s`,
      );
    }
    if (params.minInsync > 1 && isr === 'leader')
      check(
        'with the ISR below min.insync.replicas, writes are refused: nothing sent after the cut is acked',
        (brokerErrors['not-enough-replicas'] ?? 0) > 0 &&
          fates.every((f) => f.status !== 'acked' || f.sentAt < CUT_AT),
        `${brokerErrors['not-enough-replicas'] ?? 0} NOT_ENOUGH_REPLICAS answers; ${fates.filter((f) => f.status === 'acked' && f.sentAt >= CUT_AT).length} records sent after the cut acked`,
      );

    return {
      ackedBeforeCrash,
      ackedAndLost: audit.ackedAndLost,
      lostAppended,
      lostOnTheWire: audit.ackedAndLost - lostAppended,
      unreplicatedAtCrash: unreplicated,
      ackedUnavailable: audit.ackedUnavailable,
      duplicates: audit.duplicates,
      outageS: outage === null ? null : outage / 1000,
      produced: audit.produced,
      acked: audit.acked,
      failed: audit.failed,
      producerErrors: formatCounts(failedBy),
      brokerErrors: formatCounts(brokerErrors),
      retries: producer.stats.retries,
      isrAtCrash: isrAtCrash.join(','),
      newLeader: meta.leader,
      tableLoss: table.loss,
      tableOffline: table.offline,
    };
  },
  compare(variants: readonly VariantResult[]): CheckResult[] {
    const rows = variants.map((v) => {
      const o = v.outcome;
      const loss = o.tableLoss as string;
      const lost = o.ackedAndLost as number;
      const agrees =
        (loss === 'none' && lost === 0) ||
        (loss === 'possible' && lost >= 0) ||
        (loss === 'certain' && lost > 0);
      const offlineAgrees = (o.tableOffline as boolean) === (o.newLeader === null);
      return { name: v.name, ok: agrees && offlineAgrees, o, lost, loss };
    });
    const detail = rows
      .map(
        ({ name, o, lost, loss }) =>
          `${name}: ${lost} of ${o.ackedBeforeCrash} lost (table: ${loss}), outage ${o.outageS === null ? 'never' : `${(o.outageS as number).toFixed(1)} s`}`,
      )
      .join('; ');
    return [
      {
        name: 'the loss table: loss only where it is possible, offline only without a live ISR member',
        pass: rows.every((r) => r.ok),
        detail,
      },
    ];
  },
});

/** Time from `crashAt` to the first ack of a record sent after it, or null when none was acked. */
function outageAfter(fates: readonly RecordFate[], crashAt: number): number | null {
  let first = Infinity;
  for (const f of fates)
    if (f.sentAt >= crashAt && f.status === 'acked') first = Math.min(first, f.settledAt);
  return first === Infinity ? null : first - crashAt;
}

/** `kind=n` pairs in name order, or `none`. */
function formatCounts(counts: Record<string, number>): string {
  const keys = Object.keys(counts)
    .filter((k) => counts[k]! > 0)
    .sort();
  return keys.length === 0 ? 'none' : keys.map((k) => `${k}=${counts[k]}`).join(' ');
}
