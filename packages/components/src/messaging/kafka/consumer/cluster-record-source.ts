import type { RpcEndpoint, RpcResponse, SimEvent } from '@dsim/core';
import type { KafkaCluster } from '../cluster/kafka-cluster.js';
import type { FetchRequest, FetchResponse } from '../cluster/types.js';
import type { RecordSource, SourceFetch, SourceFetchResult, SourceOffset } from './record-source.js';

/**
 * A {@link RecordSource} over a {@link KafkaCluster}: consumer fetches (`replicaId: null`) go over RPC
 * from the consumer's endpoint to the partition leader, which answers with the records below its high
 * watermark (`read_committed`: its last stable offset, with the aborted transactions) and long-polls
 * an empty fetch for `maxWaitMs`.
 *
 * Simplified: the leader is looked up in the controller's metadata directly (a real consumer refreshes
 * metadata from a broker on NOT_LEADER_OR_FOLLOWER); ListOffsets, which the brokers do not serve, is a
 * zero-wait fetch at offset 0 whose response carries the log start and high watermark.
 *
 * @param requestTimeout - `request.timeout.ms` added to `maxWaitMs` as the RPC timeout @default 30000
 * @example
 * ```ts
 * const source = clusterRecordSource(cluster);
 * const consumer = new KafkaConsumer(net.addNode('c1'), { groupId: 'g', topics: ['t'], coordinator: 'gc', source });
 * ```
 */
export function clusterRecordSource(cluster: KafkaCluster, requestTimeout = 30_000): RecordSource {
  const sim = cluster.net.sim;
  const failed = (error: string): SourceFetchResult => ({
    error,
    records: [],
    highWatermark: -1,
    logStartOffset: -1,
  });
  const call = (client: RpcEndpoint<any, any>, req: SourceFetch): SimEvent<SourceFetchResult> => {
    const out = sim.event<SourceFetchResult>();
    const meta = cluster.partition(req.topic, req.partition);
    if (meta.leader === null) {
      out.succeed(failed('leader-not-available'));
      return out;
    }
    const body: FetchRequest = {
      api: 'fetch',
      topic: req.topic,
      partition: req.partition,
      replicaId: null,
      fetchOffset: req.offset,
      leaderEpoch: meta.leaderEpoch,
      maxBytes: req.maxBytes,
      maxWaitMs: req.maxWaitMs,
      ...(req.isolationLevel === undefined ? {} : { isolationLevel: req.isolationLevel }),
    };
    client
      .call<FetchResponse>(meta.leader, body, { timeout: req.maxWaitMs + requestTimeout, size: 64 })
      .onProcessed((ev) => {
        const res = ev.value as RpcResponse<FetchResponse>;
        if (!res.ok) out.succeed(failed(res.error.kind === 'timeout' ? 'request-timed-out' : 'unavailable'));
        else
          out.succeed({
            error: res.value.error,
            records: res.value.records,
            highWatermark: res.value.highWatermark,
            logStartOffset: res.value.logStartOffset,
            ...(res.value.lastStableOffset === undefined
              ? {}
              : { lastStableOffset: res.value.lastStableOffset }),
            ...(res.value.abortedTransactions === undefined
              ? {}
              : { abortedTransactions: res.value.abortedTransactions }),
          });
      });
    return out;
  };
  return {
    partitionCount: (topic) => cluster.config.topics.get(topic)?.partitions,
    leaderOf: (topic, partition) => cluster.partition(topic, partition).leader,
    fetch: call,
    listOffset(client, topic, partition, which, isolationLevel) {
      const out = sim.event<SourceOffset>();
      call(client, { topic, partition, offset: 0, maxBytes: 1, maxWaitMs: 0 }).onProcessed((ev) => {
        const r = ev.value as SourceFetchResult;
        // offset-out-of-range at 0 (retention deleted the head) still carries the log start and HW.
        if (r.highWatermark < 0) out.succeed({ error: r.error ?? 'unavailable', offset: -1 });
        else {
          const latest =
            isolationLevel === 'read_committed' ? (r.lastStableOffset ?? r.highWatermark) : r.highWatermark;
          out.succeed({ error: null, offset: which === 'earliest' ? r.logStartOffset : latest });
        }
      });
      return out;
    },
    highWatermark(topic, partition) {
      const leader = cluster.partition(topic, partition).leader;
      if (leader === null) return 0;
      return cluster.broker(leader).logOf(topic, partition)?.highWatermark ?? 0;
    },
  };
}
