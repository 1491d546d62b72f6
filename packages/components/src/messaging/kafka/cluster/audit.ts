import type { RecordFate } from '../producer/kafka-producer.js';
import type { KafkaCluster } from './kafka-cluster.js';

/**
 * What became of every produced record, comparing the producers' callbacks with the cluster's
 * committed logs (each partition's current leader below its high watermark).
 *
 * At the end of a run: `produced = acked + failed + inFlight`; `ackedAndLost` counts acknowledged
 * records absent from a partition that has a leader (data loss); `ackedUnavailable` counts acknowledged
 * records of partitions that are offline (not lost yet: they come back with an ISR member).
 */
export interface DeliveryAudit {
  produced: number;
  acked: number;
  failed: number;
  inFlight: number;
  /** Acknowledged, yet not in the committed log of an online partition. */
  ackedAndLost: number;
  /** Acknowledged, in a partition that is offline now. */
  ackedUnavailable: number;
  /** Extra copies of records in committed logs (a record twice counts 1). */
  duplicates: number;
  /** Records in committed logs whose producer callback did not report success (failed or still in flight). */
  committedButUnacked: number;
  /** Partitions with no leader at audit time. */
  offlinePartitions: string[];
  /** Ids of the acknowledged records that were lost (for debugging; in send order). */
  lostIds: string[];
}

/**
 * Audits delivery: every record's producer-side fate against the committed logs. Records the number of
 * lost records in the counter `kafka.records-lost` under the controller's address.
 *
 * @example
 * ```ts
 * sim.run({ until: '5m' });
 * const audit = auditDelivery(cluster, [producer.fates()]);
 * expect(audit.ackedAndLost).toBe(0);
 * ```
 */
export function auditDelivery(
  cluster: KafkaCluster,
  fates: ReadonlyArray<readonly RecordFate[]>,
): DeliveryAudit {
  const copies = new Map<string, number>();
  const offline: string[] = [];
  const offlineSet = new Set<string>();
  for (const meta of cluster.controller.partitions) {
    const log = cluster.committed(meta.topic, meta.partition);
    const key = `${meta.topic}-${meta.partition}`;
    if (log === null) {
      offline.push(key);
      offlineSet.add(key);
      continue;
    }
    for (const r of log) copies.set(r.recordId, (copies.get(r.recordId) ?? 0) + 1);
  }
  const audit: DeliveryAudit = {
    produced: 0,
    acked: 0,
    failed: 0,
    inFlight: 0,
    ackedAndLost: 0,
    ackedUnavailable: 0,
    duplicates: 0,
    committedButUnacked: 0,
    offlinePartitions: offline,
    lostIds: [],
  };
  for (const list of fates) {
    for (const f of list) {
      audit.produced++;
      const n = copies.get(f.recordId) ?? 0;
      if (n > 1) audit.duplicates += n - 1;
      if (f.status === 'acked') {
        audit.acked++;
        if (n === 0) {
          if (offlineSet.has(`${f.topic}-${f.partition}`)) audit.ackedUnavailable++;
          else {
            audit.ackedAndLost++;
            audit.lostIds.push(f.recordId);
          }
        }
      } else {
        if (f.status === 'failed') audit.failed++;
        else audit.inFlight++;
        if (n > 0) audit.committedButUnacked++;
      }
    }
  }
  cluster.net.sim.metrics.counter(cluster.config.controller, 'kafka.records-lost').inc(audit.ackedAndLost);
  return audit;
}
